"""The registry of primitives, and the primitives as functions for writing rules.

Each primitive is defined once, in the module of its kind, with its rules
beside it.  But rules use primitives of other kinds: the transpose of
``broadcast_in_dim`` is a ``reduce_sum`` and that of ``reduce_sum`` a
``broadcast_in_dim``, a binary operation sums the cotangent of its scalar
operand, most JVPs multiply.  Were the primitive modules to import each
other's primitives, they would import one another in circles.  Instead
``_define.primitive`` registers every primitive here by name, and the
functions below look theirs up by name when a rule runs, after every module
has defined its primitives.  So each primitive module imports only the
vocabulary below it (this module, ``_define``, ``_ad``, ``_batch``,
``_matrix``) and no other primitive module: the modules can be read in any
order.  (``tests/test_primitives.py`` checks that every name looked up here
is a registered primitive.)
"""
from __future__ import annotations

from ..tracer.core import bind

PRIMITIVES: dict = {}   # name -> Primitive, filled by _define.primitive


def all_primitives() -> dict:
    """name -> Primitive, for every primitive defined (tests iterate it)."""
    return dict(PRIMITIVES)


# -- elementwise ---------------------------------------------------------------
def neg(x): return bind(PRIMITIVES["neg"], x)
def add(x, y): return bind(PRIMITIVES["add"], x, y)
def sub(x, y): return bind(PRIMITIVES["sub"], x, y)
def mul(x, y): return bind(PRIMITIVES["mul"], x, y)
def div(x, y): return bind(PRIMITIVES["div"], x, y)
def square(x): return bind(PRIMITIVES["integer_pow"], x, y=2)
def sqrt(x): return bind(PRIMITIVES["sqrt"], x)
def cos(x): return bind(PRIMITIVES["cos"], x)
def exp(x): return bind(PRIMITIVES["exp"], x)
def sin(x): return bind(PRIMITIVES["sin"], x)
def cosh(x): return bind(PRIMITIVES["cosh"], x)
def sinh(x): return bind(PRIMITIVES["sinh"], x)
def sign(x): return bind(PRIMITIVES["sign"], x)
def eq(x, y): return bind(PRIMITIVES["eq"], x, y)
def lt(x, y): return bind(PRIMITIVES["lt"], x, y)
def select(p, x, y): return bind(PRIMITIVES["select"], p, x, y)


def convert_element_type(x, new_dtype):
    return bind(PRIMITIVES["convert_element_type"], x, new_dtype=new_dtype)


# -- structural ----------------------------------------------------------------
def reshape(x, shape):
    return bind(PRIMITIVES["reshape"], x, shape=shape)


def transpose(x, permutation):
    return bind(PRIMITIVES["transpose"], x, permutation=permutation)


def broadcast_in_dim(x, shape, broadcast_dimensions):
    return bind(PRIMITIVES["broadcast_in_dim"], x, shape=shape,
                broadcast_dimensions=broadcast_dimensions)


def concatenate(*xs, axis):
    return bind(PRIMITIVES["concatenate"], *xs, axis=axis)


def slice_(x, start_indices, limit_indices, strides):
    """``x[start:limit:stride]`` per axis (the ``slice`` primitive)."""
    return bind(PRIMITIVES["slice"], x, start_indices=start_indices,
                limit_indices=limit_indices, strides=strides)


def pad(x, padding_value, padding_config):
    return bind(PRIMITIVES["pad"], x, padding_value, padding_config=padding_config)


# -- reductions, products, solves ----------------------------------------------
def reduce_sum(x, axes):
    return bind(PRIMITIVES["reduce_sum"], x, axes=tuple(axes))


def reduce_max(x, axes):
    return bind(PRIMITIVES["reduce_max"], x, axes=tuple(axes))


def dot_general(lhs, rhs, dimension_numbers):
    return bind(PRIMITIVES["dot_general"], lhs, rhs, dimension_numbers=dimension_numbers)


def solve(a, b):
    return bind(PRIMITIVES["solve"], a, b)


def triangular_solve(a, b, left_side=True, lower=True, transpose_a=False, unit_diagonal=False):
    return bind(PRIMITIVES["triangular_solve"], a, b, left_side=left_side, lower=lower,
                transpose_a=transpose_a, unit_diagonal=unit_diagonal)
