"""Salesforce activities: Tasks (calls, emails) and Events (meetings) as touches."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from slacore.connector import Stream
from slacore.errors import ValidationError
from slacore.model import Channel, Touch
from slacore_connectors.salesforce._rows import rejection, row_of
from slacore_connectors.salesforce._wire import (
    IdKind,
    id_kind,
    optional_datetime,
    parse_datetime,
    parse_flag,
    required_id,
    text,
)
from slacore_connectors.salesforce.results import Mapped

_CHANNELS: Final = {"call": Channel.CALL, "email": Channel.EMAIL, "meeting": Channel.MEETING}
_MASS: Final = {"listemail"}
"""``TaskSubtype`` values that are no rep's own touch: a list (mass) email."""


def _channel(row: Mapping[str, Any]) -> Channel:
    """A Task's channel, by ``TaskSubtype`` (``Call``, ``Email``), else by ``Type``."""
    subtype = text(row.get("TaskSubtype"), "TaskSubtype")
    if subtype is not None and subtype.casefold() in _MASS:
        raise ValidationError(
            message=f"not a touch: a {subtype} task is a mass email, not a rep's",
            field="TaskSubtype",
            value=subtype,
        )
    if subtype is not None and subtype.casefold() in _CHANNELS:
        return _CHANNELS[subtype.casefold()]
    kind = text(row.get("Type"), "Type")
    if kind is not None and kind.casefold() in _CHANNELS:
        return _CHANNELS[kind.casefold()]
    raise ValidationError(
        message=f"not a touch: a task of subtype {subtype or 'none'} and type {kind or 'none'} "
        "(calls and emails are, by TaskSubtype or Type)",
        field="TaskSubtype",
        value=subtype,
    )


def _lead_of(row: Mapping[str, Any], lead_of_who: Mapping[str, str]) -> str:
    """The lead an activity's ``WhoId`` names: a lead, or a contact a lead converted into."""
    who = required_id(row, "WhoId")
    kind = id_kind(who)
    if kind is IdKind.LEAD:
        return who
    if kind is IdKind.CONTACT:
        lead = lead_of_who.get(who)
        if lead is None:
            raise ValidationError(
                message=f"not a touch of a lead: contact {who} is no converted lead's",
                field="WhoId",
                value=who,
            )
        return lead
    raise ValidationError(
        message=f"expected the id of a lead (00Q) or a contact (003), got {who!r}",
        field="WhoId",
        value=who,
    )


def _rep(row: Mapping[str, Any]) -> str:
    return required_id(row, "OwnerId", IdKind.USER)


def map_task(row: Mapping[str, Any], lead_of_who: Mapping[str, str] | None = None) -> Mapped:
    """A Salesforce Task's :class:`~slacore.model.Touch`: a call or an email by its owner.

    - Channel: ``TaskSubtype`` ``Call`` or ``Email``; else ``Type`` ``Call``, ``Email`` or
      ``Meeting``. Other tasks (to-dos), list emails (``ListEmail``), inbound calls
      (``CallType`` ``Inbound``: the lead's, not the rep's) and open tasks (``IsClosed``
      false: a call planned is not made) are no touches, and rejected saying so.
    - Time: ``CompletedDateTime`` (when the task was completed), else ``CreatedDate`` (when
      it was logged). Never ``ActivityDate``: a due date that Salesforce keeps at midnight UTC.
    - Lead: ``WhoId``, a lead (``00Q``) or a contact (``003``) that a lead converted into,
      found in ``lead_of_who`` (contact id -> lead id, from the leads'
      :class:`~slacore_connectors.salesforce.results.Conversion` s; ids as the API writes
      them, 18 characters).
    - Rep: ``OwnerId``, a user (``005``).

    Returns:
        The touch, or one rejected record (stream ``touches``) naming the field and the id.

    Examples:
        >>> task = {"Id": "00T000000000001AAA", "WhoId": "00Q000000000001AAA",
        ...         "OwnerId": "005000000000001AAA", "TaskSubtype": "Call", "IsClosed": True,
        ...         "ActivityDate": "2026-03-12", "CompletedDateTime": None,
        ...         "CreatedDate": "2026-03-12T15:30:00.000+0000"}
        >>> map_task(task).records[0].at.isoformat()
        '2026-03-12T15:30:00+00:00'

    """
    try:
        return _task(row_of(row, "Task"), lead_of_who or {})
    except ValidationError as error:
        return rejection(error, row, Stream.TOUCHES, "Task")


def _task(row: Mapping[str, Any], lead_of_who: Mapping[str, str]) -> Mapped:
    required_id(row, "Id")
    channel = _channel(row)
    call_type = text(row.get("CallType"), "CallType")
    if channel is Channel.CALL and call_type is not None and call_type.casefold() == "inbound":
        raise ValidationError(
            message="not a touch: an inbound call is the lead's, not the rep's",
            field="CallType",
            value=call_type,
        )
    if parse_flag(row.get("IsClosed"), field="IsClosed") is False:
        raise ValidationError(
            message="not a touch yet: the task is open (planned, not done)", field="IsClosed"
        )
    completed = optional_datetime(row.get("CompletedDateTime"), field="CompletedDateTime")
    at = completed or parse_datetime(row.get("CreatedDate"), field="CreatedDate")
    lead = _lead_of(row, lead_of_who)
    return Mapped(records=[Touch(lead_id=lead, rep_id=_rep(row), at=at, channel=channel)])


def map_event(row: Mapping[str, Any], lead_of_who: Mapping[str, str] | None = None) -> Mapped:
    """A Salesforce Event's :class:`~slacore.model.Touch`: a meeting with its owner.

    - Time: the earlier of ``StartDateTime`` (when it took place: a meeting logged after it
      happened) and ``CreatedDate`` (when it was booked: booking one is reaching the lead).
      An all-day event (``IsAllDayEvent``) has no start time (Salesforce pins it to
      midnight, like ``ActivityDate``, which is never read): its ``CreatedDate`` alone.
    - Lead and rep: as :func:`map_task` (``WhoId`` through ``lead_of_who``; ``OwnerId``).

    Returns:
        The touch, or one rejected record (stream ``touches``) naming the field and the id.

    Examples:
        >>> event = {"Id": "00U000000000001AAA", "WhoId": "003000000000001AAA",
        ...          "OwnerId": "005000000000001AAA", "IsAllDayEvent": "false",
        ...          "StartDateTime": "2026-03-10T09:00:00.000Z",
        ...          "CreatedDate": "2026-03-12T15:30:00.000Z"}
        >>> touch, = map_event(event, {"003000000000001AAA": "00Q000000000001AAA"}).records
        >>> touch.lead_id, touch.at.isoformat()
        ('00Q000000000001AAA', '2026-03-10T09:00:00+00:00')

    """
    try:
        return _event(row_of(row, "Event"), lead_of_who or {})
    except ValidationError as error:
        return rejection(error, row, Stream.TOUCHES, "Event")


def _event(row: Mapping[str, Any], lead_of_who: Mapping[str, str]) -> Mapped:
    required_id(row, "Id")
    created = parse_datetime(row.get("CreatedDate"), field="CreatedDate")
    at: datetime = created
    if not parse_flag(row.get("IsAllDayEvent"), field="IsAllDayEvent"):
        start = optional_datetime(row.get("StartDateTime"), field="StartDateTime")
        if start is not None:
            at = min(start, created)
    lead = _lead_of(row, lead_of_who)
    return Mapped(records=[Touch(lead_id=lead, rep_id=_rep(row), at=at, channel=Channel.MEETING)])
