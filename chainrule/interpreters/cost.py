"""Counting the work of a program: flops per equation from its shapes.

Each primitive registers ``cost(in_avals, out_avals, **params)`` beside its
other rules (one flop per element for elementwise primitives, ``2 M N K``
for ``dot_general``, none for primitives that only move data).  Summing over
the equations gives the cost of a program; comparing the cost of a
function's program with that of its gradient's program shows the "cheap
gradient principle" of reverse mode.
"""
from __future__ import annotations


class IRCost:
    """The flops of a program, in total and by primitive."""

    def __init__(self, flops: int, by_primitive: dict):
        self.flops = flops
        self.by_primitive = by_primitive

    def __repr__(self):
        parts = ", ".join(f"{name}: {n:,}" for name, n in
                          sorted(self.by_primitive.items(), key=lambda kv: -kv[1]) if n)
        return f"IRCost({self.flops:,} flops; {parts})"


def ir_cost(ir) -> IRCost:
    """Flops of ``ir``: a loop over its equations, each counted by its
    primitive's cost rule."""
    total = 0
    by_primitive: dict = {}
    for eqn in ir.eqns:
        prim = eqn.primitive
        n = int(prim.cost([x.aval for x in eqn.inputs], [v.aval for v in eqn.outvars],
                          **eqn.params))
        total += n
        by_primitive[prim.name] = by_primitive.get(prim.name, 0) + n
    return IRCost(total, by_primitive)
