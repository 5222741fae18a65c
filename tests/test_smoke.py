"""The lecture example end to end: trace, print, evaluate."""
import numpy as np

import chainrule as cr


def f(x, y):
    a = np.log(x)
    b = y * a
    return b + np.sqrt(b)


def test_lecture_example_traces_prints_and_evaluates():
    ir = cr.make_ir(f)(2.0, 3.0)
    assert str(ir) == """\
{ lambda ; a:f64[] b:f64[]. let
    c:f64[] = log a
    d:f64[] = mul b c
    e:f64[] = sqrt d
    f:f64[] = add d e
  in (f,) }"""
    ir.check()
    expected = 3.0 * np.log(2.0) + np.sqrt(3.0 * np.log(2.0))
    assert np.isclose(ir.eval(2.0, 3.0), expected)
