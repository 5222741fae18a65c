"""``jacobian(f, mode="auto")`` and ``jacobian_plan``: the Jacobian chain,
ordered by cost.

``f`` is traced and linearized once, abstractly.  Its linear program is cut
into a chain of segments at narrow points (``interpreters/chain.py``), the
cheapest way to multiply the chain out is found by dynamic programming
(``planner.py``), and the plan is run (``plan_execution.py``): batched
tangent sweeps, batched adjoint sweeps, explicit operands of matrix
products, and dense products.

All of that is done *symbolically*, once per program structure: the whole
computation (the primal work the residuals need, the linearization, the
plan's sweeps and products) is traced into one program, pruned of dead
code, and each later call traces ``f`` abstractly (its Python runs, its
arrays are read as they are now), checks the program's structure and only
evaluates.  ``jacobian_plan(f)(x).program`` prints that program.

What one ``jacobian(f)`` keeps is bounded (``_Cache``): at most
``_SIGNATURES_PER_FUNCTION`` argument signatures, ``_PROGRAMS_PER_SIGNATURE``
staged programs per signature, ``_CONSTANT_BYTES`` bytes of their constants;
``cr.clear_caches`` empties the caches of every live ``jacobian(f)``.
"""
from __future__ import annotations

import functools
import time
import weakref

import numpy as np

from .. import numpy as cnp
from ..interpreters.chain import cut_chain, segments_at
from ..interpreters.evaluate import eval_ir
from ..tracer.avals import ShapedArray
from ..tracer.core import Tracer, get_aval, new_trace
from ..tracer.errors import ConcretizationError
from ..tracer.ir import IR, ClosedIR, Equation, Var
from ..tracer.pytree import tree_flatten, tree_unflatten
from ..tracer.tracebacks import api_boundary
from . import planner
from .ad import _linearize
from .jacfwd_jacrev import _assemble, _diff_function, jacfwd, jacrev
from ..tracer.tracing import new_args, trace_to_ir
from .plan_execution import _Chain

MIXED_MARGIN = 1.25   # "auto" takes a mixed plan only if predicted this much cheaper


def _fingerprint(ir):
    return (tuple(v.aval.shape for v in ir.invars),
            tuple((e.primitive.name, tuple(v.aval.shape for v in e.outvars)) for e in ir.eqns))


class JacobianPlan:
    """The chosen order of the Jacobian chain, with the predictions behind it."""

    def __init__(self, chain_segments, cuts, widths, costs, root, fwd, rev, mode,
                 planning_time, n, m):
        self.segments, self.cuts, self.widths, self.costs = chain_segments, cuts, widths, costs
        self.root, self.forward_time, self.reverse_time = root, fwd, rev
        self.mode, self.planning_time, self.n, self.m = mode, planning_time, n, m
        self.predicted_time = root.cost
        self.program = None   # the whole Jacobian computation as IR (jacobian_plan sets it)
        self.forced_reason = None   # why the mode was forced (a primitive one mode cannot run)
        k = len(chain_segments)
        # (flops, bytes moved, peak bytes) of pure forward, pure reverse, the choice
        pure = {"forward": planner.FWD, "reverse": planner.REV}
        self.totals = {name: planner.plan_totals(planner.PlanNode(option, 0, k - 1), costs)
                       for name, option in pure.items()}
        self.totals["chosen"] = planner.plan_totals(root, costs)

    @property
    def pure(self):
        return self.root.option in (planner.FWD, planner.REV) and self.root.i == 0 \
            and self.root.j == len(self.segments) - 1

    def __str__(self):
        seg_lines = []
        for s, seg in enumerate(self.segments):
            where = f"  {seg.source.short()}" if seg.source is not None else ""
            seg_lines.append(f"  A{s + 1}: equations {seg.start}..{seg.stop - 1}, "
                             f"{seg.width_in} -> {seg.width_out}, {seg.kind}{where}")
        best_pure = min(self.forward_time, self.reverse_time)
        why = (self.forced_reason if self.forced_reason
               else "a pure mode: no mixed order was predicted to be 1.25x cheaper" if self.pure
               else f"predicted {best_pure / self.predicted_time:.1f}x cheaper than the faster "
                    "pure mode")
        return "\n".join([
            f"Jacobian plan ({self.mode}): n = {self.n} inputs, m = {self.m} outputs",
            f"chain of {len(self.segments)} segments, widths at the cuts "
            f"{[int(w) for w in self.costs.w]}:",
            *seg_lines,
            f"chosen order: {self.root.describe()}",
            f"predicted time: forward {self.forward_time * 1e3:.3f} ms, reverse "
            f"{self.reverse_time * 1e3:.3f} ms, chosen {self.predicted_time * 1e3:.3f} ms",
            *[f"  {name:>8}: {flops / 1e6:,.1f} Mflop, {moved / 2**20:,.1f} MiB moved, "
              f"peak {peak / 2**20:,.1f} MiB" for name, (flops, moved, peak) in self.totals.items()],
            f"bottleneck widths: {sorted({int(w) for w in self.costs.w})[:5]} "
            f"(n = {self.n}, m = {self.m})",
            f"why: {why}",
            f"planning took {self.planning_time * 1e3:.2f} ms",
            *([f"the computation: {len(self.program.eqns)} equations "
               "(print(plan.program) to read them)"] if self.program is not None else [])])

    def _repr_markdown_(self):
        return "```\n" + str(self) + "\n```"

    def __repr__(self):
        return (f"<JacobianPlan {self.root.describe()}, predicted "
                f"{self.predicted_time * 1e3:.3f} ms>")


def _plan(linear, n, m, mode, memory_limit):
    start = time.perf_counter()
    # residuals that are tracers of the planning trace were computed; plain
    # arrays are the function's own constants (when traced concretely, all count)
    computed = {v for v, c in zip(linear.ir.constvars, linear.consts) if isinstance(c, Tracer)}
    segments, cuts = cut_chain(linear.ir, n, m, computed or None)
    widths = [segments[0].width_in] + [s.width_out for s in segments]
    costs = planner.ChainCosts(segments, widths)
    cost, option, split = planner.solve_chain(costs, memory_limit)
    k = len(segments)
    fwd = float(costs.sweep(0, k - 1, widths[0]))
    if k > 1 and segments[0].kind == "explicit":
        # jacfwd folds its identity seed into a leading matrix product
        fwd = min(fwd, float(cost[0, 0] + costs.sweep(1, k - 1, widths[0])))
    rev = float(costs.sweep(0, k - 1, widths[-1], adjoint=True))
    if memory_limit is not None and costs.residuals(0, k - 1) > memory_limit:
        rev = np.inf
    best = planner.build_plan(cost, option, split, 0, k - 1)
    pure = (planner.PlanNode(planner.FWD, 0, k - 1, cost=fwd) if fwd <= rev
            else planner.PlanNode(planner.REV, 0, k - 1, cost=rev))
    no_forward, no_reverse = _unsupported_modes(linear.ir)
    forced = None
    if mode in ("auto", "optimal") and (no_forward or no_reverse):
        if no_forward and no_reverse:
            raise NotImplementedError(
                f"jacobian: the function's linear program can be run neither forward "
                f"({no_forward}) nor backward ({no_reverse})")
        # no bracketing can go through it: the one pure mode that can
        option = planner.REV if no_forward else planner.FWD
        forced = (f"the pure {'reverse' if no_forward else 'forward'} mode: its linear program "
                  f"holds {no_forward or no_reverse}, which "
                  f"{'forward' if no_forward else 'reverse'} mode cannot run")
        root = planner.PlanNode(option, 0, k - 1, cost=rev if no_forward else fwd)
    elif mode == "fwd":
        root = planner.PlanNode(planner.FWD, 0, k - 1, cost=fwd)
    elif mode == "rev":
        root = planner.PlanNode(planner.REV, 0, k - 1, cost=rev)
    elif best.cost * (MIXED_MARGIN if mode == "auto" else 1 + 1e-12) > pure.cost:
        root = pure   # ("optimal" too, when a mixed plan only ties with the pure one)
    else:
        root = best
    plan = JacobianPlan(segments, cuts, widths, costs, root, fwd, rev, mode,
                        time.perf_counter() - start, n, m)
    plan.forced_reason = forced
    return plan


def _unsupported_modes(ir):
    """``(why not forward, why not reverse)`` for a linear program, from its
    primitives and those of the bodies they hold (None: that mode works):
    a ``while`` loop has no transpose, custom_vjp's linear part runs only
    backwards.  A loop over the equations with a work list of bodies."""
    no_forward = no_reverse = None
    todo = [ir]
    while todo:
        for eqn in todo.pop().eqns:
            prim = eqn.primitive
            if prim.no_forward_reason and no_forward is None:
                no_forward = f"{prim.name} ({eqn.source_info.short() if eqn.source_info else ''})"
            if prim.transpose is None and prim.no_transpose_reason and no_reverse is None:
                no_reverse = f"{prim.name} ({eqn.source_info.short() if eqn.source_info else ''})"
            for value in eqn.params.values():
                for sub in value if isinstance(value, tuple) else (value,):
                    if isinstance(sub, ClosedIR):
                        todo.append(sub.ir)
    return no_forward, no_reverse


def _check_mode(mode):
    if mode not in ("auto", "optimal", "fwd", "rev"):
        raise ValueError(f"jacobian: mode must be 'auto', 'optimal', 'fwd' or 'rev', got {mode!r}")


@api_boundary
def jacobian(f, argnums=0, mode="auto", memory_limit=None):
    """The Jacobian of ``f``, multiplied out in the order a cost model
    predicts to be cheapest (``mode="auto"``: forward, reverse, or a mixed
    bracketing when that is predicted at least 1.25x cheaper; ``"optimal"``:
    always the cheapest; ``"fwd"``/``"rev"``: a pure mode).  Output shapes
    are ``out.shape + in.shape``, as ``jacfwd``/``jacrev``.

    The plan is made once per argument signature from the abstract program
    (no numbers).  Every call traces ``f`` again (abstractly: its Python runs
    as always, and the closed-over arrays are read as they are now); the
    whole Jacobian computation for a program of that structure (the
    residuals it needs, the plan's sweeps and products) is traced into one
    program the first time (``_stage``), pruned of dead code, and from then
    on only evaluated.  Functions with Python control flow on values cannot
    be traced abstractly: they are linearized on every call, and only the
    plan's execution is staged, per linear program.
    """
    _check_mode(mode)
    cache = _Cache()
    plans = cache.plans

    @api_boundary
    @functools.wraps(f)
    def jacobian_f(*args):
        h, diff_args, single = _diff_function(f, args, argnums, "jacobian")
        in_leaves, in_tree = tree_flatten(diff_args)
        key = (in_tree, tuple((get_aval(x).shape, get_aval(x).dtype) for x in in_leaves))
        entry = plans.get(key)
        if entry is None:
            try:
                entry = _Entry(*_abstract_plan(h, diff_args, mode, memory_limit))
            except ConcretizationError:   # Python control flow on values: plan per call
                entry = _Entry(None, None, abstract=False)
            cache.add(key, entry)
        closed = None
        if entry.abstract:
            try:
                closed = trace_to_ir(h, diff_args, name="jacobian")
            except ConcretizationError:   # this call takes a value-dependent path
                pass
        if closed is None:
            return _jacobian_now(h, diff_args, single, entry, mode, memory_limit)
        literals = []
        structure = _structure(closed.ir, literals)
        key = None if structure is None else (closed.out_tree, structure)
        program = entry.programs.get(key)
        if program is None:
            program = _stage(_lift_literals(closed), single, entry, mode, memory_limit)
            _keep(entry.programs, key, program, cache)
        outs = eval_ir(program.ir, program.consts, closed.consts + literals + in_leaves)
        return tree_unflatten(program.out_tree, _unshared(outs, program.consts))

    jacobian_f.plans = plans
    return jacobian_f


_SIGNATURES_PER_FUNCTION = 32    # argument signatures one jacobian(f) keeps (oldest dropped)
_PROGRAMS_PER_SIGNATURE = 8       # programs (control-flow paths, literals) kept per signature
_CONSTANT_BYTES = 64 * 2 ** 20   # bytes of constants the programs of one jacobian(f) may keep


class _Entry:
    """What ``jacobian`` keeps per argument signature: the plan made from
    the abstract program (None when there is none) and its fingerprint,
    whether ``f`` can be traced abstractly, and the programs staged so far:
    whole computations per program structure, and (for calls that must be
    traced concretely) plan executions per linear program structure."""

    def __init__(self, plan, fingerprint, abstract=True):
        self.plan, self.fingerprint, self.abstract = plan, fingerprint, abstract
        self.programs, self.executions = {}, {}


class _Cache:
    """What one ``jacobian(f)`` keeps: ``plans``, an ``_Entry`` per argument
    signature (at most ``_SIGNATURES_PER_FUNCTION``; a new one drops the
    oldest), and ``used``, the bytes of constants their staged programs hold
    (at most ``_CONSTANT_BYTES``).  Every live one is in ``_CACHES``, for
    ``clear_jacobian_caches``."""

    def __init__(self):
        self.plans, self.used = {}, 0
        _CACHES.add(self)

    def add(self, key, entry):
        if len(self.plans) >= _SIGNATURES_PER_FUNCTION:
            oldest = self.plans.pop(next(iter(self.plans)))
            self.used -= sum(_nbytes(p) for p in oldest.programs.values())
        self.plans[key] = entry

    def clear(self):
        self.plans.clear()
        self.used = 0


_CACHES = weakref.WeakSet()   # the _Cache of every live jacobian(f)


def clear_jacobian_caches() -> None:
    """Forget the plans and staged programs of every ``jacobian(f)``
    (``cr.clear_caches``); each makes them anew on its next call."""
    for cache in list(_CACHES):
        cache.clear()


def _nbytes(program):
    return sum(getattr(c, "nbytes", 0) for c in program.consts)


def _keep(cache, key, program, budget=None):
    """Cache ``program`` under ``key`` unless the key is unhashable (None),
    the cache is full, or its constants (identities, zeros the tracing
    folded in) would take more than the budget: those are staged anew on
    every call instead of held for the life of the function."""
    nbytes = _nbytes(program)
    if key is None or len(cache) >= _PROGRAMS_PER_SIGNATURE:
        return
    if budget is not None:
        if budget.used + nbytes > _CONSTANT_BYTES:
            return
        budget.used += nbytes
    cache[key] = program


def _unshared(outs, consts):
    """The outputs, each copied if it may share memory with one of the
    program's constants (a Jacobian that does not depend on the inputs is
    folded into one): a caller writing into a result must not change the
    cached program."""
    arrays = [c for c in consts if isinstance(c, np.ndarray)]
    return [o.copy() if isinstance(o, np.ndarray) and any(np.may_share_memory(o, c)
                                                           for c in arrays) else o
            for o in outs]


def _pure(h, diff_args, single, option):
    argnums = 0 if single else tuple(range(len(diff_args)))
    return (jacfwd if option == planner.FWD else jacrev)(h, argnums)(*diff_args)


def _jacobian_now(h, diff_args, single, entry, mode, memory_limit):
    """The Jacobian of ``h`` at ``diff_args`` by ``entry``'s plan: linearize,
    then evaluate the plan's execution program (staged per linear program
    into ``entry.executions``); pure plans run as ``jacfwd``/``jacrev``."""
    if entry.plan is not None and entry.plan.pure:
        return _pure(h, diff_args, single, entry.plan.root.option)
    traced, linear = _linearize(h, diff_args, lambda avals: [True] * len(avals), "jacobian")
    in_leaves = tree_flatten(diff_args)[0]
    n = sum(get_aval(x).size for x in in_leaves)
    m = sum(get_aval(o).size for o in traced.outs)
    if not linear.ir.eqns or n == 0 or m == 0:
        return _pure(h, diff_args, single, planner.REV)
    structure = _structure(linear.ir)
    program = entry.executions.get(structure)
    if program is None:
        plan = entry.plan
        if plan is None or _fingerprint(linear.ir) != entry.fingerprint:
            # this call's program differs from the abstract one (control flow)
            plan = _plan(linear, n, m, mode, memory_limit)
            if plan.pure:
                return _pure(h, diff_args, single, plan.root.option)
        program = _stage_execution(linear, plan, traced.outs, in_leaves)
        _keep(entry.executions, structure, program)
    blocks = iter(_unshared(eval_ir(program.ir, program.consts, list(linear.consts)),
                            program.consts))
    rows = [[next(blocks) for _ in in_leaves] for _ in traced.outs]
    return _assemble(rows, traced.out_tree, [tree_flatten(a)[1] for a in diff_args], single)


def _stage(closed, single, entry, mode, memory_limit):
    """The whole Jacobian computation of the program ``closed`` (``f`` traced
    at this call) as one program from its constants and inputs to the
    Jacobian: the primal work the residuals need, the linearization and the
    plan's execution, without dead code (such as ``f``'s own output)."""
    def whole(consts, xs):
        def g(*ys):
            return tree_unflatten(closed.out_tree, eval_ir(closed.ir, list(consts),
                                                           tree_flatten(ys)[0]))
        return _jacobian_now(g, xs, single, _Entry(entry.plan, entry.fingerprint), mode,
                             memory_limit)

    example = ([v.aval for v in closed.ir.constvars],
               tree_unflatten(closed.in_tree, [v.aval for v in closed.ir.invars]))
    return trace_to_ir(whole, example, name="jacobian").without_dead_code()


def _lift_literals(closed):
    """``closed`` with each literal input of an equation made a constant of
    its own (after the others, in order), as ``_structure`` lists them."""
    constvars, consts, eqns = list(closed.ir.constvars), list(closed.consts), []
    for eqn in closed.ir.eqns:
        inputs = []
        for x in eqn.inputs:
            if type(x) is Var:
                inputs.append(x)
            else:
                v = Var(x.aval)
                constvars.append(v)
                consts.append(x.value)
                inputs.append(v)
        eqns.append(Equation(eqn.primitive, inputs, eqn.outvars, eqn.params, eqn.source_info))
    ir = IR(constvars, closed.ir.invars, eqns, closed.ir.outvars)
    return ClosedIR(ir, consts, closed.in_tree, closed.out_tree)


def _stage_execution(linear, plan, out_leaves, in_leaves):
    """The plan's execution as IR: a program from the linear program's
    constants (residuals and the function's own arrays) to the Jacobian's
    blocks (output-major, ``out.shape + in.shape`` each)."""
    consts = [ShapedArray(get_aval(c).shape, get_aval(c).dtype) for c in linear.consts]
    out_avals = [ShapedArray(get_aval(o).shape, get_aval(o).dtype) for o in out_leaves]
    in_avals = [ShapedArray(get_aval(x).shape, get_aval(x).dtype) for x in in_leaves]
    segments = segments_at(linear.ir, plan.cuts)

    def execute(*residuals):
        J = _Chain(ClosedIR(linear.ir, residuals), segments).run(plan.root)
        blocks = _blocks_from_flat(J, linear.ir, segments[-1].out_vars, out_avals, in_avals)
        return [b for row in blocks for b in row]

    return trace_to_ir(execute, consts, name="jacobian")


def _structure(ir, literals=None):
    """A hashable description of a program (its wiring, parameters, literals
    and shapes): two programs with equal structure compute the same function
    of their constants and inputs, so they share a staged program.  None
    when a parameter cannot be hashed.  Given a list ``literals``, the
    literal inputs of equations are described by their dtype only and their
    values appended to the list, in order: a program staged from
    ``_lift_literals`` takes them as inputs (so a Python scalar that changes
    from call to call, a time step say, does not make a new program)."""
    number = {v: k for k, v in enumerate(ir.constvars)}
    for v in ir.invars:
        number[v] = len(number)
    eqns = []
    for eqn in ir.eqns:
        ins = []
        for x in eqn.inputs:
            if type(x) is Var:
                ins.append(number[x])
            elif literals is not None:
                ins.append(x.aval.dtype)
                literals.append(x.value)
            else:
                ins.append((x.aval.dtype, x.value.tobytes()))
        ins = tuple(ins)
        for v in eqn.outvars:
            number[v] = len(number)
        eqns.append((eqn.primitive, ins,
                     tuple((k, _param_key(v)) for k, v in sorted(eqn.params.items()))))
    key = (tuple(v.aval.shape + (v.aval.dtype,) for v in ir.constvars),
           tuple(v.aval.shape + (v.aval.dtype,) for v in ir.invars),
           tuple(eqns), tuple(number[x] if type(x) is Var else x.aval.dtype
                              for x in ir.outvars))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _param_key(value):
    """A parameter as part of a program's structure: a body (the program a
    control-flow primitive holds) by its own structure and its constants'
    values, since the staged program keeps it; anything else as it is."""
    if isinstance(value, ClosedIR):
        return ("body", _structure(value.ir),
                tuple((c.shape, c.dtype.str, c.tobytes()) if isinstance(c, np.ndarray)
                      else c for c in value.consts))
    if isinstance(value, tuple) and any(isinstance(v, ClosedIR) for v in value):
        return tuple(_param_key(v) for v in value)
    return value


def _abstract_linear_program(h, diff_args, name):
    """The linear program of ``h`` at the shapes of ``diff_args``, traced
    abstractly: no numerical work."""
    leaves, tree = tree_flatten(diff_args)
    with new_trace(name) as outer:
        tracers = new_args(outer, [ShapedArray(get_aval(x).shape, get_aval(x).dtype)
                                   for x in leaves])
        traced, linear = _linearize(h, tree_unflatten(tree, tracers),
                                    lambda avals: [True] * len(avals), name)
    n = sum(get_aval(x).size for x in leaves)
    m = sum(get_aval(o).size for o in traced.outs)
    return linear, n, m


def _abstract_plan(h, diff_args, mode, memory_limit):
    linear, n, m = _abstract_linear_program(h, diff_args, "jacobian")
    if not linear.ir.eqns or n == 0 or m == 0:
        return None, None
    return _plan(linear, n, m, mode, memory_limit), _fingerprint(linear.ir)


def _blocks_from_flat(J, linear_ir, state_vars, out_leaves, in_leaves):
    """Cut the flat Jacobian (rows: the final state's variables; columns: the
    inputs) into blocks ``out.shape + in.shape`` per output and input leaf."""
    offsets, start = {}, 0
    for v in state_vars:
        offsets[v] = start
        start += v.aval.size
    blocks = []
    for x, out in zip(linear_ir.outvars, out_leaves):
        size = get_aval(out).size
        if type(x) is Var and x in offsets:
            rows = J[offsets[x]:offsets[x] + size]
        else:
            # not reached from the inputs: zeros, in the output's dtype (as jacfwd)
            rows = np.zeros((size, get_aval(J).shape[1]), get_aval(out).dtype)
        row, col = [], 0
        for leaf in in_leaves:
            k = get_aval(leaf).size
            row.append(cnp.reshape(rows[:, col:col + k],
                                   get_aval(out).shape + get_aval(leaf).shape))
            col += k
        blocks.append(row)
    return blocks


@api_boundary
def jacobian_plan(f, argnums=0, mode="auto", memory_limit=None):
    """The plan ``jacobian(f, argnums, mode, memory_limit)`` would run at these
    arguments' shapes, without computing anything: print it to read it."""
    _check_mode(mode)

    @api_boundary
    @functools.wraps(f)
    def plan_f(*args):
        h, diff_args, single = _diff_function(f, args, argnums, "jacobian_plan")
        linear, n, m = _abstract_linear_program(h, diff_args, "jacobian_plan")
        plan = _plan(linear, n, m, mode, memory_limit)
        closed = trace_to_ir(h, diff_args, name="jacobian_plan")
        staged = _stage(closed, single, _Entry(plan, _fingerprint(linear.ir)), mode, memory_limit)
        plan.program = _with_consts(staged, closed)
        return plan

    return plan_f


def _with_consts(staged, closed):
    """The staged program (inputs: ``closed``'s constants, then the
    arguments) as a program of the arguments alone, those constants bound:
    what ``plan.program`` shows and ``plan.program.eval(*args)`` runs."""
    k = len(closed.consts)
    ir = IR(staged.ir.constvars + staged.ir.invars[:k], staged.ir.invars[k:], staged.ir.eqns,
            staged.ir.outvars)
    return ClosedIR(ir, staged.consts + closed.consts, closed.in_tree, staged.out_tree)
