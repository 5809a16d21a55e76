"""The csv connector's column path against its row path, reading and storing apart.

For bench_e2e.py's export of N hand-offs (7N + 52 records), each in a child process of its
own: reading every stream with ``read_stream`` (record objects) and with ``read_columns``
(Arrow column batches); then storing what was read into a fresh store (``--engine``: SQLite,
the default, or DuckDB) with
``write_batch`` (the records) and with ``write_columns`` (the column batches), timing the
store's calls alone (the batches are read before the clock starts). CPU seconds of the
process (pyarrow's reader may use a second thread), and records a CPU second.

    python benchmarks/bench_csv_columns.py --handoffs 100000 --workdir /tmp/csvcols
    python benchmarks/bench_csv_columns.py --engine duckdb --workdir /tmp/csvcols
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STREAMS = ("leads", "stage_changes", "handoffs", "touches", "reps")
SUFFIXES = {"sqlite": ".db", "duckdb": ".duckdb"}
"""The store file's suffix of each engine (it chooses the engine of a new store)."""
STEPS = ("read rows", "read columns", "write rows", "write columns")


def measure(step: str, export: Path, store: Path) -> dict[str, Any]:
    """One step in this process: records and CPU seconds per stream."""
    from slacore.connector import Stream
    from slacore_connectors.csvfile import CsvConnector
    from slacore_connectors.store import ColumnWriter, open_store

    connector = CsvConnector({"path": str(export)})
    columns = step.endswith("columns")
    read = connector.read_as_columns if columns else connector.read
    figures: dict[str, Any] = {}
    seen = datetime(2026, 12, 7, tzinfo=UTC)
    with open_store(store) as opened:
        assert isinstance(opened, ColumnWriter)
        for name in STREAMS:
            stream = Stream(name)
            began = time.process_time()
            batches = list(read(stream))
            reading = time.process_time() - began
            rows = sum(b.table.num_rows if columns else len(b.records) for b in batches)
            if step.startswith("read"):
                figures[name] = {"records": rows, "cpu": reading}
                continue
            began = time.process_time()
            for batch in batches:
                if columns:
                    opened.write_columns("crm", batch, run_id=1, seen_at=seen)
                else:
                    opened.write_batch("crm", batch, run_id=1, seen_at=seen)
            figures[name] = {"records": rows, "cpu": time.process_time() - began}
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handoffs", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--export", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--engine", choices=sorted(SUFFIXES), default="sqlite", help="the store's engine"
    )
    options = parser.parse_args()
    suffix = SUFFIXES[options.engine]
    if options.step:
        store = options.workdir / f"{options.step.replace(' ', '-')}{suffix}"
        print(json.dumps(measure(options.step, options.export, store)))
        return 0
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_e2e import generate

    work = options.workdir or Path(tempfile.mkdtemp(prefix="bench-csvcols-"))
    export = work / "export"
    if not (export / "touches.csv").exists():
        generate(export, options.handoffs)
    results: dict[str, dict[str, Any]] = {}
    for step in STEPS:
        for stale in work.glob(f"{step.replace(' ', '-')}{suffix}*"):
            stale.unlink()
        done = subprocess.run(
            [sys.executable, __file__, "--step", step, "--export", str(export),
             "--workdir", str(work), "--engine", options.engine],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        results[step] = json.loads(done.stdout)
    print("| stream (records) | " + " | ".join(STEPS) + " |")
    print("| --- |" + " ---: |" * len(STEPS))
    totals = {step: [0, 0.0] for step in STEPS}
    for name in STREAMS:
        cells = []
        for step in STEPS:
            got = results[step][name]
            totals[step][0] += got["records"]
            totals[step][1] += got["cpu"]
            rate = got["records"] / got["cpu"] if got["cpu"] else 0
            cells.append(f"{got['cpu']:.2f} s ({rate:,.0f}/s)")
        print(f"| {name} ({results[STEPS[0]][name]['records']:,}) | " + " | ".join(cells) + " |")
    cells = [f"{cpu:.2f} s ({n / cpu:,.0f}/s)" for n, cpu in totals.values()]
    print("| all | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
