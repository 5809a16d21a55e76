"""The store's schema migrations, in order; migration ``n`` brings the schema to version ``n``."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from slacore_connectors.store._tables import TABLES

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]


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
