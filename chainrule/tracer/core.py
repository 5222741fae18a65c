"""Primitives, traces, tracers and ``bind``: how Python code becomes IR.

The mechanism in one paragraph
------------------------------
A *trace* is an IR under construction.  Tracing ``f`` pushes a new ``Trace``
on a stack kept in a context variable, calls ``f`` on ``Tracer`` objects (one
per array input) and pops the trace again.  Every operation on a tracer ends
in ``bind(primitive, *args, **params)``, the one way to emit an equation:

* if tracers are among the arguments, the *innermost* trace that owns one of
  them (the one with the highest nesting ``level``) records the equation,
  after checking shapes with the primitive's shape rule;
* otherwise ``bind`` just runs the primitive's NumPy implementation.

Nesting.  Traces nest: ``make_ir(g)`` called while ``f`` is traced pushes a
second trace one level above the first.  A tracer of the *outer* trace met
in an equation of the inner one (``g`` closes over it, or it is passed in)
is not confused with the inner trace's own tracers: the inner trace *lifts*
it to one of its const vars, whose constant value is the outer tracer
itself.  When the inner IR is later evaluated, that constant is an outer
tracer, so the evaluation's ``bind`` calls record into the outer trace, and
``make_ir(lambda x: make_ir(g)(x).eval(x) * x)`` is one flat IR.  (An
equation whose tracers all belong to the outer trace is recorded there
directly: it does not depend on the inner trace's inputs.)  The same rule
makes transformations compose: every transform is "trace to IR, transform
the IR, evaluate the result", and evaluating inside an enclosing trace
stages the result into it.

A tracer whose trace has finished is a leak: using it raises
``TracerLeakError`` naming the transform it came from.

Concrete and abstract tracing.  A tracer carries an abstract value (shape and
dtype) and, on a concrete trace, a ``value``.  ``make_ir`` and ``vmap`` trace
abstractly, so Python control flow on a traced value raises
``ConcretizationError``.  The AD transforms trace concretely: each equation's
output value is computed as it is recorded (by ``bind`` on the input
values), so ``if x > 0:`` works, the IR records the branch taken, and the
values (``trace.values``) serve as residuals, so the forward computation is
not done twice.  Run inside an enclosing trace, a concrete trace's values are
tracers of that enclosing trace: the forward computation is then recorded
there, once, and derivatives built from those values stay functions of the
outer inputs (which is what makes ``grad(grad(f))`` right).

The operator methods of ``Tracer`` (``+``, ``@``, ``.sum()``, ...) and its
NumPy dispatch hooks are installed by ``chainrule.numpy``, which is written
over ``bind``; this module knows nothing of NumPy's names.
"""
from __future__ import annotations

import contextlib
import contextvars
import threading

import numpy as np

from .avals import (SHAPE_RULE_ANSWERS, SHAPE_RULE_ANSWERS_MAX, ShapedArray, aval_of_value,
                    shared_aval)
from . import collector
from .config import config
from .debug_nans import check_finite
from .errors import (ConcretizationError, ShapeError, TracerArrayConversionError,
                     TracerConversionError, TracerLeakError)
from .ir import IR, Equation, Var, literal_or_none
from .printer import one_line
from .source import note_source, user_source_info, where


class Primitive:
    """An operation of the IR.  Its rules live beside its definition in
    ``chainrule/primitives``: ``impl`` (NumPy), ``shape_rule`` (avals to
    avals), and, filled in by later layers, ``jvp``, ``transpose``, ``batch``
    and the cost model (``cost``, ``adjoint_cost``, ``view``,
    ``adjoint_view``, ``jacobian_kind``)."""

    def __init__(self, name: str, multiple_results: bool = False):
        self.name = name
        self.multiple_results = multiple_results
        self.impl = None
        self.shape_rule = None
        self.jvp = None
        self.transpose = None
        # for a primitive without a transpose rule that is not linear only
        # where it cannot be (a while loop), why reverse mode fails and what
        # to use instead: the error reverse mode raises
        self.no_transpose_reason = None
        # for a linear primitive that only transposes (custom_vjp's linear
        # part, whose rule is the user's bwd): why it cannot be evaluated
        # forward (tangents pushed through it)
        self.no_forward_reason = None
        self.batch = None
        self.fold_identity = None   # optional: see interpreters/batch.py
        # optional: the same operation as ``impl`` on two NumPy float64
        # scalars, through Python's operator (NumPy's scalar arithmetic, bit
        # for bit the ufunc's answer at a twentieth of a ufunc call's cost);
        # ``bind`` takes it when computing on exactly two such scalars
        self.scalar_impl = None
        # its implementation raises on some values (a singular or not
        # positive-definite matrix): dead code elimination keeps it, so a
        # check the user wrote still runs
        self.may_raise = False
        self.cost = None
        # the rest of its cost model, for the Jacobian planner: the flops of
        # its transpose (None: as ``cost``), and whether NumPy computes it
        # (and its transpose) as a view, moving no bytes
        self.adjoint_cost = None
        self.view = False
        self.adjoint_view = None
        # the shape of its Jacobian in a linear program, for the Jacobian
        # planner: "diagonal" (elementwise), "explicit" (a matrix product
        # with a constant operand) or "dense"
        self.jacobian_kind = "dense"

    def bind(self, *args, **params):
        return bind(self, *args, **params)

    def __repr__(self):
        return self.name


_trace_stack: contextvars.ContextVar = contextvars.ContextVar("chainrule_traces", default=())
_hints = threading.local()  # the source location interpreters re-trace under


def bind(prim: Primitive, *args, **params):
    """Apply ``prim`` to ``args``: the innermost trace owning one of the
    arguments records an equation; without tracers, NumPy computes.  See the
    module docstring."""
    owner = None
    for x in args:
        if isinstance(x, Tracer) and (owner is None or x._trace.level > owner.level):
            owner = x._trace
    if owner is None:
        return compute_now(prim, args, params, getattr(_hints, "source", None))
    if not owner.active:
        raise _leak_error(next(x for x in args if isinstance(x, Tracer) and x._trace is owner))
    return owner.process(prim, args, params)


def compute_now(prim: Primitive, args, params, source):
    """NumPy computes ``prim`` on ``args`` (no tracer among them).  An error
    it raises (a singular matrix) gets a note naming the user's line
    ``source`` (None: looked up on the stack), and ``debug_nans`` checks
    the result."""
    try:
        if prim.scalar_impl is not None and _two_float64(args):
            out = prim.scalar_impl(*args)
        else:
            out = prim.impl(*args, **params)
    except Exception as e:
        note_source(e, prim.name, source or user_source_info(2))
        raise
    if config.debug_nans:
        check_finite(prim, args, out, source, look_up=True)
    return out


def _two_float64(args) -> bool:
    return len(args) == 2 and type(args[0]) is np.float64 and type(args[1]) is np.float64


def compute(prim: Primitive, values, params, source, out_aval):
    """The output value(s) of an equation that a concrete trace records, from
    its operands' ``values``: ``bind`` on them, with what the recording
    trace knows already (the user's line ``source``, the shape rule's
    answer ``out_aval``) handed on instead of worked out again."""
    owner = None
    for x in values:
        if isinstance(x, Tracer) and (owner is None or x._trace.level > owner.level):
            owner = x._trace
    if owner is None:
        return compute_now(prim, values, params, source)
    if not owner.active:
        raise _leak_error(next(x for x in values if isinstance(x, Tracer) and x._trace is owner))
    try:
        return owner.process(prim, values, params, source, out_aval)
    except Exception as e:
        note_source(e, prim.name, source)
        raise


def infer_avals(prim: Primitive, atoms, params, source):
    """The output aval(s) of ``prim`` on ``atoms``: its shape rule's answer,
    or a ``ShapeError`` naming the primitive, the operands and the user's
    line.  A primitive without params on one or two operands is answered
    from ``SHAPE_RULE_ANSWERS`` when its rule met the same operand avals
    before (avals are immutable and shared, so their ids are the key; the
    rule itself, not the primitive, so that a rule replaced is asked anew)."""
    n = len(atoms)
    rule = prim.shape_rule
    if not params and 0 < n < 3:
        a = atoms[0].aval
        key = (rule, id(a)) if n == 1 else (rule, id(a), id(atoms[1].aval))
        hit = SHAPE_RULE_ANSWERS.get(key)
        if hit is not None:
            return hit[0]
    else:
        key = None
    in_avals = [x.aval for x in atoms]
    try:
        out_aval = rule(*in_avals, **params)
    except (ShapeError, TypeError, ValueError) as e:
        shapes = ", ".join(a.str_short() for a in in_avals)
        raise ShapeError(f"{one_line(prim.name)} cannot be applied to operands of type "
                         f"({shapes}): {e}{where(source)}") from None
    if prim.multiple_results:
        out_aval = tuple([shared_aval(a) for a in out_aval])
    else:
        out_aval = shared_aval(out_aval)
    if key is not None:
        if len(SHAPE_RULE_ANSWERS) >= SHAPE_RULE_ANSWERS_MAX:
            SHAPE_RULE_ANSWERS.clear()
        # the operand avals are kept with the answer, so their ids stay theirs
        SHAPE_RULE_ANSWERS[key] = (out_aval, in_avals)
    return out_aval


def set_source_hint(source_info):
    """Record equations under ``source_info`` instead of looking up the
    caller (interpreters re-tracing an equation keep the user's line);
    returns the previous hint, to be restored."""
    previous = getattr(_hints, "source", None)
    _hints.source = source_info
    return previous


class Trace:
    """An IR being recorded.  ``name`` is the transform that traces
    (``make_ir``, ``grad``, ...), used in error messages."""

    def __init__(self, name: str = "make_ir", concrete: bool = False, level: int = 0,
                 on_equation=None):
        self.name = name
        self.concrete = concrete
        self.level = level       # nesting depth: inner traces have higher levels
        self.active = True
        self.invars = []
        self.eqns = []
        self.constvars = []
        self.const_values = []
        self._const_ids = {}     # id(constant or outer tracer) -> its const Var
        # (const_values holds those objects, so their ids stay valid)
        # concrete traces: the value of every var, a NumPy value or, when the
        # trace runs inside another one, a tracer of that enclosing trace
        self.values = {} if concrete and on_equation is None else None
        # or, instead of keeping every value, forward mode: each tracer of
        # the trace carries a tangent (``Tracer.tangent``; None is zero), and
        # ``on_equation(prim, values, tangents, atoms, out_value, params,
        # source)`` is called for each equation recorded with a non-zero
        # input tangent; it returns the output tangents (a list, None for a
        # zero).  The trace keeps no equations then: only what the rules
        # keep (the residuals) outlives the user's own references.
        self.on_equation = on_equation

    # -- inputs and constants -------------------------------------------
    def new_arg(self, aval: ShapedArray, value=None) -> "Tracer":
        var = Var(aval)
        self.invars.append(var)
        if not self.concrete:
            return Tracer(self, var, None)
        if self.values is not None:
            self.values[var] = value
        return Tracer(self, var, value)

    def _const_var(self, x, aval) -> Var:
        key = id(x)
        var = self._const_ids.get(key)
        if var is None:
            var = self._const_ids[key] = Var(aval)
            self.constvars.append(var)
            self.const_values.append(x)
            if self.values is not None:
                self.values[var] = x
        return var

    def atom(self, x):
        """The IR atom (``Var`` or ``Literal``) standing for ``x`` here, and its
        concrete value (None when unknown)."""
        if isinstance(x, Tracer):
            if x._trace is self:
                return x._var, x.value
            if not x._trace.active:
                raise _leak_error(x)
            if not x._trace.is_current():
                raise _foreign_error(x)
            # a tracer of an enclosing trace: lift it to a const var of this
            # one; on a concrete trace its value *is* that outer tracer, so
            # computing with it records into the enclosing trace
            return self._const_var(x, x._var.aval), (x if self.concrete else None)
        lit = literal_or_none(x)
        if lit is not None:
            return lit, lit.value
        if isinstance(x, np.ndarray):
            x = plain_array(x, "an array the traced function reads")
            return self._const_var(x, ShapedArray(x.shape, x.dtype)), x
        raise TypeError(f"chainrule cannot trace a value of type {one_line(type(x).__name__)}: "
                        f"{one_line(repr(x)[:80])}; pass NumPy arrays or Python numbers"
                        f"{where(user_source_info())}")

    # -- equations --------------------------------------------------------
    def is_current(self) -> bool:
        """Whether this trace is on the stack of traces of the running thread
        (and context): only then may it record or lend its tracers."""
        stack = _trace_stack.get()
        return len(stack) >= self.level and stack[self.level - 1] is self

    def process(self, prim: Primitive, args, params, source=None, out_aval=None):
        """Record ``prim`` applied to ``args`` (some of them tracers of this
        trace) and return the output tracer(s).  A nested concrete trace that
        computes its values here passes the equation's ``source`` and the
        shape rule's answer ``out_aval``, which it has already worked out.
        (This runs once per equation: the common cases are written inline.)"""
        stack = _trace_stack.get()   # is_current
        if len(stack) < self.level or stack[self.level - 1] is not self:
            raise _foreign_error(next(x for x in args
                                      if isinstance(x, Tracer) and x._trace is self))
        atoms = []
        if self.concrete:
            values = []
            for x in args:
                if type(x) is Tracer and x._trace is self:
                    atoms.append(x._var)
                    values.append(x.value)
                else:
                    a, v = self.atom(x)
                    atoms.append(a)
                    values.append(v)
        else:
            values = None
            for x in args:
                atoms.append(x._var if type(x) is Tracer and x._trace is self
                             else self.atom(x)[0])
        if source is None:
            source = _hints.__dict__.get("source") or user_source_info(2)
        if out_aval is None:
            out_aval = infer_avals(prim, atoms, params, source)
        multiple = prim.multiple_results
        if multiple:
            outvars = [Var(a) for a in out_aval]
        else:
            outvar = Var(out_aval)
            outvars = [outvar]
        hook = self.on_equation
        if hook is None:   # (an AD trace's hook consumes its equations)
            self.eqns.append(Equation(prim, atoms, outvars, params, source))
        if values is None:   # an abstract trace
            if multiple:
                return [Tracer(self, v, None) for v in outvars]
            return Tracer(self, outvar, None)
        # the values are NumPy arrays or tracers of an enclosing trace: the
        # output values are computed by NumPy, or recorded there
        out_value = compute(prim, values, params, source, out_aval)
        if hook is None:
            out_values = out_value if multiple else [out_value]
            if self.values is not None:
                self.values.update(zip(outvars, out_values))
            if multiple:
                return [Tracer(self, v, o) for v, o in zip(outvars, out_values)]
            return Tracer(self, outvar, out_value)
        # forward mode: push the operands' tangents through the equation
        tangents = [x.tangent if type(x) is Tracer and x._trace is self else None
                    for x in args]
        for t in tangents:
            if t is not None:
                tangents_out = hook(prim, values, tangents, atoms, out_value, params, source)
                break
        else:
            tangents_out = None
        if not multiple:
            tracer = Tracer(self, outvar, out_value)
            if tangents_out is not None:
                tracer.tangent = tangents_out[0]
            return tracer
        tracers = [Tracer(self, v, o) for v, o in zip(outvars, out_value)]
        if tangents_out is not None:
            for tracer, t in zip(tracers, tangents_out):
                tracer.tangent = t
        return tracers

    # -- finishing ----------------------------------------------------------
    def to_ir(self, outs) -> tuple[IR, list]:
        """The recorded IR with ``outs`` (tracers or constants) as outputs,
        and the values of its const vars."""
        out_atoms = [self.atom(x)[0] for x in outs]
        ir = IR(self.constvars, self.invars, self.eqns, out_atoms)
        return ir, list(self.const_values)


@contextlib.contextmanager
def new_trace(name: str = "make_ir", concrete: bool = False, on_equation=None):
    """Push a fresh trace for the duration of the block."""
    stack = _trace_stack.get()
    trace = Trace(name, concrete, level=len(stack) + 1, on_equation=on_equation)
    token = _trace_stack.set(stack + (trace,))
    collector.pause()
    try:
        yield trace
    finally:
        collector.resume()
        trace.active = False
        _trace_stack.reset(token)
        # the IR taken from the trace owns the constants now: a tracer that
        # outlives its trace must not keep them (residuals, above all) alive
        trace.const_values, trace._const_ids = [], {}


def _control_flow_advice(source) -> str:
    """What to write instead of the Python construct on the user's line."""
    line = source.line_text() if source is not None else ""
    first = line.split(maxsplit=1)[0] if line else ""
    if first == "while":
        return ("For a loop that runs while a traced condition holds, use cr.while_loop "
                "(cr.fori_loop for a counted loop, which reverse mode differentiates too)")
    if first in ("if", "elif") or " if " in line:
        return ("For a choice between computations, use cr.cond (cr.switch for several), or "
                "numpy.where to choose between values")
    if first == "for" or "range(" in line:
        return "For a loop over a traced number of steps, use cr.fori_loop"
    return ("Use cr.cond or cr.switch for a choice, cr.while_loop, cr.fori_loop or cr.scan "
            "for a loop, numpy.where to choose between values")


def _foreign_error(tracer) -> TracerLeakError:
    return TracerLeakError(
        f"a traced value {tracer.aval.str_short()} of a {tracer._trace.name} trace running in "
        "another thread (or another context) was used here. A trace records what its own "
        "thread computes: a traced value must not cross into another thread. Pass arrays "
        f"between threads and trace in each one.{where(user_source_info())}")


def _leak_error(tracer) -> TracerLeakError:
    return TracerLeakError(
        f"a traced value {tracer.aval.str_short()} leaked out of the {tracer._trace.name} "
        "trace that created it and was used after that trace had finished (for example it was "
        "stored in a global or a list outside the function). Return it from the traced function "
        f"instead.{where(user_source_info())}")


class Tracer:
    """A stand-in for an array while a function is traced.

    It has the abstract value of the array it stands for (``.shape``,
    ``.dtype``) and, on a concrete trace, its NumPy ``value``.
    """

    __slots__ = ("_trace", "_var", "value", "tangent")
    __array_priority__ = 1000  # NumPy defers binary operators to us

    def __init__(self, trace: Trace, var: Var, value=None):
        self._trace = trace
        self._var = var
        self.value = value
        # on a trace that pushes tangents (``Trace.on_equation``): this
        # value's tangent, None for a zero one; it lives as long as the tracer
        self.tangent = None

    @property
    def aval(self) -> ShapedArray:
        return self._var.aval

    @property
    def shape(self):
        return self._var.aval.shape

    @property
    def dtype(self):
        return self._var.aval.dtype

    @property
    def ndim(self):
        return len(self._var.aval.shape)

    @property
    def size(self):
        return self._var.aval.size

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object (a 0-d traced array)")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d traced array")
        return (self[i] for i in range(self.shape[0]))

    # -- the values Python control flow asks for ---------------------------
    def _concrete(self, what: str):
        """The value, for Python control flow (``if``, ``bool()``, an index):
        known on a concrete trace, a ``ConcretizationError`` on an abstract one."""
        if not self._trace.active:
            raise _leak_error(self)
        value = self.value
        if isinstance(value, Tracer):  # concrete here, but traced one level out
            return value._concrete(what)
        if value is not None:
            return value
        source = user_source_info()
        raise ConcretizationError(
            f"{what} needs the value of a traced array {self.aval.str_short()}, but under "
            f"{self._trace.name} only its shape and dtype are known.{where(source)}\n"
            f"Python control flow on traced values cannot be recorded in the IR. "
            f"{_control_flow_advice(source)}; mark the argument static with static_argnums "
            "if it is a configuration value rather than data; or use a transform that traces "
            "with values (cr.grad, cr.vjp, cr.jvp, cr.linearize, cr.jacfwd, cr.jacrev, "
            "cr.jacobian), which records the path taken.")

    def _number(self, what: str):
        """The value, for a conversion to a Python or NumPy number (``float()``,
        ``int()``, ``.item()``, ``math.sin``, ``out[i] = x``).  A number is a
        constant: refused where the value carries a derivative (or, on a
        trace recording a program, depends on its inputs), which the
        conversion would silently drop."""
        tracer = self
        while True:
            value = tracer._concrete(what) if tracer.value is None or not tracer._trace.active \
                else tracer.value
            if tracer._carries_derivative():
                raise TracerConversionError(
                    f"{what} would turn a traced value {tracer.aval.str_short()} into a constant, "
                    f"dropping its dependence on the inputs that {tracer._trace.name} follows: "
                    f"the derivative through it would silently be zero.{where(user_source_info())}"
                    "\nKeep it an array and compute with NumPy (or chainrule.numpy) functions on "
                    "it; compare the array itself for control flow (if x > 0:); print(x) shows "
                    "its value while it is known. To collect values, append "
                    "them to a list and np.stack it, or start from chainrule.numpy.zeros(n) and "
                    "use x = x.at[i].set(v), instead of writing into a NumPy array (out[i] = v). "
                    "Where the derivative should be zero, convert cr.stop_gradient(x).")
            if not isinstance(value, Tracer):
                return value
            tracer = value   # concrete here, but traced one level out: check there too

    def _carries_derivative(self) -> bool:
        """Whether this value depends on what its trace differentiates: it has
        a non-zero tangent (on a trace that pushes tangents, one with an
        ``on_equation`` hook), or, on a concrete trace that records a
        program, simply is floating point."""
        if not np.issubdtype(self._var.aval.dtype, np.inexact):
            return False
        return self._trace.on_equation is None or self.tangent is not None

    def __bool__(self):
        return bool(self._concrete("bool() / if / while"))

    def __float__(self):
        return float(self._number("float()"))

    def __int__(self):
        return int(self._number("int()"))

    def __complex__(self):
        return complex(self._number("complex()"))

    def __index__(self):
        if not np.issubdtype(self.dtype, np.integer):
            raise TypeError(f"only integer traced arrays can be used as an index, not "
                            f"{self.aval.str_short()}")
        return int(self._concrete("using a traced value as a Python index"))

    def item(self):
        return np.asarray(self._number(".item()")).item()

    def tolist(self):
        return np.asarray(self._number(".tolist()")).tolist()

    def __array__(self, dtype=None, copy=None):
        raise TracerArrayConversionError(
            f"a traced array {self.aval.str_short()} was converted to a NumPy array (by "
            "np.asarray, np.array or a function chainrule has no rule for). That would drop it "
            f"from the trace.{where(user_source_info())}\nUse the chainrule.numpy functions "
            "(or plain NumPy functions chainrule supports) on traced values. To collect values, "
            "append them to a list and np.stack it, or start from chainrule.numpy.zeros(shape) "
            "and use x = x.at[i].set(v), instead of writing into a NumPy array (out[i] = v). "
            "np.r_[...] and np.c_[...] convert their pieces this way: use chainrule.numpy.r_ "
            "and chainrule.numpy.c_ (or np.concatenate) on traced values.")

    def __setitem__(self, index, value):
        raise TypeError(
            f"traced arrays are immutable: x[idx] = v cannot be traced.{where(user_source_info())}"
            "\nUse the functional update x.at[idx].set(v) (or .add(v)), which returns a new "
            "array, or numpy.where(mask, v, x).")

    # -- a traced value is an immutable array of its trace ---------------------
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        # a copy of the trace would record nowhere: the value is immutable,
        # so copy.deepcopy of a pytree holding tracers keeps them
        return self

    def __reduce__(self):
        raise TypeError(f"a traced value {self.aval.str_short()} cannot be pickled: it stands "
                        f"for an array while {self._trace.name} traces the function"
                        f"{where(user_source_info())}\nReturn it from the traced function and "
                        "pickle the result.")

    def __format__(self, spec):
        """``f"{x}"`` shows the tracer; ``f"{x:.3f}"`` formats its value
        where it is known (as NumPy formats a 0-d array)."""
        if not spec:
            return repr(self)
        return format(self._concrete(f"format(x, {spec!r})"), spec)

    def __repr__(self):
        if self.value is not None:
            return f"Tracer<{self.aval.str_short()}>({self.value!r}) from {self._trace.name}"
        return f"Tracer<{self.aval.str_short()}> from {self._trace.name}"

    __hash__ = None  # == builds an equation, so tracers cannot be dict keys


def plain_array(x, what):
    """``x`` as a plain NumPy array.  Subclasses whose operations mean
    something else are refused: ``np.matrix`` (``*`` is a matrix product),
    masked arrays (reductions skip masked entries), any other subclass
    whose behaviour chainrule cannot know; traced as plain arrays they would
    give other values and derivatives than NumPy gives them.  A ``memmap``
    is a plain array in a file: its data is read as one."""
    if type(x) is np.ndarray:
        return x
    if isinstance(x, np.memmap):
        return np.asarray(x)
    kind = ("np.matrix, whose * is a matrix product" if isinstance(x, np.matrix)
            else "a masked array, whose operations skip masked entries"
            if isinstance(x, np.ma.MaskedArray)
            else f"a {one_line(type(x).__name__)}, a subclass of numpy.ndarray")
    raise TypeError(f"{what} is {kind}: chainrule traces plain NumPy arrays, and as one "
                    f"its values and derivatives would differ from what NumPy computes with "
                    f"it.{where(user_source_info())}\nConvert it with np.asarray(x) and write "
                    "the operation explicitly (x @ y for a matrix product; np.where(mask, x, "
                    "0) or a boolean index for masked entries).")


def get_aval(x) -> ShapedArray:
    """The abstract value of a tracer or of a concrete array or number."""
    if type(x) is Tracer:   # (the common case first: rules ask this often)
        return x._var.aval
    if isinstance(x, Tracer):
        return x._var.aval
    if isinstance(x, ShapedArray):
        return x
    return aval_of_value(x)

