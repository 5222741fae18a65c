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
linear.  The recursion limit is set to Python's default, 1000, for the whole
benchmark, so any recursion over the program would show as a RecursionError.
"""
from __future__ import annotations

import sys

import numpy as np

from _programs import chain, chain_grad_numpy

import chainrule as cr

SIZES = (1_000, 10_000, 100_000)
X = np.linspace(0.0, 1.0, 8)


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


def _guarded(report, peer, rows):
    """Run a peer's rows; a peer that fails is reported, not fatal."""
    try:
        rows()
    except Exception as e:
        report.note(f"failed: {peer}: {type(e).__name__}: {str(e)[:200]}")


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

    autograd = report.peer("autograd")
    if autograd is not None:
        def autograd_rows():
            import autograd.numpy as anp
            fa = chain(n, anp.sin)
            _check(np.array_equal(autograd.make_vjp(fa)(x)[1], f(x)),
                   "autograd's forward value differs from NumPy's")
            report.measure("autograd make_vjp (fwd+tape)", lambda: autograd.make_vjp(fa)(x))
        _guarded(report, "autograd", autograd_rows)

    jax = report.peer("jax")
    if jax is not None:
        def jax_rows():
            jax.config.update("jax_enable_x64", True)   # float64, as chainrule and NumPy
            fj, xj = chain(n, jax.numpy.sin), jax.numpy.asarray(x)
            report.measure("jax make_jaxpr", lambda: jax.make_jaxpr(fj)(xj))
            jaxpr = jax.make_jaxpr(fj)(xj)
            report.measure("jax str(jaxpr)", lambda: str(jaxpr))
            report.measure("jax eager", lambda: fj(xj).block_until_ready())
        _guarded(report, "jax", jax_rows)

    torch = report.peer("torch")
    if torch is not None:
        def torch_rows():
            ft = chain(n, torch.sin)
            xt = torch.from_numpy(x.copy())
            xg = xt.clone().requires_grad_(True)

            def no_grad():
                with torch.no_grad():
                    return ft(xt)
            report.measure("torch eager (no_grad)", no_grad)
            report.measure("torch eager (requires_grad, tape)", lambda: ft(xg))
        _guarded(report, "torch", torch_rows)


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

    autograd = report.peer("autograd")
    if autograd is not None:
        def autograd_rows():
            import autograd.numpy as anp
            fa = chain(n, anp.sin)
            ga = autograd.grad(lambda x: anp.sum(fa(x)))
            _check(np.allclose(ga(x), expected, rtol=1e-12, atol=0),
                   "autograd's gradient differs from the hand-written one")
            report.measure("autograd grad", lambda: ga(x))
        _guarded(report, "autograd", autograd_rows)

    jax = report.peer("jax")
    if jax is not None:
        def jax_rows():
            jax.config.update("jax_enable_x64", True)
            jnp = jax.numpy
            fj, xj = chain(n, jnp.sin), jnp.asarray(x)
            gj = jax.grad(lambda x: jnp.sum(fj(x)))
            report.measure("jax grad (not jitted)", lambda: gj(xj).block_until_ready())
        _guarded(report, "jax", jax_rows)

    torch = report.peer("torch")
    if torch is not None:
        def torch_rows():
            ft = chain(n, torch.sin)
            xg = torch.from_numpy(x.copy()).requires_grad_(True)
            report.measure("torch autograd.grad",
                           lambda: torch.autograd.grad(ft(xg).sum(), xg)[0])
        _guarded(report, "torch", torch_rows)


def _summary(report):
    report.section("summary: microseconds per equation, and the ratio of the per-equation "
                   "cost at the largest N to that at the smallest (~1 = linear)", table=False)
    lo, hi = SIZES[0], SIZES[-1]
    head = "".join(f"{f'N={n:,}':>12}" for n in SIZES)
    for titles in (_forward_title, _gradient_title):
        sections = [titles(n) for n in SIZES]
        impls = list(dict.fromkeys(r["impl"] for r in report.rows if r["benchmark"] ==
                                   report.current and r["section"] == sections[0]))
        report.note(f"{titles(0).split(':')[0] + ':':<40}{head}{f'{hi:.0e}/{lo:.0e}':>12}")
        for impl in impls:
            per = [row["per_unit_s"] if (row := report.row(s, impl)) else None
                   for s in sections]
            cells = "".join(f"{'-' if p is None else f'{p * 1e6:.2f}':>12}" for p in per)
            ratio = f"{per[-1] / per[0]:.2f}" if per[0] and per[-1] is not None else "-"
            report.note(f"  {impl:<38}{cells}{ratio:>12}")
