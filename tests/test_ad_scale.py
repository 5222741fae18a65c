"""Reverse mode at scale: long chains and the memory of the backward pass.

* ``grad`` of a chain of 20,000 elementwise operations works at Python's
  default recursion limit and gives the chain-rule product computed by hand.
* Memory of a 200-layer chain ``x -> tanh(x) * 1.01`` on arrays of 1 MB
  (131072 float64), measured with ``tracemalloc`` (NumPy reports its
  allocations to it).  Reverse mode must keep one residual per ``tanh``
  layer (``tanh' = 1 - y^2`` needs ``y`` or ``1 - y^2``): about 200 MB is
  unavoidable.  What must not happen is holding *dead* arrays: the
  backward walk frees each residual after its last use, so memory goes
  down as it proceeds, and the peak stays within the residuals plus a
  small constant number of arrays.
"""
from __future__ import annotations

import sys
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule import primitives as P





# -- 20,000 operations ---------------------------------------------------------
STEPS = 6667      # 3 operations per step: 20,001 equations


def long_chain(x):
    for _ in range(STEPS):
        x = x + np.sin(x) * 1e-3
    return x


def test_grad_of_a_20000_operation_chain(default_recursion_limit):
    x0 = 0.7
    # by hand: x_{k+1} = x_k + 1e-3 sin(x_k), d x_{k+1} / d x_k = 1 + 1e-3 cos(x_k)
    x, derivative = x0, 1.0
    for _ in range(STEPS):
        derivative *= 1 + 1e-3 * np.cos(x)
        x = x + np.sin(x) * 1e-3
    closed = cr.make_ir(long_chain)(x0)
    assert len(closed.eqns) == 3 * STEPS >= 20_000
    value, g = cr.value_and_grad(long_chain)(x0)
    assert sys.getrecursionlimit() == default_recursion_limit
    assert value == pytest.approx(x, rel=1e-12)
    assert g == pytest.approx(derivative, rel=1e-10)
    assert abs(g - 1.0) > 0.5          # far from trivial: the product matters


# -- memory ----------------------------------------------------------------------
N = 131072                 # 1 MB of float64
LAYERS = 200
MB = N * 8
SLACK = 10                 # arrays allowed beyond the residuals still needed


def deep_chain(x):
    for _ in range(LAYERS):
        x = np.tanh(x) * 1.01
    return np.sum(x)


def _expected_grad(x):
    g = np.ones_like(x)
    ys = []
    for _ in range(LAYERS):
        y = np.tanh(x)
        ys.append(y)
        x = y * 1.01
    for y in reversed(ys):
        g = g * 1.01 * (1 - y * y)
    return g


@pytest.fixture
def traced_memory():
    """tracemalloc running; yields a function giving the memory allocated
    since the fixture started, in arrays of 1 MB."""
    x = np.random.default_rng(0).standard_normal(N)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        yield x, lambda m: (m - base) / MB
    finally:
        tracemalloc.stop()


def _record_memory(monkeypatch, prims, events):
    """Wrap ``prim.impl`` of each of ``prims`` to append (name, memory in use
    right after the call) to ``events``."""
    for prim in prims:
        original = prim.impl

        def recording(*args, _original=original, _name=prim.name, **params):
            out = _original(*args, **params)
            events.append((_name, tracemalloc.get_traced_memory()[0]))
            return out
        monkeypatch.setattr(prim, "impl", recording)


def test_backward_walk_frees_residuals_as_it_goes(traced_memory, monkeypatch):
    x, arrays = traced_memory
    expected = _expected_grad(x)
    events = []
    _record_memory(monkeypatch, (P.tanh_p, P.sub_p, P.mul_p), events)
    g = cr.grad(deep_chain)(x)
    np.testing.assert_allclose(g, expected, rtol=1e-10)
    # the forward computes tanh, its rule's 1 - y^2 (a sub) and the primal
    # * 1.01 per layer; the backward walk is the last muls: two per layer,
    # ct * 1.01 and ct * (1 - y^2), from the last layer to the first
    muls = [(i, m) for i, (name, m) in enumerate(events) if name == "mul"]
    last_sub = max(i for i, (name, _) in enumerate(events) if name == "sub")
    backward = [m for i, m in muls[-2 * LAYERS:]]
    assert all(i > last_sub for i, _ in muls[-2 * LAYERS:])
    start = arrays(backward[0])
    assert start >= LAYERS - SLACK, f"only {start:.0f} arrays live when the backward walk starts"
    for k, m in enumerate(backward):
        layers_left = LAYERS - k // 2          # residuals not yet consumed
        assert arrays(m) <= layers_left + SLACK, (
            f"backward step {k}: {arrays(m):.1f} arrays live, but only {layers_left} "
            "residuals are still needed")
    assert arrays(backward[-1]) <= SLACK


def test_vjp_keeps_only_the_residuals_and_its_backward_adds_a_constant(traced_memory):
    x, arrays = traced_memory
    expected = _expected_grad(x)
    out, vjp_fn = cr.vjp(deep_chain, x)
    held = arrays(tracemalloc.get_traced_memory()[0])
    # one residual per tanh layer, nothing else of the forward pass
    assert LAYERS - SLACK <= held <= LAYERS + SLACK, f"vjp holds {held:.1f} arrays"
    tracemalloc.reset_peak()
    (g,) = vjp_fn(1.0)
    peak = arrays(tracemalloc.get_traced_memory()[1])
    np.testing.assert_allclose(g, expected, rtol=1e-10)
    assert peak <= held + SLACK, (
        f"the backward walk reached {peak:.1f} arrays on top of the {held:.1f} it holds")


def test_peak_memory_of_grad_is_the_residuals_plus_a_constant(traced_memory):
    # The minimum for reverse mode here is one residual per tanh layer
    # (LAYERS arrays); everything else the forward pass computes (the input
    # of each tanh, y * 1.01) is dead once the next layer has read it.
    x, arrays = traced_memory
    tracemalloc.reset_peak()
    g = cr.grad(deep_chain)(x)
    peak = arrays(tracemalloc.get_traced_memory()[1])
    del g
    assert peak <= LAYERS + SLACK, (
        f"grad's peak memory is {peak:.1f} arrays of 1 MB for {LAYERS} residuals "
        f"(allowed {LAYERS + SLACK})")
