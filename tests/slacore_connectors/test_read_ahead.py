"""Reading ahead: a connector's batches read in a thread of their own, one ahead of the sync,
come out as the connector yields them, its error in its place, and a sync that stops early
stops the reading (the connector's generator closed, its thread ended)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from slacore_connectors._read_ahead import read_ahead


def numbers(count: int, log: list[str], *, fail_at: int | None = None) -> Iterator[int]:
    try:
        for number in range(count):
            if number == fail_at:
                raise ValueError(f"bad row {number}")
            log.append(f"read {number}")
            yield number
    finally:
        log.append("closed")


def alive() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "slacore-read-ahead"]


def test_every_item_in_order() -> None:
    log: list[str] = []
    assert list(read_ahead(numbers(50, log))) == list(range(50))
    assert log[-1] == "closed"
    assert not alive()


def test_nothing_to_read() -> None:
    assert list(read_ahead(iter([]))) == []
    assert not alive()


def test_an_error_comes_after_the_items_before_it() -> None:
    log: list[str] = []
    got: list[int] = []

    def take_all() -> None:
        got.extend(read_ahead(numbers(10, log, fail_at=3)))

    with pytest.raises(ValueError, match="bad row 3"):
        take_all()
    assert got == [0, 1, 2]
    assert log[-1] == "closed"
    assert not alive()


def test_the_reading_runs_in_another_thread() -> None:
    where: list[str] = []

    def items() -> Iterator[int]:
        where.append(threading.current_thread().name)
        yield 1

    assert list(read_ahead(items())) == [1]
    assert where == ["slacore-read-ahead"]


def test_stopping_early_stops_the_reading() -> None:
    log: list[str] = []
    ahead = read_ahead(numbers(1000, log))
    assert next(ahead) == 0
    ahead.close()
    assert not alive()
    # The generator was closed in its thread, after one or two items read ahead at most.
    assert log[-1] == "closed"
    assert len(log) <= 4


def test_a_caller_that_raises_stops_the_reading() -> None:
    log: list[str] = []

    def store_until_it_fails() -> None:
        for item in read_ahead(numbers(1000, log)):
            if item == 2:
                raise RuntimeError("the store failed")

    with pytest.raises(RuntimeError):
        store_until_it_fails()
    assert not alive()
    assert log[-1] == "closed"


def test_the_thread_reads_one_item_ahead_no_more() -> None:
    log: list[str] = []
    read = threading.Event()

    def items() -> Iterator[int]:
        for number in range(5):
            log.append(f"asked {number}")
            if number == 1:
                read.set()
            yield number

    ahead = read_ahead(items())
    assert next(ahead) == 0
    assert read.wait(10)  # item 1 read while the caller holds item 0 ...
    time_for_more = threading.Event()
    time_for_more.wait(0.2)
    assert "asked 2" not in log  # ... and item 2 not before the caller takes item 1
    assert list(ahead) == [1, 2, 3, 4]
