"""Benchmark: ``write_batch`` of the sync's own path into each store engine.

Reads the CSV export ``bench_e2e.py --workdir`` left (``<work>/export``) with the ``csv``
connector, batch by batch as ``slacore sync`` does, and stores each batch with the store's
``write_batch``: reading and storing timed apart (wall and CPU), into a fresh SQLite store and
a fresh DuckDB store, each engine in a child process of its own (peak RSS from
``os.wait4``). Two steps per engine: ``load`` (a fresh store) and ``reload`` (the same
records again: every one unchanged). Both stores must end with the same rows.

    python benchmarks/bench_store_write.py /tmp/e2e/100000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _measure import json_child

STREAMS = ("leads", "stage_changes", "handoffs", "touches", "deals", "reps", "owner_changes")
ENGINES = {"sqlite": "write.db", "duckdb": "write.duckdb"}


def ingest(work: Path, engine: str) -> dict[str, Any]:
    """Load, then reload, the export into a fresh store of ``engine`` (in this process)."""
    from slacore.connector import Stream
    from slacore_connectors.csvfile import CsvConnector
    from slacore_connectors.store import open_store

    path = work / ENGINES[engine]
    for stale in work.glob(f"{ENGINES[engine]}*"):
        stale.unlink() if stale.is_file() else shutil.rmtree(stale)
    found: dict[str, Any] = {}
    seen_at = datetime.now(UTC)
    with open_store(path, locked=True) as store:
        for step in ("load", "reload"):
            seen_at += timedelta(seconds=1)
            run_id = store.start_run("crm", connector="csv", full=True, at=seen_at)
            connector = CsvConnector({"path": str(work / "export")})
            spent = {"read": 0.0, "read_cpu": 0.0, "write": 0.0, "write_cpu": 0.0}
            records = stored = batches = 0
            for stream in STREAMS:
                if not (work / "export" / f"{stream}.csv").exists():
                    continue
                reading = connector.read_stream(Stream.parse(stream), None)
                while True:
                    wall, cpu = time.perf_counter(), time.process_time()
                    batch = next(reading, None)
                    spent["read"] += time.perf_counter() - wall
                    spent["read_cpu"] += time.process_time() - cpu
                    if batch is None:
                        break
                    wall, cpu = time.perf_counter(), time.process_time()
                    done = store.write_batch("crm", batch, run_id=run_id, seen_at=seen_at)
                    spent["write"] += time.perf_counter() - wall
                    spent["write_cpu"] += time.process_time() - cpu
                    records += done.read
                    stored += done.stored
                    batches += 1
            found[step] = {**spent, "records": records, "stored": stored, "batches": batches}
        found["current"] = {stream: store.count(stream) for stream in ("handoffs", "touches")}
    found["disk_mib"] = sum(p.stat().st_size for p in work.glob(f"{ENGINES[engine]}*")) / 2**20
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path, help="a bench_e2e.py size folder (holding export/)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        print(json.dumps(ingest(options.work, options.child)))
        return 0
    print(f"load {os.getloadavg()[0]:.2f}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        "| engine | step | read, wall (CPU) | write_batch, wall (CPU) | records/s of "
        "write_batch, wall (CPU) | batches | peak RSS | on disk |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    current: dict[str, Any] = {}
    for engine in ENGINES:
        m = json_child(__file__, engine, str(options.work), what=f"the {engine} ingest")
        if current.setdefault("rows", m["current"]) != m["current"]:
            raise SystemExit(f"ROWS DIFFER: {engine} {m['current']} against {current['rows']}")
        for step in ("load", "reload"):
            s = m[step]
            print(
                f"| {engine} | {step} | {s['read']:.1f} s ({s['read_cpu']:.1f}) | "
                f"{s['write']:.1f} s ({s['write_cpu']:.1f}) | {s['records'] / s['write']:,.0f} "
                f"({s['records'] / s['write_cpu']:,.0f}) | {s['batches']} | "
                f"{m['rss_mib']:.0f} MiB | {m['disk_mib']:.0f} MiB |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
