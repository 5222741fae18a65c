"""``cr.clear_caches()``: empty every cache chainrule keeps.

Each cache is bounded where it is defined (docs/api.md, "Caches"):

* ``tracer/source.py``: whether a code object is chainrule's or the
  user's, at most ``_INTERNAL_CODE_MAX`` code objects (emptied when full);
* ``numpy/_util.py``: NumPy's loop dtypes per ufunc and operand dtypes, an
  LRU cache of ``_RESOLVE_CACHE_SIZE`` entries;
* ``tracer/avals.py``: the abstract values of concrete values, shared per
  shape and dtype, at most ``_SHARED_AVALS_MAX`` (emptied when full);
* ``transforms/jit.py``: per ``jit(f)``, ``_SIGNATURES_PER_FUNCTION`` compiled
  programs (least recently used dropped);
* ``transforms/planned_jacobian.py``: per ``jacobian(f)``, its plans and
  staged programs (``_SIGNATURES_PER_FUNCTION`` signatures,
  ``_PROGRAMS_PER_SIGNATURE`` programs each, ``_CONSTANT_BYTES`` of
  constants), freed with the function.

Registries (the primitives, the pytree node types, NumPy's functions and
ufuncs) are not caches: they do not grow with use, and are kept.
"""
from __future__ import annotations

from ..numpy._util import _resolve
from ..tracer.avals import clear_shared_avals
from ..tracer.source import clear_source_cache
from .jit import clear_jit_caches
from .planned_jacobian import clear_jacobian_caches


def clear_caches() -> None:
    """Empty every cache chainrule keeps: the source-location cache, the
    dtype-resolution cache, the shared abstract values, the plans and staged
    programs of every ``cr.jacobian`` function and the compiled programs of
    every ``cr.jit`` function.  Results do not change; the next calls only
    fill the caches again."""
    clear_source_cache()
    clear_shared_avals()
    _resolve.cache_clear()
    clear_jacobian_caches()
    clear_jit_caches()
