"""Benchmark: the user's whole path, CSV export to report, against a DuckDB script and polars.

Writes the CSV export a user of the ``csv`` connector has on disk (``leads.csv``,
``stage_changes.csv``, ``handoffs.csv``, ``touches.csv``, ``reps.csv``), a job file and two
agreements, for N hand-offs in July 2020 (fixed seed; per hand-off one lead, two stage changes
and three touches; 50 sales reps and 2 marketing reps), then times, each in a child process
of its own started from the files on disk:

- ``slacore sync --json`` into a fresh store, and a re-sync with nothing new;
- ``slacore report --period 2020-07 --json`` with each agreement: seed 000's
  (``examples/company_a.toml``: within 1 business hour, Mon-Fri 09:00-17:00 in New York with
  US holidays, hand-raisers but not webinar leads, a call, email or meeting stops the clock)
  and the same agreement with the 24-hour rule (24 hours of clock time, every hand-off, calls
  only, as HubSpot's in seed 001);
- the same rule in DuckDB SQL and in polars (lazy), straight from the CSVs: the first counted
  touch at or after the notification by a rep of the receiving team (or one the reps file does
  not know), met when it comes by the due time, counted overall and per rep (the hand-off's
  owner). The business clock is a table of working intervals with the business time before
  each; a hand-off's due time is an as-of join on it.

The counts (eligible, met, breached; overall and for each rep) must agree between slacore,
DuckDB and polars: the script exits 1, naming the difference, the moment they do not. The
peers leave out what the export does not hold (withdrawals, reassignments, clocks still
running at the report's moment), and the script checks that slacore found none of them.

For each step it prints the wall time of the child process (start to exit, the interpreter's
start and imports included), records per second (the export's records over the wall time;
for the sync, the records it read), the child's CPU time and peak resident memory
(``ru_maxrss`` from ``os.wait4`` in a small launcher process that forks it), and each time
over DuckDB's for the same rule. ``--repeat`` runs every step that many times, interleaved
(all steps of one round, then the next), each round into a fresh store; the table gives the
medians. ``--months 3`` spreads the hand-offs
over May, June and July (the report is still of July, a third of them): a report's cost should
follow the period reported, not the history stored.

    python benchmarks/bench_e2e.py [--sizes 100000,300000,1000000] [--repeat 3]
    python benchmarks/bench_e2e.py --quick        # 20,000 hand-offs, for a smoke run

Needs the ``bench`` extra (``pip install -e ".[all,bench]"``: duckdb and polars).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

ROOT: Final = Path(__file__).resolve().parent.parent
SEED: Final = 20200701
NY: Final = ZoneInfo("America/New_York")
# July 2020: Friday the 3rd is a US holiday (Independence Day observed), so leads notified on
# the evening of the 2nd are due on Monday the 6th.
PERIOD: Final = "2020-07"
PERIOD_START: Final = datetime(2020, 7, 1, tzinfo=NY)
PERIOD_END: Final = datetime(2020, 8, 1, tzinfo=NY)
SALES_REPS: Final = [f"R{n:02d}" for n in range(1, 51)]
MARKETING_REPS: Final = ["R51", "R52"]
# The four sources of seed 000's lead values (company_a.toml), and their shares.
SOURCES: Final = (
    ("referral", 0.05),
    ("content", 0.55),
    ("webinar", 0.15),
    ("web sales-ready", 0.25),
)
SEGMENTS: Final = ("smb manager", "mid-market director", "mid-market vp", "enterprise director")
CHANNELS: Final = ("call", "email", "meeting")
HAND_RAISERS: Final = 0.7
DEFAULT_SIZES: Final = (100_000, 300_000, 1_000_000)
QUICK_SIZES: Final = (20_000,)
MAX_MONTHS: Final = 7  # January to July 2020: Company A's agreement takes effect on January 1


@dataclass(frozen=True)
class Rule:
    """A response rule as the peers spell it; slacore reads it from the agreement file."""

    label: str
    window_us: int
    business: bool
    channels: tuple[str, ...]
    hand_raisers: bool = False
    exclude_sources: tuple[str, ...] = ()
    exclude_stages: tuple[str, ...] = ()


RULES: Final = {
    "24h": Rule("24 hours of clock time, calls only", 24 * 3600 * 10**6, False, ("call",)),
    "business": Rule(
        "seed 000: 1 business hour, hand-raisers, no webinar",
        3600 * 10**6,
        True,
        CHANNELS,
        hand_raisers=True,
        exclude_sources=("webinar",),
        exclude_stages=("subscriber", "lead"),
    ),
}
# Company A's calendar (company_a.toml's [calendar]), as the peers' interval table builds it.
OPEN_HOUR, CLOSE_HOUR, HOLIDAYS = 9, 17, "US"
TIMELINE_FROM, TIMELINE_TO = date(2020, 6, 1), date(2020, 10, 1)

TWENTY_FOUR_HOURS = """[sales.response]
within = "24h"
clock = "calendar"
counts = ["call"]
"""
JOB = """store = "{store}"
agreement = "{agreement}"

[[sources]]
name = "crm"
connector = "csv"

[sources.settings]
path = "export"
"""


# --- the export ---------------------------------------------------------------------------------


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, NY).isoformat()


def _business_hour_later(at: int, closed: frozenset[date]) -> int:
    """The end of the first business hour from ``at`` (seconds) on Company A's calendar."""
    moment, left = datetime.fromtimestamp(at, NY), timedelta(hours=1)
    day = moment.date()
    while True:
        if day.weekday() < 5 and day not in closed:
            opens = datetime(day.year, day.month, day.day, OPEN_HOUR, tzinfo=NY)
            closes = opens.replace(hour=CLOSE_HOUR)
            begin = max(moment, opens)
            if begin < closes:
                if begin + left <= closes:
                    return int((begin + left).timestamp())
                left -= closes - begin
        day += timedelta(days=1)
        moment = datetime(day.year, day.month, day.day, tzinfo=NY)


def _first_delay(rng: random.Random, at: int, closed: frozenset[date]) -> int:
    """Seconds from notification to the first sales touch: a spread both rules split, with
    touches exactly at the notification and exactly on each rule's deadline (met)."""
    u = rng.random()
    if u < 0.005:
        return 0
    if u < 0.01:
        return 24 * 3600
    if u < 0.02:
        return _business_hour_later(at, closed) - at
    if u < 0.40:
        return rng.randrange(0, 3600)
    if u < 0.70:
        return rng.randrange(3600, 8 * 3600)
    if u < 0.90:
        return rng.randrange(8 * 3600, 48 * 3600)
    return rng.randrange(48 * 3600, 5 * 86400)


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    u, total = rng.random(), 0.0
    for value, share in weighted:
        total += share
        if u < total:
            return value
    return weighted[-1][0]


def generate(folder: Path, handoffs: int, months: int = 1) -> dict[str, int]:
    """Write the export for ``handoffs`` hand-offs into ``folder``, notified over the
    ``months`` months that end with the period reported; the rows of each file."""
    rng = random.Random(SEED)
    closed = frozenset(_holidays())
    folder.mkdir(parents=True, exist_ok=True)
    first_day = PERIOD_START.replace(month=PERIOD_START.month - months + 1)
    start = int(first_day.timestamp())
    days = (PERIOD_END - first_day).days
    notified: list[int] = []
    for _ in range(handoffs):
        day = first_day + timedelta(days=rng.randrange(days))
        # Mostly office hours, sometimes evenings and nights.
        minute = rng.randrange(8 * 60, 18 * 60) if rng.random() < 0.8 else rng.randrange(24 * 60)
        moment = day.replace(hour=minute // 60, minute=minute % 60, second=rng.randrange(60))
        notified.append(max(start, int(moment.timestamp())))
    notified.sort()
    touches: list[tuple[int, int, str, str]] = []
    changes: list[tuple[int, int, str, str]] = []
    first_channel = (("call", 0.5), ("email", 0.35), ("meeting", 0.15))
    with (
        (folder / "leads.csv").open("w", encoding="utf-8", newline="") as leads,
        (folder / "handoffs.csv").open("w", encoding="utf-8", newline="") as out,
    ):
        leads.write("id,created_at,source,segment,owner_id,stage,hand_raiser\n")
        out.write(
            "lead_id,notified_at,stage,owner_id,from_team,to_team,source,segment,hand_raiser\n"
        )
        for n, at in enumerate(notified):
            lead, owner = f"L{n:07d}", SALES_REPS[rng.randrange(len(SALES_REPS))]
            source, segment = _pick(rng, SOURCES), SEGMENTS[rng.randrange(len(SEGMENTS))]
            raised = "true" if rng.random() < HAND_RAISERS else "false"
            created = at - rng.randrange(30 * 86400)
            leads.write(f"{lead},{_iso(created)},{source},{segment},{owner},sal,{raised}\n")
            out.write(
                f"{lead},{_iso(at)},mql,{owner},marketing,sales,{source},{segment},{raised}\n"
            )
            first = at + _first_delay(rng, at, closed)
            later = first + rng.randrange(3600, 7 * 86400)
            u = rng.random()
            if u < 0.05:  # a touch before the hand-off: it does not stop the clock
                early = (at - rng.randrange(60, 2 * 86400), owner)
            elif u < 0.15:  # a marketing rep's touch first: not the sales team's
                early = (at + rng.randrange(first - at + 1), MARKETING_REPS[n % 2])
            else:
                early = (later + rng.randrange(86400), owner)
            helper = owner if rng.random() < 0.9 else SALES_REPS[rng.randrange(len(SALES_REPS))]
            touches.append((first, n, owner, _pick(rng, first_channel)))
            touches.append((later, n, helper, CHANNELS[rng.randrange(3)]))
            touches.append((early[0], n, early[1], CHANNELS[rng.randrange(3)]))
            changes.append((at, n, "mql", "lead"))
            changes.append((first + rng.randrange(3600, 3 * 86400), n, "sal", "mql"))
    touches.sort()
    with (folder / "touches.csv").open("w", encoding="utf-8", newline="") as out:
        out.write("lead_id,rep_id,at,channel\n")
        out.writelines(f"L{n:07d},{rep},{_iso(at)},{channel}\n" for at, n, rep, channel in touches)
    changes.sort()
    with (folder / "stage_changes.csv").open("w", encoding="utf-8", newline="") as out:
        out.write("lead_id,to_stage,at,from_stage,owner_id\n")
        out.writelines(f"L{n:07d},{to},{_iso(at)},{fro},\n" for at, n, to, fro in changes)
    with (folder / "reps.csv").open("w", encoding="utf-8", newline="") as out:
        out.write("id,name,email,team,active\n")
        for rep in SALES_REPS + MARKETING_REPS:
            team = "marketing" if rep in MARKETING_REPS else "sales"
            out.write(f"{rep},Rep {rep},{rep.lower()}@company-a.example,{team},true\n")
    reps = len(SALES_REPS) + len(MARKETING_REPS)
    return {
        "leads": handoffs,
        "stage_changes": len(changes),
        "handoffs": handoffs,
        "touches": len(touches),
        "reps": reps,
    }


def write_jobs(folder: Path, store: str = "store.db") -> dict[str, Path]:
    """The two agreements and a job file for each, beside ``export/``, syncing into the
    store file ``store``; rule -> job file."""
    seed_000 = (ROOT / "examples" / "company_a.toml").read_text(encoding="utf-8")
    block = re.compile(r"^\[sales\.response\]\n(?:[^\n]+\n)+", re.MULTILINE)
    day_rule, found = block.subn(TWENTY_FOUR_HOURS, seed_000)
    if found != 1:
        raise SystemExit("examples/company_a.toml: expected one [sales.response] block")
    (folder / "business.toml").write_text(seed_000, encoding="utf-8")
    (folder / "24h.toml").write_text(day_rule, encoding="utf-8")
    jobs = {}
    for rule in RULES:
        jobs[rule] = folder / f"job-{rule}.toml"
        jobs[rule].write_text(JOB.format(agreement=f"{rule}.toml", store=store), encoding="utf-8")
    return jobs


# --- the peers, each in a child process ---------------------------------------------------------


def _holidays() -> list[date]:
    import holidays

    years = range(TIMELINE_FROM.year, TIMELINE_TO.year + 1)
    return sorted(holidays.country_holidays(HOLIDAYS, years=years))


def _bounds_us() -> tuple[int, int]:
    return int(PERIOD_START.timestamp()) * 10**6, int(PERIOD_END.timestamp()) * 10**6


def duckdb_counts(export: Path, rule: str) -> dict[str, list[int]]:
    """The rule in DuckDB SQL over the CSVs: owner -> [eligible, met]."""
    import duckdb

    spec = RULES[rule]
    first_us, end_us = _bounds_us()
    where = [f"epoch_us(notified_at) >= {first_us}", f"epoch_us(notified_at) < {end_us}"]
    if spec.hand_raisers:
        where.append("hand_raiser")
    where += [f"coalesce(source, '') <> '{s}'" for s in spec.exclude_sources]
    where += [f"stage <> '{s}'" for s in spec.exclude_stages]
    channels = ", ".join(f"'{c}'" for c in spec.channels)
    window = spec.window_us
    if spec.business:
        closed = ", ".join(f"DATE '{d}'" for d in _holidays())
        timeline = f"""
        days AS (
            SELECT d::DATE AS day FROM range(DATE '{TIMELINE_FROM}', DATE '{TIMELINE_TO}',
                                             INTERVAL 1 DAY) AS t(d)
            WHERE isodow(d) <= 5 AND d::DATE NOT IN ({closed})
        ),
        opened AS (
            SELECT epoch_us(timezone('{NY.key}', day + INTERVAL {OPEN_HOUR} HOUR)) AS s,
                   epoch_us(timezone('{NY.key}', day + INTERVAL {CLOSE_HOUR} HOUR)) AS e
            FROM days
        ),
        timeline AS (  -- each working interval with the business time before it
            SELECT s, e, coalesce(sum(e - s) OVER (ORDER BY s ROWS BETWEEN UNBOUNDED
                   PRECEDING AND 1 PRECEDING), 0)::BIGINT AS before FROM opened
        ),
        placed AS (  -- the business time at notification
            SELECT h.*, i.before + least(h.notified - i.s, i.e - i.s) AS position
            FROM eligible h ASOF JOIN timeline i ON h.notified >= i.s
        ),
        due AS (  -- the earliest instant {window} business microseconds later
            SELECT p.*, i.s + (p.position + {window} - i.before) AS due
            FROM placed p ASOF JOIN timeline i ON p.position + {window} > i.before
        ),"""
    else:
        timeline = f"due AS (SELECT *, notified + {window} AS due FROM eligible),"
    sql = f"""
    WITH eligible AS (
        SELECT lead_id, owner_id, to_team, epoch_us(notified_at) AS notified
        FROM read_csv('{export / "handoffs.csv"}', header = true,
                      types = {{'notified_at': 'TIMESTAMPTZ', 'hand_raiser': 'BOOLEAN'}})
        WHERE {" AND ".join(where)}
    ),
    {timeline}
    counted AS (
        SELECT t.lead_id, epoch_us(t.at) AS at, r.team
        FROM read_csv('{export / "touches.csv"}', header = true,
                      types = {{'at': 'TIMESTAMPTZ'}}) AS t
        LEFT JOIN read_csv('{export / "reps.csv"}', header = true) AS r ON r.id = t.rep_id
        WHERE t.channel IN ({channels})
    ),
    first AS (
        SELECT d.lead_id, d.notified, any_value(d.owner_id) AS owner_id,
               any_value(d.due) AS due, min(c.at) AS first_at
        FROM due AS d LEFT JOIN counted AS c
          ON c.lead_id = d.lead_id AND c.at >= d.notified
         AND coalesce(c.team, d.to_team) = d.to_team
        GROUP BY d.lead_id, d.notified
    )
    SELECT owner_id, count(*) AS eligible, count_if(first_at <= due) AS met
    FROM first GROUP BY owner_id
    """
    rows = duckdb.connect().sql(sql).fetchall()
    return {owner: [eligible, met] for owner, eligible, met in rows}


def polars_counts(export: Path, rule: str) -> dict[str, list[int]]:
    """The rule in polars (lazy) over the CSVs: owner -> [eligible, met]."""
    import polars as pl

    spec = RULES[rule]
    first_us, end_us = _bounds_us()
    stamp = "%Y-%m-%dT%H:%M:%S%z"
    handoffs = pl.scan_csv(export / "handoffs.csv", schema_overrides={"hand_raiser": pl.Boolean})
    keep = pl.col("notified").is_between(first_us, end_us, closed="left")
    if spec.hand_raisers:
        keep &= pl.col("hand_raiser")
    for value in spec.exclude_sources:
        keep &= pl.col("source").fill_null("") != value
    if spec.exclude_stages:
        keep &= ~pl.col("stage").is_in(spec.exclude_stages)
    eligible = (
        handoffs.with_columns(
            notified=pl.col("notified_at").str.to_datetime(stamp, time_unit="us").dt.epoch("us")
        )
        .filter(keep)
        .select("lead_id", "owner_id", "to_team", "notified")
    )
    window = spec.window_us
    if spec.business:
        opened = (
            pl.LazyFrame(
                {"day": pl.date_range(TIMELINE_FROM, TIMELINE_TO, closed="left", eager=True)}
            )
            .filter((pl.col("day").dt.weekday() <= 5) & ~pl.col("day").is_in(_holidays()))
            .select(
                *(
                    (pl.col("day").cast(pl.Datetime("us")) + pl.duration(hours=hour))
                    .dt.replace_time_zone(NY.key)
                    .dt.epoch("us")
                    .alias(name)
                    for name, hour in (("s", OPEN_HOUR), ("e", CLOSE_HOUR))
                )
            )
            .sort("s")
        )
        timeline = opened.with_columns(
            before=((pl.col("e") - pl.col("s")).cum_sum() - (pl.col("e") - pl.col("s")))
        )
        placed = (
            eligible.sort("notified")
            .join_asof(timeline, left_on="notified", right_on="s", strategy="backward")
            .with_columns(
                target=pl.col("before")
                + pl.min_horizontal(pl.col("notified") - pl.col("s"), pl.col("e") - pl.col("s"))
                + window
                - 1  # the last interval with before < target: before <= target - 1
            )
            .select("lead_id", "owner_id", "to_team", "notified", "target")
            .sort("target")
        )
        due = placed.join_asof(
            timeline, left_on="target", right_on="before", strategy="backward"
        ).select(
            "lead_id",
            "owner_id",
            "to_team",
            "notified",
            due=pl.col("s") + pl.col("target") + 1 - pl.col("before"),
        )
    else:
        due = eligible.with_columns(due=pl.col("notified") + window)
    reps = pl.scan_csv(export / "reps.csv").select(rep_id="id", team="team")
    counted = (
        pl.scan_csv(export / "touches.csv")
        .filter(pl.col("channel").is_in(spec.channels))
        .join(reps, on="rep_id", how="left")
        .select(
            "lead_id", "team", at=pl.col("at").str.to_datetime(stamp, time_unit="us").dt.epoch("us")
        )
    )
    first = (
        due.select("lead_id", "notified", "to_team")
        .join(counted, on="lead_id")
        .filter(
            (pl.col("at") >= pl.col("notified"))
            & (pl.col("team").fill_null(pl.col("to_team")) == pl.col("to_team"))
        )
        .group_by("lead_id", "notified")
        .agg(first_at=pl.col("at").min())
    )
    counts = (
        due.join(first, on=["lead_id", "notified"], how="left")
        .group_by("owner_id")
        .agg(eligible=pl.len(), met=(pl.col("first_at") <= pl.col("due")).fill_null(False).sum())
        .collect()
    )
    return {row["owner_id"]: [row["eligible"], row["met"]] for row in counts.iter_rows(named=True)}


# --- measuring ---------------------------------------------------------------------------------


# Linux counts the memory of the process that forked a child in the child's peak RSS (exec
# keeps the larger of the old and the new peak), and this process grows with the export it
# writes. A small launcher of its own forks each measured command instead, times it and passes
# its usage back on stdout.
LAUNCHER: Final = """
import json, os, sys, time
began = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(int(sys.argv[1]), 1)
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
print(json.dumps({"seconds": time.perf_counter() - began, "status": status,
                  "cpu": usage.ru_utime + usage.ru_stime, "maxrss": usage.ru_maxrss}))
"""


def run(command: list[str], cwd: Path, output: Path) -> dict[str, Any]:
    """Run ``command`` in ``cwd`` with stdout to ``output``; its wall, CPU and peak RSS."""
    with output.open("w") as out, output.with_suffix(".err").open("w") as err:
        done = subprocess.run(
            [sys.executable, "-S", "-c", LAUNCHER, str(out.fileno()), *command],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=err,
            pass_fds=(out.fileno(),),
            check=True,
        )
    usage = json.loads(done.stdout)
    code = os.waitstatus_to_exitcode(usage["status"])
    if code != 0:
        raise SystemExit(
            f"{' '.join(command[1:])} exited {code}:\n{output.with_suffix('.err').read_text()}"
        )
    rss = usage["maxrss"] * (1 if sys.platform == "darwin" else 1024)
    return {"seconds": usage["seconds"], "cpu": usage["cpu"], "rss": rss}


def slacore_counts(report: dict[str, Any]) -> dict[str, list[int]]:
    """owner -> [eligible, met] from ``slacore report --json``, checking nothing is left out
    that the peers do not model (pending, withdrawn)."""
    (response,) = report["response"]
    for who, tally in [("overall", response["summary"]), *response["by_rep"].items()]:
        if (
            tally["pending"]
            or tally["withdrawn"]
            or tally["met"] + tally["breached"] != tally["eligible"]
        ):
            raise SystemExit(f"slacore's {who} counts hold pending or withdrawn hand-offs: {tally}")
    counts = {rep: [t["eligible"], t["met"]] for rep, t in response["by_rep"].items()}
    summary = response["summary"]
    counts["(overall)"] = [summary["eligible"], summary["met"]]
    return counts


def _with_overall(counts: dict[str, list[int]]) -> dict[str, list[int]]:
    total = [sum(c[0] for c in counts.values()), sum(c[1] for c in counts.values())]
    return {**counts, "(overall)": total}


def check_agree(rule: str, found: dict[str, dict[str, list[int]]]) -> str:
    """Exit 1 if the tools' counts differ (overall or for any rep); else a one-line summary."""
    (first, expected), *others = found.items()
    for tool, counts in others:
        if counts != expected:
            differ = sorted(
                rep
                for rep in expected.keys() | counts.keys()
                if expected.get(rep) != counts.get(rep)
            )
            lines = [
                f"  {rep}: {first} {expected.get(rep)}, {tool} {counts.get(rep)}"
                for rep in differ[:10]
            ]
            raise SystemExit(
                f"COUNTS DIFFER for the {rule} rule ([eligible, met]), {len(differ)} rows:\n"
                + "\n".join(lines)
            )
    eligible, met = expected["(overall)"]
    return (
        f"  {RULES[rule].label}: counts agree ({', '.join(found)}): {eligible:,} eligible, "
        f"{met:,} met, {eligible - met:,} breached, {len(expected) - 1} reps"
    )


def round_of(
    work: Path, jobs: dict[str, Path], records: int, store: str = "store.db"
) -> dict[str, dict[str, Any]]:
    """One round of every step on the export in ``work`` (into a fresh store file
    ``store``): step -> measurement."""
    cli = [sys.executable, "-m", "slacore_connectors"]
    for stale in work.glob(f"{store}*"):
        stale.unlink()
    got: dict[str, dict[str, Any]] = {}
    for step in ("sync", "re-sync"):
        got[step] = run([*cli, "sync", "--config", jobs["business"].name, "--json"], work,
                        work / f"{step}.json")  # fmt: skip
        streams = json.loads((work / f"{step}.json").read_text())["sources"][0]["streams"]
        got[step]["records"] = sum(counts["read"] for counts in streams.values())
        print(_line(step, got[step]), flush=True)
        rejected = sum(counts["rejected"] for counts in streams.values())
        if rejected:
            raise SystemExit(f"the {step} rejected {rejected:,} rows of a clean export")
    if got["re-sync"]["records"]:
        raise SystemExit(f"the re-sync read {got['re-sync']['records']:,} records; expected 0")
    for rule, job in jobs.items():
        found: dict[str, dict[str, list[int]]] = {}
        step = f"slacore report, {rule}"
        out = work / f"report-{rule}.json"
        got[step] = run([*cli, "report", "--config", job.name, "--period", PERIOD, "--json"],
                        work, out)  # fmt: skip
        got[step]["records"] = records
        print(_line(step, got[step]), flush=True)
        found["slacore"] = slacore_counts(json.loads(out.read_text()))
        for peer in ("duckdb", "polars"):
            step = f"{peer}, {rule}"
            out = work / f"{peer}-{rule}.json"
            got[step] = run([sys.executable, __file__, "--peer", peer, rule, str(work / "export")],
                            work, out)  # fmt: skip
            answer = json.loads(out.read_text())
            got[step].update(records=records, query=answer["query"])
            print(_line(step, got[step]), flush=True)
            found[peer] = _with_overall(answer["counts"])
        print(check_agree(rule, found), flush=True)
    return got


def mib(size: float) -> str:
    return f"{size / 2**20:,.0f} MiB" if size < 2**30 else f"{size / 2**30:,.2f} GiB"


def _line(step: str, m: dict[str, Any]) -> str:
    query = f" (the query {m['query']:.2f} s)" if "query" in m else ""
    return (
        f"  {step:<26} {m['seconds']:8.2f} s, CPU {m['cpu']:7.2f} s, "
        f"peak RSS {mib(m['rss']):>9}{query}"
    )


def medians(steps: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """Step -> the median of each figure over the rounds."""
    return {
        step: {key: statistics.median(m[key] for m in runs) for key in runs[0]}
        for step, runs in steps.items()
    }


def table(results: dict[int, dict[str, list[dict[str, Any]]]], totals: dict[int, int]) -> None:
    """The medians as a Markdown table, each time also over DuckDB's for its rule."""
    print("\n| hand-offs (records) | step | wall | records/s | CPU | peak RSS | / DuckDB |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for size, steps in results.items():
        median = medians(steps)
        for step, m in median.items():
            rule = step.rpartition(", ")[2]
            versus = ""
            if rule in RULES and not step.startswith("duckdb"):
                versus = f"x{m['seconds'] / median[f'duckdb, {rule}']['seconds']:.1f}"
            speed = f"{m['records'] / m['seconds']:,.0f}" if m["records"] else "-"
            wall = f"{m['seconds']:.2f} s" + (f" (query {m['query']:.2f})" if "query" in m else "")
            print(
                f"| {size:,} ({totals[size]:,}) | {step} | {wall} | {speed} | "
                f"{m['cpu']:.2f} s | {mib(m['rss'])} | {versus} |"
            )
        for rule in RULES:
            whole = median["sync"]["seconds"] + median[f"slacore report, {rule}"]["seconds"]
            ratio = whole / median[f"duckdb, {rule}"]["seconds"]
            print(f"| {size:,} | sync + report, {rule} | {whole:.2f} s | | | | x{ratio:.0f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        default=DEFAULT_SIZES,
        help="hand-offs, comma-separated (default 100000,300000,1000000)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="rounds, interleaved (default 1)")
    parser.add_argument(
        "--months",
        type=int,
        default=1,
        help=f"spread the hand-offs over this many months ending with {PERIOD}, the one "
        f"reported (default 1, at most {MAX_MONTHS})",
    )
    parser.add_argument("--quick", action="store_true", help="20,000 hand-offs, for a smoke run")
    parser.add_argument("--workdir", type=Path, help="write and keep the exports and stores here")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument(
        "--store",
        default="store.db",
        help="the store file slacore syncs into; its name chooses the engine: store.db "
        "(SQLite, the default) or store.duckdb (DuckDB)",
    )
    parser.add_argument(
        "--peer", nargs=3, metavar=("TOOL", "RULE", "EXPORT"), help=argparse.SUPPRESS
    )
    options = parser.parse_args()
    if options.peer:
        tool, rule, export = options.peer
        count = duckdb_counts if tool == "duckdb" else polars_counts
        __import__(tool)  # the query's time leaves out the import, which the wall time holds
        began = time.perf_counter()
        counts = count(Path(export), rule)
        print(json.dumps({"counts": counts, "query": time.perf_counter() - began}))
        return 0
    sizes = QUICK_SIZES if options.quick else options.sizes
    if options.repeat < 1 or any(size < 1 for size in sizes):
        parser.error("--repeat and --sizes must be at least 1")
    if not 1 <= options.months <= MAX_MONTHS:
        parser.error(f"--months must be 1 to {MAX_MONTHS}")

    machine = (
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, "
        f"{platform.platform()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; duckdb "
        f"{_version('duckdb')}, polars {_version('polars')}"
    )
    print(f"{machine}; load {os.getloadavg()[0]:.2f}", flush=True)
    results: dict[int, dict[str, list[dict[str, Any]]]] = {}
    totals: dict[int, int] = {}
    base = options.workdir or Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    try:
        for size in sizes:
            work = base / f"{size}"
            began = time.perf_counter()
            rows = generate(work / "export", size, options.months)
            jobs = write_jobs(work, options.store)
            totals[size] = sum(rows.values())
            print(
                f"{size:,} hand-offs, {totals[size]:,} records ("
                + ", ".join(f"{stream} {n:,}" for stream, n in rows.items())
                + f"), notified over {options.months} month(s) up to {PERIOD}, written in "
                f"{time.perf_counter() - began:.1f} s",
                flush=True,
            )
            results[size] = {}
            for n in range(options.repeat):
                print(f" round {n + 1} (load {os.getloadavg()[0]:.2f})", flush=True)
                for step, measured in round_of(work, jobs, totals[size], options.store).items():
                    results[size].setdefault(step, []).append(measured)
    finally:
        if options.workdir is None:
            shutil.rmtree(base, ignore_errors=True)
    table(results, totals)
    if options.json:
        figures = {
            "machine": machine,
            "months": options.months,
            "sizes": {
                size: {"records": totals[size], "rounds": steps, "medians": medians(steps)}
                for size, steps in results.items()
            },
        }
        options.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


if __name__ == "__main__":
    raise SystemExit(main())
