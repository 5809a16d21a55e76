"""The oracle of the Salesforce scenarios: the store holds exactly what the fake org holds.

:func:`expected` maps a fake :class:`~tests.fakes.salesforce_org.Org` the way a complete
sync must have stored it, straight from the org's tables (not through the API, the client or
the connector's reads), with the pure mapping of
:mod:`slacore_connectors.salesforce.mapping`:

- every live Lead (``IsDeleted`` false) with its whole LeadHistory through
  :func:`~slacore_connectors.salesforce.mapping.map_lead` (``None`` for the history when the
  org tracks none: the fake then answers no Status and Owner rows);
- every live Task the connector asks for (a closed call or email, not inbound, not a list
  email: the query leaves the other tasks out) and every live Event through
  :func:`~slacore_connectors.salesforce.mapping.map_task` and
  :func:`~slacore_connectors.salesforce.mapping.map_event` with the links of the
  converted live leads (:class:`~slacore_connectors.salesforce.mapping.LeadLinks`, from
  their rows: a lead rejected for a malformed value was converted all the same), so a touch
  logged on a converted contact counts for its lead;
- every live Opportunity through
  :func:`~slacore_connectors.salesforce.mapping.map_opportunity` (its lead: the live lead
  converted into it);
- every User, inactive ones too, through :func:`~slacore_connectors.salesforce.mapping.map_user`.

Rows are given as the REST API writes them (:func:`rest_row`). :func:`held` reads the same
from a store, and :func:`assert_store_equals_fake` compares the two record for record (whole
records, so a wrong value is caught, not only a missing id), checks that the store holds no
record twice and nothing of a deleted lead. Two records with one natural key are one record
in a store (the later replaces the earlier), so :func:`expected` keeps the last one mapped
for each key. Rejected records are compared by stream and id (:func:`expected_rejected`,
:func:`held_rejected`).

What a store cannot know, and the oracle so does not ask:

- a Task or Event of no current lead (no ``WhoId``; a deleted lead's, whose activities
  Salesforce deletes with it unless they are on the contact it was converted into; a
  contact's no lead was converted into) gives no touch; whether the store lists it as
  rejected depends on when it was read (:func:`orphans`), so rejected touches leave them
  out;
- a touch has no activity id (its key is lead, rep, time and channel): a Task deleted or
  changed after it was stored leaves its former touch (the scenarios delete leads, not
  tasks alone);
- the deal of a converted lead deleted later is not read again, so its ``lead_id`` stays:
  the oracle expects none only for a deal whose lead was deleted before it was read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from tests.fakes.salesforce import rest_time
from tests.fakes.salesforce_org import Org
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
from slacore_connectors.salesforce.mapping import (
    Conversion,
    LeadLinks,
    Mapped,
    SalesforceMapping,
    map_event,
    map_lead,
    map_opportunity,
    map_task,
    map_user,
)

__all__ = [
    "MAPPING",
    "SETTINGS",
    "SHOWN",
    "STREAMS",
    "assert_store_equals_fake",
    "deleted_leads",
    "differences",
    "expected",
    "expected_rejected",
    "held",
    "held_rejected",
    "orphans",
    "rest_row",
]

#: The streams compared: every stream the connector offers.
STREAMS: tuple[Stream, ...] = tuple(Stream)

#: The mapping settings of the scenarios' job files: the generated org's statuses (it has
#: two beyond a new org's standard four) and its custom fields.
SETTINGS: dict[str, Any] = {
    "status_values": {
        "Open - Not Contacted": "lead",
        "Working - Contacted": "lead",
        "Marketing Qualified": "mql",
        "Sales Accepted": "sal",
    },
    "handoff_status": "Marketing Qualified",
    "segment_field": "Segment__c",
    "persona_field": "Persona__c",
    "hand_raiser_field": "Hand_Raiser__c",
}
#: :data:`SETTINGS` read as the connector reads them.
MAPPING = SalesforceMapping.from_settings(SETTINGS)

_HISTORY_FIELDS = ("Status", "Owner")


def rest_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row of the org as the REST API writes it: date-times with milliseconds and
    ``+0000``, dates ISO, the rest as it is (malformed values too)."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, datetime):
            value = rest_time(value)
        elif isinstance(value, date):
            value = value.isoformat()
        out[name] = value
    return out


def _live(org: Org, sobject: str) -> list[dict[str, Any]]:
    """The rows ``query`` (not ``queryAll``) answers, in Id order."""
    table = org.tables.get(sobject, {})
    return [table[i] for i in sorted(table) if not table[i].get("IsDeleted")]


def deleted_leads(org: Org) -> set[str]:
    """The ids of the org's deleted leads."""
    return {i for i, row in org.tables.get("Lead", {}).items() if row.get("IsDeleted")}


def _history(org: Org) -> dict[str, list[dict[str, Any]]]:
    """Each lead's LeadHistory rows (REST), as the fake answers them."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for row in org.tables.get("LeadHistory", {}).values():
        if row.get("IsDeleted"):
            continue
        if not org.history_tracking and row.get("Field") in _HISTORY_FIELDS:
            continue
        rows.setdefault(row["LeadId"], []).append(rest_row(row))
    return rows


def orphans(org: Org) -> set[str]:
    """The ids of the live Tasks and Events of no current lead: without a ``WhoId``, or
    whose ``WhoId`` is a deleted lead, or a contact no live lead was converted into (the
    connector asks for none of the first, skips the others: no touch, no rejection)."""
    gone = deleted_leads(org)
    linked = {
        row["ConvertedContactId"]
        for row in _live(org, "Lead")
        if row.get("IsConverted") is True and row.get("ConvertedContactId")
    }

    def of_no_lead(who: Any) -> bool:
        contact = isinstance(who, str) and who.startswith("003")
        return who is None or who in gone or (contact and who not in linked)

    return {
        row["Id"]
        for sobject in ("Task", "Event")
        for row in _live(org, sobject)
        if of_no_lead(row.get("WhoId"))
    }


def _asked(task: Mapping[str, Any]) -> bool:
    """Whether the connector's Task query asks for ``task``: a closed call or email (by
    ``TaskSubtype``, else ``Type``), not a list email, not an inbound call (the other tasks
    are no rep's touch: the mapping would reject them, the query leaves them out)."""
    subtype, kind = task.get("TaskSubtype"), task.get("Type")
    return (
        (subtype in ("Call", "Email") or kind in ("Call", "Email", "Meeting"))
        and subtype != "ListEmail"
        and task.get("CallType") != "Inbound"
        and task.get("IsClosed") is True
    )


def _conversion(row: Mapping[str, Any]) -> Conversion | None:
    """A live lead's conversion links, from its row: a lead rejected for a malformed value
    (its Status, its CreatedDate) was still converted into its contact and opportunity."""
    if row.get("IsConverted") is not True:
        return None
    return Conversion(
        lead_id=row["Id"],
        converted_on=None,
        contact_id=row.get("ConvertedContactId"),
        opportunity_id=row.get("ConvertedOpportunityId"),
    )


def _mapped(org: Org, mapping: SalesforceMapping) -> Iterable[Mapped]:
    """Every row of the org a complete sync reads, mapped: leads first (their links)."""
    history = _history(org)
    tracked = org.history_tracking
    leads = [
        map_lead(rest_row(row), history.get(row["Id"], []) if tracked else None, mapping)
        for row in _live(org, "Lead")
    ]
    yield from leads
    links = LeadLinks.of(_conversion(row) for row in _live(org, "Lead"))
    left_out = orphans(org)
    for row in _live(org, "Task"):
        if row["Id"] not in left_out and _asked(row):
            yield map_task(rest_row(row), links.lead_of_who)
    for row in _live(org, "Event"):
        if row["Id"] not in left_out:
            yield map_event(rest_row(row), links.lead_of_who)
    for row in _live(org, "Opportunity"):
        yield map_opportunity(rest_row(row), links.lead_of_opportunity, currency=mapping.currency)
    for row in _live(org, "User"):
        yield map_user(rest_row(row))


def _expected(
    org: Org, mapping: SalesforceMapping | None
) -> tuple[dict[str, set[Any]], dict[str, set[str]]]:
    return collect(_mapped(org, mapping or SalesforceMapping()), STREAMS)


def expected(org: Org, mapping: SalesforceMapping | None = None) -> dict[str, set[Any]]:
    """The records a store must hold as current after a complete sync of ``org``.

    Args:
        org: The fake's org, as it is now.
        mapping: The mapping settings the sync used (``SalesforceMapping()`` by default;
            the generated org's statuses want :data:`MAPPING`).

    Returns:
        The records (core objects) per stream name: ``leads``, ``stage_changes``,
        ``owner_changes``, ``handoffs``, ``touches``, ``deals``, ``reps``.

    """
    return _expected(org, mapping)[0]


def expected_rejected(org: Org, mapping: SalesforceMapping | None = None) -> dict[str, set[str]]:
    """The ids of the rows a complete sync of ``org`` rejects, per stream name (the
    :func:`orphans` left out)."""
    return _expected(org, mapping)[1]


def held(store_path: str | Path, *, source_name: str | None = None) -> dict[str, set[Any]]:
    """The records the store at ``store_path`` holds as current, in :func:`expected`'s shape.

    Args:
        store_path: The SQLite store's file (opened read-only).
        source_name: Only this source's records (all sources' by default).

    Raises:
        AssertionError: The store holds two current rows of one natural key.

    """
    return read_store(store_path, STREAMS, source_name)[0]


def held_rejected(store_path: str | Path, *, source_name: str | None = None) -> dict[str, set[str]]:
    """The ids of the rejected records the store keeps as current, per stream name."""
    return read_store(store_path, STREAMS, source_name)[1]


def assert_store_equals_fake(
    store_path: str | Path,
    org: Org,
    mapping: SalesforceMapping | None = None,
    *,
    source_name: str | None = None,
    calls: Mapping[str, int] | None = None,
) -> None:
    """Assert that the store holds as current exactly what :func:`expected` says, record for
    record, each once, its rejected ids those :func:`expected_rejected` says, and nothing of
    a deleted lead.

    Args:
        store_path: The SQLite store's file.
        org: The fake's org, as it is now.
        mapping: The mapping settings the sync used (``SalesforceMapping()`` by default).
        source_name: Compare only this source's records.
        calls: The fake's request counts (``fake.calls``), shown in the failure message and
            printed with the records compared (``pytest -rP`` shows it).

    Raises:
        AssertionError: Naming each stream that differs, with up to five missing and five
            extra records (or rejected ids).

    """
    want, want_rejected = _expected(org, mapping)
    have, have_rejected = read_store(store_path, STREAMS, source_name)
    have_rejected[Stream.TOUCHES.value] -= orphans(org)
    problems = differences(want, have)
    problems += differences(want_rejected, have_rejected, "rejected ids")
    problems += left_of(have, deleted_leads(org), STREAMS)
    assert_no_problems(problems, have, calls_line(calls))
