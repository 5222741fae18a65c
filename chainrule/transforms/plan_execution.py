"""Running a Jacobian plan: the sweeps and products of a bracketing.

``_Chain`` holds a linear program cut into segments and computes, for a
plan tree (``planner.PlanNode``), the Jacobian of the whole chain bottom-up:

* tangent sweeps: ``batch_walk`` over a run of segments with many seed
  directions at once (``P(i..j) @ columns``); an identity seed stays
  symbolic (``IdentitySeed``) so that a leading matrix product folds it;
* adjoint sweeps: the same over the run's transposed program
  (``rows @ P(i..j)``);
* explicit factors: the constant operand of a matrix product, or the
  diagonal of an elementwise segment (kept as a vector, ``_Diagonal``);
* products of two factors (a diagonal only scales the other one).

Given tracers (as ``jacobian`` runs it, once per program structure), all of
this is recorded as IR: the plan's execution program.
"""
from __future__ import annotations

import numpy as np

from .. import numpy as cnp
from ..interpreters.batch import batch_walk
from ..primitives._batch import IdentitySeed
from ..interpreters.transpose import transpose_ir
from ..tracer.core import get_aval
from ..tracer.ir import IR, ClosedIR, Var
from . import planner

_IDENTITY = object()   # the identity as the seed of a sweep (kept symbolic)


class _Diagonal:
    """A diagonal Jacobian, kept as its diagonal."""

    def __init__(self, d):
        self.d = d


def _dense(a):
    if not isinstance(a, _Diagonal):
        return a
    aval = get_aval(a.d)
    return cnp.multiply(np.eye(aval.shape[0], dtype=aval.dtype), a.d[None, :])


def _matmul(left, right):
    if isinstance(left, _Diagonal) and isinstance(right, _Diagonal):
        return _Diagonal(cnp.multiply(left.d, right.d))
    if isinstance(left, _Diagonal):
        return cnp.multiply(left.d[:, None], right)
    if isinstance(right, _Diagonal):
        return cnp.multiply(left, right.d[None, :])
    return cnp.matmul(left, right)


class _Chain:
    """A linear program cut into segments, and the sweeps that run them."""

    def __init__(self, linear: ClosedIR, segments):
        self.linear = linear
        self.segments = segments

    def sub_ir(self, i, j):
        ir, a, b = self.linear.ir, self.segments[i], self.segments[j]
        return IR(ir.constvars, a.in_vars, ir.eqns[a.start:b.stop], b.out_vars)

    @staticmethod
    def _split(matrix, variables, directions):
        """Cut the columns (direction-major rows of ``matrix``, shape
        ``(directions, width)``) into one seed per variable."""
        seeds, offset = [], 0
        for v in variables:
            size = v.aval.size
            seeds.append(cnp.reshape(matrix[:, offset:offset + size], (directions,) + v.aval.shape))
            offset += size
        return seeds

    @staticmethod
    def _join(outs, dims, variables, directions):
        rows = []
        for v, o, d in zip(variables, outs, dims):
            if d is None:   # does not depend on the seeds: zero tangent
                o = np.zeros((directions,) + v.aval.shape, v.aval.dtype)
            elif d != 0:
                o = cnp.moveaxis(o, d, 0)
            rows.append(cnp.reshape(o, (directions, v.aval.size)))
        return cnp.concatenate(rows, axis=1) if len(rows) > 1 else rows[0]

    @staticmethod
    def _seeds(matrix, variables, directions):
        """One batched seed per variable from ``matrix`` (directions first);
        the identity stays symbolic when one variable takes all of it, so
        that a leading matrix product folds it (seed folding)."""
        if matrix is _IDENTITY:
            if len(variables) == 1:
                return [IdentitySeed(variables[0].aval.shape, variables[0].aval.dtype)]
            matrix = np.eye(directions, dtype=np.result_type(*[v.aval.dtype for v in variables]))
        return _Chain._split(matrix, variables, directions)

    def forward(self, i, j, columns):
        """``P(i..j) @ columns`` by tangent sweeps, one per column."""
        sub = self.sub_ir(i, j)
        directions = self.segments[i].width_in if columns is _IDENTITY \
            else get_aval(columns).shape[1]
        seeds = self._seeds(columns if columns is _IDENTITY else cnp.transpose(columns),
                            sub.invars, directions)
        outs, dims = batch_walk(sub, self.linear.consts, seeds, [0] * len(seeds))
        return cnp.transpose(self._join(outs, dims, sub.outvars, directions))

    def adjoint(self, i, j, rows):
        """``rows @ P(i..j)`` by adjoint sweeps, one per row."""
        backward = transpose_ir(ClosedIR(self.sub_ir(i, j), self.linear.consts))
        sub = self.sub_ir(i, j)
        directions = self.segments[j].width_out if rows is _IDENTITY else get_aval(rows).shape[0]
        cts = self._seeds(rows, sub.outvars, directions)
        outs, dims = batch_walk(backward.ir, backward.consts, cts, [0] * len(cts))
        return self._join(outs, dims, sub.invars, directions)

    def explicit(self, s):
        """The Jacobian of an explicit segment: the constant operand of its
        matrix product, arranged as (output size, input size); or a diagonal."""
        seg = self.segments[s]
        if seg.kind == "diagonal":
            ones = np.ones((seg.width_in, 1), seg.in_vars[0].aval.dtype)
            return _Diagonal(cnp.reshape(self.forward(s, s, ones), (seg.width_out,)))
        (eqn,) = self.linear.ir.eqns[seg.start:seg.stop]
        (lc, rc), _ = eqn.params["dimension_numbers"]
        lhs, rhs = eqn.inputs
        var = seg.in_vars[0]
        const, c_axes, v_axes = (lhs, lc, rc) if rhs is var else (rhs, rc, lc)
        value = self._value(const)
        ndim = get_aval(value).ndim
        free = [a for a in range(ndim) if a not in c_axes]
        contracted = [c_axes[list(v_axes).index(a)] for a in range(var.aval.ndim)]
        w = cnp.transpose(value, free + contracted)
        return cnp.reshape(w, (seg.width_out, seg.width_in))

    def _value(self, atom):
        if type(atom) is Var:
            return self.linear.consts[self.linear.ir.constvars.index(atom)]
        return atom.value

    def run(self, root):
        """Evaluate a plan tree bottom-up."""
        results = {}
        for node, _ in planner.post_order(root):
            if node.option == planner.FWD:
                out = self.forward(node.i, node.j, _IDENTITY)
            elif node.option == planner.REV:
                out = self.adjoint(node.i, node.j, _IDENTITY)
            elif node.option == planner.EXPLICIT:
                out = self.explicit(node.i)
            elif node.option == planner.PRODUCT:
                out = _matmul(results.pop(id(node.left)), results.pop(id(node.right)))
            elif node.option == planner.TANGENT_ELIM:
                # P @ diag(d) is (P @ I) scaled: the identity seed folds
                right = results.pop(id(node.right))
                out = (_matmul(self.forward(node.split + 1, node.j, _IDENTITY), right)
                       if isinstance(right, _Diagonal)
                       else self.forward(node.split + 1, node.j, right))
            else:
                left = results.pop(id(node.left))
                out = (_matmul(left, self.adjoint(node.i, node.split, _IDENTITY))
                       if isinstance(left, _Diagonal)
                       else self.adjoint(node.i, node.split, left))
            results[id(node)] = out
        return _dense(results[id(root)])
