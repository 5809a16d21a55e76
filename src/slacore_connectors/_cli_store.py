"""The ``slacore`` commands that work on a store: ``sync``, ``forget`` and ``store migrate``.

Private to :mod:`slacore_connectors.cli`, which adds them to the ``slacore`` group.
"""

from __future__ import annotations

import json
from typing import Any

import click

from slacore_connectors._cli_errors import one_line
from slacore_connectors._cli_jobs import check_setting_names, load_job
from slacore_connectors._cli_params import CONFIG
from slacore_connectors._progress import Progress

__all__ = ["forget_command", "store_group", "sync_command"]


@click.command("sync")
@CONFIG
@click.option("--full", is_flag=True, help="Read every stream from the start.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def sync_command(config_path: str, full: bool, as_json: bool) -> None:
    """Pull what changed from every source into the store.

    \b
    Exits 0 on success, 1 when a source failed (the others still run and keep their
    progress), 2 for a bad job file (a misspelt setting too); Ctrl-C or SIGTERM stop it
    after the batch being stored (exit 130 or 143) and the next sync resumes from there:
      slacore sync --config slacore.toml
      slacore sync --full --json
    """
    from slacore_connectors.sync import run_sync

    config = load_job(config_path)
    check_setting_names(config)
    with Progress() as progress:
        report = run_sync(config, full=full, progress=progress, stop_on_signals=True)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        click.echo(report.to_text())
    # The summary on stdout is the sync's figures; what failed is an error too, on stderr.
    for line in _sync_errors(report):
        click.echo(f"slacore: error: {one_line(line)}", err=True)
    stopped = report.stop_line()
    if stopped is not None:
        click.echo(f"slacore: {stopped}", err=True)
    raise SystemExit(report.exit_code)


def _sync_errors(report: Any) -> list[str]:
    """What failed in a sync, one line each: the streams of a source refused for one reason
    (a vendor's token refused or its daily limit used up refuses every stream after it: one
    line, naming them all), or a source that failed as a whole (its connector missing, its
    settings refused, its store error)."""
    lines: list[str] = []
    for source in report.sources:
        if source.status != "failed":
            continue
        if source.refused:
            streams_by_reason: dict[str, list[str]] = {}
            for stream, why in source.refused.items():
                streams_by_reason.setdefault(why, []).append(stream)
            lines += [
                f"{source.name}: {', '.join(streams)}: refused: {why}"
                for why, streams in streams_by_reason.items()
            ]
        else:
            lines.append(f"{source.name}: {source.error}")
    return lines


@click.command("forget")
@CONFIG
@click.argument("source")
def forget_command(config_path: str, source: str) -> None:
    """Delete what the store holds of one source, so that its next sync starts afresh.

    \b
    Its records (every version), rejected records, cursors and connector go; its runs
    stay. The way to give a source another connector, or to read it again from nothing:
      slacore forget crm
    """
    from slacore_connectors.store import open_store

    config = load_job(config_path, secrets=False)
    with open_store(config.store, locked=True) as store:
        deleted = store.forget_source(source)
    if not deleted:
        raise click.ClickException(f"the store holds nothing of source {source!r}")
    click.echo(f"forgot source {source}: {deleted:,} rows deleted from {config.store}")


@click.group("store")
def store_group() -> None:
    """Work on a store file itself."""


@store_group.command("migrate")
@click.argument("source", metavar="SRC")
@click.argument("target", metavar="DST")
def store_migrate_command(source: str, target: str) -> None:
    """Copy the store SRC into a new store DST, of the engine DST's name chooses.

    \b
    Every version of every record, the runs, cursors, rejected records, sources and kept
    period results are copied; SRC is only read, under its sync lock (a sync running on it
    makes the copy exit 1 at once, and a sync started during the copy is refused). DST must
    not exist. A name ending .duckdb (or a duckdb:/// URL) makes a DuckDB store, any other an
    SQLite store:
      slacore store migrate slacore.db slacore.duckdb
    Then point the job file's store at the copy.
    """
    from slacore_connectors.store import copy_store, store_engine

    copied = copy_store(source, target)
    click.echo(
        f"copied {source} into {target} ({store_engine(target)}): "
        f"{sum(copied.values()):,} rows in {len(copied)} tables"
    )
