"""The IR: a flat list of equations in SSA form.

    IR        input vars, const vars, equations, output atoms
    Equation  primitive, input atoms, output vars, params, source info
    Var       an SSA variable; it has an abstract value and is defined once
    Literal   a scalar constant written inline (``2.0:f64[]``)
    ClosedIR  an IR together with the values of its const vars (and the
              pytree structure of the function it was traced from)

Interpreters (``chainrule/interpreters``) are loops over ``ir.eqns``.  An IR
never nests other than through params (a primitive's body, such as the
structured control flow that is planned, is an ``IR`` value inside a param),
so nothing here recurses over a program.

This module imports nothing above the tracer.  The conveniences of a
``ClosedIR`` that need the floors above it (``eval`` runs the evaluate
interpreter, ``cost`` counts flops, ``draw`` and the Jupyter displays draw
it) call functions that the package's ``__init__`` lends the IR with
``provide`` when chainrule is imported.
"""
from __future__ import annotations

from .atoms import Literal, Var, literal_or_none  # noqa: F401  (the IR's atoms, re-exported)
from .errors import ShapeError
from .printer import pp_equation, pp_ir
from .tracebacks import api_boundary

# name -> function, lent by the floors above (see ``provide``)
_PROVIDED: dict = {}


def provide(**functions):
    """Lend the IR classes functions of the floors above the tracer:
    ``evaluate(closed, *args)``, ``cost(ir)``, ``draw(closed, *args, **options)``,
    ``svg(closed)``, ``html(closed)``, ``mimebundle(closed)``.  The package's
    ``__init__`` calls it once, so the IR imports nothing above itself."""
    _PROVIDED.update(functions)


class Equation:
    """``outvars = primitive[params] inputs``, recorded at ``source_info``."""

    __slots__ = ("primitive", "inputs", "outvars", "params", "source_info")

    def __init__(self, primitive, inputs, outvars, params, source_info=None):
        self.primitive = primitive
        self.inputs = inputs        # list of Var | Literal
        self.outvars = outvars      # list of Var
        self.params = params        # dict
        self.source_info = source_info

    def __repr__(self):
        return pp_equation(self)


class IR:
    """A program: ``{ lambda constvars ; invars. let eqns in (outvars) }``."""

    __slots__ = ("constvars", "invars", "eqns", "outvars", "_last_uses", "_literals")

    def __init__(self, constvars, invars, eqns, outvars):
        self.constvars = list(constvars)
        self.invars = list(invars)
        self.eqns = list(eqns)
        self.outvars = list(outvars)  # Var | Literal
        self._last_uses = None
        self._literals = None

    @property
    def in_avals(self):
        return [v.aval for v in self.invars]

    @property
    def out_avals(self):
        return [v.aval for v in self.outvars]

    def last_uses(self):
        """For each equation, the vars whose value is dead after it.

        The evaluator deletes them from its environment, so a value lives
        only as long as some later equation (or the output) still needs it.
        Computed once, backwards over the equations, and cached.
        """
        if self._last_uses is None:
            live = {v for v in self.outvars if type(v) is Var}
            dead_after = []
            for eqn in reversed(self.eqns):
                dying = []
                for x in eqn.inputs:
                    if type(x) is Var and x not in live:
                        live.add(x)
                        dying.append(x)
                # an output nobody reads dies at once
                dying.extend(v for v in eqn.outvars if v not in live)
                dead_after.append(dying)
            dead_after.reverse()
            self._last_uses = dead_after
        return self._last_uses

    def literals(self) -> dict:
        """Each ``Literal`` the program reads, with its value.  An interpreter
        starts its environment from this table, so that every atom, variable
        or literal, is read with one lookup.  Computed once and cached."""
        if self._literals is None:
            table = {}
            for eqn in self.eqns:
                for x in eqn.inputs:
                    if type(x) is Literal:
                        table[x] = x.value
            for x in self.outvars:
                if type(x) is Literal:
                    table[x] = x.value
            self._literals = table
        return self._literals

    def without_dead_code(self) -> "IR":
        """This program without the equations no output depends on (dead code
        elimination, one backward pass; primitives are pure, but those that
        raise on some values, such as ``cholesky``, are kept as checks) and
        without the const vars nothing reads any more."""
        live = {v for v in self.outvars if type(v) is Var}
        kept = []
        for eqn in reversed(self.eqns):
            if eqn.primitive.may_raise or any(v in live for v in eqn.outvars):
                kept.append(eqn)
                live.update(x for x in eqn.inputs if type(x) is Var)
        kept.reverse()
        return IR([v for v in self.constvars if v in live], self.invars, kept, self.outvars)

    def check(self):
        """Validate the IR; raise ``ShapeError`` naming the first problem.

        Every var is defined exactly once before use, and each equation's
        output avals are what its primitive's shape rule computes from its
        input avals.  Tests run this after every transformation.
        """
        defined = set()

        def define(v, what):
            if type(v) is not Var:
                raise ShapeError(f"IR.check: {what} {v!r} is not a Var")
            if v in defined:
                raise ShapeError(f"IR.check: {what} {v!r} is defined twice")
            defined.add(v)

        for v in self.constvars:
            define(v, "const var")
        for v in self.invars:
            define(v, "input var")
        for i, eqn in enumerate(self.eqns):
            for x in eqn.inputs:
                if type(x) is Var and x not in defined:
                    raise ShapeError(f"IR.check: equation {i} ({eqn!r}) reads {x!r} "
                                     "before it is defined")
                if type(x) is Literal and x.aval.shape != ():
                    raise ShapeError(f"IR.check: equation {i} has a non-scalar literal")
            in_avals = [x.aval for x in eqn.inputs]
            try:
                out = eqn.primitive.shape_rule(*in_avals, **eqn.params)
            except Exception as e:
                raise ShapeError(f"IR.check: equation {i} ({eqn!r}) fails its shape rule: {e}") from None
            out = list(out) if eqn.primitive.multiple_results else [out]
            if [v.aval for v in eqn.outvars] != out:
                raise ShapeError(
                    f"IR.check: equation {i} ({eqn!r}) declares outputs "
                    f"{[v.aval.str_short() for v in eqn.outvars]} but its shape rule gives "
                    f"{[a.str_short() for a in out]}")
            for value in eqn.params.values():
                for sub in (value if isinstance(value, (tuple, list)) else (value,)):
                    if isinstance(sub, (IR, ClosedIR)):
                        sub.check()
            for v in eqn.outvars:
                define(v, "output of equation %d" % i)
        for v in self.outvars:
            if type(v) is Var and v not in defined:
                raise ShapeError(f"IR.check: output {v!r} is never defined")
        return True

    def pretty(self, source_info: bool = False) -> str:
        return pp_ir(self, source_info=source_info)

    def cost(self):
        """The flops of this program, in total and by primitive
        (``interpreters/cost.py``)."""
        return _PROVIDED["cost"](self)

    def __str__(self):
        return self.pretty()

    def __repr__(self):
        return (f"<IR with {len(self.invars)} inputs, {len(self.eqns)} equations, "
                f"{len(self.outvars)} outputs>")


class ClosedIR:
    """An IR with the values of its const vars, ready to run.

    ``in_tree``/``out_tree`` describe the pytrees of the traced function's
    arguments and result, so ``eval`` takes and returns the same structures.
    A const value may itself be a tracer of an enclosing trace: that is how
    an inner IR closes over an outer traced value (see ``tracer/core.py``).
    """

    __slots__ = ("ir", "consts", "in_tree", "out_tree", "static_argnums", "num_args")

    def __init__(self, ir: IR, consts, in_tree=None, out_tree=None,
                 static_argnums=(), num_args=None):
        self.ir = ir
        self.consts = list(consts)
        self.in_tree = in_tree
        self.out_tree = out_tree
        self.static_argnums = tuple(static_argnums)
        self.num_args = num_args

    @property
    def eqns(self):
        return self.ir.eqns

    @property
    def in_avals(self):
        return self.ir.in_avals

    @property
    def out_avals(self):
        return self.ir.out_avals

    def check(self):
        if len(self.consts) != len(self.ir.constvars):
            raise ShapeError("ClosedIR.check: number of const values and const vars differ")
        return self.ir.check()

    def without_dead_code(self) -> "ClosedIR":
        """This program without dead equations and unread constants."""
        ir = self.ir.without_dead_code()
        value = dict(zip(self.ir.constvars, self.consts))
        return ClosedIR(ir, [value[v] for v in ir.constvars], self.in_tree, self.out_tree,
                        self.static_argnums, self.num_args)

    @api_boundary
    def eval(self, *args):
        """Run the program on ``args`` (the traced function's arguments; the
        static ones may be given again or left out) and return its output
        structure.  Tracers among ``args`` stage the program into their trace.
        (The evaluate interpreter, ``interpreters/evaluate.py``.)
        """
        return _PROVIDED["evaluate"](self, *args)

    __call__ = eval

    def pretty(self, source_info: bool = False) -> str:
        return self.ir.pretty(source_info=source_info)

    def cost(self):
        return self.ir.cost()

    def __str__(self):
        return self.ir.pretty()

    def __repr__(self):
        ir = self.ir
        return (f"<ClosedIR with {len(ir.invars)} inputs, {len(ir.eqns)} equations, "
                f"{len(ir.outvars)} outputs; print() it to read the program>")

    def _repr_markdown_(self):
        return "```\n" + self.ir.pretty() + "\n```"

    # -- pictures (``interpreters/draw.py``, which imports graphviz on first use) --
    def draw(self, *args, grad=False, rankdir="TB", max_elements=8):
        """A Graphviz drawing of the program: an ``IRDrawing``, which is a
        ``graphviz.Digraph`` (``.source`` is DOT text, ``.svg()`` renders it,
        Jupyter shows it).

        One box per variable (named as in the text, with ``dtype[shape]``),
        one ellipse per equation, edges for the data flow; inputs, consts and
        outputs are marked, and a body held in a param is drawn as a cluster.  Given
        ``args``, the program is evaluated there and each variable shows its
        value ``v``; with ``grad=True`` also its cotangent ``g`` (the
        derivative of the output, or of the sum of the outputs, with respect
        to it); arrays of more than ``max_elements`` elements show their
        range.  ``rankdir``: ``"TB"`` top to bottom, ``"LR"`` left to right.
        """
        return _PROVIDED["draw"](self, *args, grad=grad, rankdir=rankdir,
                                 max_elements=max_elements)

    def _repr_svg_(self):
        """The drawing as SVG (None without Graphviz's ``dot``)."""
        return _PROVIDED["svg"](self)

    def _repr_html_(self):
        """The text, with the drawing beside it for a small program."""
        return _PROVIDED["html"](self)

    def _repr_mimebundle_(self, include=None, exclude=None):
        # Jupyter asks for every format at once: render the drawing only once
        return _PROVIDED["mimebundle"](self)
