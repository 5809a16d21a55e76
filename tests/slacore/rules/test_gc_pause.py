"""The collector pause around bulk evaluations: nested, overlapping, and never left off."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from slacore.rules._engine.gc import gc_paused


@pytest.fixture(autouse=True)
def _collector_back_on() -> Iterator[None]:
    yield
    gc.enable()


def test_nested_pauses_switch_back_on_at_the_end() -> None:
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_caller_stays_off() -> None:
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


def test_an_error_inside_still_switches_back_on() -> None:
    with pytest.raises(ZeroDivisionError), gc_paused():
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_overlapping_pauses_in_threads_leave_the_collector_on() -> None:
    # Each thread starts and ends its pause in a different order from the others; whatever the
    # interleaving, the last one out switches the collector back on.
    for _ in range(20):
        start, middle = threading.Barrier(4), threading.Barrier(4)

        def evaluate(start: threading.Barrier = start, middle: threading.Barrier = middle) -> None:
            start.wait()
            with gc_paused():
                middle.wait()

        threads = [threading.Thread(target=evaluate) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert gc.isenabled()
