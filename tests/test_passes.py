"""The optimization passes (``cr.passes``): each rewrite on small programs,
before and after, with the cases that must not be rewritten; meaning kept
over every program the other suites build; equation counts on an MLP's
gradient; bodies nested to any depth; 10^5 equations.

Meaning: each pass alone and ``optimize`` run over the random programs of
``random_programs.py`` (and their JVP, gradient and vmap programs), every
case of the primitive table of ``test_primitives.py``, the gradient and
JVP programs of every case of ``test_ad_rules.py``, and the functions of
``test_control_flow.py``, ``test_custom_rules.py`` and
``test_checkpoint.py``; after each pass the result passes ``check()``,
keeps the program's interface, and computes what the program computes:
bit for bit for ``dce``, ``cse``, ``fold`` and ``forward``, to rounding for
``simplify`` and ``optimize`` (a ``reduce_sum`` of a broadcast becomes one
multiplication).
"""
from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import assume, given, note, settings

import chainrule as cr
import random_programs as R
import test_ad_rules as AD
import test_checkpoint as CK
import test_control_flow as CF
import test_custom_rules as CU
import test_primitives as TP
from chainrule.interpreters import jvp_ir
from chainrule.primitives import all_primitives
from chainrule.tracer.avals import ShapedArray

passes = cr.passes
P = all_primitives()
EXACT = (passes.dce, passes.cse, passes.fold, passes.forward)
EVERY = EXACT + (passes.simplify, passes.optimize)
F64 = np.dtype(np.float64)
rng = np.random.default_rng(14)


# -- helpers ---------------------------------------------------------------------------
def bind(name, *args, **params):
    return P[name].bind(*args, **params)


def names(program):
    ir = program.ir if isinstance(program, cr.ClosedIR) else program
    return [e.primitive.name for e in ir.eqns]


def var(shape=(), dtype=F64, weak=False):
    return cr.Var(ShapedArray(shape, dtype, weak))


def lit(value):
    return cr.Literal(value)


def eqn(name, inputs, outvars, **params):
    return cr.Equation(P[name], list(inputs), list(outvars), params)


def closed_of(invars, eqns, outvars, constvars=(), consts=()):
    return cr.ClosedIR(cr.IR(list(constvars), list(invars), list(eqns), list(outvars)),
                       list(consts))


def leaves(out):
    return [np.asarray(x) for x in cr.tree_leaves(out)]


def assert_same_values(got, want, exact, what):
    got, want = leaves(got), leaves(want)
    assert len(got) == len(want), what
    for k, (g, w) in enumerate(zip(got, want)):
        assert (g.shape, g.dtype) == (w.shape, w.dtype), f"{what}, output {k}"
        if exact or w.dtype.kind not in "fc":
            np.testing.assert_array_equal(g, w, err_msg=f"{what}, output {k}")
            if w.dtype.kind == "f":   # the signs of zeros too
                np.testing.assert_array_equal(np.signbit(g), np.signbit(w))
        else:
            tol = 1e-5 if w.dtype == np.float32 else 1e-11
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol, err_msg=f"{what}, output {k}")


def assert_same_interface(new, old):
    assert isinstance(new, cr.ClosedIR) and new is not old
    assert new.ir.invars == old.ir.invars
    assert (new.in_tree, new.out_tree, new.static_argnums, new.num_args) == \
        (old.in_tree, old.out_tree, old.static_argnums, old.num_args)
    assert len(new.ir.outvars) == len(old.ir.outvars)
    for a, b in zip(new.ir.outvars, old.ir.outvars):
        assert (a.aval.shape, a.aval.dtype, a.aval.weak_type) == \
            (b.aval.shape, b.aval.dtype, b.aval.weak_type)


def check_passes(closed, args, what=""):
    """Each pass and the pipeline: a new program, checked, with the same
    interface and the same results; the argument left as it was."""
    text, eqns = str(closed), list(closed.eqns)
    with np.errstate(all="ignore"):
        want = closed.eval(*args)
    for one in EVERY:
        new = one(closed)
        new.check()
        assert_same_interface(new, closed)
        str(new)
        with np.errstate(all="ignore"):
            got = new.eval(*args)
        assert_same_values(got, want, one in EXACT, f"{what} {one.__name__}")
        if one is passes.optimize:
            assert len(new.eqns) <= len(closed.eqns)
    assert str(closed) == text and all(a is b for a, b in zip(closed.eqns, eqns))


# -- the interface --------------------------------------------------------------------
def test_a_pass_gives_a_new_program_and_leaves_its_argument_alone():
    def f(x, y):
        a = np.sin(x) * 1.0
        _ = np.cos(y)
        return {"a": a, "b": np.sin(x) + y}

    closed = cr.make_ir(f)(np.ones(3), 2.0)
    check_passes(closed, (np.arange(3.0), 0.5))
    for one in EVERY:
        assert one(closed).out_tree == closed.out_tree
        assert set(one(closed).eval(np.ones(3), 2.0)) == {"a", "b"}


def test_an_ir_gives_an_ir_whose_const_vars_stay_unknown_inputs():
    c = np.array([1.0, 2.0])
    closed = cr.make_ir(lambda x: x * c + np.sin(x) * 0.0)(np.ones(2))
    ir = closed.ir
    for one in EVERY:
        new = one(ir)
        assert isinstance(new, cr.IR)
        new.check()
        assert new.constvars == ir.constvars       # the caller passes their values
        assert new.invars == ir.invars


def test_a_non_program_is_a_type_error_naming_what_to_pass():
    for one in EVERY:
        with pytest.raises(TypeError, match="takes a ClosedIR"):
            one(lambda x: x)


# -- dce --------------------------------------------------------------------------------
def test_dce_drops_dead_equations_and_unread_constants_but_keeps_checks():
    c = np.array([1.0, 2.0])

    def f(x, a):
        _ = np.cos(x * c)                # dead, and so is the constant c
        _ = np.linalg.cholesky(a)        # dead, but it checks a
        return np.sin(x)

    closed = cr.make_ir(f)(np.ones(2), np.eye(2))
    assert names(closed) == ["mul", "cos", "cholesky", "sin"]
    assert len(closed.consts) == 1
    out = passes.dce(closed)
    assert names(out) == ["cholesky", "sin"] and out.consts == []
    with pytest.raises(np.linalg.LinAlgError):
        out.eval(np.ones(2), -np.eye(2))            # not positive definite: still raises
    np.testing.assert_array_equal(out.eval(np.ones(2), np.eye(2)), np.sin(np.ones(2)))


def test_dce_keeps_a_dead_control_flow_equation_whose_body_may_raise():
    def f(x, a, p):
        _ = cr.cond(p > 0, np.linalg.cholesky, lambda m: m * 2.0, a)   # may raise
        _ = cr.cond(p > 0, np.sin, np.cos, x)                            # may not
        return x * 3.0

    closed = cr.make_ir(f)(np.ones(2), np.eye(2), 1.0)
    assert names(closed).count("cond") == 2
    out = passes.dce(closed)
    assert names(out) == ["gt", "convert_element_type", "cond", "mul"]
    assert names(out.eqns[2].params["branches"][1]) == ["cholesky"]
    with pytest.raises(np.linalg.LinAlgError):
        out.eval(np.ones(2), -np.eye(2), 1.0)


def test_dce_prunes_the_outputs_of_control_flow_that_nobody_reads():
    def f(x, y, xs, p):
        a, _ = cr.cond(p > 0, lambda a, b: (np.sin(a), b * 2.0), lambda a, b: (np.cos(a), b),
                       x, y)
        c, _ = cr.scan(lambda c, t: (c * t, np.exp(c)), x, xs)
        g, _ = cr.checkpoint(lambda u, v: (np.sin(u), np.cos(v)))(x, y)
        return a, c, g

    args = (rng.normal(size=2), rng.normal(size=2), rng.normal(size=(3, 2)), 1.0)
    closed = cr.make_ir(f)(*args)
    out = passes.dce(closed)
    x = out.ir.invars[0]
    cond, scan, checkpoint = (e for e in out.eqns if e.primitive.name in
                              ("cond", "scan", "checkpoint"))
    # the cond's second output goes from both branches, and with it the
    # operand y that only it read
    assert cond.inputs[1:] == [x] and len(cond.outvars) == 1
    assert [names(b) for b in cond.params["branches"]] == [["cos"], ["sin"]]
    # the scan's ys (exp of the carry) go; the carry stays
    assert len(scan.outvars) == 1 and names(scan.params["body"]) == ["mul"]
    assert checkpoint.inputs == [x] and names(checkpoint.params["body"]) == ["sin"]
    check_passes(closed, args)


# -- cse --------------------------------------------------------------------------------
def test_cse_computes_a_repeated_expression_once():
    def f(x):
        return np.sin(x) * np.cos(x) + np.sin(x) * np.cos(x)

    closed = cr.make_ir(f)(np.ones(3))
    assert names(closed) == ["sin", "cos", "mul", "sin", "cos", "mul", "add"]
    out = passes.cse(closed)
    # the second sin and cos repeat the first; then the second mul reads what
    # the first reads and repeats it too: sin, cos, mul, add
    assert names(out) == ["sin", "cos", "mul", "add"]
    add = out.eqns[3]
    assert add.inputs[0] is add.inputs[1] is out.eqns[2].outvars[0]


def test_cse_compares_literals_by_value_and_dtype_and_params_by_value():
    def f(x):
        return (x * np.float64(0.0), x * np.float64(-0.0),     # two zeros, differently signed
                x * 2.0, x * 2.0,                              # one product
                np.sum(x, axis=0), np.sum(x, axis=0), np.sum(x, axis=1))

    closed = cr.make_ir(f)(np.ones((2, 3)))
    out = passes.cse(closed)
    assert names(out) == ["mul", "mul", "mul", "reduce_sum", "reduce_sum"]
    x = np.array([[-1.0, 2.0, 3.0], [4.0, -5.0, 6.0]])
    assert_same_values(out.eval(x), closed.eval(x), True, "cse")
    assert np.signbit(out.eval(x)[1][0, 1]) == np.signbit(-0.0 * 2.0)

    # the same 0.1 as float32 and as float64 differ once converted: two
    # equations (built by hand: tracing computes constant operands at once)
    x = var()
    a, b, c = var(), var(), var()
    closed = closed_of([x], [
        eqn("convert_element_type", [lit(np.float32(0.1))], [a], new_dtype=F64),
        eqn("convert_element_type", [lit(np.float64(0.1))], [b], new_dtype=F64),
        eqn("sub", [a, b], [c])], [c])
    out = passes.cse(closed)
    assert names(out) == ["convert_element_type", "convert_element_type", "sub"]
    assert out.eval(0.0)[0] == np.float64(np.float32(0.1)) - 0.1 != 0.0


def test_cse_keeps_results_of_different_weak_types_apart():
    def f(s):   # s a Python number: s * 2.0 is weakly typed, s * float64(2) is not
        return s * 2.0, s * np.float64(2.0)

    closed = cr.make_ir(f)(1.5)
    assert [v.aval.weak_type for v in closed.ir.outvars] == [True, False]
    out = passes.cse(closed)
    assert names(out) == ["mul", "mul"]
    assert [v.aval.weak_type for v in out.ir.outvars] == [True, False]


def test_cse_merges_equations_holding_the_same_body_not_equal_ones():
    def branch_body():
        a = var((3,))
        b = var((3,))
        return closed_of([a], [eqn("sin", [a], [b])], [b])

    one = branch_body()
    idx, x = var((), np.dtype(np.int32)), var((3,))
    outs = [var((3,)) for _ in range(3)]
    s1, s2 = var((3,)), var((3,))
    other = branch_body()   # equal in structure, another object: compared by identity
    closed = closed_of([idx, x], [
        eqn("cond", [idx, x], [outs[0]], branches=(one, one)),
        eqn("cond", [idx, x], [outs[1]], branches=(one, one)),
        eqn("cond", [idx, x], [outs[2]], branches=(one, other)),
        eqn("add", [outs[0], outs[1]], [s1]), eqn("add", [s1, outs[2]], [s2])], [s2])
    closed.check()
    out = passes.cse(closed)
    assert names(out) == ["cond", "cond", "add", "add"]
    assert out.eqns[2].inputs[0] is out.eqns[2].inputs[1]
    np.testing.assert_array_equal(out.eval(np.int32(1), np.arange(3.0))[0],
                                  3 * np.sin(np.arange(3.0)))


# -- fold -------------------------------------------------------------------------------
def test_fold_computes_literal_arithmetic_into_a_literal():
    x, a, b, c = var(), var(), var(), var()
    closed = closed_of([x], [eqn("mul", [lit(np.float64(2.0)), lit(np.float64(3.0))], [a]),
                             eqn("sin", [a], [b]),
                             eqn("add", [x, b], [c])], [c])
    out = passes.fold(closed)
    # mul 2.0 3.0 is 6.0, sin 6.0 a literal too: only the add reads x
    assert names(out) == ["add"]
    folded = out.eqns[0].inputs[1]
    assert type(folded) is cr.Literal and folded.value.dtype == F64
    assert folded.value == np.sin(np.float64(6.0))


def test_fold_makes_constants_of_arrays_but_not_of_an_ir_s_unknown_consts():
    c = var((3,))
    x, s, y = var((3,)), var((3,)), var((3,))
    value = np.array([0.5, 1.0, 2.0])
    closed = closed_of([x], [eqn("sin", [c], [s]), eqn("mul", [x, s], [y])], [y],
                       constvars=[c], consts=[value])
    out = passes.fold(closed)
    assert names(out) == ["mul"]
    assert len(out.consts) == 2 and out.ir.constvars[1] is s   # the result var, as a const
    np.testing.assert_array_equal(out.consts[1], np.sin(value))
    assert names(passes.fold(closed.ir)) == ["sin", "mul"]     # an IR's consts are unknown


def test_fold_leaves_what_may_raise_or_makes_nan_or_is_large_to_the_program():
    m, x = var((2, 2)), var()
    outs = [var((2, 2)), var(), var(), var(), var((400, 400)), var((100, 100)),
            var((), np.dtype(np.int64))]
    closed = closed_of([x], [
        eqn("cholesky", [m], [outs[0]]),                                  # may raise: kept
        eqn("div", [lit(np.float64(1.0)), lit(np.float64(0.0))], [outs[1]]),   # inf: kept
        eqn("log", [lit(np.float64(-1.0))], [outs[2]]),                   # nan: kept
        eqn("exp", [lit(np.float64(1.0))], [outs[3]]),                    # folded
        eqn("broadcast_in_dim", [lit(np.float64(1.0))], [outs[4]], shape=(400, 400),
            broadcast_dimensions=()),                                     # 1.28 MB: kept
        eqn("broadcast_in_dim", [lit(np.float64(1.0))], [outs[5]], shape=(100, 100),
            broadcast_dimensions=()),                                     # 80 kB: a const
        eqn("pow", [lit(np.int64(2)), lit(np.int64(-1))], [outs[6]]),    # raises: kept
    ], outs, constvars=[m], consts=[np.eye(2)])
    out = passes.fold(closed)
    assert names(out) == ["cholesky", "div", "log", "broadcast_in_dim", "pow"]
    assert out.ir.outvars[3].value == np.exp(1.0)
    assert out.ir.outvars[5] is outs[5] and out.ir.outvars[5] in out.ir.constvars
    with pytest.raises(ValueError, match="negative integer powers"):
        out.eval(0.0)


def test_fold_keeps_a_weakly_typed_result_weak():
    x, w, y = var(), var((), F64, weak=True), var()
    closed = closed_of([x], [eqn("mul", [lit(np.float64(2.0)), lit(np.float64(3.0))], [w]),
                             eqn("add", [x, w], [y])], [y, w])
    out = passes.fold(closed)
    assert names(out) == ["add"]
    assert out.ir.outvars[1] is w and w in out.ir.constvars        # a const, not a literal
    assert out.ir.outvars[1].aval.weak_type
    assert out.eval(1.0) == [7.0, 6.0]
    assert names(passes.fold(closed.ir)) == ["mul", "add"]          # no consts in an IR


# -- simplify ---------------------------------------------------------------------------
def test_exact_identities_become_their_operand():
    def f(x, i):
        s = np.sin(x)
        return s * 1.0, 1.0 * s, s / 1.0, s - 0.0, s + np.float64(-0.0), i + 0, i * 1

    closed = cr.make_ir(f)(np.ones(3), np.arange(3))
    out = passes.simplify(closed)
    assert names(out) == ["sin"]
    assert all(v is out.eqns[0].outvars[0] for v in out.ir.outvars[:5])
    # (an output that is an input: evaluation copies it at the boundary)
    assert all(v is out.ir.invars[1] for v in out.ir.outvars[5:])
    x = np.array([-0.0, np.inf, np.nan])
    assert_same_values(out.eval(x, np.arange(3)), closed.eval(x, np.arange(3)), True, "simplify")


def test_identities_that_are_not_exact_are_kept():
    def f(x):
        # x + 0.0 is 0.0 at x = -0.0; x * 0.0 is nan at inf and nan; x - (-0.0) is x + 0.0
        return x + 0.0, x * 0.0, 0.0 * x, x - np.float64(-0.0), 1.0 / x, 0.0 + x

    closed = cr.make_ir(f)(np.ones(3))
    out = passes.simplify(closed)
    assert names(out) == names(closed) == ["add", "mul", "mul", "sub", "div", "add"]
    x = np.array([-0.0, np.inf, np.nan])
    got = out.eval(x)
    assert not np.signbit(got[0][0]) and np.isnan(got[1][1]) and np.isnan(got[2][2])
    assert_same_values(got, closed.eval(x), True, "simplify")


def test_adding_zero_to_what_is_never_minus_zero_is_dropped():
    def f(x):
        e = np.exp(x)             # never -0.0 (exp underflows to +0.0)
        a = np.abs(x) + 0.0       # nor |x|
        return e + 0.0, 0.0 + a, (e + x) + 0.0, np.sin(x) + 0.0

    closed = cr.make_ir(f)(np.ones(3))
    out = passes.simplify(closed)
    # e + 0.0, 0.0 + a, |x| + 0.0 and (e + x) + 0.0 go (e + x is -0.0 only if
    # both are); sin(-0.0) + 0.0 stays
    assert names(out) == ["exp", "abs", "add", "sin", "add"]
    x = np.array([-0.0, -1000.0, np.inf])
    assert_same_values(out.eval(x), closed.eval(x), True, "simplify")


def test_neg_neg_transposes_reshapes_conversions_and_selects():
    def f(x, p):
        a = -(-np.sin(x))                                         # sin
        b = np.transpose(np.transpose(x, (1, 2, 0)), (2, 0, 1))   # x
        # (1, 0, 2) then (0, 2, 1): axis j of the result is axis p1[p2[j]] of
        # x: (p1[0], p1[2], p1[1]) = (1, 2, 0), one transpose
        c = np.transpose(np.transpose(x, (1, 0, 2)), (0, 2, 1))
        d = np.reshape(np.reshape(x, (6, 4)), (4, 6))             # one reshape
        e = np.reshape(np.reshape(x, (24,)), (2, 3, 4))           # x
        g = bind("convert_element_type", x, new_dtype=F64)        # x
        h = np.where(p, a, a)                                     # a
        return a, b, c, d, e, g, h

    closed = cr.make_ir(f)(np.ones((2, 3, 4)), np.ones((2, 3, 4), bool))
    out = passes.optimize(closed)
    assert names(out) == ["sin", "transpose", "reshape"]
    assert out.eqns[1].params["permutation"] == (1, 2, 0)
    assert out.eqns[2].inputs[0] is out.ir.invars[0] and out.eqns[2].params["shape"] == (4, 6)
    x = rng.normal(size=(2, 3, 4))
    assert_same_values(out.eval(x, x > 0), closed.eval(x, x > 0), True, "optimize")


def test_broadcast_then_reduce_sum_over_the_new_axes_is_a_product():
    def f(x, y):
        a = np.sum(np.broadcast_to(x, (4, 3)), axis=0)            # 4 x
        b = np.sum(np.broadcast_to(x, (1, 3)), axis=0)            # x
        c = np.sum(np.broadcast_to(y, (4, 3)), axis=0)            # y (1, 3) stretched: kept
        return a, b, c

    closed = cr.make_ir(f)(np.ones(3), np.ones((1, 3)))
    out = passes.optimize(closed)
    assert names(out) == ["mul", "broadcast_in_dim", "reduce_sum"]
    assert out.eqns[0].inputs[1].value == 4.0 and out.ir.outvars[1] is out.ir.invars[0]
    x, y = rng.normal(size=3), rng.normal(size=(1, 3))
    assert_same_values(out.eval(x, y), closed.eval(x, y), False, "optimize")


def test_an_operand_of_one_value_becomes_a_literal():
    half, mixed = np.full(3, 0.5), np.array([0.0, -0.0, 0.0])

    def f(x):
        return x * half, x + mixed, x + np.zeros(3), np.exp(x) + np.zeros(3), x * np.ones(3)

    closed = cr.make_ir(f)(np.ones(3))
    assert len(closed.consts) == 5
    out = passes.optimize(closed)
    # x * half -> mul x 0.5; mixed zeros differ in sign: kept as a const;
    # x + zeros -> add x 0.0 (x may be -0.0); exp(x) + zeros -> exp(x); x * ones -> x
    assert names(out) == ["mul", "add", "add", "exp"]
    assert out.eqns[0].inputs[1].value == 0.5
    assert len(out.consts) == 1 and out.consts[0] is not None
    assert out.ir.outvars[4] is out.ir.invars[0]
    x = np.array([-0.0, 2.0, -3.0])
    assert_same_values(out.eval(x), closed.eval(x), True, "optimize")


def test_stop_gradient_stays():
    closed = cr.make_ir(lambda x: cr.stop_gradient(x) * x)(np.ones(2))
    assert names(passes.optimize(closed)) == ["stop_gradient", "mul"]


# -- forward ----------------------------------------------------------------------------
def test_forward_reads_operands_that_bodies_pass_through():
    w = np.array([0.5, -1.0])

    def f(x, y, xs, p):
        a, b = cr.cond(p > 0, lambda a, b: (a, b * 2.0), lambda a, b: (a, np.sin(b)), x, y)
        (c, d), ys = cr.scan(lambda c, t: ((c[0], c[1] + t), c[0] * t), (x, y), xs)
        e, n = cr.while_loop(lambda c: c[1] < 3, lambda c: (c[0], c[1] + 1), (y, 0))
        g, h = cr.checkpoint(lambda u, v: (u, np.cos(v)))(x, y)
        (k, _), _ = cr.scan(lambda c, t: ((y * w, c[1]), t), (x, y), xs)
        return a, b, c, d, ys, e, n, g, h, k

    args = (np.ones(2), np.full(2, 2.0), np.ones((3, 2)), 1.0)
    closed = cr.make_ir(f)(*args)
    out = passes.forward(closed)
    x, y = out.ir.invars[0], out.ir.invars[1]
    o = out.ir.outvars
    # a: both branches return a; c: the scan returns its first carry as it
    # got it; e: so does the while; g: the checkpoint's input; k: a carry the
    # body sets to a const (y * w, hoisted as an operand) after its first step
    assert o[0] is x and o[2] is x and o[5] is y and o[7] is x
    assert out.eqns[names(out).index("mul")].outvars[0] is o[9]   # y * w, computed outside
    assert all(type(v) is cr.Var and v not in out.ir.invars for v in (o[1], o[3], o[6], o[8]))
    check_passes(closed, (rng.normal(size=2), rng.normal(size=2), rng.normal(size=(3, 2)), -1.0))
    # no step: the carry set to a const stays the initial one
    empty = cr.make_ir(f)(args[0], args[1], np.ones((0, 2)), 1.0)
    out = passes.forward(empty)
    assert out.ir.outvars[9] is not out.ir.invars[1] and out.ir.outvars[9] in out.eqns[-1].outvars
    check_passes(empty, (rng.normal(size=2), rng.normal(size=2), np.ones((0, 2)), 1.0))


def test_forward_does_not_pass_through_a_custom_rule():
    closed = cr.make_ir(lambda x: CU.clip_gradient(-1.0, 1.0, x))(np.ones(3))
    out = passes.optimize(closed)
    assert names(out) == ["custom_vjp_call"]        # its output carries bwd: not x
    assert out.ir.outvars[0] is out.eqns[0].outvars[0]


def test_the_pipeline_drops_a_cond_whose_outputs_all_pass_through():
    closed = cr.make_ir(lambda x, p: cr.cond(p > 0, lambda a: a, lambda a: a, x) * 2.0)(
        np.ones(2), 1.0)
    out = passes.optimize(closed)
    assert names(out) == ["mul"]


# -- bodies -----------------------------------------------------------------------------
def test_bodies_are_optimized_at_every_depth_keeping_their_interface():
    def step(c, t):
        def inner(a):
            _ = np.cos(a)                      # dead, two bodies down
            return np.sin(a) * np.sin(a) * 1.0
        return cr.cond(t > 0, inner, lambda a: a, c), c

    closed = cr.make_ir(lambda c, xs: cr.scan(step, c, xs))(np.ones(2), np.ones(3))
    out = passes.optimize(closed)
    scan = out.eqns[0]
    body = scan.params["body"]
    old = closed.eqns[0].params["body"]
    assert len(body.ir.invars) == len(old.ir.invars) and len(body.ir.outvars) == 2
    cond = next(e for e in body.eqns if e.primitive.name == "cond")
    assert names(cond.params["branches"][1]) == ["sin", "mul"]
    assert names(old.eqns[-1].params["branches"][1]) == ["cos", "sin", "sin", "mul", "mul"]
    check_passes(closed, (rng.normal(size=2), rng.normal(size=3)))


def test_a_body_shared_by_equations_is_rewritten_once():
    a, b, d = var((3,)), var((3,)), var((3,))
    shared = closed_of([a], [eqn("sin", [a], [b]), eqn("cos", [a], [d])], [b])
    idx, x, o1, o2, s = var((), np.dtype(np.int32)), var((3,)), var((3,)), var((3,)), var((3,))
    closed = closed_of([idx, x], [eqn("cond", [idx, x], [o1], branches=(shared, shared)),
                                  eqn("checkpoint", [o1], [o2], body=shared, policy=None),
                                  eqn("add", [o1, o2], [s])], [s])
    out = passes.dce(closed)
    new = out.eqns[0].params["branches"][0]
    assert names(new) == ["sin"] and names(shared) == ["sin", "cos"]
    assert out.eqns[0].params["branches"][1] is new and out.eqns[1].params["body"] is new
    x = np.arange(3.0)
    np.testing.assert_array_equal(out.eval(np.int32(0), x)[0], np.sin(x) + np.sin(np.sin(x)))


def test_bodies_nested_deeper_than_the_stack_need_no_recursion(shallow_stack):
    depth = 400
    a, b, c = var(), var(), var()
    body = closed_of([a], [eqn("cos", [a], [c]), eqn("sin", [a], [b])], [b])   # cos: dead
    for _ in range(depth):
        a, b = var(), var()
        body = closed_of([a], [eqn("cond", [lit(np.int32(0)), a], [b], branches=(body,))], [b])
    shallow_stack()
    out = passes.optimize(body)
    innermost = out
    for _ in range(depth):
        innermost = innermost.eqns[0].params["branches"][0]
    assert names(innermost) == ["sin"]


# -- the MLP's gradient -----------------------------------------------------------------
def test_the_gradient_program_of_an_mlp_before_and_after():
    def loss(W1, b1, W2, b2, x, y):
        h = np.tanh(x @ W1 + b1)
        return np.mean((h @ W2 + b2 - y) ** 2)

    args = (rng.normal(size=(3, 5)), rng.normal(size=5), rng.normal(size=(5, 2)),
            rng.normal(size=2), rng.normal(size=(4, 3)), rng.normal(size=(4, 2)))
    closed = cr.make_ir(cr.grad(loss, argnums=(0, 1, 2, 3)))(*args)
    # Before, 25 equations.  Forward pass (14): dot_general x W1, broadcast b1,
    # add, tanh; integer_pow h^2 and sub 1 - h^2 (the residual of tanh's
    # derivative); dot_general h W2, broadcast b2, add, sub y; integer_pow
    # r^2 and mul 2 r (the residual of the square's derivative); reduce_sum
    # and div by 8 (the mean).  Backward pass (11): mul by the const c =
    # 1/8 everywhere (the mean's cotangent, broadcast while tracing);
    # reduce_sum (b2's), transpose, dot_general, transpose (W2's);
    # dot_general by W2, mul by 1 - h^2; reduce_sum (b1's); transpose,
    # dot_general, transpose (W1's).
    assert len(closed.eqns) == 25 and len(closed.consts) == 1
    assert names(closed).count("integer_pow") == 2
    out = passes.optimize(closed)
    # After, 22: the loss itself is not an output, so r^2, its reduce_sum and
    # the div by 8 are dead (dce: -3).  The const of one value 0.125 becomes
    # the literal 0.125:f64[] of its mul (simplify), and the const goes (dce).
    # Nothing repeats (the square's derivative reads r, not r^2) and nothing
    # is known to fold.
    assert len(out.eqns) == 22 and out.consts == []
    assert names(out).count("integer_pow") == 1 and "div" not in names(out)
    assert "mul 0.125:f64[]" in str(out)
    assert_same_values(out.eval(*args), closed.eval(*args), False, "optimize")


def test_a_second_order_program_computes_each_sin_and_cos_once():
    def f(x):
        return np.sum(np.sin(x) ** 2 * np.cos(x))

    closed = cr.make_ir(lambda x, v: cr.jvp(cr.grad(f), (x,), (v,)))(np.ones(3), np.ones(3))
    assert names(closed).count("sin") == 4 and names(closed).count("cos") == 4
    out = passes.optimize(closed)
    # sin x and cos x are each traced four times (f, its JVP, the JVP's JVP,
    # its transpose read them): once each after cse
    assert names(out).count("sin") == 1 and names(out).count("cos") == 1
    x, v = rng.normal(size=3), rng.normal(size=3)
    assert_same_values(out.eval(x, v), closed.eval(x, v), False, "optimize")


# -- 10^5 equations ---------------------------------------------------------------------
def test_a_hundred_thousand_equations_in_a_few_seconds(default_recursion_limit):
    n = 25_000

    def chain(x):
        for _ in range(n):   # 4 equations a step: sin, sin again, mul, * 1.0
            x = np.sin(x) * np.sin(x) * 1.0
        return x

    closed = cr.make_ir(chain)(0.5)
    assert len(closed.eqns) == 4 * n
    start = time.perf_counter()
    out = passes.optimize(closed)
    seconds = time.perf_counter() - start
    assert names(out) == ["sin", "mul"] * n
    assert seconds < 10, f"optimize took {seconds:.1f} s"
    assert out.eval(0.5) == closed.eval(0.5)


# -- meaning kept: the random programs ------------------------------------------------------
def _programs_of(case):
    """The programs a random case makes: its own, its JVP program, its
    gradient program (as check_all builds them) and its vmap, each with its
    arguments."""
    f, args = case.program.f, tuple(case.args)
    closed = cr.make_ir(f)(*args)
    out = [(closed, args, "program")]
    floats = [i for i, a in enumerate(args) if np.asarray(a).dtype.kind == "f"]
    eager = f(*args)
    float_outs = [k for k, e in enumerate(eager) if np.asarray(e).dtype.kind == "f"]
    if not case.program.reverse_only and floats:
        tangents = [np.ones(np.shape(args[i]), np.asarray(args[i]).dtype) for i in floats]
        out.append((jvp_ir(closed), args + tuple(tangents), "jvp"))
    if not case.program.forward_only and floats and float_outs:
        def loss(*a):
            outs = f(*a)
            return sum(cr.numpy.sum(outs[k]) for k in float_outs)
        out.append((cr.make_ir(cr.grad(loss, argnums=tuple(floats)))(*args), args, "grad"))
    batched = case.batched()
    out.append((cr.make_ir(cr.vmap(f, in_axes=tuple(case.in_axes)))(*batched), tuple(batched),
                "vmap"))
    return out


@settings(max_examples=300)
@given(R.cases())
def test_passes_keep_the_meaning_of_random_programs(case):
    note(case.program.source())
    assume(case.find_args() is not None)
    for closed, args, what in _programs_of(case):
        check_passes(closed, args, what)


# -- meaning kept: the primitive table ---------------------------------------------------------
@pytest.mark.parametrize("name, operands, params", TP.PARAMS)
def test_passes_keep_the_meaning_of_every_primitive_case(name, operands, params):
    prim = P[name]
    traced = [o for o in operands if not isinstance(o, TP.Const)]

    def f(*xs):
        it = iter(xs)
        return prim.bind(*[o.value if isinstance(o, TP.Const) else next(it) for o in operands],
                         **params)

    closed = cr.make_ir(f)(*traced)
    if name in TP.RAISES_ON_EVAL:    # no forward evaluation: the optimized program raises too
        error, message = TP.RAISES_ON_EVAL[name]
        for one in EVERY:
            with pytest.raises(error, match=message):
                one(closed).eval(*traced)
        return
    check_passes(closed, tuple(traced), name)


@pytest.mark.parametrize("name, case", AD.PARAMS)
def test_passes_keep_the_meaning_of_gradient_and_jvp_programs(name, case):
    args = tuple(case.args)
    if not case.forward_only:
        grad = cr.make_ir(cr.grad(AD._loss(case.f), argnums=tuple(range(len(args)))))(*args)
        check_passes(grad, args, f"{name} grad")
    if not case.reverse_only:
        tangents = tuple(np.ones(np.shape(a)) for a in args)
        jvp = cr.make_ir(lambda *a: cr.jvp(case.f, a[:len(args)], a[len(args):]))(
            *args, *tangents)
        check_passes(jvp, args + tangents, f"{name} jvp")


# -- meaning kept: control flow, custom rules, checkpoints ---------------------------------------
def _control_flow_programs():
    x, xs, h0 = rng.normal(size=4), rng.normal(size=(6, 3)), rng.normal(size=4)
    ws = CK.weights(6, 5)
    hx = rng.normal(size=(2, 5))
    a, b = rng.normal(size=3), rng.normal(size=3)

    def rnn_loss(h0, xs, w):
        h, ys = CF.rnn(h0, xs, w)
        return np.sum(h) + np.sum(ys)

    def custom(x, y):
        return np.sum(CU.sigmoid(x) * CU.f(x, y) + CU.log1pexp(y)
                      + CU.clip_gradient(-0.5, 0.5, x * y))

    yield "switch", CF.piecewise, (x, np.int64(1))
    yield "switch grad", cr.grad(lambda x, k: np.sum(CF.piecewise(x, k))), (x, np.int64(2))
    yield "scan", CF.rnn, (h0, xs, CF.W)
    yield "scan grad", cr.grad(rnn_loss, argnums=(0, 1, 2)), (h0, xs, CF.W)
    yield "while", CF.newton_sqrt, (2.0,)
    yield "while jvp", lambda a, t: cr.jvp(CF.newton_sqrt, (a,), (t,)), (2.0, 1.0)
    yield "custom", custom, (a, b)
    yield "custom grad", cr.grad(custom, argnums=(0, 1)), (a, b)
    yield "custom jvp", lambda x, t: cr.jvp(CU.sigmoid, (x,), (t,)), (a, b)
    for every, policy, nested in [(2, None, False), (3, CK.P.dots_saveable, False),
                                  (3, None, True)]:
        def net(ws, x, every=every, policy=policy, nested=nested):
            return CK.network(ws, x, every, policy, nested)
        yield f"checkpoint {every}", net, (ws, hx)
        yield f"checkpoint {every} grad", cr.grad(net), (ws, hx)
        yield f"checkpoint {every} grad of grad", cr.grad(lambda ws, x: np.sum(
            cr.grad(net, argnums=1)(ws, x) ** 2)), (ws, hx)


@pytest.mark.parametrize("what, f, args", list(_control_flow_programs()),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_passes_keep_the_meaning_of_control_flow_and_custom_rules(what, f, args):
    check_passes(cr.make_ir(f)(*args), args, what)
