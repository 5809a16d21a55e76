"""The pause of Python's cyclic garbage collector around a bulk evaluation, and the shared
front of the rules' ``evaluate`` that applies it."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import TypeVar

from slacore.model import (
    Handoff,
    OwnerChange,
    Rep,
    StageChange,
    Team,
    Touch,
)
from slacore.rules.common import aware_now

_pause_lock = threading.Lock()
_pauses = 0
_collector_was_on = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for one bulk evaluation.

    An evaluation allocates a few million small objects that form no cycles, each burst of
    which sets off collections that walk every live object, the caller's millions of records
    included: about a third of the time on a million hand-offs. Reference counting frees memory
    as usual meanwhile; only cycles made during the pause (by the caller's own iterators, say)
    wait for the collector.

    Pauses nest and may overlap across threads: the first to start switches the collector off,
    the last to end switches it back on if it was on before the first.
    """
    global _pauses, _collector_was_on
    with _pause_lock:
        if _pauses == 0:
            _collector_was_on = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _collector_was_on:
                gc.enable()


_Report = TypeVar("_Report")


def bulk_evaluate(
    evaluate: Callable[
        [
            list[Handoff],
            Iterable[Touch],
            datetime,
            Iterable[StageChange],
            Iterable[OwnerChange],
            Mapping[str, Team] | None,
        ],
        _Report,
    ],
    handoffs: Iterable[Handoff],
    touches: Iterable[Touch],
    now: datetime | None,
    stage_changes: Iterable[StageChange],
    owner_changes: Iterable[OwnerChange],
    reps: Iterable[Rep] | None,
    *,
    pause_gc: bool,
) -> _Report:
    """Run a rule's ``_evaluate`` on checked inputs, with the collector paused unless
    ``pause_gc`` is false: the shared front of ``ResponseRule.evaluate`` and
    ``CadenceRule.evaluate``."""
    moment = aware_now(now)
    team_of = None if reps is None else {rep.id: rep.team for rep in reps}
    with gc_paused() if pause_gc else contextlib.nullcontext():
        return evaluate(list(handoffs), touches, moment, stage_changes, owner_changes, team_of)
