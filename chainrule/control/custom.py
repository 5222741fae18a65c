"""``custom_jvp`` and ``custom_vjp``: derivative rules written by the user.

A function decorated with ``custom_jvp`` or ``custom_vjp`` is traced, as a
branch of ``cond`` is, into a body held in the params of one equation, with
the user's rules beside it (a callable param prints as its name):

    b:f64[] = custom_jvp_call[call={ lambda ; a:f64[]. let ... in (c,) }
                              jvp=sigmoid_jvp name=sigmoid num_consts=0] a

Evaluating the equation evaluates the body; differentiating it runs the
user's rule.  The rules:

* ``custom_jvp_call``.  JVP: the user's rule, on the primal values and the
  tangents (a zero tangent given as zeros, as in JAX), its outputs checked
  against the function's.  The rule computes with ``bind``, so under
  ``linearize`` its tangent computation is recorded in the linear program,
  and reverse mode transposes it as any other (it must be linear in the
  tangents, as JAX requires).  Batch: the body batched, and the rule traced
  at the unbatched types and run by the batching interpreter.
* ``custom_vjp_call``.  JVP: ``fwd`` on the primal values gives the
  residuals, and a second primitive, ``custom_vjp_lin``, takes the residuals
  and the tangents; its transpose calls ``bwd``.  ``custom_vjp_lin`` has no
  forward evaluation: evaluating it (forward mode: ``cr.jvp``, ``cr.jacfwd``,
  a linearized function called on tangents) raises JAX's error.  In forward
  mode with tangents that are arrays the error comes at once, before ``fwd``
  runs; where the tangents are traced (inside ``vmap`` or the JVP program of
  a loop's body) the equation is recorded, as JAX records it, and the error
  comes when it is evaluated, so that reverse mode through ``cond``,
  ``scan`` and ``fori_loop`` bodies, which linearizes them by partial
  evaluation of their JVP, works.  Batch: the body batched, and ``fwd`` and
  ``bwd`` traced at the unbatched types and run by the batching interpreter.
* cost: the body's (``custom_vjp_lin``: ``bwd``'s).

What the rules see is checked where they return (structure, shapes and
dtypes), and an error names the rule, where it is defined and the user's
line that called the function.
"""
from __future__ import annotations

import functools
import inspect

import numpy as np

from ..interpreters.batch import batch_walk
from ..interpreters.cost import ir_cost
from ..primitives._ad import LinearInput, Zero, instantiate
from ..primitives._batch import batch_size, bdim_to_front, moveaxis
from ..primitives._define import primitive
from ..primitives._ops import convert_element_type, reduce_sum
from ..tracer.aliasing import unshared
from ..tracer.avals import float0, is_float
from ..tracer.core import Tracer, bind, get_aval
from ..tracer.errors import ConcretizationError, ShapeError, TracerLeakError
from ..tracer.printer import one_line
from ..tracer.pytree import tree_flatten, tree_unflatten
from ..tracer.source import user_source_info, where
from ..tracer.tracing import check_leaf, trace_to_ir
from . import _bodies as B


# -- what the messages say --------------------------------------------------------------
def _name(fn) -> str:
    return one_line(getattr(fn, "__name__", None) or type(fn).__name__)


class _Name(str):
    """A function's name as a param: printed as it is, ``name=f`` (not
    ``name='f'``); the printer still shows a name with a newline escaped."""

    __slots__ = ()

    def __repr__(self):
        return str(self)


def _defined(fn) -> str:
    """``f_jvp (defined at file.py:12)``: a rule and where the user wrote it."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return _name(fn)
    return f"{_name(fn)} (defined at {one_line(code.co_filename)}:{code.co_firstlineno})"


def _forward_mode_error(name, source) -> TypeError:
    error = TypeError(
        f"can't apply forward-mode autodiff (jvp) to a custom_vjp function: {name} has a "
        f"custom VJP rule, which gives reverse mode only{where(source)}\nUse reverse mode "
        'for it (cr.vjp, cr.grad, cr.jacrev, cr.jacobian with mode="rev"), or define its '
        "derivative with cr.custom_jvp, whose rule gives both forward and reverse mode.")
    error._chainrule_noted = True   # (names the user's line already)
    return error


def _closure_error(kind, name, source) -> TypeError:
    what = "JVP" if kind == "custom_jvp" else "VJP"
    return TypeError(
        f"Detected differentiation of the {kind} function {name} with respect to a traced "
        f"value it closes over (reads without taking it as an argument). That is not "
        f"supported: the custom {what} rule gives the derivative with respect to the "
        f"function's arguments only{where(source)}\nPass the value to {name} as an argument, "
        "and give its derivative in the rule.")


def _leaked_error(kind, rule, name, source) -> TypeError:
    receives = ("the rule receives it" if kind == "custom_jvp"
                else "and from fwd to bwd among the residuals")
    return TypeError(
        f"{kind}: the rule {_defined(rule)} of {name} computed with a traced value it closes "
        "over, one of the computation being differentiated, not with the arguments it was "
        f"given: a rule must compute from its arguments only{where(source)}\nPass the value "
        f"to {name} as an argument ({receives}).")


# -- the call: arguments, the traced body ---------------------------------------------------
def _argnums(nondiff_argnums):
    nums = (nondiff_argnums,) if isinstance(nondiff_argnums, int) else tuple(nondiff_argnums)
    if any(not isinstance(i, int) or i < 0 for i in nums):
        raise TypeError(f"nondiff_argnums must be non-negative ints, got {nondiff_argnums!r}")
    return tuple(sorted(set(nums)))


def _resolve_kwargs(fun, args, kwargs):
    """The positional arguments of a call (keywords and defaults placed by
    ``fun``'s signature, as JAX does)."""
    try:
        sig = inspect.signature(fun)
    except (TypeError, ValueError):
        if kwargs:
            raise TypeError("keyword arguments could not be resolved to positions") from None
        return tuple(args)
    bound = sig.bind(*args, **kwargs)
    bound.apply_defaults()
    if bound.kwargs:
        raise TypeError("keyword arguments could not be resolved to positions")
    return tuple(bound.args)


class _Signature:
    """One call of a custom function: its name, the arguments that are not
    differentiated (``nondiff``, at ``positions``), the structure and types
    of the differentiated ones and of the output, and the user's line."""

    def __init__(self, kind, name, positions, nondiff, diff, call, out_tree, source):
        self.kind, self.name, self.source = kind, name, source
        self.positions, self.nondiff = positions, nondiff
        self.in_tree = tree_flatten(tuple(diff))[1]
        self.arg_trees = [tree_flatten(a)[1] for a in diff]
        n_in = self.in_tree.num_leaves
        self.in_avals = list(call.in_avals[len(call.in_avals) - n_in:])
        self.out_tree, self.out_avals = out_tree, list(call.out_avals)

    def merge(self, diff):
        """All arguments, in the order of the function's signature."""
        args, it = [], iter(diff)
        for k in range(len(diff) + len(self.nondiff)):
            args.append(self.nondiff[self.positions.index(k)] if k in self.positions
                        else next(it))
        return args


def _prepare(kind, fun, nondiff_argnums, args, kwargs):
    """Trace the body of a call: ``(sig, body, hoisted, leaves)``."""
    source = user_source_info()
    name = _name(fun)
    args = _resolve_kwargs(fun, args, kwargs)
    for i in nondiff_argnums:
        if i >= len(args):
            raise TypeError(f"{kind} {name}: nondiff_argnums {i} is out of range for a call "
                            f"with {len(args)} arguments{where(source)}")
        if any(isinstance(x, Tracer) for x in tree_flatten(args[i])[0]):
            raise TypeError(
                f"{kind} {name}: argument {i} is in nondiff_argnums but is a traced value. "
                "nondiff_argnums are for arguments that are not arrays (functions, Python "
                f"numbers, strings, configuration){where(source)}\nPass arrays as ordinary "
                "arguments (the rule may give them a zero derivative).")
    nondiff = [args[i] for i in nondiff_argnums]
    diff = [a for i, a in enumerate(args) if i not in nondiff_argnums]
    leaves = [check_leaf(x, f"{kind} {name}") for x in tree_flatten(tuple(diff))[0]]
    positions = list(nondiff_argnums)

    def body(*diff_args):
        it = iter(diff_args)
        full = [nondiff[positions.index(k)] if k in positions else next(it)
                for k in range(len(args))]
        return fun(*full)

    body.__name__ = name
    name = _Name(name)
    call, hoisted, out_tree = B.trace_body(body, tuple(diff), kind)
    sig = _Signature(kind, name, positions, nondiff, diff, call, out_tree, source)
    return sig, call, hoisted, leaves


def _result(sig, outs, operands):
    if not any(isinstance(o, Tracer) for o in outs):   # computed: arrays of the caller's own
        outs = unshared(list(outs), [x for x in operands if isinstance(x, np.ndarray)])
    return tree_unflatten(sig.out_tree, outs)


# -- checking what a rule returns --------------------------------------------------------
def _level(x):
    return x._trace.level if isinstance(x, Tracer) else 0


def _from_arguments(kind, rule, sig, inputs, outputs):
    """``outputs`` of a rule, checked to be computed from its ``inputs``: a
    tracer of a trace inside all of theirs was read from the rule's closure
    (the function being differentiated).  One that carries no derivative
    there (an argument not differentiated, say) stands for its value, as in
    JAX, where such a value is not traced; one that does is an error."""
    top = max([_level(x) for x in inputs], default=0)
    out = []
    for x in outputs:
        while isinstance(x, Tracer) and _level(x) > top:
            if not (x._trace.concrete and x._trace.active) or x._carries_derivative():
                raise _leaked_error(kind, rule, sig.name, sig.source)
            x = x.value
        out.append(x)
    return out


def _conform(x, aval):
    """``x`` as a value of type ``aval``: the same shape, and the same dtype
    (a Python number or a weakly typed value takes it); None if it cannot be."""
    x_aval = get_aval(x)
    if x_aval.shape != aval.shape:
        return None
    if x_aval.dtype == aval.dtype:
        return x
    weak = isinstance(x, (int, float, complex)) or (isinstance(x, Tracer) and x.aval.weak_type)
    if not weak or is_float(x_aval.dtype) and not is_float(aval.dtype):
        return None
    if isinstance(x, Tracer):
        return convert_element_type(x, aval.dtype)
    return np.asarray(x, aval.dtype)[()] if not aval.shape else np.asarray(x, aval.dtype)


def _pair(kind, rule, sig, result, what):
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise TypeError(f"{kind}: the rule {_defined(rule)} of {sig.name} must return a pair "
                        f"{what}, got {one_line(type(result).__name__)}{where(sig.source)}")
    return result


def _leaves_of(kind, rule, sig, tree, what):
    leaves, treedef = tree_flatten(tree)
    if treedef != sig.out_tree:
        raise TypeError(f"{kind}: the rule {_defined(rule)} of {sig.name} must return {what} of "
                        f"the structure of {sig.name}'s output, {sig.out_tree}, but returns "
                        f"{treedef}{where(sig.source)}")
    for x in leaves:
        if not isinstance(x, (Tracer, np.ndarray, np.generic, bool, int, float, complex)):
            raise TypeError(f"{kind}: the rule {_defined(rule)} of {sig.name} returns "
                            f"{one_line(type(x).__name__)} in {what}, not an array"
                            f"{where(sig.source)}")
    return leaves


def _outputs_conform(kind, rule, sig, leaves, what, tangent=False):
    out = []
    for x, aval in zip(leaves, sig.out_avals):
        if tangent and not is_float(aval.dtype):   # (no derivative: only its shape matters)
            y = x if get_aval(x).shape == aval.shape else None
        else:
            y = _conform(x, aval)
        if y is None:
            got = [get_aval(v) for v in leaves]
            raise TypeError(f"{kind}: the rule {_defined(rule)} of {sig.name} must return "
                            f"{what} of the types of {sig.name}'s output, "
                            f"{B.types(sig.out_avals)}, but returns {B.types(got)}"
                            f"{where(sig.source)}")
        out.append(y)
    return out


def _given_tangents(tangents, avals):
    """Tangents as a user's rule receives them: arrays (zeros for a zero
    tangent; float0 zeros for a value without a derivative), as in JAX."""
    return [instantiate(t) if is_float(a.dtype) else np.zeros(a.shape, float0)
            for t, a in zip(tangents, avals)]


def _trace(fn, avals, name):
    """``fn`` traced at ``avals``: ``(body, hoisted)``, the traced values it
    read from outside made its leading inputs."""
    return B.hoist(trace_to_ir(fn, tuple(avals), name=name))


def _batched_avals(avals, dims, size):
    return [B.batched_aval(a, d, size) for a, d in zip(avals, dims)]


def _front(args, dims):
    """Operands with their batch axis first (unbatched ones as they are)."""
    return ([x if d is None else moveaxis(x, d, 0) for x, d in zip(args, dims)],
            [None if d is None else 0 for d in dims])


# -- custom_jvp ------------------------------------------------------------------------------
class _JvpRule:
    """The user's JVP rule as the primitive calls it: ``(primal leaves,
    tangent leaves) -> output tangents`` (``Zero`` for outputs without a
    derivative), what the rule returns checked.  Printed by the rule's name."""

    def __init__(self, rule, sig):
        self.rule, self.sig = rule, sig
        self.__name__ = _name(rule)
        self.source = sig.source
        self.in_avals, self.out_avals = sig.in_avals, sig.out_avals

    def __call__(self, primals, tangents):
        sig, rule = self.sig, self.rule
        given = _given_tangents(tangents, sig.in_avals)
        result = rule(*sig.nondiff, tree_unflatten(sig.in_tree, list(primals)),
                      tree_unflatten(sig.in_tree, given))
        p_out, t_out = _pair("custom_jvp", rule, sig, result, "(primal_out, tangent_out)")
        p_leaves = _leaves_of("custom_jvp", rule, sig, p_out, "a primal output")
        t_leaves = _leaves_of("custom_jvp", rule, sig, t_out, "a tangent output")
        both = _from_arguments("custom_jvp", rule, sig, list(primals) + given,
                               p_leaves + t_leaves)
        p_leaves, t_leaves = both[:len(p_leaves)], both[len(p_leaves):]
        _outputs_conform("custom_jvp", rule, sig, p_leaves, "a primal output")
        t_leaves = _outputs_conform("custom_jvp", rule, sig, t_leaves, "a tangent output",
                                    tangent=True)
        return [t if is_float(a.dtype) else Zero(a) for t, a in zip(t_leaves, sig.out_avals)]


class _BatchedJvp:
    """A JVP rule on operands batched along ``dims`` (0 or None): the rule
    traced at the unbatched types, run by the batching interpreter."""

    def __init__(self, inner, dims, size):
        self.inner, self.dims, self.size = inner, list(dims), size
        self.__name__, self.source = inner.__name__, inner.source
        self.in_avals = _batched_avals(inner.in_avals, dims, size)
        self.out_avals = _batched_avals(inner.out_avals, [0] * len(inner.out_avals), size)
        self._traced = None

    def _program(self):
        if self._traced is None:
            inner = self.inner
            floats = [is_float(a.dtype) for a in inner.in_avals]
            n = len(floats)

            def tangents_of(*args):
                given = iter(args[n:])
                tangents = [next(given) if f else Zero(a) for a, f in zip(inner.in_avals, floats)]
                touts = inner(list(args[:n]), tangents)
                return [instantiate(t) for t, a in zip(touts, inner.out_avals)
                        if is_float(a.dtype)]

            avals = list(inner.in_avals) + [a for a, f in zip(inner.in_avals, floats) if f]
            self._traced = _trace(tangents_of, avals, "vmap")
        return self._traced

    def __call__(self, primals, tangents):
        body, hoisted = self._program()
        floats = [is_float(a.dtype) for a in self.in_avals]
        t_in = [instantiate(t) for t, f in zip(tangents, floats) if f]
        t_dims = [d for d, f in zip(self.dims, floats) if f]
        outs, dims = batch_walk(body.ir, body.consts, list(hoisted) + list(primals) + t_in,
                                [None] * len(hoisted) + self.dims + t_dims)
        outs = iter([bdim_to_front(o, d, self.size) for o, d in zip(outs, dims)])
        return [next(outs) if is_float(a.dtype) else Zero(a) for a in self.out_avals]


def _call_shape(*avals, call, num_consts, **params):
    B.check_operands(params.get("name", "custom call"), call, list(avals))
    return list(call.out_avals)


def _call_impl(*args, call, **params):
    return B.eval_body(call, args)


def _call_cost(in_avals, out_avals, *, call, **params):
    return ir_cost(call.ir).flops


custom_jvp_call_p = primitive("custom_jvp_call", _call_impl, _call_shape, cost=_call_cost,
                              multiple_results=True)


def _closed_over_tangents(kind, tangents, num_consts, name, source):
    if any(type(t) is not Zero for t in tangents[:num_consts]):
        raise _closure_error(kind, name, source)


def _custom_jvp_jvp(primals, tangents, out, *, call, jvp, name, num_consts):
    _closed_over_tangents("custom_jvp", tangents, num_consts, name, jvp.source)
    return jvp(list(primals[num_consts:]), list(tangents[num_consts:]))


def _custom_jvp_batch(args, dims, *, call, jvp, name, num_consts):
    size = batch_size(args, dims)
    args, dims = _front(args, dims)
    body = B.batch_body(call, dims, size)
    outs = bind(custom_jvp_call_p, *args, call=body, jvp=_BatchedJvp(jvp, dims[num_consts:], size),
                name=name, num_consts=num_consts)
    return outs, [0] * len(outs)


custom_jvp_call_p.jvp = _custom_jvp_jvp
custom_jvp_call_p.batch = _custom_jvp_batch


class custom_jvp:
    """A function with a JVP rule of the user's, as ``jax.custom_jvp``.

    ``f = custom_jvp(fun, nondiff_argnums=())``; ``f.defjvp(rule)`` (usable as
    a decorator) sets ``rule(primals, tangents) -> (primal_out,
    tangent_out)``, where ``primals`` and ``tangents`` are tuples with one
    entry per argument; the arguments at ``nondiff_argnums`` are not
    differentiated and come first: ``rule(*nondiff, primals, tangents)``.
    Every transform uses the rule: forward mode calls it, reverse mode
    transposes the tangent computation it records (which must be linear in
    the tangents), ``vmap`` batches it.
    """

    def __init__(self, fun, nondiff_argnums=()):
        if not callable(fun):
            raise TypeError(f"custom_jvp: fun must be a function, got {type(fun).__name__}")
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = _argnums(nondiff_argnums)
        self.jvp = None

    def defjvp(self, jvp):
        """Set the JVP rule (returns it, so that it works as a decorator)."""
        if not callable(jvp):
            raise TypeError(f"defjvp: the rule must be a function, got {type(jvp).__name__}")
        self.jvp = jvp
        return jvp

    def __call__(self, *args, **kwargs):
        if self.jvp is None:
            name = _name(self.fun)
            raise AttributeError(f"No JVP rule defined for the custom_jvp function {name}: "
                                 f"define one with {name}.defjvp(rule) (or the decorator "
                                 f"@{name}.defjvp) before calling it"
                                 f"{where(user_source_info())}")
        sig, call, hoisted, leaves = _prepare("custom_jvp", self.fun, self.nondiff_argnums,
                                              args, kwargs)
        outs = bind(custom_jvp_call_p, *hoisted, *leaves, call=call,
                    jvp=_JvpRule(self.jvp, sig), name=sig.name, num_consts=len(hoisted))
        return _result(sig, outs, hoisted + leaves)


# -- custom_vjp ------------------------------------------------------------------------------
class _Fwd:
    """The user's ``fwd`` as the JVP rule calls it: ``primal leaves ->
    (residual leaves, what bwd needs to read them)``, its output checked
    against the function's."""

    def __init__(self, fwd, sig):
        self.fwd, self.sig = fwd, sig
        self.__name__, self.source = _name(fwd), sig.source
        self.in_avals = sig.in_avals

    def __call__(self, primals):
        sig, fwd = self.sig, self.fwd
        args = sig.merge(tree_unflatten(sig.in_tree, list(primals)))
        result = fwd(*args)
        out, res = _pair("custom_vjp", fwd, sig, result, "(primal_out, residuals)")
        out_leaves = _leaves_of("custom_vjp", fwd, sig, out, "a primal output")
        res_leaves, res_tree = tree_flatten(res)
        for x in res_leaves:
            if not isinstance(x, (Tracer, np.ndarray, np.generic, bool, int, float, complex)):
                raise TypeError(f"custom_vjp: the residuals that {_defined(fwd)} returns for "
                                f"{sig.name} must be arrays (or pytrees of them), got "
                                f"{one_line(type(x).__name__)}{where(sig.source)}")
        both = _from_arguments("custom_vjp", fwd, sig, primals, out_leaves + res_leaves)
        out_leaves, res_leaves = both[:len(out_leaves)], both[len(out_leaves):]
        _outputs_conform("custom_vjp", fwd, sig, out_leaves, "a primal output")
        return res_leaves, (res_tree, [B.abstract(r) for r in res_leaves])


class _Bwd:
    """The user's ``bwd``; ``bind_residuals`` gives it as the transpose of
    ``custom_vjp_lin`` calls it (``_BoundBwd``), for the residuals of one
    call of ``fwd`` (``info``, what ``_Fwd`` returns beside them)."""

    def __init__(self, bwd, sig):
        self.bwd, self.sig = bwd, sig
        self.__name__, self.source = _name(bwd), sig.source
        self.arg_avals = [a for a in sig.in_avals if is_float(a.dtype)]
        self.out_avals = [a for a in sig.out_avals if is_float(a.dtype)]

    def bind_residuals(self, info):
        res_tree, res_avals = info
        return _BoundBwd(self, res_tree, res_avals)

    def __call__(self, info, residuals, cts):
        return self.bind_residuals(info)(residuals, cts)


class _BoundBwd:
    """``bwd`` with the structure of one call's residuals: ``(residual
    leaves, cotangents of the floating-point outputs) -> cotangents of the
    floating-point argument leaves`` (``Zero`` where none), checked."""

    def __init__(self, parent, res_tree, res_avals):
        self.parent, self.res_tree, self.res_avals = parent, res_tree, list(res_avals)
        self.__name__, self.source = parent.__name__, parent.source
        self.arg_avals, self.out_avals = parent.arg_avals, parent.out_avals
        self._flops = None

    def __call__(self, residuals, cts):
        sig, bwd = self.parent.sig, self.parent.bwd
        it = iter(cts)
        full = [next(it) if is_float(a.dtype) else np.zeros(a.shape, float0)
                for a in sig.out_avals]
        try:
            result = bwd(*sig.nondiff, tree_unflatten(self.res_tree, list(residuals)),
                         tree_unflatten(sig.out_tree, full))
        except TracerLeakError:   # (it runs after the forward trace has ended)
            raise _leaked_error("custom_vjp", bwd, sig.name, sig.source) from None
        n = len(sig.arg_trees)
        if not isinstance(result, (tuple, list)) or len(result) != n:
            got = (f"a {type(result).__name__} of length {len(result)}"
                   if isinstance(result, (tuple, list)) else one_line(type(result).__name__))
            raise TypeError(f"custom_vjp: the rule {_defined(bwd)} of {sig.name} must return a "
                            f"tuple with one cotangent for each argument that is differentiated "
                            f"({n}), got {got}{where(sig.source)}")
        flat = []
        for k, (ct, tree) in enumerate(zip(result, sig.arg_trees)):
            if ct is None:   # None: a zero cotangent for the whole argument
                flat += [None] * tree.num_leaves
                continue
            leaves, treedef = tree_flatten(ct, is_leaf=lambda x: x is None)
            if treedef != tree:
                raise TypeError(f"custom_vjp: the rule {_defined(bwd)} of {sig.name} returns "
                                f"a cotangent of structure {treedef} for argument {k}, whose "
                                f"structure is {tree}{where(sig.source)}")
            flat += leaves
        given = [k for k, x in enumerate(flat) if x is not None]
        checked = _from_arguments("custom_vjp", bwd, sig, list(residuals) + list(cts),
                                  [flat[k] for k in given])
        for k, x in zip(given, checked):
            flat[k] = x
        out = []
        for k, (x, aval) in enumerate(zip(flat, sig.in_avals)):
            if not is_float(aval.dtype):
                continue
            if x is None:
                out.append(Zero(aval))
                continue
            y = _conform(x, aval) if isinstance(x, (Tracer, np.ndarray, np.generic, bool, int,
                                                    float, complex)) else None
            if y is None and get_aval(x).shape == aval.shape and is_float(get_aval(x).dtype):
                y = convert_element_type(x, aval.dtype) if isinstance(x, Tracer) \
                    else np.asarray(x, aval.dtype)
            if y is None:
                got = get_aval(x) if not isinstance(x, str) else type(x).__name__
                raise TypeError(f"custom_vjp: the rule {_defined(bwd)} of {sig.name} must "
                                f"return cotangents of the types of the arguments "
                                f"{B.types(sig.in_avals)}, but returns {got} for leaf {k} "
                                f"({aval.str_short()}){where(sig.source)}")
            out.append(y)
        return out

    def flops(self):
        if self._flops is None:
            def program(*args):
                n = len(self.res_avals)
                return [instantiate(c) for c in self(list(args[:n]), list(args[n:]))]
            try:
                body, _ = _trace(program, self.res_avals + self.out_avals, "custom_vjp")
                self._flops = ir_cost(body.ir).flops
            except ConcretizationError:   # bwd decides on values: count one flop per element
                self._flops = sum(a.size for a in self.arg_avals + self.out_avals)
        return self._flops


class _BatchedFwd:
    """``fwd`` on operands batched along ``dims``: traced at the unbatched
    types, run by the batching interpreter; each residual comes out with its
    batch axis first, or without one."""

    def __init__(self, inner, dims, size):
        self.inner, self.dims, self.size = inner, list(dims), size
        self.__name__, self.source = inner.__name__, inner.source
        self.in_avals = _batched_avals(inner.in_avals, dims, size)
        self._traced = None

    def __call__(self, primals):
        if self._traced is None:
            def residuals_of(*args):
                res, residuals_of.info = self.inner(list(args))
                return res
            self._traced = _trace(residuals_of, self.inner.in_avals, "vmap")
            self._info = residuals_of.info
        body, hoisted = self._traced
        res, dims = batch_walk(body.ir, body.consts, list(hoisted) + list(primals),
                               [None] * len(hoisted) + self.dims)
        res, dims = _front(res, dims)
        return res, (self._info, dims)


class _BatchedBwd:
    """``bwd`` for a batched ``custom_vjp_call``: ``dims`` are the batch axes
    (0 or None) of its floating-point argument leaves."""

    def __init__(self, inner, dims, size):
        self.inner, self.dims, self.size = inner, list(dims), size
        self.__name__, self.source = inner.__name__, inner.source
        self.arg_avals = _batched_avals(inner.arg_avals, dims, size)
        self.out_avals = _batched_avals(inner.out_avals, [0] * len(inner.out_avals), size)

    def bind_residuals(self, info):
        inner_info, res_dims = info
        return _BatchedBoundBwd(self.inner.bind_residuals(inner_info), res_dims, self.dims,
                                self.size)

    def __call__(self, info, residuals, cts):
        return self.bind_residuals(info)(residuals, cts)


class _BatchedBoundBwd:
    """A bound ``bwd`` on residuals batched along ``res_dims``, for
    arguments batched along ``arg_dims`` (0 or None each), cotangents of the
    outputs batched along 0: traced at the unbatched types and run by the
    batching interpreter; an unbatched argument's cotangent is summed over
    the batch."""

    def __init__(self, inner, res_dims, arg_dims, size):
        self.inner, self.size = inner, size
        self.res_dims, self.arg_dims = list(res_dims), list(arg_dims)
        self.__name__, self.source = inner.__name__, inner.source
        self.res_avals = _batched_avals(inner.res_avals, res_dims, size)
        self.arg_avals = _batched_avals(inner.arg_avals, arg_dims, size)
        self.out_avals = _batched_avals(inner.out_avals, [0] * len(inner.out_avals), size)
        self._traced = None

    def __call__(self, residuals, cts):
        inner = self.inner
        if self._traced is None:
            n = len(inner.res_avals)

            def cotangents_of(*args):
                return [instantiate(c) for c in inner(list(args[:n]), list(args[n:]))]

            self._traced = _trace(cotangents_of, inner.res_avals + inner.out_avals, "vmap")
        body, hoisted = self._traced
        outs, dims = batch_walk(body.ir, body.consts,
                                list(hoisted) + list(residuals) + [instantiate(c) for c in cts],
                                [None] * len(hoisted) + self.res_dims + [0] * len(cts))
        result = []
        for o, d, a in zip(outs, dims, self.arg_dims):
            if a is None:
                result.append(o if d is None else reduce_sum(o, (d,)))
            else:
                result.append(bdim_to_front(o, d, self.size))
        return result

    def flops(self):
        return self.inner.flops() * self.size


def _custom_vjp_jvp(primals, tangents, out, *, call, fwd, bwd, name, num_consts):
    _closed_over_tangents("custom_vjp", tangents, num_consts, name, fwd.source)
    tangents = tangents[num_consts:]
    nonzero = [t for t in tangents if type(t) is not Zero]
    if not nonzero:
        return [Zero(get_aval(o)) for o in out]
    # tangents that are arrays, or values of a trace computing with values:
    # forward mode (cr.jvp), now.  Traced tangents are those of linearize (or
    # of a body's JVP, which a loop or cond splits into known and linear
    # parts): record custom_vjp_lin, which only a forward evaluation rejects
    if all(not isinstance(t, Tracer) or t._trace.concrete for t in nonzero):
        raise _forward_mode_error(name, fwd.source)
    residuals, info = fwd(list(primals[num_consts:]))
    lin = bwd.bind_residuals(info)
    t_in = [instantiate(t) for t, a in zip(tangents, fwd.in_avals) if is_float(a.dtype)]
    touts = iter(bind(custom_vjp_lin_p, *residuals, *t_in, bwd=lin, name=name,
                      num_res=len(residuals)))
    return [next(touts) if is_float(get_aval(o).dtype) else Zero(get_aval(o)) for o in out]


def _custom_vjp_batch(args, dims, *, call, fwd, bwd, name, num_consts):
    size = batch_size(args, dims)
    args, dims = _front(args, dims)
    body = B.batch_body(call, dims, size)
    arg_dims = dims[num_consts:]
    float_dims = [d for d, a in zip(arg_dims, fwd.in_avals) if is_float(a.dtype)]
    outs = bind(custom_vjp_call_p, *args, call=body, fwd=_BatchedFwd(fwd, arg_dims, size),
                bwd=_BatchedBwd(bwd, float_dims, size), name=name, num_consts=num_consts)
    return outs, [0] * len(outs)


custom_vjp_call_p = primitive("custom_vjp_call", _call_impl, _call_shape, cost=_call_cost,
                              multiple_results=True)
custom_vjp_call_p.jvp = _custom_vjp_jvp
custom_vjp_call_p.batch = _custom_vjp_batch


# -- custom_vjp_lin: the linear part, transposed by bwd ----------------------------------------
def _lin_shape(*avals, bwd, name, num_res):
    expected = list(bwd.res_avals) + list(bwd.arg_avals)
    if list(avals) != expected:
        raise ShapeError(f"custom_vjp_lin: takes residuals and tangents {B.types(expected)}, "
                         f"got {B.types(avals)}")
    return list(bwd.out_avals)


def _lin_impl(*args, bwd, name, num_res):
    raise _forward_mode_error(name, bwd.source)


def _lin_jvp(primals, tangents, out, *, bwd, name, num_res):
    # linear in the tangents it takes; the residuals are constants of the
    # linear program (their derivatives are taken through fwd and bwd instead)
    if any(type(t) is not Zero for t in tangents[:num_res]):
        raise NotImplementedError(f"custom_vjp_lin of {name}: differentiating it with respect "
                                  f"to its residuals is not supported{where(bwd.source)}")
    return bind(custom_vjp_lin_p, *primals[:num_res],
                *[instantiate(t) for t in tangents[num_res:]], bwd=bwd, name=name,
                num_res=num_res)


def _lin_transpose(cts, *args, bwd, name, num_res):
    residuals = args[:num_res]
    if any(type(r) is LinearInput for r in residuals):
        raise NotImplementedError(f"custom_vjp_lin of {name}: the residuals of bwd must not be "
                                  "linear inputs")
    ct_in = bwd(list(residuals), [instantiate(c) for c in cts])
    return [None] * num_res + [c if type(a) is LinearInput and type(c) is not Zero else None
                               for a, c in zip(args[num_res:], ct_in)]


def _lin_batch(args, dims, *, bwd, name, num_res):
    size = batch_size(args, dims)
    args, dims = _front(args, dims)
    batched = _BatchedBoundBwd(bwd, dims[:num_res], dims[num_res:], size)
    outs = bind(custom_vjp_lin_p, *args, bwd=batched, name=name, num_res=num_res)
    return outs, [0] * len(outs)


def _lin_cost(in_avals, out_avals, *, bwd, **params):
    return bwd.flops()


custom_vjp_lin_p = primitive("custom_vjp_lin", _lin_impl, _lin_shape, cost=_lin_cost,
                             multiple_results=True)
custom_vjp_lin_p.no_forward_reason = (
    "the linear part of a custom_vjp function: only its bwd rule, backwards")
custom_vjp_lin_p.jvp = _lin_jvp
custom_vjp_lin_p.transpose = _lin_transpose
custom_vjp_lin_p.batch = _lin_batch


class custom_vjp:
    """A function with a VJP rule of the user's, as ``jax.custom_vjp``.

    ``f = custom_vjp(fun, nondiff_argnums=())``; ``f.defvjp(fwd, bwd)`` sets
    ``fwd(*args) -> (out, residuals)`` (``residuals`` any pytree of arrays)
    and ``bwd(residuals, cotangent) -> tuple`` with one cotangent per
    argument that is differentiated (``None`` for a zero one); the arguments
    at ``nondiff_argnums`` come first: ``bwd(*nondiff, residuals,
    cotangent)``.  Reverse mode runs ``fwd`` and ``bwd``; forward mode raises
    ``TypeError``, as in JAX; ``vmap`` batches all three.
    """

    def __init__(self, fun, nondiff_argnums=()):
        if not callable(fun):
            raise TypeError(f"custom_vjp: fun must be a function, got {type(fun).__name__}")
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = _argnums(nondiff_argnums)
        self.fwd = self.bwd = None

    def defvjp(self, fwd, bwd):
        """Set the rules: ``fwd`` computes the output and the residuals,
        ``bwd`` maps the residuals and the output cotangent to the arguments'."""
        if not (callable(fwd) and callable(bwd)):
            raise TypeError("defvjp(fwd, bwd): fwd and bwd must be functions")
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args, **kwargs):
        if self.fwd is None:
            name = _name(self.fun)
            raise AttributeError(f"No VJP rule defined for the custom_vjp function {name}: "
                                 f"define one with {name}.defvjp(fwd, bwd) before calling it"
                                 f"{where(user_source_info())}")
        sig, call, hoisted, leaves = _prepare("custom_vjp", self.fun, self.nondiff_argnums,
                                              args, kwargs)
        outs = bind(custom_vjp_call_p, *hoisted, *leaves, call=call, fwd=_Fwd(self.fwd, sig),
                    bwd=_Bwd(self.bwd, sig), name=sig.name, num_consts=len(hoisted))
        return _result(sig, outs, hoisted + leaves)
