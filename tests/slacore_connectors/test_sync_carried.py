"""Streams read together (``Connector.carries``): a vendor record that gives records of several
streams (a HubSpot contact: a lead, its stage changes, its hand-offs) is read once. A sync reads
the carried streams in the carrier's pass, counts each apart, keeps the carrier's cursor, and a
sync stopped between a page's batches reads the page again, whole. A carried stream chosen
alone is read on its own. The contract refuses what cannot work."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pluggy
import pytest

from slacore import Handoff, Lead
from slacore.connector import Batch, Connector, Cursor, Stream
from slacore.errors import UnknownKeyError, ValidationError
from slacore.hookspecs import hookimpl
from slacore.plugins import new_plugin_manager
from slacore_connectors.store.sqlite import SQLiteStore
from slacore_connectors.sync import JobConfig, run_sync

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Pages(Connector):
    """Two pages of two contacts each; each contact gives a lead and a hand-off. Reading
    leads carries the hand-offs: each page's hand-offs come before its leads. The cursor is
    the number of pages read."""

    name = "pages"
    streams = (Stream.LEADS, Stream.HANDOFFS)
    carries: ClassVar[Mapping[Stream, tuple[Stream, ...]]] = {Stream.LEADS: (Stream.HANDOFFS,)}
    reads: list[tuple[str, int]] = []  # noqa: RUF012  (the test's log, shared on purpose)

    def _pages(self, cursor: Cursor | None, wanted: set[Stream]) -> Iterator[Batch]:
        done = int(cursor.state.get("pages") or 0) if cursor else 0
        Pages.reads.append(("+".join(sorted(s.value for s in wanted)), done))
        for page in range(done, 2):
            state = {"pages": page + 1}
            ids = [f"L{page * 2 + 1}", f"L{page * 2 + 2}"]
            if Stream.HANDOFFS in wanted:
                yield Batch(
                    stream=Stream.HANDOFFS,
                    records=[
                        Handoff(
                            lead_id=i,
                            owner_id="R1",
                            stage="mql",
                            notified_at=T0 + timedelta(hours=n),
                        )
                        for n, i in enumerate(ids)
                    ],
                    cursor=Cursor(stream=Stream.HANDOFFS, state=state),
                )
            if Stream.LEADS in wanted:
                yield Batch(
                    stream=Stream.LEADS,
                    records=[Lead(id=i, created_at=T0) for i in ids],
                    cursor=Cursor(stream=Stream.LEADS, state=state),
                )
        if done >= 2:
            for stream in sorted(wanted):
                yield Batch(
                    stream=stream, records=[], cursor=Cursor(stream=stream, state={"pages": 2})
                )

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        yield from self._pages(cursor, {stream})

    def read_carried(
        self, stream: Stream, cursor: Cursor | None, carried: tuple[Stream, ...]
    ) -> Iterator[Batch]:
        yield from self._pages(cursor, {stream, *carried})


class Plugin:
    @hookimpl
    def slacore_register_connectors(self, register: object) -> None:
        register(Pages)


def manager() -> pluggy.PluginManager:
    pm = new_plugin_manager()
    pm.register(Plugin())
    return pm


def job(tmp_path: Path, streams: list[str] | None = None) -> JobConfig:
    source: dict[str, object] = {"name": "crm", "connector": "pages"}
    if streams is not None:
        source["streams"] = streams
    return JobConfig.from_dict({"store": "store.db", "sources": [source]}, base=tmp_path)


@pytest.fixture(autouse=True)
def _log() -> None:
    Pages.reads.clear()


def test_a_carried_stream_is_read_in_its_carriers_pass(tmp_path: Path) -> None:
    report = run_sync(job(tmp_path), plugin_manager=manager(), now=lambda: T0)
    assert Pages.reads == [("handoffs+leads", 0)]  # one pass, not two
    (source,) = report.sources
    assert list(source.streams) == ["leads", "handoffs"]  # the carrier first
    assert (source.streams["leads"].stored, source.streams["handoffs"].stored) == (4, 4)
    store = SQLiteStore(tmp_path / "store.db")
    assert store.cursor("crm", Stream.LEADS) == Cursor(stream="leads", state={"pages": 2})
    assert len(list(store.records("handoffs"))) == 4
    again = run_sync(job(tmp_path), plugin_manager=manager(), now=lambda: T0)
    assert Pages.reads[-1] == ("handoffs+leads", 2)
    assert again.sources[0].streams["handoffs"].read == 0


def test_a_carried_stream_chosen_alone_is_read_alone(tmp_path: Path) -> None:
    report = run_sync(job(tmp_path, ["handoffs"]), plugin_manager=manager(), now=lambda: T0)
    assert Pages.reads == [("handoffs", 0)]
    assert list(report.sources[0].streams) == ["handoffs"]
    assert report.sources[0].streams["handoffs"].stored == 4


def test_a_stop_between_a_pages_batches_reads_the_page_again(tmp_path: Path) -> None:
    # The first page's hand-offs are stored, its leads are not: the carrier's cursor has
    # not moved, so the next sync reads the page again and nothing is lost.
    pm = manager()
    store = SQLiteStore(tmp_path / "store.db")
    connector = Pages()
    first = next(iter(connector.read("leads", None, carried=["handoffs"])))
    assert first.stream is Stream.HANDOFFS
    run = store.start_run("crm", connector="pages", at=T0)
    store.claim_source("crm", "pages", at=T0)
    store.write_batch("crm", first, run_id=run, seen_at=T0)
    store.close()
    run_sync(job(tmp_path), plugin_manager=pm, now=lambda: T0)
    assert Pages.reads[-1] == ("handoffs+leads", 0)
    store = SQLiteStore(tmp_path / "store.db")
    assert len(list(store.records("leads"))) == 4
    assert len(list(store.records("handoffs"))) == 4


def test_read_refuses_a_stream_not_carried() -> None:
    with pytest.raises(UnknownKeyError, match="does not read leads with handoffs"):
        list(Pages().read("handoffs", None, carried=["leads"]))


def test_carries_needs_read_carried_and_streams_of_the_connector() -> None:
    class NoRead(Connector):
        name = "noread"
        streams = (Stream.LEADS, Stream.HANDOFFS)
        carries: ClassVar[Mapping[Stream, tuple[Stream, ...]]] = {Stream.LEADS: (Stream.HANDOFFS,)}

        def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
            yield Batch(stream=stream, records=[], cursor=Cursor(stream=stream))

    with pytest.raises(ValidationError, match="does not override read_carried"):
        NoRead.check_class()

    class Foreign(Pages):
        name = "foreign"
        carries: ClassVar[Mapping[Stream, tuple[Stream, ...]]] = {Stream.LEADS: (Stream.TOUCHES,)}

    with pytest.raises(ValidationError, match="carries must map"):
        Foreign.check_class()
    Pages.check_class()
