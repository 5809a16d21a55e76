"""The oracle of the HubSpot scenarios: the store holds exactly what the fake holds.

:func:`expected` maps a fake :class:`~tests.fakes.hubspot.Portal` the way a complete sync
must have stored it, straight from the portal's records (not through the API, the client or
the connector's reads): every live contact, read whole with its history, through
:func:`~slacore_connectors.hubspot.mapping.map_contact`; every live call, sent email and
meeting through :func:`~slacore_connectors.hubspot.mapping.map_engagement` with the contacts
the portal associates it with; every live deal through
:func:`~slacore_connectors.hubspot.mapping.map_deal`; every owner (archived ones too) through
:func:`~slacore_connectors.hubspot.mapping.map_owner`. :func:`held` reads the same from a
store, and :func:`assert_store_equals_fake` compares the two, record for record (whole
records, so a wrong value is caught, not only a missing id), and checks that the store holds
no record twice and nothing of a deleted contact.

Records are compared as sets of the core objects (frozen attrs classes, equal field by
field). Two records with one natural key are one record in a store (the later replaces the
earlier), so :func:`expected` keeps the last one mapped for each key. Rejected records are
compared by stream and id (:func:`expected_rejected`, :func:`held_rejected`).

What a store cannot know, and the oracle so does not ask:

- a call, email or meeting whose every contact was deleted gives no touch; whether the store
  lists it as rejected depends on when it was read (:func:`orphans`);
- a deal is not read again when its contact is deleted, so a scenario that deletes a
  contact with a deal cannot expect the deal's ``lead_id`` to follow (the scenarios delete
  contacts without deals);
- a touch has no engagement id (its key is lead, rep, time and channel): a call given
  another owner or time, or deleted, leaves its former touch (pinned as an ``xfail`` in
  ``test_scenarios_sync.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tests.fakes.hubspot import ENGAGEMENTS, TRACKED, CrmObject, Portal
from tests.slacore_connectors.store_oracle import (
    SHOWN,
    assert_no_problems,
    calls_line,
    collect,
    differences,
    left_of,
    read_store,
)

from slacore.connector import Stream
from slacore_connectors.hubspot.connector import HubSpotConnector
from slacore_connectors.hubspot.mapping import (
    HubSpotMapping,
    Mapped,
    map_contact,
    map_deal,
    map_engagement,
    map_owner,
)

#: The streams compared: all the connector's.
STREAMS: tuple[Stream, ...] = tuple(HubSpotConnector.streams)
__all__ = [
    "SHOWN",
    "STREAMS",
    "assert_store_equals_fake",
    "deleted_contacts",
    "differences",
    "expected",
    "expected_rejected",
    "held",
    "held_rejected",
    "orphans",
]


def _full_json(record: CrmObject) -> dict[str, Any]:
    """The record as HubSpot answers it with every property it has and every history."""
    return record.to_json(list(record.properties), list(TRACKED))


def _searched(kind: str, record: CrmObject) -> bool:
    """Whether the connector's search asks for this engagement: sent emails, calls not
    inbound, meetings not cancelled (the others are no rep's touch)."""
    props = record.properties
    if kind == "emails":
        return props.get("hs_email_direction") == "EMAIL"
    if kind == "calls":
        return props.get("hs_call_direction") != "INBOUND"
    return props.get("hs_meeting_outcome") not in ("CANCELED", "CANCELLED")


def _associated(portal: Portal, kind: str, record_id: int) -> list[int]:
    return portal.associations.get((kind, "contacts"), {}).get(record_id, [])


def _contacts_of(portal: Portal, kind: str, record_id: int) -> list[str]:
    """The live contacts the record is associated with (HubSpot answers no association to
    a deleted or merged-away contact)."""
    contacts = portal.objects["contacts"]
    return [str(i) for i in _associated(portal, kind, record_id) if not contacts[i].archived]


def orphans(portal: Portal) -> set[str]:
    """The ids of the calls, emails and meetings whose every contact was deleted.

    They give no touch (their contacts' events are gone with them); whether the store keeps
    them as rejected ("no contact") depends on whether a sync read them after the deletion,
    so the comparison of rejected records leaves them out.
    """
    return {
        str(engagement.id)
        for kind in ENGAGEMENTS
        for engagement in portal.live(kind)
        if _associated(portal, kind, engagement.id)
        and not _contacts_of(portal, kind, engagement.id)
    }


def _mapped(portal: Portal, mapping: HubSpotMapping) -> Iterable[Mapped]:
    """Every object of the portal a complete sync reads, mapped, in ascending id order."""
    for contact in sorted(portal.live("contacts"), key=lambda r: r.id):
        yield map_contact(_full_json(contact), mapping)
    for kind in ENGAGEMENTS:
        for engagement in sorted(portal.live(kind), key=lambda r: r.id):
            if not _searched(kind, engagement):
                continue  # the connector's search asks for a rep's engagements alone
            contacts = _contacts_of(portal, kind, engagement.id)
            if not contacts and _associated(portal, kind, engagement.id):
                continue  # see orphans()
            yield map_engagement(kind, _full_json(engagement), contacts)
    for deal in sorted(portal.live("deals"), key=lambda r: r.id):
        yield map_deal(_full_json(deal), _contacts_of(portal, "deals", deal.id))
    for owner in portal.owners:
        yield map_owner(owner.to_json(), mapping)


def _expected(
    portal: Portal, mapping: HubSpotMapping | None
) -> tuple[dict[str, set[Any]], dict[str, set[str]]]:
    return collect(_mapped(portal, mapping or HubSpotMapping()), STREAMS)


def expected(portal: Portal, mapping: HubSpotMapping | None = None) -> dict[str, set[Any]]:
    """The records a store must hold as current after a complete sync of ``portal``.

    Args:
        portal: The fake's portal, as it is now.
        mapping: The mapping settings the sync used (the default ones by default).

    Returns:
        The records (core objects) per stream name: ``leads``, ``stage_changes``,
        ``owner_changes``, ``handoffs``, ``touches``, ``deals``, ``reps``.

    """
    return _expected(portal, mapping)[0]


def expected_rejected(portal: Portal, mapping: HubSpotMapping | None = None) -> dict[str, set[str]]:
    """The ids of the records a complete sync of ``portal`` rejects, per stream name."""
    return _expected(portal, mapping)[1]


def _held(
    store_path: str | Path, source_name: str | None
) -> tuple[dict[str, set[Any]], dict[str, set[str]]]:
    return read_store(store_path, STREAMS, source_name)


def held(store_path: str | Path, *, source_name: str | None = None) -> dict[str, set[Any]]:
    """The records the store at ``store_path`` holds as current, in :func:`expected`'s shape.

    Args:
        store_path: The SQLite store's file (opened read-only).
        source_name: Only this source's records (all sources' by default).

    Raises:
        AssertionError: The store holds two current rows of one natural key.

    """
    return _held(store_path, source_name)[0]


def held_rejected(store_path: str | Path, *, source_name: str | None = None) -> dict[str, set[str]]:
    """The ids of the rejected records the store keeps as current, per stream name."""
    return _held(store_path, source_name)[1]


def deleted_contacts(portal: Portal) -> set[str]:
    """The ids of the portal's archived and merged-away contacts."""
    return {str(r.id) for r in portal.objects["contacts"].values() if r.archived}


def assert_store_equals_fake(
    store_path: str | Path,
    portal: Portal,
    mapping: HubSpotMapping | None = None,
    *,
    source_name: str | None = None,
    calls: Mapping[str, int] | None = None,
) -> None:
    """Assert that the store holds as current exactly what :func:`expected` says, record for
    record, each once, and nothing of a deleted (archived or merged) contact.

    Args:
        store_path: The SQLite store's file.
        portal: The fake's portal, as it is now.
        mapping: The mapping settings the sync used.
        source_name: Compare only this source's records.
        calls: The fake's request counts (``fake.calls``), shown in the failure message
            and printed with the records compared (``pytest -rP`` shows it).

    Raises:
        AssertionError: Naming each stream that differs, with up to five missing and five
            extra records.

    """
    want, want_rejected = _expected(portal, mapping)
    have, have_rejected = _held(store_path, source_name)
    have_rejected[Stream.TOUCHES.value] -= orphans(portal)
    problems = differences(want, have)
    problems += differences(want_rejected, have_rejected, "rejected ids")
    problems += left_of(have, deleted_contacts(portal), STREAMS)
    assert_no_problems(problems, have, calls_line(calls))
