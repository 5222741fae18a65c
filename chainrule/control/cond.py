"""``cond`` and ``switch``: a choice between programs, made inside the IR.

    d:f64[3] = cond[branches=(
            { lambda ; a:f64[3]. let b:f64[3] = neg a in (b,) }
            { lambda ; a:f64[3]. let b:f64[3] = sin a in (b,) }
        )] c a

``switch(index, branches, *operands)`` runs ``branches[index]`` (the index
clamped into range, as in JAX); ``cond(pred, true_fun, false_fun,
*operands)`` is the switch of ``[false_fun, true_fun]`` on ``pred``.  Every
branch is traced (abstractly, at the operands' types) into a body, so the
program holds all of them and the choice is made when it runs: under
``make_ir`` and ``vmap``, where ``if`` on a traced value cannot work, and
under ``grad`` of either.  The rules:

* JVP: the branches' JVPs, split by partial evaluation into a ``cond`` of
  their primal parts (which gives the residuals, each branch padding the
  others' with zeros) and a ``cond`` of their linear parts;
* transpose: a ``cond`` of the transposed linear branches;
* batch: with an unbatched index, a ``cond`` of the batched branches; with a
  batched one, every branch runs on the whole batch and each example takes
  its own branch's result (a ``select``);
* cost: the costliest branch.
"""
from __future__ import annotations

import numpy as np

from ..interpreters.batch import batch_walk
from ..interpreters.cost import ir_cost
from ..primitives._ad import LinearInput, Zero, instantiate
from ..primitives._batch import bdim_to_front, moveaxis
from ..primitives._define import primitive
from ..primitives._ops import broadcast_in_dim, convert_element_type, eq, lt, select
from ..tracer.avals import is_float
from ..tracer.aliasing import unshared
from ..tracer.core import Tracer, bind, get_aval
from ..tracer.errors import ShapeError
from ..tracer.pytree import tree_flatten, tree_unflatten
from ..tracer.source import user_source_info, where
from . import _bodies as B


def _clamp(index, n):
    return min(max(int(index), 0), n - 1)


def _cond_shape(index, *args, branches):
    if index.shape != () or not np.issubdtype(index.dtype, np.integer):
        raise ShapeError(f"cond needs a 0-d integer index, got {index.str_short()}")
    for body in branches:
        B.check_operands("cond", body, args)
    outs = branches[0].out_avals
    if any(b.out_avals != outs for b in branches[1:]):
        raise ShapeError("cond: the branches return different types")
    return outs


def _cond_impl(index, *args, branches):
    return B.eval_body(branches[_clamp(index, len(branches))], args)


def _cond_cost(in_avals, out_avals, *, branches):
    return max(ir_cost(b.ir).flops for b in branches)


cond_p = primitive("cond", _cond_impl, _cond_shape, cost=_cond_cost, multiple_results=True)


def _cond_jvp(primals, tangents, out, *, branches):
    index, args = primals[0], primals[1:]
    nonzero = [type(t) is not Zero for t in tangents[1:]]
    parts = B.join_linearized([B.linearize_body(b, nonzero) for b in branches])
    residuals = bind(cond_p, index, *args, branches=tuple(p.known for p in parts))
    given = [t for t in tangents[1:] if type(t) is not Zero]
    touts = iter(bind(cond_p, index, *residuals, *given, branches=tuple(p.linear for p in parts)))
    return [next(touts) if is_float(get_aval(o).dtype) else Zero(get_aval(o)) for o in out]


def _cond_transpose(cts, index, *args, branches):
    linear = [type(a) is LinearInput for a in args]
    transposed = tuple(B.transpose_body(b, linear) for b in branches)
    cts = [instantiate(ct) for ct in cts]
    residuals = [a for a, lin in zip(args, linear) if not lin]
    ct_in = iter(bind(cond_p, index, *residuals, *cts, branches=transposed))
    return [None] + [next(ct_in) if lin else None for lin in linear]


def _cond_batch(args, dims, *, branches):
    (index, *operands), (index_dim, *operand_dims) = args, dims
    size = next(get_aval(x).shape[d] for x, d in zip(args, dims) if d is not None)
    if index_dim is None:   # one branch for all examples: batch the branches
        batched = tuple(B.batch_body(b, operand_dims, size) for b in branches)
        outs = bind(cond_p, index, *operands, branches=batched)
        return outs, [0] * len(outs)
    # a branch per example: run them all on the batch, take each example's own
    index = moveaxis(index, index_dim, 0)
    results = None
    for k, body in enumerate(branches):
        outs, out_dims = batch_walk(body.ir, body.consts, list(operands), list(operand_dims))
        outs = [bdim_to_front(o, d, size) for o, d in zip(outs, out_dims)]
        if results is None:
            results = outs
            continue
        # clamped as the index is: the last branch takes every index above it
        chosen = eq(index, np.asarray(k, get_aval(index).dtype)[()]) if k < len(branches) - 1 \
            else _at_least(index, k)
        results = [select(_spread(chosen, get_aval(o)), o, r) for o, r in zip(outs, results)]
    return results, [0] * len(results)


def _at_least(index, k):
    return lt(np.asarray(k - 1, get_aval(index).dtype)[()], index)


def _spread(mask, aval):
    """A per-example mask (batch axis first) broadcast to ``aval``'s shape."""
    if aval.shape == get_aval(mask).shape:
        return mask
    return broadcast_in_dim(mask, aval.shape, (0,))


cond_p.jvp = _cond_jvp
cond_p.transpose = _cond_transpose
cond_p.batch = _cond_batch


def _cond_forwarding(*, branches):
    # an output every branch takes from the same operand is that operand
    # (the equation's input after the index)
    sources = [B.passed_through(b) for b in branches]
    return [s[0] + 1 if s[0] is not None and all(t == s[0] for t in s) else None
            for s in zip(*sources)]


cond_p.forwarding = _cond_forwarding


def _cond_prune(used, *, branches):
    # outputs nobody reads leave every branch; operands no branch then reads go
    trims = [B.trimmed(b, used) for b in branches]
    read = [any(r) for r in zip(*[t[1] for t in trims])]
    if all(used) and all(read):
        return None
    return ({"branches": tuple(B.taking(t[0], read) for t in trims)},
            [0] + [i + 1 for i, r in enumerate(read) if r], [k for k, u in enumerate(used) if u])


cond_p.prune = _cond_prune


# -- what users call -------------------------------------------------------------------
def switch(index, branches, *operands):
    """``branches[index](*operands)``, chosen when the program runs (``index``
    clamped into ``[0, len(branches) - 1]``, as in JAX); every branch must
    return the same structure and types."""
    branches = list(branches)
    if not branches or not all(callable(b) for b in branches):
        raise TypeError(f"switch: branches must be a non-empty sequence of functions"
                        f"{where(user_source_info())}")
    index = _as_index(index, "switch")
    return _bind_branches("switch", index, branches,
                          [f"branch {k}" for k in range(len(branches))], operands)


def cond(pred, true_fun, false_fun, *operands):
    """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)``,
    chosen when the program runs; both must return the same structure and
    types."""
    aval = get_aval(pred)
    if aval.shape != ():
        raise TypeError(f"cond: the predicate must be a scalar, got {aval.str_short()}"
                        f"{where(user_source_info())}")
    if not (callable(true_fun) and callable(false_fun)):
        raise TypeError(f"cond: true_fun and false_fun must be functions"
                        f"{where(user_source_info())}")
    index = _as_index(pred, "cond")
    return _bind_branches("cond", index, [false_fun, true_fun], ["false_fun", "true_fun"],
                          operands)


def _as_index(x, name):
    aval = get_aval(x)
    if aval.shape != ():
        raise TypeError(f"{name}: the index must be a scalar, got {aval.str_short()}"
                        f"{where(user_source_info())}")
    if not (np.issubdtype(aval.dtype, np.integer) or aval.dtype == np.bool_):
        raise TypeError(f"{name}: the index must be an integer or boolean scalar, got "
                        f"{aval.str_short()}{where(user_source_info())}")
    if isinstance(x, Tracer):
        return convert_element_type(x, np.dtype(np.int32))
    return np.int32(x)


def _bind_branches(name, index, funs, names, operands):
    traced = [B.trace_body(f, tuple(operands), name) for f in funs]
    bodies = [t[0] for t in traced]
    B.check_same_outputs(name, names, bodies, [t[2] for t in traced])
    # every branch takes every branch's hoisted values, then the operands
    hoisted = [t[1] for t in traced]
    joined = []
    for k, body in enumerate(bodies):
        before = [B.abstract(h) for hs in hoisted[:k] for h in hs]
        after = [B.abstract(h) for hs in hoisted[k + 1:] for h in hs]
        n_own = len(hoisted[k])
        body = B.with_inputs(body, after, n_own)
        joined.append(B.with_inputs(body, before, 0))
    flat, _ = tree_flatten(tuple(operands))
    outs = bind(cond_p, index, *[h for hs in hoisted for h in hs], *flat,
                branches=tuple(joined))
    # (computed at once, a branch may return an operand: the result is a copy)
    return tree_unflatten(traced[0][2], unshared(outs, flat))
