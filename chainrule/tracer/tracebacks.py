"""Tracebacks that show the user's code, not chainrule's.

An error raised while ``grad(f)(x)`` runs passes through many frames of
chainrule on its way out: the transform, the trace, ``bind``, the rules,
between the user's call and the user's ``f``, and again between the line of
``f`` that failed and the ``raise``.  ``api_boundary`` wraps the functions
users call (the transforms and the functions they return; see
``chainrule/transforms``): an exception leaving one has chainrule's frames
removed from its traceback, and from the tracebacks of the exceptions
chained to it, so the traceback reads as the user's code alone: the call,
the user's function, the failing line (and NumPy's frames, when NumPy
raised).  The message and the chained exceptions stay as they are, and so
do the notes that name the user's line (``source.note_source``).  When the
``raise`` itself was in a hidden frame and the error is not one of
chainrule's own (which are worded for the user), a note says how to see
every frame: ``cr.config.update("traceback_filtering", "off")`` or the
environment variable ``CHAINRULE_TRACEBACK_FILTERING=off``.

This is what JAX does with ``jax_traceback_filtering``.  The filter is
cheap and idempotent, so nested boundaries (``grad(grad(f))``) each apply
it; a call that raises nothing pays one ``try``.
"""
from __future__ import annotations

import functools
import os
import types

from .config import config
from .errors import ChainruleError

_CHAINRULE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_DEMO = _CHAINRULE_DIR + "demo"   # the demo is user code beside the package
_NOTE = ("chainrule removed its internal frames from this traceback; "
         "cr.config.update(\"traceback_filtering\", \"off\") or the environment variable "
         "CHAINRULE_TRACEBACK_FILTERING=off shows them")


def _is_internal(code) -> bool:
    # (no cache: this runs only for the frames of an exception on its way out)
    return code.co_filename.startswith(_CHAINRULE_DIR) and not code.co_filename.startswith(_DEMO)


def filter_traceback(tb):
    """A new traceback with the entries of ``tb`` outside chainrule (None
    when none is)."""
    kept = []
    while tb is not None:
        if not _is_internal(tb.tb_frame.f_code):
            kept.append(tb)
        tb = tb.tb_next
    out = None
    for entry in reversed(kept):
        out = types.TracebackType(out, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return out


def _raised_inside(tb) -> bool:
    """Whether the innermost entry of ``tb`` (where the exception was
    raised) is chainrule's."""
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return _is_internal(tb.tb_frame.f_code)


def filter_exception(error: BaseException) -> None:
    """Remove chainrule's frames from the tracebacks of ``error`` and of the
    exceptions chained to it (``__cause__``, ``__context__``)."""
    seen = set()
    pending = [error]
    while pending:
        e = pending.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        tb = e.__traceback__
        if (e is error and not isinstance(e, ChainruleError) and _raised_inside(tb)
                and _NOTE not in getattr(e, "__notes__", ())):
            e.add_note(_NOTE)
        e.with_traceback(filter_traceback(tb))
        pending += [e.__cause__, e.__context__]


def api_boundary(fn):
    """``fn``, whose exceptions leave with chainrule's frames removed from
    their tracebacks while ``cr.config.traceback_filtering`` is on."""

    @functools.wraps(fn)
    def chainrule_api_boundary(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            if config.traceback_filtering == "on":
                filter_exception(e)
            raise   # (a bare raise: the traceback as filtered, without this frame)

    return chainrule_api_boundary
