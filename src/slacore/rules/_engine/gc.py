"""The pause of Python's cyclic garbage collector around a bulk evaluation, and the shared
front of the rules' ``evaluate`` that applies it."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Generic, NamedTuple, TypeVar

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


class Tables(NamedTuple):
    """The tables an evaluation on columns is given (see :mod:`slacore.columns`)."""

    handoffs: object
    touches: object
    stage_changes: object
    owner_changes: object
    reps: object


class ColumnFront(Generic[_Report]):
    """The shared front of both rules' ``evaluate_columns``: checks ``now`` and pauses the
    collector as :func:`bulk_evaluate` does, then runs the rule's ``_columns``."""

    __slots__ = ()

    def _columns(self, tables: Tables, moment: datetime) -> _Report:
        """The rule's evaluation of ``tables`` at ``moment``."""
        raise NotImplementedError

    def evaluate_columns(
        self,
        handoffs: object,
        touches: object = None,
        *,
        now: datetime,
        stage_changes: object = None,
        owner_changes: object = None,
        reps: object = None,
        pause_gc: bool = True,
    ) -> _Report:
        """Measure every hand-off of a table against the rule, a column at a time.

        What ``evaluate`` answers on the same records as objects (the same summary, the
        same groups, the same results), without building an object per record: the work is
        done on numpy arrays (lead ids as integer codes, times as integer microseconds), and
        the results are built from them when read. For data held in Arrow, pandas or polars,
        or a million hand-offs and more.

        Each table is a mapping of column name to a column (numpy array, list, pandas
        ``Series``, pyarrow array), a pandas ``DataFrame``, or (with pyarrow installed) a
        pyarrow ``Table``, a polars ``DataFrame`` or anything offering an Arrow stream; its
        columns are named after the record class's fields (see :mod:`slacore.columns`).

        Args:
            handoffs: The hand-offs: columns of :class:`~slacore.model.Handoff`.
            touches: The touches (columns of :class:`~slacore.model.Touch`), if any.
            now: The moment of evaluation (aware).
            stage_changes: Columns of :class:`~slacore.model.StageChange`, if any.
            owner_changes: Columns of :class:`~slacore.model.OwnerChange`, if any.
            reps: Columns of :class:`~slacore.model.Rep`, if known (as in ``evaluate``).
            pause_gc: As in ``evaluate``.

        Returns:
            The rule's report, equal to ``evaluate``'s on the same records; each result's
            ``handoff`` is the row as a :class:`~slacore.model.Handoff`, its times as given
            (in the column's time zone for Arrow and pandas columns).

        Raises:
            ValidationError: ``now`` is naive; a table is not a table, lacks a required
                column, or holds a naive time column or a bad value (named by table, column
                and row).

        """
        moment = aware_now(now)
        with gc_paused() if pause_gc else contextlib.nullcontext():
            tables = Tables(handoffs, touches, stage_changes, owner_changes, reps)
            return self._columns(tables, moment)
