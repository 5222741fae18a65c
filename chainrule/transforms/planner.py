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

FLOP_RATE = 4.0e10        # flops/s of a NumPy (BLAS) matrix product
BYTE_RATE = 1.0e10        # bytes/s of a NumPy elementwise pass
EQN_TIME = 1.5e-5         # s per equation per sweep (Python, batch rule, NumPy dispatch)
ADJOINT_FACTOR = 1.2      # an adjoint sweep also accumulates cotangents
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
        self.R = np.cumsum(zero + [s.residual_bytes for s in segments], dtype=np.float64)
        self.S = np.cumsum(zero + [s.stored_bytes for s in segments], dtype=np.float64)
        self.E = np.cumsum(zero + [s.n_eqns for s in segments], dtype=np.float64)
        self.kinds = [s.kind for s in segments]

    def sweep(self, i, j, directions, adjoint=False):
        """Predicted seconds of ``directions`` batched sweeps through ``i..j``."""
        t = ((self.E[j + 1] - self.E[i]) * EQN_TIME
             + directions * (self.F[j + 1] - self.F[i]) / FLOP_RATE
             + (directions * (self.B[j + 1] - self.B[i]) + (self.R[j + 1] - self.R[i]))
             / BYTE_RATE)
        return t * ADJOINT_FACTOR if adjoint else t

    def residuals(self, i, j):
        """Bytes of computed residuals that adjoint sweeps through i..j keep."""
        return self.S[j + 1] - self.S[i]


def product_time(a, b, c):
    """Seconds of a dense ``(a x b) @ (b x c)`` product."""
    return EQN_TIME + 2 * a * b * c / FLOP_RATE + ITEM * (a * b + b * c + a * c) / BYTE_RATE


def scale_time(a, c):
    """Seconds of multiplying an ``a x c`` matrix by a diagonal."""
    return EQN_TIME + 2 * ITEM * a * c / BYTE_RATE


def solve_chain(costs: ChainCosts, memory_limit=None):
    """Fill the DP table; return ``(cost, option, split)`` arrays of shape
    (k, k) for the runs of segments ``i..j``."""
    k, w = costs.k, costs.w
    # a sweep through i..j with d directions costs base[i, j] + d * per_direction[i, j]
    ii, jj = np.triu_indices(k)
    base = np.zeros((k, k))
    per_direction = np.zeros((k, k))
    base[ii, jj] = (costs.E[jj + 1] - costs.E[ii]) * EQN_TIME + (costs.R[jj + 1] - costs.R[ii]) / BYTE_RATE
    per_direction[ii, jj] = ((costs.F[jj + 1] - costs.F[ii]) / FLOP_RATE
                             + (costs.B[jj + 1] - costs.B[ii]) / BYTE_RATE)
    adjoint_ok = np.ones((k, k), dtype=bool)
    if memory_limit is not None:
        adjoint_ok[ii, jj] = costs.residuals(ii, jj) <= memory_limit
    adj_base = np.where(adjoint_ok, base * ADJOINT_FACTOR, np.inf)
    adj_per_direction = per_direction * ADJOINT_FACTOR

    cost = np.full((k, k), np.inf)
    option = np.full((k, k), -1, dtype=np.int64)
    split = np.full((k, k), -1, dtype=np.int64)
    diagonal = np.array([kind == "diagonal" for kind in costs.kinds])
    explicit = np.array([(EQN_TIME + ITEM * w[s] * w[s + 1] / BYTE_RATE) if kind == "explicit"
                         else (EQN_TIME + ITEM * w[s] / BYTE_RATE) if kind == "diagonal"
                         else np.inf for s, kind in enumerate(costs.kinds)])
    i = np.arange(k)
    single = np.vstack([base[i, i] + w[i] * per_direction[i, i],
                        adj_base[i, i] + w[i + 1] * adj_per_direction[i, i], explicit])
    option[i, i] = np.argmin(single, axis=0)
    cost[i, i] = single[option[i, i], i]
    any_diagonal = bool(diagonal.any())
    flop_cost, byte_cost = 2 / FLOP_RATE, ITEM / BYTE_RATE
    # pure sweeps over each run i..j: w[i] tangent or w[j+1] adjoint directions
    forward_all = base + w[:k, None] * per_direction
    reverse_all = adj_base + w[None, 1:] * adj_per_direction
    candidates = np.full((6, k), np.inf)            # rows: the options, in option order
    no_split = np.full(k, -1)
    for length in range(1, k):
        runs = k - length
        i = np.arange(runs)
        j = i + length
        s = i[:, None] + np.arange(length)                  # split after segment s
        s1 = s + 1
        I, J = i[:, None], j[:, None]
        left = cost[I, s]                                   # P(i..s)
        right = cost[s1, J]                                 # P(s+1..j)
        a, b, c = w[length + 1:length + 1 + runs, None], w[s1], w[:runs, None]
        bc = b * c
        product_time = EQN_TIME + a * (bc * flop_cost + byte_cost * (b + c)) + byte_cost * bc
        if any_diagonal:   # a single diagonal factor only scales the other one
            scaling = (diagonal[s1] & (s1 == J)) | (diagonal[I] & (s == I))
            product_time = np.where(scaling, EQN_TIME + 2 * byte_cost * a * c, product_time)
        splits = np.stack([left + right + product_time,
                           left + base[s1, J] + c * per_direction[s1, J],
                           right + adj_base[I, s] + a * adj_per_direction[I, s]])
        best = splits.argmin(axis=2)                        # (3, runs): the best split
        cand = candidates[:, :runs]
        cand[FWD] = np.diagonal(forward_all, length)
        cand[REV] = np.diagonal(reverse_all, length)
        cand[PRODUCT:] = np.take_along_axis(splits, best[:, :, None], axis=2)[:, :, 0]
        opt = cand.argmin(axis=0)
        cost[i, j] = cand[opt, i]
        option[i, j] = opt
        split[i, j] = np.where(opt >= PRODUCT, i + best[np.maximum(opt - PRODUCT, 0), i],
                               no_split[:runs])
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
            flops += d * (costs.F[b + 1] - costs.F[a])
            moved += d * (costs.B[b + 1] - costs.B[a]) + costs.R[b + 1] - costs.R[a]
            buffer = ITEM * d * max(w[a:b + 2])
        # the children's results are consumed, this node's is held
        held -= sum(ITEM * w[c.j + 1] * w[c.i] for c in children)
        held += ITEM * w[j + 1] * w[i]
        peak = max(peak, held + buffer)
    if adjoint:
        peak += costs.S[-1]
    return flops, moved, peak
