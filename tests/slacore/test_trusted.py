"""The trusted makers: a record made without re-running the model's checks equals the one its
class makes, and nothing the class refuses is made (slacore._trusted, private)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slacore._trusted import _MAKERS, trusted_maker, unchecked
from slacore._values import aware, flag, identifier
from slacore.model import (
    Channel,
    Deal,
    Handoff,
    Lead,
    OwnerChange,
    Rep,
    StageChange,
    Team,
    Touch,
    _channel,
    _from_team,
    _team,
    _to_team,
)

# What each class checks, field by field: (validator, converter). A check added to a class
# fails this test until its maker in slacore._trusted tests for it too.
CHECKS: dict[type[Any], dict[str, tuple[object, object]]] = {
    Handoff: {
        "lead_id": (identifier, None),
        "notified_at": (aware, None),
        "stage": (identifier, None),
        "owner_id": (identifier, None),
        "from_team": (None, _from_team),
        "to_team": (Handoff._check_teams, _to_team),
        "source": (None, None),
        "segment": (None, None),
        "hand_raiser": (flag, None),
    },
    Touch: {
        "lead_id": (identifier, None),
        "rep_id": (identifier, None),
        "at": (aware, None),
        "channel": (None, _channel),
    },
    StageChange: {
        "lead_id": (identifier, None),
        "to_stage": (identifier, None),
        "at": (aware, None),
        "from_stage": (None, None),
        "owner_id": (identifier, None),
    },
    OwnerChange: {
        "lead_id": (identifier, None),
        "owner_id": (identifier, None),
        "at": (aware, None),
    },
    Lead: {
        "id": (identifier, None),
        "created_at": (aware, None),
        "source": (None, None),
        "segment": (None, None),
        "owner_id": (identifier, None),
        "stage": (None, None),
        "hand_raiser": (flag, None),
    },
    Rep: {
        "id": (identifier, None),
        "name": (None, None),
        "email": (None, None),
        "team": (None, _team),
        "active": (None, None),
    },
}


def test_the_makers_cover_every_check_of_their_classes() -> None:
    assert set(CHECKS) == set(_MAKERS)
    for record_type, expected in CHECKS.items():
        found = {f.name: (f.validator, f.converter) for f in attrs.fields(record_type)}
        assert found == expected, record_type.__name__
        assert not hasattr(record_type, "__attrs_post_init__")


IDS = st.sampled_from(["L1", "R07", " x ", "", " ", "\t\n", "\u2003", "a\u2003", "mql"]) | (
    st.none() | st.integers(0, 3) | st.text(max_size=3)
)
ZONES = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=-4)),
        timezone(timedelta(hours=5, minutes=30)),
        timezone(timedelta(hours=-4, minutes=-56, seconds=-2)),
        ZoneInfo("America/New_York"),
    ]
)
EDGES = [
    datetime(1900, 1, 1, tzinfo=UTC),
    datetime(1900, 1, 1, 3, tzinfo=timezone(timedelta(hours=5))),
    datetime(1899, 12, 31, 23, tzinfo=timezone(timedelta(hours=-2))),
    datetime(1901, 1, 1, tzinfo=timezone(timedelta(hours=23, minutes=59))),
    datetime(2098, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-23, minutes=-59))),
    datetime(2099, 12, 31, 23, tzinfo=timezone(timedelta(hours=-2))),
    datetime(2100, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))),
    datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
    datetime(2020, 7, 1, 9),
]
TIMES = (
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=ZONES)
    | st.sampled_from(EDGES)
    | st.none()
    | st.just("2020-07-01T09:00:00-04:00")
)
TEAMS = st.sampled_from(
    ["sales", "marketing", "Sales", "MARKETING", "other", "", Team.SALES, Team.MARKETING, None, 1]
)
CHANNELS = st.sampled_from(
    ["call", "email", "meeting", "other", "CALL", "Email", "fax", "", Channel.CALL, None, 0]
)
FLAGS = st.sampled_from([True, False, 0, 1, None, "true"])
ANY = st.none() | st.text(max_size=3) | st.integers(-1, 1) | st.booleans()

# The values each field is tried with: by the field's check.
BY_CHECK: dict[object, st.SearchStrategy[Any]] = {
    identifier: IDS,
    aware: TIMES,
    flag: FLAGS,
    _from_team: TEAMS,
    _to_team: TEAMS,
    _team: TEAMS,
    _channel: CHANNELS,
}


def _values(record_type: type[Any]) -> st.SearchStrategy[list[Any]]:
    fields = [
        BY_CHECK.get(converter or validator, ANY)
        for validator, converter in CHECKS[record_type].values()
    ]
    return st.tuples(*fields).map(list)


def _check_agrees(record_type: type[Any], values: list[Any]) -> bool:
    """The maker's answer agrees with the class's; whether the maker made the record."""
    maker = trusted_maker(record_type)
    assert maker is not None
    names = [f.name for f in attrs.fields(record_type)]
    made = maker(*values)
    try:
        expected = record_type(**dict(zip(names, values, strict=True)))
    except Exception:  # whatever the class refuses, the maker must not make
        assert made is None, (values, made)
        return False
    if made is None:
        return False
    assert made == expected
    for name in names:
        # Equal is not enough: "sales" == Team.SALES; the maker gives the class's own types.
        assert type(getattr(made, name)) is type(getattr(expected, name)), name
    assert hash(made) == hash(expected)
    assert repr(made) == repr(expected)
    return True


@pytest.mark.parametrize("record_type", list(CHECKS), ids=lambda t: t.__name__)
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_a_made_record_equals_the_classes_and_a_refused_one_is_not_made(
    record_type: type[Any], data: st.DataObject
) -> None:
    _check_agrees(record_type, data.draw(_values(record_type)))


GOOD: dict[type[Any], list[Any]] = {
    Handoff: [
        "L1",
        datetime(2020, 7, 1, 9, tzinfo=UTC),
        "mql",
        None,
        "marketing",
        "sales",
        "web",
        None,
        True,
    ],
    Touch: ["L1", "R07", datetime(2020, 7, 1, 9, tzinfo=UTC), "call"],
    StageChange: ["L1", "sal", datetime(2020, 7, 1, 9, tzinfo=UTC), "mql", "R07"],
    OwnerChange: ["L1", "R07", datetime(2020, 7, 1, 9, tzinfo=UTC)],
    Lead: ["L1", datetime(2020, 7, 1, 9, tzinfo=UTC), "web", None, None, "mql", False],
    Rep: ["R07", "Ann", None, "sales", True],
}


@pytest.mark.parametrize("record_type", list(GOOD), ids=lambda t: t.__name__)
def test_the_rows_a_store_writes_take_the_trusted_path(record_type: type[Any]) -> None:
    # The generated cases above could all fall back to the class and still pass: these
    # values, as a store writes them, must be made by the maker itself.
    assert _check_agrees(record_type, GOOD[record_type])


def test_deals_have_no_maker() -> None:
    assert trusted_maker(Deal) is None


def test_unchecked_stores_the_values_as_given() -> None:
    make = unchecked(Touch)
    touch = make("", "R1", "not a time", "fax")  # no check runs: only for checked values
    assert (touch.lead_id, touch.at, touch.channel) == ("", "not a time", "fax")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        touch.lead_id = "L2"  # type: ignore[misc]


def test_unchecked_refuses_a_class_it_would_make_wrongly() -> None:
    @attrs.frozen
    class Later:
        value: int

        def __attrs_post_init__(self) -> None:
            pass

    @attrs.frozen(slots=False)
    class Plain:
        value: int

    class NotAttrs:
        pass

    for record_type in (Later, Plain, NotAttrs):
        with pytest.raises(TypeError):
            unchecked(record_type)
