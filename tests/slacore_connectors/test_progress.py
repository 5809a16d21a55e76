"""The sync's progress in a pipe: plain lines on stderr, one a batch that holds records."""

from __future__ import annotations

import pytest

from slacore_connectors._progress import Progress


def test_in_a_pipe_a_batch_of_records_is_a_line_and_an_empty_one_is_none(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with Progress() as progress:  # stderr captured: not a terminal
        assert progress.bar is None
        progress("sf", "reps", 0)  # a window without changes
        progress("sf", "leads", 2_000)
        progress("sf", "leads", 0)
        progress("sf", "touches", 7)
    assert capsys.readouterr().err.splitlines() == [
        "sf: leads: +2,000 records",
        "sf: touches: +7 records",
    ]
