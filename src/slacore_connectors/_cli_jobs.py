"""The job file of ``slacore sync``, ``forget`` and ``report``: loaded, and its sources'
setting names checked, each problem a usage error (exit 2).

Private to :mod:`slacore_connectors.cli`.
"""

from __future__ import annotations

from typing import Any, NoReturn

import click

from slacore.errors import ConfigError, SlacoreError, ValidationError

__all__ = ["bad_job_file", "check_setting_names", "load_job"]


def load_job(config_path: str, *, secrets: bool = True) -> Any:
    """The job file, or a usage error (exit 2) naming the problem; ``secrets=False`` for a
    command that reads no source (its settings from the environment are not read)."""
    from slacore_connectors.sync import JobConfig

    try:
        return JobConfig.load(config_path, secrets=secrets)
    except ValidationError as error:
        bad_job_file(error)


def bad_job_file(error: ValidationError) -> NoReturn:
    """A job file's problem, or every problem at once, one a line, as `slacore check` shows an
    agreement's; bad input, exit 2."""
    if isinstance(error, ConfigError):
        click.echo(f"slacore: error: bad job file: {error.message}", err=True)
        for problem in error.errors:
            click.echo(str(problem), err=True)
        raise SystemExit(2)
    raise click.UsageError(f"bad job file: {error}")


def check_setting_names(config: Any) -> None:
    """Each source's setting names against its connector's: a misspelt one is a bad job file
    (exit 2), with the nearest known name suggested, before anything is read; so is a secret
    written in the file instead of read from the environment. Other values are checked by the
    sync (a source whose connector is not installed fails there, alone)."""
    from slacore._config import suggest
    from slacore.connector import get_connector

    problems: list[ValidationError] = []
    for index, source in enumerate(config.sources):
        try:
            schema = get_connector(source.connector).settings_schema
        except SlacoreError:
            continue
        known = {setting.name for setting in schema}
        try:
            config.connector_settings(index, schema)
        except ConfigError as error:
            problems.extend(error.errors)
        except ValidationError as error:
            problems.append(error)
        for key in source.settings:
            if key not in known:
                listed = ", ".join(sorted(known)) or "none"
                # The value is left out: the key may be a misspelt secret.
                message = (
                    f"unknown setting {key!r} of connector {source.connector} (known: {listed})"
                    + suggest(key, known)
                )
                problems.append(config.locate(index, ValidationError(message=message, field=key)))
    if len(problems) == 1:
        bad_job_file(problems[0])
    if problems:
        bad_job_file(
            ConfigError(
                message=f"{len(problems)} problems in the job file {config.path}",
                file=None if config.path is None else str(config.path),
                errors=tuple(sorted(problems, key=lambda e: e.line or 0)),
            )
        )
