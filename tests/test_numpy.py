"""``chainrule.numpy`` against NumPy, and plain NumPy code traced.

Each row of the table is one function ``fn(m, *args)`` written against a
module ``m`` (or with operators and methods, which need none) and its
argument arrays.  With ``m = numpy`` called on the arrays it is the
reference; with ``m = chainrule.numpy`` it is what chainrule traces.  For
each row:

1. ``make_ir(fn with chainrule.numpy)(*args).eval(*args)`` equals the
   reference in value, shape and dtype;
2. the IR passes ``check()``;
3. the same function with plain ``numpy`` traces to the very same IR text
   (``__array_ufunc__`` / ``__array_function__`` / operators reach the same
   chainrule functions).
"""
from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from test_numpy_everyday import COVERAGE_ROWS as EVERYDAY_ROWS

rng = np.random.default_rng(1)


def f64(*shape, lo=-2.0, hi=2.0):
    return np.asarray(rng.uniform(lo, hi, shape), np.float64)


def f32(*shape, lo=-2.0, hi=2.0):
    return f64(*shape, lo=lo, hi=hi).astype(np.float32)


def i64(*shape, lo=-4, hi=5):
    return np.asarray(rng.integers(lo, hi, shape), np.int64)


def bools(*shape):
    return np.asarray(rng.integers(0, 2, shape), np.bool_)


def with_module(fn, m):
    """``fn`` with its module argument bound (a plain function, so make_ir
    sees the usual positional signature)."""
    def bound(*args):
        return fn(m, *args)
    return bound


ROWS = []


def row(id, fn, *args):
    ROWS.append(pytest.param(fn, args, id=id))


# -- ufuncs -------------------------------------------------------------------
def anyf(*s):
    return f64(*s)


def unit(*s):
    return f64(*s, lo=-0.9, hi=0.9)


def pos(*s):
    return f64(*s, lo=0.1, hi=5.0)


def ge1(*s):
    return f64(*s, lo=1.0, hi=4.0)


def gtm1(*s):
    return f64(*s, lo=-0.9, hi=5.0)


def nonzero(*s):
    return f64(*s, lo=0.2, hi=2.0) * np.where(bools(*s), 1, -1)


# name -> (float operand maker, integer operands valid in its domain or None)
UNARY = {
    "sin": (anyf, i64(2, 3)), "cos": (anyf, i64(2, 3)), "tan": (unit, i64(2, 3, lo=-1, hi=2)),
    "arcsin": (unit, np.array([-1, 0, 1])), "arccos": (unit, np.array([-1, 0, 1])),
    "arctan": (anyf, i64(2, 3)), "sinh": (anyf, i64(2, 3)), "cosh": (anyf, i64(2, 3)),
    "tanh": (anyf, i64(2, 3)), "arcsinh": (anyf, i64(2, 3)),
    "arccosh": (ge1, i64(2, 3, lo=1, hi=5)), "arctanh": (unit, np.zeros((2,), np.int64)),
    "exp": (anyf, i64(2, 3)), "exp2": (anyf, i64(2, 3)), "expm1": (anyf, i64(2, 3)),
    "log": (pos, i64(2, 3, lo=1, hi=9)), "log2": (pos, i64(2, 3, lo=1, hi=9)),
    "log10": (pos, i64(2, 3, lo=1, hi=9)), "log1p": (gtm1, i64(2, 3, lo=0, hi=9)),
    "sqrt": (pos, i64(2, 3, lo=0, hi=9)), "cbrt": (anyf, i64(2, 3)),
    "floor": (anyf, i64(2, 3)), "ceil": (anyf, i64(2, 3)), "rint": (anyf, i64(2, 3)),
    "trunc": (anyf, i64(2, 3)),
    "absolute": (anyf, i64(2, 3)), "abs": (anyf, i64(2, 3)), "negative": (anyf, i64(2, 3)),
    "positive": (anyf, i64(2, 3)), "sign": (anyf, i64(2, 3)), "square": (anyf, i64(2, 3)),
    "reciprocal": (nonzero, None),
    "deg2rad": (anyf, i64(2, 3)), "rad2deg": (anyf, i64(2, 3)),
    "radians": (anyf, i64(2, 3)), "degrees": (anyf, i64(2, 3)),
}

for _name, (_make, _ints) in UNARY.items():
    def _f(m, x, _name=_name):
        return getattr(m, _name)(x)
    row(f"{_name}[f64]", _f, _make(2, 3))
    row(f"{_name}[0d]", _f, _make())
    row(f"{_name}[f32]", _f, _make(4).astype(np.float32))
    if _ints is not None:
        row(f"{_name}[int->]", _f, _ints)

row("sign[zeros]", lambda m, x: m.sign(x), np.array([-1.5, 0.0, 2.0]))
row("rint[half-even]", lambda m, x: m.rint(x), np.array([-1.5, -0.5, 0.5, 1.5, 2.5]))
row("floor[bool]", lambda m, x: m.floor(x), bools(4))
row("logical_not[bool]", lambda m, x: m.logical_not(x), bools(2, 3))
row("logical_not[int]", lambda m, x: m.logical_not(x), np.array([0, 1, 2, -3]))
row("logical_not[float]", lambda m, x: m.logical_not(x), np.array([0.0, 0.5, -2.0]))
row("invert[bool]", lambda m, x: m.invert(x), bools(2, 3))
row("invert[int]", lambda m, x: m.invert(x), i64(5))
row("~bool", lambda m, x: ~x, bools(3))
row("-x", lambda m, x: -x, f64(2, 3))
row("+x", lambda m, x: +x, f64(2, 3))
row("abs(x)", lambda m, x: abs(x), i64(5))


# name -> (first operand maker, second operand maker, integers allowed)
BINARY = {
    "add": (anyf, anyf, True), "subtract": (anyf, anyf, True), "multiply": (anyf, anyf, True),
    "divide": (anyf, nonzero, True), "true_divide": (anyf, nonzero, True),
    "floor_divide": (anyf, nonzero, True), "remainder": (anyf, nonzero, True),
    "mod": (anyf, nonzero, True), "power": (pos, anyf, False),
    "maximum": (anyf, anyf, True), "minimum": (anyf, anyf, True),
    "arctan2": (anyf, anyf, True), "hypot": (anyf, anyf, True), "logaddexp": (anyf, anyf, True),
    "equal": (anyf, anyf, True), "not_equal": (anyf, anyf, True), "less": (anyf, anyf, True),
    "less_equal": (anyf, anyf, True), "greater": (anyf, anyf, True),
    "greater_equal": (anyf, anyf, True),
}

for _name, (_a, _b, _ints) in BINARY.items():
    def _f(m, x, y, _name=_name):
        return getattr(m, _name)(x, y)

    def _fs(m, x, _name=_name):   # a Python scalar on the right
        return getattr(m, _name)(x, 1.5)

    def _sf(m, x, _name=_name):   # a Python scalar on the left
        return getattr(m, _name)(1.5, x)
    row(f"{_name}[2x3,2x3]", _f, _a(2, 3), _b(2, 3))
    row(f"{_name}[3x1,4]", _f, _a(3, 1), _b(4))
    row(f"{_name}[2x3,0d]", _f, _a(2, 3), _b())
    row(f"{_name}[0d,2x3]", _f, _a(), _b(2, 3))
    row(f"{_name}[0d,0d]", _f, _a(), _b())
    row(f"{_name}[f32,f32]", _f, _a(2, 3).astype(np.float32), _b(3).astype(np.float32))
    row(f"{_name}[f32,f64]", _f, _a(3).astype(np.float32), _b(3))
    row(f"{_name}[x,1.5]", _fs, _a(2, 3))
    row(f"{_name}[f32,1.5]", _fs, _a(3).astype(np.float32))
    row(f"{_name}[1.5,x]", _sf, _b(2, 3))
    if _ints:
        _ib = (lambda *s: i64(*s, lo=1, hi=5) * np.where(bools(*s), 1, -1)) if _b is nonzero \
            else i64
        row(f"{_name}[int,int]", _f, i64(2, 3), _ib(2, 3))
        row(f"{_name}[int,float]", _f, i64(2, 3), _b(3))
        row(f"{_name}[int,2]", lambda m, x, _name=_name: getattr(m, _name)(x, 2), i64(2, 3))
        row(f"{_name}[int32,int64]", _f, i64(3).astype(np.int32), _ib(3))

row("power[int,int]", lambda m, x, y: m.power(x, y), i64(2, 3), i64(2, 3, lo=0, hi=4))
row("power[x,2]", lambda m, x: m.power(x, 2), f64(2, 3))
row("remainder[signs]", lambda m, x, y: m.remainder(x, y), np.array([-7, -7, 7, 7]),
    np.array([3, -3, 3, -3]))
row("mod[signs,floats]", lambda m, x, y: m.mod(x, y), np.array([-7.5, 7.5]), np.array([2.0, -2.0]))
row("equal[exact]", lambda m, x, y: m.equal(x, y), np.array([1.0, 2.0, 3.0]),
    np.array([1.0, 0.0, 3.0]))

for _name in ["logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or",
              "bitwise_xor"]:
    def _f(m, x, y, _name=_name):
        return getattr(m, _name)(x, y)
    row(f"{_name}[bool]", _f, bools(2, 3), bools(2, 3))
    row(f"{_name}[bool,bcast]", _f, bools(3, 1), bools(4))
    row(f"{_name}[int]", _f, np.array([0, 1, 2, 3, -1]), np.array([0, 2, 2, 0, 5]))
    row(f"{_name}[int,True]", lambda m, x, _name=_name: getattr(m, _name)(x, True), bools(3))
    if _name.startswith("logical"):
        row(f"{_name}[float]", _f, np.array([0.0, 0.5, 0.0, -1.0]),
            np.array([0.0, 0.0, 2.0, 3.0]))

# operators, reflected operators, Python scalars and promotion
X, Y = f64(2, 3), f64(2, 3)
W = f64(3, 4)
C3 = f64(3)
row("x+y", lambda m, x, y: x + y, X, Y)
row("x-y", lambda m, x, y: x - y, X, Y)
row("x*y", lambda m, x, y: x * y, X, Y)
row("x/y", lambda m, x, y: x / y, X, nonzero(2, 3))
row("x//y", lambda m, x, y: x // y, X, nonzero(2, 3))
row("x%y", lambda m, x, y: x % y, X, nonzero(2, 3))
row("x**y", lambda m, x, y: x ** y, pos(2, 3), Y)
row("divmod(x,y)", lambda m, x, y: divmod(x, y), X, nonzero(2, 3))
row("x*2", lambda m, x: x * 2, X)
row("2*x", lambda m, x: 2 * x, X)
row("2.0-x", lambda m, x: 2.0 - x, X)
row("1/x", lambda m, x: 1 / x, nonzero(2, 3))
row("x/2", lambda m, x: x / 2, X)
row("2.0**x", lambda m, x: 2.0 ** x, X)
row("x**2", lambda m, x: x ** 2, X)
row("x**2.0", lambda m, x: x ** 2.0, X)
row("x**3[int]", lambda m, x: x ** 3, i64(2, 3))
row("x**-1", lambda m, x: x ** -1, nonzero(2, 3))
row("x**0", lambda m, x: x ** 0, X)
row("x**0.5", lambda m, x: x ** 0.5, pos(2, 3))
row("x**np.int64(2)", lambda m, x: x ** np.int64(2), X)
row("x**y[0d]", lambda m, x, y: x ** y, pos(3), np.array(3.0))
row("x32*2.0->f32", lambda m, x: x * 2.0, f32(2, 3))
row("x32+1->f32", lambda m, x: x + 1, f32(2, 3))
row("x32**2->f32", lambda m, x: x ** 2, f32(2, 3))
row("x32*np.float64->f64", lambda m, x: x * np.float64(2.0), f32(2, 3))
row("x32*np.float32->f32", lambda m, x: x * np.float32(2.0), f32(2, 3))
row("x32+x64->f64", lambda m, x, y: x + y, f32(2, 3), f64(2, 3))
row("x32+x64[0d]->f64", lambda m, x, y: x + y, f32(2, 3), np.array(0.5))
row("int+1.5->f64", lambda m, x: x + 1.5, i64(2, 3))
row("int*2->int", lambda m, x: x * 2, i64(2, 3))
row("int/2->f64", lambda m, x: x / 2, i64(2, 3))
row("int//2", lambda m, x: x // 2, i64(2, 3))
row("int%3", lambda m, x: x % 3, i64(2, 3))
row("int32*2->int32", lambda m, x: x * 2, i64(3).astype(np.int32))
row("int32+int64", lambda m, x, y: x + y, i64(3).astype(np.int32), i64(3))
row("bool+bool", lambda m, x, y: x + y, bools(4), bools(4))
row("bool*1.5", lambda m, x: x * 1.5, bools(4))
row("x+0d", lambda m, x, y: x + y, X, np.array(2.5))
row("0d*0d", lambda m, x, y: x * y, np.array(2.5), np.array(-1.0))
row("3x1+4", lambda m, x, y: x + y, f64(3, 1), f64(4))
row("2x3*()", lambda m, x, y: x * y, X, np.array(3.0))
row("const+x", lambda m, x: C3 + x, X)
row("const*x[bcast]", lambda m, x: C3 * x, f64(4, 1))
row("np.float64*x", lambda m, x: np.float64(2.0) * x, f32(3))
row("x<y", lambda m, x, y: x < y, X, Y)
row("x<=0.5", lambda m, x: x <= 0.5, X)
row("x>y[bcast]", lambda m, x, y: x > y, f64(3, 1), f64(4))
row("x>=0", lambda m, x: x >= 0, i64(5))
row("x==y", lambda m, x, y: x == y, np.array([1.0, 2.0]), np.array([1.0, 3.0]))
row("x!=2", lambda m, x: x != 2, i64(6))
row("0.0<x", lambda m, x: 0.0 < x, X)
row("b&c", lambda m, x, y: x & y, bools(4), bools(4))
row("b|c", lambda m, x, y: x | y, bools(4), bools(4))
row("b^c", lambda m, x, y: x ^ y, bools(4), bools(4))
row("int&int", lambda m, x, y: x & y, i64(4), i64(4))
row("(x>0)&(y<0)", lambda m, x, y: (x > 0) & (y < 0), X, Y)
row("astype(f32)", lambda m, x: x.astype(np.float32), X)
row("astype(int)", lambda m, x: x.astype(np.int64), X)

# where and clip
row("where[x>0,x,y]", lambda m, x, y: m.where(x > 0, x, y), X, Y)
row("where[c,x,0.0]", lambda m, x: m.where(x > 0, x, 0.0), X)
row("where[c,1.0,0.0]", lambda m, x: m.where(x > 0, 1.0, 0.0), X)
row("where[traced-c]", lambda m, c, x, y: m.where(c, x, y), bools(2, 3), X, Y)
row("where[bcast]", lambda m, c, x, y: m.where(c, x, y), bools(3, 1), f64(4), f64())
row("where[f32,scalar]", lambda m, x: m.where(x > 0, x, 1.0), f32(4))
row("where[int,float]", lambda m, c, x, y: m.where(c, x, y), bools(3), i64(3), f64(3))
row("where[0d]", lambda m, c, x, y: m.where(c, x, y), np.array(True), np.array(1.0),
    np.array(2.0))
row("where[const-mask]", lambda m, x: m.where(np.array([True, False, True]), x, -x), f64(2, 3))
row("clip[scalars]", lambda m, x: m.clip(x, -0.5, 0.5), X)
row("clip[None,hi]", lambda m, x: m.clip(x, None, 0.5), X)
row("clip[traced-bounds]", lambda m, x, lo, hi: m.clip(x, lo, hi), X, f64(3, lo=-1, hi=0),
    np.array(1.0))
row("clip[f32]", lambda m, x: m.clip(x, -0.5, 0.5), f32(4))
row("clip[int]", lambda m, x: m.clip(x, -1, 2), i64(6))
row("x.clip", lambda m, x: x.clip(-0.5, 0.5), X)

# -- reductions ---------------------------------------------------------------
X3 = f64(2, 3, 4)
for _name in ["sum", "prod", "mean", "max", "min", "amax", "amin"]:
    for _axis in [None, 0, 1, -1, (0, 2), (-1, 0), ()]:
        for _keep in [False, True]:
            row(f"{_name}[axis={_axis},keepdims={_keep}]",
                lambda m, x, _n=_name, _a=_axis, _k=_keep: getattr(m, _n)(x, axis=_a, keepdims=_k),
                X3)
    row(f"{_name}[default]", lambda m, x, _n=_name: getattr(m, _n)(x), X)
    row(f"{_name}[0d]", lambda m, x, _n=_name: getattr(m, _n)(x), np.array(1.5))
    row(f"{_name}[f32]", lambda m, x, _n=_name: getattr(m, _n)(x, axis=0), f32(5, 3))
    row(f"{_name}[int]", lambda m, x, _n=_name: getattr(m, _n)(x, axis=1), i64(3, 4))
    row(f"{_name}[1d,axis=0]", lambda m, x, _n=_name: getattr(m, _n)(x, axis=0), f64(5))
for _name in ["argmax", "argmin"]:
    for _axis in [None, 0, 1, -1]:
        for _keep in [False, True]:
            row(f"{_name}[axis={_axis},keepdims={_keep}]",
                lambda m, x, _n=_name, _a=_axis, _k=_keep: getattr(m, _n)(x, axis=_a, keepdims=_k),
                X3)
    row(f"{_name}[default]", lambda m, x, _n=_name: getattr(m, _n)(x), X)
    row(f"{_name}[ties]", lambda m, x, _n=_name: getattr(m, _n)(x), np.array([1.0, 3.0, 3.0, 1.0]))
    row(f"{_name}[int]", lambda m, x, _n=_name: getattr(m, _n)(x, axis=0), i64(4, 3))
    row(f"{_name}[f32]", lambda m, x, _n=_name: getattr(m, _n)(x, axis=-1), f32(4, 3))
row("sum[bool]", lambda m, x: m.sum(x > 0), X)
row("sum[int32]", lambda m, x: m.sum(x), i64(5).astype(np.int32))
row("sum[dtype=f32]", lambda m, x: m.sum(x, axis=0, dtype=np.float32), X)
row("mean[int,all]", lambda m, x: m.mean(x), i64(2, 3))
row("mean[f32,axis=(0,1)]", lambda m, x: m.mean(x, axis=(0, 1)), f32(3, 4))
row("prod[int,all]", lambda m, x: m.prod(x), i64(2, 3))
row("x.sum(axis=0)", lambda m, x: x.sum(axis=0), X)
row("x.sum()", lambda m, x: x.sum(), X)
row("x.prod(1)", lambda m, x: x.prod(1), X)
row("x.mean(keepdims)", lambda m, x: x.mean(axis=-1, keepdims=True), X)
row("x.max(axis=1)", lambda m, x: x.max(axis=1), X)
row("x.min()", lambda m, x: x.min(), X)
row("x.argmax(axis=-1)", lambda m, x: x.argmax(axis=-1), X)
row("x.argmin()", lambda m, x: x.argmin(), X)
row("np.add.reduce", lambda m, x: np.add.reduce(x), X)
row("np.maximum.reduce[axis=1]", lambda m, x: np.maximum.reduce(x, axis=1), X)

# -- shapes -------------------------------------------------------------------
for _shape in [(3, 2), (6,), -1, (-1,), (3, -1), (1, -1, 1), (2, 3)]:
    row(f"reshape[{_shape}]", lambda m, x, _s=_shape: m.reshape(x, _s), X)
row("reshape[0d->(1,)]", lambda m, x: m.reshape(x, (1,)), np.array(2.0))
row("reshape[(1,1)->()]", lambda m, x: m.reshape(x, ()), f64(1, 1))
row("reshape[f32]", lambda m, x: m.reshape(x, (4, 3)), f32(2, 6))
row("x.reshape(3,2)", lambda m, x: x.reshape(3, 2), X)
row("x.reshape((6,))", lambda m, x: x.reshape((6,)), X)
row("x.reshape(-1)", lambda m, x: x.reshape(-1), X)
row("ravel", lambda m, x: m.ravel(x), X3)
row("ravel[0d]", lambda m, x: m.ravel(x), np.array(1.0))
row("x.ravel()", lambda m, x: x.ravel(), X)
row("x.flatten()", lambda m, x: x.flatten(), X)
row("transpose", lambda m, x: m.transpose(x), X3)
row("transpose[axes]", lambda m, x: m.transpose(x, (1, 0, 2)), X3)
row("transpose[neg-axes]", lambda m, x: m.transpose(x, (-1, 0, 1)), X3)
row("permute_dims", lambda m, x: m.permute_dims(x, (1, 0, 2)), X3)
row("transpose[identity]", lambda m, x: m.transpose(x, (0, 1)), X)
row("transpose[1d]", lambda m, x: m.transpose(x), f64(3))
row("transpose[0d]", lambda m, x: m.transpose(x), np.array(1.0))
row("x.T", lambda m, x: x.T, X)
row("x.transpose()", lambda m, x: x.transpose(), X3)
row("x.transpose(2,0,1)", lambda m, x: x.transpose(2, 0, 1), X3)
row("x.transpose((2,0,1))", lambda m, x: x.transpose((2, 0, 1)), X3)
row("swapaxes", lambda m, x: m.swapaxes(x, 0, 2), X3)
row("swapaxes[neg]", lambda m, x: m.swapaxes(x, -1, 1), X3)
row("x.swapaxes", lambda m, x: x.swapaxes(0, 1), X)
row("moveaxis", lambda m, x: m.moveaxis(x, 0, -1), X3)
row("moveaxis[lists]", lambda m, x: m.moveaxis(x, [0, 1], [-1, -2]), X3)
row("moveaxis[same]", lambda m, x: m.moveaxis(x, 1, 1), X3)
row("expand_dims[0]", lambda m, x: m.expand_dims(x, 0), X)
row("expand_dims[-1]", lambda m, x: m.expand_dims(x, -1), X)
row("expand_dims[(0,2)]", lambda m, x: m.expand_dims(x, (0, 2)), X)
row("expand_dims[0d]", lambda m, x: m.expand_dims(x, 0), np.array(1.0))
row("squeeze", lambda m, x: m.squeeze(x), f64(1, 3, 1))
row("squeeze[axis=0]", lambda m, x: m.squeeze(x, axis=0), f64(1, 3, 1))
row("squeeze[axis=(0,-1)]", lambda m, x: m.squeeze(x, axis=(0, -1)), f64(1, 3, 1))
row("squeeze[nothing]", lambda m, x: m.squeeze(x), X)
row("squeeze[->0d]", lambda m, x: m.squeeze(x), f64(1, 1))
row("x.squeeze()", lambda m, x: x.squeeze(), f64(3, 1))
row("broadcast_to[(3,)->(4,3)]", lambda m, x: m.broadcast_to(x, (4, 3)), f64(3))
row("broadcast_to[(3,1)->(2,3,4)]", lambda m, x: m.broadcast_to(x, (2, 3, 4)), f64(3, 1))
row("broadcast_to[0d]", lambda m, x: m.broadcast_to(x, (2, 3)), np.array(1.0))
row("broadcast_to[int-shape]", lambda m, x: m.broadcast_to(x, 4), f64(1))
row("broadcast_to[same]", lambda m, x: m.broadcast_to(x, (2, 3)), X)
row("broadcast_arrays", lambda m, x, y: m.broadcast_arrays(x, y), f64(3, 1), f64(4))
row("broadcast_arrays[3]", lambda m, x, y, z: m.broadcast_arrays(x, y, z), f64(2, 1, 1),
    np.array(1.0), f32(3))
row("broadcast_arrays[1]", lambda m, x: m.broadcast_arrays(x), f64(3))
row("concatenate", lambda m, x, y: m.concatenate([x, y]), X, f64(4, 3))
row("concatenate[axis=1]", lambda m, x, y: m.concatenate([x, y], axis=1), X, f64(2, 1))
row("concatenate[axis=-1]", lambda m, x, y: m.concatenate((x, y), axis=-1), X, f64(2, 2))
row("concatenate[axis=None]", lambda m, x, y: m.concatenate([x, y], axis=None), X, f64(4))
row("concatenate[3]", lambda m, x, y, z: m.concatenate([x, y, z]), f64(1), f64(2), f64(3))
row("concatenate[f32,f64]", lambda m, x, y: m.concatenate([x, y]), f32(2), f64(3))
row("concatenate[const]", lambda m, x: m.concatenate([x, C3]), f64(2))
row("concatenate[one]", lambda m, x: m.concatenate([x]), X)
row("stack", lambda m, x, y: m.stack([x, y]), X, Y)
row("stack[axis=1]", lambda m, x, y: m.stack([x, y], axis=1), X, Y)
row("stack[axis=-1]", lambda m, x, y: m.stack([x, y], axis=-1), X, Y)
row("stack[0d]", lambda m, x, y: m.stack([x, y]), np.array(1.0), np.array(2.0))
row("stack[f32,f64]", lambda m, x, y: m.stack([x, y]), f32(3), f64(3))
row("hstack[1d]", lambda m, x, y: m.hstack([x, y]), f64(2), f64(3))
row("hstack[2d]", lambda m, x, y: m.hstack([x, y]), X, f64(2, 1))
row("hstack[0d]", lambda m, x, y: m.hstack([x, y]), np.array(1.0), f64(2))
row("vstack[1d]", lambda m, x, y: m.vstack([x, y]), f64(3), f64(3))
row("vstack[2d]", lambda m, x, y: m.vstack([x, y]), X, f64(1, 3))
row("vstack[0d]", lambda m, x, y: m.vstack([x, y]), np.array(1.0), np.array(2.0))
row("atleast_1d[0d]", lambda m, x: m.atleast_1d(x), np.array(1.0))
row("atleast_1d[2d]", lambda m, x: m.atleast_1d(x), X)
row("atleast_2d[0d]", lambda m, x: m.atleast_2d(x), np.array(1.0))
row("atleast_2d[1d]", lambda m, x: m.atleast_2d(x), f64(3))
row("atleast_2d[3d]", lambda m, x: m.atleast_2d(x), X3)
row("flip", lambda m, x: m.flip(x), X3)
row("flip[0]", lambda m, x: m.flip(x, 0), X3)
row("flip[(0,-1)]", lambda m, x: m.flip(x, (0, -1)), X3)
row("flip[0d]", lambda m, x: m.flip(x), np.array(1.0))
row("matrix_transpose", lambda m, x: m.matrix_transpose(x), X3)
row("matrix_transpose[2d]", lambda m, x: m.matrix_transpose(x), X)
row("x.mT", lambda m, x: x.mT, X3)
row("zeros_like", lambda m, x: m.zeros_like(x), X)
row("zeros_like[f32]", lambda m, x: m.zeros_like(x), f32(3))
row("zeros_like[dtype]", lambda m, x: m.zeros_like(x, dtype=np.int64), X)
row("ones_like*x", lambda m, x: m.ones_like(x) * x, X)
row("ones_like[0d]", lambda m, x: m.ones_like(x), np.array(2.0))
row("x+zeros_like", lambda m, x: x + m.zeros_like(x), i64(3))
row("full_like", lambda m, x: m.full_like(x, 3.0), X)
row("full_like[traced-fill]", lambda m, x, v: m.full_like(x, v), X, np.array(2.5))

# -- products -----------------------------------------------------------------
M23, M34, M43, M24 = f64(2, 3), f64(3, 4), f64(4, 3), f64(2, 4)
V3, V4 = f64(3), f64(4)
B234, B243, B432 = f64(5, 2, 3), f64(5, 3, 4), f64(4, 3, 2)
row("dot[1d,1d]", lambda m, x, y: m.dot(x, y), V3, f64(3))
row("dot[2d,1d]", lambda m, x, y: m.dot(x, y), M23, V3)
row("dot[1d,2d]", lambda m, x, y: m.dot(x, y), V3, M34)
row("dot[2d,2d]", lambda m, x, y: m.dot(x, y), M23, M34)
row("dot[3d,2d]", lambda m, x, y: m.dot(x, y), B234, M34)
row("dot[2d,3d]", lambda m, x, y: m.dot(x, y), M23, B432)
row("dot[0d,2d]", lambda m, x, y: m.dot(x, y), np.array(2.0), M23)
row("dot[f32,f64]", lambda m, x, y: m.dot(x, y), f32(2, 3), M34)
row("dot[f32]", lambda m, x, y: m.dot(x, y), f32(2, 3), f32(3, 4))
row("dot[int]", lambda m, x, y: m.dot(x, y), i64(2, 3), i64(3, 2))
row("dot[const]", lambda m, x: m.dot(x, W), M23)
row("x.dot(y)", lambda m, x, y: x.dot(y), M23, M34)
row("vdot", lambda m, x, y: m.vdot(x, y), M23, f64(3, 2))
row("vdot[1d]", lambda m, x, y: m.vdot(x, y), V3, f64(3))
row("inner[1d]", lambda m, x, y: m.inner(x, y), V3, f64(3))
row("inner[2d]", lambda m, x, y: m.inner(x, y), M23, M43)
row("inner[3d,1d]", lambda m, x, y: m.inner(x, y), B234, V3)
row("inner[0d]", lambda m, x, y: m.inner(x, y), np.array(2.0), M23)
row("outer", lambda m, x, y: m.outer(x, y), V3, V4)
row("outer[2d]", lambda m, x, y: m.outer(x, y), f64(2, 2), V3)
row("outer[f32]", lambda m, x, y: m.outer(x, y), f32(3), f32(2))
for _label, _a, _b in [("1d@1d", V3, f64(3)), ("2d@1d", M23, V3), ("1d@2d", V3, M34),
                       ("2d@2d", M23, M34), ("3d@3d", B234, B243), ("3d@2d", B234, M34),
                       ("2d@3d", M23, B432), ("1d@3d", V3, B432), ("3d@1d", B234, V3),
                       ("bcast-batch", f64(2, 1, 3, 4), f64(5, 4, 2)),
                       ("bcast-batch2", f64(2, 1, 3, 4), f64(1, 6, 4, 2)),
                       ("f32", f32(2, 3), f32(3, 4)), ("f32@f64", f32(2, 3), M34),
                       ("int", i64(2, 3), i64(3, 2))]:
    row(f"matmul[{_label}]", lambda m, x, y: m.matmul(x, y), _a, _b)
    row(f"x@y[{_label}]", lambda m, x, y: x @ y, _a, _b)
row("x@const", lambda m, x: x @ W, M23)
row("const@x", lambda m, x: W.T @ x, f64(3, 2))
row("const@x[1d]", lambda m, x: W @ x, V4)
row("tensordot[2]", lambda m, x, y: m.tensordot(x, y), f64(2, 3, 4), f64(3, 4, 5))
row("tensordot[1]", lambda m, x, y: m.tensordot(x, y, 1), M23, M34)
row("tensordot[0]", lambda m, x, y: m.tensordot(x, y, axes=0), V3, f64(2))
row("tensordot[pairs]", lambda m, x, y: m.tensordot(x, y, axes=([1, 0], [0, 1])),
    f64(3, 4, 5), f64(4, 3, 2))
row("tensordot[int-pair]", lambda m, x, y: m.tensordot(x, y, axes=(1, 0)), M23, M34)
row("tensordot[neg]", lambda m, x, y: m.tensordot(x, y, axes=([-1], [0])), M23, M34)
row("tensordot[f32]", lambda m, x, y: m.tensordot(x, y, axes=1), f32(2, 3), f32(3, 2))
EINSUM = [
    ("ij,jk->ik", (M23, M34)), ("ij,jk", (M23, M34)), ("ii", (f64(3, 3),)),
    ("ii->i", (f64(3, 3),)), ("ij->ji", (M23,)), ("ji", (M23,)), ("ij", (M23,)),
    ("ij->", (M23,)), ("ij->j", (M23,)), ("i->", (V3,)), ("i,i", (V3, f64(3))),
    ("i,i->i", (V3, f64(3))), ("ij,j->i", (M23, V3)), ("bij,bjk->bik", (B234, B243)),
    ("...ij,...jk->...ik", (B234, B243)), ("...ij,jk", (B234, M34)),
    ("i...->...", (f64(3, 2, 2),)), ("i,j", (V3, V4)), ("i,j->ij", (V3, V4)),
    ("i,j->ji", (V3, V4)), ("ij,jk,kl->il", (M23, M34, f64(4, 2))),
    ("ij,jk,ki->", (M23, f64(3, 2), f64(2, 2))), ("ijk->kji", (f64(2, 3, 4),)),
    ("iij->ji", (f64(3, 3, 2),)), ("ij,ij->ij", (M23, f64(2, 3))), ("ij,ij->", (M23, f64(2, 3))),
    ("bi,bi->b", (f64(4, 3), f64(4, 3))), ("i,jk->ijk", (f64(2), M34)),
]
for _spec, _ops in EINSUM:
    row(f"einsum[{_spec}]", lambda m, *xs, _s=_spec: m.einsum(_s, *xs), *_ops)
row("einsum[f32,f64]", lambda m, x, y: m.einsum("ij,jk->ik", x, y), f32(2, 3), M34)
row("einsum[f32]", lambda m, x, y: m.einsum("ij,jk->ik", x, y), f32(2, 3), f32(3, 2))
row("einsum[spaces]", lambda m, x, y: m.einsum("ij, jk -> ik", x, y), M23, M34)
row("einsum[const]", lambda m, x: m.einsum("ij,jk->ik", x, W), M23)

# -- indexing -----------------------------------------------------------------
V10 = f64(10)
MASK23 = np.array([[True, False, True], [False, False, True]])
INDEX_ROWS = [
    ("x[1]", lambda x: x[1], X), ("x[-1]", lambda x: x[-1], X),
    ("x[np.int64(1)]", lambda x: x[np.int64(1)], X),
    ("x[1,2]", lambda x: x[1, 2], X), ("x[-1,-1]", lambda x: x[-1, -1], X),
    ("x[0][1]", lambda x: x[0][1], X),
    ("x[2:7]", lambda x: x[2:7], V10), ("x[::3]", lambda x: x[::3], V10),
    ("x[1:-1:2]", lambda x: x[1:-1:2], V10), ("x[::-1]", lambda x: x[::-1], V10),
    ("x[::-3]", lambda x: x[::-3], V10), ("x[-2::-2]", lambda x: x[-2::-2], V10),
    ("x[7:2:-1]", lambda x: x[7:2:-1], V10), ("x[7:2:-2]", lambda x: x[7:2:-2], V10),
    ("x[-1:-4:-1]", lambda x: x[-1:-4:-1], V10), ("x[100:-100:-1]", lambda x: x[100:-100:-1], V10),
    ("x[5:2]", lambda x: x[5:2], V10), ("x[20:]", lambda x: x[20:], V10),
    ("x[:]", lambda x: x[:], V10), ("x[:,1]", lambda x: x[:, 1], X),
    ("x[1,:]", lambda x: x[1, :], X), ("x[:,::-1]", lambda x: x[:, ::-1], X),
    ("x[::-1,1:]", lambda x: x[::-1, 1:], X),
    ("x[...]", lambda x: x[...], X), ("x[...,0]", lambda x: x[..., 0], X3),
    ("x[1,...,2]", lambda x: x[1, ..., 2], X3), ("x[...,1:,:]", lambda x: x[..., 1:, :], X3),
    ("x[None]", lambda x: x[None], X), ("x[:,None,:]", lambda x: x[:, None, :], X),
    ("x[...,None]", lambda x: x[..., None], X), ("x[None,1,None]", lambda x: x[None, 1, None], X),
    ("x[:,:,None,1]", lambda x: x[:, :, None, 1], X3),
    ("x[()]", lambda x: x[()], np.array(3.0)), ("x0d[None]", lambda x: x[None], np.array(3.0)),
    ("x0d[...]", lambda x: x[...], np.array(3.0)),
    ("x[[3,0,0]]", lambda x: x[[3, 0, 0]], V10), ("x[[-1,0]]", lambda x: x[[-1, 0]], V10),
    ("x[array2d]", lambda x: x[np.array([[0, 1], [9, 9]])], V10),
    ("x[int32-array]", lambda x: x[np.array([1, 2], np.int32)], V10),
    ("x[[]]", lambda x: x[[]], V10),
    ("x[[1,0]]", lambda x: x[[1, 0]], X), ("x[:,[0,2]]", lambda x: x[:, [0, 2]], X),
    ("x[:,[2,2,0]]", lambda x: x[:, [2, 2, 0]], X3),
    ("x[[0,1],[1,2]]", lambda x: x[[0, 1], [1, 2]], X),
    ("x[[[0],[1]],[0,2]]", lambda x: x[[[0], [1]], [0, 2]], X),      # broadcast indices
    ("x[[0,1],:,[1,2]]", lambda x: x[[0, 1], :, [1, 2]], X3),        # non-adjacent: front
    ("x[0,:,[1,2]]", lambda x: x[0, :, [1, 2]], X3),
    ("x[:,[0,1],1]", lambda x: x[:, [0, 1], 1], X3),
    ("x[1:,[0,0]]", lambda x: x[1:, [0, 0]], X3),
    ("x[::-1,[2,0]]", lambda x: x[::-1, [2, 0]], X),
    ("x[None,[1,0]]", lambda x: x[None, [1, 0]], X),
    ("x[...,[3,-1]]", lambda x: x[..., [3, -1]], X3),
    ("x[[-1,-2],[-3,0]]", lambda x: x[[-1, -2], [-3, 0]], X),
    ("x[mask]", lambda x: x[MASK23], X),
    ("x[row-mask]", lambda x: x[np.array([False, True])], X),
    ("x[:,col-mask]", lambda x: x[:, np.array([True, False, True])], X),
    ("x[mask-list]", lambda x: x[[True, False, True, True, False, False, True, False, False,
                                   True]], V10),
    ("x[mask,None]", lambda x: x[MASK23, None], X),
    ("x[f32][1:]", lambda x: x[1:], f32(4)), ("x[int][[2,0]]", lambda x: x[[2, 0]], i64(4)),
]
for _id, _fn, _x in INDEX_ROWS:
    row(_id, lambda m, x, _fn=_fn: _fn(x), _x)
row("x[traced-idx]", lambda m, x, i: x[i], V10, np.array([3, 0, 0, -1]))
row("x[traced-idx,traced-idx]", lambda m, x, i, j: x[i, j], X, np.array([1, 0]),
    np.array([-1, 2]))
row("x[:,traced-idx]", lambda m, x, i: x[:, i], X3, np.array([[2, 0]]))
row("x[traced-0d-idx]", lambda m, x, i: x[i], V10, np.array(4))

# -- functions made of several of the above -----------------------------------
row("softmax", lambda m, x: m.exp(x - m.max(x, axis=-1, keepdims=True))
    / m.sum(m.exp(x - m.max(x, axis=-1, keepdims=True)), axis=-1, keepdims=True), X)
row("mlp", lambda m, x, w, b: m.tanh(x @ w + b).sum(), M23, M34, V4)
row("lecture", lambda m, x, y: y * m.log(x) + m.sqrt(y * m.log(x)), pos(3), pos(3))


# -- elementwise, reductions, cumulative, sorting, scipy.special --
_rga = np.random.default_rng(41)   # these rows' own draws: the other rows keep theirs


def _a(*shape, lo=-2.0, hi=2.0):
    return np.asarray(_rga.uniform(lo, hi, shape), np.float64)


def _ai(*shape, lo=-4, hi=5):
    return np.asarray(_rga.integers(lo, hi, shape), np.int64)


_A23, _A234, _A5, _B23 = _a(2, 3), _a(2, 3, 4), _a(5), _a(2, 3)
_SPECIAL = np.array([-0.0, 0.0, np.nan, -np.nan, np.inf, -np.inf, -1.5, 2.0])
_NAN_ROW = np.array([1.0, np.nan, -2.0, 0.5])

# elementwise: ufuncs, with NumPy's dtypes (integers, float32, weak scalars)
for _name in ["fabs", "signbit", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "sinc",
              "fix", "real", "imag", "conj", "conjugate", "nan_to_num", "round", "around"]:
    def _f(m, x, _name=_name):
        return getattr(m, _name)(x)
    row(f"{_name}[f64]", _f, _A23)
    row(f"{_name}[0d]", _f, np.array(-0.75))
    row(f"{_name}[f32]", _f, _a(4).astype(np.float32))
    row(f"{_name}[int]", _f, _ai(2, 3))
    row(f"{_name}[special]", _f, _SPECIAL)
row("sinc[zeros]", lambda m, x: m.sinc(x), np.array([0.0, 1.0, -0.5, 0.0, 2.5]))
row("round[decimals=2]", lambda m, x: m.round(x, 2), _A23 * 10)
row("round[decimals=-1]", lambda m, x: m.round(x, -1), _A23 * 100)
row("round[int,decimals=-1]", lambda m, x: m.round(x, -1), np.array([123, 155, -145, 5]))
row("round[half-even]", lambda m, x: m.round(x), np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]))
row("around[f32,decimals=1]", lambda m, x: m.around(x, decimals=1), _a(5).astype(np.float32))
row("x.round(1)", lambda m, x: x.round(1), _A23)
row("nan_to_num[values]", lambda m, x: m.nan_to_num(x, nan=-1.0, posinf=9.0, neginf=-9.0),
    _SPECIAL)
row("x.imag", lambda m, x: x.imag + x, _A23)

for _name in ["float_power", "fmax", "fmin", "logaddexp2", "heaviside", "copysign", "divmod"]:
    def _f(m, x, y, _name=_name):
        return getattr(m, _name)(x, y)
    _y = _a(2, 3, lo=0.5, hi=2.0) * np.where(_rga.integers(0, 2, (2, 3)) == 1, 1, -1)
    _base = np.abs(_A23) + 0.1 if _name == "float_power" else _A23
    row(f"{_name}[2x3,2x3]", _f, _base, _y)
    row(f"{_name}[3x1,4]", _f, np.abs(_a(3, 1)) + 0.1, _a(4, lo=0.5, hi=2.0))
    row(f"{_name}[0d,2x3]", _f, np.array(1.25), _y)
    row(f"{_name}[f32,f32]", _f, _base.astype(np.float32), _y.astype(np.float32))
    row(f"{_name}[f32,1.5]", lambda m, x, _name=_name: getattr(m, _name)(x, 1.5),
        np.abs(_a(3)).astype(np.float32) + 0.1)
    row(f"{_name}[2.5,x]", lambda m, x, _name=_name: getattr(m, _name)(2.5, x), _y)
    row(f"{_name}[int,int]", _f, _ai(2, 3, lo=1, hi=5), _ai(2, 3, lo=1, hi=4))
row("fmax[nan]", lambda m, x, y: m.fmax(x, y), _NAN_ROW, np.array([np.nan, np.nan, 3.0, 0.5]))
row("fmin[nan]", lambda m, x, y: m.fmin(x, y), _NAN_ROW, np.array([np.nan, np.nan, 3.0, 0.5]))
row("fmax[nan,scalar]", lambda m, x: m.fmax(x, 0.0), _NAN_ROW)
row("fmin[nan-constant]", lambda m, x: m.fmin(np.array([np.nan, 1.0, np.nan, 0.0]), x), _NAN_ROW)
row("maximum[nan]", lambda m, x, y: m.maximum(x, y), _NAN_ROW, np.array([np.nan, 0.0, 3.0, 0.5]))
row("heaviside[zeros]", lambda m, x, y: m.heaviside(x, y), np.array([-1.0, 0.0, 2.0, 0.0, np.nan]),
    np.array([0.5, 0.25, 0.5, 1.0, 0.5]))
row("copysign[signed-zeros]", lambda m, x, y: m.copysign(x, y), np.array([1.0, -2.0, 0.0, 3.0]),
    np.array([-0.0, 0.0, -1.0, np.nan]))
row("logaddexp2[large]", lambda m, x, y: m.logaddexp2(x, y), np.array([1000.0, -1000.0, 0.0]),
    np.array([0.0, 0.0, 0.0]))
row("logaddexp[special]", lambda m, x, y: m.logaddexp(x, y),
    np.array([np.inf, -np.inf, 1000.0, -1000.0, np.nan]),
    np.array([np.inf, -np.inf, 0.0, 0.0, 1.0]))
row("hypot[special]", lambda m, x, y: m.hypot(x, y), np.array([0.0, np.inf, 1e200, 3.0]),
    np.array([0.0, np.nan, 1e200, -4.0]))
row("divmod[int]", lambda m, x: m.divmod(x, 3), np.array([-7, -1, 0, 5, 8]))
row("float_power[x,2]", lambda m, x: m.float_power(x, 2), _A23)
row("float_power[int,-1]", lambda m, x: m.float_power(x, -1), np.array([1, 2, 4]))

# reductions: all, any, count_nonzero, cumulative
_BOOLISH = np.array([[0.0, 1.5, np.nan], [2.0, 0.0, -1.0]])
for _name in ["all", "any", "count_nonzero"]:
    _kw = [dict(), dict(axis=0), dict(axis=1), dict(axis=-1, keepdims=True),
           dict(axis=(0, 1)), dict(axis=())] if _name != "count_nonzero" else \
        [dict(), dict(axis=0), dict(axis=1, keepdims=True), dict(axis=(0, 1))]
    for _k in _kw:
        _label = ",".join(f"{k}={v}" for k, v in _k.items())
        row(f"{_name}[{_label}]", lambda m, x, _n=_name, _k=_k: getattr(m, _n)(x, **_k), _BOOLISH)
    row(f"{_name}[bool]", lambda m, x, _n=_name: getattr(m, _n)(x > 0, axis=0), _A23)
    row(f"{_name}[int]", lambda m, x, _n=_name: getattr(m, _n)(x), np.array([0, 3, -1]))
    row(f"{_name}[0d]", lambda m, x, _n=_name: getattr(m, _n)(x), np.array(0.0))
    row(f"{_name}[empty]", lambda m, x, _n=_name: getattr(m, _n)(x, axis=0), np.zeros((0, 3)))
row("x.all()", lambda m, x: x.all(), _A23)
row("x.any(axis=1,keepdims)", lambda m, x: x.any(axis=1, keepdims=True), _BOOLISH)
for _name in ["cumsum", "cumprod"]:
    for _axis in [None, 0, 1, -1]:
        row(f"{_name}[axis={_axis}]", lambda m, x, _n=_name, _a=_axis: getattr(m, _n)(x, axis=_a),
            _A234)
    row(f"{_name}[1d]", lambda m, x, _n=_name: getattr(m, _n)(x), _A5)
    row(f"{_name}[0d]", lambda m, x, _n=_name: getattr(m, _n)(x), np.array(1.5))
    row(f"{_name}[f32]", lambda m, x, _n=_name: getattr(m, _n)(x, axis=0), _A23.astype(np.float32))
    row(f"{_name}[int32]", lambda m, x, _n=_name: getattr(m, _n)(x, axis=1),
        _ai(2, 3).astype(np.int32))
    row(f"{_name}[bool]", lambda m, x, _n=_name: getattr(m, _n)(x > 0), _A23)
    row(f"{_name}[dtype=f32]", lambda m, x, _n=_name: getattr(m, _n)(x, dtype=np.float32), _A5)
    row(f"{_name}[zeros]", lambda m, x, _n=_name: getattr(m, _n)(x),
        np.array([1.5, 0.0, 2.0, 0.0, -1.0]))
row("x.cumsum(axis=0)", lambda m, x: x.cumsum(axis=0), _A23)
row("x.cumprod()", lambda m, x: x.cumprod(), _A23)
row("np.add.accumulate", lambda m, x: np.add.accumulate(x), _A23)
row("np.multiply.accumulate[axis=1]", lambda m, x: np.multiply.accumulate(x, axis=1), _A23)
for _name in ["cumulative_sum", "cumulative_prod"]:
    row(f"{_name}[1d]", lambda m, x, _n=_name: getattr(m, _n)(x), _A5)
    row(f"{_name}[axis=1]", lambda m, x, _n=_name: getattr(m, _n)(x, axis=1), _A23)
    row(f"{_name}[include_initial]", lambda m, x, _n=_name: getattr(m, _n)(
        x, axis=0, include_initial=True), _A23)
    row(f"{_name}[int]", lambda m, x, _n=_name: getattr(m, _n)(x), _ai(4))

# statistics
for _name in ["var", "std"]:
    for _k in [dict(), dict(axis=0), dict(axis=(0, 2)), dict(axis=-1, keepdims=True),
               dict(ddof=1), dict(axis=1, ddof=2), dict(correction=1, axis=0),
               dict(axis=0, dtype=np.float32)]:
        _label = ",".join(f"{k}={v}" for k, v in _k.items())
        row(f"{_name}[{_label}]", lambda m, x, _n=_name, _k=_k: getattr(m, _n)(x, **_k), _A234)
    row(f"{_name}[int]", lambda m, x, _n=_name: getattr(m, _n)(x, axis=0), _ai(4, 3))
    row(f"{_name}[f32]", lambda m, x, _n=_name: getattr(m, _n)(x), _A23.astype(np.float32))
    row(f"{_name}[0d]", lambda m, x, _n=_name: getattr(m, _n)(x), np.array(2.0))
    row(f"{_name}[ddof=n]", lambda m, x, _n=_name: getattr(m, _n)(x, axis=0, ddof=2), _A23)
row("x.std(ddof=1)", lambda m, x: x.std(ddof=1), _A23)
row("average", lambda m, x: m.average(x), _A23)
row("average[axis=0]", lambda m, x: m.average(x, axis=0), _A23)
row("average[weights]", lambda m, x, w: m.average(x, weights=w), _A23, np.abs(_B23) + 0.1)
row("average[weights,axis=1]", lambda m, x, w: m.average(x, axis=1, weights=w), _A23,
    np.abs(_B23) + 0.1)
row("average[1d-weights]", lambda m, x, w: m.average(x, axis=1, weights=w), _A234[0],
    np.array([0.5, 1.0, 2.0, 0.25]))
row("average[tuple-axis-weights]", lambda m, x, w: m.average(x, axis=(2, 0), weights=w), _A234,
    np.abs(_a(4, 2)) + 0.1)
row("average[returned]", lambda m, x, w: m.average(x, axis=0, weights=w, returned=True), _A23,
    np.abs(_B23) + 0.1)
row("average[returned,no-weights]", lambda m, x: m.average(x, axis=1, returned=True), _A23)
row("average[keepdims]", lambda m, x, w: m.average(x, axis=1, weights=w, keepdims=True), _A23,
    np.abs(_B23) + 0.1)
row("average[int,f32-weights]", lambda m, x, w: m.average(x, axis=0, weights=w), _ai(2, 3),
    np.array([[1.0, 2.0, 0.5], [0.5, 1.0, 1.0]], np.float32))
row("average[f32]", lambda m, x: m.average(x, axis=0), _A23.astype(np.float32))
for _k in [dict(), dict(axis=0), dict(axis=(0, 2)), dict(axis=1, keepdims=True)]:
    _label = ",".join(f"{k}={v}" for k, v in _k.items())
    row(f"ptp[{_label}]", lambda m, x, _k=_k: m.ptp(x, **_k), _A234)
row("ptp[int]", lambda m, x: m.ptp(x, axis=1), _ai(3, 4))

# order statistics and sorting
for _name in ["median", "quantile", "percentile"]:
    _q = {"median": (), "quantile": (0.3,), "percentile": (30,)}[_name]
    for _k in [dict(), dict(axis=0), dict(axis=-1), dict(axis=(0, 2)), dict(axis=1, keepdims=True),
               dict(axis=(1, 2), keepdims=True)]:
        _label = ",".join(f"{k}={v}" for k, v in _k.items())
        row(f"{_name}[{_label}]", lambda m, x, _n=_name, _q=_q, _k=_k: getattr(m, _n)(x, *_q, **_k),
            _A234)
    row(f"{_name}[odd]", lambda m, x, _n=_name, _q=_q: getattr(m, _n)(x, *_q), _A5)
    row(f"{_name}[even]", lambda m, x, _n=_name, _q=_q: getattr(m, _n)(x, *_q), _a(6))
    row(f"{_name}[int]", lambda m, x, _n=_name, _q=_q: getattr(m, _n)(x, *_q, axis=0), _ai(4, 3))
    row(f"{_name}[f32]", lambda m, x, _n=_name, _q=_q: getattr(m, _n)(x, *_q),
        _A23.astype(np.float32))
    row(f"{_name}[nan]", lambda m, x, _n=_name, _q=_q: getattr(m, _n)(x, *_q, axis=1),
        np.array([[1.0, np.nan, 3.0], [4.0, 2.0, 0.0]]))
    row(f"{_name}[0d]", lambda m, x, _n=_name, _q=_q: getattr(m, _n)(x, *_q), np.array(2.5))
for _name, _qs in [("quantile", [0.0, 0.25, 0.5, 1.0]), ("percentile", [0, 10, 62.5, 100])]:
    row(f"{_name}[list-q]", lambda m, x, _n=_name, _qs=_qs: getattr(m, _n)(x, _qs), _a(7))
    row(f"{_name}[array-q,axis=1]", lambda m, x, _n=_name, _qs=_qs: getattr(m, _n)(
        x, np.array(_qs), axis=1), _A234[0])
    row(f"{_name}[2d-q,keepdims]", lambda m, x, _n=_name, _qs=_qs: getattr(m, _n)(
        x, np.array(_qs).reshape(2, 2), axis=0, keepdims=True), _A23)
    row(f"{_name}[f32,array-q]", lambda m, x, _n=_name, _qs=_qs: getattr(m, _n)(
        x, np.array(_qs, np.float32)), _a(5).astype(np.float32))
    for _method in ["lower", "higher", "nearest", "midpoint"]:
        row(f"{_name}[method={_method}]", lambda m, x, _n=_name, _qs=_qs, _m=_method: getattr(
            m, _n)(x, _qs, axis=0, method=_method), _a(6, 2))
    row(f"{_name}[int,lower]", lambda m, x, _n=_name, _qs=_qs: getattr(m, _n)(
        x, _qs, method="lower"), _ai(5))
for _axis in [-1, 0, 1, None]:
    row(f"sort[axis={_axis}]", lambda m, x, _a=_axis: m.sort(x, axis=_a), _A234)
    row(f"argsort[axis={_axis}]", lambda m, x, _a=_axis: m.argsort(x, axis=_a), _A234)
row("sort[1d]", lambda m, x: m.sort(x), _A5)
row("sort[nan,inf]", lambda m, x: m.sort(x), _SPECIAL)
row("sort[int]", lambda m, x: m.sort(x, axis=0), _ai(4, 3))
row("sort[f32]", lambda m, x: m.sort(x), _A23.astype(np.float32))
row("sort[0d,axis=None]", lambda m, x: m.sort(x, axis=None), np.array(1.5))
row("sort[kind=stable]", lambda m, x: m.sort(x, kind="stable"), np.array([2.0, 1.0, 2.0, 1.0]))
row("argsort[ties,stable]", lambda m, x: m.argsort(x, kind="stable"),
    np.array([2.0, 1.0, 2.0, 1.0, 0.0, 1.0]))
row("argsort[int,stable]", lambda m, x: m.argsort(x, axis=0, stable=True), _ai(5, 2))
row("argsort[f32]", lambda m, x: m.argsort(x), _A23.astype(np.float32))
row("x.argsort()", lambda m, x: x.argsort(), _A23)
row("sort[top-k]", lambda m, x: m.sort(x, axis=-1)[..., -2:], _A234)

# -- shapes, construction, indexing --
V6, M34B, T234 = f64(6), f64(3, 4), f64(2, 3, 4)
row("atleast_1d[two]", lambda m, x, y: m.atleast_1d(x, y), np.array(1.0), f64(2))
row("atleast_2d[two]", lambda m, x, y: m.atleast_2d(x, y), np.array(1.0), X3)
row("atleast_3d[0d]", lambda m, x: m.atleast_3d(x), np.array(1.0))
row("atleast_3d[1d]", lambda m, x: m.atleast_3d(x), f64(3))
row("atleast_3d[2d]", lambda m, x: m.atleast_3d(x), X)
row("atleast_3d[3d,two]", lambda m, x, y: m.atleast_3d(x, y), X3, f64(2))
row("copy", lambda m, x: m.copy(x) * 2.0, X)
row("x.copy()", lambda m, x: x.copy(), X)
row("fliplr", lambda m, x: m.fliplr(x), X3)
row("flipud", lambda m, x: m.flipud(x), f64(4))
row("rot90", lambda m, x: m.rot90(x), M34B)
row("rot90[k=2]", lambda m, x: m.rot90(x, 2), M34B)
row("rot90[k=3,axes=(1,2)]", lambda m, x: m.rot90(x, 3, axes=(1, 2)), T234)
row("rot90[k=-1,axes=(2,0)]", lambda m, x: m.rot90(x, -1, axes=(2, 0)), T234)
row("rot90[k=4]", lambda m, x: m.rot90(x, 4), M34B)
row("roll", lambda m, x: m.roll(x, 2), V6)
row("roll[negative]", lambda m, x: m.roll(x, -7), V6)
row("roll[flat]", lambda m, x: m.roll(x, 5), M34B)
row("roll[axis=1]", lambda m, x: m.roll(x, 1, axis=1), M34B)
row("roll[axes]", lambda m, x: m.roll(x, (1, -2), axis=(0, 2)), T234)
row("roll[same-axis-twice]", lambda m, x: m.roll(x, (1, 2), axis=(1, 1)), T234)
row("roll[0]", lambda m, x: m.roll(x, 4, axis=0), M34B[:2])
row("dstack", lambda m, x, y: m.dstack([x, y]), X, f64(2, 3))
row("dstack[1d]", lambda m, x, y: m.dstack((x, y)), f64(3), f64(3))
row("dstack[0d]", lambda m, x, y: m.dstack((x, y)), np.array(1.0), np.array(2.0))
row("column_stack", lambda m, x, y: m.column_stack([x, y]), f64(3), f64(3))
row("column_stack[2d,1d]", lambda m, x, y: m.column_stack([x, y]), f64(3, 2), f64(3))
row("column_stack[f32,f64]", lambda m, x, y: m.column_stack([x, y]), f32(2), f64(2))
row("append", lambda m, x, y: m.append(x, y), X, f64(3))
row("append[axis=0]", lambda m, x, y: m.append(x, y, axis=0), X, f64(1, 3))
row("append[const]", lambda m, x: m.append(x, [1.0, 2.0]), np.array(0.5))
row("split", lambda m, x: m.split(x, 3), V6)
row("split[indices]", lambda m, x: m.split(x, [1, 3]), V6)
row("split[axis=1]", lambda m, x: m.split(x, 2, axis=1), M34B)
row("split[axis=-1,indices]", lambda m, x: m.split(x, [2, 2, 10], axis=-1), T234)
row("array_split", lambda m, x: m.array_split(x, 4), V6)
row("array_split[axis=1]", lambda m, x: m.array_split(x, 3, axis=1), M34B)
row("array_split[negative-indices]", lambda m, x: m.array_split(x, [-2, 5]), V6)
row("hsplit", lambda m, x: m.hsplit(x, 2), M34B)
row("hsplit[1d]", lambda m, x: m.hsplit(x, [2]), V6)
row("vsplit", lambda m, x: m.vsplit(x, 3), M34B)
row("dsplit", lambda m, x: m.dsplit(x, [1, 3]), T234)
row("tile", lambda m, x: m.tile(x, 3), f64(2))
row("tile[2d-reps]", lambda m, x: m.tile(x, (2, 3)), f64(2))
row("tile[matrix]", lambda m, x: m.tile(x, (2, 1)), X)
row("tile[fewer-reps]", lambda m, x: m.tile(x, 2), X)
row("tile[0d]", lambda m, x: m.tile(x, (2, 2)), np.array(1.5))
row("tile[ones]", lambda m, x: m.tile(x, (1, 1)), X)
row("tile[zero]", lambda m, x: m.tile(x, (0, 2)), X)
row("repeat", lambda m, x: m.repeat(x, 2), X)
row("repeat[axis=0]", lambda m, x: m.repeat(x, 3, axis=0), X)
row("repeat[counts]", lambda m, x: m.repeat(x, [1, 0, 2], axis=1), X)
row("repeat[axis=-1,0d]", lambda m, x: m.repeat(x, np.array(2), axis=-1), X3)
row("repeat[0d]", lambda m, x: m.repeat(x, 3), np.array(2.0))
row("repeat[int]", lambda m, x: m.repeat(x, 2), i64(3))
row("x.repeat", lambda m, x: x.repeat(2, axis=1), X)
for _mode in ["constant", "edge", "reflect", "symmetric", "wrap"]:
    row(f"pad[{_mode}]", lambda m, x, _mode=_mode: m.pad(x, ((1, 2), (3, 0)), mode=_mode), X)
    row(f"pad[{_mode},wide]", lambda m, x, _mode=_mode: m.pad(x, (5, 7), mode=_mode), f64(3))
row("pad[int-width]", lambda m, x: m.pad(x, 2), X3)
row("pad[value]", lambda m, x: m.pad(x, (1, 2), constant_values=-1.5), X)
row("pad[per-side-values]", lambda m, x: m.pad(x, 1, constant_values=((1, 2), (3, 4))), X)
row("pad[int,float-value]", lambda m, x: m.pad(x, 1, constant_values=2.7), i64(3))
row("pad[f32]", lambda m, x: m.pad(x, (2, 0), mode="reflect"), f32(4))
row("pad[0d]", lambda m, x: m.pad(x, 3), np.array(2.0))
row("pad[traced-value]", lambda m, x, c: m.pad(x, ((0, 1), (2, 1)), constant_values=c), X,
    np.array(0.5))
row("pad[reflect-1]", lambda m, x: m.pad(x, (2, 3), mode="reflect"), f64(1))
row("diagonal", lambda m, x: m.diagonal(x), M34B)
row("diagonal[offset=1]", lambda m, x: m.diagonal(x, 1), M34B)
row("diagonal[offset=-2]", lambda m, x: m.diagonal(x, -2), M34B)
row("diagonal[offset=9]", lambda m, x: m.diagonal(x, 9), M34B)
row("diagonal[axes]", lambda m, x: m.diagonal(x, 1, axis1=2, axis2=0), T234)
row("diagonal[wide]", lambda m, x: m.diagonal(x, -1), f64(2, 5))
row("x.diagonal()", lambda m, x: x.diagonal(), M34B)
row("trace", lambda m, x: m.trace(x), f64(3, 3))
row("trace[offset]", lambda m, x: m.trace(x, -1), M34B)
row("trace[axes]", lambda m, x: m.trace(x, 0, 1, 2), T234)
row("trace[int]", lambda m, x: m.trace(x), i64(3, 3).astype(np.int32))
row("trace[dtype]", lambda m, x: m.trace(x, dtype=np.float32), f64(2, 2))
row("diag[1d]", lambda m, x: m.diag(x), f64(3))
row("diag[1d,k=2]", lambda m, x: m.diag(x, 2), f64(3))
row("diag[1d,k=-1]", lambda m, x: m.diag(x, k=-1), f64(4))
row("diag[2d]", lambda m, x: m.diag(x), M34B)
row("diag[2d,k=1]", lambda m, x: m.diag(x, 1), M34B)
row("diag[1d,one]", lambda m, x: m.diag(x), f64(1))
row("diag[int]", lambda m, x: m.diag(x, 1), i64(2))
row("diagflat", lambda m, x: m.diagflat(x), f64(2, 2))
row("diagflat[k=-1]", lambda m, x: m.diagflat(x, -1), f64(3))
row("triu", lambda m, x: m.triu(x), M34B)
row("triu[k=1]", lambda m, x: m.triu(x, 1), M34B)
row("triu[batched,k=-1]", lambda m, x: m.triu(x, -1), T234)
row("triu[1d]", lambda m, x: m.triu(x), f64(3))
row("triu[int]", lambda m, x: m.triu(x), i64(3, 3))
row("tril", lambda m, x: m.tril(x), M34B)
row("tril[k=-1]", lambda m, x: m.tril(x, -1), M34B)
row("tril[k=2,batched]", lambda m, x: m.tril(x, 2), T234)
row("tril[f32]", lambda m, x: m.tril(x), f32(3, 3))
row("eye*x", lambda m, x: m.eye(3) * x, f64(3, 3))
row("eye[k]*x", lambda m, x: m.eye(3, 4, k=1) @ x, f64(4))
row("identity+x", lambda m, x: m.identity(2) + x, f64(2, 2))
row("zeros+x", lambda m, x: m.zeros((2, 3)) + x, X)
row("ones*x", lambda m, x: m.ones(3, np.float32) * x, f32(3))
row("full", lambda m, x: m.full((2, 3), 1.5) * x, X)
row("full[int]", lambda m, x: m.full(3, 7) + x, i64(3))
row("arange", lambda m, x: m.arange(6) * x, V6)
row("arange[start,stop,step]", lambda m, x: m.arange(1.0, 2.0, 0.25) + x, f64(4))
row("arange[dtype]", lambda m, x: m.arange(3, dtype=np.float32) * x, f32(3))
row("linspace", lambda m, x, y: m.linspace(x, y, 7), np.array(-1.0), np.array(2.0))
row("linspace[const-stop]", lambda m, x: m.linspace(x, 1.0, 5), np.array(-1.0))
row("linspace[no-endpoint]", lambda m, x, y: m.linspace(x, y, 4, endpoint=False),
    np.array(0.5), np.array(2.0))
row("linspace[retstep]", lambda m, x, y: m.linspace(x, y, 6, retstep=True), np.array(0.0),
    np.array(3.0))
row("linspace[arrays]", lambda m, x, y: m.linspace(x, y, 3), f64(2), f64(3, 1))
row("linspace[axis=-1]", lambda m, x, y: m.linspace(x, y, 4, axis=-1), f64(2), f64(2))
row("linspace[num=1]", lambda m, x, y: m.linspace(x, y, 1), np.array(1.0), np.array(2.0))
row("linspace[num=0]", lambda m, x, y: m.linspace(x, y, 0), np.array(1.0), np.array(2.0))
row("linspace[f32]", lambda m, x, y: m.linspace(x, y, 5), f32(), f32())
row("linspace[int-dtype]", lambda m, x: m.linspace(x, 10.0, 4, dtype=np.int64), np.array(-3.5))
row("meshgrid", lambda m, x, y: m.meshgrid(x, y), f64(3), f64(2))
row("meshgrid[ij]", lambda m, x, y: m.meshgrid(x, y, indexing="ij"), f64(3), f64(2))
row("meshgrid[sparse]", lambda m, x, y: m.meshgrid(x, y, sparse=True), f64(3), f64(2))
row("meshgrid[3]", lambda m, x, y, z: m.meshgrid(x, y, z), f64(2), f64(3), f64(2, 2))
row("meshgrid[1]", lambda m, x: m.meshgrid(x), f64(3))
row("take", lambda m, x: m.take(x, [5, 0, 0, -1]), X)
row("take[axis=1]", lambda m, x: m.take(x, [[2, 0], [1, 1]], axis=1), X)
row("take[scalar]", lambda m, x: m.take(x, 1, axis=0), X)
row("take[wrap]", lambda m, x: m.take(x, [4, -5, 7], axis=-1, mode="wrap"), X)
row("take[clip]", lambda m, x: m.take(x, [4, -5, 1], axis=1, mode="clip"), X)
row("take[traced]", lambda m, x, i: m.take(x, i, axis=0), X3, np.array([1, 0, 1]))
row("take[traced,wrap]", lambda m, x, i: m.take(x, i, mode="wrap"), V6, np.array([7, -8]))
row("take[traced,clip]", lambda m, x, i: m.take(x, i, mode="clip"), V6, np.array([7, -8, 2]))
row("take[bool]", lambda m, x: m.take(x, np.array([True, False])), V6)
row("x.take", lambda m, x: x.take([2, 0], axis=1), X)
row("take_along_axis", lambda m, x: m.take_along_axis(x, np.array([[0, 2], [1, 1]]), 1), X)
row("take_along_axis[axis=0]", lambda m, x: m.take_along_axis(x, np.array([[1, 0, 1]]), 0), X)
row("take_along_axis[3d]", lambda m, x: m.take_along_axis(x, np.array([[[3], [0], [-1]]]), -1),
    X3)
row("take_along_axis[None]", lambda m, x: m.take_along_axis(x, np.array([5, 0]), None), X)
row("take_along_axis[traced]", lambda m, x, i: m.take_along_axis(x, i, axis=1), X,
    np.array([[2, 0], [-1, 1]]))
row("take_along_axis[argmax]", lambda m, x: m.take_along_axis(
    x, m.expand_dims(m.argmax(x, axis=1), 1), axis=1), X)

# -- linear algebra --
def _well(*s):
    return f64(*s) + 4 * np.eye(s[-1])


def _spd(*s):
    x = f64(*s)
    return x @ np.swapaxes(x, -1, -2) + s[-1] * np.eye(s[-1])


LA_SQ, LA_SQ3, LA_TALL, LA_WIDE = _well(3, 3), _well(2, 3, 3), f64(4, 3), f64(2, 4)
LA_SPD, LA_SPD3 = _spd(3, 3), _spd(2, 3, 3)
row("linalg.solve[matrix]", lambda m, a, b: m.linalg.solve(a, b), LA_SQ, f64(3, 2))
row("linalg.solve[vector]", lambda m, a, b: m.linalg.solve(a, b), LA_SQ, f64(3))
row("linalg.solve[batch,vector]", lambda m, a, b: m.linalg.solve(a, b), LA_SQ3, f64(3))
row("linalg.solve[broadcast]", lambda m, a, b: m.linalg.solve(a, b), _well(2, 1, 3, 3),
    f64(4, 3, 2))
row("linalg.solve[f32]", lambda m, a, b: m.linalg.solve(a, b), LA_SQ.astype(np.float32),
    f32(3, 2))
row("linalg.solve[int]", lambda m, a, b: m.linalg.solve(a, b), np.array([[3, 1], [1, 2]]),
    np.array([1, 2]))
row("linalg.inv", lambda m, a: m.linalg.inv(a), LA_SQ)
row("linalg.inv[batch,f32]", lambda m, a: m.linalg.inv(a), LA_SQ3.astype(np.float32))
row("linalg.det", lambda m, a: m.linalg.det(a), f64(3, 3))
row("linalg.det[batch]", lambda m, a: m.linalg.det(a), f64(2, 4, 4))
row("linalg.slogdet", lambda m, a: m.linalg.slogdet(a), f64(3, 3))
row("linalg.slogdet[batch]", lambda m, a: m.linalg.slogdet(a), f64(2, 2, 2))
row("linalg.cholesky", lambda m, a: m.linalg.cholesky(a), LA_SPD)
row("linalg.cholesky[upper,batch]", lambda m, a: m.linalg.cholesky(a, upper=True), LA_SPD3)
row("linalg.qr", lambda m, a: m.linalg.qr(a), LA_TALL)
row("linalg.qr[wide,batch]", lambda m, a: m.linalg.qr(a), f64(2, 2, 4))
row("linalg.qr[r]", lambda m, a: m.linalg.qr(a, mode="r"), LA_TALL)
row("linalg.qr[complete]", lambda m, a: m.linalg.qr(a, mode="complete"), LA_TALL)
row("linalg.eigh", lambda m, a: m.linalg.eigh(a), f64(3, 3))
row("linalg.eigh[U,batch]", lambda m, a: m.linalg.eigh(a, UPLO="U"), f64(2, 3, 3))
row("linalg.eigvalsh", lambda m, a: m.linalg.eigvalsh(a), LA_SPD)
row("linalg.svd", lambda m, a: m.linalg.svd(a), f64(3, 3))
row("linalg.svd[full,tall]", lambda m, a: m.linalg.svd(a), LA_TALL)
row("linalg.svd[thin,batch]", lambda m, a: m.linalg.svd(a, full_matrices=False), f64(2, 3, 5))
row("linalg.svd[values]", lambda m, a: m.linalg.svd(a, compute_uv=False), LA_WIDE)
row("linalg.svd[hermitian]", lambda m, a: m.linalg.svd(a, hermitian=True), LA_SPD)
row("linalg.svdvals", lambda m, a: m.linalg.svdvals(a), f64(2, 3, 4))
row("linalg.pinv", lambda m, a: m.linalg.pinv(a), LA_TALL)
row("linalg.pinv[batch,rtol]", lambda m, a: m.linalg.pinv(a, rtol=None), f64(2, 3, 4))
row("linalg.pinv[hermitian]", lambda m, a: m.linalg.pinv(a, hermitian=True), LA_SPD)
for _n in [0, 1, 2, 3, 6, -1, -2]:
    row(f"linalg.matrix_power[{_n}]", lambda m, a, _n=_n: m.linalg.matrix_power(a, _n), LA_SQ / 4)
row("linalg.matrix_power[batch]", lambda m, a: m.linalg.matrix_power(a, 5), LA_SQ3 / 4)
row("linalg.matrix_power[int]", lambda m, a: m.linalg.matrix_power(a, 4),
    np.array([[1, 2], [0, -1]]))
row("linalg.lstsq", lambda m, a, b: m.linalg.lstsq(a, b), f64(5, 3), f64(5, 2))
row("linalg.lstsq[vector]", lambda m, a, b: m.linalg.lstsq(a, b), f64(5, 3), f64(5))
row("linalg.lstsq[wide]", lambda m, a, b: m.linalg.lstsq(a, b, rcond=1e-10), LA_WIDE, f64(2))
row("linalg.matrix_rank", lambda m, a: m.linalg.matrix_rank(a), f64(3, 4))
row("linalg.matrix_rank[deficient,batch]", lambda m, a: m.linalg.matrix_rank(a),
    f64(2, 4, 2) @ f64(2, 2, 4))
row("linalg.matrix_rank[tol]", lambda m, a: m.linalg.matrix_rank(a, tol=1.0), LA_SPD)
row("linalg.multi_dot", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), f64(2, 3),
    f64(3, 4), f64(4, 2))
row("linalg.multi_dot[4,vectors]", lambda m, a, b, c, d: m.linalg.multi_dot([a, b, c, d]),
    f64(5), f64(5, 3), f64(3, 4), f64(4))
row("linalg.tensorinv", lambda m, a: m.linalg.tensorinv(a, ind=1), _well(4, 4).reshape(4, 2, 2))
row("linalg.tensorsolve", lambda m, a, b: m.linalg.tensorsolve(a, b),
    _well(6, 6).reshape(2, 3, 6), f64(2, 3))
row("linalg.cond", lambda m, a: m.linalg.cond(a), f64(3, 3))
row("linalg.cond[-2,batch]", lambda m, a: m.linalg.cond(a, -2), f64(2, 3, 3))
row("linalg.cond[fro]", lambda m, a: m.linalg.cond(a, "fro"), LA_SQ)
row("linalg.cond[inf]", lambda m, a: m.linalg.cond(a, np.inf), LA_SQ)
for _ord in [None, 2, 1, -1, np.inf, -np.inf, 0, 3, 0.5, -2]:
    row(f"linalg.norm[vector,ord={_ord}]", lambda m, x, _o=_ord: m.linalg.norm(x, _o), f64(5))
    row(f"linalg.norm[axis=1,ord={_ord}]",
        lambda m, x, _o=_ord: m.linalg.norm(x, _o, axis=1, keepdims=True), f64(2, 5))
for _ord in [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]:
    row(f"linalg.norm[matrix,ord={_ord}]", lambda m, x, _o=_ord: m.linalg.norm(x, _o), f64(3, 4))
    row(f"linalg.norm[axes=(2,0),ord={_ord}]",
        lambda m, x, _o=_ord: m.linalg.norm(x, _o, axis=(2, 0), keepdims=True), f64(4, 2, 3))
row("linalg.norm[3d]", lambda m, x: m.linalg.norm(x), f64(2, 3, 4))
row("linalg.norm[int]", lambda m, x: m.linalg.norm(x), np.array([3, 4]))
row("linalg.norm[f32]", lambda m, x: m.linalg.norm(x, axis=0), f32(4, 2))
row("linalg.norm[0d]", lambda m, x: m.linalg.norm(x), np.array(-2.0))
row("linalg.norm[zeros]", lambda m, x: m.linalg.norm(x), np.zeros(3))
row("linalg.vector_norm", lambda m, x: m.linalg.vector_norm(x), f64(2, 3))
row("linalg.vector_norm[axes,ord=3]",
    lambda m, x: m.linalg.vector_norm(x, axis=(0, 2), keepdims=True, ord=3), f64(2, 3, 4))
row("linalg.vector_norm[inf]", lambda m, x: m.linalg.vector_norm(x, axis=-1, ord=np.inf),
    f64(2, 3))
row("linalg.matrix_norm", lambda m, x: m.linalg.matrix_norm(x), f64(2, 3, 4))
row("linalg.matrix_norm[nuc]", lambda m, x: m.linalg.matrix_norm(x, ord="nuc", keepdims=True),
    f64(2, 3, 4))
row("linalg.matmul", lambda m, a, b: m.linalg.matmul(a, b), f64(2, 2, 3), f64(3, 4))
row("linalg.outer", lambda m, a, b: m.linalg.outer(a, b), f64(2), f64(3))
row("linalg.tensordot", lambda m, a, b: m.linalg.tensordot(a, b, axes=1), f64(2, 3), f64(3, 4))
row("linalg.vecdot", lambda m, a, b: m.linalg.vecdot(a, b), f64(2, 3), f64(3))
row("linalg.vecdot[axis=0]", lambda m, a, b: m.linalg.vecdot(a, b, axis=0), f64(3, 2), f64(3, 1))
row("linalg.cross", lambda m, a, b: m.linalg.cross(a, b), f64(2, 3), f64(3))
row("linalg.diagonal", lambda m, a: m.linalg.diagonal(a, offset=1), f64(2, 3, 4))
row("linalg.trace", lambda m, a: m.linalg.trace(a), f64(2, 3, 3))
row("linalg.trace[int,offset]", lambda m, a: m.linalg.trace(a, offset=-1), i64(3, 3))
row("linalg.matrix_transpose", lambda m, a: m.linalg.matrix_transpose(a), f64(2, 3, 4))
row("kron", lambda m, a, b: m.kron(a, b), f64(2, 3), f64(2, 2))
row("kron[1d,2d]", lambda m, a, b: m.kron(a, b), f64(3), f64(2, 2))
row("kron[3d,2d,int]", lambda m, a, b: m.kron(a, b), i64(2, 1, 2), f64(3, 2))
row("kron[0d]", lambda m, a, b: m.kron(a, b), np.array(2.0), f64(3))
row("cross", lambda m, a, b: m.cross(a, b), f64(3), f64(3))
row("cross[broadcast]", lambda m, a, b: m.cross(a, b), f64(4, 1, 3), f64(2, 3))
row("cross[axisa,axisc]", lambda m, a, b: m.cross(a, b, axisa=0, axisc=0), f64(3, 2), f64(2, 3))
row("cross[axis]", lambda m, a, b: m.cross(a, b, axis=0), f64(3, 2), f64(3, 2))
row("vecdot", lambda m, a, b: m.vecdot(a, b), f64(2, 3), f64(3))
row("vecdot[axis=0,int]", lambda m, a, b: m.vecdot(a, b, axis=0), i64(3, 2), f64(3, 2))
row("matvec", lambda m, a, b: m.matvec(a, b), f64(2, 3, 4), f64(4))
row("matvec[broadcast]", lambda m, a, b: m.matvec(a, b), f64(3, 4), f64(2, 4))
row("vecmat", lambda m, a, b: m.vecmat(a, b), f64(3), f64(2, 3, 4))
row("einsum[broadcast-1]", lambda m, a, b: m.einsum("ij,j->i", a, b), f64(2, 3), f64(1))
row("einsum[...broadcast]", lambda m, a, b: m.einsum("...i,...i->...", a, b), f64(2, 1, 3),
    f64(4, 3))
row("einsum[sublists]", lambda m, a, b: m.einsum(a, [0, 1], b, [1, 2], [0, 2]), f64(2, 3),
    f64(3, 4))
row("einsum[sublists,ellipsis]", lambda m, a: m.einsum(a, [Ellipsis, 0, 0]), f64(2, 3, 3))
row("einsum[optimize]", lambda m, a, b, c: m.einsum("ij,jk,kl", a, b, c, optimize=True),
    f64(2, 3), f64(3, 4), f64(4, 5))

# the everyday functions (diff, cov, nan*, convolve, interp, ...): their rows live with
# their own tests in test_numpy_everyday.py
for _id, _fn, *_args in EVERYDAY_ROWS:
    row(_id, _fn, *_args)


# -- the tests ----------------------------------------------------------------
def _leaves(x):
    if isinstance(x, (tuple, list)):
        return [leaf for item in x for leaf in _leaves(item)]
    return [x]


def assert_same(actual, expected):
    """Equal structure, shapes and dtypes exactly; values to the dtype's precision."""
    if isinstance(expected, (tuple, list)):
        assert isinstance(actual, (tuple, list)), type(actual)
    actual, expected = _leaves(actual), _leaves(expected)
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        a, e = np.asarray(a), np.asarray(e)
        assert a.shape == e.shape, (a.shape, e.shape)
        assert a.dtype == e.dtype, (a.dtype, e.dtype)
        if np.issubdtype(e.dtype, np.inexact):
            tol = 1e-5 if e.dtype == np.float32 else 1e-12
            np.testing.assert_allclose(a, e, rtol=tol, atol=tol)
        else:
            np.testing.assert_array_equal(a, e)


@pytest.mark.parametrize("fn, args", ROWS)
def test_chainrule_numpy_matches_numpy(fn, args):
    with np.errstate(all="ignore"):
        expected = fn(np, *args)
        ir = cr.make_ir(with_module(fn, cnp))(*args)
        ir.check()
        out = ir.eval(*args)
    assert_same(out, expected)
    out_avals = ir.out_avals
    expected_leaves = [np.asarray(e) for e in _leaves(expected)]
    assert [(a.shape, a.dtype) for a in out_avals] == [(e.shape, e.dtype)
                                                       for e in expected_leaves]


@pytest.mark.parametrize("fn, args", ROWS)
def test_plain_numpy_traces_to_the_same_ir(fn, args):
    with np.errstate(all="ignore"):
        ir_np = cr.make_ir(with_module(fn, np))(*args)
        ir_cnp = cr.make_ir(with_module(fn, cnp))(*args)
    ir_np.check()
    assert str(ir_np) == str(ir_cnp)


# ``numpy.array`` does not dispatch to ``__array_function__``, so a list of
# tracers can only be stacked with ``chainrule.numpy.array`` (or np.stack).
ARRAY_ROWS = [
    pytest.param(lambda x, y: cnp.array([x, y]), lambda x, y: np.array([x, y]),
                 (f64(3), f64(3)), id="array[[x,y]]"),
    pytest.param(lambda x, y: cnp.array([[x, 1.0], [2.0, y]]),
                 lambda x, y: np.array([[x, 1.0], [2.0, y]]),
                 (np.array(3.0), np.array(4.0)), id="array[nested-with-constants]"),
    pytest.param(lambda x, y: cnp.array([x, y], dtype=np.float32),
                 lambda x, y: np.array([x, y], dtype=np.float32),
                 (f64(2), f64(2)), id="array[dtype]"),
    pytest.param(lambda x: cnp.array(x), lambda x: np.array(x), (X,), id="array[tracer]"),
    pytest.param(lambda x: cnp.asarray([x, x]), lambda x: np.asarray([x, x]), (V3,),
                 id="asarray[list]"),
    pytest.param(lambda x: cnp.array([x, x], ndmin=3), lambda x: np.array([x, x], ndmin=3),
                 (V3,), id="array[ndmin]"),
]


@pytest.mark.parametrize("cnp_fn, np_fn, args", ARRAY_ROWS)
def test_array_of_a_list_of_tracers(cnp_fn, np_fn, args):
    ir = cr.make_ir(cnp_fn)(*args)
    ir.check()
    assert_same(ir.eval(*args), np_fn(*args))


# chainrule.numpy functions that return metadata, not arrays: no equations
METADATA = {"shape", "ndim", "size"}


def test_table_covers_every_function_of_chainrule_numpy():
    """Every function chainrule.numpy defines (rather than re-exports from
    NumPy) has rows above, so a new one without rows fails here."""
    ids = {p.id.split("[")[0] for p in ROWS + ARRAY_ROWS}
    own = sorted(name for name in dir(cnp) if not name.startswith("_")
                 and callable(getattr(cnp, name)) and not isinstance(getattr(cnp, name), type)
                 and (getattr(getattr(cnp, name), "__module__", "") or "").startswith(
                     "chainrule.numpy"))
    missing = [n for n in own if n not in ids and n not in METADATA]
    assert not missing, f"chainrule.numpy functions without rows: {missing}"


def test_row_ids_are_unique():
    ids = [p.id for p in ROWS + ARRAY_ROWS]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


@pytest.mark.parametrize("compare", [np.greater, np.less_equal, np.equal, np.not_equal])
def test_comparisons_of_python_ints_trace_as_numpy_computes_them(compare):
    # NumPy resolves two Python ints to its object loop, but computes on int64
    for n in (-1, 0, 3):
        closed = cr.make_ir(lambda k: compare(k, 0))(n)
        assert [str(v.aval.dtype) for v in closed.ir.invars] == ["int64"]
        assert closed.eval(n) == compare(n, 0) and closed.eval(n).dtype == np.bool_
