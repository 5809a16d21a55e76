"""Salesforce leads: a Lead row and its LeadHistory give a lead, its stage and owner changes,
its hand-offs, and its conversion."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import attrs

from slacore.connector import Record, Stream
from slacore.errors import ValidationError
from slacore.model import Handoff, Lead, OwnerChange, StageChange
from slacore_connectors._crm import joined_segment, names_any
from slacore_connectors.salesforce._rows import build, rejection, row_of, unique
from slacore_connectors.salesforce._wire import (
    IdKind,
    id_kind,
    parse_date,
    parse_datetime,
    parse_flag,
    required_id,
    sf_id,
    text,
)
from slacore_connectors.salesforce.results import Conversion, Mapped, PendingHandoff
from slacore_connectors.salesforce.settings import HandoffClock, SalesforceMapping

NO_HISTORY: Final = (
    "LeadHistory was not read (is field history tracking on for Lead Status and Owner?): "
    "each lead is taken to have held its Status and OwnerId since its CreatedDate, so its "
    "hand-off, if any, is at its creation or not known"
)
"""The notice of a lead mapped without its history: the same words each time, to say once."""

_OWNERS: Final = (IdKind.USER, IdKind.QUEUE)
_LEAD_FIELDS: Final = {"id": "Id", "created_at": "CreatedDate", "owner_id": "OwnerId"}

_Event = tuple[datetime, str | None]


@attrs.frozen
class _HistoryRow:
    at: datetime
    row_id: str
    old: str | None
    new: str | None


def _history_error(error: ValidationError, row: Mapping[str, Any]) -> ValidationError:
    where = text(row.get("Id"), "Id") if isinstance(row.get("Id"), str) else None
    return attrs.evolve(
        error,
        field=f"LeadHistory.{error.field}" if error.field else "LeadHistory",
        message=f"in its history (row {where or 'without an Id'}): {error.message}",
    )


def _is_entity_row(row: Mapping[str, Any]) -> bool:
    """Whether an ``Owner`` history row is the ids one of its pair (``DataType`` ``EntityId``),
    not the names one (``Text``). Without ``DataType``, a row whose new value is a user or
    queue id is taken for it."""
    kind = text(row.get("DataType"), "DataType")
    if kind is not None:
        return kind.casefold() == "entityid"
    new = row.get("NewValue")
    return isinstance(new, str) and id_kind(new.strip()) in _OWNERS


def _order(row: _HistoryRow) -> tuple[datetime, str]:
    return (row.at, row.row_id)


def _read_history(
    lead_id: str, rows: Iterable[Mapping[str, Any]], mapping: SalesforceMapping
) -> tuple[list[_HistoryRow], list[_HistoryRow]]:
    """The lead's status rows (stage keys) and owner rows (one per change), oldest first."""
    statuses: dict[str, _HistoryRow] = {}
    owners: dict[tuple[datetime, str | None], _HistoryRow] = {}
    for item in rows:
        row = row_of(item, "LeadHistory")
        if row.get("LeadId") != lead_id:
            raise ValueError(f"a LeadHistory row of lead {row.get('LeadId')!r} given for {lead_id}")
        try:
            if parse_flag(row.get("IsDeleted"), field="IsDeleted"):
                continue
            field = text(row.get("Field"), "Field")
            if field is None or field.casefold() not in {"status", "owner"}:
                continue  # created, leadConverted and fields the mapping does not read
            row_id = required_id(row, "Id")
            at = parse_datetime(row.get("CreatedDate"), field="CreatedDate")
            if field.casefold() == "status":
                old = text(row.get("OldValue"), "OldValue")
                new = text(row.get("NewValue"), "NewValue")
                statuses[row_id] = _HistoryRow(
                    at=at,
                    row_id=row_id,
                    old=None if old is None else mapping.stage_key(old, field="OldValue"),
                    new=None if new is None else mapping.stage_key(new, field="NewValue"),
                )
            elif _is_entity_row(row):
                new_owner = sf_id(row.get("NewValue"), "NewValue", kinds=_OWNERS)
                old_owner = sf_id(row.get("OldValue"), "OldValue", kinds=_OWNERS)
                # The two rows of one change, and a row read twice, share a time and new owner.
                owners.setdefault(
                    (at, new_owner), _HistoryRow(at=at, row_id=row_id, old=old_owner, new=new_owner)
                )
        except ValidationError as error:
            raise _history_error(error, row) from None
    return sorted(statuses.values(), key=_order), sorted(owners.values(), key=_order)


def _timeline(start: datetime, current: str | None, rows: Sequence[_HistoryRow]) -> list[_Event]:
    """Values over time, oldest first: the first row's old value (else the current one) from
    ``start`` on, then each row's new value."""
    first = rows[0].old if rows else current
    return [(start, first), *((row.at, row.new) for row in rows)]


def _value_at(events: Sequence[_Event], moment: datetime) -> str | None:
    value: str | None = None
    for at, held in events:
        if at > moment:
            break
        value = held
    return value


def _rep(owner: str | None) -> str | None:
    return owner if owner is not None and id_kind(owner) is IdKind.USER else None


def _segment(row: Mapping[str, Any], mapping: SalesforceMapping) -> str | None:
    persona = (
        text(row.get(mapping.persona_field), mapping.persona_field)
        if mapping.persona_field
        else None
    )
    segment = (
        text(row.get(mapping.segment_field), mapping.segment_field)
        if mapping.segment_field
        else None
    )
    return joined_segment(persona, segment)


def _hand_raiser(row: Mapping[str, Any], mapping: SalesforceMapping) -> bool:
    name = mapping.hand_raiser_field
    if name is None:
        return False
    value = row.get(name)
    if not mapping.hand_raiser_values:
        return parse_flag(value, field=name) or False
    found = text(value, name)
    if found is None:
        return False
    return names_any(found, mapping.hand_raiser_values)


def _conversion(row: Mapping[str, Any], lead_id: str) -> Conversion | None:
    if not parse_flag(row.get("IsConverted"), field="IsConverted"):
        return None
    return Conversion(
        lead_id=lead_id,
        converted_on=parse_date(row.get("ConvertedDate"), field="ConvertedDate"),
        contact_id=sf_id(
            row.get("ConvertedContactId"), "ConvertedContactId", kinds=(IdKind.CONTACT,)
        ),
        opportunity_id=sf_id(
            row.get("ConvertedOpportunityId"), "ConvertedOpportunityId", kinds=(IdKind.OPPORTUNITY,)
        ),
        account_id=sf_id(
            row.get("ConvertedAccountId"), "ConvertedAccountId", kinds=(IdKind.ACCOUNT,)
        ),
    )


def map_lead(
    lead_row: Mapping[str, Any],
    history_rows: Iterable[Mapping[str, Any]] | None,
    mapping: SalesforceMapping,
) -> Mapped:
    """A Salesforce lead's :class:`~slacore.model.Lead`, stage changes, owner changes,
    hand-offs and conversion.

    ``lead_row`` is one Lead row (REST JSON or Bulk 2.0 CSV) with the :func:`fields` of Lead;
    ``history_rows`` its LeadHistory rows in any order (other fields' rows are skipped, and
    deleted ones), or ``None`` when LeadHistory was not read (field history tracking off):
    then :data:`NO_HISTORY` is in ``notices``, for the connector to say once.

    - The lead: ``Id``, created at ``CreatedDate``; its stage is ``Status`` through the
      status map; its source ``LeadSource``; its owner ``OwnerId`` when a user (``005``; a
      queue, ``00G``, is no rep: no owner); segment and hand-raiser from the mapped fields.
    - Stage changes: from the ``Status`` rows, oldest first (``CreatedDate``, then row
      ``Id``), backward moves included. The lead starts at its ``CreatedDate`` in the first
      row's ``OldValue``, or in its current ``Status`` when no row changed it; without
      history it is taken to have held its current status since then. Only the changes the
      history holds are given: one whose row is not read yet (it comes in a later window) or
      older than the history's retention (18 months by default) is not guessed, so the last
      change may differ from the current ``Status`` until it is read.
    - Owner changes: from the ``Owner`` rows. One change writes two rows, ``DataType``
      ``EntityId`` (ids) and ``Text`` (names): only the ids one counts, and a row read twice
      counts once. The owner at ``CreatedDate`` is the first row's ``OldValue`` (else the
      current ``OwnerId``). Only users give owner changes; a queue in between does not.
    - Hand-offs: one each time the lead reaches the hand-off status's stage (moves into it
      or a later stage of the ladder from an earlier one, from none or an exit stage), so
      one reaching it twice gives two; notified as :class:`HandoffClock` says (by default
      the later of reaching it and a user owning it), with the stage entered and the rep.
    - Conversion: when ``IsConverted``, ``Mapped.conversion`` holds ``ConvertedDate`` (a
      date) and the contact, opportunity and account it made (see
      :class:`~slacore_connectors.salesforce.results.Conversion`).

    Returns:
        The records, or one rejected record (stream ``leads``) naming the field at fault
        (``LeadHistory.NewValue`` for a history row) and the lead's id.

    Raises:
        ValueError: A history row of another lead (a bug in the caller).

    Examples:
        >>> row = {"Id": "00Q000000000001AAA", "Status": "Open - Not Contacted",
        ...        "OwnerId": "005000000000001AAA", "CreatedDate": "2026-03-12T10:00:00.000+0000"}
        >>> [type(r).__name__ for r in map_lead(row, [], SalesforceMapping()).records]
        ['Lead', 'StageChange', 'OwnerChange', 'Handoff']

    """
    try:
        return _lead(row_of(lead_row, "Lead"), history_rows, mapping)
    except ValidationError as error:
        lead_id = lead_row.get("Id") if isinstance(lead_row, Mapping) else None
        named = attrs.evolve(error, record_id=lead_id) if isinstance(lead_id, str) else error
        return rejection(named, lead_row, Stream.LEADS, "Lead")


def _lead(
    row: Mapping[str, Any],
    history_rows: Iterable[Mapping[str, Any]] | None,
    mapping: SalesforceMapping,
) -> Mapped:
    lead_id = required_id(row, "Id", IdKind.LEAD)
    created = parse_datetime(row.get("CreatedDate"), field="CreatedDate")
    status = text(row.get("Status"), "Status")
    stage = None if status is None else mapping.stage_key(status)
    owner = sf_id(row.get("OwnerId"), "OwnerId", kinds=_OWNERS)
    lead = build(
        Lead,
        _LEAD_FIELDS,
        id=lead_id,
        created_at=created,
        stage=stage,
        owner_id=_rep(owner),
        source=text(row.get("LeadSource"), "LeadSource"),
        segment=_segment(row, mapping),
        hand_raiser=_hand_raiser(row, mapping),
    )
    conversion = _conversion(row, lead_id)
    notices: tuple[str, ...] = ()
    if history_rows is None:
        notices = (NO_HISTORY,)
        status_rows: list[_HistoryRow] = []
        owner_rows: list[_HistoryRow] = []
    else:
        status_rows, owner_rows = _read_history(lead_id, history_rows, mapping)
    stages = _timeline(created, stage, status_rows)
    owners = _timeline(created, owner, owner_rows)

    changes: list[StageChange] = []
    reaches: list[tuple[datetime, str]] = []
    previous: str | None = None
    for at, key in stages:
        if key is None or key == previous:
            previous = key
            continue
        changes.append(
            StageChange(
                lead_id=lead_id,
                to_stage=key,
                at=at,
                from_stage=previous,
                owner_id=_rep(_value_at(owners, at)),
            )
        )
        if mapping.rank(key) >= mapping.handoff_rank > mapping.rank(previous):
            reaches.append((at, key))
        previous = key

    owner_changes: list[OwnerChange] = []
    current: str | None = None
    for at, value in owners:
        rep = _rep(value)
        if value != current and rep is not None:
            owner_changes.append(OwnerChange(lead_id=lead_id, owner_id=rep, at=at))
        current = value

    handoffs, pending = _handoffs(lead, reaches, owners, mapping)
    records: list[Record] = [lead, *unique(changes), *unique(owner_changes), *unique(handoffs)]
    return Mapped(records=records, pending=pending, notices=notices, conversion=conversion)


def _handoffs(
    lead: Lead,
    reaches: Sequence[tuple[datetime, str]],
    owners: Sequence[_Event],
    mapping: SalesforceMapping,
) -> tuple[list[Handoff], list[PendingHandoff]]:
    handoffs: list[Handoff] = []
    pending: list[PendingHandoff] = []
    for index, (reached, key) in enumerate(reaches):
        until = reaches[index + 1][0] if index + 1 < len(reaches) else None
        notified: datetime | None = reached
        rep = _rep(_value_at(owners, reached))
        if rep is None and mapping.handoff_notified is HandoffClock.LATER_OF_STATUS_AND_USER_OWNER:
            notified = next(
                (
                    at
                    for at, value in owners
                    if _rep(value) is not None and at > reached and (until is None or at < until)
                ),
                None,
            )
            rep = None if notified is None else _rep(_value_at(owners, notified))
        if notified is None:
            pending.append(
                PendingHandoff(lead_id=lead.id, stage=key, reached_at=reached, superseded_at=until)
            )
            continue
        handoffs.append(
            Handoff(
                lead_id=lead.id,
                notified_at=notified,
                stage=key,
                owner_id=rep,
                source=lead.source,
                segment=lead.segment,
                hand_raiser=lead.hand_raiser,
            )
        )
    return handoffs, pending
