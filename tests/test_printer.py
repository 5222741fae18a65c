"""Golden tests of the IR text (docs/api.md, "The IR text").

Every expected text below was written by hand from that description and the lowering
rules of ``chainrule.numpy`` (scalar constants stay inline literals of the
promoted dtype, broadcasting becomes ``broadcast_in_dim``, ``keepdims`` an
``expand_dims``, slices ``rev`` + ``slice`` + ``squeeze``, integer-array
indices one ``gather``, products one ``dot_general``), then checked against
the printer.
"""
import string

import numpy as np
import pytest

import chainrule as cr
from chainrule import primitives as P
from chainrule.interpreters.evaluate import eval_ir
from chainrule.tracer.avals import ShapedArray
from chainrule.tracer.core import Primitive
from chainrule.tracer.ir import IR, ClosedIR, Equation, Literal, Var
from chainrule.tracer.printer import var_name


def ir_text(f, *args, **kwargs):
    closed = cr.make_ir(f, **kwargs)(*args)
    closed.check()
    return str(closed)


def f64(*shape):
    return np.ones(shape, np.float64)


# -- elementwise ---------------------------------------------------------------
def test_elementwise_with_python_literals():
    def f(x):
        return np.sin(x) * 2.0 + 1

    # the int 1 is weak (NEP 50): it becomes a float64 literal 1.0
    assert ir_text(f, f64(3)) == """\
{ lambda ; a:f64[3]. let
    b:f64[3] = sin a
    c:f64[3] = mul b 2.0:f64[]
    d:f64[3] = add c 1.0:f64[]
  in (d,) }"""


def test_reflected_operator_keeps_the_literal_on_the_left():
    assert ir_text(lambda x: 2.0 - x, f64(3)) == """\
{ lambda ; a:f64[3]. let
    b:f64[3] = sub 2.0:f64[] a
  in (b,) }"""


def test_integer_input_and_true_division_promote_like_numpy():
    def f(i):
        return i * 2, i / 2

    # i64 * int stays i64; i64 / int is float64 division
    assert ir_text(f, np.arange(3)) == """\
{ lambda ; a:i64[3]. let
    b:i64[3] = mul a 2:i64[]
    c:f64[3] = convert_element_type[new_dtype=f64] a
    d:f64[3] = div c 2.0:f64[]
  in (b, d) }"""


def test_scalar_inputs_and_comparison_to_bool():
    def f(x, y):
        return np.where(x > y, x, y * y)

    assert ir_text(f, 1.0, 2.0) == """\
{ lambda ; a:f64[] b:f64[]. let
    c:bool[] = gt a b
    d:f64[] = mul b b
    e:f64[] = select c a d
  in (e,) }"""


def test_powers():
    # a constant integer exponent is integer_pow; others are pow
    def f(x):
        return x ** 2, x ** 0.5, 2.0 ** x, np.square(x)

    assert ir_text(f, f64(3)) == """\
{ lambda ; a:f64[3]. let
    b:f64[3] = integer_pow[y=2] a
    c:f64[3] = pow a 0.5:f64[]
    d:f64[3] = pow 2.0:f64[] a
    e:f64[3] = integer_pow[y=2] a
  in (b, c, d, e) }"""


# -- broadcasting ----------------------------------------------------------------
def test_broadcast_vector_against_matrix():
    assert ir_text(lambda x, v: x + v, f64(2, 3), f64(3)) == """\
{ lambda ; a:f64[2,3] b:f64[3]. let
    c:f64[2,3] = broadcast_in_dim[broadcast_dimensions=(1,) shape=(2, 3)] b
    d:f64[2,3] = add a c
  in (d,) }"""


def test_broadcast_column_against_matrix():
    assert ir_text(lambda x, col: col * x, f64(2, 3), f64(2, 1)) == """\
{ lambda ; a:f64[2,3] b:f64[2,1]. let
    c:f64[2,3] = broadcast_in_dim[broadcast_dimensions=(0, 1) shape=(2, 3)] b
    d:f64[2,3] = mul c a
  in (d,) }"""


# -- reductions --------------------------------------------------------------------
def test_reductions_with_axis_and_keepdims():
    def f(x):
        return np.sum(x, axis=1), x.max(axis=0, keepdims=True), np.mean(x)

    assert ir_text(f, f64(2, 3)) == """\
{ lambda ; a:f64[2,3]. let
    b:f64[2] = reduce_sum[axes=(1,)] a
    c:f64[3] = reduce_max[axes=(0,)] a
    d:f64[1,3] = expand_dims[dimensions=(0,)] c
    e:f64[] = reduce_sum[axes=(0, 1)] a
    f:f64[] = div e 6.0:f64[]
  in (b, d, f) }"""


def test_sum_over_negative_axis_tuple_with_keepdims():
    def f(x):
        return x.sum(axis=(-1, 0), keepdims=True)

    assert ir_text(f, f64(2, 3, 4)) == """\
{ lambda ; a:f64[2,3,4]. let
    b:f64[3] = reduce_sum[axes=(0, 2)] a
    c:f64[1,3,1] = expand_dims[dimensions=(0, 2)] b
  in (c,) }"""


# -- products ----------------------------------------------------------------------
def test_matmul_and_dot():
    def f(x, w, v):
        return x @ w, np.dot(v, v)

    assert ir_text(f, f64(2, 3), f64(3, 4), f64(3)) == """\
{ lambda ; a:f64[2,3] b:f64[3,4] c:f64[3]. let
    d:f64[2,4] = dot_general[dimension_numbers=(((1,), (0,)), ((), ()))] a b
    e:f64[] = dot_general[dimension_numbers=(((0,), (0,)), ((), ()))] c c
  in (d, e) }"""


def test_matrix_vector_product():
    assert ir_text(lambda m, v: m @ v, f64(2, 3), f64(3)) == """\
{ lambda ; a:f64[2,3] b:f64[3]. let
    c:f64[2] = dot_general[dimension_numbers=(((1,), (0,)), ((), ()))] a b
  in (c,) }"""


# -- shapes ---------------------------------------------------------------------
def test_transpose_then_reshape():
    assert ir_text(lambda x: x.T.reshape(-1), f64(2, 3)) == """\
{ lambda ; a:f64[2,3]. let
    b:f64[3,2] = transpose[permutation=(1, 0)] a
    c:f64[6] = reshape[shape=(6,)] b
  in (c,) }"""


def test_transpose_with_axes_and_noop_reshape():
    # a reshape to the same shape records nothing
    def f(x):
        return np.transpose(x, (1, 2, 0)).reshape(3, 4, 2)

    assert ir_text(f, f64(2, 3, 4)) == """\
{ lambda ; a:f64[2,3,4]. let
    b:f64[3,4,2] = transpose[permutation=(1, 2, 0)] a
  in (b,) }"""


# -- indexing ---------------------------------------------------------------------
def test_slicing_with_positive_and_negative_steps():
    # x[1:8:3] takes 1, 4, 7: start 1, limit 1 + 2*3 + 1 = 8, stride 3.
    # x[::-2] takes 9, 7, 5, 3, 1: reverse, then 0, 2, 4, 6, 8 of the reversed
    # array: start 0, limit 0 + 4*2 + 1 = 9, stride 2.
    def f(x):
        return x[1:8:3], x[::-2]

    assert ir_text(f, f64(10)) == """\
{ lambda ; a:f64[10]. let
    b:f64[3] = slice[limit_indices=(8,) start_indices=(1,) strides=(3,)] a
    c:f64[10] = rev[dimensions=(0,)] a
    d:f64[5] = slice[limit_indices=(9,) start_indices=(0,) strides=(2,)] c
  in (b, d) }"""


def test_integer_and_strided_slice_of_a_matrix():
    # x[1, ::2]: row 1 (start 1, limit 2, then squeezed), columns 0 and 2
    # (start 0, limit 3, stride 2)
    assert ir_text(lambda x: x[1, ::2], f64(3, 4)) == """\
{ lambda ; a:f64[3,4]. let
    b:f64[1,2] = slice[limit_indices=(2, 3) start_indices=(1, 0) strides=(1, 2)] a
    c:f64[2] = squeeze[dimensions=(0,)] b
  in (c,) }"""


def test_integer_array_index_becomes_a_gather_with_a_const_index():
    # the index array is a constant: it is a const var, listed before the ;
    closed = cr.make_ir(lambda x: x[[3, 0, -1]])(f64(5))
    assert str(closed) == """\
{ lambda a:i64[3] ; b:f64[5]. let
    c:f64[3] = gather[axis=0] b a
  in (c,) }"""
    # negative indices are wrapped while tracing: -1 of 5 is 4
    assert len(closed.consts) == 1
    np.testing.assert_array_equal(closed.consts[0], [3, 0, 4])
    x = np.arange(5.0) * 10
    np.testing.assert_array_equal(closed.eval(x), x[[3, 0, -1]])


# -- constants and dtypes ------------------------------------------------------------
W = np.arange(6.0).reshape(2, 3)


def test_const_var_captured_from_the_closure():
    closed = cr.make_ir(lambda x: W * x)(f64(3))
    assert str(closed) == """\
{ lambda a:f64[2,3] ; b:f64[3]. let
    c:f64[2,3] = broadcast_in_dim[broadcast_dimensions=(1,) shape=(2, 3)] b
    d:f64[2,3] = mul a c
  in (d,) }"""
    assert len(closed.consts) == 1
    np.testing.assert_array_equal(closed.consts[0], W)
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_array_equal(closed.eval(x), W * x)


def test_the_same_captured_array_is_one_const_var():
    def f(v):
        return np.dot(W, v) + np.dot(W, v * v)

    assert ir_text(f, f64(3)) == """\
{ lambda a:f64[2,3] ; b:f64[3]. let
    c:f64[2] = dot_general[dimension_numbers=(((1,), (0,)), ((), ()))] a b
    d:f64[3] = mul b b
    e:f64[2] = dot_general[dimension_numbers=(((1,), (0,)), ((), ()))] a d
    f:f64[2] = add c e
  in (f,) }"""


def test_matmul_operator_with_a_numpy_array_on_the_left():
    # W @ v with W a NumPy array: NumPy calls the np.matmul ufunc, which
    # reaches the tracer through __array_ufunc__ (docs/api.md: `x @ W` traces)
    closed = cr.make_ir(lambda v: W @ v)(f64(3))
    assert str(closed) == """\
{ lambda a:f64[2,3] ; b:f64[3]. let
    c:f64[2] = dot_general[dimension_numbers=(((1,), (0,)), ((), ()))] a b
  in (c,) }"""
    v = np.array([1.0, 2.0, -1.0])
    np.testing.assert_allclose(closed.eval(v), W @ v)
    assert str(cr.make_ir(lambda v: np.matmul(v, v))(f64(3))) == """\
{ lambda ; a:f64[3]. let
    b:f64[] = dot_general[dimension_numbers=(((0,), (0,)), ((), ()))] a a
  in (b,) }"""


def test_float32_input_with_python_scalar_stays_float32():
    def f(x):
        return x * 2, x + 0.5, x * np.float64(2)

    # Python scalars are weak (stay f32); a NumPy float64 scalar is not
    assert ir_text(f, np.ones(3, np.float32)) == """\
{ lambda ; a:f32[3]. let
    b:f32[3] = mul a 2.0:f32[]
    c:f32[3] = add a 0.5:f32[]
    d:f64[3] = convert_element_type[new_dtype=f64] a
    e:f64[3] = mul d 2.0:f64[]
  in (b, c, e) }"""


# -- outputs ---------------------------------------------------------------------
def test_multi_output_pytree_flattens_dict_keys_sorted():
    def f(x):
        return x + 1, {"b": np.sin(x), "a": np.cos(x)}

    closed = cr.make_ir(f)(f64(3))
    # outputs in pytree order: the tuple's first item, then the dict's
    # values by sorted key: "a" (cos, d) before "b" (sin, c)
    assert str(closed) == """\
{ lambda ; a:f64[3]. let
    b:f64[3] = add a 1.0:f64[]
    c:f64[3] = sin a
    d:f64[3] = cos a
  in (b, d, c) }"""
    x = np.array([0.1, 0.2, 0.3])
    out = closed.eval(x)
    assert isinstance(out, tuple) and set(out[1]) == {"a", "b"}
    np.testing.assert_allclose(out[0], x + 1)
    np.testing.assert_allclose(out[1]["a"], np.cos(x))
    np.testing.assert_allclose(out[1]["b"], np.sin(x))


def test_outputs_that_are_inputs_or_literals():
    closed = cr.make_ir(lambda x, y: (y, x, 1.0))(1.0, f64(2))
    assert str(closed) == """\
{ lambda ; a:f64[] b:f64[2]. let
  in (b, a, 1.0:f64[]) }"""
    out = closed.eval(3.0, np.array([1.0, 2.0]))
    assert out[1] == 3.0 and out[2] == 1.0


def test_dead_single_output_prints_underscore_and_takes_no_name():
    def f(x):
        np.sin(x)  # computed, never read
        return np.cos(x)

    assert ir_text(f, 1.0) == """\
{ lambda ; a:f64[]. let
    _:f64[] = sin a
    b:f64[] = cos a
  in (b,) }"""


# a primitive with two results (none of chainrule's own has several yet)
sincos_p = Primitive("sincos", multiple_results=True)
sincos_p.impl = lambda x: (np.sin(x), np.cos(x))
sincos_p.shape_rule = lambda x: [x, x]


def test_unused_output_of_multiple_results_primitive_prints_underscore():
    closed = cr.make_ir(lambda x: sincos_p.bind(x)[1] * 2.0)(f64(3))
    closed.check()
    assert str(closed) == """\
{ lambda ; a:f64[3]. let
    _:f64[3] b:f64[3] = sincos a
    c:f64[3] = mul b 2.0:f64[]
  in (c,) }"""
    x = np.array([0.0, 1.0, 2.0])
    np.testing.assert_allclose(closed.eval(x), 2 * np.cos(x))

    assert ir_text(lambda x: sincos_p.bind(x)[0], f64(3)) == """\
{ lambda ; a:f64[3]. let
    b:f64[3] _:f64[3] = sincos a
  in (b,) }"""
    assert ir_text(lambda x: tuple(sincos_p.bind(x)), f64(3)) == """\
{ lambda ; a:f64[3]. let
    b:f64[3] c:f64[3] = sincos a
  in (b, c) }"""


def test_hand_built_ir_with_multiple_results_and_constvar():
    f64_3 = ShapedArray((3,), np.float64)
    k = Var(f64_3)
    x = Var(f64_3)
    s, c, y, z = Var(f64_3), Var(f64_3), Var(f64_3), Var(f64_3)
    eqns = [
        Equation(sincos_p, [x], [s, c], {}),
        Equation(P.mul_p, [c, Literal(np.float64(3.0))], [y], {}),
        Equation(P.add_p, [y, k], [z], {}),
    ]
    ir = IR([k], [x], eqns, [z])
    ir.check()
    assert str(ir) == """\
{ lambda a:f64[3] ; b:f64[3]. let
    _:f64[3] c:f64[3] = sincos b
    d:f64[3] = mul c 3.0:f64[]
    e:f64[3] = add d a
  in (e,) }"""
    kval = np.array([1.0, 2.0, 3.0])
    xval = np.array([0.0, 0.5, 1.0])
    (out,) = eval_ir(ir, [kval], [xval])
    np.testing.assert_allclose(out, 3 * np.cos(xval) + kval)


# -- naming ---------------------------------------------------------------------
def test_var_name_sequence():
    letters = string.ascii_lowercase
    expected = list(letters) + ["b" + c for c in letters] + ["c" + c for c in letters]
    assert [var_name(i) for i in range(len(expected))] == expected
    assert var_name(675) == "zz"
    assert var_name(676) == "baa"
    names = [var_name(i) for i in range(20000)]
    assert len(set(names)) == len(names)


def test_variable_names_past_z():
    def f(x):
        for _ in range(30):
            x = x + 1.0
        return x

    letters = string.ascii_lowercase
    names = list(letters) + ["b" + c for c in letters]
    lines = ["{ lambda ; a:f64[]. let"]
    for i in range(30):
        lines.append(f"    {names[i + 1]}:f64[] = add {names[i]} 1.0:f64[]")
    lines.append(f"  in ({names[30]},) }}")
    text = ir_text(f, 1.0)
    assert text == "\n".join(lines)
    assert "    z:f64[] = add y 1.0:f64[]" in text.splitlines()
    assert "    ba:f64[] = add z 1.0:f64[]" in text.splitlines()
    assert "    bb:f64[] = add ba 1.0:f64[]" in text.splitlines()
    assert text.endswith("  in (be,) }")


# -- source info ------------------------------------------------------------------
def traced_with_lines(x):
    y = np.sin(x)
    return y * x


def test_pretty_with_source_info():
    closed = cr.make_ir(traced_with_lines)(1.0)
    first = traced_with_lines.__code__.co_firstlineno
    assert closed.pretty(source_info=True) == f"""\
{{ lambda ; a:f64[]. let
    b:f64[] = sin a  # test_printer.py:{first + 1} (traced_with_lines)
    c:f64[] = mul b a  # test_printer.py:{first + 2} (traced_with_lines)
  in (c,) }}"""
    # the default text has no comments
    assert closed.pretty() == str(closed)
    assert "#" not in str(closed)


def test_source_info_through_methods_and_lambdas():
    line = test_source_info_through_methods_and_lambdas.__code__.co_firstlineno + 2
    closed = cr.make_ir(lambda x: x.sum(axis=0))(f64(2))
    assert closed.pretty(source_info=True) == f"""\
{{ lambda ; a:f64[2]. let
    b:f64[] = reduce_sum[axes=(0,)] a  # test_printer.py:{line} (<lambda>)
  in (b,) }}"""


# -- repr -----------------------------------------------------------------------
def test_repr_is_one_short_line():
    def f(x):
        for _ in range(500):
            x = np.sin(x)
        return x, x

    closed = cr.make_ir(f)(f64(3))
    r = repr(closed)
    assert "\n" not in r and len(r) < 120
    assert r.startswith("<ClosedIR") and "500 equations" in r
    assert "\n" not in repr(closed.ir) and len(repr(closed.ir)) < 120


def test_repr_markdown_wraps_the_text():
    closed = cr.make_ir(lambda x: np.exp(x) + x)(1.0)
    text = """\
{ lambda ; a:f64[]. let
    b:f64[] = exp a
    c:f64[] = add b a
  in (c,) }"""
    assert str(closed) == text
    assert closed._repr_markdown_() == "```\n" + text + "\n```"


# -- nested blocks (bodies of control flow, held in params) ----------------------------
call_p = Primitive("call")
call_p.impl = lambda *args, body: eval_ir(body, [], list(args))[0]
call_p.shape_rule = lambda *avals, body: body.out_avals[0]


def _nested_example():
    body = cr.make_ir(lambda y: np.sin(y) + 1.0)(1.0).ir
    return cr.make_ir(lambda x: call_p.bind(x * 2.0, body=body) * x)(1.0)


def test_nested_block_names_are_unique():
    closed = _nested_example()
    closed.check()
    assert closed.eval(0.5) == (np.sin(1.0) + 1.0) * 0.5
    text = str(closed)
    binders = [tok.split(":")[0] for line in text.splitlines() for tok in line.split()
               if ":f64[" in tok and not tok.startswith(("1.0", "2.0"))]
    # each binder name introduced once: a, b (outer), c, d, e (body), f, g (outer)
    defined = [b for b in binders if b != "_"]
    assert sorted(set(defined)) == list("abcdefg")


def test_nested_block_names_follow_reading_order():
    # docs/api.md: names in order of definition, unique across nested blocks; as in
    # JAX, the equation's own outputs are named before its bodies, so that
    # names appear a, b, c, ... as the text is read.
    text = str(_nested_example())
    first_seen = []
    for line in text.splitlines():
        for tok in line.replace("(", " ").replace(",", " ").split():
            name = tok.split(":")[0]
            if ":f64[" in tok and name.isalpha() and name not in first_seen:
                first_seen.append(name)
    assert first_seen == sorted(first_seen), text


def test_nested_block_is_indented_inside_its_equation():
    # the body's lines, from its "{ lambda" to its closing "}", stand
    # further right than the equation holding it, not at the left margin
    text = str(_nested_example())
    lines = text.splitlines()
    k = next(i for i, line in enumerate(lines) if "call[" in line)
    eqn_indent = len(lines[k]) - len(lines[k].lstrip())
    start = next(i for i in range(k, len(lines)) if "{ lambda" in lines[i])
    end = next(i for i in range(start, len(lines)) if "}" in lines[i])
    assert k < end < len(lines) - 1, text
    for line in lines[max(start, k + 1):end + 1]:
        assert len(line) - len(line.lstrip()) > eqn_indent, text


switch_p = Primitive("switch")
switch_p.impl = lambda i, x, *, branches: eval_ir(branches[int(i)], [], [x])[0]
switch_p.shape_rule = lambda i, x, *, branches: branches[0].out_avals[0]


def test_tuple_of_bodies_prints_each_as_a_nested_block():
    # like cond's branches: a param holding a tuple of IRs
    b0 = cr.make_ir(lambda y: np.sin(y))(1.0).ir
    b1 = cr.make_ir(lambda y: y * 3.0)(1.0).ir
    closed = cr.make_ir(lambda i, x: switch_p.bind(i, x, branches=(b0, b1)) + x)(0, 1.0)
    closed.check()
    assert closed.eval(1, 2.0) == 8.0
    text = str(closed)
    lines = text.splitlines()
    assert text.count("{ lambda") == 3
    for line in lines:
        assert line == line.rstrip(), f"trailing whitespace in {line!r}"
    # names: a b (inputs), c (switch output), d e / f g (bodies), h
    first_seen = []
    for line in lines:
        for tok in line.replace("(", " ").replace(",", " ").split():
            name = tok.split(":")[0]
            if ":" in tok and name.isalpha() and name not in first_seen:
                first_seen.append(name)
    assert first_seen == list("abcdefgh"), text
    k = next(i for i, line in enumerate(lines) if "switch[" in line)
    end = next(i for i in range(k, len(lines)) if "] a b" in lines[i])
    eqn_indent = len(lines[k]) - len(lines[k].lstrip())
    for line in lines[k + 1:end + 1]:
        assert len(line) - len(line.lstrip()) > eqn_indent, text


# -- large programs ---------------------------------------------------------------
def test_printing_a_long_program_needs_no_recursion(shallow_stack):
    def f(x):
        for _ in range(3000):
            x = x * 1.5
        return x

    closed = cr.make_ir(f)(1.0)
    shallow_stack()  # far fewer frames than equations
    text = closed.pretty(source_info=True)
    assert text.count("\n") == 3000 + 1
    assert text.endswith(f"  in ({var_name(3000)},) }}")


@pytest.mark.parametrize("value, text", [
    (np.float64(0.1), "0.1:f64[]"),
    (np.float32(0.1), "0.1:f32[]"),
    (np.int64(-3), "-3:i64[]"),
    (np.bool_(True), "True:bool[]"),
    (np.float64(np.inf), "inf:f64[]"),
])
def test_literal_text(value, text):
    x = Var(ShapedArray((), np.asarray(value).dtype))
    y = Var(ShapedArray((), np.asarray(value).dtype))
    prim = P.max_p if value.dtype != np.bool_ else P.and_p
    ir = IR([], [x], [Equation(prim, [x, Literal(value)], [y], {})], [y])
    assert str(ir).splitlines()[1] == f"    b:{x.aval.str_short()} = {prim.name} a {text}"
