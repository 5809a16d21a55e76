"""The report's JSON text: ``indented`` writes what ``json.dumps(data, indent=2)`` writes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slacore_connectors.report._json import indented

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.lists(st.text(), max_size=6)  # a list of text only: joined in one step
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(), inner, max_size=6)
    ),
    max_leaves=40,
)


@given(DOCUMENTS)
def test_indented_is_json_dumps_with_an_indent_of_two(document: Any) -> None:
    assert indented(document) == json.dumps(document, indent=2)


def test_what_json_converts_or_refuses_is_left_to_json() -> None:
    assert indented({1: ["a"], None: 2.5}) == json.dumps({1: ["a"], None: 2.5}, indent=2)

    class Text(str):
        pass

    assert indented([Text("é"), "b"]) == json.dumps([Text("é"), "b"], indent=2)
    with pytest.raises(TypeError, match="set"):
        indented({"a": {1, 2}})
