"""Progress of a long command: a bar on a terminal, plain lines on stderr in a pipe.

Private to :mod:`slacore_connectors.cli`.
"""

from __future__ import annotations

import sys
from typing import Any

import click


class Progress:
    """A progress bar on a terminal; plain log lines on stderr in a pipe, one a batch that
    holds records (a batch of none, a window without changes, says nothing there: the sync's
    summary tells each stream's counts).

    When stderr's reader goes away (``slacore sync 2>&1 | head -1``) the lines stop and the
    work goes on: progress is never a reason to fail a stream.
    """

    def __init__(self) -> None:
        self.bar: Any = None
        self.closed = False
        self.tasks: dict[tuple[str, str], Any] = {}
        if sys.stderr.isatty():
            from rich.progress import Progress, SpinnerColumn, TextColumn

            self.bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn("{task.completed:,} records"),
                transient=True,
            )

    def __enter__(self) -> Progress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def __call__(self, source: str, stream: str, records: int) -> None:
        if self.bar is None:
            if records and not self.closed:
                try:
                    click.echo(f"{source}: {stream}: +{records:,} records", err=True)
                except BrokenPipeError:
                    self.closed = True
            return
        key = (source, stream)
        if key not in self.tasks:
            self.tasks[key] = self.bar.add_task(f"{source} {stream}", total=None)
        self.bar.update(self.tasks[key], advance=records)

    def activity(self, source: str, text: str) -> None:
        """Show what a source's connector did so far (its API calls), on a terminal only: in
        a pipe, the sync's notices tell it once per stream."""
        if self.bar is None:
            return
        for (name, stream), task in self.tasks.items():
            if name == source:
                self.bar.update(task, description=f"{source} {stream} ({text})")
