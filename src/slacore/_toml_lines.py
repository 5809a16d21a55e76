"""Where a key sits in a TOML file: the line of a key path, for error messages.

:mod:`tomllib` parses without positions, so the agreement loader scans the text itself: table
headers (``[sales.response]``), arrays of tables (``[[ramifications]]``, numbered by
occurrence, nested ones too), ``key = value`` lines (dotted and quoted keys included) and the
elements of arrays that span several lines. Multi-line strings and comments are skipped. A
path with no line of its own (a key inside an inline table) gets the line of its nearest
parent that has one.

Private: used by :mod:`slacore._config`, the validating reader.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

KeyPath = tuple[str | int, ...]
"""A key path: table and key names, with the index of an array element as an ``int``."""

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


class KeyLines:
    """The line (from 1) of each key path found in a TOML text."""

    __slots__ = ("_lines",)

    def __init__(self, lines: dict[KeyPath, int]) -> None:
        self._lines = lines

    def line(self, path: Sequence[str | int]) -> int | None:
        """The line of ``path``, else of its nearest parent with a line; ``None`` if none."""
        key = tuple(path)
        while key:
            found = self._lines.get(key)
            if found is not None:
                return found
            key = key[:-1]
        return None


def split_key(text: str) -> tuple[str, ...] | None:
    """Split a dotted TOML key (``a."b.c".d``) into its parts; ``None`` if malformed."""
    parts: list[str] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            return None
        if text[i] == '"':
            j, chars = i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    chars.append(_ESCAPES.get(text[j + 1], text[j + 1]))
                    j += 2
                    continue
                chars.append(text[j])
                j += 1
            if j >= n:
                return None
            parts.append("".join(chars))
            i = j + 1
        elif text[i] == "'":
            j = text.find("'", i + 1)
            if j < 0:
                return None
            parts.append(text[i + 1 : j])
            i = j + 1
        else:
            match = _BARE.match(text, i)
            if match is None:
                return None
            parts.append(match.group())
            i = match.end()
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            return tuple(parts)
        if text[i] != ".":
            return None
        i += 1


def _until(text: str, stop: str, start: int = 0) -> int:
    """Index of the first ``stop`` character outside quotes at or after ``start``, or -1."""
    quote = ""
    i = start
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\" and quote == '"':
                i += 2
                continue
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == stop:
            return i
        i += 1
    return -1


class _Scanner:
    """One pass over the text; see :func:`scan`."""

    def __init__(self) -> None:
        self.lines: dict[KeyPath, int] = {}
        self.arrays: dict[KeyPath, int] = {}  # array-of-tables path -> its last index
        self.current: KeyPath = ()
        self.multiline = ""  # the closing delimiter while inside a multi-line string
        self.stack: list[str] = []  # open brackets of the value being read
        self.value: KeyPath = ()  # the key whose value is being read
        self.element = 0  # index of the current element of a top-level array value
        self.started = False  # whether that element's first character was seen

    def record(self, path: KeyPath, number: int) -> None:
        for end in range(1, len(path)):
            self.lines.setdefault(path[:end], number)
        self.lines.setdefault(path, number)

    def resolve(self, parts: Sequence[str]) -> KeyPath:
        """Insert the current index after each array of tables on the way."""
        resolved: KeyPath = ()
        for part in parts:
            resolved = (*resolved, part)
            if resolved in self.arrays:
                resolved = (*resolved, self.arrays[resolved])
        return resolved

    def header(self, stripped: str, number: int) -> None:
        double = stripped.startswith("[[")
        start = 2 if double else 1
        end = _until(stripped, "]", start)
        parts = split_key(stripped[start:end]) if end > 0 else None
        if not parts:
            return
        if double:
            parent = self.resolve(parts[:-1])
            key = (*parent, parts[-1])
            index = self.arrays.get(key, -1) + 1
            self.arrays[key] = index
            self.current = (*key, index)
        else:
            self.current = self.resolve(parts)
        self.record(self.current, number)

    def mark(self, number: int) -> None:
        """An element of a top-level array value starts here."""
        if self.stack == ["["] and not self.started:
            self.record((*self.value, self.element), number)
            self.started = True

    def read_value(self, line: str, start: int, number: int) -> None:
        """Follow strings and brackets through a value, which may continue on later lines."""
        i = start
        while i < len(line):
            if self.multiline:
                end = line.find(self.multiline, i)
                if end < 0:
                    return
                i = end + 3
                self.multiline = ""
                continue
            char = line[i]
            if char == "#":
                return
            if char in "\"'":
                self.mark(number)
                if line.startswith(char * 3, i):
                    self.multiline = char * 3
                    i += 3
                    continue
                i += 1
                while i < len(line) and line[i] != char:
                    i += 2 if char == '"' and line[i] == "\\" else 1
            elif char in "[{":
                self.mark(number)
                self.stack.append(char)
            elif char in "]}":
                if self.stack:
                    self.stack.pop()
            elif char == ",":
                if self.stack == ["["]:
                    self.element += 1
                    self.started = False
            elif char not in " \t\r":
                self.mark(number)
            i += 1

    def line(self, text: str, number: int) -> None:
        if self.multiline or self.stack:
            self.read_value(text, 0, number)
            return
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            return
        if stripped.startswith("["):
            self.header(stripped, number)
            return
        equals = _until(text, "=")
        parts = split_key(text[:equals]) if equals > 0 else None
        if not parts:
            return
        self.value = (*self.current, *parts)
        self.record(self.value, number)
        self.element, self.started = 0, False
        self.read_value(text, equals + 1, number)


def scan(text: str) -> KeyLines:
    """Find the line of every table, key and multi-line array element in TOML ``text``.

    Arrays of tables are numbered by occurrence: the second ``[[ramifications]]`` is
    ``("ramifications", 1)``. Malformed lines are skipped (:mod:`tomllib` reports those).

    >>> lines = scan('[sales.response]\\nwithin = "soon"\\n')
    >>> lines.line(("sales", "response", "within"))
    2
    """
    scanner = _Scanner()
    for number, text_line in enumerate(text.splitlines(), start=1):
        scanner.line(text_line, number)
    return KeyLines(scanner.lines)
