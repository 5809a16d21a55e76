"""What the report does with the store's Arrow tables (:meth:`Store.columns`): choosing a
period's rows, the first and last hand-off, and the period's deliveries, without an object
per record (private to the report)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, Rounded, localcontext
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from slacore import _arrow
from slacore.agreement import Agreement
from slacore.calendar import epoch_us
from slacore.model import Handoff
from slacore.planning.pacing import Delivery, counted

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


def micros(table: Any, column: str) -> Any:
    """A time column of ``table`` as a numpy array of epoch microseconds (no nulls: the main
    time of a record is required)."""
    pa = _arrow.pyarrow()
    times = table.column(column).cast(pa.int64())
    return times.to_numpy()


def between(table: Any, column: str, first: datetime, stop: datetime) -> Any:
    """The rows of ``table`` whose ``column`` lies in ``[first, stop)``, in order: ``table``
    itself when that is every row (a store holding one period), not a copy of it."""
    pc = _arrow.compute()
    pa = _arrow.pyarrow()
    kind = pa.timestamp("us", tz="UTC")
    times = table.column(column)
    keep = pc.and_(
        pc.greater_equal(times, pa.scalar(epoch_us(first), type=pa.int64()).cast(kind)),
        pc.less(times, pa.scalar(epoch_us(stop), type=pa.int64()).cast(kind)),
    )
    if pc.all(keep).as_py() is not False:
        return table
    return table.filter(keep)


def bounds(table: Any, column: str) -> tuple[datetime, datetime] | None:
    """The earliest and the latest instant of ``column`` (UTC), or ``None`` for no rows."""
    if table.num_rows == 0:
        return None
    found = micros(table, column)
    return _EPOCH + int(found.min()) * _ONE_US, _EPOCH + int(found.max()) * _ONE_US


def local_days(moments: Any, zone: ZoneInfo) -> tuple[date, Any]:
    """Each instant's date in ``zone``, as days after the first one's (numpy ``int64``), and
    that first date: what ``moment.astimezone(zone).date()`` gives, found by a sorted search
    over the instants at which each day begins (made by ``zoneinfo``, as a report's days)."""
    low, high = int(moments.min()), int(moments.max())
    first = (_EPOCH + low * _ONE_US).astimezone(zone).date()
    last = (_EPOCH + high * _ONE_US).astimezone(zone).date()
    starts = [
        epoch_us(datetime.combine(first + timedelta(days=n), time(), tzinfo=zone))
        for n in range((last - first).days + 2)
    ]
    found = np.searchsorted(np.asarray(starts, dtype=np.int64), moments, side="right") - 1
    return first, found


def _codes(column: Any) -> tuple[Any, int]:
    """A text column as integer codes (null: 0) and how many codes there are."""
    pc = _arrow.compute()
    encoded = pc.dictionary_encode(column).combine_chunks()
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes + 1, len(encoded.dictionary) + 1


def deliveries(agreement: Agreement, handoffs: Any) -> list[Delivery]:
    """``agreement.deliveries`` of the hand-offs of ``handoffs`` (a table of
    :meth:`Store.columns`), one per row in order: hand-offs of one day (in the calendar's
    zone), source and segment deliver the same, so the agreement values one hand-off of
    each such group and every row of the group gets its delivery.

    Raises:
        PlanError: The agreement has no calendar (as ``agreement.deliveries``).

    """
    if handoffs.num_rows == 0:
        return agreement.deliveries([])
    calendar = agreement.calendar
    zone = calendar.zone if calendar is not None else ZoneInfo("UTC")
    _, days = local_days(micros(handoffs, "notified_at"), zone)
    sources, many_sources = _codes(handoffs.column("source"))
    segments, many_segments = _codes(handoffs.column("segment"))
    key = (days * many_sources + sources) * many_segments + segments
    _, first_rows, group = np.unique(key, return_index=True, return_inverse=True)
    shown = handoffs.take(first_rows).to_pylist()
    valued = agreement.deliveries([Handoff(**row) for row in shown])
    return [valued[at] for at in group.tolist()]


def summed(delivered: list[Delivery]) -> list[Delivery]:
    """The deliveries of ``delivered`` with each delivery object once, its value and leads
    times the number of times it comes: what pacing, the curve and the scorecard add up,
    in a few hundred objects rather than one a hand-off; ``delivered`` itself when a value
    is negative or not finite, or the total of the values would round in the current
    decimal context.

    The same figures either way: amounts at least 0 whose total needs no rounding never
    round on the way to it, in any order or grouping (pacing adds Fractions, exact anyway).
    """
    grouped: list[Delivery] = []
    total = Decimal(0)
    with localcontext() as context:
        context.traps[Rounded] = True
        try:
            for item, many in counted(delivered):
                if not item.value.is_finite() or item.value < 0:
                    return delivered
                value = item.value * many
                total += value
                grouped.append(
                    Delivery(
                        on=item.on, value=value, leads=item.leads * many, unvalued=item.unvalued
                    )
                )
        except Rounded:
            return delivered
    return grouped
