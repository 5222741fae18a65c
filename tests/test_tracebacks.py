"""Errors point at the user's code: an error raised while a transform traces
or runs leaves it with chainrule's frames removed from its traceback (the
user's call first, then the user's function down to its failing line), and
with every frame when ``cr.config.traceback_filtering`` is off.  The message,
the notes naming the user's line and the chained exceptions stay."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import traceback

import numpy as np
import pytest

import chainrule as cr

CHAINRULE_DIR = os.path.dirname(os.path.abspath(cr.__file__)) + os.sep
REMOVED = "chainrule removed its internal frames"


def frames(error):
    return traceback.extract_tb(error.__traceback__)


def chainrule_frames(error):
    return [f for f in frames(error) if f.filename.startswith(CHAINRULE_DIR)]


def line_of(f, text):
    """The line number of the line of ``f`` that holds ``text``."""
    import inspect
    lines, start = inspect.getsourcelines(f)
    (k,) = [k for k, line in enumerate(lines) if text in line]
    return start + k


# -- the user's functions ------------------------------------------------------------------
def shape_mismatch(x):
    y = np.sin(x)
    return np.sum(y + np.ones(x.size + 1))


def branches(x):
    if np.sum(x) > 0:
        return x
    return -x


def singular(x):
    A = np.ones((3, 3)) * x[0]
    return np.sum(np.linalg.solve(A, x))


CASES = {
    "grad, shape": (lambda: cr.grad(shape_mismatch)(np.ones(3)), cr.ShapeError,
                    shape_mismatch, "y + np.ones"),
    "vmap, shape": (lambda: cr.vmap(shape_mismatch)(np.ones((2, 3))), cr.ShapeError,
                    shape_mismatch, "y + np.ones"),
    "make_ir, shape": (lambda: cr.make_ir(shape_mismatch)(np.ones(3)), cr.ShapeError,
                       shape_mismatch, "y + np.ones"),
    "make_ir, concretization": (lambda: cr.make_ir(branches)(np.ones(3)),
                                cr.ConcretizationError, branches, "if np.sum"),
    "vmap, concretization": (lambda: cr.vmap(branches)(np.ones((2, 3))),
                             cr.ConcretizationError, branches, "if np.sum"),
    "grad, singular matrix": (lambda: cr.grad(singular)(np.ones(3)), np.linalg.LinAlgError,
                              singular, "np.linalg.solve"),
    "vmap of grad, shape": (lambda: cr.vmap(cr.grad(shape_mismatch))(np.ones((2, 3))),
                            cr.ShapeError, shape_mismatch, "y + np.ones"),
    "grad of grad, shape": (lambda: cr.grad(lambda x: cr.grad(shape_mismatch)(x)[0])(np.ones(3)),
                            cr.ShapeError, shape_mismatch, "y + np.ones"),
    "make_ir of jacfwd, concretization": (
        lambda: cr.make_ir(cr.jacfwd(branches))(np.ones(3)), cr.ConcretizationError, branches,
        "if np.sum"),
}


def raise_case(name, filtering):
    run, kind, _, _ = CASES[name]
    with cr.config.override(traceback_filtering=filtering):
        with pytest.raises(kind) as error:
            run()
    return error.value


@pytest.mark.parametrize("name", CASES)
def test_the_traceback_shows_the_users_frames(name):
    _, _, user_function, text = CASES[name]
    error = raise_case(name, "on")
    shown = frames(error)
    assert not chainrule_frames(error), traceback.format_tb(error.__traceback__)
    # the user's call comes first (the test, through the lambda that calls the
    # transform), then the user's function at the line that failed
    assert shown[0].name == "raise_case" and shown[0].filename == __file__
    failing = [f for f in shown if f.name == user_function.__name__]
    assert failing and failing[-1].lineno == line_of(user_function, text)
    assert failing[-1].filename == __file__


@pytest.mark.parametrize("name", CASES)
def test_filtering_off_shows_every_frame_and_the_same_error(name):
    full = raise_case(name, "off")
    filtered = raise_case(name, "on")
    assert len(chainrule_frames(full)) > 2
    # the filtered traceback is the full one without chainrule's frames
    outside = [(f.filename, f.lineno, f.name) for f in frames(full)
               if not f.filename.startswith(CHAINRULE_DIR)]
    assert outside == [(f.filename, f.lineno, f.name) for f in frames(filtered)]
    assert str(full) == str(filtered)
    assert getattr(full, "__notes__", []) == getattr(filtered, "__notes__", [])


def test_numpys_error_keeps_its_note_naming_the_users_line():
    error = raise_case("grad, singular matrix", "on")
    assert str(error) == "Singular matrix"
    (note,) = error.__notes__   # the note of source.note_source, and no other
    assert "solve" in note and f"{os.path.basename(__file__)}:{line_of(singular, 'solve')}" in note
    # NumPy's own frames stay below the user's line
    shown = frames(error)
    assert shown[-1].filename.startswith(os.path.dirname(np.__file__))


def test_chained_exceptions_and_their_tracebacks():
    table = {}

    def lookup(x):
        try:
            return table["missing"] * x
        except KeyError as e:
            raise ValueError("no entry for the weights") from e

    with pytest.raises(ValueError) as error:
        cr.grad(lambda x: np.sum(lookup(x)))(np.ones(2))
    e = error.value
    assert str(e) == "no entry for the weights"
    assert isinstance(e.__cause__, KeyError) and e.__context__ is e.__cause__
    assert not chainrule_frames(e) and not chainrule_frames(e.__cause__)
    assert [f.name for f in frames(e)][-1] == "lookup"
    assert [f.name for f in frames(e.__cause__)] == ["lookup"]
    assert REMOVED not in "".join(getattr(e, "__notes__", []))   # raised by the user


def test_a_note_says_frames_were_removed_when_chainrule_raised():
    f = lambda x: np.sum(x)   # noqa: E731
    with pytest.raises(ValueError, match="argnums 2 is out of range") as error:
        cr.vmap(cr.grad(f, argnums=2))(np.ones((2, 3)))
    notes = error.value.__notes__
    assert len(notes) == 1 and REMOVED in notes[0]
    assert 'cr.config.update("traceback_filtering", "off")' in notes[0]
    assert not chainrule_frames(error.value)
    # chainrule's own errors are worded for the user and name the line: no note
    error = raise_case("grad, shape", "on")
    assert not getattr(error, "__notes__", [])
    # and without filtering nothing is added
    with cr.config.override(traceback_filtering="off"):
        with pytest.raises(ValueError) as error:
            cr.grad(f, argnums=2)(np.ones(3))
    assert not getattr(error.value, "__notes__", [])


def test_closed_ir_eval_and_the_returned_functions():
    closed = cr.make_ir(lambda x: np.sin(x))(np.ones(3))
    with pytest.raises(cr.ShapeError) as error:
        closed.eval(np.ones(4))
    assert not chainrule_frames(error.value)
    _, vjp_fn = cr.vjp(np.sin, np.ones(3))
    with pytest.raises(ValueError, match="cotangent of shape") as error:
        vjp_fn(np.ones(4))
    assert not chainrule_frames(error.value)
    _, f_jvp = cr.linearize(np.sin, np.ones(3))
    with pytest.raises(ValueError) as error:
        f_jvp(np.ones(4))
    assert not chainrule_frames(error.value)


def test_the_wrapped_functions_keep_their_names_and_attributes():
    def loss(x):
        """The loss."""
        return np.sum(x ** 2)

    assert cr.grad.__name__ == "grad" and "gradient" in cr.grad.__doc__
    assert cr.grad(loss).__name__ == "loss" and cr.grad(loss).__doc__ == "The loss."
    assert cr.vmap(loss).__name__ == "loss" and cr.make_ir(loss).__name__ == "loss"
    assert cr.jacobian(loss).plans == {}
    assert isinstance(cr.vjp(loss, np.ones(2))[1].ir, cr.ClosedIR)
    assert isinstance(cr.linear_transpose(lambda x: 2 * x, np.ones(2)).ir, cr.ClosedIR)
    assert cr.make_ir(loss)(np.ones(2))(np.ones(2)) == 2.0


def test_the_environment_variable_turns_filtering_off():
    script = textwrap.dedent("""
        import os, traceback
        import numpy as np
        import chainrule as cr
        here = os.path.dirname(os.path.abspath(cr.__file__)) + os.sep
        def f(x):
            return x + np.ones(4)
        try:
            cr.grad(lambda x: np.sum(f(x)))(np.ones(3))
        except cr.ShapeError as e:
            print(sum(fr.filename.startswith(here) for fr in traceback.extract_tb(e.__traceback__)))
    """)
    counts = {}
    for value in ("on", "off"):
        env = dict(os.environ, CHAINRULE_TRACEBACK_FILTERING=value)
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, check=True).stdout
        counts[value] = int(out)
    assert counts["on"] == 0 and counts["off"] > 2


def test_every_entry_point_is_a_boundary():
    def is_boundary(fn):
        code = getattr(getattr(fn, "__func__", fn), "__code__", None)
        return code is not None and code.co_name == "chainrule_api_boundary"

    f = lambda x: np.sum(np.sin(x))   # noqa: E731
    x = np.ones(3)
    called = [cr.make_ir, cr.jvp, cr.linearize, cr.vjp, cr.grad, cr.value_and_grad,
              cr.linear_transpose, cr.stop_gradient, cr.vmap, cr.jacfwd, cr.jacrev, cr.hessian,
              cr.jacobian, cr.jacobian_plan, cr.check_grads, cr.draw, cr.ad_stages,
              cr.ClosedIR.eval, cr.ClosedIR.__call__]
    returned = [cr.make_ir(f), cr.grad(f), cr.value_and_grad(f), cr.vmap(f), cr.jacfwd(f),
                cr.jacrev(f), cr.hessian(f), cr.jacobian(f), cr.jacobian_plan(f),
                cr.vjp(f, x)[1], cr.linear_transpose(lambda x: 2 * x, x),
                cr.linearize(f, x)[1].__call__]
    assert [fn for fn in called + returned if not is_boundary(fn)] == []
