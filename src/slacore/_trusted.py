"""Records made of values whose checks cannot fail, without running the checks again.

Private to the library: not part of slacore's API, and only for values whose form the caller
knows (a store reading back the rows it wrote), never for a user's input.

Every record class of :mod:`slacore.model` converts and validates on construction: ids not
empty, times aware and in the years covered, flags true or false, teams and channels named
as their enums name them. A store reading back millions of its own rows would run all of it
again for each, and the converters and validators were most of what reading a row cost (a
touch made by its class took 7.7 µs in a micro-benchmark, 0.8 µs without them).
:func:`trusted_maker` gives, for the record classes a report reads in bulk, a function that
makes the record when its values pass every check of the class for certain, by the cheapest
exact test of each, and returns ``None`` otherwise. The
caller then makes the record with the class as usual, which converts what needs converting
(``"CALL"`` to a channel) and raises the model's own error for a value it refuses (a
placeholder date an older slacore stored).

So a record made here equals the one the class would make of the same values, and nothing
the class refuses is made here. ``tests/slacore/test_trusted.py`` proves both on generated
values, and pins the checks of each class: a validator or converter added to one of these
classes fails it until the maker here tests for it too.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

import attrs

from slacore._values import FIRST_YEAR, LAST_YEAR
from slacore.model import Channel, Handoff, Lead, OwnerChange, Rep, StageChange, Team, Touch

_Record = TypeVar("_Record")
_E = TypeVar("_E", bound=enum.Enum)


def unchecked(record_type: type[_Record]) -> Callable[..., _Record]:
    """The constructor of a frozen, slotted attrs class without its converters and validators.

    The function takes every field positionally, in the class's order, and stores the values
    as given. It is made once per class, in source, as attrs makes ``__init__``.

    Raises:
        TypeError: ``record_type`` is not a slotted attrs class, or runs code after its
            fields are set (``__attrs_post_init__``), which this would skip.

    """
    if not attrs.has(record_type) or "__slots__" not in record_type.__dict__:
        raise TypeError(f"{record_type.__name__} is not a slotted attrs class")
    if hasattr(record_type, "__attrs_post_init__"):
        raise TypeError(f"{record_type.__name__} runs __attrs_post_init__, which would be skipped")
    names = [field.name for field in attrs.fields(record_type)]
    # The slots' own setters: a frozen class's __setattr__ refuses every assignment.
    namespace: dict[str, Any] = {"_new": object.__new__, "_type": record_type}
    namespace.update({f"_set_{name}": getattr(record_type, name).__set__ for name in names})
    lines = [f"def make({', '.join(names)}):", "    record = _new(_type)"]
    lines += [f"    _set_{name}(record, {name})" for name in names]
    lines.append("    return record")
    exec("\n".join(lines), namespace)  # our own source, of the field names
    made: Callable[..., _Record] = namespace["make"]
    return made


def _is_id(value: object) -> bool:
    """Whether :func:`slacore._values.identifier` accepts ``value`` (a non-empty string
    that is not all white space)."""
    return type(value) is str and value != "" and not value.isspace()


def _is_time(value: object) -> bool:
    """Whether :func:`slacore._values.aware` accepts ``value`` for certain: a datetime with a
    fixed offset whose local year lies strictly inside the years covered, so that its
    instant in UTC does too. A time in the first or the last year is left to the class."""
    return (
        type(value) is datetime
        and type(value.tzinfo) is timezone
        and FIRST_YEAR < value.year < LAST_YEAR
    )


def _members(kind: type[_E]) -> dict[object, _E]:
    """The enum's members by their exact values (and by themselves)."""
    return {member.value: member for member in kind}


_TEAMS = _members(Team)
_CHANNELS = _members(Channel)


def _handoff() -> Callable[..., Handoff | None]:
    make = unchecked(Handoff)
    teams = _TEAMS

    def handoff(
        lead_id: Any,
        notified_at: Any,
        stage: Any,
        owner_id: Any,
        from_team: Any,
        to_team: Any,
        source: Any,
        segment: Any,
        hand_raiser: Any,
    ) -> Handoff | None:
        giver, taker = teams.get(from_team), teams.get(to_team)
        if (
            giver is None
            or taker is None
            or giver is taker
            or type(hand_raiser) is not bool
            or not _is_id(lead_id)
            or not _is_id(stage)
            or (owner_id is not None and not _is_id(owner_id))
            or not _is_time(notified_at)
        ):
            return None
        return make(
            lead_id, notified_at, stage, owner_id, giver, taker, source, segment, hand_raiser
        )

    return handoff


def _touch() -> Callable[..., Touch | None]:
    make = unchecked(Touch)
    channels = _CHANNELS

    def touch(lead_id: Any, rep_id: Any, at: Any, channel: Any) -> Touch | None:
        member = channels.get(channel)
        if member is None or not (_is_id(lead_id) and _is_id(rep_id) and _is_time(at)):
            return None
        return make(lead_id, rep_id, at, member)

    return touch


def _stage_change() -> Callable[..., StageChange | None]:
    make = unchecked(StageChange)

    def stage_change(
        lead_id: Any, to_stage: Any, at: Any, from_stage: Any, owner_id: Any
    ) -> StageChange | None:
        if not (
            _is_id(lead_id)
            and _is_id(to_stage)
            and _is_time(at)
            and (owner_id is None or _is_id(owner_id))
        ):
            return None
        return make(lead_id, to_stage, at, from_stage, owner_id)

    return stage_change


def _owner_change() -> Callable[..., OwnerChange | None]:
    make = unchecked(OwnerChange)

    def owner_change(lead_id: Any, owner_id: Any, at: Any) -> OwnerChange | None:
        if not (_is_id(lead_id) and _is_id(owner_id) and _is_time(at)):
            return None
        return make(lead_id, owner_id, at)

    return owner_change


def _lead() -> Callable[..., Lead | None]:
    make = unchecked(Lead)

    def lead(
        id: Any,
        created_at: Any,
        source: Any,
        segment: Any,
        owner_id: Any,
        stage: Any,
        hand_raiser: Any,
    ) -> Lead | None:
        if not (
            type(hand_raiser) is bool
            and _is_id(id)
            and _is_time(created_at)
            and (owner_id is None or _is_id(owner_id))
        ):
            return None
        return make(id, created_at, source, segment, owner_id, stage, hand_raiser)

    return lead


def _rep() -> Callable[..., Rep | None]:
    make = unchecked(Rep)
    teams = _TEAMS

    def rep(
        id: Any,
        name: Any,
        email: Any,
        team: Any,
        active: Any,
    ) -> Rep | None:
        member = teams.get(team)
        if member is None or not _is_id(id):
            return None
        return make(id, name, email, member, active)

    return rep


_MAKERS: dict[type[Any], Callable[[], Callable[..., Any]]] = {
    Handoff: _handoff,
    Touch: _touch,
    StageChange: _stage_change,
    OwnerChange: _owner_change,
    Lead: _lead,
    Rep: _rep,
}
"""The classes with a trusted maker. A deal's amount is parsed and bounded by its converter,
which no cheaper test replaces: deals are few, and made by their class."""


def trusted_maker(record_type: type[_Record]) -> Callable[..., _Record | None] | None:
    """A function making a ``record_type`` of its field values, given positionally in the
    class's order, or ``None`` if the class has none (deals).

    The function returns the record when every value passes the class's checks for certain
    (an enum field may be given as its member or its exact value, ``"call"``), and ``None``
    otherwise: then make the record with the class, which converts or refuses the values.
    A record it makes equals the one the class makes of the same values.
    """
    build = _MAKERS.get(record_type)
    return None if build is None else build()
