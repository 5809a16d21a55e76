"""The SQLite store's schema: numbered migrations of literal SQL, applied in order on open.

Migration ``n`` brings a store from schema version ``n - 1`` to ``n``; the version is the
file's ``PRAGMA user_version``. A released migration is frozen: it is the SQL that built every
store of its version, so it never reads the model's fields. A record field added later is a
new migration (``ALTER TABLE ... ADD COLUMN``), and ``tests/slacore_connectors/test_migrate.py``
pins the schema of every version.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

# Version 1, as released. A record table holds: row_id; source_name and key, the record's
# natural key (one current row per pair, the index <table>_current); digest, of the record's
# fields; seen_from, seen_to and last_seen, when the store learnt it (epoch microseconds);
# time_us, the main time in epoch microseconds for ranges and order (reps have none); then
# the record's own fields, in the model's order.
_MIGRATION_1 = (
    "CREATE TABLE leads (row_id INTEGER PRIMARY KEY, source_name TEXT NOT NULL, "
    "key TEXT NOT NULL, digest TEXT NOT NULL, seen_from INTEGER NOT NULL, seen_to INTEGER, "
    "last_seen INTEGER NOT NULL, time_us INTEGER, id, created_at, source, segment, owner_id, "
    "stage, hand_raiser)",
    "CREATE UNIQUE INDEX leads_current ON leads (source_name, key) WHERE seen_to IS NULL",
    "CREATE INDEX leads_time ON leads (time_us)",
    "CREATE TABLE stage_changes (row_id INTEGER PRIMARY KEY, source_name TEXT NOT NULL, "
    "key TEXT NOT NULL, digest TEXT NOT NULL, seen_from INTEGER NOT NULL, seen_to INTEGER, "
    "last_seen INTEGER NOT NULL, time_us INTEGER, lead_id, to_stage, at, from_stage, owner_id)",
    "CREATE UNIQUE INDEX stage_changes_current ON stage_changes (source_name, "
    "key) WHERE seen_to IS NULL",
    "CREATE INDEX stage_changes_time ON stage_changes (time_us)",
    "CREATE TABLE handoffs (row_id INTEGER PRIMARY KEY, source_name TEXT NOT NULL, "
    "key TEXT NOT NULL, digest TEXT NOT NULL, seen_from INTEGER NOT NULL, seen_to INTEGER, "
    "last_seen INTEGER NOT NULL, time_us INTEGER, lead_id, notified_at, stage, owner_id, "
    "from_team, to_team, source, segment, hand_raiser)",
    "CREATE UNIQUE INDEX handoffs_current ON handoffs (source_name, key) WHERE seen_to IS NULL",
    "CREATE INDEX handoffs_time ON handoffs (time_us)",
    "CREATE TABLE touches (row_id INTEGER PRIMARY KEY, source_name TEXT NOT NULL, "
    "key TEXT NOT NULL, digest TEXT NOT NULL, seen_from INTEGER NOT NULL, seen_to INTEGER, "
    "last_seen INTEGER NOT NULL, time_us INTEGER, lead_id, rep_id, at, channel)",
    "CREATE UNIQUE INDEX touches_current ON touches (source_name, key) WHERE seen_to IS NULL",
    "CREATE INDEX touches_time ON touches (time_us)",
    "CREATE TABLE deals (row_id INTEGER PRIMARY KEY, source_name TEXT NOT NULL, "
    "key TEXT NOT NULL, digest TEXT NOT NULL, seen_from INTEGER NOT NULL, seen_to INTEGER, "
    "last_seen INTEGER NOT NULL, time_us INTEGER, id, amount, opened_at, lead_id, closed_at, "
    "won)",
    "CREATE UNIQUE INDEX deals_current ON deals (source_name, key) WHERE seen_to IS NULL",
    "CREATE INDEX deals_time ON deals (time_us)",
    "CREATE TABLE reps (row_id INTEGER PRIMARY KEY, source_name TEXT NOT NULL, "
    "key TEXT NOT NULL, digest TEXT NOT NULL, seen_from INTEGER NOT NULL, seen_to INTEGER, "
    "last_seen INTEGER NOT NULL, id, name, email, team, active)",
    "CREATE UNIQUE INDEX reps_current ON reps (source_name, key) WHERE seen_to IS NULL",
    "CREATE TABLE owner_changes (row_id INTEGER PRIMARY KEY, source_name TEXT NOT NULL, "
    "key TEXT NOT NULL, digest TEXT NOT NULL, seen_from INTEGER NOT NULL, seen_to INTEGER, "
    "last_seen INTEGER NOT NULL, time_us INTEGER, lead_id, owner_id, at)",
    "CREATE UNIQUE INDEX owner_changes_current ON owner_changes (source_name, "
    "key) WHERE seen_to IS NULL",
    "CREATE INDEX owner_changes_time ON owner_changes (time_us)",
    "CREATE TABLE cursors (source_name TEXT NOT NULL, stream TEXT NOT NULL, "
    "cursor TEXT NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (source_name, stream))",
    "CREATE TABLE sync_runs (run_id INTEGER PRIMARY KEY, source_name TEXT NOT NULL, "
    "started_at INTEGER NOT NULL, finished_at INTEGER, status TEXT NOT NULL, "
    "full INTEGER NOT NULL DEFAULT 0, counts TEXT NOT NULL DEFAULT '{}', error TEXT)",
    "CREATE TABLE rejected (rejected_id INTEGER PRIMARY KEY, source_name TEXT NOT NULL, "
    "stream TEXT NOT NULL, origin TEXT, line INTEGER, record_id TEXT, field TEXT, "
    "reason TEXT NOT NULL, raw TEXT NOT NULL, first_run INTEGER, last_run INTEGER, "
    "first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, identity TEXT NOT NULL)",
    "CREATE UNIQUE INDEX rejected_identity ON rejected (source_name, identity)",
)
"""Version 1: a table per stream, cursors, sync runs and rejected records."""

# Version 2: a rejected record is versioned like a record. seen_to is when a read of its
# stream from the start (a file read again because it changed) replaced it; NULL while it is
# current.
_MIGRATION_2 = ("ALTER TABLE rejected ADD COLUMN seen_to INTEGER",)
"""Version 2: rejected records replaced by a read from the start are kept, closed."""

# Version 3: the connector that owns each source (whose records, rejected rows and cursors the
# store holds under the source's name), claimed at the source's first sync; and the connector
# of each run. A source synced before version 3 is claimed by its next sync.
_MIGRATION_3 = (
    "CREATE TABLE sources (source_name TEXT NOT NULL PRIMARY KEY, connector TEXT NOT NULL, "
    "claimed_at INTEGER NOT NULL)",
    "ALTER TABLE sync_runs ADD COLUMN connector TEXT",
)
"""Version 3: each source's connector, and each run's."""

# Version 4: the current events of a lead found by its id, so that a lead deleted (archived or
# merged in the CRM) closes its events without reading the whole table.
_MIGRATION_4 = (
    "CREATE INDEX stage_changes_lead ON stage_changes (source_name, lead_id) WHERE seen_to IS NULL",
    "CREATE INDEX handoffs_lead ON handoffs (source_name, lead_id) WHERE seen_to IS NULL",
    "CREATE INDEX touches_lead ON touches (source_name, lead_id) WHERE seen_to IS NULL",
    "CREATE INDEX owner_changes_lead ON owner_changes (source_name, lead_id) WHERE seen_to IS NULL",
)
"""Version 4: an index of each lead's current events."""

# Version 5: a deal's owner (the rep who owns it), as CRMs give it.
_MIGRATION_5 = ("ALTER TABLE deals ADD COLUMN owner_id",)
"""Version 5: each deal's owner."""

# Version 6: stored period results (slacore_connectors.report.period_results). A closed,
# decided period's shared-goal verdict for one agreement (its fingerprint): met 1 or 0, NULL
# when the period had no scorecard; its span (ISO dates); since, the first day of the history
# it was evaluated in; leads, the ids of its hand-offs' leads (zlib of a JSON list).
# period_marks holds, per fingerprint, the store's watermark when the results were kept (the
# largest row_id of each table read, and the time) and whether every ended period was kept.
# An index of the closed rows of each table a report reads, so that what was closed after a
# watermark is found without reading the table.
_MIGRATION_6 = (
    "CREATE TABLE period_results (fingerprint TEXT NOT NULL, label TEXT NOT NULL, "
    "start TEXT NOT NULL, end TEXT NOT NULL, met INTEGER, since TEXT NOT NULL, "
    "leads BLOB NOT NULL, PRIMARY KEY (fingerprint, label))",
    "CREATE TABLE period_marks (fingerprint TEXT NOT NULL PRIMARY KEY, mark TEXT NOT NULL, "
    "settled INTEGER NOT NULL)",
    "CREATE INDEX handoffs_closed ON handoffs (seen_to) WHERE seen_to IS NOT NULL",
    "CREATE INDEX touches_closed ON touches (seen_to) WHERE seen_to IS NOT NULL",
    "CREATE INDEX stage_changes_closed ON stage_changes (seen_to) WHERE seen_to IS NOT NULL",
    "CREATE INDEX owner_changes_closed ON owner_changes (seen_to) WHERE seen_to IS NOT NULL",
    "CREATE INDEX deals_closed ON deals (seen_to) WHERE seen_to IS NOT NULL",
    "CREATE INDEX reps_closed ON reps (seen_to) WHERE seen_to IS NOT NULL",
)
"""Version 6: stored period results, and an index of each read table's closed rows."""

# Version 7: the current rejected records of a stream found by record id, so that a batch that
# stores a lead, deal or rep (or deletes one) closes its rejections without reading every
# rejection the source holds.
_MIGRATION_7 = (
    "CREATE INDEX rejected_current ON rejected (source_name, stream, record_id) "
    "WHERE seen_to IS NULL",
)
"""Version 7: an index of the current rejected records by stream and record id."""

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    _MIGRATION_1,
    _MIGRATION_2,
    _MIGRATION_3,
    _MIGRATION_4,
    _MIGRATION_5,
    _MIGRATION_6,
    _MIGRATION_7,
)
"""The statements of each migration, in order; migration ``n`` is ``MIGRATIONS[n - 1]``."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this code writes."""
