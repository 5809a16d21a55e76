"""Pacing: whether marketing delivers at an even cadence through the period (seed 001).

"You can't have marketing run the super campaign in week one, get to the 100,000 and go to
sleep for three weeks ... Similarly, you can't have marketing go to sleep for the first three
weeks of the month and then run a super campaign at the end." Marketing has to "hug the line".

:func:`pace` compares what was delivered to date (lead value or lead count) with the straight
line from nothing on the period's first business day to the whole commitment at the end of its
last, counting business days of a :class:`~slacore.calendar.BusinessCalendar`. It says whether
marketing is ahead, on pace or behind, whether the period is front- or back-loaded (before it
ends), the daily rate the rest of the period needs, and how each week's leads compare with what
sales can work.

Periods (:class:`~slacore.calendar.Period`: week, month, quarter, year) live in
:mod:`slacore.calendar.periods`.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from fractions import Fraction
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import attrs

from slacore import _arrow as arrow
from slacore._values import RateLike, format_rate, to_money, to_rate
from slacore.calendar.periods import Period, PeriodSpan
from slacore.errors import PlanError, ValidationError
from slacore.model import Handoff
from slacore.planning.funnel import CapacityStatus
from slacore.planning.milestones import to_date
from slacore.render import (
    Block,
    Paragraph,
    Table,
    blocks_markdown,
    format_count,
    format_money,
    json_dict,
)

if TYPE_CHECKING:
    from slacore.calendar.business import BusinessCalendar

__all__ = [
    "Delivery",
    "Loading",
    "Measure",
    "PaceStatus",
    "Pacing",
    "Unvalued",
    "WeekBucket",
    "deliveries",
    "pace",
]


class Measure(enum.StrEnum):
    """What a pacing check counts."""

    VALUE = "value"
    """Lead value (money)."""
    LEADS = "leads"
    """Leads (a count)."""


class PaceStatus(enum.StrEnum):
    """Delivered to date against the straight line."""

    AHEAD = "ahead"
    ON_PACE = "on pace"
    BEHIND = "behind"


class Loading(enum.StrEnum):
    """The shape of a period's delivery."""

    EVEN = "even"
    FRONT_LOADED = "front-loaded"
    """Most of the period's delivery lands in the first half of its business days."""
    BACK_LOADED = "back-loaded"
    """Most of it lands, or must land, in the second half."""


def _amount(value: Decimal | int | str | float) -> Decimal:
    amount = to_money(value, field="value")
    if amount < 0:
        raise ValidationError(message=f"must not be negative, got {amount}", field="value")
    return amount


def _leads(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(
            message=f"expected a whole number of leads >= 0, got {value!r}", field="leads"
        )
    return value


def _day(value: date | str) -> date:
    return to_date(value, field="on")


_BASES = ("source", "segment")


def _unvalued(value: tuple[str, str] | list[str] | None) -> tuple[str, str] | None:
    if value is None:
        return None
    pair = tuple(value)
    if len(pair) != 2 or pair[0] not in _BASES or not isinstance(pair[1], str):
        raise ValidationError(
            message=f'expected ("source" or "segment", a name), got {value!r}',
            field="unvalued",
            value=value,
        )
    return (pair[0], pair[1])


@attrs.frozen(kw_only=True)
class Delivery:
    """Leads marketing handed to sales on one day.

    Attributes:
        on: The local date of the hand-off (in the calendar's zone).
        value: Their lead value (Decimal, never negative; default 0).
        leads: How many leads (default 1).
        unvalued: For leads whose source (or segment) has no lead value, which one:
            ``("source", "partner")``, with ``""`` as the name when the hand-off names none.
            Their ``value`` is 0 and :func:`pace` counts them apart (:attr:`Pacing.unvalued`).
            ``None`` (default) for valued leads.

    """

    on: date = attrs.field(converter=_day)
    value: Decimal = attrs.field(default=Decimal(0), converter=_amount)
    leads: int = attrs.field(default=1, converter=_leads)
    unvalued: tuple[str, str] | None = attrs.field(default=None, converter=_unvalued)


@attrs.frozen(kw_only=True)
class Unvalued:
    """Leads of one source (or segment) that the lead values do not price.

    Attributes:
        by: ``"source"`` or ``"segment"``: what names a lead's value.
        key: The source or segment without a value; ``""`` for hand-offs that name none.
        leads: How many such leads were delivered.

    """

    by: str
    key: str
    leads: int

    @property
    def name(self) -> str:
        """``source 'partner'``, or ``no source`` for hand-offs that name none."""
        return f"{self.by} {self.key!r}" if self.key else f"no {self.by}"

    def to_dict(self) -> dict[str, Any]:
        """The count, JSON-ready."""
        return {"by": self.by, "key": self.key, "leads": self.leads}


def deliveries(
    handoffs: Iterable[Handoff],
    *,
    calendar: BusinessCalendar,
    values: Mapping[str, Decimal] | None = None,
    by: str = "source",
) -> list[Delivery]:
    """One :class:`Delivery` per hand-off: its notification date in the calendar's zone.

    Args:
        handoffs: The hand-offs from marketing to sales.
        calendar: Gives the time zone that decides the date of each hand-off.
        values: Lead value by source or segment (a
            :class:`~slacore.planning.lead_values.LeadValueTable` or a mapping); without it every
            delivery has value 0. A hand-off whose source or segment (or a missing one) has no
            value is not an error: its delivery has value 0 and says which source lacks one
            (:attr:`Delivery.unvalued`), so :func:`pace` reports it and counts the others.
        by: ``"source"`` (default) or ``"segment"``: which field of the hand-off names its
            value in ``values``.

    Raises:
        ValidationError: ``by`` is neither ``"source"`` nor ``"segment"``.

    """
    if by not in _BASES:
        raise ValidationError(
            message=f'expected "source" or "segment", got {by!r}', field="by", value=by
        )
    zone = calendar.zone
    # A plain dict: a LeadValueTable raises for an unknown key even under `in`.
    table = None if values is None else {key: values[key] for key in values}
    result: list[Delivery] = []
    # Equal deliveries are one object: a day's hand-offs of one source are worth the same,
    # and a period of 100,000 hand-offs makes a few hundred deliveries, not 100,000.
    made: dict[tuple[date, str], Delivery] = {}
    for handoff in handoffs:
        key = "" if table is None else (handoff.source if by == "source" else handoff.segment) or ""
        on = handoff.notified_at.astimezone(zone).date()
        delivery = made.get((on, key))
        if delivery is None:
            value = Decimal(0)
            unvalued: tuple[str, str] | None = None
            if table is not None:
                if key in table:
                    value = table[key]
                else:
                    unvalued = (by, key)
            delivery = made[on, key] = Delivery(on=on, value=value, unvalued=unvalued)
        result.append(delivery)
    return result


@attrs.frozen(kw_only=True)
class WeekBucket:
    """One week of a period (its business days only) against the line and sales capacity.

    Attributes:
        start: The week's first business day in the period.
        end: Its last business day in the period.
        business_days: Business days in the bucket.
        expected: The line's share of the target for these days.
        delivered: Delivered in the bucket (a delivery on a closed day counts on the next
            business day, when sales can work it; after the period's last business day, on
            that day).
        leads: Leads delivered in the bucket.
        capacity: Leads sales can work in these days (the period's capacity pro rata), if known.
        load: Leads against capacity, for weeks that are over by ``as_of``; else ``None``.
        complete: Whether the week is over by ``as_of``.

    """

    start: date
    end: date
    business_days: int
    expected: Decimal
    delivered: Decimal
    leads: int
    capacity: Decimal | None
    load: CapacityStatus | None
    complete: bool

    def to_dict(self) -> dict[str, Any]:
        """The bucket, JSON-ready."""
        return json_dict(attrs.asdict(self, recurse=False))


def _ceil(value: Fraction, measure: Measure) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    step = Decimal(1) if measure is Measure.LEADS else Decimal("0.01")
    return exact.quantize(step, rounding=ROUND_CEILING)


def _round(value: Fraction, measure: Measure) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    step = Decimal(1) if measure is Measure.LEADS else Decimal("0.01")
    return exact.quantize(step, rounding=ROUND_HALF_UP)


@attrs.frozen(kw_only=True)
class Pacing(arrow.TableResult):
    """Delivery to date against the straight line by business day. See :func:`pace`.

    Attributes:
        span: The period.
        as_of: The day whose end the figures describe.
        measure: Lead value or leads.
        target: The period's commitment.
        delivered: Delivered from the period's start to the end of ``as_of``.
        expected: The line at the end of ``as_of``: ``target x elapsed / business days``
            (cents, or whole leads, half up).
        business_days: Business days in the period.
        elapsed_days: Business days up to and including ``as_of``.
        status: Ahead, on pace or behind (``delivered`` against ``expected`` within
            ``tolerance``).
        loading: Even, front- or back-loaded.
        first_half_share: The share of the period's delivery that lands in the first half of
            its business days, counting what is still needed as spread evenly over the days
            left; ``None`` when there is nothing to share. The line gives 50%.
        needed_per_day: What each remaining business day must bring to reach the target
            (rounded up to the cent or the lead); 0 once the target is reached; ``None`` when
            no business day remains and the target was missed.
        tolerance: The share of the line within which delivery is on pace.
        loading_tolerance: Front-loaded when ``first_half_share`` is at least 50% plus this,
            back-loaded when at most 50% minus this.
        capacity: Leads sales can work in the period, if known.
        weeks: The period's weeks, each against the line and capacity.
        unvalued: The leads delivered to date whose source (or segment) has no lead value,
            by source, sorted. When pacing lead value they add nothing to it: ``delivered``
            and the weeks' amounts count only the valued leads (the weeks' ``leads`` count
            all, as sales works them all), and :attr:`warnings` says so.

    """

    span: PeriodSpan
    as_of: date
    measure: Measure
    target: Decimal
    delivered: Decimal
    expected: Decimal
    business_days: int
    elapsed_days: int
    status: PaceStatus
    loading: Loading
    first_half_share: Fraction | None
    needed_per_day: Decimal | None
    tolerance: Fraction
    loading_tolerance: Fraction
    capacity: int | None
    weeks: tuple[WeekBucket, ...]
    unvalued: tuple[Unvalued, ...] = ()

    @property
    def unvalued_leads(self) -> int:
        """How many leads delivered to date have no lead value."""
        return sum(item.leads for item in self.unvalued)

    @property
    def warnings(self) -> tuple[str, ...]:
        """One sentence per source (or segment) without a lead value, naming it."""
        valued = sum(week.leads for week in self.weeks) - self.unvalued_leads
        counted = f"{format_count(valued)} valued lead{'' if valued == 1 else 's'}"
        return tuple(
            f"{format_count(item.leads)} lead{'' if item.leads == 1 else 's'}"
            f" {'from' if item.key else 'with'} {item.name}"
            f" {'has' if item.leads == 1 else 'have'} no lead value: the lead value counts"
            f" only the {counted}."
            for item in self.unvalued
        )

    @property
    def remaining_days(self) -> int:
        """Business days after ``as_of`` in the period."""
        return self.business_days - self.elapsed_days

    @property
    def gap(self) -> Decimal:
        """``delivered - expected``: positive when ahead of the line."""
        return self.delivered - self.expected

    def _figure(self, amount: Decimal) -> str:
        if self.measure is Measure.LEADS:
            return f"{format_count(int(amount))} leads"
        return format_money(amount)

    def to_arrow(self) -> Any:
        """The weeks as a ``pyarrow.Table``, a row per week: ``start`` and ``end`` (dates),
        ``business_days`` and ``leads`` (ints), ``expected``, ``delivered`` and ``capacity``
        (decimals, ``capacity`` null when unknown), ``load`` (dictionary of
        :class:`~slacore.planning.funnel.CapacityStatus`, null for weeks not over) and
        ``complete`` (bool).

        Raises:
            ModuleNotFoundError: pyarrow is not installed (``pip install 'slacore[arrow]'``).

        """
        return arrow.records_table(
            self.weeks,
            [
                ("start", arrow.days, attrgetter("start")),
                ("end", arrow.days, attrgetter("end")),
                ("business_days", arrow.integers, attrgetter("business_days")),
                ("expected", arrow.decimals, attrgetter("expected")),
                ("delivered", arrow.decimals, attrgetter("delivered")),
                ("leads", arrow.integers, attrgetter("leads")),
                ("capacity", arrow.decimals, attrgetter("capacity")),
                ("load", lambda v: arrow.categories(v, CapacityStatus), attrgetter("load")),
                ("complete", arrow.flags, attrgetter("complete")),
            ],
        )

    def to_dict(self) -> dict[str, Any]:
        """The figures, JSON-ready (money as decimal strings, shares as numbers)."""
        return json_dict(
            {
                "period": self.span.label,
                "start": self.span.start,
                "end": self.span.end,
                "as_of": self.as_of,
                "measure": self.measure,
                "target": self.target,
                "delivered": self.delivered,
                "expected": self.expected,
                "gap": self.gap,
                "business_days": self.business_days,
                "elapsed_days": self.elapsed_days,
                "remaining_days": self.remaining_days,
                "status": self.status,
                "loading": self.loading,
                "first_half_share": self.first_half_share,
                "needed_per_day": self.needed_per_day,
                "tolerance": self.tolerance,
                "loading_tolerance": self.loading_tolerance,
                "capacity": self.capacity,
                "weeks": [week.to_dict() for week in self.weeks],
                "unvalued": [item.to_dict() for item in self.unvalued],
                "unvalued_leads": self.unvalued_leads,
                "warnings": list(self.warnings),
            }
        )

    def explain(self) -> str:
        """A few sentences: position against the line, the shape, and the rate needed."""
        what = "lead value" if self.measure is Measure.VALUE else "leads"
        text = (
            f"{self.span.label} as of {self.as_of.isoformat()} ({self.elapsed_days} of "
            f"{self.business_days} business days): {self._figure(self.delivered)} delivered "
            f"of {self._figure(self.target)}, against {self._figure(self.expected)} "
            f"on the straight line: {self.status}."
        )
        if self.first_half_share is not None:
            verb = "falls" if self.measure is Measure.VALUE else "fall"
            text += (
                f" The period is {self.loading}: {format_rate(self.first_half_share)} of its "
                f"{what} {verb} in the first half of its business days (the line: 50%)."
            )
        if self.needed_per_day is None:
            text += f" No business day is left to make up {self._figure(-self.gap)}."
        elif self.delivered >= self.target:
            text += " The target is reached."
        else:
            text += (
                f" The rest of the period needs {self._figure(self.needed_per_day)} a business day."
            )
        for warning in self.warnings:
            text += f" {warning}"
        return text

    def to_blocks(self) -> list[Block]:
        """The explanation and a table of the weeks (with capacity and load columns when the
        sales capacity is known): the blocks of a page (:class:`slacore.render.Page`)."""
        header = ["week of", "business days", "line", "delivered", "leads"]
        rows: list[list[object]] = [
            [
                week.start.isoformat(),
                week.business_days,
                self._cell(week.expected),
                self._cell(week.delivered),
                week.leads,
            ]
            for week in self.weeks
        ]
        if self.capacity is not None:
            header += ["capacity", "load"]
            for row, week in zip(rows, self.weeks, strict=True):
                row += [
                    "" if week.capacity is None else int(week.capacity),
                    "" if week.load is None else week.load.value,
                ]
        return [Paragraph(self.explain()), Table(header, rows)]

    def to_markdown(self) -> str:
        """The explanation and a table of the weeks."""
        return blocks_markdown(self.to_blocks())

    def _cell(self, amount: Decimal) -> Decimal | int:
        return int(amount) if self.measure is Measure.LEADS else amount


def _rate(value: RateLike, field: str, *, below_half: bool = False) -> Fraction:
    share = to_rate(value, field=field)
    top = Fraction(1, 2) if below_half else Fraction(1)
    inside = share < top if below_half else share <= top
    if share < 0 or not inside:
        raise ValidationError(
            message=f"expected a share from 0 to {format_rate(top)}, got {format_rate(share)}",
            field=field,
            value=value,
        )
    return share


def _open_days(span: PeriodSpan, calendar: BusinessCalendar) -> list[date]:
    return [day for day in span.days() if calendar.open_intervals(day)]


def counted(delivered: Iterable[Delivery]) -> list[tuple[Delivery, int]]:
    """Each delivery object of ``delivered`` once, in order of first appearance, with how
    many times it comes (:func:`deliveries` gives one object to equal deliveries, so a
    month's million deliveries are a few hundred objects). Objects are told apart by
    identity: two equal objects count apart."""
    items = list(delivered)
    times = Counter(map(id, items))  # counted in C, not one Python step per item
    by_id = dict(zip(map(id, items), items, strict=True))
    return [(by_id[key], many) for key, many in times.items()]


def pace(
    delivered: Iterable[Delivery],
    *,
    target: Decimal | int | str,
    as_of: date | str,
    calendar: BusinessCalendar,
    period: Period | str = Period.MONTH,
    measure: Measure | str = Measure.VALUE,
    tolerance: RateLike = Fraction(1, 10),
    loading_tolerance: RateLike = Fraction(1, 5),
    capacity: int | None = None,
) -> Pacing:
    """Compare delivery to date with the straight line by business day.

    The line runs from 0 at the start of the period's first business day to ``target`` at the
    end of its last: after ``k`` of ``n`` business days it stands at ``target x k / n``. Days
    the calendar is closed (weekends, holidays) do not move it. A delivery on a closed day
    counts for the next business day, when sales can work it.

    The period is **front-loaded** when at least ``50% + loading_tolerance`` of its delivery
    lands in the first half of its business days, **back-loaded** when at most
    ``50% - loading_tolerance`` does. Before the period ends, what is still needed counts as
    spread evenly over the business days left, so a super campaign in week one is flagged the
    week it happens, and a sleepy first half by mid-period.

    Args:
        delivered: The deliveries (see :func:`deliveries`); those outside the period or after
            ``as_of`` are ignored. When pacing lead value, those without one
            (:attr:`Delivery.unvalued`) are counted by source in :attr:`Pacing.unvalued`.
        target: The period's commitment: lead value (money) or leads (a whole number).
        as_of: The day whose end the figures describe (a date or ISO string); the period is
            the one that contains it.
        calendar: Says which days are business days.
        period: ``"week"``, ``"month"`` (default), ``"quarter"`` or ``"year"``.
        measure: ``"value"`` (default; ``Delivery.value`` is counted) or ``"leads"``
            (``Delivery.leads``).
        tolerance: Within this share of the line, delivery is on pace (default 10%). Weekly
            leads within this share of capacity are balanced.
        loading_tolerance: See above; default 20%, below 50%.
        capacity: Leads sales can work in the whole period (reps x leads per rep), to check
            each week's leads against.

    Returns:
        A :class:`Pacing`.

    Raises:
        ValidationError: A negative target or capacity, a share out of range, a bad date.
        PlanError: The period has no business day.

    >>> from slacore.calendar.business import BusinessCalendar
    >>> cal = BusinessCalendar(timezone="America/New_York", holidays=None)
    >>> week_one = [Delivery(on=date(2026, 6, 1), value=300_000)]
    >>> check = pace(week_one, target=300_000, as_of="2026-06-05", calendar=cal)
    >>> check.status, check.loading
    (<PaceStatus.AHEAD: 'ahead'>, <Loading.FRONT_LOADED: 'front-loaded'>)

    """
    how = Measure(measure)
    span = Period.parse(period, field="period").span(as_of)
    day = to_date(as_of, field="as_of")
    goal = to_money(target, field="target")
    if goal < 0:
        raise ValidationError(message=f"must not be negative, got {goal}", field="target")
    if how is Measure.LEADS and goal != goal.to_integral_value():
        raise ValidationError(
            message=f"expected a whole number of leads, got {goal}", field="target"
        )
    tol = _rate(tolerance, "tolerance")
    loading_tol = _rate(loading_tolerance, "loading_tolerance", below_half=True)
    if capacity is not None and (
        isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0
    ):
        raise ValidationError(
            message=f"expected a whole number of leads >= 0, got {capacity!r}", field="capacity"
        )
    open_days = _open_days(span, calendar)
    n = len(open_days)
    if n == 0:
        raise PlanError(message=f"{span.label} has no business day in the calendar")
    position = {d: i for i, d in enumerate(open_days)}
    elapsed = sum(1 for d in open_days if d <= day)

    def index_of(on: date) -> int:
        for offset in range((span.end - on).days + 1):
            found = position.get(on + timedelta(days=offset))
            if found is not None:
                return found
        return n - 1

    amounts = [Fraction(0)] * n
    leads = [0] * n
    unvalued: dict[tuple[str, str], int] = {}
    # Each delivery object once, times the number of times it comes (deliveries() gives
    # one object to equal deliveries): exact, as Fractions and ints are.
    for item, many in counted(delivered):
        if item.on not in span or item.on > day:
            continue
        i = index_of(item.on)
        amounts[i] += Fraction(item.leads if how is Measure.LEADS else item.value) * many
        leads[i] += item.leads * many
        if item.unvalued is not None and how is Measure.VALUE:
            unvalued[item.unvalued] = unvalued.get(item.unvalued, 0) + item.leads * many
    total = sum(amounts, Fraction(0))
    goal_exact = Fraction(goal)
    line = goal_exact * elapsed / n
    if total > line * (1 + tol):
        status = PaceStatus.AHEAD
    elif total < line * (1 - tol):
        status = PaceStatus.BEHIND
    else:
        status = PaceStatus.ON_PACE

    remaining_days = n - elapsed
    shortfall = max(goal_exact - total, Fraction(0))
    needed: Decimal | None
    if remaining_days:
        needed = _ceil(shortfall / remaining_days, how)
    else:
        needed = None if shortfall else Decimal(0)

    projected = list(amounts)
    if remaining_days and shortfall:
        for i in range(elapsed, n):
            projected[i] += shortfall / remaining_days
    whole = sum(projected, Fraction(0))
    share: Fraction | None = None
    loading = Loading.EVEN
    if whole:
        half = Fraction(n, 2)
        first = sum(
            (a * min(max(half - i, Fraction(0)), Fraction(1)) for i, a in enumerate(projected)),
            Fraction(0),
        )
        share = first / whole
        if share >= Fraction(1, 2) + loading_tol:
            loading = Loading.FRONT_LOADED
        elif share <= Fraction(1, 2) - loading_tol:
            loading = Loading.BACK_LOADED

    weeks: list[WeekBucket] = []
    by_week: dict[date, list[int]] = {}
    for i, open_day in enumerate(open_days):
        by_week.setdefault(open_day - timedelta(days=open_day.weekday()), []).append(i)
    for indices in by_week.values():
        days_in = len(indices)
        week_leads = sum(leads[i] for i in indices)
        last = open_days[indices[-1]]
        complete = last <= day
        share_cap = None if capacity is None else Fraction(capacity * days_in, n)
        load: CapacityStatus | None = None
        if share_cap is not None and complete:
            if week_leads > share_cap * (1 + tol):
                load = CapacityStatus.EXCEEDS
            elif week_leads < share_cap * (1 - tol):
                load = CapacityStatus.STARVES
            else:
                load = CapacityStatus.BALANCED
        weeks.append(
            WeekBucket(
                start=open_days[indices[0]],
                end=last,
                business_days=days_in,
                expected=_round(goal_exact * days_in / n, how),
                delivered=_round(sum((amounts[i] for i in indices), Fraction(0)), how),
                leads=week_leads,
                capacity=None if share_cap is None else _round(share_cap, Measure.LEADS),
                load=load,
                complete=complete,
            )
        )
    return Pacing(
        span=span,
        as_of=day,
        measure=how,
        target=goal,
        delivered=_round(total, how),
        expected=_round(line, how),
        business_days=n,
        elapsed_days=elapsed,
        status=status,
        loading=loading,
        first_half_share=share,
        needed_per_day=needed,
        tolerance=tol,
        loading_tolerance=loading_tol,
        capacity=capacity,
        weeks=tuple(weeks),
        unvalued=tuple(
            Unvalued(by=by, key=key, leads=count) for (by, key), count in sorted(unvalued.items())
        ),
    )
