"""The benchmark harness: time a callable, print a table, find the peers.

A benchmark module ``bench_<name>.py`` defines ``run(report)`` and reports
through the ``Report`` it is given::

    def run(report):
        report.section("chain of 1000 ops", unit="eq", count=1000)
        report.measure("numpy (floor)", lambda: f(x), floor=True)   # the floor first
        report.measure("chainrule .eval", lambda: ir.eval(x))
        # with jax installed, rows(jax); else "skipped: jax not installed"
        report.with_peer("jax", lambda jax: report.measure("jax eager", lambda: f_jax(x)))

Every row shows the median time of one call, the interquartile range of the
samples, the median per unit (``count`` units of ``unit``: equations, ops),
and the ratio to the section's floor (hand-written NumPy doing the same
work).  Timing is ``time.perf_counter`` around ``number`` calls per sample,
after one warm-up call; ``number`` is chosen so that a sample lasts at least
``min_sample`` seconds, and the number of samples (21 at most, 3 at least;
``--quick``: 3 at most, and a call longer than a second is timed once) so
that a row stays within its time budget.  The garbage collector stays on (it is part of what a user
pays), but a full collection runs before each row so that rows do not pay
for each other's garbage; the GC column is the share of the samples' time
spent in collections (``gc.callbacks``).
"""
from __future__ import annotations

import gc
import importlib
import math
import statistics
import time
from dataclasses import dataclass, field

PEERS = ("autograd", "torch", "jax")


@dataclass
class Stats:
    """Seconds per call: the samples, their median and interquartile range,
    and the share of the samples' time spent in garbage collections."""
    samples: list = field(default_factory=list)
    number: int = 1          # calls per sample
    gc_seconds: float = 0.0  # time in the cyclic garbage collector, all samples

    @property
    def gc_share(self) -> float:
        total = sum(self.samples) * self.number
        return self.gc_seconds / total if total else 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def iqr(self) -> float:
        if len(self.samples) < 2:
            return math.nan
        q1, _, q3 = statistics.quantiles(self.samples, n=4, method="inclusive")
        return q3 - q1


def time_callable(fn, *, repeat=7, min_sample=0.02, budget=3.0, min_samples=1,
                  warmup=1) -> Stats:
    """Time ``fn()``: ``warmup`` untimed calls (the fastest of them calibrates),
    then up to ``repeat`` samples of ``number`` calls each, fewer when
    ``budget`` seconds would be exceeded, but at least ``min_samples``.  With
    ``min_samples=0`` a call longer than the whole budget is timed once: its
    warm-up call is its sample."""
    first, warm_gc = math.inf, math.inf
    for _ in range(max(1, warmup)):
        with _GCTimer() as gc_timer:
            t0 = time.perf_counter()
            fn()
            t = time.perf_counter() - t0
        if t < first:
            first, warm_gc = t, gc_timer.seconds
    if min_samples == 0 and first >= budget:
        return Stats(samples=[first], number=1, gc_seconds=warm_gc)
    first = max(first, 1e-7)
    number = max(1, math.ceil(min_sample / first))
    samples = max(1, min_samples, min(repeat, int(budget / (first * number))))
    stats = Stats(number=number)
    with _GCTimer() as gc_timer:
        for _ in range(samples):
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            stats.samples.append((time.perf_counter() - t0) / number)
    stats.gc_seconds = gc_timer.seconds
    return stats


class _GCTimer:
    """Adds up the time spent in garbage collections while it is entered."""

    def __init__(self):
        self.seconds = 0.0
        self._start = None

    def _callback(self, phase, info):
        if phase == "start":
            self._start = time.perf_counter()
        elif self._start is not None:
            self.seconds += time.perf_counter() - self._start
            self._start = None

    def __enter__(self):
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self._callback)


def fmt_time(seconds: float) -> str:
    """``0.00123`` -> ``1.23 ms``."""
    if seconds is None or math.isnan(seconds):
        return "-"
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us")):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _fmt_share(share: float) -> str:
    return "-" if math.isnan(share) else f"{share:.0%}"


class Report:
    """Collects and prints the rows of every benchmark of one run."""

    def __init__(self, quick: bool = False, out=print):
        self.quick = quick
        self.out = out
        self.rows = []          # one dict per measured row (run.py --json writes them)
        self.skipped = set()
        self._bench = ""
        self._section = None
        self._floor = None
        self._count = 1
        self._unit = "call"
        self._peers = {}

    # -- structure -------------------------------------------------------------
    @property
    def current(self) -> str:
        """The name of the benchmark running."""
        return self._bench

    @property
    def current_section(self) -> str:
        """The title of the section being measured."""
        return self._section

    def benchmark(self, name: str):
        self._bench = name
        self.out(f"\n== {name} ==")

    def section(self, title: str, *, unit: str = "call", count: int = 1, table: bool = True):
        """Start a group of rows doing the same work, ``count`` ``unit``s of it.
        ``table=False`` starts a section of notes only (no column header)."""
        self._section, self._unit, self._count, self._floor = title, unit, count, None
        self.out(f"\n-- {title}")
        if table:
            self.out(f"   {'implementation':<44} {'median':>10} {'IQR':>10} "
                     f"{'per ' + unit:>12} {'x numpy':>9} {'GC':>5}")

    def note(self, text: str):
        self.out(f"   {text}")

    # -- peers -----------------------------------------------------------------
    def peer(self, name: str):
        """The peer module if it is installed, else None (said once per run)."""
        if name not in self._peers:
            try:
                self._peers[name] = importlib.import_module(name)
            except ImportError:
                self._peers[name] = None
        if self._peers[name] is None and name not in self.skipped:
            self.skipped.add(name)
            self.out(f"   skipped: {name} not installed")
        return self._peers[name]

    def with_peer(self, name: str, rows):
        """Call ``rows(module)`` if the peer is installed.  A peer that fails
        (an API change, a crash on a deep program) is reported in a note, and
        the run goes on: peers are optional extras."""
        module = self.peer(name)
        if module is None:
            return
        try:
            rows(module)
        except Exception as e:
            self.note(f"failed: {name}: {type(e).__name__}: {str(e)[:300]}")

    # -- rows ------------------------------------------------------------------
    def measure(self, impl: str, fn, *, floor: bool = False, **timing) -> Stats:
        """Time ``fn`` and print its row; ``floor=True`` marks the NumPy row
        the section's other rows are compared with."""
        timing.setdefault("repeat", 3 if self.quick else 21)
        timing.setdefault("budget", 1.0 if self.quick else 3.0)
        timing.setdefault("min_sample", 0.005 if self.quick else 0.02)
        timing.setdefault("min_samples", 0 if self.quick else 3)
        gc.collect()
        stats = time_callable(fn, **timing)
        self.record(impl, stats, floor=floor)
        return stats

    def record(self, impl: str, stats: Stats, *, floor: bool = False):
        """Print and keep a row measured elsewhere."""
        if floor:
            self._floor = stats.median
        ratio = stats.median / self._floor if self._floor else math.nan
        per = stats.median / self._count
        self.rows.append({"benchmark": self._bench, "section": self._section, "impl": impl,
                          "median_s": stats.median, "iqr_s": stats.iqr,
                          "samples": len(stats.samples), "number": stats.number,
                          "count": self._count, "unit": self._unit, "per_unit_s": per,
                          "ratio_to_numpy": ratio, "gc_share": stats.gc_share})
        ratio_text = "-" if math.isnan(ratio) else f"{ratio:.3g}"
        self.out(f"   {impl:<44} {fmt_time(stats.median):>10} {fmt_time(stats.iqr):>10} "
                 f"{fmt_time(per):>12} {ratio_text:>9} {_fmt_share(stats.gc_share):>5}")

    def row(self, section: str, impl: str) -> dict | None:
        """A row already measured in the current benchmark, for derived figures
        (a scaling ratio, an overhead); None when it was not measured."""
        for row in self.rows:
            if (row["benchmark"], row["section"], row["impl"]) == (self._bench, section, impl):
                return row
        return None


def markdown(rows) -> str:
    """The rows as Markdown tables, one per section (for benchmarks/README.md)."""
    out, section = [], None
    for row in rows:
        if (row["benchmark"], row["section"]) != section:
            section = (row["benchmark"], row["section"])
            title = f"{row['benchmark']}: {row['section']}".replace("_", "\\_")
            out += ["", f"**{title}**", "",
                    f"| implementation | median | IQR | per {row['unit']} | x numpy | GC |",
                    "| --- | ---: | ---: | ---: | ---: | ---: |"]
        ratio = row["ratio_to_numpy"]
        impl = row["impl"].replace("_", "\\_")
        out.append(f"| {impl} | {fmt_time(row['median_s'])} | {fmt_time(row['iqr_s'])} "
                   f"| {fmt_time(row['per_unit_s'])} | "
                   f"{'-' if math.isnan(ratio) else f'{ratio:.3g}'} | "
                   f"{_fmt_share(row.get('gc_share', math.nan))} |")
    return "\n".join(out).strip() + "\n"
