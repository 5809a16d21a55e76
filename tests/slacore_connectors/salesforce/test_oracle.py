"""The Salesforce scenarios' oracle checked on its own: every row of a generated org is
mapped or rejected, none lost, nothing of a deleted lead; and its comparison passes on a
store holding exactly that and fails, naming the stream, on one holding anything else."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from tests.fakes.salesforce_org import Org, generate_org
from tests.slacore_connectors.salesforce import oracle
from tests.slacore_connectors.salesforce.oracle import (
    MAPPING,
    assert_store_equals_fake,
    deleted_leads,
    expected,
    expected_rejected,
    held,
    held_rejected,
    orphans,
)
from tests.slacore_connectors.store_oracle import stream_of

from slacore.connector import Batch, Cursor, RejectedRecord, Stream
from slacore.model import Deal, Lead, StageChange, Touch
from slacore_connectors.store.sqlite import SQLiteStore

T0 = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def org() -> Org:
    """A small org with deleted leads (and tasks) and malformed values."""
    return generate_org(seed=3, leads=200, deleted=8, malformed=True)


def _ids(org: Org, sobject: str) -> set[str]:
    return {i for i, row in org.tables[sobject].items() if not row.get("IsDeleted")}


def test_every_live_row_is_mapped_or_rejected_and_none_is_lost(org: Org) -> None:
    want = expected(org, MAPPING)
    refused = expected_rejected(org, MAPPING)
    leads = {lead.id for lead in want["leads"]}
    assert leads | refused["leads"] == _ids(org, "Lead")
    assert not leads & refused["leads"]
    malformed = {(sobject, row_id) for sobject, row_id, *_ in org.malformed}
    assert refused["leads"] == {i for s, i in malformed if s == "Lead"}
    deals = {deal.id for deal in want["deals"]}
    assert deals | refused["deals"] == _ids(org, "Opportunity")
    assert refused["deals"] == {i for s, i in malformed if s == "Opportunity"}
    assert {rep.id for rep in want["reps"]} == set(org.tables["User"])
    assert {rep.active for rep in want["reps"]} == {True, False}
    # Every live task asked for (calls and emails) and event, but those of deleted leads, is
    # a touch or rejected.
    asked = {i for i in _ids(org, "Task") if oracle._asked(org.tables["Task"][i])}
    assert asked < _ids(org, "Task")  # to-dos and inbound calls are not asked for
    activities = (asked | _ids(org, "Event")) - orphans(org)
    assert refused["touches"] <= activities
    assert len(want["touches"]) + len(refused["touches"]) == len(activities)
    # Every event of a lead is of a live lead (a touch may be of a lead rejected for a
    # malformed value: the task is well formed).
    for stream in ("stage_changes", "owner_changes", "handoffs"):
        assert {record.lead_id for record in want[stream]} <= leads, stream
    assert {touch.lead_id for touch in want["touches"]} <= leads | refused["leads"]
    assert not leads & deleted_leads(org)
    assert {refused for refused in refused.values() for refused in refused} <= (
        activities | _ids(org, "Lead") | _ids(org, "Opportunity")
    )


def test_a_converted_leads_later_tasks_and_its_deal_count_for_it(org: Org) -> None:
    want = expected(org, MAPPING)
    converted = {
        row["ConvertedContactId"]: lead_id
        for lead_id, row in org.tables["Lead"].items()
        if row["IsConverted"] and not row["IsDeleted"]
    }
    on_contacts = [
        row for row in org.tables["Task"].values() if row["WhoId"] in converted and row["IsClosed"]
    ]
    assert on_contacts  # the org logs tasks on converted contacts
    touched = {(t.lead_id, t.at) for t in want["touches"]}
    counted = [
        row
        for row in on_contacts
        if (converted[row["WhoId"]], row["CompletedDateTime"] or row["CreatedDate"]) in touched
    ]
    assert counted
    leads_of_deals = {deal.lead_id for deal in want["deals"]}
    assert set(converted.values()) & leads_of_deals


def test_the_default_mapping_rejects_the_statuses_it_does_not_know_and_loses_none(
    org: Org,
) -> None:
    want = expected(org)
    refused = expected_rejected(org)
    leads = {lead.id for lead in want["leads"]}
    assert refused["leads"]  # Marketing Qualified, Sales Accepted: not a new org's statuses
    assert leads | refused["leads"] == _ids(org, "Lead")


def test_without_history_tracking_each_lead_has_its_current_stage_since_creation() -> None:
    org = generate_org(seed=4, leads=60)
    org.history_tracking = False
    want = expected(org, MAPPING)
    stages = {lead.id: lead.stage for lead in want["leads"]}
    changes = defaultdict(list)
    for change in want["stage_changes"]:
        changes[change.lead_id].append(change)
    for lead_id, stage in stages.items():
        (change,) = changes[lead_id]
        assert change.to_stage == stage
    assert len(want["owner_changes"]) <= len(stages)


# -- the comparison --------------------------------------------------------------------------


def write(store_path: Path, records: dict[str, list[Any]], rejected: list[RejectedRecord]) -> None:
    """Store ``records`` and ``rejected`` as a sync would, one batch per stream."""
    refused: dict[Stream, list[RejectedRecord]] = defaultdict(list)
    for record in rejected:
        refused[Stream.parse(record.stream)].append(record)
    with SQLiteStore(store_path) as store:
        run = store.start_run("sf", connector="salesforce")
        for stream in oracle.STREAMS:
            batch = Batch(
                stream=stream,
                records=records.get(stream.value, []),
                rejected=refused[stream],
                cursor=Cursor(stream=stream, state={"done": True}),
                from_start=True,
            )
            store.write_batch("sf", batch, run_id=run, seen_at=T0)
        store.finish_run(run, status="success", counts={})


def mapped(org: Org) -> tuple[dict[str, list[Any]], list[RejectedRecord]]:
    """What a complete sync of ``org`` stores, from the mapping, each record once."""
    records: dict[str, list[Any]] = defaultdict(list)
    rejected = []
    for result in oracle._mapped(org, MAPPING):
        for record in result.records:
            records[stream_of(record, oracle.STREAMS).value].append(record)
        rejected.extend(result.rejected)
    return records, rejected


def test_a_store_holding_exactly_the_org_passes(org: Org, tmp_path: Path) -> None:
    records, rejected = mapped(org)
    write(tmp_path / "store.db", records, rejected)
    assert_store_equals_fake(tmp_path / "store.db", org, MAPPING, calls={"query:Lead": 1})
    assert held(tmp_path / "store.db") == expected(org, MAPPING)
    assert held_rejected(tmp_path / "store.db") == expected_rejected(org, MAPPING)


def _first(records: list[Any], kind: type[Any]) -> Any:
    return min((r for r in records if isinstance(r, kind)), key=repr)


def _lead_of(org: Org, deleted: bool) -> str:
    return min(i for i, row in org.tables["Lead"].items() if bool(row["IsDeleted"]) is deleted)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ("missing lead", r"leads records: 1 missing, e\.g\. \[Lead\(id='00Q"),
        ("wrong amount", r"deals records: 1 missing, .*; 1 extra, e\.g\. \[Deal\("),
        ("touch of a deleted lead", r"touches: records of deleted leads, e\.g\. \[Touch\("),
        ("extra stage change", r"stage_changes records: 0 missing, e\.g\. \[\]; 1 extra"),
        ("rejected lost", r"leads rejected ids: 2 missing, e\.g\. \[.00Q"),
    ],
)
def test_a_store_holding_anything_else_fails_naming_the_stream(
    org: Org, tmp_path: Path, change: str, said: str
) -> None:
    records, rejected = mapped(org)
    if change == "missing lead":
        records["leads"].remove(_first(records["leads"], Lead))
    elif change == "wrong amount":
        deal = _first(records["deals"], Deal)
        records["deals"].remove(deal)
        records["deals"].append(attrs.evolve(deal, amount=deal.amount + 1))
    elif change == "touch of a deleted lead":
        touch = _first(records["touches"], Touch)
        records["touches"].append(attrs.evolve(touch, lead_id=_lead_of(org, deleted=True)))
    elif change == "extra stage change":
        stage = _first(records["stage_changes"], StageChange)
        records["stage_changes"].append(attrs.evolve(stage, at=T0))
    else:
        rejected = [r for r in rejected if r.stream != "leads"]
    write(tmp_path / "store.db", records, rejected)
    with pytest.raises(AssertionError, match=said) as failure:
        assert_store_equals_fake(tmp_path / "store.db", org, MAPPING)
    assert str(failure.value).startswith("the store differs from the fake:")
