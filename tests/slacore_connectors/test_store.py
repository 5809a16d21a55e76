"""The store: the contract every implementation keeps, and the SQLite store on real files."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs
import filelock
import pytest

from slacore import Deal, Handoff, Lead, OwnerChange, Rep, StageChange, Touch
from slacore.connector import Batch, Cursor, RejectedRecord, Stream
from slacore_connectors.store import (
    DUCKDB_SCHEMA_VERSION,
    SCHEMA_VERSION,
    ColumnWriter,
    DuckDBStore,
    SourceConnectorError,
    SQLiteStore,
    Store,
    StoreError,
    SyncLockedError,
    open_store,
)
from slacore_connectors.store.periods import KeptPeriods, LeadIds, PeriodResult

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


def batch(stream: str, records: list[object], position: int, rejected: tuple = ()) -> Batch:
    return Batch(
        stream=stream,
        records=records,
        cursor=Cursor(stream=stream, state={"line": position}),
        rejected=rejected,
    )


def lead(lead_id: str, **kwargs: object) -> Lead:
    base: dict[str, object] = {"id": lead_id, "created_at": T0, "source": "web"}
    return Lead(**(base | kwargs))  # type: ignore[arg-type]


IMPLEMENTATIONS: dict[str, Callable[[Path], str]] = {
    "sqlite": lambda folder: f"sqlite:///{(folder / 'sub' / 'sla.db').as_posix()}",
    "duckdb": lambda folder: f"duckdb:///{(folder / 'sub' / 'sla.duckdb').as_posix()}",
}
"""How to reach a fresh store of each implementation: the tests that take the ``store``
fixture are the contract every implementation keeps (a PostgreSQL store adds its URL)."""


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with open_store(IMPLEMENTATIONS[request.param](tmp_path)) as opened:
        yield opened


def test_every_implementation_is_a_store(store: Store) -> None:
    assert isinstance(store, Store)


def test_the_interface_is_the_whole_public_surface() -> None:
    # What callers may use of a SQLite store is what every store offers: report, sync and the
    # command line take a Store, so a method only SQLiteStore had would be out of their reach.
    def public(cls: type) -> set[str]:
        # Its own and its private mixins' (store/_open.py, store/_runs.py): slacore's classes.
        mine = [k for k in cls.__mro__ if k.__module__.startswith("slacore_connectors.")]
        return {name for k in mine for name in vars(k) if not name.startswith("_")}

    # Less the optional capabilities a caller checks for (ColumnWriter's write_columns).
    assert public(SQLiteStore) == public(Store) | public(ColumnWriter)
    assert public(DuckDBStore) == public(Store) | public(ColumnWriter)


def test_new_store_has_the_schema(store: Store) -> None:
    # Each engine numbers its own schema versions.
    assert store.schema_version == (
        DUCKDB_SCHEMA_VERSION if isinstance(store, DuckDBStore) else SCHEMA_VERSION
    )
    assert store.cursor("crm", "leads") is None
    assert list(store.records("leads")) == []


def test_round_trip_of_every_record_type(store: Store) -> None:
    ny = ZoneInfo("America/New_York")
    records = {
        "leads": [lead("L1", segment="vp", owner_id="R1", stage="mql", hand_raiser=True)],
        "stage_changes": [
            StageChange(lead_id="L1", to_stage="mql", at=T0, from_stage="lead", owner_id="R1")
        ],
        "handoffs": [
            Handoff(
                lead_id="L1",
                notified_at=T0.astimezone(ny),
                stage="mql",
                owner_id="R1",
                source="web",
                segment="vp",
                hand_raiser=True,
            )
        ],
        "touches": [Touch(lead_id="L1", rep_id="R1", at=T0 + H, channel="call")],
        "deals": [
            Deal(
                id="D1",
                lead_id="L1",
                amount="1234.50",
                opened_at=T0,
                closed_at=T0 + 30 * H,
                won=True,
            )
        ],
        "reps": [Rep(id="R1", name="Ann", email="ann@example.com")],
        "owner_changes": [OwnerChange(lead_id="L1", owner_id="R2", at=T0 + 2 * H)],
    }
    for stream, items in records.items():
        result = store.write_batch("crm", batch(stream, items, 1), run_id=1, seen_at=T0)
        assert result.inserted == 1
    for stream, items in records.items():
        assert list(store.records(stream)) == items
    deal = next(store.records("deals"))
    assert deal.amount == Decimal("1234.50")
    handoff = next(store.records("handoffs"))
    assert handoff.notified_at.utcoffset() == timedelta(hours=-5)  # the offset survives


@pytest.mark.parametrize("name", sorted(IMPLEMENTATIONS))
def test_two_store_objects_of_one_file_write_in_turn(tmp_path: Path, name: str) -> None:
    # Two objects of one process share the file (DuckDB even shares its database): each
    # numbers the rows it stores after every row the other stored.
    location = IMPLEMENTATIONS[name](tmp_path)
    with open_store(location) as first, open_store(location) as second:
        first.write_batch("crm", batch("leads", [lead("L1")], 1), run_id=1, seen_at=T0)
        second.write_batch("crm", batch("leads", [lead("L2")], 2), run_id=1, seen_at=T0 + H)
        first.write_batch(
            "crm", batch("leads", [lead("L1", segment="smb")], 3), run_id=1, seen_at=T0 + 2 * H
        )
        # Same created_at: in the order stored, L1's new version last.
        assert [(x.id, x.segment) for x in second.records("leads")] == [
            ("L2", None),
            ("L1", "smb"),
        ]
        assert [x.id for x in first.records("leads", as_of=T0 + H)] == ["L1", "L2"]
        second.write_batch("crm", batch("leads", [lead("L3")], 4), run_id=1, seen_at=T0 + 3 * H)
        assert [x.id for x in first.records("leads")] == ["L2", "L1", "L3"]
        assert second.dump() == first.dump()
        numbered = first._db.execute(  # type: ignore[attr-defined]
            "SELECT count(*), count(DISTINCT row_id) FROM leads"
        ).fetchall()
        assert [tuple(row) for row in numbered] == [(4, 4)]


def test_upserts_are_idempotent(store: Store) -> None:
    first = store.write_batch(
        "crm", batch("leads", [lead("L1"), lead("L2")], 2), run_id=1, seen_at=T0
    )
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    again = store.write_batch(
        "crm", batch("leads", [lead("L1"), lead("L2")], 2), run_id=2, seen_at=T0 + H
    )
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert again.stored == 0
    assert store.count("leads") == 2
    twice = store.write_batch(
        "crm", batch("leads", [lead("L3"), lead("L3")], 3), run_id=3, seen_at=T0 + H
    )
    assert (twice.read, twice.inserted, twice.unchanged) == (2, 1, 1)
    assert store.count("leads") == 3


def test_latest_wins_and_history_answers_as_of(store: Store) -> None:
    store.write_batch("crm", batch("leads", [lead("L1", stage="mql")], 1), run_id=1, seen_at=T0)
    changed = store.write_batch(
        "crm", batch("leads", [lead("L1", stage="sql")], 2), run_id=2, seen_at=T0 + 24 * H
    )
    assert (changed.inserted, changed.updated) == (0, 1)
    assert [r.stage for r in store.records("leads")] == ["sql"]
    assert [r.stage for r in store.records("leads", as_of=T0 + H)] == ["mql"]
    assert list(store.records("leads", as_of=T0 - H)) == []
    assert store.count("leads", as_of=T0 + 25 * H) == 1


def test_count_counts_the_stored_rows_without_reading_them(store: Store) -> None:
    touches = [Touch(lead_id=f"L{n}", rep_id="R1", at=T0 + n * H, channel="call") for n in (1, 2)]
    store.write_batch("crm", batch("touches", touches, 2), run_id=1, seen_at=T0)
    store.write_batch("crm", batch("touches", [touches[0]], 3), run_id=2, seen_at=T0 + H)
    # A row an older slacore stored that the model refuses now: records() refuses it (or
    # skips it with invalid=), count() still counts it, as it counts rows, not records.
    db = store._db  # type: ignore[attr-defined]
    db.execute("UPDATE touches SET channel = 'pigeon' WHERE lead_id = 'L2'")
    with pytest.raises(StoreError, match="refuses"):
        list(store.records("touches"))
    assert len(list(store.records("touches", invalid=lambda _: None))) == 1
    assert store.count("touches") == 2
    assert store.count("touches", as_of=T0 - H) == 0
    assert store.count("touches", as_of=T0) == 2


def test_same_instant_in_two_zones_is_one_record(store: Store) -> None:
    ny = ZoneInfo("America/New_York")
    touch = Touch(lead_id="L1", rep_id="R1", at=T0, channel="call")
    store.write_batch("crm", batch("touches", [touch], 1), run_id=1, seen_at=T0)
    moved = Touch(lead_id="L1", rep_id="R1", at=T0.astimezone(ny), channel="call")
    result = store.write_batch("crm", batch("touches", [moved], 2), run_id=2, seen_at=T0)
    assert result.inserted == 0
    assert store.count("touches") == 1


def test_sources_are_kept_apart(store: Store) -> None:
    store.write_batch("hubspot", batch("leads", [lead("L1")], 1), run_id=1, seen_at=T0)
    store.write_batch("csv", batch("leads", [lead("L1")], 1), run_id=2, seen_at=T0)
    assert store.count("leads") == 2
    assert len(list(store.records("leads", source_name="csv"))) == 1


def test_time_ranges(store: Store) -> None:
    touches = [Touch(lead_id="L1", rep_id="R1", at=T0 + n * H, channel="call") for n in range(5)]
    store.write_batch("crm", batch("touches", touches, 5), run_id=1, seen_at=T0)
    window = list(store.records("touches", since=T0 + H, until=T0 + 3 * H))
    assert [t.at for t in window] == [T0 + H, T0 + 2 * H]


def test_cursor_is_stored_with_the_batch(store: Store) -> None:
    store.write_batch("crm", batch("leads", [lead("L1")], 7), run_id=1, seen_at=T0)
    assert store.cursor("crm", "leads") == Cursor(stream="leads", state={"line": 7})
    store.write_batch("crm", batch("leads", [], 9), run_id=1, seen_at=T0)
    assert store.cursor("crm", Stream.LEADS).state["line"] == 9


def test_rejected_records_are_kept_once(store: Store) -> None:
    bad = RejectedRecord(
        stream="leads",
        reason="expected a timezone-aware datetime",
        source="leads.csv",
        line=12,
        record_id="L-7",
        field="created_at",
        raw={"id": "L-7", "created_at": "2026-01-05"},
    )
    result = store.write_batch("crm", batch("leads", [lead("L1")], 2, (bad,)), run_id=1, seen_at=T0)
    assert result.rejected == 1
    store.write_batch("crm", batch("leads", [], 2, (bad,)), run_id=2, seen_at=T0 + H)
    kept = store.rejected()
    assert kept == [bad]
    assert store.rejected(as_of=T0 - H) == []
    assert str(kept[0]).startswith("leads.csv:12: record L-7: created_at:")


def test_a_record_stored_after_its_rejection_leaves_the_rejected_list(store: Store) -> None:
    bad = RejectedRecord(
        stream="leads", reason="expected a time", record_id="L-7", field="created_at"
    )
    touch_bad = RejectedRecord(stream="touches", reason="expected a rep", record_id="L-7")
    store.write_batch("crm", batch("leads", [], 1, (bad,)), run_id=1, seen_at=T0)
    store.write_batch("crm", batch("touches", [], 1, (touch_bad,)), run_id=1, seen_at=T0)
    # Corrected at the source, given again: stored, and no longer asked to be fixed.
    store.write_batch("crm", batch("leads", [lead("L-7")], 2), run_id=2, seen_at=T0 + H)
    assert store.rejected() == [touch_bad]  # a touch is no lead: its own id is not "L-7"
    assert store.rejected(as_of=T0 + H / 2) == [bad, touch_bad]  # the past report keeps it
    # Rejected again in the batch that stores another version: the rejection stands.
    store.write_batch("crm", batch("leads", [lead("L-7")], 3, (bad,)), run_id=3, seen_at=T0 + 2 * H)
    assert store.rejected() == [bad, touch_bad]


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / "sla.db"
    with SQLiteStore(path, timeout=0.05) as store:
        store.write_batch("crm", batch("leads", [lead("L1")], 1), run_id=1, seen_at=T0)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another writer holds the database
        with pytest.raises(StoreError, match="cannot store the batch") as info:
            store.write_batch("crm", batch("leads", [lead("L2")], 2), run_id=2, seen_at=T0)
        assert str(path) in str(info.value)
        other.execute("ROLLBACK")
        other.close()
        assert store.count("leads") == 1
        assert store.cursor("crm", "leads").state["line"] == 1


def test_runs(store: Store) -> None:
    run = store.start_run("crm", full=True, at=T0)
    store.finish_run(run, status="success", counts={"leads": {"read": 3}}, at=T0 + H)
    other = store.start_run("hubspot", at=T0)
    (done,) = store.runs("crm")
    assert (done.run_id, done.status, done.full, done.counts) == (
        run,
        "success",
        True,
        {"leads": {"read": 3}},
    )
    assert done.finished_at == T0 + H
    assert store.runs("hubspot")[0].status == "running"
    assert store.runs("hubspot")[0].run_id == other
    assert len(store.runs()) == 2


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sla.db"
    SQLiteStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer than this slacore"):
        SQLiteStore(path)


def test_many_connections_create_one_store_at_once(tmp_path: Path) -> None:
    # A report opening the file while the first sync is still creating it (seen in CI): each
    # connection must either create the schema alone or wait and find it made.
    for attempt in range(10):
        path = tmp_path / f"race{attempt}.db"
        start = threading.Barrier(6)
        errors: list[BaseException] = []

        def open_store(
            path: Path = path,
            start: threading.Barrier = start,
            errors: list[BaseException] = errors,
        ) -> None:
            start.wait()
            try:
                with SQLiteStore(path) as opened:
                    assert opened.schema_version == SCHEMA_VERSION
            except BaseException as error:  # collected for the main thread
                errors.append(error)

        threads = [threading.Thread(target=open_store) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []


def test_a_store_held_by_another_writer_is_busy(tmp_path: Path) -> None:
    path = tmp_path / "sla.db"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # a new file, locked before its schema exists
    try:
        with pytest.raises(StoreError, match=r"the store is busy after 0\.2 s"):
            SQLiteStore(path, timeout=0.2)
    finally:
        other.execute("ROLLBACK")
        other.close()
    with SQLiteStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not SQLite" * 100)
    with pytest.raises(StoreError, match="not a slacore store"):
        SQLiteStore(path)


def test_dump_compares_stores(tmp_path: Path) -> None:
    dumps = []
    for name in ("a.db", "b.db"):
        with SQLiteStore(tmp_path / name) as store:
            store.write_batch(
                "crm",
                batch("leads", [lead("L1"), lead("L2")], 2),
                run_id=1,
                seen_at=T0 if name == "a.db" else T0 + H,
            )
            dumps.append(store.dump())
    assert dumps[0] == dumps[1]
    assert len(dumps[0]["leads"]) == 2


def test_the_sync_lock_holds_against_another_store(tmp_path: Path) -> None:
    path = tmp_path / "sla.db"
    with open_store(path) as first, open_store(path) as second:
        with first.lock():
            with (
                pytest.raises(SyncLockedError, match="another sync is running") as info,
                second.lock(),
            ):
                pass  # pragma: no cover
            assert info.value.lock == f"{path}.lock"
            with pytest.raises(SyncLockedError), first.lock():  # not re-entrant either
                pass  # pragma: no cover
        with second.lock():
            pass  # free once the block ends


def test_a_refused_locked_open_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "new" / "sla.db"
    with (
        filelock.FileLock(f"{path}.lock", timeout=0),
        pytest.raises(SyncLockedError, match="nothing was read or written"),
    ):
        open_store(path, locked=True)
    assert not path.exists()


def test_a_locked_store_holds_the_lock_until_closed(tmp_path: Path) -> None:
    path = tmp_path / "sla.db"
    with open_store(path, locked=True), open_store(path) as other:
        with pytest.raises(SyncLockedError):
            open_store(path, locked=True)
        with pytest.raises(SyncLockedError):
            other.lock().__enter__()
    with open_store(path, locked=True) as again:
        assert again.schema_version == SCHEMA_VERSION


def test_a_failed_locked_open_releases_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not SQLite" * 100)
    with pytest.raises(StoreError, match="not a slacore store"):
        open_store(path, locked=True)
    with filelock.FileLock(f"{path}.lock", timeout=0):
        pass  # free


def test_an_in_memory_store_locks_nothing() -> None:
    with open_store(":memory:", locked=True) as store, store.lock():
        assert store.count("leads") == 0


def test_keys_are_those_stores_already_hold() -> None:
    # The natural key moved to the model; the text the store keys rows by must not change,
    # or a store made before would take every record again as new.
    from slacore_connectors.store._tables import TABLES

    us = "1772442000000000"  # T0 in epoch microseconds
    touch = Touch(lead_id="L1", rep_id="R1", at=T0, channel="call")
    change = StageChange(lead_id="L1", to_stage="sql", at=T0)
    handoff = Handoff(lead_id="L1", notified_at=T0, stage="mql")
    assert TABLES[Stream.TOUCHES].key(touch) == f"L1\x1fR1\x1f{us}\x1fcall"
    assert TABLES[Stream.STAGE_CHANGES].key(change) == f"L1\x1f{us}\x1fsql"
    assert TABLES[Stream.HANDOFFS].key(handoff) == f"L1\x1f{us}\x1fmql"
    assert TABLES[Stream.OWNER_CHANGES].key(OwnerChange(lead_id="L1", owner_id="R", at=T0)) == (
        f"L1\x1f{us}"
    )
    assert TABLES[Stream.LEADS].key(lead("L1")) == "L1"


def test_a_batch_costs_no_more_in_a_store_that_holds_many_records(tmp_path: Path) -> None:
    # Counted in SQLite's virtual-machine steps, not in time: a batch of 100 leads, new, then
    # again unchanged, then changed, takes about the same steps into a store of 20,000 leads
    # as into an empty one (it took 20 times more when each batch walked every stored lead).
    def steps(store: SQLiteStore, records: list[Lead], seen_at: datetime) -> int:
        counted = 0

        def count() -> int:
            nonlocal counted
            counted += 1
            return 0

        store._db.set_progress_handler(count, 100)
        result = store.write_batch("crm", batch("leads", records, 1), run_id=1, seen_at=seen_at)
        store._db.set_progress_handler(None, 100)
        assert result.read == len(records)
        return counted

    with SQLiteStore(tmp_path / "empty.db") as empty, SQLiteStore(tmp_path / "full.db") as full:
        for start in range(0, 20_000, 2_000):
            held = [lead(f"H{n:05d}") for n in range(start, start + 2_000)]
            full.write_batch("crm", batch("leads", held, start), run_id=1, seen_at=T0)
        for stage, at in ((None, T0), (None, T0 + H), ("mql", T0 + 2 * H)):
            new = [lead(f"N{n:03d}", stage=stage) for n in range(100)]
            assert steps(full, new, at) < 2 * steps(empty, new, at)
        assert full.count("leads") == 20_100


def test_a_source_is_claimed_and_forgotten(store: Store) -> None:
    store.claim_source("crm", "csv", at=T0)
    assert store.source_connector("crm") == "csv"
    store.claim_source("crm", "hubspot", at=T0)  # it holds nothing yet: any connector
    assert store.source_connector("crm") == "hubspot"
    run = store.start_run("crm", connector="hubspot", at=T0)
    store.write_batch("crm", batch("leads", [lead("L1")], 1), run_id=run, seen_at=T0)
    with pytest.raises(SourceConnectorError) as refused:
        store.claim_source("crm", "csv")
    assert (refused.value.owner, refused.value.connector) == ("hubspot", "csv")
    assert store.source_connector("crm") == "hubspot"
    assert store.forget_source("crm") == 3  # the lead, its cursor, its connector
    assert store.forget_source("crm") == 0
    assert (store.cursor("crm", "leads"), store.source_connector("crm")) == (None, None)
    assert list(store.records("leads")) == []
    assert [r.run_id for r in store.runs()] == [run]


def test_period_results_are_kept_and_changes_found(store: Store) -> None:
    handoff = Handoff(lead_id="L1", notified_at=T0, stage="mql")
    store.write_batch("crm", batch("handoffs", [handoff], 1), run_id=1, seen_at=T0)
    mark = store.watermark(at=T0 + H)
    assert mark.rows["handoffs"] >= 1
    assert store.changes_since(mark).empty
    kept = KeptPeriods(
        mark=mark,
        results=(
            PeriodResult(
                label="2026-03",
                start=date(2026, 3, 1),
                end=date(2026, 3, 31),
                met=True,
                since=date(2026, 3, 1),
                leads=LeadIds.of(["L1"]),
            ),
        ),
    )
    assert store.period_results("fp") is None
    store.keep_period_results("fp", kept)
    assert store.period_results("fp") == kept
    touch = Touch(lead_id="L1", rep_id="R1", at=T0 + H, channel="call")
    store.write_batch("crm", batch("touches", [touch], 1), run_id=1, seen_at=T0 + 2 * H)
    deal = Deal(id="D1", amount=Decimal("5"), opened_at=T0, closed_at=T0 + H, won=True)
    store.write_batch("crm", batch("deals", [deal], 1), run_id=1, seen_at=T0 + 2 * H)
    changed = attrs.evolve(handoff, owner_id="R1")
    store.write_batch("crm", batch("handoffs", [changed], 2), run_id=1, seen_at=T0 + 2 * H)
    changes = store.changes_since(mark)
    assert changes.leads == frozenset({"L1"})
    assert changes.deals_closed == (T0 + H,)
    assert sorted(changes.handoffs) == [T0, T0]  # the old version closed, the new one stored
    store.keep_period_results("fp", KeptPeriods(mark=store.watermark(at=T0 + 3 * H)))
    assert store.period_results("fp") == KeptPeriods(mark=store.watermark(at=T0 + 3 * H))
    store.forget_source("crm")
    assert store.period_results("fp") is None
