"""The demo run by ``make demo`` (``python -m chainrule.demo``).

It traces a function written with plain ``import numpy as np`` into
chainrule's IR, prints the IR, evaluates it, and checks the result against
calling the function directly with NumPy.

Then it differentiates the same function in reverse mode, prints the
gradient's program and checks the numbers against the partial derivatives
derived by hand.
It uses only the public API: ``import chainrule as cr``.
"""

import numpy as np

import chainrule as cr


def f(x, y):
    a = np.log(x)
    b = y * a
    return b + np.sqrt(b)


def heading(text):
    print()
    print(text)
    print("=" * len(text))


def show(x, y):
    """Trace f at (x, y), print its IR, evaluate it and compare with NumPy."""
    ir = cr.make_ir(f)(x, y)

    print("IR:")
    print(ir)
    print()
    print("IR with source lines:")
    print(ir.pretty(source_info=True))
    print()

    traced = ir.eval(x, y)
    direct = f(x, y)
    print(f"ir.eval(x, y) = {traced}")
    print(f"f(x, y)       = {direct}   (plain NumPy)")
    assert np.shape(traced) == np.shape(direct), (np.shape(traced), np.shape(direct))
    assert np.all(np.isclose(traced, direct)), (traced, direct)
    print("they agree")


def show_gradient(x, y):
    """Print the gradient's program (linearize, then transpose) and its value,
    and check it against the partial derivatives derived by hand."""
    grad_f = cr.grad(f, argnums=(0, 1))
    print("IR of grad(f): the forward computation, then the backward one")
    print(cr.make_ir(grad_f)(x, y))
    print()
    print("The linear (tangent) program that reverse mode transposes:")
    _, f_jvp = cr.linearize(f, x, y)
    print(f_jvp.ir)
    print()
    dx, dy = grad_f(x, y)
    # by hand: a = log x, b = y a, f = b + sqrt b
    a = np.log(x)
    b = y * a
    df_db = 1 + 1 / (2 * np.sqrt(b))
    print(f"grad f(x, y)  = ({dx}, {dy})")
    print(f"by hand       = ({df_db * y / x}, {df_db * a})   "
          "(df/db = 1 + 1/(2 sqrt b), df/dx = df/db * y/x, df/dy = df/db * log x)")
    assert np.isclose(dx, df_db * y / x) and np.isclose(dy, df_db * a)
    print("they agree")


def main():
    heading("f(x, y) = y*log(x) + sqrt(y*log(x)), at scalars x=2.0, y=3.0")
    show(2.0, 3.0)

    # A vector x with a scalar y: NumPy broadcasts y implicitly; in the IR
    # that broadcast is an explicit broadcast_in_dim equation.
    heading("The same f at a vector x=[1.0, 2.0, 3.0] and scalar y=2.0")
    show(np.array([1.0, 2.0, 3.0]), 2.0)

    heading("Reverse mode: the gradient of f at x=2.0, y=3.0")
    show_gradient(2.0, 3.0)


if __name__ == "__main__":
    main()
