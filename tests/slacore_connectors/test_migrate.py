"""The store's schema, pinned version by version, as simonw/llm's tests/test_migrate.py does.

A released migration never changes: if one of these tests fails after a model change, the
change needs a new migration, not an edit of an old one (and a new pinned version here).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from slacore_connectors.store import SCHEMA_VERSION, open_store
from slacore_connectors.store._tables import TABLES
from slacore_connectors.store.migrations import MIGRATIONS

Schema = tuple[dict[str, list[str]], dict[str, str | None]]

_RECORD_1 = [
    "row_id INTEGER PK1",
    "source_name TEXT NOT NULL",
    "key TEXT NOT NULL",
    "digest TEXT NOT NULL",
    "seen_from INTEGER NOT NULL",
    "seen_to INTEGER",
    "last_seen INTEGER NOT NULL",
]
_TIMED_1 = [*_RECORD_1, "time_us INTEGER"]

SCHEMAS: dict[int, Schema] = {
    1: (
        {
            "cursors": [
                "source_name TEXT NOT NULL PK1",
                "stream TEXT NOT NULL PK2",
                "cursor TEXT NOT NULL",
                "updated_at INTEGER NOT NULL",
            ],
            "deals": [*_TIMED_1, "id", "amount", "opened_at", "lead_id", "closed_at", "won"],
            "handoffs": [
                *_TIMED_1,
                "lead_id",
                "notified_at",
                "stage",
                "owner_id",
                "from_team",
                "to_team",
                "source",
                "segment",
                "hand_raiser",
            ],
            "leads": [
                *_TIMED_1,
                "id",
                "created_at",
                "source",
                "segment",
                "owner_id",
                "stage",
                "hand_raiser",
            ],
            "owner_changes": [*_TIMED_1, "lead_id", "owner_id", "at"],
            "rejected": [
                "rejected_id INTEGER PK1",
                "source_name TEXT NOT NULL",
                "stream TEXT NOT NULL",
                "origin TEXT",
                "line INTEGER",
                "record_id TEXT",
                "field TEXT",
                "reason TEXT NOT NULL",
                "raw TEXT NOT NULL",
                "first_run INTEGER",
                "last_run INTEGER",
                "first_seen INTEGER NOT NULL",
                "last_seen INTEGER NOT NULL",
                "identity TEXT NOT NULL",
            ],
            "reps": [*_RECORD_1, "id", "name", "email", "team", "active"],
            "stage_changes": [*_TIMED_1, "lead_id", "to_stage", "at", "from_stage", "owner_id"],
            "sync_runs": [
                "run_id INTEGER PK1",
                "source_name TEXT NOT NULL",
                "started_at INTEGER NOT NULL",
                "finished_at INTEGER",
                "status TEXT NOT NULL",
                "full INTEGER NOT NULL DEFAULT 0",
                "counts TEXT NOT NULL DEFAULT '{}'",
                "error TEXT",
            ],
            "touches": [*_TIMED_1, "lead_id", "rep_id", "at", "channel"],
        },
        {
            **{
                f"{table}_current": (
                    f"CREATE UNIQUE INDEX {table}_current ON {table} (source_name, key) "
                    "WHERE seen_to IS NULL"
                )
                for table in (
                    "deals",
                    "handoffs",
                    "leads",
                    "owner_changes",
                    "reps",
                    "stage_changes",
                    "touches",
                )
            },
            **{
                f"{table}_time": f"CREATE INDEX {table}_time ON {table} (time_us)"
                for table in (
                    "deals",
                    "handoffs",
                    "leads",
                    "owner_changes",
                    "stage_changes",
                    "touches",
                )
            },
            "rejected_identity": (
                "CREATE UNIQUE INDEX rejected_identity ON rejected (source_name, identity)"
            ),
            "sqlite_autoindex_cursors_1": None,  # the primary key of cursors
        },
    ),
}
"""Each version's tables (their columns as PRAGMA table_info gives them: name, type,
NOT NULL, DEFAULT, and PKn for the n-th column of the primary key) and indexes (their SQL)."""

# Version 2: rejected records are closed (seen_to) when a read from the start replaces them.
SCHEMAS[2] = (
    {**SCHEMAS[1][0], "rejected": [*SCHEMAS[1][0]["rejected"], "seen_to INTEGER"]},
    SCHEMAS[1][1],
)

# Version 3: each source's connector (the table sources), and each run's.
SCHEMAS[3] = (
    {
        **SCHEMAS[2][0],
        "sources": [
            "source_name TEXT NOT NULL PK1",
            "connector TEXT NOT NULL",
            "claimed_at INTEGER NOT NULL",
        ],
        "sync_runs": [*SCHEMAS[2][0]["sync_runs"], "connector TEXT"],
    },
    {**SCHEMAS[2][1], "sqlite_autoindex_sources_1": None},  # the primary key of sources
)

# Version 4: the current events of a lead, by the lead's id (a deleted lead closes them).
SCHEMAS[4] = (
    SCHEMAS[3][0],
    {
        **SCHEMAS[3][1],
        **{
            f"{table}_lead": (
                f"CREATE INDEX {table}_lead ON {table} (source_name, lead_id) WHERE seen_to IS NULL"
            )
            for table in ("handoffs", "owner_changes", "stage_changes", "touches")
        },
    },
)

# Version 5: each deal's owner.
SCHEMAS[5] = (
    {**SCHEMAS[4][0], "deals": [*SCHEMAS[4][0]["deals"], "owner_id"]},
    SCHEMAS[4][1],
)

# Version 6: stored period results and their marks; each read table's closed rows indexed.
SCHEMAS[6] = (
    {
        **SCHEMAS[5][0],
        "period_results": [
            "fingerprint TEXT NOT NULL PK1",
            "label TEXT NOT NULL PK2",
            "start TEXT NOT NULL",
            "end TEXT NOT NULL",
            "met INTEGER",
            "since TEXT NOT NULL",
            "leads BLOB NOT NULL",
        ],
        "period_marks": [
            "fingerprint TEXT NOT NULL PK1",
            "mark TEXT NOT NULL",
            "settled INTEGER NOT NULL",
        ],
    },
    {
        **SCHEMAS[5][1],
        **{
            f"{table}_closed": (
                f"CREATE INDEX {table}_closed ON {table} (seen_to) WHERE seen_to IS NOT NULL"
            )
            for table in ("deals", "handoffs", "owner_changes", "reps", "stage_changes", "touches")
        },
        "sqlite_autoindex_period_results_1": None,  # the primary key of period_results
        "sqlite_autoindex_period_marks_1": None,  # the primary key of period_marks
    },
)

# Version 7: the current rejected records of a stream, by record id.
SCHEMAS[7] = (
    SCHEMAS[6][0],
    {
        **SCHEMAS[6][1],
        "rejected_current": (
            "CREATE INDEX rejected_current ON rejected (source_name, stream, record_id) "
            "WHERE seen_to IS NULL"
        ),
    },
)


def _column(row: tuple[int, str, str, int, str | None, int]) -> str:
    _, name, kind, notnull, default, pk = row
    parts = [
        name,
        kind,
        "NOT NULL" if notnull else "",
        "" if default is None else f"DEFAULT {default}",
    ]
    if pk:
        parts.append(f"PK{pk}")
    return " ".join(part for part in parts if part)


def schema(db: sqlite3.Connection) -> Schema:
    names = "SELECT name, sql FROM sqlite_master WHERE type = ? ORDER BY name"
    tables = {
        name: [_column(row) for row in db.execute(f"PRAGMA table_info({name})")]
        for name, _ in db.execute(names, ("table",)).fetchall()
    }
    indexes = dict(db.execute(names, ("index",)).fetchall())
    return tables, indexes


def migrated_to(version: int) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    for statements in MIGRATIONS[:version]:
        for statement in statements:
            db.execute(statement)
    db.execute(f"PRAGMA user_version = {version}")
    return db


def test_every_version_is_pinned() -> None:
    assert sorted(SCHEMAS) == list(range(1, SCHEMA_VERSION + 1))


@pytest.mark.parametrize("version", sorted(SCHEMAS))
def test_the_schema_of_each_version(version: int) -> None:
    assert schema(migrated_to(version)) == SCHEMAS[version]


def test_migrations_are_literal_sql() -> None:
    # Statements, not functions of the model: a later field cannot change a past version.
    assert all(isinstance(statement, str) for step in MIGRATIONS for statement in step)


@pytest.mark.parametrize("version", range(SCHEMA_VERSION))
def test_an_older_store_is_brought_up_to_date(tmp_path: Path, version: int) -> None:
    path = tmp_path / "old.db"
    db = migrated_to(version)
    db.execute("VACUUM INTO ?", (str(path),))
    db.close()
    with open_store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
    with sqlite3.connect(path) as db:
        assert schema(db) == SCHEMAS[SCHEMA_VERSION]


def test_the_record_columns_the_store_writes_are_the_latest_schema() -> None:
    tables, _ = SCHEMAS[SCHEMA_VERSION]
    for table in TABLES.values():
        bookkeeping = [c.split()[0] for c in (_TIMED_1 if table.time_column else _RECORD_1)]
        assert [c.split()[0] for c in tables[table.name]] == [*bookkeeping, *table.columns]
