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
from .transforms import (GradientCheckError, check_grads, grad, jvp, linear_transpose, linearize, make_ir,  # noqa: F401
                         value_and_grad, vjp)
from .transforms import ADStages, ad_stages, draw  # noqa: F401
from .interpreters.draw import GraphvizNotFoundError, IRDrawing  # noqa: F401

from .transforms import (hessian, jacfwd, jacobian, jacobian_plan, jacrev,  # noqa: F401
                         stop_gradient, vmap)

__version__ = "0.1.0"
