"""Run-length tallies of the response rule: counts by status and response times held as
sorted runs per (rep, source) cell, read for percentiles and buckets without merging."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import timedelta
from fractions import Fraction
from itertools import chain, repeat
from operator import attrgetter, is_

from slacore.rules.common import NEVER, Never, SlaStatus


def _percentile(runs: _Runs, share: Fraction, never: int = 0) -> timedelta | Never | None:
    """Nearest-rank percentile: the smallest value with at least ``share`` of values at or below.

    ``never`` more values are slower than any in ``runs`` (leads never contacted): a rank
    among them gives :data:`NEVER`. ``None`` when there are no values at all.
    """
    size = runs.size + never
    if not size:
        return None
    rank = max(1, math.ceil(share * size))
    if rank > runs.size:
        return NEVER
    return timedelta(microseconds=runs.kth(rank))


_RUN_LENGTH = 256
"""Below this many values per sorted run on average, :class:`_Runs` merges its runs into one:
a search over many short runs costs more than a sort that merges them."""


class _Runs:
    """Response times (whole microseconds, as floats) held as sorted runs, one per (rep, source)
    cell, and read without merging them: a group's percentiles and bucket counts come from
    binary searches in each run.

    A summary needs two order statistics and a few counts, not a sorted copy of every value:
    merging fifty runs of a source (or two hundred for the whole report) into one sorted list
    costs more than all the searches together.
    """

    __slots__ = ("runs", "size")

    def __init__(self, runs: list[list[float]], *, merge_below: int = _RUN_LENGTH) -> None:
        runs = [run for run in runs if run]
        self.size = sum(map(len, runs))
        if len(runs) > 1 and len(runs) * merge_below > self.size:
            merged = list(chain.from_iterable(runs))
            merged.sort()
            runs = [merged]
        self.runs = runs

    def count_upto(self, limit: float) -> int:
        """How many values are at or below ``limit``."""
        return sum(bisect_right(run, limit) for run in self.runs)

    def kth(self, rank: int) -> float:
        """The ``rank``-th smallest value (1-based, ``1 <= rank <= size``)."""
        runs = self.runs
        if len(runs) == 1:
            return runs[0][rank - 1]
        # The smallest whole number with at least ``rank`` values at or below it; values are
        # whole numbers, so it is one of them.
        low, high = int(min(run[0] for run in runs)), int(max(run[-1] for run in runs))
        while low < high:
            middle = (low + high) // 2
            if self.count_upto(middle) >= rank:
                high = middle
            else:
                low = middle + 1
        return float(low)


class _Tally:
    """Counts and response times of one group of hand-offs (times as sorted runs)."""

    __slots__ = ("counts", "never", "runs")

    def __init__(self) -> None:
        self.counts = dict.fromkeys(SlaStatus, 0)
        self.runs: list[list[float]] = []
        self.never = 0

    def absorb(self, other: _Tally) -> None:
        """Add ``other``'s counts and times to this tally."""
        for status, number in other.counts.items():
            self.counts[status] += number
        self.never += other.never
        self.runs.extend(other.runs)


_source = attrgetter("source")


def _labelled(groups: dict[str | None, _Tally], blank: str) -> dict[str, _Tally]:
    """``groups`` keyed by name, with ``blank`` for no name (``None`` or ``""``)."""
    named: dict[str, _Tally] = {}
    for key, tally in groups.items():
        label = key or blank
        if label in named:
            named[label].absorb(tally)
        else:
            named[label] = tally
    return named


def _tallies(
    owners: list[str | None],
    sources: list[str | None],
    statuses: list[SlaStatus],
    taken: list[float | None],
) -> tuple[_Tally, dict[str, _Tally], dict[str, _Tally]]:
    """Tally the columns of the eligible hand-offs overall, per rep and per source.

    Columns rather than one update per hand-off: the counts come from one ``Counter`` over
    the rows, and only response times are distributed in a loop. Groups are keyed by the raw
    owner and source and named ("(unassigned)", "(none)") at the end.
    """
    unanswered = list(map(is_, taken, repeat(None)))
    rows = Counter(zip(owners, sources, statuses, unanswered, strict=True))
    # Response times per (rep, source) cell, each cell sorted once (see ``tally_groups``).
    cells: defaultdict[tuple[str | None, str | None], list[float]] = defaultdict(list)
    for owner, origin, time in zip(owners, sources, taken, strict=True):
        if time is not None:
            cells[owner, origin].append(time)
    for times in cells.values():
        times.sort()
    return tally_groups(rows.items(), cells.items())


def tally_groups(
    rows: Iterable[tuple[tuple[str | None, str | None, SlaStatus, bool], int]],
    cells: Iterable[tuple[tuple[str | None, str | None], list[float]]],
) -> tuple[_Tally, dict[str, _Tally], dict[str, _Tally]]:
    """The tallies overall, per rep and per source from counted rows and sorted cells.

    ``rows`` holds how many hand-offs share an (owner, source, status, unanswered) row;
    ``cells`` the sorted response times of each (owner, source) cell, each shared, as a run,
    by the cell's rep, its source and the whole report (see ``_Runs``). Groups are keyed by
    the raw owner and source and named ("(unassigned)", "(none)") at the end. The object path
    and the array path of the response rule both end here.
    """
    overall = _Tally()
    by_rep: dict[str | None, _Tally] = {}
    by_source: dict[str | None, _Tally] = {}
    for (owner, origin, status, never), number in rows:
        lost = number if never and status is SlaStatus.BREACHED else 0
        for tally in (
            overall,
            by_rep.get(owner) or by_rep.setdefault(owner, _Tally()),
            by_source.get(origin) or by_source.setdefault(origin, _Tally()),
        ):
            tally.counts[status] += number
            tally.never += lost
    for (owner, origin), times in cells:
        by_rep[owner].runs.append(times)
        by_source[origin].runs.append(times)
        overall.runs.append(times)
    return overall, _labelled(by_rep, "(unassigned)"), _labelled(by_source, "(none)")
