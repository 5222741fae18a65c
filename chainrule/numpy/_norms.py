"""numpy.linalg.norm, vector_norm and matrix_norm, composed of
``chainrule.numpy`` functions in NumPy's own order of operations (so the
values round as NumPy's do).

Gradient at zero.  Norms are not differentiable at ``x = 0``.  chainrule
returns the subgradient 0 there for every vector norm and the Frobenius
norm, which is what a user minimising ``norm(x)`` expects (and what JAX's
"safe norm" idiom gives): the square root (or ``1/p``-th power) of the sum
is taken as ``where(s == 0, 0, sqrt(where(s == 0, 1, s)))``, whose
derivative is 0 at ``s = 0``, while ``d s / dx = 2 x`` (or ``p |x|^(p-1)``)
is 0 there too.  ``ord=inf`` / ``1`` norms are built from ``abs``, whose
derivative at 0 is 0.  The spectral (``ord=2``) and nuclear norms of a zero
matrix differentiate through the SVD LAPACK returns for it, giving
``u_1 v_1^T`` and ``U V^T``: valid subgradients (of dual norm 1), not 0.
Negative and fractional orders (``0 < p < 1``) are not differentiable at
zero entries.
"""
from __future__ import annotations

import operator

import numpy as np

from ._decompositions import svd
from ._linalg import dot
from ._reductions import max as _max, min as _min, sum as _sum
from ._shapes import moveaxis, ravel, reshape, transpose
from ._ufuncs import absolute, multiply, not_equal, power, sqrt, where
from ._util import asarray, cast, normalize_axis


def _safe_root(s, p=2):
    """``s ** (1/p)`` for sums ``s >= 0``, with derivative 0 at ``s = 0``
    (the subgradient chosen at a zero vector; see the module docstring)."""
    zero = s == 0
    safe = where(zero, np.ones((), s.dtype)[()], s)
    root = sqrt(safe) if p == 2 else power(safe, np.reciprocal(np.asarray(p, s.dtype))[()])
    return where(zero, np.zeros((), s.dtype)[()], root)


def _svd_norm(x, row_axis, col_axis, reduce):
    y = moveaxis(x, (row_axis, col_axis), (-2, -1))
    return reduce(svd(y, compute_uv=False), axis=-1)


def norm(x, ord=None, axis=None, keepdims=False):
    """numpy.linalg.norm: vector norms (``ord`` None/2, inf, -inf, 0, 1, other
    p) along one axis, matrix norms (None/'fro', 'nuc', inf, -inf, 1, -1,
    2, -2) along two.  At ``x = 0`` the derivative is the subgradient 0
    for vector and Frobenius norms (see the module docstring)."""
    x = asarray(x)
    if not np.issubdtype(x.dtype, np.inexact):
        x = cast(x, np.float64)
    if axis is None:
        nd = x.ndim
        if ord is None or (ord in ("f", "fro") and nd == 2) or (ord == 2 and nd == 1):
            flat = ravel(x)
            ret = _safe_root(dot(flat, flat))
            return reshape(ret, (1,) * nd) if keepdims else ret
        axis = tuple(range(nd))
    elif not isinstance(axis, tuple):
        try:
            axis = (operator.index(axis),)
        except TypeError as e:
            raise TypeError("'axis' must be None, an integer or a tuple of integers") from e
    if len(axis) == 1:
        if isinstance(ord, str):
            raise ValueError(f"Invalid norm order '{ord}' for vectors")
        if ord == np.inf:
            return _max(absolute(x), axis=axis, keepdims=keepdims)
        if ord == -np.inf:
            return _min(absolute(x), axis=axis, keepdims=keepdims)
        if ord == 0:   # the number of non-zeros: piecewise constant
            return _sum(cast(not_equal(x, 0), x.dtype), axis=axis, keepdims=keepdims)
        if ord == 1:
            return _sum(absolute(x), axis=axis, keepdims=keepdims)
        if ord is None or ord == 2:
            return _safe_root(_sum(multiply(x, x), axis=axis, keepdims=keepdims))
        s = _sum(power(absolute(x), ord), axis=axis, keepdims=keepdims)
        if ord > 0:
            return _safe_root(s, ord)
        return power(s, np.reciprocal(np.asarray(ord, s.dtype))[()])
    if len(axis) != 2:
        raise ValueError("Improper number of dimensions to norm.")
    nd = x.ndim
    row_axis, col_axis = (normalize_axis(a, nd) for a in axis)
    if row_axis == col_axis:
        raise ValueError("Duplicate axes given.")
    if ord == 2:
        ret = _svd_norm(x, row_axis, col_axis, _max)
    elif ord == -2:
        ret = _svd_norm(x, row_axis, col_axis, _min)
    elif ord in (1, -1):     # the largest (smallest) column sum of |x|
        col = col_axis - 1 if col_axis > row_axis else col_axis
        ret = (_max if ord == 1 else _min)(_sum(absolute(x), axis=row_axis), axis=col)
    elif ord in (np.inf, -np.inf):   # the largest (smallest) row sum of |x|
        row = row_axis - 1 if row_axis > col_axis else row_axis
        ret = (_max if ord > 0 else _min)(_sum(absolute(x), axis=col_axis), axis=row)
    elif ord in (None, "fro", "f"):
        ret = _safe_root(_sum(multiply(x, x), axis=axis))
    elif ord == "nuc":
        ret = _svd_norm(x, row_axis, col_axis, _sum)
    else:
        raise ValueError("Invalid norm order for matrices.")
    if keepdims:
        shape = list(x.shape)
        shape[axis[0]] = shape[axis[1]] = 1
        ret = reshape(ret, tuple(shape))
    return ret


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """numpy.linalg.vector_norm: ``norm`` of the vectors along ``axis`` (any
    number of axes, flattened into one)."""
    x = asarray(x)
    shape = list(x.shape)
    if axis is None:
        x, along = ravel(x), 0
    elif isinstance(axis, tuple):
        axes = tuple(normalize_axis(a, x.ndim) for a in axis)
        rest = tuple(i for i in range(x.ndim) if i not in axes)
        size = 1
        for i in axes:
            size *= x.shape[i]
        x = reshape(transpose(x, axes + rest), (size,) + tuple(x.shape[i] for i in rest))
        along = 0
    else:
        along = axis
    ret = norm(x, axis=along, ord=ord)
    if keepdims:
        reduced = range(len(shape)) if axis is None else (
            axis if isinstance(axis, tuple) else (axis,))
        for i in reduced:
            shape[normalize_axis(i, len(shape))] = 1
        ret = reshape(ret, tuple(shape))
    return ret


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """numpy.linalg.matrix_norm: ``norm`` over the last two axes."""
    return norm(x, axis=(-2, -1), keepdims=keepdims, ord=ord)
