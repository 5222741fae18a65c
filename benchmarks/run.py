"""Run chainrule's benchmarks: ``python benchmarks/run.py [--quick] [NAME ...]``.

Every ``benchmarks/bench_<name>.py`` module is a benchmark; it defines
``run(report)`` (see ``_harness.py``).  NAME filters by substring of the
module's name (``scaling``, ``dispatch``).  ``--quick`` takes fewer samples
for a smoke run; ``--json PATH`` also writes every row, ``--markdown
PATH`` the tables.
Peers (autograd, PyTorch, JAX) are used when installed (``pip install -e
.[bench]``) and reported as skipped when not.
"""
from __future__ import annotations

import os

# one core for every implementation's array work, as in the README's tables:
# BLAS (NumPy, autograd, PyTorch's CPU kernels) and XLA (JAX); set before
# NumPy loads its BLAS.  (An environment that sets them already wins.)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")

import argparse
import datetime
import gc
import importlib
import importlib.metadata
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _harness import PEERS, Report, markdown  # noqa: E402


def _version(name, module):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return getattr(module, "__version__", "?")


def discover(filters):
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if filters:
        names = [n for n in names if any(f in n for f in filters)]
    return names


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="run only benchmarks whose name contains one")
    parser.add_argument("--quick", action="store_true", help="fewer samples, for a smoke run")
    parser.add_argument("--json", metavar="PATH", help="also write every row as JSON")
    parser.add_argument("--markdown", metavar="PATH", help="also write the tables as Markdown")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)

    names = discover(args.names)
    if args.list:
        print("\n".join(names))
        return 0
    if not names:
        print(f"no benchmark matches {args.names}; have: {', '.join(discover([]))}")
        return 2

    import numpy as np

    import chainrule
    report = Report(quick=args.quick)
    print(f"chainrule {chainrule.__version__}, numpy {np.__version__}, Python "
          f"{platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
          f"{datetime.date.today().isoformat()}, load average {os.getloadavg()[0]:.2f}"
          f"{'  (--quick)' if args.quick else ''}")
    for peer in PEERS:
        module = report.peer(peer)
        if module is not None:
            print(f"   peer: {peer} {_version(peer, module)}")
    # the peers' modules (hundreds of thousands of objects) would make every full
    # garbage collection during chainrule's rows slower: keep them out of it
    gc.collect()
    gc.freeze()
    start = time.perf_counter()
    for name in names:
        module = importlib.import_module(name)
        report.benchmark(name)
        module.run(report)
    print(f"\n{len(names)} benchmark(s) in {time.perf_counter() - start:.1f} s; load average "
          f"now {os.getloadavg()[0]:.2f} (other processes' load makes timings noisy: "
          "compare the IQR)")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"date": datetime.date.today().isoformat(), "quick": args.quick,
             "cpus": os.cpu_count(), "python": platform.python_version(),
             "numpy": np.__version__, "rows": report.rows}, indent=1))
    if args.markdown:
        Path(args.markdown).write_text(markdown(report.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
