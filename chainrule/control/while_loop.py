"""``while_loop`` and ``fori_loop``: loops whose number of steps is decided
when they run.

``while_loop(cond_fun, body_fun, init)`` runs ``carry = body_fun(carry)``
while ``cond_fun(carry)`` holds; the equation holds both as bodies:

    while[body={ ... } body_nconsts=0 cond={ ... } cond_nconsts=0] c0

``fori_loop(lower, upper, body_fun, init)`` runs ``val = body_fun(i, val)``
for ``i`` from ``lower`` to ``upper``: with Python (or NumPy) integer bounds
its number of steps is known, so it is a ``scan`` (and differentiable in
both modes, as in JAX); with traced bounds it is a ``while_loop``.

The rules:

* JVP: a ``while`` of the body's JVP, carrying the tangents beside the
  primal state, its condition reading the primal part;
* transpose: none.  The number of steps is known only when the loop runs,
  so there is no backward loop to build (as in JAX): reverse mode raises an
  error that suggests ``fori_loop`` with static bounds or ``scan``;
* batch: with a condition that is the same for every example, the batched
  body; with one that differs, the loop runs while any example's holds, and
  an example whose condition is false keeps its carry (a ``select``);
* cost: the body's and the condition's, once (the number of steps is not
  known).
"""
from __future__ import annotations

import numpy as np

from ..interpreters.batch import batch_walk
from ..interpreters.cost import ir_cost
from ..primitives._ad import Zero, instantiate
from ..primitives._batch import bdim_to_front
from ..primitives._define import primitive
from ..primitives._ops import (broadcast_in_dim, convert_element_type, lt, reduce_max, reshape,
                               select, slice_)
from ..tracer.aliasing import unshared
from ..tracer.avals import ShapedArray, is_float
from ..tracer.core import Tracer, bind, get_aval
from ..tracer.errors import ShapeError
from ..tracer.pytree import tree_flatten, tree_unflatten
from ..tracer.source import user_source_info, where
from . import _bodies as B
from .scan import scan

_BOOL = ShapedArray((), np.dtype(np.bool_))


def _while_shape(*args, cond, body, cond_nconsts, body_nconsts):
    cconsts, bconsts = args[:cond_nconsts], args[cond_nconsts:cond_nconsts + body_nconsts]
    carry = list(args[cond_nconsts + body_nconsts:])
    B.check_operands("while", cond, list(cconsts) + carry)
    B.check_operands("while", body, list(bconsts) + carry)
    if cond.out_avals != [_BOOL]:
        raise ShapeError(f"while: the condition must return a boolean scalar, got "
                         f"{B.types(cond.out_avals)}")
    if body.out_avals != carry:
        raise ShapeError(f"while: the body takes a carry {B.types(carry)} and returns "
                         f"{B.types(body.out_avals)}")
    return carry


def _while_impl(*args, cond, body, cond_nconsts, body_nconsts):
    cconsts = list(args[:cond_nconsts])
    bconsts = list(args[cond_nconsts:cond_nconsts + body_nconsts])
    carry = list(args[cond_nconsts + body_nconsts:])
    while bool(B.eval_body(cond, cconsts + carry)[0]):
        carry = list(B.eval_body(body, bconsts + carry))
    return carry


def _while_cost(in_avals, out_avals, *, cond, body, **params):
    return ir_cost(cond.ir).flops + ir_cost(body.ir).flops


while_p = primitive("while", _while_impl, _while_shape, cost=_while_cost,
                    multiple_results=True)


def _while_jvp(primals, tangents, out, *, cond, body, cond_nconsts, body_nconsts):
    nc, nb = cond_nconsts, body_nconsts
    n_carry = len(primals) - nc - nb
    nonzero = [type(t) is not Zero for t in tangents[nc:]]   # body consts, carry
    if not any(nonzero):
        return [Zero(get_aval(o)) for o in out]
    for k in range(nb, nb + n_carry):        # a step can pass a tangent to any carry
        nonzero[k] = is_float(get_aval(primals[nc + k]).dtype)
    jvp = B.jvp_body(body, nonzero)           # (bconsts, carry, t_bconsts, t_carry) -> ...
    t_b = [k for k in range(nb) if nonzero[k]]
    t_c = [k for k in range(nb, nb + n_carry) if nonzero[k]]
    n_tb = len(t_b)
    # the new loop: body consts (bconsts, their tangents), carry (carry, its tangents)
    order = (list(range(nb)) + [nb + n_carry + j for j in range(n_tb)]
             + list(range(nb, nb + n_carry)) + [nb + n_carry + n_tb + j for j in range(len(t_c))])
    new_body = B.permute_inputs(jvp, order)
    t_carry_avals = [get_aval(primals[nc + k]) for k in t_c]
    new_cond = B.with_inputs(cond, t_carry_avals, len(cond.ir.invars))
    t_consts = [tangents[nc + k] for k in t_b]
    t_carry = [instantiate(tangents[nc + k]) if type(tangents[nc + k]) is Zero
               else tangents[nc + k] for k in t_c]
    outs = bind(while_p, *primals[:nc], *primals[nc:nc + nb], *t_consts,
                *primals[nc + nb:], *t_carry, cond=new_cond, body=new_body,
                cond_nconsts=nc, body_nconsts=nb + n_tb)
    touts = iter(outs[n_carry:])
    return [next(touts) if is_float(get_aval(o).dtype) else Zero(get_aval(o)) for o in out]


def _while_batch(args, dims, *, cond, body, cond_nconsts, body_nconsts):
    nc, nb = cond_nconsts, body_nconsts
    size = next(get_aval(x).shape[d] for x, d in zip(args, dims) if d is not None)
    cconsts, bconsts = args[:nc], args[nc:nc + nb]
    carry = [bdim_to_front(c, d, size) for c, d in zip(args[nc + nb:], dims[nc + nb:])]
    c_dims, b_dims = list(dims[:nc]), list(dims[nc:nc + nb])
    n_carry = len(carry)
    carry_dims = [0] * n_carry
    batched_body = B.batch_body(body, b_dims + carry_dims, size)
    if not _batched_output(cond, c_dims + carry_dims, size):
        # the same condition for every example: the batched loop as it is
        pred_body = B.batch_body(cond, c_dims + carry_dims, size)
        unbatched = B.select_outputs(pred_body, [True])   # (batched to axis 0: undo below)
        new_cond = _first_example(unbatched)
        outs = bind(while_p, *cconsts, *bconsts, *carry, cond=new_cond, body=batched_body,
                    cond_nconsts=nc, body_nconsts=nb)
        return outs, [0] * n_carry
    # conditions that differ: loop while any holds; the others keep their carry
    lanes = B.batch_body(cond, c_dims + carry_dims, size)       # -> bool[size]

    def any_lane(*a):
        pred = B.eval_body(lanes, list(a))[0]
        return [lt(np.int8(0), reduce_max(convert_element_type(pred, np.dtype(np.int8)), (0,)))]

    new_cond = B.trace_program(any_lane, [v.aval for v in lanes.ir.invars], "vmap")

    def step(*a):
        cc, bc, c = a[:nc], a[nc:nc + nb], list(a[nc + nb:])
        pred = B.eval_body(lanes, list(cc) + c)[0]
        new = B.eval_body(batched_body, list(bc) + c)
        return [select(_spread(pred, get_aval(x)), n, x) for n, x in zip(new, c)]

    avals = ([v.aval for v in lanes.ir.invars[:nc]] + [v.aval for v in batched_body.ir.invars])
    new_body = B.trace_program(step, avals, "vmap")
    outs = bind(while_p, *cconsts, *cconsts, *bconsts, *carry, cond=new_cond, body=new_body,
                cond_nconsts=nc, body_nconsts=nc + nb)
    return outs, [0] * n_carry


def _batched_output(body, dims, size):
    """Whether ``body``'s (single) output differs between examples."""
    def probe(*a):
        outs, out_dims = batch_walk(body.ir, body.consts, list(a), list(dims))
        probe.dims = out_dims
        return outs
    B.trace_program(probe, [B.batched_aval(v.aval, d, size)
                            for v, d in zip(body.ir.invars, dims)], "vmap")
    return probe.dims[0] is not None


def _first_example(body):
    """A body whose output, batched along axis 0 but equal across examples,
    is taken from the first example."""
    def first(*a):
        out = B.eval_body(body, list(a))[0]
        return [reshape(slice_(out, (0,), (1,), (1,)), ())]
    return B.trace_program(first, [v.aval for v in body.ir.invars], "vmap")


def _spread(mask, aval):
    if aval.shape == get_aval(mask).shape:
        return mask
    return broadcast_in_dim(mask, aval.shape, (0,))


while_p.jvp = _while_jvp
while_p.batch = _while_batch


def _while_forwarding(*, cond, body, cond_nconsts, body_nconsts):
    # a carry the body returns as it got it is the initial carry (the loop
    # may run no step, so a carry set to a const is not that const)
    return [cond_nconsts + s if s == body_nconsts + k else None
            for k, s in enumerate(B.passed_through(body))]


while_p.forwarding = _while_forwarding
# no transpose: the number of steps is known only when the loop runs
while_p.no_transpose_reason = (
    "reverse mode of a while_loop is not supported: its number of steps is known only when "
    "it runs, so there is no loop to run backwards (as in JAX). For a loop to differentiate "
    "in reverse mode use cr.fori_loop with Python int bounds, or cr.scan with a length; "
    "forward mode (cr.jvp, cr.jacfwd) works through a while_loop.")


# -- what users call -------------------------------------------------------------------------
def while_loop(cond_fun, body_fun, init_val):
    """``val = body_fun(val)`` while ``cond_fun(val)``; returns the last
    ``val`` (any pytree), as ``jax.lax.while_loop``.  Differentiable in
    forward mode; reverse mode raises (use ``fori_loop`` or ``scan``)."""
    if not (callable(cond_fun) and callable(body_fun)):
        raise TypeError(f"while_loop: cond_fun and body_fun must be functions"
                        f"{where(user_source_info())}")
    leaves, tree = tree_flatten(init_val)
    cond, c_hoisted, _ = B.trace_body(cond_fun, (init_val,), "while_loop")
    if cond.out_avals != [_BOOL]:
        raise TypeError(f"while_loop: cond_fun must return a boolean scalar, got "
                        f"{B.types(cond.out_avals)}{where(user_source_info())}")
    body, b_hoisted, b_tree = B.trace_body(body_fun, (init_val,), "while_loop")
    carry_avals = [B.abstract(x) for x in leaves]
    if b_tree != tree or body.out_avals != carry_avals:
        raise TypeError(f"while_loop: body_fun must return the structure and types of "
                        f"init_val: init_val is {B.types(carry_avals)} ({tree}), body_fun "
                        f"returns {B.types(body.out_avals)} ({b_tree}){where(user_source_info())}")
    outs = bind(while_p, *c_hoisted, *b_hoisted, *leaves, cond=cond, body=body,
                cond_nconsts=len(c_hoisted), body_nconsts=len(b_hoisted))
    return tree_unflatten(tree, unshared(outs, leaves))   # (never an operand)


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``; returns
    the last ``val``, as ``jax.lax.fori_loop``.  With integer bounds that are
    not traced it is a ``scan`` (differentiable in both modes), else a
    ``while_loop`` (forward mode only)."""
    if not callable(body_fun):
        raise TypeError(f"fori_loop: body_fun must be a function{where(user_source_info())}")
    for b in (lower, upper):
        aval = get_aval(b)
        if aval.shape != () or not np.issubdtype(aval.dtype, np.integer):
            raise TypeError(f"fori_loop: lower and upper must be integer scalars, got "
                            f"{aval.str_short()}{where(user_source_info())}")
    if not isinstance(lower, Tracer) and not isinstance(upper, Tracer):
        lower_i = np.asarray(lower).astype(np.result_type(np.asarray(lower), np.asarray(upper)))
        n = max(int(upper) - int(lower), 0)

        def step(carry, _):
            i, val = carry
            return (i + 1, body_fun(i, val)), None

        (_, val), _ = scan(step, (lower_i[()], init_val), None, length=n)
        return val
    dtype = np.result_type(get_aval(lower).dtype, get_aval(upper).dtype)
    start = lower if isinstance(lower, Tracer) else np.asarray(lower, dtype)[()]

    def loop_body(carry):
        i, val = carry
        return i + 1, body_fun(i, val)

    _, val = while_loop(lambda carry: carry[0] < upper, loop_body, (start, init_val))
    return val
