"""The JVP and transpose rule of every primitive, checked numerically.

``CASES`` maps each primitive's name to a list of cases: a function written
with ``chainrule.numpy`` (or a direct ``bind`` where NumPy has no name for
the primitive) that uses the primitive, and float arguments to take its
derivatives at.  For each case:

* differentiable primitives: ``cr.check_grads(f, args, order=2,
  modes=("fwd", "rev"))`` -- forward mode against central differences,
  reverse mode by the dot-product test, and the same for the derivative
  functions themselves;
* primitives whose output is an integer, a boolean or piecewise constant
  (comparisons, argmax, logical ops, floor, sign, ...): the JVP, the VJP
  and the gradient are exactly zero;
* the programs made by the transformations pass ``IR.check()``: the
  linear program of ``linearize``, its transpose, the JVP program of the
  traced function, and the gradient program of ``sum(f)``.

Inputs avoid non-differentiable points (``abs`` away from 0, ``max``
without ties, ``sqrt``/``log`` of positive values, ``rem`` away from the
jumps).  A primitive added to ``chainrule.primitives`` without a row here
fails ``test_every_primitive_has_a_row``.
"""
from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import primitives as P
from chainrule.interpreters import jvp_ir, transpose_ir
from chainrule.primitives import all_primitives

rng = np.random.default_rng(1234)


class Case:
    """``f(*args)`` uses the primitive; ``zero``: its derivative is zero;
    ``tol``: extra keyword arguments for ``check_grads`` (float32 cases);
    ``forward_only``: the primitive has no reverse mode (``while``), which
    the test then checks raises; ``reverse_only``: no forward mode (a
    ``custom_vjp`` function), checked the other way round."""

    def __init__(self, f, *args, zero=False, tol=None, label="", forward_only=False,
                 reverse_only=False):
        self.f, self.args, self.zero, self.tol = f, args, zero, tol or {}
        self.forward_only, self.reverse_only = forward_only, reverse_only
        shapes = "_".join("x".join(map(str, np.shape(a))) or "0d" for a in args)
        self.label = f"{label}-{shapes}" if label else shapes


# -- samplers ----------------------------------------------------------------
def uniform(lo, hi):
    """Values in [lo, hi)."""
    def sample(shape):
        return np.asarray(rng.uniform(lo, hi, shape), np.float64)
    return sample


def away(lo, hi):
    """Values with lo <= |x| < hi and a random sign: away from 0."""
    def sample(shape):
        sign = np.where(rng.integers(0, 2, shape) == 1, 1.0, -1.0)
        return np.asarray(sign * rng.uniform(lo, hi, shape), np.float64)
    return sample


ANY = uniform(-2.0, 2.0)
POSITIVE = uniform(0.5, 3.0)
NONZERO = away(0.5, 2.0)
UNIT = uniform(-0.8, 0.8)         # inside (-1, 1): asin, acos, atanh


def unary_rows(fn, sample=ANY, zero=False):
    """0-d, 1-d, 2-d, and applied to the result of a broadcast."""
    return [Case(fn, sample(()), zero=zero),
            Case(fn, sample((4,)), zero=zero),
            Case(fn, sample((2, 3)), zero=zero),
            Case(lambda x: fn(cnp.broadcast_to(x, (2, 3))), sample((3,)), zero=zero,
                 label="broadcast_to")]


def binary_rows(fn, sx=ANY, sy=ANY, zero=False, distinct=False):
    """Equal shapes (0-d, 1-d), NumPy broadcasting of one and of both
    operands, a 0-d traced operand against an array, and a constant
    scalar operand on either side (an inline literal)."""
    shapes = [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((3, 1), (1, 4)), ((), (2, 3)),
              ((2, 3), ())]
    rows = []
    for xs, ys in shapes:
        x, y = sx(xs), sy(ys)
        if distinct:  # no ties closer than the finite-difference step
            while np.min(np.abs(np.subtract(x, y))) < 0.05:
                x, y = sx(xs), sy(ys)
        rows.append(Case(fn, x, y, zero=zero))
    cx, cy = float(sx(())), float(sy(()))
    x, y = sx((3,)), sy((3,))
    if distinct:
        x = np.where(np.abs(x - cy) < 0.05, x + 0.1, x)
        y = np.where(np.abs(y - cx) < 0.05, y + 0.1, y)
    rows.append(Case(lambda x: fn(x, cy), x, zero=zero, label="literal_rhs"))
    rows.append(Case(lambda y: fn(cx, y), y, zero=zero, label="literal_lhs"))
    return rows


def rem_rows():
    # x mod y jumps where x / y is an integer: keep the fractional part of
    # x / y in [0.2, 0.8); both signs of x and y
    def args(xshape, yshape):
        y = away(1.0, 2.0)(yshape)
        k = rng.integers(-3, 3, xshape)
        y_full = np.broadcast_to(y, np.broadcast_shapes(xshape, yshape))
        x = y_full * (k + rng.uniform(0.2, 0.8, xshape))
        return np.asarray(x, np.float64), y
    rows = [Case(cnp.remainder, *args(xs, ys)) for xs, ys in
            [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 3), ())]]
    x, y = args((4,), ())
    rows.append(Case(lambda x: x % float(y), x, label="literal"))
    return rows


def comparison_rows(fn):
    return binary_rows(fn, zero=True)


def logical_rows(fn):
    # boolean operands made from float inputs by comparisons
    return [Case(lambda x, y: fn(x > 0, y < 0.5), ANY(()), ANY(()), zero=True),
            Case(lambda x, y: fn(x > 0, y < 0.5), ANY((3,)), ANY((3,)), zero=True),
            Case(lambda x, y: fn(x > 0, y < 0.5), ANY((2, 3)), ANY((3,)), zero=True,
                 label="broadcast")]


def reduction_rows(fn, sample=ANY):
    return [Case(lambda x: fn(x), sample(()), label="all"),
            Case(lambda x: fn(x), sample((4,)), label="all"),
            Case(lambda x: fn(x, axis=0), sample((2, 3)), label="axis0"),
            Case(lambda x: fn(x, axis=(0, 2)), sample((2, 3, 4)), label="axes02"),
            Case(lambda x: fn(x, axis=1, keepdims=True), sample((2, 3)), label="keepdims")]


def distinct(shape, gap=0.1):
    """Values in random order with no two closer than ``gap`` (no ties)."""
    n = int(np.prod(shape))
    return np.asarray(rng.permutation(n) * gap * 2 - n * gap + rng.uniform(0, gap / 2, n),
                      np.float64).reshape(shape)


def bind(prim, **params):
    return lambda *xs: prim.bind(*xs, **params)


def scatter(indices, axis=0, add=False):
    prim = P.scatter_add_p if add else P.scatter_p
    return lambda x, v: prim.bind(x, indices, v, axis=axis)


def _with_zeros(shape, positions):
    x = NONZERO(shape)
    x.flat[list(positions)] = 0.0
    return x


def _raveled(tree):
    """The leaves of a pytree as one vector."""
    return cnp.concatenate([cnp.ravel(x) for x in cr.tree_leaves(tree)])


# -- custom derivative rules: rules that are the true derivatives ---------------------
@cr.custom_jvp
def _softplus(x):
    return cnp.log1p(cnp.exp(x))


@_softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return _softplus(x), t / (1.0 + cnp.exp(-x))


@cr.custom_jvp
def _mul_sin(x, y):   # a pytree output, an argument broadcast
    return {"p": x * cnp.sin(y), "q": cnp.sum(y)}


@_mul_sin.defjvp
def _mul_sin_jvp(primals, tangents):
    (x, y), (tx, ty) = primals, tangents
    return _mul_sin(x, y), {"p": tx * cnp.sin(y) + x * cnp.cos(y) * ty, "q": cnp.sum(ty)}


@cr.custom_vjp
def _sin_times(x, y):
    return cnp.sin(x) * y


def _sin_times_fwd(x, y):
    return _sin_times(x, y), (cnp.cos(x), cnp.sin(x), y)


def _sin_times_bwd(res, g):
    cos_x, sin_x, y = res
    return cos_x * g * y, cnp.sum(sin_x * g, axis=0) if cnp.ndim(y) < cnp.ndim(g) else sin_x * g


_sin_times.defvjp(_sin_times_fwd, _sin_times_bwd)


@cr.custom_vjp
def _tanh_layer(w, x):
    return cnp.tanh(w @ x)


def _tanh_layer_fwd(w, x):
    y = _tanh_layer(w, x)
    return y, (w, x, y)


def _tanh_layer_bwd(res, g):
    w, x, y = res
    d = g * (1.0 - y ** 2)
    return cnp.outer(d, x), w.T @ d


_tanh_layer.defvjp(_tanh_layer_fwd, _tanh_layer_bwd)


# (their own generator: the rows after them keep the values they had)
_custom_rng = np.random.default_rng(4321)


def _any(shape):
    return np.asarray(_custom_rng.uniform(-2.0, 2.0, shape), np.float64)


def _custom_vjp_rows():
    return [Case(_sin_times, _any((3,)), _any((3,)), reverse_only=True, label="elementwise"),
            Case(_sin_times, _any((2, 3)), _any((3,)), reverse_only=True, label="broadcast"),
            Case(_sin_times, _any(()), _any(()), reverse_only=True, label="0d"),
            Case(lambda w, x: _tanh_layer(w, cnp.sin(x)) * 2.0, _any((2, 3)), _any((3,)),
                 reverse_only=True, label="matrix")]


CASES: dict[str, list[Case]] = {
    # -- unary math ----------------------------------------------------------
    "neg": unary_rows(cnp.negative),
    "sin": unary_rows(cnp.sin),
    "cos": unary_rows(cnp.cos),
    "tan": unary_rows(cnp.tan, uniform(-1.2, 1.2)),
    "asin": unary_rows(cnp.arcsin, UNIT),
    "acos": unary_rows(cnp.arccos, UNIT),
    "atan": unary_rows(cnp.arctan),
    "sinh": unary_rows(cnp.sinh),
    "cosh": unary_rows(cnp.cosh),
    "tanh": unary_rows(cnp.tanh),
    "asinh": unary_rows(cnp.arcsinh),
    "acosh": unary_rows(cnp.arccosh, uniform(1.2, 3.0)),
    "atanh": unary_rows(cnp.arctanh, UNIT),
    "exp": unary_rows(cnp.exp),
    "exp2": unary_rows(cnp.exp2),
    "log": unary_rows(cnp.log, POSITIVE) + [
        Case(cnp.log2, POSITIVE((3,)), label="log2"),
        Case(cnp.log10, POSITIVE(()), label="log10")],
    "log1p": unary_rows(cnp.log1p, uniform(-0.5, 2.0)),
    "expm1": unary_rows(cnp.expm1),
    "sqrt": unary_rows(cnp.sqrt, POSITIVE),
    "cbrt": unary_rows(cnp.cbrt, away(0.5, 3.0)),     # both signs, away from 0
    "logistic": unary_rows(P.logistic_p.bind, uniform(-4.0, 4.0)),
    "abs": unary_rows(cnp.abs, NONZERO),
    # piecewise constant: zero derivative (away from the jumps or not)
    "sign": unary_rows(cnp.sign, zero=True),
    "floor": unary_rows(cnp.floor, zero=True),
    "ceil": unary_rows(cnp.ceil, zero=True),
    "round": unary_rows(cnp.rint, zero=True),
    "trunc": unary_rows(cnp.trunc, zero=True),
    # -- binary arithmetic -----------------------------------------------------
    "add": binary_rows(cnp.add),
    "sub": binary_rows(cnp.subtract),
    "mul": binary_rows(cnp.multiply) + [
        Case(lambda x: x * x, ANY((3,)), label="same_operand")],
    "div": binary_rows(cnp.divide, ANY, NONZERO),
    "rem": rem_rows(),
    "floor_div": binary_rows(cnp.floor_divide, ANY, NONZERO, zero=True),
    "pow": binary_rows(cnp.power, POSITIVE, uniform(-1.5, 1.5)) + [
        Case(lambda x: x ** 2.5, POSITIVE((3,)), label="x**2.5")],
    "max": binary_rows(cnp.maximum, distinct=True) + [
        Case(lambda x: cnp.maximum(x, 0.0), NONZERO((5,)), label="relu")],
    "min": binary_rows(cnp.minimum, distinct=True),
    "atan2": binary_rows(cnp.arctan2, ANY, POSITIVE) + [
        Case(cnp.arctan2, away(0.5, 2.0)((4,)), away(0.5, 2.0)((4,)), label="quadrants")],
    # -- comparisons and logic: boolean outputs ----------------------------------
    "eq": comparison_rows(cnp.equal),
    "ne": comparison_rows(cnp.not_equal),
    "lt": comparison_rows(cnp.less),
    "le": comparison_rows(cnp.less_equal),
    "gt": comparison_rows(cnp.greater),
    "ge": comparison_rows(cnp.greater_equal),
    "not": [Case(lambda x: cnp.logical_not(x > 0), ANY(()), zero=True),
            Case(lambda x: cnp.logical_not(x > 0), ANY((2, 3)), zero=True),
            Case(lambda x: ~(x > 0), ANY((3,)), zero=True, label="invert"),
            Case(lambda x: cnp.logical_not(cnp.broadcast_to(x, (2, 3)) > 0), ANY((3,)),
                 zero=True, label="broadcast_to")],
    "and": logical_rows(cnp.logical_and),
    "or": logical_rows(cnp.logical_or),
    "xor": logical_rows(cnp.logical_xor),
    # -- integer_pow, select, convert_element_type -------------------------------
    "integer_pow": [
        Case(lambda x: x ** 2, ANY(()), label="2"),
        Case(lambda x: x ** 3, ANY((4,)), label="3"),
        Case(lambda x: x ** -2, NONZERO((2, 3)), label="-2"),
        Case(lambda x: cnp.power(x, 1), ANY((3,)), label="1"),
        Case(lambda x: cnp.power(x, 0) * x, ANY((3,)), label="0"),
        Case(lambda x: cnp.square(cnp.broadcast_to(x, (2, 3))), ANY((3,)), label="square")],
    "select": [
        Case(lambda c, x, y: cnp.where(c > 0, x, y), NONZERO(()), ANY(()), ANY(())),
        Case(lambda c, x, y: cnp.where(c > 0, x, y), NONZERO((4,)), ANY((4,)), ANY((4,))),
        Case(lambda c, x, y: cnp.where(c > 0, x, y), NONZERO((3, 1)), ANY((4,)), ANY(()),
             label="broadcast"),
        Case(lambda x: cnp.where(x > 0, x, 0.0), NONZERO((5,)), label="literal_false"),
        Case(lambda x: cnp.where(x > 0, 2.0, x * x), NONZERO((5,)), label="literal_true"),
        Case(lambda x: cnp.where(x > 0, cnp.sin(x), cnp.cos(x)), NONZERO((2, 3)),
             label="both_traced")],
    "convert_element_type": [
        Case(lambda x: x.astype(np.float32), ANY((3,)), label="f32",
             tol=dict(eps=1e-2, atol=1e-4, rtol=1e-4)),
        Case(lambda x: x.astype(np.float32).astype(np.float64) * x, ANY(()), label="roundtrip",
             tol=dict(eps=1e-2, atol=1e-4, rtol=1e-4)),
        Case(lambda x: (x > 0).astype(np.float64) * x, NONZERO((4,)), label="bool_to_float"),
        Case(lambda x: x.astype(np.int64), ANY((3,)) * 5, zero=True, label="to_int"),
        Case(lambda x, y: (x + y).astype(np.float32), ANY((2, 1)), ANY((3,)), label="broadcast",
             tol=dict(eps=1e-2, atol=1e-4, rtol=1e-4))],
    # -- reductions ------------------------------------------------------------
    "reduce_sum": reduction_rows(cnp.sum) + [
        Case(cnp.mean, ANY((2, 3)), label="mean"),
        Case(lambda x, y: cnp.sum(x + y, axis=0), ANY((3, 1)), ANY((4,)), label="broadcast")],
    "reduce_prod": reduction_rows(cnp.prod, NONZERO) + [
        Case(cnp.prod, _with_zeros((4,), [2]), label="one_zero"),
        Case(cnp.prod, _with_zeros((5,), [0, 3]), label="two_zeros"),
        Case(lambda x: cnp.prod(x, axis=1), _with_zeros((2, 3), [1]), label="zero_in_a_row")],
    "reduce_max": [Case(lambda x: cnp.max(x), distinct(()), label="all"),
                   Case(lambda x: cnp.max(x), distinct((5,)), label="all"),
                   Case(lambda x: cnp.max(x, axis=0), distinct((3, 4)), label="axis0"),
                   Case(lambda x: cnp.max(x, axis=(0, 2), keepdims=True), distinct((2, 3, 2)),
                        label="axes02")],
    "reduce_min": [Case(lambda x: cnp.min(x), distinct(()), label="all"),
                   Case(lambda x: cnp.min(x), distinct((5,)), label="all"),
                   Case(lambda x: cnp.min(x, axis=1), distinct((3, 4)), label="axis1"),
                   Case(lambda x: x.min(axis=(1, 2)), distinct((2, 3, 2)), label="axes12")],
    "argmax": [Case(cnp.argmax, distinct((5,)), zero=True),
               Case(lambda x: cnp.argmax(x, axis=0), distinct((3, 4)), zero=True, label="axis0"),
               Case(lambda x: cnp.argmax(x, axis=1, keepdims=True), distinct((3, 4)), zero=True,
                    label="keepdims")],
    "argmin": [Case(cnp.argmin, distinct((5,)), zero=True),
               Case(lambda x: cnp.argmin(x, axis=1), distinct((3, 4)), zero=True, label="axis1")],
    # -- contraction -------------------------------------------------------------
    "dot_general": [
        Case(cnp.matmul, ANY((2, 3)), ANY((3, 4)), label="matmul"),
        Case(cnp.dot, ANY((3,)), ANY((3,)), label="inner_0d"),
        Case(cnp.matmul, ANY((2, 3)), ANY((3,)), label="matvec"),
        Case(cnp.matmul, ANY((3,)), ANY((3, 4)), label="vecmat"),
        Case(cnp.matmul, ANY((2, 3, 4)), ANY((2, 4, 5)), label="batched"),
        Case(cnp.matmul, ANY((2, 1, 3, 4)), ANY((3, 4, 2)), label="broadcast_batch"),
        Case(cnp.matmul, ANY((3, 4)), ANY((2, 4, 2)), label="lhs_broadcast"),
        Case(lambda a, b: cnp.einsum("ijk,kj->i", a, b), ANY((2, 3, 4)), ANY((4, 3)),
             label="einsum_two_contractions"),
        Case(lambda a, b: cnp.einsum("ji,jk->ki", a, b), ANY((3, 2)), ANY((3, 4)),
             label="einsum_transposed"),
        Case(lambda a, b: cnp.einsum("bij,jbk->bki", a, b), ANY((2, 3, 4)), ANY((4, 2, 5)),
             label="einsum_batch_not_leading"),
        Case(cnp.outer, ANY((3,)), ANY((2,)), label="outer"),
        Case(lambda a: a @ a, ANY((3, 3)), label="same_operand"),
        Case(lambda a: a @ np.arange(6.0).reshape(3, 2), ANY((4, 3)), label="const_rhs")],
    # -- structural ---------------------------------------------------------------
    "reshape": [Case(lambda x: cnp.reshape(x, (3, 2)), ANY((2, 3))),
                Case(lambda x: cnp.reshape(x, (2, 3)), ANY((6,))),
                Case(lambda x: cnp.reshape(x, (1, 1)), ANY(()), label="from_0d"),
                Case(lambda x: cnp.reshape(x, ()), ANY((1, 1)), label="to_0d"),
                Case(lambda x: cnp.ravel(x), ANY((2, 3, 2)), label="ravel")],
    "transpose": [Case(lambda x: x.T, ANY((2, 3))),
                  Case(lambda x: cnp.transpose(x, (2, 0, 1)), ANY((2, 3, 4))),
                  Case(lambda x: cnp.swapaxes(x, 0, 1) * cnp.transpose(x, (1, 0, 2)),
                       ANY((2, 2, 3)), label="fan_out")],
    "broadcast_in_dim": [
        Case(lambda x: cnp.broadcast_to(x, (2, 3)), ANY((3,))),
        Case(lambda x: cnp.broadcast_to(x, (2, 3)), ANY(()), label="from_0d"),
        Case(lambda x: cnp.broadcast_to(x, (3, 4)), ANY((3, 1)), label="stretch"),
        Case(lambda x: cnp.broadcast_to(x, (2, 3, 4)), ANY((1, 3, 1)), label="stretch_and_new"),
        Case(lambda x, y: x + y, ANY((1, 5)), ANY((5, 1)), label="implicit")],
    "squeeze": [Case(lambda x: cnp.squeeze(x), ANY((1, 3))),
                Case(lambda x: cnp.squeeze(x, axis=(1, 3)), ANY((2, 1, 3, 1))),
                Case(lambda x: cnp.squeeze(x), ANY((1,)), label="to_0d")],
    "expand_dims": [Case(lambda x: cnp.expand_dims(x, 0), ANY((3,))),
                    Case(lambda x: cnp.expand_dims(x, 0), ANY(()), label="from_0d"),
                    Case(lambda x: cnp.expand_dims(x, (0, 3)), ANY((2, 3))),
                    Case(lambda x: cnp.sum(x, axis=1, keepdims=True), ANY((2, 3)),
                         label="keepdims")],
    "concatenate": [
        Case(lambda x, y: cnp.concatenate([x, y], axis=0), ANY((2, 3)), ANY((1, 3))),
        Case(lambda x, y: cnp.concatenate([x, y, x], axis=1), ANY((2, 3)), ANY((2, 1)),
             label="repeated_operand"),
        Case(lambda x, y: cnp.stack([x, y]), ANY(()), ANY(()), label="stack_0d"),
        Case(lambda x: cnp.concatenate([x, np.ones(2)]), ANY((3,)), label="const_operand")],
    "slice": [Case(lambda x: x[1:3], ANY((5,))),
              Case(lambda x: x[::2, 1:], ANY((5, 3)), label="strided"),
              Case(lambda x: x[1], ANY((3,)), label="to_0d"),
              Case(lambda x: x[1:4:2, ::3], ANY((6, 7)), label="strided_both"),
              Case(lambda x: cnp.sum(x[2:2]) + cnp.sum(x[:1]), ANY((4,)), label="empty")],
    "rev": [Case(cnp.flip, ANY((4,))),
            Case(lambda x: cnp.flip(x, axis=1), ANY((2, 3))),
            Case(lambda x: x[::-1] * x, ANY((3,)), label="fan_out")],
    "pad": [Case(bind(P.pad_p, padding_config=((1, 2, 0),)), ANY((3,)), np.float64(0.0)),
            Case(bind(P.pad_p, padding_config=((1, 0, 2), (0, 1, 1))), ANY((2, 3)), ANY(()),
                 label="interior"),
            Case(lambda x: P.pad_p.bind(x, 0.0, padding_config=((2, 1, 1),)), ANY((3,)),
                 label="literal_value")],
    "gather": [Case(lambda x: x[np.array([0, 2, 2])], ANY((4,)), label="repeated"),
               Case(lambda x: x[:, [1, 0]], ANY((2, 3)), label="axis1"),
               Case(lambda x: x[np.array([[0, 1], [2, 2]])], ANY((3,)), label="2d_indices"),
               Case(lambda x: x[[-1, 0]], ANY((3, 2)), label="negative")],
    # structured control flow: a predicate or index from the data (kept away
    # from its switching points, which finite differences must not cross)
    "cond": [Case(lambda x: cr.cond(cnp.sum(x) > 0, lambda a: cnp.sin(a) * a,
                                    lambda a: cnp.exp(a) / 2.0, x), ANY((3,)), label="cond"),
             Case(lambda x, y: cr.switch(cnp.argmax(y), [lambda a, b: a * b,
                                                         lambda a, b: cnp.tanh(a) + b,
                                                         lambda a, b: a - b ** 2], x, y),
                  ANY((2, 3)), distinct((3,)), label="switch")],
    # (the cases return one array: the carry and the ys raveled together)
    "scan": [Case(lambda h, xs: _raveled(cr.scan(lambda c, x: (cnp.tanh(c * x + 0.5), c * x),
                                                 h, xs)),
                  ANY((3,)), ANY((4, 3)), label="rnn"),
             Case(lambda h, w: _raveled(cr.scan(
                 lambda c, _: ((c[0] * w, cnp.sin(c[1]) + w), c[0][0]), (h, h), None, length=3,
                 reverse=True)), ANY((2,)), ANY(()), label="pytree_carry_reverse")],
    # checkpoint: recomputed in reverse mode; with a policy (the matrix
    # products kept), a closure over a traced value, and nested
    "checkpoint": [Case(lambda x: cr.checkpoint(lambda a: cnp.sin(a) * a)(x), ANY((3,)),
                        label="recompute"),
                   Case(lambda x, w: cr.checkpoint(
                       lambda a, b: cnp.tanh(cnp.tanh(a @ b) @ b),
                       policy=cr.checkpoint_policies.dots_saveable)(x, w),
                        ANY((2, 3)), ANY((3, 3)), label="dots_saveable"),
                   Case(lambda x, y: cr.checkpoint(lambda a: cr.checkpoint(
                       lambda b: cnp.exp(b) * y)(a) + y ** 2)(x), ANY((3,)), ANY(()),
                        label="nested_closure")],
    # while: forward mode only (reverse mode raises, as in JAX)
    "while": [Case(lambda x: cr.while_loop(lambda c: c[1] < 4, lambda c: (cnp.sin(c[0]) * 1.5,
                                                                            c[1] + 1),
                                           (x, 0))[0], ANY((3,)), forward_only=True,
                   label="counted"),
              Case(lambda x, y: cr.fori_loop(0, cnp.argmax(y) + 1, lambda i, v: v * y + 0.1,
                                             x), ANY((3,)), distinct((3,)),
                   forward_only=True, label="fori_traced_bound")],
    # custom rules: the function's derivative is the rule's (here the true one);
    # a custom_vjp function has no forward mode, and its linear program holds
    # custom_vjp_lin, which the transpose turns into bwd
    "custom_jvp_call": [Case(_softplus, _any(()), label="0d"),
                        Case(lambda x: _softplus(x * 2.0) ** 2, _any((2, 3)), label="composed"),
                        Case(lambda x, y: _raveled(_mul_sin(x, y)), _any((2, 3)), _any((3,)),
                             label="pytree_output")],
    "custom_vjp_call": _custom_vjp_rows(),
    "custom_vjp_lin": _custom_vjp_rows(),
    # indexing two axes with traced indices checks each on its own axis
    "normalize_index": [Case(lambda x: x[cnp.argmax(x[:, :2], axis=1), cnp.argmin(x, axis=1)],
                             distinct((2, 3)), label="two_traced_indices"),
                        Case(lambda x: x[cnp.argmin(x[:, 0]), -1 - cnp.argmax(x[0])],
                             distinct((3, 4)), label="negative_traced_index")],
    # x.at[idx].set(v) / .add(v) trace to scatter / scatter_add; check_grads
    # also calls f on NumPy arrays, which have no .at, so the rows bind the
    # primitives directly (axis=k: indices select along axis k)
    "scatter": [Case(scatter(np.array([0, 2])), ANY((4,)), ANY((2,))),
                Case(scatter(np.array(1)), ANY((3,)), ANY(()), label="0d_index"),
                Case(scatter(np.array([0, 2]), axis=1), ANY((2, 3)), ANY((2, 2)),
                     label="axis1"),
                Case(lambda x, v: cnp.sum(scatter(np.array([2, 0]))(x, v) * x), ANY((3,)),
                     ANY((2,)), label="fan_out"),
                Case(scatter(np.array([0, 0, 2])), ANY((3,)), ANY((3,)),
                     label="repeated_last_wins"),
                Case(scatter(np.array([[1, 1], [0, -2]])), ANY((3,)), ANY((2, 2)),
                     label="repeated_2d_negative"),
                Case(lambda x, v: P.scatter_p.bind(
                    x, cnp.stack([cnp.argmax(x), cnp.argmin(x), cnp.argmax(x)]), v, axis=0),
                    distinct((4,)), ANY((3,)), label="traced_repeated_indices")],
    "scatter_add": [Case(scatter(np.array([0, 2]), add=True), ANY((4,)), ANY((2,))),
                    Case(scatter(np.array([1, 1, 0]), add=True), ANY((3,)), ANY((3,)),
                         label="repeated"),
                    Case(scatter(np.array([1, 0]), axis=1, add=True), ANY((2, 3)),
                         ANY((2, 2)), label="axis1"),
                    Case(scatter(np.array(1), add=True), ANY((3,)), ANY(()),
                         label="0d_index")],
    # -- elementwise, reductions, cumulative, sorting, scipy.special --
    # stop_gradient: the identity with a zero derivative (logsumexp's shift)
    "stop_gradient": unary_rows(P.stop_gradient_p.bind, zero=True),
    # logaddexp and hypot are smooth at ties (x = y, |x| = |y|), so those are
    # checked too, and logaddexp far out (softplus at +-30)
    "logaddexp": binary_rows(cnp.logaddexp) + [
        Case(lambda x: cnp.logaddexp(x, x), ANY((3,)), label="tie"),
        Case(lambda x: cnp.logaddexp(0.0, x), np.array([-30.0, -1.0, 0.0, 1.0, 30.0]),
             label="softplus"),
        Case(cnp.logaddexp2, ANY((3,)), ANY((2, 1)), label="logaddexp2")],
    "hypot": binary_rows(cnp.hypot, NONZERO, NONZERO) + [
        Case(lambda x: cnp.hypot(x, -x), NONZERO((3,)), label="tie"),
        Case(lambda x, y: cnp.hypot(x, y), np.zeros(3), NONZERO((3,)), label="x_at_0")],
    "signbit": unary_rows(cnp.signbit, zero=True) + [
        Case(lambda x, y: cnp.copysign(x, y), NONZERO((4,)), NONZERO((4,)), label="copysign")],
    "cumsum": [Case(cnp.cumsum, ANY((5,))),
               Case(lambda x: cnp.cumsum(x, axis=1), ANY((2, 3)), label="axis1"),
               Case(lambda x: cnp.cumsum(x, axis=0), ANY((3, 2, 2)), label="axis0"),
               Case(cnp.cumsum, ANY((2, 3)), label="flattened"),
               Case(cnp.cumsum, ANY(()), label="0d"),
               Case(lambda x: P.cumsum_p.bind(x, axis=0, reverse=True), ANY((4,)),
                    label="reverse"),
               Case(lambda x: cnp.cumsum(x) * x, ANY((4,)), label="fan_out")],
    "cumprod": [Case(cnp.cumprod, NONZERO((5,))),
                Case(lambda x: cnp.cumprod(x, axis=1), NONZERO((2, 4)), label="axis1"),
                Case(lambda x: cnp.cumprod(x, axis=0), NONZERO((3, 2)), label="axis0"),
                Case(cnp.cumprod, NONZERO(()), label="0d"),
                Case(cnp.cumprod, _with_zeros((5,), [1]), label="one_zero"),
                Case(cnp.cumprod, _with_zeros((6,), [0, 3]), label="two_zeros"),
                Case(lambda x: cnp.cumprod(x, axis=1), _with_zeros((2, 7), [2, 9]),
                     label="zeros_7_long")],
    # sort: values without ties, so the permutation is the same at x +- eps
    "sort": [Case(cnp.sort, distinct((5,))),
             Case(lambda x: cnp.sort(x, axis=0), distinct((3, 4)), label="axis0"),
             Case(lambda x: cnp.sort(x, axis=None), distinct((2, 3)), label="flattened"),
             Case(lambda x: cnp.sort(x)[..., -2:], distinct((2, 4)), label="top2"),
             Case(lambda x, y: P.sort_p.bind(x, y, axis=0)[1], distinct((4,)), ANY((4,)),
                  label="carried"),
             Case(lambda x: x[cnp.argsort(x)] * x, distinct((4,)), label="argsort_gather"),
             Case(lambda x: cnp.median(x, axis=1), distinct((3, 4)), label="median"),
             Case(lambda x: cnp.percentile(x, [10, 75]), distinct((5,)), label="percentile")],
    # -- shapes, construction, indexing --
    # scatter_min / scatter_max (x.at[idx].min / .max): operand and updates drawn
    # together without ties, so each result has one clear winner
    **{name: [
        Case(lambda x, v, p=prim: p.bind(x, np.array([0, 2]), v, axis=0),
             *np.split(distinct((6,)), [4])),
        Case(lambda x, v, p=prim: p.bind(x, np.array([1, 1, 3, 1]), v, axis=0),
             *np.split(distinct((8,)), [4]), label="repeated"),
        Case(lambda x, v, p=prim: p.bind(x, np.array([2, -1]), v, axis=1),
             *[a.reshape(s) for a, s in zip(np.split(distinct((10,)), [6]), [(2, 3), (2, 2)])],
             label="axis1_negative"),
        Case(lambda x, v, p=prim: p.bind(x, np.array(1), v, axis=0),
             *[a.reshape(s) for a, s in zip(np.split(distinct((4,)), [3]), [(3,), ()])],
             label="0d_index"),
        Case(lambda x, v, p=prim: cnp.sum(p.bind(x, np.array([2, 0, 2]), v, axis=0) * x),
             *np.split(distinct((6,)), [3]), label="fan_out"),
    ] for name, prim in (("scatter_min", P.scatter_min_p), ("scatter_max", P.scatter_max_p))},
    # -- linear algebra --
    # matrices: well conditioned (random + 4 I) or symmetric positive definite
    "solve": [Case(cnp.linalg.solve, ANY((3, 3)) + 4 * np.eye(3), ANY((3, 2))),
              Case(cnp.linalg.solve, ANY((2, 3, 3)) + 4 * np.eye(3), ANY((3,)),
                   label="vector_broadcast"),
              Case(cnp.linalg.inv, ANY((2, 3, 3)) + 4 * np.eye(3), label="inv"),
              Case(lambda a: cnp.linalg.solve(a, a[..., :1] * a[..., 1:]),
                   ANY((3, 3)) + 4 * np.eye(3), label="fan_out")],
    "triangular_solve": [
        Case(lambda a, b: P.triangular_solve_p.bind(
            a, b, left_side=True, lower=True, transpose_a=False, unit_diagonal=False),
            ANY((3, 3)) + 4 * np.eye(3), ANY((3, 2))),
        Case(lambda a, b: P.triangular_solve_p.bind(
            a, b, left_side=False, lower=False, transpose_a=True, unit_diagonal=False),
            ANY((2, 3, 3)) + 4 * np.eye(3), ANY((2, 2, 3)), label="right_upper_transposed"),
        Case(lambda a, b: P.triangular_solve_p.bind(
            a, b, left_side=True, lower=False, transpose_a=False, unit_diagonal=True),
            ANY((3, 3)), ANY((3, 1)), label="unit_diagonal")],
    "slogdet": [Case(lambda a: cnp.linalg.slogdet(a)[1], ANY((3, 3)) + 4 * np.eye(3)),
                Case(lambda a: cnp.linalg.slogdet(a).logabsdet, ANY((2, 3, 3)), label="batch"),
                Case(cnp.linalg.det, ANY((3, 3)), label="det"),
                Case(cnp.linalg.det, ANY((1, 1)), label="det_1x1")],
    "cholesky": [Case(cnp.linalg.cholesky, (lambda x: x @ x.T + 3 * np.eye(3))(ANY((3, 3)))),
                 Case(lambda a: cnp.linalg.cholesky(a, upper=True),
                      (lambda x: x @ x.mT + 3 * np.eye(3))(ANY((2, 3, 3))), label="upper")],
    "qr": [Case(lambda a: cnp.linalg.qr(a).Q, ANY((4, 3)), label="Q_tall"),
           Case(lambda a: cnp.linalg.qr(a).R, ANY((4, 3)), label="R_tall"),
           Case(lambda a: cnp.linalg.qr(a).Q, ANY((2, 3, 3)), label="Q_square"),
           Case(lambda a: cnp.linalg.qr(a).R, ANY((2, 5)), label="R_wide"),
           Case(lambda a: cnp.linalg.qr(a).Q, ANY((2, 5)), label="Q_wide")],
    "eigh": [Case(lambda a: cnp.linalg.eigh(a).eigenvalues, ANY((3, 3)), label="w"),
             Case(lambda a: cnp.linalg.eigh(a).eigenvectors, ANY((3, 3)), label="V"),
             Case(lambda a: cnp.linalg.eigh(a, UPLO="U").eigenvectors, ANY((2, 3, 3)),
                  label="V_upper")],
    "svd": [Case(lambda a: cnp.linalg.svd(a, full_matrices=False).U, ANY((4, 3)), label="U"),
            Case(lambda a: cnp.linalg.svd(a, full_matrices=False).S, ANY((4, 3)), label="S"),
            Case(lambda a: cnp.linalg.svd(a, full_matrices=False).Vh, ANY((4, 3)), label="Vh"),
            Case(lambda a: cnp.linalg.svd(a, full_matrices=False).Vh, ANY((2, 2, 4)),
                 label="Vh_wide"),
            Case(lambda a: cnp.linalg.svd(a).U, ANY((3, 3)), label="U_square_full")],
    "pinv": [Case(cnp.linalg.pinv, ANY((4, 3)), label="tall"),
             Case(cnp.linalg.pinv, ANY((2, 2, 3)), label="wide"),
             Case(lambda a: cnp.linalg.pinv(a, hermitian=True), ANY((3, 3)) + 4 * np.eye(3),
                  label="hermitian")],
}

# special functions (chainrule.primitives.special), through chainrule.scipy.special
import chainrule.scipy.special as _csp  # noqa: E402

CASES.update({
    "lgamma": unary_rows(_csp.gammaln, POSITIVE), "gamma": unary_rows(_csp.gamma, POSITIVE),
    "digamma": unary_rows(_csp.digamma, POSITIVE),
    "polygamma": unary_rows(lambda x: _csp.polygamma(1, x), POSITIVE)
    + [Case(lambda x: _csp.polygamma(3, x), POSITIVE((3,)), label="n3")],
    "erf": unary_rows(_csp.erf), "erfc": unary_rows(_csp.erfc),
    "erf_inv": unary_rows(_csp.erfinv, UNIT),
    "ndtri": unary_rows(_csp.ndtri, uniform(0.1, 0.9)),
    "log_ndtr": unary_rows(_csp.log_ndtr, uniform(-4.0, 4.0)),
    "i0e": unary_rows(_csp.i0e, NONZERO), "i1e": unary_rows(_csp.i1e, NONZERO),
    "xlogy": binary_rows(_csp.xlogy, ANY, POSITIVE),
    "xlog1py": binary_rows(_csp.xlog1py, ANY, POSITIVE),
})


def _params():
    out = []
    for name, cases in CASES.items():
        for i, case in enumerate(cases):
            out.append(pytest.param(name, case, id=f"{name}-{i}-{case.label}"))
    return out


PARAMS = _params()


def test_every_primitive_has_a_row():
    missing = sorted(set(all_primitives()) - set(CASES))
    unknown = sorted(set(CASES) - set(all_primitives()))
    assert not missing, f"primitives without AD test cases: {missing}"
    assert not unknown, f"rows for primitives that do not exist: {unknown}"
    for name, cases in CASES.items():
        assert len(cases) >= 2, f"{name}: at least two cases (shapes) wanted"


def test_the_table_covers_0d_and_broadcasting():
    # every elementwise row has a 0-d case and a broadcasting one
    from chainrule.primitives import elementwise as E
    names = {p.name for p in vars(E).values() if isinstance(p, cr.Primitive)}
    for name in names:
        irs = [cr.make_ir(c.f)(*c.args) for c in CASES[name]]
        assert any(not c.args or all(np.ndim(a) == 0 for a in c.args) for c in CASES[name]) or \
            any(not e.outvars[0].aval.shape for ir in irs for e in ir.eqns
                if e.primitive.name == name), f"{name}: no 0-d case"
        assert any(e.primitive.name == "broadcast_in_dim" for ir in irs for e in ir.eqns), \
            f"{name}: no broadcasting case"


def _uses(name, case):
    closed = cr.make_ir(case.f)(*case.args)
    if any(e.primitive.name == name for e in closed.eqns):
        return True
    # a primitive only linearization makes (custom_vjp_lin): in the linear program
    linear = cr.linearize(case.f, *case.args)[1].ir
    return any(e.primitive.name == name for e in linear.eqns)


@pytest.mark.parametrize("name, case", PARAMS)
def test_case_uses_its_primitive(name, case):
    assert _uses(name, case), f"the case does not bind {name}:\n{cr.make_ir(case.f)(*case.args)}"


def _as_float(y):
    return y if np.issubdtype(y.dtype, np.floating) else y.astype(np.float64)


def _loss(f):
    return lambda *a: cnp.sum(_as_float(f(*a)))


def _check_reverse(f, args, order=2, eps=1e-5, tol=1e-6):
    """Reverse mode without forward mode: the dot-product test against central
    differences, <(f(x + eps v) - f(x - eps v)) / 2 eps, w> = <v, J^T w>, and
    the same for x -> J(x)^T w (reverse over reverse)."""
    seeded = np.random.default_rng(order)
    v = tuple(seeded.standard_normal(np.shape(a)) for a in args)
    out = f(*args)
    w = seeded.standard_normal(np.shape(out))
    plus = f(*[a + eps * d for a, d in zip(args, v)])
    minus = f(*[a - eps * d for a, d in zip(args, v)])
    lhs = np.sum((np.asarray(plus) - np.asarray(minus)) / (2 * eps) * w)
    _, vjp_fn = cr.vjp(f, *args)
    rhs = sum(np.sum(c * d) for c, d in zip(vjp_fn(w), v))
    np.testing.assert_allclose(rhs, lhs, rtol=tol, atol=tol)
    if order > 1:
        _check_reverse(lambda *xs: _raveled(cr.vjp(f, *xs)[1](w)), args, order - 1, eps, tol)


@pytest.mark.parametrize("name, case", PARAMS)
def test_derivatives(name, case):
    if case.reverse_only:
        _check_reverse(case.f, case.args)
        with pytest.raises(TypeError, match="can't apply forward-mode autodiff"):
            cr.jvp(case.f, case.args, case.args)
        return
    if case.forward_only:
        cr.check_grads(case.f, case.args, order=2, modes=("fwd",), **case.tol)
        with pytest.raises(NotImplementedError, match="reverse mode"):
            cr.grad(_loss(case.f))(*case.args)
        return
    if not case.zero:
        cr.check_grads(case.f, case.args, order=2, modes=("fwd", "rev"), **case.tol)
        return
    # a zero derivative, exactly: forward, reverse, and grad of a float loss
    args = case.args
    tangents = tuple(rng.standard_normal(np.shape(a)) for a in args)
    out, t_out = cr.jvp(case.f, args, tangents)
    assert np.shape(t_out) == np.shape(out)
    # an integer or boolean output has a float0 tangent (and takes a float0 cotangent)
    integer = not np.issubdtype(np.asarray(out).dtype, np.inexact)
    if integer:
        assert t_out.dtype == cr.float0
    else:
        assert not np.any(np.asarray(t_out)), f"{name}: non-zero tangent {t_out}"
    out, vjp_fn = cr.vjp(case.f, *args)
    cts = vjp_fn(np.zeros(np.shape(out), cr.float0) if integer
                 else np.ones(np.shape(out), np.asarray(out).dtype))
    assert len(cts) == len(args)
    for c, a in zip(cts, args):
        assert np.shape(c) == np.shape(a)
        assert not np.any(np.asarray(c)), f"{name}: non-zero cotangent {c}"
    grads = cr.grad(_loss(case.f), argnums=tuple(range(len(args))))(*args)
    for g, a in zip(grads, args):
        assert np.shape(g) == np.shape(a)
        np.testing.assert_array_equal(g, np.zeros(np.shape(a)))


@pytest.mark.parametrize("name, case", PARAMS)
def test_transformed_programs_check(name, case):
    f, args = case.f, case.args
    _, f_jvp = cr.linearize(f, *args)
    f_jvp.ir.check()                                  # the linear program
    jvp_ir(cr.make_ir(f)(*args)).check()              # the JVP program
    if case.forward_only:
        return
    transpose_ir(f_jvp.ir).check()                    # its transpose
    jvp_ir(cr.make_ir(f)(*args)).check()              # the JVP program
    argnums = tuple(range(len(args)))
    cr.make_ir(cr.grad(_loss(f), argnums=argnums))(*args).check()   # the gradient program
