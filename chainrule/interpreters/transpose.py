"""The transpose interpreter: reverse mode from a linear program.

A linear program maps tangents to tangents, ``y_dot = A x_dot``.  Its
transpose maps output cotangents to input cotangents, ``x_bar = A^T y_bar``.
``backward_pass`` walks the linear equations in reverse and applies each
primitive's transpose rule to the cotangent of its output, accumulating (by
``add``) the cotangents of variables read more than once (fan-out).  Zero
cotangents are symbols: an equation whose output cotangent is zero emits
nothing.

Each residual (a const of the linear program) is released right after the
last equation of the backward walk that reads it.
"""
from __future__ import annotations

import numpy as np

from ..primitives._ad import LinearInput, Zero, add_tangents, instantiate
from ..tracer.config import config
from ..tracer.core import Tracer, bind, get_aval, set_source_hint
from ..tracer.ir import ClosedIR, Var
from ..tracer.printer import one_line
from ..tracer.source import derivative_of, where
from ..tracer.tracing import trace_to_ir
from .env import environment, write


def backward_pass(ir, consts, cotangents, release_consts=False):
    """Cotangents of ``ir``'s inputs given ``cotangents`` of its outputs.

    ``ir`` is linear in its inputs; ``consts`` are the residuals.  With
    ``release_consts`` the caller hands the list over and it is emptied, so
    each residual is freed right after its last use in the backward walk.
    Returns a list with one cotangent per input (``Zero`` where none).
    """
    env = environment(ir, consts)   # residuals (and literals): the non-linear values
    if release_consts:
        consts.clear()
    read = env.__getitem__
    linear = set(ir.invars)
    # the linear equations, each with which of its inputs are linear and the
    # residuals to free once it is transposed.  A residual is freed once the
    # backward walk, which runs the linear equations in reverse, has
    # transposed the last one reading it: that is its *first* reader in
    # program order.
    steps = []
    seen = set()
    for eqn in ir.eqns:
        flags = [x in linear for x in eqn.inputs]
        if True in flags:
            first_reads = []
            for x, on in zip(eqn.inputs, flags):
                if not on and type(x) is Var and x not in seen:
                    seen.add(x)   # (an equation may read a residual twice)
                    first_reads.append(x)
            if len(eqn.outvars) == 1:
                linear.add(eqn.outvars[0])
            else:
                linear.update(eqn.outvars)
            steps.append((eqn, flags, first_reads))
        else:  # a residual computation inside the linear program: run it now
            write(env, eqn, bind(eqn.primitive, *map(read, eqn.inputs), **eqn.params))

    ct_env = {}
    for v, ct in zip(ir.outvars, cotangents):
        if v in linear and type(ct) is not Zero:
            ct_env[v] = add_tangents(ct_env.get(v, Zero(v.aval)), ct)
    previous = set_source_hint(None)
    # with debug_nans on, the rules run under the equation's source marked as
    # a derivative (``derivative_of``), which its message names
    mark = config.debug_nans
    try:
        for eqn, flags, first_reads in reversed(steps):
            prim = eqn.primitive
            if prim.multiple_results:
                cts = [ct_env.pop(v, None) for v in eqn.outvars]
                ct_out = None if all(ct is None for ct in cts) else \
                    [Zero(v.aval) if ct is None else ct for v, ct in zip(eqn.outvars, cts)]
            else:
                ct_out = ct_env.pop(eqn.outvars[0], None)
            if ct_out is not None:
                set_source_hint(derivative_of(eqn.source_info) if mark else eqn.source_info)
                if prim.transpose is None:
                    raise NotImplementedError(
                        prim.no_transpose_reason + where(eqn.source_info)
                        if prim.no_transpose_reason else
                        f"reverse mode: the primitive {one_line(prim.name)} has no transpose "
                        "rule (it is not linear)")
                args = [LinearInput(x.aval) if on else read(x)
                        for x, on in zip(eqn.inputs, flags)]
                for x, on, ct in zip(eqn.inputs, flags, prim.transpose(ct_out, *args,
                                                                       **eqn.params)):
                    if not on or ct is None or type(ct) is Zero:
                        continue
                    if (ct._var.aval if type(ct) is Tracer else get_aval(ct)).shape \
                            != x.aval.shape:
                        raise AssertionError(f"transpose rule of {one_line(prim.name)} returned a "
                                             f"cotangent of shape {get_aval(ct).shape} for an "
                                             f"input of shape {x.aval.shape}")
                    ct_env[x] = add_tangents(ct_env[x], ct) if x in ct_env else ct
            for v in first_reads:
                del env[v]
    finally:
        set_source_hint(previous)
    return [ct_env.get(v, Zero(v.aval)) for v in ir.invars]


def transpose_ir(linear: ClosedIR) -> ClosedIR:
    """The transposed (backward) program of a linear ``ClosedIR`` as IR:
    inputs are output cotangents, outputs input cotangents."""

    def backward(*cts):
        return [instantiate(c) for c in backward_pass(linear.ir, linear.consts, cts)]

    example = [np.zeros(a.shape, a.dtype) for a in linear.out_avals]
    return trace_to_ir(backward, example, name="transpose")
