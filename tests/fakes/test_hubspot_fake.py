"""The fake HubSpot, driven through the real ``hubspot-api-client`` SDK."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.fakes.hubspot import (
    CUSTOM_STAGE,
    SEARCH_CAP,
    FakeHubSpot,
    Request,
    epoch_ms,
    generate_portal,
)

hubspot = pytest.importorskip("hubspot")
from hubspot.crm.associations.v4 import BatchInputPublicFetchAssociationsBatchRequest  # noqa: E402
from hubspot.crm.contacts import (  # noqa: E402
    ApiException,
    BatchReadInputSimplePublicObjectId,
    PublicObjectSearchRequest,
)
from urllib3.util.retry import Retry  # noqa: E402


def client(fake: FakeHubSpot, **options: Any) -> Any:
    """The real SDK pointed at the fake, typed APIs and raw requests alike (VENDORS.md 2.1)."""
    return hubspot.HubSpot(access_token=fake.token, host=fake.url, base_url=fake.url, **options)


def window_search(after: str = "0", *, start: int = 0, end: int = 2**42) -> Any:
    return PublicObjectSearchRequest(
        filter_groups=[
            {
                "filters": [
                    {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(start)},
                    {"propertyName": "lastmodifieddate", "operator": "LT", "value": str(end)},
                ]
            }
        ],
        sorts=[{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
        properties=["lifecyclestage", "hubspot_owner_id", "no_such_property"],
        limit=200,
        after=after,
    )


def test_search_pages_a_window_to_its_end(fake_hubspot: FakeHubSpot) -> None:
    contacts = fake_hubspot.portal.objects["contacts"].values()
    moments = sorted(record.modified for record in contacts)
    start, end = moments[40], moments[-40]
    expected = sorted(r.id for r in contacts if start <= r.modified < end and not r.archived)
    api = client(fake_hubspot).crm.contacts.search_api

    seen: list[int] = []
    after: str | None = "0"
    pages = 0
    while after is not None:
        request = window_search(after, start=epoch_ms(start), end=epoch_ms(end))
        page = api.do_search(public_object_search_request=request, _request_timeout=(2, 5))
        pages += 1
        assert page.total == len(expected)
        seen.extend(int(result.id) for result in page.results)
        properties = page.results[0].properties
        assert set(properties) >= {"lifecyclestage", "lastmodifieddate", "hs_object_id"}
        assert "no_such_property" not in properties  # unknown names vanish (VENDORS.md 6.7)
        assert page.paging is None or page.paging.next.link is None
        after = page.paging.next.after if page.paging else None

    assert seen == expected
    assert pages == -(-len(expected) // 200) == 2
    assert fake_hubspot.calls == {"search:contacts": pages}


def test_search_caps_at_ten_thousand_and_restarts_on_the_id(
    make_fake_hubspot: Callable[..., FakeHubSpot],
) -> None:
    fake = make_fake_hubspot(contacts=SEARCH_CAP + 30, owners=6, activity=False)
    api = client(fake).crm.contacts.search_api

    before_cap = api.do_search(public_object_search_request=window_search("9800"))
    assert before_cap.total == SEARCH_CAP + 30
    assert before_cap.paging.next.after == "10000"  # offered, yet a 400 (VENDORS.md 6.3)
    with pytest.raises(ApiException) as raised:
        api.do_search(public_object_search_request=window_search("10000"))
    assert raised.value.status == 400
    assert json.loads(raised.value.body)["category"] == "VALIDATION_ERROR"

    last = before_cap.results[-1].id
    restart = window_search()
    restart.filter_groups[0]["filters"].append(
        {"propertyName": "hs_object_id", "operator": "GT", "value": last}
    )
    rest = api.do_search(public_object_search_request=restart)
    assert rest.total == 30
    assert [int(r.id) for r in rest.results] == list(range(int(last) + 1, int(last) + 31))


def test_search_after_an_id_sees_changes_between_pages(
    make_fake_hubspot: Callable[..., FakeHubSpot],
) -> None:
    # Pages after an id are slices of one match per portal version: a change between two
    # pages is seen by the next one, and a value GT cannot read is still refused.
    fake = make_fake_hubspot(contacts=60, same_instant=30, activity=False)
    contacts = fake.portal.objects["contacts"]
    instant = max(r.modified for r in contacts.values())
    api = client(fake).crm.contacts.search_api

    def after(last: str, value: str | None = None) -> Any:
        request = window_search(start=epoch_ms(instant), end=epoch_ms(instant) + 1)
        request.limit = 10
        request.filter_groups[0]["filters"].append(
            {"propertyName": "hs_object_id", "operator": "GT", "value": value or last}
        )
        return api.do_search(public_object_search_request=request)

    in_instant = sorted(r.id for r in contacts.values() if r.modified == instant)
    first = after("0")
    assert [int(r.id) for r in first.results] == in_instant[:10]
    assert first.total == 30
    moved, gone = in_instant[12], in_instant[14]
    fake.portal.set_property("contacts", moved, "jobtitle", "CFO", at=instant + timedelta(hours=1))
    fake.portal.archive("contacts", gone)
    second = after(first.results[-1].id)
    assert [int(r.id) for r in second.results] == [
        i for i in in_instant[10:22] if i not in (moved, gone)
    ]
    assert second.total == 18
    assert after(str(in_instant[-1])).results == []
    with pytest.raises(ApiException) as raised:
        after("0", value="not-a-number")
    assert raised.value.status == 400


def test_many_contacts_in_one_instant(make_fake_hubspot: Callable[..., FakeHubSpot]) -> None:
    fake = make_fake_hubspot(contacts=50, same_instant=20, activity=False)
    instant = max(r.modified for r in fake.portal.objects["contacts"].values())
    request = window_search(start=epoch_ms(instant), end=epoch_ms(instant) + 1)
    page = client(fake).crm.contacts.search_api.do_search(public_object_search_request=request)
    assert page.total == 20


def test_batch_read_gives_history_newest_first(fake_hubspot: FakeHubSpot) -> None:
    contacts = fake_hubspot.portal.objects["contacts"]
    backward = [
        r.id for r in contacts.values() if "" in [c.value for c in r.history["lifecyclestage"]]
    ]
    assert backward, "the generated portal has backward moves"
    ids = [backward[0], *list(contacts)[:3]]
    body = BatchReadInputSimplePublicObjectId(
        inputs=[{"id": str(i)} for i in ids],
        properties=["lifecyclestage", "hubspot_owner_assigneddate"],
        properties_with_history=["lifecyclestage", "hubspot_owner_id"],
    )
    answer = client(fake_hubspot).crm.contacts.batch_api.read(
        batch_read_input_simple_public_object_id=body, archived=False
    )

    assert type(answer).__name__ == "BatchResponseSimplePublicObject"
    first = next(r for r in answer.results if int(r.id) == backward[0])
    history = first.properties_with_history["lifecyclestage"]
    stamps = [entry.timestamp for entry in history]
    assert stamps == sorted(stamps, reverse=True)
    assert all(stamp.utcoffset() is not None for stamp in stamps)
    assert "" in [entry.value for entry in history]
    assert history[0].value == (first.properties["lifecyclestage"] or "")
    assert first.properties_with_history["hubspot_owner_id"]
    assert fake_hubspot.calls == {"batch_read:contacts": 1}


def test_batch_read_answers_207_for_missing_and_archived_ids(
    make_fake_hubspot: Callable[..., FakeHubSpot],
) -> None:
    fake = make_fake_hubspot(contacts=20, archived=1, merged=1, activity=False)
    contacts = fake.portal.objects["contacts"]
    gone = [str(r.id) for r in contacts.values() if r.archived]
    survivor = next(r for r in contacts.values() if r.properties["hs_merged_object_ids"])
    assert len(gone) == 2
    body = BatchReadInputSimplePublicObjectId(
        inputs=[{"id": "1"}, {"id": "999999"}, *({"id": i} for i in gone)],
        properties=["hs_merged_object_ids"],
    )
    api = client(fake).crm.contacts.batch_api
    answer = api.read(batch_read_input_simple_public_object_id=body, archived=False)

    assert type(answer).__name__ == "BatchResponseSimplePublicObjectWithErrors"
    assert [r.id for r in answer.results] == ["1"]
    assert answer.errors[0].context["ids"] == ["999999", *gone]
    assert survivor.properties["hs_merged_object_ids"].split(";")[-1] in gone

    archived = client(fake).crm.contacts.basic_api.get_page(archived=True, limit=100)
    assert sorted(r.id for r in archived.results) == sorted(gone)
    assert all(r.archived and r.archived_at is not None for r in archived.results)


def test_associations_answer_207_with_partial_errors(fake_hubspot: FakeHubSpot) -> None:
    links = fake_hubspot.portal.associations[("contacts", "calls")]
    with_calls = next(iter(links))
    without = next(i for i in fake_hubspot.portal.objects["contacts"] if i not in links)
    fake_hubspot.partial_ids = set()
    request = BatchInputPublicFetchAssociationsBatchRequest(
        inputs=[{"id": str(with_calls)}, {"id": str(without)}]
    )
    api = client(fake_hubspot).crm.associations.v4.batch_api
    answer = api.get_page(
        from_object_type="contacts",
        to_object_type="calls",
        batch_input_public_fetch_associations_batch_request=request,
    )

    assert type(answer).__name__ == "BatchResponsePublicAssociationMultiWithLabelWithErrors"
    assert [r._from.id for r in answer.results] == [str(with_calls)]
    assert [t.to_object_id for t in answer.results[0].to] == [str(i) for i in links[with_calls]]
    assert answer.errors[0].context == {"fromObjectId": [str(without)]}
    assert fake_hubspot.calls == {"associations:contacts->calls": 1}

    fake_hubspot.partial_ids = {str(with_calls)}  # an id that has calls, failed on purpose
    answer = api.get_page(
        from_object_type="contacts",
        to_object_type="calls",
        batch_input_public_fetch_associations_batch_request=request,
    )
    assert answer.results == []
    assert answer.num_errors == 2

    too_many = BatchInputPublicFetchAssociationsBatchRequest(
        inputs=[{"id": str(i)} for i in range(1, 1002)]
    )
    with pytest.raises(hubspot.crm.associations.v4.ApiException) as raised:
        api.get_page(
            from_object_type="contacts",
            to_object_type="calls",
            batch_input_public_fetch_associations_batch_request=too_many,
        )
    assert raised.value.status == 400


def test_owners_archived_only_with_archived_true(fake_hubspot: FakeHubSpot) -> None:
    api = client(fake_hubspot).crm.owners.owners_api
    active: list[Any] = []
    after = None
    while True:
        page = api.get_page(limit=3, after=after, archived=False)
        active.extend(page.results)
        if page.paging is None:
            break
        after = page.paging.next.after
    archived = api.get_page(limit=500, archived=True).results

    owners = fake_hubspot.portal.owners
    assert len(active) + len(archived) == len(owners)
    assert {o.id for o in archived} == {str(o.id) for o in owners if o.archived} != set()
    assert all(o.user_id is None and o.user_id_including_inactive for o in archived)
    assert all(o.user_id is not None and o.teams for o in active)
    assert fake_hubspot.calls["owners"] == -(-len(active) // 3) + 1


def test_get_429_with_retry_after_is_retried_by_the_sdk(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.rate_limit(kind="owners", retry_after="0")
    page = client(fake_hubspot).crm.owners.owners_api.get_page(archived=False)
    assert page.results
    assert fake_hubspot.calls == {"owners": 2}


def test_get_429_without_retry_after_raises(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.rate_limit(kind="owners")
    api = client(fake_hubspot).crm.owners.owners_api
    with pytest.raises(hubspot.crm.owners.ApiException) as raised:
        api.get_page(archived=False)
    assert raised.value.status == 429
    assert "Retry-After" not in raised.value.headers
    assert json.loads(raised.value.body)["policyName"] == "SECONDLY"
    assert api.get_page(archived=False).results  # a manual retry succeeds


def test_post_429_is_retried_only_when_the_retry_allows_post(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.rate_limit(kind="search", method="POST", retry_after="0")
    with pytest.raises(ApiException) as raised:
        client(fake_hubspot).crm.contacts.search_api.do_search(
            public_object_search_request=window_search()
        )
    assert raised.value.status == 429

    fake_hubspot.rate_limit(kind="search", method="POST", times=2)
    retry = Retry(total=3, backoff_factor=0, status_forcelist=(429,), allowed_methods=None)
    api = client(fake_hubspot, retry=retry).crm.contacts.search_api
    assert api.do_search(public_object_search_request=window_search()).results
    assert fake_hubspot.calls == {"search:contacts": 4}


def test_daily_limit_body(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.rate_limit(kind="batch_read", policy="DAILY")
    body = BatchReadInputSimplePublicObjectId(inputs=[{"id": "1"}], properties=[])
    with pytest.raises(ApiException) as raised:
        client(fake_hubspot).crm.contacts.batch_api.read(
            batch_read_input_simple_public_object_id=body
        )
    assert raised.value.status == 429
    assert json.loads(raised.value.body)["policyName"] == "DAILY"
    assert raised.value.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"


def test_expired_and_wrong_tokens_answer_401(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.expired = True
    with pytest.raises(ApiException) as raised:
        client(fake_hubspot).crm.contacts.search_api.do_search(
            public_object_search_request=window_search()
        )
    assert raised.value.status == 401
    assert json.loads(raised.value.body)["category"] == "EXPIRED_AUTHENTICATION"
    assert fake_hubspot.token not in str(raised.value)

    fake_hubspot.expired = False
    wrong = hubspot.HubSpot(access_token="pat-na1-wrong", host=fake_hubspot.url)
    with pytest.raises(hubspot.crm.owners.ApiException) as raised_owners:
        wrong.crm.owners.owners_api.get_page()
    assert raised_owners.value.status == 401
    assert json.loads(raised_owners.value.body)["category"] == "INVALID_AUTHENTICATION"


def test_records_change_between_requests(fake_hubspot: FakeHubSpot) -> None:
    changed_at = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

    def change_during_sync(request: Request) -> None:
        if request.kind == "search:contacts" and request.number == 2:
            fake_hubspot.portal.set_property(
                "contacts", 1, "lifecyclestage", "salesqualifiedlead", at=changed_at
            )

    fake_hubspot.before_request = change_during_sync
    api = client(fake_hubspot).crm.contacts.search_api
    before = api.do_search(public_object_search_request=window_search(start=epoch_ms(changed_at)))
    assert before.total == 0
    since = window_search(start=epoch_ms(changed_at))
    second = api.do_search(public_object_search_request=since)
    assert [r.id for r in second.results] == ["1"]
    assert second.results[0].properties["lastmodifieddate"] == "2026-06-01T12:00:00.000Z"
    history = fake_hubspot.portal.objects["contacts"][1].history["lifecyclestage"]
    assert history[-1].value == "salesqualifiedlead"


def test_malformed_values_are_served_as_they_are(
    make_fake_hubspot: Callable[..., FakeHubSpot],
) -> None:
    fake = make_fake_hubspot(contacts=40, malformed=True)
    bad = {
        (kind, name): (record_id, value) for kind, record_id, name, value in fake.portal.malformed
    }
    deal_id, amount = bad[("deals", "amount")]
    hubspot_client = client(fake)
    deal = hubspot_client.crm.deals.batch_api.read(
        batch_read_input_simple_public_object_id={
            "inputs": [{"id": str(deal_id)}],
            "properties": ["amount"],
        }
    )
    assert deal.results[0].properties["amount"] == amount == "12k"
    contact_id, stage = bad[("contacts", "lifecyclestage")]
    date_id, date = bad[("contacts", "hs_v2_date_entered_lead")]
    contacts = hubspot_client.crm.contacts.batch_api.read(
        batch_read_input_simple_public_object_id={
            "inputs": [{"id": str(contact_id)}, {"id": str(date_id)}],
            "properties": ["lifecyclestage", "hs_v2_date_entered_lead"],
        }
    )
    got = {int(r.id): r.properties for r in contacts.results}
    assert got[contact_id]["lifecyclestage"] == stage
    assert got[date_id]["hs_v2_date_entered_lead"] == date == "not-a-date"


def test_portal_is_deterministic_and_realistic() -> None:
    one = generate_portal(seed=7, contacts=60, archived=2, merged=1)
    two = generate_portal(seed=7, contacts=60, archived=2, merged=1)
    other = generate_portal(seed=8, contacts=60, archived=2, merged=1)

    def dump(portal: Any) -> str:
        records = [
            r.to_json(sorted(r.properties), ["lifecyclestage", "hubspot_owner_id"])
            for kind in sorted(portal.objects)
            for r in portal.objects[kind].values()
        ]
        return json.dumps([records, [o.to_json() for o in portal.owners]], sort_keys=True)

    assert dump(one) == dump(two) != dump(other)
    contacts = list(one.objects["contacts"].values())
    stages = {c.value for r in contacts for c in r.history["lifecyclestage"]}
    assert {"", "lead", "marketingqualifiedlead"} <= stages
    assert any(
        r.properties["hs_v2_date_entered_lead"] is None
        and r.properties["hs_lifecyclestage_lead_date"]
        for r in contacts
    )  # legacy-only records
    assert all(r.properties["hubspot_owner_assigneddate"] for r in contacts)
    amounts = [r.properties["amount"] for r in one.objects["deals"].values()]
    assert amounts
    assert all(isinstance(a, str) for a in amounts)
    assert CUSTOM_STAGE in {
        c.value
        for r in generate_portal(contacts=400).objects["contacts"].values()
        for c in r.history["lifecyclestage"]
    }
    assert sum(r.archived for r in contacts) == 3
    assert all(r.modified < datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=90) for r in contacts)


def test_properties_api_through_typed_and_raw_requests(fake_hubspot: FakeHubSpot) -> None:
    hubspot_client = client(fake_hubspot)
    typed = hubspot_client.crm.properties.core_api.get_all(object_type="contacts")
    names = {p.name for p in typed.results}
    assert {"lifecyclestage", "hubspot_owner_assigneddate", "hs_v2_date_entered_lead"} <= names
    assert "no_such_property" not in names

    # api_request uses base_url, not host (VENDORS.md 2.1): it reaches the fake too.
    raw = hubspot_client.api_request({"method": "GET", "path": "/crm/v3/properties/deals"})
    assert raw.status_code == 200
    assert "amount" in {p["name"] for p in raw.json()["results"]}
    assert fake_hubspot.calls == {"properties:contacts": 1, "properties:deals": 1}


def test_search_does_not_see_changes_younger_than_its_lag(fake_hubspot: FakeHubSpot) -> None:
    fake_hubspot.portal.set_property("contacts", 5, "hs_lead_status", "CONNECTED")
    recent = window_search(start=epoch_ms(datetime.now(UTC) - timedelta(minutes=5)))
    api = client(fake_hubspot).crm.contacts.search_api
    fake_hubspot.search_lag = timedelta(minutes=1)
    assert api.do_search(public_object_search_request=recent).total == 0
    fake_hubspot.search_lag = timedelta(0)
    assert [r.id for r in api.do_search(public_object_search_request=recent).results] == ["5"]


def test_single_record_and_bad_input(fake_hubspot: FakeHubSpot) -> None:
    api = client(fake_hubspot).crm.contacts.basic_api
    assert api.get_by_id("3", properties=["lifecyclestage"]).id == "3"
    with pytest.raises(ApiException) as missing:
        api.get_by_id("999999")
    assert missing.value.status == 404
    with pytest.raises(ApiException) as invalid:
        client(fake_hubspot).crm.contacts.search_api.do_search(
            public_object_search_request=window_search("not-an-offset")
        )
    assert invalid.value.status == 400
    assert fake_hubspot.calls == {"get:contacts": 2, "search:contacts": 1}


def test_association_inputs_page_on_their_own(fake_hubspot: FakeHubSpot) -> None:
    links = fake_hubspot.portal.associations[("contacts", "emails")]
    busy = next(i for i, targets in links.items() if len(targets) >= 2)
    fake_hubspot.association_page = 1
    api = client(fake_hubspot).crm.associations.v4.batch_api
    seen: list[str] = []
    after = None
    while True:
        entry = {"id": str(busy)} if after is None else {"id": str(busy), "after": after}
        answer = api.get_page(
            from_object_type="contacts",
            to_object_type="emails",
            batch_input_public_fetch_associations_batch_request={"inputs": [entry]},
        )
        assert type(answer).__name__ == "BatchResponsePublicAssociationMultiWithLabel"
        (result,) = answer.results
        seen.extend(t.to_object_id for t in result.to)
        if result.paging is None:
            break
        after = result.paging.next.after
    assert seen == [str(i) for i in links[busy]]
    assert fake_hubspot.calls["associations:contacts->emails"] == len(links[busy])


def test_search_after_an_id_in_every_group_answers_the_groups_or(
    make_fake_hubspot: Callable[..., FakeHubSpot],
) -> None:
    # Two groups, each asking for ids above the same one: the OR of the groups, above it
    # (answered from one match of the groups, sliced, as a single group is).
    fake = make_fake_hubspot(contacts=40, activity=True)
    calls = fake.portal.objects["calls"]
    last = sorted(calls)[len(calls) // 3]

    def group(direction: dict[str, Any]) -> dict[str, Any]:
        above = {"propertyName": "hs_object_id", "operator": "GT", "value": str(last)}
        return {"filters": [direction, above]}

    request = {
        "filterGroups": [
            group({"propertyName": "hs_call_direction", "operator": "EQ", "value": "INBOUND"}),
            group({"propertyName": "hs_call_direction", "operator": "NOT_HAS_PROPERTY"}),
        ],
        "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
        "limit": 200,
    }
    answer = client(fake).crm.objects.search_api.do_search(
        object_type="calls", public_object_search_request=request
    )
    expected = sorted(
        r.id
        for r in fake.portal.live("calls")
        if r.id > last and r.properties.get("hs_call_direction") in ("INBOUND", None, "")
    )
    assert expected  # the portal has some
    assert [int(r.id) for r in answer.results] == expected
