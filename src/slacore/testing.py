"""What connector authors need in their tests: a fresh plugin manager and the contract suite.

Run the contract against your connector with pytest by subclassing :class:`ConnectorContract`
and giving it settings that point at sample data::

    from slacore.testing import ConnectorContract

    class TestTinyCrm(ConnectorContract):
        connector_class = TinyCrmConnector
        plugin = tinycrm_connector  # the module with the hook, to check registration

        @pytest.fixture
        def settings(self, tmp_path):
            write_sample_export(tmp_path)
            return {"folder": str(tmp_path)}

or call :func:`check_connector` from any test runner, or none: this module does not need
pytest (only :class:`ConnectorContract`'s tests, run by pytest, use it).

Each ``check_*`` function takes the connector class and, where it reads, valid settings that
point at sample data with at least one record; it raises ``AssertionError`` saying what is
broken. :data:`CONTRACT` lists the checks that take settings, in the order they run.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import secrets
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from datetime import datetime
from typing import Any, ClassVar

import attrs
import pluggy

from slacore.connector import (
    Batch,
    Connector,
    Cursor,
    Record,
    RejectedRecord,
    Secret,
    SettingKind,
    Stream,
    list_connectors,
)
from slacore.errors import ValidationError
from slacore.model import id_field
from slacore.plugins import check_plugins, load_entry_points, new_plugin_manager

__all__ = [
    "CONTRACT",
    "ConnectorContract",
    "check_carried",
    "check_class",
    "check_columns",
    "check_connector",
    "check_incremental",
    "check_read",
    "check_registration",
    "check_secrets",
    "check_settings",
    "check_wrong_stream",
    "plugin_manager",
]


def plugin_manager(*plugins: object, entry_points: bool = False) -> pluggy.PluginManager:
    """A fresh plugin manager holding only ``plugins`` (modules or objects with hooks).

    Args:
        plugins: The plugins to register, each under its module name (or its type's name;
            ``-2``, ``-3`` ... added for a name already taken).
        entry_points: Also load the installed plugins (the ``slacore`` entry points).

    Raises:
        PluginError: A plugin implements an unknown hook, or fails to register.

    Examples:
        >>> from slacore.connector import list_connectors
        >>> list_connectors(plugin_manager=plugin_manager())
        ()

    """
    manager = new_plugin_manager(entry_points=False)
    for plugin in plugins:
        base = getattr(plugin, "__name__", None) or type(plugin).__name__
        name, number = base, 1
        while manager.has_plugin(name):
            number += 1
            name = f"{base}-{number}"
        manager.register(plugin, name=name)
    if entry_points:
        load_entry_points(manager)
    check_plugins(manager)
    return manager


# --- the checks ------------------------------------------------------------------------------


def check_class(connector_class: type[Connector]) -> None:
    """The class attributes are well formed: name, streams, settings schema."""
    assert isinstance(connector_class, type), f"{connector_class!r} is not a class"
    assert issubclass(connector_class, Connector), f"{connector_class!r} is not a Connector"
    connector_class.check_class()


def check_settings(connector_class: type[Connector], settings: Mapping[str, Any]) -> None:
    """The sample settings are accepted; an unknown key and a missing required one are not."""
    connector_class(settings)
    with _raises(ValidationError, "an unknown setting"):
        connector_class({**settings, "no_such_setting_for_the_contract": 1})
    for setting in connector_class.settings_schema:
        if setting.required:
            reduced = {key: value for key, value in settings.items() if key != setting.name}
            with _raises(ValidationError, f"the required setting {setting.name!r} missing"):
                connector_class(reduced)


def check_secrets(connector_class: type[Connector], settings: Mapping[str, Any]) -> None:
    """Secret settings never show: not in ``repr``, ``str``, ``to_dict``, a batch (its records,
    rejected records and cursor), an error, a log record, nor stdout or stderr while reading.

    Each secret text setting of the schema, given in ``settings`` or not, is replaced by a
    random value of the check's own, so a sample secret that happens to occur elsewhere (in a
    path, say) is no false alarm; a connector that refuses its secrets all given at once
    (credentials of which exactly one set is given: a session id, or a user's password) gets
    only those ``settings`` give replaced. stdout and stderr are captured while the connector
    is made and read, down to the file descriptors (a child process or a C library writing
    there).
    """
    planted = {
        setting.name: secrets.token_hex(16)
        for setting in connector_class.settings_schema
        if setting.secret and setting.kind is SettingKind.TEXT
    }
    alone = {name: value for name, value in planted.items() if name in settings}
    if alone != planted:
        with _captured_output(), _captured_logs():
            try:
                connector_class({**settings, **planted})
            except ValidationError:
                planted = alone  # its secrets are sets, one given
    settings = {**settings, **planted}
    shown: list[tuple[str, str]] = []
    failure: BaseException | None = None
    with _captured_output() as output, _captured_logs() as logged:
        try:
            connector = connector_class(settings)
            for name in planted:
                held = connector.settings[name]
                assert isinstance(held, Secret), f"secret setting {name!r} is not a Secret"
            shown += [
                ("repr(connector)", repr(connector)),
                ("str(connector)", str(connector)),
                ("repr(connector.settings)", repr(connector.settings)),
                ("connector.settings.to_dict()", repr(connector.settings.to_dict())),
            ]
            try:
                connector_class({**settings, "no_such_setting_for_the_contract": 1})
            except Exception as error:
                shown.append(("the error for an unknown setting", _error_text(error)))
            for stream in connector.available_streams():
                for batch in connector.read(stream):
                    shown.append((f"a batch of {stream}", repr(batch)))
                    shown.append((f"a cursor of {stream}", batch.cursor.to_json()))
                    shown += [(f"a rejected {stream} record", str(r)) for r in batch.rejected]
        except Exception as error:
            shown.append(("an error", _error_text(error)))
            failure = error
    shown += [("stdout", output.stdout), ("stderr", output.stderr)]
    shown += [("the log", text) for text in logged]
    for name, secret in planted.items():
        for where, text in shown:
            at = text.find(secret)
            if at >= 0:
                raise AssertionError(
                    f"secret setting {name!r} shows in {where}: {_excerpt(text, at, secret)}"
                )
    if failure is not None:
        raise failure


def check_read(connector_class: type[Connector], settings: Mapping[str, Any]) -> None:
    """Each offered stream reads into well-formed batches of the stream's core type, and the
    sample data yields at least one record."""
    connector = connector_class(settings)
    streams = connector.available_streams()
    assert streams, "the sample settings offer no stream"
    assert set(streams) <= set(connector_class.streams), "offers a stream not in streams"
    total = 0
    for stream in streams:
        batches = list(connector.read(stream))
        assert batches, f"{stream}: read yielded no batch (yield at least one, maybe empty)"
        for batch in batches:
            _check_batch(batch, stream)
            total += len(batch.records)
    assert total > 0, "the sample data yielded no record: the contract would prove nothing"


def check_carried(connector_class: type[Connector], settings: Mapping[str, Any]) -> None:
    """A stream read with the streams it carries (:attr:`~slacore.connector.Connector.carries`)
    gives each the records it gives read alone, its own batches well formed, and ends with a
    batch of the carrier (whose cursor the next read starts from). Passes at once for a
    connector that carries nothing."""
    connector = connector_class(settings)
    available = connector.available_streams()
    for carrier, carried in connector_class.carries.items():
        together = tuple(s for s in carried if s in available)
        if carrier not in available or not together:
            continue
        batches = list(connector.read(carrier, carried=together))
        assert batches, f"{carrier}: a read with {', '.join(together)} yielded no batch"
        for batch in batches:
            assert isinstance(batch, Batch), f"{carrier}: yielded {type(batch).__name__}"
            assert batch.stream in (carrier, *together), (
                f"{carrier}: a read with {', '.join(together)} yielded a {batch.stream} batch"
            )
            _check_batch(batch, batch.stream)
        assert batches[-1].stream is carrier, (
            f"{carrier}: a read with {', '.join(together)} ends with a {batches[-1].stream} "
            f"batch; the last must be {carrier}'s, whose cursor the next read starts from"
        )
        for stream in (carrier, *together):
            with_carrier = sorted(repr(r) for b in batches if b.stream is stream for r in b.records)
            alone = sorted(repr(r) for b in connector.read(stream) for r in b.records)
            assert with_carrier == alone, (
                f"{stream}: read with {carrier} gives {len(with_carrier)} records, read "
                f"alone {len(alone)}"
            )


def check_columns(connector_class: type[Connector], settings: Mapping[str, Any]) -> None:
    """A connector with a column path (:meth:`~slacore.connector.Connector.offers_columns`)
    gives, for every stream, the same records, rejected records and notices through
    :meth:`~slacore.connector.Connector.read_as_columns` as through
    :meth:`~slacore.connector.Connector.read`, in well-formed column batches, and a last
    cursor from which a read gives nothing. Passes at once for a connector without one."""
    if not connector_class.offers_columns():
        return
    from slacore.connector.column_batch import ColumnBatch, column_schema

    connector = connector_class(settings)
    for stream in connector.available_streams():
        columns = list(connector.read_as_columns(stream))
        assert columns, f"{stream}: read_as_columns yielded no batch"
        for batch in columns:
            assert isinstance(batch, ColumnBatch), (
                f"{stream}: read_columns yielded {type(batch).__name__}, not a ColumnBatch"
            )
            assert batch.stream is stream, f"{stream}: a column batch of {batch.stream}"
            assert batch.table.schema.equals(column_schema(stream)), f"{stream}: a bad table"
        rows = list(connector.read(stream))
        by_columns = [_stored(r) for b in columns for r in b.records()]
        by_rows = [_stored(r) for b in rows for r in b.records]
        assert by_columns == by_rows, (
            f"{stream}: read_columns gives {len(by_columns)} records, read_stream "
            f"{len(by_rows)}, or other values"
        )
        rejected = [r.to_dict() for b in columns for r in b.rejected]
        assert rejected == [r.to_dict() for b in rows for r in b.rejected], (
            f"{stream}: read_columns rejects other records than read_stream"
        )
        notices = [n for b in columns for n in b.notices]
        assert notices == [n for b in rows for n in b.notices], f"{stream}: other notices"
        after = list(connector.read(stream, columns[-1].cursor))
        assert not any(b.records or b.rejected for b in after), (
            f"{stream}: a read from read_columns' last cursor gives more"
        )


def _stored(record: Record) -> tuple[Any, ...]:
    """A record's values as a store keeps them: a time as its text with its offset (a wall
    time a zone gives twice compares unequal to any other zone's time, PEP 495)."""
    return tuple(
        value.isoformat() if isinstance(value, datetime) else value
        for value in attrs.astuple(record, recurse=False)
    )


def _check_batch(batch: object, stream: Stream) -> None:
    assert isinstance(batch, Batch), f"{stream}: yielded {type(batch).__name__}, not a Batch"
    assert batch.stream is stream, f"{stream}: a batch of {batch.stream}"
    for record in batch.records:
        assert isinstance(record, stream.record_type), (
            f"{stream}: {type(record).__name__} in a batch of {stream.record_type.__name__}"
        )
    for rejected in batch.rejected:
        assert isinstance(rejected, RejectedRecord), f"{stream}: rejected {rejected!r}"
        assert rejected.stream is stream, f"{stream}: a rejected record of {rejected.stream}"
        assert rejected.reason, f"{stream}: a rejected record without a reason"
    deleted = batch.deleted
    assert isinstance(deleted, tuple), f"{stream}: deleted {deleted!r} is not a tuple of ids"
    if deleted:
        assert stream.deletable, f"{stream}: a batch of {stream} carries deletions"
        for item in deleted:
            assert isinstance(item, str), f"{stream}: deleted id {item!r} is not a string"
            assert item.strip(), f"{stream}: a deleted id is empty"
        assert len(set(deleted)) == len(deleted), f"{stream}: a deleted id given twice"
        field = id_field(stream.record_type)
        held = {getattr(record, field) for record in batch.records}
        both = sorted(held & set(deleted))
        assert not both, f"{stream}: a batch both holds and deletes {', '.join(both[:3])}"
    cursor = batch.cursor
    assert isinstance(cursor, Cursor), f"{stream}: cursor {cursor!r} is not a Cursor"
    assert Cursor.from_json(cursor.to_json()) == cursor, (
        f"{stream}: the cursor does not survive JSON"
    )


def check_incremental(
    connector_class: type[Connector],
    settings: Mapping[str, Any],
    *,
    rereads_window: bool = False,
) -> None:
    """Reading again from the last cursor, the data unchanged, gives nothing new: no record
    or deletion (:attr:`~slacore.connector.Batch.deleted`) that was not in the first read,
    and none of the first read again.

    Args:
        connector_class: The connector to check.
        settings: Valid settings pointing at sample data with at least one record.
        rereads_window: The connector reads a window before its cursor again, for safety: it
            may repeat some of the first read's records, never all of them (give sample data
            with records before the window), and may repeat its deletions.

    """
    connector = connector_class(settings)
    for stream in connector.available_streams():
        first = list(connector.read(stream))
        seen = {record for batch in first for record in batch.records}
        gone = {item for batch in first for item in batch.deleted}
        last = first[-1].cursor
        again = list(connector.read(stream, Cursor.from_json(last.to_json())))
        assert again, f"{stream}: reading from the last cursor yielded no batch"
        repeated: list[Record] = []
        for batch in again:
            _check_batch(batch, stream)
            new = [record for record in batch.records if record not in seen]
            assert not new, f"{stream}: reading from the last cursor gave new records: {new[:3]}"
            repeated += batch.records
            deleted = [item for item in batch.deleted if item not in gone]
            assert not deleted, (
                f"{stream}: reading from the last cursor gave new deletions: {deleted[:3]}"
            )
            assert rereads_window or not batch.deleted, (
                f"{stream}: reading again from the last cursor, the data unchanged, deleted "
                f"{', '.join(batch.deleted[:3])} again; a connector that reads a window again "
                "for safety says so with rereads_window=True"
            )
        if not repeated:
            continue
        names = _names(repeated, stream)
        if len(set(repeated)) >= len(seen):
            raise AssertionError(
                f"{stream}: reading again from the last cursor, the data unchanged, gave "
                f"{len(set(repeated))} of the {len(seen)} records again ({names}): the cursor "
                "is ignored"
            )
        assert rereads_window, (
            f"{stream}: reading again from the last cursor, the data unchanged, gave "
            f"{_count(len(repeated), 'record')} again ({names}); a connector that reads a "
            "window again for safety says so with rereads_window=True"
        )


def _names(records: Sequence[Record], stream: Stream) -> str:
    field = id_field(stream.record_type)
    ids = [str(getattr(record, field, "?")) for record in records[:3]]
    return ", ".join(ids) + (", ..." if len(records) > 3 else "")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def check_wrong_stream(connector_class: type[Connector], settings: Mapping[str, Any]) -> None:
    """A stream not offered raises ``LookupError``; another stream's cursor raises
    ``ValidationError``."""
    connector = connector_class(settings)
    offered = connector.available_streams()
    for stream in Stream:
        if stream not in offered:
            with _raises(LookupError, f"reading {stream}, which is not offered"):
                connector.read(stream)
    for stream in offered:
        other = next((s for s in Stream if s is not stream), stream)
        with _raises(ValidationError, f"reading {stream} with a {other} cursor"):
            connector.read(stream, Cursor(stream=other, state={}))


def check_registration(connector_class: type[Connector], plugin: object) -> None:
    """The plugin registers the class under its name through ``slacore_register_connectors``."""
    infos = list_connectors(plugin_manager=plugin_manager(plugin))
    names = {info.name: info.connector for info in infos}
    assert connector_class.name in names, (
        f"the plugin registers {sorted(names)}, not {connector_class.name!r}"
    )
    assert names[connector_class.name] is connector_class, "the name is registered to another class"


CONTRACT: tuple[Callable[[type[Connector], Mapping[str, Any]], None], ...] = (
    check_settings,
    check_secrets,
    check_read,
    check_carried,
    check_columns,
    check_incremental,
    check_wrong_stream,
)
"""The checks that take the connector class and sample settings, in order."""


def check_connector(
    connector_class: type[Connector],
    settings: Mapping[str, Any],
    *,
    plugin: object | None = None,
    rereads_window: bool = False,
) -> None:
    """Run the whole contract; raise one ``AssertionError`` listing every failure.

    Args:
        connector_class: The connector to check.
        settings: Valid settings pointing at sample data with at least one record.
        plugin: The module (or object) holding the ``slacore_register_connectors`` hook, to
            check registration too.
        rereads_window: The connector reads a window before its cursor again, for safety
            (see :func:`check_incremental`).

    Raises:
        AssertionError: A check failed; the message names each failed check.

    """
    failures: list[str] = []

    def run(check: Callable[[], None], name: str) -> None:
        try:
            check()
        except Exception as error:
            failures.append(f"{name}: {type(error).__name__}: {error}")

    run(lambda: check_class(connector_class), "check_class")
    for check in CONTRACT:
        call = functools.partial(check, connector_class, settings)
        if check is check_incremental:
            call = functools.partial(call, rereads_window=rereads_window)
        run(call, check.__name__)
    if plugin is not None:
        run(lambda: check_registration(connector_class, plugin), "check_registration")
    if failures:
        raise AssertionError(
            f"{connector_class.__name__} breaks the connector contract:\n  " + "\n  ".join(failures)
        )


class ConnectorContract:
    """The contract as a pytest base class: subclass it as ``Test...``, set
    :attr:`connector_class` (and :attr:`plugin`), and give it a ``settings`` fixture that
    returns valid settings pointing at sample data (pytest says "fixture 'settings' not found"
    when it is missing).

    Each ``test_*`` method runs the ``check_*`` function of the same idea, so a failure names
    the broken part of the contract.

    Attributes:
        connector_class: The connector class under test.
        plugin: The module (or object) holding its ``slacore_register_connectors`` hook;
            ``None`` skips ``test_registration``.
        rereads_window: Whether the connector reads a window before its cursor again, for
            safety (see :func:`check_incremental`).

    """

    connector_class: ClassVar[type[Connector]]
    plugin: ClassVar[object | None] = None
    rereads_window: ClassVar[bool] = False

    def test_class(self) -> None:
        """The class attributes are well formed (:func:`check_class`)."""
        check_class(self.connector_class)

    def test_settings(self, settings: Mapping[str, Any]) -> None:
        """The sample settings are accepted, bad ones refused (:func:`check_settings`)."""
        check_settings(self.connector_class, settings)

    def test_secrets_never_show(self, settings: Mapping[str, Any]) -> None:
        """Secret settings never show (:func:`check_secrets`)."""
        check_secrets(self.connector_class, settings)

    def test_read(self, settings: Mapping[str, Any]) -> None:
        """Every offered stream reads into well-formed batches (:func:`check_read`)."""
        check_read(self.connector_class, settings)

    def test_carried(self, settings: Mapping[str, Any]) -> None:
        """Streams read together give what they give alone (:func:`check_carried`)."""
        check_carried(self.connector_class, settings)

    def test_columns(self, settings: Mapping[str, Any]) -> None:
        """A column path gives what the row path gives (:func:`check_columns`)."""
        check_columns(self.connector_class, settings)

    def test_incremental(self, settings: Mapping[str, Any]) -> None:
        """Reading again from the last cursor gives nothing new (:func:`check_incremental`)."""
        check_incremental(self.connector_class, settings, rereads_window=self.rereads_window)

    def test_wrong_stream(self, settings: Mapping[str, Any]) -> None:
        """Wrong streams and cursors are refused (:func:`check_wrong_stream`)."""
        check_wrong_stream(self.connector_class, settings)

    def test_registration(self) -> None:
        """The plugin registers the class under its name (:func:`check_registration`)."""
        if self.plugin is None:
            import pytest  # only a test run by pytest gets here

            pytest.skip("set plugin to the module with slacore_register_connectors")
        check_registration(self.connector_class, self.plugin)


# --- helpers ---------------------------------------------------------------------------------


@contextmanager
def _raises(expected: type[BaseException], what: str) -> Iterator[None]:
    try:
        yield
    except expected:
        return
    raise AssertionError(f"{what} should raise {expected.__name__}")


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))
        self.texts.append(repr(record.args))


@contextmanager
def _captured_logs() -> Iterator[list[str]]:
    root = logging.getLogger()
    handler = _ListHandler()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler.texts
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _error_text(error: BaseException) -> str:
    """An error as a user or a log could see it: its type, text and ``repr``, with its causes."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(f"{type(current).__name__}: {current} {current!r}")
        current = current.__cause__ or current.__context__
    return " <- ".join(parts)


def _excerpt(text: str, at: int, secret: str, width: int = 60) -> str:
    """The text around the secret at ``at``, the secret itself shown as ``[the secret]``."""
    before = text[max(0, at - width) : at]
    after = text[at + len(secret) : at + len(secret) + width]
    head = "..." if at > width else ""
    tail = "..." if at + len(secret) + width < len(text) else ""
    return " ".join(f"{head}{before}[the secret]{after}{tail}".split())


class _Output:
    """What was written to stdout and stderr while :func:`_captured_output` ran."""

    def __init__(self) -> None:
        self.stdout = ""
        self.stderr = ""


@contextmanager
def _captured_output() -> Iterator[_Output]:
    """Capture stdout and stderr: ``sys.stdout`` and ``sys.stderr``, and file descriptors 1 and
    2 where the process has them (what a child process or a C library writes)."""
    output = _Output()
    texts = (io.StringIO(), io.StringIO())
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        files = (out_file, err_file)
        saved: list[tuple[int, int]] = []
        try:
            for fd, file in zip((1, 2), files, strict=True):
                try:
                    saved.append((fd, os.dup(fd)))
                except OSError:  # pragma: no cover - a process without that descriptor
                    continue
                os.dup2(file.fileno(), fd)
            with redirect_stdout(texts[0]), redirect_stderr(texts[1]):
                yield output
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            for fd, copy in saved:
                os.dup2(copy, fd)
                os.close(copy)
            read = []
            for file in files:
                file.seek(0)
                read.append(file.read().decode("utf-8", errors="replace"))
            output.stdout = texts[0].getvalue() + read[0]
            output.stderr = texts[1].getvalue() + read[1]
