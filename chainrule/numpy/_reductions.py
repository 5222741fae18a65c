"""NumPy's reductions: sum, prod, mean, max/min (amax/amin), argmax/argmin,
all/any/count_nonzero, and the cumulative cumsum/cumprod.

``axis`` (None, int or tuple), ``keepdims`` and ``dtype`` follow NumPy; the
primitives reduce a tuple of axes and drop them, and ``keepdims`` adds them
back with ``expand_dims``.
"""
from __future__ import annotations

import numpy as np

from .. import primitives as P
from ..tracer.core import bind
from ._util import asarray, cast, normalize_axes, normalize_axis, unsupported


def _keep(out, axes, keepdims):
    return bind(P.expand_dims_p, out, dimensions=axes) if keepdims and axes else out


def _sum_dtype(dtype):
    # NumPy accumulates booleans and small integers in the default integer
    if dtype == np.bool_ or (np.issubdtype(dtype, np.signedinteger) and dtype.itemsize < 8):
        return np.dtype(np.int64)
    if np.issubdtype(dtype, np.unsignedinteger) and dtype.itemsize < 8:
        return np.dtype(np.uint64)
    return dtype


def _reduce(prim, name, a, axis, dtype, keepdims, out, initial=None, where=None):
    unsupported(name, out=out, initial=initial, where=where)
    a = asarray(a)
    axes = normalize_axes(axis, a.ndim)
    a = cast(a, np.dtype(dtype) if dtype is not None else _sum_dtype(a.dtype))
    return _keep(bind(prim, a, axes=axes), axes, keepdims)


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    """numpy.sum, as ``reduce_sum[axes=...]``."""
    return _reduce(P.reduce_sum_p, "sum", a, axis, dtype, keepdims, out, initial, where)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """numpy.prod, as ``reduce_prod[axes=...]``.  Its derivative is exact
    where elements are zero (the product of the others, not ``prod / x``),
    to any order."""
    return _reduce(P.reduce_prod_p, "prod", a, axis, dtype, keepdims, out, initial, where)


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """numpy.mean: the sum divided by the number of reduced elements
    (integers are averaged in float64, as in NumPy)."""
    unsupported("mean", out=out, where=where)
    a = asarray(a)
    axes = normalize_axes(axis, a.ndim)
    if dtype is None:
        dtype = a.dtype if np.issubdtype(a.dtype, np.inexact) else np.float64
    count = 1
    for ax in axes:
        count *= a.shape[ax]
    total = bind(P.reduce_sum_p, cast(a, dtype), axes=axes)
    total = bind(P.div_p, total, np.asarray(count, dtype)[()])
    return _keep(total, axes, keepdims)


def _extremum(prim, name, a, axis, out, keepdims, initial, where):
    unsupported(name, out=out, initial=initial, where=where)
    a = asarray(a)
    axes = normalize_axes(axis, a.ndim)
    for ax in axes:
        if a.shape[ax] == 0:
            raise ValueError(f"zero-size array to reduction operation {name} which has no "
                             "identity")
    return _keep(bind(prim, a, axes=axes), axes, keepdims)


def max(a, axis=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    """numpy.max, as ``reduce_max[axes=...]``; NaN propagates.  With repeated
    maxima the derivative is split evenly among them (JAX's choice)."""
    return _extremum(P.reduce_max_p, "maximum", a, axis, out, keepdims, initial, where)


def min(a, axis=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    """numpy.min, as ``reduce_min[axes=...]``; NaN propagates.  With repeated
    minima the derivative is split evenly among them (JAX's choice)."""
    return _extremum(P.reduce_min_p, "minimum", a, axis, out, keepdims, initial, where)


amax = max
amin = min


def _arg(prim, a, axis, out, keepdims):
    unsupported(prim.name, out=out)
    a = asarray(a)
    if axis is None:
        flat = bind(P.reshape_p, a, shape=(a.size,)) if a.ndim != 1 else a
        result = bind(prim, flat, axis=0, index_dtype=np.dtype(np.int64))
        if keepdims:
            result = bind(P.reshape_p, result, shape=(1,) * a.ndim)
        return result
    axis = normalize_axis(axis, a.ndim)
    return _keep(bind(prim, a, axis=axis, index_dtype=np.dtype(np.int64)), (axis,), keepdims)


def argmax(a, axis=None, out=None, *, keepdims=False):
    """numpy.argmax, as the ``argmax[axis=...]`` primitive (not differentiable)."""
    return _arg(P.argmax_p, a, axis, out, keepdims)


def argmin(a, axis=None, out=None, *, keepdims=False):
    """numpy.argmin, as the ``argmin[axis=...]`` primitive (not differentiable)."""
    return _arg(P.argmin_p, a, axis, out, keepdims)


def _truth(a):
    """``a`` as booleans (nonzero is True, NaN too), as NumPy's all/any see it."""
    return cast(asarray(a), np.bool_)


def _logical_reduce(prim, name, a, axis, out, keepdims, where, empty_value):
    unsupported(name, out=out, where=where)
    a = _truth(a)
    axes = normalize_axes(axis, a.ndim)
    if 0 in [a.shape[ax] for ax in axes]:  # nothing to reduce: the identity
        shape = tuple(1 if i in axes else d for i, d in enumerate(a.shape)) if keepdims else \
            tuple(d for i, d in enumerate(a.shape) if i not in axes)
        return np.full(shape, empty_value)
    if not axes:
        return a
    return _keep(bind(prim, a, axes=axes), axes, keepdims)


def all(a, axis=None, out=None, keepdims=False, *, where=None):  # noqa: A001
    """numpy.all: the minimum of the truth values (``reduce_min`` of booleans);
    True over an empty axis."""
    return _logical_reduce(P.reduce_min_p, "all", a, axis, out, keepdims, where, True)


def any(a, axis=None, out=None, keepdims=False, *, where=None):  # noqa: A001
    """numpy.any: the maximum of the truth values (``reduce_max`` of booleans);
    False over an empty axis."""
    return _logical_reduce(P.reduce_max_p, "any", a, axis, out, keepdims, where, False)


def count_nonzero(a, axis=None, *, keepdims=False):
    """numpy.count_nonzero: the sum of the truth values as integers."""
    a = _truth(a)
    axes = normalize_axes(axis, a.ndim)
    counts = bind(P.reduce_sum_p, cast(a, np.int64), axes=axes)
    return _keep(counts, axes, keepdims)


def _cumulative(prim, name, a, axis, dtype, out, **params):
    unsupported(name, out=out)
    a = asarray(a)
    if axis is None:  # NumPy flattens first
        a = bind(P.reshape_p, a, shape=(a.size,)) if a.ndim != 1 else a
        axis = 0
    axis = normalize_axis(axis, a.ndim)
    a = cast(a, np.dtype(dtype) if dtype is not None else _sum_dtype(a.dtype))
    return bind(prim, a, axis=axis, **params)


def cumsum(a, axis=None, dtype=None, out=None):
    """numpy.cumsum, as ``cumsum[axis=k, reverse=False]`` (linear: its
    transpose is the cumulative sum from the other end)."""
    return _cumulative(P.cumsum_p, "cumsum", a, axis, dtype, out, reverse=False)


def cumprod(a, axis=None, dtype=None, out=None):
    """numpy.cumprod, as ``cumprod[axis=k]``; its derivative is exact where
    elements are zero (see ``primitives/cumulative.py``)."""
    return _cumulative(P.cumprod_p, "cumprod", a, axis, dtype, out)


def _cumulative_api(fn, identity, name, x, axis, dtype, out, include_initial):
    # the array API's cumulative_sum/prod: axis may be omitted for 1-d input only
    x = asarray(x)
    if axis is None:
        if x.ndim > 1:
            raise ValueError(f"{name}: axis must be given for arrays of more than one "
                             "dimension")
        axis = 0
    result = fn(x, axis=axis, dtype=dtype, out=out)
    if not include_initial:
        return result
    axis = normalize_axis(axis, result.ndim)
    config = tuple((1, 0, 0) if i == axis else (0, 0, 0) for i in range(result.ndim))
    return bind(P.pad_p, result, np.asarray(identity, result.dtype)[()], padding_config=config)


def cumulative_sum(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    """numpy.cumulative_sum: cumsum, optionally starting with the empty sum 0."""
    return _cumulative_api(cumsum, 0, "cumulative_sum", x, axis, dtype, out, include_initial)


def cumulative_prod(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    """numpy.cumulative_prod: cumprod, optionally starting with the empty product 1."""
    return _cumulative_api(cumprod, 1, "cumulative_prod", x, axis, dtype, out, include_initial)
