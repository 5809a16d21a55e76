"""Marketing's and sales' terms: what each team promises per period.

Marketing's lead-value and lead-count quotas and its pacing rule; the scope of a sales rule
(:class:`LeadFilter`) and sales' response, cadence and milestone commitments.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

import attrs

from slacore.agreement._words import (
    _join,
    _plural,
)
from slacore.model import STANDARD_LADDER, StageLadder
from slacore.planning.funnel import FunnelPlan
from slacore.planning.lead_values import LeadValue, LeadValueTable, MixValue
from slacore.planning.milestones import MilestoneGoal
from slacore.rules.cadence import CadenceRule
from slacore.rules.eligibility import ALL, Eligibility, hand_raisers, segment, source, stage
from slacore.rules.response import ResponseRule

__all__ = [
    "CadenceCommitment",
    "LeadCountCommitment",
    "LeadFilter",
    "LeadValueCommitment",
    "MarketingCommitments",
    "PacingRule",
    "ResponseCommitment",
    "SalesCommitments",
]


@attrs.frozen(kw_only=True)
class LeadValueCommitment:
    """Marketing's lead-value quota (seeds 000 and 001).

    Attributes:
        amount: Lead value to deliver each period.
        values: The value of one lead of each source (or segment).
        basis: ``"source"`` or ``"segment"``: what the values are keyed by.
        workings: For values given as close rate x average deal value, the working.
        sample: A sample period's leads per source, to show the quota is reachable.

    """

    amount: Decimal
    values: LeadValueTable
    basis: str = "source"
    workings: tuple[LeadValue, ...] = ()
    sample: tuple[tuple[str, int], ...] = ()

    def sample_period(self) -> MixValue | None:
        """The sample's lead value against the quota, or ``None`` without a sample."""
        if not self.sample:
            return None
        return self.values.value_of(dict(self.sample), quota=self.amount)


@attrs.frozen(kw_only=True)
class LeadCountCommitment:
    """Marketing's lead-count quota (seed 001: 1,000 leads a month).

    Attributes:
        count: Leads to deliver each period.
        funnel: The team's funnel plan the count comes from, with the capacity check, if
            given.
        per_rep: The same plan for one rep, if given.

    """

    count: int
    funnel: FunnelPlan | None = None
    per_rep: FunnelPlan | None = None

    @property
    def capacity(self) -> int | None:
        """Leads sales can work in a period, if the funnel gives reps and leads per rep."""
        if self.funnel is None or self.funnel.capacity is None:
            return None
        return self.funnel.capacity.capacity


@attrs.frozen(kw_only=True)
class PacingRule:
    """How evenly marketing must deliver (see :func:`slacore.planning.pacing.pace`).

    Attributes:
        tolerance: Within this share of the straight line, delivery is on pace.
        loading_tolerance: A period with at least 50% plus this share of its delivery in
            the first half of its business days is front-loaded; at most 50% minus it,
            back-loaded.

    """

    tolerance: Fraction = Fraction(1, 10)
    loading_tolerance: Fraction = Fraction(1, 5)


@attrs.frozen(kw_only=True)
class MarketingCommitments:
    """What marketing promises each period.

    Attributes:
        lead_value: The lead-value quota, if any.
        leads: The lead-count quota, if any (at least one of the two is given).
        pacing: How evenly it must arrive.

    """

    lead_value: LeadValueCommitment | None = None
    leads: LeadCountCommitment | None = None
    pacing: PacingRule = PacingRule()


@attrs.frozen(kw_only=True)
class LeadFilter:
    """Which hand-offs a sales rule covers, as the agreement states it.

    :meth:`eligibility` builds the :mod:`slacore.rules.eligibility` selector; :meth:`words` says it
    in the document's words.

    Attributes:
        hand_raisers: Only leads that asked for sales follow-up.
        sources, segments, stages: Only these (each empty: no restriction).
        exclude_sources, exclude_segments, exclude_stages: Never these.

    """

    hand_raisers: bool = False
    sources: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    exclude_sources: tuple[str, ...] = ()
    exclude_segments: tuple[str, ...] = ()
    exclude_stages: tuple[str, ...] = ()

    def eligibility(self) -> Eligibility:
        """The selector: every restriction and exclusion combined with ``&``."""
        parts: list[Eligibility] = []
        if self.hand_raisers:
            parts.append(hand_raisers())
        if self.sources:
            parts.append(source(*self.sources))
        if self.segments:
            parts.append(segment(*self.segments))
        if self.stages:
            parts.append(stage(*self.stages))
        if self.exclude_sources:
            parts.append(~source(*self.exclude_sources))
        if self.exclude_segments:
            parts.append(~segment(*self.exclude_segments))
        if self.exclude_stages:
            parts.append(~stage(*self.exclude_stages))
        if not parts:
            return ALL
        selector = parts[0]
        for part in parts[1:]:
            selector = selector & part
        return selector

    def words(self, ladder: StageLadder = STANDARD_LADDER) -> str:
        """``"every lead that requests follow-up, except webinar leads"``."""

        def labels(keys: Sequence[str]) -> str:
            return _join([ladder.get(k).label if k in ladder else k for k in keys], "or")

        text = "every lead"
        if self.sources:
            text += f" from {_join(self.sources, 'or')}"
        if self.segments:
            text += f" in the {_join(self.segments, 'or')} {_plural(len(self.segments), 'segment')}"
        if self.stages:
            text += f" at the {labels(self.stages)} {_plural(len(self.stages), 'stage')}"
        if self.hand_raisers:
            text += " that requests follow-up"
        elif not (self.sources or self.segments or self.stages):
            text += " handed to sales"
        excluded: list[str] = []
        if self.exclude_sources:
            excluded.append(f"{_join(self.exclude_sources, 'or')} leads")
        if self.exclude_segments:
            excluded.append(f"leads in the {_join(self.exclude_segments, 'or')} segment")
        if self.exclude_stages:
            excluded.append(f"leads at the {labels(self.exclude_stages)} stage")
        if excluded:
            text += f", except {_join(excluded)},"
        return text


@attrs.frozen(kw_only=True)
class ResponseCommitment:
    """A response-time promise: the core rule and the words of its scope.

    Attributes:
        rule: The :class:`~slacore.rules.ResponseRule` (evaluate data with it).
        applies_to: Its scope as written in the agreement.

    """

    rule: ResponseRule
    applies_to: LeadFilter = LeadFilter()


@attrs.frozen(kw_only=True)
class CadenceCommitment:
    """A touch-cadence promise: the core rule and the words of its scope.

    Attributes:
        rule: The :class:`~slacore.rules.CadenceRule`.
        applies_to: Its scope as written in the agreement.

    """

    rule: CadenceRule
    applies_to: LeadFilter = LeadFilter()


@attrs.frozen(kw_only=True)
class SalesCommitments:
    """What sales promises.

    Attributes:
        response: Response-time rules.
        cadence: Touch-cadence rules.
        milestones: Goals that change by date (close rate, cycle days).
        process: Process commitments, in words.

    """

    response: tuple[ResponseCommitment, ...] = ()
    cadence: tuple[CadenceCommitment, ...] = ()
    milestones: tuple[MilestoneGoal, ...] = ()
    process: tuple[str, ...] = ()
