"""The response rule over numpy arrays: the engine of ``ResponseRule.evaluate_columns``.

The same decisions as :func:`~slacore.rules._engine.columns.response_columns`, made on
columns (:class:`~slacore.columns.Columns`) rather than record objects: lead ids factorized
to integer codes, times as ``int64`` epoch microseconds, routing as masks over the codes, the
first counted touch of each hand-off as a grouped minimum over the touches, due times and
business time through the calendar's timeline with :func:`numpy.searchsorted`. The hand-offs
the general path takes (see :func:`~slacore.rules._engine.routing.route`) are decided one at a
time by the rule's ``_decide``, with record objects built for their leads only.

Imported by ``evaluate_columns`` only: numpy stays out of ``import slacore``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from slacore.calendar._timeline_np import due_and_elapsed_array, elapsed_array
from slacore.columns import Columns, read_table
from slacore.model import Handoff, OwnerChange, StageChange, Team, Touch
from slacore.rules._engine.columns import _ONE_US, _Decision
from slacore.rules._engine.gc import Tables
from slacore.rules._engine.tallies import _Tally, tally_groups
from slacore.rules.common import Clock, SlaStatus, stages_that_matter
from slacore.rules.eligibility import (
    Eligibility,
    _All,
    _Any,
    _Everything,
    _Field,
    _HandRaiser,
    _Not,
    _total,
)

if TYPE_CHECKING:
    from slacore.rules.cadence import CadenceRule
    from slacore.rules.response import ResponseRule

Ints = np.ndarray[Any, np.dtype[np.int64]]
Flags = np.ndarray[Any, np.dtype[np.bool_]]
Objects = np.ndarray[Any, np.dtype[np.object_]]

STATUSES = tuple(SlaStatus)
"""Status codes: a status is its position here."""
_MET, _BREACHED, _PENDING, _AT_RISK = (
    STATUSES.index(s)
    for s in (SlaStatus.MET, SlaStatus.BREACHED, SlaStatus.PENDING, SlaStatus.AT_RISK)
)
_LAST = np.iinfo(np.int64).max
_SAFE = 2**62
"""Products below this fit ``int64``: the at-risk test uses Python integers above it."""


def eligible_mask(
    selector: Eligibility, handoffs: Columns, objects: Callable[[], list[Handoff]]
) -> Flags:
    """Which rows ``selector`` covers: slacore's own selectors a column at a time; any other
    selector through its ``matches_many`` on the record objects (``objects``)."""
    if not _total(selector):
        return np.asarray(list(map(bool, selector.matches_many(objects()))), dtype=bool)
    return _selected(selector, handoffs)


def _selected(selector: Eligibility, handoffs: Columns) -> Flags:
    if isinstance(selector, _Everything):
        return np.ones(handoffs.rows, dtype=bool)
    if isinstance(selector, _Field):
        return handoffs.isin(selector.kind, frozenset(selector.names))
    if isinstance(selector, _HandRaiser):
        return handoffs.column("hand_raiser").astype(bool)
    if isinstance(selector, _Not):
        return ~_selected(selector.part, handoffs)
    assert isinstance(selector, _All | _Any)
    masks = [_selected(part, handoffs) for part in selector.parts]
    combine = np.logical_and if isinstance(selector, _All) else np.logical_or
    result = masks[0]
    for mask in masks[1:]:
        result = combine(result, mask)
    return result


@attrs.define(slots=True)
class ArrayFigures:
    """The decided figures of the eligible hand-offs, an array per figure (position-aligned).

    ``first`` is each hand-off's first counted touch as a row of the touches table (-1 for
    none) on the column path; ``owner`` each accountable owner as a code in ``owners``;
    ``general`` holds the decisions of the general path, whose times (clock start, stop,
    withdrawal) come from there.
    """

    rows: Ints
    status: np.ndarray[Any, np.dtype[np.int8]]
    start_us: Ints
    due_us: Ints
    end_us: Ints
    first: Ints
    owner: Ints
    owners: list[str | None]
    general: dict[int, _Decision]
    business_us: Ints | None


def _by_lead(table: Columns | None, keep: Flags | None) -> dict[str, list[Any]]:
    """The records at the kept rows of ``table`` as objects, by lead, in time order (ties in
    row order)."""
    grouped: dict[str, list[Any]] = defaultdict(list)
    if table is None or keep is None:
        return grouped
    make = Maker(table)
    rows = np.flatnonzero(keep)
    rows = rows[np.argsort(table.times["at"].us[rows], kind="stable")]
    for row in rows.tolist():
        record = make(row)
        grouped[record.lead_id].append(record)
    return grouped


def accountable(
    figures: ArrayFigures | Any, handoffs: Columns, wanted: Collection[SlaStatus]
) -> list[tuple[str | None, str]]:
    """The accountable rep and the lead id of each covered hand-off whose status is in
    ``wanted``, in input order, read from a rule's figures (``rows``, ``status``, ``owner``
    and ``owners``, as both rules keep them) and the hand-offs' ``lead_id`` column."""
    codes = [code for code, status in enumerate(STATUSES) if status in wanted]
    picked = np.flatnonzero(np.isin(figures.status, codes))
    owners: list[str | None] = figures.owners
    codes_at = figures.owner[picked].tolist()
    leads = handoffs.values_at("lead_id", figures.rows[picked])
    return [(owners[code], lead) for code, lead in zip(codes_at, leads, strict=True)]


class Maker:
    """Record objects from table rows, for the general path and the lazy results."""

    __slots__ = ("table",)

    def __init__(self, table: Columns) -> None:
        self.table = table

    def __call__(self, row: int) -> Any:
        table = self.table
        values: dict[str, Any] = {name: table.value(name, row) for name in table.values}
        for name, times in table.times.items():
            values[name] = times.at(row)
        return table.stream.record_type(**values)


def late_array(rule: ResponseRule | CadenceRule, starts: Ints, now_us: int) -> Flags:
    """``late_many`` over an array: whether each running clock is past ``at_risk_at``."""
    share = rule.at_risk_at
    limit = rule.within // _ONE_US * share.numerator
    if rule.clock is Clock.BUSINESS:
        assert rule.calendar is not None
        spent = elapsed_array(rule.calendar, starts, np.full(len(starts), now_us, dtype=np.int64))
    else:
        spent = np.maximum(now_us - starts, 0)
    if limit >= _SAFE or (len(spent) and int(spent.max()) * share.denominator >= _SAFE):
        late = [int(taken) * share.denominator >= limit for taken in spent.tolist()]
        return np.asarray(late, dtype=bool)
    return spent * share.denominator >= limit


@attrs.frozen(eq=False)
class Inputs:
    """The tables of a column evaluation, read and checked, and what comes of them first.

    Attributes:
        handoffs: The hand-offs.
        rows: The hand-offs as record objects, each made when read.
        eligible: Which hand-offs the rule covers.
        touches: The touches, if any.
        stage_changes: The stage changes, if any.
        owner_changes: The reassignments, if any.
        team_of: Each known rep's team, when reps were given.
        now_us: The moment of evaluation in epoch microseconds.

    """

    handoffs: Columns
    rows: Rows
    eligible: Flags
    touches: Columns | None
    stage_changes: Columns | None
    owner_changes: Columns | None
    team_of: dict[str, Team] | None
    now_us: int


def read_inputs(applies_to: Eligibility, tables: Tables, now_us: int) -> Inputs:
    """Read the tables of an evaluation (see :func:`slacore.columns.read_table`), and which
    hand-offs ``applies_to`` covers."""
    handoffs, touches, stage_changes, owner_changes, reps = tables
    table = read_table(handoffs, "handoffs")
    rows = Rows(table)
    team_of: dict[str, Team] | None = None
    if reps is not None:
        people = read_table(reps, "reps")
        team_of = dict(
            zip(people.column("id").tolist(), people.column("team").tolist(), strict=True)
        )
    return Inputs(
        handoffs=table,
        rows=rows,
        eligible=eligible_mask(applies_to, table, lambda: list(rows)),
        touches=None if touches is None else read_table(touches, "touches"),
        stage_changes=None if stage_changes is None else read_table(stage_changes, "stage_changes"),
        owner_changes=None if owner_changes is None else read_table(owner_changes, "owner_changes"),
        team_of=team_of,
        now_us=now_us,
    )


@attrs.define(slots=True)
class ArrayRoutes:
    """Which eligible hand-offs a column evaluation works on arrays, as
    :class:`~slacore.rules._engine.routing.Routes` says for objects.

    Attributes:
        rows: The eligible hand-offs' rows in the hand-offs table, in order.
        start_us: Their notification times.
        general: Their positions on the general path, in order.
        changes: The stage changes that matter (objects), by lead, in time order.
        owners: The reassignments (objects), by lead, in time order.
        touch_rows: The counted touches of leads on the column path (rows of the touches
            table, in order), with ``touch_positions`` (their hand-off's position) and
            ``touch_us`` (their times); not yet cut to any window.
        general_touches: The counted touches of leads on the general path known by ``now``
            (rows, in order).

    """

    rows: Ints
    start_us: Ints
    general: Ints
    changes: dict[str, list[StageChange]]
    owners: dict[str, list[OwnerChange]]
    touch_rows: Ints
    touch_positions: Ints
    touch_us: Ints
    general_touches: Ints


_NONE = np.empty(0, dtype=np.int64)


def route_arrays(
    inputs: Inputs,
    *,
    matter: Callable[[Sequence[str]], frozenset[str]],
    channels: frozenset[Any] | None,
) -> ArrayRoutes:
    """Send each eligible hand-off down the column path or the general path, as ``route``
    does: several hand-offs of a lead, a stage change into one of ``matter(stages)`` (given
    the eligible hand-offs' stages), a reassignment, hand-offs to different teams with reps
    known: the general path. Touches on one of ``channels`` are split between the paths."""
    handoffs, touches, now_us = inputs.handoffs, inputs.touches, inputs.now_us
    stage_changes, owner_changes = inputs.stage_changes, inputs.owner_changes
    team_of = inputs.team_of
    rows = np.flatnonzero(inputs.eligible)
    size = len(rows)
    lead_codes, distinct = handoffs.factorize("lead_id", rows)
    general_lead = np.bincount(lead_codes, minlength=len(distinct)) > 1
    moves = matter(handoffs.factorize("stage", rows)[1])
    changes_kept = owners_kept = None
    # Lead ids are looked up only on the rows that could matter (a move that matters,
    # known by ``now``; a counted touch): hashing millions of ids was most of the routing.
    if stage_changes is not None and stage_changes.rows:
        changes_kept = (stage_changes.times["at"].us <= now_us) & stage_changes.isin(
            "to_stage", moves
        )
        codes = stage_changes.codes("lead_id", distinct, changes_kept)
        changes_kept &= codes >= 0
        general_lead[codes[changes_kept]] = True
    if owner_changes is not None and owner_changes.rows:
        owners_kept = owner_changes.times["at"].us <= now_us
        codes = owner_changes.codes("lead_id", distinct, owners_kept)
        owners_kept &= codes >= 0
        general_lead[codes[owners_kept]] = True
    outsiders: frozenset[str] = frozenset()
    if team_of is not None:
        teams = set(handoffs.factorize("to_team", rows)[1])
        if len(teams) > 1:
            general_lead[:] = True
        elif teams:
            (team,) = teams
            outsiders = frozenset(rep for rep, theirs in team_of.items() if theirs != team)
    position_of = np.full(len(distinct), -1, dtype=np.int64)
    position_of[lead_codes] = np.arange(size, dtype=np.int64)
    column, positions, times, general_touches = _NONE, _NONE, _NONE, _NONE
    if channels is not None and touches is not None and touches.rows and size:
        counted = touches.isin("channel", channels)
        if outsiders:
            counted &= ~touches.isin("rep_id", outsiders)
        codes = touches.codes("lead_id", distinct, counted)
        counted &= codes >= 0
        at_us = touches.times["at"].us
        on_general = counted & general_lead[np.maximum(codes, 0)]
        column = np.flatnonzero(counted & ~on_general)
        positions = position_of[codes[column]]
        times = at_us[column]
        general_touches = np.flatnonzero(on_general & (at_us <= now_us))
    return ArrayRoutes(
        rows=rows,
        start_us=handoffs.times["notified_at"].us[rows].copy(),
        general=np.flatnonzero(general_lead[lead_codes]),
        changes=_by_lead(stage_changes, changes_kept),
        owners=_by_lead(owner_changes, owners_kept),
        touch_rows=column,
        touch_positions=positions,
        touch_us=times,
        general_touches=general_touches,
    )


def response_arrays(
    rule: ResponseRule,
    inputs: Inputs,
    *,
    channels: frozenset[Any] | None,
    stop_stages: tuple[str, ...],
) -> tuple[ArrayFigures, Ints, Flags]:
    """The figures of the eligible hand-offs under ``rule``, a column at a time.

    The clock stops at the first touch on one of ``channels`` or, with ``channels`` ``None``,
    at the lead's move into one of ``stop_stages``. Returns the figures, each hand-off's
    response time on the rule's clock in microseconds, and whether its clock stopped.
    """
    routes = route_arrays(
        inputs,
        matter=lambda stages: stages_that_matter(
            stages, rule.withdraw_on, rule.ladder, stop_stages
        ),
        channels=channels,
    )
    handoffs, touches, now_us = inputs.handoffs, inputs.touches, inputs.now_us
    rows, start_us, changes, owners = routes.rows, routes.start_us, routes.changes, routes.owners
    size = len(rows)

    # The first counted touch of each hand-off on the column path: the earliest touch of its
    # lead between its notification and ``now`` (the first row among equal instants).
    first = np.full(size, -1, dtype=np.int64)
    first_us = np.full(size, now_us, dtype=np.int64)
    positions, times = routes.touch_positions, routes.touch_us
    fits = (times >= start_us[positions]) & (times <= now_us)
    column, positions, times = routes.touch_rows[fits], positions[fits], times[fits]
    earliest = np.full(size, _LAST, dtype=np.int64)
    np.minimum.at(earliest, positions, times)
    firsts = times == earliest[positions]
    first_row = np.full(size, _LAST, dtype=np.int64)
    np.minimum.at(first_row, positions[firsts], column[firsts])
    found = first_row != _LAST
    first[found] = first_row[found]
    first_us[found] = earliest[found]
    stops: dict[str, list[Touch | StageChange]] = defaultdict(list)
    if len(routes.general_touches):
        assert touches is not None
        touch = Maker(touches)
        for row in routes.general_touches.tolist():
            made = touch(row)
            stops[made.lead_id].append(made)
    if channels is None:
        targets = set(stop_stages)
        for lead, lead_changes in changes.items():
            stops[lead] = [c for c in lead_changes if c.to_stage in targets]

    stopped = first >= 0
    end_us = np.where(stopped, first_us, now_us)
    business: Ints | None = None
    calendar = rule.calendar
    if rule.clock is Clock.BUSINESS:
        assert calendar is not None
        due_us, business = due_and_elapsed_array(calendar, start_us, end_us, rule.within // _ONE_US)
    else:
        due_us = start_us + rule.within // _ONE_US
    status = np.where(
        stopped,
        np.where(end_us <= due_us, _MET, _BREACHED),
        np.where(now_us >= due_us, _BREACHED, _PENDING),
    ).astype(np.int8)
    owner, seen = handoffs.factorize("owner_id", rows)
    owners_seen: list[str | None] = list(seen)
    owner_code = dict(zip(owners_seen, range(len(owners_seen)), strict=True))

    # The general path, one hand-off at a time: withdrawals, reassignments, team checks.
    decided: dict[int, _Decision] = {}
    hand_off = Maker(handoffs)
    general = routes.general
    for position in general.tolist():
        decision = rule._decide(
            hand_off(int(rows[position])),
            int(start_us[position]),
            int(due_us[position]),
            now_us,
            stops,
            changes,
            owners,
            inputs.team_of,
        )
        decided[position] = decision
        state, _, start_us[position], due_us[position], touched, _, accountable, end = decision
        code = owner_code.get(accountable)
        if code is None:
            code = owner_code[accountable] = len(owners_seen)
            owners_seen.append(accountable)
        owner[position] = code
        status[position] = STATUSES.index(state)
        end_us[position] = end
        stopped[position] = touched is not None
    running = np.flatnonzero(status == _PENDING)
    if len(running):
        status[running[late_array(rule, start_us[running], now_us)]] = _AT_RISK

    if calendar is not None:
        if business is None:
            business = elapsed_array(calendar, start_us, end_us)
        elif len(general):
            business[general] = elapsed_array(calendar, start_us[general], end_us[general])
    taken = business if rule.clock is Clock.BUSINESS else end_us - start_us
    assert taken is not None
    figures = ArrayFigures(
        rows=rows, status=status, start_us=start_us, due_us=due_us, end_us=end_us,
        first=first, owner=owner, owners=owners_seen, general=decided, business_us=business,
    )  # fmt: skip
    return figures, taken, stopped


def array_tallies(
    figures: ArrayFigures,
    source_codes: Ints,
    source_values: Sequence[Any],
    taken: Ints,
    stopped: Flags,
) -> tuple[_Tally, dict[str, _Tally], dict[str, _Tally]]:
    """:func:`~slacore.rules._engine.tallies._tallies` over arrays: the counts from one
    ``numpy.unique`` over (owner, source, status, unanswered) codes, each (owner, source)
    cell's response times sorted in one ``lexsort``."""
    owner_codes, owner_values, status = figures.owner, figures.owners, figures.status
    width = max(len(source_values), 1)
    cell = owner_codes * width + source_codes
    key = (cell * len(STATUSES) + status) * 2 + ~stopped
    found, counts = np.unique(key, return_counts=True)
    rows = []
    for value, number in zip(found.tolist(), counts.tolist(), strict=True):
        rest, never = divmod(value, 2)
        rest, state = divmod(rest, len(STATUSES))
        rest, origin = divmod(rest, width)
        rows.append(
            ((owner_values[rest], source_values[origin], STATUSES[state], bool(never)), number)
        )
    kept = np.flatnonzero(stopped)
    cells, times = _sorted_by_cell(cell[kept], taken[kept])
    bounds = np.flatnonzero(np.diff(cells)) + 1
    runs = []
    for begin, end in zip([0, *bounds.tolist()], [*bounds.tolist(), len(cells)], strict=True):
        if begin == end:
            continue
        owner, origin = divmod(int(cells[begin]), width)
        runs.append(((owner_values[owner], source_values[origin]), times[begin:end].tolist()))
    return tally_groups(rows, runs)


_TIME_BITS = 46
"""Response times below 2**46 microseconds (2.2 years) and cells below 2**16 share one
``int64`` key: one sort of it costs a fifth of a ``lexsort`` of the two."""


def _sorted_by_cell(cells: Ints, times: Ints) -> tuple[Ints, np.ndarray[Any, Any]]:
    """``cells`` and ``times`` (whole microseconds) sorted by cell, then by time; the times
    as floats (see ``_Runs``)."""
    if len(times) and (
        int(times.min()) >= 0
        and int(times.max()) >> _TIME_BITS == 0
        and int(cells.max()) >> 16 == 0
    ):
        keys = np.sort((cells << _TIME_BITS) | times)
        return keys >> _TIME_BITS, (keys & ((1 << _TIME_BITS) - 1)).astype(np.float64)
    order = np.lexsort((times, cells))
    return cells[order], times[order].astype(np.float64)


def when(figures: ArrayFigures, touches: Columns | None, position: int) -> datetime | None:
    """The first counted touch of the hand-off at ``position`` of the column path, as given."""
    row = int(figures.first[position])
    if row < 0 or touches is None:
        return None
    return touches.times["at"].at(row)


class Rows(Sequence[Handoff]):
    """The hand-offs of a table as record objects, each made when read."""

    __slots__ = ("_make", "_size")

    def __init__(self, handoffs: Columns) -> None:
        self._make = Maker(handoffs)
        self._size = handoffs.rows

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(self._size)))
        return self._make(range(self._size)[index])
