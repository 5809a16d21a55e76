"""`slacore sync`, `slacore report` and `slacore demo`, run for real in subprocesses."""

from __future__ import annotations

import html
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from slacore_connectors.store.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[2]


def slacore(
    *args: str, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slacore_connectors", *args],
        capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd,
    )  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli-demo")
    done = slacore("demo", "--dir", str(folder))
    assert done.returncode == 0, done.stderr
    assert "SLA report for 2020-06" in done.stdout
    assert f"the HTML report is {folder / 'report.html'}" in done.stdout
    return folder


def test_demo_prints_the_report_and_writes_html(demo: Path) -> None:
    assert (demo / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert (demo / "slacore.db").exists()
    assert (demo / "slacore.toml").exists()


def test_demo_json(tmp_path: Path) -> None:
    done = slacore("demo", "--dir", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["report"]["period"]["label"] == "2020-06"
    assert data["sync"]["ok"] is True
    assert data["report"]["rejected_records"] == 5


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "json"])
def test_report_formats(demo: Path, fmt: str) -> None:
    done = slacore("report", "--period", "2020-05", "--format", fmt, cwd=demo)
    assert done.returncode == 0, done.stderr
    if fmt == "json":
        assert json.loads(done.stdout)["period"]["label"] == "2020-05"
    elif fmt == "html":
        assert done.stdout.startswith("<!DOCTYPE html>")
    else:
        assert done.stdout.startswith("# Service-level agreement between marketing and sales")
        assert "back-loaded" in done.stdout


def test_report_to_a_file_and_as_of(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "june.json"
    done = slacore("report", "--json", "--as-of", "2030-01-01", "--output", str(out), cwd=demo)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert f"wrote {out}" in done.stderr
    assert json.loads(out.read_text())["period"]["label"] == "2020-06"
    # Before the store learnt anything, there is nothing to report on: exit 1, saying so.
    early = slacore("report", "--json", "--as-of", "2000-01-01", cwd=demo)
    assert early.returncode == 1
    assert early.stdout == ""
    assert "the store held no hand-offs" in early.stderr


@pytest.mark.parametrize(
    ("args", "message", "status"),
    [
        (["report", "--as-of", "soon"], "'--as-of'", 2),
        (["report", "--as-of", "2020-07-01T10:00"], "needs its offset", 2),
        (["report", "--config", "nope.toml"], "no such job file", 2),
        (["sync", "--config", "nope.toml"], "no such job file", 2),
    ],
)
def test_bad_invocations(demo: Path, args: list[str], message: str, status: int) -> None:
    done = slacore(*args, cwd=demo)
    assert done.returncode == status
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_bad_job_file_shows_every_problem_on_its_line(tmp_path: Path) -> None:
    (tmp_path / "slacore.toml").write_text(
        'stor = "x.db"\n[[sources]]\nconector = "csv"\n', encoding="utf-8"
    )
    done = slacore("sync", cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("slacore: error: bad job file: 3 problems in the job file")
    assert lines[1:] == [
        'slacore.toml:1: stor: unknown key; did you mean "store"?',
        'slacore.toml:2: sources[0].connector: missing; expected a connector name such as "csv"',
        'slacore.toml:3: sources[0].conector: unknown key; did you mean "connector"?',
    ]


def test_report_and_forget_need_no_source_secrets(demo: Path) -> None:
    # A report is read from the store: a shell without the CRM's token can run it; a sync,
    # which reads the CRM, still says which variable to set.
    job = (demo / "slacore.toml").read_text(encoding="utf-8")
    job += (
        '\n[[sources]]\nname = "hs"\nconnector = "hubspot"\n[sources.settings]\n'
        'access_token = { env = "SLACORE_TEST_UNSET_TOKEN" }\n'
    )
    (demo / "with-crm.toml").write_text(job, encoding="utf-8")
    assert "SLACORE_TEST_UNSET_TOKEN" not in os.environ
    report = slacore("report", "--config", "with-crm.toml", "--period", "2020-06", cwd=demo)
    assert report.returncode == 0, report.stderr
    assert "SLA report for 2020-06" in report.stdout
    forget = slacore("forget", "--config", "with-crm.toml", "hs", cwd=demo)
    assert forget.returncode == 1  # past the job file, to the store: hs was never synced
    assert forget.stderr == "slacore: error: the store holds nothing of source 'hs'\n"
    sync = slacore("sync", "--config", "with-crm.toml", cwd=demo)
    assert sync.returncode == 2
    assert "environment variable 'SLACORE_TEST_UNSET_TOKEN' is not set" in sync.stderr


def test_sync_json_and_incremental(demo: Path) -> None:
    done = slacore("sync", "--json", cwd=demo)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["ok"] is True
    assert all(s["read"] == 0 for s in data["sources"][0]["streams"].values())
    full = slacore("sync", "--full", cwd=demo)
    assert full.returncode == 0, full.stderr
    assert "| leads | 4,994 | 0 | 4,994 | 2 |" in full.stdout
    # In a pipe, progress is plain lines on stderr; they count what the "read" column counts.
    assert "crm: leads: +4,994 records" in full.stderr


def test_sync_exits_1_when_a_source_fails(tmp_path: Path) -> None:
    (tmp_path / "slacore.toml").write_text(
        '[[sources]]\nname = "crm"\nconnector = "csv"\nsettings = { path = "missing" }\n'
    )
    done = slacore("sync", cwd=tmp_path)
    assert done.returncode == 1
    assert "crm (csv): failed" in done.stdout


def _big_export(folder: Path, rows: int) -> None:
    data = folder / "data"
    data.mkdir(parents=True)
    with (data / "leads.csv").open("w") as file:
        file.write("id,created_at,source,segment,owner_id,stage,hand_raiser\n")
        for i in range(rows):
            file.write(f"L{i:07d},2020-05-01T10:{i % 60:02d}:00-04:00,web,smb,R{i % 10},mql,true\n")
    (folder / "slacore.toml").write_text(
        'store = "slacore.db"\n[[sources]]\nname = "crm"\nconnector = "csv"\n'
        'settings = { path = "data", batch_size = 5000 }\n'
    )


@pytest.fixture
def background_sync() -> Iterator[Callable[[Path], subprocess.Popen[str]]]:
    """Start ``slacore sync`` in the background; whatever is still running is killed at the end."""
    started: list[subprocess.Popen[str]] = []

    def start(folder: Path) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "slacore_connectors", "sync"],
            cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def _wait_for_progress(store: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if store.exists():
            with SQLiteStore(store) as opened:
                cursor = opened.cursor("crm", "leads")
            if cursor is not None:
                return
        assert process.poll() is None, "the sync ended before it could be interrupted"
        time.sleep(0.05)
    pytest.fail("the sync made no progress")


def test_kill_and_resume_equals_an_uninterrupted_sync(
    tmp_path: Path, background_sync: Callable[[Path], subprocess.Popen[str]]
) -> None:
    rows = 200_000
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    _big_export(killed, rows)
    shutil.copytree(killed, clean)
    process = background_sync(killed)
    _wait_for_progress(killed / "slacore.db", process)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    with SQLiteStore(killed / "slacore.db") as store:
        partial = store.count("leads")
        assert [run.status for run in store.runs()] == ["running"]  # never finished
    assert 0 < partial < rows
    resumed = slacore("sync", cwd=killed, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    whole = slacore("sync", cwd=clean, timeout=300)
    assert whole.returncode == 0, whole.stderr
    with SQLiteStore(killed / "slacore.db") as a, SQLiteStore(clean / "slacore.db") as b:
        assert a.count("leads") == rows
        killed_dump, clean_dump = a.dump(), b.dump()
        # The cursors name their own folders' files; where they stand must be the same.
        for dump in (killed_dump, clean_dump):
            ((_, _, cursor),) = dump.pop("cursors")
            state = json.loads(cursor)["state"]
            assert (state["offset"], state["line"]) == (
                (killed / "data" / "leads.csv").stat().st_size,
                rows + 1,
            )
        assert killed_dump == clean_dump


def test_two_syncs_at_once(
    tmp_path: Path, background_sync: Callable[[Path], subprocess.Popen[str]]
) -> None:
    _big_export(tmp_path, 100_000)
    first = background_sync(tmp_path)
    _wait_for_progress(tmp_path / "slacore.db", first)
    second = slacore("sync", cwd=tmp_path)
    assert second.returncode == 1
    assert "another sync is running" in second.stderr
    assert "nothing was read or written" in second.stderr
    first.wait(timeout=300)
    assert first.returncode == 0
    with SQLiteStore(tmp_path / "slacore.db") as store:
        assert len(store.runs()) == 1  # the second touched nothing
        assert store.count("leads") == 100_000


# Headless Chromium lays a page out at least 500 px wide; in a 390 px frame it lays it out as a
# phone would. The frame's onload measures every chart text, drawn, and writes the figures
# into the harness page, which --dump-dom prints.
_PHONE = """<!DOCTYPE html><html><body>
<iframe src="report.html" style="width: 390px; height: 2400px; border: 0" onload="
const doc = this.contentDocument;
const out = {width: this.contentWindow.innerWidth, texts: []};
for (const text of doc.querySelectorAll('figure.chart svg text')) {
  const box = text.getBoundingClientRect();
  const ctm = text.getScreenCTM();
  out.texts.push({
    text: text.textContent, css: text.getAttribute('class') || '',
    px: parseFloat(this.contentWindow.getComputedStyle(text).fontSize) * Math.hypot(ctm.a, ctm.b),
    left: box.left, right: box.right, top: box.top, bottom: box.bottom, height: box.height,
  });
}
const pre = document.createElement('pre');
pre.id = 'measured';
pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
"></iframe></body></html>"""


def _chromium(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _apart(boxes: list[dict[str, float]]) -> bool:
    """No two boxes overlap."""
    return all(
        a["right"] <= b["left"] or b["right"] <= a["left"]
        or a["bottom"] <= b["top"] or b["bottom"] <= a["top"]
        for i, a in enumerate(boxes) for b in boxes[i + 1 :]
    )  # fmt: skip


def test_html_report_renders_in_chromium(demo: Path, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Debian's chromium (.ci/run installs it)")
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    page = demo / "report.html"
    shot = tmp_path / "report.png"
    dom = _chromium(browser, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    # The browser parsed the page and both charts, with their marks, are in its DOM.
    assert dom.stdout.count('<figure class="chart">') == 2
    assert 'class="delivered"' in dom.stdout
    assert dom.stdout.count('class="bar"') == 5
    # At a phone's width (390 px), chart text is drawn at least 11 px high, inside the page,
    # and the axis labels do not run into each other.
    shutil.copy(page, tmp_path / "report.html")
    harness = tmp_path / "phone.html"
    harness.write_text(_PHONE, encoding="utf-8")
    phone = _chromium(
        browser, tmp_path / "profile3", "--allow-file-access-from-files", "--dump-dom",
        harness.as_uri(),
    )  # fmt: skip
    assert phone.returncode == 0, phone.stderr[-2000:]
    found = re.search(r'<pre id="measured">(.*?)</pre>', phone.stdout, re.DOTALL)
    assert found is not None, phone.stdout[-2000:]
    data = json.loads(html.unescape(found.group(1)))
    assert data["width"] == 390
    texts = data["texts"]
    assert len(texts) > 10
    for text in texts:
        assert text["px"] >= 11, text
        assert text["height"] >= 11, text
        assert text["left"] >= 0, text
        assert text["right"] <= 390, text
    # The pacing chart's axes carry values: money up the side, dates along the bottom.
    values = [t for t in texts if t["css"] == "y-tick"]
    dates = [t for t in texts if t["css"] == "x-tick"]
    assert [t["text"] for t in values] == ["$0", "$200k", "$400k", "$600k"]
    assert [t["text"] for t in dates] == ["Jun 1", "Jun 8", "Jun 15", "Jun 22", "Jun 29"]
    assert all(a["bottom"] > b["bottom"] for a, b in itertools.pairwise(values))
    assert _apart(dates)
    assert _apart([t for t in texts if t["css"] in ("bucket", "count")])
    taken = _chromium(
        browser, tmp_path / "profile2", f"--screenshot={shot}", "--window-size=390,2400",
        page.as_uri(),
    )  # fmt: skip
    assert taken.returncode == 0, taken.stderr[-2000:]
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG")
    assert len(png) > 20_000  # a rendered page with charts, not a blank one
