"""Reading one Salesforce row: its id, its rejection, core objects built naming SF fields."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from slacore.connector import RejectedRecord, Stream
from slacore.errors import ValidationError
from slacore.model import natural_key
from slacore_connectors.salesforce._wire import shown, text
from slacore_connectors.salesforce.results import Mapped, R


def row_of(row: object, sobject: str) -> Mapping[str, Any]:
    """``row`` if it is a row (a JSON object or a CSV row's dict).

    Raises:
        ValidationError: It is not.

    """
    if not isinstance(row, Mapping):
        raise ValidationError(
            message=f"expected a Salesforce {sobject} row (an object), got {type(row).__name__}"
        )
    return row


def _row_id(row: object) -> str | None:
    if not isinstance(row, Mapping):
        return None
    try:
        return text(row.get("Id"), "Id")
    except ValidationError:
        return None


def raw_of(row: object) -> dict[str, Any]:
    """A row as a rejected record keeps it: its fields, without REST's ``attributes``."""
    if not isinstance(row, Mapping):
        return {"row": shown(row)}
    return {str(k): v for k, v in row.items() if k != "attributes"}


def build(make: Callable[..., R], names: Mapping[str, str], **kwargs: Any) -> R:
    """``make(**kwargs)``; an error names the Salesforce field instead of the core one."""
    try:
        return make(**kwargs)
    except ValidationError as error:
        raise attrs.evolve(error, field=names.get(error.field or "", error.field)) from None


def unique(records: Iterable[R]) -> list[R]:
    """``records`` with one per natural key, the last one read (as a store keeps it)."""
    by_key: dict[tuple[Any, ...], R] = {}
    for record in records:
        key = natural_key(record)
        by_key.pop(key, None)
        by_key[key] = record
    return list(by_key.values())


def rejection(error: ValidationError, row: object, stream: Stream, sobject: str) -> Mapped:
    """The :class:`Mapped` of a row refused: one rejected record with the field and reason."""
    return Mapped(
        rejected=[
            RejectedRecord.from_error(
                error,
                stream=stream,
                raw=raw_of(row),
                source=f"Salesforce {sobject}",
                record_id=error.record_id or _row_id(row),
            )
        ]
    )
