"""One reading of yes/no words: parse_boolean, used by field mappings, agreeing with settings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slacore.connector import FieldMapping, Setting, SettingKind
from slacore.connector._converters import BOOLEAN_WORDS, parse_boolean
from slacore.errors import ValidationError

ROOT = Path(__file__).resolve().parents[3]
FLAG = Setting(name="flag", kind=SettingKind.BOOLEAN)
LEADS = FieldMapping(stream="leads")
# A word as it may be written: any case, spaces or a newline around it.
WRITTEN = st.builds(
    lambda word, upper, pad: pad + (word.upper() if upper else word) + pad,
    st.sampled_from(sorted(BOOLEAN_WORDS)),
    st.booleans(),
    st.sampled_from(["", " ", "\t", "\n"]),
)
# Words some reader might take for yes or no, to catch one that starts to.
OTHERS = st.sampled_from(["on", "off", "ja", "nein", "oui", "enabled", "none", "+", "-", "1.0"])
VALUES = st.one_of(
    WRITTEN, OTHERS, st.booleans(), st.text(max_size=4), st.integers(-1, 2), st.none()
)


def test_the_words() -> None:
    assert {word for word, meaning in BOOLEAN_WORDS.items() if meaning} == {
        "true", "t", "yes", "y", "1"
    }  # fmt: skip
    assert {word for word, meaning in BOOLEAN_WORDS.items() if not meaning} == {
        "false", "f", "no", "n", "0"
    }  # fmt: skip
    assert parse_boolean(" YES ") is True
    assert parse_boolean(False) is False
    with pytest.raises(ValueError, match=r"expected true or false \(true/false, t/f, yes/no, y/n"):
        parse_boolean("on")
    with pytest.raises(ValueError, match=r"got 1$"):
        parse_boolean(1)


def lead_flag(value: object) -> bool:
    lead = LEADS.map(
        {"id": "L", "created_at": datetime(2026, 1, 5, tzinfo=UTC), "hand_raiser": value}
    )
    return lead.hand_raiser  # type: ignore[union-attr]


def outcome(read: object, value: object) -> bool | None:
    """What ``read`` makes of ``value``: True, False, or None when it refuses it."""
    try:
        return read(value)  # type: ignore[operator, no-any-return]
    except (ValueError, ValidationError):
        return None


@given(VALUES)
def test_settings_and_mappings_read_yes_and_no_alike(value: object) -> None:
    # A boolean setting reads exactly the words parse_boolean reads (the settings are to call
    # it); a mapping also takes the numbers 0 and 1 and leaves an empty value at its default.
    expected = outcome(parse_boolean, value)
    if value is not None:
        assert outcome(FLAG.convert, value) == expected
    if value is None or (isinstance(value, str) and not value.strip()):
        return
    if type(value) is int and value in (0, 1):
        expected = bool(value)
    assert outcome(lead_flag, value) == expected


def test_the_csv_guide_lists_the_words() -> None:
    guide = (ROOT / "docs" / "guide" / "csv.md").read_text(encoding="utf-8")
    line = next(line for line in guide.splitlines() if line.startswith("- **Yes/no**"))
    listed = {word for pair in line.split("`")[1::2] for word in pair.split("/")}
    assert listed == set(BOOLEAN_WORDS)
