"""Benchmark: a million response results as an Arrow table, and what pandas and polars add.

The hand-offs and touches of ``bench_response.py`` (1,000,000 hand-offs, 3 touches each, lead
order), evaluated by seed 000's business-hours rule and by a 24-hour calendar-clock rule (and
the cadence rule of seed 001, 5 calls in 14 days, for its table alone); then
``report.to_arrow()`` (made from the evaluation's columns), ``to_pandas()``,
``polars.from_arrow()``, and for comparison the result objects built one by one
(``list(report.results)``) and the same table made from them. Each step timed alone (median
of ``--repeat`` runs), with the growth of the process's peak memory.

    python benchmarks/bench_arrow.py                 # 1,000,000 hand-offs
    python benchmarks/bench_arrow.py --n 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench_response import build, peak_mib

from slacore import BusinessCalendar, CadenceRule, ResponseRule
from slacore.rules._tables import _cadence_rows, _response_rows


def timed(what: str, step: Callable[[], Any], repeat: int) -> Any:
    times = []
    result = None
    for _ in range(repeat):
        result = None
        began = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - began)
    print(
        f"  {what:<34} median {statistics.median(times):6.2f} s  best {min(times):6.2f} s  "
        f"peak {peak_mib():7.0f} MiB"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--touches", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    # Imported first, so that no step below pays for an import.
    import pandas  # noqa: F401
    import polars as pl
    import pyarrow  # noqa: F401

    handoffs, touches = build(args.n, args.touches)
    now = max(h.notified_at for h in handoffs)
    calendar = BusinessCalendar(
        timezone="America/New_York", hours={"mon-fri": "09:00-17:00"}, holidays="US"
    )
    rules = {
        "1 business hour": ResponseRule(within="1h", calendar=calendar),
        "24 hours (clock)": ResponseRule(within="24h", clock="calendar"),
    }
    print(f"{args.n:,} hand-offs, {len(touches):,} touches; peak {peak_mib():.0f} MiB after build")
    for name, rule in rules.items():
        print(f"{name}:")
        report = timed("evaluate", lambda r=rule: r.evaluate(handoffs, touches, now=now), 1)
        table = timed("to_arrow() from the columns", report.to_arrow, args.repeat)
        timed("to_pandas()", report.to_pandas, args.repeat)
        timed("polars.from_arrow(to_arrow())", lambda t=table: pl.from_arrow(t), args.repeat)
        results = timed("result objects (list(results))", lambda r=report: list(r.results), 1)
        rows = timed("the table from those objects", lambda o=results: _response_rows(o), 1)
        assert rows.equals(table)
        del results, rows, report, table
    cadence = CadenceRule(min_touches=5, within="14d", channels=("call",))
    print("cadence, 5 calls in 14 days:")
    report = timed("evaluate", lambda: cadence.evaluate(handoffs, touches, now=now), 1)
    table = timed("to_arrow() from the columns", report.to_arrow, args.repeat)
    results = timed("result objects (list(results))", lambda: list(report.results), 1)
    assert _cadence_rows(results).equals(table)


if __name__ == "__main__":
    main()
