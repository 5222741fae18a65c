"""The environment of an interpreter: what it knows about a program's
variables while it walks the equations.

An environment is a plain dictionary from atoms to values.  ``environment``
starts it with the program's literals (``IR.literals``), its const vars and
its input vars, so that an interpreter reads every atom of an equation,
variable or literal alike, with one lookup, ``read = env.__getitem__``
(``map(read, eqn.inputs)`` for all of them), and binds an equation's results
with ``write(env, eqn, out)``.  Each interpreter is then a loop a reader
takes in at once::

    env = environment(ir, consts, args)
    read = env.__getitem__
    for eqn in ir.eqns:
        write(env, eqn, bind(eqn.primitive, *map(read, eqn.inputs), **eqn.params))
    return list(map(read, ir.outvars))
"""
from __future__ import annotations


def environment(ir, consts=(), args=()) -> dict:
    """A new environment for one walk over ``ir``: its literals, const vars
    and input vars bound to their values."""
    env = dict(ir.literals())
    env.update(zip(ir.constvars, consts))
    env.update(zip(ir.invars, args))
    return env


def write(env, eqn, out):
    """Bind the output variables of ``eqn`` to ``out`` (a list for a
    primitive with multiple results)."""
    if eqn.primitive.multiple_results:
        env.update(zip(eqn.outvars, out))
    else:
        env[eqn.outvars[0]] = out
