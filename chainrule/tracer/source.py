"""Where in the user's code an equation came from.

Each equation records a ``SourceInfo``: the file, line and function of the
innermost stack frame that is not inside chainrule (nor inside NumPy, whose
dispatch may stand between the user's ``np.sin(x)`` and our ``bind``).
Errors and ``pretty(source_info=True)`` point there.

Finding that frame runs once per traced equation, so it is kept cheap: a
walk up ``sys._getframe`` with a per-code-object cache of "is this ours?".
"""
from __future__ import annotations

import linecache
import os
import sys

import numpy

from .errors import ChainruleError   # (chainrule's own messages name the line already)

_CHAINRULE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_NUMPY_DIR = os.path.dirname(os.path.abspath(numpy.__file__)) + os.sep
_internal_code: dict = {}


def _is_internal(code) -> bool:
    hit = _internal_code.get(code)
    if hit is None:
        filename = code.co_filename
        hit = (filename.startswith(_CHAINRULE_DIR) or filename.startswith(_NUMPY_DIR)
               or filename.startswith("<frozen "))
        # the demo and the tests are user code even though they live beside the package
        if filename.startswith(_CHAINRULE_DIR + "demo"):
            hit = False
        _internal_code[code] = hit
    return hit


class SourceInfo:
    """A user's source location: file, line number and function name."""

    __slots__ = ("filename", "lineno", "function")

    def __init__(self, filename: str, lineno: int, function: str):
        self.filename = filename
        self.lineno = lineno
        self.function = function

    def short(self) -> str:
        """``file.py:12 (f)``, as ``pretty(source_info=True)`` prints it."""
        return f"{os.path.basename(self.filename)}:{self.lineno} ({self.function})"

    def line_text(self) -> str:
        return linecache.getline(self.filename, self.lineno).strip()

    def describe(self) -> str:
        """A sentence fragment for error messages: place and the line's code."""
        text = self.line_text()
        where = f"{self.filename}:{self.lineno}, in {self.function}"
        return f"{where}\n    {text}" if text else where

    def __repr__(self):
        return f"SourceInfo({self.short()})"


def user_source_info(skip: int = 1):
    """The ``SourceInfo`` of the innermost frame outside chainrule and NumPy."""
    frame = sys._getframe(skip)
    while frame is not None and _is_internal(frame.f_code):
        frame = frame.f_back
    if frame is None:
        return None
    code = frame.f_code
    return SourceInfo(code.co_filename, frame.f_lineno, code.co_name)


def note_source(error: BaseException, prim_name: str, source_info) -> None:
    """Add the user's line to an error NumPy raised while computing an
    equation (a singular matrix, say), once: Python prints it under the
    message."""
    if (source_info is None or isinstance(error, ChainruleError)
            or getattr(error, "_chainrule_noted", False)):
        return
    error.add_note(f"chainrule: while computing {prim_name}{where(source_info)}")
    error._chainrule_noted = True


def where(source_info) -> str:
    """`` at file:line, in f: <code>`` or an empty string when unknown."""
    if source_info is None:
        return ""
    return f"\n  at {source_info.describe()}"
