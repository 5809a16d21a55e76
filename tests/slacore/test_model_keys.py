"""Record identity: every record class names the fields of its natural key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import attrs
import pytest

from slacore.connector import Stream
from slacore.model import (
    Deal,
    Handoff,
    Lead,
    OwnerChange,
    Rep,
    StageChange,
    Touch,
    id_field,
    id_is_key,
    natural_key,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RECORD_TYPES = sorted({stream.record_type for stream in Stream}, key=lambda cls: cls.__name__)


def test_every_stream_has_a_record_class_here() -> None:
    assert set(RECORD_TYPES) == {Deal, Handoff, Lead, OwnerChange, Rep, StageChange, Touch}


@pytest.mark.parametrize("cls", RECORD_TYPES, ids=lambda cls: cls.__name__)
def test_each_record_class_names_its_key(cls: type) -> None:
    fields = {field.name: field for field in attrs.fields(cls)}
    assert cls.KEY_FIELDS, "a record class needs a natural key"
    assert len(set(cls.KEY_FIELDS)) == len(cls.KEY_FIELDS)
    for name in cls.KEY_FIELDS:
        assert name in fields, f"{cls.__name__}.KEY_FIELDS names {name!r}, not a field"
        # A key field is always given: a record without one could not be told apart.
        assert fields[name].default is attrs.NOTHING, f"{cls.__name__}.{name} has a default"


def test_the_key_is_not_a_field() -> None:
    assert "KEY_FIELDS" not in {field.name for field in attrs.fields(Touch)}


def test_versions_of_one_record_share_their_key() -> None:
    before = Lead(id="L1", created_at=T0, stage="mql")
    after = attrs.evolve(before, stage="sql", owner_id="R1")
    assert natural_key(before) == natural_key(after) == ("L1",)
    assert natural_key(Lead(id="L2", created_at=T0)) != natural_key(before)


def test_one_instant_in_two_zones_is_one_key() -> None:
    paris = timezone(timedelta(hours=1))
    here = Touch(lead_id="L1", rep_id="R1", at=T0, channel="call")
    there = attrs.evolve(here, at=T0.astimezone(paris))
    assert natural_key(here) == natural_key(there)
    assert hash(natural_key(here)) == hash(natural_key(there))


def test_the_key_values_in_order() -> None:
    change = StageChange(lead_id="L1", to_stage="sql", at=T0, from_stage="mql")
    assert natural_key(change) == ("L1", T0, "sql")
    handoff = Handoff(lead_id="L1", notified_at=T0, stage="mql")
    assert natural_key(handoff) == ("L1", T0, "mql")
    assert natural_key(OwnerChange(lead_id="L1", owner_id="R2", at=T0)) == ("L1", T0)
    assert natural_key(Rep(id="R1", name="Ann")) == ("R1",)
    assert natural_key(Deal(id="D1", amount=10, opened_at=T0)) == ("D1",)


@pytest.mark.parametrize("cls", RECORD_TYPES, ids=lambda cls: cls.__name__)
def test_the_key_starts_with_the_id_that_names_the_record(cls: type) -> None:
    # Rejected records and errors name a record by it: its own id, or its lead's.
    assert id_field(cls) == cls.KEY_FIELDS[0]
    assert id_field(cls) == ("id" if id_is_key(cls) else "lead_id")
    assert id_is_key(cls) == (cls.KEY_FIELDS == ("id",))
