"""Bounded state: nothing chainrule keeps grows without bound with use, and
``cr.clear_caches()`` empties every cache (docs/api.md, "Caches").

The long test makes ``N`` functions with distinct code objects (the source
cache is keyed by code object, so closures sharing one code object would not
do) and runs ``make_ir`` on each, ``grad`` or ``vmap`` on every other one and
``jacobian`` on one in sixteen, plus one long-lived ``jacobian`` function
called at 50 argument signatures.  ``N`` is 2·10^4 by default (about 5 s);
``CHAINRULE_BOUNDED_STATE_N=100000`` runs the 10^5 of the issue (about 40 s).
Every cache stays within its bound at every step, and after
``cr.clear_caches()`` the memory (pymalloc blocks and gc-tracked objects) at
``N`` is that at ``N / 4``: nothing outside the caches grew.
"""
import gc
import os
import sys
import types
import weakref

import numpy as np
import pytest

import chainrule as cr
from chainrule.numpy import _util
from chainrule.tracer import avals, source
from chainrule.transforms import planned_jacobian as pj

N = int(os.environ.get("CHAINRULE_BOUNDED_STATE_N", 20_000))

SOURCE = """\
def f(x):
    y = np.sin(x)
    return y * y + x
"""


def distinct_functions():
    """``f0, f1, ...``: the same function, each with a code object of its own
    (a new first line number and name), as ``exec`` of distinct source would
    make, at a fraction of the cost."""
    namespace = {"np": np}
    exec(compile(SOURCE, "<distinct functions>", "exec"), namespace)
    code = namespace["f"].__code__
    i = 0
    while True:
        yield types.FunctionType(code.replace(co_firstlineno=i + 1, co_name=f"f{i}"), namespace)
        i += 1


def cache_sizes(long_lived):
    return {"source": len(source._internal_code),
            "source lines": len(source._places),
            "resolve": _util._resolve.cache_info().currsize,
            "avals": len(avals._SHARED_AVALS),
            "shape rule answers": len(avals.SHAPE_RULE_ANSWERS),
            "jacobian signatures": len(long_lived.plans),
            "jacobian programs": max((len(e.programs) for e in long_lived.plans.values()),
                                     default=0)}


BOUNDS = {"source": source._INTERNAL_CODE_MAX,
          "source lines": source._INTERNAL_CODE_MAX,
          "resolve": _util._RESOLVE_CACHE_SIZE,
          "avals": avals._SHARED_AVALS_MAX,
          "shape rule answers": avals.SHAPE_RULE_ANSWERS_MAX,
          "jacobian signatures": pj._SIGNATURES_PER_FUNCTION,
          "jacobian programs": pj._PROGRAMS_PER_SIGNATURE}


def memory():
    gc.collect()
    return sys.getallocatedblocks(), len(gc.get_objects())


def test_caches_stay_bounded_and_clear_caches_empties_them():
    x, xs = np.ones(3), np.ones((2, 3))
    long_lived = cr.jacobian(lambda v: np.tanh(v) * v)
    functions = distinct_functions()
    most = dict.fromkeys(BOUNDS, 0)
    after_clear = {}
    for i in range(N):
        f = next(functions)
        cr.make_ir(f)(x)
        if i % 4 == 1:
            cr.grad(lambda v: np.sum(f(v)))(x)
        elif i % 4 == 2:
            cr.vmap(f)(xs)
        elif i % 16 == 3:
            np.testing.assert_allclose(cr.jacobian(f)(x), cr.jacfwd(f)(x))
            long_lived(np.ones(1 + i // 16 % 50))
        for name, size in cache_sizes(long_lived).items():
            most[name] = max(most[name], size)
        if i + 1 in (N // 4, N):
            cr.clear_caches()
            assert all(size == 0 for size in cache_sizes(long_lived).values())
            after_clear[i + 1] = memory()
    # every cache was used, and none went past its bound
    assert all(most[name] > 0 for name in BOUNDS), most
    assert all(most[name] <= BOUNDS[name] for name in BOUNDS), (most, BOUNDS)
    # the distinct functions did fill the source cache, the 50 signatures the jacobian's
    assert most["source"] == BOUNDS["source"]
    assert most["jacobian signatures"] == BOUNDS["jacobian signatures"]
    # with the caches empty, three times as many functions left nothing behind
    (blocks_a, objects_a), (blocks_b, objects_b) = after_clear[N // 4], after_clear[N]
    assert blocks_b - blocks_a < 2_000, (blocks_a, blocks_b)
    assert objects_b - objects_a < 200, (objects_a, objects_b)
    # and everything still works, from empty caches
    f = next(functions)
    assert cr.grad(lambda v: np.sum(f(v)))(x) == pytest.approx(2 * np.sin(x) * np.cos(x) + 1)
    np.testing.assert_allclose(long_lived(np.ones(4)), cr.jacrev(lambda v: np.tanh(v) * v)(
        np.ones(4)))


def test_a_jacobian_function_keeps_its_last_signatures(monkeypatch):
    monkeypatch.setattr(pj, "_SIGNATURES_PER_FUNCTION", 3)

    def f(v):
        return np.sin(v) * np.sum(v)

    jac = cr.jacobian(f)
    (cache,) = [c for c in pj._CACHES if c.plans is jac.plans]
    for n in range(1, 7):
        x = np.linspace(0.1, 1, n)
        np.testing.assert_allclose(jac(x), cr.jacfwd(f)(x))
        assert len(jac.plans) == min(n, 3)
        # the constants' budget counts exactly the programs still kept
        assert cache.used == sum(pj._nbytes(p) for e in jac.plans.values()
                                 for p in e.programs.values())
    assert [key[1][0][0] for key in jac.plans] == [(4,), (5,), (6,)]
    # a forgotten signature is planned anew, with the same result
    np.testing.assert_allclose(jac(np.linspace(0.1, 1, 1)), cr.jacfwd(f)(np.linspace(0.1, 1, 1)))


def test_clear_caches_forgets_every_jacobian_functions_plans():
    fs = [cr.jacobian(lambda v, k=k: np.sin(v) * k) for k in range(3)]
    before = [jac(np.ones(2)) for jac in fs]
    assert all(len(jac.plans) == 1 for jac in fs)
    cr.clear_caches()
    assert all(len(jac.plans) == 0 for jac in fs)
    assert len(source._internal_code) == 0 and _util._resolve.cache_info().currsize == 0
    for jac, b in zip(fs, before):
        np.testing.assert_array_equal(jac(np.ones(2)), b)
    # a jacobian function that is gone leaves no cache behind
    caches = [weakref.ref(c) for c in pj._CACHES if any(c.plans is j.plans for j in fs)]
    assert len(caches) == 3
    del fs, jac
    gc.collect()
    assert all(ref() is None for ref in caches)


def test_the_source_cache_is_emptied_when_full(monkeypatch):
    monkeypatch.setattr(source, "_INTERNAL_CODE_MAX", 8)
    functions = distinct_functions()
    for _ in range(40):
        f = next(functions)
        closed = cr.make_ir(f)(1.0)
        assert len(source._internal_code) <= 8
        # the user's line is still found
        assert closed.eqns[0].source_info.function == f.__name__
