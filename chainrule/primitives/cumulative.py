"""Cumulative (prefix) operations along one axis: ``cumsum`` and ``cumprod``.

``cumsum[axis=k, reverse=False]``: out[i] = x[0] + ... + x[i] along axis k
(``reverse=True``: x[i] + ... + x[n-1]).  It is linear, and its transpose is
the cumulative sum in the other direction: the cotangent of x[j] collects
the cotangents of every out[i] that x[j] went into, i >= j.

``cumprod[axis=k]``: out[i] = x[0] * ... * x[i].  Its JVP is not written as
``out * cumsum(t / x)``, which divides by zero wherever an element is 0;
instead the prefix products are formed by a parallel (Hillis-Steele) scan of
``log2 n`` levels of multiplications, and the scan is differentiated by the
product rule level by level.  That uses only ``mul``, ``add``, ``slice``
and ``pad``: exact at zeros, and differentiable again to any order.
"""
from __future__ import annotations

import numpy as np

from ..tracer.core import bind, get_aval
from ..tracer.errors import ShapeError
from ._ad import Zero, add_tangents, deflinear
from ._batch import batch_leading
from ._define import check_axes, cost_elementwise, primitive
from ._ops import mul, pad, slice_


def _cumulative_shape(name):
    def rule(x, *, axis, reverse=False):
        check_axes(name, (axis,), x.ndim)
        if not isinstance(reverse, bool):
            raise ShapeError(f"{name}: reverse must be True or False, got {reverse!r}")
        return x
    return rule


def _cumsum_impl(x, *, axis, reverse):
    x = np.asarray(x)
    if reverse:
        return np.flip(np.cumsum(np.flip(x, axis), axis=axis, dtype=x.dtype), axis)
    return np.cumsum(x, axis=axis, dtype=x.dtype)


cumsum_p = primitive("cumsum", _cumsum_impl, _cumulative_shape("cumsum"), cost=cost_elementwise)
# out = L x with L lower triangular of ones (upper for reverse): the
# transpose L^T is the cumulative sum taken from the other end
deflinear(cumsum_p, lambda ct, x, *, axis, reverse: [
    bind(cumsum_p, ct, axis=axis, reverse=not reverse)])


cumprod_p = primitive("cumprod", lambda x, *, axis: np.cumprod(x, axis=axis, dtype=x.dtype),
                      _cumulative_shape("cumprod"), cost=cost_elementwise)


def _shift(v, s, fill, axis):
    """``v`` moved ``s`` places forward along ``axis``: out[i] = v[i - s],
    and ``fill`` in the first ``s`` places (a slice, then a pad)."""
    shape = get_aval(v).shape
    n = shape[axis]
    limit = list(shape)
    limit[axis] = n - s
    kept = slice_(v, (0,) * len(shape), tuple(limit), (1,) * len(shape))
    config = [(0, 0, 0)] * len(shape)
    config[axis] = (s, 0, 0)
    return pad(kept, np.asarray(fill, get_aval(v).dtype)[()], tuple(config))


def _cumprod_jvp(primals, tangents, out, *, axis):
    # Hillis-Steele scan: at the level with stride s every position takes the
    # product of its block with the block s places before it,
    #   y[i] <- y[i - s] * y[i],  and by the product rule
    #   ty[i] <- ty[i - s] * y[i] + y[i - s] * ty[i];
    # after the levels s = 1, 2, 4, ... < n, y is the prefix product and ty
    # its tangent.  Out-of-range blocks are the empty product: y = 1, ty = 0.
    (x,), (t,) = primals, tangents
    if type(t) is Zero:
        return Zero(get_aval(out))
    n = get_aval(x).shape[axis]
    y, s = x, 1
    while s < n:
        y_before = _shift(y, s, 1, axis)
        t = add_tangents(mul(_shift(t, s, 0, axis), y), mul(y_before, t))
        if 2 * s < n:  # the last level's products are not needed again
            y = mul(y_before, y)
        s *= 2
    return t


cumprod_p.jvp = _cumprod_jvp
batch_leading(cumsum_p, "axis")
batch_leading(cumprod_p, "axis")
