"""The period results a SQLite store keeps, and what changed in it after a watermark.

Private to :mod:`slacore_connectors.store.sqlite`: :class:`SQLiteStore` inherits them. The
values are those of :mod:`slacore_connectors.store.periods`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from slacore_connectors.store._open import _Opening
from slacore_connectors.store._tables import _from_us, _us
from slacore_connectors.store.periods import (
    PERIOD_TABLES,
    KeptPeriods,
    LeadIds,
    PeriodResult,
    StoreChanges,
    Watermark,
)

_PERIODS_FROM = 6
"""The schema version from which the store keeps period results (``period_results``,
``period_marks``) and indexes each read table's closed rows (``<table>_closed``)."""

_LEAD_EVENTS = ("touches", "stage_changes", "owner_changes")

CHANGE_COLUMNS = {
    name: {"handoffs": "time_us", "deals": "closed_at", "reps": "row_id"}.get(name, "lead_id")
    for name in PERIOD_TABLES
}
"""The column :meth:`_PeriodResults.changes_since` reads of each table's changed rows, what
:func:`store_changes` makes the changes of."""


class _PeriodResults(_Opening):
    """Kept period results (the tables ``period_results`` and ``period_marks``) and the
    changes after a watermark, found by ``row_id`` ranges and the ``<table>_closed`` index."""

    def watermark(self, *, at: datetime) -> Watermark:
        """Where the store stands now: the largest row id of each table a report reads, and
        ``at`` (aware), the moment from which a row closed later is found."""
        with self._sql("read the store"):
            rows = {
                name: int(self._db.execute(f"SELECT max(row_id) FROM {name}").fetchone()[0] or 0)
                for name in PERIOD_TABLES
            }
        return Watermark(rows=rows, at=at)

    def changes_since(self, mark: Watermark) -> StoreChanges:
        """What changed after ``mark``: rows stored after it (a larger ``row_id``), or closed
        at or after its time (``seen_to``, through the partial index of closed rows).

        Costs what changed, not what the store holds.
        """
        at = _us(mark.at)
        found: dict[str, list[Any]] = {}
        with self._sql("read the store"):
            for name in PERIOD_TABLES:
                column = CHANGE_COLUMNS[name]
                found[name] = [
                    row[0]
                    for row in self._db.execute(
                        f"SELECT {column} FROM {name} WHERE row_id > ? UNION ALL "
                        f"SELECT {column} FROM {name} WHERE seen_to IS NOT NULL AND seen_to >= ?",
                        (mark.rows.get(name, 0), at),
                    )
                ]
        return store_changes(found)

    def period_results(self, fingerprint: str) -> KeptPeriods | None:
        """The period results kept for an agreement (its fingerprint), or ``None``: none
        kept, or a store of an older schema opened read-only."""
        if self.schema_version < _PERIODS_FROM:
            return None
        with self._sql("read the store"):
            mark = self._db.execute(
                "SELECT mark, settled FROM period_marks WHERE fingerprint = ?", (fingerprint,)
            ).fetchone()
            if mark is None:
                return None
            rows = self._db.execute(
                "SELECT label, start, end, met, since, leads FROM period_results "
                "WHERE fingerprint = ? ORDER BY start",
                (fingerprint,),
            ).fetchall()
        return kept_periods(mark["mark"], mark["settled"], rows)

    def keep_period_results(self, fingerprint: str, kept: KeptPeriods) -> None:
        """Replace the period results kept for an agreement (its fingerprint), in one
        transaction. :meth:`forget_source` drops every agreement's.

        Raises:
            StoreError: The store cannot be written; the results kept before stay.

        """
        rows = [
            (
                fingerprint,
                r.label,
                r.start.isoformat(),
                r.end.isoformat(),
                None if r.met is None else int(r.met),
                r.since.isoformat(),
                r.leads.packed,
            )
            for r in kept.results
        ]
        with self._sql("keep the period results"):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM period_results WHERE fingerprint = ?", (fingerprint,))
                self._db.executemany(
                    "INSERT INTO period_results (fingerprint, label, start, end, met, since, "
                    "leads) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                self._db.execute(
                    "INSERT INTO period_marks (fingerprint, mark, settled) VALUES (?, ?, ?) "
                    "ON CONFLICT (fingerprint) DO UPDATE SET mark = excluded.mark, "
                    "settled = excluded.settled",
                    (fingerprint, kept.mark.to_json(), int(kept.settled)),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _forget_period_results(self) -> None:
        """Drop every agreement's kept results (inside the caller's transaction): rows
        deleted outright leave no trace a watermark could find."""
        if self.schema_version >= _PERIODS_FROM:
            self._db.execute("DELETE FROM period_results")
            self._db.execute("DELETE FROM period_marks")


def store_changes(found: Mapping[str, Sequence[Any]]) -> StoreChanges:
    """The changes of the rows found after a watermark, per table of :data:`PERIOD_TABLES`:
    hand-offs' ``time_us``, deals' ``closed_at`` (ISO text), reps' ``row_id`` and the other
    tables' ``lead_id``."""
    everything = len(found["reps"])
    closed: list[datetime] = []
    for value in found["deals"]:
        if value is None:
            continue  # a deal still open counts in no period
        try:
            closed.append(datetime.fromisoformat(value).astimezone(UTC))
        except (TypeError, ValueError, OverflowError):
            everything += 1  # a time no model reads (a placeholder 9999-12-31)
    handoffs: list[datetime] = []
    for value in found["handoffs"]:
        try:
            handoffs.append(_from_us(value))
        except (TypeError, OverflowError):
            everything += 1
    return StoreChanges(
        handoffs=tuple(handoffs),
        leads=frozenset(str(v) for name in _LEAD_EVENTS for v in found[name]),
        deals_closed=tuple(closed),
        everything=everything,
    )


def kept_periods(mark: str, settled: object, rows: Iterable[Mapping[str, Any]]) -> KeptPeriods:
    """The kept results of an agreement: its row of ``period_marks`` (``mark``, ``settled``)
    and its rows of ``period_results`` (by column name), oldest first."""
    return KeptPeriods(
        mark=Watermark.from_json(mark),
        settled=bool(settled),
        results=tuple(
            PeriodResult(
                label=row["label"],
                start=date.fromisoformat(row["start"]),
                end=date.fromisoformat(row["end"]),
                met=None if row["met"] is None else bool(row["met"]),
                since=date.fromisoformat(row["since"]),
                leads=LeadIds(bytes(row["leads"])),
            )
            for row in rows
        ),
    )
