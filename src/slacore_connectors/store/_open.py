"""Opening a store's SQLite file, the part of :class:`SQLiteStore` that: checks a file is
a slacore store before anything is written to it or beside it; opens it to write (write-ahead
log, migrations) or read-only (as immutable when its folder cannot hold the log's index);
takes the sync lock; and words SQLite's errors as one-line store errors naming the file.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from slacore_connectors.store._lock import _Locking
from slacore_connectors.store.base import StoreError
from slacore_connectors.store.migrations import MIGRATIONS, SCHEMA_VERSION

_MARKS = frozenset({"cursors", "rejected", "sync_runs"})
"""Tables every slacore store has had since schema version 1: with ``PRAGMA user_version``,
what tells a slacore store from another application's database."""

_WRITE_CACHE_KIB = 65_536
"""The page cache of a connection that writes, in KiB (SQLite's default is 2,000)."""

_READS_FROM = 1
"""The oldest schema version a store opened read-only is read in, without migrating it (the
reader adapts to what the versions since added)."""


def _cannot_share(error: sqlite3.Error) -> bool:
    """Whether ``error`` says a read-only connection could not make a write-ahead log's
    shared-memory file (a read-only folder)."""
    code = getattr(error, "sqlite_errorcode", 0) & 0xFF
    return code in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY)


class _Opening(_Locking):
    """The opening of a store's file, a mixin of :class:`SQLiteStore`: it checks, opens,
    migrates and locks ``path``, and turns SQLite errors into :class:`StoreError`."""

    path: str
    read_only: bool
    _db: sqlite3.Connection

    def _open_to_read(self, timeout: float) -> sqlite3.Connection:
        """A read-only connection to the existing file, checked to be a slacore store."""
        self._check_file(timeout, new_ok=False)
        uri = f"{Path(self.path).absolute().as_uri()}?mode=ro"
        try:
            try:
                return self._identified(uri, timeout, new_ok=False)
            except sqlite3.OperationalError as error:
                # A store in write-ahead-log mode needs its "-shm" index, which a read-only
                # folder cannot hold. With no log left to read, the file alone is the whole
                # store: read it as immutable.
                if not _cannot_share(error) or self._log_pending():
                    raise
                return self._identified(f"{uri}&immutable=1", timeout, new_ok=False)
        except sqlite3.Error as error:
            raise self._error("open the store", error, timeout) from error

    def _check_file(self, timeout: float, *, new_ok: bool) -> None:
        """Refuse a file that is not a slacore store before anything is written to it, or
        beside it (a write-ahead log's index, a lock file).

        With ``new_ok``, an empty database (a file another process is creating the store in
        right now, or an empty file) passes: a store is made in it.
        """
        file = Path(self.path)
        if file.is_dir():
            raise StoreError(message="not a slacore store: it is a folder", path=self.path)
        if not file.exists():
            raise StoreError(message="no store here: run slacore sync first", path=self.path)
        uri = f"{file.absolute().as_uri()}?mode=ro"
        try:
            if not self._log_pending():
                try:
                    # A look at the file alone, as immutable: that makes no file beside it.
                    self._identified(f"{uri}&immutable=1", timeout, new_ok=new_ok).close()
                    return
                except (sqlite3.Error, StoreError):
                    if not self._log_pending():
                        raise
            # The file alone is not the whole database: its write-ahead log holds changes
            # not yet copied into it (a writer is at work, or was killed). Look at both.
            self._identified(uri, timeout, new_ok=new_ok).close()
        except sqlite3.Error as error:
            raise self._error("open the store", error, timeout) from error

    def _log_pending(self) -> bool:
        """Whether the store's write-ahead log holds changes (not empty)."""
        log = Path(f"{self.path}-wal")
        return log.is_file() and log.stat().st_size > 0

    def _identified(self, uri: str, timeout: float, *, new_ok: bool) -> sqlite3.Connection:
        db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=timeout)
        try:
            db.row_factory = sqlite3.Row
            # Both read in one transaction: read apart, a store another process was creating
            # could give the version before its first migration and the tables after it, and
            # look like another application's database.
            db.execute("BEGIN")
            try:
                version = int(db.execute("PRAGMA user_version").fetchone()[0])
                names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
            finally:
                db.execute("COMMIT")
            if version == 0 and not names:
                if new_ok:
                    return db
                raise StoreError(
                    message="not a slacore store: the database is empty", path=self.path
                )
            if version == 0 or not names >= _MARKS:
                raise StoreError(
                    message="not a slacore store: it is another application's database",
                    path=self.path,
                )
            self._check_version(version)
            if version < _READS_FROM and not new_ok:
                raise StoreError(
                    message=(
                        f"the store has schema version {version}, older than this slacore's "
                        f"{SCHEMA_VERSION}: run slacore sync to bring it up to date"
                    ),
                    path=self.path,
                )
        except BaseException:
            db.close()
            raise
        return db

    def _connect(self, timeout: float) -> None:
        if self.path != ":memory:":
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(
                    message=f"cannot create the store's folder: {error.strerror or error}",
                    path=self.path,
                ) from error
            if Path(self.path).exists():
                self._check_file(timeout, new_ok=True)
        try:
            # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE ... COMMIT).
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=timeout)
        except sqlite3.Error as error:
            raise self._error("open the store", error, timeout) from error
        self._db.row_factory = sqlite3.Row
        try:
            self._use_wal(timeout)
            # In write-ahead-log mode, NORMAL syncs the log at each checkpoint, not at each
            # commit: a committed batch survives a killed process (the guarantee a resumed
            # sync rests on); a power cut may lose the last batches, with their cursors, in
            # one piece, which the next sync reads again. FULL would sync every batch.
            self._db.execute("PRAGMA synchronous=NORMAL")
            # A sync writes index pages all over: keep up to 64 MiB of them in memory (the
            # default is 2 MiB, which a store of a million records outgrows); a batch's
            # staged keys stay in memory.
            self._db.execute(f"PRAGMA cache_size = -{_WRITE_CACHE_KIB}")
            self._db.execute("PRAGMA temp_store = MEMORY")
            self._migrate()
            # Find out now, not at the first write, that the store cannot be written: a
            # write (of the version it has), rolled back.
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(f"PRAGMA user_version = {self._checked_version()}")
            finally:
                self._db.execute("ROLLBACK")
        except sqlite3.Error as error:
            self._db.close()
            raise self._error("open the store to write", error, timeout) from error
        except BaseException:
            self._db.close()
            raise

    def _error(self, what: str, error: sqlite3.Error, timeout: float | None = None) -> StoreError:
        """``error`` as the one-line store error the user sees, naming the file."""
        code = getattr(error, "sqlite_errorcode", 0) & 0xFF
        if code == sqlite3.SQLITE_NOTADB:
            message = f"not a slacore store: {error}"
        elif code == sqlite3.SQLITE_CORRUPT:
            message = f"damaged: {error}"
        elif code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) and timeout is not None:
            message = f"the store is busy after {timeout:g} s: {error}"
        else:
            message = f"cannot {what}: {error}"
        return StoreError(message=message, path=self.path)

    @property
    def schema_version(self) -> int:
        """The schema version of the file."""
        with self._sql("read the store"):
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    @contextlib.contextmanager
    def _sql(self, what: str) -> Iterator[None]:
        """Turn an SQLite error into a :class:`StoreError` naming the file (cause chained)."""
        try:
            yield
        except sqlite3.Error as error:
            raise self._error(what, error) from error

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
                for statement in MIGRATIONS[number - 1]:
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _checked_version(self) -> int:
        return self._check_version(int(self._db.execute("PRAGMA user_version").fetchone()[0]))

    def _check_version(self, version: int) -> int:
        if version > SCHEMA_VERSION:
            raise StoreError(
                message=(
                    f"the store has schema version {version}, newer than this slacore's "
                    f"{SCHEMA_VERSION}: upgrade slacore"
                ),
                path=self.path,
            )
        return version
