"""The JSON text of a report: what ``json.dumps(data, indent=2)`` writes, made faster for a
report's long lists of lead ids (private to the report and the command line).

Python's ``json`` module encodes in C only without ``indent``; with it, every value of a
document goes through a Python generator, and a report of a million hand-offs lists half a
million lead ids (the dashboard). :func:`indented` writes the same text, each list of plain
strings joined in one step.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii
from typing import Any

_INDENT = 2
_INFINITY = float("inf")


class _LeftToJsonError(Exception):
    """A value :func:`_encode` does not write as ``json`` does: left to ``json`` whole."""


def indented(data: Any) -> str:
    """``json.dumps(data, indent=2)``, the same text to the byte (ASCII only, ``NaN`` and
    the infinities as ``json`` writes them, keys in order)."""
    parts: list[str] = []
    try:
        _encode(data, 0, parts)
    except _LeftToJsonError:  # anything json would convert or refuse: json says what
        return json.dumps(data, indent=_INDENT)
    return "".join(parts)


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)


def _encode(value: Any, level: int, out: list[str]) -> None:
    """Append the text of ``value`` at nesting ``level`` to ``out``, as ``json`` writes it
    (its order of tests: text, null, booleans, integers, floats, lists, objects)."""
    if isinstance(value, str):
        out.append(encode_basestring_ascii(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        inner = "\n" + " " * (_INDENT * (level + 1))
        out.append("[" + inner)
        if set(map(type, value)) == {str}:
            out.append(("," + inner).join(map(encode_basestring_ascii, value)))
        else:
            for position, item in enumerate(value):
                if position:
                    out.append("," + inner)
                _encode(item, level + 1, out)
        out.append("\n" + " " * (_INDENT * level) + "]")
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = "\n" + " " * (_INDENT * (level + 1))
        out.append("{" + inner)
        for position, (key, item) in enumerate(value.items()):
            if type(key) is not str:
                raise _LeftToJsonError  # json converts such keys: left to it
            if position:
                out.append("," + inner)
            out.append(encode_basestring_ascii(key) + ": ")
            _encode(item, level + 1, out)
        out.append("\n" + " " * (_INDENT * level) + "}")
    else:
        raise _LeftToJsonError
