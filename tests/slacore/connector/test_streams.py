"""Record streams, cursors, rejected records and batches (slacore.connector.streams)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import attrs
import pytest

from slacore.connector import (
    Batch,
    Cursor,
    RejectedRecord,
    Stream,
)
from slacore.errors import UnknownKeyError, ValidationError
from slacore.model import Deal, Lead

# --- streams ---------------------------------------------------------------------------------


def test_stream_parse_accepts_names_in_any_spelling() -> None:
    assert Stream.parse("stage-changes") is Stream.STAGE_CHANGES
    assert Stream.parse(" Leads ") is Stream.LEADS
    assert Stream.parse(Stream.REPS) is Stream.REPS
    assert Stream.OWNER_CHANGES.record_type.__name__ == "OwnerChange"


def test_stream_parse_unknown_lists_the_known() -> None:
    with pytest.raises(UnknownKeyError) as info:
        Stream.parse("contacts")
    assert "leads" in info.value.known
    assert "contacts" in str(info.value)


# --- cursors, rejected records, batches -------------------------------------------------------


def test_cursor_round_trips_through_json() -> None:
    cursor = Cursor(stream="touches", state={"offset": 12, "path": "/x", "ok": True, "n": None})
    assert Cursor.from_json(cursor.to_json()) == cursor
    assert Cursor.from_dict(cursor.to_dict()) == cursor
    assert cursor.stream is Stream.TOUCHES


@pytest.mark.parametrize("text", ["not json", "[1]", '{"state": {}}'])
def test_cursor_from_bad_json(text: str) -> None:
    with pytest.raises(ValidationError, match="cursor"):
        Cursor.from_json(text)


def test_cursor_state_is_flat() -> None:
    with pytest.raises(ValidationError, match="cursor state 'nested'"):
        Cursor(stream="leads", state={"nested": {"a": 1}})
    with pytest.raises(ValidationError, match="mapping"):
        Cursor(stream="leads", state=[1])  # type: ignore[arg-type]


def test_batch_needs_a_cursor_of_its_stream() -> None:
    with pytest.raises(ValidationError, match="a leads batch needs a leads cursor"):
        Batch(stream="leads", records=[], cursor=Cursor(stream="deals"))
    batch = Batch(stream="leads", records=[], cursor=Cursor(stream="leads"))
    assert len(batch) == 0
    assert batch.rejected == ()
    assert batch.notices == ()


def test_batch_notices_are_kept_in_order_and_not_counted() -> None:
    said = ["a.csv:3: the last line has no newline yet", "b"]
    batch = Batch(stream="leads", records=[], cursor=Cursor(stream="leads"), notices=iter(said))
    assert batch.notices == tuple(said)
    assert len(batch) == 0


def test_rejected_record_says_where_and_what() -> None:
    rejected = RejectedRecord(
        stream="leads",
        reason="expected a time",
        source="leads.csv",
        line=7,
        record_id="L-7",
        field="Created",
        raw={"Created": "soon", "n": Decimal(1)},
    )
    assert str(rejected) == "leads.csv:7: record L-7: Created: expected a time"
    assert rejected.to_dict()["raw"] == {"Created": "soon", "n": "1"}
    assert str(RejectedRecord(stream="deals", reason="bad", line=3)) == "line 3: bad"
    error = ValidationError(message="m", field="f", file="x.csv", line=2, record_id="r")
    from_error = RejectedRecord.from_error(error, stream="deals", raw={})
    assert (from_error.source, from_error.line, from_error.record_id) == ("x.csv", 2, "r")


def test_dataclass_records_are_frozen() -> None:
    batch = Batch(stream="leads", records=[], cursor=Cursor(stream="leads"))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        batch.records = ()  # type: ignore[misc]


# --- deletions ----------------------------------------------------------------------------------


def test_a_batch_of_an_id_keyed_stream_carries_deletions_once_each() -> None:
    lead = Lead(id="L1", created_at=datetime(2026, 3, 2, 9, tzinfo=UTC))
    batch = Batch(
        stream="leads",
        records=[lead],
        cursor=Cursor(stream="leads"),
        deleted=iter(["L7", "L3", "L7"]),
    )
    assert batch.deleted == ("L7", "L3")  # the source's order, each id once
    assert len(batch) == 3  # one record, two deletions
    assert Batch(stream="leads", records=[], cursor=Cursor(stream="leads")).deleted == ()
    for stream in ("deals", "reps"):
        assert Batch(stream=stream, records=[], cursor=Cursor(stream=stream), deleted=["X"])
    assert [s.value for s in Stream if s.deletable] == ["leads", "deals", "reps"]


@pytest.mark.parametrize("stream", ["stage_changes", "handoffs", "touches", "owner_changes"])
def test_a_batch_of_a_lead_s_events_cannot_carry_deletions(stream: str) -> None:
    with pytest.raises(ValidationError) as info:
        Batch(stream=stream, records=[], cursor=Cursor(stream=stream), deleted=["L1"])
    assert info.value.field == "deleted"
    assert info.value.message == (
        f"a {stream} batch cannot carry deletions: only a leads, deals or reps batch can "
        f"(a lead's {stream} leave with it when a leads batch deletes the lead)"
    )
    # No deletions is no problem.
    assert Batch(stream=stream, records=[], cursor=Cursor(stream=stream), deleted=[]).deleted == ()


@pytest.mark.parametrize(
    ("deleted", "message"),
    [
        ("L1", "deleted must be a sequence of ids, got the string 'L1'"),
        (["L1", ""], "a deleted id must be a non-empty string, got ''"),
        (["  "], "a deleted id must be a non-empty string, got '  '"),
        ([7], "a deleted id must be a non-empty string, got 7"),
        ([None], "a deleted id must be a non-empty string, got None"),
        ([["L1"]], "a deleted id must be a non-empty string, got ['L1']"),
        (7, "deleted must be a sequence of ids, got int"),
    ],
)
def test_deleted_ids_are_non_empty_strings(deleted: object, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        Batch(stream="leads", records=[], cursor=Cursor(stream="leads"), deleted=deleted)  # type: ignore[arg-type]
    assert (info.value.field, info.value.message) == ("deleted", message)


def test_a_batch_cannot_both_hold_and_delete_a_record() -> None:
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    deals = [Deal(id=f"D{i}", amount=Decimal(1), opened_at=at) for i in range(5)]
    with pytest.raises(ValidationError) as info:
        Batch(
            stream="deals",
            records=deals,
            cursor=Cursor(stream="deals"),
            deleted=["D4", "D9", "D0", "D1", "D2"],
        )
    assert info.value.message == (
        "a deals batch both holds and deletes D0, D1, D2, ...: a record is either current or "
        "deleted"
    )
