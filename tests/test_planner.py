"""The Jacobian chain planner: the vectorized DP against brute force, its
bounds against the pure modes, memory limits, and planning time."""
import itertools
import time

import numpy as np
import pytest

from chainrule.transforms import planner


# the reference's own formulas for a product's time (the planner computes the
# same quantities vectorized, for all runs of a span at once)
def product_time(a, b, c):
    """Seconds of a dense ``(a x b) @ (b x c)`` product."""
    return (planner.EQN_TIME + 2 * a * b * c / planner.FLOP_RATE
            + planner.ITEM * (a * b + b * c + a * c) / planner.BYTE_RATE)


def scale_time(a, c):
    """Seconds of multiplying an ``a x c`` matrix by a diagonal."""
    return planner.EQN_TIME + 2 * planner.ITEM * a * c / planner.BYTE_RATE


def explicit_time(costs, i):
    """Seconds of reading segment ``i``'s Jacobian off the program: its
    constant operand, or its diagonal (inf for a dense segment)."""
    w, kind = costs.w, costs.kinds[i]
    if kind == "explicit":
        return planner.EQN_TIME + planner.ITEM * w[i] * w[i + 1] / planner.BYTE_RATE
    if kind == "diagonal":
        return planner.EQN_TIME + planner.ITEM * w[i] / planner.BYTE_RATE
    return np.inf


class FakeSegment:
    def __init__(self, rng, kind="dense"):
        self.flops = int(rng.integers(1, 10 ** 6))
        self.bytes = int(rng.integers(1, 10 ** 6))
        self.adjoint_flops = int(rng.integers(1, 10 ** 6))
        self.adjoint_bytes = int(rng.integers(1, 10 ** 6))
        self.residual_bytes = int(rng.integers(0, 10 ** 7))
        self.stored_bytes = int(rng.integers(0, self.residual_bytes + 1))
        self.n_eqns = int(rng.integers(1, 20))
        self.kind = kind


def random_chain(rng, k):
    kinds = ["dense", "explicit", "diagonal"]
    segments = [FakeSegment(rng, kinds[int(rng.integers(0, 3))]) for _ in range(k)]
    widths = [int(w) for w in rng.integers(1, 2001, size=k + 1)]
    return planner.ChainCosts(segments, widths)


def brute_force(costs, i, j, memory_limit=None):
    """Every bracketing and every way of getting each factor, enumerated
    without the DP's table: the minimum predicted time for segments i..j."""
    w = costs.w
    fwd = costs.sweep(i, j, w[i])
    rev = costs.sweep(i, j, w[j + 1], adjoint=True)
    if memory_limit is not None and costs.residuals(i, j) > memory_limit:
        rev = np.inf
    options = [fwd, rev]
    if i == j:
        kind = costs.kinds[i]
        if kind == "explicit":
            options.append(planner.EQN_TIME + planner.ITEM * w[i] * w[i + 1] / planner.BYTE_RATE)
        elif kind == "diagonal":
            options.append(planner.EQN_TIME + planner.ITEM * w[i] / planner.BYTE_RATE)
        return min(options)
    for s in range(i, j):
        left = brute_force(costs, i, s, memory_limit)
        right = brute_force(costs, s + 1, j, memory_limit)
        a, b, c = w[j + 1], w[s + 1], w[i]
        scaling = (costs.kinds[s + 1] == "diagonal" and s + 1 == j) or \
                  (costs.kinds[i] == "diagonal" and s == i)
        product = scale_time(a, c) if scaling else product_time(a, b, c)
        options.append(left + right + product)
        options.append(left + costs.sweep(s + 1, j, w[i]))
        adjoint = right + costs.sweep(i, s, w[j + 1], adjoint=True)
        if memory_limit is not None and costs.residuals(i, s) > memory_limit:
            adjoint = np.inf
        options.append(adjoint)
    return min(options)


@pytest.mark.parametrize("seed", range(40))
def test_dp_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 9))
    costs = random_chain(rng, k)
    limit = None if seed % 3 else float(rng.integers(10 ** 6, 3 * 10 ** 7))
    cost, option, split = planner.solve_chain(costs, limit)
    assert cost[0, k - 1] == pytest.approx(brute_force(costs, 0, k - 1, limit), rel=1e-12)
    # never above the pure modes
    assert cost[0, k - 1] <= costs.sweep(0, k - 1, costs.w[0]) * (1 + 1e-12)
    if limit is None:
        assert cost[0, k - 1] <= costs.sweep(0, k - 1, costs.w[-1], adjoint=True) * (1 + 1e-12)


def coarse_chain(rng, k):
    """Few distinct widths and costs: many exact ties between options and splits."""
    kinds = ["dense", "explicit", "diagonal"]
    segments = []
    for _ in range(k):
        seg = FakeSegment(rng, kinds[int(rng.integers(0, 3))])
        seg.flops, seg.bytes = int(rng.integers(0, 3)) * 1000, int(rng.integers(0, 3)) * 1000
        seg.adjoint_flops, seg.adjoint_bytes = seg.flops, seg.bytes
        seg.residual_bytes = seg.stored_bytes = int(rng.integers(0, 3)) * 10 ** 6
        seg.n_eqns = int(rng.integers(0, 2))
        segments.append(seg)
    widths = [int(w) for w in rng.choice([1, 2, 4, 10], size=k + 1)]
    return planner.ChainCosts(segments, widths)


def loop_dp(costs, memory_limit=None):
    """The DP of ``solve_chain`` in plain loops, one run and one split at a
    time, with the same arithmetic: the same tables, bit for bit.  Ties go to
    the first candidate in the order fwd, rev, explicit, then product,
    tangent and adjoint elimination, each at s = i..j-1."""
    k, w = costs.k, costs.w
    E, R, F, B, S = costs.E, costs.R, costs.F, costs.B, costs.S
    FA, BA = costs.FA, costs.BA
    flop_cost, byte_cost = 2 / planner.FLOP_RATE, planner.ITEM / planner.BYTE_RATE

    def sweeps(lo, hi, adjoint=False):      # (base, per_direction) through lo..hi
        base = (E[hi + 1] - E[lo]) * planner.EQN_TIME + (R[hi + 1] - R[lo]) / planner.BYTE_RATE
        if not adjoint:
            return base, ((F[hi + 1] - F[lo]) / planner.FLOP_RATE
                          + (B[hi + 1] - B[lo]) / planner.BYTE_RATE)
        if memory_limit is not None and S[hi + 1] - S[lo] > memory_limit:
            base = np.inf
        return base, ((FA[hi + 1] - FA[lo]) / planner.FLOP_RATE
                      + (BA[hi + 1] - BA[lo]) / planner.BYTE_RATE)

    def diagonal(s):
        return costs.kinds[s] == "diagonal"

    cost = np.full((k, k), np.inf)
    option = np.full((k, k), -1)
    split = np.full((k, k), -1)
    for d in range(k):
        for i in range(k - d):
            j = i + d
            a, c = w[j + 1], w[i]
            base, per_direction = sweeps(i, j)
            adj_base, adj_per_direction = sweeps(i, j, adjoint=True)
            candidates = [(base + c * per_direction, planner.FWD, -1),
                          (adj_base + a * adj_per_direction, planner.REV, -1)]
            if d == 0:
                candidates.append((explicit_time(costs, i), planner.EXPLICIT, -1))
            for s in range(i, j):
                b = w[s + 1]
                if (diagonal(s + 1) and s + 1 == j) or (diagonal(i) and s == i):
                    product = planner.EQN_TIME + 2 * byte_cost * a * c
                else:
                    product = (planner.EQN_TIME + a * (b * c * flop_cost + byte_cost * (b + c))
                               + byte_cost * (b * c))
                candidates.append((cost[i, s] + cost[s + 1, j] + product, planner.PRODUCT, s))
            for s in range(i, j):
                base, per_direction = sweeps(s + 1, j)
                candidates.append((cost[i, s] + base + c * per_direction, planner.TANGENT_ELIM, s))
            for s in range(i, j):
                adj_base, adj_per_direction = sweeps(i, s, adjoint=True)
                candidates.append((cost[s + 1, j] + adj_base + a * adj_per_direction,
                                   planner.ADJOINT_ELIM, s))
            best = candidates[0]
            for candidate in candidates[1:]:
                if candidate[0] < best[0]:
                    best = candidate
            cost[i, j], option[i, j], split[i, j] = best
    return cost, option, split


@pytest.mark.parametrize("seed", range(12))
def test_dp_tables_equal_a_plain_loop_dp(seed):
    # whole tables, ties included (coarse chains), up to k = 40: past the
    # point where solve_chain narrows its tables
    rng = np.random.default_rng(500 + seed)
    k = [1, 2, 3, 6, 9, 16, 17, 24, 33, 34, 40, 40][seed]
    costs = coarse_chain(rng, k) if seed % 2 else random_chain(rng, k)
    high = 3 * 10 ** 6 if seed % 2 else 3 * 10 ** 7
    limit = None if seed % 3 == 0 else float(rng.integers(0, high))
    expected = loop_dp(costs, limit)
    tables = planner.solve_chain(costs, limit)
    for name, got, want in zip(("cost", "option", "split"), tables, expected):
        np.testing.assert_array_equal(got, want, err_msg=name)


@pytest.mark.parametrize("seed", range(10))
def test_plan_tree_reproduces_its_cost_and_respects_the_memory_limit(seed):
    rng = np.random.default_rng(100 + seed)
    k = int(rng.integers(2, 9))
    costs = random_chain(rng, k)
    limit = float(rng.integers(10 ** 6, 2 * 10 ** 7))
    cost, option, split = planner.solve_chain(costs, limit)
    root = planner.build_plan(cost, option, split, 0, k - 1)
    # walk the tree: the costs of its parts add up to the root's, and no
    # adjoint part needs more residual memory than allowed
    total, stack = 0.0, [root]
    w = costs.w
    while stack:
        node = stack.pop()
        i, j, s = node.i, node.j, node.split
        if node.option == planner.FWD:
            total += costs.sweep(i, j, w[i])
        elif node.option == planner.REV:
            assert costs.residuals(i, j) <= limit
            total += costs.sweep(i, j, w[j + 1], adjoint=True)
        elif node.option == planner.EXPLICIT:
            total += explicit_time(costs, i)
        elif node.option == planner.PRODUCT:
            scaling = (costs.kinds[s + 1] == "diagonal" and s + 1 == j) or \
                      (costs.kinds[i] == "diagonal" and s == i)
            total += (scale_time(w[j + 1], w[i]) if scaling
                      else product_time(w[j + 1], w[s + 1], w[i]))
        elif node.option == planner.TANGENT_ELIM:
            total += costs.sweep(s + 1, j, w[i])
        else:
            assert costs.residuals(i, s) <= limit
            total += costs.sweep(i, s, w[j + 1], adjoint=True)
        stack.extend(c for c in (node.left, node.right) if c is not None)
    assert total == pytest.approx(cost[0, k - 1], rel=1e-9)


def test_planning_64_segments_is_fast():
    costs = random_chain(np.random.default_rng(7), 64)
    planner.solve_chain(costs)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        planner.solve_chain(costs)
        times.append(time.perf_counter() - start)
    # the acceptance bound is 5 ms; this only guards against an order-of-magnitude
    # regression on a loaded machine (the benchmark reports the real number)
    assert min(times) < 0.05, min(times)
