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


def chain_grad_numpy(n: int):
    """The gradient of ``sum(chain(n, np.sin)(x))`` written by hand in NumPy:
    the forward pass keeps each ``sin`` input, the backward pass multiplies
    the cotangent by ``cos`` of it (and by 1.0001 for each ``* 1.0001``)."""
    import numpy as np

    full, rest = divmod(n, 3)

    def grad(x):
        sin_inputs = []
        for _ in range(full):
            sin_inputs.append(x)
            x = np.sin(x) * 1.0001 + 0.5
        if rest >= 1:
            sin_inputs.append(x)
            x = np.sin(x)
        if rest == 2:
            x = x * 1.0001
        ct = np.ones_like(x)
        if rest == 2:
            ct = ct * 1.0001
        if rest >= 1:
            ct = ct * np.cos(sin_inputs.pop())
        for xi in reversed(sin_inputs):
            ct = ct * 1.0001 * np.cos(xi)
        return ct

    return grad
