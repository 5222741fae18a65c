"""NumPy's elementwise functions (ufuncs) over chainrule's primitives.

Each function resolves its dtypes the way NumPy does, casts and broadcasts
its operands explicitly (``_util.elementwise_operands``) and binds one
primitive; a few (``log2``, ``square``, ``heaviside``, ...) are short
compositions of primitives, so they need no rules of their own.
"""
from __future__ import annotations

import numpy as np

from .. import primitives as P
from ..tracer.core import Tracer, bind
from ..tracer.source import user_source_info, where as at_user_line  # (numpy.where is below)
from ._util import cast, dtype_of, elementwise_operands, loop_dtypes, mark_weak, unsupported

UFUNCS = {}  # numpy ufunc -> chainrule function, for __array_ufunc__
# numpy ufunc -> (primitive, name) of those that are one primitive applied by
# ``_apply``: __array_ufunc__ and Tracer's operators call ``_apply`` directly
# (one Python call less per traced operation)
DIRECT = {}


def _check_kwargs(name, kwargs):
    extra = {k: v for k, v in kwargs.items() if k not in ("dtype", "casting", "order", "subok")
             and not (k == "where" and v is True)}
    if extra:
        unsupported(name, **{k: (v if v is not None else "given") for k, v in extra.items()})


def _apply(ufunc, prim, args, kwargs, name):
    """``ufunc(*args, **kwargs)`` as ``prim``: NumPy's dtypes, explicit
    broadcasting, weak types (``kwargs`` None: none given)."""
    if kwargs:
        _check_kwargs(name, kwargs)
    dtypes = loop_dtypes(ufunc, args, name)
    ops = elementwise_operands(name, args, dtypes[:-1])
    out = mark_weak(bind(prim, *ops), args)
    if kwargs and kwargs.get("dtype") is not None:
        out = cast(out, kwargs["dtype"])
    return out


def _unary(name, np_ufunc, prim, note=""):
    """``note``: the derivative chosen where it is not unique (JAX's choice),
    for the docstring."""
    def fn(x, /, **kwargs):
        return _apply(np_ufunc, prim, (x,), kwargs, name)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"numpy.{name}, traced as the ``{prim.name}`` primitive.{note}"
    UFUNCS[np_ufunc] = fn
    DIRECT[np_ufunc] = (prim, name)
    return fn


def _binary(name, np_ufunc, prim, note=""):
    def fn(x1, x2, /, **kwargs):
        return _apply(np_ufunc, prim, (x1, x2), kwargs, name)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"numpy.{name}, traced as the ``{prim.name}`` primitive.{note}"
    UFUNCS[np_ufunc] = fn
    DIRECT[np_ufunc] = (prim, name)
    return fn


def _operator_methods(np_ufunc):
    """Tracer's ``__op__`` and ``__rop__`` for a binary ufunc of ``DIRECT``."""
    prim, name = DIRECT[np_ufunc]
    return ((lambda self, other: _apply(np_ufunc, prim, (self, other), None, name)),
            (lambda self, other: _apply(np_ufunc, prim, (other, self), None, name)))


def _logical(name, np_ufunc, prim):
    """numpy.logical_*: NumPy takes the truth value of operands of any dtype,
    so they are cast to bool first and ``prim`` (bitwise) sees only booleans.
    Bound to integers directly it would be bitwise: ``logical_and(1, 2)``
    would be 0, not True."""
    def fn(*args, **kwargs):
        if len(args) != np_ufunc.nin:
            raise TypeError(f"numpy.{name} takes {np_ufunc.nin} positional arguments, "
                            f"got {len(args)}")
        _check_kwargs(name, kwargs)
        loop_dtypes(np_ufunc, args, name)  # NumPy's error for dtypes it has no loop for
        out = bind(prim, *elementwise_operands(name, args, [np.dtype(np.bool_)] * len(args)))
        return out if kwargs.get("dtype") is None else cast(out, kwargs["dtype"])
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"numpy.{name}: the operands' truth values, combined by ``{prim.name}``."
    UFUNCS[np_ufunc] = fn
    return fn


def _composite(np_ufunc):
    def register(fn):
        UFUNCS[np_ufunc] = fn
        return fn
    return register


negative = _unary("negative", np.negative, P.neg_p)
sin = _unary("sin", np.sin, P.sin_p)
cos = _unary("cos", np.cos, P.cos_p)
tan = _unary("tan", np.tan, P.tan_p)
arcsin = _unary("arcsin", np.arcsin, P.asin_p)
arccos = _unary("arccos", np.arccos, P.acos_p)
arctan = _unary("arctan", np.arctan, P.atan_p)
sinh = _unary("sinh", np.sinh, P.sinh_p)
cosh = _unary("cosh", np.cosh, P.cosh_p)
tanh = _unary("tanh", np.tanh, P.tanh_p)
arcsinh = _unary("arcsinh", np.arcsinh, P.asinh_p)
arccosh = _unary("arccosh", np.arccosh, P.acosh_p)
arctanh = _unary("arctanh", np.arctanh, P.atanh_p)
exp = _unary("exp", np.exp, P.exp_p)
exp2 = _unary("exp2", np.exp2, P.exp2_p)
log = _unary("log", np.log, P.log_p)
log1p = _unary("log1p", np.log1p, P.log1p_p)
expm1 = _unary("expm1", np.expm1, P.expm1_p)
sqrt = _unary("sqrt", np.sqrt, P.sqrt_p,
              "  Its derivative 1 / (2 sqrt x) is +inf at 0, as in JAX.")
cbrt = _unary("cbrt", np.cbrt, P.cbrt_p)
_ABS_AT_0 = "  Derivative sign(x): 0 at x = 0 (a subgradient; JAX's choice)."
absolute = _unary("absolute", np.absolute, P.abs_p, _ABS_AT_0)
abs = absolute  # noqa: A001  (numpy.abs is numpy.absolute)
fabs = _unary("fabs", np.fabs, P.abs_p, _ABS_AT_0)  # integers become float64
sign = _unary("sign", np.sign, P.sign_p)
signbit = _unary("signbit", np.signbit, P.signbit_p)
floor = _unary("floor", np.floor, P.floor_p)
ceil = _unary("ceil", np.ceil, P.ceil_p)
rint = _unary("rint", np.rint, P.round_p)
trunc = _unary("trunc", np.trunc, P.trunc_p)
logical_not = _logical("logical_not", np.logical_not, P.not_p)
invert = _unary("invert", np.invert, P.not_p)

add = _binary("add", np.add, P.add_p)
subtract = _binary("subtract", np.subtract, P.sub_p)
multiply = _binary("multiply", np.multiply, P.mul_p)
divide = _binary("divide", np.divide, P.div_p)
true_divide = divide
floor_divide = _binary("floor_divide", np.floor_divide, P.floor_div_p)
remainder = _binary("remainder", np.remainder, P.rem_p)
mod = remainder
_TIES = ("  NaN propagates.  Where x1 == x2 each operand gets half the derivative "
         "(JAX's choice): maximum(x, 0) has slope 1/2 at 0.")
maximum = _binary("maximum", np.maximum, P.max_p, _TIES)
minimum = _binary("minimum", np.minimum, P.min_p, _TIES)
arctan2 = _binary("arctan2", np.arctan2, P.atan2_p)
# primitives of their own: NumPy's values (exact at infinities) and
# derivatives that are smooth where the functions are (see their rules)
hypot = _binary("hypot", np.hypot, P.hypot_p,
                "  Derivative (x1, x2) / hypot; 0 at the origin (JAX's value there).")
logaddexp = _binary("logaddexp", np.logaddexp, P.logaddexp_p,
                    "  Derivative exp(x - logaddexp) per operand: stable, 1/2 each at ties.")
equal = _binary("equal", np.equal, P.eq_p)
not_equal = _binary("not_equal", np.not_equal, P.ne_p)
less = _binary("less", np.less, P.lt_p)
less_equal = _binary("less_equal", np.less_equal, P.le_p)
greater = _binary("greater", np.greater, P.gt_p)
greater_equal = _binary("greater_equal", np.greater_equal, P.ge_p)
logical_and = _logical("logical_and", np.logical_and, P.and_p)
logical_or = _logical("logical_or", np.logical_or, P.or_p)
logical_xor = _logical("logical_xor", np.logical_xor, P.xor_p)
bitwise_and = _binary("bitwise_and", np.bitwise_and, P.and_p)
bitwise_or = _binary("bitwise_or", np.bitwise_or, P.or_p)
bitwise_xor = _binary("bitwise_xor", np.bitwise_xor, P.xor_p)


def _exact_int(y):
    """``y`` as a Python int if it is an integer-valued scalar constant."""
    if isinstance(y, bool):
        return None
    if isinstance(y, (int, np.integer)):
        return int(y)
    if isinstance(y, (float, np.floating)) and float(y).is_integer() and abs(y) <= 2 ** 31:
        return int(y)
    return None


@_composite(np.power)
def power(x1, x2, /, **kwargs):
    """numpy.power; a constant integer exponent becomes ``integer_pow[y=n]``
    (``x ** 2`` is a multiplication, not a logarithm and an exponential)."""
    n = _exact_int(x2) if not hasattr(x2, "shape") or x2.shape == () else None
    if n is not None and not kwargs and not isinstance(x2, np.ndarray):
        dtypes = loop_dtypes(np.power, (x1, x2))
        (base,) = elementwise_operands("power", (x1,), dtypes[:1])
        if n < 0 and np.issubdtype(base.dtype, np.integer):
            raise ValueError("Integers to negative integer powers are not allowed.")
        return bind(P.integer_pow_p, base, y=n)
    return _apply(np.power, P.pow_p, (x1, x2), kwargs, "power")



@_composite(np.square)
def square(x, /):
    """numpy.square: ``integer_pow[y=2]``."""
    dtypes = loop_dtypes(np.square, (x,))
    (x,) = elementwise_operands("square", (x,), dtypes[:1])
    return bind(P.integer_pow_p, x, y=2)


@_composite(np.reciprocal)
def reciprocal(x, /):
    """numpy.reciprocal: ``1 / x`` (floating point)."""
    dtypes = loop_dtypes(np.reciprocal, (x,))
    (x,) = elementwise_operands("reciprocal", (x,), dtypes[:1])
    if not np.issubdtype(x.dtype, np.inexact):
        raise NotImplementedError("numpy.reciprocal of integers (which truncates) is not "
                                  "supported by chainrule; use 1.0 / x")
    return divide(np.asarray(1, x.dtype)[()], x)


@_composite(np.positive)
def positive(x, /):
    return x


@_composite(np.log2)
def log2(x, /):
    """numpy.log2: ``log(x) / log(2)``."""
    y = log(x)
    return divide(y, np.log(np.asarray(2, y.dtype))[()])


@_composite(np.log10)
def log10(x, /):
    """numpy.log10: ``log(x) / log(10)``."""
    y = log(x)
    return divide(y, np.log(np.asarray(10, y.dtype))[()])


@_composite(np.deg2rad)
def deg2rad(x, /):
    y = multiply(x, np.pi / 180)
    return y


radians = _composite(np.radians)(deg2rad)  # np.radians is its own ufunc object


@_composite(np.rad2deg)
def rad2deg(x, /):
    return multiply(x, 180 / np.pi)


degrees = _composite(np.degrees)(rad2deg)  # np.degrees is its own ufunc object


@_composite(np.float_power)
def float_power(x1, x2, /):
    """numpy.float_power: ``power`` computed in float64 (NumPy's loop dtype),
    whatever the operands' dtypes."""
    dtypes = loop_dtypes(np.float_power, (x1, x2))
    return power(cast(x1, dtypes[0]), cast(x2, dtypes[1]))


@_composite(np.logaddexp2)
def logaddexp2(x1, x2, /):
    """numpy.logaddexp2: ``log2(2**x1 + 2**x2) = logaddexp(x1 ln2, x2 ln2) / ln2``."""
    dtypes = loop_dtypes(np.logaddexp2, (x1, x2))
    x1, x2 = elementwise_operands("logaddexp2", (x1, x2), dtypes[:2])
    ln2 = np.log(np.asarray(2, dtypes[2]))[()]
    return divide(logaddexp(multiply(x1, ln2), multiply(x2, ln2)), ln2)


def _may_be_nan(x):
    """False for a constant without NaNs (no NaN test is needed for it)."""
    return isinstance(x, Tracer) or bool(np.any(np.isnan(x)))


def _nan_ignoring(name, np_ufunc, pick):
    def fn(x1, x2, /):
        dtypes = loop_dtypes(np_ufunc, (x1, x2))
        x1, x2 = elementwise_operands(name, (x1, x2), dtypes[:2])
        out = pick(x1, x2)
        if np.issubdtype(dtypes[2], np.inexact):
            # NaN only where both are NaN: where one is, take the other
            if _may_be_nan(x1):
                out = where(isnan(x1), x2, out)
            if _may_be_nan(x2):
                out = where(isnan(x2), x1, out)
        return out
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"numpy.{name}: ``{pick.__name__}`` that ignores a NaN operand.  Where "
                  f"neither is NaN it is ``{pick.__name__}``, ties included (the derivative "
                  "splits evenly); where one is, the other one and its derivative.")
    UFUNCS[np_ufunc] = fn
    return fn


fmax = _nan_ignoring("fmax", np.fmax, maximum)
fmin = _nan_ignoring("fmin", np.fmin, minimum)


@_composite(np.heaviside)
def heaviside(x1, x2, /):
    """numpy.heaviside: 0 where x1 < 0, ``x2`` where x1 == 0, 1 where x1 > 0
    (NaN for NaN), as ``where(x1 == 0, x2, (sign(x1) + 1) / 2)``.  The
    derivative in x1 is zero (a step); in x2 it is 1 where x1 == 0."""
    dtypes = loop_dtypes(np.heaviside, (x1, x2))
    x1, x2 = elementwise_operands("heaviside", (x1, x2), dtypes[:2])
    return where(equal(x1, 0), x2, multiply(add(sign(x1), 1), 0.5))


@_composite(np.copysign)
def copysign(x1, x2, /):
    """numpy.copysign: ``|x1|`` with the sign bit of ``x2``, as
    ``where(signbit(x2), -|x1|, |x1|)``: derivative ``+-sign(x1)`` in x1 (0 at
    x1 = 0, as abs), zero in x2."""
    dtypes = loop_dtypes(np.copysign, (x1, x2))
    x1, x2 = elementwise_operands("copysign", (x1, x2), dtypes[:2])
    magnitude = absolute(x1)
    return where(signbit(x2), negative(magnitude), magnitude)


@_composite(np.isnan)
def isnan(x, /):
    """numpy.isnan: ``x != x`` (only NaN differs from itself)."""
    return not_equal(x, x)


@_composite(np.isinf)
def isinf(x, /):
    """numpy.isinf: ``|x| == inf`` (never, for integers and booleans)."""
    if not np.issubdtype(dtype_of(x), np.inexact):
        return not_equal(x, x)
    return equal(absolute(x), np.inf)


@_composite(np.isfinite)
def isfinite(x, /):
    """numpy.isfinite: ``|x| < inf`` (False for NaN; always, for integers)."""
    if not np.issubdtype(dtype_of(x), np.inexact):
        return equal(x, x)
    return less(absolute(x), np.inf)


@_composite(np.conjugate)
def conjugate(x, /):
    """numpy.conjugate of a real array: the array itself."""
    return _real_only("conjugate", x)


conj = conjugate


def _real_only(name, x):
    if np.issubdtype(dtype_of(x), np.complexfloating):
        raise NotImplementedError(f"numpy.{name} of complex arrays is not supported by "
                                  f"chainrule yet: it takes real arrays only"
                                  f"{at_user_line(user_source_info())}")
    return x


@_composite(np.divmod)
def divmod(x1, x2, /):  # noqa: A001
    """numpy.divmod: ``(floor_divide(x1, x2), remainder(x1, x2))``."""
    return floor_divide(x1, x2), remainder(x1, x2)


def where(condition, x=None, y=None, /):
    """numpy.where(condition, x, y), traced as ``select``.  The one-argument
    form (``nonzero``) has a data-dependent shape and is not traceable."""
    if x is None and y is None:
        raise NotImplementedError("numpy.where(condition) with one argument returns a "
                                  "data-dependent number of indices and cannot be traced; "
                                  "use numpy.where(condition, x, y)")
    from ._util import broadcast_shapes, broadcast_to_shape, cast, is_scalar_constant, shape_of
    dtype = np.result_type(*[a.dtype if hasattr(a, "dtype") else a for a in (x, y)])
    shape = broadcast_shapes("where", shape_of(condition), shape_of(x), shape_of(y))
    ops = [cast(condition, np.bool_), cast(x, dtype), cast(y, dtype)]
    ops = [o if is_scalar_constant(o) else broadcast_to_shape(o, shape) for o in ops]
    if all(is_scalar_constant(o) for o in ops[1:]) and shape:
        ops[1] = broadcast_to_shape(ops[1], shape)
    return bind(P.select_p, *ops)


def clip(a, a_min=None, a_max=None, /, **kwargs):
    """numpy.clip: ``minimum(maximum(a, a_min), a_max)``.  At a bound (a ==
    a_min or a == a_max) ``a`` gets half the derivative and the bound the
    other half, as with ``maximum``/``minimum`` ties (JAX's ``clip`` does the
    same); strictly inside, 1; outside, 0."""
    a_min = kwargs.pop("min", a_min)
    a_max = kwargs.pop("max", a_max)
    if kwargs:
        unsupported("clip", **kwargs)
    out = a
    if a_min is not None:
        out = maximum(out, a_min)
    if a_max is not None:
        out = minimum(out, a_max)
    return out


__all__ = sorted(name for name, value in list(globals().items())
                 if not name.startswith("_") and callable(value)
                 and getattr(value, "__module__", None) == __name__)
__all__ += ["abs", "true_divide", "mod", "radians", "degrees"]
