"""NumPy's shape functions: reshape, ravel, transpose, swapaxes, moveaxis,
expand_dims, squeeze, broadcast_to, broadcast_arrays, concatenate, stack,
hstack, vstack, flip, and building arrays from lists that hold tracers.
"""
from __future__ import annotations

import numpy as np

from .. import primitives as P
from ..tracer.core import Tracer, bind
from ..tracer.errors import ShapeError
from ..tracer.source import user_source_info, where
from ._util import (asarray, broadcast_shapes, broadcast_to_shape, cast, check_stackable,
                    holds_tracer, normalize_axes, normalize_axis, shape_of, stack_nested)


def _resolve_shape(newshape, size):
    shape = (newshape,) if isinstance(newshape, (int, np.integer)) else tuple(newshape)
    shape = tuple(int(d) for d in shape)
    if shape.count(-1) > 1:
        raise ValueError("can only specify one unknown dimension")
    if -1 in shape:
        known = 1
        for d in shape:
            if d != -1:
                known *= d
        if known == 0 or size % known:
            raise ShapeError(f"cannot reshape an array of size {size} into shape {shape}"
                             f"{where(user_source_info())}")
        shape = tuple(size // known if d == -1 else d for d in shape)
    return shape


def reshape(a, /, shape=None, order="C", *, newshape=None, copy=None):
    """numpy.reshape (C order), as ``reshape[shape=...]``."""
    if order != "C":
        raise NotImplementedError("numpy.reshape: only order='C' is supported by chainrule")
    shape = newshape if shape is None else shape
    a = asarray(a)
    shape = _resolve_shape(shape, a.size)
    if shape == a.shape:
        return a
    return bind(P.reshape_p, a, shape=shape)


def ravel(a, order="C"):
    """numpy.ravel: ``reshape`` to one axis."""
    return reshape(a, (-1,), order=order)


def transpose(a, axes=None):
    """numpy.transpose, as ``transpose[permutation=...]``."""
    a = asarray(a)
    if axes is None:
        perm = tuple(reversed(range(a.ndim)))
    else:
        perm = tuple(normalize_axis(ax, a.ndim) for ax in axes)
        if sorted(perm) != list(range(a.ndim)):
            raise ValueError("axes don't match array")
    if perm == tuple(range(a.ndim)):
        return a
    return bind(P.transpose_p, a, permutation=perm)


def permute_dims(a, axes=None):
    return transpose(a, axes)


def matrix_transpose(x, /):
    """Swap the last two axes (numpy.matrix_transpose, ``x.mT``)."""
    x = asarray(x)
    if x.ndim < 2:
        raise ValueError("matrix_transpose needs an array with at least two dimensions")
    return swapaxes(x, -1, -2)


def swapaxes(a, axis1, axis2):
    a = asarray(a)
    i, j = normalize_axis(axis1, a.ndim), normalize_axis(axis2, a.ndim)
    perm = list(range(a.ndim))
    perm[i], perm[j] = perm[j], perm[i]
    return transpose(a, perm)


def moveaxis(a, source, destination):
    a = asarray(a)
    src = normalize_axes(source, a.ndim) if isinstance(source, (tuple, list)) else None
    source = [source] if src is None else list(source)
    destination = [destination] if not isinstance(destination, (tuple, list)) else list(destination)
    if len(source) != len(destination):
        raise ValueError("`source` and `destination` arguments must have the same number of "
                         "elements")
    source = [normalize_axis(s, a.ndim) for s in source]
    destination = [normalize_axis(d, a.ndim) for d in destination]
    order = [n for n in range(a.ndim) if n not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return transpose(a, order)


def expand_dims(a, axis):
    """numpy.expand_dims, as ``expand_dims[dimensions=...]``."""
    a = asarray(a)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    dims = normalize_axes(tuple(axes), a.ndim + len(axes))
    return bind(P.expand_dims_p, a, dimensions=dims)


def squeeze(a, axis=None):
    """numpy.squeeze, as ``squeeze[dimensions=...]``."""
    a = asarray(a)
    if axis is None:
        dims = tuple(i for i, d in enumerate(a.shape) if d == 1)
    else:
        dims = normalize_axes(axis, a.ndim)
        for d in dims:
            if a.shape[d] != 1:
                raise ValueError("cannot select an axis to squeeze out which has size not "
                                 "equal to one")
    return bind(P.squeeze_p, a, dimensions=dims) if dims else a


def broadcast_to(array, shape):
    """numpy.broadcast_to, as ``broadcast_in_dim``."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return broadcast_to_shape(asarray(array), shape)


def broadcast_arrays(*args):
    shape = broadcast_shapes("broadcast_arrays", *[shape_of(a) for a in args])
    return tuple(broadcast_to_shape(asarray(a), shape) for a in args)


def _result_dtype(arrays):
    return np.result_type(*[a.dtype for a in arrays])


def concatenate(arrays, /, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """numpy.concatenate, as ``concatenate[axis=...]`` (operands promoted to one dtype)."""
    if out is not None:
        raise NotImplementedError("numpy.concatenate: out= is not supported by chainrule")
    arrays = [asarray(a) for a in arrays]
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    if any(a.ndim == 0 for a in arrays):
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    dtype = np.dtype(dtype) if dtype is not None else _result_dtype(arrays)
    axis = normalize_axis(axis, arrays[0].ndim)
    arrays = [cast(a, dtype) for a in arrays]
    if len(arrays) == 1:
        return arrays[0]
    return bind(P.concatenate_p, *arrays, axis=axis)


def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """numpy.stack: ``expand_dims`` each, then ``concatenate``."""
    arrays = [asarray(a) for a in arrays]
    check_stackable(arrays)
    axis = normalize_axis(axis, arrays[0].ndim + 1)
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis, out=out, dtype=dtype)


def vstack(tup, *, dtype=None, casting="same_kind"):
    arrays = [atleast_2d(a) for a in tup]
    return concatenate(arrays, axis=0, dtype=dtype)


def hstack(tup, *, dtype=None, casting="same_kind"):
    arrays = [atleast_1d(a) for a in tup]
    return concatenate(arrays, axis=0 if arrays and arrays[0].ndim == 1 else 1, dtype=dtype)


def _atleast(arys, fn):
    out = [fn(asarray(a)) for a in arys]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_1d(*arys):
    """numpy.atleast_1d: a 0-d array becomes shape ``(1,)`` (one ``reshape``)."""
    return _atleast(arys, lambda a: reshape(a, (1,)) if a.ndim == 0 else a)


def atleast_2d(*arys):
    """numpy.atleast_2d: ``(n,)`` becomes ``(1, n)``, 0-d ``(1, 1)``."""
    return _atleast(arys, lambda a: a if a.ndim >= 2 else reshape(a, (1,) * (2 - a.ndim) + a.shape))


def atleast_3d(*arys):
    """numpy.atleast_3d: ``(n,)`` becomes ``(1, n, 1)``, ``(m, n)`` ``(m, n, 1)``."""
    def fn(a):
        if a.ndim >= 3:
            return a
        shape = {0: (1, 1, 1), 1: (1,) + a.shape + (1,), 2: a.shape + (1,)}[a.ndim]
        return reshape(a, shape)
    return _atleast(arys, fn)


def flip(m, axis=None):
    """numpy.flip, as ``rev[dimensions=...]``."""
    m = asarray(m)
    dims = normalize_axes(axis, m.ndim)
    return bind(P.rev_p, m, dimensions=dims) if dims else m


def fliplr(m):
    """numpy.fliplr: reverse the columns (axis 1), as ``rev``."""
    m = asarray(m)
    if m.ndim < 2:
        raise ValueError("Input must be >= 2-d.")
    return flip(m, 1)


def flipud(m):
    """numpy.flipud: reverse the rows (axis 0), as ``rev``."""
    m = asarray(m)
    if m.ndim < 1:
        raise ValueError("Input must be >= 1-d.")
    return flip(m, 0)


def rot90(m, k=1, axes=(0, 1)):
    """numpy.rot90: ``k`` quarter turns from the first of ``axes`` towards the
    second, as NumPy composes them: a ``rev`` and a ``transpose`` (two
    ``rev``s for a half turn)."""
    m = asarray(m)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    if axes[0] == axes[1] or abs(axes[0] - axes[1]) == m.ndim:
        raise ValueError("Axes must be different.")
    a0, a1 = normalize_axis(axes[0], m.ndim), normalize_axis(axes[1], m.ndim)
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(m, (a0, a1))
    perm = list(range(m.ndim))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return transpose(flip(m, a1), perm)
    return flip(transpose(m, perm), a1)


def roll(a, shift, axis=None):
    """numpy.roll: elements shifted along ``axis`` and wrapped around, as two
    ``slice``s joined by ``concatenate`` per rolled axis (``axis=None``
    rolls the flattened array)."""
    a = asarray(a)
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), a.shape)
    shifts, axes = np.broadcast_arrays(np.asarray(shift), np.asarray(axis))
    if shifts.ndim > 1:
        raise ValueError("'shift' and 'axis' should be scalars or 1D sequences")
    total = {}
    for s, ax in zip(shifts.ravel().tolist(), axes.ravel().tolist()):
        ax = normalize_axis(ax, a.ndim)
        total[ax] = total.get(ax, 0) + int(s)
    for ax, s in sorted(total.items()):
        n = a.shape[ax]
        s = s % n if n else 0
        if s:
            index = [slice(None)] * a.ndim
            index[ax] = slice(n - s, None)
            tail = a[tuple(index)]
            index[ax] = slice(None, n - s)
            a = concatenate([tail, a[tuple(index)]], axis=ax)
    return a


def array(obj, dtype=None, copy=True, ndmin=0):
    """numpy.array for nested lists/tuples that may hold tracers: the
    elements are stacked (an IR ``concatenate``); without tracers it is
    NumPy's own ``array``."""
    if isinstance(obj, Tracer):
        out = obj
    elif isinstance(obj, (list, tuple)) and holds_tracer(obj):
        out = stack_nested(obj)
    else:
        return np.array(obj, dtype=dtype, copy=copy, ndmin=ndmin)
    if dtype is not None:
        out = cast(out, dtype)
    while out.ndim < ndmin:
        out = expand_dims(out, 0)
    return out


def asarray_(a, dtype=None, order=None, **kwargs):
    """numpy.asarray; lists holding tracers are stacked."""
    if isinstance(a, Tracer):
        return a if dtype is None else cast(a, dtype)
    return array(a, dtype=dtype, copy=None) if isinstance(a, (list, tuple)) else np.asarray(a, dtype)


def copy(a, order="K", subok=False):
    """numpy.copy: a traced array is immutable, so its copy is itself."""
    if isinstance(a, Tracer):
        return a
    return np.copy(a, order=order, subok=subok)


def zeros_like(a, dtype=None, shape=None):
    """numpy.zeros_like: a constant (zeros carry no dependence on ``a``)."""
    return np.zeros(shape_of(a) if shape is None else shape, dtype or _dtype(a))


def ones_like(a, dtype=None, shape=None):
    return np.ones(shape_of(a) if shape is None else shape, dtype or _dtype(a))


def full_like(a, fill_value, dtype=None, shape=None):
    if isinstance(fill_value, Tracer):
        return broadcast_to(cast(fill_value, dtype or _dtype(a)),
                            shape_of(a) if shape is None else shape)
    return np.full(shape_of(a) if shape is None else shape, fill_value, dtype or _dtype(a))


def _dtype(a):
    return a.dtype if hasattr(a, "dtype") else np.asarray(a).dtype
