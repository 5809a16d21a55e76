"""The one validating reader of slacore's TOML files: every problem at once, each with its key
path, its line and a "did you mean".

Private. The agreement file, the connector settings
(:meth:`slacore.connector.Settings.validate`) and the sync job file
(:class:`slacore_connectors.sync.JobConfig`) read with it. The pieces:

- :func:`read_toml` reads a file into its data and the line of every key (:mod:`tomllib` gives
  no positions), or raises one :class:`~slacore.errors.ValidationError` naming the file and
  line when the file cannot be read or is not TOML.
- :class:`Problems` collects what is wrong instead of raising at the first problem;
  :meth:`Problems.errors` turns them into :class:`~slacore.errors.ValidationError` objects with
  key path, file and line, in file order, for the caller's own error (``AgreementError``).
- :class:`Table` wraps one TOML table: typed getters (text, integer, money, rate, duration,
  date, choice, period, tables) record a problem and return a default instead of raising,
  remember each key asked for, and :meth:`Table.finish` reports every key nobody asked for,
  with the nearest known one suggested.

A reader of a new file is a function over a root :class:`Table`::

    problems = Problems()
    root = Table(data, (), problems)
    store = root.text("store", default="slacore.db")
    root.finish()
    if problems.found:
        raise MyError(errors=problems.errors(source=path, lines=lines))
"""

from __future__ import annotations

import difflib
import enum
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import attrs

from slacore._toml_lines import KeyLines, KeyPath, scan
from slacore._values import format_rate, to_money, to_rate
from slacore.calendar.duration import parse_duration
from slacore.calendar.periods import Period
from slacore.errors import ConfigError, UnknownKeyError, ValidationError

__all__ = [
    "MISSING",
    "Problems",
    "Table",
    "choices",
    "default_of",
    "key_path",
    "kind",
    "read_toml",
    "shown",
    "suggest",
]

T = TypeVar("T")


def default_of(cls: type[attrs.AttrsInstance], name: str) -> Any:
    """The default of field ``name`` of attrs class ``cls``.

    Readers take defaults from the class they build, so a default is stated once:

    >>> from slacore.rules.response import ResponseRule
    >>> default_of(ResponseRule, "name")
    'response'
    """
    return attrs.fields_dict(cls)[name].default


def choices(options: type[enum.Enum]) -> tuple[str, ...]:
    """The values of an enum, as a reader offers them: choices come from the enum.

    >>> from slacore.rules.response import Clock
    >>> choices(Clock)
    ('business', 'calendar')
    """
    return tuple(str(member.value) for member in options)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def key_path(path: Sequence[str | int]) -> str:
    """Write a key path the way a TOML reader looks for it.

    >>> key_path(("sales", "response", 0, "within"))
    'sales.response[0].within'
    >>> key_path(("marketing", "lead_value", "values", "web sales-ready"))
    'marketing.lead_value.values."web sales-ready"'
    """
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        name = part if _BARE_KEY.fullmatch(part) else '"' + part.replace('"', '\\"') + '"'
        text += f".{name}" if text else name
    return text


def kind(value: object) -> str:
    """What a TOML value is, with its article: ``"a string"``, ``"an array"``."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, datetime):
        return "a date-time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, time):
        return "a time"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "a table"
    return type(value).__name__


def shown(value: object) -> str:
    """A value as an error message shows it: ``"a string 'soon'"``; arrays and tables by kind."""
    if isinstance(value, list | tuple | Mapping):
        return kind(value)
    if isinstance(value, datetime | date | time):
        return f"{kind(value)} {value.isoformat()}"
    return f"{kind(value)} {value!r}"


def suggest(word: str, known: Iterable[str]) -> str:
    """``'; did you mean "within"?'`` for the known word nearest ``word``, else ``""``."""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


class Problems:
    """The problems found so far, each with its key path."""

    def __init__(self) -> None:
        self.found: list[tuple[KeyPath, str, object]] = []

    def add(self, path: KeyPath, message: str, value: object = None) -> None:
        if all((path, message) != (p, m) for p, m, _ in self.found):
            self.found.append((path, message, value))

    def error(self, path: KeyPath, error: ValidationError | UnknownKeyError) -> None:
        """Record an error a core object raised, under ``path`` (plus the error's own field)."""
        if isinstance(error, UnknownKeyError):
            self.add(path, error.message + suggest(error.key, error.known), error.key)
            return
        below: KeyPath = tuple(error.field.split(".")) if error.field else ()
        self.add((*path, *below), error.message, error.value)

    def attempt(self, path: KeyPath, build: Callable[[], T], *, own_field: bool = True) -> T | None:
        """``build()``, or ``None`` with its error recorded under ``path``.

        With ``own_field=False`` the error's own field is dropped (core objects that name
        fields in their own terms).
        """
        try:
            return build()
        except ValidationError as error:
            self.error(path, error if own_field else attrs.evolve(error, field=None))
        except UnknownKeyError as error:
            self.error(path, error)
        return None

    def errors(
        self, *, source: str | None = None, lines: KeyLines | None = None
    ) -> tuple[ValidationError, ...]:
        """The problems as errors with key path, file and line, in file order."""
        errors = [
            ValidationError(
                message=message,
                field=key_path(path) or None,
                value=value,
                file=source,
                line=None if lines is None else lines.line(path),
            )
            for path, message, value in self.found
        ]
        return tuple(sorted(errors, key=lambda e: e.line or 0))

    def raise_any(
        self, what: str, *, source: str | None = None, lines: KeyLines | None = None
    ) -> None:
        """Raise the problems found, if any: one as its own :class:`ValidationError`, several
        as one :class:`~slacore.errors.ConfigError` (``"3 problems in the job file"``)."""
        errors = self.errors(source=source, lines=lines)
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise ConfigError(
                message=f"{len(errors)} problems in {what}", file=source, errors=errors
            )


MISSING: Any = object()

MAX_COUNT = 1_000_000_000
"""The largest whole number a file may give (a count of leads, an order, a number of periods):
a billion. Counts times amounts must stay exact in Decimal's 28 digits."""


class Table:
    """A TOML table being read: typed getters that record problems instead of raising.

    Every getter registers its key as known, so :meth:`finish` can report the keys nobody
    asked for, with the nearest known one suggested.
    """

    def __init__(self, data: Mapping[str, Any], path: KeyPath, problems: Problems) -> None:
        self.data = data
        self.path = path
        self.problems = problems
        self.known: list[str] = []

    def at(self, *keys: str | int) -> KeyPath:
        return (*self.path, *keys)

    def problem(self, key: str | int | None, message: str, value: object = None) -> None:
        self.problems.add(self.path if key is None else self.at(key), message, value)

    def raw(self, key: str) -> Any:
        if key not in self.known:
            self.known.append(key)
        return self.data.get(key, MISSING)

    def has(self, key: str) -> bool:
        return self.raw(key) is not MISSING

    def finish(self) -> None:
        for key in self.data:
            if key not in self.known:
                hint = suggest(key, self.known)
                if not hint:
                    hint = f" (expected one of: {', '.join(self.known)})" if self.known else ""
                self.problem(key, f"unknown key{hint}", key)

    def _absent(self, key: str, expected: str, required: bool) -> None:
        if required:
            self.problem(key, f"missing; expected {expected}")

    def text(self, key: str, *, required: bool = False, default: str = "") -> str:
        value = self.raw(key)
        if value is MISSING:
            self._absent(key, "a string", required)
            return default
        if not isinstance(value, str) or (required and not value.strip()):
            self.problem(key, f"expected a non-empty string, got {shown(value)}", value)
            return default
        return value.strip()

    def texts(self, key: str, *, required: bool = False) -> tuple[str, ...]:
        value = self.raw(key)
        if value is MISSING:
            self._absent(key, "an array of strings", required)
            return ()
        if not isinstance(value, list):
            self.problem(key, f"expected an array of strings, got {shown(value)}", value)
            return ()
        if required and not value:
            self.problem(key, "expected at least one entry")
        result: list[str] = []
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                result.append(item.strip())
            else:
                self.problems.add(self.at(key, index), f"expected a string, got {shown(item)}")
        return tuple(result)

    def boolean(self, key: str, *, default: bool) -> bool:
        value = self.raw(key)
        if value is MISSING:
            return default
        if not isinstance(value, bool):
            self.problem(key, f"expected true or false, got {shown(value)}", value)
            return default
        return value

    def integer(
        self, key: str, *, minimum: int = 0, maximum: int = MAX_COUNT, required: bool = False
    ) -> int | None:
        value = self.raw(key)
        if value is MISSING:
            self._absent(key, f"a whole number >= {minimum}", required)
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(key, f"expected a whole number, got {shown(value)}", value)
            return None
        if value < minimum:
            self.problem(key, f"expected a whole number >= {minimum}, got {value}", value)
            return None
        if value > maximum:
            self.problem(key, f"expected a whole number <= {maximum:,}, got {value:,}", value)
            return None
        return value

    def money(
        self, key: str, *, required: bool = False, positive: bool = False, what: str = "an amount"
    ) -> Decimal | None:
        value = self.raw(key)
        if value is MISSING:
            self._absent(key, f"{what} like 5000", required)
            return None
        if not isinstance(value, int | float | str) or isinstance(value, bool):
            self.problem(key, f"expected {what} like 5000, got {shown(value)}", value)
            return None
        try:
            amount = to_money(value)
        except ValidationError as error:
            self.problem(key, error.message, value)
            return None
        if amount < 0:
            self.problem(key, f"must not be negative, got {amount}", value)
            return None
        if positive and amount == 0:
            self.problem(key, "must be greater than zero, got 0", value)
            return None
        return amount

    def rate(
        self, key: str, *, required: bool = False, above_zero: bool = False
    ) -> Fraction | None:
        value = self.raw(key)
        if value is MISSING:
            self._absent(key, 'a rate like 0.25 or "25%"', required)
            return None
        if not isinstance(value, int | float | str) or isinstance(value, bool):
            self.problem(key, f'expected a rate like 0.25 or "25%", got {shown(value)}', value)
            return None
        try:
            share = to_rate(value)
        except ValidationError as error:
            self.problem(key, error.message, value)
            return None
        if not 0 <= share <= 1:
            self.problem(key, f"expected a rate between 0 and 1, got {format_rate(share)}", value)
            return None
        if above_zero and share == 0:
            self.problem(key, "expected a rate above 0, got 0%", value)
            return None
        return share

    def duration(self, key: str, *, required: bool = False) -> timedelta | None:
        value = self.raw(key)
        if value is MISSING:
            self._absent(key, 'a duration like "1h"', required)
            return None
        try:
            return parse_duration(value)
        except ValidationError as error:
            self.problem(key, error.message, value)
            return None

    def day(self, key: str, *, required: bool = False) -> date | None:
        value = self.raw(key)
        if value is MISSING:
            self._absent(key, "a date like 2020-01-01", required)
            return None
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        elif isinstance(value, date) and not isinstance(value, datetime):
            return value
        self.problem(key, f"expected a date like 2020-01-01, got {shown(value)}", value)
        return None

    def moment(self, key: str) -> date | datetime | None:
        """A date, or an aware date-time; a naive date-time is an error."""
        value = self.raw(key)
        if value is MISSING:
            return None
        if isinstance(value, str):
            text = value.strip()
            try:
                value = (
                    date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
                )
            except ValueError:
                self.problem(
                    key, f"expected a date or a date-time with its offset, got {value!r}", value
                )
                return None
        if isinstance(value, datetime):
            if value.utcoffset() is None:
                self.problem(
                    key,
                    f"expected a timezone-aware date-time like {value.date()}T10:00:00-05:00, "
                    f"got naive {value.isoformat()}",
                    value,
                )
                return None
            return value
        if isinstance(value, date):
            return value
        self.problem(key, f"expected a date or a date-time, got {shown(value)}", value)
        return None

    def choice(self, key: str, options: Sequence[str], *, default: str) -> str:
        value = self.raw(key)
        if value is MISSING:
            return default
        if isinstance(value, str) and value.strip().lower() in options:
            return value.strip().lower()
        hint = suggest(value, options) if isinstance(value, str) else ""
        self.problem(key, f"expected one of {', '.join(options)}, got {shown(value)}{hint}", value)
        return default

    def period(self, key: str, *, default: Period | None = None) -> Period | None:
        value = self.raw(key)
        if value is MISSING:
            if default is None:
                self._absent(key, "a period: week, month, quarter or year", True)
            return default
        try:
            return Period.parse(value)
        except ValidationError as error:
            hint = suggest(value, [p.value for p in Period]) if isinstance(value, str) else ""
            self.problem(key, error.message + hint, value)
            return default

    def table(self, key: str, *, required: bool = False, why: str = "") -> Table | None:
        value = self.raw(key)
        if value is MISSING:
            if required:
                self.problem(key, f"missing section [{key_path(self.at(key))}]{why}")
            return None
        if not isinstance(value, Mapping):
            self.problem(key, f"expected a table, got {shown(value)}", value)
            return None
        return Table(value, self.at(key), self.problems)

    def tables(self, key: str, *, required: bool = False) -> list[Table]:
        """A table or an array of tables, as a list."""
        value = self.raw(key)
        if value is MISSING:
            if required:
                self.problem(key, f"missing section [{key_path(self.at(key))}]")
            return []
        if isinstance(value, Mapping):
            return [Table(value, self.at(key), self.problems)]
        if isinstance(value, list) and all(isinstance(item, Mapping) for item in value):
            return [Table(item, self.at(key, i), self.problems) for i, item in enumerate(value)]
        self.problem(key, f"expected a table or an array of tables, got {shown(value)}", value)
        return []

    def entries(self) -> list[tuple[str, Any]]:
        """Every key and value: for tables whose keys are names (sources, counts)."""
        for key in self.data:
            self.raw(key)
        return list(self.data.items())


def read_toml(path: str | os.PathLike[str]) -> tuple[dict[str, Any], KeyLines]:
    """Read a TOML file: its data and the line of each key path.

    Raises:
        ValidationError: The file cannot be read, is not UTF-8, or is not TOML; ``file`` names
            it and, for TOML syntax errors, ``line`` the line.

    """
    name = os.fspath(path)
    try:
        raw = Path(name).read_bytes()
    except OSError as error:
        raise ValidationError(
            message=f"cannot read the file: {error.strerror or error}", file=name
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValidationError(
            message=f"not UTF-8 text (byte {error.start})", file=name, line=None
        ) from None
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise ValidationError(
            message="not valid TOML: arrays or tables nested too deeply", file=name
        ) from None
    except tomllib.TOMLDecodeError as error:
        detail = str(error)
        found = re.search(r"\(at line (\d+), column \d+\)", detail)
        line = int(found.group(1)) if found else None
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", detail) or "invalid TOML"
        raise ValidationError(message=f"not valid TOML: {message}", file=name, line=line) from None
    return data, scan(text)
