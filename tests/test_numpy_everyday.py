"""The everyday NumPy functions of ``_everyday*.py``: diff, ediff1d,
gradient, isclose/allclose/array_equal/array_equiv, cov, corrcoef, the
nan* reductions, convolve/correlate, polyval, interp, unwrap, histogram,
r_ and c_.

* ``VALUES``: each called through plain ``np.<name>`` on traced values
  (``__array_function__``), the program evaluated, compared with NumPy on
  the same arrays (values and dtype), NaN cases included; the same table
  through ``cr.jit`` and through ``vmap`` against a Python loop;
* ``GRADS``: ``check_grads(order=2, modes=("fwd", "rev"))`` where smooth;
* derivatives worked out by hand for one case of each family;
* NumPy's errors for bad arguments, and chainrule's for what it refuses.
"""
from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

rng = np.random.default_rng(15)
X = rng.normal(size=(4, 5))
V = rng.normal(size=6)
NAN_MASK = np.array([[0, 1, 0, 0, 0], [0, 0, 0, 1, 1], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0]], bool)
ALL_NAN_ROW = np.array([[1, 1, 1, 1, 1], [0, 0, 0, 1, 1], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0]], bool)


def with_nan(a, mask=NAN_MASK):
    return np.where(mask, np.nan, a)


def traced(f, *args):
    """``f`` traced on ``args`` and its program evaluated on them."""
    return cr.make_ir(f)(*args).eval(*args)


def assert_same(got, want, rtol=1e-12):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_same(g, w, rtol)
        return
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-13, equal_nan=True)


# (id, function of one array written with plain NumPy, argument)
VALUES = [
    ("diff", lambda a: np.diff(a), X),
    ("diff-n2-axis0", lambda a: np.diff(a, n=2, axis=0), X),
    ("diff-prepend-append", lambda a: np.diff(a, axis=1, prepend=0, append=a[:, :1]), X),
    ("diff-n0", lambda a: np.diff(a, n=0), X),
    ("diff-bool", lambda a: np.diff(a > 0), X),
    ("diff-nan", lambda a: np.diff(with_nan(a)), X),
    ("ediff1d", lambda a: np.ediff1d(a), X),
    ("ediff1d-ends", lambda a: np.ediff1d(a, to_end=[1.0, 2.0], to_begin=-3), X),
    ("gradient-1d", lambda a: np.gradient(a[0]), X),
    ("gradient-2d", lambda a: np.gradient(a), X),
    ("gradient-spacings-order2", lambda a: np.gradient(a, 0.5, 2.0, edge_order=2), X),
    ("gradient-axis", lambda a: np.gradient(a, 0.3, axis=1), X),
    ("gradient-coords", lambda a: np.gradient(a, [0.0, 1.0, 3.0, 4.5], axis=0), X),
    ("gradient-coords-order2", lambda a: np.gradient(a, np.array([0, 1, 3, 4]), axis=0,
                                                     edge_order=2), X),
    ("gradient-uniform-coords", lambda a: np.gradient(a, np.arange(5) * 2, axis=1), X),
    ("isclose", lambda a: np.isclose(a, a + 1e-6 * (a > 0)), X),
    ("isclose-tol", lambda a: np.isclose(a, a + 1e-3, rtol=0, atol=2e-3), X),
    ("isclose-nan", lambda a: np.isclose(with_nan(a), with_nan(a)), X),
    ("isclose-equal_nan", lambda a: np.isclose(with_nan(a), with_nan(a), equal_nan=True), X),
    ("isclose-inf", lambda a: np.isclose(a / (a > 0), np.inf), X),
    ("allclose-true", lambda a: np.allclose(a, a + 1e-9), X),
    ("allclose-false", lambda a: np.allclose(a, a + 1e-3), X),
    ("allclose-nan", lambda a: np.allclose(with_nan(a), with_nan(a), equal_nan=True), X),
    ("array_equal", lambda a: np.array_equal(a, a * 1.0), X),
    ("array_equal-nan", lambda a: np.array_equal(with_nan(a), with_nan(a)), X),
    ("array_equal-equal_nan", lambda a: np.array_equal(with_nan(a), with_nan(a), True), X),
    ("array_equiv", lambda a: np.array_equiv(a[:1], np.stack([a[0], a[0]])), X),
    ("array_equiv-false", lambda a: np.array_equiv(a[0], a[1]), X),
    ("cov", lambda a: np.cov(a), X),
    ("cov-rowvar-bias", lambda a: np.cov(a, rowvar=False, bias=True), X),
    ("cov-ddof-y", lambda a: np.cov(a[0], a[1], ddof=2), X),
    ("cov-weights", lambda a: np.cov(a, fweights=[1, 2, 1, 3, 1],
                                     aweights=[0.5, 1.0, 2.0, 1.0, 0.2]), X),
    ("cov-1d", lambda a: np.cov(a[0]), X),
    ("corrcoef", lambda a: np.corrcoef(a), X),
    ("corrcoef-rowvar", lambda a: np.corrcoef(a, rowvar=False), X),
    ("corrcoef-1d", lambda a: np.corrcoef(a[0]), X),
    ("nansum", lambda a: np.nansum(with_nan(a)), X),
    ("nansum-axis", lambda a: np.nansum(with_nan(a), axis=1, keepdims=True), X),
    ("nanprod", lambda a: np.nanprod(with_nan(a), axis=0), X),
    ("nancumsum", lambda a: np.nancumsum(with_nan(a), axis=1), X),
    ("nancumsum-flat", lambda a: np.nancumsum(with_nan(a)), X),
    ("nanmean", lambda a: np.nanmean(with_nan(a), axis=1), X),
    ("nanmean-all", lambda a: np.nanmean(with_nan(a)), X),
    ("nanvar", lambda a: np.nanvar(with_nan(a), axis=1), X),
    ("nanvar-ddof-keepdims", lambda a: np.nanvar(with_nan(a), axis=0, ddof=1, keepdims=True),
     X),
    ("nanvar-dof-zero", lambda a: np.nanvar(with_nan(a), axis=0, ddof=3), X),
    ("nanstd", lambda a: np.nanstd(with_nan(a), axis=1, ddof=1), X),
    ("nanmax", lambda a: np.nanmax(with_nan(a), axis=1), X),
    ("nanmin", lambda a: np.nanmin(with_nan(a), axis=0, keepdims=True), X),
    ("nanmax-all", lambda a: np.nanmax(with_nan(a)), X),
    ("nanmean-no-nan", lambda a: np.nanmean(a, axis=0), X),
    ("convolve", lambda a: np.convolve(a[0], a[1, :3]), X),
    ("convolve-same", lambda a: np.convolve(a[0], a[1, :2], mode="same"), X),
    ("convolve-same-swapped", lambda a: np.convolve(a[1, :4], a[0], "same"), X),
    ("convolve-valid", lambda a: np.convolve(a[1, :3], a[0], mode="valid"), X),
    ("correlate", lambda a: np.correlate(a[0], a[1, :3]), X),
    ("correlate-same", lambda a: np.correlate(a[0], a[1, :2], "same"), X),
    ("correlate-same-swapped", lambda a: np.correlate(a[1, :2], a[0], "same"), X),
    ("correlate-full-swapped", lambda a: np.correlate(a[1, :3], a[0], "full"), X),
    ("correlate-valid-swapped", lambda a: np.correlate(a[1, :3], a[0]), X),
    ("polyval", lambda a: np.polyval(a[0], a[1:]), X),
    ("polyval-scalar", lambda a: np.polyval(a[0], 2), X),
    ("polyval-constant-p", lambda a: np.polyval([1.0, -2.0, 3.0], a), X),
    ("interp", lambda a: np.interp(a, [-1.0, 0.0, 0.5, 2.0], [1.0, -1.0, 3.0, 0.5]), X),
    ("interp-fp", lambda a: np.interp([-2.0, -1.0, 0.2, 0.5, 2.0, 7.0], [-1, 0, 0.5, 2],
                                      a[0, :4]), X),
    ("interp-left-right", lambda a: np.interp(a, [-1.0, 0.0, 1.0], a[0, :3], left=-9.0,
                                              right=a[1, 0]), X),
    ("interp-period", lambda a: np.interp(a * 3, [3.0, -1.0, 0.0, 0.5, 2.0], a[0], period=2.5),
     X),
    ("interp-one-knot", lambda a: np.interp(a, [0.0], a[0, :1]), X),
    ("interp-nan", lambda a: np.interp(with_nan(a), [-1.0, 1.0], [0.0, 2.0]), X),
    ("unwrap", lambda a: np.unwrap(a * 4), X),
    ("unwrap-axis-discont", lambda a: np.unwrap(a * 4, discont=4.0, axis=0), X),
    ("unwrap-period", lambda a: np.unwrap(a * 4, period=3.0), X),
    ("histogram", lambda a: np.histogram(a), X),
    ("histogram-bins-range", lambda a: np.histogram(a, bins=3, range=(-1.0, 1.0)), X),
    ("histogram-edges-density", lambda a: np.histogram(a, bins=[-2.0, -0.5, 0.0, 0.3, 3.0],
                                                       density=True), X),
    ("histogram-weights", lambda a: np.histogram(a, bins=4, weights=a * a), X),
    ("histogram-nan-range", lambda a: np.histogram(with_nan(a), bins=2, range=(-3, 3)), X),
    ("histogram-constant", lambda a: np.histogram(a * 0.0 + 2.0, bins=3), X),
]


@pytest.mark.parametrize("name,f,x", VALUES, ids=[v[0] for v in VALUES])
def test_values_equal_numpy(name, f, x):
    assert_same(traced(f, x), f(x))


@pytest.mark.parametrize("name,f,x", VALUES, ids=[v[0] for v in VALUES])
def test_jit_equals_eager(name, f, x):
    assert_same(cr.jit(f)(x), f(x))


VMAPPED = [v for v in VALUES if not v[0].startswith(("array_equal", "array_equiv"))]


@pytest.mark.parametrize("name,f,x", VMAPPED, ids=[v[0] for v in VMAPPED])
def test_vmap_equals_loop(name, f, x):
    xs = np.stack([x, x[::-1] * 1.5, x + 0.25])
    want = [f(xi) for xi in xs]
    got = cr.vmap(f)(xs)
    if isinstance(want[0], tuple):
        want = tuple(np.stack([w[k] for w in want]) for k in range(len(want[0])))
    else:
        want = np.stack(want)
    assert_same(got, want)


def test_chainrule_numpy_names_are_dispatched():
    for name in ["diff", "ediff1d", "gradient", "isclose", "allclose", "array_equal",
                 "array_equiv", "cov", "corrcoef", "nansum", "nanmean", "nanvar", "nanstd",
                 "nanmax", "nanmin", "nanprod", "nancumsum", "convolve", "correlate",
                 "polyval", "interp", "unwrap", "histogram"]:
        assert cnp._dispatch.FUNCTIONS[getattr(np, name)] is getattr(cnp, name), name


def test_constant_inputs_compute_with_numpy():
    assert cnp.allclose([1.0, 2.0], [1.0, 2.0 + 1e-9]) is True
    assert cnp.array_equal([1, 2], [1, 3]) is False
    np.testing.assert_array_equal(cnp.diff([1, 4, 9]), [3, 5])
    np.testing.assert_array_equal(cnp.r_[1:3, 7], [1, 2, 7])


# -- r_ and c_ -----------------------------------------------------------------------
R_CASES = [
    ("r_", lambda a: cnp.r_[a, 1.0, 0:3, a], lambda a: np.r_[a, 1.0, 0:3, a]),
    ("r_-linspace", lambda a: cnp.r_[a, -1:1:5j], lambda a: np.r_[a, -1:1:5j]),
    ("c_", lambda a: cnp.c_[a, a * 2], lambda a: np.c_[a, a * 2]),
    ("c_-2d", lambda a: cnp.c_[a.reshape(2, 3), np.ones((2, 1))],
     lambda a: np.c_[a.reshape(2, 3), np.ones((2, 1))]),
    ("r_-directive", lambda a: cnp.r_["0,2,1", a, a], lambda a: np.r_["0,2,1", a, a]),
    ("r_-axis", lambda a: cnp.r_["-1", a.reshape(2, 3), a.reshape(2, 3)],
     lambda a: np.r_["-1", a.reshape(2, 3), a.reshape(2, 3)]),
    ("r_-int-scalar", lambda a: cnp.r_[a, 3], lambda a: np.r_[a, 3]),
]


@pytest.mark.parametrize("name,f,g", R_CASES, ids=[c[0] for c in R_CASES])
def test_r_c_on_traced_values(name, f, g):
    assert_same(traced(f, V), g(V))
    cr.check_grads(f, (V,), order=1, modes=("fwd", "rev"))


def test_r_matrix_directive_is_refused():
    with pytest.raises(NotImplementedError, match="concatenate"):
        traced(lambda a: cnp.r_["r", a, a], V)


# -- derivatives -----------------------------------------------------------------------
def _masked(f, mask=NAN_MASK):
    return lambda a: f(with_nan(a, mask))


GRADS = [
    ("diff", lambda a: np.diff(a, n=2, axis=0, prepend=a[:1] * 3), (X,)),
    ("ediff1d", lambda a: np.ediff1d(a, to_begin=a[0, 0]), (X,)),
    ("gradient", lambda a: np.gradient(a, 0.5, 2.0, edge_order=2), (X,)),
    ("gradient-traced-spacing", lambda a, h: np.gradient(a[0], h), (X, 0.7)),
    ("gradient-coords", lambda a: np.gradient(a, [0.0, 1.0, 3.0, 4.5], axis=0, edge_order=2),
     (X,)),
    ("cov", lambda a: np.cov(a, aweights=[0.5, 1.0, 2.0, 1.0, 0.2]), (X,)),
    ("cov-y", lambda a, b: np.cov(a, b), (X[0], X[1])),
    ("corrcoef", lambda a: np.corrcoef(a), (X,)),
    ("nansum", _masked(lambda a: np.nansum(a, axis=1)), (X,)),
    ("nanprod", _masked(lambda a: np.nanprod(a, axis=0)), (X,)),
    ("nancumsum", _masked(lambda a: np.nancumsum(a, axis=1)), (X,)),
    ("nanmean", _masked(lambda a: np.nanmean(a, axis=0)), (X,)),
    ("nanvar", _masked(lambda a: np.nanvar(a, axis=1, ddof=1)), (X,)),
    ("nanstd", _masked(lambda a: np.nanstd(a, axis=1)), (X,)),
    ("nanmax", _masked(lambda a: np.nanmax(a, axis=1)), (X,)),
    ("nanmin", _masked(lambda a: np.nanmin(a)), (X,)),
    ("convolve", lambda a, v: np.convolve(a, v), (X[0], X[1, :3])),
    ("convolve-same", lambda a, v: np.convolve(v, a, "same"), (X[0], X[1, :2])),
    ("correlate", lambda a, v: np.correlate(a, v, "full"), (X[0], X[1, :3])),
    ("correlate-swapped", lambda a, v: np.correlate(v, a, "same"), (X[0], X[1, :2])),
    ("polyval", lambda p, x: np.polyval(p, x), (X[0], X[1])),
    ("interp", lambda x, fp: np.interp(x, [-2.5, -1.0, 0.1, 0.5, 2.5], fp),
     (X[:, :4].ravel() * 0.9 + 0.013, X[0])),
    ("interp-left-right", lambda x, l, r: np.interp(x, [-0.5, 0.5], [1.0, 2.0], l, r),
     (X[0], 3.0, -4.0)),
    ("interp-period", lambda x, fp: np.interp(x, [0.1, 1.2, 2.0], fp, period=2.5),
     (X[0] * 3 + 0.011, X[1, :3])),
    ("unwrap", lambda a: np.unwrap(a * 4, axis=0), (X,)),
    ("histogram-weights", lambda w: np.histogram(X, bins=[-3, -0.2, 0.4, 3], weights=w)[0],
     (X * 0.5,)),
]


@pytest.mark.parametrize("name,f,args", GRADS, ids=[g[0] for g in GRADS])
def test_check_grads(name, f, args):
    cr.check_grads(f, args, order=2, modes=("fwd", "rev"), atol=1e-5, rtol=1e-5)


def test_diff_and_gradient_by_hand():
    # diff(x) = (x1 - x0, x2 - x1): the sum's gradient is (-1, 0, 1)
    x = np.array([1.0, 4.0, 9.0])
    np.testing.assert_array_equal(cr.grad(lambda a: np.sum(np.diff(a)))(x), [-1.0, 0.0, 1.0])
    # gradient(x, h) = ((x1 - x0)/h, (x2 - x0)/(2h), (x2 - x1)/h) = (3, 4, 5)/h; its
    # derivative in h is -(3, 4, 5)/h^2, at h = 2: -(0.75, 1, 1.25), summed: -3
    g = cr.grad(lambda h: np.sum(np.gradient(x, h)))(2.0)
    assert g == pytest.approx(-3.0, rel=1e-15)
    # edge_order=2, uniform h = 1: out0 = -1.5 x0 + 2 x1 - 0.5 x2
    jac = cr.jacfwd(lambda a: np.gradient(a, edge_order=2))(x)
    np.testing.assert_array_equal(jac[0], [-1.5, 2.0, -0.5])
    np.testing.assert_array_equal(jac[1], [-0.5, 0.0, 0.5])
    np.testing.assert_array_equal(jac[2], [0.5, -2.0, 1.5])


def test_nan_reductions_by_hand():
    x = np.array([1.0, np.nan, 3.0, 6.0])
    # nanmean = (x0 + x2 + x3) / 3: 1/3 to each non-NaN element, 0 to the NaN
    np.testing.assert_allclose(cr.grad(np.nanmean)(x), [1 / 3, 0.0, 1 / 3, 1 / 3], rtol=1e-15)
    # nanvar (ddof=0) = sum((x - m)^2) / 3 with m = 10/3: gradient 2 (x - m) / 3
    np.testing.assert_allclose(cr.grad(np.nanvar)(x),
                               [2 * (1 - 10 / 3) / 3, 0.0, 2 * (3 - 10 / 3) / 3,
                                2 * (6 - 10 / 3) / 3], rtol=1e-14)
    # nanmax picks 6; an all-NaN line gives NaN
    np.testing.assert_array_equal(cr.grad(np.nanmax)(x), [0.0, 0.0, 0.0, 1.0])
    assert np.isnan(traced(lambda a: np.nanmax(a * np.nan), x))
    # nanprod = x0 x2 x3 = 18: gradient (18, 0, 6, 3)
    np.testing.assert_array_equal(cr.grad(np.nanprod)(x), [18.0, 0.0, 6.0, 3.0])


def test_convolve_and_polyval_by_hand():
    # convolve([a0, a1], [v0, v1]) = (a0 v0, a0 v1 + a1 v0, a1 v1); summed, its gradient
    # in a is (v0 + v1, v0 + v1)
    v = np.array([2.0, -5.0])
    np.testing.assert_array_equal(
        cr.grad(lambda a: np.sum(np.convolve(a, v)))(np.array([1.0, 3.0])), [-3.0, -3.0])
    # polyval([p0, p1, p2], x) = p0 x^2 + p1 x + p2: d/dp = (x^2, x, 1), d/dx = 2 p0 x + p1
    p, x = np.array([3.0, -1.0, 4.0]), 2.0
    gp, gx = cr.grad(np.polyval, argnums=(0, 1))(p, x)
    np.testing.assert_array_equal(gp, [4.0, 2.0, 1.0])
    assert gx == 11.0


def test_interp_by_hand():
    xp, fp = np.array([0.0, 1.0, 3.0]), np.array([0.0, 2.0, 3.0])
    # slopes 2 on [0, 1] and 1/2 on [1, 3]; 0 outside; at a knot NumPy returns fp[j]
    x = np.array([-1.0, 0.5, 2.0, 5.0, 1.0])
    dx = cr.grad(lambda a: np.sum(np.interp(a, xp, fp)))(x)
    np.testing.assert_array_equal(dx, [0.0, 2.0, 0.5, 0.0, 0.0])
    # in fp: x = 2 lies halfway between fp[1] and fp[2]
    dfp = cr.grad(lambda f: np.interp(2.0, xp, f))(fp)
    np.testing.assert_array_equal(dfp, [0.0, 0.5, 0.5])


def test_cov_and_unwrap_by_hand():
    # cov of one variable x (ddof 1) = sum((x - m)^2) / (n - 1): gradient 2 (x - m) / (n - 1)
    x = np.array([1.0, 2.0, 6.0])
    np.testing.assert_allclose(cr.grad(np.cov)(x), [2 * (1 - 3) / 2, 2 * (2 - 3) / 2,
                                                     2 * (6 - 3) / 2], rtol=1e-15)
    # unwrap adds piecewise-constant multiples of 2 pi: its Jacobian is the identity
    p = np.array([0.0, 3.0, 6.5, 0.2])
    np.testing.assert_array_equal(cr.jacrev(np.unwrap)(p), np.eye(4))


def test_histogram_derivatives_by_hand():
    a = np.array([0.0, 1.0, 3.0, 4.0])
    counts = traced(lambda v: np.histogram(v, bins=2)[0], a)
    np.testing.assert_array_equal(counts, [2, 2])
    assert counts.dtype == np.intp
    # density_i = c_i / (N w) with the width w = (max - min) / bins, so sum(density) = 1/w:
    # d/dmax = -1 / (w^2 bins) = -1 / (4 * 2) and d/dmin = +1/8 (w = 2)
    g = cr.grad(lambda v: np.sum(np.histogram(v, bins=2, density=True)[0]))(a)
    np.testing.assert_allclose(g, [0.125, 0.0, 0.0, -0.125], rtol=1e-15)
    # counts are integers: no derivative flows to the data
    zero = cr.grad(lambda v: np.sum(np.histogram(v, bins=2, range=(0, 4), density=True)[0]))(a)
    np.testing.assert_array_equal(zero, [0.0, 0.0, 0.0, 0.0])


# -- errors ------------------------------------------------------------------------------
ERRORS = [
    (lambda a: np.diff(a, n=-1), ValueError, "order must be non-negative"),
    (lambda a: np.diff(a[0, 0]), ValueError, "at least one dimensional"),
    (lambda a: np.ediff1d(a, to_begin=np.array([1 + 2j])), TypeError, "same_kind"),
    (lambda a: np.gradient(a[:1]), ValueError, "Shape of array too small"),
    (lambda a: np.gradient(a, 1.0, 2.0, 3.0), TypeError, "invalid number of arguments"),
    (lambda a: np.gradient(a, edge_order=3), ValueError, "edge_order"),
    (lambda a: np.gradient(a[0], a[1]), NotImplementedError, "traced coordinate"),
    (lambda a: np.convolve(a[0], np.array([])), ValueError, "v cannot be empty"),
    (lambda a: np.convolve(a[0], a[1], mode="middle"), ValueError, "mode must be one of"),
    (lambda a: np.correlate(a, a[0]), ValueError, "too deep"),
    (lambda a: np.interp(a, [0.0, 1.0], [1.0]), ValueError, "not of the same length"),
    (lambda a: np.interp(a, [], []), ValueError, "sample points is empty"),
    (lambda a: np.interp(a, [0.0, 1.0], [1.0, 2.0], period=0), ValueError, "non-zero"),
    (lambda a: np.histogram(a, bins="auto"), NotImplementedError, "bin-selection"),
    (lambda a: np.histogram(a, bins=0), ValueError, "must be positive"),
    (lambda a: np.histogram(a, bins=[0.0, 2.0, 1.0]), ValueError, "monotonically"),
    (lambda a: np.histogram(a, range=(1.0, 0.0)), ValueError, "max must be larger"),
    (lambda a: np.histogram(a, weights=a[0]), ValueError, "same shape"),
    (lambda a: np.cov(a, aweights=a[0]), NotImplementedError, "weights as constants"),
    (lambda a: np.cov(a, fweights=[1, 2, 1.5, 1, 1]), TypeError, "fweights must be integer"),
    (lambda a: np.cov(a, aweights=[1, -2, 1, 1, 1]), ValueError, "cannot be negative"),
    (lambda a: np.cov(a, ddof=1.5), ValueError, "ddof must be integer"),
    (lambda a: np.isclose(a, a, atol=a[0, 0]), NotImplementedError, "traced rtol or atol"),
]


@pytest.mark.parametrize("f,error,match", ERRORS)
def test_errors(f, error, match):
    with pytest.raises(error, match=match):
        traced(f, X)
    if error is not NotImplementedError:   # NumPy raises the same error
        with pytest.raises(error):
            f(X)


# -- rows for the coverage table of tests/test_numpy.py ---------------------------------
# (id, f(module, *args), *args): run there with module = numpy and chainrule.numpy
COVERAGE_ROWS = [
    ("diff", lambda m, a: m.diff(a, axis=0, prepend=0.5), X),
    ("ediff1d", lambda m, a: m.ediff1d(a, to_end=[1.0]), X),
    ("gradient", lambda m, a: m.gradient(a, 0.5, edge_order=2), X),
    ("isclose", lambda m, a, b: m.isclose(a, b, atol=0.1), X, X + 0.05 * V[:5]),
    ("allclose", lambda m, a, b: m.allclose(a, b, atol=0.1), X, X + 0.05 * V[:5]),
    ("array_equal", lambda m, a, b: m.array_equal(a, b), X, X),
    ("array_equiv", lambda m, a, b: m.array_equiv(a, b), X, X[:1]),
    ("cov", lambda m, a: m.cov(a), X),
    ("corrcoef", lambda m, a: m.corrcoef(a, rowvar=False), X),
    ("nansum", lambda m, a: m.nansum(a, axis=0), with_nan(X)),
    ("nanmean", lambda m, a: m.nanmean(a, axis=1), with_nan(X)),
    ("nanvar", lambda m, a: m.nanvar(a, ddof=1), with_nan(X)),
    ("nanstd", lambda m, a: m.nanstd(a, axis=0), with_nan(X)),
    ("nanmax", lambda m, a: m.nanmax(a, axis=1), with_nan(X, ALL_NAN_ROW)),
    ("nanmin", lambda m, a: m.nanmin(a, axis=0), with_nan(X)),
    ("nanprod", lambda m, a: m.nanprod(a), with_nan(X)),
    ("nancumsum", lambda m, a: m.nancumsum(a, axis=0), with_nan(X)),
    ("convolve", lambda m, a, v: m.convolve(a, v, "same"), V, V[:3]),
    ("correlate", lambda m, a, v: m.correlate(a, v, "full"), V, V[:3]),
    ("polyval", lambda m, p, x: m.polyval(p, x), V, X),
    ("interp", lambda m, x, fp: m.interp(x, [-1.0, 0.0, 2.0], fp), X, V[:3]),
    ("unwrap", lambda m, a: m.unwrap(4 * a, axis=0), X),
    ("histogram", lambda m, a: m.histogram(a, bins=4, density=True), X),
]


def test_plain_numpy_r_on_traced_values_points_to_chainrule_r_():
    # np.r_ converts its pieces with np.array, which cannot keep a tracer
    with pytest.raises(cr.TracerArrayConversionError, match=r"chainrule\.numpy\.r_"):
        cr.make_ir(lambda a: np.r_[a, 1.0])(np.ones(2))
