"""slacore: service-level agreements between marketing and sales, as code.

The pure domain: the model (:class:`Lead`, :class:`Handoff`, :class:`LeadStage`, ...) and the
planning calculations (run rate, catch-up, reverse funnel, capacity, lead value, calibration,
milestone goals). Nothing here touches the network or a database; connectors live in
``slacore_connectors``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from slacore.calendar import BusinessCalendar
from slacore.calibration import Calibration, SegmentValue, calibrate
from slacore.duration import format_duration, parse_duration
from slacore.errors import PlanError, SlacoreError, UnknownKeyError, ValidationError
from slacore.funnel import (
    Capacity,
    CapacityStatus,
    FunnelPlan,
    FunnelStage,
    StageNeed,
    capacity,
    reverse_funnel,
)
from slacore.goals import CatchUp, CatchUpStatus, MonthKind, MonthPlan, RunRate, catch_up, run_rate
from slacore.lead_value import LeadValue, LeadValueTable, MixLine, MixValue, QuotaMix, lead_value
from slacore.milestones import Direction, Milestone, MilestoneCheck, MilestoneGoal, Ramp
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
)
from slacore.response import (
    Clock,
    FirstTouch,
    OnReassign,
    ResponseReport,
    ResponseResult,
    ResponseRule,
    ResponseSummary,
    SlaStatus,
    StageReached,
)

try:
    __version__ = version("slacore")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "STANDARD_LADDER",
    "BusinessCalendar",
    "Calibration",
    "Capacity",
    "CapacityStatus",
    "CatchUp",
    "CatchUpStatus",
    "Channel",
    "Clock",
    "Deal",
    "Direction",
    "FirstTouch",
    "FunnelPlan",
    "FunnelStage",
    "Handoff",
    "Lead",
    "LeadStage",
    "LeadValue",
    "LeadValueTable",
    "Milestone",
    "MilestoneCheck",
    "MilestoneGoal",
    "MixLine",
    "MixValue",
    "MonthKind",
    "MonthPlan",
    "OnReassign",
    "OwnerChange",
    "PlanError",
    "QuotaMix",
    "Ramp",
    "Rep",
    "ResponseReport",
    "ResponseResult",
    "ResponseRule",
    "ResponseSummary",
    "RunRate",
    "SegmentValue",
    "SlaStatus",
    "SlacoreError",
    "StageChange",
    "StageLadder",
    "StageNeed",
    "StageReached",
    "Team",
    "Touch",
    "UnknownKeyError",
    "ValidationError",
    "__version__",
    "calibrate",
    "capacity",
    "catch_up",
    "format_duration",
    "lead_value",
    "parse_duration",
    "reverse_funnel",
    "run_rate",
]
