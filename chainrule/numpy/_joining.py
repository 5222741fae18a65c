"""Joining, splitting and repeating arrays: dstack, column_stack, append, split,
array_split, hsplit, vsplit, dsplit, tile, repeat.

None needs a primitive of its own: joining is ``concatenate`` (whose
transpose hands each operand its stretch of the cotangent), splitting is
one ``slice`` per piece, ``tile`` and a scalar ``repeat`` are a
``broadcast_in_dim`` onto a new axis merged by a ``reshape`` (transpose:
a sum over the copies), and ``repeat`` with per-element counts a ``gather``
(transpose: ``scatter_add``).
"""
from __future__ import annotations

import numpy as np

from .. import primitives as P
from ..tracer.core import Tracer, bind
from ._shapes import atleast_3d, concatenate, ravel, reshape
from ._util import asarray, normalize_axis


def dstack(tup):
    """numpy.dstack: ``atleast_3d`` each, then ``concatenate`` on axis 2."""
    return concatenate([atleast_3d(a) for a in tup], axis=2)


def column_stack(tup):
    """numpy.column_stack: 0-d and 1-d arrays become columns ``(n, 1)``, then
    ``concatenate`` on axis 1."""
    arrays = []
    for a in tup:
        a = asarray(a)
        if a.ndim < 2:
            a = reshape(a, (a.size, 1))
        arrays.append(a)
    return concatenate(arrays, axis=1)


def append(arr, values, axis=None):
    """numpy.append: ``concatenate`` of the two (both flattened for ``axis=None``)."""
    arr, values = asarray(arr), asarray(values)
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


def array_split(ary, indices_or_sections, axis=0):
    """numpy.array_split: one ``slice`` per piece.  ``k`` sections of an axis
    of length ``n``: the first ``n % k`` have ``n // k + 1`` elements."""
    ary = asarray(ary)
    axis = normalize_axis(axis, ary.ndim)
    n = ary.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        each, extra = divmod(n, sections)
        sizes = [each + 1] * extra + [each] * (sections - extra)
        bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    pieces = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        index = [slice(None)] * ary.ndim
        index[axis] = slice(start, stop)
        pieces.append(ary[tuple(index)])
    return pieces


def split(ary, indices_or_sections, axis=0):
    """numpy.split: ``array_split`` that insists on equal sections."""
    if isinstance(indices_or_sections, (int, np.integer)):
        n = asarray(ary).shape[axis]
        if indices_or_sections <= 0 or n % indices_or_sections:
            raise ValueError("array split does not result in an equal division")
    return array_split(ary, indices_or_sections, axis)


def hsplit(ary, indices_or_sections):
    """numpy.hsplit: ``split`` along axis 1 (axis 0 for 1-d arrays)."""
    ary = asarray(ary)
    if ary.ndim == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return split(ary, indices_or_sections, 1 if ary.ndim > 1 else 0)


def vsplit(ary, indices_or_sections):
    """numpy.vsplit: ``split`` along axis 0."""
    ary = asarray(ary)
    if ary.ndim < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, 0)


def dsplit(ary, indices_or_sections):
    """numpy.dsplit: ``split`` along axis 2."""
    ary = asarray(ary)
    if ary.ndim < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, 2)


def _copies(a, axis, count):
    """``a`` with a new axis of ``count`` copies inserted at position ``axis``
    (``broadcast_in_dim``)."""
    shape = a.shape[:axis] + (count,) + a.shape[axis:]
    dims = tuple(d if d < axis else d + 1 for d in range(a.ndim))
    return bind(P.broadcast_in_dim_p, a, shape=shape, broadcast_dimensions=dims)


def tile(A, reps):
    """numpy.tile: each axis ``i`` repeated ``reps[i]`` times as a block:
    a new axis of ``reps[i]`` copies before it (``broadcast_in_dim``),
    merged with it by a ``reshape``."""
    reps = tuple(int(r) for r in reps) if np.ndim(reps) else (int(reps),)
    A = asarray(A)
    if any(r < 0 for r in reps):
        raise ValueError("negative dimensions are not allowed")
    if len(reps) < A.ndim:
        reps = (1,) * (A.ndim - len(reps)) + reps
    if len(reps) > A.ndim:
        A = reshape(A, (1,) * (len(reps) - A.ndim) + A.shape)
    if all(r == 1 for r in reps):
        return A
    out, axis = A, 0
    for r, n in zip(reps, A.shape):
        if r != 1:
            out = _copies(out, axis, r)
            axis += 1
        axis += 1
    return reshape(out, tuple(r * n for r, n in zip(reps, A.shape)))


def repeat(a, repeats, axis=None):
    """numpy.repeat: each element repeated along ``axis`` (the flattened array
    for ``axis=None``).  One count for all: copies on a new axis right
    after ``axis`` merged by ``reshape``; a count per element: a ``gather``
    of the indices ``np.repeat(arange(n), repeats)``.  The counts set the
    result's shape, so they must be concrete."""
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis(axis, a.ndim)
    if isinstance(repeats, Tracer):
        repeats = repeats._concrete("numpy.repeat's counts, which set the result's shape")
    repeats = np.asarray(repeats)
    if not np.issubdtype(repeats.dtype, np.integer):
        repeats = repeats.astype(np.int64, casting="safe")
    if np.any(repeats < 0):
        raise ValueError("repeats may not contain negative values.")
    n = a.shape[axis]
    if repeats.size == 1:
        r = int(repeats.reshape(()))
        if r == 1:
            return a
        out = _copies(a, axis + 1, r)
        return reshape(out, a.shape[:axis] + (n * r,) + a.shape[axis + 1:])
    if repeats.shape != (n,):
        raise ValueError(f"operands could not be broadcast together with shape ({n},) "
                         f"{repeats.shape}")
    return bind(P.gather_p, a, np.repeat(np.arange(n), repeats), axis=axis)
