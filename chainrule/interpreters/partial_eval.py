"""Partial evaluation: split a program by what is known now.

Given which inputs of ``ir`` are *unknown* (tangents still to come, say),
every equation that reads an unknown value is unknown too, and the rest is
known.  The program splits in two:

    known    (known inputs)              -> (known outputs, residuals)
    unknown  (residuals, unknown inputs) -> unknown outputs

The *residuals* are the known values that unknown equations read: the known
program computes them now, the unknown one receives them later.  Applied to
a JVP program with the primals known and the tangents unknown, the known
program is the primal computation and the unknown one the linear tangent
program: that is how the rules of the control-flow primitives linearize
their bodies (``linearize`` does the same for a whole function while
tracing, in ``transforms/ad.py``).  One pass over the equations, no
recursion.
"""
from __future__ import annotations

from ..tracer.ir import IR, Var


def partial_eval(ir: IR, unknowns, instantiate=None):
    """Split ``ir`` (no const vars) into ``(known, unknown, out_unknown,
    n_residuals)``.

    ``unknowns[i]``: input ``i`` is unknown.  ``instantiate[k]``: output
    ``k`` must come out of the unknown program even if it is known (it is
    then passed through as a residual).  ``out_unknown[k]`` says which
    program gives output ``k``: ``known`` returns the others, in order,
    followed by the ``n_residuals`` residuals; ``unknown`` takes the
    residuals followed by the unknown inputs, and returns the unknown outputs.
    """
    assert not ir.constvars, "partial_eval takes a program closed over nothing"
    unknown = {v for v, u in zip(ir.invars, unknowns) if u}
    known_eqns, unknown_eqns = [], []
    for eqn in ir.eqns:
        if any(x in unknown for x in eqn.inputs):
            unknown_eqns.append(eqn)
            unknown.update(eqn.outvars)
        else:
            known_eqns.append(eqn)
    residuals = {}   # known var -> None, in order of first use (a set that keeps order)
    for eqn in unknown_eqns:
        for x in eqn.inputs:
            if type(x) is Var and x not in unknown:
                residuals[x] = None
    instantiate = instantiate or [False] * len(ir.outvars)
    out_unknown = []
    for x, force in zip(ir.outvars, instantiate):
        is_unknown = x in unknown
        if force and not is_unknown:
            is_unknown = True
            if type(x) is Var:
                residuals[x] = None
        out_unknown.append(is_unknown)
    residuals = list(residuals)
    known_outs = [x for x, u in zip(ir.outvars, out_unknown) if not u]
    known = IR([], [v for v, u in zip(ir.invars, unknowns) if not u], known_eqns,
               known_outs + residuals).without_dead_code()
    unknown_ir = IR([], residuals + [v for v, u in zip(ir.invars, unknowns) if u],
                    unknown_eqns, [x for x, u in zip(ir.outvars, out_unknown) if u])
    return known, unknown_ir, out_unknown, len(residuals)
