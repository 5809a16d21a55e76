"""Mapping vendor records onto core objects: core fields, the field mapping, time parsing
(slacore.connector.mapping)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slacore import Channel, Deal, Handoff, Lead, Rep, StageChange
from slacore.connector import (
    FieldMapping,
    MissingColumnsError,
    Stream,
    core_fields,
    parse_time,
)
from slacore.errors import ValidationError

BERLIN = ZoneInfo("Europe/Berlin")


def test_core_fields_follow_the_model() -> None:
    fields = {f.name: f for f in core_fields("deals")}
    assert fields["amount"].kind == "money"
    assert fields["amount"].required
    assert not fields["closed_at"].required
    assert fields["closed_at"].kind == "time"
    assert [f.name for f in core_fields(Stream.TOUCHES)] == ["lead_id", "rep_id", "at", "channel"]


# --- the field mapping -----------------------------------------------------------------------


def lead_mapping(**kwargs: Any) -> FieldMapping:
    return FieldMapping(
        stream="leads",
        fields={"id": "Lead ID", "created_at": "Created", "stage": "Status"},
        **kwargs,
    )


def test_mapping_by_column_names_and_defaults() -> None:
    mapping = FieldMapping(stream="reps")
    rep = mapping.map({"ID": "R-1", "Name": "Ada", "team": "Marketing", "active": "no"})
    assert rep == Rep(id="R-1", name="Ada", team="marketing", active=False)
    assert mapping.columns()["email"] == "email"


def test_mapping_vendor_names_value_maps_and_zone() -> None:
    mapping = lead_mapping(stage_values={"Marketing Qualified": "mql"}, timezone="Europe/Berlin")
    lead = mapping.map(
        {"Lead ID": "L-1", "Created": "2026-01-05 09:30", "Status": " marketing  qualified"}
    )
    assert lead == Lead(
        id="L-1", created_at=datetime(2026, 1, 5, 9, 30, tzinfo=BERLIN), stage="mql"
    )
    # a stage key passes through in any case, without an entry in the value map
    assert mapping.map({"Lead ID": "L-2", "Created": "2026-01-05", "Status": "SQL"}).stage == "sql"


def test_mapping_nested_and_typed_vendor_values() -> None:
    mapping = FieldMapping(
        stream="deals",
        fields={"id": "id", "amount": "properties.amount", "opened_at": "properties.createdate"},
        time_formats=["unix_ms"],
    )
    deal = mapping.map(
        {"id": 42, "properties": {"amount": 1250.5, "createdate": 1767605400000}, "won": None}
    )
    assert deal == Deal(
        id="42", amount=Decimal("1250.5"), opened_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    )


def test_mapping_unmaps_an_optional_field() -> None:
    mapping = FieldMapping(stream="leads", fields={"source": None})
    lead = mapping.map({"id": "L", "created_at": "2026-01-05T00:00Z", "source": "web"})
    assert lead.source is None
    assert "source" not in mapping.columns()


@pytest.mark.parametrize(
    ("record", "field", "reason"),
    [
        ({"Lead ID": "L-1", "Status": "mql"}, "Created", "missing value"),
        ({"Lead ID": " ", "Created": "2026-01-05T09:00Z"}, "Lead ID", "missing value"),
        ({"Lead ID": "L-1", "Created": "yesterday"}, "Created", "expected a time like"),
        ({"Lead ID": "L-1", "Created": "2026-01-05 09:00"}, "Created", "no timezone is set"),
        ({"Lead ID": "L-1", "Created": "2026-01-05T09:00Z", "Status": "Hot"}, "Status",
         "unknown stage 'Hot'"),
        ({"Lead ID": "L-1", "Created": "2026-01-05T09:00Z", "hand_raiser": "perhaps"},
         "hand_raiser", "true or false"),
        ({"Lead ID": ["L"], "Created": "2026-01-05T09:00Z"}, "Lead ID", "expected text"),
        ({"Lead ID": "L-1", "Created": 20260105}, "Created", "expected a time"),
    ],
)  # fmt: skip
def test_mapping_rejects_with_the_vendor_field(
    record: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(ValidationError, match=reason) as info:
        lead_mapping().map(record)
    assert info.value.field == field


def test_model_errors_name_the_vendor_field() -> None:
    mapping = FieldMapping(stream="deals", fields={"amount": "Value", "closed_at": "Closed"})
    base = {"id": "D-1", "opened_at": "2026-01-05T09:00Z"}
    with pytest.raises(ValidationError, match="must not be negative") as info:
        mapping.map({**base, "Value": "-5"})
    assert info.value.field == "Value"
    with pytest.raises(ValidationError, match="before opened_at") as info:
        mapping.map({**base, "Value": "5", "Closed": "2026-01-01T00:00Z"})
    assert info.value.field == "Closed"
    with pytest.raises(ValidationError, match="amount of money") as info:
        mapping.map({**base, "Value": "lots"})
    with pytest.raises(ValidationError, match="amount of money"):
        mapping.map({**base, "Value": [1]})


def test_amounts_by_the_decimal_mark() -> None:
    base = {"id": "D-1", "opened_at": "2026-01-05T09:00Z"}
    point = FieldMapping(stream="deals")
    comma = FieldMapping(stream="deals", decimal_mark=",")
    assert point.map({**base, "amount": "1,234.56"}).amount == Decimal("1234.56")
    assert comma.map({**base, "amount": "1.234,56"}).amount == Decimal("1234.56")
    # vendor numbers are numbers, whatever the mark
    assert comma.map({**base, "amount": 1234.5}).amount == Decimal("1234.5")
    with pytest.raises(ValidationError, match=r"with a decimal comma it would be 12\.50") as info:
        point.map({**base, "amount": "12,50"})
    assert info.value.field == "amount"


@pytest.mark.parametrize(
    "amount", [Decimal("1e308"), 1e308, 10**15, Decimal("0.0000001"), "1e999999999"]
)
def test_vendor_amounts_are_bounded_whatever_their_type(amount: object) -> None:
    # A vendor's Decimal 1e308 was stored as it was, and crashed the report's money figures.
    with pytest.raises(ValidationError) as info:
        FieldMapping(stream="deals").map(
            {"id": "D-1", "opened_at": "2026-01-05T09:00Z", "amount": amount}
        )
    assert info.value.field == "amount"


def test_channel_values() -> None:
    mapping = FieldMapping(stream="touches", channel_values={"Phone call": "call"})
    base = {"lead_id": "L", "rep_id": "R", "at": "2026-01-05T09:00Z"}
    assert mapping.map({**base, "channel": "phone CALL"}).channel is Channel.CALL
    assert mapping.map({**base, "channel": "Email"}).channel is Channel.EMAIL
    with pytest.raises(ValidationError, match=r"unknown channel 'Fax'.*channel_values"):
        mapping.map({**base, "channel": "Fax"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fields": {"idd": "x"}}, "no field 'idd'"),
        ({"fields": {"id": None}}, "required"),
        ({"fields": {"id": ""}}, "vendor field name"),
        ({"stage_values": {"Hot": "burning"}}, "not a stage"),
        ({"channel_values": {"Fax": "fax"}}, "not a channel"),
        ({"time_formats": ["dd/mm/yyyy"]}, "strptime pattern"),
        ({"timezone": "Nowhere/Town"}, "time zone"),
        ({"fields": ["id"]}, "table"),
        ({"decimal_mark": ";"}, 'expected "." or ","'),
    ],
)
def test_mapping_settings_are_checked(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FieldMapping(stream="leads", **kwargs)


def test_custom_ladder() -> None:
    mapping = FieldMapping(stream="stage_changes", stages=["new", "won"])
    change = mapping.map({"lead_id": "L", "to_stage": "WON", "at": "2026-01-05T09:00Z"})
    assert change == StageChange(
        lead_id="L", to_stage="won", at=datetime(2026, 1, 5, 9, tzinfo=UTC)
    )
    with pytest.raises(ValidationError, match="unknown stage 'mql'"):
        mapping.map({"lead_id": "L", "to_stage": "mql", "at": "2026-01-05T09:00Z"})


def test_map_many_keeps_rejects_and_duplicates() -> None:
    mapping = lead_mapping()
    good = {"Lead ID": "L-1", "Created": "2026-01-05T09:00Z"}
    records, rejected = mapping.map_many(
        [
            good,
            {"Lead ID": "L-2", "Created": "never"},
            dict(good),
            {"Created": "2026-01-05T09:00Z"},
        ],
        source="api/leads",
    )
    assert [r.id for r in records] == ["L-1"]  # type: ignore[union-attr]
    assert [(r.record_id, r.field) for r in rejected] == [
        ("L-2", "Created"),
        ("L-1", "Lead ID"),
        (None, "Lead ID"),
    ]
    assert rejected[1].reason == "duplicate id 'L-1', first seen in record 1"
    assert rejected[0].source == "api/leads"
    assert rejected[0].raw == {"Lead ID": "L-2", "Created": "never"}


def test_map_many_allows_repeats_in_event_streams() -> None:
    mapping = FieldMapping(stream="handoffs")
    row = {"lead_id": "L", "notified_at": "2026-01-05T09:00Z", "stage": "mql"}
    records, rejected = mapping.map_many([row, row])
    assert (
        records
        == [Handoff(lead_id="L", notified_at=datetime(2026, 1, 5, 9, tzinfo=UTC), stage="mql")] * 2
    )
    assert rejected == []


def test_for_columns_missing_and_duplicate_headers() -> None:
    with pytest.raises(MissingColumnsError) as info:
        lead_mapping().for_columns(["lead id", "Status", "Owner"], source="leads.csv")
    error = info.value
    assert error.missing == ("Created (created_at)",)
    assert error.columns == ("lead id", "Status", "Owner")
    assert str(error) == (
        "leads.csv:1: missing required column Created (created_at) for leads; "
        "the file has: lead id, Status, Owner"
    )
    with pytest.raises(ValidationError, match="appears more than once"):
        lead_mapping().for_columns(["Lead ID", "Created", "lead id"])
    mapper = lead_mapping().for_columns(["Created", "LEAD ID", "x"])
    assert mapper.map(["2026-01-05T09:00Z", "L-9", "?"]).id == "L-9"  # type: ignore[union-attr]
    assert mapper.record_id(["", "L-9"]) == "L-9"
    assert mapper.raw(["a", "b", "c", "d"]) == {
        "Created": "a",
        "LEAD ID": "b",
        "x": "c",
        "column 4": "d",
    }
    assert mapper.column("id") == "LEAD ID"


# --- time parsing ----------------------------------------------------------------------------


def test_parse_time_formats() -> None:
    assert parse_time("2026-01-05T09:30:00+01:00") == datetime(
        2026, 1, 5, 9, 30, tzinfo=timezone(timedelta(hours=1))
    )
    assert parse_time(
        "05/01/2026 09:30", formats=["%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M"], timezone=BERLIN
    ) == datetime(2026, 5, 1, 9, 30, tzinfo=BERLIN)
    assert parse_time("1767605400", formats=["unix"]) == datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    assert parse_time(1767605400.0, formats=["unix"]) == datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    aware = datetime(2026, 1, 5, tzinfo=UTC)
    assert parse_time(aware) is aware
    with pytest.raises(ValidationError, match="no timezone"):
        parse_time(datetime(2026, 1, 5))
    with pytest.raises(ValidationError, match="or unix_ms"):
        parse_time("soon", formats=["unix_ms"])
    with pytest.raises(ValidationError, match="expected a time"):
        parse_time(10**20, formats=["unix"])
    with pytest.raises(ValidationError, match="expected a time"):
        parse_time(True, formats=["unix"])


@given(
    st.datetimes(
        timezones=st.sampled_from([UTC, BERLIN, ZoneInfo("America/New_York")]),
        allow_imaginary=False,  # a wall time a DST jump skips has no ISO form to round-trip
    )
)
def test_parse_time_round_trips_iso(moment: datetime) -> None:
    parsed = parse_time(moment.isoformat())
    # Compare instants and offsets: Python never calls a time that a fall-back repeats equal
    # to one in another zone (PEP 495), even when both are the same instant.
    assert parsed.astimezone(UTC) == moment.astimezone(UTC)
    assert parsed.utcoffset() == moment.utcoffset()
