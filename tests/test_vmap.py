"""vmap: every primitive's batch rule against a Python loop, and vmap's
composition with grad and with itself.

``ROWS`` holds one or more rows per primitive.  A row is a function applying
the primitive (``prim.bind`` or ``chainrule.numpy``), one maker per operand
(``maker(rng)`` gives one example), and the ``in_axes`` combinations to run:
by default every operand at axis 0, axis 1 for every operand of rank >= 2,
and ``None`` for each operand in turn (when there are several), plus the
row's own extra combinations.  For each combination the test builds a batch
of examples (stacked along each operand's axis; a ``None`` operand is one
example shared by all) and checks

* ``vmap(f, in_axes)(*batch)`` equals ``np.stack([f(*example) for ...])``,
  the Python loop, exactly in shape and dtype, values to 1e-12;
* ``make_ir(vmap(f, in_axes))(*batch)`` prints, passes ``check()``, and its
  ``eval`` gives the same result: a batched program is again IR.

A primitive of ``chainrule.primitives.all_primitives()`` without a row fails
``test_every_primitive_has_rows``.
"""
from __future__ import annotations

import zlib

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.primitives import all_primitives

P = all_primitives()
BATCH = 3
TOL = 1e-12


# -- operand makers: maker(rng) -> one example --------------------------------
def F(*shape, lo=-2.0, hi=2.0, dtype=np.float64):
    return lambda rng: np.asarray(rng.uniform(lo, hi, shape), dtype)


def F32(*shape, lo=-2.0, hi=2.0):
    return F(*shape, lo=lo, hi=hi, dtype=np.float32)


def Fint(*shape, lo=-2, hi=3):
    """Integer-valued floats: ties for comparisons, sorts and extrema."""
    return lambda rng: rng.integers(lo, hi, shape).astype(np.float64)


def I(*shape, lo=-5, hi=6, dtype=np.int64):
    return lambda rng: np.asarray(rng.integers(lo, hi, shape), dtype)


def NonzeroI(*shape):
    return lambda rng: (rng.integers(1, 6, shape) * rng.choice([-1, 1], shape)).astype(np.int64)


def Bool(*shape):
    return lambda rng: np.asarray(rng.integers(0, 2, shape), np.bool_)


def Idx(n, *shape):
    """Indices into an axis of size n, negative ones included (-n .. n-1)."""
    return lambda rng: np.asarray(rng.integers(-n, n, shape), np.int64)


def DupIdx(n, k):
    """k indices into an axis of size n with a repeat, once as i and once as
    i - n (the same position written negatively), and the rest random."""
    def make(rng):
        i = int(rng.integers(0, n))
        rest = rng.integers(-n, n, k - 2)
        idx = np.concatenate([[i], rest, [i - n]])
        return rng.permutation(idx).astype(np.int64)
    return make


def Well(*shape):
    """Well-conditioned square matrices."""
    return lambda rng: rng.uniform(-1, 1, shape) + 4 * np.eye(shape[-1])


def Spd(*shape):
    def make(rng):
        x = rng.uniform(-1, 1, shape)
        return x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])
    return make


def Sym(*shape):
    """Symmetric matrices with well-separated eigenvalues."""
    def make(rng):
        q, _ = np.linalg.qr(rng.normal(size=shape))
        w = np.arange(1, shape[-1] + 1) * 1.5 + rng.uniform(-0.3, 0.3, shape[-1])
        return (q * w) @ q.T
    return make


def Iota(*shape, axis):
    def make(rng):
        return np.broadcast_to(np.arange(shape[axis]).reshape(
            [-1 if i == axis else 1 for i in range(len(shape))]), shape).astype(np.int64)
    return make


# -- rows ---------------------------------------------------------------------
class Row:
    def __init__(self, fn, operands, extra=(), label="", tol=TOL):
        self.fn, self.operands, self.extra, self.label = fn, operands, tuple(extra), label
        self.tol = tol


def prim_row(name, *operands, extra=(), label="", tol=TOL, **params):
    prim = P[name]
    return Row(lambda *xs: prim.bind(*xs, **params), operands, extra,
               label or ",".join(f"{k}={v}" for k, v in params.items()), tol=tol)


def fn_row(fn, *operands, extra=(), label=""):
    return Row(fn, operands, extra, label)


def unary_rows(name, make=None, *more):
    make = make or F(2, 3)
    return [prim_row(name, make)] + [prim_row(name, m, label=f"case{k}")
                                     for k, m in enumerate(more)]


def binary_rows(name, a=None, b=None):
    """Equal shapes, a 0-d operand on either side (batched or not: a batched
    scalar meets an array), and mixed batch axes."""
    a, b = a or F, b or a or F
    return [prim_row(name, a(2, 3), b(2, 3), extra=[(1, 0), (0, 1), (-1, None)]),
            prim_row(name, a(2, 3), b(), label="scalar rhs"),
            prim_row(name, a(), b(2, 3), label="scalar lhs"),
            prim_row(name, a(), b(), label="scalars")]


def positive(*shape):
    return F(*shape, lo=0.5, hi=3.0)


UNARY_DOMAINS = {
    "sin": F, "cos": F, "tan": lambda *s: F(*s, lo=-1.4, hi=1.4),
    "asin": lambda *s: F(*s, lo=-0.99, hi=0.99), "acos": lambda *s: F(*s, lo=-0.99, hi=0.99),
    "atan": F, "sinh": F, "cosh": F, "tanh": F, "asinh": F,
    "acosh": lambda *s: F(*s, lo=1.0, hi=4.0), "atanh": lambda *s: F(*s, lo=-0.99, hi=0.99),
    "exp": F, "exp2": F, "log": positive, "log1p": lambda *s: F(*s, lo=-0.99, hi=5.0),
    "expm1": F, "sqrt": positive, "cbrt": F, "logistic": lambda *s: F(*s, lo=-30, hi=30),
}

ROWS: dict[str, list[Row]] = {}
for _name, _dom in UNARY_DOMAINS.items():
    ROWS[_name] = unary_rows(_name, _dom(2, 3), _dom(), _dom(2, 3, 4))
ROWS["exp"].append(prim_row("exp", F32(4), label="float32"))
# the special functions (primitives/special.py), in their smooth domains
SPECIAL_DOMAINS = {
    "lgamma": positive, "digamma": positive, "gamma": positive, "erf": F, "erfc": F,
    "log_ndtr": F, "i0e": F, "i1e": F,
    "ndtri": lambda *s: F(*s, lo=0.05, hi=0.95), "erf_inv": lambda *s: F(*s, lo=-0.9, hi=0.9),
}
for _name, _dom in SPECIAL_DOMAINS.items():
    ROWS[_name] = unary_rows(_name, _dom(2, 3), _dom(), _dom(2, 3, 4))
ROWS["polygamma"] = [prim_row("polygamma", positive(2, 3), n=1),
                     prim_row("polygamma", positive(), n=2, label="0-d, n=2")]
ROWS["xlogy"] = binary_rows("xlogy", F, positive)
ROWS["xlog1py"] = binary_rows("xlog1py", F, positive)
for _name in ("neg", "abs", "sign", "floor", "ceil", "round", "trunc", "stop_gradient"):
    ROWS[_name] = unary_rows(_name, F(2, 3), I(2, 3), F())
ROWS["round"].append(prim_row("round", lambda rng: np.array([-2.5, -1.5, 0.5, 1.5]) + 0.0,
                              label="halves"))
ROWS["signbit"] = unary_rows("signbit", F(2, 3), F())

for _name in ("add", "sub", "mul", "max", "min", "atan2", "hypot", "logaddexp"):
    ROWS[_name] = binary_rows(_name)
for _name in ("add", "mul", "max"):
    ROWS[_name].append(prim_row(_name, I(2, 3), I(2, 3), label="int64"))
ROWS["add"].append(prim_row("add", F32(2, 3), F32(), label="float32"))
ROWS["div"] = binary_rows("div", F, positive)
ROWS["rem"] = binary_rows("rem", F, positive) + [
    prim_row("rem", I(2, 3), NonzeroI(2, 3), label="int64")]
ROWS["floor_div"] = binary_rows("floor_div", F, positive) + [
    prim_row("floor_div", I(2, 3), NonzeroI(2, 3), label="int64")]
ROWS["pow"] = binary_rows("pow", positive, F) + [
    prim_row("pow", I(2, 3), I(2, 3, lo=0, hi=4), label="int64")]
for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    ROWS[_name] = binary_rows(_name, Fint) + [prim_row(_name, I(2, 3), I(), label="int64")]
ROWS["not"] = [prim_row("not", Bool(2, 3)), prim_row("not", I(4), label="int64")]
for _name in ("and", "or", "xor"):
    ROWS[_name] = [prim_row(_name, Bool(2, 3), Bool(2, 3), extra=[(1, 0)]),
                   prim_row(_name, Bool(3), Bool(), label="scalar rhs"),
                   prim_row(_name, I(2, 3), I(2, 3), label="int64")]
ROWS["integer_pow"] = [prim_row("integer_pow", F(2, 3), y=3), prim_row("integer_pow", F(), y=2),
                       prim_row("integer_pow", positive(2, 3), y=-2),
                       prim_row("integer_pow", F(3), y=0), prim_row("integer_pow", I(2, 3), y=3)]
ROWS["select"] = [
    prim_row("select", Bool(2, 3), F(2, 3), F(2, 3), extra=[(1, 0, None)]),
    # a scalar predicate: batched alone it meets unbatched arrays, and the reverse
    prim_row("select", Bool(), F(2, 3), F(2, 3), label="scalar predicate",
             extra=[(0, None, None), (None, 1, 0), (0, 1, None)]),
    prim_row("select", Bool(2, 3), F(), F(2, 3), label="scalar case",
             extra=[(None, 0, None), (0, None, None)]),
    prim_row("select", Bool(4), F(), F(), label="scalar cases"),
    prim_row("select", Bool(), F(), F(), label="all scalars"),
]
ROWS["convert_element_type"] = [
    prim_row("convert_element_type", F(2, 3, lo=-3, hi=3), new_dtype=np.dtype(np.int64)),
    prim_row("convert_element_type", F(2, 3), new_dtype=np.dtype(np.float32)),
    prim_row("convert_element_type", I(3), new_dtype=np.dtype(np.float64)),
    prim_row("convert_element_type", Bool(2, 2), new_dtype=np.dtype(np.float64)),
]

# reductions (keepdims is an expand_dims that chainrule.numpy adds)
for _name, _np in (("reduce_sum", np.sum), ("reduce_prod", np.prod), ("reduce_max", np.max),
                   ("reduce_min", np.min)):
    ROWS[_name] = [prim_row(_name, F(2, 3, 4), axes=(1,), extra=[(2,), (-1,)]),
                   prim_row(_name, F(2, 3, 4), axes=(0, 2)),
                   prim_row(_name, F(2, 3), axes=(0, 1)),
                   prim_row(_name, F(3), axes=()),
                   prim_row(_name, I(2, 3, lo=1, hi=4), axes=(1,))]
ROWS["reduce_sum"] += [
    fn_row(lambda x: cnp.sum(x, axis=1, keepdims=True), F(2, 3, 4), label="keepdims axis=1",
           extra=[(2,)]),
    fn_row(lambda x: cnp.sum(x, axis=(0, 2), keepdims=True), F(2, 3, 4),
           label="keepdims axes=(0,2)"),
    fn_row(lambda x: cnp.sum(x, keepdims=True), F(2, 3), label="keepdims all axes"),
    fn_row(lambda x: cnp.mean(x, axis=-1, keepdims=True), F(2, 3), label="mean keepdims"),
    fn_row(lambda x: x - cnp.sum(x, axis=0, keepdims=True), F(2, 3), label="x - sum keepdims",
           extra=[(1,)]),
]
ROWS["reduce_max"] += [
    fn_row(lambda x: cnp.max(x, axis=0, keepdims=True), Fint(3, 4), label="keepdims ties",
           extra=[(1,)]),
    fn_row(lambda x: cnp.max(x, axis=(0, 1), keepdims=True), F(2, 3), label="keepdims all"),
]
ROWS["reduce_min"].append(fn_row(lambda x: cnp.min(x, axis=1, keepdims=True), F(2, 3),
                                 label="keepdims"))
ROWS["reduce_prod"].append(fn_row(lambda x: cnp.prod(x, axis=1, keepdims=True), F(2, 3),
                                  label="keepdims"))
for _name in ("argmax", "argmin"):
    ROWS[_name] = [prim_row(_name, Fint(3, 4), axis=1, index_dtype=np.dtype(np.int64)),
                   prim_row(_name, F(3, 4), axis=0, index_dtype=np.dtype(np.int32)),
                   prim_row(_name, F(5), axis=0, index_dtype=np.dtype(np.int64)),
                   fn_row(lambda x, _f=getattr(cnp, _name): _f(x, axis=1, keepdims=True),
                          F(2, 3), label="keepdims")]
ROWS["cumsum"] = [prim_row("cumsum", F(2, 3, 4), axis=1, reverse=False, extra=[(2,)]),
                  prim_row("cumsum", F(4), axis=0, reverse=True),
                  prim_row("cumsum", I(2, 3), axis=0, reverse=False)]
ROWS["cumprod"] = [prim_row("cumprod", F(2, 3, 4), axis=2, extra=[(2,)]),
                   prim_row("cumprod", F(4), axis=0)]

# shapes
ROWS["reshape"] = [prim_row("reshape", F(2, 3, 4), shape=(6, 4), extra=[(2,)]),
                   prim_row("reshape", F(2, 3), shape=(3, 2)),
                   prim_row("reshape", F(), shape=(1, 1)),
                   prim_row("reshape", F(1), shape=())]
ROWS["transpose"] = [
    # the batch axis not at 0: in_axes 1 and 2 (and -1) of a rank-4 batch
    prim_row("transpose", F(2, 3, 4), permutation=(2, 0, 1), extra=[(2,), (-1,), (3,)]),
    prim_row("transpose", F(2, 3, 4), permutation=(1, 2, 0), extra=[(2,), (3,)]),
    prim_row("transpose", F(2, 3), permutation=(1, 0), extra=[(2,)]),
    prim_row("transpose", F(), permutation=()),
]
ROWS["broadcast_in_dim"] = [
    prim_row("broadcast_in_dim", F(3), shape=(2, 3), broadcast_dimensions=(1,)),
    prim_row("broadcast_in_dim", F(3, 1), shape=(2, 3, 4), broadcast_dimensions=(1, 2)),
    prim_row("broadcast_in_dim", F(2, 1), shape=(2, 5), broadcast_dimensions=(0, 1)),
    prim_row("broadcast_in_dim", F(), shape=(2, 3), broadcast_dimensions=()),
]
ROWS["squeeze"] = [prim_row("squeeze", F(2, 1, 3), dimensions=(1,), extra=[(2,), (3,)]),
                   prim_row("squeeze", F(1, 3, 1), dimensions=(0, 2))]
ROWS["expand_dims"] = [prim_row("expand_dims", F(2, 3), dimensions=(0, 2)),
                       prim_row("expand_dims", F(), dimensions=(0,))]
ROWS["concatenate"] = [
    prim_row("concatenate", F(2, 3), F(2, 1), F(2, 2), axis=1,
             extra=[(None, None, 0), (1, 0, None)]),
    prim_row("concatenate", F(2), F(3), axis=0),
    prim_row("concatenate", I(2, 2), I(1, 2), axis=0),
]
ROWS["slice"] = [
    prim_row("slice", F(5, 6), start_indices=(1, 0), limit_indices=(5, 6), strides=(2, 3),
             extra=[(2,)]),
    prim_row("slice", F(7), start_indices=(2,), limit_indices=(6,), strides=(1,)),
]
ROWS["rev"] = [prim_row("rev", F(2, 3, 4), dimensions=(0, 2), extra=[(2,)]),
               prim_row("rev", F(4), dimensions=(0,))]
ROWS["pad"] = [
    # the default combinations include a batched padding value with an
    # unbatched operand (None, 0), and both batched
    prim_row("pad", F(2, 3), F(), padding_config=((1, 2, 1), (0, 1, 0))),
    prim_row("pad", F(3), F(), padding_config=((0, 0, 2),)),
    prim_row("pad", F(), F(), padding_config=()),
    prim_row("pad", I(2, 2), I(), padding_config=((1, 0, 0), (0, 1, 1))),
]

# gather and the scatters: batched indices and operand together, indices
# only, operand only; negative indices everywhere
ROWS["gather"] = [
    prim_row("gather", F(5, 3), Idx(5, 2, 2), axis=0, extra=[(1, 0), (0, 1), (None, 1)]),
    prim_row("gather", F(3, 5), Idx(5, 4), axis=1, extra=[(2, 0), (None, 0), (2, None)]),
    prim_row("gather", F(2, 5, 3), Idx(5, 2, 3), axis=1,
             extra=[(2, 1), (3, 0), (None, 1), (2, None), (-1, -1)]),
    prim_row("gather", F(6), Idx(6, 4), axis=0),
    prim_row("gather", F(4, 3), Idx(4), axis=0, label="0-d index"),
    prim_row("gather", I(5), Idx(5, 3), axis=0, label="int64"),
]
ROWS["cond"] = [
    fn_row(lambda i, x: cr.switch(i, [cnp.sin, lambda a: a * 2.0, cnp.cos], x), Idx(3), F(4),
           label="switch, index clamped"),
    fn_row(lambda x: cr.cond(cnp.sum(x) > 0, lambda a: a ** 2, lambda a: -a, x), F(2, 3),
           label="cond on the data"),
    fn_row(lambda p, x, y: cr.cond(p, lambda a, b: (a * b, a), lambda a, b: (a - b, b), x, y),
           Bool(), F(3), F(3), label="pytree outputs"),
]
ROWS["scan"] = [
    fn_row(lambda h, xs: cr.scan(lambda c, x: (cnp.tanh(c * x), c + x), h, xs), F(3), F(4, 3),
           extra=[(None, 1)], label="carry and xs"),
    fn_row(lambda w, h: cr.scan(lambda c, _: (cnp.sin(c) * w, c), h, None, length=3,
                                reverse=True), F(), F(2), label="const and carry, reverse"),
]
ROWS["checkpoint"] = [
    fn_row(lambda x: cr.checkpoint(lambda a: cnp.sin(a) * a)(x), F(3), label="one operand"),
    fn_row(lambda x, w: cr.checkpoint(lambda a, b: (cnp.tanh(a @ b), a * 2.0),
                                      policy=cr.checkpoint_policies.dots_saveable)(x, w),
           F(2, 3), F(3, 3), extra=[(1, None), (None, 1)], label="two outputs, dots_saveable"),
]
ROWS["while"] = [
    fn_row(lambda x: cr.while_loop(lambda c: c[1] < 3, lambda c: (cnp.sin(c[0]) + 1.0, c[1] + 1),
                                   (x, 0))[0], F(3), label="same steps for every example"),
    fn_row(lambda x, n: cr.fori_loop(0, n, lambda i, v: v * 1.5 + i, x), F(2), Idx(4),
           label="steps differ between examples"),
]



# custom rules (true derivatives): under grad the batched rules run (the
# batched jvp rule; the batched fwd and bwd)
@cr.custom_jvp
def _cube_plus(x, y):
    return x ** 3 + y


@_cube_plus.defjvp
def _cube_plus_jvp(primals, tangents):
    (x, y), (tx, ty) = primals, tangents
    return _cube_plus(x, y), 3.0 * x ** 2 * tx + ty


from test_ad_rules import _tanh_layer  # noqa: E402  (a custom_vjp layer, shared)
_W = np.random.default_rng(5).uniform(-1, 1, (3, 3))


def _transposed_batch(x, cts):
    """custom_vjp_lin batched: the linearized function of a custom_vjp function,
    vmapped over rows of tangents, then transposed (rows of cotangents in)."""
    _, f_jvp = cr.linearize(lambda v: _tanh_layer(_W, v), x)
    return cr.linear_transpose(cr.vmap(f_jvp), cts)(cts)[0]


ROWS["custom_jvp_call"] = [
    fn_row(_cube_plus, F(2, 3), F(2, 3), label="two arguments"),
    fn_row(lambda x: _cube_plus(x, 1.0), F(), label="0-d"),
]
ROWS["custom_vjp_call"] = [
    fn_row(_tanh_layer, F(3, 3), F(3), extra=[(1, 0)], label="matrix and vector"),
    fn_row(lambda x: _tanh_layer(_W, cnp.sin(x)), F(3), label="closed-over matrix"),
]
ROWS["custom_vjp_lin"] = [fn_row(_transposed_batch, F(3), F(2, 3), label="linear_transpose(vmap)")]
ROWS["normalize_index"] = [prim_row("normalize_index", Idx(4, 3), axis=0, size=4),
                           prim_row("normalize_index", Idx(2, 2, 3), axis=1, size=2,
                                    extra=[(1,), (2,)]),
                           prim_row("normalize_index", Idx(3), axis=0, size=3, label="0-d")]
for _name in ("scatter", "scatter_add", "scatter_min", "scatter_max"):
    _sub = (("operand only", (0, None, None)), ("indices only", (None, 0, None)),
            ("updates only", (None, None, 0)), ("operand, updates", (0, None, 0)))
    ROWS[_name] = [
        prim_row(_name, F(5, 3), DupIdx(5, 4), F(4, 3), axis=0,
                 extra=[c for _, c in _sub] + [(1, 0, 2), (None, 0, 1)]),
        prim_row(_name, F(3, 5), DupIdx(5, 4), F(3, 4), axis=1,
                 extra=[c for _, c in _sub] + [(2, 0, 0)]),
        prim_row(_name, F(2, 5, 3), Idx(5, 2, 2), F(2, 2, 2, 3), axis=1,
                 extra=[c for _, c in _sub] + [(3, 1, 4), (None, 1, None)]),
        prim_row(_name, F(6), DupIdx(6, 5), F(5), axis=0, extra=[c for _, c in _sub]),
        prim_row(_name, F(4, 3), Idx(4), F(3), axis=0, label="0-d index",
                 extra=[c for _, c in _sub]),
    ]
ROWS["scatter_add"].append(prim_row("scatter_add", I(5), DupIdx(5, 4), I(4), axis=0,
                                    label="int64", extra=[(None, 0, None)]))

# dot_general: plain products, batch dimensions, one side batched
_MATMUL = (((1,), (0,)), ((), ()))
ROWS["dot_general"] = [
    prim_row("dot_general", F(2, 3), F(3, 4), dimension_numbers=_MATMUL,
             extra=[(1, 0), (0, 1), (None, 1), (1, None)]),
    prim_row("dot_general", F(3), F(3), dimension_numbers=(((0,), (0,)), ((), ())),
             label="inner"),
    prim_row("dot_general", F(3), F(4), dimension_numbers=(((), ()), ((), ())), label="outer"),
    prim_row("dot_general", F(2, 3, 4), F(2, 4, 5),
             dimension_numbers=(((2,), (1,)), ((0,), (0,))), label="batch dims",
             extra=[(2, None), (None, 2), (1, 2), (3, 3), (3, None), (None, 3)]),
    prim_row("dot_general", F(3, 2, 4), F(4, 5, 2),
             dimension_numbers=(((2,), (0,)), ((1,), (2,))), label="batch dims not leading",
             extra=[(2, None), (None, 1), (3, 0)]),
    prim_row("dot_general", F(2, 3, 4), F(4, 3),
             dimension_numbers=(((1, 2), (1, 0)), ((), ())), label="two contracted axes",
             extra=[(2, None), (None, 2)]),
]

# sorting: multiple results; keys with ties, carried operands
ROWS["sort"] = [
    prim_row("sort", Fint(2, 5), F(2, 5), Iota(2, 5, axis=1), axis=1, extra=[(2, 0, None)]),
    prim_row("sort", F(4, 3), axis=0, extra=[(2,)]),
    prim_row("sort", Fint(6), I(6), axis=0),
]

# linear algebra (stacks of matrices; multiple results for slogdet, qr, eigh, svd)
ROWS["solve"] = [prim_row("solve", Well(3, 3), F(3, 2), extra=[(2, 0), (None, 2)]),
                 prim_row("solve", Well(2, 3, 3), F(2, 3, 1), label="stacked")]
ROWS["triangular_solve"] = [
    prim_row("triangular_solve", Well(3, 3), F(3, 2), left_side=True, lower=True,
             transpose_a=False, unit_diagonal=False, extra=[(2, 0)]),
    prim_row("triangular_solve", Well(3, 3), F(2, 3), left_side=False, lower=False,
             transpose_a=True, unit_diagonal=True),
]
ROWS["slogdet"] = [prim_row("slogdet", Well(3, 3), extra=[(2,)]),
                   prim_row("slogdet", F(2, 3, 3), label="stacked, signs vary")]
ROWS["cholesky"] = [prim_row("cholesky", Spd(3, 3), extra=[(2,)])]
ROWS["qr"] = [prim_row("qr", F(4, 3), full_matrices=False, extra=[(2,)]),
              prim_row("qr", F(3, 4), full_matrices=False),
              prim_row("qr", F(4, 3), full_matrices=True)]
ROWS["eigh"] = [prim_row("eigh", Sym(3, 3), lower=True, extra=[(2,)]),
                prim_row("eigh", Sym(4, 4), lower=False)]
ROWS["svd"] = [prim_row("svd", F(4, 3), full_matrices=False, hermitian=False, extra=[(2,)]),
               prim_row("svd", F(3, 4), full_matrices=True, hermitian=False),
               prim_row("svd", Sym(3, 3), full_matrices=False, hermitian=True)]
ROWS["pinv"] = [prim_row("pinv", F(4, 3), rcond=1e-15, hermitian=False, extra=[(2,)]),
                prim_row("pinv", Sym(3, 3), rcond=1e-15, hermitian=True)]


# -- the in_axes combinations of a row ------------------------------------------
def combinations(row, rng):
    ndims = [np.ndim(m(rng)) for m in row.operands]
    n = len(ndims)
    combos = [(0,) * n]
    if any(d >= 2 for d in ndims):
        combos.append(tuple(1 if d >= 2 else 0 for d in ndims))
    if n >= 2:
        combos += [tuple(None if k == i else 0 for k in range(n)) for i in range(n)]
    for c in row.extra:
        if c not in combos:
            combos.append(c)
    return combos


def _cases():
    out = []
    for name, rows in ROWS.items():
        for r, row in enumerate(rows):
            rng = np.random.default_rng(zlib.crc32(f"{name}/{r}".encode()))
            for axes in combinations(row, rng):
                label = f"{name}[{r}{':' + row.label if row.label else ''}]-in_axes={axes}"
                out.append(pytest.param(name, r, axes, id=label))
    return out


def make_batch(row, axes, seed):
    """(examples per operand, batched operands): a batched operand's examples
    stacked along its axis; an unbatched one is a single shared example."""
    rng = np.random.default_rng(seed)
    examples, batched = [], []
    for make, axis in zip(row.operands, axes):
        if axis is None:
            x = make(rng)
            examples.append(x)
            batched.append(x)
        else:
            xs = [np.asarray(make(rng)) for _ in range(BATCH)]
            examples.append(xs)
            batched.append(np.stack(xs, axis=axis))
    return examples, batched


def loop_reference(fn, examples, axes):
    """``fn`` on each example in a Python loop, stacked along axis 0."""
    outs = []
    for b in range(BATCH):
        args = [ex if axis is None else ex[b] for ex, axis in zip(examples, axes)]
        outs.append(fn(*args))
    if isinstance(outs[0], (list, tuple)):
        return [np.stack([np.asarray(o[k]) for o in outs]) for k in range(len(outs[0]))]
    return np.stack([np.asarray(o) for o in outs])


def assert_same(got, want, tol=TOL, what=""):
    if isinstance(want, list):
        assert isinstance(got, (list, tuple)) and len(got) == len(want), (what, type(got))
        for k, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, tol, f"{what} result {k}")
        return
    assert not isinstance(got, (list, tuple)), what
    got = np.asarray(got)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    if want.dtype.kind in "fc":
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def test_every_primitive_has_rows():
    missing = sorted(set(P) - set(ROWS))
    assert not missing, f"primitives without a vmap row: {missing}"
    unknown = sorted(set(ROWS) - set(P))
    assert not unknown, f"rows for unknown primitives: {unknown}"
    # each row covers the combinations asked for
    for name, rows in ROWS.items():
        for row in rows:
            combos = combinations(row, np.random.default_rng(0))
            n = len(row.operands)
            assert (0,) * n in combos
            if n >= 2:
                for i in range(n):
                    assert tuple(None if k == i else 0 for k in range(n)) in combos


@pytest.mark.parametrize("name,r,axes", _cases())
def test_batch_rule_matches_loop(name, r, axes):
    row = ROWS[name][r]
    seed = zlib.crc32(f"{name}/{r}/{axes}".encode())
    examples, batched = make_batch(row, axes, seed)
    want = loop_reference(row.fn, examples, axes)

    got = cr.vmap(row.fn, in_axes=axes)(*batched)
    assert_same(got, want, row.tol, f"vmap {name} in_axes={axes}")

    # the batched program is again IR
    closed = cr.make_ir(cr.vmap(row.fn, in_axes=axes))(*batched)
    text = str(closed)
    assert text.startswith("{ lambda") and text.rstrip().endswith("}")
    closed.check()
    assert_same(closed.eval(*batched), want, row.tol, f"make_ir(vmap {name}) in_axes={axes}")


def test_transpose_batch_axis_stays_put_in_the_ir():
    # in_axes=2: the batch axis is neither first nor last, and the rule
    # permutes the example's axes around it (one transpose, no moveaxis)
    x = np.arange(2 * 3 * 5 * 4, dtype=np.float64).reshape(2, 3, 5, 4)   # batch of 5 at axis 2
    f = lambda a: P["transpose"].bind(a, permutation=(2, 0, 1))   # noqa: E731
    closed = cr.make_ir(cr.vmap(f, in_axes=2))(x)
    closed.check()
    want = np.stack([np.transpose(x[:, :, b, :], (2, 0, 1)) for b in range(5)])
    assert_same(cr.vmap(f, in_axes=2)(x), want)
    assert_same(cr.vmap(f, in_axes=2, out_axes=2)(x), np.moveaxis(want, 0, 2))


# -- in_axes / out_axes variants and pytrees ------------------------------------
def _rng(seed=0):
    return np.random.default_rng(seed)


def test_out_axes_variants():
    rng = _rng(1)
    xs = rng.normal(size=(4, 2, 3))
    f = lambda x: cnp.sin(x) * 2.0   # noqa: E731
    want = np.stack([np.sin(x) * 2.0 for x in xs])            # (4, 2, 3)
    assert_same(cr.vmap(f, out_axes=0)(xs), want)
    assert_same(cr.vmap(f, out_axes=1)(xs), np.moveaxis(want, 0, 1))
    assert_same(cr.vmap(f, out_axes=2)(xs), np.moveaxis(want, 0, 2))
    assert_same(cr.vmap(f, out_axes=-1)(xs), np.moveaxis(want, 0, -1))
    # in_axes and out_axes together
    assert_same(cr.vmap(f, in_axes=2, out_axes=1)(np.moveaxis(xs, 0, 2)),
                np.moveaxis(want, 0, 1))


def test_out_axes_pytree_and_none():
    rng = _rng(2)
    xs, w = rng.normal(size=(5, 3)), rng.normal(size=(3,))

    def f(x, w):
        return {"dot": cnp.dot(x, w), "outer": cnp.outer(x, w), "w2": w * 2.0}

    got = cr.vmap(f, in_axes=(0, None), out_axes={"dot": 0, "outer": 2, "w2": None})(xs, w)
    assert set(got) == {"dot", "outer", "w2"}
    assert_same(got["dot"], np.array([x @ w for x in xs]))
    assert_same(got["outer"], np.stack([np.outer(x, w) for x in xs], axis=2))
    assert_same(got["w2"], w * 2.0)     # out_axes=None: not mapped, returned once
    # an unbatched output with an axis is repeated along the batch
    got = cr.vmap(f, in_axes=(0, None))(xs, w)
    assert_same(got["w2"], np.stack([w * 2.0] * 5))
    # out_axes=None for an output that depends on the batch is an error
    with pytest.raises(ValueError, match="out_axes"):
        cr.vmap(f, in_axes=(0, None), out_axes={"dot": None, "outer": 0, "w2": 0})(xs, w)


def test_multiple_outputs_tuple_out_axes():
    rng = _rng(3)
    xs = rng.normal(size=(3, 4))
    f = lambda x: (cnp.sum(x), cnp.cumsum(x), x[::2])   # noqa: E731
    got = cr.vmap(f, out_axes=(0, 1, -1))(xs)
    assert isinstance(got, tuple) and len(got) == 3
    assert_same(got[0], xs.sum(axis=1))
    assert_same(got[1], np.cumsum(xs, axis=1).T)
    assert_same(got[2], xs[:, ::2].T)


def test_pytree_in_axes_tuple_and_dict():
    rng = _rng(4)
    params = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=(5, 3))}   # b batched
    xs = rng.normal(size=(2, 5))                                            # batched at axis 1

    def f(p, x):
        return cnp.tanh(p["W"] @ x + p["b"])

    got = cr.vmap(f, in_axes=({"W": None, "b": 0}, 1))(params, xs)
    want = np.stack([np.tanh(params["W"] @ xs[:, i] + params["b"][i]) for i in range(5)])
    assert_same(got, want)
    # a list of axes is accepted like a tuple; a nested tuple prefix too
    got = cr.vmap(f, in_axes=[{"W": None, "b": 0}, 1])(params, xs)
    assert_same(got, want)

    def g(pair, y):
        (a, b) = pair
        return a * y + b

    a, b, ys = rng.normal(size=(4,)), rng.normal(size=(6, 4)), rng.normal(size=(4, 6))
    got = cr.vmap(g, in_axes=((None, 0), 1))((a, b), ys)
    assert_same(got, np.stack([a * ys[:, i] + b[i] for i in range(6)]))
    # an int for a whole subtree maps all its leaves
    got = cr.vmap(g, in_axes=(0, 0))((np.stack([a] * 6), b), ys.T)
    assert_same(got, np.stack([a * ys[:, i] + b[i] for i in range(6)]))


def test_in_axes_errors():
    xs = np.ones((3, 2))
    with pytest.raises(ValueError, match="inconsistent sizes"):
        cr.vmap(lambda a, b: a + b)(xs, np.ones((4, 2)))
    with pytest.raises(ValueError, match="at least one"):
        cr.vmap(lambda a: a, in_axes=None)(xs)
    with pytest.raises(ValueError, match="out of range"):
        cr.vmap(lambda a: a, in_axes=2)(xs)
    with pytest.raises(ValueError, match="structure"):
        cr.vmap(lambda p: p["a"], in_axes=({"b": 0},))({"a": xs})


# -- composition with grad, and nesting, on a small MLP ---------------------------
def mlp_params(rng):
    return {"W1": rng.normal(size=(5, 3)) / 2, "b1": rng.normal(size=5),
            "W2": rng.normal(size=(2, 5)) / 2, "b2": rng.normal(size=2)}


def mlp_loss(p, x, y):
    h = cnp.tanh(p["W1"] @ x + p["b1"])
    out = p["W2"] @ h + p["b2"]
    return cnp.sum((out - y) ** 2) + 0.1 * cnp.sum(cnp.log1p(cnp.exp(h)))


def mlp_loss_np(p, x, y):
    h = np.tanh(p["W1"] @ x + p["b1"])
    out = p["W2"] @ h + p["b2"]
    return np.sum((out - y) ** 2) + 0.1 * np.sum(np.log1p(np.exp(h)))


def mlp_grad_by_hand(p, x, y):
    """Backpropagation written out for one example."""
    a = p["W1"] @ x + p["b1"]
    h = np.tanh(a)
    out = p["W2"] @ h + p["b2"]
    d_out = 2 * (out - y)
    d_h = p["W2"].T @ d_out + 0.1 * np.exp(h) / (1 + np.exp(h))
    d_a = d_h * (1 - h ** 2)
    return {"W1": np.outer(d_a, x), "b1": d_a, "W2": np.outer(d_out, h), "b2": d_out}


def test_mlp_gradient_by_hand_is_right():
    # the hand-written gradient the tests below rely on, against chainrule's grad
    rng = _rng(5)
    p, x, y = mlp_params(rng), rng.normal(size=3), rng.normal(size=2)
    g = cr.grad(mlp_loss)(p, x, y)
    for k, v in mlp_grad_by_hand(p, x, y).items():
        np.testing.assert_allclose(g[k], v, rtol=1e-12, atol=1e-12)


def test_vmap_of_grad_gives_per_example_gradients():
    rng = _rng(6)
    p, xs, ys = mlp_params(rng), rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    got = cr.vmap(cr.grad(mlp_loss), in_axes=(None, 0, 0))(p, xs, ys)
    per_example = [mlp_grad_by_hand(p, x, y) for x, y in zip(xs, ys)]
    assert set(got) == set(p)
    for k in p:
        assert_same(np.asarray(got[k]), np.stack([g[k] for g in per_example]))
    # the same with the examples batched along axis 1, and as IR
    got1 = cr.vmap(cr.grad(mlp_loss), in_axes=(None, 1, 1))(p, xs.T, ys.T)
    for k in p:
        assert_same(np.asarray(got1[k]), np.stack([g[k] for g in per_example]))
    closed = cr.make_ir(cr.vmap(cr.grad(mlp_loss), in_axes=(None, 0, 0)))(p, xs, ys)
    closed.check()
    evaluated = closed.eval(p, xs, ys)
    for k in p:
        assert_same(np.asarray(evaluated[k]), np.stack([g[k] for g in per_example]))


def test_vmap_of_grad_wrt_batched_params():
    # per-example parameters too (ensembles): every input batched
    rng = _rng(7)
    ps = [mlp_params(rng) for _ in range(4)]
    stacked = {k: np.stack([p[k] for p in ps]) for k in ps[0]}
    xs, ys = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    got = cr.vmap(cr.grad(mlp_loss))(stacked, xs, ys)
    for k in stacked:
        assert_same(np.asarray(got[k]),
                    np.stack([mlp_grad_by_hand(p, x, y)[k] for p, x, y in zip(ps, xs, ys)]))


def test_grad_of_vmap():
    rng = _rng(8)
    p, xs, ys = mlp_params(rng), rng.normal(size=(6, 3)), rng.normal(size=(6, 2))

    def batch_loss(p):
        return cnp.mean(cr.vmap(mlp_loss, in_axes=(None, 0, 0))(p, xs, ys))

    np.testing.assert_allclose(
        batch_loss(p), np.mean([mlp_loss_np(p, x, y) for x, y in zip(xs, ys)]), rtol=1e-12)
    got = cr.grad(batch_loss)(p)
    per_example = [mlp_grad_by_hand(p, x, y) for x, y in zip(xs, ys)]
    for k in p:
        np.testing.assert_allclose(got[k], np.mean([g[k] for g in per_example], axis=0),
                                   rtol=1e-12, atol=1e-12)

    # and with respect to the batched inputs: row i is d loss_i / d x_i / 6
    def total(xs):
        return cnp.sum(cr.vmap(mlp_loss, in_axes=(None, 0, 0))(p, xs, ys))

    gx = cr.grad(total)(xs)
    for i, (x, y) in enumerate(zip(xs, ys)):
        a = p["W1"] @ x + p["b1"]
        h = np.tanh(a)
        d_h = p["W2"].T @ (2 * (p["W2"] @ h + p["b2"] - y)) + 0.1 * np.exp(h) / (1 + np.exp(h))
        np.testing.assert_allclose(gx[i], p["W1"].T @ (d_h * (1 - h ** 2)), rtol=1e-12,
                                   atol=1e-12)


def test_nested_vmap():
    rng = _rng(9)
    p = mlp_params(rng)
    xs, ys = rng.normal(size=(4, 5, 3)), rng.normal(size=(4, 5, 2))
    inner = cr.vmap(mlp_loss, in_axes=(None, 0, 0))
    got = cr.vmap(inner, in_axes=(None, 0, 0))(p, xs, ys)
    want = np.array([[mlp_loss_np(p, xs[i, j], ys[i, j]) for j in range(5)] for i in range(4)])
    assert_same(got, want)
    # the inner map over axis 1 of the outer examples, outer over axis 2
    xs_t = np.transpose(xs, (2, 1, 0))            # (3, 5, 4): x[i, j] = xs_t[:, j, i]
    ys_t = np.transpose(ys, (2, 1, 0))
    got = cr.vmap(cr.vmap(mlp_loss, in_axes=(None, 1, 1)), in_axes=(None, 2, 2),
                  out_axes=1)(p, xs_t, ys_t)
    assert_same(got, want.T)
    # nested per-example gradients: vmap(vmap(grad))
    g = cr.vmap(cr.vmap(cr.grad(mlp_loss), in_axes=(None, 0, 0)), in_axes=(None, 0, 0))(p, xs, ys)
    for k in p:
        want_k = np.stack([np.stack([mlp_grad_by_hand(p, xs[i, j], ys[i, j])[k]
                                     for j in range(5)]) for i in range(4)])
        assert_same(np.asarray(g[k]), want_k)
    closed = cr.make_ir(cr.vmap(inner, in_axes=(None, 0, 0)))(p, xs, ys)
    closed.check()
    assert_same(closed.eval(p, xs, ys), want)


def test_vmap_with_plain_numpy_function():
    # a function written with `import numpy as np` traces through __array_function__
    rng = _rng(10)
    W, xs = rng.normal(size=(3, 4)), rng.normal(size=(6, 4))

    def f(x):
        z = np.tanh(W @ x)
        return np.where(z > 0, z, 0.1 * z).sum()

    got = cr.vmap(f)(xs)
    want = np.array([f(x) for x in xs])
    assert_same(got, want)


# -- every batch rule under differentiation ------------------------------------------
# The rows again, differentiated: vmap(grad(g)) and grad(sum(vmap(g))) against
# a Python loop of grad(g), for g = <weights, f> (fixed weights), in the float
# operands.  The loop uses only JVP and transpose rules, so a difference is the
# batch rules' (of the primitive and of the rules' own equations).
NO_DERIVATIVE = {   # the primitive raises NotImplementedError for a derivative here
    ("qr", 2): "qr(mode='complete') of a tall matrix",
    ("svd", 1): "svd(full_matrices=True) of a non-square matrix",
    # a while loop has no reverse mode (tests/test_control_flow.py checks
    # vmap of its forward-mode derivative and the error)
    ("while", 0): "reverse mode of while_loop", ("while", 1): "reverse mode of while_loop",
}


def _grad_cases():
    out = []
    for name, rows in ROWS.items():
        for r, row in enumerate(rows):
            if (name, r) in NO_DERIVATIVE:
                continue
            rng = np.random.default_rng(0)
            kinds = [np.asarray(m(rng)).dtype.kind for m in row.operands]
            if "f" not in kinds or any(np.asarray(m(rng)).dtype != np.float64
                                       for m, k in zip(row.operands, kinds) if k == "f"):
                continue
            out_dtypes = _out_dtypes(row, rng)
            if any(d != np.float64 for d in out_dtypes):
                continue
            for axes in combinations(row, rng)[:4]:
                out.append(pytest.param(name, r, axes, id=f"{name}[{r}]-in_axes={axes}"))
    return out


def _out_dtypes(row, rng):
    out = row.fn(*[m(rng) for m in row.operands])
    outs = out if isinstance(out, (list, tuple)) else [out]
    return [np.asarray(o).dtype for o in outs]


@pytest.mark.parametrize("name,r,axes", _grad_cases())
def test_batch_rules_under_grad(name, r, axes):
    row = ROWS[name][r]
    seed = zlib.crc32(f"grad/{name}/{r}/{axes}".encode())
    examples, batched = make_batch(row, axes, seed)
    first = [ex if a is None else ex[0] for ex, a in zip(examples, axes)]
    out = row.fn(*first)
    outs = out if isinstance(out, (list, tuple)) else [out]
    wrng = np.random.default_rng(seed + 1)
    weights = [wrng.normal(size=np.shape(o)) for o in outs]
    diff = tuple(i for i, x in enumerate(first) if np.asarray(x).dtype.kind == "f")

    def g(*xs):
        res = row.fn(*xs)
        res = res if isinstance(res, (list, tuple)) else [res]
        return sum(cnp.sum(w * y) for w, y in zip(weights, res))

    grad_g = cr.grad(g, argnums=diff)
    per_example = [grad_g(*[ex if a is None else ex[b] for ex, a in zip(examples, axes)])
                   for b in range(BATCH)]

    # vmap(grad(g)): per-example gradients, each stacked along axis 0
    got = cr.vmap(grad_g, in_axes=axes)(*batched)
    for k, i in enumerate(diff):
        want = np.stack([np.asarray(pe[k]) for pe in per_example])
        assert_same(np.asarray(got[k]), want, 1e-10, f"vmap(grad) operand {i}")

    # grad(sum(vmap(g))): a batched operand's gradient is the per-example ones
    # stacked along its axis; an unbatched one's is their sum
    total = cr.grad(lambda *xs: cnp.sum(cr.vmap(g, in_axes=axes)(*xs)), argnums=diff)(*batched)
    for k, i in enumerate(diff):
        parts = [np.asarray(pe[k]) for pe in per_example]
        want = sum(parts) if axes[i] is None else np.stack(parts, axis=axes[i] % (parts[0].ndim + 1))
        assert_same(np.asarray(total[k]), want, 1e-10, f"grad(vmap) operand {i}")
