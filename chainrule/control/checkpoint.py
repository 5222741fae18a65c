"""``checkpoint`` (``remat``): reverse mode recomputes a function's residuals
instead of storing them.

``checkpoint(f)(*args)`` traces ``f`` into a body and binds one equation
that holds it:

    c:f64[3] = checkpoint[body={ lambda ; a:f64[3]. let
                                   b:f64[3] = sin a
                                   c:f64[3] = sin b
                                 in (c,) } policy=None] a

Evaluated, it runs the body.  The rules:

* JVP: another ``checkpoint``, whose body is the tangent part of the body's
  JVP with the primal computation it needs (the JVP split by partial
  evaluation into a known part, primals -> residuals, and a linear part,
  residuals and tangents -> tangents, and the two put back one after the
  other).  It reads the primal inputs and the input tangents and gives the
  output tangents; the primal outputs are already computed.  Under
  ``linearize`` that is ONE equation of the linear program, whose
  non-linear inputs, and so its residuals, are ``f``'s inputs only: nothing
  ``f`` computes is stored.  With a ``policy``, the outputs of the known
  equations the policy calls saveable (``dot_general``, say) that the linear
  part needs, directly or to recompute others, are computed at once by a
  third ``checkpoint`` and become inputs (residuals) of the tangent one,
  which recomputes only the rest;
* transpose: the body run backwards (``_bodies.transpose_body``): its
  non-linear equations, the recomputation, run first, then its linear ones
  are transposed.  That is again one ``checkpoint`` equation, so the
  recomputed residuals exist only while it runs, and a transform of the
  backward pass (``grad`` of ``grad``) checkpoints it too;
* batch: the body batched;
* cost: the body's.
"""
from __future__ import annotations

import functools
import types

import numpy as np

from ..interpreters.cost import ir_cost
from ..interpreters.partial_eval import partial_eval
from ..primitives._ad import LinearInput, Zero, instantiate
from ..primitives._batch import batch_size
from ..primitives._define import primitive
from ..tracer.avals import is_float
from ..tracer.core import Tracer, bind, get_aval
from ..tracer.ir import IR, ClosedIR, Var
from ..tracer.printer import one_line
from ..tracer.pytree import tree_flatten, tree_unflatten
from ..tracer.source import user_source_info, where
from ..tracer.tracing import check_leaf
from . import _bodies as B


def _checkpoint_shape(*args, body, policy):
    B.check_operands("checkpoint", body, args)
    return body.out_avals


def _checkpoint_impl(*args, body, policy):
    return B.eval_body(body, args)


def _checkpoint_cost(in_avals, out_avals, *, body, policy):
    return ir_cost(body.ir).flops


checkpoint_p = primitive("checkpoint", _checkpoint_impl, _checkpoint_shape,
                         cost=_checkpoint_cost, multiple_results=True)


# -- JVP: the tangent part of the body's JVP with the primal part it needs -----------------
class _Split:
    """A body's JVP split for ``checkpoint``: ``saved`` (``None`` when nothing is
    saved) maps the primal inputs to the residuals the policy keeps;
    ``tangent`` maps the primal inputs marked in ``primal_used``, the saved
    residuals and the nonzero input tangents to the tangents of the
    floating-point outputs, recomputing what it needs of the rest."""

    def __init__(self, saved, tangent, primal_used):
        self.saved, self.tangent, self.primal_used = saved, tangent, primal_used


def _split(body: ClosedIR, nonzero, policy) -> _Split:
    jvp = B.jvp_body(body, nonzero)
    ir = jvp.ir
    n_in, n_out = len(body.ir.invars), len(body.ir.outvars)
    primal_vars, tangent_vars = ir.invars[:n_in], ir.invars[n_in:]
    # the constants open as known inputs; only the tangents are wanted
    opened = IR([], ir.constvars + ir.invars, ir.eqns, ir.outvars[n_out:])
    unknowns = [False] * (len(ir.constvars) + n_in) + [True] * len(tangent_vars)
    known, linear, _, _ = partial_eval(opened, unknowns,
                                       instantiate=[True] * len(opened.outvars))
    available = set(ir.constvars) | set(primal_vars)
    saved = _saveable(known, available, policy) if policy is not None else []
    is_saved = set(saved)
    # the recomputation: the known equations whose outputs are not saved,
    # followed by the linear part (dead code dropped)
    recompute = [e for e in known.eqns if not any(v in is_saved for v in e.outvars)]
    tangent = IR(ir.constvars, primal_vars + saved + tangent_vars, recompute + linear.eqns,
                 linear.outvars).without_dead_code()
    # a primal input the tangents do not need is no input (not a residual)
    read = set(tangent.outvars)
    for e in tangent.eqns:
        read.update(e.inputs)
    primal_used = [v in read for v in primal_vars]
    tangent = IR(tangent.constvars, [v for v, u in zip(primal_vars, primal_used) if u]
                 + saved + tangent_vars, tangent.eqns, tangent.outvars)
    consts = dict(zip(ir.constvars, jvp.consts))
    saved_body = None
    if saved:
        saved_body = _closed(IR(ir.constvars, primal_vars, known.eqns, saved).without_dead_code(),
                             consts)
    return _Split(saved_body, _closed(tangent, consts), primal_used)


def _closed(ir: IR, consts: dict) -> ClosedIR:
    return ClosedIR(ir, [consts[v] for v in ir.constvars])


def _saveable(known: IR, available, policy):
    """The outputs of ``known``'s equations to save: walking back from the
    residuals (``known``'s outputs), an equation the policy allows has its
    needed outputs saved; any other is recomputed, so its inputs are needed
    in turn.  Inputs and constants (``available``) are never saved."""
    needed = {r for r in known.outvars if type(r) is Var and r not in available}
    groups = []
    for eqn in reversed(known.eqns):
        outs = [v for v in eqn.outvars if v in needed]
        if not outs:
            continue
        if policy(eqn.primitive):
            groups.append(outs)
        else:
            needed.update(x for x in eqn.inputs if type(x) is Var and x not in available)
    return [v for outs in reversed(groups) for v in outs]


def _checkpoint_jvp(primals, tangents, out, *, body, policy):
    nonzero = [type(t) is not Zero for t in tangents]
    if not any(nonzero):
        return [Zero(get_aval(o)) for o in out]
    given = [t for t in tangents if type(t) is not Zero]
    # a policy matters only where the tangent program is recorded (linearize,
    # vjp, grad): evaluated now (jvp), nothing is kept for later anyway
    staged = any(isinstance(t, Tracer) for t in given)
    split = _split(body, nonzero, policy if staged else None)
    saved = []
    if split.saved is not None:
        saved = bind(checkpoint_p, *primals, body=split.saved, policy=policy)
    used = [p for p, u in zip(primals, split.primal_used) if u]
    touts = iter(bind(checkpoint_p, *used, *saved, *given, body=split.tangent, policy=policy))
    return [next(touts) if is_float(get_aval(o).dtype) else Zero(get_aval(o)) for o in out]


# -- transpose: recompute, then transpose, in one equation -------------------------------------
def _checkpoint_transpose(cts, *args, body, policy):
    linear = [type(a) is LinearInput for a in args]
    backward = B.transpose_body(body, linear)   # (residuals, cts) -> cts of the linear inputs
    residuals = [a for a, lin in zip(args, linear) if not lin]
    ct_in = iter(bind(checkpoint_p, *residuals, *[instantiate(c) for c in cts],
                      body=backward, policy=policy))
    return [next(ct_in) if lin else None for lin in linear]


# -- batching ----------------------------------------------------------------------------------
def _checkpoint_batch(args, dims, *, body, policy):
    batched = B.batch_body(body, dims, batch_size(args, dims))
    outs = bind(checkpoint_p, *args, body=batched, policy=policy)
    return outs, [0] * len(outs)


checkpoint_p.jvp = _checkpoint_jvp
checkpoint_p.transpose = _checkpoint_transpose
checkpoint_p.batch = _checkpoint_batch
# an output that is an input of the body is that operand
checkpoint_p.forwarding = lambda *, body, policy: B.passed_through(body)


def _checkpoint_prune(used, *, body, policy):
    # outputs nobody reads are not computed; inputs the body then does not read go
    new, read = B.trimmed(body, used)
    if all(used) and all(read):
        return None
    return ({"body": B.taking(new, read), "policy": policy},
            [i for i, r in enumerate(read) if r], [k for k, u in enumerate(used) if u])


checkpoint_p.prune = _checkpoint_prune


# -- policies: which equations' outputs reverse mode may keep ------------------------------------
class _Policy:
    """A named policy: ``policy(primitive) -> bool``, whether the outputs of an
    equation of that primitive may be kept (extra arguments, which JAX's
    policies take, are ignored)."""

    def __init__(self, name, keep, doc):
        self.__name__, self._keep, self.__doc__ = name, keep, doc

    def __call__(self, prim, *_, **__) -> bool:
        return self._keep(prim)

    def __repr__(self):
        return f"checkpoint_policies.{self.__name__}"


dots_saveable = _Policy("dots_saveable", lambda prim: prim.name == "dot_general",
                        "Keep the outputs of matrix products (dot_general); recompute the rest.")
nothing_saveable = _Policy("nothing_saveable", lambda prim: False,
                           "Keep nothing: recompute everything (as policy=None).")
everything_saveable = _Policy("everything_saveable", lambda prim: True,
                              "Keep everything: as without checkpoint.")

checkpoint_policies = types.SimpleNamespace(
    dots_saveable=dots_saveable, nothing_saveable=nothing_saveable,
    everything_saveable=everything_saveable)


# -- what users call -----------------------------------------------------------------------------
def checkpoint(fun=None, *, prevent_cse=True, policy=None, static_argnums=()):
    """``fun`` whose residuals reverse mode recomputes instead of storing, as
    ``jax.checkpoint``: the same values and derivatives, computed again from
    its inputs in the backward pass.  ``policy(primitive) -> bool`` names the
    equations whose outputs may be kept (``checkpoint_policies``); arguments
    at ``static_argnums`` are passed as they are (not traced);
    ``prevent_cse`` is accepted and has no effect (nothing here merges
    equal equations).  Without ``fun``, a decorator."""
    if fun is None:
        return functools.partial(checkpoint, prevent_cse=prevent_cse, policy=policy,
                                 static_argnums=static_argnums)
    if not callable(fun):
        raise TypeError(f"checkpoint: fun must be a function, got {one_line(type(fun).__name__)}"
                        f"{where(user_source_info())}")
    if policy is not None and not callable(policy):
        raise TypeError(f"checkpoint: policy must be None or a function of a primitive "
                        f"returning a bool (cr.checkpoint_policies.dots_saveable, say), got "
                        f"{one_line(type(policy).__name__)}{where(user_source_info())}")
    static = (static_argnums,) if isinstance(static_argnums, int) else static_argnums
    if not (isinstance(static, (tuple, list))
            and all(isinstance(i, int) and not isinstance(i, bool) for i in static)):
        raise TypeError(f"checkpoint: static_argnums must be an int or a tuple of ints, got "
                        f"{one_line(repr(static_argnums))}{where(user_source_info())}")
    static = tuple(static)

    @functools.wraps(fun)
    def checkpointed(*args, **kwargs):
        n = len(args)
        for i in static:
            if not -n <= i < n:
                raise ValueError(f"checkpoint: static_argnums {i} is out of range for a call "
                                 f"with {n} positional arguments{where(user_source_info())}")
        fixed = {i % n: args[i] for i in static}
        dynamic = [a for i, a in enumerate(args) if i not in fixed]
        for i, a in enumerate(args):
            if i not in fixed:
                _check_argument(a, f"argument {i}",
                                f"mark it static: checkpoint(..., static_argnums=({i},))", fun)
        for key, a in kwargs.items():
            _check_argument(a, f"keyword argument {key!r}",
                            "pass it positionally and mark it static with static_argnums", fun)
        leaves, _ = tree_flatten((dynamic, kwargs))

        def traced(dynamic, kwargs):
            it = iter(dynamic)
            return fun(*[fixed[i] if i in fixed else next(it) for i in range(n)], **kwargs)

        traced.__name__ = _name(fun)
        body, hoisted, out_tree = B.trace_body(traced, (dynamic, kwargs), "checkpoint")
        outs = bind(checkpoint_p, *hoisted, *leaves, body=body, policy=policy)
        return tree_unflatten(out_tree, outs)

    return checkpointed


def _name(fun):
    return getattr(fun, "__name__", type(fun).__name__)


def _check_argument(a, what, instead, fun):
    """The array leaves of a traced argument are arrays or numbers; anything
    else (a string, a function) is refused, naming ``static_argnums``."""
    for leaf in tree_flatten(a)[0]:
        if not isinstance(leaf, (np.ndarray, np.generic, Tracer, bool, int, float, complex)):
            raise TypeError(
                f"checkpoint: {what} of {one_line(_name(fun))} holds a "
                f"{one_line(type(leaf).__name__)}, which is not an array: checkpoint traces "
                f"its function at the arrays' shapes and dtypes. To pass it unchanged, "
                f"{instead}{where(user_source_info())}")
        check_leaf(leaf, f"checkpoint: {what} of {one_line(_name(fun))}")


remat = checkpoint
