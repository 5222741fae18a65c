"""``cr.config``: reading, ``update``, ``override``, unknown names and bad
values, and the environment variables options start from."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import chainrule as cr
from chainrule.tracer.config import Config


@pytest.fixture(autouse=True)
def restore_options():
    """Every test leaves the options as it found them."""
    before = cr.config.values()
    yield
    for name, value in before.items():
        cr.config.update(name, value)


def test_the_defaults():
    fresh = Config(environ={})
    assert fresh.debug_nans is False
    assert fresh.traceback_filtering == "on"
    assert fresh.values() == {"debug_nans": False, "traceback_filtering": "on"}


def test_update_and_read():
    cr.config.update("debug_nans", True)
    assert cr.config.debug_nans is True
    cr.config.update("debug_nans", False)
    assert cr.config.debug_nans is False
    cr.config.update("traceback_filtering", "off")
    assert cr.config.traceback_filtering == "off"
    cr.config.update("traceback_filtering", True)     # a bool reads back as on/off
    assert cr.config.traceback_filtering == "on"
    for word, value in (("1", True), ("yes", True), ("ON", True), ("0", False), ("false", False)):
        cr.config.update("debug_nans", word)
        assert cr.config.debug_nans is value


def test_override_restores_even_when_the_block_raises():
    cr.config.update("debug_nans", False)
    before = cr.config.values()
    with cr.config.override(debug_nans=True, traceback_filtering="off") as config:
        assert config is cr.config
        assert cr.config.debug_nans is True and cr.config.traceback_filtering == "off"
        with cr.config.override(debug_nans=False):
            assert cr.config.debug_nans is False
        assert cr.config.debug_nans is True
    assert cr.config.values() == before
    with pytest.raises(KeyError):
        with cr.config.override(debug_nans=True):
            raise KeyError("inside")
    assert cr.config.debug_nans is False


def test_unknown_names_list_the_options():
    cr.config.update("debug_nans", False)
    for attempt in (lambda: cr.config.update("debug_nan", True),
                    lambda: cr.config.override(debug_infs=True).__enter__(),
                    lambda: cr.config.no_such_option):
        with pytest.raises(AttributeError) as error:
            attempt()
        assert "debug_nans" in str(error.value) and "traceback_filtering" in str(error.value)
    # a failed override changes nothing, not even the options it named correctly
    with pytest.raises(AttributeError):
        with cr.config.override(debug_nans=True, nope=1):
            pass
    assert cr.config.debug_nans is False


def test_bad_values_and_assignment_are_refused():
    cr.config.update("debug_nans", False)
    with pytest.raises(ValueError, match="debug_nans takes True or False"):
        cr.config.update("debug_nans", "sometimes")
    with pytest.raises(ValueError, match='"on" or "off"'):
        cr.config.update("traceback_filtering", "partly")
    with pytest.raises(ValueError):
        cr.config.update("debug_nans", 2)
    with pytest.raises(AttributeError, match=r"cr\.config\.update\('debug_nans', value\)"):
        cr.config.debug_nans = True
    assert cr.config.debug_nans is False


def test_repr_shows_every_option():
    assert repr(Config(environ={})) == "cr.config(debug_nans=False, traceback_filtering='on')"


def test_options_start_from_the_environment():
    config = Config(environ={"CHAINRULE_TRACEBACK_FILTERING": "off",
                             "CHAINRULE_DEBUG_NANS": "1"})
    assert config.traceback_filtering == "off" and config.debug_nans is True
    with pytest.warns(UserWarning, match="CHAINRULE_DEBUG_NANS='maybe' is ignored"):
        config = Config(environ={"CHAINRULE_DEBUG_NANS": "maybe"})
    assert config.debug_nans is False


def test_the_environment_variable_reaches_the_package():
    env = dict(os.environ, CHAINRULE_TRACEBACK_FILTERING="off", CHAINRULE_DEBUG_NANS="true")
    out = subprocess.run(
        [sys.executable, "-c", "import chainrule as cr; print(cr.config.values())"],
        env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "{'debug_nans': True, 'traceback_filtering': 'off'}"
