"""Indexing with integer arrays: ``gather[axis=k] x indices`` takes the
elements of ``x`` at ``indices`` along axis ``k`` (NumPy's ``take``):

    out.shape = x.shape[:k] + indices.shape + x.shape[k+1:]

Negative indices count from the end, as in NumPy.  Every integer-array
("fancy") index is lowered to one gather by ``chainrule.numpy``; basic
slicing uses ``slice``/``rev``/``squeeze`` instead.

The scatters write ``updates`` (shaped like a gather's result) into a copy
of ``operand`` at ``indices``, each combining with what is there in its own
way: ``scatter`` replaces (the last of repeated indices wins),
``scatter_add`` adds, ``scatter_min``/``scatter_max`` keep the extreme.
They back ``x.at[idx].set/add/min/max``; the first two are linear (each
other's transposes with ``gather``), the last two are not.
"""
from __future__ import annotations

import numpy as np

from ..tracer.avals import ShapedArray
from ..tracer.core import Tracer, bind, get_aval
from ..tracer.errors import ShapeError
from ._ad import LinearInput, Zero, defjvp, defzero, instantiate, zeros
from ._batch import batch_size, bdim_to_front, moveaxis
from ._define import check_axes, cost_elementwise, cost_free, primitive
from ._ops import add, broadcast_in_dim, convert_element_type, div, eq, mul, reshape, select


def _gather_shape(x, indices, *, axis):
    check_axes("gather", (axis,), x.ndim)
    if not np.issubdtype(indices.dtype, np.integer):
        raise ShapeError(f"gather needs integer indices, got {indices.str_short()}")
    return ShapedArray(x.shape[:axis] + indices.shape + x.shape[axis + 1:], x.dtype)


def _gather_impl(x, indices, *, axis):
    return np.take(x, indices, axis=axis)


gather_p = primitive("gather", _gather_impl, _gather_shape, cost=cost_free)
# linear in x (the indices are integers): the tangent is gathered the same way
defjvp(gather_p, lambda t, x, indices, out, *, axis: bind(gather_p, t, indices, axis=axis), None)
# transpose: add each cotangent element back at the position it was taken
# from; repeated indices accumulate
gather_p.transpose = lambda ct, x, indices, *, axis: [
    bind(scatter_add_p, zeros(x.aval), indices, ct, axis=axis), None]


# scatter_add[axis=k] operand indices updates: a copy of ``operand`` with
# ``updates`` added at ``indices`` along axis k (repeated indices add up);
# ``updates`` has the shape gather would give.  Linear in (operand, updates).
def _scatter_add_shape(operand, indices, updates, *, axis):
    expected = _gather_shape(operand, indices, axis=axis)
    if updates.shape != expected.shape or updates.dtype != operand.dtype:
        raise ShapeError(f"scatter_add: updates {updates.str_short()} do not match "
                         f"{expected.str_short()}")
    return operand


def _scatter_add_impl(operand, indices, updates, *, axis):
    out = np.array(operand, copy=True)
    np.add.at(out, (slice(None),) * axis + (indices,), updates)
    return out


def _scatter_add_transpose(ct, operand, indices, updates, *, axis):
    return [ct if type(operand) is LinearInput else None, None,
            bind(gather_p, ct, indices, axis=axis) if type(updates) is LinearInput else None]


def _linear_scatter(prim, transpose):
    """scatter and scatter_add are linear in (operand, updates) together; the
    integer indices are not a linear input: the JVP scatters the tangents at
    the primal indices (``deflinear`` would put the indices' zero tangent there)."""

    def rule(primals, tangents, out, *, axis):
        _, indices, _ = primals
        t_operand, _, t_updates = tangents
        return bind(prim, instantiate(t_operand), indices, instantiate(t_updates), axis=axis)

    prim.jvp = rule
    prim.transpose = transpose


# one addition per update element
scatter_add_p = primitive("scatter_add", _scatter_add_impl, _scatter_add_shape,
                          cost=lambda ins, outs, **params: ins[2].size)
_linear_scatter(scatter_add_p, _scatter_add_transpose)
# transposed, gather and scatter-add trade places: a gather's adjoint adds each
# gathered element into place, a scatter-add's only gathers
gather_p.adjoint_cost = lambda ins, outs, **params: outs[0].size
scatter_add_p.adjoint_cost = cost_free


# scatter[axis=k] operand indices updates: a copy of ``operand`` with the
# elements at ``indices`` along axis k replaced by ``updates`` (for repeated
# indices the last one wins, as with NumPy's ``x[idx] = v``).
def _scatter_impl(operand, indices, updates, *, axis):
    out = np.array(operand, copy=True)
    out[(slice(None),) * axis + (indices,)] = updates
    return out


def _scatter_transpose(ct, operand, indices, updates, *, axis):
    # the operand's cotangent is zero where it was overwritten; the updates
    # get the cotangent of the places they were written to
    ct_operand = ct_updates = None
    if type(operand) is LinearInput:
        blank = zeros(ShapedArray(_gather_shape(operand.aval, get_aval(indices),
                                                axis=axis).shape, operand.aval.dtype))
        ct_operand = bind(scatter_p, ct, indices, blank, axis=axis)
    if type(updates) is LinearInput:
        ct_updates = bind(gather_p, ct, indices, axis=axis)
        written = _written(indices, operand, axis)
        if written is not None:
            # with repeated indices only the last update at a position is
            # written; the overwritten ones get a zero cotangent
            shape = updates.aval.shape
            if get_aval(written).shape != shape:
                written = broadcast_in_dim(written, shape,
                                           tuple(range(axis, axis + get_aval(written).ndim)))
            ct_updates = select(written, ct_updates, np.zeros(shape, updates.aval.dtype))
    return [ct_operand, None, ct_updates]


def _written(indices, operand, axis):
    """For each index, whether its update is the one left at its position
    (the last of repeated ones); None when no index repeats."""
    n = (operand.aval if type(operand) is LinearInput else get_aval(operand)).shape[axis]
    idx_aval = get_aval(indices)
    if not isinstance(indices, Tracer):
        flat = np.asarray(indices).ravel() % n if n else np.asarray(indices).ravel()
        if len(np.unique(flat)) == flat.size:
            return None
    order = np.arange(idx_aval.size, dtype=idx_aval.dtype).reshape(idx_aval.shape)
    # scatter each update's position in the order: what remains at a
    # position is the number of the update written last there
    last = bind(scatter_p, np.full((n,), -1, idx_aval.dtype), indices, order, axis=0)
    return eq(bind(gather_p, last, indices, axis=0), order)


scatter_p = primitive("scatter", _scatter_impl, _scatter_add_shape, cost=cost_free)
_linear_scatter(scatter_p, _scatter_transpose)


# scatter_min[axis=k] / scatter_max[axis=k] operand indices updates: a copy of
# ``operand`` where each indexed position keeps the smallest (largest) of its
# own value and every update sent to it (NumPy's ``np.minimum.at``).  They
# back ``x.at[idx].min(v)`` / ``.max(v)``; not linear, so no transpose.
def _extremal_scatter_jvp(prim):
    # The result at a position is whichever contender (the operand's value
    # or an update sent there) is extreme, so its tangent is that
    # contender's.  Where several tie, the tangent is their average, as JAX
    # does and as reduce_max splits ties (the one-sided derivatives disagree
    # there; the average is the symmetric choice):
    #   out_dot[j] = (wins_x[j] t_x[j] + sum_{k -> j} wins_v[k] t_v[k])
    #                / (wins_x[j] + sum_{k -> j} wins_v[k])
    # with wins = 1.0 where the contender equals the result.  The weights are
    # piecewise constant, so this is again IR and differentiates further.
    def rule(primals, tangents, out, *, axis):
        operand, indices, updates = primals
        t_operand, _, t_updates = tangents
        aval = get_aval(out)

        def wins(a, b):
            return convert_element_type(eq(a, b), aval.dtype)

        wins_x = wins(operand, out)
        wins_v = wins(updates, bind(gather_p, out, indices, axis=axis))
        blank = zeros(aval)
        count = add(wins_x, bind(scatter_add_p, blank, indices, wins_v, axis=axis))
        total = bind(scatter_add_p, blank, indices, mul(instantiate(t_updates), wins_v),
                     axis=axis) if type(t_updates) is not Zero else None
        if type(t_operand) is not Zero:
            own = mul(t_operand, wins_x)
            total = own if total is None else add(total, own)
        return div(total, count)

    prim.jvp = rule


def _extremal_scatter(name, ufunc):
    def impl(operand, indices, updates, *, axis):
        out = np.array(operand, copy=True)
        ufunc.at(out, (slice(None),) * axis + (indices,), updates)
        return out

    prim = primitive(name, impl, _scatter_add_shape,
                     cost=lambda ins, outs, **params: ins[2].size)  # one comparison per update
    _extremal_scatter_jvp(prim)
    return prim


scatter_min_p = _extremal_scatter("scatter_min", np.minimum)
scatter_max_p = _extremal_scatter("scatter_max", np.maximum)


# normalize_index[axis=k size=n] i: indices into an axis of length n, NumPy's
# range [-n, n) mapped to [0, n); any other raises NumPy's IndexError when the
# values are computed (at once where they are known, else when the program
# runs).  Indexing several axes at once, and a batched gather, fold axes or
# examples into one, so an index out of bounds on its own axis would land in
# a neighbouring row or example: this keeps it from doing so.  ``batch_dims``
# leading axes of ``i`` number the examples of a vmap (the error names one).
def _normalize_index_shape(i, *, axis, size, batch_dims=0):
    if not np.issubdtype(i.dtype, np.integer):
        raise ShapeError(f"normalize_index needs integer indices, got {i.str_short()}")
    return i


def _normalize_index_impl(i, *, axis, size, batch_dims=0):
    i = np.asarray(i)
    outside = (i < -size) | (i >= size)
    if outside.any():
        at = tuple(int(k) for k in np.argwhere(outside)[0])
        lanes = at[:batch_dims]
        example = (f" (in example {lanes[0] if len(lanes) == 1 else lanes} of the vmapped "
                   "batch)") if lanes else ""
        raise IndexError(f"index {i[at]} is out of bounds for axis {axis} with size "
                         f"{size}{example}")
    return np.where(i < 0, i + size, i).astype(i.dtype, copy=False)[()]


def _normalize_index_batch(args, dims, *, axis, size, batch_dims=0):
    (i,), (d,) = args, dims
    return bind(normalize_index_p, moveaxis(i, d, 0), axis=axis, size=size,
                batch_dims=batch_dims + 1), 0


normalize_index_p = primitive("normalize_index", _normalize_index_impl, _normalize_index_shape,
                              cost=cost_elementwise)
defzero(normalize_index_p)   # integer in, integer out
normalize_index_p.batch = _normalize_index_batch
normalize_index_p.may_raise = True   # an index out of bounds: dead code elimination keeps the check


# -- batching: with unbatched indices the batch is one more leading axis;
# with batched indices it is folded into the indexed axis (B x n positions),
# each example's indices offset by its own n positions
def _fold_batch(x, axis):
    """``x`` (batch first) with the batch merged into axis ``axis``."""
    x = moveaxis(x, 0, axis)
    shape = get_aval(x).shape
    return reshape(x, shape[:axis] + (shape[axis] * shape[axis + 1],) + shape[axis + 2:])


def _offset_indices(indices, n, axis):
    """Indices (batch first) into the folded axis: checked and wrapped to
    [0, n) (``normalize_index``: an index out of bounds raises, it never
    reaches another example's positions), then shifted by n positions per
    example."""
    aval = get_aval(indices)
    wrapped = bind(normalize_index_p, indices, axis=axis, size=n, batch_dims=1)
    offsets = (np.arange(aval.shape[0], dtype=aval.dtype) * n).reshape(
        (aval.shape[0],) + (1,) * (aval.ndim - 1))
    return add(wrapped, np.broadcast_to(offsets, aval.shape))


def _gather_batch(args, dims, *, axis):
    (x, indices), (dx, di) = args, dims
    if di is None:
        return bind(gather_p, moveaxis(x, dx, 0), indices, axis=axis + 1), 0
    if dx is None:   # the indices' batch axis lands among the gathered axes
        return bind(gather_p, x, indices, axis=axis), axis + di
    n = get_aval(x).shape[axis + (1 if dx <= axis else 0)]
    x = _fold_batch(moveaxis(x, dx, 0), axis)
    return bind(gather_p, x, _offset_indices(moveaxis(indices, di, 0), n, axis), axis=axis), axis


gather_p.batch = _gather_batch


def _scatter_batch(prim):
    def rule(args, dims, *, axis):
        (operand, indices, updates), (do, di, du) = args, dims
        size = batch_size(args, dims)
        operand = bdim_to_front(operand, do, size)
        updates = bdim_to_front(updates, du, size)
        if di is None:
            return bind(prim, operand, indices, updates, axis=axis + 1), 0
        shape = get_aval(operand).shape                       # (B, ..., n, ...)
        folded = bind(prim, _fold_batch(operand, axis),
                      _offset_indices(bdim_to_front(indices, di, size), shape[axis + 1], axis),
                      moveaxis(updates, 0, axis), axis=axis)
        unfolded = reshape(folded, shape[1:axis + 1] + (size, shape[axis + 1]) + shape[axis + 2:])
        return unfolded, axis

    prim.batch = rule


for _p in (scatter_add_p, scatter_p, scatter_min_p, scatter_max_p):
    _scatter_batch(_p)
