"""Scalar code (``interpreters/codegen_scalar.py``) gives NumPy's answers.

Groups: every primitive with a scalar form, one equation at a time, on a
grid of operands with signed zeros, infinities, nans, huge, tiny and
out-of-domain values, against the evaluate interpreter (NumPy): bit-equal
(and of the same type) where NumPy and Python's ``math`` compute the same
way, within the documented ulps where NumPy uses its own SIMD code; the
fallback taken exactly where Python raises; programs that are not all-0-d
refused; nothing a user controls reaching the source; whole programs (the
benchmark's 300-operation value and gradient, 10^5 equations) against the
interpreter and against derivatives by hand.
"""
from __future__ import annotations

import ast
import itertools
import linecache
import math
import re
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.interpreters.codegen_scalar import ScalarCode, compile_scalar
from chainrule.interpreters.evaluate import eval_ir
from chainrule.primitives._ops import PRIMITIVES
from chainrule.tracer.atoms import Literal
from chainrule.tracer.avals import ShapedArray
from chainrule.tracer.core import Primitive
from chainrule.tracer.ir import IR, ClosedIR, Equation, Var

F64, BOOL = np.dtype(np.float64), np.dtype(np.bool_)
INF, NAN = math.inf, math.nan
GRID = [-0.0, 0.0, INF, -INF, NAN, -NAN, 1e308, -1e308, 5e-324, -5e-324, 1e-300, 1e-10,
        0.3, 0.5, -0.5, 0.999999, 1.0, -1.0, 1.5, -1.5, 2.5, -2.5, 3.0, -7.25, 20.0,
        709.0, 710.0, -745.5, 2.0 ** 53 + 2]


# -- building and comparing ---------------------------------------------------------------------
def one_equation(name, in_dtypes, out_dtype, literal=None, **params):
    """The program ``out = name[params] a b ...`` (the last operand a literal
    when ``literal`` is given), checked by its shape rule."""
    invars = [Var(ShapedArray((), d)) for d in in_dtypes]
    operands = invars + ([Literal(np.float64(literal))] if literal is not None else [])
    out = Var(ShapedArray((), out_dtype))
    closed = ClosedIR(IR([], invars, [Equation(PRIMITIVES[name], operands, [out], params)],
                         [out]), [])
    closed.check()
    return closed


def interpreted(closed, *args):
    """NumPy's answer: the evaluate interpreter, which calls each
    primitive's NumPy implementation."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return eval_ir(closed.ir, closed.consts, list(args))


class CountingFallback:
    """The array-mode stand-in: the interpreter, counting its calls."""

    def __init__(self, closed):
        self.closed, self.calls = closed, []

    def __call__(self, *args):
        self.calls.append(args)
        return interpreted(self.closed, *args)


def compiled(closed):
    code = compile_scalar(closed, CountingFallback(closed))
    assert isinstance(code, ScalarCode), f"no scalar code for\n{closed}"
    return code


def ulps_apart(a, b):
    """The number of doubles between a and b (both finite)."""
    def ordered(x):
        i = int(np.float64(x).view(np.int64))
        return i if i >= 0 else -(i & 0x7FFFFFFFFFFFFFFF)
    return abs(ordered(a) - ordered(b))


def assert_same(got, want, ulps=0, where=""):
    """Same type; for floats: both nan, or equal with the same sign of zero,
    or (when ``ulps``) both finite and at most ``ulps`` apart."""
    assert type(got) is type(want), f"{where}: type {type(got)} but NumPy's is {type(want)}"
    if isinstance(want, np.bool_):
        assert got == want, f"{where}: {got} != {want}"
        return
    g, w = float(got), float(want)
    if math.isnan(w) or math.isnan(g):
        assert math.isnan(g) and math.isnan(w), f"{where}: {g!r} but NumPy gives {w!r}"
    elif g == w:
        assert math.copysign(1, g) == math.copysign(1, w), f"{where}: {g!r} vs NumPy's {w!r}"
    else:
        assert ulps and math.isfinite(g) and math.isfinite(w) and ulps_apart(g, w) <= ulps, \
            f"{where}: {g!r} but NumPy gives {w!r} ({ulps_apart(g, w)} ulp apart)"


def check_on_grid(closed, domains, ulps=0):
    code = compiled(closed)
    for args in itertools.product(*domains):
        args = [np.float64(a) if type(a) is float else np.bool_(a) for a in args]
        want = interpreted(closed, *args)
        got = code(*args)
        assert len(got) == len(want) == 1
        assert_same(got[0], want[0], ulps, where=f"{closed.eqns[0].primitive.name}{tuple(args)}")
    return code


# -- every primitive against NumPy on the grid ----------------------------------------------
# the last-ulp differences measured against NumPy 2.4's SIMD code on AVX-512
# (20,000 random operands each; see the module docstring of codegen_scalar)
UNARY_ULPS = {"sin": 0, "cos": 0, "sqrt": 0, "tan": 1, "asin": 1, "acos": 1, "atan": 1,
              "sinh": 2, "cosh": 1, "tanh": 3, "asinh": 1, "acosh": 1, "atanh": 1, "exp": 1,
              "exp2": 1, "log": 1, "log1p": 1, "expm1": 1, "cbrt": 3, "logistic": 2}
UNARY_EXACT = ["neg", "abs", "sign", "floor", "ceil", "trunc", "round", "stop_gradient"]
BINARY_ULPS = {"add": 0, "sub": 0, "mul": 0, "div": 0, "rem": 0, "floor_div": 0, "max": 0,
               "min": 0, "logaddexp": 0, "pow": 1, "atan2": 1, "hypot": 1}


@pytest.mark.parametrize("name", sorted(UNARY_ULPS) + UNARY_EXACT)
def test_unary_on_the_grid(name):
    check_on_grid(one_equation(name, [F64], F64), [GRID], UNARY_ULPS.get(name, 0))


@pytest.mark.parametrize("name, params", [
    ("reshape", dict(shape=())), ("squeeze", dict(dimensions=())),
    ("broadcast_in_dim", dict(shape=(), broadcast_dimensions=())),
    ("reduce_sum", dict(axes=())), ("reduce_max", dict(axes=())), ("reduce_min", dict(axes=())),
    ("reduce_prod", dict(axes=())), ("convert_element_type", dict(new_dtype=F64))])
def test_structural_primitives_on_0d_values(name, params):
    # identities, except np.sum(-0.0, axis=()), which is +0.0 (0.0 + -0.0)
    code = check_on_grid(one_equation(name, [F64], F64, **params), [GRID])
    if name == "reduce_sum":
        assert math.copysign(1, code(-0.0)[0]) == 1.0


@pytest.mark.parametrize("name", sorted(BINARY_ULPS))
def test_binary_on_the_grid(name):
    check_on_grid(one_equation(name, [F64, F64], F64), [GRID, GRID], BINARY_ULPS[name])


@pytest.mark.parametrize("exponent", [2.0, 0.5, -1.0, 0.0, -0.0, 1.0, 3.0, -2.0, 1 / 3, INF,
                                      -INF, NAN])
def test_pow_by_a_literal(exponent):
    # NumPy's power loop with a 0-d exponent: x ** 0.5 is sqrt(x), so
    # (-0.0) ** 0.5 = -0.0 and (-inf) ** 0.5 = nan, where C's pow gives +0.0, inf
    fast = exponent in (2.0, 0.5, -1.0, 0.0, 1.0)
    code = check_on_grid(one_equation("pow", [F64], F64, literal=exponent), [GRID],
                         0 if fast else 1)
    if exponent == 0.5:
        assert "_sqrt(" in code.source
        assert math.copysign(1, code(-0.0)[0]) == -1.0 and math.isnan(code(-INF)[0])


@pytest.mark.parametrize("n", [-3, -2, -1, 0, 1, 2, 3, 4, 7, 100])
def test_integer_pow(n):
    check_on_grid(one_equation("integer_pow", [F64], F64, y=n), [GRID],
                  0 if n in (-1, 0, 1, 2) else 1)


def test_pow_fast_paths_with_a_variable_exponent():
    code = check_on_grid(one_equation("pow", [F64, F64], F64), [GRID, [0.5, 2.0, -1.0, 0.0]])
    # sqrt's rules, not C pow's: (-0.0) ** 0.5 = -0.0
    assert math.copysign(1, code(-0.0, 0.5)[0]) == -1.0


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons(name):
    check_on_grid(one_equation(name, [F64, F64], BOOL), [GRID, GRID])
    check_on_grid(one_equation(name, [BOOL, BOOL], BOOL), [[True, False]] * 2)


@pytest.mark.parametrize("name, arity", [("not", 1), ("and", 2), ("or", 2), ("xor", 2)])
def test_logic(name, arity):
    check_on_grid(one_equation(name, [BOOL] * arity, BOOL), [[True, False]] * arity)


def test_select_signbit_and_conversions():
    check_on_grid(one_equation("select", [BOOL, F64, F64], F64), [[True, False], GRID, GRID[:6]])
    check_on_grid(one_equation("select", [BOOL, BOOL, BOOL], BOOL), [[True, False]] * 3)
    check_on_grid(one_equation("signbit", [F64], BOOL), [GRID])
    check_on_grid(one_equation("convert_element_type", [F64], BOOL, new_dtype=BOOL), [GRID])
    check_on_grid(one_equation("convert_element_type", [BOOL], F64, new_dtype=F64),
                  [[True, False]])


def test_numpy_rules_python_would_get_wrong():
    # by hand: np.maximum propagates nan from either side (Python's max(1.0,
    # nan) is 1.0); np.sign(-0.0) = +0.0; np.floor(-0.5) = -1.0 and
    # np.ceil(-0.5) = -0.0 (math.ceil gives the integer 0); np.round rounds
    # half to even: 2.5 -> 2.0, -0.5 -> -0.0; rem takes the divisor's sign
    def run(name, *args, n=None):
        ins = [F64] * len(args)
        closed = one_equation(name, ins, F64, **({} if n is None else {"y": n}))
        return float(compiled(closed)(*args)[0])
    assert math.isnan(run("max", 1.0, NAN)) and math.isnan(run("max", NAN, 1.0))
    assert math.isnan(run("min", 1.0, NAN))
    assert math.copysign(1, run("max", -0.0, 0.0)) == 1.0     # a tie gives the second
    assert math.copysign(1, run("max", 0.0, -0.0)) == -1.0
    assert math.copysign(1, run("sign", -0.0)) == 1.0
    assert run("floor", -0.5) == -1.0
    assert math.copysign(1, run("ceil", -0.5)) == -1.0
    assert run("round", 2.5) == 2.0 and run("round", 3.5) == 4.0
    assert math.copysign(1, run("round", -0.5)) == -1.0
    assert run("rem", -5.5, 2.0) == 0.5 and run("rem", 5.5, -2.0) == -0.5
    assert run("floor_div", -5.5, 2.0) == -3.0


@pytest.mark.parametrize("seed", range(3))
def test_random_operands_within_the_documented_ulps(seed):
    # the bounds in the module docstring, on random operands across the range
    rng = np.random.default_rng(seed)
    xs = np.concatenate([rng.uniform(-10, 10, 300), np.exp(rng.uniform(-700, 700, 300))
                         * rng.choice([-1.0, 1.0], 300)])
    for name, ulps in UNARY_ULPS.items():
        closed = one_equation(name, [F64], F64)
        code = compiled(closed)
        for x in xs:
            assert_same(code(x)[0], interpreted(closed, x)[0], ulps, where=f"{name}({x!r})")
    for name in ("pow", "atan2", "hypot", "logaddexp"):
        closed = one_equation(name, [F64, F64], F64)
        code = compiled(closed)
        for x, y in zip(xs, rng.permutation(xs) / 50):
            assert_same(code(x, y)[0], interpreted(closed, x, y)[0], BINARY_ULPS[name],
                        where=f"{name}({x!r}, {y!r})")


# -- the fallback: NumPy's answer where Python raises ------------------------------------------
@pytest.mark.parametrize("name, args, params, want", [
    # by hand: NumPy's IEEE answers, where math raises ValueError/OverflowError
    # and float division ZeroDivisionError
    ("log", (-1.0,), {}, NAN), ("log", (0.0,), {}, -INF), ("log1p", (-1.0,), {}, -INF),
    ("sqrt", (-1.0,), {}, NAN), ("exp", (1000.0,), {}, INF), ("expm1", (1000.0,), {}, INF),
    ("sinh", (1000.0,), {}, INF), ("atanh", (1.0,), {}, INF), ("acosh", (0.5,), {}, NAN),
    ("sin", (INF,), {}, NAN), ("floor", (INF,), {}, INF), ("round", (NAN,), {}, NAN),
    ("div", (1.0, 0.0), {}, INF), ("div", (1.0, -0.0), {}, -INF), ("div", (0.0, 0.0), {}, NAN),
    ("rem", (1.0, 0.0), {}, NAN), ("floor_div", (1.0, 0.0), {}, INF),
    ("pow", (-8.0, 1 / 3), {}, NAN), ("pow", (0.0, -1.0), {}, INF),
    ("pow", (10.0, 400.0), {}, INF), ("integer_pow", (0.0,), {"y": -2}, INF),
    ("integer_pow", (1e200,), {"y": 3}, INF), ("integer_pow", (-0.0,), {"y": -1}, -INF)])
def test_fallback_gives_numpys_answer(name, args, params, want):
    closed = one_equation(name, [F64] * len(args), F64, **params)
    fallback = CountingFallback(closed)
    code = compile_scalar(closed, fallback)
    given = [np.array(a) for a in args]          # the fallback gets the arguments as given
    got = code(*given)
    assert len(fallback.calls) == 1 and all(a is b for a, b in zip(fallback.calls[0], given))
    assert type(got[0]) is np.float64
    g = float(got[0])
    assert (math.isnan(g) and math.isnan(want)) or (g == want and
                                                    math.copysign(1, g) == math.copysign(1, want))


def test_no_fallback_on_ordinary_values():
    closed = cr.make_ir(lambda x: cnp.log(x) + cnp.sqrt(x) / x)(2.0)
    fallback = CountingFallback(closed)
    code = compile_scalar(closed, fallback)
    # by hand: ln 2 + sqrt(2)/2 = 0.69314718055994531 + 0.70710678118654752
    assert float(code(2.0)[0]) == pytest.approx(1.4002539617464928, rel=1e-15)
    assert fallback.calls == []
    assert math.isnan(code(-2.0)[0]) and len(fallback.calls) == 1


def test_the_arguments_may_be_floats_numpy_scalars_or_0d_arrays():
    closed = cr.make_ir(lambda x, y: cnp.sin(x) * y)(0.5, 2.0)
    code = compiled(closed)
    want = interpreted(closed, np.float64(0.5), np.float64(2.0))
    for x, y in [(0.5, 2.0), (np.float64(0.5), np.float64(2.0)), (np.array(0.5), np.array(2.0))]:
        assert_same(code(x, y)[0], want[0])


# -- what the results are ----------------------------------------------------------------------
@pytest.mark.parametrize("arg", [1.5, np.float64(1.5), np.array(1.5)])
def test_result_types_are_the_interpreters(arg):
    x, c = Var(ShapedArray((), F64)), Var(ShapedArray((), F64))
    outs = [Var(ShapedArray((), F64)) for _ in range(4)]
    b = Var(ShapedArray((), BOOL))
    eqns = [Equation(PRIMITIVES["reshape"], [x], [outs[0]], {"shape": ()}),
            Equation(PRIMITIVES["stop_gradient"], [x], [outs[1]], {}),
            Equation(PRIMITIVES["broadcast_in_dim"], [x], [outs[2]],
                     {"shape": (), "broadcast_dimensions": ()}),
            Equation(PRIMITIVES["sin"], [outs[1]], [outs[3]], {}),
            Equation(PRIMITIVES["lt"], [x, c], [b], {})]
    closed = ClosedIR(IR([c], [x], eqns, outs + [b, x, c, Literal(np.float64(2.0))]),
                      [np.array(2.0)])
    closed.check()
    want = interpreted(closed, arg)
    got = compiled(closed)(arg)
    assert [type(g) for g in got] == [type(w) for w in want]
    for g, w in zip(got, want):
        assert_same(np.float64(g) if type(g) is float else g,
                    np.float64(w) if type(w) is float else w)
    # no array result shares memory with an argument or a constant (the
    # interpreter's may: the array-mode boundary copies them)
    for g in got:
        if isinstance(g, np.ndarray):
            assert not any(np.shares_memory(g, a) for a in (np.asarray(arg), closed.consts[0]))


def test_outputs_that_are_literals_inputs_and_repeated_values():
    def f(x):
        y = 2.0 * x
        return x, y, y, np.inf * x, np.nan + x, cnp.maximum(x, np.nan), 3.0
    closed = cr.make_ir(f)(1.0)
    code = compiled(closed)
    for x in (1.0, -0.0, INF):
        for g, w in zip(code(np.float64(x)), interpreted(closed, np.float64(x))):
            assert_same(g, w)


# -- programs that are not scalar ------------------------------------------------------------
def test_programs_that_are_not_all_0d_floats_get_none():
    weights = np.ones(3)
    refused = [
        cr.make_ir(lambda x: cnp.sin(x))(np.ones(3)),                 # an f64[3] input
        cr.make_ir(lambda x: cnp.sin(x))(np.float32(1.0)),            # f32
        cr.make_ir(lambda n: n + 1)(np.int64(3)),                     # i64
        cr.make_ir(lambda x: x * cnp.sum(x * weights))(1.0),          # an f64[3] constant
        cr.make_ir(lambda x: cr.cond(x > 0, lambda v: v, lambda v: -v, x))(1.0),   # no emitter
    ]
    for closed in refused:
        assert compile_scalar(closed, None) is None, str(closed)


def test_a_primitive_that_only_shares_a_name_is_refused():
    fake = Primitive("sin")
    fake.impl, fake.shape_rule = (lambda x: x), (lambda x: x)
    x, y = Var(ShapedArray((), F64)), Var(ShapedArray((), F64))
    assert compile_scalar(ClosedIR(IR([], [x], [Equation(fake, [x], [y], {})], [y]), []),
                          None) is None


def test_constants_that_are_not_0d_numbers_are_refused():
    c, y = Var(ShapedArray((), F64)), Var(ShapedArray((), F64))
    program = IR([c], [], [Equation(PRIMITIVES["sin"], [c], [y], {})], [y])
    for value in ["1.0", np.ones(1), np.float32(1.0), object(), 1]:
        assert compile_scalar(ClosedIR(program, [value]), None) is None, repr(value)
    assert compile_scalar(ClosedIR(program, [np.float64(0.5)]), None) is not None


# -- nothing user-controlled reaches the source --------------------------------------------
GENERATED_NAME = re.compile(r"^(a|r|k|n)\d+$")


def assert_only_generated_text(source):
    from chainrule.interpreters import codegen_scalar
    allowed = set(codegen_scalar._HELPERS) | {"_bind", "_fallback", "scalar_program"}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            assert node.id in allowed or GENERATED_NAME.match(node.id), node.id
        if isinstance(node, ast.arg):
            assert node.arg in allowed or GENERATED_NAME.match(node.arg), node.arg
        if isinstance(node, ast.Constant):
            assert type(node.value) in (float, bool), repr(node.value)
        assert not isinstance(node, (ast.Attribute, ast.Import, ast.ImportFrom, ast.Subscript))


def test_injection_names_constants_and_literals_cannot_change_the_source():
    class Evil(float):
        def __repr__(self):
            return "__import__('os').system('echo owned')"

    def make(value):
        def f(x):
            return cnp.sin(x * value) + value
        f.__name__ = "evil\"; __import__('os').system('echo owned') #\n"
        f.__qualname__ = f.__name__
        return cr.make_ir(f)(0.5)

    code = compiled(make(np.array(-0.25)))
    assert_only_generated_text(code.source)
    assert "owned" not in code.source and "evil" not in code.source
    # constants are bound objects, never written: one source for every value
    c, x, y = (Var(ShapedArray((), F64)) for _ in range(3))
    program = IR([c], [x], [Equation(PRIMITIVES["mul"], [x, c], [y], {})], [y])
    sources = {compiled(ClosedIR(program, [value])).source
               for value in (np.float64(1e308), np.array(-0.25), np.float64(NAN), Evil(INF))
               if compile_scalar(ClosedIR(program, [value]), None)}
    assert len(sources) == 1
    assert_only_generated_text(sources.pop())
    # a literal whose value's repr is code is written from float(value)
    x, y = Var(ShapedArray((), F64)), Var(ShapedArray((), F64))
    literal = Literal(np.float64(2.0))
    literal.value = Evil(2.0)
    code = compiled(ClosedIR(IR([], [x], [Equation(PRIMITIVES["mul"], [x, literal], [y], {})],
                                [y]), []))
    assert "__import__" not in code.source and "r0 * 2.0" in code.source
    assert_only_generated_text(code.source)
    # dtypes whose names are code are not scalar floats: no source at all
    evil_dtype = np.dtype([("__import__('os')", np.float64)])
    x = Var(ShapedArray((), evil_dtype))
    assert compile_scalar(ClosedIR(IR([], [x], [], [x]), []), None) is None


def test_non_finite_literals_are_bound_constants():
    closed = cr.make_ir(lambda x: x * np.inf + (x - np.inf) * np.nan)(1.0)
    code = compiled(closed)
    assert "inf" not in code.source and "nan" not in code.source
    assert_only_generated_text(code.source)
    assert_same(code(1.0)[0], interpreted(closed, np.float64(1.0))[0])


def test_the_source_is_in_linecache():
    code = compiled(cr.make_ir(lambda x: cnp.exp(x))(1.0))
    assert code.filename.startswith("<chainrule-scalar ")
    lines = code.source.splitlines()
    assert linecache.getline(code.filename, 2) == lines[1] + "\n"
    assert "def scalar_program(a0):" in lines[1]


# -- whole programs ---------------------------------------------------------------------------
def scalar_program(x, m):
    """benchmarks/bench_training.py's program: 300 operations."""
    for _ in range(60):
        x = m.log(m.exp(m.sin(x) * 0.5 + 1.0))
    return x


def test_value_and_grad_of_the_300_operation_program():
    closed = cr.make_ir(cr.value_and_grad(lambda x: scalar_program(x, np)))(1.0)
    code = compiled(closed)
    for x0 in (0.3, -2.0, 1e-3):
        value, grad = code(x0)
        want_value, want_grad = interpreted(closed, np.float64(x0))
        # exp and log may each differ from NumPy's in the last ulp
        assert type(value) is type(grad) is np.float64
        assert value == pytest.approx(want_value, rel=1e-14)
        assert grad == pytest.approx(want_grad, rel=1e-12)
        # by hand: log(exp(u)) = u, so x_{k+1} = sin(x_k)/2 + 1, and the chain
        # rule gives dx_60/dx_0 = prod_k cos(x_k)/2
        x, slope = x0, 1.0
        for _ in range(60):
            x, slope = math.sin(x) * 0.5 + 1.0, slope * math.cos(x) * 0.5
        assert value == pytest.approx(x, rel=1e-13)
        assert grad == pytest.approx(slope, rel=1e-11)
    # a dead value's register is reused: the function holds the residuals
    # the backward pass reads (60 cos, 60 exp) and a few more, not 600 values
    assert len(closed.eqns) == 600 and code.function.__code__.co_nlocals <= 130


def test_a_program_of_100_000_equations(default_recursion_limit):
    def f(x):
        for _ in range(50_000):
            x = cnp.sin(x) * 1.0001
        return x
    closed = cr.make_ir(f)(0.5)
    code = compiled(closed)
    # sin and mul are bit-equal to NumPy's, so the whole chain is
    assert_same(code(0.5)[0], interpreted(closed, np.float64(0.5))[0])
