"""The ``salesforce`` connector, registered and driven through the real simple-salesforce
against the fake: its settings, the contract, windows and pages, conversions, deletions, the
history fallback, the Bulk 2.0 first load, and the errors that end a run."""

from __future__ import annotations

import doctest
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.fakes import salesforce_org
from tests.fakes.salesforce import FakeSalesforce

pytest.importorskip("simple_salesforce")

from tests.cli import slacore
from tests.slacore_connectors.salesforce.scenario import is_window_query, soql_of, window

from slacore.connector import Batch, Cursor, Stream, get_connector
from slacore.errors import ValidationError
from slacore.model import Deal, Touch
from slacore.testing import ConnectorContract
from slacore_connectors.salesforce import connector as connector_module
from slacore_connectors.salesforce._window import Position, Window
from slacore_connectors.salesforce.client import (
    SalesforceAuthError,
    SalesforceError,
    SalesforceLimitError,
)
from slacore_connectors.salesforce.connector import SalesforceConnector
from slacore_connectors.salesforce.mapping import NO_HISTORY
from slacore_connectors.sync import JobConfig, run_sync

LEAD_STREAMS = ("stage_changes", "owner_changes", "handoffs")
#: The fake org's Lead.Status picklist, mapped (tests/fakes/salesforce_org.py STATUSES).
STATUSES = {
    "status_values": {
        "Open - Not Contacted": "lead",
        "Working - Contacted": "lead",
        "Marketing Qualified": "mql",
        "Sales Accepted": "sal",
    },
    "handoff_status": "Marketing Qualified",
}


@pytest.fixture(autouse=True)
def _trust(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Trust the fakes' CA as a user does: REQUESTS_CA_BUNDLE (one CA for every fake)."""
    if "fake_salesforce" in request.fixturenames or "make_fake_salesforce" in request.fixturenames:
        ca = request.getfixturevalue("salesforce_ca")
        path = Path(request.getfixturevalue("tmp_path")) / "ca.pem"
        path.write_bytes(ca.cert_pem.bytes())
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(path))


def settings_of(fake: FakeSalesforce, **settings: Any) -> dict[str, Any]:
    return {
        "instance_url": fake.url,
        "session_id": fake.session_id,
        "lag": "1s",
        **STATUSES,
        **settings,
    }


def connector(fake: FakeSalesforce, **settings: Any) -> SalesforceConnector:
    return SalesforceConnector(settings_of(fake, **settings))


def read_all(sf: SalesforceConnector, cursors: Mapping[str, Cursor] | None = None) -> list[Batch]:
    cursors = cursors or {}
    batches = list(sf.read("leads", cursors.get("leads"), carried=LEAD_STREAMS))
    for stream in ("touches", "deals", "reps"):
        batches += sf.read(stream, cursors.get(stream))
    return batches


def ids(batches: list[Batch], stream: Stream) -> list[str]:
    """The ids of the records and rejections of ``stream`` (leads, deals, reps)."""
    held = [str(r.id) for b in batches if b.stream is stream for r in b.records]
    return held + [str(r.record_id) for b in batches if b.stream is stream for r in b.rejected]


def live(fake: FakeSalesforce, sobject: str) -> set[str]:
    rows = fake.org.tables[sobject].values()
    return {r["Id"] for r in rows if not r.get("IsDeleted")}


# -- registration and settings -------------------------------------------------------------


def test_it_is_registered_as_salesforce() -> None:
    assert get_connector("salesforce") is SalesforceConnector
    SalesforceConnector.check_class()


BASE = {"instance_url": "https://acme.my.salesforce.com", "session_id": "00D!s3cr3t-session"}


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("instance_url", "http://acme.my.salesforce.com", "expected an https:// URL"),
        ("lookback", "soon", "lookback"),
        ("lag", "-1m", "lag"),
        ("window", "30s", "expected at least 1 minute"),
        ("page_size", 5000, "expected 200 to 2000 rows, got 5000"),
        ("daily_share", 0, "expected a percent from 1 to 100"),
        ("daily_share", 150, "expected a percent from 1 to 100"),
        ("bulk_threshold", -1, "at least 0"),
        ("timeout", "forever", "timeout"),
        ("start", "2026-01-01T00:00:00", "with its offset"),
        ("handoff_status", "Nowhere", "no status of the status map"),
    ],
)
def test_bad_settings_are_errors_naming_them(setting: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as raised:
        SalesforceConnector({**BASE, setting: value})
    assert setting in str(raised.value)
    assert "s3cr3t" not in str(raised.value)


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({}, "no Salesforce credentials"),
        ({"username": "u@x.com", "password": "pw-s3cr3t"}, "security_token is missing"),
        ({"consumer_key": "key-s3cr3t"}, "consumer_secret is missing"),
        (
            {"session_id": "00D!s3cr3t", "consumer_key": "k", "consumer_secret": "c-s3cr3t"},
            "credentials of two kinds given",
        ),
    ],
)
def test_exactly_one_credential_set_is_given(given: dict[str, str], named: str) -> None:
    with pytest.raises(ValidationError, match=named) as raised:
        SalesforceConnector({"instance_url": BASE["instance_url"], **given})
    assert "s3cr3t" not in str(raised.value)


def test_no_call_is_made_before_a_read(fake_salesforce: FakeSalesforce) -> None:
    sf = connector(fake_salesforce)
    assert fake_salesforce.session_id not in repr(sf)
    assert sf.activity() is None
    assert fake_salesforce.requests == []


class TestSalesforceContract(ConnectorContract):
    """The connector contract every connector passes, against the fake Salesforce."""

    connector_class = SalesforceConnector
    plugin = connector_module
    rereads_window = True  # the lookback

    @pytest.fixture
    def settings(self, make_fake_salesforce: Callable[..., FakeSalesforce]) -> Mapping[str, Any]:
        fake = make_fake_salesforce(seed=3, leads=60)
        fake._sessions = AnySession()  # the secrets check plants a session id of its own
        return settings_of(fake)


class AnySession(set[str]):
    """Sessions of a fake that takes any session id."""

    def __contains__(self, item: object) -> bool:
        return True


# -- reads -----------------------------------------------------------------------------------


def test_a_first_read_gives_every_live_row_once_and_the_deleted_as_deletions(
    make_fake_salesforce: Callable[..., FakeSalesforce],
) -> None:
    fake = make_fake_salesforce(seed=5, leads=120, deleted=4)
    sf = connector(fake)
    batches = read_all(sf)
    leads = ids(batches, Stream.LEADS)
    assert sorted(leads) == sorted(live(fake, "Lead"))
    gone = [given for b in batches if b.stream is Stream.LEADS for given in b.deleted]
    deleted = {r["Id"] for r in fake.org.tables["Lead"].values() if r["IsDeleted"]}
    assert sorted(gone) == sorted(deleted)
    assert len(deleted) == 4
    assert set(ids(batches, Stream.REPS)) == set(fake.org.tables["User"])  # inactive too
    assert not any(r.active for b in batches for r in b.records if b.stream is Stream.REPS) or any(
        not r.active for b in batches for r in b.records if b.stream is Stream.REPS
    )
    assert sorted(ids(batches, Stream.DEALS)) == sorted(live(fake, "Opportunity"))
    # Within the leads pass, each page's carried batches come before its leads batch.
    order = [b.stream.value for b in batches if b.stream.value in {"leads", *LEAD_STREAMS}]
    assert order[:4] == [*LEAD_STREAMS, "leads"]
    assert all(b.cursor.state for b in batches)
    assert batches[0].from_start


def test_a_read_from_the_last_cursors_reads_only_changes(
    fake_salesforce: FakeSalesforce,
) -> None:
    now = datetime.now(UTC)
    sf = SalesforceConnector(settings_of(fake_salesforce), now=lambda: now)
    cursors = {b.stream.value: b.cursor for b in read_all(sf)}
    lead = sorted(live(fake_salesforce, "Lead"))[7]
    later = now + timedelta(hours=1)  # after the first read's window, in the second's
    fake_salesforce.org.update("Lead", lead, at=later, Status="Sales Accepted")
    again = SalesforceConnector(
        settings_of(fake_salesforce), now=lambda: later + timedelta(hours=1)
    )
    batches = read_all(again, cursors)
    assert ids(batches, Stream.LEADS) == [lead]
    assert not ids(batches, Stream.DEALS)
    assert not [r for b in batches if b.stream is Stream.TOUCHES for r in b.records]
    changes = [r for b in batches if b.stream is Stream.STAGE_CHANGES for r in b.records]
    assert changes[-1].to_stage == "sal"


def test_a_row_appearing_late_inside_the_lookback_is_read(
    fake_salesforce: FakeSalesforce,
) -> None:
    now = datetime.now(UTC)
    sf = SalesforceConnector(settings_of(fake_salesforce, lookback="10m"), now=lambda: now)
    last = list(sf.read("leads"))[-1].cursor
    # Committed after the first read, stamped 5 minutes before its window's end.
    late = fake_salesforce.org.insert(
        "Lead",
        {
            "Status": "Open - Not Contacted",
            "OwnerId": sorted(fake_salesforce.org.tables["User"])[0],
        },
        at=now - timedelta(minutes=5),
    )
    again = SalesforceConnector(
        settings_of(fake_salesforce, lookback="10m"), now=lambda: now + timedelta(hours=1)
    )
    assert ids(list(again.read("leads", last)), Stream.LEADS) == [late]


def test_windows_are_at_most_window_long(fake_salesforce: FakeSalesforce) -> None:
    sf = connector(fake_salesforce, window="10d", start="2026-01-01")
    batches = list(sf.read("deals"))
    assert sorted(ids(batches, Stream.DEALS)) == sorted(live(fake_salesforce, "Opportunity"))
    windows = [
        window(r)
        for r in fake_salesforce.requests
        if r.kind == "queryAll:Opportunity"
        and is_window_query(r)
        and not soql_of(r).endswith("LIMIT 1")  # the next row's time, to the window's end
    ]
    assert windows
    assert all(end - start <= timedelta(days=10) for start, end in windows)
    pieces = [b for b in batches if "Opportunity.since" not in b.cursor.state]
    now = datetime.now(UTC)
    walked = -(-(now - datetime(2026, 1, 1, tzinfo=UTC)) // timedelta(days=10))
    # The org's rows end in April 2026: the months after them cost one empty piece and one
    # query of the next row (none), not a query each.
    assert len(pieces) < walked
    assert fake_salesforce.calls["queryAll:Opportunity"] < walked


def test_empty_pieces_cost_one_query_of_the_next_rows_time(
    fake_salesforce: FakeSalesforce,
) -> None:
    org = fake_salesforce.org
    # The org's users were all made on 2025-01-01; one more, 14 months later.
    late = org.insert(
        "User",
        {"Name": "Late Rep", "Email": "late@example.com", "IsActive": True},
        at=datetime(2026, 3, 5, 12, 30, 15, 250_000, tzinfo=UTC),
    )
    now = datetime.now(UTC)
    sf = SalesforceConnector(settings_of(fake_salesforce, window="10d"), now=lambda: now)
    batches = list(sf.read("reps"))
    assert sorted(ids(batches, Stream.REPS)) == sorted(org.tables["User"])
    asked = [soql_of(r) for r in fake_salesforce.requests if r.kind == "queryAll:User"]
    # The oldest row; the count (the Bulk decision); the piece of 2025-01-01 and the empty
    # one after it; the next row's time (2026-03-05); the piece from its second and the
    # empty one after it; the next row's time: none, the window is read.
    assert len(asked) == 8, asked
    assert [q for q in asked if q.endswith("ORDER BY SystemModstamp LIMIT 1")] == [
        asked[4],
        asked[7],
    ]
    assert "SystemModstamp >= 2026-03-05T12:30:15Z" in asked[5]
    modified = [b.cursor.state["User.modified"] for b in batches]
    # Each empty piece's batch moves the cursor to the next row's second (or the end).
    assert modified[1] == int(datetime(2026, 3, 5, 12, 30, 15, tzinfo=UTC).timestamp() * 1000)
    assert modified[-1] == int((now - timedelta(seconds=1)).timestamp()) * 1000
    assert [str(r.id) for r in batches[2].records] == [late]


def test_a_query_timeout_halves_the_window(
    make_fake_salesforce: Callable[..., FakeSalesforce],
) -> None:
    fake = make_fake_salesforce(seed=6, leads=200)
    fake.query_timeout_rows = 40
    sf = connector(fake, window="90d", start="2026-01-01")
    batches = list(sf.read("leads"))
    assert sorted(ids(batches, Stream.LEADS)) == sorted(live(fake, "Lead"))
    assert fake.calls["queryAll:Lead"] > 4  # narrower windows after the timeouts


def test_a_query_timeout_even_in_the_narrowest_window_is_one_clear_error(
    fake_salesforce: FakeSalesforce,
) -> None:
    fake_salesforce.query_timeout_rows = 0
    # Every user was created at one time, 2025-01-01: no window is narrow enough.
    sf = connector(fake_salesforce, start="2025-01-01", window="2m")
    with pytest.raises(SalesforceError, match=r"QUERY_TIMEOUT.*even in windows of 60 s") as raised:
        list(sf.read("reps"))
    assert "\n" not in str(raised.value)
    assert sf.calls < 10


def _instant(fake: FakeSalesforce) -> datetime:
    stamps = Counter(r["SystemModstamp"] for r in fake.org.tables["Lead"].values())
    return stamps.most_common(1)[0][0]


def test_rows_sharing_a_stamp_across_pages_are_read_once_when_a_read_resumes(
    make_fake_salesforce: Callable[..., FakeSalesforce],
) -> None:
    fake = make_fake_salesforce(seed=7, leads=900, same_instant=700, activity=False)
    instant = _instant(fake)
    sf = connector(fake, page_size=200, window="365d", start="2026-01-01")
    leads = [b for b in sf.read("leads") if b.stream is Stream.LEADS]
    all_ids = ids(leads, Stream.LEADS)
    assert sorted(all_ids) == sorted(live(fake, "Lead"))
    assert len(all_ids) == len(set(all_ids))
    # A read killed after a page that ended inside the instant goes on after its last row.
    inside = [
        b for b in leads if b.cursor.state.get("Lead.after_at") == int(instant.timestamp() * 1000)
    ]
    assert len(inside) >= 2  # the instant spans several pages
    stopped = inside[0].cursor
    before = all_ids[: all_ids.index(str(inside[0].cursor.state["Lead.after_id"])) + 1]
    resumed = ids(list(connector(fake, page_size=200).read("leads", stopped)), Stream.LEADS)
    assert set(before).isdisjoint(resumed)
    assert sorted(before + resumed) == sorted(all_ids)


def test_a_resume_inside_a_second_skips_the_rows_read_in_it(
    make_fake_salesforce: Callable[..., FakeSalesforce],
) -> None:
    # Times with milliseconds: the query's bounds are whole seconds, the rest is skipped here.
    fake = make_fake_salesforce(seed=8, leads=80, activity=False)
    sf = connector(fake, window="365d", start="2026-01-01")
    leads = [b for b in sf.read("leads") if b.stream is Stream.LEADS]
    read = ids(leads, Stream.LEADS)
    rows = sorted((r["SystemModstamp"], r["Id"]) for r in fake.org.tables["Lead"].values())
    at, last = rows[30]
    assert at.microsecond  # inside a second
    state = {
        "Lead.since": int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000),
        "Lead.until": leads[-1].cursor.state["Lead.modified"],
        "Lead.after_at": int(at.timestamp() * 1000),
        "Lead.after_id": last,
    }
    resumed = ids(
        list(connector(fake).read("leads", Cursor(stream=Stream.LEADS, state=state))),
        Stream.LEADS,
    )
    assert sorted(resumed) == sorted(i for _, i in rows[31:])
    assert sorted(read) == sorted(i for _, i in rows)


def test_touches_of_converted_contacts_and_deals_count_for_their_lead(
    fake_salesforce: FakeSalesforce,
) -> None:
    sf = connector(fake_salesforce)
    touches = [t for b in sf.read("touches") for t in b.records if isinstance(t, Touch)]
    deals = [d for b in sf.read("deals") for d in b.records if isinstance(d, Deal)]
    converted = {
        r["ConvertedContactId"]: r["Id"]
        for r in fake_salesforce.org.tables["Lead"].values()
        if r["ConvertedContactId"]
    }
    on_contacts = [
        t for t in fake_salesforce.org.tables["Task"].values() if t["WhoId"] in converted
    ]
    assert on_contacts  # the fake logs tasks on contacts after conversion
    leads_touched = {t.lead_id for t in touches}
    assert {converted[t["WhoId"]] for t in on_contacts if t["TaskSubtype"] in ("Call", "Email")} & (
        leads_touched
    )
    assert all(t.lead_id.startswith("00Q") for t in touches)
    by_opportunity = {
        r["ConvertedOpportunityId"]: r["Id"]
        for r in fake_salesforce.org.tables["Lead"].values()
        if r["ConvertedOpportunityId"]
    }
    assert deals
    assert all(d.lead_id == by_opportunity.get(d.id) for d in deals)
    assert any(d.lead_id is not None for d in deals)
    lookups = [
        r for r in fake_salesforce.requests if "ConvertedContactId IN" in str(r.query.get("q"))
    ]
    assert lookups
    assert all(len(str(r.query.get("q"))) < 4_000 for r in lookups)  # short URLs


def test_without_field_history_the_leads_are_mapped_from_the_lead_said_once(
    make_fake_salesforce: Callable[..., FakeSalesforce],
) -> None:
    fake = make_fake_salesforce(seed=9, leads=150, activity=False)
    fake.org.history_tracking = False
    sf = connector(fake, page_size=200, window="20d")
    batches = list(sf.read("leads", carried=LEAD_STREAMS))
    told = [n for b in batches for n in b.notices if n == NO_HISTORY]
    assert told == [NO_HISTORY]
    assert sorted(ids(batches, Stream.LEADS)) == sorted(live(fake, "Lead"))
    assert fake.calls["query:LeadHistory"] == 1  # the check alone, no history read per page


def test_a_bulk_first_load_gives_what_rest_gives(fake_salesforce: FakeSalesforce) -> None:
    fake_salesforce.bulk_polls = 0  # complete at once: no wait between polls
    rest = read_all(connector(fake_salesforce))
    assert not any(k.startswith("bulk") for k in fake_salesforce.calls)
    bulk = read_all(connector(fake_salesforce, bulk_threshold=10))
    assert fake_salesforce.calls["bulk_create:Lead"] == 1
    assert fake_salesforce.calls["bulk_create:Task"] == 1

    def records(batches: list[Batch]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for b in batches:
            found.setdefault(b.stream.value, []).extend(repr(r) for r in b.records)
            found[b.stream.value].extend(str(r.record_id) for r in b.rejected)
        return {k: sorted(v) for k, v in found.items()}

    assert records(bulk) == records(rest)
    # The bulk read's cursors are where the REST read's are: a later run goes on the same.
    assert [b.cursor.state for b in bulk][-1].keys() == [b.cursor.state for b in rest][-1].keys()


# -- errors that end a run -------------------------------------------------------------------


def test_the_api_limit_stops_the_run_keeping_the_cursor(fake_salesforce: FakeSalesforce) -> None:
    sf = connector(fake_salesforce, window="20d")
    fake_salesforce.fail("REQUEST_LIMIT_EXCEEDED", kind="queryAll:Event", times=100)
    kept = list(sf.read("deals"))
    assert kept
    touches = sf.read("touches")
    with pytest.raises(SalesforceLimitError, match="rerun later"):
        kept.extend(touches)
    assert Counter(b.stream for b in kept)[Stream.TOUCHES]  # the tasks, read before
    assert "Task.modified" in kept[-1].cursor.state  # the tasks' windows are kept
    made = sf.calls
    with pytest.raises(SalesforceLimitError):
        list(sf.read("reps"))
    assert sf.calls == made  # the later stream ends at once, without a call


def test_the_daily_share_stops_the_run(fake_salesforce: FakeSalesforce) -> None:
    fake_salesforce.api_used = 11_990  # of 15,000: the 80 percent share is 12,000
    sf = connector(fake_salesforce)
    batches: list[Batch] = []
    with pytest.raises(SalesforceLimitError, match="daily_share"):
        batches.extend(sf.read("leads", carried=LEAD_STREAMS))
    assert 0 < sf.calls <= 11
    assert batches  # what was read before the share ran out is given, with its cursor
    assert "Lead." in str(batches[-1].cursor.state)


def test_an_expired_session_id_is_one_line_naming_the_setting(
    fake_salesforce: FakeSalesforce,
) -> None:
    fake_salesforce.expire_sessions()
    sf = connector(fake_salesforce)
    with pytest.raises(SalesforceAuthError, match="session_id") as raised:
        list(sf.read("leads"))
    assert "\n" not in str(raised.value)
    assert fake_salesforce.session_id not in str(raised.value)
    made = sf.calls
    with pytest.raises(SalesforceAuthError):
        list(sf.read("deals"))
    assert sf.calls == made


def test_an_expired_session_is_renewed_with_a_password(fake_salesforce: FakeSalesforce) -> None:
    sf = connector(
        fake_salesforce,
        session_id=None,
        username=fake_salesforce.username,
        password=fake_salesforce.password,
        security_token=fake_salesforce.security_token,
        domain=fake_salesforce.domain,
    )
    reps = ids(list(sf.read("reps")), Stream.REPS)
    fake_salesforce.expire_sessions()
    assert sorted(ids(list(sf.read("reps")), Stream.REPS)) == sorted(reps)
    assert fake_salesforce.calls["soap_login"] == 2


def test_a_mapped_field_the_org_lacks_is_an_error_at_start(fake_salesforce: FakeSalesforce) -> None:
    sf = connector(fake_salesforce, persona_field="Persona_c")
    for stream in ("leads", "deals"):
        with pytest.raises(ValidationError, match=r'persona_field.*did you mean "Persona__c"'):
            list(sf.read(stream))
    assert dict(fake_salesforce.calls) == {"describe:Lead": 1}  # checked once, nothing read


def test_the_api_calls_are_told_in_the_last_batch(fake_salesforce: FakeSalesforce) -> None:
    sf = connector(fake_salesforce)
    batches = list(sf.read("reps"))
    assert (
        batches[-1]
        .notices[-1]
        .startswith(
            f"Salesforce API calls so far this run: {sf.calls} (the org's daily allocation: "
        )
    )
    assert sf.activity() == f"{sf.calls} Salesforce API calls"


def test_a_sync_job_reads_the_org_into_a_store(
    fake_salesforce: FakeSalesforce, tmp_path: Path
) -> None:
    told: list[tuple[str, str]] = []

    class Display:
        def __call__(self, source: str, stream: str, records: int) -> None:
            pass

        def activity(self, source: str, text: str) -> None:
            told.append((source, text))

    config = JobConfig.from_dict(
        {
            "store": "store.db",
            "sources": [
                {
                    "name": "sf",
                    "connector": "salesforce",
                    "settings": {
                        "instance_url": fake_salesforce.url,
                        "session_id": {"env": "SF_SESSION"},
                        "lag": "1s",
                        **STATUSES,
                    },
                }
            ],
        },
        base=tmp_path,
        environ={"SF_SESSION": fake_salesforce.session_id},
    )
    report = run_sync(config, progress=Display())
    assert report.sources[0].status == "success", report.sources[0]
    assert told
    assert told[-1][1].endswith("Salesforce API calls")
    assert fake_salesforce.session_id not in repr(report)


def test_salesforce_not_answering_ends_later_reads_without_trying_again() -> None:
    sf = SalesforceConnector(
        {"instance_url": "https://127.0.0.1:9", "session_id": "00D!x", "timeout": "2s"}
    )
    with pytest.raises(SalesforceError, match="did not answer the describe of Lead"):
        list(sf.read("leads"))
    made = sf.calls
    with pytest.raises(SalesforceError, match="did not answer"):
        list(sf.read("touches"))
    assert sf.calls == made


def test_hand_offs_without_a_user_are_told_once_a_window(
    make_fake_salesforce: Callable[..., FakeSalesforce],
) -> None:
    fake = make_fake_salesforce(seed=11, leads=300, activity=False)
    batches = list(connector(fake, window="7d", page_size=200).read("leads"))
    told = [n for b in batches for n in b.notices if "without a user to notify" in n]
    assert len(told) == 1  # one window of many pieces and pages
    assert told[0].startswith("2 hand-off(s) without a user to notify: lead 00Q")
    assert batches[-1].notices[0] == told[0]  # at the window's end


def test_a_killed_bulk_first_load_is_read_again_by_rest(
    make_fake_salesforce: Callable[..., FakeSalesforce],
) -> None:
    # A Bulk job's rows come in no order (it takes no ORDER BY): its pages keep no position.
    fake = make_fake_salesforce(seed=12, leads=700, activity=False)
    fake.bulk_polls = 0
    bulk = [
        b
        for b in connector(fake, bulk_threshold=100, page_size=200).read("leads")
        if b.stream is Stream.LEADS
    ]
    assert fake.calls["bulk_create:Lead"] == 1
    job = next(r for r in fake.requests if r.kind == "bulk_create:Lead")
    assert "ORDER BY" not in job.body.decode()
    stopped = bulk[1].cursor  # two pages stored, then the sync was killed
    assert set(stopped.state) == {"Lead.since", "Lead.until"}
    read = ids(bulk, Stream.LEADS)
    resumed = ids(list(connector(fake, bulk_threshold=100).read("leads", stopped)), Stream.LEADS)
    assert fake.calls["bulk_create:Lead"] == 1  # the piece again by REST, from its start
    assert sorted(resumed) == sorted(read)


def test_a_lead_deleted_later_is_a_deletion_of_the_next_read(
    fake_salesforce: FakeSalesforce,
) -> None:
    now = datetime.now(UTC)
    last = list(SalesforceConnector(settings_of(fake_salesforce), now=lambda: now).read("leads"))
    gone = sorted(live(fake_salesforce, "Lead"))[3]
    fake_salesforce.org.delete("Lead", gone, at=now + timedelta(minutes=30))
    again = SalesforceConnector(settings_of(fake_salesforce), now=lambda: now + timedelta(hours=1))
    batches = list(again.read("leads", last[-1].cursor))
    assert [given for b in batches for given in b.deleted] == [gone]
    assert not ids(batches, Stream.LEADS)


def test_activities_of_other_contacts_and_of_nobody_are_no_touches(
    fake_salesforce: FakeSalesforce,
) -> None:
    org = fake_salesforce.org
    rep = sorted(org.tables["User"])[0]
    customer = org.insert("Contact", {"Name": "A customer"}, at=datetime(2026, 2, 1, tzinfo=UTC))
    call = {"OwnerId": rep, "TaskSubtype": "Call", "Type": "Call", "IsClosed": True}
    at = datetime(2026, 2, 2, tzinfo=UTC)
    of_customer = org.insert("Task", {**call, "WhoId": customer}, at=at)
    of_nobody = org.insert("Task", {**call, "WhoId": None}, at=at)
    todo = org.insert("Task", {**call, "TaskSubtype": "Task", "Type": "Other"}, at=at)
    batches = list(connector(fake_salesforce).read("touches"))
    rejected = {r.record_id for b in batches for r in b.rejected}
    assert {of_customer, of_nobody, todo}.isdisjoint(rejected)
    told = [n for b in batches for n in b.notices if "no lead was converted into" in n]
    assert told == [
        "1 Task row(s) on contacts no lead was converted into: no lead's touches, not read"
    ]


def test_opportunities_in_several_currencies_are_said_once(
    fake_salesforce: FakeSalesforce,
) -> None:
    for number, row in enumerate(fake_salesforce.org.tables["Opportunity"].values()):
        row["CurrencyIsoCode"] = "EUR" if number % 2 else "USD"
    salesforce_org.FIELDS["Opportunity"]["CurrencyIsoCode"] = "picklist"
    try:
        batches = list(connector(fake_salesforce, window="10d").read("deals"))
    finally:
        del salesforce_org.FIELDS["Opportunity"]["CurrencyIsoCode"]
    told = [n for b in batches for n in b.notices if "several currencies" in n]
    assert len(told) == 1


def test_the_cli_syncs_logging_in_and_stops_at_the_limit_in_one_line(
    fake_salesforce: FakeSalesforce, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    statuses = "".join(f'"{k}" = "{v}"\n' for k, v in STATUSES["status_values"].items())
    (tmp_path / "job.toml").write_text(
        'store = "store.db"\n[[sources]]\nname = "sf"\nconnector = "salesforce"\n'
        f'[sources.settings]\ninstance_url = "{fake_salesforce.url}"\n'
        f'domain = "{fake_salesforce.domain}"\nlag = "1s"\n'
        'username = { env = "SF_USERNAME" }\npassword = { env = "SF_PASSWORD" }\n'
        'security_token = { env = "SF_TOKEN" }\n'
        f'handoff_status = "{STATUSES["handoff_status"]}"\n'
        f"[sources.settings.status_values]\n{statuses}",
        encoding="utf-8",
    )
    monkeypatch.setenv("SF_USERNAME", fake_salesforce.username)
    monkeypatch.setenv("SF_PASSWORD", fake_salesforce.password)
    monkeypatch.setenv("SF_TOKEN", fake_salesforce.security_token)
    fake_salesforce.fail("REQUEST_LIMIT_EXCEEDED", kind="queryAll:Task", times=1)
    stopped = slacore("sync", "--config", "job.toml", cwd=tmp_path)
    assert stopped.returncode == 1
    errors = [line for line in stopped.stderr.splitlines() if "error" in line]
    assert len(errors) == 1, stopped.stderr
    assert "touches" in errors[0]
    assert "REQUEST_LIMIT_EXCEEDED" in errors[0]
    assert "rerun later" in errors[0]
    secrets = (fake_salesforce.password, fake_salesforce.security_token)
    assert not any(s in stopped.stdout + stopped.stderr for s in secrets)
    done = slacore("sync", "--config", "job.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr


def test_a_first_read_whose_oldest_row_times_out_starts_in_2000(
    fake_salesforce: FakeSalesforce,
) -> None:
    fake_salesforce.fail("QUERY_TIMEOUT", kind="queryAll:User", times=1)
    batches = list(connector(fake_salesforce, window="365d").read("reps"))
    assert sorted(ids(batches, Stream.REPS)) == sorted(fake_salesforce.org.tables["User"])
    asked = [str(r.query.get("q")) for r in fake_salesforce.requests]
    assert any("SystemModstamp >= 2000-01-01T00:00:00Z" in q for q in asked)


def test_an_object_without_rows_costs_one_query_and_ends_its_window(
    make_fake_salesforce: Callable[..., FakeSalesforce],
) -> None:
    fake = make_fake_salesforce(seed=13, leads=40, activity=False)
    batches = list(connector(fake).read("touches"))  # no Task, no Event
    assert len(batches) == 2
    assert set(batches[-1].cursor.state) == {"Task.modified", "Event.modified"}
    assert fake.calls["queryAll:Task"] == fake.calls["queryAll:Event"] == 1  # the oldest: none


def test_a_bulk_job_timing_out_falls_back_to_windows(
    make_fake_salesforce: Callable[..., FakeSalesforce],
) -> None:
    fake = make_fake_salesforce(seed=14, leads=300, activity=False)
    fake.query_timeout_rows = 250
    fake.bulk_polls = 0
    batches = list(connector(fake, bulk_threshold=10).read("leads"))
    assert fake.calls["bulk_create:Lead"] == 1
    assert sorted(ids(batches, Stream.LEADS)) == sorted(live(fake, "Lead"))


def test_an_org_without_lead_history_maps_leads_from_the_lead(
    fake_salesforce: FakeSalesforce,
) -> None:
    history = salesforce_org.FIELDS.pop("LeadHistory")  # the object unknown: INVALID_TYPE
    try:
        batches = list(connector(fake_salesforce).read("leads"))
    finally:
        salesforce_org.FIELDS["LeadHistory"] = history
    assert [n for b in batches for n in b.notices if n == NO_HISTORY] == [NO_HISTORY]
    assert sorted(ids(batches, Stream.LEADS)) == sorted(live(fake_salesforce, "Lead"))


def test_a_timeout_while_paging_goes_on_after_the_last_row_read(
    make_fake_salesforce: Callable[..., FakeSalesforce],
) -> None:
    fake = make_fake_salesforce(seed=15, leads=700, same_instant=500, activity=False)
    fake.fail("QUERY_TIMEOUT", kind="query_more:Lead", times=2)
    batches = list(connector(fake, page_size=200, window="365d").read("leads"))
    read = ids(batches, Stream.LEADS)
    assert sorted(read) == sorted(live(fake, "Lead"))  # none lost, none twice
    assert fake.calls["query_more:Lead"] >= 2


# -- the cursor state ------------------------------------------------------------------------

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def plan(state: Mapping[str, Any], now: datetime = T0) -> Window:
    return Window.plan(
        "Lead",
        state,
        now=now,
        lookback=timedelta(minutes=10),
        lag=timedelta(minutes=2),
        start=lambda until: datetime(2026, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC),
    )


def test_a_window_is_whole_seconds_from_the_cursor_less_the_lookback() -> None:
    first = plan({}, now=T0 + timedelta(milliseconds=700))
    assert (first.since, first.until, first.first) == (
        datetime(2026, 1, 1, tzinfo=UTC),
        T0 - timedelta(minutes=2),
        True,
    )
    state = first.done({}, first.until)
    later = plan(state, now=T0 + timedelta(hours=1))
    assert (later.since, later.until, later.first) == (
        T0 - timedelta(minutes=12),
        T0 + timedelta(minutes=58),
        False,
    )
    assert later.where(later.since, later.until, None) == (
        "SystemModstamp >= 2026-03-01T11:48:00Z AND SystemModstamp < 2026-03-01T12:58:00Z"
    )


def test_a_stopped_piece_is_resumed_after_its_last_row() -> None:
    window = plan({})
    at = T0 - timedelta(days=3, milliseconds=-250)
    state = window.reading({}, window.since, window.until, Position(at, "00Q000000000042AAA"))
    resumed = plan(state, now=T0 + timedelta(days=1))
    assert resumed.resumed
    assert (resumed.since, resumed.until) == (window.since, window.until)
    assert resumed.after == Position(at, "00Q000000000042AAA")
    assert resumed.where(resumed.since, resumed.until, resumed.after) == (
        "SystemModstamp >= 2026-02-26T12:00:00Z AND SystemModstamp < 2026-03-01T11:58:00Z "
        "AND (SystemModstamp > 2026-02-26T12:00:00Z OR Id > '00Q000000000042AAA')"
    )
    edited = {**state, "Lead.after_id": "x' OR Id != '"}  # never put into SOQL
    assert plan(edited).after is None


def test_the_connector_module_examples_run() -> None:
    assert doctest.testmod(connector_module).failed == 0
