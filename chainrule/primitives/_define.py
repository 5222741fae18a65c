"""Helpers that turn the common shapes of primitives into one line each.

``unary``: elementwise ``y = f(x)``, same aval in and out.
``binary``: elementwise ``z = f(x, y)`` on operands of one dtype whose shapes
are equal, or where one of them is 0-d (a scalar operand, such as the
literal in ``mul x 2.0:f64[]``).  Broadcasting of non-scalar operands is made
explicit by ``chainrule.numpy`` with ``broadcast_in_dim`` before the binary
primitive sees them.
"""
from __future__ import annotations

import operator

import numpy as np

from ..tracer.avals import ShapedArray, is_float, short_dtype
from ..tracer.core import Primitive
from ..tracer.errors import ShapeError
from ._batch import batch_elementwise
from ._ops import PRIMITIVES


def primitive(name: str, impl, shape_rule, *, cost, multiple_results: bool = False) -> Primitive:
    """Create and register a primitive with its implementation, shape rule
    and flop count ``cost`` (one of the functions below or the primitive's
    own: there is no default, so each definition says how it is counted)."""
    p = Primitive(name, multiple_results)
    p.impl = impl
    p.shape_rule = shape_rule
    p.cost = cost
    PRIMITIVES[name] = p
    return p


# -- flop counts: cost(in_avals, out_avals, **params) -> floating-point operations
def cost_elementwise(in_avals, out_avals, **params):
    """One operation per output element."""
    return sum(a.size for a in out_avals)


def cost_free(in_avals, out_avals, **params):
    """Moves or copies elements without arithmetic."""
    return 0


def cost_reduce(in_avals, out_avals, **params):
    """One operation per input element."""
    return in_avals[0].size


def _float_only(name):
    def rule(x):
        if not is_float(x.dtype):
            raise ShapeError(f"{name} needs a floating-point operand, got {x.str_short()}; "
                             "convert it with .astype(float) first")
        return x
    return rule


def _same_aval(x):
    return x


def elementwise(p: Primitive) -> Primitive:
    """Mark ``p`` elementwise: batched by ``batch_elementwise``, with a
    diagonal Jacobian in each operand."""
    batch_elementwise(p)
    p.jacobian_kind = "diagonal"
    return p


# unary and binary primitives are elementwise: one flop per output element
# (``stop_gradient``, a unary copy, passes ``cost_free``)
def unary(name: str, impl, float_only: bool = True, cost=cost_elementwise) -> Primitive:
    return elementwise(primitive(name, impl, _float_only(name) if float_only else _same_aval,
                                 cost=cost))


def binary_shape(name, x, y, out_dtype=None):
    if x.dtype != y.dtype:
        raise ShapeError(f"{name} needs operands of one dtype, got {short_dtype(x.dtype)} "
                         f"and {short_dtype(y.dtype)}")
    if x.shape == y.shape or not y.shape:
        shape = x.shape
    elif not x.shape:
        shape = y.shape
    else:
        raise ShapeError(f"{name} needs operands of equal shapes (or a scalar), got "
                         f"{x.shape} and {y.shape}")
    return ShapedArray(shape, x.dtype if out_dtype is None else out_dtype)


# the ufuncs whose Python operator on two NumPy float64 scalars gives the same
# bits (IEEE arithmetic, correctly rounded both ways): ``Primitive.scalar_impl``
_SCALAR_OPERATORS = {np.add: operator.add, np.subtract: operator.sub,
                     np.multiply: operator.mul, np.divide: operator.truediv}


def binary(name: str, impl, out_dtype=None, float_only: bool = False) -> Primitive:
    def rule(x, y):
        if float_only and not is_float(x.dtype):
            raise ShapeError(f"{name} needs floating-point operands, got {x.str_short()}")
        return binary_shape(name, x, y, out_dtype)
    p = elementwise(primitive(name, impl, rule, cost=cost_elementwise))
    p.scalar_impl = _SCALAR_OPERATORS.get(impl)
    return p


def check_axes(name, axes, ndim):
    for a in axes:
        if not (isinstance(a, (int, np.integer)) and 0 <= a < ndim):
            raise ShapeError(f"{name}: axis {a} is out of range for an array of rank {ndim}")
    if len(set(axes)) != len(axes):
        raise ShapeError(f"{name}: repeated axis in {axes}")
