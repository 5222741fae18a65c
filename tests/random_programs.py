"""Random well-typed programs over every primitive, for ``test_random_programs.py``.

A program is a list of ``Node``s, each one ``bind(primitive, *args,
**params)``: its arguments are earlier values (``Val``: the program's inputs
and the nodes' outputs), inline literals (``Lit``, 0-d) or constant arrays
(``Const``).  The primitives whose params hold bodies (``cond``, ``scan``,
``while``, ``checkpoint``, ``custom_jvp_call``, ``custom_vjp_call``) are
made by the API that traces the bodies (``cr.cond``, ``cr.scan``,
``cr.custom_vjp``...), from small catalogues of bodies and rules.
``Program.f`` runs the program, so the same function is traced by every
transform and, called with NumPy arrays, computes eagerly with each
primitive's implementation.

The generator (``programs()``, a Hypothesis strategy, driven by the
``Builder``) draws one primitive after another from ``GENERATORS`` (one entry
per registered primitive) and applies it to values drawn from what the
program has computed so far (preferring values not used yet, so the program
is a DAG that feeds its outputs), until the program has at least
``MIN_EQNS`` equations; values left unused are summed into the first
output, so every equation is live.  Three devices keep the numbers safe:

* intervals: every value carries bounds ``[lo, hi]`` that hold for every
  input in the input domain (inputs are drawn from their own intervals).
  An operation that needs a domain (``log`` of positive values, ``asin`` in
  (-1, 1), a denominator away from 0, ``exp`` of moderate values, matrices
  well conditioned...) first maps its operand there with more primitives
  (``exp``, ``x*x + c``, ``tanh``, scaling by a literal, ...), and every
  float value stays within ``[-LIMIT, LIMIT]``;
* margins and decisions: operations with kinks or jumps (``abs``, ``max``,
  comparisons, ``floor``, ``sort``, ``argmax``, ``reduce_max``, the extremal
  scatters, ``rem``...) report, on the concrete values, their distance from
  the kink (``Node.margin``); input values closer than ``MIN_MARGIN`` are
  rejected and the finite-difference step is taken well below the margin.
  Exact ties (distance 0) are allowed, as they come from the program's
  structure (a broadcast copy, ``max(x, x)``, ``floor`` of an integer)
  where both sides move together; but rounding can break a tie that only
  the mathematics makes exact (two rows of a symmetric solve), so every
  discrete value the program computes (integers, booleans, ``sort``'s
  permutations, ``floor``...; ``Program.decisions``) must also stay the
  same ten finite-difference steps away, in random directions;
* construction: matrices are made well conditioned (``D + eps B`` with
  ``|B| <= 1``), symmetric positive definite (``eps B B^T + I``), with
  separated eigenvalues (``diag(1..n) + eps B``) or singular values; the
  outputs of ``eigh``, ``svd`` and ``qr`` are used only through quantities
  that do not depend on LAPACK's choice of signs (``V * V``, ``U diag(s)
  Vh``, ``Q R``...).  Values whose derivative is not the true one (the
  raw factors; ``x / sg(m)`` on the way to ``x / sg(m) * sg(m)``, which is
  how ``stop_gradient`` is used) are hidden from later operations.

One program in six may draw inputs with an axis of size 0 (and slices and
indices that are empty).  ``check_all`` runs every check on a program;
``Case`` pairs a program with its input values and a vmap (random
``in_axes``/``out_axes``); ``localize`` finds the first equation whose
JVP disagrees with finite differences, for diagnosing a failure.

``Program.source(...)`` writes a program out as Python, the form in which
counterexamples are kept as regression tests.
"""
from __future__ import annotations

import math
import pprint
import re

import numpy as np
from hypothesis import strategies as st

import chainrule as cr
from chainrule.interpreters import jvp_ir, transpose_ir
from chainrule.primitives import all_primitives
from chainrule.tracer.avals import ShapedArray
from chainrule.tracer.core import bind

PRIMS = all_primitives()

LIMIT = 100.0        # every float value stays within [-LIMIT, LIMIT]
INT_LIMIT = 1000     # and every integer value within [-INT_LIMIT, INT_LIMIT]
MAX_SIZE = 48        # elements of any value
MIN_EQNS = 20        # equations of every program
MIN_MARGIN = 1e-3    # distance from a kink below which input values are rejected


# -- the program ---------------------------------------------------------------
class Val:
    """A value of the program: an input or a node's output."""

    __slots__ = ("idx", "shape", "dtype", "lo", "hi", "uses", "is_input", "hidden")

    def __init__(self, idx, shape, dtype, lo, hi, is_input=False):
        self.idx, self.shape, self.dtype = idx, tuple(shape), np.dtype(dtype)
        self.lo, self.hi = float(lo), float(hi)
        self.uses, self.is_input = 0, is_input
        self.hidden = False   # not to be used again (its derivative is not the true one)

    @property
    def kind(self):
        return "b" if self.dtype == np.bool_ else ("f" if self.dtype.kind == "f" else "i")

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def bound(self):
        return max(abs(self.lo), abs(self.hi))

    @property
    def name(self):
        return f"x{self.idx}" if self.is_input else f"v{self.idx}"

    def aval(self):
        return ShapedArray(self.shape, self.dtype)

    def __repr__(self):
        return f"{self.name}:{self.dtype}{list(self.shape)}[{self.lo:.3g},{self.hi:.3g}]"


class Lit:
    """An inline literal: a 0-d NumPy scalar."""

    def __init__(self, value):
        self.value = value

    def aval(self):
        return ShapedArray((), np.asarray(self.value).dtype)


class Const:
    """A constant array closed over by the program."""

    def __init__(self, value):
        self.value = np.asarray(value)

    def aval(self):
        return ShapedArray(self.value.shape, self.value.dtype)


class Node:
    """``bind(prim, *args, **params)``; or, for the control-flow primitives
    (whose params hold bodies), ``call(*args)``, a call of the API that
    binds ``prim`` (``cr.cond``, ``cr.scan``...), written ``src`` (with
    ``@k`` for the k-th argument) in Python."""
    __slots__ = ("prim", "args", "params", "outs", "margin", "call", "src")

    def __init__(self, prim, args, params, outs, margin, call=None, src=None):
        self.prim, self.args, self.params, self.outs, self.margin = (prim, args, params, outs,
                                                                     margin)
        self.call, self.src = call, src


def _value(a, env):
    return env[a.idx] if type(a) is Val else a.value


class Program:
    def __init__(self, inputs, nodes, outputs, dtype, forward_only=False, reverse_only=False):
        self.inputs, self.nodes, self.outputs, self.dtype = inputs, nodes, outputs, dtype
        self.forward_only = forward_only   # (a while loop: no reverse mode)
        self.reverse_only = reverse_only   # (a custom_vjp function: no forward mode)

    def run(self, args, hook=None):
        """The outputs (a tuple) for ``args``; ``hook(node, ins, outs)`` is
        called after each node."""
        env = {v.idx: a for v, a in zip(self.inputs, args)}
        for node in self.nodes:
            ins = [_value(a, env) for a in node.args]
            if node.call is not None:
                out = node.call(*ins)
                outs = list(out) if isinstance(out, (tuple, list)) else [out]
            else:
                prim = PRIMS[node.prim]
                out = bind(prim, *ins, **node.params)
                outs = list(out) if prim.multiple_results else [out]
            for v, o in zip(node.outs, outs):
                env[v.idx] = o
            if hook is not None:
                hook(node, ins, outs)
        return tuple(env[v.idx] for v in self.outputs)

    def f(self, *args):
        return self.run(args)

    def margin(self, args):
        """The smallest distance of any kink from the values at ``args`` (on
        the way, each value's shape and dtype are checked against the shape
        rules, and its values against its interval)."""
        margins = []

        def hook(node, ins, outs):
            for v, o in zip(node.outs, outs):
                o = np.asarray(o)
                assert (o.shape, o.dtype) == (v.shape, v.dtype), (
                    f"{node.prim}: the implementation gives {o.dtype}{list(o.shape)}, "
                    f"the shape rule {v.dtype}{list(v.shape)}")
                if v.kind == "f":
                    assert np.all(np.isfinite(o)), f"{node.prim} gave non-finite {o}"
                    slack = 1e-6 * (1 + max(abs(v.lo), abs(v.hi)))
                    assert np.all(o >= v.lo - slack) and np.all(o <= v.hi + slack), (
                        f"{node.prim}: {v.name} outside its interval [{v.lo}, {v.hi}]: {o}")
            if node.margin is not None:
                margins.append(float(node.margin(*ins, *outs, **node.params)))

        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            self.run(args, hook)
        return min(margins, default=math.inf)

    def decisions(self, args):
        """Every discrete value the program computes at ``args``: integers,
        booleans, piecewise-constant floats, the permutations of ``sort``,
        the quotients behind ``rem``.  Where these do not change in a
        neighbourhood, the program is smooth there."""
        out = []

        def hook(node, ins, outs):
            for v, o in zip(node.outs, outs):
                if v.kind != "f" or node.prim in PIECEWISE_CONSTANT:
                    out.append(np.asarray(o).copy())
            if node.prim == "sort":
                out.append(np.argsort(ins[0], axis=node.params["axis"], kind="stable"))
            if node.prim == "slogdet":
                out.append(np.asarray(outs[0]).copy())
            if node.prim == "rem" and _is_float(ins[0]):
                out.append(np.floor(np.divide(ins[0], ins[1])))

        with np.errstate(all="ignore"):
            self.run(args, hook)
        return out

    def sample(self, rng, batch=()):
        """Input values from each input's interval (``batch``: leading axes)."""
        out = []
        for v in self.inputs:
            shape = tuple(batch) + v.shape
            if v.kind == "f":
                x = rng.uniform(v.lo, v.hi, shape).astype(v.dtype)
            elif v.kind == "b":
                x = rng.integers(0, 2, shape).astype(np.bool_)
            else:
                x = rng.integers(int(v.lo), int(v.hi) + 1, shape).astype(v.dtype)
            out.append(x[()] if x.ndim == 0 and not batch else x)
        return out

    def primitive_names(self):
        return {n.prim for n in self.nodes}

    # -- as Python source, for regression tests ------------------------------
    def source(self, name="f"):
        names = {v.idx: v.name for v in self.inputs}

        def atom(a):
            if type(a) is Val:
                return names[a.idx]
            return _literal_source(a.value)

        lines = [f"def {name}({', '.join(v.name for v in self.inputs)}):"]
        for node in self.nodes:
            for v in node.outs:
                names[v.idx] = v.name
            outs = ", ".join(v.name for v in node.outs)
            if node.src is not None:
                src = node.src
                for k in reversed(range(len(node.args))):
                    src = src.replace(f"@{k}", atom(node.args[k]))
                lines.append(f"    {outs} = {src}")
                continue
            if len(node.outs) == 1 and PRIMS[node.prim].multiple_results:
                outs += ","
            params = "".join(f", {k}={_literal_source(p)}" for k, p in node.params.items())
            args = ", ".join(atom(a) for a in node.args)
            lines.append(f"    {outs} = bind(P[{node.prim!r}], {args}{params})")
        lines.append(f"    return ({''.join(names[v.idx] + ', ' for v in self.outputs)})")
        return "\n".join(lines)


def _literal_source(x):
    if isinstance(x, np.dtype):
        return f"np.dtype({x.name!r})"
    if isinstance(x, np.ndarray):
        if x.size == 0:
            return f"np.zeros({x.shape!r}, np.{x.dtype.name})"
        return f"np.array({x.tolist()!r}, np.{x.dtype.name})"
    if isinstance(x, np.generic):
        return f"np.{x.dtype.name}({x.item()!r})"
    if isinstance(x, tuple):
        return "(" + "".join(_literal_source(e) + ", " for e in x).rstrip(" ") + ")" \
            if len(x) == 1 else "(" + ", ".join(_literal_source(e) for e in x) + ")"
    return repr(x)


def array_source(x, indent=8):
    """``x`` as Python source, wrapped to lines of at most 95 characters."""
    x = np.asarray(x)
    if x.ndim == 0:
        return f"np.{x.dtype.name}({x.item()!r})"
    dtype = "" if x.dtype == np.float64 else f", np.{x.dtype.name}"
    if x.size == 0:   # (its list would not keep its shape)
        return f"np.zeros({x.shape!r}{dtype})"
    body = pprint.pformat(x.tolist(), width=95 - indent - 9 - len(dtype), compact=True)
    body = body.replace("\n", "\n" + " " * (indent + 9))
    return f"np.array({body}{dtype})"


PIECEWISE_CONSTANT = {"floor", "ceil", "round", "trunc", "sign", "floor_div"}


# -- margins: the distance of an operation's operands from its kinks ------------
def _positive_min(d):
    """The smallest non-zero entry of ``d`` (exact zeros are structural ties)."""
    d = np.abs(np.asarray(d, np.float64)).ravel()
    d = d[d > 0]
    return float(d.min()) if d.size else math.inf


def _is_float(x):
    dtype = getattr(x, "dtype", None)   # (arrays, NumPy scalars and tracers have one)
    return (dtype if dtype is not None else np.asarray(x).dtype).kind == "f"


def margin_zero(x, *rest, **params):
    return _positive_min(x) if _is_float(x) else math.inf


def margin_integer(x, *rest, **params):   # floor, ceil, trunc, float -> int
    if not _is_float(x):
        return math.inf
    x = np.asarray(x, np.float64)
    return _positive_min(np.minimum(x - np.floor(x), np.ceil(x) - x))


def margin_half(x, *rest, **params):   # round half to even: jumps at half-integers
    if not _is_float(x):
        return math.inf
    x = np.asarray(x, np.float64)
    return _positive_min(x - np.floor(x) - 0.5)


def margin_tie(x, y, *rest, **params):   # max, min, comparisons
    if not _is_float(x):
        return math.inf
    return _positive_min(np.subtract(x, y, dtype=np.float64))


def margin_rem(x, y, *rest, **params):   # rem, floor_div: jumps where x / y is an integer
    if not _is_float(x):
        return math.inf
    q = np.divide(x, y, dtype=np.float64)
    return _positive_min(np.minimum(q - np.floor(q), np.ceil(q) - q) * np.abs(y))


def margin_hypot(x, y, out, **params):
    return float(np.min(out)) if np.size(out) else math.inf


def margin_atan2(y, x, out, **params):
    y, x = np.broadcast_arrays(np.asarray(y, np.float64), np.asarray(x, np.float64))
    d = np.where(x < 0, np.minimum(np.abs(y), np.hypot(x, y)), np.hypot(x, y))
    return float(np.min(d)) if d.size else math.inf


def _top_two_gap(x, axes, smallest):
    """The gap between the extreme and the next value in each group (the
    elements over ``axes``), exact ties allowed."""
    x = np.asarray(x, np.float64)
    kept = [i for i in range(x.ndim) if i not in axes]
    n = math.prod(x.shape[i] for i in axes)
    if n < 2:
        return math.inf
    groups = np.transpose(x, kept + list(axes)).reshape(-1, n)
    if not groups.size:
        return math.inf
    s = np.sort(groups, axis=1)
    if smallest:
        best = s[:, :1]
    else:
        best = s[:, -1:]
    d = np.abs(s - best)
    d = np.where(d == 0, np.inf, d)
    return float(np.min(d))


def margin_reduce_max(x, out, *, axes):
    return _top_two_gap(x, axes, False) if _is_float(x) else math.inf


def margin_reduce_min(x, out, *, axes):
    return _top_two_gap(x, axes, True) if _is_float(x) else math.inf


def margin_argmax(x, out, *, axis, index_dtype):
    return _top_two_gap(x, (axis,), False) if _is_float(x) else math.inf


def margin_argmin(x, out, *, axis, index_dtype):
    return _top_two_gap(x, (axis,), True) if _is_float(x) else math.inf


def margin_sort(keys, *rest, axis):
    if not _is_float(keys):
        return math.inf
    s = np.sort(np.asarray(keys, np.float64), axis=axis)
    return _positive_min(np.diff(s, axis=axis))


def margin_scatter_extremum(operand, indices, updates, out, *, axis):
    # every contender at a position (the operand's element, the updates sent
    # there) against the result there: the winner must be clear
    if not _is_float(operand):
        return math.inf
    out_at = np.take(out, indices, axis=axis)
    return min(_positive_min(np.subtract(operand, out, dtype=np.float64)),
               _positive_min(np.subtract(updates, out_at, dtype=np.float64)))


# -- the builder -----------------------------------------------------------------
FLOAT_LITERALS = [0.5, -1.5, 2.0, 0.25, -0.75, 3.0, 1.25]


def _iv(f, lo, hi):
    a, b = f(lo), f(hi)
    return (min(a, b), max(a, b))


def _mul_iv(a, b):
    c = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]]
    return (min(c), max(c))


def _numpy_broadcast(shape, target):
    """broadcast_dimensions that put ``shape`` at the end of ``target``."""
    return tuple(range(len(target) - len(shape), len(target)))


class Builder:
    def __init__(self, draw_int, dtype=np.float64):
        self.draw_int = draw_int      # draw_int(lo, hi): an integer in [lo, hi]
        self.empty = False            # whether new inputs may be empty arrays
        self.forward_only = False     # whether the program has a while loop
        self.reverse_only = False     # whether it has a custom_vjp function
        self.dtype = np.dtype(dtype)
        self.vals: list[Val] = []
        self.inputs: list[Val] = []
        self.nodes: list[Node] = []

    # -- drawing ----------------------------------------------------------------
    def integer(self, lo, hi):
        return self.draw_int(lo, hi)

    def choice(self, seq):
        seq = list(seq)
        return seq[self.integer(0, len(seq) - 1)]

    def coin(self, p_in_10=5):
        """True with probability p_in_10 / 10 (shrinking to False)."""
        return self.integer(0, 9) >= 10 - p_in_10

    def shape(self, max_rank=3, max_size=24):
        rank = self.integer(0, max_rank)
        dims = []
        for _ in range(rank):
            dims.append(self.integer(1, 4))
        while math.prod(dims) > max_size:
            dims[dims.index(max(dims))] -= 1
        return tuple(dims)

    def subset(self, seq):
        return tuple(x for x in seq if self.coin())

    def permutation(self, n):
        items = list(range(n))
        out = []
        while items:
            out.append(items.pop(self.integer(0, len(items) - 1)))
        return tuple(out)

    def lit(self, value, dtype=None):
        return Lit(np.asarray(value, dtype or self.dtype)[()])

    # -- values -------------------------------------------------------------------
    def _new_val(self, shape, dtype, lo, hi, is_input=False):
        v = Val(len(self.vals), shape, dtype, lo, hi, is_input)
        self.vals.append(v)
        return v

    def new_input(self, shape=None, kind="f", lo=None, hi=None, dtype=None):
        if shape is None:
            shape = self.shape()
            if self.empty and shape and self.coin(3):   # an axis of size 0
                shape = tuple(0 if i == self.integer(0, len(shape) - 1) else d
                              for i, d in enumerate(shape))
        shape = tuple(shape)
        if kind == "f":
            dtype = dtype or self.dtype
            if lo is None:
                lo, hi = self.choice([(-1.5, 1.5), (0.5, 2.0), (-2.0, 0.5)])
        elif kind == "i":
            dtype = dtype or np.int64
            if lo is None:
                lo, hi = -3, 3
        else:
            dtype, lo, hi = np.bool_, 0, 1
        v = self._new_val(shape, dtype, lo, hi, is_input=True)
        self.inputs.append(v)
        return v

    def emit(self, name, args, params=None, bounds=None, margin=None):
        """Append ``bind(name, *args, **params)``; ``bounds``: the output's
        interval (a list of them for several outputs)."""
        params = params or {}
        prim = PRIMS[name]
        assert any(type(a) is Val for a in args), f"{name}: no traced operand"
        out = prim.shape_rule(*[a.aval() for a in args], **params)
        outs = list(out) if prim.multiple_results else [out]
        if not prim.multiple_results:
            bounds = [bounds]
        vals = []
        for aval, b in zip(outs, bounds):
            if aval.dtype == np.bool_:
                b = (0, 1)
            assert b is not None, name
            lo, hi = b
            if aval.dtype.kind == "f":
                assert -LIMIT * 1.01 <= lo <= hi <= LIMIT * 1.01, (name, b)
            elif aval.dtype.kind in "iu":
                assert -INT_LIMIT * 1.01 <= lo <= hi <= INT_LIMIT * 1.01, (name, b)
            assert math.prod(aval.shape) <= MAX_SIZE * 4, (name, aval)
            vals.append(self._new_val(aval.shape, aval.dtype, lo, hi))
        for a in args:
            if type(a) is Val:
                a.uses += 1
        self.nodes.append(Node(name, list(args), params, vals, margin))
        return vals if prim.multiple_results else vals[0]

    def emit_call(self, name, args, call, src, bounds, margin=None, forward_only=False,
                  reverse_only=False):
        """Append a call of the control-flow API (see ``Node``); ``bounds``:
        one interval per output."""
        vals = [a for a in args if type(a) is Val]
        assert vals, f"{name}: no traced operand"

        def traced(*xs):
            it = iter(xs)
            return call(*[next(it) if type(a) is Val else a.value for a in args])
        closed = cr.make_ir(traced)(*[np.zeros(v.shape, v.dtype)[()] for v in vals])
        assert name in {e.primitive.name for e in closed.eqns}, (name, str(closed))
        outs = []
        for aval, b in zip(closed.out_avals, bounds):
            b = (0, 1) if aval.dtype == np.bool_ else b
            assert -LIMIT * 1.01 <= b[0] <= b[1] <= LIMIT * 1.01, (name, b)
            outs.append(self._new_val(aval.shape, aval.dtype, *b))
        assert len(outs) == len(closed.out_avals) == len(bounds)
        for a in vals:
            a.uses += 1
        self.nodes.append(Node(name, list(args), {}, outs, margin, call, src))
        self.forward_only |= forward_only
        self.reverse_only |= reverse_only
        return outs

    def pick(self, kind="f", pred=None, dtype=None, make=True):
        """A value of ``kind`` from the program so far (an unused one with
        probability 1/2, the most recent first), or a new one."""
        if kind == "f":
            dtype = self.dtype
        ok = [v for v in self.vals if v.kind == kind and not v.hidden
              and (dtype is None or v.dtype == dtype)
              and (pred is None or pred(v))]
        if ok:
            unused = [v for v in ok if v.uses == 0]
            pool = unused if unused and self.coin() else ok
            return pool[::-1][self.integer(0, len(pool) - 1)]
        if not make:
            return None
        v = self.make(kind, dtype)
        if pred is None or pred(v):
            return v
        for _ in range(50):   # a shape the caller accepts
            shape = self.shape(max_rank=3, max_size=12) or (1,)
            if pred(Val(-1, shape, v.dtype, v.lo, v.hi)):
                return self.fit(v, shape)
        raise AssertionError("no shape satisfies the predicate")

    def make(self, kind, dtype=None, shape=None):
        """A new value of ``kind``: an input, or for integers and booleans
        something computed from floats."""
        if kind == "f":
            return self.new_input(shape)
        if kind == "i":
            way = self.integer(0, 2)
            if way == 0 or dtype not in (None, np.int64):
                return self.new_input(shape, "i", dtype=dtype)
            x = self.pick("f", lambda v: v.ndim >= 1 and v.size > 0)
            if way == 1:
                axis = self.integer(0, x.ndim - 1)
                return self.emit("argmax", [x], dict(axis=axis, index_dtype=np.dtype(np.int64)),
                                 (0, x.shape[axis] - 1), margin_argmax)
            return self.convert(x, np.dtype(np.int64))
        x = self.pick("f")
        y = self.operand_like(x, "f")
        x, y = self.align(x, y)
        return self.emit(self.choice(["lt", "gt", "le", "ge"]), [x, y], margin=margin_tie)

    # -- keeping values in range ----------------------------------------------------
    def affine(self, v, a, b):
        """a * v + b with literals (either step skipped when trivial)."""
        if a != 1:
            v = self.emit("mul", [v, self.lit(a)], bounds=_mul_iv((v.lo, v.hi), (a, a)))
        if b != 0:
            v = self.emit("add", [v, self.lit(b)], bounds=(v.lo + b, v.hi + b))
        return v

    def squash(self, v, m):
        """``v`` mapped into [-m, m] by a smooth bounded function (of ``v``
        scaled to a few units first, so that no slope grows by more than a
        few) or a scaling."""
        way = self.integer(0, 4)
        if way == 0 or v.bound == 0:
            return self.affine(v, m / v.bound if v.bound > 0 else 1.0, 0.0)
        c = self.choice([1.0, 2.0, 3.0])
        if v.bound > c:
            v = self.affine(v, c / v.bound, 0.0)
        if way == 1:
            t = self.emit("tanh", [v], bounds=_iv(math.tanh, v.lo, v.hi))
            return self.affine(t, m, 0.0)
        if way == 2:
            t = self.emit("sin", [v], bounds=_sin_iv(v.lo, v.hi))
            return self.affine(t, m, 0.0)
        if way == 3:
            t = self.emit("atan", [v], bounds=_iv(math.atan, v.lo, v.hi))
            return self.affine(t, m / (math.pi / 2), 0.0)
        t = self.emit("logistic", [v], bounds=_iv(_logistic, v.lo, v.hi))
        return self.affine(self.affine(t, 1.0, -0.5), 2 * m, 0.0)

    def bounded(self, v, m):
        """``v`` if it lies within [-m, m], else squashed there."""
        if v.kind != "f":
            return self.int_bounded(v, int(m)) if v.kind == "i" else v
        return v if v.bound <= m else self.squash(v, m)

    def int_bounded(self, v, m):
        if v.bound <= m:
            return v
        n = max(2, m)
        return self.emit("rem", [v, self.lit(n, v.dtype)], bounds=(0, n - 1))

    def at_least(self, v, a):
        """``v`` mapped into [a, a + ~8]."""
        if v.lo >= a and v.hi <= a + 10:
            return v
        way = self.integer(0, 4)
        if way == 0:
            s = self.bounded(v, 2.0)
            e = self.emit("exp", [s], bounds=_iv(math.exp, s.lo, s.hi))
            return self.affine(e, 1.0, a)
        if way == 1:
            s = self.bounded(v, 2.0)
            sq = self.emit("integer_pow", [s], dict(y=2),
                           bounds=(0.0 if s.lo <= 0 <= s.hi else min(s.lo ** 2, s.hi ** 2),
                                   max(s.lo ** 2, s.hi ** 2)))
            return self.affine(sq, 1.0, a)
        if way == 2:
            s = self.emit("logistic", [v], bounds=_iv(_logistic, v.lo, v.hi))
            return self.affine(s, 1.0, a)
        if way == 3:
            s = self.bounded(v, 2.0)
            c = self.emit("cosh", [s], bounds=(1.0 if s.lo <= 0 <= s.hi else
                                               min(math.cosh(s.lo), math.cosh(s.hi)),
                                               max(math.cosh(s.lo), math.cosh(s.hi))))
            return self.affine(c, 1.0, a - 1.0)
        s = self.bounded(v, 5.0)
        h = self.emit("hypot", [s, self.lit(1.0)],
                      bounds=(1.0, math.hypot(s.bound, 1.0)), margin=margin_hypot)
        return self.affine(h, 1.0, a - 1.0)

    def into(self, v, lo, hi):
        """``v`` mapped into [lo, hi] (finite)."""
        if v.lo >= lo and v.hi <= hi:
            return v
        s = self.squash(v, 1.0)
        return self.affine(s, (hi - lo) / 2, (hi + lo) / 2)

    def away_from_zero(self, v, a, m=10.0):
        """``v`` mapped to magnitudes in [a, m], of one sign."""
        if (a <= v.lo and v.hi <= m) or (-m <= v.lo and v.hi <= -a):
            return v
        p = self.at_least(v, a)
        if p.hi > m:
            p = self.into(p, a, m)
        if self.coin(3):
            p = self.emit("neg", [p], bounds=(-p.hi, -p.lo))
        return p

    # -- shapes -----------------------------------------------------------------------
    def reshape(self, v, shape):
        shape = tuple(shape)
        if shape == v.shape:
            return v
        return self.emit("reshape", [v], dict(shape=shape), (v.lo, v.hi))

    def fit(self, v, shape):
        """A value of exactly ``shape`` made from ``v`` (reshape, slice, broadcast)."""
        shape = tuple(shape)
        size = math.prod(shape)
        if v.shape == shape:
            return v
        if v.size == size:
            return self.reshape(v, shape)
        if v.size == 0:   # nothing to make it from: a new input
            return self.new_input(shape, v.kind, v.lo, v.hi, v.dtype)
        if size == 0:     # one element, broadcast to the empty shape
            return self.emit("broadcast_in_dim", [self.fit(v, ())],
                             dict(shape=shape, broadcast_dimensions=()), (v.lo, v.hi))
        if v.ndim == 0:
            return self.emit("broadcast_in_dim", [v], dict(shape=shape, broadcast_dimensions=()),
                             (v.lo, v.hi))
        flat = self.reshape(v, (v.size,))
        if v.size > size:
            stride = self.integer(1, max(1, (v.size - 1) // max(1, size - 1))) if size > 1 else 1
            start = self.integer(0, v.size - 1 - (size - 1) * stride)
            limit = start + (size - 1) * stride + 1
            flat = self.emit("slice", [flat], dict(start_indices=(start,), limit_indices=(limit,),
                                                   strides=(stride,)), (v.lo, v.hi))
        else:
            r = -(-size // v.size)
            if self.coin():
                tiled = self.emit("broadcast_in_dim", [flat],
                                  dict(shape=(r, v.size), broadcast_dimensions=(1,)),
                                  (v.lo, v.hi))
            else:
                tiled = self.emit("broadcast_in_dim", [flat],
                                  dict(shape=(v.size, r), broadcast_dimensions=(0,)),
                                  (v.lo, v.hi))
            flat = self.reshape(tiled, (r * v.size,))
            if r * v.size > size:
                flat = self.emit("slice", [flat], dict(start_indices=(0,), limit_indices=(size,),
                                                       strides=(1,)), (v.lo, v.hi))
        return self.reshape(flat, shape)

    def operand_like(self, x, kind=None, allow_literal=True):
        """A second operand for an elementwise operation with ``x``: a value of
        a broadcast-compatible shape, or a literal."""
        kind = kind or x.kind
        if allow_literal and self.coin(2):
            if kind == "f":
                return self.lit(self.choice(FLOAT_LITERALS))
            if kind == "i":
                return self.lit(self.integer(-3, 3), x.dtype)
            return self.lit(self.coin(), np.bool_)

        def compatible(v):
            try:
                s = np.broadcast_shapes(v.shape, x.shape)
            except ValueError:
                return False
            return math.prod(s) <= MAX_SIZE
        y = self.pick(kind, compatible, dtype=x.dtype if kind != "f" else None, make=False)
        if y is None:
            if kind == "f":
                shape = self.choice([x.shape, (), x.shape[1:],
                                     tuple(1 if self.coin() else d for d in x.shape)])
                y = self.new_input(shape)
            else:
                y = self.fit(self.pick(kind, dtype=x.dtype), ())
        return y

    def align(self, *xs):
        """The operands broadcast to one shape, NumPy's way (a 0-d value may
        stay 0-d)."""
        shape = np.broadcast_shapes(*[a.aval().shape for a in xs])
        out = []
        for a in xs:
            s = a.aval().shape
            if s == shape or (s == () and (type(a) is Lit or self.coin())):
                out.append(a)
            else:
                dims = _numpy_broadcast(s, shape)
                out.append(self.emit("broadcast_in_dim", [a],
                                     dict(shape=shape, broadcast_dimensions=dims), (a.lo, a.hi)))
        return out

    def convert(self, x, dtype):
        dtype = np.dtype(dtype)
        if dtype.kind == "f":
            x = self.int_bounded(x, 100) if x.kind == "i" else x
            return self.emit("convert_element_type", [x], dict(new_dtype=dtype), (x.lo, x.hi))
        if dtype == np.bool_:
            return self.emit("convert_element_type", [x], dict(new_dtype=dtype),
                             margin=margin_zero)
        if x.kind == "f":
            x = self.bounded(x, 20.0)
            return self.emit("convert_element_type", [x], dict(new_dtype=dtype),
                             (math.trunc(x.lo), math.trunc(x.hi)), margin_integer)
        return self.emit("convert_element_type", [x], dict(new_dtype=dtype),
                         (max(x.lo, -INT_LIMIT), min(x.hi, INT_LIMIT)))

    def as_float(self, v):
        if v.kind == "f":
            return v
        return self.convert(self.int_bounded(v, 100) if v.kind == "i" else v, self.dtype)

    def indices(self, n, shape):
        """In-bounds indices (from -n to n - 1) of ``shape`` for an axis of size n."""
        way = self.integer(0, 2)
        size = math.prod(shape)
        if way == 0 or n == 0:
            values = [self.integer(-n, n - 1) for _ in range(size)]
            return Const(np.array(values, np.int64).reshape(shape))
        if way == 1:
            return self.new_input(shape, "i", -n, n - 1)
        v = self.fit(self.pick("i", dtype=np.int64), shape)
        r = self.emit("rem", [v, self.lit(n, np.int64)], bounds=(0, n - 1))
        if self.coin(3):
            r = self.emit("sub", [r, self.lit(n, np.int64)], bounds=(-n, -1))
        if self.coin(3):
            r = self.emit("normalize_index", [r], dict(axis=self.integer(0, 2), size=n),
                          bounds=(0, n - 1))
        return r

    # -- the end ---------------------------------------------------------------------
    def finish(self):
        """Choose outputs among the unused values; sum the others into the
        first float output, so that every equation is live."""
        sinks = [v for v in self.vals if v.uses == 0 and not v.is_input and not v.hidden]
        sinks = sinks[::-1]
        k = self.integer(1, 3)
        outputs = sinks[:k]
        if not any(v.kind == "f" for v in outputs):
            floats = [v for v in sinks if v.kind == "f"]
            first = floats[0] if floats else self.as_float(outputs[0])
            outputs = [first] + [v for v in outputs if v is not first]
        else:
            outputs.sort(key=lambda v: v.kind != "f")
        rest = [v for v in sinks if all(v is not o for o in outputs)]
        main = outputs[0]
        for v in rest:
            v = self.as_float(v)
            if v.ndim:
                v = self.bounded(v, LIMIT / max(1, v.size))
                v = self.emit("reduce_sum", [v], dict(axes=tuple(range(v.ndim))),
                              (v.lo * v.size, v.hi * v.size))
            v = self.bounded(v, 10.0)
            main = self.bounded(main, 50.0)
            main = self.emit("add", [main, v], bounds=(main.lo + v.lo, main.hi + v.hi))
        outputs[0] = main
        return Program(self.inputs, self.nodes, outputs, self.dtype, self.forward_only,
                       self.reverse_only)


def _logistic(x):
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def _sin_iv(lo, hi):
    vals = [math.sin(lo), math.sin(hi)]
    k = math.ceil((lo - math.pi / 2) / math.pi)
    while k * math.pi + math.pi / 2 <= hi:
        vals.append(math.sin(k * math.pi + math.pi / 2))
        k += 1
    return (min(vals), max(vals))


def _cos_iv(lo, hi):
    return _sin_iv(lo + math.pi / 2, hi + math.pi / 2)


# -- one generator per primitive ---------------------------------------------------
# Each takes the builder, picks operands from the program so far (mapping
# them into the primitive's domain first) and emits the primitive, with its
# output's interval and, where it has kinks, its margin.
GENERATORS = {}


def generator(*names):
    def register(fn):
        for name in names:
            GENERATORS[name] = fn
        return fn
    return register


def _unary_float(name, domain, bounds):
    """``domain(b, x)`` maps the operand into the domain; ``bounds(lo, hi)``."""
    def gen(b):
        x = domain(b, b.pick("f"))
        return b.emit(name, [x], bounds=bounds(x.lo, x.hi))
    GENERATORS[name] = gen


def _mono(f):
    return lambda lo, hi: _iv(f, lo, hi)


def _any(b, x):
    return b.bounded(x, LIMIT)


_unary_float("sin", _any, _sin_iv)
_unary_float("cos", _any, _cos_iv)
_unary_float("tan", lambda b, x: b.into(x, -1.2, 1.2), _mono(math.tan))
_unary_float("asin", lambda b, x: b.into(x, -0.9, 0.9), _mono(math.asin))
_unary_float("acos", lambda b, x: b.into(x, -0.9, 0.9), _mono(math.acos))
_unary_float("atan", _any, _mono(math.atan))
_unary_float("atanh", lambda b, x: b.into(x, -0.9, 0.9), _mono(math.atanh))
_unary_float("sinh", lambda b, x: b.bounded(x, 3.0), _mono(math.sinh))
_unary_float("cosh", lambda b, x: b.bounded(x, 3.0),
             lambda lo, hi: (1.0 if lo <= 0 <= hi else min(math.cosh(lo), math.cosh(hi)),
                             max(math.cosh(lo), math.cosh(hi))))
_unary_float("tanh", _any, _mono(math.tanh))
_unary_float("asinh", _any, _mono(math.asinh))
_unary_float("acosh", lambda b, x: b.at_least(x, 1.2), _mono(math.acosh))
_unary_float("exp", lambda b, x: x if x.hi <= 3 else b.bounded(x, 3.0), _mono(math.exp))
_unary_float("exp2", lambda b, x: x if x.hi <= 4 else b.bounded(x, 4.0), _mono(lambda v: 2.0 ** v))
_unary_float("expm1", lambda b, x: x if x.hi <= 3 else b.bounded(x, 3.0), _mono(math.expm1))
_unary_float("log", lambda b, x: b.at_least(x, 0.2), _mono(math.log))
_unary_float("log1p", lambda b, x: b.affine(b.at_least(x, 0.2), 1.0, -1.0)
             if x.lo < -0.8 else x, _mono(math.log1p))
_unary_float("sqrt", lambda b, x: b.at_least(x, 0.2), _mono(math.sqrt))
_unary_float("cbrt", lambda b, x: b.away_from_zero(x, 0.3), _mono(np.cbrt))
_unary_float("logistic", _any, _mono(_logistic))


# special functions: the gamma family on [0.5, ~8], the inverses inside (0, 1)
_unary_float("lgamma", lambda b, x: b.at_least(x, 0.5), lambda lo, hi: (-0.2, max(
    math.lgamma(lo), math.lgamma(hi), 0.0)))
_unary_float("gamma", lambda b, x: b.into(x, 0.5, 4.0), lambda lo, hi: (0.88, max(
    math.gamma(lo), math.gamma(hi))))
_unary_float("digamma", lambda b, x: b.into(x, 0.5, 6.0), lambda lo, hi: (-2.0, 1.8))
_unary_float("erf", _any, _mono(math.erf))
_unary_float("erfc", _any, _mono(math.erfc))
_unary_float("erf_inv", lambda b, x: b.into(x, -0.9, 0.9), lambda lo, hi: (-1.17, 1.17))
_unary_float("ndtri", lambda b, x: b.into(x, 0.1, 0.9), lambda lo, hi: (-1.29, 1.29))
_unary_float("log_ndtr", lambda b, x: b.bounded(x, 5.0), lambda lo, hi: (
    math.log(0.5 * math.erfc(-lo / math.sqrt(2))), 0.0))
_unary_float("i0e", _any, lambda lo, hi: (0.0, 1.0))
_unary_float("i1e", _any, lambda lo, hi: (-0.3, 0.3))


@generator("polygamma")
def gen_polygamma(b):
    x = b.into(b.pick("f"), 0.5, 6.0)
    return b.emit("polygamma", [x], dict(n=1), bounds=(0.18, 4.94))


def gen_xlogy(b, name):
    x, y = _binary_operands(b, "f", 5.0, 5.0, y_domain=lambda v: v)
    if type(y) is Val:
        y = b.into(y, 0.5, 4.0)
    else:
        y = Lit(np.asarray(min(4.0, max(0.5, abs(float(y.value)))), b.dtype)[()])
    bx = _bounds(x)
    m = max(abs(bx[0]), abs(bx[1])) * math.log1p(4.0)
    return _emit_binary(b, name, x, y, lambda p, q: (-m, m), swap=False)


GENERATORS["xlogy"] = lambda b: gen_xlogy(b, "xlogy")
GENERATORS["xlog1py"] = lambda b: gen_xlogy(b, "xlog1py")


@generator("neg")
def gen_neg(b):
    x = b.pick(b.choice("ffi"))
    return b.emit("neg", [x], bounds=(-x.hi, -x.lo))


@generator("abs")
def gen_abs(b):
    x = b.pick(b.choice("ffi"))
    lo = 0.0 if x.lo <= 0 <= x.hi else min(abs(x.lo), abs(x.hi))
    return b.emit("abs", [x], bounds=(lo, x.bound), margin=margin_zero)


@generator("sign")
def gen_sign(b):
    x = b.pick(b.choice("ffi"))
    return b.emit("sign", [x], bounds=(-1, 1), margin=margin_zero)


def gen_rounding(b, name):
    x = b.pick(b.choice("ffi"))
    if x.kind == "i":
        return b.emit(name, [x], bounds=(x.lo, x.hi))
    x = b.bounded(x, 20.0)
    return b.emit(name, [x], bounds=(math.floor(x.lo), math.ceil(x.hi)),
                  margin=margin_half if name == "round" else margin_integer)


for _name in ("floor", "ceil", "round", "trunc"):
    GENERATORS[_name] = (lambda n: lambda b: gen_rounding(b, n))(_name)


@generator("stop_gradient")
def gen_stop_gradient(b):
    # a value whose derivative is truly zero: x - sg(m) + sg(m) is x, and
    # (x / sg(m)) * sg(m) is x too, whatever m is.  The values in between
    # (sg(m), x - sg(m), ...) have a derivative that is not the true one, and
    # are not used again.
    if b.coin(2):
        return _int_stop_gradient(b)
    x = b.bounded(b.pick("f"), 20.0)
    m = b.operand_like(x, "f", allow_literal=False)
    if b.coin():
        m = b.bounded(m, 20.0)
        s = _hide(b.emit("stop_gradient", [m], bounds=(m.lo, m.hi)))
        x2, s2 = map(_hide, b.align(x, s))
        d = _hide(b.emit("sub", [x2, s2], bounds=(x.lo - s.hi, x.hi - s.lo)))
        d, s3 = map(_hide, b.align(d, s))
        return b.emit("add", [d, s3], bounds=(x.lo - 1e-9, x.hi + 1e-9))
    m = b.away_from_zero(m, 0.5, 4.0)
    s = _hide(b.emit("stop_gradient", [m], bounds=(m.lo, m.hi)))
    x2, s2 = map(_hide, b.align(x, s))
    q = _hide(b.emit("div", [x2, s2], bounds=(-x.bound / 0.5, x.bound / 0.5)))
    q, s3 = map(_hide, b.align(q, s))
    slack = 1e-9 * (1 + x.bound)
    return b.emit("mul", [q, s3], bounds=(x.lo - slack, x.hi + slack))


def _hide(v):
    if type(v) is Val and not v.is_input and v.uses == 0:
        v.hidden = True
    return v


def _int_stop_gradient(b):
    x = b.pick("i")
    return b.emit("stop_gradient", [x], bounds=(x.lo, x.hi))


@generator("signbit")
def gen_signbit(b):
    return b.emit("signbit", [b.pick("f")], margin=margin_zero)


def _binary_operands(b, kind, mx, my=None, y_domain=None):
    """Operands of an elementwise binary primitive, bounded by ``mx``/``my``;
    either may be a literal (never both), in either order."""
    x = b.bounded(b.pick(kind), mx)
    y = b.operand_like(x)
    if type(y) is Val:
        y = b.bounded(y, my or mx)
    elif kind == "f":
        y = Lit(np.asarray(max(-(my or mx), min(my or mx, float(y.value))), b.dtype)[()])
    if y_domain is not None:
        y = y_domain(y)
    return x, y


def _bounds(a):
    if type(a) is Lit:
        v = float(a.value)
        return (v, v)
    return (a.lo, a.hi)


def _emit_binary(b, name, x, y, bounds, margin=None, swap=True):
    if swap and b.coin():
        x, y = y, x
    xs = b.align(x, y)
    return b.emit(name, xs, bounds=bounds(_bounds(x), _bounds(y)), margin=margin)


def gen_add_sub(b, name):
    kind = b.choice("ffi")
    m = LIMIT / 2 if kind == "f" else INT_LIMIT // 2
    x, y = _binary_operands(b, kind, m)
    return _emit_binary(b, name, x, y, (lambda p, q: (p[0] + q[0], p[1] + q[1])) if name == "add"
                        else (lambda p, q: (p[0] - q[1], p[1] - q[0])))


GENERATORS["add"] = lambda b: gen_add_sub(b, "add")
GENERATORS["sub"] = lambda b: gen_add_sub(b, "sub")


@generator("mul")
def gen_mul(b):
    kind = b.choice("ffi")
    m = math.sqrt(LIMIT) if kind == "f" else 30
    x, y = _binary_operands(b, kind, m)
    return _emit_binary(b, "mul", x, y, _mul_iv)


def _denominator(b):
    def domain(y):
        if type(y) is Lit:
            v = float(y.value)
            return y if abs(v) >= 0.5 else b.lit(2.0)
        return b.away_from_zero(y, 0.5, 10.0)
    return domain


def _div_iv(p, q):
    c = [p[0] / q[0], p[0] / q[1], p[1] / q[0], p[1] / q[1]]
    return (min(c), max(c))


@generator("div")
def gen_div(b):
    x, y = _binary_operands(b, "f", 10.0, 10.0, _denominator(b))
    return _emit_binary(b, "div", x, y, _div_iv, swap=False)


def gen_rem_floor_div(b, name):
    kind = b.choice("ffi")
    if kind == "f":
        x, y = _binary_operands(b, "f", 10.0, 5.0, _denominator(b))
        if name == "rem":
            m = max(abs(v) for v in _bounds(y))
            bounds = (-m, m)
        else:
            q = _div_iv(_bounds(x), _bounds(y))
            bounds = (math.floor(q[0]), math.ceil(q[1]))
        xs = b.align(x, y)
        return b.emit(name, xs, bounds=bounds, margin=margin_rem)
    x = b.int_bounded(b.pick("i"), 100)
    if b.coin():
        n = b.integer(1, 5)
        y = b.lit(n * (1 if b.coin(7) else -1), x.dtype)
    else:
        y = b.operand_like(x, "i", allow_literal=False)
        y = b.int_bounded(y, 100)
        # away from zero: |y| + 1
        y = b.emit("abs", [y], bounds=(0, y.bound))
        y = b.emit("add", [y, b.lit(1, y.dtype)], bounds=(1, y.hi + 1))
    m = max(abs(v) for v in _bounds(y))
    if name == "rem":
        bounds = (-m, m)
    else:
        bounds = (-x.bound - 1, x.bound + 1)
    xs = b.align(x, y)
    return b.emit(name, xs, bounds=bounds)


GENERATORS["rem"] = lambda b: gen_rem_floor_div(b, "rem")
GENERATORS["floor_div"] = lambda b: gen_rem_floor_div(b, "floor_div")


@generator("pow")
def gen_pow(b):
    if b.coin(8):
        x = b.into(b.pick("f"), 0.25, 4.0)
        y = b.operand_like(x)
        if type(y) is Lit:
            y = b.lit(max(-2.0, min(2.0, float(y.value))))
        else:
            y = b.into(y, -2.0, 2.0)
        corners = [p ** q for p in (x.lo, x.hi) for q in _bounds(y)]
        xs = b.align(x, y)
        return b.emit("pow", xs, bounds=(min(corners), max(corners)))
    x = b.int_bounded(b.pick("i"), 5)
    y = b.lit(b.integer(0, 3), x.dtype)
    m = max(1.0, x.bound) ** 3
    return b.emit("pow", [x, y], bounds=(-m, m))


def gen_max_min(b, name):
    kind = b.choice("ffi")
    x, y = _binary_operands(b, kind, LIMIT if kind == "f" else INT_LIMIT)
    f = max if name == "max" else min
    return _emit_binary(b, name, x, y, lambda p, q: (f(p[0], q[0]), f(p[1], q[1])), margin_tie)


GENERATORS["max"] = lambda b: gen_max_min(b, "max")
GENERATORS["min"] = lambda b: gen_max_min(b, "min")


@generator("logaddexp")
def gen_logaddexp(b):
    x, y = _binary_operands(b, "f", 10.0)
    return _emit_binary(b, "logaddexp", x, y, lambda p, q: (
        max(p[0], q[0]), max(p[1], q[1]) + math.log(2)))


@generator("hypot")
def gen_hypot(b):
    x, y = _binary_operands(b, "f", 10.0)
    return _emit_binary(b, "hypot", x, y, lambda p, q: (
        0.0, math.hypot(max(map(abs, p)), max(map(abs, q)))), margin_hypot)


@generator("atan2")
def gen_atan2(b):
    x, y = _binary_operands(b, "f", 10.0)
    if b.coin(4):   # a positive second operand: away from the branch cut
        y = b.at_least(y, 0.5) if type(y) is Val else b.lit(abs(float(y.value)) + 0.5)
    return _emit_binary(b, "atan2", x, y, lambda p, q: (-math.pi, math.pi), margin_atan2,
                        swap=False)


def gen_compare(b, name):
    kind = b.choice("ffib") if name in ("eq", "ne") else b.choice("ffi")
    x = b.pick(kind)
    y = b.operand_like(x)
    return _emit_binary(b, name, x, y, lambda p, q: (0, 1), margin_tie)


for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    GENERATORS[_name] = (lambda n: lambda b: gen_compare(b, n))(_name)


def gen_logic(b, name):
    kind = b.choice("bbi")
    x = b.pick(kind, dtype=np.dtype(np.bool_) if kind == "b" else np.dtype(np.int64))
    if kind == "i":
        x = b.int_bounded(x, 100)
    if name == "not":
        return b.emit("not", [x], bounds=(-x.hi - 1, -x.lo - 1) if kind == "i" else None)
    y = b.operand_like(x)
    if kind == "i" and type(y) is Val:
        y = b.int_bounded(y, 100)
    m = 128 if kind == "i" else 1
    return _emit_binary(b, name, x, y, lambda p, q: (-m, m) if kind == "i" else (0, 1))


for _name in ("not", "and", "or", "xor"):
    GENERATORS[_name] = (lambda n: lambda b: gen_logic(b, n))(_name)


@generator("integer_pow")
def gen_integer_pow(b):
    kind = b.choice("ffi")
    y = b.choice([2, 3, 0, 1, -1, -2] if kind == "f" else [2, 3, 0, 1])
    x = b.pick(kind)
    if kind == "f" and y < 0:
        x = b.away_from_zero(x, 0.5, 4.0)
    elif kind == "f":
        x = b.bounded(x, LIMIT ** (1 / max(y, 1)))
    else:
        x = b.int_bounded(x, 10)
    corners = [x.lo ** y, x.hi ** y] + ([0.0] if x.lo <= 0 <= x.hi and y > 0 else [])
    if y == 0:
        corners = [1, 1]
    return b.emit("integer_pow", [x], dict(y=y), bounds=(min(corners), max(corners)))


@generator("select")
def gen_select(b):
    # the cases: equal shapes, or either of them 0-d; the predicate: the
    # result's shape or 0-d (with two 0-d cases, any shape)
    kind = b.choice("ffi")
    x = b.pick(kind)
    if kind == "i":
        x = b.int_bounded(x, INT_LIMIT)
    y = b.operand_like(x)
    if b.coin(2):   # two literal cases: where(p, 1.0, -0.75)
        dtype = x.dtype
        x = b.lit(float(b.choice(FLOAT_LITERALS)) if kind == "f" else b.integer(-3, 3), dtype)
        y = b.lit(float(b.choice(FLOAT_LITERALS)) if kind == "f" else b.integer(-3, 3), dtype)
        cases = [x, y]
        pred_shape = b.shape()
    else:
        cases = b.align(x, y)
        out_shape = np.broadcast_shapes(*[c.aval().shape for c in cases])
        pred_shape = out_shape if b.coin(7) else ()
    if b.coin():
        cases.reverse()
    pred = b.fit(b.pick("b"), pred_shape)
    p, q = _bounds(x), _bounds(y)
    return b.emit("select", [pred] + cases, bounds=(min(p[0], q[0]), max(p[1], q[1])))


@generator("convert_element_type")
def gen_convert(b):
    way = b.integer(0, 4)
    if way == 0:
        return b.convert(b.pick("b"), b.dtype)
    if way == 1:
        return b.convert(b.int_bounded(b.pick("i"), INT_LIMIT // 10), b.dtype)
    if way == 2:
        return b.convert(b.pick("f"), np.int64)
    if way == 3:
        return b.convert(b.pick("f"), np.bool_)
    return b.convert(b.pick("f"), b.dtype)


# -- structural ---------------------------------------------------------------------
def _any_kind(b):
    return b.choice("fffib")


def _random_shape_of_size(b, size):
    if size == 1 and b.coin(3):
        return ()
    rank = b.integer(1, 3)
    if size == 0:
        zero = b.integer(0, rank - 1)
        return tuple(0 if i == zero else b.integer(1, 3) for i in range(rank))
    dims = [1] * rank
    n, p = size, 2
    while n > 1:
        while n % p:
            p += 1
        dims[b.integer(0, rank - 1)] *= p
        n //= p
    return tuple(dims)


@generator("reshape")
def gen_reshape(b):
    x = b.pick(_any_kind(b))
    shape = _random_shape_of_size(b, x.size)
    if shape == x.shape:
        shape = shape + (1,)
    return b.emit("reshape", [x], dict(shape=shape), (x.lo, x.hi))


@generator("transpose")
def gen_transpose(b):
    x = b.pick(_any_kind(b), lambda v: v.ndim >= 2)
    return b.emit("transpose", [x], dict(permutation=b.permutation(x.ndim)), (x.lo, x.hi))


@generator("broadcast_in_dim")
def gen_broadcast_in_dim(b):
    x = b.pick(_any_kind(b), lambda v: v.size <= 12)
    shape = [d if d != 1 or not b.coin(3) else b.integer(1, 3) for d in x.shape]
    dims = list(range(len(shape)))
    for _ in range(b.integer(0 if x.ndim else 1, 2)):
        pos = b.integer(0, len(shape))
        shape.insert(pos, b.integer(1, 3))
        dims = [d + 1 if d >= pos else d for d in dims]
    while math.prod(shape) > MAX_SIZE:
        i = max(range(len(shape)), key=lambda i: shape[i] if i not in dims else 0)
        if i in dims:
            break
        shape[i] = 1
    return b.emit("broadcast_in_dim", [x], dict(shape=tuple(shape),
                                                broadcast_dimensions=tuple(dims)), (x.lo, x.hi))


@generator("squeeze")
def gen_squeeze(b):
    x = b.pick(_any_kind(b), lambda v: 1 in v.shape, make=False)
    if x is None:
        y = b.pick(_any_kind(b), lambda v: v.ndim <= 3)
        x = b.emit("expand_dims", [y], dict(dimensions=(b.integer(0, y.ndim),)), (y.lo, y.hi))
    ones = [i for i, d in enumerate(x.shape) if d == 1]
    dims = tuple(i for i in ones if b.coin()) or (b.choice(ones),)
    return b.emit("squeeze", [x], dict(dimensions=dims), (x.lo, x.hi))


@generator("expand_dims")
def gen_expand_dims(b):
    x = b.pick(_any_kind(b), lambda v: v.ndim <= 3)
    k = b.integer(1, 2)
    dims = tuple(sorted(b.permutation(x.ndim + k)[:k]))
    return b.emit("expand_dims", [x], dict(dimensions=dims), (x.lo, x.hi))


@generator("concatenate")
def gen_concatenate(b):
    x = b.pick(_any_kind(b), lambda v: v.ndim >= 1 and v.size <= 24)
    axis = b.integer(0, x.ndim - 1)
    operands = [x]
    for _ in range(b.integer(1, 2)):
        if b.coin(2):
            operands.append(b.choice(operands))
            continue
        shape = list(x.shape)
        shape[axis] = b.integer(1, 3)
        off = math.prod(shape) // shape[axis]
        while sum(o.shape[axis] for o in operands) * off + math.prod(shape) > MAX_SIZE * 2 \
                and shape[axis] > 1:
            shape[axis] -= 1
        operands.append(b.fit(b.pick(x.kind, dtype=x.dtype), tuple(shape)))
    if b.coin(3):
        operands.reverse()
    return b.emit("concatenate", operands, dict(axis=axis),
                  (min(o.lo for o in operands), max(o.hi for o in operands)))


@generator("slice")
def gen_slice(b):
    x = b.pick(_any_kind(b), lambda v: v.ndim >= 1)
    starts, limits, strides = [], [], []
    for n in x.shape:
        start = b.integer(0, max(n - 1, 0))
        limit = b.integer(min(start + 1, n) if not (b.empty and b.coin(1)) else start, n)
        starts.append(start)
        limits.append(limit)
        strides.append(b.integer(1, 3))
    return b.emit("slice", [x], dict(start_indices=tuple(starts), limit_indices=tuple(limits),
                                     strides=tuple(strides)), (x.lo, x.hi))


@generator("rev")
def gen_rev(b):
    x = b.pick(_any_kind(b), lambda v: v.ndim >= 1)
    dims = b.subset(range(x.ndim)) or (b.integer(0, x.ndim - 1),)
    return b.emit("rev", [x], dict(dimensions=dims), (x.lo, x.hi))


@generator("pad")
def gen_pad(b):
    x = b.pick(b.choice("ffi"), lambda v: v.size <= 16)
    config = []
    for n in x.shape:
        config.append((b.integer(0, 2), b.integer(0, 2), b.integer(0, 2) if n > 1 else 0))
    while math.prod(lo + hi + n + max(0, n - 1) * i
                    for n, (lo, hi, i) in zip(x.shape, config)) > MAX_SIZE * 2:
        config = [(lo // 2, hi // 2, i // 2) for lo, hi, i in config]
    if b.coin(4):
        value = b.fit(b.bounded(b.pick(x.kind, dtype=x.dtype if x.kind != "f" else None),
                                x.bound if x.kind == "f" else INT_LIMIT), ())
    elif x.kind == "f":
        value = b.lit(b.choice([0.0] + FLOAT_LITERALS))
    else:
        value = b.lit(b.integer(-3, 3), x.dtype)
    vb = _bounds(value)
    return b.emit("pad", [x, value], dict(padding_config=tuple(config)),
                  (min(x.lo, vb[0]), max(x.hi, vb[1])))


# -- cumulative, reductions ----------------------------------------------------------
@generator("cumsum")
def gen_cumsum(b):
    x = b.pick(b.choice("ffi"), lambda v: v.ndim >= 1)
    axis = b.integer(0, x.ndim - 1)
    n = max(1, x.shape[axis])
    x = b.bounded(x, (LIMIT if x.kind == "f" else INT_LIMIT) / n)
    lo, hi = min(x.lo, n * x.lo), max(x.hi, n * x.hi)
    return b.emit("cumsum", [x], dict(axis=axis, reverse=b.coin()), (lo, hi))


def _product_bound(b, x, n, prefixes=False):
    """``x`` bounded so that products of ``n`` of its elements (of 1 to n,
    with ``prefixes``) stay in range, and their interval."""
    m = (LIMIT if x.kind == "f" else 50) ** (1 / n)
    if x.kind == "i":
        m = max(1, int(m))
    x = b.bounded(x, m)
    mm = max(x.bound ** n, x.bound) if prefixes else x.bound ** n
    lo = 0.0 if x.lo >= 0 else -mm
    return x, (min(lo, 1.0), max(mm, 1.0))


@generator("cumprod")
def gen_cumprod(b):
    x = b.pick(b.choice("ffi"), lambda v: v.ndim >= 1)
    axis = b.integer(0, x.ndim - 1)
    x, bounds = _product_bound(b, x, max(1, x.shape[axis]), prefixes=True)
    return b.emit("cumprod", [x], dict(axis=axis), bounds)


def _axes(b, x):
    return tuple(i for i in range(x.ndim) if b.coin())


@generator("reduce_sum")
def gen_reduce_sum(b):
    x = b.pick(b.choice("ffi"))
    axes = _axes(b, x)
    n = math.prod(x.shape[i] for i in axes)   # (the sum of no elements is 0)
    x = b.bounded(x, (LIMIT if x.kind == "f" else INT_LIMIT) / max(1, n))
    return b.emit("reduce_sum", [x], dict(axes=axes), (n * x.lo, n * x.hi))


@generator("reduce_prod")
def gen_reduce_prod(b):
    x = b.pick(b.choice("ffi"))
    axes = _axes(b, x)
    x, bounds = _product_bound(b, x, max(1, math.prod(x.shape[i] for i in axes)))
    return b.emit("reduce_prod", [x], dict(axes=axes), bounds)


def gen_reduce_extremum(b, name):
    x = b.pick(b.choice("ffi"))
    nonempty = [i for i in b.permutation(x.ndim) if x.shape[i]]   # (the maximum of nothing)
    axes = nonempty[:b.integer(0, len(nonempty))]
    return b.emit(name, [x], dict(axes=tuple(axes)), (x.lo, x.hi),
                  margin_reduce_max if name == "reduce_max" else margin_reduce_min)


GENERATORS["reduce_max"] = lambda b: gen_reduce_extremum(b, "reduce_max")
GENERATORS["reduce_min"] = lambda b: gen_reduce_extremum(b, "reduce_min")


def gen_arg(b, name):
    x = b.pick(b.choice("ffi"), lambda v: any(v.shape))
    axis = b.choice([i for i, d in enumerate(x.shape) if d])
    dtype = np.dtype(np.int64 if b.coin(8) else np.int32)
    return b.emit(name, [x], dict(axis=axis, index_dtype=dtype), (0, x.shape[axis] - 1),
                  margin_argmax if name == "argmax" else margin_argmin)


GENERATORS["argmax"] = lambda b: gen_arg(b, "argmax")
GENERATORS["argmin"] = lambda b: gen_arg(b, "argmin")


# -- indexing -------------------------------------------------------------------------
@generator("gather")
def gen_gather(b):
    x = b.pick(_any_kind(b), lambda v: v.ndim >= 1)
    axis = b.integer(0, x.ndim - 1)
    rest = max(1, math.prod(d for i, d in enumerate(x.shape) if i != axis))
    shape = _index_shape(b, x.shape[axis], MAX_SIZE // rest)
    idx = b.indices(x.shape[axis], shape)
    if b.coin(2) and type(idx) is Val:   # indices of another integer dtype
        idx = b.convert(idx, np.int32)
    return b.emit("gather", [x, idx], dict(axis=axis), (x.lo, x.hi))


def _index_shape(b, n, max_size):
    """The shape of indices into an axis of size ``n`` (empty if n is 0)."""
    shape = b.shape(max_rank=2, max_size=max(1, max_size))
    if (n == 0 or (b.empty and b.coin(1))) and 0 not in shape:
        shape = shape + (0,) if not shape or b.coin() else (0,) + shape[1:]
    return shape


def gen_scatter(b, name):
    kind = b.choice("ffi")
    x = b.pick(kind, lambda v: v.ndim >= 1)
    if kind == "i":
        x = b.int_bounded(x, 100)
    axis = b.integer(0, x.ndim - 1)
    rest = max(1, math.prod(d for i, d in enumerate(x.shape) if i != axis))
    shape = _index_shape(b, x.shape[axis], 24 // rest)
    idx = b.indices(x.shape[axis], shape)
    ushape = x.shape[:axis] + shape + x.shape[axis + 1:]
    u = b.fit(b.pick(kind, dtype=x.dtype if kind != "f" else None), ushape)
    k = max(1, math.prod(shape)) if name == "scatter_add" else 1   # updates at one place
    if kind == "f":
        u = b.bounded(u, 40.0 / k)
        x = b.bounded(x, 10.0)
    else:
        u = b.int_bounded(u, max(1, 400 // k))
    if name == "scatter_add":
        bounds = (min(x.lo, 0) + k * min(u.lo, 0), max(x.hi, 0) + k * max(u.hi, 0))
    else:
        bounds = (min(x.lo, u.lo), max(x.hi, u.hi))
    margin = margin_scatter_extremum if name in ("scatter_min", "scatter_max") else None
    return b.emit(name, [x, idx, u], dict(axis=axis), bounds, margin)


for _name in ("scatter", "scatter_add", "scatter_min", "scatter_max"):
    GENERATORS[_name] = (lambda n: lambda b: gen_scatter(b, n))(_name)


@generator("normalize_index")
def gen_normalize_index(b):
    n = b.integer(1, 5)
    x = b.pick("i", dtype=np.dtype(b.choice([np.int64, np.int64, np.int32])))
    if x.lo < -n or x.hi > n - 1:
        x = b.emit("rem", [x, b.lit(2 * n, x.dtype)], bounds=(0, 2 * n - 1))
        x = b.emit("sub", [x, b.lit(n, x.dtype)], bounds=(-n, n - 1))
    return b.emit("normalize_index", [x], dict(axis=b.integer(0, 2), size=n), bounds=(0, n - 1))


# -- contraction ------------------------------------------------------------------------
@generator("dot_general")
def gen_dot_general(b):
    kind = "f" if b.coin(8) else "i"
    x = b.pick(kind, lambda v: v.ndim >= 1)
    if b.coin(2):
        y = Const(np.random.default_rng(b.integer(0, 99)).uniform(-1, 1, b.shape(max_rank=2))
                  .astype(b.dtype)) if kind == "f" else None
    else:
        y = None
    if y is None:
        y = x if b.coin(2) else b.pick(kind, dtype=x.dtype if kind != "f" else None)
    ys = y.aval().shape
    pairs = [(i, j) for i in range(x.ndim) for j in range(len(ys)) if x.shape[i] == ys[j]]
    lc, rc, lb, rb = [], [], [], []
    for i, j in pairs:
        if i in lc + lb or j in rc + rb:
            continue
        r = b.integer(0, 3)
        if r == 1:
            lc.append(i)
            rc.append(j)
        elif r == 2:
            lb.append(i)
            rb.append(j)
    free_l = [d for i, d in enumerate(x.shape) if i not in lc + lb]
    free_r = [d for j, d in enumerate(ys) if j not in rc + rb]
    out_size = math.prod([x.shape[i] for i in lb]) * math.prod(free_l) * math.prod(free_r)
    if out_size > MAX_SIZE or len(lb) + len(free_l) + len(free_r) > 4:
        # too big: contract everything that matches instead
        lc, rc, lb, rb = [], [], [], []
        for i, j in pairs:
            if i not in lc and j not in rc:
                lc.append(i)
                rc.append(j)
        free_l = [d for i, d in enumerate(x.shape) if i not in lc]
        free_r = [d for j, d in enumerate(ys) if j not in rc]
        if math.prod(free_l) * math.prod(free_r) > MAX_SIZE or len(free_l) + len(free_r) > 4:
            y = b.fit(y if type(y) is Val else x, ())   # a scalar product
            ys, lc, rc = (), [], []
    k = math.prod(x.shape[i] for i in lc)
    if kind == "f":
        m = math.sqrt(LIMIT / 2 / max(k, 1))
        x = b.bounded(x, m)
        if type(y) is Val:
            y = b.bounded(y, m)
        my = float(np.max(np.abs(y.value))) if type(y) is Const and y.value.size else \
            (y.bound if type(y) is Val else 0.0)
        bound = k * x.bound * my
    else:
        m = max(1, int(math.sqrt(INT_LIMIT / max(k, 1))))
        x = b.int_bounded(x, m)
        y = b.int_bounded(y, m)
        bound = k * x.bound * y.bound
    dn = ((tuple(lc), tuple(rc)), (tuple(lb), tuple(rb)))
    return b.emit("dot_general", [x, y], dict(dimension_numbers=dn), (-bound, bound))


# -- sorting ------------------------------------------------------------------------------
@generator("sort")
def gen_sort(b):
    keys = b.pick(b.choice("ffi"), lambda v: v.ndim >= 1)
    axis = b.integer(0, keys.ndim - 1)
    operands = [keys]
    for _ in range(b.integer(0, 2)):
        if b.coin(3):   # the positions: sort then carries argsort along
            n = keys.shape[axis]
            iota = np.broadcast_to(np.arange(n).reshape((n,) + (1,) * (keys.ndim - axis - 1)),
                                   keys.shape).copy()
            operands.append(Const(iota))
        else:
            operands.append(b.fit(b.pick(b.choice("ffib")), keys.shape))
    bounds = [(o.lo, o.hi) if type(o) is Val else (0, max(0, keys.shape[axis] - 1))
              for o in operands]
    return b.emit("sort", operands, dict(axis=axis), bounds, margin_sort)


# -- control flow: cond, scan, while ---------------------------------------------------------
# Their params hold bodies, so they are made by the API that traces the
# bodies (cr.cond, cr.switch, cr.scan, cr.fori_loop, cr.while_loop), with
# bodies from the small catalogues below, written both as functions and as
# source.  A body may read a value of the program from outside (hoisted into
# the equation's operands).
def _lit_src(b, value):
    return f"np.{b.dtype.name}({value!r})"


def _branches(b):
    """Unary elementwise bodies: ``(source with x and @y, function of (x, y),
    interval of the result from those of x and y)``."""
    return [
        ("bind(P['sin'], x)", lambda x, y: bind(PRIMS["sin"], x), lambda i, j: _sin_iv(*i)),
        ("bind(P['tanh'], x)", lambda x, y: bind(PRIMS["tanh"], x),
         lambda i, j: _iv(math.tanh, *i)),
        ("bind(P['mul'], x, x)", lambda x, y: bind(PRIMS["mul"], x, x),
         lambda i, j: (0.0, max(abs(i[0]), abs(i[1])) ** 2)),
        ("bind(P['neg'], x)", lambda x, y: bind(PRIMS["neg"], x), lambda i, j: (-i[1], -i[0])),
        ("bind(P['mul'], x, @y)", lambda x, y: bind(PRIMS["mul"], x, y), _mul_iv),
    ]


@generator("cond")
def gen_cond(b):
    x = b.bounded(b.pick("f"), 3.0)
    y = b.bounded(b.operand_like(x, "f", allow_literal=False), 1.0)
    if y.ndim and y.shape != x.shape:
        y = b.fit(y, x.shape)
    catalogue = _branches(b)
    switch = b.coin(4)
    k = b.integer(2, 3) if switch else 2
    bodies = [catalogue[b.integer(0, len(catalogue) - 1)] for _ in range(k)]
    uses_y = any("@y" in src for src, _, _ in bodies)
    if switch:   # an integer index, clamped into range by switch
        index = b.fit(b.int_bounded(b.pick("i", dtype=np.dtype(np.int64)), 5), ())
    else:
        index = b.fit(b.pick("b"), ())
    args = [index, x] + ([y] if uses_y else [])

    def call(index, x, y=None):
        funs = [(lambda f: lambda x: f(x, y))(f) for _, f, _ in bodies]
        if switch:
            return cr.switch(index, funs, x)
        return cr.cond(index, funs[1], funs[0], x)
    texts = [f"lambda x: {src.replace('@y', '@2')}" for src, _, _ in bodies]
    src = (f"cr.switch(@0, [{', '.join(texts)}], @1)" if switch else
           f"cr.cond(@0, {texts[1]}, {texts[0]}, @1)")
    ivs = [iv((x.lo, x.hi), (y.lo, y.hi)) for _, _, iv in bodies]
    bounds = (min(i[0] for i in ivs), max(i[1] for i in ivs))
    return b.emit_call("cond", args, call, src, [bounds])[0]


@generator("scan")
def gen_scan(b):
    half = np.asarray(0.5, b.dtype)[()]
    if b.coin(3):   # fori_loop with Python bounds: a scan of n steps
        v = b.bounded(b.pick("f"), 1.0)
        n = b.integer(0, 3)

        def call(v):
            return cr.fori_loop(0, n, lambda i, v: bind(PRIMS["tanh"], bind(
                PRIMS["add"], bind(PRIMS["mul"], v, half), half)), v)
        src = (f"cr.fori_loop(0, {n}, lambda i, v: bind(P['tanh'], bind(P['add'], bind("
               f"P['mul'], v, {_lit_src(b, 0.5)}), {_lit_src(b, 0.5)})), @0)")
        return b.emit_call("scan", [v], call, src, [(-1.0, 1.0) if n else (v.lo, v.hi)])[0]
    xs = b.bounded(b.pick("f", lambda v: v.ndim >= 1), 1.0)
    c0 = b.bounded(b.fit(b.pick("f"), xs.shape[1:]), 1.0)
    w = b.bounded(b.fit(b.pick("f"), xs.shape[1:] if b.coin() else ()), 1.0)
    reverse = b.coin(3)
    way = b.integer(0, 2)
    if way == 0:   # c' = tanh(c / 2 + x), y = c x
        def body(c, x, w):
            return (bind(PRIMS["tanh"], bind(PRIMS["add"], bind(PRIMS["mul"], c, half), x)),
                    bind(PRIMS["mul"], c, x))
        text = (f"lambda c, x: (bind(P['tanh'], bind(P['add'], bind(P['mul'], c, "
                f"{_lit_src(b, 0.5)}), x)), bind(P['mul'], c, x))")
    elif way == 1:   # c' = sin(c + x), y = tanh(c)
        def body(c, x, w):
            return bind(PRIMS["sin"], bind(PRIMS["add"], c, x)), bind(PRIMS["tanh"], c)
        text = "lambda c, x: (bind(P['sin'], bind(P['add'], c, x)), bind(P['tanh'], c))"
    else:   # c' = tanh(c w + x), y = c, with w from outside
        def body(c, x, w):
            return bind(PRIMS["tanh"], bind(PRIMS["add"], bind(PRIMS["mul"], c, w), x)), c
        text = ("lambda c, x: (bind(P['tanh'], bind(P['add'], bind(P['mul'], c, @2), x)), c)")
    args = [c0, xs] + ([w] if way == 2 else [])

    def call(c0, xs, w=None):
        return cr.scan(lambda c, x: body(c, x, w), c0, xs, reverse=reverse)
    src = f"cr.scan({text}, @0, @1, reverse={reverse})"
    n = xs.shape[0]
    carry = (-1.0, 1.0) if n else (c0.lo, c0.hi)
    return b.emit_call("scan", args, call, src, [carry, (-1.0, 1.0)])


@generator("while")
def gen_while(b):
    # a loop whose number of steps is a value of the program (0 to 3): a
    # while_loop; forward mode only (so not with a custom_vjp function)
    if b.reverse_only:
        return gen_scan(b)
    x = b.bounded(b.pick("f"), 1.0)
    n = b.fit(b.int_bounded(b.pick("i", dtype=np.dtype(np.int64)), 3), ())
    half = np.asarray(0.5, b.dtype)[()]
    one = np.int64(1)
    if b.coin():
        def call(x, n):
            return cr.fori_loop(np.int64(0), n, lambda i, v: bind(PRIMS["tanh"], bind(
                PRIMS["add"], bind(PRIMS["mul"], v, half), x)), x)
        src = (f"cr.fori_loop(np.int64(0), @1, lambda i, v: bind(P['tanh'], bind(P['add'], "
               f"bind(P['mul'], v, {_lit_src(b, 0.5)}), @0)), @0)")
        return b.emit_call("while", [x, n], call, src, [(min(x.lo, -1.0), max(x.hi, 1.0))],
                           forward_only=True)[0]

    def call(x, n):
        return cr.while_loop(lambda c: bind(PRIMS["lt"], c[0], n),
                             lambda c: (bind(PRIMS["add"], c[0], one), bind(PRIMS["sin"], c[1])),
                             (np.int64(0), x))
    src = ("cr.while_loop(lambda c: bind(P['lt'], c[0], @1), lambda c: (bind(P['add'], c[0], "
           "np.int64(1)), bind(P['sin'], c[1])), (np.int64(0), @0))")
    count, v = b.emit_call("while", [x, n], call, src, [(0, 3), (min(x.lo, -1.0),
                                                                 max(x.hi, 1.0))],
                           forward_only=True)
    return v


# -- checkpoint, and derivative rules of the user's (custom_jvp, custom_vjp) ---------------------
@generator("checkpoint")
def gen_checkpoint(b):
    x = b.bounded(b.pick("f"), 3.0)
    y = b.bounded(b.operand_like(x, "f", allow_literal=False), 1.0)
    if y.ndim and y.shape != x.shape:
        y = b.fit(y, x.shape)
    catalogue = _branches(b)
    (inner_src, inner, inner_iv), (outer_src, outer, outer_iv) = [
        catalogue[b.integer(0, len(catalogue) - 1)] for _ in range(2)]
    policy = b.choice([None, None, "dots_saveable", "nothing_saveable", "everything_saveable"])
    uses_y = "@y" in inner_src + outer_src

    def call(x, y=None):
        return cr.checkpoint(lambda x: outer(inner(x, y), y), policy=policy and getattr(
            cr.checkpoint_policies, policy))(x)
    body = re.sub(r"\bx\b", lambda m: inner_src, outer_src)   # outer(inner(x))
    policy_src = f"cr.checkpoint_policies.{policy}" if policy else "None"
    src = f"cr.checkpoint(lambda x: {body.replace('@y', '@1')}, policy={policy_src})(@0)"
    mid = inner_iv((x.lo, x.hi), (y.lo, y.hi))
    bounds = outer_iv(mid, (y.lo, y.hi))
    return b.emit_call("checkpoint", [x] + ([y] if uses_y else []), call, src, [bounds])[0]


def _sin(x):
    return bind(PRIMS["sin"], x)


def _cos(x):
    return bind(PRIMS["cos"], x)


def _mul(x, y):
    return bind(PRIMS["mul"], x, y)


def _softplus(x):
    return bind(PRIMS["logaddexp"], x, np.zeros((), np.asarray(x).dtype
                                             if not hasattr(x, "dtype") else x.dtype)[()])


def _custom_jvp_functions():
    sin = cr.custom_jvp(lambda x: _sin(x))
    sin.defjvp(lambda p, t: (_sin(p[0]), _mul(_cos(p[0]), t[0])))
    mul = cr.custom_jvp(lambda x, y: _mul(x, y))
    mul.defjvp(lambda p, t: (_mul(p[0], p[1]), bind(PRIMS["add"], _mul(t[0], p[1]),
                                                     _mul(p[0], t[1]))))
    softplus = cr.custom_jvp(lambda x: _softplus(x))
    softplus.defjvp(lambda p, t: (_softplus(p[0]), _mul(bind(PRIMS["logistic"], p[0]), t[0])))
    return {"sin": sin, "mul": mul, "softplus": softplus}


def _custom_vjp_functions():
    sin = cr.custom_vjp(lambda x: _sin(x))
    sin.defvjp(lambda x: (_sin(x), _cos(x)), lambda cos_x, ct: (_mul(cos_x, ct),))
    mul = cr.custom_vjp(lambda x, y: _mul(x, y))
    mul.defvjp(lambda x, y: (_mul(x, y), (x, y)),
               lambda res, ct: (_mul(ct, res[1]), _mul(res[0], ct)))
    tanh = cr.custom_vjp(lambda x: bind(PRIMS["tanh"], x))
    tanh.defvjp(lambda x: (bind(PRIMS["tanh"], x), bind(PRIMS["tanh"], x)),
                lambda y, ct: (_mul(ct, bind(PRIMS["sub"], np.ones((), y.dtype)[()],
                                                 _mul(y, y))),))
    return {"sin": sin, "mul": mul, "tanh": tanh}


# functions with derivative rules of the user's (correct ones): the random
# programs call them, and write them as R.CUSTOM_JVP["sin"](x)
CUSTOM_JVP = _custom_jvp_functions()
CUSTOM_VJP = _custom_vjp_functions()


@generator("custom_jvp_call")
def gen_custom_jvp(b):
    x = b.bounded(b.pick("f"), 3.0)
    name = b.choice(["sin", "mul", "softplus"])
    if name == "mul":
        y = b.bounded(b.fit(b.pick("f"), x.shape), 3.0)
        return b.emit_call("custom_jvp_call", [x, y], CUSTOM_JVP["mul"],
                           "R.CUSTOM_JVP['mul'](@0, @1)", [_mul_iv((x.lo, x.hi), (y.lo, y.hi))])[0]
    bounds = _sin_iv(x.lo, x.hi) if name == "sin" else (0.0, x.hi + 1.0 if x.hi > 0 else 1.0)
    return b.emit_call("custom_jvp_call", [x], CUSTOM_JVP[name],
                       f"R.CUSTOM_JVP[{name!r}](@0)", [bounds])[0]


@generator("custom_vjp_call", "custom_vjp_lin")
def gen_custom_vjp(b):
    # custom_vjp_lin is the equation linearize records for a custom_vjp_call;
    # a custom_vjp function has no forward mode, so the program is checked
    # in reverse mode only (and not with a while loop, which has only forward)
    if b.forward_only:
        return gen_custom_jvp(b)
    x = b.bounded(b.pick("f"), 3.0)
    name = b.choice(["sin", "mul", "tanh"])
    if name == "mul":
        y = b.bounded(b.fit(b.pick("f"), x.shape), 3.0)
        return b.emit_call("custom_vjp_call", [x, y], CUSTOM_VJP["mul"],
                           "R.CUSTOM_VJP['mul'](@0, @1)", [_mul_iv((x.lo, x.hi), (y.lo, y.hi))],
                           reverse_only=True)[0]
    bounds = _sin_iv(x.lo, x.hi) if name == "sin" else _iv(math.tanh, x.lo, x.hi)
    return b.emit_call("custom_vjp_call", [x], CUSTOM_VJP[name], f"R.CUSTOM_VJP[{name!r}](@0)",
                       [bounds], reverse_only=True)[0]


# -- linear algebra ---------------------------------------------------------------------
def _batch(b):
    return () if b.coin(6) else (b.integer(1, 2),)


def _matrix(b, shape, bound=1.0):
    """A float value of ``shape`` with entries in [-bound, bound]."""
    return b.into(b.fit(b.pick("f"), shape), -bound, bound)


def _plus_const(b, x, c, what=1.0):
    """``x + c`` for a constant array ``c`` of x's shape."""
    c = np.broadcast_to(np.asarray(c, b.dtype), x.shape).copy()
    m = float(np.max(np.abs(c))) if c.size else 0.0
    return b.emit("add", [x, Const(c)], bounds=(x.lo - m, x.hi + m))


def _diagonal_matrix(shape, diag):
    """Matrices of ``shape`` (..., m, n) with ``diag`` on the diagonal."""
    m, n = shape[-2:]
    d = np.zeros((m, n))
    k = min(m, n)
    d[np.arange(k), np.arange(k)] = diag[:k]
    return np.broadcast_to(d, shape)


def _perturbed(b, shape, diag, total):
    """``D + eps B``: ``D`` with ``diag`` on its diagonal, ``|B| <= 1`` and
    ``||eps B||_2 <= total``."""
    m, n = shape[-2:]
    eps = total / max(m, n)
    x = _matrix(b, shape)
    x = b.emit("mul", [x, b.lit(eps)], bounds=(-eps, eps))
    return _plus_const(b, x, _diagonal_matrix(shape, np.asarray(diag, np.float64)))


def _signs(b, n):
    return np.array([1.0 if b.coin(7) else -1.0 for _ in range(n)])


def _well_conditioned(b, batch, n):
    """Square matrices with singular values in [0.5, 1.5] (``||A^-1|| <= 2``)."""
    return _perturbed(b, batch + (n, n), _signs(b, n), 0.5)


def _separated(b, shape):
    """Matrices with singular values within 0.2 of 1, 2, ..., k (in a random order)."""
    k = min(shape[-2:])
    diag = (np.array(b.permutation(k)) + 1.0) * _signs(b, k)
    return _perturbed(b, shape, diag, 0.2)


def _rhs(b, shape):
    return _matrix(b, shape, b.choice([1.0, 2.0]))


def _sign_free(b, x, y=None):
    """A use of a factor that LAPACK determines only up to the signs of its
    columns (rows): ``x * x``, or with ``y`` the product that cancels them."""
    if y is None:
        return b.emit("mul", [x, x], bounds=(0.0, x.bound ** 2))
    nd = x.ndim
    batch = tuple(range(nd - 2))
    dn = (((nd - 1,), (nd - 2,)), (batch, batch))
    k = x.shape[-1]
    bound = k * x.bound * y.bound
    return b.emit("dot_general", [x, y], dict(dimension_numbers=dn), (-bound, bound))


def _scale_columns(b, u, s):
    """``u * s`` with ``s`` (..., k) spread over the rows of ``u`` (..., m, k)."""
    nd = u.ndim
    s2 = b.emit("broadcast_in_dim", [s], dict(shape=u.shape, broadcast_dimensions=tuple(
        range(nd - 2)) + (nd - 1,)), (s.lo, s.hi))
    return b.emit("mul", [u, s2], bounds=_mul_iv((u.lo, u.hi), (s.lo, s.hi)))


@generator("solve")
def gen_solve(b):
    batch, n = _batch(b), b.integer(1, 4)
    a = _well_conditioned(b, batch, n)
    k = b.integer(1, 3)
    rhs = _rhs(b, batch + (n, k))
    bound = 2 * math.sqrt(n * k) * rhs.bound
    return b.emit("solve", [a, rhs], bounds=(-bound, bound))


@generator("triangular_solve")
def gen_triangular_solve(b):
    batch, n, k = _batch(b), b.integer(1, 4), b.integer(1, 3)
    left_side, lower, transpose_a, unit = b.coin(), b.coin(), b.coin(), b.coin(3)
    # the triangle read is D + eps B, its norm within 0.5 of D's
    a = _well_conditioned(b, batch, n)
    rhs = _rhs(b, batch + ((n, k) if left_side else (k, n)))
    bound = 2 * math.sqrt(n * k) * rhs.bound * (1 if not unit else 2)
    return b.emit("triangular_solve", [a, rhs], dict(left_side=left_side, lower=lower,
                                                     transpose_a=transpose_a, unit_diagonal=unit),
                  bounds=(-bound, bound))


@generator("slogdet")
def gen_slogdet(b):
    batch, n = _batch(b), b.integer(1, 4)
    a = _well_conditioned(b, batch, n)
    sign, logdet = b.emit("slogdet", [a], bounds=[(-1.0, 1.0),
                                                  (n * math.log(0.5), n * math.log(1.5))])
    return logdet


@generator("cholesky")
def gen_cholesky(b):
    batch, n, k = _batch(b), b.integer(1, 4), b.integer(1, 4)
    x = _matrix(b, batch + (n, k))
    nb = len(batch)
    dn = (((nb + 1,), (nb + 1,)), (tuple(range(nb)), tuple(range(nb))))
    g = b.emit("dot_general", [x, x], dict(dimension_numbers=dn), (-k, k))   # X X^T
    g = b.emit("mul", [g, b.lit(1.0 / k)], bounds=(-1.0, 1.0))
    s = _plus_const(b, g, _diagonal_matrix(g.shape, np.ones(n)))            # eigenvalues >= 1
    if b.coin(3):   # junk above the diagonal: cholesky reads the lower triangle only
        junk = _matrix(b, s.shape)
        upper = np.broadcast_to(np.triu(np.ones((n, n)), 1), s.shape).astype(b.dtype)
        junk = b.emit("mul", [junk, Const(upper)], bounds=(-1.0, 1.0))
        s = b.emit("add", [s, junk], bounds=(s.lo - 1, s.hi + 1))
    return b.emit("cholesky", [s], bounds=(-math.sqrt(2.0), math.sqrt(2.0)))


@generator("qr")
def gen_qr(b):
    batch, m, n = _batch(b), b.integer(1, 4), b.integer(1, 4)
    a = _separated(b, batch + (m, n))
    full = m <= n and b.coin(3)
    kk = min(m, n)
    q, r = map(_hide, b.emit("qr", [a], dict(full_matrices=full),
                             bounds=[(-1.0, 1.0), (-(kk + 0.2) * 1.01, (kk + 0.2) * 1.01)]))
    way = b.integer(0, 2)
    if way == 0:
        return _sign_free(b, q, r)     # Q R = A
    if way == 1:
        return _sign_free(b, q)
    return _sign_free(b, r)


@generator("eigh")
def gen_eigh(b):
    batch, n = _batch(b), b.integer(1, 4)
    shape = batch + (n, n)
    x = _matrix(b, shape)
    if b.coin():   # symmetric; else only the triangle eigh reads matters
        xt = b.emit("transpose", [x], dict(permutation=tuple(range(len(batch))) + (
            len(batch) + 1, len(batch))), (x.lo, x.hi))
        x = b.emit("add", [x, xt], bounds=(2 * x.lo, 2 * x.hi))
        x = b.emit("mul", [x, b.lit(0.5)], bounds=(-1.0, 1.0))
    eps = 0.25 / n
    x = b.emit("mul", [x, b.lit(eps)], bounds=(-eps, eps))
    d = np.array(b.permutation(n)) + 1.0
    a = _plus_const(b, x, _diagonal_matrix(shape, d))
    w, v = b.emit("eigh", [a], dict(lower=b.coin()), bounds=[(0.5, n + 0.5), (-1.0, 1.0)])
    _hide(v)   # LAPACK's signs: used only through V * V and V diag(w) V^T
    if b.coin(3):   # V diag(w) V^T
        return _sign_free(b, _hide(_scale_columns(b, v, w)), _hide(_transpose_last(b, v)))
    return _sign_free(b, v)


def _transpose_last(b, x):
    nd = x.ndim
    return b.emit("transpose", [x], dict(permutation=tuple(range(nd - 2)) + (nd - 1, nd - 2)),
                  (x.lo, x.hi))


@generator("svd")
def gen_svd(b):
    batch = _batch(b)
    hermitian = b.coin(2)
    m = b.integer(1, 4)
    n = m if hermitian else b.integer(1, 4)
    k = min(m, n)
    if hermitian:   # a positive definite matrix: singular values = eigenvalues
        x = _matrix(b, batch + (n, n))
        eps = 0.2 / n
        x = b.emit("mul", [x, b.lit(eps)], bounds=(-eps, eps))
        a = _plus_const(b, x, _diagonal_matrix(x.shape, np.array(b.permutation(n)) + 1.0))
    else:
        a = _separated(b, batch + (m, n))
    full = m == n and b.coin(3)
    u, s, vh = b.emit("svd", [a], dict(full_matrices=full, hermitian=hermitian),
                      bounds=[(-1.0, 1.0), (0.75, k + 0.25), (-1.0, 1.0)])
    _hide(u), _hide(vh)   # LAPACK's signs: used only through U * U, U diag(s) Vh, ...
    way = b.integer(0, 3)
    if way == 0:
        return _sign_free(b, _hide(_scale_columns(b, u, s)), vh)      # U diag(s) Vh = A
    if way == 1:
        b.emit("reduce_sum", [s], dict(axes=(s.ndim - 1,)), (0.0, k * (k + 0.25)))
        return _sign_free(b, u)
    if way == 2:
        return _sign_free(b, vh)
    return s


@generator("pinv")
def gen_pinv(b):
    batch = _batch(b)
    hermitian = b.coin(3)
    m = b.integer(1, 4)
    n = m if hermitian else b.integer(1, 4)
    a = _separated(b, batch + (m, n))
    return b.emit("pinv", [a], dict(rcond=1e-15, hermitian=hermitian), bounds=(-2.0, 2.0))


# -- the strategy ---------------------------------------------------------------------------
# the order Hypothesis shrinks towards: simple, smooth primitives first
_SIMPLE = ["add", "mul", "neg", "sub", "sin", "exp", "reshape", "broadcast_in_dim", "reduce_sum",
           "transpose", "dot_general", "slice", "concatenate"]
OP_NAMES = _SIMPLE + sorted(set(GENERATORS) - set(_SIMPLE))


def build_program(draw_int, force=None, dtype=None, min_eqns=MIN_EQNS, max_steps=18):
    """A random program of at least ``min_eqns`` equations (with ``force``,
    one that uses that primitive); ``draw_int(lo, hi)`` makes every choice."""
    if dtype is None:
        dtype = np.float32 if draw_int(0, 9) == 9 else np.float64
    b = Builder(draw_int, dtype)
    b.empty = draw_int(0, 5) == 5
    steps = draw_int(6, max_steps)
    force_at = draw_int(0, steps - 1) if force else -1
    step = 0
    while step < steps or len(b.nodes) < min_eqns:
        name = force if step == force_at else OP_NAMES[draw_int(0, len(OP_NAMES) - 1)]
        GENERATORS[name](b)
        step += 1
    return b.finish()


@st.composite
def programs(draw, force=None, dtype=None):
    """The Hypothesis strategy of ``build_program`` (it shrinks to fewer,
    simpler steps)."""
    return build_program(lambda lo, hi: draw(st.integers(lo, hi)), force, dtype)


# -- the checks --------------------------------------------------------------------------
def _is_float_dtype(dtype):
    return np.dtype(dtype).kind == "f"


def assert_same(actual, expected, rtol, atol, what):
    """Equal shapes and dtypes, values close (NaNs equal)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    if _is_float_dtype(expected.dtype):
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=what)


def _tol(dtype):
    return (1e-4, 1e-4) if np.dtype(dtype) == np.float32 else (1e-9, 1e-9)


def _no_tangent(x):
    """The tangent (cotangent) of a value without a derivative."""
    return np.zeros(np.shape(x), getattr(cr, "float0", np.asarray(x).dtype))


def _random(shape, dtype, rng):
    if _is_float_dtype(dtype):
        return np.asarray(rng.standard_normal(shape), dtype)[()]
    return np.zeros(shape, dtype)[()]


def check_all(f, args, *, batched=None, in_axes=None, out_axes=None, grads=True, eps=1e-5,
              atol=1e-5, rtol=1e-5, min_eqns=MIN_EQNS, seed=0, forward=True, reverse=True):
    """Every check of a program ``f`` (returning a tuple) at ``args``:
    the traced IR and the IR of every transform pass ``check()``; the IR
    evaluates as ``f`` computes eagerly (same shapes and dtypes as the shape
    rules say); the JVP program, the linearized program and its transpose
    agree with ``cr.jvp`` and ``cr.vjp``; the gradient program with
    ``cr.grad``; ``vmap`` of ``f`` and of that gradient (and their IR) with a
    Python loop over the batch; and, with ``grads``, ``cr.check_grads`` to
    second order.  With ``reverse=False`` (a program with a while loop) only
    forward mode is checked; with ``forward=False`` (one with a custom_vjp
    function) only reverse mode, the VJP against finite differences."""
    rng = np.random.default_rng(seed)
    args = tuple(args)
    closed = cr.make_ir(f)(*args)
    closed.check()
    assert len(closed.eqns) >= min_eqns, f"only {len(closed.eqns)} equations"
    dtype = max((np.asarray(a).dtype for a in args if _is_float_dtype(np.asarray(a).dtype)),
                default=np.dtype(np.float64), key=lambda d: d.itemsize)
    rt, at = _tol(dtype)

    # the IR evaluates as f computes eagerly, with the dtypes of the shape rules
    eager = f(*args)
    ir_out = closed(*args)
    assert len(eager) == len(ir_out) == len(closed.out_avals)
    for k, (e, o, aval) in enumerate(zip(eager, ir_out, closed.out_avals)):
        assert (np.shape(e), np.asarray(e).dtype) == (aval.shape, aval.dtype), (
            f"output {k}: eager {np.asarray(e).dtype}{list(np.shape(e))}, traced "
            f"{aval.str_short()}")
        assert_same(o, e, 1e-13, 1e-13, f"output {k}: IR evaluation vs eager")

    n = len(eager)
    is_f = [_is_float_dtype(np.asarray(a).dtype) for a in args]
    out_f = [_is_float_dtype(np.asarray(e).dtype) for e in eager]
    active = [i for i in range(len(args)) if is_f[i]]
    floats = [k for k in range(n) if out_f[k]]
    tangents = tuple(_random(np.shape(a), np.asarray(a).dtype, rng) if f_ else _no_tangent(a)
                     for a, f_ in zip(args, is_f))
    cts = tuple(_random(np.shape(e), np.asarray(e).dtype, rng) if out_f[k] else _no_tangent(e)
                for k, e in enumerate(eager))
    _, f_jvp = cr.linearize(f, *args)
    f_jvp.ir.check()

    if forward:
        # forward mode: cr.jvp, the JVP program (jvp_ir), the linear program
        primals_out, tangents_out = cr.jvp(f, args, tangents)
        for k in range(n):
            assert_same(primals_out[k], eager[k], rt, at, f"cr.jvp primal output {k}")
            assert np.shape(tangents_out[k]) == np.shape(eager[k])
        # the JVP program takes tangents of the floating-point inputs only and
        # gives those of the floating-point outputs only
        if args:
            jprog = jvp_ir(closed)
            jprog.check()
            j_out = jprog(*args, *[tangents[i] for i in active])
            assert len(j_out) == n + len(floats)
            for k in range(n):
                assert_same(j_out[k], eager[k], rt, at, f"jvp_ir primal output {k}")
            for j, k in enumerate(floats):
                assert_same(j_out[n + j], tangents_out[k], rt, at,
                            f"jvp_ir tangent output {k} vs cr.jvp")
        lin_out = f_jvp(*tangents)
        for k in floats:
            assert_same(lin_out[k], tangents_out[k], rt, at, f"linearize output {k} vs cr.jvp")

    if reverse:
        # reverse mode: the transpose of the linear program against cr.vjp
        tprog = transpose_ir(f_jvp.ir)
        tprog.check()
        _, vjp_fn = cr.vjp(f, *args)
        vjp_out = vjp_fn(cts)
        t_in = [c if _is_float_dtype(aval.dtype) else np.zeros(aval.shape, aval.dtype)[()]
                for c, aval in zip(cts, tprog.in_avals)]
        assert len(tprog.in_avals) == len(cts)
        t_out = tprog(*t_in)
        t_out = list(t_out) if isinstance(t_out, (tuple, list)) else [t_out]
        assert len(t_out) == len(active)
        for i, c in zip(active, t_out):
            assert_same(c, vjp_out[i], rt, at, f"transpose_ir output for input {i} vs cr.vjp")
        rhs = sum(_dot(tangents[i], vjp_out[i]) for i in active)
        if forward:   # the dot-product test between cr.jvp and cr.vjp, exactly as AD gives them
            lhs = sum(_dot(tangents_out[k], cts[k]) for k in floats)
            np.testing.assert_allclose(rhs, lhs, rtol=rt * 100, atol=at * 100,
                                       err_msg="<J v, w> != <v, J^T w>")
        elif grads and dtype == np.float64 and active and floats:
            _check_vjp_by_differences(f, args, tangents, cts, rhs, active, floats, eps,
                                      atol, rtol)

    # the gradient program of a scalar loss
    if reverse and active and floats:
        weights = [np.asarray(rng.standard_normal(np.shape(eager[k])), np.asarray(eager[k]).dtype)
                   for k in floats]

        def loss(*a):
            outs = f(*a)
            total = 0.0
            for k, w in zip(floats, weights):
                total = total + cr.numpy.sum(outs[k] * w)
            return total

        argnums = tuple(active)
        gprog = cr.make_ir(cr.grad(loss, argnums=argnums))(*args)
        gprog.check()
        g_ir = gprog(*args)
        g = cr.grad(loss, argnums=argnums)(*args)
        for i, a, b_ in zip(active, g_ir, g):
            assert_same(a, b_, rt, at, f"grad program vs cr.grad, input {i}")

    # vmap against a loop over the examples, of f and of its gradient
    if batched is not None:
        check_vmap(f, batched, in_axes, out_axes, rt * 10, at * 10)
        if reverse and active and floats:
            check_vmap(cr.grad(loss, argnums=argnums), batched, in_axes, (0,) * len(argnums),
                       rt * 10, at * 10)

    # derivatives against finite differences, to second order
    if grads and forward and dtype == np.float64 and active and floats:
        _check_grads(_float_part(f, args, active, floats), [args[i] for i in active],
                     ("fwd", "rev") if reverse else ("fwd",), eps, atol, rtol, seed)
    return closed


def _dot(a, b):
    return float(np.sum(np.asarray(a, np.float64) * np.asarray(b, np.float64)))


def _check_vjp_by_differences(f, args, tangents, cts, vjp_dot, active, floats, eps, atol, rtol):
    """``<v, J^T w>`` (given: ``vjp_dot``) against ``<J v, w>`` with ``J v``
    by central differences (for a function without forward mode), tried at
    three steps as in ``_check_grads``."""
    for k, e in enumerate((eps, min(10 * eps, 1e-4), eps / 10)):
        def at(sign):
            moved = [np.asarray(a + sign * e * t, np.asarray(a).dtype)[()] if i in active else a
                     for i, (a, t) in enumerate(zip(args, tangents))]
            return f(*moved)
        plus, minus = at(1), at(-1)
        fd = sum(_dot((np.asarray(plus[j], np.float64) - np.asarray(minus[j], np.float64))
                      / (2 * e), cts[j]) for j in floats)
        if abs(fd - vjp_dot) <= atol + rtol * abs(fd):
            return
    raise AssertionError(f"<v, J^T w> = {vjp_dot!r} but <J v, w> = {fd!r} by differences")


def _check_grads(g, args, modes, eps, atol, rtol, seed):
    """``cr.check_grads(g, args, order=2)``.  A real error does not depend on
    the step; the error of finite differences does (truncation ~ eps^2,
    rounding ~ 1/eps): a check that fails is tried again with a larger and
    a smaller step."""
    steps = (eps, min(10 * eps, 1e-4), eps / 10)
    for k, e in enumerate(steps):
        try:
            cr.check_grads(g, args, order=2, modes=modes, eps=e, atol=atol, rtol=rtol, seed=seed)
            return
        except cr.GradientCheckError:
            if k == len(steps) - 1:
                raise


def _float_part(f, args, active, floats):
    """``f`` as a function of its float inputs to its float outputs (the
    others held fixed, dropped): what finite differences can check."""
    def g(*xs):
        full = list(args)
        for i, x in zip(active, xs):
            full[i] = x
        outs = f(*full)
        return tuple(outs[k] for k in floats)
    return g


def check_vmap(f, batched, in_axes, out_axes, rtol, atol):
    in_axes, out_axes = tuple(in_axes), tuple(out_axes)
    size = next(np.shape(x)[ax] for x, ax in zip(batched, in_axes) if ax is not None)
    vf = cr.vmap(f, in_axes=in_axes, out_axes=out_axes)
    vprog = cr.make_ir(vf)(*batched)
    vprog.check()
    examples = [f(*[x if ax is None else np.take(x, b, axis=ax)
                    for x, ax in zip(batched, in_axes)]) for b in range(size)]
    got_ir = vprog(*batched)
    got = vf(*batched)
    for k, ax in enumerate(out_axes):
        expected = np.stack([np.asarray(e[k]) for e in examples], axis=ax)
        assert_same(got[k], expected, rtol, atol, f"vmap output {k} vs a loop")
        assert_same(got_ir[k], expected, rtol, atol, f"vmap IR output {k} vs a loop")


# -- a drawn test case: a program, input values, a vmap ------------------------------------
class Case:
    """A program, the seed its input values are drawn from (``find_args``),
    and a vmap of it: the batch size and random ``in_axes``/``out_axes``."""

    def __init__(self, program, seed, batch_size, in_axes, out_axes):
        self.program, self.seed = program, seed
        self.batch_size, self.in_axes, self.out_axes = batch_size, in_axes, out_axes
        self.args = self.margin = None

    def find_args(self, tries=6):
        """Input values at least MIN_MARGIN from every kink, where the
        program's discrete decisions do not change within ten
        finite-difference steps in random directions (None if no try finds
        them)."""
        floats = [i for i, v in enumerate(self.program.inputs) if v.kind == "f"]
        for t in range(tries):
            rng = np.random.default_rng(self.seed + 7919 * t)
            args = self.program.sample(rng)
            margin = self.program.margin(args)
            if margin < MIN_MARGIN:
                continue
            self.args, self.margin = args, margin
            decisions = self.program.decisions(args)
            step = 10 * self.eps()
            for _ in range(3):
                for sign in (1, -1):
                    moved = list(args)
                    for i in floats:
                        d = rng.standard_normal(np.shape(args[i]))
                        moved[i] = np.asarray(args[i] + sign * step * d,
                                              np.asarray(args[i]).dtype)[()]
                    other = self.program.decisions(moved)
                    if any(not np.array_equal(a, b) for a, b in zip(decisions, other)):
                        break
                else:
                    continue
                break
            else:
                return args
        self.args = self.margin = None
        return None

    def eps(self):
        """A finite-difference step well below the distance to the nearest kink."""
        return float(min(1e-5, max(1e-6, self.margin * 1e-3)))

    def batched(self):
        rng = np.random.default_rng(self.seed + 1)
        out = []
        for x, v, ax in zip(self.args, self.program.inputs, self.in_axes):
            if ax is None:
                out.append(x)
                continue
            examples = [self.program.sample(rng)[self.program.inputs.index(v)]
                        for _ in range(self.batch_size)]
            out.append(np.stack([np.asarray(e) for e in examples], axis=ax))
        return out

    def check(self):
        return check_all(self.program.f, self.args, batched=self.batched(), in_axes=self.in_axes,
                         out_axes=self.out_axes, eps=self.eps(), seed=self.seed % 1000,
                         forward=not self.program.reverse_only,
                         reverse=not self.program.forward_only)

    def source(self, name="f"):
        """The case as Python: the program, its arguments and its vmap."""
        batched = self.batched()
        lines = [self.program.source(name), "",
                 "args = (" + "".join(array_source(a) + ",\n        " for a in self.args)
                 .rstrip() + ")",
                 "batched = (" + "".join(array_source(a, 11) + ",\n           "
                                         for a in batched).rstrip() + ")",
                 f"in_axes, out_axes = {tuple(self.in_axes)!r}, {tuple(self.out_axes)!r}",
                 f"eps, seed = {self.eps()!r}, {self.seed % 1000!r}"]
        if self.program.forward_only:
            lines.append("reverse = False   # (a while loop)")
        if self.program.reverse_only:
            lines.append("forward = False   # (a custom_vjp function)")
        return "\n".join(lines)


def make_case(draw_int, program):
    seed = draw_int(0, 2 ** 31)
    axes = [None, 0, -1]
    in_axes = [(axes + list(range(1, v.ndim + 1)))[draw_int(0, v.ndim + 2)]
               for v in program.inputs]
    if all(a is None for a in in_axes):
        in_axes[0] = 0
    out_axes = [draw_int(-(v.ndim + 1), v.ndim) for v in program.outputs]
    return Case(program, seed, draw_int(1, 3), in_axes, out_axes)


@st.composite
def cases(draw, force=None, dtype=None):
    """A drawn ``Case``: a program, a seed for its input values, a vmap."""
    def draw_int(lo, hi):
        return draw(st.integers(lo, hi))
    return make_case(draw_int, build_program(draw_int, force, dtype))


def seeded_case(seed, force=None, dtype=None):
    """A ``Case`` drawn with NumPy's generator from ``seed`` instead."""
    rng = np.random.default_rng(seed)

    def draw_int(lo, hi):
        return int(rng.integers(lo, hi + 1))
    return make_case(draw_int, build_program(draw_int, force, dtype))


# -- diagnosis ---------------------------------------------------------------------------
def localize(f, args, eps=1e-6, rtol=1e-4, atol=1e-6, seed=0):
    """The first equation of ``f``'s program whose JVP disagrees with
    central differences while its inputs' tangents agree: a list of
    ``(index, equation, largest error)`` for every disagreeing equation,
    in program order (for diagnosing a failure by hand)."""
    from chainrule.tracer.ir import Literal
    closed = cr.make_ir(f)(*args)
    ir = closed.ir

    def every_value(*xs):
        env = dict(zip(ir.constvars, closed.consts))
        env.update(zip(ir.invars, xs))
        outs = []
        for eqn in ir.eqns:
            ins = [x.value if type(x) is Literal else env[x] for x in eqn.inputs]
            out = bind(eqn.primitive, *ins, **eqn.params)
            out = list(out) if eqn.primitive.multiple_results else [out]
            env.update(zip(eqn.outvars, out))
            outs.append(out)
        return outs

    rng = np.random.default_rng(seed)
    tangents = [_random(np.shape(a), np.asarray(a).dtype, rng) if _is_float(a) else
                _no_tangent(a) for a in args]
    _, t_out = cr.jvp(every_value, tuple(args), tuple(tangents))
    plus = every_value(*[np.asarray(a + eps * t)[()] if _is_float(a) else a
                         for a, t in zip(args, tangents)])
    minus = every_value(*[np.asarray(a - eps * t)[()] if _is_float(a) else a
                          for a, t in zip(args, tangents)])
    bad = []
    for k, (eqn, t, p, m) in enumerate(zip(ir.eqns, t_out, plus, minus)):
        for tt, pp, mm in zip(t, p, m):
            if not _is_float(pp):
                continue
            fd = (np.asarray(pp, np.float64) - np.asarray(mm, np.float64)) / (2 * eps)
            err = np.abs(np.asarray(tt, np.float64) - fd) - atol - rtol * np.abs(fd)
            if err.size and np.max(err) > 0:
                bad.append((k, eqn, float(np.max(np.abs(np.asarray(tt, np.float64) - fd)))))
    return bad
