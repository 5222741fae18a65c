"""How plain NumPy code reaches chainrule, and the operators of ``Tracer``.

* ``__array_ufunc__``: ``np.sin(t)``, ``np.add(a, t)``, ``W @ t`` (NumPy's
  operators on arrays call ufuncs) find the chainrule function of the same
  ufunc in ``_ufuncs.UFUNCS``.
* ``__array_function__``: ``np.sum(t)``, ``np.reshape(t, ...)``,
  ``np.linalg.*`` find the chainrule function of the same name.
* Python operators and array methods (``t + 1``, ``t.sum()``, ``t.T``,
  ``t[1:]``) call the same functions.

A NumPy function without a chainrule rule raises ``NotImplementedError``
naming it: never a silent conversion of the tracer to an array.
"""
from __future__ import annotations

import numpy as np

from ..tracer.core import Tracer
from ..tracer.source import user_source_info, where
from . import _reductions, _ufuncs

FUNCTIONS: dict = {}  # numpy function -> chainrule function (filled by __init__)
# SciPy's ufuncs (scipy.special.erf, ...) by name -> chainrule function, filled
# by chainrule.scipy.special (a floor above: SciPy is no dependency, so the
# ufuncs are matched by name, not imported)
SCIPY_UFUNCS: dict = {}


def _not_implemented(what):
    return NotImplementedError(
        f"{what} is not supported on traced arrays by chainrule yet{where(user_source_info())}"
        "\nUse a supported function (docs/numpy-coverage.md lists them) or write it with "
        "supported operations.")


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    if kwargs.get("out") is not None:
        raise TypeError(f"numpy.{ufunc.__name__}(..., out=...) writes into an array in place, "
                        "which a traced value cannot be; use the returned value instead"
                        f"{where(user_source_info())}")
    kwargs.pop("out", None)
    if method == "__call__":
        direct = _ufuncs.DIRECT.get(ufunc)
        if direct is not None and len(inputs) == ufunc.nin:   # (one call less)
            return _ufuncs._apply(ufunc, direct[0], inputs, kwargs, direct[1])
        fn = _ufuncs.UFUNCS.get(ufunc)
        if fn is None and getattr(np, ufunc.__name__, None) is not ufunc:
            fn = SCIPY_UFUNCS.get(ufunc.__name__)   # a ufunc not NumPy's: scipy.special's
            if fn is None:
                raise _not_implemented(f"scipy.special.{ufunc.__name__}")
        if fn is None:
            raise _not_implemented(f"numpy.{ufunc.__name__}")
        return fn(*inputs, **kwargs)
    if method == "accumulate":  # running sums and products
        accumulator = {np.add: _reductions.cumsum, np.multiply: _reductions.cumprod}.get(ufunc)
        if accumulator is not None:
            return accumulator(*inputs, **{"axis": 0, **kwargs})
    if method == "reduce":
        reducer = {np.add: _reductions.sum, np.multiply: _reductions.prod,
                   np.maximum: _reductions.max, np.minimum: _reductions.min}.get(ufunc)
        if reducer is not None:
            kwargs.setdefault("axis", 0)
            return reducer(*inputs, **kwargs)
    raise _not_implemented(f"numpy.{ufunc.__name__}.{method}")


def _array_function(self, func, types, args, kwargs):
    fn = FUNCTIONS.get(func)
    if fn is None:
        module = getattr(func, "__module__", "numpy") or "numpy"
        module = "numpy" if module.startswith("numpy._core") else module
        raise _not_implemented(f"{module}.{func.__name__}")
    return fn(*args, **kwargs)


def install_tracer_methods(cnp):
    """Give ``Tracer`` NumPy's operators and array methods, via ``cnp``."""
    T = Tracer
    T.__array_ufunc__ = _array_ufunc
    T.__array_function__ = _array_function

    def binop(fn):
        return (lambda self, other: fn(self, other)), (lambda self, other: fn(other, self))

    for name, fn in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                     ("truediv", np.divide), ("floordiv", np.floor_divide),
                     ("mod", np.remainder), ("pow", cnp.power), ("matmul", cnp.matmul),
                     ("and", cnp.bitwise_and), ("or", cnp.bitwise_or),
                     ("xor", cnp.bitwise_xor)]:
        # a ufunc that is one primitive goes straight to ``_ufuncs._apply``
        forward, reflected = (_ufuncs._operator_methods(fn) if fn in _ufuncs.DIRECT
                              else binop(fn))
        setattr(T, f"__{name}__", forward)
        setattr(T, f"__r{name}__", reflected)
    T.__divmod__ = lambda self, other: (cnp.floor_divide(self, other), cnp.remainder(self, other))
    T.__eq__ = lambda self, other: cnp.equal(self, other)
    T.__ne__ = lambda self, other: cnp.not_equal(self, other)
    T.__lt__ = lambda self, other: cnp.less(self, other)
    T.__le__ = lambda self, other: cnp.less_equal(self, other)
    T.__gt__ = lambda self, other: cnp.greater(self, other)
    T.__ge__ = lambda self, other: cnp.greater_equal(self, other)
    T.__neg__ = lambda self: cnp.negative(self)
    T.__pos__ = lambda self: self
    T.__abs__ = lambda self: cnp.absolute(self)
    T.__invert__ = lambda self: cnp.invert(self)
    T.__getitem__ = lambda self, index: cnp._indexing.getitem(self, index)
    T.at = property(lambda self: cnp._updates._AtIndexer(self))
    T.__hash__ = None

    T.T = property(lambda self: cnp.transpose(self))
    T.mT = property(lambda self: cnp.matrix_transpose(self))
    T.sum = lambda self, axis=None, dtype=None, out=None, keepdims=False: cnp.sum(
        self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)
    T.prod = lambda self, axis=None, dtype=None, out=None, keepdims=False: cnp.prod(
        self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)
    T.mean = lambda self, axis=None, dtype=None, out=None, keepdims=False: cnp.mean(
        self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)
    T.max = lambda self, axis=None, out=None, keepdims=False: cnp.max(
        self, axis=axis, out=out, keepdims=keepdims)
    T.min = lambda self, axis=None, out=None, keepdims=False: cnp.min(
        self, axis=axis, out=out, keepdims=keepdims)
    T.argmax = lambda self, axis=None, out=None, *, keepdims=False: cnp.argmax(
        self, axis=axis, out=out, keepdims=keepdims)
    T.argmin = lambda self, axis=None, out=None, *, keepdims=False: cnp.argmin(
        self, axis=axis, out=out, keepdims=keepdims)

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
            shape = shape[0]
        return cnp.reshape(self, shape, order=order)

    def transpose(self, *axes):
        if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], (int, np.integer))):
            axes = axes[0]
        return cnp.transpose(self, axes or None)

    T.reshape = reshape
    T.transpose = transpose
    T.astype = lambda self, dtype, copy=True: cnp._util.cast(self, dtype)
    T.dot = lambda self, b, out=None: cnp.dot(self, b, out=out)
    T.ravel = lambda self, order="C": cnp.ravel(self, order)
    T.flatten = lambda self, order="C": cnp.ravel(self, order)
    T.repeat = lambda self, repeats, axis=None: cnp.repeat(self, repeats, axis)
    T.take = lambda self, indices, axis=None, out=None, mode="raise": cnp.take(
        self, indices, axis, out, mode)
    T.diagonal = lambda self, offset=0, axis1=0, axis2=1: cnp.diagonal(self, offset, axis1, axis2)
    T.copy = lambda self, order="C": self     # traced arrays are immutable
    T.trace = lambda self, offset=0, axis1=0, axis2=1, dtype=None, out=None: cnp.trace(
        self, offset, axis1, axis2, dtype, out)
    T.squeeze = lambda self, axis=None: cnp.squeeze(self, axis)
    T.swapaxes = lambda self, axis1, axis2: cnp.swapaxes(self, axis1, axis2)
    T.clip = lambda self, min=None, max=None: cnp.clip(self, min, max)
    T.conj = T.conjugate = lambda self: self
    T.real = property(lambda self: self)
    T.imag = property(lambda self: cnp.imag(self))
    T.all = lambda self, axis=None, out=None, keepdims=False, *, where=None: cnp.all(
        self, axis=axis, out=out, keepdims=keepdims, where=where)
    T.any = lambda self, axis=None, out=None, keepdims=False, *, where=None: cnp.any(
        self, axis=axis, out=out, keepdims=keepdims, where=where)
    T.cumsum = lambda self, axis=None, dtype=None, out=None: cnp.cumsum(self, axis, dtype, out)
    T.cumprod = lambda self, axis=None, dtype=None, out=None: cnp.cumprod(self, axis, dtype, out)
    T.var = lambda self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw: cnp.var(
        self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kw)
    T.std = lambda self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw: cnp.std(
        self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kw)
    T.round = lambda self, decimals=0, out=None: cnp.round(self, decimals, out)
    T.argsort = lambda self, axis=-1, kind=None, order=None, *, stable=None: cnp.argsort(
        self, axis, kind, order, stable=stable)

    def sort(self, *args, **kwargs):
        raise TypeError("x.sort() sorts in place, which a traced array cannot; use "
                        f"y = numpy.sort(x) instead{where(user_source_info())}")

    T.sort = sort
