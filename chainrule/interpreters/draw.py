"""The draw interpreter: an IR as a Graphviz picture.

The picture has the shape of the lecture notes' (and micrograd's) drawings:

* one box per variable, labelled as the printer names it, ``c: f64[3]``,
  with a row ``v = ...`` for its value and ``g = ...`` for its cotangent
  when those are known (small arrays in full, larger ones by their range);
* one ellipse per equation, with the primitive and its params;
* edges for the data flow: input variable -> equation -> output variable
  (numbered when the order of the operands matters, as in ``div`` or
  ``dot_general``); a literal operand is a small text node of its own;
* inputs (blue), const vars (grey) and outputs (double border) marked, with
  a row saying which;
* a body held in a param (a primitive's sub-program) drawn as a cluster
  beside its equation, joined to it by a dashed edge named after the param.

Text is data: every label that can hold the user's text (a primitive's
name, a param's name or value) is a Graphviz HTML-like label, its text
escaped (``_html_text``: ``printer.one_line``, ``html.escape``, and each
backslash doubled, since dot reads ``\\N``, ``\\G`` and ``\\\\`` in any
label), so no name can add markup, end a DOT string, put a control character
into the SVG or be shown as other text.  Node and cluster ids are the
drawing's own (``v1``, ``e2``, ``cluster_3``).

Like every interpreter this is a loop over ``ir.eqns``; nested bodies go on
a work list instead of a recursive call, so a program of any length or depth
draws without touching Python's recursion limit.

The result is an ``IRDrawing``, a ``graphviz.Digraph``: ``.source`` is the
DOT text, ``.svg()`` the rendered picture, and Jupyter shows it as SVG.
Rendering needs Graphviz's ``dot`` program.  Without it the DOT source is
still built, and rendering raises ``GraphvizNotFoundError`` (Jupyter shows
its message) saying how to install Graphviz, rather than a stack trace from
a subprocess.
"""
from __future__ import annotations

import html
import shutil
from collections import deque

import graphviz
import numpy as np

from ..tracer.avals import short_dtype
from ..tracer.errors import ChainruleError
from ..tracer.ir import IR, ClosedIR, Literal, Var
from ..tracer.printer import one_line, var_names

INSTALL_HELP = """\
Graphviz's `dot` program is not installed (or not on PATH), so the drawing \
cannot be rendered. Install Graphviz:
    Debian / Ubuntu:  sudo apt-get install graphviz
    macOS:            brew install graphviz
    conda:            conda install -c conda-forge graphviz
    Windows:          winget install graphviz   (or https://graphviz.org/download/)
From a chainrule checkout, `make venv` (run as root) installs it with apt-get.
Without `dot` the drawing's DOT text is still available as `.source`."""

# programs longer than this are not drawn automatically in Jupyter (text only)
AUTO_DRAW_MAX_EQUATIONS = 40

# operand order does not matter for these; other multi-operand equations
# number their incoming edges 0, 1, ... as the text lists the operands
_COMMUTATIVE = {"add", "mul", "max", "min", "and", "or", "xor", "eq", "ne"}

_RANKDIRS = {"TB": "TB", "LR": "LR", "BT": "BT", "RL": "RL",
             "top-to-bottom": "TB", "left-to-right": "LR"}

_INPUT_COLOR = "#dbeafe"
_CONST_COLOR = "#e5e7eb"
_VAR_COLOR = "#ffffff"
_EQN_COLOR = "#fef3c7"


def dot_available() -> bool:
    """Whether Graphviz's ``dot`` executable can be found on PATH."""
    return shutil.which("dot") is not None


class GraphvizNotFoundError(ChainruleError, graphviz.ExecutableNotFound):
    """Rendering was asked for, but Graphviz's ``dot`` is not installed.

    It is a ``graphviz.ExecutableNotFound`` too, so code written for the
    graphviz package catches it as before."""

    def __init__(self, message: str = INSTALL_HELP):
        RuntimeError.__init__(self, message)


def require_dot():
    if not dot_available():
        raise GraphvizNotFoundError()


class IRDrawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` of a program.

    ``.source`` is its DOT text (no Graphviz needed); ``.svg()`` renders it;
    ``.pipe(format=...)`` and ``.render(...)`` work as in the graphviz
    package.  As the last expression of a Jupyter cell it shows as SVG, or,
    without ``dot``, as a message saying how to install Graphviz followed by
    the DOT source.
    """

    def pipe(self, *args, **kwargs):
        require_dot()
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound:
            raise GraphvizNotFoundError() from None

    def render(self, *args, **kwargs):
        require_dot()
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound:
            raise GraphvizNotFoundError() from None

    def svg(self) -> str:
        """The rendered SVG text (raises ``GraphvizNotFoundError`` without ``dot``)."""
        return self.pipe(format="svg", encoding="utf-8")

    def save(self, path: str) -> str:
        """Render to ``path``; the format is its extension (``.svg``, ``.png``,
        ``.pdf``; ``.dot``/``.gv`` writes the DOT source, no Graphviz needed)."""
        fmt = path.rsplit(".", 1)[-1].lower() if "." in path else ""
        if fmt in ("dot", "gv"):
            data = self.source.encode()
        elif fmt:
            data = self.pipe(format=fmt)
        else:
            raise ValueError(f"IRDrawing.save: {path!r} has no extension to choose a format by")
        with open(path, "wb") as file:
            file.write(data)
        return path

    def _repr_svg_(self):
        return self.svg() if dot_available() else None

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        if not dot_available():
            return {"text/plain": INSTALL_HELP + "\n\nDOT source:\n" + self.source}
        return super()._repr_mimebundle_(include, exclude, **kwargs)

    def __repr__(self):
        return ("<IRDrawing (a graphviz.Digraph); .source is its DOT text, .svg() renders "
                "it, Jupyter shows it>")


# -- labels --------------------------------------------------------------------
def _check_rankdir(rankdir):
    try:
        return _RANKDIRS[rankdir]
    except (KeyError, TypeError):
        raise ValueError(f"draw: rankdir must be one of 'TB' (top to bottom), 'LR' (left to "
                         f"right), 'BT' or 'RL', got {rankdir!r}") from None


def format_value(x, max_elements: int = 8) -> str | None:
    """A short text for a value: arrays of at most ``max_elements`` elements
    in full (4 significant digits), larger ones as their range.  None for a
    value that is not a concrete array (a tracer, when drawing inside a trace)."""
    if not isinstance(x, (np.ndarray, np.generic, bool, int, float, complex)):
        return None
    a = np.asarray(x)
    if a.size <= max_elements:
        return np.array2string(a, max_line_width=48, formatter={"float_kind": _float_text})
    if a.dtype == np.bool_:
        return f"{int(a.sum())} of {a.size} true"
    lo, hi = a.min(), a.max()
    if np.issubdtype(a.dtype, np.floating):
        return f"range [{lo:.4g}, {hi:.4g}]"
    return f"range [{lo}, {hi}]"


def _float_text(z) -> str:
    """4 significant digits; a whole number keeps its ``.0`` so it reads as a float."""
    text = f"{z:.4g}"
    return text + ".0" if text.lstrip("-").isdigit() else text


def _html_text(text) -> str:
    """``text`` as it stands in a Graphviz HTML-like label: on one line
    (``one_line``), its markup characters escaped, and each backslash
    doubled (dot replaces ``\\N``, ``\\G``, ``\\E`` ... by object names and
    ``\\\\`` by one backslash even there)."""
    return html.escape(one_line(text)).replace("\\", "\\\\")


def _html_label(text: str) -> str:
    """``text`` as a Graphviz HTML-like label of one line: escaped, so the
    DOT text never holds it as a string (whose backslashes and quotes DOT
    would read)."""
    return f"<{_html_text(text)}>"


def _html_lines(text: str) -> str:
    return '<BR ALIGN="LEFT"/>'.join(_html_text(line) for line in text.split("\n"))


def _row(content: str, size=None, face=None) -> str:
    attrs = "".join(f' {k}="{v}"' for k, v in (("POINT-SIZE", size), ("FACE", face)) if v)
    if attrs:
        content = f"<FONT{attrs}>{content}</FONT>"
    return f'<TR><TD ALIGN="LEFT" BALIGN="LEFT">{content}</TD></TR>'


def _var_label(name, aval, roles, value_text, cotangent_text) -> str:
    rows = [_row(f"<B>{_html_text(name)}</B>: {_html_text(aval.str_short())}")]
    if roles:
        rows.append(_row(f"<I>{_html_text(', '.join(roles))}</I>", size=10))
    if value_text is not None:
        rows.append(_row(_html_lines("v = " + _indent_after_first(value_text, 4)), 10, "Courier"))
    if cotangent_text is not None:
        rows.append(_row(_html_lines("g = " + _indent_after_first(cotangent_text, 4)), 10,
                         "Courier"))
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">' + \
        "".join(rows) + "</TABLE>>"


def _indent_after_first(text, n):
    return text.replace("\n", "\n" + " " * n)


def _is_body(value) -> bool:
    return isinstance(value, (IR, ClosedIR))


def _bodies(params):
    """``(label, IR)`` for each body held in ``params`` (an IR, a ClosedIR, or
    a tuple/list of them), in the printer's (sorted) order."""
    found = []
    for key in sorted(params):
        value = params[key]
        if _is_body(value):
            found.append((one_line(key), value))
        elif isinstance(value, (tuple, list)) and any(_is_body(v) for v in value):
            found.extend((f"{one_line(key)}[{i}]", v) for i, v in enumerate(value) if _is_body(v))
    return found


def _param_text(key, value, limit=60) -> str:
    if _is_body(value):
        text = "(drawn beside)"
    elif isinstance(value, (tuple, list)) and any(_is_body(v) for v in value):
        text = f"({len(value)} bodies, drawn beside)"
    elif isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        text = short_dtype(value)
    elif callable(value) and hasattr(value, "__name__"):
        text = one_line(value.__name__)
    else:
        text = one_line(repr(value))
    text = f"{one_line(key)}={text}"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _eqn_label(eqn) -> str:
    rows = [_row(f"<B>{_html_text(eqn.primitive.name)}</B>")]
    rows += [_row(_html_text(_param_text(k, eqn.params[k])), size=9)
             for k in sorted(eqn.params)]
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">' + \
        "".join(rows) + "</TABLE>>"


def _literal_text(lit) -> str:
    return f"{one_line(lit.value)}:{lit.aval.str_short()}"


# -- the interpreter -------------------------------------------------------------
class _Builder:
    """Adds the nodes and edges of one block (an IR) to a graph; the bodies
    its equations hold are returned for the caller's work list."""

    def __init__(self, values, cotangents, max_elements):
        self.values = values or {}
        self.cotangents = cotangents or {}
        self.max_elements = max_elements
        self.count = 0

    def new_id(self, kind):
        self.count += 1
        return f"{kind}{self.count}"

    def var_node(self, graph, v, name, roles, fill, output=False):
        node = self.new_id("v")
        value = self.values.get(v)
        ct = self.cotangents.get(v)
        label = _var_label(name, v.aval, roles,
                           None if value is None else format_value(value, self.max_elements),
                           None if ct is None else format_value(ct, self.max_elements))
        attrs = {"shape": "box", "style": "rounded,filled", "fillcolor": fill}
        if output:
            attrs["peripheries"] = "2"
        graph.node(node, label, **attrs)
        return node

    def literal_node(self, graph, lit, roles=()):
        node = self.new_id("l")
        text = _html_text(_literal_text(lit))
        if roles:
            text += f'<BR/><FONT POINT-SIZE="10"><I>{_html_text(", ".join(roles))}</I></FONT>'
        graph.node(node, f"<{text}>", shape="plaintext", fontsize="10")
        return node

    def block(self, graph, ir, names, consts=None):
        """Draw ``ir`` into ``graph``; return ``(first node, [(label, eqn
        node, body)])`` for the bodies its equations hold."""
        if consts is not None and len(consts) == len(ir.constvars):
            # a ClosedIR knows its consts' values (captured arrays, residuals)
            known = {v: c for v, c in zip(ir.constvars, consts) if v not in self.values}
            self.values = {**self.values, **known} if known else self.values
        out_roles = {}
        for k, x in enumerate(ir.outvars):
            if type(x) is Var:
                out_roles.setdefault(x, []).append(
                    "output" if len(ir.outvars) == 1 else f"output {k}")
        env = {}
        first = None

        def define(v, roles, fill):
            nonlocal first
            roles = roles + out_roles.get(v, [])
            env[v] = self.var_node(graph, v, names.get(v, "_"), roles, fill, v in out_roles)
            first = first or env[v]

        for v in ir.constvars:
            define(v, ["const"], _CONST_COLOR)
        for k, v in enumerate(ir.invars):
            define(v, ["input" if len(ir.invars) == 1 else f"input {k}"], _INPUT_COLOR)
        nested = []
        for eqn in ir.eqns:
            node = self.new_id("e")
            graph.node(node, _eqn_label(eqn), shape="ellipse", style="filled",
                       fillcolor=_EQN_COLOR)
            first = first or node
            numbered = len(eqn.inputs) > 1 and eqn.primitive.name not in _COMMUTATIVE
            for i, x in enumerate(eqn.inputs):
                source = self.literal_node(graph, x) if type(x) is Literal else env.get(x)
                if source is None:  # a var defined nowhere in this block: IR.check rejects it
                    source = self.var_node(graph, x, "<unbound>", [], _VAR_COLOR)
                graph.edge(source, node, label=str(i) if numbered else None)
            for k, v in enumerate(eqn.outvars):
                define(v, [], _VAR_COLOR)
                graph.edge(node, env[v], label=str(k) if len(eqn.outvars) > 1 else None)
            for label, body in _bodies(eqn.params):
                nested.append((one_line(eqn.primitive.name), label, node, body))
        for k, x in enumerate(ir.outvars):
            if type(x) is Literal:
                n = self.literal_node(graph, x, ["output" if len(ir.outvars) == 1
                                                 else f"output {k}"])
                first = first or n
        if first is None:  # an empty block: keep the cluster visible
            first = self.new_id("p")
            graph.node(first, "", shape="point")
        return first, nested


def draw_programs(programs, *, values=None, cotangents=None, rankdir="TB", max_elements=8,
                  title=None) -> IRDrawing:
    """Draw several programs in one picture: ``programs`` is a list of
    ``(title, program)`` with ``program`` an ``IR`` or ``ClosedIR``.  With one
    untitled program it is drawn at the top level; otherwise each is a
    cluster of its own, side by side (``rankdir="TB"``) or stacked
    (``"LR"``).  ``values`` and ``cotangents`` map ``Var`` to arrays; see
    ``draw_ir``."""
    rankdir = _check_rankdir(rankdir)
    drawing = IRDrawing("ir", graph_attr={"rankdir": rankdir, "compound": "true",
                                          "fontname": "Helvetica", "nodesep": "0.25",
                                          "ranksep": "0.3"},
                        node_attr={"fontname": "Helvetica", "fontsize": "12",
                                   "margin": "0.06,0.03"},
                        edge_attr={"fontname": "Helvetica", "fontsize": "9",
                                   "arrowsize": "0.7"})
    if title:
        drawing.attr(label=title, labelloc="t", fontsize="14")
    builder = _Builder(values, cotangents, max_elements)
    clusters = []  # (depth, parent graph, cluster graph), in order of creation
    work = deque()  # blocks still to draw: (graph, depth, IR, names, consts, link)
    for k, (program_title, program) in enumerate(programs):
        names = var_names(program)
        ir = program.ir if isinstance(program, ClosedIR) else program
        consts = program.consts if isinstance(program, ClosedIR) else None
        if program_title is None and len(programs) == 1:
            graph = drawing
        else:
            graph = graphviz.Digraph(name=f"cluster_program{k}",
                                     graph_attr={"label": program_title or f"program {k}",
                                                 "labelloc": "t", "fontsize": "13",
                                                 "style": "rounded", "color": "#9ca3af"})
            clusters.append((1, drawing, graph))
        work.append((graph, 1, ir, names, consts, None))
    # a work list, not recursion: each body found is drawn after its block
    while work:
        graph, depth, ir, names, consts, link = work.popleft()
        first, nested = builder.block(graph, ir, names, consts)
        if link is not None:
            parent, cluster_name, eqn_node, label = link
            parent.edge(eqn_node, first, lhead=cluster_name, style="dashed",
                        label=_html_label(label), color="#6b7280", arrowhead="odot")
        for prim_name, label, eqn_node, body in nested:
            name = builder.new_id("cluster_")
            cluster = graphviz.Digraph(name=name, graph_attr={
                "label": _html_label(f"{prim_name}: {label}"), "labelloc": "t",
                "fontsize": "11", "style": "rounded,dashed", "color": "#6b7280"})
            clusters.append((depth + 1, graph, cluster))
            body_ir = body.ir if isinstance(body, ClosedIR) else body
            body_consts = body.consts if isinstance(body, ClosedIR) else None
            work.append((cluster, depth + 1, body_ir, names, body_consts,
                         (graph, name, eqn_node, label)))
    # a cluster's text is copied into its parent when attached, so attach the
    # deepest first; siblings in order of creation (the order of the text)
    for _, parent, cluster in sorted(clusters, key=lambda c: -c[0]):
        parent.subgraph(cluster)
    return drawing


def draw_ir(program, *, values=None, cotangents=None, rankdir="TB", max_elements=8,
            title=None) -> IRDrawing:
    """Draw one program (``IR`` or ``ClosedIR``) as an ``IRDrawing``.

    ``values`` / ``cotangents``: optional ``{Var: array}`` maps (from an
    evaluation, see ``ClosedIR.draw`` and ``cr.draw``); each variable found
    in them gets a ``v = ...`` / ``g = ...`` row, in full when it has at most
    ``max_elements`` elements, else as its range.  The const vars of a
    ``ClosedIR`` show their values anyway.  ``rankdir``: ``"TB"`` (top to
    bottom, the default, like the text) or ``"LR"`` (left to right).
    """
    return draw_programs([(None, program)], values=values, cotangents=cotangents,
                         rankdir=rankdir, max_elements=max_elements, title=title)


# -- Jupyter display of a ClosedIR --------------------------------------------------
def _inline_svg(svg: str) -> str:
    """SVG text without its XML prologue, to embed in HTML."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def closed_ir_svg(closed) -> str | None:
    """The drawing of ``closed`` as SVG, or None when ``dot`` is missing."""
    if not dot_available():
        return None
    return draw_ir(closed).svg()


def closed_ir_html(closed, svg=None) -> str:
    """The program's text, with its drawing beside it when the program is
    small (at most ``AUTO_DRAW_MAX_EQUATIONS`` equations) and ``dot`` exists."""
    text = html.escape(closed.pretty())
    if svg is None and len(closed.ir.eqns) <= AUTO_DRAW_MAX_EQUATIONS:
        svg = closed_ir_svg(closed)
    if svg is None or len(closed.ir.eqns) > AUTO_DRAW_MAX_EQUATIONS:
        return f"<pre>{text}</pre>"
    return ('<table><tr><td style="vertical-align:top; text-align:left">'
            f"<pre>{text}</pre></td>"
            f'<td style="vertical-align:top">{_inline_svg(svg)}</td></tr></table>')


def closed_ir_mimebundle(closed) -> dict:
    """What Jupyter shows for a ``ClosedIR``: HTML (text and, for a small
    program, its drawing), SVG, and Markdown; ``dot`` runs once."""
    small = len(closed.ir.eqns) <= AUTO_DRAW_MAX_EQUATIONS
    svg = closed_ir_svg(closed) if small else None
    bundle = {"text/html": closed_ir_html(closed, svg),
              "text/markdown": closed._repr_markdown_(),
              "text/plain": repr(closed)}
    if svg is not None:
        bundle["image/svg+xml"] = svg
    return bundle
