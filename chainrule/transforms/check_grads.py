"""``check_grads``: derivatives checked against finite differences.

Forward mode: the JVP along a random direction ``v`` must match the central
difference ``(f(x + eps v) - f(x - eps v)) / (2 eps)``, computed in float64.
Reverse mode: the VJP must be the transpose of the JVP, which the
dot-product test checks without forming any Jacobian:
``<J v, w> = <v, J^T w>`` for random ``v`` and ``w``.
For ``order > 1`` the same checks run on the derivative functions
themselves (``x -> J(x) v`` and ``x -> J(x)^T w``), recursively.
"""
from __future__ import annotations

import numpy as np

from ..tracer.avals import float0, is_float
from ..tracer.pytree import tree_flatten, tree_unflatten
from ..tracer.tracebacks import api_boundary
from .ad import jvp, vjp


class GradientCheckError(AssertionError):
    """A derivative disagrees with finite differences or with the other mode."""


def _float64(tree):
    leaves, treedef = tree_flatten(tree)
    out = [np.asarray(x, np.float64) if is_float(np.asarray(x).dtype) else np.asarray(x)
           for x in leaves]
    return tree_unflatten(treedef, out)


def _random_like(tree, rng):
    """A random direction shaped like ``tree``: float0 for the leaves that
    are not floating point (their tangent, as ``cr.jvp`` takes it)."""
    leaves, treedef = tree_flatten(tree)
    out = [rng.standard_normal(np.shape(x)) if is_float(np.asarray(x).dtype)
           else np.zeros(np.shape(x), float0) for x in leaves]
    return tree_unflatten(treedef, [o[()] if o.ndim == 0 and o.dtype != float0 else o
                                    for o in out])


def _axpy(a, x, y):
    """``a * x + y`` over matching pytrees (float leaves only)."""
    xs, treedef = tree_flatten(x)
    ys, _ = tree_flatten(y)
    return tree_unflatten(treedef, [yy + a * xx if is_float(np.asarray(yy).dtype) else yy
                                    for xx, yy in zip(xs, ys)])


def _inner(x, y):
    return float(sum(np.sum(np.asarray(a, np.float64) * np.asarray(b, np.float64))
                     for a, b in zip(tree_flatten(x)[0], tree_flatten(y)[0])
                     if is_float(np.asarray(a).dtype)))


def _compare(what, got, expected, atol, rtol, order):
    # (a value without a derivative has a float0 tangent: nothing to compare)
    pairs = [(g, e) for g, e in zip(tree_flatten(got)[0], tree_flatten(expected)[0])
             if np.asarray(g).dtype != float0]
    got_leaves = [np.asarray(g, np.float64) for g, _ in pairs]
    exp_leaves = [np.asarray(e, np.float64) for _, e in pairs]
    worst = 0.0
    detail = ""
    for g, e in zip(got_leaves, exp_leaves):
        if g.shape != e.shape:
            raise GradientCheckError(f"check_grads: {what} at order {order} has shape "
                                     f"{g.shape}, expected {e.shape}")
        err = np.abs(g - e) - (atol + rtol * np.abs(e))
        if err.size and np.nanmax(err) > 0 or np.any(np.isnan(g) != np.isnan(e)):
            k = np.nanargmax(np.abs(g - e)) if err.size else 0
            gap = float(np.abs(g - e).flat[k]) if err.size else float("nan")
            if gap >= worst or np.isnan(gap):
                worst = gap
                detail = (f"largest discrepancy {gap:.3e} at flat index {k}: got "
                          f"{g.flat[k]!r}, expected {e.flat[k]!r}")
    if detail:
        raise GradientCheckError(f"check_grads: {what} at order {order} disagrees; {detail} "
                                 f"(atol={atol}, rtol={rtol})")


@api_boundary
def check_grads(f, args, order=2, modes=("fwd", "rev"), atol=None, rtol=None, eps=None,
                seed=0):
    """Raise ``GradientCheckError`` if ``f``'s derivatives at ``args`` (a
    tuple) disagree with central finite differences, up to ``order``."""
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    for m in modes:
        if m not in ("fwd", "rev"):
            raise ValueError(f"check_grads: unknown mode {m!r}; use 'fwd' and/or 'rev'")
    args = _float64(tuple(args))
    eps = 1e-4 if eps is None else eps
    atol = 1e-5 if atol is None else atol
    rtol = 1e-5 if rtol is None else rtol
    rng = np.random.default_rng(seed)
    _check(f, args, order, modes, atol, rtol, eps, rng, level=1)


def _check(f, args, order, modes, atol, rtol, eps, rng, level):
    v = _random_like(args, rng)
    # reverse mode alone is checked against finite differences, not a JVP (a
    # custom_vjp function has no forward mode)
    out, jv = jvp(f, args, v) if "fwd" in modes else (f(*args), None)
    f_plus = f(*_axpy(eps, v, args))
    f_minus = f(*_axpy(-eps, v, args))
    fd = tree_unflatten(tree_flatten(f_plus)[1],
                        [(np.asarray(p, np.float64) - np.asarray(m, np.float64)) / (2 * eps)
                         if is_float(np.asarray(p).dtype) else np.zeros(np.shape(p), float0)
                         for p, m in zip(tree_flatten(f_plus)[0], tree_flatten(f_minus)[0])])
    if "fwd" in modes:
        _compare("forward mode (JVP vs finite differences)", jv, fd, atol, rtol, level)
    if "rev" in modes:
        w = _random_like(out, rng)
        _, vjp_fn = vjp(f, *args)
        jtw = vjp_fn(w)
        lhs = _inner(jv if "fwd" in modes else fd, w)
        rhs = _inner(v, jtw)
        _compare("reverse mode (dot-product test <J v, w> = <v, J^T w>)", rhs, lhs,
                 atol, rtol, level)
    if order > 1:
        if "fwd" in modes:
            def jvp_of_f(*xs):
                return jvp(f, xs, v)[1]
            _check(jvp_of_f, args, order - 1, ("fwd",), atol, rtol, eps, rng, level + 1)
        if "rev" in modes:
            w = _random_like(out, rng)

            def vjp_of_f(*xs):
                return vjp(f, *xs)[1](w)
            _check(vjp_of_f, args, order - 1, ("rev",), atol, rtol, eps, rng, level + 1)
