"""Salesforce's rows, as its REST API (JSON) or Bulk API 2.0 (CSV) answers them, mapped onto
slacore's core objects.

Pure functions, no network: the client (next) fetches rows, these read them.

- :func:`map_lead`: a Lead row and its LeadHistory rows give a :class:`~slacore.model.Lead`,
  its :class:`~slacore.model.StageChange` s (``Status`` history), its
  :class:`~slacore.model.OwnerChange` s (``Owner`` history, one per change though each
  writes two rows) and its :class:`~slacore.model.Handoff` s (see :class:`HandoffClock`),
  and, for a converted lead, its :class:`Conversion`.
- :func:`map_task`, :func:`map_event`: a Task (call, email) or an Event (meeting) gives a
  :class:`~slacore.model.Touch` of the lead its ``WhoId`` names, or of the lead converted
  into the contact it names.
- :func:`map_opportunity`: an Opportunity gives a :class:`~slacore.model.Deal`.
- :func:`map_user`: a User, inactive ones too, gives a :class:`~slacore.model.Rep`.

Nothing is silent: each row gives its records (a :class:`Mapped`) or one
:class:`~slacore.connector.RejectedRecord` naming the row's id, the Salesforce field at fault
and the reason. The values are read strictly (:mod:`~slacore_connectors.salesforce._wire`):
REST and Bulk 2.0 datetimes (:func:`parse_datetime`), dates kept dates (:func:`parse_date`),
JSON and CSV booleans (:func:`parse_flag`), ``""`` as null, ids by their key prefix
(:func:`id_kind`), never by ``attributes.type``.

The settings of the mapping are :class:`SalesforceMapping` (schema :data:`MAPPING_SETTINGS`);
:func:`fields` lists the fields to select from each object and :func:`check_fields` checks
the mapped ones against the org's Lead ``describe()`` at start.

What the connector does with the results: it routes deleted rows (:func:`is_deleted`) to
deletions before mapping, passes the links of converted leads on (``Mapped.conversion``,
gathered by :meth:`LeadLinks.of`: ``contact_id -> lead_id`` to
:func:`map_task`/:func:`map_event`, ``opportunity_id -> lead_id`` to
:func:`map_opportunity`), says each ``Mapped.notices`` sentence once a run, shows
``Mapped.pending``, and watches ``Mapped.currency``.
"""

from __future__ import annotations

from slacore.errors import ValidationError  # noqa: F401  (the docstring examples use it)
from slacore_connectors.salesforce._wire import (
    IdKind,
    id_kind,
    is_deleted,
    parse_date,
    parse_datetime,
    parse_flag,
)
from slacore_connectors.salesforce.activity import map_event, map_task
from slacore_connectors.salesforce.deals import map_opportunity
from slacore_connectors.salesforce.leads import NO_HISTORY, map_lead
from slacore_connectors.salesforce.reps import map_user
from slacore_connectors.salesforce.results import Conversion, LeadLinks, Mapped, PendingHandoff
from slacore_connectors.salesforce.settings import (
    DEFAULT_STATUS_VALUES,
    MAPPING_SETTINGS,
    HandoffClock,
    SalesforceMapping,
    SalesforceObject,
    check_fields,
    fields,
    mapped_fields,
)

__all__ = [
    "DEFAULT_STATUS_VALUES",
    "MAPPING_SETTINGS",
    "NO_HISTORY",
    "Conversion",
    "HandoffClock",
    "IdKind",
    "LeadLinks",
    "Mapped",
    "PendingHandoff",
    "SalesforceMapping",
    "SalesforceObject",
    "check_fields",
    "fields",
    "id_kind",
    "is_deleted",
    "map_event",
    "map_lead",
    "map_opportunity",
    "map_task",
    "map_user",
    "mapped_fields",
    "parse_date",
    "parse_datetime",
    "parse_flag",
]

# The examples of the names defined in the modules above, run by ``doctest.testmod`` on this
# module (which finds only what is defined here).
__test__ = {
    "SalesforceMapping": SalesforceMapping,
    "fields": fields,
    "mapped_fields": mapped_fields,
    "check_fields": check_fields,
    "map_lead": map_lead,
    "map_task": map_task,
    "map_event": map_event,
    "map_opportunity": map_opportunity,
    "map_user": map_user,
    "id_kind": id_kind,
    "is_deleted": is_deleted,
    "LeadLinks": LeadLinks,
    "parse_datetime": parse_datetime,
    "parse_date": parse_date,
    "parse_flag": parse_flag,
}
