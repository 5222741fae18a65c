"""Matrix decompositions: ``cholesky``, ``qr``, ``eigh``, ``svd``, and ``pinv``.

Each is a primitive over stacks of matrices ``(..., m, n)`` computed by
NumPy (LAPACK), with a JVP rule from the literature written with ``bind``:
its linear part is products, masks and triangular solves applied to the
tangent, with the decomposition's outputs as residuals, so reverse mode
transposes it and second derivatives differentiate the rule again.

Like LAPACK (and NumPy), ``cholesky`` and ``eigh`` read one triangle of
their operand only; their derivatives are those of that function: the
tangent is the read triangle mirrored (``_matrix.symmetrize``).

Where a derivative does not exist the rules say so: ``eigh`` and ``svd``
need distinct eigen/singular values (the formulas divide by their
differences), ``svd`` with ``full_matrices`` of a non-square matrix and
``qr`` in ``complete`` mode of a tall one have no unique derivative (the
extra columns are any orthonormal completion), and raise.
"""
from __future__ import annotations

import numpy as np

from ..tracer.avals import ShapedArray
from ..tracer.core import get_aval
from ..tracer.errors import ShapeError
from ._batch import batch_leading
from ._define import primitive
from ._matrix import (batch_size, check_float, check_square, diagonal, eye, gaps_reciprocal,
                      mm, mT, spread, symmetrize, tril_mask)
from ._ops import add, concatenate, div, mul, slice_, square, sub, triangular_solve


def _matrix_shape(name, a):
    check_float(name, a)
    if a.ndim < 2:
        raise ShapeError(f"{name} needs matrices (..., m, n), got {a.str_short()}")


# -- cholesky a: L lower triangular with L L^T = A (reads A's lower triangle) --
def _cholesky_shape(a):
    check_square("cholesky", a)
    check_float("cholesky", a)
    return a


def _cholesky_cost(in_avals, out_avals):
    return batch_size(in_avals[0].shape) * in_avals[0].shape[-1] ** 3 // 3


cholesky_p = primitive("cholesky", lambda a: np.linalg.cholesky(a), _cholesky_shape,
                       cost=_cholesky_cost)


def _cholesky_jvp(primals, tangents, L):
    # A = L L^T  =>  L^{-1} dA L^{-T} = L^{-1} dL + (L^{-1} dL)^T, and L^{-1} dL is
    # lower triangular, so  dL = L Phi(L^{-1} dA L^{-T})  with Phi taking the
    # lower triangle and half the diagonal (Murray 2016, "Differentiation of
    # the Cholesky decomposition")
    (ta,) = tangents
    aval = get_aval(L)
    y = triangular_solve(L, symmetrize(ta, lower=True), left_side=True, lower=True)
    y = triangular_solve(L, y, left_side=False, lower=True, transpose_a=True)
    phi = tril_mask(aval.shape, aval.dtype, -1) + 0.5 * eye(aval.shape, aval.dtype)
    return mm(L, mul(y, phi))


cholesky_p.jvp = _cholesky_jvp


# -- qr[full_matrices] a: (Q, R), A = Q R -------------------------------------
def _qr_shape(a, *, full_matrices):
    _matrix_shape("qr", a)
    m, n = a.shape[-2:]
    k = m if full_matrices else min(m, n)
    batch = a.shape[:-2]
    return [ShapedArray(batch + (m, k), a.dtype), ShapedArray(batch + (k, n), a.dtype)]


def _qr_impl(a, *, full_matrices):
    q, r = np.linalg.qr(a, mode="complete" if full_matrices else "reduced")
    return [q, r]


def _qr_cost(in_avals, out_avals, *, full_matrices):
    # Householder QR and forming Q: about 4 m n k - 4/3 k^3 (k = min(m, n))
    m, n = in_avals[0].shape[-2:]
    k = min(m, n)
    return batch_size(in_avals[0].shape) * (4 * m * n * k - 4 * k ** 3 // 3)


qr_p = primitive("qr", _qr_impl, _qr_shape, multiple_results=True, cost=_qr_cost)


def _qr_square_or_tall(q, r, ta):
    # A = Q R (m >= n).  C = Q^T dA R^{-1} = Q^T dQ + dR R^{-1}, where Q^T dQ = W
    # is skew-symmetric and dR R^{-1} upper triangular, so W is C's strictly
    # lower part minus its transpose, and
    #   dR = (C - W) R,   dQ = dA R^{-1} - Q (C - W)
    # (Walter, Lehmann & Lamour 2012; JAX's qr_jvp_rule)
    aval = get_aval(r)
    da_rinv = triangular_solve(r, ta, left_side=False, lower=False)
    c = mm(mT(q), da_rinv)
    low = mul(c, tril_mask(aval.shape, aval.dtype, -1))
    c_minus_w = sub(c, sub(low, mT(low)))
    return sub(da_rinv, mm(q, c_minus_w)), mm(c_minus_w, r)


def _qr_jvp(primals, tangents, out, *, full_matrices):
    (ta,), (q, r) = tangents, out
    m, n = get_aval(ta).shape[-2:]
    if full_matrices and m > n:
        raise NotImplementedError(
            "qr(mode='complete') of a tall matrix has no unique derivative (the last m - n "
            "columns of Q are any orthonormal completion); use mode='reduced'")
    if m >= n:
        return list(_qr_square_or_tall(q, r, ta))
    # wide: A = Q [R1 R2] with A1 = Q R1 square.  dQ and dR1 come from A1;
    # A2 = Q R2 gives dR2 = Q^T (dA2 - dQ R2)
    nd = get_aval(ta).ndim

    def cols(x, lo, hi):   # x[..., :, lo:hi]
        shape = get_aval(x).shape
        return slice_(x, (0,) * (nd - 1) + (lo,), shape[:-1] + (hi,), (1,) * nd)
    dq, dr1 = _qr_square_or_tall(q, cols(r, 0, m), cols(ta, 0, m))
    dr2 = mm(mT(q), sub(cols(ta, m, n), mm(dq, cols(r, m, n))))
    return [dq, concatenate(dr1, dr2, axis=nd - 1)]


qr_p.jvp = _qr_jvp


# -- eigh[lower] a: (w, V), A V = V diag(w), w ascending ----------------------
def _eigh_shape(a, *, lower):
    check_square("eigh", a)
    check_float("eigh", a)
    return [ShapedArray(a.shape[:-1], a.dtype), a]


def _eigh_impl(a, *, lower):
    w, v = np.linalg.eigh(a, UPLO="L" if lower else "U")
    return [w, v]


def _eigh_cost(in_avals, out_avals, *, lower):
    # tridiagonal reduction and QR iterations with vectors: about 9 n^3
    return batch_size(in_avals[0].shape) * 9 * in_avals[0].shape[-1] ** 3


eigh_p = primitive("eigh", _eigh_impl, _eigh_shape, multiple_results=True, cost=_eigh_cost)


def _eigh_jvp(primals, tangents, out, *, lower):
    # A = V diag(w) V^T with V^T V = I.  With dS = V^T dA V (Magnus 1985;
    # Giles 2008, "An extended collection of matrix derivative results"):
    #   dw = diag(dS),   dV = V (F o dS),   F_ij = 1/(w_j - w_i) (i != j), F_ii = 0
    # (F requires distinct eigenvalues)
    (ta,), (w, v) = tangents, out
    ds = mm(mT(v), mm(symmetrize(ta, lower), v))
    return [diagonal(ds), mm(v, mul(gaps_reciprocal(w), ds))]


eigh_p.jvp = _eigh_jvp


# -- svd[full_matrices, hermitian] a: (U, s, Vh), A = U diag(s) Vh --------------
def _svd_shape(a, *, full_matrices, hermitian):
    _matrix_shape("svd", a)
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    if hermitian:
        check_square("svd(hermitian=True)", a)
    u, vh = ((m, m), (n, n)) if full_matrices else ((m, k), (k, n))
    return [ShapedArray(batch + u, a.dtype), ShapedArray(batch + (k,), a.dtype),
            ShapedArray(batch + vh, a.dtype)]


def _svd_impl(a, *, full_matrices, hermitian):
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices, hermitian=hermitian)
    return [u, s, vh]


def _svd_cost(in_avals, out_avals, **params):
    # Golub-Kahan bidiagonalisation with both factors: about 4 m n k + 8 k^3
    m, n = in_avals[0].shape[-2:]
    k = min(m, n)
    return batch_size(in_avals[0].shape) * (4 * m * n * k + 8 * k ** 3)


svd_p = primitive("svd", _svd_impl, _svd_shape, multiple_results=True, cost=_svd_cost)


def _svd_jvp(primals, tangents, out, *, full_matrices, hermitian):
    # A = U S V^T (thin).  With dP = U^T dA V (Townsend 2016, "Differentiating
    # the singular value decomposition"; Seeger et al. 2017):
    #   ds = diag(dP)
    #   dU = U (F o (dP S + S dP^T)) + (I - U U^T) dA V S^{-1}
    #   dV = V (F o (S dP + dP^T S)) + (I - V V^T) dA^T U S^{-1}
    #   F_ij = 1/(s_j^2 - s_i^2) (i != j), F_ii = 0
    # The projection terms are there only when U (or V) is not square; the
    # formula needs distinct, non-zero singular values.
    (ta,), (u, s, vh) = tangents, out
    shape = get_aval(ta).shape
    m, n = shape[-2:]
    k = min(m, n)
    if full_matrices and m != n:
        raise NotImplementedError(
            "svd(full_matrices=True) of a non-square matrix has no unique derivative (the "
            "extra singular vectors are any orthonormal completion); use full_matrices=False")
    if hermitian:  # computed by eigh, which reads the lower triangle
        ta = symmetrize(ta, lower=True)
    v = mT(vh)
    dp = mm(mT(u), mm(ta, v))
    kk = shape[:-2] + (k, k)
    s_row, s_col = spread(s, kk, -1), spread(s, kk, -2)     # [i, j] -> s_j, s_i
    f = gaps_reciprocal(square(s))
    dp_s, s_dp = mul(dp, s_row), mul(s_col, dp)
    du = mm(u, mul(f, add(dp_s, mT(dp_s))))
    dv = mm(v, mul(f, add(s_dp, mT(s_dp))))
    if m > k:
        da_v = mm(ta, v)
        du = add(du, div(sub(da_v, mm(u, mm(mT(u), da_v))), spread(s, shape[:-2] + (m, k), -1)))
    if n > k:
        dat_u = mm(mT(ta), u)
        dv = add(dv, div(sub(dat_u, mm(v, mm(vh, dat_u))), spread(s, shape[:-2] + (n, k), -1)))
    return [du, diagonal(dp), mT(dv)]


svd_p.jvp = _svd_jvp


# -- pinv[rcond, hermitian] a: the Moore-Penrose pseudo-inverse ----------------
def _pinv_shape(a, *, rcond, hermitian):
    _matrix_shape("pinv", a)
    if hermitian:
        check_square("pinv(hermitian=True)", a)
    return ShapedArray(a.shape[:-2] + (a.shape[-1], a.shape[-2]), a.dtype)


def _pinv_cost(in_avals, out_avals, **params):
    m, n = in_avals[0].shape[-2:]
    k = min(m, n)
    return batch_size(in_avals[0].shape) * (4 * m * n * k + 8 * k ** 3 + 2 * m * n * k)


pinv_p = primitive("pinv", lambda a, *, rcond, hermitian: np.linalg.pinv(
    a, rcond=rcond, hermitian=hermitian), _pinv_shape, cost=_pinv_cost)


def _pinv_jvp(primals, tangents, p, *, rcond, hermitian):
    # Golub & Pereyra 1973, where the rank is locally constant:
    #   dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P
    # Differentiating through the SVD instead would fail at repeated singular
    # values (an orthogonal A, say) although P is smooth there.
    (a,), (ta,) = primals, tangents
    aval = get_aval(a)
    m, n = aval.shape[-2:]
    batch = aval.shape[:-2]
    if hermitian:  # computed by eigh, which reads the lower triangle
        a, ta = symmetrize(a, lower=True), symmetrize(ta, lower=True)
    dat = mT(ta)
    out = mm(p, mm(ta, p))
    out = sub(mm(mm(p, mT(p)), mm(dat, sub(eye(batch + (m, m), aval.dtype), mm(a, p)))), out)
    return add(out, mm(sub(eye(batch + (n, n), aval.dtype), mm(p, a)), mm(dat, mm(mT(p), p))))


pinv_p.jvp = _pinv_jvp


# stacks of matrices: a batch is one more leading axis
for _p in (cholesky_p, qr_p, eigh_p, svd_p, pinv_p):
    batch_leading(_p)


# a matrix that is not positive definite, or a factorization that does not
# converge, raises LinAlgError: checks that dead code elimination keeps
cholesky_p.may_raise = eigh_p.may_raise = svd_p.may_raise = True
