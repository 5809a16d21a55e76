"""The ``hubspot`` connector, registered and driven through the real SDK against the fake:
its settings, a first read of every stream, a read from the last cursor, the check at start
and the errors that end a run."""

from __future__ import annotations

import io
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.progress import Progress as RichProgress
from rich.progress import TextColumn
from tests.fakes.hubspot import FakeHubSpot

pytest.importorskip("hubspot")

from slacore.connector import Batch, Cursor, Stream, get_connector
from slacore.errors import ValidationError
from slacore.model import Touch
from slacore.testing import ConnectorContract
from slacore_connectors._progress import Progress
from slacore_connectors.hubspot import connector as connector_module
from slacore_connectors.hubspot.client import HubSpotDailyLimitError, HubSpotError
from slacore_connectors.hubspot.connector import HubSpotConnector
from slacore_connectors.hubspot.mapping import HubSpotMapping, map_contact, parse_time
from slacore_connectors.sync import JobConfig, run_sync

CONTACT_STREAMS = ("stage_changes", "owner_changes", "handoffs")


def connector(fake: FakeHubSpot, **settings: Any) -> HubSpotConnector:
    given = {"access_token": fake.token, "base_url": fake.url, "lag": "1s", **settings}
    return HubSpotConnector(given, sleep=lambda seconds: None)


def read_all(hub: HubSpotConnector, cursors: dict[str, Cursor] | None = None) -> list[Batch]:
    cursors = cursors or {}
    batches = list(hub.read("leads", cursors.get("leads"), carried=CONTACT_STREAMS))
    for stream in ("touches", "deals", "reps"):
        batches += hub.read(stream, cursors.get(stream))
    return batches


def test_it_is_registered_as_hubspot() -> None:
    assert get_connector("hubspot") is HubSpotConnector
    HubSpotConnector.check_class()


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("lookback", "soon", "lookback"),
        ("page_size", 500, "expected 1 to 200, got 500"),
        ("base_url", "api.hubapi.com", "expected a URL"),
        ("start", "2026-01-01T00:00:00", "with its offset"),
        ("handoff_stage", "nowhere", "no lifecycle stage of the stage map"),
    ],
)
def test_bad_settings_are_errors_naming_them(setting: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as raised:
        HubSpotConnector({"access_token": "pat-na1-secret", setting: value})
    assert setting in str(raised.value)
    assert "pat-na1-secret" not in str(raised.value)


def test_the_token_is_never_in_a_repr(fake_hubspot: FakeHubSpot) -> None:
    hub = connector(fake_hubspot)
    assert fake_hubspot.token not in repr(hub)
    list(hub.read("reps"))
    assert fake_hubspot.token not in repr(hub.client)


def test_a_first_read_gives_every_live_object_once(fake_hubspot: FakeHubSpot) -> None:
    hub = connector(fake_hubspot)
    batches = read_all(hub)
    live = {str(c.id) for c in fake_hubspot.portal.live("contacts")}
    leads = [r.id for b in batches if b.stream is Stream.LEADS for r in b.records]
    rejected = [r.record_id for b in batches if b.stream is Stream.LEADS for r in b.rejected]
    assert sorted(leads + rejected) == sorted(live)  # each live contact mapped or rejected
    assert len(set(leads)) == len(leads)
    owners = {str(o.id) for o in fake_hubspot.portal.owners}
    reps = {r.id for b in batches if b.stream is Stream.REPS for r in b.records}
    assert reps == owners  # archived owners too
    # Within the leads pass, each page's carried batches come before its leads batch.
    order = [b.stream.value for b in batches if b.stream.value in {"leads", *CONTACT_STREAMS}]
    assert order[:4] == [*CONTACT_STREAMS, "leads"]


def test_a_read_from_the_last_cursors_reads_only_changes(fake_hubspot: FakeHubSpot) -> None:
    hub = connector(fake_hubspot, lookback="1m")
    cursors = {b.stream.value: b.cursor for b in read_all(hub)}
    changed = fake_hubspot.portal.live("contacts")[0]
    # Changed after the first read's window ended (1 s before it ran) and inside the
    # second's, which ends 1 s before it runs and starts a minute before the first's end.
    at = datetime.now(UTC) - timedelta(milliseconds=500)
    fake_hubspot.portal.set_property("contacts", changed.id, "lifecyclestage", "customer", at=at)
    time.sleep(1)
    later = connector(fake_hubspot, lookback="1m", start="2000-01-01")
    batches = read_all(later, cursors)
    leads = [r.id for b in batches if b.stream is Stream.LEADS for r in b.records]
    rejected = [r.record_id for b in batches if b.stream is Stream.LEADS for r in b.rejected]
    assert leads + rejected == [str(changed.id)]
    assert not [r for b in batches if b.stream is Stream.TOUCHES for r in b.records]


def test_the_api_calls_are_told_in_the_last_batch(fake_hubspot: FakeHubSpot) -> None:
    hub = connector(fake_hubspot)
    batches = list(hub.read("deals"))
    assert batches[-1].notices[-1].startswith("HubSpot API calls so far this run: ")
    calls = Counter(hub.calls)
    assert calls["properties"] == 1
    assert calls["search"] >= 1


def test_a_mapped_property_hubspot_does_not_know_is_an_error_at_start(
    fake_hubspot: FakeHubSpot,
) -> None:
    hub = connector(fake_hubspot, persona_property="persona")
    with pytest.raises(ValidationError, match="persona_property: HubSpot has no contact property"):
        next(iter(hub.read("leads")))
    assert set(hub.calls) == {"properties"}  # nothing read before the check


def test_a_refused_token_ends_every_later_read_without_a_call(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.expired = True
    hub = connector(fake_hubspot)
    with pytest.raises(HubSpotError, match="access_token"):
        list(hub.read("leads"))
    made = sum(hub.calls.values())
    with pytest.raises(HubSpotError, match="access_token"):
        list(hub.read("deals"))
    assert sum(hub.calls.values()) == made


def test_the_daily_limit_ends_the_run_saying_when_to_rerun(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.rate_limit(kind="search", policy="DAILY", retry_after="3600")
    hub = connector(fake_hubspot)
    with pytest.raises(HubSpotDailyLimitError, match="rerun after") as raised:
        list(hub.read("touches"))
    assert raised.value.rerun_after is not None
    assert raised.value.rerun_after > datetime.now(UTC)
    with pytest.raises(HubSpotDailyLimitError):
        list(hub.read("reps"))


def test_a_progress_display_is_told_the_api_calls(
    fake_hubspot: FakeHubSpot, tmp_path: Path
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
                    "name": "hs",
                    "connector": "hubspot",
                    "streams": ["reps"],
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
    report = run_sync(config, progress=Display())
    assert report.sources[0].status == "success"
    assert told
    assert told[-1] == ("hs", "3 HubSpot API calls")  # the properties check, two owner lists


def test_the_terminal_bar_shows_a_sources_api_calls() -> None:
    shown = io.StringIO()
    progress = Progress()
    progress.bar = RichProgress(
        TextColumn("{task.description}"), console=Console(file=shown, force_terminal=True)
    )
    with progress:
        progress("hs", "leads", 200)
        progress.activity("hs", "7 HubSpot API calls")
        progress.bar.refresh()
    assert "hs leads (7 HubSpot API calls)" in shown.getvalue()


class TestHubSpotContract(ConnectorContract):
    """The connector contract every connector passes, against the fake HubSpot."""

    connector_class = HubSpotConnector
    plugin = connector_module

    @pytest.fixture
    def settings(self, fake_hubspot: FakeHubSpot) -> Mapping[str, Any]:
        fake_hubspot.any_token = True  # the secrets check plants a token of its own
        return {
            "access_token": fake_hubspot.token,
            "base_url": fake_hubspot.url,
            "lag": "1s",
            "search_rate": 1000,
            "rate": 1000,
        }


def test_an_engagement_whose_contacts_hubspot_could_not_read_is_rejected(
    fake_hubspot: FakeHubSpot,
) -> None:
    # A 207 error other than "no associations": the calls of the first association read
    # are rejected with HubSpot's reason, not taken as touching nobody.
    calls = sorted(
        c.id
        for c in fake_hubspot.portal.live("calls")
        if c.properties.get("hs_call_direction") != "INBOUND"
    )
    assert 0 < len(calls) <= 1000  # one association read holds them all
    error = {
        "status": "error",
        "category": "INTERNAL_ERROR",
        "message": "Something went wrong reading associations.",
        "context": {"fromObjectId": [str(i) for i in calls[:5]]},
    }
    body = {"status": "COMPLETE", "results": [], "errors": [error], "numErrors": 1}
    fake_hubspot.fail(207, body, kind="associations:calls")
    batches = list(connector(fake_hubspot).read("touches"))
    rejected = {r.record_id: r for b in batches for r in b.rejected}
    for call in calls[:5]:
        assert "HubSpot could not read its contacts (Something went wrong reading" in str(
            rejected[str(call)]
        )


def test_a_failed_start_check_is_said_once_without_another_call(
    fake_hubspot: FakeHubSpot,
) -> None:
    hub = connector(fake_hubspot, segment_property="no_such_property")
    for stream in ("leads", "touches"):
        with pytest.raises(ValidationError, match="no_such_property"):
            list(hub.read(stream))
    assert hub.calls == {"properties": 1}


def test_hubspot_not_answering_ends_later_reads_without_retrying_again() -> None:
    waits: list[float] = []
    hub = HubSpotConnector(
        {"access_token": "pat-na1-x", "base_url": "http://127.0.0.1:9", "timeout": 1},
        sleep=waits.append,
    )
    with pytest.raises(HubSpotError, match="did not answer the properties of contacts after 7"):
        list(hub.read("leads"))
    tried = (sum(hub.calls.values()), len(waits))
    with pytest.raises(HubSpotError, match="did not answer"):
        list(hub.read("touches"))
    assert (sum(hub.calls.values()), len(waits)) == tried


def test_a_stopped_read_finishes_its_window_then_reads_the_new_one(
    fake_hubspot: FakeHubSpot,
) -> None:
    hub = connector(fake_hubspot, page_size=50)
    leads = [b for b in hub.read("leads") if b.stream is Stream.LEADS]
    stopped = leads[1].cursor  # two pages stored, then the sync was killed
    assert "contacts.after" in stopped.state
    after = int(str(stopped.state["contacts.after"]))
    # A contact changed after that window's end: only a new window reads it.
    changed = min(c.id for c in fake_hubspot.portal.live("contacts"))
    assert changed <= after
    fake_hubspot.portal.set_property("contacts", changed, "lifecyclestage", "customer")
    time.sleep(1.2)
    resumed = list(connector(fake_hubspot, page_size=50).read("leads", stopped))
    read = [r.id for b in resumed for r in b.records] + [
        r.record_id for b in resumed for r in b.rejected
    ]
    rest = {str(c.id) for c in fake_hubspot.portal.live("contacts") if c.id > after}
    assert rest <= set(read)  # the stopped window, finished
    assert str(changed) in read  # then today's
    assert len(read) == len(rest) + 1  # nothing else again
    last = resumed[-1].cursor.state
    assert set(last) == {"contacts.modified"}


def test_only_a_reps_engagements_are_searched(fake_hubspot: FakeHubSpot) -> None:
    # Inbound calls, cancelled meetings and emails not sent are no touches: never read,
    # rather than read and rejected (they are not bad data).
    portal = fake_hubspot.portal
    inbound = next(
        c for c in portal.live("calls") if c.properties["hs_call_direction"] == "INBOUND"
    )
    silent = next(c for c in portal.live("calls") if c.properties["hs_call_direction"] != "INBOUND")
    portal.set_property("calls", silent.id, "hs_call_direction", None)  # logged without one
    cancelled = portal.live("meetings")[0]
    portal.set_property("meetings", cancelled.id, "hs_meeting_outcome", "CANCELED")
    time.sleep(1.1)  # the changes before the window's end (lag 1 s)
    batches = list(connector(fake_hubspot).read("touches"))
    rejected = {r.record_id for b in batches for r in b.rejected}
    assert not any("not a touch" in r.reason for b in batches for r in b.rejected)
    assert {str(inbound.id), str(cancelled.id)}.isdisjoint(rejected)
    # The call logged without a direction is read: a touch at its time by its owner, or
    # rejected for a reason of its own (no contact).
    at = parse_time(silent.properties["hs_timestamp"], field="hs_timestamp")
    owner = silent.properties["hubspot_owner_id"]
    touches = [t for b in batches for t in b.records if isinstance(t, Touch)]
    assert any(t.at == at and t.rep_id == owner for t in touches) or str(silent.id) in rejected


def test_hand_offs_without_an_owner_are_told_once_a_window(fake_hubspot: FakeHubSpot) -> None:
    batches = list(connector(fake_hubspot, page_size=20).read("leads"))
    told = [n for b in batches for n in b.notices if "without an owner to notify" in n]
    pending = sum(
        len(map_contact(c.to_json(list(c.properties), ["lifecyclestage", "hubspot_owner_id"]),
                        HubSpotMapping()).pending)
        for c in fake_hubspot.portal.live("contacts")
    )  # fmt: skip
    assert pending > 3  # the fake's portal has some, over several pages
    assert len(told) == 1
    assert told[0].startswith(f"{pending} hand-off(s) without an owner to notify: contact ")
    assert told[0].endswith(f"(and {pending - 3} more)")
