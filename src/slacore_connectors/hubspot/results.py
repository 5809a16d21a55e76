"""What one HubSpot object gives: its records, a rejection, or a pending hand-off."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

import attrs

from slacore.connector import Record, RejectedRecord
from slacore_connectors.hubspot._times import _iso

R = TypeVar("R", bound=Record)


@attrs.frozen(kw_only=True)
class PendingHandoff:
    """A contact that reached the hand-off stage but whose rep was not notified: no owner yet
    (``superseded_at`` is ``None``), or none before it reached the stage again.

    Attributes:
        lead_id: The contact.
        stage: The stage key it entered.
        reached_at: When it reached the stage.
        superseded_at: When it reached the stage again, still unowned, if it did.

    """

    lead_id: str
    stage: str
    reached_at: datetime
    superseded_at: datetime | None = None

    def __str__(self) -> str:
        reached = f"contact {self.lead_id} reached {self.stage} at {_iso(self.reached_at)}"
        if self.superseded_at is None:
            return f"{reached} and has no owner yet: its hand-off comes when one is assigned"
        return (
            f"{reached} and had no owner before it reached it again at "
            f"{_iso(self.superseded_at)}: that first hand-off was never notified"
        )


def _rejected(value: Iterable[RejectedRecord]) -> tuple[RejectedRecord, ...]:
    return tuple(value)


def _records(value: Iterable[Record]) -> tuple[Record, ...]:
    return tuple(value)


def _pending(value: Iterable[PendingHandoff]) -> tuple[PendingHandoff, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True, hash=False)  # holds rejected records: unhashable
class Mapped:
    """What one HubSpot object gave: its records, or the one rejected record saying why not.

    Attributes:
        records: The core objects, of one or more streams (see :meth:`of`).
        rejected: The rejection, when the object could not be mapped (then no records).
        pending: Hand-offs whose rep was not notified yet (contacts only): to show the user.

    """

    records: tuple[Record, ...] = attrs.field(default=(), converter=_records)
    rejected: tuple[RejectedRecord, ...] = attrs.field(default=(), converter=_rejected)
    pending: tuple[PendingHandoff, ...] = attrs.field(default=(), converter=_pending)

    def of(self, record_type: type[R]) -> tuple[R, ...]:
        """The records of one core type (``Lead``, ``Handoff``...), in order."""
        return tuple(r for r in self.records if type(r) is record_type)
