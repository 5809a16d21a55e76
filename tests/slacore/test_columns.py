"""Reading tables as columns: every bad input is one ValidationError naming table, column
and row."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from slacore.columns import read_table
from slacore.errors import ValidationError
from slacore.model import Channel, Team

AT = datetime(2026, 3, 2, 14, tzinfo=UTC)


def handoffs(**changes: Any) -> dict[str, Any]:
    table: dict[str, Any] = {
        "lead_id": ["L1", "L2"],
        "notified_at": [AT, AT],
        "stage": ["mql", "mql"],
    }
    table.update(changes)
    return {k: v for k, v in table.items() if v is not None}


def fails(table: Any, stream: str = "handoffs") -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        read_table(table, stream)
    return caught.value


def test_defaults_fill_absent_optional_columns() -> None:
    columns = read_table(handoffs(), "handoffs")
    assert columns.rows == 2
    assert columns.column("to_team").tolist() == [Team.SALES, Team.SALES]
    assert columns.column("hand_raiser").tolist() == [False, False]
    assert columns.column("owner_id").tolist() == [None, None]
    assert columns.times["notified_at"].at(1) is AT


def test_values_are_converted_as_the_records_convert_them() -> None:
    touches = {
        "lead_id": ["L1", "L2"],
        "rep_id": ["R1", "R1"],
        "at": [AT, AT],
        "channel": ["Call", "EMAIL"],
    }
    assert read_table(touches, "touches").column("channel").tolist() == [
        Channel.CALL,
        Channel.EMAIL,
    ]
    frame = pd.DataFrame({**handoffs(), "owner_id": ["R1", None]})
    assert read_table(frame, "handoffs").column("owner_id").tolist() == ["R1", None]


@pytest.mark.parametrize(
    ("table", "field", "words"),
    [
        (handoffs(stage=None), "handoffs.stage", "has no column 'stage'"),
        (handoffs(lead_id=["L1", " "]), "handoffs.lead_id", "row 1: expected a non-empty string"),
        (handoffs(lead_id=["L1", None]), "handoffs.lead_id", "row 1: a value is required"),
        (handoffs(lead_id=np.array([1, 2])), "handoffs.lead_id", "row 0: expected text"),
        (
            handoffs(notified_at=[AT, datetime(2026, 3, 2, 9)]),
            "handoffs.notified_at",
            "row 1: expected a timezone-aware datetime, got naive",
        ),
        (
            handoffs(notified_at=[AT, "2026-03-02"]),
            "handoffs.notified_at",
            "row 1: expected a timezone-aware datetime, got str",
        ),
        (handoffs(notified_at=[None, AT]), "handoffs.notified_at", "row 0: a time is required"),
        (
            handoffs(notified_at=np.array(["2026-03-02", "2026-03-03"], dtype="datetime64[us]")),
            "handoffs.notified_at",
            "row 0: expected timezone-aware times, got a naive numpy datetime64 column",
        ),
        (
            handoffs(notified_at=pd.Series(pd.to_datetime(["2026-03-02", "2026-03-03"]))),
            "handoffs.notified_at",
            "got a naive pandas datetime64 column",
        ),
        (
            handoffs(notified_at=pa.array([AT, AT], type=pa.timestamp("us"))),
            "handoffs.notified_at",
            "got a naive Arrow timestamp column",
        ),
        (
            handoffs(notified_at=pa.array([AT, None], type=pa.timestamp("us", tz="UTC"))),
            "handoffs.notified_at",
            "row 1: a time is required",
        ),
        (
            handoffs(notified_at=pa.array(["a", "b"])),
            "handoffs.notified_at",
            "row 0: expected aware times, got an Arrow column of string",
        ),
        (
            handoffs(notified_at=[AT, datetime(1800, 1, 1, tzinfo=UTC)]),
            "handoffs.notified_at",
            "row 1: expected a time in the years 1900 to 2099",
        ),
        (handoffs(hand_raiser=[True, "yes"]), "handoffs.hand_raiser", "row 1: expected True"),
        (
            handoffs(hand_raiser=np.array([1, 0])),
            "handoffs.hand_raiser",
            "row 0: expected True or False, got a column of int64",
        ),
        (handoffs(to_team=["sales", "finance"]), "handoffs.to_team", "row 1: expected one of"),
        (
            handoffs(from_team=["marketing", "sales"]),
            "handoffs.to_team",
            "row 1: a hand-off goes from one team to the other",
        ),
        (handoffs(stage=["mql"]), "handoffs.stage", "has 1 rows, the columns before it 2"),
        (handoffs(stage=np.array([["mql"], ["mql"]])), "handoffs.stage", "one-dimensional"),
        (handoffs(stage=5), "handoffs.stage", "expected a column (array or list), got int"),
    ],
)
def test_each_bad_input_names_table_column_and_row(table: Any, field: str, words: str) -> None:
    error = fails(table)
    assert error.field == field
    assert words in error.message


def test_a_bad_channel_names_its_row() -> None:
    touches = {"lead_id": ["L1"], "rep_id": ["R1"], "at": [AT], "channel": ["fax"]}
    error = fails(touches, "touches")
    assert (error.field, error.message[:6]) == ("touches.channel", "row 0:")


def test_not_a_table() -> None:
    error = fails(["L1", "L2"])
    assert error.field == "handoffs"
    assert "expected a table" in error.message


def test_an_arrow_stream_is_read() -> None:
    table = pa.table(
        {
            "lead_id": ["L1"],
            "notified_at": pa.array([AT], type=pa.timestamp("ns", tz="Europe/Paris")),
            "stage": pa.array(["mql"]).dictionary_encode(),
        }
    )

    class Stream:
        def __arrow_c_stream__(self, requested_schema: object = None) -> object:
            return table.__arrow_c_stream__(requested_schema)

    columns = read_table(Stream(), "handoffs")
    assert columns.times["notified_at"].at(0) == AT
    assert str(columns.times["notified_at"].at(0).tzinfo) == "Europe/Paris"
    assert columns.column("stage").tolist() == ["mql"]


def test_an_arrow_stream_without_pyarrow_names_the_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Stream:
        def __arrow_c_stream__(self, requested_schema: object = None) -> object:
            raise AssertionError("not read without pyarrow")

    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if not installed
    with pytest.raises(ValidationError) as caught:
        read_table(Stream(), "handoffs")
    assert caught.value.field == "handoffs"
    assert "needs pyarrow: pip install 'slacore[arrow]'" in caught.value.message


def test_long_columns_name_their_bad_row_too() -> None:
    """Long columns of Python values are read by Arrow: the same errors, the same rows."""
    size = 5000
    leads = [f"L{i}" for i in range(size)]
    times = [AT] * size
    stages = ["mql"] * size
    blank = fails({"lead_id": [*leads[:-1], " "], "notified_at": times, "stage": stages})
    assert (blank.field, blank.message) == (
        "handoffs.lead_id",
        f"row {size - 1}: expected a non-empty string, got ' '",
    )
    missing = fails(
        {"lead_id": [*leads[:9], None, *leads[10:]], "notified_at": times, "stage": stages}
    )
    assert (missing.field, missing.message) == (
        "handoffs.lead_id",
        "row 9: a value is required, got none",
    )
    mixed = fails({"lead_id": [*leads[:-1], 7], "notified_at": times, "stage": stages})
    assert (mixed.field, mixed.message) == (
        "handoffs.lead_id",
        f"row {size - 1}: expected a non-empty string, got 7",
    )
    naive = fails(
        {"lead_id": leads, "notified_at": [*times[:-2], datetime(2026, 3, 2), AT], "stage": stages}
    )
    assert (naive.field, naive.message[:14]) == ("handoffs.notified_at", f"row {size - 2}: expe")
    columns = read_table(
        {"lead_id": np.array(leads, dtype=object), "notified_at": np.array(times), "stage": stages},
        "handoffs",
    )
    epoch_us = (AT - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert columns.times["notified_at"].us.tolist() == [epoch_us] * size
    assert columns.value("lead_id", 4321) == "L4321"


def test_fixed_width_text_is_read() -> None:
    table = handoffs(lead_id=np.array(["L1", "L2"]), stage=np.array(["mql", "sql"]))
    columns = read_table(table, "handoffs")
    assert columns.value("lead_id", 1) == "L2"
    assert columns.column("stage").tolist() == ["mql", "sql"]
    blank = fails(handoffs(lead_id=np.array(["L1", ""])))
    assert (blank.field, blank.message) == (
        "handoffs.lead_id",
        "row 1: expected a non-empty string, got ''",
    )


def test_a_time_past_any_datetime_names_its_row() -> None:
    late = fails(handoffs(notified_at=[AT, datetime(2150, 1, 1, tzinfo=UTC)]))
    assert late.message.startswith("row 1: expected a time in the years 1900 to 2099")
    seconds = pa.array([1_000_000_000, 2**62], pa.timestamp("s", tz="UTC"))
    huge = fails(handoffs(notified_at=seconds))
    assert huge.field == "handoffs.notified_at"
    assert huge.message.startswith("row 1: expected a time in the years 1900 to 2099")
    assert huge.message.endswith("microseconds after 1970")


@pytest.mark.parametrize(
    ("values", "kind", "expected"),
    [
        (["L1", "a b", "~"], pa.string(), True),
        (["L1", None, "!x"], pa.string(), True),
        ([None, None], pa.string(), True),
        ([], pa.string(), True),
        (["L1", "R2"], pa.large_string(), True),
        (["L1", ""], pa.string(), False),
        (["L1", " L2"], pa.string(), False),
        (["L1", "\tL2"], pa.string(), False),
        (["L1", "\u00a0"], pa.string(), False),
        (["L1", "émile"], pa.string(), False),  # not all space, but not proven so
    ],
)
def test_visible_starts_proves_no_id_is_blank(values: list[Any], kind: Any, expected: bool) -> None:
    from slacore._column_values import visible_starts

    array = pa.array(values, type=kind)
    assert visible_starts(array) is expected
    # A slice reads its own rows: the blank one before it, or after it, is not among them.
    padded = pa.array(["", *values, " "], type=kind).slice(1, len(values))
    assert visible_starts(padded) is expected


def test_a_blank_id_after_visible_ones_is_still_refused() -> None:
    table = {
        "lead_id": pa.array(["L1", "L2", "   "]),
        "notified_at": pa.array([0, 1, 2], type=pa.timestamp("us", tz="UTC")),
        "stage": pa.array(["mql"] * 3),
    }
    with pytest.raises(ValidationError, match=r"handoffs\.lead_id: row 2"):
        read_table(table, "handoffs")


def test_values_at_and_objects_read_arrow_text_as_value_does() -> None:
    table = read_table(
        {
            "lead_id": pa.array(["L1", "L2", "L3", "L4"]),
            "notified_at": pa.array([0, 1, 2, 3], type=pa.timestamp("us", tz="UTC")),
            "stage": pa.array(["mql"] * 4),
            "to_team": pa.array(["sales", None, "sales", "sales"]),
            "from_team": pa.array(["marketing"] * 4),
        },
        "handoffs",
    )
    rows = np.asarray([3, 1, 1], dtype=np.int64)
    for field in ("lead_id", "to_team"):
        assert table.values_at(field, rows) == [table.value(field, int(r)) for r in rows]
    teams = table.column("to_team")
    assert teams.dtype == object
    assert teams.tolist() == [Team.SALES, None, Team.SALES, Team.SALES]
    assert table.column("from_team").tolist() == [Team.MARKETING] * 4


@pytest.mark.parametrize("arrow", [True, False], ids=["arrow", "objects"])
def test_codes_where_looks_up_the_flagged_rows_only(arrow: bool) -> None:
    leads = ["L1", "L2", "L3", "L1", "L9"]
    table = read_table(
        {
            "lead_id": pa.array(leads) if arrow else leads,
            "rep_id": ["R1"] * 5,
            "at": pa.array(range(5), type=pa.timestamp("us", tz="UTC")),
            "channel": ["call"] * 5,
        },
        "touches",
    )
    known = ["L3", "L1"]
    assert table.codes("lead_id", known).tolist() == [1, -1, 0, 1, -1]
    where = np.asarray([True, False, True, False, True])
    assert table.codes("lead_id", known, where).tolist() == [1, -1, 0, -1, -1]
    assert table.codes("lead_id", known, np.ones(5, dtype=bool)).tolist() == [1, -1, 0, 1, -1]
    assert table.codes("lead_id", known, np.zeros(5, dtype=bool)).tolist() == [-1] * 5
    every = np.arange(5, dtype=np.int64)
    codes, distinct = table.factorize("lead_id", every)
    assert (codes.tolist(), list(distinct)) == ([0, 1, 2, 0, 3], ["L1", "L2", "L3", "L9"])
    codes, distinct = table.factorize("lead_id", every[[4, 0, 3]])
    assert (codes.tolist(), list(distinct)) == ([0, 1, 1], ["L9", "L1"])
