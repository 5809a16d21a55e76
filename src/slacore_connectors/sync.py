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
import os
import re
import signal
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pluggy

from slacore._config import (
    MISSING,
    Problems,
    Table,
    choices,
    default_of,
    key_path,
    read_toml,
    shown,
    suggest,
)
from slacore._toml_lines import KeyLines, KeyPath
from slacore.connector import (
    Batch,
    Connector,
    RejectedRecord,
    Secret,
    Setting,
    SettingKind,
    Stream,
    get_connector,
)
from slacore.errors import ConfigError, SlacoreError, ValidationError
from slacore.render import json_dict, markdown_table
from slacore_connectors.store import Store, StoreError, SyncLockedError, open_store, store_path

__all__ = [
    "JobConfig",
    "SourceConfig",
    "SourceResult",
    "StreamCounts",
    "SyncLockedError",
    "SyncReport",
    "run_sync",
]

DEFAULT_CONFIG = "slacore.toml"


@attrs.frozen(kw_only=True)
class SourceConfig:
    """One source of a job.

    Attributes:
        name: The source's name in the store (unique in the job).
        connector: The registered connector name.
        settings: The connector's settings as the job file gives them, secrets resolved
            from the environment (paths are resolved from the job file's folder when the
            connector is built: :meth:`JobConfig.connector_settings`).
        streams: The streams to read, or ``None`` for every stream the connector offers.
        from_environment: The settings given as ``{ env = "NAME" }``.

    """

    name: str
    connector: str
    settings: Mapping[str, Any] = attrs.field(repr=False)
    streams: tuple[Stream, ...] | None = None
    from_environment: frozenset[str] = frozenset()


@attrs.frozen(kw_only=True)
class JobConfig:
    """A sync job: the store, the agreement and the sources.

    Read with :meth:`load`, which reports every problem of the file at once, each with its key
    path, line and, for a misspelt key, the nearest known one.

    Attributes:
        path: The job file it was loaded from, if any.
        store: The store's file (the job file's ``store``: a path or a ``sqlite:///`` URL,
            relative to the job file; default ``slacore.db``).
        agreement: The agreement file, if any.
        sources: The sources, in order.
        base: The folder relative paths are read from: the job file's (or the ``base`` given
            to :meth:`from_dict`, else the working directory when it was read).

    """

    sources: tuple[SourceConfig, ...]
    store: Path = Path("slacore.db")
    agreement: Path | None = None
    path: Path | None = None
    base: Path | None = None
    _lines: KeyLines | None = attrs.field(default=None, eq=False, repr=False, alias="lines")

    @classmethod
    def load(cls, path: str | Path, *, environ: Mapping[str, str] | None = None) -> JobConfig:
        """Read and check a job file.

        Raises:
            ValidationError: The file is missing or not TOML, a key is missing, unknown or of
                the wrong kind, a secret's environment variable is not set. The error names the
                file, line and key; a :class:`~slacore.errors.ConfigError` lists every problem
                when there are several.

        """
        file = Path(path)
        if not file.is_file():
            raise ValidationError(
                message="no such job file (create one, or pass --config)", file=str(file)
            )
        data, lines = read_toml(file)
        return cls._read(data, base=file.parent, environ=environ, path=file, lines=lines)

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        base: Path | None = None,
        environ: Mapping[str, str] | None = None,
        path: Path | None = None,
    ) -> JobConfig:
        """Build a job from parsed TOML; relative paths are resolved against ``base``.

        Raises:
            ValidationError: As :meth:`load`, without lines.

        """
        return cls._read(data, base=base, environ=environ, path=path, lines=None)

    @classmethod
    def _read(
        cls,
        data: Mapping[str, Any],
        *,
        base: Path | None,
        environ: Mapping[str, str] | None,
        path: Path | None,
        lines: KeyLines | None,
    ) -> JobConfig:
        env = os.environ if environ is None else environ
        root = base or Path.cwd()
        problems = Problems()
        top = Table(data, (), problems)
        store = top.text("store", default=str(default_of(cls, "store")))
        location: Path | None = None
        if not store:
            top.problem("store", "expected a file name or a sqlite:/// URL, got ''", store)
        else:
            try:
                location = store_path(store)
            except StoreError as error:
                top.problem("store", error.message)
        agreement = top.text("agreement") or None
        sources: list[SourceConfig] = []
        given = top.raw("sources")
        if given is MISSING or given == []:
            top.problem("sources", "expected at least one [[sources]] table")
        tables = top.tables("sources")
        for table in tables:
            source = _read_source(table, env)
            if source is None:
                continue
            if any(s.name == source.name for s in sources):
                table.problem(
                    "name", f"two sources are named {source.name!r}; give each a unique name"
                )
                continue
            sources.append(source)
        top.finish()
        problems.raise_any(
            f"the job file {path}" if path else "the job",
            source=None if path is None else str(path),
            lines=lines,
        )
        assert location is not None  # a problem was raised otherwise
        return cls(
            store=(root / location).resolve(),
            agreement=None if agreement is None else (root / agreement).resolve(),
            sources=tuple(sources),
            path=path,
            base=root.resolve(),
            lines=lines,
        )

    def connector_settings(self, index: int, schema: Iterable[Setting]) -> dict[str, Any]:
        """Source ``index``'s settings for a connector declaring ``schema``: every setting of
        kind ``path`` given relative is resolved from :attr:`base` (the job file's folder).

        Raises:
            ValidationError: A secret setting (a token, a password) is written in the job
                file instead of read from the environment; the error names the setting and
                the environment variable to use, never the value, and is located in the job
                file (a :class:`~slacore.errors.ConfigError` when several are). A job built
                with :meth:`from_dict` and no ``path`` may hold secrets itself.

        """
        source = self.sources[index]
        settings = dict(source.settings)
        problems = Problems()
        for setting in schema:
            value = settings.get(setting.name)
            if value is None:
                continue
            in_file = self.path is not None and setting.name not in source.from_environment
            if setting.secret and in_file:
                variable = re.sub(r"[^A-Za-z0-9]+", "_", f"{source.name}_{setting.name}").upper()
                problems.add(
                    (setting.name,),
                    f"setting {setting.name!r} is a secret: keep it out of the job file and "
                    f'give it from the environment: {setting.name} = {{ env = "{variable}" }}, '
                    f"with {variable} set",
                )
            elif setting.kind is SettingKind.PATH and isinstance(value, str | os.PathLike):
                path = Path(value).expanduser()
                if not path.is_absolute() and self.base is not None:
                    settings[setting.name] = str((self.base / path).resolve())
        try:
            problems.raise_any(f"the settings of source {source.name}")
        except ValidationError as error:
            raise self.locate(index, error) from None
        return settings

    def locate(self, index: int, error: ValidationError) -> ValidationError:
        """``error`` from source ``index``'s settings, located in the job file: its key path
        (``sources[0].settings.token``), file and line. Each problem of a
        :class:`~slacore.errors.ConfigError` is located the same way."""

        def one(problem: ValidationError) -> ValidationError:
            below = tuple(problem.field.split(".")) if problem.field else ()
            where: KeyPath = ("sources", index, "settings", *below)
            return attrs.evolve(
                problem,
                field=key_path(where),
                file=None if self.path is None else str(self.path),
                line=None if self._lines is None else self._lines.line(where),
            )

        if isinstance(error, ConfigError):
            return attrs.evolve(
                error,
                file=None if self.path is None else str(self.path),
                errors=tuple(one(e) for e in error.errors),
            )
        return one(error)


def _read_source(table: Table, env: Mapping[str, str]) -> SourceConfig | None:
    """One ``[[sources]]`` table, or ``None`` with its problems recorded."""
    connector = table.text("connector")
    if not connector and not table.has("connector"):
        table.problem("connector", 'missing; expected a connector name such as "csv"')
    name = table.text("name", default=connector)
    settings: dict[str, Any] = {}
    from_environment: frozenset[str] = frozenset()
    raw = table.raw("settings")
    if raw is not MISSING:
        if isinstance(raw, Mapping):
            settings = _resolve(raw, table.at("settings"), env, table.problems)
            from_environment = frozenset(
                key
                for key, value in raw.items()
                if isinstance(value, Mapping) and set(value) == {"env"}
            )
        else:
            table.problem("settings", f"expected a table, got {shown(raw)}", raw)
    streams: tuple[Stream, ...] | None = None
    if table.has("streams"):
        found: list[Stream] = []
        for index, word in enumerate(table.texts("streams")):
            try:
                found.append(Stream.parse(word))
            except SlacoreError as error:
                hint = suggest(word, choices(Stream))
                table.problems.add(table.at("streams", index), error.message + hint, word)
        streams = tuple(found)
    table.finish()
    if not connector or not name:
        return None
    return SourceConfig(
        name=name,
        connector=connector,
        settings=settings,
        streams=streams,
        from_environment=from_environment,
    )


def _resolve(value: Any, where: KeyPath, env: Mapping[str, str], problems: Problems) -> Any:
    """Secrets from the environment (``{env = "NAME"}``)."""
    if isinstance(value, Mapping):
        if set(value) == {"env"}:
            name = value["env"]
            if not isinstance(name, str) or name not in env:
                problems.add(where, f"environment variable {name!r} is not set")
                return None
            return env[name]
        return {key: _resolve(item, (*where, key), env, problems) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, (*where, i), env, problems) for i, item in enumerate(value)]
    return value


@attrs.frozen(kw_only=True)
class StreamCounts:
    """What a sync did for one stream: records read, stored (new or changed), unchanged,
    rejected and deleted (the source's deletions of records the store held:
    :attr:`~slacore_connectors.store.BatchResult.deleted`), and the batches stored."""

    read: int = 0
    stored: int = 0
    unchanged: int = 0
    rejected: int = 0
    deleted: int = 0
    batches: int = 0

    def to_dict(self) -> dict[str, int]:
        """The counts as a mapping."""
        return attrs.asdict(self)


@attrs.frozen(kw_only=True)
class SourceResult:
    """The outcome of one source in a sync.

    Attributes:
        name: The source.
        connector: Its connector.
        status: ``success``; ``failed`` when the source or one of its streams was refused;
            ``partial`` when a signal stopped the sync while it read this source (what was
            stored stays, and the next sync resumes from it).
        streams: Counts per stream read.
        error: Why it failed, in one line (each refused stream's error, after its name).
        run_id: The store's id of this run.
        refused: The streams that could not be read (a file missing or empty, a vendor
            error), each with its error naming the file; the source's other streams were
            still read.
        notices: Per stream, what its read said that is neither a record nor a rejection
            (:attr:`slacore.connector.Batch.notices`: a last line waiting for its newline),
            one line each.

    """

    name: str
    connector: str
    status: str
    streams: Mapping[str, StreamCounts]
    error: str | None = None
    run_id: int | None = None
    refused: Mapping[str, str] = attrs.field(factory=dict)
    notices: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)

    def run_counts(self) -> dict[str, dict[str, Any]]:
        """What the store keeps as the run's counts: per stream its counts and, when its
        read said any, its ``notices``."""
        kept: dict[str, dict[str, Any]] = {k: dict(v.to_dict()) for k, v in self.streams.items()}
        for stream, said in self.notices.items():
            kept.setdefault(stream, {})["notices"] = list(said)
        return kept


@attrs.frozen(kw_only=True)
class SyncReport:
    """The outcome of a sync job.

    Attributes:
        store: The store file.
        started_at: When the job started (UTC); also the "seen" time of what it stored.
        finished_at: When it ended.
        full: Whether it read from scratch.
        sources: One result per source it started (a stopped sync starts no more).
        stopped: The signal that stopped it after a stored batch (``"SIGINT"``, Ctrl-C, or
            ``"SIGTERM"``), or ``None`` when it ran to the end.

    """

    store: Path
    started_at: datetime
    finished_at: datetime
    full: bool
    sources: tuple[SourceResult, ...]
    stopped: str | None = None

    @property
    def ok(self) -> bool:
        """Whether every source succeeded."""
        return all(s.status == "success" for s in self.sources)

    @property
    def exit_code(self) -> int:
        """0 when every source succeeded, 1 when one failed or had a stream refused; 130
        when Ctrl-C (SIGINT) stopped the sync, 143 when SIGTERM did (128 + the signal)."""
        if self.stopped is not None:
            return 128 + _SIGNALS[self.stopped]
        return 0 if self.ok else 1

    @property
    def stored(self) -> int:
        """The records stored (new or changed) over every source and stream."""
        return sum(c.stored for s in self.sources for c in s.streams.values())

    def stop_line(self) -> str | None:
        """One line saying what stopped the sync and how much it stored, or ``None``."""
        if self.stopped is None:
            return None
        read = sum(c.read for s in self.sources for c in s.streams.values())
        return (
            f"stopped by {self.stopped} after a stored batch: {self.stored:,} records stored "
            f"({read:,} read); the next sync resumes from there"
        )

    def to_dict(self) -> dict[str, Any]:
        """The report, JSON-ready."""
        return json_dict(
            {
                "store": str(self.store),
                "started_at": self.started_at,
                "finished_at": self.finished_at,
                "full": self.full,
                "ok": self.ok,
                "stopped": self.stopped,
                "sources": [
                    {
                        "name": s.name,
                        "connector": s.connector,
                        "status": s.status,
                        "error": s.error,
                        "run_id": s.run_id,
                        "streams": {k: v.to_dict() for k, v in s.streams.items()},
                        "refused": dict(s.refused),
                        "notices": {k: list(v) for k, v in s.notices.items()},
                    }
                    for s in self.sources
                ],
            }
        )

    def to_text(self) -> str:
        """A table per source (stream, read, stored, unchanged, rejected, deleted), then a
        line for each refused stream and each notice."""
        parts: list[str] = []
        for source in self.sources:
            head = f"{source.name} ({source.connector}): {source.status}"
            if source.error and not source.refused:
                head += f": {source.error}"
            rows = [
                [stream, c.read, c.stored, c.unchanged, c.rejected, c.deleted]
                for stream, c in source.streams.items()
            ]
            head_row = ["stream", "read", "stored", "unchanged", "rejected", "deleted"]
            table = markdown_table(head_row, rows)
            parts.append(f"{head}\n\n{table}" if rows else head)
            lines = [f"- {stream}: refused: {error}" for stream, error in source.refused.items()]
            lines += [
                f"- {stream}: notice: {notice}"
                for stream, said in source.notices.items()
                for notice in said
            ]
            if lines:
                parts.append("\n".join(lines))
        took = (self.finished_at - self.started_at).total_seconds()
        parts.append(f"Store: {self.store} ({took:.1f} s)")
        line = self.stop_line()
        if line is not None:
            parts.append(line[0].upper() + line[1:] + ".")
        return "\n\n".join(parts)


Progress = Callable[[str, str, int], None]
"""Called after each stored batch with (source name, stream, records read from the batch).

The count is of records mapped, as in the report's "read" column; rows rejected are counted
in its "rejected" column.
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
                    for stream in streams:
                        if stop.requested():
                            break
                        # A stream refused (its file empty, a vendor error) is named with its
                        # error; the source's other streams are still read.
                        try:
                            _sync_stream(
                                store, connector, source.name, stream, counts, notices,
                                full=full, run_id=run_id, seen_at=started, progress=progress,
                                stop=stop, redactor=redactor,
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
        return SyncReport(
            store=config.store,
            started_at=started,
            finished_at=clock(),
            full=full,
            sources=tuple(results),
            stopped=stop.caught,
        )


_SIGNALS = {"SIGINT": int(signal.SIGINT), "SIGTERM": int(signal.SIGTERM)}


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

    def batch(self, batch: Batch) -> Batch:
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


def _checked(batch: object, stream: Stream, connector: Connector) -> Batch:
    """``batch`` if it is a :class:`Batch` of ``stream`` holding its record type.

    Raises:
        TypeError: A connector's bug: it yielded another object, or a record or rejected
            record of another type.
        ValueError: It yielded a batch of another stream.

    """
    name = connector.name
    if not isinstance(batch, Batch):
        raise TypeError(
            f"connector {name!r} yielded {type(batch).__name__}, not a Batch of {stream}"
        )
    if batch.stream is not stream:
        raise ValueError(f"connector {name!r} yielded a {batch.stream} batch for {stream}")
    kind = stream.record_type
    for number, record in enumerate(batch.records, 1):
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
    full: bool,
    run_id: int,
    seen_at: datetime,
    progress: Progress | None,
    stop: _Signals,
    redactor: _Redactor,
) -> None:
    """Read one stream from its cursor into the store, batch by batch, keeping ``counts``
    and ``notices`` up to date after each stored batch (so a stream that fails half-way keeps
    them)."""
    cursor = None if full else store.cursor(source, stream)
    tally = StreamCounts()
    for item in connector.read(stream, cursor):
        batch = redactor.batch(_checked(item, stream, connector))
        done = store.write_batch(source, batch, run_id=run_id, seen_at=seen_at)
        tally = StreamCounts(
            read=tally.read + done.read,
            stored=tally.stored + done.stored,
            unchanged=tally.unchanged + done.unchanged,
            rejected=tally.rejected + done.rejected,
            deleted=tally.deleted + done.deleted,
            batches=tally.batches + 1,
        )
        counts[stream.value] = tally
        if batch.notices:
            notices.setdefault(stream.value, []).extend(batch.notices)  # redacted with the batch
        if progress is not None:
            progress(source, stream.value, done.read)
        if stop.requested():
            return  # the batch and its cursor are stored: stop here
    counts[stream.value] = tally
