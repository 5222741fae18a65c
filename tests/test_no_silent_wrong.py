"""Programs NumPy accepts that once gave a wrong value or derivative with no
error, each now right or a clear error naming the user's line.

Each class of the issue has its members here; members the issue did not
list are marked "(found)".  A line whose error must be named ends with a
``# at: NAME`` comment; ``at("NAME")`` is ``test_no_silent_wrong.py:LINE``.
"""
from __future__ import annotations

import array
import copy
import math
import os
import pickle
import threading

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

THIS_FILE = os.path.basename(__file__)
with open(__file__) as _source:
    _LINES = {line.rsplit("# at: ", 1)[1].strip(): n
              for n, line in enumerate(_source, 1) if "# at: " in line and "rsplit" not in line}


def at(name):
    return f"{THIS_FILE}:{_LINES[name]}"


def text(error):
    """An error's message with its notes (where NumPy's own errors name the line)."""
    return "\n".join([str(error), *getattr(error, "__notes__", [])])


X = np.array([0.5, -1.0, 2.0])


# -- 1. leaving the array world ------------------------------------------------
def use_float(x):
    return float(x[0]) * x  # at: float


def use_int(x):
    return int(x[0]) * x  # at: int


def use_complex(x):
    return complex(x[0]).real * x  # at: complex


def use_item(x):
    return x[0].item() * x  # at: item


def use_tolist(x):
    return x.tolist()[0] * x  # at: tolist


def use_math_sin(x):
    return math.sin(x[0]) * x  # at: math.sin


def use_math_exp(x):
    return math.exp(x[0]) + x  # at: math.exp


def use_fsum(x):
    return math.fsum([x[0], x[1]]) * x  # at: fsum


def use_array_module(x):
    return array.array("d", [x[0]])[0] * x  # at: array.array


def use_percent_format(x):
    return float("%f" % x[0]) * x  # at: percent


def use_fill(x):
    out = np.empty(3)
    out.fill(x[0])  # at: fill
    return out * x


def use_fromiter(x):
    return np.fromiter([x[0], x[1]], float).sum() * x  # at: fromiter


CONVERSIONS = [(use_float, "float()", "float"), (use_int, "int()", "int"),
               (use_complex, "complex()", "complex"), (use_item, ".item()", "item"),
               (use_tolist, ".tolist()", "tolist"), (use_math_sin, "float()", "math.sin"),
               (use_math_exp, "float()", "math.exp"),
               (use_fsum, "float()", "fsum"),                      # (found)
               (use_array_module, "float()", "array.array"),       # (found)
               (use_percent_format, "float()", "percent"),         # (found)
               (use_fill, "float()", "fill"),                      # (found)
               (use_fromiter, "float()", "fromiter")]              # (found)
TRANSFORMS = {"grad": lambda f: cr.grad(lambda x: cnp.sum(f(x)))(X),
              "jvp": lambda f: cr.jvp(f, (X,), (np.ones(3),)),
              "vjp": lambda f: cr.vjp(f, X),
              "linearize": lambda f: cr.linearize(f, X),
              "jacfwd": lambda f: cr.jacrev(f)(X)}


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("f, what, name", CONVERSIONS, ids=[c[2] for c in CONVERSIONS])
def test_a_number_from_a_value_with_a_derivative_is_an_error(f, what, name, transform):
    with pytest.raises((cr.TracerConversionError, ValueError)) as error:
        TRANSFORMS[transform](f)
    # NumPy writing into an array (fill, fromiter) reports ours as the cause of its own
    error = error.value if isinstance(error.value, cr.TracerConversionError) \
        else error.value.__cause__
    assert isinstance(error, cr.TracerConversionError)
    message = str(error)
    assert message.startswith(f"{what} would turn a traced value f64[")
    assert "into a constant" in message
    assert "derivative through it would silently be zero" in message
    assert at(name) in message
    assert "print(x)" in message and "cr.stop_gradient(x)" in message


def test_a_numpy_scalar_and_a_preallocated_array_are_errors():
    def into_float64(x):
        return np.float64(x[0]) * x  # at: float64

    with pytest.raises(cr.TracerArrayConversionError) as error:
        cr.grad(lambda x: cnp.sum(into_float64(x)))(X)
    assert at("float64") in str(error.value)

    def preallocated(x):
        out = np.zeros(3)
        out[1] = x[0] * 2  # at: out[i] = x
        return np.sum(out * x)

    # NumPy reports our error as the cause of its own
    with pytest.raises(ValueError) as error:
        cr.grad(preallocated)(X)
    cause = error.value.__cause__
    assert isinstance(cause, cr.TracerConversionError) and at("out[i] = x") in str(cause)
    assert "np.stack" in str(cause) and ".at[i].set(v)" in str(cause)

    def preallocated_row(x):
        out = np.zeros((2, 3))
        out[0] = x * 2  # at: out[0] = x
        return np.sum(out)

    with pytest.raises(cr.TracerArrayConversionError) as error:
        cr.grad(preallocated_row)(X)
    assert at("out[0] = x") in str(error.value) and "np.stack" in str(error.value)


def test_values_without_a_derivative_still_convert():
    def f(x, n):
        k = int(n)                                  # an integer argument
        i = int(np.argmax(x))                       # an integer result
        s = float(cr.stop_gradient(x[0]))           # a value declared constant
        if x[1] > 0:                                # control flow on a comparison
            return x * k + s * x[i]
        return x * k - s * x[i]

    g = cr.grad(lambda x, n: cnp.sum(f(x, n)))(X, np.int64(3))
    expected = np.full(3, 3.0)
    expected[2] -= 3 * 0.5            # s * x[i], broadcast over the 3 elements
    np.testing.assert_allclose(g, expected)
    # formatting a known value shows it (found: f"{x:.3f}" raised a TypeError)
    shown = []
    cr.grad(lambda x: shown.append(f"{x:.3f}") or x * x)(2.0)
    assert shown == ["2.000"]


def test_a_leaked_tracer_is_never_read():
    leaked = []
    cr.grad(lambda x: leaked.append(x * 3) or x)(2.0)
    with pytest.raises(cr.TracerLeakError, match="leaked out of the grad trace"):
        float(leaked[0])
    with pytest.raises(cr.TracerLeakError):
        bool(leaked[0] > 1)


def test_copies_keep_tracers_and_pickling_is_an_error():
    # (found) copy.deepcopy of a tracer copied its trace: the derivative was 0
    def f(params):
        twin = copy.deepcopy(params)
        return twin["w"] * params["w"]

    assert cr.grad(f)({"w": 3.0})["w"] == 6.0
    with pytest.raises(TypeError, match="cannot be pickled"):
        cr.grad(lambda x: pickle.loads(pickle.dumps(x)) * x)(2.0)  # (found)


# -- 2. indexes NumPy rejects -------------------------------------------------------
BAD_INDICES = [1.0, "0", (0.0,), np.float64(1.0), 1j,
               {0},                              # (found) a set
               object(),                         # (found)
               np.array(1.0),                    # (found) a 0-d float array
               np.array([1.0]),
               [[True]]]                         # (found) a mask of the wrong shape
M = np.arange(6.0).reshape(2, 3)


@pytest.mark.parametrize("index", BAD_INDICES, ids=repr)
@pytest.mark.parametrize("how", ["make_ir", "grad"])
def test_an_index_numpy_rejects_is_an_index_error(index, how):
    with pytest.raises(IndexError) as expected:
        M[index]
    numpy_message = str(expected.value)

    def f(x):
        return x[index]  # at: bad index

    with pytest.raises(IndexError) as error:
        if how == "make_ir":
            cr.make_ir(f)(M)
        else:
            cr.grad(lambda x: cnp.sum(f(x)))(M)
    assert str(error.value).startswith(numpy_message.split(";")[0].split(" (")[0])
    assert at("bad index") in str(error.value)


# -- 3. out-of-bounds traced indices never read another row or example ---------------
XS = np.arange(12.0).reshape(3, 4)


@pytest.mark.parametrize("f, message", [
    (lambda x, i: x[i], "index 5 is out of bounds for axis 0 with size 4"),
    (lambda x, i: np.take(x, i, mode="raise"), "index 5 is out of bounds for axis 0"),
    (lambda x, i: np.take(x, i), "index 5 is out of bounds for axis 0"),
    (lambda x, i: np.take_along_axis(x, i[None], axis=0), "index 5 is out of bounds"),
    (lambda x, i: x.at[i].set(-1.0), "index 5 is out of bounds"),
    (lambda x, i: x.at[i].add(1.0), "index 5 is out of bounds"),
])
def test_vmap_with_an_index_out_of_bounds_raises_naming_the_example(f, message):
    bad = np.array([1, 5, -1])
    with pytest.raises(IndexError) as error:          # values known: at once
        cr.vmap(f)(XS, bad)
    assert message in str(error.value)
    closed = cr.make_ir(cr.vmap(f))(XS, bad)          # values unknown: when it runs
    with pytest.raises(IndexError) as error:
        closed.eval(XS, bad)
    assert message in str(error.value)
    # in bounds, every example reads its own row, negative indices included
    good = np.array([1, -4, -1])
    expected = np.stack([np.asarray(f(XS[k], good[k]) if "at" not in str(f) else
                                    cr.make_ir(f)(XS[k], good[k]).eval(XS[k], good[k]))
                         for k in range(3)])
    np.testing.assert_array_equal(cr.vmap(f)(XS, good), expected)


def test_vmap_names_the_example_and_a_negative_index():
    with pytest.raises(IndexError) as error:
        cr.vmap(lambda x, i: x[i])(XS, np.array([-1, -4, -5]))
    assert str(error.value) == ("index -5 is out of bounds for axis 0 with size 4 "
                                "(in example 2 of the vmapped batch)")
    with pytest.raises(IndexError, match="in example 1 of the vmapped batch"):
        cr.vmap(lambda x, i: cr.grad(lambda x: cnp.sum(x[i] * x))(x))(XS, np.array([0, 4, 1]))


def test_indexing_two_axes_with_traced_indices_checks_each_axis():
    # (found) x[i, j], take_along_axis and x.at[i, j] linearized the indices
    # over both axes: j = 5 on an axis of 4 read (or wrote) the next row
    i, j = np.array([0]), np.array([5])

    def two_axes(x, i, j):
        return x[i, j]  # at: two axes

    for run in (lambda f, *a: cr.make_ir(f)(*a).eval(*a),
                lambda f, *a: cr.grad(lambda *b: cnp.sum(f(*b)))(*a)):
        with pytest.raises(IndexError) as error:
            run(two_axes, M, i, j)
        assert "index 5 is out of bounds for axis 1 with size 3" in text(error.value)
        assert at("two axes") in text(error.value)
        with pytest.raises(IndexError, match="index -4 is out of bounds for axis 1 with size 3"):
            run(two_axes, M, i, np.array([-4]))
        with pytest.raises(IndexError, match="index 5 is out of bounds for axis 1"):
            run(lambda x, k: np.take_along_axis(x, k, axis=1), M, np.array([[5], [0]]))
        with pytest.raises(IndexError, match="index 5 is out of bounds for axis 1"):
            run(lambda x, i, j: x.at[i, j].set(-1.0), M, i, j)
    # in bounds: NumPy's values
    k = np.array([[2], [0]])
    np.testing.assert_array_equal(
        cr.make_ir(lambda x, k: np.take_along_axis(x, k, axis=1))(M, k).eval(M, k),
        np.take_along_axis(M, k, axis=1))
    np.testing.assert_array_equal(cr.make_ir(two_axes)(M, i, j - 3).eval(M, i, j - 3),
                                  M[i, j - 3])


# -- 4. ndarray subclasses ------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_array_subclasses_are_refused_not_traced_as_plain_arrays():
    matrix = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(TypeError, match="np.matrix, whose \\* is a matrix product"):
        cr.grad(lambda a: np.sum(a * a))(matrix)
    with pytest.raises(TypeError, match="np.matrix"):
        cr.make_ir(lambda a: a * a)(matrix)

    def closes_over_a_matrix(x):
        return np.sum(matrix * x)  # at: matrix closure

    with pytest.raises(TypeError) as error:
        cr.grad(closes_over_a_matrix)(np.ones((2, 2)))
    assert "np.matrix" in str(error.value) and at("matrix closure") in str(error.value)
    masked = np.ma.masked_array([1.0, 2.0, 3.0], mask=[False, True, False])
    with pytest.raises(TypeError, match="a masked array, whose operations skip masked entries"):
        cr.grad(lambda a: np.sum(a * 2.0))(masked)

    class Scaled(np.ndarray):   # (found) any subclass: its behaviour is unknown
        pass

    with pytest.raises(TypeError, match="a Scaled, a subclass of numpy.ndarray"):
        cr.vmap(lambda a: a * 2.0)(np.ones((2, 3)).view(Scaled))


def test_a_memmap_is_a_plain_array(tmp_path):
    data = np.memmap(tmp_path / "x.dat", dtype=np.float64, mode="w+", shape=(3,))
    data[:] = X
    np.testing.assert_allclose(cr.grad(lambda a: np.sum(a * a))(data), 2 * X)


# -- 5. mutation after the fact, results sharing memory ------------------------------------
def test_writing_into_inputs_later_does_not_change_pullbacks_or_programs():
    W = np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 2.0]])

    def f(x):
        return np.sin(W @ x) * x[:2]

    x = X.copy()
    _, vjp_fn = cr.vjp(f, x)
    _, f_jvp = cr.linearize(f, x)
    closed = cr.make_ir(f)(x)
    expected = (vjp_fn(np.ones(2))[0].copy(), f_jvp(np.ones(3)).copy(), closed.eval(X).copy())
    x[:] = 7.0                                        # the input
    W[:] = -3.0                                       # the captured array
    np.testing.assert_array_equal(vjp_fn(np.ones(2))[0], expected[0])
    np.testing.assert_array_equal(f_jvp(np.ones(3)), expected[1])
    np.testing.assert_array_equal(closed.eval(X), expected[2])


def _shares(a, b):
    return np.shares_memory(np.asarray(a), np.asarray(b))


def test_results_never_share_memory_with_inputs_constants_or_each_other():
    x, t, ct = X.copy(), np.ones(3), np.ones(3)
    c0 = np.arange(3.0)
    out, t_out = cr.jvp(lambda x: x, (x,), (t,))
    assert not _shares(out, x) and not _shares(t_out, t)
    out, vjp_fn = cr.vjp(lambda x: x, x)
    assert not _shares(out, x) and not _shares(vjp_fn(ct)[0], ct)
    assert not _shares(cr.make_ir(lambda x: x)(x).eval(x), x)
    assert not _shares(cr.make_ir(lambda x: c0 * 1)(x).eval(x), c0)
    a, b = cr.make_ir(lambda x: (c0, c0))(x).eval(x)
    assert not _shares(a, b) and not _shares(a, c0)
    assert not _shares(cr.vmap(lambda x: x)(M), M)
    (o1, o2), (t1, t2) = cr.jvp(lambda x: (x, x), (x,), (t,))
    assert not _shares(o1, o2) and not _shares(t1, t2)
    # (found) a NumPy view of an input came back as the same buffer
    assert not _shares(cr.make_ir(lambda x: np.reshape(x, (3, 1)))(x).eval(x), x)
    assert not _shares(cr.make_ir(lambda x: x[1:])(x).eval(x), x)
    # (found) the blocks of one Jacobian were views of one array
    jx, jy = cr.jacfwd(lambda x, y: x * y, argnums=(0, 1))(x, x + 1)
    assert not _shares(jx, jy)
    # (found) the gradient of a sum was a read-only broadcast view
    g = cr.grad(lambda x: np.sum(x))(x)
    g += 1.0
    np.testing.assert_array_equal(g, np.full(3, 2.0))


# -- 6. threads -------------------------------------------------------------------------
def test_a_tracer_used_in_another_thread_raises():
    box, started, done = {}, threading.Event(), threading.Event()

    def f(x):
        box["tracer"] = x
        started.set()
        done.wait(10)
        return np.sin(x)

    def other():
        started.wait(10)
        try:
            box["result"] = np.cos(box["tracer"])
        except Exception as e:   # noqa: BLE001 (the error is what is tested)
            box["error"] = e
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    assert cr.grad(f)(1.0) == pytest.approx(np.cos(1.0))
    thread.join()
    assert "result" not in box
    assert isinstance(box["error"], cr.TracerLeakError)
    assert "another thread" in str(box["error"])


def test_eight_threads_differentiate_concurrently():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(30, 30))

    def loss(x, k):
        return np.sum(np.tanh(W @ x) ** 2) * k

    xs = [rng.normal(size=30) for _ in range(8)]
    grad, jac, per_example = cr.grad(loss), cr.jacobian(lambda x: np.tanh(W @ x)), \
        cr.vmap(cr.grad(loss), in_axes=(0, None))
    want = [(grad(x, k + 1.0), jac(x), per_example(np.stack([x, -x]), k + 1.0))
            for k, x in enumerate(xs)]
    for _ in range(20):
        got = [None] * 8

        def run(k):
            got[k] = (grad(xs[k], k + 1.0), jac(xs[k]), per_example(np.stack([xs[k], -xs[k]]),
                                                                     k + 1.0))

        threads = [threading.Thread(target=run, args=(k,)) for k in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        for g, w in zip(got, want):
            for a, b in zip(g, w):
                np.testing.assert_array_equal(a, b)


# -- 7. edge cases of the transforms --------------------------------------------------------
def test_integer_primals_take_and_give_float0_tangents():
    def f(x, n):
        return x * n, n * 2

    with pytest.raises(TypeError, match="primal 1 has dtype i64, .* must have dtype float0"):
        cr.jvp(f, (2.0, 3), (1.0, 5))
    zero = np.zeros((), cr.float0)
    (y, m), (ty, tm) = cr.jvp(f, (2.0, 3), (1.0, zero))
    assert (y, m, ty) == (6.0, 6, 3.0) and tm.dtype == cr.float0 and tm.shape == ()
    _, vjp_fn = cr.vjp(f, 2.0, 3)
    with pytest.raises(TypeError, match="output 1 has dtype i64, .* cotangent must have dtype"):
        vjp_fn((1.0, 0))
    cx, cn = vjp_fn((1.0, zero))
    assert cx == 3.0 and cn.dtype == cr.float0
    _, f_jvp = cr.linearize(f, 2.0, 3)
    ty, tm = f_jvp(1.0, zero)
    assert ty == 3.0 and tm.dtype == cr.float0


def test_vmap_maps_keyword_arguments_over_axis_0():
    def f(x, *, s):
        return x * s

    np.testing.assert_array_equal(cr.vmap(f)(np.arange(3.0), s=np.arange(3.0)),
                                  np.arange(3.0) ** 2)
    np.testing.assert_array_equal(cr.vmap(f, in_axes=(None,))(np.arange(3.0), s=np.arange(3.0)),
                                  np.outer(np.arange(3.0), np.arange(3.0)))
    with pytest.raises(ValueError, match="out of range for an array of rank 0"):
        cr.vmap(f)(np.arange(3.0), s=2.0)
