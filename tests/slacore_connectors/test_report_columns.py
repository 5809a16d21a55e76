"""The report's work on the store's Arrow tables: a period's rows, the first and last
hand-off, each instant's day in the calendar's zone and the period's deliveries answer what
the same work on record objects answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from slacore import Handoff
from slacore.agreement import Agreement
from slacore_connectors.report import _columns

EXAMPLE = Path(__file__).parents[2] / "examples" / "company_a.toml"
T0 = datetime(2020, 3, 1, tzinfo=UTC)
ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Apia", "UTC"]
moments = st.integers(-5 * 24 * 60, 400 * 24 * 60).map(lambda m: T0 + timedelta(minutes=m))
handoffs = st.builds(
    lambda at, zone, source, segment: Handoff(
        lead_id="L1",
        notified_at=at.astimezone(zone),
        stage="mql",
        source=source,
        segment=segment,
    ),
    moments,
    st.sampled_from([UTC, timezone(timedelta(hours=-4)), ZoneInfo("Asia/Kolkata")]),
    st.sampled_from(["referral", "content", "web sales-ready", "fax", None]),
    st.sampled_from(["smb", "", None]),
)


def table(records: list[Handoff]) -> Any:
    """The hand-offs as :meth:`Store.columns` gives them."""
    return pa.table(
        {
            "notified_at": pa.array(
                [h.notified_at for h in records], type=pa.timestamp("us", tz="UTC")
            ),
            "lead_id": pa.array([h.lead_id for h in records], type=pa.string()),
            "stage": pa.array([h.stage for h in records], type=pa.string()),
            "source": pa.array([h.source for h in records], type=pa.string()),
            "segment": pa.array([h.segment for h in records], type=pa.string()),
        }
    )


@settings(max_examples=100, deadline=None)
@given(at=st.lists(moments, min_size=1, max_size=30), zone=st.sampled_from(ZONES))
def test_local_days_are_the_dates_in_the_zone(at: list[datetime], zone: str) -> None:
    place = ZoneInfo(zone)
    us = np.asarray(
        [(t - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) for t in at]
    )
    first, days = _columns.local_days(us, place)
    found = [first + timedelta(days=int(n)) for n in days]
    assert found == [t.astimezone(place).date() for t in at]


@settings(max_examples=60, deadline=None)
@given(
    records=st.lists(handoffs, max_size=25),
    basis=st.sampled_from(["source", "segment"]),
    valued=st.booleans(),
)
def test_deliveries_of_a_table_are_the_agreements_deliveries(
    records: list[Handoff], basis: str, valued: bool
) -> None:
    agreement = Agreement.load(EXAMPLE)
    value = agreement.marketing.lead_value
    assert value is not None
    if valued:
        value = attrs.evolve(value, basis=basis, values={"smb": 3, "referral": 5, "": 1})
    marketing = attrs.evolve(agreement.marketing, lead_value=value if valued else None)
    agreement = attrs.evolve(agreement, marketing=marketing)
    got = _columns.deliveries(agreement, table(records))
    assert got == agreement.deliveries(records)
    # Equal deliveries are one object, as the agreement makes them.
    assert len({id(d) for d in got}) == len(set(got))


@settings(max_examples=60, deadline=None)
@given(records=st.lists(handoffs, max_size=25), first=moments, days=st.integers(0, 60))
def test_a_periods_rows_and_the_bounds(records: list[Handoff], first: datetime, days: int) -> None:
    stop = first + timedelta(days=days)
    rows = _columns.between(table(records), "notified_at", first, stop)
    chosen = [h for h in records if first <= h.notified_at < stop]
    assert rows.column("notified_at").to_pylist() == [h.notified_at for h in chosen]
    held = _columns.bounds(table(records), "notified_at")
    if not records:
        assert held is None
    else:
        assert held == (
            min(h.notified_at for h in records),
            max(h.notified_at for h in records),
        )


def test_a_period_holding_every_row_is_the_table_itself() -> None:
    records = [
        Handoff(lead_id="L1", notified_at=T0 + timedelta(days=n), stage="mql") for n in range(3)
    ]
    whole = table(records)
    assert _columns.between(whole, "notified_at", T0, T0 + timedelta(days=3)) is whole
    assert _columns.between(whole, "notified_at", T0, T0 + timedelta(days=2)).num_rows == 2
