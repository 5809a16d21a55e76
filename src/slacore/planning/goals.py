"""Company revenue goals: the monthly run rate and the catch-up plan (seed 000, goals 1-3).

Company A goes from $10,000,000 to $15,000,000 a year: a run rate of $833,333.33 a month today
and $1,250,000 a month at the goal. It must reach the new run rate by June, sustain it to
December, and make up in June-December what January-May fell short, so that the year ends on
$15,000,000 exactly. :func:`catch_up` computes what each remaining month must bring.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal
from operator import attrgetter
from typing import Any

import attrs

from slacore import _arrow as arrow
from slacore._values import CENT, MoneyLike, quantize_money, to_money
from slacore.errors import PlanError, ValidationError
from slacore.render import format_money, json_dict, markdown_table, result_markdown

__all__ = [
    "CatchUp",
    "CatchUpStatus",
    "MonthKind",
    "MonthPlan",
    "RunRate",
    "catch_up",
    "run_rate",
]


def _positive_money(value: MoneyLike, field: str) -> Decimal:
    amount = to_money(value, field=field)
    if amount <= 0:
        raise ValidationError(message=f"must be greater than zero, got {amount}", field=field)
    return amount


@attrs.frozen(kw_only=True)
class RunRate:
    """A revenue goal spread evenly over its periods.

    Attributes:
        annual_goal: The goal for the whole year.
        periods: How many periods the year is split into (12 for months).
        per_period: ``annual_goal / periods``, rounded half-up to cents.

    """

    annual_goal: Decimal
    periods: int
    per_period: Decimal

    def to_dict(self) -> dict[str, Any]:
        """The figures, JSON-ready (money as decimal strings)."""
        return json_dict(
            {
                "annual_goal": self.annual_goal,
                "periods": self.periods,
                "per_period": self.per_period,
            }
        )

    def explain(self) -> str:
        """One sentence with the working."""
        return (
            f"{format_money(self.annual_goal)} a year / {self.periods} = "
            f"{format_money(self.per_period)} per period."
        )

    def to_markdown(self) -> str:
        """The explanation and its figures as a table."""
        return result_markdown(
            self.explain(),
            ["annual goal", "periods", "per period"],
            [[self.annual_goal, self.periods, self.per_period]],
        )


def run_rate(annual_goal: MoneyLike, *, periods: int = 12) -> RunRate:
    """The run rate: an annual revenue goal divided evenly over ``periods`` (12 = monthly).

    Args:
        annual_goal: Revenue for the year (Decimal, int, or a string such as ``"15,000,000"``).
        periods: Periods in the year; 12 for a monthly run rate, 4 for quarterly.

    Returns:
        A :class:`RunRate`; ``per_period`` is rounded half-up to cents.

    Raises:
        ValidationError: The goal is not a positive amount or ``periods`` is below 1.

    >>> run_rate(10_000_000).per_period
    Decimal('833333.33')
    >>> run_rate(15_000_000).per_period
    Decimal('1250000.00')

    """
    goal = _positive_money(annual_goal, "annual_goal")
    if isinstance(periods, bool) or not isinstance(periods, int) or periods < 1:
        raise ValidationError(
            message=f"expected a whole number of periods >= 1, got {periods!r}", field="periods"
        )
    return RunRate(annual_goal=goal, periods=periods, per_period=quantize_money(goal / periods))


class MonthKind(enum.StrEnum):
    """Where a month's figure in a catch-up plan comes from."""

    ACTUAL = "actual"
    """Revenue already booked."""
    RAMP = "ramp"
    """A month before the target month: forecast on a straight ramp up to the run rate."""
    REQUIRED = "required"
    """A month from the target month on: what it must bring."""


class CatchUpStatus(enum.StrEnum):
    """The verdict of a catch-up plan."""

    ON_PLAN = "on plan"
    """The remaining months can make the goal by bringing the required amounts."""
    AHEAD = "ahead"
    """Actuals are ahead: holding the run rate ends the year above the goal."""
    IMPOSSIBLE = "impossible"
    """The remaining months would each need more than the ceiling given."""
    MET = "met"
    """The year is over and the goal was reached."""
    MISSED = "missed"
    """The year is over and the goal was not reached."""


@attrs.frozen(kw_only=True)
class MonthPlan:
    """One month of a catch-up plan.

    Attributes:
        month: Month number in the plan, from 1.
        label: ``"2020-06"`` when the plan has a year, otherwise ``"June"``.
        kind: Actual, ramp forecast, or required.
        amount: The month's revenue (booked, forecast or required).
        run_rate: The month's share of the annual goal.

    """

    month: int
    label: str
    kind: MonthKind
    amount: Decimal
    run_rate: Decimal

    @property
    def gap(self) -> Decimal:
        """``amount - run_rate``: above the run rate is positive, a shortfall negative."""
        return self.amount - self.run_rate


@attrs.frozen(kw_only=True)
class CatchUp(arrow.TableResult):
    """What each month of the year must bring so that it ends on the annual goal.

    Attributes:
        annual_goal: The goal for the year.
        run_rate: The goal's monthly run rate.
        target_month: The month (from 1) by which the run rate must be reached.
        months: One :class:`MonthPlan` per month of the year.
        shortfall: What the months before the target month fall short of the run rate
            (actual or ramp), which the later months make up. Never negative.
        required_per_month: The most any required month must bring (required months differ
            by at most one cent), or ``None`` when no month remains.
        status: The verdict, see :class:`CatchUpStatus`.
        ceiling: The most a month can bring, if one was given.

    """

    annual_goal: Decimal
    run_rate: Decimal
    target_month: int
    months: tuple[MonthPlan, ...]
    shortfall: Decimal
    required_per_month: Decimal | None
    status: CatchUpStatus
    ceiling: Decimal | None = None

    @property
    def total(self) -> Decimal:
        """The year's revenue if every month brings its amount."""
        return sum((m.amount for m in self.months), Decimal(0))

    @property
    def surplus(self) -> Decimal:
        """``total - annual_goal``: positive when the plan ends the year above the goal."""
        return self.total - self.annual_goal

    @property
    def required(self) -> tuple[MonthPlan, ...]:
        """The months still to come from the target month on."""
        return tuple(m for m in self.months if m.kind is MonthKind.REQUIRED)

    def to_arrow(self) -> Any:
        """The months as a ``pyarrow.Table``: ``month`` (int, from 1), ``label`` (string),
        ``kind`` (dictionary of :class:`MonthKind`), ``amount``, ``run_rate`` and ``gap``
        (decimals).

        Raises:
            ModuleNotFoundError: pyarrow is not installed (``pip install 'slacore[arrow]'``).

        """
        return arrow.records_table(
            self.months,
            [
                ("month", arrow.integers, attrgetter("month")),
                ("label", arrow.strings, attrgetter("label")),
                ("kind", lambda v: arrow.categories(v, MonthKind), attrgetter("kind")),
                ("amount", arrow.decimals, attrgetter("amount")),
                ("run_rate", arrow.decimals, attrgetter("run_rate")),
                ("gap", arrow.decimals, attrgetter("gap")),
            ],
        )

    def to_dict(self) -> dict[str, Any]:
        """The plan, JSON-ready (money as decimal strings)."""
        return json_dict(
            {
                "annual_goal": self.annual_goal,
                "run_rate": self.run_rate,
                "target_month": self.target_month,
                "status": self.status,
                "shortfall": self.shortfall,
                "required_per_month": self.required_per_month,
                "total": self.total,
                "surplus": self.surplus,
                "ceiling": self.ceiling,
                "months": [
                    {
                        "month": m.month,
                        "label": m.label,
                        "kind": m.kind,
                        "amount": m.amount,
                        "run_rate": m.run_rate,
                    }
                    for m in self.months
                ],
            }
        )

    def explain(self) -> str:
        """A short paragraph: the verdict and the working."""
        goal, rate = format_money(self.annual_goal), format_money(self.run_rate)
        required = self.required
        if self.status in (CatchUpStatus.MET, CatchUpStatus.MISSED):
            verb = "reached" if self.status is CatchUpStatus.MET else "missed"
            return (
                f"The year is over: {format_money(self.total)} booked against {goal}; "
                f"the goal was {verb}."
            )
        first, last = required[0].label, required[-1].label
        span = first if first == last else f"{first} to {last}"
        text = (
            f"To finish the year on {goal}, every month from {span} must bring "
            f"{format_money(self.required_per_month or Decimal(0))}"
        )
        if self.status is CatchUpStatus.AHEAD:
            text += (
                f": the run rate of {rate} is enough, and holding it ends the year "
                f"{format_money(self.surplus)} above the goal."
            )
        else:
            text += (
                f": the run rate of {rate} plus a share of the "
                f"{format_money(self.shortfall)} shortfall of the months before."
            )
        if self.status is CatchUpStatus.IMPOSSIBLE:
            text += (
                f" That is more than the {format_money(self.ceiling or Decimal(0))} a month "
                "can bring: the goal is out of reach in the months left."
            )
        return text

    def to_markdown(self) -> str:
        """The explanation and a month-by-month table."""
        table = markdown_table(
            ["month", "kind", "amount", "vs run rate"],
            [[m.label, m.kind, m.amount, m.gap] for m in self.months],
        )
        return f"{self.explain()}\n\n{table}\n"


def _label(month: int, year: int | None, first_month: int) -> str:
    calendar_month = (first_month - 1 + month - 1) % 12 + 1
    if year is None:
        return calendar.month_name[calendar_month]
    calendar_year = year + (first_month - 1 + month - 1) // 12
    return f"{calendar_year:04d}-{calendar_month:02d}"


def _spread(total: Decimal, count: int) -> list[Decimal]:
    """Split ``total`` (in cents) into ``count`` amounts that differ by at most a cent."""
    each = (total / count).quantize(CENT, rounding=ROUND_DOWN)
    extra_cents = int((total - each * count) / CENT)
    return [each + (CENT if i < extra_cents else 0) for i in range(count)]


def catch_up(
    annual_goal: MoneyLike,
    *,
    target_month: int,
    actuals: Sequence[MoneyLike] = (),
    current_run_rate: MoneyLike | None = None,
    ceiling: MoneyLike | None = None,
    year: int | None = None,
    first_month: int = 1,
    months: int = 12,
) -> CatchUp:
    """Plan the rest of the year so that it ends on ``annual_goal``.

    Seed 000's three goals: reach the monthly run rate (``annual_goal / months``) by
    ``target_month`` and hold it (goal 1); make up in the months from ``target_month`` on what
    the months before it fall short of the run rate (goal 2); so that the year ends on the
    annual goal (goal 3).

    Months before ``target_month`` that have no actual yet are forecast on a straight ramp from
    the last actual (or ``current_run_rate`` when there is none) up to the run rate at
    ``target_month``. The required amount is spread evenly over the months from
    ``target_month`` (or the first month without an actual, if later) to the end of the year,
    to the cent (months differ by at most a cent), so the year ends on the goal exactly. When
    the actuals are so far ahead that less than the run rate would do, the plan holds the run
    rate (goal 1) and the status is :attr:`CatchUpStatus.AHEAD`.

    Args:
        annual_goal: Revenue goal for the year.
        target_month: The month (1 = first month of the year) by which the run rate is reached.
        actuals: Revenue booked so far, one amount per month from the first.
        current_run_rate: The monthly revenue today, the start of the ramp when there are no
            actuals. Needed only when months before ``target_month`` have no actual.
        ceiling: The most one month can bring (e.g. sales capacity); a plan that needs more is
            :attr:`CatchUpStatus.IMPOSSIBLE`.
        year: Calendar year of the first month, for labels like ``"2020-06"``.
        first_month: Calendar month the year starts in (1 = January; 2 for a February fiscal
            year). Only used for labels.
        months: Months in the year.

    Returns:
        A :class:`CatchUp`.

    Raises:
        ValidationError: A negative actual, more actuals than months, a target month outside
            the year, a non-positive goal.
        PlanError: Months before ``target_month`` need a ramp but neither actuals nor
            ``current_run_rate`` give its start.

    """
    goal = _positive_money(annual_goal, "annual_goal")
    if not isinstance(months, int) or isinstance(months, bool) or months < 1:
        raise ValidationError(message=f"expected months >= 1, got {months!r}", field="months")
    if not isinstance(target_month, int) or not 1 <= target_month <= months:
        raise ValidationError(
            message=f"expected a month between 1 and {months}, got {target_month!r}",
            field="target_month",
        )
    if not 1 <= first_month <= 12:
        raise ValidationError(
            message=f"expected a calendar month 1-12, got {first_month!r}", field="first_month"
        )
    booked = [to_money(a, field=f"actuals[{i}]") for i, a in enumerate(actuals)]
    for i, amount in enumerate(booked):
        if amount < 0:
            raise ValidationError(
                message=f"must not be negative, got {amount}", field=f"actuals[{i}]"
            )
    if len(booked) > months:
        raise ValidationError(
            message=f"{len(booked)} actuals for a year of {months} months", field="actuals"
        )
    rate = quantize_money(goal / months)
    cap = None if ceiling is None else _positive_money(ceiling, "ceiling")
    done = len(booked)

    plan: list[MonthPlan] = []

    def add(month: int, kind: MonthKind, amount: Decimal) -> None:
        plan.append(
            MonthPlan(
                month=month,
                label=_label(month, year, first_month),
                kind=kind,
                amount=amount,
                run_rate=rate,
            )
        )

    for month, amount in enumerate(booked, start=1):
        add(month, MonthKind.ACTUAL, quantize_money(amount))

    if done < target_month - 1:
        if done:
            start = booked[-1]
        elif current_run_rate is not None:
            start = to_money(current_run_rate, field="current_run_rate")
        else:
            raise PlanError(
                message=(
                    "the months before the target month have no actuals: give "
                    "current_run_rate (today's monthly revenue) to ramp from"
                )
            )
        steps = target_month - done
        for month in range(done + 1, target_month):
            add(
                month,
                MonthKind.RAMP,
                quantize_money(start + (rate - start) * (month - done) / steps),
            )

    shortfall = sum(
        (rate - m.amount for m in plan if m.month < target_month and m.amount < rate), Decimal(0)
    )
    first_required = max(done + 1, target_month)
    remaining = months - first_required + 1
    if remaining <= 0:
        total = sum((m.amount for m in plan), Decimal(0))
        status = CatchUpStatus.MET if total >= goal else CatchUpStatus.MISSED
        return CatchUp(
            annual_goal=goal,
            run_rate=rate,
            target_month=target_month,
            months=tuple(plan),
            shortfall=shortfall,
            required_per_month=None,
            status=status,
            ceiling=cap,
        )

    still_needed = goal - sum((m.amount for m in plan), Decimal(0))
    if still_needed < goal / months * remaining:
        # Ahead: the goal needs less than the run rate, but goal 1 is to hold it.
        status = CatchUpStatus.AHEAD
        amounts = [rate] * remaining
    else:
        status = CatchUpStatus.ON_PLAN
        amounts = _spread(still_needed, remaining)
    if cap is not None and max(amounts) > cap:
        status = CatchUpStatus.IMPOSSIBLE
    for offset, amount in enumerate(amounts):
        add(first_required + offset, MonthKind.REQUIRED, amount)
    return CatchUp(
        annual_goal=goal,
        run_rate=rate,
        target_month=target_month,
        months=tuple(plan),
        shortfall=shortfall,
        required_per_month=max(amounts),
        status=status,
        ceiling=cap,
    )
