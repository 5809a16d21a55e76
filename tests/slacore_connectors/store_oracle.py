"""The store's side of the connectors' oracles (``hubspot/oracle.py``, ``salesforce/oracle.py``):
what a store holds as current, read back as core objects, and how two such holdings differ.

Each vendor's oracle says what a complete sync of its fake must have stored (its
``expected``); this module reads what the store does hold (:func:`read_store`: whole
records, each once) and words the differences (:func:`differences`, :func:`left_of`) so that
a failure names the stream and up to :data:`SHOWN` missing and extra records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from slacore.connector import Stream
from slacore.model import id_field, natural_key
from slacore_connectors.store import open_store

#: How many missing and extra records a difference names, per stream.
SHOWN = 5


class Mapped(Protocol):
    """What a vendor's mapping gives for one row: its records, or its rejection."""

    @property
    def records(self) -> Sequence[Any]: ...

    @property
    def rejected(self) -> Sequence[Any]: ...


def collect(
    results: Iterable[Mapped], streams: Sequence[Stream]
) -> tuple[dict[str, set[Any]], dict[str, set[str]]]:
    """The records of ``results`` per stream name, the last one mapped of each natural key
    (a store keeps one per key: the later replaces the earlier), and the ids rejected."""
    by_key: dict[Stream, dict[tuple[Any, ...], Any]] = {stream: {} for stream in streams}
    rejected: dict[str, set[str]] = {stream.value: set() for stream in streams}
    for mapped in results:
        for record in mapped.records:
            by_key[stream_of(record, streams)][natural_key(record)] = record
        for refused in mapped.rejected:
            rejected[Stream.parse(refused.stream).value].add(str(refused.record_id))
    return {stream.value: set(by_key[stream].values()) for stream in streams}, rejected


def stream_of(record: Any, streams: Sequence[Stream]) -> Stream:
    """The stream of ``streams`` whose records are of ``record``'s type."""
    for stream in streams:
        if type(record) is stream.record_type:
            return stream
    raise TypeError(f"no stream holds {type(record).__name__} records")


def shown(records: Iterable[Any]) -> list[Any]:
    """Up to :data:`SHOWN` of ``records``, in a stable order (by repr)."""
    return sorted(records, key=repr)[:SHOWN]


def read_store(
    store_path: str | Path, streams: Sequence[Stream], source_name: str | None
) -> tuple[dict[str, set[Any]], dict[str, set[str]]]:
    """The current records of ``streams`` in the store (per stream name, as sets of core
    objects) and the ids of its rejected records (per stream name).

    Raises:
        AssertionError: The store holds two current rows of one natural key in a stream.

    """
    records: dict[str, set[Any]] = {}
    rejected: dict[str, set[str]] = {stream.value: set() for stream in streams}
    with open_store(store_path, read_only=True) as store:
        for stream in streams:
            rows = list(store.records(stream, source_name=source_name))
            keys = Counter(natural_key(row) for row in rows)
            twice = [key for key, count in keys.items() if count > 1]
            assert not twice, (
                f"{stream.value}: the store holds {len(twice)} key(s) twice, e.g. {twice[:SHOWN]}"
            )
            records[stream.value] = set(rows)
        for refused in store.rejected(source_name=source_name):
            name = Stream.parse(refused.stream).value
            rejected.setdefault(name, set()).add(str(refused.record_id))
    return records, rejected


def differences(
    want: Mapping[str, set[Any]], have: Mapping[str, set[Any]], what: str = "records"
) -> list[str]:
    """One line per stream whose sets differ: counts, and up to five missing and extra."""
    lines = []
    for name in want.keys() | have.keys():
        missing = want.get(name, set()) - have.get(name, set())
        extra = have.get(name, set()) - want.get(name, set())
        if missing or extra:
            lines.append(
                f"{name} {what}: {len(missing)} missing, e.g. {shown(missing)}; "
                f"{len(extra)} extra, e.g. {shown(extra)}"
            )
    return sorted(lines)


def left_of(have: Mapping[str, set[Any]], gone: set[str], streams: Sequence[Stream]) -> list[str]:
    """One line per stream that still holds records of the deleted leads ``gone``: a lead by
    its id, its events (stage changes, hand-offs, touches, owner changes) by ``lead_id``."""
    lines = []
    for stream in streams:
        field = "id" if stream is Stream.LEADS else id_field(stream.record_type)
        if stream is Stream.LEADS or field == "lead_id":
            left = shown(r for r in have.get(stream.value, ()) if getattr(r, field) in gone)
            if left:
                lines.append(f"{stream.value}: records of deleted leads, e.g. {left}")
    return lines


def calls_line(calls: Mapping[str, int] | None) -> list[str]:
    """The fake's request counts as one line for a message (none when not given)."""
    if calls is None:
        return []
    return [f"API calls: {sum(calls.values())} {dict(sorted(calls.items()))}"]


def assert_no_problems(problems: list[str], have: Mapping[str, set[Any]], told: list[str]) -> None:
    """Fail naming every problem, else print what was compared (``pytest -rP`` shows it)."""
    assert not problems, "\n".join(["the store differs from the fake:", *problems, *told])
    held_counts = {name: len(records) for name, records in have.items()}
    print("the store equals the fake:", held_counts, *told)
