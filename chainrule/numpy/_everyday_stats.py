"""NumPy's NaN-ignoring reductions (``nansum``, ``nanprod``, ``nancumsum``,
``nanmean``, ``nanvar``, ``nanstd``, ``nanmax``, ``nanmin``) and the
covariance and correlation matrices (``cov``, ``corrcoef``).

A ``nan*`` reduction is the plain one applied after ``where(isnan(a), r,
a)`` with the neutral value ``r`` (0 for sums, 1 for products, -inf for the
maximum), which is how NumPy computes them: NaN elements get derivative 0,
the others their usual one.  ``nanmean`` divides by the number of non-NaN
elements; ``nanvar`` centres, zeroes the NaN places, and divides by ``count
- ddof`` (NaN when that is not positive, as NumPy).  A line of NaNs only
gives NaN (NumPy also warns).

``cov`` is NumPy's ``X_c X_c^T / fact`` with ``X_c`` the rows minus their
(weighted) means; frequency and analytic weights are constants.
``corrcoef`` divides by the outer product of the standard deviations and
clips to [-1, 1]; on the diagonal (exactly 1) the derivative is 0.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..tracer.core import Tracer
from ._diagonals import diag
from ._linalg import dot
from ._reductions import all, cumsum, max, min, prod, sum  # noqa: A004
from ._reductions import mean as _plain_mean
from ._shapes import concatenate, reshape, squeeze, transpose
from ._statistics import average, var as _plain_var
from ._ufuncs import clip, divide, invert, isnan, less_equal, multiply, sqrt, subtract
from ._ufuncs import where as _select
from ._util import asarray, cast, unsupported


def _replace_nan(a, value):
    """``a`` with NaNs replaced by ``value``, and the NaN mask (None for
    arrays that cannot hold NaN)."""
    a = asarray(a)
    if not np.issubdtype(a.dtype, np.inexact):
        return a, None
    mask = isnan(a)
    return _select(mask, np.asarray(value, a.dtype)[()], a), mask


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """numpy.nansum: the sum with NaNs counted as 0 (their derivative is 0)."""
    unsupported("nansum", out=out, initial=initial, where=where)
    return sum(_replace_nan(a, 0)[0], axis=axis, dtype=dtype, keepdims=keepdims)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """numpy.nanprod: the product with NaNs counted as 1."""
    unsupported("nanprod", out=out, initial=initial, where=where)
    return prod(_replace_nan(a, 1)[0], axis=axis, dtype=dtype, keepdims=keepdims)


def nancumsum(a, axis=None, dtype=None, out=None):
    """numpy.nancumsum: the running sum with NaNs counted as 0."""
    return cumsum(_replace_nan(a, 0)[0], axis=axis, dtype=dtype, out=out)


def _count(mask, axis, keepdims):
    return sum(invert(mask), axis=axis, dtype=np.intp, keepdims=keepdims)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """numpy.nanmean: the sum of the non-NaN elements over their number."""
    unsupported("nanmean", out=out, where=where)
    arr, mask = _replace_nan(a, 0)
    if mask is None:
        return _plain_mean(arr, axis=axis, dtype=dtype, keepdims=keepdims)
    total = sum(arr, axis=axis, dtype=dtype, keepdims=keepdims)
    return divide(total, cast(_count(mask, axis, keepdims), total.dtype))


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
           mean=None, correction=None):
    """numpy.nanvar: ``sum((a - nanmean)^2 over non-NaN) / (count - ddof)``."""
    unsupported("nanvar", out=out, where=where, mean=mean)
    if correction is not None:
        if ddof != 0:
            raise ValueError("ddof and correction can't be provided simultaneously.")
        ddof = correction
    arr, mask = _replace_nan(a, 0)
    if mask is None:
        return _plain_var(arr, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    count = _count(mask, axis, True)
    avg = sum(arr, axis=axis, dtype=dtype, keepdims=True)
    avg = divide(avg, cast(count, avg.dtype))
    centred = _select(mask, np.zeros((), arr.dtype)[()],
                    cast(subtract(arr, avg), arr.dtype))
    total = sum(multiply(centred, centred), axis=axis, dtype=dtype, keepdims=keepdims)
    if not keepdims:
        count = sum(invert(mask), axis=axis, dtype=np.intp)
    dof = subtract(count, ddof)
    result = divide(total, cast(dof, total.dtype))
    return _select(less_equal(dof, 0), np.asarray(np.nan, total.dtype)[()], result)


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
           mean=None, correction=None):
    """numpy.nanstd: ``sqrt(nanvar)`` (derivative NaN at zero spread, as ``std``)."""
    return sqrt(nanvar(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims,
                       where=where, mean=mean, correction=correction))


def _nan_extremum(reducer, fill, name, a, axis, out, keepdims, initial, where_):
    unsupported(name, out=out, initial=initial, where=where_)
    arr, mask = _replace_nan(a, fill)
    result = reducer(arr, axis=axis, keepdims=keepdims)
    if mask is None:
        return result
    only_nan = all(mask, axis=axis, keepdims=keepdims)
    return _select(only_nan, np.asarray(np.nan, result.dtype)[()], result)


def nanmax(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """numpy.nanmax: the maximum of the non-NaN elements (NaN for a line of
    NaNs); ties split the derivative evenly, as ``max``."""
    return _nan_extremum(max, -np.inf, "nanmax", a, axis, out, keepdims, initial, where)


def nanmin(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """numpy.nanmin: the minimum of the non-NaN elements (NaN for a line of NaNs)."""
    return _nan_extremum(min, np.inf, "nanmin", a, axis, out, keepdims, initial, where)


# -- covariance ----------------------------------------------------------------------
def _rows(x, dtype):
    """``x`` in ``dtype`` with at least two dimensions (``array(x, ndmin=2)``)."""
    x = cast(asarray(x), dtype)
    return reshape(x, (1,) * (2 - x.ndim) + x.shape) if x.ndim < 2 else x


def _constant_weights(w, name, n):
    if isinstance(w, Tracer):
        raise NotImplementedError(f"numpy.cov with traced {name}: chainrule takes the weights "
                                  "as constants")
    w = np.asarray(w, dtype=float)
    if w.ndim > 1:
        raise RuntimeError(f"cannot handle multidimensional {name}")
    if w.shape[0] != n:
        raise RuntimeError(f"incompatible numbers of samples and {name}")
    if np.any(w < 0):
        raise ValueError(f"{name} cannot be negative")
    return w


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
        dtype=None):
    """numpy.cov: ``X_c X_c^T / fact``, rows as variables (``rowvar``), with
    ``ddof`` (1 unless ``bias``) and constant ``fweights`` / ``aweights``."""
    if ddof is not None and ddof != int(ddof):
        raise ValueError("ddof must be integer")
    m = asarray(m)
    y = None if y is None else asarray(y)
    if m.ndim > 2 or (y is not None and y.ndim > 2):
        raise ValueError(("m" if m.ndim > 2 else "y") + " has more than 2 dimensions")
    if dtype is None:
        dtype = np.result_type(m.dtype, np.float64) if y is None else \
            np.result_type(m.dtype, y.dtype, np.float64)
    X = _rows(m, dtype)
    if not rowvar and m.ndim != 1:
        X = transpose(X)
    if X.shape[0] == 0:
        return np.array([]).reshape(0, 0)
    if y is not None:
        Y = _rows(y, dtype)
        if not rowvar and Y.shape[0] != 1:
            Y = transpose(Y)
        X = concatenate((X, Y), axis=0)
    if ddof is None:
        ddof = 1 if bias == 0 else 0
    w = None
    if fweights is not None:
        fweights = _constant_weights(fweights, "fweights", X.shape[1])
        if not np.all(fweights == np.around(fweights)):
            raise TypeError("fweights must be integer")
        w = fweights
    if aweights is not None:
        aweights = _constant_weights(aweights, "aweights", X.shape[1])
        w = aweights if w is None else w * aweights
    avg = average(X, axis=1, weights=w)
    n = X.shape[1]
    if w is None:
        fact = n - ddof
    else:
        w_sum = np.sum(w, dtype=np.float64)
        if ddof == 0:
            fact = w_sum
        elif aweights is None:
            fact = w_sum - ddof
        else:
            fact = w_sum - ddof * np.sum(w * aweights) / w_sum
    if fact <= 0:
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=2)
        fact = 0.0
    X = subtract(X, reshape(avg, (avg.shape[0], 1)))
    X_T = transpose(X) if w is None else transpose(multiply(X, w))
    c = dot(X, X_T)
    c = cast(multiply(c, np.true_divide(1, fact)), c.dtype)
    return squeeze(c)


def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    """numpy.corrcoef: ``C_ij / sqrt(C_ii C_jj)`` of ``cov``, clipped to [-1, 1]."""
    c = cov(x, y, rowvar, dtype=dtype)
    if c.ndim == 0:     # one variable: NumPy's c / c
        return divide(c, c)
    stddev = sqrt(diag(c))
    c = divide(c, reshape(stddev, (-1, 1)))
    c = divide(c, reshape(stddev, (1, -1)))
    return clip(c, -1, 1)
