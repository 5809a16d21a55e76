"""Rejected records: a read from the start replaces its stream's, a resumed read adds to them.

The shifted-lines case is run for real: a CSV export, ``slacore sync`` in a subprocess, rows
inserted at the top, and ``slacore sync`` again.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from slacore import Lead
from slacore.connector import Batch, Cursor, RejectedRecord
from slacore_connectors.store import open_store
from slacore_connectors.store.migrations import MIGRATIONS

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
HEADER = "id,created_at,source\n"


def good(n: int) -> str:
    return f"L{n},2026-03-02T09:{n % 60:02d}:00+00:00,web\n"


def bad(n: int) -> str:
    return f"B{n},2026-01-05,web\n"  # no time zone: rejected


def sync(folder: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "slacore_connectors", "sync"],
        capture_output=True, text=True, timeout=120, check=False, cwd=folder,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


def export(folder: Path, body: str) -> Path:
    data = folder / "data"
    data.mkdir(exist_ok=True)
    path = data / "leads.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    job = folder / "slacore.toml"
    if not job.exists():
        job.write_text(
            'store = "slacore.db"\n[[sources]]\nname = "crm"\nconnector = "csv"\n'
            'settings = { path = "data" }\n',
            encoding="utf-8",
        )
    return path


def rejected_lines(folder: Path, **kwargs: datetime) -> list[tuple[str | None, int | None]]:
    with open_store(folder / "slacore.db", read_only=True) as store:
        return sorted((r.record_id, r.line) for r in store.rejected(**kwargs))


def test_rows_shifted_down_are_rejected_once(tmp_path: Path) -> None:
    body = good(1) + bad(1) + good(2) + bad(2) + bad(3)
    path = export(tmp_path, body)
    sync(tmp_path)
    assert rejected_lines(tmp_path) == [("B1", 3), ("B2", 5), ("B3", 6)]
    # A new export: two rows at the top push every row down two lines.
    export(tmp_path, good(8) + good(9) + body)
    sync(tmp_path)
    assert rejected_lines(tmp_path) == [("B1", 5), ("B2", 7), ("B3", 8)]
    # Rows appended: the read goes on from the cursor, and adds what it rejects.
    with path.open("a", encoding="utf-8") as file:
        file.write(bad(4) + good(3))
    sync(tmp_path)
    assert rejected_lines(tmp_path) == [("B1", 5), ("B2", 7), ("B3", 8), ("B4", 9)]


def test_a_row_fixed_leaves_the_list_but_not_the_past(tmp_path: Path) -> None:
    export(tmp_path, good(1) + bad(1) + bad(2))
    sync(tmp_path)
    with open_store(tmp_path / "slacore.db", read_only=True) as store:
        (run,) = store.runs()
    # The export is written again with B1 fixed.
    export(tmp_path, good(1) + "B1,2026-01-05T00:00:00+00:00,web\n" + bad(2))
    sync(tmp_path)
    assert rejected_lines(tmp_path) == [("B2", 4)]
    then = run.finished_at
    assert then is not None
    assert rejected_lines(tmp_path, as_of=then) == [("B1", 3), ("B2", 4)]


def _rejection(line: int, record_id: str) -> RejectedRecord:
    return RejectedRecord(
        stream="leads",
        reason="expected a timezone-aware datetime",
        source="leads.csv",
        line=line,
        record_id=record_id,
        field="created_at",
        raw={"id": record_id, "created_at": "2026-01-05"},
    )


def _batch(line: int, rejected: tuple[RejectedRecord, ...], *, from_start: bool) -> Batch:
    lead = Lead(id="L1", created_at=T0, source="web")
    cursor = Cursor(stream="leads", state={"line": line})
    return Batch(
        stream="leads", records=[lead], cursor=cursor, rejected=rejected, from_start=from_start
    )


@pytest.mark.parametrize("name", ["sla.db", "sla.duckdb"], ids=["sqlite", "duckdb"])
def test_a_rejection_read_again_from_the_start_keeps_when_it_was_first_seen(
    tmp_path: Path, name: str
) -> None:
    b1, b2 = _rejection(2, "B1"), _rejection(3, "B2")
    with open_store(tmp_path / name) as store:
        store.write_batch("crm", _batch(3, (b1, b2), from_start=True), run_id=1, seen_at=T0)
        store.write_batch("crm", _batch(3, (b2,), from_start=True), run_id=2, seen_at=T0 + H)
        assert store.rejected() == [b2]
        assert store.rejected(as_of=T0) == [b1, b2]
        assert store.rejected(as_of=T0 + H) == [b2]  # first seen at T0, still rejected
        store.write_batch("crm", _batch(4, (b1,), from_start=False), run_id=3, seen_at=T0 + 2 * H)
        assert store.rejected() == [b1, b2]  # a resumed read adds


def test_a_store_of_the_first_schema_is_read_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    db = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    db.execute(
        "INSERT INTO rejected (source_name, stream, origin, line, record_id, field, reason, "
        "raw, first_run, last_run, first_seen, last_seen, identity) VALUES ('crm', 'leads', "
        "'leads.csv', 2, 'B1', 'created_at', 'expected a time', '{}', 1, 1, 0, 0, 'x')"
    )
    db.commit()
    db.close()
    with open_store(path, read_only=True) as store:
        assert store.schema_version == 1
        assert [r.record_id for r in store.rejected()] == ["B1"]
        assert [r.record_id for r in store.rejected(as_of=T0)] == ["B1"]
        assert len(store.dump()["rejected"]) == 1
