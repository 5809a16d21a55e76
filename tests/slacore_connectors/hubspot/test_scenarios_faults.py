"""HubSpot's faults, each through a real ``slacore sync`` (the command line in a subprocess)
against the fake HubSpot: 429s retried on GET and POST, the daily limit ending the run
cleanly and a rerun going on from the last stored batch, 207 partial answers re-asked (and
rejected when they persist), an expired token, malformed values rejected with their reason,
archived and merged contacts deleted. Each ends, where the run completes, with the store
holding exactly what the fake holds (the oracle), and shows the API calls made (issue 13)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.cli import slacore
from tests.fakes.hubspot import FakeHubSpot, Request

pytest.importorskip("hubspot")

from tests.slacore_connectors.hubspot.oracle import (
    assert_store_equals_fake,
    differences,
    expected,
    expected_rejected,
    held,
    held_rejected,
)

from slacore.connector import RejectedRecord
from slacore_connectors.store.sqlite import SQLiteStore
from slacore_connectors.sync import JobConfig, run_sync

PAGE = 10
"""Contacts a search page asks for: 30 contacts are three pages, three batch reads."""
CONTACT_STREAMS = ("leads", "stage_changes", "owner_changes", "handoffs")


Start = Callable[..., tuple[FakeHubSpot, Path]]
"""Starts a fake HubSpot over a generated portal and writes the job file reading it."""


@pytest.fixture
def start(
    make_fake_hubspot: Callable[..., FakeHubSpot], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Start:
    """A fake HubSpot of 30 contacts (``generate_portal``'s arguments change it), its token in
    the environment the command line inherits (``HUBSPOT_TOKEN``), the job file in
    ``tmp_path``: the fake and the store's path."""

    def begin(**portal: Any) -> tuple[FakeHubSpot, Path]:
        fake = make_fake_hubspot(**{"seed": 13, "contacts": 30, **portal})
        monkeypatch.setenv("HUBSPOT_TOKEN", fake.token)
        return fake, write_job(tmp_path, fake)

    return begin


def write_job(folder: Path, fake: FakeHubSpot) -> Path:
    """The job file: one ``hubspot`` source on the fake, with no client-side waits."""
    (folder / "slacore.toml").write_text(
        'store = "store.db"\n\n[[sources]]\nname = "hs"\nconnector = "hubspot"\n\n'
        '[sources.settings]\naccess_token = { env = "HUBSPOT_TOKEN" }\n'
        f'base_url = "{fake.url}"\nlag = "1s"\npage_size = {PAGE}\n'
        "search_rate = 1000\nrate = 1000\n"
    )
    return folder / "store.db"


def sync(folder: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """``slacore sync --json`` in ``folder``: the finished process and its JSON report."""
    done = slacore("sync", "--json", cwd=folder)
    assert "Traceback" not in done.stderr, done.stderr
    return done, json.loads(done.stdout)


def said(done: subprocess.CompletedProcess[str]) -> list[str]:
    """What the command said on stderr besides its progress lines (``hs: leads: +10 records``)."""
    return [line for line in done.stderr.splitlines() if line.startswith("slacore: ")]


def stamped(fake: FakeHubSpot) -> dict[int, float]:
    """When each request reached the fake (monotonic seconds), by request number."""
    arrived: dict[int, float] = {}

    def note(request: Request) -> None:
        arrived[request.number] = time.monotonic()

    fake.before_request = note
    return arrived


def of_kind(fake: FakeHubSpot, prefix: str) -> list[Request]:
    return [request for request in fake.requests if request.kind.startswith(prefix)]


def rejected(store_path: Path) -> list[RejectedRecord]:
    with SQLiteStore(store_path) as store:
        return store.rejected()


def assert_complete(store_path: Path, fake: FakeHubSpot) -> None:
    """The oracle: the store holds exactly what the fake holds (the API calls told on failure)."""
    assert_store_equals_fake(store_path, fake.portal, calls=fake.calls)


# -- 429 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("retry_after", [None, "1"], ids=["backoff", "retry-after"])
def test_a_429_on_get_and_on_post_is_retried_and_the_sync_completes(
    start: Start,
    tmp_path: Path,
    retry_after: str | None,
) -> None:
    fake, store_path = start()
    # One 429 each: the owners list (GET), a search and a batch read (POST).
    for kind, method in (("owners", "GET"), ("search", "POST"), ("batch_read", "POST")):
        fake.rate_limit(kind=kind, method=method, retry_after=retry_after)
    arrived = stamped(fake)
    done, report = sync(tmp_path)
    assert done.returncode == 0, done.stderr
    assert report["sources"][0]["status"] == "success"
    assert_complete(store_path, fake)
    # Three contact pages, three batch reads, two owner lists: each kind one call more.
    assert (fake.calls["search:contacts"], fake.calls["batch_read:contacts"]) == (4, 4)
    assert fake.calls["owners"] == 3
    # The sync tells the calls it made, retries included, as the fake counted them.
    told = report["sources"][0]["notices"]["reps"][-1]
    assert told.startswith(f"HubSpot API calls so far this run: {fake.calls.total()} (")
    assert "owners 3" in told
    # Each refused call was made again, the same, a second later (Retry-After, or the
    # first step of the exponential backoff: both 1 s here).
    for prefix in ("owners", "search:contacts", "batch_read:contacts"):
        refused, retried, *_ = of_kind(fake, prefix)
        assert (retried.path, retried.query, retried.body) == (
            refused.path,
            refused.query,
            refused.body,
        ), prefix
        assert retried.number == refused.number + 1, prefix
        assert arrived[retried.number] - arrived[refused.number] >= 0.9, prefix


# -- the daily limit -------------------------------------------------------------------------


def from_request(fake: FakeHubSpot, kind: str, nth: int, fault: Callable[[], None]) -> None:
    """Inject ``fault`` when the ``nth`` request of ``kind`` comes (it meets the fault)."""

    def inject(request: Request) -> None:
        if request.kind == kind and len(of_kind(fake, kind)) == nth:
            fault()

    fake.before_request = inject


@pytest.mark.parametrize("retry_after", ["3600", None], ids=["retry-after", "midnight"])
def test_the_daily_limit_ends_the_sync_and_a_rerun_goes_on_from_the_last_stored_batch(
    start: Start,
    tmp_path: Path,
    retry_after: str | None,
) -> None:
    fake, store_path = start()
    # Two pages of contacts read and stored; the third page's batch read hits the limit.
    from_request(
        fake,
        "batch_read:contacts",
        3,
        lambda: fake.rate_limit(policy="DAILY", retry_after=retry_after),
    )
    done, report = sync(tmp_path)
    assert done.returncode == 1
    assert len(said(done)) == 1, done.stderr
    (line,) = said(done)
    assert "HubSpot's daily API limit is used up: rerun after " in line
    if retry_after is None:
        assert "midnight in the HubSpot account's time zone" in line
    else:
        rerun = datetime.strptime(line.rsplit(" ", 1)[-1], "%Y-%m-%dT%H:%M:%SZ")
        soon = datetime.now(UTC) + timedelta(seconds=3600)
        assert abs(rerun.replace(tzinfo=UTC) - soon) < timedelta(minutes=1)
    # Nothing was asked of HubSpot after the limit: the other streams made no call.
    assert fake.requests[-1].kind == "batch_read:contacts"
    assert len(of_kind(fake, "batch_read:contacts")) == 3
    assert not of_kind(fake, "search:calls")
    assert not of_kind(fake, "owners")
    source = report["sources"][0]
    assert source["status"] == "failed"
    # Both pages read whole before the limit are stored, the API calls made told with them.
    stored = source["streams"]["leads"]["batches"]
    assert stored == 2
    assert source["notices"]["leads"][-1].startswith("HubSpot API calls so far this run: ")
    # The cursor is that of the last stored leads batch: its window read up to the last id of
    # that batch's page, every contact up to it stored (as a lead, or rejected), none after.
    pages = [[r["id"] for r in read.body["inputs"]] for read in of_kind(fake, "batch_read:c")]
    with SQLiteStore(store_path) as store:
        cursor = store.cursor("hs", "leads")
        ids = {lead.id for lead in store.records("leads")}
        ids |= {r.record_id for r in store.rejected() if r.stream.value == "leads"}
    assert cursor is not None
    assert "contacts.modified" not in cursor.state  # the window is not done
    after = pages[stored - 1][-1]
    assert cursor.state["contacts.after"] == after
    assert ids == {given for page in pages[:stored] for given in page}
    # The limit lifted, a rerun goes on after that id and completes.
    fake.before_request = None
    first_run = len(fake.requests)
    done, report = sync(tmp_path)
    assert done.returncode == 0, done.stderr
    resumed = next(r for r in fake.requests[first_run:] if r.kind == "search:contacts")
    gt = {"propertyName": "hs_object_id", "operator": "GT", "value": after}
    assert gt in resumed.body["filterGroups"][0]["filters"]
    assert_complete(store_path, fake)


# -- 207 partial answers ---------------------------------------------------------------------


@pytest.mark.parametrize("persistent", [False, True], ids=["once", "persistent"])
def test_contacts_a_batch_read_leaves_out_are_asked_again_then_rejected_naming_why(
    start: Start,
    tmp_path: Path,
    persistent: bool,
) -> None:
    fake, store_path = start()
    # Two contacts of the first page that the batch read answers 207 (left out).
    unanswered = sorted((str(c.id) for c in fake.portal.live("contacts")), key=int)[2:4]
    fake.partial_ids = set(unanswered)

    def answered_from_the_second_read(request: Request) -> None:
        if request.kind == "batch_read:contacts" and len(of_kind(fake, "batch_read:")) == 2:
            fake.partial_ids = set()

    if not persistent:
        fake.before_request = answered_from_the_second_read
    done, _ = sync(tmp_path)
    assert done.returncode == 0, done.stderr
    first, again, *_ = of_kind(fake, "batch_read:contacts")
    assert len(first.body["inputs"]) == PAGE
    assert [given["id"] for given in again.body["inputs"]] == unanswered  # asked once more
    kept = {r.record_id: r for r in rejected(store_path) if r.record_id in unanswered}
    if not persistent:
        assert not kept
        assert_complete(store_path, fake)
        return
    assert sorted(kept) == unanswered
    for record in kept.values():
        assert record.stream.value == "leads"
        assert record.reason.startswith("HubSpot's batch read did not answer this contact")
        assert "Could not get some CONTACT objects" in record.reason  # HubSpot's own words
        assert record.source == "HubSpot contacts"
    # Nothing else lost: the oracle's records, less the two contacts' lead and events, which
    # are rejected instead.
    want = {
        stream: {r for r in records if getattr(r, "lead_id", getattr(r, "id", None)) not in kept}
        if stream in CONTACT_STREAMS
        else records
        for stream, records in expected(fake.portal).items()
    }
    want_rejected = expected_rejected(fake.portal)
    want_rejected["leads"] |= set(unanswered)
    assert not differences(want, held(store_path))
    assert not differences(want_rejected, held_rejected(store_path), "rejected ids")


# -- an expired token ------------------------------------------------------------------------


@pytest.mark.parametrize("mid_sync", [False, True], ids=["at-start", "mid-sync"])
def test_an_expired_token_is_one_line_naming_the_setting_and_never_shown(
    start: Start,
    tmp_path: Path,
    mid_sync: bool,
) -> None:
    fake, store_path = start()
    if mid_sync:  # two pages of contacts stored, then the token expires
        from_request(fake, "batch_read:contacts", 3, lambda: setattr(fake, "expired", True))
    else:
        fake.expired = True
    done, report = sync(tmp_path)
    assert done.returncode == 1
    assert len(said(done)) == 1, done.stderr
    (line,) = said(done)
    assert line.startswith("slacore: error: hs: leads, touches, deals, reps: refused: ")
    assert "HubSpot refused the access token (401): check the access_token setting" in line
    # The refused call was the last: no stream called HubSpot after it.
    last = "batch_read:contacts" if mid_sync else "properties:contacts"
    assert fake.requests[-1].kind == last
    assert len(fake.requests) == (7 if mid_sync else 1)  # the check, 3 searches, 3 reads
    source = report["sources"][0]
    assert source["status"] == "failed"
    assert source["streams"]["leads"]["batches"] == (2 if mid_sync else 0)
    with SQLiteStore(store_path) as store:
        (run,) = store.runs()
    assert run.error is not None
    assert "access_token" in run.error
    token = fake.token
    assert token not in done.stdout + done.stderr + run.error
    for path in tmp_path.glob("store.db*"):
        assert token.encode() not in path.read_bytes(), path.name
    # A good token again, the rerun completes.
    fake.expired = False
    fake.before_request = None
    done, _ = sync(tmp_path)
    assert done.returncode == 0, done.stderr
    assert_complete(store_path, fake)


# -- malformed values ------------------------------------------------------------------------


def test_malformed_values_are_rejected_with_their_reason_and_nothing_else_is_lost(
    start: Start,
    tmp_path: Path,
) -> None:
    fake, store_path = start(malformed=True)
    done, _ = sync(tmp_path)
    assert done.returncode == 0, done.stderr
    kept = {(r.stream.value, r.record_id): r for r in rejected(store_path)}
    streams = {"contacts": "leads", "deals": "deals"}
    assert len(fake.portal.malformed) == 3
    for object_type, object_id, name, value in fake.portal.malformed:
        record = kept[(streams[object_type], str(object_id))]
        assert record.field == name, record
        assert value in record.reason, record
        assert record.raw.get(name) == value, record
    assert_complete(store_path, fake)


# -- archived and merged contacts ------------------------------------------------------------


def test_archived_and_merged_contacts_leave_the_store_and_stay_in_its_past(
    start: Start,
    tmp_path: Path,
) -> None:
    fake, store_path = start()
    done, _ = sync(tmp_path)
    assert done.returncode == 0, done.stderr
    between = datetime.now(UTC)
    with SQLiteStore(store_path) as store:
        handed = {h.lead_id for h in store.records("handoffs")}
        touched = {t.lead_id for t in store.records("touches")}
    # Two contacts with a hand-off and touches: one archived, one merged into a third.
    gone = sorted(handed & touched, key=int)[:2]
    archived, merged = (int(given) for given in gone)
    survivor = next(c.id for c in fake.portal.live("contacts") if str(c.id) not in gone)
    with fake.paused() as portal:
        portal.archive("contacts", archived)
        portal.merge("contacts", survivor, merged)
    time.sleep(1.2)  # past the lag: the survivor's change is in the next window
    calls = len(fake.requests)
    done, report = sync(tmp_path)
    assert done.returncode == 0, done.stderr
    leads = report["sources"][0]["streams"]["leads"]
    assert leads["deleted"] == 2
    assert {r.kind for r in fake.requests[calls:]} >= {"list:contacts", "search:contacts"}
    with SQLiteStore(store_path) as store:
        now = {stream: list(store.records(stream)) for stream in ("leads", "handoffs", "touches")}
        before = {
            stream: list(store.records(stream, as_of=between))
            for stream in ("leads", "handoffs", "touches")
        }
    assert not {lead.id for lead in now["leads"]} & set(gone)
    assert not {h.lead_id for h in now["handoffs"]} & set(gone)
    assert not {t.lead_id for t in now["touches"]} & set(gone)
    assert set(gone) <= {lead.id for lead in before["leads"]}
    assert set(gone) <= {h.lead_id for h in before["handoffs"]}
    assert set(gone) <= {t.lead_id for t in before["touches"]}
    assert_complete(store_path, fake)


def test_streams_refused_for_one_reason_are_one_line_of_the_summary(
    fake_hubspot: FakeHubSpot, tmp_path: Path
) -> None:
    fake_hubspot.expired = True
    config = JobConfig.from_dict(
        {
            "store": "store.db",
            "sources": [
                {
                    "name": "hs",
                    "connector": "hubspot",
                    "settings": {
                        "access_token": {"env": "HUBSPOT_TOKEN"},
                        "base_url": fake_hubspot.url,
                    },
                }
            ],
        },
        base=tmp_path,
        environ={"HUBSPOT_TOKEN": fake_hubspot.token},
    )
    text = run_sync(config).to_text()
    refused = [line for line in text.splitlines() if ": refused: " in line]
    assert refused == [
        "- leads, touches, deals, reps: refused: HubSpot refused the access token (401): check "
        "the access_token setting (a private app's token, not expired, not revoked)"
    ]
