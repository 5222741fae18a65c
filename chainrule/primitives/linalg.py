"""``dot_general``: the one contraction primitive.  ``dot``, ``matmul``,
``@``, ``tensordot``, ``inner``, ``outer`` and ``einsum`` all lower to it
(plus transposes, reshapes and reductions).

    dot_general[dimension_numbers=((lhs_contract, rhs_contract),
                                   (lhs_batch, rhs_batch))] lhs rhs

Output axes: the batch axes (in the order given), then lhs's remaining
axes, then rhs's remaining axes, as in XLA and JAX.
"""
from __future__ import annotations

import numpy as np

from ..tracer.avals import ShapedArray
from ..tracer.errors import ShapeError
from ._define import check_axes, primitive


def _free_axes(ndim, *used):
    taken = set(used[0]) | set(used[1])
    return [i for i in range(ndim) if i not in taken]


def _dot_general_shape(lhs, rhs, *, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    check_axes("dot_general", tuple(lc) + tuple(lb), lhs.ndim)
    check_axes("dot_general", tuple(rc) + tuple(rb), rhs.ndim)
    if lhs.dtype != rhs.dtype:
        raise ShapeError(f"dot_general needs operands of one dtype, got {lhs.str_short()} "
                         f"and {rhs.str_short()}")
    if len(lc) != len(rc) or len(lb) != len(rb):
        raise ShapeError("dot_general: contracting/batch dimension lists differ in length")
    for a, b in list(zip(lc, rc)) + list(zip(lb, rb)):
        if lhs.shape[a] != rhs.shape[b]:
            raise ShapeError(f"dot_general: axis {a} of {lhs.shape} (size {lhs.shape[a]}) "
                             f"does not match axis {b} of {rhs.shape} (size {rhs.shape[b]})")
    shape = ([lhs.shape[i] for i in lb] + [lhs.shape[i] for i in _free_axes(lhs.ndim, lc, lb)]
             + [rhs.shape[i] for i in _free_axes(rhs.ndim, rc, rb)])
    return ShapedArray(shape, lhs.dtype)


def _dot_general_impl(lhs, rhs, *, dimension_numbers):
    # Arrange both operands as (batch, free, contract) matrices and let BLAS
    # (np.matmul) do the work: out[b] = L[b] @ R[b].T
    (lc, rc), (lb, rb) = dimension_numbers
    lhs, rhs = np.asarray(lhs), np.asarray(rhs)
    lf, rf = _free_axes(lhs.ndim, lc, lb), _free_axes(rhs.ndim, rc, rb)
    batch = [lhs.shape[i] for i in lb]
    lfree, rfree = [lhs.shape[i] for i in lf], [rhs.shape[i] for i in rf]
    nb, nl, nr = int(np.prod(batch)), int(np.prod(lfree)), int(np.prod(rfree))
    k = int(np.prod([lhs.shape[i] for i in lc]))
    L = np.transpose(lhs, list(lb) + lf + list(lc)).reshape(nb, nl, k)
    R = np.transpose(rhs, list(rb) + list(rc) + rf).reshape(nb, k, nr)
    return np.matmul(L, R).reshape(batch + lfree + rfree)


dot_general_p = primitive("dot_general", _dot_general_impl, _dot_general_shape)
