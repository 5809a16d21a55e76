"""The run-length tallies: response times held as sorted runs answer like one sorted list."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from slacore.rules._engine.tallies import _Runs


@settings(max_examples=200, deadline=None)
@given(
    runs=st.lists(st.lists(st.integers(0, 10**13), max_size=30), max_size=8),
    share=st.fractions(0, 1),
    limit=st.integers(-1, 10**13),
    merge_below=st.sampled_from([0, 10**9]),
)
def test_sorted_runs_answer_like_one_sorted_list(
    runs: list[list[int]], share: Fraction, limit: int, merge_below: int
) -> None:
    """Percentiles and counts read across sorted runs, searched (``merge_below=0``) or merged
    into one list, equal those of all values sorted together."""
    values = sorted(v for run in runs for v in run)
    found = _Runs([sorted(map(float, run)) for run in runs], merge_below=merge_below)
    assert found.size == len(values)
    assert found.count_upto(limit) == sum(1 for v in values if v <= limit)
    if values:
        rank = max(1, math.ceil(share * len(values)))
        assert found.kth(rank) == values[rank - 1]
        assert found.kth(1) == values[0]
        assert found.kth(len(values)) == values[-1]
