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

Each hand-off gets a :class:`ResponseResult` with a :class:`SlaStatus`: met, breached (late or
never), pending (clock running), at risk (pending and past ``at_risk_at`` of the window),
withdrawn (returned to marketing or disqualified before its due time) or not applicable (the
rule does not cover it). The :class:`ResponseReport` sums them up overall, per rep and per
source: counts, the compliance share against a target, and the distribution of response times.
"""

from __future__ import annotations

import enum
import math
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from itertools import chain, compress, count, repeat
from operator import attrgetter, is_, sub
from typing import TYPE_CHECKING, Any

import attrs

from slacore._values import format_rate
from slacore.calendar.business import epoch_us
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
from slacore.render import json_dict, markdown_table
from slacore.rules.common import (
    LazyResults,
    bulk_evaluate,
    check_rule,
    instant,
    instants,
    late_many,
    moves_that_matter,
    owner_at,
    route,
    to_channels,
    to_share,
    to_stages,
    to_target,
    to_window,
    withdraws,
)
from slacore.rules.eligibility import ALL, Eligibility

if TYPE_CHECKING:
    from slacore.calendar.business import BusinessCalendar

__all__ = [
    "BUCKETS",
    "Clock",
    "FirstTouch",
    "OnReassign",
    "ResponseReport",
    "ResponseResult",
    "ResponseRule",
    "ResponseSummary",
    "SlaStatus",
    "StageReached",
]


class SlaStatus(enum.StrEnum):
    """Where one hand-off stands against a rule."""

    MET = "met"
    """The clock stopped in time."""
    BREACHED = "breached"
    """The clock stopped late, or the due time passed without it stopping."""
    PENDING = "pending"
    """The clock is still running and the due time is not near."""
    AT_RISK = "at_risk"
    """The clock is still running and most of the window is gone."""
    WITHDRAWN = "withdrawn"
    """The lead went back to marketing or was disqualified before its due time."""
    NOT_APPLICABLE = "not_applicable"
    """The rule does not cover this hand-off."""


class Clock(enum.StrEnum):
    """How a rule's window is measured."""

    BUSINESS = "business"
    """In working time of the rule's :class:`~slacore.calendar.BusinessCalendar`."""
    CALENDAR = "calendar"
    """In plain elapsed time, nights and weekends included."""


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


@attrs.frozen(kw_only=True)
class ResponseResult:
    """One hand-off measured against a rule.

    Attributes:
        handoff: The hand-off.
        status: Where it stands.
        started_at: When the clock started (the notification, or the last restart on
            reassignment), or ``None`` when the rule does not apply.
        due_at: When the clock runs out, or ``None`` when the rule does not apply.
        first_touch_at: When the clock stopped (the first counted touch, or the stage change
            for a stage rule), or ``None`` if it has not.
        withdrawn_at: When the lead was withdrawn, for withdrawn results.
        owner_id: The rep accountable: the owner when the clock stopped (met), when the
            deadline passed (breached), when withdrawn, or now (pending).
        elapsed: Calendar time from the start to the stop, or to ``now`` if not stopped.
        business_elapsed: The same in business time, or ``None`` without a calendar.

    """

    handoff: Handoff
    status: SlaStatus
    started_at: datetime | None = None
    due_at: datetime | None = None
    first_touch_at: datetime | None = None
    withdrawn_at: datetime | None = None
    owner_id: str | None = None
    elapsed: timedelta | None = None
    business_elapsed: timedelta | None = None

    @property
    def responded(self) -> bool:
        """Whether the clock stopped (there was a counted touch or stage change)."""
        return self.first_touch_at is not None

    def to_dict(self) -> dict[str, Any]:
        """The result, JSON-ready (times ISO 8601, durations in seconds)."""
        return json_dict(
            {
                "lead_id": self.handoff.lead_id,
                "status": self.status,
                "started_at": self.started_at,
                "due_at": self.due_at,
                "first_touch_at": self.first_touch_at,
                "withdrawn_at": self.withdrawn_at,
                "owner_id": self.owner_id,
                "source": self.handoff.source,
                "elapsed": self.elapsed,
                "business_elapsed": self.business_elapsed,
            }
        )


BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("<= 5 min", timedelta(minutes=5)),
    ("<= 1 h", timedelta(hours=1)),
    ("<= 24 h", timedelta(hours=24)),
    ("> 24 h", None),
)
"""Response-time buckets of the distribution; hand-offs never touched go in ``"never"``."""


def _percentile(runs: _Runs, share: Fraction) -> timedelta | None:
    """Nearest-rank percentile: the smallest value with at least ``share`` of values at or below."""
    if not runs.size:
        return None
    return timedelta(microseconds=runs.kth(max(1, math.ceil(share * runs.size))))


_RUN_LENGTH = 256
"""Below this many values per sorted run on average, :class:`_Runs` merges its runs into one:
a search over many short runs costs more than a sort that merges them."""


class _Runs:
    """Response times (whole microseconds, as floats) held as sorted runs, one per (rep, source)
    cell, and read without merging them: a group's percentiles and bucket counts come from
    binary searches in each run.

    A summary needs two order statistics and a few counts, not a sorted copy of every value:
    merging fifty runs of a source (or two hundred for the whole report) into one sorted list
    costs more than all the searches together.
    """

    __slots__ = ("runs", "size")

    def __init__(self, runs: list[list[float]], *, merge_below: int = _RUN_LENGTH) -> None:
        runs = [run for run in runs if run]
        self.size = sum(map(len, runs))
        if len(runs) > 1 and len(runs) * merge_below > self.size:
            merged = list(chain.from_iterable(runs))
            merged.sort()
            runs = [merged]
        self.runs = runs

    def count_upto(self, limit: float) -> int:
        """How many values are at or below ``limit``."""
        return sum(bisect_right(run, limit) for run in self.runs)

    def kth(self, rank: int) -> float:
        """The ``rank``-th smallest value (1-based, ``1 <= rank <= size``)."""
        runs = self.runs
        if len(runs) == 1:
            return runs[0][rank - 1]
        # The smallest whole number with at least ``rank`` values at or below it; values are
        # whole numbers, so it is one of them.
        low, high = int(min(run[0] for run in runs)), int(max(run[-1] for run in runs))
        while low < high:
            middle = (low + high) // 2
            if self.count_upto(middle) >= rank:
                high = middle
            else:
                low = middle + 1
        return float(low)


@attrs.frozen(kw_only=True)
class ResponseSummary:
    """Counts, compliance and the response-time distribution of a group of hand-offs.

    Attributes:
        eligible: Hand-offs the rule applies to (withdrawn ones included).
        met: Stopped in time.
        breached: Late or never.
        pending: Still running, not at risk.
        at_risk: Still running, most of the window gone.
        withdrawn: Withdrawn before their due time.
        compliance: ``met / (met + breached)``: the share of decided hand-offs met, or
            ``None`` when none is decided yet.
        target: The rule's target share, if any.
        p50: Median response time on the rule's clock, over hand-offs that were touched.
        p90: 90th percentile of the same (nearest rank).
        buckets: Hand-offs per response-time bucket (see :data:`BUCKETS`), plus ``"never"``
            for those breached without a touch.

    """

    eligible: int
    met: int
    breached: int
    pending: int
    at_risk: int
    withdrawn: int
    compliance: Fraction | None
    target: Fraction | None
    p50: timedelta | None
    p90: timedelta | None
    buckets: Mapping[str, int]

    @property
    def target_met(self) -> bool | None:
        """Whether compliance reaches the target (``None`` without a target or decisions)."""
        if self.target is None or self.compliance is None:
            return None
        return self.compliance >= self.target

    def to_dict(self) -> dict[str, Any]:
        """The figures, JSON-ready (shares as numbers, durations in seconds)."""
        return json_dict(
            {
                "eligible": self.eligible,
                "met": self.met,
                "breached": self.breached,
                "pending": self.pending,
                "at_risk": self.at_risk,
                "withdrawn": self.withdrawn,
                "compliance": self.compliance,
                "target": self.target,
                "target_met": self.target_met,
                "p50_seconds": self.p50,
                "p90_seconds": self.p90,
                "buckets": dict(self.buckets),
            }
        )


class _Tally:
    """Counts and response times of one group of hand-offs (times as sorted runs)."""

    __slots__ = ("counts", "never", "runs")

    def __init__(self) -> None:
        self.counts = dict.fromkeys(SlaStatus, 0)
        self.runs: list[list[float]] = []
        self.never = 0

    def absorb(self, other: _Tally) -> None:
        """Add ``other``'s counts and times to this tally."""
        for status, number in other.counts.items():
            self.counts[status] += number
        self.never += other.never
        self.runs.extend(other.runs)


def _summarise(tally: _Tally, target: Fraction | None) -> ResponseSummary:
    """The summary of a group from its tally."""
    counts, times = tally.counts, _Runs(tally.runs)
    buckets: dict[str, int] = {}
    below = 0
    for name, limit in BUCKETS:
        upto = times.size if limit is None else times.count_upto(limit // _ONE_US)
        buckets[name] = upto - below
        below = upto
    buckets["never"] = tally.never
    met, breached = counts[SlaStatus.MET], counts[SlaStatus.BREACHED]
    return ResponseSummary(
        eligible=sum(n for st, n in counts.items() if st is not SlaStatus.NOT_APPLICABLE),
        met=met,
        breached=breached,
        pending=counts[SlaStatus.PENDING],
        at_risk=counts[SlaStatus.AT_RISK],
        withdrawn=counts[SlaStatus.WITHDRAWN],
        compliance=Fraction(met, met + breached) if met + breached else None,
        target=target,
        p50=_percentile(times, Fraction(1, 2)),
        p90=_percentile(times, Fraction(9, 10)),
        buckets=buckets,
    )


_source = attrgetter("source")


def _labelled(groups: dict[str | None, _Tally], blank: str) -> dict[str, _Tally]:
    """``groups`` keyed by name, with ``blank`` for no name (``None`` or ``""``)."""
    named: dict[str, _Tally] = {}
    for key, tally in groups.items():
        label = key or blank
        if label in named:
            named[label].absorb(tally)
        else:
            named[label] = tally
    return named


def _tallies(
    owners: list[str | None],
    sources: list[str | None],
    statuses: list[SlaStatus],
    taken: list[float | None],
) -> tuple[_Tally, dict[str, _Tally], dict[str, _Tally]]:
    """Tally the columns of the eligible hand-offs overall, per rep and per source.

    Columns rather than one update per hand-off: the counts come from one ``Counter`` over
    the rows, and only response times are distributed in a loop. Groups are keyed by the raw
    owner and source and named ("(unassigned)", "(none)") at the end.
    """
    overall = _Tally()
    by_rep: dict[str | None, _Tally] = {}
    by_source: dict[str | None, _Tally] = {}
    unanswered = list(map(is_, taken, repeat(None)))
    rows = Counter(zip(owners, sources, statuses, unanswered, strict=True))
    for (owner, origin, status, never), number in rows.items():
        lost = number if never and status is SlaStatus.BREACHED else 0
        for tally in (
            overall,
            by_rep.get(owner) or by_rep.setdefault(owner, _Tally()),
            by_source.get(origin) or by_source.setdefault(origin, _Tally()),
        ):
            tally.counts[status] += number
            tally.never += lost
    # Response times per (rep, source) cell, each cell sorted once and shared, as a run, by
    # the cell's rep, its source and the whole report (see ``_Runs``).
    cells: defaultdict[tuple[str | None, str | None], list[float]] = defaultdict(list)
    for owner, origin, time in zip(owners, sources, taken, strict=True):
        if time is not None:
            cells[owner, origin].append(time)
    for (owner, origin), times in cells.items():
        times.sort()
        by_rep[owner].runs.append(times)
        by_source[origin].runs.append(times)
        overall.runs.append(times)
    return overall, _labelled(by_rep, "(unassigned)"), _labelled(by_source, "(none)")


@attrs.frozen(kw_only=True)
class ResponseReport:
    """The result of :meth:`ResponseRule.evaluate`.

    Attributes:
        rule: The rule evaluated.
        now: The moment of evaluation.
        results: One :class:`ResponseResult` per hand-off, in input order (a read-only
            sequence that builds each result when it is read).
        summary: Figures over all eligible hand-offs.
        by_rep: Figures per accountable rep (``"(unassigned)"`` for none), sorted by rep id.
        by_source: Figures per lead source (``"(none)"`` for none), sorted by source.

    """

    rule: ResponseRule
    now: datetime
    results: Sequence[ResponseResult]
    summary: ResponseSummary
    by_rep: Mapping[str, ResponseSummary]
    by_source: Mapping[str, ResponseSummary]

    def with_status(self, *statuses: SlaStatus | str) -> tuple[ResponseResult, ...]:
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
            "by_source": {source: s.to_dict() for source, s in self.by_source.items()},
        }
        if results:
            data["results"] = [r.to_dict() for r in self.results]
        return json_dict(data)

    def explain(self) -> str:
        """Two sentences: the rule, and how the eligible hand-offs stand."""
        s = self.summary
        text = (
            f"{self.rule.describe()} As of {self.now.isoformat(timespec='minutes')}: "
            f"{s.eligible:,} eligible hand-offs, {s.met:,} met, {s.breached:,} breached, "
            f"{s.pending + s.at_risk:,} pending ({s.at_risk:,} at risk), "
            f"{s.withdrawn:,} withdrawn"
        )
        if s.compliance is not None:
            text += f"; {format_rate(s.compliance)} met"
            if s.target is not None:
                verdict = "meets" if s.target_met else "misses"
                text += f", which {verdict} the {format_rate(s.target)} target"
        if s.p50 is not None and s.p90 is not None:
            text += (
                f". Median response {format_duration(s.p50)}, "
                f"90th percentile {format_duration(s.p90)}"
            )
        return text + "."

    def to_markdown(self) -> str:
        """The explanation, the distribution, and tables per rep and per source."""

        def rows(groups: Mapping[str, ResponseSummary]) -> list[list[Any]]:
            return [
                [
                    name,
                    s.eligible,
                    s.met,
                    s.breached,
                    s.pending + s.at_risk,
                    "" if s.compliance is None else format_rate(s.compliance),
                    "" if s.p50 is None else format_duration(s.p50),
                    "" if s.p90 is None else format_duration(s.p90),
                ]
                for name, s in groups.items()
            ]

        header = ["", "eligible", "met", "breached", "pending", "met %", "p50", "p90"]
        distribution = markdown_table(
            ["response time", "hand-offs"], list(self.summary.buckets.items())
        )
        return (
            f"{self.explain()}\n\n{distribution}\n\n"
            f"{markdown_table(['rep', *header[1:]], rows(self.by_rep))}\n\n"
            f"{markdown_table(['source', *header[1:]], rows(self.by_source))}\n"
        )


def _clock(value: Clock | str) -> Clock:
    try:
        return Clock(value)
    except ValueError:
        raise ValidationError(
            message=f'expected "business" or "calendar", got {value!r}', field="clock"
        ) from None


def _on_reassign(value: OnReassign | str) -> OnReassign:
    try:
        return OnReassign(value)
    except ValueError:
        raise ValidationError(
            message=f'expected "continue" or "restart", got {value!r}', field="on_reassign"
        ) from None


_ZERO = timedelta(0)
_ONE_US = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NEVER = datetime.max.replace(tzinfo=UTC)


_Decision = tuple[
    SlaStatus, datetime, int, int, "datetime | None", "datetime | None", "str | None", int
]
"""The decided figures of one hand-off on the general path: status, clock start (datetime and
epoch microseconds), due time, stop, withdrawal, accountable owner, end of the measured span."""


@attrs.define(slots=True)
class _ResponseColumns:
    """The decided figures of the eligible hand-offs, a list per figure (position-aligned).

    Columns rather than a record per hand-off: most are filled by list comprehensions, and the
    summary reads whole columns. ``withdrawn`` is sparse: few hand-offs are withdrawn.
    """

    status: list[SlaStatus]
    started: list[datetime]
    stopped: list[datetime | None]
    withdrawn: dict[int, datetime]
    owner: list[str | None]
    now_us: int
    step_us: int
    micros: tuple[list[int], list[int], list[int]] | None = None
    """Clock starts, due times and span ends in epoch microseconds, when the rule has a
    calendar; without one they are worked out from the times when read."""
    business_us: list[int] | None = None

    def figures(self, position: int) -> tuple[int, int, int]:
        """Clock start, due time and end of the measured span at ``position``, in epoch
        microseconds: from ``micros``, or from the times (plain time: due ``step_us`` after
        the start)."""
        if self.micros is not None:
            starts, dues, ends = self.micros
            return starts[position], dues[position], ends[position]
        start = epoch_us(self.started[position])
        stop = self.stopped[position] or self.withdrawn.get(position)
        return start, start + self.step_us, self.now_us if stop is None else epoch_us(stop)

    def set(self, position: int, decision: _Decision) -> None:
        """Store one general-path decision at ``position``."""
        status, started, start_us, due_us, stopped, withdrawn, owner, end_us = decision
        self.status[position] = status
        self.started[position] = started
        self.stopped[position] = stopped
        if withdrawn is not None:
            self.withdrawn[position] = withdrawn
        self.owner[position] = owner
        if self.micros is not None:
            starts, dues, ends = self.micros
            starts[position], dues[position], ends[position] = start_us, due_us, end_us


def _first_touches(
    touches: Iterable[Touch],
    channels: Iterable[Channel],
    position_of: dict[str, int],
    outsiders: frozenset[str],
    since: list[datetime],
    until: datetime,
    stops: dict[str, list[Touch | StageChange]],
) -> tuple[list[datetime | None], list[datetime]]:
    """One pass over the touches: the first touch on one of ``channels`` of each lead on the
    column path (``position_of`` at or above 0), between its clock start ``since`` and
    ``until``; the touches of the leads on the general path go to ``stops``, by lead.

    Returns each position's first touch as given (``None`` for none) and as an instant
    (``_NEVER`` for none).
    """
    first: list[datetime | None] = [None] * len(since)
    # Touches are compared with instants (see ``instant``), never with times of their own
    # zone object, so that the fall-back hour orders right; ``earliest`` keeps the instant
    # of each first touch, ``first`` the touch's own time.
    fixed = timezone  # ``instant`` inlined below: a call per item costs more than the test
    earliest = [_NEVER] * len(since)
    wanted = set(channels)
    find = position_of.get
    if outsiders:
        touches = (t for t in touches if t.rep_id not in outsiders)
    for touch in touches:
        if touch.channel in wanted:
            found = find(touch.lead_id)
            if found is None:
                continue
            at = touch.at
            # A touch before the notification, or after ``now`` (not known at
            # ``now``), does not count.
            if found >= 0:
                if at < earliest[found] and since[found] <= at <= until:
                    earliest[found] = at if type(at.tzinfo) is fixed else at.astimezone(UTC)
                    first[found] = at
            elif at <= until:
                stops[touch.lead_id].append(touch)
    return first, earliest


def _measure(
    rule: ResponseRule,
    eligible: list[Handoff],
    notified: list[datetime],
    since: list[datetime],
    first: list[datetime | None],
    earliest: list[datetime],
    now_us: int,
    until: datetime,
    general: list[int],
    decide: Callable[[int, int, int], _Decision],
) -> tuple[_ResponseColumns, list[float | None]]:
    """Status and measured times of every eligible hand-off under ``rule``, a column at a time.

    The common path: the clock started at the notification stops at the first touch
    (``first``, at the instant ``earliest``), if any. Then ``decide`` answers for each
    position on the general path. Returns the columns and each hand-off's response time on
    the rule's clock in microseconds (``None`` when the clock did not stop).
    """
    met, breached, pending = SlaStatus.MET, SlaStatus.BREACHED, SlaStatus.PENDING
    owners = [h.owner_id for h in eligible]
    calendar = rule.calendar
    plain = calendar is None
    if plain:
        # Plain time without a calendar: measured as differences of instants, with no
        # conversion of every time to microseconds (that took half of this stage).
        within = rule.within
        try:
            cutoff = until - within  # clocks started by then have run out
        except OverflowError:  # a window longer than the calendar's past
            cutoff = datetime.min.replace(tzinfo=UTC)
        spans = [
            None if at is _NEVER else at - start for at, start in zip(earliest, since, strict=True)
        ]
        statuses = [
            (met if span <= within else breached)
            if span is not None
            else (breached if start <= cutoff else pending)
            for span, start in zip(spans, since, strict=True)
        ]
        columns = _ResponseColumns(
            status=statuses, started=notified, stopped=first, withdrawn={}, owner=owners,
            now_us=now_us, step_us=within // _ONE_US,
        )  # fmt: skip
    else:
        # Instants (``since``, ``earliest``) rather than the times as given: a zone of
        # their own would cost an offset look-up per subtraction.
        starts = [(at - _EPOCH) // _ONE_US for at in since]
        ends = [now_us if at is _NEVER else (at - _EPOCH) // _ONE_US for at in earliest]
        assert calendar is not None
        business: list[int] | None = None
        if rule.clock is Clock.BUSINESS:  # due times and business time in one pass
            dues, business = calendar.due_and_elapsed_us(starts, ends, rule.within)
        else:
            dues = rule._dues_us(starts)
        statuses = [
            (met if end <= due else breached)
            if at is not None
            else (breached if now_us >= due else pending)
            for at, end, due in zip(first, ends, dues, strict=True)
        ]
        columns = _ResponseColumns(
            status=statuses, started=notified, stopped=first, withdrawn={}, owner=owners,
            now_us=now_us, step_us=0, micros=(starts, dues, ends),
        )  # fmt: skip
    # The general path, one hand-off at a time: withdrawals, reassignments, team checks.
    for position in general:
        start_us, due_us, _ = columns.figures(position)
        columns.set(position, decide(position, start_us, due_us))
    running = list(compress(count(), map(is_, statuses, repeat(pending))))
    if running:
        late = late_many(
            rule.within,
            rule.at_risk_at,
            calendar if rule.clock is Clock.BUSINESS else None,
            [columns.figures(p)[0] for p in running],
            now_us,
        )
        for position, is_late in zip(running, late, strict=True):
            if is_late:
                statuses[position] = SlaStatus.AT_RISK

    if plain:
        taken = [None if span is None else span / _ONE_US for span in spans]
        for position in general:
            start_us, _, end_us = columns.figures(position)
            stopped = columns.stopped[position] is not None
            taken[position] = float(end_us - start_us) if stopped else None
        return columns, taken
    assert calendar is not None
    assert columns.micros is not None
    # The general path stored its starts and ends in the columns: read them from there.
    starts, _, ends = columns.micros
    if business is None:
        business = calendar.elapsed_us(starts, ends)
    elif general:  # the general path moved starts and ends: measure those again
        again = calendar.elapsed_us([starts[p] for p in general], [ends[p] for p in general])
        for position, amount in zip(general, again, strict=True):
            business[position] = amount
    columns.business_us = business
    # Floats, not ints: response times of more than 18 minutes in microseconds are ints
    # too big for the fast comparison of ``sorted``, which then takes twice as long.
    return columns, [
        None if at is None else float(span)
        for at, span in zip(
            columns.stopped,
            columns.business_us if rule.clock is Clock.BUSINESS else map(sub, ends, starts),
            strict=False,
        )
    ]


class _Results(LazyResults[ResponseResult, "ResponseRule", _ResponseColumns]):
    """The results of an evaluation, built on access: a million of them cost little."""

    __slots__ = ()
    _noun = "response results"

    def _not_applicable(self, handoff: Handoff) -> ResponseResult:
        return ResponseResult(handoff=handoff, status=SlaStatus.NOT_APPLICABLE)

    def _build(self, handoff: Handoff, at: int) -> ResponseResult:
        columns = self._figures
        start = columns.started[at]
        start_us, due_us, end_us = columns.figures(at)
        spent = end_us - start_us
        business = None if columns.business_us is None else columns.business_us[at] * _ONE_US
        return ResponseResult(
            handoff=handoff,
            status=columns.status[at],
            started_at=start,
            due_at=self._rule._due_datetime(start, due_us),
            first_touch_at=columns.stopped[at],
            withdrawn_at=columns.withdrawn.get(at),
            owner_id=columns.owner[at],
            elapsed=spent * _ONE_US if spent > 0 else _ZERO,
            business_elapsed=business,
        )


@attrs.frozen(kw_only=True)
class ResponseRule:
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
    clock: Clock = attrs.field(default=Clock.BUSINESS, converter=_clock)
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

        Returns:
            A :class:`ResponseReport`. Its ``results`` are built as they are read, so
            evaluating a million hand-offs for the summary alone stays cheap.

        Raises:
            ValidationError: ``now`` is naive.

        """
        return bulk_evaluate(
            self._evaluate, handoffs, touches, now, stage_changes, owner_changes, reps
        )

    def _evaluate(
        self,
        items: list[Handoff],
        touches: Iterable[Touch],
        moment: datetime,
        stage_changes: Iterable[StageChange],
        owner_changes: Iterable[OwnerChange],
        team_of: Mapping[str, Team] | None,
    ) -> ResponseReport:
        now_us = epoch_us(moment)
        flags = self.applies_to.matches_many(items)
        eligible = [h for h, ok in zip(items, flags, strict=True) if ok]

        # Only moves that withdraw a hand-off, or stop the clock, send a lead down the
        # general path (see ``route``).
        stop = self.stop_event
        matter = moves_that_matter(
            eligible,
            self.withdraw_on,
            self.ladder,
            stop.stages if isinstance(stop, StageReached) else (),
        )
        position_of, changes, owners, outsiders, general = route(
            eligible, stage_changes, owner_changes, moment, team_of, matter
        )
        notified = [h.notified_at for h in eligible]

        stops: dict[str, list[Touch | StageChange]] = defaultdict(list)
        until = instant(moment)
        since = instants(notified)
        if isinstance(stop, FirstTouch):
            first, earliest = _first_touches(
                touches, stop.channels, position_of, outsiders, since, until, stops
            )
        else:
            first = [None] * len(eligible)
            earliest = [_NEVER] * len(eligible)
            targets = set(stop.stages)
            for lead, lead_changes in changes.items():
                stops[lead] = [c for c in lead_changes if c.to_stage in targets]

        columns, taken = _measure(
            self, eligible, notified, since, first, earliest, now_us, until, general,
            lambda position, start_us, due_us: self._decide(
                eligible[position], start_us, due_us, now_us, stops, changes, owners, team_of
            ),
        )  # fmt: skip
        overall, by_rep, by_source = _tallies(
            columns.owner, list(map(_source, eligible)), columns.status, taken
        )
        return ResponseReport(
            rule=self,
            now=moment,
            results=_Results(self, items, flags, columns),
            summary=_summarise(overall, self.target),
            by_rep={k: _summarise(v, self.target) for k, v in sorted(by_rep.items())},
            by_source={k: _summarise(v, self.target) for k, v in sorted(by_source.items())},
        )

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
