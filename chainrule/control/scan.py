"""``scan``: a loop with a fixed number of steps, one body in the IR.

``scan(f, init, xs)`` runs ``carry, y = f(carry, x)`` for each ``x`` along
the leading axis of ``xs`` and returns the last carry and the ``y``s
stacked: a 1,000-step RNN is one equation whose body is one step.  The
equation's operands are ``consts`` (what the body reads but does not
carry: hoisted traced values), the initial ``carry``, and the ``xs``:

    scan[body={ lambda ; w h x. let ... in (h', y) } length=... num_carry=1
         num_consts=1 reverse=False] w h0 xs

The rules:

* JVP: the body's JVP, split by partial evaluation into a scan of the
  primal parts, which carries the primal state and stacks the residuals of
  every step as its ``ys`` (a residual that is a const or an ``x`` is passed
  on instead of stored), and a scan of the linear parts over them;
* transpose: the linear scan run backwards (a reversed scan), carrying the
  cotangents of the carry and accumulating those of the linear consts;
* batch: the body batched, every carry batched (a carry an example
  changes differs between examples), ``xs`` batched along axis 1;
* cost: the body's times the length.
"""
from __future__ import annotations

import numpy as np

from ..interpreters.cost import ir_cost
from ..primitives._ad import LinearInput, Zero, instantiate
from ..primitives._batch import bdim_to_front, moveaxis
from ..primitives._define import primitive
from ..primitives._ops import add
from ..tracer.aliasing import unshared
from ..tracer.avals import ShapedArray, is_float
from ..tracer.core import bind, get_aval
from ..tracer.errors import ShapeError
from ..tracer.pytree import tree_flatten, tree_unflatten
from ..tracer.source import user_source_info, where
from . import _bodies as B


def _unstacked(aval):
    return ShapedArray(aval.shape[1:], aval.dtype)


def _stacked(aval, length):
    return ShapedArray((length,) + aval.shape, aval.dtype)


def _scan_shape(*args, body, length, reverse, num_consts, num_carry):
    consts, carry, xs = (args[:num_consts], args[num_consts:num_consts + num_carry],
                         args[num_consts + num_carry:])
    for x in xs:
        if not x.shape or x.shape[0] != length:
            raise ShapeError(f"scan: every xs must have a leading axis of length {length}, "
                             f"got {x.str_short()}")
    B.check_operands("scan", body, list(consts) + list(carry) + [_unstacked(x) for x in xs])
    outs = body.out_avals
    if outs[:num_carry] != list(carry):
        raise ShapeError(f"scan: the body takes a carry {B.types(carry)} and returns "
                         f"{B.types(outs[:num_carry])}")
    return list(carry) + [_stacked(y, length) for y in outs[num_carry:]]


def _scan_impl(*args, body, length, reverse, num_consts, num_carry):
    consts, carry, xs = (list(args[:num_consts]), list(args[num_consts:num_consts + num_carry]),
                         args[num_consts + num_carry:])
    ys = []
    for i in (range(length - 1, -1, -1) if reverse else range(length)):
        out = B.eval_body(body, consts + carry + [x[i] for x in xs])
        carry, y = list(out[:num_carry]), out[num_carry:]
        ys.append(y)
    if reverse:
        ys.reverse()
    y_avals = body.out_avals[num_carry:]
    stacked = [np.stack([np.asarray(y[k]) for y in ys]) if ys else
               np.zeros((0,) + a.shape, a.dtype) for k, a in enumerate(y_avals)]
    return carry + stacked


def _scan_cost(in_avals, out_avals, *, body, length, **params):
    return ir_cost(body.ir).flops * length


scan_p = primitive("scan", _scan_impl, _scan_shape, cost=_scan_cost, multiple_results=True)


# -- JVP: a scan of the primal parts (stacking residuals), a scan of the linear parts ------
def _scan_jvp(primals, tangents, out, *, body, length, reverse, num_consts, num_carry):
    # a carry's tangent is nonzero whenever any input's is (a step can pass
    # one to it), for the floating-point carries
    nonzero = [type(t) is not Zero for t in tangents]
    if any(nonzero):
        for k in range(num_consts, num_consts + num_carry):
            nonzero[k] = is_float(get_aval(primals[k]).dtype)
        tangents = [instantiate(t) if nz and type(t) is Zero else t
                    for t, nz in zip(tangents, nonzero)]
    else:
        return [Zero(get_aval(o)) for o in out]
    lin = B.linearize_body(body, nonzero, keep=num_carry)
    # route each residual: a const is passed on as a const, an x as an x, the
    # rest the primal scan stores as ys
    stored = [s is None or num_consts <= s < num_consts + num_carry
              for s in lin.residual_sources]
    known = B.select_outputs(lin.known, [True] * num_carry + stored)
    primal = bind(scan_p, *primals, body=known, length=length, reverse=reverse,
                  num_consts=num_consts, num_carry=num_carry)
    stacked = iter(primal[num_carry:])
    res_consts, res_xs = [], []
    order_consts, order_xs = [], []   # positions in the linear body's inputs
    for k, (s, keep) in enumerate(zip(lin.residual_sources, stored)):
        if keep:
            res_xs.append(next(stacked))
            order_xs.append(k)
        elif s < num_consts:
            res_consts.append(primals[s])
            order_consts.append(k)
        else:
            res_xs.append(primals[s])
            order_xs.append(k)
    # the linear body's inputs: residuals, then tangents of the nonzero inputs
    n_res = len(lin.residual_sources)
    positions = iter(range(n_res, n_res + sum(nonzero)))
    t_pos = [next(positions) if nz else None for nz in nonzero]
    t_consts = [t_pos[k] for k in range(num_consts) if nonzero[k]]
    t_carry = [t_pos[k] for k in range(num_consts, num_consts + num_carry) if nonzero[k]]
    t_xs = [t_pos[k] for k in range(num_consts + num_carry, len(nonzero)) if nonzero[k]]
    linear_body = B.permute_inputs(lin.linear,
                                   order_consts + t_consts + t_carry + order_xs + t_xs)
    given = [t for t in tangents if type(t) is not Zero]
    g_consts, g_carry = given[:len(t_consts)], given[len(t_consts):len(t_consts) + len(t_carry)]
    g_xs = given[len(t_consts) + len(t_carry):]
    touts = bind(scan_p, *res_consts, *g_consts, *g_carry, *res_xs, *g_xs, body=linear_body,
                 length=length, reverse=reverse, num_consts=len(res_consts) + len(g_consts),
                 num_carry=len(g_carry))
    # the linear body gives tangents of the floating-point outputs only
    touts = iter(touts)
    return [next(touts) if is_float(get_aval(o).dtype) else Zero(get_aval(o)) for o in out]


# -- transpose: the linear scan run backwards -------------------------------------------------
def _scan_transpose(cts, *args, body, length, reverse, num_consts, num_carry):
    given = [type(a) is LinearInput for a in args]
    # the carry of a linear scan is its tangents: a carry given as a value
    # (a zero tangent made an array) is transposed as a linear one, its
    # cotangent dropped
    linear = given[:num_consts] + [True] * num_carry + given[num_consts + num_carry:]
    consts, xs = args[:num_consts], args[num_consts + num_carry:]
    lin_consts = [a for a, lin in zip(consts, linear[:num_consts]) if lin]
    res_consts = [a for a, lin in zip(consts, linear[:num_consts]) if not lin]
    res_xs = [a for a, lin in zip(xs, linear[num_consts + num_carry:]) if not lin]
    lin_xs = [a for a, lin in zip(xs, linear[num_consts + num_carry:]) if lin]
    transposed = B.transpose_body(body, linear)   # (residuals, cts of outputs) -> cts of linear
    n_rc, n_lc, n_rx = len(res_consts), len(lin_consts), len(res_xs)
    cts = [instantiate(c) for c in cts]
    ct_carry, ct_ys = cts[:num_carry], cts[num_carry:]

    def step(*a):
        # (res consts, const-ct accumulators, carry cts, res x, ct y) -> (acc', carry ct', x ct)
        rc, acc = a[:n_rc], a[n_rc:n_rc + n_lc]
        cc = a[n_rc + n_lc:n_rc + n_lc + num_carry]
        rx, cy = a[n_rc + n_lc + num_carry:n_rc + n_lc + num_carry + n_rx], \
            a[n_rc + n_lc + num_carry + n_rx:]
        out = B.eval_body(transposed, list(rc) + list(rx) + list(cc) + list(cy))
        c_consts, c_carry, c_xs = out[:n_lc], out[n_lc:n_lc + num_carry], out[n_lc + num_carry:]
        return [add(s, c) for s, c in zip(acc, c_consts)] + list(c_carry) + list(c_xs)

    avals = ([get_aval(a) for a in res_consts] + [a.aval for a in lin_consts]
             + [_aval(a) for a in args[num_consts:num_consts + num_carry]]
             + [_unstacked(get_aval(a)) for a in res_xs] + body.out_avals[num_carry:])
    back = B.trace_program(step, avals, "transpose")
    zeros = [np.zeros(a.aval.shape, a.aval.dtype) for a in lin_consts]
    outs = bind(scan_p, *res_consts, *zeros, *ct_carry, *res_xs, *ct_ys, body=back,
                length=length, reverse=not reverse, num_consts=n_rc,
                num_carry=n_lc + num_carry)
    c_consts, c_carry, c_xs = (iter(outs[:n_lc]), iter(outs[n_lc:n_lc + num_carry]),
                               iter(outs[n_lc + num_carry:]))
    result = []
    for k, (lin, was_given) in enumerate(zip(linear, given)):
        if not lin:
            result.append(None)
        elif k < num_consts:
            result.append(next(c_consts))
        elif k < num_consts + num_carry:
            ct = next(c_carry)
            result.append(ct if was_given else None)
        else:
            result.append(next(c_xs))
    return result


# -- batching --------------------------------------------------------------------------------
def _aval(x):
    return x.aval if type(x) is LinearInput else get_aval(x)


def _scan_batch(args, dims, *, body, length, reverse, num_consts, num_carry):
    size = next(get_aval(x).shape[d] for x, d in zip(args, dims) if d is not None)
    consts, carry, xs = (args[:num_consts], args[num_consts:num_consts + num_carry],
                         args[num_consts + num_carry:])
    c_dims, x_dims = dims[:num_consts], dims[num_consts + num_carry:]
    # every carry batched along 0; xs batched along 1 (0 is the scan's axis)
    carry = [bdim_to_front(c, d, size)
             for c, d in zip(carry, dims[num_consts:num_consts + num_carry])]
    xs = [x if d is None else moveaxis(x, d, 1) for x, d in zip(xs, x_dims)]
    body_dims = list(c_dims) + [0] * num_carry + [None if d is None else 0 for d in x_dims]
    batched = B.batch_body(body, body_dims, size)
    outs = bind(scan_p, *consts, *carry, *xs, body=batched, length=length, reverse=reverse,
                num_consts=num_consts, num_carry=num_carry)
    return outs, [0] * num_carry + [1] * (len(outs) - num_carry)


scan_p.jvp = _scan_jvp
scan_p.transpose = _scan_transpose
scan_p.batch = _scan_batch


def _scan_forwarding(*, body, length, reverse, num_consts, num_carry):
    # a carry the body returns as it got it is the initial carry; one it sets
    # to a const is that const (after at least one step); ys are stacked
    sources = B.passed_through(body)[:num_carry]
    return [s if s == num_consts + k or (s is not None and s < num_consts and length > 0)
            else None for k, s in enumerate(sources)] + [None] * (len(body.ir.outvars) - num_carry)


scan_p.forwarding = _scan_forwarding


def _scan_prune(used, *, body, length, reverse, num_consts, num_carry):
    # ys nobody reads are not computed; consts and xs the body then does not
    # read are no operands (every carry stays: the body passes it on)
    keep = [True] * num_carry + list(used[num_carry:])
    new, read = B.trimmed(body, keep)
    read[num_consts:num_consts + num_carry] = [True] * num_carry
    if all(keep) and all(read):
        return None
    params = dict(body=B.taking(new, read), length=length, reverse=reverse,
                  num_consts=sum(read[:num_consts]), num_carry=num_carry)
    return params, [i for i, r in enumerate(read) if r], [k for k, u in enumerate(keep) if u]


scan_p.prune = _scan_prune


# -- what users call -------------------------------------------------------------------------
def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """``f(carry, x) -> (carry, y)`` over the leading axis of ``xs``; returns
    ``(last carry, stacked ys)``, as ``jax.lax.scan``.  ``length`` is needed
    when ``xs`` is None; ``reverse`` runs from the last ``x`` to the first;
    ``unroll`` (an int >= 1 or a bool) is accepted for compatibility and
    changes nothing: the interpreter runs one step at a time."""
    if not callable(f):
        raise TypeError(f"scan: f must be a function{where(user_source_info())}")
    if not (isinstance(unroll, bool) or (isinstance(unroll, int) and unroll >= 1)):
        raise ValueError(f"scan: unroll must be a positive int or a bool, got {unroll!r}")
    x_leaves, x_tree = tree_flatten(xs)
    lengths = {get_aval(x).shape[0] if get_aval(x).shape else None for x in x_leaves}
    if None in lengths:
        raise ValueError(f"scan: every leaf of xs needs a leading axis to scan over"
                         f"{where(user_source_info())}")
    if length is not None:
        lengths.add(int(length))
    if len(lengths) != 1:
        raise ValueError(f"scan: the leading axes of xs (and length) disagree: {sorted(lengths)}"
                         if lengths else "scan: give xs or length" + where(user_source_info()))
    n = lengths.pop()
    x_examples = tree_unflatten(x_tree, [_unstacked(get_aval(x)) for x in x_leaves])
    init_leaves, init_tree = tree_flatten(init)
    body, hoisted, out_tree = B.trace_body(
        lambda carry, x: _pair(f(carry, x), init_tree), (init, x_examples), "scan")
    carry_avals = [B.abstract(c) for c in init_leaves]
    out_avals = body.out_avals
    (c_tree, y_tree) = _split_tree(out_tree)
    if c_tree != init_tree or out_avals[:len(carry_avals)] != carry_avals:
        raise TypeError(f"scan: f must return a carry of the structure and types of init: "
                        f"init is {B.types(carry_avals)} ({init_tree}), f returns "
                        f"{B.types(out_avals[:c_tree.num_leaves])} ({c_tree})"
                        f"{where(user_source_info())}")
    outs = bind(scan_p, *hoisted, *init_leaves, *x_leaves, body=body, length=n,
                reverse=bool(reverse), num_consts=len(hoisted), num_carry=len(init_leaves))
    k = len(init_leaves)
    outs = unshared(outs, init_leaves + x_leaves)   # (computed at once: never an operand)
    return tree_unflatten(init_tree, outs[:k]), tree_unflatten(y_tree, outs[k:])


def _pair(out, init_tree):
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(f"scan: f must return a pair (carry, y), got {type(out).__name__}"
                        f"{where(user_source_info())}")
    return tuple(out)


def _split_tree(tree):
    """The structures of the carry and of ``y`` in ``f``'s output pair."""
    return tree.children[0], tree.children[1]
