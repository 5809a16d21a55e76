"""The leads' LeadHistory read once into a spool on a large read, by lead on a small one; the
converted leads of touches and deals known from the leads the run read: each ends with the
oracle (the store equals the fake's org record for record) and counts the calls the fake
saw."""

from __future__ import annotations

import doctest
import math
import re
import signal
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from tests.cli import signalled_sync
from tests.fakes.salesforce import PAGE_MAX, FakeSalesforce
from tests.slacore_connectors.salesforce.oracle import MAPPING, assert_store_equals_fake, held
from tests.slacore_connectors.salesforce.scenario import (
    put_secrets,
    since,
    soql_of,
    sync_cli,
    sync_here,
    task_row,
    write_job,
)

pytest.importorskip("simple_salesforce")

from slacore_connectors.salesforce import _history
from slacore_connectors.salesforce._history import URI_BUDGET, Spool

Make = Callable[..., FakeSalesforce]
#: Enough leads that reading their history by lead (about 420 a query) costs more calls
#: than reading the whole history once, pages of 2,000.
MANY = 3_000
BULK = {"rest": 10**9, "bulk": 100}


def history_rows(fake: FakeSalesforce) -> int:
    """The Status and Owner LeadHistory rows a ``query`` (not ``queryAll``) answers."""
    return sum(
        1
        for row in fake.org.tables["LeadHistory"].values()
        if row["Field"] in ("Status", "Owner") and not row["IsDeleted"]
    )


def lead_history_queries(fake: FakeSalesforce) -> list[str]:
    return [soql_of(r) for r in fake.requests if r.kind == "query:LeadHistory"]


@pytest.fixture
def spools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temp folder spools are made in, during the test (empty at first)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


@pytest.mark.parametrize("way", ["rest", "bulk"])
def test_a_large_first_sync_reads_lead_history_once_into_a_spool(
    tmp_path: Path,
    make_fake_salesforce: Make,
    monkeypatch: pytest.MonkeyPatch,
    spools: Path,
    way: str,
) -> None:
    fake = make_fake_salesforce(seed=14, leads=MANY, deleted=5, same_instant=300, malformed=True)
    put_secrets(monkeypatch, fake)
    store_path = write_job(tmp_path, fake, bulk_threshold=BULK[way])
    sync_here(tmp_path, fake, bulk_threshold=BULK[way])
    assert_store_equals_fake(store_path, fake.org, MAPPING, calls=fake.calls)
    asked = lead_history_queries(fake)
    shown = f"calls: {dict(fake.calls)}; LeadHistory: {asked}"
    assert not [q for q in asked if "LeadId IN" in q], shown
    # Whether history is tracked, its count (the cost decision), then one query by
    # CreatedDate, its pages of 2,000: no more than the history's pages.
    assert len(asked) == 3, shown
    assert "COUNT()" in asked[1], shown
    assert asked[2].endswith("ORDER BY CreatedDate, Id"), shown
    pages = math.ceil(history_rows(fake) / PAGE_MAX)
    assert fake.calls["query:LeadHistory"] + fake.calls["query_more:LeadHistory"] == 2 + pages
    assert bool(fake.calls["bulk_create:Lead"]) is (way == "bulk"), shown
    assert not list(spools.glob("slacore-lead-history-*"))  # the spool is deleted after the read


def test_a_small_read_asks_history_by_lead_in_lists_under_the_uri_limit(
    tmp_path: Path, make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch, spools: Path
) -> None:
    fake = make_fake_salesforce(seed=14, leads=900)
    put_secrets(monkeypatch, fake)
    store_path = write_job(tmp_path, fake, window="1000d")
    sync_here(tmp_path, fake, window="1000d")
    assert_store_equals_fake(store_path, fake.org, MAPPING, calls=fake.calls)
    by_lead = [q for q in lead_history_queries(fake) if "LeadId IN" in q]
    shown = f"calls: {dict(fake.calls)}"
    # 905 leads in one page: three lists (150 ids a list took seven), none too long.
    assert len(by_lead) == 3, shown
    assert all(len(quote_plus(q)) < URI_BUDGET for q in by_lead)
    assert sum(q.count("'00Q") for q in by_lead) == len(fake.org.tables["Lead"])
    assert not list(spools.glob("slacore-lead-history-*"))  # none made


def test_a_spool_read_timing_out_is_read_in_narrower_windows(
    tmp_path: Path, make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch, spools: Path
) -> None:
    fake = make_fake_salesforce(seed=14, leads=MANY)
    put_secrets(monkeypatch, fake)
    fake.query_timeout_rows = 2_500  # the counts time out, and so would the whole history
    store_path = write_job(tmp_path, fake, bulk_threshold=BULK["rest"])
    sync_here(tmp_path, fake, bulk_threshold=BULK["rest"])
    assert_store_equals_fake(store_path, fake.org, MAPPING, calls=fake.calls)
    asked = lead_history_queries(fake)
    assert not [q for q in asked if "LeadId IN" in q], asked
    assert len([q for q in asked if "CreatedDate >=" in q]) >= 2, asked  # halved
    assert not list(spools.glob("slacore-lead-history-*"))


def test_a_spool_keeps_each_row_once_and_is_deleted(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    rows = [{"Id": f"017{n}", "LeadId": f"00Q{n % 3}", "Field": "Status"} for n in range(7)]
    spool.add(rows[:5])
    spool.add(rows[3:])  # read again after a timeout: kept once
    found = spool.histories(["00Q0", "00Q1", "00Q9"])
    assert found == {"00Q0": rows[0::3], "00Q1": rows[1::3], "00Q9": []}
    assert spool.path.exists()
    spool.close()
    assert not spool.path.exists()


@pytest.mark.parametrize(
    ("way", "kind", "nth"),
    [
        # Killed as the spool's second page is asked for: no lead stored yet.
        ("rest", "query_more:LeadHistory", 1),
        # Killed as the third piece of leads is asked for: two pieces' leads stored.
        ("rest", "queryAll:Lead", 5),
        # A Bulk 2.0 load killed as the spool's third page is asked for.
        ("bulk", "query_more:LeadHistory", 2),
    ],
    ids=["in-the-spool", "between-pieces", "bulk"],
)
def test_a_sync_killed_in_the_spool_path_resumes_to_the_same_store(
    tmp_path: Path,
    make_fake_salesforce: Make,
    monkeypatch: pytest.MonkeyPatch,
    spools: Path,
    way: str,
    kind: str,
    nth: int,
) -> None:
    fake = make_fake_salesforce(seed=14, leads=MANY, deleted=5, same_instant=300)
    put_secrets(monkeypatch, fake)
    settings = {"bulk_threshold": BULK[way]}
    store_path = write_job(tmp_path, fake, **settings)
    status = signalled_sync(tmp_path, fake, kind, nth, signal.SIGKILL)
    assert status == -signal.SIGKILL, status
    assert "COUNT() FROM LeadHistory" in " ".join(lead_history_queries(fake))  # spooled
    if kind == "queryAll:Lead":
        assert held(store_path)["leads"]  # the pieces read before are kept

    before = Counter(fake.calls)
    sync_cli(tmp_path)
    calls = since(before, Counter(fake.calls))
    assert_store_equals_fake(store_path, fake.org, MAPPING, calls=calls)

    clean = tmp_path / "clean"
    clean.mkdir()
    write_job(clean, fake, **settings)
    sync_cli(clean)
    assert held(store_path) == held(clean / "store.db")


def test_converted_leads_read_this_run_are_not_looked_up(
    tmp_path: Path, make_fake_salesforce: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = make_fake_salesforce(seed=14, leads=400, deleted=3)
    put_secrets(monkeypatch, fake)
    org = fake.org
    # A call logged on a contact no lead was converted into (a customer's): looked up.
    customer = org.insert("Contact", {"Name": "A customer", "Email": "c@example.com"})
    rep = min(i for i, row in org.tables["User"].items() if row["IsActive"])
    at = datetime(2026, 2, 1, tzinfo=UTC)
    org.insert("Task", task_row(org, customer, rep, at), at=at)
    store_path = write_job(tmp_path, fake)
    sync_here(tmp_path, fake)
    assert_store_equals_fake(store_path, fake.org, MAPPING, calls=fake.calls)
    lookups = [soql_of(r) for r in fake.requests if re.search(r"Converted\w+Id IN", soql_of(r))]
    assert any(isinstance(r.get("ConvertedContactId"), str) for r in org.tables["Lead"].values())
    # Every other contact and opportunity is a lead's this run read: one lookup, of one id.
    assert len(lookups) == 1, lookups
    assert lookups[0].endswith(f"ConvertedContactId IN ('{customer}')"), lookups


def test_the_history_module_examples_run() -> None:
    assert doctest.testmod(_history).failed == 0
