"""The lazy results: picking results by status from the columns gives what building every
result and filtering gives, for both rules and on both paths (column and general)."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.slacore.rules.test_response_columns import COLUMN_RULES, evaluate_both
from tests.slacore.rules.test_response_columns import cases as column_cases
from tests.slacore.rules.test_response_reference import CADENCES, RULES, Case, cases, evaluate

from slacore.rules._engine.results import LazyResults
from slacore.rules.common import SlaStatus
from slacore.rules.dashboard import dont_be_on_it

WANTED = [set(pair) for n in (1, 2) for pair in combinations(SlaStatus, n)]


@settings(max_examples=150, deadline=None)
@given(rule=st.sampled_from([*RULES, *CADENCES]), case=cases)
def test_results_by_status_are_the_built_results_filtered(rule: Any, case: Case) -> None:
    report, _ = evaluate(rule, case)
    results = report.results
    assert isinstance(results, LazyResults)
    built = list(results)
    for wanted in WANTED:
        expected = tuple(r for r in built if r.status in wanted)
        assert results.with_status(wanted) == expected
        assert report.with_status(*wanted) == expected
        assert results.accountable(wanted) == [(r.owner_id, r.handoff) for r in expected]


@settings(max_examples=100, deadline=None)
@given(rule=st.sampled_from(RULES), cadence=st.sampled_from(CADENCES), case=cases)
def test_the_dashboard_of_lazy_results_is_the_dashboard_of_built_ones(
    rule: Any, cadence: Any, case: Case
) -> None:
    response, _ = evaluate(rule, case)
    cadenced, _ = evaluate(cadence, case)
    built = dont_be_on_it(
        attrs.evolve(response, results=tuple(response.results)),
        attrs.evolve(cadenced, results=tuple(cadenced.results)),
    )
    assert dont_be_on_it(response, cadenced) == built
    alone = dont_be_on_it(attrs.evolve(response, results=tuple(response.results)))
    assert dont_be_on_it(response) == alone


@settings(max_examples=150, deadline=None)
@given(rule=st.sampled_from([*COLUMN_RULES, *CADENCES]), case=column_cases)
def test_accountable_leads_of_column_results_are_the_built_results_filtered(
    rule: Any, case: Case
) -> None:
    # On the column path they come from the figures' arrays, with no result or hand-off made.
    for report in evaluate_both(rule, case, "arrow", "America/New_York")[:2]:
        built = list(report.results)
        for wanted in WANTED:
            expected = [(r.owner_id, r.handoff.lead_id) for r in built if r.status in wanted]
            assert report.results.accountable_leads(wanted) == expected


@settings(max_examples=150, deadline=None)
@given(
    rule=st.sampled_from([*COLUMN_RULES, *CADENCES]),
    case=column_cases,
    kind=st.sampled_from(["arrow", "numpy", "lists"]),
)
def test_the_table_of_column_results_is_the_table_of_built_results(
    rule: Any, case: Case, kind: str
) -> None:
    # Made from the figures' arrays, with no result object: the same table, row for row.
    expected, got, _ = evaluate_both(rule, case, kind, "America/New_York")
    built = attrs.evolve(got, results=tuple(got.results))
    table = got.to_arrow()
    assert table.equals(built.to_arrow())
    assert table.equals(expected.to_arrow())
