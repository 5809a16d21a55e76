"""HubSpot's CRM objects, as its API answers them, mapped onto slacore's core objects.

Pure functions, no network: the client fetches pages, these read them.

- :func:`map_contact`: a contact gives a :class:`~slacore.model.Lead`, its
  :class:`~slacore.model.StageChange` s (from ``propertiesWithHistory.lifecyclestage``, or
  without history from the time each stage was entered, ``hs_v2_date_entered_<stage>``,
  falling back to ``hs_lifecyclestage_<stage>_date``), its :class:`~slacore.model.OwnerChange` s
  (from the ``hubspot_owner_id`` history) and its :class:`~slacore.model.Handoff` s (see
  :class:`HandoffClock`).
- :func:`map_engagement`: a call, a sent email or a meeting gives a
  :class:`~slacore.model.Touch` per contact it is associated with.
- :func:`map_deal`: a deal gives a :class:`~slacore.model.Deal`; won or lost comes from the
  pipeline's stage metadata (:func:`deal_stages`) or ``hs_is_closed``/``hs_is_closed_won``.
- :func:`map_owner`: an owner, archived ones too, gives a :class:`~slacore.model.Rep`.

Nothing is silent: each object gives its records (a :class:`Mapped`) or one
:class:`~slacore.connector.RejectedRecord` naming the object's id, the HubSpot property at
fault and the reason. A contact is mapped whole or rejected whole, as are the others: its
records share its values, and half a contact would be a wrong one.

Times: HubSpot writes ISO 8601 strings (with or without milliseconds, ``Z`` or an offset) in
v3 properties and history, and epoch milliseconds in its older answers (numbers, or strings
of digits). :func:`parse_time` reads both and gives aware UTC times; see it for what is
refused. HubSpot's property values are all strings (``amount: "3000"``), an empty one
``null``.

The settings of the mapping are :class:`HubSpotMapping` (schema :data:`MAPPING_SETTINGS`);
:func:`properties` lists the properties each object type needs, so the client asks only for
those, and :func:`mapped_properties` the ones the settings name, which the connector checks
against HubSpot's properties at start (HubSpot drops a property it does not know without a
word).

This module is the mapping's front door: it re-exports the public names of the modules that
hold them, one idea each: :mod:`~slacore_connectors.hubspot.settings` (the settings and the
properties to ask for), :mod:`~slacore_connectors.hubspot.results` (:class:`Mapped`,
:class:`PendingHandoff`), :mod:`~slacore_connectors.hubspot.contacts` (:func:`map_contact`),
:mod:`~slacore_connectors.hubspot.activity` (:func:`map_engagement`, :func:`map_deal`,
:func:`deal_stages`, :func:`map_owner`), and the private ``_times`` (:func:`parse_time`) and
``_objects`` (reading one object's id, properties and creation time).
"""

from __future__ import annotations

from slacore.errors import ValidationError  # noqa: F401  (the docstring examples use it)
from slacore_connectors.hubspot._times import parse_time
from slacore_connectors.hubspot.activity import (
    DealStage,
    deal_stages,
    map_deal,
    map_engagement,
    map_owner,
)
from slacore_connectors.hubspot.contacts import map_contact
from slacore_connectors.hubspot.results import Mapped, PendingHandoff
from slacore_connectors.hubspot.settings import (
    DEFAULT_STAGE_VALUES,
    MAPPING_SETTINGS,
    HandoffClock,
    HubSpotMapping,
    ObjectType,
    check_properties,
    history_properties,
    mapped_properties,
    properties,
)

__all__ = [
    "DEFAULT_STAGE_VALUES",
    "MAPPING_SETTINGS",
    "DealStage",
    "HandoffClock",
    "HubSpotMapping",
    "Mapped",
    "ObjectType",
    "PendingHandoff",
    "check_properties",
    "deal_stages",
    "history_properties",
    "map_contact",
    "map_deal",
    "map_engagement",
    "map_owner",
    "mapped_properties",
    "parse_time",
    "properties",
]

# The examples of the names defined in the modules above, run by ``doctest.testmod`` on this
# module (which finds only what is defined here) as they were when all lived here.
__test__ = {
    "HubSpotMapping": HubSpotMapping,
    "parse_time": parse_time,
    "properties": properties,
    "history_properties": history_properties,
    "mapped_properties": mapped_properties,
    "check_properties": check_properties,
}
