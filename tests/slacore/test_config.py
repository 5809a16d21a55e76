"""The validating TOML reader on a file that is not an agreement: what other readers get."""

from __future__ import annotations

from pathlib import Path

import pytest

from slacore._config import Problems, Table, read_toml
from slacore.errors import ValidationError

JOB = """\
store = 5

[[sources]]
name = "crm"
conector = "csv"
"""


def test_every_problem_at_once_with_key_path_line_and_hint(tmp_path: Path) -> None:
    path = tmp_path / "job.toml"
    path.write_text(JOB)
    data, lines = read_toml(path)
    problems = Problems()
    root = Table(data, (), problems)
    store = root.text("store", default="slacore.db")
    for source in root.tables("sources", required=True):
        source.text("name", required=True)
        source.text("connector", required=True)
        source.finish()
    root.finish()
    assert store == "slacore.db"
    errors = problems.errors(source=str(path), lines=lines)
    assert [(e.field, e.line) for e in errors] == [
        ("store", 1),
        ("sources[0].connector", 3),
        ("sources[0].conector", 5),
    ]
    assert errors[0].message == "expected a non-empty string, got an integer 5"
    assert errors[2].message == 'unknown key; did you mean "connector"?'
    assert all(e.file == str(path) for e in errors)


@pytest.mark.parametrize(
    ("content", "message", "line"),
    [
        (b"store = \n", "not valid TOML: Invalid value", 1),
        (b"\xff", "not UTF-8 text (byte 0)", None),
    ],
)
def test_unreadable_files_are_one_error_with_file_and_line(
    tmp_path: Path, content: bytes, message: str, line: int | None
) -> None:
    path = tmp_path / "job.toml"
    path.write_bytes(content)
    with pytest.raises(ValidationError) as caught:
        read_toml(path)
    assert (caught.value.message, caught.value.file, caught.value.line) == (
        message,
        str(path),
        line,
    )


def test_a_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot read the file") as caught:
        read_toml(tmp_path / "none.toml")
    assert caught.value.file == str(tmp_path / "none.toml")
