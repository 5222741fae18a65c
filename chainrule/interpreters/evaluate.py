"""The evaluate interpreter: run an IR, one equation after another.

An environment (``env.py``) maps each live variable to its value.  After
each equation, the variables it read for the last time are deleted
(``IR.last_uses``), so memory holds only what later equations still need:
for a reverse-mode program that is what frees each residual after its last
use.

Values may be tracers of an enclosing trace: then each ``bind`` records the
equation in that trace instead of computing it, which is how evaluating a
transformed program inside another transformation composes (see
``tracer/core.py``).  Without any tracer among the values, equations go
straight to their NumPy implementation.
"""
from __future__ import annotations

from ..tracer.aliasing import unshared
from ..tracer.config import config
from ..tracer.core import Tracer, bind, set_source_hint
from ..tracer.debug_nans import check_finite
from ..tracer.pytree import tree_unflatten
from ..tracer.source import note_source
from ..tracer.tracing import flatten_args
from .env import environment


def eval_ir(ir, consts, args, release_consts=False):
    """Evaluate ``ir`` on ``consts`` and flat ``args``; return the flat outputs.

    With ``release_consts`` the caller hands the ``consts`` list over: it is
    emptied, so that the values it held (residuals, in a backward program)
    are freed as soon as their last reader has run.
    """
    if len(consts) != len(ir.constvars) or len(args) != len(ir.invars):
        raise TypeError(f"eval_ir: expected {len(ir.constvars)} consts and {len(ir.invars)} "
                        f"arguments, got {len(consts)} and {len(args)}")
    env = environment(ir, consts, args)
    if release_consts:
        consts.clear()
    read = env.__getitem__
    # staged: bind records into the traces of the tracers among the values,
    # under the user's source line of the equation being re-traced; otherwise
    # nothing can become a tracer and NumPy computes each equation at once
    staged = any(isinstance(x, Tracer) for x in env.values())
    previous = set_source_hint(None) if staged else None
    # (staged, bind checks what it computes)
    debug_nans = config.debug_nans and not staged
    eqn = None
    try:
        for eqn, dead in zip(ir.eqns, ir.last_uses()):
            prim = eqn.primitive
            if staged:
                set_source_hint(eqn.source_info)
                out = bind(prim, *map(read, eqn.inputs), **eqn.params)
            else:
                out = prim.impl(*map(read, eqn.inputs), **eqn.params)
                if debug_nans:
                    check_finite(prim, list(map(read, eqn.inputs)), out, eqn.source_info)
            # write(env, eqn, out), inlined: this loop runs once per
            # equation of every program evaluated
            if prim.multiple_results:
                env.update(zip(eqn.outvars, out))
            else:
                env[eqn.outvars[0]] = out
            for v in dead:
                del env[v]
    except Exception as e:   # e.g. a singular matrix: name the user's line
        if not staged and eqn is not None:
            note_source(e, eqn.primitive.name, eqn.source_info)
        raise
    finally:
        if staged:
            set_source_hint(previous)
    return list(map(read, ir.outvars))


def eval_closed(closed, *args):
    """``ClosedIR.eval``: run ``closed`` on the traced function's arguments
    (checked against the program's inputs) and return its output structure."""
    flat = flatten_args(closed, args)
    outs = unshared(eval_ir(closed.ir, closed.consts, flat), flat + closed.consts)
    return outs if closed.out_tree is None else tree_unflatten(closed.out_tree, outs)
