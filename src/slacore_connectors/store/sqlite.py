"""SQLiteStore: the store in one SQLite file (standard library), the embedded default.

How it keeps the promises of the :class:`Store` interface:

- A record's natural key and a digest of its columns decide whether it is new, changed or
  unchanged, so storing it twice leaves one row.
- :meth:`SQLiteStore.write_batch` writes a batch's records, its rejected records and the
  stream's new cursor in one ``BEGIN IMMEDIATE`` transaction.
- Rows are versioned by when the store learnt them: a changed record closes the old version
  (``seen_to``) and opens a new one (``seen_from``), so ``as_of=`` reads what the store knew
  then.
- A record the source deleted (:attr:`~slacore.connector.Batch.deleted`) has its current
  version closed, and nothing opened: it leaves the current records and stays in the past.
  A deleted lead's events (stage changes, hand-offs, touches, owner changes) of the same
  source are closed with it, in the same transaction.

The schema version is the file's ``PRAGMA user_version``; on open, the numbered migrations of
:mod:`slacore_connectors.store.migrations` bring an older file up to date.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from slacore.connector import Batch, ColumnBatch, Cursor, RejectedRecord, Stream
from slacore.model import id_is_key
from slacore_connectors.store._period_results import _PeriodResults
from slacore_connectors.store._runs import _CONNECTORS_FROM, _Runs
from slacore_connectors.store._sqlite_reads import _Reads
from slacore_connectors.store._staging import rejected_rows, stager
from slacore_connectors.store._tables import (
    _EVENTS_OF_A_LEAD,
    TABLES,
    _key,
    _Table,
    _us,
)
from slacore_connectors.store.base import (
    BatchResult,
    SourceConnectorError,
)

__all__ = ["SQLiteStore"]


class SQLiteStore(_Reads, _Runs, _PeriodResults):
    """The store in one SQLite file.

    >>> import tempfile, pathlib
    >>> with SQLiteStore(pathlib.Path(tempfile.mkdtemp()) / "sla.db") as store:
    ...     store.schema_version
    7

    A store opened ``read_only`` never writes: the file is opened read-only (no write-ahead
    log switch, no migration, no lock file), so a report can read a store in a folder it may
    not write to, and a file that is not a slacore store is left exactly as it was. A store
    opened to write creates a missing file, and refuses an existing database that is not
    slacore's before writing anything to it.

    Args:
        path: The database file; created with its folder if missing (unless ``read_only``).
            ``":memory:"`` for a throw-away store.
        timeout: Seconds to wait for another writer to finish before giving up.
        locked: Hold the sync lock (:meth:`lock`) from before the file is opened until
            :meth:`close`.
        read_only: Open an existing store to read it only.

    Raises:
        StoreError: The file is missing (``read_only``), is not a slacore store, is damaged,
            cannot be written (not ``read_only``), or was written by a newer slacore.
        SyncLockedError: ``locked`` and another sync holds the lock; the file was not touched.
        ValueError: Both ``locked`` and ``read_only``: a reader takes no lock.

    """

    def __init__(
        self,
        path: str | Path,
        *,
        timeout: float = 30.0,
        locked: bool = False,
        read_only: bool = False,
    ) -> None:
        if locked and read_only:
            raise ValueError("a store opened read-only takes no sync lock")
        self.path = str(path)
        self.read_only = read_only and self.path != ":memory:"
        self._held = contextlib.ExitStack()
        self._locks = 0  # sync locks held by this store object
        self._held_columns: dict[str, set[str]] = {}  # per table, the columns the file has
        # columns() reads through ADBC's SQLite driver when it is installed (tests turn it
        # off to hold the sqlite3 way to the same answers).
        self._arrow_reads = True
        if self.read_only:
            self._db = self._open_to_read(timeout)
            return
        if locked:
            if self.path != ":memory:" and Path(self.path).exists():
                # Another application's database is refused before the lock file is made.
                self._check_file(timeout, new_ok=True)
            # Before the file is opened, let alone created: a refused sync leaves no trace.
            self._held.enter_context(self.lock())
        try:
            self._connect(timeout)
        except BaseException:
            self._held.close()
            raise

    # --- cursors and runs -----------------------------------------------------------------------

    def cursor(self, source_name: str, stream: Stream | str) -> Cursor | None:
        """The stored cursor of a source's stream, or ``None`` before its first batch."""
        with self._sql("read the store"):
            row = self._db.execute(
                "SELECT cursor FROM cursors WHERE source_name = ? AND stream = ?",
                (source_name, Stream.parse(stream).value),
            ).fetchone()
        return None if row is None else Cursor.from_json(row["cursor"])

    def source_connector(self, source_name: str) -> str | None:
        """The connector that owns a source (:meth:`claim_source`), or ``None`` if none has
        claimed it yet (a new source, or one last synced before schema version 3)."""
        if self.schema_version < _CONNECTORS_FROM:
            return None  # an older store opened read-only
        with self._sql("read the store"):
            row = self._db.execute(
                "SELECT connector FROM sources WHERE source_name = ?", (source_name,)
            ).fetchone()
        return None if row is None else str(row["connector"])

    def claim_source(self, source_name: str, connector: str, *, at: datetime | None = None) -> None:
        """Record ``connector`` as the owner of a source, or check that it is.

        A sync claims each source before it reads it: a source the store holds nothing of
        (no cursor) is claimed by any connector; one that holds another connector's records
        and cursors is refused, so two connectors' records never mix under one name.

        Raises:
            SourceConnectorError: Another connector owns the source and the store holds
                what it read; the message says how to start the source afresh. Nothing was
                written.
            StoreError: The store cannot be written.

        """
        with self._sql("record the source"):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT connector FROM sources WHERE source_name = ?", (source_name,)
                ).fetchone()
                owner = None if row is None else str(row["connector"])
                if owner == connector:
                    self._db.execute("ROLLBACK")
                    return
                held = self._db.execute(
                    "SELECT 1 FROM cursors WHERE source_name = ? LIMIT 1", (source_name,)
                ).fetchone()
                if owner is not None and held is not None:
                    raise SourceConnectorError(
                        message=(
                            f"source {source_name!r} holds what connector {owner!r} read, so "
                            f"connector {connector!r} cannot go on from it (their records "
                            "would mix); to start the source afresh, give it a new name in "
                            f"the job file, or forget what the store holds of it: slacore "
                            f"forget {source_name}"
                        ),
                        path=self.path,
                        source_name=source_name,
                        owner=owner,
                        connector=connector,
                    )
                self._db.execute(
                    "INSERT INTO sources (source_name, connector, claimed_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (source_name) DO UPDATE SET connector = excluded.connector, "
                    "claimed_at = excluded.claimed_at",
                    (source_name, connector, _us(at or datetime.now(UTC))),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def forget_source(self, source_name: str) -> int:
        """Delete what the store holds of a source: every version of its records, its
        rejected records, its cursors and its connector, in one transaction. Its runs stay,
        as the history of what ran. The next sync of the source starts afresh, with any
        connector. Every agreement's kept period results go too (not counted).

        Returns:
            The rows deleted (0: the store held nothing of the source).

        Raises:
            StoreError: The store cannot be written; nothing was deleted.

        """
        deleted = 0
        tables = [table.name for table in TABLES.values()]
        tables += ["rejected", "cursors", "sources"]
        with self._sql("forget the source"):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for name in tables:
                    deleted += self._db.execute(
                        f"DELETE FROM {name} WHERE source_name = ?", (source_name,)
                    ).rowcount
                self._forget_period_results()
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return deleted

    # --- writing --------------------------------------------------------------------------------

    def write_batch(
        self, source_name: str, batch: Batch, *, run_id: int, seen_at: datetime
    ) -> BatchResult:
        """Store a batch's records, its rejected records and its cursor in one transaction.

        A record already stored unchanged only has its ``last_seen`` moved; a changed record
        closes its current version and stores a new one; a record seen twice in the batch
        counts once, the later one winning.

        A deleted id (:attr:`~slacore.connector.Batch.deleted`) closes the current version of
        its record at ``seen_at`` and opens none: it leaves :meth:`records` and stays in
        ``as_of`` reads before. A deleted lead's current stage changes, hand-offs, touches and
        owner changes of this source are closed with it, so they leave the reports too (they
        come back only when the source gives them again, as a full sync does). The
        stream's rejected records of a deleted id leave :meth:`rejected` too, and so do those
        of an id this batch stores, for leads, deals and reps (a record refused, then given
        again corrected, is no longer asked to be fixed). An id the
        store does not hold as current counts nothing; a record given again later is stored
        as a new version.

        Raises:
            StoreError: The database refused the write (disk full, locked for too long).

        """
        staged = list(stager(TABLES[batch.stream])(batch.records).values())
        return self._write(source_name, batch, staged, len(batch.records), run_id, seen_at)

    def write_columns(
        self, source_name: str, batch: ColumnBatch, *, run_id: int, seen_at: datetime
    ) -> BatchResult:
        """:meth:`write_batch` for a :class:`~slacore.connector.ColumnBatch`: the same
        transaction, the same rows, keys and digests as its :meth:`ColumnBatch.records()
        <slacore.connector.ColumnBatch.records>` would store, the same result; the rows are
        staged a column at a time, without a record object each.

        Raises:
            StoreError: The database refused the write (disk full, locked for too long).

        """
        rows = batch.num_rows
        staged: list[tuple[Any, ...]] = []
        if rows:  # a batch of no rows (nothing new) loads no pyarrow
            from slacore_connectors.store._column_staging import stage_columns

            staged = stage_columns(TABLES[batch.stream], batch.table)
        return self._write(source_name, batch, staged, rows, run_id, seen_at)

    def _write(
        self,
        source_name: str,
        batch: Batch | ColumnBatch,
        staged: list[tuple[Any, ...]],
        read: int,
        run_id: int,
        seen_at: datetime,
    ) -> BatchResult:
        """Store a batch's staged rows (``read`` records before repeated keys were merged),
        rejected records, deletions and cursor in one transaction."""
        table = TABLES[batch.stream]
        seen = _us(seen_at)
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = self._upsert(table, source_name, staged, seen)
                deleted = self._delete(table, source_name, batch.deleted, seen)
                if batch.from_start:
                    # This read replaces what earlier reads of the stream rejected: the rows
                    # it rejects again are opened again, keeping when they were first seen.
                    self._db.execute(
                        "UPDATE rejected SET seen_to = ? WHERE source_name = ? AND stream = ? "
                        "AND seen_to IS NULL",
                        (seen, source_name, batch.stream.value),
                    )
                rejected = self._reject(source_name, batch.rejected, run_id, seen)
                self._db.execute(
                    "INSERT INTO cursors (source_name, stream, cursor, updated_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (source_name, stream) DO UPDATE SET "
                    "cursor = excluded.cursor, updated_at = excluded.updated_at",
                    (source_name, batch.stream.value, batch.cursor.to_json(), seen),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as error:
            raise self._error("store the batch", error) from error
        inserted, updated, unchanged = result
        return BatchResult(
            stream=batch.stream,
            read=read,
            inserted=inserted,
            updated=updated,
            unchanged=unchanged + (read - len(staged)),
            rejected=rejected,
            deleted=deleted,
        )

    def _delete(self, table: _Table, source_name: str, ids: Sequence[str], seen: int) -> int:
        """Close the current versions of the records ``ids`` names (and, for leads, their
        events) and the stream's rejected records of those ids; returns how many records
        of ``table`` were closed."""
        if not ids:
            return 0
        db = self._db
        db.execute("DROP TABLE IF EXISTS temp.deleted")
        db.execute("CREATE TEMP TABLE deleted (key TEXT PRIMARY KEY, id TEXT NOT NULL)")
        db.executemany("INSERT INTO temp.deleted VALUES (?, ?)", [(_key(i), i) for i in ids])
        closed = db.execute(
            f"UPDATE {table.name} SET seen_to = ? WHERE source_name = ? AND seen_to IS NULL "
            "AND key IN (SELECT key FROM temp.deleted)",
            (seen, source_name),
        ).rowcount
        # What the source once refused of a record it has since deleted is moot: it is
        # no longer asked to be fixed (it stays in ``as_of`` reads before).
        db.execute(
            "UPDATE rejected SET seen_to = ? WHERE source_name = ? AND stream = ? "
            "AND seen_to IS NULL AND record_id IN (SELECT id FROM temp.deleted)",
            (seen, source_name, table.stream.value),
        )
        if table.stream is Stream.LEADS:
            for events in _EVENTS_OF_A_LEAD:
                db.execute(
                    f"UPDATE {events.name} SET seen_to = ? WHERE source_name = ? "
                    "AND seen_to IS NULL AND lead_id IN (SELECT id FROM temp.deleted)",
                    (seen, source_name),
                )
        db.execute("DROP TABLE temp.deleted")
        return closed

    def _upsert(
        self, table: _Table, source_name: str, staged: list[tuple[Any, ...]], seen: int
    ) -> tuple[int, int, int]:
        """Store the staged rows (key, digest, [time_us,] cells): a key the store holds as
        current with the same digest only has ``last_seen`` moved; with another digest, its
        current row is closed and the staged row stored; a new key is stored. Returns the
        rows inserted, updated and unchanged.

        The staged keys go to a temporary table, and the store's current rows are found
        from them, one look-up in the current-rows index each (``CROSS JOIN`` keeps that
        order): joined the other way, SQLite walked every current row of the source for
        each batch, so a batch cost what the store held. The rows are then written by their
        row ids, and the new ones inserted straight into the table.
        """
        if not staged:
            return 0, 0, 0
        db = self._db
        name = table.name
        time_col = ["time_us"] if table.time_column else []
        columns = ["key", "digest", *time_col, *table.columns]
        db.execute("DROP TABLE IF EXISTS temp.staged")
        db.execute("CREATE TEMP TABLE staged (key TEXT PRIMARY KEY) WITHOUT ROWID")
        db.executemany("INSERT INTO temp.staged VALUES (?)", [(row[0],) for row in staged])
        held = {
            key: (row_id, digest)
            for key, row_id, digest in db.execute(
                f"SELECT {name}.key, {name}.row_id, {name}.digest FROM temp.staged "
                f"CROSS JOIN {name} WHERE {name}.source_name = ? AND {name}.seen_to IS NULL "
                f"AND {name}.key = staged.key",
                (source_name,),
            )
        }
        unchanged: list[tuple[int, int]] = []
        changed: list[tuple[int, int]] = []
        stored: list[tuple[Any, ...]] = []
        for row in staged:
            found = held.get(row[0])
            if found is None:
                stored.append((source_name, seen, seen, *row))
            elif found[1] == row[1]:
                unchanged.append((seen, found[0]))
            else:
                changed.append((seen, found[0]))
                stored.append((source_name, seen, seen, *row))
        db.executemany(f"UPDATE {name} SET last_seen = ? WHERE row_id = ?", unchanged)
        db.executemany(f"UPDATE {name} SET seen_to = ? WHERE row_id = ?", changed)
        db.executemany(
            f"INSERT INTO {name} (source_name, seen_from, last_seen, {', '.join(columns)}) "
            f"VALUES ({', '.join('?' * (len(columns) + 3))})",
            stored,
        )
        if id_is_key(table.stream.record_type):
            # A lead, deal or rep the source refused and now gives again, corrected, is no
            # longer asked to be fixed; a rejection of this batch is written after, and stays.
            # (Its key is its id.)
            db.execute(
                "UPDATE rejected SET seen_to = ? WHERE source_name = ? AND stream = ? "
                "AND seen_to IS NULL AND record_id IN (SELECT key FROM temp.staged)",
                (seen, source_name, table.stream.value),
            )
        db.execute("DROP TABLE temp.staged")
        return len(stored) - len(changed), len(changed), len(unchanged)

    def _reject(
        self, source_name: str, rejected: Sequence[RejectedRecord], run_id: int, seen: int
    ) -> int:
        rows = rejected_rows(source_name, rejected, run_id, seen)
        self._db.executemany(
            "INSERT INTO rejected (source_name, stream, origin, line, record_id, field, reason, "
            "raw, first_run, last_run, first_seen, last_seen, identity) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (source_name, identity) DO UPDATE SET last_run = excluded.last_run, "
            "last_seen = excluded.last_seen, reason = excluded.reason, field = excluded.field, "
            "seen_to = NULL",
            rows,
        )
        return len(rows)
