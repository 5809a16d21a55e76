"""The fake Salesforce, driven through the real ``simple-salesforce`` SDK over TLS."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from tests.fakes.salesforce import FakeSalesforce, Request, soql_time
from tests.fakes.salesforce_org import generate_org

simple_salesforce = pytest.importorskip("simple_salesforce")
requests = pytest.importorskip("requests")
from simple_salesforce import Salesforce  # noqa: E402
from simple_salesforce.exceptions import (  # noqa: E402
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceOperationError,
    SalesforceRefusedRequest,
)

LEAD_FIELDS = "Id, Status, OwnerId, CreatedDate, ConvertedDate, IsDeleted, SystemModstamp"
TIMEOUT = (2, 10)


def trusting(fake: FakeSalesforce) -> Any:
    """A requests session that trusts the fake's CA, as a user passes ``session=``."""
    return fake.trusting_session()


def connect(fake: FakeSalesforce, **options: Any) -> Any:
    """The real SDK on the fake with a session id (``auth_type`` direct)."""
    return Salesforce(
        instance_url=fake.url, session_id=fake.session_id, session=trusting(fake), **options
    )


def by_client_credentials(fake: FakeSalesforce) -> Any:
    """The real SDK logged in to the fake with a connected app's key and secret."""
    return Salesforce(
        consumer_key=fake.consumer_key,
        consumer_secret=fake.consumer_secret,
        domain=fake.domain,
        session=trusting(fake),
    )


def window(
    start: datetime, end: datetime, *, sobject: str = "Lead", fields: str = LEAD_FIELDS
) -> str:
    return (
        f"SELECT {fields} FROM {sobject} WHERE SystemModstamp >= {soql_time(start)} "
        f"AND SystemModstamp < {soql_time(end)} ORDER BY SystemModstamp, Id"
    )


EVERYTHING = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))
SMALL_PAGES = {"headers": {"Sforce-Query-Options": "batchSize=200"}}


def test_query_all_iter_pages_a_window_in_order(fake_salesforce: FakeSalesforce) -> None:
    rows = fake_salesforce.org.tables["Lead"].values()
    stamps = sorted(r["SystemModstamp"] for r in rows)
    start, end = stamps[20], stamps[-20]
    expected = sorted(
        ((r["SystemModstamp"], r["Id"]) for r in rows if start <= r["SystemModstamp"] < end),
    )
    sf = connect(fake_salesforce)

    got = list(sf.query_all_iter(window(start, end), timeout=TIMEOUT, **SMALL_PAGES))

    assert [r["Id"] for r in got] == [row_id for _, row_id in expected]
    assert fake_salesforce.calls == {"query:Lead": 1, "query_more:Lead": 1}
    first = got[0]
    assert first["attributes"]["type"] == "Lead"
    assert first["SystemModstamp"].endswith("+0000")  # VENDORS.md 6.8
    assert datetime.fromisoformat(first["SystemModstamp"]) == expected[0][0].replace(
        microsecond=expected[0][0].microsecond // 1000 * 1000
    )
    assert sf.api_usage["api-usage"].used == 2
    assert sf.api_usage["api-usage"].total == 15_000


def test_a_page_holds_two_thousand_rows_and_hands_out_a_relative_next_url(
    make_fake_salesforce: Callable[..., FakeSalesforce],
) -> None:
    fake = make_fake_salesforce(seed=3, leads=4_100, activity=False)
    sf = connect(fake)

    first = sf.query(window(*EVERYTHING), timeout=TIMEOUT)

    assert first["totalSize"] == 4_100
    assert first["done"] is False
    assert len(first["records"]) == 2_000
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-2000")
    rest = list(sf.query_all_iter(window(*EVERYTHING), timeout=TIMEOUT))
    assert len(rest) == 4_100
    assert fake.calls == {"query:Lead": 2, "query_more:Lead": 2}


def test_equal_stamps_cross_a_page_boundary_ordered_by_id(
    make_fake_salesforce: Callable[..., FakeSalesforce],
) -> None:
    fake = make_fake_salesforce(seed=5, leads=600, same_instant=450, activity=False)
    sf = connect(fake)

    got = list(sf.query_all_iter(window(*EVERYTHING), timeout=TIMEOUT, **SMALL_PAGES))

    same = [r for r in got if r["SystemModstamp"] == got[300]["SystemModstamp"]]
    assert len(same) == 450
    assert [r["Id"] for r in same] == sorted(r["Id"] for r in same)
    assert fake.calls["query_more:Lead"] == 2  # pages of 200: the instant spans three


def test_deleted_rows_only_through_query_all(
    make_fake_salesforce: Callable[..., FakeSalesforce],
) -> None:
    fake = make_fake_salesforce(seed=7, leads=200, deleted=5)
    sf = connect(fake)

    live = list(sf.query_all_iter(window(*EVERYTHING), timeout=TIMEOUT))
    everything = list(sf.query_all_iter(window(*EVERYTHING), include_deleted=True, timeout=TIMEOUT))

    assert len(live) == 200
    assert all(r["IsDeleted"] is False for r in live)
    assert sum(r["IsDeleted"] for r in everything) == 5
    assert fake.calls["queryAll:Lead"] == 1
    tasks = list(
        sf.query_all_iter(
            window(*EVERYTHING, sobject="Task", fields="Id, WhoId, IsDeleted"),
            include_deleted=True,
            timeout=TIMEOUT,
        )
    )
    # A deleted lead's tasks are deleted with it, and only those.
    gone = {r["Id"] for r in everything if r["IsDeleted"]}
    assert any(t["IsDeleted"] for t in tasks)
    assert all(t["IsDeleted"] == (t["WhoId"] in gone) for t in tasks)


def test_history_rows_an_owner_change_as_two_and_by_created_date(
    fake_salesforce: FakeSalesforce,
) -> None:
    sf = connect(fake_salesforce)
    soql = (
        "SELECT Id, LeadId, Field, DataType, OldValue, NewValue, CreatedDate FROM LeadHistory "
        f"WHERE Field IN ('Status', 'Owner') AND CreatedDate >= {soql_time(EVERYTHING[0])} "
        f"AND CreatedDate < {soql_time(EVERYTHING[1])} ORDER BY CreatedDate, Id"
    )

    rows = list(sf.query_all_iter(soql, include_deleted=True, timeout=TIMEOUT))

    owner = [r for r in rows if r["Field"] == "Owner"]
    assert owner
    assert len(owner) % 2 == 0
    ids = [r for r in owner if r["DataType"] == "EntityId"]
    names = [r for r in owner if r["DataType"] == "Text"]
    assert len(ids) == len(names)
    assert all(r["OldValue"].startswith("00G") and r["NewValue"].startswith("005") for r in ids)
    assert all(r["NewValue"].startswith("Rep ") for r in names)
    assert {r["Field"] for r in rows} == {"Status", "Owner"}
    fake_salesforce.org.history_tracking = False
    assert list(sf.query_all_iter(soql, timeout=TIMEOUT)) == []


def test_tasks_events_opportunities_users_and_polymorphic_owners(
    fake_salesforce: FakeSalesforce,
) -> None:
    sf = connect(fake_salesforce)
    calls = sf.query_all(
        "SELECT Id, WhoId, Who.Type, Owner.Name, TaskSubtype, CompletedDateTime, CreatedDate, "
        "ActivityDate FROM Task WHERE (TaskSubtype = 'Call' OR TaskSubtype = 'Email') "
        "ORDER BY SystemModstamp, Id",
        timeout=TIMEOUT,
    )["records"]
    assert {c["TaskSubtype"] for c in calls} == {"Call", "Email"}
    assert {c["Who"]["attributes"]["type"] for c in calls} == {"Name"}  # VENDORS.md 6.9
    assert {c["Who"]["Type"] for c in calls} <= {"Lead", "Contact"}
    assert any(c["Who"]["Type"] == "Contact" for c in calls)  # touched after conversion
    assert all(date.fromisoformat(c["ActivityDate"]) for c in calls)
    assert any(c["CompletedDateTime"] is None for c in calls)

    deals = sf.query_all(
        "SELECT Id, Amount, CloseDate, IsWon, IsClosed, OwnerId FROM Opportunity", timeout=TIMEOUT
    )["records"]
    assert deals
    assert all(isinstance(d["Amount"], float) for d in deals)
    users = sf.query_all("SELECT Id, Name, IsActive FROM User", timeout=TIMEOUT)["records"]
    assert any(u["IsActive"] is False for u in users)
    queues = sf.query_all("SELECT Id, Name FROM Group WHERE Type = 'Queue'", timeout=TIMEOUT)
    assert queues["totalSize"] == 2
    meetings = sf.query_all("SELECT Id, StartDateTime, WhoId FROM Event", timeout=TIMEOUT)
    assert meetings["totalSize"] > 0
    leads = sf.query_all(
        "SELECT Id, IsConverted, ConvertedDate, ConvertedContactId FROM Lead "
        "WHERE IsConverted = true",
        timeout=TIMEOUT,
    )["records"]
    assert leads
    assert all(date.fromisoformat(lead["ConvertedDate"]) for lead in leads)


def test_describe_lists_custom_fields_and_limits_report_usage(
    fake_salesforce: FakeSalesforce,
) -> None:
    sf = connect(fake_salesforce)

    described = sf.Lead.describe()  # takes no timeout in 1.12 (headers only)
    limits = sf.limits(timeout=TIMEOUT)
    assert "Lead" in {o["name"] for o in sf.describe(timeout=TIMEOUT)["sobjects"]}

    fields = {f["name"]: f for f in described["fields"]}
    assert fields["Segment__c"]["custom"] is True
    assert fields["Status"]["type"] == "picklist"
    assert "Sales Accepted" in {v["value"] for v in fields["Status"]["picklistValues"]}
    assert fields["OwnerId"]["referenceTo"] == ["Group", "User"]
    assert limits["DailyApiRequests"] == {"Max": 15_000, "Remaining": 15_000 - 2}
    # SFType.describe takes no timeout in 1.12; restful() passes one on.
    assert sf.restful("sobjects/Lead/describe", timeout=TIMEOUT) == described
    assert fake_salesforce.calls == {"describe:Lead": 2, "limits": 1, "describe": 1}
    assert sf.api_usage["api-usage"].used == 4


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("INVALID_SESSION_ID", SalesforceExpiredSession),
        ("REQUEST_LIMIT_EXCEEDED", SalesforceRefusedRequest),
        ("QUERY_TIMEOUT", SalesforceMalformedRequest),
    ],
)
def test_injected_errors_raise_the_sdk_exceptions(
    fake_salesforce: FakeSalesforce, code: str, error: type[Exception]
) -> None:
    sf = connect(fake_salesforce)
    fake_salesforce.fail(code, kind="queryAll:Lead")

    with pytest.raises(error) as raised:
        list(sf.query_all_iter(window(*EVERYTHING), include_deleted=True, timeout=TIMEOUT))

    assert raised.value.content[0]["errorCode"] == code  # type: ignore[attr-defined]
    assert len(list(sf.query_all_iter(window(*EVERYTHING), include_deleted=True))) == 300


def test_an_error_in_the_middle_of_paging(fake_salesforce: FakeSalesforce) -> None:
    sf = connect(fake_salesforce)
    fake_salesforce.fail("REQUEST_LIMIT_EXCEEDED", kind="query_more")
    rows = sf.query_all_iter(window(*EVERYTHING), timeout=TIMEOUT, **SMALL_PAGES)
    seen = [next(rows)["Id"] for _ in range(200)]

    with pytest.raises(SalesforceRefusedRequest):
        next(rows)

    assert len(set(seen)) == 200


def test_bad_queries_are_answered_as_salesforce_does(fake_salesforce: FakeSalesforce) -> None:
    sf = connect(fake_salesforce)
    cases = {
        "SELECT BADFIELD FROM Lead": "INVALID_FIELD",
        "SELECT Id FORM Lead": "MALFORMED_QUERY",
        "SELECT Id FROM Nothing__c": "INVALID_TYPE",
        "SELECT Id FROM Lead WHERE SystemModstamp >= '2026-01-01T00:00:00Z'": "INVALID_FIELD",
    }
    for soql, code in cases.items():
        with pytest.raises(SalesforceMalformedRequest) as raised:
            sf.query(soql, timeout=TIMEOUT)
        assert raised.value.content[0]["errorCode"] == code, soql  # type: ignore[attr-defined]
        if code == "INVALID_FIELD" and "BADFIELD" in soql:
            assert (
                "No such column 'BADFIELD' on entity 'Lead'" in raised.value.content[0]["message"]
            )  # type: ignore[attr-defined]


def test_a_window_too_wide_times_out(fake_salesforce: FakeSalesforce) -> None:
    sf = connect(fake_salesforce)
    fake_salesforce.query_timeout_rows = 100
    start = min(r["SystemModstamp"] for r in fake_salesforce.org.tables["Lead"].values())

    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query(window(*EVERYTHING), timeout=TIMEOUT)
    narrow = sf.query(window(start, start + timedelta(days=3)), timeout=TIMEOUT)

    assert raised.value.content[0]["errorCode"] == "QUERY_TIMEOUT"  # type: ignore[attr-defined]
    assert 0 < narrow["totalSize"] <= 100


def test_the_daily_allocation_runs_out(fake_salesforce: FakeSalesforce) -> None:
    sf = connect(fake_salesforce)
    fake_salesforce.api_max = 3
    sf.limits()
    sf.limits()
    sf.limits()
    with pytest.raises(SalesforceRefusedRequest) as raised:
        sf.limits()
    assert raised.value.content == [  # type: ignore[attr-defined]
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]


def test_a_late_row_and_a_change_during_a_sync(fake_salesforce: FakeSalesforce) -> None:
    sf = connect(fake_salesforce)
    now = datetime.now(UTC)
    org = fake_salesforce.org
    late = org.insert("Lead", {"Status": "Open - Not Contacted", "OwnerId": None}, at=now)
    org.tables["Lead"][late]["SystemModstamp"] = now - timedelta(minutes=5)
    moved = next(iter(org.tables["Lead"]))

    def edit(request: Request) -> None:
        if request.kind == "query_more:Lead":
            org.update("Lead", moved, Status="Sales Accepted")

    fake_salesforce.before_request = edit
    since = now - timedelta(minutes=10)
    list(sf.query_all_iter(window(*EVERYTHING), timeout=TIMEOUT, **SMALL_PAGES))
    recent = sf.query_all(window(since, now + timedelta(minutes=1)), timeout=TIMEOUT)

    assert {r["Id"] for r in recent["records"]} == {late, moved}
    history = [r for r in org.tables["LeadHistory"].values() if r["LeadId"] == moved]
    assert history[-1]["NewValue"] == "Sales Accepted"


def test_an_expired_session_without_credentials_stays_expired(
    fake_salesforce: FakeSalesforce,
) -> None:
    sf = connect(fake_salesforce)
    fake_salesforce.expire_sessions()
    with pytest.raises(SalesforceExpiredSession) as raised:
        sf.limits(timeout=TIMEOUT)
    assert raised.value.content == [  # type: ignore[attr-defined]
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_soap_login_with_a_security_token_and_relogin_on_expiry(
    fake_salesforce: FakeSalesforce,
) -> None:
    sf = Salesforce(
        username=fake_salesforce.username,
        password=fake_salesforce.password,
        security_token=fake_salesforce.security_token,
        domain=fake_salesforce.domain,
        session=trusting(fake_salesforce),
    )
    assert sf.sf_instance == fake_salesforce.host
    first = sf.session_id
    assert sf.limits(timeout=TIMEOUT)["DailyApiRequests"]["Max"] == 15_000

    fake_salesforce.expire_sessions()
    assert sf.limits(timeout=TIMEOUT)  # simple-salesforce logs in again on INVALID_SESSION_ID

    assert sf.session_id != first
    assert fake_salesforce.calls["soap_login"] == 2
    with pytest.raises(SalesforceAuthenticationFailed, match="INVALID_LOGIN"):
        Salesforce(
            username=fake_salesforce.username,
            password="wrong",
            security_token=fake_salesforce.security_token,
            domain=fake_salesforce.domain,
            session=trusting(fake_salesforce),
        )


def test_client_credentials_and_password_grants(fake_salesforce: FakeSalesforce) -> None:
    sf = by_client_credentials(fake_salesforce)
    assert sf.auth_type == "client-credentials"
    assert sf.query("SELECT Id FROM User LIMIT 1", timeout=TIMEOUT)["totalSize"] == 1
    fake_salesforce.expire_sessions()
    assert sf.query("SELECT Id FROM User LIMIT 1", timeout=TIMEOUT)["totalSize"] == 1
    assert fake_salesforce.calls["token"] == 2

    password = Salesforce(
        username=fake_salesforce.username,
        password=fake_salesforce.password,
        consumer_key=fake_salesforce.consumer_key,
        consumer_secret=fake_salesforce.consumer_secret,
        domain=fake_salesforce.domain,
        session=trusting(fake_salesforce),
    )
    assert password.limits(timeout=TIMEOUT)
    with pytest.raises(SalesforceAuthenticationFailed, match="invalid_client"):
        Salesforce(
            consumer_key=fake_salesforce.consumer_key,
            consumer_secret="wrong",
            domain=fake_salesforce.domain,
            session=trusting(fake_salesforce),
        )


def test_tls_is_trusted_through_requests_ca_bundle_and_only_then(
    fake_salesforce: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
) -> None:
    untrusting = Salesforce(instance_url=fake_salesforce.url, session_id=fake_salesforce.session_id)
    with pytest.raises(requests.exceptions.SSLError):
        untrusting.limits(timeout=TIMEOUT)

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake_salesforce.ca_path)
    sf = Salesforce(instance_url=fake_salesforce.url, session_id=fake_salesforce.session_id)
    assert sf.limits(timeout=TIMEOUT)["DailyApiRequests"]["Max"] == 15_000


def test_a_subprocess_trusts_the_fake_through_requests_ca_bundle(
    fake_salesforce: FakeSalesforce,
) -> None:
    program = (
        "import sys; from simple_salesforce import Salesforce; "
        "sf = Salesforce(instance_url=sys.argv[1], session_id=sys.argv[2]); "
        "print(sf.query('SELECT Id FROM User')['totalSize'])"
    )
    environment = {**os.environ, "REQUESTS_CA_BUNDLE": fake_salesforce.ca_path}
    done = subprocess.run(
        [sys.executable, "-c", program, fake_salesforce.url, fake_salesforce.session_id],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(len(fake_salesforce.org.tables["User"]))


def test_bulk2_query_all_pages_csv_with_locators(fake_salesforce: FakeSalesforce) -> None:
    fake_salesforce.bulk_polls = 2
    sf = connect(fake_salesforce)
    fields = (
        "Id, Status, IsConverted, ConvertedDate, OwnerId, Owner.Name, IsDeleted, SystemModstamp"
    )

    pages = list(
        sf.bulk2.Lead.query_all(window(*EVERYTHING, fields=fields), max_records=120, wait=0)
    )

    rows = [row for page in pages for row in csv.DictReader(io.StringIO(page))]
    assert len(pages) == 3
    assert len(rows) == 300
    assert {r["IsConverted"] for r in rows} == {"true", "false"}
    assert any(r["ConvertedDate"] == "" for r in rows)
    assert all(r["SystemModstamp"].endswith("Z") for r in rows)
    assert all(r["Owner.Name"] for r in rows)
    assert fake_salesforce.calls == {
        "bulk_create:Lead": 1,
        "bulk_job": 3,
        "bulk_results": 3,
    }


def test_a_failed_bulk_job_raises(fake_salesforce: FakeSalesforce) -> None:
    fake_salesforce.bulk_failure = "InvalidBatch : Failed to process query"
    sf = connect(fake_salesforce)
    with pytest.raises(SalesforceOperationError, match="Failed to process query"):
        list(sf.bulk2.Lead.query(window(*EVERYTHING), wait=0))


def test_malformed_values_are_served_as_they_are(
    make_fake_salesforce: Callable[..., FakeSalesforce],
) -> None:
    fake = make_fake_salesforce(seed=14, leads=200, malformed=True)
    sf = connect(fake)
    rows = {
        r["Id"]: r
        for r in sf.query_all_iter(
            "SELECT Id, Status, CreatedDate FROM Lead ORDER BY Id", timeout=TIMEOUT
        )
    }
    for sobject, row_id, name, value in fake.org.malformed:
        if sobject == "Lead":
            assert rows[row_id][name] == value
    deal = next(m for m in fake.org.malformed if m[0] == "Opportunity")
    got = sf.query(f"SELECT Id, Amount FROM Opportunity WHERE Id = '{deal[1]}'", timeout=TIMEOUT)
    assert got["records"][0]["Amount"] == "12k"


def test_the_same_seed_gives_the_same_org() -> None:
    first, second = generate_org(seed=9, leads=50), generate_org(seed=9, leads=50)
    assert first.tables == second.tables
    assert generate_org(seed=10, leads=50).tables != first.tables


def test_a_session_expiring_mid_paging_logs_in_again_and_keeps_the_cursor(
    fake_salesforce: FakeSalesforce,
) -> None:
    sf = by_client_credentials(fake_salesforce)

    def expire(request: Request) -> None:
        if request.kind == "query_more:Lead" and fake_salesforce.calls["token"] == 1:
            fake_salesforce.expire_sessions()

    fake_salesforce.before_request = expire
    rows = list(sf.query_all_iter(window(*EVERYTHING), timeout=TIMEOUT, **SMALL_PAGES))

    assert len({r["Id"] for r in rows}) == 300
    assert fake_salesforce.calls["token"] == 2
    assert fake_salesforce.calls["query_more:Lead"] == 2  # the refused page, then again


def test_select_count_answers_the_number_without_records(
    make_fake_salesforce: Callable[..., FakeSalesforce],
) -> None:
    fake = make_fake_salesforce(seed=7, leads=200, deleted=5, activity=False)
    sf = connect(fake)

    live = sf.query("SELECT COUNT() FROM Lead", timeout=TIMEOUT)
    every = sf.query("SELECT COUNT() FROM Lead", include_deleted=True, timeout=TIMEOUT)
    converted = sf.query("SELECT COUNT() FROM Lead WHERE IsConverted = true", timeout=TIMEOUT)

    assert live == {"totalSize": 200, "done": True, "records": []}
    assert every["totalSize"] == 205
    expected = sum(
        1 for r in fake.org.tables["Lead"].values() if r["IsConverted"] and not r["IsDeleted"]
    )
    assert converted["totalSize"] == expected
