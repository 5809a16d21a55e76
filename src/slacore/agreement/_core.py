"""The agreement: the whole SLA both teams sign, loaded from a TOML file and validated.

An :class:`Agreement` holds every section of seed 000's example SLA, plus what seeds 002-004
add: parties and signatories; version and dates; lead stages, the hand-off and personas; the
business calendar; company goals; marketing's commitments (lead value or leads per period,
values per source, the pacing rule); sales' commitments (response and cadence rules, milestone
goals, process); other commitments of seed 003's kinds (content, campaign, reporting,
training); communication; conflict resolution; rewards; ramifications; review; termination.

``Agreement.load("company_a.toml")`` reads and validates a file. Every problem is reported, all
at once, in an :class:`AgreementError` whose ``errors`` each name the key path and the line::

    company_a.toml:41: sales.response.within: expected a duration like "5m", ... got 'soon'

The sections hold the real core objects (:class:`~slacore.calendar.BusinessCalendar`,
:class:`~slacore.rules.ResponseRule`, :class:`~slacore.rules.CadenceRule`,
:class:`~slacore.planning.milestones.MilestoneGoal`,
:class:`~slacore.planning.lead_values.LeadValueTable`, :class:`~slacore.model.StageLadder`), so an
agreement evaluates data directly.
:meth:`Agreement.to_markdown` and :meth:`Agreement.to_html` write the document both teams sign.
The guide "Write your agreement" walks through the file format.
"""

from __future__ import annotations

import difflib
import enum
import functools
import html
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import attrs

from slacore._toml_lines import KeyLines, KeyPath, scan
from slacore._values import format_rate, to_money, to_rate
from slacore.calendar.business import BusinessCalendar
from slacore.calendar.duration import parse_duration
from slacore.calendar.periods import Period
from slacore.errors import PlanError, SlacoreError, UnknownKeyError, ValidationError
from slacore.model import STANDARD_LADDER, Channel, Handoff, LeadStage, StageLadder, Team
from slacore.planning.funnel import FunnelPlan, reverse_funnel
from slacore.planning.goals import CatchUp, RunRate, catch_up, run_rate
from slacore.planning.lead_values import LeadValue, LeadValueTable, MixValue, lead_value
from slacore.planning.milestones import Direction, Milestone, MilestoneGoal, Ramp
from slacore.planning.pacing import Delivery, Measure, Pacing, deliveries, pace
from slacore.render import cell, format_count, format_money
from slacore.rules.cadence import CadenceRule
from slacore.rules.eligibility import ALL, Eligibility, hand_raisers, segment, source, stage
from slacore.rules.response import Clock, FirstTouch, ResponseRule, StageReached

__all__ = [
    "Agreement",
    "AgreementError",
    "CadenceCommitment",
    "Commitment",
    "CommitmentKind",
    "Communication",
    "CompanyGoals",
    "ConflictResolution",
    "Deliverable",
    "HandoffTerms",
    "LeadCountCommitment",
    "LeadFilter",
    "LeadValueCommitment",
    "MarketingCommitments",
    "Meeting",
    "PacingRule",
    "Party",
    "Persona",
    "ResponseCommitment",
    "Review",
    "ReviewTrigger",
    "Rewards",
    "Rung",
    "SalesCommitments",
    "Signatory",
    "Termination",
    "key_path",
]

T = TypeVar("T")

DEFAULT_EXIT_STAGES = ("disqualified", "unqualified", "recycled")
"""Stages that take a lead out of the ladder (and withdraw it from the sales clocks)."""


# --- errors --------------------------------------------------------------------------------------


@attrs.frozen(auto_exc=True, kw_only=True)
class AgreementError(SlacoreError, ValueError):
    """An agreement file or mapping is not valid. Carries every problem found, not the first.

    ``str(error)`` is the summary line followed by one line per problem.

    Attributes:
        message: The summary, e.g. ``"company_a.toml: 3 problems in the agreement"``.
        errors: One :class:`~slacore.errors.ValidationError` per problem, in file order, each
            with ``field`` (the key path), and for files ``file`` and ``line``.
        source: The file, if the agreement came from one.

    """

    errors: tuple[ValidationError, ...] = ()
    source: str | None = None

    def __str__(self) -> str:
        return "\n".join([self.message, *(str(error) for error in self.errors)])


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def key_path(path: Sequence[str | int]) -> str:
    """Write a key path the way a TOML reader looks for it.

    >>> key_path(("sales", "response", 0, "within"))
    'sales.response[0].within'
    >>> key_path(("marketing", "lead_value", "values", "web sales-ready"))
    'marketing.lead_value.values."web sales-ready"'
    """
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        name = part if _BARE_KEY.fullmatch(part) else '"' + part.replace('"', '\\"') + '"'
        text += f".{name}" if text else name
    return text


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, datetime):
        return "a date-time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, time):
        return "a time"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "a table"
    return type(value).__name__


def _shown(value: object) -> str:
    if isinstance(value, list | tuple | Mapping):
        return _kind(value)
    if isinstance(value, datetime | date | time):
        return f"{_kind(value)} {value.isoformat()}"
    return f"{_kind(value)} {value!r}"


def _suggest(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


class _Problems:
    """The problems found so far, each with its key path."""

    def __init__(self) -> None:
        self.found: list[tuple[KeyPath, str, object]] = []

    def add(self, path: KeyPath, message: str, value: object = None) -> None:
        if all((path, message) != (p, m) for p, m, _ in self.found):
            self.found.append((path, message, value))

    def error(self, path: KeyPath, error: ValidationError | UnknownKeyError) -> None:
        """Record an error a core object raised, under ``path`` (plus the error's own field)."""
        if isinstance(error, UnknownKeyError):
            self.add(path, error.message + _suggest(error.key, error.known), error.key)
            return
        below: KeyPath = tuple(error.field.split(".")) if error.field else ()
        self.add((*path, *below), error.message, error.value)

    def attempt(self, path: KeyPath, build: Callable[[], T], *, own_field: bool = True) -> T | None:
        """``build()``, or ``None`` with its error recorded under ``path``.

        With ``own_field=False`` the error's own field is dropped (core objects that name
        fields in their own terms).
        """
        try:
            return build()
        except ValidationError as error:
            self.error(path, error if own_field else attrs.evolve(error, field=None))
        except UnknownKeyError as error:
            self.error(path, error)
        return None


_MISSING: Any = object()


class _Table:
    """A TOML table being read: typed getters that record problems instead of raising.

    Every getter registers its key as known, so :meth:`finish` can report the keys nobody
    asked for, with the nearest known one suggested.
    """

    def __init__(self, data: Mapping[str, Any], path: KeyPath, problems: _Problems) -> None:
        self.data = data
        self.path = path
        self.problems = problems
        self.known: list[str] = []

    def at(self, *keys: str | int) -> KeyPath:
        return (*self.path, *keys)

    def problem(self, key: str | int | None, message: str, value: object = None) -> None:
        self.problems.add(self.path if key is None else self.at(key), message, value)

    def raw(self, key: str) -> Any:
        if key not in self.known:
            self.known.append(key)
        return self.data.get(key, _MISSING)

    def has(self, key: str) -> bool:
        return self.raw(key) is not _MISSING

    def finish(self) -> None:
        for key in self.data:
            if key not in self.known:
                hint = _suggest(key, self.known)
                if not hint:
                    hint = f" (expected one of: {', '.join(self.known)})" if self.known else ""
                self.problem(key, f"unknown key{hint}", key)

    def _absent(self, key: str, expected: str, required: bool) -> None:
        if required:
            self.problem(key, f"missing; expected {expected}")

    def text(self, key: str, *, required: bool = False, default: str = "") -> str:
        value = self.raw(key)
        if value is _MISSING:
            self._absent(key, "a string", required)
            return default
        if not isinstance(value, str) or (required and not value.strip()):
            self.problem(key, f"expected a non-empty string, got {_shown(value)}", value)
            return default
        return value.strip()

    def texts(self, key: str, *, required: bool = False) -> tuple[str, ...]:
        value = self.raw(key)
        if value is _MISSING:
            self._absent(key, "an array of strings", required)
            return ()
        if not isinstance(value, list):
            self.problem(key, f"expected an array of strings, got {_shown(value)}", value)
            return ()
        if required and not value:
            self.problem(key, "expected at least one entry")
        result: list[str] = []
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                result.append(item.strip())
            else:
                self.problems.add(self.at(key, index), f"expected a string, got {_shown(item)}")
        return tuple(result)

    def boolean(self, key: str, *, default: bool) -> bool:
        value = self.raw(key)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.problem(key, f"expected true or false, got {_shown(value)}", value)
            return default
        return value

    def integer(self, key: str, *, minimum: int = 0, required: bool = False) -> int | None:
        value = self.raw(key)
        if value is _MISSING:
            self._absent(key, f"a whole number >= {minimum}", required)
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(key, f"expected a whole number, got {_shown(value)}", value)
            return None
        if value < minimum:
            self.problem(key, f"expected a whole number >= {minimum}, got {value}", value)
            return None
        return value

    def money(
        self, key: str, *, required: bool = False, positive: bool = False, what: str = "an amount"
    ) -> Decimal | None:
        value = self.raw(key)
        if value is _MISSING:
            self._absent(key, f"{what} like 5000", required)
            return None
        if not isinstance(value, int | float | str) or isinstance(value, bool):
            self.problem(key, f"expected {what} like 5000, got {_shown(value)}", value)
            return None
        try:
            amount = to_money(value)
        except ValidationError as error:
            self.problem(key, error.message, value)
            return None
        if amount < 0:
            self.problem(key, f"must not be negative, got {amount}", value)
            return None
        if positive and amount == 0:
            self.problem(key, "must be greater than zero, got 0", value)
            return None
        return amount

    def rate(
        self, key: str, *, required: bool = False, above_zero: bool = False
    ) -> Fraction | None:
        value = self.raw(key)
        if value is _MISSING:
            self._absent(key, 'a rate like 0.25 or "25%"', required)
            return None
        if not isinstance(value, int | float | str) or isinstance(value, bool):
            self.problem(key, f'expected a rate like 0.25 or "25%", got {_shown(value)}', value)
            return None
        try:
            share = to_rate(value)
        except ValidationError as error:
            self.problem(key, error.message, value)
            return None
        if not 0 <= share <= 1:
            self.problem(key, f"expected a rate between 0 and 1, got {format_rate(share)}", value)
            return None
        if above_zero and share == 0:
            self.problem(key, "expected a rate above 0, got 0%", value)
            return None
        return share

    def duration(self, key: str, *, required: bool = False) -> timedelta | None:
        value = self.raw(key)
        if value is _MISSING:
            self._absent(key, 'a duration like "1h"', required)
            return None
        try:
            return parse_duration(value)
        except ValidationError as error:
            self.problem(key, error.message, value)
            return None

    def day(self, key: str, *, required: bool = False) -> date | None:
        value = self.raw(key)
        if value is _MISSING:
            self._absent(key, "a date like 2020-01-01", required)
            return None
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        elif isinstance(value, date) and not isinstance(value, datetime):
            return value
        self.problem(key, f"expected a date like 2020-01-01, got {_shown(value)}", value)
        return None

    def moment(self, key: str) -> date | datetime | None:
        """A date, or an aware date-time; a naive date-time is an error."""
        value = self.raw(key)
        if value is _MISSING:
            return None
        if isinstance(value, str):
            text = value.strip()
            try:
                value = (
                    date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
                )
            except ValueError:
                self.problem(
                    key, f"expected a date or a date-time with its offset, got {value!r}", value
                )
                return None
        if isinstance(value, datetime):
            if value.utcoffset() is None:
                self.problem(
                    key,
                    f"expected a timezone-aware date-time like {value.date()}T10:00:00-05:00, "
                    f"got naive {value.isoformat()}",
                    value,
                )
                return None
            return value
        if isinstance(value, date):
            return value
        self.problem(key, f"expected a date or a date-time, got {_shown(value)}", value)
        return None

    def choice(self, key: str, options: Sequence[str], *, default: str) -> str:
        value = self.raw(key)
        if value is _MISSING:
            return default
        if isinstance(value, str) and value.strip().lower() in options:
            return value.strip().lower()
        hint = _suggest(value, options) if isinstance(value, str) else ""
        self.problem(key, f"expected one of {', '.join(options)}, got {_shown(value)}{hint}", value)
        return default

    def period(self, key: str, *, default: Period | None = None) -> Period | None:
        value = self.raw(key)
        if value is _MISSING:
            if default is None:
                self._absent(key, "a period: week, month, quarter or year", True)
            return default
        try:
            return Period.parse(value)
        except ValidationError as error:
            hint = _suggest(value, [p.value for p in Period]) if isinstance(value, str) else ""
            self.problem(key, error.message + hint, value)
            return default

    def table(self, key: str, *, required: bool = False, why: str = "") -> _Table | None:
        value = self.raw(key)
        if value is _MISSING:
            if required:
                self.problem(key, f"missing section [{key_path(self.at(key))}]{why}")
            return None
        if not isinstance(value, Mapping):
            self.problem(key, f"expected a table, got {_shown(value)}", value)
            return None
        return _Table(value, self.at(key), self.problems)

    def tables(self, key: str, *, required: bool = False) -> list[_Table]:
        """A table or an array of tables, as a list."""
        value = self.raw(key)
        if value is _MISSING:
            if required:
                self.problem(key, f"missing section [{key_path(self.at(key))}]")
            return []
        if isinstance(value, Mapping):
            return [_Table(value, self.at(key), self.problems)]
        if isinstance(value, list) and all(isinstance(item, Mapping) for item in value):
            return [_Table(item, self.at(key, i), self.problems) for i, item in enumerate(value)]
        self.problem(key, f"expected a table or an array of tables, got {_shown(value)}", value)
        return []

    def entries(self) -> list[tuple[str, Any]]:
        """Every key and value: for tables whose keys are names (sources, counts)."""
        for key in self.data:
            self.raw(key)
        return list(self.data.items())


# --- words ---------------------------------------------------------------------------------------

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _long_date(day: date) -> str:
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def _join(items: Sequence[str], word: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def _plural(count: int, singular: str, plural: str = "") -> str:
    if count == 1:
        return singular
    if plural:
        return plural
    if singular.endswith("y") and singular[-2:-1] not in tuple("aeiou"):
        return singular[:-1] + "ies"
    if singular.endswith(("s", "x", "ch", "sh")):
        return singular + "es"
    return singular + "s"


def _count_of(count: int, singular: str, plural: str = "") -> str:
    return f"{format_count(count)} {_plural(count, singular, plural)}"


def _span_words(duration: timedelta, *, business: bool = False) -> str:
    """``"1 business hour"``, ``"24 hours"``, ``"14 days"``, ``"30 minutes"``."""
    seconds = int(duration.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    prefix = "business " if business else ""
    if not business and seconds % 86400 == 0 and seconds > 3 * 86400:
        return _count_of(seconds // 86400, "day")
    if hours and minutes:
        return f"{_count_of(hours, prefix + 'hour')} {_count_of(minutes, 'minute')}"
    if hours:
        return _count_of(hours, prefix + "hour")
    return _count_of(max(minutes, 1), prefix + "minute")


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ":")) else text + "."


def _number(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


def _decimal(rate: Fraction) -> Decimal:
    return Decimal(rate.numerator) / Decimal(rate.denominator)


# --- the sections --------------------------------------------------------------------------------


def _team_name(team: Team) -> str:
    return team.value.capitalize()


@attrs.frozen(kw_only=True)
class Party:
    """One side of the agreement.

    Attributes:
        team: Marketing or sales.
        name: What the document calls the team (default "Marketing" or "Sales").
        leader: Who leads it, e.g. "the Chief Marketing Officer".

    """

    team: Team
    name: str
    leader: str = ""


@attrs.frozen(kw_only=True)
class Signatory:
    """Someone who signs the agreement.

    Attributes:
        title: Their role, e.g. "Chief Marketing Officer".
        name: Their name; empty leaves a line to fill in.
        team: Their team, or ``None`` for someone above both (a CEO).
        signed_at: When they signed (a date, or an aware date-time), if they have.

    """

    title: str
    name: str = ""
    team: Team | None = None
    signed_at: date | datetime | None = None


@attrs.frozen(kw_only=True)
class HandoffTerms:
    """How a lead passes from marketing to sales (seeds 002 and 004).

    Attributes:
        stage: The stage whose entry hands a lead to sales (e.g. ``"mql"``); the response
            clock starts when the rep is notified of it.
        notified_by: What notifies the rep, e.g. "the marketing automation platform".
        information: What marketing passes with each lead.
        exit_stages: Stages outside the ladder that take a lead out of the sales clocks
            (disqualified, recycled...).

    """

    stage: str
    notified_by: str = ""
    information: tuple[str, ...] = ()
    exit_stages: tuple[str, ...] = DEFAULT_EXIT_STAGES


@attrs.frozen(kw_only=True)
class Persona:
    """A buyer persona both teams agree on (seed 004).

    Attributes:
        key: A short identifier, used as a segment name.
        name: The persona's name.
        description: Who they are.

    """

    key: str
    name: str
    description: str = ""


@attrs.frozen(kw_only=True)
class CompanyGoals:
    """The revenue goals both teams share (seed 000, goals 1-3).

    Attributes:
        annual_revenue: The annual revenue goal.
        year: The year of the goal.
        target_month: The month (1-12) by which the new monthly run rate is reached.
        current_annual_revenue: Annual revenue today, where the ramp starts, if given.

    """

    annual_revenue: Decimal
    year: int
    target_month: int
    current_annual_revenue: Decimal | None = None

    def run_rate(self) -> RunRate:
        """The goal's monthly run rate: $15,000,000 a year is $1,250,000 a month."""
        return run_rate(self.annual_revenue)

    def current_run_rate(self) -> RunRate | None:
        """Today's monthly run rate, if today's annual revenue is given."""
        if self.current_annual_revenue is None:
            return None
        return run_rate(self.current_annual_revenue)

    def plan(self, actuals: Sequence[Decimal | int | str] = ()) -> CatchUp:
        """The catch-up plan for the year (see :func:`~slacore.planning.goals.catch_up`).

        Raises:
            PlanError: No current revenue and too few actuals to ramp from.

        """
        current = self.current_run_rate()
        return catch_up(
            self.annual_revenue,
            target_month=self.target_month,
            actuals=actuals,
            current_run_rate=None if current is None else current.per_period,
            year=self.year,
        )

    def monthly_target(self, month: int) -> Decimal:
        """The revenue target of a month of the goal year (1-12): the plan's amount for it.

        Before the target month that is the ramp from today's run rate (or the run rate
        itself without one); from the target month on, what the month must bring.
        """
        if self.current_annual_revenue is None and month < self.target_month:
            return self.run_rate().per_period
        return self.plan().months[month - 1].amount


@attrs.frozen(kw_only=True)
class LeadValueCommitment:
    """Marketing's lead-value quota (seeds 000 and 001).

    Attributes:
        amount: Lead value to deliver each period.
        values: The value of one lead of each source (or segment).
        basis: ``"source"`` or ``"segment"``: what the values are keyed by.
        workings: For values given as close rate x average deal value, the working.
        sample: A sample period's leads per source, to show the quota is reachable.

    """

    amount: Decimal
    values: LeadValueTable
    basis: str = "source"
    workings: tuple[LeadValue, ...] = ()
    sample: tuple[tuple[str, int], ...] = ()

    def sample_period(self) -> MixValue | None:
        """The sample's lead value against the quota, or ``None`` without a sample."""
        if not self.sample:
            return None
        return self.values.value_of(dict(self.sample), quota=self.amount)


@attrs.frozen(kw_only=True)
class LeadCountCommitment:
    """Marketing's lead-count quota (seed 001: 1,000 leads a month).

    Attributes:
        count: Leads to deliver each period.
        funnel: The team's funnel plan the count comes from, with the capacity check, if
            given.
        per_rep: The same plan for one rep, if given.

    """

    count: int
    funnel: FunnelPlan | None = None
    per_rep: FunnelPlan | None = None

    @property
    def capacity(self) -> int | None:
        """Leads sales can work in a period, if the funnel gives reps and leads per rep."""
        if self.funnel is None or self.funnel.capacity is None:
            return None
        return self.funnel.capacity.capacity


@attrs.frozen(kw_only=True)
class PacingRule:
    """How evenly marketing must deliver (see :func:`slacore.planning.pacing.pace`).

    Attributes:
        tolerance: Within this share of the straight line, delivery is on pace.
        loading_tolerance: A period with at least 50% plus this share of its delivery in
            the first half of its business days is front-loaded; at most 50% minus it,
            back-loaded.

    """

    tolerance: Fraction = Fraction(1, 10)
    loading_tolerance: Fraction = Fraction(1, 5)


@attrs.frozen(kw_only=True)
class MarketingCommitments:
    """What marketing promises each period.

    Attributes:
        lead_value: The lead-value quota, if any.
        leads: The lead-count quota, if any (at least one of the two is given).
        pacing: How evenly it must arrive.

    """

    lead_value: LeadValueCommitment | None = None
    leads: LeadCountCommitment | None = None
    pacing: PacingRule = PacingRule()


@attrs.frozen(kw_only=True)
class LeadFilter:
    """Which hand-offs a sales rule covers, as the agreement states it.

    :meth:`eligibility` builds the :mod:`slacore.rules.eligibility` selector; :meth:`words` says it
    in the document's words.

    Attributes:
        hand_raisers: Only leads that asked for sales follow-up.
        sources, segments, stages: Only these (each empty: no restriction).
        exclude_sources, exclude_segments, exclude_stages: Never these.

    """

    hand_raisers: bool = False
    sources: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    exclude_sources: tuple[str, ...] = ()
    exclude_segments: tuple[str, ...] = ()
    exclude_stages: tuple[str, ...] = ()

    def eligibility(self) -> Eligibility:
        """The selector: every restriction and exclusion combined with ``&``."""
        parts: list[Eligibility] = []
        if self.hand_raisers:
            parts.append(hand_raisers())
        if self.sources:
            parts.append(source(*self.sources))
        if self.segments:
            parts.append(segment(*self.segments))
        if self.stages:
            parts.append(stage(*self.stages))
        if self.exclude_sources:
            parts.append(~source(*self.exclude_sources))
        if self.exclude_segments:
            parts.append(~segment(*self.exclude_segments))
        if self.exclude_stages:
            parts.append(~stage(*self.exclude_stages))
        if not parts:
            return ALL
        selector = parts[0]
        for part in parts[1:]:
            selector = selector & part
        return selector

    def words(self, ladder: StageLadder = STANDARD_LADDER) -> str:
        """``"every lead that requests follow-up, except webinar leads"``."""

        def labels(keys: Sequence[str]) -> str:
            return _join([ladder.get(k).label if k in ladder else k for k in keys], "or")

        text = "every lead"
        if self.sources:
            text += f" from {_join(self.sources, 'or')}"
        if self.segments:
            text += f" in the {_join(self.segments, 'or')} {_plural(len(self.segments), 'segment')}"
        if self.stages:
            text += f" at the {labels(self.stages)} {_plural(len(self.stages), 'stage')}"
        if self.hand_raisers:
            text += " that requests follow-up"
        elif not (self.sources or self.segments or self.stages):
            text += " handed to sales"
        excluded: list[str] = []
        if self.exclude_sources:
            excluded.append(f"{_join(self.exclude_sources, 'or')} leads")
        if self.exclude_segments:
            excluded.append(f"leads in the {_join(self.exclude_segments, 'or')} segment")
        if self.exclude_stages:
            excluded.append(f"leads at the {labels(self.exclude_stages)} stage")
        if excluded:
            text += f", except {_join(excluded)},"
        return text


@attrs.frozen(kw_only=True)
class ResponseCommitment:
    """A response-time promise: the core rule and the words of its scope.

    Attributes:
        rule: The :class:`~slacore.rules.ResponseRule` (evaluate data with it).
        applies_to: Its scope as written in the agreement.

    """

    rule: ResponseRule
    applies_to: LeadFilter = LeadFilter()


@attrs.frozen(kw_only=True)
class CadenceCommitment:
    """A touch-cadence promise: the core rule and the words of its scope.

    Attributes:
        rule: The :class:`~slacore.rules.CadenceRule`.
        applies_to: Its scope as written in the agreement.

    """

    rule: CadenceRule
    applies_to: LeadFilter = LeadFilter()


@attrs.frozen(kw_only=True)
class SalesCommitments:
    """What sales promises.

    Attributes:
        response: Response-time rules.
        cadence: Touch-cadence rules.
        milestones: Goals that change by date (close rate, cycle days).
        process: Process commitments, in words.

    """

    response: tuple[ResponseCommitment, ...] = ()
    cadence: tuple[CadenceCommitment, ...] = ()
    milestones: tuple[MilestoneGoal, ...] = ()
    process: tuple[str, ...] = ()


class CommitmentKind(enum.StrEnum):
    """Seed 003's kinds of marketing SLA beyond lead generation."""

    CONTENT = "content"
    CAMPAIGN = "campaign"
    REPORTING = "reporting"
    TRAINING = "training"
    OTHER = "other"


@attrs.frozen(kw_only=True)
class Deliverable:
    """``count`` of ``item`` per period: 4 blog posts.

    Attributes:
        count: How many.
        item: What, in the singular ("blog post").
        plural: The plural, when adding "s" is wrong.

    """

    count: int
    item: str
    plural: str = ""

    def words(self) -> str:
        """``"4 blog posts"``."""
        return _count_of(self.count, self.item, self.plural)


@attrs.frozen(kw_only=True)
class Commitment:
    """A generic promise: "team A delivers N of X per period; team B does Y" (seed 003).

    Attributes:
        name: A short name, unique in the agreement.
        kind: Content, campaign, reporting, training or other.
        team: The team that delivers.
        deliverables: What it delivers each period.
        per: The period.
        verb: The verb of the promise ("deliver", "launch", "run").
        in_return: What the other team does with it.
        within: The window the other team has, if any.

    """

    name: str
    kind: CommitmentKind
    team: Team
    deliverables: tuple[Deliverable, ...]
    per: Period
    verb: str = "deliver"
    in_return: str = ""
    within: timedelta | None = None

    @property
    def other_team(self) -> Team:
        """The team on the receiving side."""
        return Team.SALES if self.team is Team.MARKETING else Team.MARKETING

    def describe(self) -> str:
        """The promise in one sentence."""
        items = _join([d.words() for d in self.deliverables])
        text = f"{_team_name(self.team)} will {self.verb} {items} each {self.per}"
        if self.in_return:
            text += f"; {self.other_team.value} will {self.in_return}"
            if self.within is not None:
                text += f" within {_span_words(self.within)}"
        return text + "."


@attrs.frozen(kw_only=True)
class Meeting:
    """A recurring meeting of the teams (seed 000).

    Attributes:
        name: Its name ("Weekly leadership huddle").
        attendees: Who meets, as a plural phrase ("the leaders of marketing and sales").
        every: How often.
        length: How long.
        agenda: What they do there.

    """

    name: str
    attendees: str
    every: Period
    length: timedelta
    agenda: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Communication:
    """How the teams give feedback and meet.

    Attributes:
        feedback_within: Feedback between the teams is shared within this time.
        feedback_at: Where it is discussed to resolution.
        marketing_feedback: What marketing gives feedback on.
        sales_feedback: What sales gives feedback on.
        meetings: The meeting rhythm.

    """

    feedback_within: timedelta | None = None
    feedback_at: str = ""
    marketing_feedback: str = ""
    sales_feedback: str = ""
    meetings: tuple[Meeting, ...] = ()


@attrs.frozen(kw_only=True)
class ConflictResolution:
    """Who settles what the teams cannot (seed 000).

    Attributes:
        panel: The panel's members.
        time_per_side: How long each team presents.
        binding: Whether the decision binds both teams.
        arbiter: A sole arbiter who replaces the panel where the role exists (a CRO).

    """

    panel: tuple[str, ...] = ()
    time_per_side: timedelta | None = None
    binding: bool = True
    arbiter: str = ""


@attrs.frozen(kw_only=True)
class Rewards:
    """What the teams earn together (seed 000).

    Attributes:
        pool: The pool shared each period when the shared goals are met, if any.
        condition: When the pool is earned, in words.
        distribution: How it is shared out.
        annual: The annual reward, in words, if any.
        annual_condition: When it is earned.

    """

    pool: Decimal | None = None
    condition: str = "both teams hit their goals and the company's revenue goal"
    distribution: str = ""
    annual: str = ""
    annual_condition: str = "both teams hit their annual goals and the company's revenue goal"


@attrs.frozen(kw_only=True)
class Rung:
    """A step of the ramifications ladder: what happens once shared goals are missed this long.

    Attributes:
        after: How long the goals have been missed ("30 days").
        periods: The same in the agreement's periods, rounded up (30 days = 1 month).
        actions: What happens.

    """

    after: timedelta
    periods: int
    actions: tuple[str, ...]

    def title(self) -> str:
        """``"Shared goals not met after 30 days"``."""
        return f"Shared goals not met after {_span_words(self.after)}"


@attrs.frozen(kw_only=True)
class ReviewTrigger:
    """An early review when a conversion rate falls below a threshold (seed 004).

    Attributes:
        from_stage: The stage converted from (``"lead"``).
        to_stage: The stage converted to (``"mql"``).
        below: The threshold.
        name: Its name ("lead-to-MQL conversion").

    """

    from_stage: str
    to_stage: str
    below: Fraction
    name: str

    @property
    def key(self) -> str:
        """``"lead->mql"``: how a scorecard names its actual."""
        return f"{self.from_stage}->{self.to_stage}"


@attrs.frozen(kw_only=True)
class Review:
    """The living document's review rhythm (seed 004).

    Attributes:
        every: How often it is reviewed (at least quarterly, seed 004 says).
        first: The first review, if not one period after the effective date.
        triggers: Early-review triggers.

    """

    every: Period
    first: date | None = None
    triggers: tuple[ReviewTrigger, ...] = ()


@attrs.frozen(kw_only=True)
class Termination:
    """When the agreement ends (seed 002).

    Attributes:
        unmet_periods: Ends when shared goals stay unmet this many periods running.
        approval_withdrawn: Ends when the parties no longer approve it.

    """

    unmet_periods: int | None = None
    approval_withdrawn: bool = False


# --- reading the sections ------------------------------------------------------------------------


@attrs.define
class _Context:
    """What section readers share: the problems, and what earlier sections settled."""

    problems: _Problems
    period: Period = Period.MONTH
    effective: date | None = None
    calendar: BusinessCalendar | None = None
    ladder: StageLadder = STANDARD_LADDER
    exits: tuple[str, ...] = DEFAULT_EXIT_STAGES

    def stage_keys(
        self, table: _Table, key: str, *, exits: bool = False, required: bool = False
    ) -> tuple[str, ...]:
        """Stage keys from ``table[key]``, each checked against the ladder (and exit stages)."""
        keys = table.texts(key, required=required)
        known = [*self.ladder.keys, *(self.exits if exits else ())]
        for index, name in enumerate(keys):
            if name not in known:
                table.problems.add(
                    table.at(key, index), f"unknown stage {name!r}{_suggest(name, known)}", name
                )
        return keys

    def stage_key(self, table: _Table, key: str, *, required: bool = True) -> str | None:
        name = table.text(key, required=required)
        if not name:
            return None
        if name not in self.ladder:
            keys = self.ladder.keys
            table.problem(key, f"unknown stage {name!r}{_suggest(name, keys)}", name)
            return None
        return name


def _read_header(root: _Table, ctx: _Context) -> dict[str, Any] | None:
    head = root.table("agreement", required=True, why=": the company, version and dates")
    if head is None:
        return None
    found: dict[str, Any] = {
        "title": head.text("title", default="Service-level agreement between marketing and sales"),
        "company": head.text("company", required=True),
        "version": head.text("version", required=True),
        "effective": head.day("effective", required=True),
        "expires": head.day("expires"),
        "period": head.period("period", default=Period.MONTH),
    }
    head.finish()
    if found["effective"] and found["expires"] and found["expires"] <= found["effective"]:
        head.problem("expires", f"must be after effective {found['effective']}")
    ctx.period = found["period"] or Period.MONTH
    ctx.effective = found["effective"]
    return found


def _read_parties(root: _Table) -> tuple[Party, ...]:
    table = root.table("parties")
    parties: list[Party] = []
    for team in Team:
        side = table.table(team.value) if table is not None else None
        if side is None:
            parties.append(Party(team=team, name=_team_name(team)))
            continue
        parties.append(
            Party(
                team=team,
                name=side.text("name", default=_team_name(team)),
                leader=side.text("leader"),
            )
        )
        side.finish()
    if table is not None:
        table.finish()
    return tuple(parties)


def _read_calendar(root: _Table, ctx: _Context) -> None:
    table = root.table("calendar")
    if table is None:
        return
    given = {
        key: table.raw(key)
        for key in ("timezone", "hours", "holidays", "overrides")
        if table.has(key)
    }
    table.finish()
    ctx.calendar = ctx.problems.attempt(table.path, lambda: BusinessCalendar(**given))


def _read_stages(root: _Table, ctx: _Context) -> None:
    stages: list[LeadStage] = []
    seen: set[str] = set()
    items = root.tables("stages")
    for index, item in enumerate(items):
        key = item.text("key", required=True)
        label = item.text("label", default=key)
        owner = item.choice("owner", [t.value for t in Team], default="")
        if not item.has("owner"):
            item.problem("owner", "missing; expected marketing or sales")
        order = item.integer("order", minimum=0)
        definition = item.text("definition")
        trigger = item.text("handoff_trigger")
        item.finish()
        if key in seen:
            item.problem("key", f"stage {key!r} is defined twice", key)
            continue
        seen.add(key)
        if key and owner:
            made = ctx.problems.attempt(
                item.path,
                functools.partial(
                    LeadStage,
                    key=key,
                    label=label,
                    order=(index + 1) * 10 if order is None else order,
                    owner=owner,
                    definition=definition,
                    handoff_trigger=trigger,
                ),
            )
            if made is not None:
                stages.append(made)
    if items and len(stages) == len(items):
        ladder = ctx.problems.attempt(root.at("stages"), lambda: StageLadder(stages))
        if ladder is not None:
            ctx.ladder = ladder


def _read_handoff(root: _Table, ctx: _Context) -> HandoffTerms | None:
    table = root.table("handoff")
    pairs = list(ctx.ladder.handoffs())
    default = pairs[0][0].key if pairs else None
    if table is None:
        return None if default is None else HandoffTerms(stage=default)
    exits = table.texts("exit_stages") if table.has("exit_stages") else DEFAULT_EXIT_STAGES
    ctx.exits = exits
    name = ctx.stage_key(table, "stage", required=default is None) or default
    terms = HandoffTerms(
        stage=name or "",
        notified_by=table.text("notified_by"),
        information=table.texts("information"),
        exit_stages=exits,
    )
    table.finish()
    return terms if name else None


def _read_personas(root: _Table) -> tuple[Persona, ...]:
    personas: list[Persona] = []
    for item in root.tables("personas"):
        persona = Persona(
            key=item.text("key", required=True),
            name=item.text("name", required=True),
            description=item.text("description"),
        )
        item.finish()
        personas.append(persona)
    return tuple(personas)


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _read_goals(root: _Table) -> CompanyGoals | None:
    table = root.table("goals")
    if table is None:
        return None
    annual = table.money("annual_revenue", required=True, positive=True)
    current = table.money("current_annual_revenue", positive=True)
    by = table.raw("run_rate_by")
    table.finish()
    year = month = None
    if by is _MISSING:
        table.problem(
            "run_rate_by", 'missing; expected the month the run rate is reached, "2020-06"'
        )
    elif isinstance(by, date):
        year, month = by.year, by.month
    elif isinstance(by, str) and (match := _MONTH.match(by.strip())) and 1 <= int(match[2]) <= 12:
        year, month = int(match[1]), int(match[2])
    else:
        table.problem("run_rate_by", f'expected a month like "2020-06", got {_shown(by)}', by)
    if annual is None or year is None or month is None:
        return None
    return CompanyGoals(
        annual_revenue=annual, year=year, target_month=month, current_annual_revenue=current
    )


def _read_values(table: _Table, ctx: _Context) -> tuple[LeadValueTable, tuple[LeadValue, ...]]:
    amounts: dict[str, Decimal] = {}
    workings: list[LeadValue] = []
    for name, value in table.entries():
        if isinstance(value, Mapping):
            part = _Table(value, table.at(name), ctx.problems)
            rate = part.rate("close_rate", required=True)
            deal = part.money("average_deal_value", required=True)
            part.finish()
            if rate is not None and deal is not None:
                worked = lead_value(rate, deal, segment=name)
                workings.append(worked)
                amounts[name] = worked.value
        else:
            amount = table.money(name)
            if amount is not None:
                amounts[name] = amount
    if not table.data:
        table.problem(None, "expected at least one source with its lead value")
    return LeadValueTable.from_mapping(amounts), tuple(workings)


def _read_lead_value(table: _Table, ctx: _Context) -> LeadValueCommitment | None:
    amount = table.money("amount", required=True, positive=True)
    basis = table.choice("basis", ("source", "segment"), default="source")
    values_table = table.table("values", required=True, why=": the value of a lead of each source")
    sample_table = table.table("sample")
    table.finish()
    if values_table is None:
        return None
    values, workings = _read_values(values_table, ctx)
    sample: list[tuple[str, int]] = []
    names = tuple(values)  # not `in values`: LeadValueTable raises for an unknown key
    if sample_table is not None:
        for name, _ in sample_table.entries():
            count = sample_table.integer(name)
            if name not in names:
                sample_table.problem(
                    name, f"no lead value for {name!r}{_suggest(name, names)}", name
                )
            elif count is not None:
                sample.append((name, count))
    if amount is None or len(values) != len(values_table.data):
        return None
    return LeadValueCommitment(
        amount=amount, values=values, basis=basis, workings=workings, sample=tuple(sample)
    )


def _read_funnel(table: _Table, ctx: _Context) -> tuple[FunnelPlan, FunnelPlan] | None:
    deals = table.integer("deals_per_rep", minimum=1, required=True)
    outcome = table.text("outcome", default="deal")
    reps = table.integer("reps", minimum=1, required=True)
    per_rep = table.integer("leads_per_rep", minimum=1, required=True)
    stages: list[tuple[str, Fraction]] = []
    items = table.tables("stages", required=True)
    for item in items:
        name = item.text("name", required=True)
        rate = item.rate("rate", required=True, above_zero=True)
        item.finish()
        if name and rate is not None:
            stages.append((name, rate))
    table.finish()
    if deals is None or reps is None or per_rep is None or len(stages) != len(items) or not items:
        return None
    one = ctx.problems.attempt(
        table.path, lambda: reverse_funnel(deals=deals, stages=stages, outcome=outcome)
    )
    if one is None:
        return None
    team = one.for_reps(reps).with_capacity(reps=reps, leads_per_rep=per_rep)
    return team, one


def _read_leads(table: _Table, ctx: _Context) -> LeadCountCommitment | None:
    has_count = table.has("count")
    count = table.integer("count", minimum=1)
    funnel_table = table.table("funnel")
    table.finish()
    if not has_count and funnel_table is None:
        table.problem("count", "missing; expected the leads to deliver each period, or a funnel")
        return None
    plans = None if funnel_table is None else _read_funnel(funnel_table, ctx)
    if (has_count and count is None) or (funnel_table is not None and plans is None):
        return None
    if plans is None:
        assert count is not None
        return LeadCountCommitment(count=count)
    team, one = plans
    if count is None:
        count = team.leads_needed
    elif count < team.leads_needed:
        table.problem(
            "count",
            f"{format_count(count)} leads is fewer than the {format_count(team.leads_needed)} "
            "the funnel needs",
            count,
        )
        return None
    return LeadCountCommitment(count=count, funnel=team, per_rep=one)


def _read_marketing(root: _Table, ctx: _Context) -> MarketingCommitments | None:
    table = root.table("marketing", required=True, why=": what marketing delivers each period")
    if table is None:
        return None
    value_table = table.table("lead_value")
    leads_table = table.table("leads")
    pacing_table = table.table("pacing")
    table.finish()
    if value_table is None and leads_table is None:
        table.problem(None, "expected [marketing.lead_value] or [marketing.leads] (or both)")
        return None
    value = None if value_table is None else _read_lead_value(value_table, ctx)
    leads = None if leads_table is None else _read_leads(leads_table, ctx)
    pacing = PacingRule()
    if pacing_table is not None:
        tolerance = pacing_table.rate("tolerance")
        loading = pacing_table.rate("loading_tolerance")
        pacing_table.finish()
        if loading is not None and loading >= Fraction(1, 2):
            pacing_table.problem("loading_tolerance", "expected a share below 50%", loading)
            loading = None
        options: dict[str, Fraction] = {}
        if tolerance is not None:
            options["tolerance"] = tolerance
        if loading is not None:
            options["loading_tolerance"] = loading
        pacing = PacingRule(**options)
    if (value_table is not None and value is None) or (leads_table is not None and leads is None):
        return None
    return MarketingCommitments(lead_value=value, leads=leads, pacing=pacing)


def _read_filter(parent: _Table, ctx: _Context) -> LeadFilter:
    table = parent.table("applies_to")
    if table is None:
        return LeadFilter()
    found = LeadFilter(
        hand_raisers=table.boolean("hand_raisers", default=False),
        sources=table.texts("sources"),
        segments=table.texts("segments"),
        stages=ctx.stage_keys(table, "stages"),
        exclude_sources=table.texts("exclude_sources"),
        exclude_segments=table.texts("exclude_segments"),
        exclude_stages=ctx.stage_keys(table, "exclude_stages"),
    )
    table.finish()
    return found


_CHANNELS = tuple(c.value for c in Channel)


def _read_channels(table: _Table, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    if not table.has(key):
        return default
    names = table.texts(key, required=True)
    for index, name in enumerate(names):
        if name.lower() not in _CHANNELS:
            table.problems.add(
                table.at(key, index),
                f"expected one of {', '.join(_CHANNELS)}, got {name!r}{_suggest(name, _CHANNELS)}",
                name,
            )
    return tuple(n.lower() for n in names)


def _clock_needs_calendar(table: _Table, clock: str, ctx: _Context) -> bool:
    if clock == Clock.BUSINESS and ctx.calendar is None:
        table.problem(
            "clock",
            'the business clock needs a [calendar] section (or clock = "calendar")',
            clock,
        )
        return False
    return True


def _read_response(table: _Table, ctx: _Context) -> ResponseCommitment | None:
    name = table.text("name", default="response")
    within = table.duration("within", required=True)
    clock = table.choice("clock", ("business", "calendar"), default="business")
    applies = _read_filter(table, ctx)
    counts = _read_channels(table, "counts", ("call", "email", "meeting"))
    target = table.rate("target")
    at_risk = table.rate("at_risk_at", above_zero=True)
    stops = ctx.stage_keys(table, "stop_stages", exits=True)
    on_reassign = table.choice("on_reassign", ("continue", "restart"), default="continue")
    withdraw_on = (
        ctx.stage_keys(table, "withdraw_on", exits=True) if table.has("withdraw_on") else ctx.exits
    )
    table.finish()
    if within is None or not _clock_needs_calendar(table, clock, ctx):
        return None
    rule = ctx.problems.attempt(
        table.path,
        lambda: ResponseRule(
            name=name,
            within=within,
            clock=clock,
            calendar=ctx.calendar,
            applies_to=applies.eligibility(),
            counts=counts,
            target=target,
            at_risk_at=Fraction(4, 5) if at_risk is None else at_risk,
            stop=StageReached(*stops) if stops else None,
            on_reassign=on_reassign,
            withdraw_on=withdraw_on,
            ladder=ctx.ladder,
        ),
    )
    return None if rule is None else ResponseCommitment(rule=rule, applies_to=applies)


def _read_cadence(table: _Table, ctx: _Context) -> CadenceCommitment | None:
    name = table.text("name", default="cadence")
    touches = table.integer("min_touches", minimum=1, required=True)
    within = table.duration("within", required=True)
    channels = _read_channels(table, "channels", ("call",))
    clock = table.choice("clock", ("business", "calendar"), default="calendar")
    applies = _read_filter(table, ctx)
    target = table.rate("target")
    at_risk = table.rate("at_risk_at", above_zero=True)
    withdraw_on = (
        ctx.stage_keys(table, "withdraw_on", exits=True) if table.has("withdraw_on") else ctx.exits
    )
    table.finish()
    if touches is None or within is None or not _clock_needs_calendar(table, clock, ctx):
        return None
    rule = ctx.problems.attempt(
        table.path,
        lambda: CadenceRule(
            name=name,
            min_touches=touches,
            within=within,
            channels=channels,
            clock=clock,
            calendar=ctx.calendar,
            applies_to=applies.eligibility(),
            target=target,
            at_risk_at=Fraction(4, 5) if at_risk is None else at_risk,
            withdraw_on=withdraw_on,
            ladder=ctx.ladder,
        ),
    )
    return None if rule is None else CadenceCommitment(rule=rule, applies_to=applies)


def _figure(table: _Table, key: str, *, rate: bool, required: bool = False) -> Decimal | None:
    if rate:
        share = table.rate(key, required=required)
        return None if share is None else _decimal(share)
    return table.money(key, required=required, what="a number")


def _read_milestone(table: _Table, ctx: _Context) -> MilestoneGoal | None:
    metric = table.text("metric", required=True)
    unit = table.text("unit")
    is_rate = unit == "%"
    baseline = _figure(table, "baseline", rate=is_rate, required=True)
    start = table.day("start") if table.has("start") else ctx.effective
    direction = table.choice("direction", ("higher", "lower"), default="higher")
    ramp = table.choice("ramp", ("step", "linear"), default="step")
    items = table.tables("targets", required=True)
    targets: list[tuple[_Table, Milestone]] = []
    for item in items:
        on = item.day("on", required=True)
        figure = _figure(item, "target", rate=is_rate, required=True)
        item.finish()
        if on is not None and figure is not None:
            targets.append((item, Milestone(on=on, target=figure)))
    table.finish()
    if not metric or baseline is None or len(targets) != len(items) or not items:
        return None
    # Checked here, not left to MilestoneGoal, to name the target that moves the wrong way.
    previous = baseline
    for item, milestone in sorted(targets, key=lambda pair: pair[1].on):
        if (
            (milestone.target < previous)
            if direction == "higher"
            else (milestone.target > previous)
        ):
            item.problem(
                "target",
                f"moves away from {_number(previous)} although {direction} is better",
                milestone.target,
            )
            return None
        previous = milestone.target
    return ctx.problems.attempt(
        table.at("targets"),
        lambda: MilestoneGoal(
            metric=metric,
            baseline=baseline,
            milestones=[milestone for _, milestone in targets],
            start=start,
            direction=Direction(direction),
            ramp=Ramp(ramp),
            unit=unit,
        ),
        own_field=False,
    )


def _unique(items: Sequence[tuple[_Table, str]], what: str) -> bool:
    seen: set[str] = set()
    ok = True
    for table, name in items:
        if name in seen:
            table.problem("name", f"two {what} are named {name!r}: give each its own name", name)
            ok = False
        seen.add(name)
    return ok


def _read_sales(root: _Table, ctx: _Context) -> SalesCommitments | None:
    table = root.table("sales", required=True, why=": what sales commits to")
    if table is None:
        return None
    response_tables = table.tables("response")
    cadence_tables = table.tables("cadence")
    milestone_tables = table.tables("milestones")
    process = table.texts("process")
    table.finish()
    if not (response_tables or cadence_tables or milestone_tables or process):
        table.problem(
            None,
            "expected at least one of [sales.response], [sales.cadence], "
            "[[sales.milestones]] or sales.process",
        )
        return None
    response = [_read_response(t, ctx) for t in response_tables]
    cadence = [_read_cadence(t, ctx) for t in cadence_tables]
    milestones = [_read_milestone(t, ctx) for t in milestone_tables]
    ok = _unique(
        [(t, r.rule.name) for t, r in zip(response_tables, response, strict=True) if r], "rules"
    )
    ok &= _unique(
        [(t, c.rule.name) for t, c in zip(cadence_tables, cadence, strict=True) if c], "rules"
    )
    ok &= _unique(
        [(t, m.metric) for t, m in zip(milestone_tables, milestones, strict=True) if m],
        "milestone goals",
    )
    if None in response or None in cadence or None in milestones or not ok:
        return None
    return SalesCommitments(
        response=tuple(r for r in response if r is not None),
        cadence=tuple(c for c in cadence if c is not None),
        milestones=tuple(m for m in milestones if m is not None),
        process=process,
    )


_TEAMS = tuple(t.value for t in Team)


def _read_commitments(root: _Table, ctx: _Context) -> tuple[Commitment, ...] | None:
    tables = root.tables("commitments")
    found: list[Commitment | None] = []
    for table in tables:
        name = table.text("name", required=True)
        kind = table.choice("kind", [k.value for k in CommitmentKind], default="other")
        team = table.choice("team", _TEAMS, default="")
        if not table.has("team"):
            table.problem("team", "missing; expected the team that delivers: marketing or sales")
        verb = table.text("verb", default="deliver")
        per = table.period("per", default=ctx.period)
        in_return = table.text("in_return")
        within = table.duration("within")
        items = table.tables("deliver", required=True)
        deliverables: list[Deliverable] = []
        for item in items:
            count = item.integer("count", minimum=1, required=True)
            thing = item.text("item", required=True)
            plural = item.text("plural")
            item.finish()
            if count is not None and thing:
                deliverables.append(Deliverable(count=count, item=thing, plural=plural))
        table.finish()
        ok = name and team and per and items and len(deliverables) == len(items)
        if table.has("within") and within is None:
            ok = False
        found.append(
            Commitment(
                name=name,
                kind=CommitmentKind(kind),
                team=Team(team),
                deliverables=tuple(deliverables),
                per=per,
                verb=verb,
                in_return=in_return,
                within=within,
            )
            if ok and per is not None
            else None
        )
    ok = _unique([(t, c.name) for t, c in zip(tables, found, strict=True) if c], "commitments")
    if None in found or not ok:
        return None
    return tuple(c for c in found if c is not None)


def _read_communication(root: _Table) -> Communication | None:
    table = root.table("communication")
    if table is None:
        return None
    within = table.duration("feedback_within")
    meetings: list[Meeting] = []
    items = table.tables("meetings")
    feedback_at = table.text("feedback_at")
    marketing = table.text("marketing_feedback")
    sales = table.text("sales_feedback")
    for item in items:
        name = item.text("name", required=True)
        attendees = item.text("attendees", required=True)
        every = item.period("every")
        length = item.duration("length", required=True)
        agenda = item.texts("agenda")
        item.finish()
        if name and attendees and every is not None and length is not None:
            meetings.append(
                Meeting(name=name, attendees=attendees, every=every, length=length, agenda=agenda)
            )
    table.finish()
    return Communication(
        feedback_within=within,
        feedback_at=feedback_at,
        marketing_feedback=marketing,
        sales_feedback=sales,
        meetings=tuple(meetings),
    )


def _read_conflict(root: _Table) -> ConflictResolution | None:
    table = root.table("conflict")
    if table is None:
        return None
    found = ConflictResolution(
        panel=table.texts("panel"),
        time_per_side=table.duration("time_per_side"),
        binding=table.boolean("binding", default=True),
        arbiter=table.text("arbiter"),
    )
    table.finish()
    if not found.panel and not found.arbiter:
        table.problem(None, "expected a panel, an arbiter, or both")
    return found


def _read_rewards(root: _Table) -> Rewards | None:
    table = root.table("rewards")
    if table is None:
        return None
    defaults = Rewards()
    found = Rewards(
        pool=table.money("pool", positive=True),
        condition=table.text("condition", default=defaults.condition),
        distribution=table.text("distribution"),
        annual=table.text("annual"),
        annual_condition=table.text("annual_condition", default=defaults.annual_condition),
    )
    table.finish()
    return found


def _read_ramifications(root: _Table, ctx: _Context) -> tuple[Rung, ...]:
    rungs: list[Rung] = []
    for table in root.tables("ramifications"):
        after = table.duration("after", required=True)
        actions = table.texts("actions", required=True)
        table.finish()
        if after is None:
            continue
        periods = max(1, math.ceil(after / timedelta(days=ctx.period.nominal_days)))
        if rungs and periods <= rungs[-1].periods:
            table.problem(
                "after",
                f"must be later than the rung before ({_span_words(rungs[-1].after)}), "
                f"counted in {ctx.period}s",
            )
            continue
        rungs.append(Rung(after=after, periods=periods, actions=actions))
    return tuple(rungs)


def _read_review(root: _Table, ctx: _Context) -> Review | None:
    table = root.table("review")
    if table is None:
        return None
    every = table.period("every")
    first = table.day("first")
    triggers: list[ReviewTrigger] = []
    for item in table.tables("triggers"):
        start = ctx.stage_key(item, "from")
        end = ctx.stage_key(item, "to")
        below = item.rate("below", required=True, above_zero=True)
        name = item.text("name")
        item.finish()
        if start and end and not ctx.ladder.is_before(start, end):
            item.problem("to", f"stage {end!r} does not come after {start!r}", end)
        elif start and end and below is not None:
            triggers.append(
                ReviewTrigger(
                    from_stage=start,
                    to_stage=end,
                    below=below,
                    name=name or f"{start}-to-{end} conversion",
                )
            )
    table.finish()
    if first is not None and ctx.effective is not None and first <= ctx.effective:
        table.problem("first", f"must be after the effective date {ctx.effective}", first)
    if every is None:
        return None
    return Review(every=every, first=first, triggers=tuple(triggers))


def _read_termination(root: _Table) -> Termination | None:
    table = root.table("termination")
    if table is None:
        return None
    found = Termination(
        unmet_periods=table.integer("unmet_periods", minimum=1),
        approval_withdrawn=table.boolean("approval_withdrawn", default=False),
    )
    table.finish()
    return found


def _read_signatories(root: _Table) -> tuple[Signatory, ...]:
    found: list[Signatory] = []
    for table in root.tables("signatories"):
        title = table.text("title", required=True)
        name = table.text("name")
        team = table.choice("team", _TEAMS, default="") if table.has("team") else ""
        signed = table.moment("signed_at")
        table.finish()
        found.append(
            Signatory(title=title, name=name, team=Team(team) if team else None, signed_at=signed)
        )
    return tuple(found)


_SECTIONS = (
    "agreement",
    "parties",
    "calendar",
    "stages",
    "handoff",
    "personas",
    "goals",
    "marketing",
    "sales",
    "commitments",
    "communication",
    "conflict",
    "rewards",
    "ramifications",
    "review",
    "termination",
    "signatories",
)


def _errors(
    problems: _Problems, source: str | None, lines: KeyLines | None
) -> tuple[ValidationError, ...]:
    errors = [
        ValidationError(
            message=message,
            field=key_path(path) or None,
            value=value,
            file=source,
            line=None if lines is None else lines.line(path),
        )
        for path, message, value in problems.found
    ]
    return tuple(sorted(errors, key=lambda e: e.line or 0))


def _fail(errors: Sequence[ValidationError], source: str | None) -> AgreementError:
    count = len(errors)
    noun = "problem" if count == 1 else "problems"
    return AgreementError(
        message=f"{source or 'the agreement'}: {count} {noun} in the agreement",
        errors=tuple(errors),
        source=source,
    )


@attrs.frozen(kw_only=True)
class Agreement:
    """The service-level agreement between marketing and sales, as both teams sign it.

    Build one with :meth:`load` (a TOML file) or :meth:`from_dict` (the same data as a
    mapping); both validate everything and report every problem at once. The sections are
    frozen attrs objects holding the real core objects: :attr:`response_rules`,
    :attr:`cadence_rules`, :attr:`milestone_goals`, :attr:`lead_values`, :attr:`ladder`
    and :attr:`calendar` evaluate data directly.

    Attributes:
        title: The document's title.
        company: The company.
        version: The agreement's version ("1.0").
        effective: The date it takes effect.
        expires: The date it ends, if fixed.
        period: The measurement period of commitments, scorecards and rewards.
        parties: Marketing and sales, in that order.
        calendar: The business calendar, if the agreement has one.
        ladder: The lead stages (the standard ladder unless the file defines its own).
        handoff: How leads pass from marketing to sales.
        personas: Buyer personas.
        goals: The company's revenue goals, if stated.
        marketing: Marketing's commitments.
        sales: Sales' commitments.
        commitments: Other commitments (content, campaigns, reporting, training).
        communication: Feedback and meetings, if stated.
        conflict: Conflict resolution, if stated.
        rewards: Shared rewards, if any.
        ramifications: The ladder of actions when shared goals are missed, first rung first.
        review: The review rhythm and early-review triggers, if stated.
        termination: When the agreement ends, if stated.
        signatories: Who signs.
        source: The file it was loaded from, if any.

    """

    title: str
    company: str
    version: str
    effective: date
    marketing: MarketingCommitments
    sales: SalesCommitments
    expires: date | None = None
    period: Period = Period.MONTH
    parties: tuple[Party, ...] = (
        Party(team=Team.MARKETING, name="Marketing"),
        Party(team=Team.SALES, name="Sales"),
    )
    calendar: BusinessCalendar | None = None
    ladder: StageLadder = STANDARD_LADDER
    handoff: HandoffTerms | None = None
    personas: tuple[Persona, ...] = ()
    goals: CompanyGoals | None = None
    commitments: tuple[Commitment, ...] = ()
    communication: Communication | None = None
    conflict: ConflictResolution | None = None
    rewards: Rewards | None = None
    ramifications: tuple[Rung, ...] = ()
    review: Review | None = None
    termination: Termination | None = None
    signatories: tuple[Signatory, ...] = ()
    source: str | None = attrs.field(default=None, eq=False)

    # --- building -------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Agreement:
        """Read and validate an agreement from a TOML file.

        Raises:
            AgreementError: The file cannot be read, is not TOML, or the agreement has
                problems; ``errors`` lists each with its key path and line.

        """
        name = os.fspath(path)
        try:
            raw = Path(name).read_bytes()
        except OSError as error:
            problem = ValidationError(
                message=f"cannot read the file: {error.strerror or error}", file=name
            )
            raise _fail([problem], name) from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            problem = ValidationError(
                message=f"not UTF-8 text (byte {error.start})", file=name, line=None
            )
            raise _fail([problem], name) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            detail = str(error)
            found = re.search(r"\(at line (\d+), column \d+\)", detail)
            line = int(found.group(1)) if found else None
            message = re.sub(r"\s*\(at line \d+, column \d+\)", "", detail) or "invalid TOML"
            problem = ValidationError(message=f"not valid TOML: {message}", file=name, line=line)
            raise _fail([problem], name) from None
        return cls._build(data, source=name, lines=scan(text))

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], source: str | os.PathLike[str] | None = None
    ) -> Agreement:
        """Validate an agreement given as a mapping shaped like the TOML file.

        Dates may be ``date`` objects or ISO strings. ``source`` names the origin in errors
        (there are no line numbers without the file's text).

        Raises:
            AgreementError: The agreement has problems; ``errors`` lists each.

        """
        return cls._build(data, source=None if source is None else os.fspath(source), lines=None)

    @classmethod
    def _build(cls, data: object, *, source: str | None, lines: KeyLines | None) -> Agreement:
        problems = _Problems()
        if not isinstance(data, Mapping):
            problems.add((), f"expected a table of sections, got {_shown(data)}")
            raise _fail(_errors(problems, source, lines), source)
        ctx = _Context(problems)
        root = _Table(data, (), problems)
        header = _read_header(root, ctx)
        parties = _read_parties(root)
        _read_calendar(root, ctx)
        _read_stages(root, ctx)
        handoff = _read_handoff(root, ctx)
        personas = _read_personas(root)
        goals = _read_goals(root)
        marketing = _read_marketing(root, ctx)
        sales = _read_sales(root, ctx)
        commitments = _read_commitments(root, ctx)
        communication = _read_communication(root)
        conflict = _read_conflict(root)
        rewards = _read_rewards(root)
        ramifications = _read_ramifications(root, ctx)
        review = _read_review(root, ctx)
        termination = _read_termination(root)
        signatories = _read_signatories(root)
        for key in root.data:
            if key not in _SECTIONS:
                root.problem(key, f"unknown section{_suggest(key, _SECTIONS)}", key)
        if problems.found:
            raise _fail(_errors(problems, source, lines), source)
        assert header is not None
        assert marketing is not None
        assert sales is not None
        assert commitments is not None
        return cls(
            title=header["title"],
            company=header["company"],
            version=header["version"],
            effective=header["effective"],
            expires=header["expires"],
            period=header["period"],
            parties=parties,
            calendar=ctx.calendar,
            ladder=ctx.ladder,
            handoff=handoff,
            personas=personas,
            goals=goals,
            marketing=marketing,
            sales=sales,
            commitments=commitments,
            communication=communication,
            conflict=conflict,
            rewards=rewards,
            ramifications=ramifications,
            review=review,
            termination=termination,
            signatories=signatories,
            source=source,
        )

    # --- the core objects -----------------------------------------------------------------------

    @property
    def response_rules(self) -> tuple[ResponseRule, ...]:
        """Sales' response rules, ready to evaluate hand-offs and touches."""
        return tuple(c.rule for c in self.sales.response)

    @property
    def cadence_rules(self) -> tuple[CadenceRule, ...]:
        """Sales' cadence rules."""
        return tuple(c.rule for c in self.sales.cadence)

    @property
    def milestone_goals(self) -> tuple[MilestoneGoal, ...]:
        """Sales' milestone goals (close rate, cycle days...)."""
        return self.sales.milestones

    @property
    def lead_values(self) -> LeadValueTable | None:
        """The value of a lead per source (or segment), if marketing has a lead-value quota."""
        return None if self.marketing.lead_value is None else self.marketing.lead_value.values

    def party(self, team: Team | str) -> Party:
        """The party for ``team``."""
        wanted = Team(team)
        return next(p for p in self.parties if p.team is wanted)

    # --- pacing ---------------------------------------------------------------------------------

    def deliveries(self, handoffs: Iterable[Handoff]) -> list[Delivery]:
        """Hand-offs as :class:`~slacore.planning.pacing.Delivery` records valued by the agreement.

        Raises:
            PlanError: The agreement has no calendar.
            UnknownKeyError: A hand-off's source (or segment) has no lead value.

        """
        calendar = self._pacing_calendar()
        value = self.marketing.lead_value
        return deliveries(
            handoffs,
            calendar=calendar,
            values=None if value is None else value.values,
            by="source" if value is None else value.basis,
        )

    def pace(
        self,
        delivered: Iterable[Delivery],
        *,
        as_of: date | str,
        measure: Measure | str | None = None,
    ) -> Pacing:
        """Pace marketing's delivery in the period that contains ``as_of`` against its quota.

        Uses the agreement's period, calendar, pacing rule and, when the lead-count funnel
        gives it, sales capacity. ``measure`` defaults to lead value when marketing has a
        lead-value quota, else leads.

        Raises:
            PlanError: No calendar, or no quota of the measure asked for.

        """
        calendar = self._pacing_calendar()
        value, leads = self.marketing.lead_value, self.marketing.leads
        how = (
            Measure(measure)
            if measure is not None
            else (Measure.VALUE if value is not None else Measure.LEADS)
        )
        target: Decimal | int
        if how is Measure.VALUE:
            if value is None:
                raise PlanError(message="marketing has no lead-value quota to pace")
            target = value.amount
        else:
            if leads is None:
                raise PlanError(message="marketing has no lead-count quota to pace")
            target = leads.count
        return pace(
            delivered,
            target=target,
            as_of=as_of,
            calendar=calendar,
            period=self.period,
            measure=how,
            tolerance=self.marketing.pacing.tolerance,
            loading_tolerance=self.marketing.pacing.loading_tolerance,
            capacity=None if leads is None else leads.capacity,
        )

    def _pacing_calendar(self) -> BusinessCalendar:
        if self.calendar is None:
            raise PlanError(
                message="the agreement has no [calendar]: pacing counts its business days"
            )
        return self.calendar

    # --- summaries ------------------------------------------------------------------------------

    def _marketing_words(self) -> list[str]:
        parts: list[str] = []
        if self.marketing.lead_value is not None:
            parts.append(f"{format_money(self.marketing.lead_value.amount)} of lead value")
        if self.marketing.leads is not None:
            parts.append(_count_of(self.marketing.leads.count, "lead"))
        return parts

    def describe(self) -> str:
        """The agreement in one line, as ``slacore check`` prints it."""
        parts = [f"marketing delivers {' and '.join(self._marketing_words())} a {self.period}"]
        sales: list[str] = []
        for response in self.response_rules:
            business = response.clock is Clock.BUSINESS
            sales.append(f"responds within {_span_words(response.within, business=business)}")
        for cadence in self.cadence_rules:
            verb = (
                "touches"
                if len(cadence.channels) > 1
                else _ACTION_VERBS.get(cadence.channels[0], "touch")
                + ("es" if cadence.channels[0] is Channel.EMAIL else "s")
            )
            sales.append(
                f"{verb} each lead {_count_of(cadence.min_touches, 'time')} within "
                f"{_span_words(cadence.within)}"
            )
        if self.sales.milestones:
            sales.append(f"commits to {_count_of(len(self.sales.milestones), 'milestone goal')}")
        if sales:
            parts.append("sales " + _join(sales))
        if self.commitments:
            parts.append(_count_of(len(self.commitments), "other commitment"))
        if self.ramifications:
            parts.append(_count_of(len(self.ramifications), "ramification rung"))
        if self.review is not None:
            parts.append(f"reviewed every {self.review.every}")
        parts.append(_count_of(len(self.signatories), "signatory", "signatories"))
        return (
            f"{self.company} agreement, version {self.version}, effective "
            f"{self.effective.isoformat()}: {'; '.join(parts)}"
        )

    def summary(self) -> dict[str, Any]:
        """The agreement's key figures, JSON-ready (``slacore check --json``)."""
        value, leads = self.marketing.lead_value, self.marketing.leads
        return {
            "title": self.title,
            "company": self.company,
            "version": self.version,
            "effective": self.effective.isoformat(),
            "expires": None if self.expires is None else self.expires.isoformat(),
            "period": self.period.value,
            "stages": list(self.ladder.keys),
            "handoff_stage": None if self.handoff is None else self.handoff.stage,
            "calendar": None if self.calendar is None else self.calendar.describe(),
            "goals": None
            if self.goals is None
            else {
                "annual_revenue": str(self.goals.annual_revenue),
                "monthly_run_rate": str(self.goals.run_rate().per_period),
                "run_rate_by": f"{self.goals.year:04d}-{self.goals.target_month:02d}",
            },
            "marketing": {
                "lead_value": None if value is None else str(value.amount),
                "lead_values": None if value is None else value.values.to_dict(),
                "leads": None if leads is None else leads.count,
                "capacity": None if leads is None else leads.capacity,
            },
            "sales": {
                "response": [r.rule.describe() for r in self.sales.response],
                "cadence": [c.rule.describe() for c in self.sales.cadence],
                "milestones": [m.metric for m in self.sales.milestones],
                "process": len(self.sales.process),
            },
            "commitments": [c.name for c in self.commitments],
            "ramification_rungs": len(self.ramifications),
            "review_every": None if self.review is None else self.review.every.value,
            "terminate_after": None if self.termination is None else self.termination.unmet_periods,
            "signatories": len(self.signatories),
        }

    # --- the document ---------------------------------------------------------------------------

    def to_markdown(self) -> str:
        """The document both teams sign, in Markdown: every section in plain sentences."""
        return _document(self).markdown()

    def to_html(self) -> str:
        """The same document as one self-contained HTML file that prints well."""
        return _document(self).html(f"{self.title}: {self.company}")


# --- the signed document -------------------------------------------------------------------------

_CSS = """
body { font: 11pt/1.5 Georgia, "Times New Roman", serif; color: #111; max-width: 46em;
  margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #888; margin-top: 1.6em; }
h3 { font-size: 1.05em; margin-bottom: 0.3em; }
table { border-collapse: collapse; width: 100%; margin: 0.8em 0; }
th, td { border: 1px solid #888; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
.num { text-align: right; }
table.sign td { height: 2.6em; }
@page { margin: 2cm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10.5pt; }
  h2, h3 { break-after: avoid; }
  table, ul, p { break-inside: avoid; }
  th { background: none; }
}
""".strip()


class _Doc:
    """A document as blocks, written out as Markdown or as HTML from the same blocks."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, Any]] = []

    def heading(self, level: int, text: str) -> None:
        self.blocks.append((f"h{level}", text))

    def para(self, text: str) -> None:
        if text:
            self.blocks.append(("p", text))

    def bullets(self, items: Sequence[str]) -> None:
        if items:
            self.blocks.append(("ul", list(items)))

    def table(self, header: Sequence[str], rows: Sequence[Sequence[Any]], css: str = "") -> None:
        self.blocks.append(("table", (list(header), [list(r) for r in rows], css)))

    def markdown(self) -> str:
        from slacore.render import markdown_table

        out: list[str] = []
        for kind, body in self.blocks:
            if kind.startswith("h"):
                out.append(f"{'#' * int(kind[1])} {body}")
            elif kind == "p":
                out.append(body)
            elif kind == "ul":
                out.append("\n".join(f"- {item}" for item in body))
            else:
                header, rows, _ = body
                out.append(markdown_table(header, rows))
        return "\n\n".join(out) + "\n"

    def html(self, title: str) -> str:
        out = [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(title)}</title>",
            f"<style>\n{_CSS}\n</style>",
            "</head>",
            "<body>",
        ]
        for kind, body in self.blocks:
            if kind.startswith("h"):
                out.append(f"<{kind}>{html.escape(body)}</{kind}>")
            elif kind == "p":
                out.append(f"<p>{html.escape(body)}</p>")
            elif kind == "ul":
                items = "".join(f"<li>{html.escape(item)}</li>" for item in body)
                out.append(f"<ul>{items}</ul>")
            else:
                out.append(_html_table(*body))
        out += ["</body>", "</html>"]
        return "\n".join(out) + "\n"


def _numeric(values: list[Any]) -> bool:
    filled = [v for v in values if v is not None and v != ""]
    return bool(filled) and all(
        isinstance(v, int | Decimal | Fraction) and not isinstance(v, bool) for v in filled
    )


def _html_table(header: list[str], rows: list[list[Any]], css: str) -> str:
    numeric = [_numeric([row[i] for row in rows]) for i in range(len(header))]

    def attrs_of(i: int) -> str:
        return ' class="num"' if numeric[i] else ""

    head = "".join(f"<th{attrs_of(i)}>{html.escape(h)}</th>" for i, h in enumerate(header))
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{attrs_of(i)}>{html.escape(cell(v).replace(chr(92) + '|', '|'))}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    klass = f' class="{css}"' if css else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure_text(goal: MilestoneGoal, value: Decimal) -> str:
    if goal.unit == "%":
        return format_rate(Fraction(value))
    text = _number(value)
    return f"{text} {goal.unit}" if goal.unit else text


def _milestone_sentence(goal: MilestoneGoal) -> str:
    verb = "raise" if goal.direction is Direction.HIGHER else "cut"
    steps = " and ".join(
        f"to {_figure_text(goal, m.target)} by {_long_date(m.on)}" for m in goal.milestones
    )
    text = f"Sales will {verb} the {goal.metric} from {_figure_text(goal, goal.baseline)} {steps}"
    if goal.ramp is Ramp.LINEAR:
        text += ", on a steady daily path between the dates"
    return text + "."


def _response_sentences(item: ResponseCommitment, ladder: StageLadder) -> list[str]:
    rule = item.rule
    business = rule.clock is Clock.BUSINESS
    window = _span_words(rule.within, business=business)
    who = item.applies_to.words(ladder)
    stop = rule.stop_event
    if isinstance(stop, StageReached):
        targets = _join([ladder.get(k).label if k in ladder else k for k in stop.stages], "or")
        action = f"move {who} to {targets}"
    else:
        action = f"contact {who}"
    text = [f"Sales will {action} within {window} of the rep being notified."]
    if business:
        first = "business hour" if rule.within == timedelta(hours=1) else window
        text.append(
            f"A lead that comes in after hours is due within the first {first} of the next "
            "business day: the clock runs only in business hours."
        )
    else:
        text.append("The clock runs day and night, weekends included.")
    if isinstance(stop, FirstTouch):
        channels = _join([c.value for c in stop.channels], "or")
        text.append(
            f"The clock starts when the rep is notified of the lead and stops at the first "
            f"{channels}."
        )
    if rule.target is not None:
        text.append(f"This holds for at least {format_rate(rule.target)} of those leads.")
    return text


_ACTION_VERBS = {Channel.CALL: "call", Channel.EMAIL: "email", Channel.MEETING: "meet"}


def _cadence_sentence(item: CadenceCommitment, ladder: StageLadder) -> str:
    rule = item.rule
    who = item.applies_to.words(ladder)
    if len(rule.channels) == 1 and rule.channels[0] in _ACTION_VERBS:
        verb, how = _ACTION_VERBS[rule.channels[0]], ""
    else:
        verb = "touch"
        how = f" (by {_join([_plural(2, c.value) for c in rule.channels], 'or')})"
    window = _span_words(rule.within, business=rule.clock is Clock.BUSINESS)
    text = (
        f"Sales will {verb} {who} at least {_count_of(rule.min_touches, 'time')}{how} "
        f"within {window} of the hand-off"
    )
    if rule.target is not None:
        text += f", for at least {format_rate(rule.target)} of those leads"
    return text + "."


def _document(agreement: Agreement) -> _Doc:
    a = agreement
    doc = _Doc()
    doc.heading(1, f"{a.title}: {a.company}")
    marketing, sales = a.party(Team.MARKETING), a.party(Team.SALES)

    def party_words(party: Party) -> str:
        return f"{party.name} (led by {party.leader})" if party.leader else party.name

    dates = f"effective {_long_date(a.effective)}"
    if a.expires is not None:
        dates += f" until {_long_date(a.expires)}"
    doc.para(
        f"An agreement between {party_words(marketing)} and {party_words(sales)} of "
        f"{a.company}. Version {a.version}, {dates}. Commitments are measured each {a.period}."
    )
    doc.para(
        "Marketing and sales sign this agreement together. It states exactly what marketing "
        "will do and exactly what sales will do to support the company's revenue goals."
    )

    if a.goals is not None:
        _goals_section(doc, a, a.goals)
    _stages_section(doc, a)
    _marketing_section(doc, a)
    _sales_section(doc, a)
    if a.commitments:
        doc.heading(2, "Other commitments")
        for commitment in a.commitments:
            doc.para(f"{commitment.name.capitalize()}: {commitment.describe()}")
    if a.communication is not None:
        _communication_section(doc, a.communication)
    if a.conflict is not None:
        _conflict_section(doc, a.conflict)
    if a.rewards is not None:
        _rewards_section(doc, a, a.rewards)
    if a.ramifications:
        doc.heading(2, "Ramifications if goals are not met")
        doc.para(
            "Both teams are measured on a set of shared goals, and both are accountable for "
            "all of them, not only those in their own lane. Should the shared goals not be "
            "met, the following actions take place."
        )
        for rung in a.ramifications:
            doc.heading(3, rung.title())
            doc.bullets(rung.actions)
    if a.review is not None or a.termination is not None:
        _review_section(doc, a)
    _signoff_section(doc, a)
    return doc


def _goals_section(doc: _Doc, a: Agreement, goals: CompanyGoals) -> None:
    doc.heading(2, "Company goals")
    goal = format_money(goals.annual_revenue)
    rate = format_money(goals.run_rate().per_period)
    month = f"{_MONTHS[goals.target_month - 1]} {goals.year}"
    current = goals.current_run_rate()
    if current is not None and goals.current_annual_revenue is not None:
        doc.para(
            f"{a.company} will grow from {format_money(goals.current_annual_revenue)} to {goal} "
            f"in annual revenue: from a run rate of {format_money(current.per_period)} a month "
            f"to {rate} a month. It will reach the new run rate by {month} and sustain or "
            f"surpass it through December, so that {goals.year} ends with {goal} in revenue."
        )
    else:
        doc.para(
            f"{a.company} will reach {goal} in annual revenue in {goals.year}: a run rate of "
            f"{rate} a month, reached by {month}."
        )
    items = [
        f"Goal 1: generate monthly revenue of {rate} by {month} and sustain it through "
        "the end of the year."
    ]
    if goals.target_month > 1:
        before = f"{_MONTHS[0]} to {_MONTHS[goals.target_month - 2]}"
        if goals.target_month == 2:
            before = _MONTHS[0]
        text = (
            f"Goal 2: from {_MONTHS[goals.target_month - 1]} to December {goals.year}, "
            f"generate enough revenue above {rate} a month to make up for the months below it "
            f"from {before} {goals.year}"
        )
        if current is not None:
            required = goals.plan().required_per_month or Decimal(0)
            verb = "ramps" if goals.target_month == 2 else "ramp"
            text += (
                f": {format_money(required)} a month, if {before} {verb} up steadily from "
                "today's run rate"
            )
        items.append(text + ".")
    items.append(f"Goal {len(items) + 1}: finish {goals.year} with {goal} in annual revenue.")
    doc.bullets(items)


def _stages_section(doc: _Doc, a: Agreement) -> None:
    doc.heading(2, "Lead stages and hand-off")
    doc.para("Both teams use these definitions of the stages a lead goes through.")
    doc.table(
        ["Stage", "Owner", "Definition", "Enters when"],
        [[s.label, _team_name(s.owner), s.definition, s.handoff_trigger] for s in a.ladder.stages],
    )
    if a.handoff is not None and a.handoff.stage in a.ladder:
        h = a.handoff
        entered = a.ladder.get(h.stage)
        text = f"A lead passes from marketing to sales when it becomes a {entered.label}."
        if h.notified_by:
            text += (
                f" {_sentence(h.notified_by)[:-1]} notifies the owning rep, and the response "
                "clock starts at that notification."
            )
        doc.para(text)
        if h.information:
            doc.para("Marketing passes with each lead:")
            doc.bullets(h.information)
        if h.exit_stages:
            doc.para(
                f"A lead that moves to {_join(list(h.exit_stages), 'or')} leaves the sales clocks."
            )
    if a.personas:
        doc.heading(3, "Buyer personas")
        doc.bullets([f"{p.name}: {p.description}" if p.description else p.name for p in a.personas])
    if a.calendar is not None:
        doc.heading(3, "Business hours")
        doc.para(f"Business hours are {a.calendar.describe()}.")


def _marketing_section(doc: _Doc, a: Agreement) -> None:
    doc.heading(2, "Marketing commitments")
    value, leads = a.marketing.lead_value, a.marketing.leads
    if leads is not None:
        doc.para(
            f"Marketing will deliver {_count_of(leads.count, 'qualified lead')} each {a.period}."
        )
        if leads.funnel is not None and leads.per_rep is not None:
            one, team = leads.per_rep, leads.funnel
            chain = " -> ".join(_count_of(s.needed, s.name) for s in one.stages)
            reps = team.capacity.reps if team.capacity is not None else None
            doc.para(f"The count comes from the funnel of one rep each {a.period}: {chain}.")
            if reps is not None and team.capacity is not None:
                doc.para(
                    f"With {reps} reps that is {_count_of(team.leads_needed, 'lead')} a "
                    f"{a.period}. {team.capacity.explain()}"
                )
    if value is not None:
        parts = [
            f"{name} leads {format_money(amount)} each" for name, amount in value.values.items()
        ]
        doc.para(
            f"Marketing will deliver {format_money(value.amount)} of lead value each "
            f"{a.period}: {_join(parts)}."
        )
        doc.para(
            f"The value of a lead is what it is worth when it converts: the close rate of its "
            f"{value.basis} times the average deal value it brings."
        )
        if value.workings:
            doc.bullets(
                [
                    f"{w.segment}: {format_rate(w.close_rate)} close at "
                    f"{format_money(w.average_deal_value)} = {format_money(w.value)} a lead"
                    for w in value.workings
                ]
            )
        sample = value.sample_period()
        if sample is not None:
            doc.para(f"A sample {a.period}:")
            rows: list[list[Any]] = [
                [line.key, line.count, line.unit_value, line.value] for line in sample.lines
            ]
            rows.append(["total", sample.count, "", sample.total])
            doc.table([value.basis.capitalize(), "Leads", "Value each", "Lead value"], rows)
            verdict = "meets" if sample.meets_quota else "falls short of"
            doc.para(
                f"That is {format_money(sample.total)} of lead value, which {verdict} the "
                f"{format_money(value.amount)} commitment."
            )
    pacing = a.marketing.pacing
    what = "lead value" if value is not None else "leads"
    doc.para(
        f"Marketing delivers at an even pace, hugging a straight line by business day: "
        f"delivered to date stays within {format_rate(pacing.tolerance)} of the line. A "
        f"{a.period} with {format_rate(Fraction(1, 2) + pacing.loading_tolerance)} or more of "
        f"its {what} in the first half of its business days is front-loaded, one with "
        f"{format_rate(Fraction(1, 2) - pacing.loading_tolerance)} or less is back-loaded; "
        f"either is flagged before the {a.period} ends, so that the leads sent to sales match "
        "the capacity sales has to work them."
    )


def _sales_section(doc: _Doc, a: Agreement) -> None:
    doc.heading(2, "Sales commitments")
    for response in a.sales.response:
        doc.para(" ".join(_response_sentences(response, a.ladder)))
    for cadence in a.sales.cadence:
        doc.para(_cadence_sentence(cadence, a.ladder))
    for goal in a.sales.milestones:
        doc.para(_milestone_sentence(goal))
    if a.sales.process:
        doc.para("Sales also agrees to:")
        doc.bullets(a.sales.process)


def _communication_section(doc: _Doc, c: Communication) -> None:
    doc.heading(2, "Communication and feedback")
    if c.feedback_within is not None:
        text = f"Feedback between the teams is shared within {_span_words(c.feedback_within)}"
        if c.feedback_at:
            text += f" and discussed to resolution at {c.feedback_at}"
        doc.para(text + ".")
    if c.marketing_feedback:
        doc.para(f"Marketing gives feedback on {c.marketing_feedback.rstrip('.')}.")
    if c.sales_feedback:
        doc.para(f"Sales gives feedback on {c.sales_feedback.rstrip('.')}.")
    for meeting in c.meetings:
        doc.para(
            f"{meeting.name}: {meeting.attendees} meet every {meeting.every} for "
            f"{_span_words(meeting.length)}" + (" to:" if meeting.agenda else ".")
        )
        doc.bullets(meeting.agenda)


def _conflict_section(doc: _Doc, c: ConflictResolution) -> None:
    doc.heading(2, "Conflict resolution")
    if c.panel:
        text = (
            f"Any conflict or challenge the teams cannot resolve goes to a panel of "
            f"{_join(list(c.panel))}. Marketing and sales each select a representative to "
            "present their side"
        )
        if c.time_per_side is not None:
            text += f", with {_span_words(c.time_per_side)} each"
        text += "; then the panel decides."
        if c.binding:
            text += " The panel's decision is binding: each team agrees in advance to follow it."
        doc.para(text)
        if c.arbiter:
            doc.para(f"If there is {c.arbiter}, that person is the sole arbiter instead.")
    else:
        doc.para(f"{_sentence(c.arbiter)[:-1]} is the sole arbiter of any conflict.")


def _rewards_section(doc: _Doc, a: Agreement, r: Rewards) -> None:
    doc.heading(2, "Rewards")
    doc.para("Marketing and sales are measured together and rewarded together.")
    if r.pool is not None:
        text = (
            f"When {r.condition}, both teams share a pool of {format_money(r.pool)} each {a.period}"
        )
        if r.distribution:
            text += f", distributed {r.distribution}"
        doc.para(text + ".")
    if r.annual:
        doc.para(f"When {r.annual_condition}, both teams are rewarded with {r.annual}.")


def _review_section(doc: _Doc, a: Agreement) -> None:
    doc.heading(2, "Review and termination")
    if a.review is not None:
        review = a.review
        first = review.first or review.every.shift(a.effective, 1)
        doc.para(
            f"This is a living document. The parties review it every {review.every}, the first "
            f"time on {_long_date(first)}, and share every change with both teams."
        )
        if review.triggers:
            doc.para("It is reviewed early when:")
            doc.bullets([f"{t.name} falls below {format_rate(t.below)}" for t in review.triggers])
    t = a.termination
    if t is not None:
        reasons: list[str] = []
        if t.unmet_periods is not None:
            periods = _count_of(t.unmet_periods, a.period.value)
            reasons.append(f"when the shared goals stay unmet for {periods} running")
        if t.approval_withdrawn:
            reasons.append("when the parties no longer approve it")
        if reasons:
            doc.para(f"The agreement ends {_join(reasons, 'or')}.")


def _signoff_section(doc: _Doc, a: Agreement) -> None:
    doc.heading(2, "Sign-off")
    doc.para(
        "Everyone in both departments signs this agreement and keeps a copy in a visible "
        "place. It is referred to regularly in conversations, communication and meetings."
    )
    rows = [
        [
            s.name,
            s.title,
            "" if s.team is None else _team_name(s.team),
            "",
            "" if s.signed_at is None else _signed_day(s.signed_at).isoformat(),
        ]
        for s in a.signatories
    ]
    if not rows:
        rows = [["", "", _team_name(team), "", ""] for team in Team]
    doc.table(["Name", "Title", "Team", "Signature", "Date"], rows, css="sign")
    doc.para(f"{a.title}, {a.company}. Version {a.version}, {_long_date(a.effective)}.")


def _signed_day(moment: date | datetime) -> date:
    return moment.date() if isinstance(moment, datetime) else moment
