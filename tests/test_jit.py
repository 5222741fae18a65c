"""``cr.jit``: compiled results equal interpreted ones under every transform;
one trace per signature; static, keyword and donated arguments; lowering;
errors.

The tables of the other test files (every primitive's cases in
``test_primitives.py``, every NumPy row of ``test_numpy.py``) are run again
here through ``jit``: each result is compared with the same function run
without it (eagerly, or through the same transform without ``jit``).
"""
from __future__ import annotations

import gc
import os

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.tracer.pytree import tree_leaves

from test_numpy import ROWS, with_module
from test_primitives import CASES, PARAMS, RAISES_ON_EVAL, Const, all_primitives

THIS_FILE = os.path.basename(__file__)
rng = np.random.default_rng(14)


def assert_same(actual, expected, rtol=1e-12):
    """Equal pytrees: shapes and dtypes exactly, values to ``rtol``."""
    a_leaves, e_leaves = tree_leaves(actual), tree_leaves(expected)
    assert len(a_leaves) == len(e_leaves)
    for a, e in zip(a_leaves, e_leaves):
        a, e = np.asarray(a), np.asarray(e)
        assert (a.shape, a.dtype) == (e.shape, e.dtype), ((a.shape, a.dtype), (e.shape, e.dtype))
        if np.issubdtype(e.dtype, np.inexact):
            tol = 1e-5 if e.dtype in (np.float32, np.complex64) else rtol
            np.testing.assert_allclose(a, e, rtol=tol, atol=tol)
        else:
            np.testing.assert_array_equal(a, e)


def same_outcome(run_jitted, run_plain, rtol=1e-12):
    """``run_jitted()`` gives what ``run_plain()`` gives, or raises the same
    type of error."""
    try:
        with np.errstate(all="ignore"):
            expected = run_plain()
    except Exception as e:   # (e.g. no transpose rule): jit must refuse alike
        with pytest.raises(type(e)):
            with np.errstate(all="ignore"):
                run_jitted()
        return None
    with np.errstate(all="ignore"):
        actual = run_jitted()
    assert_same(actual, expected, rtol)
    return actual


# -- every primitive's cases -----------------------------------------------------------
def _primitive_function(name, operands, params):
    prim = all_primitives()[name]

    def f(*xs):
        it = iter(xs)
        return prim.bind(*[o.value if isinstance(o, Const) else next(it) for o in operands],
                         **params)
    return f, [o for o in operands if not isinstance(o, Const)]


def _is_float(x):
    return np.issubdtype(np.asarray(x).dtype, np.floating)


def _sum_of_outputs(f):
    def scalar(*xs):
        return sum(cnp.sum(o) for o in tree_leaves(f(*xs)) if _is_float_aval(o))
    return scalar


def _is_float_aval(o):
    return np.issubdtype(o.dtype, np.floating)


@pytest.mark.parametrize("name, operands, params", PARAMS)
def test_primitive_cases_under_jit(name, operands, params):
    f, args = _primitive_function(name, operands, params)
    if name in RAISES_ON_EVAL:
        error, message = RAISES_ON_EVAL[name]
        with pytest.raises(error, match=message):
            cr.jit(f)(*args)
        return
    same_outcome(lambda: cr.jit(f)(*args), lambda: f(*args))
    # a new value of the same signature runs the same program
    jf = cr.jit(f)
    same_outcome(lambda: jf(*args), lambda: f(*args))
    assert jf.cache_info()["misses"] <= 1
    floats = [i for i, a in enumerate(args) if _is_float(a)]
    if not floats:
        return
    tangents = [rng.normal(size=np.shape(a)).astype(np.asarray(a).dtype) if i in floats
                else np.zeros(np.shape(a), cr.float0) for i, a in enumerate(args)]
    # forward mode through jit, and jit of forward mode
    same_outcome(lambda: cr.jvp(cr.jit(f), args, tangents), lambda: cr.jvp(f, args, tangents),
                 rtol=1e-10)
    same_outcome(lambda: cr.jit(lambda *a: cr.jvp(f, a, tangents))(*args),
                 lambda: cr.jvp(f, args, tangents), rtol=1e-10)
    # reverse mode of the sum of the float outputs, both orders
    g = _sum_of_outputs(f)
    argnums = tuple(floats)
    same_outcome(lambda: cr.grad(cr.jit(g), argnums)(*args), lambda: cr.grad(g, argnums)(*args),
                 rtol=1e-10)
    same_outcome(lambda: cr.jit(cr.grad(g, argnums))(*args), lambda: cr.grad(g, argnums)(*args),
                 rtol=1e-10)
    # batching through jit, and jit of a batch
    batch = [np.stack([a, a * 0.5 if _is_float(a) else a]) for a in map(np.asarray, args)]
    same_outcome(lambda: cr.vmap(cr.jit(f))(*batch), lambda: cr.vmap(f)(*batch))
    same_outcome(lambda: cr.jit(cr.vmap(f))(*batch), lambda: cr.vmap(f)(*batch))


def test_every_primitive_is_run_under_jit():
    assert set(CASES) == set(all_primitives())


# -- every NumPy row ---------------------------------------------------------------------
@pytest.mark.parametrize("fn, args", ROWS)
def test_numpy_rows_under_jit(fn, args):
    f = with_module(fn, np)
    same_outcome(lambda: cr.jit(f)(*args), lambda: fn(np, *args))
    floats = [i for i, a in enumerate(args) if _is_float(a)]
    if floats:
        g = _sum_of_outputs(f)
        same_outcome(lambda: cr.jit(cr.grad(g, tuple(floats)))(*args),
                     lambda: cr.grad(g, tuple(floats))(*args), rtol=1e-9)


# -- control flow and custom rules -------------------------------------------------------
W = rng.normal(size=(3, 3)) / 2


@cr.custom_jvp
def soft_clip(x):
    return np.tanh(x) * 2.0


@soft_clip.defjvp
def _soft_clip_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return soft_clip(x), 2.0 * t * (1 - np.tanh(x) ** 2)


@cr.custom_vjp
def scaled(x):
    return x * 3.0


scaled.defvjp(lambda x: (x * 3.0, None), lambda res, g: (g * 3.0,))


def cf_cond(x):
    return cr.cond(np.sum(x) > 0, lambda v: np.sin(v) @ W, lambda v: v * 2.0, x)


def cf_switch(x):
    return cr.switch(np.int64(2), [np.sin, np.cos, lambda v: v ** 3], x)


def cf_scan(x):
    def step(c, xi):
        c = np.tanh(c @ W + xi)
        return c, np.sum(c)
    c, ys = cr.scan(step, x, np.stack([x, 2 * x, -x]))
    return np.sum(c) + np.sum(ys ** 2)


def cf_fori(x):
    return cr.fori_loop(0, 4, lambda i, c: np.sin(c) * 1.1 + i, x)


def cf_while(x):
    return cr.while_loop(lambda c: c[1] < 3, lambda c: (c[0] * 1.5, c[1] + 1), (x, 0))[0]


def cf_checkpoint(x):
    block = cr.checkpoint(lambda v: np.tanh(np.tanh(v @ W) @ W))
    return np.sum(block(block(x)) ** 2)


def cf_custom(x):
    return np.sum(soft_clip(x) * scaled(x))


CONTROL = [cf_cond, cf_switch, cf_scan, cf_fori, cf_while, cf_checkpoint, cf_custom]


@pytest.mark.parametrize("f", CONTROL, ids=lambda f: f.__name__)
def test_control_flow_under_jit(f):
    x = rng.normal(size=3)
    scalar = (lambda v: np.sum(f(v)))
    same_outcome(lambda: cr.jit(f)(x), lambda: f(x))
    same_outcome(lambda: cr.jit(f)(-x), lambda: f(-x))    # the other branch, same program
    same_outcome(lambda: cr.grad(cr.jit(scalar))(x), lambda: cr.grad(scalar)(x), 1e-10)
    same_outcome(lambda: cr.jit(cr.grad(scalar))(x), lambda: cr.grad(scalar)(x), 1e-10)
    xs = np.stack([x, -x, 0.5 * x])
    same_outcome(lambda: cr.vmap(cr.jit(f))(xs), lambda: cr.vmap(f)(xs))
    same_outcome(lambda: cr.jit(cr.vmap(cr.grad(scalar)))(xs), lambda: cr.vmap(cr.grad(scalar))(xs),
                 1e-10)
    same_outcome(lambda: cr.jit(cr.jacobian(f))(x), lambda: cr.jacobian(f)(x), 1e-10)


# -- one trace per signature -------------------------------------------------------------
def counting(f):
    calls = []

    def counted(*args, **kwargs):
        calls.append(1)     # Python runs only while tracing
        return f(*args, **kwargs)
    return counted, calls


def test_traces_once_per_signature_and_never_per_value():
    f, calls = counting(lambda x, y: np.sin(x) * y)
    jf = cr.jit(f)
    x, y = rng.normal(size=(2, 3)), rng.normal(size=3)
    for k in range(5):
        np.testing.assert_allclose(jf(x + k, y), np.sin(x + k) * y, rtol=1e-15)
    assert len(calls) == 1
    jf(x.astype(np.float32), y.astype(np.float32))         # new dtypes
    assert len(calls) == 2
    jf(rng.normal(size=(4, 3)), y)                          # new shape
    assert len(calls) == 3
    jf(x, 2.0)                                              # a Python number: weak
    jf(x, 3.0)                                              # ... of a new value
    assert len(calls) == 4
    jf(x, np.float64(3.0))                                  # a NumPy scalar is not weak
    assert len(calls) == 5
    assert jf.cache_info() == {"hits": 5, "misses": 5, "size": 5, "maxsize": 64}


def test_retraces_on_a_new_pytree_structure():
    f, calls = counting(lambda d: d["a"] * 2.0 + np.sum(d.get("b", 0.0)))
    jf = cr.jit(f)
    a = np.ones(3)
    np.testing.assert_array_equal(jf({"a": a}), a * 2.0)
    np.testing.assert_array_equal(jf({"a": a + 1}), (a + 1) * 2.0)
    np.testing.assert_array_equal(jf({"a": a, "b": np.ones(2)}), a * 2.0 + 2.0)
    assert len(calls) == 2


def test_static_argnums_and_argnames_retrace_on_a_new_value():
    def f(x, n, *, mode="sin"):
        return getattr(np, mode)(x) * n
    f, calls = counting(f)
    jf = cr.jit(f, static_argnums=1, static_argnames="mode")
    x = rng.normal(size=3)
    np.testing.assert_allclose(jf(x, 2), np.sin(x) * 2, rtol=1e-15)
    np.testing.assert_allclose(jf(x + 1, 2), np.sin(x + 1) * 2, rtol=1e-15)
    assert len(calls) == 1
    np.testing.assert_allclose(jf(x, 3), np.sin(x) * 3, rtol=1e-15)
    np.testing.assert_allclose(jf(x, 3, mode="cos"), np.cos(x) * 3, rtol=1e-15)
    assert len(calls) == 3


def test_equal_static_values_of_other_types_trace_apart():
    # 2 == 2.0 in Python, but they give results of different dtypes
    jf = cr.jit(lambda x, n: x + np.asarray(n), static_argnums=1)
    x = np.arange(3)
    assert jf(x, 2).dtype == np.int64
    assert jf(x, 2.0).dtype == np.float64
    assert jf.cache_info()["misses"] == 2


def test_static_values_steer_python_control_flow():
    @cr.jit(static_argnums=(1,))
    def power(x, n):
        out = x
        for _ in range(n - 1):
            out = out * x
        return out
    x = rng.normal(size=4)
    np.testing.assert_allclose(power(x, 3), x ** 3, rtol=1e-15)
    np.testing.assert_allclose(power(x, 5), x ** 5, rtol=1e-14)


def test_traced_keyword_arguments():
    jf = cr.jit(lambda x, *, scale: x * scale)
    x = rng.normal(size=3)
    np.testing.assert_allclose(jf(x, scale=np.full(3, 2.0)), x * 2.0, rtol=1e-15)
    np.testing.assert_allclose(jf(x, scale=np.full(3, 3.0)), x * 3.0, rtol=1e-15)
    assert jf.cache_info()["misses"] == 1


def test_cache_is_bounded_and_cleared_by_clear_caches():
    jf = cr.jit(lambda x: x + 1.0)
    for n in range(70):
        jf(np.ones(n))
    assert jf.cache_info()["size"] == 64
    cr.clear_caches()
    assert jf.cache_info()["size"] == 0
    np.testing.assert_array_equal(jf(np.ones(2)), [2.0, 2.0])


def test_a_dropped_jitted_function_is_freed():
    import weakref
    jf = cr.jit(lambda x: x * 2.0)
    jf(np.ones(3))
    ref = weakref.ref(jf)
    del jf
    gc.collect()
    assert ref() is None


# -- composition -------------------------------------------------------------------------
def mlp_loss(params, x, y):
    (w1, b1), (w2, b2) = params
    h = np.tanh(x @ w1 + b1)
    return np.mean((h @ w2 + b2 - y) ** 2)


def mlp_params():
    return [(rng.normal(size=(4, 5)) / 2, rng.normal(size=5)),
            (rng.normal(size=(5, 2)) / 2, rng.normal(size=2))]


def test_transforms_compose_with_jit_in_both_orders():
    params, x, y = mlp_params(), rng.normal(size=(6, 4)), rng.normal(size=(6, 2))
    expected = cr.grad(mlp_loss)(params, x, y)
    assert_same(cr.jit(cr.grad(mlp_loss))(params, x, y), expected, 1e-12)
    assert_same(cr.grad(cr.jit(mlp_loss))(params, x, y), expected, 1e-12)
    assert_same(cr.jit(cr.value_and_grad(mlp_loss))(params, x, y),
                cr.value_and_grad(mlp_loss)(params, x, y), 1e-12)
    # per-example gradients, jitted
    per_example = cr.vmap(cr.grad(mlp_loss), in_axes=(None, 0, 0))
    assert_same(cr.jit(per_example)(params, x[:, None], y[:, None]),
                per_example(params, x[:, None], y[:, None]), 1e-12)
    # a Hessian-vector product, jitted: jvp of grad
    v = [(np.ones((4, 5)), np.ones(5)), (np.ones((5, 2)), np.ones(2))]

    def hvp(p, t):
        return cr.jvp(lambda q: cr.grad(mlp_loss)(q, x, y), (p,), (t,))[1]
    assert_same(cr.jit(hvp)(params, v), hvp(params, v), 1e-10)
    # jit inside jit, and jacobians
    inner = cr.jit(lambda x: np.sin(x) * 2.0)
    outer = cr.jit(lambda x: inner(x) + inner(2 * x))
    z = rng.normal(size=3)
    np.testing.assert_allclose(outer(z), 2 * np.sin(z) + 2 * np.sin(2 * z), rtol=1e-15)
    assert_same(cr.jit(cr.jacobian(inner))(z), np.diag(2 * np.cos(z)), 1e-14)
    assert_same(cr.jacrev(inner)(z), np.diag(2 * np.cos(z)), 1e-14)
    assert_same(cr.hessian(cr.jit(lambda v: np.sum(np.sin(v))))(z), np.diag(-np.sin(z)), 1e-14)


def test_jitted_methods_and_decorators():
    class Model:
        def __init__(self, w):
            self.w = w

        @cr.jit(static_argnums=0)     # self is configuration (hashed by identity), as in JAX
        def predict(self, x):
            return x @ self.w

        @cr.jit
        def traced_self(self, x):
            return x
    m = Model(np.eye(2) * 3.0)
    np.testing.assert_array_equal(m.predict(np.ones(2)), [3.0, 3.0])
    with pytest.raises(TypeError, match="Model is not an array"):
        m.traced_self(np.ones(2))


# -- results, memory and donation --------------------------------------------------------
def test_results_never_share_memory_with_arguments_or_one_another():
    x = rng.normal(size=(2, 3))
    for f in (lambda v: v, lambda v: v.reshape(3, 2), lambda v: v.T, lambda v: (v, v),
              lambda v: (v * 2, v[0])):
        outs = tree_leaves(cr.jit(f)(x))
        for k, o in enumerate(outs):
            assert not np.shares_memory(o, x)
            assert all(not np.shares_memory(o, p) for p in outs[:k])
    before = x.copy()
    cr.jit(lambda v: np.sin(v) * 2 + 1)(x)
    np.testing.assert_array_equal(x, before)


def test_constants_are_read_at_trace_time():
    table = np.arange(3.0)
    jf = cr.jit(lambda x: x + table)
    np.testing.assert_array_equal(jf(np.zeros(3)), [0.0, 1.0, 2.0])
    table[:] = 10.0     # the compiled program keeps what it read, as jax.jit does
    np.testing.assert_array_equal(jf(np.zeros(3)), [0.0, 1.0, 2.0])


def test_donated_buffers_are_reused_and_others_untouched():
    x = rng.normal(size=1000)
    expected = np.tanh(np.sin(x) * 2.0) + 1.0
    f = lambda v, w: np.tanh(np.sin(v) * 2.0) + w   # noqa: E731
    kept = x.copy()
    out = cr.jit(f)(kept, 1.0)
    np.testing.assert_allclose(out, expected, rtol=1e-15)
    np.testing.assert_array_equal(kept, x)             # not donated: unchanged
    donated = x.copy()
    jf = cr.jit(f, donate_argnums=0)
    out = jf(donated, 1.0)
    np.testing.assert_allclose(out, expected, rtol=1e-15)
    assert np.shares_memory(out, donated)              # the result took the donated buffer
    # a donated array that is also another argument is not overwritten early
    y = x.copy()
    out = cr.jit(lambda v, w: np.sin(v) * 2.0 + w, donate_argnums=0)(y, y)
    np.testing.assert_allclose(out, np.sin(x) * 2.0 + x, rtol=1e-15)


def test_donating_a_static_argument_is_an_error():
    with pytest.raises(ValueError, match="both static and donated"):
        cr.jit(lambda x, n: x, static_argnums=1, donate_argnums=1)


# -- lowering ----------------------------------------------------------------------------
def test_lower_shows_the_optimized_program_and_the_source():
    params, x, y = mlp_params(), rng.normal(size=(6, 4)), rng.normal(size=(6, 2))
    grad_loss = cr.grad(mlp_loss)
    lowered = cr.jit(grad_loss).lower(params, x, y)
    raw = cr.make_ir(grad_loss)(params, x, y)
    assert str(lowered.raw) == str(raw)
    assert len(lowered.ir.eqns) < len(raw.eqns)        # the passes removed work
    assert lowered.as_text() == str(lowered.ir)
    lowered.ir.check()
    assert "def " in lowered.source and "matmul" in lowered.source
    compiled = lowered.compile()
    assert_same(compiled(params, x, y), grad_loss(params, x, y), 1e-12)
    with pytest.raises(TypeError, match="another signature"):
        compiled(params, x[:3], y[:3])


# -- errors ------------------------------------------------------------------------------
def test_python_control_flow_on_traced_values_names_the_line_and_the_cures():
    def f(x):
        if np.sum(x) > 0:     # the line the error names
            return x
        return -x
    with pytest.raises(cr.ConcretizationError) as info:
        cr.jit(f)(np.ones(3))
    message = str(info.value)
    assert "under jit" in message and THIS_FILE in message and "if np.sum(x) > 0" in message
    assert "static_argnums" in message and "cr.cond" in message


def test_unhashable_static_argument_is_explained():
    with pytest.raises(TypeError, match="not hashable"):
        cr.jit(lambda x, shape: x.reshape(shape), static_argnums=1)(np.ones(4), [2, 2])


def test_non_array_arguments_are_refused():
    with pytest.raises(TypeError, match="is not an array"):
        cr.jit(lambda x: x)("text")


def test_a_numpy_error_in_compiled_code_names_the_users_line():
    def f(a, b):
        return np.linalg.solve(a, b)   # singular
    with pytest.raises(np.linalg.LinAlgError) as info:
        cr.jit(f)(np.zeros((2, 2)), np.ones(2))
    assert any(THIS_FILE in note for note in getattr(info.value, "__notes__", ()))


def test_debug_nans_is_honoured_under_jit():
    jf = cr.jit(lambda x: np.log(x) * 2.0)
    jf(np.ones(2))
    cr.config.update("debug_nans", True)
    try:
        with pytest.raises(cr.NonFiniteError):
            jf(-np.ones(2))
    finally:
        cr.config.update("debug_nans", False)
