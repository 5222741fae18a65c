"""``dot_general``: the one contraction primitive.  ``dot``, ``matmul``,
``@``, ``tensordot``, ``inner``, ``outer`` and ``einsum`` all lower to it
(plus transposes, reshapes and reductions).

    dot_general[dimension_numbers=((lhs_contract, rhs_contract),
                                   (lhs_batch, rhs_batch))] lhs rhs

Output axes: the batch axes (in the order given), then lhs's remaining
axes, then rhs's remaining axes, as in XLA and JAX.
"""
from __future__ import annotations

import math

import numpy as np

from ..tracer.avals import ShapedArray
from ..tracer.core import get_aval
from ..tracer.errors import ShapeError
from ._ad import LinearInput, defjvp
from ._batch import IdentitySeed, moveaxis
from ._define import check_axes, primitive
from ._ops import dot_general, reshape, transpose


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
    # Arrange both operands as (batch..., free, contract) and (batch...,
    # contract, free) *views* and let BLAS (np.matmul) multiply them: a
    # transposed operand is read in place (BLAS's transpose flag), and only
    # merging several free or contracting axes into one can copy.
    (lc, rc), (lb, rb) = dimension_numbers
    lhs, rhs = np.asarray(lhs), np.asarray(rhs)
    lf, rf = _free_axes(lhs.ndim, lc, lb), _free_axes(rhs.ndim, rc, rb)
    batch = tuple(lhs.shape[i] for i in lb)
    lfree, rfree = [lhs.shape[i] for i in lf], [rhs.shape[i] for i in rf]
    nl, nr = math.prod(lfree), math.prod(rfree)      # (math.prod: no NumPy call per product)
    k = math.prod([lhs.shape[i] for i in lc])
    L = np.transpose(lhs, list(lb) + lf + list(lc))
    R = np.transpose(rhs, list(rb) + list(rc) + rf)
    if len(lf) != 1 or len(lc) != 1:
        L = L.reshape(batch + (nl, k))
    if len(rc) != 1 or len(rf) != 1:
        R = R.reshape(batch + (k, nr))
    if not batch and L.dtype == np.float64:
        return matrix_product(L, R).reshape((*lfree, *rfree))
    return np.matmul(L, R).reshape(batch + tuple(lfree) + tuple(rfree))


# -- which way round BLAS multiplies ------------------------------------------------------
# C = A B can also be computed as C = (B^T A^T)^T: the same products and
# sums, but a different BLAS call (other transpose flags, the roles of M
# and N exchanged), so another kernel and blocking, and, at small sizes,
# very different speed.  Measured with OpenBLAS, one thread, float64, over
# M, K, N in {8, 10, 32, 128, 500, 512, 784, 1000} and C or F operands
# (A @ B against (B.T @ A.T).T, best of five): a few rows (M <= 32,
# N >= 128) times an F-ordered B (a transposed weight matrix, W.T) whose
# leading dimension K is a multiple of 512 reads collide in cache, and the
# swapped call is 15-35% faster, e.g. (8x512)(512x512) 0.24 -> 0.18 ms;
# no other such pair lost more than 8%.  (A tall, narrow result, M >= 4 N,
# is also faster swapped alone, by 15-40%, but inside the compiled wide
# Jacobian chain it cost 30%, so it is not taken.)  The swapped result is
# an F-ordered (transposed) view of a new array.


def may_swap(m, k, n):
    """Whether ``matrix_product`` of an (m x k) by (k x n) product may be
    computed swapped, for some layouts of its operands."""
    return k % 512 == 0 and m <= 32 and n >= 128


def matrix_product(a, b, matmul=np.matmul):
    """``a @ b`` of two float64 matrices, computed as ``(b.T @ a.T).T`` where
    that is measured to be faster (see above); the choice depends only on
    the shapes and on whether ``b`` is F-contiguous, so every interpreter
    that calls this rounds alike."""
    m, k = a.shape
    if may_swap(m, k, b.shape[1]) and b.flags.f_contiguous and not b.flags.c_contiguous:
        return matmul(b.T, a.T).T
    return matmul(a, b)


def _dot_general_cost(in_avals, out_avals, *, dimension_numbers):
    # a multiply and an add per output element and contracted index: 2 M N K
    (lc, _), _ = dimension_numbers
    k = 1
    for a in lc:
        k *= in_avals[0].shape[a]
    return 2 * out_avals[0].size * k


dot_general_p = primitive("dot_general", _dot_general_impl, _dot_general_shape,
                          cost=_dot_general_cost)


# bilinear: d(L R) = dL R + L dR
defjvp(dot_general_p,
       lambda t, lhs, rhs, out, *, dimension_numbers: dot_general(t, rhs, dimension_numbers),
       lambda t, lhs, rhs, out, *, dimension_numbers: dot_general(lhs, t, dimension_numbers))


def _transpose_lhs(ct, rhs, lhs_ndim, rhs_ndim, dimension_numbers):
    # lhs_bar[b, lf, lc] = sum over rf of ct[b, lf, rf] rhs[b, lc, rf]: contract
    # the cotangent's rhs-free axes with rhs's free axes, batch with batch.
    # (For Z = X Y this is X_bar = Z_bar Y^T.)
    (lc, rc), (lb, rb) = dimension_numbers
    lf, rf = _free_axes(lhs_ndim, lc, lb), _free_axes(rhs_ndim, rc, rb)
    nb, nlf = len(lb), len(lf)
    ct_rf = tuple(range(nb + nlf, nb + nlf + len(rf)))
    out = dot_general(ct, rhs, ((ct_rf, tuple(rf)), (tuple(range(nb)), tuple(rb))))
    # out's axes hold lhs's batch axes, its free axes, then its contracting
    # axes in the order of rhs's (sorted) contracting axes
    src = list(lb) + lf + [lc[list(rc).index(r)] for r in sorted(rc)]
    perm = tuple(src.index(a) for a in range(lhs_ndim))
    if perm != tuple(range(lhs_ndim)):
        out = transpose(out, perm)
    return out


def _swap(dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    return ((rc, lc), (rb, lb))


def _dot_general_transpose(ct, lhs, rhs, *, dimension_numbers):
    lhs_ndim = lhs.aval.ndim if type(lhs) is LinearInput else get_aval(lhs).ndim
    rhs_ndim = rhs.aval.ndim if type(rhs) is LinearInput else get_aval(rhs).ndim
    if type(lhs) is LinearInput:
        return [_transpose_lhs(ct, rhs, lhs_ndim, rhs_ndim, dimension_numbers), None]
    # rhs_bar: the same with the roles swapped; the cotangent's free axes then
    # come in the other order, so move rhs-free before lhs-free first.
    # (For Z = X Y this is Y_bar = X^T Z_bar.)
    (lc, rc), (lb, rb) = dimension_numbers
    nb = len(lb)
    nlf = lhs_ndim - len(lc) - nb
    nrf = rhs_ndim - len(rc) - nb
    perm = tuple(range(nb)) + tuple(range(nb + nlf, nb + nlf + nrf)) + tuple(range(nb, nb + nlf))
    if perm != tuple(range(len(perm))):
        ct = transpose(ct, perm)
    return [None, _transpose_lhs(ct, lhs, rhs_ndim, lhs_ndim, _swap(dimension_numbers))]


dot_general_p.transpose = _dot_general_transpose


def _dot_general_batch(args, dims, *, dimension_numbers):
    # both batched: the batch becomes one more batch dimension of the product;
    # one batched: it is one more free axis of that operand, and lands where
    # dot_general puts that operand's free axes
    (lhs, rhs), (dl, dr) = args, dims
    (lc, rc), (lb, rb) = dimension_numbers
    up = lambda axes: tuple(a + 1 for a in axes)   # noqa: E731
    if dl is not None and dr is not None:
        lhs, rhs = moveaxis(lhs, dl, 0), moveaxis(rhs, dr, 0)
        return dot_general(lhs, rhs, ((up(lc), up(rc)), ((0,) + up(lb), (0,) + up(rb)))), 0
    if dl is not None:
        lhs = moveaxis(lhs, dl, 0)
        return dot_general(lhs, rhs, ((up(lc), rc), (up(lb), rb))), len(lb)
    rhs = moveaxis(rhs, dr, 0)
    lhs_free = get_aval(lhs).ndim - len(lc) - len(lb)
    if get_aval(rhs).ndim - 1 == len(rc) + len(rb) and lhs_free:
        # rhs is a batch of vectors (W @ t for many t): swap the operands so
        # the batch comes first, (batch, W's rows), as one product T @ W^T;
        # BLAS runs that orientation of a skinny product faster (the output
        # only moves its batch axis)
        return dot_general(rhs, lhs, ((up(rc), lc), (up(rb), lb))), len(lb)
    return dot_general(lhs, rhs, ((lc, up(rc)), (lb, up(rb)))), len(lb) + lhs_free


dot_general_p.batch = _dot_general_batch
# with one operand a residual, its Jacobian is that operand (the planner
# reads it off instead of computing it)
dot_general_p.jacobian_kind = "explicit"


def _dot_general_fold_identity(args, *, dimension_numbers):
    """Seed folding: the identity (over all of one operand's axes, every one
    contracted) pushed through a matrix product is the other operand, its
    contracted axes made the batch axis: ``W @ I = W``, with no product."""
    (lc, rc), (lb, rb) = dimension_numbers
    lhs, rhs = args
    if lb or (type(lhs) is IdentitySeed) == (type(rhs) is IdentitySeed):
        return None
    seed, other, seed_axes, other_axes = ((rhs, lhs, rc, lc) if type(rhs) is IdentitySeed
                                          else (lhs, rhs, lc, rc))
    if sorted(seed_axes) != list(range(len(seed.shape))):
        return None
    ndim = get_aval(other).ndim
    contracted = [other_axes[list(seed_axes).index(a)] for a in range(len(seed.shape))]
    free = [a for a in range(ndim) if a not in other_axes]
    moved = transpose(other, tuple(contracted + free))
    shape = get_aval(moved).shape
    n = int(np.prod(shape[:len(contracted)], dtype=np.int64))
    return reshape(moved, (n,) + shape[len(contracted):]), 0


dot_general_p.fold_identity = _dot_general_fold_identity
