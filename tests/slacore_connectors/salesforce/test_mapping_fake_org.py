"""The Salesforce mapping over the fake Salesforce's generated org, rendered as REST JSON and
as Bulk 2.0 CSV values: the mapping and the fake agree on the rows' shapes."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any

import pytest
from tests.fakes.salesforce import bulk_time, rest_time
from tests.fakes.salesforce_org import generate_org

from slacore.model import Deal, Lead, OwnerChange, Rep, StageChange, Touch
from slacore_connectors.salesforce.mapping import (
    LeadLinks,
    SalesforceMapping,
    map_event,
    map_lead,
    map_opportunity,
    map_task,
    map_user,
)

MAPPING = SalesforceMapping(
    status_values={
        "Open - Not Contacted": "lead",
        "Working - Contacted": "lead",
        "Marketing Qualified": "mql",
        "Sales Accepted": "sal",
    },
    handoff_status="Marketing Qualified",
)


def render(row: dict[str, Any], bulk: bool) -> dict[str, Any]:
    """A row as REST (JSON values) or Bulk 2.0 (CSV strings, "" for null) writes it."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, datetime):
            value = bulk_time(value) if bulk else rest_time(value)
        elif isinstance(value, date):
            value = value.isoformat()
        if bulk:
            if value is None:
                value = ""
            elif isinstance(value, bool):
                value = "true" if value else "false"
            else:
                value = str(value)
        out[name] = value
    return out


@pytest.mark.parametrize("bulk", [False, True], ids=["rest", "bulk"])
def test_the_generated_org_maps_whole(bulk: bool) -> None:
    org = generate_org(seed=14, leads=150)
    tables = org.tables
    history: dict[str, list[dict[str, Any]]] = {}
    for row in tables["LeadHistory"].values():
        history.setdefault(row["LeadId"], []).append(render(row, bulk))

    results = {
        lead_id: map_lead(render(row, bulk), history.get(lead_id, []), MAPPING)
        for lead_id, row in tables["Lead"].items()
        if not row.get("IsDeleted")
    }
    assert all(not result.rejected for result in results.values())
    for lead_id, result in results.items():
        (lead,) = result.of(Lead)
        assert lead.stage == MAPPING.stage_key(tables["Lead"][lead_id]["Status"])
        # The fake writes every change: the last stage change is the current stage.
        assert result.of(StageChange)[-1].to_stage == lead.stage
        rows = [r for r in history.get(lead_id, []) if r["Field"] == "Owner"]
        entity = [r for r in rows if r["DataType"] == "EntityId"]
        assert len(rows) == 2 * len(entity)
        users = [r for r in entity if r["NewValue"].startswith("005")]
        first = entity[0]["OldValue"] if entity else tables["Lead"][lead_id]["OwnerId"]
        assert len(result.of(OwnerChange)) == len(users) + first.startswith("005")

    links = LeadLinks.of(result.conversion for result in results.values())
    assert links.lead_of_who  # the org converts some leads
    touches = Counter[str]()
    for row in tables["Task"].values():
        if row.get("IsDeleted") or (row["WhoId"] not in results and row["WhoId"][:3] == "00Q"):
            continue
        mapped = map_task(render(row, bulk), links.lead_of_who)
        if mapped.records:
            (touch,) = mapped.records
            assert isinstance(touch, Touch)
            assert touch.lead_id in results
            touches["task"] += 1
        else:
            (rejected,) = mapped.rejected
            assert rejected.field in {"TaskSubtype", "CallType"}, rejected
            touches[rejected.field] += 1
    assert touches["task"]
    assert touches["CallType"]
    assert touches["TaskSubtype"]
    for row in tables["Event"].values():
        (touch,) = map_event(render(row, bulk), links.lead_of_who).records
        assert touch.at <= row["StartDateTime"]  # type: ignore[union-attr]

    for opportunity_id, row in tables["Opportunity"].items():
        (deal,) = map_opportunity(render(row, bulk), links.lead_of_opportunity).records
        assert isinstance(deal, Deal)
        assert deal.lead_id == links.lead_of_opportunity[opportunity_id]
        assert deal.won == row["IsWon"]
    reps = [map_user(render(row, bulk)).records[0] for row in tables["User"].values()]
    assert all(isinstance(rep, Rep) for rep in reps)
    assert sorted({rep.active for rep in reps if isinstance(rep, Rep)}) == [False, True]


def test_the_orgs_malformed_rows_are_rejected_naming_field_and_id() -> None:
    org = generate_org(seed=14, leads=60, malformed=True)
    for sobject, row_id, field, _ in org.malformed:
        row = render(org.tables[sobject][row_id], bulk=False)
        result = map_lead(row, [], MAPPING) if sobject == "Lead" else map_opportunity(row)
        (rejected,) = result.rejected
        assert (rejected.record_id, rejected.field) == (row_id, field)
