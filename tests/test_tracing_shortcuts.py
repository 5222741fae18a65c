"""The shortcuts that make tracing cheap keep every behaviour.

Tracing shares what never changes (abstract values, the answers of shape
rules, literals, the NumPy scalars of Python numbers, source locations),
hands what a trace has worked out to the trace that computes its values
(the shape rule's answer and the user's line), carries tangents on the
tracers, and holds back the garbage collector's full collections while a
trace records.  Each test here pins down what must not change because of
one of them: the numbers, the printed program, the errors and the
garbage collector's settings.  (How fast tracing is, is measured in
benchmarks/bench_scaling.py and bench_dispatch.py.)
"""
import gc
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import primitives as P
from chainrule.tracer import avals
from chainrule.tracer.atoms import literal_or_none
from chainrule.tracer.avals import shared_scalar
from chainrule.tracer.core import bind
from chainrule.tracer.errors import ShapeError


# -- shared literals and scalars -------------------------------------------------------
def test_a_literal_in_a_loop_is_one_object_and_prints_as_before():
    def f(x):
        for _ in range(3):
            x = x * 0.5 + 2
        return x

    closed = cr.make_ir(f)(np.ones(2))
    halves = [e.inputs[1] for e in closed.eqns if e.primitive.name == "mul"]
    assert len(halves) == 3 and halves[0] is halves[1] is halves[2]
    assert str(closed).splitlines()[1:3] == ["    b:f64[2] = mul a 0.5:f64[]",
                                             "    c:f64[2] = add b 2.0:f64[]"]
    # (1 * 0.5 + 2) * 0.5 + 2 = 3.25, then 3.25 * 0.5 + 2 = 3.625
    np.testing.assert_array_equal(closed.eval(np.ones(2)), [3.625, 3.625])


def test_signed_zeros_and_nan_are_never_mistaken_for_each_other():
    def f(x):
        return x * 0.0, x * -0.0, x + math.nan, x + math.nan

    closed = cr.make_ir(f)(1.0)
    text = str(closed)
    assert "mul a 0.0:f64[]" in text and "mul a -0.0:f64[]" in text
    assert text.count("add a nan:f64[]") == 2
    zero, negative_zero, nan1, nan2 = closed.eval(2.0)
    # 2 * 0.0 = +0.0 and 2 * -0.0 = -0.0: only the sign bit tells them apart
    assert zero == 0 and not np.signbit(zero)
    assert negative_zero == 0 and np.signbit(negative_zero)
    assert np.isnan(nan1) and np.isnan(nan2)
    assert not np.signbit(shared_scalar(0.0, np.dtype(np.float64)))
    assert np.signbit(shared_scalar(-0.0, np.dtype(np.float64)))


def test_python_numbers_of_different_types_keep_their_dtypes():
    # 1, 1.0 and True are equal (and hash alike) in Python, but not as literals
    assert literal_or_none(1).aval.str_short() == "i64[]"
    assert literal_or_none(1.0).aval.str_short() == "f64[]"
    assert literal_or_none(True).aval.str_short() == "bool[]"
    assert literal_or_none(1j).aval.str_short() == "c128[]"
    assert shared_scalar(1, np.dtype(np.float32)).dtype == np.float32
    assert shared_scalar(1, np.dtype(np.int64)).dtype == np.int64
    # and a float32 array times a Python float stays float32 (NEP 50)
    closed = cr.make_ir(lambda x: x * 0.5)(np.ones(3, np.float32))
    assert str(closed).splitlines()[1] == "    b:f32[3] = mul a 0.5:f32[]"


# -- shape rules answered once ----------------------------------------------------------
def test_a_remembered_shape_rule_answer_does_not_hide_an_error():
    def f(x, y):
        return bind(P.mul_p, x, x), bind(P.mul_p, x, y)

    cr.make_ir(lambda x: bind(P.mul_p, x, x))(np.ones(3))   # answered and remembered
    with pytest.raises(ShapeError) as info:
        cr.make_ir(f)(np.ones(3), np.ones(4))
    message = str(info.value)
    assert "mul cannot be applied to operands of type (f64[3], f64[4])" in message
    assert "test_tracing_shortcuts.py" in message   # the user's line


def test_equal_avals_are_one_object_and_weak_types_survive():
    def f(x):
        return np.sin(x) * 2.0 + np.cos(x)

    closed = cr.make_ir(f)(np.ones(4))
    outs = [e.outvars[0].aval for e in closed.eqns]
    assert all(a is outs[0] for a in outs) and outs[0].str_short() == "f64[4]"
    # a Python number argument stays weak through elementwise operations, so
    # that a float32 array is not widened by it: s * 2.0 * x32 is float32
    closed = cr.make_ir(lambda s, x: s * 2.0 * x)(3.0, np.ones(2, np.float32))
    assert [e.outvars[0].aval.str_short() for e in closed.eqns][-1] == "f32[2]"
    np.testing.assert_array_equal(closed.eval(3.0, np.ones(2, np.float32)), [6.0, 6.0])


def test_the_shared_state_is_bounded_and_cleared():
    for n in range(1, 40):
        cr.make_ir(lambda x: np.sin(x) * 1.5)(np.ones(n))
    assert 0 < len(avals.SHAPE_RULE_ANSWERS) <= avals.SHAPE_RULE_ANSWERS_MAX
    assert len(avals.SHARED_LITERALS) > 0 and len(avals.SHARED_SCALARS) > 0
    cr.clear_caches()
    assert not avals.SHAPE_RULE_ANSWERS and not avals.SHARED_LITERALS
    assert not avals.SHARED_SCALARS and not avals._SHARED_AVALS
    # and tracing works from empty tables: d/dx (sin(x) * 1.5) = 1.5 cos(x)
    assert cr.grad(lambda x: np.sin(x) * 1.5)(0.25) == pytest.approx(1.5 * math.cos(0.25))


# -- a nested trace records with the user's line ------------------------------------------
def test_make_ir_of_grad_names_the_users_lines():
    def f(x):
        y = np.sin(x)
        return y * 3.0

    line = f.__code__.co_firstlineno
    closed = cr.make_ir(cr.grad(f))(0.5)
    where = {e.primitive.name: e.source_info for e in closed.eqns}
    # sin and its derivative cos come from the line of np.sin, the forward
    # product from the line of y * 3.0; the cotangent of y, 1.0 * 3.0, is a
    # number at once, and its product with cos is on the line of np.sin
    assert where["sin"].lineno == where["cos"].lineno == line + 1
    assert [e.source_info.lineno for e in closed.eqns if e.primitive.name == "mul"] == \
        [line + 2, line + 1]
    # d/dx 3 sin(x) = 3 cos(x)
    assert closed.eval(0.5) == pytest.approx(3 * math.cos(0.5))


def test_tangents_live_on_tracers_and_decide_what_carries_a_derivative():
    def f(x, k):
        # k has a zero tangent (argnums=0): turning it into a number is fine
        n = int(k * 2.0)
        return np.sin(x) * n

    # d/dx 2 sin(x) at 0.3 (int(1.25 * 2) = 2)
    assert cr.grad(f)(0.3, 1.25) == pytest.approx(2 * math.cos(0.3))
    with pytest.raises(cr.TracerConversionError):
        cr.grad(lambda x: np.sin(x) * int(x * 2.0))(0.3)


# -- the garbage collector while tracing -------------------------------------------------
def test_full_collections_wait_while_a_trace_records_and_resume_after():
    before = gc.get_threshold()
    seen = []

    def f(x):
        seen.append(gc.get_threshold())
        cr.make_ir(lambda y: seen.append(gc.get_threshold()) or y * 2.0)(1.0)  # nested
        seen.append(gc.get_threshold())
        return x * 2.0

    cr.grad(f)(1.0)
    raised = (before[0], before[1], before[2] * 100)
    assert seen == [raised, raised, raised]
    assert gc.get_threshold() == before

    def fails(x):
        raise RuntimeError("user error")

    with pytest.raises(RuntimeError, match="user error"):
        cr.make_ir(fails)(1.0)
    assert gc.get_threshold() == before


def test_a_threshold_the_user_sets_during_a_trace_is_kept():
    before = gc.get_threshold()

    def f(x):
        gc.set_threshold(500, 5, 5)
        return x * 2.0

    try:
        cr.make_ir(f)(1.0)
        assert gc.get_threshold() == (500, 5, 5)
    finally:
        gc.set_threshold(*before)


# -- operators and NumPy's ufuncs go straight to the elementwise machinery ------------------
def test_operators_ufuncs_and_chainrule_numpy_trace_alike():
    import chainrule.numpy as cnp
    from chainrule.numpy import _ufuncs

    def ways(x):
        return (x * 2.0, 2.0 * x, np.multiply(x, 2.0), cnp.multiply(x, 2.0),
                x - 1.0, 1.0 - x, np.subtract(1.0, x), x / 4.0, 4.0 / x)

    closed = cr.make_ir(ways)(np.ones(2))
    assert str(closed).splitlines()[1:-1] == [
        "    b:f64[2] = mul a 2.0:f64[]", "    c:f64[2] = mul 2.0:f64[] a",
        "    d:f64[2] = mul a 2.0:f64[]", "    e:f64[2] = mul a 2.0:f64[]",
        "    f:f64[2] = sub a 1.0:f64[]", "    g:f64[2] = sub 1.0:f64[] a",
        "    h:f64[2] = sub 1.0:f64[] a", "    i:f64[2] = div a 4.0:f64[]",
        "    j:f64[2] = div 4.0:f64[] a"]
    x = np.array([0.5, 2.0])
    # 2x, 2x, 2x, 2x, x - 1, 1 - x, 1 - x, x / 4, 4 / x
    expected = [2 * x, 2 * x, 2 * x, 2 * x, x - 1, 1 - x, 1 - x, x / 4, 4 / x]
    for got, want in zip(closed.eval(x), expected):
        np.testing.assert_array_equal(got, want)
    # every ufunc taken straight to _apply binds the primitive its function binds
    for ufunc, (prim, name) in _ufuncs.DIRECT.items():
        fn = _ufuncs.UFUNCS[ufunc]
        assert fn.__name__ == name and f"``{prim.name}``" in fn.__doc__
    # and an unsupported keyword still raises before anything is recorded
    def where_kw(x):
        try:
            np.sin(x, where=np.array([True, False]))
        except NotImplementedError as e:
            assert "where=" in str(e)
        return x

    assert cr.make_ir(where_kw)(np.ones(2)).eqns == []


# -- NumPy's scalar arithmetic for two float64 scalars -------------------------------------
def test_scalar_arithmetic_gives_the_ufuncs_bits():
    special = [0.0, -0.0, 1.0, -2.5, 1e308, -1e308, 5e-324, math.inf, -math.inf, math.nan,
               0.1, 3.0]
    with np.errstate(all="ignore"):
        for prim in (P.add_p, P.sub_p, P.mul_p, P.div_p):
            assert prim.scalar_impl is not None
            for a in special:
                for b in special:
                    x, y = np.float64(a), np.float64(b)
                    got, want = bind(prim, x, y), prim.impl(x, y)
                    assert type(got) is np.float64
                    assert got.tobytes() == want.tobytes() or (np.isnan(got) and np.isnan(want))
    # other dtypes and arrays take the ufunc: int64 wraps around silently, as NumPy's loop does
    big = np.int64(2**62)
    assert bind(P.mul_p, big, np.int64(4)) == np.multiply(big, np.int64(4))
    assert P.max_p.scalar_impl is None


def test_a_replaced_shape_rule_is_asked_again():
    twice_p = cr.Primitive("twice")
    twice_p.impl = lambda x: np.concatenate([x, x])
    twice_p.shape_rule = lambda x: avals.ShapedArray((2 * x.shape[0],), x.dtype)
    assert cr.make_ir(lambda x: bind(twice_p, x))(np.ones(3)).out_avals[0].shape == (6,)
    twice_p.shape_rule = lambda x: avals.ShapedArray((x.shape[0],), x.dtype)   # now "once"
    assert cr.make_ir(lambda x: bind(twice_p, x))(np.ones(3)).out_avals[0].shape == (3,)


def test_a_linear_equation_reading_one_residual_twice_transposes():
    # a custom_vjp function whose residuals are one array twice: the linear
    # program's equation of its backward rule reads that residual as two operands
    @cr.custom_vjp
    def f(x):
        return np.sin(x)

    def f_fwd(x):
        c = np.cos(x)
        return np.sin(x), (c, c)

    def f_bwd(res, g):
        c1, c2 = res
        return (g * (c1 + c2) / 2,)

    f.defvjp(f_fwd, f_bwd)
    x = np.array([0.3, 1.2])
    # d/dx sum(sin(x) * 2) = 2 cos(x): the residual freed once, after its last use
    np.testing.assert_allclose(cr.grad(lambda x: np.sum(f(x) * 2.0))(x), 2 * np.cos(x))
