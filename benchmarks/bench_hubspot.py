"""Benchmark: a first sync of a HubSpot portal, end to end through ``slacore sync``.

The portal is the fake HubSpot of the tests (``tests/fakes/hubspot.py``, imported by adding
the repository's root to ``sys.path``): ``generate_portal(**SCENARIO)``, 25,000 contacts with
calls, emails, meetings, deals, owners, archived, merged and malformed records, scaled by
``--contacts`` (the contacts sharing one modified instant scaled with them). The fake runs in
its own child process, so its CPU time is apart from the sync's; the sync is the real command
line, ``python -m slacore_connectors sync --config job.toml --json``, in another child, into a
fresh store. Each portal size (``--small`` and ``--contacts``) is synced twice:

- with the connector's default budgets (``search_rate`` 4, ``rate`` 10 calls a second): what a
  user pays against HubSpot's real limits, where the searches alone bound the time;
- unthrottled (``search_rate`` and ``rate`` 1000): slacore's own cost.

For each sync it prints records read a second (every stream's records read over the wall
time), the wall time, the sync's and the fake's CPU time, the peak resident memory of the sync
process (``os.wait4``'s ``ru_maxrss``), and the API calls made: as the fake counted them, as
the sync's last notice told them, and over the minimum a reader needs (a search per page of
200 and a batch read per 100 contacts; per engagement type and deals a search per 200 and a
v4 association read per 1,000; the owners' pages, active and archived; the properties call;
the archived lists' pages), kind by kind. With the default budgets it also prints the time
the budgets alone impose (searches over ``search_rate``, or other calls over ``rate``), and
before each sync the machine's load average: other work on it slows the figures.

    python benchmarks/bench_hubspot.py [--contacts 25000] [--small 5000] [--quick]

``--quick`` syncs 500 and 2,000 contacts instead (about half a minute in all).

Exits 1 if the calls are more than 10% above the minimum, or if the sync's peak memory grows
with the portal by more than half, else 0.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Final

from _measure import run_child

from slacore_connectors.hubspot.connector import SETTINGS

ROOT: Final = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the fake HubSpot lives with the tests

from tests.fakes.hubspot import (  # noqa: E402  (HubSpot's limits, as the fake keeps them)
    ASSOCIATIONS_BATCH_MAX,
    BATCH_READ_MAX,
    LIST_PAGE_MAX,
    OWNERS_PAGE_MAX,
    SEARCH_PAGE_MAX,
)

DEFAULTS: Final = {s.name: s.default for s in SETTINGS}
#: The budgets each size is synced with: the connector's defaults, and none to speak of.
BUDGETS: Final = {"default": {}, "unthrottled": {"search_rate": 1000, "rate": 1000}}
HEADER: Final = (
    "contacts",
    "budgets",
    "records read",
    "wall",
    "records/s",
    "sync CPU",
    "fake CPU",
    "load",
    "sync peak RSS",
    "calls / minimum",
)
NOTICE: Final = re.compile(r"HubSpot API calls so far this run: (\d+)")
JOB: Final = """store = "store.db"

[[sources]]
name = "hs"
connector = "hubspot"
[sources.settings]
access_token = {{ env = "HUBSPOT_TOKEN" }}
base_url = "{url}"
"""


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def serve(contacts: int) -> None:
    """The fake HubSpot over a generated portal, in this (child) process.

    Prints one JSON line (its URL, token and the portal's counts), then answers each line
    read from stdin with one JSON line of the requests counted and the CPU seconds spent
    since the last line, and starts counting afresh; ends at the end of stdin.
    """
    from tests.fakes.hubspot import SCENARIO, FakeHubSpot, generate_portal

    scale = contacts / SCENARIO["contacts"]
    portal = generate_portal(
        **{
            **SCENARIO,
            "contacts": contacts,
            "same_instant": round(SCENARIO["same_instant"] * scale),
        }
    )
    live = {kind: portal.live(kind) for kind in portal.objects}
    counts = {kind: len(records) for kind, records in live.items()}
    # Only a rep's engagements are touches: the connector searches for them alone (sent
    # emails, calls not inbound, meetings not cancelled).
    counts["emails"] = sum(
        1 for r in live["emails"] if r.properties.get("hs_email_direction") == "EMAIL"
    )
    counts["calls"] = sum(
        1 for r in live["calls"] if r.properties.get("hs_call_direction") != "INBOUND"
    )
    counts["meetings"] = sum(
        1
        for r in live["meetings"]
        if r.properties.get("hs_meeting_outcome") not in ("CANCELED", "CANCELLED")
    )
    for kind in ("contacts", "deals"):
        counts[f"archived {kind}"] = len(portal.objects[kind]) - len(live[kind])
    counts["owners"] = sum(1 for owner in portal.owners if not owner.archived)
    counts["archived owners"] = len(portal.owners) - counts["owners"]
    with FakeHubSpot(portal) as fake:
        print(json.dumps({"url": fake.url, "token": fake.token, "counts": counts}), flush=True)
        spent = _cpu_self()
        for _ in sys.stdin:
            with fake.lock:
                calls, errors = dict(fake.calls), list(fake.errors)
                fake.calls.clear()
                fake.errors.clear()
            now = _cpu_self()
            print(json.dumps({"calls": calls, "cpu": now - spent, "errors": errors}), flush=True)
            spent = now


def minimum(counts: dict[str, int]) -> dict[str, int]:
    """The fewest calls of each kind (the fake's names) a first sync of the portal needs."""

    def pages(items: int, size: int) -> int:
        return max(1, math.ceil(items / size))  # an empty answer is still one call

    least = {
        "properties:contacts": 1,
        "search:contacts": pages(counts["contacts"], SEARCH_PAGE_MAX),
        "batch_read:contacts": math.ceil(counts["contacts"] / BATCH_READ_MAX),
        "list:contacts": pages(counts["archived contacts"], LIST_PAGE_MAX),
    }
    for kind in ("calls", "emails", "meetings", "deals"):
        least[f"search:{kind}"] = pages(counts[kind], SEARCH_PAGE_MAX)
        least[f"associations:{kind}->contacts"] = math.ceil(counts[kind] / ASSOCIATIONS_BATCH_MAX)
    least["list:deals"] = pages(counts["archived deals"], LIST_PAGE_MAX)
    least["owners"] = sum(pages(counts[k], OWNERS_PAGE_MAX) for k in ("owners", "archived owners"))
    return least


def sync(folder: Path, url: str, token: str, budget: dict[str, int]) -> dict[str, Any]:
    """``slacore sync --json`` in a child process, into a fresh store in ``folder``."""
    folder.mkdir()
    settings = "".join(f"{name} = {value}\n" for name, value in budget.items())
    (folder / "job.toml").write_text(JOB.format(url=url) + settings, encoding="utf-8")
    env = {**os.environ, "HUBSPOT_TOKEN": token}
    command = [sys.executable, "-m", "slacore_connectors", "sync", "--config", "job.toml"]
    with (folder / "out.json").open("w") as out, (folder / "err.txt").open("w") as err:
        used = run_child([*command, "--json"], cwd=folder, env=env, stdout=out, stderr=err)
    if used.code != 0:
        raise SystemExit(f"slacore sync exited {used.code}: {(folder / 'err.txt').read_text()}")
    report = json.loads((folder / "out.json").read_text())
    (source,) = report["sources"]
    told = [
        int(m.group(1))
        for said in source["notices"].values()
        for n in said
        for m in [NOTICE.match(n)]
        if m
    ]
    return {
        "seconds": used.seconds,
        "cpu": used.cpu,
        "rss": used.rss,
        "streams": source["streams"],
        "read": sum(counts["read"] for counts in source["streams"].values()),
        "told": max(told, default=0),
    }


def mib(size: float) -> str:
    return f"{size / 2**20:,.1f} MiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=25_000, help="contacts (default 25,000)")
    parser.add_argument("--small", type=int, default=5_000, help="the smaller portal (5,000)")
    parser.add_argument("--quick", action="store_true", help="2,000 and 500 contacts")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve is not None:
        serve(options.serve)
        return 0
    sizes = (500, 2_000) if options.quick else (options.small, options.contacts)

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as work:
        for contacts in sizes:
            began = time.perf_counter()
            fake = subprocess.Popen(
                [sys.executable, __file__, "--serve", str(contacts)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert fake.stdin is not None
            assert fake.stdout is not None
            served = json.loads(fake.stdout.readline())
            counts = served["counts"]
            print(
                f"{contacts:,} contacts: portal made in {time.perf_counter() - began:.1f} s; "
                + ", ".join(f"{kind} {n:,}" for kind, n in counts.items()),
                flush=True,
            )
            least = minimum(counts)
            for budget, settings in BUDGETS.items():
                load = os.getloadavg()[0]
                result = sync(
                    Path(work) / f"{contacts}-{budget}", served["url"], served["token"], settings
                )
                fake.stdin.write("stats\n")
                fake.stdin.flush()
                stats = json.loads(fake.stdout.readline())
                if stats["errors"]:
                    raise SystemExit(f"the fake failed: {stats['errors'][:3]}")
                made = Counter(stats["calls"])
                row = {"contacts": contacts, "budget": budget, "fake_cpu": stats["cpu"], **result}
                row["load"] = load
                row["calls"], row["least"] = sum(made.values()), sum(least.values())
                rows.append(row)
                print(
                    f"  {budget:<11} {result['read']:>8,} records in {result['seconds']:7.1f} s "
                    f"({result['read'] / result['seconds']:>7,.0f} records/s); CPU: sync "
                    f"{result['cpu']:.1f} s, fake {stats['cpu']:.1f} s; load before "
                    f"{row['load']:.2f}; peak RSS {mib(result['rss'])}; {row['calls']:,} calls "
                    f"({result['told']:,} told), minimum {row['least']:,} "
                    f"(x{row['calls'] / row['least']:.3f})",
                    flush=True,
                )
                if result["told"] != row["calls"]:
                    print(f"    the sync told {result['told']:,} calls, the fake counted more")
                if budget == "default":
                    searches = sum(n for kind, n in made.items() if kind.startswith("search"))
                    others = row["calls"] - searches
                    search_rate, rate = DEFAULTS["search_rate"], DEFAULTS["rate"]
                    bound = max(searches / search_rate, others / rate)
                    print(
                        f"    {searches:,} searches at {search_rate}/s and {others:,} other calls "
                        f"at {rate}/s: at least {bound:.1f} s; the sync took "
                        f"x{result['seconds'] / bound:.2f}"
                    )
                    for kind in sorted(set(made) | set(least)):
                        want = least.get(kind, 0)
                        ratio = f"x{made[kind] / want:.3f}" if want else "-"
                        print(f"    {kind:<30} {made[kind]:>6,} calls, minimum {want:>6,} {ratio}")
            fake.stdin.close()
            fake.wait()

    print(f"\nPython {sys.version.split()[0]}, {os.cpu_count()} cores, {sys.platform}")
    print(f"| {' | '.join(HEADER)} |")
    print(f"| {' | '.join('---' if name == 'budgets' else '---:' for name in HEADER)} |")
    for row in rows:
        cells = (
            f"{row['contacts']:,}",
            row["budget"],
            f"{row['read']:,}",
            f"{row['seconds']:.1f} s",
            f"{row['read'] / row['seconds']:,.0f}",
            f"{row['cpu']:.1f} s",
            f"{row['fake_cpu']:.1f} s",
            f"{row['load']:.2f}",
            mib(row["rss"]),
            f"{row['calls']:,} / {row['least']:,} (x{row['calls'] / row['least']:.3f})",
        )
        print(f"| {' | '.join(cells)} |")
    growth = 0.0
    for budget in BUDGETS:
        small, large = (r for r in rows if r["budget"] == budget)
        growth = max(growth, large["rss"] / small["rss"])
        print(
            f"sync peak RSS with the {budget} budgets, {sizes[0]:,} -> {sizes[1]:,} contacts: "
            f"{mib(small['rss'])} -> {mib(large['rss'])} (x{large['rss'] / small['rss']:.3f})"
        )
    over = max(row["calls"] / row["least"] for row in rows)
    print(f"calls over the minimum: x{over:.3f} at most (the issue asks for x1.10 at most)")
    return 0 if growth < 1.5 and over <= 1.10 else 1


if __name__ == "__main__":
    raise SystemExit(main())
