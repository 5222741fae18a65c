"""chainrule's options: ``cr.config``.

One object, ``config``, holds every option; the package exports it as
``cr.config``::

    cr.config.debug_nans                             # read: False
    cr.config.update("debug_nans", True)             # set, until set again
    with cr.config.override(debug_nans=True):        # set for a block only
        ...

The options (``OPTIONS`` below):

* ``debug_nans`` (default ``False``): evaluation stops at the first
  equation that produces NaN or infinity from finite inputs and raises
  ``NonFiniteError`` (see ``debug_nans.py``);
* ``traceback_filtering`` (default ``"on"``): errors raised inside the
  transforms show the user's frames only, chainrule's own are removed (see
  ``tracebacks.py``); ``"off"`` shows every frame.

Each option starts from the environment variable ``CHAINRULE_<NAME>`` when
it is set (``CHAINRULE_TRACEBACK_FILTERING=off``, ``CHAINRULE_DEBUG_NANS=1``),
else from its default.  The values live as plain attributes of ``config``,
so the tracer and the interpreters read them (``config.debug_nans``) at the
cost of one attribute lookup.  An override is global for the duration of
its block, not per thread.
"""
from __future__ import annotations

import contextlib
import os
import warnings

_TRUE = ("1", "true", "on", "yes")
_FALSE = ("0", "false", "off", "no")


def _truth(value):
    """True or False for a bool (or 0/1) or one of the words of ``_TRUE`` and
    ``_FALSE``; None for anything else."""
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE + _FALSE:
            return word in _TRUE
    elif value in (True, False):
        return bool(value)
    return None


def _flag(name, value):
    """A boolean option's value."""
    truth = _truth(value)
    if truth is None:
        raise ValueError(f"cr.config: {name} takes True or False, not {value!r}")
    return truth


def _on_off(name, value):
    """An on/off option's value, ``"on"`` or ``"off"`` (also from a bool)."""
    truth = _truth(value)
    if truth is None:
        raise ValueError(f"cr.config: {name} takes \"on\" or \"off\" (or True or False), "
                         f"not {value!r}")
    return "on" if truth else "off"


# name -> (default, how a given value becomes the stored one)
OPTIONS = {
    "debug_nans": (False, _flag),
    "traceback_filtering": ("on", _on_off),
}


class Config:
    """The options of chainrule (see the module docstring): read them as
    attributes, set them with ``update`` or, for a block, ``override``."""

    def __init__(self, environ=os.environ):
        for name, (default, parse) in OPTIONS.items():
            value = default
            text = environ.get(f"CHAINRULE_{name.upper()}")
            if text is not None:
                try:
                    value = parse(name, text)
                except ValueError as e:
                    warnings.warn(f"CHAINRULE_{name.upper()}={text!r} is ignored: {e}",
                                  stacklevel=2)
            object.__setattr__(self, name, value)

    def _checked(self, name, value):
        if name not in OPTIONS:
            raise AttributeError(f"cr.config has no option {name!r}; the options are "
                                 f"{', '.join(sorted(OPTIONS))}")
        return OPTIONS[name][1](name, value)

    def update(self, name: str, value) -> None:
        """Set the option ``name`` to ``value``."""
        object.__setattr__(self, name, self._checked(name, value))

    @contextlib.contextmanager
    def override(self, **values):
        """Set the options given as keywords for the duration of a ``with``
        block, then restore the values they had."""
        checked = {name: self._checked(name, value) for name, value in values.items()}
        previous = {name: getattr(self, name) for name in checked}
        for name, value in checked.items():
            object.__setattr__(self, name, value)
        try:
            yield self
        finally:
            for name, value in previous.items():
                object.__setattr__(self, name, value)

    def values(self) -> dict:
        """Every option and its current value."""
        return {name: getattr(self, name) for name in OPTIONS}

    def __getattr__(self, name):   # (only reached for names that are not options)
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(f"cr.config has no option {name!r}; the options are "
                             f"{', '.join(sorted(OPTIONS))}")

    def __setattr__(self, name, value):
        raise AttributeError(f"set chainrule's options with cr.config.update({name!r}, value) "
                             f"or, for a block, cr.config.override({name}=value)")

    def __repr__(self):
        return "cr.config(" + ", ".join(f"{k}={v!r}" for k, v in self.values().items()) + ")"


config = Config()
