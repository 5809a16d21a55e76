"""The period results a DuckDB store keeps, and what changed in it after a watermark.

Private to :mod:`slacore_connectors.store.duckdb`: :class:`DuckDBStore` inherits them. The
values are those of :mod:`slacore_connectors.store.periods`, made of the rows as the SQLite
store makes them (:func:`~slacore_connectors.store._period_results.store_changes`,
:func:`~slacore_connectors.store._period_results.kept_periods`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slacore_connectors.store._duck_open import _DuckOpening, _first, _run, _run_many
from slacore_connectors.store._period_results import (
    CHANGE_COLUMNS,
    kept_periods,
    period_rows,
    store_changes,
)
from slacore_connectors.store._tables import _us
from slacore_connectors.store.periods import PERIOD_TABLES, KeptPeriods, StoreChanges, Watermark


class _DuckPeriodResults(_DuckOpening):
    """Kept period results (``period_results``, ``period_marks``) and the changes after a
    watermark, found by ``row_id`` and ``seen_to``."""

    def watermark(self, *, at: datetime) -> Watermark:
        """Where the store stands now: the largest row id of each table a report reads, and
        ``at`` (aware), the moment from which a row closed later is found."""
        with self._sql("read the store"):
            rows = {}
            for name in PERIOD_TABLES:
                row = _first(self._db, f"SELECT max(row_id) FROM {name}")
                rows[name] = int(row[0] or 0) if row else 0
        return Watermark(rows=rows, at=at)

    def changes_since(self, mark: Watermark) -> StoreChanges:
        """What changed after ``mark``: rows stored after it (a larger ``row_id``), or closed
        at or after its time. Costs a scan of the two bookkeeping columns, not of the rows."""
        at = _us(mark.at)
        found: dict[str, list[Any]] = {}
        with self._sql("read the store"):
            for name in PERIOD_TABLES:
                column = CHANGE_COLUMNS[name]
                found[name] = [
                    row[0]
                    for row in _run(
                        self._db,
                        f"SELECT {column} FROM {name} WHERE row_id > ? "
                        "OR (seen_to IS NOT NULL AND seen_to >= ?)",
                        [mark.rows.get(name, 0), at],
                    )
                ]
        return store_changes(found)

    def period_results(self, fingerprint: str) -> KeptPeriods | None:
        """The period results kept for an agreement (its fingerprint), or ``None``."""
        with self._sql("read the store"):
            mark = _first(
                self._db,
                "SELECT mark, settled FROM period_marks WHERE fingerprint = ?",
                [fingerprint],
            )
            if mark is None:
                return None
            rows = self._dicts(
                'SELECT label, "start", "end", met, since, leads FROM period_results '
                'WHERE fingerprint = ? ORDER BY "start"',
                [fingerprint],
            )
        return kept_periods(mark[0], mark[1], rows)

    def keep_period_results(self, fingerprint: str, kept: KeptPeriods) -> None:
        """Replace the period results kept for an agreement (its fingerprint), in one
        transaction.

        Raises:
            StoreError: The store cannot be written; the results kept before stay.

        """
        rows = period_rows(fingerprint, kept)
        with self._transaction("keep the period results") as db:
            _run(db, "DELETE FROM period_results WHERE fingerprint = ?", [fingerprint])
            if rows:
                _run_many(
                    db,
                    'INSERT INTO period_results (fingerprint, label, "start", "end", met, '
                    "since, leads) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            _run(
                db,
                "INSERT INTO period_marks (fingerprint, mark, settled) VALUES (?, ?, ?) "
                "ON CONFLICT (fingerprint) DO UPDATE SET mark = excluded.mark, "
                "settled = excluded.settled",
                [fingerprint, kept.mark.to_json(), int(kept.settled)],
            )
