"""Training workloads: what a user of an AD library runs in a loop.

* **MLP loss and gradient**, 784-512-512-10 with tanh, mean squared error,
  float64, at batch 128 and 8: the floor is the hand-written NumPy forward
  and backward pass of the same math; chainrule's ``cr.grad`` (interpreted:
  traced and transformed at every call) and, once it exists, ``cr.jit`` of
  it; autograd, PyTorch eager (one BLAS thread, as NumPy) and ``jax.jit``.
* **a scalar program**: 300 operations on Python floats (sin, mul, add,
  exp, log in turn), value and gradient; per operation.  The floors are the
  same program on ``np.float64`` and on Python floats with ``math``, each
  with its hand-written derivative.
* **Hessian-vector product** of the MLP loss at batch 128 (forward over
  reverse: the JVP of the gradient), against the hand-written NumPy HVP.
* **peak memory** of the MLP gradient at batch 1024 (``tracemalloc``:
  bytes allocated above what was live before the call, minus the result):
  hand-written NumPy, chainrule and autograd.  tracemalloc sees NumPy's
  allocations only, not PyTorch's or JAX's allocators, so they have no row.

Every chainrule row checks its result against the NumPy floor before it is
timed.  Set ``OPENBLAS_NUM_THREADS=1`` (``run.py`` does) so that every
implementation runs its matrix products on one core.
"""
from __future__ import annotations

import math
import tracemalloc

import numpy as np

import chainrule as cr

SIZES = (784, 512, 512, 10)


# -- the MLP ------------------------------------------------------------------------
def init_params(seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((m, n)) / np.sqrt(m), np.zeros(n))
            for m, n in zip(SIZES[:-1], SIZES[1:])]


def mlp_loss(params, x, y, np_=np):
    h = x
    for W, b in params[:-1]:
        h = np_.tanh(h @ W + b)
    W, b = params[-1]
    return np_.mean((h @ W + b - y) ** 2)


def mlp_grad_numpy(params, x, y):
    """The hand-written backward pass: the floor."""
    hs, h = [x], x
    for W, b in params[:-1]:
        h = np.tanh(h @ W + b)
        hs.append(h)
    W, b = params[-1]
    out = h @ W + b
    g = 2.0 * (out - y) / out.size
    grads = [(hs[-1].T @ g, g.sum(0))]
    g = g @ W.T
    layers = list(zip(params[:-1], hs[:-1], hs[1:]))
    for k, ((W, b), h_in, h_out) in enumerate(reversed(layers)):
        g = g * (1.0 - h_out * h_out)
        grads.append((h_in.T @ g, g.sum(0)))
        if k < len(layers) - 1:       # (no gradient with respect to x is wanted)
            g = g @ W.T
    return grads[::-1]


def mlp_hvp_numpy(params, x, y, v):
    """The hand-written Hessian-vector product (forward over reverse)."""
    hs, dhs, h, dh = [x], [np.zeros_like(x)], x, np.zeros_like(x)
    for (W, b), (dW, db) in zip(params[:-1], v[:-1]):
        z, dz = h @ W + b, dh @ W + h @ dW + db
        h = np.tanh(z)
        dh = (1.0 - h * h) * dz
        hs.append(h)
        dhs.append(dh)
    (W, b), (dW, db) = params[-1], v[-1]
    out, dout = h @ W + b, dh @ W + h @ dW + db
    g, dg = 2.0 * (out - y) / out.size, 2.0 * dout / out.size
    grads = [(hs[-1].T @ dg + dhs[-1].T @ g, dg.sum(0))]
    g, dg = g @ W.T, dg @ W.T + g @ dW.T
    layers = list(zip(params[:-1], v[:-1], hs[:-1], hs[1:], dhs[:-1], dhs[1:]))
    for k, ((W, b), (dW, db), h_in, h_out, dh_in, dh_out) in enumerate(reversed(layers)):
        d = 1.0 - h_out * h_out
        dd = -2.0 * h_out * dh_out
        g, dg = g * d, dg * d + g * dd
        grads.append((h_in.T @ dg + dh_in.T @ g, dg.sum(0)))
        if k < len(layers) - 1:       # (no derivative with respect to x is wanted)
            g, dg = g @ W.T, dg @ W.T + g @ dW.T
    return grads[::-1]


def _close(got, want, what):
    got_leaves, want_leaves = cr.tree_leaves(got), cr.tree_leaves(want)
    for a, b in zip(got_leaves, want_leaves):
        if not np.allclose(a, b, rtol=1e-9, atol=1e-12):
            raise AssertionError(f"{what}: differs from the hand-written NumPy result")


def _mlp_rows(report, batch):
    params = init_params()
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((batch, SIZES[0])), rng.standard_normal((batch, SIZES[-1]))
    report.section(f"MLP {'-'.join(map(str, SIZES))} loss and gradient, batch {batch}")
    floor = mlp_grad_numpy(params, x, y)
    report.measure("numpy by hand (floor)", lambda: mlp_grad_numpy(params, x, y), floor=True)
    grad = cr.grad(mlp_loss)
    _close(grad(params, x, y), floor, "cr.grad")
    report.measure("chainrule grad (interpreted)", lambda: grad(params, x, y))
    if hasattr(cr, "jit"):
        jitted = cr.jit(cr.grad(mlp_loss))
        _close(jitted(params, x, y), floor, "cr.jit(cr.grad)")
        report.measure("chainrule jit(grad)", lambda: jitted(params, x, y))

    def autograd_rows(autograd):
        import autograd.numpy as anp
        ga = autograd.grad(lambda p, x, y: mlp_loss(p, x, y, anp))
        report.measure("autograd grad", lambda: ga(params, x, y))

    def torch_rows(torch):
        torch.set_num_threads(1)
        pt = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
              for W, b in params]
        xt, yt = torch.tensor(x), torch.tensor(y)
        leaves = [t for pair in pt for t in pair]

        def step():
            return torch.autograd.grad(mlp_loss(pt, xt, yt, torch), leaves)
        report.measure("torch eager", step)

    def jax_rows(jax):
        jax.config.update("jax_enable_x64", True)
        jnp = jax.numpy
        pj = [(jnp.asarray(W), jnp.asarray(b)) for W, b in params]
        xj, yj = jnp.asarray(x), jnp.asarray(y)
        gj = jax.jit(jax.grad(lambda p, x, y: mlp_loss(p, x, y, jnp)))
        jax.block_until_ready(gj(pj, xj, yj))
        report.measure("jax.jit(grad)", lambda: jax.block_until_ready(gj(pj, xj, yj)))

    report.with_peer("autograd", autograd_rows)
    report.with_peer("torch", torch_rows)
    report.with_peer("jax", jax_rows)


def _hvp_rows(report, batch=128):
    params = init_params()
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((batch, SIZES[0])), rng.standard_normal((batch, SIZES[-1]))
    v = [(rng.standard_normal(W.shape), rng.standard_normal(b.shape)) for W, b in params]
    report.section(f"Hessian-vector product of the MLP loss, batch {batch}")
    floor = mlp_hvp_numpy(params, x, y, v)
    report.measure("numpy by hand (floor)", lambda: mlp_hvp_numpy(params, x, y, v), floor=True)
    grad = cr.grad(mlp_loss)

    def hvp(params, x, y, v):
        return cr.jvp(lambda p: grad(p, x, y), (params,), (v,))[1]

    _close(hvp(params, x, y, v), floor, "cr.jvp(cr.grad)")
    report.measure("chainrule jvp(grad) (interpreted)", lambda: hvp(params, x, y, v))
    if hasattr(cr, "jit"):
        jitted = cr.jit(hvp)
        _close(jitted(params, x, y, v), floor, "cr.jit(jvp(grad))")
        report.measure("chainrule jit(jvp(grad))", lambda: jitted(params, x, y, v))

    def torch_rows(torch):
        torch.set_num_threads(1)
        pt = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
              for W, b in params]
        leaves = [t for pair in pt for t in pair]
        vt = [torch.tensor(a) for pair in v for a in pair]
        xt, yt = torch.tensor(x), torch.tensor(y)

        def step():
            g = torch.autograd.grad(mlp_loss(pt, xt, yt, torch), leaves, create_graph=True)
            return torch.autograd.grad(g, leaves, vt)
        report.measure("torch (double backward)", step)

    def jax_rows(jax):
        jax.config.update("jax_enable_x64", True)
        jnp = jax.numpy
        pj = [(jnp.asarray(W), jnp.asarray(b)) for W, b in params]
        vj = [(jnp.asarray(a), jnp.asarray(b)) for a, b in v]
        xj, yj = jnp.asarray(x), jnp.asarray(y)
        gj = jax.grad(lambda p: mlp_loss(p, xj, yj, jnp))
        hj = jax.jit(lambda p, v: jax.jvp(gj, (p,), (v,))[1])
        jax.block_until_ready(hj(pj, vj))
        report.measure("jax.jit(jvp(grad))", lambda: jax.block_until_ready(hj(pj, vj)))

    report.with_peer("torch", torch_rows)
    report.with_peer("jax", jax_rows)


# -- the scalar program ----------------------------------------------------------------------
N_SCALAR = 300


def scalar_program(x, m=math):
    """300 operations on a scalar: sin, mul, add, exp, log in turn (bounded)."""
    for _ in range(N_SCALAR // 5):
        x = m.log(m.exp(m.sin(x) * 0.5 + 1.0))
    return x


def scalar_value_and_grad(x, m=math):
    """The floor: the same program with its derivative by hand (forward mode)."""
    d = 1.0
    for _ in range(N_SCALAR // 5):
        s = m.sin(x)
        u = s * 0.5 + 1.0
        e = m.exp(u)
        d = d * m.cos(x) * 0.5 * e / e
        x = m.log(e)
    return x, d


def _scalar_rows(report):
    x0 = 0.3
    report.section(f"scalar program of {N_SCALAR} operations: value and gradient", unit="op",
                   count=N_SCALAR)
    value, slope = scalar_value_and_grad(x0)
    report.measure("python floats + math by hand (floor)",
                   lambda: scalar_value_and_grad(x0), floor=True)
    x64 = np.float64(x0)
    report.measure("numpy float64 by hand", lambda: scalar_value_and_grad(x64, np))
    vg = cr.value_and_grad(lambda x: scalar_program(x, np))
    got = vg(x0)
    if not (np.isclose(got[0], value) and np.isclose(got[1], slope)):
        raise AssertionError("cr.value_and_grad of the scalar program is wrong")
    report.measure("chainrule value_and_grad (interpreted)", lambda: vg(x0))
    if hasattr(cr, "jit"):
        jitted = cr.jit(vg)
        got = jitted(x0)
        if not (np.isclose(got[0], value) and np.isclose(got[1], slope)):
            raise AssertionError("cr.jit(cr.value_and_grad) of the scalar program is wrong")
        report.measure("chainrule jit(value_and_grad)", lambda: jitted(x0))

    def autograd_rows(autograd):
        import autograd.numpy as anp
        va = autograd.value_and_grad(lambda x: scalar_program(x, anp))
        report.measure("autograd value_and_grad", lambda: va(x0))

    def torch_rows(torch):
        def step():
            xt = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
            y = scalar_program(xt, torch)
            return y, torch.autograd.grad(y, xt)
        report.measure("torch eager", step)

    def jax_rows(jax):
        jax.config.update("jax_enable_x64", True)
        vj = jax.jit(jax.value_and_grad(lambda x: scalar_program(x, jax.numpy)))
        jax.block_until_ready(vj(x0))
        report.measure("jax.jit(value_and_grad)", lambda: jax.block_until_ready(vj(x0)))

    report.with_peer("autograd", autograd_rows)
    report.with_peer("torch", torch_rows)
    report.with_peer("jax", jax_rows)


# -- peak memory -------------------------------------------------------------------------------
def _peak_bytes(fn):
    """Bytes allocated at the peak of ``fn()`` above what was live before,
    minus the bytes of the result (which the caller keeps)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    result = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    kept = sum(np.asarray(a).nbytes for a in cr.tree_leaves(result))
    return peak - before - kept


def _memory_rows(report, batch=1024):
    params = init_params()
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((batch, SIZES[0])), rng.standard_normal((batch, SIZES[-1]))
    report.section(f"peak memory of the MLP gradient, batch {batch} (MiB above the inputs)",
                   table=False)
    floor = _peak_bytes(lambda: mlp_grad_numpy(params, x, y))
    report.note(f"numpy by hand (floor)          {floor / 2**20:8.1f} MiB   1.00x")
    grad = cr.grad(mlp_loss)
    rows = [("chainrule grad (interpreted)", lambda: grad(params, x, y))]
    if hasattr(cr, "jit"):
        jitted = cr.jit(cr.grad(mlp_loss))
        jitted(params, x, y)
        rows.append(("chainrule jit(grad)", lambda: jitted(params, x, y)))
    autograd = report.peer("autograd")
    if autograd is not None:
        import autograd.numpy as anp
        ga = autograd.grad(lambda p, x, y: mlp_loss(p, x, y, anp))
        rows.append(("autograd grad", lambda: ga(params, x, y)))
    for name, fn in rows:
        peak = _peak_bytes(fn)
        report.note(f"{name:<30} {peak / 2**20:8.1f} MiB   {peak / floor:4.2f}x")
        report.rows.append({"benchmark": report.current, "section": "peak memory",
                            "impl": name, "peak_bytes": peak, "ratio": peak / floor})
    report.note("(tracemalloc sees NumPy's allocations; PyTorch's and JAX's allocators are "
                "not traced, so they have no row here)")


def run(report):
    for batch in (128, 8):
        _mlp_rows(report, batch)
    _hvp_rows(report)
    _scalar_rows(report)
    _memory_rows(report)
