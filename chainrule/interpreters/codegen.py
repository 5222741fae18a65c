"""The compiler: a closed IR as the source of one Python module, run by NumPy.

``compile_ir(closed)`` translates a program into Python text, one
statement per equation, calling the array function directly::

    def _program(a, b, c, d, e, f, g, h):      # (the MLP's gradient)
        try:
            i = _matmul(g, a)
            del a
            j = b                # a broadcast_in_dim: NumPy broadcasts b in the add
            del b
            k = _add(i, j, out=i)   # i dies here: its buffer takes the sum
            del i, j
            l = _tanh(k, out=k)
            ...
            return [bb, bs, bp, bm, bj, bg, bd]
        except _Exception as _e:
            _note(_e)
            raise

and compiles it with Python's ``compile``: there is no dispatch left at run
time, no environment, no rule lookup, and a value is deleted after its
last use (``IR.last_uses``).  What each primitive becomes is its emitter's
business (``emitters.py``); the walk over one function and the control
flow are ``codegen_function.py``'s; which buffer a result may be written
into (``out=``) is ``codegen_buffers.py``'s.

**Bodies.**  The bodies of ``cond``, ``scan``, ``while``, ``checkpoint``
and the custom-rule calls are compiled into functions of the same module
(``_body1``, ...), found by a worklist and written callees first (a
post-order walk with an explicit stack; nothing recurses over programs).

**Nothing from the program is pasted into the text.**  Constants, literals,
params, dtypes and primitive implementations reach the code as objects
bound to generated global names (``_k0``, ``_solve_1``, ...); the only names in
the text are generated ones, the IR's variable names (letters, as the
printer names them; a keyword gets a ``_``) and the array library's
function names; the only numbers are ints the emitters converted
themselves.  A function's, a param's or a dtype's name, whatever it holds,
cannot change the code.  The generated code reaches its array library
through one namespace object (``ArrayNamespace``, NumPy's by default),
read once when the module is executed (``_add = _ns.add``).

**Errors.**  An exception raised inside the generated code (a singular
matrix in ``solve``) gets the note the evaluate interpreter adds: the
traceback's line in the generated module is mapped back to its equation
and that equation's source line.  The source is registered with
``linecache``, so tracebacks show the generated lines.

**Scalar mode.**  When a program computes only 0-d floats, the scalar
compiler (``codegen_scalar.py``) may write it with Python floats and
``math`` instead; ``compile_ir`` asks it last and uses its code if it
accepts the program, keeping the array code as its fallback.
"""
from __future__ import annotations

import itertools
import linecache
import weakref

import numpy as np

from ..tracer.aliasing import unshared
from ..tracer.core import Tracer
from ..tracer.ir import ClosedIR
from ..tracer.printer import one_line, var_name
from ..tracer.source import note_source
from .codegen_function import FunctionWriter, flow_bodies
from .codegen_scalar import compile_scalar


class ArrayNamespace:
    """The array library generated code calls: one object, bound to the
    global ``_ns`` of the generated module, whose attributes are read once
    when the module runs (``_add = _ns.add``).  The default takes them from
    NumPy; another library can stand in by offering the same names with
    NumPy's semantics: every ufunc a primitive's implementation is (with
    ``out=`` and ``.reduce``), and ``asarray``, ``broadcast_to``,
    ``concatenate``, ``empty``, ``matmul``, ``reshape``, ``transpose``,
    ``where``."""

    FUNCTIONS = ("asarray", "broadcast_to", "concatenate", "empty", "matmul", "reshape",
                 "stack", "transpose", "where")

    def __init__(self, module=np):
        self.name = getattr(module, "__name__", "an array module")
        for name in self.FUNCTIONS:
            setattr(self, name, getattr(module, name))
        for name in dir(module):
            value = getattr(module, name, None)
            if isinstance(value, np.ufunc) and name == value.__name__:
                setattr(self, name, value)

    def __repr__(self):
        return f"<ArrayNamespace of {self.name}>"


NUMPY = ArrayNamespace(np)


class Compiled:
    """A compiled program: ``compiled(*flat_args)`` returns the list of flat
    outputs (what ``eval_ir`` returns, in memory of their own); ``.source``
    is the generated Python; ``.scalar`` says whether it is scalar code
    (``codegen_scalar.py``); ``.array`` is the array code (this object, or
    the scalar code's fallback); ``.function`` is the generated function
    itself (the same call without this object's frame)."""

    __slots__ = ("function", "source", "scalar", "array", "__weakref__")

    def __init__(self, function, source, scalar=False, array=None):
        self.function, self.source, self.scalar = function, source, scalar
        self.array = self if array is None else array

    def __call__(self, *args):
        return self.function(*args)

    def __repr__(self):
        mode = "scalar" if self.scalar else "array"
        return f"<Compiled program ({mode} mode, {self.source.count(chr(10))} lines)>"


_counter = itertools.count(1)


def compile_ir(closed, donate=(), namespace=None) -> Compiled:
    """Compile ``closed`` (a ``ClosedIR`` whose constants are arrays) into a
    Python function of its flat inputs.  ``donate``: indices of inputs whose
    arrays the code may overwrite and reuse for its results (the caller
    treats them as invalid afterwards); ``namespace``: the array library
    (``ArrayNamespace``; NumPy's when None)."""
    if type(closed) is not ClosedIR:
        raise TypeError(f"compile_ir compiles a ClosedIR (what cr.make_ir returns), got "
                        f"{type(closed).__name__}")
    if len(closed.consts) != len(closed.ir.constvars):
        raise TypeError(f"compile_ir: the program has {len(closed.ir.constvars)} const vars but "
                        f"{len(closed.consts)} constant values")
    n_in = len(closed.ir.invars)
    for k in donate:
        if type(k) is not int or not 0 <= k < n_in:
            raise ValueError(f"compile_ir: donate holds {one_line(repr(k))}, which is not the "
                             f"index of one of the program's {n_in} inputs")
    module = Module(NUMPY if namespace is None else namespace, f"<chainrule-jit {next(_counter)}>")
    order = bodies_in_order(closed)
    names = printer_names(closed)
    for body in order[:-1]:
        module.add(FunctionWriter(module, body, module.body_name(body), names).write())
    module.add(FunctionWriter(module, closed, "_program", names, program=True,
                              donate=tuple(donate)).write())
    compiled = module.compile()
    fast = compile_scalar(closed, compiled)
    return compiled if fast is None else Compiled(fast, fast.source, scalar=True, array=compiled)


class Module:
    """The generated module: its global objects, the lines that read the
    namespace's functions, the functions' lines and the equation each
    computes."""

    def __init__(self, namespace, filename):
        self.namespace, self.filename = namespace, filename
        self.globals = {"__builtins__": {}, "__name__": filename, "_ns": namespace,
                        "_int": int, "_range": range, "_Exception": Exception,
                        "_unshared": unshared, "_copy": copy_result, "_owned": owned_buffer}
        self.prologue, self.fns, self.bound = [], {}, {}
        self.lines, self.line_eqns = [], []
        self.bodies, self.summaries = {}, {}
        self.names = itertools.count()

    def bind(self, value, hint="k") -> str:
        """A global name for ``value`` (one per object): ``_k3``, or with a
        ``hint`` (a primitive's name, checked to be plain letters, digits and
        underscores) ``_solve_3``."""
        name = self.bound.get(id(value))
        if name is None:
            plain = isinstance(hint, str) and hint.isascii() and hint.replace("_", "a").isalnum()
            name = f"_{hint}_{len(self.bound)}" if plain and hint != "k" else f"_k{len(self.bound)}"
            self.bound[id(value)] = name
            self.globals[name] = value
        return name

    def fn(self, *attrs) -> str:
        """The global name of ``namespace.attr[.attr...]``, read once at the top."""
        name = self.fns.get(attrs)
        if name is None:
            value = self.namespace
            for a in attrs:
                value = getattr(value, a, None)
            if value is None:
                raise TypeError(f"compile_ir: the array namespace {self.namespace!r} has no "
                                f"{'.'.join(attrs)}, which the generated code calls")
            name = self.fns[attrs] = "_" + "_".join(attrs)
            self.prologue.append(f"{name} = _ns.{'.'.join(attrs)}")
        return name

    def fresh_name(self) -> str:
        """A local name for a value the printer does not name (never read)."""
        return f"_u{next(self.names)}"

    def body_name(self, body) -> str:
        name = self.bodies.get(id(body))
        if name is None:
            name = self.bodies[id(body)] = f"_body{len(self.bodies) + 1}"
        return name

    def add(self, writer):
        params = ", ".join(writer.names[v] for v in writer.ir.invars)
        self.lines.append(f"def {writer.fname}({params}):")
        self.line_eqns.append(None)
        if writer.program:
            self.lines.append("    try:")
            self.line_eqns.append(None)
        self.lines += writer.lines
        self.line_eqns += writer.line_eqns
        if writer.program:
            self.lines += ["    except _Exception as _e:", "        _note(_e)", "        raise"]
            self.line_eqns += [None, None, None]
        self.lines.append("")
        self.line_eqns.append(None)

    def compile(self) -> Compiled:
        head = ["# generated by chainrule.interpreters.codegen (array mode)"] + self.prologue + [""]
        source = "\n".join(head + self.lines) + "\n"
        first = len(head) + 1
        table = {first + k: eqn for k, eqn in enumerate(self.line_eqns) if eqn is not None}
        self.globals["_note"] = Notes(self.filename, table)
        exec(compile(source, self.filename, "exec"), self.globals)
        function = self.globals["_program"]
        linecache.cache[self.filename] = (len(source), None, source.splitlines(True),
                                          self.filename)
        weakref.finalize(function, linecache.cache.pop, self.filename, None)
        return Compiled(function, source)


class Notes:
    """Adds to an exception raised in the generated code the note the
    evaluate interpreter adds: the equation of the innermost generated line
    on the traceback, and the user's line that equation came from."""

    __slots__ = ("filename", "table")

    def __init__(self, filename, table):
        self.filename, self.table = filename, table

    def __call__(self, error):
        eqn, tb = None, error.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self.filename:
                eqn = self.table.get(tb.tb_lineno, eqn)
            tb = tb.tb_next
        if eqn is not None:
            note_source(error, eqn.primitive.name, eqn.source_info)


def copy_result(x):
    """A result that may be a body's constant, copied (arrays only)."""
    return x.copy() if type(x) is np.ndarray else x


def owned_buffer(x, dtype):
    """A donated input as a buffer the code may write: itself when it is a
    writeable C-contiguous NumPy array of its dtype, else a copy that is."""
    if type(x) is np.ndarray and x.flags.c_contiguous and x.flags.writeable and x.dtype == dtype:
        return x
    return np.array(x, dtype=dtype, order="C")


def bodies_in_order(closed):
    """Every body the program's control flow runs (each once), callees
    before callers, the program last: a post-order walk of the call graph
    with an explicit stack."""
    order, seen = [], set()
    stack = [(closed, False)]
    while stack:
        c, done = stack.pop()
        if done:
            order.append(c)
            continue
        if id(c) in seen:
            continue
        seen.add(id(c))
        if any(isinstance(x, Tracer) for x in c.consts):
            raise TypeError("compile_ir: the program closes over a traced value (a constant "
                            "that is a tracer); evaluate it inside its transform instead")
        stack.append((c, True))
        for eqn in c.ir.eqns:
            for body in flow_bodies(eqn) or ():
                if id(body) not in seen:
                    stack.append((body, False))
    return order


def _blocks(ir):
    """What the printer names in ``ir``, in its order: const vars, input
    vars, then each equation's read outputs followed by the blocks of its
    params (yielded as IRs, to be entered)."""
    used = set(ir.outvars)
    for eqn in ir.eqns:
        used.update(eqn.inputs)
    yield from ir.constvars
    yield from ir.invars
    for eqn in ir.eqns:
        for v in eqn.outvars:
            if v in used:
                yield v
        for key in sorted(eqn.params):
            value = eqn.params[key]
            items = value if isinstance(value, tuple) else (value,)
            for item in items:
                if hasattr(item, "eqns"):
                    yield getattr(item, "ir", item)


def printer_names(closed) -> dict:
    """``{Var: name}`` as the printer names the program's variables (nested
    blocks included), so the source reads like the IR text; a loop over a
    stack of blocks."""
    names, stack = {}, [_blocks(closed.ir)]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
        elif hasattr(item, "eqns"):
            stack.append(_blocks(item))
        else:
            names[item] = var_name(len(names))
    return names
