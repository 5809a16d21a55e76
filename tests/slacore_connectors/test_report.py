"""The SLA report on the bundled demo data, synced for real into a SQLite store."""

from __future__ import annotations

import csv
import gc
import re
import shutil
from datetime import UTC, datetime
from importlib.resources import as_file, files
from pathlib import Path

import attrs
import pytest

from slacore.agreement import Agreement
from slacore.planning.pacing import Loading
from slacore_connectors.report.build import build_report
from slacore_connectors.store.sqlite import SQLiteStore
from slacore_connectors.sync import JobConfig, run_sync

JOB = """
store = "slacore.db"
agreement = "company_a.toml"

[[sources]]
name = "crm"
connector = "csv"

[sources.settings]
path = "data"
stages = ["subscriber", "lead", "mql", "sal", "sql", "opportunity", "customer", "disqualified"]
"""
FIRST_SYNC = datetime(2020, 7, 1, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    with as_file(files("slacore_connectors") / "demo") as bundled:
        shutil.copytree(bundled, folder, dirs_exist_ok=True)
    (folder / "slacore.toml").write_text(JOB)
    report = run_sync(JobConfig.load(folder / "slacore.toml"), now=lambda: FIRST_SYNC)
    assert report.ok
    return folder


def test_report_for_june(demo: Path) -> None:
    agreement = Agreement.load(demo / "company_a.toml")
    with SQLiteStore(demo / "slacore.db") as store:
        report = build_report(store, agreement, as_of=datetime(2020, 7, 20, tzinfo=UTC))
    assert report.span.label == "2020-06"  # the latest hand-off's month
    assert report.handoffs == 314
    (response,) = report.responses
    summary = response.summary
    assert summary.eligible == summary.met + summary.breached + summary.pending + summary.at_risk
    assert summary.breached > 0
    assert summary.buckets["never"] > 0
    assert report.dashboard is not None
    assert report.dashboard.rows[0].rep_id == "R07"  # the slow rep the data set plants
    assert report.pacing is not None
    assert report.pacing.delivered == sum(
        d.value
        for d in agreement.deliveries(
            [
                h
                for h in SQLiteStore(demo / "slacore.db").records("handoffs")
                if h.notified_at.astimezone(agreement.calendar.zone).month == 6
            ]  # type: ignore[union-attr]
        )
    )
    assert report.scorecard is not None
    assert report.escalation is not None
    assert [step.level for step in report.escalation.steps] == [1, 2, 3]
    assert report.rejected == 5
    text = report.to_text()
    for heading in (
        "## Response time",
        "## Don't Be On It",
        "## Marketing pacing",
        "## Scorecard",
        "## Escalation",
        "## Data quality",
    ):
        assert heading in text
    data = report.to_dict()
    assert data["period"]["label"] == "2020-06"
    assert data["rejected_records"] == 5


def test_may_is_back_loaded(demo: Path) -> None:
    agreement = Agreement.load(demo / "company_a.toml")
    with SQLiteStore(demo / "slacore.db") as store:
        may = build_report(
            store, agreement, period="2020-05", as_of=datetime(2020, 7, 20, tzinfo=UTC)
        )
    assert may.pacing is not None
    assert may.pacing.loading is Loading.BACK_LOADED


def test_html_report_is_self_contained(demo: Path) -> None:
    agreement = Agreement.load(demo / "company_a.toml")
    with SQLiteStore(demo / "slacore.db") as store:
        page = build_report(store, agreement, as_of=datetime(2020, 7, 20, tzinfo=UTC)).to_html()
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta name="viewport"' in page
    assert page.count('<figure class="chart">') == 2
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page
    assert "<table>" in page
    assert "@media print" in page


def test_as_of_reproduces_the_past_after_later_syncs(demo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "again"
    shutil.copytree(demo, folder)
    job = JobConfig.load(folder / "slacore.toml")
    agreement = Agreement.load(folder / "company_a.toml")
    before = datetime(2020, 7, 2, tzinfo=UTC)
    with SQLiteStore(job.store) as store:
        original = build_report(store, agreement, period="2020-06", as_of=before).to_dict()
    # Later, the CRM export grows: a touch on a breached lead and a brand-new June hand-off.
    with (folder / "data" / "touches.csv").open("a", newline="") as file:
        csv.writer(file, lineterminator="\n").writerow(
            ["L04865", "R07", "2020-06-30T16:00:00-04:00", "call"]
        )
    with (folder / "data" / "handoffs.csv").open("a", newline="") as file:
        csv.writer(file, lineterminator="\n").writerow(
            [
                "L09999",
                "2020-06-30T10:00:00-04:00",
                "mql",
                "R01",
                "marketing",
                "sales",
                "referral",
                "SMB owner",
                "true",
            ]
        )
    later = run_sync(job, now=lambda: datetime(2020, 7, 10, tzinfo=UTC))
    assert later.ok
    with SQLiteStore(job.store) as store:
        again = build_report(store, agreement, period="2020-06", as_of=before).to_dict()
        now = build_report(
            store, agreement, period="2020-06", as_of=datetime(2020, 7, 11, tzinfo=UTC)
        ).to_dict()
    assert again == original
    assert now["handoffs"] == original["handoffs"] + 1


def _milestone_lines(demo: Path, tmp_path: Path, edit: tuple[str, str]) -> dict[str, object]:
    text = (demo / "company_a.toml").read_text().replace(*edit)
    (tmp_path / "agreement.toml").write_text(text)
    agreement = Agreement.load(tmp_path / "agreement.toml")
    with SQLiteStore(demo / "slacore.db") as store:
        report = build_report(store, agreement, as_of=datetime(2020, 7, 20, tzinfo=UTC))
    assert report.scorecard is not None
    return {
        line.key: line.actual
        for line in report.scorecard.lines
        if line.key.startswith("sales.milestones.")
    }


def test_a_milestone_is_measured_by_its_measure_not_its_name(demo: Path, tmp_path: Path) -> None:
    renamed = _milestone_lines(
        demo, tmp_path, ('metric = "close rate on proposals"', 'metric = "win ratio"')
    )
    # Nothing in "win ratio" says close: the measure does, and the figure is June's.
    assert renamed["sales.milestones.win ratio"] is not None
    assert renamed["sales.milestones.sales cycle"] is not None


def test_a_milestone_without_a_measure_is_not_guessed(demo: Path, tmp_path: Path) -> None:
    lines = _milestone_lines(demo, tmp_path, ('measure = "close_rate"\n', ""))
    assert lines["sales.milestones.close rate on proposals"] is None
    assert lines["sales.milestones.sales cycle"] is not None


def _ticks(page: str, axis: str) -> list[str]:
    return re.findall(rf'<text class="{axis}-tick"[^>]*>([^<]*)</text>', page)


def test_the_pacing_chart_s_axes_carry_values(demo: Path, tmp_path: Path) -> None:
    as_of = datetime(2020, 7, 20, tzinfo=UTC)
    with SQLiteStore(demo / "slacore.db") as store:
        page = build_report(store, Agreement.load(demo / "company_a.toml"), as_of=as_of).to_html()
    # Lead value up to $564,000 against $550,000: round money steps up to the next above it.
    assert _ticks(page, "y") == ["$0", "$200k", "$400k", "$600k"]
    assert _ticks(page, "x") == ["Jun 1", "Jun 8", "Jun 15", "Jun 22", "Jun 29"]
    # A quota of leads is counted in leads, not dollars.
    text = (demo / "company_a.toml").read_text(encoding="utf-8")
    start, end = text.index("[marketing.lead_value]"), text.index("[marketing.pacing]")
    (tmp_path / "leads.toml").write_text(
        text[:start] + "[marketing.leads]\ncount = 300\n\n" + text[end:], encoding="utf-8"
    )
    with SQLiteStore(demo / "slacore.db") as store:
        leads = build_report(store, Agreement.load(tmp_path / "leads.toml"), as_of=as_of)
    assert leads.pacing is not None
    assert _ticks(leads.to_html(), "y") == ["0", "100", "200", "300", "400"]
    assert "leads delivered to date" in leads.to_html()


def test_report_tables_by_name(demo: Path) -> None:
    """``to_arrow()`` gives each part of the report as a table, by a documented name, made
    by the part's own method; ``to_pandas()`` the same as data frames."""
    import pandas as pd

    agreement = Agreement.load(demo / "company_a.toml")
    with SQLiteStore(demo / "slacore.db") as store:
        report = build_report(store, agreement, as_of=datetime(2020, 7, 20, tzinfo=UTC))
    tables = report.to_arrow()
    (response,) = report.responses
    name = f"response.{response.rule.name}"
    assert list(tables) == [
        name,
        f"{name}.by_rep",
        f"{name}.by_source",
        "dashboard",
        "pacing",
        "curve",
        "scorecard",
        "escalation",
        "rejected",
    ]
    assert tables[name].equals(response.to_arrow())
    assert tables[name].num_rows == report.handoffs == 314
    assert tables[f"{name}.by_rep"].equals(response.summary_to_arrow("rep"))
    assert report.scorecard is not None
    assert tables["scorecard"].equals(report.scorecard.to_arrow())
    assert tables["rejected"].num_rows == report.rejected == 5
    frames = report.to_pandas()
    assert list(frames) == list(tables)
    assert all(isinstance(frame, pd.DataFrame) for frame in frames.values())
    assert str(frames[name]["status"].dtype) == "category"
    twice = attrs.evolve(report, responses=(response, response), cadences=())
    assert [key for key in twice.to_arrow() if key.startswith("response.")] == [
        name,
        f"{name}.by_rep",
        f"{name}.by_source",
        f"{name}#2",
        f"{name}#2.by_rep",
        f"{name}#2.by_source",
    ]


def test_no_collection_runs_while_a_report_is_built(demo: Path) -> None:
    # Reading the store makes a few records a hand-off that stay alive to the end of the
    # report: left on, the collector walked every record read so far, again and again.
    agreement = Agreement.load(demo / "company_a.toml")
    started: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.enable()
    with SQLiteStore(demo / "slacore.db", read_only=True) as store:
        gc.callbacks.append(note)
        try:
            report = build_report(store, agreement, as_of=datetime(2020, 7, 20, tzinfo=UTC))
        finally:
            gc.callbacks.remove(note)
    assert report.handoffs == 314
    # At most one, set off by the report's allocations as the collector comes back on.
    assert len(started) <= 1
    assert gc.isenabled()
