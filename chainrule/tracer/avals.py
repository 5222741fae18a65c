"""Abstract values: what a traced value is known to be without its numbers.

An abstract value ("aval") is a shape and a dtype.  Every IR variable carries
one, every primitive's shape rule maps input avals to output avals, and the
printer shows them as ``f64[3,4]``.  dtypes are NumPy dtypes and promote the
NumPy way (NEP 50: Python scalars are weak, NumPy arrays and scalars are not).

Tracing makes an aval, a literal or a constant for every equation, and they
never change once made, so they are shared instead of made again: one aval
per (shape, dtype, weak), the answer of a shape rule per primitive and
operand avals, one NumPy scalar per Python number and dtype, one literal per
scalar (``atoms.py``).  A chain of a thousand elementwise operations meets
one or two of each.  Every table is bounded and emptied by ``cr.clear_caches``.
"""
from __future__ import annotations

import numpy as np

_SHORT_NAMES = {
    np.dtype(np.float64): "f64", np.dtype(np.float32): "f32", np.dtype(np.float16): "f16",
    np.dtype(np.int64): "i64", np.dtype(np.int32): "i32", np.dtype(np.int16): "i16",
    np.dtype(np.int8): "i8", np.dtype(np.uint64): "u64", np.dtype(np.uint32): "u32",
    np.dtype(np.uint16): "u16", np.dtype(np.uint8): "u8", np.dtype(np.bool_): "bool",
    np.dtype(np.complex128): "c128", np.dtype(np.complex64): "c64",
}


# The dtype of the tangent of an integer or boolean value (JAX's name): such a
# value has no derivative, and a float0 array holds no numbers, only a shape.
float0 = np.dtype([("float0", np.void, 0)])


def short_dtype(dtype) -> str:
    """``float64`` -> ``f64``, as the IR text writes dtypes."""
    dtype = np.dtype(dtype)
    return _SHORT_NAMES.get(dtype) or dtype.name   # (dtype.name is slow to compute)


class ShapedArray:
    """The abstract value of an array: its shape (a tuple of ints) and dtype.

    ``weak_type`` marks a value that came from a Python scalar (an argument
    ``2.0`` rather than ``np.float64(2.0)``).  As in NumPy (NEP 50) such a
    value does not widen an array's dtype in arithmetic: ``x32 * s`` stays
    float32.  It is a promotion hint only, not part of the type, so it does
    not take part in ``==``.
    """

    __slots__ = ("shape", "dtype", "weak_type")

    def __init__(self, shape, dtype, weak_type=False):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.weak_type = weak_type

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def __eq__(self, other):
        return (type(other) is ShapedArray and self.shape == other.shape
                and self.dtype == other.dtype)

    def __hash__(self):
        return hash((self.shape, self.dtype))

    def str_short(self) -> str:
        return f"{short_dtype(self.dtype)}[{','.join(map(str, self.shape))}]"

    __str__ = str_short

    def __repr__(self):
        return f"ShapedArray({self.str_short()})"


# Abstract values are never changed once made (a weak one is a new one), so
# those of concrete values are shared: (shape, dtype) -> ShapedArray, and
# (shape, dtype, True) -> its weak twin.  Sharing them keeps an aval's id
# meaningful as a key (``SHAPE_RULE_ANSWERS`` below).  Bounded: emptied when
# full (a program meets few shapes; a flood of them just refills).
_SHARED_AVALS: dict = {}
_SHARED_AVALS_MAX = 4096


# the type of a NumPy scalar (or a Python float, bool or complex) -> its
# shared aval: the dtype of these types is the type's own
_SCALAR_AVALS: dict = {}
_SCALAR_TYPES = frozenset([float, bool, complex, np.float64, np.float32, np.float16,
                           np.int64, np.int32, np.int16, np.int8, np.uint64, np.uint32,
                           np.uint16, np.uint8, np.bool_, np.complex128, np.complex64])


def clear_shared_avals() -> None:
    """Empty the shared abstract values, the shape rules' answers and the
    shared literals (``cr.clear_caches``)."""
    _SHARED_AVALS.clear()
    _SCALAR_AVALS.clear()
    SHAPE_RULE_ANSWERS.clear()
    SHARED_LITERALS.clear()
    SHARED_SCALARS.clear()


def _shared(key) -> "ShapedArray":
    aval = _SHARED_AVALS.get(key)
    if aval is None:
        if len(_SHARED_AVALS) >= _SHARED_AVALS_MAX:
            _SHARED_AVALS.clear()
            _SCALAR_AVALS.clear()
        aval = _SHARED_AVALS[key] = ShapedArray(*key)
    return aval


def aval_of_value(x) -> ShapedArray:
    """The abstract value of a concrete NumPy array, NumPy scalar or Python number."""
    aval = _SCALAR_AVALS.get(type(x))   # (a scalar: found by its type alone)
    if aval is not None:
        return aval
    if isinstance(x, (np.ndarray, np.generic)):
        key = (x.shape, x.dtype)
    else:
        key = ((), np.asarray(x).dtype)
    aval = _SHARED_AVALS.get(key)
    if aval is None:
        aval = _shared(key)
    if type(x) in _SCALAR_TYPES:
        _SCALAR_AVALS[type(x)] = aval
    return aval


def shared_aval(aval: ShapedArray) -> ShapedArray:
    """The shared aval equal to ``aval`` (weak or not): shape rules' answers
    are made shared, so a chain of equations meets the same few avals."""
    key = (aval.shape, aval.dtype, True) if aval.weak_type else (aval.shape, aval.dtype)
    shared = _SHARED_AVALS.get(key)
    if shared is None:
        if len(_SHARED_AVALS) >= _SHARED_AVALS_MAX:
            _SHARED_AVALS.clear()
        shared = _SHARED_AVALS[key] = aval
    return shared


def weak_aval(aval: ShapedArray) -> ShapedArray:
    """``aval`` marked weak (the value came from Python numbers), shared."""
    if aval.weak_type:
        return aval
    key = (aval.shape, aval.dtype, True)
    weak = _SHARED_AVALS.get(key)
    return weak if weak is not None else _shared(key)


def _kind(dtype) -> str:
    kind = getattr(dtype, "kind", None)   # a dtype already (the common case: fast)
    return kind if isinstance(kind, str) else np.dtype(dtype).kind


def is_float(dtype) -> bool:
    return _kind(dtype) in "fc"


def is_integer(dtype) -> bool:
    return _kind(dtype) in "iu"


def is_bool(dtype) -> bool:
    return _kind(dtype) == "b"


# The answers of shape rules: (shape rule, id of each operand aval) -> (output
# aval(s), operand avals), for primitives without params on one or two operands
# (``core.infer_avals``).  The operand avals are kept with the answer, so the
# ids of the key stay theirs.  Bounded like the shared avals.
SHAPE_RULE_ANSWERS: dict = {}
SHAPE_RULE_ANSWERS_MAX = 4096

# Literals and the NumPy scalars of Python numbers, shared (``atoms.py``):
# (type, value) and id(NumPy scalar) -> Literal; (type, value, dtype) -> NumPy
# scalar.  Neither is ever changed once made.  Bounded like the above.
SHARED_LITERALS: dict = {}
SHARED_SCALARS: dict = {}
_SHARED_SCALARS_MAX = 4096


def shared_scalar(x, dtype):
    """The Python number ``x`` as a NumPy scalar of ``dtype``: one shared
    object per (type, value, dtype), so that its literal is shared too (see
    ``atoms.literal_or_none``; not for a NaN or a floating zero)."""
    key = (type(x), x, dtype)
    s = SHARED_SCALARS.get(key)
    if s is None:
        s = np.asarray(x, dtype)[()]
        if x == x and (x != 0 or type(x) is int or type(x) is bool):
            if len(SHARED_SCALARS) >= _SHARED_SCALARS_MAX:
                SHARED_SCALARS.clear()
            SHARED_SCALARS[key] = s
    return s
