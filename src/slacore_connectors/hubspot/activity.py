"""HubSpot calls, emails and meetings (touches), deals and owners (reps)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import attrs

from slacore._values import read_amount
from slacore.connector import Stream
from slacore.connector._converters import parse_boolean
from slacore.errors import ValidationError
from slacore.model import Channel, Deal, Rep, Touch
from slacore_connectors.hubspot._objects import (
    _build,
    _created,
    _object,
    _object_id,
    _props,
    _rejection,
    _text,
    _top,
)
from slacore_connectors.hubspot._times import _shown, parse_time
from slacore_connectors.hubspot.results import Mapped
from slacore_connectors.hubspot.settings import HubSpotMapping, ObjectType

# --- calls, emails, meetings ------------------------------------------------------------------

_CHANNELS: Final = {
    ObjectType.CALLS: Channel.CALL,
    ObjectType.EMAILS: Channel.EMAIL,
    ObjectType.MEETINGS: Channel.MEETING,
}


def _not_a_touch(kind: ObjectType, props: Mapping[str, Any]) -> ValidationError | None:
    """Why this engagement is no rep's touch of a lead, or ``None`` when it is one."""
    if kind is ObjectType.EMAILS:
        direction = _text(props.get("hs_email_direction"), "hs_email_direction")
        if direction != "EMAIL":
            return ValidationError(
                message=f"not a touch: only sent emails (EMAIL) are, this one is "
                f"{direction or 'of no direction'}",
                field="hs_email_direction",
                value=direction,
            )
    elif kind is ObjectType.CALLS:
        direction = _text(props.get("hs_call_direction"), "hs_call_direction")
        if direction is not None and direction.upper() == "INBOUND":
            return ValidationError(
                message="not a touch: an inbound call is the lead's, not the rep's",
                field="hs_call_direction",
                value=direction,
            )
    else:
        outcome = _text(props.get("hs_meeting_outcome"), "hs_meeting_outcome")
        if outcome is not None and outcome.upper() in {"CANCELED", "CANCELLED"}:
            return ValidationError(
                message="not a touch: the meeting was cancelled",
                field="hs_meeting_outcome",
                value=outcome,
            )
    return None


def _contact_ids(contact_ids: Iterable[object]) -> list[str]:
    ids: list[str] = []
    for item in contact_ids:
        text = _text(item, "associations.contacts")
        if text is None:
            raise ValidationError(
                message=f"expected contact ids, got {_shown(item)}", field="associations.contacts"
            )
        if text not in ids:
            ids.append(text)
    return ids


def map_engagement(
    kind: ObjectType | str, engagement: Mapping[str, Any], contact_ids: Iterable[object]
) -> Mapped:
    """A call, email or meeting's touches: one per contact it is associated with.

    The touch is at ``hs_timestamp``, by the owner ``hubspot_owner_id``, on the channel of
    ``kind``. Not touches, and so rejected with the reason: emails that are not sent ones
    (``hs_email_direction`` other than ``EMAIL``: incoming, forwarded; a search filtered on
    ``hs_email_direction = EMAIL`` never reads them), inbound calls (``hs_call_direction``
    ``INBOUND``; a call logged without a direction is the rep's) and cancelled meetings
    (``hs_meeting_outcome``).

    Args:
        kind: ``calls``, ``emails`` or ``meetings``.
        engagement: One object of that type as HubSpot answers it.
        contact_ids: The ids of the contacts it is associated with (v4 associations, read
            apart); ids as numbers are taken too.

    Returns:
        The touches, or one rejected record (stream ``touches``): no owner, no time, no
        contact, or not a touch.

    Raises:
        ValueError: ``kind`` is no engagement type (a bug in the caller).

    """
    object_type = ObjectType(kind)
    if object_type not in _CHANNELS:
        raise ValueError(f"{object_type} are no engagements")
    try:
        return _engagement(object_type, _object(engagement, "engagement"), contact_ids)
    except ValidationError as error:
        return _rejection(error, engagement, Stream.TOUCHES, object_type.value)


def _engagement(
    kind: ObjectType, engagement: Mapping[str, Any], contact_ids: Iterable[object]
) -> Mapped:
    _object_id(engagement)
    props = _props(engagement)
    refused = _not_a_touch(kind, props)
    if refused is not None:
        raise refused
    at = parse_time(props.get("hs_timestamp"), field="hs_timestamp")
    rep = _text(props.get("hubspot_owner_id"), "hubspot_owner_id")
    if rep is None:
        raise ValidationError(
            message="missing value: a touch needs the rep who made it", field="hubspot_owner_id"
        )
    leads = _contact_ids(contact_ids)
    if not leads:
        raise ValidationError(
            message="associated with no contact: a touch is of a lead",
            field="associations.contacts",
        )
    return Mapped(
        records=[Touch(lead_id=lead, rep_id=rep, at=at, channel=_CHANNELS[kind]) for lead in leads]
    )


# --- deals ------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class DealStage:
    """A deal stage of a pipeline, from its metadata.

    Attributes:
        pipeline: The pipeline's id.
        id: The stage's id (the value of a deal's ``dealstage``).
        label: Its name.
        closed: Whether a deal in it is closed (``metadata.isClosed``); ``None`` when the
            metadata does not say.
        won: Whether a closed deal in it is won (``metadata.probability`` 1); ``None`` when
            the metadata does not say.

    """

    pipeline: str
    id: str
    label: str = ""
    closed: bool | None = None
    won: bool | None = None


def deal_stages(answer: Mapping[str, Any]) -> dict[tuple[str, str], DealStage]:
    """The deal stages of a pipelines answer (``GET /crm/v3/pipelines/deals``), keyed by
    (pipeline id, stage id).

    A stage is closed when ``metadata.isClosed`` is ``"true"``, and won when its
    ``metadata.probability`` is 1 as well (HubSpot's closed-won stages); metadata it cannot
    read leaves ``closed`` or ``won`` unknown, and deals in that stage are then read from
    their ``hs_is_closed`` and ``hs_is_closed_won``. Stages without an id are left out: no
    deal can name them.

    Raises:
        ValidationError: ``answer`` is not a pipelines answer.

    """
    pipelines = answer.get("results") if isinstance(answer, Mapping) else None
    if isinstance(pipelines, str) or not isinstance(pipelines, Sequence):
        raise ValidationError(
            message="expected a pipelines answer, an object with results", field="results"
        )
    stages: dict[tuple[str, str], DealStage] = {}
    for pipeline in pipelines:
        if not isinstance(pipeline, Mapping) or not isinstance(pipeline.get("id"), str):
            continue
        items = pipeline.get("stages")
        if isinstance(items, str) or not isinstance(items, Sequence):
            continue
        for item in items:
            if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
                continue
            meta = item.get("metadata")
            meta = meta if isinstance(meta, Mapping) else {}
            closed: bool | None
            try:
                closed = parse_boolean(meta.get("isClosed"))
            except ValueError:
                closed = None
            won: bool | None = False if closed is False else None
            try:
                probability = Decimal(str(meta.get("probability")))
            except InvalidOperation:
                probability = None
            if closed and probability is not None and probability.is_finite():
                won = probability == 1
            label = item.get("label")
            stage = DealStage(
                pipeline=pipeline["id"],
                id=item["id"],
                label=label if isinstance(label, str) else "",
                closed=closed,
                won=won,
            )
            stages[(stage.pipeline, stage.id)] = stage
    return stages


def _flag(props: Mapping[str, Any], name: str) -> bool | None:
    text = _text(props.get(name), name)
    if text is None:
        return None
    try:
        return parse_boolean(text)
    except ValueError:
        raise ValidationError(
            message=f"expected true or false, got {_shown(text)}", field=name, value=text
        ) from None


def _outcome(
    props: Mapping[str, Any], stages: Mapping[tuple[str, str], DealStage]
) -> tuple[bool, bool]:
    """Whether the deal is closed, and won."""
    pipeline = _text(props.get("pipeline"), "pipeline")
    stage_id = _text(props.get("dealstage"), "dealstage")
    stage = stages.get((pipeline, stage_id)) if pipeline and stage_id else None
    if stage is None and stage_id and not pipeline:
        found = [s for (_, sid), s in stages.items() if sid == stage_id]
        stage = found[0] if len(found) == 1 else None
    if stage is not None and stage.closed is not None and stage.won is not None:
        return stage.closed, stage.won
    closed = _flag(props, "hs_is_closed")
    won = _flag(props, "hs_is_closed_won")
    if won:
        return True, True
    if closed is None:
        where = f"stage {stage_id!r} of pipeline {pipeline!r}" if stage_id else "no stage"
        raise ValidationError(
            message=f"cannot tell whether the deal is closed: {where} is not in the pipelines "
            "read (or its metadata does not say) and hs_is_closed is empty",
            field="dealstage",
            value=stage_id,
        )
    if closed and won is None:
        raise ValidationError(
            message="missing value: the deal is closed and nothing says whether it was won",
            field="hs_is_closed_won",
        )
    return closed, False


def map_deal(
    deal: Mapping[str, Any],
    contact_ids: Iterable[object] = (),
    *,
    stages: Mapping[tuple[str, str], DealStage] | None = None,
) -> Mapped:
    """A HubSpot deal's :class:`~slacore.model.Deal`.

    The amount is ``amount`` read by slacore's one amount grammar
    (:func:`~slacore._values.parse_amount`); opened at ``createdate`` (else ``createdAt``);
    closed and won by its stage in ``stages`` (see :func:`deal_stages`), else by
    ``hs_is_closed`` and ``hs_is_closed_won``; a closed deal is closed at ``closedate`` (an
    open deal's ``closedate`` is only expected and is not kept). Its lead is its contact when
    it has one; with several, the lowest id (HubSpot numbers contacts in the order they were
    created, so the first contact). Its owner is ``hubspot_owner_id`` (none when empty).

    Args:
        deal: One deal as HubSpot answers it.
        contact_ids: The ids of the contacts it is associated with (v4 associations).
        stages: The portal's deal stages (:func:`deal_stages`).

    Returns:
        The deal, or one rejected record (stream ``deals``): no amount or a malformed one,
        a bad time, a closed deal without ``closedate``, an outcome nothing says.

    """
    try:
        return _deal(_object(deal, "deal"), contact_ids, stages or {})
    except ValidationError as error:
        return _rejection(error, deal, Stream.DEALS, "deals")


def _lowest(ids: Sequence[str]) -> str | None:
    if not ids:
        return None
    return min(ids, key=lambda i: (0, int(i), i) if i.isdigit() else (1, 0, i))


def _deal(
    deal: Mapping[str, Any],
    contact_ids: Iterable[object],
    stages: Mapping[tuple[str, str], DealStage],
) -> Mapped:
    deal_id = _object_id(deal)
    props = _props(deal)
    text = _text(props.get("amount"), "amount")
    if text is None:
        raise ValidationError(message="missing value: a deal needs its amount", field="amount")
    amount = read_amount(text, field="amount")
    opened = _created(deal, props)
    closed, won = _outcome(props, stages)
    closed_at: datetime | None = None
    if closed:
        close_text = props.get("closedate")
        if close_text is None or close_text == "":
            raise ValidationError(
                message="missing value: a closed deal needs its close date", field="closedate"
            )
        closed_at = parse_time(close_text, field="closedate")
    record = _build(
        Deal,
        {
            "amount": "amount",
            "opened_at": "createdate",
            "closed_at": "closedate",
            "owner_id": "hubspot_owner_id",
        },
        id=deal_id,
        amount=amount,
        opened_at=opened,
        closed_at=closed_at,
        won=won,
        lead_id=_lowest(_contact_ids(contact_ids)),
        owner_id=_text(props.get("hubspot_owner_id"), "hubspot_owner_id"),
    )
    return Mapped(records=[record])


# --- owners -----------------------------------------------------------------------------------


def map_owner(owner: Mapping[str, Any], mapping: HubSpotMapping) -> Mapped:
    """A HubSpot owner's :class:`~slacore.model.Rep`.

    The rep's id is the owner's ``id`` (not its ``userId``: contacts and engagements point at
    owner ids, and archived owners have no ``userId``); its name ``firstName lastName`` (else
    its email); active unless ``archived``; its team from its ``teams`` through
    ``team_values`` (:meth:`HubSpotMapping.team_of`).

    Returns:
        The rep, or one rejected record (stream ``reps``).

    """
    try:
        return _owner(_object(owner, "owner"), mapping)
    except ValidationError as error:
        return _rejection(error, owner, Stream.REPS, "owners")


def _owner(owner: Mapping[str, Any], mapping: HubSpotMapping) -> Mapped:
    owner_id = _text(owner.get("id"), "id")
    if owner_id is None:
        raise ValidationError(message="missing value: the owner has no id", field="id")
    first = _text(_top(owner, "firstName", "first_name"), "firstName")
    last = _text(_top(owner, "lastName", "last_name"), "lastName")
    email = _text(owner.get("email"), "email")
    archived = owner.get("archived")
    if archived is not None and not isinstance(archived, bool):
        raise ValidationError(
            message=f"expected true or false, got {_shown(archived)}", field="archived"
        )
    teams = owner.get("teams")
    if teams is None:
        teams = []
    if isinstance(teams, str) or not isinstance(teams, Sequence):
        raise ValidationError(
            message=f"expected a list of teams, got {_shown(teams)}", field="teams"
        )
    team = mapping.team_of([t for t in teams if isinstance(t, Mapping)])
    extra = {} if team is None else {"team": team}
    rep = Rep(
        id=owner_id,
        name=" ".join(part for part in (first, last) if part) or email or "",
        email=email,
        active=archived is not True,
        **extra,
    )
    return Mapped(records=[rep])
