"""Results as Arrow tables: the shared helpers behind every ``to_arrow()`` and ``to_pandas()``.

pyarrow is optional (``pip install 'slacore[arrow]'``) and pandas is the user's own: both are
imported when a table is first asked for, never by ``import slacore``.

The column types, the same in every table:

- times: ``timestamp[us, tz=UTC]`` (the instant; the zone a result was given in is not kept);
- durations: ``duration[us]``;
- money and other exact amounts: ``decimal128(38, s)``, ``s`` the most decimal places any value
  of the column has, so that every Decimal converts exactly (``decimal256`` in the rare case
  that 38 digits do not hold the column);
- shares (compliance, targets): ``float64``, 0 to 1;
- statuses and other names from a fixed set: ``dictionary<int8, string>`` whose dictionary is
  the whole set in its order, so a pandas category lists every status, present or not;
- counts: ``int64``; flags: ``bool``; days: ``date32``; ids and names: ``string``.

Missing values are nulls. ``to_pandas()`` keeps them typed: times and durations ``NaT``,
money ``None`` in an ``object`` column of Decimals, counts the nullable ``Int64`` and flags
the nullable ``boolean`` dtype.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from types import ModuleType
from typing import Any, TypeVar

__all__ = [
    "INSTALL",
    "Column",
    "TableResult",
    "categories",
    "compute",
    "days",
    "decimals",
    "durations",
    "flags",
    "integers",
    "pandas_of",
    "pyarrow",
    "records_table",
    "shares",
    "sparse_timestamps",
    "string_lists",
    "strings",
    "table",
    "timestamps",
]

INSTALL = "pip install 'slacore[arrow]'"
"""The command that installs what ``to_arrow()`` needs."""

_Item = TypeVar("_Item")


def pyarrow() -> ModuleType:
    """The ``pyarrow`` module, imported on first use.

    Raises:
        ModuleNotFoundError: pyarrow is not installed; the message names the command that
            installs it.

    """
    pa = optional_pyarrow()
    if pa is None:
        raise ModuleNotFoundError(
            f"Arrow tables of results need pyarrow, which is not installed: {INSTALL}",
            name="pyarrow",
        )
    return pa


def optional_pyarrow() -> ModuleType | None:
    """The ``pyarrow`` module, or ``None`` when it is not installed: for the paths that use
    Arrow when it is there and do without it otherwise."""
    try:
        return importlib.import_module("pyarrow")
    except ModuleNotFoundError as error:
        if error.name != "pyarrow":  # pyarrow is there, but something it needs is not
            raise
        return None


def pandas_of(table: Any) -> Any:
    """``table`` (a ``pyarrow.Table``) as a pandas ``DataFrame``, with the dtypes the module
    docstring lists.

    Raises:
        ModuleNotFoundError: pandas is not installed (``pip install pandas``).

    """
    try:
        pd = importlib.import_module("pandas")
    except ModuleNotFoundError as error:
        if error.name != "pandas":
            raise
        raise ModuleNotFoundError(
            "to_pandas() needs pandas, which is not installed: pip install pandas",
            name="pandas",
        ) from None
    pa = pyarrow()
    nullable = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
    return table.to_pandas(types_mapper=nullable.get)


class TableResult:
    """A result that is a table: ``to_pandas()`` from its ``to_arrow()``.

    A mixin for the frozen, slotted result classes (it has no slots of its own).
    """

    __slots__ = ()

    def to_arrow(self) -> Any:
        """The result as a ``pyarrow.Table``."""
        raise NotImplementedError

    def to_pandas(self) -> Any:
        """The result as a pandas ``DataFrame``: :meth:`to_arrow`, converted (see
        :mod:`slacore._arrow` for the dtypes).

        Raises:
            ModuleNotFoundError: pyarrow or pandas is not installed.

        """
        return pandas_of(self.to_arrow())


# --- column kinds -----------------------------------------------------------------------
# Each turns a list of Python values (None for missing) into an Arrow array.


def strings(values: Sequence[str | None]) -> Any:
    """A ``string`` array."""
    return pyarrow().array(values, type=pyarrow().string())


def integers(values: Sequence[int | None]) -> Any:
    """An ``int64`` array."""
    return pyarrow().array(values, type=pyarrow().int64())


def flags(values: Sequence[bool | None]) -> Any:
    """A ``bool`` array."""
    return pyarrow().array(values, type=pyarrow().bool_())


def days(values: Sequence[date | None]) -> Any:
    """A ``date32`` array."""
    return pyarrow().array(values, type=pyarrow().date32())


def timestamps(values: Sequence[datetime | None]) -> Any:
    """A ``timestamp[us, tz=UTC]`` array of aware times (their instants)."""
    pa = pyarrow()
    # Left to infer the type, pyarrow stores each time's instant and names the first one's
    # zone; the cast to UTC then renames the zone only. Twice as fast as asking for UTC,
    # which converts each time again.
    return pa.array(values).cast(pa.timestamp("us", tz="UTC"))


def sparse_timestamps(values: Mapping[int, datetime], size: int) -> Any:
    """A ``timestamp[us, tz=UTC]`` array of ``size`` rows, null but at the positions of
    ``values``."""
    pa = pyarrow()
    if not values:
        return pa.nulls(size, pa.timestamp("us", tz="UTC"))
    column: list[datetime | None] = [None] * size
    for position, at in values.items():
        column[position] = at
    return timestamps(column)


def durations(values: Sequence[timedelta | None]) -> Any:
    """A ``duration[us]`` array."""
    pa = pyarrow()
    return pa.array(values, type=pa.duration("us"))


def shares(values: Sequence[Fraction | Decimal | float | None]) -> Any:
    """A ``float64`` array of shares (0 to 1)."""
    pa = pyarrow()
    return pa.array([None if v is None else float(v) for v in values], type=pa.float64())


def decimals(values: Sequence[Decimal | int | None]) -> Any:
    """A decimal array holding every value exactly: ``decimal128(38, s)`` with ``s`` the
    most places any value has, or ``decimal256(76, s)`` when 38 digits do not hold them."""
    pa = pyarrow()
    scale, whole = 0, 1
    exact: list[Decimal | None] = []
    for value in values:
        if value is None:
            exact.append(None)
            continue
        amount = Decimal(value)
        _, digits, exponent = amount.as_tuple()
        assert isinstance(exponent, int), f"not a finite amount: {amount}"
        scale = max(scale, -exponent)
        whole = max(whole, len(digits) + exponent)
        exact.append(amount)
    kind = pa.decimal128(38, scale) if whole + scale <= 38 else pa.decimal256(76, scale)
    return pa.array(exact, type=kind)


def categories(values: Sequence[Enum | str | None], choices: Iterable[Enum | str]) -> Any:
    """A ``dictionary<int8, string>`` array whose dictionary is ``choices``, in order (every
    value must be one of them)."""
    pa = pyarrow()
    names = [str(c) for c in choices]
    # A member of a string enum is its own key: it hashes and compares as its value.
    code: dict[Enum | str | None, int | None] = {name: index for index, name in enumerate(names)}
    code[None] = None
    indices = [code[v] for v in values]
    return pa.DictionaryArray.from_arrays(
        pa.array(indices, type=pa.int8()), pa.array(names, type=pa.string())
    )


def string_lists(values: Sequence[Sequence[str]]) -> Any:
    """A ``list<string>`` array."""
    pa = pyarrow()
    return pa.array([list(v) for v in values], type=pa.list_(pa.string()))


Column = tuple[str, Callable[[list[Any]], Any], Callable[[Any], Any]]
"""A table column: its name, its kind (one of this module's array makers, taking the list of
values) and how to read its value from an item."""


def records_table(items: Iterable[_Item], columns: Sequence[Column]) -> Any:
    """A ``pyarrow.Table`` with a row per item and the given columns.

    Args:
        items: The rows (result objects).
        columns: ``(name, kind, read)`` per column: ``kind`` one of the array makers here
            (:func:`strings`, :func:`decimals`, ...), ``read`` what to take from an item.

    Raises:
        ModuleNotFoundError: pyarrow is not installed.

    """
    rows = list(items)
    return table({name: kind([read(item) for item in rows]) for name, kind, read in columns})


def table(arrays: Mapping[str, Any]) -> Any:
    """A ``pyarrow.Table`` of named arrays, in order."""
    return pyarrow().table(dict(arrays))


def compute() -> ModuleType:
    """``pyarrow.compute``, imported on first use (see :func:`pyarrow`)."""
    pyarrow()
    return importlib.import_module("pyarrow.compute")
