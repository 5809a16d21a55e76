"""Fuzzing the agreement file: what ``check`` accepts, ``render`` and ``report`` handle.

Extreme values (huge and tiny numbers, huge exponents, long and odd strings, deep arrays,
far dates) are written over the one-line keys of the bundled example agreement. Loading it
either raises slacore's own error, or the agreement describes, summarises and renders itself,
and a report on the demo store is built or refused with slacore's own error.

Set ``SLACORE_FUZZ_EXAMPLES`` to try more cases than the suite's default.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime
from importlib.resources import as_file, files
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from slacore.agreement import Agreement
from slacore.errors import SlacoreError
from slacore_connectors.report.build import build_report
from slacore_connectors.store.sqlite import SQLiteStore
from slacore_connectors.sync import JobConfig, run_sync

EXAMPLE = Path(__file__).parents[2] / "examples" / "company_a.toml"
TEXT = EXAMPLE.read_text(encoding="utf-8")
LINES = TEXT.splitlines()
# One-line assignments outside multi-line arrays: `key = value` with nothing open after it.
KEYS = [
    n
    for n, line in enumerate(LINES)
    if re.match(r"^\s*[\w\"-][\w\" .-]*\s*=\s*\S", line)
    and line.count("[") == line.count("]")
    and line.count("{") == line.count("}")
]
# Extreme values by the kind of value a key holds, so most changes reach past the reader.
NUMBERS = [
    "0",
    "-1",
    "1e308",
    "-1e308",
    "1e-308",
    "inf",
    "nan",
    '"1e999999999"',
    '"12,50"',
    '"1.234,56"',
    "9223372036854775807",
    "99999999999999999999999999999999999999",
    "0.000000000000000000001",
    "999_999_999_999_999",  # the largest amounts and counts accepted, and the smallest
    "999_999_999",
    "1_000_000_000",
    "0.000001",
    '"$999,999,999,999,999.99"',
]
DURATIONS = [
    '"3650d"',
    '"87600h"',
    '"1m"',
    '"99999999999d"',
    '"99999999999h"',
    '"999999999999m"',
    '"0m"',
    '"-5d"',
    '"1e9d"',
]
RATES = [
    '"100%"',
    '"0.0001%"',
    '"99.9999%"',
    '"1000%"',
    '"-25%"',
    '"0%"',
    '"1e308%"',
    '"99999999999999999999%"',
    "1e308",
    "-0.5",
]
DATES = [
    "1900-01-01",
    "2099-12-31",
    "0001-01-01",
    "9999-12-31",
    "9999-12-31T23:59:59-05:00",
    "1970-01-01",
]
MONTHS = ['"9999-12"', '"0001-01"', '"2020-13"']
ANY = [
    '""',
    '"' + "x" * 5000 + '"',
    '"\\u0000"',
    "[" * 600 + "]" * 600,
    "[[[[1]]]]",
    "{}",
    "true",
    "-1",
    "1e308",
]


def _kind(value: str) -> list[str]:
    if re.fullmatch(r"-?[\d_]+(\.\d+)?", value):
        return NUMBERS
    if re.fullmatch(r'"\d+[mhd]"', value):
        return DURATIONS
    if re.fullmatch(r'"\d+%"', value):
        return RATES
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return DATES
    if re.fullmatch(r'"\d{4}-\d{2}"', value):
        return MONTHS
    return ANY


@st.composite
def changes(draw: st.DrawFn) -> tuple[int, str]:
    number = draw(st.sampled_from(KEYS))
    value = LINES[number].partition("=")[2].split("#")[0].strip()
    return number, draw(st.sampled_from(_kind(value) + ANY[:3]))


AS_OF = datetime(2020, 7, 20, tzinfo=UTC)
JOB = 'store = "slacore.db"\n\n[[sources]]\nname = "crm"\nconnector = "csv"\n'
JOB += '[sources.settings]\npath = "data"\n'
JOB += 'stages = ["subscriber", "lead", "mql", "sal", "sql", "opportunity", "customer", '
JOB += '"disqualified"]\n'


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    with as_file(files("slacore_connectors") / "demo") as bundled:
        shutil.copytree(bundled, folder, dirs_exist_ok=True)
    (folder / "slacore.toml").write_text(JOB)
    assert run_sync(JobConfig.load(folder / "slacore.toml")).ok
    return folder / "slacore.db"


def _replace(line: str, value: str) -> str:
    key, _, _ = line.partition("=")
    return f"{key.rstrip()} = {value}"


@settings(
    max_examples=int(os.environ.get("SLACORE_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(edits=st.lists(changes(), min_size=1, max_size=2))
def test_what_loads_renders_and_reports(
    tmp_path: Path, demo_store: Path, edits: list[tuple[int, str]]
) -> None:
    lines = list(LINES)
    for number, value in edits:
        lines[number] = _replace(lines[number], value)
    path = tmp_path / "agreement.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        agreement = Agreement.load(path)
    except SlacoreError:
        event("check refused it")
        return  # refused with slacore's own error: an answer
    assert agreement.describe()
    assert agreement.summary() is not None
    assert agreement.to_markdown()
    assert agreement.to_html()
    with SQLiteStore(demo_store) as store:
        try:
            report = build_report(store, agreement, period="2020-06", as_of=AS_OF)
        except SlacoreError:
            event("rendered; the report refused it")
            return
    assert report.to_markdown()
    assert report.to_html()
    event("rendered and reported")


def test_the_fuzzed_keys_are_the_example_s_values() -> None:
    assert len(KEYS) > 40
    assert all("=" in LINES[n] for n in KEYS)
