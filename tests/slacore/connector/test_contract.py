"""The connector contract: settings, secrets, cursors, batches, the data-driven field mapping,
the contract suite in slacore.testing, and the tutorial's TinyCRM connector."""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from slacore import Channel, Deal, Handoff, Lead, Rep, StageChange, Touch
from slacore.connector import (
    MAPPING_SETTINGS,
    Batch,
    Connector,
    Cursor,
    FieldMapping,
    MissingColumnsError,
    RejectedRecord,
    Secret,
    Setting,
    SettingKind,
    Settings,
    Stream,
    core_fields,
    parse_time,
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


# --- streams ---------------------------------------------------------------------------------


def test_stream_parse_accepts_names_in_any_spelling() -> None:
    assert Stream.parse("stage-changes") is Stream.STAGE_CHANGES
    assert Stream.parse(" Leads ") is Stream.LEADS
    assert Stream.parse(Stream.REPS) is Stream.REPS
    assert Stream.OWNER_CHANGES.record_type.__name__ == "OwnerChange"


def test_stream_parse_unknown_lists_the_known() -> None:
    with pytest.raises(UnknownKeyError) as info:
        Stream.parse("contacts")
    assert "leads" in info.value.known
    assert "contacts" in str(info.value)


def test_core_fields_follow_the_model() -> None:
    fields = {f.name: f for f in core_fields("deals")}
    assert fields["amount"].kind == "money"
    assert fields["amount"].required
    assert not fields["closed_at"].required
    assert fields["closed_at"].kind == "time"
    assert [f.name for f in core_fields(Stream.TOUCHES)] == ["lead_id", "rep_id", "at", "channel"]


# --- settings and secrets --------------------------------------------------------------------

SCHEMA = (
    Setting(name="url", required=True, help="the API address"),
    Setting(name="token", secret=True),
    Setting(name="pages", kind=SettingKind.INTEGER, default=10, minimum=1),
    Setting(name="verbose", kind="boolean", default=False),
    Setting(name="folder", kind=SettingKind.PATH),
    Setting(name="objects", kind=SettingKind.LIST),
    Setting(name="extra", kind=SettingKind.TABLE),
    Setting(name="zone", kind=SettingKind.TIMEZONE),
    Setting(name="mode", choices=("fast", "safe"), default="safe"),
)


def test_settings_convert_and_fill_defaults() -> None:
    settings = Settings.validate(
        SCHEMA,
        {
            "url": "https://x.test",
            "pages": "25",
            "verbose": "yes",
            "folder": "~/exports",
            "objects": ["a", "b"],
            "extra": {"k": 1},
            "zone": "Europe/Berlin",
        },
    )
    assert settings["pages"] == 25
    assert settings["verbose"] is True
    assert settings["folder"] == Path("~/exports").expanduser()
    assert settings["objects"] == ("a", "b")
    assert settings["extra"] == {"k": 1}
    assert settings["mode"] == "safe"
    assert settings["token"] is None
    assert len(settings) == len(SCHEMA)
    assert settings.to_dict()["folder"] == str(Path("~/exports").expanduser())


def test_settings_unknown_key_lists_the_known() -> None:
    with pytest.raises(ValidationError) as info:
        Settings.validate(SCHEMA, {"url": "u", "tokn": "x"}, owner="demo")
    assert info.value.field == "tokn"
    assert "unknown setting 'tokn' of connector demo" in str(info.value)
    assert "token" in str(info.value)


def test_settings_required_missing() -> None:
    with pytest.raises(ValidationError, match="'url' of connector demo is required: the API"):
        Settings.validate(SCHEMA, {}, owner="demo")


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("pages", 0, "at least 1"),
        ("pages", "many", "a whole number"),
        ("pages", True, "a whole number"),
        ("verbose", "maybe", "true or false"),
        ("folder", "", "path"),
        ("objects", "a", "list of strings"),
        ("objects", ["a", 1], "list of strings"),
        ("extra", [1], "table"),
        ("zone", "Mars/Base", "time zone"),
        ("zone", 5, "time zone"),
        ("mode", "reckless", "one of 'fast', 'safe'"),
        ("url", 5, "text"),
    ],
)
def test_settings_wrong_kind(key: str, value: object, expected: str) -> None:
    with pytest.raises(ValidationError, match=expected) as info:
        Settings.validate(SCHEMA, {"url": "u", key: value})
    assert info.value.field == key


def test_settings_must_be_a_mapping() -> None:
    with pytest.raises(ValidationError, match="must be a table"):
        Settings.validate(SCHEMA, ["url"])  # type: ignore[arg-type]


def test_secret_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings.validate(SCHEMA, {"url": "u", "token": "pat-s3cr3t"})
    token = settings["token"]
    assert isinstance(token, Secret)
    assert token.reveal() == "pat-s3cr3t"
    caplog.set_level(logging.DEBUG)
    logging.getLogger("test").info("settings %s %r token %s", settings, settings, token)
    shown = [repr(settings), str(settings), json.dumps(settings.to_dict()), caplog.text]
    assert all("pat-s3cr3t" not in text for text in shown)
    assert "token=Secret('***')" in repr(settings)
    assert settings.to_dict()["token"] == "***"


def test_a_bad_secret_is_not_put_into_the_error() -> None:
    with pytest.raises(ValidationError) as info:
        Settings.validate((Setting(name="token", secret=True, choices=("a",)),), {"token": "pw"})
    assert "pw" not in str(info.value)
    assert info.value.value is None


def test_secret_setting_accepts_a_secret() -> None:
    settings = Settings.validate(SCHEMA, {"url": "u", "token": Secret("x")})
    assert settings["token"] == Secret("x")


# --- cursors, rejected records, batches -------------------------------------------------------


def test_cursor_round_trips_through_json() -> None:
    cursor = Cursor(stream="touches", state={"offset": 12, "path": "/x", "ok": True, "n": None})
    assert Cursor.from_json(cursor.to_json()) == cursor
    assert Cursor.from_dict(cursor.to_dict()) == cursor
    assert cursor.stream is Stream.TOUCHES


@pytest.mark.parametrize("text", ["not json", "[1]", '{"state": {}}'])
def test_cursor_from_bad_json(text: str) -> None:
    with pytest.raises(ValidationError, match="cursor"):
        Cursor.from_json(text)


def test_cursor_state_is_flat() -> None:
    with pytest.raises(ValidationError, match="cursor state 'nested'"):
        Cursor(stream="leads", state={"nested": {"a": 1}})
    with pytest.raises(ValidationError, match="mapping"):
        Cursor(stream="leads", state=[1])  # type: ignore[arg-type]


def test_batch_needs_a_cursor_of_its_stream() -> None:
    with pytest.raises(ValidationError, match="a leads batch needs a leads cursor"):
        Batch(stream="leads", records=[], cursor=Cursor(stream="deals"))
    batch = Batch(stream="leads", records=[], cursor=Cursor(stream="leads"))
    assert len(batch) == 0
    assert batch.rejected == ()


def test_rejected_record_says_where_and_what() -> None:
    rejected = RejectedRecord(
        stream="leads",
        reason="expected a time",
        source="leads.csv",
        line=7,
        record_id="L-7",
        field="Created",
        raw={"Created": "soon", "n": Decimal(1)},
    )
    assert str(rejected) == "leads.csv:7: record L-7: Created: expected a time"
    assert rejected.to_dict()["raw"] == {"Created": "soon", "n": "1"}
    assert str(RejectedRecord(stream="deals", reason="bad", line=3)) == "line 3: bad"
    error = ValidationError(message="m", field="f", file="x.csv", line=2, record_id="r")
    from_error = RejectedRecord.from_error(error, stream="deals", raw={})
    assert (from_error.source, from_error.line, from_error.record_id) == ("x.csv", 2, "r")


# --- the field mapping -----------------------------------------------------------------------


def lead_mapping(**kwargs: Any) -> FieldMapping:
    return FieldMapping(
        stream="leads",
        fields={"id": "Lead ID", "created_at": "Created", "stage": "Status"},
        **kwargs,
    )


def test_mapping_by_column_names_and_defaults() -> None:
    mapping = FieldMapping(stream="reps")
    rep = mapping.map({"ID": "R-1", "Name": "Ada", "team": "Marketing", "active": "no"})
    assert rep == Rep(id="R-1", name="Ada", team="marketing", active=False)
    assert mapping.columns()["email"] == "email"


def test_mapping_vendor_names_value_maps_and_zone() -> None:
    mapping = lead_mapping(stage_values={"Marketing Qualified": "mql"}, timezone="Europe/Berlin")
    lead = mapping.map(
        {"Lead ID": "L-1", "Created": "2026-01-05 09:30", "Status": " marketing  qualified"}
    )
    assert lead == Lead(
        id="L-1", created_at=datetime(2026, 1, 5, 9, 30, tzinfo=BERLIN), stage="mql"
    )
    # a stage key passes through in any case, without an entry in the value map
    assert mapping.map({"Lead ID": "L-2", "Created": "2026-01-05", "Status": "SQL"}).stage == "sql"


def test_mapping_nested_and_typed_vendor_values() -> None:
    mapping = FieldMapping(
        stream="deals",
        fields={"id": "id", "amount": "properties.amount", "opened_at": "properties.createdate"},
        time_formats=["unix_ms"],
    )
    deal = mapping.map(
        {"id": 42, "properties": {"amount": 1250.5, "createdate": 1767605400000}, "won": None}
    )
    assert deal == Deal(
        id="42", amount=Decimal("1250.5"), opened_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    )


def test_mapping_unmaps_an_optional_field() -> None:
    mapping = FieldMapping(stream="leads", fields={"source": None})
    lead = mapping.map({"id": "L", "created_at": "2026-01-05T00:00Z", "source": "web"})
    assert lead.source is None
    assert "source" not in mapping.columns()


@pytest.mark.parametrize(
    ("record", "field", "reason"),
    [
        ({"Lead ID": "L-1", "Status": "mql"}, "Created", "missing value"),
        ({"Lead ID": " ", "Created": "2026-01-05T09:00Z"}, "Lead ID", "missing value"),
        ({"Lead ID": "L-1", "Created": "yesterday"}, "Created", "expected a time like"),
        ({"Lead ID": "L-1", "Created": "2026-01-05 09:00"}, "Created", "no timezone is set"),
        ({"Lead ID": "L-1", "Created": "2026-01-05T09:00Z", "Status": "Hot"}, "Status",
         "unknown stage 'Hot'"),
        ({"Lead ID": "L-1", "Created": "2026-01-05T09:00Z", "hand_raiser": "perhaps"},
         "hand_raiser", "true or false"),
        ({"Lead ID": ["L"], "Created": "2026-01-05T09:00Z"}, "Lead ID", "expected text"),
        ({"Lead ID": "L-1", "Created": 20260105}, "Created", "expected a time"),
    ],
)  # fmt: skip
def test_mapping_rejects_with_the_vendor_field(
    record: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(ValidationError, match=reason) as info:
        lead_mapping().map(record)
    assert info.value.field == field


def test_model_errors_name_the_vendor_field() -> None:
    mapping = FieldMapping(stream="deals", fields={"amount": "Value", "closed_at": "Closed"})
    base = {"id": "D-1", "opened_at": "2026-01-05T09:00Z"}
    with pytest.raises(ValidationError, match="must not be negative") as info:
        mapping.map({**base, "Value": "-5"})
    assert info.value.field == "Value"
    with pytest.raises(ValidationError, match="before opened_at") as info:
        mapping.map({**base, "Value": "5", "Closed": "2026-01-01T00:00Z"})
    assert info.value.field == "Closed"
    with pytest.raises(ValidationError, match="amount of money") as info:
        mapping.map({**base, "Value": "lots"})
    with pytest.raises(ValidationError, match="amount of money"):
        mapping.map({**base, "Value": [1]})


def test_channel_values() -> None:
    mapping = FieldMapping(stream="touches", channel_values={"Phone call": "call"})
    base = {"lead_id": "L", "rep_id": "R", "at": "2026-01-05T09:00Z"}
    assert mapping.map({**base, "channel": "phone CALL"}).channel is Channel.CALL
    assert mapping.map({**base, "channel": "Email"}).channel is Channel.EMAIL
    with pytest.raises(ValidationError, match=r"unknown channel 'Fax'.*channel_values"):
        mapping.map({**base, "channel": "Fax"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fields": {"idd": "x"}}, "no field 'idd'"),
        ({"fields": {"id": None}}, "required"),
        ({"fields": {"id": ""}}, "vendor field name"),
        ({"stage_values": {"Hot": "burning"}}, "not a stage"),
        ({"channel_values": {"Fax": "fax"}}, "not a channel"),
        ({"time_formats": ["dd/mm/yyyy"]}, "strptime pattern"),
        ({"timezone": "Nowhere/Town"}, "time zone"),
        ({"fields": ["id"]}, "table"),
    ],
)
def test_mapping_settings_are_checked(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FieldMapping(stream="leads", **kwargs)


def test_custom_ladder() -> None:
    mapping = FieldMapping(stream="stage_changes", stages=["new", "won"])
    change = mapping.map({"lead_id": "L", "to_stage": "WON", "at": "2026-01-05T09:00Z"})
    assert change == StageChange(
        lead_id="L", to_stage="won", at=datetime(2026, 1, 5, 9, tzinfo=UTC)
    )
    with pytest.raises(ValidationError, match="unknown stage 'mql'"):
        mapping.map({"lead_id": "L", "to_stage": "mql", "at": "2026-01-05T09:00Z"})


def test_map_many_keeps_rejects_and_duplicates() -> None:
    mapping = lead_mapping()
    good = {"Lead ID": "L-1", "Created": "2026-01-05T09:00Z"}
    records, rejected = mapping.map_many(
        [
            good,
            {"Lead ID": "L-2", "Created": "never"},
            dict(good),
            {"Created": "2026-01-05T09:00Z"},
        ],
        source="api/leads",
    )
    assert [r.id for r in records] == ["L-1"]  # type: ignore[union-attr]
    assert [(r.record_id, r.field) for r in rejected] == [
        ("L-2", "Created"),
        ("L-1", "Lead ID"),
        (None, "Lead ID"),
    ]
    assert rejected[1].reason == "duplicate id 'L-1', first seen in record 1"
    assert rejected[0].source == "api/leads"
    assert rejected[0].raw == {"Lead ID": "L-2", "Created": "never"}


def test_map_many_allows_repeats_in_event_streams() -> None:
    mapping = FieldMapping(stream="handoffs")
    row = {"lead_id": "L", "notified_at": "2026-01-05T09:00Z", "stage": "mql"}
    records, rejected = mapping.map_many([row, row])
    assert (
        records
        == [Handoff(lead_id="L", notified_at=datetime(2026, 1, 5, 9, tzinfo=UTC), stage="mql")] * 2
    )
    assert rejected == []


def test_for_columns_missing_and_duplicate_headers() -> None:
    with pytest.raises(MissingColumnsError) as info:
        lead_mapping().for_columns(["lead id", "Status", "Owner"], source="leads.csv")
    error = info.value
    assert error.missing == ("Created (created_at)",)
    assert error.columns == ("lead id", "Status", "Owner")
    assert str(error) == (
        "leads.csv:1: missing required column Created (created_at) for leads; "
        "the file has: lead id, Status, Owner"
    )
    with pytest.raises(ValidationError, match="appears more than once"):
        lead_mapping().for_columns(["Lead ID", "Created", "lead id"])
    mapper = lead_mapping().for_columns(["Created", "LEAD ID", "x"])
    assert mapper.map(["2026-01-05T09:00Z", "L-9", "?"]).id == "L-9"  # type: ignore[union-attr]
    assert mapper.record_id(["", "L-9"]) == "L-9"
    assert mapper.raw(["a", "b", "c", "d"]) == {
        "Created": "a",
        "LEAD ID": "b",
        "x": "c",
        "column 4": "d",
    }
    assert mapper.column("id") == "LEAD ID"


# --- time parsing ----------------------------------------------------------------------------


def test_parse_time_formats() -> None:
    assert parse_time("2026-01-05T09:30:00+01:00") == datetime(
        2026, 1, 5, 9, 30, tzinfo=timezone(timedelta(hours=1))
    )
    assert parse_time(
        "05/01/2026 09:30", formats=["%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M"], timezone=BERLIN
    ) == datetime(2026, 5, 1, 9, 30, tzinfo=BERLIN)
    assert parse_time("1767605400", formats=["unix"]) == datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    assert parse_time(1767605400.0, formats=["unix"]) == datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    aware = datetime(2026, 1, 5, tzinfo=UTC)
    assert parse_time(aware) is aware
    with pytest.raises(ValidationError, match="no timezone"):
        parse_time(datetime(2026, 1, 5))
    with pytest.raises(ValidationError, match="or unix_ms"):
        parse_time("soon", formats=["unix_ms"])
    with pytest.raises(ValidationError, match="expected a time"):
        parse_time(10**20, formats=["unix"])
    with pytest.raises(ValidationError, match="expected a time"):
        parse_time(True, formats=["unix"])


@given(
    st.datetimes(
        timezones=st.sampled_from([UTC, BERLIN, ZoneInfo("America/New_York")]),
        allow_imaginary=False,  # a wall time a DST jump skips has no ISO form to round-trip
    )
)
def test_parse_time_round_trips_iso(moment: datetime) -> None:
    parsed = parse_time(moment.isoformat())
    # Compare instants and offsets: Python never calls a time that a fall-back repeats equal
    # to one in another zone (PEP 495), even when both are the same instant.
    assert parsed.astimezone(UTC) == moment.astimezone(UTC)
    assert parsed.utcoffset() == moment.utcoffset()


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
    assert "check_secrets: AssertionError: a secret setting shows in" in message
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


def test_dataclass_records_are_frozen() -> None:
    batch = Batch(stream="leads", records=[], cursor=Cursor(stream="leads"))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        batch.records = ()  # type: ignore[misc]
