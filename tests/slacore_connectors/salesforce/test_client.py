"""The Salesforce client against the fake Salesforce, through the real simple-salesforce."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.fakes.salesforce import FakeSalesforce, Request, soql_time
from tests.slacore_connectors.salesforce.test_mapping_fake_org import MAPPING

from slacore.connector import Secret
from slacore.errors import ValidationError
from slacore_connectors.salesforce.client import (
    Credentials,
    SalesforceAuthError,
    SalesforceClient,
    SalesforceError,
    SalesforceLimitError,
    SalesforceQueryTimeout,
)
from slacore_connectors.salesforce.mapping import (
    fields,
    map_lead,
    map_opportunity,
)

pytest.importorskip("simple_salesforce")

LEAD_FIELDS = "Id, Status, OwnerId, CreatedDate, ConvertedDate, IsDeleted, SystemModstamp"
EVERYTHING = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))


def window(sobject: str = "Lead", fields: str = LEAD_FIELDS) -> str:
    start, end = EVERYTHING
    return (
        f"SELECT {fields} FROM {sobject} WHERE SystemModstamp >= {soql_time(start)} "
        f"AND SystemModstamp < {soql_time(end)} ORDER BY SystemModstamp, Id"
    )


def credentials(fake: FakeSalesforce, kind: str) -> Credentials:
    if kind == "session_id":
        return Credentials(session_id=fake.session_id)
    if kind == "password":
        return Credentials(
            username=fake.username, password=fake.password, security_token=fake.security_token
        )
    return Credentials(consumer_key=fake.consumer_key, consumer_secret=fake.consumer_secret)


def client(
    fake: FakeSalesforce,
    monkeypatch: pytest.MonkeyPatch,
    kind: str = "session_id",
    **options: Any,
) -> SalesforceClient:
    """A client on the fake, trusting its CA as a user does (REQUESTS_CA_BUNDLE)."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
    return SalesforceClient(
        instance_url=fake.url,
        credentials=credentials(fake, kind),
        domain=fake.domain,
        timeout=options.pop("timeout", 10.0),
        **options,
    )


def secrets_of(fake: FakeSalesforce) -> list[str]:
    return [
        fake.session_id,
        fake.username,
        fake.password,
        fake.security_token,
        fake.consumer_key,
        fake.consumer_secret,
    ]


@pytest.mark.parametrize("kind", ["session_id", "password", "client_credentials"])
def test_each_credential_set_logs_in_and_pages_a_query(
    fake_salesforce: FakeSalesforce, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    sf = client(fake_salesforce, monkeypatch, kind)
    assert fake_salesforce.requests == []  # no call before the first read

    pages = list(sf.query(window()))

    rows = [row for page in pages for row in page]
    live = [r for r in fake_salesforce.org.tables["Lead"].values() if not r["IsDeleted"]]
    assert sorted(r["Id"] for r in rows) == sorted(r["Id"] for r in live)
    assert all("attributes" not in row for row in rows)
    assert sf.calls == len(pages) == 1
    assert sf.logins == (0 if kind == "session_id" else 1)
    logins = fake_salesforce.calls["soap_login"] + fake_salesforce.calls["token"]
    assert logins == sf.logins
    assert sf.api_usage == (fake_salesforce.api_used, fake_salesforce.api_max)
    assert_safe(fake_salesforce, sf, sf.credentials, sf=sf)


def assert_safe(fake: FakeSalesforce, *shown: object, sf: SalesforceClient | None = None) -> None:
    """No secret (nor the session in use) in the str or repr of anything shown; errors one line."""
    secrets = secrets_of(fake)
    if sf is not None and sf._sf is not None:
        secrets.append(sf._sf.session_id)
    for thing in shown:
        for text in (str(thing), repr(thing)):
            for secret in secrets:
                assert secret not in text, (secret, text)
        if isinstance(thing, Exception):
            assert "\n" not in str(thing)


def on_request(
    fake: FakeSalesforce, prefix: str, action: Callable[[], None], when: Callable[[], bool]
) -> None:
    """Do ``action`` before the fake answers a request of a kind starting with ``prefix``,
    while ``when()`` holds."""

    def hook(request: Request) -> None:
        if request.kind.startswith(prefix) and when():
            action()

    fake.before_request = hook


def rows_of(pages: Iterable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [row for page in pages for row in page]


# -- credentials ---------------------------------------------------------------------------


def test_credentials_from_settings_take_text_and_secrets_and_hide_them() -> None:
    given = Credentials.from_settings(
        {"username": "ann@example.com", "password": Secret("pw-123"), "security_token": "TOK9"}
    )
    assert given.kind == "password"
    assert given.can_login
    assert (given.username, given.password, given.security_token) == (
        "ann@example.com",
        "pw-123",
        "TOK9",
    )
    for text in (repr(given), str(given), f"{given}"):
        for value in ("ann@example.com", "pw-123", "TOK9"):
            assert value not in text
    session = Credentials.from_settings({"session_id": Secret("00D!abc"), "password": ""})
    assert session.kind == "session_id"
    assert not session.can_login
    app = Credentials.from_settings({"consumer_key": "K", "consumer_secret": Secret("S")})
    assert (app.kind, app.can_login) == ("client_credentials", True)


@pytest.mark.parametrize(
    ("settings", "field", "says"),
    [
        ({}, "session_id", "no Salesforce credentials"),
        ({"password": "   "}, "session_id", "no Salesforce credentials"),
        ({"username": "u", "password": "p"}, "security_token", "security_token is missing"),
        ({"consumer_secret": "s"}, "consumer_key", "consumer_key is missing"),
        (
            {"username": "u"},
            "password",
            "password and security_token are missing",
        ),
        (
            {"session_id": "sid", "username": "u", "password": "p", "security_token": "t"},
            "username",
            "two kinds given (session_id and username + password + security_token)",
        ),
        (
            {"consumer_key": "k", "consumer_secret": "s", "session_id": "sid"},
            "consumer_key",
            "two kinds given (session_id and consumer_key + consumer_secret)",
        ),
    ],
)
def test_missing_or_mixed_credentials_name_the_setting(
    settings: dict[str, Any], field: str, says: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        Credentials.from_settings({name: Secret(value) for name, value in settings.items()})
    assert raised.value.field == field
    assert says in str(raised.value)
    assert raised.value.value is None
    for value in settings.values():
        if value.strip():
            assert f"'{value}'" not in repr(raised.value)


def test_a_credential_that_is_not_text_is_refused() -> None:
    with pytest.raises(ValidationError, match="setting 'session_id': expected text, got int"):
        Credentials.from_settings({"session_id": 12})


def test_the_client_checks_its_settings_without_calling(fake_salesforce: FakeSalesforce) -> None:
    good = Credentials(session_id="x")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"instance_url": "http://example.my.salesforce.com"}, "instance_url"),
        ({"timeout": 0}, "timeout"),
        ({"daily_share": 1.5}, "daily_share"),
        ({"page_size": 100}, "page_size"),
        ({"retries": -1}, "retries"),
        ({"bulk_page": 0}, "bulk_page"),
        (
            {
                "instance_url": "https://127.0.0.1:1",
                "credentials": Credentials(consumer_key="k", consumer_secret="s"),
            },
            "domain",
        ),
    ]
    for options, field in cases:
        arguments = {"instance_url": fake_salesforce.url, "credentials": good, **options}
        with pytest.raises(ValidationError) as raised:
            SalesforceClient(**arguments)
        assert raised.value.field == field
    my_domain = SalesforceClient(
        instance_url="https://acme.my.salesforce.com",
        credentials=Credentials(consumer_key="k", consumer_secret="s"),
    )
    assert my_domain.domain == "acme.my"  # client credentials need a My Domain
    assert fake_salesforce.requests == []


def test_a_missing_sdk_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "simple_salesforce", None)
    with pytest.raises(SalesforceError) as raised:
        SalesforceClient(
            instance_url="https://x.my.salesforce.com", credentials=Credentials(session_id="s")
        )
    assert "pip install 'slacore[salesforce]'" in str(raised.value)


@pytest.mark.parametrize("kind", ["password", "client_credentials"])
def test_refused_logins_name_the_settings_and_hide_the_values(
    fake_salesforce: FakeSalesforce, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    if kind == "password":
        fake_salesforce.password = "a-different-one"
        settings = "username, password and security_token"
    else:
        fake_salesforce.consumer_secret = "a-different-one"
        settings = "consumer_key and consumer_secret"
    sf = client(fake_salesforce, monkeypatch, kind)
    fake_salesforce.password, fake_salesforce.consumer_secret = (
        "correct-horse",
        "fake-consumer-secret",
    )

    with pytest.raises(SalesforceAuthError) as raised:
        list(sf.query(window()))

    assert settings in str(raised.value)
    assert raised.value.code in ("INVALID_LOGIN", "invalid_client")
    assert sf.calls == 0
    assert_safe(fake_salesforce, raised.value, sf, sf.credentials, sf=sf)


# -- paging --------------------------------------------------------------------------------


def test_pages_of_two_thousand_and_smaller_with_page_size(
    make_fake_salesforce: Callable[..., FakeSalesforce], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = make_fake_salesforce(seed=3, leads=4_100, activity=False)
    sf = client(fake, monkeypatch)

    pages = list(sf.query(window()))

    assert [len(page) for page in pages] == [2_000, 2_000, 100]
    assert sf.calls == 3
    assert fake.calls == {"query:Lead": 1, "query_more:Lead": 2}
    ids = [row["Id"] for row in rows_of(pages)]
    assert len(set(ids)) == 4_100

    small = client(fake, monkeypatch, page_size=1_000)
    assert [len(page) for page in small.query(window())] == [1_000] * 4 + [100]
    assert small.calls == 5
    assert small.api_usage == (fake.api_used, fake.api_max) == (8, 15_000)


def test_include_deleted_reads_deleted_rows_through_query_all(
    make_fake_salesforce: Callable[..., FakeSalesforce], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = make_fake_salesforce(seed=7, leads=200, deleted=5)
    sf = client(fake, monkeypatch)

    live = rows_of(sf.query(window()))
    every = rows_of(sf.query(window(), include_deleted=True))

    assert len(live) == 200
    assert not any(row["IsDeleted"] for row in live)
    assert sum(row["IsDeleted"] is True for row in every) == 5
    assert fake.calls["queryAll:Lead"] == 1
    assert sf.count("FROM Lead") == 200
    assert sf.count("Lead WHERE IsDeleted = true", include_deleted=True) == 5
    assert sf.calls == 4


def test_describe_answers_the_fields_and_refuses_an_unknown_object(
    fake_salesforce: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
) -> None:
    sf = client(fake_salesforce, monkeypatch)

    described = sf.describe("Lead")

    assert "Segment__c" in {f["name"] for f in described["fields"]}
    with pytest.raises(SalesforceError) as raised:
        sf.describe("Nothing__c")
    assert raised.value.code == "NOT_FOUND"
    assert "404" in str(raised.value)
    assert sf.calls == 2
    with pytest.raises(ValueError, match="not an object name"):
        sf.describe("Lead/../limits")


def test_a_bad_query_is_salesforces_error_in_one_line(
    fake_salesforce: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
) -> None:
    sf = client(fake_salesforce, monkeypatch)
    with pytest.raises(SalesforceError) as raised:
        list(sf.query("SELECT BADFIELD FROM Lead"))
    assert type(raised.value) is SalesforceError
    assert raised.value.code == "INVALID_FIELD"
    assert "No such column 'BADFIELD' on entity 'Lead'" in str(raised.value)
    assert str(raised.value).startswith("Salesforce answered 400 to a query of Lead: INVALID_FIELD")
    assert_safe(fake_salesforce, raised.value, sf=sf)


def test_a_secret_salesforce_echoes_back_is_hidden(
    fake_salesforce: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
) -> None:
    sf = client(fake_salesforce, monkeypatch, "password")
    echoed = f"user {fake_salesforce.username} with {fake_salesforce.password}"
    fake_salesforce.fail("MALFORMED_QUERY", message=echoed)

    with pytest.raises(SalesforceError) as raised:
        sf.describe("Lead")

    assert str(raised.value).endswith("MALFORMED_QUERY: user *** with ***")
    assert_safe(fake_salesforce, raised.value, sf=sf)


# -- faults --------------------------------------------------------------------------------


def test_query_timeout_is_its_own_error(
    fake_salesforce: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
) -> None:
    sf = client(fake_salesforce, monkeypatch)
    fake_salesforce.query_timeout_rows = 100

    with pytest.raises(SalesforceQueryTimeout) as raised:
        list(sf.query(window(), include_deleted=True))

    assert raised.value.code == "QUERY_TIMEOUT"
    assert "queryAll of Lead" in str(raised.value)
    fake_salesforce.query_timeout_rows = None
    assert len(rows_of(sf.query(window()))) == 300


def test_request_limit_exceeded_mid_paging_stops_after_the_pages_read(
    fake_salesforce: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
) -> None:
    sf = client(fake_salesforce, monkeypatch, page_size=200)
    fake_salesforce.fail("REQUEST_LIMIT_EXCEEDED", kind="query_more")
    pages = sf.query(window())

    assert len(next(pages)) == 200
    with pytest.raises(SalesforceLimitError) as raised:
        next(pages)

    assert raised.value.code == "REQUEST_LIMIT_EXCEEDED"
    assert "rerun later" in str(raised.value)
    assert sf.calls == 2


def test_the_daily_share_stops_before_the_next_call(
    fake_salesforce: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_salesforce.api_max = 10_000
    fake_salesforce.api_used = 7_998
    sf = client(fake_salesforce, monkeypatch, page_size=200, daily_share=0.8)
    pages = sf.query(window())

    assert len(next(pages)) == 200  # 7,999 of 10,000 used
    assert len(next(pages)) == 100  # 8,000: the share is reached, the next call not made
    assert sf.api_usage == (8_000, 10_000)
    with pytest.raises(SalesforceLimitError) as raised:
        sf.count("FROM Lead")

    assert raised.value.code is None
    assert "8,000 of 10,000" in str(raised.value)
    assert fake_salesforce.api_used == 8_000
    assert sf.calls == 2


def test_an_expired_session_id_is_one_line_naming_the_setting(
    fake_salesforce: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
) -> None:
    sf = client(fake_salesforce, monkeypatch)
    fake_salesforce.expire_sessions()

    with pytest.raises(SalesforceAuthError) as raised:
        list(sf.query(window()))

    message = str(raised.value)
    assert message.startswith("Salesforce refused the session_id (INVALID_SESSION_ID")
    assert "set session_id to a fresh one" in message
    assert raised.value.code == "INVALID_SESSION_ID"
    assert sf.calls == 1
    assert fake_salesforce.calls["soap_login"] + fake_salesforce.calls["token"] == 0
    assert_safe(fake_salesforce, raised.value, sf=sf)


@pytest.mark.parametrize("kind", ["password", "client_credentials"])
def test_a_session_expiring_mid_paging_logs_in_again_once(
    fake_salesforce: FakeSalesforce, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    sf = client(fake_salesforce, monkeypatch, kind, page_size=200)

    on_request(
        fake_salesforce, "query_more:Lead", fake_salesforce.expire_sessions, lambda: sf.logins == 1
    )
    rows = rows_of(sf.query(window()))

    assert len({row["Id"] for row in rows}) == 300
    assert sf.logins == 2
    assert sf.calls == 3  # the first page, the refused page, the page again
    assert fake_salesforce.calls["query_more:Lead"] == 2


def test_a_server_error_is_retried_a_few_times_then_raised(
    fake_salesforce: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    sf = client(fake_salesforce, monkeypatch, page_size=200, backoff=0.5, sleep=waits.append)
    fake_salesforce.fail("SERVER_UNAVAILABLE", kind="query_more", times=2)

    assert len(rows_of(sf.query(window()))) == 300
    assert waits == [0.5, 1.0]
    assert sf.calls == 4

    fake_salesforce.fail("UNKNOWN_EXCEPTION", kind="query:Lead", times=3)
    with pytest.raises(SalesforceError) as raised:
        list(sf.query(window()))
    assert raised.value.code == "UNKNOWN_EXCEPTION"
    assert str(raised.value).endswith("(after 3 tries)")
    assert sf.calls == 7

    fake_salesforce.fail("SERVER_UNAVAILABLE", kind="bulk_create")
    with pytest.raises(SalesforceError, match=r"503 to a Bulk 2\.0 query job on Lead"):
        list(sf.bulk_query(window()))
    assert fake_salesforce.calls_of("bulk_create") == 1  # a job may have been made: not again


def test_a_session_refused_right_after_a_new_login_is_an_auth_error(
    fake_salesforce: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
) -> None:
    sf = client(fake_salesforce, monkeypatch, "password")

    on_request(fake_salesforce, "query", fake_salesforce.expire_sessions, lambda: True)
    with pytest.raises(SalesforceAuthError) as raised:
        list(sf.query(window()))

    assert "refused a session it had just given" in str(raised.value)
    assert sf.logins == 2  # one new login per call, not a loop
    assert sf.calls == 2
    assert_safe(fake_salesforce, raised.value, sf=sf)


@pytest.mark.parametrize("kind", ["session_id", "password"])
def test_a_server_that_does_not_answer_in_time(
    fake_salesforce: FakeSalesforce, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    sf = client(fake_salesforce, monkeypatch, kind, timeout=0.3)
    slow = "soap_login" if kind == "password" else "query"

    on_request(fake_salesforce, slow, lambda: time.sleep(1.0), lambda: True)
    started = time.monotonic()
    with pytest.raises(SalesforceError) as raised:
        list(sf.query(window()))

    assert time.monotonic() - started < 1.0
    what = "the login at" if kind == "password" else "a query of Lead"
    assert str(raised.value).startswith(f"Salesforce did not answer {what}")
    assert "no answer within 0.3 s" in str(raised.value)
    assert_safe(fake_salesforce, raised.value, sf=sf)


def test_an_untrusted_certificate_is_said_so(
    fake_salesforce: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
) -> None:
    import certifi

    sf = client(fake_salesforce, monkeypatch)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    with pytest.raises(SalesforceError, match="TLS certificate is not trusted"):
        sf.describe("Lead")


def test_a_bulk_job_that_does_not_complete_in_time_or_fails(
    fake_salesforce: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    clock = iter(range(1_000))
    sf = client(
        fake_salesforce,
        monkeypatch,
        bulk_wait=5,
        bulk_poll=1,
        sleep=waits.append,
        clock=lambda: float(next(clock)),
    )
    fake_salesforce.bulk_polls = 1_000

    with pytest.raises(
        SalesforceError, match=r"did not complete within 5 s \(last state InProgress\)"
    ):
        list(sf.bulk_query(window()))
    assert waits == [1, 2]

    fake_salesforce.bulk_polls = 0
    fake_salesforce.bulk_failure = "InvalidBatch : Failed to process query"
    with pytest.raises(SalesforceError, match="ended Failed: InvalidBatch : Failed to process"):
        list(sf.bulk_query(window()))


# -- Bulk API 2.0 --------------------------------------------------------------------------


def test_bulk_rows_map_as_the_rest_rows_do(
    make_fake_salesforce: Callable[..., FakeSalesforce], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = make_fake_salesforce(seed=14, leads=300, deleted=4)
    fake.bulk_polls = 2
    sf = client(fake, monkeypatch, bulk_page=120, bulk_poll=0.01)
    lead_fields = ", ".join(fields(MAPPING, "Lead"))
    soql = window(fields=lead_fields)

    bulk_pages = list(sf.bulk_query(soql, include_deleted=True))
    rest = rows_of(sf.query(soql, include_deleted=True))

    assert [len(page) for page in bulk_pages] == [120, 120, 64]
    bulk = rows_of(bulk_pages)
    assert all(isinstance(value, str) for row in bulk for value in row.values())
    assert [row["Id"] for row in bulk] == [row["Id"] for row in rest]
    assert sum(row["IsDeleted"] == "true" for row in bulk) == 4
    for by_bulk, by_rest in zip(bulk, rest, strict=True):
        assert map_lead(by_bulk, [], MAPPING) == map_lead(by_rest, [], MAPPING)
    assert fake.calls_of("bulk_create") == 1
    assert fake.calls["bulk_job"] == 3
    assert fake.calls["bulk_results"] == 3
    assert sf.calls == 1 + 3 + 3 + 1

    deal_fields = ", ".join(fields(MAPPING, "Opportunity"))
    deal_soql = window("Opportunity", deal_fields)
    bulk_deals = rows_of(sf.bulk_query(deal_soql))
    rest_deals = rows_of(sf.query(deal_soql))
    assert bulk_deals
    assert [map_opportunity(row) for row in bulk_deals] == [
        map_opportunity(row) for row in rest_deals
    ]
