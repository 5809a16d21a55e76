"""Where a HubSpot read stands: the modified-time window of one object type, in a cursor.

A read of an object type covers one window of its modified time, ``[since, until)``: from the
end of the last window read, less the lookback, to the run's start, less the lag. The cursor
state keeps, per object type (``<type>.`` keys, so one stream can read several types):

- ``<type>.modified``: the end of the last window read to its end (epoch milliseconds); the
  next window starts at it, less the lookback. Absent before a first read is finished.
- while a window is being read, its bounds ``<type>.since`` and ``<type>.until`` and the last
  id read, ``<type>.after``: a read stopped there (killed, the daily limit) goes on with the
  same window after that id, so nothing read is read twice and nothing is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import attrs

from slacore.connector.streams import JSONScalar
from slacore_connectors._window import EPOCH, from_ms, state_of, to_ms
from slacore_connectors._window import int_of as _int

__all__ = ["EPOCH", "Window", "from_ms", "state_of", "to_ms"]


@attrs.frozen(kw_only=True)
class Window:
    """The window of one object type a read covers.

    Attributes:
        object_type: The HubSpot object type (``contacts``, ``calls``...).
        since: The window's start (included).
        until: The window's end (excluded).
        after: The last id read in it by an earlier read that stopped, if one did.
        resumed: Whether the window is one an earlier read stopped in.
        first: Whether the object type was never read to the end of a window before.

    """

    object_type: str
    since: datetime
    until: datetime
    after: int | None = None
    resumed: bool = False
    first: bool = False

    @classmethod
    def plan(
        cls,
        object_type: str,
        state: Mapping[str, JSONScalar],
        *,
        now: datetime,
        lookback: timedelta,
        lag: timedelta,
        start: datetime,
    ) -> Window:
        """The window to read now, from a cursor's state.

        A window an earlier read stopped in is gone on with; otherwise the next one:
        ``[modified - lookback, now - lag)``, or ``[start, now - lag)`` the first time.
        The end is never past the run's start, so nothing modified while the run reads is
        taken as read.
        """
        since_ms = _int(state, f"{object_type}.since")
        until_ms = _int(state, f"{object_type}.until")
        modified = _int(state, f"{object_type}.modified")
        if since_ms is not None and until_ms is not None:
            return cls(
                object_type=object_type,
                since=from_ms(since_ms),
                until=from_ms(until_ms),
                after=_int(state, f"{object_type}.after"),
                resumed=True,
                first=modified is None,
            )
        until = now - lag
        since = start if modified is None else from_ms(modified) - lookback
        return cls(
            object_type=object_type,
            since=min(since, until),
            until=until,
            first=modified is None,
        )

    def reading(self, state: Mapping[str, JSONScalar], after: int) -> dict[str, JSONScalar]:
        """The cursor state while the window is read, its ids read up to ``after``."""
        prefix = self.object_type
        return {
            **state,
            f"{prefix}.since": to_ms(self.since),
            f"{prefix}.until": to_ms(self.until),
            f"{prefix}.after": str(after),
        }

    def done(self, state: Mapping[str, JSONScalar]) -> dict[str, JSONScalar]:
        """The cursor state once the window is read to its end."""
        prefix = f"{self.object_type}."
        kept = {k: v for k, v in state.items() if not k.startswith(prefix)}
        kept[f"{prefix}modified"] = to_ms(self.until)
        return kept
