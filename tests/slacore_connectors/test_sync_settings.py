"""Job-file settings read through a connector's schema: paths by kind, secrets from the
environment only. The connector is a real plugin, installed for the subprocess through an
entry point on PYTHONPATH."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from slacore_connectors.store.sqlite import SQLiteStore

PLUGIN = '''
from datetime import UTC, datetime

from slacore import Lead
from slacore.connector import Batch, Connector, Cursor, Setting, SettingKind, Stream
from slacore.hookspecs import hookimpl


class LinesConnector(Connector):
    """One lead per line of the file ``export``."""

    name = "lines"
    streams = (Stream.LEADS,)
    settings_schema = (
        Setting(name="export", kind=SettingKind.PATH, required=True),
        Setting(name="api_token", secret=True),
        Setting(name="password", secret=True),
    )

    def read_stream(self, stream, cursor):
        ids = self.settings["export"].read_text().split()
        at = datetime(2026, 3, 2, 9, tzinfo=UTC)
        yield Batch(
            stream=stream,
            records=[Lead(id=i, created_at=at) for i in ids],
            cursor=Cursor(stream=stream, state={"n": len(ids)}),
        )


@hookimpl
def slacore_register_connectors(register):
    register(LinesConnector)
'''


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the plugin module and its distribution's entry point."""
    folder = tmp_path_factory.mktemp("site")
    (folder / "lines_plugin.py").write_text(PLUGIN)
    info = folder / "lines_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: lines-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[slacore]\nlines = lines_plugin\n")
    return folder


def slacore(
    site: Path, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(site), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "slacore_connectors", *args],
        capture_output=True, text=True, timeout=120, check=False, cwd=cwd, env=environ,
    )  # fmt: skip


def test_a_path_setting_resolves_from_the_job_file_not_the_working_directory(
    site: Path, tmp_path: Path
) -> None:
    job = tmp_path / "job"
    (job / "exports").mkdir(parents=True)
    (job / "exports" / "ids.txt").write_text("L1\nL2\nL3\n")
    (job / "slacore.toml").write_text(
        '[[sources]]\nname = "crm"\nconnector = "lines"\n'
        'settings = { export = "exports/ids.txt" }\n'
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = slacore(site, "sync", "--config", str(job / "slacore.toml"), cwd=elsewhere)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| leads | 3 | 3 | 0 | 0 |" in done.stdout
    with SQLiteStore(job / "slacore.db") as store:
        assert store.count("leads") == 3


def test_a_secret_written_in_the_job_file_is_refused_without_showing_it(
    site: Path, tmp_path: Path
) -> None:
    (tmp_path / "ids.txt").write_text("L1\n")
    job = tmp_path / "slacore.toml"
    job.write_text(
        '[[sources]]\nname = "crm"\nconnector = "lines"\n'
        "[sources.settings]\n"
        'export = "ids.txt"\n'
        'api_token = "pat-na1-0123-SECRET"\n'
        'password = { env = "CRM_PASSWORD" }\n'
        '\n[[sources]]\nname = "web"\nconnector = "lines"\n'
        'settings = { export = "ids.txt", api_token = { env = "WEB_TOKEN" } }\n'
    )
    env = {"CRM_PASSWORD": "hunter2-SECRET", "WEB_TOKEN": "tok-SECRET"}
    done = slacore(site, "sync", cwd=tmp_path, env=env)
    # A bad job file (exit 2), found before any source is read.
    assert done.returncode == 2, done.stdout + done.stderr
    assert "SECRET" not in done.stdout + done.stderr
    assert (
        "slacore: error: bad job file: slacore.toml:6: sources[0].settings.api_token: setting "
        "'api_token' is a secret: keep it out of the job file and give it from the "
        'environment: api_token = { env = "CRM_API_TOKEN" }, with CRM_API_TOKEN set'
    ) in " ".join(done.stderr.split())
    assert not (tmp_path / "slacore.db").exists()  # nothing read, nothing stored
    job.write_text(job.read_text().replace('"pat-na1-0123-SECRET"', '{ env = "CRM_API_TOKEN" }'))
    fixed = slacore(site, "sync", cwd=tmp_path, env={**env, "CRM_API_TOKEN": "pat-SECRET"})
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "SECRET" not in fixed.stdout + fixed.stderr
    with SQLiteStore(tmp_path / "slacore.db") as store:
        assert [run.status for run in store.runs()] == ["success", "success"]
