"""The pacing curve: delivery to date against the straight line, business day by business day.

:func:`~slacore.planning.pacing.pace` answers "where do we stand today"; :func:`pacing_curve`
gives the whole picture behind it, one point at the end of each business day of the period:
what had been delivered by then (up to the pacing's ``as_of``) and where the line stood. A
report draws it as a chart.

>>> from datetime import date
>>> from slacore import BusinessCalendar, Delivery, pace
>>> cal = BusinessCalendar(timezone="America/New_York", holidays=None)
>>> delivered = [Delivery(on=date(2026, 6, 1), value=100), Delivery(on=date(2026, 6, 6), value=50)]
>>> check = pace(delivered, target=220, as_of="2026-06-08", calendar=cal)
>>> curve = pacing_curve(check, delivered, calendar=cal)
>>> [(p.day.day, p.delivered, p.line) for p in curve.points[:6]]  # doctest: +NORMALIZE_WHITESPACE
[(1, Decimal('100'), Decimal('10')), (2, Decimal('100'), Decimal('20')),
 (3, Decimal('100'), Decimal('30')), (4, Decimal('100'), Decimal('40')),
 (5, Decimal('100'), Decimal('50')), (8, Decimal('150'), Decimal('60'))]
>>> curve.points[6].delivered is None  # after as_of: not known yet
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal, Rounded, localcontext
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import attrs

from slacore import _arrow as arrow
from slacore.planning.pacing import Delivery, Measure, Pacing, counted
from slacore.render import json_dict, markdown_table

if TYPE_CHECKING:
    from slacore.calendar.business import BusinessCalendar
    from slacore.calendar.periods import PeriodSpan

__all__ = ["CurvePoint", "PacingCurve", "pacing_curve"]


@attrs.frozen(kw_only=True)
class CurvePoint:
    """The end of one business day.

    Attributes:
        day: The business day.
        delivered: Delivered from the period's start to the end of ``day``; ``None`` for days
            after the pacing's ``as_of`` (not known yet).
        line: Where the straight line stands at the end of ``day``: ``target x k / n`` after
            ``k`` of ``n`` business days (exact, not rounded).

    """

    day: date
    delivered: Decimal | None
    line: Decimal


@attrs.frozen(kw_only=True)
class PacingCurve(arrow.TableResult):
    """Delivery against the line at the end of each business day. See :func:`pacing_curve`.

    Attributes:
        pacing: The pacing check the curve belongs to (its span, target, measure, ``as_of``).
        points: One per business day of the period, in order; empty when the period has none.

    """

    pacing: Pacing
    points: tuple[CurvePoint, ...]

    def to_arrow(self) -> Any:
        """The points as a ``pyarrow.Table``, a row per business day: ``day`` (date),
        ``delivered`` (decimal, null after ``as_of``) and ``line`` (decimal, exact). Leads are
        counted as whole decimals too, so the table has one shape for both measures.

        Raises:
            ModuleNotFoundError: pyarrow is not installed (``pip install 'slacore[arrow]'``).

        """
        return arrow.records_table(
            self.points,
            [
                ("day", arrow.days, attrgetter("day")),
                ("delivered", arrow.decimals, attrgetter("delivered")),
                ("line", arrow.decimals, attrgetter("line")),
            ],
        )

    def to_dict(self) -> dict[str, Any]:
        """The points, JSON-ready (amounts as decimal strings)."""
        return json_dict(
            {
                "period": self.pacing.span.label,
                "measure": self.pacing.measure,
                "target": self.pacing.target,
                "as_of": self.pacing.as_of,
                "points": [
                    {"day": p.day, "delivered": p.delivered, "line": p.line} for p in self.points
                ],
            }
        )

    def explain(self) -> str:
        """One sentence: how many days, and where delivery stood against the line on ``as_of``."""
        known = [p for p in self.points if p.delivered is not None]
        if not known:
            return f"{self.pacing.span.label}: no business day up to {self.pacing.as_of}."
        last = known[-1]
        what = "lead value" if self.pacing.measure is Measure.VALUE else "leads"
        return (
            f"{self.pacing.span.label}: {len(known)} of {len(self.points)} business days known; "
            f"on {last.day.isoformat()} {what} delivered stood at {last.delivered} against a "
            f"line of {last.line.quantize(Decimal('0.01'))}."
        )

    def to_markdown(self) -> str:
        """The explanation and a day-by-day table."""
        table = markdown_table(
            ["day", "delivered", "line"],
            [
                [
                    p.day,
                    "" if p.delivered is None else str(p.delivered),
                    str(p.line.quantize(Decimal("0.01"))),
                ]
                for p in self.points
            ],
        )
        return f"{self.explain()}\n\n{table}\n"


def _grouped_sums(
    items: list[Delivery],
    span: PeriodSpan,
    counts_for: Callable[[date], date],
    amount: Callable[[Delivery], Decimal],
) -> dict[date, Decimal] | None:
    """The amounts of ``items`` in ``span`` summed by the day each counts for, each
    delivery object once times the number of times it comes (a month of a million
    hand-offs is a few hundred objects); ``None`` when an amount is negative or not finite
    or a product or sum rounds in the current decimal context. Otherwise the sums are
    exactly those of adding one delivery at a time: amounts at least 0 whose total needs
    no rounding never round on the way to it."""
    by_day: dict[date, Decimal] = {}
    with localcontext() as context:
        context.traps[Rounded] = True
        try:
            for item, many in counted(items):
                if item.on not in span:
                    continue
                value = amount(item)
                if not value.is_finite() or value < 0:
                    return None
                target_day = counts_for(item.on)
                by_day[target_day] = by_day.get(target_day, Decimal(0)) + value * many
        except Rounded:
            return None
    return by_day


def pacing_curve(
    pacing: Pacing, delivered: Iterable[Delivery], *, calendar: BusinessCalendar
) -> PacingCurve:
    """Delivered to date and the straight line at the end of each business day of the period.

    As in :func:`~slacore.planning.pacing.pace`, a delivery on a closed day counts for the next
    business day (or the period's last one, if none follows); deliveries outside the period
    are ignored.

    Args:
        pacing: The pacing check (from :func:`~slacore.planning.pacing.pace`) whose period,
            target, measure and ``as_of`` the curve follows.
        delivered: The deliveries that check was made from.
        calendar: Says which days are business days (the one the check used).

    Returns:
        A :class:`PacingCurve`.

    """
    span = pacing.span
    days = [d for d in span.days() if calendar.open_intervals(d)]
    if not days:
        return PacingCurve(pacing=pacing, points=())
    counts_on: dict[date, date] = {}  # the business day a delivery's day counts for

    def counts_for(on: date) -> date:
        target_day = counts_on.get(on)
        if target_day is None:
            target_day = counts_on[on] = next((d for d in days if d >= on), days[-1])
        return target_day

    def amount(item: Delivery) -> Decimal:
        return item.value if pacing.measure is Measure.VALUE else Decimal(item.leads)

    items = list(delivered)
    by_day = _grouped_sums(items, span, counts_for, amount)
    if by_day is None:  # a sum that rounds: added one delivery at a time, as always
        by_day = {}
        for item in items:
            if item.on not in span:
                continue
            target_day = counts_for(item.on)
            by_day[target_day] = by_day.get(target_day, Decimal(0)) + amount(item)
    points: list[CurvePoint] = []
    total = Decimal(0)
    for index, day in enumerate(days, start=1):
        total += by_day.get(day, Decimal(0))
        line = pacing.target * index / len(days)
        known = total if day <= pacing.as_of else None
        points.append(CurvePoint(day=day, delivered=known, line=line))
    return PacingCurve(pacing=pacing, points=tuple(points))
