"""The rules' results as Arrow tables: a row per result, and a row per summary.

An evaluation keeps its figures a column at a time (``_ResponseColumns``,
``_CadenceColumns``) and builds result objects only when they are read; the tables here are
made from those columns, so a million results become a table without a million result
objects. Results held some other way (a sequence of result objects) go row by row to the same
table: the tests hold the two to each other. Column types: :mod:`slacore._arrow`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from slacore import _arrow as arrow
from slacore.rules._engine.columns import _CadenceColumns, _ResponseColumns
from slacore.rules._engine.results import ColumnResults, LazyResults
from slacore.rules.common import Never, SlaStatus, instant

if TYPE_CHECKING:
    from slacore.model import Handoff
    from slacore.rules.cadence_report import CadenceResult, CadenceSummary
    from slacore.rules.response_report import ResponseResult, ResponseSummary

__all__ = [
    "cadence_summary_table",
    "cadence_table",
    "response_summary_table",
    "response_table",
]

_NA = SlaStatus.NOT_APPLICABLE


def _handoff_columns(handoffs: Sequence[Handoff]) -> dict[str, Any]:
    return {
        "lead_id": arrow.strings([h.lead_id for h in handoffs]),
        "stage": arrow.strings([h.stage for h in handoffs]),
        "source": arrow.strings([h.source for h in handoffs]),
    }


def _column_table(results: Sequence[Any]) -> Any | None:
    """The table of an evaluation on columns, made from its arrays, or ``None``."""
    if isinstance(results, ColumnResults) and results._figures.table is not None:
        return results._figures.table()
    return None


def _view(results: Sequence[Any], kind: type) -> tuple[Sequence[Handoff], list[bool], Any] | None:
    """The hand-offs, eligibility flags and columns behind an evaluation's lazy results, or
    ``None`` when ``results`` are held some other way."""
    if isinstance(results, LazyResults) and isinstance(results._figures, kind):
        return results._handoffs, [bool(ok) for ok in results._eligible], results._figures
    return None


class _Spread:
    """Puts the eligible hand-offs' figures in the rows of all the hand-offs: a
    not-applicable row gets a null (or the fill given)."""

    def __init__(self, flags: list[bool]) -> None:
        self.flags = flags
        self.all = all(flags)
        self._take: Any = None

    def array(self, values: Any) -> Any:
        """An Arrow array of the eligible rows, spread with nulls."""
        if self.all:
            return values
        if self._take is None:
            ranks = accumulate(self.flags)
            self._take = arrow.integers(
                [rank - 1 if ok else None for ok, rank in zip(self.flags, ranks, strict=True)]
            )
        return values.take(self._take)

    def values(self, values: Sequence[Any], fill: Any) -> list[Any]:
        """A list of the eligible rows' values, spread with ``fill``."""
        if self.all:
            return list(values)
        found = iter(values)
        return [next(found) if ok else fill for ok in self.flags]


def response_table(results: Sequence[ResponseResult]) -> Any:
    """A row per response result (see :meth:`ResponseReport.to_arrow
    <slacore.rules.response_report.ResponseReport.to_arrow>`)."""
    made = _column_table(results)
    if made is not None:
        return made
    view = _view(results, _ResponseColumns)
    if view is None:
        return _response_rows(results)
    handoffs, flags, columns = view
    pa, pc = arrow.pyarrow(), arrow.compute()
    spread = _Spread(flags)
    size = len(columns.status)
    withdrawn_at = arrow.sparse_timestamps(columns.withdrawn, size)
    if columns.micros is not None:
        # Starts, due times and span ends in epoch microseconds: a span ends at the first
        # touch when there is one, at the withdrawal when withdrawn.
        starts, dues, ends = (arrow.integers(figure) for figure in columns.micros)
        started_at = starts.cast(pa.timestamp("us", tz="UTC"))
        due_at = dues.cast(pa.timestamp("us", tz="UTC"))
        touched = arrow.flags([at is not None for at in columns.stopped])
        first_touch_at = pc.if_else(touched, ends, None).cast(pa.timestamp("us", tz="UTC"))
    else:
        started_at = arrow.timestamps(columns.started)
        starts = started_at.cast(pa.int64())
        due_at = pc.add(starts, columns.step_us).cast(pa.timestamp("us", tz="UTC"))
        first_touch_at = arrow.timestamps(columns.stopped)
        ends = pc.coalesce(
            first_touch_at.cast(pa.int64()),
            withdrawn_at.cast(pa.int64()),
            pa.scalar(columns.now_us, pa.int64()),
        )
    elapsed = pc.max_element_wise(pc.subtract(ends, starts), 0).cast(pa.duration("us"))
    if columns.business_us is None:
        business = pa.nulls(size, pa.duration("us"))
    else:
        business = arrow.integers(columns.business_us).cast(pa.duration("us"))
    return arrow.table(
        _handoff_columns(handoffs)
        | {
            "owner_id": spread.array(arrow.strings(columns.owner)),
            "status": arrow.categories(spread.values(columns.status, _NA), SlaStatus),
            "started_at": spread.array(started_at),
            "due_at": spread.array(due_at),
            "first_touch_at": spread.array(first_touch_at),
            "withdrawn_at": spread.array(withdrawn_at),
            "elapsed": spread.array(elapsed),
            "business_elapsed": spread.array(business),
        }
    )


_FIRST: list[arrow.Column] = [
    ("lead_id", arrow.strings, lambda r: r.handoff.lead_id),
    ("stage", arrow.strings, lambda r: r.handoff.stage),
    ("source", arrow.strings, lambda r: r.handoff.source),
    ("owner_id", arrow.strings, lambda r: r.owner_id),
    ("status", lambda v: arrow.categories(v, SlaStatus), lambda r: r.status),
]
"""The columns every result table starts with, read from result objects."""


def _response_rows(results: Sequence[ResponseResult]) -> Any:
    return arrow.records_table(
        results,
        [
            *_FIRST,
            ("started_at", arrow.timestamps, lambda r: r.started_at),
            ("due_at", arrow.timestamps, lambda r: r.due_at),
            ("first_touch_at", arrow.timestamps, lambda r: r.first_touch_at),
            ("withdrawn_at", arrow.timestamps, lambda r: r.withdrawn_at),
            ("elapsed", arrow.durations, lambda r: r.elapsed),
            ("business_elapsed", arrow.durations, lambda r: r.business_elapsed),
        ],
    )


def cadence_table(results: Sequence[CadenceResult], min_touches: int) -> Any:
    """A row per cadence result (see :meth:`CadenceReport.to_arrow
    <slacore.rules.cadence_report.CadenceReport.to_arrow>`)."""
    made = _column_table(results)
    if made is not None:
        return made
    view = _view(results, _CadenceColumns)
    if view is None:
        return _cadence_rows(results)
    handoffs, flags, columns = view
    spread = _Spread(flags)
    size = len(columns.status)
    touches = [0 if counted is None else len(counted) for counted in columns.counted]
    met_at: list[Any] = [None] * size
    withdrawn: list[Any] = [None] * size
    for position, (status, counted) in enumerate(zip(columns.status, columns.counted, strict=True)):
        if status is SlaStatus.MET and counted is not None and position not in columns.general:
            met_at[position] = sorted(counted, key=instant)[min_touches - 1]
    # The hand-offs decided one at a time have their results already.
    for position, result in columns.general.items():
        touches[position] = result.touches
        met_at[position] = result.met_at
        withdrawn[position] = result.withdrawn_at
    return arrow.table(
        _handoff_columns(handoffs)
        | {
            "owner_id": spread.array(arrow.strings(columns.owner)),
            "status": arrow.categories(spread.values(columns.status, _NA), SlaStatus),
            "window_end": spread.array(arrow.timestamps(columns.closes)),
            "touches": arrow.integers(spread.values(touches, 0)),
            "met_at": spread.array(arrow.timestamps(met_at)),
            "withdrawn_at": spread.array(arrow.timestamps(withdrawn)),
        }
    )


def _cadence_rows(results: Sequence[CadenceResult]) -> Any:
    return arrow.records_table(
        results,
        [
            *_FIRST,
            ("window_end", arrow.timestamps, lambda r: r.window_end),
            ("touches", arrow.integers, lambda r: r.touches),
            ("met_at", arrow.timestamps, lambda r: r.met_at),
            ("withdrawn_at", arrow.timestamps, lambda r: r.withdrawn_at),
        ],
    )


def _counts(names: str, groups: Mapping[str, Any]) -> dict[str, Any]:
    """The name and the counts by status of each group's summary."""
    summaries = list(groups.values())
    columns: dict[str, Any] = {names: arrow.strings(list(groups))}
    for figure in ("eligible", "met", "breached", "pending", "at_risk", "withdrawn"):
        columns[figure] = arrow.integers([getattr(s, figure) for s in summaries])
    for figure in ("compliance", "target"):
        columns[figure] = arrow.shares([getattr(s, figure) for s in summaries])
    columns["target_met"] = arrow.flags([s.target_met for s in summaries])
    return columns


def response_summary_table(
    names: str, groups: Mapping[str, ResponseSummary], buckets: Sequence[str]
) -> Any:
    """A row per group's summary: its name (column ``names``), the counts by status,
    compliance and target, the percentiles and a column per response-time bucket."""
    columns = _counts(names, groups)
    summaries = list(groups.values())
    for figure in ("p50", "p90"):
        values = [getattr(s, figure) for s in summaries]
        # NEVER (the percentile falls among the hand-offs never touched) is no duration.
        columns[figure] = arrow.durations([v if isinstance(v, timedelta) else None for v in values])
        columns[f"{figure}_never"] = arrow.flags([isinstance(v, Never) for v in values])
    for label in buckets:
        columns[label] = arrow.integers([s.buckets.get(label, 0) for s in summaries])
    return arrow.table(columns)


def cadence_summary_table(names: str, groups: Mapping[str, CadenceSummary]) -> Any:
    """A row per group's summary: its name (column ``names``), the counts by status,
    compliance and target."""
    return arrow.table(_counts(names, groups))
