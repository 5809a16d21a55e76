"""The store's file on the disk: reading never writes, and odd files are refused, untouched.

Run for real: SQLite files in a temporary folder, ``slacore`` in a subprocess.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.cli import slacore

from slacore_connectors.store import SCHEMA_VERSION, StoreError, open_store

ROOT = Path(__file__).resolve().parents[2]
AGREEMENT = ROOT / "examples" / "company_a.toml"


def job(folder: Path, store: str = "slacore.db") -> Path:
    """A job file in ``folder`` naming ``store``, the example agreement and a CSV source."""
    shutil.copy(AGREEMENT, folder / "company_a.toml")
    data = folder / "data"
    data.mkdir(exist_ok=True)
    (data / "leads.csv").write_text(
        "id,created_at,source\nL1,2026-03-02T09:00:00+00:00,web\n", encoding="utf-8"
    )
    path = folder / "slacore.toml"
    path.write_text(
        f'store = "{store}"\nagreement = "company_a.toml"\n'
        '[[sources]]\nname = "crm"\nconnector = "csv"\nsettings = { path = "data" }\n',
        encoding="utf-8",
    )
    return path


def foreign(path: Path, *, wal: bool = False) -> str:
    """Another application's SQLite database at ``path``; returns the digest of its bytes."""
    db = sqlite3.connect(path)
    if wal:
        db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    db.execute("INSERT INTO notes (body) VALUES ('keep me')")
    db.commit()
    db.close()
    return digest(path)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("slacore: error: ")
    return line


# --- another application's database -----------------------------------------------------------


@pytest.mark.parametrize("wal", [False, True], ids=["rollback-journal", "wal"])
@pytest.mark.parametrize(
    "how",
    [{"read_only": True}, {}, {"locked": True}],
    ids=["to-read", "to-write", "to-sync"],
)
def test_another_applications_database_is_refused_untouched(
    tmp_path: Path, wal: bool, how: dict[str, bool]
) -> None:
    path = tmp_path / "app.db"
    before = foreign(path, wal=wal)
    with pytest.raises(StoreError, match="not a slacore store") as info:
        open_store(path, **how)
    assert info.value.path == str(path)
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]  # no lock, no log
    db = sqlite3.connect(path)
    assert db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall() == [
        ("notes",)
    ]
    db.close()


def test_report_on_another_applications_database_changes_nothing(tmp_path: Path) -> None:
    job(tmp_path, "app.db")
    before = foreign(tmp_path / "app.db")
    line = one_error_line(slacore("report", cwd=tmp_path))
    assert f"{tmp_path / 'app.db'}: not a slacore store" in line
    assert digest(tmp_path / "app.db") == before


def test_sync_on_another_applications_database_changes_nothing(tmp_path: Path) -> None:
    job(tmp_path, "app.db")
    before = foreign(tmp_path / "app.db")
    line = one_error_line(slacore("sync", cwd=tmp_path))
    assert f"{tmp_path / 'app.db'}: not a slacore store" in line
    assert digest(tmp_path / "app.db") == before
    assert not (tmp_path / "app.db.lock").exists()


def test_a_database_with_slacores_table_names_but_no_version_is_not_a_store(
    tmp_path: Path,
) -> None:
    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    for name in ("cursors", "rejected", "sync_runs"):
        db.execute(f"CREATE TABLE {name} (x)")
    db.commit()
    db.close()
    before = digest(path)
    with pytest.raises(StoreError, match="not a slacore store"):
        open_store(path)
    assert digest(path) == before


# --- reading never writes -------------------------------------------------------------------


def test_reading_a_store_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "sla.db"
    with open_store(path) as store:
        store.start_run("crm")
    before = digest(path)
    with open_store(path, read_only=True) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert [run.status for run in store.runs()] == ["running"]
    assert digest(path) == before
    # SQLite's shared index of the write-ahead log may appear beside the store; nothing else.
    assert {p.name for p in tmp_path.iterdir()} <= {"sla.db", "sla.db-wal", "sla.db-shm"}
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0


def test_reading_a_missing_store_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "sla.db"
    with pytest.raises(StoreError, match="no store here") as info:
        open_store(path, read_only=True)
    assert str(path) in str(info.value)
    assert not path.parent.exists()


def test_report_on_a_missing_store_names_it(tmp_path: Path) -> None:
    job(tmp_path, "sla.db")
    done = slacore("report", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"no store at {tmp_path / 'sla.db'}" in done.stderr
    assert not (tmp_path / "sla.db").exists()


def test_opening_to_write_creates_a_new_store(tmp_path: Path) -> None:
    path = tmp_path / "new" / "sla.db"
    with open_store(path, locked=True) as store:
        assert store.schema_version == SCHEMA_VERSION
    path.unlink()
    path.write_bytes(b"")  # an empty file: nothing in it to keep
    with open_store(path) as store:
        assert store.schema_version == SCHEMA_VERSION


def test_a_reader_takes_no_lock() -> None:
    with pytest.raises(ValueError, match="read-only"):
        open_store("sla.db", read_only=True, locked=True)


# --- read-only stores and folders -----------------------------------------------------------


def without_override() -> list[str]:
    """What to run a command under so that file permissions hold for it.

    Root passes them by its capabilities to override them: as root the command runs under
    ``setpriv`` without those (still root, so its own files' owner bits apply).
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file permissions are not enforced")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]


@pytest.fixture
def synced(tmp_path: Path) -> Iterator[Path]:
    """A folder with a store that one sync made; its permissions are put back at the end."""
    job(tmp_path)
    done = slacore("sync", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "company_a.toml", "data", "slacore.db", "slacore.db.lock", "slacore.toml"
    ]  # fmt: skip
    yield tmp_path
    tmp_path.chmod(0o755)


def restricted(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``slacore ARGS`` in ``folder``, subject to file permissions."""
    prefix = without_override()
    probe = [*prefix, sys.executable, "-c", "import os; assert not os.access('.', os.W_OK)"]
    mode = folder.stat().st_mode
    folder.chmod(0o555)
    try:
        enforced = subprocess.run(probe, cwd=folder, check=False).returncode == 0
    finally:
        folder.chmod(mode)
    if not enforced:
        pytest.skip("file permissions are not enforced here")
    return subprocess.run(
        [*prefix, sys.executable, "-m", "slacore_connectors", *args],
        capture_output=True, text=True, timeout=120, check=False, cwd=folder,
    )  # fmt: skip


def test_sync_on_a_read_only_store_names_it(synced: Path) -> None:
    store = synced / "slacore.db"
    store.chmod(0o444)  # the lock file can be made; the store cannot be written
    before = digest(store)
    line = one_error_line(restricted(synced, "sync"))
    assert line == (
        f"slacore: error: {store}: cannot open the store to write: "
        "attempt to write a readonly database"
    )
    assert digest(store) == before


def test_sync_in_a_read_only_folder_names_the_lock(synced: Path) -> None:
    store = synced / "slacore.db"
    (synced / "slacore.db.lock").unlink()
    synced.chmod(0o555)
    line = one_error_line(restricted(synced, "sync"))
    assert line == (
        f"slacore: error: {store}: cannot take the sync lock {store}.lock: Permission denied"
    )


def test_report_reads_a_store_in_a_read_only_folder(synced: Path) -> None:
    synced.chmod(0o555)
    before = digest(synced / "slacore.db")
    done = restricted(synced, "report", "--json", "--period", "2026-03")
    # The store was read: it holds leads and no hand-offs, so there is nothing to report.
    assert done.returncode == 1, done.stderr
    assert done.stderr == "slacore: error: nothing to report: the store holds no hand-offs yet\n"
    assert digest(synced / "slacore.db") == before
    assert not (synced / "slacore.db-wal").exists()


def test_a_directory_in_the_way_of_the_lock_is_named(tmp_path: Path) -> None:
    job(tmp_path)
    (tmp_path / "slacore.db.lock").mkdir()
    line = one_error_line(slacore("sync", cwd=tmp_path))
    store = tmp_path / "slacore.db"
    assert (
        line == f"slacore: error: {store}: cannot take the sync lock {store}.lock: Is a directory"
    )
    assert not store.exists()


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_lock_file_that_cannot_be_made_is_not_another_sync(tmp_path: Path) -> None:
    # /proc takes no new files: filelock waits for a lock it can never make, as for a held one.
    job(tmp_path, store="/proc/sla.db")
    line = one_error_line(slacore("sync", cwd=tmp_path))
    assert line.startswith(
        "slacore: error: /proc/sla.db: cannot take the sync lock /proc/sla.db.lock: "
    )
    assert "another sync" not in line


def test_a_store_whose_log_cannot_be_opened(tmp_path: Path) -> None:
    # What a read-only folder does to a store in WAL mode, as root too: SQLite cannot open
    # the log's shared index. sync cannot write such a store; report reads the file alone.
    job(tmp_path)
    assert slacore("sync", cwd=tmp_path).returncode == 0
    (tmp_path / "slacore.db-shm").mkdir()
    line = one_error_line(slacore("sync", cwd=tmp_path))
    assert line.startswith(f"slacore: error: {tmp_path / 'slacore.db'}: cannot open the store")
    done = slacore("report", "--json", "--period", "2026-03", cwd=tmp_path)
    # Read: it holds leads and no hand-offs, so there is nothing to report.
    assert done.returncode == 1, done.stderr
    assert done.stderr == "slacore: error: nothing to report: the store holds no hand-offs yet\n"


# --- damaged stores -------------------------------------------------------------------------


def _zero_pages(path: Path, share: float) -> None:
    """Zero the pages of the file from ``share`` of it on (0: every page)."""
    data = bytearray(path.read_bytes())
    size = int.from_bytes(data[16:18], "big") or 65536
    start = int(len(data) // size * share) * size
    data[start:] = bytes(len(data) - start)
    path.write_bytes(bytes(data))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "zero-length": lambda path: path.write_bytes(b""),
    "random-bytes": lambda path: path.write_bytes(random.Random(7).randbytes(40_000)),
    "truncated": lambda path: path.write_bytes(path.read_bytes()[: path.stat().st_size // 2]),
    "zeroed-pages": lambda path: _zero_pages(path, 0.1),
    "zeroed-file": lambda path: _zero_pages(path, 0),
    "a-folder": lambda path: (path.unlink(), path.mkdir()),  # type: ignore[func-returns-value]
}


@pytest.fixture
def store_of_many_pages(tmp_path: Path) -> Path:
    job(tmp_path)
    rows = "".join(f"L{i},2026-03-02T09:{i % 60:02d}:00+00:00,web\n" for i in range(2_000))
    (tmp_path / "data" / "leads.csv").write_text(f"id,created_at,source\n{rows}")
    done = slacore("sync", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return tmp_path / "slacore.db"


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_store_is_one_error_line_naming_it(
    store_of_many_pages: Path, damage: str
) -> None:
    path = store_of_many_pages
    DAMAGE[damage](path)
    folder = path.parent
    line = one_error_line(slacore("report", "--period", "2026-03", cwd=folder))
    assert line.startswith(f"slacore: error: {path}: ")
    assert "not a slacore store" in line or "damaged: " in line
    synced = slacore("sync", cwd=folder)
    if damage == "zero-length":
        # An empty file holds nothing to lose: sync makes the store in it.
        assert synced.returncode == 0, synced.stderr
        return
    assert synced.returncode == 1, synced.stdout
    assert "Traceback" not in synced.stderr
    assert str(path) in synced.stderr + synced.stdout


@pytest.mark.parametrize("table", ["sync_runs", "cursors"])
def test_a_zeroed_page_met_by_a_sync_is_one_error_line(
    store_of_many_pages: Path, table: str
) -> None:
    path = store_of_many_pages
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    (page,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    db.close()
    data = bytearray(path.read_bytes())
    size = int.from_bytes(data[16:18], "big")
    data[(page - 1) * size : page * size] = bytes(size)
    path.write_bytes(bytes(data))
    done = slacore("sync", cwd=path.parent)
    damaged = f"{path}: damaged: database disk image is malformed"
    if table == "sync_runs":  # the run cannot be recorded: the whole sync stops
        assert one_error_line(done) == f"slacore: error: {damaged}"
    else:  # the source fails, and the sync goes on with the others
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
        assert f"crm (csv): failed: {damaged}" in done.stdout


def test_every_sqlite_error_of_a_damaged_store_is_a_store_error(store_of_many_pages: Path) -> None:
    path = store_of_many_pages
    _zero_pages(path, 0.5)  # the schema is whole, the leads are not
    with open_store(path, read_only=True) as store:
        with pytest.raises(StoreError, match="damaged: ") as info:
            list(store.records("leads"))
        assert info.value.path == str(path)
        assert isinstance(info.value.__cause__, sqlite3.DatabaseError)
        with pytest.raises(StoreError, match="damaged: "):
            store.dump()


def test_writing_a_store_opened_to_read_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "sla.db"
    with open_store(path) as store:
        store.start_run("crm")
    with (
        open_store(path, read_only=True) as store,
        pytest.raises(StoreError, match="cannot record the run: attempt to write a readonly"),
    ):
        store.start_run("crm")


@pytest.mark.parametrize("how", [{"read_only": True}, {}, {"locked": True}])
def test_another_application_at_work_in_its_database_is_left_alone(
    tmp_path: Path, how: dict[str, bool]
) -> None:
    # Its tables are still only in its write-ahead log: the file alone looks empty.
    path = tmp_path / "app.db"
    app = sqlite3.connect(path, isolation_level=None)
    try:
        app.execute("PRAGMA journal_mode=WAL")
        app.execute("PRAGMA wal_autocheckpoint=0")
        app.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        app.execute("INSERT INTO notes (body) VALUES ('keep me')")
        assert Path(f"{path}-wal").stat().st_size > 0
        with pytest.raises(StoreError, match="not a slacore store"):
            open_store(path, **how)
        names = app.execute("SELECT name FROM sqlite_master").fetchall()
        assert names == [("notes",)]
    finally:
        app.close()
