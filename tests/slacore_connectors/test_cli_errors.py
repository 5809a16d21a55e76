"""Every error the command line prints is one line starting ``slacore: error:``, never a
traceback; bad flags, values, job files and agreement files exit 2, other failures 1. Run for
real."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.cli import slacore

ROOT = Path(__file__).resolve().parents[2]
COMPANY_A = ROOT / "examples" / "company_a.toml"
BAD_AGREEMENT = 'name = "x"\n[marketing]\nlead_value = { amount = -1 }\n[review]\nevry = "month"\n'


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "not-utf8.toml").write_bytes(b'name = "\xff\xfe"\n')
    (tmp_path / "broken.toml").write_text("x = [\n")
    (tmp_path / "bad.toml").write_text(BAD_AGREEMENT)
    (tmp_path / "a-file").write_text("")
    shutil.copy(COMPANY_A, tmp_path / "company_a.toml")
    for name, agreement in (("missing", "nope.toml"), ("invalid", "bad.toml")):
        (tmp_path / f"{name}.toml").write_text(
            f'store = "s.db"\nagreement = "{agreement}"\n'
            '[[sources]]\nname = "crm"\nconnector = "csv"\nsettings = { path = "d" }\n'
        )
    (tmp_path / "s.db").write_bytes(b"")
    return tmp_path


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        # The agreement a job file names does not exist: a bad job file.
        (
            ["report", "--config", "missing.toml"],
            2,
            "bad job file: agreement: no such file: {folder}/nope.toml",
        ),
        (["render", "not-utf8.toml"], 2, "not-utf8.toml: not UTF-8 text"),
        (["render", "broken.toml"], 2, "broken.toml: not valid TOML"),
        (["demo", "--dir", "a-file/demo"], 1, "cannot write the demo to a-file/demo"),
        (
            ["plan", "--annual-revenue", "9" * 27, "--target-month", "6", "--year", "2020",
             "--current-annual-revenue", "1"],
            2,
            "Invalid value for '--annual-revenue': expected an amount below "
            "1,000,000,000,000,000",
        ),
        (["sync", "--config", "."], 2, "Invalid value for '--config'"),
        (["check", "nope.toml"], 2, "does not exist"),
    ],
)  # fmt: skip
def test_an_error_is_one_prefixed_line(
    folder: Path, args: list[str], status: int, message: str
) -> None:
    done = slacore(*args, cwd=folder)
    assert done.returncode == status, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("slacore: error: ")
    assert message.format(folder=folder) in line


@pytest.mark.parametrize("args", [["render", "bad.toml"], ["report", "--config", "invalid.toml"]])
def test_an_invalid_agreement_is_an_error_line_then_its_problems(
    folder: Path, args: list[str]
) -> None:
    done = slacore(*args, cwd=folder)
    assert done.returncode == 2
    assert done.stdout == ""
    first, *problems = done.stderr.splitlines()
    assert first.startswith("slacore: error: bad agreement file: ")
    assert first.endswith("bad.toml")
    assert len(problems) >= 2
    assert all("bad.toml:" in problem for problem in problems)
