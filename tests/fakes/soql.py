"""The small SOQL subset a fake Salesforce understands (:mod:`tests.fakes.salesforce`).

``SELECT f1, f2, Rel.Field FROM Object [WHERE cond] [ORDER BY f [ASC|DESC], ...] [LIMIT n]``
(or ``SELECT COUNT() FROM ...``, answered with ``totalSize`` and no records),
where ``cond`` combines ``field op literal`` (``= != <> < <= > >=``), ``field [NOT] IN (...)``
and ``field LIKE 'x%'`` with ``AND``, ``OR``, ``NOT`` and parentheses. Literals: quoted
strings, unquoted date-times (``2026-01-01T00:00:00Z`` or with an offset), dates, numbers,
``true``, ``false``, ``null``. Errors are raised as :class:`SoqlError` carrying Salesforce's
``errorCode`` (``MALFORMED_QUERY``, ``INVALID_FIELD``, ``INVALID_TYPE``) and a message shaped
like Salesforce's (VENDORS.md 3.4, 6.8: a quoted date-time is ``INVALID_FIELD``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from tests.fakes.salesforce_org import FIELDS, RELATIONSHIPS

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*')"
    r"|(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))"
    r"|(?P<date>\d{4}-\d{2}-\d{2})"
    r"|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<op><=|>=|!=|<>|=|<|>)"
    r"|(?P<punct>[(),])"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)
_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<sobject>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>.+?))?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}

#: A compiled WHERE clause: a predicate over a row.
Predicate = Callable[[dict[str, Any]], bool]


class SoqlError(Exception):
    """A query Salesforce refuses: the ``errorCode`` and message of its 400 answer."""

    def __init__(self, code: str, message: str) -> None:
        """Keep the code and message."""
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Query:
    """A parsed query: what to select from which object, which rows, in what order."""

    text: str
    sobject: str
    fields: tuple[str, ...]
    where: Predicate
    order: tuple[tuple[str, bool], ...]
    limit: int | None
    count: bool = False


def parse(text: str) -> Query:
    """Parse a query of the subset, checking object and field names against the org's.

    Raises:
        SoqlError: ``MALFORMED_QUERY`` for what the subset cannot read, ``INVALID_TYPE`` for
            an unknown object, ``INVALID_FIELD`` for an unknown field or a literal of the
            wrong type.
    """
    match = _QUERY.match(text)
    if match is None:
        raise SoqlError("MALFORMED_QUERY", f"unexpected token in query: {text[:60]!r}")
    sobject = match["sobject"]
    if sobject not in FIELDS:
        raise SoqlError(
            "INVALID_TYPE",
            f"\n{text[:80]}\n^\nERROR at Row:1:Column:1\nsObject type '{sobject}' is not "
            "supported. If you are attempting to use a custom object, be sure to append the "
            "'__c' after the entity name.",
        )
    fields = tuple(name.strip() for name in match["fields"].split(","))
    count = len(fields) == 1 and fields[0].replace(" ", "").upper() == "COUNT()"
    for name in () if count else fields:
        _check_field(text, sobject, name)
    where: Predicate = lambda row: True  # noqa: E731
    if match["where"]:
        parser = _Where(text, sobject, match["where"])
        where = parser.parse()
    order: list[tuple[str, bool]] = []
    for part in (match["order"] or "").split(","):
        words = part.split()
        if not words:
            continue
        if len(words) > 3 or (len(words) > 1 and words[1].upper() not in ("ASC", "DESC")):
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: {part.strip()!r}")
        _check_field(text, sobject, words[0])
        order.append((words[0], len(words) > 1 and words[1].upper() == "DESC"))
    limit = int(match["limit"]) if match["limit"] else None
    return Query(text, sobject, fields, where, tuple(order), limit, count)


def _check_field(text: str, sobject: str, name: str) -> None:
    head, _, tail = name.partition(".")
    if tail and head in RELATIONSHIPS and RELATIONSHIPS[head] in FIELDS[sobject]:
        if tail in ("Name", "Type", "Id"):
            return
    elif not tail and name in FIELDS[sobject]:
        return
    column = text.find(name) + 1
    raise SoqlError(
        "INVALID_FIELD",
        f"\n{text[:80]}\n{' ' * max(0, column - 1)}^\nERROR at Row:1:Column:{column}\n"
        f"No such column '{name}' on entity '{sobject}'. If you are attempting to use a custom "
        "field, be sure to append the '__c' after the custom field name. Please reference "
        "your WSDL or the describe call for the appropriate names.",
    )


def sort_key(value: Any) -> tuple[int, Any]:
    """Order values as Salesforce does for ORDER BY ascending: nulls first."""
    if value is None:
        return (0, "")
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, datetime | date | int | float):
        return (1, value)
    return (2, str(value))


class _Where:
    def __init__(self, text: str, sobject: str, where: str) -> None:
        self.text = text
        self.sobject = sobject
        self.tokens: list[tuple[str, str]] = []
        position = 0
        while position < len(where):
            token = _TOKEN.match(where, position)
            if token is None or token.end() == position:
                if where[position:].strip():
                    raise SoqlError(
                        "MALFORMED_QUERY", f"unexpected token: {where[position:][:20]!r}"
                    )
                break
            kind = token.lastgroup or "word"
            self.tokens.append((kind, token[kind]))
            position = token.end()
        self.position = 0

    def parse(self) -> Predicate:
        predicate = self._or()
        if self.position != len(self.tokens):
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: {self._peek()[1]!r}")
        return predicate

    def _peek(self) -> tuple[str, str]:
        return self.tokens[self.position] if self.position < len(self.tokens) else ("end", "")

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token[0] == "end":
            raise SoqlError("MALFORMED_QUERY", "unexpected end of the WHERE clause")
        self.position += 1
        return token

    def _keyword(self, word: str) -> bool:
        kind, value = self._peek()
        if kind == "word" and value.upper() == word:
            self.position += 1
            return True
        return False

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._keyword("OR"):
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else lambda row: any(p(row) for p in parts)

    def _and(self) -> Predicate:
        parts = [self._not()]
        while self._keyword("AND"):
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else lambda row: all(p(row) for p in parts)

    def _not(self) -> Predicate:
        if self._keyword("NOT"):
            inner = self._not()
            return lambda row: not inner(row)
        if self._peek() == ("punct", "("):
            self._take()
            inner = self._or()
            if self._take() != ("punct", ")"):
                raise SoqlError("MALFORMED_QUERY", "expected ')'")
            return inner
        return self._condition()

    def _condition(self) -> Predicate:
        kind, name = self._take()
        if kind != "word":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: {name!r}")
        _check_field(self.text, self.sobject, name)
        field_type = FIELDS[self.sobject].get(name, "string")
        negate = self._keyword("NOT")
        if self._keyword("IN"):
            if self._take() != ("punct", "("):
                raise SoqlError("MALFORMED_QUERY", "expected '(' after IN")
            values = [self._literal(name, field_type)]
            while self._peek() == ("punct", ","):
                self._take()
                values.append(self._literal(name, field_type))
            if self._take() != ("punct", ")"):
                raise SoqlError("MALFORMED_QUERY", "expected ')' after the IN list")
            listed = frozenset(values)  # one lookup a row: IN lists of hundreds of ids
            return lambda row: (row.get(name) in listed) != negate
        if negate:
            raise SoqlError("MALFORMED_QUERY", "NOT must precede IN here")
        if self._keyword("LIKE"):
            pattern = str(self._literal(name, "string"))
            regex = re.compile(
                "^" + re.escape(pattern).replace("%", ".*").replace("_", ".") + "$", re.I
            )
            return lambda row: isinstance(row.get(name), str) and bool(regex.match(row[name]))
        kind, operator = self._take()
        if kind != "op":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: {operator!r}")
        value = self._literal(name, field_type)
        compare = _COMPARE[operator]

        def predicate(row: dict[str, Any]) -> bool:
            have = row.get(name)
            if have is None or value is None:
                return compare(have, value) if operator in ("=", "!=", "<>") else False
            try:
                return compare(have, value)
            except TypeError:  # a malformed value in the row: it matches nothing
                return False

        return predicate

    def _literal(self, name: str, field_type: str) -> Any:
        kind, raw = self._take()
        wanted = {"datetime": "dateTime", "date": "date"}.get(field_type)
        if kind == "string":
            if wanted is not None:
                raise SoqlError(
                    "INVALID_FIELD",
                    f"\n{self.text[:80]}\n^\nERROR at Row:1:Column:1\nvalue of filter criterion "
                    f"for field '{name}' must be of type {wanted} and should not be enclosed in "
                    "quotes",
                )
            return raw[1:-1].replace("\\'", "'")
        if kind == "datetime":
            if field_type != "datetime":
                raise SoqlError(
                    "INVALID_FIELD",
                    f"value of filter criterion for field '{name}' "
                    f"must be of type {wanted or field_type}",
                )
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            return moment.astimezone(UTC)
        if kind == "date":
            if field_type == "datetime":
                raise SoqlError(
                    "INVALID_FIELD",
                    f"value of filter criterion for field '{name}' must be of type dateTime",
                )
            return date.fromisoformat(raw)
        if kind == "number":
            return float(raw) if "." in raw else int(raw)
        if kind == "word" and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        if kind == "word" and raw.lower() == "null":
            return None
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: {raw!r}")
