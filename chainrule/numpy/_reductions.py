"""NumPy's reductions: sum, prod, mean, max/min (amax/amin), argmax/argmin.

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
    """numpy.prod, as ``reduce_prod[axes=...]``."""
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
    """numpy.max, as ``reduce_max[axes=...]``."""
    return _extremum(P.reduce_max_p, "maximum", a, axis, out, keepdims, initial, where)


def min(a, axis=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    """numpy.min, as ``reduce_min[axes=...]``."""
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
