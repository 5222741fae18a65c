"""NumPy's products over the one contraction primitive, ``dot_general``:
dot, vdot, matmul (``@``), matvec, vecmat, vecdot, tensordot, inner, outer
and einsum; and kron and cross, which are elementwise products of
rearranged operands.

``dot_general`` outputs the batch axes, then the left operand's free axes,
then the right operand's; each function below picks the contracting and
batch axes so that this order is already NumPy's, or transposes once.
"""
from __future__ import annotations

import operator

import numpy as np

from .. import primitives as P
from ..tracer.core import bind
from ..tracer.errors import ShapeError
from ..tracer.source import user_source_info, where
from ._shapes import expand_dims, moveaxis, ravel, reshape, squeeze, stack, transpose
from ._ufuncs import UFUNCS, multiply, subtract
from ._util import (asarray, broadcast_shapes, broadcast_to_shape, cast, normalize_axis,
                    unsupported)


def _promote(a, b):
    a, b = asarray(a), asarray(b)
    dtype = np.result_type(a.dtype, b.dtype)
    return cast(a, dtype), cast(b, dtype)


def dot_general(lhs, rhs, contract, batch=((), ())):
    """Bind ``dot_general`` with ``((lhs_c, rhs_c), (lhs_b, rhs_b))``."""
    return bind(P.dot_general_p, lhs, rhs, dimension_numbers=(
        (tuple(contract[0]), tuple(contract[1])), (tuple(batch[0]), tuple(batch[1]))))


def _mismatch(name, a, b, axis_a, axis_b):
    raise ShapeError(f"{name}: shapes {a.shape} and {b.shape} not aligned: axis {axis_a} of "
                     f"the first (size {a.shape[axis_a]}) differs from axis {axis_b} of the "
                     f"second (size {b.shape[axis_b]}){where(user_source_info())}")


def dot(a, b, out=None):
    """numpy.dot: a product of scalars, inner product of vectors, or the sum
    over ``a``'s last axis and ``b``'s second-to-last."""
    unsupported("dot", out=out)
    a, b = _promote(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    rb = 0 if b.ndim == 1 else b.ndim - 2
    if a.shape[-1] != b.shape[rb]:
        _mismatch("dot", a, b, a.ndim - 1, rb)
    return dot_general(a, b, ((a.ndim - 1,), (rb,)))


def vdot(a, b, /):
    """numpy.vdot: the dot product of the flattened arrays."""
    return dot(ravel(a), ravel(b))


def inner(a, b, /):
    """numpy.inner: contract the last axes."""
    a, b = _promote(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    if a.shape[-1] != b.shape[-1]:
        _mismatch("inner", a, b, a.ndim - 1, b.ndim - 1)
    return dot_general(a, b, ((a.ndim - 1,), (b.ndim - 1,)))


def outer(a, b, out=None):
    """numpy.outer: a ``dot_general`` with nothing contracted."""
    unsupported("outer", out=out)
    a, b = _promote(a, b)
    return dot_general(ravel(a), ravel(b), ((), ()))


def matmul(x1, x2, /, out=None, **kwargs):
    """numpy.matmul (``@``): matrix products over broadcast batch axes; a 1-d
    operand is a row (left) or column (right) vector that is then dropped."""
    unsupported("matmul", out=out, **kwargs)  # e.g. axes=: refused, not ignored
    a, b = _promote(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions (a scalar "
                         "cannot be matrix-multiplied; use *)")
    if a.ndim == 1 and b.ndim == 1:
        return dot(a, b)
    if a.ndim == 1:   # (k,) @ (..., k, m) -> (..., m)
        if a.shape[0] != b.shape[-2]:
            _mismatch("matmul", a, b, 0, b.ndim - 2)
        out = dot_general(a, b, ((0,), (b.ndim - 2,)))          # (..., m)
        return out
    if b.ndim == 1:   # (..., n, k) @ (k,) -> (..., n)
        if a.shape[-1] != b.shape[0]:
            _mismatch("matmul", a, b, a.ndim - 1, 0)
        return dot_general(a, b, ((a.ndim - 1,), (0,)))
    if a.shape[-1] != b.shape[-2]:
        _mismatch("matmul", a, b, a.ndim - 1, b.ndim - 2)
    if b.ndim == 2:   # (..., n, k) @ (k, m): no batch axes needed
        return dot_general(a, b, ((a.ndim - 1,), (0,)))
    batch = broadcast_shapes("matmul", a.shape[:-2], b.shape[:-2])
    nb = len(batch)
    if a.ndim == 2:   # (n, k) @ (..., k, m) -> (n, ..., m) -> (..., n, m)
        out = dot_general(a, b, ((1,), (b.ndim - 2,)))
        perm = tuple(range(1, nb + 1)) + (0, nb + 1)
        return transpose(out, perm)
    a = broadcast_to_shape(a, batch + a.shape[-2:])
    b = broadcast_to_shape(b, batch + b.shape[-2:])
    return dot_general(a, b, ((nb + 1,), (nb,)), (tuple(range(nb)), tuple(range(nb))))


# np.matmul is a ufunc: ``W @ t`` (W a NumPy array) and ``np.matmul(t, W)``
# reach chainrule through __array_ufunc__, which looks the ufunc up here
UFUNCS[np.matmul] = matmul


def tensordot(a, b, axes=2):
    """numpy.tensordot: contract ``axes`` pairs, as one ``dot_general``."""
    a, b = _promote(a, b)
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0 or n > min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: cannot contract {n} axes of shapes {a.shape}, {b.shape}")
        ax_a, ax_b = tuple(range(a.ndim - n, a.ndim)), tuple(range(n))
    else:
        ax_a, ax_b = axes
        ax_a = (ax_a,) if isinstance(ax_a, (int, np.integer)) else tuple(ax_a)
        ax_b = (ax_b,) if isinstance(ax_b, (int, np.integer)) else tuple(ax_b)
        if len(ax_a) != len(ax_b):
            raise ValueError("tensordot: shape-mismatch for sum")
        ax_a = tuple(normalize_axis(x, a.ndim) for x in ax_a)
        ax_b = tuple(normalize_axis(x, b.ndim) for x in ax_b)
    for i, j in zip(ax_a, ax_b):
        if a.shape[i] != b.shape[j]:
            _mismatch("tensordot", a, b, i, j)
    return dot_general(a, b, (ax_a, ax_b))


def vecdot(x1, x2, /, *, axis=-1, **kwargs):
    """numpy.vecdot / numpy.linalg.vecdot: dot products of vectors along
    ``axis`` over the broadcast other axes, one batched ``dot_general``."""
    unsupported("vecdot", **kwargs)
    a, b = _promote(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("vecdot: Input operand does not have enough dimensions")
    a, b = moveaxis(a, axis, -1), moveaxis(b, axis, -1)
    if a.shape[-1] != b.shape[-1]:
        _mismatch("vecdot", a, b, a.ndim - 1, b.ndim - 1)
    batch = broadcast_shapes("vecdot", a.shape[:-1], b.shape[:-1])
    a = broadcast_to_shape(a, batch + a.shape[-1:])
    b = broadcast_to_shape(b, batch + b.shape[-1:])
    nb = len(batch)
    return dot_general(a, b, ((nb,), (nb,)), (tuple(range(nb)), tuple(range(nb))))


def matvec(x1, x2, /, **kwargs):
    """numpy.matvec: matrix-vector products ``(..., m, n) x (..., n) -> (..., m)``
    over broadcast batch axes, as ``matmul`` with a column vector."""
    unsupported("matvec", **kwargs)
    x2 = asarray(x2)
    if x2.ndim == 0:
        raise ValueError("matvec: Input operand does not have enough dimensions")
    return squeeze(matmul(x1, expand_dims(x2, -1)), -1)


def vecmat(x1, x2, /, **kwargs):
    """numpy.vecmat: vector-matrix products ``(..., n) x (..., n, m) -> (..., m)``
    over broadcast batch axes, as ``matmul`` with a row vector."""
    unsupported("vecmat", **kwargs)
    x1 = asarray(x1)
    if x1.ndim == 0:
        raise ValueError("vecmat: Input operand does not have enough dimensions")
    return squeeze(matmul(expand_dims(x1, -2), x2), -2)


for _ufunc, _fn in [("vecdot", vecdot), ("matvec", matvec), ("vecmat", vecmat)]:
    if isinstance(getattr(np, _ufunc, None), np.ufunc):  # NumPy >= 2.0 / 2.2
        UFUNCS[getattr(np, _ufunc)] = _fn


def kron(a, b):
    """numpy.kron: ``out[i*bs + j] = a[i] * b[j]`` along every axis, as NumPy
    computes it: interleave new axes of size 1, multiply (broadcasting) and
    merge each pair of axes with a ``reshape``."""
    a, b = asarray(a), asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    nd = max(a.ndim, b.ndim)
    a = reshape(a, (1,) * (nd - a.ndim) + a.shape)
    b = reshape(b, (1,) * (nd - b.ndim) + b.shape)
    prod = multiply(expand_dims(a, tuple(range(1, 2 * nd, 2))),
                    expand_dims(b, tuple(range(0, 2 * nd, 2))))
    return reshape(prod, tuple(i * j for i, j in zip(a.shape, b.shape)))


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """numpy.cross of 3-vectors (or 2-vectors, whose cross product is the
    scalar z-component), from the components: ``a x b = (a1 b2 - a2 b1,
    a2 b0 - a0 b2, a0 b1 - a1 b0)``."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(asarray(a), axisa, -1), moveaxis(asarray(b), axisb, -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n"
                         "(dimension must be 2 or 3)")
    if a.shape[-1] == 2 and b.shape[-1] == 2:
        return subtract(multiply(a[..., 0], b[..., 1]), multiply(a[..., 1], b[..., 0]))
    a0, a1 = a[..., 0], a[..., 1]
    b0, b1 = b[..., 0], b[..., 1]
    a2 = a[..., 2] if a.shape[-1] == 3 else None
    b2 = b[..., 2] if b.shape[-1] == 3 else None

    def term(x, y, u, v):  # x y - u v, where a missing third component is 0
        left = None if x is None or y is None else multiply(x, y)
        right = None if u is None or v is None else multiply(u, v)
        if right is None:
            return left
        return subtract(left, right) if left is not None else multiply(-1, right)

    cp = [term(a1, b2, a2, b1), term(a2, b0, a0, b2), term(a0, b1, a1, b0)]
    shape = broadcast_shapes("cross", *[c.shape for c in cp if c is not None])
    cp = [broadcast_to_shape(c, shape) for c in cp]
    return moveaxis(stack(cp, axis=-1), -1, axisc)


# -- einsum ------------------------------------------------------------------
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _sublists_to_spec(args):
    """einsum(op0, sublist0, op1, sublist1, ..., [sublist_out]): NumPy's
    second calling convention, turned into a subscripts string (integers
    0-51 are the letters a-zA-Z, ``Ellipsis`` is ``...``)."""
    def term(sub):
        return "".join("..." if s is Ellipsis else _LETTERS[operator.index(s)] for s in sub)
    operands = list(args[0::2][:len(args) // 2])
    terms = [term(s) for s in args[1::2][:len(args) // 2]]
    spec = ",".join(terms)
    if len(args) % 2:
        spec += "->" + term(args[-1])
    return spec, operands


def _parse_einsum(spec, operands):
    spec = spec.replace(" ", "")
    if "->" in spec:
        ins, out = spec.split("->")
        explicit = True
    else:
        ins, out, explicit = spec, None, False
    terms = ins.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: {len(terms)} operand terms in {spec!r} but "
                         f"{len(operands)} operands")
    # Ellipsis: give the broadcast axes capital letters, aligned from the right
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in spec]
    ell_len = 0
    labels = []
    for term, op in zip(terms, operands):
        if "..." in term:
            n = op.ndim - (len(term) - 3)
            ell_len = max(ell_len, n)
            term = term.replace("...", "".join(spare[ell_len - n: ell_len]) if n else "")
            if n < 0:
                raise ValueError(f"einsum: operand has fewer dimensions than {term!r}")
        if len(term) != op.ndim:
            raise ValueError(f"einsum: term {term!r} does not match an operand of shape "
                             f"{op.shape}")
        labels.append(term)
    ell = "".join(spare[:ell_len])
    if explicit:
        out = out.replace("...", ell)
    else:
        counts = {}
        for t in labels:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c in counts if counts[c] == 1 and c not in ell))
    return labels, out


def _diagonal(x, labels):
    """Take diagonals for letters repeated within one operand ('ii' -> 'i'),
    as a gather on the merged pair of axes."""
    while True:
        dup = next((c for c in labels if labels.count(c) > 1), None)
        if dup is None:
            return x, labels
        i = labels.index(dup)
        j = labels.index(dup, i + 1)
        n = x.shape[i]
        if x.shape[j] != n:
            raise ShapeError(f"einsum: repeated index {dup!r} with sizes {n} and {x.shape[j]}"
                             f"{where(user_source_info())}")
        rest = [k for k in range(x.ndim) if k not in (i, j)]
        x = transpose(x, rest + [i, j])
        x = reshape(x, tuple(x.shape[:-2]) + (n * n,))
        x = bind(P.gather_p, x, np.arange(n) * (n + 1), axis=x.ndim - 1)
        labels = "".join(labels[k] for k in rest) + dup


def _broadcast_labels(work):
    """NumPy broadcasts a letter of size 1 against the same letter of another
    size.  An operand of size 1 along a letter is constant along it, so that
    axis is squeezed and the letter dropped from the operand."""
    sizes = {}
    for x, lab in work:
        for c, d in zip(lab, x.shape):
            if sizes.get(c, 1) == 1:
                sizes[c] = d
            elif d not in (1, sizes[c]):
                raise ShapeError(f"einsum: index {c!r} has sizes {sizes[c]} and {d}"
                                 f"{where(user_source_info())}")
    out = []
    for x, lab in work:
        drop = tuple(i for i, c in enumerate(lab) if x.shape[i] == 1 and sizes[c] != 1)
        if drop:
            x = squeeze(x, drop)
            lab = "".join(c for i, c in enumerate(lab) if i not in drop)
        out.append((x, lab))
    return out


def einsum(*args, out=None, optimize=False, dtype=None, order="K", casting="safe"):
    """numpy.einsum for any valid spec (subscripts string or sublists),
    lowered to diagonals (gather), sums (``reduce_sum``), pairwise
    ``dot_general`` contractions (left to right) and one final transpose.
    ``optimize`` is accepted and ignored: the contraction order is left to
    right."""
    unsupported("einsum", out=out, dtype=dtype, order=None if order in ("K", "A", "C") else order,
                casting=None if casting == "safe" else casting)
    from ._reductions import sum as _sum
    if args and isinstance(args[0], str):
        subscripts, operands = args[0], list(args[1:])
    else:
        subscripts, operands = _sublists_to_spec(args)
    operands = [asarray(o) for o in operands]
    dtype = np.result_type(*[o.dtype for o in operands])
    operands = [cast(o, dtype) for o in operands]
    labels, out_labels = _parse_einsum(subscripts, operands)
    if len(set(out_labels)) != len(out_labels):
        raise ValueError(f"einsum: output subscripts {out_labels!r} repeat an index")
    work = _broadcast_labels([_diagonal(o, lab) for o, lab in zip(operands, labels)])

    def needed_after(k):
        keep = set(out_labels)
        for _, lab in work[k:]:
            keep.update(lab)
        return keep

    # sum out letters that occur in one operand only and not in the output
    for k, (x, lab) in enumerate(work):
        others = set(out_labels)
        for m, (_, l2) in enumerate(work):
            if m != k:
                others.update(l2)
        axes = tuple(i for i, c in enumerate(lab) if c not in others)
        if axes:
            x = _sum(x, axis=axes)
            lab = "".join(c for i, c in enumerate(lab) if i not in axes)
        work[k] = (x, lab)

    acc, acc_lab = work[0]
    for k in range(1, len(work)):
        x, lab = work[k]
        later = needed_after(k + 1)
        common = [c for c in acc_lab if c in lab]
        batch = [c for c in common if c in later]
        contract = [c for c in common if c not in later]
        acc = dot_general(acc, x, ([acc_lab.index(c) for c in contract],
                                   [lab.index(c) for c in contract]),
                          ([acc_lab.index(c) for c in batch], [lab.index(c) for c in batch]))
        acc_lab = ("".join(batch) + "".join(c for c in acc_lab if c not in common)
                   + "".join(c for c in lab if c not in common))
    extra = tuple(i for i, c in enumerate(acc_lab) if c not in out_labels)
    if extra:  # letters summed away by the output (e.g. 'ij->' on one operand)
        acc = _sum(acc, axis=extra)
        acc_lab = "".join(c for i, c in enumerate(acc_lab) if i not in extra)
    if sorted(acc_lab) != sorted(out_labels):
        raise ValueError(f"einsum: output subscripts {out_labels!r} do not match the inputs")
    return transpose(acc, [acc_lab.index(c) for c in out_labels])
