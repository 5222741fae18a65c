"""Shapes, construction and indexing functions: derivatives.

Every one of these functions runs through ``check_grads(order=2, modes=("fwd",
"rev"))`` on several shapes (0-d, broadcasting, axis variants): forward mode
against central differences of the very same function evaluated by NumPy,
reverse mode by the dot-product test, and again for the derivative functions.
Then the hard points, with expected numbers derived by hand or counted with
NumPy (never taken from chainrule):

* ``x.at[idx].set`` with repeated indices: the last write wins, and only it
  gets a gradient; the overwritten elements of ``x`` get none;
* ``.add`` accumulates repeated indices (and ``take``, fancy indexing, ``pad``
  copies accumulate their cotangents);
* ``.multiply`` with repeated indices and zero factors: the derivative in one
  factor is the product of all the others, also when another one is zero;
* ``.min`` / ``.max`` ties: the gradient is split evenly between the tied
  contenders (the array element and the updates), as JAX does;
* linspace / arange / full / pad with traced endpoints and fill values.
"""
from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.tracer.core import Tracer

rng = np.random.default_rng(2024)


def r(*shape):
    return rng.standard_normal(shape)


def distinct(*shape):
    """Random order, no two values within 0.2 of each other (no ties)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.4 - 0.2 * n + rng.uniform(0, 0.05, n)).reshape(shape)


def at(x, index, op, v=None):
    """``x.at[index].op(v)``.  ``check_grads`` also evaluates the function on
    NumPy arrays (finite differences), which have no ``.at``: there the same
    update is written with NumPy itself, so the derivatives are checked
    against NumPy's semantics (``x[idx] = v``, ``np.add.at``, ...)."""
    if isinstance(x, Tracer):
        ref = x.at[index]
        return ref.get() if op == "get" else getattr(ref, op)(v)
    if op == "get":
        return x[index]
    out = np.array(x, copy=True)
    if op == "set":
        out[index] = v
    else:
        ufunc = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply,
                 "min": np.minimum, "max": np.maximum}[op]
        ufunc.at(out, index, v)
    return out


GRADS = []


def grad_row(id, f, *args):
    GRADS.append(pytest.param(f, args, id=id))


# -- shapes ------------------------------------------------------------------
grad_row("reshape", lambda x: cnp.reshape(x, (3, -1)), r(2, 3))
grad_row("reshape-0d", lambda x: cnp.reshape(x, (1, 1)), r())
grad_row("ravel", cnp.ravel, r(2, 3, 2))
grad_row("flatten", lambda x: x.flatten() if isinstance(x, Tracer) else x.flatten(), r(2, 3))
grad_row("transpose", lambda x: cnp.transpose(x, (2, 0, 1)), r(2, 3, 4))
grad_row("moveaxis", lambda x: cnp.moveaxis(x, [0, 1], [-1, 0]), r(2, 3, 4))
grad_row("swapaxes", lambda x: cnp.swapaxes(x, -1, 0), r(2, 3))
grad_row("expand_dims", lambda x: cnp.expand_dims(x, (0, 2)), r(3))
grad_row("expand_dims-0d", lambda x: cnp.expand_dims(x, -1), r())
grad_row("squeeze", lambda x: cnp.squeeze(x, axis=(0, 2)), r(1, 3, 1))
grad_row("broadcast_to", lambda x: cnp.broadcast_to(x, (2, 3, 4)), r(3, 1))
grad_row("broadcast_to-0d", lambda x: cnp.broadcast_to(x, (2,)), r())
grad_row("broadcast_arrays", lambda x, y: cnp.broadcast_arrays(x, y), r(3, 1), r(4))
grad_row("atleast_1d", lambda x, y: cnp.atleast_1d(x, y), r(), r(2))
grad_row("atleast_2d", cnp.atleast_2d, r(3))
grad_row("atleast_3d", lambda x, y: cnp.atleast_3d(x, y), r(3), r(2, 2))
grad_row("concatenate", lambda x, y: cnp.concatenate([x, y, x], axis=-1), r(2, 1), r(2, 3))
grad_row("concatenate-None", lambda x, y: cnp.concatenate([x, y], axis=None), r(2, 2), r(3))
grad_row("stack", lambda x, y: cnp.stack([x, y], axis=1), r(2, 3), r(2, 3))
grad_row("stack-0d", lambda x, y: cnp.stack([x, y]), r(), r())
grad_row("hstack", lambda x, y: cnp.hstack([x, y]), r(), r(2))
grad_row("vstack", lambda x, y: cnp.vstack([x, y]), r(3), r(2, 3))
grad_row("dstack", lambda x, y: cnp.dstack([x, y]), r(2, 3), r(2, 3, 2))
grad_row("column_stack", lambda x, y: cnp.column_stack([x, y]), r(3), r(3, 2))
grad_row("append", lambda x, y: cnp.append(x, y), r(2, 2), r())
grad_row("append-axis", lambda x, y: cnp.append(x, y, axis=1), r(2, 2), r(2, 1))
grad_row("split", lambda x: cnp.split(x, 3, axis=1), r(2, 6))
grad_row("split-indices", lambda x: cnp.split(x, [1, 4]), r(5))
grad_row("array_split", lambda x: cnp.array_split(x, 3, axis=-1), r(2, 2, 5))
grad_row("hsplit", lambda x: cnp.hsplit(x, [1]), r(2, 3))
grad_row("vsplit", lambda x: cnp.vsplit(x, 2), r(4, 3))
grad_row("dsplit", lambda x: cnp.dsplit(x, 2), r(2, 1, 4))
grad_row("tile", lambda x: cnp.tile(x, (2, 1, 3)), r(2, 3))
grad_row("tile-0d", lambda x: cnp.tile(x, 3), r())
grad_row("repeat", lambda x: cnp.repeat(x, 2), r(2, 2))
grad_row("repeat-axis", lambda x: cnp.repeat(x, 3, axis=-1), r(2, 2))
grad_row("repeat-counts", lambda x: cnp.repeat(x, [2, 0, 1], axis=0), r(3, 2))
grad_row("flip", lambda x: cnp.flip(x, (0, 2)), r(2, 3, 2))
grad_row("fliplr", cnp.fliplr, r(2, 3))
grad_row("flipud", cnp.flipud, r(4))
grad_row("roll", lambda x: cnp.roll(x, -2), r(2, 3))
grad_row("roll-axes", lambda x: cnp.roll(x, (1, 2), axis=(0, 1)), r(3, 4))
grad_row("rot90", cnp.rot90, r(2, 3))
grad_row("rot90-k3-axes", lambda x: cnp.rot90(x, 3, axes=(2, 1)), r(2, 3, 4))
grad_row("rot90-k2", lambda x: cnp.rot90(x, 2), r(2, 3))
for _mode in ["constant", "edge", "reflect", "symmetric", "wrap"]:
    grad_row(f"pad-{_mode}", lambda x, _m=_mode: cnp.pad(x, ((1, 2), (3, 1)), mode=_m), r(2, 3))
    grad_row(f"pad-{_mode}-wide", lambda x, _m=_mode: cnp.pad(x, (4, 5), mode=_m), r(3))
grad_row("pad-traced-value", lambda x, c: cnp.pad(x, 1, constant_values=c), r(2, 3), r())
grad_row("pad-traced-values-per-side",
         lambda x, a, b: cnp.pad(x, ((1, 0), (2, 1)), constant_values=((a, 1.0), (b, a))),
         r(2, 2), r(), r())
grad_row("pad-traced-value-constant-array",
         lambda c: cnp.pad(np.arange(4.0).reshape(2, 2), ((0, 1), (2, 0)), constant_values=c),
         r())
grad_row("pad-0d", lambda x: cnp.pad(x, 2), r())
grad_row("diagonal", cnp.diagonal, r(3, 4))
grad_row("diagonal-offset-axes", lambda x: cnp.diagonal(x, -1, 2, 0), r(3, 2, 4))
grad_row("trace", cnp.trace, r(3, 3))
grad_row("trace-offset", lambda x: cnp.trace(x, 1, 1, 2), r(2, 3, 4))
grad_row("diag-vector", lambda x: cnp.diag(x, -2), r(3))
grad_row("diag-matrix", lambda x: cnp.diag(x, 1), r(3, 4))
grad_row("diagflat", lambda x: cnp.diagflat(x, 1), r(2, 2))
grad_row("triu", lambda x: cnp.triu(x, 1), r(2, 3, 3))
grad_row("tril", lambda x: cnp.tril(x, -1), r(3, 4))
# -- construction --------------------------------------------------------------
grad_row("eye-identity-zeros-ones",
         lambda x: cnp.eye(3, k=1) @ x + cnp.identity(3) * x + cnp.zeros(3) + cnp.ones((3, 3)),
         r(3, 3))
grad_row("full-traced", lambda v: cnp.full((2, 3), v), r())
grad_row("full-traced-row", lambda v: cnp.full((2, 3), v), r(3))
grad_row("zeros_like-ones_like", lambda x: cnp.zeros_like(x) + cnp.ones_like(x) * x, r(2, 2))
grad_row("full_like-traced", lambda x, v: cnp.full_like(x, v) * x, r(3), r())
grad_row("arange-traced", lambda a, s: cnp.arange(a, a + 3.0, s), np.array(0.5), np.array(0.7))
grad_row("arange-traced-stop", lambda a: cnp.arange(a) * a, np.array(4.5))
grad_row("linspace", lambda a, b: cnp.linspace(a, b, 5), r(), r())
grad_row("linspace-arrays-axis", lambda a, b: cnp.linspace(a, b, 4, axis=1, endpoint=False),
         r(2), r(3, 1))
grad_row("linspace-retstep", lambda a, b: cnp.linspace(a, b, 3, retstep=True), r(), r())
grad_row("meshgrid", lambda x, y: cnp.meshgrid(x, y), r(3), r(2))
grad_row("meshgrid-ij-sparse", lambda x, y, z: cnp.meshgrid(x, y, z, indexing="ij",
                                                           sparse=True), r(2), r(3), r())
grad_row("array-of-tracers", lambda x, y: cnp.array([[x, 1.0], [y, x * y]]), r(), r())
grad_row("asarray-of-tracers", lambda x: cnp.asarray([x, x]), r(3))
grad_row("copy", cnp.copy, r(2))
# -- indexing --------------------------------------------------------------------
grad_row("slices", lambda x: x[1:-1:2, ::-2], r(6, 5))
grad_row("slices-negative", lambda x: x[-1:-5:-3], r(6))
grad_row("int-and-slice", lambda x: x[-1, 1:], r(2, 3))
grad_row("none-ellipsis", lambda x: x[None, ..., 1, None], r(2, 3, 4))
grad_row("getitem-0d", lambda x: x[()] * x[None], r())
grad_row("fancy-repeated", lambda x: x[[3, 0, 0, -1]], r(4))
grad_row("fancy-2d", lambda x: x[np.array([[0, 1], [2, 2]]), 1:], r(3, 2))
grad_row("fancy-broadcast-pairs", lambda x: x[[[0], [2]], [1, 1, 0]], r(3, 2))
grad_row("fancy-non-adjacent", lambda x: x[[0, 1], :, [2, 2]], r(2, 3, 4))
grad_row("bool-mask", lambda x: x[np.array([[True, False, True], [False, True, True]])], r(2, 3))
grad_row("take", lambda x: cnp.take(x, [1, 1, -1]), r(2, 2))
grad_row("take-axis-wrap", lambda x: cnp.take(x, [[3, -1]], axis=1, mode="wrap"), r(2, 3))
grad_row("take-clip-0d-index", lambda x: cnp.take(x, 9, axis=0, mode="clip"), r(3, 2))
grad_row("take_along_axis", lambda x: cnp.take_along_axis(x, np.array([[2, 2], [0, 1]]), 1),
         r(2, 3))
grad_row("take_along_axis-broadcast", lambda x: cnp.take_along_axis(
    x, np.array([[[1], [0]]]), axis=2), r(3, 2, 2))
grad_row("take_along_axis-argsort-like", lambda x: cnp.take_along_axis(
    x, cnp.expand_dims(cnp.argmax(x, axis=0), 0), axis=0), distinct(3, 4))
for _op in ["set", "add", "subtract", "multiply", "min", "max"]:
    grad_row(f"at-{_op}", lambda x, v, _op=_op: at(x, np.array([0, 2]), _op, v),
             distinct(4), distinct(2) + 0.1)
    grad_row(f"at-{_op}-repeated", lambda x, v, _op=_op: at(x, np.array([2, 0, 2, 2]), _op, v),
             distinct(3), distinct(4) + 0.1)
    grad_row(f"at-{_op}-2d-broadcast", lambda x, v, _op=_op: at(x, (slice(None), [1, 1]), _op, v),
             distinct(2, 3), distinct(2) + 0.1)
    grad_row(f"at-{_op}-scalar-update", lambda x, v, _op=_op: at(x, (1, slice(None, None, -1)),
                                                                    _op, v),
             distinct(2, 3), r())
grad_row("at-get", lambda x: at(x, (Ellipsis, [0, 0]), "get"), r(2, 3))
grad_row("at-multiply-zero-factors", lambda x, v: at(x, np.array([1, 0, 1, 1]), "multiply", v),
         r(2), np.array([0.0, 1.5, -0.7, 0.0]))
grad_row("at-set-then-add", lambda x, v: at(at(x, np.array([1, 1]), "set", v), 0, "add",
                                            v[0] * v[1]), r(3), r(2))


@pytest.mark.parametrize("f, args", GRADS)
def test_derivatives(f, args):
    cr.check_grads(f, args, order=2, modes=("fwd", "rev"))


# the shapes, construction and indexing functions: each needs a row in GRADS
FUNCTIONS = """reshape ravel flatten transpose moveaxis swapaxes expand_dims squeeze broadcast_to
broadcast_arrays atleast_1d atleast_2d atleast_3d concatenate stack hstack vstack dstack
column_stack append split array_split hsplit vsplit dsplit tile repeat flip fliplr flipud roll
rot90 pad diag diagonal diagflat trace triu tril eye identity zeros ones full zeros_like
ones_like full_like arange linspace meshgrid array asarray copy take take_along_axis""".split()


def test_every_function_of_the_group_has_a_derivative_row():
    words = {w for p in GRADS for w in p.id.split("-")}
    missing = [name for name in FUNCTIONS if name not in words]
    assert not missing, missing


# -- hard points: functional updates -----------------------------------------
W = np.arange(1.0, 20.0)   # distinct output weights: each output's cotangent is known


def _grads(f, *args):
    """Gradients of ``sum(W * f(*args))``: output k has cotangent ``W[k] = k + 1``."""
    def loss(*a):
        out = f(*a)
        return cnp.sum(out * W[:out.size].reshape(out.shape))
    return cr.grad(loss, argnums=tuple(range(len(args))))(*args)


def test_set_repeated_indices_last_write_wins():
    x, v = np.array([1.0, 2.0, 3.0, 4.0]), np.array([10.0, 20.0, 30.0])
    f = lambda x, v: x.at[np.array([1, 3, 1])].set(v)
    out = cr.make_ir(f)(x, v).eval(x, v)
    np.testing.assert_array_equal(out, [1.0, 30.0, 3.0, 20.0])
    gx, gv = _grads(f, x, v)
    # out = [x0, v2, x2, v1] weighted by W = [1, 2, 3, 4]
    np.testing.assert_array_equal(gx, [1.0, 0.0, 3.0, 0.0])
    np.testing.assert_array_equal(gv, [0.0, 4.0, 2.0])


def test_set_repeated_traced_indices():
    # indices that depend on the input: which write is last is decided at run time
    x, v = np.array([0.5, 3.0, 1.0]), np.array([7.0, 8.0])
    f = lambda x, v: x.at[cnp.stack([cnp.argmax(x), cnp.argmax(x)])].set(v)
    gx, gv = _grads(f, x, v)
    np.testing.assert_array_equal(gx, [1.0, 0.0, 3.0])
    np.testing.assert_array_equal(gv, [0.0, 2.0])


def test_add_accumulates_repeated_indices():
    x, v = np.zeros(3), np.array([1.0, 2.0, 4.0, 8.0])
    f = lambda x, v: x.at[np.array([2, 0, 2, 2])].add(v)
    np.testing.assert_array_equal(cr.make_ir(f)(x, v).eval(x, v), [2.0, 0.0, 13.0])
    gx, gv = _grads(f, x, v)
    np.testing.assert_array_equal(gx, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(gv, [3.0, 1.0, 3.0, 3.0])


def test_multiply_repeated_with_zero_factor():
    # out1 = x1 * a * b * c with b = 0: d/da = x1 b c = 0, d/db = x1 a c != 0
    x, v = np.array([5.0, 2.0]), np.array([3.0, 0.0, 4.0])
    f = lambda x, v: x.at[np.array([1, 1, 1])].multiply(v)
    np.testing.assert_array_equal(cr.make_ir(f)(x, v).eval(x, v), [5.0, 0.0])
    gx, gv = cr.grad(lambda x, v: f(x, v)[1], argnums=(0, 1))(x, v)
    np.testing.assert_array_equal(gx, [0.0, 0.0])
    np.testing.assert_array_equal(gv, [0.0, 2.0 * 3.0 * 4.0, 0.0])
    # second derivatives: d2/(da db) = x1 c = 8, d2/(db dc) = x1 a = 6, d2/(dx1 db) = a c = 12
    def d_db(x, v):
        return cr.grad(lambda x, v: f(x, v)[1], argnums=1)(x, v)[1]
    hx, hv = cr.grad(d_db, argnums=(0, 1))(x, v)
    np.testing.assert_array_equal(hv, [8.0, 0.0, 6.0])
    np.testing.assert_array_equal(hx, [0.0, 12.0])


def test_multiply_with_two_zero_factors():
    # two zeros: every first derivative in v is zero, but d2/(da db) = x c
    x, v = np.array([2.0]), np.array([0.0, 0.0, 3.0])

    def f(x, v):
        return x.at[np.array([0, 0, 0])].multiply(v)[0]
    g = cr.grad(f, argnums=1)(x, v)
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])
    h = cr.grad(lambda x, v: cr.grad(f, argnums=1)(x, v)[0], argnums=1)(x, v)
    np.testing.assert_array_equal(h, [0.0, 6.0, 0.0])


@pytest.mark.parametrize("op, x0, expected_x, expected_v", [
    # x0 ties with both updates: three contenders share the gradient
    ("max", 3.0, 1 / 3, [1 / 3, 1 / 3, 0.0]),
    ("min", 3.0, 1 / 3, [1 / 3, 1 / 3, 0.0]),
    # the two updates tie above (below) x0: half each, none for x0
    ("max", 1.0, 0.0, [0.5, 0.5, 0.0]),
    ("min", 5.0, 0.0, [0.5, 0.5, 0.0]),
    # x0 wins alone
    ("max", 4.0, 1.0, [0.0, 0.0, 0.0]),
    ("min", 2.0, 1.0, [0.0, 0.0, 0.0]),
])
def test_min_max_ties_split_evenly(op, x0, expected_x, expected_v):
    x, v = np.array([x0, 7.0]), np.array([3.0, 3.0, -9.0 if op == "max" else 9.0])
    f = lambda x, v: getattr(x.at[np.array([0, 0, 1])], op)(v)[0]
    gx, gv = cr.grad(f, argnums=(0, 1))(x, v)
    np.testing.assert_allclose(gx, [expected_x, 0.0], rtol=1e-15)
    np.testing.assert_allclose(gv, expected_v, rtol=1e-15)
    # forward mode agrees: tangent ones in all inputs gives the sum of the shares
    _, t = cr.jvp(f, (x, v), (np.ones(2), np.ones(3)))
    np.testing.assert_allclose(t, expected_x + sum(expected_v), rtol=1e-15)


def test_min_max_values_match_numpy_ufunc_at():
    x, v = r(5), r(7)
    idx = np.array([0, 4, 4, 1, 0, 0, -1])
    for op, ufunc in [("min", np.minimum), ("max", np.maximum), ("multiply", np.multiply),
                      ("add", np.add)]:
        expected = x.copy()
        ufunc.at(expected, idx, v)
        f = lambda x, v: getattr(x.at[idx], op)(v)
        np.testing.assert_allclose(cr.make_ir(f)(x, v).eval(x, v), expected, rtol=1e-15)


def test_updates_with_traced_indices():
    x, v = r(4), r(2)
    i = np.array([3, -4])
    for op in ["set", "add", "min", "max"]:
        f = lambda x, v, i: getattr(x.at[i], op)(v)
        expected = at(x, i, op, v)
        np.testing.assert_allclose(cr.make_ir(f)(x, v, i).eval(x, v, i), expected)
    # multiply groups by the index values: known under grad, unknown under make_ir
    # x1 * v0 * v1 with x1 = 3: d/dv0 = 15, d/dv1 = 6
    g = cr.grad(lambda x, v: cnp.sum(x.at[cnp.stack([cnp.argmax(x)] * 2)].multiply(v)),
                argnums=1)(np.array([1.0, 3.0]), np.array([2.0, 5.0]))
    np.testing.assert_array_equal(g, [15.0, 6.0])
    with pytest.raises(NotImplementedError, match="multiply"):
        cr.make_ir(lambda x, v, i: x.at[i].multiply(v))(x, v, i)


def test_at_rejects_unsupported_modes():
    x = r(3)
    with pytest.raises(NotImplementedError, match="mode"):
        cr.make_ir(lambda x: x.at[0].set(1.0, mode="drop"))(x)
    out = cr.make_ir(lambda x: x.at[np.array([0, 2])].add(1.0, unique_indices=True))(x).eval(x)
    np.testing.assert_allclose(out, x + [1.0, 0.0, 1.0])


# -- hard points: copies accumulate their cotangents ------------------------
def test_take_and_fancy_indexing_accumulate():
    x = r(4)
    np.testing.assert_array_equal(cr.grad(lambda x: cnp.sum(cnp.take(x, [0, 0, 3, 0])))(x),
                                  [3.0, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(cr.grad(lambda x: cnp.sum(x[[-1, 3, 1]] * W[:3]))(x),
                                  [0.0, 3.0, 0.0, 3.0])


@pytest.mark.parametrize("mode", ["edge", "reflect", "symmetric", "wrap"])
def test_pad_gradient_counts_the_copies(mode):
    # d sum(pad(x)) / dx_i = how often x_i appears in the padded array,
    # counted by padding the positions themselves with NumPy
    x = r(4)
    counts = np.bincount(np.pad(np.arange(4), (6, 3), mode=mode), minlength=4)
    g = cr.grad(lambda x: cnp.sum(cnp.pad(x, (6, 3), mode=mode)))(x)
    np.testing.assert_array_equal(g, counts)


def test_pad_traced_constant_value_gradient():
    # d/dc sum(pad(x, c)) = number of padded elements; d/dx = 1
    x, c = r(2, 3), 0.3
    gx, gc = cr.grad(lambda x, c: cnp.sum(cnp.pad(x, ((1, 2), (0, 1)), constant_values=c)),
                     argnums=(0, 1))(x, c)
    np.testing.assert_array_equal(gx, np.ones((2, 3)))
    assert gc == 5 * 4 - 2 * 3
    # per-side values: a pads the top row (4 wide before axis 1 is padded) and
    # both columns of axis 1 cover the corners
    ga, gb = cr.grad(lambda a, b: cnp.sum(cnp.pad(x, ((1, 0), (1, 1)),
                                                  constant_values=((a, 0.0), (b, b)))),
                     argnums=(0, 1))(1.0, 2.0)
    assert (ga, gb) == (3.0, 2 * 3.0)


def test_tile_repeat_meshgrid_sum_over_copies():
    x = r(2, 3)
    w = r(4, 9)
    g = cr.grad(lambda x: cnp.sum(cnp.tile(x, (2, 3)) * w))(x)
    np.testing.assert_allclose(g, w.reshape(2, 2, 3, 3).sum(axis=(0, 2)), rtol=1e-13)
    g = cr.grad(lambda x: cnp.sum(cnp.repeat(x, [3, 1], axis=0) * W[:12].reshape(4, 3)))(x)
    np.testing.assert_allclose(g, [W[0:3] + W[3:6] + W[6:9], W[9:12]], rtol=1e-13)
    a, b = r(3), r(2)
    gx, gy = cr.grad(lambda a, b: cnp.sum(cnp.meshgrid(a, b)[0] * w[:2, :3]
                                          + cnp.meshgrid(a, b)[1] * w[2:, :3]),
                     argnums=(0, 1))(a, b)
    np.testing.assert_allclose(gx, w[:2, :3].sum(axis=0), rtol=1e-13)
    np.testing.assert_allclose(gy, w[2:, :3].sum(axis=1), rtol=1e-13)


def test_roll_and_rot90_gradients_move_back():
    x, w = r(3, 4), r(3, 4)
    g = cr.grad(lambda x: cnp.sum(cnp.roll(x, (1, -2), axis=(0, 1)) * w))(x)
    np.testing.assert_array_equal(g, np.roll(w, (-1, 2), axis=(0, 1)))
    g = cr.grad(lambda x: cnp.sum(cnp.rot90(x) * w.T))(x)
    np.testing.assert_array_equal(g, np.rot90(w.T, -1))


def test_diagonal_trace_diag_triangles():
    a, v = r(3, 4), r(3)
    np.testing.assert_array_equal(cr.grad(cnp.trace)(r(3, 3)), np.eye(3))
    np.testing.assert_array_equal(cr.grad(lambda a: cnp.trace(a, 1))(a), np.eye(3, 4, k=1))
    w = r(5, 5)
    g = cr.grad(lambda v: cnp.sum(cnp.diag(v, -2) * w))(v)
    np.testing.assert_array_equal(g, np.diagonal(w, -2))
    np.testing.assert_array_equal(cr.grad(lambda a: cnp.sum(cnp.triu(a, 1)))(a),
                                  np.triu(np.ones((3, 4)), 1))
    np.testing.assert_array_equal(cr.grad(lambda a: cnp.sum(cnp.tril(a)))(a),
                                  np.tril(np.ones((3, 4))))
    # triangles keep NaNs out of the zeroed part (select, not a multiplication)
    nan = np.array([[1.0, np.nan], [2.0, 3.0]])
    np.testing.assert_array_equal(cr.make_ir(cnp.tril)(nan).eval(nan), np.tril(nan))


# -- construction with traced arguments --------------------------------------
def test_linspace_endpoint_derivatives():
    # y_i = start + i (stop - start) / (n - 1): dy_i/dstart = 1 - i/(n-1), dy_i/dstop = i/(n-1)
    n = 5
    i = np.arange(n)
    for k in range(n):
        gs, gt = cr.grad(lambda s, t: cnp.linspace(s, t, n)[k], argnums=(0, 1))(-1.0, 2.0)
        assert np.isclose(gs, 1 - i[k] / (n - 1), rtol=1e-15, atol=1e-15)
        assert np.isclose(gt, i[k] / (n - 1), rtol=1e-15, atol=1e-15)
    # the endpoint is stop exactly, as in NumPy
    out = cr.make_ir(lambda s, t: cnp.linspace(s, t, 50))(0.0, 1.0).eval(0.0, 1.0)
    assert out[-1] == 1.0
    np.testing.assert_array_equal(out, np.linspace(0.0, 1.0, 50))
    # without the endpoint: step (stop - start) / n
    g = cr.grad(lambda t: cnp.sum(cnp.linspace(0.0, t, 4, endpoint=False)))(1.0)
    assert np.isclose(g, (0 + 1 + 2 + 3) / 4, rtol=1e-15)


def test_arange_and_full_with_traced_values():
    # arange(a, b, s)_i = a + i s: d/da = 1, d/ds = i; the bounds' values set the length
    ga, gs = cr.grad(lambda a, s: cnp.sum(cnp.arange(a, 3.0, s) * W[:6]),
                     argnums=(0, 1))(0.2, 0.5)
    assert np.size(np.arange(0.2, 3.0, 0.5)) == 6
    assert ga == W[:6].sum()
    assert gs == (np.arange(6) * W[:6]).sum()
    assert cr.grad(lambda v: cnp.sum(cnp.full((2, 3), v)))(1.5) == 6.0
    with pytest.raises(cr.ConcretizationError):
        cr.make_ir(lambda n: cnp.arange(n))(3.0)


def test_value_errors_match_numpy():
    x = r(5)
    with pytest.raises(ValueError, match="equal division"):
        cr.make_ir(lambda x: cnp.split(x, 2))(x)
    with pytest.raises(NotImplementedError, match="linear_ramp"):
        cr.make_ir(lambda x: cnp.pad(x, 1, mode="linear_ramp"))(x)
    with pytest.raises(ValueError, match="empty axis"):
        cr.make_ir(lambda x: cnp.pad(x, 1, mode="edge"))(np.zeros(0))
    with pytest.raises(IndexError, match="out of bounds"):
        cr.make_ir(lambda x: cnp.take(x, [5]))(x)
