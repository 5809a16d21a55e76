"""``CadenceRule.evaluate_columns`` against ``evaluate`` and the plain reference, on the cases
and table kinds of test_response_columns.py."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.slacore.rules.test_response_columns import assert_as_reference, cases, evaluate_both
from tests.slacore.rules.test_response_reference import (
    CADENCES,
    Case,
    cadence_reference,
)

from slacore.rules.cadence import CadenceRule

CADENCE_FIGURES = ("status", "window_end", "touches", "met_at", "withdrawn_at", "owner_id")
"""What ``cadence_reference`` answers for one hand-off, in its order."""


def assert_same_cadence(expected: Any, got: Any) -> None:
    assert (got.summary, got.by_rep, got.now) == (expected.summary, expected.by_rep, expected.now)
    assert len(got.results) == len(expected.results)
    for mine, theirs in zip(got.results, expected.results, strict=True):
        assert mine == theirs
        for name in ("window_end", "met_at", "withdrawn_at"):
            a, b = getattr(mine, name), getattr(theirs, name)
            assert a is None or a.utcoffset() == b.utcoffset(), name


@settings(max_examples=300, deadline=None)
@given(rule=st.sampled_from(CADENCES), case=cases)
def test_cadence_columns_equal_objects_and_the_reference(rule: CadenceRule, case: Case) -> None:
    expected, got, records = evaluate_both(rule, case, "numpy", "")  # type: ignore[arg-type]
    assert_same_cadence(expected, got)
    assert_as_reference(rule, records, got, cadence_reference, CADENCE_FIGURES)


@settings(max_examples=40, deadline=None)
@given(
    rule=st.sampled_from(CADENCES),
    case=cases,
    kind=st.sampled_from(["lists", "pandas", "arrow"]),
    zone=st.sampled_from(["UTC", "America/New_York", "+05:30"]),
)
def test_cadence_columns_of_every_kind(rule: CadenceRule, case: Case, kind: str, zone: str) -> None:
    expected, got, _ = evaluate_both(rule, case, kind, zone)  # type: ignore[arg-type]
    assert_same_cadence(expected, got)
