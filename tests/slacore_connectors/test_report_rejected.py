"""The report lists the rejected rows (stream, file, line, id, field, reason), not only their
count: the first 50 in the text, Markdown and HTML report with how many more and where to see
them, every one in the JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.cli import demo as run_demo
from tests.cli import slacore

from slacore_connectors.report.build import REJECTED_SHOWN


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo(tmp_path_factory.mktemp("demo"))


def test_the_demo_s_five_rejected_rows_are_listed(demo: Path) -> None:
    text = slacore("report", cwd=demo)
    assert text.returncode == 0, text.stderr
    quality = text.stdout[text.stdout.index("## Data quality") :]
    assert "5 rejected records are kept in the store with their reasons:" in quality
    assert "| stream | file | line | id | field | reason |" in quality
    assert (
        "| touches | touches.csv | 4343 | L00003 | channel | unknown channel 'fax': expected one "
        "of call, email, meeting, other or a name mapped in channel_values |"
    ) in quality
    assert "| deals | deals.csv | 98 | D-BAD | amount | must not be negative, got -5000.00 |" in (
        quality
    )
    assert "more:" not in quality
    page = slacore("report", "--format", "html", cwd=demo).stdout
    assert '<table class="rejected">' in page
    assert '<td>stage_changes.csv</td><td class="num">1872</td><td>L00002</td>' in page
    rows = json.loads(slacore("report", "--json", cwd=demo).stdout)["rejected_rows"]
    assert len(rows) == 5
    assert {
        k: rows[1][k] for k in ("stream", "source", "line", "record_id", "field", "reason")
    } == {
        "stream": "leads",
        "source": "leads.csv",
        "line": 4997,
        "record_id": "L99002",
        "field": "created_at",
        "reason": "naive time '2020-05-04 10:00:00' has no offset and no timezone is set (add "
        'timezone = "Europe/Berlin" or the like to the settings)',
    }


def test_many_rejected_rows_show_the_first_fifty_and_say_how_to_see_all(
    demo: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for name in ("slacore.toml", "company_a.toml"):
        (folder / name).write_bytes((demo / name).read_bytes())
    (folder / "data").mkdir()
    for csv in (demo / "data").iterdir():
        (folder / "data" / csv.name).write_bytes(csv.read_bytes())
    extra = 60
    with (folder / "data" / "touches.csv").open("a", encoding="utf-8") as file:
        for n in range(extra):
            file.write(f"L{n:05d},R01,2020-06-0{1 + n % 9}T12:00:00-04:00,pigeon\n")
    synced = slacore("sync", cwd=folder)
    assert synced.returncode == 0, synced.stderr
    total = 5 + extra

    text = slacore("report", cwd=folder).stdout
    quality = text[text.index("## Data quality") :]
    assert f"{total} rejected records are kept in the store" in quality
    listed = re.findall(r"^\| (?:leads|touches|stage_changes|deals) \|", quality, re.MULTILINE)
    assert len(listed) == REJECTED_SHOWN == 50
    assert (
        f"... and {total - REJECTED_SHOWN} more: the JSON report (slacore report --json) lists "
        "them all under rejected_rows."
    ) in quality

    page = slacore("report", "--format", "html", cwd=folder).stdout
    table = page[page.index('<table class="rejected">') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == REJECTED_SHOWN + 1  # and the head
    assert f"and {total - REJECTED_SHOWN} more" in page

    rows = json.loads(slacore("report", "--json", cwd=folder).stdout)["rejected_rows"]
    assert len(rows) == total
    pigeons = [r for r in rows if "'pigeon'" in r["reason"]]
    assert len(pigeons) == extra
    assert {r["source"] for r in pigeons} == {"touches.csv"}
    assert {r["field"] for r in pigeons} == {"channel"}
    assert sorted(r["record_id"] for r in pigeons) == [f"L{n:05d}" for n in range(extra)]
    assert len({r["line"] for r in pigeons}) == extra
