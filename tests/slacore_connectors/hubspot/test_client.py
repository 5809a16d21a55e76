"""The HubSpot client, driven through the real ``hubspot-api-client`` SDK against the fake."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.fakes import hubspot as fake_module
from tests.fakes.hubspot import FakeHubSpot, Request

pytest.importorskip("hubspot")

from slacore.errors import SlacoreError
from slacore_connectors.hubspot.client import (
    HubSpotClient,
    HubSpotDailyLimitError,
    HubSpotError,
)

FAR_PAST = datetime(2000, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


def client(fake: FakeHubSpot, **options: Any) -> HubSpotClient:
    """A client of the fake, with no rate budget to speak of and tiny backoffs."""
    settings: dict[str, Any] = {"search_rate": math.inf, "rate": math.inf, "backoff": 0.001}
    settings.update({"timeout": 5, **options})
    return HubSpotClient(fake.token, base_url=fake.url, **settings)


# -- 1. the client ---------------------------------------------------------------------------


def test_every_call_goes_to_base_url_typed_and_raw(fake_hubspot: FakeHubSpot) -> None:
    hub = client(fake_hubspot)
    page = hub.sdk.crm.contacts.basic_api.get_page(limit=5)
    raw = hub.sdk.api_request({"method": "GET", "path": "/crm/v3/properties/contacts"})
    assert len(page.results) == 5
    assert raw.status_code == 200
    assert fake_hubspot.calls == {"list:contacts": 1, "properties:contacts": 1}


def test_the_token_never_shows(fake_hubspot: FakeHubSpot) -> None:
    hub = client(fake_hubspot)
    for text in (repr(hub), str(hub)):
        assert fake_hubspot.token not in text
        assert "***" in text
        assert fake_hubspot.url in text


def test_a_refused_token_is_one_line_naming_the_setting(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.expired = True
    hub = client(fake_hubspot)
    with pytest.raises(HubSpotError) as raised:
        next(hub.search_window("contacts", FAR_PAST, FAR_FUTURE, ["email"]))
    message = str(raised.value)
    assert isinstance(raised.value, SlacoreError)
    assert "access_token" in message
    assert "401" in message
    assert "\n" not in message
    assert fake_hubspot.token not in message
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__
    assert fake_hubspot.calls == {"search:contacts": 1}  # a 401 is not retried


def test_a_wrong_token_is_refused_too(fake_hubspot: FakeHubSpot) -> None:
    hub = HubSpotClient("pat-na1-wrong", base_url=fake_hubspot.url, timeout=5)
    with pytest.raises(HubSpotError, match="access_token") as raised:
        list(hub.owners())
    assert "pat-na1-wrong" not in str(raised.value)


def test_page_size_is_checked(fake_hubspot: FakeHubSpot) -> None:
    with pytest.raises(ValueError, match="page_size"):
        HubSpotClient(fake_hubspot.token, base_url=fake_hubspot.url, page_size=201)


# -- 2. search by window ---------------------------------------------------------------------


def window_ids(fake: FakeHubSpot, object_type: str, since: datetime, until: datetime) -> list[int]:
    records = fake.portal.live(object_type)
    return sorted(r.id for r in records if since <= r.modified < until)


def test_search_reads_a_window_ascending_by_id(fake_hubspot: FakeHubSpot) -> None:
    contacts = fake_hubspot.portal.objects["contacts"].values()
    moments = sorted(r.modified for r in contacts)
    since, until = moments[30], moments[-30]
    hub = client(fake_hubspot, page_size=50)

    pages = list(hub.search_window("contacts", since, until, ["lifecyclestage", "email"]))

    ids = [int(r["id"]) for page in pages for r in page]
    assert ids == window_ids(fake_hubspot, "contacts", since, until)
    assert pages[0][0]["properties"]["lifecyclestage"] is not None
    assert (
        fake_hubspot.calls
        == {"search:contacts": len(pages)}
        == {"search:contacts": -(-len(ids) // 50)}
    )
    body = fake_hubspot.requests[0].body
    assert body["properties"] == ["lifecyclestage", "email"]  # in the body, not the query
    assert body["sorts"] == [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]
    names = {f["propertyName"] for f in body["filterGroups"][0]["filters"]}
    assert names == {"lastmodifieddate"}


def test_search_of_other_objects_uses_hs_lastmodifieddate(fake_hubspot: FakeHubSpot) -> None:
    hub = client(fake_hubspot)
    pages = list(hub.search_window("calls", FAR_PAST, FAR_FUTURE, ["hs_timestamp"]))
    ids = [int(r["id"]) for page in pages for r in page]
    assert ids == window_ids(fake_hubspot, "calls", FAR_PAST, FAR_FUTURE)
    filters = fake_hubspot.requests[0].body["filterGroups"][0]["filters"]
    assert {f["propertyName"] for f in filters} == {"hs_lastmodifieddate"}


def test_search_crosses_the_cap_in_one_instant(
    make_fake_hubspot: Callable[..., FakeHubSpot], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fake's cap lowered to 300 so the portal stays small; 350 contacts in one instant.
    monkeypatch.setattr(fake_module, "SEARCH_CAP", 300)
    fake = make_fake_hubspot(contacts=400, same_instant=350, owners=4, activity=False)
    instant = max(r.modified for r in fake.portal.objects["contacts"].values())
    hub = client(fake, page_size=40)

    pages = list(hub.search_window("contacts", instant, instant + timedelta(milliseconds=1), []))

    ids = [int(r["id"]) for page in pages for r in page]
    assert len(ids) == len(set(ids)) == 350
    assert ids == window_ids(fake, "contacts", instant, instant + timedelta(milliseconds=1))
    assert fake.calls == {"search:contacts": -(-350 // 40)}


def test_search_skips_nobody_when_a_record_leaves_the_window(fake_hubspot: FakeHubSpot) -> None:
    # A record of the first page is modified during the read: it leaves the window. Offsets
    # would shift and skip the record after the first page; reading by id skips nobody.
    until = datetime.now(UTC) - timedelta(minutes=2)
    expected = window_ids(fake_hubspot, "contacts", FAR_PAST, until)
    hub = client(fake_hubspot, page_size=20)

    def change(request: Request) -> None:
        if request.number == 2:
            fake_hubspot.portal.set_property("contacts", expected[3], "jobtitle", "CEO")

    fake_hubspot.before_request = change
    ids = [
        int(r["id"]) for page in hub.search_window("contacts", FAR_PAST, until, []) for r in page
    ]
    assert ids == expected


def test_search_refuses_naive_times(fake_hubspot: FakeHubSpot) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next(client(fake_hubspot).search_window("contacts", datetime(2026, 1, 1), FAR_FUTURE, []))


# -- 3. batch read with history ------------------------------------------------------------


def test_read_with_history_reads_100_ids_a_request(fake_hubspot: FakeHubSpot) -> None:
    ids = sorted(fake_hubspot.portal.objects["contacts"])[:250]
    hub = client(fake_hubspot)

    pages = list(hub.read_with_history("contacts", ids, ["lifecyclestage"], ["lifecyclestage"]))

    assert [len(page.objects) for page in pages] == [100, 100, 50]
    assert [page.missing for page in pages] == [(), (), ()]
    assert fake_hubspot.calls == {"batch_read:contacts": 3}
    first = pages[0].objects[0]
    assert first["propertiesWithHistory"]["lifecyclestage"][0]["timestamp"].endswith("Z")
    body = fake_hubspot.requests[0].body
    assert body["propertiesWithHistory"] == ["lifecyclestage"]
    assert body["inputs"][0] == {"id": str(ids[0])}


def test_read_with_history_reports_the_ids_a_207_leaves_out(
    make_fake_hubspot: Callable[..., FakeHubSpot],
) -> None:
    fake = make_fake_hubspot(contacts=30, archived=2, owners=4, activity=False)
    ids = sorted(fake.portal.objects["contacts"])
    gone = [i for i in ids if fake.portal.objects["contacts"][i].archived]
    fake.partial_ids = {str(ids[4])}
    asked = [*ids, 999_999]

    pages = list(client(fake).read_with_history("contacts", asked, [], ["lifecyclestage"]))

    (page,) = pages
    expected_missing = [str(i) for i in asked if i in gone or i in (ids[4], 999_999)]
    assert list(page.missing) == expected_missing
    assert {r["id"] for r in page.objects} | set(page.missing) == {str(i) for i in asked}
    assert page.errors


# -- 4. associations -------------------------------------------------------------------------


def test_associations_read_1000_ids_a_request_ids_as_strings(
    make_fake_hubspot: Callable[..., FakeHubSpot],
) -> None:
    fake = make_fake_hubspot(contacts=1_200, owners=8)
    calls = sorted(fake.portal.objects["calls"])
    links = fake.portal.associations[("calls", "contacts")]
    asked = [*calls[:1_500], 77]  # 77: no such call

    pages = list(client(fake).associations("calls", "contacts", asked))

    assert fake.calls == {"associations:calls->contacts": 2}
    read = {key: value for page in pages for key, value in page.links.items()}
    assert read == {str(i): tuple(str(t) for t in links.get(i, [])) for i in asked}
    assert read["77"] == ()
    assert all(page.errors == () for page in pages)


def test_associations_follow_each_inputs_own_paging(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.association_page = 1
    links = fake_hubspot.portal.associations[("contacts", "calls")]
    busy = [i for i, targets in links.items() if len(targets) >= 3][:5]

    (page,) = client(fake_hubspot).associations("contacts", "calls", busy)

    assert page.links == {str(i): tuple(str(t) for t in links[i]) for i in busy}
    assert fake_hubspot.calls["associations:contacts->calls"] == max(len(links[i]) for i in busy)


# -- 5. owners -------------------------------------------------------------------------------


def test_owners_all_of_them_archived_ones_too(
    make_fake_hubspot: Callable[..., FakeHubSpot], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fake_module, "OWNERS_PAGE_MAX", 7)
    fake = make_fake_hubspot(contacts=10, owners=40, activity=False)

    pages = list(client(fake).owners())

    owners = [o for page in pages for o in page]
    assert sorted(int(o["id"]) for o in owners) == sorted(o.id for o in fake.portal.owners)
    assert len(owners) == len({o["id"] for o in owners}) == 40
    archived = [o for o in owners if o["archived"]]
    assert len(archived) == 10
    assert all(o["userId"] is None and o["userIdIncludingInactive"] for o in archived)
    assert fake.calls == {"owners": -(-30 // 7) + -(-10 // 7)}


# -- 6. rate limits --------------------------------------------------------------------------


class Clock:
    """A clock that moves only when the client waits: the waits are recorded, never slept."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def test_search_is_retried_on_429_with_retry_after(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.rate_limit(kind="search", method="POST", times=2, retry_after="7")
    clock = Clock()
    hub = client(fake_hubspot, sleep=clock.sleep, clock=clock.monotonic)

    ids = [
        r["id"] for page in hub.search_window("contacts", FAR_PAST, FAR_FUTURE, []) for r in page
    ]

    assert len(ids) == len(fake_hubspot.portal.live("contacts"))
    assert clock.waits == [7.0, 7.0]  # as HubSpot said
    assert fake_hubspot.calls == {"search:contacts": 2 + -(-len(ids) // 200)}


def test_a_get_429_without_retry_after_backs_off_exponentially(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.rate_limit(kind="owners", method="GET", times=4, policy="TEN_SECONDLY_ROLLING")
    clock = Clock()
    hub = client(fake_hubspot, sleep=clock.sleep, clock=clock.monotonic, backoff=0.5)

    owners = [o for page in hub.owners() for o in page]

    assert len(owners) == len(fake_hubspot.portal.owners)
    assert clock.waits == [0.5, 1.0, 2.0, 4.0]
    assert fake_hubspot.calls == {"owners": 4 + 2}


def test_backoff_is_bounded(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.rate_limit(kind="batch_read", times=10)
    clock = Clock()
    hub = client(
        fake_hubspot, sleep=clock.sleep, clock=clock.monotonic, max_retries=3, max_backoff=1.5
    )

    with pytest.raises(HubSpotError, match="429 to a batch read of contacts after 4 tries"):
        list(hub.read_with_history("contacts", [1, 2], [], []))

    assert clock.waits == [0.001, 0.002, 0.004]
    assert fake_hubspot.calls == {"batch_read:contacts": 4}
    slow = client(fake_hubspot, sleep=clock.sleep, clock=clock.monotonic, backoff=1)
    clock.waits.clear()
    list(slow.read_with_history("contacts", [1], [], []))
    assert clock.waits == [1, 2, 4, 8, 16, 32]  # up to max_backoff (60 s)
    assert fake_hubspot.calls == {"batch_read:contacts": 4 + 7}


def test_the_daily_limit_says_when_to_rerun(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.rate_limit(kind="search", policy="DAILY")
    hub = client(fake_hubspot)

    with pytest.raises(HubSpotDailyLimitError) as raised:
        next(hub.search_window("contacts", FAR_PAST, FAR_FUTURE, []))

    assert "daily" in str(raised.value)
    assert "midnight" in str(raised.value)
    assert raised.value.rerun_after is None
    assert fake_hubspot.calls == {"search:contacts": 1}  # not retried

    fake_hubspot.rate_limit(kind="owners", policy="DAILY", retry_after="3600")
    before = datetime.now(UTC)
    with pytest.raises(HubSpotDailyLimitError) as raised:
        next(hub.owners())
    rerun = raised.value.rerun_after
    assert rerun is not None
    assert before + timedelta(seconds=3599) <= rerun
    assert rerun.strftime("%Y-%m-%dT%H:%M:%SZ") in str(raised.value)


def test_a_server_error_is_retried_and_then_named(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.fail(502, {"status": "error", "message": "Bad gateway"}, kind="owners", times=3)
    hub = client(fake_hubspot, max_retries=2)

    with pytest.raises(HubSpotError, match="502 to an owners list after 3 tries: Bad gateway"):
        next(hub.owners())
    assert [o for page in hub.owners() for o in page]  # the fourth call is answered


def test_a_silent_host_is_named(fake_hubspot: FakeHubSpot) -> None:
    hub = client(fake_hubspot, max_retries=1)
    address = fake_hubspot.url.split("//")[1]
    fake_hubspot.stop()

    with pytest.raises(HubSpotError, match="did not answer an owners list after 2 tries") as raised:
        next(hub.owners())
    assert address in str(raised.value)


def test_searches_keep_to_their_budget(fake_hubspot: FakeHubSpot) -> None:
    clock = Clock()
    hub = client(
        fake_hubspot, page_size=50, search_rate=4, sleep=clock.sleep, clock=clock.monotonic
    )

    pages = list(hub.search_window("contacts", FAR_PAST, FAR_FUTURE, []))

    assert len(pages) == 6
    assert clock.waits == pytest.approx([0.25] * 5)  # four a second
    clock.waits.clear()
    others = client(fake_hubspot, rate=10, sleep=clock.sleep, clock=clock.monotonic)
    list(others.read_with_history("contacts", range(1, 301), [], []))
    assert clock.waits == pytest.approx([0.1, 0.1])


def test_every_call_has_a_timeout(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.before_request = lambda request: time.sleep(0.3)
    hub = client(fake_hubspot, timeout=0.05, max_retries=0)

    with pytest.raises(HubSpotError, match=r"did not answer an owners list .*timeout 0\.05 s"):
        next(hub.owners())
