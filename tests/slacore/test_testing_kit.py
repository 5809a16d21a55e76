"""The connector author's kit, ``slacore.testing``: what its contract suite catches, what it
does not mistake for a breach, and that it works without pytest."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest

import slacore
from slacore import Lead
from slacore.connector import Batch, Connector, Cursor, Setting, SettingKind, Stream
from slacore.testing import ConnectorContract, check_connector, check_incremental, check_secrets


class FolderConnector(Connector):
    """A well-behaved connector: one lead a read, a folder setting and a secret token.

    Its ``repr`` shows the folder, so a secret that happens to occur in the folder's path
    shows there too, without the connector leaking anything.
    """

    name: ClassVar[str] = "folder"
    streams: ClassVar[tuple[Stream, ...]] = (Stream.LEADS,)
    settings_schema: ClassVar[tuple[Setting, ...]] = (
        Setting(name="folder", kind=SettingKind.PATH, required=True),
        Setting(name="token", secret=True),
    )

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        if cursor is not None and cursor.state.get("done"):
            yield Batch(stream=stream, records=[], cursor=cursor)
            return
        lead = Lead(id="L-1", created_at=datetime(2026, 1, 5, 9, tzinfo=UTC))
        yield Batch(stream=stream, records=[lead], cursor=Cursor(stream=stream, state={"done": 1}))

    def token(self) -> str:
        secret = self.settings["token"]
        return "" if secret is None else str(secret.reveal())


class PrintingConnector(FolderConnector):
    """Prints its token to stdout while reading."""

    name = "printing"

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        print(f"connecting with {self.token()}")
        yield from super().read_stream(stream, cursor)


class StderrConnector(FolderConnector):
    """Writes its token straight to file descriptor 2, as a C library or a child would."""

    name = "stderr"

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        os.write(2, f"debug: token={self.token()}\n".encode())
        yield from super().read_stream(stream, cursor)


class ChattyConnector(FolderConnector):
    """Logs a long line that ends with its token."""

    name = "chatty"

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        logging.getLogger("chatty").info("%s then the token %s", "x" * 400, self.token())
        yield from super().read_stream(stream, cursor)


def sample(folder: Path, token: str = "tok-123") -> Mapping[str, Any]:
    return {"folder": str(folder), "token": token}


def test_the_contract_passes_a_connector_that_keeps_it(tmp_path: Path) -> None:
    check_connector(FolderConnector, sample(tmp_path))


def test_a_test_secret_that_occurs_in_a_path_is_no_leak(tmp_path: Path) -> None:
    # pytest's tmp_path holds "pytest-of-<user>"; a sample token "pytest" is in the repr's path.
    assert "pytest" in repr(FolderConnector(sample(tmp_path, token="pytest")))
    check_secrets(FolderConnector, sample(tmp_path, token="pytest"))


def test_a_secret_printed_to_stdout_is_caught(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(AssertionError, match=r"secret setting 'token' shows in stdout: "):
        check_secrets(PrintingConnector, sample(tmp_path))
    assert "connecting with" not in capsys.readouterr().out  # captured by the check


def test_a_secret_written_to_stderr_is_caught(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match=r"secret setting 'token' shows in stderr: "):
        check_secrets(StderrConnector, sample(tmp_path))


def test_a_secret_at_the_end_of_a_long_line_is_named(tmp_path: Path) -> None:
    with pytest.raises(AssertionError) as info:
        check_secrets(ChattyConnector, sample(tmp_path))
    message = str(info.value)
    assert message.startswith("secret setting 'token' shows in the log: ")
    assert message.endswith("then the token [the secret]")


def test_a_secret_not_in_the_sample_settings_is_checked_too(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="secret setting 'token' shows in stdout"):
        check_secrets(PrintingConnector, {"folder": str(tmp_path)})


def test_the_check_leaves_stdout_and_stderr_working(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    check_secrets(FolderConnector, sample(tmp_path))
    print("after")
    sys.stdout.flush()
    os.write(2, b"after on 2\n")
    captured = capfd.readouterr()
    assert captured.out == "after\n"
    assert captured.err == "after on 2\n"


class ForgetfulConnector(FolderConnector):
    """Ignores its cursor: every read gives everything again."""

    name = "forgetful"

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        yield from super().read_stream(stream, None)


def test_a_connector_that_ignores_its_cursor_breaks_the_contract(tmp_path: Path) -> None:
    with pytest.raises(AssertionError) as info:
        check_incremental(ForgetfulConnector, sample(tmp_path))
    assert str(info.value) == (
        "leads: reading again from the last cursor, the data unchanged, gave 1 of the 1 "
        "records again (L-1): the cursor is ignored"
    )
    with pytest.raises(AssertionError, match="check_incremental: AssertionError: leads: "):
        check_connector(ForgetfulConnector, sample(tmp_path))


class WindowConnector(FolderConnector):
    """Reads again the last of its two leads from the cursor, for safety."""

    name = "window"

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        leads = [Lead(id=f"L-{n}", created_at=datetime(2026, 1, 5, 9, tzinfo=UTC)) for n in (1, 2)]
        start = 0 if cursor is None else 1
        yield Batch(stream=stream, records=leads[start:], cursor=Cursor(stream=stream))


def test_a_connector_that_rereads_a_window_says_so(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match=r"gave 1 record again \(L-2\); .*rereads_window"):
        check_incremental(WindowConnector, sample(tmp_path))
    check_incremental(WindowConnector, sample(tmp_path), rereads_window=True)
    check_connector(WindowConnector, sample(tmp_path), rereads_window=True)
    with pytest.raises(AssertionError, match="the cursor is ignored"):
        check_incremental(ForgetfulConnector, sample(tmp_path), rereads_window=True)


class WindowPlugin:
    @slacore.hookimpl
    def slacore_register_connectors(self, register: Callable[[Any], None]) -> None:
        register(WindowConnector)


class TestWindowContract(ConnectorContract):
    connector_class = WindowConnector
    plugin = WindowPlugin()
    rereads_window = True

    @pytest.fixture
    def settings(self, tmp_path: Path) -> Mapping[str, Any]:
        return sample(tmp_path)


# --- without pytest ----------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
# import pytest fails in the child, as where pytest is not installed
WITHOUT_PYTEST = "import sys\nsys.modules['pytest'] = None\n"


def run_without_pytest(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_PYTEST + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )


def test_check_connector_works_without_pytest(tmp_path: Path) -> None:
    export = tmp_path / "contacts.jsonl"
    contact = {"contactId": "C-1", "createdAt": "2026-03-02T09:15:00Z", "updated": 1}
    export.write_text(json.dumps(contact) + "\n", encoding="utf-8")
    done = run_without_pytest(
        f"""
        sys.path.insert(0, "tests/plugins/slacore-example-crm/src")
        import slacore_example_crm as crm
        from slacore.testing import check_connector

        class Forgetful(crm.ExampleCrmConnector):
            def read_stream(self, stream, cursor):
                return super().read_stream(stream, None)

        settings = {{"export": {str(export)!r}}}
        check_connector(crm.ExampleCrmConnector, settings, plugin=crm)
        try:
            check_connector(Forgetful, settings)
        except AssertionError as error:
            print(error)
        """
    )
    assert done.returncode == 0, done.stderr
    assert "check_incremental: AssertionError: leads: reading again" in done.stdout


def test_the_connector_docs_examples_run_without_pytest() -> None:
    # As tests/test_docs.py runs them: every ```pycon block of the page in one namespace.
    done = run_without_pytest(
        """
        import doctest, re
        from pathlib import Path
        text = Path("docs/connectors.md").read_text(encoding="utf-8")
        blocks = re.finditer(r"^```pycon\\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
        source = "\\n".join(block.group(1) for block in blocks)
        test = doctest.DocTestParser().get_doctest(source, {}, "connectors.md", "connectors.md", 0)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        runner.run(test)
        result = runner.summarize(verbose=False)
        print(result.attempted, result.failed)
        """
    )
    assert done.returncode == 0, done.stderr
    attempted, failed = map(int, done.stdout.split()[-2:])
    assert (failed, attempted > 40) == (0, True), done.stdout[-3000:]


class DeletingConnector(FolderConnector):
    """Its first read holds lead L-1 and deletes L-0 (archived at the vendor); reading again
    from its cursor gives nothing, or, with ``again``, deletes L-0 again."""

    name = "deleting"
    again: ClassVar[bool] = False

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        done = Cursor(stream=stream, state={"done": 1})
        if cursor is not None:
            yield Batch(
                stream=stream, records=[], cursor=done, deleted=["L-0"] if self.again else []
            )
            return
        lead = Lead(id="L-1", created_at=datetime(2026, 1, 5, 9, tzinfo=UTC))
        yield Batch(stream=stream, records=[lead], cursor=done, deleted=["L-0"])


class RedeletingConnector(DeletingConnector):
    name = "redeleting"
    again = True


def test_the_contract_accepts_deletions_and_catches_repeated_ones(tmp_path: Path) -> None:
    check_connector(DeletingConnector, sample(tmp_path))
    with pytest.raises(AssertionError) as info:
        check_incremental(RedeletingConnector, sample(tmp_path))
    assert str(info.value) == (
        "leads: reading again from the last cursor, the data unchanged, deleted L-0 again; a "
        "connector that reads a window again for safety says so with rereads_window=True"
    )
    check_incremental(RedeletingConnector, sample(tmp_path), rereads_window=True)


def test_a_column_path_that_differs_from_the_row_path_breaks_the_contract(
    tmp_path: Path,
) -> None:
    from slacore.connector import ColumnBatch
    from slacore.testing import check_columns
    from slacore_connectors.csvfile import CsvConnector

    class Forgetful(CsvConnector):
        """Its column path leaves out each batch's last row."""

        name: ClassVar[str] = "forgetful"

        def read_columns(self, stream: Stream, cursor: Cursor | None) -> Iterator[ColumnBatch]:
            for batch in super().read_columns(stream, cursor):
                kept = batch.table.slice(0, max(batch.num_rows - 1, 0))
                lines = batch.lines[: kept.num_rows] if batch.lines is not None else None
                yield ColumnBatch(
                    stream=batch.stream, table=kept, cursor=batch.cursor, lines=lines,
                    rejected=batch.rejected, notices=batch.notices, from_start=batch.from_start,
                )  # fmt: skip

    (tmp_path / "leads.csv").write_text(
        "id,created_at\nL1,2026-03-02T09:00:00Z\nL2,2026-03-02T10:00:00Z\n", encoding="utf-8"
    )
    settings = {"path": str(tmp_path)}
    check_columns(CsvConnector, settings)
    with pytest.raises(AssertionError, match="leads: read_columns gives 1 records, read_stream 2"):
        check_columns(Forgetful, settings)
