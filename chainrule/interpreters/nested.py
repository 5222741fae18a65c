"""Programs inside programs: the bodies a control-flow equation holds in
its params, reached without recursion.

A pass over a program with control flow must rewrite the bodies too, and a
body may hold bodies of its own, to any depth.  ``rewrite_every_level``
runs a pass's one-level rewrite (``level(ir, consts, ctx) -> (ir,
consts)``, a loop over one program's equations) over all of them:

1. ``innermost_first`` collects every body with an explicit stack, each
   once (a body shared by several equations is one body), in post-order:
   a body comes after every body it holds;
2. each body is rewritten in that order, after the bodies in its
   equations' params are replaced by their rewritten versions
   (``with_new_bodies``), so a parent always sees its children done; a
   body the rewrite leaves alone stays the same object;
3. the program itself last.

The ``Context`` carries what the levels share: which rewritten bodies
hold an equation that may raise (so a dead control-flow equation around a
``cholesky`` is kept), and whether anything changed.
"""
from __future__ import annotations

from ..tracer.ir import IR, ClosedIR, Equation


def ir_of(program):
    """The IR of a ClosedIR, or the IR itself."""
    return program.ir if isinstance(program, ClosedIR) else program


def bodies_of(params):
    """The programs (``ClosedIR``/``IR``) held in an equation's params, alone
    or in tuples and lists."""
    found = []
    for value in params.values():
        for sub in (value if isinstance(value, (tuple, list)) else (value,)):
            if isinstance(sub, (ClosedIR, IR)):
                found.append(sub)
    return found


def innermost_first(program):
    """Every body nested in ``program`` (not ``program`` itself), each once,
    every body after the bodies it holds (an explicit-stack post-order)."""
    order, expanded = [], set()
    stack = [(program, False)]
    while stack:
        node, done = stack.pop()
        if done:
            if node is not program:
                order.append(node)
            continue
        if id(node) in expanded:      # (pushed again from another parent)
            continue
        expanded.add(id(node))
        stack.append((node, True))
        for eqn in ir_of(node).eqns:
            for body in bodies_of(eqn.params):
                if id(body) not in expanded:
                    stack.append((body, False))
    return order


def with_new_bodies(eqn, rewritten):
    """``eqn`` with the bodies in its params replaced by their rewritten
    versions (``rewritten``: id(old body) -> new body); ``eqn`` itself when
    none changed."""
    params = None
    for key, value in eqn.params.items():
        if isinstance(value, (ClosedIR, IR)):
            new = rewritten.get(id(value), value)
        elif isinstance(value, (tuple, list)) and any(isinstance(v, (ClosedIR, IR)) for v in value):
            new = type(value)(rewritten.get(id(v), v) if isinstance(v, (ClosedIR, IR)) else v
                              for v in value)
            if all(a is b for a, b in zip(new, value)):
                new = value
        else:
            continue
        if new is not value:
            params = dict(eqn.params) if params is None else params
            params[key] = new
    if params is None:
        return eqn
    return Equation(eqn.primitive, eqn.inputs, eqn.outvars, params, eqn.source_info)


class Context:
    """What a pass knows while it rewrites one program: which bodies (by id)
    may raise, and whether anything changed."""

    def __init__(self):
        self.raising = {}
        self.changed = False

    def may_raise(self, eqn) -> bool:
        """Whether ``eqn`` may raise: its primitive says so, or a body it holds
        has an equation that may."""
        if eqn.primitive.may_raise:
            return True
        return any(self.raising.get(id(b), False) for b in bodies_of(eqn.params))


def rewrite_every_level(program, level):
    """Run ``level(ir, consts, ctx) -> (ir, consts)`` over every body of
    ``program`` (innermost first) and over ``program``; return the new
    program and whether anything changed."""
    ctx = Context()
    rewritten = {}
    for body in innermost_first(program):
        new = _rewrite(body, level, rewritten, ctx, keep_if_same=True)
        rewritten[id(body)] = new
        ctx.raising[id(new)] = any(ctx.may_raise(e) for e in ir_of(new).eqns)
    return _rewrite(program, level, rewritten, ctx, keep_if_same=False), ctx.changed


def _rewrite(program, level, rewritten, ctx, keep_if_same):
    closed = isinstance(program, ClosedIR)
    ir = ir_of(program)
    eqns = [with_new_bodies(e, rewritten) for e in ir.eqns]
    bodies_changed = any(a is not b for a, b in zip(eqns, ir.eqns))
    before = ctx.changed
    ctx.changed = False
    new_ir, consts = level(IR(ir.constvars, ir.invars, eqns, ir.outvars),
                           list(program.consts) if closed else None, ctx)
    same = not ctx.changed and not bodies_changed
    ctx.changed = before or ctx.changed or bodies_changed
    if same and keep_if_same:
        return program
    if not closed:
        return new_ir
    return ClosedIR(new_ir, consts, program.in_tree, program.out_tree, program.static_argnums,
                    program.num_args)
