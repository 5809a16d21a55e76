"""The store: records, cursors, rejected rows and sync runs, kept in one SQLite file."""

from __future__ import annotations

from slacore_connectors.store.base import BatchResult, Store, StoreError, SyncRun
from slacore_connectors.store.migrations import SCHEMA_VERSION
from slacore_connectors.store.sqlite import SQLiteStore

__all__ = [
    "SCHEMA_VERSION",
    "BatchResult",
    "SQLiteStore",
    "Store",
    "StoreError",
    "SyncRun",
]
