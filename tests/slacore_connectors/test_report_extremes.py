"""`slacore report` on extreme dates: --as-of and --period outside the years covered are bad
values (exit 2, naming the option); records an older slacore stored with placeholder dates
(0001-01-01, 9999-12-31) are left out with a notice, and the report is otherwise the same."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.cli import demo as run_demo
from tests.cli import slacore

from slacore.errors import ValidationError
from slacore_connectors.store import StoreError
from slacore_connectors.store.sqlite import SQLiteStore


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def demo(synced: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "demo"
    shutil.copytree(synced, folder)
    return folder


def _us(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _add_extremes(store: Path) -> None:
    """Copies of a stored hand-off and touch, dated as an older slacore let them be."""
    extremes = ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00"]
    with sqlite3.connect(store) as db:
        for n, text in enumerate(extremes):
            moment = datetime.fromisoformat(text)
            db.execute(
                "INSERT INTO handoffs (source_name, key, digest, seen_from, seen_to, last_seen, "
                "time_us, lead_id, notified_at, stage, owner_id, from_team, to_team, source, "
                "segment, hand_raiser) SELECT source_name, ?, digest, seen_from, NULL, "
                "last_seen, ?, ?, ?, stage, owner_id, from_team, to_team, source, segment, "
                "hand_raiser FROM handoffs WHERE seen_to IS NULL LIMIT 1",
                (f"extreme-{n}", _us(moment), f"LX{n}", text),
            )
        moment = datetime.fromisoformat(extremes[0])
        db.execute(
            "INSERT INTO touches (source_name, key, digest, seen_from, seen_to, last_seen, "
            "time_us, lead_id, rep_id, at, channel) SELECT source_name, 'extreme', digest, "
            "seen_from, NULL, last_seen, ?, lead_id, rep_id, ?, channel FROM touches "
            "WHERE seen_to IS NULL LIMIT 1",
            (_us(moment), extremes[0]),
        )


def test_records_with_extreme_dates_are_left_out_with_a_notice(demo: Path) -> None:
    before = slacore("report", "--json", "--as-of", "2099-01-01", cwd=demo)
    assert before.returncode == 0, before.stderr
    _add_extremes(demo / "slacore.db")
    after = slacore("report", "--json", "--as-of", "2099-01-01", cwd=demo)
    assert after.returncode == 0, after.stderr
    was, now = json.loads(before.stdout), json.loads(after.stdout)
    assert was["notices"] == []
    (notice,) = now.pop("notices")
    assert "dated outside the years 1900 to 2099" in notice
    assert "left out of this report" in notice
    was.pop("notices")
    was.pop("as_of")
    now.pop("as_of")
    assert now == was  # the same period (2020-06) and the same figures
    text = slacore("report", cwd=demo)
    assert text.returncode == 0, text.stderr
    assert "left out of this report" in text.stdout
    assert "SLA report for 2020-06" in text.stdout


def test_a_record_whose_other_time_the_model_refuses_is_left_out(demo: Path) -> None:
    before = json.loads(slacore("report", "--json", cwd=demo).stdout)
    with sqlite3.connect(demo / "slacore.db") as db:  # as an older slacore let it be stored
        db.execute(
            "UPDATE deals SET closed_at = '9999-12-31T23:00:00-05:00' WHERE row_id = "
            "(SELECT min(row_id) FROM deals WHERE seen_to IS NULL)"
        )
    done = slacore("report", "--json", cwd=demo)
    assert done.returncode == 0, done.stderr
    (notice,) = json.loads(done.stdout)["notices"]
    assert notice.startswith("1 record dated outside the years 1900 to 2099")
    assert before["notices"] == []


def test_reading_such_a_record_without_skipping_names_the_store(demo: Path) -> None:
    with sqlite3.connect(demo / "slacore.db") as db:
        db.execute("UPDATE deals SET closed_at = '0001-01-01T00:00:00+05:00'")
    with SQLiteStore(demo / "slacore.db") as store:
        with pytest.raises(StoreError, match=r"slacore\.db: holds a deals record this slacore"):
            list(store.records("deals"))
        skipped: list[ValidationError] = []
        assert list(store.records("deals", invalid=skipped.append)) == []
    with sqlite3.connect(demo / "slacore.db") as db:
        (stored,) = db.execute("SELECT count(*) FROM deals WHERE seen_to IS NULL").fetchone()
    assert len(skipped) == stored > 0
    assert {error.field for error in skipped} == {"closed_at"}


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--as-of", "9999-12-31"], "--as-of"),
        (["--as-of", "0001-01-01"], "--as-of"),
        (["--as-of", "9999-12-31T23:59:59+00:00"], "--as-of"),
        (["--period", "9999-12"], "--period"),
        (["--period", "0001-01"], "--period"),
        (["--period", "2020-13"], "--period"),
    ],
)
def test_out_of_range_options_are_bad_values(demo: Path, args: list[str], option: str) -> None:
    done = slacore("report", *args, cwd=demo)
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"slacore: error: Invalid value for '{option}': ")


def test_the_edges_of_the_years_covered_are_reported(demo: Path) -> None:
    done = slacore("report", "--as-of", "2099-12-31", cwd=demo)
    assert done.returncode == 0, done.stderr
    # The store holds nothing at the other edges: said in one line, exit 1, no traceback.
    for args in (["--as-of", "1900-01-01"], ["--period", "2099-12"], ["--period", "1900-01"]):
        done = slacore("report", *args, cwd=demo)
        assert done.returncode == 1, (args, done.stderr)
        (line,) = done.stderr.splitlines()
        assert line.startswith("slacore: error: nothing to report: "), line
