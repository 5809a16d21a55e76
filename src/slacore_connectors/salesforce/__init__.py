"""Salesforce: the pure mapping of Salesforce's objects onto slacore's core objects.

:mod:`slacore_connectors.salesforce.mapping` turns Lead, LeadHistory, Task, Event,
Opportunity and User rows, as the REST API (JSON) or Bulk API 2.0 (CSV) answers them, into
leads, stage and owner changes, hand-offs, touches, deals and reps, or rejected records with
the reason. It needs no network. The ``salesforce`` connector that will read them is not
built or registered yet.
"""
