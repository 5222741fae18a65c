"""Scaling: a program of N equations traces, prints and evaluates in time
linear in N, at Python's default recursion limit.

For N = 10^3, 10^4, 10^5 the function ``chain(N, np.sin)`` (N elementwise
operations on an 8-element array, see ``_programs.py``) is

* run by NumPy itself: the floor every other row is a ratio to;
* traced by ``cr.make_ir`` (abstract tracing: shapes and dtypes only),
  printed by ``str()`` and run by ``ClosedIR.eval``;
* for the peers, when installed: recorded by autograd (``make_vjp``, the
  forward pass that builds its tape), traced by ``jax.make_jaxpr`` (the peer
  of ``make_ir``) and printed, run eagerly by JAX and PyTorch, and recorded
  by PyTorch's autograd (``requires_grad``).

The summary gives microseconds per equation at each N and the ratio of the
per-equation cost at the largest N to that at the smallest: about 1 means
linear.  The recursion limit is set to Python's default, 1000, for the whole
benchmark, so any recursion over the program would show as a RecursionError.
"""
from __future__ import annotations

import sys

import numpy as np

from _programs import chain

import chainrule as cr

SIZES = (1_000, 10_000, 100_000)


def _check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def _peer_rows(report, n, x):
    """The peers' rows for ``chain(n)``; a peer that fails is reported, not fatal."""
    autograd = report.peer("autograd")
    if autograd is not None:
        import autograd.numpy as anp
        fa = chain(n, anp.sin)
        _check(np.array_equal(autograd.make_vjp(fa)(x)[1], chain(n, np.sin)(x)),
               "autograd's forward value differs from NumPy's")
        _guarded(report, "autograd", lambda: report.measure(
            "autograd make_vjp (fwd+tape)", lambda: autograd.make_vjp(fa)(x)))

    jax = report.peer("jax")
    if jax is not None:
        def jax_rows():
            jax.config.update("jax_enable_x64", True)   # float64, as chainrule and NumPy
            fj = chain(n, jax.numpy.sin)
            xj = jax.numpy.asarray(x)
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


def _guarded(report, peer, rows):
    try:
        rows()
    except Exception as e:  # a peer's failure is a finding, not a crash of the run
        report.note(f"failed: {peer}: {type(e).__name__}: {str(e)[:200]}")


def run(report):
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # Python's default: any recursion over the program shows
    try:
        _run(report)
    finally:
        sys.setrecursionlimit(previous)


def _run(report):
    x = np.linspace(0.0, 1.0, 8)
    for n in SIZES:
        f = chain(n, np.sin)
        closed = cr.make_ir(f)(x)
        _check(len(closed.eqns) == n, f"expected {n} equations, traced {len(closed.eqns)}")
        _check(np.array_equal(closed.eval(x), f(x)), f"eval of chain({n}) differs from NumPy")
        text = str(closed)
        _check(text.count("\n") == n + 1, f"str() of chain({n}) has the wrong number of lines")

        report.section(f"chain of N = {n:,} equations on f64[8]", unit="eq", count=n)
        report.measure("numpy (floor)", lambda: f(x), floor=True)
        report.measure("chainrule make_ir", lambda: cr.make_ir(f)(x))
        report.measure("chainrule str()", lambda: str(closed))
        report.measure("chainrule .eval", lambda: closed.eval(x))
        _peer_rows(report, n, x)
        del closed, text

    sections = [f"chain of N = {n:,} equations on f64[8]" for n in SIZES]
    impls = list(dict.fromkeys(r["impl"] for r in report.rows
                               if r["benchmark"] == report.current and r["section"] in sections))
    report.section("summary: microseconds per equation, and the ratio of the per-equation "
                   "cost at the largest N to that at the smallest (~1 = linear)", table=False)
    lo, hi = SIZES[0], SIZES[-1]
    head = "".join(f"{f'N={n:,}':>12}" for n in SIZES)
    report.note(f"{'stage':<34}{head}{f'{hi:.0e}/{lo:.0e}':>12}")
    for impl in impls + ["chainrule .eval - numpy"]:
        per = []
        for section in sections:
            if impl == "chainrule .eval - numpy":
                row, floor = report.row(section, "chainrule .eval"), report.row(section,
                                                                                "numpy (floor)")
                per.append(row["per_unit_s"] - floor["per_unit_s"])
            else:
                row = report.row(section, impl)
                per.append(None if row is None else row["per_unit_s"])
        cells = "".join(f"{'-' if p is None else f'{p * 1e6:.2f}':>12}" for p in per)
        ratio = f"{per[-1] / per[0]:.2f}" if per[0] and per[-1] is not None else "-"
        report.note(f"{impl:<34}{cells}{ratio:>12}")
