"""The lazy results view: a rule's results built one at a time, when read."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from itertools import accumulate
from typing import Any, Generic, Protocol, TypeVar, cast, overload

import attrs

from slacore.model import (
    Handoff,
)
from slacore.rules.common import SlaStatus


class _Decided(Protocol):
    """What every rule's figures hold per eligible hand-off: its status and the rep
    accountable, as its result says them."""

    status: list[SlaStatus]
    owner: list[str | None]


_Result = TypeVar("_Result")
_Rule = TypeVar("_Rule")
_Figures = TypeVar("_Figures")


class LazyResults(Sequence[_Result], Generic[_Result, _Rule, _Figures]):
    """The results of a bulk evaluation, one per hand-off in input order, built on access:
    a million of them cost little until read.

    A rule keeps its figures for the eligible hand-offs only, a list per figure
    (``figures``); the subclass builds one result from them (``_build``), or a
    not-applicable one for a hand-off the rule does not cover.
    """

    __slots__ = ("_eligible", "_figures", "_handoffs", "_index", "_rule")
    _noun = "results"

    def __init__(
        self,
        rule: _Rule,
        handoffs: Sequence[Handoff],
        eligible: Sequence[bool],
        figures: _Figures,
    ) -> None:
        self._rule = rule
        self._handoffs = handoffs
        self._eligible = eligible
        self._figures = figures
        self._index: list[int] | None = None

    def _not_applicable(self, handoff: Handoff) -> _Result:
        raise NotImplementedError

    def _build(self, handoff: Handoff, at: int) -> _Result:
        """The result of ``handoff``, whose figures sit at position ``at``."""
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self._handoffs)

    @overload
    def __getitem__(self, index: int) -> _Result: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[_Result, ...]: ...

    def __getitem__(self, index: int | slice) -> _Result | tuple[_Result, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        handoff = self._handoffs[index]
        if not self._eligible[index]:
            return self._not_applicable(handoff)
        if self._index is None:
            # How many eligible hand-offs there are up to each one: a hand-off's figures sit
            # at that count less one. Counted on first read.
            # (As bools: a selector of the user's may answer numpy booleans, which add up
            # as logical "or".)
            self._index = list(accumulate(map(bool, self._eligible)))
        return self._build(handoff, self._index[index] - 1)

    def _matching(self, wanted: Collection[SlaStatus]) -> Iterator[tuple[Handoff, int | None]]:
        """Each hand-off whose result has a status in ``wanted``, in input order, with the
        position of its figures (``None``: the rule does not cover it); no result is built."""
        status = cast(_Decided, self._figures).status
        not_applicable = SlaStatus.NOT_APPLICABLE in wanted
        at = -1
        for handoff, eligible in zip(self._handoffs, self._eligible, strict=True):
            if eligible:
                at += 1
                if status[at] in wanted:
                    yield handoff, at
            elif not_applicable:
                yield handoff, None

    def with_status(self, wanted: Collection[SlaStatus]) -> tuple[_Result, ...]:
        """The results whose status is in ``wanted``, in input order: only those are built."""
        return tuple(
            self._not_applicable(handoff) if at is None else self._build(handoff, at)
            for handoff, at in self._matching(wanted)
        )

    def accountable(self, wanted: Collection[SlaStatus]) -> list[tuple[str | None, Handoff]]:
        """The accountable rep (``owner_id`` of the result) and the hand-off of each result
        whose status is in ``wanted``, in input order, without building the results."""
        owner = cast(_Decided, self._figures).owner
        return [
            (None if at is None else owner[at], handoff) for handoff, at in self._matching(wanted)
        ]

    def accountable_leads(self, wanted: Collection[SlaStatus]) -> list[tuple[str | None, str]]:
        """:meth:`accountable` with each hand-off's lead id instead of the hand-off."""
        return [(owner, handoff.lead_id) for owner, handoff in self.accountable(wanted)]

    def __iter__(self) -> Iterator[_Result]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return list(self) == list(other)

    def __hash__(self) -> int:
        # Equal to a tuple of the same results, as equality says; builds every result.
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"<{len(self)} {self._noun}>"


@attrs.frozen
class Builders(Generic[_Result]):
    """How an evaluation on columns makes its results: ``build(handoff, position)`` for a
    covered hand-off (its figures at ``position`` among the covered), ``not_applicable`` for
    the others; ``noun`` names them in the ``repr``."""

    build: Callable[[Handoff, int], _Result]
    not_applicable: Callable[[Handoff], _Result]
    noun: str
    accountable: Callable[[Collection[SlaStatus]], list[tuple[str | None, str]]] | None = None
    """The accountable rep and lead id of each covered hand-off whose status is in the
    statuses given, in input order, from the arrays (no hand-off or result made)."""
    table: Callable[[], Any] | None = None
    """The results as an Arrow table (what ``to_arrow()`` gives), from the arrays."""


class ColumnResults(LazyResults[_Result, Any, Builders[_Result]]):
    """The results of an evaluation on columns, each built from the arrays when read (by the
    rule's :class:`Builders`).

    Its figures are the builders, not status and owner lists: picking by status builds each
    result and reads its own status.
    """

    __slots__ = ()

    def with_status(self, wanted: Collection[SlaStatus]) -> tuple[_Result, ...]:
        """The results whose status is in ``wanted``, in input order."""
        return tuple(r for r in self if cast(Any, r).status in wanted)

    def accountable(self, wanted: Collection[SlaStatus]) -> list[tuple[str | None, Handoff]]:
        """The accountable rep and the hand-off of each result whose status is in ``wanted``."""
        picked: list[Any] = [r for r in self if cast(Any, r).status in wanted]
        return [(r.owner_id, r.handoff) for r in picked]

    def accountable_leads(self, wanted: Collection[SlaStatus]) -> list[tuple[str | None, str]]:
        """The accountable rep and the lead id of each result whose status is in ``wanted``,
        in input order: from the arrays when the rule gives them (and not-applicable
        results are not asked for), with no hand-off or result made; else as
        :meth:`accountable`."""
        from_arrays = self._figures.accountable
        if from_arrays is not None and SlaStatus.NOT_APPLICABLE not in wanted:
            return from_arrays(wanted)
        return super().accountable_leads(wanted)

    def _not_applicable(self, handoff: Handoff) -> _Result:
        return self._figures.not_applicable(handoff)

    def _build(self, handoff: Handoff, at: int) -> _Result:
        return self._figures.build(handoff, at)

    def __repr__(self) -> str:
        return f"<{len(self)} {self._figures.noun}>"
