"""What one Salesforce row gives: its records, a rejection, and what the connector must know."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import attrs

from slacore_connectors._crm import MappedBase, PendingHandoffBase, R, iso_z

__all__ = ["Conversion", "LeadLinks", "Mapped", "PendingHandoff", "R"]


@attrs.frozen(kw_only=True)
class PendingHandoff(PendingHandoffBase):
    """A lead that reached the hand-off status while a queue (no rep) owned it, and no user
    took it before it reached the status again, or yet.

    Attributes:
        lead_id: The lead.
        stage: The stage key it entered.
        reached_at: When it reached the status.
        superseded_at: When it reached the status again, still with a queue, if it did.

    """

    def __str__(self) -> str:
        reached = f"lead {self.lead_id} reached {self.stage} at {iso_z(self.reached_at)}"
        if self.superseded_at is None:
            return f"{reached} owned by a queue: its hand-off comes when a user takes it"
        return (
            f"{reached} owned by a queue, and no user took it before it reached it again at "
            f"{iso_z(self.superseded_at)}: that first hand-off was never notified"
        )


@attrs.frozen(kw_only=True)
class Conversion:
    """A converted lead's links: what the connector needs to count later touches and deals.

    Touches logged on the contact after conversion (a Task's ``WhoId`` is then the
    contact's ``003`` id) are the lead's: give :func:`map_task` and :func:`map_event` a
    ``lead_of_who`` holding ``contact_id -> lead_id``; the deal the conversion made is the
    lead's: give :func:`map_opportunity` a ``lead_of_opportunity`` holding
    ``opportunity_id -> lead_id``.

    Attributes:
        lead_id: The lead converted.
        converted_on: ``ConvertedDate``, a date (Salesforce keeps no time of it).
        contact_id: ``ConvertedContactId``, if any.
        opportunity_id: ``ConvertedOpportunityId``, if any (a conversion may make none).
        account_id: ``ConvertedAccountId``, if read.

    """

    lead_id: str
    converted_on: date | None
    contact_id: str | None = None
    opportunity_id: str | None = None
    account_id: str | None = None


def _notices(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True, hash=False)  # holds rejected records: unhashable
class Mapped(MappedBase[PendingHandoff]):
    """What one Salesforce row gave: its records, or the one rejected record saying why not.

    Attributes:
        records: The core objects, of one or more streams (see :meth:`of`).
        rejected: The rejection, when the row could not be mapped (then no records).
        pending: Hand-offs whose rep was not notified yet (leads only): to show the user.
        notices: Things to tell the user once a run, not per row (a lead mapped without its
            history: the same sentence each time, so a set of them says it once).
        conversion: A converted lead's links (leads only), see :class:`Conversion`.
        currency: The opportunity's ``CurrencyIsoCode`` (opportunities of multi-currency
            orgs only): the core :class:`~slacore.model.Deal` holds no currency.

    """

    notices: tuple[str, ...] = attrs.field(default=(), converter=_notices)
    conversion: Conversion | None = None
    currency: str | None = None


@attrs.frozen(kw_only=True)
class LeadLinks:
    """Converted leads' links gathered: what :func:`map_task`, :func:`map_event` and
    :func:`map_opportunity` take to count a contact's touches and a deal for their lead.

    Attributes:
        lead_of_who: Contact id -> the lead converted into it.
        lead_of_opportunity: Opportunity id -> the lead converted into it.

    Examples:
        >>> links = LeadLinks.of([None, Conversion(lead_id="00Q1", converted_on=None,
        ...                                         contact_id="0031", opportunity_id="0061")])
        >>> links.lead_of_who, links.lead_of_opportunity
        ({'0031': '00Q1'}, {'0061': '00Q1'})

    """

    lead_of_who: dict[str, str] = attrs.field(factory=dict)
    lead_of_opportunity: dict[str, str] = attrs.field(factory=dict)

    @classmethod
    def of(cls, conversions: Iterable[Conversion | None]) -> LeadLinks:
        """The links of ``conversions`` (``Mapped.conversion`` of each lead; ``None`` skipped)."""
        links = cls()
        for conversion in conversions:
            if conversion is None:
                continue
            if conversion.contact_id is not None:
                links.lead_of_who[conversion.contact_id] = conversion.lead_id
            if conversion.opportunity_id is not None:
                links.lead_of_opportunity[conversion.opportunity_id] = conversion.lead_id
        return links
