from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slacore import Deal, Lead, UnknownKeyError, ValidationError, calibrate

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def history(segments: dict[str, tuple[int, list[int]]]) -> tuple[list[Lead], list[Deal]]:
    """Leads per segment and the won amounts of the first few of them."""
    leads: list[Lead] = []
    deals: list[Deal] = []
    for segment, (count, won) in segments.items():
        for i in range(count):
            lead = Lead(id=f"{segment}-{i}", created_at=T0, segment=segment)
            leads.append(lead)
            if i < len(won):
                deals.append(
                    Deal(
                        id=f"D-{lead.id}",
                        lead_id=lead.id,
                        amount=won[i],
                        opened_at=T0,
                        closed_at=T0 + timedelta(days=30),
                        won=True,
                    )
                )
    return leads, deals


def test_seed_001_values_learnt_from_history() -> None:
    leads, deals = history(
        {"demo request": (100, [100_000] * 3), "ebook download": (100, [100_000])}
    )
    result = calibrate(leads, deals, prior_leads=0, prior_customers=0)
    demo = result.segment("demo request")
    ebook = result.segment("ebook download")
    assert (demo.leads, demo.customers, demo.close_rate) == (100, 3, Fraction(3, 100))
    assert demo.value == Decimal("3000.00")
    assert ebook.value == Decimal("1000.00")
    assert demo.reliable
    assert ebook.reliable
    assert dict(result.table()) == {
        "demo request": Decimal("3000.00"),
        "ebook download": Decimal("1000.00"),
    }
    assert result.overall_close_rate == Fraction(4, 200)
    assert result.overall_deal_value == Decimal("100000.00")


def test_thin_segments_are_flagged_and_smoothed() -> None:
    leads, deals = history(
        {"big": (200, [10_000] * 4), "thin": (4, [50_000])}  # thin: raw 25% close rate
    )
    result = calibrate(leads, deals, min_sample=30)
    thin = result.segment("thin")
    big = result.segment("big")
    assert thin.raw_close_rate == Fraction(1, 4)
    assert not thin.reliable
    assert big.reliable
    overall = result.overall_close_rate
    # Smoothing pulls the thin segment most of the way to the overall rate ...
    assert overall < thin.close_rate < thin.raw_close_rate
    assert thin.close_rate == Fraction(1 + 30 * overall, 4 + 30)
    # ... and the big one hardly at all.
    assert abs(big.close_rate - big.raw_close_rate) < abs(thin.close_rate - thin.raw_close_rate)
    assert "Fewer than 30 leads in: thin" in result.explain()
    assert "| thin | 4 | 1 | 25% |" in result.to_markdown()
    assert [s.segment for s in result.segments] == ["big", "thin"]  # largest first


def test_each_lead_counts_once_and_lost_or_open_deals_do_not_count() -> None:
    lead = Lead(id="L1", created_at=T0, segment="s")
    other = Lead(id="L2", created_at=T0, segment="s")
    won = {"opened_at": T0, "closed_at": T0 + timedelta(days=1), "won": True}
    deals = [
        Deal(id="D1", lead_id="L1", amount=100, **won),
        Deal(id="D2", lead_id="L1", amount=50, **won),
        Deal(id="D3", lead_id="L2", amount=999, opened_at=T0, closed_at=T0, won=False),
        Deal(id="D4", lead_id="L2", amount=999, opened_at=T0),
        Deal(id="D5", lead_id="nobody", amount=7, **won),
        Deal(id="D6", amount=7, **won),
    ]
    result = calibrate([lead, other], deals, prior_leads=0, prior_customers=0)
    segment = result.segment("s")
    assert (segment.leads, segment.customers, segment.revenue) == (2, 1, Decimal(150))
    assert segment.average_deal_value == Decimal("150.00")
    assert result.unmatched_deals == 2
    assert "2 won deals had no matching lead" in result.explain()


def test_custom_segments_and_unsegmented_leads() -> None:
    leads = [
        Lead(id="a", created_at=T0, source="web", hand_raiser=True),
        Lead(id="b", created_at=T0, source="web"),
        Lead(id="c", created_at=T0),
    ]
    by_raise = calibrate(
        leads, [], segment_of=lambda lead: "hand-raiser" if lead.hand_raiser else "other"
    )
    assert {s.segment for s in by_raise.segments} == {"hand-raiser", "other"}
    plain = calibrate(leads, [])
    assert {s.segment for s in plain.segments} == {"(none)"}
    assert plain.segments[0].value == Decimal("0.00")
    assert plain.to_dict()["leads"] == 3


def test_calibration_errors() -> None:
    lead = Lead(id="L1", created_at=T0)
    with pytest.raises(ValidationError, match="two leads share this id") as info:
        calibrate([lead, lead], [])
    assert info.value.record_id == "L1"
    with pytest.raises(ValidationError, match="whole number"):
        calibrate([], [], min_sample=-1)
    with pytest.raises(UnknownKeyError, match="no segment 'x'"):
        calibrate([lead], []).segment("x")
    empty = calibrate([], [])
    assert empty.leads == 0
    assert empty.overall_close_rate == 0


@given(
    sizes=st.lists(st.tuples(st.integers(1, 60), st.integers(0, 60)), min_size=1, max_size=5),
    prior=st.integers(0, 50),
)
def test_smoothed_rate_lies_between_raw_and_overall(
    sizes: list[tuple[int, int]], prior: int
) -> None:
    segments = {f"s{i}": (n, [1000] * min(won, n)) for i, (n, won) in enumerate(sizes)}
    leads, deals = history(segments)
    result = calibrate(leads, deals, prior_leads=prior)
    overall = result.overall_close_rate
    for segment in result.segments:
        low, high = sorted((segment.raw_close_rate, overall))
        assert low <= segment.close_rate <= high
        assert sum(s.leads for s in result.segments) == result.leads
