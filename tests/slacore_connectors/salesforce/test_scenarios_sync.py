"""Issue 14: the ``salesforce`` connector synced end to end against the fake Salesforce.

Each scenario ends with :func:`~tests.slacore_connectors.salesforce.oracle.assert_store_equals_fake`
(the store holds exactly what the fake org holds, record for record, each once, nothing of a
deleted lead) and checks the API calls the sync made (``fake.calls``), shown in its failure
messages: a first sync (and one with other mapping settings), an incremental one reading
only the changes, leads sharing one ``SystemModstamp`` across page boundaries (and a run
stopped inside it), rows appearing late inside and past the lookback, rows on window bounds,
a lead changed while the sync reads, deleted rows (a deleted converted lead's contact and
deal too), a lead converted between syncs, a Bulk 2.0 first load equal to a REST one, and a
sync killed or stopped (REST, Bulk 2.0, in the touches) and resumed to the same store.
"""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.cli import signalled_sync
from tests.fakes.salesforce import FakeSalesforce, Request
from tests.fakes.salesforce_org import SEGMENTS, STATUSES
from tests.slacore_connectors.salesforce.oracle import (
    MAPPING,
    assert_store_equals_fake,
    expected,
    held,
    held_rejected,
)
from tests.slacore_connectors.salesforce.oracle import (
    SETTINGS as ORACLE_SETTINGS,
)
from tests.slacore_connectors.salesforce.scenario import (
    ONE_WINDOW,
    SOURCE,
    WINDOWED,
    active_user,
    convert,
    cursors,
    is_window_query,
    put_secrets,
    reads,
    recently,
    run_cli,
    since,
    sync_cli,
    sync_here,
    task_row,
    write_job,
)

pytest.importorskip("simple_salesforce")

from slacore.model import Deal, Touch
from slacore_connectors.salesforce.mapping import SalesforceMapping
from slacore_connectors.store.sqlite import SQLiteStore

Make = Callable[..., FakeSalesforce]
#: The page size the scenarios that cross pages ask for (Salesforce's least batchSize).
PAGE = 200


def started(make: Make, monkeypatch: pytest.MonkeyPatch, **org: Any) -> FakeSalesforce:
    """A fake Salesforce over ``generate_org(**org)``, its secrets in the environment."""
    fake = make(**{"seed": 14, "leads": 300, **org})
    put_secrets(monkeypatch, fake)
    return fake


def synced(
    folder: Path, make: Make, monkeypatch: pytest.MonkeyPatch, **org: Any
) -> tuple[FakeSalesforce, Path]:
    """:func:`started`, its job in ``folder`` synced once through the command line: the fake
    and the store's path."""
    fake = started(make, monkeypatch, **org)
    store_path = write_job(folder, fake)
    sync_cli(folder)
    return fake, store_path


def assert_complete(
    store_path: Path, fake: FakeSalesforce, calls: Counter[str] | None = None
) -> None:
    """The oracle, with the scenarios' mapping; the API calls told on failure."""
    assert_store_equals_fake(store_path, fake.org, MAPPING, calls=calls or fake.calls)


def lacking(lead_id: str) -> str:
    """What the oracle says of a store that lacks one lead, ``lead_id`` (a regex)."""
    return rf"leads records: 1 missing, e\.g\. \[Lead\(id='{lead_id}'"


# -- 1. a first sync through the command line -----------------------------------------------


def test_a_first_sync_through_the_cli_stores_exactly_the_org(
    tmp_path: Path, make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = started(make_fake_salesforce, monkeypatch, deleted=4)
    store_path = write_job(tmp_path, fake)
    source = sync_cli(tmp_path)
    calls = Counter(fake.calls)
    assert_complete(store_path, fake, calls)
    want = expected(fake.org, MAPPING)
    streams = source["streams"]
    shown = f"calls: {dict(calls)}; streams: {streams}"
    assert streams["leads"]["stored"] == len(want["leads"]), shown
    assert streams["deals"]["stored"] == len(want["deals"]), shown
    assert streams["reps"]["stored"] == len(want["reps"]), shown
    # Under the bulk threshold: REST queries alone, each object read with deleted rows.
    assert not [kind for kind in calls if kind.startswith("bulk")], shown
    for sobject in ("Lead", "Task", "Event", "Opportunity"):
        assert calls[f"queryAll:{sobject}"] >= 1, shown
    assert calls["soap_login"] == 1, shown  # logged in once for the whole run


def test_a_first_sync_with_other_mapping_settings_maps_by_them(
    tmp_path: Path, make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hand-off at Sales Accepted, notified when the status is entered (queue or not);
    # the segment alone, no persona; hand-raisers by a picklist's values.
    settings: dict[str, Any] = {
        "handoff_status": "Sales Accepted",
        "handoff_notified": "status_entered",
        "persona_field": None,
        "hand_raiser_field": "Persona__c",
        "hand_raiser_values": ["Champion", "Economic Buyer"],
    }
    fake = started(make_fake_salesforce, monkeypatch)
    store_path = write_job(tmp_path, fake, **settings)
    sync_cli(tmp_path)
    chosen = {k: v for k, v in {**ORACLE_SETTINGS, **settings}.items() if v is not None}
    mapping = SalesforceMapping.from_settings(chosen)
    assert_store_equals_fake(store_path, fake.org, mapping, calls=fake.calls)
    have = held(store_path)
    assert {h.stage for h in have["handoffs"]} == {"sal"}
    assert {lead.segment for lead in have["leads"]} == {*SEGMENTS, None}  # no " x " persona
    assert {lead.hand_raiser for lead in have["leads"]} == {True, False}


# -- 2. an incremental sync reads only what changed -----------------------------------------


def test_an_incremental_sync_reads_only_the_changes(
    tmp_path: Path, make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, store_path = synced(tmp_path, make_fake_salesforce, monkeypatch)
    before = Counter(fake.calls)
    org = fake.org
    at = recently()
    rep = active_user(org)
    with fake.lock:
        leads = sorted(i for i, r in org.tables["Lead"].items() if r["Status"] == STATUSES[1])
        org.update("Lead", leads[0], at=at, Status=STATUSES[2])  # to MQL: a hand-off
        org.update("Lead", leads[1], at=at, OwnerId=rep)  # two history rows, one change
        new = org.insert(
            "Lead",
            {"Name": "New lead", "Status": STATUSES[0], "OwnerId": rep, "LeadSource": "Web"},
            at=at,
        )
        org.insert("Task", task_row(org, new, rep, at), at=at)
        deal = min(i for i, r in org.tables["Opportunity"].items() if not r["IsClosed"])
        org.update("Opportunity", deal, at=at, Amount=12_345.5)
    first = len(fake.requests)
    source = sync_cli(tmp_path)
    run = since(before, Counter(fake.calls))
    assert_complete(store_path, fake, run)
    streams = source["streams"]
    shown = f"calls this run: {dict(run)}; streams: {streams}"
    # Only the changes: two leads changed and one new, its task, the deal.
    assert streams["leads"]["read"] == 3, shown
    assert streams["touches"]["read"] == 1, shown
    assert streams["deals"]["read"] == 1, shown
    # One window query an object, one page each: nothing paged, nothing bulk; besides them
    # only lookups (the changed leads' history, the leads converted into the deal).
    queried = reads(run)
    assert not [kind for kind in queried if kind.startswith(("query_more", "bulk"))], shown
    windows = Counter(r.kind for r in fake.requests[first:] if is_window_query(r))
    assert windows == dict.fromkeys(WINDOWED, 1), shown
    assert sum(queried.values()) <= 2 * len(WINDOWED), shown
    assert run["soap_login"] == 1, shown
    handoffs = {h.lead_id for h in held(store_path)["handoffs"]}
    assert leads[0] in handoffs, shown


# -- 3. one SystemModstamp across page boundaries -------------------------------------------


def test_leads_sharing_one_systemmodstamp_across_pages_are_read_each_once(
    tmp_path: Path, make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 700 of 1,000 leads modified in one instant: pages of 200 cross it three times.
    fake = started(make_fake_salesforce, monkeypatch, leads=1_000, same_instant=700, activity=False)
    instants = Counter(r["SystemModstamp"] for r in fake.org.tables["Lead"].values())
    assert instants.most_common(1)[0][1] == 700
    store_path = write_job(tmp_path, fake, page_size=PAGE)
    source = sync_cli(tmp_path)
    calls = Counter(fake.calls)
    assert_complete(store_path, fake, calls)
    leads = source["streams"]["leads"]
    shown = f"calls: {dict(calls)}; leads: {leads}"
    assert leads["read"] + leads["rejected"] == 1_000, shown
    assert leads["unchanged"] == 0, shown  # none read twice
    assert calls["queryAll:Lead"] + calls["query_more:Lead"] >= 1_000 // PAGE, shown


def test_a_sync_stopped_inside_one_systemmodstamp_goes_on_after_the_last_row_stored(
    tmp_path: Path, make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = started(make_fake_salesforce, monkeypatch, leads=1_000, same_instant=700, activity=False)
    # One window for all: ~150 leads before the instant, 700 in it, ~150 after; pages of 200.
    store_path = write_job(tmp_path, fake, page_size=PAGE, window=ONE_WINDOW)
    seen: list[int] = []

    def limit(request: Request) -> None:
        if request.kind == "query_more:Lead":
            seen.append(request.number)
            if len(seen) == 2:  # the third page, inside the instant: the org's limit
                fake.api_max = fake.api_used  # used up, for every request from this one on

    fake.before_request = limit
    done, first = run_cli(tmp_path)
    fake.before_request = None
    fake.api_used, fake.api_max = 0, 15_000  # a new day
    assert done.returncode == 1, done.stderr
    stored = first["streams"]["leads"]
    done_before = stored["read"] + stored["rejected"]
    assert done_before in (PAGE, 2 * PAGE), first["streams"]  # whole pages, before the third
    state = cursors(store_path)["leads"]
    instant = max(
        Counter(r["SystemModstamp"] for r in fake.org.tables["Lead"].values()).items(),
        key=lambda kv: kv[1],
    )[0]
    assert state.get("Lead.after_at") == int(instant.timestamp() * 1000), state

    source = sync_cli(tmp_path)
    assert_complete(store_path, fake)
    leads = source["streams"]["leads"]
    # The rest, each once: none of the instant's rows stored before read again, none lost.
    assert leads["read"] + leads["rejected"] == 1_000 - done_before, leads
    assert leads["unchanged"] == 0, leads


# -- 4. a row appearing late, inside and outside the lookback --------------------------------


def test_a_row_appearing_late_inside_the_lookback_is_read_by_the_next_sync(
    tmp_path: Path, make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, store_path = synced(tmp_path, make_fake_salesforce, monkeypatch, leads=120)
    org = fake.org
    rep = active_user(org)
    # Committed now with a SystemModstamp the last window already passed (VENDORS.md 4.6):
    # three minutes behind (inside the 10-minute lookback), and twenty (outside it).
    with fake.lock:
        late = org.insert(
            "Lead", {"Name": "Late", "Status": STATUSES[0], "OwnerId": rep}, at=recently(180)
        )
        org.insert("Task", task_row(org, late, rep, recently(180)), at=recently(180))
        too_late = org.insert(
            "Lead", {"Name": "Too late", "Status": STATUSES[0], "OwnerId": rep}, at=recently(1200)
        )
    before = Counter(fake.calls)
    source = sync_cli(tmp_path)
    run = since(before, Counter(fake.calls))
    stored = {lead.id for lead in held(store_path)["leads"]}
    assert late in stored, dict(run)
    assert {t.lead_id for t in held(store_path)["touches"]} >= {late}
    # Behind the lookback it is lost to incremental syncs: the store lacks it alone.
    assert too_late not in stored
    with pytest.raises(AssertionError, match=lacking(too_late)):
        assert_complete(store_path, fake, run)
    assert source["streams"]["leads"]["read"] == 1, source["streams"]


def test_a_lead_changed_while_the_sync_reads_is_read_by_the_next(
    tmp_path: Path, make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = started(make_fake_salesforce, monkeypatch, leads=150)
    org = fake.org
    lead = min(i for i, r in org.tables["Lead"].items() if r["Status"] == STATUSES[1])
    changed: list[datetime] = []

    def during(request: Request) -> None:
        # The leads are read: a change committed now, stamped inside this run's window.
        if request.kind == "queryAll:Task" and not changed:
            changed.append(recently(30))
            org.update("Lead", lead, at=changed[0], Status=STATUSES[2])

    fake.before_request = during
    sync_here(tmp_path, fake)
    fake.before_request = None
    assert changed
    store_path = tmp_path / "store.db"
    with pytest.raises(AssertionError, match=lacking(lead)):
        assert_complete(store_path, fake)
    before = Counter(fake.calls)
    report = sync_here(tmp_path, fake)
    run = since(before, Counter(fake.calls))
    assert_complete(store_path, fake, run)
    (source,) = report.sources
    assert source.streams["leads"].stored == 1, (dict(run), source.streams)


def test_rows_on_window_bounds_are_read_once_and_in_the_window_they_belong_to(
    tmp_path: Path, make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = started(make_fake_salesforce, monkeypatch, leads=150, activity=False)
    org = fake.org
    rep = active_user(org)
    # A first read starts at the oldest lead's second and goes by pieces of 30 days: leads
    # on a piece's end, a millisecond before it and after it.
    oldest = min(r["SystemModstamp"] for r in org.tables["Lead"].values()).replace(microsecond=0)
    bound = oldest + timedelta(days=30)
    on_bounds = [
        org.insert("Lead", {"Name": f"Bound {n}", "Status": STATUSES[0], "OwnerId": rep}, at=at)
        for n, at in enumerate(
            (bound - timedelta(milliseconds=1), bound, bound + timedelta(milliseconds=1))
        )
    ]
    store_path = write_job(tmp_path, fake)
    source = sync_cli(tmp_path)
    assert_complete(store_path, fake)
    leads = source["streams"]["leads"]
    assert leads["read"] + leads["rejected"] == 153, leads  # each once
    assert set(on_bounds) <= {lead.id for lead in held(store_path)["leads"]}

    # The next window starts ``lookback`` (10 minutes) before the last one's end: a row
    # stamped on that start is read again, one a millisecond before it is not.
    end = datetime.fromtimestamp(cursors(store_path)["leads"]["Lead.modified"] / 1000, UTC)
    start = end - timedelta(minutes=10)
    with fake.lock:
        inside = org.insert("Lead", {"Name": "In", "Status": STATUSES[0], "OwnerId": rep}, at=start)
        outside = org.insert(
            "Lead",
            {"Name": "Out", "Status": STATUSES[0], "OwnerId": rep},
            at=start - timedelta(milliseconds=1),
        )
    source = sync_cli(tmp_path)
    stored = {lead.id for lead in held(store_path)["leads"]}
    assert inside in stored
    assert outside not in stored
    assert source["streams"]["leads"]["read"] == 1, source["streams"]


# -- 5. deleted rows -------------------------------------------------------------------------


def test_deleted_leads_and_opportunities_leave_the_store_and_stay_in_its_past(
    tmp_path: Path, make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, store_path = synced(tmp_path, make_fake_salesforce, monkeypatch, deleted=3)
    org = fake.org
    first = held(store_path)
    between = recently(0)
    # A lead with a hand-off and touches (not converted: no deal), deleted (its activities
    # with it, as Salesforce does); an opportunity deleted on its own.
    handed = {h.lead_id for h in first["handoffs"]} & {t.lead_id for t in first["touches"]}
    gone = min(i for i in handed if not org.tables["Lead"][i]["IsConverted"])
    deal = min(d.id for d in first["deals"])
    at = recently()
    with fake.lock:
        org.delete("Lead", gone, at=at)  # its tasks and events with it
        org.delete("Opportunity", deal, at=at)
    before = Counter(fake.calls)
    source = sync_cli(tmp_path)
    run = since(before, Counter(fake.calls))
    assert_complete(store_path, fake, run)
    streams = source["streams"]
    assert streams["leads"]["deleted"] == 1, streams
    assert streams["deals"]["deleted"] == 1, streams
    with SQLiteStore(store_path, read_only=True) as store:
        then = {s: list(store.records(s, as_of=between)) for s in ("leads", "touches", "deals")}
    assert gone in {lead.id for lead in then["leads"]}
    assert gone in {t.lead_id for t in then["touches"]}
    assert deal in {d.id for d in then["deals"]}


def test_a_deleted_converted_lead_gets_no_touch_of_its_contact_and_its_deal_no_lead(
    tmp_path: Path, make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, store_path = synced(tmp_path, make_fake_salesforce, monkeypatch)
    org = fake.org
    lead = min(i for i, r in org.tables["Lead"].items() if r["ConvertedOpportunityId"])
    contact = org.tables["Lead"][lead]["ConvertedContactId"]
    opportunity = org.tables["Lead"][lead]["ConvertedOpportunityId"]
    at = recently()
    with fake.lock:
        org.delete("Lead", lead, at=at)  # the contact and the opportunity stay
        org.insert("Task", task_row(org, contact, active_user(org), at), at=at)
        org.update("Opportunity", opportunity, at=at, StageName="Negotiation")
    sync_cli(tmp_path)
    # No touch of the deleted lead (the oracle checks it), and its deal, read again, names
    # no lead: a deleted lead is no lead.
    assert_complete(store_path, fake)
    (deal,) = [d for d in held(store_path)["deals"] if d.id == opportunity]
    assert deal.lead_id is None, deal


# -- 6. a lead converted between syncs -------------------------------------------------------


def test_a_lead_converted_between_syncs_keeps_its_later_touches_and_gets_its_deal(
    tmp_path: Path, make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, store_path = synced(tmp_path, make_fake_salesforce, monkeypatch)
    org = fake.org
    rep = active_user(org)
    lead = min(i for i, r in org.tables["Lead"].items() if r["Status"] == STATUSES[3])
    at = recently()
    with fake.lock:
        contact, opportunity = convert(org, lead, rep, at)
        org.insert("Task", task_row(org, contact, rep, at), at=at)
    sync_cli(tmp_path)
    assert_complete(store_path, fake)
    have = held(store_path)
    assert Touch(lead_id=lead, rep_id=rep, at=to_ms(at), channel="call") in have["touches"]
    (deal,) = [d for d in have["deals"] if d.id == opportunity]
    assert isinstance(deal, Deal)
    assert deal.lead_id == lead

    # A touch logged on the contact a run later: the lead unchanged, its link still found.
    later = recently(3)
    with fake.lock:
        org.insert("Task", task_row(org, contact, rep, later, "Email"), at=later)
    before = Counter(fake.calls)
    source = sync_cli(tmp_path)
    run = since(before, Counter(fake.calls))
    assert_complete(store_path, fake, run)
    assert source["streams"]["leads"]["stored"] == 0, source["streams"]  # re-read at most
    email = Touch(lead_id=lead, rep_id=rep, at=to_ms(later), channel="email")
    assert email in held(store_path)["touches"]


def to_ms(moment: datetime) -> datetime:
    """``moment`` as Salesforce keeps it: to the millisecond."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


# -- 7. Bulk API 2.0 for a first load --------------------------------------------------------


def test_a_bulk_first_load_stores_what_a_rest_first_load_stores(
    tmp_path: Path, make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = started(make_fake_salesforce, monkeypatch, deleted=3, malformed=True)
    stores = {}
    calls = {}
    for way, threshold in (("bulk", 100), ("rest", 100_000)):
        folder = tmp_path / way
        folder.mkdir()
        stores[way] = write_job(folder, fake, bulk_threshold=threshold)
        before = Counter(fake.calls)
        sync_cli(folder)
        calls[way] = since(before, Counter(fake.calls))
        assert_complete(stores[way], fake, calls[way])
    assert held(stores["bulk"]) == held(stores["rest"])
    assert held_rejected(stores["bulk"]) == held_rejected(stores["rest"])
    shown = f"calls: {calls}"
    assert calls["bulk"]["bulk_create:Lead"] == 1, shown
    assert not [k for k in calls["rest"] if k.startswith("bulk")], shown
    # Bulk's rows went through the same mapping: the malformed ones rejected alike.
    assert held_rejected(stores["bulk"])["leads"]

    # The next sync of the bulk-loaded store goes on by REST from the bulk load's cursor.
    at = recently()
    with fake.lock:
        lead = min(fake.org.tables["Lead"])
        fake.org.update("Lead", lead, at=at, OwnerId=active_user(fake.org))
    before = Counter(fake.calls)
    source = sync_cli(tmp_path / "bulk")
    run = since(before, Counter(fake.calls))
    assert_complete(stores["bulk"], fake, run)
    assert not [k for k in run if k.startswith("bulk")], dict(run)
    assert source["streams"]["leads"]["read"] == 1, source["streams"]


# -- 8. a sync killed, then run again ---------------------------------------------------------


@pytest.mark.parametrize(
    ("way", "kind", "nth", "how"),
    [
        # REST: killed as the fourth page of leads is asked for (three read).
        ("rest", "query_more:Lead", 3, signal.SIGKILL),
        # Bulk 2.0: the job's rows read in pages of 200, each page's history asked for in
        # one lookup after the run's probe and the history's count (the spool would cost
        # more): killed in the fourth page's (a page's leads are stored when the next
        # page's batches come), the leads of the pages before kept.
        ("bulk", "query:LeadHistory", 6, signal.SIGKILL),
        # Stopped (SIGTERM, as a service manager does) rather than killed.
        ("rest", "query_more:Lead", 3, signal.SIGTERM),
        # Killed in the touches, as the fourth page of tasks is asked for: the leads done.
        ("rest", "query_more:Task", 3, signal.SIGKILL),
    ],
    ids=["rest-SIGKILL", "bulk-SIGKILL", "rest-SIGTERM", "tasks-SIGKILL"],
)
def test_a_killed_sync_resumes_to_the_same_store(
    tmp_path: Path,
    make_fake_salesforce: Make,
    monkeypatch: pytest.MonkeyPatch,
    way: str,
    kind: str,
    nth: int,
    how: signal.Signals,
) -> None:
    fake = started(make_fake_salesforce, monkeypatch, leads=1_200, deleted=3)
    settings = {"page_size": PAGE, "window": ONE_WINDOW}
    if way == "bulk":
        settings["bulk_threshold"] = 100
    store_path = write_job(tmp_path, fake, **settings)
    status = signalled_sync(tmp_path, fake, kind, nth, how)
    assert status == (-signal.SIGKILL if how is signal.SIGKILL else 128 + how), status
    assert bool(fake.calls["bulk_create:Lead"]) is (way == "bulk"), dict(fake.calls)
    stream = "touches" if kind.endswith("Task") else "leads"
    stored = held(store_path)[stream]
    total = len(expected(fake.org, MAPPING)[stream])
    assert 0 < len(stored) < total, (len(stored), total, cursors(store_path))
    with SQLiteStore(store_path, read_only=True) as store:
        (run,) = store.runs(SOURCE)
    # Killed, nothing recorded its end (the next sync does); stopped, the run says partial.
    assert run.status == ("running" if how is signal.SIGKILL else "partial"), run

    before = Counter(fake.calls)
    source = sync_cli(tmp_path)
    calls = since(before, Counter(fake.calls))
    assert_complete(store_path, fake, calls)
    read = source["streams"][stream]
    shown = f"calls: {dict(calls)}; {stream}: {read}; stored before: {len(stored)}"
    if way == "bulk":
        # A Bulk job's rows come in no order (it is asked none): the load stopped in it is
        # read again from the window's start, by REST.
        assert read["read"] + read["rejected"] == 1_200, shown
        assert not calls["bulk_create:Lead"], shown
    else:
        # Resumed after the last stored batch, not from the start, and nothing left out.
        assert read["read"] + read["rejected"] < total, shown
        assert len(stored) + read["stored"] >= total, shown

    # And the same store as one uninterrupted sync of the same org.
    clean = tmp_path / "clean"
    clean.mkdir()
    write_job(clean, fake, **settings)
    sync_cli(clean)
    assert held(store_path) == held(clean / "store.db")
    with SQLiteStore(store_path, read_only=True) as store:
        runs = store.runs(SOURCE)
    assert [r.status for r in runs][-1] == "success", runs
