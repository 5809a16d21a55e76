"""What a store keeps of evaluated periods, and how it says what changed since.

A report walks the escalation ladder over every period before the one it reports. A period
that has ended and whose every clock is decided cannot change with time alone, so its
verdict (shared goals met or missed, or no scorecard) is kept in the store as a
:class:`PeriodResult`, with the store's :class:`Watermark` at the moment it was kept. It
stays usable while nothing it depends on changed: :meth:`Store.changes_since
<slacore_connectors.store.Store.changes_since>` answers what changed after a watermark, at
the cost of what changed, not of the store.

:mod:`slacore_connectors.report.period_results` decides what is kept and when a kept result
is still valid; the store only keeps them and answers the changes.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Mapping
from datetime import date, datetime

import attrs

from slacore.errors import ValidationError

__all__ = [
    "PERIOD_TABLES",
    "KeptPeriods",
    "LeadIds",
    "PeriodResult",
    "StoreChanges",
    "Watermark",
]

PERIOD_TABLES = ("handoffs", "touches", "stage_changes", "owner_changes", "deals", "reps")
"""The tables a report reads, whose changes a kept period result depends on."""


@attrs.frozen(kw_only=True)
class Watermark:
    """Where the store stood when period results were kept.

    Attributes:
        rows: The largest ``row_id`` of each of :data:`PERIOD_TABLES` (0 for an empty
            table): a row stored later has a larger one.
        at: The moment (aware): a row closed later (changed, deleted) has its ``seen_to``
            at or after it.

    """

    rows: Mapping[str, int]
    at: datetime

    def to_json(self) -> str:
        """The watermark as one JSON text (``at`` in ISO 8601)."""
        return json.dumps({"rows": dict(self.rows), "at": self.at.isoformat()}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Watermark:
        """The watermark :meth:`to_json` wrote.

        Raises:
            ValidationError: ``text`` is not such a watermark (field ``mark``).

        """
        try:
            data = json.loads(text)
            rows = {str(k): int(v) for k, v in data["rows"].items()}
            at = datetime.fromisoformat(data["at"])
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise ValidationError(
                message=f"expected a stored watermark, got {text!r}", field="mark"
            ) from error
        if at.tzinfo is None:
            raise ValidationError(message="expected an aware watermark time", field="mark")
        return cls(rows=rows, at=at)


@attrs.frozen
class LeadIds:
    """The ids of a period's leads, kept packed (zlib of the sorted ids as a JSON list): a
    period holds up to millions, and they are unpacked only when a lead's events changed.

    Attributes:
        packed: The packed ids, as the store keeps them.

    """

    packed: bytes

    @classmethod
    def of(cls, ids: Iterable[str]) -> LeadIds:
        """The ids, packed."""
        return cls(zlib.compress(json.dumps(sorted(set(ids))).encode()))

    def ids(self) -> frozenset[str]:
        """The ids, unpacked."""
        return frozenset(json.loads(zlib.decompress(self.packed)))

    def isdisjoint(self, other: frozenset[str]) -> bool:
        """Whether none of ``other`` is among the ids (unpacked only if ``other`` is not
        empty)."""
        return not other or self.ids().isdisjoint(other)


@attrs.frozen(kw_only=True)
class PeriodResult:
    """The verdict of one ended, decided period for one agreement.

    Attributes:
        label: The period (``"2020-05"``).
        start: Its first day.
        end: Its last day.
        met: Whether the shared goals were met; ``None`` when the period had no scorecard
            (nothing could be measured).
        since: The first day of the history the period was evaluated in (the report reads
            the records from there).
        leads: The ids of the leads of the period's hand-offs: a touch, stage change or
            owner change of one of them, stored or closed later, makes the result stale.

    """

    label: str
    start: date
    end: date
    met: bool | None
    since: date
    leads: LeadIds


@attrs.frozen(kw_only=True)
class KeptPeriods:
    """An agreement's kept period results and the watermark they were kept at.

    Attributes:
        mark: The store's watermark when they were kept.
        results: One per kept period, oldest first.
        settled: Whether every period that had ended then was kept (none was waiting for a
            clock to run out).

    """

    mark: Watermark
    results: tuple[PeriodResult, ...] = ()
    settled: bool = True


@attrs.frozen(kw_only=True)
class StoreChanges:
    """What changed in the store after a watermark: the rows of :data:`PERIOD_TABLES` stored
    after it, or closed (changed or deleted) at or after its time, by what a period result
    depends on.

    Attributes:
        handoffs: When each such hand-off was notified.
        leads: The lead ids of such touches, stage changes and owner changes.
        deals_closed: When each such deal closed (deals not closed left out).
        everything: Rows that make every period result stale: reps, and rows whose time
            the store cannot read.

    """

    handoffs: tuple[datetime, ...] = ()
    leads: frozenset[str] = frozenset()
    deals_closed: tuple[datetime, ...] = ()
    everything: int = 0

    @property
    def empty(self) -> bool:
        """Whether nothing a period result depends on changed."""
        return not (self.handoffs or self.leads or self.deals_closed or self.everything)
