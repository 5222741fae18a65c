"""``chainrule.lax``: the structured control flow under the names of
``jax.lax``, so that code written against ``jax.lax`` reads the same.

cond, switch      a choice between branches, made when the program runs
scan, fori_loop   loops of a number of steps known when tracing
while_loop        a loop of a number of steps decided when it runs
stop_gradient     a value with a zero derivative
"""
from .control import cond, fori_loop, scan, switch, while_loop  # noqa: F401
from .transforms import stop_gradient  # noqa: F401
