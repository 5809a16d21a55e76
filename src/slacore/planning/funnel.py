"""The reverse funnel and sales capacity.

From a revenue goal, the average deal value and each stage's conversion rate, how many
records each stage needs: Company X needs $5,000 a month at $100 a sale with a 50% win rate,
so 50 deals and 100 qualified leads. HubSpot's mid-market rep turns 100 leads into 50
connects, 30 discovery calls, 15 demos and 5 customers; ten such reps need 1,000 leads a month.

Counts needed are whole records and round **up** at every stage: a stage cannot hand on half a
lead. Rates are exact fractions, so ``"1/3"`` of 15 demos is 5 customers, not 4.99.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from slacore import _arrow as arrow
from slacore._values import (
    MoneyLike,
    RateLike,
    ceil_count,
    format_rate,
    to_money,
    to_rate,
)
from slacore.errors import PlanError, ValidationError
from slacore.render import (
    format_count,
    format_money,
    json_dict,
    markdown_table,
    result_markdown,
)

__all__ = [
    "Capacity",
    "CapacityStatus",
    "FunnelPlan",
    "FunnelStage",
    "StageNeed",
    "capacity",
    "reverse_funnel",
]


def _rate(value: RateLike) -> Fraction:
    return to_rate(value, field="rate")


@attrs.frozen(kw_only=True)
class FunnelStage:
    """A stage of the funnel and the share of its records that reach the next stage.

    Attributes:
        name: The stage, e.g. ``"lead"`` or ``"demo"``.
        rate: Conversion to the next stage, greater than 0 and at most 1 (an exact fraction;
            ``0.5``, ``"50%"`` and ``"1/3"`` are accepted).

    """

    name: str
    rate: Fraction = attrs.field(converter=_rate)

    @rate.validator
    def _check(self, attribute: attrs.Attribute[Fraction], value: Fraction) -> None:
        if not 0 < value <= 1:
            raise ValidationError(
                message=(
                    f"expected a conversion rate above 0 and at most 1, got {format_rate(value)}"
                ),
                field=f"stages.{self.name}.rate",
                value=value,
            )


@attrs.frozen(kw_only=True)
class StageNeed:
    """How many records a stage needs.

    Attributes:
        name: The stage.
        needed: Records needed in the stage (rounded up).
        rate: The stage's conversion to the next, or ``None`` for the last stage (deals).

    """

    name: str
    needed: int
    rate: Fraction | None


class CapacityStatus(enum.StrEnum):
    """How a plan's lead volume compares with what sales can absorb."""

    BALANCED = "balanced"
    """Within the tolerance of capacity."""
    EXCEEDS = "exceeds"
    """More leads than the reps can work: leads will go cold."""
    STARVES = "starves"
    """Fewer leads than the reps can work: reps sit idle."""


@attrs.frozen(kw_only=True)
class Capacity:
    """Lead capacity of the sales team against the leads a plan brings.

    Attributes:
        reps: Number of reps taking leads.
        leads_per_rep: Leads one rep can work in the period.
        capacity: ``reps x leads_per_rep``.
        leads_needed: Leads the plan sends to sales in the period.
        gap: ``leads_needed - capacity``: positive means the plan exceeds capacity by that
            many leads; negative means that many leads of capacity go unused.
        tolerance: The share of capacity within which the plan counts as balanced.
        status: Balanced, exceeds or starves.

    """

    reps: int
    leads_per_rep: int
    capacity: int
    leads_needed: int
    gap: int
    tolerance: Fraction
    status: CapacityStatus

    def to_dict(self) -> dict[str, Any]:
        """The figures, JSON-ready."""
        return json_dict(attrs.asdict(self, recurse=False))

    def explain(self) -> str:
        """One sentence: capacity, need and verdict."""
        head = (
            f"{self.reps} reps x {format_count(self.leads_per_rep)} leads = capacity for "
            f"{format_count(self.capacity)} leads; "
            f"the plan brings {format_count(self.leads_needed)}"
        )
        if self.status is CapacityStatus.EXCEEDS:
            return f"{head}: {format_count(self.gap)} more than sales can work."
        if self.status is CapacityStatus.STARVES:
            return f"{head}: {format_count(-self.gap)} short, so reps will sit idle."
        return f"{head}: balanced."

    def to_markdown(self) -> str:
        """The explanation and its figures as a table."""
        return result_markdown(
            self.explain(),
            ["reps", "leads per rep", "capacity", "leads needed", "gap", "status"],
            [
                [
                    self.reps,
                    self.leads_per_rep,
                    self.capacity,
                    self.leads_needed,
                    self.gap,
                    self.status,
                ]
            ],
        )


def _whole(value: int, field: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValidationError(
            message=f"expected a whole number >= {minimum}, got {value!r}", field=field
        )
    return value


def capacity(
    *, reps: int, leads_per_rep: int, leads_needed: int, tolerance: RateLike = Fraction(1, 20)
) -> Capacity:
    """Compare the leads a plan brings with the leads the sales team can work.

    Args:
        reps: Reps taking leads.
        leads_per_rep: Leads one rep can work in the period.
        leads_needed: Leads the plan brings in the period.
        tolerance: Share of capacity within which the plan is balanced (default 5%).

    Returns:
        A :class:`Capacity`.

    Raises:
        ValidationError: A count is negative or not whole, or the tolerance is outside [0, 1].

    >>> capacity(reps=10, leads_per_rep=100, leads_needed=1000).status
    <CapacityStatus.BALANCED: 'balanced'>

    """
    reps = _whole(reps, "reps", 1)
    leads_per_rep = _whole(leads_per_rep, "leads_per_rep", 1)
    leads_needed = _whole(leads_needed, "leads_needed", 0)
    tol = to_rate(tolerance, field="tolerance")
    if not 0 <= tol <= 1:
        raise ValidationError(
            message=f"expected a share between 0 and 1, got {format_rate(tol)}", field="tolerance"
        )
    total = reps * leads_per_rep
    if leads_needed > total * (1 + tol):
        status = CapacityStatus.EXCEEDS
    elif leads_needed < total * (1 - tol):
        status = CapacityStatus.STARVES
    else:
        status = CapacityStatus.BALANCED
    return Capacity(
        reps=reps,
        leads_per_rep=leads_per_rep,
        capacity=total,
        leads_needed=leads_needed,
        gap=leads_needed - total,
        tolerance=tol,
        status=status,
    )


@attrs.frozen(kw_only=True)
class FunnelPlan(arrow.TableResult):
    """The result of :func:`reverse_funnel`: records needed at every stage.

    Attributes:
        stages: Each stage's need, top of the funnel first, ending with the deals stage.
        deals_needed: Deals (won sales) needed.
        revenue_goal: The revenue goal, if the plan started from one.
        deal_value: The average deal value, if given.
        capacity: The capacity check, if reps and leads per rep were given.

    """

    stages: tuple[StageNeed, ...]
    deals_needed: int
    revenue_goal: Decimal | None = None
    deal_value: Decimal | None = None
    capacity: Capacity | None = None

    @property
    def leads_needed(self) -> int:
        """Records needed at the top of the funnel."""
        return self.stages[0].needed

    @property
    def funnel(self) -> tuple[FunnelStage, ...]:
        """The stages and rates the plan was computed from."""
        return tuple(
            FunnelStage(name=s.name, rate=s.rate) for s in self.stages if s.rate is not None
        )

    def forward(self) -> tuple[Fraction, ...]:
        """Run the plan forward: the expected records at each stage from ``leads_needed``.

        Each figure is at least the stage's need, so the plan reaches its goal in expectation.
        """
        expected = [Fraction(self.leads_needed)]
        for stage in self.stages[:-1]:
            assert stage.rate is not None
            expected.append(expected[-1] * stage.rate)
        return tuple(expected)

    def for_reps(self, reps: int) -> FunnelPlan:
        """Scale a per-rep plan to a team of ``reps``: deals (and revenue) times ``reps``.

        >>> rep = reverse_funnel(deals=5, stages=[("lead", 0.5), ("connect", 0.6),
        ...     ("discovery", 0.5), ("demo", "1/3")], outcome="customer")
        >>> rep.leads_needed, rep.for_reps(10).leads_needed
        (100, 1000)
        """
        reps = _whole(reps, "reps", 1)
        return reverse_funnel(
            deals=self.deals_needed * reps,
            stages=self.funnel,
            outcome=self.stages[-1].name,
            deal_value=self.deal_value,
        )

    def with_capacity(
        self, *, reps: int, leads_per_rep: int, tolerance: RateLike = Fraction(1, 20)
    ) -> FunnelPlan:
        """A copy with the capacity check for ``reps`` reps of ``leads_per_rep`` leads each."""
        check = capacity(
            reps=reps,
            leads_per_rep=leads_per_rep,
            leads_needed=self.leads_needed,
            tolerance=tolerance,
        )
        return attrs.evolve(self, capacity=check)

    def to_arrow(self) -> Any:
        """The stages as a ``pyarrow.Table``, top of the funnel first: ``stage`` (string),
        ``needed`` (int), ``rate`` (float share, null for the last stage) and ``expected``
        (float: :meth:`forward`'s figure).

        Raises:
            ModuleNotFoundError: pyarrow is not installed (``pip install 'slacore[arrow]'``).

        """
        return arrow.table(
            {
                "stage": arrow.strings([s.name for s in self.stages]),
                "needed": arrow.integers([s.needed for s in self.stages]),
                "rate": arrow.shares([s.rate for s in self.stages]),
                "expected": arrow.shares(list(self.forward())),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """The plan, JSON-ready: ``leads_needed``, ``deals_needed``, ``stages`` and inputs."""
        data: dict[str, Any] = {
            "leads_needed": self.leads_needed,
            "deals_needed": self.deals_needed,
            "revenue_goal": self.revenue_goal,
            "deal_value": self.deal_value,
            "stages": [{"name": s.name, "needed": s.needed, "rate": s.rate} for s in self.stages],
        }
        if self.capacity is not None:
            data["capacity"] = self.capacity.capacity
            data["capacity_gap"] = self.capacity.gap
            data["capacity_status"] = self.capacity.status
        return json_dict(data)

    def explain(self) -> str:
        """A short paragraph with the working, from the goal down to leads."""
        lines: list[str] = []
        if self.revenue_goal is not None and self.deal_value is not None:
            lines.append(
                f"{format_money(self.revenue_goal)} / {format_money(self.deal_value)} a deal = "
                f"{format_count(self.deals_needed)} {self.stages[-1].name}s needed."
            )
        chain = " <- ".join(
            f"{format_count(s.needed)} {s.name}s"
            + (f" (at {format_rate(s.rate)})" if s.rate is not None else "")
            for s in reversed(self.stages)
        )
        lines.append(f"{chain}. Counts needed round up.")
        if self.capacity is not None:
            lines.append(self.capacity.explain())
        return " ".join(lines)

    def to_markdown(self) -> str:
        """The explanation and a table of stages."""
        rows = [
            [s.name, s.needed, "" if s.rate is None else format_rate(s.rate)] for s in self.stages
        ]
        table = markdown_table(["stage", "needed", "converts to next"], rows)
        return f"{self.explain()}\n\n{table}\n"


StageSpec = FunnelStage | tuple[str, RateLike] | RateLike


def _stages(stages: Sequence[StageSpec] | Mapping[str, RateLike]) -> list[FunnelStage]:
    items: list[StageSpec] = (
        [(name, rate) for name, rate in stages.items()]
        if isinstance(stages, Mapping)
        else list(stages)
    )
    result: list[FunnelStage] = []
    for position, item in enumerate(items, start=1):
        if isinstance(item, FunnelStage):
            result.append(item)
        elif isinstance(item, tuple):
            name, rate = item
            result.append(FunnelStage(name=name, rate=rate))
        else:
            default = "lead" if position == 1 else f"stage {position}"
            result.append(FunnelStage(name=default, rate=item))
    if not result:
        raise PlanError(message="a funnel needs at least one stage with its conversion rate")
    return result


def reverse_funnel(
    *,
    stages: Sequence[StageSpec] | Mapping[str, RateLike],
    revenue: MoneyLike | None = None,
    deal_value: MoneyLike | None = None,
    deals: int | None = None,
    outcome: str = "deal",
    reps: int | None = None,
    leads_per_rep: int | None = None,
) -> FunnelPlan:
    """Work back from a goal to the records each funnel stage needs.

    Give either ``revenue`` and ``deal_value`` (deals needed = revenue / deal value, rounded
    up) or ``deals``. Each stage needs ``ceil(next stage's need / its rate)`` records.

    Args:
        stages: The stages, top of the funnel first, each with its conversion rate to the
            next: ``[("lead", 0.5), ("demo", "1/3")]``, a mapping ``{"lead": 0.5}``,
            :class:`FunnelStage` objects, or bare rates (named ``lead``, ``stage 2``, ...).
        revenue: The revenue goal for the period.
        deal_value: The average value of a deal.
        deals: The number of deals needed, instead of ``revenue`` and ``deal_value``.
        outcome: The name of the last stage, the one the last rate converts into.
        reps: With ``leads_per_rep``, check the plan against sales capacity.
        leads_per_rep: Leads one rep can work in the period.

    Returns:
        A :class:`FunnelPlan`.

    Raises:
        ValidationError: A rate is not in (0, 1], an amount is not positive, a count is not a
            whole number.
        PlanError: No stages, or neither ``deals`` nor ``revenue`` with ``deal_value`` given
            (or both).

    >>> plan = reverse_funnel(revenue=5000, deal_value=100, stages=[0.5])
    >>> plan.leads_needed, plan.deals_needed
    (100, 50)

    """
    funnel = _stages(stages)
    goal: Decimal | None = None
    value: Decimal | None = None
    if deal_value is not None:
        value = to_money(deal_value, field="deal_value")
        if value <= 0:
            raise ValidationError(
                message=f"must be greater than zero, got {value}", field="deal_value"
            )
    if deals is not None:
        if revenue is not None:
            raise PlanError(message="give either deals or revenue with deal_value, not both")
        deals_needed = _whole(deals, "deals", 0)
    else:
        if revenue is None or value is None:
            raise PlanError(
                message="give the revenue goal and the average deal value, or the deals needed"
            )
        goal = to_money(revenue, field="revenue")
        if goal < 0:
            raise ValidationError(message=f"must not be negative, got {goal}", field="revenue")
        deals_needed = ceil_count(Fraction(goal) / Fraction(value))

    needs = [StageNeed(name=outcome, needed=deals_needed, rate=None)]
    for stage in reversed(funnel):
        needs.append(
            StageNeed(
                name=stage.name, needed=ceil_count(needs[-1].needed / stage.rate), rate=stage.rate
            )
        )
    plan = FunnelPlan(
        stages=tuple(reversed(needs)),
        deals_needed=deals_needed,
        revenue_goal=goal,
        deal_value=value,
    )
    if reps is not None or leads_per_rep is not None:
        if reps is None or leads_per_rep is None:
            raise PlanError(message="the capacity check needs both reps and leads_per_rep")
        plan = plan.with_capacity(reps=reps, leads_per_rep=leads_per_rep)
    return plan
