"""The collector pause around bulk evaluations: nested, overlapping, never left off, and
switched off by the caller with ``pause_gc=False``."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from slacore import CadenceRule, Handoff, ResponseRule, Touch
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


def _watched_touches(seen: list[bool]) -> Iterator[Touch]:
    # Read inside the evaluation: records whether the collector is on at that point.
    seen.append(gc.isenabled())
    yield Touch(lead_id="L1", at=_NOTIFIED + timedelta(minutes=5), channel="call", rep_id="r1")


_NOTIFIED = datetime(2026, 3, 2, 9, tzinfo=UTC)
_RULES = [ResponseRule(within="1h", clock="calendar"), CadenceRule(min_touches=1, within="1d")]


@pytest.mark.parametrize("rule", _RULES, ids=["response", "cadence"])
def test_evaluate_pauses_the_collector_by_default(rule: ResponseRule | CadenceRule) -> None:
    seen: list[bool] = []
    handoff = Handoff(lead_id="L1", notified_at=_NOTIFIED, stage="mql", owner_id="r1")
    report = rule.evaluate([handoff], _watched_touches(seen), now=_NOTIFIED + timedelta(days=2))
    assert seen == [False]
    assert gc.isenabled()
    assert report.summary.met == 1


@pytest.mark.parametrize("rule", _RULES, ids=["response", "cadence"])
def test_evaluate_leaves_the_collector_alone_when_asked(rule: ResponseRule | CadenceRule) -> None:
    seen: list[bool] = []
    handoff = Handoff(lead_id="L1", notified_at=_NOTIFIED, stage="mql", owner_id="r1")
    report = rule.evaluate(
        [handoff], _watched_touches(seen), now=_NOTIFIED + timedelta(days=2), pause_gc=False
    )
    assert seen == [True]
    assert gc.isenabled()
    assert report.summary.met == 1
