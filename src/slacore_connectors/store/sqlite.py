"""The store: where synced records, cursors, runs and rejected records are kept.

The embedded default is :class:`SQLiteStore`, one SQLite file (standard library). Its promises:

- **Idempotent upserts.** Every record has a natural key (a lead's id; a touch's lead, rep,
  time and channel...). Storing the same record twice leaves one row; storing a changed
  record keeps the latest as current.
- **One transaction per batch, cursor included.** :meth:`SQLiteStore.write_batch` stores a
  batch's records, its rejected records and the stream's new cursor together, so a job killed
  at any moment resumes from the last stored batch with nothing lost and nothing duplicated.
- **Nothing dropped.** Rejected records are kept with the reason and the raw vendor record.
- **History.** Rows are versioned by when the store learnt them: a changed record closes the
  old version (``seen_to``) and opens a new one (``seen_from``). Reading ``as_of=`` a past
  moment returns exactly what the store knew then, so last month's report can be reproduced
  after later syncs.

The schema carries a version and a numbered list of migrations, applied in order on open.
:class:`Store` is the interface a PostgreSQL store will implement too.
"""

from __future__ import annotations

import abc
import enum
import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from slacore.connector import Batch, Cursor, RejectedRecord, Stream, core_fields
from slacore.errors import SlacoreError

__all__ = [
    "SCHEMA_VERSION",
    "BatchResult",
    "SQLiteStore",
    "Store",
    "StoreError",
    "SyncRun",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


@attrs.frozen(auto_exc=True, kw_only=True)
class StoreError(SlacoreError, RuntimeError):
    """The store cannot be opened or written: a newer schema, a damaged file, a bad path.

    Attributes:
        path: The store's location.

    """

    path: str | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def _us(t: datetime) -> int:
    return (t - _EPOCH) // _ONE_US


def _from_us(value: int) -> datetime:
    return _EPOCH + value * _ONE_US


def _to_cell(value: Any) -> Any:
    """A record's field value as an SQLite value: times ISO 8601 with their offset, money as
    decimal text, flags as 0/1, enums as their value."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


_FROM_CELL: dict[str, Callable[[Any], Any]] = {
    "time": datetime.fromisoformat,
    "money": Decimal,
    "boolean": bool,
}


@attrs.frozen
class _Table:
    """How one stream's records map to a table: the record's own fields, in the model's
    order, as columns; a natural key; and the main time, for ranges and ordering."""

    stream: Stream
    time_column: str
    key: Callable[[Any], str]

    @property
    def name(self) -> str:
        return self.stream.value

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in core_fields(self.stream))

    def to_row(self, record: Any) -> tuple[Any, ...]:
        return tuple(_to_cell(getattr(record, column)) for column in self.columns)

    def reader(self) -> Callable[[tuple[Any, ...]], Any]:
        """A function that makes a record of the row of its ``columns``, in their order.

        The converters are looked up once, not for every row: reading a stream is the
        larger part of a report on millions of records.
        """
        make = self.stream.record_type
        names = self.columns
        converters = [_FROM_CELL.get(field.kind) for field in core_fields(self.stream)]
        converted = [(i, convert) for i, convert in enumerate(converters) if convert is not None]

        def read(row: tuple[Any, ...]) -> Any:
            values = list(row)
            for i, convert in converted:
                value = values[i]
                if value is not None:
                    values[i] = convert(value)
            return make(**dict(zip(names, values, strict=True)))

        return read


def _key(*parts: object) -> str:
    # Times in keys are epoch microseconds, so one instant written in two zones is one key.
    return "\x1f".join(str(_us(p)) if isinstance(p, datetime) else str(p) for p in parts)


TABLES: dict[Stream, _Table] = {
    table.stream: table
    for table in (
        _Table(Stream.LEADS, "created_at", lambda r: _key(r.id)),
        _Table(Stream.STAGE_CHANGES, "at", lambda r: _key(r.lead_id, r.at, r.to_stage)),
        _Table(Stream.HANDOFFS, "notified_at", lambda r: _key(r.lead_id, r.notified_at, r.stage)),
        _Table(Stream.TOUCHES, "at", lambda r: _key(r.lead_id, r.rep_id, r.at, r.channel.value)),
        _Table(Stream.DEALS, "opened_at", lambda r: _key(r.id)),
        _Table(Stream.REPS, "", lambda r: _key(r.id)),
        _Table(Stream.OWNER_CHANGES, "at", lambda r: _key(r.lead_id, r.at)),
    )
}


def _create_record_tables(db: sqlite3.Connection) -> None:
    for table in TABLES.values():
        columns = ", ".join(f"{c}" for c in table.columns)
        time_us = ", time_us INTEGER" if table.time_column else ""
        db.execute(
            f"CREATE TABLE {table.name} ("
            "row_id INTEGER PRIMARY KEY, source_name TEXT NOT NULL, key TEXT NOT NULL, "
            "digest TEXT NOT NULL, seen_from INTEGER NOT NULL, seen_to INTEGER, "
            f"last_seen INTEGER NOT NULL{time_us}, {columns})"
        )
        # At most one current version per record of a source.
        db.execute(
            f"CREATE UNIQUE INDEX {table.name}_current ON {table.name} (source_name, key) "
            "WHERE seen_to IS NULL"
        )
        if table.time_column:
            db.execute(f"CREATE INDEX {table.name}_time ON {table.name} (time_us)")


def _migration_1(db: sqlite3.Connection) -> None:
    _create_record_tables(db)
    db.execute(
        "CREATE TABLE cursors (source_name TEXT NOT NULL, stream TEXT NOT NULL, "
        "cursor TEXT NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (source_name, stream))"
    )
    db.execute(
        "CREATE TABLE sync_runs (run_id INTEGER PRIMARY KEY, source_name TEXT NOT NULL, "
        "started_at INTEGER NOT NULL, finished_at INTEGER, status TEXT NOT NULL, "
        "full INTEGER NOT NULL DEFAULT 0, counts TEXT NOT NULL DEFAULT '{}', error TEXT)"
    )
    db.execute(
        "CREATE TABLE rejected (rejected_id INTEGER PRIMARY KEY, source_name TEXT NOT NULL, "
        "stream TEXT NOT NULL, origin TEXT, line INTEGER, record_id TEXT, field TEXT, "
        "reason TEXT NOT NULL, raw TEXT NOT NULL, first_run INTEGER, last_run INTEGER, "
        "first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, identity TEXT NOT NULL)"
    )
    db.execute("CREATE UNIQUE INDEX rejected_identity ON rejected (source_name, identity)")


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_migration_1,)
"""Schema migrations, in order; migration ``n`` brings the schema to version ``n``."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this code writes."""


@attrs.frozen(kw_only=True)
class BatchResult:
    """What storing one batch did.

    Attributes:
        stream: The stream.
        read: Records in the batch (mapped ones; rejected ones are counted apart).
        inserted: New records.
        updated: Records that changed (a new version was stored).
        unchanged: Records already stored as they are.
        rejected: Rejected records kept.

    """

    stream: Stream
    read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int

    @property
    def stored(self) -> int:
        """Inserted plus updated."""
        return self.inserted + self.updated


@attrs.frozen(kw_only=True)
class SyncRun:
    """One run of a sync job for one source, as the store recorded it.

    Attributes:
        run_id: The run's number.
        source_name: The source synced.
        started_at: When it started (UTC).
        finished_at: When it ended, or ``None`` if it never did (killed).
        status: ``running``, ``success``, ``partial`` or ``failed``.
        full: Whether it read from scratch.
        counts: Per stream: read, stored, unchanged, rejected.
        error: The error message of a failed run.

    """

    run_id: int
    source_name: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    full: bool
    counts: Mapping[str, Mapping[str, int]]
    error: str | None


class Store(abc.ABC):
    """The store interface: records, cursors, runs and rejected records by source."""

    @abc.abstractmethod
    def cursor(self, source_name: str, stream: Stream | str) -> Cursor | None:
        """The stored cursor of a source's stream, or ``None`` before its first batch."""

    @abc.abstractmethod
    def write_batch(
        self, source_name: str, batch: Batch, *, run_id: int, seen_at: datetime
    ) -> BatchResult:
        """Store a batch, its rejected records and its cursor in one transaction."""

    @abc.abstractmethod
    def records(
        self,
        stream: Stream | str,
        *,
        as_of: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        source_name: str | None = None,
    ) -> Iterator[Any]:
        """The current (or ``as_of``) records of a stream, optionally in a time range."""

    @abc.abstractmethod
    def start_run(self, source_name: str, *, full: bool = False, at: datetime | None = None) -> int:
        """Record the start of a sync run; returns its id."""

    @abc.abstractmethod
    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        counts: Mapping[str, Mapping[str, int]],
        error: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Record the end of a sync run."""


class SQLiteStore(Store):
    """The store in one SQLite file.

    >>> import tempfile, pathlib
    >>> with SQLiteStore(pathlib.Path(tempfile.mkdtemp()) / "sla.db") as store:
    ...     store.schema_version
    1

    Args:
        path: The database file; created with its folder if missing. ``":memory:"`` for a
            throw-away store.
        timeout: Seconds to wait for another writer to finish before giving up.

    Raises:
        StoreError: The file is not a slacore store, or was written by a newer slacore.

    """

    def __init__(self, path: str | Path, *, timeout: float = 30.0) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE ... COMMIT).
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=timeout)
        except sqlite3.Error as error:
            raise StoreError(message=f"cannot open the store: {error}", path=self.path) from None
        self._db.row_factory = sqlite3.Row
        try:
            self._use_wal(timeout)
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as error:
            self._db.close()
            busy = isinstance(error, sqlite3.OperationalError) and "locked" in str(error)
            what = f"the store is busy after {timeout:g} s" if busy else "not a slacore store"
            raise StoreError(message=f"{what}: {error}", path=self.path) from None
        except BaseException:
            self._db.close()
            raise

    # --- life cycle -----------------------------------------------------------------------------

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    @property
    def schema_version(self) -> int:
        """The schema version of the file."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _use_wal(self, timeout: float) -> None:
        # Switching a new file to write-ahead logging can report "database is locked" at once,
        # without waiting, when other connections open the file at the same moment; it succeeds
        # once they are done, so try again until the timeout.
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    def _migrate(self) -> None:
        if self._checked_version() == SCHEMA_VERSION:
            return
        # Another process may be creating or upgrading the same file right now: take the write
        # lock first, then look again, so that only one of them runs each migration.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for number in range(self._checked_version() + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[number - 1](self._db)
                self._db.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _checked_version(self) -> int:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise StoreError(
                message=(
                    f"the store has schema version {version}, newer than this slacore's "
                    f"{SCHEMA_VERSION}: upgrade slacore"
                ),
                path=self.path,
            )
        return version

    # --- cursors and runs -----------------------------------------------------------------------

    def cursor(self, source_name: str, stream: Stream | str) -> Cursor | None:
        """The stored cursor of a source's stream, or ``None`` before its first batch."""
        row = self._db.execute(
            "SELECT cursor FROM cursors WHERE source_name = ? AND stream = ?",
            (source_name, Stream.parse(stream).value),
        ).fetchone()
        return None if row is None else Cursor.from_json(row["cursor"])

    def start_run(self, source_name: str, *, full: bool = False, at: datetime | None = None) -> int:
        """Record the start of a sync run (status ``running``); returns its id."""
        started = _us(at or datetime.now(UTC))
        cursor = self._db.execute(
            "INSERT INTO sync_runs (source_name, started_at, status, full) "
            "VALUES (?, ?, 'running', ?)",
            (source_name, started, int(full)),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        counts: Mapping[str, Mapping[str, int]],
        error: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Record the end of a sync run with its status, counts and error."""
        self._db.execute(
            "UPDATE sync_runs SET finished_at = ?, status = ?, counts = ?, error = ? "
            "WHERE run_id = ?",
            (_us(at or datetime.now(UTC)), status, json.dumps(counts), error, run_id),
        )

    def runs(self, source_name: str | None = None) -> list[SyncRun]:
        """The recorded sync runs, oldest first."""
        query = "SELECT * FROM sync_runs"
        args: tuple[Any, ...] = ()
        if source_name is not None:
            query += " WHERE source_name = ?"
            args = (source_name,)
        return [
            SyncRun(
                run_id=row["run_id"],
                source_name=row["source_name"],
                started_at=_from_us(row["started_at"]),
                finished_at=None if row["finished_at"] is None else _from_us(row["finished_at"]),
                status=row["status"],
                full=bool(row["full"]),
                counts=json.loads(row["counts"]),
                error=row["error"],
            )
            for row in self._db.execute(query + " ORDER BY run_id", args)
        ]

    # --- writing --------------------------------------------------------------------------------

    def write_batch(
        self, source_name: str, batch: Batch, *, run_id: int, seen_at: datetime
    ) -> BatchResult:
        """Store a batch's records, its rejected records and its cursor in one transaction.

        A record already stored unchanged only has its ``last_seen`` moved; a changed record
        closes its current version and stores a new one; a record seen twice in the batch
        counts once, the later one winning.

        Raises:
            StoreError: The database refused the write (disk full, locked for too long).

        """
        table = TABLES[batch.stream]
        seen = _us(seen_at)
        latest: dict[str, Any] = {}
        for record in batch.records:
            latest[table.key(record)] = record
        staged = []
        for key, record in latest.items():
            row = table.to_row(record)
            digest = hashlib.blake2b(
                json.dumps(row, separators=(",", ":")).encode(), digest_size=16
            ).hexdigest()
            time_us = [_us(getattr(record, table.time_column))] if table.time_column else []
            staged.append((key, digest, *time_us, *row))
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = self._upsert(table, source_name, staged, seen)
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
            raise StoreError(message=f"cannot store the batch: {error}", path=self.path) from None
        inserted, updated, unchanged = result
        return BatchResult(
            stream=batch.stream,
            read=len(batch.records),
            inserted=inserted,
            updated=updated,
            unchanged=unchanged + (len(batch.records) - len(latest)),
            rejected=rejected,
        )

    def _upsert(
        self, table: _Table, source_name: str, staged: list[tuple[Any, ...]], seen: int
    ) -> tuple[int, int, int]:
        db = self._db
        name = table.name
        time_col = ["time_us"] if table.time_column else []
        columns = ["key", "digest", *time_col, *table.columns]
        db.execute("DROP TABLE IF EXISTS temp.staged")
        db.execute(f"CREATE TEMP TABLE staged ({', '.join(columns)})")
        db.executemany(f"INSERT INTO temp.staged VALUES ({', '.join('?' * len(columns))})", staged)
        db.execute("CREATE INDEX temp.staged_key ON staged (key)")
        current = f"{name}.source_name = ? AND {name}.seen_to IS NULL AND {name}.key = staged.key"
        unchanged = db.execute(
            f"UPDATE {name} SET last_seen = ? FROM temp.staged WHERE {current} "
            f"AND {name}.digest = staged.digest",
            (seen, source_name),
        ).rowcount
        updated = db.execute(
            f"UPDATE {name} SET seen_to = ? FROM temp.staged WHERE {current} "
            f"AND {name}.digest != staged.digest",
            (seen, source_name),
        ).rowcount
        column_list = ", ".join(columns)
        inserted = db.execute(
            f"INSERT INTO {name} (source_name, seen_from, last_seen, {column_list}) "
            f"SELECT ?, ?, ?, {column_list} FROM temp.staged WHERE NOT EXISTS ("
            f"SELECT 1 FROM {name} WHERE {name}.source_name = ? AND {name}.seen_to IS NULL "
            f"AND {name}.key = staged.key)",
            (source_name, seen, seen, source_name),
        ).rowcount
        db.execute("DROP TABLE temp.staged")
        return inserted - updated, updated, unchanged

    def _reject(
        self, source_name: str, rejected: Sequence[RejectedRecord], run_id: int, seen: int
    ) -> int:
        rows = []
        for item in rejected:
            data = item.to_dict()
            identity = json.dumps(
                [data["stream"], data["source"], data["line"], data["record_id"], data["raw"]],
                sort_keys=True,
            )
            rows.append(
                (
                    source_name,
                    data["stream"],
                    data["source"],
                    data["line"],
                    data["record_id"],
                    data["field"],
                    data["reason"],
                    json.dumps(data["raw"], sort_keys=True),
                    run_id,
                    run_id,
                    seen,
                    seen,
                    identity,
                )
            )
        self._db.executemany(
            "INSERT INTO rejected (source_name, stream, origin, line, record_id, field, reason, "
            "raw, first_run, last_run, first_seen, last_seen, identity) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (source_name, identity) DO UPDATE SET last_run = excluded.last_run, "
            "last_seen = excluded.last_seen, reason = excluded.reason, field = excluded.field",
            rows,
        )
        return len(rows)

    # --- reading --------------------------------------------------------------------------------

    def records(
        self,
        stream: Stream | str,
        *,
        as_of: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        source_name: str | None = None,
    ) -> Iterator[Any]:
        """The records of a stream as the store knows them now, or knew them ``as_of``.

        Args:
            stream: Which records (``"leads"``, ``Stream.TOUCHES``...).
            as_of: Return the versions current at that moment (what the store knew then).
            since: Only records whose main time (created, notified, at, opened) is at or
                after this.
            until: ... and before this.
            source_name: Only records of this source.

        Yields:
            Core objects, in order of their main time (reps by id).

        """
        table = TABLES[Stream.parse(stream)]
        where: list[str] = []
        args: list[Any] = []
        if as_of is None:
            where.append("seen_to IS NULL")
        else:
            moment = _us(as_of)
            where.append("seen_from <= ? AND (seen_to IS NULL OR seen_to > ?)")
            args += [moment, moment]
        if source_name is not None:
            where.append("source_name = ?")
            args.append(source_name)
        if since is not None and table.time_column:
            where.append("time_us >= ?")
            args.append(_us(since))
        if until is not None and table.time_column:
            where.append("time_us < ?")
            args.append(_us(until))
        order = "time_us, row_id" if table.time_column else "key"
        query = (
            f"SELECT {', '.join(table.columns)} FROM {table.name} "
            f"WHERE {' AND '.join(where)} ORDER BY {order}"
        )
        read = table.reader()
        rows = self._db.cursor()
        rows.row_factory = None  # plain tuples: cheaper than sqlite3.Row
        for row in rows.execute(query, args):
            yield read(row)

    def count(self, stream: Stream | str, *, as_of: datetime | None = None) -> int:
        """How many records of a stream the store holds (now, or ``as_of``)."""
        return sum(1 for _ in self.records(stream, as_of=as_of))

    def rejected(
        self, *, source_name: str | None = None, as_of: datetime | None = None
    ) -> list[RejectedRecord]:
        """The rejected records kept (first seen by ``as_of``, if given), in order."""
        query = "SELECT * FROM rejected WHERE 1 = 1"
        args: list[Any] = []
        if source_name is not None:
            query += " AND source_name = ?"
            args.append(source_name)
        if as_of is not None:
            query += " AND first_seen <= ?"
            args.append(_us(as_of))
        return [
            RejectedRecord(
                stream=row["stream"],
                reason=row["reason"],
                source=row["origin"],
                line=row["line"],
                record_id=row["record_id"],
                field=row["field"],
                raw=json.loads(row["raw"]),
            )
            for row in self._db.execute(query + " ORDER BY rejected_id", args)
        ]

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every table's current rows as plain tuples, bookkeeping columns left out.

        For comparing two stores row for row (e.g. after a killed and resumed sync).
        """
        result: dict[str, list[tuple[Any, ...]]] = {}
        for table in TABLES.values():
            columns = ", ".join(("source_name", "key", *table.columns))
            rows = self._db.execute(
                f"SELECT {columns} FROM {table.name} WHERE seen_to IS NULL ORDER BY key"
            )
            result[table.name] = [tuple(row) for row in rows]
        result["cursors"] = [
            tuple(row)
            for row in self._db.execute(
                "SELECT source_name, stream, cursor FROM cursors ORDER BY 1, 2"
            )
        ]
        result["rejected"] = [
            tuple(row)
            for row in self._db.execute(
                "SELECT source_name, stream, origin, line, record_id, field, reason, raw "
                "FROM rejected ORDER BY source_name, identity"
            )
        ]
        return result
