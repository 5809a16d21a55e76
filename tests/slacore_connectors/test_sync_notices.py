"""What a read says besides records and rejections (Batch.notices) reaches the user and the
run record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pluggy

from slacore import Lead
from slacore.connector import Batch, Connector, Cursor, Setting, SettingKind, Stream
from slacore.hookspecs import hookimpl
from slacore.plugins import new_plugin_manager
from slacore_connectors.store.sqlite import SQLiteStore
from slacore_connectors.sync import JobConfig, run_sync

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WAITING = "leads.csv:3: the last line has no newline yet; it waits for the next run"


class Talker(Connector):
    """Two leads in two batches; the second batch says the last line is waiting."""

    name = "talker"
    streams = (Stream.LEADS, Stream.REPS)
    settings_schema = (Setting(name="count", kind=SettingKind.INTEGER, default=2),)

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        if stream is Stream.REPS:
            yield Batch(stream=stream, records=[], cursor=Cursor(stream=stream))
            return
        for i in range(2):
            yield Batch(
                stream=stream,
                records=[Lead(id=f"L{i}", created_at=T0)],
                cursor=Cursor(stream=stream, state={"next": i + 1}),
                notices=(WAITING,) if i == 1 else (),
            )


class Plugin:
    @hookimpl
    def slacore_register_connectors(self, register: object) -> None:
        register(Talker)  # type: ignore[operator]


def test_notices_are_shown_and_kept_in_the_run_record(tmp_path: Path) -> None:
    plugins: pluggy.PluginManager = new_plugin_manager(entry_points=False)
    plugins.register(Plugin(), name="talker-plugin")
    path = tmp_path / "slacore.toml"
    path.write_text('[[sources]]\nname = "crm"\nconnector = "talker"\n')
    report = run_sync(JobConfig.load(path), plugin_manager=plugins)
    assert report.ok  # a notice is not a failure
    (source,) = report.sources
    assert source.notices == {"leads": (WAITING,)}
    assert f"- leads: notice: {WAITING}" in report.to_text()
    document = json.loads(json.dumps(report.to_dict()))
    assert document["sources"][0]["notices"] == {"leads": [WAITING]}
    with SQLiteStore(tmp_path / "slacore.db") as store:
        (run,) = store.runs()
        assert run.counts["leads"]["notices"] == [WAITING]
        assert run.counts["leads"]["stored"] == 2
        assert "notices" not in run.counts["reps"]
