"""HubSpot contacts: a lead, its stage and owner changes, its hand-offs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import attrs

from slacore.connector import Record, Stream
from slacore.connector._converters import parse_boolean
from slacore.errors import ValidationError
from slacore.model import Handoff, Lead, OwnerChange, StageChange
from slacore_connectors._crm import joined_segment, names_any
from slacore_connectors.hubspot._objects import (
    _build,
    _created,
    _object,
    _object_id,
    _props,
    _rejection,
    _text,
    _top,
    _unique,
)
from slacore_connectors.hubspot._times import _shown, parse_time
from slacore_connectors.hubspot.results import Mapped, PendingHandoff
from slacore_connectors.hubspot.settings import HandoffClock, HubSpotMapping

_LEAD_PROPERTIES: Final = {
    "created_at": "createdate",
    "owner_id": "hubspot_owner_id",
    "stage": "lifecyclestage",
    "source": "hs_analytics_source",
}

_Event = tuple[datetime, str | None]


def _history(obj: Mapping[str, Any], name: str) -> list[_Event] | None:
    """A property's history, oldest first, or ``None`` when it was not read."""
    histories = _top(obj, "propertiesWithHistory", "properties_with_history")
    if histories is None:
        return None
    if not isinstance(histories, Mapping):
        raise ValidationError(
            message=f"expected an object of histories, got {type(histories).__name__}",
            field="propertiesWithHistory",
        )
    entries = histories.get(name)
    if entries is None:
        return None
    if isinstance(entries, str | bytes) or not isinstance(entries, Sequence):
        raise ValidationError(
            message=f"expected a list of history entries, got {type(entries).__name__}",
            field=name,
        )
    events: list[_Event] = []
    # HubSpot lists the newest first: reversed, a stable sort keeps equal times in order.
    for entry in reversed(entries):
        if not isinstance(entry, Mapping):
            raise ValidationError(
                message=f"expected a history entry (an object), got {_shown(entry)}", field=name
            )
        try:
            at = parse_time(entry.get("timestamp"), field=name)
            value = _text(entry.get("value"), name)
        except ValidationError as error:
            raise attrs.evolve(error, message=f"in its history: {error.message}") from None
        events.append((at, value))
    events.sort(key=lambda event: event[0])
    return events


def _stage_timeline(
    obj: Mapping[str, Any], props: Mapping[str, Any], mapping: HubSpotMapping
) -> list[_Event]:
    """The contact's stages over time, oldest first: (when, stage key or ``None`` cleared).

    From the ``lifecyclestage`` history when it was read, else from the times each stage was
    entered. Those are read (and a malformed one refused) either way: they were asked for.
    """
    entered: list[_Event] = []
    for value, key in mapping.lifecycle.items():
        times = [
            parse_time(props[name], field=name)
            for name in (f"hs_v2_date_entered_{value}", f"hs_lifecyclestage_{value}_date")
            if props.get(name) is not None and props.get(name) != ""
        ]
        if times:
            entered.append((times[0], key))
    history = _history(obj, "lifecyclestage")
    if history is None:
        entered.sort(key=lambda event: event[0])
        return entered
    timeline: list[_Event] = []
    for at, written in history:
        try:
            timeline.append((at, None if written is None else mapping.stage_key(written)))
        except ValidationError as error:
            raise attrs.evolve(error, message=f"in its history: {error.message}") from None
    return timeline


def _owner_timeline(
    obj: Mapping[str, Any], props: Mapping[str, Any], owner: str | None
) -> tuple[list[_Event], bool]:
    """The contact's owners over time, oldest first, and whether the current owner's
    assignment time is unknown (no history, no ``hubspot_owner_assigneddate``)."""
    history = _history(obj, "hubspot_owner_id")
    if history is not None:
        return history, False
    if owner is None:
        return [], False
    text = props.get("hubspot_owner_assigneddate")
    if text is None or text == "":
        return [], True
    return [(parse_time(text, field="hubspot_owner_assigneddate"), owner)], False


def _owner_at(events: Sequence[_Event], moment: datetime) -> str | None:
    owner: str | None = None
    for at, value in events:
        if at > moment:
            break
        owner = value
    return owner


def _segment(props: Mapping[str, Any], mapping: HubSpotMapping) -> str | None:
    persona = (
        _text(props.get(mapping.persona_property), mapping.persona_property)
        if mapping.persona_property
        else None
    )
    segment = (
        _text(props.get(mapping.segment_property), mapping.segment_property)
        if mapping.segment_property
        else None
    )
    return joined_segment(persona, segment)


def _hand_raiser(props: Mapping[str, Any], mapping: HubSpotMapping) -> bool:
    name = mapping.hand_raiser_property
    if name is None:
        return False
    text = _text(props.get(name), name)
    if text is None:
        return False
    if mapping.hand_raiser_values:
        return names_any(text, mapping.hand_raiser_values)
    try:
        return parse_boolean(text)
    except ValueError:
        raise ValidationError(
            message=f"expected true or false, got {_shown(text)} (or list the values that make "
            "a hand-raiser in hand_raiser_values)",
            field=name,
            value=text,
        ) from None


def map_contact(contact: Mapping[str, Any], mapping: HubSpotMapping) -> Mapped:
    """A HubSpot contact's lead, stage changes, owner changes and hand-offs.

    ``contact`` is one object of a contacts answer (list, search or batch read), best with
    ``propertiesWithHistory`` for ``lifecyclestage`` and ``hubspot_owner_id`` (see
    :func:`history_properties`) and the :func:`properties` of contacts.

    - The lead: ``id``; created at ``createdate`` (else ``createdAt``); its stage is
      ``lifecyclestage`` through the stage map (empty: no stage); its source is
      ``hs_analytics_source``; its owner ``hubspot_owner_id``; segment and hand-raiser from
      the mapped properties.
    - Stage changes: one per move in the ``lifecyclestage`` history, oldest first; backward
      moves included. A cleared value (``""``) leaves the lead in no stage, so the next
      change comes from none. Without history, one per stage entered, at
      ``hs_v2_date_entered_<value>`` or else ``hs_lifecyclestage_<value>_date``.
    - Owner changes: one per assignment in the ``hubspot_owner_id`` history (an owner
      removed, ``""``, gives none: the model has no "unassigned"). Without history, the
      current owner at ``hubspot_owner_assigneddate``.
    - Hand-offs: one each time the contact reaches the hand-off stage (moves into it or a
      later stage of the ladder from an earlier one, from none or from an exit stage), so
      one that reaches it twice gives two; notified as :class:`HandoffClock` says, with the
      stage actually entered and the owner then. A contact in or past the hand-off stage
      with no time it got there (no history, no entered time) is rejected: its hand-off
      would otherwise vanish.

    Returns:
        The records, or one rejected record (stream ``leads``) naming the property at fault.

    """
    try:
        return _contact(_object(contact, "contact"), mapping)
    except ValidationError as error:
        return _rejection(error, contact, Stream.LEADS, "contacts")


def _contact(contact: Mapping[str, Any], mapping: HubSpotMapping) -> Mapped:
    lead_id = _object_id(contact)
    props = _props(contact)
    stage_value = _text(props.get("lifecyclestage"), "lifecyclestage")
    owner = _text(props.get("hubspot_owner_id"), "hubspot_owner_id")
    lead = _build(
        Lead,
        _LEAD_PROPERTIES,
        id=lead_id,
        created_at=_created(contact, props),
        stage=None if stage_value is None else mapping.stage_key(stage_value),
        owner_id=owner,
        source=_text(props.get("hs_analytics_source"), "hs_analytics_source"),
        segment=_segment(props, mapping),
        hand_raiser=_hand_raiser(props, mapping),
    )
    owners, owner_unknown = _owner_timeline(contact, props, owner)
    timeline = _stage_timeline(contact, props, mapping)

    changes: list[StageChange] = []
    reaches: list[tuple[datetime, str]] = []
    handoff_rank = mapping.rank(mapping.lifecycle[mapping.handoff_stage])
    previous: str | None = None
    for at, key in timeline:
        if key is None or key == previous:
            previous = key
            continue
        changes.append(
            _build(
                StageChange,
                {"at": "lifecyclestage"},
                lead_id=lead_id,
                to_stage=key,
                at=at,
                from_stage=previous,
                owner_id=_owner_at(owners, at),
            )
        )
        if mapping.rank(key) >= handoff_rank > mapping.rank(previous):
            reaches.append((at, key))
        previous = key

    if not reaches and mapping.rank(lead.stage) >= handoff_rank:
        # In or past the hand-off stage with no time it got there: its hand-off would vanish.
        raise ValidationError(
            message=f"in stage {stage_value!r} with no lifecyclestage history and no time it "
            f"was entered (hs_v2_date_entered_{stage_value}): the time of its hand-off is "
            "unknown",
            field="lifecyclestage",
            value=stage_value,
        )

    owner_changes: list[OwnerChange] = []
    current: str | None = None
    for at, value in owners:
        if value is not None and value != current:
            owner_changes.append(OwnerChange(lead_id=lead_id, owner_id=value, at=at))
        current = value

    handoffs: list[Handoff] = []
    pending: list[PendingHandoff] = []
    for index, (reached, key) in enumerate(reaches):
        until = reaches[index + 1][0] if index + 1 < len(reaches) else None
        notified: datetime | None = reached
        holder = _owner_at(owners, reached)
        if mapping.handoff_notified is HandoffClock.STAGE_ENTERED:
            holder = owner if owner_unknown else holder
        elif owner_unknown:
            raise ValidationError(
                message="missing value: the contact has an owner but no time it was assigned "
                "(and no owner history), and its hand-off is notified at the later of that "
                "time and the stage reached",
                field="hubspot_owner_assigneddate",
            )
        elif holder is None:
            notified = next(
                (
                    at
                    for at, value in owners
                    if value is not None and at > reached and (until is None or at < until)
                ),
                None,
            )
            holder = None if notified is None else _owner_at(owners, notified)
        if notified is None:
            pending.append(
                PendingHandoff(lead_id=lead_id, stage=key, reached_at=reached, superseded_at=until)
            )
            continue
        handoffs.append(
            Handoff(
                lead_id=lead_id,
                notified_at=notified,
                stage=key,
                owner_id=holder,
                source=lead.source,
                segment=lead.segment,
                hand_raiser=lead.hand_raiser,
            )
        )
    records: list[Record] = [lead, *_unique(changes), *_unique(owner_changes), *_unique(handoffs)]
    return Mapped(records=records, pending=pending)
