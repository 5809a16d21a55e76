"""Every engine keeps one current row per natural key, a batch and its cursor in one
transaction, whatever happens: a process SIGKILLed inside ``write_batch`` (real subprocesses),
and, for DuckDB, which has no partial unique index, a table that somehow holds two."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.slacore_connectors.cli_export import sync, write_leads_export

from slacore import Lead
from slacore.connector import Batch, Cursor
from slacore_connectors.csvfile import CsvConnector
from slacore_connectors.store import (
    ColumnWriter,
    DuckDBStore,
    Store,
    StoreError,
    open_store,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ENGINES = {"sqlite": "sla.db", "duckdb": "sla.duckdb"}

# The child stores a first batch, then dies by SIGKILL inside the second one's transaction:
# after its records were written and before its rejected records, deletions' effects and
# cursor could be committed (the rejected record's to_dict is called there).
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import UTC, datetime
    from slacore import Lead
    from slacore.connector import Batch, Cursor, RejectedRecord
    from slacore_connectors.store import open_store

    class Killer(RejectedRecord):
        def to_dict(self):
            os.kill(os.getpid(), signal.SIGKILL)

    T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def leads(first, last, segment):
        return [Lead(id=f"L{i:04d}", created_at=T0, source="web", segment=segment)
                for i in range(first, last)]

    with open_store(sys.argv[1], locked=True) as store:
        store.write_batch("crm", Batch(stream="leads", records=leads(0, 1000, "v1"),
                          cursor=Cursor(stream="leads", state={"batch": 1})),
                          run_id=1, seen_at=T0)
        store.write_batch("crm", Batch(stream="leads", records=leads(500, 1500, "v2"),
                          deleted=[f"L{i:04d}" for i in range(100)],
                          cursor=Cursor(stream="leads", state={"batch": 2}),
                          rejected=(Killer(stream="leads", reason="x", record_id="L9999"),)),
                          run_id=1, seen_at=datetime(2026, 3, 3, tzinfo=UTC))
    """
)


def leads(first: int, last: int, segment: str) -> list[Lead]:
    return [
        Lead(id=f"L{i:04d}", created_at=T0, source="web", segment=segment)
        for i in range(first, last)
    ]


def current(store: Store) -> dict[str, str | None]:
    found = [(lead.id, lead.segment) for lead in store.records("leads")]
    repeated = [key for key, n in Counter(key for key, _ in found).items() if n > 1]
    assert repeated == [], f"more than one current row: {repeated[:5]}"
    return dict(found)


@pytest.mark.parametrize("name", sorted(ENGINES.values()), ids=sorted(ENGINES))
def test_a_store_killed_inside_a_batch_holds_none_of_it(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr
    with open_store(path, locked=True) as store:
        assert store.cursor("crm", "leads") == Cursor(stream="leads", state={"batch": 1})
        assert current(store) == {f"L{i:04d}": "v1" for i in range(1000)}
        assert store.rejected() == []
        # The batch written again, whole, as a resumed sync does.
        result = store.write_batch(
            "crm",
            Batch(
                stream="leads",
                records=leads(500, 1500, "v2"),
                deleted=[f"L{i:04d}" for i in range(100)],
                cursor=Cursor(stream="leads", state={"batch": 2}),
            ),
            run_id=2,
            seen_at=T0 + timedelta(days=1),
        )
        assert (result.inserted, result.updated, result.deleted) == (500, 500, 100)
        expected = {f"L{i:04d}": "v1" for i in range(100, 500)}
        expected |= {f"L{i:04d}": "v2" for i in range(500, 1500)}
        assert current(store) == expected
        assert len(list(store.records("leads", as_of=T0))) == 1000


def test_a_duckdb_batch_that_would_leave_two_current_rows_is_refused(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "sla.duckdb"
    first = Batch(stream="leads", records=leads(0, 3, "v1"), cursor=Cursor(stream="leads"))
    with DuckDBStore(path) as store:
        store.write_batch("crm", first, run_id=1, seen_at=T0)
    # Two current rows of one key, as no upsert of the store writes them.
    with duckdb.connect(str(path)) as db:
        db.execute("INSERT INTO leads SELECT * REPLACE (row_id + 100 AS row_id) FROM leads")
    with DuckDBStore(path) as store:
        before = store.dump()
        again = Batch(
            stream="leads",
            records=leads(0, 3, "v2"),
            cursor=Cursor(stream="leads", state={"line": 9}),
        )
        with pytest.raises(
            StoreError, match=r"refused a batch of leads: .*one current row per key"
        ):
            store.write_batch("crm", again, run_id=2, seen_at=T0 + timedelta(days=1))
        assert store.dump() == before
        assert store.cursor("crm", "leads") == Cursor(stream="leads")


# A process that opens the store (to write, read-only, or to write holding the sync lock as a
# sync does), says so, and holds it until its
# standard input closes.
HOLDER = textwrap.dedent(
    """
    import sys
    from slacore_connectors.store import open_store

    how = sys.argv[2]
    with open_store(sys.argv[1], read_only=how == "read", locked=how == "sync"):
        print("holding", flush=True)
        sys.stdin.read()
    """
)


@contextlib.contextmanager
def holding(path: Path, how: str) -> Iterator[subprocess.Popen[str]]:
    """A process holding the store at ``path`` (``how``: HOLDER's ``write``, ``read`` or
    ``sync``) until its standard input is closed; killed at the end if still running."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), how],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "holding\n"
        yield holder
    finally:
        holder.kill()
        holder.wait(timeout=30)
        for pipe in (holder.stdin, holder.stdout):
            if pipe is not None:
                pipe.close()


@pytest.mark.parametrize(("held", "wanted"), [("write", "read"), ("read", "write")])
def test_a_duckdb_store_another_process_holds_is_waited_for_then_refused(
    tmp_path: Path, held: str, wanted: str
) -> None:
    path = tmp_path / "sla.duckdb"
    DuckDBStore(path).close()
    with holding(path, held) as holder:
        with pytest.raises(StoreError) as info:
            open_store(path, read_only=wanted == "read", timeout=0.2)
        assert str(info.value).startswith(f"{path}: another process holds the store")
        assert "gave up after waiting 0.2 s" in str(info.value)
        # Released while an open waits for it: the open goes on.
        assert holder.stdin is not None
        holder.stdin.close()
        with open_store(path, read_only=wanted == "read", timeout=60) as store:
            assert store.count("leads") == 0


@pytest.mark.parametrize("wanted", ["read", "write"])
def test_a_duckdb_store_a_sync_holds_is_refused_at_once_saying_so(
    tmp_path: Path, wanted: str
) -> None:
    path = tmp_path / "sla.duckdb"
    DuckDBStore(path).close()
    with holding(path, "sync") as holder:
        # A sync may hold the file for minutes: no waiting out the timeout for it.
        with pytest.raises(StoreError) as info:
            open_store(path, read_only=wanted == "read", timeout=5)
        assert str(info.value) == (
            f"{path}: a sync is writing the store, and DuckDB lets no other process open the "
            "file until it ends: run this once the sync has finished (an SQLite store can be "
            "read beside a sync)"
        )
        assert holder.stdin is not None
        holder.stdin.close()
        assert holder.wait(timeout=60) == 0
        with open_store(path, read_only=wanted == "read", timeout=60) as store:
            assert store.count("leads") == 0


def test_duckdb_readers_share_a_store(tmp_path: Path) -> None:
    path = tmp_path / "sla.duckdb"
    DuckDBStore(path).close()
    with holding(path, "read"), open_store(path, read_only=True, timeout=0) as store:
        assert store.count("leads") == 0


def _export(folder: Path, rows: int) -> None:
    lines = (f"L{i:06d},2020-05-01T10:{i % 60:02d}:00-04:00,web,s{i % 7}" for i in range(rows))
    header = "id,created_at,source,segment"
    write_leads_export(folder, header, lines, store="sla.duckdb", batch_size=1000)


def test_a_sync_into_duckdb_killed_and_resumed_stores_every_record_once(
    tmp_path: Path,
) -> None:
    # The csv connector and the DuckDB store both take columns: the sync runs on the
    # column path (read_columns into write_columns), in column batches of batch_size lines.
    assert CsvConnector.offers_columns()
    assert issubclass(DuckDBStore, ColumnWriter)
    _export(tmp_path, 10_000)
    with subprocess.Popen(
        [sys.executable, "-m", "slacore_connectors", "sync"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    ) as process:  # fmt: skip
        # DuckDB lets no other process read the store while the sync writes it: its log
        # growing past the store's creation says batches are being committed.
        log = tmp_path / "sla.duckdb.wal"
        deadline = time.monotonic() + 120
        while not (log.exists() and log.stat().st_size > 20_000):
            assert process.poll() is None, "the sync ended before it could be killed"
            assert time.monotonic() < deadline, "the sync stored nothing"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    with open_store(tmp_path / "sla.duckdb", read_only=True) as store:
        stored = store.count("leads")
        (run,) = store.runs()
        cursor = store.cursor("crm", "leads")
    assert 0 < stored < 10_000, "killed in the middle of the sync"
    assert cursor is not None
    assert cursor.state["line"] == stored + 1  # the cursor is the stored batches'
    assert run.status == "running"
    resumed = sync(tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    with open_store(tmp_path / "sla.duckdb", read_only=True) as store:
        assert current(store) == {f"L{i:06d}": f"s{i % 7}" for i in range(10_000)}
        assert [r.status for r in store.runs()] == ["partial", "success"]
        counts = store.runs()[1].counts["leads"]
        assert (counts["read"], counts["stored"]) == (10_000 - stored, 10_000 - stored)
