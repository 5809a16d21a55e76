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
still run and keep their progress. The store's sync lock stops two syncs on one store at once.

The same job runs from the command line (``slacore sync``) or from any scheduler (cron,
Airflow, Dagster) through :func:`run_sync`.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pluggy

from slacore.connector import Stream, create_connector
from slacore.errors import SlacoreError, ValidationError
from slacore.render import json_dict, markdown_table
from slacore_connectors.store import StoreError, SyncLockedError, open_store, store_path

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
_PATH_SETTINGS = ("folder", "path", "directory")
"""Connector settings holding a path: relative ones are resolved against the job file."""


@attrs.frozen(kw_only=True)
class SourceConfig:
    """One source of a job.

    Attributes:
        name: The source's name in the store (unique in the job).
        connector: The registered connector name.
        settings: The connector's settings, secrets resolved from the environment.
        streams: The streams to read, or ``None`` for every stream the connector offers.

    """

    name: str
    connector: str
    settings: Mapping[str, Any] = attrs.field(repr=False)
    streams: tuple[Stream, ...] | None = None


@attrs.frozen(kw_only=True)
class JobConfig:
    """A sync job: the store, the agreement and the sources.

    Attributes:
        path: The job file it was loaded from, if any.
        store: The store's file (the job file's ``store``: a path or a ``sqlite:///`` URL,
            relative to the job file).
        agreement: The agreement file, if any.
        sources: The sources, in order.

    """

    store: Path
    sources: tuple[SourceConfig, ...]
    agreement: Path | None = None
    path: Path | None = None

    @classmethod
    def load(cls, path: str | Path, *, environ: Mapping[str, str] | None = None) -> JobConfig:
        """Read and check a job file.

        Raises:
            ValidationError: The file is missing or not TOML, a key is missing or unknown, a
                secret's environment variable is not set. The error names the file and key.

        """
        file = Path(path)
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValidationError(
                message="no such job file (create one, or pass --config)", file=str(file)
            ) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ValidationError(
                message=f"not a valid TOML file: {error}", file=str(file)
            ) from None
        try:
            return cls.from_dict(data, base=file.parent, environ=environ, path=file)
        except ValidationError as error:
            raise error.at(file=str(file)) from None

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
            ValidationError: As :meth:`load`.

        """
        env = os.environ if environ is None else environ
        root = base or Path.cwd()
        _known(data, ("store", "agreement", "sources"), "")
        store = data.get("store", "slacore.db")
        if not isinstance(store, str) or not store:
            raise ValidationError(message=f"expected a file name, got {store!r}", field="store")
        try:
            location = store_path(store)
        except StoreError as error:
            raise ValidationError(message=error.message, field="store") from None
        agreement = data.get("agreement")
        if agreement is not None and not isinstance(agreement, str):
            raise ValidationError(
                message=f"expected a file name, got {agreement!r}", field="agreement"
            )
        raw_sources = data.get("sources")
        if not isinstance(raw_sources, list) or not raw_sources:
            raise ValidationError(
                message="expected at least one [[sources]] table", field="sources"
            )
        sources: list[SourceConfig] = []
        for index, item in enumerate(raw_sources):
            where = f"sources[{index}]"
            if not isinstance(item, Mapping):
                raise ValidationError(message="expected a table", field=where)
            _known(item, ("name", "connector", "settings", "streams"), where)
            connector = item.get("connector")
            if not isinstance(connector, str) or not connector:
                raise ValidationError(
                    message='expected a connector name such as "csv"', field=f"{where}.connector"
                )
            name = item.get("name", connector)
            if not isinstance(name, str) or not name:
                raise ValidationError(message="expected a name", field=f"{where}.name")
            if any(s.name == name for s in sources):
                raise ValidationError(
                    message=f"two sources are named {name!r}; give each a unique name",
                    field=f"{where}.name",
                )
            settings = _resolve(item.get("settings", {}), f"{where}.settings", env, root)
            streams = item.get("streams")
            parsed: tuple[Stream, ...] | None = None
            if streams is not None:
                if not isinstance(streams, list):
                    raise ValidationError(
                        message="expected a list of stream names", field=f"{where}.streams"
                    )
                try:
                    parsed = tuple(Stream.parse(s) for s in streams)
                except SlacoreError as error:
                    raise ValidationError(message=str(error), field=f"{where}.streams") from None
            sources.append(
                SourceConfig(name=name, connector=connector, settings=settings, streams=parsed)
            )
        return cls(
            store=(root / location).resolve(),
            agreement=None if agreement is None else (root / agreement).resolve(),
            sources=tuple(sources),
            path=path,
        )


def _known(data: Mapping[str, Any], keys: tuple[str, ...], where: str) -> None:
    for key in data:
        if key not in keys:
            close = difflib.get_close_matches(key, keys, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            field = f"{where}.{key}" if where else key
            raise ValidationError(message=f"unknown key{hint}", field=field)


def _resolve(value: Any, where: str, env: Mapping[str, str], root: Path) -> Any:
    """Secrets from the environment (``{env = "NAME"}``), relative paths from the job file."""
    if isinstance(value, Mapping):
        if set(value) == {"env"}:
            name = value["env"]
            if not isinstance(name, str) or name not in env:
                raise ValidationError(
                    message=f"environment variable {name!r} is not set", field=where
                )
            return env[name]
        resolved = {}
        for key, item in value.items():
            child = _resolve(item, f"{where}.{key}", env, root)
            if key in _PATH_SETTINGS and isinstance(child, str) and not Path(child).is_absolute():
                child = str((root / child).resolve())
            resolved[key] = child
        return resolved
    if isinstance(value, list):
        return [_resolve(item, f"{where}[{i}]", env, root) for i, item in enumerate(value)]
    return value


@attrs.frozen(kw_only=True)
class StreamCounts:
    """What a sync did for one stream: records read, stored (new or changed), unchanged and
    rejected, and the batches stored."""

    read: int = 0
    stored: int = 0
    unchanged: int = 0
    rejected: int = 0
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
        status: ``success`` or ``failed``.
        streams: Counts per stream read.
        error: Why it failed, in one line.
        run_id: The store's id of this run.

    """

    name: str
    connector: str
    status: str
    streams: Mapping[str, StreamCounts]
    error: str | None = None
    run_id: int | None = None


@attrs.frozen(kw_only=True)
class SyncReport:
    """The outcome of a sync job.

    Attributes:
        store: The store file.
        started_at: When the job started (UTC); also the "seen" time of what it stored.
        finished_at: When it ended.
        full: Whether it read from scratch.
        sources: One result per source.

    """

    store: Path
    started_at: datetime
    finished_at: datetime
    full: bool
    sources: tuple[SourceResult, ...]

    @property
    def ok(self) -> bool:
        """Whether every source succeeded."""
        return all(s.status == "success" for s in self.sources)

    @property
    def exit_code(self) -> int:
        """0 when every source succeeded, 1 when one failed."""
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, Any]:
        """The report, JSON-ready."""
        return json_dict(
            {
                "store": str(self.store),
                "started_at": self.started_at,
                "finished_at": self.finished_at,
                "full": self.full,
                "ok": self.ok,
                "sources": [
                    {
                        "name": s.name,
                        "connector": s.connector,
                        "status": s.status,
                        "error": s.error,
                        "run_id": s.run_id,
                        "streams": {k: v.to_dict() for k, v in s.streams.items()},
                    }
                    for s in self.sources
                ],
            }
        )

    def to_text(self) -> str:
        """A table per source: stream, read, stored, unchanged, rejected."""
        parts: list[str] = []
        for source in self.sources:
            head = f"{source.name} ({source.connector}): {source.status}"
            if source.error:
                head += f": {source.error}"
            rows = [
                [stream, c.read, c.stored, c.unchanged, c.rejected]
                for stream, c in source.streams.items()
            ]
            table = markdown_table(["stream", "read", "stored", "unchanged", "rejected"], rows)
            parts.append(f"{head}\n\n{table}" if rows else head)
        took = (self.finished_at - self.started_at).total_seconds()
        parts.append(f"Store: {self.store} ({took:.1f} s)")
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

    Returns:
        A :class:`SyncReport`; a failed source is reported there, not raised.

    Raises:
        SyncLockedError: Another sync holds the store; nothing was read or written.
        StoreError: The store cannot be opened.

    """
    clock = now or (lambda: datetime.now(UTC))
    with open_store(config.store, locked=True) as store:
        started = clock()
        results: list[SourceResult] = []
        for source in config.sources:
            run_id = store.start_run(source.name, full=full, at=started)
            counts: dict[str, StreamCounts] = {}
            failure: str | None = None
            try:
                connector = create_connector(
                    source.connector, source.settings, plugin_manager=plugin_manager
                )
                streams = source.streams or connector.available_streams()
                for stream in streams:
                    cursor = None if full else store.cursor(source.name, stream)
                    tally = StreamCounts()
                    for batch in connector.read(stream, cursor):
                        done = store.write_batch(source.name, batch, run_id=run_id, seen_at=started)
                        tally = StreamCounts(
                            read=tally.read + done.read,
                            stored=tally.stored + done.stored,
                            unchanged=tally.unchanged + done.unchanged,
                            rejected=tally.rejected + done.rejected,
                            batches=tally.batches + 1,
                        )
                        counts[stream.value] = tally
                        if progress is not None:
                            progress(source.name, stream.value, done.read)
                    counts[stream.value] = tally
            except (SlacoreError, OSError) as error:
                failure = " ".join(str(error).split())
            status = "success" if failure is None else "failed"
            store.finish_run(
                run_id,
                status=status,
                counts={k: v.to_dict() for k, v in counts.items()},
                error=failure,
                at=clock(),
            )
            results.append(
                SourceResult(
                    name=source.name,
                    connector=source.connector,
                    status=status,
                    streams=counts,
                    error=failure,
                    run_id=run_id,
                )
            )
        return SyncReport(
            store=config.store,
            started_at=started,
            finished_at=clock(),
            full=full,
            sources=tuple(results),
        )
