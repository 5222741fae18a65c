"""Every primitive, traced and evaluated, against a NumPy reference.

``CASES`` maps each primitive's name to a list of cases (operands and
params).  For every case the test traces ``lambda *xs: prim.bind(*xs,
**params)`` with ``make_ir``, checks the IR, evaluates it, and compares the
result (values, shape and dtype) with a reference computed by NumPy
directly: ``REFERENCES`` writes that reference by hand per primitive, never
by calling the primitive's own ``impl``.

A primitive added to ``chainrule.primitives`` without rows here fails
``test_every_primitive_has_cases``.
"""
from __future__ import annotations

import string

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.primitives import all_primitives

rng = np.random.default_rng(0)


class Const:
    """An operand closed over by the traced function instead of being an
    argument: a 0-d one becomes an inline literal, a larger one a const var."""

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return f"Const({np.asarray(self.value).dtype}{list(np.shape(self.value))})"


def f64(*shape, lo=-2.0, hi=2.0):
    return np.asarray(rng.uniform(lo, hi, shape), np.float64)


def f32(*shape, lo=-2.0, hi=2.0):
    return np.asarray(rng.uniform(lo, hi, shape), np.float32)


def i64(*shape, lo=-5, hi=6):
    return np.asarray(rng.integers(lo, hi, shape), np.int64)


def i32(*shape, lo=-5, hi=6):
    return np.asarray(rng.integers(lo, hi, shape), np.int32)


def bools(*shape):
    return np.asarray(rng.integers(0, 2, shape), np.bool_)


def nonzero_i64(*shape):
    x = i64(*shape, lo=1, hi=6)
    return x * np.where(bools(*shape), 1, -1)


# -- the reference for each primitive, written with NumPy ---------------------
def _einsum_dot_general(lhs, rhs, *, dimension_numbers):
    """dot_general as an einsum: batch letters, then lhs free, then rhs free."""
    (lc, rc), (lb, rb) = dimension_numbers
    letters = iter(string.ascii_letters)
    lhs_l = [next(letters) for _ in range(lhs.ndim)]
    rhs_l = [next(letters) for _ in range(rhs.ndim)]
    for a, b in zip(list(lc) + list(lb), list(rc) + list(rb)):
        rhs_l[b] = lhs_l[a]
    out = ([lhs_l[a] for a in lb]
           + [c for i, c in enumerate(lhs_l) if i not in lc and i not in lb]
           + [c for i, c in enumerate(rhs_l) if i not in rc and i not in rb])
    spec = f"{''.join(lhs_l)},{''.join(rhs_l)}->{''.join(out)}"
    return np.einsum(spec, lhs, rhs)


def _broadcast_ref(x, *, shape, broadcast_dimensions):
    new_axes = tuple(i for i in range(len(shape)) if i not in broadcast_dimensions)
    return np.broadcast_to(np.expand_dims(x, new_axes), shape)


def _slice_ref(x, *, start_indices, limit_indices, strides):
    for axis, (lo, hi, st) in enumerate(zip(start_indices, limit_indices, strides)):
        x = np.take(x, np.arange(lo, hi, st), axis=axis)
    return x


def _rev_ref(x, *, dimensions):
    return x[tuple(slice(None, None, -1) if i in dimensions else slice(None)
                   for i in range(x.ndim))]


def _pad_ref(x, padding_value, *, padding_config):
    # interior padding: spread the elements out, axis by axis, then np.pad the ends
    for axis, (_, _, interior) in enumerate(padding_config):
        n = x.shape[axis]
        if interior and n > 1:
            shape = list(x.shape)
            shape[axis] = n + (n - 1) * interior
            spread = np.full(shape, padding_value, x.dtype)
            positions = np.arange(n) * (interior + 1)
            index = [slice(None)] * x.ndim
            index[axis] = positions
            spread[tuple(index)] = x
            x = spread
    if not padding_config:  # a 0-d operand: nothing to pad
        return x.copy()
    return np.pad(x, [(lo, hi) for lo, hi, _ in padding_config], mode="constant",
                  constant_values=padding_value)


def _scatter_add_ref(operand, indices, updates, *, axis):
    # one element of ``indices`` at a time, so repeated indices add up
    out = operand.copy()
    lead = (slice(None),) * axis
    for pos in np.ndindex(*np.shape(indices)):
        out[lead + (indices[pos],)] += updates[lead + pos]
    return out


def _scatter_ref(operand, indices, updates, *, axis):
    # one element of ``indices`` at a time, in order: the last write wins
    out = operand.copy()
    lead = (slice(None),) * axis
    for pos in np.ndindex(*np.shape(indices)):
        out[lead + (indices[pos],)] = updates[lead + pos]
    return out


def _logistic_ref(x):
    return (1 / (1 + np.exp(-x.astype(np.float64)))).astype(x.dtype)


REFERENCES = {
    "neg": np.negative, "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
    "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh,
    "asinh": np.arcsinh, "acosh": np.arccosh, "atanh": np.arctanh,
    "exp": np.exp, "exp2": np.exp2, "log": np.log, "log1p": np.log1p, "expm1": np.expm1,
    "sqrt": np.sqrt, "cbrt": np.cbrt, "logistic": _logistic_ref,
    "abs": np.abs, "sign": np.sign, "floor": np.floor, "ceil": np.ceil,
    "round": np.round, "trunc": np.trunc,
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
    "rem": np.remainder, "floor_div": np.floor_divide, "pow": np.power,
    "max": np.maximum, "min": np.minimum, "atan2": np.arctan2,
    "eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
    "gt": np.greater, "ge": np.greater_equal,
    "not": np.invert, "and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor,
    "integer_pow": lambda x, *, y: (x ** y).astype(x.dtype),
    "select": np.where,
    "convert_element_type": lambda x, *, new_dtype: x.astype(new_dtype),
    "reduce_sum": lambda x, *, axes: np.sum(x, axis=axes),
    "reduce_prod": lambda x, *, axes: np.prod(x, axis=axes),
    "reduce_max": lambda x, *, axes: np.max(x, axis=axes),
    "reduce_min": lambda x, *, axes: np.min(x, axis=axes),
    "argmax": lambda x, *, axis, index_dtype: np.argmax(x, axis=axis).astype(index_dtype),
    "argmin": lambda x, *, axis, index_dtype: np.argmin(x, axis=axis).astype(index_dtype),
    "reshape": lambda x, *, shape: np.reshape(x, shape),
    "transpose": lambda x, *, permutation: np.transpose(x, permutation),
    "broadcast_in_dim": _broadcast_ref,
    "squeeze": lambda x, *, dimensions: np.squeeze(x, axis=dimensions),
    "expand_dims": lambda x, *, dimensions: np.expand_dims(x, dimensions),
    "concatenate": lambda *xs, axis: np.concatenate(xs, axis=axis),
    "slice": _slice_ref,
    "rev": _rev_ref,
    "pad": _pad_ref,
    "gather": lambda x, indices, *, axis: np.take(x, indices, axis=axis),
    # indices in [-size, size) to [0, size): NumPy's own wrapping of an index
    "normalize_index": lambda i, *, axis, size, batch_dims=0:
        np.asarray(np.arange(size)[i], dtype=np.asarray(i).dtype)[()],
    "scatter_add": _scatter_add_ref,
    "scatter": _scatter_ref,
    "dot_general": _einsum_dot_general,
}


# -- references for elementwise, cumulative and sorting primitives, each
# written from its definition in float64, not with the NumPy function the
# implementation calls
def _logaddexp_ref(x, y):
    x64, y64 = np.asarray(x, np.float64), np.asarray(y, np.float64)
    m = np.maximum(x64, y64)
    with np.errstate(all="ignore"):
        r = m + np.log(np.exp(x64 - m) + np.exp(y64 - m))
    r = np.where(np.isposinf(m), np.inf, np.where(x64 == y64, x64 + np.log(2.0), r))
    return r.astype(np.result_type(x, y))


def _hypot_ref(x, y):
    x64, y64 = np.abs(np.asarray(x, np.float64)), np.abs(np.asarray(y, np.float64))
    m = np.maximum(x64, y64)
    with np.errstate(all="ignore"):
        safe = np.where(m == 0, 1.0, m)
        r = m * np.sqrt((x64 / safe) ** 2 + (y64 / safe) ** 2)
    r = np.where(np.isinf(x64) | np.isinf(y64), np.inf, r)
    return r.astype(np.result_type(x, y))


def _cumsum_ref(x, *, axis, reverse):
    n = x.shape[axis]
    # out[i] = sum over j <= i (j >= i reversed) of x[j]: a triangular matrix of ones
    tri = np.triu(np.ones((n, n))) if reverse else np.tril(np.ones((n, n)))
    out = np.moveaxis(np.tensordot(tri, np.moveaxis(x, axis, 0), axes=1), 0, axis)
    return out.astype(x.dtype)


def _cumprod_ref(x, *, axis):
    lines = np.moveaxis(np.array(x, copy=True), axis, 0)
    for i in range(1, lines.shape[0]):
        lines[i] = lines[i - 1] * lines[i]
    return np.moveaxis(lines, 0, axis)


def _sort_ref(keys, *operands, axis):
    # Python's sorted is stable; NaN goes last as in NumPy
    outs = [np.array(a, copy=True) for a in (keys,) + operands]
    moved_keys = np.moveaxis(keys, axis, -1)
    moved = [np.moveaxis(o, axis, -1) for o in outs]
    for pos in np.ndindex(*moved_keys.shape[:-1]):
        line = moved_keys[pos]
        order = sorted(range(len(line)), key=lambda i: (bool(np.isnan(line[i]))
                                                       if line.dtype.kind == "f" else False,
                                                       line[i]))
        for o, src in zip(moved, (keys,) + operands):
            o[pos] = np.moveaxis(src, axis, -1)[pos][order]
    return outs


REFERENCES.update({
    "stop_gradient": lambda x: np.array(x, copy=True),
    "logaddexp": _logaddexp_ref,
    "hypot": _hypot_ref,
    "signbit": lambda x: np.copysign(np.ones_like(x, dtype=np.float64), x) < 0,
    "cumsum": _cumsum_ref,
    "cumprod": _cumprod_ref,
    "sort": _sort_ref,
})


# -- references for the indexing primitives (scatter_min, scatter_max): one
# element of ``indices`` at a time, in order
def _scatter_extremum_ref(pick):
    def ref(operand, indices, updates, *, axis):
        out = operand.copy()
        lead = (slice(None),) * axis
        for pos in np.ndindex(*np.shape(indices)):
            at = lead + (indices[pos],)
            out[at] = pick(out[at], updates[lead + pos])
        return out
    return ref


REFERENCES["scatter_min"] = _scatter_extremum_ref(np.minimum)
REFERENCES["scatter_max"] = _scatter_extremum_ref(np.maximum)


# -- special functions (chainrule.primitives.special): references from math,
# np.i0, and sums written here, by other methods than the implementations' --
def _each(f):
    def ref(x):
        return np.vectorize(f, otypes=[np.float64])(x).astype(x.dtype)[()]
    return ref


def _hurwitz_ref(x, s):
    # zeta(s, x) = sum_{k<K} (x+k)^-s + w^(1-s)/(s-1) + w^-s/2 + s w^(-s-1)/12,
    # w = x + K (Euler-Maclaurin, next term s(s+1)(s+2)/720 w^(-s-3) ~ 1e-17)
    x = np.asarray(x, np.float64)[..., None]
    w = x + 2000.0
    total = np.sum((x + np.arange(2000.0)) ** -float(s), axis=-1)
    return total + (w ** (1.0 - s) / (s - 1) + w ** -float(s) / 2 + s * w ** (-s - 1.0) / 12)[..., 0]


def _digamma_ref(x):
    # psi(x) = psi(x + K) - sum_{k<K} 1/(x+k); psi(w) = log w - 1/(2w) - 1/(12 w^2) + O(w^-4)
    v = np.asarray(x, np.float64)
    w = v + 2000.0
    out = -np.sum(1.0 / (v[..., None] + np.arange(2000.0)), axis=-1) + np.log(w) - 0.5 / w \
        - 1.0 / (12 * w * w)
    return out.astype(x.dtype)[()]


def _polygamma_ref(x, *, n):
    # psi^(n)(x) = (-1)^(n+1) n! zeta(n+1, x)
    return ((-1.0) ** (n + 1) * math.factorial(n) * _hurwitz_ref(x, n + 1)).astype(x.dtype)[()]


def _bisect(f, target, lo, hi):
    """The root of the increasing scalar f(z) = target, by 200 halvings."""
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) < target else (lo, mid)
    return (lo + hi) / 2


def _ndtr_ref(z):
    return 0.5 * math.erfc(-z / math.sqrt(2))


def _i1e_ref(x):
    # I1(x) = sum_k (x/2)^(2k+1) / (k! (k+1)!), times exp(-|x|)
    def one(v):
        return math.exp(-abs(v)) * sum((v / 2) ** (2 * k + 1) / (math.factorial(k) *
                                       math.factorial(k + 1)) for k in range(80))
    return _each(one)(x)


def _xlog_ref(f):
    def ref(x, y):
        with np.errstate(all="ignore"):
            return np.where(x == 0, 0, x * f(y)).astype(np.result_type(x, y))[()]
    return ref


REFERENCES.update({
    "lgamma": _each(math.lgamma), "gamma": _each(math.gamma),
    "digamma": _digamma_ref, "polygamma": _polygamma_ref,
    "erf": _each(math.erf), "erfc": _each(math.erfc),
    "erf_inv": _each(lambda q: _bisect(math.erf, q, -7.0, 7.0)),
    "ndtri": _each(lambda p: _bisect(_ndtr_ref, p, -40.0, 40.0)),
    "log_ndtr": _each(lambda z: math.log(_ndtr_ref(z))),
    "i0e": lambda x: (np.i0(x.astype(np.float64)) * np.exp(-np.abs(x))).astype(x.dtype)[()],
    "i1e": _i1e_ref,
    "xlogy": _xlog_ref(np.log), "xlog1py": _xlog_ref(np.log1p),
})


# -- references for the linear-algebra primitives: independent algorithms in
# float64 (lstsq for solve, hand-written elimination, Cholesky and Householder
# QR), except the signs of eigen- and singular vectors, which are LAPACK's own
# choice and so come from LAPACK's eigh/svd (their values from other drivers)
def _each_matrix(fn, *arrays):
    """``fn`` on each matrix of equally batched stacks; results stacked back."""
    batch = np.shape(arrays[0])[:-2]
    outs = [fn(*[np.asarray(a, np.float64)[pos] for a in arrays]) for pos in np.ndindex(*batch)]
    single = not isinstance(outs[0], tuple)
    outs = [(o,) if single else o for o in outs]
    stacked = [np.reshape(np.array([o[i] for o in outs]), batch + np.shape(outs[0][i]))
               for i in range(len(outs[0]))]
    return stacked[0] if single else stacked


def _solve_ref(a, b):
    if not b.size:   # an empty stack
        return np.zeros(b.shape, b.dtype)
    return _each_matrix(lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0], a, b).astype(b.dtype)


def _triangular_solve_ref(a, b, *, left_side, lower, transpose_a, unit_diagonal):
    def one(a, b):
        m = np.tril(a) if lower else np.triu(a)
        if unit_diagonal:
            m = m - np.diag(np.diag(m)) + np.eye(len(m))
        m = m.T if transpose_a else m
        return np.linalg.solve(m, b) if left_side else np.linalg.solve(m.T, b.T).T
    return _each_matrix(one, a, b).astype(b.dtype)


def _slogdet_ref(a):
    def one(m):   # Gaussian elimination with partial pivoting
        m, sign, logdet = m.copy(), 1.0, 0.0
        for k in range(len(m)):
            p = k + int(np.argmax(np.abs(m[k:, k])))
            if m[p, k] == 0:
                return 0.0, -np.inf
            if p != k:
                m[[k, p]], sign = m[[p, k]], -sign
            sign, logdet = sign * np.sign(m[k, k]), logdet + np.log(abs(m[k, k]))
            m[k + 1:] -= np.outer(m[k + 1:, k] / m[k, k], m[k])
        return sign, logdet
    return [x.astype(a.dtype) for x in _each_matrix(one, a)]


def _cholesky_ref(a):
    def one(a):   # Cholesky-Banachiewicz, reading the lower triangle only
        n = len(a)
        L = np.zeros((n, n))
        for i in range(n):
            for j in range(i + 1):
                s = a[i, j] - L[i, :j] @ L[j, :j]
                L[i, j] = np.sqrt(s) if i == j else s / L[j, j]
        return L
    return _each_matrix(one, a).astype(a.dtype)


def _qr_ref(a, *, full_matrices):
    def one(a):   # Householder reflections with LAPACK's (dlarfg's) signs
        m, n = a.shape
        R, Q = a.copy(), np.eye(m)
        for j in range(min(m, n)):
            alpha, x = R[j, j], R[j + 1:, j]
            if not x.size or not np.any(x):
                continue
            beta = -np.copysign(np.hypot(alpha, np.sqrt(x @ x)), alpha)
            v = np.concatenate([[1.0], x / (alpha - beta)])
            H = np.eye(m - j) - (beta - alpha) / beta * np.outer(v, v)
            R[j:], Q[:, j:] = H @ R[j:], Q[:, j:] @ H
        k = m if full_matrices else min(m, n)
        return Q[:, :k], np.triu(R)[:k]
    return [x.astype(a.dtype) for x in _each_matrix(one, a)]


def _eigh_ref(a, *, lower):
    uplo = "L" if lower else "U"
    return [np.linalg.eigvalsh(a, UPLO=uplo), np.linalg.eigh(a, UPLO=uplo)[1]]


def _svd_ref(a, *, full_matrices, hermitian):
    u, _, vh = np.linalg.svd(a, full_matrices=full_matrices, hermitian=hermitian)
    return [u, np.linalg.svd(a, compute_uv=False, hermitian=hermitian), vh]


def _pinv_ref(a, *, rcond, hermitian):
    def one(a):   # least squares against the identity (full-rank cases)
        if hermitian:
            a = np.tril(a) + np.tril(a, -1).T
        return np.linalg.lstsq(a, np.eye(len(a)), rcond=rcond)[0]
    return _each_matrix(one, a).astype(a.dtype)


REFERENCES.update({
    "solve": _solve_ref, "triangular_solve": _triangular_solve_ref, "slogdet": _slogdet_ref,
    "cholesky": _cholesky_ref, "qr": _qr_ref, "eigh": _eigh_ref, "svd": _svd_ref,
    "pinv": _pinv_ref,
})


def _well(*shape, dtype=np.float64):
    """Well-conditioned square matrices: random plus 4 I."""
    return (f64(*shape) + 4 * np.eye(shape[-1])).astype(dtype)


def _spd(*shape, dtype=np.float64):
    """Symmetric positive definite matrices."""
    x = f64(*shape)
    return (x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


# -- bodies of the control-flow primitives: traced from Python functions,
# which are their references
_PYTHON_OF = {}


def body(fn, *examples):
    closed = cr.make_ir(fn)(*examples)
    _PYTHON_OF[id(closed)] = fn
    return closed


def _cond_ref(index, *args, branches):
    fn = _PYTHON_OF[id(branches[min(max(int(index), 0), len(branches) - 1)])]
    out = fn(*args)
    return list(out) if isinstance(out, tuple) else [out]


REFERENCES["cond"] = _cond_ref


def _scan_ref(*args, body, length, reverse, num_consts, num_carry):
    fn = _PYTHON_OF[id(body)]
    consts, carry = list(args[:num_consts]), list(args[num_consts:num_consts + num_carry])
    xs, ys = args[num_consts + num_carry:], []
    for i in (reversed(range(length)) if reverse else range(length)):
        out = fn(*consts, *carry, *[x[i] for x in xs])
        out = list(out) if isinstance(out, tuple) else [out]
        carry, y = out[:num_carry], out[num_carry:]
        ys.append(y)
    ys = ys[::-1] if reverse else ys
    return carry + [np.stack([y[k] for y in ys]) for k in range(len(ys[0]))]


REFERENCES["scan"] = _scan_ref


def _while_ref(*args, cond, body, cond_nconsts, body_nconsts):
    test, step = _PYTHON_OF[id(cond)], _PYTHON_OF[id(body)]
    cc, bc = args[:cond_nconsts], args[cond_nconsts:cond_nconsts + body_nconsts]
    carry = list(args[cond_nconsts + body_nconsts:])
    while test(*cc, *carry):
        out = step(*bc, *carry)
        carry = list(out) if isinstance(out, tuple) else [out]
    return carry


REFERENCES["while"] = _while_ref


# custom rules: the cases take the params of a traced call of a custom
# function (its body, its rules); the call evaluates the body, whose reference
# is the Python function.  custom_vjp_lin, the linear part custom_vjp leaves
# in a linearized program, has no forward evaluation (RAISES_ON_EVAL)
@cr.custom_jvp
def _cube(x):
    return x ** 3


@_cube.defjvp
def _cube_jvp(primals, tangents):
    return _cube(primals[0]), 3.0 * primals[0] ** 2 * tangents[0]


@cr.custom_vjp
def _times_and_exp(x, y):
    return x * y, np.exp(x)


def _times_and_exp_fwd(x, y):
    return _times_and_exp(x, y), (x, y, np.exp(x))


def _times_and_exp_bwd(res, g):
    x, y, e = res
    return g[0] * y + g[1] * e, g[0] * x


_times_and_exp.defvjp(_times_and_exp_fwd, _times_and_exp_bwd)


def _custom_params(prim_name, fn, *examples, linear=False):
    closed = cr.linearize(fn, *examples)[1].ir if linear else cr.make_ir(fn)(*examples)
    (eqn,) = [e for e in closed.eqns if e.primitive.name == prim_name]
    if "call" in eqn.params:
        _PYTHON_OF[id(eqn.params["call"])] = fn
    return eqn.params


def _custom_call_ref(*args, call, num_consts, **params):
    out = _PYTHON_OF[id(call)](*args[num_consts:])
    return list(out) if isinstance(out, tuple) else [out]


def _custom_vjp_lin_ref(*args, **params):
    raise TypeError("can't apply forward-mode autodiff (jvp) to a custom_vjp function")


REFERENCES["custom_jvp_call"] = _custom_call_ref
REFERENCES["custom_vjp_call"] = _custom_call_ref
REFERENCES["custom_vjp_lin"] = _custom_vjp_lin_ref
RAISES_ON_EVAL = {"custom_vjp_lin": (TypeError, "can't apply forward-mode autodiff")}


def _checkpoint_ref(*args, body, policy):
    out = _PYTHON_OF[id(body)](*args)
    return list(out) if isinstance(out, tuple) else [out]


REFERENCES["checkpoint"] = _checkpoint_ref
_BELOW = body(lambda limit, x, k: k < limit, np.int64(0), f64(2), np.int64(0))
_GROW = body(lambda x, k: (np.sin(x) * 1.5, k + 1), f64(2), np.int64(0))
_STEP = body(lambda w, c, x: (np.tanh(c * x) * w, c + x), f64(), f64(3), f64(3))
_NEG, _SIN = body(lambda x: -x * 2.0, f64(3)), body(np.sin, f64(3))
_PAIRS = [body(lambda x, y: (x * y, x), f64(2), f64(2)),
          body(lambda x, y: (x - y, y), f64(2), f64(2)),
          body(lambda x, y: (np.exp(x), y * 3.0), f64(2), f64(2))]
_LAYER = body(lambda x, w: (np.tanh(x @ w), x * 2.0), f64(2, 3), f64(3, 3))


# -- the cases ----------------------------------------------------------------
def case(*operands, **params):
    return (operands, params)


def unary_cases(make=f64):
    """0-d, vector and matrix in float64, and float32, from ``make(*shape)``."""
    return [case(make()), case(make(3)), case(make(2, 3)),
            case(make(2, 3).astype(np.float32)), case(make().astype(np.float32))]


def binary_cases(a=f64, b=None):
    """Equal shapes, 0-d with 0-d, a 0-d operand on either side (traced and
    as a literal), a constant array operand, and float32."""
    b = b or a
    return [
        case(a(2, 3), b(2, 3)),
        case(a(), b()),
        case(a(3), b()),
        case(a(), b(2, 3)),
        case(a(4), Const(b())),           # literal on the right
        case(Const(a()), b(2, 2)),        # literal on the left
        case(a(3), Const(b(3))),          # constant array operand: a const var
        case(a(2, 3).astype(np.float32), b(2, 3).astype(np.float32)),
        case(a(3).astype(np.float32), b().astype(np.float32)),
    ]


def int_binary_cases(a=i64, b=None):
    b = b or a
    return [case(a(2, 3), b(2, 3)), case(a(), b()), case(a(4), b()), case(a(), b(3)),
            case(a(3).astype(np.int32), b(3).astype(np.int32)), case(a(3), Const(b()))]


def logic_cases():
    return [case(bools(2, 3), bools(2, 3)), case(bools(), bools()), case(bools(4), bools()),
            case(i64(2, 3), i64(2, 3)), case(i32(3), i32()), case(bools(3), Const(np.True_))]


CASES = {
    "neg": unary_cases() + [case(i64(2, 3)), case(i32())],
    "sin": unary_cases(), "cos": unary_cases(),
    "tan": unary_cases(lambda *s: f64(*s, lo=-1.4, hi=1.4)),
    "asin": unary_cases(lambda *s: f64(*s, lo=-0.99, hi=0.99)),
    "acos": unary_cases(lambda *s: f64(*s, lo=-0.99, hi=0.99)),
    "atan": unary_cases(),
    "sinh": unary_cases(), "cosh": unary_cases(), "tanh": unary_cases(),
    "asinh": unary_cases(),
    "acosh": unary_cases(lambda *s: f64(*s, lo=1.0, hi=4.0)),
    "atanh": unary_cases(lambda *s: f64(*s, lo=-0.99, hi=0.99)),
    "exp": unary_cases(), "exp2": unary_cases(),
    "log": unary_cases(lambda *s: f64(*s, lo=0.01, hi=5.0)),
    "log1p": unary_cases(lambda *s: f64(*s, lo=-0.99, hi=5.0)),
    "expm1": unary_cases(),
    "sqrt": unary_cases(lambda *s: f64(*s, lo=0.0, hi=5.0)),
    "cbrt": unary_cases(lambda *s: f64(*s, lo=-5.0, hi=5.0)),
    "logistic": unary_cases(lambda *s: f64(*s, lo=-30.0, hi=30.0))
    + [case(np.array([-800.0, -40.0, 0.0, 40.0, 800.0]))],   # no overflow at the ends
    "abs": unary_cases() + [case(i64(2, 3)), case(i32())],
    "sign": unary_cases() + [case(np.array([-2.0, 0.0, 3.0])), case(i64(2, 3))],
    "floor": unary_cases() + [case(i64(2, 3))], "ceil": unary_cases() + [case(i64(3))],
    "trunc": unary_cases() + [case(i32(3))],
    "round": unary_cases() + [case(np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])),  # half to even
                              case(i64(2, 3))],
    "add": binary_cases() + int_binary_cases(),
    "sub": binary_cases() + int_binary_cases(),
    "mul": binary_cases() + int_binary_cases(),
    "div": binary_cases(f64, lambda *s: f64(*s, lo=0.5, hi=3.0)),
    "rem": binary_cases(f64, lambda *s: f64(*s, lo=0.5, hi=3.0))
    + int_binary_cases(i64, nonzero_i64)
    + [case(np.array([-7, -7, 7, 7]), np.array([3, -3, 3, -3]))],   # sign of the divisor
    "floor_div": binary_cases(f64, lambda *s: f64(*s, lo=0.5, hi=3.0))
    + int_binary_cases(i64, nonzero_i64)
    + [case(np.array([-7, -7, 7, 7]), np.array([2, -2, 2, -2]))],
    "pow": binary_cases(lambda *s: f64(*s, lo=0.1, hi=3.0))
    + [case(i64(2, 3), i64(2, 3, lo=0, hi=4)), case(i64(3), np.int64(2))],
    "max": binary_cases() + int_binary_cases(),
    "min": binary_cases() + int_binary_cases(),
    "atan2": binary_cases(),
    "eq": binary_cases() + int_binary_cases() + [case(np.array([1.0, 2.0]), np.array([1.0, 3.0]))],
    "ne": binary_cases() + int_binary_cases() + [case(np.array([1.0, 2.0]), np.array([1.0, 3.0]))],
    "lt": binary_cases() + int_binary_cases(),
    "le": binary_cases() + int_binary_cases(),
    "gt": binary_cases() + int_binary_cases(),
    "ge": binary_cases() + int_binary_cases(),
    "not": [case(bools(2, 3)), case(bools()), case(i64(3)), case(i32(2, 2))],
    "and": logic_cases(), "or": logic_cases(), "xor": logic_cases(),
    "integer_pow": [case(f64(2, 3), y=2), case(f64(), y=3), case(f64(3), y=0), case(f64(3), y=1),
                    case(f64(2, 3, lo=0.5, hi=2.0), y=-2), case(f32(4), y=3),
                    case(f32(), y=-1), case(i64(2, 3), y=3), case(i32(3), y=2)],
    "select": [case(bools(2, 3), f64(2, 3), f64(2, 3)), case(bools(), f64(3), f64(3)),
               case(bools(4), f64(), f64()), case(bools(4), f64(4), f64()),
               case(bools(), f64(), f64()), case(bools(3), f32(3), f32(3)),
               case(bools(2, 2), i64(2, 2), Const(np.int64(0))),
               case(bools(3), Const(np.float64(1.0)), Const(np.float64(-1.0)))],
    "convert_element_type": [
        case(f64(2, 3), new_dtype=np.dtype(np.float32)),
        case(f32(3), new_dtype=np.dtype(np.float64)),
        case(f64(), new_dtype=np.dtype(np.float32)),
        case(np.array([-2.7, -0.5, 0.5, 2.7]), new_dtype=np.dtype(np.int64)),   # truncates
        case(i64(2, 3), new_dtype=np.dtype(np.float64)),
        case(i64(), new_dtype=np.dtype(np.int32)),
        case(bools(4), new_dtype=np.dtype(np.float64)),
        case(np.array([0.0, 1.5, -2.0]), new_dtype=np.dtype(np.bool_)),
        case(f64(3), new_dtype=np.dtype(np.float64)),
    ],
    "reduce_sum": [case(f64(2, 3), axes=(0,)), case(f64(2, 3), axes=(1,)),
                   case(f64(2, 3), axes=(0, 1)), case(f64(2, 3, 4), axes=(0, 2)),
                   case(f64(3), axes=()), case(f64(), axes=()), case(f32(4, 5), axes=(1,)),
                   case(i64(2, 3), axes=(0, 1)), case(f64(0, 3), axes=(0,))],
    "reduce_prod": [case(f64(2, 3), axes=(0,)), case(f64(2, 3), axes=(0, 1)),
                    case(f64(2, 3, 4), axes=(1,)), case(f64(), axes=()),
                    case(f32(4, 3), axes=(1,)), case(i64(2, 3), axes=(1,))],
    "reduce_max": [case(f64(2, 3), axes=(0,)), case(f64(2, 3), axes=(0, 1)),
                   case(f64(2, 3, 4), axes=(2, 0)), case(f64(), axes=()),
                   case(f32(4, 3), axes=(1,)), case(i64(2, 3), axes=(1,))],
    "reduce_min": [case(f64(2, 3), axes=(1,)), case(f64(2, 3), axes=(0, 1)),
                   case(f64(2, 3, 4), axes=(1, 2)), case(f64(), axes=()),
                   case(f32(4, 3), axes=(0,)), case(i64(2, 3), axes=(0,))],
    "argmax": [case(f64(2, 3), axis=0, index_dtype=np.dtype(np.int64)),
               case(f64(2, 3), axis=1, index_dtype=np.dtype(np.int64)),
               case(f64(5), axis=0, index_dtype=np.dtype(np.int32)),
               case(f32(2, 3, 4), axis=2, index_dtype=np.dtype(np.int64)),
               case(np.array([1.0, 3.0, 3.0, 0.0]), axis=0, index_dtype=np.dtype(np.int64)),
               case(i64(3, 2), axis=0, index_dtype=np.dtype(np.int64))],
    "argmin": [case(f64(2, 3), axis=0, index_dtype=np.dtype(np.int64)),
               case(f64(2, 3), axis=1, index_dtype=np.dtype(np.int64)),
               case(f64(5), axis=0, index_dtype=np.dtype(np.int32)),
               case(f32(2, 3, 4), axis=1, index_dtype=np.dtype(np.int64)),
               case(np.array([1.0, 0.0, 0.0, 3.0]), axis=0, index_dtype=np.dtype(np.int64)),
               case(i64(3, 2), axis=1, index_dtype=np.dtype(np.int64))],
    "reshape": [case(f64(2, 3), shape=(3, 2)), case(f64(6), shape=(1, 2, 3)),
                case(f64(), shape=(1,)), case(f64(1), shape=()), case(f64(), shape=(1, 1)),
                case(f32(2, 3, 4), shape=(6, 4)), case(i64(4), shape=(2, 2)),
                case(f64(0, 3), shape=(3, 0))],
    "transpose": [case(f64(2, 3), permutation=(1, 0)), case(f64(2, 3, 4), permutation=(2, 0, 1)),
                  case(f64(2, 3, 4), permutation=(0, 1, 2)), case(f64(), permutation=()),
                  case(f32(3, 1), permutation=(1, 0)), case(i64(2, 3), permutation=(1, 0))],
    "broadcast_in_dim": [
        case(f64(3), shape=(2, 3), broadcast_dimensions=(1,)),
        case(f64(3), shape=(3, 2), broadcast_dimensions=(0,)),
        case(f64(3, 1), shape=(2, 3, 4), broadcast_dimensions=(1, 2)),
        case(f64(), shape=(2, 3), broadcast_dimensions=()),
        case(f64(), shape=(), broadcast_dimensions=()),
        case(f64(2, 1), shape=(2, 5), broadcast_dimensions=(0, 1)),
        case(f32(1), shape=(4,), broadcast_dimensions=(0,)),
        case(i64(2), shape=(2, 3), broadcast_dimensions=(0,)),
    ],
    "squeeze": [case(f64(1, 3, 1), dimensions=(0, 2)), case(f64(1, 3, 1), dimensions=(2,)),
                case(f64(1), dimensions=(0,)), case(f64(2, 3), dimensions=()),
                case(f32(3, 1), dimensions=(1,)), case(f64(1, 1), dimensions=(0, 1))],
    "expand_dims": [case(f64(3), dimensions=(0,)), case(f64(3), dimensions=(1,)),
                    case(f64(3), dimensions=(0, 2)), case(f64(), dimensions=(0,)),
                    case(f64(), dimensions=(0, 1)), case(f32(2, 3), dimensions=(1,)),
                    case(i64(2), dimensions=(0,))],
    "concatenate": [case(f64(2, 3), f64(4, 3), axis=0), case(f64(2, 3), f64(2, 1), axis=1),
                    case(f64(2), f64(3), f64(1), axis=0), case(f64(3), axis=0),
                    case(f32(2, 2), f32(2, 3), axis=1), case(i64(1, 2), i64(2, 2), axis=0),
                    case(f64(3), Const(f64(2)), axis=0), case(f64(0, 2), f64(2, 2), axis=0)],
    "slice": [case(f64(10), start_indices=(2,), limit_indices=(7,), strides=(1,)),
              case(f64(10), start_indices=(1,), limit_indices=(10,), strides=(3,)),
              case(f64(10), start_indices=(4,), limit_indices=(4,), strides=(1,)),
              case(f64(4, 5), start_indices=(1, 0), limit_indices=(3, 5), strides=(1, 2)),
              case(f64(), start_indices=(), limit_indices=(), strides=()),
              case(f32(6, 2), start_indices=(0, 1), limit_indices=(6, 2), strides=(2, 1)),
              case(i64(5), start_indices=(0,), limit_indices=(5,), strides=(4,))],
    "rev": [case(f64(5), dimensions=(0,)), case(f64(2, 3), dimensions=(1,)),
            case(f64(2, 3), dimensions=(0, 1)), case(f64(2, 3), dimensions=()),
            case(f64(), dimensions=()), case(f32(3, 4), dimensions=(0,)),
            case(i64(4), dimensions=(0,))],
    "pad": [case(f64(3), np.float64(0.0), padding_config=((1, 2, 0),)),
            case(f64(3), f64(), padding_config=((0, 0, 2),)),
            case(f64(2, 3), f64(), padding_config=((1, 0, 1), (0, 2, 0))),
            case(f64(2, 3), Const(np.float64(-1.0)), padding_config=((0, 0, 0), (2, 1, 3))),
            case(f64(), f64(), padding_config=()),
            case(f32(4), np.float32(7.0), padding_config=((1, 1, 1),)),
            case(i64(2, 2), np.int64(9), padding_config=((1, 1, 0), (0, 1, 1))),
            case(f64(1), f64(), padding_config=((0, 0, 5),)),
            case(f64(0), f64(), padding_config=((2, 1, 1),))],
    "gather": [case(f64(5), np.array([3, 0, 0, 4]), axis=0),
               case(f64(5), np.array([-1, -5, 2]), axis=0),              # negative indices
               case(f64(4, 3), np.array([2, 0]), axis=1),
               case(f64(4, 3), np.array([[0, 1], [3, 3]]), axis=0),     # 2-d indices
               case(f64(4, 3), np.array(2), axis=0),                    # 0-d index
               case(f32(2, 3, 4), np.array([1, 1], np.int32), axis=2),
               case(i64(5), Const(np.array([4, 1])), axis=0),
               case(f64(5), np.zeros(0, np.int64), axis=0)],
    "cond": [case(np.int32(0), f64(3), branches=(_NEG, _SIN)),
             case(np.int32(1), f64(3), branches=(_NEG, _SIN)),
             case(np.int32(-4), f64(2), f64(2), branches=tuple(_PAIRS)),   # clamped to 0
             case(np.int32(2), f64(2), f64(2), branches=tuple(_PAIRS)),
             case(np.int32(9), f64(2), f64(2), branches=tuple(_PAIRS))],   # clamped to 2
    "scan": [case(f64(), f64(3), f64(4, 3), body=_STEP, length=4, reverse=False, num_consts=1,
                  num_carry=1),
             case(f64(), f64(3), f64(2, 3), body=_STEP, length=2, reverse=True, num_consts=1,
                  num_carry=1)],
    "checkpoint": [case(f64(3), body=_SIN, policy=None),
                   case(f64(2, 3), f64(3, 3), body=_LAYER, policy=None),
                   case(f64(2, 3), f64(3, 3), body=_LAYER,
                        policy=cr.checkpoint_policies.dots_saveable)],
    "custom_jvp_call": [case(f64(3), **_custom_params("custom_jvp_call", _cube, f64(3))),
                        case(f64(), **_custom_params("custom_jvp_call", _cube, f64())),
                        case(f32(2, 2), **_custom_params("custom_jvp_call", _cube, f32(2, 2)))],
    "custom_vjp_call": [case(f64(3), f64(3),
                             **_custom_params("custom_vjp_call", _times_and_exp, f64(3), f64(3))),
                        case(f64(), f64(),
                             **_custom_params("custom_vjp_call", _times_and_exp, f64(), f64()))],
    # residuals x, y, exp(x), then the tangents of x and y
    "custom_vjp_lin": [case(*[f64(3) for _ in range(5)],
                            **_custom_params("custom_vjp_lin", _times_and_exp, f64(3), f64(3),
                                             linear=True)),
                       case(*[f64() for _ in range(5)],
                            **_custom_params("custom_vjp_lin", _times_and_exp, f64(), f64(),
                                             linear=True))],
    "while": [case(np.int64(3), f64(2), np.int64(0), cond=_BELOW, body=_GROW, cond_nconsts=1,
                   body_nconsts=0),
              case(np.int64(0), f64(2), np.int64(0), cond=_BELOW, body=_GROW, cond_nconsts=1,
                   body_nconsts=0)],
    "normalize_index": [case(np.array([-3, -1, 0, 2]), axis=0, size=3),
                        case(np.array([[4, -5], [0, 1]], np.int32), axis=1, size=5),
                        case(np.array(-2), axis=2, size=2),
                        case(np.array([[-1], [0]]), axis=0, size=1, batch_dims=1)],
    "scatter_add": [
        case(f64(5), np.array([3, 0, 0, 4]), f64(4), axis=0),          # repeated index adds up
        case(f64(5), np.array([-1, 1]), f64(2), axis=0),               # negative index
        case(f64(4, 3), np.array([2, 0]), f64(4, 2), axis=1),
        case(f64(4, 3), np.array([[0, 1], [1, 1]]), f64(2, 2, 3), axis=0),
        case(f64(4, 3), np.array(2), f64(3), axis=0),                  # 0-d index
        case(f32(2, 3), np.array([0, 0], np.int32), f32(2, 2), axis=1),
        case(i64(3), Const(np.array([1, 1])), i64(2), axis=0),
        case(f64(3), np.zeros(0, np.int64), f64(0), axis=0),
    ],
    "scatter": [
        case(f64(5), np.array([3, 0, 4]), f64(3), axis=0),
        case(f64(5), np.array([1, 1]), np.array([7.0, 9.0]), axis=0),  # the last write wins
        case(f64(5), np.array([-1, 1]), f64(2), axis=0),               # negative index
        case(f64(4, 3), np.array([2, 0]), f64(4, 2), axis=1),
        case(f64(4, 3), np.array([[0, 1], [3, 2]]), f64(2, 2, 3), axis=0),
        case(f64(4, 3), np.array(2), f64(3), axis=0),                  # 0-d index
        case(f32(2, 3), np.array([2], np.int32), f32(2, 1), axis=1),
        case(i64(3), Const(np.array([0, 2])), i64(2), axis=0),
        case(f64(3), np.zeros(0, np.int64), f64(0), axis=0),
    ],
    "dot_general": [
        case(f64(2, 3), f64(3, 4), dimension_numbers=(((1,), (0,)), ((), ()))),        # matmul
        case(f64(3), f64(3), dimension_numbers=(((0,), (0,)), ((), ()))),              # inner
        case(f64(3), f64(4), dimension_numbers=(((), ()), ((), ()))),                  # outer
        case(f64(3, 2), f64(3, 4), dimension_numbers=(((0,), (0,)), ((), ()))),        # a.T @ b
        case(f64(5, 2, 3), f64(5, 3, 4), dimension_numbers=(((2,), (1,)), ((0,), (0,)))),
        case(f64(2, 5, 3), f64(3, 4, 5), dimension_numbers=(((2,), (0,)), ((1,), (2,)))),
        case(f64(2, 3, 4), f64(4, 3, 5), dimension_numbers=(((1, 2), (1, 0)), ((), ()))),
        case(f64(), f64(3), dimension_numbers=(((), ()), ((), ()))),                   # 0-d
        case(f64(), f64(), dimension_numbers=(((), ()), ((), ()))),
        case(f32(2, 3), f32(3), dimension_numbers=(((1,), (0,)), ((), ()))),
        case(i64(2, 3), i64(3, 2), dimension_numbers=(((1,), (0,)), ((), ()))),
        case(f64(0, 3), f64(3, 2), dimension_numbers=(((1,), (0,)), ((), ()))),
        case(f64(2, 0), f64(0, 2), dimension_numbers=(((1,), (0,)), ((), ()))),        # empty sum
        case(f64(2, 3), Const(f64(3, 4)), dimension_numbers=(((1,), (0,)), ((), ()))),
    ],
    # -- elementwise, reductions, cumulative, sorting, scipy.special --
    "stop_gradient": unary_cases() + [case(i64(2, 3))],
    "logaddexp": binary_cases() + [
        case(np.array([np.inf, -np.inf, np.inf, 1000.0, -1000.0, np.nan, 0.0]),
             np.array([np.inf, -np.inf, 1.0, -1000.0, 0.0, 1.0, 0.0]))],   # NumPy's special cases
    "hypot": binary_cases() + [
        case(np.array([0.0, 3.0, np.inf, 1e200, -2.0]), np.array([0.0, -4.0, np.nan, 1e200, 2.0]))],
    "signbit": unary_cases() + [
        case(np.array([-0.0, 0.0, -np.nan, np.nan, -np.inf, np.inf, -1.0]))],
    "cumsum": [case(f64(5), axis=0, reverse=False), case(f64(5), axis=0, reverse=True),
               case(f64(2, 3), axis=1, reverse=False), case(f64(2, 3, 4), axis=1, reverse=True),
               case(f32(4, 3), axis=0, reverse=False), case(i64(2, 3), axis=1, reverse=False),
               case(f64(1), axis=0, reverse=True), case(f64(0, 3), axis=0, reverse=False)],
    "cumprod": [case(f64(5), axis=0), case(f64(2, 3), axis=0), case(f64(2, 3, 4), axis=2),
                case(np.array([2.0, 0.0, 3.0, -1.0]), axis=0), case(f32(3, 4), axis=1),
                case(i64(2, 3), axis=1), case(f64(1), axis=0), case(f64(2, 0), axis=1)],
    "sort": [case(f64(5), axis=0), case(f64(2, 3), axis=0), case(f64(2, 3, 4), axis=2),
             case(np.array([2.0, np.nan, -1.0, 2.0, -np.inf, 0.0]), axis=0),   # NaN last
             case(f32(4), axis=0), case(i64(3, 4), axis=1), case(f64(1), axis=0),
             case(np.array([1.0, 0.0, 1.0, 0.0]), np.arange(4), axis=0),      # stable: ties
             case(f64(2, 3), f64(2, 3), i64(2, 3), f32(2, 3), axis=1),       # carried along
             case(i64(5), Const(f64(5)), axis=0), case(f64(0), axis=0)],
    # -- shapes, construction, indexing --
    **{name: [
        case(f64(5), np.array([3, 0, 4]), f64(3), axis=0),
        case(f64(5), np.array([1, 1, 1]), np.array([7.0, -9.0, 0.5]), axis=0),  # repeated
        case(f64(5), np.array([-1, 1]), f64(2), axis=0),                       # negative index
        case(f64(4, 3), np.array([2, 0, 2]), f64(4, 3), axis=1),
        case(f64(4, 3), np.array([[0, 1], [1, 1]]), f64(2, 2, 3), axis=0),
        case(f64(4, 3), np.array(2), f64(3), axis=0),                          # 0-d index
        case(f32(2, 3), np.array([0, 0], np.int32), f32(2, 2), axis=1),
        case(i64(3), Const(np.array([1, 1])), i64(2), axis=0),
        case(f64(3), np.zeros(0, np.int64), f64(0), axis=0),
    ] for name in ("scatter_min", "scatter_max")},
    # -- linear algebra --
    "solve": [case(_well(3, 3), f64(3, 2)), case(_well(2, 3, 3), f64(2, 3, 1)),
              case(_well(1, 1), f64(1, 4)), case(_well(3, 3, dtype=np.float32), f32(3, 2)),
              case(Const(_well(3, 3)), f64(3, 2)), case(_well(2, 2), Const(f64(2, 2))),
              case(_well(0, 2, 2), f64(0, 2, 3))],
    "triangular_solve": [
        case(_well(3, 3), f64(3, 2), left_side=True, lower=True, transpose_a=False,
             unit_diagonal=False),
        case(_well(3, 3), f64(2, 3), left_side=False, lower=False, transpose_a=True,
             unit_diagonal=False),
        case(_well(2, 3, 3), f64(2, 3, 1), left_side=True, lower=False, transpose_a=True,
             unit_diagonal=True),
        case(_well(4, 4), f64(2, 4), left_side=False, lower=True, transpose_a=False,
             unit_diagonal=True),
        case(_well(3, 3, dtype=np.float32), f32(3, 3), left_side=True, lower=True,
             transpose_a=True, unit_diagonal=False),
        case(Const(_well(2, 2)), f64(2, 1), left_side=True, lower=False, transpose_a=False,
             unit_diagonal=False)],
    "slogdet": [case(f64(3, 3)), case(f64(2, 4, 4)), case(f64(1, 1)), case(f32(3, 3)),
                case(np.array([[1.0, 2.0], [2.0, 4.0]])),            # singular: (0, -inf)
                case(-np.eye(3))],                                     # sign -1
    "cholesky": [case(_spd(3, 3)), case(_spd(2, 4, 4)), case(_spd(1, 1)),
                 case(_spd(3, 3, dtype=np.float32)),
                 case(np.tril(_spd(3, 3)) + np.triu(f64(3, 3), 1))],  # the upper part unread
    "qr": [case(f64(4, 3), full_matrices=False), case(f64(3, 3), full_matrices=False),
           case(f64(2, 5), full_matrices=False), case(f64(2, 4, 3), full_matrices=False),
           case(f64(4, 2), full_matrices=True), case(f32(3, 2), full_matrices=False)],
    "eigh": [case(f64(3, 3), lower=True), case(f64(2, 4, 4), lower=False),
             case(f64(1, 1), lower=True), case(f32(3, 3), lower=True),
             case(np.diag([3.0, 1.0, 2.0]), lower=True)],
    "svd": [case(f64(3, 3), full_matrices=False, hermitian=False),
            case(f64(4, 2), full_matrices=True, hermitian=False),
            case(f64(2, 3, 5), full_matrices=False, hermitian=False),
            case(_spd(3, 3), full_matrices=False, hermitian=True),
            case(f32(3, 4), full_matrices=False, hermitian=False)],
    "pinv": [case(f64(4, 3), rcond=1e-15, hermitian=False),
             case(f64(2, 3, 4), rcond=1e-15, hermitian=False),
             case(_well(3, 3), rcond=1e-15, hermitian=True),
             case(f32(3, 2), rcond=1e-6, hermitian=False)],
}

# special functions: positive arguments for the gamma family, (0, 1) for ndtri
CASES.update({
    "lgamma": unary_cases(lambda *s: f64(*s, lo=0.3, hi=6.0))
    + [case(np.array([-2.5, -0.5, 1.0, 2.0, 30.0]))],
    "gamma": unary_cases(lambda *s: f64(*s, lo=0.3, hi=6.0)) + [case(np.array([-2.5, -0.5, 4.0]))],
    "digamma": unary_cases(lambda *s: f64(*s, lo=0.3, hi=6.0)) + [case(np.array([0.01, 25.0]))],
    "polygamma": [case(f64(3, lo=0.3, hi=6.0), n=1), case(f64(lo=0.3, hi=6.0), n=2),
                  case(f64(2, 3, lo=0.3, hi=6.0), n=3),
                  case(f64(3, lo=0.5, hi=3.0).astype(np.float32), n=1)],
    "erf": unary_cases(), "erfc": unary_cases(lambda *s: f64(*s, lo=-3.0, hi=5.0)),
    "erf_inv": unary_cases(lambda *s: f64(*s, lo=-0.99, hi=0.99))
    + [case(np.array([1e-9, -0.3, 0.6, 0.999]))],
    "ndtri": unary_cases(lambda *s: f64(*s, lo=0.01, hi=0.99))
    + [case(np.array([1e-20, 0.5, 0.74, 0.76, 0.999]))],
    "log_ndtr": unary_cases(lambda *s: f64(*s, lo=-6.0, hi=6.0))
    + [case(np.array([-25.0, -10.0, 0.0, 9.0]))],
    "i0e": unary_cases() + [case(np.array([-30.0, -24.0, 0.0, 26.0, 200.0]))],
    "i1e": unary_cases() + [case(np.array([-20.0, -1e-3, 0.0, 12.0]))],
    "xlogy": binary_cases(f64, lambda *s: f64(*s, lo=0.5, hi=3.0))
    + [case(np.array([0.0, 0.0, 2.0]), np.array([0.0, 1.5, 0.5]))],
    "xlog1py": binary_cases(f64, lambda *s: f64(*s, lo=-0.5, hi=3.0))
    + [case(np.array([0.0, 0.0, 2.0]), np.array([-1.0, 1.5, 0.5]))],
})


def _case_id(name, operands, params):
    ops = ",".join(
        (f"const {np.asarray(o.value).dtype}{list(np.shape(o.value))}" if isinstance(o, Const)
         else f"{np.asarray(o).dtype}{list(np.shape(o))}") for o in operands)
    ps = ",".join(f"{k}={v}" for k, v in sorted(params.items()))
    return f"{name}({ops}{';' + ps if ps else ''})".replace(" ", "")


PARAMS = [pytest.param(name, ops, params, id=_case_id(name, ops, params))
          for name in sorted(CASES) for ops, params in CASES[name]]


def assert_same_array(actual, expected):
    """Equal shape and dtype exactly, values to the dtype's precision."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    if np.issubdtype(expected.dtype, np.inexact):
        rtol = 1e-5 if expected.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol)
    else:
        np.testing.assert_array_equal(actual, expected)


def test_every_primitive_has_cases():
    missing = sorted(set(all_primitives()) - set(CASES))
    assert not missing, f"primitives without test cases in CASES: {missing}"
    unknown = sorted(set(CASES) - set(all_primitives()))
    assert not unknown, f"CASES rows for primitives that do not exist: {unknown}"
    assert set(REFERENCES) == set(CASES)


@pytest.mark.parametrize("name, operands, params", PARAMS)
def test_primitive_traces_and_evaluates_like_numpy(name, operands, params):
    prim = all_primitives()[name]
    traced = [o for o in operands if not isinstance(o, Const)]

    def f(*xs):
        it = iter(xs)
        return prim.bind(*[o.value if isinstance(o, Const) else next(it) for o in operands],
                         **params)

    ir = cr.make_ir(f)(*traced)
    ir.check()
    assert [e.primitive.name for e in ir.eqns] == [name]
    values = [o.value if isinstance(o, Const) else o for o in operands]
    if name in RAISES_ON_EVAL:   # no forward evaluation: the reference raises, so must eval
        error, message = RAISES_ON_EVAL[name]
        for run in (lambda: REFERENCES[name](*values, **params), lambda: ir.eval(*traced)):
            with pytest.raises(error, match=message):
                run()
        return
    with np.errstate(all="ignore"):
        expected = REFERENCES[name](*values, **params)
        out = ir.eval(*traced)
    if not prim.multiple_results:
        out, expected = [out], [expected]
    assert len(ir.out_avals) == len(out) == len(expected)   # one reference per result
    for aval, o, e in zip(ir.out_avals, out, expected):
        e = np.asarray(e)
        assert (aval.shape, aval.dtype) == (e.shape, e.dtype)
        assert_same_array(o, e)


def _raises_shape_error(prim_name, *operands, **params):
    prim = all_primitives()[prim_name]
    with pytest.raises(cr.ShapeError) as info:
        cr.make_ir(lambda *xs: prim.bind(*xs, **params))(*operands)
    assert prim_name in str(info.value)


BAD = [
    pytest.param("add", (f64(3), f64(4)), {}, id="add-f64[3]-f64[4]"),
    pytest.param("add", (f64(3, 1), f64(4)), {}, id="add-no-implicit-broadcasting"),
    pytest.param("mul", (f32(3), f64(3)), {}, id="mul-f32-f64"),
    pytest.param("sub", (i64(3), f64(3)), {}, id="sub-i64-f64"),
    pytest.param("div", (i64(3), i64(3)), {}, id="div-integers"),
    pytest.param("pow", (f64(3), f32(3)), {}, id="pow-dtypes"),
    pytest.param("sin", (i64(3),), {}, id="sin-integer"),
    pytest.param("and", (f64(3), f64(3)), {}, id="and-floats"),
    pytest.param("lt", (f64(2), f64(3)), {}, id="lt-shapes"),
    pytest.param("select", (f64(3), f64(3), f64(3)), {}, id="select-float-predicate"),
    pytest.param("select", (bools(4), f64(3), f64(3)), {}, id="select-predicate-shape"),
    pytest.param("integer_pow", (i64(3),), {"y": -1}, id="integer_pow-negative-int"),
    pytest.param("integer_pow", (f64(3),), {"y": 1.5}, id="integer_pow-non-integer"),
    pytest.param("dot_general", (f64(2, 3), f64(4, 5)),
                 {"dimension_numbers": (((1,), (0,)), ((), ()))}, id="dot_general-contracting"),
    pytest.param("dot_general", (f64(2, 3, 4), f64(5, 4, 3)),
                 {"dimension_numbers": (((2,), (1,)), ((0,), (0,)))}, id="dot_general-batch"),
    pytest.param("dot_general", (f64(2, 3), f32(3, 2)),
                 {"dimension_numbers": (((1,), (0,)), ((), ()))}, id="dot_general-dtypes"),
    pytest.param("dot_general", (f64(2, 3), f64(3, 2)),
                 {"dimension_numbers": (((2,), (0,)), ((), ()))}, id="dot_general-axis-range"),
    pytest.param("reshape", (f64(2, 3),), {"shape": (4, 2)}, id="reshape-wrong-size"),
    pytest.param("reshape", (f64(2, 3),), {"shape": (-1, 3)}, id="reshape-negative"),
    pytest.param("transpose", (f64(2, 3),), {"permutation": (0, 0)}, id="transpose-not-perm"),
    pytest.param("transpose", (f64(2, 3),), {"permutation": (0, 1, 2)}, id="transpose-rank"),
    pytest.param("broadcast_in_dim", (f64(3),), {"shape": (2, 4), "broadcast_dimensions": (1,)},
                 id="broadcast_in_dim-size"),
    pytest.param("broadcast_in_dim", (f64(2, 3),),
                 {"shape": (2, 3), "broadcast_dimensions": (1, 0)}, id="broadcast_in_dim-order"),
    pytest.param("squeeze", (f64(2, 3),), {"dimensions": (0,)}, id="squeeze-not-1"),
    pytest.param("expand_dims", (f64(3),), {"dimensions": (2,)}, id="expand_dims-range"),
    pytest.param("reduce_sum", (f64(2, 3),), {"axes": (2,)}, id="reduce_sum-axis-range"),
    pytest.param("reduce_max", (f64(2, 3),), {"axes": (0, 0)}, id="reduce_max-repeated-axis"),
    pytest.param("argmax", (f64(0, 3),), {"axis": 0, "index_dtype": np.dtype(np.int64)},
                 id="argmax-empty"),
    pytest.param("concatenate", (f64(2, 3), f64(2, 4)), {"axis": 0}, id="concatenate-off-axis"),
    pytest.param("concatenate", (f64(2), f32(2)), {"axis": 0}, id="concatenate-dtypes"),
    pytest.param("slice", (f64(5),), {"start_indices": (2,), "limit_indices": (7,),
                                      "strides": (1,)}, id="slice-out-of-bounds"),
    pytest.param("slice", (f64(5),), {"start_indices": (0,), "limit_indices": (5,),
                                      "strides": (0,)}, id="slice-zero-stride"),
    pytest.param("rev", (f64(5),), {"dimensions": (1,)}, id="rev-axis-range"),
    pytest.param("pad", (f64(3), f32()), {"padding_config": ((1, 1, 0),)}, id="pad-value-dtype"),
    pytest.param("pad", (f64(3), f64(2)), {"padding_config": ((1, 1, 0),)}, id="pad-value-shape"),
    pytest.param("pad", (f64(3), f64()), {"padding_config": ((-1, 0, 0),)}, id="pad-negative"),
    pytest.param("gather", (f64(5), f64(2)), {"axis": 0}, id="gather-float-indices"),
    pytest.param("cond", (f64(), f64(3)), {"branches": (_NEG, _SIN)}, id="cond-float-index"),
    pytest.param("cond", (np.int32(0), f64(4)), {"branches": (_NEG, _SIN)},
                 id="cond-operand-type"),
    pytest.param("cond", (np.int32(0), f64(3)), {"branches": (_NEG, body(np.sum, f64(3)))},
                 id="cond-branch-types"),
    pytest.param("checkpoint", (f64(4),), {"body": _SIN, "policy": None},
                 id="checkpoint-operand-type"),
    pytest.param("checkpoint", (f64(3), f64(3)), {"body": _SIN, "policy": None},
                 id="checkpoint-operand-count"),
    pytest.param("custom_jvp_call", (f64(4),),
                 _custom_params("custom_jvp_call", _cube, f64(3)), id="custom_jvp_call-operand"),
    pytest.param("custom_vjp_lin", (f64(3), f64(3), f64(3), f64(3), f64(2)),
                 _custom_params("custom_vjp_lin", _times_and_exp, f64(3), f64(3), linear=True),
                 id="custom_vjp_lin-tangent"),
    pytest.param("normalize_index", (f64(2),), {"axis": 0, "size": 3},
                 id="normalize_index-float-indices"),
    pytest.param("gather", (f64(5), i64(2)), {"axis": 1}, id="gather-axis-range"),
    pytest.param("scatter_add", (f64(5), i64(2), f64(3)), {"axis": 0},
                 id="scatter_add-updates-shape"),
    pytest.param("scatter_add", (f64(5), i64(2), f32(2)), {"axis": 0},
                 id="scatter_add-updates-dtype"),
    pytest.param("scatter_add", (f64(5), f64(2), f64(2)), {"axis": 0},
                 id="scatter_add-float-indices"),
    pytest.param("scatter", (f64(5), i64(2), f64(3)), {"axis": 0}, id="scatter-updates-shape"),
    pytest.param("scatter", (f64(2, 5), i64(2), f64(2)), {"axis": 0},
                 id="scatter-updates-rank"),
]


@pytest.mark.parametrize("name, operands, params", BAD)
def test_shape_rule_rejects_bad_operands(name, operands, params):
    _raises_shape_error(name, *operands, **params)


def test_binary_accepts_a_scalar_operand_on_either_side():
    add = all_primitives()["add"]
    for x, y, shape in [(f64(3), f64(), (3,)), (f64(), f64(2, 2), (2, 2)), (f64(), f64(), ())]:
        ir = cr.make_ir(lambda a, b: add.bind(a, b))(x, y)
        ir.check()
        assert ir.out_avals[0].shape == shape


def test_every_primitive_the_rules_name_is_defined():
    # rules bind other modules' primitives by name (primitives/_ops.py): every
    # PRIMITIVES["name"] there must name a registered primitive
    import ast
    import pathlib
    from chainrule.primitives import _ops
    tree = ast.parse(pathlib.Path(_ops.__file__).read_text())
    names = {node.slice.value for node in ast.walk(tree)
             if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
             and node.value.id == "PRIMITIVES" and isinstance(node.slice, ast.Constant)}
    assert len(names) > 20
    assert names <= set(all_primitives()), sorted(names - set(all_primitives()))
