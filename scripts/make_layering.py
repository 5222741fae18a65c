"""The floors of chainrule, read off its imports: write docs/layering.md.

chainrule is built in floors, each importing only the floors below it:

    tracer        the IR, tracing, pytrees, the printer
    primitives    each primitive with its rules
    interpreters  walkers over the IR        numpy   NumPy's names over bind
    scipy         SciPy's names (over numpy)      control  control flow (over interpreters)
    transforms    what users call
    package       chainrule/__init__.py (wires the IR's conveniences), the demo

This module reads every module's imports with ``ast`` (imports inside
functions too; ``from .. import primitives`` is an import of the package's
``__init__``; the parent packages Python runs implicitly are not counted)
and finds every import that points up or sideways, and every import cycle.
``tests/test_layering.py`` fails on any, and checks that docs/layering.md,
which this script writes, is current:

    .venv/bin/python scripts/make_layering.py
"""
from __future__ import annotations

import ast
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "layering.md"

# room -> (floor, the rooms it may import besides itself)
ROOMS = {
    "tracer": (0, ()),
    "primitives": (1, ("tracer",)),
    "interpreters": (2, ("tracer", "primitives")),
    "numpy": (2, ("tracer", "primitives")),
    "scipy": (3, ("tracer", "primitives", "numpy")),
    "control": (3, ("tracer", "primitives", "interpreters")),
    "transforms": (4, ("tracer", "primitives", "interpreters", "numpy", "scipy", "control")),
    "package": (5, ("tracer", "primitives", "interpreters", "numpy", "scipy", "control",
                    "transforms")),
}
WHAT = {
    "tracer": "the IR and its atoms, tracing, tracers and bind, pytrees, the printer",
    "primitives": "each primitive with its rules side by side, and the vocabulary of rules",
    "interpreters": "loops over the IR: evaluate, jvp, transpose, batch, chain, cost, draw, "
                    "optimization passes, codegen (the compiler to Python source)",
    "numpy": "chainrule.numpy: NumPy's names over bind",
    "scipy": "chainrule.scipy: SciPy's names over chainrule.numpy",
    "control": "structured control flow: primitives holding bodies, whose rules run interpreters",
    "transforms": "what users call: make_ir, grad, vjp, jvp, vmap, jacobians, jit, check_grads, "
                  "views",
    "package": "chainrule/__init__.py (wires ClosedIR.eval, .cost, .draw) and the demo",
}


def module_files(root: pathlib.Path, package: str = "chainrule") -> dict:
    """``{module name: path}`` for every ``.py`` file of the package under ``root``."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _is_package(name, modules):
    return modules[name].name == "__init__.py"


def imported_modules(node, here: str, modules) -> list:
    """The modules an ``import`` or ``from ... import`` statement in the
    package ``here`` imports: ``from X import a`` imports the module ``X.a``
    when there is one, else ``X`` (its ``__init__`` when ``X`` is a package)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level:
        base = here.split(".")
        base = base[:len(base) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    return [f"{target}.{a.name}" if f"{target}.{a.name}" in modules else target
            for a in node.names]


def read_imports(root: pathlib.Path, package: str = "chainrule") -> dict:
    """``{module: [(imported module, line), ...]}``: the package's own modules
    each module imports, anywhere in it (function bodies included)."""
    modules = module_files(root, package)
    imports = {}
    for name, path in modules.items():
        here = name if _is_package(name, modules) else name.rpartition(".")[0]
        found = []
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found += [(t, node.lineno) for t in imported_modules(node, here, modules)]
            elif (isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))
                  and getattr(node.func, "id", getattr(node.func, "attr", None))
                  in ("__import__", "import_module")):
                found.append(("<dynamic import>", node.lineno))
        imports[name] = [(t, line) for t, line in dict.fromkeys(found)
                         if t == "<dynamic import>" or t == package
                         or t.startswith(package + ".")]
    return imports


def room_of(module: str, package: str = "chainrule") -> str:
    """The room of a module: its first package below ``chainrule``, or
    ``package`` for ``chainrule`` itself and the modules directly in it."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ROOMS) else "package"


def upward_imports(imports: dict) -> list:
    """One message per import that leaves its room for one it may not import."""
    problems = []
    for module, found in imports.items():
        room = room_of(module)
        allowed = ROOMS[room][1]
        for target, line in found:
            if target == "<dynamic import>":
                problems.append(f"{module} (line {line}) imports by name at run time "
                                "(__import__/import_module): write a plain import")
                continue
            other = room_of(target)
            if other != room and other not in allowed:
                problems.append(
                    f"{module} (line {line}) imports {target}: {room} (floor "
                    f"{ROOMS[room][0]}) may import only "
                    f"{', '.join((room,) + allowed)}, not {other} (floor {ROOMS[other][0]})")
    return problems


def cycles(imports: dict) -> list:
    """The import cycles: each strongly connected group of modules (more
    than one, or one importing itself), found with Tarjan's algorithm run
    on an explicit stack (no recursion)."""
    graph = {m: sorted({t for t, _ in found if t in imports}) for m, found in imports.items()}
    index, low, on_stack, stack, groups = {}, {}, set(), [], []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            if i < len(graph[node]):
                work.append((node, i + 1))
                child = graph[node][i]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in graph[node]:
                    groups.append(sorted(group))
            if work:   # hand the low link up to the parent
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return groups


def cycle_messages(imports: dict) -> list:
    """One message per cycle, naming its modules and the imports that close it."""
    messages = []
    for group in cycles(imports):
        members = set(group)
        edges = [f"{m} (line {line}) imports {t}" for m in group
                 for t, line in imports[m] if t in members]
        messages.append(f"import cycle among {', '.join(group)}: " + "; ".join(edges))
    return messages


def problems(root: pathlib.Path = ROOT) -> list:
    imports = read_imports(root)
    return upward_imports(imports) + cycle_messages(imports)


def _short(module):
    return module.removeprefix("chainrule.") if module != "chainrule" else "chainrule"


def page(root: pathlib.Path = ROOT) -> str:
    """docs/layering.md: the floors as a drawing and each module's imports."""
    imports = read_imports(root)
    by_room = {room: [] for room in ROOMS}
    for module in imports:
        by_room[room_of(module)].append(module)
    room_edges = sorted({(room_of(m), room_of(t)) for m, found in imports.items()
                         for t, _ in found if room_of(t) != room_of(m)})
    lines = [
        "# The floors of chainrule",
        "",
        "Generated by `scripts/make_layering.py` from the imports of every module",
        "(function bodies included); `tests/test_layering.py` checks that it is",
        "current, that no import points up or sideways, and that no import cycle",
        "exists. Each room imports only the rooms below it:",
        "",
        "```mermaid",
        "flowchart BT",
    ]
    lines += [f"    {room}[\"{room}\"]" for room in ROOMS]
    lines += [f"    {a} --> {b}" for a, b in room_edges]
    lines += ["```", "", "| floor | room | what it holds | may import |",
              "| --- | --- | --- | --- |"]
    for room, (floor, allowed) in ROOMS.items():
        lines.append(f"| {floor} | `{room}` | {WHAT[room]} | "
                     f"{', '.join(f'`{a}`' for a in allowed) or 'nothing of chainrule'} |")
    lines += ["", "## Each module and what it imports of chainrule", ""]
    for room, (floor, _) in ROOMS.items():
        lines += [f"### {floor} · {room}", "", "| module | imports |", "| --- | --- |"]
        for module in by_room[room]:
            targets = sorted({_short(t) for t, _ in imports[module]})
            lines.append(f"| `{_short(module)}` | {', '.join(targets) or '—'} |")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    found = problems()
    if found:
        print("\n".join(found), file=sys.stderr)
        return 1
    PAGE.write_text(page())
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
