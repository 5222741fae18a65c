"""Elementwise primitives: unary math, binary arithmetic, comparisons,
``select``, ``integer_pow`` and ``convert_element_type``.

Each primitive is one ``unary(...)``/``binary(...)`` line giving its name
and NumPy implementation; its shape rule comes from the helper.  The JVP,
transpose, batch and cost rules of later layers are registered right below
the definition they belong to.
"""
from __future__ import annotations

import numpy as np

from ..tracer.avals import ShapedArray, is_bool, is_float
from ..tracer.errors import ShapeError
from ._define import binary, binary_shape, primitive, unary


def _logistic(x):
    # 1 / (1 + exp(-x)) without overflow: exp(-|x|) never exceeds 1
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)[()]


neg_p = unary("neg", np.negative, float_only=False)
sin_p = unary("sin", np.sin)
cos_p = unary("cos", np.cos)
tan_p = unary("tan", np.tan)
asin_p = unary("asin", np.arcsin)
acos_p = unary("acos", np.arccos)
atan_p = unary("atan", np.arctan)
sinh_p = unary("sinh", np.sinh)
cosh_p = unary("cosh", np.cosh)
tanh_p = unary("tanh", np.tanh)
asinh_p = unary("asinh", np.arcsinh)
acosh_p = unary("acosh", np.arccosh)
atanh_p = unary("atanh", np.arctanh)
exp_p = unary("exp", np.exp)
exp2_p = unary("exp2", np.exp2)
log_p = unary("log", np.log)
log1p_p = unary("log1p", np.log1p)
expm1_p = unary("expm1", np.expm1)
sqrt_p = unary("sqrt", np.sqrt)
cbrt_p = unary("cbrt", np.cbrt)
logistic_p = unary("logistic", _logistic)
abs_p = unary("abs", np.abs, float_only=False)
sign_p = unary("sign", np.sign, float_only=False)
floor_p = unary("floor", np.floor)
ceil_p = unary("ceil", np.ceil)
round_p = unary("round", np.rint)   # round half to even, as np.round
trunc_p = unary("trunc", np.trunc)

add_p = binary("add", np.add)
sub_p = binary("sub", np.subtract)
mul_p = binary("mul", np.multiply)
div_p = binary("div", np.divide, float_only=True)
rem_p = binary("rem", np.remainder)           # NumPy's remainder: sign of the divisor
floor_div_p = binary("floor_div", np.floor_divide)
pow_p = binary("pow", np.power, float_only=True)
max_p = binary("max", np.maximum)
min_p = binary("min", np.minimum)
atan2_p = binary("atan2", np.arctan2, float_only=True)

eq_p = binary("eq", np.equal, out_dtype=np.bool_)
ne_p = binary("ne", np.not_equal, out_dtype=np.bool_)
lt_p = binary("lt", np.less, out_dtype=np.bool_)
le_p = binary("le", np.less_equal, out_dtype=np.bool_)
gt_p = binary("gt", np.greater, out_dtype=np.bool_)
ge_p = binary("ge", np.greater_equal, out_dtype=np.bool_)


def _bool_or_int(name):
    def rule(*avals):
        for a in avals:
            if not (is_bool(a.dtype) or np.issubdtype(a.dtype, np.integer)):
                raise ShapeError(f"{name} needs boolean or integer operands, got {a.str_short()}")
        return avals[0] if len(avals) == 1 else binary_shape(name, *avals)
    return rule


not_p = primitive("not", np.invert, _bool_or_int("not"))
and_p = primitive("and", np.bitwise_and, _bool_or_int("and"))
or_p = primitive("or", np.bitwise_or, _bool_or_int("or"))
xor_p = primitive("xor", np.bitwise_xor, _bool_or_int("xor"))


# integer_pow[y=n]: x ** n for a Python integer n, as repeated multiplication
def _integer_pow_shape(x, *, y):
    if not isinstance(y, int):
        raise ShapeError(f"integer_pow needs an integer exponent, got {y!r}")
    if y < 0 and not is_float(x.dtype):
        raise ShapeError("integers cannot be raised to negative integer powers")
    return x


integer_pow_p = primitive("integer_pow", lambda x, *, y: np.power(x, y, dtype=x.dtype),
                          _integer_pow_shape)


# select(pred, on_true, on_false): NumPy's where with equal shapes
def _select_shape(pred, on_true, on_false):
    if not is_bool(pred.dtype):
        raise ShapeError(f"select needs a boolean predicate, got {pred.str_short()}")
    out = binary_shape("select", on_true, on_false)
    if pred.shape and pred.shape != out.shape:
        raise ShapeError(f"select: predicate shape {pred.shape} differs from the cases' "
                         f"shape {out.shape}")
    if not out.shape and pred.shape:
        out = ShapedArray(pred.shape, out.dtype)
    return out


select_p = primitive("select", lambda p, t, f: np.where(p, t, f), _select_shape)


# convert_element_type[new_dtype=...]
def _convert_shape(x, *, new_dtype):
    return ShapedArray(x.shape, new_dtype)


convert_element_type_p = primitive(
    "convert_element_type", lambda x, *, new_dtype: np.asarray(x).astype(new_dtype)[()],
    _convert_shape)
