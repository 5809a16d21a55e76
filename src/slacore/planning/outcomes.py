"""What the period's deals came to: revenue won, close rate and sales-cycle length.

Seed 000's shared goals are measured on deals: "the company's revenue target for the month",
"increase the close rate on proposals", "decrease the sales cycle". :func:`deal_outcomes`
counts the deals **closed** in one period (by the local date of ``closed_at`` in the calendar's
zone) and gives those three figures, so a report or a scorecard reads them rather than working
them out again:

- **revenue**: the sum of the amounts of the deals won in the period;
- **close rate**: deals won over deals closed (won or lost) in the period;
- **sales cycle**: the mean time from ``opened_at`` to ``closed_at`` of the deals won in the
  period, in days to one decimal place (half up).

>>> from datetime import datetime
>>> from zoneinfo import ZoneInfo
>>> from slacore import Deal, Period
>>> ny = ZoneInfo("America/New_York")
>>> deals = [
...     Deal(id="d1", amount=1000, opened_at=datetime(2020, 5, 1, tzinfo=ny),
...          closed_at=datetime(2020, 6, 10, tzinfo=ny), won=True),
...     Deal(id="d2", amount=500, opened_at=datetime(2020, 5, 20, tzinfo=ny),
...          closed_at=datetime(2020, 6, 12, tzinfo=ny), won=False),
...     Deal(id="d3", amount=700, opened_at=datetime(2020, 6, 1, tzinfo=ny)),
... ]
>>> june = Period.MONTH.span("2020-06")
>>> outcome = deal_outcomes(deals, june, zone=ny)
>>> outcome.revenue, outcome.close_rate, outcome.cycle_days
(Decimal('1000'), Fraction(1, 2), Decimal('40.0'))
>>> print(outcome.explain())
2020-06: 2 deals closed, 1 won (50%), $1,000 won; the won deals took 40.0 days on average.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import attrs

from slacore._values import format_rate
from slacore.errors import ValidationError
from slacore.planning.milestones import MilestoneMeasure
from slacore.render import format_count, format_money, json_dict, markdown_table

if TYPE_CHECKING:
    from slacore.calendar.periods import PeriodSpan
    from slacore.model import Deal

__all__ = ["DealOutcomes", "deal_outcomes"]

_DAY_MICROS = Decimal(86_400_000_000)
_TENTH = Decimal("0.1")


@attrs.frozen(kw_only=True)
class DealOutcomes:
    """The deals closed in one period and what they came to. See :func:`deal_outcomes`.

    Attributes:
        span: The period.
        zone: The time zone whose dates place a close in the period.
        closed: Deals closed (won or lost) in the period.
        won: Deals won in the period.
        revenue: The amounts of the won deals, added up.
        cycle_total: The time from opening to closing of the won deals, added up.

    """

    span: PeriodSpan
    zone: ZoneInfo
    closed: int
    won: int
    revenue: Decimal
    cycle_total: timedelta

    @property
    def close_rate(self) -> Fraction | None:
        """Won over closed; ``None`` when no deal closed in the period."""
        return Fraction(self.won, self.closed) if self.closed else None

    @property
    def cycle_days(self) -> Decimal | None:
        """The won deals' mean days from opening to closing, to 0.1 (half up); ``None`` when
        none was won."""
        if not self.won:
            return None
        micros = self.cycle_total // timedelta(microseconds=1)
        days = Decimal(micros) / _DAY_MICROS / self.won
        return days.quantize(_TENTH, rounding=ROUND_HALF_UP)

    def figure(self, measure: MilestoneMeasure | str) -> Decimal | None:
        """The figure a milestone goal of ``measure`` is checked against, or ``None`` when the
        period has no deal to measure (no close, or no win for the cycle).

        >>> from slacore.planning.milestones import MilestoneMeasure
        >>> from slacore import Period
        >>> outcome = DealOutcomes(span=Period.MONTH.span("2020-06"), zone=ZoneInfo("UTC"),
        ...     closed=4, won=1, revenue=Decimal(10), cycle_total=timedelta(days=30))
        >>> outcome.figure("close_rate"), outcome.figure(MilestoneMeasure.SALES_CYCLE_DAYS)
        (Decimal('0.25'), Decimal('30.0'))
        """
        which = MilestoneMeasure(measure)
        if which is MilestoneMeasure.CLOSE_RATE:
            rate = self.close_rate
            return None if rate is None else Decimal(rate.numerator) / Decimal(rate.denominator)
        return self.cycle_days

    def to_dict(self) -> dict[str, Any]:
        """The figures, JSON-ready (money as a decimal string, the rate as a number)."""
        return json_dict(
            {
                "period": self.span.label,
                "zone": self.zone.key,
                "closed": self.closed,
                "won": self.won,
                "revenue": self.revenue,
                "close_rate": self.close_rate,
                "cycle_days": self.cycle_days,
            }
        )

    def explain(self) -> str:
        """One sentence with the figures."""
        if not self.closed:
            return f"{self.span.label}: no deal closed."
        rate = self.close_rate
        text = (
            f"{self.span.label}: {format_count(self.closed)} "
            f"{'deal' if self.closed == 1 else 'deals'} closed, {format_count(self.won)} won "
            f"({format_rate(rate) if rate is not None else 'n/a'}), "
            f"{format_money(self.revenue)} won"
        )
        if self.cycle_days is None:
            return text + "."
        return text + f"; the won deals took {self.cycle_days} days on average."

    def to_markdown(self) -> str:
        """The explanation and a table of the figures."""
        rate = self.close_rate
        table = markdown_table(
            ["closed", "won", "revenue", "close rate", "cycle days"],
            [
                [
                    self.closed,
                    self.won,
                    self.revenue,
                    rate if rate is not None else "",
                    str(self.cycle_days) if self.cycle_days is not None else "",
                ]
            ],
        )
        return f"{self.explain()}\n\n{table}\n"


def deal_outcomes(deals: Iterable[Deal], span: PeriodSpan, *, zone: ZoneInfo) -> DealOutcomes:
    """Count the deals closed in ``span`` and what they came to.

    A deal belongs to the period when the date of its ``closed_at``, in ``zone``, falls in
    it; open deals (no ``closed_at``) are not counted.

    Args:
        deals: The deals, in any order.
        span: The period, e.g. ``Period.MONTH.span("2020-06")``.
        zone: The zone whose calendar dates place each close (usually the agreement's
            calendar zone).

    Returns:
        A :class:`DealOutcomes`.

    Raises:
        ValidationError: ``zone`` is not a ``ZoneInfo``.

    """
    if not isinstance(zone, ZoneInfo):
        raise ValidationError(
            message=f"expected a ZoneInfo, got {type(zone).__name__}", field="zone", value=zone
        )
    closed = won = 0
    revenue = Decimal(0)
    cycle = timedelta(0)
    for deal in deals:
        if deal.closed_at is None or deal.closed_at.astimezone(zone).date() not in span:
            continue
        closed += 1
        if deal.won:
            won += 1
            revenue += deal.amount
            cycle += deal.closed_at - deal.opened_at
    return DealOutcomes(
        span=span, zone=zone, closed=closed, won=won, revenue=revenue, cycle_total=cycle
    )
