"""The Salesforce client against the fake Salesforce, through the real simple-salesforce."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from tests.fakes.salesforce import FakeSalesforce, soql_time

from slacore_connectors.salesforce.client import (
    Credentials,
    SalesforceClient,
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
