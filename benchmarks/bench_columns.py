"""Benchmark: evaluate_columns on Arrow tables made directly with numpy, no record objects.

The records of bench_response.py (hand-offs over a quarter, 50 reps, 3 touches a hand-off,
mostly fast responses with a long tail) drawn with numpy straight into pyarrow Tables, so the
process holds no record object and the tables take seconds to make, not a minute. Each rule
is evaluated ``--repeat`` times; prints the median and best, and with ``--profile`` the top
of a cProfile of one more run.

    python benchmarks/bench_columns.py                       # 1,000,000 hand-offs
    python benchmarks/bench_columns.py --n 300000 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from slacore import BusinessCalendar, ResponseRule
from slacore.rules.cadence import CadenceRule
from slacore.rules.eligibility import hand_raisers, source

SOURCES = np.array(["web", "referral", "webinar", "content"])
CHANNELS = np.array(["call", "call", "email", "meeting"])


def tables(n: int, touches_per: int, seed: int = 7) -> tuple[pa.Table, pa.Table]:
    """``n`` hand-offs and ``touches_per`` touches each, as Arrow tables."""
    rng = np.random.default_rng(seed)
    start = int(datetime(2026, 1, 5, tzinfo=UTC).timestamp()) * 1_000_000
    notified = start + rng.integers(0, 90 * 86400 * 1_000_000, n)
    leads = np.char.add("L", np.arange(n).astype("U7"))
    owners = np.char.add("R", rng.integers(0, 50, n).astype("U2"))
    stamp = pa.timestamp("us", tz="UTC")
    handoffs = pa.table(
        {
            "lead_id": leads,
            "notified_at": pa.array(notified, stamp),
            "stage": np.full(n, "mql"),
            "owner_id": owners,
            "source": SOURCES[rng.integers(0, 4, n)],
            "hand_raiser": rng.random(n) < 0.7,
        }
    )
    lead = np.repeat(np.arange(n), touches_per)
    # Mostly fast responses, a long tail of slow ones, some before notification.
    delay = ((rng.exponential(30000, len(lead)) - 600) * 1e6).astype(np.int64)
    touches = pa.table(
        {
            "lead_id": leads[lead],
            "rep_id": owners[lead],
            "at": pa.array(notified[lead] + delay, stamp),
            "channel": CHANNELS[rng.integers(0, 4, len(lead))],
        }
    )
    return handoffs, touches


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="hand-offs (default 1,000,000)")
    parser.add_argument("--touches", type=int, default=3, help="touches per hand-off")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each (default 3)")
    parser.add_argument("--profile", action="store_true", help="profile one more run of each")
    args = parser.parse_args()

    began = time.perf_counter()
    handoffs, touches = tables(args.n, args.touches)
    print(
        f"made {handoffs.num_rows:,} hand-offs and {touches.num_rows:,} touches as Arrow "
        f"tables in {time.perf_counter() - began:.1f} s"
    )
    calendar = BusinessCalendar(
        timezone="America/New_York", hours={"mon-fri": "09:00-17:00"}, holidays="US"
    )
    rules: dict[str, Any] = {
        "seed 000: 1 business hour, hand-raisers, no webinar": ResponseRule(
            within="1h", calendar=calendar, applies_to=hand_raisers() & ~source("webinar")
        ),
        "24 hours of clock time, calls only": ResponseRule(
            within="24h", clock="calendar", counts=("call",)
        ),
        "cadence: 5 calls in 14 days": CadenceRule(min_touches=5, within="14d"),
    }
    now = datetime(2026, 4, 6, tzinfo=UTC)
    print(f"{'evaluate_columns':<52} {'median s':>8} {'best s':>7} {'per hand-off':>13}")
    for name, rule in rules.items():
        took: list[float] = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            report = rule.evaluate_columns(handoffs, touches, now=now)
            took.append(time.perf_counter() - began)
        median = statistics.median(took)
        print(
            f"{name:<52} {median:>8.2f} {min(took):>7.2f} "
            f"{median / args.n * 1e6:>10.2f} us   ({report.summary.eligible:,} eligible)"
        )
        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(rule.evaluate_columns, handoffs, touches, now=now)
            pstats.Stats(profile).sort_stats("tottime").print_stats(12)
    return 0


if __name__ == "__main__":
    sys.exit(main())
