"""Structured control flow in the IR: primitives whose params hold bodies
(sub-programs) and whose rules run the interpreters on them, so they stand
on a floor above the interpreters.

cond      ``cond`` and ``switch``: a choice between branches
scan      ``scan``: a loop of a fixed number of steps
while_loop  ``while_loop`` and ``fori_loop``: loops decided when they run
"""
from .cond import cond, switch  # noqa: F401
from .scan import scan  # noqa: F401
from .while_loop import fori_loop, while_loop  # noqa: F401
