"""``make_ir(f)(*args)``: trace ``f`` into a ``ClosedIR``.

The tracing itself (``trace``, ``trace_to_ir``: pytree arguments flattened,
one tracer per array leaf, the trace closed over the outputs) lives with the
tracer, in ``tracer/tracing.py``; ``make_ir`` traces abstractly, with shapes
and dtypes only.
"""
from __future__ import annotations

import functools

from ..tracer.aliasing import owned
from ..tracer.tracebacks import api_boundary
from ..tracer.tracing import trace_to_ir


@api_boundary
def make_ir(f, static_argnums=()):
    """Return a function that traces ``f`` on its arguments' shapes and
    dtypes and returns the program as a ``ClosedIR`` (print it to read it,
    ``.eval(*args)`` to run it).  Arguments at ``static_argnums`` are passed
    to ``f`` as they are (configuration, not data)."""

    @api_boundary
    @functools.wraps(f)
    def make_ir_f(*args, **kwargs):
        closed = trace_to_ir(f, args, static_argnums=static_argnums, name="make_ir",
                             kwargs=kwargs)
        # the arrays f read are the program's constants: copies, so that the
        # program does not change when the user writes to them later
        closed.consts = owned(closed.consts, closed.consts)
        return closed

    return make_ir_f
