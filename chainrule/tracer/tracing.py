"""Tracing a Python function into a ``ClosedIR``, and the argument and output
flattening every transform shares.

``trace`` is the one tracing entry point: it flattens the pytree arguments,
makes one tracer per array leaf on a fresh trace (abstract for ``make_ir``,
concrete for the AD transforms), calls ``f``, and closes the trace over its
outputs.  ``flatten_args`` checks arguments given to a traced program
against the inputs it was traced for.
"""
from __future__ import annotations

import numpy as np

from .avals import ShapedArray, weak_aval
from .core import Tracer, get_aval, new_trace, plain_array
from .errors import ShapeError
from .ir import ClosedIR
from .printer import one_line
from .pytree import tree_flatten, tree_unflatten
from .source import user_source_info, where


def check_leaf(x, what):
    """``x`` if it is an array leaf chainrule traces (a plain NumPy array:
    ``plain_array``), else a TypeError."""
    if isinstance(x, np.ndarray):
        return plain_array(x, f"{what}: an array")
    if isinstance(x, (Tracer, ShapedArray, np.generic, bool, int, float, complex)):
        return x
    raise TypeError(f"{what}: {one_line(type(x).__name__)} is not an array; chainrule traces "
                    "NumPy arrays, Python numbers and pytrees (tuples, lists, dicts) of them"
                    f"{where(user_source_info())}")


def _normalize_static(static_argnums, nargs):
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    out = []
    for i in static_argnums:
        if not -nargs <= i < nargs:
            raise ValueError(f"static_argnums {i} is out of range for {nargs} arguments")
        out.append(i % nargs)
    return tuple(sorted(set(out)))


def trace(f, args, *, static_argnums=(), concrete=False, name="make_ir", kwargs=None):
    """Trace ``f(*args, **kwargs)``; return ``(closed_ir, values)``.

    On a concrete trace each input tracer carries its argument's value, so
    values are computed while tracing and ``values`` maps every var of the
    IR to its value (NumPy, or a tracer of an enclosing trace); on an
    abstract trace only avals are known and ``values`` is None.
    """
    static = _normalize_static(static_argnums, len(args))
    dynamic = tuple(a for i, a in enumerate(args) if i not in static)
    flat, in_tree = tree_flatten(dynamic)
    flat = [check_leaf(x, name) for x in flat]
    with new_trace(name, concrete) as tr:
        tracers = new_args(tr, flat)
        dyn_args = iter(tree_unflatten(in_tree, tracers))
        full = [a if i in static else next(dyn_args) for i, a in enumerate(args)]
        out_flat, out_tree = flat_outputs(f(*full, **(kwargs or {})), f, name)
        ir, consts = tr.to_ir(out_flat)
    return ClosedIR(ir, consts, in_tree, out_tree, static, len(args)), tr.values


def trace_to_ir(f, args, *, static_argnums=(), concrete=False, name="make_ir",
                kwargs=None) -> ClosedIR:
    """Trace ``f(*args, **kwargs)`` and return its ``ClosedIR`` (see ``trace``)."""
    return trace(f, args, static_argnums=static_argnums, concrete=concrete, name=name,
                 kwargs=kwargs)[0]


def new_args(tr, flat):
    """One input tracer of ``tr`` per array leaf (with its value, on a
    concrete trace: an enclosing trace's tracer is its own value)."""
    tracers = []
    for x in flat:
        if isinstance(x, ShapedArray):  # only a shape and dtype: abstract tracing
            tracers.append(tr.new_arg(x, None))
            continue
        aval = get_aval(x)
        value = x if isinstance(x, Tracer) else np.asarray(x)
        # a Python number stays "weak" for dtype promotion, as in NumPy
        weak = type(x) in (int, float, complex) or (isinstance(x, Tracer) and x.aval.weak_type)
        tracers.append(tr.new_arg(weak_aval(aval) if weak else aval, value))
    return tracers


def flat_outputs(out, f, name):
    """The output leaves of a traced function, checked to be arrays."""
    out_flat, out_tree = tree_flatten(out)
    what = f"{name}: the output of {one_line(getattr(f, '__name__', 'f'))}"
    return [check_leaf(x, what) for x in out_flat], out_tree


def flatten_args(closed: ClosedIR, args):
    """The array leaves of ``args`` (the traced function's arguments, the
    static ones given again or left out), checked against the program's
    inputs: their structure, number and shapes."""
    if closed.num_args is not None and closed.static_argnums and len(args) == closed.num_args:
        args = tuple(a for i, a in enumerate(args) if i not in closed.static_argnums)
    flat, tree = tree_flatten(tuple(args))
    flat = [check_leaf(x, "ClosedIR.eval") for x in flat]
    if closed.in_tree is not None and tree != closed.in_tree:
        raise ShapeError(f"ClosedIR: arguments have structure {tree}, "
                         f"but the program was traced for {closed.in_tree}")
    invars = closed.ir.invars
    if len(flat) != len(invars):
        raise ShapeError(f"ClosedIR: expected {len(invars)} array arguments, got {len(flat)}")
    for k, (x, v) in enumerate(zip(flat, invars)):
        aval = get_aval(x)
        if aval.shape != v.aval.shape:
            raise ShapeError(f"ClosedIR: array argument {k} has shape {aval.shape}, "
                             f"but the program was traced for {v.aval.str_short()}; "
                             "trace it again for the new shape")
    return flat
