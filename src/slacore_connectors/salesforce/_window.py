"""Where a Salesforce read stands: the ``SystemModstamp`` window of one sObject, in a cursor.

A read of an sObject covers one window of its ``SystemModstamp``, ``[since, until)``: from the
end of the last window read, less the lookback, to the run's start, less the lag; a window
longer than the ``window`` setting is read in pieces of at most that long, each piece's end
kept as it is read to its end. Bounds are whole seconds (SOQL's date-time literals), so
``>=`` and ``<`` mean exactly what they say. The cursor state keeps, per sObject (``<sObject>.``
keys, so one stream can read several, Task and Event):

- ``<sObject>.modified``: the end of the last piece read to its end (epoch milliseconds); the
  next window starts at it, less the lookback. Absent before a first piece is finished.
- while a piece is being read, its bounds ``<sObject>.since`` and ``<sObject>.until`` and the
  last row read, ``<sObject>.after_at`` (its ``SystemModstamp``, epoch milliseconds) and
  ``<sObject>.after_id``: rows come ``ORDER BY SystemModstamp, Id``, so a read stopped there
  (killed, the daily limit) goes on after that row, and rows sharing one ``SystemModstamp``
  across a page boundary are neither skipped nor read twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Final

import attrs

from slacore.connector.streams import JSONScalar
from slacore_connectors._window import from_ms, int_of, to_ms

_ID: Final = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")


def whole_second(moment: datetime) -> datetime:
    """``moment`` without its fraction of a second (SOQL literals are whole seconds)."""
    return moment.replace(microsecond=0)


def soql_time(moment: datetime) -> str:
    """A SOQL date-time literal: unquoted, UTC, ``Z`` (``2026-03-12T10:00:00Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@attrs.frozen
class Position:
    """A row's place in ``ORDER BY SystemModstamp, Id``.

    Attributes:
        at: Its ``SystemModstamp``.
        row_id: Its ``Id``.

    """

    at: datetime
    row_id: str

    @property
    def key(self) -> tuple[datetime, str]:
        """``(at, row_id)``."""
        return (self.at, self.row_id)

    def passed(self, at: datetime, row_id: str) -> bool:
        """Whether the row at ``at`` with ``row_id`` comes at or before this one."""
        return at < self.at or (at == self.at and row_id <= self.row_id)


@attrs.frozen(kw_only=True)
class Window:
    """The window of one sObject a read covers.

    Attributes:
        sobject: The sObject (``Lead``, ``Task``...).
        since: The window's start (included).
        until: The window's end (excluded).
        after: The last row read in it by an earlier read that stopped, if one did.
        resumed: Whether the window is the piece an earlier read stopped in.
        first: Whether the sObject was never read to the end of a piece before.

    """

    sobject: str
    since: datetime
    until: datetime
    after: Position | None = None
    resumed: bool = False
    first: bool = False

    @classmethod
    def plan(
        cls,
        sobject: str,
        state: Mapping[str, JSONScalar],
        *,
        now: datetime,
        lookback: timedelta,
        lag: timedelta,
        start: Callable[[datetime], datetime],
    ) -> Window:
        """The window to read now, from a cursor's state.

        A piece an earlier read stopped in is gone on with; otherwise the next window:
        ``[modified - lookback, now - lag)``, or ``[start(until), now - lag)`` the first time
        (``start`` is asked only then: the ``start`` setting, or the oldest row's time). The
        end is never past the run's start, so nothing modified while the run reads is taken
        as read.
        """
        since_ms = int_of(state, f"{sobject}.since")
        until_ms = int_of(state, f"{sobject}.until")
        modified = int_of(state, f"{sobject}.modified")
        if since_ms is not None and until_ms is not None and since_ms <= until_ms:
            return cls(
                sobject=sobject,
                since=from_ms(since_ms),
                until=from_ms(until_ms),
                after=_position(state, sobject),
                resumed=True,
                first=modified is None,
            )
        until = whole_second(now - lag)
        since = start(until) if modified is None else from_ms(modified) - lookback
        return cls(
            sobject=sobject,
            since=whole_second(min(since, until)),
            until=until,
            first=modified is None,
        )

    def where(self, since: datetime, until: datetime, after: Position | None) -> str:
        """The SOQL condition of the rows of ``[since, until)`` after ``after`` (if given and
        in it): whole seconds, so the rows of ``after``'s second before it come too, for
        :meth:`Position.passed` to skip."""
        low = since
        tail = ""
        if after is not None and after.at >= since:
            low = whole_second(after.at)
            tail = f" AND (SystemModstamp > {soql_time(low)} OR Id > '{after.row_id}')"
        return f"SystemModstamp >= {soql_time(low)} AND SystemModstamp < {soql_time(until)}{tail}"

    def reading(
        self,
        state: Mapping[str, JSONScalar],
        since: datetime,
        until: datetime,
        after: Position | None,
    ) -> dict[str, JSONScalar]:
        """The cursor state while the piece ``[since, until)`` is read, up to ``after``
        (None: a read stopped goes on from the piece's start)."""
        prefix = self.sobject
        kept = {k: v for k, v in state.items() if not k.startswith(f"{prefix}.after_")}
        kept.update({f"{prefix}.since": to_ms(since), f"{prefix}.until": to_ms(until)})
        if after is not None:
            kept.update({f"{prefix}.after_at": to_ms(after.at), f"{prefix}.after_id": after.row_id})
        return kept

    def done(self, state: Mapping[str, JSONScalar], until: datetime) -> dict[str, JSONScalar]:
        """The cursor state once the piece ending at ``until`` is read to its end."""
        prefix = f"{self.sobject}."
        kept = {k: v for k, v in state.items() if not k.startswith(prefix)}
        kept[f"{prefix}modified"] = to_ms(until)
        return kept


def _position(state: Mapping[str, JSONScalar], sobject: str) -> Position | None:
    at = int_of(state, f"{sobject}.after_at")
    row_id = state.get(f"{sobject}.after_id")
    if at is None or not isinstance(row_id, str) or not _ID.fullmatch(row_id):
        return None  # a state edited by hand: the piece is read from its start again
    return Position(from_ms(at), row_id)
