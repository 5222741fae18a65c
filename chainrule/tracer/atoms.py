"""The atoms of the IR: what an equation reads.

    Var       an SSA variable; it has an abstract value and is defined once
    Literal   a scalar constant written inline (``2.0:f64[]``)

They live below ``ir.py`` so that the printer, which ``ir.py`` uses, can
tell them apart without importing the program classes.
"""
from __future__ import annotations

import numpy as np

from .avals import ShapedArray, aval_of_value


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
    """A ``Literal`` for a Python or NumPy scalar (or 0-d array), else None."""
    if isinstance(x, (bool, int, float, complex)):
        return Literal(np.asarray(x)[()])
    if isinstance(x, np.generic):
        return Literal(x)
    if isinstance(x, np.ndarray) and x.ndim == 0:
        return Literal(x[()])
    return None
