"""Checkpointing: memory against time for the gradient of a deep network.

The gradient, with respect to all 100 weight matrices, of
``sum(tanh(... tanh(tanh(x W_1) W_2) ... W_100))`` with ``x`` f64[1024, 256]
and each ``W`` f64[256, 256] (so each activation is 2 MiB, each weight
0.5 MiB, and the weights and their gradients 50 MiB each), computed:

* numpy (floor): backpropagation by hand, storing each layer's activation;
* chainrule grad, plain: reverse mode stores two arrays per layer (the
  layer's input, for its weight's derivative, and ``1 - tanh^2``);
* checkpoint every 10 layers: ``cr.checkpoint`` around each block of 10
  layers, so only the 10 blocks' inputs are stored and each block is
  recomputed in the backward pass, one at a time;
* nested: 10 checkpointed blocks of 10 checkpointed layers (sqrt(N)
  segments, twice): the backward pass of a block recomputes it storing its
  10 layer inputs, then each layer once more;
* checkpoint every 10 layers with ``policy=dots_saveable``: the matrix
  products' outputs are kept, the tanh recomputed from them.

Time: medians of whole ``cr.grad`` calls (tracing included), as
``_harness.py`` measures rows; and, since the rows are measured one after
another and the machine's load drifts, the ratios to the plain gradient
from paired rounds: each round times one call of every variant, in an order
that rotates from round to round, and the ratio reported is the median over
the rounds of the variant's time over the plain gradient's in the same
round.  Memory, measured apart from the timing with
``tracemalloc`` (which traces NumPy's array allocations): the peak of the
bytes allocated during the ``grad`` call minus the bytes of the gradients it
returns, that is the peak above the weights and their gradients.  (For the
plain gradient the peak comes before any gradient exists, so subtracting
them understates its peak; the ratios are conservative.)  Also the bytes of
the residuals: the arrays, other than the weights, that the linear program
of ``cr.vjp`` keeps between the forward and the backward pass.

The acceptance target: checkpointing every 10 layers and nested take at
least 3x less peak memory than the plain gradient, at less than 2x its time.
"""
from __future__ import annotations

import gc
import statistics
import time
import tracemalloc

import numpy as np

import chainrule as cr

LAYERS, WIDTH, BATCH, EVERY = 100, 256, 1024, 10


def layers(h, ws):
    for w in ws:
        h = np.tanh(h @ w)
    return h


def plain(ws, x):
    return np.sum(layers(x, ws))


def every(k, policy=None):
    block = cr.checkpoint(layers, policy=policy)

    def loss(ws, x):
        h = x
        for i in range(0, len(ws), k):
            h = block(h, ws[i:i + k])
        return np.sum(h)
    return loss


def nested(k):
    layer = cr.checkpoint(layers)

    @cr.checkpoint
    def block(h, ws):
        for w in ws:
            h = layer(h, [w])
        return h

    def loss(ws, x):
        h = x
        for i in range(0, len(ws), k):
            h = block(h, ws[i:i + k])
        return np.sum(h)
    return loss


def numpy_grad(ws, x):
    """The floor: backpropagation by hand."""
    hs = [x]
    for w in ws:
        hs.append(np.tanh(hs[-1] @ w))
    g = np.ones_like(hs[-1])
    grads = [None] * len(ws)
    for i in range(len(ws) - 1, -1, -1):
        dz = g * (1.0 - hs[i + 1] ** 2)
        grads[i] = hs[i].T @ dz
        g = dz @ ws[i].T
    return grads


def peak_above(grad_fn):
    """Peak bytes allocated during ``grad_fn()`` minus the bytes it returns."""
    gc.collect()
    tracing = tracemalloc.is_tracing()   # (someone else's tracing is left on)
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        base = tracemalloc.get_traced_memory()[0]
        grads = grad_fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not tracing:
            tracemalloc.stop()
    return peak - base - sum(g.nbytes for g in grads)


def residual_bytes(f, ws, x):
    """The bytes of the arrays other than the weights that ``cr.vjp`` keeps."""
    _, vjp_fn = cr.vjp(lambda ws: f(ws, x), ws)
    return sum(c.nbytes for c in vjp_fn.ir.consts
               if isinstance(c, np.ndarray) and c.shape != (WIDTH, WIDTH))


def run(report):
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH) for _ in range(LAYERS)]
    x = rng.standard_normal((BATCH, WIDTH))
    variants = [("chainrule grad, plain", plain),
                (f"checkpoint every {EVERY} layers", every(EVERY)),
                (f"nested: {LAYERS // EVERY} x {EVERY} checkpointed layers", nested(EVERY)),
                (f"every {EVERY}, policy=dots_saveable",
                 every(EVERY, cr.checkpoint_policies.dots_saveable))]

    # the results first: every variant's gradient equals the hand-written one
    want = numpy_grad(ws, x)
    for name, f in variants:
        got = cr.grad(f)(ws, x)
        err = max(float(np.max(np.abs(g - w)) / np.max(np.abs(w))) for g, w in zip(got, want))
        if err > 1e-10:
            raise AssertionError(f"{name}: the gradient differs from NumPy's by {err:.2e}")
    del got

    report.section(f"gradient of a {LAYERS}-layer tanh network, width {WIDTH}, batch {BATCH}",
                   unit="layer", count=LAYERS)
    report.measure("numpy backprop by hand (floor)", lambda: numpy_grad(ws, x), floor=True)
    for name, f in variants:
        report.measure(name, lambda f=f: cr.grad(f)(ws, x))

    # paired rounds: the ratio to the plain gradient within each round
    report.section("time relative to the plain gradient, paired rounds", table=False)
    calls = [("numpy backprop by hand (floor)", lambda: numpy_grad(ws, x))] + \
        [(name, lambda f=f: cr.grad(f)(ws, x)) for name, f in variants]
    rounds = 3 if report.quick else 9
    ratios = {name: [] for name, _ in calls}
    for r in range(rounds):
        order = calls[r % len(calls):] + calls[:r % len(calls)]
        seconds = {}
        for name, call in order:
            gc.collect()
            t0 = time.perf_counter()
            call()
            seconds[name] = time.perf_counter() - t0
        for name, _ in calls:
            ratios[name].append(seconds[name] / seconds[variants[0][0]])
    paired = {name: statistics.median(r) for name, r in ratios.items()}
    for name, _ in calls:
        report.note(f"{name:<44} {paired[name]:>6.2f}x  (rounds: "
                    f"{', '.join(f'{q:.2f}' for q in ratios[name])})")

    report.section("memory above the weights and their gradients (tracemalloc)", table=False)
    mib = 2.0 ** 20
    floor_peak = peak_above(lambda: numpy_grad(ws, x))
    report.note(f"{'implementation':<44} {'peak':>10} {'residuals':>10} {'peak / plain':>13} "
                f"{'time / plain':>13}")   # (time: the paired rounds' median ratio)
    report.note(f"{'numpy backprop by hand (floor)':<44} {floor_peak / mib:>6.1f} MiB "
                f"{'-':>10} {'':>13} {paired['numpy backprop by hand (floor)']:>13.2f}")
    plain_name = variants[0][0]
    peaks = {}
    for name, f in variants:
        peaks[name] = peak_above(lambda f=f: cr.grad(f)(ws, x))
        res = residual_bytes(f, ws, x)
        report.note(f"{name:<44} {peaks[name] / mib:>6.1f} MiB {res / mib:>6.1f} MiB "
                    f"{peaks[name] / peaks[plain_name]:>13.3f} "
                    f"{paired[name]:>13.2f}")
    for name, _ in variants[1:3]:
        lower = peaks[plain_name] / peaks[name]
        slower = paired[name]
        met = "met" if lower >= 3 and slower < 2 else "NOT met"
        report.note(f"{name}: {lower:.1f}x less peak memory at {slower:.2f}x the time "
                    f"(target: >= 3x less at < 2x the time: {met})")
