"""Extreme values in an agreement file: what ``check`` accepts, ``render`` handles.

Each example puts extreme values (huge, tiny and negative numbers, huge exponents, long
strings, deeply nested arrays, far dates) on keys of ``examples/company_a.toml``; loading it
either raises one of slacore's errors or gives an agreement whose description, summary and
documents all build.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slacore import Agreement
from slacore.errors import SlacoreError

ROOT = Path(__file__).resolve().parents[3]
COMPANY_A = (ROOT / "examples" / "company_a.toml").read_text(encoding="utf-8")
LINES = COMPANY_A.splitlines()
# The lines that set one key (not a multi-line array's first line): "key = value".
SETTABLE = [
    index
    for index, line in enumerate(LINES)
    if re.match(r'[A-Za-z"][^=]* = ', line) and not line.rstrip().endswith("[")
]


def string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([10**15 - 1, 10**15, 10**9, 10**9 + 1, 0, -1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 1e-300, 5e-324, 1e15, 999999999999999.9]),
).map(lambda number: repr(number).replace("inf", "inf").replace("nan", "nan"))
texts = st.sampled_from(
    [
        "1e999999999",
        "-1e999999999",
        "1e-999999999",
        "99999999999d",
        "999999999w",
        "3650d",
        "3651d",
        "0.0000001s",
        "$999,999,999,999,999.99",
        "1,000,000,000,000,000",
        "0.0000001",
        "12,50",
        "NaN",
        "-Infinity",
        "1e308",
        "1/0",
        "99999999999999999999/3",
        "1e9999%",
        "9999-12",
        "0001-01",
        "0000-00",
        "x" * 100_000,
        "",
    ]
).map(string)
dates = st.sampled_from(
    [
        "0001-01-01",
        "9999-12-31",
        "1899-12-31",
        "2100-01-01",
        "9999-12-31T23:59:59-05:00",
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:59:59",
        "23:59:59",
    ]
)
nested = st.integers(min_value=1, max_value=5_000).map(lambda depth: "[" * depth + "]" * depth)
values = st.one_of(numbers, texts, dates, nested, st.text(max_size=30).map(string))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    changes=st.lists(
        st.tuples(st.sampled_from(SETTABLE), values),
        min_size=1,
        max_size=3,
        unique_by=lambda c: c[0],
    )
)
def test_what_loads_renders(changes: list[tuple[int, str]]) -> None:
    lines = list(LINES)
    for index, value in changes:
        key = lines[index].split(" = ", 1)[0]
        lines[index] = f"{key} = {value}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "agreement.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        try:
            agreement = Agreement.load(path)
        except SlacoreError:
            return
    assert agreement.describe()
    assert agreement.summary()
    assert agreement.to_markdown()
    assert agreement.to_html()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('within = "1h"', 'within = "99999999999d"', "at most 3650d"),
        ("pool = 5_000", "pool = 1e308", "below 1,000,000,000,000,000"),
        ("pool = 5_000", 'pool = "1e999999999"', "exponents"),
        ("pool = 5_000", "pool = 1e-300", "at most 6 decimal places"),
        ("referral = 10", "referral = 10_000_000_000", "<= 1,000,000,000"),
        ('tolerance = "10%"', "tolerance = 1e308", "between 0 and 1"),
        ('tolerance = "10%"', 'tolerance = "1e999999999"', "expected a rate like"),
        ("pool = 5_000", "pool = " + "[" * 5_000 + "]" * 5_000, "nested too deeply"),
        ('holidays = ["US"]', "holidays = 0", "expected a country code"),
        ('holidays = ["US"]', 'overrides = ["x"]', "expected a table of dates and hours"),
    ],
)
def test_extreme_values_are_errors_naming_the_key(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    # They crashed check (OverflowError, RecursionError), or passed it and crashed render.
    path = tmp_path / "agreement.toml"
    path.write_text(COMPANY_A.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(SlacoreError) as info:
        Agreement.load(path)
    assert message in str(info.value) or any(
        message in str(error) for error in getattr(info.value, "errors", ())
    )
    assert str(path) in str(info.value)
