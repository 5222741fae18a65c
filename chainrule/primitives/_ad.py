"""The vocabulary of differentiation rules, shared by every primitive.

Symbolic zeros.  A tangent or cotangent known to be zero is ``Zero(aval)``,
not an array: rules skip it and emit nothing, and it becomes an array only
where an output must be materialised (``instantiate``).

JVP rules.  ``prim.jvp(primals, tangents, out, **params)`` returns the
output tangent (a list for multiple-result primitives).  ``primals`` are
the input values, ``out`` the already computed output value(s) (so that
``tanh'`` can reuse ``y``: ``1 - y**2``), and at least one tangent is not
a ``Zero``.  Rules compute with ``bind`` (through the helpers below), so
their result is again IR when the values are tracers.

Transpose rules.  A linear primitive's ``prim.transpose(ct, *args,
**params)`` gets the output cotangent and the inputs, the linear ones as
``LinearInput(aval)`` markers and the others as values (residuals); it
returns one cotangent per input (``None`` for the non-linear ones).

The helpers turn the common shapes of rules into one line:
``defjvp(prim, d_arg0, d_arg1, ...)`` sums one contribution per non-zero
input tangent; ``deflinear(prim, transpose)`` makes a primitive its own JVP.
"""
from __future__ import annotations

import numpy as np

from ..tracer.avals import ShapedArray, shared_scalar
from ..tracer.core import bind, get_aval
from ._ops import add, broadcast_in_dim


class Zero:
    """A symbolic zero tangent/cotangent of abstract value ``aval``."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self):
        return f"Zero({self.aval.str_short()})"


class LinearInput:
    """Marks a linear input of an equation being transposed (JAX calls it an
    undefined primal): its value is not known, its cotangent is wanted."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self):
        return f"LinearInput({self.aval.str_short()})"


def zeros(aval: ShapedArray):
    """A concrete zero array (a 0-d one becomes an inline literal)."""
    z = np.zeros(aval.shape, aval.dtype)
    return z[()] if not aval.shape else z


def instantiate(t):
    """A tangent as an array: ``Zero`` becomes zeros, anything else stays."""
    return zeros(t.aval) if type(t) is Zero else t


def add_tangents(a, b):
    """``a + b`` where either may be a symbolic zero."""
    if type(a) is Zero:
        return b
    if type(b) is Zero:
        return a
    return add(a, b)


def scalar(value, like):
    """``value`` as a 0-d constant of ``like``'s dtype (an inline literal)."""
    dtype = get_aval(like).dtype
    if type(value) in (int, float, bool, complex):
        return shared_scalar(value, dtype)
    return np.asarray(value, dtype)[()]


def defjvp(prim, *partials):
    """JVP rule from one partial per input: ``partial(t, *primals, out, **params)``
    is the contribution of that input's tangent ``t`` (None: not differentiable)."""

    def rule(primals, tangents, out, **params):
        total = None
        for t, partial in zip(tangents, partials):
            if type(t) is Zero or partial is None:
                continue
            term = partial(t, *primals, out, **params)
            total = term if total is None else add_tangents(total, term)
        if total is None:
            return Zero(get_aval(out))
        shape = get_aval(out).shape
        if get_aval(total).shape != shape:  # a scalar operand's tangent
            total = broadcast_in_dim(total, shape, ())
        return total

    prim.jvp = rule
    return rule


def defzero(prim):
    """Piecewise-constant or non-float output: its tangent is always zero."""

    def rule(primals, tangents, out, **params):
        if prim.multiple_results:
            return [Zero(get_aval(o)) for o in out]
        return Zero(get_aval(out))

    prim.jvp = rule
    return rule


def deflinear(prim, transpose):
    """A primitive linear in all its inputs: its JVP applies it to the tangents."""

    def rule(primals, tangents, out, **params):
        return bind(prim, *[instantiate(t) for t in tangents], **params)

    prim.jvp = rule
    prim.transpose = transpose
    return rule


def is_linear(x) -> bool:
    return type(x) is LinearInput
