"""Mapping vendor records onto core objects: data, not code.

A :class:`FieldMapping` says which vendor field or column feeds each core field (see
:func:`core_fields`), which vendor stage and channel names mean which ``LeadStage`` key and
``Channel``, in which time zone naive vendor timestamps are, and which time formats to accept
(:func:`parse_time`). A connector offers the :data:`MAPPING_SETTINGS` to let its users change
the mapping; :meth:`~slacore.connector.contract.Connector.mapping` builds it.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, TypeAlias
from zoneinfo import ZoneInfo

import attrs

from slacore._values import DECIMAL_MARKS
from slacore.connector._converters import (
    _SPECIAL_FORMATS,
    _boolean,
    _money_converter,
    _norm,
    _text,
    _time_converter,
    _value_map,
)
from slacore.connector.settings import Setting, SettingKind, _strings, _zone
from slacore.connector.streams import Record, RejectedRecord, Stream, _stream
from slacore.errors import MissingColumnsError, ValidationError
from slacore.model import STANDARD_LADDER, Channel, id_field, id_is_key

__all__ = [
    "MAPPING_SETTINGS",
    "CoreField",
    "FieldMapping",
    "RowMapper",
    "core_fields",
    "parse_time",
]


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

    Examples:
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

    Examples:
        >>> parse_time("2026-01-05T09:30:00Z")
        datetime.datetime(2026, 1, 5, 9, 30, tzinfo=datetime.timezone.utc)
        >>> parse_time("05.01.2026 09:30", formats=["%d.%m.%Y %H:%M"], timezone=ZoneInfo("UTC"))
        datetime.datetime(2026, 1, 5, 9, 30, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
        >>> parse_time(1767605400000, formats=["unix_ms"])
        datetime.datetime(2026, 1, 5, 9, 30, tzinfo=datetime.timezone.utc)

    """
    return _time_converter(tuple(formats), timezone)(value)


_Slot: TypeAlias = tuple[str, str, Callable[[object], object] | None, bool]


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
        decimal_mark: The decimal mark of amounts written as text: ``"."`` (the default,
            ``1,234.56``) or ``","`` (``1.234,56``).

    Raises:
        ValidationError: ``fields`` names a field the core class does not have, a value map
            points to an unknown stage or channel, the time zone is unknown, or the decimal
            mark is neither ``"."`` nor ``","``.

    Examples:
        >>> mapping = FieldMapping(
        ...     stream="leads",
        ...     fields={"id": "Lead ID", "created_at": "Created", "stage": "Status"},
        ...     stage_values={"Marketing Qualified": "mql"},
        ...     timezone="Europe/Berlin",
        ... )
        >>> vendor = {
        ...     "Lead ID": "L-1", "Created": "2026-01-05 09:30", "Status": "marketing qualified"
        ... }
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
    decimal_mark: str = attrs.field(default=".")

    @decimal_mark.validator
    def _check_decimal_mark(self, attribute: attrs.Attribute[str], value: str) -> None:
        if value not in DECIMAL_MARKS:
            raise ValidationError(
                message=f'expected "." or ",", got {value!r}', field="decimal_mark", value=value
            )

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
            _Kind.MONEY.value: _money_converter(self.decimal_mark),
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
        """The vendor id of a record, as text, or ``None`` when it has none: the value of the
        core field that names a record (:func:`~slacore.model.id_field`: ``id`` for leads,
        deals and reps, ``lead_id`` for the others)."""
        column = self.columns().get(id_field(self.stream.record_type))
        value = None if column is None else _lookup(record, column)
        return None if value is None or value == "" else str(value).strip()

    def map_many(
        self, records: Iterable[Mapping[str, Any]], *, source: str | None = None
    ) -> tuple[list[Record], list[RejectedRecord]]:
        """Map vendor records, keeping the ones that fail as :class:`RejectedRecord`.

        Where the id is the whole natural key (:func:`~slacore.model.id_is_key`: leads, deals
        and reps) a second record with an id already seen in this call is rejected as a
        duplicate. Memory grows with ``records``: call it once per page.
        """
        mapped: list[Record] = []
        rejected: list[RejectedRecord] = []
        seen: dict[str, int] = {}
        unique = id_is_key(self.stream.record_type)
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
                            field=self.columns()[id_field(self.stream.record_type)],
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
        return self.stream.record_type

    @_columns.default
    def _columns_default(self) -> dict[str, str]:
        return {name: column for name, _, column, _, _ in self.slots}

    @_id_index.default
    def _id_index_default(self) -> int | None:
        wanted = id_field(self.stream.record_type)
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
