"""The elementwise, reduction, cumulative, sorting and
``chainrule.scipy.special`` functions, differentiated.

* ``GRADS``: every one of these functions through ``check_grads(order=2,
  modes=("fwd", "rev"))`` on several shapes (0-d, broadcasting operands,
  axis variants, keepdims), at points where it is differentiable;
* ``ZERO``: the piecewise-constant and boolean functions have exactly zero
  derivatives in both modes;
* the hard points (ties, zeros, the origin), each against numbers worked out
  by hand and documented in ``docs/gradients-at-hard-points.md``;
* numerical stability at |x| = 1000;
* NaN semantics (``maximum`` propagates NaN, ``fmax`` ignores it);
* hand-derived derivative formulas (var, std, average, softmax, sort, cumsum);
* errors for what is not supported.
"""
from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.scipy import special

rng = np.random.default_rng(2024)


def anyf(*shape):
    return rng.uniform(-2.0, 2.0, shape)


def pos(*shape):
    return rng.uniform(0.5, 3.0, shape)


def unit(*shape):
    return rng.uniform(-0.8, 0.8, shape)


def nonzero(*shape):
    return rng.uniform(0.5, 2.0, shape) * np.where(rng.integers(0, 2, shape) == 1, 1.0, -1.0)


def distinct(*shape, gap=0.2):
    """No two values closer than ``gap``: sorting and extrema have no ties."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * gap - n * gap / 2 + rng.uniform(0, gap / 4, n)).reshape(shape)


GRADS = []


def grad_row(id, fn, *args, **tol):
    GRADS.append(pytest.param(fn, args, tol, id=id))


# -- elementwise: unary, on 0-d, 1-d, 2-d and a broadcast operand ---------------
UNARY = {
    "sin": anyf, "cos": anyf, "tan": unit, "arcsin": unit, "arccos": unit, "arctan": anyf,
    "sinh": anyf, "cosh": anyf, "tanh": anyf, "arcsinh": anyf,
    "arccosh": lambda *s: rng.uniform(1.2, 3.0, s), "arctanh": unit,
    "exp": anyf, "exp2": anyf, "expm1": anyf, "log": pos, "log2": pos, "log10": pos,
    "log1p": lambda *s: rng.uniform(-0.5, 2.0, s), "sqrt": pos, "cbrt": nonzero,
    "square": anyf, "reciprocal": nonzero, "absolute": nonzero, "abs": nonzero,
    "fabs": nonzero, "negative": anyf, "positive": anyf, "deg2rad": anyf, "rad2deg": anyf,
    "radians": anyf, "degrees": anyf, "sinc": anyf, "real": anyf, "conj": anyf,
    "conjugate": anyf, "nan_to_num": anyf,
}
for _name, _make in UNARY.items():
    _f = getattr(cnp, _name)
    grad_row(f"{_name}[0d]", _f, _make())
    grad_row(f"{_name}[2x3]", _f, _make(2, 3))
    grad_row(f"{_name}[broadcast]", lambda x, _f=_f: _f(x * np.ones((2, 1))), _make(3))
grad_row("sinc[at 0]", cnp.sinc, np.array([0.0, 0.5, -1.0]))
grad_row("copysign[x1]", lambda x: cnp.copysign(x, np.array([-1.0, 2.0, -0.0])), nonzero(3))
grad_row("copysign[0d,bcast]", cnp.copysign, nonzero(), nonzero(2, 3))
grad_row("heaviside[x2]", lambda y: cnp.heaviside(np.array([0.0, -1.0, 2.0, 0.0]), y), anyf(4))
grad_row("nan_to_num[specials]", lambda x: cnp.nan_to_num(
    x + np.array([0.0, np.inf, -np.inf, np.nan])), anyf(4))

# -- elementwise: binary, with NumPy broadcasting and Python scalars -------------
BINARY = {
    "add": (anyf, anyf), "subtract": (anyf, anyf), "multiply": (anyf, anyf),
    "divide": (anyf, nonzero), "true_divide": (anyf, nonzero), "power": (pos, anyf),
    "float_power": (pos, anyf), "arctan2": (anyf, pos), "hypot": (nonzero, nonzero),
    "logaddexp": (anyf, anyf), "logaddexp2": (anyf, anyf),
}
SHAPES = [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((3, 1), (1, 4)), ((), (2, 3))]
for _name, (_mx, _my) in BINARY.items():
    _f = getattr(cnp, _name)
    for _sx, _sy in SHAPES:
        grad_row(f"{_name}[{_sx},{_sy}]", _f, _mx(*_sx), _my(*_sy))
    grad_row(f"{_name}[x,1.5]", lambda x, _f=_f: _f(x, 1.5), _mx(3))
    grad_row(f"{_name}[1.5,y]", lambda y, _f=_f: _f(1.5, y), _my(3))
# extrema, NaN-ignoring extrema and remainder: operands kept apart (no ties, no jumps)
for _name in ["maximum", "minimum", "fmax", "fmin"]:
    _f = getattr(cnp, _name)
    _x = distinct(6)
    grad_row(f"{_name}[3,3]", _f, _x[:3], _x[3:])
    grad_row(f"{_name}[2x3,0d]", _f, distinct(2, 3) + 0.05, np.array(0.0))
    grad_row(f"{_name}[0d,0d]", _f, np.array(0.3), np.array(-0.4))
for _name in ["remainder", "mod"]:
    _y = nonzero(3)
    grad_row(f"{_name}[3,3]", getattr(cnp, _name), _y * (rng.integers(-2, 3, 3) + 0.5), _y)
grad_row("divmod[remainder]", lambda x, y: cnp.divmod(x, y)[1], np.array([2.5, -1.3]),
         np.array([2.0, 1.0]))
grad_row("clip[scalars]", lambda x: cnp.clip(x, -0.5, 0.5), np.array([-1.0, -0.2, 0.3, 0.9]))
grad_row("clip[traced bounds]", lambda x, lo, hi: cnp.clip(x, lo, hi),
         np.array([-1.0, -0.2, 0.3, 0.9]), np.array(-0.5), np.array([0.5, 0.5, 0.5, 0.6]))
grad_row("where[bcast]", lambda c, x, y: cnp.where(c > 0, x, y), nonzero(3, 1), anyf(4), anyf())

# -- reductions --------------------------------------------------------------------
AXES = [dict(), dict(axis=0), dict(axis=-1), dict(axis=(0, 2)), dict(axis=1, keepdims=True)]
REDUCTIONS = {
    "sum": anyf, "mean": anyf, "prod": nonzero, "max": distinct, "min": distinct,
    "amax": distinct, "amin": distinct, "ptp": distinct, "var": anyf, "std": anyf,
    "average": anyf, "median": distinct, "logsumexp": anyf,
}
for _name, _make in REDUCTIONS.items():
    _f = getattr(special, _name) if _name == "logsumexp" else getattr(cnp, _name)
    if _name != "std":  # the std of one value is 0, where sqrt has no derivative
        grad_row(f"{_name}[0d]", _f, _make() if _make is not distinct else np.array(0.7))
    for _k in AXES:
        _label = ",".join(f"{k}={v}" for k, v in _k.items())
        grad_row(f"{_name}[{_label}]", lambda x, _f=_f, _k=_k: _f(x, **_k), _make(2, 3, 2))
for _name in ["var", "std"]:
    grad_row(f"{_name}[ddof=1]", lambda x, _n=_name: getattr(cnp, _n)(x, axis=0, ddof=1),
             anyf(4, 2))
grad_row("average[weights]", lambda x, w: cnp.average(x, weights=w), anyf(2, 3), pos(2, 3))
grad_row("average[1d weights,axis=0]", lambda x, w: cnp.average(x, axis=0, weights=w),
         anyf(3, 2), pos(3))
grad_row("average[tuple axis]", lambda x, w: cnp.average(x, axis=(2, 0), weights=w),
         anyf(2, 3, 4), pos(4, 2))
grad_row("average[returned]", lambda x, w: cnp.average(x, axis=1, weights=w, returned=True),
         anyf(2, 3), pos(2, 3))
for _q, _name in [(0.3, "quantile"), ([0.0, 0.45, 1.0], "quantile"), (30, "percentile"),
                  ([10, 55.5], "percentile")]:
    _f = getattr(cnp, _name)
    grad_row(f"{_name}[{_q}]", lambda x, _f=_f, _q=_q: _f(x, _q), distinct(5))
    grad_row(f"{_name}[{_q},axis=1,keepdims]", lambda x, _f=_f, _q=_q: _f(
        x, _q, axis=1, keepdims=True), distinct(2, 4))
    grad_row(f"{_name}[{_q},axis=(0,2)]", lambda x, _f=_f, _q=_q: _f(x, _q, axis=(0, 2)),
             distinct(2, 3, 2))
for _method in ["lower", "higher", "nearest", "midpoint"]:
    grad_row(f"quantile[method={_method}]", lambda x, _m=_method: cnp.quantile(
        x, [0.2, 0.7], method=_m), distinct(6))
grad_row("median[even]", cnp.median, distinct(6))

# -- cumulative, sorting, scipy.special ---------------------------------------------
for _name, _make in [("cumsum", anyf), ("cumprod", nonzero)]:
    _f = getattr(cnp, _name)
    grad_row(f"{_name}[0d]", _f, _make())
    grad_row(f"{_name}[flattened]", _f, _make(2, 3))
    grad_row(f"{_name}[axis=0]", lambda x, _f=_f: _f(x, axis=0), _make(3, 2))
    grad_row(f"{_name}[axis=-1]", lambda x, _f=_f: _f(x, axis=-1), _make(2, 5))
    grad_row(f"{_name}[broadcast]", lambda x, _f=_f: _f(x + np.zeros((2, 1)), axis=0), _make(3))
grad_row("cumulative_sum[include_initial]", lambda x: cnp.cumulative_sum(
    x, axis=1, include_initial=True), anyf(2, 3))
grad_row("cumulative_prod[include_initial]", lambda x: cnp.cumulative_prod(
    x, include_initial=True), nonzero(4))
grad_row("cumprod[zeros]", cnp.cumprod, np.array([1.5, 0.0, -2.0, 0.0, 0.7, 1.2]))
for _axis in [-1, 0, None]:
    grad_row(f"sort[axis={_axis}]", lambda x, _a=_axis: cnp.sort(x, axis=_a), distinct(3, 4))
grad_row("sort[0d,axis=None]", lambda x: cnp.sort(x, axis=None), np.array(0.4))
grad_row("sort[top-k]", lambda x: cnp.sort(x, axis=1)[:, -2:], distinct(3, 5))
grad_row("sort[argsort-gather]", lambda x: x[cnp.argsort(x)][:3], distinct(5))
for _name in ["softmax", "log_softmax"]:
    _f = getattr(special, _name)
    grad_row(f"{_name}[all]", _f, anyf(2, 3))
    grad_row(f"{_name}[axis=-1]", lambda x, _f=_f: _f(x, axis=-1), anyf(2, 3))
    grad_row(f"{_name}[axis=(0,2)]", lambda x, _f=_f: _f(x, axis=(0, 2)), anyf(2, 3, 2))
    grad_row(f"{_name}[0d]", _f, anyf())
grad_row("logsumexp[b]", lambda x, b: special.logsumexp(x, axis=0, b=b), anyf(3, 2), pos(3, 2))
grad_row("logsumexp[return_sign]", lambda x: special.logsumexp(
    x, b=np.array([1.0, -3.0, 0.5]), return_sign=True)[0], np.array([0.1, 0.2, -0.4]))
for _name, _make in [("expit", anyf), ("log_expit", anyf),
                     ("logit", lambda *s: rng.uniform(0.1, 0.9, s))]:
    grad_row(f"{_name}[0d]", getattr(special, _name), _make())
    grad_row(f"{_name}[2x3]", getattr(special, _name), _make(2, 3))


@pytest.mark.parametrize("fn, args, tol", GRADS)
def test_check_grads(fn, args, tol):
    cr.check_grads(fn, args, order=2, modes=("fwd", "rev"), **tol)


# -- zero derivatives ------------------------------------------------------------------
ZERO = [
    ("floor", cnp.floor), ("ceil", cnp.ceil), ("rint", cnp.rint), ("trunc", cnp.trunc),
    ("fix", cnp.fix), ("round", cnp.round), ("around[2]", lambda x: cnp.around(x, 2)),
    ("round[-1]", lambda x: cnp.round(x * 30, -1)), ("sign", cnp.sign),
    ("floor_divide", lambda x: cnp.floor_divide(x, 0.7)),
    ("divmod[quotient]", lambda x: cnp.divmod(x, 0.7)[0]),
    ("heaviside[x1]", lambda x: cnp.heaviside(x, 0.5)),
    ("copysign[x2]", lambda y: cnp.copysign(np.array([1.0, -2.0, 3.0]), y)),
    ("signbit", cnp.signbit), ("isnan", cnp.isnan), ("isinf", cnp.isinf),
    ("isfinite", cnp.isfinite), ("isposinf", cnp.isposinf), ("isneginf", cnp.isneginf),
    ("all", lambda x: cnp.all(x > 0, axis=0)), ("any", lambda x: cnp.any(x > 0)),
    ("count_nonzero", lambda x: cnp.count_nonzero(x > 0, axis=0)),
    ("argsort", cnp.argsort), ("imag", cnp.imag),
    ("stop_gradient", lambda x: cr.primitives.stop_gradient_p.bind(x)),
]


@pytest.mark.parametrize("fn", [pytest.param(f, id=name) for name, f in ZERO])
def test_zero_derivatives(fn):
    x = np.array([[-1.37, 0.24, 2.61], [0.83, -0.46, 1.12]])
    t = rng.standard_normal(x.shape)
    out, t_out = cr.jvp(fn, (x,), (t,))
    assert np.shape(t_out) == np.shape(out)
    assert not np.any(np.asarray(t_out))
    loss = lambda x: cnp.sum(cnp.multiply(fn(x), 1.0))  # noqa: E731
    np.testing.assert_array_equal(cr.grad(loss)(x), np.zeros_like(x))


# -- the hard points: docs/gradients-at-hard-points.md ---------------------------------
def grad(f, *args, argnums=0):
    return cr.grad(lambda *a: cnp.sum(f(*a)), argnums=argnums)(*args)


def hessian(f, x):
    """Forward over reverse, one basis direction at a time (no vmap)."""
    g = cr.grad(f)
    cols = [cr.jvp(g, (x,), (np.eye(x.size)[i].reshape(x.shape),))[1] for i in range(x.size)]
    return np.stack([np.ravel(c) for c in cols], axis=1)


def test_abs_at_zero_is_zero():
    np.testing.assert_array_equal(grad(cnp.abs, np.array([0.0, 2.0, -3.0])), [0.0, 1.0, -1.0])
    np.testing.assert_array_equal(grad(cnp.fabs, np.array([0.0, -0.0])), [0.0, 0.0])


def test_maximum_and_minimum_split_ties_evenly():
    x, y = np.array([1.0, 2.0, 0.0]), np.array([1.0, 1.0, 0.0])
    for f in (cnp.maximum, cnp.minimum, cnp.fmax, cnp.fmin):
        gx, gy = grad(f, x, y, argnums=(0, 1))
        winner_x = 1.0 if f in (cnp.maximum, cnp.fmax) else 0.0
        np.testing.assert_array_equal(gx, [0.5, winner_x, 0.5])
        np.testing.assert_array_equal(gy, [0.5, 1.0 - winner_x, 0.5])
    # relu written as maximum(x, 0): 1/2 at 0
    np.testing.assert_array_equal(grad(lambda x: cnp.maximum(x, 0.0), np.array([-1.0, 0.0, 2.0])),
                                  [0.0, 0.5, 1.0])


def test_clip_at_its_bounds_is_one_half():
    x = np.array([-1.0, 0.0, 0.4, 1.0, 2.0])
    np.testing.assert_array_equal(grad(lambda x: cnp.clip(x, 0.0, 1.0), x),
                                  [0.0, 0.5, 1.0, 0.5, 0.0])


def test_sqrt_at_zero_is_infinite():
    with np.errstate(divide="ignore"):
        g = grad(cnp.sqrt, np.array([0.0, 4.0]))
    assert g[0] == np.inf and g[1] == 0.25


def test_prod_with_zeros():
    # d prod / dx_i is the product of the others
    np.testing.assert_array_equal(grad(cnp.prod, np.array([2.0, 0.0, 3.0])), [0.0, 6.0, 0.0])
    np.testing.assert_array_equal(grad(cnp.prod, np.array([0.0, 5.0, 0.0])), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(grad(cnp.prod, np.array([0.0])), [1.0])
    # second derivatives: d2 prod / dx_i dx_j is the product of the other two
    np.testing.assert_allclose(hessian(cnp.prod, np.array([2.0, 0.0, 3.0])),
                               [[0.0, 3.0, 0.0], [3.0, 0.0, 2.0], [0.0, 2.0, 0.0]])
    np.testing.assert_allclose(hessian(cnp.prod, np.array([0.0, 0.0, 3.0])),
                               [[0.0, 3.0, 0.0], [3.0, 0.0, 0.0], [0.0, 0.0, 0.0]])


def test_cumprod_with_zeros():
    # sum(cumprod(x)) at x = [1, 0, 2, 3, 4]: d/dx1 = 1 + 2 + 2*3 + 2*3*4 = 33
    np.testing.assert_array_equal(grad(cnp.cumprod, np.array([1.0, 0.0, 2.0, 3.0, 4.0])),
                                  [1.0, 33.0, 0.0, 0.0, 0.0])


def test_max_with_repeated_maxima_splits_evenly():
    np.testing.assert_allclose(grad(cnp.max, np.array([1.0, 3.0, 3.0, 2.0])), [0, 0.5, 0.5, 0])
    np.testing.assert_allclose(grad(cnp.max, np.array([3.0, 3.0, 3.0])), [1 / 3] * 3)
    np.testing.assert_allclose(grad(lambda x: cnp.min(x, axis=1), np.array([[0.0, 0.0, 1.0],
                                                                            [2.0, -1.0, 4.0]])),
                               [[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]])
    # ptp = max - min: each end split among its ties
    np.testing.assert_allclose(grad(cnp.ptp, np.array([1.0, 5.0, 1.0, 5.0, 3.0])),
                               [-0.5, 0.5, -0.5, 0.5, 0.0])


def test_std_of_constant_data_has_nan_gradient_and_var_zero():
    x = np.full(3, 2.0)
    np.testing.assert_array_equal(grad(cnp.var, x), [0.0, 0.0, 0.0])
    with np.errstate(all="ignore"):
        assert np.all(np.isnan(grad(cnp.std, x)))


def test_order_statistics_route_the_gradient_to_the_selected_elements():
    x = np.array([4.0, -1.0, 7.0, 2.0])           # sorted: -1, 2, 4, 7
    np.testing.assert_array_equal(grad(cnp.median, x), [0.5, 0.0, 0.0, 0.5])
    np.testing.assert_array_equal(grad(cnp.median, x[:3]), [1.0, 0.0, 0.0])
    # quantile 0.25 of 4 values: position 0.75 between -1 and 2, weights 1/4 and 3/4
    np.testing.assert_allclose(grad(lambda x: cnp.quantile(x, 0.25), x), [0.0, 0.25, 0.0, 0.75])
    np.testing.assert_allclose(grad(lambda x: cnp.percentile(x, 100), x), [0.0, 0.0, 1.0, 0.0])
    np.testing.assert_allclose(grad(lambda x: cnp.quantile(x, 0.25, method="nearest"), x),
                               [0.0, 0.0, 0.0, 1.0])
    # sort: the cotangent of sorted position j goes to the element that landed there
    w = np.array([1.0, 10.0, 100.0, 1000.0])
    np.testing.assert_array_equal(grad(lambda x: cnp.sort(x) * w, x), [100.0, 1.0, 1000.0, 10.0])
    # ties: the stable order decides; nothing is split
    np.testing.assert_array_equal(grad(lambda x: cnp.sort(x) * w[:3], np.array([2.0, 1.0, 2.0])),
                                  [10.0, 1.0, 100.0])


def test_logaddexp_and_hypot_at_ties_and_the_origin():
    # logaddexp(x, y) at x = y: gradient (1/2, 1/2), Hessian [[1, -1], [-1, 1]] / 4
    f = lambda v: cnp.logaddexp(v[0], v[1])  # noqa: E731
    np.testing.assert_allclose(cr.grad(f)(np.array([0.3, 0.3])), [0.5, 0.5])
    np.testing.assert_allclose(hessian(f, np.array([0.3, 0.3])), [[0.25, -0.25], [-0.25, 0.25]])
    # hypot: (x, y) / h, and 0 at the origin (as JAX)
    np.testing.assert_allclose(grad(cnp.hypot, np.array(3.0), np.array(-4.0), argnums=(0, 1)),
                               (0.6, -0.8))
    assert grad(cnp.hypot, np.array(0.0), np.array(0.0), argnums=(0, 1)) == (0.0, 0.0)
    # |x| = |y|: both derivatives 1/sqrt(2), and the second derivative in x is y^2/h^3
    g = lambda v: cnp.hypot(v[0], v[1])  # noqa: E731
    np.testing.assert_allclose(hessian(g, np.array([1.0, 1.0])),
                               np.array([[1.0, -1.0], [-1.0, 1.0]]) / 2 ** 1.5)


def test_sinc_derivatives_at_zero():
    # sinc(x) = 1 - (pi x)^2/6 + ...: f'(0) = 0, f''(0) = -pi^2/3; sinc'(1) = cos(pi)/1 = -1
    np.testing.assert_allclose(grad(cnp.sinc, np.array([0.0, 1.0])), [0.0, -1.0], atol=1e-15)
    np.testing.assert_allclose(hessian(lambda x: cnp.sinc(x[0]), np.array([0.0])),
                               [[-np.pi ** 2 / 3]])


def test_copysign_and_heaviside():
    # copysign(x1, x2) = +-|x1|: derivative +-sign(x1), 0 at x1 = 0
    np.testing.assert_array_equal(grad(cnp.copysign, np.array([2.0, -2.0, 0.0]),
                                       np.array([-1.0, -1.0, 1.0])), [-1.0, 1.0, 0.0])
    # heaviside: only the value at 0 (x2) has a derivative, where x1 == 0
    np.testing.assert_array_equal(grad(cnp.heaviside, np.array([-1.0, 0.0, 1.0]),
                                       np.array([0.5, 0.5, 0.5]), argnums=1), [0.0, 1.0, 0.0])


def test_the_other_documented_numbers():
    with np.errstate(divide="ignore", invalid="ignore"):
        for f, x in [(cnp.cbrt, 0.0), (cnp.arcsin, 1.0), (cnp.log, 0.0)]:
            assert grad(f, np.array([x]))[0] == np.inf
        assert np.isnan(grad(lambda x: cnp.sqrt(x * x), np.array([0.0]))[0])
        assert np.all(np.isnan(grad(cnp.max, np.array([np.nan, 1.0]))))
        np.testing.assert_array_equal(grad(cnp.maximum, np.array(np.nan), np.array(1.0),
                                           argnums=(0, 1)), (0.0, 0.0))
        # x ** y at x = 0: y 0^(y-1) in x, and 0 in y (the limit of log(x) x^y)
        power = lambda v: cnp.power(v[0], v[1])  # noqa: E731
        np.testing.assert_array_equal(cr.grad(power)(np.array([0.0, 2.0])), [0.0, 0.0])
        np.testing.assert_array_equal(cr.grad(power)(np.array([0.0, 0.5])), [np.inf, 0.0])
    # remainder: 1 in x, -floor(x / y) in y; floor_divide: 0
    np.testing.assert_array_equal(grad(cnp.remainder, np.array(7.5), np.array(2.0),
                                       argnums=(0, 1)), (1.0, -3.0))
    np.testing.assert_array_equal(grad(cnp.floor_divide, np.array(7.5), np.array(2.0),
                                       argnums=(0, 1)), (0.0, 0.0))
    # median of tied middle values, and quantile methods reading one or two elements
    np.testing.assert_array_equal(grad(cnp.median, np.array([1.0, 2.0, 2.0, 3.0])),
                                  [0.0, 0.5, 0.5, 0.0])
    x = np.array([4.0, -1.0, 7.0, 2.0])
    np.testing.assert_array_equal(grad(lambda x: cnp.percentile(x, 40, method="midpoint"), x),
                                  [0.5, 0.0, 0.0, 0.5])
    np.testing.assert_array_equal(grad(lambda x: cnp.quantile(x, 0.5, method="lower"), x),
                                  [0.0, 0.0, 0.0, 1.0])


# -- numerical stability at |x| = 1000 --------------------------------------------------------
BIG = np.array([1000.0, -1000.0, 0.0])

STABLE = [
    ("logsumexp", special.logsumexp, 1000.0, [1.0, 0.0, 0.0]),
    ("softmax", lambda x: special.softmax(x) @ np.array([1.0, 2.0, 3.0]), 1.0, [0.0, 0.0, 0.0]),
    ("log_softmax", lambda x: special.log_softmax(x)[1], -2000.0, [-1.0, 1.0, 0.0]),
    ("expit", lambda x: cnp.sum(special.expit(x)), 1.5, [0.0, 0.0, 0.25]),
    ("log_expit", lambda x: cnp.sum(special.log_expit(x)), -1000.0 - np.log(2), [0.0, 1.0, 0.5]),
    ("softplus", lambda x: cnp.sum(cnp.logaddexp(0.0, x)), 1000.0 + np.log(2), [1.0, 0.0, 0.5]),
    ("logaddexp2", lambda x: cnp.sum(cnp.logaddexp2(0.0, x)), 1001.0, [1.0, 0.0, 0.5]),
    ("logit(expit)", lambda x: cnp.sum(special.logit(special.expit(x / 100))), 0.0,
     [0.01, 0.01, 0.01]),
]


@pytest.mark.parametrize("fn, value, gradient", [pytest.param(f, v, g, id=n)
                                                 for n, f, v, g in STABLE])
def test_stable_at_plus_minus_1000(fn, value, gradient):
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # (underflow to 0 is fine)
        v, g = cr.value_and_grad(fn)(BIG)
        h = hessian(fn, BIG)
    np.testing.assert_allclose(v, value, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(g, gradient, atol=1e-12)
    assert np.all(np.isfinite(h))


def test_softmax_saturated_rows_stay_finite():
    x = np.array([[1000.0, 999.0, -1000.0], [-1000.0, -1000.0, -1000.0]])
    s = special.softmax(x, axis=1)
    e = np.exp(-1.0)
    np.testing.assert_allclose(s, [[1 / (1 + e), e / (1 + e), 0.0], [1 / 3] * 3], atol=1e-15)
    j = cr.grad(lambda x: special.softmax(x, axis=1)[0, 0])(x)
    assert np.all(np.isfinite(j))
    with np.errstate(divide="ignore"):
        assert special.logsumexp(np.array([-np.inf, -np.inf])) == -np.inf
    assert special.logsumexp(np.array([np.inf, 1.0])) == np.inf


# -- NaN semantics ---------------------------------------------------------------------------
def test_maximum_propagates_nan_and_fmax_ignores_it():
    x, y = np.array([np.nan, 1.0, np.nan]), np.array([2.0, np.nan, np.nan])
    for f, expected in [(cnp.maximum, [np.nan, np.nan, np.nan]), (cnp.minimum, [np.nan] * 3),
                        (cnp.fmax, [2.0, 1.0, np.nan]), (cnp.fmin, [2.0, 1.0, np.nan])]:
        traced = cr.make_ir(f)(x, y).eval(x, y)
        np.testing.assert_array_equal(traced, expected)
        np.testing.assert_array_equal(traced, getattr(np, f.__name__)(x, y))
    assert np.isnan(cr.make_ir(cnp.max)(x).eval(x))
    # fmax: the derivative goes to the operand that is not NaN
    gx, gy = grad(cnp.fmax, x, y, argnums=(0, 1))
    np.testing.assert_array_equal(gx[:2], [0.0, 1.0])
    np.testing.assert_array_equal(gy[:2], [1.0, 0.0])


def test_order_statistics_of_lines_with_nan_are_nan():
    x = np.array([[1.0, np.nan, 3.0], [3.0, 1.0, 2.0]])
    for f in (lambda x: cnp.median(x, axis=1), lambda x: cnp.quantile(x, [0.1, 0.9], axis=1)):
        out = cr.make_ir(f)(x).eval(x)
        np.testing.assert_array_equal(np.isnan(out), np.isnan(f.__call__(x)))
    np.testing.assert_array_equal(cnp.sort(np.array([np.nan, 1.0, -np.inf])), [-np.inf, 1.0,
                                                                                np.nan])


# -- hand-derived formulas -------------------------------------------------------------------
def test_var_std_average_gradients_by_hand():
    x = np.array([1.0, 4.0, -2.0, 5.0])
    n, m = 4, 2.0
    np.testing.assert_allclose(cr.grad(cnp.var)(x), 2 * (x - m) / n)
    np.testing.assert_allclose(cr.grad(lambda x: cnp.var(x, ddof=1))(x), 2 * (x - m) / (n - 1))
    s = np.sqrt(np.sum((x - m) ** 2) / (n - 1))
    np.testing.assert_allclose(cr.grad(lambda x: cnp.std(x, ddof=1))(x), (x - m) / ((n - 1) * s))
    # average = sum(x w) / sum(w): d/dx = w / sum(w), d/dw = (x - average) / sum(w)
    w = np.array([1.0, 2.0, 3.0, 4.0])
    avg = np.dot(x, w) / w.sum()
    gx, gw = cr.grad(lambda x, w: cnp.average(x, weights=w), argnums=(0, 1))(x, w)
    np.testing.assert_allclose(gx, w / w.sum())
    np.testing.assert_allclose(gw, (x - avg) / w.sum())


def test_softmax_jacobian_and_logsumexp_gradient_by_hand():
    x = np.array([0.5, -1.0, 2.0])
    s = np.exp(x) / np.sum(np.exp(x))
    np.testing.assert_allclose(cr.grad(special.logsumexp)(x), s)
    jac = np.stack([cr.grad(lambda x, i=i: special.softmax(x)[i])(x) for i in range(3)])
    np.testing.assert_allclose(jac, np.diag(s) - np.outer(s, s), atol=1e-15)
    np.testing.assert_allclose(cr.grad(lambda x: special.log_softmax(x)[0])(x),
                               np.eye(3)[0] - s)
    p = np.array([0.2, 0.5])
    np.testing.assert_allclose(cr.grad(lambda p: cnp.sum(special.logit(p)))(p), 1 / (p * (1 - p)))


def test_cumsum_transpose_is_the_reverse_cumsum():
    # the VJP of cumsum with cotangent w is the cumulative sum of w from the end
    w = np.array([1.0, 2.0, 3.0, 4.0])
    _, vjp_fn = cr.vjp(cnp.cumsum, np.zeros(4))
    np.testing.assert_array_equal(vjp_fn(w)[0], [10.0, 9.0, 7.0, 4.0])
    ir = cr.make_ir(lambda w: cr.vjp(cnp.cumsum, np.zeros(4))[1](w)[0])(w)
    assert [e.primitive.name for e in ir.eqns] == ["cumsum"]
    assert ir.eqns[0].params["reverse"] is True


def test_plain_numpy_calls_reach_the_group_functions():
    from chainrule.numpy import _dispatch, _ufuncs
    for name in ["sort", "argsort", "cumsum", "cumprod", "var", "std", "average", "ptp", "median",
                 "quantile", "percentile", "all", "any", "count_nonzero", "round", "around", "fix",
                 "sinc", "real", "imag", "nan_to_num", "isposinf", "isneginf",
                 "cumulative_sum", "cumulative_prod"]:
        assert _dispatch.FUNCTIONS[getattr(np, name)] is getattr(cnp, name), name
    for name in ["fabs", "float_power", "fmax", "fmin", "logaddexp", "logaddexp2", "hypot",
                 "heaviside", "copysign", "signbit", "isnan", "isinf", "isfinite", "divmod",
                 "conjugate"]:
        assert _ufuncs.UFUNCS[getattr(np, name)] is getattr(cnp, name), name


# -- errors -----------------------------------------------------------------------------------
def test_unsupported_arguments_and_functions_are_named():
    x = np.array([3.0, 1.0, 2.0])
    cases = [
        (lambda x: np.sort(x, order="f"), "order"),
        (lambda x: np.quantile(x, 0.5, method="weibull"), "weibull"),
        (lambda x: np.var(x, mean=np.zeros(1)), "mean"),
        (lambda x: np.partition(x, 1), "numpy.partition"),
        (lambda x: np.maximum.accumulate(x), "numpy.maximum.accumulate"),
        (lambda x: cnp.quantile(np.arange(3.0), x[0]), "traced q"),
    ]
    for f, word in cases:
        with pytest.raises(NotImplementedError, match=word):
            cr.make_ir(f)(x)
    with pytest.raises(TypeError, match="in place"):
        cr.make_ir(lambda x: x.sort())(x)
    with pytest.raises(NotImplementedError, match="complex"):
        cnp.real(np.array([1j]))
