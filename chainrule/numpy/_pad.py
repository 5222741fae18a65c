"""numpy.pad.

``mode='constant'``: the ``pad`` primitive, linear in the array *and* the
padding value together, so a traced ``constant_values`` gets a gradient
too (the sum of the cotangent over the padded border).  One value for all
sides is one ``pad`` equation; different values are padded axis by axis and
side by side, as NumPy does (later axes cover the corners).

``'edge'``, ``'reflect'``, ``'symmetric'``, ``'wrap'``: every padded element
is a copy of an element of the same row, so each padded axis is one
``gather`` with an index map (edge: clamp to ``[0, n-1]``; reflect: period
``2(n-1)`` mirrored without repeating the edge; symmetric: period ``2n``
with the edge repeated; wrap: modulo ``n``).  Its transpose, ``scatter_add``,
adds the cotangents of all copies of an element back onto it.
"""
from __future__ import annotations

import numpy as np

from .. import primitives as P
from ..tracer.core import Tracer, bind
from ..tracer.source import user_source_info, where
from ._util import asarray, cast, holds_tracer


def _index_map(mode, n, lo, hi):
    """For each position of the padded axis, the element of the original
    axis (length ``n``) it copies."""
    j = np.arange(-lo, n + hi)
    if mode == "edge":
        return np.clip(j, 0, n - 1)
    if mode == "wrap":
        return j % n
    if mode == "reflect":
        if n == 1:
            return np.zeros_like(j)
        period = 2 * (n - 1)
        m = j % period
        return np.where(m >= n, period - m, m)
    period = 2 * n   # symmetric
    m = j % period
    return np.where(m >= n, period - 1 - m, m)


def _widths(pad_width, ndim):
    widths = np.asarray(pad_width)
    if not np.issubdtype(widths.dtype, np.integer):
        if widths.size and not np.all(widths == np.round(widths)):
            raise TypeError("`pad_width` must be of integral type.")
        widths = widths.astype(np.int64)
    widths = np.broadcast_to(widths, (ndim, 2))
    if np.any(widths < 0):
        raise ValueError("index can't contain negative values")
    return [(int(lo), int(hi)) for lo, hi in widths]


def _constant_values(values, ndim, dtype):
    """The (before, after) padding value of each axis, as 0-d values of the
    array's dtype (tracers stay tracers): NumPy broadcasts
    ``constant_values`` to shape ``(ndim, 2)``."""
    if isinstance(values, (list, tuple)) and holds_tracer(values):
        # broadcast the nested lists by hand: stacking the tracers only to
        # take them apart again would add equations
        rows = [values] if all(not isinstance(r, (list, tuple)) for r in values) else values
        rows = list(rows) * ndim if len(rows) == 1 else list(rows)
        pairs = []
        for r in rows:
            r = list(r) if isinstance(r, (list, tuple)) else [r]
            pairs.append(r * 2 if len(r) == 1 else r)
        if len(pairs) != ndim or any(len(p) != 2 for p in pairs):
            raise ValueError(f"numpy.pad: constant_values cannot be broadcast to ({ndim}, 2)")
    else:
        if isinstance(values, Tracer):
            from ._shapes import broadcast_to
            values = broadcast_to(values, (ndim, 2))
        else:
            values = np.broadcast_to(np.asarray(values), (ndim, 2))
        pairs = [(values[i, 0], values[i, 1]) for i in range(ndim)]
    return [(cast(before, dtype), cast(after, dtype)) for before, after in pairs]


def pad(array, pad_width, mode="constant", **kwargs):
    """numpy.pad for modes 'constant', 'edge', 'reflect' (``reflect_type``
    'even'), 'symmetric' and 'wrap'; ``constant_values`` may be traced."""
    x = asarray(array)
    widths = _widths(pad_width, x.ndim)
    if callable(mode) or mode not in ("constant", "edge", "reflect", "symmetric", "wrap"):
        raise NotImplementedError(f"numpy.pad: mode={mode!r} is not supported by chainrule; use "
                                  "'constant', 'edge', 'reflect', 'symmetric' or 'wrap'"
                                  f"{where(user_source_info())}")
    allowed = {"constant": {"constant_values"}, "reflect": {"reflect_type"},
               "symmetric": {"reflect_type"}}.get(mode, set())
    extra = set(kwargs) - allowed
    if extra:
        raise ValueError(f"unsupported keyword arguments for mode '{mode}': {sorted(extra)}")
    if kwargs.get("reflect_type", "even") != "even":
        raise NotImplementedError("numpy.pad: reflect_type='odd' is not supported by chainrule"
                                  f"{where(user_source_info())}")
    if x.ndim == 0 or all(w == (0, 0) for w in widths):
        return x
    if mode == "constant":
        return _pad_constant(x, widths, kwargs.get("constant_values", 0))
    for axis, ((lo, hi), n) in enumerate(zip(widths, x.shape)):
        if lo == hi == 0:
            continue
        if n == 0:
            raise ValueError(f"can't extend empty axis {axis} using modes other than "
                             "'constant' or 'empty'")
        x = bind(P.gather_p, x, _index_map(mode, n, lo, hi), axis=axis)
    return x


def _pad_constant(x, widths, constant_values):
    scalar = (constant_values.ndim == 0 if isinstance(constant_values, Tracer)
              else not isinstance(constant_values, (list, tuple)) and np.ndim(constant_values) == 0)
    if not scalar:
        values = _constant_values(constant_values, x.ndim, x.dtype)
        flat = [v for pair in values for v in pair]
        same = (all(v is flat[0] for v in flat) if any(isinstance(v, Tracer) for v in flat)
                else len({v.item() for v in flat}) == 1)
        if not same:
            return _pad_sides(x, widths, values)
        constant_values = flat[0]
    config = tuple((lo, hi, 0) for lo, hi in widths)
    return bind(P.pad_p, x, cast(constant_values, x.dtype), padding_config=config)


def _pad_sides(x, widths, values):
    """Axis by axis, side by side, each with its own value (NumPy's order)."""
    for axis, ((lo, hi), (before, after)) in enumerate(zip(widths, values)):
        for width, value, side in ((lo, before, 0), (hi, after, 1)):
            if width:
                config = [(0, 0, 0)] * x.ndim
                config[axis] = (width, 0, 0) if side == 0 else (0, width, 0)
                x = bind(P.pad_p, x, value, padding_config=tuple(config))
    return x
