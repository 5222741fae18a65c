"""Sorting: ``sort[axis=k] keys *operands``.

All operands have one shape.  Along axis k the primitive sorts ``keys``
(stably, NaN last, as ``numpy.sort``) and applies the same permutation to
each further operand; it returns every operand permuted (``keys`` sorted
first).  ``argsort`` is the permutation carried by an operand of indices
``0 .. n-1``.

Differentiation, "the gradient flows through the permutation": for fixed
keys, permuting is linear in the carried operands, so

* JVP: the tangents are carried along, ``sort(keys, t_keys, t_1, ...)``,
  which puts each tangent where its element went;
* transpose (in the carried operands; the keys are residuals): the inverse
  permutation.  With ``p = argsort(keys)``, sorting by the keys ``p``
  undoes it: ``sort(p, ct)`` puts ``ct[i]`` back at position ``p[i]``.

Elements with equal keys keep their order, so the derivative of a tie goes
to the elements in that order (each sorted position gets one element's
tangent); nothing is split, because every output is one input.
"""
from __future__ import annotations

import numpy as np

from ..tracer.avals import ShapedArray
from ..tracer.core import bind, get_aval
from ..tracer.errors import ShapeError
from ._ad import LinearInput, Zero, is_linear
from ._batch import batch_leading
from ._define import check_axes, primitive
from ._ops import broadcast_in_dim


def _sort_shape(keys, *operands, axis):
    check_axes("sort", (axis,), keys.ndim)
    for x in operands:
        if x.shape != keys.shape:
            raise ShapeError(f"sort: every operand needs the keys' shape {keys.shape}, "
                             f"got {x.shape}")
    return [ShapedArray(keys.shape, keys.dtype)] + [ShapedArray(x.shape, x.dtype)
                                                    for x in operands]


def _sort_impl(keys, *operands, axis):
    keys = np.asarray(keys)
    perm = np.argsort(keys, axis=axis, kind="stable")
    return [np.take_along_axis(np.asarray(x), perm, axis=axis) for x in (keys,) + operands]


def _sort_cost(in_avals, out_avals, *, axis):
    # comparisons: about n log2 n per sorted line, and a move per element
    n = in_avals[0].shape[axis] if in_avals[0].shape else 1
    return in_avals[0].size * max(1, int(np.ceil(np.log2(max(n, 2))))) + sum(
        a.size for a in in_avals[1:])


sort_p = primitive("sort", _sort_impl, _sort_shape, multiple_results=True, cost=_sort_cost)


def iota(aval, axis):
    """The indices ``0 .. n-1`` along ``axis`` of an array of ``aval``'s shape."""
    shape = aval.shape
    index = np.arange(shape[axis], dtype=np.int64)
    if len(shape) == 1:
        return index
    return broadcast_in_dim(index, shape, (axis,))


def _sort_jvp(primals, tangents, out, *, axis):
    keys = primals[0]
    moving = [i for i, t in enumerate(tangents) if type(t) is not Zero]
    carried = bind(sort_p, keys, *[tangents[i] for i in moving], axis=axis)[1:]
    result = [Zero(get_aval(o)) for o in out]
    for i, t in zip(moving, carried):
        result[i] = t
    return result


def _sort_transpose(cts, keys, *operands, axis):
    assert not is_linear(keys), "sort is not linear in its keys"
    wanted = [i for i, (x, ct) in enumerate(zip(operands, cts[1:]))
              if type(x) is LinearInput and type(ct) is not Zero]
    result = [None] * (1 + len(operands))
    if not wanted:
        return result
    perm = bind(sort_p, keys, iota(get_aval(keys), axis), axis=axis)[1]
    # position j of the output holds element perm[j]: sorting by perm sends
    # ct[j] back to position perm[j]
    back = bind(sort_p, perm, *[cts[1 + i] for i in wanted], axis=axis)[1:]
    for i, ct in zip(wanted, back):
        result[1 + i] = ct
    return result


sort_p.jvp = _sort_jvp
sort_p.transpose = _sort_transpose
batch_leading(sort_p, "axis")
