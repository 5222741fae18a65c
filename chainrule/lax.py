"""``chainrule.lax``: the structured control flow under the names of
``jax.lax``, so that code written against ``jax.lax`` reads the same.

cond, switch      a choice between branches, made when the program runs
stop_gradient     a value with a zero derivative
"""
from .control import cond, switch  # noqa: F401
from .transforms import stop_gradient  # noqa: F401
