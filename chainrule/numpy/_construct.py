"""Constructors whose arguments may be traced: full, arange, linspace,
meshgrid.  (``zeros``, ``ones``, ``eye``, ``identity`` take only shapes
and are NumPy's own: their results are constants.)

A traced fill value or endpoint enters the result linearly, so the result
is differentiable in it: ``full`` is a ``broadcast_in_dim`` of the value,
``arange(start, stop, step)`` is ``start + step * [0, 1, ..., n-1]`` and
``linspace`` is ``start + (stop - start) / div * [0, 1, ..., num-1]``.
The *length* of an ``arange`` depends on the bounds' values, so traced
bounds need concrete values (``grad``, ``jvp``; not ``make_ir``/``vmap``).
"""
from __future__ import annotations

import numpy as np

from ..tracer.core import Tracer
from ._shapes import broadcast_arrays, broadcast_to, concatenate, moveaxis, reshape
from ._util import asarray, cast, dtype_of, holds_tracer, shape_of, unsupported


def _traced(*args):
    return any(isinstance(a, Tracer) or (isinstance(a, (list, tuple)) and holds_tracer(a))
               for a in args)


def full(shape, fill_value, dtype=None, order="C", **kwargs):
    """numpy.full: ``fill_value`` (possibly traced) broadcast to ``shape``."""
    if not _traced(fill_value):
        return np.full(shape, fill_value, dtype=dtype, order=order, **kwargs)
    unsupported("full", like=kwargs.get("like"))
    value = asarray(fill_value)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return broadcast_to(cast(value, dtype if dtype is not None else value.dtype), shape)


def _value(x, what):
    return x._concrete(what) if isinstance(x, Tracer) else x


def arange(*args, dtype=None, **kwargs):
    """numpy.arange; traced ``start``/``step`` give ``start + step * i``
    (derivatives 1 and ``i``), ``stop`` only sets the length."""
    names = ("start", "stop", "step")
    given = dict(zip(names if len(args) > 1 else ("stop",), args))
    given.update({k: v for k, v in kwargs.items() if k in names})
    if not _traced(*given.values()):
        return np.arange(*args, dtype=dtype, **kwargs)
    unsupported("arange", like=kwargs.get("like"))
    if "stop" not in given:   # arange(start=n) counts up to n, as NumPy
        given["stop"] = given.pop("start")
    start, stop, step = given.get("start", 0), given["stop"], given.get("step", 1)
    what = "numpy.arange with traced bounds (they set the result's length)"
    template = np.arange(*[_value(v, what) for v in (start, stop, step)], dtype=dtype)
    from ._ufuncs import add, multiply
    dt = template.dtype
    return add(multiply(np.arange(template.size, dtype=dt), cast(step, dt)), cast(start, dt))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, **kwargs):
    """numpy.linspace, with NumPy's arithmetic: ``start + i * step`` with
    ``step = (stop - start) / div`` and the last sample exactly ``stop``
    (endpoint), for scalar or array (broadcast) endpoints."""
    if not _traced(start, stop):
        return np.linspace(start, stop, num, endpoint, retstep, dtype, axis, **kwargs)
    unsupported("linspace", **{k: v for k, v in kwargs.items() if k != "device"})
    from ._ufuncs import add, divide, floor, multiply, subtract
    num = int(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    div = num - 1 if endpoint else num
    # Python numbers promote weakly (NEP 50), as in NumPy's result_type
    keys = [a if type(a) in (int, float, complex) else None for a in (start, stop)]
    start, stop = asarray(start), asarray(stop)
    dt = np.result_type(*[dtype_of(a) if k is None else k for k, a in zip(keys, (start, stop))],
                        float(num))
    start, stop = cast(start, dt), cast(stop, dt)
    delta = subtract(stop, start)
    y = np.arange(0, num, dtype=dt).reshape((-1,) + (1,) * len(shape_of(delta)))
    if div > 0:
        step = divide(delta, np.asarray(div, dt)[()])
        y = multiply(y, step)
    else:
        step = np.nan
        y = multiply(y, delta)
    y = add(y, start)
    if endpoint and num > 1:   # NumPy sets the last sample to stop exactly
        last = reshape(broadcast_to(stop, y.shape[1:]), (1,) + y.shape[1:])
        y = concatenate([y[:-1], last], axis=0)
    if axis != 0:
        y = moveaxis(y, 0, axis)
    if dtype is not None and np.issubdtype(dtype, np.integer):
        y = floor(y)
    y = cast(y, dt if dtype is None else dtype)
    return (y, step) if retstep else y


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """numpy.meshgrid: each input flattened along its own axis (``reshape``)
    and, unless ``sparse``, broadcast to the common grid (``broadcast_in_dim``,
    whose transpose sums the gradient over the copies)."""
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    ndim = len(xi)
    ones = (1,) * ndim
    out = [reshape(asarray(x), ones[:i] + (-1,) + ones[i + 1:]) for i, x in enumerate(xi)]
    if indexing == "xy" and ndim > 1:
        out[0] = reshape(out[0], (1, -1) + ones[2:])
        out[1] = reshape(out[1], (-1, 1) + ones[2:])
    if not sparse:
        out = broadcast_arrays(*out)
    return tuple(out)
