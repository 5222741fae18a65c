"""NumPy's sort and argsort, as the ``sort`` primitive.

``sort(x)`` is the first result of ``sort[axis=k] x``; ``argsort(x)`` sorts
the indices ``0 .. n-1`` along with ``x`` and returns them.  The sort is
stable (equal elements keep their order) whatever ``kind`` asks for, which is
one of the orders NumPy may return, and NaN goes last, as in NumPy.

Derivatives flow through the permutation: the derivative of ``sort(x)[j]``
is that of the element that landed at position ``j``.  Top-k is a sort and
a slice (``np.sort(x)[..., -k:]``), so its gradient reaches exactly the k
selected elements.
"""
from __future__ import annotations

from .. import primitives as P
from ..primitives.sorting import iota
from ..tracer.core import bind, get_aval
from ._util import asarray, normalize_axis, unsupported

_KINDS = (None, "quicksort", "mergesort", "heapsort", "stable")


def _prepare(name, a, axis, kind, order):
    unsupported(name, order=order)
    if kind not in _KINDS:
        raise ValueError(f"numpy.{name}: sort kind must be one of {_KINDS[1:]}, got {kind!r}")
    a = asarray(a)
    if axis is None:  # NumPy sorts the flattened array
        a = bind(P.reshape_p, a, shape=(a.size,)) if a.ndim != 1 else a
        axis = 0
    return a, normalize_axis(axis, a.ndim)


def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """numpy.sort along ``axis`` (None: of the flattened array)."""
    a, axis = _prepare("sort", a, axis, kind, order)
    return bind(P.sort_p, a, axis=axis)[0]


def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    """numpy.argsort: the stable sorting permutation along ``axis``, int64."""
    a, axis = _prepare("argsort", a, axis, kind, order)
    return bind(P.sort_p, a, iota(get_aval(a), axis), axis=axis)[1]
