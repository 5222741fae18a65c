"""Functional updates, as in JAX: ``x.at[idx].set(v)``, ``.add(v)``,
``.subtract(v)``, ``.multiply(v)``, ``.min(v)``, ``.max(v)`` and ``.get()``.

Traced arrays are immutable, so ``x[idx] = v`` cannot be recorded; each of
these returns a new array instead.  ``idx`` is any NumPy index (integers,
slices, ``None``, ``...``, integer arrays, concrete boolean masks).  Every
update works on the flattened array: NumPy's own indexing of
``arange(x.size).reshape(x.shape)`` by ``idx`` gives the flat positions
written, once for all index kinds, and ``v`` is broadcast to their shape.

How each combination is lowered, and why:

* ``set``, ``add`` (and ``subtract``): the linear primitives ``scatter``
  (the last of repeated positions wins, as with NumPy's ``x[idx] = v``) and
  ``scatter_add`` (repeated positions add up, as ``np.add.at``).
* ``min``, ``max``: the primitives ``scatter_min`` / ``scatter_max``
  (``np.minimum.at``); their JVP passes the tangent of the winning
  contender and averages it over ties, as JAX does.
* ``multiply``: a composition.  At a position hit by updates
  ``v_1 .. v_r`` the result is ``x * v_1 * ... * v_r``, whose derivative
  in ``v_k`` is the product of all the *other* factors; computed as
  ``y / v_k`` it breaks at zeros.  So the updates are grouped by position
  (a ``gather`` into a ``(positions, r_max)`` block padded with ones) and
  each group is multiplied by ``reduce_prod``, whose rule is right at zeros
  and to any order.  The grouping needs the positions' values: concrete
  indices, or traced ones while the values are known (``grad``, ``jvp``).
  The block holds (distinct positions) x (most updates at one position)
  elements: as many as the updates, unless one position gets far more
  updates than the others.
"""
from __future__ import annotations

import numpy as np

from .. import primitives as P
from ..tracer.core import Tracer, bind
from ..tracer.errors import ConcretizationError
from ..tracer.source import user_source_info, where
from ._indexing import getitem
from ._shapes import ravel, reshape
from ._util import broadcast_to_shape, cast, shape_of, unsupported


class _AtIndexer:
    """``x.at``: ``x.at[idx]`` names the positions an update writes."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __getitem__(self, index):
        return _IndexedUpdate(self.array, index)


def _hints(name, kwargs):
    # JAX's performance hints change nothing here; its out-of-bounds modes
    # are not implemented (NumPy's indices must be in bounds)
    unsupported(f"x.at[...].{name}", **{k: v for k, v in kwargs.items()
                                        if k not in ("indices_are_sorted", "unique_indices")})


class _IndexedUpdate:
    """The updates of ``x.at[index]``; each returns a new array."""

    __slots__ = ("array", "index")

    def __init__(self, array, index):
        self.array, self.index = array, index

    def _positions(self):
        """The flat positions ``x[index]`` selects: an integer NumPy array, or
        a tracer when the index holds tracers."""
        x = self.array
        positions = np.arange(x.size).reshape(x.shape)
        index = self.index if isinstance(self.index, tuple) else (self.index,)
        if any(isinstance(i, Tracer) for i in index):
            return getitem(positions, index)
        return np.ascontiguousarray(positions[self.index])

    def _updates(self, values, positions):
        return broadcast_to_shape(cast(values, self.array.dtype), shape_of(positions))

    def _scatter(self, prim, values):
        x = self.array
        positions = self._positions()
        values = self._updates(values, positions)
        return reshape(bind(prim, ravel(x), positions, values, axis=0), x.shape)

    def get(self, **kwargs):
        """``x[index]``."""
        _hints("get", kwargs)
        return getitem(self.array, self.index)

    def set(self, values, **kwargs):
        """``x`` with ``x[index] = values``; of repeated positions the last
        update wins (NumPy's order), and only it gets a gradient."""
        _hints("set", kwargs)
        return self._scatter(P.scatter_p, values)

    def add(self, values, **kwargs):
        """``x`` with ``values`` added at ``index`` (repeated positions add up)."""
        _hints("add", kwargs)
        return self._scatter(P.scatter_add_p, values)

    def subtract(self, values, **kwargs):
        """``x`` with ``values`` subtracted at ``index``."""
        _hints("subtract", kwargs)
        from ._ufuncs import negative
        return self._scatter(P.scatter_add_p, negative(cast(values, self.array.dtype)))

    def min(self, values, **kwargs):
        """``x`` with each indexed element replaced by the smallest of itself
        and the updates sent to it (``np.minimum.at``).  Where several
        contenders tie for the minimum, each gets an equal share of the
        gradient (as JAX does)."""
        _hints("min", kwargs)
        return self._scatter(P.scatter_min_p, values)

    def max(self, values, **kwargs):
        """Like ``min``, with the largest (``np.maximum.at``); ties share the
        gradient equally."""
        _hints("max", kwargs)
        return self._scatter(P.scatter_max_p, values)

    def multiply(self, values, **kwargs):
        """``x`` with each indexed element multiplied by the updates sent to
        it (``np.multiply.at``); exact derivatives at zero factors too."""
        _hints("multiply", kwargs)
        x = self.array
        positions = self._concrete_positions()
        values = ravel(self._updates(values, positions))
        flat = positions.ravel()
        x_flat = ravel(x)
        if flat.size == 0:
            return x
        targets, groups = _group(flat)
        if groups is None:  # no position repeats: one factor each
            factors = values
        else:
            one = np.ones((1,), x.dtype)
            padded = bind(P.concatenate_p, values, one, axis=0)    # index flat.size: a 1
            factors = bind(P.reduce_prod_p, bind(P.gather_p, padded, groups, axis=0),
                           axes=(1,))
        scaled = bind(P.mul_p, bind(P.gather_p, x_flat, targets, axis=0), factors)
        return reshape(bind(P.scatter_p, x_flat, targets, scaled, axis=0), x.shape)

    mul = multiply

    def _concrete_positions(self):
        positions = self._positions()
        if not isinstance(positions, Tracer):
            return positions
        try:
            return np.asarray(positions._concrete("x.at[...].multiply"))
        except ConcretizationError:
            raise NotImplementedError(
                "x.at[idx].multiply(v) groups the updates by the positions they write, so it "
                "needs the values of traced indices, which are unknown under make_ir and vmap"
                f"{where(user_source_info())}\nUse concrete (NumPy) indices, or "
                "x * ones.at[idx].set(v) when no position repeats.") from None


def _group(flat):
    """The distinct positions of ``flat`` and, when some repeat, an index
    block ``groups[u, s]`` naming the ``s``-th update sent to position
    ``targets[u]`` (in order of occurrence), ``flat.size`` where a position
    has fewer updates than the most-hit one."""
    targets, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    if counts.max() == 1:
        return flat, None
    n = flat.size
    order = np.argsort(inverse, kind="stable")
    starts = np.cumsum(counts) - counts
    slot = np.empty(n, np.int64)
    slot[order] = np.arange(n) - np.repeat(starts, counts)
    groups = np.full((targets.size, counts.max()), n, np.int64)
    groups[inverse, slot] = np.arange(n)
    return targets, groups
