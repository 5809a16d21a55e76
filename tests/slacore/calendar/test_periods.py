"""Calendar periods: spans, labels, parsing and shifting."""

from __future__ import annotations

import ast
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import slacore.calendar
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


def test_a_period_is_read_from_a_date_not_a_datetime() -> None:
    with pytest.raises(ValidationError, match="expected a date like") as info:
        Period.MONTH.span(datetime(2020, 7, 15, tzinfo=UTC))  # type: ignore[arg-type]
    assert info.value.field == "period"


def test_span_to_dict_is_json_ready() -> None:
    span = Period.QUARTER.span("2020-Q3")
    assert json.loads(json.dumps(span.to_dict())) == {
        "period": "quarter",
        "label": "2020-Q3",
        "start": "2020-07-01",
        "end": "2020-09-30",
    }


def test_the_calendar_imports_nothing_above_it() -> None:
    # The calendar is the bottom of the core: planning, rules, agreements and render import it,
    # so an import back (render's own helpers included) would make import order matter.
    above = ("slacore.planning", "slacore.rules", "slacore.agreement", "slacore.render")
    package = Path(slacore.calendar.__file__).parent
    found = [
        (path.name, node.module)
        for path in sorted(package.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(above)
    ]
    assert found == []
