"""How the csv connector reads values: times out of range, amounts, the columns errors name."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from slacore.connector import Record, RejectedRecord
from slacore_connectors.csvfile import CsvConnector

ROOT = Path(__file__).resolve().parents[2]


def slacore(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slacore_connectors", *args],
        capture_output=True, text=True, timeout=120, check=False, cwd=cwd,
    )  # fmt: skip


def read_stream(
    folder: Path, stream: str, text: str, **settings: Any
) -> tuple[list[Record], list[RejectedRecord]]:
    (folder / f"{stream}.csv").write_text(text, encoding="utf-8")
    records: list[Record] = []
    rejected: list[RejectedRecord] = []
    for batch in CsvConnector({"path": str(folder), **settings}).read(stream):
        records.extend(batch.records)
        rejected.extend(batch.rejected)
    return records, rejected


def test_a_time_far_in_the_past_or_future_is_a_rejected_row(tmp_path: Path) -> None:
    records, rejected = read_stream(
        tmp_path,
        "deals",
        "id,amount,opened at,closed at\n"
        "D1,5,0001-01-01T00:00:00+05:00,\n"
        "D2,5,2026-01-05T09:00:00Z,9999-12-31T23:00:00-05:00\n"
        "D3,5,2026-01-05T09:00:00Z,2026-02-05T09:00:00Z\n",
        fields={"deals": {"opened_at": "opened at", "closed_at": "closed at"}},
    )
    assert [deal.id for deal in records] == ["D3"]  # the rows after them are read
    assert [str(r) for r in rejected] == [
        "deals.csv:2: record D1: opened at: expected a time in the years 1900 to 2099 (in UTC), "
        "got 0001-01-01T00:00:00+05:00",
        "deals.csv:3: record D2: closed at: expected a time in the years 1900 to 2099 (in UTC), "
        "got 9999-12-31T23:00:00-05:00",
    ]


def test_sync_and_report_with_times_at_the_ends_of_time(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "handoffs.csv").write_text(
        "lead_id,notified_at,stage,hand_raiser,owner_id,source\n"
        "L1,0001-01-01T00:00:00+05:00,mql,true,R1,referral\n"
        "L2,2026-01-05T10:00:00Z,mql,true,R1,referral\n"
        "L3,9999-12-31T23:00:00-05:00,mql,true,R1,referral\n",
        encoding="utf-8",
    )
    (data / "deals.csv").write_text(
        "id,amount,opened_at,closed_at,won\n"
        "D1,5,2026-01-05T09:00:00Z,9999-12-31T23:00:00-05:00,true\n"
        "D2,5,2026-01-05T09:00:00Z,2026-01-20T09:00:00Z,true\n",
        encoding="utf-8",
    )
    shutil.copy(ROOT / "examples" / "company_a.toml", tmp_path)
    (tmp_path / "slacore.toml").write_text(
        'store = "slacore.db"\nagreement = "company_a.toml"\n'
        '[[sources]]\nname = "crm"\nconnector = "csv"\nsettings = { path = "data" }\n',
        encoding="utf-8",
    )
    synced = slacore("sync", "--json", cwd=tmp_path)
    assert synced.returncode == 0, synced.stderr
    streams = json.loads(synced.stdout)["sources"][0]["streams"]
    assert (streams["handoffs"]["stored"], streams["handoffs"]["rejected"]) == (1, 2)
    assert (streams["deals"]["stored"], streams["deals"]["rejected"]) == (1, 1)
    report = slacore("report", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert "SLA report for 2026-01" in report.stdout
