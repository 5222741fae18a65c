"""Reductions over a tuple of axes: ``reduce_sum``, ``reduce_max``,
``reduce_min``, ``reduce_prod``; and ``argmax``/``argmin`` over one axis.

The output drops the reduced axes (``keepdims`` is an ``expand_dims`` that
``chainrule.numpy`` adds) and keeps the input's dtype.
"""
from __future__ import annotations

import numpy as np

from ..tracer.avals import ShapedArray
from ..tracer.core import bind, get_aval
from ..tracer.errors import ShapeError
from ._ad import defjvp, deflinear, defzero
from ._define import check_axes, cost_reduce, primitive
from .elementwise import (convert_element_type_p, div, eq_p, instantiate_like, mul, one, scalar,
                          select)


def _reduce_shape(name):
    def rule(x, *, axes):
        check_axes(name, axes, x.ndim)
        return ShapedArray([d for i, d in enumerate(x.shape) if i not in axes], x.dtype)
    return rule


def _reducer(name, np_reduce):
    def impl(x, *, axes):
        return np_reduce(x, axis=axes)
    return primitive(name, impl, _reduce_shape(name))


def _kept_dims(ndim, axes):
    return tuple(i for i in range(ndim) if i not in axes)


def _expand(y, x_aval, axes):
    """A reduction's output broadcast back over the reduced axes."""
    from .shapes import broadcast_in_dim_p
    return bind(broadcast_in_dim_p, y, shape=x_aval.shape,
                broadcast_dimensions=_kept_dims(x_aval.ndim, axes))


def reduce_sum(x, axes):
    return bind(reduce_sum_p, x, axes=tuple(axes))


reduce_sum_p = primitive("reduce_sum", lambda x, *, axes: np.sum(x, axis=axes, dtype=x.dtype),
                         _reduce_shape("reduce_sum"))
# linear; its transpose copies the cotangent back over the summed axes
deflinear(reduce_sum_p, lambda ct, x, *, axes: [_expand(ct, x.aval, axes)])


reduce_prod_p = primitive("reduce_prod", lambda x, *, axes: np.prod(x, axis=axes, dtype=x.dtype),
                          _reduce_shape("reduce_prod"))


def _prod_partial(t, x, y, *, axes):
    # d prod / d x_i = product of the others.  Without zeros that is y / x_i;
    # with one zero it is the product of the non-zeros at the zero and 0
    # elsewhere; with two or more zeros it is 0 everywhere.
    x_aval = get_aval(x)
    is_zero = bind(eq_p, x, scalar(0, x))
    zeros = instantiate_like(scalar(0, x), x)
    safe = select(is_zero, instantiate_like(one(x), x), x)
    n_zero = _expand(reduce_sum(bind(convert_element_type_p, is_zero, new_dtype=x_aval.dtype),
                                axes), x_aval, axes)
    others = _expand(bind(reduce_prod_p, safe, axes=axes), x_aval, axes)
    no_zero = div(_expand(y, x_aval, axes), safe)
    one_zero = select(is_zero, others, zeros)
    factor = select(bind(eq_p, n_zero, scalar(0, x)), no_zero,
                    select(bind(eq_p, n_zero, scalar(1, x)), one_zero, zeros))
    return reduce_sum(mul(t, factor), axes)


defjvp(reduce_prod_p, _prod_partial)

reduce_max_p = _reducer("reduce_max", np.max)
reduce_min_p = _reducer("reduce_min", np.min)


def _extremum_partial(t, x, y, *, axes):
    # the tangent flows from the elements that attain the extremum, shared
    # equally between ties
    x_aval = get_aval(x)
    chosen = bind(convert_element_type_p, bind(eq_p, x, _expand(y, x_aval, axes)),
                  new_dtype=x_aval.dtype)
    return div(reduce_sum(mul(t, chosen), axes), reduce_sum(chosen, axes))


defjvp(reduce_max_p, _extremum_partial)
defjvp(reduce_min_p, _extremum_partial)


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
defzero(argmax_p)
defzero(argmin_p)


for _p in (reduce_sum_p, reduce_prod_p, reduce_max_p, reduce_min_p, argmax_p, argmin_p):
    _p.cost = cost_reduce
