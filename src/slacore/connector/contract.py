"""The connector contract: how records from a CRM become core objects.

A connector is a subclass of :class:`Connector` with a ``name``, a settings schema (a tuple of
:class:`Setting`), the record :class:`Stream` s it offers and a :meth:`Connector.read_stream`
that, given the :class:`Cursor` of the last run (or ``None``), yields :class:`Batch` es of core
objects, the records it could not map (:class:`RejectedRecord`) and the cursor after the batch.
Memory stays flat: a batch is yielded before the next one is read. A connector knows nothing of
SLA rules.

Mapping is data where it can be: a :class:`FieldMapping` says which vendor field or column feeds
each core field, which vendor stage and channel names mean which ``LeadStage`` key and
``Channel``, in which time zone naive vendor timestamps are, and which time formats to accept.

Plugins register connector classes with the ``slacore_register_connectors`` hook
(:mod:`slacore.hookspecs`); :mod:`slacore.plugins` finds them. The guide is
``docs/connectors.md``.
"""

from __future__ import annotations

import abc
import enum
import functools
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Final, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from slacore._values import to_money
from slacore.errors import UnknownKeyError, ValidationError
from slacore.model import (
    STANDARD_LADDER,
    Channel,
    Deal,
    Handoff,
    Lead,
    OwnerChange,
    Rep,
    StageChange,
    Touch,
)

__all__ = [
    "MAPPING_SETTINGS",
    "Batch",
    "Connector",
    "CoreField",
    "Cursor",
    "FieldMapping",
    "MissingColumnsError",
    "Record",
    "RejectedRecord",
    "RowMapper",
    "Secret",
    "Setting",
    "SettingKind",
    "Settings",
    "Stream",
    "core_fields",
    "parse_time",
]

Record: TypeAlias = Lead | StageChange | Handoff | Touch | Deal | Rep | OwnerChange
"""Any core object a connector yields."""

JSONScalar: TypeAlias = str | int | float | bool | None


class Stream(enum.StrEnum):
    """A kind of record a connector can offer; each yields one core type."""

    LEADS = "leads"
    STAGE_CHANGES = "stage_changes"
    HANDOFFS = "handoffs"
    TOUCHES = "touches"
    DEALS = "deals"
    REPS = "reps"
    OWNER_CHANGES = "owner_changes"

    @property
    def record_type(self) -> type[Record]:
        """The core class this stream yields (``Stream.LEADS`` -> :class:`~slacore.Lead`)."""
        return _RECORD_TYPES[self]

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


# --- settings --------------------------------------------------------------------------------


@attrs.frozen(repr=False)
class Secret:
    """A secret setting (a token, a password): never shown by ``repr``, ``str`` or logging.

    Call :meth:`reveal` where the value is really needed, e.g. in a request header.

    >>> token = Secret("pat-na1-0123")
    >>> token
    Secret('***')
    >>> f"token: {token}"
    'token: ***'
    >>> token.reveal()
    'pat-na1-0123'
    """

    _value: str

    def reveal(self) -> str:
        """The secret itself."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


class SettingKind(enum.StrEnum):
    """What a setting holds, and so how its value is checked and converted."""

    TEXT = "text"
    """A string (a :class:`Secret` when the setting is secret)."""
    INTEGER = "integer"
    """An int; a string of digits is accepted."""
    BOOLEAN = "boolean"
    """A bool; ``"true"``/``"false"``, ``"yes"``/``"no"`` are accepted."""
    PATH = "path"
    """A file or folder, as a :class:`~pathlib.Path` (``~`` expanded)."""
    LIST = "list"
    """A list of strings, as a tuple."""
    TABLE = "table"
    """A mapping (a TOML table), as a dict."""
    TIMEZONE = "timezone"
    """An IANA time zone name such as ``"Europe/Berlin"``."""


@attrs.frozen(kw_only=True)
class Setting:
    """One entry of a connector's settings schema.

    Attributes:
        name: The key in the settings mapping.
        kind: What it holds (:class:`SettingKind`).
        required: Whether it must be given.
        default: The value when not given (already of the right kind).
        secret: Whether the value is a secret: kept as a :class:`Secret`, hidden everywhere.
        help: One line for documentation and error messages.
        choices: For text settings, the allowed values (empty: any).
        minimum: For integer settings, the smallest allowed value.

    """

    name: str
    kind: SettingKind = attrs.field(default=SettingKind.TEXT, converter=SettingKind)
    required: bool = False
    default: Any = None
    secret: bool = False
    help: str = ""
    choices: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    minimum: int | None = None

    def convert(self, value: Any, *, owner: str | None = None) -> Any:
        """Check ``value`` and convert it to this setting's kind.

        Raises:
            ValidationError: The value is not of the kind, not a choice, or too small. A
                secret's value is never put into the error.

        """
        shown = "a secret value" if self.secret else repr(value)

        def bad(expected: str) -> ValidationError:
            where = f" of connector {owner}" if owner else ""
            return ValidationError(
                message=f"setting {self.name!r}{where}: expected {expected}, got {shown}",
                field=self.name,
                value=None if self.secret else value,
            )

        kind = self.kind
        if kind is SettingKind.TEXT:
            if isinstance(value, Secret):
                value = value.reveal()
            if not isinstance(value, str):
                raise bad("text")
            if self.choices and value not in self.choices:
                raise bad("one of " + ", ".join(repr(c) for c in self.choices))
            return Secret(value) if self.secret else value
        if kind is SettingKind.INTEGER:
            if isinstance(value, str) and re.fullmatch(r"\s*-?\d[\d_]*\s*", value):
                value = int(value)
            if not isinstance(value, int) or isinstance(value, bool):
                raise bad("a whole number")
            if self.minimum is not None and value < self.minimum:
                raise bad(f"a whole number of at least {self.minimum}")
            return value
        if kind is SettingKind.BOOLEAN:
            if isinstance(value, str) and value.strip().lower() in _BOOLEAN_WORDS:
                return _BOOLEAN_WORDS[value.strip().lower()]
            if not isinstance(value, bool):
                raise bad("true or false")
            return value
        if kind is SettingKind.PATH:
            if not isinstance(value, str | os.PathLike) or not str(value).strip():
                raise bad("a file or folder path")
            return Path(value).expanduser()
        if kind is SettingKind.LIST:
            if isinstance(value, str) or not isinstance(value, Sequence):
                raise bad("a list of strings")
            if not all(isinstance(item, str) for item in value):
                raise bad("a list of strings")
            return tuple(value)
        if kind is SettingKind.TABLE:
            if not isinstance(value, Mapping):
                raise bad("a table (mapping)")
            return dict(value)
        if kind is SettingKind.TIMEZONE:
            if isinstance(value, ZoneInfo):
                return value.key
            if not isinstance(value, str):
                raise bad('a time zone name like "Europe/Berlin"')
            _zone(value, field=self.name)
            return value
        raise AssertionError(kind)  # pragma: no cover - every kind is handled above


_BOOLEAN_WORDS: Final = {
    "true": True,
    "t": True,
    "yes": True,
    "y": True,
    "1": True,
    "false": False,
    "f": False,
    "no": False,
    "n": False,
    "0": False,
}


@attrs.frozen(repr=False, hash=False)  # holds dicts: unhashable
class Settings(Mapping[str, Any]):
    """A connector's validated settings: a read-only mapping, defaults filled in.

    Secret settings hold a :class:`Secret`; ``repr`` and :meth:`to_dict` show them as
    ``'***'``. Build one with :meth:`validate`.
    """

    _values: Mapping[str, Any]

    @classmethod
    def validate(
        cls, schema: Iterable[Setting], raw: Mapping[str, Any], *, owner: str | None = None
    ) -> Settings:
        """Check ``raw`` against ``schema`` and return the converted settings.

        Args:
            schema: The settings the connector understands.
            raw: The settings given, e.g. a TOML table.
            owner: The connector's name, for error messages.

        Raises:
            ValidationError: A key is unknown (the message lists the known ones), a required
                setting is missing, or a value is of the wrong kind.

        """
        if isinstance(raw, Settings):
            raw = raw._values
        if not isinstance(raw, Mapping):
            raise ValidationError(
                message=f"settings must be a table (mapping), got {type(raw).__name__}"
            )
        by_name = {setting.name: setting for setting in schema}
        where = f" of connector {owner}" if owner else ""
        for key in raw:
            if key not in by_name:
                known = ", ".join(sorted(by_name)) or "none"
                raise ValidationError(
                    message=f"unknown setting {key!r}{where} (known: {known})", field=str(key)
                )
        values: dict[str, Any] = {}
        for name, setting in by_name.items():
            if name in raw and raw[name] is not None:
                values[name] = setting.convert(raw[name], owner=owner)
            elif setting.required:
                raise ValidationError(
                    message=f"setting {name!r}{where} is required"
                    + (f": {setting.help}" if setting.help else ""),
                    field=name,
                )
            else:
                values[name] = setting.default
        return cls(values)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        inner = ", ".join(f"{key}={value!r}" for key, value in self._values.items())
        return f"Settings({inner})"

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready values; secrets are ``'***'``, paths strings."""

        def show(value: Any) -> Any:
            if isinstance(value, Secret):
                return "***"
            if isinstance(value, Path):
                return str(value)
            if isinstance(value, tuple):
                return list(value)
            return value

        return {key: show(value) for key, value in self._values.items()}


def _zone(name: str, *, field: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            message=f'expected a time zone name like "Europe/Berlin", got {name!r}',
            field=field,
            value=name,
        ) from None


MAPPING_SETTINGS: Final[tuple[Setting, ...]] = (
    Setting(
        name="fields",
        kind=SettingKind.TABLE,
        help="which vendor field or column feeds each core field, per stream: "
        '{leads = {id = "Lead ID"}}',
    ),
    Setting(
        name="stage_values",
        kind=SettingKind.TABLE,
        help='vendor stage names to LeadStage keys: {"Marketing Qualified" = "mql"}',
    ),
    Setting(
        name="channel_values",
        kind=SettingKind.TABLE,
        help='vendor activity names to touch channels: {"Phone call" = "call"}',
    ),
    Setting(
        name="stages",
        kind=SettingKind.LIST,
        help="the LeadStage keys of your ladder (default: the standard ladder)",
    ),
    Setting(
        name="timezone",
        kind=SettingKind.TIMEZONE,
        help="the time zone of naive vendor timestamps; without it they are rejected",
    ),
    Setting(
        name="time_formats",
        kind=SettingKind.LIST,
        help='formats tried after ISO 8601: strptime patterns, "unix" or "unix_ms"',
    ),
)
"""The mapping settings every connector can offer: add them to ``settings_schema`` and
:meth:`Connector.mapping` builds the :class:`FieldMapping` of a stream from them."""


# --- cursors, rejected records, batches -------------------------------------------------------


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

    """

    stream: Stream = attrs.field(converter=_stream)
    records: tuple[Record, ...] = attrs.field(converter=_records)
    cursor: Cursor = attrs.field(validator=_batch_cursor)
    rejected: tuple[RejectedRecord, ...] = attrs.field(default=(), converter=_rejected)

    def __len__(self) -> int:
        return len(self.records) + len(self.rejected)


# --- mapping ---------------------------------------------------------------------------------


class _Kind(enum.Enum):
    TEXT = "text"
    TIME = "time"
    MONEY = "money"
    BOOLEAN = "boolean"
    STAGE = "stage"
    CHANNEL = "channel"


_KINDS_BY_NAME: Final[dict[str, _Kind]] = {
    "created_at": _Kind.TIME,
    "at": _Kind.TIME,
    "notified_at": _Kind.TIME,
    "opened_at": _Kind.TIME,
    "closed_at": _Kind.TIME,
    "amount": _Kind.MONEY,
    "hand_raiser": _Kind.BOOLEAN,
    "won": _Kind.BOOLEAN,
    "active": _Kind.BOOLEAN,
    "stage": _Kind.STAGE,
    "to_stage": _Kind.STAGE,
    "from_stage": _Kind.STAGE,
    "channel": _Kind.CHANNEL,
}


@attrs.frozen(kw_only=True)
class CoreField:
    """A field of a core record a vendor field can feed.

    Attributes:
        name: The field's name on the core class (``created_at``).
        kind: ``text``, ``time``, ``money``, ``boolean``, ``stage`` or ``channel``.
        required: Whether every record needs it (the core class has no default).

    """

    name: str
    kind: str
    required: bool


@functools.cache
def core_fields(stream: Stream | str) -> tuple[CoreField, ...]:
    """The core fields of a stream's records, in the core class's order.

    >>> [f.name for f in core_fields("touches")]
    ['lead_id', 'rep_id', 'at', 'channel']
    """
    record_type = Stream.parse(stream).record_type
    return tuple(
        CoreField(
            name=field.name,
            kind=_KINDS_BY_NAME.get(field.name, _Kind.TEXT).value,
            required=field.default is attrs.NOTHING,
        )
        for field in attrs.fields(record_type)
    )


_ID_FIELD: Final = {
    Stream.LEADS: "id",
    Stream.DEALS: "id",
    Stream.REPS: "id",
    Stream.STAGE_CHANGES: "lead_id",
    Stream.HANDOFFS: "lead_id",
    Stream.TOUCHES: "lead_id",
    Stream.OWNER_CHANGES: "lead_id",
}
_UNIQUE_IDS: Final = frozenset({Stream.LEADS, Stream.DEALS, Stream.REPS})
_SPECIAL_FORMATS: Final = frozenset({"iso", "unix", "unix_ms"})


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _table(value: Mapping[str, Any] | None, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(
            message=f"expected a table (mapping), got {type(value).__name__}", field=field
        )
    return dict(value)


def _fields_table(value: Mapping[str, str | None] | None) -> dict[str, str | None]:
    return _table(value, "fields")


def _stage_table(value: Mapping[str, str] | None) -> dict[str, str]:
    return _table(value, "stage_values")


def _channel_table(value: Mapping[str, str] | None) -> dict[str, str]:
    return _table(value, "channel_values")


def _optional_zone(value: ZoneInfo | str | None) -> ZoneInfo | None:
    if value is None or isinstance(value, ZoneInfo):
        return value
    return _zone(value, field="timezone")


def parse_time(
    value: object,
    *,
    formats: Sequence[str] = (),
    timezone: ZoneInfo | None = None,
) -> datetime:
    """Parse a vendor timestamp into an aware ``datetime``.

    ISO 8601 is always tried first (``2026-01-05T09:30:00+01:00``, ``...Z``, ``2026-01-05
    09:30``); then each of ``formats``: a :func:`~datetime.datetime.strptime` pattern such as
    ``"%d.%m.%Y %H:%M"``, ``"unix"`` (seconds since 1970, UTC) or ``"unix_ms"``
    (milliseconds). A ``datetime`` is taken as it is. A time without an offset is in
    ``timezone``; an ambiguous wall time (the repeated hour in autumn) is its first occurrence.

    Raises:
        ValidationError: The value matches no format, or it is naive and no ``timezone`` is
            given (naive input is never guessed).

    >>> parse_time("2026-01-05T09:30:00Z")
    datetime.datetime(2026, 1, 5, 9, 30, tzinfo=datetime.timezone.utc)
    >>> parse_time("05.01.2026 09:30", formats=["%d.%m.%Y %H:%M"], timezone=ZoneInfo("UTC"))
    datetime.datetime(2026, 1, 5, 9, 30, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
    >>> parse_time(1767605400000, formats=["unix_ms"])
    datetime.datetime(2026, 1, 5, 9, 30, tzinfo=datetime.timezone.utc)

    """
    return _time_converter(tuple(formats), timezone)(value)


def _time_converter(
    formats: tuple[str, ...], zone: ZoneInfo | None
) -> Callable[[object], datetime]:
    patterns = tuple(f for f in formats if f not in _SPECIAL_FORMATS)
    unix = "unix" in formats
    unix_ms = "unix_ms" in formats
    named = ", ".join(f for f in formats if f != "iso")
    expected = "a time like 2026-01-05T09:30:00+01:00" + (f" or {named}" if named else "")

    def from_epoch(number: float) -> datetime:
        try:
            return datetime.fromtimestamp(number / 1000 if unix_ms else number, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValidationError(
                message=f"expected {expected}, got {number!r}", value=number
            ) from None

    def convert(value: object) -> datetime:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, str):
            text = value.strip()
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                parsed = _try_patterns(text, patterns)
                if parsed is None:
                    if (unix or unix_ms) and re.fullmatch(r"-?\d+(\.\d+)?", text):
                        return from_epoch(float(text))
                    raise ValidationError(
                        message=f"expected {expected}, got {value!r}", value=value
                    ) from None
                moment = parsed
        elif (unix or unix_ms) and isinstance(value, int | float) and not isinstance(value, bool):
            return from_epoch(value)
        else:
            raise ValidationError(
                message=f"expected {expected}, got {type(value).__name__} {value!r}", value=value
            )
        if moment.tzinfo is None or moment.utcoffset() is None:
            if zone is None:
                raise ValidationError(
                    message=f"naive time {value!r} has no offset and no timezone is set "
                    '(add timezone = "Europe/Berlin" or the like to the settings)',
                    value=value,
                )
            moment = moment.replace(tzinfo=zone)
        return moment

    return convert


def _try_patterns(text: str, patterns: tuple[str, ...]) -> datetime | None:
    for pattern in patterns:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def _text(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValidationError(message=f"expected text, got {type(value).__name__} {value!r}")


def _boolean(value: object) -> bool:
    if isinstance(value, str):
        word = _BOOLEAN_WORDS.get(value)
        if word is None:
            word = _BOOLEAN_WORDS.get(value.strip().lower())
        if word is not None:
            return word
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValidationError(
        message=f"expected true or false (yes/no, 1/0), got {value!r}", value=value
    )


def _money(value: object) -> Decimal:
    if isinstance(value, str | int | float | Decimal):
        return to_money(value)
    raise ValidationError(message=f"expected an amount of money, got {value!r}", value=value)


def _value_map(
    table: Mapping[str, str], known: Sequence[str], what: str, setting: str
) -> Callable[[object], str]:
    lookup = {_norm(key): value for key, value in table.items()}
    by_lower = {key.lower(): key for key in known}
    # Exact spellings first: the common case costs one dict look-up.
    exact = {**{key: key for key in known}, **table}
    listed = ", ".join(known)

    def convert(value: object) -> str:
        if not isinstance(value, str):
            value = _text(value)
        mapped = exact.get(value)
        if mapped is not None:
            return mapped
        mapped = lookup.get(_norm(value))
        if mapped is not None:
            return mapped
        key = by_lower.get(value.strip().lower())
        if key is not None:
            return key
        raise ValidationError(
            message=f"unknown {what} {value!r}: expected one of {listed} "
            f"or a name mapped in {setting}",
            value=value,
        )

    return convert


_Slot: TypeAlias = tuple[str, str, Callable[[object], object] | None, bool]


@attrs.frozen(kw_only=True)
class MissingColumnsError(ValidationError):
    """A file lacks a column a stream needs: raised before any row is read.

    Attributes:
        missing: The vendor columns looked for and not found.
        columns: The columns the file has.

    """

    missing: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()


@attrs.frozen(kw_only=True, hash=False)  # holds dicts: unhashable
class FieldMapping:
    """How a stream's vendor records map onto its core class: data, not code.

    Attributes:
        stream: The stream mapped.
        fields: Core field -> the vendor field or column feeding it (``{"id": "Lead ID"}``).
            Core fields not named are read from a vendor field of the same name; ``None``
            maps nothing to an optional field. Dotted names (``"properties.createdate"``)
            reach into nested records.
        stage_values: Vendor stage names -> ``LeadStage`` keys, matched ignoring case and
            spacing. A value that already is a key (in any case) needs no entry.
        channel_values: Vendor activity names -> ``Channel`` values (``call``, ``email``,
            ``meeting``, ``other``), matched the same way.
        stages: The ``LeadStage`` keys a stage value may take (default: the standard ladder).
        timezone: The zone of naive vendor timestamps; without one they are rejected.
        time_formats: Formats tried after ISO 8601 (see :func:`parse_time`).

    Raises:
        ValidationError: ``fields`` names a field the core class does not have, a value map
            points to an unknown stage or channel, or the time zone is unknown.

    >>> mapping = FieldMapping(
    ...     stream="leads",
    ...     fields={"id": "Lead ID", "created_at": "Created", "stage": "Status"},
    ...     stage_values={"Marketing Qualified": "mql"},
    ...     timezone="Europe/Berlin",
    ... )
    >>> vendor = {"Lead ID": "L-1", "Created": "2026-01-05 09:30", "Status": "marketing qualified"}
    >>> lead = mapping.map(vendor)
    >>> lead.id, lead.stage, lead.created_at.isoformat()
    ('L-1', 'mql', '2026-01-05T09:30:00+01:00')

    """

    stream: Stream = attrs.field(converter=_stream)
    fields: Mapping[str, str | None] = attrs.field(factory=dict, converter=_fields_table)
    stage_values: Mapping[str, str] = attrs.field(factory=dict, converter=_stage_table)
    channel_values: Mapping[str, str] = attrs.field(factory=dict, converter=_channel_table)
    stages: tuple[str, ...] = attrs.field(default=STANDARD_LADDER.keys, converter=_strings)
    timezone: ZoneInfo | None = attrs.field(default=None, converter=_optional_zone)
    time_formats: tuple[str, ...] = attrs.field(default=(), converter=_strings)

    def __attrs_post_init__(self) -> None:
        known = [field.name for field in core_fields(self.stream)]
        for core, vendor in self.fields.items():
            if core not in known:
                raise ValidationError(
                    message=f"{self.stream} records have no field {core!r} "
                    f"(known: {', '.join(known)})",
                    field=f"fields.{self.stream}.{core}",
                )
            if vendor is not None and (not isinstance(vendor, str) or not vendor.strip()):
                raise ValidationError(
                    message=f"expected a vendor field name, got {vendor!r}",
                    field=f"fields.{self.stream}.{core}",
                )
            if (
                vendor is None
                and next(f for f in core_fields(self.stream) if f.name == core).required
            ):
                raise ValidationError(
                    message=f"{core} is required on {self.stream} records and must be mapped",
                    field=f"fields.{self.stream}.{core}",
                )
        for vendor, key in self.stage_values.items():
            if key not in self.stages:
                raise ValidationError(
                    message=f"maps {vendor!r} to {key!r}, which is not a stage "
                    f"(known: {', '.join(self.stages)})",
                    field=f"stage_values.{vendor}",
                )
        channels = [c.value for c in Channel]
        for vendor, channel in self.channel_values.items():
            if channel not in channels:
                raise ValidationError(
                    message=f"maps {vendor!r} to {channel!r}, which is not a channel "
                    f"(known: {', '.join(channels)})",
                    field=f"channel_values.{vendor}",
                )
        for pattern in self.time_formats:
            if pattern not in _SPECIAL_FORMATS and "%" not in pattern:
                raise ValidationError(
                    message=f'expected a strptime pattern like "%d.%m.%Y %H:%M", "unix" or '
                    f'"unix_ms", got {pattern!r}',
                    field="time_formats",
                )

    def columns(self) -> dict[str, str]:
        """Core field -> vendor field, for every core field that is mapped."""
        names: dict[str, str] = {}
        for field in core_fields(self.stream):
            vendor = self.fields.get(field.name, field.name)
            if vendor is not None:
                names[field.name] = vendor
        return names

    @functools.cached_property
    def _slots(self) -> tuple[_Slot, ...]:
        converters: dict[str, Callable[[object], object] | None] = {
            _Kind.TEXT.value: _text,
            _Kind.TIME.value: _time_converter(self.time_formats, self.timezone),
            _Kind.MONEY.value: _money,
            _Kind.BOOLEAN.value: _boolean,
            _Kind.STAGE.value: _value_map(self.stage_values, self.stages, "stage", "stage_values"),
            _Kind.CHANNEL.value: _value_map(
                self.channel_values, [c.value for c in Channel], "channel", "channel_values"
            ),
        }
        columns = self.columns()
        return tuple(
            (field.name, columns[field.name], converters[field.kind], field.required)
            for field in core_fields(self.stream)
            if field.name in columns
        )

    def for_columns(self, header: Sequence[str], *, source: str | None = None) -> RowMapper:
        """A :class:`RowMapper` for rows under ``header``; columns match ignoring case.

        Raises:
            MissingColumnsError: A required core field's column is not in ``header``; the
                message lists the columns the file has.
            ValidationError: A column this mapping uses appears twice in ``header``.

        """
        positions: dict[str, int] = {}
        for index, name in enumerate(header):
            key = _norm(name)
            positions.setdefault(key, index)
        used: list[tuple[str, int, str, Callable[[object], object] | None, bool]] = []
        missing: list[str] = []
        for name, column, convert, required in self._slots:
            key = _norm(column)
            if key not in positions:
                if required:
                    missing.append(column if column == name else f"{column} ({name})")
                continue
            if sum(1 for h in header if _norm(h) == key) > 1:
                raise ValidationError(
                    message=f"column {column!r} appears more than once in the header",
                    field=column,
                    file=source,
                    line=1,
                )
            # Row values are strings already stripped: text needs no converter.
            convert = None if convert is _text else convert
            used.append((name, positions[key], header[positions[key]], convert, required))
        if missing:
            has = ", ".join(header) if header else "none"
            raise MissingColumnsError(
                message=f"missing required column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} for {self.stream}; the file has: {has}",
                file=source,
                line=1,
                missing=tuple(missing),
                columns=tuple(header),
            )
        return RowMapper(stream=self.stream, header=tuple(header), slots=tuple(used), source=source)

    def map(self, record: Mapping[str, Any]) -> Record:
        """Map one vendor record (a mapping, e.g. decoded JSON) to its core object.

        Fields are looked up by exact name, then ignoring case; dotted names reach into
        nested mappings. A missing or empty value leaves an optional core field at its
        default.

        Raises:
            ValidationError: A value cannot be mapped or the core object is invalid; ``field``
                is the vendor field at fault.

        """
        kwargs: dict[str, object] = {}
        for name, column, convert, required in self._slots:
            value = _lookup(record, column)
            if value is None or (isinstance(value, str) and not value.strip()):
                if required:
                    raise ValidationError(message="missing value", field=column)
                continue
            if convert is not None:
                try:
                    value = convert(value)
                except ValidationError as error:
                    raise attrs.evolve(error, field=column) from None
            kwargs[name] = value
        return _build(self.stream.record_type, kwargs, self.columns())

    def vendor_id(self, record: Mapping[str, Any]) -> str | None:
        """The vendor id of a record (for leads, deals and reps their ``id``; for the others
        the ``lead_id``), as text, or ``None`` when it has none."""
        column = self.columns().get(_ID_FIELD[self.stream])
        value = None if column is None else _lookup(record, column)
        return None if value is None or value == "" else str(value).strip()

    def map_many(
        self, records: Iterable[Mapping[str, Any]], *, source: str | None = None
    ) -> tuple[list[Record], list[RejectedRecord]]:
        """Map vendor records, keeping the ones that fail as :class:`RejectedRecord`.

        For leads, deals and reps a second record with an id already seen in this call is
        rejected as a duplicate. Memory grows with ``records``: call it once per page.
        """
        mapped: list[Record] = []
        rejected: list[RejectedRecord] = []
        seen: dict[str, int] = {}
        unique = self.stream in _UNIQUE_IDS
        for position, record in enumerate(records, start=1):
            record_id = self.vendor_id(record)
            try:
                core = self.map(record)
            except ValidationError as error:
                rejected.append(
                    RejectedRecord.from_error(
                        error, stream=self.stream, raw=record, source=source, record_id=record_id
                    )
                )
                continue
            if unique and record_id is not None:
                first = seen.setdefault(record_id, position)
                if first != position:
                    rejected.append(
                        RejectedRecord(
                            stream=self.stream,
                            reason=f"duplicate id {record_id!r}, first seen in record {first}",
                            source=source,
                            record_id=record_id,
                            field=self.columns()[_ID_FIELD[self.stream]],
                            raw=record,
                        )
                    )
                    continue
            mapped.append(core)
        return mapped, rejected


def _lookup(record: Mapping[str, Any], name: str) -> Any:
    if name in record:
        return record[name]
    folded = name.casefold()
    for key, value in record.items():
        if isinstance(key, str) and key.casefold() == folded:
            return value
    if "." in name:
        head, _, rest = name.partition(".")
        inner = _lookup(record, head)
        if isinstance(inner, Mapping):
            return _lookup(inner, rest)
    return None


def _build(
    record_type: type[Record], kwargs: dict[str, object], columns: Mapping[str, str]
) -> Record:
    try:
        return record_type(**kwargs)  # type: ignore[arg-type]
    except ValidationError as error:
        field = columns.get(error.field, error.field) if error.field is not None else None
        raise attrs.evolve(error, field=field) from None


@attrs.frozen(kw_only=True, hash=False)  # holds dicts: unhashable
class RowMapper:
    """A :class:`FieldMapping` bound to a header: maps rows (sequences of strings) fast.

    Made by :meth:`FieldMapping.for_columns`; the CSV connector uses one per file.

    Attributes:
        stream: The stream mapped.
        header: The header the rows are under.
        slots: Core field, column position, column name, converter, required, per mapped field.
        source: The file name, for errors.

    """

    stream: Stream
    header: tuple[str, ...]
    slots: tuple[tuple[str, int, str, Callable[[object], object] | None, bool], ...]
    source: str | None = None
    _columns: dict[str, str] = attrs.field(init=False)
    _id_index: int | None = attrs.field(init=False)
    _record_type: Callable[..., Record] = attrs.field(init=False)

    @_record_type.default
    def _record_type_default(self) -> Callable[..., Record]:
        return _RECORD_TYPES[self.stream]

    @_columns.default
    def _columns_default(self) -> dict[str, str]:
        return {name: column for name, _, column, _, _ in self.slots}

    @_id_index.default
    def _id_index_default(self) -> int | None:
        wanted = _ID_FIELD[self.stream]
        return next((index for name, index, *_ in self.slots if name == wanted), None)

    @property
    def width(self) -> int:
        """How many fields a row has."""
        return len(self.header)

    def map(self, row: Sequence[str]) -> Record:
        """Map one row; it must have :attr:`width` fields.

        Raises:
            ValidationError: A value cannot be mapped or the core object is invalid; ``field``
                is the column at fault.

        """
        kwargs: dict[str, object] = {}
        for name, index, column, convert, required in self.slots:
            text = row[index].strip()
            if not text:
                if required:
                    raise ValidationError(message="missing value", field=column)
                continue
            if convert is None:
                kwargs[name] = text
                continue
            try:
                kwargs[name] = convert(text)
            except ValidationError as error:
                raise attrs.evolve(error, field=column) from None
        try:
            return self._record_type(**kwargs)
        except ValidationError as error:
            field = self._columns.get(error.field, error.field) if error.field else None
            raise attrs.evolve(error, field=field) from None

    def column(self, name: str) -> str | None:
        """The column feeding core field ``name``, or ``None`` when it is not mapped."""
        return self._columns.get(name)

    def record_id(self, row: Sequence[str]) -> str | None:
        """The row's vendor id (see :meth:`FieldMapping.vendor_id`), or ``None``."""
        if self._id_index is None or self._id_index >= len(row):
            return None
        return row[self._id_index].strip() or None

    def raw(self, row: Sequence[str]) -> dict[str, str]:
        """The row as column -> value, for a :class:`RejectedRecord`; extra fields are named
        ``column N``."""
        raw = dict(zip(self.header, row, strict=False))
        for index in range(len(self.header), len(row)):
            raw[f"column {index + 1}"] = row[index]
        return raw


# --- the connector ---------------------------------------------------------------------------

_NAME = re.compile(r"[a-z][a-z0-9_-]*\Z")


class Connector(abc.ABC):
    """Base class of every connector: subclass it, set the class attributes, write
    :meth:`read_stream`, and register the class with the ``slacore_register_connectors`` hook.

    Class attributes:
        name: The registered name, lowercase (``"csv"``, ``"hubspot"``).
        description: One line for ``slacore connectors``.
        streams: The streams this connector can offer.
        settings_schema: The settings it understands (add :data:`MAPPING_SETTINGS` to let
            users map fields, values and time zones).
        default_fields: Per stream, the vendor's field names (core field -> vendor field);
            settings under ``fields`` override them.
        default_stage_values: Vendor stage names -> ``LeadStage`` keys, before settings.
        default_channel_values: Vendor activity names -> channels, before settings.

    Args:
        settings: The settings, checked against ``settings_schema``.

    Raises:
        ValidationError: The settings are invalid (unknown key, missing required, wrong
            kind, a field mapping naming an unknown core field).

    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    streams: ClassVar[tuple[Stream, ...]] = ()
    settings_schema: ClassVar[tuple[Setting, ...]] = ()
    default_fields: ClassVar[Mapping[str, Mapping[str, str | None]]] = {}
    default_stage_values: ClassVar[Mapping[str, str]] = {}
    default_channel_values: ClassVar[Mapping[str, str]] = {}

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        self.settings: Settings = Settings.validate(
            self.settings_schema, settings or {}, owner=self.name
        )
        fields = self.settings.get("fields") or {}
        for key, value in fields.items():
            try:
                stream: Stream | None = Stream.parse(key)
            except UnknownKeyError:
                stream = None
            if stream is None or stream not in self.streams:
                raise ValidationError(
                    message=f"{key!r} is not a stream of connector {self.name} "
                    f"(known: {', '.join(s.value for s in self.streams)})",
                    field=f"fields.{key}",
                )
            if not isinstance(value, Mapping):
                raise ValidationError(
                    message=f"expected a table of core field = vendor field, got {value!r}",
                    field=f"fields.{key}",
                )
        for stream in self.streams:
            self.mapping(stream)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.settings!r})"

    def available_streams(self) -> tuple[Stream, ...]:
        """The streams this instance can read now (by default all of :attr:`streams`)."""
        return self.streams

    def mapping(self, stream: Stream | str) -> FieldMapping:
        """The :class:`FieldMapping` of ``stream``: class defaults, then settings.

        Raises:
            ValidationError: The mapping settings are invalid.

        """
        stream = Stream.parse(stream)
        get = self.settings.get
        fields: dict[str, str | None] = dict(self.default_fields.get(stream.value, {}))
        for key, table in (get("fields") or {}).items():
            if Stream.parse(key) is stream:
                fields.update(table)
        stages = get("stages")
        return FieldMapping(
            stream=stream,
            fields=fields,
            stage_values={**self.default_stage_values, **(get("stage_values") or {})},
            channel_values={**self.default_channel_values, **(get("channel_values") or {})},
            stages=STANDARD_LADDER.keys if stages is None else stages,
            timezone=get("timezone"),
            time_formats=get("time_formats") or (),
        )

    def read(self, stream: Stream | str, cursor: Cursor | None = None) -> Iterator[Batch]:
        """Read ``stream`` from ``cursor`` (``None``: from the start), one batch at a time.

        Store each batch, then keep its cursor; the last batch's cursor is where the next
        run starts. A connector yields at least one batch, possibly empty, so the caller
        always gets a cursor.

        Raises:
            UnknownKeyError: This connector does not offer ``stream`` (now).
            ValidationError: ``cursor`` belongs to another stream; or the connector's own
                errors (a missing file, a missing column).

        """
        parsed = Stream.parse(stream)
        available = self.available_streams()
        if parsed not in available:
            raise UnknownKeyError(
                message=f"connector {self.name} does not offer {parsed} here",
                key=parsed.value,
                known=tuple(s.value for s in available),
            )
        if cursor is not None:
            if not isinstance(cursor, Cursor):
                raise ValidationError(
                    message=f"expected a Cursor, got {type(cursor).__name__}", field="cursor"
                )
            if cursor.stream is not parsed:
                raise ValidationError(
                    message=f"the cursor is for {cursor.stream}, not {parsed}", field="cursor"
                )
        return self.read_stream(parsed, cursor)

    @abc.abstractmethod
    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        """Yield the batches of ``stream`` after ``cursor``; called by :meth:`read`, which
        has checked the stream is offered and the cursor is the stream's."""

    @classmethod
    def check_class(cls) -> None:
        """Check the class attributes; :mod:`slacore.plugins` calls it at registration.

        Raises:
            ValidationError: The name is not lowercase letters, digits, ``_`` or ``-``, or a
                stream or setting is malformed.

        """
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValidationError(
                message=f"connector {cls.__qualname__}: name must be lowercase letters, digits, "
                f"'_' or '-', starting with a letter, got {name!r}",
                field="name",
            )
        if not cls.streams or not all(isinstance(s, Stream) for s in cls.streams):
            raise ValidationError(
                message=f"connector {name}: streams must be a non-empty tuple of Stream",
                field="streams",
            )
        if not all(isinstance(s, Setting) for s in cls.settings_schema):
            raise ValidationError(
                message=f"connector {name}: settings_schema must hold Setting objects",
                field="settings_schema",
            )
