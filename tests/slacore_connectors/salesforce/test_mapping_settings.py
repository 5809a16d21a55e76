"""The Salesforce mapping's value parsing and settings: Bulk 2.0 and REST values, the status
map, the SOQL fields and the describe() check."""

from __future__ import annotations

from datetime import UTC, date
from typing import Any

import pytest

from slacore.errors import ConfigError, ValidationError
from slacore_connectors.salesforce.mapping import (
    MAPPING_SETTINGS,
    HandoffClock,
    SalesforceMapping,
    check_fields,
    fields,
    is_deleted,
    parse_date,
    parse_datetime,
    parse_flag,
)

MAPPING = SalesforceMapping()


# --- values -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-12T10:00:00.000+0000", "2026-03-12T10:00:00+00:00"),
        ("2026-03-12T10:00:00.000Z", "2026-03-12T10:00:00+00:00"),
        ("2026-03-12T10:00:00Z", "2026-03-12T10:00:00+00:00"),
        ("2026-03-12T12:00:00.000+0200", "2026-03-12T10:00:00+00:00"),
    ],
)
def test_datetimes_of_rest_and_bulk(value: str, expected: str) -> None:
    moment = parse_datetime(value, field="CreatedDate")
    assert (moment.isoformat(), moment.tzinfo) == (expected, UTC)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        1710237600000,
        True,
        "2026-03-12",
        "2026-03-12T10:00:00",
        "2026-03-12 10:00:00Z",
        "2026-02-30T10:00:00.000Z",
        "2100-01-01T00:00:00.000Z",
        "soon",
    ],
)
def test_datetimes_refused_name_the_field(value: object) -> None:
    with pytest.raises(ValidationError) as error:
        parse_datetime(value, field="CompletedDateTime")
    assert error.value.field == "CompletedDateTime"


def test_dates_stay_dates_and_empty_is_null() -> None:
    assert parse_date("2026-03-12", field="CloseDate") == date(2026, 3, 12)
    assert parse_date("", field="CloseDate") is None
    assert parse_date(None, field="CloseDate") is None
    for bad in ("2026-03-12T00:00:00.000Z", "12/03/2026", 20260312, "2026-13-01"):
        with pytest.raises(ValidationError, match="expected a date"):
            parse_date(bad, field="CloseDate")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("false", False),
        ("TRUE", True),
        ("", None),
        (None, None),
    ],
)
def test_booleans_of_json_and_csv(value: object, expected: bool | None) -> None:
    assert parse_flag(value, field="IsWon") is expected


@pytest.mark.parametrize("value", ["yes", "1", 1, 0, "t"])
def test_booleans_refused(value: object) -> None:
    with pytest.raises(ValidationError, match="true or false"):
        parse_flag(value, field="IsWon")


# --- settings ---------------------------------------------------------------------------------


def test_the_settings_schema_names_the_mapping_class_fields() -> None:
    names = {setting.name for setting in MAPPING_SETTINGS}
    assert names == {
        "status_values",
        "stages",
        "exit_stages",
        "segment_field",
        "persona_field",
        "hand_raiser_field",
        "hand_raiser_values",
        "handoff_status",
        "handoff_notified",
        "currency",
    }
    mapping = SalesforceMapping.from_settings(
        {"handoff_status": "Working - Contacted", "persona_field": None, "instance_url": "x"}
    )
    assert mapping.handoff_status == "Working - Contacted"
    assert mapping.handoff_notified is HandoffClock.LATER_OF_STATUS_AND_USER_OWNER


def test_the_default_status_map_follows_the_standard_picklist() -> None:
    assert MAPPING.statuses == {
        "Open - Not Contacted": "mql",
        "Working - Contacted": "sal",
        "Closed - Converted": "opportunity",
        "Closed - Not Converted": "disqualified",
    }
    assert MAPPING.stage_key("open  -  not contacted") == "mql"


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"handoff_status": "Hot"}, "handoff_status"),
        ({"handoff_status": "Closed - Not Converted"}, "handoff_status"),
        ({"status_values": {"Nurture": "warm"}}, "status_values.Nurture"),
        ({"status_values": ["Nurture"]}, "status_values"),
        ({"persona_field": "Buyer Persona"}, "persona_field"),
        ({"hand_raiser_values": ["Demo"]}, "hand_raiser_values"),
        ({"handoff_notified": "soon"}, "handoff_notified"),
        ({"currency": "euro"}, "currency"),
        ({"stages": ["lead", "mql"], "exit_stages": ["mql"]}, "exit_stages"),
    ],
)
def test_bad_settings_name_the_setting(given: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        SalesforceMapping(**given)
    fields_named = (
        [e.field for e in error.value.errors]
        if isinstance(error.value, ConfigError)
        else [error.value.field]
    )
    assert field in fields_named


def test_fields_list_what_the_mapping_reads_and_optional_fields_only_when_the_org_has_them() -> (
    None
):
    mapping = SalesforceMapping(segment_field="Segment__c", hand_raiser_field="Demo__c")
    lead_fields = fields(mapping, "Lead")
    assert lead_fields[:2] == ("Id", "Status")
    assert lead_fields[-2:] == ("Segment__c", "Demo__c")
    assert "SystemModstamp" in lead_fields
    history = fields(mapping, "LeadHistory")
    assert "SystemModstamp" not in history
    assert "CreatedDate" in history
    assert "DataType" in history
    assert "CompletedDateTime" not in fields(mapping, "Task")
    assert "ActivityDate" not in fields(mapping, "Task") + fields(mapping, "Event")
    assert "CurrencyIsoCode" in fields(mapping, "Opportunity", available=["Id", "CurrencyIsoCode"])
    assert "CurrencyIsoCode" not in fields(mapping, "Opportunity", available=["Id"])
    with pytest.raises(ValueError, match="Account"):
        fields(mapping, "Account")


def describe(*names: str, statuses: tuple[str, ...] = ()) -> dict[str, Any]:
    items: list[dict[str, Any]] = [{"name": name, "type": "string"} for name in names]
    items.append(
        {
            "name": "Status",
            "type": "picklist",
            "picklistValues": [{"value": v, "label": v, "active": True} for v in statuses],
        }
    )
    return {"name": "Lead", "fields": items}


def test_check_fields_names_each_mapped_field_and_status_the_org_lacks() -> None:
    mapping = SalesforceMapping(
        segment_field="Segmnt__c",
        persona_field="Persona__c",
        status_values={"Nurture": "lead"},
    )
    standard = ("Open - Not Contacted", "Working - Contacted", "Closed - Converted")
    answer = describe("Id", "Segment__c", "persona__c", statuses=standard)
    with pytest.raises(ConfigError) as error:
        check_fields(mapping, answer)
    problems = {e.field: e.message for e in error.value.errors}
    assert set(problems) == {"segment_field", "status_values.Nurture"}
    assert 'did you mean "Segment__c"' in problems["segment_field"]
    check_fields(SalesforceMapping(persona_field="Persona__c"), answer)
    with pytest.raises(ValidationError) as one:
        check_fields(MAPPING, describe("Id", statuses=("New", "Working")))
    assert one.value.field == "handoff_status"
    with pytest.raises(ValidationError, match="describe"):
        check_fields(MAPPING, {"name": "Lead"})


@pytest.mark.parametrize(
    ("row", "expected"),
    [({"IsDeleted": True}, True), ({"IsDeleted": "false"}, False), ({}, False)],
)
def test_deleted_rows_are_told_apart(row: dict[str, Any], expected: bool) -> None:
    assert is_deleted(row) is expected


def test_a_malformed_deleted_flag_names_the_field() -> None:
    with pytest.raises(ValidationError) as error:
        is_deleted({"IsDeleted": "gone"})
    assert error.value.field == "IsDeleted"
