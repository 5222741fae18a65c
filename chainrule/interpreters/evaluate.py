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

from ..tracer.core import Tracer, bind, set_source_hint
from ..tracer.source import note_source
from ..tracer.ir import Var


def eval_ir(ir, consts, args, release_consts=False):
    """Evaluate ``ir`` on ``consts`` and flat ``args``; return the flat outputs.

    With ``release_consts`` the caller hands the ``consts`` list over: it is
    emptied, so that the values it held (residuals, in a backward program)
    are freed as soon as their last reader has run.
    """
    if len(consts) != len(ir.constvars) or len(args) != len(ir.invars):
        raise TypeError(f"eval_ir: expected {len(ir.constvars)} consts and {len(ir.invars)} "
                        f"arguments, got {len(consts)} and {len(args)}")
    env = dict(zip(ir.constvars, consts))
    env.update(zip(ir.invars, args))
    if release_consts:
        consts.clear()
    if not any(isinstance(x, Tracer) for x in env.values()):
        # plain NumPy: nothing can become a tracer, call the implementations
        for eqn, dead in zip(ir.eqns, ir.last_uses()):
            try:
                out = eqn.primitive.impl(*[env[x] if type(x) is Var else x.value
                                           for x in eqn.inputs], **eqn.params)
            except Exception as e:   # e.g. a singular matrix: name the user's line
                note_source(e, eqn.primitive.name, eqn.source_info)
                raise
            if eqn.primitive.multiple_results:
                env.update(zip(eqn.outvars, out))
            else:
                env[eqn.outvars[0]] = out
            for v in dead:
                del env[v]
        return [env[x] if type(x) is Var else x.value for x in ir.outvars]
    # staged: bind records into the traces of the tracers among the values,
    # under the user's source line of the equation being re-traced
    previous = set_source_hint(None)
    try:
        for eqn, dead in zip(ir.eqns, ir.last_uses()):
            set_source_hint(eqn.source_info)
            out = bind(eqn.primitive, *[env[x] if type(x) is Var else x.value
                                        for x in eqn.inputs], **eqn.params)
            if eqn.primitive.multiple_results:
                env.update(zip(eqn.outvars, out))
            else:
                env[eqn.outvars[0]] = out
            for v in dead:
                del env[v]
    finally:
        set_source_hint(previous)
    return [env[x] if type(x) is Var else x.value for x in ir.outvars]
