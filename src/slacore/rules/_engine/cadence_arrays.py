"""The cadence rule over numpy arrays: the engine of ``CadenceRule.evaluate_columns``.

The same decisions as :func:`~slacore.rules._engine.columns.cadence_columns`, made on the
columns the response rule's column path reads (:mod:`slacore.rules._engine.arrays`): the
routing is shared; each window's counted touches are counted by ``numpy.bincount`` and the
``min_touches``-th found in one sort of the touches by (hand-off, instant); the hand-offs on
the general path are decided one at a time by the rule's ``_one``, with record objects built
for their leads only.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from slacore.calendar._timeline_np import add_array
from slacore.columns import Columns
from slacore.rules._engine.arrays import (
    _AT_RISK,
    _BREACHED,
    _MET,
    _PENDING,
    STATUSES,
    Inputs,
    Ints,
    late_array,
    route_arrays,
)
from slacore.rules._engine.columns import _EPOCH, _ONE_US
from slacore.rules.common import Clock, SlaStatus, stages_that_matter

if TYPE_CHECKING:
    from slacore.rules.cadence import CadenceRule
    from slacore.rules.cadence_report import CadenceResult


@attrs.define(slots=True)
class CadenceFigures:
    """The figures of the eligible hand-offs under a cadence rule, an array per figure.

    ``counted`` is each window's count of counted touches up to ``now``, ``met_row`` the row
    in the touches table of the touch that met the cadence (-1 for none), ``owner`` each
    accountable owner as a code in ``owners``; ``general`` holds the results of the general
    path.
    """

    rows: Ints
    status: np.ndarray[Any, np.dtype[np.int8]]
    close_us: Ints
    counted: Ints
    met_row: Ints
    owner: Ints
    owners: list[str | None]
    general: dict[int, CadenceResult]


def _closes(rule: CadenceRule, start_us: Ints) -> Ints:
    """Each window's end (epoch microseconds) for windows opened at ``start_us``."""
    amount = rule.within // _ONE_US
    if rule.clock is Clock.BUSINESS:
        assert rule.calendar is not None
        return add_array(rule.calendar, start_us, amount)
    return start_us + amount


def cadence_arrays(rule: CadenceRule, inputs: Inputs) -> CadenceFigures:
    """The figures of the eligible hand-offs under ``rule``, a column at a time."""
    routes = route_arrays(
        inputs,
        matter=lambda stages: stages_that_matter(stages, rule.withdraw_on, rule.ladder),
        channels=frozenset(rule.channels),
    )
    now_us, rows, start_us = inputs.now_us, routes.rows, routes.start_us
    size = len(rows)
    close_us = _closes(rule, start_us)

    # The counted touches of each window on the column path: between its opening and its
    # close, known by ``now``; the one that met the cadence is the ``min_touches``-th.
    positions, times = routes.touch_positions, routes.touch_us
    fits = (times >= start_us[positions]) & (times <= close_us[positions]) & (times <= now_us)
    column, positions, times = routes.touch_rows[fits], positions[fits], times[fits]
    counted = np.bincount(positions, minlength=size).astype(np.int64)
    order = np.lexsort((times, positions))  # stable: equal instants keep their row order
    firsts = np.searchsorted(positions[order], np.arange(size))
    need = rule.min_touches
    met = counted >= need
    met_row = np.full(size, -1, dtype=np.int64)
    met_row[met] = column[order][firsts[met] + need - 1]
    status = np.where(met, _MET, np.where(now_us >= close_us, _BREACHED, _PENDING)).astype(np.int8)
    owner, seen = inputs.handoffs.factorize("owner_id", rows)
    owners: list[str | None] = list(seen)
    owner_code = dict(zip(owners, range(len(owners)), strict=True))

    # The general path, one hand-off at a time: withdrawals, reassignments, team checks.
    times_of: dict[str, list[tuple[datetime, datetime, str]]] = defaultdict(list)
    touches = inputs.touches
    if len(routes.general_touches):
        assert touches is not None
        stamp = touches.times["at"]
        for row in routes.general_touches.tolist():
            at = stamp.at(row)
            instant = _EPOCH + int(stamp.us[row]) * _ONE_US
            times_of[touches.value("lead_id", row)].append(
                (instant, at, touches.value("rep_id", row))
            )
        for kept in times_of.values():
            kept.sort(key=lambda item: item[0])
    general: dict[int, CadenceResult] = {}
    moment = _EPOCH + now_us * _ONE_US
    for position in routes.general.tolist():
        handoff = inputs.rows[int(rows[position])]
        close = _EPOCH + int(close_us[position]) * _ONE_US
        result = rule._one(
            handoff,
            rule._end_at(handoff.notified_at, close),
            moment,
            times_of,
            routes.changes,
            routes.owners,
            inputs.team_of,
        )
        general[position] = result
        status[position] = STATUSES.index(result.status)
        code = owner_code.get(result.owner_id)
        if code is None:
            code = owner_code[result.owner_id] = len(owners)
            owners.append(result.owner_id)
        owner[position] = code
    running = np.flatnonzero(status == _PENDING)
    general_at = np.zeros(size, dtype=bool)
    general_at[routes.general] = True
    running = running[~general_at[running]]  # the general path decided its own
    if len(running):
        status[running[late_array(rule, start_us[running], now_us)]] = _AT_RISK
    return CadenceFigures(
        rows=rows, status=status, close_us=close_us, counted=counted, met_row=met_row,
        owner=owner, owners=owners, general=general,
    )  # fmt: skip


def cadence_tally(
    figures: CadenceFigures, handoffs: int
) -> tuple[dict[SlaStatus, int], dict[str, dict[SlaStatus, int]]]:
    """The counts by status overall (with the hand-offs not covered) and per rep."""
    codes, owners = figures.owner, figures.owners
    keys, numbers = np.unique(codes * len(STATUSES) + figures.status, return_counts=True)
    overall: dict[SlaStatus, int] = defaultdict(int)
    by_rep: dict[str, dict[SlaStatus, int]] = defaultdict(lambda: defaultdict(int))
    for key, number in zip(keys.tolist(), numbers.tolist(), strict=True):
        code, state = divmod(key, len(STATUSES))
        overall[STATUSES[state]] += number
        by_rep[owners[code] or "(unassigned)"][STATUSES[state]] += number
    overall[SlaStatus.NOT_APPLICABLE] += handoffs - len(figures.rows)
    return overall, by_rep


def met_at(figures: CadenceFigures, touches: Columns | None, position: int) -> datetime | None:
    """The touch that met the cadence of the hand-off at ``position``, as given."""
    row = int(figures.met_row[position])
    if row < 0 or touches is None:
        return None
    return touches.times["at"].at(row)
