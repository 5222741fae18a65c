"""Write docs/numpy-coverage.md, the NumPy coverage page, from the registry:
the functions chainrule defines in ``chainrule.numpy`` (not NumPy's re-exports),
``chainrule.numpy.linalg`` (those ``numpy.linalg.X`` dispatches to) and
``chainrule.scipy``; the dispatch tables; ``all_primitives()``.  Each function
is traced and differentiated on its first example row in the tests.  Run it
after adding a function or a rule (``tests/test_coverage_page.py`` fails until then):

    .venv/bin/python scripts/make_coverage.py
"""
from __future__ import annotations

import pathlib
import sys
import warnings

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import chainrule as cr  # noqa: E402
import chainrule.numpy as cnp  # noqa: E402
import chainrule.scipy.linalg as csl  # noqa: E402
import chainrule.scipy.special as csp  # noqa: E402
from chainrule.numpy import _dispatch, _ufuncs  # noqa: E402
from chainrule.primitives import all_primitives  # noqa: E402
from chainrule.tracer.pytree import tree_flatten, tree_unflatten  # noqa: E402

import test_numpy  # noqa: E402
import test_numpy_elementwise_reductions as test_grads  # noqa: E402
import test_scipy_special  # noqa: E402

OUT = ROOT / "docs" / "numpy-coverage.md"
COMMAND = ".venv/bin/python scripts/make_coverage.py"
DISPATCHER = type(np.sum)   # what NumPy wraps functions that honour __array_function__ in
NUMPY_MODULES = ((np, "numpy"), (np.linalg, "numpy.linalg"))
# the one function with no example row in tests/test_numpy*.py (tests/test_linalg.py
# checks it with parametrized arguments instead)
_L = np.tril(np.arange(1.0, 10.0).reshape(3, 3)) + 3 * np.eye(3)
EXTRA_EXAMPLES = {"solve_triangular":
                  (lambda a, b: csl.solve_triangular(a, b, lower=True), (_L, np.arange(3.0)))}
# scipy.special: the points tests/test_scipy_special.py checks them at
EXTRA_EXAMPLES.update({n: (getattr(csp, n), (test_scipy_special.X,))
                       for n in test_scipy_special.UNARY})
EXTRA_EXAMPLES.update({n: (getattr(csp, n), (test_scipy_special.P,))
                       for n in test_scipy_special.ON_P})
EXTRA_EXAMPLES.update({n: (getattr(csp, n), (test_scipy_special.P, test_scipy_special.X))
                       for n in test_scipy_special.BINARY})
EXTRA_EXAMPLES.update({"polygamma": (lambda x: csp.polygamma(2, x), (test_scipy_special.X,)),
                       "multigammaln": (lambda x: csp.multigammaln(x + 2.0, 2),
                                        (test_scipy_special.X,)),
                       "psi": (csp.psi, (test_scipy_special.X,))})


def _own(obj, module_prefix):
    return (callable(obj) and not isinstance(obj, type)
            and (getattr(obj, "__module__", "") or "").startswith(module_prefix))


def registry():
    """Name relative to ``chainrule.numpy`` (``sum``, ``linalg.solve``) or to
    ``chainrule`` (``scipy.special.expit``) -> the chainrule function."""
    reg = {n: getattr(cnp, n) for n in dir(cnp)
           if not n.startswith("_") and _own(getattr(cnp, n), "chainrule.numpy")}
    for n in dir(np.linalg):
        fn = getattr(cnp.linalg, n, None)
        if not n.startswith("_") and _own(fn, "chainrule") and \
                _dispatch.FUNCTIONS.get(getattr(np.linalg, n)) is fn:
            reg[f"linalg.{n}"] = fn
    for mod in (csp, csl):
        for n in dir(mod):
            if not n.startswith("_") and _own(getattr(mod, n), mod.__name__):
                reg[mod.__name__.removeprefix("chainrule.") + "." + n] = getattr(mod, n)
    return reg


def full_name(key):
    return "chainrule." + key if key.startswith("scipy.") else "chainrule.numpy." + key


def numpy_names():
    """id of a NumPy callable -> the names NumPy gives it (``numpy.abs``, ``numpy.absolute``)."""
    names = {}
    for mod, prefix in NUMPY_MODULES:
        for n in dir(mod):
            obj = getattr(mod, n, None)
            if not n.startswith("_") and callable(obj) and not isinstance(obj, type):
                names.setdefault(id(obj), []).append(f"{prefix}.{n}")
    return names


def reached_by():
    """id of a chainrule function -> the NumPy names that reach it on a tracer."""
    names, reached = numpy_names(), {}
    for table, tag in ((_ufuncs.UFUNCS, " (ufunc)"), (_dispatch.FUNCTIONS, "")):
        for np_fn, fn in table.items():
            mark = tag if tag or isinstance(np_fn, DISPATCHER) else " †"
            for n in names.get(id(np_fn), [f"{np_fn.__module__}.{np_fn.__name__}"]):
                reached.setdefault(id(fn), set()).add(f"`{n}`{mark}")
    return reached


def unsupported():
    """NumPy functions (numpy.X, numpy.linalg.X) that dispatch on a tracer
    (ufuncs and __array_function__ functions) and that chainrule lacks."""
    handled = {id(f) for f in list(_dispatch.FUNCTIONS) + list(_ufuncs.UFUNCS)}
    out = set()
    for mod, prefix in NUMPY_MODULES:
        for n in dir(mod):
            obj = getattr(mod, n, None)
            if not n.startswith("_") and isinstance(obj, (np.ufunc, DISPATCHER)) \
                    and id(obj) not in handled:
                out.add(f"{prefix}.{n}")
    return sorted(out)


def examples():
    """Name (``sum``, ``linalg.solve``, ``expit``) -> [(row id, f(*args), args)]:
    the test rows whose id names it, in order."""
    rows = [(p.id, (lambda fn: lambda *a: fn(cnp, *a))(p.values[0]), p.values[1])
            for p in test_numpy.ROWS]
    rows += [(p.id, p.values[0], p.values[2]) for p in test_numpy.ARRAY_ROWS]
    rows += [(p.id, p.values[0], p.values[1]) for p in test_grads.GRADS]
    found = {}
    for rid, f, args in rows:
        found.setdefault(rid.split("[")[0], []).append((rid, f, args))
    found.update({k: [(k, f, a)] for k, (f, a) in EXTRA_EXAMPLES.items()})
    return found


def _prims(eqns, acc):
    for e in eqns:
        acc.add(e.primitive.name)
        for v in e.params.values():   # nested bodies (control flow), if any
            for sub in v if isinstance(v, (list, tuple)) else [v]:
                if hasattr(sub, "eqns"):
                    _prims(sub.eqns, acc)
    return acc


def _runs(thunk):
    try:
        thunk()
        return "yes"
    except Exception as e:  # noqa: BLE001  (the page records that a rule is missing)
        return f"no ({type(e).__name__})"


def _reverse(g, primals):
    out, vjp_fn = cr.vjp(g, *primals)
    leaves, tree = tree_flatten(out)
    vjp_fn(tree_unflatten(tree, [np.ones_like(np.asarray(o)) for o in leaves]))


def analyse(f, args):
    """(primitive names, forward, reverse) of ``f`` at ``args``; both modes are
    taken in the floating-point arguments, the others held fixed."""
    ir = cr.make_ir(f)(*args)
    prims = sorted(_prims(ir.eqns, set()))
    if not any(np.issubdtype(a.dtype, np.inexact) for a in ir.out_avals):
        return prims, *["not differentiable (integer/bool output)"] * 2
    active = [i for i, a in enumerate(args) if np.issubdtype(np.asarray(a).dtype, np.inexact)]
    if not active:
        return prims, *["not differentiable (integer/bool input)"] * 2

    def g(*xs):
        full = list(args)
        for i, x in zip(active, xs):
            full[i] = x
        return f(*full)
    primals = tuple(np.asarray(args[i]) for i in active)
    no_jvp = [p for p in prims if not all_primitives()[p].jvp]
    fwd = f"no (no jvp: {', '.join(no_jvp)})" if no_jvp else _runs(
        lambda: cr.jvp(g, primals, tuple(np.ones_like(x) for x in primals)))
    return prims, fwd, _runs(lambda: _reverse(g, primals))


def render() -> str:
    reg, ex, prims_table, rows, used = registry(), examples(), all_primitives(), [], {}
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")   # NumPy's deprecated names, the examples' warnings
        reached, gaps = reached_by(), unsupported()
        for key, fn in sorted(reg.items(), key=lambda kv: full_name(kv[0])):
            numpy = ", ".join(sorted(reached.get(id(fn), ()))) or (
                "— (not dispatched: call it)" if key.startswith("scipy.") else "—")
            short = key.rsplit(".", 1)[1] if key.startswith("scipy.") else key
            if short in test_numpy.METADATA:
                rows.append(f"| `{full_name(key)}` | {numpy} | — (metadata: no equations) "
                            "| — | — | — |")
                continue
            for rid, f, args in ex[short] + ex[short][:1]:   # the first with equations
                prims, fwd, rev = analyse(f, args)
                if prims:
                    break
            for p in prims:
                used.setdefault(p, set()).add(key)
            lowering = ", ".join(f"`{p}`" for p in prims) or "— (no equations)"
            rows.append(f"| `{full_name(key)}` | {numpy} | {lowering} | {fwd} | {rev} | `{rid}` |")
    modules = [full_name(k).rsplit(".", 1)[0] for k in reg]   # in the registry's order
    counts = {m: modules.count(m) for m in dict.fromkeys(modules)}
    yes = lambda v: "yes" if v else "—"  # noqa: E731
    lines = [
        "# NumPy coverage",
        "",
        "Generated from chainrule's registry by `scripts/make_coverage.py`; do not edit by",
        "hand (`tests/test_coverage_page.py` fails when it is out of date). Regenerate with:",
        "",
        f"    {COMMAND}",
        "",
        f"(NumPy {np.__version__}: the NumPy names and the unsupported list depend on it.)",
        "",
        f"- **{len(reg)} functions**: "
        + ", ".join(f"{n} in `{m}`" for m, n in counts.items()),
        f"- **{len(prims_table)} primitives**",
        f"- **{len(gaps)} NumPy functions not supported** (in `numpy` and `numpy.linalg`)",
        "",
        "## Functions",
        "",
        "*NumPy names*: what reaches the function when plain NumPy code is called on a traced",
        "array, through `__array_ufunc__` (ufunc) or `__array_function__`; † marks a NumPy",
        "function that does not dispatch on tracers, so call the chainrule function instead.",
        "Operators and array methods (`x + y`, `x.sum()`) reach the same functions.",
        "*Lowering*: the primitives in the IR of the *example*: the first row with that id in",
        "`tests/test_numpy.py` (or `tests/test_numpy_elementwise_reductions.py`) that traces",
        "to any equations. It may include operations around the call, and other arguments",
        "may lower to other primitives.",
        "*Forward*: every primitive of the lowering has a JVP rule and `cr.jvp` runs on the",
        "example; *reverse*: `cr.vjp` runs on it, transposing the linear program (both taken",
        "in the floating-point arguments).",
        "",
        "| function | NumPy names | lowering | forward | reverse | example |",
        "| --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        "## Primitives",
        "",
        "Which rules each primitive has (`chainrule/primitives/`), its `jacobian_kind` for the",
        "Jacobian planner, and how many functions above use it in their example lowering.",
        "",
        "| primitive | jvp | transpose | batch | cost | jacobian_kind | used by |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *(f"| `{n}` | {yes(p.jvp)} | {yes(p.transpose)} | {yes(p.batch)} | {yes(p.cost)} "
          f"| {p.jacobian_kind} | {len(used.get(n, ()))} |"
          for n, p in sorted(prims_table.items())),
        "",
        "## NumPy functions not supported",
        "",
        "Every ufunc and `__array_function__` function of `numpy` and `numpy.linalg` that no",
        "chainrule function handles. Called on a traced array, each raises",
        "`NotImplementedError` naming it. (NumPy's constructors, dtypes and non-array",
        "utilities are left out; the other submodules, `numpy.fft`, `numpy.random`, ...,",
        "are not supported at all.)",
        "",
        *(f"- `{n}`" for n in gaps),
        "",
    ]
    return "\n".join(lines)


def main():
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(render())
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
