"""Fixtures shared by the tests that prove nothing recurses over a program;
``current_trace`` for the tests that look at the stack of traces;
``load_script`` for the tests of what ``scripts/`` generate."""
import importlib.util
import pathlib
import sys

import pytest
from hypothesis import HealthCheck, settings

from chainrule.tracer import core

# Hypothesis profiles, for tests/test_random_programs.py: "random-programs",
# loaded by default, is a bounded run (derandomized, so every run draws the
# same programs); "long" draws 10,000 programs:
#     pytest --hypothesis-profile=long tests/test_random_programs.py
settings.register_profile(
    "random-programs", max_examples=800, deadline=None, derandomize=True, database=None,
    print_blob=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                            HealthCheck.data_too_large])
settings.register_profile("long", parent=settings.get_profile("random-programs"),
                          max_examples=10_000)
settings.load_profile("random-programs")


def current_trace():
    """The innermost active trace, or None outside any tracing (read off the
    tracer's stack of traces)."""
    stack = core._trace_stack.get()
    return stack[-1] if stack else None


def load_script(name):
    """The module ``scripts/<name>.py``."""
    path = pathlib.Path(__file__).resolve().parent.parent / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

DEFAULT_RECURSION_LIMIT = 1000  # CPython's default


@pytest.fixture
def default_recursion_limit():
    """Run the test at CPython's default recursion limit."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(DEFAULT_RECURSION_LIMIT)
    try:
        yield DEFAULT_RECURSION_LIMIT
    finally:
        sys.setrecursionlimit(previous)


@pytest.fixture
def shallow_stack():
    """A function that sets the recursion limit to 100 frames above the
    caller's depth (far fewer frames than a long program has equations)."""
    previous = sys.getrecursionlimit()

    def tighten():
        depth, frame = 0, sys._getframe(1)
        while frame is not None:
            depth, frame = depth + 1, frame.f_back
        sys.setrecursionlimit(depth + 100)

    try:
        yield tighten
    finally:
        sys.setrecursionlimit(previous)
