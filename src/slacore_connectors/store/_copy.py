"""Copying a store into a new one, of either engine: every table, every version.

Private to the store: :func:`slacore_connectors.store.copy_store` is its front door.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from slacore_connectors.store._duck_open import _first, _run, _run_many
from slacore_connectors.store._tables import TABLES
from slacore_connectors.store.base import Store, StoreError
from slacore_connectors.store.duckdb import DuckDBStore
from slacore_connectors.store.migrations import SCHEMA_VERSION
from slacore_connectors.store.sqlite import SQLiteStore

_BOOKKEEPING = ("row_id", "source_name", "key", "digest", "seen_from", "seen_to", "last_seen")

_OTHER_TABLES: dict[str, tuple[str, ...]] = {
    "cursors": ("source_name", "stream", "cursor", "updated_at"),
    "sync_runs": (
        "run_id", "source_name", "started_at", "finished_at", "status", "full", "counts",
        "error", "connector",
    ),
    "rejected": (
        "rejected_id", "source_name", "stream", "origin", "line", "record_id", "field",
        "reason", "raw", "first_run", "last_run", "first_seen", "last_seen", "identity",
        "seen_to",
    ),
    "sources": ("source_name", "connector", "claimed_at"),
    "period_results": ("fingerprint", "label", "start", "end", "met", "since", "leads"),
    "period_marks": ("fingerprint", "mark", "settled"),
}  # fmt: skip
"""The tables besides the records', and their columns (the same in both engines)."""

_RECORD_TABLES = frozenset(table.name for table in TABLES.values())

_BESIDE = (".lock", "-wal", "-shm", "-journal", ".wal")
"""The files a store of either engine may have beside it: its sync lock, SQLite's logs and
DuckDB's."""

_CHUNK = 50_000
"""Rows copied at a time."""


def _tables() -> dict[str, tuple[str, ...]]:
    tables: dict[str, tuple[str, ...]] = {}
    for table in TABLES.values():
        timed = ("time_us",) if table.time_column else ()
        tables[table.name] = (*_BOOKKEEPING, *timed, *table.columns)
    return tables | _OTHER_TABLES


def copy_store(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> dict[str, int]:
    """Copy every table of the store at ``source`` (every version of every record, runs,
    cursors, rejected records, sources, kept period results) into a new store at
    ``target``, of the engine its name chooses (:func:`store_engine`). Afterwards both
    stores' :meth:`~Store.dump` are equal, and a sync goes on from the copy where it
    would have gone on from the original.

    The copy holds the source's sync lock (:meth:`Store.lock`, the one a sync takes) from
    before the first table is read until the last is written, and reads every table inside
    one read transaction: it is one consistent moment of the source, never the records
    before a sync's batch with the cursor after it. The new store is written under its own
    sync lock too.

    Returns:
        The rows copied, per table.

    Raises:
        StoreError: ``target`` exists (nothing is written then); ``source`` is missing, not
            a store, or an SQLite store of an older schema (a sync brings it up to date).
        SyncLockedError: A sync is running on ``source`` (or holds ``target``'s lock);
            nothing was copied.

    """
    from slacore_connectors.store import open_store, store_path

    if store_path(target).exists():
        raise StoreError(message="already exists: the copy goes into a new store", path=str(target))
    copied: dict[str, int] = {}
    with open_store(source, read_only=True) as src, _source_lock(src):
        if isinstance(src, SQLiteStore) and src.schema_version < SCHEMA_VERSION:
            raise StoreError(
                message=(
                    f"the store has schema version {src.schema_version}: run slacore sync "
                    "on it first, to bring it up to date"
                ),
                path=str(source),
            )
        dst = open_store(target, locked=True)
        try:
            with _snapshot(src):
                for name, columns in _tables().items():
                    copied[name] = _copy_table(src, dst, name, columns)
            if isinstance(dst, DuckDBStore):
                # The next run and rejection are numbered after the copied ones.
                for sequence, count in (
                    ("sync_run_ids", "SELECT max(run_id) FROM sync_runs"),
                    ("rejected_ids", "SELECT max(rejected_id) FROM rejected"),
                ):
                    top = (_first(dst._db, count) or (None,))[0] or 0
                    _run(dst._db, f"SELECT max(nextval('{sequence}')) FROM range(?)", [top])
        except BaseException:
            dst.close()
            # Nothing of a copy that failed is left: the store, its logs and its lock file
            # (the copy made them all: the target did not exist).
            made = Path(store_path(target))
            for leftover in (made, *(made.with_name(made.name + end) for end in _BESIDE)):
                leftover.unlink(missing_ok=True)
            raise
        dst.close()
    return copied


@contextlib.contextmanager
def _source_lock(src: Store) -> Iterator[None]:
    """The source's sync lock, held while it is copied: a sync started meanwhile is refused,
    and a copy started during a sync is refused with :class:`SyncLockedError`.

    A source in a folder where the lock file cannot be made (a read-only mount) is copied
    without it: no sync can write a store there, and the read transaction of
    :func:`_snapshot` keeps the copy consistent whatever happens.
    """
    with contextlib.ExitStack() as held:
        with contextlib.suppress(StoreError):  # not SyncLockedError: that one is raised
            held.enter_context(src.lock())
        yield


@contextlib.contextmanager
def _snapshot(src: Store) -> Iterator[None]:
    """One read transaction on the source around the reads of every table, so they all see
    the same moment even against a writer that ignores the sync lock."""
    db = src._db  # type: ignore[attr-defined]
    if isinstance(src, SQLiteStore):
        db.execute("BEGIN")  # DEFERRED: the snapshot is taken by the first SELECT
    else:
        _run(db, "BEGIN TRANSACTION")
    try:
        yield
    finally:
        if isinstance(src, SQLiteStore):
            db.execute("ROLLBACK")
        else:
            _run(db, "ROLLBACK")


def _copy_table(src: Store, dst: Store, name: str, columns: tuple[str, ...]) -> int:
    quoted = ", ".join(f'"{c}"' for c in columns)
    # SQLite's cursors share their connection's transaction; DuckDB's cursor() is another
    # connection, outside it, so DuckDB reads through the connection itself.
    db = src._db  # type: ignore[attr-defined]
    reader = db.cursor() if isinstance(src, SQLiteStore) else db
    reader.execute(f"SELECT {quoted} FROM {name}")
    total = 0
    try:
        while True:
            rows = reader.fetchmany(_CHUNK)
            if not rows:
                return total
            rows = [tuple(row) for row in rows]
            total += len(rows)
            _insert(dst, name, columns, quoted, rows)
    finally:
        if reader is not db:
            reader.close()


def _insert(
    dst: Store, name: str, columns: tuple[str, ...], quoted: str, rows: list[tuple[Any, ...]]
) -> None:
    marks = ", ".join("?" * len(columns))
    if isinstance(dst, SQLiteStore):
        dst._db.execute("BEGIN IMMEDIATE")
        dst._db.executemany(f"INSERT INTO {name} ({quoted}) VALUES ({marks})", rows)
        dst._db.execute("COMMIT")
        return
    assert isinstance(dst, DuckDBStore)
    if name in _RECORD_TABLES:
        data = {
            column: np.array(cells, dtype=object)
            for column, cells in zip(columns, zip(*rows, strict=True), strict=True)
        }
        dst._db.register("slacore_copied", data)
        try:
            _run(dst._db, f"INSERT INTO {name} ({quoted}) SELECT {quoted} FROM slacore_copied")
        finally:
            dst._db.unregister("slacore_copied")
        return
    _run_many(dst._db, f"INSERT INTO {name} ({quoted}) VALUES ({marks})", rows)
