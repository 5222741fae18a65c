"""chainrule.scipy.special's special functions: values against math and
hand-derived identities, derivatives by check_grads (both modes, order 2),
vmap against a loop, jit against eager, and (when SciPy is importable) the
values of SciPy and plain ``scipy.special.f(tracer)``."""
import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.scipy.special as S

X = np.array([0.7, 1.3, 2.5])
P = np.array([0.2, 0.4, 0.9])


def test_values_from_identities():
    # gamma(1/2) = sqrt(pi); psi(1) = -Euler's gamma; psi'(1) = pi^2/6; psi''(1) = -2 zeta(3)
    assert np.isclose(S.gamma(0.5), math.sqrt(math.pi), rtol=1e-14)
    assert np.isclose(S.digamma(1.0), -0.5772156649015329, rtol=1e-14)
    assert np.isclose(S.polygamma(1, 1.0), math.pi ** 2 / 6, rtol=1e-14)
    assert np.isclose(S.polygamma(2, 1.0), -2 * 1.2020569031595942, rtol=1e-13)
    # B(2, 3) = 1! 2! / 4! = 1/12; multigammaln(a, 1) = gammaln(a)
    assert np.isclose(S.beta(2.0, 3.0), 1 / 12, rtol=1e-14)
    assert np.isclose(S.multigammaln(2.5, 1), math.lgamma(2.5), rtol=1e-14)
    # ndtr(0) = 1/2, ndtri(0.975) = 1.959963984540054, erfinv(erf(0.3)) = 0.3
    assert S.ndtr(0.0) == 0.5
    assert np.isclose(S.ndtri(0.975), 1.959963984540054, rtol=1e-14)
    assert np.isclose(S.erfinv(math.erf(0.3)), 0.3, rtol=1e-14)
    assert np.isclose(S.erfcinv(math.erfc(2.0)), 2.0, rtol=1e-13)
    # log_ndtr(-40) ~ -x^2/2 - log(-x sqrt(2 pi)) + log(1 - 1/x^2 + 3/x^4)
    x = -40.0
    assert np.isclose(S.log_ndtr(x), -x * x / 2 - math.log(-x * math.sqrt(2 * math.pi))
                      + math.log(1 - 1 / x ** 2 + 3 / x ** 4 - 15 / x ** 6), rtol=1e-14)
    assert np.allclose(S.i0(X), np.i0(X), rtol=1e-14)
    # I1(x) = sum (x/2)^(2k+1)/(k!(k+1)!)
    i1 = [sum((v / 2) ** (2 * k + 1) / (math.factorial(k) * math.factorial(k + 1))
              for k in range(40)) for v in X]
    assert np.allclose(S.i1(X), i1, rtol=1e-14)
    assert S.xlogy(0.0, 0.0) == 0.0 and S.entr(0.0) == 0.0 and S.entr(-1.0) == -np.inf
    assert np.isclose(S.kl_div(2.0, 1.0), 2 * math.log(2) - 1, rtol=1e-14)
    assert S.rel_entr(0.0, 1.0) == 0.0 and S.kl_div(1.0, -1.0) == np.inf
    assert S.rgamma(-2.0) == 0.0 and np.isclose(S.rgamma(4.0), 1 / 6, rtol=1e-14)


UNARY = ["gammaln", "digamma", "gamma", "rgamma", "erf", "erfc", "ndtr", "log_ndtr",
         "i0", "i1", "i0e", "i1e", "entr"]
ON_P = ["erfinv", "erfcinv", "ndtri"]
BINARY = ["xlogy", "xlog1py", "kl_div", "rel_entr", "beta", "betaln"]


@pytest.mark.parametrize("name", UNARY + ON_P + BINARY + ["polygamma", "multigammaln"])
def test_grads_vmap_jit(name):
    f = getattr(S, name)
    if name == "polygamma":
        f, args = (lambda x: S.polygamma(2, x)), (X,)
    elif name == "multigammaln":
        f, args = (lambda a: S.multigammaln(a, 3)), (X + 2,)
    else:
        args = (P,) if name in ON_P else (X, P) if name in BINARY else (X,)
    cr.check_grads(f, args, order=2, modes=("fwd", "rev"))
    loop = np.stack([f(*[a[i] for a in args]) for i in range(3)])
    np.testing.assert_allclose(cr.vmap(f)(*args), loop, rtol=1e-14)
    np.testing.assert_allclose(cr.jit(f)(*args), f(*args), rtol=1e-14)


def test_polygamma_needs_a_constant_order():
    with pytest.raises(TypeError, match="constant integer"):
        S.polygamma(1.5, X)


def test_equal_to_scipy_and_plain_scipy_on_tracers():
    # SciPy is not a dependency of chainrule (a fresh clone's tests run
    # without it); the checks above stand without it, this one adds SciPy's
    # own values and its ufuncs on tracers where it is installed
    sp = pytest.importorskip("scipy.special")
    for name in UNARY + ON_P:
        arg = P if name in ON_P else X
        np.testing.assert_allclose(getattr(S, name)(arg), getattr(sp, name)(arg), rtol=1e-13)
        traced = cr.make_ir(lambda v: getattr(sp, name)(v))(arg).eval(arg)
        np.testing.assert_allclose(traced, getattr(sp, name)(arg), rtol=1e-13)
    for name in BINARY:
        np.testing.assert_allclose(getattr(S, name)(X, P), getattr(sp, name)(X, P), rtol=1e-13)
    np.testing.assert_allclose(cr.grad(lambda v: sp.gammaln(v).sum())(X), sp.digamma(X),
                               rtol=1e-13)
