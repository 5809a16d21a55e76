"""Goals that change by date (seed 000's sales goals).

"Increase the close rate on proposals from 25% to 35% by June 30 and to 50% by the end of the
year; decrease the sales cycle from 45 days to 40 by June 30 and 35 by the end of the year."

A :class:`MilestoneGoal` holds the baseline and the dated targets. :meth:`~MilestoneGoal.target_on`
gives the target in force on any date, either as **steps** (the baseline holds until June 30,
then 35% holds until December 31) or as a **linear ramp** (the target moves a little every
day from the baseline toward the next milestone). :meth:`~MilestoneGoal.check` says whether an
actual figure meets it, where higher is better (close rate) or lower is better (cycle days).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import attrs

from slacore._values import to_money
from slacore.errors import ValidationError
from slacore.render import json_dict, result_markdown

_RAMP_PRECISION = Decimal("0.0001")

__all__ = ["Direction", "Milestone", "MilestoneCheck", "MilestoneGoal", "MilestoneMeasure", "Ramp"]


class Direction(enum.StrEnum):
    """Which way a metric should move."""

    HIGHER = "higher"
    """Higher is better (close rate, revenue): an actual meets a target at or above it."""
    LOWER = "lower"
    """Lower is better (sales-cycle days, response time): meets at or below."""


class Ramp(enum.StrEnum):
    """How the target moves between milestones."""

    STEP = "step"
    """The previous target holds until the milestone date, then the new one applies."""
    LINEAR = "linear"
    """The target moves in a straight line, day by day, toward the next milestone."""


class MilestoneMeasure(enum.StrEnum):
    """What a milestone goal measures, so that the actual figure can be worked out from the
    CRM's deals (see :func:`slacore.planning.outcomes.deal_outcomes`) instead of guessed from
    the goal's name."""

    CLOSE_RATE = "close_rate"
    """Deals won over deals closed in the period, as a rate (``0.35`` or ``"35%"``)."""
    SALES_CYCLE_DAYS = "sales_cycle_days"
    """The won deals' mean days from opening to closing."""


def _measure(value: MilestoneMeasure | str | None) -> MilestoneMeasure | None:
    if value is None or isinstance(value, MilestoneMeasure):
        return value
    try:
        return MilestoneMeasure(value)
    except ValueError:
        choices = ", ".join(f'"{m.value}"' for m in MilestoneMeasure)
        raise ValidationError(
            message=f"expected one of {choices}, got {value!r}", field="measure", value=value
        ) from None


def to_date(value: date | str, *, field: str = "date") -> date:
    """Convert an ISO date string (``"2020-06-30"``) or a date to a ``date``.

    Raises:
        ValidationError: Not a date, or a ``datetime`` (a milestone is a calendar day).

    """
    if isinstance(value, datetime):
        raise ValidationError(
            message=f"expected a calendar date, got a datetime {value.isoformat()}",
            field=field,
            value=value,
        )
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError(
        message=f"expected a date like 2020-06-30, got {value!r}", field=field, value=value
    )


def _number(value: Decimal | int | str | float) -> Decimal:
    return to_money(value, field="target")


def _date(value: date | str) -> date:
    return to_date(value, field="on")


def _optional_date(value: date | str | None) -> date | None:
    return None if value is None else to_date(value, field="start")


def _milestones(values: Iterable[Milestone | tuple[date | str, Any]]) -> tuple[Milestone, ...]:
    result = [v if isinstance(v, Milestone) else Milestone(on=v[0], target=v[1]) for v in values]
    return tuple(sorted(result, key=lambda m: m.on))


@attrs.frozen(kw_only=True)
class Milestone:
    """A target to reach by a date.

    Attributes:
        on: The date by which the target applies.
        target: The figure to reach (Decimal; ``0.35`` for 35%, ``40`` for 40 days).

    """

    on: date = attrs.field(converter=_date)
    target: Decimal = attrs.field(converter=_number)


@attrs.frozen(kw_only=True)
class MilestoneCheck:
    """An actual figure compared with the target in force on a date.

    Attributes:
        metric: The metric's name.
        on: The date of the comparison.
        target: The target in force then.
        actual: The actual figure.
        direction: Whether higher or lower is better.
        met: Whether the actual meets the target.

    """

    metric: str
    on: date
    target: Decimal
    actual: Decimal
    direction: Direction
    met: bool

    @property
    def gap(self) -> Decimal:
        """How far the actual is on the good side of the target (negative when missed)."""
        diff = self.actual - self.target
        return diff if self.direction is Direction.HIGHER else -diff

    def to_dict(self) -> dict[str, Any]:
        """The figures, JSON-ready."""
        return json_dict(attrs.asdict(self, recurse=False) | {"gap": self.gap})

    def explain(self) -> str:
        """One sentence with the verdict."""
        verdict = "meets" if self.met else "misses"
        return (
            f"{self.metric} on {self.on.isoformat()}: {self.actual} {verdict} the target of "
            f"{self.target} ({self.direction} is better)."
        )

    def to_markdown(self) -> str:
        """The explanation and its figures as a table."""
        return result_markdown(
            self.explain(),
            ["metric", "on", "target", "actual", "gap", "met"],
            [[self.metric, self.on, str(self.target), str(self.actual), str(self.gap), self.met]],
        )


@attrs.frozen(kw_only=True)
class MilestoneGoal:
    """A metric with a baseline and targets by date.

    >>> close_rate = MilestoneGoal(metric="close rate on proposals", baseline="0.25",
    ...     start="2020-01-01", milestones=[("2020-06-30", "0.35"), ("2020-12-31", "0.50")])
    >>> close_rate.target_on(date(2020, 7, 1))
    Decimal('0.35')

    Attributes:
        metric: What is measured, e.g. ``"close rate on proposals"``.
        baseline: The figure at the start.
        milestones: The dated targets, in date order (pairs ``(date, target)`` are accepted).
        start: The date the baseline applies from; needed for a linear ramp.
        direction: Higher or lower is better (default higher).
        ramp: Steps (default) or a linear ramp between milestones.
        unit: A unit for display (``"%"`` or ``"days"``); figures themselves are plain numbers.
        measure: What the goal measures, when the actual figure can be worked out from deals
            (:class:`MilestoneMeasure`); ``None`` (default) when the caller supplies it.

    Raises:
        ValidationError: No milestones, two on one date, a milestone on or before ``start``, a
            linear ramp without ``start``, a target that moves the wrong way for
            ``direction``, an unknown ``measure``, or a close-rate figure outside 0 to 1.

    """

    metric: str
    baseline: Decimal = attrs.field(converter=_number)
    milestones: tuple[Milestone, ...] = attrs.field(converter=_milestones)
    start: date | None = attrs.field(default=None, converter=_optional_date)
    direction: Direction = attrs.field(default=Direction.HIGHER, converter=Direction)
    ramp: Ramp = attrs.field(default=Ramp.STEP, converter=Ramp)
    unit: str = ""
    measure: MilestoneMeasure | None = attrs.field(default=None, converter=_measure)

    def __attrs_post_init__(self) -> None:
        field = f"goals.{self.metric}"
        if not self.milestones:
            raise ValidationError(message="needs at least one milestone", field=field)
        if self.measure is MilestoneMeasure.CLOSE_RATE:
            for figure in (self.baseline, *(m.target for m in self.milestones)):
                if not 0 <= figure <= 1:
                    raise ValidationError(
                        message=(
                            f"a close rate is a share from 0 to 1, got {figure} "
                            '(write 35% as "35%" or 0.35)'
                        ),
                        field=field,
                    )
        dates = [m.on for m in self.milestones]
        if len(set(dates)) != len(dates):
            raise ValidationError(message="two milestones on the same date", field=field)
        if self.start is not None and dates[0] <= self.start:
            raise ValidationError(
                message=(
                    f"milestone {dates[0].isoformat()} is not after start {self.start.isoformat()}"
                ),
                field=field,
            )
        if self.ramp is Ramp.LINEAR and self.start is None:
            raise ValidationError(message="a linear ramp needs a start date", field=field)
        previous = self.baseline
        for milestone in self.milestones:
            wrong_way = (
                milestone.target < previous
                if self.direction is Direction.HIGHER
                else milestone.target > previous
            )
            if wrong_way:
                raise ValidationError(
                    message=(
                        f"target {milestone.target} on {milestone.on.isoformat()} moves away from "
                        f"{previous} although {self.direction} is better"
                    ),
                    field=field,
                )
            previous = milestone.target

    @property
    def final_target(self) -> Decimal:
        """The last milestone's target."""
        return self.milestones[-1].target

    def target_on(self, day: date | datetime) -> Decimal:
        """The target in force on ``day``.

        Before ``start`` (and, with steps, before the first milestone) that is the baseline;
        after the last milestone, the last target. A ``datetime`` counts as its date. On a
        linear ramp, targets between milestones are rounded half-up to 4 decimal places.
        """
        if isinstance(day, datetime):
            day = day.date()
        previous_date, previous_target = self.start, self.baseline
        for milestone in self.milestones:
            if day >= milestone.on:
                previous_date, previous_target = milestone.on, milestone.target
                continue
            if self.ramp is Ramp.STEP or previous_date is None or day <= previous_date:
                return previous_target
            span = (milestone.on - previous_date).days
            done = (day - previous_date).days
            moved = Fraction(milestone.target - previous_target) * Fraction(done, span)
            exact = Fraction(previous_target) + moved
            return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
                _RAMP_PRECISION, rounding=ROUND_HALF_UP
            )
        return previous_target

    def check(self, actual: Decimal | int | str | float, on: date | datetime) -> MilestoneCheck:
        """Compare ``actual`` with the target in force on ``on``."""
        figure = to_money(actual, field="actual")
        day = on.date() if isinstance(on, datetime) else on
        target = self.target_on(day)
        met = figure >= target if self.direction is Direction.HIGHER else figure <= target
        return MilestoneCheck(
            metric=self.metric,
            on=day,
            target=target,
            actual=figure,
            direction=self.direction,
            met=met,
        )

    def to_dict(self) -> dict[str, Any]:
        """The goal, JSON-ready."""
        return json_dict(
            {
                "metric": self.metric,
                "baseline": self.baseline,
                "start": self.start,
                "direction": self.direction,
                "ramp": self.ramp,
                "unit": self.unit,
                "measure": self.measure,
                "milestones": [{"on": m.on, "target": m.target} for m in self.milestones],
            }
        )

    def explain(self) -> str:
        """The goal in one sentence."""
        verb = "increase" if self.direction is Direction.HIGHER else "decrease"
        steps = " and ".join(f"to {m.target} by {m.on.isoformat()}" for m in self.milestones)
        return f"{verb.capitalize()} {self.metric} from {self.baseline} {steps}."

    def to_markdown(self) -> str:
        """The goal and its milestones as a table."""
        return result_markdown(
            self.explain(),
            ["on", "target"],
            [[self.start or "", f"{self.baseline} (baseline)"]]
            + [[m.on, str(m.target)] for m in self.milestones],
        )
