"""A lead source the agreement gives no value does not stop the report (run for real)."""

from __future__ import annotations

import json
import shutil
from importlib.resources import as_file, files
from pathlib import Path

from tests.cli import slacore

JOB = """
store = "slacore.db"
agreement = "company_a.toml"

[[sources]]
name = "crm"
connector = "csv"

[sources.settings]
path = "data"
stages = ["subscriber", "lead", "mql", "sal", "sql", "opportunity", "customer", "disqualified"]
"""

# Two June hand-offs from a source Company A's agreement gives no lead value.
PARTNER_ROWS = (
    "L01351,2020-06-09T10:00:00-04:00,mql,R04,marketing,sales,partner,enterprise director,true\n"
    "L01352,2020-06-10T10:00:00-04:00,mql,R03,marketing,sales,partner,enterprise director,true\n"
)


def test_a_source_without_a_lead_value_is_reported_not_fatal(tmp_path: Path) -> None:
    with as_file(files("slacore_connectors") / "demo") as bundled:
        shutil.copytree(bundled, tmp_path, dirs_exist_ok=True)
    (tmp_path / "slacore.toml").write_text(JOB, encoding="utf-8")
    with (tmp_path / "data" / "handoffs.csv").open("a", encoding="utf-8") as handoffs:
        handoffs.write(PARTNER_ROWS)
    synced = slacore("sync", cwd=tmp_path)
    assert synced.returncode == 0, synced.stderr

    done = slacore("report", "--period", "2020-06", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    pacing = json.loads(done.stdout)["pacing"]
    assert pacing["unvalued"] == [{"by": "source", "key": "partner", "leads": 2}]
    assert pacing["unvalued_leads"] == 2
    (warning,) = pacing["warnings"]
    assert warning.startswith("2 leads from source 'partner' have no lead value")

    text = slacore("report", "--period", "2020-06", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert warning in text.stdout
