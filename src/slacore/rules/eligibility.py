"""Which hand-offs a rule applies to, composable and describable in words.

Seed 000's response rule covers "only those leads requesting follow up by sales, not webinar
leads or early-stage-buyer-journey leads". As a selector::

    from slacore.rules.eligibility import hand_raisers, source

    applies_to = hand_raisers() & ~source("webinar")
    applies_to.describe()   # 'hand-raisers, excluding source webinar'

Selectors combine with ``&`` (both), ``|`` (either) and ``~`` (not). Each says in words what it
selects, for the signed document and the report.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from operator import attrgetter

import attrs

from slacore.errors import ValidationError
from slacore.model import Handoff

__all__ = [
    "ALL",
    "Eligibility",
    "hand_raisers",
    "segment",
    "source",
    "stage",
]


class Eligibility(abc.ABC):
    """Selects the hand-offs a rule applies to. Combine with ``&``, ``|`` and ``~``."""

    __slots__ = ()

    @abc.abstractmethod
    def matches(self, handoff: Handoff) -> bool:
        """Whether the rule applies to ``handoff``."""

    @abc.abstractmethod
    def describe(self) -> str:
        """What the selector selects, as a phrase for a sentence ("hand-raisers")."""

    def matches_many(self, handoffs: Sequence[Handoff]) -> list[bool]:
        """``matches`` for each hand-off, in order: the bulk form for large evaluations.

        The built-in selectors answer a column at a time, and ``&`` and ``|`` short-circuit as
        ``matches`` does: a part sees only the hand-offs the parts before it left undecided. A
        selector of your own only needs ``matches`` (this default calls it for each hand-off).
        """
        return [bool(self.matches(handoff)) for handoff in handoffs]

    def __and__(self, other: Eligibility) -> Eligibility:
        return _All((self, other))

    def __or__(self, other: Eligibility) -> Eligibility:
        return _Any((self, other))

    def __invert__(self) -> Eligibility:
        return _Not(self)

    def __call__(self, handoff: Handoff) -> bool:
        return self.matches(handoff)


def _combine(
    parts: Sequence[Eligibility], handoffs: Sequence[Handoff], *, settled: bool
) -> list[bool]:
    """``matches_many`` of ``&`` (``settled=False``) or ``|`` (``settled=True``), short-circuit
    as ``matches`` is: each part sees only the hand-offs the parts before it left open (those
    not yet ``settled``), so a part may rely on the ones before it, as in
    ``segment("emea") & MyRegionCheck()``."""
    result = [bool(flag) for flag in parts[0].matches_many(handoffs)]
    for part in parts[1:]:
        if _total(part):  # answers any hand-off: a whole column costs less than picking
            column = part.matches_many(handoffs)
            if settled:
                result = [a or b for a, b in zip(result, column, strict=True)]
            else:
                result = [a and b for a, b in zip(result, column, strict=True)]
            continue
        open_ = [i for i, flag in enumerate(result) if flag is not settled]
        if not open_:
            break
        answers = part.matches_many([handoffs[i] for i in open_])
        for i, answer in zip(open_, answers, strict=True):
            result[i] = bool(answer)
    return result


def _total(selector: Eligibility) -> bool:
    """Whether ``selector`` is built of slacore's own selectors only, which answer for any
    hand-off (a selector of the user's may count on the parts before it)."""
    if isinstance(selector, _Everything | _Field | _HandRaiser):
        return True
    if isinstance(selector, _All | _Any):
        return all(_total(part) for part in selector.parts)
    return isinstance(selector, _Not) and _total(selector.part)


def _names(kind: str, names: tuple[str, ...]) -> tuple[str, ...]:
    if not names:
        raise ValidationError(message=f"name at least one {kind}", field=f"applies_to.{kind}")
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValidationError(
                message=f"expected a {kind} name, got {name!r}", field=f"applies_to.{kind}"
            )
    return names


def _phrase(kind: str, names: tuple[str, ...]) -> str:
    return f"{kind} {' or '.join(names)}"


@attrs.frozen
class _Everything(Eligibility):
    def matches(self, handoff: Handoff) -> bool:
        return True

    def matches_many(self, handoffs: Sequence[Handoff]) -> list[bool]:
        return [True] * len(handoffs)

    def describe(self) -> str:
        return "all hand-offs"


@attrs.frozen
class _Field(Eligibility):
    kind: str
    names: tuple[str, ...]

    def matches(self, handoff: Handoff) -> bool:
        return getattr(handoff, self.kind) in self.names

    def matches_many(self, handoffs: Sequence[Handoff]) -> list[bool]:
        names = frozenset(self.names)
        return [value in names for value in map(attrgetter(self.kind), handoffs)]

    def describe(self) -> str:
        return _phrase(self.kind, self.names)


@attrs.frozen
class _HandRaiser(Eligibility):
    def matches(self, handoff: Handoff) -> bool:
        return handoff.hand_raiser

    def matches_many(self, handoffs: Sequence[Handoff]) -> list[bool]:
        return [handoff.hand_raiser for handoff in handoffs]

    def describe(self) -> str:
        return "hand-raisers (leads asking for sales follow-up)"


@attrs.frozen
class _All(Eligibility):
    parts: tuple[Eligibility, ...]

    def matches(self, handoff: Handoff) -> bool:
        return all(part.matches(handoff) for part in self.parts)

    def matches_many(self, handoffs: Sequence[Handoff]) -> list[bool]:
        return _combine(self.parts, handoffs, settled=False)

    def describe(self) -> str:
        words: list[str] = []
        for part in self.parts:
            if isinstance(part, _Not):
                words.append(f"excluding {part.part.describe()}")
            else:
                words.append(part.describe())
        return ", ".join(words)


@attrs.frozen
class _Any(Eligibility):
    parts: tuple[Eligibility, ...]

    def matches(self, handoff: Handoff) -> bool:
        return any(part.matches(handoff) for part in self.parts)

    def matches_many(self, handoffs: Sequence[Handoff]) -> list[bool]:
        return _combine(self.parts, handoffs, settled=True)

    def describe(self) -> str:
        return "either " + " or ".join(f"({part.describe()})" for part in self.parts)


@attrs.frozen
class _Not(Eligibility):
    part: Eligibility

    def matches(self, handoff: Handoff) -> bool:
        return not self.part.matches(handoff)

    def matches_many(self, handoffs: Sequence[Handoff]) -> list[bool]:
        return [not match for match in self.part.matches_many(handoffs)]

    def describe(self) -> str:
        return f"all hand-offs except {self.part.describe()}"


ALL: Eligibility = _Everything()
"""Every hand-off."""


def source(*names: str) -> Eligibility:
    """Hand-offs whose ``source`` is one of ``names``."""
    return _Field("source", _names("source", names))


def segment(*names: str) -> Eligibility:
    """Hand-offs whose ``segment`` is one of ``names``."""
    return _Field("segment", _names("segment", names))


def stage(*keys: str) -> Eligibility:
    """Hand-offs into one of the stages ``keys`` (e.g. ``"mql"``)."""
    return _Field("stage", _names("stage", keys))


def hand_raisers() -> Eligibility:
    """Hand-offs of leads that asked for sales follow-up (demo or contact requests)."""
    return _HandRaiser()
