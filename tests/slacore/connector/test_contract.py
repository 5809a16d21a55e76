"""The connector contract: the Connector base class, the contract suite in slacore.testing
that checks a connector keeps it, and the tutorial's TinyCRM connector."""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest

from slacore import Channel, Lead, Touch
from slacore.connector import (
    MAPPING_SETTINGS,
    Batch,
    Connector,
    Cursor,
    Setting,
    SettingKind,
    Stream,
)
from slacore.errors import UnknownKeyError, ValidationError
from slacore.testing import ConnectorContract, check_connector

ROOT = Path(__file__).resolve().parents[3]
BERLIN = ZoneInfo("Europe/Berlin")


def _load(path: Path, name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


tinycrm = _load(ROOT / "docs" / "examples" / "tinycrm_connector.py", "tinycrm_connector")


# --- the connector base ----------------------------------------------------------------------


class MemoryConnector(Connector):
    """A connector over an in-memory list, for tests of the base class and the contract."""

    name: ClassVar[str] = "memory"
    streams: ClassVar[tuple[Stream, ...]] = (Stream.LEADS, Stream.REPS)
    settings_schema: ClassVar[tuple[Setting, ...]] = (
        Setting(name="rows", kind=SettingKind.LIST, required=True),
        Setting(name="token", secret=True),
        *MAPPING_SETTINGS,
    )

    def available_streams(self) -> tuple[Stream, ...]:
        return (Stream.LEADS,)

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        start = 0 if cursor is None else int(cursor.state["next"] or 0)
        rows = [json.loads(row) for row in self.settings["rows"]][start:]
        mapping = self.mapping(stream)
        for index, row in enumerate(rows, start=start):
            records, rejected = mapping.map_many([row])
            yield Batch(
                stream=stream,
                records=records,
                rejected=rejected,
                cursor=Cursor(stream=stream, state={"next": index + 1}),
            )
        if not rows:
            yield Batch(
                stream=stream, records=[], cursor=Cursor(stream=stream, state={"next": start})
            )


ROWS = [
    json.dumps({"id": "L-1", "created_at": "2026-01-05T09:00:00Z", "stage": "Hot"}),
    json.dumps({"id": "L-2", "created_at": "2026-01-05T10:00:00Z"}),
]
SAMPLE = {"rows": ROWS, "token": "tok-123", "stage_values": {"Hot": "mql"}}


def test_connector_validates_settings_and_mapping() -> None:
    with pytest.raises(ValidationError, match="'rows' of connector memory is required"):
        MemoryConnector({})
    with pytest.raises(
        ValidationError, match="'deals' is not a stream of connector memory"
    ) as info:
        MemoryConnector({"rows": [], "fields": {"deals": {"id": "x"}}})
    assert info.value.field == "fields.deals"
    with pytest.raises(ValidationError, match="not a stream"):
        MemoryConnector({"rows": [], "fields": {"contacts": {"id": "x"}}})
    with pytest.raises(ValidationError, match="table of core field"):
        MemoryConnector({"rows": [], "fields": {"leads": "id"}})
    with pytest.raises(ValidationError, match="no field 'idd'") as info:
        MemoryConnector({"rows": [], "fields": {"leads": {"idd": "x"}}})
    assert info.value.field == "fields.leads.idd"


def test_stream_table_checks_keys_and_values_in_order() -> None:
    memory = MemoryConnector(
        {"rows": [], "fields": {"Reps": {"id": "User"}, "leads": {"id": "Contact"}}}
    )
    assert memory.stream_table("fields", expected="a table", accepts=bool) == [
        (Stream.REPS, {"id": "User"}),
        (Stream.LEADS, {"id": "Contact"}),
    ]
    assert memory.stream_table("stage_values", expected="x", accepts=bool) == []
    with pytest.raises(ValidationError) as info:
        memory.stream_table("fields", expected="an empty table", accepts=lambda v: not v)
    assert (info.value.message, info.value.field) == (
        "expected an empty table, got {'id': 'User'}",
        "fields.Reps",
    )


def test_connector_read_checks_stream_and_cursor() -> None:
    connector = MemoryConnector(SAMPLE)
    with pytest.raises(UnknownKeyError, match="does not offer reps here"):
        connector.read("reps")
    with pytest.raises(ValidationError, match="cursor is for reps, not leads"):
        connector.read("leads", Cursor(stream="reps"))
    with pytest.raises(ValidationError, match="expected a Cursor"):
        connector.read("leads", {"stream": "leads"})  # type: ignore[arg-type]
    batches = list(connector.read("leads"))
    assert [b.records[0].stage for b in batches] == ["mql", None]  # type: ignore[union-attr]
    (rest,) = connector.read("leads", batches[0].cursor)
    assert rest.records == batches[1].records


def test_connector_repr_hides_secrets() -> None:
    connector = MemoryConnector(SAMPLE)
    assert "tok-123" not in repr(connector)
    assert repr(connector).startswith("MemoryConnector(Settings(rows=(")


def test_check_class_refuses_bad_names() -> None:
    class Bad(MemoryConnector):
        name = "Bad Name"

    with pytest.raises(ValidationError, match="lowercase"):
        Bad.check_class()

    class NoStreams(MemoryConnector):
        name = "empty"
        streams = ()

    with pytest.raises(ValidationError, match="streams"):
        NoStreams.check_class()

    class BadSchema(MemoryConnector):
        settings_schema = ("rows",)  # type: ignore[assignment]

    with pytest.raises(ValidationError, match="Setting objects"):
        BadSchema.check_class()


def test_check_class_refuses_a_setting_name_twice() -> None:
    class Twice(MemoryConnector):
        settings_schema = (*MemoryConnector.settings_schema, Setting(name="token"))

    with pytest.raises(ValidationError, match="settings_schema repeats token"):
        Twice.check_class()
    with pytest.raises(AssertionError, match="repeats token"):
        check_connector(Twice, SAMPLE)


# --- the contract suite ----------------------------------------------------------------------


def test_contract_passes_for_a_good_connector() -> None:
    check_connector(MemoryConnector, SAMPLE)


class LeakyConnector(MemoryConnector):
    """Breaks the contract three ways: logs its token, yields touches in a leads batch, and
    accepts any setting."""

    name = "leaky"

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        settings = dict(settings or {})
        settings.pop("no_such_setting_for_the_contract", None)
        super().__init__(settings)

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        logging.getLogger("leaky").debug("token %s", self.settings["token"].reveal())
        touch = Touch(lead_id="L", rep_id="R", at=datetime(2026, 1, 5, tzinfo=UTC), channel="call")
        yield Batch(stream=stream, records=[touch], cursor=Cursor(stream=stream))  # type: ignore[list-item]


def test_contract_reports_every_failure() -> None:
    with pytest.raises(AssertionError) as info:
        check_connector(LeakyConnector, SAMPLE, plugin=object())
    message = str(info.value)
    assert "LeakyConnector breaks the connector contract" in message
    assert (
        "check_settings: AssertionError: an unknown setting should raise ValidationError" in message
    )
    assert "check_secrets: AssertionError: secret setting 'token' shows in the log: " in message
    assert "check_read: AssertionError: leads: Touch in a batch of Lead" in message
    assert "check_registration" in message
    assert "check_class" not in message


class InventiveConnector(MemoryConnector):
    """Gives a new record every time it is read: breaks the incremental contract."""

    name = "inventive"
    count = 0

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        InventiveConnector.count += 1
        lead = Lead(id=f"L-{self.count}", created_at=datetime(2026, 1, 5, tzinfo=UTC))
        yield Batch(stream=stream, records=[lead], cursor=Cursor(stream=stream))


def test_contract_catches_invented_records() -> None:
    with pytest.raises(AssertionError, match="reading from the last cursor gave new records"):
        check_connector(InventiveConnector, SAMPLE)


class SilentConnector(MemoryConnector):
    name = "silent"

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        return iter(())


def test_contract_needs_a_batch_and_a_record() -> None:
    with pytest.raises(AssertionError, match="read yielded no batch"):
        check_connector(SilentConnector, SAMPLE)


# --- the tutorial's TinyCRM connector --------------------------------------------------------

CONTACTS = [
    {"contactId": "C-1", "createdAt": "2026-03-02 09:15", "lifecycle": "Marketing Qualified",
     "ownerId": "U-7", "origin": "webinar", "handRaiser": True, "updatedAt": 1772442900000},
    {"contactId": "C-2", "createdAt": "2026-03-02 11:00", "lifecycle": "Contact",
     "origin": "ebook", "updatedAt": 1772445600000},
    {"contactId": "C-3", "createdAt": "tomorrow", "lifecycle": "Contact",
     "updatedAt": 1772445700000},
]  # fmt: skip
CALLS = [
    {"callId": "K-1", "contactId": "C-1", "userId": "U-7", "type": "Phone call",
     "startedAt": "2026-03-02 09:40", "updatedAt": 1772444400000},
]  # fmt: skip


def write_export(folder: Path, contacts: list[dict[str, Any]] = CONTACTS) -> None:
    lines = "".join(json.dumps(c) + "\n" for c in contacts)
    (folder / "contacts.jsonl").write_text(lines, encoding="utf-8")
    (folder / "calls.jsonl").write_text(
        "".join(json.dumps(c) + "\n" for c in CALLS), encoding="utf-8"
    )


class TestTinyCrmContract(ConnectorContract):
    connector_class = tinycrm.TinyCrmConnector
    plugin = tinycrm

    @pytest.fixture
    def settings(self, tmp_path: Path) -> Mapping[str, Any]:
        write_export(tmp_path)
        return {"folder": str(tmp_path), "timezone": "Europe/Berlin"}


def test_tinycrm_maps_records_and_rejects_bad_ones(tmp_path: Path) -> None:
    write_export(tmp_path)
    connector = tinycrm.TinyCrmConnector({"folder": str(tmp_path), "timezone": "Europe/Berlin"})
    (batch,) = connector.read("leads")
    assert batch.records[0] == Lead(
        id="C-1",
        created_at=datetime(2026, 3, 2, 9, 15, tzinfo=BERLIN),
        source="webinar",
        owner_id="U-7",
        stage="mql",
        hand_raiser=True,
    )
    assert [str(r) for r in batch.rejected] == [
        "contacts.jsonl: record C-3: createdAt: expected a time like 2026-01-05T09:30:00+01:00, "
        "got 'tomorrow'"
    ]
    (calls,) = connector.read("touches")
    assert calls.records[0].channel is Channel.CALL  # type: ignore[union-attr]


def test_tinycrm_reads_only_what_changed(tmp_path: Path) -> None:
    write_export(tmp_path)
    connector = tinycrm.TinyCrmConnector(
        {"folder": str(tmp_path), "timezone": "UTC", "batch_size": 1}
    )
    batches = list(connector.read("leads"))
    assert [len(b) for b in batches] == [1, 1, 1, 0]
    # until the file is read to its end the cursor stays where the run started
    assert [b.cursor.state for b in batches] == [{}, {}, {}, {"updated_at": 1772445700000}]
    changed = {**CONTACTS[1], "lifecycle": "Sales Accepted", "updatedAt": 1772450000000}
    write_export(tmp_path, [*CONTACTS, changed])
    again = list(connector.read("leads", batches[-1].cursor))
    assert [r.stage for b in again for r in b.records] == ["sal"]  # type: ignore[union-attr]


def test_tinycrm_without_a_zone_rejects_naive_times(tmp_path: Path) -> None:
    write_export(tmp_path)
    (batch,) = tinycrm.TinyCrmConnector({"folder": str(tmp_path)}).read("leads")
    assert batch.records == ()
    assert {r.field for r in batch.rejected} == {"createdAt"}
