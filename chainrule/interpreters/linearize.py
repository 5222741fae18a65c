"""Linearize: partial evaluation of the JVP program.

The JVP program computes primals and tangents together.  Its primal part
is *known* (the concrete trace of ``f`` already computed every primal value)
and its tangent part is *unknown* (tangents are inputs still to come).
Partial evaluation runs the known part now and records the unknown part as
a new IR: ``jvp_walk`` with the known primal values and tangents that are
tracers of a fresh abstract trace.  Whatever a JVP rule computes from
primals alone (``cos x`` in ``sin``'s rule) has no tracer of that trace
among its arguments, so ``bind`` computes it on the spot (or records it in
an enclosing trace): it becomes a *residual*, a constant of the linear
program.  What remains in the new IR is linear in the tangents.
"""
from __future__ import annotations

from ..primitives._ad import Zero, instantiate
from ..tracer.core import new_trace
from ..tracer.ir import ClosedIR
from .jvp import jvp_walk


def linearize_ir(ir, values, active):
    """The linear program of ``ir`` at ``values`` in the inputs marked
    ``active``; the others' tangents are zero.

    Returns ``(primal outputs, linear ClosedIR)``.  The linear IR takes one
    tangent per active input and returns one tangent per output; its const
    vars hold the residuals.
    """
    with new_trace("linearize") as tangent_trace:
        tangents = [tangent_trace.new_arg(v.aval) if on else Zero(v.aval)
                    for v, on in zip(ir.invars, active)]
        primals_out, tangents_out = jvp_walk(ir, tangents, values=values)
        linear, residuals = tangent_trace.to_ir([instantiate(t) for t in tangents_out])
    return primals_out, ClosedIR(linear, residuals)
