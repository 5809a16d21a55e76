"""The sync's part in stored period results: keep the ended periods' verdicts for reports.

A report opens the store read-only, so the sync keeps the results
(:mod:`slacore_connectors.report.period_results`): at the end of a successful sync whose job
file names an agreement, :func:`keep_period_results` walks the agreement's history as the
report of the last ended period would, at the sync's moment, using the results still valid,
and keeps those of every period that cannot change with time alone. When the sync changed
nothing a kept result depends on (new records of the current period only, say), nothing is
evaluated: the results are kept at the new watermark.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, time, timedelta
from pathlib import Path

import attrs

from slacore.agreement import Agreement
from slacore.calendar.periods import PeriodSpan
from slacore.errors import PlanError, SlacoreError, ValidationError
from slacore_connectors.report.build import NothingToReportError, _build
from slacore_connectors.report.period_results import PeriodLedger, fingerprint
from slacore_connectors.store.base import Store
from slacore_connectors.store.periods import KeptPeriods, StoreChanges

__all__ = ["keep_period_results"]


def _unchanged(
    kept: KeptPeriods, changes: StoreChanges, ledger: PeriodLedger, current: PeriodSpan
) -> bool:
    """Whether the results kept are still the ones to keep: every ended period was kept
    then, all are still valid, no period has ended since, and no hand-off changed before
    the current period (one could start the history earlier)."""
    zone = ledger.zone
    return (
        kept.settled
        and ledger.all_valid
        and not changes.everything
        and kept.mark.at.astimezone(zone).date() >= current.start
        and all(t.astimezone(zone).date() >= current.start for t in changes.handoffs)
    )


def _build_history(
    store: Store, agreement: Agreement, current: PeriodSpan, *, now: datetime, ledger: PeriodLedger
) -> None:
    """Walk the history as the report of the last ended period would, when that period holds
    hand-offs (the current period, never kept, is then not evaluated); else as the report of
    the latest period."""
    assert agreement.calendar is not None
    zone = agreement.calendar.zone
    ended = agreement.period.span(current.start - timedelta(days=1))
    first = datetime.combine(ended.start, time(), tzinfo=zone)
    until = datetime.combine(current.start, time(), tzinfo=zone)
    # One row at most is read: the records come in time order, from the time index.
    held = store.records("handoffs", since=first, until=until, invalid=lambda _: None)
    period = ended.label if next(held, None) is not None else None
    with contextlib.suppress(NothingToReportError):  # no hand-offs yet: nothing to keep
        _build(store, agreement, period=period, now=now, ledger=ledger, ledger_only=True)


def keep_period_results(store: Store, agreement: Agreement | Path, *, now: datetime) -> int | None:
    """Keep the results of the agreement's ended, decided periods in ``store``.

    Nothing is evaluated when nothing a kept result depends on changed since they were kept,
    every ended period was kept then, ``now`` is in the same period as then, and no hand-off
    before the current period changed.

    Args:
        store: The store, open to write (the sync holds its lock).
        agreement: The agreement, or its file.
        now: The moment of evaluation (aware): the sync's clock.

    Returns:
        How many period results the store keeps for the agreement, or ``None`` when it keeps
        none because the agreement cannot be evaluated (a bad file, no calendar: the report
        says why).

    Raises:
        StoreError: The store cannot be read or written.

    """
    try:
        loaded = agreement if isinstance(agreement, Agreement) else Agreement.load(agreement)
    except SlacoreError:
        return None
    mark = fingerprint(loaded)
    if mark is None or loaded.calendar is None:
        return None
    zone = loaded.calendar.zone
    kept = store.period_results(mark)
    changes = None if kept is None else store.changes_since(kept.mark)
    watermark = store.watermark(at=now)  # the lock is held: nothing is written meanwhile
    ledger = PeriodLedger(zone=zone, kept=kept, changes=changes, keeping=store, moment=now)
    current = loaded.period.span(now.astimezone(zone).date())
    if kept is not None and changes is not None and _unchanged(kept, changes, ledger, current):
        if not changes.empty:  # later checks then cost what changes after this one
            store.keep_period_results(mark, attrs.evolve(kept, mark=watermark))
        return len(kept.results)
    try:
        _build_history(store, loaded, current, now=now, ledger=ledger)
    except (PlanError, ValidationError):
        return None  # a moment outside the years covered: the report says so
    result: KeptPeriods = ledger.to_keep(watermark)
    store.keep_period_results(mark, result)
    return len(result.results)
