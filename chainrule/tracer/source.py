"""Where in the user's code an equation came from.

Each equation records a ``SourceInfo``: the file, line and function of the
innermost stack frame that is not inside chainrule (nor inside NumPy, whose
dispatch may stand between the user's ``np.sin(x)`` and our ``bind``).
Errors and ``pretty(source_info=True)`` point there.

Finding that frame runs once per traced equation, so it is kept cheap: a
walk up ``sys._getframe`` with a per-code-object cache of "is this ours?",
and one ``SourceInfo`` per (code object, line) shared by the equations of
that line, both bounded (``_INTERNAL_CODE_MAX``) because user code objects
come and go.  A ``SourceInfo`` is never changed once made.

File names, function names and source lines are the user's text: they are
shown through ``printer.one_line``, so none of them can add a line to the
IR text or to an error message.
"""
from __future__ import annotations

import linecache
import os
import sys

import numpy

from .errors import ChainruleError   # (chainrule's own messages name the line already)
from .printer import one_line

_CHAINRULE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_NUMPY_DIR = os.path.dirname(os.path.abspath(numpy.__file__)) + os.sep
# id(code object) -> (the code object, whether it is chainrule's or NumPy's).
# Keyed by id because hashing a code object hashes its bytecode and
# constants, every time; the entry holds the code object alive, so its id
# stays its own.  A program that makes functions on the fly (lambdas in a
# loop, exec) sees new ones forever: emptied when it reaches this many
# (refilling costs a few string comparisons per code object).
_INTERNAL_CODE_MAX = 4096
_internal_code: dict = {}
# (id(code object), line number) -> (the code object, its SourceInfo), shared
# by every equation traced on that line (a loop's body records many): one
# object, not one per equation.  Bounded as above.
_places: dict = {}


def clear_source_cache() -> None:
    """Empty the per-code-object caches (``cr.clear_caches``)."""
    _internal_code.clear()
    _places.clear()


def _is_internal(code) -> bool:
    entry = _internal_code.get(id(code))
    if entry is not None:
        return entry[1]
    if len(_internal_code) >= _INTERNAL_CODE_MAX:
        _internal_code.clear()
    filename = code.co_filename
    hit = (filename.startswith(_CHAINRULE_DIR) or filename.startswith(_NUMPY_DIR)
           or filename.startswith("<frozen "))
    # the demo and the tests are user code even though they live beside the package
    if filename.startswith(_CHAINRULE_DIR + "demo"):
        hit = False
    _internal_code[id(code)] = (code, hit)
    return hit


class SourceInfo:
    """A user's source location: file, line number and function name."""

    __slots__ = ("filename", "lineno", "function")
    derivative = False   # see DerivativeSourceInfo

    def __init__(self, filename: str, lineno: int, function: str):
        self.filename = filename
        self.lineno = lineno
        self.function = function

    def short(self) -> str:
        """``file.py:12 (f)``, as ``pretty(source_info=True)`` prints it."""
        return (f"{one_line(os.path.basename(self.filename))}:{self.lineno} "
                f"({one_line(self.function)})")

    def line_text(self) -> str:
        return linecache.getline(self.filename, self.lineno).strip()

    def describe(self) -> str:
        """A sentence fragment for error messages: place and the line's code."""
        text = one_line(self.line_text().expandtabs(4))
        where = f"{one_line(self.filename)}:{self.lineno}, in {one_line(self.function)}"
        return f"{where}\n    {text}" if text else where

    def __repr__(self):
        return f"SourceInfo({self.short()})"


class DerivativeSourceInfo(SourceInfo):
    """The place of an equation whose derivative is being computed: while
    ``debug_nans`` is on, the source hint under which the JVP and transpose
    interpreters apply an equation's rules (``derivative_of``), and so the
    source of the equations they record.  It prints as the equation's own
    place; ``debug_nans`` names it "the derivative of the equation at" it.
    (With the option off the interpreters pass the plain place: no object
    is made per equation.)"""

    __slots__ = ()
    derivative = True


def derivative_of(source_info):
    """``source_info`` marked as the place of an equation being differentiated
    (itself when it is None or marked already)."""
    if source_info is None or source_info.derivative:
        return source_info
    return DerivativeSourceInfo(source_info.filename, source_info.lineno, source_info.function)


def user_source_info(skip: int = 1):
    """The ``SourceInfo`` of the innermost frame outside chainrule and NumPy."""
    frame = sys._getframe(skip)
    known = _internal_code   # (the cache read inline: this runs once per traced equation)
    while frame is not None:
        code = frame.f_code
        entry = known.get(id(code))
        if not (entry[1] if entry is not None else _is_internal(code)):
            break
        frame = frame.f_back
    if frame is None:
        return None
    key = (id(code), frame.f_lineno)
    entry = _places.get(key)
    if entry is not None:
        return entry[1]
    if len(_places) >= _INTERNAL_CODE_MAX:
        _places.clear()
    info = SourceInfo(code.co_filename, frame.f_lineno, code.co_name)
    _places[key] = (code, info)
    return info


def note_source(error: BaseException, prim_name: str, source_info) -> None:
    """Add the user's line to an error NumPy raised while computing an
    equation (a singular matrix, say), once: Python prints it under the
    message."""
    if (source_info is None or isinstance(error, ChainruleError)
            or getattr(error, "_chainrule_noted", False)):
        return
    error.add_note(f"chainrule: while computing {one_line(prim_name)}{where(source_info)}")
    error._chainrule_noted = True


def where(source_info) -> str:
    """`` at file:line, in f: <code>`` or an empty string when unknown."""
    if source_info is None:
        return ""
    return f"\n  at {source_info.describe()}"
