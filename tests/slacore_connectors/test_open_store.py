"""open_store: a Store from a path or a URL; report, sync and the CLI use nothing else."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import slacore_connectors
from slacore.errors import ValidationError
from slacore_connectors.store import (
    DUCKDB_SCHEMA_VERSION,
    SCHEMA_VERSION,
    DuckDBStore,
    SQLiteStore,
    Store,
    StoreError,
    open_store,
    store_engine,
    store_path,
)
from slacore_connectors.sync import JobConfig

SRC = Path(slacore_connectors.__file__).parent


def test_a_file_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store("slacore.db") as store:
        assert isinstance(store, Store)
        assert store.schema_version == SCHEMA_VERSION
    assert (tmp_path / "slacore.db").exists()


def test_a_path(tmp_path: Path) -> None:
    with open_store(tmp_path / "sub" / "sla.db") as store:
        assert isinstance(store, Store)
    assert (tmp_path / "sub" / "sla.db").exists()


def test_a_relative_sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:///data/sla.db") as store:
        assert isinstance(store, Store)
    assert (tmp_path / "data" / "sla.db").exists()


def test_an_absolute_sqlite_url(tmp_path: Path) -> None:
    path = tmp_path / "abs.db"
    assert path.is_absolute()
    with open_store(f"sqlite:///{path.as_posix()}") as store:
        assert isinstance(store, Store)
    assert path.exists()


def test_in_memory() -> None:
    assert store_path("sqlite://") == store_path("sqlite:///:memory:") == Path(":memory:")
    with open_store("sqlite://") as store:
        assert store.count("leads") == 0


@pytest.mark.parametrize(
    ("name", "engine"),
    [
        ("sla.duckdb", DuckDBStore),
        ("sla.DuckDB", DuckDBStore),
        ("sla.db", SQLiteStore),
        ("sla.sqlite", SQLiteStore),
        ("sla", SQLiteStore),
    ],
)
def test_a_new_store_is_chosen_by_its_name(tmp_path: Path, name: str, engine: type) -> None:
    with open_store(tmp_path / name) as store:
        assert type(store) is engine
    assert (tmp_path / name).exists()


def test_a_duckdb_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store("duckdb:///data/sla.db") as store:
        assert isinstance(store, DuckDBStore)
        assert store.schema_version == DUCKDB_SCHEMA_VERSION
    assert (tmp_path / "data" / "sla.db").read_bytes()[8:12] == b"DUCK"
    with pytest.raises(StoreError, match=r"expected duckdb:///PATH"):
        open_store("duckdb://host/sla.duckdb")


@pytest.mark.parametrize(
    ("made_as", "named", "engine"),
    [
        ("duckdb:///{}", "sla.db", DuckDBStore),
        ("sqlite:///{}", "sla.duckdb", SQLiteStore),
        ("duckdb:///{}", "sla.sqlite", DuckDBStore),
    ],
)
def test_an_existing_file_is_opened_by_what_it_is(
    tmp_path: Path, made_as: str, named: str, engine: type
) -> None:
    path = tmp_path / named
    with open_store(made_as.format(path.as_posix())) as store:
        assert type(store) is engine
    # Named by a path or by the other engine's URL, the file is still what it is.
    other = "sqlite:///{}" if engine is DuckDBStore else "duckdb:///{}"
    for location in (path, str(path), other.format(path.as_posix())):
        assert store_engine(location) == engine.__name__.removesuffix("Store").lower()
        with open_store(location, read_only=True) as store:
            assert type(store) is engine


def test_reading_a_duckdb_store_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "sla.duckdb"
    DuckDBStore(path).close()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with open_store(path, read_only=True) as store:
        assert store.count("touches") == 0
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    with pytest.raises(StoreError, match="no store here"):
        open_store(tmp_path / "missing.duckdb", read_only=True)
    assert not (tmp_path / "missing.duckdb").exists()


@pytest.mark.parametrize("read_only", [True, False])
def test_a_file_that_is_not_a_duckdb_store_is_refused_untouched(
    tmp_path: Path, read_only: bool
) -> None:
    import duckdb

    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as db:
        db.execute("CREATE TABLE notes (text VARCHAR)")
    text = tmp_path / "notes.duckdb"
    text.write_text("not a database at all, but long enough to have a header\n")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(StoreError, match=r"other\.duckdb: not a slacore store: it is another"):
        open_store(other, read_only=read_only)
    with pytest.raises(StoreError, match=r"notes\.duckdb: not a slacore store"):
        open_store(f"duckdb:///{text.as_posix()}", read_only=read_only)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_locked_open_refuses_another_file_before_making_the_lock(tmp_path: Path) -> None:
    text = tmp_path / "notes.duckdb"
    text.write_text("not a database at all, but long enough to have a header\n")
    with pytest.raises(StoreError, match=r"notes\.duckdb: not a slacore store"):
        open_store(text, locked=True)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.duckdb"]


def test_an_unknown_scheme_names_the_supported_ones() -> None:
    with pytest.raises(StoreError, match=r"no store for URL scheme 'postgresql'.*sqlite:///PATH"):
        open_store("postgresql://sla:secret@db.example.com/sla")


def test_the_error_keeps_a_password_out() -> None:
    with pytest.raises(StoreError) as info:
        open_store("postgresql://sla:secret@db.example.com/sla")
    assert "secret" not in str(info.value)


def test_a_sqlite_url_with_a_host_is_refused() -> None:
    with pytest.raises(StoreError, match="three slashes"):
        open_store("sqlite://host/sla.db")


def test_the_job_file_takes_a_url_relative_to_itself(tmp_path: Path) -> None:
    data = {"store": "sqlite:///data/sla.db", "sources": [{"connector": "csv"}]}
    config = JobConfig.from_dict(data, base=tmp_path)
    assert config.store == (tmp_path / "data" / "sla.db").resolve()


def test_the_job_file_refuses_an_unknown_scheme(tmp_path: Path) -> None:
    data = {"store": "postgresql://db/sla", "sources": [{"connector": "csv"}]}
    with pytest.raises(ValidationError, match="sqlite:///PATH") as info:
        JobConfig.from_dict(data, base=tmp_path)
    assert info.value.field == "store"


@pytest.mark.parametrize(
    "name",
    [
        "slacore_connectors.store",
        "slacore_connectors.store.sqlite",
        "slacore_connectors.store.duckdb",
    ],
)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0


def test_report_sync_and_cli_name_no_store_class() -> None:
    # They take the Store interface: a PostgreSQL store must serve them unchanged.
    outside = [p for p in SRC.rglob("*.py") if "store" not in p.relative_to(SRC).parts]
    users = [p.name for p in outside if "SQLiteStore" in p.read_text(encoding="utf-8")]
    assert users == []
