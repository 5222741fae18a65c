"""Full Jacobians: ``jacfwd``, ``jacrev`` and ``hessian``.

``jacfwd`` pushes the standard basis of the input space through the JVP,
all directions at once with ``vmap``: one batched forward sweep whose
columns are the Jacobian's.  ``jacrev`` linearizes once and pulls the
standard basis of the output space back through the VJP, again batched: its
rows are the Jacobian's.  Forward mode pays per input dimension, reverse
mode per output dimension, so ``jacfwd`` suits tall Jacobians and ``jacrev``
wide ones.  As in JAX, the Jacobian of an output of shape ``o`` with respect
to an input of shape ``i`` has shape ``o + i``.
"""
from __future__ import annotations

import functools

import numpy as np

from ..primitives._batch import IdentitySeed
from ..tracer.aliasing import unshared
from ..tracer.avals import ShapedArray, float0, is_float
from ..tracer.core import Tracer, get_aval
from ..tracer.printer import one_line
from ..tracer.pytree import tree_flatten, tree_unflatten
from ..tracer.tracebacks import api_boundary
from .ad import _check_argnums, _vjp_and_pullback, jvp
from .vmap import vmap


def _diff_function(f, args, argnums, name, has_aux=False):
    """``f`` as a function of the arguments ``argnums`` only, and those
    arguments' leaves (checked to be floating point).  With ``has_aux`` the
    function is checked to return a pair ``(output, aux)``."""
    single, nums = _check_argnums(argnums, len(args), name)
    diff_args = tuple(args[i] for i in nums)
    for i in nums:
        for leaf in tree_flatten(args[i])[0]:
            if not is_float(get_aval(leaf).dtype):
                raise TypeError(f"{name} requires floating-point inputs, but argument {i} has "
                                f"dtype {get_aval(leaf).dtype}")

    def h(*xs):
        full = list(args)
        for i, x in zip(nums, xs):
            full[i] = x
        out = f(*full)
        if has_aux and not (isinstance(out, (tuple, list)) and len(out) == 2):
            got = ("one array" if isinstance(out, (Tracer, np.ndarray)) else
                   f"a {one_line(type(out).__name__)}")
            raise TypeError(f"{name}(f, has_aux=True) needs f to return a pair (output, aux), "
                            f"got {got}; return (output, aux), or drop has_aux=True")
        return out

    return h, diff_args, single


def _basis(leaves, dtype):
    """The standard basis of the space of ``leaves``: one array per leaf,
    shaped ``(n, *leaf.shape)``, whose rows together form the identity."""
    sizes = [get_aval(x).size for x in leaves]
    n = sum(sizes)
    eye = np.eye(n, dtype=dtype)
    out, start = [], 0
    for x, size in zip(leaves, sizes):
        out.append(eye[:, start:start + size].reshape((n,) + get_aval(x).shape))
        start += size
    return out


def _blocks(columns, out_leaves, in_leaves, axis):
    """Cut ``columns`` (the Jacobian of each output leaf, with all input
    dimensions flattened along ``axis``) into blocks ``out.shape + in.shape``."""
    from .. import numpy as cnp
    blocks = []
    for col, out in zip(columns, out_leaves):
        row, start = [], 0
        for x in in_leaves:
            size = get_aval(x).size
            index = [slice(None)] * get_aval(col).ndim
            index[axis] = slice(start, start + size)
            part = col[tuple(index)]
            if axis == 0:  # (n_in, *out) -> (*out, n_in)
                part = cnp.moveaxis(part, 0, -1)
            row.append(cnp.reshape(part, get_aval(out).shape + get_aval(x).shape))
            start += size
        blocks.append(row)
    return blocks


def _assemble(blocks, out_tree, in_trees, single):
    # blocks are cut from one array of columns (rows): the user gets each as
    # an array of its own
    leaves = iter(unshared([b for row in blocks for b in row]))
    blocks = [[next(leaves) for _ in row] for row in blocks]
    per_output = []
    for row in blocks:
        it = iter(row)
        parts = [tree_unflatten(t, [next(it) for _ in range(t.num_leaves)]) for t in in_trees]
        per_output.append(parts[0] if single else tuple(parts))
    return tree_unflatten(out_tree, per_output)


def _result_dtype(leaves):
    return np.result_type(*[get_aval(x).dtype for x in leaves])


@api_boundary
def jacfwd(f, argnums=0, has_aux=False):
    """The Jacobian of ``f`` by forward mode: one batched JVP over the standard
    basis of the inputs ``argnums``.  With ``has_aux``, ``f`` returns
    ``(output, aux)`` and the result is ``(jacobian, aux)``, ``aux`` as
    ``f`` computed it (not differentiated)."""

    @api_boundary
    @functools.wraps(f)
    def jacfwd_f(*args):
        h, diff_args, single = _diff_function(f, args, argnums, "jacfwd", has_aux)
        in_leaves, in_tree = tree_flatten(diff_args)
        in_trees = [tree_flatten(a)[1] for a in diff_args]
        dtype = _result_dtype(in_leaves)
        if len(in_leaves) == 1:   # the identity stays symbolic: seed folding
            basis = tree_unflatten(in_tree, [IdentitySeed(get_aval(in_leaves[0]).shape, dtype)])
        else:
            basis = tree_unflatten(in_tree, _basis(in_leaves, dtype))

        def pushforward(*tangents):
            # an integer output's (float0) tangent becomes zeros of its dtype:
            # its Jacobian blocks keep the output's dtype, as jacrev's do
            out, t_out, *aux = jvp(h, diff_args, tangents, has_aux=has_aux)
            o_leaves, o_tree = tree_flatten(out)
            t_out = tree_unflatten(o_tree, [
                np.zeros(np.shape(t), get_aval(o).dtype) if get_aval(t).dtype == float0 else t
                for o, t in zip(o_leaves, tree_flatten(t_out)[0])])
            return (t_out, aux[0]) if has_aux else t_out

        # (aux depends on the primals only: the same for every basis direction)
        columns = vmap(pushforward, in_axes=0, out_axes=(-1, None) if has_aux else -1)(*basis)
        if has_aux:
            columns, aux = columns
        col_leaves, out_tree = tree_flatten(columns)
        out_leaves = [ShapedArray(get_aval(c).shape[:-1], get_aval(c).dtype) for c in col_leaves]
        jac = _assemble(_blocks(col_leaves, out_leaves, in_leaves, -1), out_tree, in_trees,
                        single)
        return (jac, aux) if has_aux else jac

    return jacfwd_f


@api_boundary
def jacrev(f, argnums=0, has_aux=False):
    """The Jacobian of ``f`` by reverse mode: linearize once, then one batched
    VJP over the standard basis of the outputs (folded into a trailing
    matrix product, as ``jacfwd`` folds its seed into a leading one).  With
    ``has_aux``, ``f`` returns ``(output, aux)`` and the result is
    ``(jacobian, aux)``."""

    @api_boundary
    @functools.wraps(f)
    def jacrev_f(*args):
        h, diff_args, single = _diff_function(f, args, argnums, "jacrev", has_aux)
        in_leaves, _ = tree_flatten(diff_args)
        in_trees = [tree_flatten(a)[1] for a in diff_args]
        out, pullback, *aux = _vjp_and_pullback(h, diff_args, has_aux, float0_cotangents=False)
        jac = _jacobian_by_rows(out, pullback, in_leaves, in_trees, single)
        return (jac, aux[0]) if has_aux else jac

    return jacrev_f


def _jacobian_by_rows(out, pullback, in_leaves, in_trees, single):
    """``jacrev``'s Jacobian: the pullback of each output dimension, batched."""
    out_leaves, out_tree = tree_flatten(out)
    if not out_leaves:   # no outputs: no rows
        return tree_unflatten(out_tree, [])
    # the cotangent basis in the float outputs' dtype; integer outputs
    # (whose cotangents nothing reads) keep their own
    floats = [o for o in out_leaves if is_float(get_aval(o).dtype)]
    dtype = _result_dtype(floats or in_leaves)
    if len(out_leaves) == 1:   # the identity stays symbolic: seed folding
        o = get_aval(out_leaves[0])
        basis = tree_unflatten(out_tree, [IdentitySeed(o.shape, dtype if floats else o.dtype)])
    else:
        basis = tree_unflatten(out_tree, [
            b if is_float(get_aval(o).dtype) else b.astype(get_aval(o).dtype)
            for b, o in zip(_basis(out_leaves, dtype), out_leaves)])
    rows = vmap(pullback)(basis)                     # per input leaf: (m, *in.shape)
    row_leaves = tree_flatten(rows)[0]
    # rows[j][offset_k + r] is row r of the block (out leaf k, in leaf j)
    blocks, start = [], 0
    from .. import numpy as cnp
    for o in out_leaves:
        size, aval = get_aval(o).size, get_aval(o)
        row = [cnp.reshape(r[start:start + size], aval.shape + get_aval(x).shape)
               for r, x in zip(row_leaves, in_leaves)]
        if not is_float(aval.dtype):   # zero blocks in the output's dtype, as jacfwd
            row = [b.astype(aval.dtype) for b in row]
        blocks.append(row)
        start += size
    return _assemble(blocks, out_tree, in_trees, single)


@api_boundary
def hessian(f, argnums=0, has_aux=False):
    """The Hessian of a scalar ``f``: forward over reverse, ``jacfwd(jacrev(f))``.
    With ``has_aux``, ``f`` returns ``(output, aux)`` and the result is
    ``(hessian, aux)``."""
    hess = jacfwd(jacrev(f, argnums, has_aux=has_aux), argnums, has_aux=has_aux)

    @api_boundary
    @functools.wraps(f)
    def hessian_f(*args):
        _diff_function(f, args, argnums, "hessian")   # its errors name hessian
        return hess(*args)

    return hessian_f
