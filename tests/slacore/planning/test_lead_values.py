from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slacore import (
    LeadValueTable,
    PlanError,
    UnknownKeyError,
    ValidationError,
    lead_value,
)

SEED_000 = {"referral": 5000, "content": 1000, "webinar": 2000, "web sales-ready": 4000}


def test_seed_001_lead_values() -> None:
    ebook = lead_value("1%", 100_000, segment="ebook download, mid-market VP")
    demo = lead_value(0.03, 100_000, segment="demo request, mid-market VP")
    assert ebook.value == Decimal("1000.00")
    assert demo.value == Decimal("3000.00")
    assert ebook.close_rate == Fraction(1, 100)
    assert demo.explain() == "A demo request, mid-market VP lead is worth 3% x $100,000 = $3,000."
    assert lead_value(0.5, 3).explain() == "A lead is worth 50% x $3 = $1.50."
    assert demo.to_dict()["value"] == "3000.00"


@pytest.mark.parametrize(
    ("rate", "deal", "message"),
    [(1.5, 100, "between 0 and 1"), (-0.1, 100, "between 0 and 1"), (0.1, -5, "negative")],
)
def test_lead_value_rejects(rate: float, deal: int, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        lead_value(rate, deal)


def test_seed_000_sample_month_is_550000() -> None:
    table = LeadValueTable.from_mapping(SEED_000)
    month = table.value_of(
        {"referral": 10, "content": 200, "webinar": 50, "web sales-ready": 50}, quota=550_000
    )
    assert [line.value for line in month.lines] == [
        Decimal(50_000),
        Decimal(200_000),
        Decimal(100_000),
        Decimal(200_000),
    ]
    assert month.total == Decimal("550000")
    assert month.count == 310
    assert month.meets_quota is True
    assert month.explain().endswith("= $550,000 of lead value, which meets the $550,000 quota.")
    assert "| **total** | 310 |  | $550,000 |" in month.to_markdown()
    assert month.to_dict()["total"] == "550000"
    short = table.value_of({"content": 1}, quota=2000)
    assert short.meets_quota is False
    assert "misses" in short.explain()
    assert table.value_of({"content": 1}).meets_quota is None


def test_table_is_a_mapping() -> None:
    table = LeadValueTable.from_mapping(SEED_000)
    assert table["webinar"] == Decimal(2000)
    assert list(table) == list(SEED_000)
    assert len(table) == 4
    assert "webinar" in table
    assert "events" not in table
    assert table.get("events") is None
    assert dict(table) == {k: Decimal(v) for k, v in SEED_000.items()}
    assert table.to_dict()["referral"] == "5000"
    assert "| referral | $5,000 |" in table.to_markdown()
    with pytest.raises(UnknownKeyError, match="no lead value for 'events'") as info:
        table.value_of({"events": 3})
    assert info.value.known == tuple(SEED_000)


def test_table_from_lead_values() -> None:
    table = LeadValueTable.from_lead_values(
        [lead_value("1%", 100_000, segment="ebook"), lead_value("3%", 100_000, segment="demo")]
    )
    assert dict(table) == {"ebook": Decimal("1000.00"), "demo": Decimal("3000.00")}
    with pytest.raises(ValidationError, match="needs a segment"):
        LeadValueTable.from_lead_values([lead_value("1%", 1)])


@pytest.mark.parametrize(
    ("values", "message"),
    [({"a": -1}, "must not be negative"), ({"": 1}, "expected a name")],
)
def test_bad_tables(values: dict[str, int], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LeadValueTable.from_mapping(values)


def test_duplicate_names_are_errors() -> None:
    with pytest.raises(ValidationError, match="appears twice"):
        LeadValueTable((("a", Decimal(1)), ("a", Decimal(2))))


def test_bad_counts() -> None:
    table = LeadValueTable.from_mapping(SEED_000)
    with pytest.raises(ValidationError, match="whole number") as info:
        table.value_of({"content": -1})
    assert info.value.field == "mix.content"


def test_quota_by_one_source_or_a_mix() -> None:
    table = LeadValueTable.from_mapping({"demo": 3000, "ebook": 1000})
    assert table.mix_for_quota(300_000, shares="demo").count == 100
    assert table.mix_for_quota(300_000, shares="ebook").count == 300
    mix = table.mix_for_quota(300_000, shares={"demo": 1, "ebook": 3})
    # 1 demo + 3 ebooks = $6,000 a unit: 50 units.
    assert [(line.key, line.count) for line in mix.lines] == [("demo", 50), ("ebook", 150)]
    assert mix.total == Decimal(300_000)
    assert dict(mix.shares) == {"demo": Fraction(1, 4), "ebook": Fraction(3, 4)}
    assert mix.explain() == (
        "To reach $300,000 of lead value: 50 demo, 150 ebook ($300,000; counts round up)."
    )
    even = table.mix_for_quota(1000)
    assert [line.count for line in even.lines] == [1, 1]
    assert even.to_dict()["total"] == "4000"


def test_quota_errors() -> None:
    table = LeadValueTable.from_mapping({"demo": 3000, "free": 0})
    with pytest.raises(PlanError, match="worth nothing"):
        table.mix_for_quota(1000, shares="free")
    with pytest.raises(UnknownKeyError):
        table.mix_for_quota(1000, shares="webinar")
    with pytest.raises(ValidationError, match="negative"):
        table.mix_for_quota(-1)
    with pytest.raises(ValidationError, match="negative"):
        table.mix_for_quota(1, shares={"demo": -1})


@given(
    values=st.dictionaries(
        st.sampled_from(["a", "b", "c", "d"]), st.integers(1, 10_000), min_size=1
    ),
    quota=st.integers(0, 10_000_000),
    weights=st.lists(st.integers(1, 10), min_size=4, max_size=4),
)
def test_quota_mix_reaches_the_quota_minimally(
    values: dict[str, int], quota: int, weights: list[int]
) -> None:
    table = LeadValueTable.from_mapping(values)
    shares = {key: weights[i] for i, key in enumerate(values)}
    mix = table.mix_for_quota(quota, shares=shares)
    assert mix.total >= quota
    assert table.value_of({line.key: line.count for line in mix.lines}).total == mix.total


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ({"web": 10}, "LeadValueTable.from_mapping"),
        ((("web",),), "expected a \\(name, value\\) pair"),
        ("web", "expected \\(name, value\\) pairs"),
    ],
)
def test_a_table_built_from_the_wrong_shape_says_how(items: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LeadValueTable(items)  # type: ignore[arg-type]
