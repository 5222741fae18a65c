"""Nested tracing (chainrule/tracer/core.py, "Nesting") and concrete tracing.

An inner ``make_ir`` inside the tracing of an outer function lifts outer
tracers it meets to const vars; evaluating the inner IR inside the outer
trace stages its equations into the outer trace, so the result is one flat
IR.  Expected texts are written by hand from those rules.
"""
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.tracer.core import Primitive, Tracer
from chainrule.tracer.tracing import trace_to_ir
from conftest import current_trace

THIS_FILE = os.path.basename(__file__)


@pytest.fixture(autouse=True)
def no_trace_left_behind():
    assert current_trace() is None
    yield
    assert current_trace() is None


def g(y):
    return np.sin(y) * 2.0


def flat_outer(x):
    return cr.make_ir(g)(x).eval(x) * x


def test_make_ir_of_evaluated_inner_ir_is_one_flat_ir():
    closed = cr.make_ir(lambda x: cr.make_ir(g)(x).eval(x) * x)(3.0)
    closed.check()
    assert str(closed) == """\
{ lambda ; a:f64[]. let
    b:f64[] = sin a
    c:f64[] = mul b 2.0:f64[]
    d:f64[] = mul c a
  in (d,) }"""
    assert closed.eval(3.0) == np.sin(3.0) * 2.0 * 3.0


def test_staged_equations_keep_the_inner_source_lines():
    closed = cr.make_ir(flat_outer)(np.ones(2))
    g_line = g.__code__.co_firstlineno + 1
    outer_line = flat_outer.__code__.co_firstlineno + 1
    assert closed.pretty(source_info=True) == f"""\
{{ lambda ; a:f64[2]. let
    b:f64[2] = sin a  # {THIS_FILE}:{g_line} (g)
    c:f64[2] = mul b 2.0:f64[]  # {THIS_FILE}:{g_line} (g)
    d:f64[2] = mul c a  # {THIS_FILE}:{outer_line} (flat_outer)
  in (d,) }}"""


def test_inner_ir_closing_over_an_outer_tracer():
    record = {}

    def outer(x):
        def inner(y):
            return y * x + 1.0

        closed_inner = cr.make_ir(inner)(x)
        record["inner_text"] = str(closed_inner)
        record["consts"] = list(closed_inner.consts)
        record["x"] = x
        record["outer_trace"] = current_trace()
        return closed_inner.eval(np.sin(x))

    closed = cr.make_ir(outer)(2.0)
    closed.check()
    # inside: x is a const var of the inner IR, its value the outer tracer
    assert record["inner_text"] == """\
{ lambda a:f64[] ; b:f64[]. let
    c:f64[] = mul b a
    d:f64[] = add c 1.0:f64[]
  in (d,) }"""
    (const,) = record["consts"]
    assert isinstance(const, Tracer)
    assert const is record["x"]
    assert const._trace is record["outer_trace"]
    # evaluating it inside the outer trace emitted into the outer trace
    assert str(closed) == """\
{ lambda ; a:f64[]. let
    b:f64[] = sin a
    c:f64[] = mul b a
    d:f64[] = add c 1.0:f64[]
  in (d,) }"""
    assert closed.consts == []
    # the outer trace is over: its tracers are dead
    assert not record["outer_trace"].active
    np.testing.assert_allclose(closed.eval(2.0), np.sin(2.0) * 2.0 + 1.0)


def test_inner_ir_evaluated_on_concrete_values_inside_outer_trace():
    # no argument is a tracer, but a const is: the equations are still staged
    def outer(x):
        closed_inner = cr.make_ir(lambda y: y * x + 1.0)(1.0)
        return closed_inner.eval(3.0)

    closed = cr.make_ir(outer)(np.float64(2.0))
    assert str(closed) == """\
{ lambda ; a:f64[]. let
    b:f64[] = mul 3.0:f64[] a
    c:f64[] = add b 1.0:f64[]
  in (c,) }"""
    assert closed.eval(2.0) == 7.0


def test_inner_ir_with_a_numpy_constant_staged_into_outer():
    w = np.array([1.0, 2.0, 3.0])

    def outer(x):
        inner = cr.make_ir(lambda y: y * w)(x)
        return inner.eval(x) + x

    closed = cr.make_ir(outer)(np.ones(3))
    assert str(closed) == """\
{ lambda a:f64[3] ; b:f64[3]. let
    c:f64[3] = mul b a
    d:f64[3] = add c b
  in (d,) }"""
    np.testing.assert_array_equal(closed.consts[0], w)
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(closed.eval(x), x * w + x)


def test_three_levels_of_nesting():
    texts = {}
    traces = {}
    consts = {}

    def level3(z):
        traces[3] = current_trace()

        def level2(y):
            traces[2] = current_trace()

            def level1(x):
                return x * y * z

            ir1 = cr.make_ir(level1)(y)
            texts[1] = str(ir1)
            consts[1] = list(ir1.consts)
            return ir1.eval(y) + 1.0

        ir2 = cr.make_ir(level2)(z)
        texts[2] = str(ir2)
        consts[2] = list(ir2.consts)
        return ir2.eval(z) * 3.0

    closed = cr.make_ir(level3)(2.0)
    closed.check()
    # level 1 lifts y (a level-2 tracer) and z (a level-3 tracer), in the
    # order it meets them
    assert texts[1] == """\
{ lambda a:f64[] b:f64[] ; c:f64[]. let
    d:f64[] = mul c a
    e:f64[] = mul d b
  in (e,) }"""
    assert [c._trace for c in consts[1]] == [traces[2], traces[3]]
    # evaluated at level 2 with x = y: y*y is level 2's own, z is lifted
    assert texts[2] == """\
{ lambda a:f64[] ; b:f64[]. let
    c:f64[] = mul b b
    d:f64[] = mul c a
    e:f64[] = add d 1.0:f64[]
  in (e,) }"""
    assert [c._trace for c in consts[2]] == [traces[3]]
    assert str(closed) == """\
{ lambda ; a:f64[]. let
    b:f64[] = mul a a
    c:f64[] = mul b a
    d:f64[] = add c 1.0:f64[]
    e:f64[] = mul d 3.0:f64[]
  in (e,) }"""
    for z in (2.0, -0.5, 3.0):
        assert closed.eval(z) == pytest.approx((z * z * z + 1.0) * 3.0)


def test_inner_consts_are_outer_tracers_only_while_traced():
    seen = {}

    def outer(x, w):
        inner = cr.make_ir(lambda y: np.tanh(y @ w) * x)(x)
        seen["consts"] = list(inner.consts)
        seen["trace"] = current_trace()
        seen["inner"] = inner
        seen["inner_text"] = str(inner)
        return inner.eval(x)

    closed = cr.make_ir(outer)(np.ones(3), np.ones((3, 3)))
    # w then x, in the order the inner trace met them
    assert seen["inner_text"] == """\
{ lambda a:f64[3,3] b:f64[3] ; c:f64[3]. let
    d:f64[3] = dot_general[dimension_numbers=(((0,), (0,)), ((), ()))] c a
    e:f64[3] = tanh d
    f:f64[3] = mul e b
  in (f,) }"""
    consts = seen["consts"]
    assert len(consts) == 2
    assert all(isinstance(c, Tracer) and c._trace is seen["trace"] for c in consts)
    assert [c.aval.str_short() for c in consts] == ["f64[3,3]", "f64[3]"]
    # once the outer trace is over they are dead tracers
    assert all(not c._trace.active for c in consts)
    # the outer IR has no consts: both were its own inputs
    assert closed.consts == []
    assert str(closed) == """\
{ lambda ; a:f64[3] b:f64[3,3]. let
    c:f64[3] = dot_general[dimension_numbers=(((0,), (0,)), ((), ()))] a b
    d:f64[3] = tanh c
    e:f64[3] = mul d a
  in (e,) }"""


def test_inner_equation_on_outer_tracers_only_is_recorded_in_the_outer_trace():
    # core.py: an equation whose tracers all belong to the outer trace does
    # not depend on the inner inputs and is recorded in the outer trace; its
    # result is then an outer tracer, lifted into the inner IR
    seen = {}

    def outer(x):
        inner = cr.make_ir(lambda y: y + np.sin(x))(x)
        seen["inner_text"] = str(inner)
        return inner.eval(x * 2.0)

    closed = cr.make_ir(outer)(1.0)
    assert seen["inner_text"] == """\
{ lambda a:f64[] ; b:f64[]. let
    c:f64[] = add b a
  in (c,) }"""
    assert str(closed) == """\
{ lambda ; a:f64[]. let
    b:f64[] = sin a
    c:f64[] = mul a 2.0:f64[]
    d:f64[] = add c b
  in (d,) }"""
    assert closed.eval(1.0) == 2.0 + np.sin(1.0)


def test_closed_ir_can_be_evaluated_repeatedly():
    # evaluation must not consume the ClosedIR's const values
    w = np.array([1.0, 2.0, 3.0])
    closed = cr.make_ir(lambda x: x * w + w)(np.ones(3))
    assert len(closed.consts) == 1
    for x in (np.zeros(3), np.ones(3), np.arange(3.0)):
        np.testing.assert_array_equal(closed.eval(x), x * w + w)
    assert len(closed.consts) == 1
    np.testing.assert_array_equal(closed.consts[0], w)


def test_inner_closed_ir_evaluated_twice_inside_the_outer_trace():
    def outer(x):
        inner = cr.make_ir(lambda y: y * x)(x)
        return inner.eval(x) + inner.eval(1.0)

    closed = cr.make_ir(outer)(3.0)
    assert str(closed) == """\
{ lambda ; a:f64[]. let
    b:f64[] = mul a a
    c:f64[] = mul 1.0:f64[] a
    d:f64[] = add b c
  in (d,) }"""
    assert closed.eval(3.0) == 12.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_evaluating_after_tracing_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=4)
    w = rng.normal(size=(4, 3))

    def model(x, w):
        def layer(h):
            return np.tanh(h @ w)

        h = cr.make_ir(layer)(x).eval(x)
        return np.sum(h ** 2) + np.exp(x).mean()

    closed = cr.make_ir(model)(x, w)
    closed.check()
    expected = np.sum(np.tanh(x @ w) ** 2) + np.exp(x).mean()
    np.testing.assert_allclose(closed.eval(x, w), expected, rtol=1e-12)
    x2, w2 = rng.normal(size=4), rng.normal(size=(4, 3))
    np.testing.assert_allclose(closed.eval(x2, w2),
                               np.sum(np.tanh(x2 @ w2) ** 2) + np.exp(x2).mean(), rtol=1e-12)


# -- concrete tracing ----------------------------------------------------------------
def branchy(x):
    if x > 0:
        return np.sin(x)
    return np.cos(x) * 2.0


def test_concrete_tracing_records_the_branch_taken():
    pos = trace_to_ir(branchy, (1.0,), concrete=True)
    neg = trace_to_ir(branchy, (-1.0,), concrete=True)
    # the comparison is recorded too; nothing reads it, so it prints as _
    assert str(pos) == """\
{ lambda ; a:f64[]. let
    _:bool[] = gt a 0.0:f64[]
    b:f64[] = sin a
  in (b,) }"""
    assert str(neg) == """\
{ lambda ; a:f64[]. let
    _:bool[] = gt a 0.0:f64[]
    b:f64[] = cos a
    c:f64[] = mul b 2.0:f64[]
  in (c,) }"""
    assert str(pos) != str(neg)
    # each IR is the path taken: evaluated elsewhere it keeps that path
    assert pos.eval(-1.0) == np.sin(-1.0)
    assert neg.eval(1.0) == np.cos(1.0) * 2.0
    # abstractly the same function cannot be traced
    with pytest.raises(cr.ConcretizationError):
        cr.make_ir(branchy)(1.0)


def test_concrete_tracing_unrolls_a_while_loop():
    def doubling(x):
        while x < 10.0:
            x = x * 2.0
        return x

    closed = trace_to_ir(doubling, (1.0,), concrete=True)
    # 1 -> 2 -> 4 -> 8 -> 16: four multiplications, five tests
    assert str(closed) == """\
{ lambda ; a:f64[]. let
    _:bool[] = lt a 10.0:f64[]
    b:f64[] = mul a 2.0:f64[]
    _:bool[] = lt b 10.0:f64[]
    c:f64[] = mul b 2.0:f64[]
    _:bool[] = lt c 10.0:f64[]
    d:f64[] = mul c 2.0:f64[]
    _:bool[] = lt d 10.0:f64[]
    e:f64[] = mul d 2.0:f64[]
    _:bool[] = lt e 10.0:f64[]
  in (e,) }"""
    assert closed.eval(1.0) == 16.0


def test_concrete_tracing_computes_values_while_tracing():
    seen = []

    def f(x, w):
        seen.append(x)
        h = x @ w
        seen.append(h)
        y = np.sin(h) + 1.0
        seen.append(y)
        return y.sum()

    x = np.array([1.0, 2.0])
    w = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])
    closed = trace_to_ir(f, (x, w), concrete=True)
    tx, th, ty = seen
    assert all(isinstance(t, Tracer) for t in seen)
    np.testing.assert_array_equal(tx.value, x)
    np.testing.assert_allclose(th.value, x @ w)
    np.testing.assert_allclose(ty.value, np.sin(x @ w) + 1.0)
    # float() and .item() are allowed on a concrete tracer
    assert float(th.value[0]) == pytest.approx(3.5)
    np.testing.assert_allclose(closed.eval(x, w), np.sum(np.sin(x @ w) + 1.0))


def test_abstract_tracing_computes_no_values():
    seen = []
    cr.make_ir(lambda x: seen.append(np.sin(x)) or x)(1.0)
    assert seen[0].value is None


def test_concrete_tracing_runs_each_implementation_once():
    calls = []
    double_p = Primitive("double")
    double_p.impl = lambda x: calls.append(1) or x * 2
    double_p.shape_rule = lambda x: x

    def f(x):
        y = double_p.bind(x)
        return double_p.bind(y)

    closed = trace_to_ir(f, (3.0,), concrete=True)
    assert len(calls) == 2  # one per equation while tracing, no re-run
    assert closed.eval(3.0) == 12.0
    calls.clear()
    cr.make_ir(f)(3.0)
    assert calls == []  # abstract tracing runs no implementation


def test_concrete_trace_nested_in_concrete_trace_sees_values():
    # core.py: inside an enclosing trace, a concrete trace's values are
    # tracers of the enclosing trace, so Python control flow in the inner
    # function sees the numbers, and the forward computation is recorded in
    # the outer trace once, as it happens
    seen = {}

    def inner(y):
        if y < 0:
            out = -y
        else:
            out = y * 3.0
        seen["out"] = out
        return out

    def outer(x):
        z = x - 5.0
        seen["inner_ir"] = str(trace_to_ir(inner, (z,), concrete=True))
        value = seen["out"].value
        assert isinstance(value, Tracer) and value._trace is current_trace()
        return value + x

    closed = trace_to_ir(outer, (2.0,), concrete=True)
    # z = -3 < 0: the inner IR records the branch -y
    assert seen["inner_ir"] == """\
{ lambda ; a:f64[]. let
    _:bool[] = lt a 0.0:f64[]
    b:f64[] = neg a
  in (b,) }"""
    assert str(closed) == """\
{ lambda ; a:f64[]. let
    b:f64[] = sub a 5.0:f64[]
    _:bool[] = lt b 0.0:f64[]
    c:f64[] = neg b
    d:f64[] = add c a
  in (d,) }"""
    assert closed.eval(2.0) == 5.0
