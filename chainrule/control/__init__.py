"""Structured control flow in the IR: primitives whose params hold bodies
(sub-programs) and whose rules run the interpreters on them, so they stand
on a floor above the interpreters.

cond      ``cond`` and ``switch``: a choice between branches
"""
from .cond import cond, switch  # noqa: F401
