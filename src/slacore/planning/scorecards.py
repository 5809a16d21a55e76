"""Scorecards: how both teams did in a period against every commitment of the agreement.

:func:`scorecard` compares a period's actuals with every commitment of an
:class:`~slacore.agreement.Agreement`: the company's revenue target for the month (seed 000's
catch-up plan), marketing's lead value or leads, each response and cadence rule's compliance,
each milestone goal at the period's last day, each other commitment's deliverables. The shared
goals are met when every measured commitment is met (seed 000: "both teams must be accountable
for all the goals, not just those in their lane"). The scorecard also says which rewards are
earned (:mod:`slacore.planning.rewards`), which early-review triggers fired (low lead-to-MQL
conversion or MQL-to-SQL acceptance, seed 004) and when the next scheduled review is
(:mod:`slacore.planning.reviews`).

A history of scorecards feeds :func:`~slacore.planning.escalation_ladder.escalation`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction
from operator import attrgetter
from typing import Any

import attrs

from slacore import _arrow as arrow
from slacore._values import RateLike, format_rate, to_money, to_rate
from slacore.agreement import Agreement, Commitment
from slacore.calendar.duration import format_duration
from slacore.calendar.periods import Period, PeriodSpan
from slacore.errors import PlanError, UnknownKeyError, ValidationError
from slacore.planning.goals import run_rate
from slacore.planning.milestones import MilestoneGoal
from slacore.planning.reviews import TriggerCheck, _next_review, _triggers
from slacore.planning.rewards import RewardCheck, _rewards
from slacore.render import (
    Block,
    Paragraph,
    Table,
    blocks_markdown,
    format_count,
    format_money,
    json_dict,
)
from slacore.rules.cadence_report import CadenceReport, CadenceSummary
from slacore.rules.response_report import ResponseReport, ResponseSummary

__all__ = ["ScoreLine", "Scorecard", "scorecard"]

Compliance = RateLike | ResponseReport | ResponseSummary | CadenceReport | CadenceSummary
"""A rule's actual: its compliance share, or the report (or summary) it came from."""


@attrs.frozen(kw_only=True)
class ScoreLine:
    """One commitment in a period: target, actual, verdict.

    Attributes:
        key: Where the commitment sits in the agreement (``"sales.response.response"``).
        team: ``"company"``, ``"marketing"`` or ``"sales"``.
        commitment: The commitment in words.
        target: The target (money, a count, a share, or a milestone figure).
        actual: The actual, or ``None`` when not measured.
        met: Whether the actual meets the target; ``None`` when not measured.
        target_text: The target as the document writes it.
        actual_text: The actual likewise ("" when not measured).

    """

    key: str
    team: str
    commitment: str
    target: object
    actual: object
    met: bool | None
    target_text: str
    actual_text: str

    @property
    def measured(self) -> bool:
        """Whether there was an actual to judge."""
        return self.met is not None

    def to_dict(self) -> dict[str, Any]:
        """The line, JSON-ready."""
        return json_dict(
            {
                "key": self.key,
                "team": self.team,
                "commitment": self.commitment,
                "target": _plain(self.target),
                "actual": _plain(self.actual),
                "met": self.met,
                "target_text": self.target_text,
                "actual_text": self.actual_text,
            }
        )


_KINDS = ("amount", "count", "share", "deliverables")
_SHARE_PLACES = Decimal("1e-12")


def _kind(target: object) -> str:
    """What a line's target is, by its type: one of ``_KINDS``."""
    if isinstance(target, Mapping):
        return "deliverables"
    if isinstance(target, Fraction):
        return "share"
    return "count" if isinstance(target, int) else "amount"


def _figure(value: object) -> Decimal | None:
    """A line's target or actual as a Decimal for a table (``None`` for deliverables)."""
    if isinstance(value, Fraction):
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return exact if Fraction(exact) == value else exact.quantize(_SHARE_PLACES)
    if isinstance(value, Decimal | int):
        return Decimal(value)
    return None


def _plain(value: object) -> object:
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    return value


@attrs.frozen(kw_only=True)
class Scorecard(arrow.TableResult):
    """Every commitment of an agreement in one period. See :func:`scorecard`.

    Attributes:
        span: The period.
        lines: One line per commitment, company first, then marketing, sales, the others.
        met: The shared-goal verdict: every measured line met.
        rewards: The rewards earned or not.
        triggers: The early-review triggers checked.
        next_review: The next scheduled review after the period, if the agreement has a
            review rhythm.

    """

    span: PeriodSpan
    lines: tuple[ScoreLine, ...]
    met: bool
    rewards: tuple[RewardCheck, ...] = ()
    triggers: tuple[TriggerCheck, ...] = ()
    next_review: date | None = None

    @property
    def label(self) -> str:
        """The period's label, ``"2020-07"``."""
        return self.span.label

    @property
    def missed(self) -> tuple[ScoreLine, ...]:
        """The lines measured and missed."""
        return tuple(line for line in self.lines if line.met is False)

    @property
    def unmeasured(self) -> tuple[ScoreLine, ...]:
        """The lines without an actual."""
        return tuple(line for line in self.lines if line.met is None)

    @property
    def early_review(self) -> bool:
        """Whether a trigger fired: the agreement is due for an early review."""
        return any(t.fired for t in self.triggers)

    def line(self, key: str) -> ScoreLine:
        """The line with ``key``.

        Raises:
            UnknownKeyError: No such line.

        """
        for item in self.lines:
            if item.key == key:
                return item
        raise UnknownKeyError(
            message=f"no scorecard line {key!r}", key=key, known=tuple(i.key for i in self.lines)
        )

    def to_arrow(self) -> Any:
        """The lines as a ``pyarrow.Table``, in the scorecard's order: ``key``, ``team`` and
        ``commitment`` (strings); ``kind`` (dictionary: ``amount``, ``count``, ``share`` or
        ``deliverables``, what ``target`` is); ``target`` and ``actual`` (decimals: amounts
        exactly, counts, shares as a fraction of 1, exact when it ends, else to 12 places;
        null for deliverables, which a line counts by item, and for an actual not
        measured); ``met`` (bool, null when not measured); ``target_text`` and
        ``actual_text`` (strings, as the scorecard writes them).

        Raises:
            ModuleNotFoundError: pyarrow is not installed (``pip install 'slacore[arrow]'``).

        """
        return arrow.records_table(
            self.lines,
            [
                ("key", arrow.strings, attrgetter("key")),
                ("team", arrow.strings, attrgetter("team")),
                ("commitment", arrow.strings, attrgetter("commitment")),
                ("kind", lambda v: arrow.categories(v, _KINDS), lambda line: _kind(line.target)),
                ("target", arrow.decimals, lambda line: _figure(line.target)),
                ("actual", arrow.decimals, lambda line: _figure(line.actual)),
                ("met", arrow.flags, attrgetter("met")),
                ("target_text", arrow.strings, attrgetter("target_text")),
                ("actual_text", arrow.strings, attrgetter("actual_text")),
            ],
        )

    def to_dict(self) -> dict[str, Any]:
        """The scorecard, JSON-ready."""
        return json_dict(
            {
                "period": self.span.label,
                "start": self.span.start,
                "end": self.span.end,
                "met": self.met,
                "lines": [line.to_dict() for line in self.lines],
                "rewards": [reward.to_dict() for reward in self.rewards],
                "triggers": [trigger.to_dict() for trigger in self.triggers],
                "early_review": self.early_review,
                "next_review": self.next_review,
            }
        )

    def explain(self) -> str:
        """A few sentences: the verdict, the rewards, the review."""
        measured = [line for line in self.lines if line.measured]
        met = sum(1 for line in measured if line.met)
        verdict = "met" if self.met else "missed"
        text = (
            f"{self.span.label}: shared goals {verdict} ({met} of "
            f"{len(measured)} measured commitments met"
        )
        if self.missed:
            text += "; missed: " + ", ".join(line.commitment for line in self.missed)
        text += ")."
        if self.unmeasured:
            text += f" Not measured: {', '.join(line.commitment for line in self.unmeasured)}."
        for reward in self.rewards:
            text += f" {reward.reason}."
        fired = [t for t in self.triggers if t.fired]
        if fired:
            reasons = ", ".join(
                f"{t.name} {format_rate(t.actual or Fraction(0))} is below {format_rate(t.below)}"
                for t in fired
            )
            text += f" Early review due: {reasons}."
        if self.next_review is not None:
            text += f" Next scheduled review: {self.next_review.isoformat()}."
        return text

    def to_blocks(self) -> list[Block]:
        """The explanation and a table of the commitments: the blocks of a page
        (:class:`slacore.render.Page`)."""
        rows = [
            [
                line.team,
                line.commitment,
                line.target_text,
                line.actual_text,
                "not measured" if line.met is None else ("met" if line.met else "missed"),
            ]
            for line in self.lines
        ]
        return [
            Paragraph(self.explain()),
            Table(["team", "commitment", "target", "actual", "result"], rows),
        ]

    def to_markdown(self) -> str:
        """The explanation and a table of the commitments."""
        return blocks_markdown(self.to_blocks())


def _compliance(value: Compliance, field: str) -> Fraction | None:
    if isinstance(value, ResponseReport | CadenceReport):
        return value.summary.compliance
    if isinstance(value, ResponseSummary | CadenceSummary):
        return value.compliance
    share = to_rate(value, field=field)
    if not 0 <= share <= 1:
        raise ValidationError(
            message=f"expected a share between 0 and 1, got {format_rate(share)}", field=field
        )
    return share


def _by_name(
    given: Mapping[str, Compliance] | Compliance | None, names: Sequence[str], what: str
) -> dict[str, Compliance]:
    """Actuals per rule name; a single value stands for the only rule."""
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        if len(names) != 1:
            raise ValidationError(
                message=f"the agreement has {len(names)} {what} rules: give a mapping by name",
                field=what,
            )
        return {names[0]: given}
    for name in given:
        if name not in names:
            raise UnknownKeyError(message=f"no {what} rule {name!r}", key=name, known=tuple(names))
    return dict(given)


def _milestone_actual(goal: MilestoneGoal, value: Decimal | int | str | float) -> Decimal:
    if goal.unit == "%":
        share = to_rate(value, field=f"milestones.{goal.metric}")
        return Decimal(share.numerator) / Decimal(share.denominator)
    return to_money(value, field=f"milestones.{goal.metric}")


def _milestone_text(goal: MilestoneGoal, value: Decimal) -> str:
    if goal.unit == "%":
        return format_rate(Fraction(value))
    text = f"{value.normalize():f}"
    return f"{text} {goal.unit}" if goal.unit else text


def _commitment_line(item: Commitment, actual: Mapping[str, int] | None) -> ScoreLine:
    target = {d.item: d.count for d in item.deliverables}
    target_text = ", ".join(d.words() for d in item.deliverables)
    if actual is None:
        return ScoreLine(
            key=f"commitments.{item.name}",
            team=item.team.value,
            commitment=item.name,
            target=target,
            actual=None,
            met=None,
            target_text=target_text,
            actual_text="",
        )
    for name, count in actual.items():
        if name not in target:
            raise UnknownKeyError(
                message=f"{item.name!r} has no deliverable {name!r}", key=name, known=tuple(target)
            )
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValidationError(
                message=f"expected a whole number >= 0, got {count!r}",
                field=f"commitments.{item.name}.{name}",
            )
    done = {d.item: actual.get(d.item, 0) for d in item.deliverables}
    return ScoreLine(
        key=f"commitments.{item.name}",
        team=item.team.value,
        commitment=item.name,
        target=target,
        actual=done,
        met=all(done[d.item] >= d.count for d in item.deliverables),
        target_text=target_text,
        actual_text=", ".join(
            attrs.evolve(d, count=done[d.item]).words() for d in item.deliverables
        ),
    )


def _money_line(
    key: str, team: str, commitment: str, target: Decimal, actual: Decimal | int | str | None
) -> ScoreLine:
    figure = None if actual is None else to_money(actual, field=key)
    if figure is not None and figure < 0:
        raise ValidationError(message=f"must not be negative, got {figure}", field=key)
    return ScoreLine(
        key=key,
        team=team,
        commitment=commitment,
        target=target,
        actual=figure,
        met=None if figure is None else figure >= target,
        target_text=format_money(target),
        actual_text="" if figure is None else format_money(figure),
    )


def _share_line(key: str, commitment: str, target: Fraction, actual: Fraction | None) -> ScoreLine:
    return ScoreLine(
        key=key,
        team="sales",
        commitment=commitment,
        target=target,
        actual=actual,
        met=None if actual is None else actual >= target,
        target_text=f"{format_rate(target)} met",
        actual_text="" if actual is None else f"{format_rate(actual)} met",
    )


def scorecard(
    agreement: Agreement,
    period: date | str,
    *,
    revenue: Decimal | int | str | None = None,
    year_revenue: Decimal | int | str | None = None,
    lead_value: Decimal | int | str | None = None,
    leads: int | None = None,
    response: Mapping[str, Compliance] | Compliance | None = None,
    cadence: Mapping[str, Compliance] | Compliance | None = None,
    milestones: Mapping[str, Decimal | int | str | float] | None = None,
    commitments: Mapping[str, Mapping[str, int]] | None = None,
    conversions: Mapping[str, RateLike] | None = None,
) -> Scorecard:
    """Score one period of ``agreement`` from its actuals.

    Every commitment gets a line; a commitment without an actual is "not measured" and does
    not count either way. The shared goals are met when every measured line is met.

    Args:
        agreement: The agreement.
        period: A day in the period, an ISO date, or a label (``"2020-07"`` for a month).
        revenue: The company's revenue in the period; the target is the catch-up plan's
            amount for that month of the goal year (the run rate share otherwise).
        year_revenue: The goal year's revenue, at year end: judges the annual goal and the
            annual reward.
        lead_value: Lead value marketing delivered in the period.
        leads: Leads marketing delivered in the period.
        response: Each response rule's compliance (a share, or the rule's report or
            summary), by rule name; a single value when the agreement has one rule. The
            target is the rule's ``target``, or 100% ("all leads") without one.
        cadence: The same for cadence rules.
        milestones: Each milestone goal's actual by metric (``"38%"`` for a rate goal, ``39``
            for days), judged against its target on the period's last day.
        commitments: Each other commitment's deliveries by name: ``{"content": {"blog post":
            4}}``; a deliverable left out counts as 0. They are judged against the counts the
            commitment promises per its own period: give a quarterly commitment's deliveries
            for the whole quarter, in the scorecard of the quarter's last month.
        conversions: Stage conversion rates for the early-review triggers, by ``"lead->mql"``
            (or by the trigger's name).

    Returns:
        A :class:`Scorecard`.

    Raises:
        PlanError: No commitment has an actual, or ``year_revenue`` without company goals.
        UnknownKeyError: An actual names a rule, metric, commitment, deliverable or trigger
            the agreement does not have.
        ValidationError: A malformed actual (a negative amount, a share above 1...).

    """
    span = agreement.period.span(period)
    goals = agreement.goals
    lines: list[ScoreLine] = []
    if goals is not None:
        if agreement.period is Period.MONTH and span.start.year == goals.year:
            target = goals.monthly_target(span.start.month)
        else:
            target = run_rate(goals.annual_revenue, periods=agreement.period.per_year).per_period
        lines.append(_money_line("goals.revenue", "company", "revenue", target, revenue))
        if year_revenue is not None:
            lines.append(
                _money_line(
                    "goals.annual_revenue",
                    "company",
                    f"annual revenue {goals.year}",
                    goals.annual_revenue,
                    year_revenue,
                )
            )
    elif year_revenue is not None:
        raise PlanError(message="year_revenue needs company goals in the agreement")

    marketing = agreement.marketing
    if marketing.lead_value is not None:
        lines.append(
            _money_line(
                "marketing.lead_value",
                "marketing",
                "lead value",
                marketing.lead_value.amount,
                lead_value,
            )
        )
    if marketing.leads is not None:
        if leads is not None and (
            isinstance(leads, bool) or not isinstance(leads, int) or leads < 0
        ):
            raise ValidationError(
                message=f"expected a whole number >= 0, got {leads!r}", field="leads"
            )
        lines.append(
            ScoreLine(
                key="marketing.leads",
                team="marketing",
                commitment="leads",
                target=marketing.leads.count,
                actual=leads,
                met=None if leads is None else leads >= marketing.leads.count,
                target_text=format_count(marketing.leads.count),
                actual_text="" if leads is None else format_count(leads),
            )
        )

    responses = _by_name(response, [r.name for r in agreement.response_rules], "response")
    for rule in agreement.response_rules:
        given = responses.get(rule.name)
        share = None if given is None else _compliance(given, f"response.{rule.name}")
        lines.append(
            _share_line(
                f"sales.response.{rule.name}",
                f"{rule.name} within {format_duration(rule.within)}",
                rule.target if rule.target is not None else Fraction(1),
                share,
            )
        )
    cadences = _by_name(cadence, [r.name for r in agreement.cadence_rules], "cadence")
    for cadence_rule in agreement.cadence_rules:
        given = cadences.get(cadence_rule.name)
        share = None if given is None else _compliance(given, f"cadence.{cadence_rule.name}")
        lines.append(
            _share_line(
                f"sales.cadence.{cadence_rule.name}",
                f"{cadence_rule.name}: {cadence_rule.min_touches} touches within "
                f"{format_duration(cadence_rule.within)}",
                cadence_rule.target if cadence_rule.target is not None else Fraction(1),
                share,
            )
        )
    figures = dict(milestones or {})
    metrics = [goal.metric for goal in agreement.milestone_goals]
    for name in figures:
        if name not in metrics:
            raise UnknownKeyError(
                message=f"no milestone goal {name!r}", key=name, known=tuple(metrics)
            )
    for goal in agreement.milestone_goals:
        target = goal.target_on(span.end)
        raw = figures.get(goal.metric)
        if raw is None:
            lines.append(
                ScoreLine(
                    key=f"sales.milestones.{goal.metric}",
                    team="sales",
                    commitment=goal.metric,
                    target=target,
                    actual=None,
                    met=None,
                    target_text=_milestone_text(goal, target),
                    actual_text="",
                )
            )
            continue
        check = goal.check(_milestone_actual(goal, raw), span.end)
        lines.append(
            ScoreLine(
                key=f"sales.milestones.{goal.metric}",
                team="sales",
                commitment=goal.metric,
                target=check.target,
                actual=check.actual,
                met=check.met,
                target_text=_milestone_text(goal, check.target),
                actual_text=_milestone_text(goal, check.actual),
            )
        )
    delivered = dict(commitments or {})
    names = [c.name for c in agreement.commitments]
    for name in delivered:
        if name not in names:
            raise UnknownKeyError(message=f"no commitment {name!r}", key=name, known=tuple(names))
    lines.extend(_commitment_line(c, delivered.get(c.name)) for c in agreement.commitments)

    triggers = _triggers(agreement, conversions)
    measured = [line for line in lines if line.measured]
    if not measured:
        raise PlanError(message=f"no actuals for {span.label}: nothing to score")
    met = all(line.met for line in measured)
    by_key = {line.key: line for line in lines}
    return Scorecard(
        span=span,
        lines=tuple(lines),
        met=met,
        rewards=_rewards(agreement, met, by_key),
        triggers=triggers,
        next_review=_next_review(agreement, span.end),
    )
