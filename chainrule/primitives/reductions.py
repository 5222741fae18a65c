"""Reductions over a tuple of axes: ``reduce_sum``, ``reduce_max``,
``reduce_min``, ``reduce_prod``; and ``argmax``/``argmin`` over one axis.

The output drops the reduced axes (``keepdims`` is an ``expand_dims`` that
``chainrule.numpy`` adds) and keeps the input's dtype.
"""
from __future__ import annotations

import numpy as np

from ..tracer.avals import ShapedArray
from ..tracer.core import get_aval
from ..tracer.errors import ShapeError
from ._ad import Zero, add_tangents, defjvp, deflinear, defzero
from ._batch import batch_leading
from ._define import check_axes, cost_free, cost_reduce, primitive
from ._ops import (broadcast_in_dim, concatenate, convert_element_type, div, eq, mul, reduce_sum,
                   reshape, slice_, transpose)


def _reduce_shape(name):
    def rule(x, *, axes):
        check_axes(name, axes, x.ndim)
        return ShapedArray([d for i, d in enumerate(x.shape) if i not in axes], x.dtype)
    return rule


def _reducer(name, np_reduce):
    # the maximum (minimum) of no elements does not exist: like argmax, the
    # shape rule rejects an empty reduced axis (NumPy's would raise later,
    # when the program runs)
    shape_rule = _reduce_shape(name)

    def rule(x, *, axes):
        out = shape_rule(x, axes=axes)
        if any(x.shape[a] == 0 for a in axes):
            raise ShapeError(f"{name} over an empty axis (of shape {x.shape}): the "
                             f"{name[len('reduce_'):]}imum of no elements does not exist")
        return out

    def impl(x, *, axes):
        return np_reduce(x, axis=axes)
    return primitive(name, impl, rule, cost=cost_reduce)


def _kept_dims(ndim, axes):
    return tuple(i for i in range(ndim) if i not in axes)


def _expand(y, x_aval, axes):
    """A reduction's output broadcast back over the reduced axes."""
    return broadcast_in_dim(y, x_aval.shape, _kept_dims(x_aval.ndim, axes))


reduce_sum_p = primitive("reduce_sum", lambda x, *, axes: np.sum(x, axis=axes, dtype=x.dtype),
                         _reduce_shape("reduce_sum"), cost=cost_reduce)
# linear; its transpose copies the cotangent back over the summed axes
deflinear(reduce_sum_p, lambda ct, x, *, axes: [_expand(ct, x.aval, axes)])


reduce_prod_p = primitive("reduce_prod", lambda x, *, axes: np.prod(x, axis=axes, dtype=x.dtype),
                          _reduce_shape("reduce_prod"), cost=cost_reduce)


def _prod_jvp(primals, tangents, out, *, axes):
    # d prod = sum_i t_i * (product of the others).  Written as y / x_i it
    # breaks down at zeros, and special-casing one or two zeros still gives
    # wrong second derivatives there (the partials' own derivatives at a
    # zero are not zero).  So the product is differentiated as a balanced
    # tree of multiplications by the product rule (as JAX does): only mul,
    # add and structural primitives, right at zeros and to any order.
    (x,), (t,) = primals, tangents
    if type(t) is Zero:
        return Zero(get_aval(out))
    x_aval = get_aval(x)
    kept = _kept_dims(x_aval.ndim, axes)
    rest = tuple(x_aval.shape[i] for i in kept)
    n = int(np.prod([x_aval.shape[i] for i in axes], dtype=np.int64))
    if n == 0:  # an empty product is the constant 1
        return Zero(get_aval(out))
    if not axes:  # nothing reduced: the identity
        return t
    perm = tuple(axes) + kept
    if perm != tuple(range(x_aval.ndim)):
        x = transpose(x, perm)
        t = transpose(t, perm)
    if len(axes) != 1:  # the reduced elements as one leading axis
        x = reshape(x, (n,) + rest)
        t = reshape(t, (n,) + rest)

    def rows(v, lo, hi):
        return slice_(v, (lo,) + (0,) * len(rest), (hi,) + rest, (1,) * (len(rest) + 1))

    while n > 1:
        if n % 2:  # an odd count: one more factor 1 (its tangent 0)
            x = concatenate(x, np.ones((1,) + rest, x_aval.dtype), axis=0)
            t = concatenate(t, np.zeros((1,) + rest, x_aval.dtype), axis=0)
            n += 1
        h = n // 2
        a, b, ta, tb = rows(x, 0, h), rows(x, h, n), rows(t, 0, h), rows(t, h, n)
        t = add_tangents(mul(ta, b), mul(a, tb))          # d(a b) = da b + a db
        x = mul(a, b) if h > 1 else None                   # the last level needs no product
        n = h
    return reshape(t, rest)


reduce_prod_p.jvp = _prod_jvp

reduce_max_p = _reducer("reduce_max", np.max)
reduce_min_p = _reducer("reduce_min", np.min)


def _extremum_partial(t, x, y, *, axes):
    # the tangent flows from the elements that attain the extremum, shared
    # equally between ties
    x_aval = get_aval(x)
    chosen = convert_element_type(eq(x, _expand(y, x_aval, axes)), x_aval.dtype)
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
                     np.argmax(x, axis=axis).astype(index_dtype)[()], _arg_shape("argmax"),
                     cost=cost_reduce)
argmin_p = primitive("argmin", lambda x, *, axis, index_dtype:
                     np.argmin(x, axis=axis).astype(index_dtype)[()], _arg_shape("argmin"),
                     cost=cost_reduce)
defzero(argmax_p)
defzero(argmin_p)


# reductions of a batch reduce each example: the batch axis goes first
for _p in (reduce_sum_p, reduce_prod_p, reduce_max_p, reduce_min_p):
    batch_leading(_p, "axes")
reduce_sum_p.adjoint_cost = cost_free     # transposed: a broadcast (a view)
reduce_sum_p.adjoint_view = True
for _p in (argmax_p, argmin_p):
    batch_leading(_p, "axis")
