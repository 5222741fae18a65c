"""The IR's text form (docs/api.md, "The IR text").

    { lambda a:f64[3] ; b:f64[3] c:f64[3]. let
        d:f64[3] = mul b c
        e:f64[] = reduce_sum[axes=(0,)] d
      in (e,) }

Variables are named in order of definition: ``a`` .. ``z``, ``ba``, ``bb``, ...
(base 26 with ``a`` as the digit zero), unique across nested blocks.  The
printer is a loop over equations; a param holding an IR (a primitive's body)
is printed as a nested block by the same loop.

Text is data: every piece of text the user chose (a primitive's name, a
param's name or value, a file or function name) goes through ``one_line``,
so no name can break a line, forge an equation or carry a control
character; the drawing and the error messages use it too.
"""
from __future__ import annotations

import numpy as np

from .atoms import Literal
from .avals import short_dtype


def one_line(text) -> str:
    """``text`` as it may stand inside one line of the IR text, a drawing or
    an error message: unchanged when every character is printable, otherwise
    as a Python string literal, ``'x\\ny'`` (a newline, tab, other control
    character or line separator shown as its escape), so it can neither end
    the line nor reach a terminal as a control sequence."""
    text = str(text)
    return text if text.isprintable() else repr(text)


def var_name(i: int) -> str:
    """0 -> a, 25 -> z, 26 -> ba, 27 -> bb, ..."""
    letters = []
    while True:
        i, r = divmod(i, 26)
        letters.append(chr(ord("a") + r))
        if i == 0:
            return "".join(reversed(letters))


class _Names:
    def __init__(self):
        self.names = {}

    def bind(self, v) -> str:
        name = self.names[v] = var_name(len(self.names))
        return name

    def read(self, x) -> str:
        if type(x) is Literal:
            return f"{_literal_text(x.value)}:{x.aval.str_short()}"
        name = self.names.get(x)
        return name if name is not None else f"<unbound {x.aval.str_short()}>"


def _literal_text(value) -> str:
    return one_line(value[()] if isinstance(value, np.ndarray) else value)


def _is_program(value) -> bool:
    """An ``IR`` or ``ClosedIR`` in a param (a primitive's body), known by
    its equations: ``ir.py`` imports this module, so it is not imported here."""
    return hasattr(value, "eqns")


def _param_text(value, names, indent, source_info):
    if _is_program(value):
        return "\n" + _pp_block(getattr(value, "ir", value), names, indent + 8, source_info)
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return short_dtype(value)
    if isinstance(value, tuple) and any(_is_program(v) for v in value):
        return "(" + "".join(_param_text(v, names, indent, source_info) for v in value) + ")"
    if callable(value) and hasattr(value, "__name__"):
        return one_line(value.__name__)
    return one_line(repr(value))


def pp_equation(eqn, names=None, indent=4, source_info=False, used=None) -> str:
    names = names or _Names()
    ins = " ".join(names.read(x) for x in eqn.inputs)
    # outputs are named before any nested body, so names read a, b, c, ...
    # down the text; an output that is never read prints as _ (and takes no name)
    outs = " ".join(f"{names.bind(v) if used is None or v in used else '_'}:{v.aval.str_short()}"
                    for v in eqn.outvars)
    params = ""
    if eqn.params:
        params = "[" + " ".join(
            f"{one_line(k)}={_param_text(eqn.params[k], names, indent, source_info)}"
            for k in sorted(eqn.params)) + "]"
    return f"{outs} = {one_line(eqn.primitive.name)}{params} {ins}".rstrip()


def _pp_block(ir, names, indent, source_info) -> str:
    pad = " " * indent
    used = set()
    for eqn in ir.eqns:
        used.update(eqn.inputs)
    used.update(ir.outvars)
    consts = " ".join(f"{names.bind(v)}:{v.aval.str_short()}" for v in ir.constvars)
    ins = " ".join(f"{names.bind(v)}:{v.aval.str_short()}" for v in ir.invars)
    lines = [pad + f"{{ lambda {consts}{' ' if consts else ''}; {ins}. let"]
    for eqn in ir.eqns:
        text = pp_equation(eqn, names, indent, source_info, used)
        if source_info and eqn.source_info is not None:
            text += f"  # {eqn.source_info.short()}"
        lines.append(pad + "    " + text)
    outs = ", ".join(names.read(x) for x in ir.outvars)
    if len(ir.outvars) == 1:
        outs += ","
    lines.append(pad + f"  in ({outs}) }}")
    return "\n".join(lines)


def pp_ir(ir, source_info: bool = False) -> str:
    return _pp_block(ir, _Names(), 0, source_info)


def var_names(ir) -> dict:
    """The name the printer gives each variable of ``ir`` (an ``IR`` or
    ``ClosedIR``), nested bodies included: ``{Var: name}``.  Outputs that are
    never read print as ``_`` and have no entry.  The drawing uses this map,
    so that a picture and the text of one program name things alike."""
    ir = getattr(ir, "ir", ir)
    names = _Names()
    _pp_block(ir, names, 0, False)
    return dict(names.names)
