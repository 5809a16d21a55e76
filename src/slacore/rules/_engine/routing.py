"""Routing: which eligible hand-offs a bulk evaluation works a column at a time, and which
go down the general path, one hand-off at a time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from itertools import compress, count
from typing import Any, NamedTuple

from slacore.model import (
    Handoff,
    OwnerChange,
    StageChange,
    Team,
)
from slacore.rules.common import instant


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
