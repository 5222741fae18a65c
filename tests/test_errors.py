"""The errors a user gets (docs/api.md, "Errors"): each names what
went wrong, the user's source line, and what to do instead."""
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.tracer.tracing import trace_to_ir
from conftest import current_trace

THIS_FILE = os.path.basename(__file__)


def where(fn, offset):
    """``test_errors.py:LINE``: the line ``offset`` lines below ``def fn``."""
    return f"{THIS_FILE}:{fn.__code__.co_firstlineno + offset}"


@pytest.fixture(autouse=True)
def no_trace_left_behind():
    assert current_trace() is None
    yield
    assert current_trace() is None


def assert_points_to_alternatives(msg, construct):
    # the structured control flow that fits the construct on the user's line,
    # static arguments, and tracing with values
    if construct == "other":
        assert any(name in msg for name in ("cr.cond", "cr.fori_loop", "cr.while_loop"))
    else:
        assert {"if": "cr.cond", "while": "cr.while_loop", "for": "cr.fori_loop"}[construct] in msg
    assert "static_argnums" in msg
    assert "cr.grad" in msg


# -- concretization ---------------------------------------------------------------
def branch_on_value(x):
    if x > 0:
        return x
    return -x


def loop_on_value(x):
    while x < 10.0:
        x = x * 2.0
    return x


def bool_of_value(x):
    return bool(x)


def float_of_value(x):
    return float(x) * x


def test_if_on_abstract_tracer():
    with pytest.raises(cr.ConcretizationError) as info:
        cr.make_ir(branch_on_value)(1.0)
    msg = str(info.value)
    assert where(branch_on_value, 1) in msg
    assert "if x > 0:" in msg  # the line's code
    assert "make_ir" in msg
    assert "traced" in msg
    assert_points_to_alternatives(msg, "if")
    # a ConcretizationError is a TypeError, as in JAX
    assert isinstance(info.value, TypeError)


def test_while_on_abstract_tracer():
    with pytest.raises(cr.ConcretizationError) as info:
        cr.make_ir(loop_on_value)(1.0)
    msg = str(info.value)
    assert where(loop_on_value, 1) in msg
    assert "while x < 10.0:" in msg
    assert_points_to_alternatives(msg, "while")


def test_bool_on_abstract_tracer():
    with pytest.raises(cr.ConcretizationError) as info:
        cr.make_ir(bool_of_value)(np.ones(()))
    msg = str(info.value)
    assert where(bool_of_value, 1) in msg
    assert "bool()" in msg
    assert_points_to_alternatives(msg, "other")


def test_float_on_abstract_tracer():
    with pytest.raises(cr.ConcretizationError) as info:
        cr.make_ir(float_of_value)(2.0)
    msg = str(info.value)
    assert where(float_of_value, 1) in msg
    assert "float()" in msg
    assert "f64[]" in msg  # the traced value's type
    assert_points_to_alternatives(msg, "other")


@pytest.mark.parametrize("fn, arg, what", [
    (lambda i: int(i), 3, "int()"),
    (lambda x: x.item(), 1.0, ".item()"),
    (lambda i: list(range(i)), 3, "index"),
])
def test_other_conversions_on_abstract_tracer(fn, arg, what):
    with pytest.raises(cr.ConcretizationError) as info:
        cr.make_ir(fn)(arg)
    msg = str(info.value)
    assert what in msg and THIS_FILE in msg
    assert_points_to_alternatives(msg, "other")


def configured(x, n, mode):
    for _ in range(n):
        x = x * 2.0
    if mode == "sin":
        x = np.sin(x)
    return x


def branch_on_static(x, flag):
    if flag > 0:
        return np.sin(x)
    return np.cos(x)


def test_static_argnums_make_python_control_flow_work():
    closed = cr.make_ir(configured, static_argnums=(1, 2))(1.0, 2, "sin")
    assert str(closed) == """\
{ lambda ; a:f64[]. let
    b:f64[] = mul a 2.0:f64[]
    c:f64[] = mul b 2.0:f64[]
    d:f64[] = sin c
  in (d,) }"""
    # the same function whose branch failed above traces with the flag static
    closed = cr.make_ir(branch_on_static, static_argnums=1)(0.5, -1.0)
    assert str(closed) == """\
{ lambda ; a:f64[]. let
    b:f64[] = cos a
  in (b,) }"""
    with pytest.raises(cr.ConcretizationError):
        cr.make_ir(branch_on_static)(0.5, -1.0)


def test_if_works_under_concrete_tracing():
    closed = trace_to_ir(branch_on_value, (-2.0,), concrete=True)
    assert closed.eval(-2.0) == 2.0


# -- leaked tracers ------------------------------------------------------------------
def test_leaked_tracer_used_in_a_later_trace():
    leaked = []

    def stash(x):
        leaked.append(x)
        return x * 2.0

    cr.make_ir(stash)(1.0)

    def use(y):
        return y + leaked[0]

    with pytest.raises(cr.TracerLeakError) as info:
        cr.make_ir(use)(1.0)
    msg = str(info.value)
    assert "make_ir" in msg
    assert "leaked" in msg
    assert where(use, 1) in msg


def test_leaked_tracer_used_outside_any_trace():
    leaked = []
    cr.make_ir(lambda x: leaked.append(x) or x)(np.ones(2))
    with pytest.raises(cr.TracerLeakError) as info:
        np.sin(leaked[0])
    assert "make_ir" in str(info.value) and "f64[2]" in str(info.value)
    with pytest.raises(cr.TracerLeakError):
        leaked[0] * 3.0


def test_leak_error_names_the_transform_it_leaked_from():
    leaked = []
    trace_to_ir(lambda x: leaked.append(x) or x, (1.0,), name="my_transform")
    with pytest.raises(cr.TracerLeakError) as info:
        cr.make_ir(lambda y: y * leaked[0])(1.0)
    assert "my_transform" in str(info.value)


def test_inner_ir_closing_over_a_dead_tracer_cannot_be_evaluated():
    inner = []

    def outer(x):
        inner.append(cr.make_ir(lambda y: y * x)(x))
        return x

    cr.make_ir(outer)(1.0)
    with pytest.raises(cr.TracerLeakError):
        inner[0].eval(2.0)


def test_tracer_leaked_from_an_inner_trace_into_the_outer_one():
    def outer(x):
        stash = []
        cr.make_ir(lambda y: stash.append(y) or y)(x)
        return x + stash[0]  # stash[0] belongs to the finished inner trace

    with pytest.raises(cr.TracerLeakError) as info:
        cr.make_ir(outer)(1.0)
    assert "make_ir" in str(info.value)
    assert where(outer, 3) in str(info.value)


def test_tracer_leaked_from_grad_names_grad():
    leaked = []
    cr.grad(lambda x: leaked.append(x) or x * 2.0)(3.0)
    with pytest.raises(cr.TracerLeakError) as info:
        cr.make_ir(lambda y: y + leaked[0])(1.0)
    assert "grad" in str(info.value)


# -- grad of a non-scalar or integer output -------------------------------------------
def test_grad_of_non_scalar_output():
    with pytest.raises(TypeError) as info:
        cr.grad(lambda x: x * 2.0)(np.ones(3))
    msg = str(info.value)
    assert "scalar" in msg and "f64[3]" in msg
    assert "cr.vjp" in msg or "jacrev" in msg or "jacfwd" in msg


@pytest.mark.parametrize("fn", [
    lambda x: np.sum(x).astype(np.int64),
    lambda x: np.sum(x) > 0,
])
def test_grad_of_integer_or_bool_output(fn):
    with pytest.raises(TypeError) as info:
        cr.grad(fn)(np.ones(3))
    msg = str(info.value)
    assert "floating-point" in msg and "output" in msg


def test_grad_of_integer_input():
    with pytest.raises(TypeError) as info:
        cr.grad(lambda x: x * 2.0)(3)
    assert "floating-point" in str(info.value) and "int64" in str(info.value)


def test_grad_traces_concretely_but_make_ir_of_grad_does_not():
    # docs/api.md: grad on concrete inputs lets Python control flow on values work;
    # make_ir traces abstractly, so the same control flow is an error there
    assert cr.grad(branch_on_value)(2.0) == 1.0
    assert cr.grad(branch_on_value)(-2.0) == -1.0
    with pytest.raises(cr.ConcretizationError) as info:
        cr.make_ir(cr.grad(branch_on_value))(2.0)
    assert where(branch_on_value, 1) in str(info.value)


# -- shape errors -------------------------------------------------------------------
def add_mismatch(x, y):
    return x + y


def matmul_mismatch(a, b):
    return a @ b


def test_broadcast_mismatch_names_op_shapes_and_line():
    with pytest.raises(cr.ShapeError) as info:
        cr.make_ir(add_mismatch)(np.ones(3), np.ones(4))
    msg = str(info.value)
    assert "add" in msg
    assert "(3,)" in msg and "(4,)" in msg
    assert where(add_mismatch, 1) in msg
    assert "return x + y" in msg
    # NumPy raises ValueError here; so do we
    assert isinstance(info.value, ValueError)


def test_matmul_mismatch_names_op_shapes_and_line():
    with pytest.raises(cr.ShapeError) as info:
        cr.make_ir(matmul_mismatch)(np.ones((2, 3)), np.ones((4, 5)))
    msg = str(info.value)
    assert "matmul" in msg
    assert "(2, 3)" in msg and "(4, 5)" in msg
    assert where(matmul_mismatch, 1) in msg


def test_matmul_mismatch_with_numpy_constant():
    w = np.ones((4, 2))

    def f(x):
        return x @ w

    with pytest.raises(cr.ShapeError) as info:
        cr.make_ir(f)(np.ones((2, 3)))
    msg = str(info.value)
    assert "matmul" in msg and "(2, 3)" in msg and "(4, 2)" in msg
    assert where(f, 1) in msg


def test_primitive_shape_rule_failure_names_primitive_types_and_line():
    def f(x):
        return np.reshape(x, (4,))

    with pytest.raises(cr.ShapeError) as info:
        cr.make_ir(f)(np.ones(3))
    msg = str(info.value)
    assert "reshape" in msg and "f64[3]" in msg and "(4,)" in msg
    assert where(f, 1) in msg


def test_concatenate_mismatch():
    def f(x, y):
        return np.concatenate([x, y])

    with pytest.raises(cr.ShapeError) as info:
        cr.make_ir(f)(np.ones((2, 3)), np.ones((2, 4)))
    msg = str(info.value)
    assert "concatenate" in msg and "f64[2,3]" in msg and "f64[2,4]" in msg
    assert where(f, 1) in msg


def test_dtype_mismatch_names_function_dtypes_and_line():
    def f(x):
        return np.bitwise_and(x, x)

    with pytest.raises(TypeError) as info:
        cr.make_ir(f)(np.ones(3))
    msg = str(info.value)
    assert "bitwise_and" in msg and "float64" in msg
    assert where(f, 1) in msg


# -- unsupported NumPy ------------------------------------------------------------------
@pytest.mark.parametrize("fn, arg, name", [
    (lambda x: np.fft.fft(x), np.ones(4), "numpy.fft.fft"),
    (lambda x: np.linalg.eig(x), np.ones((3, 3)), "numpy.linalg.eig"),   # complex results
    (lambda x: np.maximum.accumulate(x), np.ones(3), "numpy.maximum.accumulate"),
    (lambda x: np.partition(x, 1), np.ones(3), "numpy.partition"),
])
def test_numpy_function_without_rule(fn, arg, name):
    with pytest.raises(NotImplementedError) as info:
        cr.make_ir(fn)(arg)
    msg = str(info.value)
    assert name in msg
    assert THIS_FILE in msg


def test_unsupported_keyword_argument():
    with pytest.raises(NotImplementedError) as info:
        cr.make_ir(lambda x: np.sum(x, where=x > 0))(np.ones(3))
    assert "numpy.sum" in str(info.value) and "where=" in str(info.value)


def assign_in_place(x):
    x[0] = 1.0
    return x


def test_setitem_on_tracer():
    with pytest.raises(TypeError) as info:
        cr.make_ir(assign_in_place)(np.ones(3))
    msg = str(info.value)
    assert ".at[idx].set" in msg
    assert where(assign_in_place, 1) in msg


def test_the_functional_update_the_setitem_error_suggests_works():
    # the message above tells the user to write x.at[idx].set(v) / .add(v)
    closed = cr.make_ir(lambda x: (x.at[0].set(1.0), x.at[1:].add(2.0)))(np.ones(3))
    x = np.array([5.0, 6.0, 7.0])
    out_set, out_add = closed.eval(x)
    np.testing.assert_array_equal(out_set, [1.0, 6.0, 7.0])
    np.testing.assert_array_equal(out_add, [5.0, 8.0, 9.0])


def test_where_alternative_to_in_place_assignment_works():
    closed = cr.make_ir(lambda x: np.where(x > 0, x, 0.0))(np.ones(3))
    np.testing.assert_array_equal(closed.eval(np.array([-1.0, 2.0, -3.0])), [0.0, 2.0, 0.0])


@pytest.mark.parametrize("convert", [np.asarray, np.array])
def test_numpy_array_conversion_of_tracer(convert):
    def f(x):
        return convert(x)

    with pytest.raises(cr.TracerArrayConversionError) as info:
        cr.make_ir(f)(np.ones(3))
    msg = str(info.value)
    assert "f64[3]" in msg
    assert where(f, 1) in msg
    assert isinstance(info.value, TypeError)


@pytest.mark.parametrize("fn", [
    lambda x: np.sin(x, out=np.empty(3)),
    lambda x: np.add(x, 1.0, out=np.empty(3)),
    lambda x: np.multiply(2.0, x, out=(np.empty(3),)),
])
def test_ufunc_with_out_argument(fn):
    with pytest.raises(TypeError) as info:
        cr.make_ir(fn)(np.ones(3))
    msg = str(info.value)
    assert "out=" in msg
    assert "in place" in msg
    assert "numpy." in msg


# -- errors leave no trace behind -----------------------------------------------------
@pytest.mark.parametrize("fn, args", [
    (branch_on_value, (1.0,)),
    (add_mismatch, (np.ones(3), np.ones(4))),
    (assign_in_place, (np.ones(3),)),
    (lambda x: np.fft.fft(x), (np.ones(4),)),
    (lambda x: 1 / 0, (1.0,)),  # the user's own error
])
def test_errors_do_not_leave_a_trace_on_the_stack(fn, args):
    with pytest.raises(Exception):
        cr.make_ir(fn)(*args)
    assert current_trace() is None
    closed = cr.make_ir(lambda x: x * 2.0)(1.0)
    assert str(closed) == """\
{ lambda ; a:f64[]. let
    b:f64[] = mul a 2.0:f64[]
  in (b,) }"""
    assert current_trace() is None


def test_error_in_nested_trace_leaves_the_outer_trace_on_top():
    seen = []

    def outer(x):
        outer_trace = current_trace()
        with pytest.raises(cr.ConcretizationError):
            cr.make_ir(branch_on_value)(x)
        seen.append(current_trace() is outer_trace)
        return x + 1.0

    closed = cr.make_ir(outer)(1.0)
    assert seen == [True]
    assert str(closed) == """\
{ lambda ; a:f64[]. let
    b:f64[] = add a 1.0:f64[]
  in (b,) }"""


def test_a_for_loop_over_a_traced_count_points_to_fori_loop():
    def counted(x, n):
        for _ in range(n):
            x = x * 2.0
        return x

    with pytest.raises(cr.ConcretizationError) as info:
        cr.make_ir(counted)(1.0, np.int64(3))
    assert_points_to_alternatives(str(info.value), "for")
    assert where(counted, 1) in str(info.value)
