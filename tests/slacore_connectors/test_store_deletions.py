"""Deletions in the store: a batch's deleted ids close their records' current versions (and a
lead's events), in the batch's transaction; the past stays readable with ``as_of``. On real
SQLite files."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from slacore import Deal, Handoff, Lead, OwnerChange, Rep, StageChange, Touch
from slacore.connector import Batch, Cursor, RejectedRecord, Stream
from slacore_connectors.store import SQLiteStore, Store, StoreError, open_store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


def batch(stream: str, records: list[object], line: int, deleted: tuple[str, ...] = ()) -> Batch:
    return Batch(
        stream=stream,
        records=records,
        cursor=Cursor(stream=stream, state={"line": line}),
        deleted=deleted,
    )


def events(lead_id: str) -> dict[str, list[object]]:
    """A lead's stage change, hand-off, touch and owner change."""
    return {
        "stage_changes": [StageChange(lead_id=lead_id, to_stage="mql", at=T0)],
        "handoffs": [Handoff(lead_id=lead_id, notified_at=T0, stage="mql", owner_id="R1")],
        "touches": [Touch(lead_id=lead_id, rep_id="R1", at=T0 + H, channel="call")],
        "owner_changes": [OwnerChange(lead_id=lead_id, owner_id="R1", at=T0)],
    }


@pytest.fixture(params=["sla.db", "sla.duckdb"], ids=["sqlite", "duckdb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    # Every engine keeps the deletions' semantics: the same tests, each store.
    with open_store(tmp_path / request.param) as opened:
        yield opened


def lead_ids(store: Store, **kwargs: object) -> list[str]:
    return [lead.id for lead in store.records("leads", **kwargs)]  # type: ignore[arg-type]


def test_a_deleted_record_leaves_now_and_stays_in_the_past(store: Store) -> None:
    leads = [Lead(id=f"L{i}", created_at=T0 + i * H) for i in range(3)]
    store.write_batch("crm", batch("leads", leads, 3), run_id=1, seen_at=T0)
    result = store.write_batch(
        "crm", batch("leads", [], 4, deleted=("L1", "L404")), run_id=2, seen_at=T0 + 24 * H
    )
    # L404 was never stored: it counts nothing and is no error.
    assert (result.read, result.inserted, result.updated, result.deleted) == (0, 0, 0, 1)
    assert lead_ids(store) == ["L0", "L2"]
    assert store.count("leads") == 2
    assert lead_ids(store, as_of=T0 + 23 * H) == ["L0", "L1", "L2"]
    assert lead_ids(store, as_of=T0 + 24 * H) == ["L0", "L2"]
    assert store.cursor("crm", "leads") == Cursor(stream="leads", state={"line": 4})
    # Deleted again: nothing more to close.
    again = store.write_batch(
        "crm", batch("leads", [], 5, deleted=("L1",)), run_id=3, seen_at=T0 + 48 * H
    )
    assert again.deleted == 0
    assert lead_ids(store, as_of=T0 + 23 * H) == ["L0", "L1", "L2"]


def test_a_deleted_record_given_again_is_a_new_version(store: Store) -> None:
    store.write_batch(
        "crm", batch("leads", [Lead(id="L1", created_at=T0, stage="mql")], 1), run_id=1, seen_at=T0
    )
    store.write_batch("crm", batch("leads", [], 2, deleted=("L1",)), run_id=2, seen_at=T0 + H)
    back = Lead(id="L1", created_at=T0, stage="sql")
    result = store.write_batch("crm", batch("leads", [back], 3), run_id=3, seen_at=T0 + 2 * H)
    assert (result.inserted, result.updated, result.deleted) == (1, 0, 0)
    assert list(store.records("leads")) == [back]
    assert [lead.stage for lead in store.records("leads", as_of=T0)] == ["mql"]
    assert lead_ids(store, as_of=T0 + H) == []
    assert [lead.stage for lead in store.records("leads", as_of=T0 + 2 * H)] == ["sql"]


def test_a_deleted_lead_takes_its_events_with_it(store: Store) -> None:
    store.write_batch(
        "crm",
        batch("leads", [Lead(id=i, created_at=T0) for i in ("L1", "L2")], 2),
        run_id=1,
        seen_at=T0,
    )
    for stream in events("L1"):
        records = events("L1")[stream] + events("L2")[stream]
        store.write_batch("crm", batch(stream, records, 2), run_id=1, seen_at=T0)
    # Another source's L1 is another lead: it stays.
    store.write_batch(
        "other", batch("leads", [Lead(id="L1", created_at=T0)], 1), run_id=1, seen_at=T0
    )
    store.write_batch("other", batch("touches", events("L1")["touches"], 1), run_id=1, seen_at=T0)
    result = store.write_batch(
        "crm", batch("leads", [], 3, deleted=("L1",)), run_id=2, seen_at=T0 + 24 * H
    )
    assert result.deleted == 1  # the lead; its events leave with it
    for stream in events("L1"):
        now = [r.lead_id for r in store.records(stream, source_name="crm")]  # type: ignore[attr-defined]
        before = [
            r.lead_id  # type: ignore[attr-defined]
            for r in store.records(stream, source_name="crm", as_of=T0 + H)
        ]
        assert (now, sorted(before)) == (["L2"], ["L1", "L2"]), stream
    assert lead_ids(store, source_name="other") == ["L1"]
    assert [t.lead_id for t in store.records("touches", source_name="other")] == ["L1"]


def test_a_deleted_deal_or_rep_leaves_alone(store: Store) -> None:
    deal = Deal(id="D1", amount=Decimal("1200.50"), opened_at=T0, lead_id="L1")
    lead = Lead(id="L1", created_at=T0)
    store.write_batch("crm", batch("leads", [lead], 1), run_id=1, seen_at=T0)
    store.write_batch("crm", batch("deals", [deal], 1), run_id=1, seen_at=T0)
    store.write_batch("crm", batch("reps", [Rep(id="R1"), Rep(id="R2")], 2), run_id=1, seen_at=T0)
    store.write_batch("crm", batch("touches", events("L1")["touches"], 1), run_id=1, seen_at=T0)
    gone = store.write_batch("crm", batch("deals", [], 2, ("D1",)), run_id=2, seen_at=T0 + H)
    assert gone.deleted == 1
    left = store.write_batch("crm", batch("reps", [], 3, ("R1",)), run_id=2, seen_at=T0 + H)
    assert left.deleted == 1
    assert store.count("deals") == 0
    assert [rep.id for rep in store.records("reps")] == ["R2"]
    assert [rep.id for rep in store.records("reps", as_of=T0)] == ["R1", "R2"]
    # A deal's or a rep's deletion closes nothing else: the deal's lead and its touches stay.
    assert lead_ids(store) == ["L1"]
    assert store.count("touches") == 1


def test_a_deleted_record_is_no_longer_rejected(store: Store) -> None:
    # A contact the source once refused (an unknown stage), then deleted in the source: the
    # store must not keep asking for a record that no longer exists to be fixed.
    refused = [
        RejectedRecord(stream="leads", reason="unknown stage", record_id=i, source="crm")
        for i in ("L1", "L2")
    ]
    first = Batch(
        stream="leads",
        records=[Lead(id="L3", created_at=T0)],
        rejected=refused,
        cursor=Cursor(stream="leads", state={"line": 3}),
    )
    store.write_batch("crm", first, run_id=1, seen_at=T0)
    # A rejected touch named by the same id, and another source's L1, stay.
    touch = RejectedRecord(stream="touches", reason="no rep", record_id="L1", source="crm")
    store.write_batch(
        "crm",
        Batch(
            stream="touches",
            records=[],
            rejected=[touch],
            cursor=Cursor(stream="touches", state={}),
        ),
        run_id=1,
        seen_at=T0,
    )
    store.write_batch(
        "other",
        Batch(
            stream="leads",
            records=[],
            rejected=refused[:1],
            cursor=Cursor(stream="leads", state={}),
        ),
        run_id=1,
        seen_at=T0,
    )
    store.write_batch("crm", batch("leads", [], 4, deleted=("L1",)), run_id=2, seen_at=T0 + H)
    assert [(r.stream, r.record_id) for r in store.rejected(source_name="crm")] == [
        ("leads", "L2"),
        ("touches", "L1"),
    ]
    assert [r.record_id for r in store.rejected(source_name="other")] == ["L1"]
    assert [r.record_id for r in store.rejected(source_name="crm", as_of=T0)] == [
        "L1",
        "L2",
        "L1",
    ]


def test_a_deletion_is_written_with_its_batch_or_not_at_all(tmp_path: Path) -> None:
    path = tmp_path / "sla.db"
    with SQLiteStore(path, timeout=0.05) as store:
        store.write_batch(
            "crm", batch("leads", [Lead(id="L1", created_at=T0)], 1), run_id=1, seen_at=T0
        )
        store.write_batch("crm", batch("touches", events("L1")["touches"], 1), run_id=1, seen_at=T0)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another writer holds the database
        with pytest.raises(StoreError, match="cannot store the batch"):
            store.write_batch(
                "crm", batch("leads", [], 2, deleted=("L1",)), run_id=2, seen_at=T0 + H
            )
        other.execute("ROLLBACK")
        other.close()
        assert lead_ids(store) == ["L1"]
        assert store.count("touches") == 1
        assert store.cursor("crm", Stream.LEADS) == Cursor(stream="leads", state={"line": 1})


def test_a_deleted_leads_events_are_found_by_index_not_by_a_table_scan(tmp_path: Path) -> None:
    # The statement _delete runs for each event table, planned by SQLite on a real store.
    path = tmp_path / "sla.db"
    SQLiteStore(path).close()
    db = sqlite3.connect(path)
    db.execute("CREATE TEMP TABLE deleted (key TEXT PRIMARY KEY, id TEXT NOT NULL)")
    for table in ("stage_changes", "handoffs", "touches", "owner_changes"):
        plan = " ".join(
            str(row[-1])
            for row in db.execute(
                f"EXPLAIN QUERY PLAN UPDATE {table} SET seen_to = 1 WHERE source_name = 'crm' "
                "AND seen_to IS NULL AND lead_id IN (SELECT id FROM temp.deleted)"
            )
        )
        assert f"USING INDEX {table}_lead" in plan, plan
    db.close()
