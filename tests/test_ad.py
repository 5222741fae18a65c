"""Forward and reverse mode as users call them: jvp, vjp, grad,
value_and_grad, linearize, linear_transpose.

Every expected number is derived by hand (the lecture's formulas) and
computed with NumPy here, never taken from chainrule's output.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import primitives as P

rng = np.random.default_rng(7)

# primitives that are not linear in any operand: a linear program has none
NONLINEAR = {"sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh",
             "acosh", "atanh", "exp", "exp2", "log", "log1p", "expm1", "sqrt", "cbrt",
             "logistic", "abs", "pow", "integer_pow", "max", "min", "atan2", "rem",
             "reduce_prod", "reduce_max", "reduce_min"}


def prim_names(closed):
    return {e.primitive.name for e in closed.eqns}


# =============================================================================
# Lecture examples, with hand-derived numbers
# =============================================================================
def lecture_f(x1, x2):
    return x1 * x2 + np.sin(x1)


def test_dual_numbers_example_by_grad():
    # f(x1, x2) = x1 x2 + sin x1 at (2, 7): (7 + cos 2, 2) = (6.58385..., 2)
    g1, g2 = cr.grad(lecture_f, argnums=(0, 1))(2.0, 7.0)
    assert g1 == pytest.approx(7 + math.cos(2.0), abs=1e-12)
    assert g1 == pytest.approx(6.5838531634528, abs=1e-12)
    assert g2 == pytest.approx(2.0, abs=1e-12)


def test_dual_numbers_example_by_jvp_one_sweep_per_input():
    value, d1 = cr.jvp(lecture_f, (2.0, 7.0), (1.0, 0.0))
    assert value == pytest.approx(14 + math.sin(2.0), abs=1e-12)
    assert d1 == pytest.approx(6.5838531634528, abs=1e-12)
    _, d2 = cr.jvp(lecture_f, (2.0, 7.0), (0.0, 1.0))
    assert d2 == pytest.approx(2.0, abs=1e-12)


def lecture_g(x, y):
    a = np.log(x)
    b = y * a
    c = np.sqrt(b)
    return b + c


@pytest.mark.parametrize("x, y", [(2.0, 3.0), (5.0, 0.5), (1.5, 10.0)])
def test_y_log_x_plus_sqrt_both_modes(x, y):
    a = math.log(x)
    b = y * a
    df_db = 1 + 1 / (2 * math.sqrt(b))
    expected = (df_db * y / x, df_db * a)
    assert cr.grad(lecture_g, argnums=(0, 1))(x, y) == pytest.approx(expected, abs=1e-12)
    assert cr.jvp(lecture_g, (x, y), (1.0, 0.0))[1] == pytest.approx(expected[0], abs=1e-12)
    assert cr.jvp(lecture_g, (x, y), (0.0, 1.0))[1] == pytest.approx(expected[1], abs=1e-12)
    out, vjp_fn = cr.vjp(lecture_g, x, y)
    assert out == pytest.approx(b + math.sqrt(b))
    assert vjp_fn(1.0) == pytest.approx(expected, abs=1e-12)


def test_matrix_product_vjps():
    # Z = A B, loss sum(G * Z): A_bar = G B^T, B_bar = A^T G
    A, B, G = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal((4, 5))
    Z, vjp_fn = cr.vjp(lambda A, B: A @ B, A, B)
    np.testing.assert_allclose(Z, A @ B, rtol=1e-12)
    A_bar, B_bar = vjp_fn(G)
    np.testing.assert_allclose(A_bar, G @ B.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(B_bar, A.T @ G, rtol=1e-12, atol=1e-12)
    # the same through grad of the scalar loss
    gA, gB = cr.grad(lambda A, B: np.sum(G * (A @ B)), argnums=(0, 1))(A, B)
    np.testing.assert_allclose(gA, G @ B.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gB, A.T @ G, rtol=1e-12, atol=1e-12)


def test_matrix_product_special_cases():
    x, y = rng.standard_normal(4), rng.standard_normal(4)
    A = rng.standard_normal((3, 4))
    # f = x^T y: dl/dx = (dl/df) y
    _, vjp_fn = cr.vjp(lambda x: x @ y, x)
    np.testing.assert_allclose(vjp_fn(2.5)[0], 2.5 * y, rtol=1e-12)
    # f = A x: dl/dA = (dl/df) x^T (an outer product), dl/dx = A^T (dl/df)
    f_bar = rng.standard_normal(3)
    _, vjp_fn = cr.vjp(lambda A, x: A @ x, A, x)
    A_bar, x_bar = vjp_fn(f_bar)
    np.testing.assert_allclose(A_bar, f_bar[:, None] * x[None, :], rtol=1e-12)
    np.testing.assert_allclose(x_bar, A.T @ f_bar, rtol=1e-12)


def test_scalar_times_matrix():
    # F = alpha X: dl/dX = alpha dl/dF and dl/dalpha = sum(dl/dF * X)
    alpha, X, F_bar = 1.7, rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    _, vjp_fn = cr.vjp(lambda a, X: a * X, alpha, X)
    a_bar, X_bar = vjp_fn(F_bar)
    assert np.shape(a_bar) == ()
    assert a_bar == pytest.approx(float(np.sum(F_bar * X)), abs=1e-12)
    np.testing.assert_allclose(X_bar, alpha * F_bar, rtol=1e-12)


def test_broadcasting_vjp_unbroadcasts():
    # A (1,100) + B (100,1) -> F (100,100); A_bar, B_bar sum F_bar over the
    # broadcast axes
    A, B = rng.standard_normal((1, 100)), rng.standard_normal((100, 1))
    F, vjp_fn = cr.vjp(lambda A, B: A + B, A, B)
    assert F.shape == (100, 100)
    F_bar = rng.standard_normal((100, 100))
    A_bar, B_bar = vjp_fn(F_bar)
    assert A_bar.shape == (1, 100) and B_bar.shape == (100, 1)
    np.testing.assert_allclose(A_bar, F_bar.sum(axis=0, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(B_bar, F_bar.sum(axis=1, keepdims=True), rtol=1e-12)


def test_fan_out_gets_the_sum_of_cotangents():
    x = rng.standard_normal(5)
    ct = rng.standard_normal(5)
    _, vjp_fn = cr.vjp(lambda x: x + x, x)
    np.testing.assert_allclose(vjp_fn(ct)[0], 2 * ct, rtol=1e-12)
    # x used by two different consumers: sin(x) * exp(x)
    _, vjp_fn = cr.vjp(lambda x: np.sin(x) * np.exp(x), x)
    np.testing.assert_allclose(vjp_fn(ct)[0], ct * (np.cos(x) * np.exp(x) + np.sin(x) * np.exp(x)),
                               rtol=1e-12)
    # x read three times in one expression
    g = cr.grad(lambda x: x * x * x + x)(1.5)
    assert g == pytest.approx(3 * 1.5 ** 2 + 1, abs=1e-12)


@pytest.mark.parametrize("sigmoid", [
    lambda x: 1 / (1 + np.exp(-x)),
    lambda x: P.logistic_p.bind(x),
], ids=["composed", "logistic_primitive"])
def test_sigmoid_derivative_is_s_one_minus_s(sigmoid):
    x = np.linspace(-6, 6, 13)
    s = 1 / (1 + np.exp(-x))
    ds = s * (1 - s)
    np.testing.assert_allclose(cr.grad(lambda x: np.sum(sigmoid(x)))(x), ds, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(cr.jvp(sigmoid, (x,), (np.ones_like(x),))[1], ds, rtol=1e-12,
                               atol=1e-15)


def test_logistic_rule_reuses_its_output():
    # the linear program of the logistic primitive needs s (1 - s) only: no exp
    _, f_jvp = cr.linearize(P.logistic_p.bind, np.linspace(-2, 2, 5))
    assert prim_names(f_jvp.ir) == {"mul"}


def test_relu_passes_the_cotangent_where_positive():
    x = np.array([-2.0, -0.5, 0.3, 1.0, -1e-3, 2.5])
    ct = rng.standard_normal(6)
    _, vjp_fn = cr.vjp(lambda x: np.maximum(x, 0), x)
    np.testing.assert_array_equal(vjp_fn(ct)[0], np.where(x > 0, ct, 0.0))


def test_two_layer_network_least_squares_backprop():
    # g(a) = V tanh(U a); loss = sum_i (V tanh(U a_i) - y_i)^2 over a batch
    n, d, h, k = 6, 3, 5, 2
    A = rng.standard_normal((n, d))        # rows a_i
    Y = rng.standard_normal((n, k))        # rows y_i
    U = rng.standard_normal((h, d))
    V = rng.standard_normal((k, h))

    def loss(U, V):
        total = 0.0
        for i in range(n):
            r = V @ np.tanh(U @ A[i]) - Y[i]
            total = total + np.sum(r * r)
        return total

    # backprop by hand, in matrix form
    Z = A @ U.T                  # (n, h) pre-activations
    H = np.tanh(Z)
    R = H @ V.T - Y              # (n, k) residuals
    F_bar = 2 * R                # d loss / d output
    V_bar = F_bar.T @ H          # (k, h)
    H_bar = F_bar @ V            # (n, h)
    Z_bar = H_bar * (1 - H ** 2)
    U_bar = Z_bar.T @ A          # (h, d)

    value, (gU, gV) = cr.value_and_grad(loss, argnums=(0, 1))(U, V)
    assert value == pytest.approx(float(np.sum(R ** 2)), rel=1e-12)
    np.testing.assert_allclose(gU, U_bar, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gV, V_bar, rtol=1e-10, atol=1e-12)


def test_gaussian_bump_example():
    # f(x) = (x @ b) exp(sum(-x*x)), b = [1, 0], at (1, 2):
    # f = x0 e^{-|x|^2}; df/dx0 = e^{-5} (1 - 2 x0^2) = -e^{-5},
    # df/dx1 = -2 x0 x1 e^{-5} = -4 e^{-5}
    b = np.array([1.0, 0.0])
    g = cr.grad(lambda x: (x @ b) * np.exp(np.sum(-x * x)))(np.array([1.0, 2.0]))
    np.testing.assert_allclose(g, [-math.exp(-5), -4 * math.exp(-5)], rtol=1e-12)
    np.testing.assert_allclose(g, [-0.006738, -0.026952], atol=5e-7)


# =============================================================================
# Concrete tracing: Python control flow, and the primal computed once
# =============================================================================
def piecewise(x):
    return x ** 2 if x > 0 else -x


def test_grad_follows_python_control_flow():
    assert cr.grad(piecewise)(3.0) == pytest.approx(6.0, abs=1e-12)
    assert cr.grad(piecewise)(-3.0) == pytest.approx(-1.0, abs=1e-12)
    assert cr.jvp(piecewise, (3.0,), (1.0,)) == pytest.approx((9.0, 6.0))


def test_make_ir_of_python_control_flow_raises():
    with pytest.raises(cr.ConcretizationError) as info:
        cr.make_ir(piecewise)(3.0)
    assert "traced" in str(info.value)


@pytest.fixture
def count_impl(monkeypatch):
    """``count_impl(prim)`` wraps ``prim.impl`` and returns the list of its
    calls' arguments."""
    def install(prim):
        calls = []
        original = prim.impl

        def counting(*args, **params):
            calls.append(args)
            return original(*args, **params)
        monkeypatch.setattr(prim, "impl", counting)
        return calls
    return install


def _calls_on(calls, *operands):
    """The calls whose operands equal ``operands`` (the primal ones)."""
    return [c for c in calls if len(c) == len(operands) and
            all(np.shape(a) == np.shape(b) and np.array_equal(a, b) for a, b in zip(c, operands))]


@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "vjp", "jvp", "linearize"])
def test_primal_is_evaluated_once(count_impl, transform):
    # f(x) = sin(x) log(x): sin, log and the mul of their results once each.
    # (The rules compute other things: cos x for sin, a division for log,
    # products of cotangents and residuals; those are not counted.)
    sin_calls, log_calls = count_impl(P.sin_p), count_impl(P.log_p)
    mul_calls = count_impl(P.mul_p)
    x = np.array([0.5, 1.5, 2.5])

    def f(x):
        return np.sum(np.sin(x) * np.log(x))

    if transform == "grad":
        g = cr.grad(f)(x)
    elif transform == "value_and_grad":
        _, g = cr.value_and_grad(f)(x)
    elif transform == "vjp":
        _, vjp_fn = cr.vjp(f, x)
        (g,) = vjp_fn(1.0)
    elif transform == "jvp":
        _, g = cr.jvp(f, (x,), (np.ones(3),))
    else:
        _, f_jvp = cr.linearize(f, x)
        g = f_jvp(np.ones(3))
    assert len(sin_calls) == 1 and len(log_calls) == 1
    assert len(_calls_on(mul_calls, np.sin(x), np.log(x))) == 1
    expected = np.cos(x) * np.log(x) + np.sin(x) / x
    np.testing.assert_allclose(g, expected if transform != "jvp" and transform != "linearize"
                               else expected.sum(), rtol=1e-12)


def _np_logistic(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize("prim, fn, y_of, d", [
    (P.tanh_p, np.tanh, np.tanh, lambda y, x: 1 - y ** 2),
    (P.exp_p, np.exp, np.exp, lambda y, x: y),
    (P.logistic_p, P.logistic_p.bind, _np_logistic, lambda y, x: y * (1 - y)),
    (P.sqrt_p, np.sqrt, np.sqrt, lambda y, x: 0.5 / y),
], ids=["tanh", "exp", "logistic", "sqrt"])
def test_rules_reuse_the_output_instead_of_recomputing_it(count_impl, prim, fn, y_of, d):
    # tanh' = 1 - tanh^2 reuses y: under grad, tanh's impl runs exactly once
    calls = count_impl(prim)
    x = np.array([0.2, 0.7, 1.3])
    g = cr.grad(lambda x: np.sum(fn(x)))(x)
    assert len(calls) == 1
    np.testing.assert_allclose(g, d(y_of(x), x), rtol=1e-12)


# =============================================================================
# Errors
# =============================================================================
def test_grad_of_non_scalar_output():
    with pytest.raises(TypeError) as info:
        cr.grad(lambda x: x * 2)(np.ones(3))
    msg = str(info.value)
    assert "scalar" in msg and "f64[3]" in msg
    assert "vjp" in msg or "jacrev" in msg


def test_grad_of_integer_input():
    with pytest.raises(TypeError) as info:
        cr.grad(lambda x: x * 2.0)(3)
    msg = str(info.value)
    assert "floating-point" in msg and "int" in msg and "argument 0" in msg
    # the float input works
    assert cr.grad(lambda x: x * 2.0)(3.0) == 2.0


def test_grad_of_integer_output():
    with pytest.raises(TypeError) as info:
        cr.grad(lambda x: cnp.argmax(x))(np.array([1.0, 3.0, 2.0]))
    msg = str(info.value)
    assert "floating-point output" in msg and "i64" in msg


@pytest.mark.parametrize("cotangent", [np.ones(4), np.ones((3, 1)), np.ones(()), (np.ones(3),)],
                         ids=["longer", "extra_axis", "scalar", "wrong_structure"])
def test_vjp_fn_rejects_a_wrong_cotangent(cotangent):
    _, vjp_fn = cr.vjp(lambda x: x * 2, np.ones(3))
    with pytest.raises((ValueError, TypeError)) as info:
        vjp_fn(cotangent)
    msg = str(info.value)
    assert "cotangent" in msg
    if not isinstance(cotangent, tuple):
        assert str(np.shape(cotangent)) in msg and "(3,)" in msg


# =============================================================================
# Composition
# =============================================================================
@pytest.mark.parametrize("x", [-1.3, 0.0, 0.4, 2.0])
def test_second_derivatives(x):
    assert cr.grad(cr.grad(np.sin))(x) == pytest.approx(-math.sin(x), abs=1e-12)
    t = math.tanh(x)
    assert cr.grad(cr.grad(np.tanh))(x) == pytest.approx(-2 * t * (1 - t * t), abs=1e-12)


@pytest.mark.parametrize("x", [-1.3, 0.0, 0.4, 2.0])
def test_third_derivative_of_tanh(x):
    t = math.tanh(x)
    expected = -2 * (1 - t * t) * (1 - 3 * t * t)
    assert cr.grad(cr.grad(cr.grad(np.tanh)))(x) == pytest.approx(expected, abs=1e-12)


def test_hessian_vector_product_by_jvp_of_grad():
    # f(x) = sum(x^3) + x0 x1: H = diag(6 x) + (e0 e1^T + e1 e0^T)
    def f(x):
        return np.sum(x ** 3) + x[0] * x[1]

    x = np.array([0.5, -1.2, 2.0, 0.3])
    v = np.array([1.0, 2.0, -0.5, 3.0])
    H = np.diag(6 * x)
    H[0, 1] = H[1, 0] = 1.0
    g, hvp = cr.jvp(cr.grad(f), (x,), (v,))
    grad_expected = 3 * x ** 2 + np.array([x[1], x[0], 0, 0])
    np.testing.assert_allclose(g, grad_expected, rtol=1e-12)
    np.testing.assert_allclose(hvp, H @ v, rtol=1e-12)


def test_grad_closing_over_an_outer_grads_tracer():
    # d/dx [d/dy (x y^2) at y = x] = d/dx (2 x^2) = 4 x
    assert cr.grad(lambda x: cr.grad(lambda y: x * y * y)(x))(3.0) == pytest.approx(12.0)


def test_argnums():
    def f(x, y, z):
        return np.sum(x * y) + z ** 2 * x[0]

    x, y, z = np.array([1.0, 2.0]), np.array([3.0, -1.0]), 1.5
    gx, gz = cr.grad(f, argnums=(0, 2))(x, y, z)
    np.testing.assert_allclose(gx, y + np.array([z ** 2, 0.0]))
    assert gz == pytest.approx(2 * z * x[0])
    np.testing.assert_allclose(cr.grad(f, argnums=1)(x, y, z), x)
    (gy,) = cr.grad(f, argnums=(1,))(x, y, z)
    np.testing.assert_allclose(gy, x)
    gz_neg = cr.grad(f, argnums=-1)(x, y, z)
    assert gz_neg == pytest.approx(2 * z * x[0])


def test_has_aux_and_value_and_grad():
    def f(x):
        y = np.sin(x)
        return np.sum(y * y), {"y": y, "n": 3}

    x = np.array([0.3, 1.1])
    g, aux = cr.grad(f, has_aux=True)(x)
    np.testing.assert_allclose(g, 2 * np.sin(x) * np.cos(x), rtol=1e-12)
    assert isinstance(aux["y"], np.ndarray)          # a value, not a tracer
    np.testing.assert_allclose(aux["y"], np.sin(x), rtol=1e-12)
    assert aux["n"] == 3

    (value, aux), g = cr.value_and_grad(f, has_aux=True)(x)
    assert value == pytest.approx(float(np.sum(np.sin(x) ** 2)))
    np.testing.assert_allclose(g, 2 * np.sin(x) * np.cos(x), rtol=1e-12)

    value, g = cr.value_and_grad(lambda x: np.sum(np.sin(x) ** 2))(x)
    assert value == pytest.approx(float(np.sum(np.sin(x) ** 2)))
    np.testing.assert_allclose(g, 2 * np.sin(x) * np.cos(x), rtol=1e-12)


def test_pytree_inputs():
    params = {"w": np.array([1.0, -2.0, 0.5]), "b": 0.7, "layers": [np.array([2.0]), (3.0,)]}
    x = np.array([0.5, 1.0, 2.0])

    def loss(p):
        y = np.sum(p["w"] * x) + p["b"]
        return y * y + np.sum(p["layers"][0]) * p["layers"][1][0]

    g = cr.grad(loss)(params)
    y = float(np.sum(params["w"] * x) + params["b"])
    assert set(g) == {"w", "b", "layers"}
    np.testing.assert_allclose(g["w"], 2 * y * x, rtol=1e-12)
    assert g["b"] == pytest.approx(2 * y)
    assert isinstance(g["layers"], list) and isinstance(g["layers"][1], tuple)
    np.testing.assert_allclose(g["layers"][0], [3.0])
    assert g["layers"][1][0] == pytest.approx(2.0)


def _check_linear(closed):
    """Every equation is linear in the program's inputs: no non-linear
    primitive, and mul/dot_general have one operand that depends on them at
    most, div only in the numerator."""
    linear = set(closed.ir.invars)
    for eqn in closed.eqns:
        name = eqn.primitive.name
        assert name not in NONLINEAR, f"non-linear {name} in a linear program:\n{closed}"
        deps = [isinstance(x, cr.Var) and x in linear for x in eqn.inputs]
        if name in ("mul", "dot_general"):
            assert sum(deps) <= 1, f"{eqn} multiplies two tangents"
        if name == "div":
            assert not deps[1], f"{eqn} divides by a tangent"
        if any(deps):
            linear.update(eqn.outvars)


def test_linearize_gives_a_linear_program():
    def f(x, y):
        return np.sin(x) * np.log(y) + np.exp(x * y) + np.tanh(x) / y

    x, y = np.array([0.3, 1.2, -0.7]), np.array([1.5, 0.5, 2.0])
    out, f_jvp = cr.linearize(f, x, y)
    np.testing.assert_allclose(out, np.sin(x) * np.log(y) + np.exp(x * y) + np.tanh(x) / y)
    names = prim_names(f_jvp.ir)
    assert not names & {"sin", "cos", "log", "exp", "tanh"}, names
    _check_linear(f_jvp.ir)
    # it is the JVP, and it is linear
    tx, ty = rng.standard_normal(3), rng.standard_normal(3)
    dfdx = (np.cos(x) * np.log(y) + y * np.exp(x * y) + (1 - np.tanh(x) ** 2) / y)
    dfdy = (np.sin(x) / y + x * np.exp(x * y) - np.tanh(x) / y ** 2)
    np.testing.assert_allclose(f_jvp(tx, ty), dfdx * tx + dfdy * ty, rtol=1e-12)
    combined = 2 * f_jvp(tx, 0 * ty) - 3 * f_jvp(0 * tx, ty)
    np.testing.assert_allclose(f_jvp(2 * tx, -3 * ty), combined, rtol=1e-12)


def test_make_ir_of_linearized_function_shows_the_linear_program():
    x = np.array([0.3, 1.2, -0.7])
    _, f_jvp = cr.linearize(lambda x: np.sin(x) * x, x)
    closed = cr.make_ir(f_jvp)(np.ones(3))
    text = str(closed)
    assert text.startswith("{ lambda ")
    assert "mul" in text and "sin" not in text and "cos" not in text
    _check_linear(closed)
    closed.check()
    t = rng.standard_normal(3)
    np.testing.assert_allclose(closed.eval(t), (np.cos(x) * x + np.sin(x)) * t, rtol=1e-12)


def test_linear_transpose():
    M = rng.standard_normal((3, 4))
    f_T = cr.linear_transpose(lambda x: 2 * x @ M, np.ones(3))
    ct = rng.standard_normal(4)
    (x_bar,) = f_T(ct)
    np.testing.assert_allclose(x_bar, 2 * M @ ct, rtol=1e-12)
    # a matrix input: X -> X @ M, transposed X_bar = Y_bar @ M^T
    f_T = cr.linear_transpose(lambda X: X @ M, np.ones((2, 3)))
    Y_bar = rng.standard_normal((2, 4))
    np.testing.assert_allclose(f_T(Y_bar)[0], Y_bar @ M.T, rtol=1e-12)


def test_unused_input_gets_a_symbolic_zero():
    def f(x, y):
        return np.sum(np.sin(x) * 3.0)

    x, y = np.array([0.1, 0.2, 0.3]), np.ones((2, 2), np.float32)
    gx, gy = cr.grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, 3 * np.cos(x), rtol=1e-12)
    assert gy.shape == (2, 2) and gy.dtype == np.float32 and not np.any(gy)
    closed = cr.make_ir(cr.grad(f, argnums=(0, 1)))(x, y)
    closed.check()
    y_var = closed.ir.invars[1]
    assert not any(y_var in e.inputs for e in closed.eqns)
    out_y = closed.ir.outvars[1]
    assert not any(out_y in e.outvars for e in closed.eqns), \
        f"an equation computes the zero gradient of y:\n{closed}"


def test_input_through_a_comparison_only_gets_a_symbolic_zero():
    # y only chooses a branch: its gradient is zero and nothing computes it
    def f(x, y):
        return np.sum(np.where(y > 0, np.sin(x), np.cos(x)))

    x, y = np.array([0.1, 0.2, 0.3]), np.array([1.0, -1.0, 2.0])
    gx, gy = cr.grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, np.where(y > 0, np.cos(x), -np.sin(x)), rtol=1e-12)
    np.testing.assert_array_equal(gy, np.zeros(3))
    closed = cr.make_ir(cr.grad(f, argnums=(0, 1)))(x, y)
    closed.check()
    out_y = closed.ir.outvars[1]
    assert not any(out_y in e.outvars for e in closed.eqns), \
        f"an equation computes the zero gradient of y:\n{closed}"
    # and the linear program of f has no tangent input for y's part
    _, f_jvp = cr.linearize(f, x, y)
    assert len(f_jvp.ir.ir.invars) == 2
    y_tangent = f_jvp.ir.ir.invars[1]
    assert not any(y_tangent in e.inputs for e in f_jvp.ir.eqns)


def test_aux_closing_over_an_outer_tracer_stays_differentiable():
    # the aux output x * 3 belongs to the enclosing grad: it must stay a
    # tracer there, so d/dx sum(3 x) = 3 (not 0)
    x = np.array([1.0, 2.0, 3.0])

    def outer(x):
        _, aux = cr.grad(lambda y: (cnp.sum(y * y), x * 3.0), has_aux=True)(x)
        return cnp.sum(aux)

    np.testing.assert_allclose(cr.grad(outer)(x), [3.0, 3.0, 3.0])

    def outer_value_and_grad(x):
        (_, aux), _ = cr.value_and_grad(lambda y: (cnp.sum(y * y), x * 3.0 + y),
                                        has_aux=True)(x)
        return cnp.sum(aux)

    # aux = 3x + y with y = x: d/dx sum(4 x) = 4
    np.testing.assert_allclose(cr.grad(outer_value_and_grad)(x), [4.0, 4.0, 4.0])


def test_linearized_function_checks_tangent_shapes():
    _, f_jvp = cr.linearize(np.sin, np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match=r"tangent of shape \(2, 3\) was given for primal 0 of shape \(3,\)"):
        f_jvp(np.ones((2, 3)))
