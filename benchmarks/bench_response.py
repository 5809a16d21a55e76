"""Benchmark: the response-time SLA evaluated end to end on a million hand-offs.

1,000,000 hand-offs with 3,000,000 touches over 50 reps and a quarter of time, evaluated
against seed 000's rule (1 business hour, Mon-Fri 09:00-17:00 New York with US holidays):
due times, first touch, status and the summary overall, per rep and per source. Also the
same with a 24-hour calendar-clock rule, and the cadence rule (5 calls in 14 days).

Prints the median and best time of each evaluation over ``--repeat`` runs (this class of
machine varies by a fifth from run to run) and the peak memory of the process (the inputs
themselves take most of it; the figure for the evaluation is the growth of the peak).

With ``--changes`` each lead also moves through stages as a CRM records them: accepted by
sales (SAL) a few hours after its hand-off, most then qualified (SQL), and one in twelve
disqualified or sent back to marketing, which withdraws its hand-off; 1.6 stage changes a
hand-off. The rules are given them, as ``slacore report`` gives them.

The records are measured in two layouts (``--order``). "lead": each lead's touches made right
after its hand-off, so that one pass over them reads memory nearly in order. "time": the same
records made again as ``Store.records`` yields them, hand-offs in order of notification and
touches in time order, each with times and ids of its own; a pass then reads each lead's
figures at scattered places, which costs more.

    python benchmarks/bench_response.py                 # 1,000,000 hand-offs, both layouts
    python benchmarks/bench_response.py --n 100000 --order lead
    python benchmarks/bench_response.py --changes --order lead
    python benchmarks/bench_response.py --order lead --columns   # evaluate_columns too

With ``--columns`` every rule is also evaluated by ``evaluate_columns`` on the same
records held as columns (a dict of numpy arrays, pandas DataFrames, pyarrow Tables), in the
same run, in rounds that alternate with ``evaluate`` on the objects; the summaries and per-rep
figures must agree.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from slacore import BusinessCalendar, Handoff, ResponseRule, StageChange, Touch
from slacore.rules.cadence import CadenceRule
from slacore.rules.eligibility import hand_raisers, source

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


def stage_changes(handoffs: list[Handoff], seed: int = 11) -> list[StageChange]:
    """Each lead's moves after its hand-off: SAL after a few hours, then SQL for most; one in
    twelve disqualified or back to "lead" (both withdraw the hand-off)."""
    rnd = random.Random(seed)
    changes: list[StageChange] = []
    for handoff in handoffs:
        at = handoff.notified_at
        roll = rnd.random()
        if roll < 1 / 12:
            stage = "disqualified" if roll < 1 / 24 else "lead"
            later = at + timedelta(seconds=rnd.expovariate(1 / 20000))
            changes.append(StageChange(lead_id=handoff.lead_id, to_stage=stage, at=later))
            continue
        accepted = at + timedelta(seconds=rnd.expovariate(1 / 15000))
        changes.append(StageChange(lead_id=handoff.lead_id, to_stage="sal", at=accepted))
        if roll < 0.6:
            qualified = accepted + timedelta(seconds=rnd.expovariate(1 / 200000))
            changes.append(StageChange(lead_id=handoff.lead_id, to_stage="sql", at=qualified))
    return changes


def in_time_order(
    handoffs: list[Handoff], touches: list[Touch]
) -> tuple[list[Handoff], list[Touch]]:
    """The same records made again as a reader of the store makes them: hand-offs in order of
    notification, touches in time order, each with a datetime and id strings of its own
    (objects made one after the other sit together in memory)."""
    zero = timedelta(0)

    def fresh(text: str) -> str:
        return text[:1] + text[1:]

    # (time, lead) is unique: the sort never compares the fields after it.
    notes = sorted(
        (h.notified_at, h.lead_id, h.owner_id, h.source, h.hand_raiser) for h in handoffs
    )
    handoffs.clear()
    made = [
        Handoff(
            lead_id=fresh(lead),
            notified_at=at + zero,
            stage="mql",
            owner_id=owner and fresh(owner),
            source=origin,
            hand_raiser=raised,
        )
        for at, lead, owner, origin, raised in notes
    ]
    del notes
    rows = sorted((t.at, t.lead_id, t.rep_id, t.channel) for t in touches)
    touches.clear()
    return made, [
        Touch(lead_id=fresh(lead), rep_id=fresh(rep), at=at + zero, channel=channel)
        for at, lead, rep, channel in rows
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
    parser.add_argument(
        "--changes",
        action="store_true",
        help="give the leads stage changes too (SAL, SQL, some withdrawn)",
    )
    parser.add_argument(
        "--columns",
        action="store_true",
        help="also evaluate_columns on the same records held as columns (numpy, Arrow)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="100,000 hand-offs, one timed run, for a smoke run"
    )
    args = parser.parse_args()
    if args.quick:
        args.n, args.repeat = 100_000, 1

    began = time.perf_counter()
    handoffs, touches = build(args.n, args.touches)
    changes = stage_changes(handoffs) if args.changes else []
    print(
        f"built {len(handoffs):,} hand-offs, {len(touches):,} touches and {len(changes):,} "
        f"stage changes in {time.perf_counter() - began:.1f} s; "
        f"peak memory {peak_mib():,.0f} MiB"
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
            handoffs, touches = in_time_order(handoffs, touches)
            changes.sort(key=lambda change: change.at)
            print(f"\nrecords made again in time order in {time.perf_counter() - began:.1f} s")
        print(
            "touches grouped by lead:"
            if layout == "lead"
            else "hand-offs and touches in time order, as the store yields them:"
        )
        measure(rules, handoffs, touches, changes, now, args.repeat)
        if args.columns:
            measure_columns(rules, (handoffs, touches, changes), now, args.repeat)
    return 0


def measure(
    rules: dict[str, ResponseRule | CadenceRule],
    handoffs: list[Handoff],
    touches: list[Touch],
    changes: list[StageChange],
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
            report = rule.evaluate(handoffs, touches, now=now, stage_changes=changes)
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


def as_columns(
    handoffs: list[Handoff], touches: list[Touch], changes: list[StageChange]
) -> dict[str, dict[str, Any]]:
    """The records as tables of three kinds: a dict of numpy arrays (ids as object arrays,
    times as object arrays of aware datetimes, flags as a bool array), pyarrow Tables (times
    as ``timestamp[us, UTC]``) and pandas DataFrames (``datetime64[us, UTC]``, made from
    the Arrow tables)."""
    import numpy as np
    import pyarrow as pa

    fields = {
        "handoffs": (handoffs, ("lead_id", "notified_at", "stage", "owner_id", "source")),
        "touches": (touches, ("lead_id", "rep_id", "at", "channel")),
        "stage_changes": (changes, ("lead_id", "to_stage", "at")),
    }
    kinds: dict[str, dict[str, Any]] = {"numpy": {}, "pandas": {}, "arrow": {}}
    for table, (records, names) in fields.items():
        columns: dict[str, Any] = {}
        for name in names:
            column = np.empty(len(records), dtype=object)
            column[:] = [getattr(r, name) for r in records]
            columns[name] = column
        if table == "handoffs":
            columns["hand_raiser"] = np.array([h.hand_raiser for h in records], dtype=bool)
        if table == "touches":
            columns["channel"] = columns["channel"].astype(str).astype(object)
        kinds["numpy"][table] = columns
        arrow = pa.table(
            {
                name: pa.array(
                    values.tolist(),
                    type=pa.timestamp("us", tz="UTC") if name in ("at", "notified_at") else None,
                )
                for name, values in columns.items()
            }
        )
        kinds["arrow"][table] = arrow
        kinds["pandas"][table] = arrow.to_pandas()
    return kinds


def measure_columns(
    rules: dict[str, ResponseRule | CadenceRule],
    records: tuple[list[Handoff], list[Touch], list[StageChange]],
    now: datetime,
    repeat: int,
) -> None:
    """Time ``evaluate`` on the objects and ``evaluate_columns`` on the same records as numpy
    arrays, pandas DataFrames and Arrow tables, in interleaved rounds (this machine's speed
    drifts), checking that the summaries and per-rep figures agree."""
    handoffs, touches, changes = records
    began = time.perf_counter()
    kinds = as_columns(handoffs, touches, changes)
    print(
        f"\nthe same records as columns, made in {time.perf_counter() - began:.1f} s; "
        f"peak memory {peak_mib():,.0f} MiB"
    )
    print(f"{'evaluation':<52} {'median s':>8} {'best s':>7} {'vs objects':>10} {'peak MiB':>9}")
    for name, rule in rules.items():
        took: dict[str, list[float]] = {"objects": [], **{kind: [] for kind in kinds}}
        for _ in range(repeat):
            began = time.perf_counter()
            expected = rule.evaluate(handoffs, touches, now=now, stage_changes=changes)
            took["objects"].append(time.perf_counter() - began)
            for kind, tables in kinds.items():
                began = time.perf_counter()
                report = rule.evaluate_columns(
                    tables["handoffs"],
                    tables["touches"],
                    now=now,
                    stage_changes=tables["stage_changes"] if changes else None,
                )
                took[kind].append(time.perf_counter() - began)
                assert report.summary == expected.summary, (kind, name)
                assert report.by_rep == expected.by_rep, (kind, name)
                del report
            del expected
        base = statistics.median(took["objects"])
        print(name)
        for kind, times in took.items():
            label = "evaluate, objects" if kind == "objects" else f"evaluate_columns, {kind}"
            median = statistics.median(times)
            print(
                f"{'    ' + label:<52} {median:>8.2f} {min(times):>7.2f} "
                f"{median / base:>9.2f}x {peak_mib():>9,.0f}"
            )


if __name__ == "__main__":
    sys.exit(main())
