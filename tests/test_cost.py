"""Counting flops from the IR (``ClosedIR.cost()``) and the cheap gradient
principle of the lecture notes: reverse mode costs a small constant times
the function, whatever the number of inputs."""
import numpy as np

import chainrule as cr
import chainrule.numpy as cnp


def test_flops_of_a_matrix_product_and_elementwise_ops_by_hand():
    A = np.ones((3, 4))
    ir = cr.make_ir(lambda x: np.tanh(A @ x) * 2.0)(np.ones((4, 5)))
    cost = ir.cost()
    # dot_general: 2 * M * N * K = 2 * 3 * 5 * 4; tanh and mul: one per element of (3, 5)
    assert cost.by_primitive == {"dot_general": 120, "tanh": 15, "mul": 15}
    assert cost.flops == 150


def test_moving_data_costs_no_flops():
    ir = cr.make_ir(lambda x: x.T.reshape(-1)[::2])(np.ones((4, 6)))
    assert ir.cost().flops == 0


def mlp_loss(params, X, Y):
    (U, b), (V, c) = params
    H = np.tanh(X @ U + b)
    return np.sum((H @ V + c - Y) ** 2)


def test_cheap_gradient_principle_on_an_mlp_loss():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((64, 100)), rng.standard_normal((64, 10))
    params = ((rng.standard_normal((100, 50)), np.zeros(50)),
              (rng.standard_normal((50, 10)), np.zeros(10)))
    f_flops = cr.make_ir(mlp_loss)(params, X, Y).cost().flops
    g_flops = cr.make_ir(cr.grad(mlp_loss))(params, X, Y).cost().flops
    # the function: 2*64*100*50 + 2*64*50*10 for the products, plus elementwise
    assert f_flops >= 2 * 64 * 100 * 50 + 2 * 64 * 50 * 10
    # its gradient (forward pass included) costs at most 4 times as much,
    # though it has 100*50 + 50 + 50*10 + 10 = 5560 inputs
    assert f_flops < g_flops <= 4 * f_flops, (f_flops, g_flops)


def test_tangent_and_adjoint_costs_of_a_segment_by_hand():
    # the cost model the Jacobian planner reads: per direction, the flops and
    # bytes of a tangent sweep and of an adjoint sweep through a linear program
    from chainrule.interpreters.chain import segments_at
    W = np.arange(12.0).reshape(3, 4)
    f = lambda x: cnp.sum(W @ x) + cnp.sum(cnp.broadcast_to(x, (2, 4)))  # noqa: E731
    _, f_jvp = cr.linearize(f, np.ones(4))
    assert [e.primitive.name for e in f_jvp.ir.eqns] == [
        "dot_general", "reduce_sum", "broadcast_in_dim", "reduce_sum", "add"]
    (seg,) = segments_at(f_jvp.ir.ir, [0, 5])
    # tangent: dot 2*3*4, sum of 3, broadcast (a view) 0, sum of 8, add 1
    assert seg.flops == 24 + 3 + 0 + 8 + 1
    # adjoint: dot 24, sum -> broadcast 0, broadcast -> sum of 8, sum -> 0,
    # add 1, and x's two cotangents (read twice) added up: 4
    assert seg.adjoint_flops == 24 + 0 + 8 + 0 + 1 + 4
    # bytes per direction (8 per element): tangent dot 4 + 3, sum 3 + 1,
    # broadcast none (a view), sum 8 + 1, add 3
    assert seg.bytes == 8 * (7 + 4 + 0 + 9 + 3)
    # adjoint: dot 7, sum's broadcast none, broadcast's sum 8 + 4, sum none,
    # add 3, accumulating x's cotangents 3 * 4 (two reads, one write)
    assert seg.adjoint_bytes == 8 * (7 + 0 + 12 + 0 + 3 + 12)
    assert seg.residual_bytes == W.nbytes
