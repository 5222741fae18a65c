"""Looking at programs: ``cr.draw`` and ``cr.ad_stages``.

``draw(f, *args, grad=True)`` draws the program of ``f`` with each
variable's value and cotangent, like the ``v=... | g=...`` boxes of the
lecture notes.  ``ad_stages(f, *args)`` shows the four programs of reverse
mode side by side: the program, its JVP, the linear part of the JVP
(linearize) and its transpose (the backward program), so a reader sees
reverse mode arise from forward mode by partial evaluation and transposition.

The cotangent of an intermediate variable
----------------------------------------
Reverse mode gives cotangents of a program's *inputs*; the drawing also
wants the cotangent of every variable in between, ``g_v = dL/dv`` for
``L`` = the sum of all (floating-point) outputs.  Rather than open up the
backward pass, we use a small identity: if every variable ``v`` is replaced
right after its definition by ``v + e_v`` with a perturbation ``e_v = 0``,
then ``dL/de_v = dL/dv``, the total derivative of ``L`` through everything
that reads ``v`` (fan-out included).  So one ``vjp`` of the perturbed
program with respect to all the ``e_v`` yields every variable's cotangent at
once, computed by the same reverse mode users call, with no change to the
backward pass.
"""
from __future__ import annotations

import html

import numpy as np

from ..interpreters.draw import _inline_svg, dot_available, draw_ir, draw_programs
from ..interpreters.env import environment
from ..interpreters.jvp import jvp_ir
from ..interpreters.transpose import transpose_ir
from ..primitives.elementwise import add_p
from ..tracer.avals import is_float
from ..tracer.core import bind
from ..tracer.tracebacks import api_boundary
from ..tracer.tracing import flatten_args, trace
from .ad import linearize, vjp


def _all_vars(ir):
    """Const vars, input vars and equation outputs of ``ir``, in order."""
    out = list(ir.constvars) + list(ir.invars)
    for eqn in ir.eqns:
        out.extend(eqn.outvars)
    return out


def evaluate_keeping_values(ir, consts, args, perturbations=None) -> dict:
    """Run ``ir`` and return the value of every variable (``{Var: value}``,
    literals included).

    Unlike the evaluate interpreter, which frees each value after its last
    use, this keeps them all: it is for looking at small programs.  With
    ``perturbations`` (``{Var: array}``), each such variable's value has its
    perturbation added right after it is defined (see the module docstring).
    """
    env = environment(ir)

    def define(v, x):
        e = perturbations.get(v) if perturbations else None
        env[v] = x if e is None else bind(add_p, x, e)

    for v, x in zip(ir.constvars, consts):
        define(v, x)
    for v, x in zip(ir.invars, args):
        define(v, x)
    for eqn in ir.eqns:
        out = bind(eqn.primitive, *map(env.__getitem__, eqn.inputs), **eqn.params)
        for v, x in zip(eqn.outvars, out if eqn.primitive.multiple_results else [out]):
            define(v, x)
    return env


def _output_total(ir, env):
    """The sum of all elements of all floating-point outputs."""
    total = None
    for x in ir.outvars:
        if not is_float(x.aval.dtype):
            continue
        value = env[x]
        s = value.sum() if hasattr(value, "sum") else value
        total = s if total is None else total + s
    return total


def variable_cotangents(ir, consts, args) -> dict:
    """``{Var: dL/dv}`` for every floating-point variable ``v`` of ``ir`` at
    ``args``, with ``L`` the sum of the elements of all floating-point
    outputs (the output itself, for a scalar function).  One ``vjp`` of the
    program perturbed by ``v + e_v`` with respect to the ``e_v`` (see the
    module docstring)."""
    if not any(is_float(x.aval.dtype) for x in ir.outvars):
        raise TypeError("draw(..., grad=True) needs a floating-point output to differentiate; "
                        "this program's outputs are "
                        + ", ".join(x.aval.str_short() for x in ir.outvars))
    float_vars = [v for v in dict.fromkeys(_all_vars(ir)) if is_float(v.aval.dtype)]
    zeros = [np.zeros(v.aval.shape, v.aval.dtype) for v in float_vars]

    def total(*perturbations):
        env = evaluate_keeping_values(ir, consts, args, dict(zip(float_vars, perturbations)))
        return _output_total(ir, env)

    out, pullback = vjp(total, *zeros)
    cotangents = pullback(np.ones((), np.asarray(out).dtype)[()])
    return dict(zip(float_vars, cotangents))


def _flat_args(closed, args):
    return [np.asarray(x, v.aval.dtype) for x, v in zip(flatten_args(closed, args),
                                                        closed.ir.invars)]


def values_and_cotangents(closed, args, grad=False):
    """The ``{Var: value}`` and (with ``grad``) ``{Var: cotangent}`` maps
    that ``ClosedIR.draw(*args, grad=...)`` annotates its drawing with."""
    flat = _flat_args(closed, args)
    values = evaluate_keeping_values(closed.ir, closed.consts, flat)
    cotangents = variable_cotangents(closed.ir, closed.consts, flat) if grad else None
    return values, cotangents


def _grad_title(closed, grad):
    if not grad:
        return "v = value"
    outs = closed.ir.outvars
    if len(outs) == 1 and outs[0].aval.shape == ():
        return "v = value,  g = d(output) / d(variable)"
    if all(is_float(x.aval.dtype) for x in outs):
        return "v = value,  g = d(sum of the outputs) / d(variable)"
    return "v = value,  g = d(sum of the floating-point outputs) / d(variable)"


def draw_closed_ir(closed, *args, grad=False, rankdir="TB", max_elements=8):
    """``ClosedIR.draw``: see its docstring."""
    if grad and not args:
        raise TypeError("draw(grad=True) needs the point to differentiate at: "
                        "closed_ir.draw(*args, grad=True)")
    if not args:
        return draw_ir(closed, rankdir=rankdir, max_elements=max_elements)
    values, cotangents = values_and_cotangents(closed, args, grad)
    return draw_ir(closed, values=values, cotangents=cotangents, rankdir=rankdir,
                   max_elements=max_elements, title=_grad_title(closed, grad))


@api_boundary
def draw(f, *args, grad=False, static_argnums=(), rankdir="TB", max_elements=8):
    """Trace ``f`` at ``args`` and draw its program with every variable's
    value (``v = ...``) and, with ``grad=True``, its cotangent
    (``g = dL/dv``, where ``L`` is the output for a scalar function and the
    sum of all output elements otherwise): the forward graph of the lecture
    notes, after the backward pass, in one call.

    ``f`` is traced at the values of ``args``, so Python control flow on
    values works and the drawing shows the path taken.  Returns an
    ``IRDrawing`` (a ``graphviz.Digraph``): Jupyter shows it, ``.svg()``
    renders it, ``.source`` is its DOT text.  Arrays of at most
    ``max_elements`` elements are shown in full, larger ones by their range.
    """
    closed, _ = trace(f, args, static_argnums=static_argnums, concrete=True, name="draw")
    return draw_closed_ir(closed, *args, grad=grad, rankdir=rankdir, max_elements=max_elements)


# -- the four programs of reverse mode ------------------------------------------------
_STAGES = (
    ("program", "the function as traced: make_ir(f)(*args)"),
    ("jvp", "forward mode: primals and tangents in, outputs and output tangents out"),
    ("linearized", "the tangent part of the JVP alone, at the given primals (linearize); "
                   "what it needs of the primal computation are its residuals: consts "
                   "(or inline literals, for scalars)"),
    ("transposed", "the linear program run backwards (transpose): output cotangents in, "
                   "input cotangents out; this is reverse mode, vjp"),
)


class ADStages:
    """The program of ``f`` and the three programs reverse mode derives from it.

    ``program``     ``make_ir(f)(*args)``
    ``jvp``         its JVP program (forward mode): ``(*primals, *tangents)`` to
                    ``(*outputs, *output tangents)``
    ``linearized``  the linear tangent program at ``args`` (``linearize(f, *args)[1].ir``),
                    with the residuals it needs as consts
    ``transposed``  its transpose: output cotangents to input cotangents (``vjp``)

    Each is a ``ClosedIR``.  ``print()`` shows them one after another,
    Jupyter in four columns, ``.draw()`` as one picture.
    """

    def __init__(self, program, jvp, linearized, transposed, drawings=False):
        self.program = program
        self.jvp = jvp
        self.linearized = linearized
        self.transposed = transposed
        self.drawings = drawings

    def stages(self):
        """``[(name, description, ClosedIR)]`` in order."""
        return [(name, what, getattr(self, name)) for name, what in _STAGES]

    def __iter__(self):
        return iter([self.program, self.jvp, self.linearized, self.transposed])

    def __str__(self):
        parts = []
        for k, (name, what, closed) in enumerate(self.stages()):
            heading = f"{k + 1}. {name}: {what}"
            parts.append(heading + "\n" + closed.pretty())
        return "\n\n".join(parts)

    def __repr__(self):
        counts = ", ".join(f"{name} {len(c.ir.eqns)}" for name, _, c in self.stages())
        return f"<ADStages (equations: {counts}); print() it to read the four programs>"

    def _repr_html_(self):
        heads, cells = [], []
        draw_them = self.drawings and dot_available()
        for k, (name, what, closed) in enumerate(self.stages()):
            heads.append(f'<th style="text-align:left; vertical-align:top">{k + 1}. {name}'
                         f'<br/><small style="font-weight:normal">{html.escape(what)}</small>'
                         "</th>")
            cell = f"<pre>{html.escape(closed.pretty())}</pre>"
            if draw_them:
                cell += _inline_svg(draw_ir(closed).svg())
            cells.append(f'<td style="vertical-align:top; text-align:left">{cell}</td>')
        return ("<table><tr>" + "".join(heads) + "</tr><tr>" + "".join(cells)
                + "</tr></table>")

    def draw(self, rankdir="TB"):
        """The four programs in one ``IRDrawing``, one cluster each."""
        return draw_programs([(f"{k + 1}. {name}", closed)
                              for k, (name, _, closed) in enumerate(self.stages())],
                             rankdir=rankdir)


@api_boundary
def ad_stages(f, *args, drawings=False):
    """The four programs of reverse mode for ``f`` at ``args``: the program,
    its JVP, the linearized (tangent) program and its transpose.

    ``print(cr.ad_stages(f, x))`` shows them one after another; in Jupyter
    they stand in four columns (with ``drawings=True`` each with its
    picture); ``.draw()`` gives one picture of all four.  The linear and
    transposed programs are specific to ``args`` (their residuals are
    computed there).  ``f`` is traced at the values of ``args``, so Python
    control flow on values works and every program shows the path taken.
    """
    program, _ = trace(f, args, concrete=True, name="ad_stages")
    _, f_jvp = linearize(f, *args)
    linear = f_jvp.ir
    return ADStages(program, jvp_ir(program), linear, transpose_ir(linear), drawings=drawings)
