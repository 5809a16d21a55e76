"""Sync jobs against a real store, with a small connector registered as a plugin."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import filelock
import pluggy
import pytest

from slacore import ConfigError, Lead, ValidationError
from slacore.connector import Batch, Connector, Cursor, Setting, SettingKind, Stream
from slacore.hookspecs import hookimpl
from slacore.plugins import new_plugin_manager
from slacore_connectors.store import open_store
from slacore_connectors.sync import JobConfig, SyncLockedError, run_sync

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Counter(Connector):
    """Leads L0, L1, ... up to ``count``, in batches; fails after ``fail_after`` leads."""

    name = "counter"
    streams = (Stream.LEADS,)
    settings_schema = (
        Setting(name="count", kind=SettingKind.INTEGER, required=True),
        Setting(name="batch", kind=SettingKind.INTEGER, default=3),
        Setting(name="fail_after", kind=SettingKind.INTEGER, default=-1),
        Setting(name="token", secret=True),
        Setting(name="folder", kind=SettingKind.TEXT),
    )

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        position = 0 if cursor is None else int(cursor.state["next"])  # type: ignore[arg-type]
        count, size = self.settings["count"], self.settings["batch"]
        while True:
            upto = min(position + size, count)
            if 0 <= self.settings["fail_after"] < upto:
                raise ValidationError(message="the vendor API said no", field="api")
            leads = [Lead(id=f"L{i}", created_at=T0) for i in range(position, upto)]
            yield Batch(
                stream=stream, records=leads, cursor=Cursor(stream=stream, state={"next": upto})
            )
            position = upto
            if position >= count:
                return


class Plugin:
    @hookimpl
    def slacore_register_connectors(self, register: object) -> None:
        register(Counter)  # type: ignore[operator]


@pytest.fixture
def plugins() -> pluggy.PluginManager:
    manager = new_plugin_manager(entry_points=False)
    manager.register(Plugin(), name="counter-plugin")
    return manager


def job(tmp_path: Path, text: str) -> JobConfig:
    path = tmp_path / "slacore.toml"
    path.write_text(text)
    return JobConfig.load(path, environ={"CRM_TOKEN": "s3cret"})


SIMPLE = """
store = "data/sla.db"

[[sources]]
name = "crm"
connector = "counter"
[sources.settings]
count = 7
token = { env = "CRM_TOKEN" }
folder = "exports"
"""


def test_job_file(tmp_path: Path) -> None:
    config = job(tmp_path, SIMPLE)
    assert config.store == (tmp_path / "data" / "sla.db").resolve()
    (source,) = config.sources
    assert source.settings["token"] == "s3cret"
    assert source.settings["folder"] == "exports"  # as written
    # Paths resolve from the job file's folder by the setting's kind, not its name.
    as_path = (Setting(name="folder", kind=SettingKind.PATH),)
    assert config.connector_settings(0, as_path)["folder"] == str((tmp_path / "exports").resolve())
    assert config.connector_settings(0, Counter.settings_schema)["folder"] == "exports"
    assert "s3cret" not in repr(config)


@pytest.fixture(params=["sla.db", "sla.duckdb"], ids=["sqlite", "duckdb"])
def simple(request: pytest.FixtureRequest) -> str:
    """SIMPLE, its store of each engine: a sync keeps the same promises into either."""
    return SIMPLE.replace("data/sla.db", f"data/{request.param}")


def test_sync_then_incremental(tmp_path: Path, plugins: pluggy.PluginManager, simple: str) -> None:
    config = job(tmp_path, simple)
    seen: list[tuple[str, str, int]] = []
    report = run_sync(
        config, plugin_manager=plugins, progress=lambda *args: seen.append(args), now=lambda: T0
    )
    assert report.ok
    assert report.exit_code == 0
    counts = report.sources[0].streams["leads"]
    assert (counts.read, counts.stored, counts.batches) == (7, 7, 3)
    assert seen == [("crm", "leads", 3), ("crm", "leads", 3), ("crm", "leads", 1)]
    again = run_sync(config, plugin_manager=plugins)
    assert again.sources[0].streams["leads"].read == 0  # nothing new after the cursor
    full = run_sync(config, full=True, plugin_manager=plugins)
    assert full.sources[0].streams["leads"].read == 7
    assert full.sources[0].streams["leads"].unchanged == 7
    with open_store(config.store) as store:
        assert store.count("leads") == 7
        assert [r.status for r in store.runs("crm")] == ["success"] * 3
        assert store.runs("crm")[2].full
    text = report.to_text()
    assert "crm (counter): success" in text
    assert "| leads | 7 | 7 | 0 | 0 |" in text
    assert report.to_dict()["sources"][0]["streams"]["leads"]["stored"] == 7


def test_a_failing_source_keeps_its_progress_and_others_run(
    tmp_path: Path, plugins: pluggy.PluginManager, simple: str
) -> None:
    config = job(
        tmp_path,
        simple.replace("count = 7", "count = 7\nfail_after = 4")
        + """
[[sources]]
name = "other"
connector = "counter"
settings = { count = 2 }
""",
    )
    report = run_sync(config, plugin_manager=plugins)
    assert not report.ok
    assert report.exit_code == 1
    failed, other = report.sources
    assert failed.status == "failed"
    assert failed.error == "leads: api: the vendor API said no"
    assert failed.refused == {"leads": "api: the vendor API said no"}
    assert failed.streams["leads"].read == 3  # the first batch was stored
    assert other.status == "success"
    with open_store(config.store) as store:
        assert store.cursor("crm", "leads").state == {"next": 3}
        assert store.count("leads") == 5
        assert store.runs("crm")[0].error == "leads: api: the vendor API said no"


def test_unknown_connector_fails_that_source(tmp_path: Path, plugins: pluggy.PluginManager) -> None:
    config = job(tmp_path, SIMPLE.replace('connector = "counter"', 'connector = "nosuch"'))
    report = run_sync(config, plugin_manager=plugins)
    assert "no connector 'nosuch' is installed" in (report.sources[0].error or "")


def test_second_sync_is_refused(tmp_path: Path, plugins: pluggy.PluginManager, simple: str) -> None:
    config = job(tmp_path, simple)
    # Held as another process holds it: the lock file beside the store, through filelock.
    with filelock.FileLock(f"{config.store}.lock", timeout=0):
        with pytest.raises(SyncLockedError, match="another sync is running") as info:
            run_sync(config, plugin_manager=plugins)
        assert info.value.lock == f"{config.store}.lock"
    assert not config.store.exists()  # nothing was written
    assert run_sync(config, plugin_manager=plugins).ok  # the lock is free again


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "at least one [[sources]]"),
        (
            "stor = 'x.db'\n[[sources]]\nconnector='csv'",
            ':1: stor: unknown key; did you mean "store"?',
        ),
        ("[[sources]]\nname = 'a'", "connector name"),
        ("[[sources]]\nconnector = 'csv'\nstreams = ['lead']", "no record stream 'lead'"),
        ("[[sources]]\nconnector = 'csv'\n[[sources]]\nconnector = 'csv'", "two sources"),
        ("[[sources]]\nconnector='csv'\nsettings={token={env='NOPE'}}", "'NOPE' is not set"),
        ("store = 5\n[[sources]]\nconnector='csv'", ":1: store: expected a non-empty string"),
        ("[[sources]\n", ":1: not valid TOML"),
    ],
)
def test_bad_job_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)) as info:
        job(tmp_path, text)
    assert str(info.value).startswith(str(tmp_path / "slacore.toml"))


def test_missing_job_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no such job file"):
        JobConfig.load(tmp_path / "nope.toml")


def test_streams_setting(tmp_path: Path, plugins: pluggy.PluginManager) -> None:
    config = job(
        tmp_path,
        SIMPLE.replace('connector = "counter"', 'connector = "counter"\nstreams = ["leads"]'),
    )
    assert config.sources[0].streams == (Stream.LEADS,)
    assert run_sync(config, plugin_manager=plugins, now=lambda: T0 + timedelta(hours=1)).ok


def test_a_sync_holding_the_store_refuses_another(
    tmp_path: Path, plugins: pluggy.PluginManager, simple: str
) -> None:
    config = job(tmp_path, simple)
    with open_store(config.store, locked=True) as first:
        with pytest.raises(SyncLockedError, match="nothing was read or written"):
            run_sync(config, plugin_manager=plugins)
        assert first.runs() == []
        assert all(rows == [] for rows in first.dump().values())
    assert run_sync(config, plugin_manager=plugins).ok


def test_a_job_file_reports_every_problem_at_once(tmp_path: Path) -> None:
    text = (
        'stor = "x.db"\n'
        "[[sources]]\n"
        'connector = "csv"\n'
        'streams = ["leads", "tuches"]\n'
        "[[sources]]\n"
        'conector = "csv"\n'
    )
    with pytest.raises(ConfigError) as info:
        job(tmp_path, text)
    file = str(tmp_path / "slacore.toml")
    assert [str(e) for e in info.value.errors] == [
        f'{file}:1: stor: unknown key; did you mean "store"?',
        f"{file}:4: sources[0].streams[1]: no record stream 'tuches'; did you mean \"touches\"?",
        f'{file}:5: sources[1].connector: missing; expected a connector name such as "csv"',
        f'{file}:6: sources[1].conector: unknown key; did you mean "connector"?',
    ]
    assert str(info.value).startswith(f"{file}: 4 problems in the job file {file}\n")


def test_a_settings_problem_is_located_in_the_job_file(
    tmp_path: Path, plugins: pluggy.PluginManager
) -> None:
    config = job(tmp_path, SIMPLE + "laeds = 3\n")
    report = run_sync(config, plugin_manager=plugins)
    error = report.sources[0].error or ""
    assert f"{tmp_path / 'slacore.toml'}:" in error
    assert "sources[0].settings.laeds: unknown setting 'laeds'" in error
