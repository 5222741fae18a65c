"""Piecewise functions of everyday NumPy: ``interp`` (piecewise linear),
``unwrap`` (phase unwrapping) and ``histogram`` (piecewise constant).

* ``interp(x, xp, fp)`` finds for each ``x`` the interval ``xp[j] <= x <
  xp[j+1]`` by counting the knots at or below it (comparisons: no
  derivative), gathers the two knots and evaluates ``fp[j] + s (x -
  xp[j])`` with slope ``s = (fp[j+1] - fp[j]) / (xp[j+1] - xp[j])``, as
  NumPy's C loop.  Derivatives: in ``x`` the slope ``s`` (0 outside
  ``[xp[0], xp[-1]]`` and exactly at a knot, where NumPy returns ``fp[j]``
  itself), in ``fp`` the two interpolation weights, in ``left``/``right``
  where they are used.  In ``xp`` the derivative of the same formula flows
  (the interval chosen is held fixed); NumPy has no notion of it, so rely on
  it only away from the knots.  Repeated knots make the slope infinite:
  avoid them when differentiating.
* ``unwrap`` adds multiples of ``period`` chosen by comparisons (piecewise
  constant), so its derivative is the identity.
* ``histogram`` counts by comparing with the bin edges: the counts are
  integers (no derivative) and piecewise constant in the data.  The edges
  computed from ``min(a)`` and ``max(a)`` (an integer ``bins`` without
  ``range``) do move with the extreme values, and so does a ``density``
  (through the bin widths); those derivatives are returned.  Weighted counts
  are differentiable in the weights.
"""
from __future__ import annotations

import operator

import numpy as np

from ..tracer.core import Tracer
from ._construct import linspace
from ._indexing import getitem, take
from ._reductions import cumsum, max, min, sum  # noqa: A004
from ._shapes import concatenate, ravel, reshape
from ._sorting import argsort
from ._ufuncs import (absolute, add, bitwise_and, clip, divide, equal, greater,
                      isnan, less, less_equal, multiply, remainder, subtract, where)
from ._util import asarray, cast, normalize_axis


def interp(x, xp, fp, left=None, right=None, period=None):
    """numpy.interp: the piecewise-linear interpolant through ``(xp, fp)``
    at ``x`` (``xp`` increasing), ``left``/``right`` outside, or periodic."""
    fp = asarray(fp)
    if np.issubdtype(fp.dtype, np.complexfloating):
        raise NotImplementedError("numpy.interp with complex fp is not supported by chainrule")
    x, xp, fp = (cast(asarray(v), np.float64) for v in (x, xp, fp))
    if xp.ndim != 1 or fp.ndim != 1:
        raise ValueError("object too deep for desired array (xp and fp must be 1-d)")
    if xp.shape[0] == 0:
        raise ValueError("array of sample points is empty")
    if fp.shape[0] != xp.shape[0]:
        raise ValueError("fp and xp are not of the same length.")
    if period is not None:
        if period == 0:
            raise ValueError("period must be a non-zero value")
        period = abs(period)
        left = right = None
        x, xp = remainder(x, period), remainder(xp, period)
        order = argsort(xp)
        xp, fp = take(xp, order), take(fp, order)
        xp = concatenate([subtract(getitem(xp, slice(-1, None)), period), xp,
                          add(getitem(xp, slice(0, 1)), period)])
        fp = concatenate([getitem(fp, slice(-1, None)), fp, getitem(fp, slice(0, 1))])
    n = xp.shape[0]
    first, last = getitem(xp, 0), getitem(xp, n - 1)
    left = getitem(fp, 0) if left is None else cast(asarray(left), np.float64)
    right = getitem(fp, n - 1) if right is None else cast(asarray(right), np.float64)
    if n == 1:
        y = add(multiply(x, 0.0), getitem(fp, 0))
    else:
        y = _inside(x, xp, fp, n)
    y = where(equal(x, last), getitem(fp, n - 1), y)
    y = where(less(x, first), left, y)
    return where(greater(x, last), right, y)


def _inside(x, xp, fp, n):
    """NumPy's interpolation between the knots around each ``x``."""
    knots = reshape(xp, (1,) * x.ndim + (n,))
    x_last = reshape(x, x.shape + (1,))
    below = sum(less_equal(knots, x_last), axis=-1)            # knots at or below x
    j = clip(subtract(below, 1), 0, n - 2)
    x_lo, x_hi = take(xp, j), take(xp, add(j, 1))
    f_lo, f_hi = take(fp, j), take(fp, add(j, 1))
    slope = divide(subtract(f_hi, f_lo), subtract(x_hi, x_lo))
    y = add(multiply(slope, subtract(x, x_lo)), f_lo)
    # NaN from infinite values: from the other end, then the flat value
    y = where(isnan(y), add(multiply(slope, subtract(x, x_hi)), f_hi), y)
    y = where(bitwise_and(isnan(y), equal(f_lo, f_hi)), f_lo, y)
    return where(equal(x, x_lo), f_lo, y)


def unwrap(p, discont=None, axis=-1, *, period=2 * np.pi):
    """numpy.unwrap: removes jumps larger than ``discont`` (default
    ``period/2``) along ``axis`` by adding multiples of ``period``; the
    corrections are piecewise constant, so the derivative is the identity."""
    p = asarray(p)
    axis = normalize_axis(axis, p.ndim)
    nd = p.ndim
    later = tuple(slice(1, None) if i == axis else slice(None) for i in range(nd))
    earlier = tuple(slice(None, -1) if i == axis else slice(None) for i in range(nd))
    first = tuple(slice(0, 1) if i == axis else slice(None) for i in range(nd))
    dd = subtract(getitem(p, later), getitem(p, earlier))
    if discont is None:
        discont = period / 2
    dtype = np.result_type(dd.dtype, period)
    if np.issubdtype(dtype, np.integer):
        high, rem = divmod(period, 2)
        ambiguous = rem == 0
    else:
        high, ambiguous = period / 2, True
    low = -high
    ddmod = add(remainder(subtract(dd, low), period), low)
    if ambiguous:
        ddmod = where(bitwise_and(equal(ddmod, low), greater(dd, 0)), high, ddmod)
    correction = subtract(ddmod, dd)
    correction = where(less(absolute(dd), discont), 0, correction)
    rest = add(getitem(p, later), cumsum(correction, axis=axis))
    return concatenate([cast(getitem(p, first), dtype), cast(rest, dtype)], axis=axis)


def histogram(a, bins=10, range=None, density=None, weights=None):  # noqa: A002
    """numpy.histogram: counts in the bins ``[e_i, e_{i+1})`` (the last one
    closed), and the edges.  ``bins`` an int (equal bins over ``range`` or
    ``[min(a), max(a)]``) or a constant increasing array; ``density``,
    ``weights``.  Bin-selection strings are not supported."""
    a = asarray(a)
    if weights is not None:
        weights = asarray(weights)
        if weights.shape != a.shape:
            raise ValueError("weights should have the same shape as a.")
        weights = ravel(weights)
    a = ravel(a)
    if isinstance(bins, str):
        raise NotImplementedError(f"numpy.histogram(bins={bins!r}): bin-selection rules are "
                                  "not supported by chainrule; pass a number of bins or edges")
    if isinstance(bins, Tracer):
        raise NotImplementedError("numpy.histogram with traced bin edges is not supported by "
                                  "chainrule; pass constant edges")
    if np.ndim(bins) == 0:
        edges = _equal_edges(a, bins, range)
    else:
        edges = np.asarray(bins)
        if edges.ndim != 1:
            raise ValueError("`bins` must be 1d, when an array")
        if np.any(edges[:-1] > edges[1:]):
            raise ValueError("`bins` must increase monotonically, when an array")
    count = _counts(a, edges, weights)
    if density:
        widths = subtract(getitem(edges, slice(1, None)), getitem(edges, slice(None, -1)))
        return divide(divide(count, widths), sum(count)), edges
    return count, edges


def _equal_edges(a, bins, range_):  # noqa: A002
    try:
        n = operator.index(bins)
    except TypeError:
        raise TypeError("`bins` must be an integer, a string, or an array") from None
    if n < 1:
        raise ValueError("`bins` must be positive, when an integer")
    if range_ is not None:
        first, last = range_
        if isinstance(first, Tracer) or isinstance(last, Tracer):
            raise NotImplementedError("numpy.histogram with a traced range is not supported "
                                      "by chainrule; pass constants")
        if first > last:
            raise ValueError("max must be larger than min in range parameter.")
        if not (np.isfinite(first) and np.isfinite(last)):
            raise ValueError(f"supplied range of [{first}, {last}] is not finite")
    elif a.shape[0] == 0:
        first, last = 0, 1
    else:
        first, last = min(a), max(a)
    dtype = np.result_type(*(v if not isinstance(v, Tracer) else v.dtype
                             for v in (first, last)), a.dtype)
    if np.issubdtype(dtype, np.integer):
        dtype = np.result_type(dtype, float)
    if isinstance(first, Tracer):
        same = equal(first, last)
        first = where(same, subtract(cast(first, dtype), 0.5), cast(first, dtype))
        last = where(same, add(cast(last, dtype), 0.5), cast(last, dtype))
    elif first == last:
        first, last = first - 0.5, last + 0.5
    return linspace(first, last, n + 1, endpoint=True, dtype=dtype)


def _counts(a, edges, weights):
    """How many elements (or how much weight) fall in each bin."""
    k = np.shape(edges)[0] - 1
    column = reshape(a, (a.shape[0], 1))
    lower = reshape(getitem(edges, slice(None, -1)), (1, k))
    upper = reshape(getitem(edges, slice(1, None)), (1, k))
    closed = np.arange(k) == k - 1                      # the last bin includes its end
    inside = bitwise_and(less_equal(lower, column),
                         where(closed, less_equal(column, upper), less(column, upper)))
    if weights is None:
        return sum(cast(inside, np.intp), axis=0)
    w = reshape(weights, (a.shape[0], 1))
    return sum(where(inside, w, np.zeros((), w.dtype)[()]), axis=0)
