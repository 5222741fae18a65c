"""The notebooks in notebooks/: each executes top to bottom without error in
under two minutes, in a kernel running this very Python (so with the
project's own dependencies only), and each is written as a notebook of the project should be:
it says what it teaches at the top, imports only chainrule, NumPy,
matplotlib and the standard library, uses chainrule's public names only,
checks its claims with asserts, and is stored with its outputs.
"""
import ast
import os
import pathlib
import sys
import time

import nbformat
import pytest
from nbclient import NotebookClient

import chainrule

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TIME_LIMIT = 120  # seconds per notebook
ALLOWED_IMPORTS = {"chainrule", "numpy", "matplotlib", "math", "time"}
PUBLIC = {name for name in dir(chainrule) if not name.startswith("_")} - \
    {"tracer", "interpreters", "transforms", "primitives"}


def execute(nb, path=ROOT / "notebooks"):
    client = NotebookClient(nb, kernel_name="python3", timeout=TIME_LIMIT,
                            resources={"metadata": {"path": str(path)}})
    return client.execute()


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def test_the_notebooks_are_there():
    names = [p.name[:2] for p in NOTEBOOKS]
    assert names[:5] == ["01", "02", "03", "04", "05"], [p.name for p in NOTEBOOKS]


def test_the_kernel_is_this_python():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import sys, chainrule; print(sys.executable); print(chainrule.__file__)")])
    execute(nb)
    executable, package = nb.cells[0].outputs[0]["text"].split()
    assert os.path.realpath(executable) == os.path.realpath(sys.executable)
    assert os.path.realpath(package) == os.path.realpath(chainrule.__file__)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes_top_to_bottom(path):
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    execute(nb)  # raises CellExecutionError, with the cell and traceback, on any error
    elapsed = time.perf_counter() - start
    assert elapsed < TIME_LIMIT, f"{path.name} took {elapsed:.0f} s"
    for cell in code_cells(nb):
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source


def _imports(tree):
    """(module, guarded) for each import; guarded: inside a try that catches ImportError."""
    found = []
    guarded_nodes = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
                isinstance(h.type, ast.Name) and h.type.id in ("ImportError",
                                                                "ModuleNotFoundError")
                for h in node.handlers):
            for inner in node.body:
                guarded_nodes.update(id(n) for n in ast.walk(inner))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in guarded_nodes) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module, id(node) in guarded_nodes))
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_written_as_a_lesson(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert "What this notebook teaches" in first.source

    asserts = 0
    for cell in code_cells(nb):
        tree = ast.parse(cell.source)  # plain Python: no magics
        for module, guarded in _imports(tree):
            top = module.split(".")[0]
            # peers may be compared with, inside try/except ImportError only
            assert top in ALLOWED_IMPORTS or guarded, f"{path.name} imports {module}"
            if top == "chainrule":
                assert module in ("chainrule", "chainrule.numpy"), \
                    f"{path.name} imports the internal module {module}"
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id == "cr"):
                assert node.attr in PUBLIC, f"{path.name} uses cr.{node.attr}"
            if isinstance(node, ast.Assert) or (
                    isinstance(node, ast.Attribute) and node.attr.startswith("assert_")):
                asserts += 1
    assert asserts >= 5, f"{path.name} checks only {asserts} claims"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_with_its_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    cells = code_cells(nb)
    counts = [cell.execution_count for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), \
        f"{path.name}: run it top to bottom with scripts/run_notebooks.py ({counts})"
    assert any(cell.outputs for cell in cells)
    for cell in cells:
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source
