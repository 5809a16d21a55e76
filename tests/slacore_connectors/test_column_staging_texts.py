"""The staging's shortcuts write the texts ``datetime.isoformat`` and ``json.dumps`` write:
times of whole seconds with whole-minute offsets written from their figures with numpy,
and text columns of plain ASCII quoted as they are."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pyarrow as pa
from hypothesis import example, given
from hypothesis import strategies as st

from slacore_connectors.store._column_staging import _all_plain, _iso, _iso_whole_seconds

EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)

whole_minutes = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timedelta(minutes=m))
offsets = st.one_of(
    whole_minutes,
    st.sampled_from([timedelta(0), timedelta(hours=-4), timedelta(hours=5, minutes=30)]),
)
instants = st.datetimes(
    min_value=EARLIEST.replace(tzinfo=None), max_value=LATEST.replace(tzinfo=None)
).map(lambda t: t.replace(tzinfo=UTC))


def columns(times: list[tuple[datetime, timedelta]]) -> tuple[pa.Array, pa.Array]:
    return (
        pa.array([t for t, _ in times], type=pa.timestamp("us", tz="UTC")),
        pa.array([o for _, o in times], type=pa.duration("us")),
    )


def written(times: list[tuple[datetime, timedelta]]) -> list[str]:
    return [t.astimezone(timezone(o)).isoformat() for t, o in times]


@given(st.lists(st.tuples(instants.map(lambda t: t.replace(microsecond=0)), offsets), min_size=1))
@example([(datetime(1970, 1, 1, tzinfo=UTC), timedelta(hours=-1))])
@example([(datetime(2020, 2, 29, 23, 59, 59, tzinfo=UTC), timedelta(hours=23, minutes=59))])
@example([(datetime(1600, 3, 1, tzinfo=UTC), timedelta(minutes=-1))])
def test_whole_seconds_written_as_isoformat_writes_them(
    times: list[tuple[datetime, timedelta]],
) -> None:
    instants_, offsets_ = columns(times)
    local = instants_.cast(pa.int64()).to_numpy() + offsets_.cast(pa.int64()).to_numpy()
    fast = _iso_whole_seconds(local, offsets_.cast(pa.int64()).to_numpy())
    assert fast is not None
    assert fast.to_pylist() == written(times)


@given(st.lists(st.tuples(instants, offsets), min_size=1))
def test_any_times_written_as_isoformat_writes_them(
    times: list[tuple[datetime, timedelta]],
) -> None:
    assert _iso(*columns(times)).to_pylist() == written(times)


def test_what_the_shortcut_leaves_to_arrow() -> None:
    moment = datetime(2020, 7, 1, 9, tzinfo=UTC)
    for times in (
        [(moment, timedelta(seconds=30))],
        [(moment.replace(microsecond=5), timedelta(0))],
        [(moment, timedelta(0)), (moment, timedelta(hours=1, seconds=1))],
    ):
        instants_, offsets_ = columns(times)
        local = instants_.cast(pa.int64()).to_numpy() + offsets_.cast(pa.int64()).to_numpy()
        assert _iso_whole_seconds(local, offsets_.cast(pa.int64()).to_numpy()) is None
        assert _iso(instants_, offsets_).to_pylist() == written(times)
    with_null = pa.array([moment, None], type=pa.timestamp("us", tz="UTC"))
    offsets_ = pa.array([timedelta(0), None], type=pa.duration("us"))
    assert _iso(with_null, offsets_).to_pylist() == ["2020-07-01T09:00:00+00:00", None]


@given(st.lists(st.text(max_size=6), max_size=20))
def test_plain_means_json_writes_it_as_it_is(values: list[str]) -> None:
    column = pa.array(values, type=pa.string())
    plain = all(json.dumps(v) == f'"{v}"' and v.isascii() and v.isprintable() for v in values)
    assert _all_plain(column) == plain
    if values:
        assert _all_plain(column[1:]) == _all_plain(pa.array(values[1:], type=pa.string()))
