"""The sections of an agreement: frozen value objects holding the real core objects.

Marketing's and sales' terms are in :mod:`slacore.agreement.terms`.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import attrs

from slacore._config import default_of
from slacore.agreement._words import (
    _count_of,
    _join,
    _span_words,
    _team_name,
)
from slacore.calendar.periods import Period
from slacore.model import Team
from slacore.planning.goals import CatchUp, RunRate, catch_up, run_rate
from slacore.rules.response import ResponseRule

__all__ = [
    "Commitment",
    "CommitmentKind",
    "Communication",
    "CompanyGoals",
    "ConflictResolution",
    "Deliverable",
    "HandoffTerms",
    "Meeting",
    "Party",
    "Persona",
    "Review",
    "ReviewTrigger",
    "Rewards",
    "Rung",
    "Signatory",
    "Termination",
]

DEFAULT_EXIT_STAGES: tuple[str, ...] = default_of(ResponseRule, "withdraw_on")
"""Stages that take a lead out of the ladder (and withdraw it from the sales clocks): the
rules' own default for ``withdraw_on``."""


@attrs.frozen(kw_only=True)
class Party:
    """One side of the agreement.

    Attributes:
        team: Marketing or sales.
        name: What the document calls the team (default "Marketing" or "Sales").
        leader: Who leads it, e.g. "the Chief Marketing Officer".

    """

    team: Team
    name: str
    leader: str = ""


@attrs.frozen(kw_only=True)
class Signatory:
    """Someone who signs the agreement.

    Attributes:
        title: Their role, e.g. "Chief Marketing Officer".
        name: Their name; empty leaves a line to fill in.
        team: Their team, or ``None`` for someone above both (a CEO).
        signed_at: When they signed (a date, or an aware date-time), if they have.

    """

    title: str
    name: str = ""
    team: Team | None = None
    signed_at: date | datetime | None = None


@attrs.frozen(kw_only=True)
class HandoffTerms:
    """How a lead passes from marketing to sales (seeds 002 and 004).

    Attributes:
        stage: The stage whose entry hands a lead to sales (e.g. ``"mql"``); the response
            clock starts when the rep is notified of it.
        notified_by: What notifies the rep, e.g. "the marketing automation platform".
        information: What marketing passes with each lead.
        exit_stages: Stages outside the ladder that take a lead out of the sales clocks
            (disqualified, recycled...).

    """

    stage: str
    notified_by: str = ""
    information: tuple[str, ...] = ()
    exit_stages: tuple[str, ...] = DEFAULT_EXIT_STAGES


@attrs.frozen(kw_only=True)
class Persona:
    """A buyer persona both teams agree on (seed 004).

    Attributes:
        key: A short identifier, used as a segment name.
        name: The persona's name.
        description: Who they are.

    """

    key: str
    name: str
    description: str = ""


@attrs.frozen(kw_only=True)
class CompanyGoals:
    """The revenue goals both teams share (seed 000, goals 1-3).

    Attributes:
        annual_revenue: The annual revenue goal.
        year: The year of the goal.
        target_month: The month (1-12) by which the new monthly run rate is reached.
        current_annual_revenue: Annual revenue today, where the ramp starts, if given.

    """

    annual_revenue: Decimal
    year: int
    target_month: int
    current_annual_revenue: Decimal | None = None

    def run_rate(self) -> RunRate:
        """The goal's monthly run rate: $15,000,000 a year is $1,250,000 a month."""
        return run_rate(self.annual_revenue)

    def current_run_rate(self) -> RunRate | None:
        """Today's monthly run rate, if today's annual revenue is given."""
        if self.current_annual_revenue is None:
            return None
        return run_rate(self.current_annual_revenue)

    def plan(self, actuals: Sequence[Decimal | int | str] = ()) -> CatchUp:
        """The catch-up plan for the year (see :func:`~slacore.planning.goals.catch_up`).

        Raises:
            PlanError: No current revenue and too few actuals to ramp from.

        """
        current = self.current_run_rate()
        return catch_up(
            self.annual_revenue,
            target_month=self.target_month,
            actuals=actuals,
            current_run_rate=None if current is None else current.per_period,
            year=self.year,
        )

    def monthly_target(self, month: int) -> Decimal:
        """The revenue target of a month of the goal year (1-12): the plan's amount for it.

        Before the target month that is the ramp from today's run rate (or the run rate
        itself without one); from the target month on, what the month must bring.
        """
        if self.current_annual_revenue is None and month < self.target_month:
            return self.run_rate().per_period
        return self.plan().months[month - 1].amount


class CommitmentKind(enum.StrEnum):
    """Seed 003's kinds of marketing SLA beyond lead generation."""

    CONTENT = "content"
    CAMPAIGN = "campaign"
    REPORTING = "reporting"
    TRAINING = "training"
    OTHER = "other"


@attrs.frozen(kw_only=True)
class Deliverable:
    """``count`` of ``item`` per period: 4 blog posts.

    Attributes:
        count: How many.
        item: What, in the singular ("blog post").
        plural: The plural, when adding "s" is wrong.

    """

    count: int
    item: str
    plural: str = ""

    def words(self) -> str:
        """``"4 blog posts"``."""
        return _count_of(self.count, self.item, self.plural)


@attrs.frozen(kw_only=True)
class Commitment:
    """A generic promise: "team A delivers N of X per period; team B does Y" (seed 003).

    Attributes:
        name: A short name, unique in the agreement.
        kind: Content, campaign, reporting, training or other.
        team: The team that delivers.
        deliverables: What it delivers each period.
        per: The period.
        verb: The verb of the promise ("deliver", "launch", "run").
        in_return: What the other team does with it.
        within: The window the other team has, if any.

    """

    name: str
    kind: CommitmentKind
    team: Team
    deliverables: tuple[Deliverable, ...]
    per: Period
    verb: str = "deliver"
    in_return: str = ""
    within: timedelta | None = None

    @property
    def other_team(self) -> Team:
        """The team on the receiving side."""
        return Team.SALES if self.team is Team.MARKETING else Team.MARKETING

    def describe(self) -> str:
        """The promise in one sentence."""
        items = _join([d.words() for d in self.deliverables])
        text = f"{_team_name(self.team)} will {self.verb} {items} each {self.per}"
        if self.in_return:
            text += f"; {self.other_team.value} will {self.in_return}"
            if self.within is not None:
                text += f" within {_span_words(self.within)}"
        return text + "."


@attrs.frozen(kw_only=True)
class Meeting:
    """A recurring meeting of the teams (seed 000).

    Attributes:
        name: Its name ("Weekly leadership huddle").
        attendees: Who meets, as a plural phrase ("the leaders of marketing and sales").
        every: How often.
        length: How long.
        agenda: What they do there.

    """

    name: str
    attendees: str
    every: Period
    length: timedelta
    agenda: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Communication:
    """How the teams give feedback and meet.

    Attributes:
        feedback_within: Feedback between the teams is shared within this time.
        feedback_at: Where it is discussed to resolution.
        marketing_feedback: What marketing gives feedback on.
        sales_feedback: What sales gives feedback on.
        meetings: The meeting rhythm.

    """

    feedback_within: timedelta | None = None
    feedback_at: str = ""
    marketing_feedback: str = ""
    sales_feedback: str = ""
    meetings: tuple[Meeting, ...] = ()


@attrs.frozen(kw_only=True)
class ConflictResolution:
    """Who settles what the teams cannot (seed 000).

    Attributes:
        panel: The panel's members.
        time_per_side: How long each team presents.
        binding: Whether the decision binds both teams.
        arbiter: A sole arbiter who replaces the panel where the role exists (a CRO).

    """

    panel: tuple[str, ...] = ()
    time_per_side: timedelta | None = None
    binding: bool = True
    arbiter: str = ""


@attrs.frozen(kw_only=True)
class Rewards:
    """What the teams earn together (seed 000).

    Attributes:
        pool: The pool shared each period when the shared goals are met, if any.
        condition: When the pool is earned, in words.
        distribution: How it is shared out.
        annual: The annual reward, in words, if any.
        annual_condition: When it is earned.

    """

    pool: Decimal | None = None
    condition: str = "both teams hit their goals and the company's revenue goal"
    distribution: str = ""
    annual: str = ""
    annual_condition: str = "both teams hit their annual goals and the company's revenue goal"


@attrs.frozen(kw_only=True)
class Rung:
    """A step of the ramifications ladder: what happens once shared goals are missed this long.

    Attributes:
        after: How long the goals have been missed ("30 days").
        periods: The same in the agreement's periods, rounded up (30 days = 1 month).
        actions: What happens.

    """

    after: timedelta
    periods: int
    actions: tuple[str, ...]

    def title(self) -> str:
        """``"Shared goals not met after 30 days"``."""
        return f"Shared goals not met after {_span_words(self.after)}"


@attrs.frozen(kw_only=True)
class ReviewTrigger:
    """An early review when a conversion rate falls below a threshold (seed 004).

    Attributes:
        from_stage: The stage converted from (``"lead"``).
        to_stage: The stage converted to (``"mql"``).
        below: The threshold.
        name: Its name ("lead-to-MQL conversion").

    """

    from_stage: str
    to_stage: str
    below: Fraction
    name: str

    @property
    def key(self) -> str:
        """``"lead->mql"``: how a scorecard names its actual."""
        return f"{self.from_stage}->{self.to_stage}"


@attrs.frozen(kw_only=True)
class Review:
    """The living document's review rhythm (seed 004).

    Attributes:
        every: How often it is reviewed (at least quarterly, seed 004 says).
        first: The first review, if not one period after the effective date.
        triggers: Early-review triggers.

    """

    every: Period
    first: date | None = None
    triggers: tuple[ReviewTrigger, ...] = ()


@attrs.frozen(kw_only=True)
class Termination:
    """When the agreement ends (seed 002).

    Attributes:
        unmet_periods: Ends when shared goals stay unmet this many periods running.
        approval_withdrawn: Ends when the parties no longer approve it.

    """

    unmet_periods: int | None = None
    approval_withdrawn: bool = False
