"""The Salesforce mapping: REST and Bulk 2.0 rows (shapes of VENDORS.md 3.1-3.3, 6.8-6.10)."""

from __future__ import annotations

import csv
import doctest
import io
import random
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slacore.connector import Stream
from slacore.model import Channel, Deal, Handoff, Lead, OwnerChange, Rep, StageChange, Touch
from slacore_connectors.salesforce import mapping as sf_mapping
from slacore_connectors.salesforce.mapping import (
    NO_HISTORY,
    IdKind,
    LeadLinks,
    Mapped,
    SalesforceMapping,
    id_kind,
    map_event,
    map_lead,
    map_opportunity,
    map_task,
    map_user,
)

MAPPING = SalesforceMapping()
LEAD = "00Q000000000001AAA"
USER1 = "005000000000001AAA"
USER2 = "005000000000002AAA"
QUEUE = "00G000000000001AAA"
CONTACT = "003000000000001AAA"
OPP = "006000000000001AAA"
CREATED = "2026-03-02T09:00:00.000+0000"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def lead_row(**fields: Any) -> dict[str, Any]:
    """A Lead as REST answers it."""
    row: dict[str, Any] = {
        "attributes": {"type": "Lead", "url": f"/services/data/v59.0/sobjects/Lead/{LEAD}"},
        "Id": LEAD,
        "Status": "Open - Not Contacted",
        "LeadSource": "Web",
        "OwnerId": USER1,
        "CreatedDate": CREATED,
        "IsConverted": False,
        "ConvertedDate": None,
        "ConvertedContactId": None,
        "ConvertedOpportunityId": None,
        "ConvertedAccountId": None,
        "IsDeleted": False,
        "SystemModstamp": "2026-03-05T09:00:00.000+0000",
    }
    row.update(fields)
    return row


_ids = iter(range(1, 10**6))


def status(old: str | None, new: str, when: str) -> dict[str, Any]:
    return {
        "attributes": {"type": "LeadHistory"},
        "Id": f"017{next(_ids):015d}",
        "LeadId": LEAD,
        "Field": "Status",
        "DataType": "Picklist",
        "OldValue": old,
        "NewValue": new,
        "CreatedDate": when,
        "IsDeleted": False,
    }


def owner(old: str, new: str, when: str) -> list[dict[str, Any]]:
    """The TWO rows one owner change writes: ids (EntityId) and names (Text)."""
    names = {USER1: "Ada Byron", USER2: "Alan Turing", QUEUE: "Lead Queue"}
    return [
        {
            "Id": f"017{next(_ids):015d}",
            "LeadId": LEAD,
            "Field": "Owner",
            "DataType": data_type,
            "OldValue": old_value,
            "NewValue": new_value,
            "CreatedDate": when,
            "IsDeleted": False,
        }
        for data_type, old_value, new_value in (
            ("EntityId", old, new),
            ("Text", names[old], names[new]),
        )
    ]


# --- leads ------------------------------------------------------------------------------------


def test_a_lead_without_changes_holds_its_status_and_owner_since_creation() -> None:
    result = map_lead(lead_row(), [], MAPPING)
    assert not result.rejected
    assert not result.notices
    assert result.conversion is None
    assert result.records == (
        Lead(id=LEAD, created_at=at(CREATED), source="Web", owner_id=USER1, stage="mql"),
        StageChange(lead_id=LEAD, to_stage="mql", at=at(CREATED), owner_id=USER1),
        OwnerChange(lead_id=LEAD, owner_id=USER1, at=at(CREATED)),
        Handoff(lead_id=LEAD, notified_at=at(CREATED), stage="mql", owner_id=USER1, source="Web"),
    )


def test_status_history_oldest_first_with_backward_moves_and_one_handoff() -> None:
    history = [
        status("Working - Contacted", "Open - Not Contacted", "2026-03-04T10:00:00.000+0000"),
        status("Open - Not Contacted", "Working - Contacted", "2026-03-03T10:00:00.000+0000"),
        status("Open - Not Contacted", "Working - Contacted", "2026-03-05T10:00:00.000+0000"),
    ]
    result = map_lead(lead_row(Status="Working - Contacted"), history, MAPPING)
    moves = [(c.from_stage, c.to_stage, c.at) for c in result.of(StageChange)]
    assert moves == [
        (None, "mql", at(CREATED)),
        ("mql", "sal", at("2026-03-03T10:00:00+00:00")),
        ("sal", "mql", at("2026-03-04T10:00:00+00:00")),
        ("mql", "sal", at("2026-03-05T10:00:00+00:00")),
    ]
    # Back from sal to mql is no new arrival at the hand-off status.
    assert [h.notified_at for h in result.of(Handoff)] == [at(CREATED)]
    assert result.of(Lead)[0].stage == "sal"


def test_a_lead_that_reaches_the_handoff_status_twice_gives_two_handoffs() -> None:
    history = [
        status("Open - Not Contacted", "Closed - Not Converted", "2026-03-03T10:00:00.000+0000"),
        status("Closed - Not Converted", "Open - Not Contacted", "2026-04-01T08:00:00.000+0000"),
    ]
    result = map_lead(lead_row(), history, MAPPING)
    assert [h.notified_at for h in result.of(Handoff)] == [
        at(CREATED),
        at("2026-04-01T08:00:00+00:00"),
    ]
    assert [c.to_stage for c in result.of(StageChange)] == ["mql", "disqualified", "mql"]


def test_the_first_status_row_says_the_status_the_lead_was_created_in() -> None:
    mapping = SalesforceMapping(status_values={"Nurture": "lead"})
    history = [status("Nurture", "Open - Not Contacted", "2026-03-03T10:00:00.000+0000")]
    result = map_lead(lead_row(), history, mapping)
    assert [(c.to_stage, c.at) for c in result.of(StageChange)] == [
        ("lead", at(CREATED)),
        ("mql", at("2026-03-03T10:00:00+00:00")),
    ]
    (handoff,) = result.of(Handoff)
    assert handoff.notified_at == at("2026-03-03T10:00:00+00:00")


def test_an_owner_change_writes_two_rows_and_counts_once() -> None:
    rows = owner(QUEUE, USER2, "2026-03-02T09:30:00.000+0000")
    result = map_lead(lead_row(OwnerId=USER2), rows, MAPPING)
    # Created in the queue (the first row's OldValue): no rep, so no owner change then.
    assert result.of(OwnerChange) == (
        OwnerChange(lead_id=LEAD, owner_id=USER2, at=at("2026-03-02T09:30:00+00:00")),
    )


def test_the_handoff_is_notified_when_a_user_takes_the_lead_from_the_queue() -> None:
    rows = owner(QUEUE, USER2, "2026-03-02T11:00:00.000+0000")
    result = map_lead(lead_row(OwnerId=USER2), rows, MAPPING)
    assert result.of(Handoff) == (
        Handoff(
            lead_id=LEAD,
            notified_at=at("2026-03-02T11:00:00+00:00"),
            stage="mql",
            owner_id=USER2,
            source="Web",
        ),
    )
    assert result.of(StageChange)[0].owner_id is None  # a queue held it then
    entered = SalesforceMapping(handoff_notified="status_entered")
    (handoff,) = map_lead(lead_row(OwnerId=USER2), rows, entered).of(Handoff)
    assert (handoff.notified_at, handoff.owner_id) == (at(CREATED), None)


def test_a_lead_still_in_a_queue_has_a_pending_handoff_not_a_handoff() -> None:
    result = map_lead(lead_row(OwnerId=QUEUE), [], MAPPING)
    assert result.of(Handoff) == ()
    assert result.of(Lead)[0].owner_id is None
    (pending,) = result.pending
    assert (pending.lead_id, pending.stage, pending.reached_at) == (LEAD, "mql", at(CREATED))
    assert "owned by a queue" in str(pending)


def test_owner_rows_without_data_type_take_the_id_row() -> None:
    rows = owner(USER1, USER2, "2026-03-03T10:00:00.000+0000")
    for row in rows:
        del row["DataType"]
    result = map_lead(lead_row(OwnerId=USER2), rows, MAPPING)
    assert [c.owner_id for c in result.of(OwnerChange)] == [USER1, USER2]


def test_history_rows_of_other_fields_and_deleted_rows_are_skipped() -> None:
    skipped = status("Open - Not Contacted", "Working - Contacted", "2026-03-03T10:00:00.000+0000")
    skipped["IsDeleted"] = True
    created = {**status(None, "x", CREATED), "Field": "created", "NewValue": None}
    result = map_lead(lead_row(), [skipped, created], MAPPING)
    assert [c.to_stage for c in result.of(StageChange)] == ["mql"]


def test_without_history_the_lead_says_so_and_falls_back_to_what_it_shows() -> None:
    result = map_lead(lead_row(Status="Working - Contacted"), None, MAPPING)
    assert result.notices == (NO_HISTORY,)
    assert [(c.to_stage, c.at) for c in result.of(StageChange)] == [("sal", at(CREATED))]
    assert [h.stage for h in result.of(Handoff)] == ["sal"]


def test_a_converted_lead_keeps_its_date_and_links_and_its_contacts_touches_count() -> None:
    row = lead_row(
        Status="Closed - Converted",
        IsConverted=True,
        ConvertedDate="2026-03-20",
        ConvertedContactId=CONTACT,
        ConvertedOpportunityId=OPP,
        ConvertedAccountId="001000000000001AAA",
    )
    result = map_lead(row, [], MAPPING)
    conversion = result.conversion
    assert conversion is not None
    assert conversion.converted_on == date(2026, 3, 20)
    assert type(conversion.converted_on) is date
    assert (conversion.contact_id, conversion.opportunity_id) == (CONTACT, OPP)
    assert result.of(Lead)[0].stage == "opportunity"
    touch = map_task(task(WhoId=CONTACT), {conversion.contact_id: conversion.lead_id})
    assert touch.records[0].lead_id == LEAD  # type: ignore[union-attr]
    deal = map_opportunity(opportunity(), {OPP: LEAD}).records[0]
    assert isinstance(deal, Deal)
    assert deal.lead_id == LEAD


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"CreatedDate": "2026-03-02"}, "CreatedDate"),
        ({"CreatedDate": "2026-03-02T09:00:00"}, "CreatedDate"),
        ({"CreatedDate": None}, "CreatedDate"),
        ({"OwnerId": "00G12"}, "OwnerId"),
        ({"OwnerId": "001000000000001AAA"}, "OwnerId"),
        ({"Status": "Maybe"}, "Status"),
        ({"IsConverted": "yes"}, "IsConverted"),
        ({"IsConverted": True, "ConvertedDate": "20.03.2026"}, "ConvertedDate"),
        ({"IsConverted": True, "ConvertedContactId": LEAD}, "ConvertedContactId"),
        ({"LeadSource": 7}, "LeadSource"),
    ],
)
def test_malformed_lead_values_reject_the_lead_naming_field_and_id(
    change: dict[str, Any], field: str
) -> None:
    result = map_lead(lead_row(**change), [], MAPPING)
    assert result.records == ()
    (rejected,) = result.rejected
    assert (rejected.stream, rejected.field, rejected.record_id) == (Stream.LEADS, field, LEAD)
    assert rejected.source == "Salesforce Lead"
    assert "attributes" not in rejected.raw


def test_a_lead_without_a_lead_id_is_rejected() -> None:
    (rejected,) = map_lead(lead_row(Id="003000000000001AAA"), [], MAPPING).rejected
    assert rejected.field == "Id"
    assert "lead (00Q)" in rejected.reason


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"NewValue": "Maybe"}, "LeadHistory.NewValue"),
        ({"CreatedDate": "yesterday"}, "LeadHistory.CreatedDate"),
        ({"Id": None}, "LeadHistory.Id"),
    ],
)
def test_a_malformed_history_row_rejects_the_lead_naming_the_row(
    change: dict[str, Any], field: str
) -> None:
    row = status("Open - Not Contacted", "Working - Contacted", "2026-03-03T10:00:00.000+0000")
    row.update(change)
    (rejected,) = map_lead(lead_row(), [row], MAPPING).rejected
    assert (rejected.field, rejected.record_id) == (field, LEAD)
    assert rejected.reason.startswith("in its history (row ")


def test_a_history_row_of_another_lead_is_a_caller_error() -> None:
    row = status(None, "Working - Contacted", CREATED)
    row["LeadId"] = "00Q000000000009AAA"
    with pytest.raises(ValueError, match="given for"):
        map_lead(lead_row(), [row], MAPPING)


def test_segment_persona_and_hand_raiser_come_from_custom_fields() -> None:
    mapping = SalesforceMapping(
        segment_field="Segment__c",
        persona_field="Persona__c",
        hand_raiser_field="Demo_Request__c",
    )
    row = lead_row(Segment__c="Enterprise", Persona__c="CFO", Demo_Request__c=True)
    (lead,) = map_lead(row, [], mapping).of(Lead)
    assert (lead.segment, lead.hand_raiser) == ("CFO x Enterprise", True)
    picks = SalesforceMapping(hand_raiser_field="Asks__c", hand_raiser_values=["Demo"])
    (lead,) = map_lead(lead_row(Asks__c="Pricing;demo"), [], picks).of(Lead)
    assert lead.hand_raiser is True
    (rejected,) = map_lead(lead_row(Demo_Request__c="maybe"), [], mapping).rejected
    assert rejected.field == "Demo_Request__c"


def test_a_bulk_csv_lead_reads_string_booleans_z_times_and_empty_nulls() -> None:
    text = (
        '"Id","Status","LeadSource","OwnerId","CreatedDate","IsConverted","ConvertedDate",'
        '"ConvertedContactId","ConvertedOpportunityId","ConvertedAccountId","IsDeleted",'
        '"SystemModstamp"\n'
        f'"{LEAD}","Closed - Converted","","{USER1}","2026-03-02T09:00:00.000Z","true",'
        f'"2026-03-20","{CONTACT}","","","false","2026-03-20T10:00:00.000Z"\n'
    )
    (row,) = csv.DictReader(io.StringIO(text))
    history_text = (
        '"Id","LeadId","Field","DataType","OldValue","NewValue","CreatedDate","IsDeleted"\n'
        f'"017000000000000001","{LEAD}","Status","Picklist","Open - Not Contacted",'
        '"Closed - Converted","2026-03-20T10:00:00.000Z","false"\n'
    )
    result = map_lead(row, csv.DictReader(io.StringIO(history_text)), MAPPING)
    (lead,) = result.of(Lead)
    assert (lead.source, lead.created_at, lead.stage) == (None, at(CREATED), "opportunity")
    assert result.conversion is not None
    assert result.conversion.opportunity_id is None
    assert [c.to_stage for c in result.of(StageChange)] == ["mql", "opportunity"]


# --- owner changes, any order (hypothesis) ----------------------------------------------------

_CHANGES = [
    (QUEUE, USER1, "2026-03-02T10:00:00.000+0000"),
    (USER1, QUEUE, "2026-03-03T10:00:00.000+0000"),
    (QUEUE, USER2, "2026-03-04T10:00:00.000Z"),
    (USER2, USER1, "2026-03-05T10:00:00.000+0000"),
]
_ROWS = [row for change in _CHANGES for row in owner(*change)]
_EXPECTED = (
    OwnerChange(lead_id=LEAD, owner_id=USER1, at=at("2026-03-02T10:00:00+00:00")),
    OwnerChange(lead_id=LEAD, owner_id=USER2, at=at("2026-03-04T10:00:00+00:00")),
    OwnerChange(lead_id=LEAD, owner_id=USER1, at=at("2026-03-05T10:00:00+00:00")),
)


@settings(max_examples=200, deadline=None)
@given(
    order=st.permutations(_ROWS),
    again=st.lists(st.sampled_from(_ROWS), max_size=len(_ROWS)),
    shuffle=st.randoms(use_true_random=False),
)
def test_owner_change_rows_in_any_order_or_repeated_count_once(
    order: list[dict[str, Any]], again: list[dict[str, Any]], shuffle: random.Random
) -> None:
    rows = [*order, *again]
    shuffle.shuffle(rows)
    result = map_lead(lead_row(OwnerId=USER1), rows, MAPPING)
    assert result.of(OwnerChange) == _EXPECTED
    # Created in the queue, taken by a user at 10:00: notified then.
    assert [h.notified_at for h in result.of(Handoff)] == [at("2026-03-02T10:00:00+00:00")]


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=20),
    st.sampled_from(["", "true", "2026-03-12", CREATED, "Open - Not Contacted", QUEUE, USER1]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    row=st.fixed_dictionaries(
        {
            "Id": st.sampled_from([LEAD, "", None, "00Q1"]),
            "Status": _values,
            "OwnerId": _values,
            "CreatedDate": _values,
            "IsConverted": _values,
            "ConvertedDate": _values,
        }
    ),
    history=st.lists(
        st.fixed_dictionaries(
            {
                "Id": st.sampled_from(["017000000000000001", "017000000000000002", None]),
                "LeadId": st.just(LEAD),
                "Field": st.sampled_from(["Status", "Owner", "created"]),
                "DataType": st.sampled_from(["EntityId", "Text", "Picklist", None]),
                "OldValue": _values,
                "NewValue": _values,
                "CreatedDate": _values,
            }
        ),
        max_size=4,
    ),
)
def test_any_lead_gives_records_or_one_rejection_never_an_exception(
    row: dict[str, Any], history: list[dict[str, Any]]
) -> None:
    result = map_lead(row, history, MAPPING)
    assert bool(result.records) != bool(result.rejected)
    assert len(result.rejected) <= 1
    if result.records:
        assert isinstance(result.records[0], Lead)


# --- tasks and events -------------------------------------------------------------------------


def task(**fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "attributes": {"type": "Task"},
        "Id": "00T000000000001AAA",
        "WhoId": LEAD,
        "OwnerId": USER1,
        "TaskSubtype": "Call",
        "Type": None,
        "CallType": "Outbound",
        "IsClosed": True,
        "ActivityDate": "2026-03-12",
        "CompletedDateTime": "2026-03-12T15:45:00.000+0000",
        "CreatedDate": "2026-03-12T16:00:00.000+0000",
    }
    row.update(fields)
    return row


def test_a_task_is_timed_by_completed_date_time_else_created_date_never_activity_date() -> None:
    (touch,) = map_task(task()).records
    assert touch == Touch(
        lead_id=LEAD, rep_id=USER1, at=at("2026-03-12T15:45:00+00:00"), channel=Channel.CALL
    )
    (logged,) = map_task(task(CompletedDateTime=None, ActivityDate="2026-03-01")).records
    assert logged.at == at("2026-03-12T16:00:00+00:00")  # type: ignore[union-attr]
    (csv_row,) = map_task(task(CompletedDateTime="", IsClosed="true")).records
    assert csv_row.at == at("2026-03-12T16:00:00+00:00")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("subtype", "kind", "channel"),
    [
        ("Call", None, Channel.CALL),
        ("Email", None, Channel.EMAIL),
        ("Task", "Call", Channel.CALL),
        ("Task", "Email", Channel.EMAIL),
        (None, "Meeting", Channel.MEETING),
        ("", "call", Channel.CALL),
    ],
)
def test_a_task_channel_comes_from_task_subtype_then_type(
    subtype: str | None, kind: str | None, channel: Channel
) -> None:
    (touch,) = map_task(task(TaskSubtype=subtype, Type=kind)).records
    assert touch.channel is channel  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"TaskSubtype": "Task", "Type": "Other"}, "TaskSubtype", "not a touch"),
        ({"TaskSubtype": "ListEmail"}, "TaskSubtype", "mass email"),
        ({"CallType": "Inbound"}, "CallType", "inbound"),
        ({"IsClosed": False}, "IsClosed", "open"),
        ({"WhoId": CONTACT}, "WhoId", "no converted lead"),
        ({"WhoId": "001000000000001AAA"}, "WhoId", "expected the id of a lead"),
        ({"WhoId": None}, "WhoId", "missing"),
        ({"OwnerId": QUEUE}, "OwnerId", "user (005)"),
        ({"CompletedDateTime": "2026-03-12"}, "CompletedDateTime", "expected a datetime"),
        ({"CompletedDateTime": None, "CreatedDate": None}, "CreatedDate", "expected a datetime"),
        ({"IsClosed": "ja"}, "IsClosed", "true or false"),
    ],
)
def test_tasks_that_are_no_touches_or_malformed_are_rejected(
    change: dict[str, Any], field: str, words: str
) -> None:
    result = map_task(task(**change))
    (rejected,) = result.rejected
    assert (rejected.stream, rejected.field) == (Stream.TOUCHES, field)
    assert rejected.record_id == "00T000000000001AAA"
    assert words in rejected.reason


def event(**fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "Id": "00U000000000001AAA",
        "WhoId": LEAD,
        "OwnerId": USER2,
        "StartDateTime": "2026-03-20T14:00:00.000+0000",
        "IsAllDayEvent": False,
        "ActivityDate": "2026-03-20",
        "CreatedDate": "2026-03-12T16:00:00.000+0000",
    }
    row.update(fields)
    return row


def test_an_event_is_a_meeting_at_the_earlier_of_its_booking_and_its_start() -> None:
    (booked,) = map_event(event()).records
    assert booked == Touch(
        lead_id=LEAD, rep_id=USER2, at=at("2026-03-12T16:00:00+00:00"), channel=Channel.MEETING
    )
    (logged,) = map_event(event(StartDateTime="2026-03-10T09:00:00.000Z")).records
    assert logged.at == at("2026-03-10T09:00:00+00:00")  # type: ignore[union-attr]
    all_day = event(IsAllDayEvent="true", StartDateTime="2026-03-01T00:00:00.000Z")
    (day,) = map_event(all_day).records
    assert day.at == at("2026-03-12T16:00:00+00:00")  # type: ignore[union-attr]


def test_an_event_on_an_unknown_contact_is_rejected() -> None:
    (rejected,) = map_event(event(WhoId=CONTACT)).rejected
    assert (rejected.field, rejected.record_id) == ("WhoId", "00U000000000001AAA")


# --- opportunities and users ------------------------------------------------------------------


def opportunity(**fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "attributes": {"type": "Opportunity"},
        "Id": OPP,
        "Amount": 12500.1,
        "CloseDate": "2026-04-30",
        "IsWon": False,
        "IsClosed": False,
        "OwnerId": USER1,
        "CreatedDate": "2026-03-20T10:00:00.000+0000",
    }
    row.update(fields)
    return row


def test_an_open_opportunity_is_an_open_deal_with_a_decimal_amount() -> None:
    (deal,) = map_opportunity(opportunity()).records
    assert deal == Deal(
        id=OPP,
        amount=Decimal("12500.1"),
        opened_at=at("2026-03-20T10:00:00+00:00"),
        owner_id=USER1,
    )


def test_a_won_bulk_opportunity_reads_strings_and_closes_at_its_close_date() -> None:
    row = opportunity(
        Amount="99000", IsWon="true", IsClosed="true", CreatedDate="2026-03-20T10:00:00.000Z"
    )
    (deal,) = map_opportunity(row).records
    assert isinstance(deal, Deal)
    assert (deal.amount, deal.won) == (Decimal("99000"), True)
    assert deal.closed_at == datetime(2026, 4, 30, tzinfo=UTC)


def test_a_deal_closed_the_day_it_opened_closes_no_earlier_than_it_opened() -> None:
    row = opportunity(IsClosed=True, CloseDate="2026-03-20")
    (deal,) = map_opportunity(row).records
    assert deal.closed_at == at("2026-03-20T10:00:00+00:00")  # type: ignore[union-attr]


def test_the_currency_is_passed_on_or_a_deal_in_another_one_is_rejected() -> None:
    assert map_opportunity(opportunity(CurrencyIsoCode="EUR")).currency == "EUR"
    assert map_opportunity(opportunity(CurrencyIsoCode="EUR"), currency="EUR").records
    (rejected,) = map_opportunity(opportunity(CurrencyIsoCode="EUR"), currency="USD").rejected
    assert rejected.field == "CurrencyIsoCode"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"Amount": None}, "Amount"),
        ({"Amount": ""}, "Amount"),
        ({"Amount": "12,50"}, "Amount"),
        ({"Amount": True}, "Amount"),
        ({"Amount": -5}, "Amount"),
        ({"IsWon": True}, "IsWon"),
        ({"IsClosed": None}, "IsClosed"),
        ({"IsClosed": True, "CloseDate": None}, "CloseDate"),
        ({"IsClosed": True, "CloseDate": "2026-04-31"}, "CloseDate"),
        ({"CreatedDate": "2026-03-20T10:00:00.000"}, "CreatedDate"),
        ({"OwnerId": QUEUE}, "OwnerId"),
        ({"Id": LEAD}, "Id"),
    ],
)
def test_malformed_opportunities_are_rejected_naming_field_and_id(
    change: dict[str, Any], field: str
) -> None:
    result = map_opportunity(opportunity(**change))
    (rejected,) = result.rejected
    assert (rejected.stream, rejected.field) == (Stream.DEALS, field)
    assert rejected.record_id == change.get("Id", OPP)


def test_users_active_and_inactive_are_reps() -> None:
    (active,) = map_user(
        {"Id": USER1, "Name": "Ada Byron", "Email": "ada@example.com", "IsActive": True}
    ).records
    assert active == Rep(id=USER1, name="Ada Byron", email="ada@example.com")
    (gone,) = map_user(
        {"Id": USER2, "Name": "", "FirstName": "Alan", "LastName": "Turing", "IsActive": "false"}
    ).records
    assert gone == Rep(id=USER2, name="Alan Turing", active=False)
    (rejected,) = map_user({"Id": QUEUE, "Name": "Queue", "IsActive": True}).rejected
    assert (rejected.stream, rejected.field, rejected.record_id) == (Stream.REPS, "Id", QUEUE)


def test_polymorphic_ids_are_read_by_prefix_not_attributes() -> None:
    assert [id_kind(i) for i in (LEAD, CONTACT, USER1, QUEUE, OPP)] == [
        IdKind.LEAD,
        IdKind.CONTACT,
        IdKind.USER,
        IdKind.QUEUE,
        IdKind.OPPORTUNITY,
    ]
    # REST answers attributes.type "Name" for a polymorphic Who: not read.
    row = task(Who={"attributes": {"type": "Name"}, "Id": LEAD})
    assert map_task(row).records[0].lead_id == LEAD  # type: ignore[union-attr]


def test_docstring_examples() -> None:
    assert doctest.testmod(sf_mapping).failed == 0


def test_mapped_of_picks_records_by_type() -> None:
    result = map_lead(lead_row(), [], MAPPING)
    assert isinstance(result, Mapped)
    assert [type(r) for r in result.of(Lead)] == [Lead]


def test_lead_links_carry_converted_contacts_touches_and_deals_to_their_lead() -> None:
    converted = lead_row(
        Status="Closed - Converted",
        IsConverted="true",
        ConvertedDate="2026-03-20",
        ConvertedContactId=CONTACT,
        ConvertedOpportunityId=OPP,
    )
    results = [
        map_lead(converted, [], MAPPING),
        map_lead(lead_row(Id=LEAD[:-1] + "B"), [], MAPPING),
    ]
    links = LeadLinks.of(result.conversion for result in results)
    assert (links.lead_of_who, links.lead_of_opportunity) == ({CONTACT: LEAD}, {OPP: LEAD})
    (touch,) = map_event(event(WhoId=CONTACT), links.lead_of_who).records
    assert touch.lead_id == LEAD  # type: ignore[union-attr]
