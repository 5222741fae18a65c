"""Custom derivative rules: ``cr.custom_jvp`` and ``cr.custom_vjp``.

Every transform of a custom function gives what its rule defines, which is
what JAX gives for the same rule: the rules are counted to show they run,
and rules that are not the true derivative show that the rule, not the
function's body, is differentiated.  The documented examples (a sigmoid,
a numerically safe ``log1pexp``, a gradient-clipping identity), the printed
IR, custom functions inside loops, conds and ``vmap``, and the errors, each
naming the user's line.  (The per-primitive tables of test_primitives,
test_ad_rules and test_vmap have rows for ``custom_jvp_call``,
``custom_vjp_call`` and ``custom_vjp_lin`` too.)
"""
from __future__ import annotations

import functools
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.interpreters import jvp_ir

THIS_FILE = os.path.basename(__file__)
rng = np.random.default_rng(29)


def line_of(fn, offset):
    """``file:line`` of the line ``offset`` lines below ``fn``'s ``def``."""
    return f"{THIS_FILE}:{fn.__code__.co_firstlineno + offset}"


# -- custom_jvp: the sigmoid with s (1 - s) --------------------------------------------------
CALLS = {"sigmoid_jvp": 0, "f_fwd": 0, "f_bwd": 0}


@cr.custom_jvp
def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@sigmoid.defjvp
def sigmoid_jvp(primals, tangents):
    CALLS["sigmoid_jvp"] += 1
    (x,), (t,) = primals, tangents
    s = sigmoid(x)
    return s, s * (1.0 - s) * t


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _calls(name, fn):
    """How many times ``fn()`` calls the rule ``name``, and its result."""
    before = CALLS[name]
    out = fn()
    return CALLS[name] - before, out


def test_sigmoid_in_every_transform_uses_the_rule():
    x = rng.normal(size=4)
    s = _sigmoid(x)
    np.testing.assert_allclose(sigmoid(x), s, rtol=1e-15)
    n, g = _calls("sigmoid_jvp", lambda: cr.grad(lambda x: np.sum(sigmoid(x)))(x))
    assert n == 1
    np.testing.assert_allclose(g, s * (1 - s), rtol=1e-14)
    n, (out, t) = _calls("sigmoid_jvp", lambda: cr.jvp(sigmoid, (x,), (np.ones(4),)))
    assert n == 1
    np.testing.assert_allclose(t, s * (1 - s), rtol=1e-14)
    out, vjp_fn = cr.vjp(sigmoid, x)
    np.testing.assert_allclose(vjp_fn(np.full(4, 2.0))[0], 2 * s * (1 - s), rtol=1e-14)
    for jac in (cr.jacfwd, cr.jacrev, cr.jacobian):
        np.testing.assert_allclose(jac(sigmoid)(x), np.diag(s * (1 - s)), rtol=1e-14, atol=1e-15)
    # second derivatives: the rule is written with differentiable operations
    h = cr.hessian(lambda x: np.sum(sigmoid(x)))(x)
    np.testing.assert_allclose(h, np.diag(s * (1 - s) * (1 - 2 * s)), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(cr.grad(cr.grad(sigmoid))(0.7),
                               _sigmoid(0.7) * (1 - _sigmoid(0.7)) * (1 - 2 * _sigmoid(0.7)),
                               rtol=1e-12)
    cr.check_grads(sigmoid, (x,), order=2)
    # vmap, and per-example gradients (the rule, batched)
    xs = rng.normal(size=(3, 4))
    np.testing.assert_allclose(cr.vmap(sigmoid)(xs), _sigmoid(xs), rtol=1e-15)
    n, gs = _calls("sigmoid_jvp", lambda: cr.vmap(cr.grad(lambda x: np.sum(sigmoid(x))))(xs))
    assert n >= 1
    np.testing.assert_allclose(gs, _sigmoid(xs) * (1 - _sigmoid(xs)), rtol=1e-14)
    g = cr.grad(lambda xs: np.sum(cr.vmap(sigmoid)(xs)))(xs)   # the batched rule
    np.testing.assert_allclose(g, _sigmoid(xs) * (1 - _sigmoid(xs)), rtol=1e-14)


def test_the_ir_shows_the_body_and_the_rule_by_name():
    closed = cr.make_ir(sigmoid)(np.ones(3))
    closed.check()
    text = str(closed)
    assert "custom_jvp_call[call=" in text
    assert "jvp=sigmoid_jvp name=sigmoid num_consts=0] a" in text
    assert "exp" in text                                   # the body, as a nested block
    np.testing.assert_allclose(closed.eval(np.zeros(3)), np.full(3, 0.5))
    assert closed.cost().flops == cr.make_ir(_sigmoid)(np.ones(3)).cost().flops
    # the linear program holds the rule's tangent computation: one mul by s (1 - s)
    _, f_jvp = cr.linearize(sigmoid, np.ones(3))
    assert [e.primitive.name for e in f_jvp.ir.eqns] == ["mul"]
    grad_ir = cr.make_ir(cr.grad(lambda x: np.sum(sigmoid(x))))(np.ones(3))
    grad_ir.check()
    np.testing.assert_allclose(grad_ir.eval(np.zeros(3)), np.full(3, 0.25))


# -- custom_jvp: log1pexp, whose naive derivative is NaN at large x ---------------------------
@cr.custom_jvp
def log1pexp(x):
    return np.log(1.0 + np.exp(x))


@log1pexp.defjvp
def log1pexp_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return log1pexp(x), (1.0 - 1.0 / (1.0 + np.exp(x))) * t


def test_log1pexp_rule_is_right_where_the_naive_derivative_is_nan():
    with np.errstate(over="ignore", invalid="ignore"):
        naive = cr.grad(lambda x: np.log(1.0 + np.exp(x)))(1000.0)
        assert np.isnan(naive)                              # inf / inf
        assert cr.grad(log1pexp)(1000.0) == 1.0
        assert cr.jvp(log1pexp, (1000.0,), (2.0,))[1] == 2.0
        np.testing.assert_allclose(cr.vmap(cr.grad(log1pexp))(np.array([0.0, 1000.0])),
                                   [0.5, 1.0])
    np.testing.assert_allclose(cr.grad(cr.grad(log1pexp))(0.3),
                               _sigmoid(0.3) * (1 - _sigmoid(0.3)), rtol=1e-12)
    cr.check_grads(log1pexp, (np.array([-1.0, 0.2, 3.0]),), order=2)


def test_the_rule_not_the_body_is_differentiated():
    # a rule that is not the body's derivative: every transform gives the rule's
    @cr.custom_jvp
    def f(x):
        return np.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), 2.0 * x * t          # "d/dx sin x = 2 x"

    x = np.array([0.3, -1.1])
    np.testing.assert_allclose(f(x), np.sin(x))
    np.testing.assert_allclose(cr.grad(lambda x: np.sum(f(x)))(x), 2 * x)
    np.testing.assert_allclose(cr.jvp(f, (x,), (np.ones(2),))[1], 2 * x)
    np.testing.assert_allclose(cr.jacrev(f)(x), np.diag(2 * x))
    np.testing.assert_allclose(cr.jacfwd(f)(x), np.diag(2 * x))
    assert cr.grad(cr.grad(f))(0.3) == 2.0                  # the derivative of the rule's 2 x t
    np.testing.assert_allclose(cr.vmap(cr.grad(f))(x), 2 * x)


# -- custom_vjp ---------------------------------------------------------------------------------
@cr.custom_vjp
def f(x, y):
    return np.sin(x) * y


def f_fwd(x, y):
    CALLS["f_fwd"] += 1
    return f(x, y), (np.cos(x), np.sin(x), y)


def f_bwd(res, g):
    CALLS["f_bwd"] += 1
    cos_x, sin_x, y = res
    return cos_x * g * y, sin_x * g


f.defvjp(f_fwd, f_bwd)


def test_custom_vjp_in_reverse_mode_and_vmap():
    x, y = rng.normal(size=3), rng.normal(size=3)
    np.testing.assert_allclose(f(x, y), np.sin(x) * y)
    fwd0, bwd0 = CALLS["f_fwd"], CALLS["f_bwd"]
    gx, gy = cr.grad(lambda x, y: np.sum(f(x, y)), argnums=(0, 1))(x, y)
    assert (CALLS["f_fwd"] - fwd0, CALLS["f_bwd"] - bwd0) == (1, 1)
    np.testing.assert_allclose(gx, np.cos(x) * y, rtol=1e-14)
    np.testing.assert_allclose(gy, np.sin(x), rtol=1e-14)
    out, vjp_fn = cr.vjp(f, x, y)
    ct = rng.normal(size=3)
    cx, cy = vjp_fn(ct)
    np.testing.assert_allclose(cx, np.cos(x) * y * ct, rtol=1e-14)
    np.testing.assert_allclose(cy, np.sin(x) * ct, rtol=1e-14)
    np.testing.assert_allclose(cr.jacrev(f)(x, y), np.diag(np.cos(x) * y), rtol=1e-14)
    np.testing.assert_allclose(cr.jacobian(f, mode="rev")(x, y), np.diag(np.cos(x) * y),
                               rtol=1e-14)
    xs, ys = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    np.testing.assert_allclose(cr.vmap(f)(xs, ys), np.sin(xs) * ys)
    # per-example gradients, and the gradient of a vmapped custom_vjp (batched fwd, bwd)
    np.testing.assert_allclose(cr.vmap(cr.grad(lambda x, y: np.sum(f(x, y))))(xs, ys),
                               np.cos(xs) * ys, rtol=1e-14)
    gx, gy = cr.grad(lambda xs, y: np.sum(cr.vmap(f, in_axes=(0, None))(xs, y)),
                     argnums=(0, 1))(xs, y)
    np.testing.assert_allclose(gx, np.cos(xs) * y, rtol=1e-14)
    np.testing.assert_allclose(gy, np.sum(np.sin(xs), axis=0), rtol=1e-14)
    # reverse over reverse differentiates fwd and bwd, which are differentiable here
    np.testing.assert_allclose(cr.grad(cr.grad(lambda x: f(x, 2.0)))(0.4), -2 * np.sin(0.4),
                               rtol=1e-14)
    np.testing.assert_allclose(cr.jacrev(cr.grad(lambda x: np.sum(f(x, y))))(x),
                               np.diag(-np.sin(x) * y), rtol=1e-14, atol=1e-15)


def test_the_ir_of_a_custom_vjp_function_and_of_its_linearization():
    x, y = np.ones(2), np.ones(2)
    closed = cr.make_ir(f)(x, y)
    closed.check()
    text = str(closed)
    assert "custom_vjp_call[bwd=f_bwd call=" in text and "fwd=f_fwd name=f num_consts=0]" in text
    _, vjp_fn = cr.vjp(f, x, y)
    vjp_fn.ir.check()
    assert "custom_vjp_lin[bwd=f_bwd name=f num_res=3]" in str(vjp_fn.ir)
    grad_ir = cr.make_ir(cr.grad(lambda x, y: np.sum(f(x, y)), argnums=(0, 1)))(x, y)
    grad_ir.check()
    a, b = rng.normal(size=2), rng.normal(size=2)
    ga, gb = grad_ir.eval(a, b)
    np.testing.assert_allclose(ga, np.cos(a) * b, rtol=1e-14)
    # the JVP program records custom_vjp_lin, as JAX does; evaluating it is forward mode
    program = jvp_ir(closed)
    program.check()
    with pytest.raises(TypeError, match="can't apply forward-mode autodiff"):
        program.eval(x, y, x, y)


def test_a_grad_of_grad_differentiates_bwd_as_jax_does():
    # bwd is not the body's derivative (3 x instead of 2 x): grad gives bwd's
    # cotangent, and grad of grad the derivative of what bwd computes
    @cr.custom_vjp
    def sq(x):
        return x ** 2

    sq.defvjp(lambda x: (sq(x), x), lambda x, g: (3.0 * x * g,))
    assert cr.grad(sq)(2.0) == 6.0
    assert cr.grad(cr.grad(sq))(2.0) == 3.0


# -- custom_vjp: the gradient-clipping identity ----------------------------------------------
@cr.custom_vjp
def clip_gradient(lo, hi, x):
    return x


def clip_gradient_fwd(lo, hi, x):
    return x, (lo, hi)


def clip_gradient_bwd(res, g):
    lo, hi = res
    return None, None, np.clip(g, lo, hi)


clip_gradient.defvjp(clip_gradient_fwd, clip_gradient_bwd)


def test_gradient_clipping_identity():
    x = np.array([0.5, -2.0, 1.0])
    out = clip_gradient(-1.0, 1.0, x)
    np.testing.assert_array_equal(out, x)
    assert not np.shares_memory(out, x)                    # a result of the caller's own
    weights = np.array([1.0, -5.0, 0.2])
    g = cr.grad(lambda x: np.sum(clip_gradient(-1.0, 1.0, 3.0 * x) * weights))(x)
    np.testing.assert_allclose(g, 3.0 * np.array([1.0, -1.0, 0.2]))
    # lo and hi are arguments too: their cotangents are None (zero)
    glo, ghi = cr.grad(lambda lo, hi: np.sum(clip_gradient(lo, hi, x)), argnums=(0, 1))(-1.0, 1.0)
    assert glo == 0.0 and ghi == 0.0
    xs = rng.normal(size=(4, 3))
    gs = cr.vmap(cr.grad(lambda x: np.sum(clip_gradient(-0.5, 0.5, x) * 2.0)))(xs)
    np.testing.assert_allclose(gs, np.full((4, 3), 0.5))


# -- inside control flow and vmap ----------------------------------------------------------------
def test_custom_functions_inside_loops_and_conds():
    # reverse mode through a scan body that calls a custom_vjp function
    def rnn(h, xs):
        def step(c, x):
            c = np.tanh(clip_gradient(-0.1, 0.1, c * x))
            return c, c
        return np.sum(cr.scan(step, h, xs)[1])

    def rnn_unrolled_grad(h, xs):   # by hand: each step's cotangent clipped
        cs, c = [], h
        for x in xs:
            cs.append((c, x))
            c = np.tanh(c * x)
        ct, g = np.zeros_like(h), None
        for c_prev, x in reversed(cs):
            y = np.tanh(c_prev * x)
            ct = ct + 1.0                                # d sum / d c (the y output)
            g = np.clip(ct * (1 - y ** 2), -0.1, 0.1) * x
            ct = g
        return g

    h, xs = np.array([0.3, -0.2]), rng.uniform(0.5, 1.5, size=(5, 2))
    np.testing.assert_allclose(cr.grad(rnn)(h, xs), rnn_unrolled_grad(h, xs), rtol=1e-12)
    np.testing.assert_allclose(cr.vmap(cr.grad(rnn), in_axes=(0, None))(np.stack([h, -h]), xs),
                               np.stack([rnn_unrolled_grad(h, xs), rnn_unrolled_grad(-h, xs)]),
                               rtol=1e-12)
    # a custom_jvp function in a cond branch: both modes
    g = lambda x: cr.cond(x > 0, log1pexp, np.sin, x)   # noqa: E731
    assert cr.grad(g)(0.3) == pytest.approx(_sigmoid(0.3), rel=1e-14)
    assert cr.jvp(g, (0.3,), (1.0,))[1] == pytest.approx(_sigmoid(0.3), rel=1e-14)
    assert cr.grad(g)(-0.3) == pytest.approx(np.cos(-0.3), rel=1e-14)
    cr.check_grads(g, (0.3,), order=2)
    # fori_loop with static bounds of a custom_jvp function
    loop = lambda x: cr.fori_loop(0, 3, lambda i, v: sigmoid(v) + v, x)   # noqa: E731
    cr.check_grads(loop, (np.array([0.1, -0.4]),), order=2)


def test_pytrees_nondiff_argnums_keywords_and_integers():
    @functools.partial(cr.custom_jvp, nondiff_argnums=(0,))
    def apply(fn, args):
        return {"out": fn(args["a"]) * args["b"]}

    @apply.defjvp
    def apply_jvp(fn, primals, tangents):
        (args,), (t,) = primals, tangents
        a, b = args["a"], args["b"]
        return apply(fn, args), {"out": np.cos(a) * b * t["a"] + fn(a) * t["b"]}

    a, b = rng.normal(size=3), rng.normal(size=3)
    g = cr.grad(lambda a, b: np.sum(apply(np.sin, {"a": a, "b": b})["out"]), argnums=(0, 1))(a, b)
    np.testing.assert_allclose(g[0], np.cos(a) * b, rtol=1e-14)
    np.testing.assert_allclose(g[1], np.sin(a), rtol=1e-14)

    @functools.partial(cr.custom_vjp, nondiff_argnums=(1,))
    def scale(x, k, power=2):
        return x ** power * k

    scale.defvjp(lambda x, k, power: (scale(x, k, power), x),
                 lambda k, x, g: (k * 10.0 * x * g, None))   # (power: an argument, zero)
    assert cr.grad(lambda x: scale(x, 3.0))(2.0) == 60.0
    assert cr.grad(lambda x: scale(x, k=3.0, power=2))(2.0) == 60.0

    # an integer argument takes a float0 tangent, as in JAX
    seen = []

    @cr.custom_jvp
    def shift(x, n):
        return x + n

    @shift.defjvp
    def shift_jvp(primals, tangents):
        seen.append(tangents[1].dtype)
        return shift(*primals), tangents[0]

    assert cr.grad(lambda x: shift(x, 3))(1.0) == 1.0
    assert seen == [cr.float0]


def test_closures():
    # a custom function may close over arrays, and over traced values that are
    # not differentiated; differentiating one raises, as in JAX
    w = np.array([1.0, 2.0])

    def outer(w, x):
        @cr.custom_jvp
        def g(x):
            return x * w

        @g.defjvp
        def g_jvp(primals, tangents):
            return g(primals[0]), tangents[0] * w

        return np.sum(g(x))

    x = np.array([0.5, 0.25])
    np.testing.assert_allclose(cr.grad(outer, argnums=1)(w, x), w)
    np.testing.assert_allclose(cr.vmap(outer, in_axes=(0, None))(np.stack([w, 2 * w]), x),
                               [np.sum(x * w), np.sum(2 * x * w)])
    with pytest.raises(TypeError, match="closes over") as info:
        cr.grad(outer)(w, x)
    assert line_of(outer, 9) in str(info.value)


# -- forward mode of a custom_vjp function: JAX's error -----------------------------------------
def test_forward_mode_of_custom_vjp_raises_naming_the_line():
    def loss(x):
        return np.sum(f(x, np.full(3, 2.0)))

    x = np.ones(3)
    line = line_of(loss, 1)
    for attempt in (lambda: cr.jvp(loss, (x,), (x,)),
                    lambda: cr.jacfwd(loss)(x),
                    lambda: cr.hessian(loss)(x),
                    lambda: cr.linearize(loss, x)[1](x),
                    lambda: cr.check_grads(loss, (x,), order=1, modes=("fwd",))):
        with pytest.raises(TypeError) as info:
            attempt()
        message = str(info.value)
        assert message.startswith("can't apply forward-mode autodiff (jvp) to a custom_vjp "
                                  "function: f has")
        assert line in message
        assert "cr.grad" in message and "cr.custom_jvp" in message
    # with tangents that are arrays, the error comes before fwd runs
    n, _ = _calls("f_fwd", lambda: pytest.raises(TypeError, cr.jvp, loss, (x,), (x,)))
    assert n == 0


# -- errors naming the user's line ----------------------------------------------------------------
def _raises(error, match, fn, line):
    with pytest.raises(error, match=match) as info:
        fn()
    assert line in str(info.value), str(info.value)
    return str(info.value)


def test_a_rule_of_the_wrong_structure_or_shape_is_an_error():
    @cr.custom_jvp
    def h(x):
        return np.sin(x), x

    @h.defjvp
    def h_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return (np.sin(x), x), (np.cos(x) * t)[:2]          # a tuple expected, an array given

    def use(x):
        return np.sum(h(x)[0])

    x = np.ones(3)
    message = _raises(TypeError, "must return a tangent output of the structure",
                      lambda: cr.grad(use)(x), line_of(use, 1))
    assert f"h_jvp (defined at {os.path.abspath(__file__)}:{h_jvp.__code__.co_firstlineno}" \
        in message

    @h.defjvp
    def h_jvp2(primals, tangents):
        (x,), (t,) = primals, tangents
        return (np.sin(x), x), ((np.cos(x) * t)[:2], t)     # a tangent of the wrong shape

    _raises(TypeError, r"of the types of h's output, \(f64\[3\], f64\[3\]\), but returns "
            r"\(f64\[2\], f64\[3\]\)", lambda: cr.grad(use)(x), line_of(use, 1))

    @h.defjvp
    def h_jvp3(primals, tangents):
        return np.sin(primals[0])                          # not a pair

    _raises(TypeError, "must return a pair", lambda: cr.jvp(use, (x,), (x,)), line_of(use, 1))


def test_a_custom_function_without_a_rule_is_an_error():
    @cr.custom_jvp
    def h(x):
        return x

    @cr.custom_vjp
    def k(x):
        return x

    def use(x):
        return h(x) + k(x)

    _raises(AttributeError, "No JVP rule defined for the custom_jvp function h",
            lambda: use(1.0), line_of(use, 1))
    h.defjvp(lambda p, t: (p[0], t[0]))
    _raises(AttributeError, r"No VJP rule defined for the custom_vjp function k: define one "
            r"with k.defvjp\(fwd, bwd\)", lambda: cr.grad(use)(1.0), line_of(use, 1))


def test_bwd_returning_the_wrong_number_or_shape_of_cotangents_is_an_error():
    @cr.custom_vjp
    def p(x, y):
        return x * y

    def p_fwd(x, y):
        return p(x, y), (x, y)

    def use(x, y):
        return np.sum(p(x, y))

    p.defvjp(p_fwd, lambda res, g: (g * res[1],))            # one cotangent for two arguments
    x, y = np.ones(3), np.ones(3)
    _raises(TypeError, r"must return a tuple with one cotangent for each argument that is "
            r"differentiated \(2\), got a tuple of length 1", lambda: cr.grad(use)(x, y),
            line_of(use, 1))
    p.defvjp(p_fwd, lambda res, g: (g * res[1], np.sum(g)))  # a scalar for an f64[3]
    message = _raises(TypeError, r"must return cotangents of the types of the arguments "
                      r"\(f64\[3\], f64\[3\]\), but returns f64\[\] for leaf 1",
                      lambda: cr.vjp(use, x, y)[1](1.0), line_of(use, 1))
    assert "<lambda> (defined at" in message
    p.defvjp(lambda x, y: (x[:2], (x, y)), lambda res, g: (g, g))   # fwd's output is not p's
    _raises(TypeError, r"must return a primal output of the types of p's output, "
            r"\(f64\[3\]\), but returns \(f64\[2\]\)", lambda: cr.grad(use)(x, y),
            line_of(use, 1))


def test_nondiff_argnums_are_not_traced_values():
    @functools.partial(cr.custom_vjp, nondiff_argnums=(1,))
    def q(x, k):
        return x * k

    q.defvjp(lambda x, k: (q(x, k), None), lambda k, res, g: (g * k,))

    def use(x):
        return q(x, x)

    _raises(TypeError, "argument 1 is in nondiff_argnums but is a traced value",
            lambda: cr.grad(use)(2.0), line_of(use, 1))


# -- what docs/api.md says ------------------------------------------------------------------------
def test_the_documented_ir_of_log1pexp():
    assert str(cr.make_ir(log1pexp)(1.0)) == """\
{ lambda ; a:f64[]. let
    b:f64[] = custom_jvp_call[call=
        { lambda ; c:f64[]. let
            d:f64[] = exp c
            e:f64[] = add 1.0:f64[] d
            f:f64[] = log e
          in (f,) } jvp=log1pexp_jvp name=log1pexp num_consts=0] a
  in (b,) }"""


def test_a_rule_that_is_not_linear_in_the_tangents_fails_in_reverse_mode():
    @cr.custom_jvp
    def h(x):
        return x ** 2

    @h.defjvp
    def h_jvp(primals, tangents):
        return h(primals[0]), tangents[0] ** 2

    assert cr.jvp(h, (3.0,), (2.0,))[1] == 4.0             # forward mode: what the rule says
    with pytest.raises(NotImplementedError, match="integer_pow has no transpose rule"):
        cr.grad(h)(3.0)


def test_custom_vjp_in_cond_and_fori_loop_bodies_under_grad():
    x = np.array([0.5, -2.0, 1.0])   # a negative sum: the first branch
    g = cr.grad(lambda x: np.sum(cr.cond(np.sum(x) < 0,
                                         lambda a: clip_gradient(-1.0, 1.0, a * 3.0),
                                         lambda a: a, x)))(x)
    np.testing.assert_allclose(g, np.full(3, 3.0))   # clipped to 1, times 3
    g = cr.grad(lambda x: np.sum(cr.cond(np.sum(x) < 0,
                                         lambda a: clip_gradient(-1.0, 1.0, a * 3.0) * 4.0,
                                         lambda a: a, x)))(x)
    np.testing.assert_allclose(g, np.full(3, 3.0))   # 4 clipped to 1, times 3
    g = cr.grad(lambda x: np.sum(cr.fori_loop(
        0, 2, lambda i, v: clip_gradient(-0.5, 0.5, v * 2.0), x)))(x)
    np.testing.assert_allclose(g, np.full(3, 1.0))   # 0.5 * 2 per step


def test_forward_mode_recorded_as_a_program_raises_when_evaluated():
    closed = cr.make_ir(lambda x, t: cr.jvp(lambda x: f(x, x), (x,), (t,))[1])(np.ones(2),
                                                                               np.ones(2))
    closed.check()
    assert "custom_vjp_lin[bwd=f_bwd" in str(closed)
    with pytest.raises(TypeError, match="can't apply forward-mode autodiff"):
        closed.eval(np.ones(2), np.ones(2))
    # check_grads in reverse mode alone compares with finite differences,
    # not with a JVP: a custom_vjp function can be checked
    cr.check_grads(lambda x: f(x, x), (np.ones(2),), order=1, modes=("rev",))
    with pytest.raises(TypeError, match="can't apply forward-mode autodiff"):
        cr.check_grads(lambda x: f(x, x), (np.ones(2),), order=1, modes=("fwd", "rev"))


def test_the_body_is_traced_abstractly():
    @cr.custom_jvp
    def h(x):
        if x > 0:
            return x
        return -x

    h.defjvp(lambda p, t: (h(p[0]), t[0]))
    with pytest.raises(cr.ConcretizationError, match="custom_jvp"):
        cr.grad(h)(1.0)


def test_fwd_reads_a_value_not_differentiated_and_bwd_details():
    def outer(w, x):
        @cr.custom_vjp
        def g(x):
            return x * w

        g.defvjp(lambda x: (g(x), w), lambda w, ct: (ct * w,))   # w through the residuals
        return np.sum(g(x))

    w, x = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    np.testing.assert_allclose(cr.grad(outer, argnums=1)(w, x), w)

    # None for one leaf of a pytree argument; a float32 cotangent for an f64 argument
    @cr.custom_vjp
    def pair(p):
        return p["a"] * p["b"]

    pair.defvjp(lambda p: (pair(p), p["b"]),
                lambda b, g: ({"a": (g * b).astype(np.float32), "b": None},))
    g = cr.grad(lambda a, b: np.sum(pair({"a": a, "b": b})), argnums=(0, 1))(x, w)
    np.testing.assert_allclose(g[0], w)
    assert g[0].dtype == np.float64
    np.testing.assert_array_equal(g[1], np.zeros(2))


def test_a_python_number_from_a_rule_takes_the_outputs_dtype():
    @cr.custom_jvp
    def h(x):
        return x * 2.0

    @h.defjvp
    def h_jvp(primals, tangents):
        return h(primals[0]), 0.0                          # a Python float for an f32[]

    out, t = cr.jvp(h, (np.float32(1.5),), (np.float32(1.0),))
    assert out.dtype == np.float32 and t.dtype == np.float32 and t == 0.0
