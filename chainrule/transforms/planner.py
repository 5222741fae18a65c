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


def product_time(a, b, c):
    """Seconds of a dense ``(a x b) @ (b x c)`` product."""
    return EQN_TIME + 2 * a * b * c / FLOP_RATE + ITEM * (a * b + b * c + a * c) / BYTE_RATE


def scale_time(a, c):
    """Seconds of multiplying an ``a x c`` matrix by a diagonal."""
    return EQN_TIME + 2 * ITEM * a * c / BYTE_RATE


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


def solve_chain(costs: ChainCosts, memory_limit=None):
    """Fill the DP table; return ``(cost, option, split)`` arrays of shape
    (k, k) for the runs of segments ``i..j`` (``inf``, -1, -1 below the
    diagonal; ``split`` is -1 for the options without one).

    The runs of one span ``d = j - i`` are solved together, ``d = 1, 2, ...``;
    run ``i..j`` split after ``s = i + t`` (``t = 0..d-1``) needs the left
    factor ``P(i..s)``, of span ``t``, and the right factor ``P(s+1..j)``, of
    span ``d-1-t``, both solved before.  The layout makes this fast:

    * Every table is kept *by span*, one row per span: ``by_start[t, i]`` is
      the cost of run ``i..i+t`` (by its start), ``by_end[k-1-u, j]`` the
      cost of run ``j-u..j`` (by its end, rows in reverse).  For span ``d``,
      in a layout ``[t, i]`` (split, run), the left factors are rows
      ``0..d-1`` of ``by_start`` and the right factors rows ``k-d..k-1`` of
      ``by_end`` from column ``d`` on (column ``j = i + d``); the reversed
      rows turn the falling span ``d-1-t`` of the right factor into a rising
      row.  The same goes for the sweeps the eliminations need (through
      ``i..s`` by start, through ``s+1..j`` by end) and for a product's
      widths ``w[i]``, ``w[s+1]``, ``w[j+1]``.
    * The tables are stored flat, row after row, so those rows are *one
      contiguous slice*: each candidate, for every split of every run at
      once, costs a few NumPy calls on contiguous memory (no gathers, no
      loop over runs).  The columns of a slice past the last run
      (``i >= k - d``) hold junk that never reaches a result.
    * The candidates of span ``d`` are stacked as rows, ``[fwd, rev,
      product at t = 0..d-1, tangent elimination at t = 0..d-1, adjoint
      elimination at t = 0..d-1]``: the first minimum of a column (a run) is
      its choice, so ties go to the earlier option, then to the smaller
      split.
    * With ``d`` there are fewer runs (``k - d``), so the rows are narrowed
      now and then (``_narrowing_points``) to save work on junk columns.
    """
    k, w = costs.k, costs.w
    # sweeps through lo..hi, [lo, hi] (junk below the diagonal): with d
    # directions, base + d * per_direction seconds
    lo, hi = np.arange(k)[:, None], np.arange(k)[None, :]
    E, R, F, B, S = costs.E, costs.R, costs.F, costs.B, costs.S
    FA, BA = costs.FA, costs.BA
    base = (E[1:][hi] - E[lo]) * EQN_TIME + (R[1:][hi] - R[lo]) / BYTE_RATE
    per_direction = (F[1:][hi] - F[lo]) / FLOP_RATE + (B[1:][hi] - B[lo]) / BYTE_RATE
    adj_base = base.copy()
    if memory_limit is not None:   # adjoint sweeps must not keep more residuals than allowed
        adj_base[S[1:][hi] - S[lo] > memory_limit] = np.inf
    adj_per_direction = (FA[1:][hi] - FA[lo]) / FLOP_RATE + (BA[1:][hi] - BA[lo]) / BYTE_RATE
    forward = base + w[:k, None] * per_direction           # pure sweeps over i..j
    reverse = adj_base + w[None, 1:] * adj_per_direction

    # the same by span (the layouts of the docstring): k + 1 rows, k columns,
    # as positions in a flat [lo, hi] table (clipped to the chain: junk)
    row, col = np.arange(k + 1)[:, None], np.arange(k)[None, :]
    end = np.minimum(col + row, k - 1)                     # [t, i]: run i..i+t
    by_start = col * k + end
    last = np.minimum(col + 1, k - 1)                      # [k-1-u, j-1]: run j-u..j
    by_end = np.maximum(np.minimum(last - (k - 1 - row), last), 0) * k + last
    pure = np.empty((2, k + 1, k))                         # [fwd/rev, d, i]
    np.take(forward, by_start, out=pure[0])
    np.take(reverse, by_start, out=pure[1])
    # product P(s+1..j) @ P(i..s), (a x b) @ (b x c) with a = w[j+1], b = w[s+1], c = w[i]:
    # EQN_TIME + a * ab_terms + bc_term (a depends on the run, the rest on [t, i])
    flop_cost, byte_cost = 2 / FLOP_RATE, ITEM / BYTE_RATE
    c, b = w[:k], np.take(w, end + 1)                      # [t, i]: w[i], w[i+t+1]
    ab_terms = b * c * flop_cost + byte_cost * (b + c)
    bc_term = byte_cost * (b * c)
    diagonal = np.array([kind == "diagonal" for kind in costs.kinds], dtype=bool)
    any_diagonal = bool(diagonal.any())
    if any_diagonal:
        # a single diagonal factor only scales the other one: this changes the
        # first split (t = 0, A_i diagonal) and the last (t = d-1, A_j
        # diagonal); their product times by [d, i], with b = a = w[i+d+1]
        scaling = EQN_TIME + 2 * byte_cost * b * c
        first_product = EQN_TIME + b * ab_terms[0] + bc_term[0]
        last_product = EQN_TIME + b * np.vstack([ab_terms[:1], ab_terms[:-1]]) \
            + np.vstack([bc_term[:1], bc_term[:-1]])
        first_scales = np.repeat(diagonal[None, :], k + 1, axis=0)
        last_scales = np.take(diagonal, end)
        first_scales[1] |= last_scales[1]                  # d = 1: one split, both cases
        last_scales[1] |= diagonal
        first_product = np.where(first_scales, scaling, first_product)
        last_product = np.where(last_scales, scaling, last_product)

    # single segments: forward sweeps, reverse sweeps or the explicit Jacobian
    explicit = np.where([kind == "explicit" for kind in costs.kinds],
                        EQN_TIME + ITEM * w[:-1] * w[1:] / BYTE_RATE,
                        np.where(diagonal, EQN_TIME + ITEM * w[:-1] / BYTE_RATE, np.inf))
    single = np.vstack([pure[:, 0], explicit])
    cost = np.full((k, k), np.inf)
    choice = np.full((k, k), -1, dtype=np.int64)           # row of the choice among the candidates
    cost_flat, choice_flat = cost.ravel(), choice.ravel()  # superdiagonal d: [d::k+1]
    choice_flat[::k + 1] = single.argmin(axis=0)
    cost_flat[::k + 1] = single.min(axis=0)

    # the tables the loop reads, by span: "start" ones from row 0, "end" ones
    # (column j - d0, d0 = 1 for now) from row k - d and column d - d0
    left_cost = np.full((k + 1, k), np.inf)                # by start
    right_cost = np.full((k + 1, k), np.inf)               # by end
    left_cost[0] = cost_flat[::k + 1]
    right_cost[k - 1, :k - 1] = left_cost[0, 1:]
    starts = [left_cost, ab_terms, bc_term,
              np.take(adj_base, by_start), np.take(adj_per_direction, by_start)]
    ends = [right_cost, np.take(base, by_end), np.take(per_direction, by_end)]
    w_padded = np.concatenate([w, np.zeros(k + 2)])
    column = np.empty((2 + 3 * (k - 1)) * k)               # the candidates of a span
    scratch = np.empty(k * k)
    run_index = np.arange(k)

    points = _narrowing_points(k) + [k]
    d0, K = 1, k                                            # K: columns (row stride) of the tables
    for first, stop in zip(points[:-1], points[1:]):
        if first > d0:   # narrow the tables to the runs left: K = k - first + 1 columns
            shift, d0, K = first - d0, first, k - first + 1
            starts = [np.ascontiguousarray(x[:, :K]) for x in starts]
            ends = [np.ascontiguousarray(x[:, shift:shift + K]) for x in ends]
        left_cost, right_cost = starts[0], ends[0]
        left_flat, ab_flat, bc_flat, adj_base_flat, adj_per_direction_flat = \
            [x.ravel() for x in starts]
        right_flat, base_flat, per_direction_flat = [x.ravel() for x in ends]
        # the run factors in the flat [t, i] layout: w[i] at t*K + i (c_rows),
        # w[j+1] = w[i+d+1] at d - d0 + t*K + i (a_rows)
        c_rows = np.tile(w_padded[:K], k + 1)
        a_rows = np.tile(w_padded[d0 + 1:d0 + 1 + K], k + 2)
        for d in range(first, stop):
            runs = k - d
            n = d * K                                       # rows t = 0..d-1
            r0 = (k - d) * K + d - d0                       # right factors: row k-d, column d - d0
            a, c = a_rows[d - d0:d - d0 + n], c_rows[:n]
            left, right = left_flat[:n], right_flat[r0:r0 + n]
            tmp = scratch[:n]
            cand = column[:(2 + 3 * d) * K].reshape(2 + 3 * d, K)
            cand[:2] = pure[:, d, :K]
            product = column[2 * K:(2 + d) * K]
            tangent = column[(2 + d) * K:(2 + 2 * d) * K]
            adjoint = column[(2 + 2 * d) * K:(2 + 3 * d) * K]
            # product: left + right + (EQN_TIME + a * ab_terms + bc_term)
            np.multiply(a, ab_flat[:n], out=product)
            product += EQN_TIME
            product += bc_flat[:n]
            if any_diagonal:
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
            best = cand[:, :runs].argmin(axis=0)
            value = cand[best, run_index[:runs]]
            choice_flat[d:runs * (k + 1):k + 1] = best
            cost_flat[d:runs * (k + 1):k + 1] = value
            left_cost[d, :runs] = value
            right_cost[k - 1 - d, d - d0:d - d0 + runs] = value

    # decode the candidate rows: fwd, rev, then d rows per option with a split
    span = hi - lo
    past_sweeps = choice - 2
    has_split = (span > 0) & (past_sweeps >= 0)
    which, offset = np.divmod(past_sweeps, np.maximum(span, 1))
    option = np.where(has_split, PRODUCT + which, choice)
    split = np.where(has_split, lo + offset, -1)
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

    def describe(self, segments):
        """A bracketing like ``(A3 A2) <- rev`` in the notes' notation."""
        name = OPTION_NAMES[self.option]
        if self.option in (FWD, REV, EXPLICIT):
            return f"[{_span(self.i, self.j)}: {name}]"
        if self.option == PRODUCT:
            return f"({self.left.describe(segments)} @ {self.right.describe(segments)})"
        if self.option == TANGENT_ELIM:
            return (f"[{_span(self.split + 1, self.j)}: tangent sweeps over "
                    f"{self.right.describe(segments)}]")
        return (f"[{_span(self.i, self.split)}: adjoint sweeps under "
                f"{self.left.describe(segments)}]")


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
