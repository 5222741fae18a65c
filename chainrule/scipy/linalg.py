"""``chainrule.scipy.linalg``: SciPy's triangular solve, which NumPy lacks.

``solve_triangular`` binds the ``triangular_solve`` primitive (forward or
back substitution reading one triangle of ``a``); its derivative is again a
triangular solve: ``dx = op(a)^{-1} (db - op(da) x)``, ``da`` restricted to
the triangle that is read.
"""
from __future__ import annotations

from .. import primitives as P
from ..numpy._shapes import expand_dims, squeeze
from ..numpy._util import asarray, broadcast_shapes, broadcast_to_shape, cast
from ..numpy._decompositions import linalg_dtype
from ..tracer.core import bind

_TRANS = {0: False, "N": False, 1: True, "T": True, 2: True, "C": True}


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    """scipy.linalg.solve_triangular: ``x`` with ``op(a) x = b``, ``op(a)`` being
    ``a`` (``trans=0``/'N') or ``a^T`` (1/'T', and 2/'C' for real ``a``); only
    the ``lower`` (default: upper) triangle of ``a`` is read, and with
    ``unit_diagonal`` its diagonal is taken as ones.  ``b`` is a vector when
    1-d, else ``(..., M, N)``; leading batch axes of ``a`` and ``b`` broadcast.
    ``overwrite_b`` and ``check_finite`` are accepted and have no effect."""
    if trans not in _TRANS:
        raise ValueError(f"incorrect value for trans: {trans!r}")
    a, b = asarray(a), asarray(b)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError("expected square matrix")
    dtype = linalg_dtype(a.dtype, b.dtype)
    a, b = cast(a, dtype), cast(b, dtype)
    vector = b.ndim == 1
    if vector:
        b = expand_dims(b, -1)
    if b.shape[-2] != a.shape[-1]:
        raise ValueError(f"shapes of a {a.shape} and b {b.shape} are incompatible")
    batch = broadcast_shapes("solve_triangular", a.shape[:-2], b.shape[:-2])
    x = bind(P.triangular_solve_p, broadcast_to_shape(a, batch + a.shape[-2:]),
             broadcast_to_shape(b, batch + b.shape[-2:]), left_side=True, lower=bool(lower),
             transpose_a=_TRANS[trans], unit_diagonal=bool(unit_diagonal))
    return squeeze(x, -1) if vector else x


__all__ = ["solve_triangular"]
