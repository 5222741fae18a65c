"""Nothing in the package is dead: every module and every top-level function
or class of ``chainrule/`` is reachable from the public API, the demo or
``scripts/``.  (A test is not a reason for code to exist.)

The reachability is read off the sources with ``ast``, from these roots:
the names the public namespaces export (``chainrule``, ``chainrule.numpy``,
``chainrule.numpy.linalg``, ``chainrule.scipy.*``), the demo, the scripts,
and the module-level code of every module that is imported (it runs at
import: primitive definitions, rule registrations).  A module is reached
when reached code imports it; a top-level function or class is reached
when reached code names it (``f(...)``, ``module.f``, ``x.f``: by name, so
a use of one ``f`` counts for every ``f``; that errs towards "reached").
Methods are not checked one by one: a reached class is reached whole.
"""
from __future__ import annotations

import ast
import pathlib

import chainrule
import chainrule.numpy
import chainrule.numpy.linalg
import chainrule.scipy.linalg
import chainrule.scipy.special
from conftest import load_script

layering = load_script("make_layering")
ROOT = pathlib.Path(__file__).resolve().parent.parent
PUBLIC = (chainrule, chainrule.numpy, chainrule.numpy.linalg, chainrule.scipy.linalg,
          chainrule.scipy.special)


def _module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(node, name, is_package, modules):
    """The package's modules one import statement imports (with the parent
    packages Python runs on the way)."""
    here = name if is_package else name.rpartition(".")[0]
    found = set()
    for t in layering.imported_modules(node, here, modules):
        parts = t.split(".")
        found.update(".".join(parts[:k]) for k in range(1, len(parts) + 1))
    return found & set(modules)


class _Uses(ast.NodeVisitor):
    """Names a piece of code uses, and modules it imports; nested function
    and class definitions are left for the caller (``skip_defs``)."""

    def __init__(self, skip_defs):
        self.names, self.imports, self.skip_defs = set(), [], skip_defs

    def visit_Name(self, node):
        self.names.add(node.id)

    def visit_Attribute(self, node):
        self.names.add(node.attr)
        self.generic_visit(node)

    def visit_Import(self, node):
        self.imports.append(node)

    visit_ImportFrom = visit_Import

    def _definition(self, node):
        # decorators, defaults and base classes run where the definition is
        for expr in (node.decorator_list + getattr(node, "bases", [])
                     + getattr(getattr(node, "args", None), "defaults", [])):
            self.visit(expr)
        if not self.skip_defs:
            for stmt in node.body:
                self.visit(stmt)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _definition


def _uses(nodes, skip_defs):
    visitor = _Uses(skip_defs)
    for node in nodes:
        visitor.visit(node)
    return visitor


def test_everything_in_the_package_is_reachable():
    modules = {_module_name(p): p for p in sorted((ROOT / "chainrule").rglob("*.py"))}
    trees = {name: ast.parse(path.read_text()) for name, path in modules.items()}
    packages = {name for name, path in modules.items() if path.name == "__init__.py"}
    defs = {(name, node.name): node for name, tree in trees.items() for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}

    used = {name for module in PUBLIC for name in dir(module)}
    reached_modules, reached_defs = set(), set()
    todo_modules = {"chainrule", "chainrule.demo"}
    roots = [ast.parse(p.read_text()) for p in sorted((ROOT / "scripts").glob("*.py"))]
    for tree in roots:   # the scripts: all their code, and what they import
        uses = _uses([tree], skip_defs=False)
        used |= uses.names
        for node in uses.imports:
            todo_modules |= _imported_modules(node, "scripts", True, modules)

    aliases = set()

    def take(uses, module):
        used.update(uses.names)
        for node in uses.imports:
            todo_modules.update(_imported_modules(node, module, module in packages, modules))
            # ``from m import f as g``: a use of ``g`` is a use of ``f``
            aliases.update((a.asname, a.name) for a in node.names if a.asname)

    changed = True
    while changed:
        changed = False
        used.update(name for alias, name in aliases if alias in used)
        while todo_modules:
            module = todo_modules.pop()
            if module in reached_modules or module not in modules:
                continue
            reached_modules.add(module)
            changed = True
            take(_uses(trees[module].body, skip_defs=True), module)
        for (module, name), node in defs.items():
            if (module, name) in reached_defs or module not in reached_modules:
                continue
            if name in used or (name.startswith("__") and name.endswith("__")):
                reached_defs.add((module, name))
                changed = True
                take(_uses(node.body, skip_defs=False), module)

    dead_modules = sorted(set(modules) - reached_modules)
    dead_defs = sorted(f"{modules[m].relative_to(ROOT)}:{node.lineno} {n}"
                       for (m, n), node in defs.items()
                       if (m, n) not in reached_defs and m in reached_modules)
    assert not dead_modules and not dead_defs, (
        "unreachable from the public API, the demo and scripts/ (delete it, or use it):\n"
        + "\n".join([f"module {m}" for m in dead_modules] + dead_defs))
