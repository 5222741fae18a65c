"""The JVP interpreter: forward mode over an IR.

``jvp_walk`` walks the equations once, carrying for each variable its primal
value and its tangent, and applies each primitive's JVP rule
(``primitives/_ad.py``).  Tangents that are symbolic ``Zero``s are not
stored: an equation whose inputs all have zero tangents emits nothing, and
an input that cannot influence an output gives it a ``Zero``.

What the values are decides what the walk does:

* NumPy tangents: forward mode is computed right away (``cr.jvp``);
* tangents that are tracers of a fresh trace: the tangent computation is
  recorded as a new IR, linear in those tangents (``linearize``);
* primals and tangents that are tracers of one trace: the result is the
  JVP program itself as IR (``jvp_ir``).

Primal values come from a concrete trace's ``values`` when they are known,
so the forward computation is not done again; otherwise they are computed
here with ``bind``.

``ForwardMode`` applies the same step to each equation *while* a concrete
trace records it (the trace's ``on_equation`` hook).  That is how the AD
transforms run: the values are used the moment they are computed, and only
what the rules keep (the residuals) outlives the user's own references.
"""
from __future__ import annotations

import weakref

from ..primitives._ad import Zero
from ..tracer.core import bind, get_aval, set_source_hint
from ..tracer.ir import ClosedIR, Literal, Var


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
    equation as it is recorded.  ``tangents`` maps a var of that trace to its
    tangent (zeros are not stored)."""

    def __init__(self):
        # weakly keyed: a tangent lives as long as its variable, which lives
        # as long as the user's tracer (the AD trace keeps no equations)
        self.tangents = weakref.WeakKeyDictionary()

    def __call__(self, prim, atoms, primals, outvars, out, params, source):
        tangents = self.tangents
        tangents_in = [tangents.get(a) if type(a) is Var else None for a in atoms]
        if all(t is None for t in tangents_in):
            return
        previous = set_source_hint(source)
        try:
            tangents_out = jvp_equation(prim, params, primals, tangents_in, out)
        finally:
            set_source_hint(previous)
        for v, t in zip(outvars, tangents_out):
            if type(t) is not Zero:
                tangents[v] = t


def jvp_walk(ir, tangents, values=None, consts=(), primals=()):
    """Push ``tangents`` (one per input var; ``Zero`` allowed) through ``ir``.

    ``values``: var -> primal value for every var (from a concrete trace),
    or None to compute primals from ``consts`` and ``primals``.
    Returns ``(primal outputs, tangent outputs)``; zero tangents stay ``Zero``.
    """
    if values is None:
        values = dict(zip(ir.constvars, consts))
        values.update(zip(ir.invars, primals))
        compute = True
    else:
        compute = False
    tangent_env = {v: t for v, t in zip(ir.invars, tangents) if type(t) is not Zero}
    previous = set_source_hint(None)
    try:
        for eqn in ir.eqns:
            prim = eqn.primitive
            set_source_hint(eqn.source_info)
            if compute:
                out = bind(prim, *[x.value if type(x) is Literal else values[x]
                                   for x in eqn.inputs], **eqn.params)
                if prim.multiple_results:
                    values.update(zip(eqn.outvars, out))
                else:
                    values[eqn.outvars[0]] = out
            tangents_in = [tangent_env.get(x) if type(x) is Var else None for x in eqn.inputs]
            if all(t is None for t in tangents_in):
                continue
            primals_in = [x.value if type(x) is Literal else values[x] for x in eqn.inputs]
            out = ([values[v] for v in eqn.outvars] if prim.multiple_results
                   else values[eqn.outvars[0]])
            for v, t in zip(eqn.outvars, jvp_equation(prim, eqn.params, primals_in,
                                                       tangents_in, out)):
                if type(t) is not Zero:
                    tangent_env[v] = t
    finally:
        set_source_hint(previous)
    primals_out = [x.value if type(x) is Literal else values[x] for x in ir.outvars]
    tangents_out = [tangent_env.get(x, Zero(x.aval)) if type(x) is Var else Zero(x.aval)
                    for x in ir.outvars]
    return primals_out, tangents_out


def jvp_ir(closed: ClosedIR) -> ClosedIR:
    """The JVP program of ``closed``: inputs ``(*primals, *tangents)``,
    outputs ``(*primal outputs, *tangent outputs)``, as a new IR."""
    from ..primitives._ad import instantiate
    from ..transforms.make_ir import trace_to_ir
    n = len(closed.ir.invars)

    def jvp_program(*args):
        outs, tangents = jvp_walk(closed.ir, list(args[n:]), consts=closed.consts,
                                  primals=args[:n])
        return list(outs) + [instantiate(t) for t in tangents]

    avals = closed.in_avals
    import numpy as np
    example = [np.zeros(a.shape, a.dtype) for a in avals]
    return trace_to_ir(jvp_program, example + example, name="jvp")
