"""parse_duration's alternative format (PYYYY-MM-DDThh:mm:ss) must not invent months or days."""
from datetime import timedelta

import pytest

from isodate import Duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P0001T01", Duration(years=1, hours=1)),
        ("P0001-00T01", Duration(years=1, hours=1)),
        ("P0001-00-01T01", Duration(years=1, days=1, hours=1)),
        ("P0002-03", Duration(years=2, months=3)),
    ],
)
def test_missing_or_zero_fields_stay_zero(text, expected):
    parsed = parse_duration(text, as_timedelta_if_possible=False)
    assert (parsed.years, parsed.months, parsed.tdelta) == (expected.years, expected.months, expected.tdelta)


def test_complete_alternative_formats_still_parse():
    expected = Duration(years=1, months=2, days=3, hours=4, minutes=5, seconds=6)
    assert parse_duration("P0001-02-03T04:05:06") == expected
    assert parse_duration("P00010203T040506") == expected


def test_designator_format_is_unchanged():
    assert parse_duration("P1Y2M3DT4H5M6S") == Duration(years=1, months=2, days=3, hours=4, minutes=5, seconds=6)
    assert parse_duration("PT36H") == timedelta(hours=36)
