"""The planning results that are tables, as Arrow and pandas: columns, types and values.

Each table must hold, row for row, the figures of the result's own items (points, weeks,
lines, steps, stages, months, segments): money as exact decimals, shares as floats, names
from a fixed set as dictionaries.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pandas as pd
import pyarrow as pa

from slacore import (
    Agreement,
    BusinessCalendar,
    CatchUpStatus,
    Deal,
    Delivery,
    Handoff,
    LeadValueTable,
    MonthKind,
    ResponseRule,
    Touch,
    calibrate,
    catch_up,
    dont_be_on_it,
    escalation,
    pace,
    pacing_curve,
    reverse_funnel,
    scorecard,
)
from slacore.model import Lead
from slacore.planning.funnel import CapacityStatus

CAL = BusinessCalendar(timezone="America/New_York", holidays=None)


def _plain(value: Any) -> Any:
    """An item's figure as the table holds it."""
    if isinstance(value, Fraction):
        return float(value)
    if isinstance(value, CatchUpStatus | MonthKind | CapacityStatus):
        return str(value)
    return value


def _holds(table: pa.Table, items: Any, names: dict[str, str] | None = None) -> None:
    """Each row of ``table`` holds the attributes of the item in its place (column name ->
    attribute name through ``names``)."""
    names = names or {}
    rows = table.to_pylist()
    assert len(rows) == len(items)
    for row, item in zip(rows, items, strict=True):
        assert row == {k: _plain(getattr(item, names.get(k, k))) for k in table.column_names}


def _curve() -> Any:
    delivered = [
        Delivery(on=date(2026, 6, 1), value=100),
        Delivery(on=date(2026, 6, 6), value=Decimal("50.25")),
    ]
    check = pace(delivered, target=220, as_of="2026-06-08", calendar=CAL, capacity=40)
    return check, pacing_curve(check, delivered, calendar=CAL)


def test_pacing_curve_table() -> None:
    _, curve = _curve()
    table = curve.to_arrow()
    assert table.schema.field("day").type == pa.date32()
    assert pa.types.is_decimal(table.schema.field("line").type)
    _holds(table, curve.points)
    assert table.column("delivered").null_count > 0  # the days after as_of
    frame = curve.to_pandas()
    assert frame["delivered"][0] == Decimal("100")
    assert isinstance(frame["line"][0], Decimal)


def test_pacing_weeks_table() -> None:
    check, _ = _curve()
    table = check.to_arrow()
    assert table.schema.field("load").type == pa.dictionary(pa.int8(), pa.string())
    assert table.schema.field("start").type == pa.date32()
    _holds(table, check.weeks)
    frame = check.to_pandas()
    assert list(frame["load"].cat.categories) == [str(s) for s in CapacityStatus]
    assert str(frame["leads"].dtype) == "Int64"
    assert str(frame["complete"].dtype) == "boolean"


def _company_a() -> Agreement:
    from pathlib import Path

    return Agreement.load(Path(__file__).resolve().parents[3] / "examples" / "company_a.toml")


def test_scorecard_and_escalation_tables() -> None:
    agreement = _company_a()
    good = scorecard(
        agreement,
        "2020-07",
        revenue=1_400_000,
        lead_value=560_000,
        response="100%",
        milestones={"close rate on proposals": "36%", "sales cycle": 39},
    )
    table = good.to_arrow()
    assert table.column("key").to_pylist() == [line.key for line in good.lines]
    assert table.column("met").to_pylist() == [line.met for line in good.lines]
    revenue = table.filter(pa.compute.equal(table.column("key"), "goals.revenue")).to_pylist()[0]
    assert revenue["kind"] == "amount"
    assert (revenue["target"], revenue["actual"]) == (Decimal("1398809.53"), Decimal(1_400_000))
    response = table.filter(
        pa.compute.equal(table.column("key"), "sales.response.response")
    ).to_pylist()[0]
    assert (response["kind"], response["target"], response["actual"]) == (
        "share",
        Decimal(1),
        Decimal(1),
    )
    for row, line in zip(table.to_pylist(), good.lines, strict=True):
        assert (row["target_text"], row["actual_text"]) == (line.target_text, line.actual_text)
    missed = scorecard(agreement, "2020-08", revenue=1, response=Fraction(2, 3))
    rows = missed.to_arrow().to_pylist()
    share = next(row for row in rows if row["kind"] == "share")
    assert share["actual"] == Decimal("0.666666666667")
    unmeasured = next(row for row in rows if row["met"] is None)
    assert unmeasured["actual"] is None
    ladder = escalation(agreement, [good, missed])
    _holds(ladder.to_arrow(), ladder.steps)
    assert ladder.to_pandas()["met"].tolist() == [True, False]


def test_funnel_and_catch_up_tables() -> None:
    plan = reverse_funnel(deals=5, stages=[("lead", "10%"), ("demo", Fraction(1, 3))])
    table = plan.to_arrow()
    assert table.column_names == ["stage", "needed", "rate", "expected"]
    assert table.column("needed").to_pylist() == [s.needed for s in plan.stages]
    assert table.column("rate").to_pylist() == [0.1, 1 / 3, None]
    assert table.column("expected").to_pylist() == [float(x) for x in plan.forward()]
    year = catch_up(15_000_000, target_month=6, current_run_rate=Decimal("833333.33"), year=2020)
    months = year.to_arrow()
    _holds(months, year.months)
    assert months.schema.field("amount").type == pa.decimal128(38, 2)
    assert year.to_pandas()["kind"].cat.categories.tolist() == [str(k) for k in MonthKind]


def test_calibration_and_lead_value_tables() -> None:
    t0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
    leads = [
        Lead(id=f"L{i}", created_at=t0, segment="demo" if i < 10 else "ebook") for i in range(30)
    ]
    deals = [
        Deal(id="D1", lead_id="L1", amount=1000, opened_at=t0, closed_at=t0, won=True),
        Deal(id="D2", lead_id="L12", amount="250.50", opened_at=t0, closed_at=t0, won=True),
    ]
    learnt = calibrate(leads, deals)
    _holds(learnt.to_arrow(), learnt.segments)
    values = LeadValueTable.from_mapping({"referral": 5000, "content": "1000.5"})
    assert values.to_arrow().to_pylist() == [
        {"key": "referral", "value": Decimal("5000.0")},
        {"key": "content", "value": Decimal("1000.5")},
    ]
    mix = values.value_of({"referral": 2, "content": 3}, quota=10_000)
    _holds(mix.to_arrow(), mix.lines)
    quota = values.mix_for_quota(20_000, shares={"referral": 1, "content": 1})
    _holds(quota.to_arrow(), quota.lines)


def test_dashboard_table() -> None:
    now = datetime(2026, 6, 10, 12, tzinfo=UTC)
    handoffs = [
        Handoff(lead_id=f"L{i}", notified_at=now - timedelta(days=2), stage="mql", owner_id=rep)
        for i, rep in enumerate(["R1", "R1", "R2"])
    ]
    touches = [Touch(lead_id="L2", rep_id="R2", at=now - timedelta(days=1), channel="call")]
    report = ResponseRule(within="24h", clock="calendar").evaluate(handoffs, touches, now=now)
    board = dont_be_on_it(report)
    table = board.to_arrow()
    assert table.schema.field("not_contacted").type == pa.list_(pa.string())
    assert table.to_pylist() == [
        {
            "rep_id": row.rep_id,
            "not_contacted": list(row.not_contacted),
            "under_touched": list(row.under_touched),
            "violations": row.violations,
        }
        for row in board.rows
    ]
    assert isinstance(board.to_pandas(), pd.DataFrame)


def test_empty_tables_keep_their_columns() -> None:
    empty = escalation(_company_a(), [])
    assert empty.to_arrow().column_names == [
        "label",
        "met",
        "missed_in_a_row",
        "level",
        "terminate",
    ]
    assert empty.to_arrow().num_rows == 0
    assert calibrate([], []).to_arrow().num_rows == 0
