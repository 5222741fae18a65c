"""The verbs users call: make_ir (and, as they land, grad, jvp, vjp,
linearize, vmap, jit, jacobian, ...)."""
from .make_ir import make_ir, trace_to_ir  # noqa: F401
