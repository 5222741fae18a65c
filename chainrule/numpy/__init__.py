"""``chainrule.numpy``: NumPy's names over chainrule's primitives.

Every function here takes tracers, NumPy arrays and Python numbers alike:
with a tracer among its arguments it records IR equations, otherwise it
computes with NumPy.  The same functions are reached from plain NumPy code
(``np.sin(t)``, ``np.sum(t)``, ``t @ W``) through NumPy's dispatch
protocols (``_dispatch.py``), and produce the same IR.
"""
import sys as _sys

import numpy as _np

from . import _dispatch, _indexing, _util  # noqa: F401
from ._linalg import dot, einsum, inner, matmul, outer, tensordot, vdot  # noqa: F401
from ._linalg import cross, kron, matvec, vecdot, vecmat  # noqa: F401
from . import linalg  # noqa: F401  (chainrule.numpy.linalg)
from ._reductions import amax, amin, argmax, argmin, max, mean, min, prod, sum  # noqa: F401,A004
from ._shapes import (array, asarray_ as asarray, atleast_1d, atleast_2d,  # noqa: F401
                      broadcast_arrays, broadcast_to, concatenate, expand_dims, flip, full_like,
                      hstack, matrix_transpose, moveaxis, ones_like, permute_dims, ravel,
                      reshape, squeeze, stack, swapaxes, transpose, vstack, zeros_like)
from ._ufuncs import *  # noqa: F401,F403
from ._ufuncs import UFUNCS as _UFUNCS, abs, clip, where  # noqa: F401,A004
# elementwise functions that are not ufuncs, more reductions, statistics, sorting
from ._elementwise import (around, fix, imag, isneginf, isposinf, nan_to_num, real,  # noqa: F401
                           round, sinc)  # noqa: A004
from ._reductions import (all, any, count_nonzero, cumprod, cumsum,  # noqa: F401,A004
                          cumulative_prod, cumulative_sum)
from ._sorting import argsort, sort  # noqa: F401
from ._statistics import average, median, percentile, ptp, quantile, std, var  # noqa: F401

# constants and constructors: no tracer involved, NumPy's own
from numpy import (arange, e, empty, eye, float16, float32, float64, full, identity,  # noqa: F401
                   inf, int32, int64, linspace, nan, newaxis, ones, pi, zeros, bool_,
                   complex64, complex128, ndarray, result_type,
                   promote_types, dtype, isscalar)
# shapes, construction, indexing (after NumPy's constructors, which these replace:
# they take traced fill values and endpoints)
from ._shapes import atleast_3d, copy, fliplr, flipud, roll, rot90  # noqa: F401
from ._joining import (append, array_split, column_stack, dsplit, dstack, hsplit,  # noqa: F401
                       repeat, split, tile, vsplit)
from ._pad import pad  # noqa: F401
from ._diagonals import diag, diagflat, diagonal, trace, tril, triu  # noqa: F401
from ._construct import arange, full, linspace, meshgrid  # noqa: F401
from ._indexing import take, take_along_axis  # noqa: F401
from . import _updates  # noqa: F401
# everyday functions composed from the above
from ._everyday import (allclose, array_equal, array_equiv, c_, convolve, correlate,  # noqa: F401
                        diff, ediff1d, gradient, isclose, polyval, r_)
from ._everyday_stats import (corrcoef, cov, nancumsum, nanmax, nanmean, nanmin,  # noqa: F401
                              nanprod, nanstd, nansum, nanvar)
from ._everyday_interp import histogram, interp, unwrap  # noqa: F401


def shape(a):
    """numpy.shape, for tracers too."""
    return _util.shape_of(a)


def ndim(a):
    return len(_util.shape_of(a))


def size(a, axis=None):
    s = _util.shape_of(a)
    if axis is not None:
        return s[axis]
    n = 1
    for d in s:
        n *= d
    return n


def _register_functions():
    """Map each NumPy function to the chainrule function of the same name,
    for ``__array_function__``."""
    g = globals()
    for name, fn in list(g.items()):
        if name.startswith("_") or not callable(fn) or getattr(_np, name, None) is fn:
            continue
        np_fn = getattr(_np, name, None)
        if np_fn is not None and not isinstance(np_fn, _np.ufunc) and callable(np_fn):
            _dispatch.FUNCTIONS[np_fn] = fn


_register_functions()
_dispatch.install_tracer_methods(_sys.modules[__name__])
