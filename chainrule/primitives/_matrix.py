"""Matrix helpers for the rules of the linear-algebra primitives.

The rules of ``solve``, ``cholesky``, ``eigh``, ``svd`` ... are matrix
formulas over stacks of matrices (``(..., m, n)``, equal leading batch
axes).  These helpers spell the pieces of those formulas with primitives, so
the rules stay one formula each and remain IR when differentiated again.
Constant matrices (identities, triangle masks) are NumPy arrays of the full
batched shape, since elementwise primitives take operands of equal shapes.
"""
from __future__ import annotations

import numpy as np

from ..tracer.core import get_aval
from ..tracer.errors import ShapeError
from ._ops import add, broadcast_in_dim, div, dot_general, mul, reduce_sum, sub, transpose


def mm(x, y):
    """Batched matrix product ``x @ y`` of ``(..., m, k)`` and ``(..., k, n)``."""
    nd = get_aval(x).ndim
    batch = tuple(range(nd - 2))
    return dot_general(x, y, (((nd - 1,), (nd - 2,)), (batch, batch)))


def mT(x):
    """The transpose of each matrix of a stack: its last two axes swapped."""
    nd = get_aval(x).ndim
    return transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def constant(matrix, shape, dtype):
    """A constant ``(m, n)`` matrix repeated over the batch axes of ``shape``."""
    return np.broadcast_to(np.asarray(matrix, dtype), shape)


def eye(shape, dtype):
    """Identity matrices of the batched square ``shape``."""
    return constant(np.eye(shape[-1]), shape, dtype)


def tril_mask(shape, dtype, k=0):
    """Ones on and below the ``k``-th diagonal, zeros above."""
    return constant(np.tri(shape[-2], shape[-1], k), shape, dtype)


def triu_mask(shape, dtype, k=0):
    """Ones on and above the ``k``-th diagonal, zeros below."""
    return constant(1 - np.tri(shape[-2], shape[-1], k - 1), shape, dtype)


def diagonal(x):
    """The diagonals ``(..., n)`` of a stack of square matrices ``(..., n, n)``."""
    aval = get_aval(x)
    return reduce_sum(mul(x, eye(aval.shape, aval.dtype)), (aval.ndim - 1,))


def spread(v, shape, axis):
    """Vectors ``(..., k)`` broadcast to matrices ``shape = (..., r, c)``: along
    the rows (``axis=-1``: entry ``[i, j]`` is ``v[j]``) or the columns
    (``axis=-2``: entry ``[i, j]`` is ``v[i]``)."""
    nd = len(shape)
    dims = tuple(range(nd - 2)) + (nd + axis,)
    return broadcast_in_dim(v, tuple(shape), dims)


def gaps_reciprocal(w):
    """``F[..., i, j] = 1 / (w_j - w_i)`` off the diagonal and 0 on it: the
    factor every eigenvector/singular-vector derivative shares."""
    aval = get_aval(w)
    shape = aval.shape + aval.shape[-1:]
    identity = eye(shape, aval.dtype)
    diff = sub(spread(w, shape, -1), spread(w, shape, -2))
    return sub(div(np.asarray(1, aval.dtype)[()], add(diff, identity)), identity)


def symmetrize(t, lower):
    """The symmetric matrix that a routine reading only the ``lower`` (or
    upper) triangle of ``t`` sees: that triangle mirrored across the diagonal."""
    aval = get_aval(t)
    if lower:
        half, strict = tril_mask(aval.shape, aval.dtype), tril_mask(aval.shape, aval.dtype, -1)
    else:
        half, strict = triu_mask(aval.shape, aval.dtype), triu_mask(aval.shape, aval.dtype, 1)
    return add(mul(t, half), mT(mul(t, strict)))


def check_square(name, a, what="a"):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"{name} needs square matrices (..., n, n) for {what}, "
                         f"got {a.str_short()}")


def check_float(name, *avals):
    for a in avals:
        if not np.issubdtype(a.dtype, np.floating):
            raise ShapeError(f"{name} needs floating-point operands, got {a.str_short()}")
    if len({a.dtype for a in avals}) > 1:
        raise ShapeError(f"{name} needs operands of one dtype, got "
                         f"{', '.join(a.str_short() for a in avals)}")


def batch_size(shape):
    n = 1
    for d in shape[:-2]:
        n *= d
    return n
