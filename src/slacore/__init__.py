"""slacore: service-level agreements between marketing and sales, as code.

The pure domain, all from this front door: the model (:class:`Lead`, :class:`Handoff`,
:class:`LeadStage`, ...), the :class:`Agreement`, the sales rules (:class:`ResponseRule`,
:class:`CadenceRule`) with the selectors that say which hand-offs they cover
(:func:`hand_raisers`, :func:`source`, :func:`segment`, :func:`stage`, :data:`ALL`), the
planning calculations (run rate, catch-up, reverse funnel, capacity, lead value, calibration,
milestone goals, pacing, scorecards, escalation), every error slacore raises, and
:data:`hookimpl` for plugins. Nothing here touches the network or a database, and importing
slacore loads no plugin; connectors live in ``slacore_connectors``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from slacore.agreement import Agreement, Commitment
from slacore.calendar.business import BusinessCalendar
from slacore.calendar.duration import format_duration, parse_duration
from slacore.calendar.periods import Period, PeriodSpan
from slacore.errors import (
    AgreementError,
    ConfigError,
    MissingColumnsError,
    PlanError,
    PluginError,
    SlacoreError,
    UnknownKeyError,
    ValidationError,
)
from slacore.hookspecs import hookimpl
from slacore.model import (
    STANDARD_LADDER,
    Channel,
    Deal,
    Handoff,
    Lead,
    LeadStage,
    OwnerChange,
    Rep,
    StageChange,
    StageLadder,
    Team,
    Touch,
    id_field,
    id_is_key,
    natural_key,
)
from slacore.planning.calibration import Calibration, SegmentValue, calibrate
from slacore.planning.curve import CurvePoint, PacingCurve, pacing_curve
from slacore.planning.escalation_ladder import Escalation, EscalationStep, escalation
from slacore.planning.funnel import (
    Capacity,
    CapacityStatus,
    FunnelPlan,
    FunnelStage,
    StageNeed,
    capacity,
    reverse_funnel,
)
from slacore.planning.goals import (
    CatchUp,
    CatchUpStatus,
    MonthKind,
    MonthPlan,
    RunRate,
    catch_up,
    run_rate,
)
from slacore.planning.lead_values import (
    LeadValue,
    LeadValueTable,
    MixLine,
    MixValue,
    QuotaMix,
    lead_value,
)
from slacore.planning.milestones import (
    Direction,
    Milestone,
    MilestoneCheck,
    MilestoneGoal,
    MilestoneMeasure,
    Ramp,
)
from slacore.planning.outcomes import DealOutcomes, deal_outcomes
from slacore.planning.pacing import (
    Delivery,
    Loading,
    Measure,
    PaceStatus,
    Pacing,
    WeekBucket,
    deliveries,
    pace,
)
from slacore.planning.reviews import TriggerCheck
from slacore.planning.rewards import RewardCheck
from slacore.planning.scorecards import Scorecard, ScoreLine, scorecard
from slacore.rules.cadence import CadenceRule
from slacore.rules.cadence_report import CadenceReport, CadenceResult, CadenceSummary
from slacore.rules.dashboard import DashboardRow, DontBeOnIt, dont_be_on_it
from slacore.rules.eligibility import ALL, Eligibility, hand_raisers, segment, source, stage
from slacore.rules.response import (
    NEVER,
    Clock,
    FirstTouch,
    Never,
    OnReassign,
    ResponseRule,
    SlaStatus,
    StageReached,
)
from slacore.rules.response_report import ResponseReport, ResponseResult, ResponseSummary

try:
    __version__ = version("slacore")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "ALL",
    "NEVER",
    "STANDARD_LADDER",
    "Agreement",
    "AgreementError",
    "BusinessCalendar",
    "CadenceReport",
    "CadenceResult",
    "CadenceRule",
    "CadenceSummary",
    "Calibration",
    "Capacity",
    "CapacityStatus",
    "CatchUp",
    "CatchUpStatus",
    "Channel",
    "Clock",
    "Commitment",
    "ConfigError",
    "CurvePoint",
    "DashboardRow",
    "Deal",
    "DealOutcomes",
    "Delivery",
    "Direction",
    "DontBeOnIt",
    "Eligibility",
    "Escalation",
    "EscalationStep",
    "FirstTouch",
    "FunnelPlan",
    "FunnelStage",
    "Handoff",
    "Lead",
    "LeadStage",
    "LeadValue",
    "LeadValueTable",
    "Loading",
    "Measure",
    "Milestone",
    "MilestoneCheck",
    "MilestoneGoal",
    "MilestoneMeasure",
    "MissingColumnsError",
    "MixLine",
    "MixValue",
    "MonthKind",
    "MonthPlan",
    "Never",
    "OnReassign",
    "OwnerChange",
    "PaceStatus",
    "Pacing",
    "PacingCurve",
    "Period",
    "PeriodSpan",
    "PlanError",
    "PluginError",
    "QuotaMix",
    "Ramp",
    "Rep",
    "ResponseReport",
    "ResponseResult",
    "ResponseRule",
    "ResponseSummary",
    "RewardCheck",
    "RunRate",
    "ScoreLine",
    "Scorecard",
    "SegmentValue",
    "SlaStatus",
    "SlacoreError",
    "StageChange",
    "StageLadder",
    "StageNeed",
    "StageReached",
    "Team",
    "Touch",
    "TriggerCheck",
    "UnknownKeyError",
    "ValidationError",
    "WeekBucket",
    "__version__",
    "calibrate",
    "capacity",
    "catch_up",
    "deal_outcomes",
    "deliveries",
    "dont_be_on_it",
    "escalation",
    "format_duration",
    "hand_raisers",
    "hookimpl",
    "id_field",
    "id_is_key",
    "lead_value",
    "natural_key",
    "pace",
    "pacing_curve",
    "parse_duration",
    "reverse_funnel",
    "run_rate",
    "scorecard",
    "segment",
    "source",
    "stage",
]
