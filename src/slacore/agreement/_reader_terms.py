"""Reading marketing's and sales' terms: quotas, funnels, pacing, response and cadence rules,
milestone goals.

Private: :class:`~slacore.agreement.Agreement` calls :func:`_read_marketing` and
:func:`_read_sales`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar

from slacore._config import Table, choices, default_of, suggest
from slacore.agreement._reader import (
    _Context,
    _unique,
)
from slacore.agreement._words import (
    _decimal,
    _number,
)
from slacore.agreement.terms import (
    CadenceCommitment,
    LeadCountCommitment,
    LeadFilter,
    LeadValueCommitment,
    MarketingCommitments,
    PacingRule,
    ResponseCommitment,
    SalesCommitments,
)
from slacore.model import Channel
from slacore.planning.funnel import FunnelPlan, reverse_funnel
from slacore.planning.lead_values import LeadValue, LeadValueTable, lead_value
from slacore.planning.milestones import (
    Direction,
    Milestone,
    MilestoneGoal,
    MilestoneMeasure,
    Ramp,
)
from slacore.render import format_count
from slacore.rules.cadence import CadenceRule
from slacore.rules.response import Clock, OnReassign, ResponseRule, StageReached


def _read_values(table: Table, ctx: _Context) -> tuple[LeadValueTable, tuple[LeadValue, ...]]:
    amounts: dict[str, Decimal] = {}
    workings: list[LeadValue] = []
    for name, value in table.entries():
        if isinstance(value, Mapping):
            part = Table(value, table.at(name), ctx.problems)
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


def _read_lead_value(table: Table, ctx: _Context) -> LeadValueCommitment | None:
    amount = table.money("amount", required=True, positive=True)
    basis = table.choice(
        "basis", ("source", "segment"), default=default_of(LeadValueCommitment, "basis")
    )
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
                    name, f"no lead value for {name!r}{suggest(name, names)}", name
                )
            elif count is not None:
                sample.append((name, count))
    if amount is None or len(values) != len(values_table.data):
        return None
    return LeadValueCommitment(
        amount=amount, values=values, basis=basis, workings=workings, sample=tuple(sample)
    )


def _read_funnel(table: Table, ctx: _Context) -> tuple[FunnelPlan, FunnelPlan] | None:
    deals = table.integer("deals_per_rep", minimum=1, required=True)
    outcome = table.text("outcome")
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
    # Only a given outcome is passed: reverse_funnel states its own default.
    named: dict[str, Any] = {"outcome": outcome} if outcome else {}
    one = ctx.problems.attempt(
        table.path, lambda: reverse_funnel(deals=deals, stages=stages, **named)
    )
    if one is None:
        return None
    team = one.for_reps(reps).with_capacity(reps=reps, leads_per_rep=per_rep)
    return team, one


def _read_leads(table: Table, ctx: _Context) -> LeadCountCommitment | None:
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


def _read_marketing(root: Table, ctx: _Context) -> MarketingCommitments | None:
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


def _read_filter(parent: Table, ctx: _Context) -> LeadFilter:
    table = parent.table("applies_to")
    if table is None:
        return LeadFilter()
    found = LeadFilter(
        hand_raisers=table.boolean("hand_raisers", default=default_of(LeadFilter, "hand_raisers")),
        sources=table.texts("sources"),
        segments=table.texts("segments"),
        stages=ctx.stage_keys(table, "stages"),
        exclude_sources=table.texts("exclude_sources"),
        exclude_segments=table.texts("exclude_segments"),
        exclude_stages=ctx.stage_keys(table, "exclude_stages"),
    )
    table.finish()
    return found


_CHANNELS = choices(Channel)


def _read_channels(table: Table, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    if not table.has(key):
        return default
    names = table.texts(key, required=True)
    known = True
    for index, name in enumerate(names):
        if name.lower() not in _CHANNELS:
            table.problems.add(
                table.at(key, index),
                f"expected one of {', '.join(_CHANNELS)}, got {name!r}{suggest(name, _CHANNELS)}",
                name,
            )
            known = False
    if not known or not names:
        return default  # the problem is recorded here; the rule would report it again
    return tuple(n.lower() for n in names)


def _clock_needs_calendar(table: Table, clock: str, ctx: _Context) -> bool:
    if clock == Clock.BUSINESS and ctx.calendar is None:
        if ctx.calendar_given:
            return False  # the [calendar] section's own problems are reported there
        table.problem(
            "clock",
            'the business clock needs a [calendar] section (or clock = "calendar")',
            clock,
        )
        return False
    return True


_Rule = TypeVar("_Rule", ResponseRule, CadenceRule)


def _rule_terms(
    table: Table, ctx: _Context, rule: type[_Rule]
) -> tuple[dict[str, Any], LeadFilter]:
    """The keys both rules read, as the rule's keyword arguments, and the rule's scope.

    A key left out is not passed, so the rule class's own default applies.
    """
    terms: dict[str, Any] = {"calendar": ctx.calendar, "ladder": ctx.ladder}
    if name := table.text("name"):
        terms["name"] = name
    terms["within"] = table.duration("within", required=True)
    terms["clock"] = table.choice("clock", choices(Clock), default=default_of(rule, "clock"))
    applies = _read_filter(table, ctx)
    if (target := table.rate("target")) is not None:
        terms["target"] = target
    if (at_risk := table.rate("at_risk_at", above_zero=True)) is not None:
        terms["at_risk_at"] = at_risk
    terms["withdraw_on"] = (
        ctx.stage_keys(table, "withdraw_on", exits=True) if table.has("withdraw_on") else ctx.exits
    )
    return terms, applies


def _build_rule(
    table: Table, ctx: _Context, rule: type[_Rule], terms: dict[str, Any], applies: LeadFilter
) -> _Rule | None:
    """The rule from its terms once the table is read, or ``None`` with the problems recorded."""
    table.finish()
    if terms["within"] is None or not _clock_needs_calendar(table, terms["clock"], ctx):
        return None
    return ctx.problems.attempt(table.path, lambda: rule(applies_to=applies.eligibility(), **terms))


def _read_response(table: Table, ctx: _Context) -> ResponseCommitment | None:
    terms, applies = _rule_terms(table, ctx, ResponseRule)
    terms["counts"] = _read_channels(table, "counts", default_of(ResponseRule, "counts"))
    stops = ctx.stage_keys(table, "stop_stages", exits=True)
    terms["stop"] = StageReached(*stops) if stops else None
    terms["on_reassign"] = table.choice(
        "on_reassign", choices(OnReassign), default=default_of(ResponseRule, "on_reassign")
    )
    rule = _build_rule(table, ctx, ResponseRule, terms, applies)
    return None if rule is None else ResponseCommitment(rule=rule, applies_to=applies)


def _read_cadence(table: Table, ctx: _Context) -> CadenceCommitment | None:
    terms, applies = _rule_terms(table, ctx, CadenceRule)
    touches = table.integer("min_touches", minimum=1, required=True)
    terms["channels"] = _read_channels(table, "channels", default_of(CadenceRule, "channels"))
    if touches is None:
        table.finish()
        return None
    rule = _build_rule(table, ctx, CadenceRule, {**terms, "min_touches": touches}, applies)
    return None if rule is None else CadenceCommitment(rule=rule, applies_to=applies)


def _figure(table: Table, key: str, *, rate: bool, required: bool = False) -> Decimal | None:
    if rate:
        share = table.rate(key, required=required)
        return None if share is None else _decimal(share)
    return table.money(key, required=required, what="a number")


def _read_milestone(table: Table, ctx: _Context) -> MilestoneGoal | None:
    metric = table.text("metric", required=True)
    unit = table.text("unit")
    is_rate = unit == "%"
    baseline = _figure(table, "baseline", rate=is_rate, required=True)
    start = table.day("start") if table.has("start") else ctx.effective
    direction = table.choice(
        "direction", choices(Direction), default=default_of(MilestoneGoal, "direction")
    )
    ramp = table.choice("ramp", choices(Ramp), default=default_of(MilestoneGoal, "ramp"))
    measure = table.choice("measure", choices(MilestoneMeasure), default="")
    items = table.tables("targets", required=True)
    targets: list[tuple[Table, Milestone]] = []
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
            measure=measure or None,
        ),
        own_field=False,
    )


def _read_sales(root: Table, ctx: _Context) -> SalesCommitments | None:
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
