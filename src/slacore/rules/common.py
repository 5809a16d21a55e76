"""Shared parts of the clock rules (response, cadence): converters, grouping, ownership.

Private: the public names live in :mod:`slacore.rules.response` and :mod:`slacore.rules.cadence`.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from itertools import accumulate, compress, count
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar, overload

from slacore._values import RateLike, format_rate, to_rate
from slacore.calendar.duration import parse_duration
from slacore.errors import ValidationError
from slacore.model import (
    Channel,
    Handoff,
    OwnerChange,
    Rep,
    StageChange,
    StageLadder,
    Team,
    Touch,
)
from slacore.rules.eligibility import Eligibility

if TYPE_CHECKING:
    from slacore.calendar.business import BusinessCalendar


def to_channels(values: Iterable[Channel | str]) -> tuple[Channel, ...]:
    result: list[Channel] = []
    for value in values:
        try:
            result.append(Channel(value.lower() if isinstance(value, str) else value))
        except ValueError:
            raise ValidationError(
                message=f"expected channels among call, email, meeting, other, got {value!r}",
                field="counts",
                value=value,
            ) from None
    if not result:
        raise ValidationError(message="name at least one channel that counts", field="counts")
    return tuple(dict.fromkeys(result))


def to_window(value: timedelta | str) -> timedelta:
    return parse_duration(value, field="within")


def to_share(value: RateLike) -> Fraction:
    share = to_rate(value, field="at_risk_at")
    if not 0 < share <= 1:
        raise ValidationError(
            message=f"expected a share above 0 and at most 1, got {format_rate(share)}",
            field="at_risk_at",
        )
    return share


def to_target(value: RateLike | None) -> Fraction | None:
    if value is None:
        return None
    share = to_rate(value, field="target")
    if not 0 <= share <= 1:
        raise ValidationError(
            message=f"expected a share between 0 and 1, got {format_rate(share)}", field="target"
        )
    return share


def to_stages(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def aware_now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValidationError(
            message=f"expected a timezone-aware datetime, got {now!r}", field="now", value=now
        )
    return now


_pause_lock = threading.Lock()
_pauses = 0
_collector_was_on = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for one bulk evaluation.

    An evaluation allocates a few million small objects that form no cycles, each burst of
    which sets off collections that walk every live object, the caller's millions of records
    included: about a third of the time on a million hand-offs. Reference counting frees memory
    as usual meanwhile; only cycles made during the pause (by the caller's own iterators, say)
    wait for the collector.

    Pauses nest and may overlap across threads: the first to start switches the collector off,
    the last to end switches it back on if it was on before the first.
    """
    global _pauses, _collector_was_on
    with _pause_lock:
        if _pauses == 0:
            _collector_was_on = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _collector_was_on:
                gc.enable()


_ONE_US = timedelta(microseconds=1)

_Report = TypeVar("_Report")


def bulk_evaluate(
    evaluate: Callable[
        [
            list[Handoff],
            Iterable[Touch],
            datetime,
            Iterable[StageChange],
            Iterable[OwnerChange],
            Mapping[str, Team] | None,
        ],
        _Report,
    ],
    handoffs: Iterable[Handoff],
    touches: Iterable[Touch],
    now: datetime | None,
    stage_changes: Iterable[StageChange],
    owner_changes: Iterable[OwnerChange],
    reps: Iterable[Rep] | None,
) -> _Report:
    """Run a rule's ``_evaluate`` on checked inputs with the collector paused: the shared
    front of ``ResponseRule.evaluate`` and ``CadenceRule.evaluate``."""
    moment = aware_now(now)
    team_of = None if reps is None else {rep.id: rep.team for rep in reps}
    with gc_paused():
        return evaluate(list(handoffs), touches, moment, stage_changes, owner_changes, team_of)


def instant(at: datetime) -> datetime:
    """``at`` as a datetime that compares by the instant it names.

    Python compares two datetimes that share a ``tzinfo`` object by their wall clocks and
    ignores ``fold``: in a zone's fall-back hour, 01:10 EST (the later instant) sorts before
    01:30 EDT. Fixed offsets (``timezone.utc`` and the like) have no such hour and are kept as
    they are; other zones are converted to UTC.
    """
    return at if type(at.tzinfo) is timezone else at.astimezone(UTC)


def instants(times: Iterable[datetime]) -> list[datetime]:
    """:func:`instant` of each of ``times``: the test inlined, a call per item costs more."""
    fixed = timezone
    return [at if type(at.tzinfo) is fixed else at.astimezone(UTC) for at in times]


def by_lead(
    records: Iterable[Any], wanted: Collection[str], until: datetime
) -> dict[str, list[Any]]:
    """Records of the ``wanted`` leads known by ``until``, grouped by lead, in time order."""
    grouped: dict[str, list[Any]] = defaultdict(list)
    until = instant(until)
    for record in records:
        if record.lead_id in wanted and instant(record.at) <= until:
            grouped[record.lead_id].append(record)
    for items in grouped.values():
        items.sort(key=lambda r: instant(r.at))
    return grouped


def owner_at(handoff: Handoff, changes: Sequence[OwnerChange], moment: datetime) -> str | None:
    """The lead's owner at ``moment``: the last reassignment by then, else the hand-off's."""
    owner = handoff.owner_id
    moment = instant(moment)
    for change in changes:
        if instant(change.at) > moment:
            break
        owner = change.owner_id
    return owner


def withdraws(
    handoff: Handoff, stage: str, withdraw_on: tuple[str, ...], ladder: StageLadder
) -> bool:
    """Whether moving into ``stage`` withdraws the hand-off: a withdrawing stage, or back
    to a stage before the hand-off's own in the ladder (returned to marketing)."""
    if stage in withdraw_on:
        return True
    if stage in ladder and handoff.stage in ladder:
        return ladder.is_before(stage, handoff.stage)
    return False


def moves_that_matter(
    handoffs: Iterable[Handoff],
    withdraw_on: tuple[str, ...],
    ladder: StageLadder,
    also: Iterable[str] = (),
) -> frozenset[str]:
    """The stage keys a move into which can withdraw one of ``handoffs`` (see
    :func:`withdraws`), with ``also`` (the stages that stop a clock).

    A lead's other moves (accepted, qualified) change nothing for a clock rule: leaving them
    out keeps such leads off the one-at-a-time path.
    """
    stages = {h.stage for h in handoffs}
    keys = ladder.keys
    placed = [stage for stage in stages if stage in keys]
    back = {key for key in keys if any(ladder.is_before(key, stage) for stage in placed)}
    return frozenset(withdraw_on).union(back, also)


class Routes(NamedTuple):
    """Which eligible hand-offs a bulk evaluation can work a column at a time.

    Attributes:
        position_of: Each lead's position among the eligible hand-offs, or -1 for a lead
            on the general path, worked one hand-off at a time.
        changes: The stage changes that matter (see :func:`moves_that_matter`), by lead.
        owners: The reassignments, by lead.
        outsiders: Reps of another team than the one every hand-off goes to, whose
            touches do not count (empty without reps, or on mixed teams).
        general: The positions on the general path, in order.

    """

    position_of: dict[str, int]
    changes: dict[str, list[StageChange]]
    owners: dict[str, list[OwnerChange]]
    outsiders: frozenset[str]
    general: list[int]


def route(
    eligible: list[Handoff],
    stage_changes: Iterable[StageChange],
    owner_changes: Iterable[OwnerChange],
    moment: datetime,
    team_of: Mapping[str, Team] | None,
    matter: Collection[str],
) -> Routes:
    """Send each eligible hand-off down the column path or the general path.

    The general path takes the leads with several hand-offs, a stage change into one of
    ``matter``, a reassignment, and every lead when the hand-offs go to different teams
    (with reps known). The others' touches are found in one pass, without grouping them.
    """
    leads = [h.lead_id for h in eligible]
    position_of = dict(zip(leads, range(len(leads)), strict=True))
    several = len(position_of) < len(leads)
    if several:  # some leads have several hand-offs
        for position, lead in enumerate(leads):
            if position_of[lead] != position:
                position_of[lead] = -1
    changes = by_lead((c for c in stage_changes if c.to_stage in matter), position_of, moment)
    owners = by_lead(owner_changes, position_of, moment)
    # With reps known, a touch by a rep of another team does not count. When every
    # hand-off goes to one team, those reps' touches are left out of the pass.
    outsiders: frozenset[str] = frozenset()
    mixed = False
    if team_of is not None:
        teams = {h.to_team for h in eligible}
        mixed = len(teams) > 1
        if mixed:
            position_of = dict.fromkeys(position_of, -1)
        elif teams:
            (team,) = teams
            outsiders = frozenset(rep for rep, theirs in team_of.items() if theirs != team)
    for lead in (*changes, *owners):
        position_of[lead] = -1
    general: list[int] = []
    if several or changes or owners or mixed:
        marks = map(position_of.__getitem__, leads)
        general = list(compress(count(), map((-1).__eq__, marks)))
    return Routes(position_of, changes, owners, outsiders, general)


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


def check_rule(*, needs_calendar: bool, calendar: object, applies_to: object) -> None:
    """The checks every clock rule makes on construction.

    Raises:
        ValidationError: The business clock without a calendar, or ``applies_to`` is not a
            selector.

    """
    if needs_calendar and calendar is None:
        raise ValidationError(
            message='the business clock needs a calendar (or use clock="calendar")',
            field="calendar",
        )
    if not isinstance(applies_to, Eligibility):
        raise ValidationError(
            message="expected a selector from slacore.rules.eligibility, e.g. hand_raisers()",
            field="applies_to",
            value=applies_to,
        )


_Result = TypeVar("_Result")
_Rule = TypeVar("_Rule")
_Figures = TypeVar("_Figures")


class LazyResults(Sequence[_Result], Generic[_Result, _Rule, _Figures]):
    """The results of a bulk evaluation, one per hand-off in input order, built on access:
    a million of them cost little until read.

    A rule keeps its figures for the eligible hand-offs only, a list per figure
    (``figures``); the subclass builds one result from them (``_build``), or a
    not-applicable one for a hand-off the rule does not cover.
    """

    __slots__ = ("_eligible", "_figures", "_handoffs", "_index", "_rule")
    _noun = "results"

    def __init__(
        self, rule: _Rule, handoffs: list[Handoff], eligible: list[bool], figures: _Figures
    ) -> None:
        self._rule = rule
        self._handoffs = handoffs
        self._eligible = eligible
        self._figures = figures
        self._index: list[int] | None = None

    def _not_applicable(self, handoff: Handoff) -> _Result:
        raise NotImplementedError

    def _build(self, handoff: Handoff, at: int) -> _Result:
        """The result of ``handoff``, whose figures sit at position ``at``."""
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self._handoffs)

    @overload
    def __getitem__(self, index: int) -> _Result: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[_Result, ...]: ...

    def __getitem__(self, index: int | slice) -> _Result | tuple[_Result, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        handoff = self._handoffs[index]
        if not self._eligible[index]:
            return self._not_applicable(handoff)
        if self._index is None:
            # How many eligible hand-offs there are up to each one: a hand-off's figures sit
            # at that count less one. Counted on first read.
            # (As bools: a selector of the user's may answer numpy booleans, which add up
            # as logical "or".)
            self._index = list(accumulate(map(bool, self._eligible)))
        return self._build(handoff, self._index[index] - 1)

    def __iter__(self) -> Iterator[_Result]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return list(self) == list(other)

    def __hash__(self) -> int:
        # Equal to a tuple of the same results, as equality says; builds every result.
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"<{len(self)} {self._noun}>"
