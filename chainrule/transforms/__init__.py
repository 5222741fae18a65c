"""The verbs users call: make_ir, jvp, linearize, vjp, grad, value_and_grad,
linear_transpose (and, as they land, vmap, jit, jacobian, ...)."""
from .ad import grad, jvp, linear_transpose, linearize, value_and_grad, vjp  # noqa: F401
from .make_ir import make_ir, trace, trace_to_ir  # noqa: F401
from .check_grads import GradientCheckError, check_grads  # noqa: F401
