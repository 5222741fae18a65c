"""numpy.linalg's decompositions and what is computed from them: cholesky,
qr, eigh, eigvalsh, svd, svdvals, pinv, lstsq, matrix_rank; and the
argument handling every ``chainrule.numpy.linalg`` function shares
(NumPy's dtypes, its checks and its result tuples).

The decompositions bind primitives of their own (``primitives/decompositions.py``,
where their derivatives are derived); see ``linalg.py`` for the namespace.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import primitives as P
from ..tracer.core import Tracer, bind
from ..tracer.errors import ConcretizationError
from ._linalg import matmul
from ._reductions import max as _max, sum as _sum
from ._shapes import expand_dims, matrix_transpose, reshape
from ._ufuncs import not_equal
from ._util import asarray, cast

LinAlgError = np.linalg.LinAlgError
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
QRResult = namedtuple("QRResult", ["Q", "R"])
SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])


# -- arguments: NumPy's checks and dtypes ---------------------------------------
def linalg_dtype(*dtypes):
    """NumPy computes linear algebra in double precision and returns float32
    only when every operand is float32; integers and booleans become float64."""
    for d in dtypes:
        if np.issubdtype(d, np.complexfloating):
            raise NotImplementedError("numpy.linalg on complex arrays is not supported by "
                                      "chainrule")
        if d == np.float16:
            raise TypeError("array type float16 is unsupported in linalg")
    return np.dtype(np.float32 if all(d == np.float32 for d in dtypes) else np.float64)


def matrices(*arrays, square=False):
    """The operands as float stacks of matrices of one dtype (NumPy's errors
    for fewer than two dimensions or, with ``square``, non-square ones)."""
    arrays = [asarray(a) for a in arrays]
    dtype = linalg_dtype(*[a.dtype for a in arrays])
    for a in arrays:
        if a.ndim < 2:
            raise LinAlgError(f"{a.ndim}-dimensional array given. Array must be at least "
                              "two-dimensional")
        if square and a.shape[-1] != a.shape[-2]:
            raise LinAlgError("Last 2 dimensions of the array must be square")
    return [cast(a, dtype) for a in arrays]


# -- decompositions ---------------------------------------------------------------
def cholesky(a, /, *, upper=False):
    """numpy.linalg.cholesky: lower ``L`` with ``a = L L^T``, reading ``a``'s
    lower triangle only (``upper=True``: ``U = L^T`` from the upper one).
    Derivative: ``dL = L Phi(L^{-1} da L^{-T})`` (see ``primitives.decompositions``),
    ``da`` being the read triangle mirrored."""
    a, = matrices(a, square=True)
    if upper:
        return matrix_transpose(bind(P.cholesky_p, matrix_transpose(a)))
    return bind(P.cholesky_p, a)


def qr(a, mode="reduced"):
    """numpy.linalg.qr in modes 'reduced' (``Q (m, k), R (k, n)``), 'complete'
    and 'r'.  Derivatives: Walter, Lehmann & Lamour's formula; 'complete' of
    a tall matrix has none (its extra columns are arbitrary) and raises when
    differentiated.  'raw' (Householder reflectors) is not supported."""
    if mode not in ("reduced", "complete", "r"):
        if mode in ("raw", "full", "f", "economic", "e"):
            raise NotImplementedError(f"numpy.linalg.qr: mode={mode!r} is not supported by "
                                      "chainrule; use 'reduced', 'complete' or 'r'")
        raise ValueError(f"Unrecognized mode '{mode}'")
    a, = matrices(a)
    q, r = bind(P.qr_p, a, full_matrices=mode == "complete")
    return r if mode == "r" else QRResult(q, r)


def eigh(a, UPLO="L"):
    """numpy.linalg.eigh: ascending eigenvalues ``w`` and orthonormal
    eigenvectors ``V`` of the symmetric matrix in ``a``'s lower (``UPLO='L'``)
    or upper triangle.  Derivative (distinct eigenvalues): with
    ``dS = V^T da V``, ``dw = diag(dS)``, ``dV = V (F o dS)``,
    ``F_ij = 1/(w_j - w_i)``; each eigenvector keeps its sign (as LAPACK's
    does, under a small change)."""
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    a, = matrices(a, square=True)
    return EighResult(*bind(P.eigh_p, a, lower=UPLO == "L"))


def eigvalsh(a, UPLO="L"):
    """numpy.linalg.eigvalsh: the eigenvalues of ``eigh``; dw_i = v_i^T da v_i."""
    return eigh(a, UPLO).eigenvalues


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """numpy.linalg.svd: ``a = U diag(S) Vh``, singular values descending.
    Derivative: Townsend's formulas for distinct non-zero singular values;
    ``full_matrices=True`` of a non-square matrix has none (the extra
    singular vectors are arbitrary) and raises when differentiated: pass
    ``full_matrices=False``.  ``compute_uv=False`` gives ``S``, whose
    derivative ``dS = diag(U^T da V)`` needs only distinct values where
    they are non-zero."""
    a, = matrices(a)
    if hermitian and a.shape[-1] != a.shape[-2]:
        raise LinAlgError("Last 2 dimensions of the array must be square")
    u, s, vh = bind(P.svd_p, a, full_matrices=bool(full_matrices and compute_uv),
                    hermitian=bool(hermitian))
    return SVDResult(u, s, vh) if compute_uv else s


def svdvals(x, /):
    """numpy.linalg.svdvals: the singular values, descending."""
    return svd(x, compute_uv=False)


_NO_VALUE = object()


def _rcond(rcond, rtol, shape, dtype):
    """NumPy's cutoff of small singular values for pinv."""
    if rcond is None:
        if rtol is _NO_VALUE:
            rcond = 1e-15
        elif rtol is None:
            rcond = max(shape[-2:]) * np.finfo(dtype).eps
        else:
            rcond = rtol
    elif rtol is not _NO_VALUE:
        raise ValueError("`rtol` and `rcond` can't be both set.")
    if isinstance(rcond, Tracer) or np.ndim(rcond) != 0:
        raise NotImplementedError("numpy.linalg.pinv: only a constant scalar rcond/rtol is "
                                  "supported by chainrule")
    return float(rcond)


def pinv(a, rcond=None, hermitian=False, *, rtol=_NO_VALUE):
    """numpy.linalg.pinv: the Moore-Penrose pseudo-inverse by SVD, singular
    values at most ``rcond * max(s)`` dropped.  Derivative: Golub & Pereyra's
    ``dP = -P da P + P P^T da^T (I - a P) + (I - P a) da^T P^T P``, valid where
    the rank does not change; it stays right at repeated singular values."""
    a, = matrices(a)
    return bind(P.pinv_p, a, rcond=_rcond(rcond, rtol, a.shape, a.dtype),
                hermitian=bool(hermitian))


def lstsq(a, b, rcond=None):
    """numpy.linalg.lstsq: ``(x, residuals, rank, s)`` for ``a`` (m, n) and ``b``
    (m,) or (m, k).  ``x = pinv(a, rcond) @ b`` (NumPy's cutoff: ``rcond``
    times the largest singular value, ``eps * max(m, n)`` by default), so
    ``x`` is differentiable wherever the rank is constant.  ``residuals``
    are the squared column norms of ``b - a x`` when ``m > n`` and ``a`` has
    full rank, else empty; traced abstractly (``make_ir``, ``vmap``) the rank is not known
    while tracing and full rank is assumed."""
    a, b = asarray(a), asarray(b)
    dtype = linalg_dtype(a.dtype, b.dtype)
    a, b = cast(a, dtype), cast(b, dtype)
    if a.ndim != 2 or b.ndim not in (1, 2):
        raise LinAlgError(f"{a.ndim}-dimensional array given. Array must be two-dimensional")
    m, n = a.shape
    if b.shape[0] != m:
        raise LinAlgError("Incompatible dimensions")
    if rcond is None:
        rcond = np.finfo(dtype).eps * max(m, n)
    x = matmul(bind(P.pinv_p, a, rcond=float(rcond), hermitian=False), b)
    s = svdvals(a)
    rank = _sum(s > (_max(s) * rcond if s.shape[0] else 0.0), dtype=np.int32) \
        if min(m, n) else np.int32(0)
    full = m > n
    if full:
        try:
            full = int(rank) == n
        except ConcretizationError:
            pass   # abstract tracing: the shape cannot depend on the rank's value
    if full:
        r = b - matmul(a, x)
        residuals = _sum(r * r, axis=0)
        if b.ndim == 1:
            residuals = reshape(residuals, (1,))
    else:
        residuals = np.empty((0,), dtype)
    return x, residuals, rank, s


def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """numpy.linalg.matrix_rank: how many singular values exceed the
    tolerance (an integer: zero derivative)."""
    A = asarray(A)
    if A.ndim < 2:   # NumPy: 1 unless every entry is 0
        return cast(_sum(not_equal(A, 0)) > 0, np.int64)
    s = svd(A, compute_uv=False, hermitian=hermitian)
    if tol is None:
        if rtol is None:
            rtol = max(A.shape[-2:]) * np.finfo(s.dtype).eps
        else:
            rtol = expand_dims(asarray(rtol), -1)
        tol = _max(s, axis=-1, keepdims=True) * rtol
    else:
        tol = expand_dims(asarray(tol), -1)
    return _sum(s > tol, axis=-1)
