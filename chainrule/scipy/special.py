"""``chainrule.scipy.special``: logsumexp, softmax, log_softmax, expit,
log_expit, logit, with SciPy's signatures.

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
from ..numpy._util import asarray, cast, normalize_axes
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
