"""Interpreters: loops over an IR's equations.

evaluate   run a program with NumPy (or stage it into an enclosing trace)
jvp        forward mode: push tangents through a program
linearize  partial evaluation: known primals now, a linear tangent program for later
transpose  reverse mode: the linear program run backwards on cotangents
"""
from .evaluate import eval_ir  # noqa: F401
from .jvp import jvp_ir, jvp_walk  # noqa: F401
from .linearize import linearize_ir  # noqa: F401
from .transpose import backward_pass, transpose_ir  # noqa: F401
