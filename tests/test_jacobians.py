"""Full Jacobians: jacfwd, jacrev, jacobian (every mode and plan) and hessian.

References are computed here, independently of chainrule: central finite
differences in float64 (eps 1e-6), Jacobians derived by hand where that is
easy, and the output structure JAX gives, built by a small pytree walker of
this file.  Every plan the Jacobian planner can run on a function (random
plan trees injected into ``jacobian``'s plan cache, beside the plans the
modes choose) must equal ``jacfwd`` to 1e-10 relative error.
"""
from __future__ import annotations

import importlib
import zlib

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.transforms import planner

EPS = 1e-6
FD_TOL = 1e-6
PLAN_TOL = 1e-10
MODES = ("auto", "optimal", "fwd", "rev")


# -- a pytree walker of our own (dicts by sorted key, tuples, lists) ----------------
def flatten(tree):
    if isinstance(tree, dict):
        leaves, builders = [], []
        keys = sorted(tree)
        for k in keys:
            l, b = flatten(tree[k])
            leaves += l
            builders.append((len(l), b))
        return leaves, _rebuild(lambda parts: dict(zip(keys, parts)), builders)
    if isinstance(tree, (tuple, list)):
        leaves, builders = [], []
        for t in tree:
            l, b = flatten(t)
            leaves += l
            builders.append((len(l), b))
        return leaves, _rebuild(type(tree), builders)
    return [np.asarray(tree, np.float64)], lambda leaves: leaves[0]


def _rebuild(make, builders):
    def build(leaves):
        parts, start = [], 0
        for n, b in builders:
            parts.append(b(leaves[start:start + n]))
            start += n
        return make(parts)
    return build


def fd_jacobian(f, args, argnums=0):
    """Central differences, in JAX's output structure: each output leaf
    holds the blocks ``out.shape + in.shape`` arranged like the argument
    (``argnums`` an int), or a tuple of those (a tuple of argnums)."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    flat_args = [flatten(args[i]) for i in nums]
    out_leaves, out_build = flatten(f(*args))
    blocks = [[[None] * len(leaves) for leaves, _ in flat_args] for _ in out_leaves]
    for a, (i, (leaves, build)) in enumerate(zip(nums, flat_args)):
        for l, leaf in enumerate(leaves):
            cols = []
            for k in range(leaf.size):
                outs = []
                for sign in (1, -1):
                    moved = [x.copy() for x in leaves]
                    moved[l].reshape(-1)[k] += sign * EPS
                    full = list(args)
                    full[i] = build(moved)
                    outs.append(flatten(f(*full))[0])
                cols.append([(p - m) / (2 * EPS) for p, m in zip(*outs)])
            for o, out in enumerate(out_leaves):
                block = np.stack([c[o] for c in cols], axis=-1) if cols else \
                    np.zeros(out.shape + (0,))
                blocks[o][a][l] = block.reshape(out.shape + leaf.shape)
    per_out = []
    for o in range(len(out_leaves)):
        parts = [build(blocks[o][a]) for a, (_, build) in enumerate(flat_args)]
        per_out.append(parts[0] if isinstance(argnums, int) else tuple(parts))
    return out_build(per_out)


def assert_tree_close(got, want, rtol, atol=0.0, path="J"):
    """Same structure (containers of the same type, dict keys, lengths),
    same shapes, close values."""
    if isinstance(want, dict):
        assert isinstance(got, dict), f"{path}: {type(got).__name__}, wanted a dict"
        assert sorted(got) == sorted(want), f"{path}: keys {sorted(got)} != {sorted(want)}"
        for k in want:
            assert_tree_close(got[k], want[k], rtol, atol, f"{path}[{k!r}]")
        return
    if isinstance(want, (tuple, list)):
        assert type(got) is type(want), f"{path}: {type(got).__name__} != {type(want).__name__}"
        assert len(got) == len(want), f"{path}: length {len(got)} != {len(want)}"
        for k, (g, w) in enumerate(zip(got, want)):
            assert_tree_close(g, w, rtol, atol, f"{path}[{k}]")
        return
    g = np.asarray(got)
    assert g.shape == np.shape(want), f"{path}: shape {g.shape} != {np.shape(want)}"
    assert g.dtype == np.float64, f"{path}: dtype {g.dtype}"
    np.testing.assert_allclose(g, want, rtol=rtol, atol=atol, err_msg=path)


def assert_relative(got, want, tol=PLAN_TOL, path="J"):
    """Every leaf within ``tol`` relative error (max-norm, relative to the
    largest entry of the leaf; exact zeros must stay zero)."""
    g_leaves, _ = flatten(got)
    w_leaves, _ = flatten(want)
    assert len(g_leaves) == len(w_leaves), path
    for k, (g, w) in enumerate(zip(g_leaves, w_leaves)):
        assert g.shape == w.shape, f"{path} leaf {k}: {g.shape} != {w.shape}"
        scale = np.max(np.abs(w)) if w.size else 0.0
        err = np.max(np.abs(g - w)) if w.size else 0.0
        assert err <= tol * scale or (scale == 0 and err == 0), \
            f"{path} leaf {k}: relative error {err / max(scale, 1e-300):.3g}"


def all_jacobians(f, argnums=0):
    """Every way chainrule has to compute a full Jacobian."""
    out = {"jacfwd": cr.jacfwd(f, argnums), "jacrev": cr.jacrev(f, argnums)}
    for mode in MODES:
        out[f"jacobian[{mode}]"] = cr.jacobian(f, argnums, mode=mode)
    return out


# -- test functions ---------------------------------------------------------------------
rng = np.random.default_rng(20240601)
W_small = rng.normal(size=(4, 3))


def mlp_chain(widths, seed):
    """x -> tanh(W1 x + b1) -> sin(W2 . + b2) -> ... -> W_k . : widths go up and down."""
    r = np.random.default_rng(seed)
    Ws = [r.normal(size=(b, a)) / np.sqrt(a) for a, b in zip(widths[:-1], widths[1:])]
    bs = [r.normal(size=b) for b in widths[1:]]
    acts = [cnp.tanh, cnp.sin, lambda z: z * cnp.tanh(z), cnp.cos]

    def f(x):
        h = x
        for k, (W, b) in enumerate(zip(Ws, bs)):
            h = W @ h + b
            if k < len(Ws) - 1:
                h = acts[k % len(acts)](h)
        return h

    return f


def residual_net(seed, n=12, hidden=20, depth=3):
    """h <- h + V tanh(U h); with a skip from the input to the output."""
    r = np.random.default_rng(seed)
    Us = [r.normal(size=(hidden, n)) / np.sqrt(n) for _ in range(depth)]
    Vs = [r.normal(size=(n, hidden)) / np.sqrt(hidden) for _ in range(depth)]
    A = r.normal(size=(5, n))

    def f(x):
        h = x
        for U, V in zip(Us, Vs):
            h = h + V @ cnp.tanh(U @ h)
        return cnp.sin(A @ h) + 0.5 * A @ x

    return f


def elementwise_chain(x):
    return cnp.sin(cnp.exp(0.3 * cnp.tanh(x)) * x) + cnp.log1p(x * x)


def multi_io(x, y):
    """Two inputs, three outputs of different shapes."""
    z = cnp.tanh(W_small @ x)                       # (4,)
    return {"z": z * y[0],
            "outer": cnp.outer(z, y),              # (4, 2)
            "s": cnp.sum(cnp.exp(y) * y) + x @ x}  # ()


def ignores_y(x, y):
    """The output does not depend on ``y`` at all."""
    return cnp.tanh(W_small @ x) + 1.0


def partly_constant(x, y):
    """One output is an input itself, one ignores the inputs, one uses x only."""
    return (x, np.arange(2.0), cnp.sin(x) * 3.0, y * y)


def matrix_fn(X):
    """A matrix in, a matrix out: X^T X + sin(X) sums."""
    return X.T @ X + cnp.sin(X).sum() * np.eye(3)


FUNCTIONS = {
    "tanh(Wx)": (lambda x: cnp.tanh(W_small @ x), (rng.normal(size=3),), 0),
    "mlp up/down": (mlp_chain([6, 15, 3, 12, 4], 1), (rng.normal(size=6),), 0),
    "mlp down/up": (mlp_chain([10, 2, 20, 8], 2), (rng.normal(size=10),), 0),
    "residual": (residual_net(3), (rng.normal(size=12),), 0),
    "elementwise": (elementwise_chain, (rng.uniform(0.1, 1.5, size=7),), 0),
    "multi io": (multi_io, (rng.normal(size=3), rng.normal(size=2)), (0, 1)),
    "multi io argnum 1": (multi_io, (rng.normal(size=3), rng.normal(size=2)), 1),
    "ignores y": (ignores_y, (rng.normal(size=3), rng.normal(size=2)), (0, 1)),
    "partly constant": (partly_constant, (rng.normal(size=3), rng.normal(size=2)), (0, 1)),
    "matrix": (matrix_fn, (rng.normal(size=(4, 3)),), 0),
    "pytree input": (lambda p: {"u": cnp.tanh(p["W"] @ p["x"]), "v": cnp.sum(p["x"] ** 3)},
                     ({"W": rng.normal(size=(2, 3)), "x": rng.normal(size=3)},), 0),
    "scalar in": (lambda t: cnp.stack([cnp.sin(t), t * t, cnp.exp(t)]), (0.7,), 0),
    "scalar out": (lambda x: cnp.sum(cnp.sin(x) * x), (rng.normal(size=(2, 3)),), 0),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_jacobians_match_finite_differences(name):
    f, args, argnums = FUNCTIONS[name]
    want = fd_jacobian(f, args, argnums)
    reference = None
    for how, jac in all_jacobians(f, argnums).items():
        got = jac(*args)
        assert_tree_close(got, want, rtol=FD_TOL, atol=FD_TOL, path=f"{name} {how}")
        if reference is None:
            reference = got         # jacfwd
        else:
            assert_relative(got, reference, PLAN_TOL, f"{name} {how} vs jacfwd")


def test_tanh_layer_by_hand():
    # d tanh(W x) / dx = diag(1 - tanh(W x)^2) W
    x = np.array([0.3, -1.2, 0.8])
    want = (1 - np.tanh(W_small @ x) ** 2)[:, None] * W_small
    for how, jac in all_jacobians(lambda x: cnp.tanh(W_small @ x)).items():
        np.testing.assert_allclose(jac(x), want, rtol=1e-13, atol=1e-14, err_msg=how)


def test_two_layer_hourglass_by_hand_and_mixed_plan():
    # n = m = 300 through a waist of 5: the optimal plan is mixed
    r = np.random.default_rng(11)
    W1, W2 = r.normal(size=(5, 300)) / 10, r.normal(size=(300, 5))
    x = r.normal(size=300)

    def f(x):
        return cnp.tanh(W2 @ cnp.tanh(W1 @ x))

    h1 = np.tanh(W1 @ x)
    h2 = np.tanh(W2 @ h1)
    want = ((1 - h2 ** 2)[:, None] * W2) @ ((1 - h1 ** 2)[:, None] * W1)
    plan = cr.jacobian_plan(f, mode="optimal")(x)
    assert not plan.pure
    assert plan.predicted_time <= min(plan.forward_time, plan.reverse_time)
    for how, jac in all_jacobians(f).items():
        if how == "jacrev":
            continue   # 300 adjoint sweeps: covered by jacobian[rev]
        got = jac(x)
        assert got.shape == (300, 300)
        assert_relative(got, want, PLAN_TOL, how)


# -- every plan of a chain gives the same Jacobian ----------------------------------
def random_plan(segments, i, j, r, depth=0):
    """A random valid plan tree for segments i..j."""
    options = [planner.FWD, planner.REV]
    if i == j and segments[i].kind in ("explicit", "diagonal"):
        options.append(planner.EXPLICIT)
    if i < j and depth < 6:
        options += [planner.PRODUCT, planner.TANGENT_ELIM, planner.ADJOINT_ELIM] * 2
    option = int(r.choice(options))
    if option in (planner.FWD, planner.REV, planner.EXPLICIT):
        return planner.PlanNode(option, i, j)
    s = int(r.integers(i, j))
    node = planner.PlanNode(option, i, j, split=s)
    if option in (planner.PRODUCT, planner.ADJOINT_ELIM):
        node.left = random_plan(segments, s + 1, j, r, depth + 1)
    if option in (planner.PRODUCT, planner.TANGENT_ELIM):
        node.right = random_plan(segments, i, s, r, depth + 1)
    return node


def products_of_factors(segments, fallback):
    """A_k @ (... @ (A_2 @ A_1)): each factor explicit where its kind allows
    (a matrix or a diagonal), else by ``fallback`` sweeps."""
    def factor(s):
        kind = segments[s].kind
        option = planner.EXPLICIT if kind in ("explicit", "diagonal") else fallback
        return planner.PlanNode(option, s, s)
    node = factor(0)
    for s in range(1, len(segments)):
        node = planner.PlanNode(planner.PRODUCT, 0, s, split=s - 1, left=factor(s), right=node)
    return node


def plan_options(root):
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        seen.add(node.option)
        stack.extend(c for c in (node.left, node.right) if c is not None)
    return seen


CHAINS = {
    "mlp up/down": (mlp_chain([8, 30, 3, 25, 6], 5), (rng.normal(size=8),), 0),
    "mlp narrowing": (mlp_chain([40, 20, 10, 5, 2], 6), (rng.normal(size=40),), 0),
    "mlp widening": (mlp_chain([2, 5, 10, 20, 40], 7), (rng.normal(size=2),), 0),
    "residual": (residual_net(8, n=10, hidden=16, depth=3), (rng.normal(size=10),), 0),
    "elementwise": (elementwise_chain, (rng.uniform(0.1, 1.5, size=9),), 0),
    "multi io": (multi_io, (rng.normal(size=3), rng.normal(size=2)), (0, 1)),
    "ignores y": (ignores_y, (rng.normal(size=3), rng.normal(size=2)), (0, 1)),
    "partly constant": (partly_constant, (rng.normal(size=3), rng.normal(size=2)), (0, 1)),
}


@pytest.mark.parametrize("name", list(CHAINS))
def test_every_plan_equals_jacfwd(name):
    f, args, argnums = CHAINS[name]
    want = cr.jacfwd(f, argnums)(*args)
    jac = cr.jacobian(f, argnums, mode="optimal")
    assert_relative(jac(*args), want, PLAN_TOL, f"{name} optimal")
    (entry,) = jac.plans.values()       # the plan, and the programs staged from it
    plan = entry.plan
    segments = plan.segments
    k = len(segments)
    r = np.random.default_rng(zlib.crc32(name.encode()))
    seen = set()
    trees = [planner.PlanNode(planner.FWD, 0, k - 1), planner.PlanNode(planner.REV, 0, k - 1),
             products_of_factors(segments, planner.FWD), products_of_factors(segments, planner.REV)]
    trees += [random_plan(segments, 0, k - 1, r) for _ in range(40 if k > 1 else 0)]
    for tree in trees:
        plan.root = tree     # run this plan through jacobian's own cache
        entry.programs.clear()
        got = jac(*args)
        assert_relative(got, want, PLAN_TOL, f"{name} plan {tree.describe()}")
        seen |= plan_options(tree)
    if k > 1:
        assert {planner.FWD, planner.REV, planner.PRODUCT, planner.TANGENT_ELIM,
                planner.ADJOINT_ELIM} <= seen, seen
    if any(s.kind in ("explicit", "diagonal") for s in segments):
        assert planner.EXPLICIT in seen


def test_chains_have_several_segments_and_explicit_kinds():
    # the chain tests above exercise mixed plans only if the programs are cut
    kinds = set()
    for name in ("mlp up/down", "mlp widening", "residual", "elementwise"):
        f, args, argnums = CHAINS[name]
        plan = cr.jacobian_plan(f, argnums, mode="optimal")(*args)
        assert len(plan.segments) >= 2, name
        kinds |= {s.kind for s in plan.segments}
    assert {"explicit", "diagonal"} <= kinds, kinds


# -- output shapes and structures (JAX's) ---------------------------------------------
def test_shapes_follow_jax():
    x3, X23 = np.ones(3) * 0.5, np.full((2, 3), 0.5)
    cases = [
        (lambda x: cnp.sin(x), x3, (3, 3)),
        (lambda x: cnp.sum(x), x3, (3,)),
        (lambda x: cnp.sin(X23) * x, 0.5, (2, 3)),
        (lambda x: x * x, 0.5, ()),
        (lambda X: X @ X.T, X23, (2, 2, 2, 3)),
        (lambda X: cnp.sum(X, axis=0), X23, (3, 2, 3)),
    ]
    for f, x, shape in cases:
        for how, jac in all_jacobians(f).items():
            assert np.shape(jac(x)) == shape, (how, np.shape(jac(x)), shape)


def test_argnums_tuple_gives_a_tuple_of_blocks_per_output_leaf():
    x, y = np.array([0.1, 0.2, 0.3]), np.array([1.0, -1.0])
    for how, jac in all_jacobians(multi_io, (0, 1)).items():
        out = jac(x, y)
        assert isinstance(out, dict) and sorted(out) == ["outer", "s", "z"], how
        assert isinstance(out["z"], tuple) and len(out["z"]) == 2, how
        assert [np.shape(b) for b in out["z"]] == [(4, 3), (4, 2)], how
        assert [np.shape(b) for b in out["outer"]] == [(4, 2, 3), (4, 2, 2)], how
        assert [np.shape(b) for b in out["s"]] == [(3,), (2,)], how
    # argnums=(1,) is still a tuple (of one block per output leaf)
    out = cr.jacfwd(multi_io, argnums=(1,))(x, y)
    assert isinstance(out["s"], tuple) and len(out["s"]) == 1
    out = cr.jacobian(multi_io, argnums=(1,))(x, y)
    assert isinstance(out["s"], tuple) and len(out["s"]) == 1
    # a negative argnum counts from the end
    np.testing.assert_allclose(cr.jacfwd(multi_io, argnums=-1)(x, y)["s"],
                               np.exp(y) * (1 + y), rtol=1e-14)


def test_pytree_argument_gives_blocks_arranged_like_it():
    p = {"W": np.full((2, 3), 0.1), "x": np.array([1.0, 2.0, 3.0])}
    f = FUNCTIONS["pytree input"][0]
    for how, jac in all_jacobians(f).items():
        out = jac(p)
        assert sorted(out) == ["u", "v"]
        assert sorted(out["u"]) == ["W", "x"], how
        assert np.shape(out["u"]["W"]) == (2, 2, 3) and np.shape(out["u"]["x"]) == (2, 3), how
        assert np.shape(out["v"]["W"]) == (2, 3) and np.shape(out["v"]["x"]) == (3,), how
        # by hand: d sum(x^3)/dx = 3 x^2, and it does not depend on W
        np.testing.assert_allclose(out["v"]["x"], 3 * p["x"] ** 2, rtol=1e-14)
        np.testing.assert_array_equal(out["v"]["W"], np.zeros((2, 3)))


def test_tuple_argument_and_tuple_output():
    def f(pair):
        a, b = pair
        return (a * b, cnp.sum(a))

    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    for how, jac in all_jacobians(f).items():
        (dab, dsum) = jac((a, b))
        assert isinstance(dab, tuple) and isinstance(dsum, tuple), how
        np.testing.assert_allclose(dab[0], np.diag(b), err_msg=how)
        np.testing.assert_allclose(dab[1], np.diag(a), err_msg=how)
        np.testing.assert_allclose(dsum[0], np.ones(2), err_msg=how)
        np.testing.assert_array_equal(dsum[1], np.zeros(2), err_msg=how)


def test_zero_blocks_for_unused_inputs():
    x, y = np.array([0.3, -0.4, 0.5]), np.array([2.0, 3.0])
    for how, jac in all_jacobians(ignores_y, (0, 1)).items():
        dx, dy = jac(x, y)
        np.testing.assert_allclose(dx, (1 - np.tanh(W_small @ x) ** 2)[:, None] * W_small,
                                   rtol=1e-13, err_msg=how)
        assert np.shape(dy) == (4, 2)
        np.testing.assert_array_equal(dy, np.zeros((4, 2)), err_msg=how)
    for how, jac in all_jacobians(partly_constant, (0, 1)).items():
        ident, const, sinx, yy = jac(x, y)
        np.testing.assert_array_equal(ident[0], np.eye(3), err_msg=how)
        np.testing.assert_array_equal(ident[1], np.zeros((3, 2)), err_msg=how)
        np.testing.assert_array_equal(const[0], np.zeros((2, 3)), err_msg=how)
        np.testing.assert_array_equal(const[1], np.zeros((2, 2)), err_msg=how)
        np.testing.assert_allclose(sinx[0], np.diag(3 * np.cos(x)), rtol=1e-14, err_msg=how)
        np.testing.assert_allclose(yy[1], np.diag(2 * y), rtol=1e-14, err_msg=how)
    # a function that ignores its argument entirely
    for how, jac in all_jacobians(lambda x: np.ones((2, 2))).items():
        np.testing.assert_array_equal(jac(x), np.zeros((2, 2, 3)), err_msg=how)


def test_empty_inputs_and_outputs():
    # as JAX: out.shape + in.shape with a zero in it, for every way
    cases = [(lambda x: cnp.sum(x) + 1.0, np.zeros(0), (0,)),
             (lambda x: x * 2.0, np.zeros((0, 3)), (0, 3, 0, 3)),
             (lambda x: x[:0] * 2.0, np.ones(3), (0, 3))]
    for f, x, shape in cases:
        for how, jac in all_jacobians(f).items():
            got = jac(x)
            assert np.shape(got) == shape, (how, np.shape(got), shape)
    assert np.shape(cr.hessian(lambda x: cnp.sum(x ** 2))(np.zeros(0))) == (0, 0)


def test_integer_inputs_are_an_error():
    f = lambda x: x * 2.0   # noqa: E731
    xi = np.arange(3)
    for jac in (cr.jacfwd(f), cr.jacrev(f), cr.hessian(lambda x: cnp.sum(x * 2.0)),
                cr.jacobian_plan(f)) + tuple(cr.jacobian(f, mode=m) for m in MODES):
        with pytest.raises(TypeError, match="floating-point"):
            jac(xi)
    # an integer argument outside argnums is fine
    g = lambda x, k: x * k   # noqa: E731
    np.testing.assert_array_equal(cr.jacfwd(g)(np.ones(2), 3), 3 * np.eye(2))
    np.testing.assert_array_equal(cr.jacobian(g)(np.ones(2), 3), 3 * np.eye(2))
    with pytest.raises(ValueError, match="mode"):
        cr.jacobian(f, mode="sideways")


# -- hessian -------------------------------------------------------------------------
def test_hessian_by_hand():
    # f = sum(x^3) + x0 x1:  H = diag(6 x) + (e0 e1^T + e1 e0^T)
    def f(x):
        return cnp.sum(x ** 3) + x[0] * x[1]

    x = np.array([0.5, -1.5, 2.0, 0.25])
    want = np.diag(6 * x)
    want[0, 1] = want[1, 0] = 1.0
    got = cr.hessian(f)(x)
    assert got.shape == (4, 4) and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-14)
    # the hessian is the Jacobian of the gradient: FD on a hand-written gradient
    grad = lambda x: 3 * x ** 2 + np.array([x[1], x[0], 0, 0])   # noqa: E731
    np.testing.assert_allclose(fd_jacobian(grad, (x,)), want, atol=FD_TOL)


def test_hessian_shapes_and_structures():
    X = np.array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]])
    H = cr.hessian(lambda X: cnp.sum(cnp.sin(X) * X))(X)
    assert H.shape == (2, 3, 2, 3)
    # d2/dX2 of sum(x sin x) elementwise: 2 cos x - x sin x on the diagonal
    want = np.diag((2 * np.cos(X) - X * np.sin(X)).ravel()).reshape(2, 3, 2, 3)
    np.testing.assert_allclose(H, want, rtol=1e-13, atol=1e-14)

    # argnums tuple: a tuple of tuples, ((H_aa, H_ab), (H_ba, H_bb))
    a, b = np.array([1.0, 2.0, -1.0]), np.array([0.5, -0.5, 2.0])
    f = lambda a, b: cnp.sum(a ** 2 * b)   # noqa: E731
    H = cr.hessian(f, argnums=(0, 1))(a, b)
    assert isinstance(H, tuple) and all(isinstance(row, tuple) and len(row) == 2 for row in H)
    np.testing.assert_allclose(H[0][0], np.diag(2 * b), rtol=1e-14)
    np.testing.assert_allclose(H[0][1], np.diag(2 * a), rtol=1e-14)
    np.testing.assert_allclose(H[1][0], np.diag(2 * a), rtol=1e-14)
    np.testing.assert_array_equal(H[1][1], np.zeros((3, 3)))
    # a dict argument: a dict of dicts
    H = cr.hessian(lambda p: f(p["a"], p["b"]))({"a": a, "b": b})
    assert sorted(H) == ["a", "b"] and all(sorted(H[k]) == ["a", "b"] for k in H)
    np.testing.assert_allclose(H["b"]["a"], np.diag(2 * a), rtol=1e-14)
    # argnums picks the argument
    np.testing.assert_allclose(cr.hessian(f, argnums=1)(a, b), np.zeros((3, 3)))


def test_hessian_against_finite_differences_of_the_gradient():
    r = np.random.default_rng(5)
    A = r.normal(size=(4, 4))

    def f(x):
        return cnp.log(cnp.sum(cnp.exp(A @ x))) + 0.5 * cnp.sum(cnp.tanh(x) ** 2)

    def grad_by_hand(x):
        z = A @ x
        s = np.exp(z - z.max())
        s /= s.sum()
        return A.T @ s + np.tanh(x) * (1 - np.tanh(x) ** 2)

    x = r.normal(size=4)
    np.testing.assert_allclose(cr.grad(f)(x), grad_by_hand(x), rtol=1e-12)
    H = cr.hessian(f)(x)
    np.testing.assert_allclose(H, fd_jacobian(grad_by_hand, (x,)), atol=FD_TOL)
    np.testing.assert_allclose(H, H.T, atol=1e-13)
    # forward-over-reverse equals the other orders of jacobians
    np.testing.assert_allclose(cr.jacrev(cr.jacfwd(f))(x), H, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(cr.jacobian(cr.grad(f), mode="optimal")(x), H, rtol=1e-10,
                               atol=1e-13)


# -- the planner on whole functions -----------------------------------------------------
A1000 = np.random.default_rng(3).normal(size=1000)


def tall(x):       # R^1 -> R^1000
    return cnp.sin(A1000 * x[0]) * x[0] + cnp.exp(0.1 * A1000 * x[0])


def wide(x):       # R^1000 -> R^1
    return cnp.sum(cnp.sin(x) * A1000) + cnp.sum(cnp.tanh(x) ** 2)


def test_tall_takes_forward_and_wide_takes_reverse():
    t = np.array([0.3])
    w = np.random.default_rng(4).normal(size=1000)
    plan = cr.jacobian_plan(tall)(t)
    assert plan.n == 1 and plan.m == 1000
    assert plan.pure and plan.root.option == planner.FWD, plan.root.describe()
    assert plan.predicted_time <= plan.forward_time and plan.predicted_time <= plan.reverse_time
    plan = cr.jacobian_plan(wide)(w)
    assert plan.n == 1000 and plan.m == 1
    assert plan.pure and plan.root.option == planner.REV, plan.root.describe()
    assert plan.predicted_time <= plan.forward_time and plan.predicted_time <= plan.reverse_time
    # "optimal" never predicts more than either pure mode
    for f, x in ((tall, t), (wide, w)):
        plan = cr.jacobian_plan(f, mode="optimal")(x)
        assert plan.predicted_time <= min(plan.forward_time, plan.reverse_time) * (1 + 1e-12)
    # and their values, by hand
    want_t = (np.cos(A1000 * t[0]) * A1000 * t[0] + np.sin(A1000 * t[0])
              + 0.1 * A1000 * np.exp(0.1 * A1000 * t[0]))[:, None]
    want_w = np.cos(w) * A1000 + 2 * np.tanh(w) * (1 - np.tanh(w) ** 2)
    for mode in MODES:
        np.testing.assert_allclose(cr.jacobian(tall, mode=mode)(t), want_t, rtol=1e-12,
                                   atol=1e-12, err_msg=mode)
        np.testing.assert_allclose(cr.jacobian(wide, mode=mode)(w), want_w, rtol=1e-12,
                                   atol=1e-12, err_msg=mode)


def _adjoint_parts(root):
    """(i, j) of every part of a plan that runs adjoint sweeps."""
    parts, stack = [], [root]
    while stack:
        node = stack.pop()
        if node.option == planner.REV:
            parts.append((node.i, node.j))
        elif node.option == planner.ADJOINT_ELIM:
            parts.append((node.i, node.split))
        stack.extend(c for c in (node.left, node.right) if c is not None)
    return parts


def test_memory_limit_is_respected():
    f = mlp_chain([200, 50, 40, 30, 1], 9)          # wide: reverse without a limit
    x = np.random.default_rng(9).normal(size=200)
    free = cr.jacobian_plan(f, mode="optimal")(x)
    k = len(free.segments)
    total = free.costs.residuals(0, k - 1)
    assert total > 0
    assert _adjoint_parts(free.root), free.root.describe()
    want = cr.jacfwd(f)(x)
    for limit in (total, total / 2, total / 5, 0.0):
        for mode in ("auto", "optimal"):
            plan = cr.jacobian_plan(f, mode=mode, memory_limit=limit)(x)
            for i, j in _adjoint_parts(plan.root):
                assert plan.costs.residuals(i, j) <= limit, (limit, plan.root.describe())
            if limit < total:
                assert not (plan.root.option == planner.REV and plan.root.i == 0
                            and plan.root.j == k - 1)
            got = cr.jacobian(f, mode=mode, memory_limit=limit)(x)
            assert_relative(got, want, PLAN_TOL, f"limit {limit} {mode}")


def test_plan_text():
    f = mlp_chain([30, 4, 30], 12)
    x = np.random.default_rng(12).normal(size=30)
    plan = cr.jacobian_plan(f)(x)
    text = str(plan)
    assert "n = 30" in text and "m = 30" in text
    assert plan.root.describe() in text          # the bracketing
    widths = [int(w) for w in plan.costs.w]
    assert widths[0] == 30 and widths[-1] == 30
    assert str(widths) in text
    assert f"forward {plan.forward_time * 1e3:.3f} ms" in text
    assert f"reverse {plan.reverse_time * 1e3:.3f} ms" in text
    assert f"chosen {plan.predicted_time * 1e3:.3f} ms" in text
    assert "planning took" in text and plan.planning_time > 0
    for s, seg in enumerate(plan.segments):
        assert f"A{s + 1}:" in text and f"{seg.width_in} -> {seg.width_out}" in text
    md = plan._repr_markdown_()
    assert md.startswith("```") and md.rstrip().endswith("```") and text in md
    assert "JacobianPlan" in repr(plan)
    # the optimal plan of this hourglass names its mixed bracketing
    mixed = cr.jacobian_plan(f, mode="optimal")(x)
    assert mixed.root.describe() in str(mixed)


def test_plans_are_cached_per_shape():
    f = mlp_chain([5, 7, 3], 13)
    jac = cr.jacobian(f, mode="optimal")
    r = np.random.default_rng(13)
    x1, x2 = r.normal(size=5), r.normal(size=5)
    assert_relative(jac(x1), cr.jacfwd(f)(x1))
    assert_relative(jac(x2), cr.jacfwd(f)(x2))
    assert len(jac.plans) == 1


def test_seed_folding_pushes_the_identity_through_a_matrix_product_for_free():
    # jacfwd of x -> tanh(W x): the identity seed through W @ . is W itself, so
    # the only matrix product left in the program is the primal W @ x
    W = np.arange(15.0).reshape(5, 3) / 10
    f = lambda x: np.tanh(W @ x)          # noqa: E731
    x = np.array([0.1, -0.2, 0.3])
    ir = cr.make_ir(cr.jacfwd(f))(x)
    assert [e.primitive.name for e in ir.eqns].count("dot_general") == 1
    t = np.tanh(W @ x)
    np.testing.assert_allclose(cr.jacfwd(f)(x), (1 - t ** 2)[:, None] * W, rtol=1e-12)
    # the identity is never materialised as an array constant either
    assert not any(np.shape(c) == (3, 3) for c in ir.consts)


def test_jacrev_folds_the_output_identity_into_a_trailing_matrix_product():
    # jacrev of x -> W tanh(x): the identity cotangent pulled back through W @ .
    # is W itself (as rows), so the only matrix product is the primal W @ tanh(x)
    W = np.arange(15.0).reshape(5, 3) / 10
    f = lambda x: W @ np.tanh(x)          # noqa: E731
    x = np.array([0.1, -0.2, 0.3])
    ir = cr.make_ir(cr.jacrev(f))(x)
    assert [e.primitive.name for e in ir.eqns].count("dot_general") == 1
    np.testing.assert_allclose(cr.jacrev(f)(x), W * (1 - np.tanh(x) ** 2)[None, :], rtol=1e-12)
    assert not any(np.shape(c) == (5, 5) for c in ir.consts)
    # several output leaves still get the materialised basis, and agree
    g = lambda x: (W @ np.tanh(x), np.sin(x))   # noqa: E731
    J1, J2 = cr.jacrev(g)(x)
    np.testing.assert_allclose(J1, W * (1 - np.tanh(x) ** 2)[None, :], rtol=1e-12)
    np.testing.assert_allclose(J2, np.diag(np.cos(x)), rtol=1e-12)


def hourglass(W1, W2):
    def f(x):
        return cnp.tanh(W2 @ cnp.tanh(W1 @ x))
    return f


def hourglass_by_hand(W1, W2, x):
    h1 = np.tanh(W1 @ x)
    h2 = np.tanh(W2 @ h1)
    return ((1 - h2 ** 2)[:, None] * W2) @ ((1 - h1 ** 2)[:, None] * W1)


def test_a_mixed_plan_is_staged_once_and_fed_each_calls_residuals():
    r = np.random.default_rng(21)
    W1, W2 = r.normal(size=(4, 60)) / 8, r.normal(size=(60, 4))
    f = hourglass(W1, W2)
    jac = cr.jacobian(f, mode="optimal")
    for _ in range(3):
        x = r.normal(size=60)
        assert_relative(jac(x), hourglass_by_hand(W1, W2, x), PLAN_TOL)
    (entry,) = jac.plans.values()
    assert not entry.plan.pure
    (program,) = entry.programs.values()
    # the execution program reads the linear program's constants: the
    # function's own arrays are inputs, not baked in, so changing them in
    # place between calls changes the Jacobian as it must
    W1 *= 0.5
    W2[:] = r.normal(size=W2.shape)
    x = r.normal(size=60)
    assert_relative(jac(x), hourglass_by_hand(W1, W2, x), PLAN_TOL)
    assert len(entry.programs) == 1
    assert all(np.shape(c) not in (W1.shape, W2.shape) for c in program.consts)


def test_python_control_flow_stages_one_program_per_path():
    r = np.random.default_rng(22)
    W1, W2 = r.normal(size=(4, 300)) / 20, r.normal(size=(300, 4))
    scale = {"value": 2.0}

    def f(x):
        h = cnp.tanh(W1 @ x)
        if cnp.sum(x) > 0:              # control flow on values: planned per call
            h = h * scale["value"]
        return cnp.tanh(W2 @ h)

    jac = cr.jacobian(f, mode="optimal")
    x = r.normal(size=300)
    up, down = np.abs(x), -np.abs(x)
    for x in (up, down, up):
        want = cr.jacfwd(f)(x)
        assert_relative(jac(x), want, PLAN_TOL)
    (entry,) = jac.plans.values()
    assert entry.plan is None and len(entry.executions) == 2
    # a literal of the program is part of its structure: a new scale is a new program
    scale["value"] = 3.0
    assert_relative(jac(up), cr.jacfwd(f)(up), PLAN_TOL)
    assert len(entry.executions) == 3


def test_the_staged_program_drops_the_primal_work_nothing_needs():
    # J of x -> W2 tanh(W1 x) is diag-scaled W1 pushed through W2: the
    # program keeps W1 @ x (tanh' needs it) and one product with W2, but
    # not the primal output W2 @ tanh(W1 x), which a Jacobian never reads
    r = np.random.default_rng(23)
    W1, W2 = r.normal(size=(30, 3)), r.normal(size=(40, 30))
    f = lambda x: W2 @ cnp.tanh(W1 @ x)     # noqa: E731
    x = r.normal(size=3)
    jac = cr.jacobian(f)
    h = np.tanh(W1 @ x)
    np.testing.assert_allclose(jac(x), W2 @ ((1 - h ** 2)[:, None] * W1), rtol=1e-12)
    (entry,) = jac.plans.values()
    (program,) = entry.programs.values()
    program.check()
    dots = [e for e in program.eqns if e.primitive.name == "dot_general"]
    assert len(dots) == 2
    assert all(e.outvars[0].aval.shape != (40,) for e in dots)


def test_without_dead_code_keeps_exactly_what_the_outputs_need():
    def f(x, y):
        unused = cnp.exp(y) * 2.0            # noqa: F841
        a = cnp.sin(x)
        _ = a * W_small.sum()
        return a + 1.0

    ir = cr.make_ir(f)(np.ones(3), np.ones(3))
    pruned = ir.without_dead_code()
    pruned.check()
    assert [e.primitive.name for e in pruned.eqns] == ["sin", "add"]
    assert len(pruned.ir.invars) == 2 and not pruned.consts
    np.testing.assert_allclose(pruned.eval(np.ones(3), np.ones(3)), np.sin(1.0) + 1.0)


def test_the_plan_shows_the_whole_computation_as_a_program():
    # jacobian_plan(f)(x).program: the residual work, the sweeps and the
    # products of the chosen bracketing, as IR; evaluating it is the Jacobian
    r = np.random.default_rng(24)
    W1, W2 = r.normal(size=(4, 300)) / 20, r.normal(size=(300, 4))
    f = hourglass(W1, W2)
    x = r.normal(size=300)
    plan = cr.jacobian_plan(f, mode="optimal")(x)
    assert not plan.pure
    program = plan.program
    program.check()
    assert f"the computation: {len(program.eqns)} equations" in str(plan)
    text = str(program)
    assert "dot_general" in text and "tanh" in text
    assert_relative(program.eval(x), hourglass_by_hand(W1, W2, x), PLAN_TOL)
    # the program is the one jacobian runs: the same equations
    jac = cr.jacobian(f, mode="optimal")
    jac(x)
    (entry,) = jac.plans.values()
    (staged,) = entry.programs.values()
    assert [e.primitive.name for e in staged.eqns] == [e.primitive.name for e in program.eqns]


@pytest.mark.parametrize("mode", ["auto", "optimal", "fwd", "rev"])
def test_jacobian_composes_with_other_transforms(mode):
    # the staged program runs on tracers too: jacobian inside grad, vmap and make_ir
    r = np.random.default_rng(25)
    W1, W2 = r.normal(size=(4, 40)) / 8, r.normal(size=(40, 4))
    f = hourglass(W1, W2)
    jac = cr.jacobian(f, mode=mode)
    x = r.normal(size=40)

    def loss(x):
        return cnp.sum(jac(x) ** 2)

    def loss_np(x):
        return float(np.sum(hourglass_by_hand(W1, W2, x) ** 2))

    eps = 1e-6
    fd = np.array([(loss_np(x + eps * e) - loss_np(x - eps * e)) / (2 * eps)
                   for e in np.eye(40)])
    np.testing.assert_allclose(cr.grad(loss)(x), fd, rtol=1e-6, atol=1e-8)
    xs = r.normal(size=(3, 40))
    batched = cr.vmap(jac)(xs)
    for k in range(3):
        assert_relative(batched[k], hourglass_by_hand(W1, W2, xs[k]), PLAN_TOL)
    ir = cr.make_ir(jac)(x)
    assert_relative(ir.eval(x), hourglass_by_hand(W1, W2, x), PLAN_TOL)


def test_jacobian_of_a_function_closing_over_a_traced_value():
    # grad with respect to W of a Jacobian in x: W reaches the staged program
    # as one of its constants, a tracer of the gradient's trace
    r = np.random.default_rng(26)
    W, x = r.normal(size=(30, 3)), r.normal(size=3)

    def loss(W):
        J = cr.jacobian(lambda x: cnp.tanh(W @ x))(x)
        return cnp.sum(J * J)

    def loss_np(W):
        t = np.tanh(W @ x)
        return float(np.sum(((1 - t ** 2)[:, None] * W) ** 2))

    eps = 1e-6
    fd = np.zeros_like(W)
    for i, j in np.ndindex(*W.shape):
        E = np.zeros_like(W)
        E[i, j] = eps
        fd[i, j] = (loss_np(W + E) - loss_np(W - E)) / (2 * eps)
    np.testing.assert_allclose(cr.grad(loss)(W), fd, rtol=1e-6, atol=1e-8)
    second = cr.jacobian(cr.jacobian(lambda x: cnp.tanh(W @ x)))(x)
    assert second.shape == (30, 3, 3)
    assert_relative(second, cr.jacfwd(cr.jacrev(lambda x: cnp.tanh(W @ x)))(x), PLAN_TOL)


# -- found in review: dtypes, output structures, aliasing, late control flow, memory
@pytest.mark.parametrize("mode", ["auto", "optimal", "fwd", "rev"])
def test_float32_jacobians_keep_their_dtype(mode):
    r = np.random.default_rng(27)
    W1 = (r.normal(size=(4, 300)) / 20).astype(np.float32)
    W2 = r.normal(size=(300, 4)).astype(np.float32)
    x = r.normal(size=300).astype(np.float32)
    for f in (hourglass(W1, W2), lambda x: cnp.sin(x) * 2.0):
        want = cr.jacfwd(f)(x)
        got = cr.jacobian(f, mode=mode)(x)
        assert got.dtype == want.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    plan = cr.jacobian_plan(hourglass(W1, W2), mode=mode)(x)
    assert plan.program.eval(x).dtype == np.float32


def test_the_output_structure_is_part_of_the_cached_program():
    x = np.linspace(0.1, 1.0, 4)
    jac = cr.jacobian(lambda x, name: {name: cnp.sin(x)})
    assert list(jac(x, "a")) == ["a"]
    assert list(jac(x, "b")) == ["b"]
    pair = cr.jacobian(lambda x, as_list: [x * 2.0, cnp.sin(x)] if as_list
                       else (x * 2.0, cnp.sin(x)))
    assert isinstance(pair(x, False), tuple) and isinstance(pair(x, True), list)


def test_results_do_not_share_memory_with_the_cached_program():
    # a Jacobian that does not depend on x is a constant of the program
    x = np.ones(3)
    for mode in ("auto", "fwd", "rev"):
        jac = cr.jacobian(lambda x: 2.0 * x, mode=mode)
        first = jac(x)
        first[0, 0] = 99.0
        np.testing.assert_array_equal(jac(x), 2.0 * np.eye(3))


def test_control_flow_on_values_in_a_later_call_falls_back_to_concrete_tracing():
    def f(x, check):
        if check and x[0] > 0:
            return cnp.sin(x)
        return cnp.cos(x)

    jac = cr.jacobian(f)
    x = np.array([0.5, -0.2, 0.1])
    np.testing.assert_allclose(jac(x, False), np.diag(-np.sin(x)), rtol=1e-14)
    np.testing.assert_allclose(jac(x, True), np.diag(np.cos(x)), rtol=1e-14)
    np.testing.assert_allclose(jac(-x, True), np.diag(np.sin(x)), rtol=1e-14)


def test_programs_holding_large_constants_are_not_kept(monkeypatch):
    # two input leaves: the forward basis is an identity the tracing folds in
    J = importlib.import_module("chainrule.transforms.planned_jacobian")
    monkeypatch.setattr(J, "_CONSTANT_BYTES", 1000)
    jac = cr.jacobian(lambda x, y: cnp.sin(x) * y, argnums=(0, 1), mode="fwd")
    x, y = np.linspace(0.1, 1.0, 20), np.linspace(1.0, 2.0, 20)
    for _ in range(2):
        dx, dy = jac(x, y)
        np.testing.assert_allclose(dx, np.diag(np.cos(x) * y), rtol=1e-14)
        np.testing.assert_allclose(dy, np.diag(np.sin(x)), rtol=1e-14)
    (entry,) = jac.plans.values()
    assert not entry.programs        # 40 x 40 identity > 1000 bytes: staged per call


def test_a_segment_names_the_line_of_its_first_equation():
    # a narrowing chain has no narrow point inside: one segment over both lines
    r = np.random.default_rng(28)
    W1, W2 = r.normal(size=(30, 40)), r.normal(size=(3, 30))

    def f(x):
        h = cnp.tanh(W1 @ x)
        return W2 @ h

    plan = cr.jacobian_plan(f)(r.normal(size=40))
    (segment,) = plan.segments
    assert segment.stop - segment.start == 3
    assert segment.source.lineno == f.__code__.co_firstlineno + 1


def test_dead_code_elimination_keeps_checks_that_raise():
    # a factorization whose result is unused still checks its matrix, as
    # jacfwd (which computes everything) does, and the error names its line
    def f(x, A):
        cnp.linalg.cholesky(A)
        return cnp.sin(x)

    x = np.ones(3)
    jac = cr.jacobian(f, argnums=(0, 1))     # A traced: cholesky is in the program
    np.testing.assert_allclose(jac(x, 2 * np.eye(3))[0], np.diag(np.cos(x)))
    line = f.__code__.co_firstlineno + 1
    for fn in (jac, cr.jacfwd(f, argnums=(0, 1)), cr.jacobian(f)):
        with pytest.raises(np.linalg.LinAlgError) as error:
            fn(x, -np.eye(3))
        notes = "\n".join(getattr(error.value, "__notes__", []))
        assert "cholesky" in notes and f"test_jacobians.py:{line}" in notes, notes
    ir = cr.make_ir(f)(x, np.eye(3)).without_dead_code()
    assert [e.primitive.name for e in ir.eqns] == ["cholesky", "sin"]


def test_a_python_scalar_that_changes_between_calls_shares_one_program():
    # f(x, t) with t a Python float (a time step): the literal is an input of
    # the staged program, not part of its structure
    r = np.random.default_rng(29)
    W1, W2 = r.normal(size=(4, 60)) / 8, r.normal(size=(60, 4))

    def f(x, t):
        return cnp.tanh(W2 @ cnp.tanh(t * (W1 @ x)))

    jac = cr.jacobian(f, mode="optimal")
    x = r.normal(size=60)
    for t in (0.5, 1.5, -2.0, 3.25):
        h1 = np.tanh(t * (W1 @ x))
        h2 = np.tanh(W2 @ h1)
        want = ((1 - h2 ** 2)[:, None] * W2) @ (t * (1 - h1 ** 2)[:, None] * W1)
        assert_relative(jac(x, t), want, PLAN_TOL)
    (entry,) = jac.plans.values()
    assert len(entry.programs) == 1


def test_no_outputs_and_integer_outputs():
    x = np.linspace(0.1, 1.0, 3).astype(np.float32)
    for jac in (cr.jacfwd, cr.jacrev, cr.jacobian):
        assert jac(lambda x: ())(x) == ()
        # an integer output has a zero Jacobian; the float one keeps float32
        J, K = jac(lambda x: (cnp.sin(x), cnp.argmax(x)))(x)
        assert J.dtype == np.float32
        np.testing.assert_allclose(J, np.diag(np.cos(x)), rtol=1e-6)
        assert K.shape == (3,) and K.dtype == np.int64 and not np.any(K)
    for mode in ("auto", "optimal", "rev"):   # the integer block keeps its dtype in every plan
        _, K = cr.jacobian(lambda x: (cnp.sin(x), cnp.argmax(x)), mode=mode)(x)
        assert K.dtype == np.int64


def test_a_literal_outputs_dtype_is_part_of_the_program_key():
    x = np.linspace(0.1, 1.0, 3)
    f = lambda x, t: (cnp.sin(x), t)        # noqa: E731
    jac = cr.jacobian(f)
    assert jac(x, 1.0)[1].dtype == cr.jacfwd(f)(x, 1.0)[1].dtype
    assert jac(x, np.float32(1.0))[1].dtype == np.float32


def test_an_error_under_vmap_names_the_users_line():
    def f(x, A):
        L = cnp.linalg.cholesky(A)
        return cnp.sum(L) * x

    with pytest.raises(np.linalg.LinAlgError) as error:
        cr.vmap(f, in_axes=(0, None))(np.ones((2, 3)), -np.eye(3))
    notes = getattr(error.value, "__notes__", [])
    assert len(notes) == 1 and f"test_jacobians.py:{f.__code__.co_firstlineno + 1}" in notes[0]


# -- has_aux ----------------------------------------------------------------------------
def _with_aux(x):
    # output sin(x) * x0; aux: a float computed from x and a Python int
    return np.sin(x) * x[0], {"total": np.sum(x), "k": 3}


def _expected_jacobian(x):
    # d(sin(x_i) x_0)/dx_j = cos(x_i) x_0 [i == j] + sin(x_i) [j == 0]
    J = np.diag(np.cos(x) * x[0])
    J[:, 0] += np.sin(x)
    return J


@pytest.mark.parametrize("jac", [cr.jacfwd, cr.jacrev], ids=["jacfwd", "jacrev"])
def test_jacobians_with_aux(jac):
    x = np.array([0.3, 0.7, -1.1])
    J, aux = jac(_with_aux, has_aux=True)(x)
    np.testing.assert_allclose(J, _expected_jacobian(x), rtol=1e-14)
    assert float(aux["total"]) == np.sum(x) and int(aux["k"]) == 3
    with pytest.raises(TypeError, match=r"has_aux=True\) needs f to return a pair .* got one array"):
        jac(np.sin, has_aux=True)(x)


def test_hessian_with_aux():
    x = np.array([0.3, 0.7])
    H, aux = cr.hessian(lambda v: (np.sum(np.sin(v) ** 2), np.cos(v)), has_aux=True)(x)
    # d2/dx2 sin(x)^2 = 2 cos(2x), on the diagonal
    np.testing.assert_allclose(H, np.diag(2 * np.cos(2 * x)), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(aux, np.cos(x), rtol=1e-15)
