"""Tables of records as columns: the input of the rules' column path.

:meth:`ResponseRule.evaluate_columns <slacore.rules.response.ResponseRule.evaluate_columns>`
takes its hand-offs, touches, stage changes, owner changes and reps as tables, a column per
field of the record class, and never builds a record object per row. :func:`read_table` reads
one such table and checks it as the record classes check their fields.

A table is any of:

- a mapping of column name to a one-dimensional column: a numpy array, a list or tuple, a
  pandas ``Series``, a pyarrow ``Array`` or ``ChunkedArray``;
- a pandas ``DataFrame``;
- with pyarrow installed, a pyarrow ``Table`` or ``RecordBatch``, anything with a
  ``to_arrow()`` method that gives one (a polars ``DataFrame``), or anything that offers the
  Arrow C stream interface (``__arrow_c_stream__``).

Column names are the record class's field names (:func:`slacore.connector.core_fields`);
other columns are ignored, and an optional field's column may be absent (its default then).
Times must be aware: an Arrow ``timestamp`` with a time zone, a pandas ``datetime64[..., tz]``
column, or objects that are aware ``datetime`` values. A missing value (null, ``None``,
``NaN``) of an optional field is its default. Every other problem raises
:class:`~slacore.errors.ValidationError` naming the table, the column and the first bad row:
``handoffs.notified_at: row 3: expected a timezone-aware time, got naive 2026-03-02T09:00``.

numpy is imported by this module: ``import slacore`` does not load it, the column path does.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from slacore._arrow import INSTALL, optional_pyarrow
from slacore._column_values import (
    TimeColumn,
    _booleans,
    _error,
    _is_arrow,
    _is_pandas,
    _missing,
    _objects,
    _times,
    visible_starts,
)
from slacore._values import identifier
from slacore.connector.streams import Stream
from slacore.errors import ValidationError

__all__ = ["ArrowText", "Columns", "Distinct", "TimeColumn", "read_table"]

_TIME_FIELDS = frozenset({"at", "notified_at", "created_at", "opened_at", "closed_at"})
_BOOLEAN_FIELDS = frozenset({"hand_raiser", "won", "active"})


_LIST_AFTER = 1024
"""After this many values of an Arrow text column read one at a time, the column is turned
into a Python list whole: reading every result of a report costs a list per column, not an
Arrow scalar per value."""


@attrs.define(eq=False, slots=True)
class ArrowText:
    """A text column kept as Arrow: searched and encoded by Arrow's compute functions,
    turned into Python objects only when values are read.

    Attributes:
        array: The values, an Arrow ``string`` or ``large_string`` array (nulls: missing).
        converted: What the record class makes of each distinct value (a channel, a team),
            for a field it converts; empty for plain text.

    """

    array: Any
    converted: dict[str, Any] = attrs.field(factory=dict)
    _reads: int = attrs.field(default=0, init=False, repr=False)
    _list: list[Any] | None = attrs.field(default=None, init=False, repr=False)

    def value(self, row: int) -> Any:
        """The value at ``row``, as the record class holds it."""
        if self._list is not None:
            return self._list[row]
        self._reads += 1
        if self._reads > _LIST_AFTER:
            self._list = self.objects().tolist()
            return self._list[row]
        raw = self.array[row].as_py()
        return self.converted.get(raw, raw) if self.converted else raw

    def objects(self) -> np.ndarray[Any, Any]:
        """The whole column as an object array."""
        if self.converted:
            # A converted field holds a few distinct values (teams, channels): each is
            # converted once and spread by its code, with no Python string per row.
            import pyarrow.compute as pc

            encoded = pc.dictionary_encode(self.array)
            distinct = encoded.dictionary.to_pylist()
            made = [self.converted.get(raw, raw) for raw in distinct]
            made.append(None)  # a missing value
            codes = encoded.indices.fill_null(len(distinct)).to_numpy(zero_copy_only=False)
            lookup = np.empty(len(made), dtype=object)
            lookup[:] = made
            return lookup[codes]  # type: ignore[no-any-return]
        return self.array.to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]

    def raw(self, wanted: Collection[Any]) -> list[str]:
        """The stored strings that stand for one of ``wanted``."""
        if not self.converted:
            return [value for value in wanted if isinstance(value, str)]
        return [raw for raw, value in self.converted.items() if value in wanted]


@attrs.frozen(eq=False)
class Columns:
    """One table of records, read and checked: an array per field.

    The engine asks for columns through the methods below, which answer with numpy arrays
    whatever the table held: text given as Arrow stays Arrow (encoded and searched by Arrow),
    text given as Python objects is searched with dictionaries.

    Attributes:
        name: The table's name in errors (``"handoffs"``).
        stream: The kind of record each row is.
        rows: How many rows.
        values: The fields that are not times, by name: object arrays (text, ``None`` for
            missing; teams and channels as :class:`~slacore.model.Team` and
            :class:`~slacore.model.Channel`), ``bool`` arrays, or :class:`ArrowText`.
        times: The time fields, by name.

    """

    name: str
    stream: Stream
    rows: int
    values: dict[str, np.ndarray[Any, Any] | ArrowText]
    times: dict[str, TimeColumn]

    def column(self, field: str) -> np.ndarray[Any, Any]:
        """The column of ``field`` as a numpy array, or the field's default on every row
        when it was absent."""
        found = self.values.get(field)
        if isinstance(found, ArrowText):
            return found.objects()
        if found is not None:
            return found
        default = attrs.fields_dict(self.stream.record_type)[field].default
        if isinstance(default, bool):
            return np.full(self.rows, default, dtype=bool)
        filled = np.empty(self.rows, dtype=object)
        filled.fill(default)
        return filled

    def value(self, field: str, row: int) -> Any:
        """The value of ``field`` at ``row`` as the record class holds it."""
        found = self.values[field]
        if isinstance(found, ArrowText):
            return found.value(row)
        value = found[row]
        return bool(value) if found.dtype == bool else value

    def values_at(self, field: str, rows: np.ndarray[Any, np.dtype[np.int64]]) -> list[Any]:
        """The values of ``field`` at ``rows``, as :meth:`value` gives each: text kept as
        Arrow is taken at those rows only, not turned into Python objects whole."""
        found = self.values[field]
        if isinstance(found, ArrowText):
            raw = found.array.take(rows).to_pylist()
            return [found.converted.get(v, v) for v in raw] if found.converted else raw
        value = self.value
        return [value(field, row) for row in rows.tolist()]

    def isin(self, field: str, wanted: Collection[Any]) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Whether each row's ``field`` is one of ``wanted`` (a missing value never is)."""
        found = self.values.get(field)
        if isinstance(found, ArrowText):
            import pyarrow as pa
            import pyarrow.compute as pc

            kept = pa.array(found.raw(wanted), type=found.array.type)
            flags = pc.is_in(found.array, value_set=kept).fill_null(False)
            return flags.to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]
        items = self.column(field).tolist()
        answer = {value: value in wanted for value in dict.fromkeys(items)}
        return np.fromiter(map(answer.__getitem__, items), dtype=bool, count=len(items))

    def codes(
        self,
        field: str,
        known: Sequence[str],
        where: np.ndarray[Any, np.dtype[np.bool_]] | None = None,
    ) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Each row's position of ``field`` in ``known`` (distinct texts), -1 for none; with
        ``where``, only the rows it flags are looked up (the others: -1), so that a column
        of millions of ids is hashed only where the caller needs it."""
        if where is not None:
            rows = np.flatnonzero(where)
            if len(rows) < len(where):
                found = np.full(len(where), -1, dtype=np.int64)
                if len(rows):
                    found[rows] = self._codes(field, known, rows)
                return found
        return self._codes(field, known, None)

    def _codes(
        self,
        field: str,
        known: Sequence[str],
        rows: np.ndarray[Any, np.dtype[np.int64]] | None,
    ) -> np.ndarray[Any, np.dtype[np.int64]]:
        """:meth:`codes` of every row, or of ``rows`` only (in their order)."""
        found = self.values.get(field)
        if isinstance(found, ArrowText) and not found.converted:
            import pyarrow as pa
            import pyarrow.compute as pc

            kind = found.array.type
            if isinstance(known, Distinct) and known.arrow is not None:
                value_set = known.arrow
                if value_set.type != kind:
                    value_set = value_set.cast(kind)
            else:
                value_set = pa.array(list(known), type=kind)
            texts = found.array if rows is None else found.array.take(rows)
            places = pc.index_in(texts, value_set=value_set)
            return places.fill_null(-1).to_numpy().astype(np.int64)  # type: ignore[no-any-return]
        code_of = dict(zip(known, range(len(known)), strict=True))
        column = self.column(field)
        items = (column if rows is None else column[rows]).tolist()
        return np.fromiter(
            map(code_of.get, items, [-1] * len(items)), dtype=np.int64, count=len(items)
        )

    def factorize(
        self, field: str, rows: np.ndarray[Any, np.dtype[np.int64]]
    ) -> tuple[np.ndarray[Any, np.dtype[np.int64]], Distinct]:
        """Integer codes of ``field`` at ``rows`` and the distinct values they stand for
        (``None`` for a missing value), in order of first appearance."""
        found = self.values.get(field)
        if isinstance(found, ArrowText):
            import pyarrow.compute as pc

            every = len(rows) == self.rows and bool((rows == np.arange(self.rows)).all())
            texts = found.array if every else found.array.take(rows)  # no copy of every row
            encoded = pc.dictionary_encode(texts, null_encoding="encode")
            distinct = Distinct(arrow=encoded.dictionary, converted=found.converted)
            return encoded.indices.to_numpy().astype(np.int64), distinct
        values = self.column(field)[rows].tolist()
        seen = list(dict.fromkeys(values))
        code_of = dict(zip(seen, range(len(seen)), strict=True))
        codes = np.fromiter(map(code_of.__getitem__, values), dtype=np.int64, count=len(values))
        return codes, Distinct(seen)


class Distinct(Sequence[Any]):
    """The distinct values of a column, as :meth:`Columns.factorize` finds them: a Python
    list, or an Arrow array turned into one only when read (a million lead ids are searched
    for in other tables as Arrow, never made Python strings)."""

    __slots__ = ("_converted", "_list", "arrow")

    def __init__(
        self,
        values: list[Any] | None = None,
        *,
        arrow: Any = None,
        converted: dict[str, Any] | None = None,
    ) -> None:
        self.arrow = arrow
        self._list = values
        self._converted = converted or {}

    def _values(self) -> list[Any]:
        if self._list is None:
            raw = self.arrow.to_pylist()
            convert = self._converted
            self._list = [convert.get(v, v) for v in raw] if convert else raw
        return self._list

    def __len__(self) -> int:
        return len(self.arrow) if self._list is None else len(self._list)

    def __getitem__(self, index: Any) -> Any:
        return self._values()[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values())


def _raw_columns(table: object, name: str) -> Mapping[str, Any]:
    """The table's columns by name, from any of the table kinds :func:`read_table` takes."""
    if isinstance(table, Mapping):
        return table
    columns = getattr(table, "columns", None)
    if columns is not None and hasattr(table, "iloc"):  # a pandas DataFrame
        return {str(label): table[label] for label in columns}  # type: ignore[index]
    if hasattr(table, "column_names") and hasattr(table, "column"):  # pyarrow
        return {label: table.column(label) for label in table.column_names}
    to_arrow = getattr(table, "to_arrow", None)
    if callable(to_arrow):  # polars
        return _raw_columns(to_arrow(), name)
    if hasattr(table, "__arrow_c_stream__"):
        pa = optional_pyarrow()
        if pa is None:
            raise ValidationError(message=f"an Arrow stream needs pyarrow: {INSTALL}", field=name)
        return _raw_columns(pa.table(table), name)
    raise ValidationError(
        message=(
            f"expected a table (a mapping of column name to array, a pandas or polars "
            f"DataFrame, an Arrow table), got {type(table).__name__}"
        ),
        field=name,
    )


def _text(
    array: np.ndarray[Any, Any],
    table: str,
    name: str,
    *,
    required: bool,
    check: Callable[[Any], Any] | None,
) -> np.ndarray[Any, Any]:
    """A text column as an object array, ``None`` for missing values, each distinct value
    checked (or converted) once by ``check``."""
    if array.dtype.kind in "US":
        array = array.astype(object)
    elif array.dtype != object:
        _error(table, name, 0, f"expected text, got a column of {array.dtype}")
    values = array.tolist()
    if all(issubclass(kind, str) for kind in set(map(type, values))):
        # Text only, the common case: an id needs no look at each distinct value, only a
        # test for blanks over the whole column (in C).
        if check is None:
            return array
        if isinstance(check, _Identifier) and not ("" in values or any(map(str.isspace, values))):
            return array
    try:
        distinct = dict.fromkeys(values)
    except TypeError:  # an unhashable value: no text
        for row, value in enumerate(values):
            if not isinstance(value, str | int | float | type(None)):
                _error(table, name, row, f"expected text, got {type(value).__name__}", value)
        raise
    changed: dict[Any, Any] = {}
    for value in distinct:
        if _missing(value):
            if required:
                _error(table, name, values.index(value), "a value is required, got none", value)
            changed[value] = None
            continue
        if check is None:
            continue
        try:
            result = check(value)
        except ValidationError as error:
            _error(table, name, values.index(value), error.message, value)
        if result is not value:
            changed[value] = result
    if not changed:
        return array
    out = np.empty(len(values), dtype=object)
    out[:] = list(map(changed.get, values, values))
    return out


_ARROW_TEXT = ("string", "large_string", "string_view", "large_utf8", "utf8")


_ARROW_FROM = 4096
"""From this many rows, a column of Python strings is handed to Arrow (when pyarrow is
installed), whose checks and hashing run in C: below it, Arrow's fixed cost per call is more
than a Python loop's. (Python datetimes are not: Arrow converts them no faster than Python.)"""


def _as_arrow(column: object) -> Any:
    """``column`` as an Arrow array when it is one, or a column of text that pyarrow reads
    as text (a pandas column, or a long enough list or object array); else ``None``."""
    if _is_arrow(column):
        return column
    if _is_pandas(column):
        dtype = getattr(column, "dtype", None)
        if dtype is None or dtype.kind not in "OU":
            return None
    elif isinstance(column, np.ndarray):
        # Fixed-width text is converted by Arrow in C, however short; Python strings from
        # _ARROW_FROM rows on.
        if column.ndim != 1 or not (
            column.dtype.kind == "U" or (column.dtype == object and len(column) >= _ARROW_FROM)
        ):
            return None
    elif not isinstance(column, list | tuple) or len(column) < _ARROW_FROM:
        return None
    pa = optional_pyarrow()
    if pa is None:  # pragma: no cover - the tests run with pyarrow
        return None
    try:
        return pa.array(column, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None  # not all text: read as objects, which names the bad row


def _arrow_text(
    column: object,
    table: str,
    name: str,
    required: bool,
    check: Callable[[Any], Any] | None,
) -> ArrowText | None:
    """A text column given as Arrow (or as a pandas column pyarrow reads as text), checked
    with Arrow's compute functions; ``None`` for any other column."""
    column = _as_arrow(column)
    if column is None:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    array: Any = column
    if hasattr(array, "combine_chunks"):
        # One chunk is taken as it is: combining copies even one (a second copy of every
        # text column of a million-row table).
        array = array.chunk(0) if array.num_chunks == 1 else array.combine_chunks()
    kind = array.type
    if pa.types.is_dictionary(kind):
        array = array.cast(kind.value_type)
        kind = array.type
    if str(kind) not in _ARROW_TEXT:
        if pa.types.is_null(kind) and not required:
            array = pa.nulls(len(array), pa.large_string())
        else:
            return None
    if str(kind) == "string_view":
        array = array.cast(pa.large_string())
    if required and array.null_count:
        row = array.is_null().to_numpy(zero_copy_only=False).argmax()
        _error(table, name, int(row), "a value is required, got none")
    if isinstance(check, _Identifier):
        if visible_starts(array):  # no value blank, proven in one numpy pass
            return ArrowText(array)
        blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(array)), 0).fill_null(False)
        if pc.any(blank).as_py():
            row = int(blank.to_numpy(zero_copy_only=False).argmax())
            value = array[row].as_py()
            _error(table, name, row, f"expected a non-empty string, got {value!r}", value)
        return ArrowText(array)
    converted: dict[str, Any] = {}
    if check is not None:
        for raw in pc.unique(array).drop_null().to_pylist():
            try:
                converted[raw] = check(raw)
            except ValidationError as error:
                row = pc.index(array, raw).as_py()
                _error(table, name, row, error.message, raw)
    return ArrowText(array, converted)


@attrs.frozen
class _Identifier:
    """The record class's check of a non-empty id, on one value."""

    field: attrs.Attribute[Any]

    def __call__(self, value: Any) -> Any:
        identifier(None, self.field, value)
        return value


def _checker(field: attrs.Attribute[Any]) -> Callable[[Any], Any] | None:
    """What checks (or converts) one value of a text ``field``, as the record class does."""
    if field.converter is not None:
        convert: Callable[[Any], Any] = field.converter  # type: ignore[assignment]
        return convert
    validators = getattr(field.validator, "_validators", (field.validator,))
    return _Identifier(field) if identifier in validators else None


def read_table(table: object, stream: Stream | str, *, name: str | None = None) -> Columns:
    """Read ``table`` as records of ``stream``, a column per field, checked.

    Args:
        table: The table (see the module's introduction for the kinds taken).
        stream: The kind of record a row is (``"handoffs"``, ``Stream.TOUCHES``...).
        name: The table's name in errors; default the stream's name.

    Returns:
        The table's :class:`Columns`.

    Raises:
        ValidationError: Not a table, a required column missing, columns of different
            lengths, a naive time column, a value of the wrong type or a bad value (named by
            table, column and row).

    """
    kind = Stream.parse(stream)
    label = name or kind.value
    record_type = kind.record_type
    raw = _raw_columns(table, label)
    rows: int | None = None
    values: dict[str, np.ndarray[Any, Any] | ArrowText] = {}
    times: dict[str, TimeColumn] = {}
    for field in attrs.fields(record_type):
        required = field.default is attrs.NOTHING
        if field.name not in raw:
            if required:
                _error(
                    label,
                    field.name,
                    None,
                    f"the table has no column {field.name!r} (it has {sorted(map(str, raw))})",
                )
            continue
        column = raw[field.name]
        if field.name in _TIME_FIELDS:
            times[field.name] = found = _times(column, label, field.name, required=required)
            size = len(found.us)
        elif field.name not in _BOOLEAN_FIELDS and (
            text := _arrow_text(column, label, field.name, required, _checker(field))
        ):
            values[field.name] = text
            size = len(text.array)
        else:
            array = _objects(column, label, field.name)
            if field.name in _BOOLEAN_FIELDS:
                values[field.name] = _booleans(array, label, field.name)
            else:
                values[field.name] = _text(
                    array, label, field.name, required=required,
                    check=_checker(field),
                )  # fmt: skip
            size = len(array)
        if rows is None:
            rows = size
        elif size != rows:
            _error(label, field.name, None, f"has {size} rows, the columns before it {rows}")
    result = Columns(name=label, stream=kind, rows=rows or 0, values=values, times=times)
    if "from_team" in values or "to_team" in values:
        same = np.flatnonzero(result.column("from_team") == result.column("to_team"))
        if len(same):
            team = result.column("to_team")[same[0]]
            _error(
                label,
                "to_team",
                int(same[0]),
                f"a hand-off goes from one team to the other, got {team} to {team}",
            )
    return result
