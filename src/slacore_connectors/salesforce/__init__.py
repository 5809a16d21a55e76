"""Salesforce: the ``salesforce`` connector and the pure mapping it reads through.

- :mod:`slacore_connectors.salesforce.connector`: :class:`SalesforceConnector`, registered as
  ``salesforce``, reads an org incrementally (windows of ``SystemModstamp``, Bulk API 2.0 for
  a large first load) into leads with their stage and owner changes and hand-offs, touches,
  deals and reps, deleted rows as deletions.
- :mod:`slacore_connectors.salesforce.client`: the client that only fetches pages, through
  ``simple-salesforce`` (logins, limits, timeouts, ``QUERY_TIMEOUT``).
- :mod:`slacore_connectors.salesforce.mapping`: Lead, LeadHistory, Task, Event, Opportunity
  and User rows, as the REST API (JSON) or Bulk API 2.0 (CSV) answers them, mapped onto the
  core objects, or rejected with the reason; no network.

The guide is ``docs/connectors/salesforce.md``.
"""
