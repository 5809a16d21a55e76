"""A default is stated once: what the reader fills in for a missing key is the class's own.

Each test reads an agreement that leaves every optional key out and compares what the reader
built with the object the class builds from the same required values alone. If a reader ever
restates a default that then drifts from the class, these fail.
"""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from fractions import Fraction

import attrs
import pytest

from slacore.agreement import (
    Agreement,
    AgreementError,
    Commitment,
    CommitmentKind,
    ConflictResolution,
    Deliverable,
    HandoffTerms,
    LeadFilter,
    LeadValueCommitment,
    Termination,
)
from slacore.agreement.sections import DEFAULT_EXIT_STAGES
from slacore.model import Channel, Team
from slacore.planning.funnel import reverse_funnel
from slacore.planning.milestones import Direction, Milestone, MilestoneGoal, Ramp
from slacore.rules.cadence import CadenceRule
from slacore.rules.response import Clock, OnReassign, ResponseRule

CALENDAR = {"timezone": "America/New_York", "hours": {"mon-fri": "09:00-17:00"}}


def bare() -> dict[str, object]:
    """Every section present, every optional key left out."""
    return {
        "agreement": {"company": "Bare", "version": "1", "effective": "2026-01-01"},
        "calendar": CALENDAR,
        "marketing": {
            "lead_value": {"amount": 1000, "values": {"web": 10}},
            "leads": {
                "funnel": {
                    "deals_per_rep": 2,
                    "reps": 1,
                    "leads_per_rep": 100,
                    "stages": [{"name": "lead", "rate": 0.5}],
                }
            },
        },
        "sales": {
            "response": {"within": "1h", "applies_to": {}},
            "cadence": {"min_touches": 2, "within": "3d"},
            "milestones": [
                {"metric": "m", "baseline": 1, "targets": [{"on": "2026-06-01", "target": 2}]}
            ],
        },
        "commitments": [
            {"name": "posts", "team": "marketing", "deliver": [{"count": 1, "item": "post"}]}
        ],
        "conflict": {"panel": ["the CEO"]},
        "termination": {"unmet_periods": 2},
    }


@pytest.fixture(scope="module")
def agreement() -> Agreement:
    return Agreement.from_dict(bare())


def test_rules_take_the_rule_classes_defaults(agreement: Agreement) -> None:
    (response,) = agreement.response_rules
    (cadence,) = agreement.cadence_rules
    calendar = agreement.calendar
    assert response == ResponseRule(within="1h", calendar=calendar)
    assert cadence == CadenceRule(min_touches=2, within="3d", calendar=calendar)


def test_sections_take_their_classes_defaults(agreement: Agreement) -> None:
    assert agreement.period == attrs.fields(Agreement).period.default
    assert agreement.sales.response[0].applies_to == LeadFilter()
    assert agreement.milestone_goals == (
        MilestoneGoal(
            metric="m",
            baseline=Decimal(1),
            milestones=[Milestone(on=date(2026, 6, 1), target=Decimal(2))],
            start=agreement.effective,
        ),
    )
    (commitment,) = agreement.commitments
    assert commitment == Commitment(
        name="posts",
        kind=CommitmentKind.OTHER,
        team=Team.MARKETING,
        deliverables=(Deliverable(count=1, item="post"),),
        per=agreement.period,
    )
    assert agreement.conflict == ConflictResolution(panel=("the CEO",))
    assert agreement.termination == Termination(unmet_periods=2)
    value = agreement.marketing.lead_value
    assert value is not None
    assert value.basis == attrs.fields(LeadValueCommitment).basis.default
    leads = agreement.marketing.leads
    assert leads is not None
    assert leads.per_rep == reverse_funnel(deals=2, stages=[("lead", Fraction(1, 2))])


def test_exit_stages_are_the_rules_withdraw_on() -> None:
    assert attrs.fields(ResponseRule).withdraw_on.default == DEFAULT_EXIT_STAGES
    assert attrs.fields(CadenceRule).withdraw_on.default == DEFAULT_EXIT_STAGES
    assert attrs.fields(HandoffTerms).exit_stages.default == DEFAULT_EXIT_STAGES


def problem_of(section: str, key: str, value: object) -> str:
    data = bare()
    sales = data["sales"]
    assert isinstance(sales, dict)
    target = data["commitments"][0] if section == "commitments" else sales[section]  # type: ignore[index]
    if isinstance(target, list):
        target = target[0]
    target[key] = value
    with pytest.raises(AgreementError) as caught:
        Agreement.from_dict(data)
    (problem,) = caught.value.errors
    return problem.message


@pytest.mark.parametrize(
    ("section", "key", "choices"),
    [
        ("response", "clock", Clock),
        ("response", "on_reassign", OnReassign),
        ("cadence", "clock", Clock),
        ("milestones", "direction", Direction),
        ("milestones", "ramp", Ramp),
        ("commitments", "kind", CommitmentKind),
    ],
)
def test_choices_come_from_the_enums(section: str, key: str, choices: type[enum.Enum]) -> None:
    listed = ", ".join(str(member.value) for member in choices)
    assert problem_of(section, key, "nonsense").startswith(f"expected one of {listed}, got")


@pytest.mark.parametrize(("section", "key"), [("response", "counts"), ("cadence", "channels")])
def test_channels_come_from_the_enum_and_a_wrong_one_is_one_problem(section: str, key: str) -> None:
    listed = ", ".join(channel.value for channel in Channel)
    assert problem_of(section, key, ["fax"]).startswith(f"expected one of {listed}, got 'fax'")
    assert problem_of(section, key, []) == "expected at least one entry"
