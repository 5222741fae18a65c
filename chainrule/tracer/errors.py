"""The errors a user of chainrule can meet, each worded for a person.

Every message names what was wrong, where in the user's code (see
``source.py``) and what to do instead.
"""


class ChainruleError(Exception):
    """Base class of chainrule's own errors."""


class ConcretizationError(ChainruleError, TypeError):
    """Python control flow (``if``, ``while``, ``bool()``, ``float()``) on a value
    whose numbers are unknown because it is being traced abstractly."""


class TracerLeakError(ChainruleError, RuntimeError):
    """A tracer was used after the trace that made it had finished."""


class TracerArrayConversionError(ChainruleError, TypeError):
    """A tracer was handed to code that needs a concrete NumPy array."""


class TracerConversionError(ChainruleError, TypeError):
    """A traced value that carries a derivative was converted to a Python or
    NumPy number (``float()``, ``.item()``, ``math.sin``, ``out[i] = x``),
    which would make it a constant and drop its derivative."""


class ShapeError(ChainruleError, ValueError):
    """Operand shapes or dtypes that a primitive or NumPy function rejects."""


class NonFiniteError(ChainruleError, FloatingPointError):
    """With ``cr.config.debug_nans`` on: an equation produced NaN or infinity
    from finite inputs."""
