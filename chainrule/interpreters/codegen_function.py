"""One function of the generated module: a program or a body, written as
Python one equation at a time, with the buffers its values live in.

``FunctionWriter`` walks the equations once.  For each it asks the
equation's emitter (``emitters.py``) for a statement, or writes a
control-flow construct around the compiled bodies itself (``flow``): a
``cond`` as ``if``/``elif``/``else`` over branch functions (the index
clamped as ``cond``'s ``impl`` clamps it), a ``scan`` as a ``for`` loop
(backwards when ``reverse``) writing each step's ``y`` into a stacked
array made before the loop (or stacking them after it, as ``impl`` does,
where the stacked layout depends on theirs), a ``while`` as a ``while``
loop, ``checkpoint`` and the custom-rule calls as a call of their body.
After the statement it deletes the values the equation read for the last
time (``IR.last_uses``), so memory holds what later equations need, as in
the evaluate interpreter.

**Buffers.**  ``codegen_buffers.Buffers`` knows which buffers each value may
share and how it lays out its elements.  An elementwise ufunc writes its
result into an operand with ``out=`` (in place) when that operand dies at
this equation, has the result's shape, dtype and layout, is writeable (not
a broadcast) and is the only live value of one owned buffer.  Inputs are
never written, except the donated ones, and constants never are.

A body's outputs are summarized (``Summary``: which inputs each may share,
which of its own buffers, whether those are the body's constants), so that
the caller knows what a call returns: bodies are written before their
callers (``codegen.py`` orders them).  The program's outputs go through
``tracer.aliasing.unshared`` only when the analysis says one may share
memory with an input, a constant or another output, or may be read-only;
one that may be a body's constant is copied.
"""
from __future__ import annotations

import keyword

from ..primitives._ops import PRIMITIVES
from ..tracer.ir import ClosedIR, Var
from .codegen_buffers import Buffers, Unknown, canonical, order_of_array
from .emitters import (EXACT_UFUNCS, FRESH, INPLACE, READONLY, UNKNOWN, VIEW, broadcast_operand,
                       emitter_for, ints)

# control-flow primitives: the params that hold their bodies
FLOW_BODIES = {"cond": ("branches",), "scan": ("body",), "while": ("cond", "body"),
               "checkpoint": ("body",), "custom_jvp_call": ("call",),
               "custom_vjp_call": ("call",)}
_FLOW_INTS = {"scan": ("length", "num_consts", "num_carry"),
              "while": ("cond_nconsts", "body_nconsts")}


def flow_bodies(eqn):
    """The bodies a control-flow equation runs (compiled into functions of
    the module), or None for any other equation (compiled by its emitter)."""
    prim = eqn.primitive
    keys = FLOW_BODIES.get(prim.name)
    if keys is None or PRIMITIVES.get(prim.name) is not prim:
        return None
    bodies = []
    for key in keys:
        value = eqn.params.get(key)
        bodies.extend(value if isinstance(value, tuple) else (value,))
    if not bodies or not all(type(b) is ClosedIR for b in bodies):
        return None
    if not all(type(eqn.params.get(k)) is int for k in _FLOW_INTS.get(prim.name, ())):
        return None
    if prim.name == "scan" and type(eqn.params.get("reverse")) is not bool:
        return None
    return bodies


def local_name(name: str) -> str:
    """A printer name as a local variable (``if`` -> ``if_``; the printer's
    names are letters only, so no two collide and none starts with ``_``,
    which the module's own names do)."""
    return name + "_" if keyword.iskeyword(name) else name


def unpack(targets) -> str:
    """The left-hand side of an assignment of a sequence to ``targets``."""
    if not targets:
        return ""
    return ", ".join(targets) + ("," if len(targets) == 1 else "") + " = "


class Summary:
    """What a body returns, per output: the input positions whose memory it
    may share, its own buffers ``(id, owned, foreign)`` (foreign: may be the
    body's constant or another function's), and whether it is writeable."""

    __slots__ = ("inputs", "locals", "writeable")

    def __init__(self, inputs, local_ids, writeable):
        self.inputs, self.locals, self.writeable = inputs, local_ids, writeable


class FunctionWriter:
    """Writes the function ``fname`` computing ``closed`` into ``module``
    (``codegen.Module``): ``lines``, each with the equation it computes
    (``line_eqns``, for error messages)."""

    def __init__(self, module, closed, fname, names, program=False, donate=()):
        self.m, self.closed, self.ir = module, closed, closed.ir
        self.fname, self.program = fname, program
        self.names, self.taken, self.printed = {}, set(), names
        self.lines, self.line_eqns = [], []
        self.indent = "        " if program else "    "
        self.b = Buffers()
        self.input_ids, self.const_ids, self.start = {}, set(), {}
        for v in list(self.ir.constvars) + list(self.ir.invars):
            self.name_out(v)
        donated = set(donate)
        for k, v in enumerate(self.ir.invars):
            shape = v.aval.shape
            own = k in donated and bool(shape)
            if own:   # written only once it is known to be a writeable C-contiguous array
                self.emit(f"{self.names[v]} = _owned({self.names[v]}, "
                          f"{module.bind(v.aval.dtype)})", None)
            i = self.b.new(owned=own)
            if not own:
                self.input_ids[i] = k
            self.start[v] = i
            order = canonical(shape) if own or len(canonical(shape)) < 2 else Unknown()
            self.b.define(v, (i,), True, order, own)
        for v, c in zip(self.ir.constvars, closed.consts):
            i = self.b.new(owned=False)
            self.const_ids.add(i)
            self.start[v] = i
            self.emit(f"{self.names[v]} = {module.bind(c)}", None)
            self.b.define(v, (i,), True, order_of_array(c), False)
        self.top = len(self.lines)     # where the program may keep its inputs for the end
        self.lazy = self.lazy_broadcasts()

    # -- what emitters call ------------------------------------------------------------------
    def fn(self, *attrs):
        return self.m.fn(*attrs)

    def bind(self, value, hint="k"):
        return self.m.bind(value, hint)

    def lazy_broadcasts(self):
        """``broadcast_in_dim`` results read only by exact elementwise ufuncs
        that also read an operand of the full shape: NumPy broadcasts them
        implicitly there, so they need no ``broadcast_to`` (same values, as
        the ufunc rounds each element the same in any loop)."""
        broadcast = PRIMITIVES.get("broadcast_in_dim")
        readers, made = {}, set()
        for eqn in self.ir.eqns:
            for x in eqn.inputs:
                if type(x) is Var:
                    readers.setdefault(x, []).append(eqn)
            if eqn.primitive is broadcast:
                made.add(eqn.outvars[0])
        made.difference_update(v for v in self.ir.outvars if type(v) is Var)
        ns = self.m.namespace
        return {v for v in made if all(
            getattr(emitter_for(e.primitive, ns), "ufunc", None) in EXACT_UFUNCS
            and any(type(y) is Var and y not in made and y.aval.shape == e.outvars[0].aval.shape
                    for y in e.inputs)
            for e in readers.get(v, ()))}

    # -- writing -----------------------------------------------------------------------------
    def emit(self, line, eqn):
        self.lines.append(self.indent + line)
        self.line_eqns.append(eqn)

    def atom(self, x):
        return self.names[x] if type(x) is Var else self.m.bind(x.value)

    def name_out(self, v):
        """The local name of ``v``: the printer's, unless the printer gave it
        none (a value never read) or gave it to another value of this
        function too (it names a body printed twice afresh)."""
        name = self.printed.get(v)
        name = local_name(name) if name is not None else None
        if name is None or name in self.taken:
            name = self.m.fresh_name()
        self.taken.add(name)
        self.names[v] = name
        return name

    def write(self):
        """Write every equation, then the return statement."""
        for eqn, dead in zip(self.ir.eqns, self.ir.last_uses()):
            self.equation(eqn, dead)
        self.finish()
        return self

    def equation(self, eqn, dead):
        ins = [self.atom(x) for x in eqn.inputs]
        outs = [self.name_out(v) for v in eqn.outvars]
        bodies = flow_bodies(eqn)
        if bodies is not None:
            lines, results = getattr(self, "flow_" + eqn.primitive.name)(eqn, ins, outs, bodies)
        else:
            lines, results = self.statement(eqn, ins, outs, dead)
        for line in lines:
            self.emit(line, eqn)
        for v, result in zip(eqn.outvars, results):
            self.b.define(v, *result)
        gone = [v for v in dead if v in self.b.ids]
        for v in gone:
            self.b.kill(v)
        if gone:
            self.emit("del " + ", ".join(self.names[v] for v in gone), eqn)

    def statement(self, eqn, ins, outs, dead):
        """One assignment by the equation's emitter, and what its results
        are: ``(buffer ids, writeable, order, compact, vote)`` each."""
        b, x = self.b, (eqn.inputs[0] if eqn.inputs else None)
        if eqn.outvars and eqn.outvars[0] in self.lazy:
            kept, needs_reshape = broadcast_operand(eqn)
            expr = (f"{ins[0]}.reshape({ints(kept)})" if needs_reshape and x.aval.shape
                    else ins[0])
            order, _ = b.layout(eqn, "broadcast")
            vote = len(canonical(x.aval.shape)) > 1
            return [f"{outs[0]} = {expr}"], [(b.ids_of(x), False, order, False, vote)]
        emit = emitter_for(eqn.primitive, self.m.namespace)
        into = b.reusable(eqn, dead) if getattr(emit, "inplace", False) else None
        expr, kind, rule = emit(self, eqn, ins, None if into is None else self.names[into])
        line = (unpack(outs) if eqn.primitive.multiple_results else f"{outs[0]} = ") + expr
        if not outs:
            line = expr
        if eqn.primitive.multiple_results or kind == UNKNOWN:
            if kind == FRESH:       # new arrays, each its own
                return [line], [((b.new(owned=True),), True, Unknown(), False, True)
                                for _ in outs]
            # whatever impl returns: maybe an operand, a view of one, or new
            ids = tuple(b.shared(eqn.inputs)) + (b.new(owned=False),)
            return [line], [(ids, False, Unknown(), False, True) for _ in outs]
        order, compact = b.layout(eqn, rule)
        if kind == FRESH:
            return [line], [((b.new(owned=True),), True, order, compact, True)]
        if kind == INPLACE:
            return [line], [(b.ids[into], True, order, True, True)]
        assert kind in (VIEW, READONLY), kind
        writeable = kind == VIEW and b.writeable.get(x, True)
        vote = kind == VIEW or len(canonical(x.aval.shape)) > 1
        return [line], [(b.ids_of(x), writeable, order, compact, vote)]

    # -- control flow ------------------------------------------------------------------------
    def called(self, body, operands, mapping):
        """What each output of a call of ``body`` on ``operands`` may share
        (in this function's buffers) and whether it is writeable."""
        results = []
        for s in self.m.summaries[id(body)]:
            ids, writeable = set(), s.writeable
            for k in s.inputs:
                ids.update(self.b.ids_of(operands[k]))
                writeable = writeable and self.b.writeable.get(operands[k], True)
            for i, owned, foreign in s.locals:
                if i not in mapping:
                    mapping[i] = self.b.new(owned, foreign)
                ids.add(mapping[i])
            results.append((ids, writeable))
        return results

    def flow_results(self, per_output):
        """Results of control flow: what they may share; layout unknown."""
        return [(tuple(ids), w, Unknown(), False, True) for ids, w in per_output]

    def loop_results(self, eqn, body, count):
        """A loop's carry may be any operand (or a view of one: an ``x`` of a
        scan) or anything its body returns."""
        ids, writeable = self.b.shared(eqn.inputs), True
        for y in eqn.inputs:
            writeable = writeable and self.b.writeable.get(y, True)
        for got, w in self.called(body, [None] * len(body.ir.invars), {}):
            ids.update(got)
            writeable = writeable and w
        return self.flow_results([(ids, writeable)] * count)

    def flow_cond(self, eqn, ins, outs, branches):
        call = f"({', '.join(ins[1:])})"
        names = [self.m.body_name(b) for b in branches]
        if len(branches) == 1:
            lines = [unpack(outs) + names[0] + call]
        else:   # impl: branches[min(max(int(index), 0), n - 1)]
            lines = [f"_i = _int({ins[0]})", "if _i <= 0:", "    " + unpack(outs) + names[0] + call]
            for k, name in enumerate(names[1:-1], 1):
                lines += [f"elif _i == {k}:", "    " + unpack(outs) + name + call]
            lines += ["else:", "    " + unpack(outs) + names[-1] + call]
        ids, writeable = [set() for _ in outs], [True] * len(outs)
        for body in branches:
            for k, (got, w) in enumerate(self.called(body, eqn.inputs[1:], {})):
                ids[k].update(got)
                writeable[k] = writeable[k] and w
        return lines, self.flow_results(zip(ids, writeable))

    def flow_scan(self, eqn, ins, outs, bodies):
        p, (body,) = eqn.params, bodies
        n, nc, nk = p["length"], p["num_consts"], p["num_carry"]
        consts, carry, xs = ins[:nc], ins[nc:nc + nk], ins[nc + nk:]
        couts, youts = outs[:nk], outs[nk:]
        lines = [f"{', '.join(couts)} = {', '.join(carry)}"] if nk else []
        # impl: np.stack of the steps' ys.  A y with at most one axis longer
        # than 1 stacks into a C-ordered array: written into one made at
        # once; a larger one is stacked as impl stacks it (in its layout)
        stacked = [len(canonical(v.aval.shape[1:])) > 1 for v in eqn.outvars[nk:]]
        for y, v, whole in zip(youts, eqn.outvars[nk:], stacked):
            lines.append(f"{y} = []" if whole and n else
                         f"{y} = {self.fn('empty')}({ints(v.aval.shape)}, "
                         f"{self.bind(v.aval.dtype)})")
        if n > 0:
            temps = [f"_t{k}" for k in range(len(youts))]
            steps = f"_range({n - 1}, -1, -1)" if p["reverse"] else f"_range({n})"
            args = ", ".join(consts + couts + [f"{x}[_i]" for x in xs])
            lines += [f"for _i in {steps}:",
                      f"    {unpack(couts + temps)}{self.m.body_name(body)}({args})"]
            lines += [f"    {y}.append({t})" if whole else f"    {y}[_i] = {t}"
                      for y, t, whole in zip(youts, temps, stacked)]
            if temps:
                lines.append("del " + ", ".join(temps))
            for y, whole in zip(youts, stacked):
                if whole:
                    lines += [f"{y}.reverse()"] if p["reverse"] else []
                    lines.append(f"{y} = {self.fn('stack')}({y})")
        fresh = [((self.b.new(True),), True, Unknown() if whole else canonical(v.aval.shape),
                  True, True) for v, whole in zip(eqn.outvars[nk:], stacked)]
        return lines, self.loop_results(eqn, body, nk) + fresh

    def flow_while(self, eqn, ins, outs, bodies):
        p, (cond, body) = eqn.params, bodies
        nc, nb = p["cond_nconsts"], p["body_nconsts"]
        cconsts, bconsts, carry = ins[:nc], ins[nc:nc + nb], ins[nc + nb:]
        lines = [f"{', '.join(outs)} = {', '.join(carry)}"] if outs else []
        # impl: while bool(cond(...)[0]): carry = body(...)
        lines += [f"while {self.m.body_name(cond)}({', '.join(cconsts + outs)})[0]:",
                  f"    {unpack(outs)}{self.m.body_name(body)}({', '.join(bconsts + outs)})"]
        return lines, self.loop_results(eqn, body, len(outs))

    def flow_call(self, eqn, ins, outs, bodies):
        (body,) = bodies
        line = f"{unpack(outs)}{self.m.body_name(body)}({', '.join(ins)})"
        return [line], self.flow_results(self.called(body, eqn.inputs, {}))

    flow_checkpoint = flow_custom_jvp_call = flow_custom_vjp_call = flow_call

    # -- the end -------------------------------------------------------------------------
    def finish(self):
        outs = [self.atom(x) for x in self.ir.outvars]
        if not self.program:
            self.m.summaries[id(self.closed)] = [self.summary(x) for x in self.ir.outvars]
            self.emit("return (" + ", ".join(outs) + ("," if len(outs) == 1 else "") + ")", None)
            return
        # the program's results: copied where they may share memory (unshared)
        b, boundary = self.b, set(self.input_ids) | self.const_ids
        taken, shared, check = set(), set(), False
        for k, x in enumerate(self.ir.outvars):
            if type(x) is not Var:
                continue
            ids = set(b.ids[x])
            if any(b.foreign[i] for i in ids):
                outs[k] = f"_copy({outs[k]})"       # maybe a body's constant
                continue
            if ids & boundary or ids & taken or not b.writeable[x]:
                check = True
            shared |= ids & boundary
            taken |= ids
        result = "[" + ", ".join(outs) + "]"
        if check:
            # the inputs may be deleted by then: the function keeps them from the start
            kept = [self.names[v] for v in self.ir.invars if self.start[v] in shared]
            consts = [self.m.bind(c) for v, c in zip(self.ir.constvars, self.closed.consts)
                      if self.start[v] in shared]
            others = (["*_inputs"] if kept else []) + consts
            if kept:
                self.lines.insert(self.top, self.indent + "_inputs = (" + ", ".join(kept)
                                  + ("," if len(kept) == 1 else "") + ")")
                self.line_eqns.insert(self.top, None)
            result = f"_unshared({result}, [{', '.join(others)}])"
        self.emit("return " + result, None)

    def summary(self, x):
        if type(x) is not Var:
            return Summary((), (), True)
        inputs, local_ids = [], []
        for i in self.b.ids[x]:
            if i in self.input_ids:
                inputs.append(self.input_ids[i])
            else:
                local_ids.append((i, self.b.owned[i], self.b.foreign[i] or i in self.const_ids))
        return Summary(tuple(inputs), tuple(local_ids), self.b.writeable[x])
