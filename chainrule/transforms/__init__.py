"""The verbs users call: make_ir, jvp, linearize, vjp, grad, value_and_grad,
linear_transpose, vmap, jacfwd, jacrev, hessian, jacobian, jacobian_plan,
check_grads, jit; and the views draw and ad_stages (``views.py``, imported on use
because it needs graphviz)."""
from .ad import (grad, jvp, linear_transpose, linearize, stop_gradient,  # noqa: F401
                 value_and_grad, vjp)
from .make_ir import make_ir  # noqa: F401
from .check_grads import GradientCheckError, check_grads  # noqa: F401
from .jacfwd_jacrev import hessian, jacfwd, jacrev  # noqa: F401
from .vmap import vmap  # noqa: F401
from .jit import jit  # noqa: F401
from .planned_jacobian import JacobianPlan, jacobian, jacobian_plan  # noqa: F401
