"""``chainrule.numpy.linalg``: numpy.linalg over chainrule's primitives.

Solves and determinants (here) are built on the ``solve`` and ``slogdet``
primitives (``inv(a) = solve(a, I)``, ``det = sign * exp(logabsdet)``); the
decompositions (``_decompositions.py``: ``cholesky``, ``qr``, ``eigh``,
``svd``, ``pinv``, and ``lstsq``/``matrix_rank`` built on them) are
primitives of their own; the rest composes those with the products of
``_linalg.py`` (``matrix_power``, ``multi_dot``, ``tensorsolve``, ...).
Norms live in ``_norms.py``; ``cond`` (here) is a norm of ``a`` times one
of its inverse.

Like NumPy, every function takes stacks of matrices (leading batch axes,
broadcast where NumPy broadcasts), computes integer input in float64 and
keeps float32 as float32.  ``numpy.linalg.X`` called on a tracer reaches
``X`` here through ``__array_function__`` (registered at the bottom).

Derivatives at the hard points: ``eigh``/``svd`` need distinct eigen /
singular values; ``det``/``slogdet``/``inv``/``solve`` need a non-singular
matrix (at a singular one the inverse in their derivative does not exist:
``LinAlgError``); ``cholesky`` and ``eigh`` read one triangle only, as in
NumPy, so their gradients live on that triangle.
"""
from __future__ import annotations

import operator

import numpy as np

from .. import primitives as P
from ..primitives._matrix import constant
from ..tracer.core import bind
from . import _dispatch
from ._decompositions import (EighResult, LinAlgError, QRResult, SlogdetResult,  # noqa: F401
                              SVDResult, cholesky, eigh, eigvalsh, linalg_dtype, lstsq,
                              matrices, matrix_rank, pinv, qr, svd, svdvals)
from ._linalg import cross as _cross, dot, matmul, tensordot as _tensordot, vecdot  # noqa: F401
from ._norms import matrix_norm, norm, vector_norm  # noqa: F401
from ._shapes import expand_dims, matrix_transpose, reshape, squeeze, transpose  # noqa: F401
from ._ufuncs import multiply
from ._util import asarray, broadcast_shapes, broadcast_to_shape, cast, unsupported


# -- solves, inverses, determinants ---------------------------------------------
def solve(a, b):
    """numpy.linalg.solve: ``x`` with ``a @ x = b``; ``b`` is a vector when it
    is 1-d, else a stack of matrices, its batch axes broadcast against
    ``a``'s.  Derivative: ``dx = a^{-1} (db - da x)`` (the ``solve`` primitive)."""
    a, = matrices(a, square=True)
    b = asarray(b)
    b = cast(b, linalg_dtype(a.dtype, b.dtype))
    a = cast(a, b.dtype)
    vector = b.ndim == 1
    if vector:
        b = expand_dims(b, -1)
    batch = broadcast_shapes("solve", a.shape[:-2], b.shape[:-2])
    x = bind(P.solve_p, broadcast_to_shape(a, batch + a.shape[-2:]),
             broadcast_to_shape(b, batch + b.shape[-2:]))
    return squeeze(x, -1) if vector else x


def inv(a):
    """numpy.linalg.inv, as ``solve(a, I)`` (what LAPACK does too)."""
    a, = matrices(a, square=True)
    return bind(P.solve_p, a, constant(np.eye(a.shape[-1]), a.shape, a.dtype))


def slogdet(a):
    """numpy.linalg.slogdet: ``(sign, log|det a|)``; d log|det a| = tr(a^{-1} da)."""
    a, = matrices(a, square=True)
    return SlogdetResult(*bind(P.slogdet_p, a))


def det(a):
    """numpy.linalg.det, as ``sign * exp(log|det a|)``: the derivative is
    Jacobi's ``det(a) tr(a^{-1} da)``, which needs a non-singular ``a``."""
    sign, logabsdet = slogdet(a)
    return bind(P.mul_p, sign, bind(P.exp_p, logabsdet))


def cond(x, p=None):
    """numpy.linalg.cond: ``s_max / s_min`` for ``p`` None, 2 (``-2``: the
    inverse), else ``norm(x, p) * norm(inv(x), p)``."""
    x = asarray(x)
    if p is None or p == 2 or p == -2:
        s = svd(x, compute_uv=False)
        first, last = s[..., 0], s[..., -1]
        return last / first if p == -2 else first / last
    return multiply(norm(x, p, axis=(-2, -1)), norm(inv(x), p, axis=(-2, -1)))


def matrix_power(a, n):
    """numpy.linalg.matrix_power: repeated squaring, in NumPy's order of
    products (so the rounding is NumPy's); ``n < 0`` inverts first, ``n = 0``
    is the identity (a constant: zero derivative)."""
    a = asarray(a)
    if a.ndim < 2:
        raise LinAlgError(f"{a.ndim}-dimensional array given. Array must be at least "
                          "two-dimensional")
    if a.shape[-1] != a.shape[-2]:
        raise LinAlgError("Last 2 dimensions of the array must be square")
    try:
        n = operator.index(n)
    except TypeError as e:
        raise TypeError("exponent must be an integer") from e
    if n == 0:
        return np.array(constant(np.eye(a.shape[-1]), a.shape, a.dtype))
    if n < 0:
        a, n = inv(a), -n
    if n <= 3:
        return {1: lambda: a, 2: lambda: matmul(a, a), 3: lambda: matmul(matmul(a, a), a)}[n]()
    z = result = None
    while n > 0:   # the bits of n from the lowest: result *= a^(2^k)
        z = a if z is None else matmul(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else matmul(result, z)
    return result


def tensorinv(a, ind=2):
    """numpy.linalg.tensorinv: ``inv`` of ``a`` reshaped to a square matrix."""
    a = asarray(a)
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    prod = 1
    for k in a.shape[ind:]:
        prod *= k
    return reshape(inv(reshape(a, (prod, -1))), a.shape[ind:] + a.shape[:ind])


def tensorsolve(a, b, axes=None):
    """numpy.linalg.tensorsolve: ``solve`` on ``a`` and ``b`` reshaped to a
    matrix and a vector."""
    a, b = asarray(a), asarray(b)
    an = a.ndim
    if axes is not None:
        order = list(range(an))
        for k in axes:
            order.remove(k)
            order.insert(an, k)
        a = transpose(a, order)
    old = a.shape[-(an - b.ndim):]
    prod = 1
    for k in old:
        prod *= k
    if a.size != prod ** 2:
        raise LinAlgError("Input arrays must satisfy the requirement "
                          "prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim])")
    return reshape(solve(reshape(a, (prod, prod)), reshape(b, (-1,))), old)


def multi_dot(arrays, *, out=None):
    """numpy.linalg.multi_dot: a chain of ``dot``s in the cheapest order (the
    textbook matrix-chain dynamic programme NumPy uses); a 1-d first or
    last operand is a row or column vector."""
    unsupported("multi_dot", out=out)
    arrays = [asarray(a) for a in arrays]
    n = len(arrays)
    if n < 2:
        raise ValueError("Expecting at least two arrays.")
    if n == 2:
        return dot(arrays[0], arrays[1])
    first, last = arrays[0].ndim, arrays[-1].ndim
    if first == 1:
        arrays[0] = reshape(arrays[0], (1, -1))
    if last == 1:
        arrays[-1] = reshape(arrays[-1], (-1, 1))
    for a in arrays:
        if a.ndim != 2:
            raise LinAlgError(f"{a.ndim}-dimensional array given. Array must be "
                              "two-dimensional")
    dims = [a.shape[0] for a in arrays] + [arrays[-1].shape[1]]
    # cost[i][j]: fewest multiplications for arrays[i..j]; split[i][j]: where
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    # evaluate the bracketing with an explicit stack (no recursion)
    todo, done = [(0, n - 1, False)], {}
    while todo:
        i, j, ready = todo.pop()
        if i == j:
            done[i, j] = arrays[i]
        elif ready:
            k = split[i][j]
            done[i, j] = dot(done.pop((i, k)), done.pop((k + 1, j)))
        else:
            k = split[i][j]
            todo += [(i, j, True), (k + 1, j, False), (i, k, False)]
    result = done[0, n - 1]
    if first == 1 and last == 1:
        return reshape(result, ())
    return reshape(result, (-1,)) if first == 1 or last == 1 else result


# -- numpy.linalg's copies of array functions --------------------------------------
def outer(x1, x2, /):
    """numpy.linalg.outer: the outer product of two vectors."""
    from ._linalg import outer as _outer
    x1, x2 = asarray(x1), asarray(x2)
    if x1.ndim != 1 or x2.ndim != 1:
        raise ValueError("Input arrays must be one-dimensional, but they are "
                         f"x1.ndim={x1.ndim} and x2.ndim={x2.ndim}.")
    return _outer(x1, x2)


def tensordot(x1, x2, /, *, axes=2):
    """numpy.linalg.tensordot (``axes`` keyword-only)."""
    return _tensordot(x1, x2, axes)


def cross(x1, x2, /, *, axis=-1):
    """numpy.linalg.cross: cross products of 3-vectors along ``axis``."""
    x1, x2 = asarray(x1), asarray(x2)
    if x1.shape[axis] != 3 or x2.shape[axis] != 3:
        raise ValueError("Both input arrays must be (arrays of) 3-dimensional vectors, but "
                         f"they are {x1.shape[axis]} and {x2.shape[axis]} dimensional instead.")
    return _cross(x1, x2, axis=axis)


def diagonal(x, /, *, offset=0):
    """numpy.linalg.diagonal: ``numpy.diagonal`` over the last two axes."""
    from ._diagonals import diagonal as _diagonal
    return _diagonal(x, offset, -2, -1)


def trace(x, /, *, offset=0, dtype=None):
    """numpy.linalg.trace: ``numpy.trace`` over the last two axes."""
    from ._diagonals import trace as _trace
    return _trace(x, offset, -2, -1, dtype)


def eig(a):
    """numpy.linalg.eig: not supported (eigenvalues of a general matrix are
    complex); for symmetric matrices use ``eigh``."""
    raise NotImplementedError("numpy.linalg.eig is not supported by chainrule (complex "
                              "results); for symmetric matrices use numpy.linalg.eigh")


def eigvals(a):
    """numpy.linalg.eigvals: not supported (complex results); see ``eigvalsh``."""
    raise NotImplementedError("numpy.linalg.eigvals is not supported by chainrule (complex "
                              "results); for symmetric matrices use numpy.linalg.eigvalsh")


SUPPORTED = ("cholesky", "cond", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv",
             "lstsq", "matmul", "matrix_norm", "matrix_power", "matrix_rank",
             "matrix_transpose", "multi_dot", "norm", "outer", "pinv", "qr", "slogdet", "solve",
             "svd", "svdvals", "tensordot", "tensorinv", "tensorsolve", "trace", "vecdot",
             "vector_norm")


def _register_functions():
    """``numpy.linalg.X`` on a tracer reaches ``X`` here (``__array_function__``)."""
    g = globals()
    for name in SUPPORTED:
        np_fn = getattr(np.linalg, name, None)
        if np_fn is not None and not isinstance(np_fn, np.ufunc):
            _dispatch.FUNCTIONS[np_fn] = g[name]


_register_functions()
