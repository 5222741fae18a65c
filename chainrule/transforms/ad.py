"""Forward and reverse mode, as users call them: jvp, linearize, vjp, grad,
value_and_grad, linear_transpose.

All of them trace ``f`` concretely at the primal inputs and, as each
equation is recorded, push tangents through it with its JVP rule
(``interpreters.jvp.ForwardMode``):

* ``jvp``: the tangents are the given arrays, so forward mode is computed on
  the spot;
* ``linearize``: the tangents are tracers of a second, abstract trace, which
  therefore records the linear tangent program.  Whatever the rules compute
  from primal values alone runs at once and enters that program as a
  *residual* constant: this is partial evaluation, done while tracing, so
  each primal value is computed once and dropped as soon as neither the
  user's code nor a residual needs it;
* ``vjp``/``grad``: linearize, then run the linear program backwards
  (``interpreters.transpose.backward_pass``) on the output cotangents.

Called inside another trace (``grad(grad(f))``, ``make_ir(grad(f))``), the
primal values are tracers of that trace, so everything computed from them
is recorded there and the result is differentiable again.
"""
from __future__ import annotations

import functools

import numpy as np

from ..interpreters.evaluate import eval_ir
from ..interpreters.jvp import ForwardMode
from ..interpreters.transpose import backward_pass
from ..primitives._ad import Zero, instantiate, zeros
from ..tracer.aliasing import owned, unshared
from ..tracer.avals import float0, is_float, short_dtype
from ..tracer.core import Tracer, get_aval, new_trace
from ..tracer.ir import ClosedIR
from ..tracer.pytree import tree_flatten, tree_unflatten
from ..tracer.tracebacks import api_boundary
from ..tracer.tracing import check_leaf, flat_outputs, new_args, trace_to_ir


class _Traced:
    """What tracing ``f`` with tangents gives: structures, avals, output
    values and output tangents (flat; zero tangents are ``Zero``)."""

    def __init__(self, in_tree, out_tree, in_avals, outs, tangents, trace, user_arrays):
        self.in_tree, self.out_tree, self.in_avals = in_tree, out_tree, in_avals
        self.outs, self.tangents, self.trace = outs, tangents, trace
        # the arrays of the user's that the function was given or read: what
        # is kept for later must not share memory with them (``owned``)
        self.user_arrays = user_arrays


def _forward(f, args, make_tangents, name):
    """Trace ``f(*args)`` concretely, pushing the tangents
    ``make_tangents(in_avals)`` (one per array leaf) through every equation."""
    flat, in_tree = tree_flatten(tuple(args))
    flat = [check_leaf(x, name) for x in flat]
    forward = ForwardMode()
    with new_trace(name, concrete=True, on_equation=forward) as tr:
        tracers = new_args(tr, flat)
        in_avals = [t.aval for t in tracers]
        for tracer, t in zip(tracers, make_tangents(in_avals)):
            if type(t) is not Zero:
                tracer.tangent = t
        out_flat, out_tree = flat_outputs(f(*tree_unflatten(in_tree, tracers)), f, name)
        outs, tangents = [], []
        for x in out_flat:
            atom, value = tr.atom(x)  # also rejects leaked tracers
            outs.append(value)
            t = x.tangent if isinstance(x, Tracer) and x._trace is tr else None
            tangents.append(Zero(atom.aval) if t is None else t)
        user_arrays = flat + [c for c in tr.const_values if isinstance(c, np.ndarray)]
    return _Traced(in_tree, out_tree, in_avals, outs, tangents, tr, user_arrays)


def _linearize(f, args, active, name):
    """Trace ``f`` and record its linear tangent program in the inputs marked
    by ``active(in_avals)``; return ``(_Traced, linear ClosedIR)``."""
    with new_trace("linearize") as tangent_trace:
        def make_tangents(avals):
            return [tangent_trace.new_arg(a) if on else Zero(a)
                    for a, on in zip(avals, active(avals))]
        traced = _forward(f, args, make_tangents, name)
        linear, residuals = tangent_trace.to_ir([instantiate(t) for t in traced.tangents])
    return traced, ClosedIR(linear, residuals)


def _aux_value(x, trace):
    # aux outputs of the AD trace leave it as their values; tracers of an
    # enclosing trace stay tracers (they are still being differentiated there)
    return x.value if isinstance(x, Tracer) and x._trace is trace else x


def _as_array(x, aval):
    if isinstance(x, Tracer):
        return x
    return np.asarray(x, aval.dtype) if aval.shape else np.asarray(x, aval.dtype)[()]


def _split_aux(f, has_aux, name):
    if not has_aux:
        return f
    @functools.wraps(f)
    def main_output(*args, **kwargs):
        out = f(*args, **kwargs)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError(f"{name}(f, has_aux=True) needs f to return a pair (output, aux), "
                            f"got {type(out).__name__}")
        main_output.aux = out[1]
        return out[0]
    return main_output


# -- tangents of integers: float0 ------------------------------------------------
# An integer or boolean value has no derivative.  As in JAX, its tangent (and
# cotangent) is an array of dtype float0 (``cr.float0``), which holds no
# numbers: the user passes one for such an input, and gets one for such an output.
def _tangent_in(t, aval, k, name, what="tangent", of="primal"):
    """The tangent ``t`` given for a primal of type ``aval`` (leaf ``k``),
    checked: its shape, and float0 for a primal without a derivative (also
    for a cotangent given for an output: ``what``, ``of``)."""
    t_aval = get_aval(t)
    if t_aval.shape != aval.shape:
        raise ValueError(f"{name}: a {what} of shape {t_aval.shape} was given for {of} {k} of "
                         f"shape {aval.shape}")
    if is_float(aval.dtype):
        return _as_array(t, aval)
    if t_aval.dtype != float0:
        raise TypeError(f"{name}: {of} {k} has dtype {short_dtype(aval.dtype)}, which has no "
                        f"derivative, so its {what} must have dtype float0, not "
                        f"{short_dtype(t_aval.dtype)}: pass np.zeros({aval.shape}, cr.float0) "
                        f"(a nonzero {what} would be ignored)")
    return Zero(aval)


def _tangent_out(t):
    """An output tangent for the user: an array, float0 zeros for an output
    without a derivative."""
    aval = t.aval if type(t) is Zero else get_aval(t)
    return instantiate(t) if is_float(aval.dtype) else np.zeros(aval.shape, float0)


# -- forward mode ------------------------------------------------------------
@api_boundary
def jvp(f, primals, tangents, has_aux=False):
    """``(f(*primals), J_f(primals) @ tangents)``: forward mode.

    ``primals`` and ``tangents`` are tuples of the same pytree structure.
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp(f, primals, tangents): primals and tangents must be tuples")
    g = _split_aux(f, has_aux, "jvp")
    flat_t, t_tree = tree_flatten(tuple(tangents))
    p_tree = tree_flatten(tuple(primals))[1]
    if t_tree != p_tree:
        raise TypeError(f"jvp: tangents have structure {t_tree} but primals have {p_tree}")

    def make_tangents(avals):
        return [_tangent_in(t, aval, k, "jvp") for k, (t, aval) in enumerate(zip(flat_t, avals))]

    traced = _forward(g, primals, make_tangents, "jvp")
    n = len(traced.outs)
    results = unshared(traced.outs + [_tangent_out(t) for t in traced.tangents],
                       traced.user_arrays + flat_t)
    out = tree_unflatten(traced.out_tree, results[:n])
    t_out = tree_unflatten(traced.out_tree, results[n:])
    if has_aux:
        return out, t_out, _tree_values(g.aux, traced.trace)
    return out, t_out


def _unshared_tree(tree, others):
    """``tree`` with its arrays ``unshared`` (copied where they share memory
    with ``others`` or one another)."""
    leaves, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, unshared(leaves, others))


def _tree_values(tree, trace):
    leaves, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [_aux_value(x, trace) for x in leaves])


class LinearFunction:
    """A linear function carrying its own IR (``.ir``): the tangent program
    that ``linearize`` returns.  Calling it evaluates that program."""

    def __init__(self, linear: ClosedIR, in_tree, out_tree, in_avals, active):
        self.ir = linear
        self.in_tree, self.out_tree = in_tree, out_tree
        self.in_avals, self.active = in_avals, active

    @api_boundary
    def __call__(self, *tangents):
        flat, tree = tree_flatten(tangents)
        if tree != self.in_tree:
            raise TypeError(f"the linearized function takes tangents of structure "
                            f"{self.in_tree}, got {tree}")
        flat = [_tangent_in(t, aval, k, "the linearized function")
                for k, (t, aval) in enumerate(zip(flat, self.in_avals))]
        args = [t for t, on in zip(flat, self.active) if on]
        outs = eval_ir(self.ir.ir, self.ir.consts, args)
        return tree_unflatten(self.out_tree, unshared([_tangent_out(t) for t in outs],
                                                      args + self.ir.consts))

    def __repr__(self):
        return f"<linear function; print(f.ir) to read its program>\n{self.ir}"


def _floats(avals):
    return [is_float(a.dtype) for a in avals]


@api_boundary
def linearize(f, *primals):
    """``(f(*primals), f_jvp)`` where ``f_jvp(*tangents)`` is the JVP at
    ``primals``, a linear function whose program (``f_jvp.ir``) holds only
    linear primitives and the residuals they need."""
    traced, linear = _linearize(f, primals, _floats, "linearize")
    linear.consts = owned(linear.consts, traced.user_arrays)   # kept for later calls
    f_jvp = LinearFunction(linear, traced.in_tree, traced.out_tree, traced.in_avals,
                           _floats(traced.in_avals))
    return tree_unflatten(traced.out_tree, unshared(traced.outs, traced.user_arrays)), f_jvp


# -- reverse mode ------------------------------------------------------------
def _vjp(f, primals, argnums, has_aux, name):
    """Trace and linearize in the float leaves of the arguments ``argnums``."""
    g = _split_aux(f, has_aux, name)
    leaf_arg = []
    for i, p in enumerate(primals):
        leaf_arg += [i] * len(tree_flatten(p)[0])

    def active(avals):
        return [leaf_arg[k] in argnums and is_float(a.dtype) for k, a in enumerate(avals)]

    traced, linear = _linearize(g, primals, active, name)
    aux = _tree_values(g.aux, traced.trace) if has_aux else None
    return traced, linear, active(traced.in_avals), aux


@api_boundary
def vjp(f, *primals, has_aux=False):
    """``(f(*primals), vjp_fn)``; ``vjp_fn(cotangent)`` returns a tuple with
    one cotangent per primal (the transpose of the linearized ``f``).  An
    output without a derivative (integer, boolean) takes a float0
    cotangent, and an input without one gets a float0 cotangent."""
    return _vjp_and_pullback(f, primals, has_aux, float0_cotangents=True)


def _vjp_and_pullback(f, primals, has_aux, float0_cotangents):
    """``vjp``; ``jacrev`` asks for zeros of the integer dtypes instead of float0
    (its Jacobian blocks of integer outputs keep their dtype)."""
    traced, linear, active, aux = _vjp(f, primals, range(len(primals)), has_aux, "vjp")
    linear.consts = owned(linear.consts, traced.user_arrays)   # kept for later calls
    in_avals, in_tree, out_tree = traced.in_avals, traced.in_tree, traced.out_tree
    out_avals = [get_aval(o) for o in traced.outs]

    @api_boundary
    def vjp_fn(cotangent):
        flat, tree = tree_flatten(cotangent)
        if tree != out_tree:
            raise TypeError(f"vjp_fn: the cotangent has structure {tree}, but the output "
                            f"of f has {out_tree}")
        cts = []
        for k, (c, aval) in enumerate(zip(flat, out_avals)):
            if float0_cotangents:
                ct = _tangent_in(c, aval, k, "vjp_fn", "cotangent", "output")
                cts.append(zeros(aval) if type(ct) is Zero else ct)
                continue
            if get_aval(c).shape != aval.shape:
                raise ValueError(f"vjp_fn: a cotangent of shape {get_aval(c).shape} was given "
                                 f"for an output of shape {aval.shape}")
            cts.append(_as_array(c, aval))
        in_cts = iter(backward_pass(linear.ir, linear.consts, cts))
        flat_out = [instantiate(next(in_cts)) if on
                    else np.zeros(a.shape, float0) if float0_cotangents and not is_float(a.dtype)
                    else zeros(a) for a, on in zip(in_avals, active)]
        return tuple(tree_unflatten(in_tree, unshared(flat_out, cts + linear.consts)))

    vjp_fn.ir = linear
    out = tree_unflatten(out_tree, unshared(traced.outs, traced.user_arrays))
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def _check_argnums(argnums, nargs, name):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    for i in nums:
        if not -nargs <= i < nargs:
            raise ValueError(f"{name}: argnums {i} is out of range for a function called "
                             f"with {nargs} positional arguments")
    return single, tuple(i % nargs for i in nums)


@api_boundary
def value_and_grad(f, argnums=0, has_aux=False):
    """A function returning ``(f(*args), gradient)`` (``((value, aux),
    gradient)`` with ``has_aux``), the gradient taken in the arguments
    ``argnums`` (an int, or a tuple giving a tuple of gradients)."""

    @api_boundary
    @functools.wraps(f)
    def value_and_grad_f(*args, **kwargs):
        single, nums = _check_argnums(argnums, len(args), "grad")
        for i in nums:
            for leaf in tree_flatten(args[i])[0]:
                dtype = get_aval(leaf).dtype
                if not is_float(dtype):
                    raise TypeError(
                        f"grad requires floating-point inputs, but argument {i} has dtype "
                        f"{dtype}. Pass floats (e.g. 1.0 rather than 1, or x.astype(float)), "
                        "or leave that argument out of argnums.")
        g = functools.partial(f, **kwargs) if kwargs else f
        traced, linear, active, aux = _vjp(g, args, nums, has_aux, "grad")
        outs = traced.outs
        if len(outs) != 1 or get_aval(outs[0]).shape != ():
            shapes = [get_aval(o).str_short() for o in outs]
            raise TypeError(f"grad requires a function with one scalar output, but the "
                            f"output is {shapes[0] if len(shapes) == 1 else shapes}. For "
                            "non-scalar outputs use cr.vjp, cr.jacrev or cr.jacfwd.")
        out_aval = get_aval(outs[0])
        if not is_float(out_aval.dtype):
            raise TypeError(f"grad requires a floating-point output, but the output has dtype "
                            f"{short_dtype(out_aval.dtype)}: its derivative is zero or "
                            "undefined. Differentiate a float expression instead.")
        one = np.ones((), out_aval.dtype)[()]
        consts = linear.consts
        linear.consts = []  # hand the residuals over, so each is freed after its last use
        in_cts = iter(backward_pass(linear.ir, consts, [one], release_consts=True))
        flat = [instantiate(next(in_cts)) if on else None for on in active]
        # regroup the flat cotangents by argument
        grads, k = [], 0
        for i, a in enumerate(args):
            leaves, tree = tree_flatten(a)
            if i in nums:
                grads.append(tree_unflatten(tree, flat[k:k + len(leaves)]))
            k += len(leaves)
        by_arg = dict(zip([i for i in range(len(args)) if i in nums], grads))
        gradient = by_arg[nums[0]] if single else tuple(by_arg[i] for i in nums)
        value, gradient = _unshared_tree((outs[0], gradient), traced.user_arrays)
        return ((value, aux) if has_aux else value), gradient

    return value_and_grad_f


@api_boundary
def grad(f, argnums=0, has_aux=False):
    """The gradient function of a scalar-output ``f`` (reverse mode):
    ``grad(f)(x)`` has the shape and structure of ``x``."""
    vg = value_and_grad(f, argnums=argnums, has_aux=has_aux)

    @api_boundary
    @functools.wraps(f)
    def grad_f(*args, **kwargs):
        (value_or_pair, gradient) = vg(*args, **kwargs)
        return (gradient, value_or_pair[1]) if has_aux else gradient

    return grad_f


@api_boundary
def linear_transpose(f_linear, *primals):
    """The transpose of the linear function ``f_linear``, whose inputs have
    the shapes and dtypes of ``primals``: ``f_T(cotangent)`` returns a tuple
    with one cotangent per input."""
    closed = trace_to_ir(f_linear, primals, name="linear_transpose")
    closed.consts = owned(closed.consts, closed.consts)   # the arrays it read, kept for later
    in_tree, out_tree = closed.in_tree, closed.out_tree

    @api_boundary
    def transposed(cotangent):
        flat, tree = tree_flatten(cotangent)
        if tree != out_tree:
            raise TypeError(f"the transposed function takes cotangents of structure "
                            f"{out_tree}, got {tree}")
        cts = [_as_array(c, a) for c, a in zip(flat, closed.out_avals)]
        in_cts = backward_pass(closed.ir, closed.consts, cts)
        return tuple(tree_unflatten(in_tree, unshared([instantiate(c) for c in in_cts],
                                                      cts + closed.consts)))

    transposed.ir = closed
    return transposed


@api_boundary
def stop_gradient(x):
    """``x`` as a constant for differentiation: its value passes, its
    derivative is zero (every leaf of a pytree)."""
    from ..primitives.elementwise import stop_gradient_p
    from ..tracer.core import bind
    leaves, treedef = tree_flatten(x)
    return tree_unflatten(treedef, [bind(stop_gradient_p, leaf) for leaf in leaves])
