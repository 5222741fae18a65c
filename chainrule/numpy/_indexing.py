"""``x[index]`` on a traced array, with NumPy's semantics, lowered to:

* ``expand_dims`` for ``None``;
* ``rev`` + ``slice`` for slices (negative steps reverse the axis first);
* ``squeeze`` for integers in basic indexing;
* one ``gather`` for integer-array ("advanced") indices: their broadcast
  values are turned into one linear index over the indexed axes, merged by
  a ``reshape``.  As in NumPy, the indexed axes' result stays in place when
  those axes are adjacent and goes to the front otherwise.

Boolean masks must be concrete (their number of ``True`` values is the
result's shape); they become integer arrays with ``nonzero``.

``take`` and ``take_along_axis`` are the same ``gather``.  Its transpose
(``scatter_add``) adds the cotangents of repeated indices up.  The
functional updates ``x.at[idx]`` are in ``_updates.py``.
"""
from __future__ import annotations

import operator

import numpy as np

from .. import primitives as P
from ..tracer.core import Tracer, bind
from ..tracer.source import user_source_info, where
from ._shapes import expand_dims, reshape, transpose


def _is_int_scalar(i):
    return (isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))) or (
        isinstance(i, np.ndarray) and i.ndim == 0 and np.issubdtype(i.dtype, np.integer))


def _index_error(msg):
    return IndexError(msg + where(user_source_info()))


def _as_index_array(i):
    """An advanced index as an integer NumPy array or an integer tracer."""
    if isinstance(i, Tracer):
        if i.dtype == np.bool_:
            raise _index_error("a boolean mask that is being traced cannot index an array: "
                               "the result's shape would depend on its values; use "
                               "numpy.where(mask, x, 0) instead")
        if not np.issubdtype(i.dtype, np.integer):
            raise _index_error(f"arrays used as indices must be of integer type, got "
                               f"{i.aval.str_short()}")
        return i
    if isinstance(i, (list, tuple)):
        from ._shapes import array
        arr = array(i)
        if isinstance(arr, Tracer):
            return _as_index_array(arr)
        i = arr
    arr = np.asarray(i)
    if arr.size == 0 and arr.dtype != np.bool_:
        arr = arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise _index_error("only integers, slices (`:`), ellipsis (`...`), numpy.newaxis "
                           "(`None`) and integer or boolean arrays are valid indices")
    return arr


_INVALID = ("only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and "
            "integer or boolean arrays are valid indices")


def _is_mask(i):
    return isinstance(i, (np.ndarray, list)) and np.ndim(i) > 0 and np.asarray(i).dtype == np.bool_


def _check_items(x, index):
    """NumPy's checks of the items of an index: their types (a float, a
    string or any other object is an ``IndexError``, never "the whole
    axis"), and the shape of each boolean mask against the axes it covers."""
    for i in index:
        if isinstance(i, (slice, list, Tracer)) or i is None or i is Ellipsis:
            continue
        if isinstance(i, np.ndarray):
            if not (np.issubdtype(i.dtype, np.integer) or i.dtype == np.bool_):
                raise _index_error("arrays used as indices must be of integer (or boolean) type")
        elif isinstance(i, (bool, np.bool_)):
            raise _index_error("boolean scalar indices (x[True], x[False]) are not supported by "
                               "chainrule; use x[None] or an empty slice")
        elif not isinstance(i, (int, np.integer)):
            try:
                operator.index(i)
            except TypeError:
                raise _index_error(_INVALID) from None
    used = sum(np.ndim(i) if _is_mask(i) else 1 for i in index
               if i is not None and i is not Ellipsis)
    axis = 0
    for i in index:
        if i is Ellipsis:
            axis += max(x.ndim - used, 0)
        elif _is_mask(i):
            mask = np.asarray(i)
            for d, n in enumerate(mask.shape):
                if axis + d < x.ndim and x.shape[axis + d] != n:
                    raise _index_error(
                        f"boolean index did not match indexed array along axis {axis + d}; "
                        f"size of axis is {x.shape[axis + d]} but size of corresponding "
                        f"boolean axis is {n}")
            axis += mask.ndim
        elif i is not None:
            axis += 1


def _expand_masks(index):
    out = []
    for i in index:
        if _is_mask(i):
            out.extend(np.nonzero(np.asarray(i)))
        elif isinstance(i, (int, np.integer)) or isinstance(i, (slice, list, np.ndarray, Tracer)) \
                or i is None or i is Ellipsis:
            out.append(i)
        else:   # an object with __index__
            out.append(operator.index(i))
    return out


def getitem(x, index):
    index = list(index) if isinstance(index, tuple) else [index]
    _check_items(x, index)
    index = _expand_masks(index)
    # Ellipsis and missing trailing axes become full slices
    n_ell = sum(1 for i in index if i is Ellipsis)
    if n_ell > 1:
        raise _index_error("an index can only have a single ellipsis ('...')")
    used = sum(1 for i in index if i is not None and i is not Ellipsis)
    if used > x.ndim:
        raise _index_error(f"too many indices for array: array is {x.ndim}-dimensional, but "
                           f"{used} were indexed")
    fill = [slice(None)] * (x.ndim - used)
    if n_ell:
        k = index.index(Ellipsis)
        index = index[:k] + fill + index[k + 1:]
    else:
        index = index + fill
    # None: a new axis of size 1 here, then index it with a full slice
    new_axes = tuple(k for k, i in enumerate(index) if i is None)
    if new_axes:
        x = expand_dims(x, new_axes)
        index = [slice(None) if i is None else i for i in index]

    def is_advanced(i):
        return (isinstance(i, (list, np.ndarray)) and np.ndim(i) > 0) or isinstance(i, Tracer)

    advanced = any(is_advanced(i) for i in index)
    starts, limits, strides, reverse, squeeze = [], [], [], [], []
    for axis, (i, n) in enumerate(zip(index, x.shape)):
        if isinstance(i, slice):
            r = range(*i.indices(n))
            if r.step < 0:
                reverse.append(axis)
                start = n - 1 - r.start
            else:
                start = r.start
            step = abs(r.step)
            start = min(start, n) if len(r) else 0
            starts.append(start)
            limits.append(start + (len(r) - 1) * step + 1 if len(r) else start)
            strides.append(step)
        elif _is_int_scalar(i) and not advanced:
            k = int(i)
            if not -n <= k < n:
                raise _index_error(f"index {k} is out of bounds for axis {axis} with size {n}")
            k %= n
            starts.append(k)
            limits.append(k + 1)
            strides.append(1)
            squeeze.append(axis)
        else:  # an advanced index (or an integer taking part in one): whole axis for now
            starts.append(0)
            limits.append(n)
            strides.append(1)
    if reverse:
        x = bind(P.rev_p, x, dimensions=tuple(reverse))
    if tuple(starts) != (0,) * x.ndim or tuple(limits) != x.shape or any(s != 1 for s in strides):
        x = bind(P.slice_p, x, start_indices=tuple(starts), limit_indices=tuple(limits),
                 strides=tuple(strides))
    if squeeze:
        x = bind(P.squeeze_p, x, dimensions=tuple(squeeze))
    if advanced:
        x = _advanced(x, index)
    return x


def _advanced(x, index):
    axes = [k for k, i in enumerate(index) if not isinstance(i, slice)]
    arrays = [_as_index_array(index[k]) for k in axes]
    from ._util import broadcast_shapes
    bshape = broadcast_shapes("indexing", *[np.shape(a) if not isinstance(a, Tracer) else a.shape
                                            for a in arrays])
    sizes = [x.shape[k] for k in axes]
    # one linear index over the indexed axes (row-major), negative indices wrapped
    linear = None
    for a, n, k in zip(arrays, sizes, axes):
        if isinstance(a, Tracer):
            a = a.astype(np.int64) if a.dtype != np.int64 else a
            if len(arrays) > 1:   # checked on its own axis before the axes are merged
                a = bind(P.normalize_index_p, a, axis=k, size=n)
        else:
            a = a.astype(np.int64)
            if a.size and (a.max() >= n or a.min() < -n):
                bad = a.max() if a.max() >= n else a.min()
                raise _index_error(f"index {bad} is out of bounds for axis {k} with size {n}")
            a = a % n if n else a
        if linear is None:
            linear = a
        else:
            from ._ufuncs import add, multiply
            linear = add(multiply(linear, n), a)
    if isinstance(linear, Tracer):
        from ._util import broadcast_to_shape
        linear = broadcast_to_shape(linear, bshape)
    else:
        linear = np.broadcast_to(linear, bshape)
    adjacent = axes == list(range(axes[0], axes[0] + len(axes)))
    if not adjacent:  # NumPy puts the indexed result first
        rest = [k for k in range(x.ndim) if k not in axes]
        x = transpose(x, axes + rest)
        axes = list(range(len(axes)))
    p = axes[0]
    merged = 1
    for n in sizes:
        merged *= n
    if len(axes) > 1:
        x = reshape(x, x.shape[:p] + (merged,) + x.shape[p + len(axes):])
    return bind(P.gather_p, x, linear, axis=p)


# -- take, take_along_axis ---------------------------------------------------
def take(a, indices, axis=None, out=None, mode="raise"):
    """numpy.take, as one ``gather`` (whose transpose adds the cotangent back
    at the taken positions, so repeated indices accumulate).  ``mode='wrap'``
    maps indices modulo the axis length, ``'clip'`` into ``[0, n-1]``
    (negative ones to 0, as in NumPy)."""
    from ._shapes import ravel
    from ._util import asarray, normalize_axis, unsupported
    unsupported("take", out=out)
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis(axis, a.ndim)
    n = a.shape[axis]
    if not isinstance(indices, Tracer) and np.asarray(indices).dtype == np.bool_:
        indices = np.asarray(indices, np.int64)    # NumPy takes booleans as 0 and 1
    idx = _as_index_array(indices)
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"numpy.take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    if isinstance(idx, Tracer):
        from ._ufuncs import clip, remainder
        if mode == "wrap":
            idx = remainder(idx, n)
        elif mode == "clip":
            idx = clip(idx, 0, n - 1)
    elif idx.size:
        if mode == "wrap":
            idx = idx % n
        elif mode == "clip":
            idx = np.clip(idx, 0, n - 1)
        elif idx.max() >= n or idx.min() < -n:
            bad = idx.max() if idx.max() >= n else idx.min()
            raise _index_error(f"index {bad} is out of bounds for axis {axis} with size {n}")
    return bind(P.gather_p, a, idx, axis=axis)


def take_along_axis(arr, indices, axis=-1):
    """numpy.take_along_axis: ``out[..., j, ...] = arr[..., indices[..., j,
    ...], ...]`` along ``axis``, the other axes matched (and broadcast)
    elementwise.  Lowered as the integer-array index ``arr[i0, ..,
    indices, .., iN]`` with ``arange`` indices on the other axes: one
    ``gather``."""
    from ._shapes import ravel
    from ._util import asarray, normalize_axis
    arr = asarray(arr)
    if axis is None:
        arr, axis = ravel(arr), 0
    idx = _as_index_array(indices)
    if idx.ndim != arr.ndim:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    axis = normalize_axis(axis, arr.ndim)
    index = []
    for d, n in enumerate(arr.shape):
        if d == axis:
            index.append(idx)
        else:
            shape = [1] * arr.ndim
            shape[d] = n
            index.append(np.arange(n).reshape(shape))
    return getitem(arr, tuple(index))
