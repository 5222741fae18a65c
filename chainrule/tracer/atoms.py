"""The atoms of the IR: what an equation reads.

    Var       an SSA variable; it has an abstract value and is defined once
    Literal   a scalar constant written inline (``2.0:f64[]``)

They live below ``ir.py`` so that the printer, which ``ir.py`` uses, can
tell them apart without importing the program classes.
"""
from __future__ import annotations

import numpy as np

from .avals import SHARED_LITERALS, ShapedArray, aval_of_value

_SHARED_MAX = 4096   # entries of the table of shared literals


class Var:
    """An SSA variable.  It has no name: the printer names variables in order
    of definition, so the same IR always prints the same text."""

    __slots__ = ("aval", "__weakref__")

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self):
        return f"Var({self.aval.str_short()})"


class Literal:
    """A scalar constant that the printer writes inline, as ``2.0:f64[]``."""

    __slots__ = ("value", "aval")

    def __init__(self, value):
        self.value = value  # a NumPy scalar of the literal's dtype
        self.aval = aval_of_value(value)

    def __repr__(self):
        return f"Literal({self.value}:{self.aval.str_short()})"


def literal_or_none(x):
    """A ``Literal`` for a Python or NumPy scalar (or 0-d array), else None.

    Literals are shared (``avals.SHARED_LITERALS``): that of a Python number
    by its type and value, that of a NumPy scalar by the scalar object, so
    ``x * 0.5`` in a loop, whose ``0.5`` becomes one shared NumPy scalar
    (``shared_scalar``), reads one ``0.5:f64[]``, and so does the equation an
    enclosing trace records from that literal's value.  (A Python NaN, which
    equals nothing, and a floating zero, which equals its negative, are not
    shared by value.)"""
    t = type(x)
    if t is float or t is int or t is bool or t is complex:
        key = (t, x)
        lit = SHARED_LITERALS.get(key)
        if lit is None:
            lit = _shared_literal(np.asarray(x)[()])
            if x == x and (x != 0 or t is int or t is bool):
                SHARED_LITERALS[key] = lit
        return lit
    if isinstance(x, np.generic):
        lit = SHARED_LITERALS.get(id(x))
        return lit if lit is not None and lit.value is x else _shared_literal(x)
    if isinstance(x, (bool, int, float, complex)):   # a subclass of a Python number
        return Literal(np.asarray(x)[()])
    if isinstance(x, np.ndarray) and x.ndim == 0:
        return Literal(x[()])
    return None


def _shared_literal(value) -> Literal:
    """A new literal of the NumPy scalar ``value``, found again by its id
    (the literal keeps the scalar alive, so the id stays its own)."""
    if len(SHARED_LITERALS) >= _SHARED_MAX:
        SHARED_LITERALS.clear()
    lit = SHARED_LITERALS[id(value)] = Literal(value)
    return lit
