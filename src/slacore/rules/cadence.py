"""The touch-cadence SLA: work each lead with a minimum number of touches in its first days.

Seed 001: "anytime a lead that had been in the cycle for two weeks, that wasn't called five
times, then boom, that would show up on the dashboard." As a rule::

    rule = CadenceRule(min_touches=5, within="14d", channels=("call",))
    report = rule.evaluate(handoffs, touches, now=now)

For each eligible hand-off the window opens when the rep is notified and closes ``within``
later (plain time by default, or business time with ``clock="business"``). The hand-off is
met as soon as the window holds ``min_touches`` touches on the counted channels, breached when
the window closes short, and pending (or at risk, once ``at_risk_at`` of the window is gone)
while it is open. Withdrawals and reassignments work as for :class:`~slacore.rules.ResponseRule`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import attrs

from slacore._values import format_rate
from slacore.calendar import epoch_us
from slacore.calendar.duration import format_duration
from slacore.errors import ValidationError
from slacore.model import (
    STANDARD_LADDER,
    Channel,
    Handoff,
    OwnerChange,
    Rep,
    StageChange,
    StageLadder,
    Team,
    Touch,
)
from slacore.render import json_dict, markdown_table, result_markdown
from slacore.rules._engine.columns import (
    _CadenceColumns,
    cadence_columns,
    late_many,
)
from slacore.rules._engine.gc import bulk_evaluate
from slacore.rules._engine.results import LazyResults
from slacore.rules.common import (
    Clock,
    SlaStatus,
    check_rule,
    instant,
    owner_at,
    result_sentence,
    to_channels,
    to_clock,
    to_share,
    to_stages,
    to_target,
    to_window,
    withdraws,
)
from slacore.rules.eligibility import ALL, Eligibility

if TYPE_CHECKING:
    from slacore.calendar.business import BusinessCalendar


__all__ = ["CadenceReport", "CadenceResult", "CadenceRule", "CadenceSummary"]


def _minimum(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(
            message=f"expected a whole number of touches >= 1, got {value!r}",
            field="min_touches",
            value=value,
        )
    return value


@attrs.frozen(kw_only=True)
class CadenceResult:
    """One hand-off measured against a cadence rule.

    Attributes:
        handoff: The hand-off.
        status: Met, breached, pending, at risk, withdrawn or not applicable.
        window_end: When the window closes (``None`` when the rule does not apply).
        touches: Counted touches in the window so far (up to ``now``).
        met_at: When the last touch needed was made, for met results.
        withdrawn_at: When the lead was withdrawn, for withdrawn results.
        owner_id: The accountable rep: the owner when the cadence was met, when the window
            closed (breached), when withdrawn, or now (pending).

    """

    handoff: Handoff
    status: SlaStatus
    window_end: datetime | None = None
    touches: int = 0
    met_at: datetime | None = None
    withdrawn_at: datetime | None = None
    owner_id: str | None = None

    def _facts(self) -> list[tuple[str, object]]:
        return [
            ("touches", self.touches if self.window_end is not None else None),
            ("window ends", self.window_end),
            ("met", self.met_at),
            ("withdrawn", self.withdrawn_at),
            ("rep", self.owner_id),
        ]

    def explain(self) -> str:
        """One sentence: the lead, its status, the touches counted and the window."""
        return result_sentence(self.handoff.lead_id, self.status, self._facts())

    def to_markdown(self) -> str:
        """The explanation and the figures as a table."""
        rows = [[label, value] for label, value in self._facts() if value is not None]
        return result_markdown(self.explain(), ["", "value"], rows)

    def to_dict(self) -> dict[str, Any]:
        """The result, JSON-ready."""
        return json_dict(
            {
                "lead_id": self.handoff.lead_id,
                "status": self.status,
                "window_end": self.window_end,
                "touches": self.touches,
                "met_at": self.met_at,
                "withdrawn_at": self.withdrawn_at,
                "owner_id": self.owner_id,
            }
        )


@attrs.frozen(kw_only=True)
class CadenceSummary:
    """Counts and compliance of a group of hand-offs under a cadence rule.

    Attributes:
        eligible: Hand-offs the rule applies to.
        met, breached, pending, at_risk, withdrawn: Counts by status.
        compliance: ``met / (met + breached)``, or ``None`` with nothing decided.
        target: The rule's target share, if any.

    """

    eligible: int
    met: int
    breached: int
    pending: int
    at_risk: int
    withdrawn: int
    compliance: Fraction | None
    target: Fraction | None

    @property
    def target_met(self) -> bool | None:
        """Whether compliance reaches the target (``None`` without target or decisions)."""
        if self.target is None or self.compliance is None:
            return None
        return self.compliance >= self.target

    def explain(self) -> str:
        """One sentence: the counts by status and compliance."""
        text = (
            f"{self.eligible:,} eligible hand-offs, {self.met:,} met, {self.breached:,} "
            f"breached, {self.pending + self.at_risk:,} with the window open "
            f"({self.at_risk:,} at risk), {self.withdrawn:,} withdrawn"
        )
        if self.compliance is not None:
            text += f"; {format_rate(self.compliance)} met"
        return text + "."

    def to_markdown(self) -> str:
        """The explanation and the counts as a table."""
        return result_markdown(
            self.explain(),
            ["eligible", "met", "breached", "pending", "at risk", "withdrawn", "met %"],
            [
                [
                    self.eligible,
                    self.met,
                    self.breached,
                    self.pending,
                    self.at_risk,
                    self.withdrawn,
                    "" if self.compliance is None else format_rate(self.compliance),
                ]
            ],
        )

    def to_dict(self) -> dict[str, Any]:
        """The figures, JSON-ready."""
        return json_dict(attrs.asdict(self, recurse=False) | {"target_met": self.target_met})


def _summarise(counts: Mapping[SlaStatus, int], target: Fraction | None) -> CadenceSummary:
    """The summary of a group from its count of hand-offs by status."""
    counts = dict.fromkeys(SlaStatus, 0) | dict(counts)
    decided = counts[SlaStatus.MET] + counts[SlaStatus.BREACHED]
    return CadenceSummary(
        eligible=sum(n for s, n in counts.items() if s is not SlaStatus.NOT_APPLICABLE),
        met=counts[SlaStatus.MET],
        breached=counts[SlaStatus.BREACHED],
        pending=counts[SlaStatus.PENDING],
        at_risk=counts[SlaStatus.AT_RISK],
        withdrawn=counts[SlaStatus.WITHDRAWN],
        compliance=Fraction(counts[SlaStatus.MET], decided) if decided else None,
        target=target,
    )


@attrs.frozen(kw_only=True)
class CadenceReport:
    """The result of :meth:`CadenceRule.evaluate`.

    Attributes:
        rule: The rule evaluated.
        now: The moment of evaluation.
        results: One :class:`CadenceResult` per hand-off, in input order (a read-only
            sequence that builds each result when it is read).
        summary: Figures over all eligible hand-offs.
        by_rep: Figures per accountable rep, sorted by rep id.

    """

    rule: CadenceRule
    now: datetime
    results: Sequence[CadenceResult]
    summary: CadenceSummary
    by_rep: Mapping[str, CadenceSummary]

    def with_status(self, *statuses: SlaStatus | str) -> tuple[CadenceResult, ...]:
        """The results with one of ``statuses``, in input order."""
        wanted = {SlaStatus(s) for s in statuses}
        return tuple(r for r in self.results if r.status in wanted)

    def to_dict(self, *, results: bool = False) -> dict[str, Any]:
        """The report, JSON-ready; with ``results=True`` every hand-off's result too."""
        data: dict[str, Any] = {
            "rule": self.rule.describe(),
            "now": self.now,
            "summary": self.summary.to_dict(),
            "by_rep": {rep: s.to_dict() for rep, s in self.by_rep.items()},
        }
        if results:
            data["results"] = [r.to_dict() for r in self.results]
        return json_dict(data)

    def explain(self) -> str:
        """Two sentences: the rule and how the eligible hand-offs stand."""
        moment = self.now.isoformat(timespec="minutes")
        return f"{self.rule.describe()} As of {moment}: {self.summary.explain()}"

    def to_markdown(self) -> str:
        """The explanation and a table per rep."""
        rows = [
            [
                rep,
                s.eligible,
                s.met,
                s.breached,
                s.pending + s.at_risk,
                "" if s.compliance is None else format_rate(s.compliance),
            ]
            for rep, s in self.by_rep.items()
        ]
        table = markdown_table(["rep", "eligible", "met", "breached", "open", "met %"], rows)
        return f"{self.explain()}\n\n{table}\n"


class _Results(LazyResults[CadenceResult, "CadenceRule", _CadenceColumns]):
    """The results of an evaluation, built on access: a million of them cost little."""

    __slots__ = ()
    _noun = "cadence results"

    def _not_applicable(self, handoff: Handoff) -> CadenceResult:
        return CadenceResult(handoff=handoff, status=SlaStatus.NOT_APPLICABLE)

    def _build(self, handoff: Handoff, at: int) -> CadenceResult:
        columns = self._figures
        decided = columns.general.get(at)
        if decided is not None:
            return decided
        status = columns.status[at]
        counted = columns.counted[at] or []
        met_at = None
        if status is SlaStatus.MET:
            met_at = sorted(counted, key=instant)[self._rule.min_touches - 1]
        return CadenceResult(
            handoff=handoff,
            status=status,
            window_end=self._rule._end_at(handoff.notified_at, columns.closes[at]),
            touches=len(counted),
            met_at=met_at,
            owner_id=columns.owner[at],
        )


@attrs.frozen(kw_only=True)
class CadenceRule:
    """A promise to touch each eligible lead at least ``min_touches`` times in a window.

    Attributes:
        min_touches: Touches needed in the window (e.g. 5).
        within: The window from notification (e.g. ``"14d"``).
        channels: The touch channels that count (default calls only, as in seed 001).
        clock: ``"calendar"`` (default: 14 days means 14 x 24 hours) or ``"business"``.
        calendar: The business calendar, needed for the business clock.
        applies_to: Which hand-offs the rule covers.
        at_risk_at: Share of the window after which an open, short window is "at risk".
        target: Share of eligible hand-offs that must be met, if any.
        withdraw_on: Stage keys that withdraw a hand-off (see ``ResponseRule``).
        ladder: The stage ladder, for "moved back to marketing".
        name: A short name for reports.

    Raises:
        ValidationError: A bad count, duration, clock, share or channel; the business clock
            without a calendar.

    """

    min_touches: int = attrs.field(converter=_minimum)
    within: timedelta = attrs.field(converter=to_window)
    channels: tuple[Channel, ...] = attrs.field(default=(Channel.CALL,), converter=to_channels)
    clock: Clock = attrs.field(default=Clock.CALENDAR, converter=to_clock)
    calendar: BusinessCalendar | None = None
    applies_to: Eligibility = ALL
    at_risk_at: Fraction = attrs.field(default=Fraction(4, 5), converter=to_share)
    target: Fraction | None = attrs.field(default=None, converter=to_target)
    withdraw_on: tuple[str, ...] = attrs.field(
        default=("disqualified", "unqualified", "recycled"), converter=to_stages
    )
    ladder: StageLadder = STANDARD_LADDER
    name: str = "cadence"

    def __attrs_post_init__(self) -> None:
        check_rule(
            needs_calendar=self.clock is Clock.BUSINESS,
            calendar=self.calendar,
            applies_to=self.applies_to,
        )

    def describe(self) -> str:
        """The rule as a sentence."""
        channels = " or ".join(c.value for c in self.channels)
        plural = "" if self.min_touches == 1 else "s"
        kind = "of business time " if self.clock is Clock.BUSINESS else ""
        subject = "every hand-off" if self.applies_to is ALL else self.applies_to.describe()
        text = (
            f"For {subject}: at least {self.min_touches} {channels}{plural} within "
            f"{format_duration(self.within)} {kind}of notification"
        )
        if self.target is not None:
            text += f", for at least {format_rate(self.target)} of them"
        return text + "."

    def _end_at(self, start: datetime, close: datetime) -> datetime:
        """The window's end, from its instant ``close``: in the calendar's zone for the
        business clock, in the start's zone for plain time."""
        if self.clock is Clock.BUSINESS:
            assert self.calendar is not None
            return close.astimezone(self.calendar.zone)
        return close.astimezone(start.tzinfo)

    def evaluate(
        self,
        handoffs: Iterable[Handoff],
        touches: Iterable[Touch] = (),
        *,
        now: datetime | None = None,
        stage_changes: Iterable[StageChange] = (),
        owner_changes: Iterable[OwnerChange] = (),
        reps: Iterable[Rep] | None = None,
        pause_gc: bool = True,
    ) -> CadenceReport:
        """Measure every hand-off against the cadence.

        Args:
            handoffs: The hand-offs (read once).
            touches: Touches on the leads (read once), in any order. Touches before the
                notification or after the window closes do not count.
            now: The moment of evaluation (aware); default the current time.
            stage_changes: Stage changes, for withdrawals.
            owner_changes: Reassignments, to hold the right rep to account.
            reps: If given, only touches by reps of the receiving team count.
            pause_gc: Pause Python's cyclic garbage collector while the evaluation runs
                (default). See the note below.

        Returns:
            A :class:`CadenceReport`.

        Raises:
            ValidationError: ``now`` is naive.

        Note:
            Like :meth:`ResponseRule.evaluate <slacore.rules.ResponseRule.evaluate>`, the
            evaluation pauses Python's cyclic garbage collector by default, so that it does not
            walk every live object again and again while millions of short-lived objects are
            made, and switches it back on at the end unless it was off before. The pause is
            process-wide while it lasts: no thread collects cycles meanwhile. Pass
            ``pause_gc=False`` to leave the collector alone.

        """
        return bulk_evaluate(
            self._evaluate, handoffs, touches, now, stage_changes, owner_changes, reps,
            pause_gc=pause_gc,
        )  # fmt: skip

    def _evaluate(
        self,
        items: list[Handoff],
        touches: Iterable[Touch],
        moment: datetime,
        stage_changes: Iterable[StageChange],
        owner_changes: Iterable[OwnerChange],
        team_of: Mapping[str, Team] | None,
    ) -> CadenceReport:
        flags = self.applies_to.matches_many(items)
        eligible = [h for h, ok in zip(items, flags, strict=True) if ok]

        columns = cadence_columns(
            self, eligible, touches, moment, stage_changes, owner_changes, team_of
        )
        tally = Counter(zip(columns.owner, columns.status, strict=True))
        overall: Counter[SlaStatus] = Counter()
        by_rep: dict[str, Counter[SlaStatus]] = defaultdict(Counter)
        for (owner, status), number in tally.items():
            overall[status] += number
            by_rep[owner or "(unassigned)"][status] += number
        overall[SlaStatus.NOT_APPLICABLE] += len(items) - len(eligible)
        return CadenceReport(
            rule=self,
            now=moment,
            results=_Results(self, items, flags, columns),
            summary=_summarise(overall, self.target),
            by_rep={k: _summarise(v, self.target) for k, v in sorted(by_rep.items())},
        )

    def _late(self, starts: list[int], now: int) -> list[bool]:
        """Whether windows open since ``starts`` are past ``at_risk_at`` at ``now`` (epoch
        microseconds)."""
        calendar = self.calendar if self.clock is Clock.BUSINESS else None
        return late_many(self.within, self.at_risk_at, calendar, starts, now)

    def _one(
        self,
        handoff: Handoff,
        end: datetime,
        now: datetime,
        times: Mapping[str, list[tuple[datetime, datetime, str]]],
        changes: Mapping[str, list[StageChange]],
        owners: Mapping[str, list[OwnerChange]],
        team_of: Mapping[str, Team] | None,
    ) -> CadenceResult:
        start = handoff.notified_at
        since, until = instant(start), instant(end)
        lead_owners = owners.get(handoff.lead_id, [])
        count = 0
        met_at: datetime | None = None
        for moment, at, rep_id in times.get(handoff.lead_id, ()):
            if moment < since or moment > until:
                continue
            if team_of is not None and team_of.get(rep_id, handoff.to_team) != handoff.to_team:
                continue
            count += 1
            if count == self.min_touches:
                met_at = at
        withdrawn: datetime | None = None
        for change in changes.get(handoff.lead_id, ()):
            if instant(change.at) > since and withdraws(
                handoff, change.to_stage, self.withdraw_on, self.ladder
            ):
                withdrawn = change.at
                break
        if withdrawn is not None and (
            instant(withdrawn) >= until or (met_at and instant(met_at) <= instant(withdrawn))
        ):
            withdrawn = None
        if met_at is not None and withdrawn is None:
            status, owner = SlaStatus.MET, owner_at(handoff, lead_owners, met_at)
        elif withdrawn is not None:
            status, owner = SlaStatus.WITHDRAWN, owner_at(handoff, lead_owners, withdrawn)
        elif instant(now) >= until:
            status, owner = SlaStatus.BREACHED, owner_at(handoff, lead_owners, end)
        else:
            (late,) = self._late([epoch_us(start)], epoch_us(now))
            status = SlaStatus.AT_RISK if late else SlaStatus.PENDING
            owner = owner_at(handoff, lead_owners, now)
        return CadenceResult(
            handoff=handoff,
            status=status,
            window_end=end,
            touches=count,
            met_at=met_at if status is SlaStatus.MET else None,
            withdrawn_at=withdrawn,
            owner_id=owner,
        )
