"""Salesforce's faults, each through a real ``slacore sync`` (the command line in a
subprocess) against the fake Salesforce: ``QUERY_TIMEOUT`` narrowing the window,
``REQUEST_LIMIT_EXCEEDED`` and the run's daily share ending the run cleanly with the cursor
kept (REST and Bulk 2.0), an expired session logged in again (username and password, client
credentials) or one clear line (``session_id`` alone, the secret never shown), Salesforce
unavailable once, malformed values rejected with their reason and record id (their rejection
leaving once they are corrected), a mapped field the org lacks, field history tracking off.
Each ends, where the run completes, with the store holding exactly what the fake org holds
(the oracle)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from tests.fakes.salesforce import FakeSalesforce, Request
from tests.slacore_connectors.salesforce.oracle import (
    MAPPING,
    assert_store_equals_fake,
    held,
)
from tests.slacore_connectors.salesforce.scenario import (
    ONE_WINDOW,
    SOURCE,
    cursors,
    is_window_query,
    put_secrets,
    recently,
    run_cli,
    said,
    since,
    sync_cli,
    window,
    write_job,
)

pytest.importorskip("simple_salesforce")

from slacore.connector import RejectedRecord
from slacore_connectors.salesforce.mapping import NO_HISTORY
from slacore_connectors.store.sqlite import SQLiteStore

Make = Callable[..., FakeSalesforce]
PAGE = 200


@pytest.fixture
def begin(
    make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., tuple[FakeSalesforce, Path]]:
    """A fake Salesforce over ``generate_org(seed=14, leads=600, **org)`` (one window, pages
    of 200: three of leads), its secrets in the environment, the job file in ``tmp_path``:
    the fake and the store's path. ``settings=`` adds settings, ``credentials=`` picks the
    set."""

    def start(
        *, credentials: str = "password", settings: dict[str, Any] | None = None, **org: Any
    ) -> tuple[FakeSalesforce, Path]:
        fake = make_fake_salesforce(**{"seed": 14, "leads": 600, **org})
        put_secrets(monkeypatch, fake)
        store_path = write_job(
            tmp_path,
            fake,
            credentials,
            **{"page_size": PAGE, "window": ONE_WINDOW, **(settings or {})},
        )
        return fake, store_path

    return start


def assert_complete(store_path: Path, fake: FakeSalesforce) -> None:
    """The oracle, with the scenarios' mapping; the API calls told on failure."""
    assert_store_equals_fake(store_path, fake.org, MAPPING, calls=fake.calls)


def on_request(fake: FakeSalesforce, kind: str, nth: int, fault: Callable[[], None]) -> None:
    """Inject ``fault`` when the ``nth`` request of ``kind`` comes (that request meets it)."""
    seen: list[int] = []

    def inject(request: Request) -> None:
        if request.kind == kind:
            seen.append(request.number)
            if len(seen) == nth:
                fault()

    fake.before_request = inject


def used_up(fake: FakeSalesforce) -> None:
    """The org's daily API allocation used up from this request on: every data request is
    answered ``REQUEST_LIMIT_EXCEEDED`` (until ``api_max`` is raised)."""
    fake.api_max = fake.api_used


def of_kind(fake: FakeSalesforce, prefix: str) -> list[Request]:
    return [request for request in fake.requests if request.kind.startswith(prefix)]


def rejected(store_path: Path) -> list[RejectedRecord]:
    with SQLiteStore(store_path, read_only=True) as store:
        return store.rejected()


# -- QUERY_TIMEOUT ----------------------------------------------------------------------------


def windowed(fake: FakeSalesforce, kind: str) -> list[Request]:
    """The requests of ``kind`` that read rows by a window (not counts, not lookups)."""
    return [request for request in of_kind(fake, kind) if is_window_query(request)]


def test_a_query_timeout_halves_the_window_and_everything_is_read(
    begin: Callable[..., tuple[FakeSalesforce, Path]], tmp_path: Path
) -> None:
    fake, store_path = begin(leads=300)
    timed_out: list[int] = []

    def time_out(request: Request) -> None:
        # The first two window queries of leads run too long.
        if request in windowed(fake, "queryAll:Lead") and len(timed_out) < 2:
            timed_out.append(request.number)
            fake.fail("QUERY_TIMEOUT")

    fake.before_request = time_out
    source = sync_cli(tmp_path)
    fake.before_request = None
    assert_complete(store_path, fake)
    queries = windowed(fake, "queryAll:Lead")
    shown = f"windows: {[window(r) for r in queries]}"
    assert [r.number for r in queries[:2]] == timed_out, shown
    (start, end), (start2, end2), (start3, end3) = (window(r) for r in queries[:3])
    assert start == start2 == start3, shown
    width = end - start
    assert abs((end2 - start2) - width / 2) <= timedelta(seconds=1), shown
    assert abs((end3 - start3) - width / 4) <= timedelta(seconds=1), shown
    leads = source["streams"]["leads"]
    assert leads["read"] + leads["rejected"] == 300, leads


def test_windows_too_wide_for_salesforce_are_narrowed_until_each_answers(
    begin: Callable[..., tuple[FakeSalesforce, Path]], tmp_path: Path
) -> None:
    # Any query matching more than 150 rows times out: a whole history in one window would.
    fake, store_path = begin(leads=300)
    fake.query_timeout_rows = 150
    sync_cli(tmp_path)
    fake.query_timeout_rows = None
    assert_complete(store_path, fake)
    assert fake.calls["queryAll:Lead"] > 2, dict(fake.calls)


# -- limits ------------------------------------------------------------------------------------


def test_request_limit_exceeded_mid_sync_stops_cleanly_and_a_rerun_completes(
    begin: Callable[..., tuple[FakeSalesforce, Path]], tmp_path: Path
) -> None:
    fake, store_path = begin()
    # Two pages of leads read; the third page's request meets the org's limit, and every
    # request after it (the allocation is used up for the day).
    on_request(fake, "query_more:Lead", 2, lambda: used_up(fake))
    done, source = run_cli(tmp_path)
    assert done.returncode == 1, done.stderr
    assert len(said(done)) == 1, done.stderr
    (line,) = said(done)
    assert "REQUEST_LIMIT_EXCEEDED" in line or "limit" in line.casefold(), line
    assert source["status"] == "failed", source
    # Nothing was asked of Salesforce after the limit.
    refused = [r for r in fake.requests if r.kind == "query_more:Lead"][1]
    assert fake.requests[-1] == refused, [r.kind for r in fake.requests[refused.number - 1 :]]
    # The pages read before it are stored, their cursor kept.
    stored = {lead.id for lead in held(store_path)["leads"]}
    assert 0 < len(stored) < 600, len(stored)
    assert "leads" in cursors(store_path), cursors(store_path)
    fake.before_request = None
    fake.api_used, fake.api_max = 0, 15_000  # a new day
    before = Counter(fake.calls)
    source = sync_cli(tmp_path)
    assert_complete(store_path, fake)
    run = since(before, Counter(fake.calls))
    leads = source["streams"]["leads"]
    assert leads["read"] + leads["rejected"] == 600 - len(stored), (dict(run), leads)


def test_the_runs_daily_share_ends_the_sync_before_salesforces_limit(
    begin: Callable[..., tuple[FakeSalesforce, Path]], tmp_path: Path
) -> None:
    fake, store_path = begin(settings={"daily_share": 50})
    fake.api_max = 1_000
    fake.api_used = 495  # five calls left of the run's share
    done, source = run_cli(tmp_path)
    assert done.returncode == 1, done.stderr
    assert len(said(done)) == 1, done.stderr
    (line,) = said(done)
    assert "daily_share" in line, line
    assert "50%" in line, line  # the share as the setting gives it (a percent)
    assert source["status"] == "failed", source
    assert fake.api_used <= 501, fake.api_used  # stopped at the share, not at the limit
    fake.api_used = 0
    sync_cli(tmp_path)
    assert_complete(store_path, fake)


# -- an expired session ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credentials", "login"), [("password", "soap_login"), ("client_credentials", "token")]
)
def test_an_expired_session_logs_in_again_where_the_credentials_allow(
    begin: Callable[..., tuple[FakeSalesforce, Path]], tmp_path: Path, credentials: str, login: str
) -> None:
    fake, store_path = begin(credentials=credentials)
    on_request(fake, "query_more:Lead", 2, fake.expire_sessions)
    done, _ = run_cli(tmp_path)
    assert done.returncode == 0, done.stderr
    assert fake.calls[login] == 2, dict(fake.calls)
    # The page refused is asked again, after the new login, and nothing is read twice.
    refused, again = [r for r in fake.requests if r.kind == "query_more:Lead"][1:3]
    assert again.path == refused.path, (refused, again)
    assert_complete(store_path, fake)
    # No secret of the set, nor the sessions given, in the output or the store.
    with SQLiteStore(store_path, read_only=True) as store:
        (run,) = store.runs(SOURCE)
    secrets = (fake.password, fake.security_token, fake.consumer_secret, fake.session_id)
    for secret in secrets:
        assert not _leaks(secret, tmp_path, done.stdout, done.stderr, str(run)), secret


def test_salesforce_unavailable_once_is_asked_again_and_the_sync_completes(
    begin: Callable[..., tuple[FakeSalesforce, Path]], tmp_path: Path
) -> None:
    fake, store_path = begin()
    on_request(fake, "query_more:Lead", 1, lambda: fake.fail("SERVER_UNAVAILABLE"))
    sync_cli(tmp_path)
    refused, again = [r for r in fake.requests if r.kind == "query_more:Lead"][:2]
    assert (again.path, again.number) == (refused.path, refused.number + 1)
    assert_complete(store_path, fake)


def _leaks(secret: str, tmp_path: Path, *texts: str | None) -> list[str]:
    found = [f"output {i}" for i, text in enumerate(texts) if text and secret in text]
    found += [p.name for p in tmp_path.glob("store.db*") if secret.encode() in p.read_bytes()]
    return found


@pytest.mark.parametrize("mid_sync", [False, True], ids=["at-start", "mid-sync"])
def test_an_expired_session_id_is_one_line_naming_it_and_never_shown(
    begin: Callable[..., tuple[FakeSalesforce, Path]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mid_sync: bool,
) -> None:
    fake, store_path = begin(credentials="session_id")
    secret = fake.session_id
    if mid_sync:
        on_request(fake, "query_more:Lead", 2, fake.expire_sessions)
    else:
        fake.expire_sessions()
    done, source = run_cli(tmp_path)
    assert done.returncode == 1, done.stderr
    assert len(said(done)) == 1, done.stderr
    (line,) = said(done)
    assert "session_id" in line, line
    assert source["status"] == "failed", source
    assert not fake.calls["soap_login"]
    assert not fake.calls["token"]
    with SQLiteStore(store_path, read_only=True) as store:
        (run,) = store.runs(SOURCE)
    assert run.error is not None, run
    assert "session_id" in run.error, run
    assert not _leaks(secret, tmp_path, done.stdout, done.stderr, run.error)
    if mid_sync:
        assert held(store_path)["leads"], "the pages read before the expiry are stored"
    # A fresh session id, and the rerun completes.
    fake.before_request = None
    monkeypatch.setenv("SF_SESSION", fake._new_session())
    sync_cli(tmp_path)
    assert_complete(store_path, fake)


# -- malformed values, history tracking off ----------------------------------------------------


def test_malformed_values_are_rejected_with_their_reason_and_record_id(
    begin: Callable[..., tuple[FakeSalesforce, Path]], tmp_path: Path
) -> None:
    fake, store_path = begin(malformed=True)
    sync_cli(tmp_path)
    kept = {(r.stream.value, r.record_id): r for r in rejected(store_path)}
    streams = {"Lead": "leads", "Opportunity": "deals"}
    assert len(fake.org.malformed) == 3
    for sobject, row_id, name, value in fake.org.malformed:
        record = kept[(streams[sobject], row_id)]
        assert record.field == name, record
        assert value in record.reason, record
        assert record.raw.get(name) == value, record
    assert_complete(store_path, fake)


def test_without_field_history_tracking_the_sync_says_so_once_and_reads_the_leads(
    begin: Callable[..., tuple[FakeSalesforce, Path]], tmp_path: Path
) -> None:
    fake, store_path = begin(leads=200)
    fake.org.history_tracking = False
    source = sync_cli(tmp_path)
    assert_complete(store_path, fake)
    notices = [n for said in source["notices"].values() for n in said if n == NO_HISTORY]
    assert len(notices) == 1, source["notices"]


def test_a_malformed_value_corrected_is_stored_and_its_rejection_leaves(
    begin: Callable[..., tuple[FakeSalesforce, Path]], tmp_path: Path
) -> None:
    fake, store_path = begin(malformed=True)
    sync_cli(tmp_path)
    # A lead's CreatedDate and a deal's Amount corrected (a Status corrected would not do:
    # the unknown status stays in the lead's history, and rejects it still).
    (lead,) = [m[1] for m in fake.org.malformed if m[:3:2] == ("Lead", "CreatedDate")]
    (deal,) = [m[1] for m in fake.org.malformed if m[0] == "Opportunity"]
    at = recently()
    with fake.lock:
        fake.org.update("Lead", lead, at=at, CreatedDate=at - timedelta(days=3))
        fake.org.update("Opportunity", deal, at=at, Amount=1_200.0)
        fake.org.malformed[:] = [m for m in fake.org.malformed if m[1] not in (lead, deal)]
    source = sync_cli(tmp_path)
    assert source["streams"]["leads"]["stored"] == 1, source["streams"]
    assert source["streams"]["deals"]["stored"] == 1, source["streams"]
    kept = {r.record_id for r in rejected(store_path)}
    assert not kept & {lead, deal}, kept
    assert_complete(store_path, fake)


@pytest.mark.parametrize("fault", ["expired", "limit"])
def test_a_bulk_first_load_meeting_a_fault_logs_in_again_or_stops_and_goes_on(
    begin: Callable[..., tuple[FakeSalesforce, Path]], tmp_path: Path, fault: str
) -> None:
    fake, store_path = begin(settings={"bulk_threshold": 100})

    inject = fake.expire_sessions if fault == "expired" else partial(used_up, fake)
    on_request(fake, "bulk_results", 1, inject)  # the first results page of the first job
    done, _ = run_cli(tmp_path)
    if fault == "expired":
        assert done.returncode == 0, done.stderr
        assert fake.calls["soap_login"] == 2, dict(fake.calls)
    else:
        assert done.returncode == 1, done.stderr
        assert len(said(done)) == 1, done.stderr
        assert fake.requests[-1].kind == "bulk_results", [r.kind for r in fake.requests[-3:]]
        fake.before_request = None
        fake.api_used, fake.api_max = 0, 15_000  # a new day
        sync_cli(tmp_path)
    assert of_kind(fake, "bulk_create:Lead")
    assert_complete(store_path, fake)


def test_a_mapped_field_the_org_lacks_is_one_line_naming_the_setting_before_any_read(
    begin: Callable[..., tuple[FakeSalesforce, Path]], tmp_path: Path
) -> None:
    fake, store_path = begin(settings={"segment_field": "Segmnt__c"})
    done, source = run_cli(tmp_path)
    assert done.returncode == 1, done.stderr
    (line,) = said(done)
    assert "segment_field" in line, line
    assert "Segment__c" in line, line  # the field it may have meant
    assert source["status"] == "failed", source
    assert not [r for r in fake.requests if r.kind.startswith(("query", "bulk"))], fake.calls
    assert not held(store_path)["leads"]


def test_a_field_hidden_from_the_integration_user_fails_its_stream_naming_it(
    begin: Callable[..., tuple[FakeSalesforce, Path]], tmp_path: Path
) -> None:
    # Field-level security hides Lead.Status and Opportunity.Amount: read without them, every
    # lead would have no stage and every deal no amount. Their streams fail, naming them; the
    # others are read.
    fake, store_path = begin(leads=100)
    fake.hidden = {"Lead.Status", "Opportunity.Amount"}
    done, source = run_cli(tmp_path)
    assert done.returncode == 1, done.stderr
    text = "\n".join(said(done))
    assert "cannot read Lead.Status" in text, text
    assert "cannot read Opportunity.Amount" in text, text
    assert source["streams"]["touches"]["stored"] > 0, source["streams"]
    assert source["streams"]["reps"]["stored"] > 0, source["streams"]
    assert not held(store_path)["leads"]
    assert not held(store_path)["deals"]
