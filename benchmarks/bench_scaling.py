"""Scaling: a program of N equations traces, prints, evaluates and is
differentiated in time linear in N, at Python's default recursion limit.

For N = 10^3, 10^4, 10^5 the function ``chain(N, np.sin)`` (N elementwise
operations on an f64[8] array, see ``_programs.py``) is

* forward: run by NumPy itself (the floor the other rows are a ratio to),
  traced by ``cr.make_ir`` (abstract tracing: shapes and dtypes only),
  printed by ``str()``, and run by ``ClosedIR.eval``; peers when installed:
  autograd's forward pass recording its tape (``make_vjp``),
  ``jax.make_jaxpr`` (the peer of ``make_ir``) and ``str()`` of the jaxpr,
  JAX and PyTorch running it eagerly, PyTorch recording its tape;
* gradient of ``sum(chain(x))``: the hand-written NumPy gradient (forward
  pass keeping the ``sin`` inputs, backward pass of ``cos`` products) is the
  floor; ``cr.grad`` (concrete trace, linearize, transpose, evaluate) and,
  when installed, ``autograd.grad``, ``jax.grad`` and ``torch.autograd.grad``.

The summary gives microseconds per equation at each N and the ratio of the
per-equation cost at the largest N to that at the smallest: about 1 means
linear.  It gives that ratio raw, relative to the NumPy floor, and without
the time spent in the cyclic garbage collector (the GC column), whose full
collections walk every live object and so cost more per equation when the
program (or anything else alive) is larger.

The recursion limit is set to Python's default, 1000, for the whole
benchmark, so any recursion over the program would show as a RecursionError.
"""
from __future__ import annotations

import math
import sys

import numpy as np

from _programs import chain, chain_grad_numpy

import chainrule as cr

SIZES = (1_000, 10_000, 100_000)
X = np.linspace(0.0, 1.0, 8)
JAX_GRAD_MAX_N = 10_000  # un-jitted jax.grad dispatches op by op: ~0.2 ms an equation
JAX_JIT_FIRST_MAX_N = 10_000  # jax.jit's first call: ~14 s at 10k equations


def run(report):
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # Python's default: any recursion over the program shows
    try:
        for n in SIZES:
            _forward(report, n)
            _gradient(report, n)
        _summary(report)
    finally:
        sys.setrecursionlimit(previous)


def _check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def _forward_title(n):
    return f"forward: chain of N = {n:,} equations on f64[8]"


def _gradient_title(n):
    return f"gradient: grad of sum(chain), N = {n:,} forward equations"


def _forward(report, n):
    x, f = X, chain(n, np.sin)
    closed = cr.make_ir(f)(x)
    _check(len(closed.eqns) == n, f"expected {n} equations, traced {len(closed.eqns)}")
    _check(np.array_equal(closed.eval(x), f(x)), f"eval of chain({n}) differs from NumPy")
    _check(str(closed).count("\n") == n + 1, f"str() of chain({n}) has a wrong line count")

    report.section(_forward_title(n), unit="eq", count=n)
    report.measure("numpy (floor)", lambda: f(x), floor=True)
    report.measure("chainrule make_ir", lambda: cr.make_ir(f)(x))
    report.measure("chainrule str()", lambda: str(closed))
    report.measure("chainrule .eval", lambda: closed.eval(x))
    del closed

    def autograd_rows(autograd):
        import autograd.numpy as anp
        fa = chain(n, anp.sin)
        _check(np.array_equal(autograd.make_vjp(fa)(x)[1], f(x)),
               "autograd's forward value differs from NumPy's")
        report.measure("autograd make_vjp (fwd+tape)", lambda: autograd.make_vjp(fa)(x))

    def jax_rows(jax):
        jax.config.update("jax_enable_x64", True)   # float64, as chainrule and NumPy
        fj, xj = chain(n, jax.numpy.sin), jax.numpy.asarray(x)
        # a new function object each call: make_jaxpr caches traces by function
        report.measure("jax make_jaxpr", lambda: jax.make_jaxpr(chain(n, jax.numpy.sin))(xj))
        jaxpr = jax.make_jaxpr(fj)(xj)
        report.measure("jax str(jaxpr)", lambda: str(jaxpr))
        report.measure("jax eager", lambda: fj(xj).block_until_ready())

    def torch_rows(torch):
        ft = chain(n, torch.sin)
        xt = torch.from_numpy(x.copy())
        xg = xt.clone().requires_grad_(True)

        def no_grad():
            with torch.no_grad():
                return ft(xt)
        report.measure("torch eager (no_grad)", no_grad)
        report.measure("torch eager (requires_grad, tape)", lambda: ft(xg))

    report.with_peer("autograd", autograd_rows)
    report.with_peer("jax", jax_rows)
    report.with_peer("torch", torch_rows)


def _gradient(report, n):
    x, f, g_np = X, chain(n, np.sin), chain_grad_numpy(n)
    report.section(_gradient_title(n), unit="eq", count=n)
    expected = g_np(x)
    report.measure("numpy hand-written gradient (floor)", lambda: g_np(x), floor=True)
    if not hasattr(cr, "grad"):
        report.note("skipped: chainrule has no grad yet")
        return

    def loss(x):
        return np.sum(f(x))
    grad = cr.grad(loss)
    _check(np.allclose(grad(x), expected, rtol=1e-12, atol=0),
           f"cr.grad of chain({n}) differs from the hand-written gradient")
    report.measure("chainrule grad", lambda: grad(x))
    report.measure("chainrule make_ir(grad)", lambda: cr.make_ir(grad)(x))
    if hasattr(cr, "jit"):
        # the first call of a new jitted function: trace, transform, optimize, compile, run
        report.measure("chainrule jit(grad) first call", lambda: cr.jit(cr.grad(loss))(x),
                       repeat=3)
        jitted = cr.jit(grad)
        _check(np.allclose(jitted(x), expected, rtol=1e-12, atol=0),
               f"cr.jit(cr.grad) of chain({n}) differs from the hand-written gradient")
        report.measure("chainrule jit(grad) compiled", lambda: jitted(x))

    def autograd_rows(autograd):
        import autograd.numpy as anp
        fa = chain(n, anp.sin)
        ga = autograd.grad(lambda x: anp.sum(fa(x)))
        _check(np.allclose(ga(x), expected, rtol=1e-12, atol=0),
               "autograd's gradient differs from the hand-written one")
        report.measure("autograd grad", lambda: ga(x))

    def jax_rows(jax):
        if n > JAX_GRAD_MAX_N:
            report.note(f"skipped: jax grad (not jitted) above N = {JAX_GRAD_MAX_N:,}: it "
                        "costs hundreds of microseconds an equation (see the smaller N)")
            return
        jax.config.update("jax_enable_x64", True)
        jnp = jax.numpy
        fj, xj = chain(n, jnp.sin), jnp.asarray(x)
        gj = jax.grad(lambda x: jnp.sum(fj(x)))
        _check(np.allclose(np.asarray(gj(xj)), expected, rtol=1e-12, atol=0),
               "jax's gradient differs from the hand-written one")
        report.measure("jax grad (not jitted)", lambda: gj(xj).block_until_ready())
        if n <= JAX_JIT_FIRST_MAX_N:   # XLA's compile time grows faster than linearly
            report.measure("jax.jit(grad) first call", lambda: jax.jit(
                jax.grad(lambda x: jnp.sum(chain(n, jnp.sin)(x))))(xj).block_until_ready(),
                repeat=1)

    def torch_rows(torch):
        ft = chain(n, torch.sin)
        xg = torch.from_numpy(x.copy()).requires_grad_(True)
        _check(np.allclose(torch.autograd.grad(ft(xg).sum(), xg)[0].numpy(), expected,
                           rtol=1e-12, atol=0),
               "torch's gradient differs from the hand-written one")
        report.measure("torch autograd.grad", lambda: torch.autograd.grad(ft(xg).sum(), xg)[0])

    report.with_peer("autograd", autograd_rows)
    report.with_peer("jax", jax_rows)
    report.with_peer("torch", torch_rows)


def _summary(report):
    """Per-equation cost by N, and how it grows from the smallest N to the
    largest: raw, relative to the NumPy floor of the same section (which
    cancels a machine that got slower or faster between sections), and
    without the time spent in garbage collections."""
    report.section("summary: microseconds per equation; growth of the per-equation cost from "
                   "the smallest N to the largest (~1 = linear): raw, relative to the NumPy "
                   "floor, and without garbage collection", table=False)
    head = "".join(f"{f'N={n:,}':>11}" for n in SIZES)
    for titles in (_forward_title, _gradient_title):
        sections = [titles(n) for n in SIZES]
        impls = list(dict.fromkeys(r["impl"] for r in report.rows if r["benchmark"] ==
                                   report.current and r["section"] == sections[0]))
        report.note(f"{titles(0).split(':')[0] + ':':<40}{head}"
                    f"{'growth':>8}{'vs floor':>9}{'w/o GC':>8}")
        for impl in impls:
            rows = [report.row(s, impl) for s in sections]
            per = [r["per_unit_s"] if r else None for r in rows]
            cells = "".join(f"{'-' if p is None else f'{p * 1e6:.2f}':>11}" for p in per)
            growth = vs_floor = no_gc = "-"
            lo, hi = rows[0], rows[-1]
            if lo and hi:
                growth = f"{hi['per_unit_s'] / lo['per_unit_s']:.2f}"
                vs_floor = f"{hi['ratio_to_numpy'] / lo['ratio_to_numpy']:.2f}"
                ratio = (hi["per_unit_s"] * (1 - hi["gc_share"])
                         / (lo["per_unit_s"] * (1 - lo["gc_share"])))
                no_gc = "-" if math.isnan(ratio) else f"{ratio:.2f}"
            report.note(f"  {impl:<38}{cells}{growth:>8}{vs_floor:>9}{no_gc:>8}")
