"""Issue 14: syncs of the ``salesforce`` connector between changes users make in the org, in
this process: after each, the store holds exactly what the fake org holds (the oracle).

- random edits between syncs (statuses, owners, new leads and tasks, conversions, deletions
  and restorations, deals, users leaving), from a seed;
- a hand-off that waits for a user: a lead reaching the hand-off status while a queue owns
  it is handed off when a user takes it, a sync later;
- a mass update in one instant; activities of no lead; a task changed after it was read
  (pinned as an ``xfail``: a touch has no activity id);
- two orgs with the same ids (production and its sandbox) as two sources of one store.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tests.fakes.salesforce import FakeSalesforce
from tests.fakes.salesforce_org import STATUSES, Org
from tests.slacore_connectors.salesforce.oracle import MAPPING, assert_store_equals_fake, held
from tests.slacore_connectors.salesforce.scenario import (
    WINDOWED,
    active_user,
    convert,
    is_window_query,
    put_secrets,
    recently,
    settings_of,
    since,
    sync_here,
    task_row,
)

pytest.importorskip("simple_salesforce")

from slacore.connector import RejectedRecord
from slacore.model import Handoff
from slacore_connectors.jobs import JobConfig
from slacore_connectors.store.sqlite import SQLiteStore
from slacore_connectors.sync import run_sync

Make = Callable[..., FakeSalesforce]


def _live(org: Org, sobject: str) -> list[str]:
    return sorted(i for i, row in org.tables[sobject].items() if not row.get("IsDeleted"))


def _users(org: Org) -> list[str]:
    return sorted(i for i, row in org.tables["User"].items() if row["IsActive"])


def _restore(org: Org, lead: str, at: datetime) -> None:
    """Undelete ``lead`` from the recycle bin: it and the activities deleted with it."""
    org.update("Lead", lead, at=at, IsDeleted=False)
    for sobject in ("Task", "Event"):
        for row in list(org.tables[sobject].values()):
            if row["WhoId"] == lead and row["IsDeleted"]:
                org.update(sobject, row["Id"], at=at, IsDeleted=False)


def change_at_random(org: Org, rng: random.Random, at: datetime, deleted: list[str]) -> list[str]:
    """A few edits users make between two syncs, all at ``at``; what was done, for the
    failure message. ``deleted`` holds the leads deleted so far (one may be restored)."""
    done: list[str] = []
    users = _users(org)
    open_leads = [i for i in _live(org, "Lead") if org.tables["Lead"][i]["Status"] in STATUSES[:4]]
    for lead in rng.sample(open_leads, 4):
        row = org.tables["Lead"][lead]
        name, value = rng.choice(
            [
                ("Status", STATUSES[min(3, STATUSES.index(row["Status"]) + 1)]),
                ("Status", STATUSES[5]),
                ("OwnerId", rng.choice(users)),
                ("LeadSource", "Partner Referral"),
            ]
        )
        org.update("Lead", lead, at=at, **{name: value})
        done.append(f"lead {lead} {name}={value}")
    new = org.insert(
        "Lead",
        {"Name": "New", "Status": STATUSES[0], "OwnerId": rng.choice(users), "LeadSource": "Web"},
        at=at,
    )
    org.insert("Task", task_row(org, new, rng.choice(users), at), at=at)
    done.append(f"lead {new} new, with a call")
    for lead in rng.sample(_live(org, "Lead"), 2):
        org.insert("Task", task_row(org, lead, rng.choice(users), at, "Email"), at=at)
        done.append(f"email to {lead}")
    converted = rng.choice(open_leads)
    contact, deal = convert(org, converted, rng.choice(users), at)
    org.insert("Task", task_row(org, contact, rng.choice(users), at), at=at)
    done.append(f"lead {converted} converted into {contact}, {deal}")
    gone = rng.choice(
        [i for i in _live(org, "Lead") if not org.tables["Lead"][i]["IsConverted"] and i != new]
    )
    org.delete("Lead", gone, at=at)
    deleted.append(gone)
    done.append(f"lead {gone} deleted")
    if len(deleted) > 1 and rng.random() < 0.5:
        back = deleted.pop(0)
        _restore(org, back, at)
        done.append(f"lead {back} restored")
    deal = rng.choice(_live(org, "Opportunity"))
    org.update("Opportunity", deal, at=at, Amount=float(rng.randint(100, 90_000)))
    done.append(f"deal {deal} amount")
    leaving = rng.choice(users[1:])
    org.update("User", leaving, at=at, IsActive=False)
    done.append(f"user {leaving} inactive")
    hired = org.insert("User", {"Name": "New rep", "Email": "new@example.com", "IsActive": True})
    org.tables["User"][hired].update(SystemModstamp=at, CreatedDate=at, LastModifiedDate=at)
    org.insert("Task", task_row(org, rng.choice(_live(org, "Lead")), hired, at), at=at)
    standalone = {"Name": "Upsell", "Amount": 999.99, "IsWon": False, "IsClosed": False}
    org.insert("Opportunity", {**standalone, "OwnerId": hired, "StageName": "Prospecting"}, at=at)
    done.append(f"user {hired} hired, with a call and an opportunity of no lead")
    return done


@pytest.mark.parametrize("seed", [1, 7])
def test_syncs_between_random_changes_keep_the_store_equal_to_the_org(
    tmp_path: Path, make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    fake = make_fake_salesforce(seed=seed, leads=150, deleted=2)
    put_secrets(monkeypatch, fake)
    store_path = tmp_path / "store.db"
    sync_here(tmp_path, fake)
    assert_store_equals_fake(store_path, fake.org, MAPPING, calls=fake.calls)
    rng = random.Random(seed)
    deleted: list[str] = []
    for _ in range(3):
        with fake.lock:
            done = change_at_random(fake.org, rng, recently(3), deleted)
        before, first = Counter(fake.calls), len(fake.requests)
        sync_here(tmp_path, fake)
        run = since(before, Counter(fake.calls))
        windows = Counter(r.kind for r in fake.requests[first:] if is_window_query(r))
        assert windows == dict.fromkeys(WINDOWED, 1), (done, dict(run))
        assert not run["query_more:Lead"], (done, dict(run))
        try:
            assert_store_equals_fake(store_path, fake.org, MAPPING, calls=run)
        except AssertionError as error:
            raise AssertionError(f"after {done}: {error}") from None


def test_a_handoff_waiting_for_a_user_comes_when_one_takes_the_lead(
    tmp_path: Path, make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = make_fake_salesforce(seed=14, leads=120)
    put_secrets(monkeypatch, fake)
    org = fake.org
    store_path = tmp_path / "store.db"
    sync_here(tmp_path, fake)
    queue = min(org.tables["Group"])
    lead = min(i for i, r in org.tables["Lead"].items() if r["Status"] == STATUSES[0])
    # Reaches the hand-off status (Marketing Qualified) while a queue owns it: pending.
    reached = recently(6)
    with fake.lock:
        org.update("Lead", lead, at=reached - timedelta(seconds=1), OwnerId=queue)
        org.update("Lead", lead, at=reached, Status=STATUSES[2])
    report = sync_here(tmp_path, fake)
    assert_store_equals_fake(store_path, org, MAPPING, calls=fake.calls)
    assert lead not in {h.lead_id for h in held(store_path)["handoffs"]}
    (source,) = report.sources
    told = [n for said in source.notices.values() for n in said if lead in n]
    assert told, source.notices  # the hand-off waiting for a user is told
    # A user takes it: the hand-off is notified then, to that user.
    taken = recently(2)
    rep = active_user(org)
    with fake.lock:
        org.update("Lead", lead, at=taken, OwnerId=rep)
    sync_here(tmp_path, fake)
    assert_store_equals_fake(store_path, org, MAPPING, calls=fake.calls)
    (handoff,) = [h for h in held(store_path)["handoffs"] if h.lead_id == lead]
    assert isinstance(handoff, Handoff)
    assert handoff.owner_id == rep
    assert handoff.notified_at == taken.replace(microsecond=taken.microsecond // 1000 * 1000)


def test_a_mass_update_in_one_instant_is_read_whole_by_the_next_sync(
    tmp_path: Path, make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A data load stamps 450 leads with one SystemModstamp: the next window pages through it.
    fake = make_fake_salesforce(seed=9, leads=600, activity=False)
    put_secrets(monkeypatch, fake)
    store_path = tmp_path / "store.db"
    sync_here(tmp_path, fake, page_size=200)
    org = fake.org
    at = recently(3)
    loaded = _live(org, "Lead")[:450]
    with fake.lock:
        for lead in loaded:
            org.update("Lead", lead, at=at, LeadSource="Purchased List")
    before = Counter(fake.calls)
    report = sync_here(tmp_path, fake, page_size=200)
    run = since(before, Counter(fake.calls))
    assert_store_equals_fake(store_path, org, MAPPING, calls=run)
    (source,) = report.sources
    leads = source.streams["leads"]
    assert leads.read == 450, (dict(run), leads)  # each once (some had that source already)
    assert run["query_more:Lead"] == 2, dict(run)  # 450 rows: pages of 200, 200 and 50


@pytest.mark.xfail(
    strict=True,
    reason="a touch is keyed by its lead, rep, time and channel, not by the Task it comes "
    "from (slacore.model.Touch has no activity id): a task given to another lead or rep "
    "leaves its former touch current beside the new one, and a task deleted alone leaves "
    "its touch (the connector skips deleted activities: it could not name the touch)",
)
@pytest.mark.parametrize("change", ["reassigned", "deleted"])
def test_a_changed_task_keeps_one_touch(
    tmp_path: Path, make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    fake = make_fake_salesforce(seed=14, leads=60)
    put_secrets(monkeypatch, fake)
    sync_here(tmp_path, fake)
    org = fake.org
    touched = {t.lead_id for t in held(tmp_path / "store.db")["touches"]}
    task = min(
        i
        for i, row in org.tables["Task"].items()
        if row["WhoId"] in touched and row["TaskSubtype"] == "Call" and row["CallType"] != "Inbound"
    )
    at = recently()
    with fake.lock:
        if change == "deleted":
            org.delete("Task", task, at=at)
        else:
            others = [u for u in _users(org) if u != org.tables["Task"][task]["OwnerId"]]
            org.update("Task", task, at=at, OwnerId=others[0])
    sync_here(tmp_path, fake)
    assert_store_equals_fake(tmp_path / "store.db", org, MAPPING, calls=fake.calls)


def test_activities_of_no_lead_are_neither_touches_nor_rejected(
    tmp_path: Path, make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = make_fake_salesforce(seed=14, leads=100)
    put_secrets(monkeypatch, fake)
    store_path = tmp_path / "store.db"
    sync_here(tmp_path, fake)
    org = fake.org
    rep = active_user(org)
    at = recently()
    with fake.lock:
        # A customer's contact (no lead converted into it), a call logged on no one.
        customer = org.insert("Contact", {"Name": "Customer", "Email": "c@example.com"}, at=at)
        on_customer = org.insert("Task", task_row(org, customer, rep, at), at=at)
        lead = _live(org, "Lead")[0]
        on_no_one = org.insert("Task", {**task_row(org, lead, rep, at), "WhoId": None}, at=at)
        meeting = {"WhoId": customer, "OwnerId": rep, "StartDateTime": at, "EventSubtype": "Event"}
        at_customer = org.insert("Event", meeting, at=at)
    report = sync_here(tmp_path, fake)
    assert_store_equals_fake(store_path, org, MAPPING, calls=fake.calls)
    (source,) = report.sources
    assert not source.streams["touches"].rejected, source.streams
    kept = {r.record_id for r in held_rejected_all(store_path)}
    assert not kept & {on_customer, on_no_one, at_customer}, kept
    told = [n for n in source.notices.get("touches", []) if "no lead was converted" in n]
    assert told, source.notices


def held_rejected_all(store_path: Path) -> list[RejectedRecord]:
    with SQLiteStore(store_path, read_only=True) as store:
        return store.rejected()


def test_two_orgs_with_the_same_ids_are_two_sources_of_one_store(
    tmp_path: Path, make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A production org and its full sandbox: the same rows, the same ids.
    production, sandbox = (make_fake_salesforce(seed=14, leads=80) for _ in range(2))
    put_secrets(monkeypatch, production)  # both fakes take the same credentials
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", production.ca_path)  # one CA issued both
    config = JobConfig.from_dict(
        {
            "store": "store.db",
            "sources": [
                {"name": name, "connector": "salesforce", "settings": settings_of(fake)}
                for name, fake in (("prod", production), ("sandbox", sandbox))
            ],
        },
        base=tmp_path,
        environ=dict(os.environ),
    )
    assert run_sync(config).ok
    gone = _live(sandbox.org, "Lead")[0]
    with sandbox.lock:
        sandbox.org.delete("Lead", gone, at=recently())
    report = run_sync(config)
    assert report.ok, report.to_dict()
    store_path = tmp_path / "store.db"
    for name, fake in (("prod", production), ("sandbox", sandbox)):
        assert_store_equals_fake(store_path, fake.org, MAPPING, source_name=name)
    assert gone in {lead.id for lead in held(store_path, source_name="prod")["leads"]}
