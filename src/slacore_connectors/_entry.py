"""The ``slacore`` script's entry point: a clear message when the CLI extra is missing."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import NoReturn


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run the ``slacore`` command line (see :mod:`slacore_connectors.cli`)."""
    try:
        from slacore_connectors.cli import main as run
    except ModuleNotFoundError as error:
        if error.name not in ("click", "rich"):
            raise
        sys.stderr.write(
            f"slacore: error: the command line needs {error.name}: pip install 'slacore[cli]'\n"
        )
        raise SystemExit(1) from None
    run(argv)
