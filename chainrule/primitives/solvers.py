"""Linear solves and the log-determinant: ``solve``, ``triangular_solve``,
``slogdet``.

All take stacks of matrices, ``(..., n, n)`` with equal leading batch axes
(``chainrule.numpy.linalg`` broadcasts them first).  ``solve`` and
``triangular_solve`` are linear in their right-hand side, so the tangent
and cotangent programs of every rule here are solves again, with the
factorised matrix as a residual:

    solve            X = A^{-1} B      dX = A^{-1} (dB - dA X)     B_bar = A^{-T} X_bar
    triangular_solve X = op(A)^{-1} B  the same, with op(A) triangular
    slogdet          log|det A|        d = tr(A^{-1} dA) = <A^{-T}, dA>

``inv``, ``det`` and ``lstsq``-style code are built from these by
``chainrule.numpy.linalg``; none of them needs an LU primitive of its own.
"""
from __future__ import annotations

import numpy as np

from ..tracer.avals import ShapedArray
from ..tracer.core import get_aval
from ..tracer.errors import ShapeError
from ._ad import LinearInput, Zero
from ._batch import batch_leading
from ._define import primitive
from ._matrix import (batch_size, check_float, check_square, eye, mm, mT, tril_mask,
                      triu_mask)
from ._ops import mul, neg, reduce_sum, solve, sub, triangular_solve


def _check_rhs(name, a, b, left_side=True):
    check_square(name, a)
    check_float(name, a, b)
    n = a.shape[-1]
    if b.ndim != a.ndim or b.shape[:-2] != a.shape[:-2] or \
            (b.shape[-2] if left_side else b.shape[-1]) != n:
        side = f"(..., {n}, k)" if left_side else f"(..., k, {n})"
        raise ShapeError(f"{name}: the right-hand side must be {side} with the batch axes "
                         f"{a.shape[:-2]} of the matrix, got {b.str_short()} for "
                         f"{a.str_short()}")


# -- solve a b: X with A X = B, for A (..., n, n) and B (..., n, k) ------------
def _solve_shape(a, b):
    _check_rhs("solve", a, b)
    return ShapedArray(b.shape, b.dtype)


def _solve_cost(in_avals, out_avals):
    # LU factorisation (2/3 n^3) and two triangular solves per column (2 n^2 k)
    a, b = in_avals
    n, k = a.shape[-1], b.shape[-1]
    return batch_size(a.shape) * (2 * n ** 3 // 3 + 2 * n * n * k)


solve_p = primitive("solve", lambda a, b: np.linalg.solve(a, b), _solve_shape, cost=_solve_cost)


def _solve_jvp(primals, tangents, x):
    # A X = B  =>  dA X + A dX = dB  =>  dX = A^{-1} (dB - dA X)
    (a, _), (ta, tb) = primals, tangents
    if type(ta) is Zero:
        rhs = tb
    else:
        rhs = neg(mm(ta, x)) if type(tb) is Zero else sub(tb, mm(ta, x))
    return solve(a, rhs)


def _solve_transpose(ct, a, b):
    # X = A^{-1} B is linear in B; its transpose maps X_bar to A^{-T} X_bar
    assert type(a) is not LinearInput, "solve is linear in its right-hand side only"
    return [None, solve(mT(a), ct)]


solve_p.jvp = _solve_jvp
solve_p.transpose = _solve_transpose


# -- triangular_solve[left_side, lower, transpose_a, unit_diagonal] a b --------
# X with op(A) X = B (left_side) or X op(A) = B, where op(A) is A or A^T and
# only the lower (or upper) triangle of A is read; with unit_diagonal its
# diagonal is taken to be ones and not read either.
def _triangular_solve_shape(a, b, *, left_side, lower, transpose_a, unit_diagonal):
    _check_rhs("triangular_solve", a, b, left_side)
    return ShapedArray(b.shape, b.dtype)


def _substitute(m, b, lower, unit):
    """Forward (lower) or back (upper) substitution for ``M X = B``, one row
    of X at a time over the whole stack: n^2 k flops, as LAPACK's trsm."""
    n = m.shape[-1]
    if not unit and np.any(np.diagonal(m, axis1=-2, axis2=-1) == 0):
        raise np.linalg.LinAlgError("triangular_solve: singular matrix (a zero on the diagonal)")
    x = np.zeros(b.shape, b.dtype)
    for i in (range(n) if lower else range(n - 1, -1, -1)):
        lo, hi = (0, i) if lower else (i + 1, n)
        r = b[..., i, :] - np.matmul(m[..., i:i + 1, lo:hi], x[..., lo:hi, :])[..., 0, :]
        x[..., i, :] = r if unit else r / m[..., i, i:i + 1]
    return x


def _triangular_solve_impl(a, b, *, left_side, lower, transpose_a, unit_diagonal):
    # reduce every variant to M X = B with M = op(A): X op(A) = B is
    # op(A)^T X^T = B^T, and transposing a triangle swaps lower and upper
    a, b = np.asarray(a), np.asarray(b)
    m = np.swapaxes(a, -1, -2) if transpose_a else a
    low = lower != transpose_a
    if left_side:
        return _substitute(m, b, low, unit_diagonal)
    x = _substitute(np.swapaxes(m, -1, -2), np.swapaxes(b, -1, -2), not low, unit_diagonal)
    return np.swapaxes(x, -1, -2).copy()


def _triangular_solve_cost(in_avals, out_avals, **params):
    # n^2 per column (left side) or row (right side) of B
    a, b = in_avals
    return batch_size(b.shape) * a.shape[-1] * b.shape[-2] * b.shape[-1]


triangular_solve_p = primitive("triangular_solve", _triangular_solve_impl,
                               _triangular_solve_shape, cost=_triangular_solve_cost)


def _triangular_solve_jvp(primals, tangents, x, *, left_side, lower, transpose_a,
                          unit_diagonal):
    # op(A) X = B  =>  op(A) dX = dB - op(dA) X   (left; X op(dA) on the right),
    # where dA varies only in the triangle that is read
    (a, _), (ta, tb) = primals, tangents
    rhs = tb
    if type(ta) is not Zero:
        aval = get_aval(a)
        k = (-1 if lower else 1) if unit_diagonal else 0
        mask = tril_mask(aval.shape, aval.dtype, k) if lower else triu_mask(aval.shape,
                                                                            aval.dtype, k)
        op_ta = mul(ta, mask)
        op_ta = mT(op_ta) if transpose_a else op_ta
        prod = mm(op_ta, x) if left_side else mm(x, op_ta)
        rhs = neg(prod) if type(tb) is Zero else sub(tb, prod)
    return triangular_solve(a, rhs, left_side, lower, transpose_a, unit_diagonal)


def _triangular_solve_transpose(ct, a, b, *, left_side, lower, transpose_a, unit_diagonal):
    # X = op(A)^{-1} B  =>  B_bar = op(A)^{-T} X_bar  (right: X_bar op(A)^{-T})
    assert type(a) is not LinearInput, "triangular_solve is linear in its right-hand side only"
    return [None, triangular_solve(a, ct, left_side, lower, not transpose_a, unit_diagonal)]


triangular_solve_p.jvp = _triangular_solve_jvp
triangular_solve_p.transpose = _triangular_solve_transpose


# -- slogdet a: (sign, log|det A|) ----------------------------------------------
def _slogdet_shape(a):
    check_square("slogdet", a)
    check_float("slogdet", a)
    out = ShapedArray(a.shape[:-2], a.dtype)
    return [out, out]


def _slogdet_impl(a):
    sign, logabsdet = np.linalg.slogdet(a)
    return [sign, logabsdet]


def _slogdet_cost(in_avals, out_avals):
    return batch_size(in_avals[0].shape) * 2 * in_avals[0].shape[-1] ** 3 // 3


slogdet_p = primitive("slogdet", _slogdet_impl, _slogdet_shape, multiple_results=True,
                      cost=_slogdet_cost)


def _slogdet_jvp(primals, tangents, out):
    # Jacobi's formula: d log|det A| = tr(A^{-1} dA) = sum_ij (A^{-T})_ij dA_ij;
    # the sign is piecewise constant.  A^{-T} is the residual (it does not
    # exist at a singular A, where log|det A| = -inf has no derivative).
    (a,), (ta,) = primals, tangents
    sign, _ = out
    aval = get_aval(a)
    inv_t = mT(solve(a, eye(aval.shape, aval.dtype)))
    return [Zero(get_aval(sign)), reduce_sum(mul(inv_t, ta), (aval.ndim - 2, aval.ndim - 1))]


slogdet_p.jvp = _slogdet_jvp


# stacks of matrices: a batch is one more leading axis
for _p in (solve_p, triangular_solve_p, slogdet_p):
    batch_leading(_p)


# singular matrices raise LinAlgError: checks that dead code elimination keeps
solve_p.may_raise = triangular_solve_p.may_raise = True
