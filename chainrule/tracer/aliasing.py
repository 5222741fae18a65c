"""Arrays that cross the boundary between the user and chainrule.

NumPy arrays are mutable, chainrule's values are meant not to be.  Two rules
keep a write the user makes later from changing what chainrule computed,
and chainrule's results from changing one another:

* a result handed to the user never shares memory with an array the user
  passed in, a constant the program holds, or another result
  (``unshared``): an identity function, a reshape of an input (a NumPy
  view), or two outputs that are one array would otherwise come back as the
  same buffer;
* what a transform keeps for later (the residuals of ``vjp`` and
  ``linearize``, the constants of ``make_ir``) never shares memory with an
  array the user can still write to (``owned``).

Both copy only where memory is shared: an array's memory is known by the
array that owns it, found by following ``.base``.
"""
from __future__ import annotations

import numpy as np


def _owner(x):
    """The array whose memory ``x`` views (``x`` itself when it owns it)."""
    while isinstance(x.base, np.ndarray):
        x = x.base
    return x


def unshared(results, others=()):
    """``results`` (a list) with each array copied that shares memory with an
    array of ``others`` or with an earlier result, or that cannot be
    written (a broadcast view): the user gets arrays of their own."""
    taken = {id(_owner(a)) for a in others if isinstance(a, np.ndarray)}
    out = []
    for r in results:
        if type(r) is np.ndarray:
            owner = id(_owner(r))
            if owner in taken or not r.flags.writeable:
                r = r.copy()
                owner = id(r)
            taken.add(owner)
        out.append(r)
    return out


def owned(values, user_arrays):
    """``values`` (a list) with each array copied that shares memory with one
    of ``user_arrays``, so that writing to those later does not change it."""
    users = {id(_owner(a)) for a in user_arrays if isinstance(a, np.ndarray)}
    if not users:
        return list(values)
    return [v.copy() if isinstance(v, np.ndarray) and id(_owner(v)) in users else v
            for v in values]
