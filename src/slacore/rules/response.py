"""The response-time SLA: sales contacts each qualified lead within an agreed window.

Seed 000: "the sales team agrees to follow up on ALL marketing-generated leads within an hour,
or during the first hour of the next business day for leads that come in after hours. The
timing starts once the reps are notified ... This refers to only those leads requesting follow
up by sales, not webinar leads or early-stage-buyer-journey leads." As a rule::

    rule = ResponseRule(
        within="1h",
        clock="business",
        calendar=BusinessCalendar(timezone="America/New_York", holidays="US"),
        applies_to=hand_raisers() & ~source("webinar"),
    )
    report = rule.evaluate(handoffs, touches, now=now)

The clock starts when the rep is notified and stops at the first counted touch (a call, email
or meeting) by anyone on the sales side. The same engine serves other clocks: with
``stop=StageReached("sal", "rejected")`` it measures "sales accepts or rejects each MQL within 8
business hours" (seed 004).

Each hand-off gets a :class:`~slacore.rules.response_report.ResponseResult` with a
:class:`SlaStatus`: met, breached (late or never), pending (clock running), at risk (pending
and past ``at_risk_at`` of the window), withdrawn (returned to marketing or disqualified before
its due time) or not applicable (the rule does not cover it). The
:class:`~slacore.rules.response_report.ResponseReport` sums them up overall, per rep and per
source: counts, the compliance share against a target, and the distribution of response times.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
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
    _Decision,
    _ResponseColumns,
    response_columns,
)
from slacore.rules._engine.gc import ColumnFront, Tables, bulk_evaluate
from slacore.rules._engine.results import Builders, ColumnResults, LazyResults
from slacore.rules._engine.tallies import _source, _tallies, _Tally
from slacore.rules.common import (
    NEVER,
    Clock,
    Never,
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
from slacore.rules.response_report import ResponseReport, ResponseResult, _summarise

if TYPE_CHECKING:
    from slacore.calendar.business import BusinessCalendar
    from slacore.columns import Columns
    from slacore.rules._engine.arrays import ArrayFigures


__all__ = [
    "NEVER",
    "Clock",
    "FirstTouch",
    "Never",
    "OnReassign",
    "ResponseRule",
    "SlaStatus",
    "StageReached",
]


class OnReassign(enum.StrEnum):
    """What a change of owner before the due time does to the clock."""

    CONTINUE = "continue"
    """The clock keeps running; the new owner inherits the deadline."""
    RESTART = "restart"
    """The clock restarts when the new owner gets the lead."""


def _words(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


@attrs.frozen
class FirstTouch:
    """Stop event: the first touch on one of ``channels`` by the sales side."""

    channels: tuple[Channel, ...] = attrs.field(converter=to_channels)

    def describe(self) -> str:
        """The event in words: "the first call, email or meeting"."""
        return f"the first {_words([c.value for c in self.channels])}"


def _stage_keys(values: Iterable[str]) -> tuple[str, ...]:
    keys = tuple(values)
    if not keys or not all(isinstance(k, str) and k for k in keys):
        raise ValidationError(message="name at least one stage key", field="stop.stages")
    return keys


@attrs.frozen
class StageReached:
    """Stop event: the lead moves into one of ``stages`` (e.g. accepted or rejected)."""

    stages: tuple[str, ...] = attrs.field(converter=_stage_keys)

    def __init__(self, *stages: str) -> None:
        self.__attrs_init__(stages)  # type: ignore[attr-defined]

    def describe(self) -> str:
        """The event in words: "the lead moves to sal or rejected"."""
        return f"the lead moves to {_words(list(self.stages))}"


StopEvent = FirstTouch | StageReached


def _on_reassign(value: OnReassign | str) -> OnReassign:
    try:
        return OnReassign(value)
    except ValueError:
        raise ValidationError(
            message=f'expected "continue" or "restart", got {value!r}', field="on_reassign"
        ) from None


_ZERO = timedelta(0)


class _Results(LazyResults[ResponseResult, "ResponseRule", _ResponseColumns]):
    """The results of an evaluation, built on access: a million of them cost little."""

    __slots__ = ()
    _noun = "response results"

    def _not_applicable(self, handoff: Handoff) -> ResponseResult:
        return _not_covered(handoff)

    def _build(self, handoff: Handoff, at: int) -> ResponseResult:
        columns = self._figures
        start_us, due_us, end_us = columns.figures(at)
        business = columns.business_us
        return _result(
            self._rule, handoff, columns.status[at], columns.started[at], start_us, due_us,
            end_us, columns.stopped[at], columns.withdrawn.get(at), columns.owner[at],
            None if business is None else business[at],
        )  # fmt: skip


def _column_result(
    rule: ResponseRule,
    figures: ArrayFigures,
    touches: Columns | None,
    handoff: Handoff,
    at: int,
) -> ResponseResult:
    """The result of a covered hand-off of an evaluation on columns, from the arrays."""
    from slacore.rules._engine.arrays import STATUSES, when

    decision = figures.general.get(at)
    if decision is None:
        start, stopped, withdrawn = handoff.notified_at, when(figures, touches, at), None
    else:
        start, stopped, withdrawn = decision[1], decision[4], decision[5]
    business = figures.business_us
    return _result(
        rule, handoff, STATUSES[figures.status[at]], start,
        int(figures.start_us[at]), int(figures.due_us[at]), int(figures.end_us[at]),
        stopped, withdrawn, figures.owners[figures.owner[at]],
        None if business is None else int(business[at]),
    )  # fmt: skip


def _not_covered(handoff: Handoff) -> ResponseResult:
    return ResponseResult(handoff=handoff, status=SlaStatus.NOT_APPLICABLE)


def _result(
    rule: ResponseRule,
    handoff: Handoff,
    status: SlaStatus,
    start: datetime,
    start_us: int,
    due_us: int,
    end_us: int,
    stopped: datetime | None,
    withdrawn: datetime | None,
    owner: str | None,
    business_us: int | None,
) -> ResponseResult:
    """One eligible hand-off's result from its decided figures (times in microseconds)."""
    spent = end_us - start_us
    return ResponseResult(
        handoff=handoff,
        status=status,
        started_at=start,
        due_at=rule._due_datetime(start, due_us),
        first_touch_at=stopped,
        withdrawn_at=withdrawn,
        owner_id=owner,
        elapsed=spent * _ONE_US if spent > 0 else _ZERO,
        business_elapsed=None if business_us is None else business_us * _ONE_US,
    )


@attrs.frozen(kw_only=True)
class ResponseRule(ColumnFront[ResponseReport]):
    """A promise to act on each eligible hand-off within a window.

    Attributes:
        within: The window: a duration (``"1h"``, ``"24h"``, ``timedelta``).
        clock: ``"business"`` (working time of ``calendar``) or ``"calendar"`` (plain time).
        calendar: The business calendar; needed for the business clock. With the calendar
            clock it is optional and only adds business elapsed time to the results.
        applies_to: Which hand-offs the rule covers (see :mod:`slacore.rules.eligibility`).
        at_risk_at: Share of the window after which a running clock is "at risk".
        counts: The touch channels that stop the clock (with the default stop event).
        stop: What stops the clock: :class:`FirstTouch` (default, on ``counts``) or
            :class:`StageReached`.
        on_reassign: ``"continue"`` (default) or ``"restart"`` the clock when the lead
            changes owner before its due time.
        target: Share of eligible hand-offs that must be met (``0.9`` = 90%), if any.
        withdraw_on: Stage keys that withdraw a hand-off when the lead moves into them before
            its due time (disqualified, recycled...). A move back to a stage before the
            hand-off's stage in ``ladder`` withdraws it too.
        ladder: The stage ladder, for "moved back to marketing".
        name: A short name for reports.

    Raises:
        ValidationError: A bad duration, clock, share or channel; the business clock without
            a calendar.

    """

    within: timedelta = attrs.field(converter=to_window)
    clock: Clock = attrs.field(default=Clock.BUSINESS, converter=to_clock)
    calendar: BusinessCalendar | None = None
    applies_to: Eligibility = ALL
    at_risk_at: Fraction = attrs.field(default=Fraction(4, 5), converter=to_share)
    counts: tuple[Channel, ...] = attrs.field(
        default=(Channel.CALL, Channel.EMAIL, Channel.MEETING), converter=to_channels
    )
    stop: FirstTouch | StageReached | None = None
    on_reassign: OnReassign = attrs.field(default=OnReassign.CONTINUE, converter=_on_reassign)
    target: Fraction | None = attrs.field(default=None, converter=to_target)
    withdraw_on: tuple[str, ...] = attrs.field(
        default=("disqualified", "unqualified", "recycled"), converter=to_stages
    )
    ladder: StageLadder = STANDARD_LADDER
    name: str = "response"

    def __attrs_post_init__(self) -> None:
        check_rule(
            needs_calendar=self.clock is Clock.BUSINESS,
            calendar=self.calendar,
            applies_to=self.applies_to,
        )

    @property
    def stop_event(self) -> FirstTouch | StageReached:
        """The event that stops the clock."""
        return self.stop if self.stop is not None else FirstTouch(self.counts)

    def describe(self) -> str:
        """The rule as a sentence for the signed document and reports."""
        amount = format_duration(self.within)
        kind = "business time" if self.clock is Clock.BUSINESS else "clock time"
        subject = "every hand-off" if self.applies_to is ALL else self.applies_to.describe()
        text = (
            f"For {subject}: {self.stop_event.describe()} within {amount} of {kind} "
            "after the rep is notified"
        )
        if self.clock is Clock.BUSINESS and self.calendar is not None:
            describe = getattr(self.calendar, "describe", None)
            if callable(describe):
                text += f" ({describe()})"
        if self.target is not None:
            text += f", for at least {format_rate(self.target)} of them"
        return text + "."

    def due(self, start: datetime) -> datetime:
        """When a clock started at ``start`` runs out (in the calendar's zone for the business
        clock, in ``start``'s zone for the calendar clock)."""
        return self._due_datetime(start, self._dues_us([epoch_us(start)])[0])

    def _due_datetime(self, start: datetime, due_us: int) -> datetime:
        if self.clock is Clock.BUSINESS:
            assert self.calendar is not None
            return self.calendar.datetime_at(due_us)
        # Absolute time: adding to an aware datetime would add wall-clock time across DST.
        return (_EPOCH + due_us * _ONE_US).astimezone(start.tzinfo)

    def _dues_us(self, starts: list[int]) -> list[int]:
        if self.clock is Clock.BUSINESS:
            assert self.calendar is not None
            return self.calendar.add_us(starts, self.within)
        step = self.within // _ONE_US
        return [start + step for start in starts]

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
    ) -> ResponseReport:
        """Measure every hand-off against the rule.

        Args:
            handoffs: The hand-offs (read once).
            touches: Touches on the leads (read once); order does not matter. A touch before
                the clock starts does not count; neither does one after ``now``.
            now: The moment of evaluation (aware); default the current time. Clocks still
                running at ``now`` are pending or at risk.
            stage_changes: Stage changes of the leads, for withdrawals and stage stop events.
            owner_changes: Reassignments, to hold the right rep to account.
            reps: If given, only touches by reps of the receiving team count (a marketing
                rep's email does not stop the sales clock); unknown rep ids still count.
            pause_gc: Pause Python's cyclic garbage collector while the evaluation runs
                (default). See the note below.

        Returns:
            A :class:`ResponseReport`. Its ``results`` are built as they are read, so
            evaluating a million hand-offs for the summary alone stays cheap.

        Raises:
            ValidationError: ``now`` is naive.

        Note:
            By default the evaluation pauses Python's cyclic garbage collector and switches it
            back on when it ends (on error too), unless it was off before: an evaluation makes
            millions of small objects that form no cycles, and each burst of them would set off
            collections that walk every live object, the caller's records included (a third of
            the time on a million hand-offs). The pause is process-wide while it lasts: no
            thread of the process collects cycles meanwhile (reference counting still frees
            memory). Pass ``pause_gc=False`` to leave the collector alone, e.g. in a server
            whose other threads make many cycles.

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
    ) -> ResponseReport:
        flags = self.applies_to.matches_many(items)
        eligible = [h for h, ok in zip(items, flags, strict=True) if ok]
        stop = self.stop_event
        columns, taken = response_columns(
            self, eligible, touches, moment, stage_changes, owner_changes, team_of,
            channels=stop.channels if isinstance(stop, FirstTouch) else None,
            stop_stages=stop.stages if isinstance(stop, StageReached) else (),
        )  # fmt: skip
        tallies = _tallies(columns.owner, list(map(_source, eligible)), columns.status, taken)
        return self._report(moment, _Results(self, items, flags, columns), tallies)

    def _report(
        self,
        moment: datetime,
        results: Sequence[ResponseResult],
        tallies: tuple[_Tally, dict[str, _Tally], dict[str, _Tally]],
    ) -> ResponseReport:
        overall, by_rep, by_source = tallies
        return ResponseReport(
            rule=self,
            now=moment,
            results=results,
            summary=_summarise(overall, self.target, self.clock),
            by_rep={k: _summarise(v, self.target, self.clock) for k, v in sorted(by_rep.items())},
            by_source={
                k: _summarise(v, self.target, self.clock) for k, v in sorted(by_source.items())
            },
        )

    def _columns(self, tables: Tables, moment: datetime) -> ResponseReport:
        # numpy is imported here, by the column path, never by ``import slacore``.
        from slacore.rules._engine import arrays, column_tables

        inputs = arrays.read_inputs(self.applies_to, tables, epoch_us(moment))
        stop = self.stop_event
        figures, taken, stopped = arrays.response_arrays(
            self,
            inputs,
            channels=frozenset(stop.channels) if isinstance(stop, FirstTouch) else None,
            stop_stages=stop.stages if isinstance(stop, StageReached) else (),
        )
        tallies = arrays.array_tallies(
            figures, *inputs.handoffs.factorize("source", figures.rows), taken, stopped
        )
        made = Builders(
            partial(_column_result, self, figures, inputs.touches),
            _not_covered,
            "response results",
            partial(arrays.accountable, figures, inputs.handoffs),
            partial(
                column_tables.response_arrow,
                figures,
                inputs.handoffs,
                inputs.touches,
                inputs.eligible.tolist(),
            ),
        )
        results = ColumnResults(self, inputs.rows, inputs.eligible.tolist(), made)
        return self._report(moment, results, tallies)

    def _decide(
        self,
        handoff: Handoff,
        start_us: int,
        due_us: int,
        now_us: int,
        stops: Mapping[str, list[Touch | StageChange]],
        changes: Mapping[str, list[StageChange]],
        owners: Mapping[str, list[OwnerChange]],
        team_of: Mapping[str, Team] | None,
    ) -> _Decision:
        """The general case: withdrawals, reassignments and team checks."""
        start = handoff.notified_at
        notified_us = start_us
        lead = handoff.lead_id
        stopped: datetime | None = None
        since, best = instant(start), None
        for item in stops.get(lead, ()):
            at = instant(item.at)
            if at < since or (best is not None and at >= best):
                continue
            if (
                team_of is not None
                and isinstance(item, Touch)
                and team_of.get(item.rep_id, handoff.to_team) != handoff.to_team
            ):
                continue
            stopped, best = item.at, at
        stopped_us = 0 if stopped is None else epoch_us(stopped)

        # The first move that withdraws the hand-off, if any: it ends the clock when it
        # comes before the due time, and no reassignment after it restarts the clock.
        leaving: StageChange | None = None
        leaving_us = 0
        for change in changes.get(lead, ()):
            at_us = epoch_us(change.at)
            if at_us > notified_us and withdraws(
                handoff, change.to_stage, self.withdraw_on, self.ladder
            ):
                leaving, leaving_us = change, at_us
                break

        lead_owners = owners.get(lead, ())
        if lead_owners and self.on_reassign is OnReassign.RESTART:
            for reassignment in lead_owners:
                moved = epoch_us(reassignment.at)
                if moved <= start_us:
                    continue
                if (
                    moved >= due_us
                    or (stopped is not None and moved >= stopped_us)
                    or (leaving is not None and moved >= leaving_us)
                ):
                    break
                start, start_us = reassignment.at, moved
                due_us = self._dues_us([start_us])[0]

        withdrawn: datetime | None = None
        withdrawn_us = 0
        # Withdrawing a lead after its deadline does not excuse a breach.
        if leaving is not None and leaving_us < due_us:
            withdrawn, withdrawn_us = leaving.at, leaving_us

        blame: int
        if stopped is not None and (withdrawn is None or stopped_us <= withdrawn_us):
            met = stopped_us <= due_us
            status = SlaStatus.MET if met else SlaStatus.BREACHED
            end, blame = stopped_us, stopped_us if met else due_us
            withdrawn = None
        elif withdrawn is not None:
            # A touch after the lead left sales is no response to this hand-off.
            status, end, blame = SlaStatus.WITHDRAWN, withdrawn_us, withdrawn_us
            stopped = None
        elif now_us >= due_us:
            status, end, blame = SlaStatus.BREACHED, now_us, due_us
        else:
            # Pending; whether it is at risk is decided for all running clocks at once.
            status, end, blame = SlaStatus.PENDING, now_us, now_us
        owner = (
            owner_at(handoff, lead_owners, _EPOCH + blame * _ONE_US)
            if lead_owners
            else handoff.owner_id
        )
        return (status, start, start_us, due_us, stopped, withdrawn, owner, end)
