"""Connector settings: a schema of :class:`Setting` s, checked into a read-only :class:`Settings`.

A connector declares the settings it understands (``settings_schema``); the settings a user
gives (a TOML table, a dict) are checked against it when the connector is built. Secret
settings (tokens, passwords) are kept as :class:`Secret`, never shown.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from slacore._config import Problems, suggest
from slacore.connector._converters import parse_boolean
from slacore.errors import ValidationError

__all__ = ["Secret", "Setting", "SettingKind", "Settings"]


@attrs.frozen(repr=False)
class Secret:
    """A secret setting (a token, a password): never shown by ``repr``, ``str`` or logging.

    Call :meth:`reveal` where the value is really needed, e.g. in a request header.

    Examples:
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
            try:
                return parse_boolean(value)
            except ValueError:
                raise bad("true or false") from None
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
            ValidationError: A key is unknown (the message lists the known ones and suggests
                the nearest), a required setting is missing, or a value is of the wrong kind;
                a :class:`~slacore.errors.ConfigError` (a ``ValidationError`` too) lists every
                problem when there are several. Each names its setting in ``field``.

        """
        if isinstance(raw, Settings):
            raw = raw._values
        if not isinstance(raw, Mapping):
            raise ValidationError(
                message=f"settings must be a table (mapping), got {type(raw).__name__}"
            )
        by_name = {setting.name: setting for setting in schema}
        where = f" of connector {owner}" if owner else ""
        problems = Problems()
        for key in raw:
            if key not in by_name:
                known = ", ".join(sorted(by_name)) or "none"
                hint = suggest(str(key), by_name)
                # The value is left out: an unknown key may be a misspelt secret.
                problems.add((str(key),), f"unknown setting {key!r}{where} (known: {known}){hint}")
        values: dict[str, Any] = {}
        for name, setting in by_name.items():
            if name in raw and raw[name] is not None:
                try:
                    values[name] = setting.convert(raw[name], owner=owner)
                except ValidationError as error:
                    problems.error((), error)
            elif setting.required:
                problems.add(
                    (name,),
                    f"setting {name!r}{where} is required"
                    + (f": {setting.help}" if setting.help else ""),
                )
            else:
                values[name] = setting.default
        problems.raise_any(f"the settings{where}")
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
