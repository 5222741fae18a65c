"""``cr.config.debug_nans``: evaluation stops at the first equation that makes
a NaN or an infinity from finite inputs, and the error names the primitive,
its inputs and the user's line, or the line whose derivative made it."""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp


@pytest.fixture(autouse=True)
def quiet_numpy_and_restored_options():
    before = cr.config.values()
    with np.errstate(all="ignore"):
        yield
    for name, value in before.items():
        cr.config.update(name, value)


def line_of(f, text):
    """The line number of the line of ``f`` that holds ``text``."""
    lines, start = inspect.getsourcelines(f)
    (k,) = [k for k, line in enumerate(lines) if text in line]
    return start + k


def program(m):
    """A program of about 50 equations, written with the NumPy module ``m``,
    that takes the log of a negative number (``x`` stays in [-1, 1])."""

    def fifty(x):
        for _ in range(12):
            x = m.sin(x) * 0.9 + 0.1
        y = m.log(x - 2.0)
        for _ in range(4):
            y = m.cos(y) * 1.1 + 0.2
        return m.sum(y)

    return fifty


fifty = program(cnp)
fifty_np = program(np)
LOG_LINE = line_of(fifty, "m.log(x - 2.0)")
X = np.linspace(-1.0, 1.0, 5)

RUNS = {
    "eager": lambda f: f(X),
    "grad": lambda f: cr.grad(f)(X),
    "value_and_grad": lambda f: cr.value_and_grad(f)(X),
    "jvp": lambda f: cr.jvp(f, (X,), (np.ones(5),)),
    "vjp": lambda f: cr.vjp(f, X),
    "linearize": lambda f: cr.linearize(f, X),
    "ClosedIR.eval": lambda f: cr.make_ir(f)(X).eval(X),
    "vmap": lambda f: cr.vmap(f)(np.stack([X, X])),
    "jacfwd": lambda f: cr.jacfwd(f)(X),
    "jacrev": lambda f: cr.jacrev(f)(X),
    "jacobian": lambda f: cr.jacobian(f)(X),
    "hessian": lambda f: cr.hessian(f)(X),
}


def test_the_program_has_fifty_equations():
    closed = cr.make_ir(fifty)(X)
    assert len(closed.eqns) >= 50
    assert [e.primitive.name for e in closed.eqns].count("log") == 1


def test_off_by_default_the_nan_is_silent():
    cr.config.update("debug_nans", False)
    assert np.isnan(fifty(X)) and np.all(np.isnan(cr.grad(fifty)(X)))


# (plain NumPy called eagerly on arrays does not reach chainrule: no such case)
@pytest.mark.parametrize("f, run", [
    pytest.param(f, run, id=f"{name}-{run}")
    for f, name in ((fifty, "chainrule.numpy"), (fifty_np, "numpy")) for run in RUNS
    if not (run == "eager" and f is fifty_np)])
def test_the_log_of_a_negative_number_is_found_and_named(f, run):
    cr.config.update("debug_nans", True)
    with pytest.raises(cr.NonFiniteError) as error:
        RUNS[run](f)
    message = str(error.value)
    assert isinstance(error.value, FloatingPointError)
    assert isinstance(error.value, cr.ChainruleError)
    assert message.startswith("debug_nans: log produced nan from finite inputs")
    assert f"  at {__file__}:{LOG_LINE}, in fifty\n    y = m.log(x - 2.0)" in message
    assert "derivative" not in message
    assert "inputs of log:" in message and ", finite" in message
    assert "nan (of 5 values), the first at index (0,)" in message or run == "vmap"


def test_the_inputs_and_outputs_are_summarized():
    cr.config.update("debug_nans", True)
    with pytest.raises(cr.NonFiniteError) as error:
        cnp.log(np.linspace(-2.0, 8.0, 11))
    lines = str(error.value).splitlines()
    assert lines[3:7] == [
        "  inputs of log:",
        "    0: f64[11] [-2, -1, 0, ..., 6, 7, 8] min -2 max 8, finite",
        "  output:",
        "    0: f64[11] [nan, nan, -inf, ..., 1.79176, 1.94591, 2.07944] min 0 max 2.07944, "
        "2 nan and 1 inf (of 11 values), the first at index (0,)"]
    assert lines[0] == "debug_nans: log produced nan and inf from finite inputs"


def test_nan_in_the_inputs_is_not_blamed_on_an_equation():
    cr.config.update("debug_nans", True)

    def f(x, y):
        a = np.sin(x) * 2.0          # x holds a nan: not this equation's doing
        b = np.log(y)                # y is negative: this one made the nan
        return np.sum(a) + np.sum(b)

    x = np.array([np.nan, 1.0])
    assert np.isnan(cr.grad(lambda x: np.sum(np.sin(x) * 2.0))(x)[0])
    with pytest.raises(cr.NonFiniteError, match="log produced nan") as error:
        cr.grad(f, argnums=(0, 1))(x, np.array([-1.0, 1.0]))
    assert f":{line_of(f, 'np.log(y)')}, in f" in str(error.value)


def test_an_infinity_is_found_too():
    cr.config.update("debug_nans", True)

    def f(x):
        return np.sum(np.exp(x * 1000.0))

    with pytest.raises(cr.NonFiniteError, match="exp produced inf") as error:
        cr.grad(f)(np.array([0.5, 1.0]))
    assert f":{line_of(f, 'np.exp')}, in f" in str(error.value)


def sqrt_sum(x):
    return np.sum(np.sqrt(x))


SQRT_LINE = line_of(sqrt_sum, "np.sqrt")
AT_ZERO = np.array([0.0, 1.0, 4.0])
DERIVATIVE = f"in the derivative of the equation at {__file__}:{SQRT_LINE}, in sqrt_sum"


@pytest.mark.parametrize("run", [
    pytest.param(lambda: cr.grad(sqrt_sum)(AT_ZERO), id="grad"),
    pytest.param(lambda: cr.vjp(sqrt_sum, AT_ZERO)[1](1.0), id="vjp"),
    pytest.param(lambda: cr.jvp(sqrt_sum, (AT_ZERO,), (np.ones(3),)), id="jvp"),
    pytest.param(lambda: cr.linearize(sqrt_sum, AT_ZERO)[1](np.ones(3)), id="linearize"),
    pytest.param(lambda: cr.jacrev(lambda x: np.sqrt(x))(AT_ZERO), id="jacrev"),
    pytest.param(lambda: cr.jacobian(lambda x: np.sqrt(x))(AT_ZERO), id="jacobian"),
    pytest.param(lambda: cr.make_ir(cr.grad(sqrt_sum))(AT_ZERO).eval(AT_ZERO),
                 id="make_ir(grad).eval"),
])
def test_a_nan_of_the_derivative_names_the_forward_line(run):
    # sqrt(0) = 0 is fine; its derivative 1 / (2 sqrt(0)) is not
    cr.config.update("debug_nans", True)
    assert sqrt_sum(AT_ZERO) == 3.0
    assert cr.make_ir(sqrt_sum)(AT_ZERO).eval(AT_ZERO) == 3.0
    with pytest.raises(cr.NonFiniteError) as error:
        run()
    message = str(error.value)
    assert message.startswith("debug_nans: div produced")
    if "lambda" in message:   # (the jacobians differentiate a lambda on the same line)
        assert "in the derivative of the equation at" in message
    else:
        assert DERIVATIVE in message, message
    assert "\n    return np.sum(np.sqrt(x))" in message or "np.sqrt(x)" in message


def test_a_vjp_function_names_the_derivative_even_when_made_with_the_option_off():
    cr.config.update("debug_nans", False)
    _, vjp_fn = cr.vjp(sqrt_sum, AT_ZERO)
    _, f_jvp = cr.linearize(sqrt_sum, AT_ZERO)
    with cr.config.override(debug_nans=True):
        with pytest.raises(cr.NonFiniteError) as error:
            vjp_fn(1.0)
        assert DERIVATIVE in str(error.value)
        # a linear program recorded with the option off names the line only
        with pytest.raises(cr.NonFiniteError) as error:
            f_jvp(np.ones(3))
        assert f"  at {__file__}:{SQRT_LINE}, in sqrt_sum" in str(error.value)


def test_several_results_and_complex_values():
    cr.config.update("debug_nans", True)
    with pytest.raises(cr.NonFiniteError, match="slogdet produced inf in output 1"):
        cnp.linalg.slogdet(np.ones((2, 2)))
    with pytest.raises(cr.NonFiniteError, match="log produced inf") as error:
        cnp.log(np.array([0j, 1j]))
    assert "c128[2] [0+0j, 0+1j], finite" in str(error.value)


def test_finite_programs_are_unchanged():
    def f(x, W):
        h = np.tanh(W @ x)
        return np.sum(h ** 2) + np.linalg.norm(x)

    r = np.random.default_rng(0)
    x, W = r.normal(size=4), r.normal(size=(3, 4))
    cr.config.update("debug_nans", False)
    want = cr.grad(f, argnums=(0, 1))(x, W), cr.jacfwd(f)(x, W), cr.hessian(f)(x, W)
    with cr.config.override(debug_nans=True):
        got = cr.grad(f, argnums=(0, 1))(x, W), cr.jacfwd(f)(x, W), cr.hessian(f)(x, W)
    for a, b in zip(cr.tree_leaves(want), cr.tree_leaves(got)):
        np.testing.assert_array_equal(a, b)
