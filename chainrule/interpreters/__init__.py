"""Interpreters: loops over an IR's equations, each with an environment
(``env.py``) from variables to values.

evaluate   run a program with NumPy (or stage it into an enclosing trace)
jvp        forward mode: push tangents through a program
transpose  reverse mode: the linear program run backwards on cotangents
batch      vmap: run a program on values with a batch axis
chain      read a linear program as a chain of Jacobian factors
cost       count a program's flops
draw       a program as a Graphviz picture (imports graphviz)
"""
from .evaluate import eval_ir  # noqa: F401
from .jvp import jvp_ir, jvp_walk  # noqa: F401
from .transpose import backward_pass, transpose_ir  # noqa: F401
