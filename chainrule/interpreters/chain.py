"""Cutting a linear program into a chain of segments, for Jacobian planning.

A linear program (the tangent program ``linearize`` records) maps input
tangents to output tangents.  At any point between two of its equations,
the *state* is the set of tangent variables computed so far that are still
needed; its *width* is their total size.  Cutting the program at points of
small width turns it into a chain ``J = A_k ... A_1`` of segment Jacobians,
``A_i`` of shape ``(width after, width before)``: the Jacobian chain of the
lecture notes, read off the IR.  ``cut_chain`` makes the cuts at the narrow
points (local minima of the width, and anything below ``min(n, m)``) and
measures each segment's work per direction, tangent and adjoint, from the
cost model its primitives register (``cost``, ``adjoint_cost``, ``view``,
``adjoint_view``; bytes from the avals).

Everything here is one pass over the equations: no recursion, no numbers.
"""
from __future__ import annotations

from ..tracer.ir import IR, Var


class Segment:
    """Equations ``[start, stop)`` of a linear program, as a function from
    the state before them (``in_vars``) to the state after (``out_vars``)."""

    __slots__ = ("start", "stop", "in_vars", "out_vars", "flops", "bytes", "adjoint_flops",
                 "adjoint_bytes", "residual_bytes", "stored_bytes", "n_eqns", "kind", "source")

    def __init__(self, start, stop, in_vars, out_vars):
        self.start, self.stop = start, stop
        self.in_vars, self.out_vars = in_vars, out_vars
        # flops and bytes per direction of a tangent and of an adjoint sweep;
        # residual bytes read once per sweep; stored bytes: the residuals
        # reverse mode keeps that were computed (not the function's own
        # constants, which exist anyway)
        self.flops = self.bytes = self.adjoint_flops = self.adjoint_bytes = 0
        self.residual_bytes = self.stored_bytes = self.n_eqns = 0
        self.kind = "dense"
        self.source = None

    @property
    def width_in(self):
        return sum(v.aval.size for v in self.in_vars)

    @property
    def width_out(self):
        return sum(v.aval.size for v in self.out_vars)

    def __repr__(self):
        return (f"Segment(eqns {self.start}:{self.stop}, {self.width_in} -> {self.width_out}, "
                f"{self.kind}, {self.flops} flops/direction)")


def _last_uses(ir):
    """var -> index of the last equation reading it (len(eqns) for outputs)."""
    last = {}
    for k, eqn in enumerate(ir.eqns):
        for x in eqn.inputs:
            if type(x) is Var:
                last[x] = k
    for x in ir.outvars:
        if type(x) is Var:
            last[x] = len(ir.eqns)
    return last


def state_widths(ir):
    """The live tangent state before each equation and after the last:
    ``(states, widths)``, each of length ``len(eqns) + 1``."""
    consts = set(ir.constvars)
    last = _last_uses(ir)
    live = [v for v in ir.invars]       # inputs are the state before anything runs
    states, widths = [], []
    width = sum(v.aval.size for v in live)
    for k, eqn in enumerate(ir.eqns):
        states.append(list(live))
        widths.append(width)
        if k == 0:  # inputs nothing reads leave the state right away
            unused = [v for v in live if v not in last]
            live = [v for v in live if v in last]
            width -= sum(v.aval.size for v in unused)
        dead = {x for x in eqn.inputs if type(x) is Var and x not in consts and last.get(x) == k}
        if dead:
            live = [v for v in live if v not in dead]
            width -= sum(v.aval.size for v in dead)
        for v in eqn.outvars:
            if last.get(v, -1) > k:
                live.append(v)
                width += v.aval.size
    outs = []
    for x in ir.outvars:
        if type(x) is Var and x not in consts and x not in outs:
            outs.append(x)
    states.append(outs)
    widths.append(sum(v.aval.size for v in outs))
    return states, widths


def _cut_points(widths, n, m):
    """Interior cut positions: local minima of the width (the last point of a
    flat stretch) and every point narrower than ``min(n, m)``."""
    T = len(widths) - 1
    cuts = [0]
    for p in range(1, T):
        w = widths[p]
        narrow = w < min(n, m)
        minimum = w <= widths[p - 1] and w < widths[p + 1]
        if (narrow or minimum) and cuts[-1] != p:
            cuts.append(p)
    cuts.append(T)
    return cuts


def _kind(ir, start, stop, in_vars, out_vars):
    """``explicit`` when the segment is one matrix product with a constant
    operand (its Jacobian *is* that operand), ``diagonal`` when it only
    scales elementwise, else ``dense``.  Both need one variable in and one
    out (a state that also carries other values through is dense)."""
    eqns = ir.eqns[start:stop]
    consts = set(ir.constvars)
    kinds = {getattr(e.primitive, "jacobian_kind", "dense") for e in eqns}
    if len(in_vars) != 1 or len(out_vars) != 1 or out_vars[0] is in_vars[0]:
        return "dense"
    if len(eqns) == 1 and kinds == {"explicit"} and eqns[0].outvars[0] is out_vars[0]:
        (eqn,) = eqns
        (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
        lhs, rhs = eqn.inputs
        if not lb and rhs is in_vars[0] and (type(lhs) is not Var or lhs in consts) \
                and sorted(rc) == list(range(rhs.aval.ndim)):
            return "explicit"
        if not lb and lhs is in_vars[0] and (type(rhs) is not Var or rhs in consts) \
                and sorted(lc) == list(range(lhs.aval.ndim)):
            return "explicit"
    if eqns and kinds == {"diagonal"} and out_vars[0].aval.shape == in_vars[0].aval.shape:
        return "diagonal"
    return "dense"


def cut_chain(ir: IR, n: int, m: int, computed=None):
    """The segments of the linear program ``ir`` (``n`` inputs, ``m``
    outputs, as total sizes), with their per-direction costs, and the cut
    positions (equation indices) that define them.  ``computed`` is the set
    of const vars holding computed residuals (default: all of them)."""
    states, widths = state_widths(ir)
    cuts = _cut_points(widths, n, m)
    return segments_at(ir, cuts, states, computed), cuts


def segments_at(ir: IR, cuts, states=None, computed=None):
    """The segments of ``ir`` between the given cut positions."""
    if states is None:
        states, _ = state_widths(ir)
    consts = set(ir.constvars)
    computed = consts if computed is None else computed
    counted = set()
    segments = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        seg = Segment(a, b, states[a], states[b])
        readers = {}
        for eqn in ir.eqns[a:b]:
            prim = eqn.primitive
            in_avals = [x.aval for x in eqn.inputs]
            out_avals = [v.aval for v in eqn.outvars]
            flops = int(prim.cost(in_avals, out_avals, **eqn.params))
            seg.flops += flops
            seg.adjoint_flops += flops if prim.adjoint_cost is None else \
                int(prim.adjoint_cost(in_avals, out_avals, **eqn.params))
            item = out_avals[0].dtype.itemsize
            moved = sum(a.size for a in out_avals) * item   # per direction
            for x in eqn.inputs:
                if type(x) is Var and x in consts:
                    seg.residual_bytes += x.aval.size * x.aval.dtype.itemsize
                    if x in computed and x not in counted:
                        counted.add(x)
                        seg.stored_bytes += x.aval.size * x.aval.dtype.itemsize
                elif type(x) is Var:
                    moved += x.aval.size * item
                    readers[x] = readers.get(x, 0) + 1
            seg.bytes += 0 if prim.view else moved
            adjoint_view = prim.view if prim.adjoint_view is None else prim.adjoint_view
            seg.adjoint_bytes += 0 if adjoint_view else moved
            seg.n_eqns += 1
            if seg.source is None and eqn.source_info is not None:
                seg.source = eqn.source_info
        # an adjoint sweep adds up the cotangents of a value read several times
        for x, count in readers.items():
            seg.adjoint_flops += (count - 1) * x.aval.size
            seg.adjoint_bytes += 3 * (count - 1) * x.aval.size * x.aval.dtype.itemsize
        seg.kind = _kind(ir, a, b, seg.in_vars, seg.out_vars)
        segments.append(seg)
    return segments
