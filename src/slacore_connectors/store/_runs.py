"""The sync runs a store records: their start, end, status and counts, and those abandoned.

Private to :mod:`slacore_connectors.store.sqlite`: :class:`SQLiteStore` inherits them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

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


class _Runs(_Opening):
    """The run records of a store (the table ``sync_runs``)."""

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
            cursor = self._db.execute(
                "INSERT INTO sync_runs (source_name, started_at, status, full, connector) "
                "VALUES (?, ?, 'running', ?, ?)",
                (source_name, started, int(full), connector),
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
        with self._sql("record the run"):
            self._db.execute(
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
        with self._sql("record the runs"):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                found = [
                    row[0]
                    for row in self._db.execute(
                        "SELECT run_id FROM sync_runs WHERE status = 'running' ORDER BY run_id"
                    )
                ]
                self._db.executemany(
                    "UPDATE sync_runs SET status = 'partial', error = ? WHERE run_id = ?",
                    [(_ABANDONED, run_id) for run_id in found],
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return found

    def runs(self, source_name: str | None = None) -> list[SyncRun]:
        """The recorded sync runs, oldest first."""
        query = "SELECT * FROM sync_runs"
        args: tuple[Any, ...] = ()
        if source_name is not None:
            query += " WHERE source_name = ?"
            args = (source_name,)
        with self._sql("read the store"):
            rows = self._db.execute(query + " ORDER BY run_id", args).fetchall()
        recorded = self.schema_version >= _CONNECTORS_FROM
        return [sync_run(row, recorded=recorded) for row in rows]


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
