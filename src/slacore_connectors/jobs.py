"""The job file: the store, the agreement and the sources a sync job reads.

:meth:`JobConfig.load` reads a job file (TOML, ``slacore.toml`` by default; the format is in
:mod:`slacore_connectors.sync`), reporting every problem at once, each with its key path,
line and, for a misspelt key, the nearest known one. Secrets come from the environment
(``{ env = "NAME" }``), never the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

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
from slacore.connector import Setting, SettingKind, Stream
from slacore.errors import ConfigError, SlacoreError, ValidationError
from slacore_connectors.store import StoreError, store_path

__all__ = ["JobConfig", "SourceConfig"]

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
    def load(
        cls, path: str | Path, *, environ: Mapping[str, str] | None = None, secrets: bool = True
    ) -> JobConfig:
        """Read and check a job file.

        Args:
            path: The job file.
            environ: Where ``{ env = "NAME" }`` settings are read (default: the process's
                environment).
            secrets: Whether the sources' settings from the environment are read. A command
                that reads no source (``slacore report``, ``forget``) passes ``False``: the
                variables need not be set, and those settings are ``None``.

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
        return cls._read(
            data, base=file.parent, environ=environ, path=file, lines=lines, secrets=secrets
        )

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
        return cls._read(data, base=base, environ=environ, path=path, lines=None, secrets=True)

    @classmethod
    def _read(
        cls,
        data: Mapping[str, Any],
        *,
        base: Path | None,
        environ: Mapping[str, str] | None,
        path: Path | None,
        lines: KeyLines | None,
        secrets: bool,
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
            source = _read_source(table, env if secrets else None)
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


def _read_source(table: Table, env: Mapping[str, str] | None) -> SourceConfig | None:
    """One ``[[sources]]`` table, or ``None`` with its problems recorded; ``env`` None: the
    settings from the environment are left ``None``, unread."""
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


def _resolve(value: Any, where: KeyPath, env: Mapping[str, str] | None, problems: Problems) -> Any:
    """Secrets from the environment (``{env = "NAME"}``); ``env`` None: not read (``None``)."""
    if isinstance(value, Mapping):
        if set(value) == {"env"}:
            name = value["env"]
            if not isinstance(name, str) or (env is not None and name not in env):
                problems.add(where, f"environment variable {name!r} is not set")
                return None
            return None if env is None else env[name]
        return {key: _resolve(item, (*where, key), env, problems) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, (*where, i), env, problems) for i, item in enumerate(value)]
    return value
