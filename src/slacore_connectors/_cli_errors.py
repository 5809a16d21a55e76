"""Errors and exit statuses of the ``slacore`` command line: each error ends as one line on
stderr and its exit status; ``--debug`` shows the traceback; a closed stdout exits 141.

Private to :mod:`slacore_connectors.cli`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

import slacore
from slacore.errors import SlacoreError

__all__ = ["SlacoreGroup", "one_line", "run", "set_debug"]


class _ClosedPipeError(Exception):
    """The reader of stdout went away (``slacore report | head -1``): end quietly, exit 141."""


class SlacoreGroup(click.Group):
    """The ``slacore`` group: a write to a closed stdout ends the command as
    :func:`slacore_connectors.cli.main` documents (exit 141), wherever it happens, the group's
    own ``--help`` included."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except BrokenPipeError:
            raise _ClosedPipeError from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise _ClosedPipeError from None


class _Run:
    """What :func:`slacore_connectors.cli.main` needs to know of the command line it runs."""

    debug = False
    """Show the traceback of an error: ``--debug`` or ``SLACORE_DEBUG=1``."""


def set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        _Run.debug = True


def run(group: click.Group, argv: Sequence[str] | None = None) -> NoReturn:
    """Run ``group`` on ``argv`` (default: the script's arguments) and exit with its status,
    as :func:`slacore_connectors.cli.main` documents."""
    args = list(sys.argv[1:] if argv is None else argv)
    _Run.debug = os.environ.get("SLACORE_DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}
    try:
        _run(group, args)
    except (_ClosedPipeError, BrokenPipeError):
        _drop_output()
        raise SystemExit(CLOSED_PIPE) from None


def _run(group: click.Group, args: list[str]) -> NoReturn:
    """Run the command line on ``args``; each error ends as one line and its exit status."""
    prog = "slacore"
    try:
        group.main(args=args, prog_name=prog, standalone_mode=False)
        sys.stdout.flush()
    except (_ClosedPipeError, BrokenPipeError):
        raise  # run() ends it: exit 141
    except click.exceptions.Exit as done:
        raise SystemExit(done.exit_code) from None
    except click.exceptions.Abort:
        sys.stderr.write("slacore: aborted\n")
        raise SystemExit(130) from None
    except click.exceptions.NoArgsIsHelpError as error:
        # `slacore` alone: the help as --help lays it out, on stderr, as bad usage.
        sys.stderr.write(error.format_message().rstrip("\n") + "\n")
        raise SystemExit(error.exit_code) from None
    except click.ClickException as error:
        sys.stderr.write(f"{prog}: error: {one_line(error.format_message())}\n")
        raise SystemExit(error.exit_code) from None
    except SlacoreError as error:
        _traceback(error)
        sys.stderr.write(f"{prog}: error: {one_line(str(error))}\n")
        raise SystemExit(1) from None
    except OSError as error:
        # A file that cannot be read or written, met where no command expected it.
        _traceback(error)
        sys.stderr.write(f"{prog}: error: {one_line(str(error))}\n")
        raise SystemExit(1) from None
    except Exception as error:
        # Not one of slacore's documented errors: a bug. --debug shows where.
        if _Run.debug:
            raise
        sys.stderr.write(
            f"{prog}: error: a bug in slacore {slacore.__version__}: "
            f"{type(error).__name__}: {one_line(str(error))}; run the command again with "
            f"{prog} --debug (or SLACORE_DEBUG=1) to see the traceback, and report it "
            f"with that: {ISSUES}\n"
        )
        raise SystemExit(1) from None
    raise SystemExit(0)


ISSUES = "https://github.com/slacore/slacore/issues"
"""Where a bug is reported."""


def _traceback(error: BaseException) -> None:
    """With ``--debug``, the traceback of ``error`` on stderr (before its one line)."""
    if _Run.debug:
        import traceback

        traceback.print_exception(error, file=sys.stderr)


CLOSED_PIPE = 141
"""The exit status when stdout's reader went away (128 + SIGPIPE, as the shell shows a
command that SIGPIPE ended: ``yes | head -1``)."""


def _drop_output() -> None:
    """Point stdout and stderr at the null device, so what is still buffered for a closed
    pipe is dropped quietly at exit instead of raising again (Python's advice for SIGPIPE)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            # No real file behind it (a test harness's): nothing will be flushed to a pipe.
            pass


def one_line(message: str) -> str:
    return " ".join(message.split())
