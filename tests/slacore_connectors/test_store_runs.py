"""Run records: a run stopped before its end is ``partial``, and a killed one is found by the
next sync. The kill is real: ``slacore sync`` in a subprocess, sent SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

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


def _export(folder: Path, rows: int) -> None:
    data = folder / "data"
    data.mkdir()
    with (data / "leads.csv").open("w") as file:
        file.write("id,created_at,source\n")
        for i in range(rows):
            file.write(f"L{i:07d},2020-05-01T10:{i % 60:02d}:00-04:00,web\n")
    (folder / "slacore.toml").write_text(
        'store = "slacore.db"\n[[sources]]\nname = "crm"\nconnector = "csv"\n'
        'settings = { path = "data", batch_size = 2000 }\n'
    )


@pytest.fixture
def background() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes started by a test; whatever still runs at its end is killed."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def _sync(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slacore_connectors", "sync"],
        capture_output=True, text=True, timeout=300, check=False, cwd=folder,
    )  # fmt: skip


def _wait_for_a_stored_batch(store: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "the sync ended before it could be killed"
        try:
            with open_store(store, read_only=True) as opened:
                if opened.cursor("crm", "leads") is not None:
                    return
        except StoreError:
            pass  # not made yet, or being made
        time.sleep(0.05)
    pytest.fail("the sync stored nothing")


def test_a_killed_run_is_marked_by_the_next_sync(
    tmp_path: Path, background: list[subprocess.Popen[str]]
) -> None:
    _export(tmp_path, 100_000)
    process = subprocess.Popen(
        [sys.executable, "-m", "slacore_connectors", "sync"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    background.append(process)
    _wait_for_a_stored_batch(tmp_path / "slacore.db", process)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    with open_store(tmp_path / "slacore.db", read_only=True) as store:
        (killed,) = store.runs()
    assert killed.status == "running"  # it could not record its end
    done = _sync(tmp_path)
    assert done.returncode == 0, done.stderr
    again = _sync(tmp_path)
    assert again.returncode == 0, again.stderr
    with open_store(tmp_path / "slacore.db", read_only=True) as store:
        runs = store.runs()
        assert store.count("leads") == 100_000
    assert [(run.run_id, run.status) for run in runs] == [
        (killed.run_id, "partial"),
        (killed.run_id + 1, "success"),
        (killed.run_id + 2, "success"),
    ]
    assert runs[0].error is not None
    assert runs[0].error.startswith("abandoned: ")
    assert runs[0].finished_at is None
