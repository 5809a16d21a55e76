"""Sync integrity: a source keeps one connector; a connector's bug (a wrong object yielded,
an unexpected exception) fails its source only; secret settings' values never show. Against a
real store, in process and through the real command line (the connectors are a plugin
installed for the subprocess through an entry point on PYTHONPATH)."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pluggy
import pytest

from slacore import Lead, Touch
from slacore.connector import Batch, Connector, Cursor, Setting, Stream
from slacore.hookspecs import hookimpl
from slacore.plugins import new_plugin_manager
from slacore_connectors.store import SCHEMA_VERSION, SourceConnectorError, open_store
from slacore_connectors.store.migrations import MIGRATIONS
from slacore_connectors.sync import JobConfig, run_sync

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Alpha(Connector):
    """Two leads, A0 and A1."""

    name = "alpha"
    streams = (Stream.LEADS,)
    prefix = "A"

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        done = 0 if cursor is None else int(cursor.state["done"])  # type: ignore[arg-type]
        leads = [Lead(id=f"{self.prefix}{i}", created_at=T0) for i in range(done, 2)]
        yield Batch(stream=stream, records=leads, cursor=Cursor(stream=stream, state={"done": 2}))


class Beta(Alpha):
    """Two leads, B0 and B1."""

    name = "beta"
    prefix = "B"


class Wrong(Connector):
    """A connector with a bug, as its setting ``bug`` says; ``at`` says where it strikes."""

    name = "wrong"
    streams = (Stream.LEADS, Stream.TOUCHES)
    settings_schema = (Setting(name="bug", required=True), Setting(name="at", default="read"))

    def __init__(self, settings: dict[str, object] | None = None) -> None:
        super().__init__(settings)
        if self.settings["at"] == "init":
            raise KeyError("'page_size'")

    def available_streams(self) -> tuple[Stream, ...]:
        if self.settings["at"] == "streams":
            raise AttributeError("'NoneType' object has no attribute 'streams'")
        return self.streams

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Any]:
        end = Cursor(stream=stream, state={"done": True})
        good = Lead(id="L1", created_at=T0)
        bug = self.settings["bug"]
        if stream is Stream.TOUCHES:  # read after leads, and right
            touch = Touch(lead_id="L1", rep_id="R1", at=T0, channel="call")
            yield Batch(stream=stream, records=[touch], cursor=end)
            return
        yield Batch(stream=stream, records=[good], cursor=Cursor(stream=stream, state={}))
        if bug == "dict":
            yield {"records": [good]}
        elif bug == "record":
            touch = Touch(lead_id="L1", rep_id="R1", at=T0, channel="call")
            yield Batch(stream=stream, records=[good, touch], cursor=end)
        elif bug == "rejected":
            yield Batch(stream=stream, records=[], rejected=["row 3 is bad"], cursor=end)  # type: ignore[list-item]
        elif bug == "stream":
            touches = Cursor(stream=Stream.TOUCHES, state={})
            yield Batch(stream=Stream.TOUCHES, records=[], cursor=touches)
        elif bug == "raise":
            raise ZeroDivisionError("division by zero")


class Secretive(Connector):
    """Fails with its token in the error, after logging it."""

    name = "secretive"
    streams = (Stream.LEADS,)
    settings_schema = (Setting(name="token", secret=True), Setting(name="short", secret=True))

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        token, short = (self.settings[name].reveal() for name in ("token", "short"))
        logging.getLogger("secretive").error("token %s, short %s", token, short)
        raise PermissionError(f"token {token} refused; short {short}")


class Plugin:
    @hookimpl
    def slacore_register_connectors(self, register: object) -> None:
        for connector in (Alpha, Beta, Wrong, Secretive):
            register(connector)  # type: ignore[operator]


@pytest.fixture
def plugins() -> pluggy.PluginManager:
    manager = new_plugin_manager(entry_points=False)
    manager.register(Plugin(), name="integrity-plugin")
    return manager


def job(tmp_path: Path, *sources: tuple[str, str]) -> JobConfig:
    text = 'store = "sla.db"\n' + "".join(
        f'[[sources]]\nname = "{name}"\nconnector = "{connector}"\n' for name, connector in sources
    )
    path = tmp_path / "slacore.toml"
    path.write_text(text)
    return JobConfig.load(path)


def lead_ids(path: Path, source: str) -> list[str]:
    with open_store(path, read_only=True) as store:
        return sorted(lead.id for lead in store.records("leads", source_name=source))


# --- a source keeps its connector ----------------------------------------------------------------


def test_a_source_given_another_connector_is_refused_and_the_others_run(
    tmp_path: Path, plugins: pluggy.PluginManager
) -> None:
    first = job(tmp_path, ("crm", "alpha"))
    assert run_sync(first, plugin_manager=plugins, now=lambda: T0).ok
    changed = job(tmp_path, ("crm", "beta"), ("web", "alpha"))
    report = run_sync(changed, plugin_manager=plugins)
    crm, web = report.sources
    assert crm.status == "failed"
    assert report.exit_code == 1
    error = crm.error or ""
    assert "source 'crm' holds what connector 'alpha' read" in error
    assert "connector 'beta' cannot go on from it" in error
    assert "give it a new name in the job file" in error
    assert "slacore forget crm" in error
    assert crm.streams == {}  # nothing was read
    assert web.status == "success"
    assert lead_ids(changed.store, "crm") == ["A0", "A1"]  # no B record mixed in
    with open_store(changed.store, read_only=True) as store:
        assert store.source_connector("crm") == "alpha"
        assert store.source_connector("web") == "alpha"
        runs = store.runs("crm")
        assert [(r.connector, r.status) for r in runs] == [("alpha", "success"), ("beta", "failed")]
        assert runs[1].error == error


def test_a_source_renamed_starts_afresh_and_a_forgotten_one_too(
    tmp_path: Path, plugins: pluggy.PluginManager
) -> None:
    assert run_sync(job(tmp_path, ("crm", "alpha")), plugin_manager=plugins).ok
    renamed = job(tmp_path, ("crm-beta", "beta"))
    assert run_sync(renamed, plugin_manager=plugins).ok
    assert lead_ids(renamed.store, "crm-beta") == ["B0", "B1"]
    with open_store(renamed.store) as store:
        assert store.forget_source("crm") == 4  # two leads, a cursor, its connector
        assert store.forget_source("crm") == 0
        assert store.source_connector("crm") is None
        assert store.cursor("crm", "leads") is None
        assert [r.status for r in store.runs("crm")] == ["success"]  # the history stays
    again = job(tmp_path, ("crm", "beta"))
    report = run_sync(again, plugin_manager=plugins)
    assert report.ok, report.to_text()
    assert report.sources[0].streams["leads"].stored == 2  # read from the start
    assert lead_ids(again.store, "crm") == ["B0", "B1"]


def test_a_source_that_stored_nothing_may_change_its_connector(tmp_path: Path) -> None:
    with open_store(tmp_path / "sla.db") as store:
        store.claim_source("crm", "alpha")
        store.claim_source("crm", "beta")  # nothing of alpha's is held: no mix
        assert store.source_connector("crm") == "beta"
        run = store.start_run("crm", connector="beta")
        leads = [Lead(id="B0", created_at=T0)]
        batch = Batch(stream="leads", records=leads, cursor=Cursor(stream="leads", state={}))
        store.write_batch("crm", batch, run_id=run, seen_at=T0)
        with pytest.raises(SourceConnectorError, match="'crm' holds what connector 'beta'"):
            store.claim_source("crm", "alpha")
        assert store.source_connector("crm") == "beta"


def test_a_store_of_schema_2_records_the_connector_at_the_next_sync(
    tmp_path: Path, plugins: pluggy.PluginManager
) -> None:
    path = tmp_path / "sla.db"
    db = sqlite3.connect(path)
    for statements in MIGRATIONS[:2]:
        for statement in statements:
            db.execute(statement)
    db.execute("PRAGMA user_version = 2")
    db.execute(
        "INSERT INTO sync_runs (source_name, started_at, finished_at, status) "
        "VALUES ('crm', 0, 1, 'success')"
    )
    db.execute(
        "INSERT INTO cursors VALUES ('crm', 'leads', ?, 0)",
        (Cursor(stream="leads", state={"done": 1}).to_json(),),
    )
    db.commit()
    db.close()
    with open_store(path, read_only=True) as store:  # read as it is, not migrated
        assert store.schema_version == 2
        assert store.source_connector("crm") is None
        assert store.runs()[0].connector is None
    config = job(tmp_path, ("crm", "alpha"))
    report = run_sync(config, plugin_manager=plugins)
    assert report.ok, report.to_text()
    assert report.sources[0].streams["leads"].read == 1  # went on from the old cursor
    with open_store(path, read_only=True) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.source_connector("crm") == "alpha"
        assert [r.connector for r in store.runs()] == [None, "alpha"]
    refused = run_sync(job(tmp_path, ("crm", "beta")), plugin_manager=plugins)
    assert "holds what connector 'alpha' read" in (refused.sources[0].error or "")


# --- a connector's bug fails its source only -----------------------------------------------------


@pytest.mark.parametrize(
    ("bug", "at", "error"),
    [
        ("dict", "read", "leads: TypeError: connector 'wrong' yielded dict, not a Batch of leads"),
        (
            "record",
            "read",
            "leads: TypeError: connector 'wrong' yielded a leads batch whose record 2 is Touch, "
            "not Lead",
        ),
        (
            "rejected",
            "read",
            "leads: TypeError: connector 'wrong' yielded a leads batch whose rejected record 1 "
            "is str, not RejectedRecord",
        ),
        (
            "stream",
            "read",
            "leads: ValueError: connector 'wrong' yielded a touches batch for leads",
        ),
        ("raise", "read", "leads: ZeroDivisionError: division by zero"),
        ("none", "init", "KeyError: \"'page_size'\""),
        ("none", "streams", "AttributeError: 'NoneType' object has no attribute 'streams'"),
    ],
)
def test_a_connector_bug_fails_its_source_and_the_others_run(
    tmp_path: Path, plugins: pluggy.PluginManager, bug: str, at: str, error: str
) -> None:
    path = tmp_path / "slacore.toml"
    path.write_text(
        f'store = "sla.db"\n[[sources]]\nname = "buggy"\nconnector = "wrong"\n'
        f'settings = {{ bug = "{bug}", at = "{at}" }}\n'
        '[[sources]]\nname = "crm"\nconnector = "alpha"\n'
    )
    config = JobConfig.load(path)
    report = run_sync(config, plugin_manager=plugins)
    buggy, crm = report.sources
    assert (buggy.status, buggy.error) == ("failed", error)
    assert report.exit_code == 1
    assert crm.status == "success"
    with open_store(config.store, read_only=True) as store:
        assert [(r.status, r.error) for r in store.runs()] == [
            ("failed", error),
            ("success", None),
        ]
        if at == "read":
            # What came before the bug is stored; the bad batch is not; the next stream is read.
            assert buggy.streams["leads"].stored == 1
            assert buggy.streams["touches"].stored == 1
            assert lead_ids(config.store, "buggy") == ["L1"]
            assert store.count("touches") == 1
        assert lead_ids(config.store, "crm") == ["A0", "A1"]


# --- through the command line ----------------------------------------------------------------

PLUGIN = '''
import logging
from datetime import UTC, datetime

from slacore import Lead
from slacore.connector import (
    Batch, Connector, Cursor, RejectedRecord, Setting, SettingKind, Stream
)
from slacore.hookspecs import hookimpl


class LinesConnector(Connector):
    """One lead per line of the file ``export``."""

    name = "lines"
    streams = (Stream.LEADS,)
    settings_schema = (Setting(name="export", kind=SettingKind.PATH, required=True),)

    def read_stream(self, stream, cursor):
        ids = self.settings["export"].read_text().split()
        at = datetime(2026, 3, 2, 9, tzinfo=UTC)
        yield Batch(
            stream=stream,
            records=[Lead(id=i, created_at=at) for i in ids],
            cursor=Cursor(stream=stream, state={"n": len(ids)}),
        )


class WrongConnector(Connector):
    """Yields a dict where a Batch belongs."""

    name = "wrong"
    streams = (Stream.LEADS,)

    def read_stream(self, stream, cursor):
        yield {"records": []}


class LeakyConnector(Connector):
    """Says its token everywhere it can: a log line, a notice, a rejected record, an error."""

    name = "leaky"
    streams = (Stream.LEADS,)
    settings_schema = (Setting(name="token", secret=True), Setting(name="at", default="read"))

    def __init__(self, settings=None):
        super().__init__(settings)
        if self.settings["at"] == "init":
            raise ValueError(f"bad token {self.settings['token'].reveal()}")

    def read_stream(self, stream, cursor):
        token = self.settings["token"].reveal()
        log = logging.getLogger("leaky")
        log.warning("calling the API with token %s", token)
        try:
            raise ConnectionError(f"refused {token}")
        except ConnectionError:
            log.exception("the call failed")
        bad = RejectedRecord(stream=stream, reason=f"token {token} expired", raw={"t": token})
        yield Batch(
            stream=stream,
            records=[],
            cursor=Cursor(stream=stream, state={"n": 1}),
            rejected=[bad],
            notices=[f"page 2 needs token {token}"],
        )
        raise RuntimeError(f"HTTP 401 for https://api.example.com/?token={token}")


@hookimpl
def slacore_register_connectors(register):
    register(LinesConnector)
    register(WrongConnector)
    register(LeakyConnector)
'''


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the plugin module and its distribution's entry point."""
    folder = tmp_path_factory.mktemp("site")
    (folder / "integrity_plugin.py").write_text(PLUGIN)
    info = folder / "integrity_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: integrity-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[slacore]\nintegrity = integrity_plugin\n")
    return folder


def slacore(
    site: Path, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(site), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "slacore_connectors", *args],
        capture_output=True, text=True, timeout=120, check=False, cwd=cwd, env=environ,
    )  # fmt: skip


def test_the_command_line_refuses_a_csv_source_given_another_connector(
    site: Path, tmp_path: Path
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "leads.csv").write_text("id,created_at\nC1,2026-03-02T09:00:00+00:00\n")
    (tmp_path / "ids.txt").write_text("X1\nX2\n")
    job_file = tmp_path / "slacore.toml"
    job_file.write_text(
        '[[sources]]\nname = "crm"\nconnector = "csv"\nsettings = { path = "data" }\n'
    )
    done = slacore(site, "sync", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    job_file.write_text(
        '[[sources]]\nname = "crm"\nconnector = "lines"\nsettings = { export = "ids.txt" }\n'
        '[[sources]]\nname = "other"\nconnector = "lines"\nsettings = { export = "ids.txt" }\n'
    )
    done = slacore(site, "sync", "--json", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    crm, other = json.loads(done.stdout)["sources"]
    assert crm["status"] == "failed"
    assert "source 'crm' holds what connector 'csv' read" in crm["error"]
    assert "slacore forget crm" in crm["error"]
    assert other["status"] == "success"
    assert "Traceback" not in done.stderr
    assert lead_ids(tmp_path / "slacore.db", "crm") == ["C1"]
    done = slacore(site, "forget", "crm", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "forgot source crm" in done.stdout
    done = slacore(site, "sync", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert lead_ids(tmp_path / "slacore.db", "crm") == ["X1", "X2"]
    done = slacore(site, "forget", "nosuch", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("slacore: error: the store holds nothing of source 'nosuch'")


def test_the_command_line_reports_a_connector_bug_in_one_line_and_runs_the_others(
    site: Path, tmp_path: Path
) -> None:
    (tmp_path / "ids.txt").write_text("X1\n")
    (tmp_path / "slacore.toml").write_text(
        '[[sources]]\nname = "buggy"\nconnector = "wrong"\n'
        '[[sources]]\nname = "crm"\nconnector = "lines"\nsettings = { export = "ids.txt" }\n'
    )
    done = slacore(site, "sync", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    error = "leads: TypeError: connector 'wrong' yielded dict, not a Batch of leads"
    assert f"- leads: refused: {error.removeprefix('leads: ')}" in done.stdout
    assert "crm (lines): success" in done.stdout
    with open_store(tmp_path / "slacore.db", read_only=True) as store:
        assert [(r.status, r.error) for r in store.runs()] == [("failed", error), ("success", None)]
    done = slacore(site, "sync", "--json", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    buggy, crm = json.loads(done.stdout)["sources"]
    assert (buggy["status"], buggy["error"]) == ("failed", error)
    assert crm["status"] == "success"


TOKEN = "pat-na1-7f3e9c2a"


def test_a_secret_in_a_connector_error_never_shows(site: Path, tmp_path: Path) -> None:
    (tmp_path / "ids.txt").write_text("X1\n")
    (tmp_path / "slacore.toml").write_text(
        '[[sources]]\nname = "crm"\nconnector = "leaky"\n'
        'settings = { token = { env = "LEAKY_TOKEN" } }\n'
        '[[sources]]\nname = "setup"\nconnector = "leaky"\n'
        'settings = { token = { env = "LEAKY_TOKEN" }, at = "init" }\n'
        '[[sources]]\nname = "other"\nconnector = "lines"\nsettings = { export = "ids.txt" }\n'
    )
    env = {"LEAKY_TOKEN": TOKEN}
    text = slacore(site, "sync", cwd=tmp_path, env=env)
    as_json = slacore(site, "sync", "--json", cwd=tmp_path, env=env)
    for done in (text, as_json):
        assert done.returncode == 1, done.stdout + done.stderr
        assert TOKEN not in done.stdout + done.stderr
    assert "calling the API with token ***" in text.stderr  # the log line, redacted
    assert "ConnectionError: refused ***" in text.stderr  # and the traceback it logged
    out = " ".join(text.stdout.split())
    assert "- leads: refused: RuntimeError: HTTP 401 for https://api.example.com/?token=***" in out
    assert "- leads: notice: page 2 needs token ***" in out
    assert "setup (leaky): failed: ValueError: bad token ***" in out
    assert "other (lines): success" in out
    crm, setup, other = json.loads(as_json.stdout)["sources"]
    assert crm["error"] == "leads: RuntimeError: HTTP 401 for https://api.example.com/?token=***"
    assert crm["notices"] == {"leads": ["page 2 needs token ***"]}
    assert setup["error"] == "ValueError: bad token ***"
    assert other["status"] == "success"
    with open_store(tmp_path / "slacore.db", read_only=True) as store:
        runs = store.runs()
        assert [r.status for r in runs] == ["failed", "failed", "success"] * 2
        assert runs[0].error == crm["error"]
        assert runs[0].counts["leads"]["notices"] == ["page 2 needs token ***"]  # type: ignore[comparison-overlap]
        (rejected,) = store.rejected()
        assert (rejected.reason, rejected.raw) == ("token *** expired", {"t": "***"})
    with sqlite3.connect(tmp_path / "slacore.db") as db:
        assert not [line for line in db.iterdump() if TOKEN in line]


def test_secrets_are_hidden_in_the_report_and_logs_while_the_sync_runs(
    tmp_path: Path, plugins: pluggy.PluginManager, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "slacore.toml"
    path.write_text(
        'store = "sla.db"\n[[sources]]\nname = "crm"\nconnector = "secretive"\n'
        'settings = { token = { env = "TOKEN" }, short = { env = "SHORT" } }\n'
    )
    config = JobConfig.load(path, environ={"TOKEN": TOKEN, "SHORT": "abc"})
    factory = logging.getLogRecordFactory()
    report = run_sync(config, plugin_manager=plugins)
    assert logging.getLogRecordFactory() is factory  # put back
    # A value shorter than 4 characters is left alone: hiding every "abc" would hide nothing.
    error = "leads: token *** refused; short abc"  # an OSError, said as such errors are
    assert report.sources[0].error == error
    assert caplog.messages == ["token ***, short abc"]
    for shown in (repr(report), report.to_text(), json.dumps(report.to_dict()), repr(config)):
        assert TOKEN not in shown
    logging.getLogger("secretive").error("after the sync: %s", TOKEN)
    assert caplog.messages[-1] == f"after the sync: {TOKEN}"  # only while it runs
