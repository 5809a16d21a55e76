"""HubSpot: the pure mapping of HubSpot's CRM objects onto slacore's core objects.

:mod:`slacore_connectors.hubspot.mapping` turns contacts, calls, emails, meetings, deals and
owners, as HubSpot's API answers them, into leads, stage and owner changes, hand-offs,
touches, deals and reps, or rejected records with the reason. It needs no network. The
``hubspot`` connector that reads them from HubSpot is built on it and is not registered yet;
:mod:`slacore_connectors.hubspot.client` fetches the pages it will read.
"""
