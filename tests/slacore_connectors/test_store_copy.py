"""copy_store against a sync committing a batch in the middle of the copy: the sync lock
refuses the sync, and a writer that ignores the lock is not seen half-way (the copy holds the
records and the cursor of a batch, or neither)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from slacore.connector import Batch, Cursor, Stream
from slacore.model import Channel, Touch
from slacore_connectors.store import SyncLockedError, _copy, copy_store, open_store


def _batch(day: int) -> Batch:
    return Batch(
        stream=Stream.TOUCHES,
        records=[
            Touch(
                lead_id=f"L{day}",
                rep_id="R1",
                at=datetime(2020, 7, day, 9, tzinfo=UTC),
                channel=Channel.CALL,
            )
        ],
        cursor=Cursor(stream=Stream.TOUCHES, state={"line": day}),
    )


def _seeded(path: Path) -> None:
    with open_store(path) as store:
        store.write_batch("src", _batch(1), run_id=1, seen_at=datetime(2020, 7, 2, tzinfo=UTC))


def _write_after_touches(
    monkeypatch: pytest.MonkeyPatch, source: Path, *, take_lock: bool
) -> list[BaseException]:
    """Make the copy commit the next batch into ``source`` once ``touches`` is copied (and
    before ``cursors`` is), as a sync in another process would; what refused it."""
    refused: list[BaseException] = []
    real = _copy._copy_table

    def copy_table(src: Any, dst: Any, name: str, columns: tuple[str, ...]) -> int:
        copied = real(src, dst, name, columns)
        if name == "touches":
            try:
                with (
                    open_store(source, timeout=2) as writer,
                    writer.lock() if take_lock else contextlib.nullcontext(),
                ):
                    writer.write_batch(
                        "src", _batch(2), run_id=2, seen_at=datetime(2020, 7, 3, tzinfo=UTC)
                    )
            except SyncLockedError as error:
                refused.append(error)
        return copied

    monkeypatch.setattr(_copy, "_copy_table", copy_table)
    return refused


def _touches_and_cursor(path: Path) -> tuple[list[str], dict[str, Any] | None]:
    with open_store(path, read_only=True) as store:
        cursor = store.cursor("src", "touches")
        return [t.lead_id for t in store.records("touches")], cursor and dict(cursor.state)


@pytest.mark.parametrize("target", ["copy.duckdb", "copy.db"])
@pytest.mark.parametrize("take_lock", [True, False], ids=["sync", "writer-ignoring-the-lock"])
def test_a_batch_committed_during_the_copy_is_copied_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str, take_lock: bool
) -> None:
    source = tmp_path / "s.db"
    _seeded(source)
    refused = _write_after_touches(monkeypatch, source, take_lock=take_lock)
    copy_store(source, tmp_path / target)
    # One moment of the source: the batch before it, never its cursor without its records.
    assert _touches_and_cursor(tmp_path / target) == (["L1"], {"line": 1})
    if take_lock:
        # A sync is refused by the lock the copy holds, and goes on once it is released.
        assert len(refused) == 1
        assert "another sync is running" in str(refused[0])
        assert _touches_and_cursor(source) == (["L1"], {"line": 1})
        with open_store(source, locked=True) as store:
            store.write_batch("src", _batch(2), run_id=2, seen_at=datetime(2020, 7, 3, tzinfo=UTC))
    else:
        assert not refused
    assert _touches_and_cursor(source) == (["L1", "L2"], {"line": 2}), "the batch went in"


@pytest.mark.parametrize("engine", ["db", "duckdb"])
def test_the_copy_is_refused_while_a_sync_holds_the_lock(tmp_path: Path, engine: str) -> None:
    source = tmp_path / f"s.{engine}"
    _seeded(source)
    with (
        open_store(source, locked=True),
        pytest.raises(SyncLockedError, match=f"another sync is running on {source}"),
    ):
        copy_store(source, tmp_path / "copy.db")
    assert not (tmp_path / "copy.db").exists()


@pytest.mark.parametrize("target", ["copy.duckdb", "copy.db"])
def test_a_copy_that_fails_leaves_nothing_where_it_was_going(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    source = tmp_path / "s.db"
    _seeded(source)
    copy_table = _copy._copy_table

    def failing(src: Any, dst: Any, name: str, columns: Any) -> int:
        if name == "touches":
            raise OSError("disk full")
        return copy_table(src, dst, name, columns)

    monkeypatch.setattr(_copy, "_copy_table", failing)
    with pytest.raises(OSError, match="disk full"):
        copy_store(source, tmp_path / target)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("copy")) == []
    assert _touches_and_cursor(source) == (["L1"], {"line": 1})
