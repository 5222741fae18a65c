"""Text is data: a name, string or parameter the user chose cannot forge
lines of the IR text or of an error message, nor markup in a drawing or in
the Jupyter display (docs/api.md, "The IR text").

Each test attacks one channel with the same hostile strings: a newline that
writes a fake equation, the other characters ``str.splitlines`` breaks at
(carriage return, vertical tab, form feed, file/group/record separators,
NEL, the Unicode line and paragraph separators), a terminal escape, a tab, a
NUL, HTML and DOT metacharacters (``<b>``, ``&``, quotes, a trailing
backslash, dot's ``\\N``/``\\G``/``\\E`` escapes), and a Markdown fence.
Before this was done, the newline added lines to the text, the source
comment and error messages; a trailing backslash broke the DOT text (``dot``
failed with a syntax error); a control character made ``dot`` reject the
HTML label; a body's param name ``x>`` of a primitive named ``<I`` made the
cluster's label raw HTML; and dot showed ``\\N`` in a name as the node's id.
"""
import ast
import html.parser
import linecache
import re
import shutil
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import chainrule as cr
from chainrule.interpreters import draw as draw_module
from chainrule.interpreters.evaluate import eval_ir
from chainrule.tracer.printer import one_line

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed")

FORGED = "x\n    d:f64[] = sin a"
HOSTILE = [FORGED, "a\rb", "a\x0bb", "a\x0cb", "a\x1cb", "a\x1db", "a\x1eb", "a\x85b",
           "a\u2028b", "a\u2029b", "\x1b[2J", "tab\there", "nul\x00", "<b>&\"'", "back\\",
           "```", "<I", "x>", "k\"];evil[label=\"x", "dot\\N\\G\\E\\\\"]
UNPRINTABLE = [s for s in HOSTILE if not s.isprintable()]


def identity_primitive(name):
    p = cr.Primitive(name)
    p.impl = lambda x, **params: np.asarray(x) * 1.0
    p.shape_rule = lambda x, **params: x
    return p


class Multiline:
    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return f"Multiline({self.text})"


def hostile_program(s):
    """One equation whose primitive, param names, string param, object
    param (its repr) and callable param (its ``__name__``) all hold ``s``."""
    p = identity_primitive(s)

    def fn():
        pass

    fn.__name__ = s
    params = {s: 1, "string": s, "object": Multiline(s), "function": fn}
    return cr.make_ir(lambda x: p.bind(x, **params))(1.0)


def lines(text):
    """``str.splitlines`` breaks at every line boundary a reader may see."""
    return text.splitlines()


def hostile_function(filename, name, source="def f(x):\n    return np.sin(x) * x\n"):
    """``f`` compiled from ``source`` as if from ``filename`` (as
    ``compile(source, filename, "exec")`` does, NUL included), its code named
    ``name``."""
    namespace = {"np": np}
    exec(compile(source, "<hostile>", "exec"), namespace)
    f = namespace["f"]
    f.__code__ = f.__code__.replace(co_filename=filename, co_name=name)
    return f


# -- the escape itself ---------------------------------------------------------------
@pytest.mark.parametrize("s", HOSTILE)
def test_one_line_keeps_printable_text_and_quotes_the_rest(s):
    shown = one_line(s)
    assert shown.isprintable() and len(lines(shown)) == 1
    if s.isprintable():
        assert shown == s
    else:
        assert ast.literal_eval(shown) == s   # a Python string literal of it


# -- the IR text -----------------------------------------------------------------------
@pytest.mark.parametrize("s", HOSTILE)
def test_printed_ir_has_one_line_per_equation(s):
    closed = hostile_program(s)
    text = str(closed)
    assert len(lines(text)) == len(text.split("\n")) == 3   # header, the equation, footer
    assert all(line.isprintable() for line in text.split("\n"))
    eqn_line = text.split("\n")[1]
    assert eqn_line.startswith("    b:f64[] = " + one_line(s))
    for shown in (f"{one_line(s)}=1", f"string={one_line(repr(s))}",
                  f"object={one_line(repr(Multiline(s)))}", f"function={one_line(s)}"):
        assert shown in eqn_line
    # a Markdown fence cannot be closed from inside the program
    markdown = closed._repr_markdown_().split("\n")
    assert not any(line.lstrip(" ").startswith("```") and len(line) - len(line.lstrip(" ")) < 4
                   for line in markdown[1:-1])


@pytest.mark.parametrize("s", UNPRINTABLE + ["<b>&\"'"])
def test_source_comment_names_the_file_and_function_on_one_line(s):
    f = hostile_function(f"evil{s}.py", f"fn{s}")
    closed = cr.make_ir(f)(1.0)
    text = closed.pretty(source_info=True)
    assert len(lines(text)) == len(closed.eqns) + 2
    assert all(line.isprintable() for line in text.split("\n"))
    assert f"  # {one_line(f'evil{s}.py')}:2 ({one_line(f'fn{s}')})" in text


def test_literal_strings_print_on_one_line():
    p = identity_primitive("id")
    p.shape_rule = lambda x, y: x
    closed = cr.make_ir(lambda x: p.bind(x, np.str_(FORGED)))(1.0)
    assert len(lines(str(closed))) == 3
    assert one_line(FORGED) in str(closed)


# -- error messages ----------------------------------------------------------------------
@pytest.mark.parametrize("s", UNPRINTABLE)
def test_error_message_quotes_file_function_and_line_safely(s):
    filename = f"/nonexistent/evil{s}.py"
    f = hostile_function(filename, f"fn{s}", "def f(x):\n    return x + np.ones(4)\n")
    # the line of code, as the message quotes it, holds the hostile text too
    forged_line = f"    return x + np.ones(4)  # {s}\n"
    linecache.cache[filename] = (1, None, ["def f(x):\n", forged_line], filename)
    try:
        with pytest.raises(cr.ShapeError) as info:
            cr.make_ir(f)(np.ones(3))
    finally:
        linecache.cache.pop(filename, None)
    message = str(info.value)
    assert len(lines(message)) == len(message.split("\n")) == 3   # what, where, the code
    assert all(line.isprintable() for line in message.split("\n"))
    what, where, code = message.split("\n")
    assert where == f"  at {one_line(filename)}:2, in {one_line(f'fn{s}')}"
    assert code == "    " + one_line(forged_line.strip().expandtabs(4))


def test_a_note_on_numpys_error_names_the_primitive_on_one_line():
    p = cr.Primitive(FORGED)

    def impl(x):
        raise FloatingPointError("from the implementation")

    p.impl = impl
    p.shape_rule = lambda x: x
    f = hostile_function(f"evil{FORGED}.py", "f", "def f(x):\n    return p.bind(x)\n")
    f.__globals__["p"] = p
    with pytest.raises(FloatingPointError) as info:
        f(1.0)
    (note,) = [n for n in info.value.__notes__ if n.startswith("chainrule:")]
    assert len(lines(note)) == 2   # what, where (the file does not exist: no code line)
    assert note.split("\n")[0] == f"chainrule: while computing {one_line(FORGED)}"


def test_jacobian_plan_text_keeps_its_lines():
    good = cr.jacobian_plan(hostile_function("good.py", "f"))(np.ones(3))
    evil = cr.jacobian_plan(hostile_function(f"evil{FORGED}.py", f"f{FORGED}"))(np.ones(3))
    assert len(lines(str(evil))) == len(lines(str(good)))
    assert one_line(f"evil{FORGED}.py") in str(evil)


# -- drawings ------------------------------------------------------------------------------
SVG = "{http://www.w3.org/2000/svg}"


def svg_texts(svg):
    """``{kind: [texts of each g element of that class]}`` of a dot SVG (which
    must parse as XML)."""
    root = ET.fromstring(svg.encode())
    out = {}
    for g in root.iter(SVG + "g"):
        texts = [t.text.replace("\xa0", " ") for t in g.iter(SVG + "text") if t.text]
        out.setdefault(g.get("class"), []).append(texts)
    return out


def body_program(prim_name, key):
    """An equation of primitive ``prim_name`` holding a body under param ``key``."""
    body = cr.make_ir(np.sin)(1.0)
    p = cr.Primitive(prim_name)
    p.impl = lambda x, **params: eval_ir(body.ir, [], [x])[0]
    p.shape_rule = lambda x, **params: x
    return cr.make_ir(lambda x: p.bind(x, **{key: body, "tag": key}))(1.0)


def without_html_labels(line):
    """``line`` of DOT text with each HTML-like label ``<...>`` (balanced
    angle brackets) shown as ``<>``."""
    out, depth = [], 0
    for c in line:
        if c == "<":
            depth += 1
        elif c == ">" and depth:
            depth -= 1
            if depth == 0:
                out.append("<>")
        elif depth == 0:
            out.append(c)
    assert depth == 0, line
    return "".join(out)


DOT_STATEMENT = re.compile(r'\t*(digraph ir \{|\}|subgraph cluster_\d+ \{'
                           r'|(graph|node|edge|[a-z_]+\d+( -> [a-z_]+\d+)?)'
                           r'( \[(\w+=(<>|""|"[^"\\]*"|[\w.#,-]+)( |\]$))+)?)$')


def test_dot_source_has_one_statement_per_line_and_only_html_labels():
    for s in HOSTILE:
        source = body_program(s, s).draw().source
        for line in source.split("\n")[:-1]:
            assert line.lstrip("\t").isprintable()
            # outside the HTML-like labels, only the drawing's own ids and attributes
            assert DOT_STATEMENT.match(without_html_labels(line)), line


@needs_dot
@pytest.mark.parametrize("s", HOSTILE)
def test_drawing_shows_hostile_names_as_text(s):
    closed = body_program(s, s)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # graphviz warns of DOT it expects dot to reject
        svg = closed.draw().svg()
    pic = svg_texts(svg)   # parses: no control character reached the XML
    eqn_texts = [texts for texts in pic["node"] if texts and texts[0] == one_line(s)]
    assert len(eqn_texts) == 1
    assert f"tag={one_line(repr(s))}" in eqn_texts[0]
    (cluster,) = pic["cluster"]
    assert cluster == [f"{one_line(s)}: {one_line(s)}"]
    link = [texts for texts in pic["edge"] if texts]
    assert link == [[one_line(s)]]


@needs_dot
def test_drawing_of_a_markup_name_has_no_markup():
    closed = body_program("<I", "x><B>y</B")
    svg = closed.draw().svg()
    root = ET.fromstring(svg.encode())
    # an injected <B> or <I> would become a bold or italic text element
    styled = [t.text for t in root.iter(SVG + "text")
              if t.get("font-weight") == "bold" or t.get("font-style") == "italic"]
    assert "<I" in styled          # the primitive's name, bold as every primitive's
    assert not any("y" == t for t in styled)
    texts = [t.text for t in root.iter(SVG + "text")]
    assert "<I: x><B>y</B" in texts


# -- the Jupyter display --------------------------------------------------------------------
class Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.pre = [], []
        self._in_pre = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in_pre = tag == "pre"

    def handle_endtag(self, tag):
        self._in_pre = False if tag == "pre" else self._in_pre

    def handle_data(self, data):
        if self._in_pre:
            self.pre.append(data)


@pytest.mark.parametrize("svg", [None, "<svg></svg>"])
def test_jupyter_html_has_no_injected_tags(svg, monkeypatch):
    monkeypatch.setattr(draw_module, "dot_available", lambda: svg is not None)
    for name in ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", FORGED]:
        closed = hostile_program(name)
        parser = Tags()
        parser.feed(draw_module.closed_ir_html(closed, svg))
        assert set(parser.tags) <= {"table", "tr", "td", "pre", "svg"}
        assert "".join(parser.pre) == closed.pretty()
        stages_page = cr.ADStages(closed, closed, closed, closed)._repr_html_()
        parser = Tags()
        parser.feed(stages_page)
        assert set(parser.tags) <= {"table", "tr", "th", "td", "pre", "br", "small"}
