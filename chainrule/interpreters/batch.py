"""The batching interpreter: vmap over an IR.

``batch_walk`` evaluates a program whose inputs carry an extra batch axis.
Every variable's value is paired with the position of its batch axis, or
``None`` when it does not depend on the batched inputs.  An equation with
no batched input is evaluated as it is, once for all examples; the others go
through their primitive's batch rule (``primitives/_batch.py``), which
computes all examples with one equation on arrays with a batch axis.

Given tracers, the batched program is recorded as IR; given arrays, it is
computed.

Seed folding.  ``jacfwd`` batches the JVP over the standard basis: an input
whose batched value is the identity.  Such an input is passed as an
``IdentitySeed`` and kept symbolic: a primitive with a ``fold_identity``
rule (a matrix product) turns "the identity pushed through me" into its
other operand, rearranged, instead of multiplying by ``I``; any other
primitive gets the identity as an array.
"""
from __future__ import annotations

from ..primitives._batch import IdentitySeed
from ..tracer.core import bind, set_source_hint
from ..tracer.printer import one_line
from .env import environment, write


def batch_walk(ir, consts, args, dims):
    """Evaluate ``ir`` on ``args`` batched along ``dims`` (int or None each);
    returns ``(outputs, output batch dims)``."""
    env = environment(ir, consts, args)
    read = env.__getitem__
    # var -> position of its batch axis; absent (None): the same for every example
    bdims = {v: d for v, d in zip(ir.invars, dims) if d is not None}
    seeds = any(type(a) is IdentitySeed for a in args)
    previous = set_source_hint(None)
    try:
        for eqn, dead in zip(ir.eqns, ir.last_uses()):
            prim = eqn.primitive
            vals = list(map(read, eqn.inputs))
            in_dims = list(map(bdims.get, eqn.inputs))
            set_source_hint(eqn.source_info)
            folded = None
            if seeds and any(type(v) is IdentitySeed for v in vals):
                if prim.fold_identity is not None:
                    folded = prim.fold_identity(vals, **eqn.params)
                if folded is None:   # no shortcut: the identity as an array
                    for x, v in zip(eqn.inputs, vals):
                        if type(v) is IdentitySeed:
                            env[x] = v.materialize()
                    vals = list(map(read, eqn.inputs))
            if folded is not None:
                out, out_dims = folded
            elif all(d is None for d in in_dims):
                out, out_dims = bind(prim, *vals, **eqn.params), None
            else:
                if prim.batch is None:
                    raise NotImplementedError(f"vmap: the primitive {one_line(prim.name)} has "
                                              "no batch rule yet")
                out, out_dims = prim.batch(vals, in_dims, **eqn.params)
            write(env, eqn, out)
            if out_dims is not None:
                out_dims = out_dims if prim.multiple_results else [out_dims]
                bdims.update((v, d) for v, d in zip(eqn.outvars, out_dims) if d is not None)
            for v in dead:
                del env[v]
    finally:
        set_source_hint(previous)
    outs = [o.materialize() if type(o) is IdentitySeed else o for o in map(read, ir.outvars)]
    return outs, list(map(bdims.get, ir.outvars))
