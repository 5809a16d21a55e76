"""Benchmark: the csv connector against pandas.read_csv on the same lead files.

Generates lead exports (fixed seed; id, created_at in ISO 8601 UTC, source, segment, owner_id,
stage, hand_raiser; one row in a thousand has a bad date and is rejected) of ``--small`` and
``--rows`` rows, then reads each in a fresh child process:

- ``slacore``: the csv connector maps every row to a ``Lead`` (validated, aware times) in
  batches of 10,000, as a sync job would;
- ``pandas``: ``pandas.read_csv(path, parse_dates=["created_at"])``, the whole file at once;
- ``pandas chunks``: the same in chunks of 10,000 rows, pandas' own flat-memory way.

For each it prints rows per second, the peak resident memory above the child's baseline after
imports (``resource.getrusage``), and for slacore the peak of Python allocations while reading
(``tracemalloc``, a separate, slower pass). slacore's peaks for the two sizes should match: the
connector holds one batch at a time. pandas parses into columns and validates nothing, so it is
faster; the ratio says by how much.

    python benchmarks/bench_csv.py [--rows 1000000] [--small 250000]

Exits 1 if slacore's peak memory grows with the file by more than half, else 0.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SEED = 20260105
BATCH = 10_000
SOURCES = ("referral", "content", "webinar", "web")
SEGMENTS = ("smb", "mid-market", "enterprise")
STAGES = ("lead", "mql", "sal", "sql")


def generate(path: Path, rows: int) -> None:
    rng = random.Random(SEED)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8", newline="") as file:
        file.write("id,created_at,source,segment,owner_id,stage,hand_raiser\n")
        for n in range(rows):
            created = (start + timedelta(seconds=rng.randrange(365 * 86400))).isoformat()
            if n % 1000 == 999:
                created = "not a date"
            file.write(
                f"L-{n},{created},{rng.choice(SOURCES)},{rng.choice(SEGMENTS)},"
                f"R-{rng.randrange(50)},{rng.choice(STAGES)},{'true' if n % 7 == 0 else 'false'}\n"
            )


def _rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def child(tool: str, path: Path, trace: bool) -> dict[str, Any]:
    """Read ``path`` with ``tool`` in this (fresh) process and measure it."""
    if tool == "slacore":
        from slacore_connectors.csvfile import CsvConnector

        connector = CsvConnector({"files": {"leads": str(path)}, "batch_size": BATCH})

        def run() -> tuple[int, int]:
            records = rejected = 0
            for batch in connector.read("leads"):
                records += len(batch.records)
                rejected += len(batch.rejected)
            return records, rejected

    else:
        import pandas as pd

        def run() -> tuple[int, int]:
            if tool == "pandas":
                frame = pd.read_csv(path, parse_dates=["created_at"], date_format="ISO8601")
                return len(frame), 0
            count = 0
            for chunk in pd.read_csv(path, chunksize=BATCH):
                chunk["created_at"] = pd.to_datetime(
                    chunk["created_at"], format="ISO8601", errors="coerce", utc=True
                )
                count += len(chunk)
            return count, 0

    baseline = _rss_bytes()
    if trace:
        tracemalloc.start()
    began = time.perf_counter()
    records, rejected = run()
    seconds = time.perf_counter() - began
    result: dict[str, Any] = {
        "tool": tool,
        "records": records,
        "rejected": rejected,
        "seconds": seconds,
        "rss_peak": _rss_bytes() - baseline,
    }
    if trace:
        result["traced_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result


def measure(tool: str, path: Path, *, trace: bool = False) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", tool, str(path)]
    done = subprocess.run(
        [*args, *(["--trace"] if trace else [])],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def mib(size: float) -> str:
    return f"{size / 2**20:,.1f} MiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=250_000)
    parser.add_argument("--child", nargs=2, metavar=("TOOL", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--quick", action="store_true", help="100,000 and 25,000 rows, for a smoke run"
    )
    options = parser.parse_args()
    if options.quick:
        options.rows, options.small = 100_000, 25_000
    if options.child:
        print(json.dumps(child(options.child[0], Path(options.child[1]), options.trace)))
        return 0

    results: dict[int, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for rows in (options.small, options.rows):
            path = Path(folder) / f"leads-{rows}.csv"
            generate(path, rows)
            size = path.stat().st_size
            print(f"{rows:,} rows, {mib(size)}: {path.name}", flush=True)
            found = results[rows] = {}
            for tool in ("slacore", "pandas", "pandas chunks"):
                found[tool] = measure(tool, path)
            found["slacore"]["traced_peak"] = measure("slacore", path, trace=True)["traced_peak"]
            for tool, result in found.items():
                extra = (
                    f", Python heap peak {mib(result['traced_peak'])}"
                    if "traced_peak" in result
                    else ""
                )
                speed = result["records"] / result["seconds"]
                print(
                    f"  {tool:<14} {result['records']:>10,} records {result['rejected']:>6,} "
                    f"rejected {result['seconds']:7.2f} s {speed:>12,.0f} rows/s, "
                    f"peak RSS +{mib(result['rss_peak'])}{extra}",
                    flush=True,
                )
            ratio = found["slacore"]["seconds"] / found["pandas"]["seconds"]
            print(f"  pandas.read_csv is {ratio:.1f}x faster than the connector (which validates)")
    small, large = results[options.small]["slacore"], results[options.rows]["slacore"]
    growth = large["traced_peak"] / small["traced_peak"]
    rss_growth = large["rss_peak"] / max(small["rss_peak"], 1)
    print(
        f"slacore peak memory, {options.small:,} -> {options.rows:,} rows: Python heap "
        f"{mib(small['traced_peak'])} -> {mib(large['traced_peak'])} ({growth:.2f}x), "
        f"RSS +{mib(small['rss_peak'])} -> +{mib(large['rss_peak'])} ({rss_growth:.2f}x)"
    )
    pandas_growth = results[options.rows]["pandas"]["rss_peak"] / max(
        results[options.small]["pandas"]["rss_peak"], 1
    )
    print(f"pandas.read_csv peak RSS grows {pandas_growth:.2f}x with the file")
    return 0 if growth < 1.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
