"""Pytrees: flatten/unflatten, and make_ir taking and returning them, with
static arguments."""
import collections

import numpy as np
import pytest

import chainrule as cr
from chainrule.tracer.pytree import tree_map

Point = collections.namedtuple("Point", ["x", "y"])


class Box:
    """A user class: its ``value`` is a child, its ``name`` aux data."""

    def __init__(self, value, name):
        self.value = value
        self.name = name

    def __eq__(self, other):
        return (type(other) is Box and self.name == other.name
                and np.array_equal(self.value, other.value))


cr.register_pytree_node(Box, lambda b: ((b.value,), b.name), lambda name, c: Box(c[0], name))


def roundtrip(tree):
    leaves, treedef = cr.tree_flatten(tree)
    return leaves, treedef, cr.tree_unflatten(treedef, leaves)


# -- flatten / unflatten ---------------------------------------------------------------
@pytest.mark.parametrize("tree, leaves", [
    ((1, 2, 3), [1, 2, 3]),
    ([1, [2, 3]], [1, 2, 3]),
    ({"b": 1, "a": 2, "c": 3}, [2, 1, 3]),          # dict values by sorted key
    ((1, None, 2), [1, 2]),                          # None has no leaves
    (None, []),
    ((), []),
    ([], []),
    ({}, []),
    (Point(1, 2), [1, 2]),
    (5.0, [5.0]),                                    # a leaf alone
    ("text", ["text"]),                              # unregistered types are leaves
    ({"w": [1, (2, None)], "b": {"z": 3, "y": Point(4, 5)}}, [4, 5, 3, 1, 2]),
])
def test_flatten_leaves_and_roundtrip(tree, leaves):
    got, treedef, back = roundtrip(tree)
    assert got == leaves
    assert treedef.num_leaves == len(leaves)
    assert back == tree
    assert type(back) is type(tree)


def test_namedtuple_keeps_its_type():
    _, _, back = roundtrip([Point(1, 2), Point(3, Point(4, 5))])
    assert type(back[0]) is Point and type(back[1].y) is Point
    assert back[1].y.x == 4
    assert cr.tree_structure(Point(1, 2)) != cr.tree_structure((1, 2))


def test_dict_keys_come_back_sorted():
    _, _, back = roundtrip({"c": 1, "a": 2, "b": 3})
    assert list(back) == ["a", "b", "c"]


def test_registered_user_class():
    tree = [Box(np.arange(3.0), "first"), {"k": Box(2.5, "second")}]
    leaves, treedef, back = roundtrip(tree)
    assert len(leaves) == 2
    np.testing.assert_array_equal(leaves[0], np.arange(3.0))
    assert leaves[1] == 2.5
    assert back == tree
    # aux data is part of the structure
    assert cr.tree_structure(Box(1.0, "a")) != cr.tree_structure(Box(1.0, "b"))
    assert cr.tree_structure(Box(1.0, "a")) == cr.tree_structure(Box(np.ones(3), "a"))


def test_arrays_are_leaves():
    a = np.ones((2, 3))
    leaves, treedef = cr.tree_flatten({"a": a, "s": np.float64(1.0)})
    assert leaves[0] is a and treedef.num_leaves == 2


def test_structure_equality_and_hash():
    s1 = cr.tree_structure({"a": (1, 2), "b": [3]})
    s2 = cr.tree_structure({"b": [30], "a": (10, 20)})
    assert s1 == s2 and hash(s1) == hash(s2)
    assert s1 != cr.tree_structure({"a": (1, 2), "c": [3]})
    assert s1 != cr.tree_structure({"a": [1, 2], "b": [3]})
    assert cr.tree_structure(()) != cr.tree_structure([])
    assert cr.tree_structure(None) != cr.tree_structure(())
    assert cr.tree_structure(None) != cr.tree_structure(1)


def test_unflatten_wrong_number_of_leaves():
    treedef = cr.tree_structure((1, [2, 3]))
    assert cr.tree_unflatten(treedef, "abc") == ("a", ["b", "c"])
    with pytest.raises(ValueError):
        cr.tree_unflatten(treedef, [1, 2])
    with pytest.raises(ValueError):
        cr.tree_unflatten(treedef, [1, 2, 3, 4])


def test_tree_leaves_and_map():
    tree = {"b": (1, 2), "a": [3, None]}
    assert cr.tree_leaves(tree) == [3, 1, 2]
    assert cr.tree_map(lambda v: v * 10, tree) == {"a": [30, None], "b": (10, 20)}
    assert tree_map(lambda u, v: u + v, (1, [2]), (10, [20])) == (11, [22])
    with pytest.raises(ValueError):
        tree_map(lambda u, v: u + v, (1, [2]), (10, 20))


def test_flatten_is_leaf():
    tree = {"a": (1, 2), "b": [3]}
    leaves, treedef = cr.tree_flatten(tree, is_leaf=lambda t: isinstance(t, tuple))
    assert leaves == [(1, 2), 3]
    assert cr.tree_unflatten(treedef, leaves) == tree


# -- make_ir with pytrees -----------------------------------------------------------------
def dict_in_tuple_out(params):
    y = params["w"] * params["x"]
    return y, {"total": np.sum(params["x"]), "none": None}


def test_make_ir_dict_in_tuple_out():
    closed = cr.make_ir(dict_in_tuple_out)({"x": np.ones(3), "w": 2.0})
    closed.check()
    # inputs in sorted-key order: w (a) before x (b)
    assert str(closed) == """\
{ lambda ; a:f64[] b:f64[3]. let
    c:f64[3] = broadcast_in_dim[broadcast_dimensions=() shape=(3,)] a
    d:f64[3] = mul c b
    e:f64[] = reduce_sum[axes=(0,)] b
  in (d, e) }"""
    x = np.array([1.0, -2.0, 0.5])
    out = closed.eval({"w": 3.0, "x": x})
    assert type(out) is tuple and len(out) == 2
    np.testing.assert_allclose(out[0], 3.0 * x)
    assert set(out[1]) == {"total", "none"}
    assert out[1]["none"] is None
    assert out[1]["total"] == pytest.approx(np.sum(x))


def test_make_ir_lists_namedtuples_and_registered_classes():
    def f(layers, point, box):
        h = point.x
        for w in layers:
            h = np.tanh(h @ w)
        return Point(h * box.value, [point.y]), Box(h.sum(), box.name)

    rng = np.random.default_rng(0)
    layers = [rng.normal(size=(2, 3)), rng.normal(size=(3, 3))]
    point = Point(rng.normal(size=2), np.float64(4.0))
    box = Box(rng.normal(size=3), "scale")
    closed = cr.make_ir(f)(layers, point, box)
    closed.check()
    assert len(closed.in_avals) == 5  # two layers, two point fields, one box value
    out = closed.eval(layers, point, box)
    h = np.tanh(np.tanh(point.x @ layers[0]) @ layers[1])
    assert type(out) is tuple and type(out[0]) is Point and type(out[1]) is Box
    np.testing.assert_allclose(out[0].x, h * box.value)
    assert isinstance(out[0].y, list) and out[0].y[0] == 4.0
    assert out[1].name == "scale"
    assert out[1].value == pytest.approx(h.sum())


def test_eval_rejects_a_different_structure():
    closed = cr.make_ir(dict_in_tuple_out)({"x": np.ones(3), "w": 2.0})
    with pytest.raises(cr.ShapeError):
        closed.eval({"x": np.ones(3), "v": 2.0})
    with pytest.raises(cr.ShapeError):
        closed.eval(np.ones(3), 2.0)


def test_none_inputs_and_outputs():
    closed = cr.make_ir(lambda a, b: (None, a * 2.0))(1.0, None)
    assert str(closed) == """\
{ lambda ; a:f64[]. let
    b:f64[] = mul a 2.0:f64[]
  in (b,) }"""
    assert closed.eval(4.0, None) == (None, 8.0)


def test_non_array_leaf_is_a_clear_error():
    with pytest.raises(TypeError) as info:
        cr.make_ir(lambda x, mode: x)(1.0, "fast")
    assert "str" in str(info.value) and "make_ir" in str(info.value)
    with pytest.raises(TypeError) as info:
        cr.make_ir(lambda x: (x, "label"))(1.0)
    assert "str" in str(info.value) and "output" in str(info.value)


# -- static arguments -------------------------------------------------------------------------
def power_series(x, n, kind):
    total = x
    term = x
    for _ in range(n - 1):
        term = term * x
        total = total + term
    if kind == "neg":
        total = -total
    return total


def test_static_int_config_in_python_control_flow():
    closed = cr.make_ir(power_series, static_argnums=(1, 2))(2.0, 3, "neg")
    assert str(closed) == """\
{ lambda ; a:f64[]. let
    b:f64[] = mul a a
    c:f64[] = add a b
    d:f64[] = mul b a
    e:f64[] = add c d
    f:f64[] = neg e
  in (f,) }"""
    # eval with or without the static arguments
    assert closed.eval(2.0, 3, "neg") == -14.0
    assert closed.eval(2.0) == -14.0
    assert closed.eval(0.5) == -(0.5 + 0.25 + 0.125)


def test_static_argnums_int_and_negative():
    a = cr.make_ir(power_series, static_argnums=(1, 2))(2.0, 2, "pos")
    b = cr.make_ir(power_series, static_argnums=(-2, -1))(2.0, 2, "pos")
    assert str(a) == str(b) == """\
{ lambda ; a:f64[]. let
    b:f64[] = mul a a
    c:f64[] = add a b
  in (c,) }"""

    def scale(k, x):
        return x * k

    c = cr.make_ir(scale, static_argnums=0)(3, np.ones(2))
    assert str(c) == """\
{ lambda ; a:f64[2]. let
    b:f64[2] = mul a 3.0:f64[]
  in (b,) }"""
    np.testing.assert_array_equal(c.eval(3, np.array([1.0, 2.0])), [3.0, 6.0])
    np.testing.assert_array_equal(c.eval(np.array([1.0, 2.0])), [3.0, 6.0])


def test_static_argnums_out_of_range():
    with pytest.raises(ValueError):
        cr.make_ir(lambda x: x, static_argnums=2)(1.0)


def test_static_pytree_argument_is_not_traced():
    def f(x, cfg):
        return x * cfg["scale"] + cfg["shift"]

    closed = cr.make_ir(f, static_argnums=1)(np.ones(2), {"scale": 2.0, "shift": 1.0})
    assert str(closed) == """\
{ lambda ; a:f64[2]. let
    b:f64[2] = mul a 2.0:f64[]
    c:f64[2] = add b 1.0:f64[]
  in (c,) }"""
    assert len(closed.in_avals) == 1
