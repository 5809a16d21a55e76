"""The command line, run for real in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def slacore(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slacore_connectors", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_plan_company_x_json() -> None:
    done = slacore("plan", "--revenue", "5000", "--deal-value", "100", "--rate", "0.5", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["leads_needed"] == 100
    assert data["deals_needed"] == 50
    assert data["stages"] == [
        {"name": "lead", "needed": 100, "rate": 0.5},
        {"name": "deal", "needed": 50, "rate": None},
    ]
    assert done.stderr == ""


def test_plan_hubspot_team_with_capacity() -> None:
    done = slacore(
        "plan", "--deals", "50", "--stage", "lead=0.5", "--stage", "connect=60%",
        "--stage", "discovery call=0.5", "--stage", "demo=1/3", "--outcome", "customer",
        "--reps", "10", "--leads-per-rep", "100", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["leads_needed"] == 1000
    assert [s["needed"] for s in data["stages"]] == [1000, 500, 300, 150, 50]
    assert data["capacity"] == 1000
    assert data["capacity_gap"] == 0
    assert data["capacity_status"] == "balanced"


def test_plan_annual_revenue_and_catch_up() -> None:
    done = slacore(
        "plan", "--annual-revenue", "15000000", "--current-annual-revenue", "10,000,000",
        "--target-month", "6", "--year", "2020", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["monthly_run_rate"] == "1250000.00"
    assert data["catch_up"]["total"] == "15000000.00"
    assert data["catch_up"]["months"][5]["label"] == "2020-06"
    assert data["catch_up"]["required_per_month"] == "1398809.53"


def test_plan_text_for_the_readme_example() -> None:
    done = slacore(
        "plan", "--annual-revenue", "15000000", "--current-annual-revenue", "10000000",
        "--target-month", "6", "--year", "2020", "--lead-value", "referral=5000",
        "--lead-value", "content=1000", "--lead-value", "webinar=2000",
        "--lead-value", "web=4000", "--mix", "referral=10", "--mix", "content=200",
        "--mix", "webinar=50", "--mix", "web=50", "--quota", "550000",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "$15,000,000 a year / 12 = $1,250,000 per period." in done.stdout
    assert "Today's run rate: $833,333.33 a month" in done.stdout
    assert "every month from 2020-06 to 2020-12 must bring $1,398,809.53" in done.stdout
    assert "= $550,000 of lead value, which meets the $550,000 quota." in done.stdout


def test_plan_lead_values_alone_and_quota_mix() -> None:
    done = slacore("plan", "--lead-value", "demo=3000", "--lead-value", "ebook=1000", "--json")
    assert json.loads(done.stdout) == {"lead_values": {"demo": "3000", "ebook": "1000"}}
    done = slacore("plan", "--lead-value", "demo=3000", "--quota", "300000", "--json")
    assert json.loads(done.stdout)["quota_mix"]["count"] == 100
    text = slacore("plan", "--lead-value", "demo=3000")
    assert "| demo | $3,000 |" in text.stdout


def test_plan_capacity_alone() -> None:
    done = slacore("plan", "--reps", "10", "--leads-per-rep", "100", "--json")
    assert json.loads(done.stdout) == {"capacity": 1000}


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--revenue", "lots", "--deal-value", "100", "--rate", "0.5"], "'--revenue'"),
        (["--revenue", "5000", "--deal-value", "100", "--rate", "1.5"], "'--rate'"),
        (["--revenue", "5000", "--deal-value", "0", "--rate", "0.5"], "'--deal-value'"),
        (["--reps", "0", "--leads-per-rep", "5"], "'--reps'"),
        (["--annual-revenue", "1000", "--target-month", "13"], "'--target-month'"),
        (["--stage", "lead", "--deals", "1"], "'--stage'"),
        (["--lead-value", "demo=abc"], "'--lead-value'"),
        (["--mix", "demo=-1", "--lead-value", "demo=1"], "'--mix'"),
    ],
)
def test_bad_flag_values_exit_2_with_one_line_naming_the_flag(args: list[str], flag: str) -> None:
    done = slacore("plan", *args)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("slacore: error: ")
    assert flag in lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "nothing to plan"),
        (["--revenue", "5000", "--rate", "0.5"], "--deal-value"),
        (["--revenue", "5000", "--deal-value", "5"], "at least one --rate"),
        (["--rate", "0.5", "--stage", "a=0.5", "--deals", "1"], "not both"),
        (["--deals", "1", "--revenue", "5", "--deal-value", "1", "--rate", "1"], "not both"),
        (["--reps", "3"], "both --reps and --leads-per-rep"),
        (["--target-month", "6"], "need --annual-revenue"),
        (["--annual-revenue", "100", "--target-month", "6"], "--current-annual-revenue"),
        (["--mix", "a=1"], "--lead-value"),
        (["--lead-value", "a=1", "--mix", "b=1"], "no lead value for 'b'"),
        (["--no-such-flag"], "No such option"),
    ],
)
def test_inconsistent_flags(args: list[str], message: str) -> None:
    done = slacore("plan", *args)
    assert done.returncode in (1, 2)
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_help_and_version() -> None:
    done = slacore("--help")
    assert done.returncode == 0
    assert "plan" in done.stdout
    version = slacore("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("slacore, version ")
    assert "Company X" in slacore("plan", "--help").stdout


def test_console_script_is_installed() -> None:
    import shutil

    script = shutil.which("slacore")
    assert script is not None
    done = subprocess.run(
        [script, "plan", "--reps", "1", "--leads-per-rep", "2", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert json.loads(done.stdout) == {"capacity": 2}
