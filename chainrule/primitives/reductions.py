"""Reductions over a tuple of axes: ``reduce_sum``, ``reduce_max``,
``reduce_min``, ``reduce_prod``; and ``argmax``/``argmin`` over one axis.

The output drops the reduced axes (``keepdims`` is an ``expand_dims`` that
``chainrule.numpy`` adds) and keeps the input's dtype.
"""
from __future__ import annotations

import numpy as np

from ..tracer.avals import ShapedArray
from ..tracer.errors import ShapeError
from ._define import check_axes, primitive


def _reduce_shape(name):
    def rule(x, *, axes):
        check_axes(name, axes, x.ndim)
        return ShapedArray([d for i, d in enumerate(x.shape) if i not in axes], x.dtype)
    return rule


def _reducer(name, np_reduce):
    def impl(x, *, axes):
        return np_reduce(x, axis=axes)
    return primitive(name, impl, _reduce_shape(name))


reduce_sum_p = primitive("reduce_sum", lambda x, *, axes: np.sum(x, axis=axes, dtype=x.dtype),
                         _reduce_shape("reduce_sum"))
reduce_prod_p = primitive("reduce_prod", lambda x, *, axes: np.prod(x, axis=axes, dtype=x.dtype),
                          _reduce_shape("reduce_prod"))
reduce_max_p = _reducer("reduce_max", np.max)
reduce_min_p = _reducer("reduce_min", np.min)


def _arg_shape(name):
    def rule(x, *, axis, index_dtype):
        check_axes(name, (axis,), x.ndim)
        if x.shape[axis] == 0:
            raise ShapeError(f"{name} of an empty axis")
        return ShapedArray(x.shape[:axis] + x.shape[axis + 1:], index_dtype)
    return rule


argmax_p = primitive("argmax", lambda x, *, axis, index_dtype:
                     np.argmax(x, axis=axis).astype(index_dtype)[()], _arg_shape("argmax"))
argmin_p = primitive("argmin", lambda x, *, axis, index_dtype:
                     np.argmin(x, axis=axis).astype(index_dtype)[()], _arg_shape("argmin"))
