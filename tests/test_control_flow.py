"""Structured control flow in the IR: cond, switch, scan, fori_loop,
while_loop.  Values against Python loops and ``if``s, derivatives against
finite differences (``check_grads``) to second order, the printed nested
bodies, ``ir.check()`` of the bodies' types, vmap against a loop over the
batch, the errors with the user's line, the Jacobian planner and the
drawing.  (The per-primitive tables of test_primitives, test_ad_rules and
test_vmap have rows for each primitive too.)
"""
from __future__ import annotations

import os
import re

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.interpreters.draw import dot_available

THIS_FILE = os.path.basename(__file__)
rng = np.random.default_rng(13)
W = rng.normal(size=(4, 4)) / 2
U = rng.normal(size=(4, 3)) / 2


def line_of(fn, offset):
    return f"{THIS_FILE}:{fn.__code__.co_firstlineno + offset}"


# -- cond and switch ---------------------------------------------------------------
def piecewise(x, k):
    return cr.switch(k, [lambda a: np.sin(a) * 2.0,
                         lambda a: W @ a,
                         lambda a: np.exp(-a) + a ** 2], x)


def piecewise_reference(x, k):
    k = min(max(int(k), 0), 2)
    return [np.sin(x) * 2.0, W @ x, np.exp(-x) + x ** 2][k]


@pytest.mark.parametrize("k", [-3, 0, 1, 2, 7])
def test_switch_equals_the_python_choice_in_every_mode(k):
    x = rng.normal(size=4)
    expected = piecewise_reference(x, k)
    np.testing.assert_allclose(piecewise(x, k), expected, rtol=1e-14)
    closed = cr.make_ir(piecewise)(x, np.int64(k))
    closed.check()
    np.testing.assert_allclose(closed.eval(x, np.int64(k)), expected, rtol=1e-14)
    cr.check_grads(lambda x: piecewise(x, k), (x,), order=2)


def test_cond_prints_both_branches_as_nested_blocks():
    closed = cr.make_ir(lambda x, p: cr.cond(p > 0, np.sin, lambda a: -a, x))(np.ones(3), 1.0)
    text = str(closed)
    assert "cond[branches=(" in text
    assert re.search(r"\n        \{ lambda ; \w+:f64\[3\]\. let\n            \w+:f64\[3\] = neg",
                     text), text
    assert re.search(r"= sin \w+\n          in \(\w+,\) \}\)\] ", text), text
    names = re.findall(r"\b([a-z]+):f64", text)
    assert len(names) == len(set(names)), "variable names are unique across blocks"


def test_a_branch_reads_traced_values_from_its_closure():
    def f(x, y):
        z = y * 3.0                       # traced, read by a branch: hoisted to an operand
        return cr.cond(np.sum(x) > 0, lambda a: a * z, lambda a: a - z, x)

    x, y = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    np.testing.assert_allclose(f(x, y), x * y * 3.0)
    gx, gy = cr.grad(lambda x, y: np.sum(f(x, y)), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, y * 3.0)
    np.testing.assert_allclose(gy, x * 3.0)
    cr.check_grads(f, (x, y), order=2)
    cr.check_grads(f, (-x, y), order=2)


def test_vmap_of_cond_and_of_its_gradient_equal_a_loop():
    def f(x, p):
        return cr.cond(p > 0, lambda a: np.sin(a) * p, lambda a: -a * 2.0, x)

    xs, ps = rng.normal(size=(5, 3)), np.array([1.0, -1.0, 2.0, -0.5, 0.3])
    np.testing.assert_allclose(cr.vmap(f)(xs, ps), np.stack([f(x, p) for x, p in zip(xs, ps)]))
    loss = cr.grad(lambda x, p: np.sum(f(x, p)), argnums=(0, 1))
    got = cr.vmap(loss)(xs, ps)
    want = [loss(x, p) for x, p in zip(xs, ps)]
    np.testing.assert_allclose(got[0], np.stack([w[0] for w in want]))
    np.testing.assert_allclose(got[1], np.array([w[1] for w in want]))
    # an unbatched predicate keeps one cond of batched branches
    closed = cr.make_ir(cr.vmap(f, in_axes=(0, None)))(xs, 1.0)
    assert [e.primitive.name for e in closed.eqns].count("cond") == 1


def test_branches_of_different_types_are_an_error_naming_both():
    def f(x):
        return cr.cond(x[0] > 0, lambda a: a, lambda a: a[0], x)

    with pytest.raises(TypeError) as error:
        cr.make_ir(f)(np.ones(3))
    message = str(error.value)
    assert "false_fun returns (f64[]) and true_fun returns (f64[3])" in message
    assert line_of(f, 1) in message

    def g(x):
        return cr.switch(0, [lambda a: (a, a), lambda a: a], x)

    with pytest.raises(TypeError, match="must return the same structure") as error:
        g(np.ones(2))
    assert line_of(g, 1) in str(error.value)
    with pytest.raises(TypeError, match="the predicate must be a scalar"):
        cr.cond(np.ones(2) > 0, np.sin, np.cos, 1.0)


# -- scan -----------------------------------------------------------------------------
def rnn(h0, xs, w):
    def step(h, x):
        h = np.tanh(w @ h + U @ x)
        return h, np.sum(h ** 2)
    return cr.scan(step, h0, xs)


def rnn_reference(h0, xs, w):
    h, ys = h0, []
    for x in xs:
        h = np.tanh(w @ h + U @ x)
        ys.append(np.sum(h ** 2))
    return h, np.stack(ys)


def test_scan_equals_a_python_loop_and_differentiates():
    h0, xs = rng.normal(size=4), rng.normal(size=(6, 3))
    for got, want in zip(rnn(h0, xs, W), rnn_reference(h0, xs, W)):
        np.testing.assert_allclose(got, want, rtol=1e-14)
    closed = cr.make_ir(rnn)(h0, xs, W)
    closed.check()
    assert [e.primitive.name for e in closed.eqns] == ["scan"]
    cr.check_grads(rnn, (h0, xs, W), order=2)


def test_a_thousand_step_rnn_has_one_body_and_the_right_gradient():
    xs, h0 = rng.normal(size=(1000, 3)), rng.normal(size=4)

    def loss(w):
        h, ys = rnn(h0, xs, w)
        return np.sum(ys) + np.sum(h)

    g = cr.grad(loss)(W)
    eps = 1e-6
    for i, j in [(0, 0), (1, 3), (3, 2)]:
        e = np.zeros_like(W)
        e[i, j] = eps
        fd = (loss(W + e) - loss(W - e)) / (2 * eps)
        assert g[i, j] == pytest.approx(fd, rel=1e-6, abs=1e-7)
    program = cr.make_ir(cr.grad(loss))(W)
    tanh_count = str(program).count("= tanh ")
    assert tanh_count <= 3, "the step is in the program a few times, not 1,000"
    assert len(program.eqns) < 30


def test_scan_with_pytrees_reverse_length_and_integer_carries():
    def f(x):
        def step(c, _):
            return {"k": c["k"] + 1, "v": np.sin(c["v"]) * (c["k"] + 1.0)}, c["v"][0]
        return cr.scan(step, {"k": np.int64(0), "v": x}, None, length=4, reverse=True)

    def reference(x):
        k, v, ys = 0, x, [None] * 4
        for i in reversed(range(4)):
            ys[i] = v[0]
            k, v = k + 1, np.sin(v) * (k + 1.0)
        return {"k": k, "v": v}, np.array(ys)

    x = rng.normal(size=3)
    (c, ys), (rc, rys) = f(x), reference(x)
    assert c["k"] == rc["k"] == 4
    np.testing.assert_allclose(c["v"], rc["v"])
    np.testing.assert_allclose(ys, rys)
    cr.check_grads(lambda x: (f(x)[0]["v"], f(x)[1]), (x,), order=2)


def test_vmap_of_scan_equals_a_loop():
    h0s, xss = rng.normal(size=(3, 4)), rng.normal(size=(3, 5, 3))
    got = cr.vmap(rnn, in_axes=(0, 0, None))(h0s, xss, W)
    for b in range(3):
        want = rnn_reference(h0s[b], xss[b], W)
        np.testing.assert_allclose(got[0][b], want[0], rtol=1e-13)
        np.testing.assert_allclose(got[1][b], want[1], rtol=1e-13)
    g = cr.vmap(cr.grad(lambda h, xs: np.sum(rnn(h, xs, W)[1])))(h0s, xss)
    for b in range(3):
        np.testing.assert_allclose(
            g[b], cr.grad(lambda h: np.sum(rnn_reference(h, xss[b], W)[1]))(h0s[b]), rtol=1e-12)


def test_scan_errors_name_the_line():
    def bad_carry(x):
        return cr.scan(lambda c, a: (c[0], a), x, x)

    with pytest.raises(TypeError, match="carry of the structure and types of init") as error:
        bad_carry(np.ones((3, 2)))
    assert line_of(bad_carry, 1) in str(error.value)

    def not_a_pair(x):
        return cr.scan(lambda c, a: c, x, None, length=2)

    with pytest.raises(TypeError, match="must return a pair") as error:
        not_a_pair(np.ones(2))
    with pytest.raises(ValueError, match="disagree"):
        cr.scan(lambda c, a: (c, a), 0.0, np.ones(3), length=4)


# -- fori_loop and while_loop -----------------------------------------------------------
def test_fori_loop_with_static_bounds_is_a_scan_differentiable_in_both_modes():
    def f(x):
        return cr.fori_loop(1, 6, lambda i, v: v * np.sin(v) + i, x)

    def reference(x):
        for i in range(1, 6):
            x = x * np.sin(x) + i
        return x

    x = rng.normal(size=3)
    np.testing.assert_allclose(f(x), reference(x))
    assert [e.primitive.name for e in cr.make_ir(f)(x).eqns] == ["scan"]
    cr.check_grads(f, (x,), order=2)


def newton_sqrt(a):
    return cr.while_loop(lambda c: np.abs(c[0] * c[0] - a) > 1e-12,
                         lambda c: ((c[0] + a / c[0]) / 2, c[1] + 1), (a, 0))


def test_while_loop_values_forward_mode_and_the_reverse_mode_error():
    root, steps = newton_sqrt(2.0)
    assert root == pytest.approx(np.sqrt(2.0), rel=1e-15) and steps == 5
    closed = cr.make_ir(newton_sqrt)(2.0)
    closed.check()
    assert closed.eval(9.0)[0] == pytest.approx(3.0)
    _, t = cr.jvp(lambda a: newton_sqrt(a)[0], (2.0,), (1.0,))
    assert t == pytest.approx(0.5 / np.sqrt(2.0))
    with pytest.raises(NotImplementedError) as error:
        cr.grad(lambda a: newton_sqrt(a)[0])(2.0)
    message = str(error.value)
    assert "reverse mode of a while_loop is not supported" in message
    assert "cr.fori_loop" in message and "cr.scan" in message
    assert line_of(newton_sqrt, 1) in message


def test_vmap_of_while_loop_with_different_trip_counts_equals_a_loop():
    a = np.array([2.0, 9.0, 1.0, 1e4])
    roots, steps = cr.vmap(newton_sqrt)(a)
    for k in range(4):
        r, s = newton_sqrt(a[k])
        assert roots[k] == r and steps[k] == s
    assert len(set(steps.tolist())) > 1, "the examples run different numbers of steps"
    # (at a = 1 the loop runs no step: the root is a itself, its derivative 1)
    derivative = cr.jacfwd(lambda a: newton_sqrt(a)[0])
    np.testing.assert_allclose(cr.vmap(derivative)(a), [derivative(v) for v in a])

    def counted(x, n):
        return cr.fori_loop(0, n, lambda i, v: v * 1.5 + i, x)

    ns = np.array([0, 3, 1])
    np.testing.assert_allclose(cr.vmap(counted, in_axes=(None, 0))(2.0, ns),
                               [counted(2.0, n) for n in ns])


def test_while_loop_errors_name_the_line():
    def bad_cond(x):
        return cr.while_loop(lambda c: c, lambda c: c + 1.0, x)

    with pytest.raises(TypeError, match="cond_fun must return a boolean scalar") as error:
        bad_cond(1.0)
    assert line_of(bad_cond, 1) in str(error.value)

    def bad_body(x):
        return cr.while_loop(lambda c: c < 3, lambda c: c * np.ones(2), x)

    with pytest.raises(TypeError, match="body_fun must return the structure and types") as e:
        bad_body(1.0)
    assert line_of(bad_body, 1) in str(e.value)


# -- the Jacobian planner and the drawing -----------------------------------------------------
def test_jacobian_plans_programs_with_scan_and_cond():
    xs = rng.normal(size=(3, 3))

    def f(h0):
        h, _ = rnn(h0, xs, W)
        return cr.cond(np.sum(h) > 0, lambda a: np.sin(a), lambda a: a * 2.0, h)

    h0 = np.array([0.3, -0.2, 0.5, 0.1])
    expected = cr.jacfwd(f)(h0)
    for mode in ("fwd", "rev", "auto", "optimal"):
        np.testing.assert_allclose(cr.jacobian(f, mode=mode)(h0), expected, rtol=1e-12)
    np.testing.assert_allclose(cr.jacrev(f)(h0), expected, rtol=1e-12)
    text = str(cr.jacobian_plan(f)(h0))
    assert "chosen order:" in text and "why:" in text


@pytest.mark.skipif(not dot_available(), reason="Graphviz's dot is not installed")
def test_the_drawing_shows_each_body_as_a_cluster():
    closed = cr.make_ir(lambda x, p: cr.cond(p > 0, np.sin, lambda a: -a, x))(np.ones(3), 1.0)
    source = closed.draw().source
    assert source.count("subgraph cluster") == 2
    assert "branches[0]" in source and "branches[1]" in source
    assert ">sin<" in source and ">neg<" in source
    scan_source = cr.make_ir(rnn)(np.ones(4), np.ones((2, 3)), W).draw().source
    assert scan_source.count("subgraph cluster") == 1 and ">tanh<" in scan_source


def test_jacobian_stages_a_program_with_control_flow_once(monkeypatch):
    # the bodies are part of the program's structure (not their identity):
    # a later call with the same structure reuses the staged program
    from chainrule.transforms import planned_jacobian
    staged = []
    original = planned_jacobian._stage
    monkeypatch.setattr(planned_jacobian, "_stage",
                        lambda *a, **k: staged.append(1) or original(*a, **k))

    def f(x):
        h, _ = rnn(x, np.ones((3, 3)), W)
        return cr.cond(np.sum(h) > 0, np.sin, lambda a: a * 2.0, h)

    jac = cr.jacobian(f)
    x = np.array([0.3, -0.2, 0.5, 0.1])
    first = jac(x)
    np.testing.assert_array_equal(jac(x), first)
    np.testing.assert_allclose(jac(x * 1.01), cr.jacfwd(f)(x * 1.01), rtol=1e-12)
    assert len(staged) == 1


def test_jacobian_auto_uses_the_one_mode_a_program_supports():
    # a while loop has no reverse mode, custom_vjp's linear part no forward
    # mode: "auto" and "optimal" take the other pure mode and the plan says why
    def looped(a):
        return cr.while_loop(lambda c: c[1] < 3, lambda c: (np.sin(c[0]) * 2.0, c[1] + 1),
                             (a, 0))[0]

    @cr.custom_vjp
    def clipped(x):
        return x

    clipped.defvjp(lambda x: (x, None), lambda _, g: (np.clip(g, -1.0, 1.0),))

    x = np.array([0.1, 0.2, 0.3])
    for mode in ("auto", "optimal"):
        np.testing.assert_allclose(cr.jacobian(looped, mode=mode)(x), cr.jacfwd(looped)(x))
        np.testing.assert_allclose(cr.jacobian(lambda x: np.sin(clipped(x * 3.0)), mode=mode)(x),
                                   np.diag(np.clip(np.cos(3.0 * x), -1, 1) * 3.0))
    why = str(cr.jacobian_plan(looped)(x)).split("why: ")[1].splitlines()[0]
    assert why.startswith("the pure forward mode: its linear program holds while")
    assert "reverse mode cannot run" in why
    why = str(cr.jacobian_plan(lambda x: np.sin(clipped(x * 3.0)))(x)).split("why: ")[1]
    assert why.startswith("the pure reverse mode: its linear program holds custom_vjp_lin")
