"""The programs the benchmarks time, written once for every library.

``chain(n, sin)`` is a function of exactly ``n`` elementwise operations on a
small array (so its cost is per operation, not per element):
``sin``, ``* 1.0001``, ``+ 0.5``, ``sin``, ... .  Only ``sin`` differs
between libraries (``numpy.sin``, ``autograd.numpy.sin``, ``jax.numpy.sin``,
``torch.sin``); ``*`` and ``+`` are Python operators, which every library's
array type has.  Written with ``numpy.sin`` it traces under chainrule through
``__array_ufunc__`` (``sin``) and ``Tracer``'s operators (``*``, ``+``).
"""
from __future__ import annotations


def chain(n: int, sin):
    """``f(x)`` applying ``n`` operations in turn: sin, * 1.0001, + 0.5."""
    full, rest = divmod(n, 3)

    def f(x):
        for _ in range(full):
            x = sin(x) * 1.0001 + 0.5
        if rest >= 1:
            x = sin(x)
        if rest == 2:
            x = x * 1.0001
        return x

    f.__name__ = f"chain_{n}"
    return f
