"""The column mapping's shortcuts give what its general path gives: times all in the usual
export's layout (``2020-07-01T09:00:00-04:00``) read from their bytes, and values left as
they are when none starts or ends with white space."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import example, given
from hypothesis import strategies as st

from slacore.connector._column_mapping import (
    _STRIPPABLE,
    WHITESPACE,
    _fixed_parts,
    _trimmed,
    parse_times,
)

digit = st.sampled_from("0123456789")


@st.composite
def fixed_times(draw: st.DrawFn) -> str:
    """A text in the fixed layout, its figures anything (month 13, hour 24 and the like)."""

    def digits(count: int) -> str:
        return "".join(draw(digit) for _ in range(count))

    return (
        f"{digits(4)}-{digits(2)}-{digits(2)}{draw(st.sampled_from('T '))}"
        f"{digits(2)}:{digits(2)}:{digits(2)}{draw(st.sampled_from('+-'))}{digits(2)}:{digits(2)}"
    )


near = st.builds(
    lambda year, month, day, hour, minute, second, sign, oh, om: (
        f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
        f"{sign}{oh:02d}:{om:02d}"
    ),
    st.integers(1, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 24),
    st.integers(0, 60),
    st.integers(0, 60),
    st.sampled_from("+-"),
    st.integers(0, 24),
    st.integers(0, 60),
)
"""Valid times, and times just outside what a calendar has."""


def through_the_regex(values: list[str]) -> tuple[list[int], list[int], list[bool]]:
    """parse_times of ``values`` on its general path: a value of another layout beside them
    (``Z``) sends the whole column there."""
    us, offset, ok = parse_times(pa.array([*values, "2020-01-01T00:00:00Z"]))
    return us[:-1].tolist(), offset[:-1].tolist(), ok[:-1].tolist()


@given(st.lists(st.one_of(fixed_times(), near), min_size=1, max_size=40))
@example(["2020-02-29T23:59:59+14:59", "2019-02-29T00:00:00-00:00", "0000-01-01T00:00:00+00:00"])
@example(["9999-12-31T23:59:59-23:59", "1970-01-01 00:00:00+00:00"])
def test_times_in_the_usual_layout_read_as_the_regex_reads_them(values: list[str]) -> None:
    column = pa.array(values)
    assert _fixed_parts(column) is not None
    us, offset, ok = parse_times(column)
    assert (us.tolist(), offset.tolist(), ok.tolist()) == through_the_regex(values)


OTHER_LAYOUTS = [
    ["2020-07-01T09:00:00Z"],
    ["2020-07-01T09:00:00.5-04:00"],
    ["2020-07-01T09:00:00-0400x"],
    ["2020-07-01X09:00:00-04:00"],
    ["2020-07-01T09:00:00*04:00"],
    ["2020-0a-01T09:00:00-04:00"],
    ["2020-07-01T09:00:00-04:00", "2020-07-01"],
]


def test_other_layouts_take_the_general_path() -> None:
    for values in OTHER_LAYOUTS:
        assert _fixed_parts(pa.array(values)) is None
    assert _fixed_parts(pa.array(["2020-07-01T09:00:00-04:00", None])) is None
    sliced = pa.array(["x", "2020-07-01T09:00:00-04:00", "2020-07-01T10:00:00+02:00"])[1:]
    assert _fixed_parts(sliced) is not None
    assert parse_times(sliced)[0].tolist() == through_the_regex(sliced.to_pylist())[0]


def test_every_white_space_character_starts_and_ends_with_a_byte_checked() -> None:
    for char in WHITESPACE:
        encoded = char.encode()
        assert _STRIPPABLE[encoded[0]], hex(ord(char))
        assert _STRIPPABLE[encoded[-1]], hex(ord(char))


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)


@given(
    st.lists(st.one_of(text, st.sampled_from(["a b", " a", "a\u3000", "\x1fa", "é"])), max_size=30)
)
def test_trimming_gives_what_utf8_trim_gives(values: list[str]) -> None:
    column = pa.array(values, type=pa.string())
    expected = pc.utf8_trim(column, characters=WHITESPACE)
    assert _trimmed(column).equals(expected)
    assert [v.strip() for v in values] == expected.to_pylist()
    if len(values) > 1:
        assert _trimmed(column[1:]).equals(expected[1:])


def test_a_column_of_empty_values() -> None:
    empty = pa.array(["", ""], type=pa.string())
    assert _trimmed(empty).to_pylist() == ["", ""]
    assert not np.asarray(parse_times(empty)[2]).any()
