"""Calendar periods: spans, labels, parsing and shifting."""

from __future__ import annotations

from datetime import date

import pytest

from slacore.calendar import Period
from slacore.errors import ValidationError


def test_periods_and_labels() -> None:
    day = date(2020, 7, 15)
    assert Period.MONTH.span(day).label == "2020-07"
    assert (Period.MONTH.span(day).start, Period.MONTH.span(day).end) == (
        date(2020, 7, 1),
        date(2020, 7, 31),
    )
    assert Period.QUARTER.span(day).label == "2020-Q3"
    assert Period.QUARTER.span(day).end == date(2020, 9, 30)
    assert Period.WEEK.span(day).label == "2020-W29"
    assert Period.WEEK.span(day).start == date(2020, 7, 13)
    assert Period.YEAR.span(day).label == "2020"
    for period, label in [
        (Period.MONTH, "2020-02"),
        (Period.QUARTER, "2020-Q1"),
        (Period.WEEK, "2020-W05"),
        (Period.YEAR, "2020"),
    ]:
        assert period.span(label).label == label
    assert Period.MONTH.span("2020-02").end == date(2020, 2, 29)
    assert Period.MONTH.span("2020-02-10").label == "2020-02"
    assert date(2020, 2, 29) in Period.MONTH.span("2020-02")
    assert len(Period.MONTH.span("2020-02").days()) == 29


def test_period_parse_and_shift() -> None:
    assert Period.parse("Monthly") is Period.MONTH
    assert Period.parse("annually") is Period.YEAR
    assert Period.MONTH.shift(date(2020, 1, 31), 1) == date(2020, 2, 29)
    assert Period.YEAR.shift(date(2020, 2, 29), 1) == date(2021, 2, 28)
    assert Period.WEEK.shift(date(2020, 1, 1), 2) == date(2020, 1, 15)
    assert Period.QUARTER.shift(date(2020, 11, 30), 1) == date(2021, 2, 28)
    with pytest.raises(ValidationError, match="expected one of week, month"):
        Period.parse("fortnight")
    with pytest.raises(ValidationError, match="like 2020-Q3, got '2020-Q9'"):
        Period.QUARTER.span("2020-Q9")
