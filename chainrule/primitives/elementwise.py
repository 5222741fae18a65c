"""Elementwise primitives: unary math, binary arithmetic (with ``logaddexp``
and ``hypot``, whose derivatives need care), comparisons, ``signbit``,
``select``, ``integer_pow``, ``convert_element_type`` and ``stop_gradient``.

Each primitive is one ``unary(...)``/``binary(...)`` line giving its name
and NumPy implementation; its shape rule comes from the helper.  The JVP,
transpose, batch and cost rules of later layers are registered right below
the definition they belong to.
"""
from __future__ import annotations

import numpy as np

from ..tracer.avals import ShapedArray, is_bool, is_float
from ..tracer.core import bind, get_aval
from ..tracer.errors import ShapeError
from ._ad import LinearInput, Zero, defjvp, deflinear, defzero, scalar
from ._define import (binary, binary_shape, cost_elementwise, cost_free, elementwise, primitive,
                      unary)
from ._ops import (add, cos, cosh, div, exp, mul, neg, reduce_sum, select, sign, sin, sinh, sqrt,
                   square, sub)


def _logistic(x):
    # 1 / (1 + exp(-x)) without overflow: exp(-|x|) never exceeds 1
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)[()]


# the rules below are written with the primitives as functions (``_ops``: mul,
# add, cos, ...) and with the constant 1 of an operand's dtype
def one(x): return scalar(1, x)


def _unbroadcast_scalar(ct, aval):
    """The cotangent of a 0-d operand that a binary primitive broadcast."""
    if aval.shape == () and get_aval(ct).shape != ():
        return reduce_sum(ct, range(get_aval(ct).ndim))
    return ct


# -- unary math: y = f(x), y_dot = f'(x) * x_dot -------------------------------
# Each rule names the derivative; "out" is y, reused where f' is a function of y.
neg_p = unary("neg", np.negative, float_only=False)
deflinear(neg_p, lambda ct, x: [neg(ct)])

sin_p = unary("sin", np.sin)
defjvp(sin_p, lambda t, x, y: mul(t, cos(x)))                    # sin' = cos

cos_p = unary("cos", np.cos)
defjvp(cos_p, lambda t, x, y: neg(mul(t, sin(x))))               # cos' = -sin

tan_p = unary("tan", np.tan)
defjvp(tan_p, lambda t, x, y: mul(t, add(one(y), square(y))))    # tan' = 1 + tan^2

asin_p = unary("asin", np.arcsin)
defjvp(asin_p, lambda t, x, y: div(t, sqrt(sub(one(x), square(x)))))    # 1/sqrt(1-x^2)

acos_p = unary("acos", np.arccos)
defjvp(acos_p, lambda t, x, y: neg(div(t, sqrt(sub(one(x), square(x))))))

atan_p = unary("atan", np.arctan)
defjvp(atan_p, lambda t, x, y: div(t, add(one(x), square(x))))   # 1/(1+x^2)

sinh_p = unary("sinh", np.sinh)
defjvp(sinh_p, lambda t, x, y: mul(t, cosh(x)))

cosh_p = unary("cosh", np.cosh)
defjvp(cosh_p, lambda t, x, y: mul(t, sinh(x)))

tanh_p = unary("tanh", np.tanh)
defjvp(tanh_p, lambda t, x, y: mul(t, sub(one(y), square(y))))   # tanh' = 1 - tanh^2

asinh_p = unary("asinh", np.arcsinh)
defjvp(asinh_p, lambda t, x, y: div(t, sqrt(add(square(x), one(x)))))

acosh_p = unary("acosh", np.arccosh)
defjvp(acosh_p, lambda t, x, y: div(t, mul(sqrt(sub(x, one(x))), sqrt(add(x, one(x))))))

atanh_p = unary("atanh", np.arctanh)
defjvp(atanh_p, lambda t, x, y: div(t, sub(one(x), square(x))))

exp_p = unary("exp", np.exp)
defjvp(exp_p, lambda t, x, y: mul(t, y))                         # exp' = exp

exp2_p = unary("exp2", np.exp2)
defjvp(exp2_p, lambda t, x, y: mul(t, mul(y, scalar(np.log(2), y))))

log_p = unary("log", np.log)
defjvp(log_p, lambda t, x, y: div(t, x))                         # log' = 1/x

log1p_p = unary("log1p", np.log1p)
defjvp(log1p_p, lambda t, x, y: div(t, add(one(x), x)))

expm1_p = unary("expm1", np.expm1)
defjvp(expm1_p, lambda t, x, y: mul(t, add(y, one(y))))

sqrt_p = unary("sqrt", np.sqrt)
defjvp(sqrt_p, lambda t, x, y: div(t, mul(scalar(2, y), y)))     # 1/(2 sqrt x)

cbrt_p = unary("cbrt", np.cbrt)
defjvp(cbrt_p, lambda t, x, y: div(t, mul(scalar(3, y), square(y))))

logistic_p = unary("logistic", _logistic)
defjvp(logistic_p, lambda t, x, y: mul(t, mul(y, sub(one(y), y))))  # s' = s (1 - s)

abs_p = unary("abs", np.abs, float_only=False)
defjvp(abs_p, lambda t, x, y: mul(t, sign(x)))                   # |x|' = sign x (0 at 0)

sign_p = unary("sign", np.sign, float_only=False)
floor_p = unary("floor", np.floor, float_only=False)
ceil_p = unary("ceil", np.ceil, float_only=False)
# round half to even, as np.round; integers are already round
round_p = unary("round", lambda x: np.rint(x) if is_float(x.dtype) else x, float_only=False)
trunc_p = unary("trunc", np.trunc, float_only=False)
for _p in (sign_p, floor_p, ceil_p, round_p, trunc_p):
    defzero(_p)                                        # piecewise constant


# stop_gradient: the identity whose derivative is zero.  Used where a value
# only shifts or scales a computation whose result does not depend on it
# (the max subtracted in logsumexp and softmax), so that no derivative flows
# through it and none is computed.
stop_gradient_p = unary("stop_gradient", lambda x: x, float_only=False, cost=cost_free)
defzero(stop_gradient_p)

# signbit: whether the sign bit is set (True for -0.0 and -nan, unlike x < 0)
signbit_p = elementwise(primitive("signbit", np.signbit,
                                   lambda x: ShapedArray(x.shape, np.bool_),
                                   cost=cost_elementwise))
defzero(signbit_p)


# -- binary arithmetic ---------------------------------------------------------
def _transpose_add(ct, x, y):
    return [_unbroadcast_scalar(ct, x.aval) if type(x) is LinearInput else None,
            _unbroadcast_scalar(ct, y.aval) if type(y) is LinearInput else None]


def _transpose_sub(ct, x, y):
    return [_unbroadcast_scalar(ct, x.aval) if type(x) is LinearInput else None,
            _unbroadcast_scalar(neg(ct), y.aval) if type(y) is LinearInput else None]


add_p = binary("add", np.add)
defjvp(add_p, lambda t, x, y, z: t, lambda t, x, y, z: t)
add_p.transpose = _transpose_add

sub_p = binary("sub", np.subtract)
defjvp(sub_p, lambda t, x, y, z: t, lambda t, x, y, z: neg(t))
sub_p.transpose = _transpose_sub


def _transpose_mul(ct, x, y):
    # z = x * y is linear in one of them: x_bar = z_bar * y (and symmetrically)
    if type(x) is LinearInput:
        return [_unbroadcast_scalar(mul(ct, y), x.aval), None]
    return [None, _unbroadcast_scalar(mul(x, ct), y.aval)]


mul_p = binary("mul", np.multiply)
defjvp(mul_p, lambda t, x, y, z: mul(t, y), lambda t, x, y, z: mul(x, t))
mul_p.transpose = _transpose_mul


def _transpose_div(ct, x, y):
    # z = x / y is linear in x only: x_bar = z_bar / y
    assert type(y) is not LinearInput, "div is not linear in its denominator"
    return [_unbroadcast_scalar(div(ct, y), x.aval), None]


div_p = binary("div", np.divide, float_only=True)
defjvp(div_p, lambda t, x, y, z: div(t, y),                       # d(x/y) = dx/y - z dy/y
       lambda t, x, y, z: neg(mul(t, div(z, y))))
div_p.transpose = _transpose_div

rem_p = binary("rem", np.remainder)           # NumPy's remainder: sign of the divisor
# x mod y = x - floor(x / y) y: d/dx = 1, d/dy = -floor(x / y).  floor(x / y)
# is read off the result as (x - z) / y, an integer up to rounding, so it is
# rounded to the nearest integer: its floor would be one less wherever the
# rounding falls below the integer (about 3 % of random points).
defjvp(rem_p, lambda t, x, y, z: t,
       lambda t, x, y, z: neg(mul(t, bind(round_p, div(sub(x, z), y)))))

floor_div_p = binary("floor_div", np.floor_divide)
defzero(floor_div_p)


def _pow_dx(t, x, y, z):
    # d(x^y)/dx = y x^(y-1); written y * z / x but safe at x = 0
    return mul(t, mul(y, bind(pow_p, x, sub(y, one(y)))))


def _pow_dy(t, x, y, z):
    # d(x^y)/dy = log(x) x^y, taken as 0 where x = 0 (the limit for y > 0)
    is_zero = bind(eq_p, x, scalar(0, x))
    safe_x = select(is_zero, instantiate_like(one(x), x), x)
    return mul(t, select(is_zero, instantiate_like(scalar(0, z), z), mul(bind(log_p, safe_x), z)))


def instantiate_like(c, like):
    """A scalar constant broadcast to ``like``'s shape (for select's operands)."""
    shape = get_aval(like).shape
    return np.full(shape, c, get_aval(like).dtype) if shape else c


pow_p = binary("pow", np.power)
defjvp(pow_p, _pow_dx, _pow_dy)

max_p = binary("max", np.maximum)
min_p = binary("min", np.minimum)


def _extremum_partial(which):
    # the tangent of the chosen operand passes; at ties each gets half
    def partial(t, x, y, z):
        mine, other = (x, y) if which == 0 else (y, x)
        weight = select(bind(eq_p, mine, z),
                        select(bind(eq_p, other, z), instantiate_like(scalar(0.5, z), z),
                               instantiate_like(one(z), z)),
                        instantiate_like(scalar(0, z), z))
        return mul(t, weight)
    return partial


defjvp(max_p, _extremum_partial(0), _extremum_partial(1))
defjvp(min_p, _extremum_partial(0), _extremum_partial(1))

logaddexp_p = binary("logaddexp", np.logaddexp, float_only=True)
# z = log(e^x + e^y): dz = e^(x - z) dx + e^(y - z) dy.  Both factors lie in
# [0, 1] (x, y <= z), so the rule cannot overflow at |x| = 1000, and it is
# smooth at x = y (each factor 1/2), to any order.  NumPy's implementation
# gives the value, exact at infinities (logaddexp(inf, inf) = inf).
defjvp(logaddexp_p, lambda t, x, y, z: mul(t, exp(sub(x, z))),
       lambda t, x, y, z: mul(t, exp(sub(y, z))))

hypot_p = binary("hypot", np.hypot, float_only=True)


def _hypot_partial(t, mine, h):
    # d sqrt(x^2 + y^2) = (x dx + y dy) / h.  At the origin (h = 0) the
    # numerator is 0 too, and the derivative is taken as 0, as JAX's hypot
    # gives there: h is replaced by 1 where it is 0.
    safe_h = select(bind(eq_p, h, scalar(0, h)), instantiate_like(one(h), h), h)
    return mul(t, div(mine, safe_h))


defjvp(hypot_p, lambda t, x, y, h: _hypot_partial(t, x, h),
       lambda t, x, y, h: _hypot_partial(t, y, h))

atan2_p = binary("atan2", np.arctan2, float_only=True)
# atan2(y, x): d = (x dy - y dx) / (x^2 + y^2)
defjvp(atan2_p, lambda t, y, x, z: div(mul(t, x), add(square(x), square(y))),
       lambda t, y, x, z: neg(div(mul(t, y), add(square(x), square(y)))))

eq_p = binary("eq", np.equal, out_dtype=np.bool_)
ne_p = binary("ne", np.not_equal, out_dtype=np.bool_)
lt_p = binary("lt", np.less, out_dtype=np.bool_)
le_p = binary("le", np.less_equal, out_dtype=np.bool_)
gt_p = binary("gt", np.greater, out_dtype=np.bool_)
ge_p = binary("ge", np.greater_equal, out_dtype=np.bool_)
for _p in (eq_p, ne_p, lt_p, le_p, gt_p, ge_p):
    defzero(_p)


def _bool_or_int(name):
    def rule(*avals):
        for a in avals:
            if not (is_bool(a.dtype) or np.issubdtype(a.dtype, np.integer)):
                raise ShapeError(f"{name} needs boolean or integer operands, got {a.str_short()}")
        return avals[0] if len(avals) == 1 else binary_shape(name, *avals)
    return rule


not_p = elementwise(primitive("not", np.invert, _bool_or_int("not"), cost=cost_elementwise))
and_p = elementwise(primitive("and", np.bitwise_and, _bool_or_int("and"), cost=cost_elementwise))
or_p = elementwise(primitive("or", np.bitwise_or, _bool_or_int("or"), cost=cost_elementwise))
xor_p = elementwise(primitive("xor", np.bitwise_xor, _bool_or_int("xor"), cost=cost_elementwise))
for _p in (not_p, and_p, or_p, xor_p):
    defzero(_p)


# integer_pow[y=n]: x ** n for a Python integer n, as repeated multiplication
def _integer_pow_shape(x, *, y):
    if not isinstance(y, int):
        raise ShapeError(f"integer_pow needs an integer exponent, got {y!r}")
    if y < 0 and not is_float(x.dtype):
        raise ShapeError("integers cannot be raised to negative integer powers")
    return x


integer_pow_p = elementwise(primitive(
    "integer_pow", lambda x, *, y: np.power(x, y, dtype=x.dtype), _integer_pow_shape,
    cost=cost_elementwise))


def _integer_pow_jvp(t, x, out, *, y):
    # d(x^n) = n x^(n-1) dx
    if y == 0:
        return mul(t, scalar(0, x))
    if y == 1:
        return t
    return mul(t, mul(scalar(y, x), x if y == 2 else bind(integer_pow_p, x, y=y - 1)))


defjvp(integer_pow_p, _integer_pow_jvp)


# select(pred, on_true, on_false): NumPy's where with equal shapes
def _select_shape(pred, on_true, on_false):
    if not is_bool(pred.dtype):
        raise ShapeError(f"select needs a boolean predicate, got {pred.str_short()}")
    out = binary_shape("select", on_true, on_false)
    if pred.shape and out.shape and pred.shape != out.shape:
        raise ShapeError(f"select: predicate shape {pred.shape} differs from the cases' "
                         f"shape {out.shape}")
    return ShapedArray(pred.shape or out.shape, out.dtype)


select_p = elementwise(primitive("select", lambda p, t, f: np.where(p, t, f)[()],
                                  _select_shape, cost=cost_elementwise))


def _select_jvp(primals, tangents, out, **params):
    pred, _, _ = primals
    _, t_true, t_false = tangents
    if type(t_true) is Zero and type(t_false) is Zero:
        return Zero(get_aval(out))
    return select(pred, _full(t_true, out), _full(t_false, out))


def _full(t, out):
    """A case tangent at the output's shape (a zero or a scalar literal's)."""
    aval = get_aval(out)
    if type(t) is Zero:
        return np.zeros(aval.shape, aval.dtype) if aval.shape else np.zeros((), aval.dtype)[()]
    return t


def _select_transpose(ct, pred, on_true, on_false):
    # each linear case gets the cotangent where it was chosen, zero elsewhere
    assert type(pred) is not LinearInput
    zero = np.zeros(get_aval(ct).shape, get_aval(ct).dtype)
    return [None,
            _unbroadcast_scalar(select(pred, ct, zero), on_true.aval)
            if type(on_true) is LinearInput else None,
            _unbroadcast_scalar(select(pred, zero, ct), on_false.aval)
            if type(on_false) is LinearInput else None]


select_p.jvp = _select_jvp
select_p.transpose = _select_transpose


# convert_element_type[new_dtype=...]
def _convert_shape(x, *, new_dtype):
    return ShapedArray(x.shape, new_dtype)


convert_element_type_p = elementwise(primitive(
    "convert_element_type", lambda x, *, new_dtype: np.asarray(x).astype(new_dtype)[()],
    _convert_shape, cost=cost_elementwise))


def _convert_jvp(primals, tangents, out, *, new_dtype):
    # linear between floating dtypes; an integer result has no tangent
    (t,) = tangents
    if not is_float(new_dtype) or type(t) is Zero:
        return Zero(get_aval(out))
    return bind(convert_element_type_p, t, new_dtype=new_dtype)


def _convert_transpose(ct, x, *, new_dtype):
    return [bind(convert_element_type_p, ct, new_dtype=x.aval.dtype)]


convert_element_type_p.jvp = _convert_jvp
convert_element_type_p.transpose = _convert_transpose
