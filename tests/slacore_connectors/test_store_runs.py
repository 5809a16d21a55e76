"""Run records: a run stopped before its end is ``partial``, and a killed one is found by the
next sync. The kill is real: ``slacore sync`` in a subprocess, sent SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.slacore_connectors.cli_export import sync, write_leads_export

from slacore_connectors.store import StoreError, open_store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("name", ["sla.db", "sla.duckdb"], ids=["sqlite", "duckdb"])
def test_a_partial_run_is_recorded(tmp_path: Path, name: str) -> None:
    with open_store(tmp_path / name) as store:
        run = store.start_run("crm", at=T0)
        store.finish_run(
            run,
            status="partial",
            counts={"leads": {"read": 5}},
            error="stopped by SIGTERM",
            at=T0 + timedelta(minutes=1),
        )
        (done,) = store.runs()
    assert (done.status, done.error, done.counts) == (
        "partial",
        "stopped by SIGTERM",
        {"leads": {"read": 5}},
    )
    assert done.finished_at == T0 + timedelta(minutes=1)


@pytest.mark.parametrize("name", ["sla.db", "sla.duckdb"], ids=["sqlite", "duckdb"])
def test_the_holder_of_the_lock_marks_runs_left_running(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with open_store(path) as store:
        killed = store.start_run("crm", at=T0)
        done = store.start_run("hubspot", at=T0)
        store.finish_run(done, status="success", counts={}, at=T0)
        also_killed = store.start_run("hubspot", at=T0 + timedelta(hours=1))
        with pytest.raises(StoreError, match="only by the holder of the sync lock"):
            store.abandon_runs()  # another sync may be running: nothing is marked
        assert [run.status for run in store.runs()] == ["running", "success", "running"]
    with open_store(path, locked=True) as store:
        assert store.abandon_runs() == [killed, also_killed]
        runs = store.runs()
        assert store.abandon_runs() == []
    assert [run.status for run in runs] == ["partial", "success", "partial"]
    for run in (runs[0], runs[2]):
        assert run.finished_at is None  # when it died is not known
        assert run.error is not None
        assert run.error.startswith("abandoned: the sync stopped before it recorded its end")
    assert runs[1].error is None


@pytest.mark.parametrize("name", ["sla.db", "sla.duckdb"], ids=["sqlite", "duckdb"])
def test_a_store_lock_taken_in_a_block_allows_marking(tmp_path: Path, name: str) -> None:
    with open_store(tmp_path / name) as store:
        store.start_run("crm", at=T0)
        with store.lock():
            assert len(store.abandon_runs()) == 1
        with pytest.raises(StoreError):
            store.abandon_runs()


# --- a real kill ------------------------------------------------------------------------------


ROWS = 20_000


def _export(folder: Path) -> None:
    lines = (f"L{i:07d},2020-05-01T10:{i % 60:02d}:00-04:00,web" for i in range(ROWS))
    write_leads_export(folder, "id,created_at,source", lines, store="slacore.db", batch_size=2000)


@pytest.fixture
def background() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes started by a test; whatever still runs at its end is killed."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def test_a_killed_run_is_marked_by_the_next_sync(
    tmp_path: Path, background: list[subprocess.Popen[str]]
) -> None:
    _export(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "slacore_connectors", "sync"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    background.append(process)
    # The sync prints a line for each batch it has stored: the first says one is.
    assert process.stderr is not None
    first = process.stderr.readline()
    assert first.startswith("crm: leads: +"), first
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    with open_store(tmp_path / "slacore.db", read_only=True) as store:
        (killed,) = store.runs()
    assert killed.status == "running"  # it could not record its end
    done = sync(tmp_path)
    assert done.returncode == 0, done.stderr
    again = sync(tmp_path)
    assert again.returncode == 0, again.stderr
    with open_store(tmp_path / "slacore.db", read_only=True) as store:
        runs = store.runs()
        assert store.count("leads") == ROWS
    assert [(run.run_id, run.status) for run in runs] == [
        (killed.run_id, "partial"),
        (killed.run_id + 1, "success"),
        (killed.run_id + 2, "success"),
    ]
    assert runs[0].error is not None
    assert runs[0].error.startswith("abandoned: ")
    assert runs[0].finished_at is None
