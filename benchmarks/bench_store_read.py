"""Benchmark: reading a month out of a synced store, as record objects and as Arrow columns.

Reads what a report of July 2020 reads of the stores that ``bench_e2e.py --workdir`` left
(``store.db`` and ``store.duckdb``, synced from the same export): the current hand-offs
notified in July and the touches from July 1 to August 31. For each store, in a child
process of its own per read (so one read's memory does not carry into the next):

- ``records``: ``Store.records()``, the record objects every store gives;
- ``columns``: ``DuckDBStore.columns()``, one Arrow table per stream, straight from DuckDB.

Prints the wall and CPU time of the read alone (imports and opening left out), the rows
read and the child's peak RSS. Every read of a stream must find the same number of rows.

    python benchmarks/bench_store_read.py /tmp/e2e-sqlite/100000/store.db \\
        /tmp/e2e-duck/100000/store.duckdb
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, datetime
from typing import Any

from _measure import json_child

MONTH = {
    "handoffs": (datetime(2020, 7, 1, tzinfo=UTC), datetime(2020, 8, 1, tzinfo=UTC)),
    "touches": (datetime(2020, 7, 1, tzinfo=UTC), datetime(2020, 9, 1, tzinfo=UTC)),
}


def read(store_path: str, how: str) -> dict[str, Any]:
    """One read of the month (in this process): rows per stream, wall and CPU seconds."""
    from slacore_connectors.store import open_store

    if how == "columns":
        import pyarrow  # noqa: F401  (its import is not the read's)
    rows: dict[str, int] = {}
    with open_store(store_path, read_only=True) as store:
        wall, cpu = time.perf_counter(), time.process_time()
        for stream, (since, until) in MONTH.items():
            if how == "columns":
                rows[stream] = store.columns(stream, since=since, until=until).num_rows  # type: ignore[attr-defined]
            else:
                rows[stream] = sum(1 for _ in store.records(stream, since=since, until=until))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"rows": rows, "wall": wall, "cpu": cpu}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stores", nargs="*", help="store files (any engine)")
    parser.add_argument("--child", nargs=2, metavar=("HOW", "STORE"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        how, store = options.child
        print(json.dumps(read(store, how)))
        return 0
    from slacore_connectors.store import store_engine

    print(f"load {os.getloadavg()[0]:.2f}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print("| store | read | the read, wall (CPU) | hand-offs + touches | peak RSS |")
    print("| --- | --- | ---: | ---: | ---: |")
    found: dict[str, int] = {}
    for store in options.stores:
        engine = store_engine(store)
        for how in ("records", "columns") if engine == "duckdb" else ("records",):
            m = json_child(__file__, how, store, what=f"the {how} read of {store}")
            for stream, n in m["rows"].items():
                if found.setdefault(stream, n) != n:
                    raise SystemExit(f"ROWS DIFFER: {stream} {n:,} against {found[stream]:,}")
            rows = " + ".join(f"{n:,}" for n in m["rows"].values())
            print(
                f"| {engine} | {how} | {m['wall']:.2f} s ({m['cpu']:.2f}) | {rows} | "
                f"{m['rss_mib']:.0f} MiB |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
