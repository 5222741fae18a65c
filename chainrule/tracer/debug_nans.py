"""``debug_nans``: stop at the first equation that makes a NaN or an infinity.

With ``cr.config.debug_nans`` on, every equation computed with NumPy is
checked as it is computed: by ``bind`` when none of its arguments is a
tracer (eager operations, and the values of a trace with values, which the
AD transforms record), and by the evaluate interpreter's loop
(``ClosedIR.eval``, linearized functions, ``cr.jacobian``'s program).  An
equation is blamed when one of its floating-point (or complex) outputs holds
a NaN or an infinity while its inputs hold none: a NaN that came in was made
earlier, by the equation blamed then.  The error, ``NonFiniteError``, names
the primitive, summarizes its inputs and outputs, and gives the user's
line; an equation computed for a derivative (a JVP or transpose rule, whose
source hint is marked by ``source.derivative_of``) is named as "in the
derivative of the equation at" the line that made the differentiated
equation.

With the option off, the callers spend one boolean test per equation.
"""
from __future__ import annotations

import math

import numpy as np

from .avals import short_dtype
from .errors import NonFiniteError
from .source import user_source_info

_SHOWN = 6   # values shown of an array


def _nonfinite(x) -> bool:
    """Whether ``x`` is a float or complex value holding a NaN or an infinity."""
    if isinstance(x, (np.ndarray, np.generic)):
        return x.dtype.kind in "fc" and not np.isfinite(x).all()
    if type(x) is float:
        return not math.isfinite(x)
    if type(x) is complex:
        return not (math.isfinite(x.real) and math.isfinite(x.imag))
    return False


def check_finite(prim, args, out, source_info, look_up=False):
    """Raise ``NonFiniteError`` if ``prim`` applied to ``args`` gave ``out``
    (a list for a primitive with multiple results) with a NaN or infinity
    from finite inputs.  ``source_info`` is the equation's place; with
    ``look_up``, None stands for the user's frame on the stack."""
    outs = out if prim.multiple_results else (out,)
    if not any(map(_nonfinite, outs)) or any(map(_nonfinite, args)):
        return
    if source_info is None and look_up:
        source_info = user_source_info()
    raise NonFiniteError(_message(prim, args, outs, source_info))


def _message(prim, args, outs, source_info):
    made = ", ".join(_kinds(o) + (f" in output {k}" if len(outs) > 1 else "")
                     for k, o in enumerate(outs) if _nonfinite(o))
    lines = [f"debug_nans: {prim.name} produced {made} from finite inputs"]
    if source_info is not None:
        lead = "in the derivative of the equation at" if source_info.derivative else "at"
        lines.append(f"  {lead} {source_info.describe()}")
    lines.append(f"  inputs of {prim.name}:")
    lines += [f"    {k}: {_summary(a)}" for k, a in enumerate(args)] or ["    (none)"]
    lines.append("  output:" if len(outs) == 1 else "  outputs:")
    lines += [f"    {k}: {_summary(o)}" for k, o in enumerate(outs)]
    lines.append("The inputs are finite, so this equation made the first non-finite value. "
                 "Turn the check off with cr.config.update(\"debug_nans\", False).")
    return "\n".join(lines)


def _kinds(x) -> str:
    """``nan``, ``inf`` or ``nan and inf``: what ``x`` holds."""
    x = np.asarray(x)
    return " and ".join(k for k, test in (("nan", np.isnan), ("inf", np.isinf)) if test(x).any())


def _count(x) -> str:
    """``2 nan and 1 inf (of 5 values), the first at index (3,)``."""
    x = np.asarray(x)
    nan = int(np.isnan(x).sum())
    inf = int(np.isinf(x).sum())
    parts = [f"{n} {what}" for n, what in ((nan, "nan"), (inf, "inf")) if n]
    text = " and ".join(parts)
    if x.ndim:
        first = np.unravel_index(int(np.argmin(np.isfinite(x))), x.shape)
        text += f" (of {x.size} values), the first at index {tuple(map(int, first))}"
    return text


def _value(v) -> str:
    return format(v, ".6g") if isinstance(v, (float, complex)) else str(v)


def _summary(x) -> str:
    """``f64[5] [1, 2, 3, 4, 5] min 1 max 5, finite``: type, a few values and
    the range, and whether it holds NaN or infinity."""
    if not isinstance(x, (np.ndarray, np.generic, bool, int, float, complex)):
        return repr(x)
    a = np.asarray(x)
    text = f"{short_dtype(a.dtype)}[{','.join(map(str, a.shape))}]"
    if a.size == 0:
        return text + " (empty)"
    flat = a.ravel()
    values = [_value(v) for v in flat[:_SHOWN].tolist()]
    if flat.size > _SHOWN:
        values[_SHOWN // 2:] = ["..."] + [_value(v) for v in flat[-(_SHOWN // 2):].tolist()]
    text += " " + ("[" + ", ".join(values) + "]" if a.ndim else values[0])
    if a.ndim > 1:
        text += " (flattened)"
    finite = np.isfinite(a) if a.dtype.kind in "fc" else None
    if a.size > 1 and a.dtype.kind in "fiub":
        kept = a if finite is None else a[finite]
        if kept.size:
            text += f" min {_value(kept.min().item())} max {_value(kept.max().item())}"
    if finite is not None:
        text += ", finite" if finite.all() else ", " + _count(a)
    return text
