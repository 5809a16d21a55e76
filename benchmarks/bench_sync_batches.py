"""Benchmark: what a sync's batch costs at the start of a stream and at its end.

A sync is linear when a batch costs what it holds, not what the store holds: the last batches
of a stream, written into a store that holds everything before them, must cost what the first
ones did. This writes ``bench_e2e.py``'s export for N hand-offs (the same seed and files),
then reads it with the ``csv`` connector into a fresh store in this process, batch by batch
as ``slacore sync`` does, and prints for each stream:

- the records and the time spent reading (parsing and mapping the CSV rows to records) and
  writing (``Store.write_batch``: staging, the upsert and the commit), in CPU seconds of this
  process (the machine may be busy: CPU time moves less with the load than wall time does);
- the median write of the stream's first three full batches and of its last three, and their
  ratio (about 1 when the cost per batch does not grow with the store).

    python benchmarks/bench_sync_batches.py [--sizes 100000,300000] [--quick] [--workdir DIR]

Exits 1 if a stream's last batches cost more than twice its first ones.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_e2e import generate

from slacore.connector import get_connector
from slacore_connectors.store import open_store

GROWTH_ALLOWED = 2.0


def measure(export: Path, store_path: Path) -> bool:
    """Sync ``export`` into a fresh store at ``store_path``, print the figures; whether every
    stream's last batches cost at most :data:`GROWTH_ALLOWED` times its first ones."""
    connector = get_connector("csv")({"path": str(export)})
    linear = True
    seen_at = datetime.now(UTC)
    began, began_cpu, total = time.perf_counter(), time.process_time(), 0
    with open_store(store_path) as store:
        for stream in connector.available_streams():
            reading = writing = 0.0
            writes: list[tuple[float, int]] = []  # CPU seconds, records
            records = 0
            batches = iter(connector.read(stream, None))
            while True:
                start = time.process_time()
                batch = next(batches, None)
                read = time.process_time()
                if batch is None:
                    break
                store.write_batch("bench", batch, run_id=1, seen_at=seen_at)
                written = time.process_time()
                reading += read - start
                writing += written - read
                records += len(batch.records)
                writes.append((written - read, len(batch.records)))
            total += records
            largest = max((size for _, size in writes), default=0)
            full = [cost for cost, size in writes if size == largest]
            line = (
                f"  {stream.value:14} {records:>9,} records: read {reading:6.2f} s, "
                f"write {writing:6.2f} s CPU"
            )
            if len(full) >= 6:
                first, last = statistics.median(full[:3]), statistics.median(full[-3:])
                linear &= last <= GROWTH_ALLOWED * first
                line += (
                    f"; a batch written: first {first * 1000:5.0f} ms, last {last * 1000:5.0f} ms "
                    f"(x{last / first:.2f})"
                )
            print(line, flush=True)
    wall, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    print(
        f"  all: {total:,} records in {wall:.1f} s wall, {cpu:.1f} s CPU "
        f"({total / cpu:,.0f} records per CPU second)",
        flush=True,
    )
    return linear


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        default=(100_000, 300_000),
        help="hand-offs, comma-separated (default 100000,300000)",
    )
    parser.add_argument("--quick", action="store_true", help="20,000 hand-offs")
    parser.add_argument("--workdir", type=Path, help="write and keep the exports and stores here")
    options, _ = parser.parse_known_args()  # nox -s bench passes every script the same options
    sizes = (20_000,) if options.quick else options.sizes
    base = options.workdir or Path(tempfile.mkdtemp(prefix="bench-batches-"))
    linear = True
    print(f"load {os.getloadavg()[0]:.2f}", flush=True)
    try:
        for size in sizes:
            work = base / f"{size}"
            if not (work / "export" / "touches.csv").is_file():
                generate(work / "export", size)
            print(f"{size:,} hand-offs (load {os.getloadavg()[0]:.2f}):", flush=True)
            for stale in work.glob("batches.db*"):
                stale.unlink()
            linear &= measure(work / "export", work / "batches.db")
    finally:
        if options.workdir is None:
            shutil.rmtree(base, ignore_errors=True)
    return 0 if linear else 1


if __name__ == "__main__":
    raise SystemExit(main())
