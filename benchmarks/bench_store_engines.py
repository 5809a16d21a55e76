"""Benchmark: the embedded store's engine, SQLite read in column batches or DuckDB (issue 15).

On the export of ``bench_e2e.py`` (its generator, imported: N hand-offs, 7N + 52 records), it
measures, each step in a child process of its own (wall time, CPU, peak RSS from
``bench_e2e.run``'s launcher):

- **Ingest**, a first load and a re-load of the same data (every record unchanged), batch by
  batch in batches of the ``csv`` connector's size (10,000 rows), reading the CSV and storing
  timed apart, into three stores: ``sqlite``, the real ``CsvConnector`` and
  ``SQLiteStore.write_batch`` of a sync (validated record objects); ``sqlite-columns``, Arrow
  batches read by ``pyarrow.csv`` and stored by ``SQLiteStore``'s own upsert, the key, cells
  and digest made a column at a time (what SQLite costs once the sync hands over columns);
  ``duckdb``, the same Arrow batches stored by a prototype with the SQLite store's semantics
  (``DuckStore`` below: natural key, digest, ``seen_from``/``seen_to`` versions with one
  current row per key, ``last_seen``, a batch and its cursor row in one transaction) in
  set-based SQL. The cost of the last touches batches against the first says whether a batch
  costs more as the store grows. The stores must store the same number of records.
- **Reading a month**: the current hand-offs of July 2020 and the touches from July 1 to
  August 31 (every column a report needs) into columns: today's ``SQLiteStore.records()``
  (record objects, the baseline), ``sqlite3`` fetched in batches of 100,000 rows and turned
  into an Arrow table, and DuckDB's ``fetchnumpy()`` and ``to_arrow_table()``; each now and
  ``as_of`` the moment between the two loads.
- **Concurrency and SIGKILL**: a writer child opens a new batch of 10,000 touches' transaction
  (the rows written, the cursor row being written) and waits; a reader child then reads the
  month (SQLite, write-ahead log: it reads; DuckDB: the error it gets); the writer is killed
  (SIGKILL) inside the transaction; reopened to write, the store must hold neither a row of the
  batch nor its cursor.
- **Size on disk** of each store after the two loads.
- **Dependencies**: wheel size (``pip download``), installed size (the files the distribution
  installed) and import time (``python -X importtime``, best of three) of duckdb, pyarrow and
  numpy.

    python benchmarks/bench_store_engines.py [--sizes 100000,1000000] [--json FILE]
    python benchmarks/bench_store_engines.py --quick        # 20,000 hand-offs, a smoke run

Needs the ``bench`` extra (duckdb) and pyarrow; without pyarrow it says so and stops (exit 0).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Final

import bench_e2e as e2e

DEFAULT_SIZES: Final = (100_000, 1_000_000)
BATCH: Final = 10_000  # the csv connector's default batch_size
SOURCE: Final = "crm"
STREAMS: Final = ("leads", "stage_changes", "handoffs", "touches", "reps")
FIRST_LAST: Final = 5  # batches at each end of the touches whose median cost is compared
READ_CHUNK: Final = 100_000
START_US, END_US = e2e._bounds_us()
TOUCHES_END_US: Final = END_US + 31 * 86_400 * 10**6  # touches of the month's hand-offs
HANDOFF_COLUMNS: Final = (
    "lead_id, time_us, stage, owner_id, from_team, to_team, source, segment, hand_raiser"
)
TOUCH_COLUMNS: Final = "lead_id, rep_id, time_us, channel"
KILLED_REP: Final = "R99"  # the rep of the killed batch's touches: every one a new key
SQL_TYPES: Final = {"time": "TIMESTAMPTZ", "boolean": "BOOLEAN", "money": "DECIMAL(18, 2)"}


# --- the DuckDB prototype ----------------------------------------------------------------------


def _fields(stream: str) -> list[tuple[str, str]]:
    from slacore.connector import core_fields

    return [(field.name, field.kind) for field in core_fields(stream)]


def _sql_type(kind: str) -> str:
    return SQL_TYPES.get(kind, "VARCHAR")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _time_column(stream: str) -> str:
    # The store's own choice of each stream's main time (private to the store, read not copied).
    from slacore.connector import Stream
    from slacore_connectors.store._tables import TABLES

    return TABLES[Stream.parse(stream)].time_column


class DuckStore:
    """The SQLite store's tables and write semantics in a DuckDB file, for measuring.

    A table per stream with the same bookkeeping columns (``source_name``, ``key``,
    ``digest``, ``seen_from``, ``seen_to``, ``last_seen``, ``time_us``) and the record's
    fields typed (times ``TIMESTAMPTZ``, flags ``BOOLEAN``). A batch is staged from Arrow, the
    later of two rows with one key winning; then, in one transaction with the cursor row, the
    unchanged current rows have ``last_seen`` moved, the changed ones are closed, and the new
    and changed ones inserted. DuckDB has no partial unique index, so "one current row per
    key" holds by these statements, not by a constraint.
    """

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        import duckdb

        self.db = duckdb.connect(str(path), read_only=read_only)
        if read_only:
            return
        for stream in STREAMS:
            columns = ", ".join(f'"{n}" {_sql_type(k)}' for n, k in _fields(stream))
            self.db.execute(
                f"CREATE TABLE IF NOT EXISTS {stream} (source_name VARCHAR NOT NULL, key VARCHAR "
                "NOT NULL, digest VARCHAR NOT NULL, seen_from BIGINT NOT NULL, seen_to BIGINT, "
                f"last_seen BIGINT NOT NULL, time_us BIGINT, {columns})"
            )
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS cursors (source_name VARCHAR, stream VARCHAR, cursor "
            "VARCHAR NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (source_name, stream))"
        )

    def close(self) -> None:
        self.db.close()

    def write_batch(
        self,
        stream: str,
        batch: Any,
        cursor: str,
        seen: int,
        pause: Callable[[], None] | None = None,
    ) -> tuple[int, int, int]:
        """Store an Arrow table of CSV rows (with a row number ``n``) and the cursor in one
        transaction; (inserted, updated, unchanged). ``pause`` is called before the commit."""
        from slacore.connector import Stream

        fields = _fields(stream)
        present = set(batch.column_names)
        values = [f'"{n}"' if n in present else f'NULL::{_sql_type(k)} AS "{n}"' for n, k in fields]
        kinds = dict(fields)
        key_fields = Stream.parse(stream).record_type.KEY_FIELDS
        key = ", ".join(
            f'epoch_us("{n}")::VARCHAR' if kinds[n] == "time" else f'"{n}"' for n in key_fields
        )
        digest = ", ".join(f'coalesce("{n}"::VARCHAR, chr(0))' for n, _ in fields)
        time_col = _time_column(stream)
        time_us = f'epoch_us("{time_col}")' if time_col else "NULL::BIGINT"
        names = ", ".join(f'"{n}"' for n, _ in fields)
        db = self.db
        db.register("arrow_in", batch)
        db.begin()
        try:
            db.execute(
                "CREATE OR REPLACE TEMP TABLE staged AS SELECT * EXCLUDE (n) FROM ("
                f"SELECT concat_ws(chr(31), {key}) AS key, md5(concat_ws(chr(31), {digest})) "
                f"AS digest, {time_us} AS time_us, {names}, n FROM (SELECT {', '.join(values)}, n "
                "FROM arrow_in)) QUALIFY row_number() OVER (PARTITION BY key ORDER BY n DESC) = 1"
            )
            # A stored row of one of the batch's keys lies within the batch's range of keys,
            # and of times when the time is part of the key. Given as constants, DuckDB skips
            # the row groups outside them by their min/max; with no index for a join, it would
            # otherwise read the whole table for each batch.
            low, high, first, last = db.execute(
                "SELECT min(key), max(key), min(time_us), max(time_us) FROM staged"
            ).fetchone()
            current = (
                f"{stream}.source_name = ? AND {stream}.seen_to IS NULL AND {stream}.key = s.key "
                f"AND {stream}.key BETWEEN {_literal(low)} AND {_literal(high)}"
            )
            if time_col in key_fields:
                current += f" AND {stream}.time_us BETWEEN {first} AND {last}"
            db.execute(
                f"UPDATE {stream} SET last_seen = ? FROM staged s WHERE {current} "
                f"AND {stream}.digest = s.digest",
                [seen, SOURCE],
            )
            updated = db.execute(
                f"UPDATE {stream} SET seen_to = ? FROM staged s WHERE {current} "
                f"AND {stream}.digest <> s.digest",
                [seen, SOURCE],
            ).fetchone()[0]
            inserted = db.execute(
                f"INSERT INTO {stream} SELECT ?, key, digest, ?, NULL, ?, time_us, {names} "
                f"FROM staged s WHERE NOT EXISTS (SELECT 1 FROM {stream} WHERE {current})",
                [SOURCE, seen, seen, SOURCE],
            ).fetchone()[0]
            db.execute(
                "INSERT INTO cursors VALUES (?, ?, ?, ?) ON CONFLICT (source_name, stream) "
                "DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
                [SOURCE, stream, cursor, seen],
            )
            if pause is not None:
                pause()
            db.commit()
        except BaseException:
            db.rollback()
            raise
        finally:
            db.unregister("arrow_in")
            db.execute("DROP TABLE IF EXISTS staged")
        # A row whose key a later row of the batch repeats counts as unchanged, as in SQLite.
        return inserted - updated, updated, batch.num_rows - inserted


def arrow_batches(path: Path, stream: str, size: int = BATCH) -> Iterator[Any]:
    """The CSV file's rows as Arrow tables of ``size`` rows, each with its row number ``n``."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    types = {n: pa.timestamp("us", tz="UTC") for n, k in _fields(stream) if k == "time"}
    types.update({n: pa.bool_() for n, k in _fields(stream) if k == "boolean"})
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=4 << 20),
        convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True),
    )
    pending: list[Any] = []
    held = done = 0
    for block in reader:
        pending.append(block)
        held += block.num_rows
        while held >= size:
            table = pa.Table.from_batches(pending)
            piece, rest = table.slice(0, size), table.slice(size)
            yield piece.append_column("n", pa.array(range(done, done + piece.num_rows)))
            done += piece.num_rows
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        table = pa.Table.from_batches(pending)
        yield table.append_column("n", pa.array(range(done, done + table.num_rows)))


# --- the steps, each in a child process ---------------------------------------------------------


def _now_us() -> int:
    return int(datetime.now(UTC).timestamp() * 10**6)


def _ends(costs: list[float]) -> dict[str, float]:
    """The median cost of the first and of the last batches, and their ratio."""
    first = statistics.median(costs[:FIRST_LAST])
    last = statistics.median(costs[-FIRST_LAST:])
    return {"first_ms": first * 1e3, "last_ms": last * 1e3, "last_over_first": last / first}


ENGINES: Final = ("sqlite", "sqlite-columns", "duckdb", "duckdb-100k")
"""The real sync's path into SQLite, SQLite fed from Arrow batches by the store's own SQL, and
the DuckDB prototype, in the connector's batches and in batches ten times larger."""
FILES: Final = {
    "sqlite": "store.db",
    "sqlite-columns": "store-columns.db",
    "duckdb": "store.duckdb",
    "duckdb-100k": "store-100k.duckdb",
}
LARGE_BATCH: Final = 100_000


def ingest(work: Path, engine: str, step: str) -> dict[str, Any]:
    """A load of the whole export into ``engine``'s store, batch by batch, reading the CSV
    and storing timed apart."""
    from slacore.connector import Stream
    from slacore_connectors.csvfile import CsvConnector
    from slacore_connectors.store import SQLiteStore

    seen_at = datetime.now(UTC)
    seen = int(seen_at.timestamp() * 10**6)
    store: Any
    if engine.startswith("duckdb"):
        store = DuckStore(work / FILES[engine])

        def write(stream: str, batch: Any) -> tuple[int, int, int]:
            cursor = json.dumps({"row": int(batch["n"][-1].as_py()) + 1})
            inserted, updated, same = store.write_batch(stream, batch, cursor, seen)
            return batch.num_rows, inserted + updated, same

    elif engine == "sqlite-columns":
        store = SQLiteStore(work / FILES[engine])

        def write(stream: str, batch: Any) -> tuple[int, int, int]:
            return write_columns(store, stream, batch, seen)

    else:
        store = SQLiteStore(work / FILES[engine])
        run_id = store.start_run(SOURCE, connector="csv", full=True, at=seen_at)

        def write(stream: str, batch: Any) -> tuple[int, int, int]:
            done = store.write_batch(SOURCE, batch, run_id=run_id, seen_at=seen_at)
            return done.read, done.stored, done.unchanged

    connector = CsvConnector({"path": str(work / "export")})
    spent = {"read_s": 0.0, "write_s": 0.0, "read_cpu": 0.0, "write_cpu": 0.0}
    counts = [0, 0, 0, 0]  # records, stored, unchanged, batches
    touches: dict[str, list[float]] = {"wall": [], "cpu": []}
    for stream in STREAMS:
        if engine == "sqlite":
            reading: Iterator[Any] = connector.read_stream(Stream.parse(stream), None)
        else:
            size = LARGE_BATCH if engine == "duckdb-100k" else BATCH
            reading = arrow_batches(work / "export" / f"{stream}.csv", stream, size)
        while True:
            with _clock(spent, "read"):
                batch = next(reading, None)
            if batch is None:
                break
            with _clock(spent, "write") as cost:
                figures = write(stream, batch)
            counts = [*(n + m for n, m in zip(counts, figures, strict=False)), counts[3] + 1]
            if stream == "touches":
                touches["wall"].append(cost[0])
                touches["cpu"].append(cost[1])
    store.close()
    records, stored, unchanged, batches = counts
    if stored + unchanged != records or (step == "reload" and stored):
        raise SystemExit(f"{step}: stored {stored:,}, unchanged {unchanged:,} of {records:,}")
    return {
        "seen_at": seen_at.isoformat(),
        **spent,
        "records": records,
        "stored": stored,
        "batches": batches,
        "touches": {clock: _ends(costs) for clock, costs in touches.items()},
    }


@contextlib.contextmanager
def _clock(spent: dict[str, float], what: str) -> Iterator[list[float]]:
    """Add the block's wall and CPU time to ``spent``; the block sees them after it ends."""
    wall, cpu = time.perf_counter(), time.process_time()
    cost: list[float] = []
    yield cost
    cost += [time.perf_counter() - wall, time.process_time() - cpu]
    spent[f"{what}_s"] += cost[0]
    spent[f"{what}_cpu"] += cost[1]


def write_columns(store: Any, stream: str, batch: Any, seen: int) -> tuple[int, int, int]:
    """An Arrow batch stored by ``SQLiteStore``'s own upsert, the key, cells and digest made
    a column at a time (times as ISO 8601 text in UTC, flags 0/1); the rows, their cursor
    and nothing else in one transaction. (records, stored, unchanged)."""
    import hashlib

    import pyarrow as pa
    import pyarrow.compute as pc

    from slacore.connector import Stream
    from slacore_connectors.store._tables import TABLES

    table = TABLES[Stream.parse(stream)]
    kinds = dict(_fields(stream))

    def cell(name: str) -> Any:
        if name not in batch.column_names:
            return pa.nulls(batch.num_rows, pa.string())
        column = batch[name]
        if kinds[name] == "time":
            return pc.strftime(column, "%Y-%m-%dT%H:%M:%S+00:00")
        return pc.cast(column, pa.int64()) if kinds[name] == "boolean" else column

    def text(name: str) -> Any:
        if kinds[name] == "time":
            return pc.cast(pc.cast(batch[name], pa.int64()), pa.string())
        return pc.fill_null(pc.cast(cell(name), pa.string()), "\x00")

    cells = [cell(name) for name in table.columns]
    keys = pc.binary_join_element_wise(
        *(text(n) for n in table.stream.record_type.KEY_FIELDS), "\x1f"
    ).to_pylist()
    whole = pc.binary_join_element_wise(*(text(n) for n in table.columns), "\x1f")
    digests = [
        hashlib.blake2b(row.encode(), digest_size=16).hexdigest() for row in whole.to_pylist()
    ]
    times = [pc.cast(batch[table.time_column], pa.int64())] if table.time_column else []
    rows = zip(keys, digests, *(c.to_pylist() for c in [*times, *cells]), strict=True)
    latest = {row[0]: row for row in rows}  # a key given twice: the later row wins
    db = store._db  # the store's own connection and upsert, fed by columns
    db.execute("BEGIN IMMEDIATE")
    try:
        inserted, updated, unchanged = store._upsert(table, SOURCE, list(latest.values()), seen)
        db.execute(
            "INSERT INTO cursors VALUES (?, ?, ?, ?) ON CONFLICT (source_name, stream) "
            "DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
            (SOURCE, stream, json.dumps({"row": int(batch["n"][-1].as_py()) + 1}), seen),
        )
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return batch.num_rows, inserted + updated, unchanged + batch.num_rows - len(latest)


def _read_where(as_of: int | None, high: int) -> tuple[str, list[int]]:
    if as_of is None:
        return "seen_to IS NULL AND time_us >= ? AND time_us < ?", [START_US, high]
    return (
        "seen_from <= ? AND (seen_to IS NULL OR seen_to > ?) AND time_us >= ? AND time_us < ?",
        [as_of, as_of, START_US, high],
    )


def read_month(work: Path, engine: str, how: str, as_of: int | None) -> dict[str, Any]:
    """The month's current (or ``as_of``) hand-offs and touches, as ``how`` reads them."""
    queries = [
        ("handoffs", HANDOFF_COLUMNS, END_US),
        ("touches", TOUCH_COLUMNS, TOUCHES_END_US),
    ]
    from slacore_connectors.store import SQLiteStore

    # Each way imports only what it needs, before the clock: the imports are in the wall time.
    for name in {"columns": ["pyarrow"], "numpy": ["duckdb"], "arrow": ["duckdb", "pyarrow"]}.get(
        how, []
    ):
        __import__(name)
    began, cpu = time.perf_counter(), time.process_time()
    got: dict[str, Any] = {}
    if how == "objects":  # today's path: SQLiteStore.records(), a record object per row
        moment = None if as_of is None else datetime.fromtimestamp(as_of / 1e6, UTC)
        since = datetime.fromtimestamp(START_US / 1e6, UTC)
        with SQLiteStore(work / "store.db", read_only=True) as store:
            for table, _, high in queries:
                until = datetime.fromtimestamp(high / 1e6, UTC)
                rows = list(store.records(table, as_of=moment, since=since, until=until))
                stamp = "notified_at" if table == "handoffs" else "at"
                total = sum(int(getattr(r, stamp).timestamp()) for r in rows)
                got[table] = {"rows": len(rows), "check": total}
    elif engine == "sqlite":
        import sqlite3

        import pyarrow as pa

        uri = f"{(work / 'store.db').absolute().as_uri()}?mode=ro"
        db = sqlite3.connect(uri, uri=True)
        for table, columns, high in queries:
            where, args = _read_where(as_of, high)
            rows = db.execute(
                f"SELECT {columns} FROM {table} WHERE {where} ORDER BY time_us, row_id", args
            )
            names = [c.strip() for c in columns.split(",")]
            chunks = []
            while chunk := rows.fetchmany(READ_CHUNK):
                arrays = [
                    pa.array(values, pa.int64() if name == "time_us" else None)
                    for name, values in zip(names, zip(*chunk, strict=True), strict=True)
                ]
                chunks.append(pa.RecordBatch.from_arrays(arrays, names=names))
            got[table] = _columns_read(pa.Table.from_batches(chunks))
        db.close()
    else:
        store = DuckStore(work / "store.duckdb", read_only=True)
        for table, columns, high in queries:
            where, args = _read_where(as_of, high)
            result = store.db.execute(
                f"SELECT {columns} FROM {table} WHERE {where} ORDER BY time_us", args
            )
            if how == "numpy":
                arrays = result.fetchnumpy()
                seconds = arrays["time_us"] // 10**6
                got[table] = {"rows": len(seconds), "check": int(seconds.sum())}
            else:
                got[table] = _columns_read(result.to_arrow_table())
        store.close()
    return {**got, "read_s": time.perf_counter() - began, "read_cpu": time.process_time() - cpu}


def _columns_read(table: Any) -> dict[str, int]:
    import pyarrow.compute as pc

    return {"rows": table.num_rows, "check": pc.sum(pc.divide(table["time_us"], 10**6)).as_py()}


def hold_writer(work: Path, engine: str) -> None:
    """Open a batch of new touches' transaction, write its rows and start its cursor row, say
    ``ready`` on stdout and wait there to be killed."""
    import pyarrow as pa

    from slacore.connector import Batch, Cursor, Stream

    def pause(*_: object) -> None:
        print("ready", flush=True)
        time.sleep(3600)

    source = next(arrow_batches(work / "export" / "touches.csv", "touches"))
    batch = source.set_column(
        source.column_names.index("rep_id"), "rep_id", pa.array([KILLED_REP] * source.num_rows)
    )
    if engine == "duckdb":
        store = DuckStore(work / "store.duckdb")
        store.write_batch("touches", batch, json.dumps({"row": -1}), _now_us(), pause)
        return
    from slacore.model import Touch
    from slacore_connectors.store import SQLiteStore

    records = [Touch(**row) for row in batch.drop_columns(["n"]).to_pylist()]
    cursor = Cursor(stream=Stream.TOUCHES, state={"killed": True})
    with SQLiteStore(work / "store.db") as store:

        def at_cursor(statement: str) -> None:
            # The real write_batch, stopped as it writes the cursor row, its last statement
            # before COMMIT: the batch's rows are written by then.
            if statement.startswith("INSERT INTO cursors"):
                pause()

        store._db.set_trace_callback(at_cursor)
        store.write_batch(
            SOURCE,
            Batch(stream=Stream.TOUCHES, records=records, cursor=cursor),
            run_id=0,
            seen_at=datetime.now(UTC),
        )


def hold_reader(work: Path, engine: str) -> None:
    """Open the store to read, start reading the touches (a report at work), say ``ready``
    and wait there to be killed."""
    if engine == "duckdb":
        store = DuckStore(work / FILES[engine], read_only=True)
        rows = store.db.execute("SELECT * FROM touches")
        rows.fetchmany(1000)
    else:
        from slacore_connectors.store import SQLiteStore

        reader = SQLiteStore(work / FILES[engine], read_only=True)
        rows = reader.records("touches")
        next(rows)  # the read transaction is open while the statement is
    print("ready", flush=True)
    time.sleep(3600)


def check_store(work: Path, engine: str) -> dict[str, Any]:
    """The store reopened to write, as the next sync opens it: its current touches, those of
    the killed batch, and the touches cursor."""
    if engine == "sqlite":
        from slacore_connectors.store import SQLiteStore

        with SQLiteStore(work / "store.db") as store:
            db = store._db
            cursor = store.cursor(SOURCE, "touches")
            found = cursor.to_json() if cursor else None
            return _check(db, found)
    store = DuckStore(work / "store.duckdb")
    (found,) = store.db.execute("SELECT cursor FROM cursors WHERE stream = 'touches'").fetchone()
    try:
        return _check(store.db, found)
    finally:
        store.close()


def _check(db: Any, cursor: str | None) -> dict[str, Any]:
    (current,) = db.execute("SELECT count(*) FROM touches WHERE seen_to IS NULL").fetchone()
    (killed,) = db.execute("SELECT count(*) FROM touches WHERE rep_id = ?", [KILLED_REP]).fetchone()
    return {"current": current, "killed_rows": killed, "cursor": cursor}


def child(argv: list[str]) -> int:
    """Run one step (``--step NAME WORK ENGINE [ARG]``) and print its figures as JSON."""
    step, work, engine, *rest = argv
    folder = Path(work)
    if step in ("load", "reload"):
        answer: dict[str, Any] = ingest(folder, engine, step)
    elif step in ("hold", "hold-read"):
        (hold_writer if step == "hold" else hold_reader)(folder, engine)
        return 0
    else:
        try:
            if step == "read":
                how, moment = rest
                at = int(moment) if moment != "now" else None
                answer = read_month(folder, engine, how, at)
            else:
                answer = check_store(folder, engine)
        except Exception as error:  # refused: another process holds the store
            answer = {"error": f"{type(error).__name__}: {error}"}
    print(json.dumps(answer))
    return 0


# --- measuring ---------------------------------------------------------------------------------


def step(work: Path, name: str, engine: str, *args: str) -> dict[str, Any]:
    """Run a step in a child process: its answer with its wall, CPU and peak RSS."""
    out = work / f"{name}-{engine}-{'-'.join(args)}.json"
    usage = e2e.run([sys.executable, __file__, "--step", name, str(work), engine, *args], work, out)
    return {**json.loads(out.read_text()), **usage}


def disk(work: Path, engine: str) -> int:
    """The store's bytes on disk, its log files included."""
    files = work.glob(f"{FILES[engine]}*")
    return sum(path.stat().st_size for path in files if not path.name.endswith(".lock"))


@contextlib.contextmanager
def _held(work: Path, engine: str, role: str) -> Iterator[None]:
    """A child that holds the store (``hold``: inside a batch's transaction; ``hold-read``:
    in the middle of a read) for the block, SIGKILLed at its end."""
    command = [sys.executable, __file__, "--step", role, str(work), engine]
    errors = work / f"{role}-{engine}.err"
    with errors.open("w") as err:
        holder = subprocess.Popen(command, cwd=work, stdout=subprocess.PIPE, stderr=err, text=True)
        try:
            assert holder.stdout is not None
            if holder.stdout.readline().strip() != "ready":
                raise SystemExit(f"{role} {engine} did not start: {errors.read_text()}")
            yield
        finally:
            os.kill(holder.pid, signal.SIGKILL)
            holder.wait()


def killed(work: Path, engine: str) -> dict[str, Any]:
    """A reader while a writer is inside a batch's transaction, the writer SIGKILLed there,
    and a sync opening the store while a report reads it."""
    before = step(work, "check", engine)
    with _held(work, engine, "hold"):
        reader = step(work, "read", engine, "columns" if engine == "sqlite" else "arrow", "now")
    after = step(work, "check", engine)
    with _held(work, engine, "hold-read"):
        sync = step(work, "check", engine)
    keep = ("current", "killed_rows", "cursor")
    for found in (before, after):
        if "error" in found:
            raise SystemExit(f"{engine}: {found['error']}")
    return {
        "reader": reader,
        "before": {k: before[k] for k in keep},
        "after": {k: after[k] for k in keep},
        "batch_absent": after["killed_rows"] == 0 and all(after[k] == before[k] for k in keep),
        "sync_while_reading": sync.get("error", "opened to write"),
    }


def one_size(work: Path, size: int) -> dict[str, Any]:
    """Every step on the export of ``size`` hand-offs; step -> figures."""
    began = time.perf_counter()
    rows = e2e.generate(work / "export", size)
    records = sum(rows.values())
    print(
        f"{size:,} hand-offs, {records:,} records, written in "
        f"{time.perf_counter() - began:.1f} s (load {os.getloadavg()[0]:.2f})",
        flush=True,
    )
    got: dict[str, Any] = {"records": records, "ingest": {}, "read": {}, "kill": {}}
    for load in ("load", "reload"):
        for engine in ENGINES:
            m = step(work, load, engine)
            m["disk"] = disk(work, engine)
            got["ingest"][f"{engine} {load}"] = m
            cells = zip(INGEST_HEADS, _ingest_cells(m), strict=True)
            print(f"  {engine} {load}: " + "; ".join(f"{h} {c}" for h, c in cells), flush=True)
        stored = {got["ingest"][f"{engine} {load}"]["stored"] for engine in ENGINES}
        if len(stored) != 1:
            raise SystemExit(f"the {load}s stored different numbers of records: {stored}")
    checks = set()
    for engine, how in (
        ("sqlite", "objects"),
        ("sqlite", "columns"),
        ("duckdb", "numpy"),
        ("duckdb", "arrow"),
    ):
        loads = [got["ingest"][f"{engine} {load}"]["seen_at"] for load in ("load", "reload")]
        middle = sum(datetime.fromisoformat(at).timestamp() for at in loads) / 2
        for moment in ("now", str(int(middle * 10**6))):
            m = step(work, "read", engine, how, moment)
            label = f"{engine} {how}, {'now' if moment == 'now' else 'as_of'}"
            got["read"][label] = m
            if "error" in m:
                raise SystemExit(f"{label}: {m['error']}")
            checks.add(json.dumps([m["handoffs"], m["touches"]], sort_keys=True))
            print(
                f"  read {label}: {m['read_s']:.2f} s (CPU {m['read_cpu']:.2f}) in the child, "
                f"wall {m['seconds']:.2f} "
                f"s, peak RSS {e2e.mib(m['rss'])}; {m['handoffs']['rows']:,} hand-offs, "
                f"{m['touches']['rows']:,} touches",
                flush=True,
            )
    if len(checks) != 1:
        raise SystemExit(f"the reads disagree: {sorted(checks)}")
    for engine in ("sqlite", "duckdb"):
        got["kill"][engine] = outcome = killed(work, engine)
        reader = outcome["reader"]
        seen = reader.get("error") or (
            f"read {reader['touches']['rows']:,} touches in {reader['read_s']:.2f} s"
        )
        print(f"  {engine}, a reader while a writer is inside a batch: {seen}", flush=True)
        print(
            f"  {engine}, a sync opening the store while a report reads it: "
            f"{outcome['sync_while_reading']}",
            flush=True,
        )
        print(
            f"  {engine}, writer SIGKILLed inside the batch: batch wholly absent after "
            f"reopening: {outcome['batch_absent']} ({outcome['after']})",
            flush=True,
        )
    return got


INGEST_HEADS: Final = (
    "wall (CPU)",
    "read + store (CPU)",
    "records/s (CPU)",
    "store alone (CPU)",
    "a touches batch, first -> last (CPU)",
    "peak RSS",
    "on disk",
)


def _ingest_cells(m: dict[str, Any]) -> list[str]:
    """An ingest step's figures (``INGEST_HEADS``); records/s from the wall times."""
    t = m["touches"]["cpu"]
    return [
        f"{m['seconds']:.1f} s ({m['cpu']:.1f})",
        f"{m['read_s']:.1f} + {m['write_s']:.1f} s ({m['read_cpu']:.1f} + {m['write_cpu']:.1f})",
        f"{m['records'] / (m['read_s'] + m['write_s']):,.0f} "
        f"({m['records'] / (m['read_cpu'] + m['write_cpu']):,.0f})",
        f"{m['records'] / m['write_s']:,.0f} ({m['records'] / m['write_cpu']:,.0f})",
        f"{t['first_ms']:.0f} -> {t['last_ms']:.0f} ms (x{t['last_over_first']:.2f})",
        e2e.mib(m["rss"]),
        e2e.mib(m["disk"]),
    ]


def dependencies(work: Path) -> dict[str, dict[str, Any]]:
    """Wheel size, installed size and import time of each package a switch would add."""
    got = {}
    for name in ("duckdb", "pyarrow", "numpy"):
        dist = metadata.distribution(name)
        installed = sum(f.size or 0 for f in dist.files or ())
        wheel = None
        folder = work / "wheels" / name
        fetched = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--only-binary",
                ":all:",
                "-d",
                str(folder),
                f"{name}=={dist.version}",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if fetched.returncode == 0:
            wheel = sum(path.stat().st_size for path in folder.glob("*.whl"))
        imports = []
        for _ in range(3):
            done = subprocess.run(
                [sys.executable, "-X", "importtime", "-c", f"import {name}"],
                capture_output=True,
                text=True,
                check=True,
            )
            lines = [line.split("|") for line in done.stderr.splitlines() if "|" in line]
            imports.append(next(int(c) for _, c, n in lines if n.strip() == name) / 1e3)
        got[name] = {
            "version": dist.version,
            "wheel": wheel,
            "installed": installed,
            "import_ms": min(imports),
        }
    return got


def tables(results: dict[int, dict[str, Any]], deps: dict[str, dict[str, Any]]) -> None:
    """The figures as Markdown tables."""
    print(f"\n| hand-offs (records) | engine, step | {' | '.join(INGEST_HEADS)} |")
    print("| ---: | --- |" + " ---: |" * len(INGEST_HEADS))
    for size, got in results.items():
        for label, m in got["ingest"].items():
            cells = " | ".join(_ingest_cells(m))
            print(f"| {size:,} ({got['records']:,}) | {label} | {cells} |")
    print("\n| hand-offs | read of the month | wall (CPU) | the read (CPU) | peak RSS | rows |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for size, got in results.items():
        for label, m in got["read"].items():
            rows = f"{m['handoffs']['rows']:,} + {m['touches']['rows']:,}"
            wall = (
                f"{m['seconds']:.2f} s ({m['cpu']:.2f}) | {m['read_s']:.2f} s ({m['read_cpu']:.2f})"
            )
            print(f"| {size:,} | {label} | {wall} | {e2e.mib(m['rss'])} | {rows} |")
    print("\n| package | version | wheel | installed | import |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, d in deps.items():
        wheel = e2e.mib(d["wheel"]) if d["wheel"] else "-"
        print(
            f"| {name} | {d['version']} | {wheel} | {e2e.mib(d['installed'])} | "
            f"{d['import_ms']:.0f} ms |"
        )


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in text.split(","))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--sizes", type=_sizes, default=DEFAULT_SIZES, help="hand-offs (default 100000,1000000)")
    add("--quick", action="store_true", help=f"{e2e.QUICK_SIZES[0]:,} hand-offs, a smoke run")
    for flag in ("--repeat", "--months"):  # bench_e2e's: nox -s bench passes them to every script
        add(flag, type=int, default=1, help=argparse.SUPPRESS)
    add("--workdir", type=Path, help="write and keep the exports and stores here")
    add("--json", type=Path, help="also write every figure to this JSON file")
    add("--step", nargs="+", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.step:
        return child(options.step)
    try:
        import duckdb  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError as error:
        print(f"bench_store_engines: skipped, it needs duckdb and pyarrow ({error})")
        return 0
    sizes = e2e.QUICK_SIZES if options.quick else options.sizes
    if any(size < 1 for size in sizes):
        parser.error("--sizes must be at least 1")
    machine = (
        f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, {os.uname().sysname} "
        f"{os.uname().release}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; duckdb "
        f"{e2e._version('duckdb')}, pyarrow {e2e._version('pyarrow')}, SQLite "
        f"{__import__('sqlite3').sqlite_version}"
    )
    print(f"{machine}; load {os.getloadavg()[0]:.2f}", flush=True)
    base = options.workdir or Path(tempfile.mkdtemp(prefix="bench-stores-"))
    results: dict[int, dict[str, Any]] = {}
    try:
        deps = dependencies(base)
        for size in sizes:
            work = base / str(size)
            for stale in (old for name in FILES.values() for old in work.glob(f"{name}*")):
                stale.unlink()
            work.mkdir(parents=True, exist_ok=True)
            results[size] = one_size(work, size)
    finally:
        if options.workdir is None:
            __import__("shutil").rmtree(base, ignore_errors=True)
    tables(results, deps)
    print(f"load at the end {os.getloadavg()[0]:.2f}")
    if options.json:
        figures = {"machine": machine, "sizes": results, "dependencies": deps}
        options.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
