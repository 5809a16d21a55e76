"""Record identity in mappings comes from the model: the id that names a record, duplicates."""

from __future__ import annotations

import pytest

from slacore.connector import FieldMapping, Stream, core_fields
from slacore.model import id_field, id_is_key, natural_key

SAMPLES = {
    "text": "X-1",
    "time": "2026-01-05T09:00:00Z",
    "money": "10",
    "boolean": "true",
    "stage": "mql",
    "channel": "call",
}


def vendor_row(stream: Stream) -> dict[str, str]:
    """A valid vendor record of ``stream``: its required fields, by their core names."""
    return {f.name: SAMPLES[f.kind] for f in core_fields(stream) if f.required}


def test_the_streams_whose_id_is_the_key() -> None:
    # What the guides say: a lead, deal or rep whose id repeats is a duplicate.
    assert {s for s in Stream if id_is_key(s.record_type)} == {
        Stream.LEADS,
        Stream.DEALS,
        Stream.REPS,
    }


@pytest.mark.parametrize("stream", list(Stream), ids=str)
def test_map_many_takes_identity_from_the_model(stream: Stream) -> None:
    record_type = stream.record_type
    name = id_field(record_type)
    column = f"Vendor {name}"
    mapping = FieldMapping(stream=stream, fields={name: column})
    row = {column if key == name else key: value for key, value in vendor_row(stream).items()}
    assert mapping.vendor_id(row) == "X-1"
    records, rejected = mapping.map_many([row, dict(row)])
    assert natural_key(records[0]) == natural_key(mapping.map(row))
    if id_is_key(record_type):
        assert len(records) == 1
        assert [(r.record_id, r.field, r.reason) for r in rejected] == [
            ("X-1", column, "duplicate id 'X-1', first seen in record 1")
        ]
    else:
        assert len(records) == 2
        assert rejected == []
    # A record that cannot be mapped is named by the same field.
    unreadable = {f.name: "?" for f in core_fields(stream) if f.name != name}
    _, [bad] = mapping.map_many([{**unreadable, column: "X-9"}])
    assert bad.record_id == "X-9"


@pytest.mark.parametrize("stream", list(Stream), ids=str)
def test_row_mapper_names_a_row_by_the_model_id(stream: Stream) -> None:
    name = id_field(stream.record_type)
    header = list(vendor_row(stream))
    mapper = FieldMapping(stream=stream).for_columns(header)
    row = ["" if column != name else "X-7" for column in header]
    assert mapper.record_id(row) == "X-7"
    assert mapper.column(name) == name
