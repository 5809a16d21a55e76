"""The store interface and what it answers: batch results, sync runs, store errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol, Self, runtime_checkable

import attrs

from slacore.connector import Batch, ColumnBatch, Cursor, RejectedRecord, Stream
from slacore.errors import SlacoreError, ValidationError
from slacore_connectors.store.periods import KeptPeriods, StoreChanges, Watermark

__all__ = [
    "BatchResult",
    "ColumnWriter",
    "SourceConnectorError",
    "Store",
    "StoreError",
    "SyncLockedError",
    "SyncRun",
]


@attrs.frozen(auto_exc=True, kw_only=True)
class StoreError(SlacoreError, RuntimeError):
    """The store cannot be opened or written: a newer schema, a damaged file, a bad path.

    Attributes:
        path: The store's location.

    """

    path: str | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@attrs.frozen(auto_exc=True, kw_only=True)
class SourceConnectorError(StoreError):
    """A source is synced with another connector than the one whose records and cursors the
    store holds under its name (:meth:`Store.claim_source`).

    Attributes:
        source_name: The source.
        owner: The connector that owns it in the store.
        connector: The connector refused.

    """

    source_name: str
    owner: str
    connector: str


@attrs.frozen(auto_exc=True, kw_only=True)
class SyncLockedError(SlacoreError, RuntimeError):
    """Another sync holds the store's lock.

    Attributes:
        lock: The lock (for a SQLite store, the lock file beside it).

    """

    lock: str


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
        deleted: Records the batch deleted (:attr:`~slacore.connector.Batch.deleted`) whose
            current version the store closed; an id it did not hold, or held deleted
            already, counts nothing.

    """

    stream: Stream
    read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    deleted: int = 0

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
        finished_at: When it ended, or ``None`` if that is not known (a killed run).
        status: ``running`` (still going, or killed and not yet found by a later sync),
            ``success``, ``failed`` (a source failed), or ``partial``: stopped before the end,
            by a signal (SIGTERM, Ctrl-C), or killed and marked by the next sync
            (:meth:`Store.abandon_runs`, error ``abandoned: ...``). What a partial run stored
            is kept; the next sync goes on from its cursors.
        full: Whether it read from scratch.
        counts: Per stream: read, stored, unchanged, rejected, deleted and batches (runs
            recorded before deletions existed have no ``deleted``).
        error: Why it failed or stopped, in one line.
        connector: The connector that read the source, or ``None`` for a run recorded
            before schema version 3.

    """

    run_id: int
    source_name: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    full: bool
    counts: Mapping[str, Mapping[str, int]]
    error: str | None
    connector: str | None = None


@runtime_checkable
class Store(Protocol):
    """The store interface that sync jobs, the report and the command line use.

    :func:`~slacore_connectors.store.open_store` gives one; :class:`SQLiteStore` is the
    embedded implementation. Every implementation keeps these promises:

    - **Idempotent upserts.** Every record has a natural key (``slacore.model.natural_key``).
      Storing the same record twice leaves one; storing a changed record keeps the latest as
      current.
    - **One transaction per batch, cursor included.** A job killed at any moment resumes from
      the last stored batch with nothing lost and nothing duplicated.
    - **Nothing dropped.** Rejected records are kept with the reason and the raw vendor record.
    - **History.** Reading ``as_of=`` a past moment returns exactly what the store knew then.

    A store is a context manager that closes itself on leaving the block.
    """

    @property
    def schema_version(self) -> int:
        """The version of the store's schema."""
        ...

    def __enter__(self) -> Self:
        """The store itself, closed when the block ends."""
        ...

    def __exit__(self, *exc: object) -> None:
        """Close the store."""
        ...

    def close(self) -> None:
        """Release the store's connection, and its sync lock if it was opened locked."""
        ...

    def lock(self) -> AbstractContextManager[None]:
        """Hold the store's sync lock for a block: one sync at a time on a store.

        The lock works across processes, on Windows as on POSIX. It is not re-entrant: a
        second ``lock()`` while the first is held fails like another process would.
        :func:`~slacore_connectors.store.open_store` with ``locked=True`` takes the same lock
        before it opens (or creates) anything.

        Raises:
            SyncLockedError: Another holder has the lock; nothing was read or written.

        """
        ...

    def cursor(self, source_name: str, stream: Stream | str) -> Cursor | None:
        """The stored cursor of a source's stream, or ``None`` before its first batch."""
        ...

    def write_batch(
        self, source_name: str, batch: Batch, *, run_id: int, seen_at: datetime
    ) -> BatchResult:
        """Store a batch, its rejected records, its deletions and its cursor in one
        transaction.

        A deleted record (:attr:`~slacore.connector.Batch.deleted`) has its current version
        closed at ``seen_at``: it leaves :meth:`records` but stays in ``as_of`` reads before;
        a deleted lead's stage changes, hand-offs, touches and owner changes of the source
        are closed with it, and the stream's rejected records of the deleted id leave
        :meth:`rejected` (the source no longer has the record to fix).

        Raises:
            StoreError: The store refused the write; nothing of the batch was stored.

        """
        ...

    def records(
        self,
        stream: Stream | str,
        *,
        as_of: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        source_name: str | None = None,
        invalid: Callable[[ValidationError], object] | None = None,
    ) -> Iterator[Any]:
        """The current (or ``as_of``) records of a stream, in order of their main time.

        Args:
            stream: Which records (``"leads"``, ``Stream.TOUCHES``...).
            as_of: Return the versions current at that moment (what the store knew then).
            since: Only records whose main time is at or after this.
            until: ... and before this.
            source_name: Only records of this source.
            invalid: Called with the error of each stored row the model refuses (a placeholder
                date an older slacore stored), which is then skipped; without it such a row
                is a :class:`StoreError`.

        """
        ...

    def columns(
        self,
        stream: Stream | str,
        *,
        as_of: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        source_name: str | None = None,
        invalid: Callable[[ValidationError], object] | None = None,
    ) -> Any:
        """The records :meth:`records` gives with the same arguments, in the same order, as
        one ``pyarrow.Table``: what the report and the rules' column path
        (``evaluate_columns``) read, without an object per record.

        One column per core field of the stream (:func:`slacore.connector.core_fields`:
        the same names, in the same order), nulls for missing values:

        - times: ``timestamp[us, tz="UTC"]``, the instant; the offset a time was stored
          with is not kept (:meth:`records` gives it back, an Arrow column has one zone);
        - money: decimal (``decimal128(38, s)``, ``s`` the most places an amount has, as
          :mod:`slacore._arrow` makes it);
        - enums (teams, channels): their string value; flags: ``bool``; text: ``string``.

        A stored row the model refuses goes to ``invalid`` and is left out, exactly as in
        :meth:`records`; without ``invalid`` it is a :class:`StoreError`.

        Raises:
            StoreError: The store cannot be read, or holds a row the model refuses and
                ``invalid`` is not given.
            ModuleNotFoundError: pyarrow is not installed (the ``sync`` extra installs it).

        """
        ...

    def count(self, stream: Stream | str, *, as_of: datetime | None = None) -> int:
        """How many records of a stream the store holds (now, or ``as_of``), without reading
        them: a stored row the model would refuse is counted (:meth:`records` refuses it)."""
        ...

    def rejected(
        self, *, source_name: str | None = None, as_of: datetime | None = None
    ) -> list[RejectedRecord]:
        """The rejected records kept now (or ``as_of``: first seen by then, and not yet
        replaced by a read of their stream from the start), in order.

        A batch that begins a read from the start (:attr:`~slacore.connector.Batch.from_start`)
        replaces its stream's rejected records: a row rejected again keeps when it was first
        seen, and one no longer rejected leaves the current list, but stays in the past.
        """
        ...

    def source_connector(self, source_name: str) -> str | None:
        """The connector that owns a source, or ``None`` if none has claimed it yet."""
        ...

    def claim_source(self, source_name: str, connector: str, *, at: datetime | None = None) -> None:
        """Record ``connector`` as the owner of a source, or check that it is: a source
        whose records and cursors another connector wrote is refused, so two connectors'
        records never mix under one name.

        Raises:
            SourceConnectorError: Another connector owns the source and the store holds
                what it read; nothing was written.

        """
        ...

    def forget_source(self, source_name: str) -> int:
        """Delete every version of a source's records, its rejected records, cursors and
        connector (its runs stay): its next sync starts afresh. Returns the rows deleted."""
        ...

    def start_run(
        self,
        source_name: str,
        *,
        connector: str | None = None,
        full: bool = False,
        at: datetime | None = None,
    ) -> int:
        """Record the start of a sync run (status ``running``); returns its id."""
        ...

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
        ...

    def abandon_runs(self) -> list[int]:
        """Mark the runs left ``running`` by a sync that is gone as ``partial``, abandoned.

        A sync calls it once it holds the sync lock: no other sync can be running then, so
        a run still ``running`` was killed before it could record its end.

        Returns:
            The ids of the runs marked, oldest first.

        Raises:
            StoreError: This store does not hold the sync lock; nothing was marked.

        """
        ...

    def runs(self, source_name: str | None = None) -> list[SyncRun]:
        """The recorded sync runs, oldest first."""
        ...

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every table's current rows as plain tuples, bookkeeping columns left out.

        For comparing two stores row for row (e.g. after a killed and resumed sync).
        """
        ...

    def watermark(self, *, at: datetime) -> Watermark:
        """Where the store stands now: the largest row id of each table a report reads, and
        ``at`` (aware), the moment from which a row closed later is found."""
        ...

    def changes_since(self, mark: Watermark) -> StoreChanges:
        """What changed after ``mark``: rows stored after it, or closed at or after its time.

        Costs what changed, not what the store holds.
        """
        ...

    def period_results(self, fingerprint: str) -> KeptPeriods | None:
        """The period results kept for an agreement (its fingerprint), or ``None``: none
        kept, or a store of an older schema opened read-only."""
        ...

    def keep_period_results(self, fingerprint: str, kept: KeptPeriods) -> None:
        """Replace the period results kept for an agreement (its fingerprint), in one
        transaction. :meth:`forget_source` drops every agreement's.

        Raises:
            StoreError: The store cannot be written; the results kept before stay.

        """
        ...


@runtime_checkable
class ColumnWriter(Protocol):
    """The optional capability of a :class:`Store` that takes a batch as columns.

    A sync stores a connector's :class:`~slacore.connector.ColumnBatch` es through
    :meth:`write_columns` when its store offers it (``isinstance(store, ColumnWriter)``), and
    reads record objects otherwise. :class:`SQLiteStore` offers it.
    """

    def write_columns(
        self, source_name: str, batch: ColumnBatch, *, run_id: int, seen_at: datetime
    ) -> BatchResult:
        """:meth:`Store.write_batch` for a column batch, with every promise it keeps (one
        transaction, cursor included): what it stores, and the :class:`BatchResult`, are
        what ``write_batch`` stores and answers for the same batch with record objects
        (:meth:`ColumnBatch.to_batch <slacore.connector.ColumnBatch.to_batch>`).

        Raises:
            StoreError: The store refused the write; nothing of the batch was stored.

        """
        ...


@runtime_checkable
class _StagesColumns(Protocol):
    """The DuckDB store's private capability: a column batch staged apart from its write.

    :meth:`_stage_columns` does no database work, so a sync calls it on the thread that
    reads the next batch, and hands its result to ``write_columns(..., staged=...)`` with the
    same batch. Private: a store's public surface is :class:`Store` and
    :class:`ColumnWriter`.
    """

    def _stage_columns(self, batch: ColumnBatch) -> Any:
        """The rows of ``batch`` as ``write_columns`` stages them (keys, digests, cells),
        for ``write_columns(..., staged=...)`` of the same batch; safe to call from another
        thread than the store's."""
        ...

    def write_columns(
        self,
        source_name: str,
        batch: ColumnBatch,
        *,
        run_id: int,
        seen_at: datetime,
        staged: Any = None,
    ) -> BatchResult:
        """:meth:`ColumnWriter.write_columns`, with ``batch`` 's rows as
        :meth:`_stage_columns` staged them when ``staged`` is given.

        Raises:
            StoreError: The store refused the write; nothing of the batch was stored.

        """
        ...
