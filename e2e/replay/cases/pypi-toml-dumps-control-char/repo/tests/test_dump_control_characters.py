"""toml.dumps must write every string so that toml.loads gives it back unchanged."""
import pytest

import toml


@pytest.mark.parametrize(
    "value",
    ["\x01hello", "a\x01b", "\x7f", "tab\tand\x1bescape", "end\x00", "\\x01 is not a control character"],
)
def test_strings_with_control_characters_round_trip(value):
    dumped = toml.dumps({"key": value})
    assert toml.loads(dumped) == {"key": value}


def test_control_characters_are_written_as_unicode_escapes():
    assert toml.dumps({"key": "a\x01b"}) == 'key = "a\\u0001b"\n'


def test_ordinary_strings_are_unchanged():
    assert toml.dumps({"key": 'quote " and backslash \\'}) == 'key = "quote \\" and backslash \\\\"\n'
