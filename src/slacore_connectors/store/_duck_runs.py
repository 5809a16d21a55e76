"""The sync runs a DuckDB store records (the table ``sync_runs``).

Private to :mod:`slacore_connectors.store.duckdb`: :class:`DuckDBStore` inherits them. A run
is read back by :func:`slacore_connectors.store._runs.sync_run`, as in the SQLite store.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from slacore_connectors.store._duck_open import _DuckOpening, _first, _run
from slacore_connectors.store._runs import _ABANDONED, sync_run
from slacore_connectors.store._tables import _us
from slacore_connectors.store.base import StoreError, SyncRun


class _DuckRuns(_DuckOpening):
    """The run records of a DuckDB store."""

    def start_run(
        self,
        source_name: str,
        *,
        connector: str | None = None,
        full: bool = False,
        at: datetime | None = None,
    ) -> int:
        """Record the start of a sync run (status ``running``); returns its id."""
        with self._sql("record the run"):
            row = _first(
                self._db,
                'INSERT INTO sync_runs (source_name, started_at, status, "full", connector) '
                "VALUES (?, ?, 'running', ?, ?) RETURNING run_id",
                [source_name, _us(at or datetime.now(UTC)), int(full), connector],
            )
        assert row is not None
        return int(row[0])

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
            _run(
                self._db,
                "UPDATE sync_runs SET finished_at = ?, status = ?, counts = ?, error = ? "
                "WHERE run_id = ?",
                [_us(at or datetime.now(UTC)), status, json.dumps(counts), error, run_id],
            )

    def abandon_runs(self) -> list[int]:
        """Mark the runs left ``running`` by a sync that is gone as ``partial``, abandoned
        (as :meth:`SQLiteStore.abandon_runs
        <slacore_connectors.store.SQLiteStore.abandon_runs>`).

        Raises:
            StoreError: This store does not hold the sync lock; nothing was marked.

        """
        if not self._locks:
            raise StoreError(
                message="abandoned runs are marked only by the holder of the sync lock",
                path=self.path,
            )
        with self._transaction("record the runs") as db:
            found = [
                int(row[0])
                for row in _run(
                    db, "SELECT run_id FROM sync_runs WHERE status = 'running' ORDER BY run_id"
                )
            ]
            _run(
                db,
                "UPDATE sync_runs SET status = 'partial', error = ? WHERE status = 'running'",
                [_ABANDONED],
            )
        return found

    def runs(self, source_name: str | None = None) -> list[SyncRun]:
        """The recorded sync runs, oldest first."""
        query = "SELECT * FROM sync_runs"
        args: list[Any] = []
        if source_name is not None:
            query += " WHERE source_name = ?"
            args.append(source_name)
        with self._sql("read the store"):
            return [sync_run(row) for row in self._dicts(query + " ORDER BY run_id", args)]
