"""``chainrule.scipy.special``: logsumexp, softmax, log_softmax, expit,
log_expit, logit, the gamma family (gammaln, digamma, polygamma, gamma,
rgamma, beta, betaln, multigammaln), the error functions (erf, erfc, erfinv,
erfcinv, ndtr, ndtri, log_ndtr), the Bessel functions i0, i1, i0e, i1e and
the entropies (xlogy, xlog1py, entr, rel_entr, kl_div), with SciPy's
signatures and values.  Each is a primitive of ``chainrule.primitives.special``
or a short composition of them, differentiable where SciPy's is smooth.
SciPy's ufuncs called on traced values (``scipy.special.erf(t)``) come here
through ``SCIPY_UFUNCS`` (see ``chainrule.numpy._dispatch``).

Numerical stability.  ``logsumexp`` and the softmaxes subtract the maximum
``m`` before exponentiating, so that no ``exp`` overflows (every exponent is
at most 0) and the sum is at least 1.  ``m`` goes through
``stop_gradient``: the results do not depend on it mathematically
(``log sum exp(x) = m + log sum exp(x - m)`` for any m), so no derivative is
taken through the max and its ties need no rule.  ``expit`` is the
``logistic`` primitive, which never computes ``exp`` of a positive number.
All of them give finite values and derivatives at |x| = 1000.
"""
from __future__ import annotations

import numpy as np

from .. import numpy as cnp
from .. import primitives as P
from ..numpy._dispatch import SCIPY_UFUNCS
from ..numpy._util import asarray, cast, dtype_of, elementwise_operands, normalize_axes
from ..tracer.core import bind


def _float(x):
    x = asarray(x)
    return x if np.issubdtype(x.dtype, np.inexact) else cast(x, np.float64)


def _shift(a, axes, keepdims=True):
    """The maximum over ``axes``, without derivative (``a`` goes through
    ``stop_gradient`` first, so the max is not differentiated at all), and
    0 where it is not finite (all -inf, or inf), as SciPy does."""
    m = bind(P.stop_gradient_p, a)
    if axes:
        m = cnp.max(m, axis=axes, keepdims=keepdims)
    return cnp.where(cnp.isfinite(m), m, np.asarray(0, m.dtype)[()])


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """``log(sum(b * exp(a)))`` over ``axis``, computed as ``m + log(sum(b *
    exp(a - m)))`` with ``m`` the (gradient-stopped) maximum.  Its derivative
    is ``b * exp(a - logsumexp)``, the softmax.  With ``return_sign`` it
    returns ``(log|s|, sign(s))`` for a sum ``s`` that may be negative."""
    a = _float(a)
    if b is not None:
        a = cast(a, np.result_type(a.dtype, cnp._util.dtype_of(b)))
    axes = normalize_axes(axis, a.ndim)
    m = _shift(a, axes, keepdims=False)
    m_kept = bind(P.expand_dims_p, m, dimensions=axes) if axes else m
    e = cnp.exp(cnp.subtract(a, m_kept))
    if b is not None:
        e = cnp.multiply(b, e)
    s = cnp.sum(e, axis=axes)
    sign = None
    if return_sign:
        sign = cnp.sign(s)
        s = cnp.absolute(s)
    out = cnp.add(cnp.log(s), m)
    if keepdims and axes:
        out = bind(P.expand_dims_p, out, dimensions=axes)
        sign = bind(P.expand_dims_p, sign, dimensions=axes) if return_sign else None
    return (out, sign) if return_sign else out


def softmax(x, axis=None):
    """``exp(x - m) / sum(exp(x - m))`` over ``axis`` (SciPy's default: all
    elements), ``m`` the gradient-stopped maximum."""
    x = _float(x)
    axes = normalize_axes(axis, x.ndim)
    e = cnp.exp(cnp.subtract(x, _shift(x, axes)))
    return cnp.divide(e, cnp.sum(e, axis=axes, keepdims=True))


def log_softmax(x, axis=None):
    """``(x - m) - log(sum(exp(x - m)))`` over ``axis`` (default: all
    elements): finite where ``log(softmax(x))`` underflows to -inf."""
    x = _float(x)
    axes = normalize_axes(axis, x.ndim)
    shifted = cnp.subtract(x, _shift(x, axes))
    return cnp.subtract(shifted, cnp.log(cnp.sum(cnp.exp(shifted), axis=axes, keepdims=True)))


def expit(x):
    """The logistic sigmoid ``1 / (1 + exp(-x))``, as the ``logistic``
    primitive (derivative ``s (1 - s)``)."""
    return bind(P.logistic_p, _float(x))


def log_expit(x):
    """``log(expit(x)) = -logaddexp(0, -x)``: finite for large negative x,
    where ``log(expit(x))`` would be log 0."""
    x = _float(x)
    return cnp.negative(cnp.logaddexp(np.asarray(0, x.dtype)[()], cnp.negative(x)))


def logit(p):
    """``log(p / (1 - p)) = log(p) - log1p(-p)``, the inverse of expit;
    derivative ``1 / (p (1 - p))``."""
    p = _float(p)
    return cnp.subtract(cnp.log(p), cnp.log1p(cnp.negative(p)))


# -- the special-function primitives, with NumPy's casting and broadcasting ------
def _apply(name, prim, *args, **params):
    """``prim`` on ``args`` cast to their common floating dtype (integers
    become float64) and broadcast to one shape."""
    dtype = np.result_type(*[dtype_of(a) for a in args])
    if not np.issubdtype(dtype, np.inexact):
        dtype = np.dtype(np.float64)
    return bind(prim, *elementwise_operands(name, args, [dtype] * len(args)), **params)


def _ufunc(name, prim, doc):
    def fn(*args):
        return _apply(name, prim, *args)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    SCIPY_UFUNCS[name] = fn
    return fn


gammaln = _ufunc("gammaln", P.lgamma_p, "``log|gamma(x)|``; derivative digamma(x).")
digamma = _ufunc("digamma", P.digamma_p, "``psi(x) = gamma'(x)/gamma(x)``; derivative "
                 "polygamma(1, x).  (Relative precision is lower right at its root 1.4616.)")
psi = digamma
gamma = _ufunc("gamma", P.gamma_p, "``gamma(x)``; derivative gamma(x) digamma(x).")
erf = _ufunc("erf", P.erf_p, "The error function; derivative 2/sqrt(pi) exp(-x^2).")
erfc = _ufunc("erfc", P.erfc_p, "``1 - erf(x)``, precise where erf(x) is near 1.")
erfinv = _ufunc("erfinv", P.erf_inv_p, "The inverse of erf on (-1, 1); derivative "
                "sqrt(pi)/2 exp(erfinv(x)^2).")
ndtri = _ufunc("ndtri", P.ndtri_p, "The standard normal quantile (inverse of ndtr); "
               "derivative sqrt(2 pi) exp(ndtri(p)^2 / 2).")
log_ndtr = _ufunc("log_ndtr", P.log_ndtr_p, "``log(ndtr(x))``, finite down to x = -1e150; "
                  "derivative phi(x)/ndtr(x), computed without overflow.")
i0e = _ufunc("i0e", P.i0e_p, "``exp(-|x|) I0(x)``; derivative i1e(x) - sign(x) i0e(x).")
i1e = _ufunc("i1e", P.i1e_p, "``exp(-|x|) I1(x)``; derivative i0e(x) - (1/x + sign(x)) "
             "i1e(x) (1/2 at 0).")
xlogy = _ufunc("xlogy", P.xlogy_p, "``x log(y)``, 0 where x = 0 (even at y = 0); "
               "derivative (log y, x/y).")
xlog1py = _ufunc("xlog1py", P.xlog1py_p, "``x log1p(y)``, 0 where x = 0; derivative "
                 "(log1p y, x/(1+y)).")


def _floats(*args):
    dtype = np.result_type(*[dtype_of(a) for a in args])
    dtype = dtype if np.issubdtype(dtype, np.inexact) else np.dtype(np.float64)
    return elementwise_operands("scipy.special", args, [dtype] * len(args))


def polygamma(n, x):
    """``psi^(n)(x)``, the n-th derivative of digamma, for a constant integer
    ``n >= 0`` (n = 0 is digamma); derivative polygamma(n + 1, x)."""
    n_arr = None if hasattr(n, "_var") else np.asarray(n)
    if n_arr is None or n_arr.ndim or not np.isreal(n_arr) or n_arr != np.floor(n_arr):
        raise TypeError("chainrule.scipy.special.polygamma needs the order n as a constant "
                        f"integer, got {n!r}; call it once per order")
    n = int(n_arr)
    if n < 0:
        raise ValueError(f"polygamma: the order n must be >= 0, got {n}")
    return digamma(x) if n == 0 else _apply("polygamma", P.polygamma_p, x, n=int(n))


SCIPY_UFUNCS["polygamma"] = polygamma


def rgamma(x):
    """``1 / gamma(x)``: 0 at the poles 0, -1, -2, ... and for large x (where
    gamma overflows), as ``sign(gamma(x)) exp(-gammaln(x))``.  Derivative
    -rgamma(x) digamma(x); at the poles taken as 0 (SciPy's rgamma has slope
    +-n! there)."""
    (x,) = _floats(x)
    pole = cnp.logical_and(cnp.less_equal(x, 0), cnp.equal(x, cnp.floor(x)))
    safe = cnp.where(pole, np.asarray(0.5, x.dtype)[()], x)
    sgn = cnp.sign(bind(P.stop_gradient_p, gamma(safe)))
    return cnp.where(pole, np.asarray(0, x.dtype)[()],
                     cnp.multiply(sgn, cnp.exp(cnp.negative(gammaln(safe)))))


SCIPY_UFUNCS["rgamma"] = rgamma


def betaln(a, b):
    """``log|B(a, b)| = gammaln(a) + gammaln(b) - gammaln(a + b)``."""
    a, b = _floats(a, b)
    return cnp.subtract(cnp.add(gammaln(a), gammaln(b)), gammaln(cnp.add(a, b)))


def beta(a, b):
    """``B(a, b) = gamma(a) gamma(b) / gamma(a + b)``, as ``sign * exp(betaln)``
    so that it does not overflow where the gammas do."""
    a, b = _floats(a, b)
    sg = [cnp.sign(bind(P.stop_gradient_p, gamma(v))) for v in (a, b, cnp.add(a, b))]
    return cnp.multiply(cnp.multiply(cnp.multiply(sg[0], sg[1]), sg[2]),
                        cnp.exp(betaln(a, b)))


SCIPY_UFUNCS["betaln"] = betaln
SCIPY_UFUNCS["beta"] = beta


def multigammaln(a, d):
    """The log of the multivariate gamma function of dimension ``d`` (a
    constant integer): ``d (d-1)/4 log(pi) + sum_{j=1..d} gammaln(a + (1 - j)/2)``.
    SciPy requires every ``a > (d - 1)/2``; that is checked for concrete ``a``."""
    d = int(d)
    (a,) = _floats(a)
    if not hasattr(a, "_var") and np.any(np.asarray(a) <= 0.5 * (d - 1)):
        raise ValueError(f"multigammaln: every a must be greater than (d - 1)/2 = {(d - 1) / 2}")
    out = np.asarray(d * (d - 1) / 4 * np.log(np.pi), a.dtype)[()]
    for j in range(1, d + 1):
        out = cnp.add(out, gammaln(cnp.add(a, np.asarray((1 - j) / 2, a.dtype)[()])))
    return out


def ndtr(x):
    """The standard normal CDF ``erfc(-x / sqrt 2) / 2``; derivative phi(x)."""
    (x,) = _floats(x)
    return cnp.multiply(np.asarray(0.5, x.dtype)[()],
                        erfc(cnp.multiply(x, np.asarray(-1 / np.sqrt(2), x.dtype)[()])))


def erfcinv(y):
    """The inverse of erfc on (0, 2): ``-ndtri(y / 2) / sqrt 2`` (y/2 is exact,
    so precise for small y)."""
    (y,) = _floats(y)
    return cnp.multiply(ndtri(cnp.multiply(y, np.asarray(0.5, y.dtype)[()])),
                        np.asarray(-1 / np.sqrt(2), y.dtype)[()])


def i0(x):
    """The modified Bessel function ``I0(x) = i0e(x) exp(|x|)``; derivative i1(x)."""
    (x,) = _floats(x)
    return cnp.multiply(i0e(x), cnp.exp(cnp.absolute(x)))


def i1(x):
    """``I1(x) = i1e(x) exp(|x|)``; derivative I0(x) - I1(x)/x."""
    (x,) = _floats(x)
    return cnp.multiply(i1e(x), cnp.exp(cnp.absolute(x)))


for _f in (ndtr, erfcinv, i0, i1):
    SCIPY_UFUNCS[_f.__name__] = _f


def entr(x):
    """``-x log x`` for x > 0, 0 at 0, -inf for x < 0; derivative -(log x + 1)."""
    (x,) = _floats(x)
    return cnp.where(cnp.less(x, 0), np.asarray(-np.inf, x.dtype)[()],
                     cnp.negative(xlogy(x, x)))


def rel_entr(x, y):
    """``x log(x / y)`` for x, y > 0; 0 for x = 0 and y >= 0; inf otherwise.
    Derivative (log(x/y) + 1, -x/y)."""
    x, y = _floats(x, y)
    inside = cnp.logical_and(cnp.greater(x, 0), cnp.greater(y, 0))
    one = np.asarray(1, x.dtype)[()]
    sx, sy = cnp.where(inside, x, one), cnp.where(inside, y, one)   # (no nan slopes outside)
    edge = cnp.where(cnp.logical_and(cnp.equal(x, 0), cnp.greater_equal(y, 0)),
                     np.asarray(0, x.dtype)[()], np.asarray(np.inf, x.dtype)[()])
    return cnp.where(inside, cnp.multiply(sx, cnp.log(cnp.divide(sx, sy))), edge)


def kl_div(x, y):
    """``x log(x / y) - x + y`` for x, y > 0; y for x = 0 and y >= 0; inf
    otherwise.  Derivative (log(x/y), 1 - x/y)."""
    x, y = _floats(x, y)
    return cnp.add(cnp.subtract(rel_entr(x, y), x), y)


for _f in (entr, rel_entr, kl_div):
    SCIPY_UFUNCS[_f.__name__] = _f
SCIPY_UFUNCS.update(psi=digamma, expit=expit, log_expit=log_expit, logit=logit)
