"""Rejected records as an Arrow table and a pandas frame: a row per record, typed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow as pa

from slacore.connector import RejectedRecord, Stream, rejected_frame, rejected_table

RECORDS = [
    RejectedRecord(
        stream="touches",
        reason="expected a timezone-aware time",
        source="touches.csv",
        line=3,
        record_id="T1",
        field="at",
        raw={"at": "2026-01-05", "seen": datetime(2026, 1, 1, tzinfo=UTC), "n": 2},
    ),
    RejectedRecord(stream="leads", reason="no id"),
]


def test_rejected_table_columns_and_values() -> None:
    table = rejected_table(RECORDS)
    assert table.schema == pa.schema(
        [
            ("stream", pa.dictionary(pa.int8(), pa.string())),
            ("source", pa.string()),
            ("line", pa.int64()),
            ("record_id", pa.string()),
            ("field", pa.string()),
            ("reason", pa.string()),
            ("raw", pa.string()),
        ]
    )
    rows = table.to_pylist()
    for row, record in zip(rows, RECORDS, strict=True):
        expected = record.to_dict()
        assert json.loads(row.pop("raw")) == expected.pop("raw")
        assert row == expected
    assert table.column("stream").chunk(0).dictionary.to_pylist() == [str(s) for s in Stream]


def test_rejected_frame_and_empty() -> None:
    frame = rejected_frame(RECORDS)
    assert str(frame["line"].dtype) == "Int64"
    assert frame["line"].isna().tolist() == [False, True]
    assert list(frame["stream"]) == ["touches", "leads"]
    assert rejected_table([]).num_rows == 0
