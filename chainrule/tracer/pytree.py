"""Pytrees: nested tuples, lists, dicts and None (and registered classes)
whose leaves are arrays.  Transforms flatten their arguments to a list of
leaves plus a ``PyTreeDef`` and rebuild outputs from one.

Like JAX: ``None`` is a node without children, dict keys are sorted,
namedtuples keep their type.  ``register_pytree_node(cls, flatten,
unflatten)`` adds a user class: ``flatten(obj) -> (children, aux_data)``,
``unflatten(aux_data, children) -> obj``.
"""
from __future__ import annotations

import collections
from typing import Any, Callable, NamedTuple


class _NodeType(NamedTuple):
    flatten: Callable
    unflatten: Callable


_registry: dict = {}


def register_pytree_node(cls, flatten: Callable, unflatten: Callable):
    """Make ``cls`` a pytree node (see module docstring)."""
    _registry[cls] = _NodeType(flatten, unflatten)


register_pytree_node(tuple, lambda t: (t, None), lambda _, c: tuple(c))
register_pytree_node(list, lambda l: (l, None), lambda _, c: list(c))
register_pytree_node(type(None), lambda n: ((), None), lambda _, c: None)


def _dict_flatten(d):
    keys = sorted(d)
    return [d[k] for k in keys], tuple(keys)


register_pytree_node(dict, _dict_flatten, lambda keys, c: dict(zip(keys, c)))
# ordered dicts keep their order; defaultdicts their default factory
register_pytree_node(collections.OrderedDict, lambda d: (list(d.values()), tuple(d)),
                     lambda keys, c: collections.OrderedDict(zip(keys, c)))
register_pytree_node(collections.defaultdict,
                     lambda d: ([d[k] for k in sorted(d)], (d.default_factory, tuple(sorted(d)))),
                     lambda aux, c: collections.defaultdict(aux[0], zip(aux[1], c)))


def _node_type(x):
    t = type(x)
    nt = _registry.get(t)
    if nt is None and isinstance(x, tuple) and hasattr(t, "_fields"):  # namedtuple
        nt = _NodeType(lambda n: (tuple(n), None), lambda _, c, t=t: t(*c))
    return nt


class PyTreeDef:
    """The structure of a pytree: node type, aux data and child structures.
    A leaf is ``PyTreeDef(None, None, ())``."""

    __slots__ = ("node", "aux", "children", "num_leaves")

    def __init__(self, node, aux, children):
        self.node = node
        self.aux = aux
        self.children = tuple(children)
        self.num_leaves = 1 if node is None else sum(c.num_leaves for c in self.children)

    def __eq__(self, other):
        return (isinstance(other, PyTreeDef) and self.node == other.node
                and self.aux == other.aux and self.children == other.children)

    def __hash__(self):
        return hash((self.node, self.aux, self.children))

    def __repr__(self):
        if self.node is None:
            return "*"
        inner = ", ".join(map(repr, self.children))
        name = getattr(self.node, "__name__", str(self.node))
        if name == "NoneType":
            return "None"
        return f"{name}({inner})" if self.aux is None else f"{name}[{self.aux}]({inner})"


_LEAF = PyTreeDef(None, None, ())


def tree_flatten(tree, is_leaf: Callable | None = None) -> tuple[list, PyTreeDef]:
    """``(leaves, treedef)`` of a pytree."""
    leaves: list = []
    return leaves, _flatten(tree, leaves, is_leaf)


def _flatten(x, leaves, is_leaf):
    nt = None if (is_leaf is not None and is_leaf(x)) else _node_type(x)
    if nt is None:
        leaves.append(x)
        return _LEAF
    children, aux = nt.flatten(x)
    node = type(x)
    if node not in _registry:  # namedtuple: keep its own type as the node
        return PyTreeDef(("namedtuple", node), aux, [_flatten(c, leaves, is_leaf) for c in children])
    return PyTreeDef(node, aux, [_flatten(c, leaves, is_leaf) for c in children])


def tree_unflatten(treedef: PyTreeDef, leaves) -> Any:
    """Rebuild the pytree of ``treedef`` with ``leaves`` in order."""
    it = iter(leaves)
    out = _unflatten(treedef, it)
    if next(it, _SENTINEL) is not _SENTINEL:
        raise ValueError(f"too many leaves for tree structure {treedef}")
    return out


_SENTINEL = object()


def _unflatten(treedef, it):
    if treedef.node is None:
        leaf = next(it, _SENTINEL)
        if leaf is _SENTINEL:
            raise ValueError("too few leaves for the tree structure")
        return leaf
    children = [_unflatten(c, it) for c in treedef.children]
    node = treedef.node
    if isinstance(node, tuple) and node[0] == "namedtuple":
        return node[1](*children)
    return _registry[node].unflatten(treedef.aux, children)


def tree_leaves(tree) -> list:
    return tree_flatten(tree)[0]


def tree_structure(tree) -> PyTreeDef:
    return tree_flatten(tree)[1]


def tree_map(f: Callable, tree, *rest):
    """Apply ``f`` to the leaves of ``tree`` (and the matching leaves of ``rest``)."""
    leaves, treedef = tree_flatten(tree)
    others = [treedef_flatten_up_to(treedef, r) for r in rest]
    return tree_unflatten(treedef, [f(*xs) for xs in zip(leaves, *others)])


def treedef_flatten_up_to(treedef: PyTreeDef, tree) -> list:
    leaves, other = tree_flatten(tree)
    if other != treedef:
        raise ValueError(f"tree structures differ: {other} vs {treedef}")
    return leaves
