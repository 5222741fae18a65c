"""The compiler from the IR to Python source (``interpreters/codegen.py``).

A compiled program must compute what the evaluate interpreter computes, bit
for bit, with the same dtypes and the same 0-d types (``same`` compares the
bytes), over:

* every case of the primitive table (``tests/test_primitives.py``), and for
  the first cases of each primitive the programs its transformations make
  (the JVP program, the linear program, its transpose, the gradient program
  and the batched program);
* random programs (``tests/random_programs.py``, a bounded Hypothesis run)
  and their gradient and batched programs;
* programs with control flow (cond, switch, scan, fori_loop, while_loop,
  checkpoint, custom_jvp, custom_vjp), in every mode.

Then what the compiler adds: buffers written in place (counted in the
source) without ever overwriting a value still to be read, results that
share memory with nothing, donated inputs; nothing user-controlled in the
source (names, params, dtypes that hold Python code); errors that name the
user's line; a program of 10^5 equations.
"""
from __future__ import annotations

import linecache
import math
import sys
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

import chainrule as cr
import random_programs as R
import test_control_flow as CF
import test_primitives as TP
from chainrule.interpreters import jvp_ir, transpose_ir
from chainrule.interpreters.codegen import NUMPY, ArrayNamespace, compile_ir
from chainrule.interpreters.evaluate import eval_ir
from chainrule.primitives import all_primitives
from chainrule.tracer.core import Primitive, bind
from chainrule.tracer.ir import ClosedIR

P = all_primitives()
EVIL = "x'); import os; os.system('echo hacked') #"


# -- comparing a compiled program with the interpreter ------------------------------------
def same(got, want):
    """Equal lists of results: the same type (a NumPy scalar is not a 0-d
    array nor a Python float), dtype and shape, and the same bytes."""
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert type(g) is type(w), (k, type(g), type(w))
        if isinstance(w, (np.ndarray, np.generic)):
            assert (g.shape, g.dtype) == (w.shape, w.dtype), (k, g.shape, w.shape, g.dtype)
            assert np.ascontiguousarray(g).tobytes() == np.ascontiguousarray(w).tobytes(), (k, g, w)
        else:
            assert g == w or (g != g and w != w), (k, g, w)


def run(closed, args, donate=()):
    """Compile ``closed``, run its array code and the interpreter on ``args``,
    and check they agree (or raise the same error); scalar code, where the
    scalar compiler takes the program, agrees to a few units in the last
    place (``math`` and NumPy's SIMD loops may round differently).  Returns
    the compiled program."""
    compiled = compile_ir(closed, donate=donate)
    with np.errstate(all="ignore"):
        try:
            want = eval_ir(closed.ir, closed.consts, list(args))
        except Exception as e:    # the compiled code must raise it too
            with pytest.raises(type(e)):
                compiled.array(*args)
            return compiled
        same(compiled.array(*args), want)
        if compiled.scalar:
            got = compiled(*args)
            assert [type(g) for g in got] == [type(w) for w in want]
            np.testing.assert_allclose(np.array(got, float), np.array(want, float),
                                       rtol=1e-14, atol=0)
    return compiled


def random_args(avals, seed):
    """Arguments for a program of these input types (floats normal, integers
    small, booleans random)."""
    rng = np.random.default_rng(seed)
    out = []
    for a in avals:
        if np.issubdtype(a.dtype, np.floating):
            x = rng.standard_normal(a.shape).astype(a.dtype)
        elif np.issubdtype(a.dtype, np.integer):
            x = rng.integers(0, 3, a.shape).astype(a.dtype)
        elif a.dtype == np.bool_:
            x = rng.integers(0, 2, a.shape).astype(np.bool_)
        else:
            x = np.zeros(a.shape, a.dtype)
        out.append(x[()] if not a.shape else x)
    return out


def transformed(f, args, seed=0):
    """The programs the transformations make of ``f`` at ``args``, each with
    arguments: the JVP program, the linear program and its transpose, the
    gradient program of a weighted sum of the float outputs, and the batched
    program (a transformation the program does not support is left out)."""
    closed = cr.make_ir(f)(*args)
    floats_in = [i for i, a in enumerate(closed.in_avals) if a.dtype.kind == "f"]
    floats_out = [k for k, a in enumerate(closed.out_avals) if a.dtype.kind == "f"]
    made = []

    def attempt(label, make, values):
        try:
            program = make()
        except (TypeError, NotImplementedError, cr.ShapeError):
            return   # (no reverse mode through while, no forward mode of custom_vjp ...)
        made.append((label, program, values(program)))

    attempt("jvp", lambda: jvp_ir(closed),
            lambda p: list(args) + random_args(p.in_avals[len(args):], seed))
    linear = []
    attempt("linear", lambda: linear.append(cr.linearize(f, *args)[1].ir) or linear[0],
            lambda p: random_args(p.in_avals, seed + 1))
    if linear:
        attempt("transpose", lambda: transpose_ir(linear[0]),
                lambda p: random_args(p.in_avals, seed + 2))
    if floats_in and floats_out:
        weights = random_args([closed.out_avals[k] for k in floats_out], seed + 3)

        def loss(*a):
            outs = f(*a)
            outs = outs if isinstance(outs, (tuple, list)) else (outs,)
            return sum(cr.numpy.sum(outs[k] * w) for k, w in zip(floats_out, weights))
        attempt("grad", lambda: cr.make_ir(cr.grad(loss, argnums=tuple(floats_in)))(*args),
                lambda p: list(args))
    batched = [np.stack([np.asarray(a)] * 2) for a in args]
    attempt("vmap", lambda: cr.make_ir(cr.vmap(f))(*batched), lambda p: batched)
    return made


# -- the primitive table --------------------------------------------------------------------
def _table_function(name, operands, params):
    prim = P[name]
    traced = [o for o in operands if not isinstance(o, TP.Const)]

    def f(*xs):
        it = iter(xs)
        return prim.bind(*[o.value if isinstance(o, TP.Const) else next(it) for o in operands],
                         **params)
    return f, traced


@pytest.mark.parametrize("name, operands, params", TP.PARAMS)
def test_every_case_of_the_primitive_table(name, operands, params):
    f, traced = _table_function(name, operands, params)
    closed = cr.make_ir(f)(*traced)
    compiled = run(closed, traced)
    assert not compiled.scalar or all(a.shape == () for a in closed.in_avals)


FIRST_CASES = [pytest.param(name, *TP.CASES[name][k], id=f"{name}-{k}")
               for name in sorted(TP.CASES) for k in range(min(2, len(TP.CASES[name])))]


@pytest.mark.parametrize("name, operands, params", FIRST_CASES)
def test_the_transformed_programs_of_each_primitive(name, operands, params):
    f, traced = _table_function(name, operands, params)
    for label, program, args in transformed(f, traced, zlib.crc32(name.encode())):
        run(program, args)


# -- random programs ------------------------------------------------------------------------
@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(R.cases())
def test_random_programs_and_their_gradients(case):
    assume(case.find_args() is not None)
    f, args = case.program.f, case.args
    run(cr.make_ir(f)(*args), args)
    for label, program, values in transformed(f, args, case.seed % 1000):
        run(program, values)


# -- control flow ---------------------------------------------------------------------------
def _nested(x, n):
    # a scan whose body holds a cond and a fori_loop, a checkpoint around it
    def step(c, xi):
        c = cr.cond(xi[0] > 0, lambda a: np.sin(a) * xi, lambda a: a - xi, c)
        c = cr.fori_loop(0, 2, lambda i, a: a * 0.5 + np.cos(a), c)
        return c, np.sum(c * c)
    c, ys = cr.checkpoint(lambda x: cr.scan(step, x[0], x, reverse=True))(x)
    return c, ys, cr.switch(n, [lambda a: a, lambda a: -a, lambda a: a * 3.0], c)


@cr.custom_jvp
def _softplus(x):
    return np.log1p(np.exp(x))


@_softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return _softplus(x), t / (1.0 + np.exp(-x))


@cr.custom_vjp
def _scaled(x, y):
    return x * np.sin(y)


_scaled.defvjp(lambda x, y: (x * np.sin(y), (x, y)),
               lambda res, g: (g * np.sin(res[1]), g * res[0] * np.cos(res[1])))

rng = np.random.default_rng(7)
FLOW = {
    "piecewise": (CF.piecewise, (rng.normal(size=4), np.int64(1))),
    "piecewise-clamped-high": (CF.piecewise, (rng.normal(size=4), np.int64(9))),
    "piecewise-clamped-low": (CF.piecewise, (rng.normal(size=4), np.int64(-4))),
    "rnn": (CF.rnn, (rng.normal(size=4), rng.normal(size=(6, 3)), CF.W)),
    "newton-sqrt": (CF.newton_sqrt, (np.float64(2.0),)),
    "nested": (_nested, (rng.normal(size=(5, 3)), np.int64(2))),
    "empty-scan": (lambda c, x: cr.scan(lambda c, xi: (c + xi, c * xi), c, x),
                   (rng.normal(size=2), np.zeros((0, 2)))),
    # ys that are matrices in a transposed layout: stacked as impl stacks them
    "scan-matrix-ys": (lambda c, xs: cr.scan(lambda c, x: (c * 0.5, np.sin(x.reshape(2, 3).T) * c),
                                             c, xs, reverse=True),
                       (np.float64(1.5), rng.normal(size=(4, 6)))),
    "custom-jvp": (lambda x: _softplus(x) * 2.0, (rng.normal(size=3),)),
    "custom-vjp": (lambda x, y: _scaled(x, y) + x, (rng.normal(size=3), rng.normal(size=3))),
    "identity-branch": (lambda x, p: cr.cond(p, lambda a: a, lambda a: a * 2.0, x),
                        (rng.normal(size=3), np.bool_(True))),
}


@pytest.mark.parametrize("name", sorted(FLOW))
def test_control_flow_in_every_mode(name):
    f, args = FLOW[name]
    closed = cr.make_ir(f)(*args)
    compiled = run(closed, args)
    flow = {"cond", "scan", "while", "checkpoint", "custom_jvp_call", "custom_vjp_call"}
    if flow & {e.primitive.name for e in closed.eqns}:
        assert "def _body1(" in compiled.source    # a body compiled into a function
    for label, program, values in transformed(f, args):
        run(program, values)


def test_control_flow_is_written_as_python_control_flow():
    closed = cr.make_ir(_nested)(*FLOW["nested"][1])
    source = compile_ir(closed).source
    # the reversed scan: a for loop from the last step down, filling a
    # preallocated array of ys; the switch over three branches: if, elif, else
    assert "for _i in _range(4, -1, -1):" in source
    assert "if _i <= 0:" in source and "elif _i == 1:" in source and "else:" in source
    assert "_empty((5,), " in source
    newton = compile_ir(cr.make_ir(CF.newton_sqrt)(np.float64(2.0))).source
    assert "while _body" in newton


# -- buffers reused in place ----------------------------------------------------------------
def test_an_elementwise_chain_writes_in_place():
    def chain(x):
        return np.exp(np.sin(x) * 2.0 + 1.0)
    x = rng.normal(size=(3, 4))
    compiled = run(cr.make_ir(chain)(x), [x])
    # sin reads the input (not ours to write): a new buffer; mul, add and
    # exp each write into the buffer of the value that dies there
    assert compiled.source.count("out=") == 3
    np.testing.assert_array_equal(compiled(x)[0], np.exp(np.sin(x) * 2.0 + 1.0))


def test_a_chain_of_large_arrays_needs_no_memory_beyond_its_result():
    import tracemalloc

    def chain(x):
        return np.exp(np.sin(x) * 2.0 + 1.0)
    x = rng.normal(size=1_000_000)                     # 8 MB
    closed = cr.make_ir(chain)(x)
    compiled = compile_ir(closed)

    def extra(f):
        """Bytes allocated at the peak of a call beyond those of its result."""
        f()
        tracemalloc.start()
        out = f()
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del out
        return peak - current
    # by hand: the interpreter holds sin x while it computes 2 sin x (and so
    # on): one 8 MB array beside the one that becomes the result; the
    # compiled code computes all four in the result's buffer
    assert extra(lambda: eval_ir(closed.ir, closed.consts, [x])) > 7_900_000
    assert extra(lambda: compiled(x)) < 100_000


def test_a_value_read_later_is_never_overwritten():
    def f(x):
        b = np.sin(x)
        c = b * 2.0           # b is read again below: c cannot take b's buffer
        d = b + c             # b and c both die here: d takes b's
        return d * 3.0        # and d dies here: the result takes it too
    x = rng.normal(size=5)
    compiled = run(cr.make_ir(f)(x), [x])
    assert compiled.source.count("out=") == 2
    # by hand: d = sin x + 2 sin x = 3 sin x, and the result 9 sin x
    np.testing.assert_allclose(compiled(x)[0], 9.0 * np.sin(x), rtol=1e-15)


def test_a_view_of_a_live_value_keeps_its_buffer():
    def f(x):
        b = np.sin(x)
        r = b.reshape(2, 3)   # a view of b, returned: b's buffer may not be written
        c = np.exp(b)         # b dies here, but its memory lives on in r
        return r, c
    x = rng.normal(size=6)
    compiled = run(cr.make_ir(f)(x), [x])
    assert "out=" not in compiled.source
    r, c = compiled(x)
    np.testing.assert_array_equal(r, np.sin(x).reshape(2, 3))
    np.testing.assert_array_equal(c, np.exp(np.sin(x)))


def test_a_broadcast_operand_is_broadcast_by_numpy_and_never_written():
    def f(x, b):
        return np.tanh(x * 2.0 + b)     # b: f64[4] broadcast to f64[3,4]
    x, b = rng.normal(size=(3, 4)), rng.normal(size=4)
    compiled = run(cr.make_ir(f)(x, b), [x, b])
    assert "broadcast_to" not in compiled.source
    assert compiled.source.count("out=") == 2        # add, tanh (mul reads the input x)
    np.testing.assert_array_equal(compiled(x, b)[0], np.tanh(x * 2.0 + b))
    # read by something that is not exact elementwise arithmetic, it stays a broadcast
    g = cr.make_ir(lambda b: np.sin(np.broadcast_to(b, (3, 4))))(b)
    assert "broadcast_to" in run(g, [b]).source


def test_results_never_share_memory_with_inputs_constants_or_each_other():
    table = rng.normal(size=3)

    def f(x):
        y = x * 2.0
        return x, y, y, x.reshape(3, 1), table, np.broadcast_to(x, (2, 3))
    x = rng.normal(size=3)
    before = x.copy()
    outs = run(cr.make_ir(f)(x), [x])(x)
    arrays = [x, table] + outs
    for i in range(len(arrays)):
        for j in range(i + 1, len(arrays)):
            assert not np.shares_memory(arrays[i], arrays[j]), (i, j)
    for o in outs:
        assert o.flags.writeable
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(outs[1], 2.0 * before)


def test_a_constant_a_branch_returns_is_copied():
    zeros = np.zeros(3)
    f = cr.make_ir(lambda x, p: cr.cond(p, lambda a: zeros, lambda a: a, x))
    closed = f(rng.normal(size=3), np.bool_(True))
    out = run(closed, [np.ones(3), np.bool_(True)])(np.ones(3), np.bool_(True))[0]
    out[:] = 5.0                                 # the caller owns it
    again = compile_ir(closed)(np.ones(3), np.bool_(True))[0]
    np.testing.assert_array_equal(again, np.zeros(3))


def test_inputs_are_never_written_unless_donated():
    def f(x):
        return np.exp(np.sin(x))
    x = rng.normal(size=(4, 4))
    closed = cr.make_ir(f)(x)
    expected = np.exp(np.sin(x))
    kept = x.copy()
    plain = compile_ir(closed)
    np.testing.assert_array_equal(plain(kept)[0], expected)
    np.testing.assert_array_equal(kept, x)                 # not donated: unchanged
    donated = compile_ir(closed, donate=(0,))
    assert donated.source.count("out=") == plain.source.count("out=") + 1
    given = x.copy()
    result = donated(given)[0]
    np.testing.assert_array_equal(result, expected)
    assert np.shares_memory(result, given)                  # its buffer was reused
    # a donated array that cannot be written (a broadcast) is copied first
    view = np.broadcast_to(x[0], (4, 4))
    np.testing.assert_array_equal(donated(view)[0], np.exp(np.sin(view)))
    # a donated float32 array where float64 was traced is converted, not written
    np.testing.assert_array_equal(donated(x.astype(np.float32))[0],
                                  np.exp(np.sin(x.astype(np.float32).astype(np.float64))))


def test_constants_are_never_written():
    table = rng.normal(size=4)
    f = cr.make_ir(lambda x: (x + table) * table)(np.ones(4))
    compiled = compile_ir(f)
    first = compiled(np.ones(4))[0]
    second = compiled(np.ones(4))[0]
    np.testing.assert_array_equal(first, (1.0 + table) * table)
    np.testing.assert_array_equal(second, first)
    # the product takes the sum's buffer, never the table's
    assert compiled.source.count("out=") == 1


# -- nothing user-controlled in the source --------------------------------------------------
def _assert_clean(source):
    for piece in (EVIL, "import os", "os.system", "hacked"):
        assert piece not in source


def test_function_names_cannot_inject_code():
    def user(x):
        return np.sin(x) * 2.0
    user.__name__ = user.__qualname__ = EVIL
    x = rng.normal(size=3)
    compiled = run(cr.make_ir(user)(x), [x])
    _assert_clean(compiled.source)
    assert "def _program(" in compiled.source
    np.testing.assert_array_equal(compiled(x)[0], np.sin(x) * 2.0)


def test_custom_rule_names_cannot_inject_code():
    def body(x):
        return x * 3.0
    body.__name__ = body.__qualname__ = EVIL
    fn = cr.custom_jvp(body)

    def rule(primals, tangents):
        return fn(primals[0]), tangents[0] * 3.0
    rule.__name__ = rule.__qualname__ = EVIL
    fn.defjvp(rule)
    vfn = cr.custom_vjp(body)
    vfn.defvjp(lambda x: (x * 3.0, None), lambda res, g: (g * 3.0,))
    x = rng.normal(size=3)
    closed = cr.make_ir(lambda x: fn(x) + vfn(x))(x)
    assert EVIL in str(closed) or repr(EVIL) in str(closed)   # the IR text shows the name
    compiled = run(closed, [x])
    _assert_clean(compiled.source)
    np.testing.assert_array_equal(compiled(x)[0], x * 3.0 + x * 3.0)
    grad = cr.make_ir(cr.grad(lambda x: np.sum(fn(x) * vfn(x))))(x)
    _assert_clean(run(grad, [x]).source)


def test_string_params_and_param_names_cannot_inject_code():
    # a primitive of the test's own (compiled by the generic emitter) with a
    # string param holding code and newlines, under a name that is no identifier
    probe = Primitive("probe')\nimport os #")
    probe.impl = lambda x, **params: x + sum(len(k) + len(v) for k, v in params.items())
    probe.shape_rule = lambda x, **params: x
    params = {EVIL: "a\n'''\nimport os\n", "tag": EVIL}
    closed = cr.make_ir(lambda x: bind(probe, x, **params))(np.zeros(2))
    compiled = run(closed, [np.zeros(2)])
    _assert_clean(compiled.source)
    assert "probe" not in compiled.source
    # by hand: len(EVIL) + len("a\n'''\nimport os\n") + len("tag") + len(EVIL)
    assert compiled(np.zeros(2))[0][0] == 2 * len(EVIL) + 16 + 3


def test_dtype_names_cannot_inject_code():
    evil = np.dtype([(EVIL, np.float64)])
    x = rng.normal(size=3)
    closed = cr.make_ir(lambda x: (bind(P["convert_element_type"], x, new_dtype=evil), x))(x)
    compiled = run(closed, [x])
    _assert_clean(compiled.source)
    out = compiled(x)[0]
    assert out.dtype == evil
    np.testing.assert_array_equal(out[EVIL], x)
    structured = np.zeros(2, evil)
    ident = cr.make_ir(lambda s: s)(structured)
    result = run(ident, [structured])
    _assert_clean(result.source)


def test_literals_reach_the_code_as_objects():
    def f(x):
        return x * np.float64(np.inf) + np.float64(-0.0) + np.nan
    x = rng.normal(size=2)
    compiled = run(cr.make_ir(f)(x), [x])
    for text in ("inf", "nan", "-0.0"):
        assert text not in compiled.source


# -- errors name the user's line -----------------------------------------------------------------
def _singular(a, b):
    return np.linalg.solve(a, b) * 2.0      # the line the error must name


def test_a_singular_solve_in_compiled_code_names_the_users_line():
    a, b = np.ones((2, 2)), np.ones(2)
    compiled = compile_ir(cr.make_ir(_singular)(np.eye(2), b))
    with pytest.raises(np.linalg.LinAlgError) as info:
        compiled(a, b)
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "while computing solve" in notes
    assert f"{__file__}:{_singular.__code__.co_firstlineno + 1}" in notes
    assert "np.linalg.solve(a, b) * 2.0" in notes
    # inside a body the note names the body's equation, and the traceback
    # shows the generated line
    inner = compile_ir(cr.make_ir(lambda a, b, p: cr.cond(p, _singular, lambda a, b: b, a, b))(
        np.eye(2), b, np.bool_(True)))
    with pytest.raises(np.linalg.LinAlgError) as info:
        inner(a, b, np.bool_(True))
    assert f"{__file__}:{_singular.__code__.co_firstlineno + 1}" in "\n".join(info.value.__notes__)
    lines = [linecache.getline(tb.tb_frame.f_code.co_filename, tb.tb_lineno)
             for tb in _frames(info.value.__traceback__)]
    assert any("= _solve_" in line for line in lines)     # the generated line of the solve


def _frames(tb):
    while tb is not None:
        yield tb
        tb = tb.tb_next


# -- large programs ---------------------------------------------------------------------------
def test_a_program_of_a_hundred_thousand_equations(default_recursion_limit):
    n = 100_000

    def long_chain(x):
        for k in range(n // 2):
            x = np.sin(x) * 0.999
        return x
    x = np.linspace(0.1, 1.0, 3)
    closed = cr.make_ir(long_chain)(x)
    assert len(closed.eqns) == n
    compiled = run(closed, [x])
    # every step writes into the buffer its operand leaves behind
    assert compiled.source.count("out=") == n - 1
    # the printer's names include keywords: ``if`` (the 214th name) is ``if_``
    assert "\n        if_ = _sin(" in compiled.source


# -- readable source, the namespace, scalar mode ---------------------------------------------
def test_the_source_reads_like_the_ir():
    def f(x, y):
        a = np.log(x)
        b = y * a
        return b + np.sqrt(b)
    x, y = rng.uniform(1, 2, 3), rng.uniform(1, 2, 3)
    closed = cr.make_ir(f)(x, y)
    source = compile_ir(closed).source
    # the IR: c = log a; d = mul b c; e = sqrt d; f = add d e
    body = [line.strip() for line in source.splitlines()[source.splitlines().index(
        "def _program(a, b):") + 2:]]
    assert body[:7] == ["c = _log(a)", "del a", "d = _multiply(b, c, out=c)", "del b, c",
                        "e = _sqrt(d)", "f = _add(d, e, out=d)", "del d, e"]
    assert body[7] == "return [f]"


def test_the_code_reaches_numpy_through_one_namespace_object():
    calls = []

    class Counting(ArrayNamespace):
        def __getattribute__(self, name):
            calls.append(name)
            return object.__getattribute__(self, name)
    x = rng.normal(size=(2, 3))
    closed = cr.make_ir(lambda x: np.tanh(x @ x.T).sum(axis=0))(x)
    compiled = compile_ir(closed, namespace=Counting())
    assert set(calls) >= {"matmul", "tanh", "add"}       # read once, when the module ran
    same(compiled(x), eval_ir(closed.ir, closed.consts, [x]))
    assert NUMPY.matmul is np.matmul

    class Lacking:
        pass
    with pytest.raises(TypeError, match="has no matmul"):
        compile_ir(closed, namespace=Lacking())


def test_scalar_programs_use_scalar_code_with_the_array_code_behind():
    closed = cr.make_ir(lambda x, y: math.pi * np.sin(x) * y)(1.0, 2.0)
    compiled = compile_ir(closed)
    assert compiled.scalar
    assert compiled(1.0, 2.0)[0] == eval_ir(closed.ir, closed.consts, [1.0, 2.0])[0]
    assert not compile_ir(cr.make_ir(np.sin)(np.ones(2))).scalar


def test_bad_arguments_are_errors_that_say_what_to_pass():
    closed = cr.make_ir(np.sin)(np.ones(2))
    with pytest.raises(TypeError, match="ClosedIR"):
        compile_ir(closed.ir)
    with pytest.raises(ValueError, match="donate"):
        compile_ir(closed, donate=(3,))
    with pytest.raises(TypeError, match="const"):
        compile_ir(ClosedIR(cr.make_ir(lambda x: x + np.ones(2))(np.ones(2)).ir, []))

    def inner(x):   # a program closing over a value grad traces is run by grad, not compiled
        with pytest.raises(TypeError, match="traced value"):
            compile_ir(cr.make_ir(lambda y: y * x)(1.0))
        return x * 2.0
    assert cr.grad(inner)(3.0) == 2.0


@pytest.mark.skipif(sys.flags.optimize > 0, reason="asserts are off")
def test_compiled_code_keeps_no_reference_to_linecache_after_it_is_gone():
    import gc
    compiled = compile_ir(cr.make_ir(np.sin)(np.ones(2)))
    filename = compiled.function.__code__.co_filename
    assert filename in linecache.cache
    del compiled
    gc.collect()
    assert filename not in linecache.cache


def test_swapped_matrix_product_is_the_interpreters_and_numpys():
    # a few rows times a transposed 512x512 matrix: dot_general computes
    # (W @ a.T).T (primitives/linalg.py matrix_product), compiled and interpreted alike
    from chainrule.interpreters.codegen import compile_ir
    from chainrule.interpreters.evaluate import eval_ir
    from chainrule.primitives.linalg import may_swap
    rng = np.random.default_rng(5)
    a, w = rng.standard_normal((8, 512)), rng.standard_normal((512, 512))
    assert may_swap(8, 512, 512)
    closed = cr.make_ir(lambda a, w: np.tanh(a @ w.T) * 2.0)(a, w)
    compiled = compile_ir(closed)(a, w)[0]
    interpreted = eval_ir(closed.ir, closed.consts, [a, w])[0]
    assert compiled.tobytes() == interpreted.tobytes()
    np.testing.assert_allclose(compiled, np.tanh(a @ w.T) * 2.0, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(compiled, cr.jit(lambda a, w: np.tanh(a @ w.T) * 2.0)(a, w))
