"""Python's cyclic garbage collector while traces record.

A program being recorded is a growing heap of long-lived objects
(equations, variables, tracers) that are not garbage.  CPython's collector
runs a *full* collection, which walks every object alive, each time the
objects that survived its younger generations have grown by a quarter.  For
a large program that is a walk over the whole program every few thousand
equations, so tracing time grows faster than the program: before this
module, ``make_ir(grad(f))`` of 10^5 equations spent about 40 % of its time
in the collector (44 us per equation instead of 26).

So while any trace is open (in any thread), the threshold of the oldest
generation is raised ``PATIENCE`` times.  The young generations are
collected as before, so cyclic garbage that the traced function makes is
still freed young; only the walks over the long-lived heap wait.  When the
last trace closes, the thresholds are restored, unless someone changed them
meanwhile (then theirs are kept).  ``new_trace`` calls ``pause`` and
``resume`` around every trace.
"""
from __future__ import annotations

import gc
import threading

PATIENCE = 100   # the oldest generation's threshold while tracing, times its usual

_lock = threading.Lock()
_open = 0          # traces open, in all threads
_saved = None      # the thresholds before the first of them
_raised = None     # the thresholds set while they are open


def pause() -> None:
    """A trace opens: the first one raises the oldest generation's threshold."""
    global _open, _saved, _raised
    with _lock:
        _open += 1
        if _open == 1:
            _saved = gc.get_threshold()
            first, second, third = _saved
            _raised = (first, second, third * PATIENCE)
            gc.set_threshold(*_raised)


def resume() -> None:
    """A trace closes: the last one restores the thresholds."""
    global _open
    with _lock:
        _open -= 1
        if _open == 0 and gc.get_threshold() == _raised:
            gc.set_threshold(*_saved)
