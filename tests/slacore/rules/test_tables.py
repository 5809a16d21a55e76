"""The rules' reports as Arrow and pandas tables: types, and values equal to the results'.

The tables are made from the evaluation's columns, not from result objects: on generated cases
(the reference test's), each row must hold exactly what the result object of the same
hand-off says, not-applicable, pending and withdrawn ones included.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given
from tests.slacore.rules.test_response_reference import CADENCES, RULES, Case, cases, evaluate

from slacore import Handoff, Touch
from slacore.errors import ValidationError
from slacore.rules import NEVER, CadenceRule, ResponseRule, SlaStatus
from slacore.rules._tables import _cadence_rows, _response_rows
from slacore.rules.response_report import bucket_labels

UTC_US = pa.timestamp("us", tz="UTC")
STATUS = pa.dictionary(pa.int8(), pa.string())
RESPONSE_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("stage", pa.string()),
        ("source", pa.string()),
        ("owner_id", pa.string()),
        ("status", STATUS),
        ("started_at", UTC_US),
        ("due_at", UTC_US),
        ("first_touch_at", UTC_US),
        ("withdrawn_at", UTC_US),
        ("elapsed", pa.duration("us")),
        ("business_elapsed", pa.duration("us")),
    ]
)
CADENCE_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("stage", pa.string()),
        ("source", pa.string()),
        ("owner_id", pa.string()),
        ("status", STATUS),
        ("window_end", UTC_US),
        ("touches", pa.int64()),
        ("met_at", UTC_US),
        ("withdrawn_at", UTC_US),
    ]
)
COUNTS = [
    "rep",
    "eligible",
    "met",
    "breached",
    "pending",
    "at_risk",
    "withdrawn",
    "compliance",
    "target",
    "target_met",
]
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def _expected(result: Any, names: list[str]) -> dict[str, Any]:
    """What a row must hold for ``result``: its figures, times as instants."""
    row: dict[str, Any] = {}
    for name in names:
        if name in ("lead_id", "stage", "source"):
            value = getattr(result.handoff, name)
        else:
            value = getattr(result, name)
        if isinstance(value, datetime):
            value = value.astimezone(UTC)
        elif isinstance(value, SlaStatus):
            value = str(value)
        row[name] = value
    return row


def _check_rows(table: pa.Table, results: Any) -> None:
    rows = table.to_pylist()
    assert len(rows) == len(results)
    for row, result in zip(rows, results, strict=True):
        assert row == _expected(result, table.column_names)


def _check_summaries(report: Any, groupings: tuple[str, ...]) -> None:
    """Each summary table's rows hold the figures of the summaries they come from."""
    for by in groupings:
        groups = {"rep": report.by_rep, "all": {"all": report.summary}}.get(by)
        groups = report.by_source if groups is None else groups
        rows = report.summary_to_arrow(by).to_pylist()
        assert [row.pop(by) for row in rows] == list(groups)
        for row, summary in zip(rows, groups.values(), strict=True):
            figures = summary.to_dict()
            buckets = figures.pop("buckets", {})
            for name, value in figures.items():
                key = name.removesuffix("_seconds")
                if key in ("p50", "p90"):
                    never = getattr(summary, key) == NEVER
                    assert row.pop(f"{key}_never") is never
                    value = None if value is None or never else timedelta(seconds=value)
                assert row.pop(key) == value, name
            assert row == buckets


@given(case=cases)
def test_response_table_holds_each_result(case: Case) -> None:
    for rule in RULES:
        report, _ = evaluate(rule, case)
        table = report.to_arrow()
        assert table.schema == RESPONSE_SCHEMA
        _check_rows(table, report.results)
        # The rows of the result objects make the same table.
        assert _response_rows(list(report.results)).equals(table)
        _check_summaries(report, ("rep", "source", "all"))


@given(case=cases)
def test_cadence_table_holds_each_result(case: Case) -> None:
    for rule in CADENCES:
        report, _ = evaluate(rule, case)
        table = report.to_arrow()
        assert table.schema == CADENCE_SCHEMA
        _check_rows(table, report.results)
        assert _cadence_rows(list(report.results)).equals(table)
        _check_summaries(report, ("rep", "all"))


def _handoffs() -> list[Handoff]:
    at = NOW - timedelta(hours=30)
    return [
        Handoff(lead_id="L1", notified_at=at, stage="mql", owner_id="R1", source="web"),
        Handoff(lead_id="L2", notified_at=at, stage="mql", owner_id="R2", source="webinar"),
        Handoff(lead_id="L3", notified_at=NOW - timedelta(minutes=10), stage="mql"),
    ]


def _touches() -> list[Touch]:
    return [Touch(lead_id="L1", rep_id="R1", at=NOW - timedelta(hours=29), channel="call")]


def test_response_table_rows_and_nulls() -> None:
    rule = ResponseRule(within="24h", clock="calendar")
    table = rule.evaluate(_handoffs(), _touches(), now=NOW).to_arrow()
    assert table.column("status").to_pylist() == ["met", "breached", "pending"]
    assert table.column("first_touch_at").to_pylist() == [NOW - timedelta(hours=29), None, None]
    assert table.column("elapsed").to_pylist() == [
        timedelta(hours=1),
        timedelta(hours=30),
        timedelta(minutes=10),
    ]
    assert table.column("business_elapsed").null_count == 3
    assert table.column("status").type.value_type == pa.string()
    assert table.column("status").chunk(0).dictionary.to_pylist() == [str(s) for s in SlaStatus]


def test_not_applicable_rows_keep_the_handoff() -> None:
    rule = ResponseRule(within="1h", clock="calendar", applies_to=~_web())
    table = rule.evaluate(_handoffs(), _touches(), now=NOW).to_arrow()
    assert table.column("lead_id").to_pylist() == ["L1", "L2", "L3"]
    first = table.slice(0, 1).to_pylist()[0]
    assert first["status"] == "not_applicable"
    assert first["started_at"] is None
    assert first["owner_id"] is None


def _web() -> Any:
    from slacore.rules import source

    return source("web")


def test_empty_reports_give_empty_tables() -> None:
    report = ResponseRule(within="1h", clock="calendar").evaluate([], now=NOW)
    assert report.to_arrow().schema == RESPONSE_SCHEMA
    assert report.to_arrow().num_rows == 0
    assert len(report.to_pandas()) == 0
    assert report.summary_to_arrow("rep").num_rows == 0
    cadence = CadenceRule(min_touches=2, within="2d").evaluate([], now=NOW)
    assert cadence.to_arrow().schema == CADENCE_SCHEMA
    assert cadence.summary_to_arrow().num_rows == 0


def test_to_pandas_types() -> None:
    rule = ResponseRule(within="24h", clock="calendar")
    frame = rule.evaluate(_handoffs(), _touches(), now=NOW).to_pandas()
    assert isinstance(frame["status"].dtype, pd.CategoricalDtype)
    assert list(frame["status"].cat.categories) == [str(s) for s in SlaStatus]
    assert str(frame["started_at"].dtype) == "datetime64[us, UTC]"
    assert str(frame["elapsed"].dtype) == "timedelta64[us]"
    assert frame["started_at"][0] == NOW - timedelta(hours=30)
    assert pd.isna(frame["first_touch_at"][1])


def test_polars_reads_the_table() -> None:
    rule = ResponseRule(within="24h", clock="calendar")
    frame = pl.from_arrow(rule.evaluate(_handoffs(), _touches(), now=NOW).to_arrow())
    assert isinstance(frame, pl.DataFrame)
    assert frame.schema["started_at"] == pl.Datetime("us", "UTC")
    assert frame.schema["status"] == pl.Categorical
    assert frame.filter(pl.col("status") == "breached")["lead_id"].to_list() == ["L2"]


def test_response_summary_tables() -> None:
    rule = ResponseRule(within="24h", clock="calendar", target=0.9)
    report = rule.evaluate(_handoffs(), _touches(), now=NOW)
    labels = list(bucket_labels("calendar"))
    by_rep = report.summary_to_arrow("rep")
    assert by_rep.column_names[:11] == [*COUNTS, "p50"]
    assert by_rep.column_names[-len(labels) :] == labels
    assert by_rep.column("rep").to_pylist() == list(report.by_rep)
    assert by_rep.column("compliance").to_pylist() == [None, 1.0, 0.0]  # (unassigned) first
    assert by_rep.column("target").to_pylist() == [0.9, 0.9, 0.9]
    assert by_rep.column("p50").type == pa.duration("us")
    everyone = report.summary_to_arrow("all").to_pylist()[0]
    summary = report.summary
    assert everyone["eligible"] == summary.eligible == 3
    assert everyone["p90_never"] is True
    assert everyone["p90"] is None
    assert everyone["p50"] == summary.p50 == timedelta(hours=1)
    assert everyone["never"] == 1
    by_source = report.summary_to_pandas("source")
    assert list(by_source["source"]) == list(report.by_source)
    assert str(by_source["met"].dtype) == "Int64"
    with pytest.raises(ValidationError, match="expected"):
        report.summary_to_arrow("team")


def test_cadence_summary_tables() -> None:
    rule = CadenceRule(min_touches=1, within="2d", target="50%")
    report = rule.evaluate(_handoffs(), _touches(), now=NOW)
    table = report.summary_to_arrow()
    assert table.column_names == COUNTS
    assert table.column("met").to_pylist() == [s.met for s in report.by_rep.values()]
    assert report.summary_to_pandas("all")["target"][0] == 0.5
    with pytest.raises(ValidationError):
        report.summary_to_arrow("source")


def test_money_decimals_are_exact() -> None:
    from slacore import _arrow as arrow

    values = [Decimal("1.5"), None, Decimal("1234567890123.125")]
    array = arrow.decimals(values)
    assert array.type == pa.decimal128(38, 3)
    assert array.to_pylist() == values
    wide = arrow.decimals([Decimal(10) ** 30, Decimal("0.0000000001")])
    assert wide.type == pa.decimal256(76, 10)
    assert wide.to_pylist() == [Decimal(10) ** 30, Decimal("0.0000000001")]
