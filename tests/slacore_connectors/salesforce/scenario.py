"""What the Salesforce scenarios share: the job file of one ``salesforce`` source on a fake
Salesforce, its secrets in the environment, and syncs through the command line (a
subprocess) or in this process.

The job reads the fake's generated org with the oracle's mapping settings
(:data:`~tests.slacore_connectors.salesforce.oracle.SETTINGS`) and a lag of one second (a
window ends a second before its run starts); the rest are the connector's defaults. A
scenario that needs all leads in one query's pages (a fault on the third page) asks for
:data:`ONE_WINDOW`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.cli import slacore
from tests.fakes.salesforce import FakeSalesforce, Request
from tests.fakes.salesforce_org import STATUSES, Org, sf_id
from tests.slacore_connectors.salesforce.oracle import SETTINGS as MAPPING_SETTINGS

from slacore_connectors.jobs import JobConfig
from slacore_connectors.store.sqlite import SQLiteStore
from slacore_connectors.sync import SyncReport, run_sync

SOURCE = "sf"
#: The settings every scenario's job gives the connector, besides the fake's address.
SETTINGS: dict[str, Any] = {"lag": "1s", **MAPPING_SETTINGS}
#: A window longer than the generated org's history (its users are a year older than its
#: leads): one query a sObject, its pages crossing the whole history.
ONE_WINDOW = "1000d"
#: The environment variables of each credential set (the job file names them).
CREDENTIALS = {
    "password": {
        "username": "SF_USERNAME",
        "password": "SF_PASSWORD",
        "security_token": "SF_TOKEN",
    },
    "session_id": {"session_id": "SF_SESSION"},
    "client_credentials": {"consumer_key": "SF_KEY", "consumer_secret": "SF_SECRET"},
}
#: Request kinds that read data (not logins, describes or limits).
READS = ("query:", "queryAll:", "query_more:", "bulk_")
#: The queries that read an sObject by a window of its ``SystemModstamp``, one kind each.
WINDOWED = tuple(
    f"queryAll:{sobject}" for sobject in ("Lead", "Task", "Event", "Opportunity", "User")
)
_BOUND = re.compile(r"SystemModstamp\s*(>=|<)\s*(\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d))")


def put_secrets(monkeypatch: pytest.MonkeyPatch, fake: FakeSalesforce) -> None:
    """The fake's credentials (every set) and CA in the environment a CLI subprocess inherits."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
    monkeypatch.setenv("SF_USERNAME", fake.username)
    monkeypatch.setenv("SF_PASSWORD", fake.password)
    monkeypatch.setenv("SF_TOKEN", fake.security_token)
    monkeypatch.setenv("SF_SESSION", fake.session_id)
    monkeypatch.setenv("SF_KEY", fake.consumer_key)
    monkeypatch.setenv("SF_SECRET", fake.consumer_secret)


def settings_of(
    fake: FakeSalesforce, credentials: str = "password", **settings: Any
) -> dict[str, Any]:
    """The source's settings: the fake's address, secrets from the environment, the rest
    (a setting given ``None`` is left out: the connector's default)."""
    secrets = {name: {"env": variable} for name, variable in CREDENTIALS[credentials].items()}
    given = {"instance_url": fake.url, "domain": fake.domain, **secrets, **SETTINGS, **settings}
    return {name: value for name, value in given.items() if value is not None}


def toml_value(value: Any) -> str:
    """A value written as TOML (strings, numbers, booleans, lists and inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Mapping):
        return (
            "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
        )
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def write_job(
    folder: Path, fake: FakeSalesforce, credentials: str = "password", **settings: Any
) -> Path:
    """``slacore.toml`` in ``folder``: one ``salesforce`` source on ``fake``; the store's path."""
    lines = [
        f"{name} = {{ env = {json.dumps(value['env'])} }}"
        if isinstance(value, Mapping) and set(value) == {"env"}
        else f"{name} = {toml_value(value)}"
        for name, value in settings_of(fake, credentials, **settings).items()
    ]
    (folder / "slacore.toml").write_text(
        f'store = "store.db"\n\n[[sources]]\nname = "{SOURCE}"\nconnector = "salesforce"\n\n'
        "[sources.settings]\n" + "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    return folder / "store.db"


def run_cli(folder: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """``slacore sync --json`` in ``folder``: the finished process and its one source's JSON
    (no traceback, whatever the outcome)."""
    done = slacore("sync", "--json", cwd=folder)
    assert "Traceback" not in done.stderr, done.stderr
    report = json.loads(done.stdout)
    (source,) = report["sources"]
    return done, dict(source)


def sync_cli(folder: Path) -> dict[str, Any]:
    """``slacore sync --json`` in ``folder``, which must succeed: its source's JSON."""
    done, source = run_cli(folder)
    assert done.returncode == 0, done.stderr
    assert source["status"] == "success", source
    return source


def said(done: subprocess.CompletedProcess[str]) -> list[str]:
    """What the command said on stderr besides its progress lines."""
    return [line for line in done.stderr.splitlines() if line.startswith("slacore: ")]


def sync_here(
    folder: Path, fake: FakeSalesforce, credentials: str = "password", **settings: Any
) -> SyncReport:
    """The job run in this process (secrets from :func:`put_secrets`' environment); it must
    succeed."""
    report = run_here(folder, fake, credentials, **settings)
    assert report.ok, report.to_dict()
    return report


def run_here(
    folder: Path, fake: FakeSalesforce, credentials: str = "password", **settings: Any
) -> SyncReport:
    """The job run in this process, whatever the outcome."""
    config = JobConfig.from_dict(
        {
            "store": "store.db",
            "sources": [
                {
                    "name": SOURCE,
                    "connector": "salesforce",
                    "settings": settings_of(fake, credentials, **settings),
                }
            ],
        },
        base=folder,
        environ=dict(os.environ),
    )
    return run_sync(config)


def since(before: Counter[str], after: Counter[str]) -> Counter[str]:
    """The requests made between two copies of ``fake.calls``."""
    return after - before


def reads(calls: Mapping[str, int]) -> Counter[str]:
    """The data-reading requests of ``calls`` (queries, their pages, Bulk 2.0 jobs)."""
    return Counter({kind: n for kind, n in calls.items() if kind.startswith(READS)})


def recently(seconds: float = 5) -> datetime:
    """A moment ``seconds`` ago: inside the next run's window (after the last window's end
    less the lookback, before the next run's start less the lag)."""
    return datetime.now(UTC) - timedelta(seconds=seconds)


def cursors(store_path: Path) -> dict[str, dict[str, Any]]:
    """The stored cursors' states, by stream name."""
    with SQLiteStore(store_path, read_only=True) as store:
        found = {stream: store.cursor(SOURCE, stream) for stream in ("leads", "touches")}
        found |= {stream: store.cursor(SOURCE, stream) for stream in ("deals", "reps")}
    return {name: dict(cursor.state) for name, cursor in found.items() if cursor is not None}


def task_row(org: Org, who: str, owner: str, at: datetime, subtype: str = "Call") -> dict[str, Any]:
    """A completed outbound call (or email) logged by ``owner`` with ``who`` at ``at``."""
    return {
        "WhoId": who,
        "OwnerId": owner,
        "Subject": f"{subtype} with {org.name_of(who)}",
        "Status": "Completed",
        "IsClosed": True,
        "ActivityDate": at.date(),
        "TaskSubtype": subtype,
        "Type": subtype,
        "CallType": "Outbound" if subtype == "Call" else None,
        "CallDurationInSeconds": 60 if subtype == "Call" else None,
        "CompletedDateTime": at,
        "IsArchived": False,
    }


def convert(org: Org, lead: str, rep: str, at: datetime) -> tuple[str, str]:
    """Convert ``lead`` at ``at`` as Salesforce does: a contact and an opportunity (owned by
    ``rep``) made, the lead's Status ``Closed - Converted`` (its history written) and its
    conversion fields set. Returns the contact's and the opportunity's ids."""
    contact = org.insert("Contact", {"Name": f"Contact of {lead}", "Email": "c@example.org"}, at=at)
    opportunity = org.insert(
        "Opportunity",
        {
            "Name": f"Deal of {lead}",
            "Amount": 25_000.0,
            "CloseDate": (at + timedelta(days=30)).date(),
            "StageName": "Prospecting",
            "IsWon": False,
            "IsClosed": False,
            "OwnerId": rep,
        },
        at=at,
    )
    org.update(
        "Lead",
        lead,
        at=at,
        Status=STATUSES[4],
        IsConverted=True,
        ConvertedDate=at.date(),
        ConvertedContactId=contact,
        ConvertedOpportunityId=opportunity,
        ConvertedAccountId=sf_id("Account", 999_000 + int(lead[3:15])),
    )
    return contact, opportunity


def active_user(org: Org) -> str:
    """The first active user of the org."""
    return min(i for i, row in org.tables["User"].items() if row["IsActive"])


def soql_of(request: Request) -> str:
    """The SOQL of a query request (none for a ``nextRecordsUrl`` page)."""
    return (request.query.get("q") or [""])[0]


def is_window_query(request: Request) -> bool:
    """Whether ``request`` reads rows by a ``SystemModstamp`` window (not a count, not a
    lookup by ids)."""
    soql = soql_of(request)
    return "COUNT()" not in soql and _BOUND.search(soql) is not None


def window(request: Request) -> tuple[datetime, datetime]:
    """The ``[start, end)`` of a window query, from its SOQL."""
    soql = soql_of(request)
    bounds = {op: datetime.fromisoformat(at) for op, at in _BOUND.findall(soql)}
    assert set(bounds) == {">=", "<"}, soql
    return bounds[">="], bounds["<"]
