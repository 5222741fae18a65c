"""Full Jacobians of dense + tanh chains: the order of the Jacobian chain.

For f(x) = W_L tanh(... tanh(W_1 x)), J = W_L D_{L-1} W_{L-1} ... D_1 W_1
with D_i = diag(1 - tanh^2).  Forward mode (jacfwd) costs one sweep per
input, reverse mode (jacrev) one per output; chains whose widths narrow in
the middle are cheapest bracketed there, which ``cr.jacobian(mode="auto")``
finds from the IR.  Rows:

* numpy (floor): the forward pass by hand and the scaled matrices multiplied
  in the optimal matrix-chain order (textbook DP on the widths);
* chainrule jacfwd / jacrev / jacobian(auto), planning included (the plan is
  cached per program, as in use);
* JAX (``jax.jit(jax.jacfwd/jacrev)``) and PyTorch (``torch.func``) when
  installed.

It then reports the ratios the Jacobian issue asks for: auto against the
faster of jacfwd and jacrev, the median over 100 random chains, peak
memory (tracemalloc) of the autoencoder plan against jacfwd's, and the
planning time of a 64-segment chain.
"""
from __future__ import annotations

import statistics
import time
import tracemalloc

import numpy as np

import chainrule as cr


def make_chain(widths, seed=0):
    rng = np.random.default_rng(seed)
    Ws = [rng.standard_normal((b, a)) / np.sqrt(a) for a, b in zip(widths[:-1], widths[1:])]

    def f(x):
        for W in Ws[:-1]:
            x = np.tanh(W @ x)
        return Ws[-1] @ x

    x = rng.standard_normal(widths[0])
    return f, Ws, x


def numpy_jacobian(Ws, x):
    """The floor: scale each W by its layer's tanh' and multiply the chain
    in the cheapest order for its widths."""
    mats = []
    h = x
    for W in Ws[:-1]:
        y = np.tanh(W @ h)
        mats.append((1 - y * y)[:, None] * W)
        h = y
    mats.append(Ws[-1])
    mats = mats[::-1]                          # J = mats[0] @ mats[1] @ ...
    dims = [mats[0].shape[0]] + [m.shape[1] for m in mats]
    n = len(mats)
    cost = [[0] * n for _ in range(n)]
    cut = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = float("inf")
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], cut[i][j] = c, k
    # multiply out with an explicit stack of (i, j) products still to form
    results = {}
    stack = [(0, n - 1, False)]
    while stack:
        i, j, ready = stack.pop()
        if i == j:
            results[(i, j)] = mats[i]
            continue
        k = cut[i][j]
        if not ready:
            stack += [(i, j, True), (i, k, False), (k + 1, j, False)]
        else:
            results[(i, j)] = results.pop((i, k)) @ results.pop((k + 1, j))
    return results[(0, n - 1)]


def _peers(report, Ws, x, *, directions=("fwd", "rev")):
    def jax_rows(jax):
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
        jWs = [jnp.asarray(W) for W in Ws]

        def f(v):
            for W in jWs[:-1]:
                v = jnp.tanh(W @ v)
            return jWs[-1] @ v

        xj = jnp.asarray(x)
        for name in directions:
            fn = jax.jit(jax.jacfwd(f) if name == "fwd" else jax.jacrev(f))
            report.measure(f"jax.jit(jac{name})", lambda fn=fn: fn(xj).block_until_ready())

    def torch_rows(torch):
        tWs = [torch.from_numpy(W) for W in Ws]

        def f(v):
            for W in tWs[:-1]:
                v = torch.tanh(W @ v)
            return tWs[-1] @ v

        xt = torch.from_numpy(x)
        for name in directions:
            fn = torch.func.jacfwd(f) if name == "fwd" else torch.func.jacrev(f)
            report.measure(f"torch.func.jac{name}", lambda fn=fn: fn(xt))

    report.with_peer("jax", jax_rows)
    report.with_peer("torch", torch_rows)


def _chain_rows(report, title, widths, *, peers=True):
    f, Ws, x = make_chain(widths)
    n, m = widths[0], widths[-1]
    report.section(f"{title}: {'-'.join(map(str, widths))}", unit="entry", count=n * m)
    report.measure("numpy (floor, best bracketing)", lambda: numpy_jacobian(Ws, x), floor=True)
    fwd = report.measure("chainrule jacfwd", lambda: cr.jacfwd(f)(x))
    rev = report.measure("chainrule jacrev", lambda: cr.jacrev(f)(x))
    jac = cr.jacobian(f)
    auto = report.measure("chainrule jacobian(auto)", lambda: jac(x))
    J = jac(x)
    if hasattr(cr, "jit"):
        jitted = cr.jit(cr.jacobian(f))
        if not np.allclose(jitted(x), J, rtol=1e-10, atol=1e-12 * np.abs(J).max()):
            raise AssertionError(f"{title}: cr.jit(cr.jacobian) differs from cr.jacobian")
        report.measure("chainrule jit(jacobian)", lambda: jitted(x))
    reference = numpy_jacobian(Ws, x)
    error = np.abs(J - reference).max() / np.abs(reference).max()
    plan = cr.jacobian_plan(f)(x)
    report.note(f"plan: {plan.root.describe()}")
    report.note(f"auto vs faster of jacfwd/jacrev: "
                f"{min(fwd.median, rev.median) / auto.median:.2f}x faster; "
                f"max relative error vs numpy {error:.1e}")
    if peers:
        _peers(report, Ws, x)
        _versus_best_peer(report, "chainrule jit(jacobian)")
    return f, x


def _versus_best_peer(report, impl):
    """A note: ``impl`` against the fastest peer row of the current section."""
    section = report.current_section
    mine = report.row(section, impl)
    peer_rows = [r for r in report.rows if r["benchmark"] == report.current
                 and r["section"] == section and r["impl"].startswith(("jax", "torch"))]
    if mine and peer_rows:
        best = min(peer_rows, key=lambda r: r["median_s"])
        report.note(f"{impl} vs the best peer ({best['impl']}): "
                    f"{best['median_s'] / mine['median_s']:.2f}x faster")


def _peak_memory(fn):
    fn()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _interleaved_medians(fns, rounds=5, min_sample=0.005):
    """Median seconds per call of each of ``fns``, timed in alternating
    rounds (one sample of each per round), so that drift in the machine's
    speed (other processes, BLAS threads) hits all of them alike."""
    for fn in fns:
        fn()                                            # warm-up (and plan)
    numbers = []
    for fn in fns:
        t0 = time.perf_counter()
        fn()
        numbers.append(max(1, int(min_sample / max(time.perf_counter() - t0, 1e-7))))
    samples = [[] for _ in fns]
    for _ in range(rounds):
        for fn, number, out in zip(fns, numbers, samples):
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            out.append((time.perf_counter() - t0) / number)
    return [statistics.median(s) for s in samples]


def _random_chains(report, count):
    """(auto vs the faster pure mode, auto vs the NumPy floor) per chain."""
    rng = np.random.default_rng(2026)
    ratios, floor_ratios = [], []
    for k in range(count):
        layers = int(rng.integers(5, 21))
        widths = [int(w) for w in rng.integers(1, 2001, size=layers + 1)]
        f, Ws, x = make_chain(widths, seed=k)
        jac = cr.jacobian(f)
        fwd, rev, auto, floor = _interleaved_medians(
            [lambda: cr.jacfwd(f)(x), lambda: cr.jacrev(f)(x), lambda: jac(x),
             lambda: numpy_jacobian(Ws, x)], rounds=3 if report.quick else 5)
        ratios.append(min(fwd, rev) / auto)
        floor_ratios.append(floor / auto)
    return ratios, floor_ratios


def run(report):
    _chain_rows(report, "autoencoder", [784, 2048, 32, 2048, 784], peers=False)
    _chain_rows(report, "narrow waist", [1000, 500, 10, 500, 1000], peers=False)
    _chain_rows(report, "bottleneck", [1000, 10, 1000], peers=False)
    _chain_rows(report, "peer chain", [2000, 20, 2000, 300])
    _chain_rows(report, "tall", [10, 500, 500, 1000])
    _chain_rows(report, "wide", [1000, 500, 500, 10])

    report.section("peak memory, autoencoder 784-2048-32-2048-784", table=False)
    f, _, x = make_chain([784, 2048, 32, 2048, 784])
    jac = cr.jacobian(f)
    fwd_peak = _peak_memory(lambda: cr.jacfwd(f)(x))
    auto_peak = _peak_memory(lambda: jac(x))
    report.note(f"jacfwd {fwd_peak / 2**20:.1f} MiB, jacobian(auto) {auto_peak / 2**20:.1f} MiB "
                f"({auto_peak / fwd_peak:.2f} of jacfwd's)")

    count = 10 if report.quick else 100
    report.section(f"{count} random dense+tanh chains (5-20 layers, widths 1..2000)",
                   table=False)
    ratios, floor_ratios = _random_chains(report, count)
    report.note(f"auto vs faster of jacfwd/jacrev: median {statistics.median(ratios):.2f}x "
                f"faster, worst {min(ratios):.2f}x, best {max(ratios):.2f}x")
    report.note(f"auto vs the NumPy floor (best bracketing by hand): median "
                f"{statistics.median(floor_ratios):.2f}x faster, worst {min(floor_ratios):.2f}x")

    report.section("planning a chain of 64 segments", table=False)
    # 33 layers, n = 100 inputs, m = 200 outputs.  A state narrower than
    # min(n, m) is a cut, so hidden widths below 100 give each product and
    # each tanh a segment (explicit, diagonal); the last hidden layer, 150
    # wide (between n and m), is a cut only after its tanh (a local minimum),
    # so its product and tanh are one dense segment: 2 * 31 + 1 + 1 = 64.
    rng = np.random.default_rng(64)
    widths = [100] + [int(w) for w in rng.integers(2, 100, size=31)] + [150, 200]
    f, _, x = make_chain(widths)
    plan_fn = cr.jacobian_plan(f)
    plans = [plan_fn(x) for _ in range(5)]
    k = len(plans[-1].segments)
    assert k == 64, f"the planning chain cut into {k} segments, not 64"
    report.note(f"{k} segments: planning (cut + DP) took "
                f"{min(p.planning_time for p in plans) * 1e3:.2f} ms")
