"""The sync runs a store records: their start, end, status and counts, and those abandoned.

Private to the stores: :class:`_RunRecords` says what a run record is, once for both
engines, over the few statements each engine runs its own way (:class:`_Runs` for
:class:`SQLiteStore`, :class:`~slacore_connectors.store._duck_runs._DuckRuns` for
:class:`DuckDBStore`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slacore_connectors.store._open import _Opening
from slacore_connectors.store._tables import _from_us, _us
from slacore_connectors.store.base import StoreError, SyncRun

_CONNECTORS_FROM = 3
"""The schema version from which the store records each source's connector (the table
``sources``) and each run's (``sync_runs.connector``)."""

_ABANDONED = (
    "abandoned: the sync stopped before it recorded its end (killed, or its machine stopped); "
    "what it stored is kept, and the next sync went on from there"
)
"""The error of a run that a later sync found left ``running``."""

_START = (
    'INSERT INTO sync_runs (source_name, started_at, status, "full", connector) '
    "VALUES (?, ?, 'running', ?, ?)"
)


class _RunRecords:
    """The run records of a store (the table ``sync_runs``), the same on every engine.

    An engine gives the statements: :meth:`_started` (the insert of :data:`_START` and the
    new run's id), :meth:`_execute` (a statement and its rows), :meth:`_exclusive` (one
    write transaction) and :meth:`_run_rows` (rows by column name); and whether its runs
    record their connector (:meth:`_runs_name_connectors`).
    """

    path: str
    _locks: int  # sync locks held by this store object

    if TYPE_CHECKING:  # the engine's own (its _Opening), after this class in the MRO

        @contextlib.contextmanager
        def _sql(self, what: str) -> Iterator[None]: ...

    def _started(self, args: Sequence[Any]) -> int:
        raise NotImplementedError

    def _execute(self, query: str, args: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    def _exclusive(self, what: str) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError

    def _run_rows(self, query: str, args: Sequence[Any]) -> Sequence[Mapping[str, Any]]:
        raise NotImplementedError

    def _runs_name_connectors(self) -> bool:
        raise NotImplementedError

    def start_run(
        self,
        source_name: str,
        *,
        connector: str | None = None,
        full: bool = False,
        at: datetime | None = None,
    ) -> int:
        """Record the start of a sync run (status ``running``) of a source read by
        ``connector``; returns its id."""
        started = _us(at or datetime.now(UTC))
        with self._sql("record the run"):
            return self._started((source_name, started, int(full), connector))

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
        with self._sql("record the run"):
            self._execute(
                "UPDATE sync_runs SET finished_at = ?, status = ?, counts = ?, error = ? "
                "WHERE run_id = ?",
                (_us(at or datetime.now(UTC)), status, json.dumps(counts), error, run_id),
            )

    def abandon_runs(self) -> list[int]:
        """Mark the runs left ``running`` by a sync that is gone as ``partial``, abandoned.

        Only the holder of the sync lock may call it: while it holds the lock no other sync
        runs, so a run still ``running`` is one whose process died (killed, or its machine
        stopped) before it could record its end. Such a run is marked ``partial`` with the
        error ``abandoned: ...``; its ``finished_at`` stays unknown (``None``). What it stored
        is kept, and the next sync goes on from its cursors.

        Returns:
            The ids of the runs marked, oldest first.

        Raises:
            StoreError: This store does not hold the sync lock (:meth:`lock`, or opened with
                ``locked=True``); nothing was marked.

        """
        if not self._locks:
            raise StoreError(
                message="abandoned runs are marked only by the holder of the sync lock",
                path=self.path,
            )
        with self._exclusive("record the runs"):
            found = [
                int(row[0])
                for row in self._execute(
                    "SELECT run_id FROM sync_runs WHERE status = 'running' ORDER BY run_id"
                )
            ]
            self._execute(
                "UPDATE sync_runs SET status = 'partial', error = ? WHERE status = 'running'",
                (_ABANDONED,),
            )
        return found

    def runs(self, source_name: str | None = None) -> list[SyncRun]:
        """The recorded sync runs, oldest first."""
        query = "SELECT * FROM sync_runs"
        args: tuple[Any, ...] = ()
        if source_name is not None:
            query += " WHERE source_name = ?"
            args = (source_name,)
        with self._sql("read the store"):
            rows = self._run_rows(query + " ORDER BY run_id", args)
            recorded = self._runs_name_connectors()
        return [sync_run(row, recorded=recorded) for row in rows]


class _Runs(_RunRecords, _Opening):
    """The run records of an SQLite store."""

    def _started(self, args: Sequence[Any]) -> int:
        cursor = self._db.execute(_START, args)
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def _execute(self, query: str, args: Sequence[Any] = ()) -> list[Any]:
        return self._db.execute(query, args).fetchall()

    @contextlib.contextmanager
    def _exclusive(self, what: str) -> Iterator[None]:
        with self._sql(what):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _run_rows(self, query: str, args: Sequence[Any]) -> Sequence[Mapping[str, Any]]:
        rows: list[Mapping[str, Any]] = self._db.execute(query, args).fetchall()
        return rows

    def _runs_name_connectors(self) -> bool:
        return self.schema_version >= _CONNECTORS_FROM


def sync_run(row: Mapping[str, Any], *, recorded: bool = True) -> SyncRun:
    """The run of a row of the table ``sync_runs`` (by column name); ``recorded``: whether
    the store records each run's connector (schema version 3 on)."""
    return SyncRun(
        run_id=row["run_id"],
        source_name=row["source_name"],
        started_at=_from_us(row["started_at"]),
        finished_at=None if row["finished_at"] is None else _from_us(row["finished_at"]),
        status=row["status"],
        full=bool(row["full"]),
        counts=json.loads(row["counts"]),
        error=row["error"],
        connector=row["connector"] if recorded else None,
    )
