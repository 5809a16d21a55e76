"""How the csv connector reads values: times out of range, amounts, the columns errors name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.cli import slacore

from slacore.connector import Record, RejectedRecord
from slacore.errors import ValidationError
from slacore_connectors.csvfile import CsvConnector

ROOT = Path(__file__).resolve().parents[2]


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


DEALS = (
    "id;amount;opened_at\n"
    'D1;"12,50";2026-01-05T09:00:00Z\n'
    'D2;"1.234,56";2026-01-05T09:00:00Z\n'
    "D3;1.234.567;2026-01-05T09:00:00Z\n"
    "D4;7;2026-01-05T09:00:00Z\n"
)


def test_a_decimal_comma_is_refused_unless_the_file_is_said_to_use_it(tmp_path: Path) -> None:
    records, rejected = read_stream(tmp_path, "deals", DEALS)
    # 12,50 was stored as 1250 and 1.234,56 as 1.23456.
    assert [(deal.id, deal.amount) for deal in records] == [("D4", 7)]
    assert [(r.source, r.line, r.record_id, r.field) for r in rejected] == [
        ("deals.csv", 2, "D1", "amount"),
        ("deals.csv", 3, "D2", "amount"),
        ("deals.csv", 4, "D3", "amount"),
    ]
    assert str(rejected[0]) == (
        "deals.csv:2: record D1: amount: expected an amount of money like 5000 or 1250000.50, "
        "got '12,50' (with a decimal comma it would be 12.50; amounts here take a decimal "
        'point, like 1,250,000.50; or set decimal_mark = ",")'
    )


def test_decimal_mark_comma_reads_european_amounts(tmp_path: Path) -> None:
    records, rejected = read_stream(tmp_path, "deals", DEALS, decimal_mark=",")
    assert [(deal.id, str(deal.amount)) for deal in records] == [
        ("D1", "12.50"),
        ("D2", "1234.56"),
        ("D3", "1234567"),
        ("D4", "7"),
    ]
    assert rejected == []
    (tmp_path / "deals.csv").write_text(
        'id,amount,opened_at\nD1,"1,234.56",2026-01-05T09:00:00Z\n', encoding="utf-8"
    )
    _, (bad,) = read_stream(
        tmp_path, "deals", (tmp_path / "deals.csv").read_text(), decimal_mark=","
    )
    assert "with a decimal point it would be 1234.56" in bad.reason
    assert bad.reason.endswith('or set decimal_mark = ".")')


def test_decimal_mark_takes_a_point_or_a_comma(tmp_path: Path) -> None:
    (tmp_path / "deals.csv").write_text(DEALS, encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        CsvConnector({"path": str(tmp_path), "decimal_mark": ";"})
    assert info.value.field == "decimal_mark"


def test_a_bad_team_is_rejected_under_the_files_own_column(tmp_path: Path) -> None:
    records, rejected = read_stream(
        tmp_path,
        "handoffs",
        "lead_id,notified_at,stage,From Team,to_team\n"
        "L1,2026-01-05T10:00:00Z,mql,mktg,sales\n"
        "L2,2026-01-05T10:00:00Z,mql,marketing,sails\n"
        "L3,2026-01-05T10:00:00Z,mql,marketing,sales\n",
        fields={"handoffs": {"from_team": "From Team"}},
    )
    assert [handoff.lead_id for handoff in records] == ["L3"]
    # Both were rejected under "team", a column the file does not have.
    assert [(r.line, r.field, r.raw[r.field]) for r in rejected] == [
        (2, "From Team", "mktg"),
        (3, "to_team", "sails"),
    ]
    assert str(rejected[0]) == (
        "handoffs.csv:2: record L1: From Team: expected one of marketing, sales, got 'mktg'"
    )
