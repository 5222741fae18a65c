"""NumPy's elementwise functions that are not ufuncs: round/around, fix,
sinc, real, imag, isposinf, isneginf, nan_to_num.  They reach chainrule
through ``__array_function__`` and are compositions of the ufuncs.
"""
from __future__ import annotations

import numpy as np

from ._ufuncs import (_real_only, add, divide, equal, isnan, multiply, rint, sin, square, trunc,
                      where)
from ._util import asarray, cast, dtype_of, shape_of, unsupported


def round(a, decimals=0, out=None):  # noqa: A001
    """numpy.round: round half to even at ``decimals`` decimal places, as
    NumPy computes it: ``rint(a * 10**d) / 10**d`` (``rint(a / 10**-d) *
    10**-d`` for negative ``d``).  Piecewise constant: zero derivative."""
    unsupported("round", out=out)
    a = asarray(a)
    _real_only("round", a)
    decimals = int(decimals)
    if not np.issubdtype(a.dtype, np.inexact):
        if a.dtype == np.bool_ or decimals >= 0:   # integers are already round
            return a
        scale = 10.0 ** -decimals
        return cast(multiply(rint(divide(a, scale)), scale), a.dtype)
    if decimals == 0:
        return rint(a)
    if decimals > 0:
        scale = 10.0 ** decimals
        return divide(rint(multiply(a, scale)), scale)
    scale = 10.0 ** -decimals
    return multiply(rint(divide(a, scale)), scale)


around = round


def fix(x, out=None):
    """numpy.fix: round towards zero, which is ``trunc``."""
    unsupported("fix", out=out)
    return trunc(x)


def sinc(x):
    """numpy.sinc: ``sin(pi x) / (pi x)``, and 1 at 0.

    Where x == 0 the value comes from the Maclaurin series ``1 - y/6 +
    y^2/120 - y^3/5040`` in ``y = (pi x)^2``, so that derivatives at 0 are
    right (0, then -pi^2/3, ...; exact up to order 7), as JAX's sinc does;
    elsewhere the formula is evaluated at ``x`` replaced by 1 where it is 0,
    so that its (unused) branch never divides by zero, which would turn the
    reverse-mode cotangent into NaN.
    """
    x = asarray(x)
    if not np.issubdtype(x.dtype, np.inexact):
        x = cast(x, np.float64)
    at_zero = equal(x, 0)
    y = multiply(where(at_zero, 1, x), np.pi)
    y2 = square(multiply(x, np.pi))
    series = add(1, multiply(y2, add(-1 / 6, multiply(y2, add(1 / 120, multiply(y2,
                                                                               -1 / 5040))))))
    return where(at_zero, series, divide(sin(y), y))


def real(val):
    """numpy.real of a real array: the array itself."""
    return _real_only("real", asarray(val))


def imag(val):
    """numpy.imag of a real array: zeros (a constant: no derivative flows)."""
    val = _real_only("imag", asarray(val))
    return np.zeros(shape_of(val), dtype_of(val))


def isposinf(x, out=None):
    """numpy.isposinf: ``x == inf``."""
    unsupported("isposinf", out=out)
    return equal(_real_only("isposinf", x), np.inf)


def isneginf(x, out=None):
    """numpy.isneginf: ``x == -inf``."""
    unsupported("isneginf", out=out)
    return equal(_real_only("isneginf", x), -np.inf)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """numpy.nan_to_num: NaN -> ``nan``, +-inf -> ``posinf``/``neginf`` (by
    default the largest finite values).  The derivative is 1 at the finite
    elements and 0 at the replaced ones."""
    x = asarray(_real_only("nan_to_num", x))
    if not np.issubdtype(x.dtype, np.inexact):
        return x
    info = np.finfo(x.dtype)
    big = info.max if posinf is None else posinf
    small = info.min if neginf is None else neginf
    x = where(equal(x, np.inf), cast(big, x.dtype), x)
    x = where(equal(x, -np.inf), cast(small, x.dtype), x)
    return where(isnan(x), cast(nan, x.dtype), x)
