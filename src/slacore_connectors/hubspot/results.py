"""What one HubSpot object gives: its records, a rejection, or a pending hand-off."""

from __future__ import annotations

import attrs

from slacore_connectors._crm import MappedBase, PendingHandoffBase, R, iso_z

__all__ = ["Mapped", "PendingHandoff", "R"]


@attrs.frozen(kw_only=True)
class PendingHandoff(PendingHandoffBase):
    """A contact that reached the hand-off stage but whose rep was not notified: no owner yet
    (``superseded_at`` is ``None``), or none before it reached the stage again.

    Attributes:
        lead_id: The contact.
        stage: The stage key it entered.
        reached_at: When it reached the stage.
        superseded_at: When it reached the stage again, still unowned, if it did.

    """

    def __str__(self) -> str:
        reached = f"contact {self.lead_id} reached {self.stage} at {iso_z(self.reached_at)}"
        if self.superseded_at is None:
            return f"{reached} and has no owner yet: its hand-off comes when one is assigned"
        return (
            f"{reached} and had no owner before it reached it again at "
            f"{iso_z(self.superseded_at)}: that first hand-off was never notified"
        )


@attrs.frozen(kw_only=True, hash=False)  # holds rejected records: unhashable
class Mapped(MappedBase[PendingHandoff]):
    """What one HubSpot object gave: its records, or the one rejected record saying why not.

    Attributes:
        records: The core objects, of one or more streams (see :meth:`of`).
        rejected: The rejection, when the object could not be mapped (then no records).
        pending: Hand-offs whose rep was not notified yet (contacts only): to show the user.

    """
