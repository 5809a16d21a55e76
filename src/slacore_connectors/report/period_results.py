"""Stored period results: the escalation ladder's earlier periods, kept instead of evaluated.

A report walks the ramifications ladder over every period from the first stored hand-off to
the one it reports, and each of those periods costs a full evaluation. A period that has
ended, whose every response and cadence clock is decided (none pending or at risk) and none
of whose leads has a touch, stage change or owner change dated after the moment of
evaluation, cannot change with time alone: only a change in the store can change it. Its
verdict is kept (:class:`~slacore_connectors.store.periods.PeriodResult`), with the store's
watermark, for the agreement's :func:`fingerprint` (its whole content and the versions of
slacore and of the calendar data), so a changed agreement or engine never reuses one.

A kept result stays valid while nothing it depends on changed after the watermark: no
hand-off notified in the period, no touch, stage change or owner change of one of its leads,
no deal closed in it (current or former version) was stored or closed, and no rep at all.
``slacore forget`` drops every kept result.

The sync keeps them (:mod:`slacore_connectors.report.history`); a report (read-only) uses a
valid one instead of evaluating that period, and evaluates any other exactly as before. The
period reported is always evaluated, and an ``as_of`` report uses none.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs

import slacore
from slacore.agreement import Agreement
from slacore.calendar.periods import PeriodSpan
from slacore.errors import ValidationError
from slacore.planning.scorecards import Scorecard
from slacore.rules.cadence_report import CadenceReport
from slacore.rules.response_report import ResponseReport
from slacore_connectors.store.base import Store
from slacore_connectors.store.periods import (
    KeptPeriods,
    LeadIds,
    PeriodResult,
    StoreChanges,
    Watermark,
)

__all__ = ["PeriodLedger", "fingerprint"]

_EVENTS = ("touches", "stage_changes", "owner_changes")


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def fingerprint(agreement: Agreement) -> str | None:
    """What a kept period result is kept for: a digest of the agreement's whole content (its
    file's path left out) with the versions of slacore, Python, ``holidays`` and ``tzdata``.

    Returns ``None`` when the agreement has no canonical text (an object in it shows only
    its address): nothing is kept for it then.
    """
    text = repr(attrs.evolve(agreement, source=None))
    if " at 0x" in text:
        return None
    versions = (
        slacore.__version__,
        platform.python_version(),
        _version("holidays"),
        _version("tzdata"),
    )
    return hashlib.sha256("\x1f".join((*versions, text)).encode()).hexdigest()


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)


def _stale(result: PeriodResult, changes: StoreChanges, zone: ZoneInfo) -> bool:
    """Whether a change after the watermark touches what ``result`` was evaluated on."""
    if changes.everything or not result.leads.isdisjoint(changes.leads):
        return True
    first = _start_of(result.start, zone)
    stop = _start_of(result.end + timedelta(days=1), zone)
    if any(first <= t < stop for t in changes.handoffs):
        return True
    try:
        days = [t.astimezone(zone).date() for t in changes.deals_closed]
    except OverflowError:  # a time at the very end of the calendar, in this zone
        return True
    return any(result.start <= day <= result.end for day in days)


def _decided(responses: Iterable[ResponseReport], cadences: Iterable[CadenceReport]) -> bool:
    summaries = [r.summary for r in responses] + [c.summary for c in cadences]
    return all(s.pending == 0 and s.at_risk == 0 for s in summaries)


class PeriodLedger:
    """The kept period results a report may use instead of evaluating a period, and, for a
    sync, the results to keep.

    :func:`~slacore_connectors.report.build.build_report` asks :meth:`verdict` for each
    earlier period of the ladder and tells :meth:`evaluated` what it evaluated otherwise.
    """

    def __init__(
        self,
        *,
        zone: ZoneInfo,
        kept: KeptPeriods | None = None,
        changes: StoreChanges | None = None,
        keeping: Store | None = None,
        moment: datetime | None = None,
    ) -> None:
        self.zone = zone
        """The agreement's time zone."""
        self._valid: dict[str, PeriodResult] = {}
        if kept is not None and changes is not None:
            self._valid = {r.label: r for r in kept.results if not _stale(r, changes, zone)}
        self.all_valid = kept is not None and len(self._valid) == len(kept.results)
        """Whether every kept result is still valid."""
        self._keeping = keeping
        self._moment = moment
        self._future: frozenset[str] | None = None
        self._future_read = False
        self._kept: dict[str, PeriodResult] = {}
        self.settled = True
        """Whether every ended period walked was kept (none waits for a clock)."""

    @classmethod
    def for_report(
        cls, store: Store, agreement: Agreement, *, as_of: datetime | None
    ) -> PeriodLedger:
        """The kept results valid now for ``agreement``; none for an ``as_of`` report (it
        reads the past store) or an agreement without a calendar."""
        calendar = agreement.calendar
        zone = ZoneInfo("UTC") if calendar is None else calendar.zone
        mark = None if as_of is not None or calendar is None else fingerprint(agreement)
        kept = None if mark is None else store.period_results(mark)
        if kept is None:
            return cls(zone=zone)
        return cls(zone=zone, kept=kept, changes=store.changes_since(kept.mark))

    def verdict(self, part: PeriodSpan, since: date) -> PeriodResult | None:
        """The valid kept result of ``part`` in a history from ``since``, or ``None``:
        evaluate the period."""
        found = self._valid.get(part.label)
        if found is None or (found.start, found.end, found.since) != (part.start, part.end, since):
            return None
        if self._keeping is not None:
            self._kept[part.label] = found
        return found

    def evaluated(
        self,
        part: PeriodSpan,
        since: date,
        card: Scorecard | None,
        lead_ids: Callable[[], Iterable[str]],
        responses: Sequence[ResponseReport],
        cadences: Sequence[CadenceReport],
    ) -> None:
        """Note a period evaluated: a sync keeps it when it cannot change with time alone.
        ``lead_ids`` gives the leads of the period's hand-offs (asked only then)."""
        if self._keeping is None or self._moment is None:
            return
        if _start_of(part.end + timedelta(days=1), self.zone) > self._moment:
            return  # not ended: its clocks still run
        leads = frozenset(lead_ids())
        future = self._future_leads()
        if future is None or not _decided(responses, cadences) or not leads.isdisjoint(future):
            self.settled = False
            return
        self._kept[part.label] = PeriodResult(
            label=part.label,
            start=part.start,
            end=part.end,
            met=None if card is None else card.met,
            since=since,
            leads=LeadIds.of(leads),
        )

    def _future_leads(self) -> frozenset[str] | None:
        """The leads with an event dated at or after the moment of evaluation (a scheduled
        meeting): a later report would count it. ``None`` when such a row is one the model
        refuses: it names no lead to trust, so no period is kept."""
        if not self._future_read:
            assert self._keeping is not None
            refused: list[ValidationError] = []
            leads = {
                record.lead_id
                for stream in _EVENTS
                for record in self._keeping.records(
                    stream, since=self._moment, invalid=refused.append
                )
            }
            self._future = None if refused else frozenset(leads)
            self._future_read = True
        return self._future

    def to_keep(self, mark: Watermark) -> KeptPeriods:
        """The results to keep, at ``mark`` (taken before the store was read)."""
        results = sorted(self._kept.values(), key=lambda r: r.start)
        return KeptPeriods(mark=mark, results=tuple(results), settled=self.settled)
