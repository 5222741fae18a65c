"""Dispatch: what chainrule costs per operation, layer by layer.

Tracing.  ``cr.make_ir`` of one 1000-operation function (sin, multiply, add
in turn on an f64[8] array) written five ways, each reaching the tracing
core through one more layer:

* ``bind`` on the primitives directly: the core alone (``bind``,
  ``Trace.process``: atoms, shape rule, source line, Equation);
* ``chainrule.numpy`` functions: plus NumPy's dtype promotion and
  broadcasting made explicit;
* plain ``np.sin`` / ``np.multiply`` / ``np.add`` on tracers: plus NumPy's
  ``__array_ufunc__`` protocol;
* ``np.sin(x) * 1.0001 + 0.5``: ``Tracer``'s Python operators for ``*``, ``+``;
* ``np.clip`` (two equations a call): the ``__array_function__`` protocol.

Each is compared with NumPy running the same function, and with
``jax.make_jaxpr`` and autograd's tape-recording forward pass when installed.

Evaluation.  ``ClosedIR.eval`` of that program against the same NumPy calls
made directly, and against a minimal interpreter (a loop over a prepared
list of NumPy functions and constants): the difference is the evaluate
loop's overhead per equation.  PyTorch and JAX running the function eagerly,
op by op, are the peers.
"""
from __future__ import annotations

import numpy as np

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import primitives as P
from chainrule.tracer.core import bind

N_OPS = 1000
C1, C2 = 1.0001, 0.5  # Python floats, as in `x * 1.0001 + 0.5`


def _three(sin, mul, add):
    """A function of ``N_OPS`` operations, ``sin``, ``mul``, ``add`` in turn."""
    def f(x):
        for _ in range(N_OPS // 3):
            x = add(mul(sin(x), C1), C2)
        return sin(x)
    return f


def _operators(sin):
    def f(x):
        for _ in range(N_OPS // 3):
            x = sin(x) * 1.0001 + 0.5
        return sin(x)
    return f


def _clip(clip):
    def f(x):
        for _ in range(N_OPS // 2):
            x = clip(x, -1e9, 1e9)
        return x
    return f


def run(report):
    x = np.linspace(0.0, 1.0, 8)
    f_np = _three(np.sin, np.multiply, np.add)
    variants = [
        ("chainrule make_ir, bind primitives", _three(
            lambda a: bind(P.sin_p, a), lambda a, b: bind(P.mul_p, a, b),
            lambda a, b: bind(P.add_p, a, b))),
        ("chainrule make_ir, chainrule.numpy", _three(cnp.sin, cnp.multiply, cnp.add)),
        ("chainrule make_ir, np.* (__array_ufunc__)", f_np),
        ("chainrule make_ir, np.sin and * + operators", _operators(np.sin)),
    ]
    reference = f_np(x)
    for label, f in variants:
        closed = cr.make_ir(f)(x)
        if len(closed.eqns) != N_OPS or not np.array_equal(closed.eval(x), reference):
            raise AssertionError(f"{label}: {len(closed.eqns)} equations or a wrong value")

    report.section(f"tracing a {N_OPS}-op elementwise function on f64[8]", unit="op",
                   count=N_OPS)
    report.measure("numpy (floor)", lambda: f_np(x), floor=True)
    for label, f in variants:
        report.measure(label, lambda f=f: cr.make_ir(f)(x))

    def autograd_rows(autograd):
        import autograd.numpy as anp
        fa = _three(anp.sin, anp.multiply, anp.add)
        report.measure("autograd make_vjp (fwd+tape)", lambda: autograd.make_vjp(fa)(x))

    def jax_rows(jax):
        jax.config.update("jax_enable_x64", True)
        jnp = jax.numpy
        xj = jnp.asarray(x)
        # a new function object each call: make_jaxpr caches traces by function
        report.measure("jax make_jaxpr",
                       lambda: jax.make_jaxpr(_three(jnp.sin, jnp.multiply, jnp.add))(xj))

    report.with_peer("autograd", autograd_rows)
    report.with_peer("jax", jax_rows)
    _layers(report, [label for label, _ in variants])

    f_clip = _clip(np.clip)
    closed = cr.make_ir(f_clip)(x)
    if len(closed.eqns) != N_OPS or not np.array_equal(closed.eval(x), f_clip(x)):
        raise AssertionError("np.clip chain: wrong equation count or value")
    report.section(f"tracing np.clip x {N_OPS // 2} (__array_function__; max + min each) "
                   "on f64[8]", unit="op", count=N_OPS)
    report.measure("numpy (floor)", lambda: f_clip(x), floor=True)
    report.measure("chainrule make_ir, np.clip", lambda: cr.make_ir(f_clip)(x))

    _evaluate(report, x, f_np)


def _layers(report, labels):
    """What each layer adds per op: differences of consecutive rows."""
    section = report._section
    per = [report.row(section, label)["per_unit_s"] for label in labels]
    report.note("per-op cost of each layer (difference to the row above it):")
    report.note(f"  tracing core (bind, Trace.process)         {per[0] * 1e6:7.2f} us")
    report.note(f"  + chainrule.numpy (promotion, broadcast)   {(per[1] - per[0]) * 1e6:7.2f} us")
    report.note(f"  + __array_ufunc__ (np.* on a tracer)       {(per[2] - per[1]) * 1e6:7.2f} us")
    report.note(f"  operators instead of np.multiply/np.add    {(per[3] - per[2]) * 1e6:+7.2f} us")


def _evaluate(report, x, f_np):
    closed = cr.make_ir(f_np)(x)
    # a minimal interpreter: the same NumPy calls, looked up from a prepared list
    program = []
    for eqn in closed.eqns:
        consts = tuple(a.value for a in eqn.inputs[1:])
        program.append((eqn.primitive.impl, consts))

    def interpret(x):
        for fn, consts in program:
            x = fn(x, *consts)
        return x

    if not np.array_equal(interpret(x), f_np(x)):
        raise AssertionError("minimal interpreter differs from NumPy")
    report.section(f"evaluating the {N_OPS}-op program on f64[8]", unit="eq", count=N_OPS)
    floor = report.measure("numpy (floor)", lambda: f_np(x), floor=True)
    loop = report.measure("numpy, minimal interpreter loop", lambda: interpret(x))
    ev = report.measure("chainrule .eval", lambda: closed.eval(x))

    def torch_rows(torch):
        ft = _three(torch.sin, torch.mul, torch.add)
        xt = torch.from_numpy(x.copy())

        def no_grad():
            with torch.no_grad():
                return ft(xt)
        report.measure("torch eager (no_grad)", no_grad)

    def jax_rows(jax):
        jax.config.update("jax_enable_x64", True)
        jnp = jax.numpy
        fj, xj = _three(jnp.sin, jnp.multiply, jnp.add), jnp.asarray(x)
        report.measure("jax eager", lambda: fj(xj).block_until_ready())

    report.with_peer("torch", torch_rows)
    report.with_peer("jax", jax_rows)
    over_numpy = (ev.median - floor.median) / N_OPS * 1e6
    over_loop = (ev.median - loop.median) / N_OPS * 1e6
    report.note(f"evaluate-loop overhead per equation: {over_numpy:.2f} us over NumPy calls, "
                f"{over_loop:.2f} us over a minimal interpreter")
