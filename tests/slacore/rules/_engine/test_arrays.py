"""The array engine's sort of response times by (rep, source) cell, on both of its ways."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from slacore.rules._engine.arrays import _sorted_by_cell

pairs = st.lists(
    st.tuples(
        st.one_of(st.integers(0, 300), st.integers(0, 2**20)),
        # Response times up to a day, and beyond 2**46 microseconds (2.2 years): the one-key
        # sort holds the first, lexsort the second.
        st.one_of(st.integers(0, 86_400_000_000), st.integers(0, 2**50)),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(pairs=pairs)
def test_cells_and_times_sorted_as_python_sorts_them(pairs: list[tuple[int, int]]) -> None:
    cells = np.asarray([c for c, _ in pairs], dtype=np.int64)
    times = np.asarray([t for _, t in pairs], dtype=np.int64)
    got_cells, got_times = _sorted_by_cell(cells, times)
    expected = sorted(pairs)
    assert got_cells.tolist() == [c for c, _ in expected]
    assert got_times.tolist() == [float(t) for _, t in expected]
    assert got_times.dtype == np.float64
