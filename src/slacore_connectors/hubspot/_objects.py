"""Reading one HubSpot object: its id, its properties, its creation time, its rejection."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from slacore.connector import RejectedRecord, Stream
from slacore.errors import ValidationError
from slacore.model import natural_key
from slacore_connectors.hubspot._times import _shown, parse_time
from slacore_connectors.hubspot.results import Mapped, R


def _text(value: object, field: str) -> str | None:
    """A property's text, stripped; ``None`` when empty or null."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValidationError(
        message=f"expected text, got {type(value).__name__} {_shown(value)}",
        field=field,
        value=value,
    )


def _top(obj: Mapping[str, Any], *names: str) -> Any:
    """An object's top-level field, by its wire name or the SDK's snake_case one."""
    for name in names:
        if name in obj:
            return obj[name]
    return None


def _object(obj: object, what: str) -> Mapping[str, Any]:
    if not isinstance(obj, Mapping):
        raise ValidationError(
            message=f"expected a HubSpot {what} (a JSON object), got {type(obj).__name__}",
            value=None,
        )
    return obj


def _object_id(obj: Mapping[str, Any]) -> str:
    found = _text(obj.get("id"), "id")
    if found is None:
        props = obj.get("properties")
        if isinstance(props, Mapping):
            found = _text(props.get("hs_object_id"), "hs_object_id")
    if found is None:
        raise ValidationError(message="missing value: the object has no id", field="id")
    return found


def _record_id(obj: object) -> str | None:
    try:
        return _object_id(_object(obj, "object"))
    except ValidationError:
        return None


def _props(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    props = obj.get("properties")
    if props is None:
        return {}
    if not isinstance(props, Mapping):
        raise ValidationError(
            message=f"expected an object of properties, got {type(props).__name__}",
            field="properties",
        )
    return props


def _created(obj: Mapping[str, Any], props: Mapping[str, Any]) -> datetime:
    text = props.get("createdate")
    if text is not None and text != "":
        return parse_time(text, field="createdate")
    top = _top(obj, "createdAt", "created_at")
    if top is None or top == "":
        raise ValidationError(message="missing value: the creation time", field="createdate")
    return parse_time(top, field="createdAt")


def _raw(obj: object) -> dict[str, Any]:
    """A HubSpot object flattened for a rejected record: its fields and its properties."""
    if not isinstance(obj, Mapping):
        return {"object": _shown(obj)}
    raw: dict[str, Any] = {}
    for key, value in obj.items():
        if key == "properties" and isinstance(value, Mapping):
            raw.update((str(k), v) for k, v in value.items())
        else:
            raw[str(key)] = value
    return raw


def _build(make: Callable[..., R], names: Mapping[str, str], **kwargs: Any) -> R:
    """``make(**kwargs)``; an error names the HubSpot property instead of the core field."""
    try:
        return make(**kwargs)
    except ValidationError as error:
        field = names.get(error.field or "", error.field)
        raise attrs.evolve(error, field=field) from None


def _unique(records: Iterable[R]) -> list[R]:
    """``records`` with one per natural key, the last one read (as a store keeps it)."""
    by_key: dict[tuple[Any, ...], R] = {}
    for record in records:
        by_key.pop(natural_key(record), None)
        by_key[natural_key(record)] = record
    return list(by_key.values())


def _rejection(error: ValidationError, obj: object, stream: Stream, object_type: str) -> Mapped:
    return Mapped(
        rejected=[
            RejectedRecord.from_error(
                error,
                stream=stream,
                raw=_raw(obj),
                source=f"HubSpot {object_type}",
                record_id=_record_id(obj),
            )
        ]
    )
