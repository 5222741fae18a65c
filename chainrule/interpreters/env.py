"""The environment of an interpreter: what it knows about a program's
variables while it walks the equations.

``Env(ir, consts, args)`` maps each variable to its value.  It starts with
the program's literals (``IR.literals``), its const vars and its input vars,
so that an interpreter reads every atom of an equation, variable or literal
alike, with ``env.read`` (one dictionary lookup; ``map(env.read, atoms)``
for a list) and binds an equation's results with ``env.write(eqn, out)``.
Each interpreter is then a loop a reader takes in at once::

    env = Env(ir, consts, args)
    for eqn in ir.eqns:
        env.write(eqn, bind(eqn.primitive, *map(env.read, eqn.inputs), **eqn.params))
    return list(map(env.read, ir.outvars))
"""
from __future__ import annotations


class Env(dict):
    """Variable (or literal) -> value, for one walk over one program."""

    __slots__ = ()

    def __init__(self, ir, consts=(), args=()):
        super().__init__(ir.literals())
        self.update(zip(ir.constvars, consts))
        self.update(zip(ir.invars, args))

    # the value of an atom: a variable's value, a literal's constant
    read = dict.__getitem__

    def write(self, eqn, out):
        """Bind the output variables of ``eqn`` to ``out`` (a list for a
        primitive with multiple results)."""
        if eqn.primitive.multiple_results:
            self.update(zip(eqn.outvars, out))
        else:
            self[eqn.outvars[0]] = out
