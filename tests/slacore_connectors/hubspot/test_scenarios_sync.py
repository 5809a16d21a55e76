"""Issue 13 (part A): the ``hubspot`` connector synced end to end against the fake HubSpot.

Each scenario ends with :func:`~tests.slacore_connectors.hubspot.oracle.assert_store_equals_fake`
(the store holds exactly what the fake holds, record for record, each once, nothing of a
deleted contact) and checks the API calls the sync made (``fake.calls`` and the sync's
notice "HubSpot API calls so far this run"), shown in its failure messages.
"""

from __future__ import annotations

import json
import math
import random
import re
import signal
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.cli import signalled_sync, slacore
from tests.fakes.hubspot import FakeHubSpot, Portal, Request
from tests.slacore_connectors.hubspot.oracle import (
    assert_store_equals_fake,
    expected,
    held,
)

pytest.importorskip("hubspot")

from slacore_connectors.jobs import JobConfig
from slacore_connectors.store.sqlite import SQLiteStore
from slacore_connectors.sync import SyncReport, run_sync

SOURCE = "hs"
#: The settings every scenario's job gives the connector: no client-side waits (the
#: defaults are HubSpot's real budget), a window ending a second before the run's start.
SETTINGS: dict[str, Any] = {"lag": "1s", "search_rate": 1000, "rate": 1000}
_TOLD = re.compile(r"HubSpot API calls so far this run: (\d+) \((.*)\)")


def write_job(folder: Path, fake: FakeHubSpot, **settings: Any) -> Path:
    """The job file of one ``hubspot`` source on ``fake``, its token from HUBSPOT_TOKEN."""
    lines = [f"{name} = {json.dumps(value)}" for name, value in {**SETTINGS, **settings}.items()]
    job = folder / "slacore.toml"
    job.write_text(
        'store = "store.db"\n\n[[sources]]\n'
        f'name = "{SOURCE}"\nconnector = "hubspot"\n\n[sources.settings]\n'
        'access_token = { env = "HUBSPOT_TOKEN" }\n'
        f'base_url = "{fake.url}"\n' + "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    return job


def sync_cli(folder: Path) -> dict[str, Any]:
    """``slacore sync --json`` in ``folder``: exit 0, its one JSON document's source."""
    done = slacore("sync", "--json", cwd=folder)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    (source,) = report["sources"]
    assert source["status"] == "success", source
    return dict(source)


def sync_here(folder: Path, fake: FakeHubSpot, **settings: Any) -> SyncReport:
    """The same job run in this process (no interpreter start: for the big portal)."""
    config = JobConfig.from_dict(
        {
            "store": "store.db",
            "sources": [
                {
                    "name": SOURCE,
                    "connector": "hubspot",
                    "settings": {
                        "access_token": {"env": "HUBSPOT_TOKEN"},
                        "base_url": fake.url,
                        **SETTINGS,
                        **settings,
                    },
                }
            ],
        },
        base=folder,
        environ={"HUBSPOT_TOKEN": fake.token},
    )
    report = run_sync(config)
    assert report.ok, report.to_dict()
    return report


def told_calls(notices: dict[str, list[str]] | Any) -> Counter[str]:
    """The API calls the sync's last notice says it made, by kind (``search``...)."""
    lines = [line for said in notices.values() for line in said if _TOLD.search(line)]
    assert lines, f"no notice tells the API calls: {notices}"
    match = _TOLD.search(lines[-1])
    assert match is not None
    kinds = Counter(
        {kind: int(count) for kind, count in (part.split() for part in match[2].split(", "))}
    )
    assert sum(kinds.values()) == int(match[1])
    return kinds


def by_kind(calls: Counter[str]) -> Counter[str]:
    """The fake's request counts (``search:contacts``...) summed by kind (``search``)."""
    kinds: Counter[str] = Counter()
    for name, count in calls.items():
        kinds[name.split(":")[0]] += count
    return kinds


def since(before: Counter[str], after: Counter[str]) -> Counter[str]:
    """The requests made between two copies of ``fake.calls``."""
    return after - before


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> Callable[[FakeHubSpot], None]:
    """Put a fake's token in HUBSPOT_TOKEN, for the CLI's subprocesses."""

    def put(fake: FakeHubSpot) -> None:
        monkeypatch.setenv("HUBSPOT_TOKEN", fake.token)

    return put


def first_sync(
    folder: Path, make: Callable[..., FakeHubSpot], token: Callable[[FakeHubSpot], None]
) -> tuple[FakeHubSpot, dict[str, Any]]:
    """A fake of 300 contacts with activity, 3 archived, 2 merged and 3 malformed values,
    synced once through the command line: the fake, and the sync's JSON of the source."""
    fake = make(seed=13, contacts=300, archived=3, merged=2, malformed=True)
    token(fake)
    write_job(folder, fake)
    return fake, sync_cli(folder)


# -- 1. a first sync through the command line ---------------------------------------------


def test_a_first_sync_through_the_cli_stores_exactly_the_portal(
    tmp_path: Path, make_fake_hubspot: Callable[..., FakeHubSpot], token: Any
) -> None:
    fake, source = first_sync(tmp_path, make_fake_hubspot, token)
    calls = Counter(fake.calls)
    assert_store_equals_fake(tmp_path / "store.db", fake.portal, calls=calls)
    # The sync tells the calls it made, and they are the ones the fake answered.
    assert told_calls(source["notices"]) == by_kind(calls), calls
    live = len(fake.portal.live("contacts"))
    assert calls["search:contacts"] == math.ceil(live / 200), calls
    assert calls["batch_read:contacts"] == math.ceil(live / 100), calls
    want = expected(fake.portal)
    assert source["streams"]["leads"]["stored"] == len(want["leads"]), source["streams"]


# -- 2. an incremental sync reads only what changed -----------------------------------------


def _without_deals(
    portal: Portal, count: int, *, skip: set[int], pick: random.Random | None = None
) -> list[int]:
    """Live, well-formed contacts with no deal (a deal keeps its lead when its contact goes:
    deals are not read again when a contact is deleted): the first ones, or ``pick``'s."""
    with_deals = set(portal.associations.get(("contacts", "deals"), {}))
    bad = {object_id for kind, object_id, *_ in portal.malformed if kind == "contacts"}
    chosen = [
        c.id
        for c in sorted(portal.live("contacts"), key=lambda c: c.id)
        if c.id not in with_deals | bad | skip
    ]
    return pick.sample(chosen, count) if pick else chosen[:count]


def test_an_incremental_sync_reads_only_the_changes(
    tmp_path: Path, make_fake_hubspot: Callable[..., FakeHubSpot], token: Any
) -> None:
    fake, _ = first_sync(tmp_path, make_fake_hubspot, token)
    before = Counter(fake.calls)
    portal = fake.portal
    # Inside the next window: after the last window's end less the lookback, before now
    # less the lag.
    at = datetime.now(UTC) - timedelta(seconds=5)
    changed = _without_deals(portal, 3, skip=set())
    gone, kept, merged = _without_deals(portal, 3, skip=set(changed))
    owners = [str(o.id) for o in portal.owners if not o.archived]
    with fake.paused():
        portal.set_property("contacts", changed[0], "lifecyclestage", "customer", at=at)
        portal.set_property("contacts", changed[1], "hubspot_owner_id", owners[-1], at=at)
        portal.set_property("contacts", changed[2], "industry", "RETAIL", at=at)
        calls = sorted(
            c.id
            for c in portal.live("calls")
            if c.properties.get("hs_call_direction") == "OUTBOUND"
            and len(portal.associations[("calls", "contacts")][c.id]) == 1
            and portal.associations[("calls", "contacts")][c.id][0] not in {gone, merged}
        )[:2]
        for call in calls:
            portal.set_property("calls", call, "hs_call_duration", "61000", at=at)
        deal = min(d.id for d in portal.live("deals") if d.properties["amount"] != "12k")
        portal.set_property("deals", deal, "amount", "1234.50", at=at)
        portal.archive("contacts", gone, at=at)
        portal.merge("contacts", kept, merged, at=at)
    lost = held(tmp_path / "store.db")
    assert any(lead.id == str(gone) for lead in lost["leads"])  # stored by the first sync

    source = sync_cli(tmp_path)
    run = since(before, Counter(fake.calls))
    streams = source["streams"]
    shown = f"calls this run: {dict(run)}; streams: {streams}"
    assert_store_equals_fake(tmp_path / "store.db", portal, calls=run)
    assert told_calls(source["notices"]) == by_kind(run), shown
    # Only the changes: the three contacts and the survivor of the merge, two calls, a deal.
    assert streams["leads"]["read"] == 4, shown
    assert streams["leads"]["deleted"] == 2, shown  # the archived one and the merged one
    assert streams["touches"]["read"] == 2, shown
    assert streams["deals"]["read"] == 1, shown
    assert run["search:contacts"] == 1, shown
    assert run["batch_read:contacts"] == 1, shown
    assert run["search:calls"] == run["search:deals"] == 1, shown
    assert run["search:emails"] == run["search:meetings"] == 1, shown
    # Of the deleted contacts, nothing is current: neither the leads nor their events.
    have = held(tmp_path / "store.db")
    for records in have.values():
        leads = {getattr(r, "lead_id", getattr(r, "id", None)) for r in records}
        assert not leads & {str(gone), str(merged)}, shown


def _change_at_random(portal: Portal, rng: random.Random, at: datetime) -> list[str]:
    """A few random edits, archives and merges, as users make them between two syncs; what
    was done, for the failure message. Contacts with deals are not deleted and calls keep
    their owner and time (see the xfail test of touches at the end)."""
    done: list[str] = []
    owners = [str(o.id) for o in portal.owners if not o.archived]
    contacts = sorted(c.id for c in portal.live("contacts"))
    for contact in rng.sample(contacts, 4):
        name, value = rng.choice(
            [
                ("hubspot_owner_id", rng.choice(owners)),
                ("lifecyclestage", rng.choice(("lead", "marketingqualifiedlead", "customer"))),
                ("hs_analytics_source", "REFERRALS"),
            ]
        )
        portal.set_property("contacts", contact, name, value, at=at)
        done.append(f"contact {contact} {name}={value}")
    for deal in rng.sample(sorted(d.id for d in portal.live("deals")), 2):
        portal.set_property("deals", deal, "amount", str(rng.randint(100, 9_000)), at=at)
        done.append(f"deal {deal} amount")
    for call in rng.sample(sorted(c.id for c in portal.live("calls")), 2):
        portal.set_property("calls", call, "hs_call_duration", "1000", at=at)
        done.append(f"call {call} duration")
    gone, kept, merged = _without_deals(portal, 3, skip=set(), pick=rng)
    portal.archive("contacts", gone, at=at)
    portal.merge("contacts", kept, merged, at=at)
    done.append(f"contact {gone} archived, {merged} merged into {kept}")
    return done


@pytest.mark.parametrize("seed", [1, 7])
def test_syncs_between_random_changes_keep_the_store_equal_to_the_fake(
    tmp_path: Path, make_fake_hubspot: Callable[..., FakeHubSpot], seed: int
) -> None:
    fake = make_fake_hubspot(seed=seed, contacts=150, archived=2, merged=1)
    rng = random.Random(seed)
    sync_here(tmp_path, fake, page_size=40)
    for _ in range(3):
        with fake.paused() as portal:
            done = _change_at_random(portal, rng, datetime.now(UTC) - timedelta(seconds=2))
        before = Counter(fake.calls)
        sync_here(tmp_path, fake, page_size=40)
        run = since(before, Counter(fake.calls))
        assert run["search:contacts"] == 1, (done, dict(run))
        assert_store_equals_fake(tmp_path / "store.db", fake.portal, calls=run)


# -- 3. records modified while the sync reads -----------------------------------------------


def test_contacts_changed_during_a_sync_are_read_by_the_next(
    tmp_path: Path, make_fake_hubspot: Callable[..., FakeHubSpot]
) -> None:
    fake = make_fake_hubspot(seed=5, contacts=300, activity=False)
    portal = fake.portal
    ids = sorted(c.id for c in portal.live("contacts"))
    read_first, read_later, left_behind = ids[10], ids[250], ids[260]
    changes: list[str] = []
    moved: list[datetime] = []

    def reassign(contact: int, at: datetime) -> None:
        owner = portal.objects["contacts"][contact].properties["hubspot_owner_id"]
        portal.set_property("contacts", contact, "hubspot_owner_id", other[owner], at=at)

    owners = [str(o.id) for o in portal.owners if not o.archived]
    other = {owner: owners[(i + 1) % len(owners)] for i, owner in enumerate(owners)}
    other.update({str(o.id): owners[0] for o in portal.owners if o.archived})

    def during(request: Request) -> None:
        # Once the first page of contacts is read whole (the second page's batch read comes):
        changes.append(request.kind)
        if changes.count("batch_read:contacts") == 2 and request.kind == "batch_read:contacts":
            now = datetime.now(UTC)
            # Already read this run, changed inside the next run's lookback: the next reads it.
            reassign(read_first, now - timedelta(minutes=5))
            # Not read yet, still in this run's window: this run reads it as it is now.
            reassign(read_later, now - timedelta(minutes=5))
            # Not read yet, moved past this run's window: the next run reads it.
            reassign(left_behind, now)
            moved.append(now)

    fake.before_request = during
    sync_here(tmp_path, fake, page_size=100)
    assert changes.count("batch_read:contacts") == 3, changes
    fake.before_request = None
    stale = {lead.id: lead for lead in held(tmp_path / "store.db")["leads"]}
    want = {lead.id: lead for lead in expected(portal)["leads"]}
    assert stale[str(read_later)] == want[str(read_later)]
    assert stale[str(read_first)] != want[str(read_first)]
    assert str(left_behind) not in stale  # it left the window before this run came to it
    with pytest.raises(AssertionError, match="leads records"):
        assert_store_equals_fake(tmp_path / "store.db", portal)

    # A window ends ``lag`` (1s) before its run starts: the next run starts after that.
    time.sleep(max(0.0, (moved[0] + timedelta(seconds=1.1) - datetime.now(UTC)).total_seconds()))
    before = Counter(fake.calls)
    report = sync_here(tmp_path, fake, page_size=100)
    run = since(before, Counter(fake.calls))
    assert_store_equals_fake(tmp_path / "store.db", portal, calls=run)
    (source,) = report.sources
    # The three changed during the last run are read again (in the lookback), nothing else.
    assert source.streams["leads"].read == 3, (dict(run), source.streams)
    assert run["search:contacts"] == 1, dict(run)


def test_a_change_the_search_shows_late_is_read_by_the_next_sync(
    tmp_path: Path, make_fake_hubspot: Callable[..., FakeHubSpot]
) -> None:
    fake = make_fake_hubspot(seed=6, contacts=120, activity=False)
    portal = fake.portal
    fake.search_lag = timedelta(seconds=2)  # HubSpot's index is behind: past the 1s lag
    contact = min(c.id for c in portal.live("contacts"))
    changed: list[datetime] = []

    def late(request: Request) -> None:
        if request.kind == "search:contacts" and not changed:
            # Inside this run's window (it ends 1s before the run's start), not yet searchable.
            changed.append(datetime.now(UTC) - timedelta(seconds=1.5))
            portal.set_property("contacts", contact, "industry", "RETAIL", at=changed[0])
            portal.set_property("contacts", contact, "lifecyclestage", "customer", at=changed[0])

    fake.before_request = late
    sync_here(tmp_path, fake)
    fake.before_request = None
    assert str(contact) not in {lead.id for lead in held(tmp_path / "store.db")["leads"]}
    time.sleep(max(0.0, (changed[0] + timedelta(seconds=2.1) - datetime.now(UTC)).total_seconds()))
    before = Counter(fake.calls)
    report = sync_here(tmp_path, fake)
    run = since(before, Counter(fake.calls))
    assert_store_equals_fake(tmp_path / "store.db", portal, calls=run)
    (source,) = report.sources
    assert source.streams["leads"].read == 1, (dict(run), source.streams)


# -- 4. more than 10,000 in one window, and in one instant ----------------------------------


def test_more_than_ten_thousand_in_one_instant_are_read_each_once(
    tmp_path: Path, make_fake_hubspot: Callable[..., FakeHubSpot]
) -> None:
    # Contacts and owners only (the SCENARIO has 25,000 with activity: minutes).
    fake = make_fake_hubspot(seed=13, contacts=10_300, same_instant=10_200, activity=False)
    instants = Counter(c.modified for c in fake.portal.live("contacts"))
    assert instants.most_common(1)[0][1] == 10_200 > 10_000  # past the search cap, in 1 ms
    report = sync_here(tmp_path, fake)
    calls = Counter(fake.calls)
    assert_store_equals_fake(tmp_path / "store.db", fake.portal, calls=calls)
    (source,) = report.sources
    leads = source.streams["leads"]
    shown = f"calls: {dict(calls)}; leads: {leads}"
    assert told_calls(source.notices) == by_kind(calls), shown
    assert leads.read + leads.rejected == 10_300, shown
    # A page of 200 after another, never the same twice, never past the cap: no loop.
    assert calls["search:contacts"] == math.ceil(10_300 / 200), shown
    assert calls["batch_read:contacts"] == math.ceil(10_300 / 100), shown


# -- 5. a sync killed, then run again -------------------------------------------------------


def stopped_sync(folder: Path, fake: FakeHubSpot, reads: int, how: signal.Signals) -> int:
    """``slacore sync`` in a subprocess, sent ``how`` by the fake when the contacts'
    ``reads``-th batch read comes (the pages before it stored by then); its exit status."""
    return signalled_sync(folder, fake, "batch_read:contacts", reads, how)


def leads_cursor(store_path: Path) -> dict[str, Any]:
    """The state of the leads stream's cursor in the store."""
    with SQLiteStore(store_path, read_only=True) as store:
        cursor = store.cursor(SOURCE, "leads")
    assert cursor is not None
    return dict(cursor.state)


@pytest.mark.parametrize(
    ("how", "status"),
    [(signal.SIGKILL, -signal.SIGKILL), (signal.SIGTERM, 143)],
    ids=["SIGKILL", "SIGTERM"],
)
def test_a_stopped_sync_resumes_where_it_stopped(
    tmp_path: Path,
    make_fake_hubspot: Callable[..., FakeHubSpot],
    token: Any,
    how: signal.Signals,
    status: int,
) -> None:
    fake = make_fake_hubspot(seed=21, contacts=600, archived=2, merged=1)
    token(fake)
    write_job(tmp_path, fake, page_size=50)
    store_path = tmp_path / "store.db"
    assert stopped_sync(tmp_path, fake, 5, how) == status
    first = Counter(fake.calls)
    # Stopped inside the contacts' window, some pages stored.
    state = leads_cursor(store_path)
    assert "contacts.after" in state, state
    assert "contacts.modified" not in state, state
    stored = {lead.id for lead in held(store_path)["leads"]}
    live = len(fake.portal.live("contacts"))
    assert 0 < len(stored) < live, (len(stored), live)
    with SQLiteStore(store_path, read_only=True) as store:
        (run,) = store.runs(SOURCE)
    # SIGTERM: the run says partial; killed, it still says running until the next sync.
    assert run.status == ("running" if how is signal.SIGKILL else "partial"), run

    source = sync_cli(tmp_path)
    calls = since(first, Counter(fake.calls))
    assert_store_equals_fake(store_path, fake.portal, calls=calls)
    # The rest only: the contacts after the last one stored, none read twice.
    leads = source["streams"]["leads"]
    shown = f"calls: {dict(calls)}; leads: {leads}; stored before: {len(stored)}"
    after = int(state["contacts.after"])
    rest = [c.id for c in fake.portal.live("contacts") if c.id > after]
    assert leads["read"] + leads["rejected"] == len(rest), shown
    assert leads["unchanged"] == 0, shown
    assert len(stored) + leads["read"] == len(expected(fake.portal)["leads"]), shown
    # The stopped window's rest, then the window since it up to now (nothing changed: one
    # empty page).
    assert calls["search:contacts"] == math.ceil(len(rest) / 50) + 1, shown
    with SQLiteStore(store_path, read_only=True) as store:
        runs = store.runs(SOURCE)
    assert [r.status for r in runs] == ["partial", "success"], runs


# -- known limits, pinned so that their fix is seen -----------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="a touch is keyed by its lead, rep, time and channel, not by the call it comes "
    "from (slacore.model.Touch has no engagement id): a call given another owner leaves its "
    "former touch current beside the new one, and a deleted call's touch stays (the "
    "connector reads no archived engagements, and could not name the touch to delete)",
)
@pytest.mark.parametrize("change", ["reassigned", "deleted"])
def test_a_changed_call_keeps_one_touch(
    tmp_path: Path, make_fake_hubspot: Callable[..., FakeHubSpot], change: str
) -> None:
    fake = make_fake_hubspot(seed=13, contacts=40)
    sync_here(tmp_path, fake)
    portal = fake.portal
    call = min(
        c.id for c in portal.live("calls") if c.properties["hs_call_direction"] == "OUTBOUND"
    )
    at = datetime.now(UTC) - timedelta(seconds=5)
    if change == "deleted":
        portal.archive("calls", call, at=at)
    else:
        owner = portal.objects["calls"][call].properties["hubspot_owner_id"]
        other = next(str(o.id) for o in portal.owners if str(o.id) != owner)
        portal.set_property("calls", call, "hubspot_owner_id", other, at=at)
    sync_here(tmp_path, fake)
    assert_store_equals_fake(tmp_path / "store.db", portal, calls=fake.calls)
