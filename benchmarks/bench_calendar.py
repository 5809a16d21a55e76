"""Benchmark: business-time addition, slacore against pandas and businesstimedelta.

The calendar is Mon-Fri 09:00-17:00 in America/New_York with US public holidays. The inputs
are random instants (fixed seed, whole seconds, 2024-2027) as timezone-aware UTC datetimes,
the way CRM exports give them; pandas gets the same instants as naive New York wall times
(its business-hour offsets do not take time zones), converted outside the timed part.

For each duration the script times slacore's ``add_many`` and a loop of scalar ``add``,
pandas' ``DatetimeIndex + CustomBusinessHour(n)`` and a loop of businesstimedelta's
``start + BusinessTimeDelta(rules, hours=n)``, checks that every answer agrees, and prints the
times and how many times faster ``add_many`` is. Two answers agree when equal, or when ours is
a closing time (time ran out exactly at 17:00) and the peer's is the next opening: the same
point in business time. businesstimedelta needs about 0.4 ms an item, so it is timed on the
first 10,000 instants unless ``--full`` is given; ratios compare time per item.

    python benchmarks/bench_calendar.py [--n 100000] [--full]

Exits 1 if an answer disagrees, else 0.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from slacore.calendar.business import BusinessCalendar

SEED = 20260105
NY = ZoneInfo("America/New_York")
FIRST = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_SECONDS = 4 * 365 * 86400
PEER_N = 10_000
TARGET = 50.0


def random_instants(n: int) -> list[datetime]:
    rng = random.Random(SEED)
    return [FIRST + timedelta(seconds=rng.randrange(SPAN_SECONDS)) for _ in range(n)]


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = run()
    return time.perf_counter() - began, result


def best_of(repeats: int, run: Callable[[], Any]) -> tuple[float, Any]:
    best, result = timed(run)
    for _ in range(repeats - 1):
        seconds, result = timed(run)
        best = min(best, seconds)
    return best, result


def disagreements(
    cal: BusinessCalendar, ours: Sequence[datetime], theirs: Sequence[datetime]
) -> tuple[int, int, list[str]]:
    """Count answers that differ, and those equal only by the close/next-opening rule.

    ``theirs`` are naive New York wall times or aware datetimes.
    """
    bad = at_close = 0
    examples: list[str] = []
    for mine, peer in zip(ours, theirs, strict=False):
        peer_wall = peer.astimezone(NY).replace(tzinfo=None) if peer.tzinfo else peer
        if mine.replace(tzinfo=None) == peer_wall:
            continue
        if not cal.is_open(mine) and cal.next_open(mine).replace(tzinfo=None) == peer_wall:
            at_close += 1
            continue
        bad += 1
        if len(examples) < 3:
            examples.append(f"ours {mine.isoformat()} vs {peer_wall.isoformat()}")
    return bad, at_close, examples


def scalar_loop(cal: BusinessCalendar, starts: list[datetime], delta: timedelta) -> list[datetime]:
    return [cal.add(start, delta) for start in starts]


def pandas_runner(walls: list[datetime], hours: int, us_dates: list[Any]) -> Callable[[], Any]:
    import pandas as pd
    from pandas.tseries.offsets import CustomBusinessHour

    index = pd.DatetimeIndex(walls)
    offset = CustomBusinessHour(n=hours, start="09:00", end="17:00", holidays=us_dates)

    def run() -> Any:
        with warnings.catch_warnings():
            # pandas applies this offset item by item and says so; that is what we time.
            warnings.simplefilter("ignore")
            return index + offset

    return run


def btd_runner(starts: list[datetime], hours: int, us_dates: list[Any]) -> Callable[[], Any]:
    import businesstimedelta
    import pytz

    zone = pytz.timezone("America/New_York")
    closed = set(us_dates)
    rules = businesstimedelta.Rules(
        [
            businesstimedelta.WorkDayRule(
                start_time=datetime.min.time().replace(hour=9),
                end_time=datetime.min.time().replace(hour=17),
                working_days=[0, 1, 2, 3, 4],
                tz=zone,
            ),
            businesstimedelta.HolidayRule(closed, tz=zone),
        ]
    )
    delta = businesstimedelta.BusinessTimeDelta(rules, hours=hours)

    def run() -> list[datetime]:
        return [start + delta for start in starts]

    return run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="instants (default 100,000)")
    parser.add_argument(
        "--full", action="store_true", help=f"time businesstimedelta on all n, not {PEER_N:,}"
    )
    parser.add_argument("--quick", action="store_true", help="10,000 instants, for a smoke run")
    args = parser.parse_args(argv)
    n = 10_000 if args.quick else max(1, args.n)

    cal = BusinessCalendar(
        timezone="America/New_York", hours={"mon-fri": "09:00-17:00"}, holidays="US"
    )
    starts = random_instants(n)
    starts_ny = [start.astimezone(NY) for start in starts]
    walls = [start.replace(tzinfo=None) for start in starts_ny]
    us_dates = sorted(holidays.country_holidays("US", years=range(2023, 2031)).keys())

    cold, _ = timed(lambda: cal.add_many(starts, timedelta(hours=1)))
    print(f"calendar: {cal.describe()}")
    print(f"instants: {n:,} (seed {SEED}), UTC-aware, {FIRST.year}-{FIRST.year + 3}")
    print(f"first add_many call, loading the years: {cold:.3f} s; timings below are warm\n")

    try:
        import businesstimedelta  # noqa: F401
    except ImportError:
        have_btd = False
        print("businesstimedelta is not installed (pip install businesstimedelta): skipped\n")
    else:
        have_btd = True
    peer_n = n if args.full else min(n, PEER_N)

    header = f"{'delta':<6}{'implementation':<44}{'items':>9}{'seconds':>10}{'us/item':>10}"
    header += f"{'add_many is':>16}  agreement"
    print(header)
    print("-" * len(header))
    failed = False
    pandas_ratios: list[float] = []
    for hours in (1, 10):
        delta = timedelta(hours=hours)
        rows: list[tuple[str, int, float, str]] = []
        ours_time, ours = best_of(3, partial(cal.add_many, starts, delta))
        rows.append(("slacore add_many", n, ours_time, "reference"))
        zoned_time, zoned = best_of(3, partial(cal.add_many, starts_ny, delta))
        rows.append(
            ("slacore add_many, starts in New York time", n, zoned_time, _same(ours, zoned))
        )
        scalar_time, scalar = timed(partial(scalar_loop, cal, starts, delta))
        rows.append(("slacore add (scalar loop)", n, scalar_time, _same(ours, scalar)))
        failed = failed or ours != zoned or ours != scalar

        pandas_time, pandas_result = timed(pandas_runner(walls, hours, us_dates))
        bad, at_close, examples = disagreements(cal, ours, pandas_result.to_pydatetime())
        failed = failed or bad > 0
        rows.append(
            ("pandas CustomBusinessHour (index + offset)", n, pandas_time, _verdict(bad, at_close))
        )
        pandas_ratios.append((pandas_time / n) / (ours_time / n))
        if have_btd:
            btd_time, btd_result = timed(btd_runner(starts[:peer_n], hours, us_dates))
            btd_bad, btd_close, btd_examples = disagreements(cal, ours[:peer_n], btd_result)
            failed = failed or btd_bad > 0
            examples += btd_examples
            rows.append(
                ("businesstimedelta (loop)", peer_n, btd_time, _verdict(btd_bad, btd_close))
            )

        per_item_ours = ours_time / n
        for name, items, seconds, agreement in rows:
            per_item = seconds / items
            ratio = per_item / per_item_ours
            speed = "1.0x" if name == "slacore add_many" else f"{ratio:.1f}x faster"
            print(
                f"{hours}h".ljust(6)
                + f"{name:<44}{items:>9,}{seconds:>10.3f}{per_item * 1e6:>10.2f}"
                + f"{speed:>16}  {agreement}"
            )
        for example in examples:
            print(f"      disagreement: {example}")
        print()

    worst = min(pandas_ratios)
    verdict = "met" if worst >= TARGET else "NOT met"
    print(
        f"target: add_many at least {TARGET:.0f}x faster than pandas: {verdict} "
        f"(worst {worst:.1f}x)"
    )
    return 1 if failed else 0


def _same(expected: Sequence[datetime], got: Sequence[datetime]) -> str:
    return "same answers" if list(expected) == list(got) else "DIFFERENT ANSWERS"


def _verdict(bad: int, at_close: int) -> str:
    if bad:
        return f"{bad:,} DISAGREE"
    return f"all agree ({at_close:,} as close = next opening)"


if __name__ == "__main__":
    sys.exit(main())
