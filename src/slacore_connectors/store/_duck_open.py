"""Opening a store's DuckDB file, the part of :class:`DuckDBStore` that: checks a file is a
slacore DuckDB store before anything is written to it; waits for another process that holds
the file; opens it to write (migrations) or read-only; and words DuckDB's errors as one-line
store errors naming the file.

DuckDB lets one process open a file to write, and then no other process may open it, not
even to read ("Could not set lock on file"); read-only processes may share it. So an open
that meets another process's hold tries again until the store's ``timeout``, unless the
holder is a sync (it holds the store's sync lock, and the file until it ends): that open is
refused at once, saying so.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slacore.connector import core_fields
from slacore_connectors.store._lock import _Locking
from slacore_connectors.store._tables import _Table
from slacore_connectors.store.base import StoreError
from slacore_connectors.store.duckdb_migrations import DUCKDB_MIGRATIONS, DUCKDB_SCHEMA_VERSION

if TYPE_CHECKING:
    import duckdb

DUCKDB_MAGIC = b"DUCK"
"""The bytes at offset 8 of a DuckDB database file."""

SQLITE_MAGIC = b"SQLite format 3\x00"
"""The first 16 bytes of an SQLite database file."""

_RETRY_EVERY = 0.05
"""Seconds between two tries to open a file another process holds."""


def file_engine(path: str | Path) -> str | None:
    """``"sqlite"`` or ``"duckdb"``: which engine wrote the existing file at ``path``, by its
    header; ``None`` for a missing, empty or unreadable file, or any other file."""
    try:
        with open(path, "rb") as file:
            head = file.read(16)
    except OSError:
        return None
    if head == SQLITE_MAGIC:
        return "sqlite"
    if head[8:12] == DUCKDB_MAGIC:
        return "duckdb"
    return None


def _run(db: Any, query: str, args: Any = None) -> list[Any]:
    """Run a statement to its end (DuckDB refuses other work on a connection while a result
    is unfinished); its rows."""
    result = db.execute(query) if args is None else db.execute(query, args)
    return list(result.fetchall())


def _first(db: Any, query: str, args: Any = None) -> Any:
    """The first row of a query, or ``None``; the query run to its end."""
    rows = _run(db, query, args)
    return rows[0] if rows else None


def _run_many(db: Any, query: str, rows: Any) -> None:
    """Run a statement for each of ``rows`` (``executemany`` leaves no result unfinished)."""
    db.executemany(query, rows)


def _q(name: str) -> str:
    """A column name quoted for DuckDB (``at`` and ``end`` are key words)."""
    return f'"{name}"'


def _booleans(table: _Table) -> frozenset[str]:
    """The names of a table's flags (BOOLEAN columns)."""
    return frozenset(f.name for f in core_fields(table.stream) if f.kind == "boolean")


def _held_elsewhere(error: Exception) -> bool:
    """Whether ``error`` says another process holds the file."""
    return "Could not set lock on file" in str(error) or "Conflicting lock" in str(error)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


class _DuckOpening(_Locking):
    """The opening of a DuckDB store's file, a mixin of :class:`DuckDBStore`."""

    path: str
    read_only: bool
    _db: duckdb.DuckDBPyConnection

    def _open(self, timeout: float, *, read_only: bool) -> None:
        """Connect to the file (waiting up to ``timeout`` for another process that holds
        it), check it is a slacore store, and bring it up to date unless ``read_only``."""
        import duckdb

        if self.path != ":memory:":
            file = Path(self.path)
            self._refuse_other_files()
            if read_only and not file.exists():
                raise StoreError(message="no store here: run slacore sync first", path=self.path)
            if not read_only:
                try:
                    file.parent.mkdir(parents=True, exist_ok=True)
                except OSError as error:
                    raise StoreError(
                        message=f"cannot create the store's folder: {error.strerror or error}",
                        path=self.path,
                    ) from error
        self._db = self._connect(duckdb, timeout, read_only=read_only)
        try:
            with self._sql("open the store"):
                # Times cast in SQL (a deal's closed_at, in columns()) are read in UTC.
                _run(self._db, "SET TimeZone = 'UTC'")
                version = self._identified(new_ok=not read_only)
                if not read_only:
                    self._migrate(version)
        except BaseException:
            self._db.close()
            raise

    def _refuse_other_files(self) -> None:
        """Refuse a folder, or a file (not empty) that is not a DuckDB database."""
        file = Path(self.path)
        if self.path == ":memory:" or not file.exists():
            return
        if file.is_dir():
            raise StoreError(message="not a slacore store: it is a folder", path=self.path)
        if file.stat().st_size and file_engine(file) != "duckdb":
            raise StoreError(message="not a slacore store: not a DuckDB database", path=self.path)

    def _connect(self, duckdb: Any, timeout: float, *, read_only: bool) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                return duckdb.connect(self.path, read_only=read_only)
            except duckdb.ConnectionException as error:
                if read_only and "different configuration" in str(error):
                    # This process has the file open to write already (DuckDB shares one
                    # database per file and process): read through that one. A read-only
                    # store still issues no write.
                    return duckdb.connect(self.path)
                raise StoreError(
                    message=f"cannot open the store: {_first_line(error)}", path=self.path
                ) from error
            except duckdb.Error as error:
                if not _held_elsewhere(error):
                    message = _first_line(error)
                    if "not a valid DuckDB database file" in message:
                        message = f"not a slacore store: {message}"
                    else:
                        message = f"cannot open the store: {message}"
                    raise StoreError(message=message, path=self.path) from error
                if self._sync_running():
                    # A sync holds the file until it ends, maybe for minutes: say so now.
                    raise StoreError(
                        message=(
                            "a sync is writing the store, and DuckDB lets no other process "
                            "open the file until it ends: run this once the sync has finished "
                            "(an SQLite store can be read beside a sync)"
                        ),
                        path=self.path,
                    ) from error
                if time.monotonic() >= deadline:
                    raise StoreError(
                        message=(
                            f"another process holds the store (a sync writing, or a report "
                            f"reading); gave up after waiting {timeout:g} s"
                        ),
                        path=self.path,
                    ) from error
                time.sleep(_RETRY_EVERY)

    def _identified(self, *, new_ok: bool) -> int:
        """The store's schema version, once the database is found to be a slacore store (0:
        an empty database, with ``new_ok``)."""
        names = {
            row[0] for row in self._db.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        if not names:
            if new_ok:
                return 0
            raise StoreError(message="not a slacore store: the database is empty", path=self.path)
        if "slacore_schema" not in names:
            raise StoreError(
                message="not a slacore store: it is another application's database",
                path=self.path,
            )
        return self._check_version(self._version())

    def _version(self) -> int:
        row = _first(self._db, "SELECT max(version) FROM slacore_schema")
        return int(row[0]) if row is not None and row[0] is not None else 0

    def _check_version(self, version: int) -> int:
        if version > DUCKDB_SCHEMA_VERSION:
            raise StoreError(
                message=(
                    f"the store has schema version {version}, newer than this slacore's "
                    f"{DUCKDB_SCHEMA_VERSION}: upgrade slacore"
                ),
                path=self.path,
            )
        return version

    def _migrate(self, version: int) -> None:
        if version == DUCKDB_SCHEMA_VERSION:
            return
        self._db.begin()
        try:
            for number in range(version + 1, DUCKDB_SCHEMA_VERSION + 1):
                for statement in DUCKDB_MIGRATIONS[number - 1]:
                    _run(self._db, statement)
                _run(self._db, "DELETE FROM slacore_schema")
                _run(self._db, "INSERT INTO slacore_schema VALUES (?)", [number])
        except BaseException:
            self._db.rollback()
            raise
        self._db.commit()

    @contextlib.contextmanager
    def _transaction(self, what: str) -> Iterator[Any]:
        """One transaction: committed at the end of the block, rolled back on any error."""
        with self._sql(what):
            db = self._db
            db.begin()
            try:
                yield db
            except BaseException:
                db.rollback()
                raise
            db.commit()

    def _dicts(self, query: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """The rows of a query as dictionaries by column name."""
        result = self._db.execute(query, list(args))
        names = [column[0] for column in result.description or ()]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    @property
    def schema_version(self) -> int:
        """The schema version of the file (the DuckDB store's own numbering)."""
        with self._sql("read the store"):
            return self._version()

    @contextlib.contextmanager
    def _sql(self, what: str) -> Iterator[None]:
        """Turn a DuckDB error into a :class:`StoreError` naming the file (cause chained)."""
        import duckdb

        try:
            yield
        except duckdb.Error as error:
            raise StoreError(
                message=f"cannot {what}: {_first_line(error)}", path=self.path
            ) from error
