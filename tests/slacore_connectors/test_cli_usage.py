"""How the command line meets its user: help, exit statuses, closed pipes, bugs. Run for real,
in a subprocess, as a user's shell runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from slacore import __version__
from slacore_connectors.store import open_store


def slacore(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slacore_connectors", *args],
        capture_output=True, text=True, timeout=120, check=False, cwd=cwd,
    )  # fmt: skip


def test_no_command_prints_the_help_as_help_does() -> None:
    done = slacore()
    helped = slacore("--help")
    assert helped.returncode == 0
    assert done.returncode == 2
    assert done.stdout == ""
    # The whole help, its lines as --help prints them, not squashed into one error line.
    assert done.stderr == helped.stdout
    assert "error:" not in done.stderr
    assert len(done.stderr.splitlines()) > 10


# --- errors of the world outside: one line, never a traceback --------------------------------


def closed_pipe(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``slacore ARGS`` writing to a pipe whose reader has gone, as ``| head -1`` leaves it:
    the read end is closed before the command starts, so its first write meets EPIPE."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "slacore_connectors", *args],
            stdout=write, stderr=subprocess.PIPE, text=True, timeout=120, check=False, cwd=cwd,
        )  # fmt: skip
    finally:
        os.close(write)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where ``slacore demo`` ran: its job file, agreement and synced store."""
    folder = tmp_path_factory.mktemp("demo")
    done = slacore("demo", "--dir", str(folder))
    assert done.returncode == 0, done.stderr
    return folder


@pytest.mark.parametrize(
    "args",
    [
        ["report"],
        ["report", "--json"],
        ["check", "company_a.toml"],
        ["check", "company_a.toml", "--json"],
        ["plan", "--revenue", "5000", "--deal-value", "100", "--rate", "0.5"],
        ["connectors"],
        ["--help"],
        ["report", "--help"],
    ],
)
def test_a_closed_pipe_ends_quietly_with_141(demo: Path, args: list[str]) -> None:
    done = closed_pipe(*args, cwd=demo)
    assert done.stderr == ""
    assert done.returncode == 141


def test_a_closed_pipe_after_a_sync_keeps_what_it_stored(demo: Path) -> None:
    done = closed_pipe("sync", "--full", cwd=demo)
    assert done.returncode == 141
    # The progress lines are on stderr; no traceback, nothing about the pipe.
    assert "Traceback" not in done.stderr
    assert "Broken pipe" not in done.stderr
    assert slacore("sync", cwd=demo).returncode == 0


def without_override() -> list[str]:
    """The prefix under which root obeys file permissions (``setpriv`` dropping the
    capabilities that override them); nothing for another user."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root without setpriv: file permissions are not enforced")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A folder nobody may write to (its mode is put back afterwards)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    check = "import os, sys; sys.exit(os.access(sys.argv[1], os.W_OK))"
    probe = [*without_override(), sys.executable, "-c", check, str(folder)]
    if subprocess.run(probe, check=False).returncode != 0:
        folder.chmod(0o755)
        pytest.skip("file permissions are not enforced here")
    yield folder
    folder.chmod(0o755)


def restricted(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*without_override(), sys.executable, "-m", "slacore_connectors", *args],
        capture_output=True, text=True, timeout=120, check=False, cwd=cwd,
    )  # fmt: skip


def one_line(done: subprocess.CompletedProcess[str], status: int) -> str:
    assert done.returncode == status, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = [text for text in done.stderr.splitlines() if text.startswith("slacore:")]
    assert line.startswith("slacore: error: ")
    return line


def test_a_demo_in_a_folder_that_cannot_be_written_is_one_line(read_only: Path) -> None:
    line = one_line(restricted("demo", "--dir", "demo", cwd=read_only), 1)
    assert line == "slacore: error: cannot write the demo to demo: Permission denied"


def test_a_demo_whose_report_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "report.html").mkdir()  # in the way of the page the demo writes
    line = one_line(slacore("demo", "--dir", str(tmp_path)), 1)
    assert (
        line == f"slacore: error: cannot write the demo to {tmp_path}: report.html: Is a directory"
    )


def test_a_new_store_in_a_folder_that_cannot_be_written_is_one_line(
    demo: Path, read_only: Path
) -> None:
    job = read_only.parent / "job.toml"
    job.write_text(
        f'store = "{read_only.name}/new/slacore.db"\n'
        f'agreement = "{demo / "company_a.toml"}"\n'
        f'[[sources]]\nname = "crm"\nconnector = "csv"\nsettings = {{ path = "{demo / "data"}" }}\n'
    )
    line = one_line(restricted("sync", "--config", str(job), cwd=read_only.parent), 1)
    store = read_only / "new" / "slacore.db"
    assert (
        line
        == f"slacore: error: {store}: cannot take the sync lock {store}.lock: Permission denied"
    )


# --- figures on stdout, errors on stderr ------------------------------------------------------


@pytest.fixture
def failing_job(demo: Path, tmp_path: Path) -> Path:
    """A job of two sources: one with an empty leads file (that stream is refused), one whose
    connector is not installed (the whole source fails)."""
    shutil.copytree(demo / "data", tmp_path / "data")
    (tmp_path / "data" / "leads.csv").write_text("")
    (tmp_path / "slacore.toml").write_text(
        'store = "s.db"\n'
        '[[sources]]\nname = "crm"\nconnector = "csv"\nsettings = { path = "data" }\n'
        '[[sources]]\nname = "other"\nconnector = "nope"\n'
    )
    return tmp_path


def errors_of(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in done.stderr.splitlines() if line.startswith("slacore: error: ")]


@pytest.mark.parametrize("as_json", [False, True])
def test_a_failed_source_is_an_error_on_stderr(failing_job: Path, as_json: bool) -> None:
    done = slacore("sync", *(["--json"] if as_json else []), cwd=failing_job)
    assert done.returncode == 1
    assert errors_of(done) == [
        "slacore: error: crm: leads: refused: leads.csv:1: the file is empty: expected a "
        "header row naming the columns",
        "slacore: error: other: no connector 'nope' is installed (known: csv, hubspot, salesforce)",
    ]
    # The figures stay whole on stdout: the summary, or one JSON document.
    if as_json:
        sources = json.loads(done.stdout)["sources"]
        assert [s["status"] for s in sources] == ["failed", "failed"]
    else:
        assert done.stdout.startswith("crm (csv): failed\n")
        assert "| handoffs | 944 | 944 | 0 | 0 |" in done.stdout
        assert "other (nope): failed: no connector 'nope' is installed" in done.stdout


# --- one table of exit statuses ---------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "guide" / "cli.md"
COMPANY_A = ROOT / "examples" / "company_a.toml"


def documented_statuses() -> set[int]:
    """The exit statuses in the table of docs/guide/cli.md."""
    return {
        int(line.split("|")[1])
        for line in DOCS.read_text(encoding="utf-8").splitlines()
        if line.startswith("| ") and line.split("|")[1].strip().isdigit()
    }


def test_the_docs_list_every_status() -> None:
    assert documented_statuses() == {0, 1, 2, 130, 141, 143}


@pytest.fixture
def inputs(demo: Path) -> Path:
    """Bad input files beside the demo's good ones."""
    (demo / "broken.toml").write_text("x = [\n")
    (demo / "not-utf8.toml").write_bytes(b'name = "\xff"\n')
    (demo / "bad.toml").write_text('name = "x"\n[marketing]\nlead_value = { amount = -1 }\n')
    job = 'store = "slacore.db"\nagreement = "{agreement}"\n{extra}[[sources]]\nname = "crm"\nconnector = "csv"\nsettings = {{ path = "data"{settings} }}\n'  # noqa: E501
    for name, agreement, extra, settings in [
        ("bad-agreement", "bad.toml", "", ""),
        ("broken-agreement", "broken.toml", "", ""),
        ("typo-key", "company_a.toml", "stroe = 1\n", ""),
        ("typo-setting", "company_a.toml", "", ', stagse = ["lead"]'),
    ]:
        text = job.format(agreement=agreement, extra=extra, settings=settings)
        (demo / f"{name}.toml").write_text(text)
    return demo


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        # 0: done.
        (["check", "company_a.toml"], 0, ""),
        (["plugins", "--json"], 0, ""),
        (["connectors", "--json"], 0, ""),
        (["report", "--period", "2020-05", "--json"], 0, ""),
        # 1: the work failed: the file checked is invalid, a file cannot be written.
        (["check", "bad.toml"], 1, "bad.toml:"),
        (["check", "broken.toml"], 1, "broken.toml: not valid TOML"),
        (["render", "company_a.toml", "-o", "data/x/y.md"], 1, "'data/x/y.md': No such"),
        (["report", "-o", "company_a.toml/r.html"], 1, "'company_a.toml/r.html': Not a"),
        (["demo", "--dir", "company_a.toml/d"], 1, "cannot write the demo to company_a.toml/d"),
        (["forget", "nope"], 1, "the store holds nothing of source 'nope'"),
        # 2: bad usage or bad input: a flag, a value, a job file, an agreement file.
        (["bogus"], 2, "No such command 'bogus'"),
        (["--bogus"], 2, "No such option '--bogus'"),
        (["forget"], 2, "Missing argument 'SOURCE'"),
        (["plugins", "--bogus"], 2, "No such option '--bogus'"),
        (["render", "company_a.toml", "-o", "data"], 2, "File 'data' is a directory"),
        (["demo", "--dir", "company_a.toml"], 2, "Directory 'company_a.toml' is a file"),
        (["report", "--period", "2026-13"], 2, "Invalid value for '--period'"),
        (["report", "--as-of", "2020-13-01"], 2, "Invalid value for '--as-of'"),
        (["report", "--format", "pdf"], 2, "Invalid value for '--format'"),
        (["plan"], 2, "nothing to plan"),
        (["plan", "--rate", "2"], 2, "Invalid value for '--rate'"),
        (["check", "nope.toml"], 2, "does not exist"),
        (["render", "broken.toml"], 2, "broken.toml: not valid TOML"),
        (["render", "not-utf8.toml"], 2, "not-utf8.toml: not UTF-8 text"),
        (["render", "bad.toml"], 2, "bad agreement file: "),
        (["report", "--config", "bad-agreement.toml"], 2, "bad agreement file: "),
        (["report", "--config", "broken-agreement.toml"], 2, "broken.toml: not valid TOML"),
        (["report", "--config", "nope.toml"], 2, "no such job file"),
        (["sync", "--config", "typo-key.toml"], 2, 'stroe: unknown key; did you mean "store"?'),
        (
            ["sync", "--config", "typo-setting.toml"],
            2,
            "typo-setting.toml:6: sources[0].settings.stagse: unknown setting 'stagse' of "
            "connector csv (known: batch_size, channel_values, column_batch_size, decimal_mark, "
            "delimiter, encoding, fields, files, path, stage_values, stages, time_formats, "
            'timezone, wait_for_newline); did you mean "stages"?',
        ),
    ],
)
def test_exit_statuses_follow_the_table(
    inputs: Path, args: list[str], status: int, message: str
) -> None:
    assert status in documented_statuses()
    done = slacore(*args, cwd=inputs)
    assert done.returncode == status, done.stderr
    assert "Traceback" not in done.stderr
    assert message in done.stderr
    if status == 2:
        assert done.stderr.startswith("slacore: error: ")


def test_a_misspelt_setting_stops_the_sync_before_it_reads(inputs: Path) -> None:
    store = inputs / "slacore.db"
    before = store.stat().st_mtime_ns
    done = slacore("sync", "--config", "typo-setting.toml", cwd=inputs)
    assert done.returncode == 2
    assert done.stdout == ""
    assert store.stat().st_mtime_ns == before


# --- a bug: one line, or its traceback with --debug -------------------------------------------

# The real `slacore` group and main(), with one more command that meets a bug: an exception
# that is none of slacore's documented errors.
WITH_A_BUG = """
import sys
from slacore_connectors import cli

@cli.cli.command("buggy")
def buggy() -> None:
    {}.pop("the key a bug forgot")

cli.main(sys.argv[1:])
"""


def run_buggy(*args: str, debug_env: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SLACORE_DEBUG"}
    if debug_env is not None:
        env["SLACORE_DEBUG"] = debug_env
    return subprocess.run(
        [sys.executable, "-c", WITH_A_BUG, *args],
        capture_output=True, text=True, timeout=60, check=False, env=env,
    )  # fmt: skip


def test_a_bug_is_one_line_saying_how_to_see_its_traceback() -> None:
    done = run_buggy("buggy")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        f"slacore: error: a bug in slacore {__version__}: KeyError: 'the key a bug "
        "forgot'; run the command again with slacore --debug (or SLACORE_DEBUG=1) to see the "
        "traceback, and report it with that: https://github.com/slacore/slacore/issues\n"
    )


@pytest.mark.parametrize(
    ("args", "debug_env"), [(["--debug", "buggy"], None), (["buggy"], "1"), (["buggy"], "true")]
)
def test_debug_shows_the_traceback_of_a_bug(args: list[str], debug_env: str | None) -> None:
    done = run_buggy(*args, debug_env=debug_env)
    assert done.returncode == 1
    assert done.stderr.startswith("Traceback (most recent call last):\n")
    assert "in buggy\n" in done.stderr
    assert done.stderr.endswith("KeyError: 'the key a bug forgot'\n")


def test_debug_shows_the_traceback_of_an_error_then_its_line(tmp_path: Path) -> None:
    (tmp_path / "company_a.toml").write_bytes(COMPANY_A.read_bytes())
    (tmp_path / "slacore.db").write_bytes(b"not a database, " * 512)
    (tmp_path / "slacore.toml").write_text(
        'agreement = "company_a.toml"\n'
        '[[sources]]\nname = "crm"\nconnector = "csv"\nsettings = { path = "data" }\n'
    )
    plain = slacore("report", cwd=tmp_path)
    assert plain.returncode == 1
    (line,) = plain.stderr.splitlines()
    assert line.startswith(f"slacore: error: {tmp_path / 'slacore.db'}: ")
    done = slacore("--debug", "report", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("Traceback (most recent call last):\n")
    assert done.stderr.endswith("\n" + line + "\n")


@pytest.mark.parametrize(
    "args", [["report", "--period", "2026-13"], ["check", "broken.toml"], [], ["--bogus"]]
)
def test_a_closed_pipe_for_an_error_ends_quietly_with_141(inputs: Path, args: list[str]) -> None:
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "slacore_connectors", *args],
            stdout=subprocess.PIPE, stderr=write, text=True, timeout=120, check=False, cwd=inputs,
        )  # fmt: skip
    finally:
        os.close(write)
    assert done.returncode == 141
    assert done.stdout == ""


def test_a_closed_pipe_for_both_outputs_does_not_fail_the_sync(demo: Path) -> None:
    # `slacore sync 2>&1 | head -1`: the progress lines meet the closed pipe first.
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "slacore_connectors", "sync", "--full"],
            stdout=write, stderr=write, timeout=120, check=False, cwd=demo,
        )  # fmt: skip
    finally:
        os.close(write)
    assert done.returncode == 141
    with open_store(demo / "slacore.db", read_only=True) as store:
        last = store.runs()[-1]
    assert (last.status, last.error) == ("success", None)
