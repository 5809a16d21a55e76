"""The connector contract: the class a connector implements to turn CRM records into core objects.

A connector is a subclass of :class:`Connector` with a ``name``, a settings schema (a tuple of
:class:`~slacore.connector.settings.Setting`), the record
:class:`~slacore.connector.streams.Stream` s it offers and a :meth:`Connector.read_stream` that,
given the :class:`~slacore.connector.streams.Cursor` of the last run (or ``None``), yields
:class:`~slacore.connector.streams.Batch` es of core objects, the records it could not map
(:class:`~slacore.connector.streams.RejectedRecord`) and the cursor after the batch. Memory
stays flat: a batch is yielded before the next one is read. A connector knows nothing of SLA
rules; how vendor fields become core fields is :mod:`slacore.connector.mapping`.

Plugins register connector classes with the ``slacore_register_connectors`` hook
(:mod:`slacore.hookspecs`); :mod:`slacore.plugins` finds them. The guide is
``docs/connectors.md``.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar

from slacore.connector.column_batch import ColumnBatch
from slacore.connector.mapping import FieldMapping
from slacore.connector.settings import Setting, Settings
from slacore.connector.streams import Batch, Cursor, Stream
from slacore.errors import UnknownKeyError, ValidationError
from slacore.model import STANDARD_LADDER

__all__ = ["Connector"]


_NAME = re.compile(r"[a-z][a-z0-9_-]*\Z")


class Connector(abc.ABC):
    """Base class of every connector: subclass it, set the class attributes, write
    :meth:`read_stream`, and register the class with the ``slacore_register_connectors`` hook.

    Attributes:
        name: The registered name, lowercase (``"csv"``, ``"hubspot"``).
        description: One line for ``slacore connectors``.
        streams: The streams this connector can offer.
        settings_schema: The settings it understands (add :data:`MAPPING_SETTINGS` to let
            users map fields, values and time zones).
        default_fields: Per stream, the vendor's field names (core field -> vendor field);
            settings under ``fields`` override them.
        default_stage_values: Vendor stage names -> ``LeadStage`` keys, before settings.
        default_channel_values: Vendor activity names -> channels, before settings.
        carries: Streams read together: for a stream, the streams whose records come from
            the same vendor records and are best read with it (a HubSpot contact gives a
            lead, its stage changes, its owner changes and its hand-offs). A sync reads
            them in one pass with :meth:`read` and ``carried=...``; read alone, each stream
            still works. A connector that declares any overrides :meth:`read_carried`.
        settings: The instance's checked settings (:class:`~slacore.connector.settings.Settings`),
            defaults filled in; secret ones are :class:`~slacore.connector.settings.Secret`.

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
    carries: ClassVar[Mapping[Stream, tuple[Stream, ...]]] = {}

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        self.settings: Settings = Settings.validate(
            self.settings_schema, settings or {}, owner=self.name
        )
        self.stream_table(
            "fields",
            expected="a table of core field = vendor field",
            accepts=lambda value: isinstance(value, Mapping),
        )
        for stream in self.streams:
            self.mapping(stream)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.settings!r})"

    def stream_table(
        self, name: str, *, expected: str, accepts: Callable[[Any], bool]
    ) -> list[tuple[Stream, Any]]:
        """The setting ``name``, a table keyed by stream name, checked: (stream, value) pairs.

        The pairs come in the table's order, none when the setting is not given. A key is a
        stream name as :meth:`~slacore.connector.streams.Stream.parse` reads it (``leads``,
        ``stage-changes``) and must be one of :attr:`streams`. The base class checks
        ``fields`` this way; the ``csv`` connector its ``files``.

        Args:
            name: A setting of kind ``table``.
            expected: What a value must be, for the error message (``"a file name"``).
            accepts: Whether a value is one.

        Raises:
            ValidationError: A key is not a stream of this connector (the message lists its
                streams), or ``accepts`` refuses a value; ``field`` is ``name.key``.

        """
        pairs: list[tuple[Stream, Any]] = []
        for key, value in (self.settings.get(name) or {}).items():
            try:
                stream: Stream | None = Stream.parse(key)
            except UnknownKeyError:
                stream = None
            if stream is None or stream not in self.streams:
                raise ValidationError(
                    message=f"{key!r} is not a stream of connector {self.name} "
                    f"(known: {', '.join(s.value for s in self.streams)})",
                    field=f"{name}.{key}",
                )
            if not accepts(value):
                raise ValidationError(
                    message=f"expected {expected}, got {value!r}", field=f"{name}.{key}"
                )
            pairs.append((stream, value))
        return pairs

    def activity(self) -> str | None:
        """A short line on the work behind the records read so far, for progress displays
        (``"381 API calls"``), or ``None`` (the default) when there is nothing to tell."""
        return None

    def available_streams(self) -> tuple[Stream, ...]:
        """The streams this instance can read now (by default all of :attr:`streams`)."""
        return self.streams

    def mapping(self, stream: Stream | str) -> FieldMapping:
        """The :class:`FieldMapping` of ``stream``: class defaults, then settings (and the
        ``decimal_mark`` setting, for a connector that offers one).

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
            decimal_mark=get("decimal_mark") or ".",
        )

    def read(
        self,
        stream: Stream | str,
        cursor: Cursor | None = None,
        *,
        carried: Iterable[Stream | str] = (),
    ) -> Iterator[Batch]:
        """Read ``stream`` from ``cursor`` (``None``: from the start), one batch at a time.

        Store each batch, then keep its cursor; the last batch's cursor is where the next
        run starts. A connector yields at least one batch, possibly empty, so the caller
        always gets a cursor.

        Args:
            stream: The stream to read.
            cursor: Where the last read of ``stream`` stopped.
            carried: Streams to read in the same pass, among those ``stream`` carries
                (:attr:`carries`): the batches yielded are then of ``stream`` and of these.
                The records of each step come carried streams first, ``stream`` last, so
                ``stream``'s cursor never passes records whose other batches are not yet
                stored; keep ``stream``'s cursor and read from it next time.

        Raises:
            UnknownKeyError: This connector does not offer ``stream`` (now), or ``stream``
                does not carry a stream of ``carried``.
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
        others = tuple(dict.fromkeys(Stream.parse(s) for s in carried))
        allowed = tuple(s for s in self.carries.get(parsed, ()) if s in available)
        for other in others:
            if other not in allowed:
                raise UnknownKeyError(
                    message=f"connector {self.name} does not read {other} with {parsed}",
                    key=other.value,
                    known=tuple(s.value for s in allowed),
                )
        if others:
            return self.read_carried(parsed, cursor, others)
        return self.read_stream(parsed, cursor)

    @classmethod
    def offers_columns(cls) -> bool:
        """Whether the connector has a column path: it overrides :meth:`read_columns`."""
        return cls.read_columns is not Connector.read_columns

    def read_as_columns(
        self, stream: Stream | str, cursor: Cursor | None = None
    ) -> Iterator[ColumnBatch]:
        """:meth:`read` on the column path: the same checks, then :meth:`read_columns`.

        Raises:
            NotImplementedError: The connector has no column path (:meth:`offers_columns`).
            UnknownKeyError: This connector does not offer ``stream`` (now).
            ValidationError: As for :meth:`read`.

        """
        if not self.offers_columns():
            raise NotImplementedError(f"connector {self.name} has no column path")
        parsed = Stream.parse(stream)
        self.read(parsed, cursor)  # its checks; a generator, not run
        return self.read_columns(parsed, cursor)

    def read_columns(self, stream: Stream, cursor: Cursor | None) -> Iterator[ColumnBatch]:
        """Yield :meth:`read_stream` 's batches as :class:`~slacore.connector.ColumnBatch`
        es: the same records (as Arrow columns), rejected records, notices and cursors,
        the batches aside. Optional: a connector that overrides it has a column path, which
        a sync uses when its store takes columns; called by :meth:`read_as_columns`.

        Raises:
            NotImplementedError: The connector has no column path.

        """
        raise NotImplementedError(f"connector {self.name} has no column path")

    def read_carried(
        self, stream: Stream, cursor: Cursor | None, carried: tuple[Stream, ...]
    ) -> Iterator[Batch]:
        """Yield the batches of ``stream`` and of the ``carried`` streams after ``cursor``;
        called by :meth:`read`, which has checked ``stream`` carries them (:attr:`carries`).

        A connector that declares :attr:`carries` overrides it. Yield each step's carried
        batches before ``stream``'s one, and give every batch a cursor of its own stream
        holding the same position, so that a carried stream read alone later starts where
        this read stopped.

        Raises:
            NotImplementedError: The connector declares no streams carried.

        """
        raise NotImplementedError(f"connector {self.name} carries no stream with {stream}")

    @abc.abstractmethod
    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        """Yield the batches of ``stream`` after ``cursor``; called by :meth:`read`, which
        has checked the stream is offered and the cursor is the stream's."""

    @classmethod
    def check_class(cls) -> None:
        """Check the class attributes; :mod:`slacore.plugins` calls it at registration.

        Raises:
            ValidationError: The name is not lowercase letters, digits, ``_`` or ``-``, a
                stream or setting is malformed, or two settings share a name.

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
        for carrier, carried in cls.carries.items():
            if (
                carrier not in cls.streams
                or not isinstance(carried, tuple)
                or not all(s in cls.streams and s is not carrier for s in carried)
            ):
                raise ValidationError(
                    message=f"connector {name}: carries must map a stream of streams to a "
                    f"tuple of its other streams, got {carrier!r}: {carried!r}",
                    field="carries",
                )
            if cls.read_carried is Connector.read_carried:
                raise ValidationError(
                    message=f"connector {name}: declares carries but does not override "
                    "read_carried",
                    field="carries",
                )
        names = [setting.name for setting in cls.settings_schema]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValidationError(
                message=f"connector {name}: settings_schema repeats {', '.join(repeated)}",
                field="settings_schema",
            )
