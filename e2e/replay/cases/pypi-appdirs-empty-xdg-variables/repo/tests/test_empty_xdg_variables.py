"""On Linux, an XDG variable that is set but empty must count as unset (XDG Base Directory spec)."""
import os

import pytest

import appdirs


@pytest.fixture(autouse=True)
def linux_home(monkeypatch, tmp_path):
    monkeypatch.setattr(appdirs, "system", "linux2")
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_DIRS", "XDG_CONFIG_DIRS"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.mark.parametrize(
    ("variable", "function", "default"),
    [
        ("XDG_DATA_HOME", appdirs.user_data_dir, ".local/share"),
        ("XDG_CONFIG_HOME", appdirs.user_config_dir, ".config"),
        ("XDG_CACHE_HOME", appdirs.user_cache_dir, ".cache"),
        ("XDG_STATE_HOME", appdirs.user_state_dir, ".local/state"),
    ],
)
def test_empty_user_variable_falls_back_to_the_default(monkeypatch, linux_home, variable, function, default):
    monkeypatch.setenv(variable, "")
    assert function("demo") == os.path.join(str(linux_home), default, "demo")


def test_empty_system_variables_fall_back_to_the_defaults(monkeypatch):
    monkeypatch.setenv("XDG_DATA_DIRS", "")
    monkeypatch.setenv("XDG_CONFIG_DIRS", "")
    assert appdirs.site_data_dir("demo") == "/usr/local/share/demo"
    assert appdirs.site_config_dir("demo") == "/etc/xdg/demo"


def test_a_set_variable_is_still_used(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert appdirs.user_config_dir("demo") == str(tmp_path / "cfg" / "demo")
