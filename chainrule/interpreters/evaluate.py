"""The evaluate interpreter: run an IR, one equation after another.

An environment maps each live variable to its value.  After each equation,
the variables it read for the last time are deleted (``IR.last_uses``), so
memory holds only what later equations still need: for a reverse-mode
program that is what frees each residual after its last use.

Values may be tracers of an enclosing trace: then each ``bind`` records the
equation in that trace instead of computing it, which is how evaluating a
transformed program inside another transformation composes (see
``tracer/core.py``).  Without any trace active, equations go straight to
their NumPy implementation.
"""
from __future__ import annotations

from ..tracer.core import Tracer, bind, current_trace
from ..tracer.ir import Literal, Var


def eval_ir(ir, consts, args):
    """Evaluate ``ir`` on ``consts`` and flat ``args``; return the flat outputs."""
    if len(consts) != len(ir.constvars) or len(args) != len(ir.invars):
        raise TypeError(f"eval_ir: expected {len(ir.constvars)} consts and {len(ir.invars)} "
                        f"arguments, got {len(consts)} and {len(args)}")
    env = dict(zip(ir.constvars, consts))
    env.update(zip(ir.invars, args))
    trace = current_trace()
    staged = trace is not None or any(isinstance(x, Tracer) for x in env.values())
    previous_hint = trace.source_hint if trace is not None else None
    try:
        for eqn, dead in zip(ir.eqns, ir.last_uses()):
            invals = [env[x] if type(x) is Var else x.value for x in eqn.inputs]
            prim = eqn.primitive
            if staged:
                if trace is not None:
                    trace.source_hint = eqn.source_info
                out = bind(prim, *invals, **eqn.params)
            else:
                out = prim.impl(*invals, **eqn.params)
            if prim.multiple_results:
                for v, o in zip(eqn.outvars, out):
                    env[v] = o
            else:
                env[eqn.outvars[0]] = out
            for v in dead:
                del env[v]
    finally:
        if trace is not None:
            trace.source_hint = previous_hint
    return [env[x] if type(x) is Var else x.value for x in ir.outvars]
