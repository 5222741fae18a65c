"""A program of 100,000 equations traces, prints, checks and evaluates at
Python's default recursion limit: the IR is a flat list of equations, and
nothing recurses over it.

Not a timed test: how fast this goes is measured in
benchmarks/bench_scaling.py.  Inputs are scalars so the work is per
equation, and the whole test stays a few seconds long.
"""
import sys

import numpy as np
import pytest

import chainrule as cr

N = 100_000


def chain(x):
    """N elementwise operations: sin, * 1.0001, + 0.5, sin, ... (N = 3k + 1)."""
    for _ in range(N // 3):
        x = np.sin(x) * 1.0001 + 0.5
    return np.sin(x)




@pytest.fixture(scope="module")
def expected():
    return chain(np.float64(0.3))


def test_100k_equations_trace_print_check_and_evaluate(default_recursion_limit, expected):
    assert N % 3 == 1
    closed = cr.make_ir(chain)(0.3)
    assert len(closed.eqns) == N
    assert sys.getrecursionlimit() == default_recursion_limit

    text = str(closed)
    lines = text.splitlines()
    assert len(lines) == N + 2
    assert lines[0] == "{ lambda ; a:f64[]. let"
    assert lines[1] == "    b:f64[] = sin a"
    assert lines[2] == "    c:f64[] = mul b 1.0001:f64[]"
    assert lines[3] == "    d:f64[] = add c 0.5:f64[]"
    # the last of 100,001 variables is number 100,000 in base 26: f r y e
    assert lines[-2].startswith("    frye:f64[] = sin ")
    assert lines[-1] == "  in (frye,) }"

    assert closed.check() is True

    out = closed.eval(0.3)
    assert out == expected  # the same NumPy calls in the same order: bit for bit
    # and again, on another input, reusing the cached liveness of the program
    assert closed.eval(1.7) == chain(np.float64(1.7))

