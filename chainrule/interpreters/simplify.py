"""Algebraic simplification: rewrites that give the same bits.

``passes.simplify`` runs ``simplify_level`` over a program and each of its
bodies.  One loop over the equations carries three facts about the values
met so far:

    producer   var -> the equation that defines it (to see ``neg (neg x)``)
    uniform    var -> the one value all its elements hold, bit for bit
               (a literal, a constant array of one value, a broadcast of one)
    no_neg_0   the vars that can never hold -0.0 (``exp x``, ``abs x``, any
               integer; their broadcasts and sums ...)

and rewrites each equation by the rule of its primitive, if any:

    x * 1, 1 * x, x / 1, x - 0.0, x + -0.0     -> x
    x + 0.0                                    -> x only where x is never -0.0
                                                  (-0.0 + 0.0 is 0.0)
    x * 0.0                                    -- kept: inf * 0 and nan * 0 are nan
    x + 0, x - 0, x * 1 of integers (and booleans) -> x
    neg (neg x), select p x x, integer_pow[y=1] x -> x
    transpose (transpose x)                    -> one transpose, or x (identity)
    reshape / squeeze / expand_dims chains     -> one reshape, or x (same shape)
    broadcast_in_dim (broadcast_in_dim x)      -> one broadcast_in_dim
    broadcast_in_dim, convert_element_type, reduce_sum[axes=()] that change nothing -> x
    reduce_sum (broadcast_in_dim x) over exactly the new axes -> x * n (x when n = 1)
    an operand of one value everywhere (a broadcast of a scalar, a constant
    array of one value) of an elementwise primitive whose other operands have
    the full shape -> that value as an inline literal (the broadcast dies)

Every rule is exact in IEEE arithmetic, NaN, infinities and signed zeros
included, except ``reduce_sum`` of a broadcast: ``x * n`` rounds once where
the sum of ``n`` copies rounds at every addition (it differs in the last
bits).  A variable is replaced only by an atom of the same abstract value
(shape, dtype and weak type); ``stop_gradient`` is never removed (it
changes derivatives).
"""
from __future__ import annotations

import math

import numpy as np

from ..primitives._ops import PRIMITIVES
from ..tracer.ir import IR, Equation, Literal, Var

# primitives whose result is uniform when their (first) operand is: they move
# or copy elements
_MOVES = frozenset({"broadcast_in_dim", "reshape", "transpose", "squeeze", "expand_dims", "rev",
                    "slice"})
_RESHAPES = frozenset({"reshape", "squeeze", "expand_dims"})
# elementwise primitives whose operands may be 0-d (an inline literal)
_SCALAR_OPERANDS = frozenset({
    "add", "sub", "mul", "div", "rem", "floor_div", "pow", "max", "min", "logaddexp", "hypot",
    "atan2", "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "xor", "select"})
# results that are never -0.0 (integer_pow with an even power too)
_NEVER_NEG_ZERO = frozenset({"exp", "exp2", "cosh", "abs", "logistic"})


def same_aval(x, v) -> bool:
    """Whether atom ``x`` may stand for var ``v``: same shape, dtype and weak type."""
    a, b = x.aval, v.aval
    return a.shape == b.shape and a.dtype == b.dtype and a.weak_type == b.weak_type


def _bits_uniform(value):
    """The one value all elements of a NumPy array hold, bit for bit (as a
    NumPy scalar), or None."""
    a = np.asarray(value)
    if a.size == 0 or a.dtype.kind not in "biufc":
        return None
    flat = np.ascontiguousarray(a).reshape(-1)
    if a.size > 1:
        rows = flat.view(np.uint8).reshape(a.size, a.dtype.itemsize)
        if not (rows == rows[0]).all():
            return None
    return flat[0]


def _is_neg_zero(s) -> bool:
    return s.dtype.kind == "f" and s == 0 and bool(np.signbit(s))


def _has_neg_zero(value) -> bool:
    a = np.asarray(value)
    return a.dtype.kind == "f" and bool(np.any((a == 0) & np.signbit(a)))


class _Facts:
    """What the loop knows of the values defined so far."""

    def __init__(self, known):
        self.producer = {}
        self.uniform = {}
        self.no_neg_zero = set()
        self.known = known           # const var -> NumPy value
        self.checked = set()         # const vars looked at

    def _look_at(self, v):
        self.checked.add(v)
        value = self.known[v]
        u = _bits_uniform(value)
        if u is not None:
            self.uniform[v] = u
        if not _has_neg_zero(value):
            self.no_neg_zero.add(v)

    def uniform_value(self, x):
        """The one value of every element of atom ``x``, or None."""
        if type(x) is Literal:
            return x.value
        if x in self.known and x not in self.checked:
            self._look_at(x)
        return self.uniform.get(x)

    def never_neg_zero(self, x) -> bool:
        kind = x.aval.dtype.kind
        if kind != "f":
            return kind != "c"     # (integers have no -0.0; complex: not tracked)
        if type(x) is Literal:
            return not _is_neg_zero(x.value)
        if x in self.known and x not in self.checked:
            self._look_at(x)
        return x in self.no_neg_zero

    def record(self, eqn):
        """Learn the facts of ``eqn``'s outputs."""
        for v in eqn.outvars:
            self.producer[v] = eqn
        name = eqn.primitive.name
        if name in _MOVES or name == "convert_element_type":
            out, u = eqn.outvars[0], self.uniform_value(eqn.inputs[0])
            if u is not None:
                self.uniform[out] = (np.asarray(u).astype(out.aval.dtype)[()]
                                     if name == "convert_element_type" else u)
        if self._never_neg_zero_result(name, eqn):
            self.no_neg_zero.add(eqn.outvars[0])

    def _never_neg_zero_result(self, name, eqn) -> bool:
        # In round-to-nearest a + b is -0.0 only when both are, a - b only
        # when a is -0.0 and b is 0.0; moves, sums and conversions keep a
        # sign; exp, abs, cosh, ... and even powers never give -0.0.
        ins, ok = eqn.inputs, self.never_neg_zero
        if name in _NEVER_NEG_ZERO:
            return True
        if name == "integer_pow":
            return eqn.params["y"] % 2 == 0
        if name in _MOVES or name in ("reduce_sum", "convert_element_type", "sub"):
            return ok(ins[0])
        if name == "add":
            return ok(ins[0]) or ok(ins[1])
        if name == "select":
            return ok(ins[1]) and ok(ins[2])
        return False


def _is(value, number) -> bool:
    """Whether NumPy scalar ``value`` is ``number`` bit for bit (so 0.0 is not -0.0)."""
    if value.dtype.kind == "b":
        return bool(value) == bool(number)
    target = np.asarray(number).astype(value.dtype)
    return value.tobytes() == target.tobytes()


def _full(x, out) -> bool:
    """Whether operand ``x`` has the shape and dtype of the result ``out``."""
    return x.aval.shape == out.aval.shape and x.aval.dtype == out.aval.dtype


# -- the rules: (eqn, facts) -> an atom standing for its one output, a new
# equation, or None --------------------------------------------------------------------
def _identity_operand(eqn, facts):
    """``x + 0``, ``x * 1``, ``x - 0.0``, ``x / 1`` and the like -> ``x``."""
    name, (a, b), out = eqn.primitive.name, eqn.inputs, eqn.outvars[0]
    kind = out.aval.dtype.kind
    # complex x * (1+0j) computes a - b*0, nan for an infinite b; booleans
    # do not subtract (NumPy raises)
    if kind == "c" or (kind == "b" and name == "sub"):
        return None
    floating = kind == "f"
    for x, other, position in ((a, b, 1), (b, a, 0)):
        u = facts.uniform_value(other)
        if u is None or not _full(x, out):
            continue
        if name == "mul" and _is(u, 1):
            return x
        if name == "div" and position == 1 and _is(u, 1):
            return x
        if name == "add":
            if not floating and _is(u, 0):
                return x
            if floating and (_is(u, -0.0) or (_is(u, 0.0) and facts.never_neg_zero(x))):
                return x
        if name == "sub" and position == 1:
            if _is(u, 0.0) or (floating and _is(u, -0.0) and facts.never_neg_zero(x)):
                return x
    return None


def _scalar_operands(eqn, facts):
    """An operand that holds one value everywhere, of an elementwise
    primitive that takes 0-d operands, becomes that value as a literal when
    the result keeps its type."""
    inputs = list(eqn.inputs)
    changed = False
    for k, x in enumerate(inputs):
        if type(x) is Literal or x.aval.shape == ():
            continue
        u = facts.uniform_value(x)
        if u is None:
            continue
        trial = inputs[:k] + [Literal(u)] + inputs[k + 1:]
        try:
            aval = eqn.primitive.shape_rule(*[t.aval for t in trial], **eqn.params)
        except Exception:
            continue
        if aval == eqn.outvars[0].aval:
            inputs, changed = trial, True
    if not changed:
        return None
    return Equation(eqn.primitive, inputs, eqn.outvars, eqn.params, eqn.source_info)


def _binary(eqn, facts):
    if eqn.primitive.name in ("add", "sub", "mul", "div"):
        x = _identity_operand(eqn, facts)
        if x is not None:
            return x
    return _scalar_operands(eqn, facts)


def _select(eqn, facts):
    pred, on_true, on_false = eqn.inputs
    if on_true is on_false and _full(on_true, eqn.outvars[0]):
        return on_true
    u = facts.uniform_value(pred)
    if u is not None:
        chosen = on_true if bool(u) else on_false
        if _full(chosen, eqn.outvars[0]):
            return chosen
    return _scalar_operands(eqn, facts)


def _producer(facts, x, name):
    eqn = facts.producer.get(x) if type(x) is Var else None
    return eqn if eqn is not None and eqn.primitive.name == name else None


def _neg(eqn, facts):
    if eqn.outvars[0].aval.dtype.kind == "b":   # (NumPy does not negate booleans: it raises)
        return None
    inner = _producer(facts, eqn.inputs[0], "neg")
    return inner.inputs[0] if inner is not None else None


def _transpose(eqn, facts):
    x, perm = eqn.inputs[0], tuple(eqn.params["permutation"])
    inner = _producer(facts, x, "transpose")
    if inner is not None:   # axis j of the result is axis p1[p2[j]] of the source
        p1 = inner.params["permutation"]
        x, perm = inner.inputs[0], tuple(int(p1[p]) for p in perm)
    if perm == tuple(range(len(perm))):
        return x
    if inner is None:
        return None
    return Equation(eqn.primitive, [x], eqn.outvars, {"permutation": perm}, eqn.source_info)


def _reshape(eqn, facts):
    x, out = eqn.inputs[0], eqn.outvars[0]
    inner = facts.producer.get(x) if type(x) is Var else None
    if inner is not None and inner.primitive.name in _RESHAPES:
        x = inner.inputs[0]     # C order either way: one reshape from the source
    else:
        inner = None
    if x.aval.shape == out.aval.shape:
        return x
    if inner is None:
        return None
    return Equation(PRIMITIVES["reshape"], [x], eqn.outvars, {"shape": tuple(out.aval.shape)},
                    eqn.source_info)


def _broadcast(eqn, facts):
    x, out = eqn.inputs[0], eqn.outvars[0]
    if x.aval.shape == out.aval.shape:
        return x
    inner = _producer(facts, x, "broadcast_in_dim")
    if inner is None:
        return None
    # operand axis i -> middle axis d1[i] -> output axis d2[d1[i]]
    dims = eqn.params["broadcast_dimensions"]
    composed = tuple(int(dims[d]) for d in inner.params["broadcast_dimensions"])
    return Equation(eqn.primitive, [inner.inputs[0]], eqn.outvars,
                    {"shape": eqn.params["shape"], "broadcast_dimensions": composed},
                    eqn.source_info)


def _reduce_sum(eqn, facts):
    x, out = eqn.inputs[0], eqn.outvars[0]
    axes = tuple(eqn.params["axes"])
    if not axes:
        return x
    inner = _producer(facts, x, "broadcast_in_dim")
    if inner is None:
        return None
    src, shape = inner.inputs[0], inner.params["shape"]
    dims = inner.params["broadcast_dimensions"]
    # only the new axes summed, and no operand axis stretched from size 1
    if set(axes) != set(range(len(shape))) - set(dims) or \
            any(src.aval.shape[i] != shape[d] for i, d in enumerate(dims)):
        return None
    count = math.prod(shape[a] for a in axes)
    if count == 1:
        return src
    dtype = out.aval.dtype
    if count == 0 or dtype.kind not in "iuf":
        return None
    # integers wrap around as the sum does; a float count must be exact
    n = np.asarray(count).astype(dtype)
    if dtype.kind == "f" and float(n) != count:
        return None
    return Equation(PRIMITIVES["mul"], [src, Literal(n[()])], eqn.outvars, {}, eqn.source_info)


def _convert(eqn, facts):
    x = eqn.inputs[0]
    return x if x.aval.dtype == eqn.params["new_dtype"] else None


def _integer_pow(eqn, facts):
    return eqn.inputs[0] if eqn.params["y"] == 1 else None


RULES = {name: _binary for name in _SCALAR_OPERANDS}
RULES.update({"select": _select, "neg": _neg, "transpose": _transpose, "reshape": _reshape,
              "squeeze": _reshape, "expand_dims": _reshape, "broadcast_in_dim": _broadcast,
              "reduce_sum": _reduce_sum, "convert_element_type": _convert,
              "integer_pow": _integer_pow})


def simplify_level(ir, known):
    """``ir`` with the rules applied (its bodies are the caller's); ``known``
    maps const vars to their NumPy values.  Returns ``(new ir, changed)``."""
    facts = _Facts(known)
    subst, eqns, changed = {}, [], False
    get = subst.get
    for eqn in ir.eqns:
        inputs = [get(x, x) for x in eqn.inputs]
        if any(a is not b for a, b in zip(inputs, eqn.inputs)):
            eqn = Equation(eqn.primitive, inputs, eqn.outvars, eqn.params, eqn.source_info)
        for _ in range(4):          # a rewritten equation may simplify again
            rule = RULES.get(eqn.primitive.name)
            result = rule(eqn, facts) if rule is not None else None
            if result is None or (type(result) is not Equation
                                  and not same_aval(result, eqn.outvars[0])):
                break
            changed = True
            if type(result) is not Equation:
                subst[eqn.outvars[0]] = result
                eqn = None
                break
            eqn = result
        if eqn is not None:
            eqns.append(eqn)
            facts.record(eqn)
    outvars = [get(x, x) for x in ir.outvars]
    return IR(ir.constvars, ir.invars, eqns, outvars), changed
