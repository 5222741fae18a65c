"""``cr.checkpoint`` (``cr.remat``): reverse mode recomputes instead of storing.

Values against the function itself; derivatives against finite differences
(``check_grads``, both modes, second order) and against the same function
without checkpoint; vmap, vmap of grad, jacfwd, jacrev, jacobian; the printed
program; that the residuals really are fewer (the bytes of the linear
program's constants, and the peak memory of a gradient), and that a policy
keeps exactly what it names; nested checkpoints; the errors with the user's
line.  (The per-primitive tables of test_primitives, test_ad_rules and
test_vmap have rows for ``checkpoint`` too.)
"""
from __future__ import annotations

import functools
import gc
import os
import re
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule.primitives import all_primitives

THIS_FILE = os.path.basename(__file__)
rng = np.random.default_rng(29)
POLICIES = [None, cr.checkpoint_policies.dots_saveable, cr.checkpoint_policies.nothing_saveable,
            cr.checkpoint_policies.everything_saveable]
P = cr.checkpoint_policies


def line_of(fn, offset):
    return f"{THIS_FILE}:{fn.__code__.co_firstlineno + offset}"


# -- a deep tanh network, in blocks ------------------------------------------------------
def layers(h, ws):
    for w in ws:
        h = np.tanh(h @ w)
    return h


def network(ws, x, every=None, policy=None, nested=False):
    """``sum(tanh(... tanh(x @ w1) ... @ wL))``; with ``every``, each block of
    ``every`` layers checkpointed (``nested``: each block a checkpoint of
    checkpointed layers)."""
    if every is None:
        return np.sum(layers(x, ws))
    block = cr.checkpoint(layers, policy=policy)
    if nested:
        block = cr.checkpoint(lambda h, ws: functools.reduce(
            lambda h, w: cr.checkpoint(layers, policy=policy)(h, [w]), ws, h), policy=policy)
    h = x
    for i in range(0, len(ws), every):
        h = block(h, ws[i:i + every])
    return np.sum(h)


def weights(n, width, scale=1.0):
    return [rng.normal(size=(width, width)) * scale / np.sqrt(width) for _ in range(n)]


# -- values and derivatives ----------------------------------------------------------------
def test_values_equal_the_function():
    x, y = rng.normal(size=(3, 4)), rng.normal(size=4)

    def f(x, y):
        return np.sin(x) * y + np.exp(-x ** 2), np.sum(x @ y)

    got = cr.checkpoint(f)(x, y)
    want = f(x, y)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    closed = cr.make_ir(cr.checkpoint(f))(x, y)
    closed.check()
    for g, w in zip(closed.eval(x, y), want):
        np.testing.assert_array_equal(g, w)
    # pytrees in and out, keyword arguments, integers
    g = cr.checkpoint(lambda d, n, scale=1.0: {"a": d["x"] * n * scale, "n": n + 1})
    out = g({"x": x}, 3, scale=2.0)
    np.testing.assert_array_equal(out["a"], x * 6.0)
    assert out["n"] == 4


@pytest.mark.parametrize("policy", POLICIES, ids=repr)
def test_check_grads_in_both_modes_to_second_order(policy):
    ws = weights(4, 3, scale=1.5)
    x = rng.normal(size=(2, 3))
    cr.check_grads(lambda x: network(ws, x, every=2, policy=policy), (x,), order=2)
    cr.check_grads(lambda *ws: network(list(ws), x, every=2, policy=policy), tuple(ws), order=2)
    cr.check_grads(lambda x: network(ws, x, every=2, policy=policy, nested=True), (x,), order=2)


@pytest.mark.parametrize("policy", POLICIES, ids=repr)
def test_gradient_equals_the_gradient_without_checkpoint(policy):
    ws, x = weights(12, 8), rng.normal(size=(5, 8))
    want = cr.grad(network, argnums=(0, 1))(ws, x)
    for every, nested in [(1, False), (4, False), (12, False), (4, True)]:
        got = cr.grad(lambda ws, x: network(ws, x, every, policy, nested), argnums=(0, 1))(ws, x)
        for g, w in zip(got[0] + [got[1]], want[0] + [want[1]]):
            np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-15)


def test_forward_mode_linearize_and_hessian():
    x = rng.normal(size=4)
    f = cr.checkpoint(lambda x: np.exp(np.sin(x)) * x)
    g = lambda x: np.exp(np.sin(x)) * x   # noqa: E731
    t = rng.normal(size=4)
    np.testing.assert_allclose(cr.jvp(f, (x,), (t,))[1], cr.jvp(g, (x,), (t,))[1], rtol=1e-14)
    y, f_jvp = cr.linearize(f, x)
    np.testing.assert_allclose(f_jvp(t), cr.jvp(g, (x,), (t,))[1], rtol=1e-14)
    f_jvp.ir.check()
    np.testing.assert_allclose(cr.hessian(lambda x: np.sum(f(x)))(x),
                               cr.hessian(lambda x: np.sum(g(x)))(x), rtol=1e-12)


def test_vmap_vmap_of_grad_and_the_jacobians():
    ws, xs = weights(4, 3), rng.normal(size=(5, 2, 3))

    def f(x):
        return network(ws, x, every=2)

    def plain(x):
        return network(ws, x)

    np.testing.assert_allclose(cr.vmap(f)(xs), [plain(x) for x in xs], rtol=1e-14)
    np.testing.assert_allclose(cr.vmap(cr.grad(f))(xs), [cr.grad(plain)(x) for x in xs],
                               rtol=1e-13)
    block = cr.checkpoint(layers)
    x = xs[0]
    want = cr.jacfwd(lambda x: layers(x, ws))(x)
    for jac in (cr.jacrev, cr.jacfwd, cr.jacobian):
        np.testing.assert_allclose(jac(lambda x: block(x, ws))(x), want, rtol=1e-12, atol=1e-14)
    closed = cr.make_ir(cr.vmap(cr.grad(f)))(xs)
    closed.check()
    assert any(e.primitive.name == "checkpoint" for e in closed.eqns)


def test_a_traced_value_from_the_closure_is_an_operand():
    x, y = rng.normal(size=3), 0.7

    def f(x, y):
        return np.sum(cr.checkpoint(lambda a: np.sin(a) * y)(x))

    closed = cr.make_ir(f)(x, y)
    eqn = next(e for e in closed.eqns if e.primitive.name == "checkpoint")
    assert len(eqn.inputs) == 2   # y is hoisted into the operands
    got = cr.grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(got[0], np.cos(x) * y, rtol=1e-14)
    np.testing.assert_allclose(got[1], np.sum(np.sin(x)), rtol=1e-14)
    cr.check_grads(f, (x, y), order=2)


def test_static_argnums_decorator_forms_and_remat():
    @functools.partial(cr.checkpoint, static_argnums=(1,))
    def repeat(x, n):
        for _ in range(n):       # Python control flow on a static argument
            x = np.sin(x)
        return x

    x = rng.normal(size=3)
    np.testing.assert_allclose(cr.grad(lambda x: np.sum(repeat(x, 3)))(x),
                               cr.grad(lambda x: np.sum(np.sin(np.sin(np.sin(x)))))(x),
                               rtol=1e-14)

    @cr.checkpoint
    def f(x):
        return np.exp(np.sin(x))

    @cr.checkpoint(policy=P.dots_saveable, prevent_cse=False)
    def g(x):
        return np.exp(np.sin(x))

    assert f.__name__ == "f"
    np.testing.assert_array_equal(f(x), g(x))
    np.testing.assert_array_equal(cr.grad(lambda x: np.sum(f(x)))(x),
                                  cr.grad(lambda x: np.sum(g(x)))(x))
    assert cr.remat is cr.checkpoint
    assert "checkpoint" in all_primitives()


# -- the programs -----------------------------------------------------------------------------
def test_prints_its_body_as_a_nested_block():
    closed = cr.make_ir(cr.checkpoint(lambda x: np.sin(np.sin(x))))(np.ones(3))
    assert str(closed) == (
        "{ lambda ; a:f64[3]. let\n"
        "    b:f64[3] = checkpoint[body=\n"
        "        { lambda ; c:f64[3]. let\n"
        "            d:f64[3] = sin c\n"
        "            e:f64[3] = sin d\n"
        "          in (e,) } policy=None] a\n"
        "  in (b,) }")
    text = str(cr.make_ir(cr.checkpoint(np.tanh, policy=P.dots_saveable))(np.ones(2)))
    assert re.search(r"in \(\w+,\) \} policy=dots_saveable\] a", text), text


def test_the_linear_program_holds_one_equation_reading_only_the_block_inputs():
    ws, x = weights(6, 4), rng.normal(size=(2, 4))
    _, f_jvp = cr.linearize(lambda x: network(ws, x, every=3), x)
    linear = f_jvp.ir
    eqns = [e for e in linear.eqns if e.primitive.name == "checkpoint"]
    assert len(eqns) == 2
    # the residuals: two block inputs (x and the first block's output) and the
    # weights; nothing computed inside a block
    big = [c for c in linear.consts if np.shape(c) == (2, 4)]
    assert len(big) == 2
    np.testing.assert_array_equal(big[0], x)
    np.testing.assert_allclose(big[1], layers(x, ws[:3]), rtol=1e-15)
    # each reads a tangent (so the backward pass transposes it rather than
    # evaluating it as a residual computation) and gives only tangents
    tangents = set(linear.ir.invars)
    for e in eqns:
        tangents.update(e.outvars)
    for e in eqns:
        assert any(x in tangents for x in e.inputs)
        assert len(e.outvars) == 1
    # the gradient program: the forward blocks, then one backward equation per
    # block that recomputes it
    closed = cr.make_ir(cr.grad(lambda x: network(ws, x, every=3)))(x)
    closed.check()
    assert [e.primitive.name for e in closed.eqns].count("checkpoint") == 4
    back = closed.eqns[-1].params["body"]
    assert [e.primitive.name for e in back.eqns][:2] == ["dot_general", "tanh"]


def _residual_bytes(f, x):
    """The bytes of the arrays of shape ``x.shape`` the linear program keeps."""
    _, vjp_fn = cr.vjp(f, x)
    return sum(c.nbytes for c in vjp_fn.ir.consts if np.shape(c) == x.shape)


def test_residuals_are_only_the_block_inputs_and_a_policy_keeps_what_it_names():
    n, batch, width, every = 12, 16, 8, 4
    ws, x = weights(n, width), rng.normal(size=(batch, width))
    one = x.nbytes

    def f(**options):
        return lambda x: network(ws, x, **options)

    # without checkpoint: each layer's 1 - tanh^2 (and its input, for the weights'
    # derivative, not asked here)
    assert _residual_bytes(f(), x) == n * one
    # checkpoint: the inputs of the blocks
    assert _residual_bytes(f(every=every), x) == n // every * one
    assert _residual_bytes(f(every=every, nested=True), x) == n // every * one
    assert _residual_bytes(f(every=every, policy=P.nothing_saveable), x) == n // every * one
    # dots_saveable: every matrix product's output, the tanh recomputed from
    # them (the block inputs are not needed: only the weights' derivative
    # would read them)
    _, vjp_fn = cr.vjp(f(every=every, policy=P.dots_saveable), x)
    kept = [c for c in vjp_fn.ir.consts if np.shape(c) == x.shape]
    assert len(kept) == n
    h, dots = x, []
    for w in ws:
        dots.append(h @ w)
        h = np.tanh(dots[-1])
    for d in dots:
        assert any(np.array_equal(d, k) for k in kept)
    # everything_saveable: as without checkpoint
    assert _residual_bytes(f(every=every, policy=P.everything_saveable), x) == n * one


def _grad_peak(f, *args):
    """Peak bytes allocated while ``cr.grad(f)(*args)`` runs, minus the gradient."""
    gc.collect()
    tracing = tracemalloc.is_tracing()   # (someone else's tracing is left on)
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        base = tracemalloc.get_traced_memory()[0]
        g = cr.grad(f)(*args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not tracing:
            tracemalloc.stop()
    return peak - base - sum(a.nbytes for a in g)


def test_the_backward_pass_peaks_lower():
    # 30 layers of f64[512, 128] (512 KiB each): the plain gradient keeps two
    # per layer; checkpointing every 6 layers keeps 5 block inputs and
    # recomputes one block's residuals at a time
    ws, x = weights(30, 128), rng.normal(size=(512, 128))
    plain = _grad_peak(lambda ws: network(ws, x), ws)
    every = _grad_peak(lambda ws: network(ws, x, every=6), ws)
    nested = _grad_peak(lambda ws: network(ws, x, every=6, nested=True), ws)
    assert plain > 3 * every, (plain, every)
    assert every > nested, (every, nested)


def test_grad_of_grad_keeps_the_recomputation_in_a_checkpoint():
    x = rng.normal(size=3)
    f = cr.checkpoint(lambda x: np.sin(x) ** 3)
    closed = cr.make_ir(cr.grad(lambda x: np.sum(cr.grad(lambda x: np.sum(f(x)))(x) ** 2)))(x)
    closed.check()
    assert "checkpoint" in [e.primitive.name for e in closed.eqns]
    got = closed.eval(x)
    want = cr.grad(lambda x: np.sum(cr.grad(lambda x: np.sum(np.sin(x) ** 3))(x) ** 2))(x)
    np.testing.assert_allclose(got, want, rtol=1e-13)


# -- errors -----------------------------------------------------------------------------
def test_bad_arguments_are_errors_naming_the_line():
    x = np.ones(3)

    def bad_fun():
        cr.checkpoint(3)

    def bad_policy():
        cr.checkpoint(np.sin, policy="dots")

    def bad_static():
        cr.checkpoint(np.sin, static_argnums="0")

    def static_out_of_range():
        cr.checkpoint(lambda x, n: x * n, static_argnums=2)(x, 2)

    def string_argument():
        cr.checkpoint(lambda x, s: x)(x, "abc")

    def string_output():
        cr.checkpoint(lambda x: "abc")(x)

    cases = [(bad_fun, TypeError, "fun must be a function"),
             (bad_policy, TypeError, "policy must be None or a function"),
             (bad_static, TypeError, "static_argnums must be an int or a tuple of ints"),
             (static_out_of_range, ValueError, "static_argnums 2 is out of range"),
             (string_argument, TypeError, r"argument 1 of <lambda> holds a str.*"
                                          r"static_argnums=\(1,\)"),
             (string_output, TypeError, "the output of <lambda>: str is not an array")]
    for fn, error, message in cases:
        with pytest.raises(error, match=message) as info:
            fn()
        assert line_of(fn, 1) in str(info.value), str(info.value)


def test_control_flow_on_a_traced_value_names_the_line_and_static_argnums():
    def f(x):
        if np.sum(x) > 0:
            return x
        return -x

    with pytest.raises(cr.ConcretizationError, match="under checkpoint") as info:
        cr.grad(lambda x: np.sum(cr.checkpoint(f)(x)))(np.ones(3))
    assert line_of(f, 1) in str(info.value)
    assert "static_argnums" in str(info.value)
