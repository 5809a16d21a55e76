"""`slacore store migrate SRC DST`: a store copied into the other engine and back, through the
real command line."""

from __future__ import annotations

from pathlib import Path

from tests.cli import demo, slacore

from slacore_connectors.store import DuckDBStore, SQLiteStore, open_store


def test_migrate_copies_every_table_into_duckdb_and_back(tmp_path: Path) -> None:
    folder = demo(tmp_path)
    done = slacore("store", "migrate", "slacore.db", "copy.duckdb", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("copied slacore.db into copy.duckdb (duckdb): ")
    back = slacore("store", "migrate", "copy.duckdb", "back.db", cwd=folder)
    assert back.returncode == 0, back.stderr
    with (
        open_store(folder / "slacore.db", read_only=True) as original,
        open_store(folder / "copy.duckdb", read_only=True) as copy,
        open_store(folder / "back.db", read_only=True) as again,
    ):
        assert (type(copy), type(again)) == (DuckDBStore, SQLiteStore)
        assert copy.dump() == original.dump() == again.dump()
        assert original.dump()["handoffs"], "the demo stored hand-offs"
        assert copy.runs() == original.runs() == again.runs()
        for stream in ("leads", "touches", "deals"):
            assert list(copy.records(stream)) == list(original.records(stream))
        mark = original.watermark(at=original.runs()[-1].started_at)
        assert copy.watermark(at=mark.at) == mark
    # The copy goes on as the original would: a run numbered after the copied ones.
    with open_store(folder / "copy.duckdb") as copy:
        assert copy.start_run("crm") == len(copy.runs())


def test_migrate_refuses_an_existing_destination(tmp_path: Path) -> None:
    folder = demo(tmp_path)
    (folder / "taken.duckdb").write_bytes(b"")
    done = slacore("store", "migrate", "slacore.db", "taken.duckdb", cwd=folder)
    assert done.returncode == 1
    assert "taken.duckdb: already exists: the copy goes into a new store" in done.stderr
    assert (folder / "taken.duckdb").read_bytes() == b""
    missing = slacore("store", "migrate", "nothing.db", "new.duckdb", cwd=folder)
    assert missing.returncode == 1
    assert "nothing.db: no store here" in missing.stderr
    assert not (folder / "new.duckdb").exists()


def test_migrate_refuses_while_a_sync_holds_the_lock(tmp_path: Path) -> None:
    folder = demo(tmp_path)
    with open_store(folder / "slacore.db", locked=True):  # a sync running on it
        done = slacore("store", "migrate", "slacore.db", "copy.duckdb", cwd=folder)
    assert done.returncode == 1
    assert "another sync is running on slacore.db" in done.stderr
    assert not (folder / "copy.duckdb").exists()
    again = slacore("store", "migrate", "slacore.db", "copy.duckdb", cwd=folder)
    assert again.returncode == 0, again.stderr
