"""Optimization passes: a program in, an equivalent and smaller program out.

Each pass is a function from a ``ClosedIR`` to a new ``ClosedIR`` (or from
an ``IR`` to a new ``IR``) that computes the same outputs from the same
inputs, and can be run and printed on its own::

    print(cr.passes.cse(cr.make_ir(cr.grad(f))(x)))

    dce       dead-code elimination: drop the equations no output depends on
              (keeping those that may raise, such as ``cholesky``) and the
              constants nothing reads
    cse       common-subexpression elimination: an equation that repeats an
              earlier one (same primitive, same operands, equal params) is
              dropped and its outputs read the earlier one's
    fold      constant folding: an equation whose operands are all known
              (literals, constants) is computed now; its result becomes a
              literal (0-d) or a new constant
    simplify  algebraic identities that are exact in IEEE arithmetic:
              ``x * 1``, ``x - 0.0``, ``neg (neg x)``, a transpose of a
              transpose, chained reshapes, no-op conversions, ... (``simplify.py``)
    forward   an output of a control-flow equation that is one of its
              operands passed through unchanged (a loop carry the body
              returns as it got it, an operand every branch returns) is
              read from that operand instead
    optimize  ``DEFAULT_PIPELINE`` run until nothing changes (at most
              ``MAX_ROUNDS`` rounds)

A pass never changes its argument: it builds new equations where it
rewrites, and shares the unchanged ones (and every ``Var``) with the
argument.  The interface stays: the same inputs, the same number of outputs
with the same abstract values (shape, dtype and weak type), the same
pytree structures.  An output may come out as one of the program's inputs,
a constant or a literal (``x * 1`` returned is ``x``): a compiler copies
such a result at the boundary, so that no result aliases an argument.  Of
an ``IR`` the passes take the const vars as unknown inputs and keep them
all (the caller passes their values); of a ``ClosedIR`` they know the
values that are NumPy arrays (not tracers of an enclosing trace), fold
with them and drop those nothing reads.

Bodies.  A control-flow equation holds its bodies (``ClosedIR`` values) in
its params.  A pass first collects every body, nested to any depth, with an
explicit stack (nothing recurses over programs), then rewrites them
innermost first, each body keeping its inputs and outputs, and rebuilds the
params of the equations that hold them (``nested.py``).  A body shared by
several equations is rewritten once.  Per-primitive facts about bodies
come from the primitive itself: ``may_raise`` (an equation holding a body
that may raise may raise), and two rules the control-flow modules set:
``forwarding`` (for each output, the index of the operand it passes
through, or None) and ``prune`` (the equation without the outputs nobody
reads).

Every pass is one loop over the equations (with dictionaries: linear time),
so a program of 10^5 equations goes through ``optimize`` in one to two
seconds.
"""
from __future__ import annotations

import numpy as np

from ..tracer.core import Tracer
from ..tracer.ir import IR, ClosedIR, Equation, Literal, Var
from .nested import bodies_of, rewrite_every_level
from .simplify import same_aval, simplify_level

MAX_ROUNDS = 4                   # rounds of the pipeline in ``optimize``
FOLD_MAX_BYTES = 1 << 20         # constants folded are at most 1 MiB each
FOLD_MAX_FLOPS = 10 ** 7         # and cost at most this much to compute
CSE_MAX_ARRAY_BYTES = 1 << 16    # arrays in params compared by value up to this size


def _check_program(p, name):
    if not isinstance(p, (ClosedIR, IR)):
        raise TypeError(f"passes.{name} takes a ClosedIR (as cr.make_ir gives) or an IR, got "
                        f"{type(p).__name__}")


def _read_all(inputs, subst):
    """``inputs`` with substituted atoms, and whether any changed."""
    get = subst.get
    new = [get(x, x) for x in inputs]
    return new, any(a is not b for a, b in zip(new, inputs))


def _renamed(eqn, subst):
    """``eqn`` reading its substituted atoms (itself when none is)."""
    if subst:      # (a loop, not any(): this runs once per equation of every pass)
        for x in eqn.inputs:
            if x in subst:
                get = subst.get
                return Equation(eqn.primitive, [get(y, y) for y in eqn.inputs], eqn.outvars,
                                eqn.params, eqn.source_info)
    return eqn


def _known_consts(ir, consts):
    """const var -> value, for the NumPy values of a ClosedIR's constants."""
    if consts is None:
        return {}
    return {v: c for v, c in zip(ir.constvars, consts)
            if isinstance(c, (np.ndarray, np.generic)) and not isinstance(c, Tracer)}


# -- dce ----------------------------------------------------------------------------------
def _pruned(eqn, live, ctx):
    """``eqn`` without the outputs nobody reads, through its primitive's
    ``prune`` rule (control flow: the body stops computing them, and
    operands it then does not read go too); ``eqn`` itself without one."""
    rule = getattr(eqn.primitive, "prune", None)
    used = [v in live for v in eqn.outvars]
    if rule is None or all(used):
        return eqn
    result = rule(used, **eqn.params)
    if result is None:
        return eqn
    params, inputs, outputs = result
    ctx.changed = True
    return Equation(eqn.primitive, [eqn.inputs[i] for i in inputs],
                    [eqn.outvars[k] for k in outputs], params, eqn.source_info)


def _dce_level(ir, consts, ctx):
    live = {v for v in ir.outvars if type(v) is Var}
    kept = []
    for eqn in reversed(ir.eqns):
        if any(v in live for v in eqn.outvars) or ctx.may_raise(eqn):
            eqn = _pruned(eqn, live, ctx)
            kept.append(eqn)
            live.update(x for x in eqn.inputs if type(x) is Var)
    kept.reverse()
    if len(kept) != len(ir.eqns):
        ctx.changed = True
    constvars = ir.constvars
    if consts is not None:
        keep = [v in live for v in constvars]
        if not all(keep):
            ctx.changed = True
            constvars = [v for v, k in zip(constvars, keep) if k]
            consts = [c for c, k in zip(consts, keep) if k]
    return IR(constvars, ir.invars, kept, ir.outvars), consts


def dce(p):
    """``p`` without the equations no output depends on and the constants
    nothing reads (``IR.without_dead_code``, in every body too), and the
    control-flow equations without the outputs nobody reads (the
    primitive's ``prune`` rule: a ``scan``'s unread ``ys``, a ``cond``'s or
    a ``checkpoint``'s unread outputs, and the operands their bodies then
    do not read).  Equations
    that may raise (``cholesky`` of a matrix that is not positive definite,
    or a control-flow equation whose body holds one) are kept, so that the
    checks the program makes still run."""
    _check_program(p, "dce")
    for _ in range(MAX_ROUNDS):   # (a body that lost outputs is cleaned in the next round)
        p, changed = rewrite_every_level(p, _dce_level)
        if not changed:
            break
    return p


# -- cse ----------------------------------------------------------------------------------
def _value_key(value):
    """A hashable key equal for params that act alike; identity where the
    value cannot be compared cheaply (bodies, rules, large arrays).  (Params
    nest a few tuples deep; a body is keyed by identity, so this never
    descends into a program.)"""
    t = type(value)
    if t in (bool, int, str) or value is None:
        return (t, value)
    if t is float:
        return (t, value.hex())           # -0.0 and 0.0 differ, nan equals nan
    if t in (tuple, list):
        return (t, tuple(_value_key(v) for v in value))
    if isinstance(value, np.generic):
        return ("scalar", value.dtype.str, value.tobytes())
    if isinstance(value, np.ndarray) and value.nbytes <= CSE_MAX_ARRAY_BYTES \
            and value.dtype.kind in "biufcM":
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, np.dtype):
        return ("dtype", value)
    if isinstance(value, (ClosedIR, IR, np.ndarray)):
        return ("id", id(value))
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return (t, value)


def _atom_key(x):
    if type(x) is Literal:      # by value and dtype: 2.0:f64 is not 2.0:f32, -0.0 not 0.0
        return ("literal", x.value.dtype.str, x.value.tobytes())
    return x


def _const_key(value):
    if isinstance(value, np.ndarray) and value.nbytes <= FOLD_MAX_BYTES \
            and value.dtype.kind in "biufc":
        return (value.dtype.str, value.shape, value.tobytes())
    return None


def _cse_level(ir, consts, ctx):
    subst = {}
    constvars = ir.constvars
    if consts is not None:   # equal small constant arrays are one constant
        first, constvars, kept = {}, [], []
        for v, c in zip(ir.constvars, consts):
            key = _const_key(c)
            key = key and key + (v.aval.weak_type,)
            if key is not None and key in first:
                subst[v] = first[key]
                ctx.changed = True
                continue
            if key is not None:
                first[key] = v
            constvars.append(v)
            kept.append(c)
        consts = kept
    seen, eqns = {}, []
    for eqn in ir.eqns:
        eqn = _renamed(eqn, subst)
        if getattr(eqn.primitive, "effectful", False):   # (none today: a hook for randomness)
            eqns.append(eqn)
            continue
        params = eqn.params
        key = (eqn.primitive, tuple([x if type(x) is not Literal else _atom_key(x)
                                     for x in eqn.inputs]),
               tuple(sorted([(k, _value_key(v)) for k, v in params.items()])) if params else (),
               tuple([v.aval.weak_type for v in eqn.outvars]))
        earlier = seen.get(key)
        if earlier is None:
            seen[key] = eqn
            eqns.append(eqn)
            continue
        ctx.changed = True
        for v, w in zip(eqn.outvars, earlier.outvars):
            subst[v] = w
    outvars, _ = _read_all(ir.outvars, subst)
    return IR(constvars, ir.invars, eqns, outvars), consts


def cse(p):
    """``p`` with each repeated computation done once: an equation with the
    primitive, operands (literals compared by value and dtype) and params
    (compared by value; bodies, rules and large arrays by identity) of an
    earlier one is dropped, its outputs read from the earlier one's; equal
    small constant arrays become one constant."""
    _check_program(p, "cse")
    return rewrite_every_level(p, _cse_level)[0]


# -- fold ---------------------------------------------------------------------------------
def _foldable(eqn, ctx):
    prim = eqn.primitive
    if prim.impl is None or ctx.may_raise(eqn) or getattr(prim, "effectful", False) \
            or bodies_of(eqn.params):
        return False
    out_avals = [v.aval for v in eqn.outvars]
    if sum(a.size * a.dtype.itemsize for a in out_avals) > FOLD_MAX_BYTES:
        return False
    try:
        flops = prim.cost([x.aval for x in eqn.inputs], out_avals, **eqn.params)
    except Exception:   # (a cost model that cannot say: do not fold)
        return False
    return flops <= FOLD_MAX_FLOPS


def _finite(values):
    return all(np.all(np.isfinite(v)) for v in values
               if np.asarray(v).dtype.kind in "fc")


def _evaluate(eqn, values):
    """The outputs of ``eqn`` on ``values``, as arrays of its output avals, or
    None when it cannot be folded (it raises, gives other types, or makes
    a NaN or infinity from finite operands: that is left for the program
    to do, where ``debug_nans`` can name it)."""
    try:
        with np.errstate(all="ignore"):
            out = eqn.primitive.impl(*values, **eqn.params)
    except Exception:
        return None
    outs = [np.asarray(o) for o in (out if eqn.primitive.multiple_results else [out])]
    if len(outs) != len(eqn.outvars):
        return None
    for o, v in zip(outs, eqn.outvars):
        if o.shape != v.aval.shape or o.dtype != v.aval.dtype:
            return None
    if _finite(values) and not _finite(outs):
        return None
    return outs


def _fold_level(ir, consts, ctx):
    known = _known_consts(ir, consts)
    subst, eqns = {}, []
    constvars, consts = list(ir.constvars), (list(consts) if consts is not None else None)
    for eqn in ir.eqns:
        eqn = _renamed(eqn, subst)
        if not all(type(x) is Literal or x in known for x in eqn.inputs) \
                or not _foldable(eqn, ctx):
            eqns.append(eqn)
            continue
        outs = _evaluate(eqn, [x.value if type(x) is Literal else known[x] for x in eqn.inputs])
        # a weak-typed or larger result needs a constant (a literal has a strong 0-d type)
        if outs is None or (consts is None and any(o.ndim or v.aval.weak_type
                                                   for o, v in zip(outs, eqn.outvars))):
            eqns.append(eqn)
            continue
        ctx.changed = True
        for o, v in zip(outs, eqn.outvars):
            if o.ndim == 0 and not v.aval.weak_type:
                subst[v] = Literal(o[()])
            else:   # the output var becomes a const var, with its own aval
                value = np.array(o, copy=True)
                constvars.append(v)
                consts.append(value)
                known[v] = value
    outvars, _ = _read_all(ir.outvars, subst)
    return IR(constvars, ir.invars, eqns, outvars), consts


def fold(p):
    """``p`` with every equation whose operands are all known (literals, and
    the NumPy constants of a ClosedIR) computed now by its primitive's
    implementation: a 0-d result becomes a literal, any other (and a weakly
    typed one) a new constant (of a ClosedIR only; an IR's const vars are
    unknown).  Not folded: equations that may raise or hold bodies,
    results over ``FOLD_MAX_BYTES`` or costing over ``FOLD_MAX_FLOPS``,
    and NaN or infinity made from finite operands (left to the program, so
    that ``debug_nans`` still names the line)."""
    _check_program(p, "fold")
    return rewrite_every_level(p, _fold_level)[0]


# -- simplify -----------------------------------------------------------------------------
def _simplify_level(ir, consts, ctx):
    new_ir, changed = simplify_level(ir, _known_consts(ir, consts))
    ctx.changed = ctx.changed or changed
    return new_ir, consts


def simplify(p):
    """``p`` with the algebraic identities of ``simplify.py`` applied (each
    exact in IEEE arithmetic, but for a ``reduce_sum`` of a broadcast, which
    becomes one multiplication and rounds once instead of at every
    addition)."""
    _check_program(p, "simplify")
    return rewrite_every_level(p, _simplify_level)[0]


# -- forward ------------------------------------------------------------------------------
def _forward_level(ir, consts, ctx):
    subst, eqns = {}, []
    for eqn in ir.eqns:
        eqn = _renamed(eqn, subst)
        eqns.append(eqn)
        rule = getattr(eqn.primitive, "forwarding", None)
        if rule is None:
            continue
        for v, source in zip(eqn.outvars, rule(**eqn.params)):
            if source is not None and same_aval(eqn.inputs[source], v):
                subst[v] = eqn.inputs[source]
                ctx.changed = True
    outvars, _ = _read_all(ir.outvars, subst)
    return IR(ir.constvars, ir.invars, eqns, outvars), consts


def forward(p):
    """``p`` reading each output of a control-flow equation that only passes
    one of its operands through (the primitive's ``forwarding`` rule: a
    carry a loop body returns unchanged, an operand every branch of a
    ``cond`` returns, a ``checkpoint`` body's input returned) from that
    operand instead; the equation itself stays until ``dce`` finds it
    dead.  (Custom-rule calls are not forwarded through: their outputs
    carry the user's derivative rule, which the operand does not.)"""
    _check_program(p, "forward")
    return rewrite_every_level(p, _forward_level)[0]


# -- the pipeline -------------------------------------------------------------------------
_LEVELS = {}
DEFAULT_PIPELINE = (forward, simplify, fold, cse, dce)


def optimize(p, pipeline=None):
    """``p`` through ``pipeline`` (a sequence of passes; ``DEFAULT_PIPELINE``
    when None), in turn, until every other pass has run without a change
    on what the last changing pass made, at most ``MAX_ROUNDS`` rounds.
    The result passes ``check()``."""
    _check_program(p, "optimize")
    pipeline = DEFAULT_PIPELINE if pipeline is None else tuple(pipeline)
    # a fixed point: each pass finishes its own work in one run, so after a
    # pass changes the program only the others need to run again; and
    # ``dce`` only deletes, which gives no other pass new work.  Stop when no
    # pass is left to run on the program as it is.
    pending = list(dict.fromkeys(pipeline))
    for one in pipeline * MAX_ROUNDS:
        if one not in pending:
            continue
        pending.remove(one)
        level = _LEVELS.get(one)
        if level is None:          # a pass of the caller's: run it as it is
            p, did = one(p), True
        else:
            p, did = rewrite_every_level(p, level)
        if did and one is not dce:
            pending = [q for q in dict.fromkeys(pipeline) if q is not one]
        if not pending:
            break
    return p


_LEVELS.update({dce: _dce_level, cse: _cse_level, fold: _fold_level, simplify: _simplify_level,
                forward: _forward_level})
