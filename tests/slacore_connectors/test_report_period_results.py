"""Stored period results: the sync keeps the verdicts of ended, decided periods; a report
uses them for the escalation ladder only while they are valid, with the same answers.

The demo data holds hand-offs in April, May and June 2020. A kept verdict is made visible by
tampering with it in the file (every kept period set to "met"): a report whose ladder shows
a period met used the kept verdict; one that shows it missed (as the data has it) evaluated
the period.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from tests.cli import slacore
from tests.slacore_connectors.test_report import JOB
from tests.slacore_connectors.test_report_extremes import _add_extremes

from slacore import Deal, Handoff, Rep, Touch
from slacore.agreement import Agreement
from slacore.connector import Batch, Cursor
from slacore.planning.escalation_ladder import PeriodVerdict, escalation
from slacore_connectors.report.build import _build
from slacore_connectors.report.history import keep_period_results
from slacore_connectors.report.period_results import fingerprint
from slacore_connectors.store.sqlite import SQLiteStore
from slacore_connectors.sync import JobConfig, run_sync

NY = ZoneInfo("America/New_York")
SYNCED = datetime(2020, 9, 1, 12, 0, tzinfo=UTC)  # April to June ended, every clock run out
LATER = SYNCED + timedelta(days=1)
REPORTED = LATER + timedelta(days=1)


def synced_at(folder: Path, moment: datetime) -> Path:
    """The demo in ``folder``, synced at ``moment``."""
    with as_file(files("slacore_connectors") / "demo") as bundled:
        shutil.copytree(bundled, folder, dirs_exist_ok=True)
    (folder / "slacore.toml").write_text(JOB)
    assert run_sync(JobConfig.load(folder / "slacore.toml"), now=lambda: moment).ok
    return folder


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synced_at(tmp_path_factory.mktemp("periods"), SYNCED)


@pytest.fixture
def demo(synced: Path, tmp_path: Path) -> Path:
    """A copy of the synced demo, for a test to change."""
    folder = tmp_path / "demo"
    shutil.copytree(synced, folder)
    return folder


def agreement_of(folder: Path) -> Agreement:
    return Agreement.load(folder / "company_a.toml")


def kept_labels(folder: Path) -> list[str]:
    with SQLiteStore(folder / "slacore.db", read_only=True) as store:
        kept = store.period_results(fingerprint(agreement_of(folder)) or "")
    return [] if kept is None else [r.label for r in kept.results]


def tamper(folder: Path) -> None:
    """Every kept verdict set to "met" (the data misses every month)."""
    with sqlite3.connect(folder / "slacore.db") as db:
        db.execute("UPDATE period_results SET met = 1")


def forget_kept(folder: Path) -> None:
    with sqlite3.connect(folder / "slacore.db") as db:
        db.execute("DELETE FROM period_results")
        db.execute("DELETE FROM period_marks")


def report(folder: Path, **kwargs: Any) -> dict[str, Any]:
    """June's report, from the store opened read-only, as ``slacore report`` opens it,
    evaluated at :data:`REPORTED` (unless ``as_of`` is given)."""
    with SQLiteStore(folder / "slacore.db", read_only=True) as store:
        agreement = agreement_of(folder)
        return _build(store, agreement, period="2020-06", now=REPORTED, **kwargs).to_dict()


def ladder(folder: Path, **kwargs: Any) -> list[tuple[str, bool]]:
    return [(s["label"], s["met"]) for s in report(folder, **kwargs)["escalation"]["steps"]]


def lead_of(folder: Path, month: int) -> str:
    """A lead handed off in ``month`` of 2020 (New York time)."""
    with SQLiteStore(folder / "slacore.db", read_only=True) as store:
        handoffs = store.records("handoffs")
        return next(h.lead_id for h in handoffs if h.notified_at.astimezone(NY).month == month)


def assert_same_without_kept(folder: Path) -> None:
    """The report with the kept results the test left is the report with none kept."""
    kept = report(folder)
    forget_kept(folder)
    assert report(folder) == kept


def write(folder: Path, batch: Batch) -> None:
    """Store a batch as a sync would, without the sync's keeping step after it."""
    with SQLiteStore(folder / "slacore.db") as store:
        run_id = store.start_run("crm", connector="csv", at=LATER)
        store.write_batch("crm", batch, run_id=run_id, seen_at=LATER)


def batch(stream: str, records: list[object], deleted: tuple[str, ...] = ()) -> Batch:
    return Batch(
        stream=stream,
        records=records,
        cursor=Cursor(stream=stream, state={"line": 10**6}),
        deleted=deleted,
    )


# --- what the sync keeps -----------------------------------------------------------------------


def test_the_sync_keeps_every_ended_decided_period(synced: Path) -> None:
    assert kept_labels(synced) == ["2020-04", "2020-05", "2020-06"]


def test_the_answers_are_the_same_without_the_kept_results(demo: Path) -> None:
    assert [s["met"] for s in report(demo)["escalation"]["steps"]] == [False, False, False]
    assert_same_without_kept(demo)


def test_the_answers_are_the_same_after_changes_and_a_later_sync(demo: Path) -> None:
    may = lead_of(demo, 5)
    late = Touch(lead_id=may, rep_id="R01", at=LATER - timedelta(hours=1), channel="call")
    write(demo, batch("touches", [late]))
    write(demo, batch("leads", [], deleted=(lead_of(demo, 4),)))
    with SQLiteStore(demo / "slacore.db") as store:
        assert keep_period_results(store, agreement_of(demo), now=LATER) == 3
    assert_same_without_kept(demo)


def test_a_report_uses_the_kept_verdicts_of_earlier_periods_only(demo: Path) -> None:
    tamper(demo)
    # April and May come from the store; June, the period reported, is always evaluated.
    assert ladder(demo) == [("2020-04", True), ("2020-05", True), ("2020-06", False)]


def test_slacore_report_uses_them_and_sync_keeps_them(demo: Path) -> None:
    tamper(demo)
    done = slacore("report", "--json", "--period", "2020-06", cwd=demo)
    assert done.returncode == 0, done.stderr
    steps = json.loads(done.stdout)["escalation"]["steps"]
    assert [(s["label"], s["met"]) for s in steps] == [
        ("2020-04", True),
        ("2020-05", True),
        ("2020-06", False),
    ]
    forget_kept(demo)
    assert slacore("sync", cwd=demo).returncode == 0  # today: every month ended and decided
    assert kept_labels(demo) == ["2020-04", "2020-05", "2020-06"]


def test_an_as_of_report_uses_none(demo: Path) -> None:
    tamper(demo)
    steps = ladder(demo, as_of=LATER)
    assert steps == [("2020-04", False), ("2020-05", False), ("2020-06", False)]


def test_an_undecided_period_is_not_kept_until_its_clocks_run_out(tmp_path: Path) -> None:
    with as_file(files("slacore_connectors") / "demo") as bundled:
        agreement = Agreement.load(Path(bundled) / "company_a.toml")
    fp = fingerprint(agreement)
    # One hand-off at 16:45 on Tuesday 30 June: due at 09:45 on 1 July (one business hour).
    handoff = Handoff(
        lead_id="L1",
        notified_at=datetime(2020, 6, 30, 16, 45, tzinfo=NY),
        stage="mql",
        owner_id="R01",
        source="referral",
        hand_raiser=True,
    )
    rep = Rep(id="R01", name="Avery Brooks", email="avery@company-a.example", team="sales")
    running = datetime(2020, 7, 1, 9, 30, tzinfo=NY)  # June has ended; its clock runs on
    with SQLiteStore(tmp_path / "sla.db") as store:
        run_id = store.start_run("crm", at=running)
        for b in (batch("reps", [rep]), batch("handoffs", [handoff])):
            store.write_batch("crm", b, run_id=run_id, seen_at=running)
        assert keep_period_results(store, agreement, now=running) == 0
        kept = store.period_results(fp or "")
        assert kept is not None
        assert not kept.settled
        # Nothing changed in the store, but the clock ran out: kept now.
        assert keep_period_results(store, agreement, now=running + timedelta(hours=1)) == 1
        kept = store.period_results(fp or "")
    assert kept is not None
    assert kept.settled
    assert [(r.label, r.met, r.leads.ids()) for r in kept.results] == [
        ("2020-06", False, frozenset({"L1"}))
    ]


def test_a_lead_with_an_event_after_the_moment_is_not_kept(demo: Path) -> None:
    may = lead_of(demo, 5)
    write(demo, batch("touches", [Touch(lead_id=may, rep_id="R01", at=REPORTED, channel="call")]))
    with SQLiteStore(demo / "slacore.db") as store:
        assert keep_period_results(store, agreement_of(demo), now=LATER) == 2
    assert kept_labels(demo) == ["2020-04", "2020-06"]


def test_a_period_not_ended_is_not_kept(tmp_path: Path) -> None:
    folder = synced_at(tmp_path, datetime(2020, 6, 29, tzinfo=UTC))
    assert "2020-06" not in kept_labels(folder)


def test_a_sync_with_nothing_new_evaluates_nothing(demo: Path) -> None:
    store_path = demo / "slacore.db"
    fp = fingerprint(agreement_of(demo))
    assert fp is not None
    with SQLiteStore(store_path) as store:
        before = store.period_results(fp)
        assert keep_period_results(store, agreement_of(demo), now=LATER) == 3
        # Not even written again: the mark is the first sync's.
        assert store.period_results(fp) == before


def test_a_sync_that_changes_no_kept_period_evaluates_nothing(demo: Path) -> None:
    tamper(demo)
    # A touch of a lead no kept period holds: what a sync of the current month brings.
    touch = Touch(lead_id="L-NEW", rep_id="R01", at=LATER - timedelta(hours=1), channel="call")
    write(demo, batch("touches", [touch]))
    fp = fingerprint(agreement_of(demo))
    assert fp is not None
    with SQLiteStore(demo / "slacore.db") as store:
        before = store.period_results(fp)
        assert keep_period_results(store, agreement_of(demo), now=LATER) == 3
        after = store.period_results(fp)
    assert before is not None
    assert after is not None
    # Kept at the new watermark, as they were (tampered: none evaluated again).
    assert after.results == before.results
    assert after.mark.rows["touches"] == before.mark.rows["touches"] + 1
    assert after.mark.at == LATER
    assert {r.met for r in after.results} == {True}


def test_a_later_sync_keeps_what_changed_afresh(demo: Path) -> None:
    tamper(demo)
    may = lead_of(demo, 5)
    touch = Touch(lead_id=may, rep_id="R01", at=LATER - timedelta(hours=1), channel="call")
    write(demo, batch("touches", [touch]))
    fp = fingerprint(agreement_of(demo))
    assert fp is not None
    with SQLiteStore(demo / "slacore.db") as store:
        assert keep_period_results(store, agreement_of(demo), now=LATER) == 3
        kept = store.period_results(fp)
    assert kept is not None
    # May evaluated again (the data's verdict); April's tampered verdict still valid, kept;
    # June, the latest period, is the one the sync's report is of: evaluated every time.
    assert [(r.label, r.met) for r in kept.results] == [
        ("2020-04", True),
        ("2020-05", False),
        ("2020-06", False),
    ]


# --- what makes a kept result stale ----------------------------------------------------------


def test_a_late_touch_of_a_may_lead(demo: Path) -> None:
    tamper(demo)
    may = lead_of(demo, 5)
    at = datetime(2020, 5, 31, 15, tzinfo=NY)
    touch = Touch(lead_id=may, rep_id="R01", at=at, channel="call")
    write(demo, batch("touches", [touch]))
    assert ladder(demo) == [("2020-04", True), ("2020-05", False), ("2020-06", False)]


@pytest.mark.parametrize(
    ("closed_at", "may_kept"),
    [
        (datetime(2020, 5, 20, 10, tzinfo=NY), False),  # a May deal closed, synced later
        (None, True),  # a deal still open counts in no period
    ],
)
def test_a_deal_synced_later(demo: Path, closed_at: datetime | None, may_kept: bool) -> None:
    tamper(demo)
    deal = Deal(
        id="D-NEW",
        amount=Decimal("1000.00"),
        opened_at=datetime(2020, 4, 1, 10, tzinfo=NY),
        lead_id=lead_of(demo, 4),
        closed_at=closed_at,
        won=closed_at is not None,
    )
    write(demo, batch("deals", [deal]))
    assert ladder(demo) == [("2020-04", True), ("2020-05", may_kept), ("2020-06", False)]


def test_a_rep_changed(demo: Path) -> None:
    tamper(demo)
    with SQLiteStore(demo / "slacore.db", read_only=True) as store:
        rep = next(iter(store.records("reps")))
    write(demo, batch("reps", [attrs.evolve(rep, email="another@company-a.example")]))
    assert ladder(demo) == [("2020-04", False), ("2020-05", False), ("2020-06", False)]


def test_a_new_rep(demo: Path) -> None:
    tamper(demo)
    rep = Rep(id="R99", name="New Rep", email="new@company-a.example", team="sales")
    write(demo, batch("reps", [rep]))
    assert ladder(demo) == [("2020-04", False), ("2020-05", False), ("2020-06", False)]


def test_a_deleted_lead(demo: Path) -> None:
    tamper(demo)
    write(demo, batch("leads", [], deleted=(lead_of(demo, 4),)))
    assert ladder(demo) == [("2020-04", False), ("2020-05", True), ("2020-06", False)]


def test_a_record_with_a_placeholder_date(demo: Path) -> None:
    # As an older slacore let it be stored (9999-12-31): no period can place it, so none is
    # used; the report leaves it out.
    tamper(demo)
    _add_extremes(demo / "slacore.db")
    assert ladder(demo) == [("2020-04", False), ("2020-05", False), ("2020-06", False)]


def test_a_changed_agreement(demo: Path) -> None:
    tamper(demo)
    text = (demo / "company_a.toml").read_text()
    (demo / "company_a.toml").write_text(text.replace('within = "1h"', 'within = "2h"', 1))
    assert ladder(demo) == [("2020-04", False), ("2020-05", False), ("2020-06", False)]


def test_forgetting_a_source_drops_them(demo: Path) -> None:
    with SQLiteStore(demo / "slacore.db") as store:
        assert store.forget_source("nobody") == 0
    assert kept_labels(demo) == []


def test_a_store_of_the_previous_schema_opened_read_only(demo: Path) -> None:
    data = report(demo)
    with sqlite3.connect(demo / "slacore.db") as db:
        db.execute("DROP TABLE period_results")
        db.execute("DROP TABLE period_marks")
        db.execute("PRAGMA user_version = 5")
    assert report(demo) == data


# --- the store's side ---------------------------------------------------------------------------


def test_changes_are_found_without_reading_the_tables(demo: Path) -> None:
    with SQLiteStore(demo / "slacore.db", read_only=True) as store:
        mark = store.watermark(at=LATER)
        assert store.changes_since(mark).empty
        db = store._db  # the plan is the promise: a range of row ids, the index of closed rows
        for name in ("handoffs", "touches", "deals", "reps"):
            plan = " ".join(
                row[3]
                for row in db.execute(
                    f"EXPLAIN QUERY PLAN SELECT row_id FROM {name} WHERE row_id > ? UNION ALL "
                    f"SELECT row_id FROM {name} WHERE seen_to IS NOT NULL AND seen_to >= ?",
                    (0, 0),
                )
            )
            assert "USING INTEGER PRIMARY KEY (rowid>?)" in plan
            assert f"USING COVERING INDEX {name}_closed (seen_to>?)" in plan


def test_the_ladder_takes_verdicts(demo: Path) -> None:
    agreement = agreement_of(demo)
    spans = [agreement.period.span(f"2020-0{m}") for m in (4, 5, 6)]
    steps = escalation(agreement, [PeriodVerdict(span=s, met=False) for s in spans]).steps
    assert [(s.label, s.level) for s in steps] == [("2020-04", 1), ("2020-05", 2), ("2020-06", 3)]
    with pytest.raises(ValueError, match="consecutive"):
        escalation(agreement, [PeriodVerdict(span=s, met=False) for s in (spans[0], spans[2])])
