from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import attrs
import pytest

from slacore import (
    STANDARD_LADDER,
    Channel,
    Deal,
    Handoff,
    Lead,
    LeadStage,
    OwnerChange,
    Rep,
    StageChange,
    StageLadder,
    Team,
    Touch,
    UnknownKeyError,
    ValidationError,
)

NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=NY)
NAIVE = datetime(2026, 3, 2, 9, 0)


def test_standard_ladder_order_and_owners() -> None:
    assert STANDARD_LADDER.keys == (
        "subscriber",
        "lead",
        "mql",
        "sal",
        "sql",
        "opportunity",
        "customer",
    )
    assert StageLadder.standard() is STANDARD_LADDER
    assert STANDARD_LADDER.get("mql").owner is Team.MARKETING
    assert STANDARD_LADDER.get("sal").owner is Team.SALES
    assert [(a.key, b.key) for a, b in STANDARD_LADDER.handoffs()] == [("mql", "sal")]
    assert STANDARD_LADDER.is_before("mql", "sql")
    assert "sql" in STANDARD_LADDER
    assert len(STANDARD_LADDER) == 7


def test_ladder_is_replaceable() -> None:
    ladder = STANDARD_LADDER.without("subscriber").with_stage(
        LeadStage(key="sql", label="Qualified", order=50, owner="sales", definition="BANT")
    )
    assert ladder.keys[0] == "lead"
    assert ladder.get("sql").label == "Qualified"
    assert STANDARD_LADDER.get("sql").label == "Sales qualified lead"  # the original is untouched
    custom = StageLadder(
        [
            LeadStage(key="b", label="B", order=2, owner="sales"),
            LeadStage(key="a", label="A", order=1, owner="marketing"),
        ]
    )
    assert custom.keys == ("a", "b")
    assert [s.key for s in custom] == ["a", "b"]


def test_ladder_lookup_error_lists_known_keys() -> None:
    with pytest.raises(UnknownKeyError, match="no lead stage 'demo'") as info:
        STANDARD_LADDER.get("demo")
    assert isinstance(info.value, LookupError)
    assert "mql" in str(info.value)
    with pytest.raises(UnknownKeyError):
        STANDARD_LADDER.without("demo")


@pytest.mark.parametrize(
    ("stages", "message"),
    [
        ([], "at least one stage"),
        (
            [
                LeadStage(key="a", label="A", order=1, owner="sales"),
                LeadStage(key="a", label="A2", order=2, owner="sales"),
            ],
            "appears twice",
        ),
        (
            [
                LeadStage(key="a", label="A", order=1, owner="sales"),
                LeadStage(key="b", label="B", order=1, owner="sales"),
            ],
            "used by two stages",
        ),
    ],
)
def test_bad_ladders(stages: list[LeadStage], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        StageLadder(stages)


def test_lead_stage_validates_team() -> None:
    with pytest.raises(ValidationError, match="expected one of marketing, sales, got 'finance'"):
        LeadStage(key="x", label="X", order=1, owner="finance")


def test_records_are_frozen_and_slotted() -> None:
    lead = Lead(id="L1", created_at=T0, source="referral")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        lead.source = "web"  # type: ignore[misc]
    assert not hasattr(lead, "__dict__")
    assert attrs.evolve(lead, source="web").source == "web"


@pytest.mark.parametrize(
    "build",
    [
        lambda: Lead(id="L1", created_at=NAIVE),
        lambda: StageChange(lead_id="L1", to_stage="mql", at=NAIVE),
        lambda: Handoff(lead_id="L1", notified_at=NAIVE, stage="mql"),
        lambda: Touch(lead_id="L1", rep_id="R1", at=NAIVE, channel="call"),
        lambda: Deal(id="D1", amount=1, opened_at=NAIVE),
        lambda: Deal(id="D1", amount=1, opened_at=T0, closed_at=NAIVE),
    ],
)
def test_naive_times_are_errors(build: object) -> None:
    with pytest.raises(ValidationError, match="timezone-aware") as info:
        build()  # type: ignore[operator]
    assert "naive 2026-03-02T09:00:00" in str(info.value)


FAR_PAST = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))  # before year 1 in UTC
FAR_FUTURE = datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5)))  # after 9999


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda t: Lead(id="L1", created_at=t), "created_at"),
        (lambda t: StageChange(lead_id="L1", to_stage="mql", at=t), "at"),
        (lambda t: OwnerChange(lead_id="L1", owner_id="R1", at=t), "at"),
        (lambda t: Handoff(lead_id="L1", notified_at=t, stage="mql"), "notified_at"),
        (lambda t: Touch(lead_id="L1", rep_id="R1", at=t, channel="call"), "at"),
        (lambda t: Deal(id="L1", amount=1, opened_at=t), "opened_at"),
        (lambda t: Deal(id="L1", amount=1, opened_at=T0, closed_at=t), "closed_at"),
    ],
)
@pytest.mark.parametrize(
    "moment",
    [
        FAR_PAST,
        FAR_FUTURE,
        datetime.min.replace(tzinfo=UTC),
        datetime.max.replace(tzinfo=UTC),
        datetime(1899, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2100, 1, 1, tzinfo=UTC),
        datetime(2099, 12, 31, 20, tzinfo=timezone(timedelta(hours=-5))),  # 2100 in UTC
    ],
)
def test_times_outside_the_supported_years_are_errors(
    build: Callable[[datetime], object], field: str, moment: datetime
) -> None:
    # The UTC conversion of these overflowed (OverflowError) and stopped a whole sync.
    with pytest.raises(ValidationError) as info:
        build(moment)
    assert info.value.field == field
    assert info.value.record_id == "L1"
    assert f"expected a time in the years 1900 to 2099 (in UTC), got {moment.isoformat()}" in str(
        info.value
    )


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1900, 1, 1, tzinfo=UTC),
        datetime(1900, 1, 1, 5, tzinfo=timezone(timedelta(hours=5))),
        datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2099, 12, 31, 18, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_times_at_the_ends_of_the_supported_years(moment: datetime) -> None:
    assert Lead(id="L1", created_at=moment).created_at == moment
    deal = Deal(id="D1", amount=1, opened_at=moment, closed_at=moment)
    assert deal.closed_at == moment


def test_error_names_field_and_record() -> None:
    with pytest.raises(ValidationError) as info:
        Lead(id="L-7", created_at=NAIVE)
    assert info.value.field == "created_at"
    assert info.value.record_id == "L-7"
    assert str(info.value).startswith("record L-7: created_at: expected a timezone-aware")
    located = info.value.at(file="leads.csv", line=12)
    assert str(located).startswith("leads.csv:12: record L-7: created_at:")
    assert located.at(field="lead").field == "lead.created_at"


def test_non_datetime_time_is_an_error() -> None:
    with pytest.raises(ValidationError, match="got str"):
        Lead(id="L1", created_at="2026-01-01")  # type: ignore[arg-type]


def test_any_zone_is_accepted() -> None:
    utc = Lead(id="L1", created_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert utc.created_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize("bad_id", ["", "  ", None, 5])
def test_ids_must_be_non_empty_strings(bad_id: object) -> None:
    with pytest.raises(ValidationError, match="non-empty string"):
        Lead(id=bad_id, created_at=T0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "build",
    [
        lambda: Lead(id="L1", created_at=T0, hand_raiser="false"),
        lambda: Handoff(lead_id="L1", notified_at=T0, stage="mql", hand_raiser=1),
        lambda: Deal(id="D1", amount=5, opened_at=T0, closed_at=T0, won="yes"),
    ],
)
def test_yes_no_fields_take_booleans_only(build: Callable[[], object]) -> None:
    # A string "false" is truthy: taking it would count the lead as a hand-raiser.
    with pytest.raises(ValidationError, match="expected True or False") as info:
        build()
    assert info.value.record_id in ("L1", "D1")


def test_handoff_defaults_and_teams() -> None:
    handoff = Handoff(lead_id="L1", notified_at=T0, stage="mql", owner_id="R1", hand_raiser=True)
    assert handoff.from_team is Team.MARKETING
    assert handoff.to_team is Team.SALES
    back = Handoff(
        lead_id="L1", notified_at=T0, stage="lead", from_team="sales", to_team="marketing"
    )
    assert back.to_team is Team.MARKETING
    with pytest.raises(ValidationError, match="from one team to the other") as info:
        Handoff(lead_id="L1", notified_at=T0, stage="mql", from_team="sales")
    assert info.value.record_id == "L1"


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Handoff(lead_id="L1", notified_at=T0, stage="mql", from_team="mktg"), "from_team"),
        (lambda: Handoff(lead_id="L1", notified_at=T0, stage="mql", to_team="sails"), "to_team"),
        (lambda: Rep(id="R1", team="ops"), "team"),
        (lambda: LeadStage(key="x", label="X", order=1, owner="ops"), "owner"),
    ],
)
def test_a_bad_team_names_its_own_field(build: Callable[[], object], field: str) -> None:
    # Every team field was reported as "team", a field hand-offs and stages do not have.
    with pytest.raises(ValidationError, match="expected one of marketing, sales") as info:
        build()
    assert info.value.field == field


def test_touch_channel() -> None:
    assert Touch(lead_id="L1", rep_id="R1", at=T0, channel="CALL").channel is Channel.CALL
    with pytest.raises(ValidationError, match="expected one of call, email, meeting, other"):
        Touch(lead_id="L1", rep_id="R1", at=T0, channel="fax")


def test_deal_money_is_decimal() -> None:
    deal = Deal(
        id="D1", amount="100,000", opened_at=T0, closed_at=T0 + timedelta(days=30), won=True
    )
    assert deal.amount == Decimal("100000")
    assert not deal.is_open
    assert Deal(id="D2", amount=0.1, opened_at=T0).amount == Decimal("0.1")
    assert Deal(id="D3", amount=5, opened_at=T0).is_open


def test_deal_rules() -> None:
    with pytest.raises(ValidationError, match="must not be negative") as info:
        Deal(id="D1", amount=-5, opened_at=T0)
    assert info.value.record_id == "D1"
    with pytest.raises(ValidationError, match="won deal needs closed_at"):
        Deal(id="D1", amount=5, opened_at=T0, won=True)
    with pytest.raises(ValidationError, match="before opened_at"):
        Deal(id="D1", amount=5, opened_at=T0, closed_at=T0 - timedelta(days=1))
    with pytest.raises(ValidationError, match="amount of money"):
        Deal(id="D1", amount="lots", opened_at=T0)


def test_rep() -> None:
    rep = Rep(id="R1", name="Ada", email="ada@example.com")
    assert rep.team is Team.SALES
    assert rep.active
    assert Rep(id="M1", team="Marketing").team is Team.MARKETING


def test_stage_change() -> None:
    change = StageChange(lead_id="L1", from_stage="lead", to_stage="mql", at=T0, owner_id="R1")
    assert change.to_stage == "mql"


def test_closing_in_the_repeated_hour_is_after_opening() -> None:
    # 2026-11-01 in New York: 01:10 EST (fold=1) comes 30 minutes after 01:40 EDT.
    ny = ZoneInfo("America/New_York")
    opened = datetime(2026, 11, 1, 1, 40, tzinfo=ny)
    closed = datetime(2026, 11, 1, 1, 10, fold=1, tzinfo=ny)
    deal = Deal(id="D1", amount=5, opened_at=opened, closed_at=closed, won=True)
    assert deal.closed_at == closed
    with pytest.raises(ValidationError, match="before opened_at"):
        Deal(id="D2", amount=5, opened_at=closed, closed_at=opened)
