"""Record streams and what reading one yields: batches of core objects, rejected records, cursors.

A connector offers :class:`Stream` s; reading one yields :class:`Batch` es, each holding the core
objects mapped (a :data:`Record` each), the vendor records that could not be mapped
(:class:`RejectedRecord`, kept with the reason) and the :class:`Cursor` after the batch, where
the next read starts.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from operator import attrgetter
from typing import Any, Final, TypeAlias

import attrs

from slacore import _arrow as arrow
from slacore.errors import UnknownKeyError, ValidationError
from slacore.model import (
    Deal,
    Handoff,
    Lead,
    OwnerChange,
    Rep,
    StageChange,
    Touch,
    id_field,
    id_is_key,
)

__all__ = [
    "Batch",
    "Cursor",
    "Record",
    "RejectedRecord",
    "Stream",
    "rejected_frame",
    "rejected_table",
]

Record: TypeAlias = Lead | StageChange | Handoff | Touch | Deal | Rep | OwnerChange
"""Any core object a connector yields."""

JSONScalar: TypeAlias = str | int | float | bool | None
"""A value a cursor's state may hold: a JSON string, number, boolean or null."""


class Stream(enum.StrEnum):
    """A kind of record a connector can offer; each yields one core type (:attr:`record_type`).

    A stream's name is its value (``"leads"``); :meth:`parse` also takes ``"stage-changes"``
    and any case.
    """

    LEADS = "leads"
    """:class:`~slacore.model.Lead` records, one per lead, identified by ``id``."""
    STAGE_CHANGES = "stage_changes"
    """:class:`~slacore.model.StageChange` records: a lead moved from one stage to another."""
    HANDOFFS = "handoffs"
    """:class:`~slacore.model.Handoff` records: a lead passed from marketing to sales."""
    TOUCHES = "touches"
    """:class:`~slacore.model.Touch` records: a call, email or meeting with a lead."""
    DEALS = "deals"
    """:class:`~slacore.model.Deal` records, one per deal, identified by ``id``."""
    REPS = "reps"
    """:class:`~slacore.model.Rep` records, one per sales rep, identified by ``id``."""
    OWNER_CHANGES = "owner_changes"
    """:class:`~slacore.model.OwnerChange` records: a lead given to another rep."""

    @property
    def record_type(self) -> type[Record]:
        """The core class this stream yields (``Stream.LEADS`` -> :class:`~slacore.Lead`)."""
        return _RECORD_TYPES[self]

    @property
    def deletable(self) -> bool:
        """Whether a batch of this stream may carry deletions (:attr:`Batch.deleted`): a
        stream whose records each have their own id, leads, deals and reps.

        The other streams' records (stage changes, hand-offs, touches, owner changes) are
        events of a lead, named by their lead's id and a natural key, not by an id of their
        own: they leave with their lead when a leads batch deletes it.
        """
        return id_is_key(self.record_type)

    @classmethod
    def parse(cls, value: Stream | str) -> Stream:
        """A stream from its name: ``"leads"``, ``"stage-changes"``, ``"Stage_Changes"``.

        Raises:
            UnknownKeyError: No stream has that name.

        """
        if isinstance(value, Stream):
            return value
        try:
            return cls(str(value).strip().lower().replace("-", "_"))
        except ValueError:
            raise UnknownKeyError(
                message=f"no record stream {value!r}",
                key=str(value),
                known=tuple(s.value for s in cls),
            ) from None


def _stream(value: Stream | str) -> Stream:
    return Stream.parse(value)


_RECORD_TYPES: Final[dict[Stream, type[Record]]] = {
    Stream.LEADS: Lead,
    Stream.STAGE_CHANGES: StageChange,
    Stream.HANDOFFS: Handoff,
    Stream.TOUCHES: Touch,
    Stream.DEALS: Deal,
    Stream.REPS: Rep,
    Stream.OWNER_CHANGES: OwnerChange,
}


def _state(value: Mapping[str, Any]) -> dict[str, JSONScalar]:
    if not isinstance(value, Mapping):
        raise ValidationError(message="a cursor's state must be a mapping", field="state")
    state: dict[str, JSONScalar] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str | int | float | bool | None):
            raise ValidationError(
                message=f"cursor state {key!r}: expected a string, number, bool or null, "
                f"got {type(item).__name__}",
                field="state",
            )
        state[key] = item
    return state


@attrs.frozen(kw_only=True, hash=False)  # holds dicts: unhashable
class Cursor:
    """Where a stream's last read stopped; the next read starts after it.

    What the state holds is the connector's business (a last-modified time, a file's identity
    and byte offset); it is JSON scalars only, so a store can keep it as one JSON text.

    Attributes:
        stream: The stream it belongs to.
        state: The connector's position, a flat mapping of JSON scalars.

    Examples:
        >>> cursor = Cursor(stream="leads", state={"updated_at": 1767603600000})
        >>> cursor.to_json()
        '{"state":{"updated_at":1767603600000},"stream":"leads"}'
        >>> Cursor.from_json(cursor.to_json()) == cursor
        True

    """

    stream: Stream = attrs.field(converter=_stream)
    state: Mapping[str, JSONScalar] = attrs.field(factory=dict, converter=_state)

    def to_dict(self) -> dict[str, Any]:
        """The cursor as a JSON-ready mapping."""
        return {"stream": self.stream.value, "state": dict(self.state)}

    def to_json(self) -> str:
        """The cursor as compact JSON text, keys sorted (stable for comparisons)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cursor:
        """The cursor :meth:`to_dict` gave.

        Raises:
            ValidationError: ``data`` is not a cursor.

        """
        if not isinstance(data, Mapping) or "stream" not in data:
            raise ValidationError(message=f"not a cursor: {data!r}", field="cursor")
        return cls(stream=data["stream"], state=data.get("state", {}))

    @classmethod
    def from_json(cls, text: str) -> Cursor:
        """The cursor :meth:`to_json` gave.

        Raises:
            ValidationError: ``text`` is not a cursor's JSON.

        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValidationError(
                message=f"not a cursor's JSON: {error}", field="cursor", value=text
            ) from None
        return cls.from_dict(data)


def _raw(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


@attrs.frozen(kw_only=True, hash=False)  # holds dicts: unhashable
class RejectedRecord:
    """A vendor record that could not be mapped: kept with the reason, never dropped.

    Attributes:
        stream: The stream it was read for.
        reason: What is wrong, in one sentence.
        source: Where it came from: a file name, an API object.
        line: Its line in that file (the first line, for a record spanning several).
        record_id: Its vendor id, if it could be read.
        field: The vendor field or column at fault, if one is.
        raw: The vendor record as read (vendor field -> value).

    """

    stream: Stream = attrs.field(converter=_stream)
    reason: str
    source: str | None = None
    line: int | None = None
    record_id: str | None = None
    field: str | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, converter=_raw)

    @classmethod
    def from_error(
        cls,
        error: ValidationError,
        *,
        stream: Stream | str,
        raw: Mapping[str, Any],
        source: str | None = None,
        line: int | None = None,
        record_id: str | None = None,
    ) -> RejectedRecord:
        """The rejected record for a :class:`~slacore.errors.ValidationError` raised mapping it."""
        return cls(
            stream=stream,
            reason=error.message,
            source=source if source is not None else error.file,
            line=line if line is not None else error.line,
            record_id=record_id if record_id is not None else error.record_id,
            field=error.field,
            raw=raw,
        )

    def __str__(self) -> str:
        parts: list[str] = []
        if self.source is not None:
            parts.append(self.source if self.line is None else f"{self.source}:{self.line}")
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.record_id is not None:
            parts.append(f"record {self.record_id}")
        if self.field is not None:
            parts.append(self.field)
        parts.append(self.reason)
        return ": ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The rejected record as a JSON-ready mapping."""
        return {
            "stream": self.stream.value,
            "source": self.source,
            "line": self.line,
            "record_id": self.record_id,
            "field": self.field,
            "reason": self.reason,
            "raw": {
                str(k): v if isinstance(v, JSONScalar) else str(v) for k, v in self.raw.items()
            },
        }


def _records(value: Iterable[Record]) -> tuple[Record, ...]:
    return tuple(value)


def _rejected(value: Iterable[RejectedRecord]) -> tuple[RejectedRecord, ...]:
    return tuple(value)


def _notices(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _deleted(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        # tuple("L1") would be ("L", "1"): a single id is a connector's mistake, said plainly.
        got = f"the string {value!r}" if isinstance(value, str) else type(value).__name__
        raise ValidationError(
            message=f"deleted must be a sequence of ids, got {got}",
            field="deleted",
            value=value,
        )
    items = tuple(value)
    if not all(isinstance(item, str) for item in items):
        return items  # refused, naming the item, by the validator
    # An id said twice is one deletion; the order is the source's.
    return tuple(dict.fromkeys(items))


def _batch_deleted(
    instance: Batch, attribute: attrs.Attribute[tuple[str, ...]], value: tuple[str, ...]
) -> None:
    if not value:
        return
    stream = instance.stream
    if not stream.deletable:
        *some, last = [s.value for s in Stream if s.deletable]
        raise ValidationError(
            message=f"a {stream} batch cannot carry deletions: only a {', '.join(some)} or "
            f"{last} batch can (a lead's {stream} leave with it when a leads batch deletes "
            "the lead)",
            field="deleted",
        )
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ValidationError(
                message=f"a deleted id must be a non-empty string, got {item!r}",
                field="deleted",
                value=item,
            )
    field = id_field(stream.record_type)
    held = {getattr(record, field, None) for record in instance.records}
    both = sorted(item for item in value if item in held)
    if both:
        raise ValidationError(
            message=f"a {stream} batch both holds and deletes {', '.join(both[:3])}"
            + (", ..." if len(both) > 3 else "")
            + ": a record is either current or deleted",
            field="deleted",
        )


def _batch_cursor(instance: Batch, attribute: attrs.Attribute[Cursor], value: Cursor) -> None:
    if not isinstance(value, Cursor) or value.stream != instance.stream:
        raise ValidationError(
            message=f"a {instance.stream} batch needs a {instance.stream} cursor, got {value!r}",
            field="cursor",
        )


@attrs.frozen(kw_only=True, hash=False)  # holds dicts: unhashable
class Batch:
    """One step of a read: records mapped, records rejected, and the cursor after them.

    Store the records and the rejected ones, then keep ``cursor``: the next read from it
    starts after this batch.

    Attributes:
        stream: The stream read.
        records: The core objects, in vendor order.
        cursor: The position after this batch.
        rejected: The records that could not be mapped, with their reasons.
        notices: What the user should be told about this read that is neither a record nor
            a rejection, in one line each, naming the file and line where there is one
            (``"leads.csv:1204: the last line has no newline yet; it waits for the next
            run"``). A sync shows them and keeps them in its run record.
        from_start: This batch begins a read from the start of the stream's data (a first or
            a full read, or a file read again because it changed), not one going on from a
            cursor: the store replaces the stream's rejected records kept from earlier reads
            with this read's, so rows read again are not counted twice. Only the first batch
            of such a read says so.
        deleted: The ids of the stream's records the source says it deleted (archived,
            merged into another), each once. Only a stream whose records have their own
            id may carry them (:attr:`Stream.deletable`: leads, deals, reps). The store
            closes each one's current version, so it leaves the current records but stays
            in what the store knew before (``as_of``); a lead deleted takes its stage
            changes, hand-offs, touches and owner changes with it. An id the store does not
            hold counts nothing; a record given again later is a new version.

    Raises:
        ValidationError: The cursor is another stream's; ``deleted`` is given for a stream
            that cannot carry deletions, holds an id that is not a non-empty string, or
            names a record the batch also holds.

    """

    stream: Stream = attrs.field(converter=_stream)
    records: tuple[Record, ...] = attrs.field(converter=_records)
    cursor: Cursor = attrs.field(validator=_batch_cursor)
    rejected: tuple[RejectedRecord, ...] = attrs.field(default=(), converter=_rejected)
    notices: tuple[str, ...] = attrs.field(default=(), converter=_notices)
    from_start: bool = False
    deleted: tuple[str, ...] = attrs.field(default=(), converter=_deleted, validator=_batch_deleted)

    def __len__(self) -> int:
        """The vendor records the batch speaks of: mapped, rejected and deleted."""
        return len(self.records) + len(self.rejected) + len(self.deleted)


def rejected_table(records: Iterable[RejectedRecord]) -> Any:
    """Rejected records as a ``pyarrow.Table``, a row per record in the order given.

    Columns: ``stream`` (dictionary of every :class:`Stream`); ``source``, ``record_id``,
    ``field`` and ``reason`` (strings); ``line`` (int); ``raw`` (the vendor record as JSON
    text, keys as read: vendor values are of any type, so one typed column cannot hold them).
    A part a record lacks is null. :func:`rejected_frame` gives the same as a pandas
    ``DataFrame``; ``polars.from_arrow()`` takes it.

    Raises:
        ModuleNotFoundError: pyarrow is not installed (``pip install 'slacore[arrow]'``).

    """
    return arrow.records_table(
        records,
        [
            ("stream", lambda v: arrow.categories(v, Stream), attrgetter("stream")),
            ("source", arrow.strings, attrgetter("source")),
            ("line", arrow.integers, attrgetter("line")),
            ("record_id", arrow.strings, attrgetter("record_id")),
            ("field", arrow.strings, attrgetter("field")),
            ("reason", arrow.strings, attrgetter("reason")),
            ("raw", arrow.strings, lambda r: json.dumps(r.to_dict()["raw"], default=str)),
        ],
    )


def rejected_frame(records: Iterable[RejectedRecord]) -> Any:
    """:func:`rejected_table` as a pandas ``DataFrame`` (``line`` a nullable ``Int64``).

    Raises:
        ModuleNotFoundError: pyarrow or pandas is not installed.

    """
    return arrow.pandas_of(rejected_table(records))
