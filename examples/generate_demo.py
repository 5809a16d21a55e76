"""Generate the demo data set that ``slacore demo`` syncs and reports on.

Company A (seed 000), April to June 2020: 10 sales reps and 2 marketing reps, about 5,000
leads from four sources (referral, content, webinar, web sales-ready), the MQLs handed to
sales, calls, emails and meetings, stage changes and deals. The data is realistic on purpose:

- most hand-raisers are contacted within the business hour, some late, a few never;
- May is back-loaded: marketing delivers most of its MQLs in the month's last week;
- one rep (R07) is slow to call and light on follow-up, so the dashboard has a name on it;
- a handful of rows are bad (an impossible date, a naive timestamp, a negative amount, an
  unknown stage, a channel nobody knows), so the report shows rejected records.

The output is deterministic (seeded). Run from the repository root:

    python examples/generate_demo.py

It writes the CSV files to ``src/slacore_connectors/demo/data/`` (shipped in the package, so
``slacore demo`` works from an installed wheel) and copies ``examples/company_a.toml`` there.
"""

from __future__ import annotations

import csv
import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from slacore.connector import core_fields

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "slacore_connectors" / "demo"
NY = ZoneInfo("America/New_York")
MONTHS = ((2020, 4), (2020, 5), (2020, 6))
SALES = [f"R{n:02d}" for n in range(1, 11)]
NAMES = [
    "Avery Brooks",
    "Blake Chen",
    "Casey Diaz",
    "Devon Ellis",
    "Emery Fox",
    "Finley Gray",
    "Gray Hughes",
    "Harper Ito",
    "Indy Jones",
    "Jordan Kim",
]
# Qualified leads (MQLs handed to sales) per month, by source: the article's sample month.
MQLS = {"referral": 10, "content": 200, "webinar": 50, "web sales-ready": 50}
EARLY_STAGE_PER_MONTH = 1_350  # subscribers and early leads: never handed off
DEAL_VALUE = {"referral": 60_000, "content": 40_000, "webinar": 45_000, "web sales-ready": 55_000}
WIN_CHANCE = {"referral": 0.30, "content": 0.04, "webinar": 0.06, "web sales-ready": 0.09}


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds")


def _month_days(year: int, month: int) -> list[datetime]:
    first = datetime(year, month, 1, tzinfo=NY)
    days = []
    day = first
    while day.month == month:
        days.append(day)
        day += timedelta(days=1)
    return days


def _moment(rnd: random.Random, day: datetime, *, office: float = 0.8) -> datetime:
    """A time on ``day``: mostly office hours, sometimes the evening or night."""
    minutes = rnd.randrange(8 * 60, 18 * 60) if rnd.random() < office else rnd.randrange(0, 24 * 60)
    return day.replace(hour=minutes // 60, minute=minutes % 60, second=rnd.randrange(60))


def _next_business_moment(t: datetime) -> datetime:
    """``t`` if it is within Monday-Friday 09:00-17:00, else the next opening."""
    while t.weekday() >= 5 or t.hour >= 17:
        t = (t + timedelta(days=1)).replace(hour=9, minute=0, second=0)
    if t.hour < 9:
        t = t.replace(hour=9, minute=0, second=0)
    return t


def generate(out: Path = OUT, seed: int = 2020) -> dict[str, int]:
    """Write the demo files into ``out/data``; returns rows written per file."""
    rnd = random.Random(seed)
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[list[str]]] = {
        "reps": [],
        "leads": [],
        "handoffs": [],
        "touches": [],
        "stage_changes": [],
        "deals": [],
    }
    for rep, name in zip(SALES, NAMES, strict=True):
        email = name.lower().replace(" ", ".") + "@company-a.example"
        rows["reps"].append([rep, name, email, "sales", "true"])
    rows["reps"].append(["M01", "Morgan Lee", "morgan.lee@company-a.example", "marketing", "true"])
    rows["reps"].append(["M02", "Quinn Park", "quinn.park@company-a.example", "marketing", "true"])

    number = 0
    for year, month in MONTHS:
        days = _month_days(year, month)
        for _ in range(EARLY_STAGE_PER_MONTH):
            number += 1
            created = _moment(rnd, rnd.choice(days), office=0.5)
            source = rnd.choice(["content", "content", "webinar", "organic"])
            stage = rnd.choice(["subscriber", "lead", "lead"])
            rows["leads"].append(
                [f"L{number:05d}", _iso(created), source, "early", "", stage, "false"]
            )
        for source, count in MQLS.items():
            for _ in range(count + rnd.randrange(-2, 5)):
                number += 1
                lead = f"L{number:05d}"
                if (year, month) == (2020, 5) and rnd.random() < 0.75:
                    day = rnd.choice(days[-7:])  # May is back-loaded: a late super campaign
                else:
                    day = rnd.choice(days)
                created = _moment(rnd, day, office=0.75)
                owner = rnd.choice(SALES)
                raiser = source in ("referral", "web sales-ready") or (
                    source == "content" and rnd.random() < 0.3
                )
                segment = rnd.choice(["mid-market VP", "enterprise director", "SMB owner"])
                notified = created + timedelta(minutes=rnd.randrange(1, 6))
                rows["leads"].append(
                    [
                        lead,
                        _iso(created),
                        source,
                        segment,
                        owner,
                        "mql",
                        "true" if raiser else "false",
                    ]
                )
                rows["handoffs"].append(
                    [
                        lead,
                        _iso(notified),
                        "mql",
                        owner,
                        "marketing",
                        "sales",
                        source,
                        segment,
                        "true" if raiser else "false",
                    ]
                )
                rows["stage_changes"].append([lead, "mql", _iso(notified), "lead", owner])
                _work(rnd, rows, lead, owner, source, notified)
    _bad_rows(rows)
    # The CSV connector maps columns named like the core fields by default.
    headers = {name: [f.name for f in core_fields(name)] for name in rows}
    written = {}
    for name, items in rows.items():
        with (data / f"{name}.csv").open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(headers[name])
            writer.writerows(items)
        written[f"{name}.csv"] = len(items)
    shutil.copyfile(ROOT / "examples" / "company_a.toml", out / "company_a.toml")
    return written


def _work(
    rnd: random.Random,
    rows: dict[str, list[list[str]]],
    lead: str,
    owner: str,
    source: str,
    notified: datetime,
) -> None:
    """The rep's calls and emails on a lead, its progress and any deal."""
    slow = owner == "R07"
    first = _next_business_moment(notified)
    roll = rnd.random()
    if roll < (0.25 if slow else 0.03):
        return  # never contacted
    if roll < (0.6 if slow else 0.12):
        delay = timedelta(hours=rnd.uniform(1.2, 30))  # late
    else:
        delay = timedelta(minutes=rnd.expovariate(1 / 14))  # within the hour, mostly fast
    touch = first + delay
    channel = rnd.choices(["call", "email", "meeting"], weights=[6, 3, 1])[0]
    rows["touches"].append([lead, owner, _iso(touch), channel])
    calls = rnd.randrange(0, 3) if slow else rnd.randrange(2, 7)
    for _ in range(calls):
        touch += timedelta(hours=rnd.uniform(18, 70))
        rows["touches"].append([lead, owner, _iso(touch), "call"])
    progress = rnd.random()
    if progress < 0.08:
        rows["stage_changes"].append([lead, "disqualified", _iso(touch), "mql", owner])
        return
    if progress < 0.45:
        return
    accepted = first + timedelta(hours=rnd.uniform(0.5, 6))
    rows["stage_changes"].append([lead, "sal", _iso(accepted), "mql", owner])
    if rnd.random() < 0.5:
        return
    qualified = accepted + timedelta(days=rnd.uniform(1, 6))
    rows["stage_changes"].append([lead, "sql", _iso(qualified), "sal", owner])
    if rnd.random() < 0.55:
        return
    opened = qualified + timedelta(days=rnd.uniform(2, 10))
    rows["stage_changes"].append([lead, "opportunity", _iso(opened), "sql", owner])
    amount = round(DEAL_VALUE[source] * rnd.uniform(0.6, 1.4), -2)
    won = rnd.random() < WIN_CHANCE[source] * 6
    closed = opened + timedelta(days=rnd.uniform(20, 50))
    rows["deals"].append(
        [
            f"D-{lead}",
            f"{amount:.2f}",
            _iso(opened),
            lead,
            _iso(closed),
            "true" if won else "false",
            owner,
        ]
    )
    if won:
        rows["stage_changes"].append([lead, "customer", _iso(closed), "opportunity", owner])


def _bad_rows(rows: dict[str, list[list[str]]]) -> None:
    """A few rows a real export would have: each must end up as a rejected record."""
    rows["leads"].append(["L99001", "2020-13-01T10:00:00-04:00", "web", "", "", "mql", "false"])
    rows["leads"].append(["L99002", "2020-05-04 10:00:00", "referral", "", "", "mql", "true"])
    rows["deals"].append(
        ["D-BAD", "-5000.00", "2020-05-01T10:00:00-04:00", "L00001", "", "false", ""]
    )
    rows["stage_changes"].append(["L00002", "zombie", "2020-05-05T11:00:00-04:00", "lead", ""])
    rows["touches"].append(["L00003", "R01", "2020-05-06T12:00:00-04:00", "fax"])


if __name__ == "__main__":
    for name, count in generate().items():
        print(f"{name}: {count:,} rows")
