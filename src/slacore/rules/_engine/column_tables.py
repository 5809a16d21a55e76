"""The results of an evaluation on columns as Arrow tables, made from the figures' arrays
without building a result object each (``to_arrow()`` of a report of ``evaluate_columns``).

The same tables as :func:`slacore.rules._tables.response_table` and
:func:`~slacore.rules._tables.cadence_table` make of result objects: a row per hand-off in
input order, the not-covered ones null but for their status. Hand-offs decided one at a time
(the general path) take their times from their decisions, as their results do.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from slacore import _arrow as arrow
from slacore.calendar import epoch_us
from slacore.columns import ArrowText, Columns
from slacore.rules._engine.arrays import STATUSES, ArrayFigures
from slacore.rules._tables import _Spread
from slacore.rules.common import SlaStatus

if TYPE_CHECKING:
    from slacore.rules._engine.cadence_arrays import CadenceFigures

_NOT_APPLICABLE = STATUSES.index(SlaStatus.NOT_APPLICABLE)


def _text(table: Columns, name: str) -> Any:
    """A text column of the hand-offs as a ``string`` array."""
    found = table.values.get(name)
    pa = arrow.pyarrow()
    if isinstance(found, ArrowText):
        return found.array.cast(pa.string())
    return arrow.strings([None if v is None else str(v) for v in table.column(name).tolist()])


def _first(handoffs: Columns, figures: Any, flags: list[bool]) -> dict[str, Any]:
    """The columns every result table starts with: the hand-off's lead, stage and source,
    then the accountable owner and the status."""
    pa = arrow.pyarrow()
    spread = _Spread(flags)
    owner = arrow.strings(figures.owners).take(pa.array(figures.owner, type=pa.int64()))
    codes = np.full(len(flags), _NOT_APPLICABLE, dtype=np.int8)
    codes[np.asarray(flags, dtype=bool)] = figures.status
    status = pa.DictionaryArray.from_arrays(
        pa.array(codes, type=pa.int8()), pa.array([s.value for s in STATUSES], type=pa.string())
    )
    return {
        "lead_id": _text(handoffs, "lead_id"),
        "stage": _text(handoffs, "stage"),
        "source": _text(handoffs, "source"),
        "owner_id": spread.array(owner),
        "status": status,
    }


def _micros(values: Any) -> Any:
    """An ``int64`` array (nulls kept) as ``timestamp[us, tz=UTC]``."""
    pa = arrow.pyarrow()
    return pa.array(values, type=pa.int64()).cast(pa.timestamp("us", tz="UTC"))


def _touch_times(touches: Columns | None, rows: Any) -> list[int | None]:
    """The epoch microseconds of the touches at ``rows`` (-1: none)."""
    if touches is None:
        return [None] * len(rows)
    at = touches.times["at"].us
    return [None if row < 0 else int(at[row]) for row in rows.tolist()]


def _us(moment: datetime | None) -> int | None:
    return None if moment is None else epoch_us(moment)


def response_arrow(
    figures: ArrayFigures, handoffs: Columns, touches: Columns | None, flags: list[bool]
) -> Any:
    """A row per hand-off of a response evaluation on columns."""
    pa, pc = arrow.pyarrow(), arrow.compute()
    spread = _Spread(flags)
    size = len(figures.status)
    first_touch = _touch_times(touches, figures.first)
    withdrawn: list[int | None] = [None] * size
    for position, decision in figures.general.items():
        first_touch[position] = _us(decision[4])
        withdrawn[position] = _us(decision[5])
    starts = pa.array(figures.start_us, type=pa.int64())
    ends = pa.array(figures.end_us, type=pa.int64())
    elapsed = pc.max_element_wise(pc.subtract(ends, starts), 0).cast(pa.duration("us"))
    if figures.business_us is None:
        business = pa.nulls(size, pa.duration("us"))
    else:
        business = pa.array(figures.business_us, type=pa.int64()).cast(pa.duration("us"))
    return arrow.table(
        _first(handoffs, figures, flags)
        | {
            "started_at": spread.array(_micros(figures.start_us)),
            "due_at": spread.array(_micros(figures.due_us)),
            "first_touch_at": spread.array(_micros(first_touch)),
            "withdrawn_at": spread.array(_micros(withdrawn)),
            "elapsed": spread.array(elapsed),
            "business_elapsed": spread.array(business),
        }
    )


def cadence_arrow(
    figures: CadenceFigures, handoffs: Columns, touches: Columns | None, flags: list[bool]
) -> Any:
    """A row per hand-off of a cadence evaluation on columns."""
    spread = _Spread(flags)
    size = len(figures.status)
    met = np.where(figures.status == STATUSES.index(SlaStatus.MET), figures.met_row, -1)
    met_at = _touch_times(touches, met)
    counted = figures.counted.tolist()
    withdrawn: list[int | None] = [None] * size
    for position, result in figures.general.items():
        counted[position] = result.touches
        met_at[position] = _us(result.met_at)
        withdrawn[position] = _us(result.withdrawn_at)
    return arrow.table(
        _first(handoffs, figures, flags)
        | {
            "window_end": spread.array(_micros(figures.close_us)),
            "touches": arrow.integers(spread.values(counted, 0)),
            "met_at": spread.array(_micros(met_at)),
            "withdrawn_at": spread.array(_micros(withdrawn)),
        }
    )
