"""Sync jobs: pull what changed from each source into the store.

A job file (TOML, ``slacore.toml`` by default) names the store, the agreement and the
sources::

    store = "slacore.db"                 # relative to this file
    agreement = "company_a.toml"

    [[sources]]
    name = "crm"                         # how the store tells sources apart
    connector = "csv"                    # a registered connector
    streams = ["leads", "handoffs", "touches"]   # optional; default all it offers

    [sources.settings]                   # the connector's own settings
    folder = "data"
    api_token = { env = "CRM_TOKEN" }    # secrets come from the environment, never the file

:func:`run_sync` runs every source: each stream reads from its stored cursor (or from the
start with ``full=True``), and every batch is stored with its cursor in one transaction, so a
killed job resumes where it stopped. A source that fails is recorded as failed and the others
still run and keep their progress: a vendor's error, and a connector's bug too (an object
yielded that is not a :class:`~slacore.connector.Batch` of the stream's records, any
unexpected exception, recorded as ``TypeName: message``). The store's sync lock stops two
syncs on one store at once.
A source keeps the connector of its first sync: a job that gives it another connector fails
that source (its records would mix with the other connector's) and says how to start afresh.

The same job runs from the command line (``slacore sync``) or from any scheduler (cron,
Airflow, Dagster) through :func:`run_sync`.
"""

from __future__ import annotations

import logging
import signal
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import attrs
import pluggy

from slacore.connector import (
    Batch,
    ColumnBatch,
    Connector,
    RejectedRecord,
    Secret,
    Setting,
    Stream,
    get_connector,
)
from slacore.errors import SlacoreError, ValidationError
from slacore_connectors._read_ahead import read_ahead
from slacore_connectors.jobs import DEFAULT_CONFIG as DEFAULT_CONFIG
from slacore_connectors.jobs import JobConfig, SourceConfig
from slacore_connectors.store import (
    ColumnWriter,
    Store,
    StoreError,
    SyncLockedError,
    open_store,
)
from slacore_connectors.store.base import _StagesColumns
from slacore_connectors.sync_report import _SIGNALS, SourceResult, StreamCounts, SyncReport

__all__ = [
    "JobConfig",
    "SourceConfig",
    "SourceResult",
    "StreamCounts",
    "SyncLockedError",
    "SyncReport",
    "run_sync",
]


_Batch = TypeVar("_Batch", bound=Batch | ColumnBatch)

Progress = Callable[[str, str, int], None]
"""Called after each stored batch with (source name, stream, records read from the batch).

The count is of records mapped, as in the report's "read" column; rows rejected are counted
in its "rejected" column. A progress object that also has an ``activity(source, text)`` method
is told the connector's :meth:`~slacore.connector.Connector.activity` after each batch, when it
has one (the HubSpot connector's API calls).
"""


def run_sync(
    config: JobConfig,
    *,
    full: bool = False,
    progress: Progress | None = None,
    plugin_manager: pluggy.PluginManager | None = None,
    now: Callable[[], datetime] | None = None,
    stop_on_signals: bool = False,
) -> SyncReport:
    """Run a sync job: every source, every stream, batch by batch into the store.

    When every source succeeded and the job names an agreement, the sync then keeps the
    results of the agreement's ended, decided periods for reports
    (:func:`~slacore_connectors.report.history.keep_period_results`).

    Args:
        config: The job.
        full: Read every stream from the start instead of from its cursor. Records already
            stored are matched, not duplicated.
        progress: Called after each stored batch with the source, the stream and the records
            read from it (rejected rows not included), e.g. to move a progress bar.
        plugin_manager: The plugins to find connectors in (default: the installed ones).
        now: The clock (for tests); default the current UTC time.
        stop_on_signals: Catch SIGINT (Ctrl-C) and SIGTERM while the job runs (from the main
            thread; ``slacore sync`` does): the sync stops after the batch being stored, the
            source's run is recorded as ``partial``, and the report says which signal
            stopped it (:attr:`SyncReport.stopped`). A second signal is not caught. Without
            it, a ``KeyboardInterrupt`` still records the run as ``partial``, then goes on up.

    Returns:
        A :class:`SyncReport`; a failed source is reported there, not raised.

    Raises:
        SyncLockedError: Another sync holds the store; nothing was read or written.
        StoreError: The store cannot be opened.
        KeyboardInterrupt: Ctrl-C without ``stop_on_signals``; the run is recorded first.

    """
    clock = now or (lambda: datetime.now(UTC))
    with (
        open_store(config.store, locked=True) as store,
        _Signals(stop_on_signals) as stop,
        _Redactor() as redactor,
    ):
        store.abandon_runs()  # holding the lock: a run still "running" was killed
        started = clock()
        results: list[SourceResult] = []
        for index, source in enumerate(config.sources):
            if stop.requested():
                break
            run_id = store.start_run(source.name, connector=source.connector, full=full, at=started)
            counts: dict[str, StreamCounts] = {}
            refused: dict[str, str] = {}
            notices: dict[str, list[str]] = {}
            failure: str | None = None
            try:
                kind = get_connector(source.connector, plugin_manager=plugin_manager)
                # Its secrets' values, from here on replaced by *** in what the sync says.
                redactor.add(kind.settings_schema, source.settings)
                settings = config.connector_settings(index, kind.settings_schema)
                try:
                    connector = kind(settings)
                except ValidationError as error:
                    # The settings' problems, at their lines in the job file.
                    raise config.locate(index, error) from None
                streams = source.streams or connector.available_streams()
                # One connector per source: another's records and cursors are refused.
                store.claim_source(source.name, source.connector, at=started)
            except Exception as error:
                # A plugin's bug too (its error's type named): the other sources still run.
                failure = redactor(_described(error))
            else:
                try:
                    for stream, carried in _passes(connector, streams):
                        if stop.requested():
                            break
                        # A stream refused (its file empty, a vendor error) is named with its
                        # error; the source's other streams are still read.
                        try:
                            _sync_stream(
                                store, connector, source.name, stream, counts, notices,
                                carried=carried, full=full, run_id=run_id, seen_at=started,
                                progress=progress, stop=stop, redactor=redactor,
                            )  # fmt: skip
                        except StoreError as error:
                            # The store, not the stream, failed: the source stops here.
                            failure = redactor(_one_line(error))
                            break
                        except Exception as error:
                            # A vendor error, or a plugin's bug (a wrong object yielded, an
                            # unexpected exception, its type named): the stream is refused.
                            refused[stream.value] = redactor(_described(error))
                except KeyboardInterrupt:
                    # Not caught as a signal: the batch being written was rolled back.
                    store.finish_run(
                        run_id,
                        status="partial",
                        counts={k: v.to_dict() for k, v in counts.items()},
                        error="interrupted (KeyboardInterrupt)",
                        at=clock(),
                    )
                    raise
                if refused:
                    said = "; ".join(f"{name}: {why}" for name, why in refused.items())
                    failure = said if failure is None else f"{failure}; {said}"
            status = "success" if failure is None else "failed"
            if stop.requested():
                status = "partial"
                said = f"stopped by {stop.caught}"
                failure = said if failure is None else f"{failure}; {said}"
            result = SourceResult(
                name=source.name,
                connector=source.connector,
                status=status,
                streams=counts,
                error=failure,
                run_id=run_id,
                refused=refused,
                notices={k: tuple(v) for k, v in notices.items()},
            )
            store.finish_run(
                run_id, status=status, counts=result.run_counts(), error=failure, at=clock()
            )
            results.append(result)
        succeeded = stop.caught is None and all(r.status == "success" for r in results)
        if config.agreement is not None and succeeded:
            from slacore_connectors.report.history import keep_period_results

            # For reports, which open the store read-only (report/period_results.py).
            keep_period_results(store, config.agreement, now=clock())
        return SyncReport(
            store=config.store,
            started_at=started,
            finished_at=clock(),
            full=full,
            sources=tuple(results),
            stopped=stop.caught,
        )


class _Signals:
    """SIGINT and SIGTERM caught for a block (from the main thread only): the first one is
    noted in :attr:`caught` for the sync to stop at the next batch's end; the handlers before
    are back for a second one."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self.caught: str | None = None
        self.before: dict[int, Any] = {}

    def __enter__(self) -> _Signals:
        if self.enabled:
            for number in _SIGNALS.values():
                self.before[number] = signal.signal(number, self._catch)
        return self

    def requested(self) -> bool:
        """Whether a signal asked the sync to stop."""
        return self.caught is not None

    def _catch(self, number: int, frame: object) -> None:
        self.caught = signal.Signals(number).name
        self._restore()

    def _restore(self) -> None:
        for number, handler in self.before.items():
            signal.signal(number, handler)
        self.before = {}

    def __exit__(self, *exc: object) -> None:
        self._restore()


class _Redactor:
    """The values of the sources' secret settings, replaced by ``***`` in every text the sync
    says or stores (errors, notices, rejected records), and in every log record made while
    it runs (a connector logging its token): called on a text, it gives the text redacted.

    A value shorter than :data:`_SHORTEST_SECRET` is left alone: hiding every ``"ab"`` would
    garble the output and hide nothing worth hiding.
    """

    def __init__(self) -> None:
        self.secrets: tuple[str, ...] = ()
        self.before: Callable[..., logging.LogRecord] | None = None

    def add(self, schema: Iterable[Setting], settings: Mapping[str, Any]) -> None:
        """Hide the values ``settings`` gives the settings ``schema`` declares secret."""
        found = set(self.secrets)
        for setting in schema:
            value = settings.get(setting.name) if setting.secret else None
            if isinstance(value, Secret):
                value = value.reveal()
            if isinstance(value, str) and len(value) >= _SHORTEST_SECRET:
                found.add(value)
        # The longest first: a secret holding another is hidden whole.
        self.secrets = tuple(sorted(found, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def batch(self, batch: _Batch) -> _Batch:
        """``batch`` with its notices and rejected records redacted (its records are the
        vendor's data, mapped to the model: a secret is no lead's field)."""
        if not self.secrets or not (batch.notices or batch.rejected):
            return batch
        return attrs.evolve(
            batch,
            notices=tuple(self(notice) for notice in batch.notices),
            rejected=tuple(self._rejected(item) for item in batch.rejected),
        )

    def _rejected(self, item: RejectedRecord) -> RejectedRecord:
        def hide(value: Any) -> Any:
            return self(value) if isinstance(value, str) else value

        return attrs.evolve(
            item,
            reason=self(item.reason),
            source=hide(item.source),
            record_id=hide(item.record_id),
            field=hide(item.field),
            raw={hide(key): hide(value) for key, value in item.raw.items()},
        )

    def __enter__(self) -> _Redactor:
        self.before = before = logging.getLogRecordFactory()

        def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = before(*args, **kwargs)
            if self.secrets:
                self._log_record(record)
            return record

        logging.setLogRecordFactory(make)
        return self

    def _log_record(self, record: logging.LogRecord) -> None:
        try:
            said = record.getMessage()
        except Exception:  # a bad format: the handler reports it
            return
        hidden = self(said)
        if hidden != said:
            record.msg, record.args = hidden, None
        if record.exc_info and record.exc_info[1] is not None:
            # The traceback as a formatter would write it, redacted, in its place.
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text = self(text)

    def __exit__(self, *exc: object) -> None:
        if self.before is not None:
            logging.setLogRecordFactory(self.before)
            self.before = None


_SHORTEST_SECRET = 4
"""The length from which a secret's value is hidden wherever it occurs."""


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _described(error: Exception) -> str:
    """``error`` in one line: slacore's own errors and OS errors by their message, any other
    (a plugin's bug) as ``TypeName: message``."""
    if isinstance(error, SlacoreError | OSError):
        return _one_line(error)
    message = _one_line(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _passes(
    connector: Connector, streams: Iterable[Stream]
) -> list[tuple[Stream, tuple[Stream, ...]]]:
    """The reads of a source: each stream chosen, with the chosen streams it carries
    (:attr:`~slacore.connector.Connector.carries`); a stream carried by another chosen one
    is read with it, not on its own."""
    chosen = list(dict.fromkeys(streams))
    passes: list[tuple[Stream, tuple[Stream, ...]]] = []
    taken: set[Stream] = set()
    for stream in chosen:
        carried = tuple(s for s in connector.carries.get(stream, ()) if s in chosen)
        passes.append((stream, carried))
        taken.update(carried)
    return [(stream, carried) for stream, carried in passes if stream not in taken]


def _checked(
    batch: object, stream: Stream, connector: Connector, carried: tuple[Stream, ...] = ()
) -> Batch | ColumnBatch:
    """``batch`` if it is a :class:`Batch` of ``stream`` (or of a stream it ``carried``)
    holding its record type, or a :class:`ColumnBatch` of ``stream`` (whose table is
    checked when it is made).

    Raises:
        TypeError: A connector's bug: it yielded another object, or a record or rejected
            record of another type.
        ValueError: It yielded a batch of another stream.

    """
    name = connector.name
    if not isinstance(batch, Batch | ColumnBatch):
        raise TypeError(
            f"connector {name!r} yielded {type(batch).__name__}, not a Batch of {stream}"
        )
    if batch.stream is not stream and batch.stream not in carried:
        raise ValueError(f"connector {name!r} yielded a {batch.stream} batch for {stream}")
    stream = batch.stream
    kind = stream.record_type
    for number, record in enumerate(batch.records if isinstance(batch, Batch) else (), 1):
        if not isinstance(record, kind):
            raise TypeError(
                f"connector {name!r} yielded a {stream} batch whose record {number} is "
                f"{type(record).__name__}, not {kind.__name__}"
            )
    for number, rejected in enumerate(batch.rejected, 1):
        if not isinstance(rejected, RejectedRecord):
            raise TypeError(
                f"connector {name!r} yielded a {stream} batch whose rejected record {number} "
                f"is {type(rejected).__name__}, not RejectedRecord"
            )
    return batch


def _sync_stream(
    store: Store,
    connector: Connector,
    source: str,
    stream: Stream,
    counts: dict[str, StreamCounts],
    notices: dict[str, list[str]],
    *,
    carried: tuple[Stream, ...] = (),
    full: bool,
    run_id: int,
    seen_at: datetime,
    progress: Progress | None,
    stop: _Signals,
    redactor: _Redactor,
) -> None:
    """Read one stream (and the streams it ``carried``) from its cursor into the store, batch
    by batch, keeping ``counts`` and ``notices`` up to date after each stored batch (so a
    stream that fails half-way keeps them)."""
    cursor = None if full else store.cursor(source, stream)
    tallies = {each: StreamCounts() for each in (stream, *carried)}
    if carried:
        # Listed in the order read: the stream, then those it carries.
        counts.update((each.value, tally) for each, tally in tallies.items())
    # The column path when both ends have one: no record object per row.
    columns = not carried and connector.offers_columns() and isinstance(store, ColumnWriter)
    # Into a store that stages apart (DuckDB) the next batch is read and staged while this
    # one is written (_read_ahead.py). Not into SQLite: a writer that starts its next
    # transaction as soon as it ends one keeps every other connection waiting for the write
    # lock (a second sync, which must find the sync lock taken and say so) until it is done.
    ahead = None
    items: Iterator[tuple[Batch | ColumnBatch, Any]]
    if columns and isinstance(store, _StagesColumns):
        items = ahead = read_ahead(_staged(connector.read_as_columns(stream, cursor), store))
    elif columns:
        items = ((batch, None) for batch in connector.read_as_columns(stream, cursor))
    else:
        items = ((batch, None) for batch in connector.read(stream, cursor, carried=carried))
    try:
        stopped = _store_batches(
            store, connector, source, stream, items, tallies, counts, notices,
            carried=carried, run_id=run_id, seen_at=seen_at, progress=progress, stop=stop,
            redactor=redactor,
        )  # fmt: skip
    finally:
        if ahead is not None:
            ahead.close()  # a stop or an error: the reading thread stops too
    if stopped:
        return
    for each, tally in tallies.items():
        counts[each.value] = tally


def _staged(
    batches: Iterator[ColumnBatch], store: _StagesColumns
) -> Iterator[tuple[ColumnBatch, Any]]:
    """Each batch with its rows as the store stages them, or ``None`` for a batch of no
    rows, or an item that is no column batch (the sync's check refuses it then)."""
    for batch in batches:
        staged = None
        if isinstance(batch, ColumnBatch) and len(batch):
            staged = store._stage_columns(batch)
        yield batch, staged


def _store_batches(
    store: Store,
    connector: Connector,
    source: str,
    stream: Stream,
    items: Iterator[tuple[Batch | ColumnBatch, Any]],
    tallies: dict[Stream, StreamCounts],
    counts: dict[str, StreamCounts],
    notices: dict[str, list[str]],
    *,
    carried: tuple[Stream, ...],
    run_id: int,
    seen_at: datetime,
    progress: Progress | None,
    stop: _Signals,
    redactor: _Redactor,
) -> bool:
    """Store each batch of ``items`` (one stream's, and those it ``carried``), keeping
    ``tallies``, ``counts`` and ``notices`` up to date after each; whether a signal stopped
    it after a batch stored. Each item comes with its rows staged already, or ``None``."""
    for item, staged in items:
        batch = redactor.batch(_checked(item, stream, connector, carried))
        if isinstance(batch, ColumnBatch) and staged is not None:
            assert isinstance(store, _StagesColumns)
            done = store.write_columns(source, batch, run_id=run_id, seen_at=seen_at, staged=staged)
        elif isinstance(batch, ColumnBatch) and isinstance(store, ColumnWriter):
            done = store.write_columns(source, batch, run_id=run_id, seen_at=seen_at)
        else:
            rows = batch.to_batch() if isinstance(batch, ColumnBatch) else batch
            done = store.write_batch(source, rows, run_id=run_id, seen_at=seen_at)
        tally = tallies[batch.stream]
        tallies[batch.stream] = counts[batch.stream.value] = StreamCounts(
            read=tally.read + done.read,
            stored=tally.stored + done.stored,
            unchanged=tally.unchanged + done.unchanged,
            rejected=tally.rejected + done.rejected,
            deleted=tally.deleted + done.deleted,
            batches=tally.batches + 1,
        )
        if batch.notices:
            # Redacted with the batch.
            notices.setdefault(batch.stream.value, []).extend(batch.notices)
        if progress is not None:
            progress(source, batch.stream.value, done.read)
            activity = getattr(progress, "activity", None)
            said = connector.activity() if callable(activity) else None
            if said is not None and callable(activity):
                activity(source, said)
        if stop.requested() and batch.stream is stream:
            return True  # the batch and its cursor are stored: stop here
    return False
