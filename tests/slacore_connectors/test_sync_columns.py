"""A sync on the column path (a connector's ``read_columns`` into a store's
``write_columns``) stores what the row path stores, and keeps the row path's promises."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pluggy
import pytest

from slacore.connector import (
    ColumnBatch,
    Cursor,
    RejectedRecord,
    Setting,
    SettingKind,
    empty_table,
)
from slacore.hookspecs import hookimpl
from slacore.plugins import new_plugin_manager
from slacore_connectors.csvfile import CsvConnector
from slacore_connectors.store import ColumnWriter, open_store
from slacore_connectors.sync import JobConfig, _Redactor, run_sync

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class RowsOnly(CsvConnector):
    """The csv connector without its column path: what a sync did before it had one."""

    name: ClassVar[str] = "csv-rows"

    @classmethod
    def offers_columns(cls) -> bool:
        return False


class Plugin:
    @hookimpl
    def slacore_register_connectors(self, register: Any) -> None:
        register(CsvConnector)
        register(RowsOnly)


@pytest.fixture
def plugins() -> pluggy.PluginManager:
    manager = new_plugin_manager(entry_points=False)
    manager.register(Plugin(), name="csv-both-ways")
    return manager


def _export(folder: Path) -> None:
    folder.mkdir()
    (folder / "leads.csv").write_text(
        "id,created_at,source,hand_raiser\n"
        "L1,2026-03-01T09:00:00-05:00,web,true\n"
        'L2,2026-03-01T09:00:00Z,"referral, partner",no\n'
        "L3,yesterday,web,true\n"
        "L1,2026-03-01T10:00:00-05:00,web,true\n",
        encoding="utf-8",
    )
    (folder / "touches.csv").write_text(
        "lead_id,rep_id,at,channel\n"
        "L1,R1,2026-03-01T10:00:00.25+01:00,call\n"
        "L2,R2,2026-03-01T10:00:00Z,fax\n"
        "\n"
        "L2,R2,2026-03-01T11:00:00Z,EMAIL\n"
        "L9,R2",  # waits for its newline
        encoding="utf-8",
    )


def _unsettled(cursor: str) -> dict[str, Any]:
    """A stored cursor without its ``written`` (when its file was read settled)."""
    parsed: dict[str, Any] = json.loads(cursor)
    parsed["state"].pop("written", None)
    return parsed


def _sync(
    work: Path, plugins: pluggy.PluginManager, connector: str, suffix: str = ".db"
) -> dict[str, Any]:
    # One export for all (its cursors name the file), a store each.
    store = f"{connector}{suffix}"
    (work / f"{store}.toml").write_text(
        f'store = "{store}"\n[[sources]]\nname = "crm"\nconnector = "{connector}"\n'
        'settings = { path = "data", batch_size = 2 }\n',
        encoding="utf-8",
    )
    job = JobConfig.load(work / f"{store}.toml")
    report = run_sync(job, plugin_manager=plugins, now=lambda: T0)
    with open_store(work / store) as opened:
        dump = opened.dump()
    # The run's record names its connector; all else is the same whichever way it was read.
    dump.pop("runs", None)
    dump.pop("sources", None)
    # but whether a file had settled when it was read (a cursor's "written"), which the
    # clock decides: a file is taken as settled two seconds after it was last written.
    dump["cursors"] = [(*row[:2], _unsettled(row[2])) for row in dump["cursors"]]
    streams = report.to_dict()["sources"][0]["streams"]
    for counts in streams.values():
        counts.pop("batches")  # a column batch is larger
    return {"dump": dump, "streams": streams, "notices": report.sources[0].notices}


@pytest.mark.parametrize("suffix", [".db", ".duckdb"], ids=["sqlite", "duckdb"])
def test_a_sync_on_columns_stores_what_a_sync_on_rows_stores(
    tmp_path: Path, plugins: pluggy.PluginManager, suffix: str
) -> None:
    _export(tmp_path / "data")
    by_columns = _sync(tmp_path, plugins, "csv", suffix)
    by_rows = _sync(tmp_path, plugins, "csv-rows", suffix)
    assert by_columns == by_rows
    assert by_columns["streams"]["touches"]["rejected"] == 1
    assert by_columns["streams"]["leads"]["stored"] == 3  # L1 twice: in two batches
    assert by_columns["notices"]["touches"] == (
        "touches.csv:6: the last line has no newline yet; it waits for the next run "
        "(wait_for_newline = false reads it as it is)",
    )
    if suffix == ".duckdb":  # and what SQLite stores on the row path
        assert by_columns == _sync(tmp_path, plugins, "csv-rows", ".db")


@pytest.mark.parametrize("suffix", [".db", ".duckdb"], ids=["sqlite", "duckdb"])
def test_a_sync_on_columns_is_idempotent(
    tmp_path: Path, plugins: pluggy.PluginManager, suffix: str
) -> None:
    """A re-sync reads nothing new; a full re-read finds every record unchanged and
    stores nothing again, rejected rows replaced by the same ones."""
    _export(tmp_path / "data")
    leads = tmp_path / "data" / "leads.csv"
    # Without its second L1: a full re-read of two versions of a record stores both again.
    leads.write_text("".join(leads.read_text().splitlines(keepends=True)[:-1]))
    (tmp_path / "slacore.toml").write_text(
        f'store = "sla{suffix}"\n[[sources]]\nname = "crm"\nconnector = "csv"\n'
        'settings = { path = "data", batch_size = 2 }\n',
        encoding="utf-8",
    )
    job = JobConfig.load(tmp_path / "slacore.toml")
    first = run_sync(job, plugin_manager=plugins, now=lambda: T0)
    with open_store(job.store) as store:
        assert isinstance(store, ColumnWriter)
        before = store.dump()
    again = run_sync(job, plugin_manager=plugins, now=lambda: T0)
    full = run_sync(job, full=True, plugin_manager=plugins, now=lambda: T0)
    with open_store(job.store) as store:
        after = store.dump()
    assert first.ok
    assert again.ok
    assert full.ok
    assert sum(c.read for c in again.sources[0].streams.values()) == 0
    for name, counts in full.sources[0].streams.items():
        stored = first.sources[0].streams[name]
        assert counts.stored == 0, name
        assert counts.unchanged == stored.stored + stored.unchanged, name
        assert counts.rejected == stored.rejected, name
    before.pop("runs", None)
    after.pop("runs", None)
    assert after == before


def test_the_redactor_hides_secrets_in_a_column_batch() -> None:
    redactor = _Redactor()
    redactor.add([Setting(name="token", kind=SettingKind.TEXT, secret=True)], {"token": "s3cret"})
    batch = ColumnBatch(
        stream="leads",
        table=empty_table("leads"),
        cursor=Cursor(stream="leads"),
        rejected=[RejectedRecord(stream="leads", reason="bad s3cret", raw={"x": "s3cret"})],
        notices=["the s3cret file"],
    )
    hidden = redactor.batch(batch)
    assert isinstance(hidden, ColumnBatch)
    assert hidden.notices == ("the *** file",)
    assert (hidden.rejected[0].reason, hidden.rejected[0].raw) == ("bad ***", {"x": "***"})


def test_a_resync_with_nothing_new_loads_no_pyarrow(tmp_path: Path) -> None:
    # A re-sync reads no row: its empty column batches are made and stored without pyarrow,
    # whose import (with numpy's) would double the cost of a re-sync.
    _export(tmp_path / "data")
    (tmp_path / "data" / "touches.csv").unlink()  # its last line waits: not nothing new
    (tmp_path / "slacore.toml").write_text(
        'store = "slacore.db"\n[[sources]]\nname = "crm"\nconnector = "csv"\n'
        'settings = { path = "data" }\n',
        encoding="utf-8",
    )
    script = (
        "import sys\n"
        "from slacore_connectors.sync import JobConfig, run_sync\n"
        "report = run_sync(JobConfig.load('slacore.toml'))\n"
        "print(sum(c.read for s in report.sources for c in s.streams.values()),"
        " 'pyarrow' in sys.modules)\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True,
            cwd=tmp_path,
        ).stdout.split()
        for _ in range(2)
    ]  # fmt: skip
    assert runs == [["2", "True"], ["0", "False"]]  # L3 and the second L1 rejected
