"""A stream whose file is refused is named with its error; the other streams and sources go on."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli import slacore

from slacore_connectors.store.sqlite import SQLiteStore

JOB = """\
store = "slacore.db"

[[sources]]
name = "crm"
connector = "csv"
settings = { path = "crm" }

[[sources]]
name = "web"
connector = "csv"
settings = { path = "web" }
"""


def exports(tmp_path: Path) -> Path:
    for name in ("crm", "web"):
        folder = tmp_path / name
        folder.mkdir()
        # leads.csv is read first; it is empty (not even a header): refused.
        (folder / "leads.csv").write_text("")
        (folder / "touches.csv").write_text(
            "lead_id,rep_id,at,channel\n"
            "L1,R1,2020-04-08T09:05:17-04:00,call\n"
            "L2,R1,2020-04-08T09:06:17-04:00,email\n"
        )
        (folder / "reps.csv").write_text(
            "id,name,email,team,active\nR1,Avery,a@x.example,sales,true\n"
        )
    (tmp_path / "slacore.toml").write_text(JOB)
    return tmp_path


def test_a_refused_file_stops_neither_the_other_streams_nor_the_other_sources(
    tmp_path: Path,
) -> None:
    folder = exports(tmp_path)
    done = slacore("sync", cwd=folder)
    assert done.returncode == 1, done.stderr  # something failed: the documented status 1
    assert "Traceback" not in done.stderr
    for source in ("crm", "web"):
        assert f"{source} (csv): failed" in done.stdout
    assert done.stdout.count("- leads: refused: leads.csv:1: the file is empty") == 2
    assert "| touches | 2 | 2 | 0 | 0 |" in done.stdout
    assert "| reps | 1 | 1 | 0 | 0 |" in done.stdout
    with SQLiteStore(folder / "slacore.db") as store:
        assert store.count("touches") == 4
        assert store.count("reps") == 2  # one per source
        runs = store.runs()
        assert [run.status for run in runs] == ["failed", "failed"]
        for run in runs:
            assert run.error is not None
            assert run.error.startswith("leads: leads.csv:1: the file is empty")
            assert run.counts["touches"]["stored"] == 2

    again = slacore("sync", "--json", cwd=folder)
    assert again.returncode == 1
    data = json.loads(again.stdout)
    assert not data["ok"]
    for source in data["sources"]:
        assert source["status"] == "failed"
        assert list(source["refused"]) == ["leads"]
        assert "leads.csv:1: the file is empty" in source["refused"]["leads"]
        assert source["streams"]["touches"]["read"] == 0  # already stored: the cursor held
