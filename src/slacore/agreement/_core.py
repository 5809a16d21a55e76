"""The agreement: the whole SLA both teams sign, loaded from a TOML file and validated.

An :class:`Agreement` holds every section of seed 000's example SLA, plus what seeds 002-004
add: parties and signatories; version and dates; lead stages, the hand-off and personas; the
business calendar; company goals; marketing's commitments (lead value or leads per period,
values per source, the pacing rule); sales' commitments (response and cadence rules, milestone
goals, process); other commitments of seed 003's kinds (content, campaign, reporting,
training); communication; conflict resolution; rewards; ramifications; review; termination.

``Agreement.load("company_a.toml")`` reads and validates a file. Every problem is reported, all
at once, in an :class:`AgreementError` whose ``errors`` each name the key path and the line::

    company_a.toml:41: sales.response.within: expected a duration like "5m", ... got 'soon'

The sections hold the real core objects (:class:`~slacore.calendar.BusinessCalendar`,
:class:`~slacore.rules.ResponseRule`, :class:`~slacore.rules.CadenceRule`,
:class:`~slacore.planning.milestones.MilestoneGoal`,
:class:`~slacore.planning.lead_values.LeadValueTable`, :class:`~slacore.model.StageLadder`), so an
agreement evaluates data directly.
:meth:`Agreement.to_markdown` and :meth:`Agreement.to_html` write the document both teams sign.
The guide "Write your agreement" walks through the file format.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from slacore._config import Problems, Table, default_of, read_toml, shown, suggest
from slacore._toml_lines import KeyLines
from slacore.agreement._document import _document
from slacore.agreement._reader import (
    _Context,
    _fail,
    _read_calendar,
    _read_commitments,
    _read_communication,
    _read_conflict,
    _read_goals,
    _read_handoff,
    _read_header,
    _read_parties,
    _read_personas,
    _read_ramifications,
    _read_review,
    _read_rewards,
    _read_signatories,
    _read_stages,
    _read_termination,
)
from slacore.agreement._reader_terms import _read_marketing, _read_sales
from slacore.agreement._words import (
    _ACTION_VERBS,
    _count_of,
    _join,
    _span_words,
)
from slacore.agreement.sections import (
    Commitment,
    Communication,
    CompanyGoals,
    ConflictResolution,
    HandoffTerms,
    Party,
    Persona,
    Review,
    Rewards,
    Rung,
    Signatory,
    Termination,
)
from slacore.agreement.terms import (
    MarketingCommitments,
    SalesCommitments,
)
from slacore.calendar.business import BusinessCalendar
from slacore.calendar.periods import Period
from slacore.errors import PlanError, ValidationError
from slacore.model import STANDARD_LADDER, Channel, Handoff, StageLadder, Team
from slacore.planning.lead_values import LeadValueTable
from slacore.planning.milestones import MilestoneGoal
from slacore.planning.pacing import Delivery, Measure, Pacing, deliveries, pace
from slacore.render import format_money
from slacore.rules.cadence import CadenceRule
from slacore.rules.response import Clock, ResponseRule

__all__ = ["Agreement"]

_SECTIONS = (
    "agreement",
    "parties",
    "calendar",
    "stages",
    "handoff",
    "personas",
    "goals",
    "marketing",
    "sales",
    "commitments",
    "communication",
    "conflict",
    "rewards",
    "ramifications",
    "review",
    "termination",
    "signatories",
)


@attrs.frozen(kw_only=True)
class Agreement:
    """The service-level agreement between marketing and sales, as both teams sign it.

    Build one with :meth:`load` (a TOML file) or :meth:`from_dict` (the same data as a
    mapping); both validate everything and report every problem at once. The sections are
    frozen attrs objects holding the real core objects: :attr:`response_rules`,
    :attr:`cadence_rules`, :attr:`milestone_goals`, :attr:`lead_values`, :attr:`ladder`
    and :attr:`calendar` evaluate data directly.

    Attributes:
        title: The document's title.
        company: The company.
        version: The agreement's version ("1.0").
        effective: The date it takes effect.
        expires: The date it ends, if fixed.
        period: The measurement period of commitments, scorecards and rewards.
        parties: Marketing and sales, in that order.
        calendar: The business calendar, if the agreement has one.
        ladder: The lead stages (the standard ladder unless the file defines its own).
        handoff: How leads pass from marketing to sales.
        personas: Buyer personas.
        goals: The company's revenue goals, if stated.
        marketing: Marketing's commitments.
        sales: Sales' commitments.
        commitments: Other commitments (content, campaigns, reporting, training).
        communication: Feedback and meetings, if stated.
        conflict: Conflict resolution, if stated.
        rewards: Shared rewards, if any.
        ramifications: The ladder of actions when shared goals are missed, first rung first.
        review: The review rhythm and early-review triggers, if stated.
        termination: When the agreement ends, if stated.
        signatories: Who signs.
        source: The file it was loaded from, if any.

    """

    title: str
    company: str
    version: str
    effective: date
    marketing: MarketingCommitments
    sales: SalesCommitments
    expires: date | None = None
    period: Period = Period.MONTH
    parties: tuple[Party, ...] = (
        Party(team=Team.MARKETING, name="Marketing"),
        Party(team=Team.SALES, name="Sales"),
    )
    calendar: BusinessCalendar | None = None
    ladder: StageLadder = STANDARD_LADDER
    handoff: HandoffTerms | None = None
    personas: tuple[Persona, ...] = ()
    goals: CompanyGoals | None = None
    commitments: tuple[Commitment, ...] = ()
    communication: Communication | None = None
    conflict: ConflictResolution | None = None
    rewards: Rewards | None = None
    ramifications: tuple[Rung, ...] = ()
    review: Review | None = None
    termination: Termination | None = None
    signatories: tuple[Signatory, ...] = ()
    source: str | None = attrs.field(default=None, eq=False)

    # --- building -------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Agreement:
        """Read and validate an agreement from a TOML file.

        Raises:
            AgreementError: The file cannot be read, is not TOML, or the agreement has
                problems; ``errors`` lists each with its key path and line.

        """
        name = os.fspath(path)
        try:
            data, lines = read_toml(name)
        except ValidationError as problem:
            raise _fail([problem], name) from None
        return cls._build(data, source=name, lines=lines)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], source: str | os.PathLike[str] | None = None
    ) -> Agreement:
        """Validate an agreement given as a mapping shaped like the TOML file.

        Dates may be ``date`` objects or ISO strings. ``source`` names the origin in errors
        (there are no line numbers without the file's text).

        Raises:
            AgreementError: The agreement has problems; ``errors`` lists each.

        """
        return cls._build(data, source=None if source is None else os.fspath(source), lines=None)

    @classmethod
    def _build(cls, data: object, *, source: str | None, lines: KeyLines | None) -> Agreement:
        problems = Problems()
        if not isinstance(data, Mapping):
            problems.add((), f"expected a table of sections, got {shown(data)}")
            raise _fail(problems.errors(source=source, lines=lines), source)
        ctx = _Context(problems, period=default_of(cls, "period"))
        root = Table(data, (), problems)
        header = _read_header(root, ctx)
        parties = _read_parties(root)
        _read_calendar(root, ctx)
        _read_stages(root, ctx)
        handoff = _read_handoff(root, ctx)
        personas = _read_personas(root)
        goals = _read_goals(root)
        marketing = _read_marketing(root, ctx)
        sales = _read_sales(root, ctx)
        commitments = _read_commitments(root, ctx)
        communication = _read_communication(root)
        conflict = _read_conflict(root)
        rewards = _read_rewards(root)
        ramifications = _read_ramifications(root, ctx)
        review = _read_review(root, ctx)
        termination = _read_termination(root)
        signatories = _read_signatories(root)
        for key in root.data:
            if key not in _SECTIONS:
                root.problem(key, f"unknown section{suggest(key, _SECTIONS)}", key)
        if problems.found:
            raise _fail(problems.errors(source=source, lines=lines), source)
        assert header is not None
        assert marketing is not None
        assert sales is not None
        assert commitments is not None
        return cls(
            title=header["title"],
            company=header["company"],
            version=header["version"],
            effective=header["effective"],
            expires=header["expires"],
            period=header["period"],
            parties=parties,
            calendar=ctx.calendar,
            ladder=ctx.ladder,
            handoff=handoff,
            personas=personas,
            goals=goals,
            marketing=marketing,
            sales=sales,
            commitments=commitments,
            communication=communication,
            conflict=conflict,
            rewards=rewards,
            ramifications=ramifications,
            review=review,
            termination=termination,
            signatories=signatories,
            source=source,
        )

    # --- the core objects -----------------------------------------------------------------------

    @property
    def response_rules(self) -> tuple[ResponseRule, ...]:
        """Sales' response rules, ready to evaluate hand-offs and touches."""
        return tuple(c.rule for c in self.sales.response)

    @property
    def cadence_rules(self) -> tuple[CadenceRule, ...]:
        """Sales' cadence rules."""
        return tuple(c.rule for c in self.sales.cadence)

    @property
    def milestone_goals(self) -> tuple[MilestoneGoal, ...]:
        """Sales' milestone goals (close rate, cycle days...)."""
        return self.sales.milestones

    @property
    def lead_values(self) -> LeadValueTable | None:
        """The value of a lead per source (or segment), if marketing has a lead-value quota."""
        return None if self.marketing.lead_value is None else self.marketing.lead_value.values

    def party(self, team: Team | str) -> Party:
        """The party for ``team``."""
        wanted = Team(team)
        return next(p for p in self.parties if p.team is wanted)

    # --- pacing ---------------------------------------------------------------------------------

    def deliveries(self, handoffs: Iterable[Handoff]) -> list[Delivery]:
        """Hand-offs as :class:`~slacore.planning.pacing.Delivery` records valued by the agreement.

        A hand-off whose source (or segment) the lead values do not name has value 0 and says
        so (:attr:`~slacore.planning.pacing.Delivery.unvalued`); :meth:`pace` counts it apart
        and warns, naming the source.

        Raises:
            PlanError: The agreement has no calendar.

        """
        calendar = self._pacing_calendar()
        value = self.marketing.lead_value
        return deliveries(
            handoffs,
            calendar=calendar,
            values=None if value is None else value.values,
            by="source" if value is None else value.basis,
        )

    def pace(
        self,
        delivered: Iterable[Delivery],
        *,
        as_of: date | str,
        measure: Measure | str | None = None,
    ) -> Pacing:
        """Pace marketing's delivery in the period that contains ``as_of`` against its quota.

        Uses the agreement's period, calendar, pacing rule and, when the lead-count funnel
        gives it, sales capacity. ``measure`` defaults to lead value when marketing has a
        lead-value quota, else leads.

        Raises:
            PlanError: No calendar, or no quota of the measure asked for.

        """
        calendar = self._pacing_calendar()
        value, leads = self.marketing.lead_value, self.marketing.leads
        how = (
            Measure(measure)
            if measure is not None
            else (Measure.VALUE if value is not None else Measure.LEADS)
        )
        target: Decimal | int
        if how is Measure.VALUE:
            if value is None:
                raise PlanError(message="marketing has no lead-value quota to pace")
            target = value.amount
        else:
            if leads is None:
                raise PlanError(message="marketing has no lead-count quota to pace")
            target = leads.count
        return pace(
            delivered,
            target=target,
            as_of=as_of,
            calendar=calendar,
            period=self.period,
            measure=how,
            tolerance=self.marketing.pacing.tolerance,
            loading_tolerance=self.marketing.pacing.loading_tolerance,
            capacity=None if leads is None else leads.capacity,
        )

    def _pacing_calendar(self) -> BusinessCalendar:
        if self.calendar is None:
            raise PlanError(
                message="the agreement has no [calendar]: pacing counts its business days"
            )
        return self.calendar

    # --- summaries ------------------------------------------------------------------------------

    def _marketing_words(self) -> list[str]:
        parts: list[str] = []
        if self.marketing.lead_value is not None:
            parts.append(f"{format_money(self.marketing.lead_value.amount)} of lead value")
        if self.marketing.leads is not None:
            parts.append(_count_of(self.marketing.leads.count, "lead"))
        return parts

    def describe(self) -> str:
        """The agreement in one line, as ``slacore check`` prints it."""
        parts = [f"marketing delivers {' and '.join(self._marketing_words())} a {self.period}"]
        sales: list[str] = []
        for response in self.response_rules:
            business = response.clock is Clock.BUSINESS
            sales.append(f"responds within {_span_words(response.within, business=business)}")
        for cadence in self.cadence_rules:
            verb = (
                "touches"
                if len(cadence.channels) > 1
                else _ACTION_VERBS.get(cadence.channels[0], "touch")
                + ("es" if cadence.channels[0] is Channel.EMAIL else "s")
            )
            sales.append(
                f"{verb} each lead {_count_of(cadence.min_touches, 'time')} within "
                f"{_span_words(cadence.within)}"
            )
        if self.sales.milestones:
            sales.append(f"commits to {_count_of(len(self.sales.milestones), 'milestone goal')}")
        if sales:
            parts.append("sales " + _join(sales))
        if self.commitments:
            parts.append(_count_of(len(self.commitments), "other commitment"))
        if self.ramifications:
            parts.append(_count_of(len(self.ramifications), "ramification rung"))
        if self.review is not None:
            parts.append(f"reviewed every {self.review.every}")
        parts.append(_count_of(len(self.signatories), "signatory", "signatories"))
        return (
            f"{self.company} agreement, version {self.version}, effective "
            f"{self.effective.isoformat()}: {'; '.join(parts)}"
        )

    def summary(self) -> dict[str, Any]:
        """The agreement's key figures, JSON-ready (``slacore check --json``)."""
        value, leads = self.marketing.lead_value, self.marketing.leads
        return {
            "title": self.title,
            "company": self.company,
            "version": self.version,
            "effective": self.effective.isoformat(),
            "expires": None if self.expires is None else self.expires.isoformat(),
            "period": self.period.value,
            "stages": list(self.ladder.keys),
            "handoff_stage": None if self.handoff is None else self.handoff.stage,
            "calendar": None if self.calendar is None else self.calendar.describe(),
            "goals": None
            if self.goals is None
            else {
                "annual_revenue": str(self.goals.annual_revenue),
                "monthly_run_rate": str(self.goals.run_rate().per_period),
                "run_rate_by": f"{self.goals.year:04d}-{self.goals.target_month:02d}",
            },
            "marketing": {
                "lead_value": None if value is None else str(value.amount),
                "lead_values": None if value is None else value.values.to_dict(),
                "leads": None if leads is None else leads.count,
                "capacity": None if leads is None else leads.capacity,
            },
            "sales": {
                "response": [r.rule.describe() for r in self.sales.response],
                "cadence": [c.rule.describe() for c in self.sales.cadence],
                "milestones": [m.metric for m in self.sales.milestones],
                "process": len(self.sales.process),
            },
            "commitments": [c.name for c in self.commitments],
            "ramification_rungs": len(self.ramifications),
            "review_every": None if self.review is None else self.review.every.value,
            "terminate_after": None if self.termination is None else self.termination.unmet_periods,
            "signatories": len(self.signatories),
        }

    # --- the document ---------------------------------------------------------------------------

    def to_markdown(self) -> str:
        """The document both teams sign, in Markdown: every section in plain sentences."""
        return _document(self).markdown()

    def to_html(self) -> str:
        """The same document as one self-contained HTML file that prints well."""
        return _document(self).html()
