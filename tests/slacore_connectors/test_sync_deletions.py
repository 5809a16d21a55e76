"""A source that deletes a lead (archived, merged away): the sync counts it, the store closes
the lead and its hand-offs and touches, the report no longer counts them, and ``--as-of``
before the deletion still does. A sync killed around a deletion batch, resumed, applies it
once. Against a real store, the report through the real command line too."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib.resources import as_file, files
from pathlib import Path

import pluggy
import pytest
from tests.cli import slacore

from slacore import Handoff, Lead, Rep, Touch
from slacore.agreement import Agreement
from slacore.connector import Batch, Connector, Cursor, Setting, SettingKind, Stream
from slacore.hookspecs import hookimpl
from slacore.plugins import new_plugin_manager
from slacore_connectors.report.build import build_report
from slacore_connectors.store.sqlite import SQLiteStore
from slacore_connectors.sync import JobConfig, run_sync

FIRST = datetime(2020, 7, 1, 6, 0, tzinfo=UTC)
"""The first sync: three leads handed off in June 2020, each called within the hour."""
SECOND = datetime(2020, 7, 8, 6, 0, tzinfo=UTC)
"""The sync that learns the source deleted L2."""
NEW_YORK = timedelta(hours=-4)

DIE_AFTER_DELETING = False
"""Set by the killed sync's process: the connector kills it once its deletion batch is stored."""


class Archiving(Connector):
    """Leads L1 to L3, each handed off on a June morning and called 20 minutes later, and rep
    R1. The leads the setting ``archived`` names are gone from the source: a leads batch
    deletes them. The cursor is the archived list: read again unchanged, nothing."""

    name = "archiving"
    streams = (Stream.LEADS, Stream.HANDOFFS, Stream.TOUCHES, Stream.REPS)
    settings_schema = (Setting(name="archived", kind=SettingKind.LIST, default=()),)

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        archived = sorted(self.settings["archived"])
        end = Cursor(stream=stream, state={"archived": ",".join(archived)})
        if cursor is not None and cursor.state == end.state:
            yield Batch(stream=stream, records=[], cursor=end)
            return
        records: list[object] = []
        for day, lead_id in enumerate(("L1", "L2", "L3"), start=8):
            if lead_id in archived:
                continue
            at = datetime(2020, 6, day, 14, 0, tzinfo=UTC)  # 10:00 in New York
            records += {
                Stream.LEADS: [Lead(id=lead_id, created_at=at - timedelta(days=2), source="web")],
                Stream.HANDOFFS: [
                    Handoff(
                        lead_id=lead_id,
                        notified_at=at,
                        stage="mql",
                        owner_id="R1",
                        source="web",
                        hand_raiser=True,
                    )
                ],
                Stream.TOUCHES: [
                    Touch(
                        lead_id=lead_id, rep_id="R1", at=at + timedelta(minutes=20), channel="call"
                    )
                ],
                Stream.REPS: [],
            }[stream]
        if stream is Stream.REPS:
            records = [Rep(id="R1", name="Avery Brooks", team="sales")]
        deleted = archived if stream is Stream.LEADS else []
        yield Batch(stream=stream, records=records, cursor=end, deleted=deleted)  # type: ignore[arg-type]
        if deleted and DIE_AFTER_DELETING:
            os.kill(os.getpid(), signal.SIGKILL)


class Plugin:
    @hookimpl
    def slacore_register_connectors(self, register: object) -> None:
        register(Archiving)  # type: ignore[operator]


def manager() -> pluggy.PluginManager:
    plugins = new_plugin_manager(entry_points=False)
    plugins.register(Plugin(), name="archiving-plugin")
    return plugins


def write_job(folder: Path, archived: list[str]) -> JobConfig:
    """The job file: the demo's agreement, the store, one source reading ``archiving``."""
    agreement = folder / "company_a.toml"
    if not agreement.exists():
        with as_file(files("slacore_connectors") / "demo" / "company_a.toml") as bundled:
            shutil.copy(bundled, agreement)
    (folder / "slacore.toml").write_text(
        'store = "slacore.db"\nagreement = "company_a.toml"\n\n[[sources]]\nname = "crm"\n'
        f'connector = "archiving"\nsettings = {{ archived = {json.dumps(archived)} }}\n'
    )
    return JobConfig.load(folder / "slacore.toml")


def test_a_deleted_lead_leaves_the_report_and_stays_in_the_past(tmp_path: Path) -> None:
    first = run_sync(write_job(tmp_path, []), plugin_manager=manager(), now=lambda: FIRST)
    assert first.ok
    assert first.sources[0].streams["handoffs"].stored == 3
    second = run_sync(write_job(tmp_path, ["L2"]), plugin_manager=manager(), now=lambda: SECOND)
    assert second.ok, second.sources[0].error
    leads = second.sources[0].streams["leads"]
    assert (leads.read, leads.stored, leads.unchanged, leads.deleted) == (2, 0, 2, 1)
    # Shown and kept: the text table, --json, the run record.
    assert "| stream | read | stored | unchanged | rejected | deleted |" in second.to_text()
    assert "| leads | 2 | 0 | 2 | 0 | 1 |" in second.to_text()
    assert second.to_dict()["sources"][0]["streams"]["leads"]["deleted"] == 1
    with SQLiteStore(tmp_path / "slacore.db") as store:
        assert [run.counts["leads"]["deleted"] for run in store.runs()] == [0, 1]
        assert sorted(h.lead_id for h in store.records("handoffs")) == ["L1", "L3"]
        assert sorted(t.lead_id for t in store.records("touches")) == ["L1", "L3"]
        agreement = Agreement.load(tmp_path / "company_a.toml")
        before = build_report(store, agreement, as_of=datetime(2020, 7, 5, tzinfo=UTC))
        after = build_report(store, agreement, as_of=datetime(2020, 7, 10, tzinfo=UTC))
    assert (before.handoffs, after.handoffs) == (3, 2)
    (response_before,) = before.responses
    (response_after,) = after.responses
    assert (response_before.summary.eligible, response_before.summary.met) == (3, 3)
    assert (response_after.summary.eligible, response_after.summary.met) == (2, 2)
    # The command line reads the same store: now without L2, before the deletion with it.
    for as_of, handoffs, met in (("2020-07-05", 3, 3), ("2020-07-10", 2, 2), (None, 2, 2)):
        args = ["report", "--period", "2020-06", "--json"]
        args += [] if as_of is None else ["--as-of", as_of]
        done = slacore(*args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        document = json.loads(done.stdout)
        assert document["handoffs"] == handoffs, as_of
        assert document["response"][0]["summary"]["met"] == met, as_of


SCRIPT = """
import os, signal, sys
sys.path.insert(0, {tests!r})
import test_sync_deletions as test
from datetime import datetime
from slacore_connectors.store.sqlite import SQLiteStore
from slacore_connectors.sync import JobConfig, run_sync

if {during!r}:
    # Killed in the deletion's transaction, the lead closed but not yet committed.
    original = SQLiteStore._delete

    def dying(self, *args):
        closed = original(self, *args)
        if closed:
            os.kill(os.getpid(), signal.SIGKILL)
        return closed

    SQLiteStore._delete = dying
else:
    test.DIE_AFTER_DELETING = True  # killed once the deletion batch is committed
run_sync(JobConfig.load({job!r}), plugin_manager=test.manager(), now=lambda: test.SECOND)
"""


def versions(path: Path, table: str, lead: str) -> list[bool]:
    """Whether each stored version of the lead's rows in ``table`` is closed."""
    column = "id" if table == "leads" else "lead_id"
    with sqlite3.connect(path) as db:
        rows = db.execute(f"SELECT seen_to FROM {table} WHERE {column} = ?", (lead,)).fetchall()
    return [row[0] is not None for row in rows]


@pytest.mark.parametrize("during", [True, False], ids=["in-its-transaction", "after-it"])
def test_a_killed_deletion_is_applied_once_when_resumed(tmp_path: Path, during: bool) -> None:
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    for folder in (killed, clean):
        folder.mkdir()
        assert run_sync(write_job(folder, []), plugin_manager=manager(), now=lambda: FIRST).ok
    job = write_job(killed, ["L2"])
    script = SCRIPT.format(tests=str(Path(__file__).parent), during=during, job=str(job.path))
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    with SQLiteStore(killed / "slacore.db") as store:
        # Killed in the transaction: nothing of the batch; after it: the batch, once.
        assert sorted(lead.id for lead in store.records("leads")) == (
            ["L1", "L2", "L3"] if during else ["L1", "L3"]
        )
    resumed = run_sync(job, plugin_manager=manager(), now=lambda: SECOND + timedelta(hours=1))
    assert resumed.ok
    assert resumed.sources[0].streams["leads"].deleted == (1 if during else 0)
    whole = run_sync(write_job(clean, ["L2"]), plugin_manager=manager(), now=lambda: SECOND)
    assert whole.sources[0].streams["leads"].deleted == 1
    with SQLiteStore(killed / "slacore.db") as a, SQLiteStore(clean / "slacore.db") as b:
        assert a.dump() == b.dump()
        assert [run.status for run in a.runs()] == ["success", "partial", "success"]
    for table in ("leads", "handoffs", "touches"):
        # One version of L2's rows, closed once; L1's still open.
        assert versions(killed / "slacore.db", table, "L2") == [True], table
        assert versions(killed / "slacore.db", table, "L1") == [False], table


def test_a_row_removed_from_a_csv_export_is_no_deletion(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    leads = tmp_path / "data" / "leads.csv"
    header = "id,created_at\n"
    leads.write_text(header + "L1,2020-06-01T09:00:00Z\nL2,2020-06-02T09:00:00Z\n")
    (tmp_path / "slacore.toml").write_text(
        '[[sources]]\nname = "crm"\nconnector = "csv"\nsettings = { path = "data" }\n'
    )
    job = JobConfig.load(tmp_path / "slacore.toml")
    assert run_sync(job, now=lambda: FIRST).ok
    leads.write_text(header + "L1,2020-06-01T09:00:00Z\n")  # the new export lacks L2
    again = run_sync(job, now=lambda: SECOND)
    counts = again.sources[0].streams["leads"]
    assert (counts.read, counts.unchanged, counts.deleted) == (1, 1, 0)
    with SQLiteStore(tmp_path / "slacore.db") as store:
        assert sorted(lead.id for lead in store.records("leads")) == ["L1", "L2"]
