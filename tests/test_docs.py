"""Every name the documentation gives exists, and nothing it calls planned does.

The sources read: README.md, every ``docs/*.md``, every notebook in
``notebooks/`` (its markdown and code cells, not its stored outputs), and
every docstring and string literal (error messages, f-strings' constant
parts) of ``chainrule/**/*.py``.  In them, each reference ``cr.NAME`` or
``chainrule.NAME``, dotted paths included (``cr.numpy.linalg.norm``,
``chainrule.scipy.special.expit``), must resolve attribute by attribute on
the imported package; a submodule that is not imported with the package
(``chainrule.demo``) counts when it can be imported.  Only the path after
the prefix is resolved: in ``cr.make_ir(f)(x).draw()`` that is
``make_ir``, since a method of a returned object is not a name of the
package.

``cnp.NAME`` is read as ``chainrule.numpy.NAME``: that is the name the
notebooks, tests and the package's own modules give ``chainrule.numpy``.  A
source that binds ``cnp`` to something else is not checked for it.

``docs/api.md`` ends with one section headed ``## Planned``: what is designed
but not built.  Every name in backticks there must *not* exist yet (so the
page is updated when it lands), the section uses no ``cr.``/``chainrule.``
prefix, and no backticked name outside it names a planned feature.

Each source file is one test case, and a failure lists every missing name
with its file and line (or notebook cell and line).
"""
from __future__ import annotations

import ast
import importlib
import json
import pathlib
import re

import pytest

import chainrule

ROOT = pathlib.Path(__file__).resolve().parent.parent
API = ROOT / "docs" / "api.md"
PLANNED_HEADING = "## Planned"

# cr.a.b, chainrule.a.b, cnp.a.b; not preceded by a name character or a dot,
# so that "descr.x" or "np.cr.x" are not references
REFERENCE = re.compile(r"(?<![\w.])(cr|chainrule|cnp)((?:\.[A-Za-z_]\w*)+)")
# "import chainrule.numpy as cnp", "from .. import numpy as cnp", ...
CNP_BINDING = re.compile(r"(?:^|\s)(?:import\s+([\w.]+)|from\s+([\w.]+)\s+import\s+(\w+))"
                         r"\s+as\s+cnp\b")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
INLINE_CODE = re.compile(r"`([^`]+)`")   # (a span may wrap onto the next line)
LEADING_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


# -- resolving -------------------------------------------------------------------
def resolves(path):
    """Whether ``chainrule.<path[0]>.<path[1]>...`` exists, attribute by
    attribute (importing a submodule of a package when it is not an
    attribute yet)."""
    obj = chainrule
    for part in path:
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        if not hasattr(obj, "__path__"):   # not a package: no submodules
            return False
        try:
            obj = importlib.import_module(f"{obj.__name__}.{part}")
        except ImportError:
            return False
    return True


def cnp_is_chainrule_numpy(text):
    """False when ``text`` binds ``cnp`` to something other than chainrule.numpy."""
    for m in CNP_BINDING.finditer(text):
        module, source, name = m.groups()
        if module is not None and module != "chainrule.numpy":
            return False
        if source is not None and not (name == "numpy" and source.strip(".") in ("", "chainrule")):
            return False
    return True


def references(text, with_cnp=True):
    """``(line, reference, path)`` for each reference in ``text``; ``line``
    counts from 1, ``path`` is the list of names after ``chainrule``."""
    for m in REFERENCE.finditer(text):
        prefix, rest = m.group(1), m.group(2)[1:].split(".")
        if prefix == "cnp":
            if not with_cnp:
                continue
            rest = ["numpy"] + rest
        yield text.count("\n", 0, m.start()) + 1, m.group(0), rest


def missing(pieces, with_cnp=True):
    """``(where, reference)`` for each reference that does not resolve;
    ``pieces`` are ``(where(line) -> str, text)``."""
    out = []
    for where, text in pieces:
        for line, ref, path in references(text, with_cnp):
            if not resolves(path):
                out.append((where(line), ref))
    return out


# -- the sources ---------------------------------------------------------------------
def _markdown_pieces(path):
    name = path.relative_to(ROOT).as_posix()
    return [(lambda line: f"{name}:{line}", path.read_text(encoding="utf-8"))]


def _notebook_pieces(path):
    name = path.relative_to(ROOT).as_posix()
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    pieces = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] not in ("markdown", "code"):
            continue
        source = cell["source"]
        text = "".join(source) if isinstance(source, list) else source
        pieces.append((lambda line, i=i, kind=cell["cell_type"]:
                       f"{name}, cell {i} ({kind}), line {line}", text))
    return pieces


def _python_pieces(path, root=ROOT):
    """Every string constant of the module: docstrings, messages and the
    constant parts of f-strings (``ast.Constant`` nodes inside ``JoinedStr``)."""
    name = path.relative_to(root).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    pieces = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            pieces.append((lambda line, start=node.lineno: f"{name}:{start + line - 1}",
                           node.value))
    return pieces


def _sources():
    paths = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
             *sorted((ROOT / "notebooks").glob("*.ipynb")),
             *sorted((ROOT / "chainrule").rglob("*.py"))]
    return [p for p in paths if "/." not in p.relative_to(ROOT).as_posix()]


def _pieces(path):
    if path.suffix == ".md":
        return _markdown_pieces(path)
    if path.suffix == ".ipynb":
        return _notebook_pieces(path)
    return _python_pieces(path)


SOURCES = _sources()


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_named_function_exists(path):
    whole = path.read_text(encoding="utf-8")
    found = missing(_pieces(path), with_cnp=cnp_is_chainrule_numpy(whole))
    assert not found, "names that chainrule does not have:\n" + "\n".join(
        f"  {where}: {ref}" for where, ref in found)


def test_the_sources_are_there():
    names = {p.relative_to(ROOT).as_posix() for p in SOURCES}
    assert {"README.md", "docs/api.md", "chainrule/__init__.py"} <= names
    assert any(n.startswith("notebooks/") for n in names)


# -- the Planned section of docs/api.md --------------------------------------------
def split_planned(text):
    """``(before, planned)``: the page without its ``## Planned`` section, and
    that section (to the end: it must be the last one)."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.rstrip("\n") == PLANNED_HEADING]
    assert len(starts) == 1, f"docs/api.md needs exactly one '{PLANNED_HEADING}' heading"
    start = starts[0]
    later = [line for line in lines[start + 1:] if line.startswith("## ")]
    assert not later, f"'{PLANNED_HEADING}' must be the last section, but {later[0]!r} follows"
    return "".join(lines[:start]), "".join(lines[start:])


def backticked_names(text, features_only=False):
    """``(line, name)`` for the leading dotted name of each inline code span
    (fenced blocks left out): ``jit(f, ...)`` -> ``jit``,
    ``passes.dce`` -> ``passes.dce``, ``.lower(*args)`` -> ``lower``.
    With ``features_only``, spans that name an attribute (``.source``) or a
    keyword argument (``mode="rev"``) are left out."""
    text = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    for m in INLINE_CODE.finditer(text):
        span = " ".join(m.group(1).split())
        lead = LEADING_NAME.match(span.lstrip("."))
        if not lead:
            continue
        if features_only and (span.startswith(".") or span[lead.end():].startswith("=")):
            continue
        yield text.count("\n", 0, m.start()) + 1, lead.group(0)


def test_planned_names_do_not_exist_yet():
    before, planned = split_planned(API.read_text(encoding="utf-8"))
    offset = before.count("\n")
    names = list(backticked_names(planned))
    assert names, "the Planned section names nothing in backticks"
    exist = [(offset + line, name) for line, name in names if resolves(name.split("."))]
    assert not exist, ("planned but already in chainrule (move them up into the page):\n"
                       + "\n".join(f"  docs/api.md:{line}: {name}" for line, name in exist))
    prefixed = [(offset + line, ref) for line, ref, _ in references(planned)]
    assert not prefixed, ("write planned names without the cr./chainrule. prefix:\n"
                          + "\n".join(f"  docs/api.md:{line}: {ref}" for line, ref in prefixed))


def test_planned_names_are_not_described_outside_planned():
    before, planned = split_planned(API.read_text(encoding="utf-8"))
    planned_names = {name for _, name in backticked_names(planned, features_only=True)}
    outside = [(line, name) for line, name in backticked_names(before)
               if re.sub(r"^(?:cr|chainrule)\.", "", name) in planned_names]
    assert not outside, ("planned names used outside the Planned section of docs/api.md:\n"
                         + "\n".join(f"  docs/api.md:{line}: {name}" for line, name in outside))


def test_every_public_name_is_documented():
    page = API.read_text(encoding="utf-8")
    before, _ = split_planned(page)
    # the implementation's subpackages, and the demo (an attribute once imported)
    internal = {"tracer", "interpreters", "transforms", "primitives", "demo"}
    public = sorted(n for n in dir(chainrule) if not n.startswith("_") and n not in internal)
    undocumented = [n for n in public
                    if not re.search(rf"(?<![\w.])(?:cr|chainrule)\.{n}\b", before)]
    assert not undocumented, f"public names docs/api.md does not describe: {undocumented}"


# -- the checker itself ------------------------------------------------------------------
def test_the_checker_finds_wrong_references():
    text = ("cr.grad and chainrule.numpy.linalg.norm exist; cr.make_ir(f)(x).draw() is fine;\n"
            "cr.pmap does not, nor chainrule.numpy.linalg.nrom,\n"
            "nor cnp.sinn, nor chainrule.scipy.special.nope; descr.pmap is no reference")
    found = missing([(lambda line: f"line {line}", text)])
    assert found == [("line 2", "cr.pmap"), ("line 2", "chainrule.numpy.linalg.nrom"),
                     ("line 3", "cnp.sinn"), ("line 3", "chainrule.scipy.special.nope")]
    assert missing([(str, "import numpy as cnp; cnp.sinn")],
                   with_cnp=cnp_is_chainrule_numpy("import numpy as cnp")) == []
    assert cnp_is_chainrule_numpy("import chainrule.numpy as cnp")
    assert cnp_is_chainrule_numpy("from .. import numpy as cnp")
    assert resolves(["demo"]) and not resolves(["no_such_module"])


def test_the_checker_reads_strings_and_fstrings(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('"""Uses cr.grad."""\n\n\ndef f(x):\n'
                      '    raise TypeError(f"got {x}; use cr.nowhere instead")\n')
    assert missing(_python_pieces(module, root=tmp_path)) == [("m.py:5", "cr.nowhere")]


def test_planned_checks_catch_a_name_that_exists():
    page = ("intro `cr.grad`\n## Planned\n\n- `pmap(f)` and `grad` with `holomorphic=True`,\n"
            "  `switch(index,\n  branches)` and `.lower()`\n")
    before, planned = split_planned(page)
    names = [name for _, name in backticked_names(planned)]
    assert names == ["pmap", "grad", "holomorphic", "switch", "lower"]
    assert [n for n in names if resolves(n.split("."))] == ["grad", "switch"]
    assert [n for _, n in backticked_names(planned, features_only=True)] == \
        ["pmap", "grad", "switch"]
