"""`slacore sync` stopped by Ctrl-C (SIGINT) or SIGTERM: it stops after a stored batch, records
the run as partial, says so in one line, exits 130 or 143, and the next sync completes exactly."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.slacore_connectors.cli_export import sync, write_leads_export

from slacore import Lead
from slacore.connector import Batch, Connector, Cursor, Stream
from slacore.hookspecs import hookimpl
from slacore.plugins import new_plugin_manager
from slacore_connectors.store.sqlite import SQLiteStore
from slacore_connectors.sync import JobConfig, run_sync

ROWS = 20_000


def _export(folder: Path) -> None:
    header = "id,created_at,source,segment,owner_id,stage,hand_raiser"
    lines = (
        f"L{i:07d},2020-05-01T10:{i % 60:02d}:00-04:00,web,smb,R{i % 10},mql,true"
        for i in range(ROWS)
    )
    write_leads_export(folder, header, lines, store="slacore.db", batch_size=50)


@pytest.mark.parametrize(
    ("number", "name", "status"), [(signal.SIGTERM, "SIGTERM", 143), (signal.SIGINT, "SIGINT", 130)]
)
def test_a_signal_stops_the_sync_as_partial_and_a_resume_completes_exactly(
    tmp_path: Path, number: signal.Signals, name: str, status: int
) -> None:
    stopped, clean = tmp_path / "stopped", tmp_path / "clean"
    _export(stopped)
    shutil.copytree(stopped, clean)
    process = subprocess.Popen(
        [sys.executable, "-m", "slacore_connectors", "sync"],
        cwd=stopped, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        # The sync prints a line for each batch it has stored: the first says one is.
        assert process.stderr is not None
        first = process.stderr.readline()
        assert first.startswith("crm: leads: +"), first
        process.send_signal(number)
        out, err = process.communicate(timeout=120)
        err = first + err
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == status, err
    assert "Traceback" not in err
    with SQLiteStore(stopped / "slacore.db") as store:
        partial = store.count("leads")
        (run,) = store.runs()
        assert run.status == "partial"
        assert run.finished_at is not None
        assert run.counts["leads"]["stored"] == partial
    assert 0 < partial < ROWS
    (line,) = [line for line in err.splitlines() if not line.startswith("crm: leads: +")]
    assert line == (
        f"slacore: stopped by {name} after a stored batch: {partial:,} records stored "
        f"({partial:,} read); the next sync resumes from there"
    )
    assert "crm (csv): partial" in out
    # The lock was released: the next sync runs, and ends where an uninterrupted one does.
    resumed = sync(stopped)
    assert resumed.returncode == 0, resumed.stderr
    whole = sync(clean)
    assert whole.returncode == 0, whole.stderr
    with SQLiteStore(stopped / "slacore.db") as a, SQLiteStore(clean / "slacore.db") as b:
        assert a.count("leads") == ROWS
        assert [run.status for run in a.runs()] == ["partial", "success"]
        stopped_dump, clean_dump = a.dump(), b.dump()
        for dump, folder in ((stopped_dump, stopped), (clean_dump, clean)):
            ((_, _, cursor),) = dump.pop("cursors")
            state = json.loads(cursor)["state"]
            assert (state["offset"], state["line"]) == (
                (folder / "data" / "leads.csv").stat().st_size,
                ROWS + 1,
            )
        assert stopped_dump == clean_dump


class Interrupted(Connector):
    """One batch of a lead, then Ctrl-C as Python raises it without a handler."""

    name = "interrupted"
    streams = (Stream.LEADS,)

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        at = datetime(2026, 3, 2, 9, tzinfo=UTC)
        yield Batch(
            stream=stream,
            records=[Lead(id="L1", created_at=at)],
            cursor=Cursor(stream=stream, state={"n": 1}),
        )
        raise KeyboardInterrupt


class Plugin:
    @hookimpl
    def slacore_register_connectors(self, register: object) -> None:
        register(Interrupted)  # type: ignore[operator]


def test_a_keyboard_interrupt_in_a_library_call_records_the_run_as_partial(
    tmp_path: Path,
) -> None:
    plugins = new_plugin_manager(entry_points=False)
    plugins.register(Plugin(), name="interrupted-plugin")
    job = tmp_path / "slacore.toml"
    job.write_text('[[sources]]\nname = "crm"\nconnector = "interrupted"\n')
    with pytest.raises(KeyboardInterrupt):
        run_sync(JobConfig.load(job), plugin_manager=plugins)
    with SQLiteStore(tmp_path / "slacore.db") as store:
        (run,) = store.runs()
        assert (run.status, run.counts["leads"]["stored"]) == ("partial", 1)
        assert store.count("leads") == 1
    # The lock was released.
    with pytest.raises(KeyboardInterrupt):
        run_sync(JobConfig.load(job), plugin_manager=plugins)
