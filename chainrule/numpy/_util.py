"""What every ``chainrule.numpy`` function needs: NumPy's dtype promotion
and broadcasting, made explicit as IR equations, and axis normalization.

Promotion asks NumPy itself (``ufunc.resolve_dtypes``), so chainrule's
dtypes are NumPy's by construction, Python scalars staying "weak" (NEP 50).
Broadcasting becomes ``broadcast_in_dim``; a Python scalar or 0-d constant
stays a 0-d literal, which binary primitives accept as it is.
"""
from __future__ import annotations

import functools
import operator

import numpy as np

from ..primitives import (broadcast_in_dim_p, concatenate_p, convert_element_type_p,
                          expand_dims_p)
from ..tracer.avals import shared_scalar, weak_aval
from ..tracer.core import Tracer, bind, plain_array
from ..tracer.errors import ShapeError
from ..tracer.source import user_source_info, where

_PY_SCALARS = (int, float, complex)


def shape_of(x):
    if isinstance(x, (Tracer, np.ndarray, np.generic)):
        return x.shape
    return () if type(x) in _PY_SCALARS or type(x) is bool else np.shape(x)


def dtype_of(x):
    if isinstance(x, (Tracer, np.ndarray, np.generic)):
        return x.dtype
    return np.asarray(x).dtype


def asarray(x):
    """Tracers stay tracers; nested lists or tuples holding tracers are
    stacked (``stack_nested``); everything else becomes a NumPy array."""
    if isinstance(x, (Tracer, np.ndarray)):
        return x
    if isinstance(x, (list, tuple)) and holds_tracer(x):
        return stack_nested(x)
    return np.asarray(x)


def holds_tracer(obj) -> bool:
    """Whether nested lists/tuples ``obj`` hold a tracer anywhere."""
    todo = [obj]
    while todo:
        x = todo.pop()
        if isinstance(x, Tracer):
            return True
        if isinstance(x, (list, tuple)):
            todo.extend(x)
    return False


def check_stackable(arrays):
    """``numpy.stack``'s checks: at least one array, all of one shape."""
    if not arrays:
        raise ValueError("need at least one array to stack")
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ShapeError(f"all input arrays must have the same shape, got {sorted(shapes)}"
                         f"{where(user_source_info())}")


def stack_nested(obj):
    """``numpy.array`` of nested lists/tuples holding tracers: each level's
    elements, of one shape, get a new leading axis (``expand_dims``) and are
    joined (``concatenate``, in their common dtype)."""
    items = [stack_nested(o) if isinstance(o, (list, tuple)) and holds_tracer(o)
             else o if isinstance(o, Tracer) else np.asarray(o) for o in obj]
    check_stackable(items)
    dtype = np.result_type(*[a.dtype for a in items])
    parts = [cast(bind(expand_dims_p, a, dimensions=(0,)), dtype) for a in items]
    return parts[0] if len(parts) == 1 else bind(concatenate_p, *parts, axis=0)


_WEAK_KIND = {"f": float, "i": int, "c": complex}


def _dtype_key(x):
    # Python scalars, and tracers of Python-scalar arguments, stay weak (their
    # Python type, not a dtype); bool is never weak
    if type(x) is Tracer:
        aval = x._var.aval
        return _WEAK_KIND.get(aval.dtype.kind, aval.dtype) if aval.weak_type else aval.dtype
    if type(x) in _PY_SCALARS:
        return type(x)
    if isinstance(x, Tracer) and x._var.aval.weak_type:
        return _WEAK_KIND.get(x.dtype.kind, x.dtype)
    return dtype_of(x)


def is_weak(x) -> bool:
    return type(x) in _PY_SCALARS or (isinstance(x, Tracer) and x._var.aval.weak_type)


def mark_weak(out, args):
    """An elementwise result of only weak operands is weak itself (``s * 2.0``
    for a Python-number argument ``s`` still promotes like a Python number)."""
    for a in args:
        if not (type(a) in _PY_SCALARS or (type(a) is Tracer and a._var.aval.weak_type)
                or is_weak(a)):
            return out
    if isinstance(out, Tracer):
        aval = out._var.aval
        out._var.aval = weak_aval(aval)
    return out


# (ufunc, operand dtypes) -> NumPy's loop dtypes; a program meets few
# combinations, but dtypes such as str96 or datetime64[ms] are many
_RESOLVE_CACHE_SIZE = 1024


_INT64 = np.dtype(np.int64)


@functools.lru_cache(maxsize=_RESOLVE_CACHE_SIZE)
def _resolve(ufunc, keys):
    return ufunc.resolve_dtypes(keys + (None,))


def loop_dtypes(ufunc, args, name=None):
    """NumPy's (input dtypes..., output dtype) for ``ufunc`` on ``args``."""
    keys = []
    for a in args:   # (_dtype_key, with its two common cases inline)
        t = type(a)
        if t is Tracer and not a._var.aval.weak_type:
            keys.append(a._var.aval.dtype)
        elif t in _PY_SCALARS:
            keys.append(t)
        else:
            keys.append(_dtype_key(a))
    try:
        dtypes = _resolve(ufunc, tuple(keys))
        if dtypes[0].kind == "O" and int in keys:
            # comparisons of Python ints resolve to NumPy's object loop (for
            # ints of any size); on values NumPy compares them as int64
            dtypes = _resolve(ufunc, tuple(_INT64 if k is int else k for k in keys))
        return dtypes
    except TypeError as e:  # NumPy's "no loop matching the specified signature"
        raise TypeError(f"numpy.{name or ufunc.__name__} does not support operands of dtype "
                        f"{', '.join(str(dtype_of(a)) for a in args)}: {e}"
                        f"{where(user_source_info())}") from None


def cast(x, dtype):
    """``x`` as ``dtype``: a ``convert_element_type`` equation for a tracer,
    an eager conversion for a constant."""
    if type(dtype) is not np.dtype and not isinstance(dtype, np.dtype):
        dtype = np.dtype(dtype)
    if isinstance(x, Tracer):
        return x if x._var.aval.dtype == dtype else bind(convert_element_type_p, x,
                                                          new_dtype=dtype)
    if type(x) in _PY_SCALARS or type(x) is bool:
        return shared_scalar(x, dtype)
    if isinstance(x, np.ndarray):   # (np.asarray would silently drop a subclass's meaning)
        x = plain_array(x, "an operand")
    x = np.asarray(x)
    return x if x.dtype == dtype else x.astype(dtype)


def broadcast_shapes(name, *shapes):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(f"{name}: operands with shapes {' '.join(map(str, shapes))} cannot be "
                         f"broadcast together{where(user_source_info())}") from None


def broadcast_to_shape(x, shape):
    """``x`` broadcast to ``shape`` by NumPy's rules, as a ``broadcast_in_dim``."""
    xshape = shape_of(x)
    if xshape == tuple(shape):
        return x
    lead = len(shape) - len(xshape)
    if lead < 0 or any(d != 1 and d != shape[lead + i] for i, d in enumerate(xshape)):
        raise ShapeError(f"cannot broadcast an array of shape {xshape} to shape {tuple(shape)}"
                         f"{where(user_source_info())}")
    return bind(broadcast_in_dim_p, x, shape=tuple(shape),
                broadcast_dimensions=tuple(range(lead, len(shape))))


def is_scalar_constant(x) -> bool:
    """A Python number, NumPy scalar or 0-d array: becomes an inline literal."""
    return (type(x) in _PY_SCALARS or type(x) is bool or isinstance(x, np.generic)
            or (isinstance(x, np.ndarray) and x.ndim == 0))


def elementwise_operands(name, args, dtypes):
    """Cast ``args`` to ``dtypes`` and broadcast them to their common shape;
    scalar constants stay 0-d literals."""
    if len(args) == 1:   # nothing to broadcast
        return [cast(args[0], dtypes[0])]
    # the common case, checked first: tracers of one shape and Python numbers
    # (which stay literals) have nothing to broadcast; they are cast inline
    shape = None
    for a in args:
        t = type(a)
        if t is Tracer:
            s = a._var.aval.shape
            if shape is None:
                shape = s
            elif s != shape:
                break
        elif t not in _PY_SCALARS and t is not bool:
            break
    else:
        out = []
        for a, d in zip(args, dtypes):
            if type(a) is not Tracer:
                out.append(shared_scalar(a, d))
            elif a._var.aval.dtype == d:
                out.append(a)
            else:
                out.append(cast(a, d))
        return out
    shape = None
    if len(args) > 1:
        shapes = {shape_of(a) for a in args}
        shapes.discard(())
        # one shape, or only scalars besides it: nothing to work out
        shape = shapes.pop() if len(shapes) == 1 else () if not shapes else \
            broadcast_shapes(name, *[shape_of(a) for a in args])
    out = []
    for a, d in zip(args, dtypes):
        a = cast(a, d)
        if shape is not None and not is_scalar_constant(a):
            a = broadcast_to_shape(a, shape)
        out.append(a)
    return out


def normalize_axis(axis, ndim, name="axis"):
    """An int axis in ``[-ndim, ndim)`` as a non-negative int (NumPy's AxisError otherwise)."""
    try:
        a = operator.index(axis)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {axis!r}") from None
    if not -ndim <= a < ndim:
        raise np.exceptions.AxisError(a, ndim)
    return a % ndim if ndim else 0


def normalize_axes(axis, ndim):
    """``None`` -> all axes; int or tuple -> a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = tuple(normalize_axis(a, ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError("duplicate value in 'axis'")
        return tuple(sorted(axes))
    return (normalize_axis(axis, ndim),)


def unsupported(name, **kwargs):
    """Raise for NumPy keyword arguments chainrule does not implement."""
    for k, v in kwargs.items():
        if v is not None:
            raise NotImplementedError(f"numpy.{name}: the argument {k}= is not supported by "
                                      f"chainrule{where(user_source_info())}")
