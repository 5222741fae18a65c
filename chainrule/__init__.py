"""chainrule: automatic differentiation you can read.

Python + NumPy functions are traced into a flat SSA IR (``make_ir``), and
separate interpreters evaluate, differentiate, batch, compile and draw it.
"""
from . import numpy  # noqa: F401  (installs Tracer's operators)
from . import scipy  # noqa: F401
from .tracer.avals import ShapedArray  # noqa: F401
from .tracer.core import Primitive, Tracer, bind  # noqa: F401
from .tracer.errors import (ChainruleError, ConcretizationError, ShapeError,  # noqa: F401
                            TracerArrayConversionError, TracerLeakError)
from .tracer.ir import IR, ClosedIR, Equation, Literal, Var  # noqa: F401
from .tracer.pytree import (register_pytree_node, tree_flatten, tree_leaves,  # noqa: F401
                            tree_map, tree_structure, tree_unflatten)
from .transforms import (GradientCheckError, JacobianPlan, check_grads, grad,  # noqa: F401
                         hessian, jacfwd, jacobian, jacobian_plan, jacrev, jvp,
                         linear_transpose, linearize, make_ir, stop_gradient, value_and_grad,
                         vjp, vmap)

__version__ = "0.1.0"

# The drawing needs the graphviz package; it is imported when first used, so
# that tracing and differentiating work without it.
_DRAWING = {"draw": "transforms.views", "ad_stages": "transforms.views",
            "ADStages": "transforms.views", "IRDrawing": "interpreters.draw",
            "GraphvizNotFoundError": "interpreters.draw"}


def __getattr__(name):
    if name in _DRAWING:
        import importlib
        return getattr(importlib.import_module(f".{_DRAWING[name]}", __name__), name)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_DRAWING))
