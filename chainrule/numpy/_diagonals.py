"""Diagonals and triangles: diagonal, trace, diag, diagflat, triu, tril.

A diagonal of an ``m x n`` matrix is, in its flattened (row-major) form,
every ``(n + 1)``-th element from the first one (``offset`` for the k-th
diagonal above, ``-offset * n`` below): a strided ``slice`` of a
``reshape``, whose transpose is a ``pad`` with interior zeros.  Building a
matrix from its diagonal (``diag`` of a vector) is exactly that ``pad``,
then a ``reshape``.  Triangles keep or zero elements by a constant mask
(``select``), so the gradient is masked the same way.
"""
from __future__ import annotations

import numpy as np

from .. import primitives as P
from ..tracer.core import bind
from ._shapes import ravel, reshape, transpose
from ._util import asarray, normalize_axis, unsupported


def diagonal(a, offset=0, axis1=0, axis2=1):
    """numpy.diagonal: the ``offset`` diagonal of the ``(axis1, axis2)``
    matrices, as the last axis of the result."""
    a = asarray(a)
    if a.ndim < 2:
        raise ValueError("diag requires an array of at least two dimensions")
    i, j = normalize_axis(axis1, a.ndim, "axis1"), normalize_axis(axis2, a.ndim, "axis2")
    if i == j:
        raise ValueError("axis1 and axis2 cannot be the same")
    offset = int(offset)
    rest = [k for k in range(a.ndim) if k not in (i, j)]
    rows, cols = a.shape[i], a.shape[j]
    x = transpose(a, rest + [i, j])
    x = reshape(x, x.shape[:-2] + (rows * cols,))
    if offset >= 0:
        start, count = offset, min(rows, cols - offset)
    else:
        start, count = -offset * cols, min(rows + offset, cols)
    if count <= 0:
        return x[..., 0:0]
    return x[..., start:start + (count - 1) * (cols + 1) + 1:cols + 1]


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """numpy.trace: the sum of ``diagonal(a, offset, axis1, axis2)``."""
    unsupported("trace", out=out)
    from ._reductions import sum as sum_
    return sum_(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def diag(v, k=0):
    """numpy.diag: of a vector, the square matrix with it on the ``k``-th
    diagonal (a ``pad`` that spaces the elements ``n + 1`` apart, reshaped);
    of a matrix, its ``k``-th diagonal."""
    v = asarray(v)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError("Input must be 1- or 2-d.")
    k = int(k)
    n = v.shape[0]
    size = n + abs(k)
    low = k if k >= 0 else -k * size
    used = low + n + max(0, n - 1) * size
    zero = np.zeros((), v.dtype)[()]
    flat = bind(P.pad_p, v, zero, padding_config=((low, size * size - used, size),))
    return reshape(flat, (size, size))


def diagflat(v, k=0):
    """numpy.diagflat: ``diag`` of the flattened input."""
    return diag(ravel(asarray(v)), k)


def _masked(m, keep):
    from ._ufuncs import where
    return where(keep, m, np.zeros((), m.dtype))


def tril(m, k=0):
    """numpy.tril: zero the elements above the ``k``-th diagonal of the last
    two axes (a constant mask, ``select``)."""
    m = asarray(m)
    return _masked(m, np.tri(*m.shape[-2:], k=k, dtype=bool))


def triu(m, k=0):
    """numpy.triu: zero the elements below the ``k``-th diagonal."""
    m = asarray(m)
    return _masked(m, ~np.tri(*m.shape[-2:], k=k - 1, dtype=bool))
