"""Linear algebra: the products, numpy.linalg and scipy.linalg.solve_triangular.

* Every function, through ``check_grads(order=2, modes=("fwd", "rev"))`` on
  several shapes: vectors, matrices, stacks of matrices, broadcast batch
  axes, 0-d operands, axis variants.
* Derivatives against formulas derived by hand and evaluated with NumPy
  (Jacobi's formula, the eigenvalue and singular-value perturbations, the
  derivative of the inverse, the Cholesky log-determinant) and the
  identities the derivatives of decompositions must satisfy.
* The hard points: norms at zero (subgradient 0), eigenvalues that repeat
  (their sum stays differentiable), a pseudo-inverse at repeated singular
  values, and the places where no derivative exists raise clearly.
* Values that have no row in ``test_numpy.py``: SciPy's solve_triangular
  against NumPy's solve of the masked matrix, and lstsq under ``make_ir``.
"""
from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.scipy.linalg import solve_triangular

rng = np.random.default_rng(2024)
LA = cnp.linalg


def A(*shape):
    return rng.standard_normal(shape)


def well(*shape):
    """Well-conditioned square matrices: random plus 4 I."""
    return A(*shape) + 4 * np.eye(shape[-1])


def spd(*shape):
    x = A(*shape)
    return x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])


def orthogonal(n):
    return np.linalg.qr(A(n, n))[0]


def check(f, *args, **tol):
    cr.check_grads(f, args, order=2, modes=("fwd", "rev"), **tol)


# -- the products (dot_general): every calling convention ------------------------
PRODUCTS = [
    ("dot[1,1]", cnp.dot, A(3), A(3)), ("dot[2,1]", cnp.dot, A(2, 3), A(3)),
    ("dot[1,2]", cnp.dot, A(3), A(3, 4)), ("dot[3,2]", cnp.dot, A(2, 2, 3), A(3, 4)),
    ("dot[2,3]", cnp.dot, A(2, 3), A(4, 3, 2)), ("dot[0d]", cnp.dot, A(), A(2, 3)),
    ("vdot", cnp.vdot, A(2, 3), A(3, 2)), ("inner[2,2]", cnp.inner, A(2, 3), A(4, 3)),
    ("inner[3,1]", cnp.inner, A(2, 2, 3), A(3)), ("inner[0d]", cnp.inner, A(), A(2)),
    ("outer", cnp.outer, A(3), A(2, 2)),
    ("matmul[1,1]", cnp.matmul, A(3), A(3)), ("matmul[1,3]", cnp.matmul, A(3), A(2, 3, 4)),
    ("matmul[3,1]", cnp.matmul, A(2, 4, 3), A(3)), ("matmul[2,3]", cnp.matmul, A(2, 3), A(4, 3, 2)),
    ("matmul[batch]", cnp.matmul, A(2, 3, 4), A(2, 4, 2)),
    ("matmul[broadcast]", cnp.matmul, A(2, 1, 3, 4), A(5, 4, 2)),
    ("matmul[broadcast2]", cnp.matmul, A(2, 1, 3, 4), A(1, 3, 4, 2)),
    ("@[same]", lambda a: a @ a, A(3, 3)),
    ("tensordot[0]", lambda a, b: cnp.tensordot(a, b, 0), A(3), A(2)),
    ("tensordot[2]", cnp.tensordot, A(2, 3, 4), A(3, 4, 2)),
    ("tensordot[pairs]", lambda a, b: cnp.tensordot(a, b, axes=([1, 0], [0, 1])),
     A(3, 4, 2), A(4, 3, 2)),
    ("kron[2,2]", cnp.kron, A(2, 3), A(2, 2)), ("kron[1,3]", cnp.kron, A(2), A(2, 1, 2)),
    ("kron[0d]", cnp.kron, A(), A(3)),
    ("cross", cnp.cross, A(3), A(3)), ("cross[broadcast]", cnp.cross, A(4, 1, 3), A(2, 3)),
    ("cross[axis]", lambda a, b: cnp.cross(a, b, axis=0), A(3, 2), A(3, 2)),
    ("cross[3x2]", cnp.cross, A(2, 3), A(2, 2)),
    ("vecdot", cnp.vecdot, A(2, 3), A(3)),
    ("vecdot[axis]", lambda a, b: cnp.vecdot(a, b, axis=0), A(3, 2), A(3, 1)),
    ("matvec", cnp.matvec, A(2, 3, 4), A(4)), ("vecmat", cnp.vecmat, A(3), A(2, 3, 4)),
    ("multi_dot", lambda a, b, c: LA.multi_dot([a, b, c]), A(2, 3), A(3, 4), A(4, 2)),
    ("multi_dot[4,vectors]", lambda a, b, c, d: LA.multi_dot([a, b, c, d]),
     A(4), A(4, 3), A(3, 5), A(5)),
    ("linalg.outer", LA.outer, A(2), A(3)),
    ("linalg.tensordot", lambda a, b: LA.tensordot(a, b, axes=1), A(2, 3), A(3, 2)),
    ("linalg.diagonal", lambda a: LA.diagonal(a, offset=-1), A(2, 3, 4)),
    ("linalg.trace", LA.trace, A(2, 3, 3)),
]
EINSUM = [
    ("ij,jk->ik", A(2, 3), A(3, 4)), ("ij,jk", A(2, 3), A(3, 4)), ("ii", A(3, 3)),
    ("ii->i", A(3, 3)), ("iij->ji", A(3, 3, 2)), ("iji->j", A(2, 3, 2)), ("ij->", A(2, 3)),
    ("i,i", A(3), A(3)), ("i,j->ji", A(3), A(2)), ("...ij,...jk->...ik", A(2, 2, 3), A(2, 3, 4)),
    ("i...->...", A(3, 2, 2)), ("ij,jk,kl->il", A(2, 3), A(3, 4), A(4, 2)),
    ("ij,jk,ki->", A(2, 3), A(3, 2), A(2, 2)), ("ii,ii->i", A(3, 3), A(3, 3)),
    ("bi,bi->b", A(4, 3), A(4, 3)), ("i,i,i->", A(3), A(3), A(3)), ("ijk,jil->kl", A(2, 3, 4),
                                                                     A(3, 2, 5)),
    ("ij,j->i", A(2, 3), A(1)), ("...i,...i->...", A(2, 1, 3), A(4, 3)), (",i", A(), A(3)),
]


@pytest.mark.parametrize("name, f, args", [pytest.param(n, f, a, id=n)
                                           for n, f, *a in PRODUCTS])
def test_products(name, f, args):
    check(f, *args)


@pytest.mark.parametrize("spec, args", [pytest.param(s, a, id=s) for s, *a in EINSUM])
def test_einsum(spec, args):
    check(lambda *xs: cnp.einsum(spec, *xs), *args)
    np.testing.assert_allclose(cnp.einsum(spec, *args), np.einsum(spec, *args), rtol=1e-12)


def test_einsum_sublists_and_broadcasting():
    a, b = A(2, 3), A(3, 4)
    np.testing.assert_allclose(cnp.einsum(a, [0, 1], b, [1, 2], [0, 2]), a @ b, rtol=1e-12)
    check(lambda a, b: cnp.einsum(a, [Ellipsis, 0], b, [0, 1]), A(2, 3), A(3, 2))
    # a letter of size 1 broadcasts without being summed twice
    x, y = A(2, 1), A(2, 3)
    np.testing.assert_allclose(cnp.einsum("ij,ij->ij", x, y), x * y, rtol=1e-12)
    with pytest.raises(NotImplementedError, match="dtype="):
        cnp.einsum("ij,jk", a, b, dtype=np.float32)


def test_cross_of_2_vectors_is_the_z_component():
    a, b = A(4, 2), A(4, 2)
    np.testing.assert_allclose(cnp.cross(a, b), a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0])
    check(cnp.cross, a, b)


# -- solves, inverses, determinants ------------------------------------------------
@pytest.mark.parametrize("f, args", [
    pytest.param(LA.solve, (well(3, 3), A(3, 2)), id="solve"),
    pytest.param(LA.solve, (well(3, 3), A(3)), id="solve[vector]"),
    pytest.param(LA.solve, (well(2, 3, 3), A(3)), id="solve[batch,vector]"),
    pytest.param(LA.solve, (well(2, 1, 3, 3), A(4, 3, 2)), id="solve[broadcast]"),
    pytest.param(LA.inv, (well(3, 3),), id="inv"),
    pytest.param(LA.inv, (well(2, 2, 2),), id="inv[batch]"),
    pytest.param(LA.det, (A(3, 3),), id="det"),
    pytest.param(LA.det, (A(2, 3, 3),), id="det[batch]"),
    pytest.param(lambda a: LA.slogdet(a).logabsdet, (A(2, 3, 3),), id="slogdet"),
    pytest.param(lambda a: LA.matrix_power(a, 5), (well(3, 3) / 4,), id="matrix_power[5]"),
    pytest.param(lambda a: LA.matrix_power(a, -2), (well(2, 3, 3),), id="matrix_power[-2]"),
    pytest.param(lambda a: LA.matrix_power(a, 0) * a, (A(2, 2),), id="matrix_power[0]"),
    pytest.param(lambda a: LA.tensorinv(a, ind=1), (well(4, 4).reshape(4, 2, 2),),
                 id="tensorinv"),
    pytest.param(LA.tensorsolve, (well(6, 6).reshape(2, 3, 6), A(2, 3)), id="tensorsolve"),
    pytest.param(lambda a, b: LA.lstsq(a, b)[0], (A(5, 3), A(5, 2)), id="lstsq[x]"),
    pytest.param(lambda a, b: LA.lstsq(a, b)[1], (A(5, 3), A(5)), id="lstsq[residuals]"),
    pytest.param(lambda a, b: LA.lstsq(a, b)[0], (A(2, 4), A(2)), id="lstsq[wide]"),
    pytest.param(lambda a, b: LA.lstsq(a, b)[3], (A(4, 3), A(4)), id="lstsq[s]"),
])
def test_solves_and_determinants(f, args):
    check(f, *args)


@pytest.mark.parametrize("trans, lower, unit", [(0, True, False), (1, True, True),
                                                ("T", False, False), (0, False, True)])
def test_solve_triangular(trans, lower, unit):
    a, b = well(3, 3), A(3, 2)
    m = np.tril(a) if lower else np.triu(a)
    if unit:
        m = m - np.diag(np.diag(m)) + np.eye(3)
    m = m.T if trans in (1, "T") else m
    x = solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit)
    np.testing.assert_allclose(x, np.linalg.solve(m, b), rtol=1e-12)
    np.testing.assert_allclose(solve_triangular(a, b[:, 0], trans=trans, lower=lower,
                                                unit_diagonal=unit),
                               np.linalg.solve(m, b[:, 0]), rtol=1e-12)
    check(lambda a, b: solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit),
          a, b)
    check(lambda a, b: solve_triangular(a, b, lower=lower), well(2, 3, 3), A(3))


def test_singular_triangular_matrix_raises():
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        solve_triangular(np.array([[1.0, 0.0], [2.0, 0.0]]), np.ones(2), lower=True)


def test_inverse_derivative_is_minus_a_inv_da_a_inv():
    a, da = well(3, 3), A(3, 3)
    inv = np.linalg.inv(a)
    _, t = cr.jvp(LA.inv, (a,), (da,))
    np.testing.assert_allclose(t, -inv @ da @ inv, rtol=1e-10)


def test_jacobi_formula():
    # d log|det A| / dA = A^{-T};  d det A / dA = det(A) A^{-T}
    a = A(3, 3)
    np.testing.assert_allclose(cr.grad(lambda a: LA.slogdet(a)[1])(a), np.linalg.inv(a).T,
                               rtol=1e-10)
    np.testing.assert_allclose(cr.grad(LA.det)(a), np.linalg.det(a) * np.linalg.inv(a).T,
                               rtol=1e-10)


def test_second_derivative_of_log_det():
    # grad log|det A| = A^{-T}, whose derivative along dA is -(A^{-1} dA A^{-1})^T
    a, da = well(3, 3), A(3, 3)
    inv = np.linalg.inv(a)
    _, h_da = cr.jvp(cr.grad(lambda a: LA.slogdet(a)[1]), (a,), (da,))
    np.testing.assert_allclose(h_da, -(inv @ da @ inv).T, rtol=1e-9, atol=1e-12)


def test_det_at_a_singular_matrix_raises_instead_of_returning_nan():
    # det = sign * exp(log|det|) differentiates through A^{-1}, which does not
    # exist: a LinAlgError, never a silent nan
    with pytest.raises(np.linalg.LinAlgError):
        cr.grad(LA.det)(np.array([[1.0, 2.0], [2.0, 4.0]]))


def test_lstsq_under_make_ir_assumes_full_rank():
    a, b = A(5, 3), A(5, 2)
    ir = cr.make_ir(LA.lstsq)(a, b)
    x, res, rank, s = ir.eval(a, b)
    ex, eres, erank, es = np.linalg.lstsq(a, b)
    np.testing.assert_allclose(x, ex, rtol=1e-10)
    np.testing.assert_allclose(res, eres, rtol=1e-10)
    assert rank == erank and rank.dtype == erank.dtype
    # rank deficient, concrete: NumPy's empty residuals
    deficient = A(5, 2) @ A(2, 3)
    assert LA.lstsq(deficient, b)[1].shape == np.linalg.lstsq(deficient, b)[1].shape == (0,)


def test_lstsq_gradient_is_the_normal_equations():
    # x = (A^T A)^{-1} A^T b, so d<w, x>/db = A (A^T A)^{-1} w
    a, b, w = A(5, 3), A(5), A(3)
    g = cr.grad(lambda b: cnp.sum(LA.lstsq(a, b)[0] * w))(b)
    np.testing.assert_allclose(g, a @ np.linalg.solve(a.T @ a, w), rtol=1e-10)


# -- decompositions ---------------------------------------------------------------
@pytest.mark.parametrize("f, args", [
    pytest.param(LA.cholesky, (spd(3, 3),), id="cholesky"),
    pytest.param(LA.cholesky, (spd(2, 3, 3),), id="cholesky[batch]"),
    pytest.param(lambda a: LA.cholesky(a, upper=True), (spd(3, 3),), id="cholesky[upper]"),
    pytest.param(lambda a: LA.qr(a), (A(4, 3),), id="qr[tall]"),
    pytest.param(lambda a: LA.qr(a), (A(2, 3, 3),), id="qr[square,batch]"),
    pytest.param(lambda a: LA.qr(a), (A(2, 4),), id="qr[wide]"),
    pytest.param(lambda a: LA.qr(a, mode="r"), (A(3, 2),), id="qr[r]"),
    pytest.param(lambda a: LA.qr(a, mode="complete"), (A(2, 3),), id="qr[complete,wide]"),
    pytest.param(LA.eigh, (A(3, 3),), id="eigh"),
    pytest.param(lambda a: LA.eigh(a, UPLO="U"), (A(2, 3, 3),), id="eigh[U,batch]"),
    pytest.param(LA.eigvalsh, (A(4, 4),), id="eigvalsh"),
    pytest.param(LA.svd, (A(3, 3),), id="svd[square]"),
    pytest.param(lambda a: LA.svd(a, full_matrices=False), (A(4, 2),), id="svd[tall]"),
    pytest.param(lambda a: LA.svd(a, full_matrices=False), (A(2, 2, 4),), id="svd[wide,batch]"),
    pytest.param(lambda a: LA.svd(a, compute_uv=False), (A(3, 5),), id="svd[values]"),
    pytest.param(lambda a: LA.svd(a, hermitian=True), (spd(3, 3),), id="svd[hermitian]"),
    pytest.param(LA.svdvals, (A(2, 3, 2),), id="svdvals"),
    pytest.param(LA.pinv, (A(4, 3),), id="pinv[tall]"),
    pytest.param(LA.pinv, (A(2, 2, 3),), id="pinv[wide,batch]"),
    pytest.param(lambda a: LA.pinv(a, hermitian=True), (A(3, 3),), id="pinv[hermitian]"),
    pytest.param(LA.cond, (A(3, 3),), id="cond"),
    pytest.param(lambda a: LA.cond(a, -2), (A(2, 3, 3),), id="cond[-2]"),
    pytest.param(lambda a: LA.cond(a, "fro"), (well(3, 3),), id="cond[fro]"),
])
def test_decompositions(f, args):
    check(f, *args)


def test_cholesky_log_det_gradient_lives_on_the_lower_triangle():
    # 2 sum(log diag L) = log det S for the symmetric S that a's lower
    # triangle spells, S_ij = S_ji = a_ij (i >= j): the gradient is S^{-1} on
    # the diagonal, 2 S^{-1} below it (each entry is used twice), 0 above
    a = np.tril(spd(3, 3)) + np.triu(A(3, 3), 1)
    s = np.tril(a) + np.tril(a, -1).T
    inv = np.linalg.inv(s)
    g = cr.grad(lambda a: 2 * cnp.sum(cnp.log(LA.diagonal(LA.cholesky(a)))))(a)
    np.testing.assert_allclose(g, np.tril(2 * inv, -1) + np.diag(np.diag(inv)), rtol=1e-10)


def test_eigenvalue_derivative_is_v_da_v():
    # dw_k = v_k^T dA v_k (dA symmetric)
    a, da = spd(4, 4), A(4, 4)
    da = da + da.T
    w, v = np.linalg.eigh(a)
    _, dw = cr.jvp(LA.eigvalsh, (a,), (da,))
    np.testing.assert_allclose(dw, np.einsum("ik,ij,jk->k", v, da, v), rtol=1e-10)


def test_eigenvector_derivative_satisfies_the_perturbed_equation():
    # (A + dA)(V + dV) = (V + dV)(W + dW) to first order: dA V + A dV = dV W + V dW,
    # with V^T dV skew-symmetric
    a, da = A(4, 4), A(4, 4)
    a, da = a + a.T, da + da.T
    (w, v), (dw, dv) = cr.jvp(LA.eigh, (a,), (da,))
    np.testing.assert_allclose(da @ v + a @ dv, dv * w + v * dw, atol=1e-10)
    np.testing.assert_allclose(v.T @ dv, -(v.T @ dv).T, atol=1e-10)


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
def test_svd_derivative_reassembles_da(shape):
    # dA = dU S V^T + U dS V^T + U S dV^T, with U^T dU and V^T dV skew-symmetric
    a, da = A(*shape), A(*shape)
    (u, s, vh), (du, ds, dvh) = cr.jvp(lambda a: LA.svd(a, full_matrices=False), (a,), (da,))
    np.testing.assert_allclose(du * s @ vh + u * ds @ vh + u * s @ dvh, da, atol=1e-10)
    np.testing.assert_allclose(u.T @ du, -(u.T @ du).T, atol=1e-10)
    np.testing.assert_allclose(dvh @ vh.T, -(dvh @ vh.T).T, atol=1e-10)
    # and the singular values alone: ds_k = u_k^T dA v_k
    np.testing.assert_allclose(ds, np.einsum("ik,ij,kj->k", u, da, vh), rtol=1e-10)


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (2, 4)])
def test_qr_derivative_structure(shape):
    # dA = dQ R + Q dR, dR upper triangular, Q^T dQ skew-symmetric
    a, da = A(*shape), A(*shape)
    (q, r), (dq, dr) = cr.jvp(LA.qr, (a,), (da,))
    np.testing.assert_allclose(dq @ r + q @ dr, da, atol=1e-10)
    np.testing.assert_allclose(dr, np.triu(dr), atol=1e-12)
    np.testing.assert_allclose(q.T @ dq, -(q.T @ dq).T, atol=1e-10)


# -- hard points -------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # 1/0 in the unused dV
def test_sum_of_repeated_eigenvalues_is_differentiable():
    # at A = I the eigenvectors are not unique (their derivative is 0/0),
    # but tr A = sum(w) is linear: its gradient is I, in both modes
    eye = np.eye(3)
    np.testing.assert_allclose(cr.grad(lambda a: cnp.sum(LA.eigvalsh(a)))(eye), eye)
    _, dw = cr.jvp(LA.eigvalsh, (eye,), (np.diag([1.0, 2.0, 3.0]),))
    assert np.all(np.isfinite(dw))
    np.testing.assert_allclose(np.sort(dw), [1.0, 2.0, 3.0])


def test_pinv_at_repeated_singular_values():
    # an orthogonal Q has all singular values 1: differentiating through the
    # SVD would divide by 0, the pinv rule gives -P dQ P (P = Q^T = Q^{-1})
    q, dq = orthogonal(3), A(3, 3)
    _, t = cr.jvp(LA.pinv, (q,), (dq,))
    np.testing.assert_allclose(t, -q.T @ dq @ q.T, atol=1e-10)
    check(LA.pinv, q)
    check(LA.pinv, np.eye(3)[:, :2])      # a tall matrix with equal singular values


@pytest.mark.parametrize("ord", [None, 2, 1, np.inf, -np.inf, 3, 1.5])
def test_vector_norm_at_zero_has_gradient_zero(ord):
    zero = np.zeros(4)
    g = cr.grad(lambda x: LA.norm(x, ord))(zero)
    np.testing.assert_array_equal(g, np.zeros(4))
    _, t = cr.jvp(lambda x: LA.norm(x, ord), (zero,), (A(4),))
    assert t == 0.0
    if ord in (None, 2):   # second derivatives stay finite too
        _, h_v = cr.jvp(cr.grad(lambda x: LA.norm(x, ord)), (zero,), (A(4),))
        assert np.all(np.isfinite(h_v))


def test_norms_at_zero_in_batches_and_the_frobenius_norm():
    x = np.array([[0.0, 0.0], [3.0, -4.0]])
    g = cr.grad(lambda x: cnp.sum(LA.norm(x, axis=1)))(x)
    np.testing.assert_allclose(g, [[0.0, 0.0], [0.6, -0.8]])
    np.testing.assert_array_equal(cr.grad(lambda x: LA.norm(x, "fro"))(np.zeros((2, 3))),
                                  np.zeros((2, 3)))


@pytest.mark.parametrize("ord", [2, "nuc"])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # 1/0 in the unused dV
def test_spectral_and_nuclear_norm_at_zero_give_a_subgradient(ord):
    # the subdifferential of a norm at 0 is the dual norm's unit ball: the
    # SVD-based gradient is finite and has dual norm <= 1
    g = cr.grad(lambda x: LA.norm(x, ord))(np.zeros((3, 2)))
    assert np.all(np.isfinite(g))
    dual = np.linalg.norm(g, "nuc" if ord == 2 else 2)
    assert dual <= 1 + 1e-12


def test_norm_gradient_formulas():
    x = A(5)
    np.testing.assert_allclose(cr.grad(LA.norm)(x), x / np.linalg.norm(x), rtol=1e-12)
    np.testing.assert_allclose(cr.grad(lambda x: LA.norm(x, 1))(x), np.sign(x))
    p = 3.0
    np.testing.assert_allclose(cr.grad(lambda x: LA.norm(x, p))(x),
                               np.sign(x) * np.abs(x) ** (p - 1) / np.linalg.norm(x, p) ** (p - 1),
                               rtol=1e-10)
    m = A(3, 4)
    u, s, vh = np.linalg.svd(m)
    np.testing.assert_allclose(cr.grad(lambda m: LA.norm(m, 2))(m),
                               np.outer(u[:, 0], vh[0]), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cr.grad(lambda m: LA.norm(m, "nuc"))(m), u @ vh[:3],
                               rtol=1e-10, atol=1e-12)


VECTOR_ORDS = [None, 2, 1, -1, np.inf, -np.inf, 3, 0.5, -2]
MATRIX_ORDS = [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]


@pytest.mark.parametrize("ord", VECTOR_ORDS, ids=str)
def test_vector_norms(ord):
    x = np.sign(A(2, 5)) * rng.uniform(0.5, 2.0, (2, 5))   # |x| away from 0
    check(lambda x: LA.norm(x[0], ord), x)
    check(lambda x: LA.norm(x, ord, axis=-1, keepdims=True), x)
    check(lambda x: LA.vector_norm(x, ord=2 if ord is None else ord, axis=(0, 1)), x)


@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
def test_matrix_norms(ord):
    x = A(3, 2, 4)
    check(lambda x: LA.norm(x[0], ord), x)
    check(lambda x: LA.norm(x, ord, axis=(2, 0), keepdims=True), x)
    check(lambda x: LA.matrix_norm(x, ord="fro" if ord is None else ord), x)


def test_norm_0d_and_count():
    check(LA.norm, np.array(-1.5))
    _, t = cr.jvp(lambda x: LA.norm(x, 0), (A(4),), (A(4),))
    assert t == 0.0


def test_matrix_rank_has_zero_derivative():
    a = A(3, 4)
    assert cr.make_ir(LA.matrix_rank)(a).eval(a) == np.linalg.matrix_rank(a)
    out, vjp_fn = cr.vjp(lambda a: cnp.sum(LA.svdvals(a)) * LA.matrix_rank(a), a)
    assert np.all(np.isfinite(vjp_fn(1.0)[0]))


# -- what has no derivative, or no support, says so ---------------------------------
def test_full_svd_of_a_non_square_matrix_has_no_derivative():
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        cr.grad(lambda a: cnp.sum(LA.svd(a).U))(A(4, 3))
    # its values still work, and so do the singular values' derivatives
    np.testing.assert_allclose(LA.svd(A(4, 3))[0].shape, (4, 4))
    check(lambda a: LA.svd(a, compute_uv=False), A(4, 3))


def test_complete_qr_of_a_tall_matrix_has_no_derivative():
    with pytest.raises(NotImplementedError, match="mode='reduced'"):
        cr.grad(lambda a: cnp.sum(LA.qr(a, mode="complete").Q))(A(4, 3))


def test_unsupported_functions_and_arguments():
    a = A(3, 3)
    with pytest.raises(NotImplementedError, match="numpy.linalg.eig"):
        cr.make_ir(lambda a: np.linalg.eig(a))(a)
    with pytest.raises(NotImplementedError, match="numpy.linalg.eigvals"):
        LA.eigvals(a)
    with pytest.raises(NotImplementedError, match="raw"):
        LA.qr(a, mode="raw")
    with pytest.raises(NotImplementedError, match="rcond"):
        LA.pinv(a, rcond=np.array([1e-3]))
    with pytest.raises(np.linalg.LinAlgError, match="square"):
        LA.inv(A(2, 3))
    with pytest.raises(np.linalg.LinAlgError, match="two-dimensional"):
        LA.det(A(3))


def test_plain_numpy_linalg_reaches_chainrule():
    a, b = well(3, 3), A(3)
    for name, f in [("solve", lambda a, b: np.linalg.solve(a, b) + np.linalg.norm(b)),
                    ("slogdet", lambda a, b: np.linalg.slogdet(a)[1] * b),
                    ("svd", lambda a, b: np.linalg.svd(a)[1] + np.linalg.eigh(a)[0] @ b)]:
        ir = cr.make_ir(f)(a, b)
        assert name in str(ir)
        np.testing.assert_allclose(ir.eval(a, b), f(a, b), rtol=1e-12)
