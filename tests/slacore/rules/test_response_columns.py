"""``ResponseRule.evaluate_columns`` against ``evaluate`` and the plain reference.

The same generated cases as test_response_reference.py (several hand-offs a lead, withdrawals,
reassignments, pending and at-risk clocks, around both changes of clocks), widened with mixed
teams and reps of another team, given as tables of every kind the column path reads: a dict
of numpy arrays (times as given), plain lists, a pandas DataFrame, a pyarrow Table and a polars
DataFrame (times in one zone per column: the records compared with are in that zone too).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.slacore.rules.test_response_reference import (
    CALENDAR,
    LEADS,
    REPS,
    RULES,
    Case,
    covered,
    evaluate,
    reference,
    same_instants,
    zoned,
)
from tests.slacore.rules.test_response_reference import cases as plain_cases

from slacore import Handoff, OwnerChange, StageChange, Touch
from slacore.rules.common import SlaStatus
from slacore.rules.dashboard import dont_be_on_it
from slacore.rules.response import ResponseRule, StageReached

NY = ZoneInfo("America/New_York")
COLUMN_RULES = [
    *RULES,
    # The 24-hour plain clock, and a stage stop event on the business clock.
    ResponseRule(within="24h", clock="calendar"),
    ResponseRule(within="8h", calendar=CALENDAR, stop=StageReached("sal", "rejected")),
]
# The reps the reference's cases know: R2 is marketing, whose touches do not count for
# sales; R3 and R4 (reassignments) are unknown, and their touches count.
TEAMED = {rep.id: rep.team for rep in REPS}

# Hand-offs to either team: with reps known, mixed teams send every lead down the general path.
mixed_handoffs = st.builds(
    lambda lead, at, stage, owner, origin, raised, to_sales: Handoff(
        lead_id=lead,
        notified_at=at,
        stage=stage,
        owner_id=owner,
        source=origin,
        hand_raiser=raised,
        from_team="marketing" if to_sales else "sales",
        to_team="sales" if to_sales else "marketing",
    ),
    st.sampled_from(LEADS),
    zoned,
    st.sampled_from(["mql", "sql"]),
    st.sampled_from(["R1", "R2", None]),
    st.sampled_from(["web", "webinar", None]),
    st.booleans(),
    st.booleans(),
)
mixed_touches = st.builds(
    Touch,
    lead_id=st.sampled_from(LEADS),
    rep_id=st.sampled_from(["R1", "R2", "R3", "R4"]),
    at=zoned,
    channel=st.sampled_from(["call", "email", "other"]),
)
cases = st.one_of(
    plain_cases,
    st.builds(
        lambda case, items, touched: replace(case, items=items, touched=touched, teams=True),
        plain_cases,
        st.lists(mixed_handoffs, max_size=6),
        st.lists(mixed_touches, max_size=12),
    ),
)

HANDOFF_FIELDS = (
    "lead_id", "notified_at", "stage", "owner_id", "from_team", "to_team", "source",
    "hand_raiser",
)  # fmt: skip


def _columns(records: list[Any], fields: tuple[str, ...]) -> dict[str, list[Any]]:
    return {name: [getattr(r, name) for r in records] for name in fields}


def as_tables(case: Case) -> dict[str, dict[str, list[Any]]]:
    """The case's records as columns of plain values (times as given)."""
    return {
        "handoffs": _columns(case.items, HANDOFF_FIELDS),
        "touches": _columns(case.touched, ("lead_id", "rep_id", "at", "channel")),
        "stage_changes": _columns(case.changed, ("lead_id", "to_stage", "at")),
        "owner_changes": _columns(case.moved, ("lead_id", "owner_id", "at")),
        "reps": {"id": list(TEAMED), "team": list(TEAMED.values())},
    }


def _in_zone(case: Case, zone: ZoneInfo | type[UTC] | Any) -> Case:
    """The case with every time in ``zone``: a pandas or Arrow column has one zone."""

    def moved(record: Any, name: str) -> Any:
        return replace_attr(record, name, getattr(record, name).astimezone(zone))

    return Case(
        items=[moved(h, "notified_at") for h in case.items],
        touched=[moved(t, "at") for t in case.touched],
        changed=[moved(c, "at") for c in case.changed],
        moved=[moved(o, "at") for o in case.moved],
        now=case.now,
        teams=case.teams,
    )


def replace_attr(record: Any, name: str, value: Any) -> Any:
    import attrs

    return attrs.evolve(record, **{name: value})


def _numpy(columns: dict[str, list[Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, values in columns.items():
        if name == "hand_raiser":
            out[name] = np.array(values, dtype=bool)
        else:
            array = np.empty(len(values), dtype=object)
            array[:] = values
            out[name] = array
    return out


TIMES = ("notified_at", "at")
ZONES = {
    "UTC": UTC,
    "America/New_York": NY,
    "+05:30": timezone(timedelta(hours=5, minutes=30)),
}


def _pandas(columns: dict[str, list[Any]], zone: str) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for name, values in columns.items():
        if name in TIMES:
            data[name] = pd.Series(pd.to_datetime(values, utc=True)).dt.tz_convert(zone)
        elif name == "hand_raiser":
            data[name] = pd.Series(values, dtype=bool)
        else:
            data[name] = pd.Series([str(v) if v is not None else None for v in values])
    return pd.DataFrame(data)


def _arrow(columns: dict[str, list[Any]], zone: str) -> pa.Table:
    data: dict[str, Any] = {}
    for name, values in columns.items():
        if name in TIMES:
            data[name] = pa.array(values, type=pa.timestamp("us", tz=zone))
        elif name == "hand_raiser":
            data[name] = pa.array(values, type=pa.bool_())
        else:
            data[name] = pa.array([None if v is None else str(v) for v in values], pa.string())
    return pa.table(data)


def evaluate_both(rule: ResponseRule, case: Case, kind: str, zone: str) -> tuple[Any, Any, Case]:
    """``evaluate`` on the records and ``evaluate_columns`` on them as tables of ``kind``."""
    records = case if kind in ("numpy", "lists") else _in_zone(case, ZONES[zone])
    tables: dict[str, Any] = as_tables(records)
    if kind == "numpy":
        tables = {name: _numpy(columns) for name, columns in tables.items()}
    elif kind == "pandas":
        tables = {name: _pandas(columns, zone) for name, columns in tables.items()}
    elif kind in ("arrow", "polars"):
        tables = {name: _arrow(columns, zone) for name, columns in tables.items()}
        if kind == "polars":
            tables = {name: pl.from_arrow(table) for name, table in tables.items()}
    expected, _ = evaluate(rule, records)
    got = rule.evaluate_columns(
        tables["handoffs"],
        tables["touches"],
        now=records.now,
        stage_changes=tables["stage_changes"],
        owner_changes=tables["owner_changes"],
        reps=tables["reps"] if records.teams else None,
    )
    return expected, got, records


def assert_same_report(expected: Any, got: Any) -> None:
    assert got.summary == expected.summary
    assert got.by_rep == expected.by_rep
    assert got.by_source == expected.by_source
    assert got.now == expected.now
    assert len(got.results) == len(expected.results)
    # Picking by status (the dashboard's way) answers as the object path's columns do.
    for status in SlaStatus:
        assert got.with_status(status) == expected.with_status(status)
    assert dont_be_on_it(got).to_dict() == dont_be_on_it(expected).to_dict()
    for mine, theirs in zip(got.results, expected.results, strict=True):
        assert mine == theirs
        # The same times with the same offsets, not only the same instants.
        assert mine.handoff.notified_at.utcoffset() == theirs.handoff.notified_at.utcoffset()
        for name in ("started_at", "first_touch_at", "withdrawn_at", "due_at"):
            a, b = getattr(mine, name), getattr(theirs, name)
            assert (a is None) == (b is None)
            assert a is None or (a == b and a.utcoffset() == b.utcoffset()), name


REFERENCE_FIGURES = (
    "status", "due_at", "first_touch_at", "withdrawn_at", "owner_id", "elapsed",
    "business_elapsed",
)  # fmt: skip
"""What ``reference`` answers for one hand-off, in its order."""


@settings(max_examples=300, deadline=None)
@given(rule=st.sampled_from(COLUMN_RULES), case=cases)
def test_columns_equal_objects_and_the_reference(rule: ResponseRule, case: Case) -> None:
    expected, got, records = evaluate_both(rule, case, "numpy", "")
    assert_same_report(expected, got)
    if rule.stop is not None:  # the reference knows touches only
        return
    assert_as_reference(rule, records, got, reference, REFERENCE_FIGURES)


def assert_as_reference(
    rule: Any, records: Case, report: Any, answer: Any, names: tuple[str, ...]
) -> None:
    """Each covered hand-off's figures ``names`` are what the plain reference ``answer``s."""
    team_of = TEAMED if records.teams else None
    for handoff, result in covered(rule, records, report):
        want = answer(rule, handoff, records, team_of)
        have = tuple(getattr(result, name) for name in names)
        assert same_instants(have) == same_instants(want), handoff


@settings(max_examples=60, deadline=None)
@given(
    rule=st.sampled_from(COLUMN_RULES),
    case=cases,
    kind=st.sampled_from(["lists", "pandas", "arrow", "polars"]),
    zone=st.sampled_from(["UTC", "America/New_York", "+05:30"]),
)
def test_every_table_kind_gives_what_evaluate_gives(
    rule: ResponseRule, case: Case, kind: str, zone: str
) -> None:
    if kind == "polars" and zone.startswith("+"):  # polars knows zones by name only
        zone = "UTC"
    expected, got, _ = evaluate_both(rule, case, kind, zone)
    assert_same_report(expected, got)


def test_results_are_made_when_read_and_name_their_rows() -> None:
    at = datetime(2026, 3, 2, 14, tzinfo=UTC)
    handoffs = {
        "lead_id": np.array(["L1", "L2", "L3"], dtype=object),
        "notified_at": pa.array([at, at, at], type=pa.timestamp("us", tz="America/New_York")),
        "stage": ["mql", "mql", "mql"],
        "source": ["web", "webinar", None],
    }
    touches = pd.DataFrame(
        {
            "lead_id": ["L1", "L3"],
            "rep_id": ["R1", "R1"],
            "at": pd.Series([at + timedelta(minutes=20), at + timedelta(hours=3)]).dt.tz_convert(
                "Europe/Paris"
            ),
            "channel": ["Call", "email"],
        }
    )
    rule = ResponseRule(within="1h", calendar=CALENDAR)
    report = rule.evaluate_columns(handoffs, touches, now=at + timedelta(hours=5))
    assert repr(report.results) == "<3 response results>"
    first = report.results[0]
    assert first.handoff == Handoff(
        lead_id="L1", notified_at=at.astimezone(NY), stage="mql", source="web"
    )
    assert first.handoff.notified_at.tzinfo is NY
    assert first.first_touch_at == at + timedelta(minutes=20)
    assert str(first.first_touch_at.tzinfo) == "Europe/Paris"
    assert [r.status.value for r in report.results] == ["met", "breached", "breached"]
    assert report.results[-1].first_touch_at == at + timedelta(hours=3)
    assert report.results[1].first_touch_at is None
    assert report.summary.eligible == 3


def test_a_selector_of_your_own_sees_record_objects() -> None:
    from slacore.rules.eligibility import Eligibility

    seen: list[Handoff] = []

    class Odd(Eligibility):  # not one of slacore's selectors: it gets Handoff objects
        def matches(self, handoff: Handoff) -> bool:
            seen.append(handoff)
            return handoff.lead_id.endswith(("1", "3"))

        def describe(self) -> str:
            return "odd leads"

    at = datetime(2026, 3, 2, 14, tzinfo=UTC)
    items = [Handoff(lead_id=f"L{i}", notified_at=at, stage="mql") for i in range(4)]
    rule = ResponseRule(within="1h", clock="calendar", applies_to=Odd())
    got = rule.evaluate_columns(as_tables(Case(items, [], [], [], at, False))["handoffs"], now=at)
    assert seen == items  # each row once, as a record object
    assert got.summary == rule.evaluate(items, now=at).summary
    assert [r.status.value for r in got.results] == [
        "not_applicable", "pending", "not_applicable", "pending",
    ]  # fmt: skip


def test_import_slacore_leaves_numpy_to_the_column_path() -> None:
    code = """
import json, sys
from datetime import datetime, timezone
import slacore
from slacore import Handoff, ResponseRule
rule = ResponseRule(within="1h", clock="calendar")
at = datetime(2026, 3, 2, tzinfo=timezone.utc)
rule.evaluate([Handoff(lead_id="L1", notified_at=at, stage="mql")], now=at)
before = "numpy" in sys.modules
rule.evaluate_columns({"lead_id": ["L1"], "notified_at": [at], "stage": ["mql"]}, now=at)
print(json.dumps([before, "numpy" in sys.modules, "pyarrow" in sys.modules]))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert json.loads(done.stdout) == [False, True, False]


def test_general_path_beside_the_column_path() -> None:
    """Two leads go down the general path (a reassignment, a withdrawal); the others stay
    columns, with touches of every lead mixed in one table."""
    at = datetime(2026, 3, 2, 14, tzinfo=UTC)
    items = [
        Handoff(lead_id=f"L{i}", notified_at=at, stage="mql", owner_id="R1") for i in range(50)
    ]
    touched = [
        Touch(lead_id=f"L{i % 50}", rep_id="R1", at=at + timedelta(minutes=i), channel="call")
        for i in range(150)
    ]
    moved = [OwnerChange(lead_id="L7", owner_id="R3", at=at + timedelta(minutes=3))]
    changed = [StageChange(lead_id="L9", to_stage="disqualified", at=at + timedelta(minutes=1))]
    case = Case(items, touched, changed, moved, at + timedelta(hours=2), False)
    rule = ResponseRule(within="30m", clock="calendar", on_reassign="restart")
    expected, got, _ = evaluate_both(rule, case, "numpy", "")
    assert_same_report(expected, got)
    assert got.results[7].owner_id == "R3"
    assert got.results[7].started_at == at + timedelta(minutes=3)
    assert got.results[9].status.value == "withdrawn"
    assert got.summary.met == 30  # L0-L30 within 30 minutes, but L9 (withdrawn)


def test_long_columns_of_python_values_equal_objects() -> None:
    """From 4,096 rows a column of Python strings or datetimes is handed to Arrow: the same
    answers, with leads on both paths (several hand-offs, withdrawals, reassignments)."""
    import random

    rnd = random.Random(5)
    start = datetime(2026, 3, 2, 0, tzinfo=UTC)
    items = [
        Handoff(
            lead_id=f"L{rnd.randrange(4500)}",
            notified_at=(start + timedelta(minutes=rnd.randrange(20000))).astimezone(
                NY if i % 3 else UTC
            ),
            stage="mql",
            owner_id=rnd.choice(["R1", "R2", None]),
            source=rnd.choice(["web", "webinar", None]),
            hand_raiser=rnd.random() < 0.7,
        )
        for i in range(5000)
    ]
    touched = [
        Touch(
            lead_id=f"L{rnd.randrange(4600)}",
            rep_id=rnd.choice(["R1", "R2"]),
            at=start + timedelta(minutes=rnd.randrange(21000)),
            channel=rnd.choice(["call", "email", "other"]),
        )
        for _ in range(9000)
    ]
    # Some leads leave sales (withdrawn) or are accepted, when some of their touches are made.
    changed = [
        StageChange(lead_id=t.lead_id, to_stage=rnd.choice(["disqualified", "sal"]), at=t.at)
        for t in touched[:300]
    ]
    moved = [
        OwnerChange(lead_id=f"L{rnd.randrange(4500)}", owner_id="R3", at=start) for _ in range(100)
    ]
    case = Case(items, touched, changed, moved, start + timedelta(days=10), True)
    for rule in COLUMN_RULES:
        for kind in ("numpy", "lists"):
            expected, got, _ = evaluate_both(rule, case, kind, "")
            assert_same_report(expected, got)


def test_a_column_report_is_the_same_table() -> None:
    """``to_arrow()`` of a report on columns is the table of the report on objects."""
    at = datetime(2026, 3, 2, 14, tzinfo=UTC)
    items = [
        Handoff(lead_id=f"L{i % 7}", notified_at=at + timedelta(minutes=9 * i), stage="mql")
        for i in range(12)
    ]
    touched = [
        Touch(lead_id=f"L{i % 9}", rep_id="R1", at=at + timedelta(minutes=13 * i), channel="call")
        for i in range(20)
    ]
    case = Case(items, touched, [], [], at + timedelta(hours=3), False)
    for rule in COLUMN_RULES:
        expected, got, _ = evaluate_both(rule, case, "arrow", "America/New_York")
        assert got.to_arrow().equals(expected.to_arrow())
