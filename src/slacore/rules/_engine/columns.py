"""The column evaluation of the response and cadence rules: a list per figure over the
eligible hand-offs, the one pass over the touches, and the statuses of the column path.

Each rule's bulk path is one function here (:func:`response_columns`,
:func:`cadence_columns`); the hand-offs it cannot work a column at a time go back to the rule's
readable per-hand-off decision (``ResponseRule._decide``, ``CadenceRule._one``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from itertools import compress, count, repeat
from operator import is_, itemgetter, sub
from typing import TYPE_CHECKING

import attrs

from slacore.calendar import epoch_us
from slacore.model import Channel, Handoff, OwnerChange, StageChange, Team, Touch
from slacore.rules._engine.routing import route
from slacore.rules.common import Clock, SlaStatus, instant, moves_that_matter

if TYPE_CHECKING:
    from slacore.calendar.business import BusinessCalendar
    from slacore.rules.cadence import CadenceRule
    from slacore.rules.cadence_report import CadenceResult
    from slacore.rules.response import ResponseRule


_ONE_US = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NEVER = datetime.max.replace(tzinfo=UTC)


def instants(times: Iterable[datetime]) -> list[datetime]:
    """:func:`instant` of each of ``times``: the test inlined, a call per item costs more."""
    fixed = timezone
    return [at if type(at.tzinfo) is fixed else at.astimezone(UTC) for at in times]


def late_many(
    within: timedelta,
    share: Fraction,
    calendar: BusinessCalendar | None,
    starts: Sequence[int],
    now: int,
) -> list[bool]:
    """Whether clocks running since each of ``starts`` (epoch microseconds) are past
    ``share`` of the window ``within`` at ``now``: in business time of ``calendar``, or in
    plain time without one. Exact: a window times a float share would be rounded.
    """
    limit = within // _ONE_US * share.numerator
    if calendar is not None:
        spent = calendar.elapsed_us(starts, [now] * len(starts))
    else:
        spent = [max(now - start, 0) for start in starts]
    return [taken * share.denominator >= limit for taken in spent]


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


def response_columns(
    rule: ResponseRule,
    eligible: list[Handoff],
    touches: Iterable[Touch],
    moment: datetime,
    stage_changes: Iterable[StageChange],
    owner_changes: Iterable[OwnerChange],
    team_of: Mapping[str, Team] | None,
    *,
    channels: Iterable[Channel] | None,
    stop_stages: tuple[str, ...],
) -> tuple[_ResponseColumns, list[float | None]]:
    """The bulk path of a response evaluation: the figures of the ``eligible`` hand-offs.

    The clock stops at the first touch on one of ``channels`` or, with ``channels`` ``None``,
    at the lead's move into one of ``stop_stages``. The hand-offs that :func:`route` sends down
    the general path are decided one at a time by the rule's ``_decide``. Returns the columns
    and each hand-off's response time (see :func:`_measure`).
    """
    now_us = epoch_us(moment)
    # Only moves that withdraw a hand-off, or stop the clock, send a lead down the
    # general path (see ``route``).
    matter = moves_that_matter(eligible, rule.withdraw_on, rule.ladder, stop_stages)
    position_of, changes, owners, outsiders, general = route(
        eligible, stage_changes, owner_changes, moment, team_of, matter
    )
    notified = [h.notified_at for h in eligible]

    stops: dict[str, list[Touch | StageChange]] = defaultdict(list)
    until = instant(moment)
    since = instants(notified)
    if channels is not None:
        first, earliest = _first_touches(
            touches, channels, position_of, outsiders, since, until, stops
        )
    else:
        first = [None] * len(eligible)
        earliest = [_NEVER] * len(eligible)
        targets = set(stop_stages)
        for lead, lead_changes in changes.items():
            stops[lead] = [c for c in lead_changes if c.to_stage in targets]

    return _measure(
        rule, eligible, notified, since, first, earliest, now_us, until, general,
        lambda position, start_us, due_us: rule._decide(
            eligible[position], start_us, due_us, now_us, stops, changes, owners, team_of
        ),
    )  # fmt: skip


@attrs.define(slots=True)
class _CadenceColumns:
    """The figures of the eligible hand-offs, a list per figure (position-aligned).

    ``closes`` holds each window's end as an instant (UTC, or the start's fixed offset),
    ``counted`` the common path's counted touches (``None`` for none); ``general`` the
    results of the hand-offs decided one at a time.
    """

    status: list[SlaStatus]
    closes: list[datetime]
    counted: list[list[datetime] | None]
    owner: list[str | None]
    general: dict[int, CadenceResult]


def _window_closes(rule: CadenceRule, since: list[datetime]) -> list[datetime]:
    """The end of each window of ``rule`` opened at the instants ``since``, as an instant."""
    calendar = rule.calendar
    if rule.clock is Clock.BUSINESS:
        assert calendar is not None
        starts = [(at - _EPOCH) // _ONE_US for at in since]
        made: dict[int, datetime] = {}
        closes = []
        for due in calendar.add_us(starts, rule.within):
            close = made.get(due)
            if close is None:
                close = made[due] = _EPOCH + due * _ONE_US
            closes.append(close)
    else:
        within = rule.within
        closes = [at + within for at in since]
    return closes


def _count_touches(
    touches: Iterable[Touch],
    channels: Iterable[Channel],
    position_of: dict[str, int],
    outsiders: frozenset[str],
    since: list[datetime],
    closes: list[datetime],
    until: datetime,
) -> tuple[list[list[datetime] | None], dict[str, list[tuple[datetime, datetime, str]]]]:
    """Counted touches (on one of ``channels``, known by ``until``) in one pass.

    Returns the touches in its window of each lead on the column path (``position_of`` at or
    above 0), ``None`` for none; and each general-path lead's touches as (instant, time as
    given, rep), in time order.
    """
    # One pass over the touches: the common lead's counted touches in its window, known
    # by ``now``; the general path's leads keep all of theirs, in time order.
    wanted = set(channels)
    find = position_of.get
    counted: list[list[datetime] | None] = [None] * len(since)
    times: dict[str, list[tuple[datetime, datetime, str]]] = defaultdict(list)
    if outsiders:
        touches = (t for t in touches if t.rep_id not in outsiders)
    for touch in touches:
        if touch.channel in wanted:
            found = find(touch.lead_id)
            if found is None:
                continue
            at = touch.at
            if found >= 0:
                if since[found] <= at <= closes[found] and at <= until:
                    bucket = counted[found]
                    if bucket is None:
                        counted[found] = [at]
                    else:
                        bucket.append(at)
            elif at <= until:
                times[touch.lead_id].append((instant(at), at, touch.rep_id))
    for kept in times.values():
        kept.sort(key=itemgetter(0))
    return counted, times


def _statuses(
    rule: CadenceRule,
    counted: list[list[datetime] | None],
    since: list[datetime],
    closes: list[datetime],
    until: datetime,
) -> list[SlaStatus]:
    """The status of each window on the column path at ``until``, from its counted touches."""
    # Statuses a column at a time: met with enough touches, breached once the window
    # closed short, else open (pending, or at risk once most of the window is gone).
    need = rule.min_touches
    met, breached, pending = SlaStatus.MET, SlaStatus.BREACHED, SlaStatus.PENDING
    statuses = [
        met
        if bucket is not None and len(bucket) >= need
        else (breached if until >= close else pending)
        for bucket, close in zip(counted, closes, strict=True)
    ]
    running = list(compress(count(), map(pending.__eq__, statuses)))
    if running:
        late = rule._late([epoch_us(since[p]) for p in running], epoch_us(until))
        for position, is_late in zip(running, late, strict=True):
            if is_late:
                statuses[position] = SlaStatus.AT_RISK
    return statuses


def cadence_columns(
    rule: CadenceRule,
    eligible: list[Handoff],
    touches: Iterable[Touch],
    moment: datetime,
    stage_changes: Iterable[StageChange],
    owner_changes: Iterable[OwnerChange],
    team_of: Mapping[str, Team] | None,
) -> _CadenceColumns:
    """The bulk path of a cadence evaluation: the figures of the ``eligible`` hand-offs.

    The hand-offs that :func:`route` sends down the general path are decided one at a time by
    the rule's ``_one``.
    """
    # Only moves that withdraw a hand-off send a lead down the general path, one
    # hand-off at a time (see ``route``); the others' touches are gathered in one pass.
    matter = moves_that_matter(eligible, rule.withdraw_on, rule.ladder)
    position_of, changes, owners, outsiders, general_positions = route(
        eligible, stage_changes, owner_changes, moment, team_of, matter
    )

    # Windows as instants (see ``instant``): fixed offsets as they are, other zones in UTC.
    notified = [h.notified_at for h in eligible]
    since = instants(notified)
    closes = _window_closes(rule, since)
    until = instant(moment)
    counted, times = _count_touches(
        touches, rule.channels, position_of, outsiders, since, closes, until
    )
    statuses = _statuses(rule, counted, since, closes, until)
    owners_now = [h.owner_id for h in eligible]
    general = {
        position: rule._one(
            eligible[position],
            rule._end_at(notified[position], closes[position]),
            moment,
            times,
            changes,
            owners,
            team_of,
        )
        for position in general_positions
    }
    for position, result in general.items():
        statuses[position] = result.status
        owners_now[position] = result.owner_id
    return _CadenceColumns(statuses, closes, counted, owners_now, general)
