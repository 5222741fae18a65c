"""Interpreters: loops over an IR's equations.  ``evaluate`` runs a program
with NumPy (or, given tracers, stages it into their trace)."""
from .evaluate import eval_ir  # noqa: F401
