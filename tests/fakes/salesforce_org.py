"""The generated org a fake Salesforce serves (:mod:`tests.fakes.salesforce`).

An :class:`Org` holds sObject rows as plain dicts of Python values (``datetime`` in UTC,
``date``, ``bool``, ``float`` for currency, ``str``, ``None``); the server formats them as
Salesforce does on the wire (VENDORS.md 3.3, 6.8). :func:`generate_org` builds one from a seed:
leads with Status walks and owner changes (queue ``00G`` to user ``005``), their LeadHistory
(an owner change as two rows, one ``EntityId`` and one ``Text``, VENDORS.md 6.10), tasks
(calls and emails), events (meetings), opportunities, users (some inactive), queues, converted
contacts, deleted rows (``IsDeleted``, only through ``queryAll``) and, on demand, leads sharing
one ``SystemModstamp`` and malformed values.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

#: The issue's scenario: ``generate_org(**SCENARIO)`` is the 20,000-lead org.
SCENARIO: dict[str, Any] = {"seed": 14, "leads": 20_000, "same_instant": 2_500, "deleted": 40}

#: Lead statuses of the generated org, in funnel order; the last two are exits.
STATUSES = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Marketing Qualified",
    "Sales Accepted",
    "Closed - Converted",
    "Closed - Not Converted",
)
SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
PERSONAS = ("Economic Buyer", "Champion", "User")

#: Key prefixes of the objects the org holds (the first three characters of an id).
PREFIXES = {
    "Lead": "00Q",
    "LeadHistory": "017",
    "Task": "00T",
    "Event": "00U",
    "Opportunity": "006",
    "User": "005",
    "Group": "00G",
    "Contact": "003",
    "Account": "001",
}

_COMMON = {"Id": "id", "CreatedDate": "datetime", "SystemModstamp": "datetime"}
_COMMON["LastModifiedDate"] = "datetime"
_DELETABLE = {"IsDeleted": "boolean"}
#: Field name -> SOAP type, per sObject (what ``describe`` answers; a field not here is an
#: ``INVALID_FIELD`` error in a query).
FIELDS: dict[str, dict[str, str]] = {
    "Lead": {
        **_COMMON,
        **_DELETABLE,
        "Name": "string",
        "Email": "string",
        "Company": "string",
        "Status": "picklist",
        "LeadSource": "picklist",
        "OwnerId": "reference",
        "IsConverted": "boolean",
        "ConvertedDate": "date",
        "ConvertedContactId": "reference",
        "ConvertedOpportunityId": "reference",
        "ConvertedAccountId": "reference",
        "LastActivityDate": "date",
        "Segment__c": "picklist",
        "Persona__c": "picklist",
        "Hand_Raiser__c": "boolean",
    },
    "LeadHistory": {
        "Id": "id",
        "CreatedDate": "datetime",
        **_DELETABLE,
        "LeadId": "reference",
        "Field": "picklist",
        "DataType": "picklist",
        "OldValue": "anyType",
        "NewValue": "anyType",
        "CreatedById": "reference",
    },
    "Task": {
        **_COMMON,
        **_DELETABLE,
        "WhoId": "reference",
        "WhatId": "reference",
        "OwnerId": "reference",
        "Subject": "string",
        "Status": "picklist",
        "IsClosed": "boolean",
        "ActivityDate": "date",
        "TaskSubtype": "picklist",
        "Type": "picklist",
        "CallType": "picklist",
        "CallDurationInSeconds": "int",
        "CompletedDateTime": "datetime",
        "IsArchived": "boolean",
    },
    "Event": {
        **_COMMON,
        **_DELETABLE,
        "WhoId": "reference",
        "WhatId": "reference",
        "OwnerId": "reference",
        "Subject": "string",
        "EventSubtype": "picklist",
        "ActivityDate": "date",
        "ActivityDateTime": "datetime",
        "StartDateTime": "datetime",
        "EndDateTime": "datetime",
        "DurationInMinutes": "int",
        "IsAllDayEvent": "boolean",
    },
    "Opportunity": {
        **_COMMON,
        **_DELETABLE,
        "Name": "string",
        "AccountId": "reference",
        "Amount": "currency",
        "CloseDate": "date",
        "StageName": "picklist",
        "IsWon": "boolean",
        "IsClosed": "boolean",
        "OwnerId": "reference",
    },
    "User": {**_COMMON, "Name": "string", "Email": "string", "IsActive": "boolean"},
    "Group": {**_COMMON, "Name": "string", "DeveloperName": "string", "Type": "picklist"},
    "Contact": {**_COMMON, **_DELETABLE, "Name": "string", "Email": "string"},
}

#: Polymorphic relationships: relationship name -> the id field it follows (VENDORS.md 6.9).
RELATIONSHIPS = {"Owner": "OwnerId", "Who": "WhoId", "What": "WhatId", "CreatedBy": "CreatedById"}


def sf_id(sobject: str, number: int) -> str:
    """An 18-character id with the object's key prefix, e.g. ``00Q000000000001AAA``."""
    return f"{PREFIXES[sobject]}{number:012d}AAA"


@dataclass
class Org:
    """The data a fake Salesforce serves; change it between requests to simulate live edits.

    Attributes:
        tables: sObject name -> Id -> row (field name -> Python value).
        malformed: Values made malformed on purpose: (sObject, Id, field, value).
        history_tracking: Whether Lead field history is tracked; off, LeadHistory answers
            no Status/Owner rows (as an org without Field History Tracking).
    """

    tables: dict[str, dict[str, dict[str, Any]]]
    malformed: list[tuple[str, str, str, Any]] = field(default_factory=list)
    history_tracking: bool = True
    _numbers: dict[str, int] = field(default_factory=dict)

    def new_id(self, sobject: str) -> str:
        """A fresh id for ``sobject``."""
        number = self._numbers.get(sobject, len(self.tables.get(sobject, {}))) + 1
        self._numbers[sobject] = number
        return sf_id(sobject, number)

    def insert(self, sobject: str, row: dict[str, Any], *, at: datetime | None = None) -> str:
        """Add a row; ``at`` (default now) becomes its CreatedDate and SystemModstamp unless set.

        A row inserted with a SystemModstamp in the past is the "late row" of VENDORS.md 4.6:
        it appears behind a cursor that already passed its time.

        Returns:
            The row's Id.
        """
        when = at or datetime.now(UTC)
        row = dict(row)
        row.setdefault("Id", self.new_id(sobject))
        row.setdefault("CreatedDate", when)
        if "SystemModstamp" in FIELDS[sobject]:
            row.setdefault("SystemModstamp", when)
            row.setdefault("LastModifiedDate", row["SystemModstamp"])
        if "IsDeleted" in FIELDS[sobject]:
            row.setdefault("IsDeleted", False)
        for name in FIELDS[sobject]:
            row.setdefault(name, None)
        self.tables.setdefault(sobject, {})[row["Id"]] = row
        return str(row["Id"])

    def update(
        self, sobject: str, row_id: str, *, at: datetime | None = None, **values: Any
    ) -> dict[str, Any]:
        """Change fields of a row as a user would; its SystemModstamp becomes ``at`` (now).

        A Lead's Status or OwnerId change also writes its LeadHistory rows (two for an owner
        change) when history tracking is on.
        """
        when = at or datetime.now(UTC)
        row = self.tables[sobject][row_id]
        if sobject == "Lead" and self.history_tracking:
            for name, value in values.items():
                if name in ("Status", "OwnerId") and row.get(name) != value:
                    self.history(row, name, row.get(name), value, when)
        row.update(values)
        row["SystemModstamp"] = row["LastModifiedDate"] = when
        return row

    def delete(self, sobject: str, row_id: str, *, at: datetime | None = None) -> None:
        """Delete a row: ``query`` stops seeing it, ``queryAll`` answers it ``IsDeleted``.

        A lead takes its tasks and events with it (those whose ``WhoId`` it is), as
        Salesforce deletes a record's activities with the record.
        """
        self.update(sobject, row_id, at=at, IsDeleted=True)
        if sobject == "Lead":
            for activity in ("Task", "Event"):
                for row in list(self.tables.get(activity, {}).values()):
                    if row["WhoId"] == row_id and not row["IsDeleted"]:
                        self.update(activity, row["Id"], at=at, IsDeleted=True)

    def history(self, lead: dict[str, Any], name: str, old: Any, new: Any, when: datetime) -> None:
        """Write the LeadHistory of one change: two rows for an owner change (ids, names)."""
        by = self._any_user()
        if name == "OwnerId":
            pairs = [("EntityId", old, new), ("Text", self.name_of(old), self.name_of(new))]
            for data_type, before, after in pairs:
                row = {"LeadId": lead["Id"], "Field": "Owner", "DataType": data_type}
                row.update({"OldValue": before, "NewValue": after, "CreatedById": by})
                self.insert("LeadHistory", row, at=when)
            return
        row = {"LeadId": lead["Id"], "Field": name, "DataType": "Text"}
        row.update({"OldValue": old, "NewValue": new, "CreatedById": by})
        self.insert("LeadHistory", row, at=when)

    def name_of(self, row_id: Any) -> str | None:
        """The Name of a user, queue, lead or contact, by id (None for an unknown id)."""
        row = self.find(row_id)
        return None if row is None else row.get("Name")

    def find(self, row_id: Any) -> dict[str, Any] | None:
        """A row of any object by its id, or None."""
        if not isinstance(row_id, str):
            return None
        for sobject, prefix in PREFIXES.items():
            if row_id.startswith(prefix):
                return self.tables.get(sobject, {}).get(row_id)
        return None

    def type_of(self, row_id: Any) -> str | None:
        """The sObject name of an id, by its key prefix (``Group`` for ``00G``)."""
        if not isinstance(row_id, str):
            return None
        return next((name for name, p in PREFIXES.items() if row_id.startswith(p)), None)

    def _any_user(self) -> str | None:
        users = self.tables.get("User") or {}
        return next(iter(users), None)


def generate_org(
    seed: int = 14,
    leads: int = 300,
    *,
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC),
    days: int = 90,
    same_instant: int = 0,
    deleted: int = 0,
    malformed: bool = False,
    activity: bool = True,
) -> Org:
    """Generate an org, the same for the same arguments.

    Args:
        seed: The random seed.
        leads: How many live leads (the issue's scenario has 20,000).
        start: When the org's history begins; every row changes within ``days`` of it.
        days: How long the history runs.
        same_instant: How many leads share one single ``SystemModstamp`` (the middle of the
            history), so that a window's pages cross a boundary inside one instant.
        deleted: How many extra leads are deleted, with their tasks and events.
        malformed: Whether some rows carry a malformed value (see :attr:`Org.malformed`): a
            Lead Status no mapping knows, a Lead CreatedDate that is not a date, an
            Opportunity Amount that is a string.
        activity: Whether leads get tasks, events and opportunities.

    Returns:
        The org.
    """
    rng = random.Random(seed)
    end = start + timedelta(days=days)
    org = Org(tables={name: {} for name in FIELDS})

    def moment(after: datetime, before: datetime) -> datetime:
        seconds = max(0, int((before - after).total_seconds()))
        return after + timedelta(seconds=rng.randint(0, seconds), milliseconds=rng.randint(0, 999))

    old = start - timedelta(days=365)
    users = []
    for number in range(leads // 50 + 4):
        row = {"Name": f"Rep {number}", "Email": f"rep{number}@example.com"}
        row["IsActive"] = number % 4 != 3
        users.append(org.insert("User", row, at=old))
    queues = [
        org.insert("Group", {"Name": name, "DeveloperName": name.replace(" ", "_"), "Type": kind})
        for name, kind in (("Inbound Queue", "Queue"), ("Partner Queue", "Queue"))
    ]
    for queue in queues:
        org.tables["Group"][queue].update(CreatedDate=old, SystemModstamp=old)
        org.tables["Group"][queue]["LastModifiedDate"] = old
    instant = start + (end - start) / 2
    for number in range(leads + deleted):
        lead = _lead(org, rng, number, start, end, users, queues, moment, activity)
        if number < same_instant:
            lead["SystemModstamp"] = lead["LastModifiedDate"] = instant
    for lead_id in list(org.tables["Lead"])[leads:]:
        org.delete("Lead", lead_id, at=moment(start, end))  # its tasks and events with it
    if malformed:
        _make_malformed(org)
    return org


def _lead(
    org: Org,
    rng: random.Random,
    number: int,
    start: datetime,
    end: datetime,
    users: list[str],
    queues: list[str],
    moment: Callable[[datetime, datetime], datetime],
    activity: bool,
) -> dict[str, Any]:
    created = moment(start, end - timedelta(days=1))
    owner = rng.choice(queues) if rng.random() < 0.4 else rng.choice(users)
    row = {
        "Name": f"Lead {number}",
        "Email": f"lead{number}@example.org",
        "Company": f"Company {number % 997}",
        "Status": STATUSES[0],
        "LeadSource": rng.choice(SOURCES),
        "OwnerId": owner,
        "IsConverted": False,
        "Segment__c": rng.choice((*SEGMENTS, None)),
        "Persona__c": rng.choice(PERSONAS),
        "Hand_Raiser__c": rng.random() < 0.3,
    }
    lead_id = org.insert("Lead", row, at=created)
    lead = org.tables["Lead"][lead_id]
    org.history(lead, "created", None, None, created)
    when = created
    for _ in range(rng.randint(0, 4)):
        when = moment(when, min(end, when + timedelta(days=7)))
        position = STATUSES.index(lead["Status"])
        if position >= 4:
            break
        if lead["OwnerId"].startswith("00G") and rng.random() < 0.7:
            org.update("Lead", lead_id, at=when, OwnerId=rng.choice(users))
            when += timedelta(seconds=rng.randint(1, 3600))
        roll = rng.random()
        status = STATUSES[5] if roll < 0.1 else STATUSES[min(4, position + 1)]
        org.update("Lead", lead_id, at=when, Status=status)
    if lead["Status"] == STATUSES[4]:
        _convert(org, rng, lead, when)
    if activity:
        _activity(org, rng, lead, end, moment)
    lead["LastActivityDate"] = None
    return lead


def _convert(org: Org, rng: random.Random, lead: dict[str, Any], when: datetime) -> None:
    contact = org.insert("Contact", {"Name": lead["Name"], "Email": lead["Email"]}, at=when)
    account = sf_id("Account", int(lead["Id"][3:15]))
    amount = float(rng.randint(1_000, 500_000)) + rng.choice((0.0, 0.5, 0.99))
    closed = rng.random() < 0.5
    won = closed and rng.random() < 0.5
    stage = ("Closed Won" if won else "Closed Lost") if closed else "Prospecting"
    opportunity = org.insert(
        "Opportunity",
        {
            "Name": f"{lead['Company']} deal",
            "AccountId": account,
            "Amount": amount,
            "CloseDate": (when + timedelta(days=rng.randint(5, 60))).date(),
            "StageName": stage,
            "IsWon": won,
            "IsClosed": closed,
            "OwnerId": lead["OwnerId"],
        },
        at=when,
    )
    lead.update(
        IsConverted=True,
        ConvertedDate=when.date(),
        ConvertedContactId=contact,
        ConvertedOpportunityId=opportunity,
        ConvertedAccountId=account,
    )


def _activity(
    org: Org,
    rng: random.Random,
    lead: dict[str, Any],
    end: datetime,
    moment: Callable[[datetime, datetime], datetime],
) -> None:
    owner = lead["OwnerId"] if lead["OwnerId"].startswith("005") else None
    owner = owner or next(iter(org.tables["User"]))
    converted: date | None = lead["ConvertedDate"]
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        happened = moment(lead["CreatedDate"], end)
        after_conversion = converted is not None and happened.date() > converted
        subtype = rng.choice(("Call", "Call", "Email", "Email", "Task"))
        completed = happened if rng.random() < 0.8 else None
        task = {
            "WhoId": lead["ConvertedContactId"] if after_conversion else lead["Id"],
            "OwnerId": owner,
            "Subject": f"{subtype} with {lead['Name']}",
            "Status": "Completed",
            "IsClosed": True,
            "ActivityDate": happened.date(),
            "TaskSubtype": subtype,
            "Type": subtype if subtype != "Task" else "Other",
            "CallType": rng.choice(("Outbound", "Outbound", "Inbound"))
            if subtype == "Call"
            else None,
            "CallDurationInSeconds": rng.randint(0, 1800) if subtype == "Call" else None,
            "CompletedDateTime": completed,
            "IsArchived": False,
        }
        org.insert("Task", task, at=happened)
    if rng.random() < 0.3:
        begins = moment(lead["CreatedDate"], end)
        event = {
            "WhoId": lead["Id"],
            "OwnerId": owner,
            "Subject": "Discovery call",
            "EventSubtype": "Event",
            "ActivityDate": begins.date(),
            "ActivityDateTime": begins,
            "StartDateTime": begins,
            "EndDateTime": begins + timedelta(minutes=30),
            "DurationInMinutes": 30,
            "IsAllDayEvent": False,
        }
        org.insert("Event", event, at=begins - timedelta(days=rng.randint(0, 3)))


def _make_malformed(org: Org) -> None:
    leads = sorted(org.tables["Lead"])
    bad: list[tuple[str, str, str, Any]] = [
        ("Lead", leads[1], "Status", "Status nobody knows"),
        ("Lead", leads[2], "CreatedDate", "not-a-date"),
    ]
    opportunities = sorted(org.tables["Opportunity"])
    if opportunities:
        bad.append(("Opportunity", opportunities[0], "Amount", "12k"))
    for sobject, row_id, name, value in bad:
        org.tables[sobject][row_id][name] = value
    org.malformed.extend(bad)
