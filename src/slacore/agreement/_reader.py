"""Reading the agreement's sections from TOML data: one reader per section.

Private: :class:`~slacore.agreement.Agreement` calls them. The readers of marketing's and
sales' terms live in :mod:`slacore.agreement._reader_terms`.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import attrs

from slacore._config import MISSING, Problems, Table, choices, default_of, shown, suggest
from slacore.agreement._words import (
    _span_words,
    _team_name,
)
from slacore.agreement.sections import (
    DEFAULT_EXIT_STAGES,
    Commitment,
    CommitmentKind,
    Communication,
    CompanyGoals,
    ConflictResolution,
    Deliverable,
    HandoffTerms,
    Meeting,
    Party,
    Persona,
    Review,
    ReviewTrigger,
    Rewards,
    Rung,
    Signatory,
    Termination,
)
from slacore.calendar.business import BusinessCalendar
from slacore.calendar.periods import Period
from slacore.errors import AgreementError, ValidationError
from slacore.model import STANDARD_LADDER, LeadStage, StageLadder, Team

_TEAMS = choices(Team)


@attrs.define
class _Context:
    """What section readers share: the problems, and what earlier sections settled."""

    problems: Problems
    period: Period
    effective: date | None = None
    calendar: BusinessCalendar | None = None
    calendar_given: bool = False  # a [calendar] section, even one with problems
    ladder: StageLadder = STANDARD_LADDER
    exits: tuple[str, ...] = DEFAULT_EXIT_STAGES

    def stage_keys(
        self, table: Table, key: str, *, exits: bool = False, required: bool = False
    ) -> tuple[str, ...]:
        """Stage keys from ``table[key]``, each checked against the ladder (and exit stages)."""
        keys = table.texts(key, required=required)
        known = [*self.ladder.keys, *(self.exits if exits else ())]
        for index, name in enumerate(keys):
            if name not in known:
                table.problems.add(
                    table.at(key, index), f"unknown stage {name!r}{suggest(name, known)}", name
                )
        return keys

    def stage_key(self, table: Table, key: str, *, required: bool = True) -> str | None:
        name = table.text(key, required=required)
        if not name:
            return None
        if name not in self.ladder:
            keys = self.ladder.keys
            table.problem(key, f"unknown stage {name!r}{suggest(name, keys)}", name)
            return None
        return name


def _read_header(root: Table, ctx: _Context) -> dict[str, Any] | None:
    head = root.table("agreement", required=True, why=": the company, version and dates")
    if head is None:
        return None
    found: dict[str, Any] = {
        "title": head.text("title", default="Service-level agreement between marketing and sales"),
        "company": head.text("company", required=True),
        "version": head.text("version", required=True),
        "effective": head.day("effective", required=True),
        "expires": head.day("expires"),
        "period": head.period("period", default=ctx.period),
    }
    head.finish()
    if found["effective"] and found["expires"] and found["expires"] <= found["effective"]:
        head.problem("expires", f"must be after effective {found['effective']}")
    ctx.period = found["period"] or ctx.period
    ctx.effective = found["effective"]
    return found


def _read_parties(root: Table) -> tuple[Party, ...]:
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


def _read_calendar(root: Table, ctx: _Context) -> None:
    table = root.table("calendar")
    if table is None:
        return
    ctx.calendar_given = True
    given = {
        key: table.raw(key)
        for key in ("timezone", "hours", "holidays", "overrides")
        if table.has(key)
    }
    table.finish()
    # The calendar takes Python values too; a TOML value of another kind is named here.
    for key, kinds, expected in (
        ("holidays", (str, list), 'a country code like "US" or an array of codes and dates'),
        ("overrides", (Mapping,), 'a table of dates and hours: {"2026-12-24" = "09:00-13:00"}'),
    ):
        if key in given and not isinstance(given[key], kinds):
            table.problem(key, f"expected {expected}, got {shown(given[key])}", given[key])
            return
    if "timezone" not in given:
        # No zone is guessed; the other keys are still checked, in UTC, for their problems.
        table.problem(
            "timezone",
            'missing; expected the IANA time zone the hours are in, like "America/New_York"',
        )
        ctx.problems.attempt(table.path, lambda: BusinessCalendar(**given, timezone="UTC"))
        return
    ctx.calendar = ctx.problems.attempt(table.path, lambda: BusinessCalendar(**given))


def _read_stages(root: Table, ctx: _Context) -> None:
    stages: list[LeadStage] = []
    seen: set[str] = set()
    items = root.tables("stages")
    for index, item in enumerate(items):
        key = item.text("key", required=True)
        label = item.text("label", default=key)
        owner = item.choice("owner", _TEAMS, default="")
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


def _read_handoff(root: Table, ctx: _Context) -> HandoffTerms | None:
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


def _read_personas(root: Table) -> tuple[Persona, ...]:
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


def _read_goals(root: Table) -> CompanyGoals | None:
    table = root.table("goals")
    if table is None:
        return None
    annual = table.money("annual_revenue", required=True, positive=True)
    current = table.money("current_annual_revenue", positive=True)
    by = table.raw("run_rate_by")
    table.finish()
    year = month = None
    if by is MISSING:
        table.problem(
            "run_rate_by", 'missing; expected the month the run rate is reached, "2020-06"'
        )
    elif isinstance(by, date):
        year, month = by.year, by.month
    elif isinstance(by, str) and (match := _MONTH.match(by.strip())) and 1 <= int(match[2]) <= 12:
        year, month = int(match[1]), int(match[2])
    else:
        table.problem("run_rate_by", f'expected a month like "2020-06", got {shown(by)}', by)
    if annual is None or year is None or month is None:
        return None
    return CompanyGoals(
        annual_revenue=annual, year=year, target_month=month, current_annual_revenue=current
    )


def _unique(items: Sequence[tuple[Table, str]], what: str) -> bool:
    seen: set[str] = set()
    ok = True
    for table, name in items:
        if name in seen:
            table.problem("name", f"two {what} are named {name!r}: give each its own name", name)
            ok = False
        seen.add(name)
    return ok


def _read_commitments(root: Table, ctx: _Context) -> tuple[Commitment, ...] | None:
    tables = root.tables("commitments")
    found: list[Commitment | None] = []
    for table in tables:
        name = table.text("name", required=True)
        kind = table.choice("kind", choices(CommitmentKind), default=CommitmentKind.OTHER)
        team = table.choice("team", _TEAMS, default="")
        if not table.has("team"):
            table.problem("team", "missing; expected the team that delivers: marketing or sales")
        verb = table.text("verb", default=default_of(Commitment, "verb"))
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


def _read_communication(root: Table) -> Communication | None:
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


def _read_conflict(root: Table) -> ConflictResolution | None:
    table = root.table("conflict")
    if table is None:
        return None
    found = ConflictResolution(
        panel=table.texts("panel"),
        time_per_side=table.duration("time_per_side"),
        binding=table.boolean("binding", default=default_of(ConflictResolution, "binding")),
        arbiter=table.text("arbiter"),
    )
    table.finish()
    if not found.panel and not found.arbiter:
        table.problem(None, "expected a panel, an arbiter, or both")
    return found


def _read_rewards(root: Table) -> Rewards | None:
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


def _read_ramifications(root: Table, ctx: _Context) -> tuple[Rung, ...]:
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


def _read_review(root: Table, ctx: _Context) -> Review | None:
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


def _read_termination(root: Table) -> Termination | None:
    table = root.table("termination")
    if table is None:
        return None
    found = Termination(
        unmet_periods=table.integer("unmet_periods", minimum=1),
        approval_withdrawn=table.boolean(
            "approval_withdrawn", default=default_of(Termination, "approval_withdrawn")
        ),
    )
    table.finish()
    return found


def _read_signatories(root: Table) -> tuple[Signatory, ...]:
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


def _fail(errors: Sequence[ValidationError], source: str | None) -> AgreementError:
    count = len(errors)
    noun = "problem" if count == 1 else "problems"
    return AgreementError(
        message=f"{source or 'the agreement'}: {count} {noun} in the agreement",
        errors=tuple(errors),
        source=source,
    )
