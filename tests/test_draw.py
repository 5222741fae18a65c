"""Drawings of IRs (chainrule/interpreters/draw.py) and the views built on
them (cr.draw, cr.ad_stages, Jupyter display of a ClosedIR).

The SVG tests render with Graphviz's ``dot`` and read the SVG back: node
labels, edges and clusters are compared with what the IR itself says (its
equations, and the printer's text for the names), not with a stored picture.
They are skipped only when ``dot`` is genuinely missing; the fallback tests
(no ``dot``) always run, by emptying PATH.
"""
import math
import re
import shutil
import xml.etree.ElementTree as ET
from collections import Counter

import graphviz
import numpy as np
import pytest

import chainrule as cr
from chainrule.interpreters import draw as draw_module
from chainrule.interpreters.evaluate import eval_ir
from chainrule.tracer.core import Primitive
from chainrule.tracer.ir import Literal, Var
from chainrule.transforms.views import variable_cotangents

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed")

SVG = "{http://www.w3.org/2000/svg}"


# -- reading an SVG drawn by dot ------------------------------------------------------
class Picture:
    """Nodes (title -> texts), edges (tail, head, label texts) and clusters
    (title -> (label texts, bounding box)) of a dot SVG."""

    def __init__(self, svg: str):
        root = ET.fromstring(svg.encode())
        self.nodes, self.edges, self.clusters = {}, [], {}
        for g in root.iter(SVG + "g"):
            kind = g.get("class")
            if kind not in ("node", "edge", "cluster"):
                continue
            title = g.find(SVG + "title").text
            texts = [t.text.replace("\xa0", " ") for t in g.iter(SVG + "text") if t.text]
            if kind == "node":
                self.nodes[title] = texts
            elif kind == "edge":
                tail, head = title.split("->")
                self.edges.append((tail, head, texts))
            else:
                self.clusters[title] = (texts, _bbox(g))

    def label(self, node_id) -> str:
        """A node's name (first text): a variable's name, a primitive, a literal."""
        return self.nodes[node_id][0]

    def var_nodes(self):
        """name -> texts for nodes whose second text is ``: dtype[shape]``."""
        out = {}
        for texts in self.nodes.values():
            if len(texts) > 1 and texts[1].startswith(": "):
                out.setdefault(texts[0], []).append(texts)
        return out


def _bbox(g):
    numbers = []
    for shape in list(g.iter(SVG + "path")) + list(g.iter(SVG + "polygon")):
        data = shape.get("d") or shape.get("points")
        numbers += [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", data)]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def _inside(inner, outer):
    return (outer[0] <= inner[0] and outer[1] <= inner[1]
            and inner[2] <= outer[2] and inner[3] <= outer[3])


def binders(text):
    """``(name, dtype[shape])`` of every binder in the printer's text."""
    return Counter(re.findall(r"(?<![\w.])([a-z]+|_):(\w+\[[\d,]*\])", text))


def numbers_after(texts, prefix):
    """The numbers of the ``prefix`` rows (``v = `` or ``g = ``), multi-line arrays joined."""
    rows, on = [], False
    for t in texts:
        if t.startswith(("v = ", "g = ")):
            on = t.startswith(prefix)
        if on:
            rows.append(t[len(prefix):] if t.startswith(prefix) else t)
    return [float(x) for x in re.findall(r"-?\d+\.?\d*(?:e-?\d+)?", " ".join(rows))]


def expected_edges(ir, names):
    """The data-flow edges of one block, as (tail label, head label)."""
    out = Counter()
    for eqn in ir.eqns:
        for x in eqn.inputs:
            tail = f"{x.value}:{x.aval.str_short()}" if type(x) is Literal else names[x]
            out[(tail, eqn.primitive.name)] += 1
        for v in eqn.outvars:
            out[(eqn.primitive.name, names.get(v, "_"))] += 1
    return out


def node_count(ir):
    """Variables, equations and literal operands/outputs of one block."""
    n = len(ir.constvars) + len(ir.invars) + len(ir.eqns)
    for eqn in ir.eqns:
        n += len(eqn.outvars) + sum(type(x) is Literal for x in eqn.inputs)
    return n + sum(type(x) is Literal for x in ir.outvars)


# -- the lecture example: values and gradients -------------------------------------------
def lecture_f(x, y):
    a = np.log(x)
    b = y * a
    return b + np.sqrt(b)


@needs_dot
def test_lecture_example_nodes_edges_values_and_gradients():
    closed = cr.make_ir(lecture_f)(2.0, 3.0)
    ir = closed.ir
    pic = Picture(cr.draw(lecture_f, 2.0, 3.0, grad=True).svg())

    # one node per variable, equation and literal; one edge per operand and result
    assert len(pic.nodes) == node_count(ir)
    assert len(pic.edges) == sum(len(e.inputs) + len(e.outvars) for e in ir.eqns)
    # names and types as the printer writes them
    drawn = Counter((texts[0], texts[1][2:]) for texts in pic.nodes.values()
                    if len(texts) > 1 and texts[1].startswith(": "))
    assert drawn == binders(str(closed))
    # edges follow the equations
    names = cr.tracer.printer.var_names(closed)
    got = Counter((pic.label(t), pic.label(h)) for t, h, _ in pic.edges)
    assert got == expected_edges(ir, names)
    assert sorted(pic.label(n) for n in pic.nodes if n.startswith("e")) == \
        sorted(e.primitive.name for e in ir.eqns)

    # values and cotangents, against the hand derivation of LECTURES.md
    x, y = 2.0, 3.0
    a = math.log(x)
    b = y * a
    c = math.sqrt(b)
    df_db = 1 + 1 / (2 * math.sqrt(b))
    expected = {  # name in the text -> (value, d output / d variable)
        "a": (x, df_db * y / x), "b": (y, df_db * a), "c": (a, df_db * y),
        "d": (b, df_db), "e": (c, 1.0), "f": (b + c, 1.0)}
    nodes = pic.var_nodes()
    for name, (value, ct) in expected.items():
        (texts,) = nodes[name]
        assert numbers_after(texts, "v = ") == pytest.approx([value], rel=1e-3), texts
        assert numbers_after(texts, "g = ") == pytest.approx([ct], rel=1e-3), texts
    # inputs and the output are marked
    assert "input 0" in nodes["a"][0] and "input 1" in nodes["b"][0]
    assert "output" in nodes["f"][0]
    gx, gy = cr.grad(lecture_f, argnums=(0, 1))(x, y)
    assert numbers_after(nodes["a"][0], "g = ")[0] == pytest.approx(gx, rel=1e-3)
    assert numbers_after(nodes["b"][0], "g = ")[0] == pytest.approx(gy, rel=1e-3)


@needs_dot
def test_matrix_program_params_operand_order_and_large_values():
    def f(x, w):
        return np.tanh(x @ w).sum()

    x = np.arange(6.0).reshape(2, 3) / 10
    w = np.arange(12.0).reshape(3, 4) / 10 - 0.5
    closed = cr.make_ir(f)(x, w)
    pic = Picture(closed.draw(x, w, grad=True, rankdir="LR").svg())
    assert len(pic.nodes) == node_count(closed.ir)
    assert len(pic.edges) == sum(len(e.inputs) + len(e.outvars) for e in closed.ir.eqns)

    dot_node = next(n for n, texts in pic.nodes.items() if texts[0] == "dot_general")
    assert any(t.startswith("dimension_numbers=") for t in pic.nodes[dot_node])
    # dot_general's operands are numbered, in the order of the text
    into_dot = sorted((pic.label(t), texts) for t, h, texts in pic.edges if h == dot_node)
    assert into_dot == [("a", ["0"]), ("b", ["1"])]
    reduce_node = next(n for n, texts in pic.nodes.items() if texts[0] == "reduce_sum")
    assert "axes=(0, 1)" in pic.nodes[reduce_node]

    nodes = pic.var_nodes()
    # x has 6 elements: shown in full; w has 12 (> 8): shown by its range
    assert numbers_after(nodes["a"][0], "v = ") == pytest.approx(x.ravel().tolist())
    assert any(t == f"v = range [{w.min():.4g}, {w.max():.4g}]" for t in nodes["b"][0])
    # the cotangent of x is the gradient: (1 - tanh^2(x w)) w^T
    gx = (1 - np.tanh(x @ w) ** 2) @ w.T
    assert numbers_after(nodes["a"][0], "g = ") == pytest.approx(gx.ravel().tolist(), rel=1e-3)


# -- nested bodies -----------------------------------------------------------------------
call_p = Primitive("call")
call_p.impl = lambda *args, body: eval_ir(body, [], list(args))[0]
call_p.shape_rule = lambda *avals, body: body.out_avals[0]
switch_p = Primitive("switch")
switch_p.impl = lambda i, x, *, branches: eval_ir(branches[int(i)], [], [x])[0]
switch_p.shape_rule = lambda i, x, *, branches: branches[0].out_avals[0]


def nested_program():
    """switch with two branches, the first of which calls a third body."""
    inner = cr.make_ir(lambda y: np.cos(y) * 3.0)(1.0).ir
    b0 = cr.make_ir(lambda y: call_p.bind(y, body=inner) + 1.0)(1.0).ir
    b1 = cr.make_ir(lambda y: y * 3.0)(1.0).ir
    closed = cr.make_ir(lambda i, x: switch_p.bind(i, np.sin(x), branches=(b0, b1)) / x)(0, 1.0)
    closed.check()
    return closed, (inner, b0, b1)


@needs_dot
def test_nested_bodies_are_clusters_named_like_the_text():
    closed, (inner, b0, b1) = nested_program()
    blocks = [closed.ir, b0, b1, inner]
    pic = Picture(closed.draw().svg())

    assert len(pic.nodes) == sum(node_count(ir) for ir in blocks)
    data_edges = sum(len(e.inputs) + len(e.outvars) for ir in blocks for e in ir.eqns)
    assert len(pic.edges) == data_edges + 3  # one dashed link per body
    # variable names across all blocks agree with the printer's, unique across blocks
    drawn = Counter((texts[0], texts[1][2:]) for texts in pic.nodes.values()
                    if len(texts) > 1 and texts[1].startswith(": "))
    assert drawn == binders(str(closed))
    assert all(n == 1 for n in drawn.values())
    names = cr.tracer.printer.var_names(closed)
    expected = sum((expected_edges(ir, names) for ir in blocks), Counter())
    got = Counter((pic.label(t), pic.label(h)) for t, h, texts in pic.edges
                  if not (texts and texts[0] in ("branches[0]", "branches[1]", "body")))
    assert got == expected

    # three clusters, labelled by the equation and param holding them
    labels = {texts[0]: box for texts, box in pic.clusters.values()}
    assert set(labels) == {"switch: branches[0]", "switch: branches[1]", "call: body"}
    # the call's body is drawn inside the first branch, the second branch is not
    assert _inside(labels["call: body"], labels["switch: branches[0]"])
    assert not _inside(labels["switch: branches[1]"], labels["switch: branches[0]"])
    # the dashed links start at the equation holding the body
    links = {texts[0]: pic.label(t) for t, h, texts in pic.edges
             if texts and texts[0] in ("branches[0]", "branches[1]", "body")}
    assert links == {"branches[0]": "switch", "branches[1]": "switch", "body": "call"}
    # each body's input is marked; outputs of each block are marked
    nodes = pic.var_nodes()
    for ir in blocks:
        (texts,) = nodes[names[ir.invars[-1]]]
        assert any(t.startswith("input") for t in texts)
        (texts,) = nodes[names[ir.outvars[0]]]
        assert "output" in texts


def test_drawing_a_long_program_needs_no_recursion(shallow_stack):
    def f(x):
        for _ in range(3000):
            x = x * 1.5
        return x

    closed = cr.make_ir(f)(1.0)
    shallow_stack()
    source = closed.draw(rankdir="LR").source
    assert source.count(" -> ") == 3000 * 3  # operand, literal and result edges


# -- the four programs of reverse mode ----------------------------------------------------
def test_ad_stages_text_html_and_meaning():
    stages = cr.ad_stages(lecture_f, 2.0, 3.0)
    program, jvp_program, linear, transposed = stages
    assert str(program) == str(cr.make_ir(lecture_f)(2.0, 3.0))
    text = str(stages)
    for k, closed in enumerate(stages):
        assert closed.pretty() in text
        assert f"{k + 1}. " in text
    assert text.index("1. program") < text.index("2. jvp") < text.index("3. linearized") \
        < text.index("4. transposed")
    assert len(repr(stages).splitlines()) == 1

    # the programs mean what they say: JVP = forward mode, transpose = vjp
    x, y, tx, ty = 2.0, 3.0, 0.3, -0.7
    out, tangent = cr.jvp(lecture_f, (x, y), (tx, ty))
    assert jvp_program.eval(x, y, tx, ty) == pytest.approx([out, tangent])
    assert linear.eval(tx, ty) == pytest.approx([tangent])
    assert transposed.eval(1.0) == pytest.approx(list(cr.grad(lecture_f, argnums=(0, 1))(x, y)))
    # the transposed program holds only linear work: no log or sqrt is recomputed
    assert {e.primitive.name for e in transposed.eqns} <= {"mul", "div", "add", "neg"}

    page = stages._repr_html_()
    assert page.count("<pre>") == 4 and page.count("<td") == 4
    for closed in stages:
        assert closed.pretty().replace(">", "&gt;") in page


@needs_dot
def test_ad_stages_drawing_has_one_cluster_per_program():
    stages = cr.ad_stages(lecture_f, 2.0, 3.0)
    pic = Picture(stages.draw().svg())
    titles = sorted(texts[0] for texts, _ in pic.clusters.values())
    assert titles == ["1. program", "2. jvp", "3. linearized", "4. transposed"]
    assert len(pic.nodes) == sum(node_count(c.ir) for c in stages)
    assert len(pic.edges) == sum(len(e.inputs) + len(e.outvars) for c in stages for e in c.eqns)
    assert stages._repr_html_().count("<svg") == 0
    drawn = cr.ad_stages(lecture_f, 2.0, 3.0, drawings=True)._repr_html_()
    assert drawn.count("<svg") == 4


# -- intermediate cotangents ----------------------------------------------------------------
def test_cotangents_of_intermediates_are_those_of_reverse_mode():
    w = np.array([[1.0, -2.0], [0.5, 0.25]])

    def f(x):
        h = x @ w          # c
        s = np.tanh(h)     # d
        return (s * s).sum() + s[0]   # fan-out of s

    x = np.array([0.3, -0.1])
    closed = cr.make_ir(f)(x)
    cts = variable_cotangents(closed.ir, closed.consts, [x])
    names = {v: n for n, v in ((n, v) for v, n in cr.tracer.printer.var_names(closed).items())}
    by_name = {names[v]: ct for v, ct in cts.items() if v in names}
    s = np.tanh(x @ w)
    g_s = 2 * s + np.array([1.0, 0.0])
    g_h = g_s * (1 - s ** 2)
    np.testing.assert_allclose(by_name[names[closed.ir.invars[0]]], cr.grad(f)(x))
    np.testing.assert_allclose(by_name[names[closed.ir.invars[0]]], g_h @ w.T)
    tanh_out = next(e.outvars[0] for e in closed.eqns if e.primitive.name == "tanh")
    dot_out = next(e.outvars[0] for e in closed.eqns if e.primitive.name == "dot_general")
    np.testing.assert_allclose(cts[tanh_out], g_s)
    np.testing.assert_allclose(cts[dot_out], g_h)
    # the output's own cotangent is 1
    assert cts[closed.ir.outvars[0]] == 1.0


def test_cotangents_of_a_vector_output_are_those_of_its_sum():
    x = np.array([1.0, 2.0, 3.0])
    closed = cr.make_ir(lambda x: np.sin(x) * x)(x)
    cts = variable_cotangents(closed.ir, closed.consts, [x])
    np.testing.assert_allclose(cts[closed.ir.invars[0]], np.cos(x) * x + np.sin(x))
    np.testing.assert_allclose(cts[closed.ir.outvars[0]], np.ones(3))
    source = closed.draw(x, grad=True).source
    assert "g = d(sum of the outputs) / d(variable)" in source


def test_draw_errors_are_clear():
    closed = cr.make_ir(lecture_f)(2.0, 3.0)
    with pytest.raises(TypeError, match="needs the point"):
        closed.draw(grad=True)
    with pytest.raises(ValueError, match="rankdir"):
        closed.draw(rankdir="sideways")
    with pytest.raises(TypeError, match="floating-point output"):
        cr.draw(lambda i: i * 2, 3, grad=True)
    with pytest.raises(cr.ShapeError, match="traced for tuple\\(\\*, \\*\\)"):
        closed.draw(2.0)


def test_source_marks_direction_inputs_outputs_and_consts():
    k = np.array([1.0, 2.0])
    closed = cr.make_ir(lambda x: x * k)(np.ones(2))
    assert "rankdir=TB" in closed.draw().source
    assert "rankdir=LR" in closed.draw(rankdir="LR").source
    source = closed.draw().source
    # the captured array is a const, drawn with its value
    assert "<I>const</I>" in source and "v = [1.0 2.0]" in source
    assert "<I>input</I>" in source and "<I>output</I>" in source
    assert source.count("peripheries=2") == 1


def test_unread_outputs_are_drawn_as_underscore():
    closed = cr.make_ir(cr.grad(lecture_f))(2.0, 3.0)
    assert "_:f64[]" in str(closed)
    assert "<B>_</B>: f64[]" in closed.draw().source


# -- Jupyter display ----------------------------------------------------------------------
@needs_dot
def test_closed_ir_displays_text_and_picture():
    closed = cr.make_ir(lecture_f)(2.0, 3.0)
    assert len(repr(closed).splitlines()) == 1
    bundle = closed._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/markdown", "text/plain", "image/svg+xml"}
    assert bundle["text/markdown"] == closed._repr_markdown_()
    assert "<pre>" + str(closed) + "</pre>" in bundle["text/html"]
    assert "<svg" in bundle["text/html"] and bundle["image/svg+xml"] == closed._repr_svg_()
    assert len(Picture(closed._repr_svg_()).nodes) == node_count(closed.ir)
    drawing = closed.draw()
    assert isinstance(drawing, graphviz.Digraph) and isinstance(drawing, cr.IRDrawing)
    assert set(drawing._repr_mimebundle_()) == {"image/svg+xml"}
    assert len(repr(drawing).splitlines()) == 1


def test_a_long_program_displays_as_text_only():
    def f(x):
        for _ in range(draw_module.AUTO_DRAW_MAX_EQUATIONS + 1):
            x = np.sin(x)
        return x

    closed = cr.make_ir(f)(1.0)
    bundle = closed._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    assert bundle["text/html"] == "<pre>" + str(closed) + "</pre>"


# -- without Graphviz's dot ------------------------------------------------------------------
@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no dot anywhere
    assert shutil.which("dot") is None


def test_without_dot_the_source_is_built_and_rendering_explains(no_dot, tmp_path):
    closed = cr.make_ir(lecture_f)(2.0, 3.0)
    drawing = cr.draw(lecture_f, 2.0, 3.0, grad=True)
    assert drawing.source.startswith("digraph")
    assert drawing.source.count(" -> ") == sum(len(e.inputs) + len(e.outvars)
                                                for e in closed.eqns)
    for render in (drawing.svg, lambda: drawing.pipe(format="png"),
                   lambda: drawing.render(str(tmp_path / "x"), format="svg"),
                   lambda: drawing.save(str(tmp_path / "x.svg"))):
        with pytest.raises(cr.GraphvizNotFoundError) as info:
            render()
        message = str(info.value)
        assert "apt-get install graphviz" in message and "brew install graphviz" in message
        assert ".source" in message
        assert isinstance(info.value, graphviz.ExecutableNotFound)
    # DOT text needs no Graphviz
    assert open(drawing.save(str(tmp_path / "x.dot"))).read() == drawing.source

    # Jupyter: the message and the DOT source instead of a traceback
    bundle = drawing._repr_mimebundle_()
    assert set(bundle) == {"text/plain"}
    assert "apt-get install graphviz" in bundle["text/plain"]
    assert bundle["text/plain"].endswith(drawing.source)
    assert drawing._repr_svg_() is None
    # a ClosedIR shows its text
    assert closed._repr_svg_() is None
    assert closed._repr_html_() == "<pre>" + str(closed) + "</pre>"
    assert "image/svg+xml" not in closed._repr_mimebundle_()
    stages = cr.ad_stages(lecture_f, 2.0, 3.0, drawings=True)
    assert "<svg" not in stages._repr_html_() and stages._repr_html_().count("<pre>") == 4


def test_graphviz_failing_to_run_dot_gives_the_same_message(no_dot, monkeypatch):
    # dot looked present, but the graphviz package cannot start it
    monkeypatch.setattr(draw_module, "dot_available", lambda: True)
    drawing = cr.make_ir(lecture_f)(2.0, 3.0).draw()
    with pytest.raises(cr.GraphvizNotFoundError, match="brew install graphviz"):
        drawing.svg()


def test_var_names_are_the_printers():
    closed, _ = nested_program()
    names = cr.tracer.printer.var_names(closed)
    assert all(type(v) is Var for v in names)
    assert Counter((n, v.aval.str_short()) for v, n in names.items()) == \
        binders(str(closed)) - Counter({k: c for k, c in binders(str(closed)).items()
                                        if k[0] == "_"})
