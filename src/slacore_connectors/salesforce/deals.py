"""Salesforce opportunities as deals."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import Any, Final

from slacore._values import read_amount
from slacore.connector import Stream
from slacore.errors import ValidationError
from slacore.model import Deal
from slacore_connectors.salesforce._rows import build, rejection, row_of
from slacore_connectors.salesforce._wire import (
    IdKind,
    parse_date,
    parse_datetime,
    parse_flag,
    required_id,
    sf_id,
    text,
)
from slacore_connectors.salesforce.results import Mapped

_DEAL_FIELDS: Final = {
    "id": "Id",
    "amount": "Amount",
    "opened_at": "CreatedDate",
    "closed_at": "CloseDate",
    "owner_id": "OwnerId",
}


def map_opportunity(
    row: Mapping[str, Any],
    lead_of_opportunity: Mapping[str, str] | None = None,
    *,
    currency: str | None = None,
) -> Mapped:
    """A Salesforce Opportunity's :class:`~slacore.model.Deal`.

    - Amount: ``Amount``, a JSON number (REST) or a string (Bulk 2.0 CSV), as a Decimal
      (a number through its shortest repr, so ``12500.1`` is exactly that); a null one is
      rejected (a deal needs its amount).
    - Opened at ``CreatedDate``. Closed when ``IsClosed``, won when ``IsWon`` too (won and
      not closed is refused). Closed at ``CloseDate``: a date, which the core deal holds as
      a time, so midnight UTC of that day, and never before ``CreatedDate`` (a deal opened
      and closed on one day closes when it was opened). An open deal's ``CloseDate`` is only
      expected and is not kept.
    - Owner: ``OwnerId`` (``Deal.owner_id``); lead: the lead converted into it, from
      ``lead_of_opportunity`` (opportunity id -> lead id, from the leads'
      :class:`~slacore_connectors.salesforce.results.Conversion` s).
    - Currency: the core deal has none. ``CurrencyIsoCode`` (multi-currency orgs) is put in
      ``Mapped.currency``; with ``currency`` given (the mapping's ``currency``), a deal in
      another one is rejected rather than summed with the rest.

    Returns:
        The deal, or one rejected record (stream ``deals``) naming the field and the id.

    Examples:
        >>> row = {"Id": "006000000000001AAA", "Amount": "12500.50", "IsClosed": "true",
        ...        "IsWon": "true", "CloseDate": "2026-03-20", "OwnerId": "005000000000001AAA",
        ...        "CreatedDate": "2026-03-01T09:00:00.000Z", "CurrencyIsoCode": "EUR"}
        >>> mapped = map_opportunity(row)
        >>> deal, = mapped.records
        >>> deal.amount, deal.won, deal.closed_at.isoformat(), mapped.currency
        (Decimal('12500.50'), True, '2026-03-20T00:00:00+00:00', 'EUR')

    """
    try:
        return _opportunity(row_of(row, "Opportunity"), lead_of_opportunity or {}, currency)
    except ValidationError as error:
        return rejection(error, row, Stream.DEALS, "Opportunity")


def _opportunity(
    row: Mapping[str, Any], lead_of_opportunity: Mapping[str, str], currency: str | None
) -> Mapped:
    deal_id = required_id(row, "Id", IdKind.OPPORTUNITY)
    code = text(row.get("CurrencyIsoCode"), "CurrencyIsoCode")
    if currency is not None and code is not None and code != currency:
        raise ValidationError(
            message=f"the amount is in {code}, deals are counted in {currency} (the mapping's "
            "currency): slacore converts no money",
            field="CurrencyIsoCode",
            value=code,
        )
    written = row.get("Amount")
    if written is None or written == "":
        raise ValidationError(message="missing value: a deal needs its amount", field="Amount")
    amount = read_amount(written, field="Amount")
    opened = parse_datetime(row.get("CreatedDate"), field="CreatedDate")
    closed = parse_flag(row.get("IsClosed"), field="IsClosed")
    won = parse_flag(row.get("IsWon"), field="IsWon") or False
    if closed is None:
        raise ValidationError(message="missing value: whether the deal is closed", field="IsClosed")
    if won and not closed:
        raise ValidationError(
            message="IsWon is true but IsClosed false: a won deal is closed", field="IsWon"
        )
    closed_at: datetime | None = None
    if closed:
        day = parse_date(row.get("CloseDate"), field="CloseDate")
        if day is None:
            raise ValidationError(
                message="missing value: a closed deal needs its close date", field="CloseDate"
            )
        closed_at = max(datetime.combine(day, time(), tzinfo=UTC), opened)
    owner = sf_id(row.get("OwnerId"), "OwnerId", kinds=(IdKind.USER,))
    deal = build(
        Deal,
        _DEAL_FIELDS,
        id=deal_id,
        amount=amount,
        opened_at=opened,
        closed_at=closed_at,
        won=won,
        lead_id=lead_of_opportunity.get(deal_id),
        owner_id=owner,
    )
    return Mapped(records=[deal], currency=code)
