"""What the compiler knows about the memory of each value: which buffers it
may share, and in what order it lays out its elements.

**Buffers.**  A value is known by the set of buffer ids whose memory it may
share: an input's, a constant's, one an equation allocated (*owned*: only
this function holds it), or one of unknown origin (*foreign*: a body's
constant, say).  A view shares its operand's set; an implementation that
may return an operand shares all its operands' sets.  ``refs`` counts the
live values of each buffer.

**Layout.**  Writing a ufunc's result into a dead operand (``out=x``)
gives the values NumPy would compute anyway, but in ``x``'s layout, and a
later reduction or matrix product sums in memory order: the last bit of its
result depends on the layout.  So ``x`` is reused only where NumPy would
allocate the result with ``x``'s very strides: ``x`` is *compact* (an
allocation, positive strides) and its *order* (the order of its axes of
size > 1, outermost first) is the order NumPy's ``order="K"`` picks for the
result: the order all its full-shape operands share (broadcast operands
with a single non-trivial axis, and scalars, have no say), C when none has
a say.  An order is a tuple of axes when known, or an ``Unknown`` token,
which two values share only when their layouts are known to be equal (a
ufunc of an input has the input's unknown order).  Matrix products are C,
reductions keep their operand's order, views move it (``layout``).
"""
from __future__ import annotations

import numpy as np

from ..tracer.ir import Var


class Unknown:
    """An order not known when compiling; equal only to itself."""

    __slots__ = ()


_CANONICAL: dict = {}


def canonical(shape):
    """C order: the axes of size > 1, outermost first."""
    found = _CANONICAL.get(shape)
    if found is None:
        if len(_CANONICAL) > 4096:    # (shapes of all programs compiled: bounded)
            _CANONICAL.clear()
        found = _CANONICAL[shape] = tuple(i for i, d in enumerate(shape) if d != 1)
    return found


def order_of_array(x):
    """The order of an array known now (a constant): C when it is
    C-contiguous, else unknown."""
    if isinstance(x, np.ndarray) and len(canonical(x.shape)) > 1 and not x.flags.c_contiguous:
        return Unknown()
    return canonical(np.shape(x))


class Buffers:
    """The buffers and layouts of one function's values, kept up to date as
    the writer defines values and deletes them."""

    def __init__(self):
        self.owned, self.foreign, self.refs = [], [], []
        # per live value: its buffer ids, writeable, order, compact, and for a
        # broadcast its say in a ufunc's order (None: none)
        self.ids, self.writeable, self.order, self.compact, self.vote = {}, {}, {}, {}, {}

    def new(self, owned, foreign=False):
        self.owned.append(owned)
        self.foreign.append(foreign)
        self.refs.append(0)
        return len(self.owned) - 1

    def define(self, v, ids, writeable, order, compact, vote=True):
        self.ids[v], self.writeable[v] = tuple(ids), writeable
        self.order[v], self.compact[v], self.vote[v] = order, compact, vote
        for i in ids:
            self.refs[i] += 1

    def kill(self, v):
        for i in self.ids.pop(v):
            self.refs[i] -= 1
        del self.writeable[v], self.order[v], self.compact[v], self.vote[v]

    def ids_of(self, x):
        return self.ids[x] if type(x) is Var else ()

    def shared(self, atoms):
        """Every buffer any of ``atoms`` may share."""
        found = set()
        for x in atoms:
            found.update(self.ids_of(x))
        return found

    # -- layout ---------------------------------------------------------------------------
    def k_order(self, eqn):
        """The order NumPy gives a ufunc's new result (``order="K"``)."""
        shape = eqn.outvars[0].aval.shape
        c = canonical(shape)
        if len(c) < 2:
            return c
        votes = [self.order[x] for x in eqn.inputs if type(x) is Var
                 and len(x.aval.shape) == len(shape) and self.vote[x]]
        if not votes:
            return c
        return votes[0] if all(o == votes[0] for o in votes[1:]) else Unknown()

    def layout(self, eqn, rule):
        """``(order, compact)`` of an equation's (first) result by its
        emitter's layout ``rule``."""
        out = eqn.outvars[0].aval.shape
        x = eqn.inputs[0] if eqn.inputs else None
        order, compact = (self.order.get(x, canonical(out)), self.compact.get(x, False)) \
            if type(x) is Var else (canonical(out), False)
        if len(canonical(out)) < 2:    # one axis or none longer than 1: one layout
            return canonical(out), rule in ("k", "c", "reduce") or (rule == "same" and compact)
        if rule == "k":
            return self.k_order(eqn), True
        if rule == "c":
            return canonical(out), True
        if rule == "same":
            return order, compact
        if type(order) is not tuple:   # a reduction allocates; a transpose moves an unknown order
            return Unknown(), rule == "reduce" or (compact and rule == "transpose")
        if rule == "reduce":
            axes = eqn.params["axes"]
            renumber, kept = {}, 0
            for a in range(len(x.aval.shape)):
                if a not in axes:
                    renumber[a] = kept
                    kept += 1
            kept_order = [renumber[a] for a in order if a in renumber]
            return tuple(a for a in kept_order if out[a] != 1), True
        if rule == "transpose":
            inverse = {p: i for i, p in enumerate(eqn.params["permutation"])}
            return tuple(inverse[a] for a in order), compact
        if rule == "reshape":
            src = canonical(x.aval.shape)
            if [x.aval.shape[a] for a in src] == [out[a] for a in canonical(out)]:
                moved = dict(zip(src, canonical(out)))   # only axes of size 1 come or go
                return tuple(moved[a] for a in order), compact
            return (canonical(out), compact) if order == src else (Unknown(), False)
        if rule == "slice":
            return tuple(a for a in order if out[a] != 1), False
        if rule == "broadcast":
            dims = eqn.params["broadcast_dimensions"]
            return tuple(dims[a] for a in order if out[dims[a]] != 1), False
        return Unknown(), False

    def reusable(self, eqn, dead):
        """An operand whose buffer a ufunc's result may be written into: it
        dies here, has the result's shape and dtype, is writeable, the only
        live value of one owned buffer (no other operand shares it), compact
        and in the order NumPy would give the result."""
        out = eqn.outvars[0].aval
        if len(eqn.outvars) != 1 or not out.shape:
            return None
        for x in eqn.inputs:
            if (type(x) is Var and x in dead and x.aval.shape == out.shape
                    and x.aval.dtype == out.dtype and self.writeable[x] and self.compact[x]):
                ids = self.ids[x]
                if (len(ids) == 1 and self.owned[ids[0]] and self.refs[ids[0]] == 1
                        and all(y is x or ids[0] not in self.ids_of(y) for y in eqn.inputs)
                        and self.order[x] == self.k_order(eqn)):
                    return x
        return None
