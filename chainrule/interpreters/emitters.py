"""Emitters: how the compiler (``codegen.py``) writes one equation as Python.

An emitter takes the function being written (``w``, which binds objects
to global names and names the array library's functions), the equation,
the source text of its operands (``ins``: local names or bound globals) and
the name of a dead buffer the result may be written into (``out``, offered
only to emitters marked ``inplace``), and returns the right-hand side of one
assignment, what the result is, for the aliasing analysis, and how its
layout follows from its operands' (``codegen_buffers.Buffers.layout``:
"k", a ufunc's new array; "c", C order; "same", the operand's; "reduce",
"reshape", "transpose", "slice", "broadcast"; "unknown").  What it is:

    FRESH     a new array (or an immutable scalar) that shares no memory
    INPLACE   the buffer ``out``, written in place by the ufunc's ``out=``
    VIEW      the first operand, or a view of its memory (reshape,
              transpose, slice, stop_gradient): writeable when it is
    READONLY  a broadcast view of the first operand: never written
    UNKNOWN   whatever the primitive's implementation returns: maybe a new
              array, maybe an operand or a view of one

Every expression must compute what the primitive's ``impl`` computes, bit
for bit and with the same dtype and the same 0-d type (NumPy scalar or 0-d
array), so each emitter below says which call of ``impl`` it replaces.
Operands of rank >= 1 are NumPy arrays (``jit`` passes arrays; every array
primitive returns one), so their methods (``x.reshape``) may be called;
0-d operands may be Python or NumPy scalars and go through the namespace.

A primitive without an emitter of its own is compiled by ``generic``: its
``impl`` bound as a constant and called with its params bound as
constants, which is right for every primitive.  Nothing from the program
is pasted into the text: integers the emitters write are converted to
``int`` first (``ints``), everything else is a bound object.
"""
from __future__ import annotations

import keyword

import numpy as np

from ..primitives._ops import PRIMITIVES
from ..primitives.linalg import matrix_product, may_swap

FRESH, INPLACE, VIEW, READONLY, UNKNOWN = "fresh", "inplace", "view", "readonly", "unknown"

# ufuncs that round exactly (IEEE arithmetic, comparisons, selections): the
# same in every inner loop NumPy may pick, so an operand may reach them
# broadcast implicitly by NumPy instead of through ``broadcast_to``
EXACT_UFUNCS = frozenset((
    "add", "subtract", "multiply", "divide", "maximum", "minimum", "equal", "not_equal",
    "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or",
    "bitwise_and", "bitwise_or", "bitwise_xor"))

# primitives whose ``impl`` always returns a new array that nothing else
# holds (a value computed by NumPy from the operands, never one of them)
FRESH_IMPLS = frozenset((
    "logistic", "cumsum", "cumprod", "gather", "scatter", "scatter_add", "normalize_index",
    "argmax", "argmin", "solve", "cholesky", "pad", "sort"))


def ints(values) -> str:
    """A tuple of integers as Python text, each converted to ``int`` (so
    nothing but digits and a sign reaches the source)."""
    items = [repr(int(v)) for v in values]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def all_ints(values) -> bool:
    return isinstance(values, (tuple, list)) and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values)


def is_name(text) -> bool:
    """Whether ``text`` may stand in the source as a name (a keyword argument)."""
    return isinstance(text, str) and text.isidentifier() and not keyword.iskeyword(text)


# -- elementwise ------------------------------------------------------------------------
def ufunc_emitter(ufunc_name):
    """``impl`` is the ufunc itself: call it, into ``out`` when offered."""
    def emit(w, eqn, ins, out):
        args = ", ".join(ins)
        if out is not None:
            return f"{w.fn(ufunc_name)}({args}, out={out})", INPLACE, "k"
        return f"{w.fn(ufunc_name)}({args})", FRESH, "k"
    emit.inplace = True
    emit.ufunc = ufunc_name
    return emit


def emit_integer_pow(w, eqn, ins, out):
    # impl: np.power(x, y, dtype=x.dtype).  x ** 2 is x * x exactly (one
    # rounding either way) and x ** 1 a copy; other powers round differently
    # when multiplied out, so they stay np.power.
    (x,), y, dtype = ins, eqn.params["y"], eqn.inputs[0].aval.dtype
    into = "" if out is None else f", out={out}"
    if dtype.kind in "fiu" and y in (1, 2):
        call = f"{w.fn('multiply')}({x}, {x}{into})" if y == 2 else f"{w.fn('positive')}({x}{into})"
        return call, (FRESH if out is None else INPLACE), "k"
    return f"{w.fn('power')}({x}, {repr(int(y))}, dtype={w.bind(dtype)})", FRESH, "k"


emit_integer_pow.inplace = True


def emit_round(w, eqn, ins, out):
    # impl: np.rint(x) for floats, x itself for integers
    if eqn.inputs[0].aval.dtype.kind in "fc":
        return ufunc_emitter("rint")(w, eqn, ins, out)
    return ins[0], VIEW, "same"


emit_round.inplace = True


def emit_identity(w, eqn, ins, out):
    # stop_gradient: impl is ``lambda x: x``
    return ins[0], VIEW, "same"


def emit_select(w, eqn, ins, out):
    # impl: np.where(p, t, f)[()]; ``[()]`` only changes a 0-d result
    call = f"{w.fn('where')}({', '.join(ins)})"
    return (call + "[()]" if not eqn.outvars[0].aval.shape else call), FRESH, "k"


def emit_convert(w, eqn, ins, out):
    # impl: np.asarray(x).astype(new_dtype)[()]: a copy, or for an array of
    # the same dtype the same values (the array itself, as a view)
    (x,), dtype = ins, np.dtype(eqn.params["new_dtype"])
    if not eqn.inputs[0].aval.shape:
        return f"{w.fn('asarray')}({x}).astype({w.bind(dtype)})[()]", FRESH, "k"
    if dtype == eqn.inputs[0].aval.dtype:
        return x, VIEW, "same"
    return f"{x}.astype({w.bind(dtype)})", FRESH, "k"     # (astype keeps the order: "K")


# -- structural -------------------------------------------------------------------------
def _reshaped(w, x, aval, shape):
    if aval.shape:
        return f"{x}.reshape({ints(shape)})"        # ndarray.reshape, as np.reshape calls
    return f"{w.fn('reshape')}({x}, {ints(shape)})"


def emit_reshape(w, eqn, ins, out):
    # reshape: np.reshape(x, shape); squeeze and expand_dims drop or add axes
    # of size 1, which a reshape to the output's shape does as a view too
    return _reshaped(w, ins[0], eqn.inputs[0].aval, eqn.outvars[0].aval.shape), VIEW, "reshape"


def emit_transpose(w, eqn, ins, out):
    # impl: np.transpose(x, permutation), which calls x.transpose(permutation)
    perm = eqn.params["permutation"]
    if not eqn.inputs[0].aval.shape:
        return f"{w.fn('transpose')}({ins[0]}, {ints(perm)})", VIEW, "same"
    return _permuted(ins[0], list(perm), identity=False), VIEW, "transpose"


def broadcast_operand(eqn):
    """The operand's shape with size-1 axes where ``broadcast_in_dim`` adds
    axes (``kept``), and whether NumPy's own broadcasting, which aligns
    trailing axes, needs that reshape first."""
    x, shape = eqn.inputs[0].aval, eqn.params["shape"]
    dims = tuple(eqn.params["broadcast_dimensions"])
    kept = [1] * len(shape)
    for d, i in zip(x.shape, dims):
        kept[i] = d
    trailing = dims == tuple(range(len(shape) - x.ndim, len(shape)))
    return tuple(kept), not trailing


def emit_broadcast(w, eqn, ins, out):
    # impl: np.broadcast_to(np.asarray(x).reshape(kept), shape)
    kept, needs_reshape = broadcast_operand(eqn)
    x = _reshaped(w, ins[0], eqn.inputs[0].aval, kept) if needs_reshape else ins[0]
    return f"{w.fn('broadcast_to')}({x}, {ints(eqn.params['shape'])})", READONLY, "broadcast"


def emit_slice(w, eqn, ins, out):
    # impl: np.asarray(x)[tuple(slice(lo, hi, st), ...)]
    p = eqn.params
    if not eqn.inputs[0].aval.shape:
        return f"{w.fn('asarray')}({ins[0]})[()]", FRESH, "same"
    parts = []
    for lo, hi, st, n in zip(p["start_indices"], p["limit_indices"], p["strides"],
                             eqn.inputs[0].aval.shape):
        lo, hi, st = int(lo), int(hi), int(st)
        text = (f"{lo}" if lo else "") + ":" + (f"{hi}" if hi != n else "")
        parts.append(text + (f":{st}" if st != 1 else ""))
    return f"{ins[0]}[{', '.join(parts)}]", VIEW, "slice"


def emit_concatenate(w, eqn, ins, out):
    # impl: np.concatenate(xs, axis=axis)
    operands = ", ".join(ins) + ("," if len(ins) == 1 else "")
    return f"{w.fn('concatenate')}(({operands}), axis={int(eqn.params['axis'])})", FRESH, "unknown"


# -- reductions and products ------------------------------------------------------------
def reduction_emitter(ufunc_name, with_dtype):
    """impl: np.sum / np.prod (with the operand's dtype) or np.max / np.min
    over ``axes``; for an array these call ``ufunc.reduce`` with exactly
    these arguments, and so does the emitted code."""
    def emit(w, eqn, ins, out):
        x = eqn.inputs[0].aval
        if not x.shape or not all_ints(eqn.params["axes"]):
            return generic(w, eqn, ins, out)
        dtype = f", {w.bind(x.dtype)}" if with_dtype else ""
        return (f"{w.fn(ufunc_name, 'reduce')}({ins[0]}, {ints(eqn.params['axes'])}{dtype})",
                FRESH, "reduce")
    return emit


def emit_dot_general(w, eqn, ins, out):
    # impl: transpose lhs to (batch, free, contract) and rhs to (batch,
    # contract, free), reshape when several axes merge, np.matmul, reshape
    # the result.  With one free and one contracting axis on each side both
    # reshapes are no-ops and the product is that very np.matmul call.
    (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
    lhs, rhs = eqn.inputs[0].aval, eqn.inputs[1].aval
    lf = [i for i in range(lhs.ndim) if i not in lc and i not in lb]
    rf = [i for i in range(rhs.ndim) if i not in rc and i not in rb]
    if not (len(lc) == len(rc) == len(lf) == len(rf) == 1):
        return generic(w, eqn, ins, out)
    left = _permuted(ins[0], list(lb) + lf + list(lc))
    right = _permuted(ins[1], list(rb) + list(rc) + rf)
    m, k, n = lhs.shape[lf[0]], lhs.shape[lc[0]], rhs.shape[rf[0]]
    if not lb and lhs.dtype == np.float64 and may_swap(m, k, n):
        # impl: matrix_product, which may return an F-ordered view of its
        # result depending on the operands' layouts at run time
        helper = w.bind(matrix_product, "matrix_product")
        return f"{helper}({left}, {right}, {w.fn('matmul')})", FRESH, "unknown"
    return f"{w.fn('matmul')}({left}, {right})", FRESH, "c"


def _permuted(x, perm, identity=True):
    """``x`` with its axes permuted (``x.T`` for a matrix's two); an identity
    permutation leaves ``x`` as it is unless ``identity`` is False."""
    if identity and perm == list(range(len(perm))):
        return x
    return f"{x}.T" if perm == [1, 0] else f"{x}.transpose({ints(perm)})"


# -- every other primitive ----------------------------------------------------------------
def generic(w, eqn, ins, out):
    """``impl(*operands, **params)`` with ``impl`` and each param bound as a
    constant (a param whose name is not a plain identifier goes in a bound
    dict); ``impl``'s global is named after the primitive when its name is
    plain (``_solve_3``)."""
    prim = eqn.primitive
    args = list(ins)
    loose = {}
    for k, v in eqn.params.items():
        if is_name(k):
            args.append(f"{k}={w.bind(v)}")
        else:
            loose[k] = v
    if loose:
        args.append(f"**{w.bind(loose)}")
    kind = FRESH if prim.name in FRESH_IMPLS and PRIMITIVES.get(prim.name) is prim else UNKNOWN
    return f"{w.bind(prim.impl, prim.name)}({', '.join(args)})", kind, "unknown"


_SPECIAL = {
    "integer_pow": emit_integer_pow, "round": emit_round, "stop_gradient": emit_identity,
    "select": emit_select, "convert_element_type": emit_convert,
    "reshape": emit_reshape, "squeeze": emit_reshape, "expand_dims": emit_reshape,
    "transpose": emit_transpose, "broadcast_in_dim": emit_broadcast, "slice": emit_slice,
    "concatenate": emit_concatenate,
    "reduce_sum": reduction_emitter("add", True),
    "reduce_prod": reduction_emitter("multiply", True),
    "reduce_max": reduction_emitter("maximum", False),
    "reduce_min": reduction_emitter("minimum", False),
    "dot_general": emit_dot_general,
}

_EMITTERS: dict = {}


def emitter_for(prim, namespace):
    """The emitter of ``prim``: its own when it is the registered primitive
    of that name, a ufunc call when its ``impl`` is a NumPy ufunc (and the
    namespace has it), else ``generic``."""
    found = _EMITTERS.get(prim)
    if found is None:
        found = generic
        if PRIMITIVES.get(prim.name) is prim:     # (a registered primitive: kept)
            impl = prim.impl
            if prim.name in _SPECIAL:
                found = _SPECIAL[prim.name]
            elif (isinstance(impl, np.ufunc) and is_name(impl.__name__)
                  and impl is getattr(np, impl.__name__, None)):
                found = ufunc_emitter(impl.__name__)
            _EMITTERS[prim] = found
    ufunc = getattr(found, "ufunc", None)
    if ufunc is not None and not hasattr(namespace, ufunc):
        return generic
    return found
