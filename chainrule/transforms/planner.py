"""Choosing the order of the Jacobian chain: interval dynamic programming.

The linear program of ``f`` is cut into segments (``interpreters/chain.py``),
so that ``J = A_k ... A_1`` with ``A_s`` of shape ``(w[s+1], w[s])``.  The
Jacobian of a run of segments ``i..j`` can be had in six ways:

  fwd        tangent sweeps through ``i..j``, one per input direction ``w[i]``
  rev        adjoint sweeps through ``i..j``, one per output direction ``w[j+1]``
  explicit   a single matrix-product segment: its Jacobian is the constant
             operand; a single elementwise segment: a diagonal
  product    ``P(s+1..j) @ P(i..s)`` for some split ``s``, a dense product
  tangent elimination   push the columns of an explicit ``P(i..s)`` forward
             through ``s+1..j`` (``w[i]`` tangent sweeps)
  adjoint elimination   pull the rows of an explicit ``P(s+1..j)`` back
             through ``i..s`` (``w[j+1]`` adjoint sweeps)

Pure forward mode is ``fwd`` on the whole chain and pure reverse ``rev``, so
the best plan is never predicted to cost more than either.  Costs are
predicted times: flops at a matrix-product rate, bytes at a memory rate (a
roofline term: skinny products are memory-bound), and a fixed cost per
equation per sweep (NumPy's dispatch).  The table is filled by interval
length, all intervals of one length at once with NumPy.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

# measured on the 2-core machine of benchmarks/README.md (OpenBLAS, 2 threads):
FLOP_RATE = 1.2e11        # flops/s of a large NumPy (BLAS) matrix product
BYTE_RATE = 1.5e10        # bytes/s streamed by a NumPy pass (elementwise, skinny products)
EQN_TIME = 4.0e-6         # s per equation of a staged program (evaluation loop, dispatch)
ITEM = 8                  # bytes per element (float64)

FWD, REV, EXPLICIT, PRODUCT, TANGENT_ELIM, ADJOINT_ELIM = range(6)
OPTION_NAMES = ("forward sweeps", "reverse sweeps", "explicit", "product",
                "tangent elimination", "adjoint elimination")


class ChainCosts:
    """Prefix sums of the segments' per-direction work, for O(1) sweep costs."""

    def __init__(self, segments, widths_at_cuts):
        self.k = len(segments)
        self.w = np.asarray(widths_at_cuts, dtype=np.float64)            # k + 1 widths
        zero = [0]
        self.F = np.cumsum(zero + [s.flops for s in segments], dtype=np.float64)
        self.B = np.cumsum(zero + [s.bytes for s in segments], dtype=np.float64)
        self.FA = np.cumsum(zero + [s.adjoint_flops for s in segments], dtype=np.float64)
        self.BA = np.cumsum(zero + [s.adjoint_bytes for s in segments], dtype=np.float64)
        self.R = np.cumsum(zero + [s.residual_bytes for s in segments], dtype=np.float64)
        self.S = np.cumsum(zero + [s.stored_bytes for s in segments], dtype=np.float64)
        self.E = np.cumsum(zero + [s.n_eqns for s in segments], dtype=np.float64)
        self.kinds = [s.kind for s in segments]

    def sweep(self, i, j, directions, adjoint=False):
        """Predicted seconds of ``directions`` batched sweeps through ``i..j``
        (tangent sweeps, or adjoint sweeps with their own flops and bytes)."""
        F, B = (self.FA, self.BA) if adjoint else (self.F, self.B)
        return ((self.E[j + 1] - self.E[i]) * EQN_TIME
                + directions * (F[j + 1] - F[i]) / FLOP_RATE
                + (directions * (B[j + 1] - B[i]) + (self.R[j + 1] - self.R[i])) / BYTE_RATE)

    def residuals(self, i, j):
        """Bytes of computed residuals that adjoint sweeps through i..j keep."""
        return self.S[j + 1] - self.S[i]


class SweepTables(NamedTuple):
    """Predicted times of sweeps through every run ``lo..hi``, as ``[lo, hi]``
    tables (junk below the diagonal): with ``n`` directions, a tangent sweep
    takes ``base + n * per_direction`` seconds, an adjoint sweep ``adj_base +
    n * adj_per_direction``."""
    base: np.ndarray               # equations (dispatch) and residual bytes
    per_direction: np.ndarray      # tangent flops and bytes of one direction
    adj_base: np.ndarray           # as base, inf where the memory limit is exceeded
    adj_per_direction: np.ndarray  # adjoint flops and bytes of one direction


def _sweep_tables(costs, memory_limit):
    """The cost sweep: base and per-direction times of tangent and adjoint
    sweeps through every run, from the prefix sums of ``costs``; an adjoint
    sweep that would keep more residuals than ``memory_limit`` costs ``inf``."""
    k = costs.k
    lo, hi = np.arange(k)[:, None], np.arange(k)[None, :]
    E, R, F, B, S = costs.E, costs.R, costs.F, costs.B, costs.S
    FA, BA = costs.FA, costs.BA
    base = (E[1:][hi] - E[lo]) * EQN_TIME + (R[1:][hi] - R[lo]) / BYTE_RATE
    per_direction = (F[1:][hi] - F[lo]) / FLOP_RATE + (B[1:][hi] - B[lo]) / BYTE_RATE
    adj_base = base.copy()
    if memory_limit is not None:   # adjoint sweeps must not keep more residuals than allowed
        adj_base[S[1:][hi] - S[lo] > memory_limit] = np.inf
    adj_per_direction = (FA[1:][hi] - FA[lo]) / FLOP_RATE + (BA[1:][hi] - BA[lo]) / BYTE_RATE
    return SweepTables(base, per_direction, adj_base, adj_per_direction)


def _span_layout(k):
    """The layout by span: positions in a flat ``[lo, hi]`` table of ``k``
    columns, for tables of ``k + 1`` rows (spans) and ``k`` columns (runs),
    clipped to the chain (junk); returns ``(end, by_start, by_end)``.

    Run ``i..j`` split after ``s = i + t`` (``t = 0..d-1``, ``d = j - i``)
    needs the left factor ``P(i..s)``, of span ``t``, and the right factor
    ``P(s+1..j)``, of span ``d-1-t``, both solved before.  Every table is
    kept *by span*, one row per span: ``by_start[t, i]`` is the position of
    run ``i..i+t`` (by its start; it ends at segment ``end[t, i]``),
    ``by_end[k-1-u, j-1]`` that of run ``j-u..j`` (by its end, rows in
    reverse).  For span ``d``, in a layout ``[t, i]`` (split, run), the left
    factors are rows ``0..d-1`` of a table by start and the right factors
    rows ``k-d..k-1`` of a table by end from column ``d`` on (column ``j = i
    + d``); the reversed rows turn the falling span ``d-1-t`` of the right
    factor into a rising row.  The same goes for the sweeps the eliminations
    need (through ``i..s`` by start, through ``s+1..j`` by end) and for a
    product's widths ``w[i]``, ``w[s+1]``, ``w[j+1]``.

    The tables are stored flat, row after row, so those rows are *one
    contiguous slice*: each candidate, for every split of every run at once,
    costs a few NumPy calls on contiguous memory (no gathers, no loop over
    runs).  The columns of a slice past the last run (``i >= k - d``) hold
    junk that never reaches a result.
    """
    row, col = np.arange(k + 1)[:, None], np.arange(k)[None, :]
    end = np.minimum(col + row, k - 1)                     # [t, i]: run i..i+t
    by_start = col * k + end
    last = np.minimum(col + 1, k - 1)                      # [k-1-u, j-1]: run j-u..j
    by_end = np.maximum(np.minimum(last - (k - 1 - row), last), 0) * k + last
    return end, by_start, by_end


def _pure_sweeps(sweeps, w, by_start):
    """Forward and reverse sweeps through every run (``w[i]`` tangent sweeps,
    ``w[j+1]`` adjoint sweeps), by span: ``[fwd/rev, d, i]``."""
    k = len(w) - 1
    forward = sweeps.base + w[:k, None] * sweeps.per_direction
    reverse = sweeps.adj_base + w[None, 1:] * sweeps.adj_per_direction
    pure = np.empty((2, k + 1, k))
    np.take(forward, by_start, out=pure[0])
    np.take(reverse, by_start, out=pure[1])
    return pure


def _product_terms(w, end, diagonal):
    """The product ``P(s+1..j) @ P(i..s)``, ``(a x b) @ (b x c)`` with ``a =
    w[j+1]``, ``b = w[s+1]``, ``c = w[i]``, takes ``EQN_TIME + a * ab_terms
    + bc_term`` seconds: ``a`` depends on the run, the rest on ``[t, i]`` (by
    start).  Returns ``(ab_terms, bc_term, scalings)``, ``scalings`` those of
    ``_diagonal_scalings`` (``None`` without diagonal segments)."""
    k = len(w) - 1
    flop_cost, byte_cost = 2 / FLOP_RATE, ITEM / BYTE_RATE
    c, b = w[:k], np.take(w, end + 1)                      # [t, i]: w[i], w[i+t+1]
    ab_terms = b * c * flop_cost + byte_cost * (b + c)
    bc_term = byte_cost * (b * c)
    scalings = None
    if diagonal.any():
        scalings = _diagonal_scalings(b, c, ab_terms, bc_term, end, diagonal)
    return ab_terms, bc_term, scalings


def _diagonal_scalings(b, c, ab_terms, bc_term, end, diagonal):
    """A single diagonal factor only scales the other one: this changes the
    first split (``t = 0``, ``A_i`` diagonal) and the last (``t = d-1``,
    ``A_j`` diagonal).  Their product times by ``[d, i]``, with ``b = a =
    w[i+d+1]``: ``(first_product, last_product)``, a scaling where it applies."""
    k = len(diagonal)
    byte_cost = ITEM / BYTE_RATE
    scaling = EQN_TIME + 2 * byte_cost * b * c
    first_product = EQN_TIME + b * ab_terms[0] + bc_term[0]
    last_product = EQN_TIME + b * np.vstack([ab_terms[:1], ab_terms[:-1]]) \
        + np.vstack([bc_term[:1], bc_term[:-1]])
    first_scales = np.repeat(diagonal[None, :], k + 1, axis=0)
    last_scales = np.take(diagonal, end)
    first_scales[1] |= last_scales[1]                      # d = 1: one split, both cases
    last_scales[1] |= diagonal
    first_product = np.where(first_scales, scaling, first_product)
    last_product = np.where(last_scales, scaling, last_product)
    return first_product, last_product


def _single_segment_choices(costs, pure, diagonal):
    """The runs of span 0, single segments: forward sweeps, reverse sweeps or
    the explicit Jacobian (the constant operand of a matrix-product segment,
    the diagonal of an elementwise one).  Returns the ``(k, k)`` tables
    ``cost`` and ``choice`` (the row of the choice among the candidates),
    ``inf`` and -1 but on the diagonal."""
    k, w = costs.k, costs.w
    explicit = np.where([kind == "explicit" for kind in costs.kinds],
                        EQN_TIME + ITEM * w[:-1] * w[1:] / BYTE_RATE,
                        np.where(diagonal, EQN_TIME + ITEM * w[:-1] / BYTE_RATE, np.inf))
    single = np.vstack([pure[:, 0], explicit])
    cost = np.full((k, k), np.inf)
    choice = np.full((k, k), -1, dtype=np.int64)           # row of the choice among the candidates
    cost_flat, choice_flat = cost.ravel(), choice.ravel()  # superdiagonal d: [d::k+1]
    choice_flat[::k + 1] = single.argmin(axis=0)
    cost_flat[::k + 1] = single.min(axis=0)
    return cost, choice


def _narrowing_points(k, min_width=16):
    """The spans at which ``solve_chain`` narrows its tables: from span ``d0``
    on, at most ``k - d0`` runs are left, and the tables keep ``k - d0 + 1``
    columns.  They are narrowed whenever that halves their width, down to
    ``min_width`` (below it, copying costs more than it saves)."""
    points, width = [1], k
    while width // 2 >= min_width:
        width //= 2
        points.append(k + 1 - width)
    return points


class _SpanTables:
    """The tables the span loop reads, by span and flat (``_span_layout``):
    "start" ones from row 0, "end" ones (column ``j - d0``) from row ``k - d``
    and column ``d - d0``, ``K`` columns (the row stride) from span ``d0`` on.
    For each span it stacks the candidates of the runs and records their
    choice in the result tables and in the factor tables of longer spans."""

    def __init__(self, costs, sweeps, by_start, by_end, pure, products, cost, choice):
        k, w = costs.k, costs.w
        ab_terms, bc_term, scalings = products
        self.k, self.pure, self.scalings = k, pure, scalings
        self.cost_flat, self.choice_flat = cost.ravel(), choice.ravel()
        left_cost = np.full((k + 1, k), np.inf)            # by start
        right_cost = np.full((k + 1, k), np.inf)           # by end
        left_cost[0] = self.cost_flat[::k + 1]
        right_cost[k - 1, :k - 1] = left_cost[0, 1:]
        self.starts = [left_cost, ab_terms, bc_term, np.take(sweeps.adj_base, by_start),
                       np.take(sweeps.adj_per_direction, by_start)]
        self.ends = [right_cost, np.take(sweeps.base, by_end),
                     np.take(sweeps.per_direction, by_end)]
        self.w_padded = np.concatenate([w, np.zeros(k + 2)])
        self.column = np.empty((2 + 3 * (k - 1)) * k)     # the candidates of a span
        self.scratch = np.empty(k * k)
        self.run_index = np.arange(k)
        self.d0, self.K = 1, k

    def narrow(self, first):
        """From span ``first`` on: keep the ``K = k - first + 1`` columns its
        runs can reach (with ``d``, there are fewer runs, ``k - d``; nothing is
        dropped at ``first = d0``), and set up the flat views and the run
        factors the span loop reads."""
        k = self.k
        if first > self.d0:   # narrow the tables to the runs left: K = k - first + 1 columns
            shift, self.d0, self.K = first - self.d0, first, k - first + 1
            K = self.K
            self.starts = [np.ascontiguousarray(x[:, :K]) for x in self.starts]
            self.ends = [np.ascontiguousarray(x[:, shift:shift + K]) for x in self.ends]
        d0, K = self.d0, self.K
        self.left_cost, self.right_cost = self.starts[0], self.ends[0]
        self.flat = [x.ravel() for x in self.starts] + [x.ravel() for x in self.ends]
        # the run factors in the flat [t, i] layout: w[i] at t*K + i (c_rows),
        # w[j+1] = w[i+d+1] at d - d0 + t*K + i (a_rows)
        self.c_rows = np.tile(self.w_padded[:K], k + 1)
        self.a_rows = np.tile(self.w_padded[d0 + 1:d0 + 1 + K], k + 2)

    def candidates(self, d):
        """The candidates of the runs of span ``d``, stacked as rows ``[fwd,
        rev, product at t = 0..d-1, tangent elimination at t = 0..d-1,
        adjoint elimination at t = 0..d-1]``, one column per run (``K``)."""
        K, d0, column = self.K, self.d0, self.column
        left_flat, ab_flat, bc_flat, adj_base_flat, adj_per_direction_flat, \
            right_flat, base_flat, per_direction_flat = self.flat
        n = d * K                                           # rows t = 0..d-1
        r0 = (self.k - d) * K + d - d0                      # right factors: row k-d, column d - d0
        a, c = self.a_rows[d - d0:d - d0 + n], self.c_rows[:n]
        left, right = left_flat[:n], right_flat[r0:r0 + n]
        tmp = self.scratch[:n]
        cand = column[:(2 + 3 * d) * K].reshape(2 + 3 * d, K)
        cand[:2] = self.pure[:, d, :K]
        product = column[2 * K:(2 + d) * K]
        tangent = column[(2 + d) * K:(2 + 2 * d) * K]
        adjoint = column[(2 + 2 * d) * K:(2 + 3 * d) * K]
        # product: left + right + (EQN_TIME + a * ab_terms + bc_term)
        np.multiply(a, ab_flat[:n], out=product)
        product += EQN_TIME
        product += bc_flat[:n]
        if self.scalings is not None:
            first_product, last_product = self.scalings
            cand[2] = first_product[d, :K]
            cand[1 + d] = last_product[d, :K]
        np.add(left, right, out=tmp)
        product += tmp
        # tangent elimination: left + w[i] tangent sweeps through s+1..j
        np.add(left, base_flat[r0:r0 + n], out=tangent)
        np.multiply(c, per_direction_flat[r0:r0 + n], out=tmp)
        tangent += tmp
        # adjoint elimination: right + w[j+1] adjoint sweeps through i..s
        np.add(right, adj_base_flat[:n], out=adjoint)
        np.multiply(a, adj_per_direction_flat[:n], out=tmp)
        adjoint += tmp
        return cand

    def choose(self, d, cand):
        """The choice of each run of span ``d``: the first minimum of its
        column of ``cand``, so ties go to the earlier option, then to the
        smaller split; recorded in ``cost``/``choice`` and as a factor of
        longer spans (by start and by end)."""
        k, runs = self.k, self.k - d
        best = cand[:, :runs].argmin(axis=0)
        value = cand[best, self.run_index[:runs]]
        self.choice_flat[d:runs * (k + 1):k + 1] = best
        self.cost_flat[d:runs * (k + 1):k + 1] = value
        self.left_cost[d, :runs] = value
        self.right_cost[k - 1 - d, d - self.d0:d - self.d0 + runs] = value


def _decode_choices(choice):
    """``(option, split)`` from the rows of the choices: fwd, rev (or
    explicit for a single segment), then ``d`` rows per option with a split
    (product, tangent and adjoint elimination, at ``s = i..j-1``)."""
    k = len(choice)
    lo, hi = np.arange(k)[:, None], np.arange(k)[None, :]
    span = hi - lo
    past_sweeps = choice - 2
    has_split = (span > 0) & (past_sweeps >= 0)
    which, offset = np.divmod(past_sweeps, np.maximum(span, 1))
    option = np.where(has_split, PRODUCT + which, choice)
    split = np.where(has_split, lo + offset, -1)
    return option, split


def solve_chain(costs: ChainCosts, memory_limit=None):
    """Fill the DP table; return ``(cost, option, split)`` arrays of shape
    (k, k) for the runs of segments ``i..j`` (``inf``, -1, -1 below the
    diagonal; ``split`` is -1 for the options without one).

    The runs of one span ``d = j - i`` are solved together, ``d = 1, 2, ...``,
    each from the runs of shorter spans, in the tables by span of
    ``_span_layout``; the tables are narrowed now and then
    (``_narrowing_points``) as the runs get fewer.
    """
    k, w = costs.k, costs.w
    diagonal = np.array([kind == "diagonal" for kind in costs.kinds], dtype=bool)
    sweeps = _sweep_tables(costs, memory_limit)
    end, by_start, by_end = _span_layout(k)
    pure = _pure_sweeps(sweeps, w, by_start)
    products = _product_terms(w, end, diagonal)
    cost, choice = _single_segment_choices(costs, pure, diagonal)
    spans = _SpanTables(costs, sweeps, by_start, by_end, pure, products, cost, choice)
    points = _narrowing_points(k) + [k]
    for first, stop in zip(points[:-1], points[1:]):
        spans.narrow(first)
        for d in range(first, stop):
            spans.choose(d, spans.candidates(d))
    option, split = _decode_choices(choice)
    return cost, option, split


def _span(i, j):
    """Segments i..j in the notes' notation, ``A(j+1)..A(i+1)`` (the chain reads
    right to left)."""
    return f"A{j + 1}..A{i + 1}" if j > i else f"A{i + 1}"


class PlanNode:
    """One step of a plan: how to get the Jacobian of segments ``i..j``."""

    __slots__ = ("option", "i", "j", "split", "left", "right", "cost")

    def __init__(self, option, i, j, split=-1, left=None, right=None, cost=0.0):
        self.option, self.i, self.j, self.split = option, i, j, split
        self.left, self.right, self.cost = left, right, cost

    def describe(self):
        """The bracketing in the notes' notation, e.g.
        ``([A3: explicit] @ [A2..A1: forward sweeps])``; built children
        first (``post_order``), without recursion."""
        text = {}
        for node, _ in post_order(self):
            if node.option in (FWD, REV, EXPLICIT):
                t = f"[{_span(node.i, node.j)}: {OPTION_NAMES[node.option]}]"
            elif node.option == PRODUCT:
                t = f"({text[id(node.left)]} @ {text[id(node.right)]})"
            elif node.option == TANGENT_ELIM:
                t = (f"[{_span(node.split + 1, node.j)}: tangent sweeps over "
                     f"{text[id(node.right)]}]")
            else:
                t = f"[{_span(node.i, node.split)}: adjoint sweeps under {text[id(node.left)]}]"
            text[id(node)] = t
        return text[id(self)]


def post_order(root):
    """The nodes of a plan tree, each after its children: the order in which
    a plan runs (an explicit stack, no recursion)."""
    stack = [(root, False)]
    while stack:
        node, ready = stack.pop()
        children = [c for c in (node.left, node.right) if c is not None]
        if ready or not children:
            yield node, children
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in children)


def build_plan(cost, option, split, i, j):
    """The plan tree for segments ``i..j`` from the DP table (a loop with an
    explicit stack, no recursion)."""
    root = PlanNode(int(option[i, j]), i, j, int(split[i, j]), cost=float(cost[i, j]))
    stack = [root]
    while stack:
        node = stack.pop()
        s = node.split
        if node.option in (PRODUCT, TANGENT_ELIM, ADJOINT_ELIM):
            if node.option in (PRODUCT, ADJOINT_ELIM):      # left = P(s+1..j)
                node.left = PlanNode(int(option[s + 1, node.j]), s + 1, node.j,
                                     int(split[s + 1, node.j]), cost=float(cost[s + 1, node.j]))
                stack.append(node.left)
            if node.option in (PRODUCT, TANGENT_ELIM):      # right = P(i..s)
                node.right = PlanNode(int(option[node.i, s]), node.i, s,
                                      int(split[node.i, s]), cost=float(cost[node.i, s]))
                stack.append(node.right)
    return root


def plan_totals(root, costs):
    """Predicted flops, bytes moved and peak bytes held of a plan tree.

    Peak memory counts the explicit matrices a plan holds at once (walking
    it in execution order) plus the batched state of its widest sweep;
    residuals are counted for plans with adjoint parts (they need the
    linearized program), not for pure forward mode (which does not store them).
    """
    w = costs.w
    flops = moved = 0.0
    peak = held = 0.0
    adjoint = False
    for node, children in post_order(root):
        i, j, s = node.i, node.j, node.split
        sweep = None
        if node.option == FWD:
            sweep = (i, j, w[i])
        elif node.option == REV:
            sweep, adjoint = (i, j, w[j + 1]), True
        elif node.option == TANGENT_ELIM:
            sweep = (s + 1, j, w[i])
        elif node.option == ADJOINT_ELIM:
            sweep, adjoint = (i, s, w[j + 1]), True
        elif node.option == PRODUCT:
            a, b, c = w[j + 1], w[s + 1], w[i]
            flops += 2 * a * b * c
            moved += ITEM * (a * b + b * c + a * c)
        else:
            moved += ITEM * w[i] * w[i + 1]
        buffer = 0.0
        if sweep is not None:
            a, b, d = sweep
            F, B = (costs.FA, costs.BA) if node.option in (REV, ADJOINT_ELIM) \
                else (costs.F, costs.B)
            flops += d * (F[b + 1] - F[a])
            moved += d * (B[b + 1] - B[a]) + costs.R[b + 1] - costs.R[a]
            buffer = ITEM * d * max(w[a:b + 2])
        # the children's results are consumed, this node's is held
        held -= sum(ITEM * w[c.j + 1] * w[c.i] for c in children)
        held += ITEM * w[j + 1] * w[i]
        peak = max(peak, held + buffer)
    if adjoint:
        peak += costs.S[-1]
    return flops, moved, peak
