from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slacore import ValidationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5m", timedelta(minutes=5)),
        ("1h", timedelta(hours=1)),
        ("24h", timedelta(hours=24)),
        ("14d", timedelta(days=14)),
        ("2w", timedelta(weeks=2)),
        ("90s", timedelta(seconds=90)),
        ("1h30m", timedelta(minutes=90)),
        ("1h 30m", timedelta(minutes=90)),
        (" 2d 4h ", timedelta(days=2, hours=4)),
        ("1.5h", timedelta(minutes=90)),
        ("8H", timedelta(hours=8)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_parse_duration_passes_timedelta_through() -> None:
    assert parse_duration(timedelta(minutes=7)) == timedelta(minutes=7)


@pytest.mark.parametrize("text", ["soon", "", "1", "h", "1x", "1h 2", "5 minutes", "-1h"])
def test_parse_duration_rejects_non_durations(text: str) -> None:
    with pytest.raises(ValidationError, match="expected a duration like") as info:
        parse_duration(text, field="sales.response.within")
    assert info.value.field == "sales.response.within"
    assert str(info.value).startswith("sales.response.within: expected a duration like")


def test_parse_duration_rejects_misordered_units() -> None:
    with pytest.raises(ValidationError, match="largest to smallest"):
        parse_duration("30m 1h")
    with pytest.raises(ValidationError, match="largest to smallest"):
        parse_duration("1h 1h")


@pytest.mark.parametrize("value", ["0h", timedelta(0), timedelta(hours=-1)])
def test_parse_duration_rejects_zero_and_negative(value: str | timedelta) -> None:
    with pytest.raises(ValidationError, match="positive duration"):
        parse_duration(value)


def test_parse_duration_rejects_other_types() -> None:
    with pytest.raises(ValidationError, match="got int 5"):
        parse_duration(5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text", ["99999999999d", "3651d", "522w", "3650d 1s", "87601h", "1" + "0" * 400 + "s"]
)
def test_parse_duration_rejects_more_than_ten_years(text: str) -> None:
    # "99999999999d" raised OverflowError, which crashed `slacore check`.
    with pytest.raises(ValidationError, match="at most 3650d") as info:
        parse_duration(text, field="sales.response.within")
    assert info.value.field == "sales.response.within"


def test_parse_duration_takes_ten_years() -> None:
    assert parse_duration("3650d") == timedelta(days=3650)
    assert parse_duration("520w 10d") == timedelta(days=3650)


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=45), "45s"),
        (timedelta(hours=1, minutes=30), "1h 30m"),
        (timedelta(days=14), "14d"),
        (timedelta(hours=-2), "-2h"),
    ],
)
def test_format_duration(duration: timedelta, text: str) -> None:
    assert format_duration(duration) == text


@given(st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=3650)))
def test_format_then_parse_round_trips_whole_seconds(duration: timedelta) -> None:
    whole = timedelta(seconds=int(duration.total_seconds()))
    assert parse_duration(format_duration(whole)) == whole
