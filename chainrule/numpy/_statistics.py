"""NumPy's statistics: var, std, average, ptp, and the order statistics
median, quantile and percentile.

The moments are compositions of reductions and ufuncs, computed as NumPy
computes them (``var = sum((a - mean)**2) / (n - ddof)``), so values match
NumPy's and derivatives follow by the chain rule.

The order statistics sort the reduced axes (moved last and flattened into
one) and read the sorted values at positions that depend only on the
number of elements and on ``q`` (a constant): a ``gather`` of the sorted
array.  The derivative therefore flows through the sorting permutation to
the selected elements: with linear interpolation between the sorted values
``lo`` and ``hi`` at fraction ``g``, ``lo``'s element gets weight ``1 - g``
and ``hi``'s ``g``; the median of an even count gives 1/2 to each middle
element.  Elements with equal values are told apart by their order (the
sort is stable), not split.
"""
from __future__ import annotations

import numpy as np

from .. import primitives as P
from ..tracer.core import Tracer, bind
from ._reductions import max, mean, min, sum  # noqa: A004
from ._sorting import sort
from ._ufuncs import _real_only, add, divide, isnan, multiply, sqrt, subtract, where
from ._util import (asarray, broadcast_to_shape, cast, normalize_axes, normalize_axis,
                    unsupported)


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None,
        correction=None):
    """numpy.var: ``sum(|a - mean(a)|**2) / (n - ddof)``; integers in float64.
    Its derivative is ``2 (a - mean(a)) / (n - ddof)``."""
    unsupported("var", out=out, where=where, mean=mean)
    return _moment("var", a, axis, dtype, ddof, keepdims, correction)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None,
        correction=None):
    """numpy.std: ``sqrt(var)``.  At zero variance (constant data) its
    derivative is NaN, as in JAX: ``sqrt`` has an infinite slope at 0 and the
    variance's own derivative is 0 there."""
    unsupported("std", out=out, where=where, mean=mean)
    return sqrt(_moment("std", a, axis, dtype, ddof, keepdims, correction))


def _moment(name, a, axis, dtype, ddof, keepdims, correction):
    if correction is not None:
        if ddof != 0:
            raise ValueError("ddof and correction can't be provided simultaneously.")
        ddof = correction
    a = _real_only(name, asarray(a))
    axes = normalize_axes(axis, a.ndim)
    if dtype is None:
        dtype = a.dtype if np.issubdtype(a.dtype, np.inexact) else np.dtype(np.float64)
    a = cast(a, dtype)
    count = 1
    for ax in axes:
        count *= a.shape[ax]
    centered = subtract(a, _mean(a, axes))
    total = sum(multiply(centered, centered), axis=axes, keepdims=keepdims)
    return divide(total, np.asarray(np.maximum(count - ddof, 0), dtype)[()])


def _mean(a, axes):
    return mean(a, axis=axes, keepdims=True)


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """numpy.average: ``sum(a * w) / sum(w)`` (the mean without weights).
    Differentiable in ``a`` and in ``w``.  Weights may have ``a``'s shape, or
    the shape of the reduced axes (in the order ``axis`` lists them)."""
    a = asarray(a)
    axes = normalize_axes(axis, a.ndim)
    if weights is None:
        avg = mean(a, axis=axes, keepdims=keepdims)
        if not returned:
            return avg
        count = 1
        for ax in axes:
            count *= a.shape[ax]
        return avg, broadcast_to_shape(np.asarray(count, avg.dtype)[()], avg.shape)
    w = asarray(weights)
    if np.issubdtype(a.dtype, np.inexact):
        dtype = np.result_type(a.dtype, w.dtype)
    else:
        dtype = np.result_type(a.dtype, w.dtype, "f8")
    if w.shape != a.shape:
        w = _weights_along(w, a.shape, axis)
    scale = sum(w, axis=axes, dtype=dtype, keepdims=keepdims)
    if not isinstance(scale, Tracer) and np.any(scale == 0):
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    avg = divide(sum(multiply(cast(a, dtype), cast(w, dtype)), axis=axes, keepdims=keepdims),
                 scale)
    if returned:
        return avg, broadcast_to_shape(scale, avg.shape) if scale.shape != avg.shape else scale
    return avg


def _weights_along(w, shape, axis):
    """1-d (or per-axis) weights broadcast along the reduced axes of ``shape``."""
    if axis is None:
        raise TypeError("Axis must be specified when shapes of a and weights differ.")
    given = tuple(normalize_axis(ax, len(shape)) for ax in
                  (axis if isinstance(axis, (tuple, list)) else (axis,)))
    if w.shape != tuple(shape[ax] for ax in given):
        raise ValueError("Shape of weights must be consistent with shape of a along "
                         "specified axis.")
    order = tuple(int(i) for i in np.argsort(given))
    if order != tuple(range(len(given))):
        w = bind(P.transpose_p, w, permutation=order)
    return bind(P.broadcast_in_dim_p, w, shape=tuple(shape),
                broadcast_dimensions=tuple(sorted(given)))


def ptp(a, axis=None, out=None, keepdims=False):
    """numpy.ptp: ``max - min``; each gets its own derivative, ties split evenly."""
    unsupported("ptp", out=out)
    return subtract(max(a, axis=axis, keepdims=keepdims), min(a, axis=axis, keepdims=keepdims))


# -- order statistics ------------------------------------------------------------
def _sorted_lines(a, axis):
    """``a`` sorted along its reduced axes, which become one last axis.
    Returns the sorted array, the reduced axes and the count per line."""
    axes = normalize_axes(axis, a.ndim)
    kept = tuple(i for i in range(a.ndim) if i not in axes)
    n = 1
    for ax in axes:
        n *= a.shape[ax]
    if kept + axes != tuple(range(a.ndim)):
        a = bind(P.transpose_p, a, permutation=kept + axes)
    if len(axes) != 1:
        a = bind(P.reshape_p, a, shape=tuple(a.shape[:len(kept)]) + (n,))
    return sort(a, axis=-1), axes, n


def _take(s, index):
    """The sorted values at ``index`` (a constant integer array or int) along
    the last axis; the index axes come first, as in NumPy's quantile."""
    index = np.asarray(index, np.int64)
    out = bind(P.gather_p, s, index, axis=s.ndim - 1)
    lead = s.ndim - 1
    if index.ndim and lead:  # (kept..., q...) -> (q..., kept...)
        perm = tuple(range(lead, lead + index.ndim)) + tuple(range(lead))
        out = bind(P.transpose_p, out, permutation=perm)
    return out


def _nan_where_nan(result, s, a_dtype):
    """NaN where a line holds a NaN (sorted last), as NumPy's order statistics."""
    if not np.issubdtype(a_dtype, np.inexact):
        return result
    has_nan = isnan(_take(s, s.shape[-1] - 1))
    return where(has_nan, np.asarray(np.nan, result.dtype)[()], result)


def _restore_axes(result, axes, n_q, keepdims):
    if not keepdims or not axes:
        return result
    return bind(P.expand_dims_p, result, dimensions=tuple(n_q + ax for ax in axes))


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """numpy.median: the middle sorted value, or the mean of the two middle
    ones (each then gets half the derivative); NaN if the line has a NaN."""
    unsupported("median", out=out)
    a = _real_only("median", asarray(a))
    s, axes, n = _sorted_lines(a, axis)
    if n == 0:
        raise ValueError("numpy.median of an empty array is NaN with a warning in NumPy; "
                         "chainrule does not trace it")
    dtype = a.dtype if np.issubdtype(a.dtype, np.inexact) else np.dtype(np.float64)
    s = cast(s, dtype)
    if n % 2:
        result = _take(s, (n - 1) // 2)
    else:  # NumPy's mean of the two middle values
        middle = bind(P.gather_p, s, np.array([n // 2 - 1, n // 2]), axis=s.ndim - 1)
        result = mean(middle, axis=-1)
    result = _nan_where_nan(result, s, a.dtype)
    return _restore_axes(result, axes, 0, keepdims)


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None, interpolation=None):
    """numpy.quantile for a constant ``q`` in [0, 1]; ``method`` is "linear"
    (NumPy's default: interpolate between the neighbouring sorted values),
    "lower", "higher", "nearest" or "midpoint"."""
    unsupported("quantile", out=out, weights=weights, interpolation=interpolation)
    weak_q = type(q) in (int, float)
    return _quantile("quantile", a, q, axis, method, keepdims, weak_q)


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None, interpolation=None):
    """numpy.percentile: ``quantile(a, q / 100)``."""
    unsupported("percentile", out=out, weights=weights, interpolation=interpolation)
    weak_q = type(q) in (int, float)
    if isinstance(q, Tracer):
        _traced_q("percentile")
    return _quantile("percentile", a, np.true_divide(q, 100), axis, method, keepdims, weak_q)


def _traced_q(name):
    raise NotImplementedError(f"numpy.{name} with a traced q: chainrule needs q as a constant "
                              "(the positions read from the sorted array depend on it)")


def _virtual_index(method, n, q):
    """NumPy's (fractional) position of quantile ``q`` among ``n`` sorted values."""
    if method == "linear":
        return (n - 1) * q
    if method == "lower":
        return np.floor((n - 1) * q).astype(np.intp)
    if method == "higher":
        return np.ceil((n - 1) * q).astype(np.intp)
    if method == "nearest":
        return np.around((n - 1) * q).astype(np.intp)
    if method == "midpoint":
        return 0.5 * (np.floor((n - 1) * q) + np.ceil((n - 1) * q))
    raise NotImplementedError(f"numpy.quantile: method={method!r} is not supported by "
                              "chainrule (linear, lower, higher, nearest, midpoint are)")


def _quantile(name, a, q, axis, method, keepdims, weak_q):
    if isinstance(q, Tracer):
        _traced_q(name)
    q = np.asanyarray(q)
    if not np.all((q >= 0) & (q <= 1)):
        raise ValueError("Quantiles must be in the range [0, 1]")
    a = _real_only(name, asarray(a))
    s, axes, n = _sorted_lines(a, axis)
    if n == 0:
        raise ValueError(f"numpy.{name} of an empty array: chainrule does not trace it")
    virtual = np.asanyarray(_virtual_index(method, n, q))
    if np.issubdtype(virtual.dtype, np.integer):  # one sorted value per quantile
        result = _take(s, virtual)
    else:
        lo = np.floor(virtual)
        hi = lo + 1
        above = virtual >= n - 1
        lo, hi = np.where(above, -1, lo), np.where(above, -1, hi)
        gamma = np.asanyarray(virtual - lo, dtype=virtual.dtype)
        if method == "midpoint":
            gamma = np.where(virtual % 1 == 0, 0.0, 0.5).astype(virtual.dtype)
        gamma = float(gamma) if weak_q else gamma
        dtype = np.result_type(a.dtype, gamma)
        s = cast(s, dtype)
        result = _lerp(_take(s, lo.astype(np.int64)), _take(s, hi.astype(np.int64)), gamma,
                       s.ndim - 1)
    result = _nan_where_nan(result, s, a.dtype)
    return _restore_axes(result, axes, q.ndim, keepdims)


def _lerp(below, above, gamma, n_kept):
    """NumPy's interpolation ``below + (above - below) g``, computed from the
    nearer end (``above - (above - below)(1 - g)`` for g >= 1/2), g constant."""
    diff = subtract(above, below)
    g = np.asarray(gamma)
    if g.ndim == 0:
        if g >= 0.5:
            return subtract(above, multiply(diff, 1 - gamma))
        return add(below, multiply(diff, gamma))
    g = g.reshape(g.shape + (1,) * n_kept)   # one weight per quantile, over the kept axes
    near = g >= 0.5
    base = where(near, above, below) if near.any() else below
    return add(base, multiply(diff, np.where(near, g - 1, g).astype(g.dtype)))
