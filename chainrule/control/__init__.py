"""Structured control flow in the IR: primitives whose params hold bodies
(sub-programs) and whose rules run the interpreters on them, so they stand
on a floor above the interpreters.

cond      ``cond`` and ``switch``: a choice between branches
scan      ``scan``: a loop of a fixed number of steps
while_loop  ``while_loop`` and ``fori_loop``: loops decided when they run
checkpoint  ``checkpoint`` (``remat``): reverse mode recomputes instead of storing
custom    ``custom_jvp`` and ``custom_vjp``: derivative rules written by the user
"""
from .checkpoint import checkpoint, checkpoint_policies, remat  # noqa: F401
from .cond import cond, switch  # noqa: F401
from .custom import custom_jvp, custom_vjp  # noqa: F401
from .scan import scan  # noqa: F401
from .while_loop import fori_loop, while_loop  # noqa: F401
