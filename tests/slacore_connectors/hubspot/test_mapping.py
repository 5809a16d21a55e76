"""The HubSpot mapping: HubSpot's answers (shapes of VENDORS.md 2.4 and 6) to core objects."""

from __future__ import annotations

import doctest
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slacore.connector import RejectedRecord, Stream
from slacore.errors import ConfigError, ValidationError
from slacore.model import Channel, Deal, Handoff, Lead, OwnerChange, Rep, StageChange, Team, Touch
from slacore_connectors.hubspot import mapping as hubspot_mapping
from slacore_connectors.hubspot.mapping import (
    MAPPING_SETTINGS,
    HandoffClock,
    HubSpotMapping,
    Mapped,
    check_properties,
    deal_stages,
    history_properties,
    map_contact,
    map_deal,
    map_engagement,
    map_owner,
    mapped_properties,
    parse_time,
    properties,
)

MAPPING = HubSpotMapping()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def entry(value: str, timestamp: Any, source: str = "CRM_UI") -> dict[str, Any]:
    return {"value": value, "timestamp": timestamp, "sourceType": source}


def contact(
    *,
    id: str = "1",
    stages: list[tuple[str, str]] | None = None,
    owners: list[tuple[str, str]] | None = None,
    **props: Any,
) -> dict[str, Any]:
    """A batch-read contact; histories given oldest first, put newest first as HubSpot does."""
    properties = {
        "createdate": "2024-01-01T00:00:00.000Z",
        "hs_object_id": id,
        "lastmodifieddate": "2024-05-01T10:00:00.000Z",
        "lifecyclestage": stages[-1][0] if stages else "lead",
        "hs_analytics_source": "ORGANIC_SEARCH",
        "hubspot_owner_id": owners[-1][0] or None if owners else None,
    }
    properties.update(props)
    obj: dict[str, Any] = {
        "id": id,
        "properties": properties,
        "createdAt": "2024-01-01T00:00:00.000Z",
        "updatedAt": "2024-05-01T10:00:00.000Z",
        "archived": False,
    }
    history: dict[str, Any] = {}
    if stages is not None:
        history["lifecyclestage"] = [entry(v, t) for v, t in reversed(stages)]
    if owners is not None:
        history["hubspot_owner_id"] = [entry(v, t) for v, t in reversed(owners)]
    if history:
        obj["propertiesWithHistory"] = history
    return obj


def only(result: Mapped) -> RejectedRecord:
    assert result.records == ()
    assert len(result.rejected) == 1
    return result.rejected[0]


# --- contacts ---------------------------------------------------------------------------------


def test_the_vendors_batch_read_contact_gives_its_lead_and_stage_changes() -> None:
    # VENDORS.md 2.4, the batch read answer, as the API sends it (history newest first).
    obj = {
        "id": "1",
        "properties": {
            "createdate": "2024-01-01T00:00:00.000Z",
            "hs_object_id": "1",
            "lastmodifieddate": "2024-05-01T10:00:00.000Z",
            "lifecyclestage": "marketingqualifiedlead",
            "hs_v2_date_entered_marketingqualifiedlead": "2024-02-01T12:00:00.000Z",
            "hubspot_owner_id": "111",
            "hs_lead_status": "IN_PROGRESS",
            "hs_analytics_source": "ORGANIC_SEARCH",
        },
        "createdAt": "2024-01-01T00:00:00.000Z",
        "updatedAt": "2024-05-01T10:00:00.000Z",
        "archived": False,
        "propertiesWithHistory": {
            "lifecyclestage": [
                {
                    "value": "marketingqualifiedlead",
                    "timestamp": "2024-02-01T12:00:00.000Z",
                    "sourceType": "CRM_UI",
                    "sourceId": "userId:9",
                    "updatedByUserId": 9,
                },
                {"value": "lead", "timestamp": "2024-01-01T00:00:00.000Z", "sourceType": "FORM"},
            ],
            "hubspot_owner_id": [
                {"value": "111", "timestamp": "2024-01-15T09:00:00Z", "sourceType": "CRM_UI"}
            ],
        },
    }
    result = map_contact(obj, MAPPING)
    assert result.rejected == ()
    assert result.of(Lead) == (
        Lead(
            id="1",
            created_at=at("2024-01-01T00:00:00Z"),
            source="ORGANIC_SEARCH",
            owner_id="111",
            stage="mql",
        ),
    )
    assert result.of(StageChange) == (
        StageChange(lead_id="1", to_stage="lead", at=at("2024-01-01T00:00:00Z")),
        StageChange(
            lead_id="1",
            to_stage="mql",
            at=at("2024-02-01T12:00:00Z"),
            from_stage="lead",
            owner_id="111",
        ),
    )
    assert result.of(OwnerChange) == (
        OwnerChange(lead_id="1", owner_id="111", at=at("2024-01-15T09:00:00Z")),
    )
    # The owner was there before the stage: notified when it reached MQL.
    assert result.of(Handoff) == (
        Handoff(
            lead_id="1",
            notified_at=at("2024-02-01T12:00:00Z"),
            stage="mql",
            owner_id="111",
            source="ORGANIC_SEARCH",
        ),
    )
    assert all(r.at.tzinfo is UTC for r in result.of(StageChange))


def test_backward_moves_and_cleared_values_are_stage_changes_and_two_reaches_two_handoffs() -> None:
    obj = contact(
        stages=[
            ("lead", "2024-01-01T00:00:00Z"),
            ("marketingqualifiedlead", "2024-02-01T00:00:00Z"),
            ("", "2024-03-01T00:00:00Z"),  # cleared before the backward move
            ("lead", "2024-03-01T00:00:01Z"),
            ("marketingqualifiedlead", "2024-04-01T00:00:00Z"),
            ("salesqualifiedlead", "2024-04-02T00:00:00Z"),
        ],
        owners=[("111", "2023-12-01T00:00:00Z")],
    )
    result = map_contact(obj, MAPPING)
    changes = [(c.from_stage, c.to_stage) for c in result.of(StageChange)]
    assert changes == [
        (None, "lead"),
        ("lead", "mql"),
        (None, "lead"),  # after the cleared value it came from no stage
        ("lead", "mql"),
        ("mql", "sql"),
    ]
    handoffs = result.of(Handoff)
    assert [(h.notified_at, h.stage) for h in handoffs] == [
        (at("2024-02-01T00:00:00Z"), "mql"),
        (at("2024-04-01T00:00:00Z"), "mql"),
    ]


def test_history_order_is_not_trusted_it_is_sorted_by_time() -> None:
    obj = contact(stages=[("lead", "2024-01-01T00:00:00Z"), ("customer", "2024-06-01T00:00:00Z")])
    obj["propertiesWithHistory"]["lifecyclestage"].reverse()  # oldest first this time
    result = map_contact(obj, MAPPING)
    assert [c.to_stage for c in result.of(StageChange)] == ["lead", "customer"]


def test_owner_assigned_after_the_stage_is_notified_at_the_assignment() -> None:
    obj = contact(
        stages=[("marketingqualifiedlead", "2024-02-01T12:00:00Z")],
        owners=[("222", "2024-02-03T08:30:00Z")],
    )
    (handoff,) = map_contact(obj, MAPPING).of(Handoff)
    assert handoff == Handoff(
        lead_id="1",
        notified_at=at("2024-02-03T08:30:00Z"),
        stage="mql",
        owner_id="222",
        source="ORGANIC_SEARCH",
    )


def test_no_owner_yet_gives_no_handoff_but_a_pending_one() -> None:
    obj = contact(stages=[("marketingqualifiedlead", "2024-02-01T12:00:00Z")], owners=[])
    result = map_contact(obj, MAPPING)
    assert result.of(Handoff) == ()
    assert result.of(Lead)
    (pending,) = result.pending
    assert pending.lead_id == "1"
    assert pending.reached_at == at("2024-02-01T12:00:00Z")
    assert "no owner yet" in str(pending)


def test_an_owner_removed_before_the_stage_waits_for_the_next_one() -> None:
    obj = contact(
        stages=[("marketingqualifiedlead", "2024-02-01T00:00:00Z")],
        owners=[
            ("111", "2024-01-01T00:00:00Z"),
            ("", "2024-01-20T00:00:00Z"),
            ("333", "2024-02-05T00:00:00Z"),
        ],
    )
    result = map_contact(obj, MAPPING)
    (handoff,) = result.of(Handoff)
    assert (handoff.notified_at, handoff.owner_id) == (at("2024-02-05T00:00:00Z"), "333")
    assert [(c.owner_id, c.at) for c in result.of(OwnerChange)] == [
        ("111", at("2024-01-01T00:00:00Z")),
        ("333", at("2024-02-05T00:00:00Z")),
    ]


def test_a_first_reach_never_owned_before_the_second_is_pending_and_superseded() -> None:
    obj = contact(
        stages=[
            ("marketingqualifiedlead", "2024-02-01T00:00:00Z"),
            ("lead", "2024-02-02T00:00:00Z"),
            ("marketingqualifiedlead", "2024-03-01T00:00:00Z"),
        ],
        owners=[("111", "2024-03-02T00:00:00Z")],
    )
    result = map_contact(obj, MAPPING)
    assert [h.notified_at for h in result.of(Handoff)] == [at("2024-03-02T00:00:00Z")]
    (pending,) = result.pending
    assert pending.superseded_at == at("2024-03-01T00:00:00Z")
    assert "never notified" in str(pending)


def test_stage_entered_clock_notifies_at_the_stage_owner_or_not() -> None:
    mapping = HubSpotMapping(handoff_notified="stage_entered")
    obj = contact(stages=[("marketingqualifiedlead", "2024-02-01T12:00:00Z")], owners=[])
    (handoff,) = map_contact(obj, mapping).of(Handoff)
    assert (handoff.notified_at, handoff.owner_id) == (at("2024-02-01T12:00:00Z"), None)


def test_skipping_the_handoff_stage_still_hands_off_with_the_stage_entered() -> None:
    obj = contact(
        stages=[("lead", "2024-01-01T00:00:00Z"), ("salesqualifiedlead", "2024-01-05T00:00:00Z")],
        owners=[("111", "2024-01-01T00:00:00Z")],
    )
    (handoff,) = map_contact(obj, MAPPING).of(Handoff)
    assert (handoff.stage, handoff.notified_at) == ("sql", at("2024-01-05T00:00:00Z"))


def test_an_exit_stage_leaves_the_ladder_and_reaching_mql_again_hands_off_again() -> None:
    mapping = HubSpotMapping(stage_values={"other": "disqualified"})
    obj = contact(
        stages=[
            ("marketingqualifiedlead", "2024-01-01T00:00:00Z"),
            ("other", "2024-01-02T00:00:00Z"),
            ("marketingqualifiedlead", "2024-01-03T00:00:00Z"),
        ],
        owners=[("111", "2023-01-01T00:00:00Z")],
    )
    result = map_contact(obj, mapping)
    assert [c.to_stage for c in result.of(StageChange)] == ["mql", "disqualified", "mql"]
    assert len(result.of(Handoff)) == 2


def test_custom_stage_ids_map_through_stage_values() -> None:
    mapping = HubSpotMapping(stage_values={"153180554": "sal"}, handoff_stage="153180554")
    obj = contact(
        stages=[("lead", "2024-01-01T00:00:00Z"), ("153180554", "2024-01-09T00:00:00Z")],
        owners=[("111", "2024-01-01T00:00:00Z")],
    )
    result = map_contact(obj, mapping)
    assert result.of(Lead)[0].stage == "sal"
    assert [h.stage for h in result.of(Handoff)] == ["sal"]


def test_without_history_stages_come_from_the_entered_times_v2_first() -> None:
    obj = contact(
        lifecyclestage="marketingqualifiedlead",
        hs_lifecyclestage_lead_date="2024-01-02T00:00:00.000Z",
        hs_v2_date_entered_marketingqualifiedlead="2024-02-01T12:00:00.000Z",
        hs_lifecyclestage_marketingqualifiedlead_date="2024-02-09T00:00:00.000Z",
        hubspot_owner_id="111",
        hubspot_owner_assigneddate="2024-02-02T00:00:00.000Z",
    )
    result = map_contact(obj, MAPPING)
    assert [(c.to_stage, c.at) for c in result.of(StageChange)] == [
        ("lead", at("2024-01-02T00:00:00Z")),
        ("mql", at("2024-02-01T12:00:00Z")),
    ]
    # The owner's assignment without history: hubspot_owner_assigneddate, after the stage.
    assert result.of(OwnerChange) == (
        OwnerChange(lead_id="1", owner_id="111", at=at("2024-02-02T00:00:00Z")),
    )
    assert [h.notified_at for h in result.of(Handoff)] == [at("2024-02-02T00:00:00Z")]


@pytest.mark.parametrize(
    "name", ["hs_v2_date_entered_lead", "hs_lifecyclestage_marketingqualifiedlead_date"]
)
def test_a_malformed_entered_time_is_rejected_even_with_history(name: str) -> None:
    obj = contact(id="5", stages=[("lead", "2024-01-01T00:00:00Z")], **{name: "not-a-date"})
    rejected = only(map_contact(obj, MAPPING))
    assert (rejected.record_id, rejected.field) == ("5", name)


def test_an_owner_without_assignment_time_or_history_rejects_a_handoff_contact() -> None:
    obj = contact(
        lifecyclestage="marketingqualifiedlead",
        hs_v2_date_entered_marketingqualifiedlead="2024-02-01T12:00:00.000Z",
        hubspot_owner_id="111",
    )
    rejected = only(map_contact(obj, MAPPING))
    assert (rejected.record_id, rejected.field) == ("1", "hubspot_owner_assigneddate")


def test_a_contact_past_the_handoff_stage_with_no_time_it_got_there_is_rejected() -> None:
    rejected = only(map_contact(contact(id="9", lifecyclestage="salesqualifiedlead"), MAPPING))
    assert (rejected.record_id, rejected.field) == ("9", "lifecyclestage")
    assert "time of its hand-off is unknown" in rejected.reason
    # Before the hand-off stage, no time is needed.
    assert map_contact(contact(id="9", lifecyclestage="lead"), MAPPING).of(Lead)


def test_segment_persona_and_hand_raiser_come_from_the_mapped_properties() -> None:
    mapping = HubSpotMapping(
        segment_property="sla_action",
        persona_property="hs_persona",
        hand_raiser_property="demo_request",
    )
    lead = map_contact(
        contact(hs_persona="persona_1", sla_action="demo", demo_request="true"), mapping
    ).of(Lead)[0]
    assert (lead.segment, lead.hand_raiser) == ("persona_1 x demo", True)
    lead = map_contact(contact(hs_persona="persona_2", demo_request=None), mapping).of(Lead)[0]
    assert (lead.segment, lead.hand_raiser) == ("persona_2", False)


def test_hand_raiser_values_read_a_multiple_checkbox() -> None:
    mapping = HubSpotMapping(
        hand_raiser_property="conversion", hand_raiser_values=["Demo request", "Contact us"]
    )
    read = map_contact(contact(conversion="Ebook;demo request"), mapping).of(Lead)[0]
    assert read.hand_raiser is True
    read = map_contact(contact(conversion="Ebook"), mapping).of(Lead)[0]
    assert read.hand_raiser is False


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"lifecyclestage": "evangelist"}, "lifecyclestage", "unknown lifecycle stage"),
        ({"createdate": "yesterday"}, "createdate", "expected a time"),
        ({"createdate": "2024-01-01T00:00:00"}, "createdate", "no offset"),
        ({"createdate": "0001-01-01T00:00:00Z"}, "createdate", "years 1900 to 2099"),
        ({"createdate": "99999999999999999999"}, "createdate", "out of range"),
        ({"createdate": "1970-01-21T04:50:24.368Z"}, "createdate", "epoch seconds"),
        ({"demo_request": "maybe"}, "demo_request", "true or false"),
    ],
)
def test_malformed_contacts_are_rejected_naming_id_and_property(
    change: dict[str, Any], field: str, words: str
) -> None:
    mapping = HubSpotMapping(hand_raiser_property="demo_request")
    rejected = only(map_contact(contact(id="42", **change), mapping))
    assert (rejected.stream, rejected.record_id, rejected.field) == (Stream.LEADS, "42", field)
    assert words in rejected.reason
    assert rejected.source == "HubSpot contacts"
    assert rejected.raw["hs_object_id"] == "42"


def test_an_unknown_stage_or_bad_time_in_the_history_rejects_the_contact() -> None:
    obj = contact(
        stages=[("other", "2023-01-01T00:00:00Z"), ("lead", "2024-01-01T00:00:00Z")], id="7"
    )
    rejected = only(map_contact(obj, MAPPING))
    assert (rejected.record_id, rejected.field) == ("7", "lifecyclestage")
    assert rejected.reason.startswith("in its history: unknown lifecycle stage 'other'")
    obj = contact(owners=[("111", "not a time")], id="8")
    rejected = only(map_contact(obj, MAPPING))
    assert (rejected.record_id, rejected.field) == ("8", "hubspot_owner_id")


def test_v1_epoch_millisecond_history_timestamps_are_read() -> None:
    obj = contact(stages=[("lead", 1704067200000), ("customer", "1717200000000")])
    assert [c.at for c in map_contact(obj, MAPPING).of(StageChange)] == [
        at("2024-01-01T00:00:00Z"),
        at("2024-06-01T00:00:00Z"),
    ]


def test_a_contact_without_id_or_not_an_object_is_rejected() -> None:
    rejected = only(map_contact({"properties": {"createdate": "2024-01-01T00:00:00Z"}}, MAPPING))
    assert (rejected.record_id, rejected.field) == (None, "id")
    rejected = only(map_contact(["not", "an", "object"], MAPPING))  # type: ignore[arg-type]
    assert "JSON object" in rejected.reason


_values = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(min_value=-(10**22), max_value=10**22),
    st.floats(allow_nan=True),
    st.booleans(),
    st.sampled_from(
        ["2024-02-01T12:00:00.000Z", "2026-03-12T10:00:00Z", "lead", "marketingqualifiedlead"]
    ),
)
_TIMES = ["2024-02-01T12:00:00.000Z", "2026-03-12T10:00:00Z", "1717200000000"]


def _or_junk(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` three times in four, any JSON-ish value otherwise (``one_of`` would weigh
    each of the junk's own branches as one)."""
    return st.sampled_from([True, True, True, False]).flatmap(lambda ok: good if ok else _values)


_entry = st.fixed_dictionaries(
    {
        "value": _or_junk(
            st.sampled_from(["", "lead", "marketingqualifiedlead", "salesqualifiedlead", "111"])
        ),
        "timestamp": _or_junk(st.sampled_from(_TIMES)),
    }
)
_history = _or_junk(st.lists(_or_junk(_entry), max_size=5))
_GOOD = {
    "lifecyclestage": ["lead", "marketingqualifiedlead", "salesqualifiedlead", ""],
    "hubspot_owner_id": ["111", "222"],
    "hubspot_owner_assigneddate": _TIMES,
    "hs_analytics_source": ["ORGANIC_SEARCH"],
    "hs_v2_date_entered_marketingqualifiedlead": _TIMES,
    "hs_lifecyclestage_lead_date": _TIMES,
    "flag": ["true", "false"],
}
_contacts = st.fixed_dictionaries(
    {
        "id": _or_junk(st.sampled_from(["1", "42"])),
        "properties": _or_junk(
            st.fixed_dictionaries(
                {"createdate": _or_junk(st.sampled_from(_TIMES))},
                optional={name: _or_junk(st.sampled_from(good)) for name, good in _GOOD.items()},
            )
        ),
        "propertiesWithHistory": _or_junk(
            st.fixed_dictionaries(
                {}, optional={"lifecyclestage": _history, "hubspot_owner_id": _history}
            )
        ),
    },
    optional={"createdAt": _values},
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(obj=_contacts)
def test_any_contact_gives_records_or_a_rejection_never_an_exception(obj: dict[str, Any]) -> None:
    result = map_contact(obj, HubSpotMapping(hand_raiser_property="flag"))
    assert bool(result.records) != bool(result.rejected)
    if result.records:
        assert isinstance(result.records[0], Lead)


# --- engagements ------------------------------------------------------------------------------


def engagement(**props: Any) -> dict[str, Any]:
    properties = {
        "hs_timestamp": "2026-03-12T10:00:00Z",
        "hubspot_owner_id": "111",
        "hs_createdate": "2026-03-12T10:00:01.000Z",
        "hs_lastmodifieddate": "2026-03-12T10:00:01.000Z",
    }
    properties.update(props)
    return {"id": "501", "properties": properties, "archived": False}


def test_a_call_gives_a_touch_per_associated_contact() -> None:
    result = map_engagement("calls", engagement(hs_call_direction="OUTBOUND"), ["1", 2, "1"])
    assert result.records == (
        Touch(lead_id="1", rep_id="111", at=at("2026-03-12T10:00:00Z"), channel=Channel.CALL),
        Touch(lead_id="2", rep_id="111", at=at("2026-03-12T10:00:00Z"), channel=Channel.CALL),
    )


def test_sent_emails_and_meetings_are_touches() -> None:
    (email,) = map_engagement("emails", engagement(hs_email_direction="EMAIL"), ["1"]).records
    assert email.channel is Channel.EMAIL
    (meeting,) = map_engagement(
        "meetings", engagement(hs_meeting_outcome="COMPLETED"), ["1"]
    ).records
    assert meeting.channel is Channel.MEETING


@pytest.mark.parametrize(
    ("kind", "change", "contacts", "field"),
    [
        ("emails", {"hs_email_direction": "INCOMING_EMAIL"}, ["1"], "hs_email_direction"),
        ("emails", {"hs_email_direction": None}, ["1"], "hs_email_direction"),
        ("calls", {"hs_call_direction": "INBOUND"}, ["1"], "hs_call_direction"),
        ("meetings", {"hs_meeting_outcome": "CANCELED"}, ["1"], "hs_meeting_outcome"),
        ("calls", {"hubspot_owner_id": None}, ["1"], "hubspot_owner_id"),
        ("calls", {"hs_timestamp": None}, ["1"], "hs_timestamp"),
        ("calls", {"hs_timestamp": "1970-01-21T04:50:24.368Z"}, ["1"], "hs_timestamp"),
        ("calls", {}, [], "associations.contacts"),
    ],
)
def test_engagements_that_are_no_touch_or_malformed_are_rejected(
    kind: str, change: dict[str, Any], contacts: list[str], field: str
) -> None:
    rejected = only(map_engagement(kind, engagement(**change), contacts))
    assert (rejected.stream, rejected.record_id, rejected.field) == (Stream.TOUCHES, "501", field)
    assert rejected.source == f"HubSpot {kind}"


# --- deals ------------------------------------------------------------------------------------

PIPELINES = {
    "results": [
        {
            "id": "default",
            "label": "Sales Pipeline",
            "stages": [
                {"id": "appointmentscheduled", "label": "Appointment Scheduled",
                 "metadata": {"isClosed": "false", "probability": "0.2"}},
                {"id": "closedwon", "label": "Closed Won",
                 "metadata": {"isClosed": "true", "probability": "1.0"}},
                {"id": "closedlost", "label": "Closed Lost",
                 "metadata": {"isClosed": "true", "probability": "0.0"}},
                {"id": "odd", "label": "Odd", "metadata": {"isClosed": "perhaps"}},
            ],
        }
    ]
}  # fmt: skip
STAGES = deal_stages(PIPELINES)


def deal(**props: Any) -> dict[str, Any]:
    properties = {
        "amount": "3000",
        "createdate": "2024-03-01T00:00:00.000Z",
        "closedate": "2024-04-01T00:00:00.000Z",
        "dealstage": "closedwon",
        "pipeline": "default",
        "hs_lastmodifieddate": "2024-04-01T00:00:00.000Z",
    }
    properties.update(props)
    return {"id": "900", "properties": properties, "archived": False}


def test_a_won_deal_from_the_pipeline_metadata() -> None:
    (record,) = map_deal(deal(), ["12", "3"], stages=STAGES).records
    assert record == Deal(
        id="900",
        amount=Decimal("3000"),
        opened_at=at("2024-03-01T00:00:00Z"),
        closed_at=at("2024-04-01T00:00:00Z"),
        won=True,
        lead_id="3",
    )


def test_lost_and_open_deals() -> None:
    (lost,) = map_deal(deal(dealstage="closedlost", amount="1,250.50"), stages=STAGES).records
    assert (lost.won, lost.closed_at, lost.amount) == (
        False,
        at("2024-04-01T00:00:00Z"),
        Decimal("1250.50"),
    )
    # An open deal's closedate is only expected: not kept.
    (open_deal,) = map_deal(deal(dealstage="appointmentscheduled"), stages=STAGES).records
    assert (open_deal.won, open_deal.closed_at) == (False, None)


def test_without_pipeline_metadata_hs_is_closed_won_says() -> None:
    (won,) = map_deal(deal(dealstage="123", hs_is_closed_won="true")).records
    assert won.won is True
    (lost,) = map_deal(
        deal(dealstage="odd", hs_is_closed="true", hs_is_closed_won="false"), stages=STAGES
    ).records
    assert (lost.won, lost.is_open) == (False, False)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"amount": "3000 EUR"}, "amount", "expected an amount"),
        ({"amount": "12,50"}, "amount", "expected an amount"),
        ({"amount": None}, "amount", "missing value"),
        ({"amount": "-5"}, "amount", "negative"),
        ({"closedate": None}, "closedate", "close date"),
        ({"closedate": "2024-02-01T00:00:00Z"}, "closedate", "before"),
        ({"createdate": "2024-13-01"}, "createdate", "expected a time"),
        ({"dealstage": "nowhere"}, "dealstage", "cannot tell"),
    ],
)
def test_malformed_deals_are_rejected(change: dict[str, Any], field: str, words: str) -> None:
    rejected = only(map_deal(deal(**change), stages=STAGES))
    assert (rejected.stream, rejected.record_id, rejected.field) == (Stream.DEALS, "900", field)
    assert words in rejected.reason


# --- owners -----------------------------------------------------------------------------------


def test_owners_active_and_archived_become_reps_with_mapped_teams() -> None:
    mapping = HubSpotMapping(team_values={"Demand gen": "marketing", "SDR": "sales"})
    active = {
        "id": "111", "email": "rep@example.com", "firstName": "Ann", "lastName": "Rep",
        "userId": 9, "userIdIncludingInactive": 9, "type": "PERSON",
        "createdAt": "2023-01-01T00:00:00Z", "updatedAt": "2023-06-01T00:00:00Z",
        "archived": False,
        "teams": [{"id": "4", "name": "SDR", "primary": False},
                  {"id": "5", "name": "Demand gen", "primary": True}],
    }  # fmt: skip
    archived = {
        "id": "112", "email": "gone@example.com", "userIdIncludingInactive": 10,
        "archived": True, "teams": [],
    }  # fmt: skip
    assert map_owner(active, mapping).records == (
        Rep(id="111", name="Ann Rep", email="rep@example.com", team=Team.MARKETING),
    )
    assert map_owner(archived, mapping).records == (
        Rep(id="112", name="gone@example.com", email="gone@example.com", active=False),
    )
    rejected = only(map_owner({"email": "x@example.com"}, mapping))
    assert (rejected.stream, rejected.field) == (Stream.REPS, "id")


# --- settings and properties ------------------------------------------------------------------


def test_mapping_settings_are_validated_with_every_problem_named() -> None:
    with pytest.raises(ValidationError) as single:
        HubSpotMapping(stage_values={"153180554": "sall"})
    assert single.value.field == "stage_values.153180554"
    assert "not a stage" in single.value.message
    with pytest.raises(ConfigError) as several:
        HubSpotMapping(
            segment_property="Buyer Persona",
            handoff_stage="nosuchstage",
            team_values={"SDR": "support"},
            hand_raiser_values=["Demo"],
        )
    fields = {error.field for error in several.value.errors}
    assert fields == {
        "segment_property",
        "handoff_stage",
        "team_values.SDR",
        "hand_raiser_values",
    }
    with pytest.raises(ValidationError, match="expected one of"):
        HubSpotMapping(handoff_notified="whenever")
    with pytest.raises(ValidationError) as exit_stage:
        HubSpotMapping(stage_values={"other": "disqualified"}, handoff_stage="other")
    assert exit_stage.value.field == "handoff_stage"


def test_from_settings_takes_its_own_settings_and_defaults_for_none() -> None:
    mapping = HubSpotMapping.from_settings(
        {
            "access_token": "secret",
            "stage_values": {"153180554": "sal"},
            "persona_property": "hs_persona",
            "handoff_notified": None,
        }
    )
    assert mapping.handoff_notified is HandoffClock.LATER_OF_STAGE_AND_OWNER
    assert mapping.lifecycle["153180554"] == "sal"
    assert mapping.lifecycle["marketingqualifiedlead"] == "mql"
    assert {s.name for s in MAPPING_SETTINGS} >= {"stage_values", "handoff_stage"}


def test_properties_list_what_each_object_type_needs() -> None:
    mapping = HubSpotMapping(persona_property="hs_persona", stage_values={"153180554": "sal"})
    names = properties(mapping, "contacts")
    assert {"createdate", "lifecyclestage", "hubspot_owner_assigneddate", "hs_persona"} <= set(
        names
    )
    assert "hs_v2_date_entered_153180554" in names
    assert "hs_lifecyclestage_marketingqualifiedlead_date" in names
    assert len(names) == len(set(names))
    assert "hs_email_direction" in properties(mapping, "emails")
    assert {"amount", "closedate", "dealstage", "hs_is_closed_won"} <= set(
        properties(mapping, "deals")
    )
    assert history_properties("contacts") == ("lifecyclestage", "hubspot_owner_id")
    assert mapped_properties(mapping) == {"hs_persona": "persona_property"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-02-01T12:00:00.000Z", "2024-02-01T12:00:00+00:00"),
        ("2026-03-12T10:00:00Z", "2026-03-12T10:00:00+00:00"),
        ("2026-03-12T11:00:00+01:00", "2026-03-12T10:00:00+00:00"),
        (1706788800000, "2024-02-01T12:00:00+00:00"),
        ("1706788800000", "2024-02-01T12:00:00+00:00"),
        ("2024-05-01", "2024-05-01T00:00:00+00:00"),
    ],
)
def test_parse_time_reads_iso_and_epoch_milliseconds_as_utc(value: object, expected: str) -> None:
    moment = parse_time(value, field="p")
    assert moment.isoformat() == expected
    assert moment.tzinfo is UTC


@pytest.mark.parametrize("value", [None, True, 1.5, "soon", "2024-01-01 10:00", [], "2100-01-01"])
def test_parse_time_refuses_naming_the_property(value: object) -> None:
    with pytest.raises(ValidationError) as error:
        parse_time(value, field="hs_timestamp")
    assert error.value.field == "hs_timestamp"


def test_docstring_examples() -> None:
    assert doctest.testmod(hubspot_mapping).failed == 0


def test_check_properties_names_each_unknown_property_and_stage_by_its_setting() -> None:
    mapping = HubSpotMapping(
        persona_property="hs_persona",
        segment_property="sla_segmnt",
        stage_values={"153180554": "sal"},
    )
    check_properties(mapping, ["hs_persona", "sla_segmnt", "createdate"])
    with pytest.raises(ConfigError) as error:
        check_properties(
            mapping,
            ["hs_persona", "sla_segment"],
            lifecycle_stages=["lead", "marketingqualifiedlead", "153180555"],
        )
    assert [(e.field, e.message) for e in error.value.errors] == [
        (
            "segment_property",
            "HubSpot has no contact property 'sla_segmnt' (did you mean \"sla_segment\"?)",
        ),
        (
            "stage_values.153180554",
            "HubSpot has no lifecycle stage '153180554' (its stages: 153180555, lead, "
            "marketingqualifiedlead)",
        ),
    ]


_ENGAGEMENT_AND_DEAL = {
    "hs_timestamp": _TIMES,
    "hubspot_owner_id": ["111"],
    "hs_email_direction": ["EMAIL", "INCOMING_EMAIL"],
    "hs_call_direction": ["OUTBOUND", "INBOUND"],
    "amount": ["3000", "1,250.50"],
    "createdate": _TIMES[:1],
    "closedate": _TIMES[1:2],
    "dealstage": ["closedwon", "closedlost", "odd", "123"],
    "pipeline": ["default"],
    "hs_is_closed": ["true", "false"],
    "hs_is_closed_won": ["true", "false"],
}
_objects = st.fixed_dictionaries(
    {
        "id": _or_junk(st.sampled_from(["501", "900"])),
        "properties": _or_junk(
            st.fixed_dictionaries(
                {},
                optional={
                    name: _or_junk(st.sampled_from(good))
                    for name, good in _ENGAGEMENT_AND_DEAL.items()
                },
            )
        ),
    },
    optional={
        "archived": _or_junk(st.booleans()),
        "firstName": _values,
        "email": _values,
        "teams": _or_junk(
            st.lists(
                _or_junk(
                    st.fixed_dictionaries(
                        {"name": _or_junk(st.sampled_from(["SDR", "Other"])), "primary": _values}
                    )
                ),
                max_size=3,
            )
        ),
    },
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(obj=_objects, contacts=st.lists(_or_junk(st.sampled_from(["1", "2"])), max_size=3))
def test_any_engagement_deal_or_owner_gives_records_or_a_rejection(
    obj: dict[str, Any], contacts: list[Any]
) -> None:
    mapping = HubSpotMapping(team_values={"SDR": "sales"})
    for result in (
        map_engagement("calls", obj, contacts),
        map_engagement("emails", obj, contacts),
        map_deal(obj, contacts, stages=STAGES),
        map_owner(obj, mapping),
    ):
        assert bool(result.records) != bool(result.rejected)


def test_the_mapping_imports_neither_the_sdk_nor_an_http_library() -> None:
    code = (
        "import sys, slacore_connectors.hubspot.mapping\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'hubspot', 'requests', 'urllib3'})\n"
        "print(loaded)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"
