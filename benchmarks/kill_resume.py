"""Kill and resume: a sync stopped at random moments resumes losslessly and exactly.

    python benchmarks/kill_resume.py WORKDIR --leads 400000 --rounds 20

Writes CSV exports (leads, hand-offs, touches, deals, reps; about 2.35 rows per lead, with
about one bad row in a thousand), syncs them once without a stop into ``clean.db``, then, round
after round, syncs them into a fresh ``killed.db``: stopped once at a random moment of the load
(SIGKILL, and in the last three rounds SIGTERM, SIGINT, SIGTERM), stopped again by SIGKILL at
a random moment of the resume, then resumed to the end. Each round's store must equal the clean
one, table by table (``Store.dump``: records, cursors, rejected rows; run records left out).
Exits 1 when a store differs. Runs the ``slacore`` command on the PATH.
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from slacore_connectors.store.sqlite import SQLiteStore

EST = timezone(timedelta(hours=-5))
JOB = """store = "{name}.db"

[[sources]]
name = "crm"
connector = "csv"
[sources.settings]
path = "exports"
batch_size = 2000
"""


def write_exports(folder: Path, leads: int, rng: random.Random) -> int:
    """The exports of ``leads`` leads; returns the rows written."""
    folder.mkdir(parents=True, exist_ok=True)
    start = datetime(2020, 1, 6, 9, 0, tzinfo=EST)
    rows = 0
    with (
        (folder / "leads.csv").open("w") as lead_file,
        (folder / "handoffs.csv").open("w") as handoff_file,
        (folder / "touches.csv").open("w") as touch_file,
        (folder / "deals.csv").open("w") as deal_file,
    ):
        lead_file.write("id,created_at,source,segment,owner_id,stage,hand_raiser\n")
        handoff_file.write(
            "lead_id,notified_at,stage,owner_id,from_team,to_team,source,segment,hand_raiser\n"
        )
        touch_file.write("lead_id,rep_id,at,channel\n")
        deal_file.write("id,amount,opened_at,lead_id,closed_at,won\n")
        for i in range(leads):
            lead, rep = f"L{i:07d}", f"R{i % 10:02d}"
            created = start + timedelta(minutes=7 * i)
            when = "2020-02-30T09:00:00-05:00" if rng.random() < 0.001 else created.isoformat()
            raiser = "true" if i % 3 else "false"
            lead_file.write(f"{lead},{when},organic,smb,{rep},mql,{raiser}\n")
            rows += 1
            if i % 2 == 0:
                team = "salez" if rng.random() < 0.001 else "sales"
                notified = (created + timedelta(hours=1)).isoformat()
                handoff_file.write(
                    f"{lead},{notified},mql,{rep},marketing,{team},organic,smb,true\n"
                )
                rows += 1
                for k in range(rng.randint(0, 3)):
                    at = (created + timedelta(hours=2 + 20 * k)).isoformat()
                    touch_file.write(f"{lead},{rep},{at},call\n")
                    rows += 1
            if i % 10 == 0:
                amount = "12,50" if rng.random() < 0.01 else f"{rng.randint(1000, 90000)}.00"
                opened = (created + timedelta(days=3)).isoformat()
                deal_file.write(f"D{lead},{amount},{opened},{lead},,false\n")
                rows += 1
    (folder / "reps.csv").write_text(
        "id,name,email,team,active\n"
        + "".join(f"R{i:02d},Rep {i},rep{i}@example.com,sales,true\n" for i in range(10))
    )
    return rows + 10


def dump(store: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of a store but its run records."""
    with SQLiteStore(store) as opened:
        tables = opened.dump()
    tables.pop("sync_runs", None)
    return tables


def sync(job: Path) -> subprocess.Popen[str]:
    """Start ``slacore sync`` on a job."""
    return subprocess.Popen(
        ["slacore", "sync", "--config", str(job)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def main() -> int:
    """Run the rounds; print one line per round and a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5, help="rounds stopped by SIGKILL")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work: Path = args.workdir
    print(f"rows written: {write_exports(work / 'exports', args.leads, rng):,}")
    for name in ("clean", "killed"):
        (work / f"{name}.toml").write_text(JOB.format(name=name))
    began = time.monotonic()
    clean = sync(work / "clean.toml")
    clean.wait()
    seconds = time.monotonic() - began
    print(f"clean sync: exit {clean.returncode} in {seconds:.1f} s")
    expected = dump(work / "clean.db")
    plan = [signal.SIGKILL] * args.rounds + [signal.SIGTERM, signal.SIGINT, signal.SIGTERM]
    landed = different = 0
    for number, first in enumerate(plan, start=1):
        for leftover in work.glob("killed.db*"):
            if leftover.suffix != ".lock":
                leftover.unlink()
        codes = []
        for stop, share in ((first, 0.95), (signal.SIGKILL, 0.5)):
            process = sync(work / "killed.toml")
            time.sleep(rng.uniform(0.3, seconds * share))
            process.send_signal(stop)
            codes.append(process.wait())
            landed += codes[-1] != 0
        final = sync(work / "killed.toml")
        final.wait()
        same = dump(work / "killed.db") == expected
        different += not same
        print(
            f"round {number}: {first.name}, then SIGKILL: exits {codes}, "
            f"final {final.returncode}, store {'equal' if same else 'DIFFERENT'}"
        )
    print(f"{len(plan)} rounds, {landed} stops landed mid-sync, {different} stores different")
    for table, rows in sorted(expected.items()):
        print(f"  {table}: {len(rows):,} rows")
    return 1 if different else 0


if __name__ == "__main__":
    sys.exit(main())
