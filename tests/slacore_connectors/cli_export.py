"""A CSV export of leads and its job file on disk, and ``slacore sync`` run on it in a real
process: what the tests that stop a sync (a signal, a kill) and resume it start from."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path


def write_leads_export(
    folder: Path, header: str, rows: Iterable[str], *, store: str, batch_size: int
) -> None:
    """``folder/data/leads.csv`` (``header``, then ``rows``, one line each) and
    ``folder/slacore.toml``: one ``csv`` source ``crm`` reading it into ``store``."""
    data = folder / "data"
    data.mkdir(parents=True)
    with (data / "leads.csv").open("w") as file:
        file.write(f"{header}\n")
        file.writelines(f"{row}\n" for row in rows)
    (folder / "slacore.toml").write_text(
        f'store = "{store}"\n[[sources]]\nname = "crm"\nconnector = "csv"\n'
        f'settings = {{ path = "data", batch_size = {batch_size} }}\n'
    )


def sync(folder: Path) -> subprocess.CompletedProcess[str]:
    """``slacore sync`` in ``folder``, to its end (at most five minutes)."""
    return subprocess.run(
        [sys.executable, "-m", "slacore_connectors", "sync"],
        capture_output=True, text=True, timeout=300, check=False, cwd=folder,
    )  # fmt: skip
