"""Counting flops from the IR (``ClosedIR.cost()``) and the cheap gradient
principle of the lecture notes: reverse mode costs a small constant times
the function, whatever the number of inputs."""
import numpy as np

import chainrule as cr


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
