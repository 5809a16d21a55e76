"""The store: records, cursors, rejected rows and sync runs, kept in one SQLite file."""

from __future__ import annotations

from slacore_connectors.store.sqlite import (
    SCHEMA_VERSION,
    BatchResult,
    SQLiteStore,
    Store,
    StoreError,
    SyncRun,
)

__all__ = [
    "SCHEMA_VERSION",
    "BatchResult",
    "SQLiteStore",
    "Store",
    "StoreError",
    "SyncRun",
]
