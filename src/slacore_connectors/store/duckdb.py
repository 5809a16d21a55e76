"""DuckDBStore: the store in one DuckDB file, a column engine behind the same interface.

It keeps the promises of the :class:`~slacore_connectors.store.Store` interface exactly as
:class:`~slacore_connectors.store.SQLiteStore` does, and stores the same rows: a record's
natural key and digest (the same texts, so a store copied from SQLite goes on where it was),
versions by ``seen_from`` / ``seen_to``, a batch with its rejected records, deletions and
cursor in one transaction. What differs is the engine:

- **Columns.** DuckDB stores each column apart, compressed, and answers a read in Arrow
  (:meth:`DuckDBStore.columns`) without building a Python object per row; its upserts are
  set-based, so a batch costs about the same however many records the store holds.
- **One current row per key** holds by the upsert (DuckDB has no partial unique index), and
  each batch checks it before it commits: a batch that would leave two current rows of a
  key is refused whole.
- **One process at a time** may open the file to write, and while it does no other may
  open it, not even to read; read-only processes share it. An open that finds the file held
  waits for it up to ``timeout``. SQLite lets a report read while a sync writes.

Needs the ``duckdb`` package (``pip install 'slacore[sync]'``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from slacore.connector import Batch, ColumnBatch, Cursor, RejectedRecord, Stream
from slacore.model import id_is_key
from slacore_connectors.store._duck_open import _booleans, _first, _q, _run, _run_many
from slacore_connectors.store._duck_periods import _DuckPeriodResults
from slacore_connectors.store._duck_reads import _DuckReads
from slacore_connectors.store._duck_runs import _DuckRuns
from slacore_connectors.store._staging import rejected_rows, stager
from slacore_connectors.store._tables import _EVENTS_OF_A_LEAD, TABLES, _key, _Table, _us
from slacore_connectors.store.base import BatchResult, SourceConnectorError, StoreError

if TYPE_CHECKING:
    import pyarrow

__all__ = ["DuckDBStore"]


def _duck_type(name: str, flags: frozenset[str]) -> str:
    """The type a staged column is stored as."""
    return "BOOLEAN" if name in flags else "BIGINT" if name == "time_us" else "VARCHAR"


def _current(
    table: _Table, low_key: str, high_key: str, times: tuple[int, int] | None
) -> tuple[str, list[Any]]:
    """The condition on ``t`` (a row of ``table``) of a source's current rows among a
    batch's keys, and its arguments after the source's name: bounded by the batch's lowest
    and highest key (and, where the main time is part of the key, its earliest and latest
    time) given as constants, so that DuckDB reads only the row groups whose min/max
    overlap them, not the whole table."""
    bounds = "t.key BETWEEN ? AND ?"
    args: list[Any] = [low_key, high_key]
    if times is not None and table.time_column in table.stream.record_type.KEY_FIELDS:
        bounds += " AND t.time_us BETWEEN ? AND ?"
        args += list(times)
    return f"t.source_name = ? AND t.seen_to IS NULL AND {bounds}", args


class DuckDBStore(_DuckRuns, _DuckPeriodResults, _DuckReads):
    """The store in one DuckDB file.

    >>> import tempfile, pathlib
    >>> with DuckDBStore(pathlib.Path(tempfile.mkdtemp()) / "sla.duckdb") as store:
    ...     store.schema_version
    1

    A store opened ``read_only`` never writes; one opened to write creates a missing file
    and refuses an existing file that is not a slacore DuckDB store before writing to it.
    While a store is open to write, no other process can open its file; an open that finds
    it held tries again for up to ``timeout`` seconds, then raises :class:`StoreError`.

    Args:
        path: The database file; created with its folder if missing (unless ``read_only``).
            ``":memory:"`` for a throw-away store.
        timeout: Seconds to wait for another process that holds the file.
        locked: Hold the sync lock (:meth:`lock`) from before the file is opened until
            :meth:`close`.
        read_only: Open an existing store to read it only.

    Raises:
        StoreError: The file is missing (``read_only``), is not a slacore DuckDB store,
            cannot be written (not ``read_only``), was written by a newer slacore, or
            another process held it for longer than ``timeout``.
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
        self._locks = 0
        if locked:
            # Another application's file is refused before the lock file is made beside it.
            self._refuse_other_files()
            # Before the file is opened, let alone created: a refused sync leaves no trace.
            self._held.enter_context(self.lock())
        try:
            self._open(timeout, read_only=self.read_only)
        except BaseException:
            self._held.close()
            raise

    # --- life cycle -----------------------------------------------------------------------------

    # --- cursors, sources and runs --------------------------------------------------------------

    def cursor(self, source_name: str, stream: Stream | str) -> Cursor | None:
        """The stored cursor of a source's stream, or ``None`` before its first batch."""
        with self._sql("read the store"):
            row = _first(
                self._db,
                "SELECT cursor FROM cursors WHERE source_name = ? AND stream = ?",
                [source_name, Stream.parse(stream).value],
            )
        return None if row is None else Cursor.from_json(row[0])

    def source_connector(self, source_name: str) -> str | None:
        """The connector that owns a source, or ``None`` if none has claimed it yet."""
        with self._sql("read the store"):
            row = _first(
                self._db, "SELECT connector FROM sources WHERE source_name = ?", [source_name]
            )
        return None if row is None else str(row[0])

    def claim_source(self, source_name: str, connector: str, *, at: datetime | None = None) -> None:
        """Record ``connector`` as the owner of a source, or check that it is (as
        :meth:`SQLiteStore.claim_source <slacore_connectors.store.SQLiteStore.claim_source>`).

        Raises:
            SourceConnectorError: Another connector owns the source and the store holds
                what it read; nothing was written.
            StoreError: The store cannot be written.

        """
        with self._transaction("record the source") as db:
            owner = self.source_connector(source_name)
            if owner == connector:
                return
            held = _first(db, "SELECT 1 FROM cursors WHERE source_name = ? LIMIT 1", [source_name])
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
            _run(
                db,
                "INSERT INTO sources (source_name, connector, claimed_at) VALUES (?, ?, ?) "
                "ON CONFLICT (source_name) DO UPDATE SET connector = excluded.connector, "
                "claimed_at = excluded.claimed_at",
                [source_name, connector, _us(at or datetime.now(UTC))],
            )

    def forget_source(self, source_name: str) -> int:
        """Delete what the store holds of a source (every version of its records, its
        rejected records, cursors and connector; its runs stay), and every agreement's kept
        period results, in one transaction. Returns the rows deleted (period results not
        counted).

        Raises:
            StoreError: The store cannot be written; nothing was deleted.

        """
        deleted = 0
        tables = [table.name for table in TABLES.values()]
        tables += ["rejected", "cursors", "sources"]
        with self._transaction("forget the source") as db:
            for name in tables:
                row = _first(db, f"DELETE FROM {name} WHERE source_name = ?", [source_name])
                deleted += int(row[0]) if row else 0
            _run(db, "DELETE FROM period_results")
            _run(db, "DELETE FROM period_marks")
        return deleted

    # --- writing --------------------------------------------------------------------------------

    def write_batch(
        self, source_name: str, batch: Batch, *, run_id: int, seen_at: datetime
    ) -> BatchResult:
        """Store a batch's records, its rejected records, its deletions and its cursor in
        one transaction, with :meth:`SQLiteStore.write_batch
        <slacore_connectors.store.SQLiteStore.write_batch>`'s semantics.

        Raises:
            StoreError: The database refused the write, or the batch would leave two current
                rows of one key; nothing of the batch was stored.

        """
        table = TABLES[batch.stream]
        seen = _us(seen_at)
        staged = list(stager(table)(batch.records).values())
        return self._write(
            source_name,
            batch,
            lambda: self._upsert(table, source_name, staged, seen),
            (len(batch.records), len(staged)),
            run_id,
            seen,
        )

    def _stage_columns(self, batch: ColumnBatch) -> Any:
        """The rows of ``batch`` staged as :meth:`write_columns` stages them (``None`` for a
        batch of no rows), with no database work: for ``write_columns(..., staged=...)``."""
        if not batch.num_rows:
            return None
        from slacore_connectors.store._column_staging import staged_table

        return staged_table(TABLES[batch.stream], batch.table)

    def write_columns(
        self,
        source_name: str,
        batch: ColumnBatch,
        *,
        run_id: int,
        seen_at: datetime,
        staged: Any = None,
    ) -> BatchResult:
        """:meth:`write_batch` for a :class:`~slacore.connector.ColumnBatch`: the same
        transaction, the same rows, keys and digests as its :meth:`ColumnBatch.records()
        <slacore.connector.ColumnBatch.records>` would store, the same result. The rows are
        staged a column at a time (:meth:`SQLiteStore.write_columns
        <slacore_connectors.store.SQLiteStore.write_columns>`' keys and digests) and handed
        to DuckDB as one Arrow table, sorted out against the stored rows in SQL: no Python
        object per row but the digest's text. ``staged``: :meth:`_stage_columns` of this
        batch, staged already (a sync stages the next batch while this one is written).

        Raises:
            StoreError: The database refused the write, or the batch would leave two current
                rows of one key; nothing of the batch was stored.

        """
        table = TABLES[batch.stream]
        seen = _us(seen_at)
        rows = batch.num_rows
        if not rows:  # a batch of no rows (nothing new) loads no pyarrow
            return self._write(source_name, batch, lambda: (0, 0, 0), (0, 0), run_id, seen)
        if staged is None:
            staged = self._stage_columns(batch)
        return self._write(
            source_name,
            batch,
            lambda: self._upsert_table(table, source_name, staged, seen),
            (rows, staged.num_rows),
            run_id,
            seen,
        )

    def _write(
        self,
        source_name: str,
        batch: Batch | ColumnBatch,
        upsert: Callable[[], tuple[int, int, int]],
        counts: tuple[int, int],
        run_id: int,
        seen: int,
    ) -> BatchResult:
        """Store a batch in one transaction: its rows (by ``upsert``, giving the rows
        inserted, updated and unchanged), deletions, rejected records and cursor.
        ``counts``: the records read, and the keys staged of them."""
        with self._transaction("store the batch") as db:
            inserted, updated, unchanged = upsert()
            deleted = self._delete(TABLES[batch.stream], source_name, batch.deleted, seen)
            if batch.from_start:
                _run(
                    db,
                    "UPDATE rejected SET seen_to = ? WHERE source_name = ? AND stream = ? "
                    "AND seen_to IS NULL",
                    [seen, source_name, batch.stream.value],
                )
            rejected = self._reject(source_name, batch.rejected, run_id, seen)
            _run(
                db,
                "INSERT INTO cursors (source_name, stream, cursor, updated_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (source_name, stream) DO UPDATE SET "
                "cursor = excluded.cursor, updated_at = excluded.updated_at",
                [source_name, batch.stream.value, batch.cursor.to_json(), seen],
            )
        read, keys = counts
        return BatchResult(
            stream=batch.stream,
            read=read,
            inserted=inserted,
            updated=updated,
            unchanged=unchanged + (read - keys),
            rejected=rejected,
            deleted=deleted,
        )

    def _row_ids(self, name: str, count: int) -> np.ndarray[Any, Any]:
        """``count`` new row numbers of table ``name``, after every one it holds (read in
        the batch's transaction: two store objects of one process share the database)."""
        row = _first(self._db, f"SELECT coalesce(max(row_id), 0) FROM {name}")
        first = int(row[0] if row else 0) + 1
        return np.arange(first, first + count, dtype=np.int64)

    def _upsert(
        self, table: _Table, source_name: str, staged: list[tuple[Any, ...]], seen: int
    ) -> tuple[int, int, int]:
        """Store the staged rows (key, digest, [time_us,] cells), as
        :meth:`SQLiteStore._upsert <slacore_connectors.store.SQLiteStore._upsert>` does; then
        check that each staged key has exactly one current row. Returns the rows inserted,
        updated and unchanged.

        The store's current rows of the batch's keys are found by a join, bounded by the
        batch's lowest and highest key (and, where the main time is part of the key, its
        earliest and latest time) given as constants: DuckDB then reads only the row groups
        whose min/max overlap them, not the whole table.
        """
        if not staged:
            return 0, 0, 0
        db = self._db
        name = table.name
        timed = bool(table.time_column)
        names = ["key", "digest", *(["time_us"] if timed else []), *table.columns]
        columns = list(zip(*staged, strict=True))
        keys = np.array(columns[0], dtype=object)
        times = (min(columns[2]), max(columns[2])) if timed else None
        current, bound_args = _current(table, min(columns[0]), max(columns[0]), times)
        db.register("slacore_keys", {"key": keys})
        try:
            held = {
                key: (row_id, digest)
                for key, row_id, digest in _run(
                    db,
                    f"SELECT t.key, t.row_id, t.digest FROM slacore_keys s JOIN {name} t "
                    f"ON t.key = s.key WHERE {current}",
                    [source_name, *bound_args],
                )
            }
            unchanged: list[int] = []
            changed: list[int] = []
            stored: list[int] = []
            for at, row in enumerate(staged):
                found = held.get(row[0])
                if found is None:
                    stored.append(at)
                elif found[1] == row[1]:
                    unchanged.append(found[0])
                else:
                    changed.append(found[0])
                    stored.append(at)
            for ids, column in ((unchanged, "last_seen"), (changed, "seen_to")):
                if ids:
                    self._set_by_row_id(name, column, seen, ids)
            if stored:
                self._insert(table, source_name, seen, names, columns, stored)
            self._settle(table, "slacore_keys", seen, current, [source_name, *bound_args])
        finally:
            db.unregister("slacore_keys")
        return len(stored) - len(changed), len(changed), len(unchanged)

    def _upsert_table(
        self, table: _Table, source_name: str, staged: pyarrow.Table, seen: int
    ) -> tuple[int, int, int]:
        """:meth:`_upsert` of staged rows given as an Arrow table (``staged_table``'s: one
        row per key), sorted out against the store's current rows in SQL: a stored row of
        the same digest gets ``last_seen``, one of another digest is closed, and every key
        left without a current row gets the staged row, numbered in the staged order.
        Returns the rows inserted, updated and unchanged."""
        import pyarrow as pa
        import pyarrow.compute as pc

        db = self._db
        name = table.name
        keys = pc.min_max(staged.column("key"))
        times = None
        if table.time_column:
            low_high = pc.min_max(staged.column("time_us"))
            times = (low_high["min"].as_py(), low_high["max"].as_py())
        current, bound_args = _current(table, keys["min"].as_py(), keys["max"].as_py(), times)
        args = [source_name, *bound_args]
        positions = pa.array(np.arange(staged.num_rows, dtype=np.int64))
        db.register("slacore_staged", staged.append_column("pos", positions))
        try:
            unchanged = _first(
                db,
                f"UPDATE {name} t SET last_seen = ? FROM slacore_staged s "
                f"WHERE t.key = s.key AND t.digest = s.digest AND {current}",
                [seen, *args],
            )
            changed = _first(
                db,
                f"UPDATE {name} t SET seen_to = ? FROM slacore_staged s "
                f"WHERE t.key = s.key AND t.digest <> s.digest AND {current}",
                [seen, *args],
            )
            names = ["key", "digest", *(["time_us"] if table.time_column else []), *table.columns]
            flags = _booleans(table)
            cells = ", ".join(f"CAST(s.{_q(n)} AS {_duck_type(n, flags)})" for n in names)
            stored = _first(
                db,
                f"INSERT INTO {name} (row_id, source_name, seen_from, last_seen, "
                f"{', '.join(_q(n) for n in names)}) "
                f"SELECT ? + row_number() OVER (ORDER BY s.pos), ?, ?, ?, {cells} "
                f"FROM slacore_staged s WHERE NOT EXISTS "
                f"(SELECT 1 FROM {name} t WHERE t.key = s.key AND {current}) ORDER BY s.pos",
                [int(self._row_ids(name, 1)[0]) - 1, source_name, seen, seen, *args],
            )
            self._settle(table, "slacore_staged", seen, current, args)
        finally:
            db.unregister("slacore_staged")
        n_unchanged = int(unchanged[0]) if unchanged else 0
        n_changed = int(changed[0]) if changed else 0
        n_stored = int(stored[0]) if stored else 0
        return n_stored - n_changed, n_changed, n_unchanged

    def _settle(self, table: _Table, staged: str, seen: int, current: str, args: list[Any]) -> None:
        """After an upsert of the relation ``staged`` (one row per key): close the rejected
        records of its keys (for a stream whose id is its key: the record is stored now),
        then refuse the batch unless each of its keys has exactly one current row (DuckDB
        has no partial unique index to keep it). ``args``: the source, then ``current`` 's."""
        if id_is_key(table.stream.record_type):
            _run(
                self._db,
                "UPDATE rejected SET seen_to = ? WHERE source_name = ? AND stream = ? "
                f"AND seen_to IS NULL AND record_id IN (SELECT key FROM {staged})",
                [seen, args[0], table.stream.value],
            )
        counted = _first(
            self._db,
            f"SELECT count(*), count(DISTINCT t.key), (SELECT count(*) FROM {staged}) "
            f"FROM {staged} s JOIN {table.name} t ON t.key = s.key WHERE {current}",
            args,
        )
        current_rows, current_keys, keys = counted or (0, 0, 0)
        if current_rows != keys or current_keys != keys:
            raise StoreError(
                message=(
                    f"refused a batch of {table.name}: it would leave {current_rows} current "
                    f"rows for {keys} keys (one current row per key); nothing of it "
                    "was stored"
                ),
                path=self.path,
            )

    def _set_by_row_id(self, name: str, column: str, value: int, ids: list[int]) -> None:
        self._db.register("slacore_ids", {"row_id": np.array(ids, dtype=np.int64)})
        try:
            _run(
                self._db,
                f"UPDATE {name} SET {column} = ? WHERE row_id BETWEEN ? AND ? "
                "AND row_id IN (SELECT row_id FROM slacore_ids)",
                [value, min(ids), max(ids)],
            )
        finally:
            self._db.unregister("slacore_ids")

    def _insert(
        self,
        table: _Table,
        source_name: str,
        seen: int,
        names: list[str],
        columns: list[tuple[Any, ...]],
        stored: list[int],
    ) -> None:
        """Insert the staged rows at positions ``stored``, numbered in that order."""
        take = np.array(stored, dtype=np.int64)
        data: dict[str, Any] = {"row_id": self._row_ids(table.name, len(stored))}
        flags = _booleans(table)
        for position, name in enumerate(names):
            values = np.array(columns[position], dtype=object)[take]
            if name == "time_us":
                data[name] = values.astype(np.int64)
            else:
                data[name] = values
        select = ", ".join(f"CAST({_q(n)} AS {_duck_type(n, flags)})" for n in names)
        self._db.register("slacore_rows", data)
        try:
            _run(
                self._db,
                f"INSERT INTO {table.name} (row_id, source_name, seen_from, last_seen, "
                f"{', '.join(_q(n) for n in names)}) SELECT row_id, ?, ?, ?, {select} "
                "FROM slacore_rows ORDER BY row_id",
                [source_name, seen, seen],
            )
        finally:
            self._db.unregister("slacore_rows")

    def _delete(self, table: _Table, source_name: str, ids: Sequence[str], seen: int) -> int:
        """Close the current versions of the records ``ids`` names (and, for leads, their
        events) and the stream's rejected records of those ids; returns how many records
        of ``table`` were closed."""
        if not ids:
            return 0
        db = self._db
        db.register(
            "slacore_deleted",
            {
                "key": np.array([_key(i) for i in ids], dtype=object),
                "id": np.array(list(ids), dtype=object),
            },
        )
        try:
            row = _first(
                db,
                f"UPDATE {table.name} SET seen_to = ? WHERE source_name = ? "
                "AND seen_to IS NULL AND key IN (SELECT key FROM slacore_deleted)",
                [seen, source_name],
            )
            closed = int(row[0]) if row else 0
            _run(
                db,
                "UPDATE rejected SET seen_to = ? WHERE source_name = ? AND stream = ? "
                "AND seen_to IS NULL AND record_id IN (SELECT id FROM slacore_deleted)",
                [seen, source_name, table.stream.value],
            )
            if table.stream is Stream.LEADS:
                for events in _EVENTS_OF_A_LEAD:
                    _run(
                        db,
                        f"UPDATE {events.name} SET seen_to = ? WHERE source_name = ? "
                        "AND seen_to IS NULL AND lead_id IN (SELECT id FROM slacore_deleted)",
                        [seen, source_name],
                    )
        finally:
            db.unregister("slacore_deleted")
        return closed

    def _reject(
        self, source_name: str, rejected: Sequence[RejectedRecord], run_id: int, seen: int
    ) -> int:
        rows = rejected_rows(source_name, rejected, run_id, seen)
        if rows:
            _run_many(
                self._db,
                "INSERT INTO rejected (source_name, stream, origin, line, record_id, field, "
                "reason, raw, first_run, last_run, first_seen, last_seen, identity) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (source_name, identity) DO UPDATE SET last_run = excluded.last_run, "
                "last_seen = excluded.last_seen, reason = excluded.reason, "
                "field = excluded.field, seen_to = NULL",
                rows,
            )
        return len(rows)
