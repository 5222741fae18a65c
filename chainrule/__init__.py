"""chainrule: automatic differentiation you can read.

Python + NumPy functions are traced into a flat SSA IR (``make_ir``), and
separate interpreters evaluate, differentiate (forward mode, and reverse
mode as linearize-then-transpose), batch and draw it.

The package is built in floors, each importing only the ones below it:
``tracer`` (the IR, tracing, pytrees), ``primitives`` (each primitive with
its rules), ``interpreters`` and ``numpy`` (walkers over the IR; NumPy's
names over ``bind``), ``scipy``, ``transforms`` (what users call), and this
module, which wires the conveniences of ``ClosedIR`` that need the upper
floors (``eval``, ``cost``, ``draw``, the Jupyter displays) onto the IR.
"""
from . import numpy  # noqa: F401  (installs Tracer's operators)
from . import scipy  # noqa: F401
from . import lax  # noqa: F401
from .control import cond, fori_loop, scan, switch, while_loop  # noqa: F401
from .control import custom_jvp, custom_vjp  # noqa: F401
from .control import checkpoint, checkpoint_policies, remat  # noqa: F401
from .interpreters.cost import ir_cost as _ir_cost
from .interpreters.evaluate import eval_closed as _eval_closed
from .interpreters import passes  # noqa: F401
from .tracer import ir as _ir
from .tracer.avals import ShapedArray, float0  # noqa: F401
from .tracer.config import config  # noqa: F401
from .tracer.core import Primitive, Tracer, bind  # noqa: F401
from .tracer.errors import (ChainruleError, ConcretizationError, NonFiniteError,  # noqa: F401
                            ShapeError, TracerArrayConversionError, TracerConversionError,
                            TracerLeakError)
from .tracer.ir import IR, ClosedIR, Equation, Literal, Var  # noqa: F401
from .tracer.pytree import (register_pytree_node, tree_flatten, tree_leaves,  # noqa: F401
                            tree_map, tree_structure, tree_unflatten)
from .transforms import (GradientCheckError, JacobianPlan, check_grads, grad,  # noqa: F401
                         hessian, jacfwd, jacobian, jacobian_plan, jacrev, jit, jvp,
                         linear_transpose, linearize, make_ir, stop_gradient, value_and_grad,
                         vjp, vmap)
from .transforms.caches import clear_caches  # noqa: F401

__version__ = "0.1.0"


# The drawing needs the graphviz package; it is imported when first used, so
# that tracing and differentiating work without it.
def _draw(closed, *args, **options):
    from .transforms.views import draw_closed_ir
    return draw_closed_ir(closed, *args, **options)


def _svg(closed):
    from .interpreters.draw import closed_ir_svg
    return closed_ir_svg(closed)


def _html(closed):
    from .interpreters.draw import closed_ir_html
    return closed_ir_html(closed)


def _mimebundle(closed):
    from .interpreters.draw import closed_ir_mimebundle
    return closed_ir_mimebundle(closed)


_ir.provide(evaluate=_eval_closed, cost=_ir_cost, draw=_draw, svg=_svg, html=_html,
            mimebundle=_mimebundle)


def __getattr__(name):
    # cr.draw, cr.ad_stages, cr.ADStages (transforms/views.py) and cr.IRDrawing,
    # cr.GraphvizNotFoundError (interpreters/draw.py), imported on first use
    if name in ("draw", "ad_stages", "ADStages"):
        from .transforms import views
        return getattr(views, name)
    if name in ("IRDrawing", "GraphvizNotFoundError"):
        from .interpreters import draw
        return getattr(draw, name)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {"draw", "ad_stages", "ADStages", "IRDrawing",
                                    "GraphvizNotFoundError"})
