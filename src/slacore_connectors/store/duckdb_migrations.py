"""The DuckDB store's schema: numbered migrations of literal SQL, applied in order on open.

Migration ``n`` brings a DuckDB store from schema version ``n - 1`` to ``n``; the version is
the one row of the table ``slacore_schema`` (DuckDB has no ``PRAGMA user_version``). A
released migration is frozen, as :mod:`slacore_connectors.store.migrations` says of the
SQLite store's; ``tests/slacore_connectors/test_migrate_duckdb.py`` pins every version.

The numbers are the DuckDB store's own: its version 1 holds what the SQLite store reached in
seven (deletions, rejected records closed, sources, period results).
"""

from __future__ import annotations

__all__ = ["DUCKDB_MIGRATIONS", "DUCKDB_SCHEMA_VERSION"]

# Version 1. A record table holds: row_id, numbered by the store in the order rows are
# stored (DuckDB has no rowid that stays); source_name and key, the record's natural key (one
# current row per pair: the store's upsert keeps it, and checks it in each batch, as DuckDB
# has no partial unique index); digest, of the record's fields; seen_from, seen_to and
# last_seen, when the store learnt it (epoch microseconds); time_us, the main time in epoch
# microseconds, for ranges (DuckDB skips row groups by their min/max) and order (reps have
# none); then the record's own fields in the model's order: times as ISO 8601 text with
# their offset (so a record comes back with the offset it had), money as decimal text (its
# exact digits), flags BOOLEAN, the rest VARCHAR.
_RECORD = (
    "row_id BIGINT NOT NULL, source_name VARCHAR NOT NULL, key VARCHAR NOT NULL, "
    "digest VARCHAR NOT NULL, seen_from BIGINT NOT NULL, seen_to BIGINT, "
    "last_seen BIGINT NOT NULL"
)
_MIGRATION_1 = (
    "CREATE TABLE slacore_schema (version INTEGER NOT NULL)",
    f"CREATE TABLE leads ({_RECORD}, time_us BIGINT, id VARCHAR, created_at VARCHAR, "
    "source VARCHAR, segment VARCHAR, owner_id VARCHAR, stage VARCHAR, hand_raiser BOOLEAN)",
    f"CREATE TABLE stage_changes ({_RECORD}, time_us BIGINT, lead_id VARCHAR, "
    'to_stage VARCHAR, "at" VARCHAR, from_stage VARCHAR, owner_id VARCHAR)',
    f"CREATE TABLE handoffs ({_RECORD}, time_us BIGINT, lead_id VARCHAR, "
    "notified_at VARCHAR, stage VARCHAR, owner_id VARCHAR, from_team VARCHAR, "
    "to_team VARCHAR, source VARCHAR, segment VARCHAR, hand_raiser BOOLEAN)",
    f"CREATE TABLE touches ({_RECORD}, time_us BIGINT, lead_id VARCHAR, rep_id VARCHAR, "
    '"at" VARCHAR, channel VARCHAR)',
    f"CREATE TABLE deals ({_RECORD}, time_us BIGINT, id VARCHAR, amount VARCHAR, "
    "opened_at VARCHAR, lead_id VARCHAR, closed_at VARCHAR, won BOOLEAN, owner_id VARCHAR)",
    f"CREATE TABLE reps ({_RECORD}, id VARCHAR, name VARCHAR, email VARCHAR, team VARCHAR, "
    "active BOOLEAN)",
    f"CREATE TABLE owner_changes ({_RECORD}, time_us BIGINT, lead_id VARCHAR, "
    'owner_id VARCHAR, "at" VARCHAR)',
    "CREATE TABLE cursors (source_name VARCHAR NOT NULL, stream VARCHAR NOT NULL, "
    "cursor VARCHAR NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (source_name, stream))",
    "CREATE SEQUENCE sync_run_ids START 1",
    "CREATE TABLE sync_runs (run_id BIGINT PRIMARY KEY DEFAULT nextval('sync_run_ids'), "
    "source_name VARCHAR NOT NULL, started_at BIGINT NOT NULL, finished_at BIGINT, "
    'status VARCHAR NOT NULL, "full" INTEGER NOT NULL DEFAULT 0, '
    "counts VARCHAR NOT NULL DEFAULT '{}', error VARCHAR, connector VARCHAR)",
    "CREATE SEQUENCE rejected_ids START 1",
    "CREATE TABLE rejected (rejected_id BIGINT NOT NULL DEFAULT nextval('rejected_ids'), "
    "source_name VARCHAR NOT NULL, stream VARCHAR NOT NULL, origin VARCHAR, line BIGINT, "
    "record_id VARCHAR, field VARCHAR, reason VARCHAR NOT NULL, raw VARCHAR NOT NULL, "
    "first_run BIGINT, last_run BIGINT, first_seen BIGINT NOT NULL, "
    "last_seen BIGINT NOT NULL, identity VARCHAR NOT NULL, seen_to BIGINT, "
    "PRIMARY KEY (source_name, identity))",
    "CREATE TABLE sources (source_name VARCHAR NOT NULL PRIMARY KEY, "
    "connector VARCHAR NOT NULL, claimed_at BIGINT NOT NULL)",
    "CREATE TABLE period_results (fingerprint VARCHAR NOT NULL, label VARCHAR NOT NULL, "
    '"start" VARCHAR NOT NULL, "end" VARCHAR NOT NULL, met INTEGER, since VARCHAR NOT NULL, '
    "leads BLOB NOT NULL, PRIMARY KEY (fingerprint, label))",
    "CREATE TABLE period_marks (fingerprint VARCHAR NOT NULL PRIMARY KEY, "
    "mark VARCHAR NOT NULL, settled INTEGER NOT NULL)",
)
"""Version 1: a table per stream, cursors, sync runs, rejected records, sources, period
results."""

DUCKDB_MIGRATIONS: tuple[tuple[str, ...], ...] = (_MIGRATION_1,)
"""The statements of each migration, in order; migration ``n`` is ``DUCKDB_MIGRATIONS[n - 1]``."""

DUCKDB_SCHEMA_VERSION = len(DUCKDB_MIGRATIONS)
"""The schema version this code writes in a DuckDB store."""
