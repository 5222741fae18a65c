"""``jit(f)``: trace once per signature, optimize, compile to Python source.

A call of a jitted function goes one of two ways:

* **dispatch** (every argument a concrete array or number): the call's
  *signature* (the pytree structure of its arguments, each leaf's shape,
  dtype and whether it is a Python number, and the values of the static
  arguments) keys a cache of compiled programs.  The first call of a
  signature traces ``f`` abstractly (``make_ir``), runs the optimization
  passes (``interpreters/passes.py``) and compiles the result to the source
  of one Python function (``interpreters/codegen.py``); every later call
  only computes its signature and calls that function;
* **staging** (some argument is a tracer of an enclosing transform, as in
  ``grad(jit(f))`` or ``vmap(jit(f))``): the optimized program of the
  tracers' signature is evaluated with the tracers, so its equations are
  recorded in, or transformed by, the enclosing trace, each under the
  user's source line.  ``jit(grad(f))`` needs nothing special: ``grad(f)``
  is traced abstractly like any function.

What a jitted function computes is what ``f`` computes; only Python side
effects (a ``print``, a counter) happen at tracing time alone, as in JAX.
"""
from __future__ import annotations

import collections
import functools
import weakref

import numpy as np

from ..interpreters.codegen import compile_ir
from ..interpreters.evaluate import eval_ir
from ..interpreters.passes import optimize
from ..tracer import collector
from ..tracer.aliasing import owned
from ..tracer.config import config
from ..tracer.core import Tracer
from ..tracer.printer import one_line
from ..tracer.pytree import tree_flatten, tree_unflatten
from ..tracer.tracebacks import api_boundary, filter_exception
from ..tracer.tracing import check_leaf, trace_to_ir

# compiled programs kept per jitted function (the least recently used dropped)
_SIGNATURES_PER_FUNCTION = 64
_PY_SCALARS = (bool, int, float, complex)

# every live jitted function, so that ``cr.clear_caches`` can empty their caches
_LIVE: "weakref.WeakSet[Jitted]" = weakref.WeakSet()


def clear_jit_caches() -> None:
    """Empty the compiled programs of every jitted function (``cr.clear_caches``)."""
    for jitted in list(_LIVE):
        jitted.clear_cache()


def _leaf_key(x):
    """What of an argument leaf a program depends on: shape and dtype of an
    array, the type of a Python number (weak in dtype promotion), the aval
    of a tracer; never a value."""
    t = type(x)
    if t is np.ndarray:
        return (x.shape, x.dtype)
    if t in _PY_SCALARS:
        return t
    if isinstance(x, np.generic):
        return ((), x.dtype)
    if isinstance(x, Tracer):
        aval = x.aval
        return (aval.shape, aval.dtype, aval.weak_type)
    check_leaf(x, "jit")          # a subclass of ndarray, or not an array: a TypeError
    return (np.shape(x), np.asarray(x).dtype)


def _normalize(argnums, what):
    if isinstance(argnums, int):
        argnums = (argnums,)
    argnums = tuple(argnums)
    for i in argnums:
        if not isinstance(i, int):
            raise TypeError(f"jit: {what} must be ints, got {one_line(repr(i))}")
    return argnums


class Lowered:
    """One signature of a jitted function, traced and optimized:
    ``.as_text()`` is the optimized program, ``.raw`` the program as traced
    (``make_ir``'s), ``.ir`` the optimized ``ClosedIR``, ``.source`` the
    generated Python, ``.compile()`` the callable that runs it."""

    def __init__(self, entry):
        self._entry = entry
        self.raw = entry.raw
        self.ir = entry.closed

    def as_text(self) -> str:
        return self.ir.pretty()

    @property
    def source(self) -> str:
        return self._entry.compiled().source

    def compile(self):
        """The compiled program as a function of the same arguments as the
        jitted function (for this signature only)."""
        entry = self._entry

        @api_boundary
        def compiled(*args, **kwargs):
            flat, key = entry.owner._flatten(args, kwargs)
            if key != entry.key:
                raise TypeError("jit(...).lower(...).compile(): these arguments have another "
                                "signature (structure, shapes, dtypes or static values) than "
                                "the ones it was lowered for; lower it for them")
            return entry.run(flat)
        return compiled

    def __str__(self):
        return self.as_text()


class _Entry:
    """A cached signature: the traced program, the optimized one, and its
    compiled forms (made on first use: a staged call never compiles)."""

    __slots__ = ("owner", "key", "raw", "closed", "out_tree", "single", "donated",
                 "_compiled", "_plain", "_function")

    def __init__(self, owner, key, raw, closed, donated):
        self.owner = owner
        self.key = key
        self.raw = raw
        self.closed = closed
        self.out_tree = closed.out_tree
        self.donated = donated     # flat input indices whose buffers the code may reuse
        # a single array result: returned without rebuilding a pytree
        self.single = closed.out_tree is not None and closed.out_tree.node is None
        self._compiled = None
        self._plain = None
        self._function = None     # the compiled function, once a call has made it

    def compiled(self):
        if self._compiled is None:
            self._compiled = compile_ir(self.closed, donate=self.donated)
        return self._compiled

    def plain(self):
        """The program compiled without donation, for a call whose donated
        buffer is also one of its other arguments (reusing it would change
        an argument the program still reads)."""
        if self._plain is None:
            self._plain = compile_ir(self.closed) if self.donated else self.compiled()
        return self._plain

    def run(self, flat):
        fn = self._function
        if fn is None or self.donated or config.debug_nans:
            return self._run_checked(flat)
        outs = fn(*flat)
        return outs[0] if self.single else tree_unflatten(self.out_tree, outs)

    def _run_checked(self, flat):
        """A call that needs a decision: the first one (compiling), one with
        donated arguments, or one under ``debug_nans``."""
        if config.debug_nans:   # the interpreter checks every equation's values
            outs = eval_ir(self.closed.ir, self.closed.consts, flat)
        elif self.donated and _shares_donated(flat, self.donated):
            outs = self.plain()(*flat)
        else:
            compiled = self.compiled()
            self._function = compiled.function
            outs = compiled.function(*flat)
        return tree_unflatten(self.out_tree, outs)

    def stage(self, flat):
        """Evaluate the optimized program on tracers: the enclosing trace
        records (or transforms) its equations."""
        return tree_unflatten(self.out_tree, eval_ir(self.closed.ir, self.closed.consts, flat))


class Jitted:
    """A function compiled per signature (see the module docstring); made by
    ``cr.jit``."""

    def __init__(self, f, static_argnums=(), static_argnames=(), donate_argnums=()):
        if not callable(f):
            raise TypeError(f"jit needs a function, got {one_line(type(f).__name__)}")
        self.fun = f
        self.static_argnums = _normalize(static_argnums, "static_argnums")
        if isinstance(static_argnames, str):
            static_argnames = (static_argnames,)
        self.static_argnames = tuple(static_argnames)
        self.donate_argnums = _normalize(donate_argnums, "donate_argnums")
        overlap = set(self.donate_argnums) & set(self.static_argnums)
        if overlap:
            raise ValueError(f"jit: argument {sorted(overlap)[0]} is both static and donated; "
                             "a static argument is not an array whose buffer could be reused")
        self._cache: collections.OrderedDict = collections.OrderedDict()
        self.hits = self.misses = 0
        functools.update_wrapper(self, f, updated=())   # (f's __dict__ is not ours)
        _LIVE.add(self)

    # -- signatures ----------------------------------------------------------------------
    def _split(self, args, kwargs):
        """The static values and the dynamic arguments (a pytree) of a call."""
        nargs = len(args)
        static = []
        for i in self.static_argnums:
            k = i if i >= 0 else i + nargs
            if not 0 <= k < nargs:
                raise ValueError(f"jit: static_argnums {i} is out of range for a call with "
                                 f"{nargs} positional arguments")
            static.append((k, args[k]))
        static_set = {k for k, _ in static}
        dynamic = tuple(a for i, a in enumerate(args) if i not in static_set)
        kw_static = tuple(sorted((k, v) for k, v in kwargs.items() if k in self.static_argnames))
        kw_dynamic = {k: v for k, v in kwargs.items() if k not in self.static_argnames}
        # a static value keys by its type too: 2, 2.0 and True are equal in
        # Python but may steer f differently (range(n), dtypes)
        key = tuple((k, type(v), v) for k, v in tuple(static) + kw_static)
        try:
            hash(key)
        except TypeError:
            for name, value in tuple(static) + kw_static:
                try:
                    hash(value)
                except TypeError:
                    raise TypeError(
                        f"jit: the static argument {name!r} is a {one_line(type(value).__name__)}, "
                        "which is not hashable; a static argument keys the compiled program, so "
                        "pass a hashable value (a tuple instead of a list) or make it a traced "
                        "argument") from None
        return dynamic, kw_dynamic, key

    def _flatten(self, args, kwargs):
        """The array leaves of a call and its signature."""
        if not kwargs and not self.static_argnums:
            flat, tree = tree_flatten(args)
            return flat, (tree, tuple(map(_leaf_key, flat)))
        dynamic, kw_dynamic, static = self._split(args, kwargs)
        flat, tree = tree_flatten((dynamic, kw_dynamic))
        return flat, (tree, tuple(map(_leaf_key, flat)), static)

    # -- tracing -------------------------------------------------------------------------
    def _entry(self, args, kwargs, key):
        """The cached signature ``key``, traced and optimized on a miss."""
        entry = self._cache.get(key)
        if entry is not None:
            self.hits += 1
            self._cache.move_to_end(key)
            return entry
        self.misses += 1
        f, args, static = self.fun, tuple(args), self._static_positions(len(args))
        kw_static = {k: v for k, v in kwargs.items() if k in self.static_argnames}
        kw_dynamic = {k: v for k, v in kwargs.items() if k not in self.static_argnames}
        if kwargs:   # the traced keyword arguments become one last positional argument
            names = sorted(kw_dynamic)

            def f(*a, _f=self.fun):
                return _f(*a[:-1], **dict(zip(names, a[-1])), **kw_static)
            args = args + (tuple(kw_dynamic[k] for k in names),)
        # tracing, the passes and the compiler build a large heap of long-lived
        # objects: the collector's full walks over it wait (tracer/collector.py)
        collector.pause()
        try:
            raw = trace_to_ir(f, args, static_argnums=static, name="jit")
            # the arrays f read are the program's constants: copies, so that the
            # program does not change when the user writes to them later
            raw.consts = owned(raw.consts, raw.consts)
            entry = _Entry(self, key, raw, optimize(raw), self._donated_indices(args, static))
            if not any(isinstance(x, Tracer) for x in tree_flatten(args)[0]):
                entry.compiled()     # (a staged call never needs the compiled code)
        finally:
            collector.resume()
        self._cache[key] = entry
        if len(self._cache) > _SIGNATURES_PER_FUNCTION:
            self._cache.popitem(last=False)
        return entry

    def _static_positions(self, nargs):
        return tuple(sorted({i % nargs for i in self.static_argnums})) if nargs else ()

    def _donated_indices(self, args, static):
        """The flat input indices of the leaves of the donated arguments."""
        if not self.donate_argnums:
            return ()
        donated = {i % len(args) for i in self.donate_argnums if -len(args) <= i < len(args)}
        out, offset = [], 0
        for i, a in enumerate(args):
            if i in static:
                continue
            n = len(tree_flatten(a)[0])
            if i in donated:
                out.extend(range(offset, offset + n))
            offset += n
        return tuple(out)

    # -- calls ---------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        # (the api_boundary of this hot path, inlined: a try costs nothing)
        try:
            flat, key = self._flatten(args, kwargs)
            entry = self._cache.get(key)
            if entry is None:
                entry = self._entry(args, kwargs, key)
            else:
                self.hits += 1
                self._cache.move_to_end(key)
            for x in flat:
                if isinstance(x, Tracer):
                    return entry.stage(flat)
            return entry.run(flat)
        except Exception as e:
            if config.traceback_filtering == "on":
                filter_exception(e)
            raise

    @api_boundary
    def lower(self, *args, **kwargs) -> Lowered:
        """Trace and optimize for these arguments' signature (cached like a
        call); see ``Lowered``."""
        flat, key = self._flatten(args, kwargs)
        return Lowered(self._entry(args, kwargs, key))

    def cache_info(self) -> dict:
        """How the compiled-program cache has served calls: ``hits``,
        ``misses`` (each a trace), ``size`` and ``maxsize``."""
        return {"hits": self.hits, "misses": self.misses, "size": len(self._cache),
                "maxsize": _SIGNATURES_PER_FUNCTION}

    def clear_cache(self) -> None:
        """Drop every compiled program of this function."""
        self._cache.clear()

    def __repr__(self):
        return f"<jit of {one_line(getattr(self.fun, '__qualname__', repr(self.fun)))}>"

    def __get__(self, obj, objtype=None):   # a jitted method binds like a function
        return self if obj is None else functools.partial(self, obj)


def _shares_donated(flat, donated):
    """Whether a donated leaf shares memory with another leaf of the call."""
    for i in donated:
        x = flat[i]
        if isinstance(x, np.ndarray):
            for j, y in enumerate(flat):
                if j != i and isinstance(y, np.ndarray) and np.shares_memory(x, y):
                    return True
    return False


def jit(f=None, *, static_argnums=(), static_argnames=(), donate_argnums=()):
    """Compile ``f``: on the first call for each signature (the pytree
    structure of the arguments, each array's shape and dtype, the values of
    the static arguments) trace it abstractly, optimize the program and
    compile it to one Python function; later calls of that signature run
    the compiled code.  Results equal ``f``'s.

    ``static_argnums`` / ``static_argnames``: arguments passed to ``f`` as
    they are (hashable configuration, part of the signature: a new value
    traces again).  ``donate_argnums``: arguments whose array buffers the
    compiled code may reuse for its results; a donated array is invalid
    after the call (its contents are unspecified), as in JAX.

    Composes with every transform in both orders (``jit(grad(f))``,
    ``grad(jit(f))``, ``vmap(jit(f))``); usable as ``@jit`` or
    ``@jit(static_argnums=...)``.  ``jit(f).lower(*args)`` shows the
    optimized program (``.as_text()``) and the generated Python (``.source``).
    """
    if f is None:
        return functools.partial(jit, static_argnums=static_argnums,
                                 static_argnames=static_argnames, donate_argnums=donate_argnums)
    return Jitted(f, static_argnums, static_argnames, donate_argnums)
