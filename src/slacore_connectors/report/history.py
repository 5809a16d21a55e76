"""The sync's part in stored period results: keep the ended periods' verdicts for reports.

A report opens the store read-only, so the sync keeps the results
(:mod:`slacore_connectors.report.period_results`): at the end of a successful sync whose job
file names an agreement, :func:`keep_period_results` evaluates the agreement's history as the
default report would, at the sync's moment, using the results still valid, and keeps those of
every period that cannot change with time alone.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from slacore.agreement import Agreement
from slacore.errors import PlanError, SlacoreError, ValidationError
from slacore_connectors.report.build import NothingToReportError, _build
from slacore_connectors.report.period_results import PeriodLedger, fingerprint
from slacore_connectors.store.base import Store
from slacore_connectors.store.periods import KeptPeriods

__all__ = ["keep_period_results"]


def keep_period_results(store: Store, agreement: Agreement | Path, *, now: datetime) -> int | None:
    """Keep the results of the agreement's ended, decided periods in ``store``.

    Nothing is evaluated when nothing a kept result depends on changed since they were kept,
    every ended period was kept then, and ``now`` is in the same period as then.

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
    if (
        kept is not None
        and changes is not None
        and changes.empty
        and kept.settled
        and loaded.period.span(kept.mark.at.astimezone(zone).date())
        == loaded.period.span(now.astimezone(zone).date())
    ):
        return len(kept.results)
    watermark = store.watermark(at=now)  # the lock is held: nothing is written meanwhile
    ledger = PeriodLedger(zone=zone, kept=kept, changes=changes, keeping=store, moment=now)
    try:
        _build(store, loaded, now=now, ledger=ledger)
    except NothingToReportError:
        pass  # no hand-offs yet: nothing to keep
    except (PlanError, ValidationError):
        return None  # a moment outside the years covered: the report says so
    result: KeptPeriods = ledger.to_keep(watermark)
    store.keep_period_results(mark, result)
    return len(result.results)
