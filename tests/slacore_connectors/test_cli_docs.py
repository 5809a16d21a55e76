"""The guides say what the command line and the store do: the csv guide's job file syncs as
written, its table of natural keys is the model's, and time zones work without a system time
zone database (``tzdata`` is a dependency of the core)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from slacore.model import Deal, Handoff, Lead, OwnerChange, Rep, StageChange, Touch

ROOT = Path(__file__).resolve().parents[2]
CSV_GUIDE = ROOT / "docs" / "guide" / "csv.md"
TOML = re.compile(r"^```toml\n(.*?)^```", re.MULTILINE | re.DOTALL)


def slacore(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slacore_connectors", *args],
        capture_output=True, text=True, timeout=120, check=False, cwd=cwd, env=env,
    )  # fmt: skip


def test_the_csv_guides_job_file_syncs_as_written(tmp_path: Path) -> None:
    (job,) = [b for b in TOML.findall(CSV_GUIDE.read_text("utf-8")) if "[[sources]]" in b]
    (tmp_path / "slacore.toml").write_text(job, encoding="utf-8")
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "Leads 2026.csv").write_text(
        "Lead ID;Create Date;Lifecycle Stage\n"
        "L-1;05.01.2026 09:30;Marketing Qualified Lead\n"
        "L-2;2026-01-05T10:00:00Z;sql\n",
        encoding="utf-8",
    )
    done = slacore("sync", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    (source,) = json.loads(done.stdout)["sources"]
    assert source["name"] == "crm"
    assert source["status"] == "success"
    assert source["streams"]["leads"]["stored"] == 2
    assert source["streams"]["leads"]["rejected"] == 0


def test_the_csv_guides_table_of_natural_keys_is_the_models() -> None:
    text = CSV_GUIDE.read_text("utf-8")
    section = text.split("## Matching records on a re-read\n", 1)[1].split("\n## ", 1)[0]
    documented: dict[str, tuple[str, ...]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) != 2 or not cells[0].startswith("`"):
            continue
        keys = tuple(key.strip("` ") for key in cells[1].split(","))
        for stream in cells[0].split(","):
            documented[stream.strip("` ")] = keys
    model = {
        "leads": Lead, "deals": Deal, "reps": Rep, "stage_changes": StageChange,
        "handoffs": Handoff, "touches": Touch, "owner_changes": OwnerChange,
    }  # fmt: skip
    assert documented == {stream: kind.KEY_FIELDS for stream, kind in model.items()}


def test_tzdata_is_a_dependency_of_the_core() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert any(re.match(r"tzdata\b", requirement) for requirement in project["dependencies"])


def test_time_zones_work_without_a_system_time_zone_database(tmp_path: Path) -> None:
    # As on Windows or a slim container image: zoneinfo finds no zone files on the system
    # (an empty PYTHONTZPATH) and reads the tzdata package's.
    env = {**os.environ, "PYTHONTZPATH": ""}
    agreement = str(ROOT / "examples" / "company_a.toml")
    done = slacore("check", agreement, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{agreement}: valid: ")
