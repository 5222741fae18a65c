"""Bodies: the sub-programs a control-flow primitive holds in its params.

A body is a ``ClosedIR`` whose constants are NumPy arrays (the arrays the
user's function read), never tracers: a traced value the function closed
over is *hoisted*, made an explicit input of the body and an operand of the
equation, so every traced value an equation depends on is one of its
inputs and each transform sees it (``trace_body``).

The rules of a control-flow primitive transform its bodies with the
interpreters, each body a program of its own:

    jvp_body        (primals, tangents) -> (outputs, tangents of the outputs)
    linearize_body  the JVP split by partial evaluation into a known program
                    (primals -> residuals) and a linear one
                    (residuals, tangents -> tangents of the outputs)
    transpose_body  a linear body run backwards: (residuals, cotangents of
                    the outputs) -> cotangents of the linear inputs
    batch_body      a body on inputs with a batch axis, every output batched
                    along axis 0

Each is traced once into a new body by running an interpreter on the old one
with abstract tracers; nothing recurses over a program.
"""
from __future__ import annotations

import numpy as np

from ..interpreters.batch import batch_walk
from ..interpreters.evaluate import eval_ir
from ..interpreters.jvp import jvp_function
from ..interpreters.partial_eval import partial_eval
from ..interpreters.transpose import backward_pass
from ..primitives._ad import instantiate
from ..primitives._batch import bdim_to_front
from ..tracer.avals import ShapedArray
from ..tracer.core import Tracer, get_aval
from ..tracer.errors import ShapeError
from ..tracer.ir import IR, ClosedIR, Var
from ..tracer.pytree import tree_flatten, tree_unflatten
from ..tracer.source import user_source_info, where
from ..tracer.tracing import trace_to_ir


def abstract(x):
    """The abstract value of an operand, as a body's input is traced at."""
    aval = get_aval(x)
    return ShapedArray(aval.shape, aval.dtype, aval.weak_type)


def trace_body(fun, args_tree, name):
    """Trace ``fun(*args_tree)`` abstractly at the avals of the operands'
    leaves.  Returns ``(body, hoisted, out_tree)``: the body takes the hoisted
    traced values the function closed over, then the operands' leaves."""
    leaves, in_tree = tree_flatten(args_tree)
    examples = tree_unflatten(in_tree, [abstract(x) for x in leaves])
    closed = trace_to_ir(fun, tuple(examples), name=name)
    body, hoisted = hoist(closed)
    return body, hoisted, closed.out_tree


def hoist(closed: ClosedIR):
    """``closed`` with its traced constants made leading inputs: ``(body,
    hoisted values)``; NumPy constants stay constants of the body."""
    ir = closed.ir
    keep = [not isinstance(c, Tracer) for c in closed.consts]
    hoisted = [c for c, k in zip(closed.consts, keep) if not k]
    moved = [v for v, k in zip(ir.constvars, keep) if not k]
    body = IR([v for v, k in zip(ir.constvars, keep) if k], moved + ir.invars, ir.eqns,
              ir.outvars)
    return ClosedIR(body, [c for c, k in zip(closed.consts, keep) if k]), hoisted


def with_inputs(body: ClosedIR, avals, position):
    """``body`` taking extra unused inputs of ``avals`` at ``position`` (so that
    bodies traced apart take the same operands)."""
    ir = body.ir
    extra = [Var(a) for a in avals]
    invars = ir.invars[:position] + extra + ir.invars[position:]
    return ClosedIR(IR(ir.constvars, invars, ir.eqns, ir.outvars), body.consts)


def permute_inputs(body: ClosedIR, order) -> ClosedIR:
    """``body`` with its inputs taken in ``order`` (input ``order[k]`` first)."""
    ir = body.ir
    return ClosedIR(IR(ir.constvars, [ir.invars[k] for k in order], ir.eqns, ir.outvars),
                    body.consts)


def select_outputs(body: ClosedIR, keep) -> ClosedIR:
    """``body`` returning only the outputs marked in ``keep`` (and computing
    only what they need)."""
    ir = body.ir
    closed = ClosedIR(IR(ir.constvars, ir.invars, ir.eqns,
                         [x for x, k in zip(ir.outvars, keep) if k]), body.consts)
    return closed.without_dead_code()


def passed_through(body: ClosedIR) -> list:
    """For each output of ``body``, the index of the input it returns
    unchanged, or None (the ``forwarding`` rules of the primitives holding
    bodies, read by ``interpreters/passes.py``)."""
    position = {v: k for k, v in enumerate(body.ir.invars)}
    return [position.get(v) if type(v) is Var else None for v in body.ir.outvars]


def trimmed(body: ClosedIR, keep_outputs):
    """``body`` returning only the outputs marked in ``keep_outputs``, without
    the equations nothing then reads (those that may raise or hold bodies
    stay, for a later dead-code pass to judge), and a list marking the
    inputs it still reads (the ``prune`` rules of the primitives holding
    bodies, read by ``interpreters/passes.py``)."""
    ir = body.ir
    outvars = [x for x, k in zip(ir.outvars, keep_outputs) if k]
    live = {x for x in outvars if type(x) is Var}
    kept = []
    for eqn in reversed(ir.eqns):
        if eqn.primitive.may_raise or any(v in live for v in eqn.outvars) or any(
                isinstance(p, ClosedIR) or (isinstance(p, tuple) and any(
                    isinstance(q, ClosedIR) for q in p)) for p in eqn.params.values()):
            kept.append(eqn)
            live.update(x for x in eqn.inputs if type(x) is Var)
    kept.reverse()
    return ClosedIR(IR(ir.constvars, ir.invars, kept, outvars), body.consts), \
        [v in live for v in ir.invars]


def taking(body: ClosedIR, keep_inputs) -> ClosedIR:
    """``body`` taking only the inputs marked in ``keep_inputs`` (the others
    are unread)."""
    ir = body.ir
    return ClosedIR(IR(ir.constvars, [v for v, k in zip(ir.invars, keep_inputs) if k], ir.eqns,
                       ir.outvars), body.consts)


def types(avals):
    return "(" + ", ".join(a.str_short() for a in avals) + ")"


def check_same_outputs(what, names, bodies, trees):
    """Raise a TypeError naming both when two bodies' outputs differ in
    structure or type."""
    first = bodies[0].out_avals
    for name, body, tree in zip(names[1:], bodies[1:], trees[1:]):
        if tree != trees[0]:
            raise TypeError(
                f"{what}: {names[0]} and {name} must return the same structure, but "
                f"{names[0]} returns {trees[0]} and {name} returns {tree}"
                f"{where(user_source_info())}")
        if body.out_avals != first:
            raise TypeError(
                f"{what}: {names[0]} and {name} must return the same types, but "
                f"{names[0]} returns {types(first)} and {name} returns "
                f"{types(body.out_avals)}{where(user_source_info())}")


def eval_body(body: ClosedIR, args):
    return eval_ir(body.ir, body.consts, list(args))


def trace_program(fun, avals, name):
    """Trace ``fun`` at ``avals`` into a body (its constants are arrays: the
    interpreters' zeros and the body's own constants)."""
    closed = trace_to_ir(fun, tuple(avals), name=name)
    body, hoisted = hoist(closed)
    assert not hoisted, "a rule's body closed over a traced value"
    return body


# -- the JVP of a body, and its split into a known and a linear part ------------------
def jvp_body(body: ClosedIR, nonzero) -> ClosedIR:
    """``(primals, tangents of the inputs marked nonzero) -> (outputs, tangents
    of the floating-point outputs)``."""
    ir = body.ir
    avals = [v.aval for v in ir.invars] + [v.aval for v, nz in zip(ir.invars, nonzero) if nz]
    return trace_program(jvp_function(body, nonzero), avals, "jvp")


class Linearized:
    """A body's JVP split by partial evaluation: ``known`` maps the primals to
    the first ``keep`` primal outputs and the residuals, ``linear`` maps the
    residuals and the tangents to the tangents of the floating-point
    outputs.  ``residual_sources[k]`` is the index of the body input that
    residual ``k`` is, or None when the known program computes it (a loop
    can pass an input on instead of storing it)."""

    def __init__(self, known, linear, residual_avals, residual_sources):
        self.known, self.linear = known, linear
        self.residual_avals, self.residual_sources = residual_avals, residual_sources


def linearize_body(body: ClosedIR, nonzero, keep=0) -> Linearized:
    jvp = jvp_body(body, nonzero)
    n_in, n_out = len(body.ir.invars), len(body.ir.outvars)
    # open the constants as known inputs; of the primal outputs only the
    # first ``keep`` are wanted (a loop's carry: a cond gives its outputs itself)
    ir = jvp.ir
    opened = IR([], ir.constvars + ir.invars, ir.eqns, ir.outvars[:keep] + ir.outvars[n_out:])
    n_consts = len(ir.constvars)
    n_tangents = len(ir.invars) - n_in
    unknowns = [False] * (n_consts + n_in) + [True] * n_tangents
    known, linear, _, _ = partial_eval(opened, unknowns,
                                       instantiate=[False] * keep + [True] * (len(opened.outvars)
                                                                              - keep))
    # the constants become constants again, of both programs: a constant the
    # linear part reads is not a residual to pass
    consts = dict(zip(ir.constvars, jvp.consts))
    kept, residuals = known.outvars[:keep], [r for r in known.outvars[keep:] if r not in consts]
    known = IR(known.constvars, known.invars, known.eqns, kept + residuals).without_dead_code()
    primal_in = {v: k for k, v in enumerate(ir.invars[:n_in])}
    return Linearized(_close(known, consts), _close(linear, consts),
                      [r.aval for r in residuals], [primal_in.get(r) for r in residuals])


def _close(ir: IR, consts: dict) -> ClosedIR:
    """``ir`` with those of its inputs that are constants (in ``consts``) made
    const vars again."""
    const_in = [v for v in ir.invars if v in consts]
    return ClosedIR(IR(const_in, [v for v in ir.invars if v not in consts], ir.eqns,
                       ir.outvars), [consts[v] for v in const_in])


def join_linearized(parts):
    """Bodies linearized apart (the branches of a ``cond``) made to agree:
    every known program returns the residuals of all (zeros for the others'),
    every linear program takes them all."""
    all_avals = [a for p in parts for a in p.residual_avals]
    joined = []
    start = 0
    for p in parts:
        k = len(p.residual_avals)
        before, after = all_avals[:start], all_avals[start + k:]
        known = p.known

        def padded(*args, known=known, before=before, after=after):
            res = eval_body(known, args)
            return ([np.zeros(a.shape, a.dtype) for a in before] + list(res)
                    + [np.zeros(a.shape, a.dtype) for a in after])

        known = trace_program(padded, [v.aval for v in known.ir.invars], "linearize")
        linear = with_inputs(with_inputs(p.linear, after, k), before, 0)
        joined.append(Linearized(known, linear, all_avals, [None] * len(all_avals)))
        start += k
    return joined


# -- transposing a linear body ---------------------------------------------------------
def transpose_body(body: ClosedIR, linear) -> ClosedIR:
    """The transpose of ``body``, linear in the inputs marked ``linear``:
    ``(the other inputs, cotangents of the outputs) -> cotangents of the linear
    inputs`` (zeros where none)."""
    ir = body.ir
    residual_vars = [v for v, lin in zip(ir.invars, linear) if not lin]
    linear_vars = [v for v, lin in zip(ir.invars, linear) if lin]
    program = IR(list(ir.constvars) + residual_vars, linear_vars, ir.eqns, ir.outvars)
    n_res = len(residual_vars)

    def transposed(*args):
        cts = backward_pass(program, list(body.consts) + list(args[:n_res]), list(args[n_res:]))
        return [instantiate(c) for c in cts]

    avals = [v.aval for v in residual_vars] + [x.aval for x in ir.outvars]
    return trace_program(transposed, avals, "transpose")


# -- batching a body -----------------------------------------------------------------------
def batched_aval(aval, dim, size):
    if dim is None:
        return aval
    shape = list(aval.shape)
    shape.insert(dim, size)
    return ShapedArray(tuple(shape), aval.dtype)


def batch_body(body: ClosedIR, dims, size) -> ClosedIR:
    """``body`` on inputs batched along ``dims`` (int or None each), every
    output batched along axis 0."""
    ir = body.ir

    def batched(*args):
        outs, out_dims = batch_walk(ir, body.consts, list(args), list(dims))
        return [bdim_to_front(o, d, size) for o, d in zip(outs, out_dims)]

    avals = [batched_aval(v.aval, d, size) for v, d in zip(ir.invars, dims)]
    return trace_program(batched, avals, "vmap")


def check_operands(name, body: ClosedIR, avals):
    """A body's inputs against the operands it is given (the shape rules)."""
    if len(body.ir.invars) != len(avals):
        raise ShapeError(f"{name}: a body takes {len(body.ir.invars)} inputs, got {len(avals)}")
    for v, a in zip(body.ir.invars, avals):
        if v.aval != a:
            raise ShapeError(f"{name}: a body takes {types(body.in_avals)}, got {types(avals)}")
