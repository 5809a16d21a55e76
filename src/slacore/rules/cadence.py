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
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from fractions import Fraction
from functools import partial
from typing import TYPE_CHECKING

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
from slacore.rules._engine.columns import (
    _EPOCH,
    _ONE_US,
    _CadenceColumns,
    cadence_columns,
    late_many,
)
from slacore.rules._engine.gc import ColumnFront, Tables, bulk_evaluate
from slacore.rules._engine.results import Builders, ColumnResults, LazyResults
from slacore.rules.cadence_report import CadenceReport, CadenceResult, _summarise
from slacore.rules.common import (
    Clock,
    SlaStatus,
    check_rule,
    instant,
    owner_at,
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
    from slacore.columns import Columns
    from slacore.rules._engine.cadence_arrays import CadenceFigures


__all__ = ["CadenceRule"]


def _minimum(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(
            message=f"expected a whole number of touches >= 1, got {value!r}",
            field="min_touches",
            value=value,
        )
    return value


class _Results(LazyResults[CadenceResult, "CadenceRule", _CadenceColumns]):
    """The results of an evaluation, built on access: a million of them cost little."""

    __slots__ = ()
    _noun = "cadence results"

    def _not_applicable(self, handoff: Handoff) -> CadenceResult:
        return _not_covered(handoff)

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


def _column_result(
    rule: CadenceRule,
    figures: CadenceFigures,
    touches: Columns | None,
    handoff: Handoff,
    at: int,
) -> CadenceResult:
    """The result of a covered hand-off of an evaluation on columns, from the arrays."""
    from slacore.rules._engine.arrays import STATUSES
    from slacore.rules._engine.cadence_arrays import met_at

    decided = figures.general.get(at)
    if decided is not None:
        return decided
    status = STATUSES[figures.status[at]]
    close = _EPOCH + int(figures.close_us[at]) * _ONE_US
    return CadenceResult(
        handoff=handoff,
        status=status,
        window_end=rule._end_at(handoff.notified_at, close),
        touches=int(figures.counted[at]),
        met_at=met_at(figures, touches, at) if status is SlaStatus.MET else None,
        owner_id=figures.owners[figures.owner[at]],
    )


def _not_covered(handoff: Handoff) -> CadenceResult:
    return CadenceResult(handoff=handoff, status=SlaStatus.NOT_APPLICABLE)


@attrs.frozen(kw_only=True)
class CadenceRule(ColumnFront[CadenceReport]):
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

    def _columns(self, tables: Tables, moment: datetime) -> CadenceReport:
        # numpy is imported here, by the column path, never by ``import slacore``.
        from slacore.rules._engine import arrays, cadence_arrays, column_tables

        inputs = arrays.read_inputs(self.applies_to, tables, epoch_us(moment))
        figures = cadence_arrays.cadence_arrays(self, inputs)
        overall, by_rep = cadence_arrays.cadence_tally(figures, inputs.handoffs.rows)
        return CadenceReport(
            rule=self,
            now=moment,
            results=ColumnResults(
                self,
                inputs.rows,
                inputs.eligible.tolist(),
                Builders(
                    partial(_column_result, self, figures, inputs.touches),
                    _not_covered,
                    "cadence results",
                    partial(arrays.accountable, figures, inputs.handoffs),
                    partial(
                        column_tables.cadence_arrow,
                        figures,
                        inputs.handoffs,
                        inputs.touches,
                        inputs.eligible.tolist(),
                    ),
                ),
            ),
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
