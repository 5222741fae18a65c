"""Structural primitives: they move, copy or drop elements without
arithmetic.  All are linear, so in reverse mode each one's transpose is
another of them (``broadcast_in_dim`` <-> ``reduce_sum``, ``pad`` <->
``slice``, ``concatenate`` -> slices, ``transpose`` -> inverse permutation).
"""
from __future__ import annotations

import math

import numpy as np

from ..tracer.avals import ShapedArray
from ..tracer.core import bind, get_aval
from ..tracer.errors import ShapeError
from ._ad import LinearInput, deflinear, zeros
from ._batch import batch_leading, batch_size, bdim_to_front, moveaxis
from ._define import check_axes, cost_elementwise, cost_free, primitive
from ._ops import add, mul, reduce_sum, sub


# reshape[shape=...]: same elements in C order, new shape
def _reshape_shape(x, *, shape):
    if math.prod(shape) != x.size or any(d < 0 for d in shape):
        raise ShapeError(f"cannot reshape an array of shape {x.shape} (size {x.size}) "
                         f"into shape {shape}")
    return ShapedArray(shape, x.dtype)


reshape_p = primitive("reshape", lambda x, *, shape: np.reshape(x, shape), _reshape_shape,
                      cost=cost_free)
deflinear(reshape_p, lambda ct, x, *, shape: [bind(reshape_p, ct, shape=x.aval.shape)])


def _reshape_batch(args, dims, *, shape):
    (x,), (d,) = args, dims
    x = moveaxis(x, d, 0)
    return bind(reshape_p, x, shape=(get_aval(x).shape[0],) + tuple(shape)), 0


reshape_p.batch = _reshape_batch


# transpose[permutation=...]: out.shape[i] = x.shape[permutation[i]]
def _transpose_shape(x, *, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise ShapeError(f"permutation {permutation} is not a permutation of the axes "
                         f"of an array of rank {x.ndim}")
    return ShapedArray([x.shape[p] for p in permutation], x.dtype)


transpose_p = primitive("transpose", lambda x, *, permutation: np.transpose(x, permutation),
                        _transpose_shape, cost=cost_free)
deflinear(transpose_p, lambda ct, x, *, permutation: [
    bind(transpose_p, ct, permutation=tuple(int(i) for i in np.argsort(permutation)))])
# the batch axis stays where it is; the others are permuted around it
transpose_p.batch = lambda args, dims, *, permutation: (bind(
    transpose_p, args[0], permutation=_perm_around(permutation, dims[0])), dims[0])


def _perm_around(permutation, d):
    """``permutation`` of an example's axes, applied to an array with an
    extra (batch) axis at ``d`` that stays in place."""
    old = [a if a < d else a + 1 for a in range(len(permutation))]  # example axis -> its axis
    perm = [old[p] for p in permutation]
    perm.insert(d, d)
    return tuple(perm)


# broadcast_in_dim[shape=..., broadcast_dimensions=...]: operand axis i becomes
# output axis broadcast_dimensions[i] (size equal, or 1 and stretched); the
# other output axes are new.  NumPy's implicit broadcasting, made explicit.
def _broadcast_shape(x, *, shape, broadcast_dimensions):
    dims = broadcast_dimensions
    if len(dims) != x.ndim or list(dims) != sorted(set(dims)) or (dims and dims[-1] >= len(shape)):
        raise ShapeError(f"broadcast_dimensions {dims} do not map the {x.ndim} axes of "
                         f"{x.shape} increasingly into {shape}")
    for d, i in zip(x.shape, dims):
        if d != 1 and d != shape[i]:
            raise ShapeError(f"cannot broadcast shape {x.shape} to {shape}")
    return ShapedArray(shape, x.dtype)


def _broadcast_impl(x, *, shape, broadcast_dimensions):
    x = np.asarray(x)
    kept = [1] * len(shape)
    for d, i in zip(x.shape, broadcast_dimensions):
        kept[i] = d
    return np.broadcast_to(x.reshape(kept), shape)


broadcast_in_dim_p = primitive("broadcast_in_dim", _broadcast_impl, _broadcast_shape,
                               cost=cost_free)


def _broadcast_transpose(ct, x, *, shape, broadcast_dimensions):
    # "unbroadcast": sum the cotangent over the new axes and over the axes
    # where a size-1 operand axis was stretched, then restore the operand shape
    stretched = [i for d, i in zip(x.aval.shape, broadcast_dimensions) if d == 1 and shape[i] != 1]
    summed = tuple(sorted(set(range(len(shape))) - set(broadcast_dimensions)) + stretched)
    out = reduce_sum(ct, sorted(summed)) if summed else ct
    if get_aval(out).shape != x.aval.shape:
        out = bind(reshape_p, out, shape=x.aval.shape)
    return [out]


deflinear(broadcast_in_dim_p, _broadcast_transpose)


def _broadcast_batch(args, dims, *, shape, broadcast_dimensions):
    (x,), (d,) = args, dims
    x = moveaxis(x, d, 0)
    size = get_aval(x).shape[0]
    return bind(broadcast_in_dim_p, x, shape=(size,) + tuple(shape),
                broadcast_dimensions=(0,) + tuple(b + 1 for b in broadcast_dimensions)), 0


broadcast_in_dim_p.batch = _broadcast_batch


# squeeze[dimensions=...]: drop axes of size 1
def _squeeze_shape(x, *, dimensions):
    check_axes("squeeze", dimensions, x.ndim)
    for d in dimensions:
        if x.shape[d] != 1:
            raise ShapeError(f"cannot squeeze axis {d} of shape {x.shape}: its size is not 1")
    return ShapedArray([d for i, d in enumerate(x.shape) if i not in dimensions], x.dtype)


squeeze_p = primitive("squeeze", lambda x, *, dimensions: np.squeeze(x, axis=dimensions),
                      _squeeze_shape, cost=cost_free)
deflinear(squeeze_p, lambda ct, x, *, dimensions: [
    bind(expand_dims_p, ct, dimensions=tuple(dimensions))])
batch_leading(squeeze_p, "dimensions")


# expand_dims[dimensions=...]: insert axes of size 1 at these output positions
def _expand_dims_shape(x, *, dimensions):
    ndim = x.ndim + len(dimensions)
    check_axes("expand_dims", dimensions, ndim)
    shape = list(x.shape)
    for d in sorted(dimensions):
        shape.insert(d, 1)
    return ShapedArray(shape, x.dtype)


expand_dims_p = primitive("expand_dims", lambda x, *, dimensions: np.expand_dims(x, dimensions),
                          _expand_dims_shape, cost=cost_free)
deflinear(expand_dims_p, lambda ct, x, *, dimensions: [
    bind(squeeze_p, ct, dimensions=tuple(dimensions))])
batch_leading(expand_dims_p, "dimensions")


# concatenate[axis=...]
def _concatenate_shape(*xs, axis):
    if not xs:
        raise ShapeError("concatenate needs at least one operand")
    first = xs[0]
    check_axes("concatenate", (axis,), first.ndim)
    for x in xs[1:]:
        if x.dtype != first.dtype:
            raise ShapeError("concatenate needs operands of one dtype")
        if x.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(x.shape, first.shape))
                                       if i != axis):
            raise ShapeError(f"concatenate along axis {axis}: shapes "
                             f"{[y.shape for y in xs]} differ off that axis")
    shape = list(first.shape)
    shape[axis] = sum(x.shape[axis] for x in xs)
    return ShapedArray(shape, first.dtype)


concatenate_p = primitive("concatenate", lambda *xs, axis: np.concatenate(xs, axis=axis),
                          _concatenate_shape, cost=cost_free)


def _concatenate_transpose(ct, *xs, axis):
    # each linear operand gets its own stretch of the cotangent
    cts, offset = [], 0
    shape = get_aval(ct).shape
    for x in xs:
        # a constant operand (not being transposed) is a value, not a marker
        n = (x.aval if type(x) is LinearInput else get_aval(x)).shape[axis]
        if type(x) is LinearInput:
            start = [0] * len(shape)
            limit = list(shape)
            start[axis], limit[axis] = offset, offset + n
            cts.append(bind(slice_p, ct, start_indices=tuple(start), limit_indices=tuple(limit),
                            strides=(1,) * len(shape)))
        else:
            cts.append(None)
        offset += n
    return cts


deflinear(concatenate_p, _concatenate_transpose)
batch_leading(concatenate_p, "axis")


# slice[start_indices=..., limit_indices=..., strides=...]: x[start:limit:stride]
# per axis, with 0 <= start <= limit <= size and positive strides
def _slice_shape(x, *, start_indices, limit_indices, strides):
    if not (len(start_indices) == len(limit_indices) == len(strides) == x.ndim):
        raise ShapeError(f"slice of a rank-{x.ndim} array needs {x.ndim} starts, limits "
                         "and strides")
    shape = []
    for size, lo, hi, st in zip(x.shape, start_indices, limit_indices, strides):
        if not (0 <= lo <= hi <= size) or st < 1:
            raise ShapeError(f"slice [{lo}:{hi}:{st}] is out of bounds for an axis of size {size}")
        shape.append(max(0, -(-(hi - lo) // st)))
    return ShapedArray(shape, x.dtype)


def _slice_impl(x, *, start_indices, limit_indices, strides):
    return np.asarray(x)[tuple(slice(lo, hi, st) for lo, hi, st
                               in zip(start_indices, limit_indices, strides))]


slice_p = primitive("slice", _slice_impl, _slice_shape, cost=cost_free)


def _slice_transpose(ct, x, *, start_indices, limit_indices, strides):
    # put the cotangent back where the slice took it from, zeros elsewhere:
    # a pad with low = start, interior = stride - 1, and the rest high
    ct_shape = get_aval(ct).shape
    if 0 in ct_shape:
        return [zeros(x.aval)]
    config = []
    for n, lo, st, m in zip(x.aval.shape, start_indices, strides, ct_shape):
        end = lo + (m - 1) * st + 1
        config.append((lo, n - end, st - 1))
    return [bind(pad_p, ct, np.zeros((), x.aval.dtype)[()], padding_config=tuple(config))]


deflinear(slice_p, _slice_transpose)


def _slice_batch(args, dims, *, start_indices, limit_indices, strides):
    (x,), (d,) = args, dims
    x = moveaxis(x, d, 0)
    return bind(slice_p, x, start_indices=(0,) + tuple(start_indices),
                limit_indices=(get_aval(x).shape[0],) + tuple(limit_indices),
                strides=(1,) + tuple(strides)), 0


slice_p.batch = _slice_batch


# rev[dimensions=...]: reverse the order of elements along these axes
def _rev_shape(x, *, dimensions):
    check_axes("rev", dimensions, x.ndim)
    return x


rev_p = primitive("rev", lambda x, *, dimensions: np.flip(x, dimensions), _rev_shape,
                  cost=cost_free)
deflinear(rev_p, lambda ct, x, *, dimensions: [bind(rev_p, ct, dimensions=dimensions)])
batch_leading(rev_p, "dimensions")


# pad[padding_config=((low, high, interior), ...)] x padding_value: put
# `low` and `high` copies of the padding value at the ends of each axis and
# `interior` copies between neighbouring elements (all non-negative)
def _pad_shape(x, padding_value, *, padding_config):
    if padding_value.shape != () or padding_value.dtype != x.dtype:
        raise ShapeError("pad needs a scalar padding value of the operand's dtype")
    if len(padding_config) != x.ndim:
        raise ShapeError(f"pad of a rank-{x.ndim} array needs {x.ndim} (low, high, interior) "
                         "triples")
    shape = []
    for size, (lo, hi, interior) in zip(x.shape, padding_config):
        if lo < 0 or hi < 0 or interior < 0:
            raise ShapeError(f"pad widths must be non-negative, got {padding_config}")
        shape.append(lo + hi + size + max(0, size - 1) * interior)
    return ShapedArray(shape, x.dtype)


def _pad_impl(x, padding_value, *, padding_config):
    x = np.asarray(x)
    shape = [lo + hi + n + max(0, n - 1) * i for n, (lo, hi, i) in zip(x.shape, padding_config)]
    out = np.full(shape, padding_value, dtype=x.dtype)
    out[tuple(slice(lo, lo + n + max(0, n - 1) * i, i + 1)
              for n, (lo, hi, i) in zip(x.shape, padding_config))] = x
    return out


pad_p = primitive("pad", _pad_impl, _pad_shape, cost=cost_free)


def _pad_transpose(ct, x, padding_value, *, padding_config):
    # pad is linear in (x, padding_value) together: x gets the cotangent at
    # its own positions (a strided slice); the padding value gets the rest
    ct_x = None
    x_aval = x.aval if type(x) is LinearInput else get_aval(x)   # x may be a constant
    shape = x_aval.shape
    if 0 in shape:
        sliced = zeros(x_aval)
    else:
        sliced = bind(slice_p, ct,
                      start_indices=tuple(lo for lo, _, _ in padding_config),
                      limit_indices=tuple(lo + (n - 1) * (i + 1) + 1
                                          for n, (lo, _, i) in zip(shape, padding_config)),
                      strides=tuple(i + 1 for _, _, i in padding_config))
    if type(x) is LinearInput:
        ct_x = sliced
    ct_pad = None
    if type(padding_value) is LinearInput:
        ct_pad = sub(reduce_sum(ct, range(len(get_aval(ct).shape))),
                     reduce_sum(sliced, range(len(shape))))
    return [ct_x, ct_pad]


deflinear(pad_p, _pad_transpose)


def _pad_batch(args, dims, *, padding_config):
    (x, value), (dx, dv) = args, dims
    size = batch_size(args, dims)
    x = bdim_to_front(x, dx, size)
    config = ((0, 0, 0),) + tuple(padding_config)
    if dv is None:
        return bind(pad_p, x, value, padding_config=config), 0
    # one padding value per example: pad with 0, then add value * (where padding is)
    aval = get_aval(x)
    out = bind(pad_p, x, np.zeros((), aval.dtype)[()], padding_config=config)
    where_padded = _pad_impl(np.zeros(aval.shape, aval.dtype), np.ones((), aval.dtype),
                             padding_config=config)
    per_example = bind(broadcast_in_dim_p, moveaxis(value, dv, 0), shape=get_aval(out).shape,
                       broadcast_dimensions=(0,))
    return add(out, mul(per_example, where_padded)), 0


pad_p.batch = _pad_batch


# cost model: no arithmetic (each is defined with cost_free); NumPy gives
# views for all but concatenate and pad.  Transposed, a broadcast is a sum
# (one flop per broadcast element, not a view) and a slice is a pad (a
# copy); concatenate and pad become slices (views)
for _p in (reshape_p, transpose_p, broadcast_in_dim_p, squeeze_p, expand_dims_p, concatenate_p,
           slice_p, rev_p, pad_p):
    _p.view = _p not in (concatenate_p, pad_p)
    _p.adjoint_view = _p not in (broadcast_in_dim_p, slice_p)
broadcast_in_dim_p.adjoint_cost = cost_elementwise
