"""``slacore check`` and ``slacore render``, run for real in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMPANY_A = str(ROOT / "examples" / "company_a.toml")
HUBSPOT = str(ROOT / "examples" / "hubspot.toml")


def slacore(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slacore_connectors", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def bad_file(tmp_path: Path) -> Path:
    text = Path(COMPANY_A).read_text(encoding="utf-8")
    text = text.replace('within = "1h"', 'within = "soon"')
    text = text.replace("amount = 550_000", "amount = -550_000")
    text = text.replace('every = "quarter"', 'evry = "quarter"')
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_check_a_valid_file_prints_one_line() -> None:
    done = slacore("check", COMPANY_A)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout == (
        f"{COMPANY_A}: valid: Company A agreement, version 1.0, effective 2020-01-01: marketing "
        "delivers $550,000 of lead value a month; sales responds within 1 business hour and "
        "commits to 2 milestone goals; 3 ramification rungs; reviewed every quarter; "
        "5 signatories\n"
    )


def test_check_json_for_hubspot() -> None:
    done = slacore("check", HUBSPOT, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["valid"] is True
    assert data["errors"] == []
    assert data["summary"]["marketing"]["leads"] == 1000
    assert data["summary"]["marketing"]["capacity"] == 1000
    assert data["summary"]["marketing"]["lead_value"] == "300000"


def test_check_an_invalid_file_prints_every_error(tmp_path: Path) -> None:
    path = bad_file(tmp_path)
    done = slacore("check", str(path))
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith(f"{path}:")
    assert ": marketing.lead_value.amount: must not be negative, got -550000" in lines[0]
    assert ": sales.response.within: expected a duration like" in lines[1]
    assert lines[2].endswith(
        ": review.every: missing; expected a period: week, month, quarter or year"
    )
    assert lines[3].endswith(': review.evry: unknown key; did you mean "every"?')
    for line in lines:
        file, number, _ = line.split(":", 2)
        assert file == str(path)
        assert number.isdigit()


def test_check_an_invalid_file_as_json(tmp_path: Path) -> None:
    done = slacore("check", str(bad_file(tmp_path)), "--json")
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert data["valid"] is False
    assert data["summary"] is None
    assert [e["key"] for e in data["errors"]] == [
        "marketing.lead_value.amount",
        "sales.response.within",
        "review.every",
        "review.evry",
    ]
    assert all(isinstance(e["line"], int) for e in data["errors"])
    assert data["errors"][0]["message"] == "must not be negative, got -550000"


def test_check_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    done = slacore("check", str(tmp_path / "nope.toml"))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "does not exist" in done.stderr


def test_render_markdown_matches_the_committed_document() -> None:
    done = slacore("render", COMPANY_A)
    assert done.returncode == 0, done.stderr
    committed = (ROOT / "docs" / "examples" / "company_a.md").read_text(encoding="utf-8")
    assert done.stdout == committed


def test_render_html_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "company_a.html"
    done = slacore("render", COMPANY_A, "--format", "html", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "$550,000 of lead value each month" in page


def test_render_an_invalid_file_and_a_bad_format(tmp_path: Path) -> None:
    done = slacore("render", str(bad_file(tmp_path)))
    assert done.returncode == 2
    assert done.stdout == ""
    first, *problems = done.stderr.splitlines()
    assert first.startswith("slacore: error: bad agreement file: 4 problems in ")
    assert len(problems) == 4
    bad = slacore("render", COMPANY_A, "--format", "pdf")
    assert bad.returncode == 2
    assert "'--format'" in bad.stderr


def test_check_help() -> None:
    assert "FILE:LINE: key.path: message" in slacore("check", "--help").stdout
