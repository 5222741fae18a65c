"""The JVP interpreter: forward mode, one equation at a time.

Each primitive's JVP rule (``primitives/_ad.py``) maps the primal inputs and
their tangents to the output tangents.  Tangents that are symbolic ``Zero``s
are not stored: an equation whose inputs all have zero tangents emits
nothing, and an output that no input tangent reaches gets a ``Zero``.  Two
drivers apply the rules:

* ``ForwardMode`` runs each equation's rule *while* a concrete trace records
  it (the trace's ``on_equation`` hook).  That is how the AD transforms run:
  with NumPy tangents forward mode is computed on the spot (``cr.jvp``);
  with tangents that are tracers of a second trace, that trace records the
  linear tangent program (``cr.linearize``, and ``cr.vjp``/``cr.grad``
  through it).  The values are used the moment they are computed, and only
  what the rules keep (the residuals) outlives the user's own references.
* ``jvp_walk`` walks a program that already exists, computing its primal
  values with ``bind`` on the way; ``jvp_ir`` uses it with primals and
  tangents that are tracers of one trace, so the result is the JVP program
  itself as IR (what ``cr.ad_stages`` shows).
"""
from __future__ import annotations

import numpy as np

from ..primitives._ad import Zero, instantiate
from ..tracer.config import config
from ..tracer.avals import is_float
from ..tracer.core import bind, get_aval, set_source_hint
from ..tracer.ir import ClosedIR
from ..tracer.source import derivative_of
from ..tracer.tracing import trace_to_ir
from .env import environment, write


def jvp_equation(prim, params, primals_in, tangents_in, out):
    """The output tangents of one equation (a list; ``Zero`` allowed), or None
    when every input tangent is zero (``None`` in ``tangents_in``) and the
    equation is skipped."""
    if all(t is None for t in tangents_in):
        return None
    tangents_in = [Zero(get_aval(x)) if t is None else t for x, t in zip(primals_in, tangents_in)]
    t = prim.jvp(primals_in, tangents_in, out, **params)
    return t if prim.multiple_results else [t]


class ForwardMode:
    """A concrete trace's ``on_equation`` hook: pushes tangents through each
    equation as it is recorded.  The trace's tracers carry the tangents
    (``Tracer.tangent``), so a tangent lives as long as the user's tracer."""

    def __init__(self):
        # with debug_nans on, the rules run under a source hint marked as the
        # derivative of the equation (``derivative_of``), which its message
        # names; off, the plain hint, at no cost
        self.mark = config.debug_nans

    def __call__(self, prim, primals, tangents_in, atoms, out, params, source):
        """The output tangents (None for a zero one) of one equation, given
        its input tangents (None for a zero one, not all of them)."""
        tangents_in = [Zero(a.aval) if t is None else t for a, t in zip(atoms, tangents_in)]
        previous = set_source_hint(derivative_of(source) if self.mark else source)
        try:
            t = prim.jvp(primals, tangents_in, out, **params)
        finally:
            set_source_hint(previous)
        if not prim.multiple_results:
            return [None if type(t) is Zero else t]
        return [None if type(x) is Zero else x for x in t]


def jvp_walk(ir, tangents, consts=(), primals=()):
    """Push ``tangents`` (one per input var; ``Zero`` allowed) through ``ir``
    at ``primals`` (with ``consts`` for its const vars), computing the primal
    values with ``bind`` on the way.

    Returns ``(primal outputs, tangent outputs)``; zero tangents stay ``Zero``.
    """
    env = environment(ir, consts, primals)
    read = env.__getitem__
    tangent_env = {v: t for v, t in zip(ir.invars, tangents) if type(t) is not Zero}
    previous = set_source_hint(None)
    mark = config.debug_nans   # (see ForwardMode)
    try:
        for eqn in ir.eqns:
            set_source_hint(eqn.source_info)
            primals_in = list(map(read, eqn.inputs))
            write(env, eqn, bind(eqn.primitive, *primals_in, **eqn.params))
            if mark:
                set_source_hint(derivative_of(eqn.source_info))
            tangents_in = list(map(tangent_env.get, eqn.inputs))  # None: a zero tangent
            out = (list(map(read, eqn.outvars)) if eqn.primitive.multiple_results
                   else read(eqn.outvars[0]))
            tangents_out = jvp_equation(eqn.primitive, eqn.params, primals_in, tangents_in, out)
            for v, t in zip(eqn.outvars, tangents_out or ()):
                if type(t) is not Zero:
                    tangent_env[v] = t
    finally:
        set_source_hint(previous)
    tangents_out = [tangent_env.get(x, Zero(x.aval)) for x in ir.outvars]
    return list(map(read, ir.outvars)), tangents_out


def jvp_ir(closed: ClosedIR) -> ClosedIR:
    """The JVP program of ``closed``: inputs ``(*primals, *tangents)``,
    outputs ``(*primal outputs, *tangent outputs)``, as a new IR.  Only
    floating-point values have tangents: an integer or boolean input has
    none (a symbolic zero, as in ``cr.jvp``) and an integer or boolean
    output gives none."""
    floats = [is_float(a.dtype) for a in closed.in_avals]
    example = [np.zeros(a.shape, a.dtype) for a in closed.in_avals]
    return trace_to_ir(jvp_function(closed, floats),
                       example + [e for e, f in zip(example, floats) if f], name="jvp")


def jvp_function(closed: ClosedIR, given):
    """The function ``(*primals, *tangents of the inputs marked in given) ->
    (*outputs, *tangents of the floating-point outputs)`` of ``closed``
    (the other inputs' tangents are symbolic zeros), to be traced into a
    JVP program."""
    ir, n = closed.ir, len(closed.ir.invars)

    def jvp_program(*args):
        it = iter(args[n:])
        tangents = [next(it) if g else Zero(v.aval) for v, g in zip(ir.invars, given)]
        outs, touts = jvp_walk(ir, tangents, consts=closed.consts, primals=args[:n])
        return list(outs) + [instantiate(t) for t, x in zip(touts, ir.outvars)
                             if is_float(x.aval.dtype)]
    return jvp_program
