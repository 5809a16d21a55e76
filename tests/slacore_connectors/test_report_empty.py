"""A period or ``--as-of`` without hand-offs has nothing to report: exit 1 with one line that
says which periods the store holds, not an empty report with exit 0. The README's and the
``report --help`` examples show data on the demo store."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.cli import demo as run_demo
from tests.cli import slacore

from slacore.agreement import Agreement
from slacore.errors import SlacoreError
from slacore_connectors.report.build import build_report
from slacore_connectors.store.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo(tmp_path_factory.mktemp("demo"))


def _refused(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stdout[:500]
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("slacore: error: nothing to report: ")
    return line


@pytest.mark.parametrize("fmt", ["text", "json", "html"])
def test_a_period_without_hand_offs_says_which_the_store_holds(demo: Path, fmt: str) -> None:
    line = _refused(slacore("report", "--period", "2026-06", "--format", fmt, cwd=demo))
    assert line.endswith(
        "no hand-offs in 2026-06; the store holds hand-offs from 2020-04 to 2020-06"
    )


def test_no_file_is_written_for_nothing(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "june.html"
    _refused(slacore("report", "--period", "2019-12", "--output", str(out), cwd=demo))
    assert not out.exists()


def test_an_as_of_before_the_first_sync_says_when_it_was(demo: Path) -> None:
    (run,) = SQLiteStore(demo / "slacore.db").runs()
    for args in (["--as-of", "2020-07-01"], ["--as-of", "2020-07-01", "--period", "2020-06"]):
        line = _refused(slacore("report", *args, cwd=demo))
        assert "as of 2020-07-02T00:00-04:00 the store held no hand-offs" in line
        assert line.endswith(
            "it holds hand-offs from 2020-04 to 2020-06, the first stored by the sync of "
            f"{run.started_at.date()}"
        )


def test_an_as_of_in_the_store_s_time_says_what_it_held_then(demo: Path) -> None:
    line = _refused(slacore("report", "--period", "2020-03", "--as-of", "2099-01-01", cwd=demo))
    assert line.endswith(
        "no hand-offs in 2020-03; as of 2099-01-02T00:00-05:00 the store held hand-offs from "
        "2020-04 to 2020-06"
    )


def test_an_empty_store_has_nothing_to_report(demo: Path, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    for name in ("leads", "handoffs", "touches", "stage_changes", "deals", "reps"):
        header = (demo / "data" / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
        (tmp_path / "data" / f"{name}.csv").write_text(header + "\n", encoding="utf-8")
    (tmp_path / "company_a.toml").write_bytes((demo / "company_a.toml").read_bytes())
    (tmp_path / "slacore.toml").write_bytes((demo / "slacore.toml").read_bytes())
    synced = slacore("sync", cwd=tmp_path)
    assert synced.returncode == 0, synced.stderr
    line = _refused(slacore("report", cwd=tmp_path))
    assert line.endswith("the store holds no hand-offs yet")


def test_the_library_raises_a_slacore_error_with_the_periods(demo: Path) -> None:
    from slacore_connectors.report import NothingToReportError

    agreement = Agreement.load(demo / "company_a.toml")
    with SQLiteStore(demo / "slacore.db") as store:
        with pytest.raises(NothingToReportError) as raised:
            build_report(store, agreement, period="2026-06")
        build_report(store, agreement, period="2020-04")  # the first period holds some
    assert isinstance(raised.value, SlacoreError)
    assert (raised.value.period, raised.value.first, raised.value.last) == (
        "2026-06",
        "2020-04",
        "2020-06",
    )
    with SQLiteStore(demo / "slacore.db") as store, pytest.raises(NothingToReportError) as early:
        build_report(store, agreement, as_of=datetime(2020, 7, 1, tzinfo=UTC))
    assert early.value.first == "2020-04"


def _report_examples(text: str) -> list[list[str]]:
    """The ``slacore report ...`` command lines in ``text`` (comments cut)."""
    return [
        shlex.split(match.group(1), comments=True)
        for match in re.finditer(r"^\s*slacore (report\b.*)$", text, re.MULTILINE)
    ]


def _shows_data(demo: Path, args: list[str], tmp_path: Path) -> None:
    done = slacore(*args, cwd=tmp_path)
    assert done.returncode == 0, (args, done.stderr)
    output = done.stdout
    if "--output" in args:
        output = (tmp_path / args[args.index("--output") + 1]).read_text(encoding="utf-8")
    if "--json" in args or "json" in args:
        assert json.loads(output)["handoffs"] > 0, args
    else:
        found = re.search(r"([\d,]+) hand-offs in the period", output)
        assert found is not None, args
        assert int(found.group(1).replace(",", "")) > 0, args


def test_the_readme_s_report_examples_show_data_on_the_demo_store(
    demo: Path, tmp_path: Path
) -> None:
    examples = _report_examples((ROOT / "README.md").read_text(encoding="utf-8"))
    assert examples
    for args in examples:
        _shows_data(demo, [*args, "--config", str(demo / "slacore.toml")], tmp_path)


def test_the_help_s_examples_show_data_on_the_demo_store(demo: Path, tmp_path: Path) -> None:
    shown = slacore("report", "--help", cwd=demo)
    assert shown.returncode == 0
    examples = _report_examples(shown.stdout)
    assert len(examples) >= 3
    for args in examples:
        _shows_data(demo, [*args, "--config", str(demo / "slacore.toml")], tmp_path)
