"""The query plans of a batch's writing: each looks rows up by an index, none reads a table.

A statement that scans a record table (or the rejected records) costs what the store holds,
not what the batch holds: a first sync then costs the square of its size, as it did when the
upsert was written ``UPDATE ... FROM temp.staged``, and a batch's closing of rejections walked
every rejected row of the source before schema version 7. Every statement a batch runs is traced
and replayed under ``EXPLAIN QUERY PLAN``; only the batch's own staged rows may be scanned.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from slacore import Lead, Touch
from slacore.connector import Batch, Cursor, RejectedRecord, Stream
from slacore_connectors.store import SQLiteStore
from slacore_connectors.store._tables import TABLES

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
_SCANNED = re.compile(r"\bSCAN (?:main\.)?(\w+)")
_WALKED = re.compile(r"\bSEARCH (?:main\.)?(\w+) USING (?:COVERING )?INDEX \w+ \(source_name=\?\)$")
"""A search that narrows by the source alone walks every row the source holds."""
_STORED = {*(table.name for table in TABLES.values()), "rejected", "cursors", "sources"}


def _leads(first: int, count: int, stage: str | None = None) -> list[Lead]:
    return [Lead(id=f"L{n:05d}", created_at=T0, stage=stage) for n in range(first, first + count)]


def _touches(first: int, count: int) -> list[Touch]:
    return [
        Touch(lead_id=f"L{n:05d}", rep_id="R1", at=T0 + n * H, channel="call")
        for n in range(first, first + count)
    ]


def _rejected(stream: str, ids: Sequence[str]) -> tuple[RejectedRecord, ...]:
    return tuple(
        RejectedRecord(stream=stream, reason="bad", source="x.csv", line=n, record_id=i)
        for n, i in enumerate(ids, 2)
    )


def _batch(stream: str, records: Sequence[object], **kwargs: object) -> Batch:
    cursor = Cursor(stream=stream, state={"line": len(records)})
    return Batch(stream=stream, records=records, cursor=cursor, **kwargs)  # type: ignore[arg-type]


def _plans(store: SQLiteStore, batch: Batch, seen_at: datetime) -> dict[str, list[str]]:
    """Write ``batch``, then replay every statement it ran, under EXPLAIN QUERY PLAN, on a
    copy of the store taken before: statement -> the plan's lines."""
    before = sqlite3.connect(":memory:", isolation_level=None)
    store._db.backup(before)
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    try:
        store.write_batch("crm", batch, run_id=1, seen_at=seen_at)
    finally:
        store._db.set_trace_callback(None)
    plans: dict[str, list[str]] = {}
    for statement in statements:
        if statement.split()[0] in ("UPDATE", "INSERT", "DELETE", "SELECT"):
            rows = before.execute(f"EXPLAIN QUERY PLAN {statement}").fetchall()
            plans[statement] = [row[3] for row in rows]
        before.execute(statement)
    before.close()
    assert plans, "no statement traced"
    return plans


def _scans(plans: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [
        (line, statement)
        for statement, lines in plans.items()
        for line in lines
        if (found := _SCANNED.search(line) or _WALKED.search(line)) is not None
        and found.group(1) in _STORED
    ]


@pytest.fixture(scope="module")
def held(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of 3,000 leads and touches, and rejected rows of both streams."""
    path = tmp_path_factory.mktemp("plans") / "sla.db"
    with SQLiteStore(path) as store:
        for first in range(0, 3_000, 1_000):
            for stream, records in (("leads", _leads), ("touches", _touches)):
                bad = _rejected(stream, [f"X{n:05d}" for n in range(first, first + 100)])
                stored = _batch(stream, records(first, 1_000), rejected=bad)
                store.write_batch("crm", stored, run_id=1, seen_at=T0)
    return path


@pytest.mark.parametrize(
    "batch",
    [
        _batch("leads", _leads(3_000, 100)),  # new
        _batch("leads", _leads(0, 100)),  # unchanged
        _batch("leads", _leads(0, 100, stage="mql")),  # changed
        _batch("leads", _leads(10, 50), rejected=_rejected("leads", ["X00001", "L00020"])),
        _batch("leads", _leads(0, 10), from_start=True),
        _batch("leads", (), deleted=("L00001", "L00002", "X00003")),
        _batch("touches", _touches(0, 100) + _touches(5_000, 100)),
        _batch("touches", _touches(0, 10), rejected=_rejected("touches", ["L1"]), from_start=True),
    ],
    ids=[
        "new",
        "unchanged",
        "changed",
        "rejected",
        "from-start",
        "deleted",
        "touches",
        "touches-from-start",
    ],
)
def test_no_statement_of_a_batch_scans_a_stored_table(held: Path, batch: Batch) -> None:
    with SQLiteStore(held) as store:
        plans = _plans(store, batch, T0 + H)
    assert _scans(plans) == []


def test_the_check_sees_a_scan() -> None:
    # The replay and the pattern find a statement that reads a whole table.
    with SQLiteStore(":memory:") as store:
        store.write_batch("crm", _batch("leads", _leads(0, 10)), run_id=1, seen_at=T0)
        plan = [
            row[3]
            for row in store._db.execute(
                "EXPLAIN QUERY PLAN UPDATE leads SET last_seen = 1 WHERE stage = 'x'"
            )
        ]
    assert _scans({"UPDATE": plan}) == [("SCAN leads", "UPDATE")]
    walk = "SEARCH rejected USING INDEX rejected_identity (source_name=?)"
    assert _scans({"UPDATE": [walk]}) == [(walk, "UPDATE")]
    assert Stream.LEADS.value in _STORED
