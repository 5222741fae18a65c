"""The vocabulary of batch rules (vmap), shared by every primitive.

A batch rule ``prim.batch(args, dims, **params) -> (out, out_dim)`` gets the
operands of one equation with a batch axis added to some of them: ``dims[i]``
is the position of operand ``i``'s batch axis, or ``None`` when operand
``i`` is the same for every example.  It returns the batched result and the
position of its batch axis (lists of both for multiple-result primitives).
Rules are written with ``bind``, so a batched program is again IR.

The helpers give the common shapes of rules in one line each:
``batch_elementwise`` (same-shape operands, scalars allowed),
``batch_leading`` (the batch axis goes first and axis parameters shift by
one), and ``moveaxis``/``bdim_to_front`` for rules of their own.
"""
from __future__ import annotations

import numpy as np

from ..tracer.core import bind, get_aval
from ._ops import broadcast_in_dim, transpose


class IdentitySeed:
    """The identity as a batched value: example ``k`` is the ``k``-th unit
    array of shape ``shape`` (batch axis 0)."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def materialize(self):
        return np.eye(self.size, dtype=self.dtype).reshape((self.size,) + self.shape)


def moveaxis(x, src, dst):
    """``x`` with axis ``src`` moved to position ``dst`` (a ``transpose``)."""
    if src == dst:
        return x
    ndim = get_aval(x).ndim
    perm = [i for i in range(ndim) if i != src]
    perm.insert(dst, src)
    return transpose(x, tuple(perm))


def bdim_to_front(x, d, size):
    """``x`` with its batch axis first; an unbatched ``x`` is broadcast."""
    if d is None:
        shape = get_aval(x).shape
        return broadcast_in_dim(x, (size,) + shape, tuple(range(1, len(shape) + 1)))
    return moveaxis(x, d, 0)


def batch_size(args, dims):
    for x, d in zip(args, dims):
        if d is not None:
            return get_aval(x).shape[d]
    raise ValueError("batch rule called without a batched operand")


def batch_elementwise(prim):
    """Elementwise primitives: bring every operand to ``(B, *shape)`` (a 0-d
    operand that is not batched stays a scalar) and apply the primitive."""

    def rule(args, dims, **params):
        size = batch_size(args, dims)
        shape = ()
        for x, d in zip(args, dims):
            s = list(get_aval(x).shape)
            if d is not None:
                del s[d]
            if s:
                shape = tuple(s)
        ops = []
        for x, d in zip(args, dims):
            if d is None:
                ops.append(x if get_aval(x).shape == () else bdim_to_front(x, None, size))
            else:
                x = moveaxis(x, d, 0)
                if get_aval(x).shape[1:] != shape:  # a batched scalar meets arrays
                    x = broadcast_in_dim(x, (size,) + shape, (0,))
                ops.append(x)
        out = bind(prim, *ops, **params)
        return (out, [0] * len(out)) if prim.multiple_results else (out, 0)

    prim.batch = rule
    return rule


def batch_leading(prim, *axis_params):
    """Primitives that treat leading axes as independent (reductions over
    given axes, stacks of matrices, sorts and concatenations along an axis):
    every operand gets the batch axis first (an unbatched one is broadcast),
    and the named axis parameters shift by one."""

    def shift(value):
        if isinstance(value, tuple):
            return tuple(shift(v) for v in value)
        return value + 1

    def rule(args, dims, **params):
        size = batch_size(args, dims)
        ops = [bdim_to_front(x, d, size) for x, d in zip(args, dims)]
        params = {k: (shift(v) if k in axis_params else v) for k, v in params.items()}
        out = bind(prim, *ops, **params)
        return (out, [0] * len(out)) if prim.multiple_results else (out, 0)

    prim.batch = rule
    return rule
