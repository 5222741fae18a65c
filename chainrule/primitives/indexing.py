"""Indexing with integer arrays: ``gather[axis=k] x indices`` takes the
elements of ``x`` at ``indices`` along axis ``k`` (NumPy's ``take``):

    out.shape = x.shape[:k] + indices.shape + x.shape[k+1:]

Negative indices count from the end, as in NumPy.  Every integer-array
("fancy") index is lowered to one gather by ``chainrule.numpy``; basic
slicing uses ``slice``/``rev``/``squeeze`` instead.
"""
from __future__ import annotations

import numpy as np

from ..tracer.avals import ShapedArray
from ..tracer.errors import ShapeError
from ._define import check_axes, primitive


def _gather_shape(x, indices, *, axis):
    check_axes("gather", (axis,), x.ndim)
    if not np.issubdtype(indices.dtype, np.integer):
        raise ShapeError(f"gather needs integer indices, got {indices.str_short()}")
    return ShapedArray(x.shape[:axis] + indices.shape + x.shape[axis + 1:], x.dtype)


def _gather_impl(x, indices, *, axis):
    return np.take(x, indices, axis=axis)


gather_p = primitive("gather", _gather_impl, _gather_shape)
