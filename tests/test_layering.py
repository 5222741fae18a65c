"""Imports point down: chainrule's floors, read off every module's imports.

``scripts/make_layering.py`` reads the imports (with ``ast``, function
bodies included) and knows the floors: tracer, primitives, interpreters and
numpy, scipy, transforms, the package.  Here: no import points up or
sideways and no import cycle exists; the checker itself catches a module
that breaks either rule; and docs/layering.md is the page it generates.
"""
from __future__ import annotations

import difflib
import pathlib
import shutil

import pytest

from conftest import load_script

ROOT = pathlib.Path(__file__).resolve().parent.parent


layering = load_script("make_layering")


def test_no_import_points_up():
    problems = layering.upward_imports(layering.read_imports(ROOT))
    assert not problems, "\n".join(problems)


def test_no_import_cycle():
    problems = layering.cycle_messages(layering.read_imports(ROOT))
    assert not problems, "\n".join(problems)


def test_every_module_is_in_a_room():
    for module in layering.module_files(ROOT):
        assert layering.room_of(module) in layering.ROOMS, module


def test_the_page_is_current():
    expected = layering.page(ROOT)
    page = (ROOT / "docs" / "layering.md").read_text()
    if page != expected:
        diff = "".join(difflib.unified_diff(page.splitlines(True), expected.splitlines(True),
                                            "docs/layering.md", "generated"))
        pytest.fail("docs/layering.md is out of date; regenerate it with "
                    f".venv/bin/python scripts/make_layering.py\n{diff}")


# -- the checker catches what it is for -------------------------------------------
@pytest.fixture
def package_copy(tmp_path):
    """A copy of the package's sources to add offending modules to."""
    shutil.copytree(ROOT / "chainrule", tmp_path / "chainrule",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _problems(root):
    """The problems the added modules cause (those of the package itself,
    which the tests above report, left out)."""
    return [p for p in layering.problems(root) if p not in layering.problems(ROOT)]


def test_the_copy_reads_as_the_package(package_copy):
    assert layering.read_imports(package_copy) == layering.read_imports(ROOT)


@pytest.mark.parametrize("source, target", [
    ("from ..transforms import grad\n", "chainrule.transforms"),             # the package __init__
    ("def f():\n    from ..interpreters.evaluate import eval_ir\n",        # inside a function
     "chainrule.interpreters.evaluate"),
    ("import chainrule.numpy._util\n", "chainrule.numpy._util"),             # absolute
    ("from .. import primitives\n", "chainrule.primitives"),                 # a package
])
def test_an_upward_import_is_reported(package_copy, source, target):
    (package_copy / "chainrule" / "tracer" / "_upward.py").write_text(source)
    problems = _problems(package_copy)
    assert len(problems) == 1, problems
    assert "chainrule.tracer._upward (line" in problems[0] and f"imports {target}:" in problems[0]


def test_a_sideways_import_is_reported(package_copy):
    # interpreters and numpy share a floor, but neither may import the other
    (package_copy / "chainrule" / "interpreters" / "_sideways.py").write_text(
        "from ..numpy import sin\n")
    problems = _problems(package_copy)
    assert len(problems) == 1 and "chainrule.interpreters._sideways" in problems[0], problems


def test_a_dynamic_import_is_reported(package_copy):
    (package_copy / "chainrule" / "tracer" / "_dynamic.py").write_text(
        "import importlib\nm = importlib.import_module('chainrule.transforms')\n")
    problems = _problems(package_copy)
    assert len(problems) == 1 and "chainrule.tracer._dynamic (line 2)" in problems[0], problems


def test_a_cycle_is_reported(package_copy):
    primitives = package_copy / "chainrule" / "primitives"
    (primitives / "_one.py").write_text("from . import _two\n")
    (primitives / "_two.py").write_text("def f():\n    from ._one import f\n")
    problems = _problems(package_copy)
    assert len(problems) == 1, problems
    assert "import cycle among chainrule.primitives._one, chainrule.primitives._two" \
        in problems[0]
    assert "chainrule.primitives._two (line 2) imports chainrule.primitives._one" in problems[0]


def test_a_long_cycle_is_found_without_recursion(package_copy, shallow_stack):
    # 2000 modules in a ring: Tarjan's algorithm on an explicit stack
    ring = package_copy / "chainrule" / "tracer" / "ring"
    ring.mkdir()
    (ring / "__init__.py").write_text("")
    n = 2000
    for i in range(n):
        (ring / f"m{i}.py").write_text(f"from . import m{(i + 1) % n}\n")
    shallow_stack()
    groups = layering.cycles(layering.read_imports(package_copy))
    assert [len(g) for g in groups if "chainrule.tracer.ring.m0" in g] == [n]
