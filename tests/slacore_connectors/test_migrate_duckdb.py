"""The DuckDB store's schema, pinned version by version, as test_migrate.py pins SQLite's.

A released migration never changes: if one of these tests fails after a model change, the
change needs a new migration in ``store/duckdb_migrations.py`` (and a new pinned version
here), not an edit of an old one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from slacore.connector import core_fields
from slacore_connectors.store import DUCKDB_SCHEMA_VERSION, DuckDBStore, StoreError, open_store
from slacore_connectors.store._tables import TABLES
from slacore_connectors.store.duckdb_migrations import DUCKDB_MIGRATIONS

duckdb = pytest.importorskip("duckdb")

Schema = tuple[dict[str, list[str]], list[str], list[str]]

_RECORD_1 = [
    "row_id BIGINT NOT NULL",
    "source_name VARCHAR NOT NULL",
    "key VARCHAR NOT NULL",
    "digest VARCHAR NOT NULL",
    "seen_from BIGINT NOT NULL",
    "seen_to BIGINT",
    "last_seen BIGINT NOT NULL",
]
_TIMED_1 = [*_RECORD_1, "time_us BIGINT"]

SCHEMAS: dict[int, Schema] = {
    1: (
        {
            "cursors": [
                "source_name VARCHAR NOT NULL",
                "stream VARCHAR NOT NULL",
                "cursor VARCHAR NOT NULL",
                "updated_at BIGINT NOT NULL",
            ],
            "deals": [
                *_TIMED_1,
                "id VARCHAR",
                "amount VARCHAR",
                "opened_at VARCHAR",
                "lead_id VARCHAR",
                "closed_at VARCHAR",
                "won BOOLEAN",
                "owner_id VARCHAR",
            ],
            "handoffs": [
                *_TIMED_1,
                "lead_id VARCHAR",
                "notified_at VARCHAR",
                "stage VARCHAR",
                "owner_id VARCHAR",
                "from_team VARCHAR",
                "to_team VARCHAR",
                "source VARCHAR",
                "segment VARCHAR",
                "hand_raiser BOOLEAN",
            ],
            "leads": [
                *_TIMED_1,
                "id VARCHAR",
                "created_at VARCHAR",
                "source VARCHAR",
                "segment VARCHAR",
                "owner_id VARCHAR",
                "stage VARCHAR",
                "hand_raiser BOOLEAN",
            ],
            "owner_changes": [*_TIMED_1, "lead_id VARCHAR", "owner_id VARCHAR", "at VARCHAR"],
            "period_marks": [
                "fingerprint VARCHAR NOT NULL",
                "mark VARCHAR NOT NULL",
                "settled INTEGER NOT NULL",
            ],
            "period_results": [
                "fingerprint VARCHAR NOT NULL",
                "label VARCHAR NOT NULL",
                "start VARCHAR NOT NULL",
                "end VARCHAR NOT NULL",
                "met INTEGER",
                "since VARCHAR NOT NULL",
                "leads BLOB NOT NULL",
            ],
            "rejected": [
                "rejected_id BIGINT NOT NULL DEFAULT nextval('rejected_ids')",
                "source_name VARCHAR NOT NULL",
                "stream VARCHAR NOT NULL",
                "origin VARCHAR",
                "line BIGINT",
                "record_id VARCHAR",
                "field VARCHAR",
                "reason VARCHAR NOT NULL",
                "raw VARCHAR NOT NULL",
                "first_run BIGINT",
                "last_run BIGINT",
                "first_seen BIGINT NOT NULL",
                "last_seen BIGINT NOT NULL",
                "identity VARCHAR NOT NULL",
                "seen_to BIGINT",
            ],
            "reps": [
                *_RECORD_1,
                "id VARCHAR",
                "name VARCHAR",
                "email VARCHAR",
                "team VARCHAR",
                "active BOOLEAN",
            ],
            "slacore_schema": ["version INTEGER NOT NULL"],
            "sources": [
                "source_name VARCHAR NOT NULL",
                "connector VARCHAR NOT NULL",
                "claimed_at BIGINT NOT NULL",
            ],
            "stage_changes": [
                *_TIMED_1,
                "lead_id VARCHAR",
                "to_stage VARCHAR",
                "at VARCHAR",
                "from_stage VARCHAR",
                "owner_id VARCHAR",
            ],
            "sync_runs": [
                "run_id BIGINT NOT NULL DEFAULT nextval('sync_run_ids')",
                "source_name VARCHAR NOT NULL",
                "started_at BIGINT NOT NULL",
                "finished_at BIGINT",
                "status VARCHAR NOT NULL",
                "full INTEGER NOT NULL DEFAULT 0",
                "counts VARCHAR NOT NULL DEFAULT '{}'",
                "error VARCHAR",
                "connector VARCHAR",
            ],
            "touches": [
                *_TIMED_1,
                "lead_id VARCHAR",
                "rep_id VARCHAR",
                "at VARCHAR",
                "channel VARCHAR",
            ],
        },
        [
            "cursors (source_name, stream)",
            "period_marks (fingerprint)",
            "period_results (fingerprint, label)",
            "rejected (source_name, identity)",
            "sources (source_name)",
            "sync_runs (run_id)",
        ],
        ["rejected_ids", "sync_run_ids"],
    ),
}
"""Per version: each table's columns (name, type, NOT NULL, DEFAULT), the primary keys, and
the sequences."""


def schema(db: Any) -> Schema:
    """The schema of a DuckDB database, in :data:`SCHEMAS`' shape."""
    tables: dict[str, list[str]] = {}
    for table, column, kind, nullable, default in db.execute(
        "SELECT table_name, column_name, data_type, is_nullable, column_default "
        "FROM duckdb_columns() WHERE database_name = current_database() "
        "ORDER BY table_name, column_index"
    ).fetchall():
        text = f"{column} {kind}" + ("" if nullable else " NOT NULL")
        if default is not None:
            text += f" DEFAULT {default}"
        tables.setdefault(table, []).append(text)
    keys = [
        f"{table} ({', '.join(columns)})"
        for table, columns in db.execute(
            "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
            "WHERE constraint_type = 'PRIMARY KEY' ORDER BY 1"
        ).fetchall()
    ]
    sequences = [
        row[0]
        for row in db.execute("SELECT sequence_name FROM duckdb_sequences() ORDER BY 1").fetchall()
    ]
    return tables, keys, sequences


def migrated_to(version: int) -> Any:
    db = duckdb.connect(":memory:")
    for migration in DUCKDB_MIGRATIONS[:version]:
        for statement in migration:
            db.execute(statement)
    return db


def test_every_version_is_pinned() -> None:
    assert sorted(SCHEMAS) == list(range(1, DUCKDB_SCHEMA_VERSION + 1))


@pytest.mark.parametrize("version", sorted(SCHEMAS))
def test_the_schema_of_each_version(version: int) -> None:
    assert schema(migrated_to(version)) == SCHEMAS[version]


def test_migrations_are_literal_sql() -> None:
    for migration in DUCKDB_MIGRATIONS:
        assert all(isinstance(statement, str) for statement in migration)


def test_a_new_store_has_the_latest_schema_and_records_its_version(tmp_path: Path) -> None:
    DuckDBStore(tmp_path / "sla.duckdb").close()
    with duckdb.connect(str(tmp_path / "sla.duckdb"), read_only=True) as db:
        assert schema(db) == SCHEMAS[DUCKDB_SCHEMA_VERSION]
        assert db.execute("SELECT version FROM slacore_schema").fetchall() == [
            (DUCKDB_SCHEMA_VERSION,)
        ]


def test_the_record_columns_the_store_writes_are_the_latest_schema() -> None:
    tables = SCHEMAS[DUCKDB_SCHEMA_VERSION][0]
    for table in TABLES.values():
        columns = [column.split()[0] for column in tables[table.name]]
        bookkeeping = len(_TIMED_1 if table.time_column else _RECORD_1)
        assert columns[bookkeeping:] == [f.name for f in core_fields(table.stream)], table.name


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sla.duckdb"
    DuckDBStore(path).close()
    with duckdb.connect(str(path)) as db:
        db.execute("UPDATE slacore_schema SET version = ?", [DUCKDB_SCHEMA_VERSION + 1])
    for read_only in (True, False):
        with pytest.raises(StoreError, match="newer than this slacore's 1: upgrade slacore"):
            open_store(path, read_only=read_only)
