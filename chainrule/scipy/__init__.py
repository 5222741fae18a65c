"""``chainrule.scipy``: the few SciPy functions chainrule provides, under
SciPy's names (``chainrule.scipy.special``, ``chainrule.scipy.linalg``).  SciPy itself is not a
dependency, and plain SciPy calls are not dispatched to these."""
from . import linalg, special  # noqa: F401
