"""A fake HubSpot on 127.0.0.1 for the real ``hubspot-api-client`` 12.x SDK.

It answers with the JSON shapes of ``/work/shared/VENDORS.md`` (sections 2.1-2.6 and 6) for the
calls a connector makes: CRM search with HubSpot's 10,000-result cap, batch reads with
``propertiesWithHistory``, v4 association batch reads (207 when some ids have none), owners
(archived ones only with ``archived=true``), object lists and the properties API. Its portal is
generated from a seed (:func:`generate_portal`), so two runs with the same seed hold the same
records. Faults are injected on demand: 429 with or without ``Retry-After`` (the SECONDLY and
the DAILY bodies), 401 for an expired token, 207 partial answers, malformed values, and records
changed "during" a sync through a hook that runs before each request. Every request is counted
by kind (:attr:`FakeHubSpot.calls`).

Point the SDK at it with ``HubSpot(access_token=fake.token, host=fake.url)`` (typed APIs) and
``base_url=fake.url`` (``api_request``); see ``tests/fakes/test_hubspot_fake.py``.
"""

from __future__ import annotations

import bisect
import json
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes._serving import Handler, LoopbackFake, Request, take_fault

#: The portal of the issue's scenario: ``generate_portal(**SCENARIO)`` crosses the search cap
#: in one window and in one instant, with archived, merged and malformed records.
SCENARIO: dict[str, Any] = {
    "seed": 13,
    "contacts": 25_000,
    "same_instant": 10_500,
    "archived": 25,
    "merged": 10,
    "malformed": True,
}

#: The search cap: HubSpot answers 400 to any page that would reach past this many results.
SEARCH_CAP = 10_000
#: Largest search page, batch-read input and v4 association batch input HubSpot accepts.
SEARCH_PAGE_MAX = 200
BATCH_READ_MAX = 100
ASSOCIATIONS_BATCH_MAX = 1_000
OWNERS_PAGE_MAX = 500
LIST_PAGE_MAX = 100

#: HubSpot's default lifecycle stages, in their usual order.
STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
)
#: A custom lifecycle stage, as HubSpot names one since 2022: a numeric id.
CUSTOM_STAGE = "153180554"
#: The engagement object types the portal holds.
ENGAGEMENTS = ("calls", "emails", "meetings")
OBJECT_TYPES = ("contacts", "deals", *ENGAGEMENTS)

# Properties whose every change is kept, for propertiesWithHistory.
TRACKED = ("lifecyclestage", "hubspot_owner_id", "hs_lead_status")

_SINGULAR = {"contacts": "contact", "deals": "deal", "calls": "call", "emails": "email"}
_SINGULAR["meetings"] = "meeting"
# Illustrative HUBSPOT_DEFINED association type ids (VENDORS.md 2.4).
_TYPE_IDS = {
    ("contacts", "calls"): 193,
    ("calls", "contacts"): 194,
    ("contacts", "emails"): 197,
    ("emails", "contacts"): 198,
    ("contacts", "meetings"): 199,
    ("meetings", "contacts"): 200,
    ("contacts", "deals"): 4,
    ("deals", "contacts"): 3,
}
_DATE_PROPERTIES = {"createdate", "lastmodifieddate", "hs_createdate", "hs_lastmodifieddate"}
_LEAD_STATUSES = ("NEW", "OPEN", "IN_PROGRESS", "ATTEMPTED_TO_CONTACT", "CONNECTED", "UNQUALIFIED")
_SOURCES = ("ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "SOCIAL_MEDIA", "REFERRALS")


def iso(moment: datetime, *, millis: bool = True) -> str:
    """Format an aware datetime as HubSpot does: UTC, ``Z``, with or without milliseconds."""
    moment = moment.astimezone(UTC)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, as HubSpot's search filters take them."""
    return int(moment.timestamp() * 1000)


@dataclass
class Change:
    """One entry of a property's history (``propertiesWithHistory``)."""

    value: str
    timestamp: datetime
    source_type: str = "CRM_UI"
    user_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The entry as HubSpot's v3 API answers it: an ISO timestamp, not epoch ms."""
        entry: dict[str, Any] = {
            "value": self.value,
            "timestamp": iso(self.timestamp),
            "sourceType": self.source_type,
        }
        if self.user_id is not None:
            entry["sourceId"] = f"userId:{self.user_id}"
            entry["updatedByUserId"] = self.user_id
        return entry


@dataclass
class CrmObject:
    """A record of the fake portal: a contact, deal, call, email or meeting."""

    object_type: str
    id: int
    created: datetime
    modified: datetime
    properties: dict[str, str | None]
    history: dict[str, list[Change]] = field(default_factory=dict)
    archived: bool = False
    archived_at: datetime | None = None
    merged_into: int | None = None

    @property
    def modified_property(self) -> str:
        """The property HubSpot keeps the last modification in for this object type."""
        return "lastmodifieddate" if self.object_type == "contacts" else "hs_lastmodifieddate"

    def value(self, name: str) -> str | None:
        """A property's value on the wire, including the system ones."""
        if name == "hs_object_id":
            return str(self.id)
        if name == self.modified_property:
            return iso(self.modified)
        if name in ("createdate", "hs_createdate"):
            return iso(self.created)
        return self.properties.get(name)

    def known(self, name: str) -> bool:
        """Whether HubSpot knows this property for the record (unknown names vanish)."""
        system = {"hs_object_id", self.modified_property, "createdate", "hs_createdate"}
        return name in system or name in self.properties

    def to_json(
        self, properties: list[str] | None, with_history: list[str] | None
    ) -> dict[str, Any]:
        """The record as HubSpot answers it, with the requested properties only."""
        if self.object_type == "contacts":
            defaults = ["createdate", "hs_object_id", "lastmodifieddate"]
        else:
            defaults = ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"]
        names = list(properties) if properties else defaults
        for name in defaults:
            if name not in names:
                names.append(name)
        answer: dict[str, Any] = {
            "id": str(self.id),
            "properties": {name: self.value(name) for name in names if self.known(name)},
            "createdAt": iso(self.created),
            "updatedAt": iso(self.modified),
            "archived": self.archived,
        }
        if self.archived_at is not None:
            answer["archivedAt"] = iso(self.archived_at)
        if with_history:
            answer["propertiesWithHistory"] = {
                name: self._history_json(name) for name in with_history if self.known(name)
            }
        return answer

    def _history_json(self, name: str) -> list[dict[str, Any]]:
        changes = self.history.get(name)
        if changes is None:
            current = self.value(name)
            changes = [] if current is None else [Change(current, self.created, "CALCULATED")]
        # Newest first, as HubSpot answers (VENDORS.md 6.1).
        ordered = sorted(changes, key=lambda change: change.timestamp, reverse=True)
        return [change.to_json() for change in ordered]


@dataclass
class Owner:
    """A HubSpot owner; an archived one has no ``userId``, only ``userIdIncludingInactive``."""

    id: int
    user_id: int
    email: str
    first_name: str
    last_name: str
    created: datetime
    teams: list[dict[str, Any]]
    archived: bool = False

    def to_json(self) -> dict[str, Any]:
        """The owner as ``GET /crm/v3/owners/`` answers it."""
        return {
            "id": str(self.id),
            "email": self.email,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "userId": None if self.archived else self.user_id,
            "userIdIncludingInactive": self.user_id,
            "type": "PERSON",
            "createdAt": iso(self.created),
            "updatedAt": iso(self.created + timedelta(days=30)),
            "archived": self.archived,
            "teams": self.teams,
        }


@dataclass
class Portal:
    """The data a fake HubSpot serves; change it between requests to simulate live edits.

    Change records through :meth:`set_property`, :meth:`archive` and :meth:`merge` (or bump
    :attr:`version` after changing them by hand): search caches its matches per version.
    """

    objects: dict[str, dict[int, CrmObject]]
    owners: list[Owner]
    # (from type, to type) -> from id -> to ids, kept symmetric by :meth:`associate`.
    associations: dict[tuple[str, str], dict[int, list[int]]]
    #: Values made malformed on purpose: (object type, id, property, value).
    malformed: list[tuple[str, int, str, str]] = field(default_factory=list)
    version: int = 0

    def live(self, object_type: str) -> list[CrmObject]:
        """The records search and default lists see: not archived, not merged away."""
        return [record for record in self.objects[object_type].values() if not record.archived]

    def associate(self, from_type: str, from_id: int, to_type: str, to_id: int) -> None:
        """Associate two records both ways."""
        forward = self.associations.setdefault((from_type, to_type), {}).setdefault(from_id, [])
        if to_id not in forward:
            forward.append(to_id)
        back = self.associations.setdefault((to_type, from_type), {}).setdefault(to_id, [])
        if from_id not in back:
            back.append(from_id)

    def set_property(
        self,
        object_type: str,
        object_id: int,
        name: str,
        value: str | None,
        *,
        at: datetime | None = None,
    ) -> CrmObject:
        """Change one property as a user would, moving the record's modification time.

        Args:
            object_type: ``contacts``, ``deals``, ``calls``, ``emails`` or ``meetings``.
            object_id: The record's id.
            name: The property; a tracked one (lifecycle stage, owner, lead status) also gets
                a history entry (``""`` for ``None``, as HubSpot records a cleared value).
            value: The new value, or ``None`` to clear it.
            at: When it happened; now by default.

        Returns:
            The changed record.
        """
        when = at or datetime.now(UTC)
        record = self.objects[object_type][object_id]
        record.properties[name] = value
        if name in TRACKED:
            record.history.setdefault(name, []).append(Change(value or "", when))
        record.modified = max(record.modified, when)
        self.version += 1
        return record

    def archive(self, object_type: str, object_id: int, *, at: datetime | None = None) -> None:
        """Archive (delete) a record: search and default lists stop seeing it."""
        record = self.objects[object_type][object_id]
        record.archived = True
        record.archived_at = at or datetime.now(UTC)
        self.version += 1

    def merge(self, object_type: str, keep: int, gone: int, *, at: datetime | None = None) -> None:
        """Merge record ``gone`` into ``keep``: ``gone`` disappears, ``keep`` lists it."""
        when = at or datetime.now(UTC)
        survivor = self.objects[object_type][keep]
        earlier = (survivor.properties.get("hs_merged_object_ids") or "").split(";")
        merged = [part for part in earlier if part] + [str(gone)]
        survivor.properties["hs_merged_object_ids"] = ";".join(merged)
        survivor.modified = max(survivor.modified, when)
        loser = self.objects[object_type][gone]
        loser.merged_into = keep
        self.archive(object_type, gone, at=when)


def generate_portal(
    seed: int = 13,
    contacts: int = 300,
    *,
    owners: int | None = None,
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC),
    days: int = 90,
    same_instant: int = 0,
    archived: int = 0,
    merged: int = 0,
    malformed: bool = False,
    activity: bool = True,
) -> Portal:
    """Generate a portal, the same for the same arguments.

    Args:
        seed: The random seed.
        contacts: How many live contacts (the issue's scenario has 25,000).
        owners: How many owners (a quarter of them archived); ``contacts // 40 + 4`` by default.
        start: When the portal's history begins; every record changes within ``days`` of it.
        days: How long the history runs.
        same_instant: How many contacts share one single ``lastmodifieddate`` (the last
            instant of the history), to cross the search cap within one millisecond.
        archived: How many extra contacts are archived (deleted).
        merged: How many extra contacts are merged into a live one.
        malformed: Whether three records carry a malformed value (a bad date on a contact, a
            non-numeric deal amount, an unknown lifecycle stage); see :attr:`Portal.malformed`.
        activity: Whether contacts get calls, emails, meetings and deals (off: a faster portal
            of contacts and owners only).

    Returns:
        The portal.
    """
    rng = random.Random(seed)
    span = timedelta(days=days)
    end = start + span

    def moment(after: datetime, before: datetime) -> datetime:
        seconds = max(0, int((before - after).total_seconds()))
        return after + timedelta(seconds=rng.randint(0, seconds), milliseconds=rng.randint(0, 999))

    owner_count = owners if owners is not None else contacts // 40 + 4
    teams = [
        {"id": "5", "name": "SDR", "primary": True},
        {"id": "6", "name": "AE", "primary": True},
    ]
    people = [
        Owner(
            id=100 + number,
            user_id=9000 + number,
            email=f"rep{number}@example.com",
            first_name=f"Rep{number}",
            last_name="Example",
            created=start - timedelta(days=365),
            teams=[teams[number % 2]],
            archived=number % 4 == 3,
        )
        for number in range(owner_count)
    ]
    portal = Portal(objects={kind: {} for kind in OBJECT_TYPES}, owners=people, associations={})
    next_id = {"contacts": 1, "deals": 500_001, "calls": 1_000_001}
    next_id.update({"emails": 2_000_001, "meetings": 3_000_001})

    def new_id(kind: str) -> int:
        value = next_id[kind]
        next_id[kind] += 1
        return value

    last_instant = end - timedelta(milliseconds=1)
    total = contacts + archived + merged
    for number in range(total):
        created = moment(start, end - timedelta(days=1))
        contact = _contact(rng, new_id("contacts"), created, end, people, moment)
        if number < same_instant:
            contact.modified = last_instant
        portal.objects["contacts"][contact.id] = contact
        if not activity:
            continue
        for kind in ENGAGEMENTS:
            for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
                engagement = _engagement(rng, kind, new_id(kind), contact, end, people, moment)
                portal.objects[kind][engagement.id] = engagement
                portal.associate("contacts", contact.id, kind, engagement.id)
        if rng.random() < 0.2:
            deal = _deal(rng, new_id("deals"), contact, end, people, moment)
            portal.objects["deals"][deal.id] = deal
            portal.associate("contacts", contact.id, "deals", deal.id)
    ids = list(portal.objects["contacts"])
    for gone in ids[contacts : contacts + archived]:
        portal.archive("contacts", gone, at=moment(start, end))
    for index, gone in enumerate(ids[contacts + archived :]):
        portal.merge("contacts", ids[index % max(1, contacts)], gone, at=moment(start, end))
    if malformed:
        _make_malformed(portal)
    return portal


def _contact(
    rng: random.Random,
    contact_id: int,
    created: datetime,
    end: datetime,
    people: list[Owner],
    moment: Callable[[datetime, datetime], datetime],
) -> CrmObject:
    # A walk through the stages: mostly forward, sometimes a backward move with the value
    # cleared first (as HubSpot requires), sometimes through the custom stage.
    path: list[str] = [rng.choice(STAGES[:2])]
    for _ in range(rng.randint(0, 5)):
        current = path[-1]
        if current == CUSTOM_STAGE:
            path.append("opportunity")
            continue
        position = STAGES.index(current)
        roll = rng.random()
        if roll < 0.15 and position > 1:
            path.extend(["", STAGES[rng.randint(1, position - 1)]])
        elif roll < 0.2 and current == "salesqualifiedlead":
            path.append(CUSTOM_STAGE)
        elif position + 1 < len(STAGES):
            path.append(STAGES[position + 1])
    times = sorted(moment(created, end) for _ in path[1:])
    stamps = [created, *times]
    owner = rng.choice(people)
    stage_changes = [
        Change(value, when, rng.choice(("CRM_UI", "FORM", "CALCULATED")), owner.user_id)
        for value, when in zip(path, stamps, strict=True)
    ]
    # The owner history: assigned, sometimes unassigned ("") and reassigned.
    assigned = moment(created, end)
    owner_changes = [Change(str(owner.id), assigned, "CRM_UI", owner.user_id)]
    if rng.random() < 0.3:
        later = moment(assigned, end)
        owner_changes.append(Change("", later, "CRM_UI"))
        owner = rng.choice(people)
        assigned = moment(later, end)
        owner_changes.append(Change(str(owner.id), assigned, "WORKFLOWS"))
    status = rng.choice(_LEAD_STATUSES)
    properties: dict[str, str | None] = {
        "email": f"contact{contact_id}@example.org",
        "lifecyclestage": path[-1] or None,
        "hubspot_owner_id": str(owner.id),
        "hubspot_owner_assigneddate": iso(assigned),
        "hs_lead_status": status,
        "hs_analytics_source": rng.choice(_SOURCES),
        "industry": rng.choice(("SOFTWARE", "RETAIL", None)),
        "jobtitle": rng.choice(("CTO", "Marketing Manager", "Engineer", None)),
        "hs_merged_object_ids": None,
    }
    legacy_only = contact_id % 7 == 0  # older records: only hs_lifecyclestage_*_date
    for stage in (*STAGES, CUSTOM_STAGE):
        entered = [change.timestamp for change in stage_changes if change.value == stage]
        properties[f"hs_lifecyclestage_{stage}_date"] = iso(entered[0]) if entered else None
        latest = iso(entered[-1]) if entered and not legacy_only else None
        properties[f"hs_v2_date_entered_{stage}"] = latest
    modified = max([created, *times, *(change.timestamp for change in owner_changes)])
    return CrmObject(
        object_type="contacts",
        id=contact_id,
        created=created,
        modified=modified,
        properties=properties,
        history={
            "lifecyclestage": stage_changes,
            "hubspot_owner_id": owner_changes,
            "hs_lead_status": [Change(status, created, "CRM_UI")],
        },
    )


def _engagement(
    rng: random.Random,
    kind: str,
    engagement_id: int,
    contact: CrmObject,
    end: datetime,
    people: list[Owner],
    moment: Callable[[datetime, datetime], datetime],
) -> CrmObject:
    happened = moment(contact.created, end)
    # Integrations sometimes write hs_timestamp without milliseconds (VENDORS.md 6.2).
    properties: dict[str, str | None] = {
        "hs_timestamp": iso(happened, millis=rng.random() > 0.1),
        "hubspot_owner_id": contact.properties["hubspot_owner_id"]
        if rng.random() < 0.8
        else str(rng.choice(people).id),
    }
    if kind == "calls":
        properties["hs_call_direction"] = rng.choice(("OUTBOUND", "OUTBOUND", "INBOUND"))
        properties["hs_call_status"] = "COMPLETED"
        properties["hs_call_duration"] = str(rng.randint(0, 1800) * 1000)
    elif kind == "emails":
        properties["hs_email_direction"] = rng.choice(("EMAIL", "EMAIL", "INCOMING_EMAIL"))
        properties["hs_email_status"] = "SENT"
    else:
        properties["hs_meeting_start_time"] = iso(happened)
        properties["hs_meeting_end_time"] = iso(happened + timedelta(minutes=30))
        properties["hs_meeting_outcome"] = rng.choice(("SCHEDULED", "COMPLETED", "NO_SHOW"))
        properties["hs_activity_type"] = "Discovery call"
    return CrmObject(kind, engagement_id, happened, moment(happened, end), properties)


def _deal(
    rng: random.Random,
    deal_id: int,
    contact: CrmObject,
    end: datetime,
    people: list[Owner],
    moment: Callable[[datetime, datetime], datetime],
) -> CrmObject:
    created = moment(contact.created, end)
    stage = rng.choice(("appointmentscheduled", "closedwon", "closedlost"))
    cents = rng.randint(10_000, 5_000_000)
    amount = f"{cents // 100}" if cents % 3 else f"{cents // 100}.{cents % 100:02d}"
    closed = stage != "appointmentscheduled"
    properties: dict[str, str | None] = {
        "dealname": f"Deal {deal_id}",
        "amount": amount,
        "closedate": iso(moment(created, end)) if closed else None,
        "dealstage": stage,
        "pipeline": "default",
        "hs_is_closed": "true" if closed else "false",
        "hs_is_closed_won": "true" if stage == "closedwon" else "false",
        "hubspot_owner_id": str(rng.choice(people).id),
    }
    return CrmObject("deals", deal_id, created, moment(created, end), properties)


def _make_malformed(portal: Portal) -> None:
    contacts = sorted(portal.objects["contacts"])
    deals = sorted(portal.objects["deals"])
    bad: list[tuple[str, int, str, str]] = [
        ("contacts", contacts[1], "hs_v2_date_entered_lead", "not-a-date"),
        ("contacts", contacts[2], "lifecyclestage", "stage_nobody_knows"),
    ]
    if deals:
        bad.append(("deals", deals[0], "amount", "12k"))
    for object_type, object_id, name, value in bad:
        record = portal.objects[object_type][object_id]
        record.properties[name] = value
        if name in TRACKED:
            stamp = max(change.timestamp for change in record.history[name]) + timedelta(hours=1)
            record.history[name].append(Change(value, stamp))
            record.modified = max(record.modified, stamp)
    portal.malformed.extend(bad)
    portal.version += 1


@dataclass
class Fault:
    """An error to answer instead of the real one, for the next ``times`` matching requests."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    kind: str | None
    method: str | None
    times: int


class HubSpotError(Exception):
    """An error answer; raised inside a handler, written as HubSpot's JSON error body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        """Keep the status and body."""
        super().__init__(body.get("message"))
        self.status = status
        self.body = body


def _error(status: int, category: str, message: str) -> HubSpotError:
    return HubSpotError(
        status,
        {
            "status": "error",
            "message": message,
            "correlationId": str(uuid.uuid4()),
            "category": category,
        },
    )


class FakeHubSpot(LoopbackFake):
    """The fake HubSpot server over a :class:`Portal`, on 127.0.0.1.

    Attributes:
        portal: The data served; change it freely (under :attr:`lock` while serving).
        token: The only access token accepted.
        calls: Requests received by kind (``search:contacts``, ``batch_read:contacts``,
            ``associations:contacts->calls``, ``owners``, ``list:contacts``, ``get:contacts``,
            ``properties:contacts``), failed ones included, as HubSpot counts them.
        requests: Every request received, in order.
        before_request: Called with each :class:`Request` before it is answered (under the
            lock), to change records "during" a sync.
        partial_ids: Ids a batch read or association read answers as errors (207) although
            they exist.
        expired: Answer every request 401 ``EXPIRED_AUTHENTICATION``.
        search_lag: How long a change takes to reach the search index (HubSpot's lags
            writes): search does not see records modified less than this long ago.
        association_page: How many targets one input of a v4 association batch read gets
            before its own ``paging.next.after``.
        errors: Requests the fake failed on (a bug of the fake, answered 500); the fixtures
            check it stays empty.
    """

    def __init__(self, portal: Portal, token: str = "pat-na1-fake-token") -> None:
        """Serve ``portal``; call :meth:`start` (or use as a context manager) to listen."""
        self.portal = portal
        self.token = token
        self.calls: Counter[str] = Counter()
        self.requests: list[Request] = []
        self.before_request: Callable[[Request], None] | None = None
        self.partial_ids: set[str] = set()
        #: Accept any bearer token (a contract check plants random secrets of its own).
        self.any_token = False
        self.expired = False
        self.search_lag = timedelta(0)
        self.association_page = 500
        self.errors: list[str] = []
        self.lock = threading.RLock()
        self._faults: list[Fault] = []
        self._search_cache: dict[str, tuple[int, list[CrmObject]]] = {}

    # -- lifecycle -------------------------------------------------------------------------

    def handler_base(self) -> type[BaseHTTPRequestHandler]:
        """The request handler (see :class:`tests.fakes._serving.LoopbackFake`)."""
        return _Handler

    @property
    def url(self) -> str:
        """The base URL to give the SDK (``host`` and ``base_url``)."""
        return f"http://{self.host}"

    # -- faults ----------------------------------------------------------------------------

    def rate_limit(
        self,
        *,
        kind: str | None = None,
        method: str | None = None,
        times: int = 1,
        retry_after: str | None = None,
        policy: str = "SECONDLY",
    ) -> None:
        """Answer 429 to the next ``times`` matching requests.

        Args:
            kind: The request kind prefix to match (``search``, ``owners``, ...); any if None.
            method: ``GET`` or ``POST`` to match; any if None.
            times: How many requests get the 429.
            retry_after: The ``Retry-After`` header's value; absent when None (HubSpot
                promises no such header).
            policy: ``SECONDLY``, ``TEN_SECONDLY_ROLLING`` or ``DAILY``.
        """
        messages = {
            "SECONDLY": "You have reached your secondly limit.",
            "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
            "DAILY": "You have reached your daily limit.",
        }
        body = {
            "status": "error",
            "message": messages.get(policy, f"You have reached your {policy.lower()} limit."),
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": policy,
        }
        headers = {"X-HubSpot-RateLimit-Daily": "250000"}
        headers["X-HubSpot-RateLimit-Daily-Remaining"] = "0" if policy == "DAILY" else "1000"
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        self._faults.append(Fault(429, body, headers, kind, method, times))

    def fail(
        self,
        status: int,
        body: dict[str, Any],
        *,
        kind: str | None = None,
        method: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer ``status`` with ``body`` to the next ``times`` matching requests."""
        self._faults.append(Fault(status, body, {}, kind, method, times))

    def _take_fault(self, method: str, kind: str) -> Fault | None:
        return take_fault(
            self._faults,
            lambda fault: (
                (fault.kind is None or kind.startswith(fault.kind))
                and (fault.method is None or fault.method == method)
            ),
        )

    @contextmanager
    def paused(self) -> Iterator[Portal]:
        """Hold the lock while changing the portal from a test thread."""
        with self.lock:
            yield self.portal

    # -- dispatch --------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], Any]:
        """Answer one request: status, extra headers and the JSON body."""
        split = urlsplit(target)
        path = split.path.rstrip("/") or "/"
        query = parse_qs(split.query, keep_blank_values=True)
        parts = path.strip("/").split("/")
        kind = _kind(method, parts)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self.lock:
            self.calls[kind] += 1
            request = Request(method, path, kind, len(self.requests) + 1, query, body)
            self.requests.append(request)
            if self.before_request is not None:
                self.before_request(request)
            try:
                self._authenticate(headers)
                fault = self._take_fault(method, kind)
                if fault is not None:
                    return fault.status, dict(fault.headers), fault.body
                if raw and body is None:
                    raise _error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1")
                return self._route(method, parts, query, body)
            except HubSpotError as error:
                return error.status, {}, error.body
            except ValueError as error:  # a malformed number or date in the request
                invalid = _error(400, "VALIDATION_ERROR", f"Invalid input: {error}")
                return invalid.status, {}, invalid.body
            except Exception as error:  # a bug of the fake: visible in errors and as a 500
                self.errors.append(f"{method} {path}: {error!r}")
                return 500, {}, {"status": "error", "message": repr(error), "category": "ERROR"}

    def _authenticate(self, headers: dict[str, str]) -> None:
        given = headers.get("authorization", "")
        if self.expired:
            raise _error(
                401,
                "EXPIRED_AUTHENTICATION",
                "The OAuth token used to make this call expired 2 hour(s) ago.",
            )
        if given != f"Bearer {self.token}" and not (self.any_token and given.startswith("Bearer ")):
            raise _error(
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports OAuth 2.0 "
                "authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
            )

    def _route(
        self, method: str, parts: list[str], query: dict[str, list[str]], body: Any
    ) -> tuple[int, dict[str, str], Any]:
        if parts[:2] == ["crm", "v3"] and len(parts) >= 4 and parts[2] == "objects":
            object_type = parts[3]
            if object_type not in OBJECT_TYPES:
                raise _error(
                    400, "VALIDATION_ERROR", f"Unable to infer object type from: {object_type}"
                )
            if method == "POST" and parts[4:] == ["search"]:
                return 200, {}, self._search(object_type, body or {})
            if method == "POST" and parts[4:] == ["batch", "read"]:
                return self._batch_read(object_type, query, body or {})
            if method == "GET" and len(parts) == 4:
                return 200, {}, self._list(object_type, query)
            if method == "GET" and len(parts) == 5:
                return 200, {}, self._one(object_type, parts[4], query)
        if parts[:3] == ["crm", "v3", "owners"] and method == "GET" and len(parts) == 3:
            return 200, {}, self._owners(query)
        if parts[:3] == ["crm", "v3", "properties"] and method == "GET" and len(parts) == 4:
            return 200, {}, self._properties(parts[3])
        if (
            parts[:3] == ["crm", "v4", "associations"]
            and parts[5:] == ["batch", "read"]
            and method == "POST"
        ):
            return self._associations(parts[3], parts[4], body or {})
        raise _error(404, "OBJECT_NOT_FOUND", f"No route for {method} /{'/'.join(parts)}")

    # -- endpoints -------------------------------------------------------------------------

    def _search(self, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
        limit = int(body.get("limit") or 10)
        after = int(body.get("after") or 0)
        if limit > SEARCH_PAGE_MAX or limit < 1:
            raise _error(400, "VALIDATION_ERROR", f"limit must be between 1 and {SEARCH_PAGE_MAX}")
        if after + limit > SEARCH_CAP:
            raise _error(
                400,
                "VALIDATION_ERROR",
                f"There was a problem with the request. The search API returns at most "
                f"{SEARCH_CAP} results for a query; after={after} with limit={limit} is "
                f"beyond it.",
            )
        groups = body.get("filterGroups") or []
        filters = [flt for group in groups for flt in group.get("filters") or []]
        if (
            len(groups) > 5
            or len(filters) > 25
            or any(len(g.get("filters") or []) > 10 for g in groups)
        ):
            raise _error(400, "VALIDATION_ERROR", "Too many filters or filter groups")
        # A page after an id (hs_object_id GT, ascending by id) is a slice of the matches of
        # the same query without that filter: they are found once per portal version, not
        # once per page (which made reading a large window quadratic in the fake).
        groups, above = _after_id(groups, _sorts(body.get("sorts") or []))
        key = json.dumps([object_type, groups, body.get("sorts") or []], sort_keys=True)
        cached = self._search_cache.get(key)
        indexed_until = datetime.now(UTC) - self.search_lag
        if cached is not None and cached[0] == self.portal.version and not self.search_lag:
            matched = cached[1]
        else:
            matched = [
                r
                for r in self.portal.live(object_type)
                if r.modified <= indexed_until and _matches_any(r, groups)
            ]
            for sort in reversed(_sorts(body.get("sorts") or [])):
                name, descending = sort
                matched.sort(key=lambda r, n=name: _sort_key(r, n), reverse=descending)
            # Cached for the next page of the same query, unless the index lags the clock.
            self._search_cache = {} if self.search_lag else {key: (self.portal.version, matched)}
        if above is not None:
            matched = matched[bisect.bisect_right(matched, above, key=lambda r: r.id) :]
        page = matched[after : after + limit]
        answer: dict[str, Any] = {
            "total": len(matched),
            "results": [r.to_json(body.get("properties"), None) for r in page],
        }
        if after + len(page) < len(matched):
            # An offset; no "link" on search answers (VENDORS.md 6.3).
            answer["paging"] = {"next": {"after": str(after + len(page))}}
        return answer

    def _batch_read(
        self, object_type: str, query: dict[str, list[str]], body: dict[str, Any]
    ) -> tuple[int, dict[str, str], Any]:
        inputs = body.get("inputs") or []
        if len(inputs) > BATCH_READ_MAX:
            raise _error(400, "VALIDATION_ERROR", f"Batch input limit is {BATCH_READ_MAX}")
        archived = _flag(query.get("archived"))
        if body.get("idProperty") not in (None, "hs_object_id"):
            raise _error(400, "VALIDATION_ERROR", "The fake reads by id only")
        results: list[dict[str, Any]] = []
        missing: list[str] = []
        started = datetime.now(UTC)
        for entry in inputs:
            given = str(entry.get("id"))
            record = self.portal.objects[object_type].get(int(given)) if given.isdigit() else None
            if record is None or record.archived != archived or given in self.partial_ids:
                missing.append(given)
                continue
            results.append(
                record.to_json(body.get("properties"), body.get("propertiesWithHistory"))
            )
        answer: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": iso(started),
            "completedAt": iso(datetime.now(UTC)),
        }
        if not missing:
            return 200, {}, answer
        name = _SINGULAR[object_type].upper()
        answer["numErrors"] = 1
        answer["errors"] = [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": f"Could not get some {name} objects, they may be deleted or not exist. "
                "Check that ids are valid.",
                "context": {"ids": missing},
            }
        ]
        return 207, {}, answer

    def _list(self, object_type: str, query: dict[str, list[str]]) -> dict[str, Any]:
        archived = _flag(query.get("archived"))
        limit = min(int((query.get("limit") or ["10"])[0]), LIST_PAGE_MAX)
        with_history = query.get("propertiesWithHistory")
        if with_history:
            limit = min(limit, 50)
        after = int((query.get("after") or ["0"])[0] or 0)
        records = sorted(
            (r for r in self.portal.objects[object_type].values() if r.archived == archived),
            key=lambda r: r.id,
        )
        page = [r for r in records if r.id > after][:limit]
        answer: dict[str, Any] = {
            "results": [r.to_json(query.get("properties"), with_history) for r in page]
        }
        if page and page[-1].id != records[-1].id:
            token = str(page[-1].id)
            answer["paging"] = {
                "next": {
                    "after": token,
                    "link": f"https://api.hubapi.com/crm/v3/objects/{object_type}?after={token}",
                }
            }
        return answer

    def _one(self, object_type: str, given: str, query: dict[str, list[str]]) -> dict[str, Any]:
        record = self.portal.objects[object_type].get(int(given)) if given.isdigit() else None
        if record is None or record.archived != _flag(query.get("archived")):
            raise _error(404, "OBJECT_NOT_FOUND", f"Object {given} not found.")
        return record.to_json(query.get("properties"), query.get("propertiesWithHistory"))

    def _owners(self, query: dict[str, list[str]]) -> dict[str, Any]:
        archived = _flag(query.get("archived"))
        limit = min(int((query.get("limit") or ["100"])[0]), OWNERS_PAGE_MAX)
        after = int((query.get("after") or ["0"])[0] or 0)
        email = (query.get("email") or [None])[0]
        owners = [
            o
            for o in self.portal.owners
            if o.archived == archived and (email is None or o.email == email)
        ]
        page = owners[after : after + limit]
        answer: dict[str, Any] = {"results": [o.to_json() for o in page]}
        if after + len(page) < len(owners):
            token = str(after + len(page))
            link = f"https://api.hubapi.com/crm/v3/owners/?after={token}"
            answer["paging"] = {"next": {"after": token, "link": link}}
        return answer

    def _archived(self, object_type: str, object_id: int) -> bool:
        record = self.portal.objects.get(object_type, {}).get(object_id)
        return record is not None and record.archived

    def _properties(self, object_type: str) -> dict[str, Any]:
        if object_type not in OBJECT_TYPES:
            raise _error(
                400, "VALIDATION_ERROR", f"Unable to infer object type from: {object_type}"
            )
        names: set[str] = set()
        for record in self.portal.objects[object_type].values():
            names.update(record.properties)
            break
        if object_type == "contacts":
            names.update({"createdate", "lastmodifieddate", "hs_object_id"})
        else:
            names.update({"hs_createdate", "hs_lastmodifieddate", "hs_object_id"})
        results = []
        for name in sorted(names):
            dated = name in _DATE_PROPERTIES or "date" in name or name == "hs_timestamp"
            results.append(
                {
                    "name": name,
                    "label": name.replace("_", " ").title(),
                    "type": "datetime" if dated else "string",
                    "fieldType": "date" if dated else "text",
                    "groupName": f"{_SINGULAR[object_type]}information",
                    "description": "",
                    "options": [],
                }
            )
        return {"results": results}

    def _associations(
        self, from_type: str, to_type: str, body: dict[str, Any]
    ) -> tuple[int, dict[str, str], Any]:
        inputs = body.get("inputs") or []
        if len(inputs) > ASSOCIATIONS_BATCH_MAX:
            raise _error(400, "VALIDATION_ERROR", f"Batch input limit is {ASSOCIATIONS_BATCH_MAX}")
        links = self.portal.associations.get((from_type, to_type), {})
        page_size = self.association_page
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        started = datetime.now(UTC)
        for entry in inputs:
            given = str(entry.get("id"))
            offset = int(entry.get("after") or 0)
            targets = links.get(int(given), []) if given.isdigit() else []
            # HubSpot answers no association to an archived (deleted or merged-away) record.
            targets = [t for t in targets if not self._archived(to_type, t)]
            if not targets or given in self.partial_ids:
                errors.append(
                    {
                        "status": "error",
                        "category": "OBJECT_NOT_FOUND",
                        "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                        "message": f"No {to_type} are associated with "
                        f"{_SINGULAR.get(from_type, from_type)} {given}.",
                        "context": {"fromObjectId": [given]},
                    }
                )
                continue
            chunk = targets[offset : offset + page_size]
            type_id = _TYPE_IDS.get((from_type, to_type), 1)
            item: dict[str, Any] = {
                "from": {"id": given},
                "to": [
                    {
                        "toObjectId": target,
                        "associationTypes": [
                            {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}
                        ],
                    }
                    for target in chunk
                ],
            }
            if offset + len(chunk) < len(targets):
                item["paging"] = {"next": {"after": str(offset + len(chunk))}}
            results.append(item)
        answer: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": iso(started),
            "completedAt": iso(datetime.now(UTC)),
        }
        if not errors:
            return 200, {}, answer
        answer["numErrors"] = len(errors)
        answer["errors"] = errors
        return 207, {}, answer


def _kind(method: str, parts: list[str]) -> str:
    if parts[:3] == ["crm", "v3", "objects"] and len(parts) >= 4:
        if parts[4:] == ["search"]:
            return f"search:{parts[3]}"
        if parts[4:] == ["batch", "read"]:
            return f"batch_read:{parts[3]}"
        if len(parts) == 4 and method == "GET":
            return f"list:{parts[3]}"
        if len(parts) == 5 and method == "GET":
            return f"get:{parts[3]}"
    if parts[:3] == ["crm", "v4", "associations"] and len(parts) >= 5:
        return f"associations:{parts[3]}->{parts[4]}"
    if parts[:3] == ["crm", "v3", "owners"]:
        return "owners"
    if parts[:3] == ["crm", "v3", "properties"] and len(parts) >= 4:
        return f"properties:{parts[3]}"
    return "other"


def _flag(values: list[str] | None) -> bool:
    # The SDK sends archived=False as the literal string "False" (VENDORS.md 2.1).
    return values is not None and bool(values) and values[0].lower() == "true"


def _number(record: CrmObject, name: str) -> float | str | None:
    raw = record.value(name)
    if raw is None:
        return None
    if name == "hs_object_id":
        return float(raw)
    if name in _DATE_PROPERTIES:
        return float(epoch_ms(datetime.fromisoformat(raw.replace("Z", "+00:00"))))
    return raw


def _operand(name: str, value: Any) -> float | str:
    text = str(value)
    if name == "hs_object_id" or name in _DATE_PROPERTIES:
        try:
            return float(text)
        except ValueError:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return float(epoch_ms(moment))
    return text


def _matches(record: CrmObject, flt: dict[str, Any]) -> bool:
    name = flt.get("propertyName", "")
    operator = flt.get("operator", "EQ")
    have = _number(record, name)
    if operator == "HAS_PROPERTY":
        return have not in (None, "")
    if operator == "NOT_HAS_PROPERTY":
        return have in (None, "")
    if operator in ("IN", "NOT_IN"):
        values = {_operand(name, v) for v in flt.get("values") or []}
        return (have in values) == (operator == "IN")
    if have is None:
        return operator == "NEQ"
    want = _operand(name, flt.get("value"))
    if isinstance(have, float) != isinstance(want, float):
        have, want = str(have), str(want)
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        "EQ": lambda a, b: a == b,
        "NEQ": lambda a, b: a != b,
        "LT": lambda a, b: a < b,
        "LTE": lambda a, b: a <= b,
        "GT": lambda a, b: a > b,
        "GTE": lambda a, b: a >= b,
    }
    if operator == "BETWEEN":
        high = _operand(name, flt.get("highValue"))
        return bool(want <= have <= high)  # type: ignore[operator]
    if operator not in comparisons:
        raise _error(400, "VALIDATION_ERROR", f"Unsupported operator {operator}")
    return comparisons[operator](have, want)


def _matches_any(record: CrmObject, groups: list[dict[str, Any]]) -> bool:
    if not groups:
        return True
    return any(all(_matches(record, f) for f in g.get("filters") or []) for g in groups)


def _sorts(sorts: list[Any]) -> list[tuple[str, bool]]:
    parsed: list[tuple[str, bool]] = []
    for sort in sorts:
        if isinstance(sort, str):
            parsed.append((sort.lstrip("-"), sort.startswith("-")))
        else:
            parsed.append((sort.get("propertyName", ""), sort.get("direction") == "DESCENDING"))
    return parsed or [("hs_object_id", False)]


def _after_id(
    groups: list[dict[str, Any]], sorts: list[tuple[str, bool]]
) -> tuple[list[dict[str, Any]], float | None]:
    """A search by ascending id whose every group has one ``hs_object_id GT n`` filter, the
    same ``n``: the groups without that filter, and ``n`` (OR-ing groups that each ask for
    ids above ``n`` is asking the OR of the rest for ids above ``n``); any other search: the
    groups as given, and None."""
    if not groups or sorts != [("hs_object_id", False)]:
        return groups, None
    stripped: list[dict[str, Any]] = []
    values: set[str] = set()
    for group in groups:
        filters = list(group.get("filters") or [])
        after = [
            f
            for f in filters
            if f.get("propertyName") == "hs_object_id" and f.get("operator") == "GT"
        ]
        if len(after) != 1:
            return groups, None
        values.add(str(after[0].get("value")))
        stripped.append({**group, "filters": [f for f in filters if f is not after[0]]})
    if len(values) != 1:
        return groups, None
    try:
        above = float(values.pop())
    except ValueError:
        return groups, None  # answered 400 by the filter itself, as before
    return stripped, above


def _sort_key(record: CrmObject, name: str) -> tuple[int, float | str]:
    value = _number(record, name)
    if value is None:
        return (1, "")
    return (0, value)


class _Handler(Handler):
    server_fake: FakeHubSpot

    def _answer(self) -> None:
        headers, raw = self.read()
        status, extra, body = self.server_fake.handle(self.command, self.path, headers, raw)
        self.write(status, "application/json;charset=utf-8", json.dumps(body).encode(), extra)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer  # noqa: N815
