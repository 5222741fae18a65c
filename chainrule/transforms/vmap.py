"""``vmap``: vectorizing a function over a batch axis.

``vmap(f, in_axes, out_axes)(*args)`` traces ``f`` once at the shapes of a
single example (the mapped axes removed), then evaluates that program with
the batching interpreter (``interpreters/batch.py``) on the whole batch.
Inside another trace the batched program is recorded there, so
``vmap(grad(f))`` (per-example gradients), ``grad(vmap(f))`` and nested
``vmap`` compose.
"""
from __future__ import annotations

import functools

from ..interpreters.batch import batch_walk
from ..primitives._batch import IdentitySeed, bdim_to_front, moveaxis
from ..tracer.aliasing import unshared
from ..tracer.avals import ShapedArray
from ..tracer.core import get_aval
from ..tracer.pytree import tree_flatten, tree_unflatten
from ..tracer.source import user_source_info, where
from ..tracer.tracebacks import api_boundary
from ..tracer.tracing import check_leaf, trace_to_ir


def _axes_per_leaf(prefix, tree, what):
    """Expand an axes spec (int, None, or a pytree prefix of ``tree``) to one
    entry per leaf of ``tree``."""
    if prefix is None or isinstance(prefix, int):
        return [prefix] * len(tree_flatten(tree)[0])
    if isinstance(prefix, dict) and isinstance(tree, dict) and set(prefix) == set(tree):
        return [a for k in sorted(tree) for a in _axes_per_leaf(prefix[k], tree[k], what)]
    if isinstance(prefix, (tuple, list)) and isinstance(tree, (tuple, list)) \
            and len(prefix) == len(tree):
        return [a for p, t in zip(prefix, tree) for a in _axes_per_leaf(p, t, what)]
    raise ValueError(f"vmap {what} {prefix!r} does not match the structure of the values "
                     f"{tree_flatten(tree)[1]}: give an int, None, or a tuple/list/dict "
                     "with one entry per element")


def _check_axis(axis, ndim, what):
    if axis is None:
        return None
    if not -ndim <= axis < ndim:
        raise ValueError(f"vmap {what} {axis} is out of range for an array of rank {ndim}"
                         f"{where(user_source_info())}")
    return axis % ndim


@api_boundary
def vmap(f, in_axes=0, out_axes=0):
    """Vectorize ``f`` along the ``in_axes`` of its arguments: ``vmap(f)(xs)``
    stacks ``f(x)`` for each ``x`` along ``xs``'s axis 0, computed with
    batched primitives rather than a Python loop."""
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)

    @api_boundary
    @functools.wraps(f)
    def vmapped(*args, **kwargs):
        if isinstance(in_axes, tuple) and len(in_axes) != len(args):
            raise ValueError(f"vmap in_axes has {len(in_axes)} entries but the function was "
                             f"called with {len(args)} positional arguments")
        # as in JAX, keyword arguments are mapped over their axis 0 (in_axes
        # speaks of the positional ones): they are traced as trailing arguments
        names, n_positional = sorted(kwargs), len(args)

        def g(*xs):
            return f(*xs[:n_positional], **dict(zip(names, xs[n_positional:])))

        axes = (_axes_per_leaf(in_axes, args, "in_axes")
                + _axes_per_leaf(0, [kwargs[k] for k in names], "keyword argument axis"))
        args = args + tuple(kwargs[k] for k in names)
        flat, in_tree = tree_flatten(args)
        flat = [x if type(x) is IdentitySeed else check_leaf(x, "vmap") for x in flat]
        size, examples, dims = None, [], []
        for x, axis in zip(flat, axes):
            aval = (ShapedArray((x.size,) + x.shape, x.dtype) if type(x) is IdentitySeed
                    else get_aval(x))
            axis = _check_axis(axis, aval.ndim, "in_axes")
            if axis is None:
                examples.append(x)
            else:
                n = aval.shape[axis]
                if size is not None and n != size:
                    raise ValueError(f"vmap got inconsistent sizes for the mapped axes: "
                                     f"{size} and {n}{where(user_source_info())}")
                size = n
                examples.append(ShapedArray(aval.shape[:axis] + aval.shape[axis + 1:],
                                            aval.dtype))
            dims.append(axis)
        if size is None:
            raise ValueError("vmap needs at least one argument with a mapped axis (in_axes "
                             "is None for all of them)")
        closed = trace_to_ir(g, tree_unflatten(in_tree, examples), name="vmap")
        outs, out_dims = batch_walk(closed.ir, closed.consts, flat, dims)
        out = tree_unflatten(closed.out_tree, outs)
        targets = _axes_per_leaf(out_axes, out, "out_axes")
        results = []
        for x, d, target in zip(outs, out_dims, targets):
            if target is None:
                if d is not None:
                    raise ValueError("vmap out_axes=None for an output that depends on the "
                                     "mapped inputs; give it an axis")
                results.append(x)
                continue
            if d is None:  # the same for every example: repeat it along the batch
                x, d = bdim_to_front(x, None, size), 0
            target = _check_axis(target, get_aval(x).ndim, "out_axes")
            results.append(moveaxis(x, d, target))
        return tree_unflatten(closed.out_tree, unshared(results, flat + closed.consts))

    return vmapped
