"""Special functions as elementwise primitives: the log-gamma function and
its derivatives (``lgamma``, ``digamma``, ``polygamma``), ``gamma``, the
error function and its inverse (``erf``, ``erfc``, ``erf_inv``), the normal
distribution's quantile and log-CDF (``ndtri``, ``log_ndtr``), the
exponentially scaled modified Bessel functions ``i0e`` and ``i1e``, and the
products ``xlogy`` and ``xlog1py`` that are 0 where ``x`` is 0.

Each primitive is one definition with its NumPy implementation and its JVP
rule below it; the rule multiplies the tangent by the derivative, so the
transpose comes from ``mul``'s.  The derivatives close the family: ``lgamma'
= digamma``, ``digamma' = polygamma(1)``, ``polygamma(n)' = polygamma(n+1)``,
``i0e' = i1e - sign(x) i0e``, ``i1e' = i0e - (1/x + sign(x)) i1e``; the
others are exponentials (``erf' = 2/sqrt(pi) exp(-x^2)``,
``ndtri' = sqrt(2 pi) exp(ndtri^2 / 2)``).

The implementations use only NumPy and ``math`` (SciPy is no dependency):
``math.lgamma``, ``math.gamma``, ``math.erf`` and ``math.erfc`` elementwise;
``digamma`` and ``polygamma`` by the recurrence ``psi(x + 1) = psi(x) + 1/x``
(to move x past 20) then the asymptotic (Euler-Maclaurin) series; the
inverses by Newton's method from a starting point on the safe side of the
root; the Bessel functions by their power series for |x| <= 25 and by
their asymptotic series beyond.  Values are computed in float64 and cast to
the operand's dtype.
"""
from __future__ import annotations

import math

import numpy as np

from ..tracer.core import bind, get_aval
from ..tracer.errors import ShapeError
from ._ad import defjvp, scalar
from ._define import _float_only, binary, cost_elementwise, elementwise, primitive, unary
from ._ops import PRIMITIVES, add, div, eq, exp, mul, neg, select, sign, square, sub

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _f64(f):
    """``f`` on float64 values, its result cast back to ``x``'s dtype."""
    def impl(x, **params):
        x = np.asarray(x)
        return np.asarray(f(x.astype(np.float64), **params)).astype(x.dtype)[()]
    return impl


def _each(f):
    """A scalar ``math`` function applied to every element."""
    vf = np.frompyfunc(f, 1, 1)
    return lambda x: np.asarray(vf(x), np.float64)


def _log(x): return bind(PRIMITIVES["log"], x)
def _log1p(x): return bind(PRIMITIVES["log1p"], x)


# -- lgamma, digamma, polygamma, gamma -------------------------------------------
def _lgamma_scalar(v):
    if v <= 0 and v == math.floor(v) or math.isinf(v):
        return math.inf     # poles (and +-inf), as SciPy's gammaln
    return math.lgamma(v) if not math.isnan(v) else v


def _digamma(x):
    # x < 0.5: reflection psi(x) = psi(1 - x) - pi / tan(pi x)
    refl = x < 0.5
    w = np.where(refl, 1.0 - x, x)
    acc = np.zeros_like(w)
    for _ in range(20):                      # psi(w) = psi(w + 1) - 1/w until w >= 20
        small = w < 20.0
        acc = acc - np.where(small, 1.0 / np.where(small, w, 1.0), 0.0)
        w = np.where(small, w + 1.0, w)
    r = 1.0 / (w * w)   # ln w - 1/(2w) - sum B_2k / (2k w^2k), Bernoulli numbers B_2..B_12
    tail = r * (1/12 - r * (1/120 - r * (1/252 - r * (1/240 - r * (1/132 - r * 691/32760)))))
    psi = acc + np.log(w) - 0.5 / w - tail
    with np.errstate(divide="ignore", invalid="ignore"):
        psi = np.where(refl, psi - np.pi / np.tan(np.pi * x), psi)
    pole = (x <= 0) & (x == np.floor(x))
    return np.where(pole, np.where(x == 0, -np.inf, np.nan), psi)


# B_2k / (2k)! for k = 1..8: the Euler-Maclaurin coefficients of the tail
_EM = [1/6 / 2, -1/30 / 24, 1/42 / 720, -1/30 / 40320, 5/66 / 3628800,
       -691/2730 / 479001600, 7/6 / 87178291200, -3617/510 / 20922789888000]


def _polygamma(x, *, n):
    # psi^(n)(x) = (-1)^(n+1) n! zeta(n + 1, x), Hurwitz's zeta summed as
    # sum_{k<N} (x+k)^-s plus the Euler-Maclaurin tail at w = x + N >= 20 + n.
    # The shift also serves negative non-integer x; SciPy gives inf or nan at
    # the poles, here inf.
    s = n + 1
    shift = np.maximum(np.ceil(20.0 + n - x), 0.0)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    total = np.zeros_like(x)
    with np.errstate(divide="ignore"):
        for k in range(int(shift.max(initial=0.0))):
            total = total + np.where(k < shift, (x + k) ** -float(s), 0.0)
    w = x + shift
    total = total + w ** (1.0 - s) / (s - 1) + 0.5 * w ** -float(s)
    rising = float(s)                            # s (s + 1) ... (s + 2j - 2)
    for j, c in enumerate(_EM, start=1):
        total = total + c * rising * w ** (-s - 2.0 * j + 1)
        rising *= (s + 2 * j - 1) * (s + 2 * j)
    return (-1.0) ** (n + 1) * math.factorial(n) * total


def _gamma_scalar(v):
    if v <= 0 and v == math.floor(v):
        return math.inf if v == 0 else math.nan      # as SciPy: gamma(0) inf, gamma(-1) nan
    if v > 171.7:
        return math.inf
    return math.gamma(v) if not math.isnan(v) and v != -math.inf else math.nan


lgamma_p = unary("lgamma", _f64(_each(_lgamma_scalar)))
digamma_p = unary("digamma", _f64(_digamma))
gamma_p = unary("gamma", _f64(_each(_gamma_scalar)))


def _polygamma_shape(x, *, n):
    if not isinstance(n, int) or n < 1:
        raise ShapeError(f"polygamma needs an integer order n >= 1 (n = 0 is digamma), got {n!r}")
    return _float_only("polygamma")(x)


polygamma_p = elementwise(primitive("polygamma", _f64(_polygamma), _polygamma_shape,
                                    cost=cost_elementwise))
defjvp(lgamma_p, lambda t, x, y: mul(t, bind(digamma_p, x)))            # lgamma' = psi
defjvp(digamma_p, lambda t, x, y: mul(t, bind(polygamma_p, x, n=1)))    # psi' = psi^(1)
defjvp(polygamma_p, lambda t, x, y, *, n: mul(t, bind(polygamma_p, x, n=n + 1)))
defjvp(gamma_p, lambda t, x, y: mul(t, mul(y, bind(digamma_p, x))))     # gamma' = gamma psi


# -- erf, erfc, erf_inv, ndtri, log_ndtr ----------------------------------------
_erf = _each(math.erf)
_erfc = _each(math.erfc)
erf_p = unary("erf", _f64(_erf))
erfc_p = unary("erfc", _f64(_erfc))
# erf' = 2/sqrt(pi) exp(-x^2); erfc' = -erf'
defjvp(erf_p, lambda t, x, y: mul(t, mul(scalar(2 / math.sqrt(math.pi), x), exp(neg(square(x))))))
defjvp(erfc_p, lambda t, x, y: mul(t, mul(scalar(-2 / math.sqrt(math.pi), x),
                                         exp(neg(square(x))))))


def _erfinv_central(q):
    """erf(z) = q for |q| <= 0.5 by Newton from z = q sqrt(pi)/2 (erf is
    convex-concave there with slope near 2/sqrt(pi): a few steps suffice)."""
    z = q * (math.sqrt(math.pi) / 2)
    for _ in range(8):
        z = z - (_erf(z) - q) * (math.sqrt(math.pi) / 2) * np.exp(z * z)
    return z


def _ndtri_lower(p):
    """ndtr(z) = p for 0 < p <= 0.5 by Newton on log ndtr(z) = log p.  log
    ndtr is concave and increasing, so from z0 = -sqrt(-2 log p), left of the
    root (ndtr(z0) < phi(z0)/|z0| < p), each step stays left and converges."""
    logp = np.log(p)
    z = -np.sqrt(-2 * logp)
    for _ in range(60):
        cdf = 0.5 * _erfc(-z / math.sqrt(2))
        step = (np.log(cdf) - logp) * cdf * np.exp(0.5 * z * z + _LOG_SQRT_2PI)
        z = z - step
        if not np.any(np.abs(step) > 1e-15 * np.abs(z)):
            break
    return z


def _ndtri(p):
    central = np.abs(p - 0.5) <= 0.25
    mid = math.sqrt(2) * _erfinv_central(np.where(central, 2 * (p - 0.5), 0.0))
    lower = np.minimum(p, 1.0 - p)           # 1 - p is exact for p >= 0.5
    ok = (lower > 0) & ~central
    tail = _ndtri_lower(np.where(ok, lower, 0.25))
    tail = np.where(p > 0.5, -tail, tail)
    out = np.where(central, mid, np.where(ok, tail, np.nan))
    out = np.where(p == 0, -np.inf, np.where(p == 1, np.inf, out))
    return out


def _erf_inv(x):
    central = np.abs(x) <= 0.5
    mid = _erfinv_central(np.where(central, x, 0.0))
    far = -_ndtri(np.where(central, 0.25, (1.0 - np.abs(x)) / 2)) / math.sqrt(2)
    far = np.where(np.abs(x) > 1, np.nan, far)
    return np.where(central, mid, np.sign(x) * far)


ndtri_p = unary("ndtri", _f64(_ndtri))
erf_inv_p = unary("erf_inv", _f64(_erf_inv))
# ndtri' = 1 / phi(z) = exp(z^2/2 + log sqrt(2 pi));  erfinv' = sqrt(pi)/2 exp(z^2)
defjvp(ndtri_p, lambda t, p, z: mul(t, exp(add(mul(scalar(0.5, z), square(z)),
                                               scalar(_LOG_SQRT_2PI, z)))))
defjvp(erf_inv_p, lambda t, x, z: mul(t, mul(scalar(math.sqrt(math.pi) / 2, z),
                                            exp(square(z)))))


def _log_ndtr(x):
    # x > 0: log1p(-ndtr(-x)), precise near 0.  -30 <= x <= 0: the log of
    # erfc, which is precise there.  x < -30: the asymptotic series
    # log phi(x) - log(-x) + log(1 - 1/x^2 + 3/x^4 - 15/x^6 + ...).
    pos = _erfc(np.abs(x) / math.sqrt(2)) * 0.5
    with np.errstate(divide="ignore"):
        near = np.where(x > 0, np.log1p(-pos), np.log(pos))
    far_x = np.where(x < -30, x, -31.0)
    r = 1.0 / (far_x * far_x)
    series, term = np.ones_like(x), np.ones_like(x)
    for k in range(1, 12):
        term = -term * (2 * k - 1) * r
        series = series + term
    far = -0.5 * far_x * far_x - _LOG_SQRT_2PI - np.log(-far_x) + np.log(series)
    return np.where(x < -30, far, near)


log_ndtr_p = unary("log_ndtr", _f64(_log_ndtr))
# (log ndtr)' = phi(x) / ndtr(x) = exp(-x^2/2 - log sqrt(2 pi) - log_ndtr(x)): no overflow
defjvp(log_ndtr_p, lambda t, x, y: mul(t, exp(sub(neg(add(mul(scalar(0.5, x), square(x)),
                                                          scalar(_LOG_SQRT_2PI, x))), y))))


# -- i0e, i1e: exp(-|x|) I_0(x), exp(-|x|) I_1(x) ----------------------------------
def _bessel_ie(x, *, order):
    a = np.abs(x)
    small = a <= 25.0
    s = np.where(small, a, 0.0)
    half2 = 0.25 * s * s                  # I_n(x) = sum (x/2)^(2k+n) / (k! (k+n)!)
    term = np.ones_like(s) if order == 0 else 0.5 * s
    total = term
    for k in range(1, 90):
        term = term * half2 / (k * (k + order))
        total = total + term
    series = total * np.exp(-s)
    big = np.where(small, 30.0, a)        # e^-x I_n(x) ~ (2 pi x)^-1/2 sum (-1)^k a_k / x^k
    mu, term, total = 4.0 * order * order, np.ones_like(big), np.ones_like(big)
    for k in range(1, 40):
        term = -term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * big)
        total = total + term
    asym = total / np.sqrt(2 * np.pi * big)
    out = np.where(small, series, asym)
    return out if order == 0 else np.sign(x) * out    # I_1 is odd


i0e_p = unary("i0e", _f64(lambda x: _bessel_ie(x, order=0)))
i1e_p = unary("i1e", _f64(lambda x: _bessel_ie(x, order=1)))
# (e^-|x| I0)' = e^-|x| (I1 - sign(x) I0), as I0' = I1
defjvp(i0e_p, lambda t, x, y: mul(t, sub(bind(i1e_p, x), mul(sign(x), y))))


def _like(value, x):
    """The constant ``value`` at ``x``'s shape and dtype (a case of ``select``)."""
    aval = get_aval(x)
    return np.full(aval.shape, value, aval.dtype) if aval.shape else scalar(value, x)


def _i1e_slope(t, x, y):
    # (e^-|x| I1)' = e^-|x| (I0 - I1/x) - sign(x) e^-|x| I1, as I1' = I0 - I1/x.
    # I1(x)/x -> 1/2 at 0, where x is replaced by 1 and the ratio by 1/2.
    at_zero = eq(x, scalar(0, x))
    ratio = select(at_zero, _like(0.5, x), div(y, select(at_zero, _like(1, x), x)))
    return mul(t, sub(sub(bind(i0e_p, x), ratio), mul(sign(x), y)))


defjvp(i1e_p, _i1e_slope)


# -- xlogy, xlog1py: x log(y), x log1p(y), 0 where x = 0 ---------------------------
def _xlog(f):
    def impl(x, y):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(x == 0, np.zeros((), x.dtype), x * f(y))
        return np.where(np.isnan(y), y, out).astype(x.dtype)[()]
    return impl


def _x_over(x, d):
    """x / d, 0 where x = 0 (d may be 0 there): the partial in y."""
    zero = eq(x, scalar(0, x))
    return select(zero, _like(0, x), div(x, select(zero, _like(1, x), d)))


xlogy_p = binary("xlogy", _xlog(np.log), float_only=True)
xlog1py_p = binary("xlog1py", _xlog(np.log1p), float_only=True)
# d(x log y) = log(y) dx + x/y dy;  d(x log1p y) = log1p(y) dx + x/(1 + y) dy
defjvp(xlogy_p, lambda t, x, y, z: mul(t, _log(y)),
       lambda t, x, y, z: mul(t, _x_over(x, y)))
defjvp(xlog1py_p, lambda t, x, y, z: mul(t, _log1p(y)),
       lambda t, x, y, z: mul(t, _x_over(x, add(scalar(1, y), y))))
