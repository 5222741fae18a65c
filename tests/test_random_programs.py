"""Randomized program testing: random well-typed programs over every
primitive, each checked through every transform ("never a silent wrong
number").

The generator (``tests/random_programs.py``) builds a random DAG of at
least 20 equations with ``bind`` (the primitives whose params hold bodies
with the API that traces them: ``cr.cond``/``cr.switch``, ``cr.scan``,
``cr.fori_loop``, ``cr.while_loop``, ``cr.checkpoint``, ``cr.custom_jvp``
and ``cr.custom_vjp``): one generator per registered primitive
picks operands among the values computed so far, maps them into the
primitive's domain (intervals carried by every value; well-conditioned,
positive definite or well-separated matrices by construction), and records
the distance of every kink (``abs``, ``max``, comparisons, ``floor``,
``sort``, ``argmax``...) from the values the program is run at; some
programs hold empty arrays.  For each program ``check_all`` verifies that

* ``cr.make_ir(f)(*args)`` passes ``check()``, and so do the JVP program
  (``jvp_ir``), the linearized program (``linearize``'s ``f_jvp.ir``), its
  transpose (``transpose_ir``), the gradient program
  (``cr.make_ir(cr.grad(loss))``) and the batched program
  (``cr.make_ir(cr.vmap(f))``);
* evaluating the IR equals calling ``f`` eagerly with NumPy, with the shapes
  and dtypes the shape rules give;
* the JVP program, the linear program and its transpose agree with
  ``cr.jvp`` and ``cr.vjp`` (and these two by the dot-product test), the
  gradient program with ``cr.grad``;
* ``cr.vmap(f)`` and ``cr.vmap(cr.grad(loss))`` (and their IR) equal a
  Python loop over the batch, with random ``in_axes`` and ``out_axes``;
* ``cr.check_grads(f, args, order=2)``: JVP against central differences,
  VJP against JVP, and both again for the derivative functions.

A program with a ``while`` loop (which has no reverse mode) is checked in
forward mode only; one with a ``custom_vjp`` function (which has no forward
mode) in reverse mode only, its VJP against finite differences.

``test_random_programs`` draws the programs with Hypothesis: the profile
``random-programs`` (``tests/conftest.py``, the default) draws a fixed set
of programs; ``pytest --hypothesis-profile=long
tests/test_random_programs.py`` draws 10,000.  Each counterexample found is
kept below as a named regression test: the program written out, passing
since the fix.
"""
from __future__ import annotations

import zlib

import numpy as np
import pytest
from hypothesis import assume, given, note

import chainrule as cr
import random_programs as R
from chainrule.interpreters import jvp_ir
from chainrule.primitives import all_primitives
from chainrule.tracer.core import bind

P = all_primitives()


# -- the generator covers every primitive -----------------------------------------------
def test_every_primitive_has_a_generator():
    # a primitive added to the registry without a generator fails here
    missing = sorted(set(all_primitives()) - set(R.GENERATORS))
    unknown = sorted(set(R.GENERATORS) - set(all_primitives()))
    assert not missing, f"primitives the random programs never use: {missing}"
    assert not unknown, f"generators for primitives that do not exist: {unknown}"


@pytest.mark.parametrize("name", sorted(all_primitives()))
def test_each_primitive_in_a_random_program(name):
    """A random program made to use ``name`` (seeded, not Hypothesis) uses
    it, and passes every check.  (``custom_vjp_lin`` is the equation
    ``linearize`` records for a ``custom_vjp_call``: it is looked for in the
    linearized program.)"""
    for attempt in range(20):
        case = R.seeded_case(zlib.crc32(name.encode()) + attempt, force=name,
                             dtype=np.float64)
        if case.find_args() is None:
            continue
        if name == "custom_vjp_lin":
            linear = cr.linearize(case.program.f, *case.args)[1].ir
            used = {e.primitive.name for e in linear.eqns}
        else:
            used = {e.primitive.name for e in cr.make_ir(case.program.f)(*case.args).eqns}
        if name in used:
            break
    else:
        pytest.fail(f"20 random programs made to use {name} do not, or have no values away "
                    "from their kinks")
    case.check()


@pytest.mark.parametrize("seed, force", [(k, None) for k in range(6)]
                         + [(k, name) for k in range(2) for name in (
                             "cond", "scan", "while", "checkpoint", "custom_jvp_call",
                             "custom_vjp_call")])
def test_written_out_programs_compute_the_same(seed, force):
    """``Case.source()``, the form counterexamples are kept in, is the
    program: executed, it computes what the program computes."""
    for attempt in range(10):
        case = R.seeded_case(seed + 1000 * attempt, force=force, dtype=np.float64)
        if case.find_args() is not None:
            break
    ns = {"np": np, "bind": bind, "P": P, "cr": cr, "R": R}
    exec(case.source(), ns)
    for k, (got, want) in enumerate(zip(ns["f"](*ns["args"]), case.program.f(*case.args))):
        np.testing.assert_array_equal(got, want, err_msg=f"output {k}")
    assert len(ns["batched"]) == len(case.program.inputs)


# -- random programs ----------------------------------------------------------------------
@given(R.cases())
def test_random_programs(case):
    note(case.program.source())
    assume(case.find_args() is not None)
    note(case.source())
    closed = case.check()
    assert len(closed.eqns) >= R.MIN_EQNS


# -- regressions: counterexamples found, written out ----------------------------------------
def test_regression_rem_derivative_wrt_divisor():
    """Found by the random programs: ``rem``'s JVP in its divisor,
    ``-floor(x / y)``, was computed as ``floor((x - z) / y)`` from the
    result ``z``; ``(x - z) / y`` is an integer only up to rounding, and its
    floor was one less in about 3 % of random points, so d/dy was off by
    ``t`` there: a wrong first derivative (``v29`` below).  Fixed in
    ``primitives/elementwise.py``: rounded instead.  (The program is the one
    ``random_programs.seeded_case(76, force="rem")`` draws.)"""
    def f(x0):
        v1 = bind(P['logistic'], x0)
        v2 = bind(P['tanh'], v1)
        v3 = bind(P['exp'], v1)
        v4 = bind(P['div'], v2, v3)
        v5 = bind(P['sin'], v2)
        v6 = bind(P['lt'], v1, v5)
        v7 = bind(P['and'], v6, v6)
        v8 = bind(P['cumsum'], x0, axis=1, reverse=True)
        v9 = bind(P['reshape'], v8, shape=(24,))
        v10 = bind(P['slice'], v9, start_indices=(0,), limit_indices=(10,), strides=(3,))
        v11 = bind(P['reshape'], v10, shape=(2, 2))
        v12 = bind(P['mul'], v11, np.float64(0.5))
        v13 = bind(P['logistic'], v12)
        v14 = bind(P['mul'], v13, np.float64(2.0))
        v15 = bind(P['add'], v14, np.float64(-1.0))
        v16 = bind(P['mul'], v15, np.float64(0.125))
        v17 = bind(P['add'], v16, np.array([[2.0, 0.0], [0.0, 1.0]]))
        v18, v19 = bind(P['eigh'], v17, lower=False)
        v20 = bind(P['broadcast_in_dim'], v18, shape=(2, 2), broadcast_dimensions=(1,))
        v21 = bind(P['mul'], v19, v20)
        v22 = bind(P['transpose'], v19, permutation=(1, 0))
        v23 = bind(P['dot_general'], v21, v22, dimension_numbers=(((1,), (0,)), ((), ())))
        v24 = bind(P['logaddexp'], np.float64(1.25), v12)
        v25 = bind(P['ne'], v8, v5)
        v26 = bind(P['exp'], v1)
        v27 = bind(P['add'], v26, np.float64(0.5))
        v28 = bind(P['neg'], v27)
        v29 = bind(P['rem'], v4, v28)
        v30 = bind(P['reduce_min'], v12, axes=(0,))
        v31 = bind(P['ne'], v6, v6)
        v32 = bind(P['reduce_sum'], v29, axes=(0, 1, 2))
        v33 = bind(P['mul'], v32, np.float64(0.05288754603269473))
        v34 = bind(P['logistic'], v33)
        v35 = bind(P['mul'], v34, np.float64(20.0))
        v36 = bind(P['add'], v35, np.float64(-10.0))
        v37 = bind(P['add'], v30, v36)
        v38 = bind(P['convert_element_type'], v25, new_dtype=np.dtype('float64'))
        v39 = bind(P['reduce_sum'], v38, axes=(0, 1, 2))
        v40 = bind(P['mul'], v39, np.float64(0.125))
        v41 = bind(P['tanh'], v40)
        v42 = bind(P['mul'], v41, np.float64(10.0))
        v43 = bind(P['add'], v37, v42)
        v44 = bind(P['reduce_sum'], v24, axes=(0, 1))
        v45 = bind(P['add'], v43, v44)
        v46 = bind(P['reduce_sum'], v23, axes=(0, 1))
        v47 = bind(P['mul'], v46, np.float64(0.1))
        v48 = bind(P['sin'], v47)
        v49 = bind(P['mul'], v48, np.float64(10.0))
        v50 = bind(P['add'], v45, v49)
        v51 = bind(P['convert_element_type'], v7, new_dtype=np.dtype('float64'))
        v52 = bind(P['reduce_sum'], v51, axes=(0, 1, 2))
        v53 = bind(P['mul'], v52, np.float64(0.125))
        v54 = bind(P['logistic'], v53)
        v55 = bind(P['mul'], v54, np.float64(20.0))
        v56 = bind(P['add'], v55, np.float64(-10.0))
        v57 = bind(P['add'], v50, v56)
        return (v57, v31, )

    args = (np.array([[[-0.7622574221068446, -1.1136925348541509, -0.5844510185231084,
                        -0.5632193791382294],
                       [-1.0969582359305343, -1.931977714945113, -0.8421226911513193,
                        -0.2712884151810748],
                       [-1.0913847759975173, -1.693260289435425, 0.08656685207527914,
                        0.31491063159233157]],
                      [[-0.3811211969066244, -0.6378353967585664, -1.19463589780641,
                        -0.13034003522807658],
                       [-0.007115782591212261, 0.2511884134345497, -1.4817936077961862,
                        -1.8196210189652375],
                       [-0.4071557821622156, -0.6114272045535052, -1.3873015329005505,
                        0.1704846504584121]]]),)
    batched = (np.array([[[[-0.47550830133047306, -1.18911634271527, -0.13283700293914946],
                           [-0.11199312845031084, -1.0060107344137257, -1.559607999364796],
                           [-0.6802799053147077, -1.2521722556803598, -0.19803620992560522],
                           [-0.7385426127758847, 0.06941569510457057, -0.8462760369763225]],
                          [[0.047395176600683264, 0.020465600428851705, 0.19841172982123512],
                           [-0.7222997098860611, -1.2080097489986057, -1.3236799819350547],
                           [-0.47960257491489333, -1.8769928869373516, -1.1911202578085698],
                           [0.2138118746614941, -1.8938544007327531, -1.310515024417807]],
                          [[-0.5461405297618263, -0.7068866466946275, -0.5876732940511025],
                           [-0.4441597076493513, -1.8030401158727045, -1.5108308022719532],
                           [-1.7830694341358235, -0.6739133056708806, 0.3369882958917927],
                           [-0.987780721885267, -1.2939523436717697, -1.946414573236122]]],
                         [[[-0.7670435281967554, -1.0298230413033045, -0.36889769250511195],
                           [-1.31834190437978, 0.30521115643212937, -0.10280503248051254],
                           [-1.8821863233006568, -0.8501077389002238, -0.756587839764761],
                           [-1.2858934994110063, -0.9461332975334076, -1.3158625749573634]],
                          [[-1.2054305085897492, -0.4786485679809409, -0.6454366913616754],
                           [-0.28138118153224356, -0.000855026974862616, 0.3331213842478946],
                           [0.19585207743620803, -0.8180316932984806, -0.6604605121261267],
                           [-1.5720338916257253, -1.6353044892303732, 0.12361608152876924]],
                          [[-1.390935613359028, -1.7130019710472655, -0.4885524762462039],
                           [0.016203010799174855, -1.576168153697303, -0.3840764757001631],
                           [-0.8754980403716588, 0.2544585667209698, -0.8161051034243634],
                           [-0.5479485604070737, -0.11522598248064542, -0.6745921383185363]]]]),)
    in_axes, out_axes = (-1,), (-1, -1)
    eps, seed = 1.0030041483545805e-06, 94
    R.check_all(f, args, batched=batched, in_axes=in_axes, out_axes=out_axes, eps=eps, seed=seed)

    # the rule itself, at many points: d/dy (x mod y) = -floor(x / y)
    rng = np.random.default_rng(0)
    x = rng.uniform(-10, 10, 10_000)
    y = -np.exp(rng.uniform(-1, 1, 10_000)) - 0.5
    _, t = cr.jvp(lambda y: bind(P['rem'], x, y), (y,), (np.ones_like(y),))
    np.testing.assert_array_equal(t, -np.floor(x / y))


def test_regression_jvp_ir_integer_inputs():
    """Found by the random programs: ``interpreters.jvp.jvp_ir`` (behind
    ``cr.ad_stages(...).jvp``) seeded every input with a tangent input of the
    primal's own dtype and pushed it through the program, so integer inputs
    got non-zero tangents, unlike ``cr.jvp``/``cr.linearize`` (float0, a
    symbolic zero).  The JVP rules of integer equations then ran on integer
    tangents: ``pow`` of integers computes ``x ** (y - 1)``, which NumPy
    refuses for ``y = 0``; ``scatter_min`` divided integers (a ShapeError);
    ``rem`` passed the integer tangent on.  Fixed in interpreters/jvp.py: the
    JVP program takes tangents of the floating-point inputs only and gives
    those of the floating-point outputs only."""
    def f(x0, i1):
        v2 = bind(P['pow'], i1, np.int64(0))
        v3 = bind(P['slice'], i1, start_indices=(0,), limit_indices=(2,), strides=(1,))
        v4 = bind(P['scatter_min'], i1, np.array([0, 0]), v3, axis=0)
        v5 = bind(P['rem'], i1, np.int64(3))
        v6 = bind(P['convert_element_type'], v2, new_dtype=np.dtype('float64'))
        v7 = bind(P['convert_element_type'], v4, new_dtype=np.dtype('float64'))
        v8 = bind(P['mul'], x0, v6)
        v9 = bind(P['add'], v8, v7)
        v10 = bind(P['sin'], v9)
        return (v10, v5)

    x, i = np.array([0.5, -1.0, 2.0]), np.array([3, -4, 5])
    closed = cr.make_ir(f)(x, i)
    jprog = jvp_ir(closed)
    jprog.check()
    out = jprog(x, i, np.ones(3))      # one tangent: x's; i has none
    assert len(out) == 3               # two primal outputs, one tangent (of the float one)
    np.testing.assert_allclose(out[2], cr.jvp(f, (x, i), (np.ones(3),
                                                         np.zeros(3, cr.float0)))[1][0])
    R.check_all(f, (x, i), min_eqns=0)


@pytest.mark.parametrize("name", ["reduce_max", "reduce_min"])
def test_regression_extremum_over_an_empty_axis(name):
    """Found while probing the shape rules with empty arrays (not by the
    random programs, which draw no empty arrays): ``reduce_max`` and
    ``reduce_min`` over an axis of size 0 passed the shape rule, so the
    program traced, and NumPy refused to evaluate it.  Fixed in
    ``primitives/reductions.py``: the shape rule rejects an empty reduced
    axis, as ``argmax``'s does; reducing other axes of an empty array works."""
    with pytest.raises(cr.ShapeError, match="empty axis"):
        cr.make_ir(lambda x: bind(P[name], x, axes=(0,)))(np.zeros((0, 3)))
    closed = cr.make_ir(lambda x: bind(P[name], x, axes=(1,)))(np.zeros((0, 3)))
    closed.check()
    assert np.shape(closed(np.zeros((0, 3)))) == (0,)


def test_regression_check_grads_integer_arguments_and_outputs():
    """Found by the random programs (whose inputs and outputs include
    integers): ``cr.check_grads`` of a function with an integer argument
    raised ``TypeError`` (``_random_like`` made a zero tangent of the
    integer dtype, which ``cr.jvp`` refuses since tangents of integers are
    float0), and of a function with an integer output failed inside its
    arithmetic on the float0 tangent cr.jvp returns for it.  Fixed in
    transforms/check_grads.py: float0 directions for integer values, which
    are left out of the comparisons."""
    x, i = np.array([0.3, -0.5, 1.25]), np.array([2, 3, -1])
    cr.check_grads(lambda x, i: cr.numpy.sin(x) * i, (x, i), order=2)
    cr.check_grads(lambda x: (cr.numpy.sin(x), cr.numpy.argmax(x)), (x,), order=2)


def test_regression_check_grads_reverse_mode_of_a_custom_vjp_function():
    """Met while adding custom_vjp functions to the random programs:
    ``cr.check_grads(f, args, modes=("rev",))`` of a function with a custom
    VJP raised ``TypeError: can't apply forward-mode autodiff (jvp) to a
    custom_vjp function``, because ``check_grads`` computed ``cr.jvp``
    before looking at the modes (JAX's checks the VJP against finite
    differences).  Fixed in transforms/check_grads.py meanwhile (not by this
    work); the random programs check such programs' VJPs against finite
    differences themselves (``random_programs._check_vjp_by_differences``)."""
    x = np.array([0.3, -0.5, 1.25])
    cr.check_grads(R.CUSTOM_VJP["sin"], (x,), order=1, modes=("rev",))
