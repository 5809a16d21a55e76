"""The store interface and what it answers: batch results, sync runs, store errors."""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import attrs

from slacore.connector.contract import Batch, Cursor, Stream
from slacore.errors import SlacoreError

__all__ = ["BatchResult", "Store", "StoreError", "SyncRun"]


@attrs.frozen(auto_exc=True, kw_only=True)
class StoreError(SlacoreError, RuntimeError):
    """The store cannot be opened or written: a newer schema, a damaged file, a bad path.

    Attributes:
        path: The store's location.

    """

    path: str | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


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
