"""Benchmark: the response-time SLA evaluated end to end on a million hand-offs.

1,000,000 hand-offs with 3,000,000 touches over 50 reps and a quarter of time, evaluated
against seed 000's rule (1 business hour, Mon-Fri 09:00-17:00 New York with US holidays):
due times, first touch, status and the summary overall, per rep and per source. Also the
same with a 24-hour calendar-clock rule, and the cadence rule (5 calls in 14 days).

Prints the median and best time of each evaluation over ``--repeat`` runs (this class of
machine varies by a fifth from run to run) and the peak memory of the process (the inputs
themselves take most of it; the figure for the evaluation is the growth of the peak).

The touches are measured in two layouts (``--order``). "lead": each lead's touches made right
after its hand-off, so that one pass over them reads memory nearly in order. "time": the same
touches made in time order, as ``Store.records`` yields them; a pass then reads each lead's
figures at scattered places, which costs about twice as much on this class of machine.

    python benchmarks/bench_response.py                 # 1,000,000 hand-offs, both layouts
    python benchmarks/bench_response.py --n 100000 --order lead
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
from datetime import UTC, datetime

from slacore import BusinessCalendar, Handoff, ResponseRule, Touch
from slacore.cadence import CadenceRule
from slacore.eligibility import hand_raisers, source

SOURCES = ("web", "referral", "webinar", "content")
CHANNELS = ("call", "call", "email", "meeting")


def peak_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(n: int, touches_per: int, seed: int = 7) -> tuple[list[Handoff], list[Touch]]:
    rnd = random.Random(seed)
    start = datetime(2026, 1, 5, tzinfo=UTC).timestamp()
    quarter = 90 * 86400
    handoffs: list[Handoff] = []
    touches: list[Touch] = []
    for i in range(n):
        lead = f"L{i:07d}"
        owner = f"R{rnd.randrange(50):02d}"
        notified = start + rnd.randrange(quarter)
        handoffs.append(
            Handoff(
                lead_id=lead,
                notified_at=datetime.fromtimestamp(notified, UTC),
                stage="mql",
                owner_id=owner,
                source=SOURCES[rnd.randrange(4)],
                hand_raiser=rnd.random() < 0.7,
            )
        )
        for _ in range(touches_per):
            # Mostly fast responses, a long tail of slow ones, some before notification.
            delay = rnd.expovariate(1 / 30000) - 600
            touches.append(
                Touch(
                    lead_id=lead,
                    rep_id=owner,
                    at=datetime.fromtimestamp(notified + delay, UTC),
                    channel=CHANNELS[rnd.randrange(4)],
                )
            )
    return handoffs, touches


def in_time_order(touches: list[Touch]) -> list[Touch]:
    """The same touches made again in time order (made, not only sorted: objects made one
    after the other sit together in memory, as those read from a store do)."""
    rows = sorted((t.at, t.lead_id, t.rep_id, t.channel) for t in touches)
    touches.clear()
    return [
        Touch(lead_id=lead, rep_id=rep, at=at, channel=channel) for at, lead, rep, channel in rows
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="hand-offs (default 1,000,000)")
    parser.add_argument("--touches", type=int, default=3, help="touches per hand-off")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each (default 3)")
    parser.add_argument(
        "--order",
        choices=("lead", "time", "both"),
        default="both",
        help="touches grouped by lead, in time order, or both (default)",
    )
    args = parser.parse_args()

    began = time.perf_counter()
    handoffs, touches = build(args.n, args.touches)
    print(
        f"built {len(handoffs):,} hand-offs and {len(touches):,} touches "
        f"in {time.perf_counter() - began:.1f} s; peak memory {peak_mib():,.0f} MiB"
    )
    now = datetime(2026, 4, 6, tzinfo=UTC)
    calendar = BusinessCalendar(
        timezone="America/New_York", hours={"mon-fri": "09:00-17:00"}, holidays="US"
    )
    rules = {
        "seed 000: 1 business hour, hand-raisers, no webinar": ResponseRule(
            within="1h", calendar=calendar, applies_to=hand_raisers() & ~source("webinar")
        ),
        "24 hours of clock time, calls only": ResponseRule(
            within="24h", clock="calendar", counts=("call",)
        ),
        "cadence: 5 calls in 14 days": CadenceRule(min_touches=5, within="14d"),
    }
    for layout in ("lead", "time") if args.order == "both" else (args.order,):
        if layout == "time":
            began = time.perf_counter()
            touches = in_time_order(touches)
            print(f"\ntouches made again in time order in {time.perf_counter() - began:.1f} s")
        print(f"touches {'grouped by lead' if layout == 'lead' else 'in time order'}:")
        measure(rules, handoffs, touches, now, args.repeat)
    return 0


def measure(
    rules: dict[str, ResponseRule | CadenceRule],
    handoffs: list[Handoff],
    touches: list[Touch],
    now: datetime,
    repeat: int,
) -> None:
    """Time each rule ``repeat`` times and print the figures and the verdict."""
    print(f"{'evaluation':<52} {'median s':>8} {'best s':>7} {'per hand-off':>13} {'peak MiB':>9}")
    worst = 0.0
    for name, rule in rules.items():
        before = peak_mib()
        took: list[float] = []
        for _ in range(repeat):
            began = time.perf_counter()
            report = rule.evaluate(handoffs, touches, now=now)
            took.append(time.perf_counter() - began)
            explained = report.explain()
            del report
        median = statistics.median(took)
        worst = max(worst, median) if isinstance(rule, ResponseRule) else worst
        print(
            f"{name:<52} {median:>8.2f} {min(took):>7.2f} "
            f"{median / len(handoffs) * 1e6:>10.2f} us {peak_mib():>9,.0f}  "
            f"(+{peak_mib() - before:,.0f})"
        )
        print(f"    {explained[:150]}...")
    target = 5.0 * len(handoffs) / 1_000_000
    verdict = "meets" if worst <= target else "misses"
    print(
        f"slowest response evaluation (median of {repeat}) {worst:.2f} s {verdict} "
        f"the target of {target:.2f} s"
    )


if __name__ == "__main__":
    sys.exit(main())
