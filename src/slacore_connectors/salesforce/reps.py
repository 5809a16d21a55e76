"""Salesforce users as reps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slacore.connector import Stream
from slacore.errors import ValidationError
from slacore.model import Rep
from slacore_connectors.salesforce._rows import rejection, row_of
from slacore_connectors.salesforce._wire import IdKind, parse_flag, required_id, text
from slacore_connectors.salesforce.results import Mapped


def map_user(row: Mapping[str, Any]) -> Mapped:
    """A Salesforce User's :class:`~slacore.model.Rep`, inactive users included.

    The rep's id is the user's ``Id`` (``005``: what ``OwnerId`` fields hold), its name
    ``Name`` (else ``FirstName LastName``, else its ``Email``), active as ``IsActive`` says
    (``active=False`` for a user who left: their leads and touches still name them). Its
    team is sales, :class:`~slacore.model.Rep`'s default.

    Returns:
        The rep, or one rejected record (stream ``reps``) naming the field and the id.

    Examples:
        >>> rep, = map_user({"Id": "005000000000001AAA", "Name": "Ada Byron",
        ...                  "Email": "ada@example.com", "IsActive": "false"}).records
        >>> rep.name, rep.active
        ('Ada Byron', False)

    """
    try:
        return _user(row_of(row, "User"))
    except ValidationError as error:
        return rejection(error, row, Stream.REPS, "User")


def _user(row: Mapping[str, Any]) -> Mapped:
    user_id = required_id(row, "Id", IdKind.USER)
    email = text(row.get("Email"), "Email")
    parts = (text(row.get("FirstName"), "FirstName"), text(row.get("LastName"), "LastName"))
    name = text(row.get("Name"), "Name") or " ".join(p for p in parts if p) or email or ""
    active = parse_flag(row.get("IsActive"), field="IsActive")
    if active is None:
        raise ValidationError(message="missing value: whether the user is active", field="IsActive")
    return Mapped(records=[Rep(id=user_id, name=name, email=email, active=active)])
