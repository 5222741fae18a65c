"""Everyday NumPy functions built from the others: finite differences
(``diff``, ``ediff1d``, ``gradient``), comparisons with tolerance
(``isclose``, ``allclose``, ``array_equal``, ``array_equiv``), discrete
convolution (``convolve``, ``correlate``), ``polyval``, and the index
builders ``r_`` / ``c_``.

Nothing here is a new primitive: each function is the composition NumPy
itself computes, written with ``chainrule.numpy``'s slices, ufuncs and
reductions, so values (dtypes included) are NumPy's and derivatives follow
by the chain rule.  Two constructions are worth a word:

* A finite difference is a subtraction of two shifted slices, ``a[1:] -
  a[:-1]``; ``gradient`` is the centred difference ``(f[2:] - f[:-2]) / 2h``
  inside and one-sided differences of order 1 or 2 at the two ends, joined
  by ``concatenate``.  All are linear in the data.
* A full convolution ``out[k] = sum_j v[j] a[k - j]`` is a matrix-vector
  product ``T @ v`` with the Toeplitz matrix ``T[k, j] = a[k - j]`` of the
  longer operand, gathered from ``a`` padded with zeros by one constant
  index table.  ``same`` and ``valid`` are slices of it, as in NumPy's C
  loop.  Derivatives flow to both operands (``T`` is linear in ``a``).

Comparisons return booleans and carry no derivative.  ``allclose``,
``array_equal`` and ``array_equiv`` return a Python ``bool`` in NumPy; on
traced values they return a traced 0-d boolean instead (a Python ``bool``
would need the value while tracing).
"""
from __future__ import annotations

import numpy as np

from ..tracer.core import Tracer
from ._indexing import getitem, take
from ._linalg import matmul
from ._pad import pad
from ._reductions import all  # noqa: A004
from ._shapes import broadcast_to, concatenate, ravel, reshape, transpose
from ._ufuncs import (absolute, add, bitwise_and, bitwise_or, conjugate, divide, equal,
                      isfinite, isnan, less_equal, multiply, not_equal, subtract)
from ._util import asarray, cast, holds_tracer, normalize_axes, normalize_axis

_NO_VALUE = np._NoValue


def _along(ndim, axis, index):
    """An index tuple taking ``index`` (a slice or int) along ``axis`` only."""
    return tuple(index if i == axis else slice(None) for i in range(ndim))


# -- finite differences ----------------------------------------------------------
def diff(a, n=1, axis=-1, prepend=_NO_VALUE, append=_NO_VALUE):
    """numpy.diff: the ``n``-th forward difference ``a[1:] - a[:-1]`` along
    ``axis`` (``!=`` for booleans), after joining ``prepend`` / ``append``.
    Linear: the derivative is the same difference of the tangent."""
    if n == 0:
        return a
    if n < 0:
        raise ValueError("order must be non-negative but got " + repr(n))
    a = asarray(a)
    if a.ndim == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = normalize_axis(axis, a.ndim)
    parts = []
    for extra in (prepend, None, append):
        if extra is None:
            parts.append(a)
        elif extra is not _NO_VALUE:
            extra = asarray(extra)
            if extra.ndim == 0:
                extra = broadcast_to(extra, tuple(1 if i == axis else d
                                                  for i, d in enumerate(a.shape)))
            parts.append(extra)
    if len(parts) > 1:
        a = concatenate(parts, axis=axis)
    op = not_equal if a.dtype == np.bool_ else subtract
    upper, lower = _along(a.ndim, axis, slice(1, None)), _along(a.ndim, axis, slice(None, -1))
    for _ in range(n):
        a = op(getitem(a, upper), getitem(a, lower))
    return a


def ediff1d(ary, to_end=None, to_begin=None):
    """numpy.ediff1d: the differences of the flattened array, with
    ``to_begin`` / ``to_end`` (cast to its dtype) joined at the ends."""
    ary = ravel(asarray(ary))
    dtype = ary.dtype
    parts = []
    for extra, name in ((to_begin, "to_begin"), (None, None), (to_end, "to_end")):
        if name is None:
            parts.append(subtract(getitem(ary, slice(1, None)), getitem(ary, slice(None, -1))))
        elif extra is not None:
            extra = asarray(extra)
            if not np.can_cast(extra.dtype, dtype, casting="same_kind"):
                raise TypeError(f"dtype of `{name}` must be compatible with input `ary` under "
                                "the `same_kind` rule.")
            parts.append(cast(ravel(extra), dtype))
    return concatenate(parts) if len(parts) > 1 else parts[0]


def gradient(f, *varargs, axis=None, edge_order=1):
    """numpy.gradient: second-order centred differences inside, one-sided
    differences of order ``edge_order`` (1 or 2) at the ends.  Spacings are
    scalars (one for all axes or one per axis, traced ones included) or
    constant coordinate arrays.  One array for one axis, else a tuple."""
    f = asarray(f)
    if not np.issubdtype(f.dtype, np.inexact):
        f = cast(f, np.float64)
    axes = normalize_axes(axis, f.ndim) if not isinstance(axis, (tuple, list)) else \
        tuple(normalize_axis(ax, f.ndim) for ax in axis)
    if len(set(axes)) != len(axes):
        raise ValueError("repeated axis")
    if not varargs:
        spacings = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacings = list(varargs) * len(axes)
    elif len(varargs) == len(axes):
        spacings = [_spacing(d, f.shape[ax]) for d, ax in zip(varargs, axes)]
    else:
        raise TypeError("invalid number of arguments")
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    outs = []
    for ax, dx in zip(axes, spacings):
        if f.shape[ax] < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, "
                             "at least (edge_order + 1) elements are required.")
        outs.append(cast(_gradient_along(f, ax, dx, edge_order), f.dtype))
    return outs[0] if len(outs) == 1 else tuple(outs)


def _spacing(d, n):
    """A scalar spacing, or the differences of constant coordinates (a
    scalar again when they are uniform, as NumPy decides)."""
    if np.ndim(d) == 0:
        return d
    if isinstance(d, Tracer):
        raise NotImplementedError("numpy.gradient with traced coordinate arrays is not "
                                  "supported by chainrule; pass constant coordinates or a "
                                  "scalar spacing")
    d = np.asarray(d)
    if d.ndim != 1:
        raise ValueError("distances must be either scalars or 1d")
    if len(d) != n:
        raise ValueError("when 1d, distances must match the length of the corresponding "
                         "dimension")
    if np.issubdtype(d.dtype, np.integer):
        d = d.astype(np.float64)
    steps = np.diff(d)
    return steps[0] if (steps == steps[0]).all() else steps


def _gradient_along(f, ax, dx, edge_order):
    nd = f.ndim

    def s(index):
        return getitem(f, _along(nd, ax, index))

    def shaped(c):  # coefficients of the interior along ``ax``
        return c.reshape(tuple(-1 if i == ax else 1 for i in range(nd)))

    uniform = np.ndim(dx) == 0
    if uniform:
        inner = divide(subtract(s(slice(2, None)), s(slice(None, -2))), multiply(2.0, dx))
    else:
        dx1, dx2 = dx[:-1], dx[1:]
        a = -dx2 / (dx1 * (dx1 + dx2))
        b = (dx2 - dx1) / (dx1 * dx2)
        c = dx1 / (dx2 * (dx1 + dx2))
        inner = add(add(multiply(shaped(a), s(slice(None, -2))),
                        multiply(shaped(b), s(slice(1, -1)))),
                    multiply(shaped(c), s(slice(2, None))))
    first = slice(0, 1)
    if edge_order == 1:
        dx_0, dx_n = (dx, dx) if uniform else (dx[0], dx[-1])
        start = divide(subtract(s(slice(1, 2)), s(first)), dx_0)
        end = divide(subtract(s(slice(-1, None)), s(slice(-2, -1))), dx_n)
    else:
        if uniform:
            a, b, c = divide(-1.5, dx), divide(2.0, dx), divide(-0.5, dx)
        else:
            dx1, dx2 = dx[0], dx[1]
            a = -(2. * dx1 + dx2) / (dx1 * (dx1 + dx2))
            b = (dx1 + dx2) / (dx1 * dx2)
            c = - dx1 / (dx2 * (dx1 + dx2))
        start = add(add(multiply(a, s(first)), multiply(b, s(slice(1, 2)))),
                    multiply(c, s(slice(2, 3))))
        if uniform:
            a, b, c = divide(0.5, dx), divide(-2.0, dx), divide(1.5, dx)
        else:
            dx1, dx2 = dx[-2], dx[-1]
            a = (dx2) / (dx1 * (dx1 + dx2))
            b = - (dx2 + dx1) / (dx1 * dx2)
            c = (2. * dx2 + dx1) / (dx2 * (dx1 + dx2))
        start_end = (s(slice(-3, -2)), s(slice(-2, -1)), s(slice(-1, None)))
        end = add(add(multiply(a, start_end[0]), multiply(b, start_end[1])),
                  multiply(c, start_end[2]))
    dtype = np.result_type(start.dtype, inner.dtype, end.dtype)
    return concatenate([cast(start, dtype), cast(inner, dtype), cast(end, dtype)], axis=ax)


# -- comparisons with tolerance ---------------------------------------------------
def isclose(a, b, rtol=1.e-5, atol=1.e-8, equal_nan=False):
    """numpy.isclose: ``|a - b| <= atol + rtol |b|`` where ``b`` is finite,
    or ``a == b`` (equal infinities); NaNs equal each other if ``equal_nan``.
    Booleans: no derivative."""
    x = a if type(a) in (int, float, complex) else asarray(a)
    y = b if type(b) in (int, float, complex) else asarray(b)
    if isinstance(y, int):
        y = float(y)
    elif not isinstance(y, (float, complex)):
        y = cast(y, np.result_type(y.dtype, 1.0))
    for tol in (rtol, atol):
        if isinstance(tol, Tracer):
            raise NotImplementedError("numpy.isclose with a traced rtol or atol is not "
                                      "supported by chainrule; pass constants")
    result = bitwise_or(bitwise_and(less_equal(absolute(subtract(x, y)),
                                               add(atol, multiply(rtol, absolute(y)))),
                                    isfinite(y)),
                        equal(x, y))
    if equal_nan:
        result = bitwise_or(result, bitwise_and(isnan(x), isnan(y)))
    return result[()] if isinstance(result, np.ndarray) else result


def _truth(result):
    return bool(result) if not isinstance(result, Tracer) else result


def allclose(a, b, rtol=1.e-5, atol=1.e-8, equal_nan=False):
    """numpy.allclose: ``all(isclose(...))``; a traced 0-d boolean on traced values."""
    return _truth(all(isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def array_equal(a1, a2, equal_nan=False):
    """numpy.array_equal: same shape and equal elements (NaNs equal each
    other if ``equal_nan``); ``False`` at once if the shapes differ."""
    a1, a2 = asarray(a1), asarray(a2)
    if a1.shape != a2.shape:
        return False
    same = equal(a1, a2)
    if equal_nan and np.issubdtype(a1.dtype, np.inexact) and \
            np.issubdtype(a2.dtype, np.inexact):
        same = bitwise_or(same, bitwise_and(isnan(a1), isnan(a2)))
    return _truth(all(same))


def array_equiv(a1, a2):
    """numpy.array_equiv: equal after broadcasting; ``False`` if the shapes
    do not broadcast."""
    a1, a2 = asarray(a1), asarray(a2)
    try:
        np.broadcast_shapes(a1.shape, a2.shape)
    except ValueError:
        return False
    return _truth(all(equal(a1, a2)))


# -- convolution -------------------------------------------------------------------
_MODES = {0: "valid", 1: "same", 2: "full", "valid": "valid", "same": "same", "full": "full",
          "v": "valid", "s": "same", "f": "full"}


def _vector(x, name):
    x = asarray(x)
    if x.ndim == 0:
        x = reshape(x, (1,))
    if x.ndim != 1:
        raise ValueError(f"object too deep for desired array (numpy.{name} takes 1-d "
                         "sequences)")
    return x


def _full_convolution(a, v):
    """``out[k] = sum_j v[j] a[k - j]``, with ``len(a) >= len(v)``, as ``T @ v``
    where ``T[k, j] = a[k - j]`` (0 outside ``a``)."""
    n, m = a.shape[0], v.shape[0]
    padded = pad(a, (m - 1, m - 1))
    index = np.arange(n + m - 1)[:, None] - np.arange(m)[None, :] + (m - 1)
    return matmul(take(padded, index), v)


def _correlate(a, v, mode):
    """NumPy's ``multiarray.correlate2``: slide ``v`` along the longer
    operand (swapped and reversed if ``v`` is the longer)."""
    dtype = np.result_type(a.dtype, v.dtype)
    a, v = cast(a, dtype), cast(v, dtype)
    if np.issubdtype(dtype, np.complexfloating):
        v = conjugate(v)
    inverted = a.shape[0] < v.shape[0]
    if inverted:
        a, v = v, a
    n1, n2 = a.shape[0], v.shape[0]
    left = {"valid": 0, "same": n2 // 2, "full": n2 - 1}[mode]
    right = {"valid": 0, "same": n2 - n2 // 2 - 1, "full": n2 - 1}[mode]
    full = _full_convolution(a, getitem(v, slice(None, None, -1)))
    start = n2 - 1 - left
    out = getitem(full, slice(start, start + n1 - n2 + 1 + left + right))
    return getitem(out, slice(None, None, -1)) if inverted else out


def _mode(mode):
    try:
        return _MODES[mode]
    except (KeyError, TypeError):
        raise ValueError(f"mode must be one of 'valid', 'same', or 'full' (got {mode!r})") \
            from None


def convolve(a, v, mode="full"):
    """numpy.convolve: ``(a * v)[k] = sum_j a[j] v[k - j]``, modes ``full``,
    ``same`` (centred, the longer length) and ``valid``; differentiable in
    both operands."""
    a, v = _vector(a, "convolve"), _vector(v, "convolve")
    if v.shape[0] > a.shape[0]:
        a, v = v, a
    if a.shape[0] == 0:
        raise ValueError("a cannot be empty")
    if v.shape[0] == 0:
        raise ValueError("v cannot be empty")
    return _correlate(a, getitem(v, slice(None, None, -1)), _mode(mode))


def correlate(a, v, mode="valid"):
    """numpy.correlate: ``c[k] = sum_n a[n + k] conj(v[n])``, modes ``valid``
    (NumPy's default), ``same`` and ``full``; differentiable in both."""
    a, v = _vector(a, "correlate"), _vector(v, "correlate")
    if a.shape[0] == 0 or v.shape[0] == 0:
        raise ValueError("Array arguments cannot be empty")
    return _correlate(a, v, _mode(mode))


# -- polynomials -------------------------------------------------------------------
def polyval(p, x):
    """numpy.polyval by Horner's rule, ``y = y x + p[i]`` from the highest
    power down; differentiable in the coefficients and in ``x``."""
    p = asarray(p)
    x = asarray(x)
    y = cast(np.zeros(x.shape, x.dtype), x.dtype) if not isinstance(x, Tracer) else \
        multiply(x, np.zeros((), x.dtype)[()])
    for i in range(p.shape[0] if p.ndim else 0):
        y = add(multiply(y, x), getitem(p, i))
    return y


# -- r_ and c_ -------------------------------------------------------------------
class _Concatenator:
    """``np.r_`` / ``np.c_`` for traced items: slices become constant ranges,
    items get ``ndmin`` dimensions (placed by ``trans1d``), and all are joined
    along ``axis`` in their common dtype."""

    def __init__(self, numpy_builder, axis, ndmin, trans1d):
        self._numpy, self._axis, self._ndmin, self._trans1d = numpy_builder, axis, ndmin, trans1d

    def __getitem__(self, key):
        if not holds_tracer(key):
            return self._numpy[key]
        key = key if isinstance(key, tuple) else (key,)
        axis, ndmin, trans1d = self._axis, self._ndmin, self._trans1d
        objs, kinds = [], []
        for k, item in enumerate(key):
            if isinstance(item, str):
                if k != 0:
                    raise ValueError("special directives must be the first entry.")
                axis, ndmin, trans1d = _directive(item, axis, ndmin, trans1d)
                continue
            if isinstance(item, slice) or type(item) in (int, float, complex, bool):
                obj = np.r_[item] if isinstance(item, slice) else item
                if isinstance(item, slice) and ndmin > 1:
                    obj = np.array(obj, ndmin=ndmin)
                    obj = obj.swapaxes(-1, trans1d) if trans1d != -1 else obj
                objs.append(obj)
                kinds.append(item if not isinstance(item, slice) else obj.dtype)
                continue
            obj = asarray(item)
            given = obj.ndim
            obj = _with_ndmin(obj, ndmin)
            if trans1d != -1 and given < ndmin:
                k2, k1 = ndmin - given, trans1d
                k1 = k1 + k2 + 1 if k1 < 0 else k1
                order = list(range(ndmin))
                obj = transpose(obj, order[:k1] + order[k2:] + order[k1:k2])
            objs.append(obj)
            kinds.append(obj.dtype)
        dtype = np.result_type(*kinds)
        objs = [cast(_with_ndmin(asarray(o), ndmin), dtype) for o in objs]
        return concatenate(objs, axis=axis)


def _with_ndmin(x, ndmin):
    return reshape(x, (1,) * (ndmin - x.ndim) + x.shape) if x.ndim < ndmin else x


def _directive(item, axis, ndmin, trans1d):
    """The string that may open ``r_[...]``: ``"axis"``, ``"axis,ndmin"`` or
    ``"axis,ndmin,trans1d"``."""
    if item in ("r", "c"):
        raise NotImplementedError("np.r_['r', ...] / ['c', ...] build numpy.matrix objects, "
                                  "which chainrule does not trace; use "
                                  "chainrule.numpy.concatenate or stack")
    try:
        values = [int(x) for x in item.split(",")]
    except ValueError:
        raise ValueError(f"unknown special directive {item!r}") from None
    if len(values) > 3:
        raise ValueError(f"unknown special directive {item!r}")
    axis = values[0]
    ndmin = values[1] if len(values) > 1 else ndmin
    trans1d = values[2] if len(values) > 2 else trans1d
    return axis, ndmin, trans1d


r_ = _Concatenator(np.r_, 0, 1, -1)
c_ = _Concatenator(np.c_, -1, 2, 0)
