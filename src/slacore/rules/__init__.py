"""The sales rules: which hand-offs are covered, response time, cadence and the dashboard.

Each rule is a frozen value object whose ``evaluate`` answers with a report of results;
:mod:`slacore.rules.eligibility` builds the selectors that say which hand-offs a rule covers.
"""

from __future__ import annotations

from slacore.rules.cadence import CadenceRule
from slacore.rules.cadence_report import CadenceReport, CadenceResult, CadenceSummary
from slacore.rules.common import NEVER, Clock, Never, SlaStatus
from slacore.rules.dashboard import DashboardRow, DontBeOnIt, dont_be_on_it
from slacore.rules.eligibility import ALL, Eligibility, hand_raisers, segment, source, stage
from slacore.rules.response import FirstTouch, OnReassign, ResponseRule, StageReached
from slacore.rules.response_report import ResponseReport, ResponseResult, ResponseSummary

__all__ = [
    "ALL",
    "NEVER",
    "CadenceReport",
    "CadenceResult",
    "CadenceRule",
    "CadenceSummary",
    "Clock",
    "DashboardRow",
    "DontBeOnIt",
    "Eligibility",
    "FirstTouch",
    "Never",
    "OnReassign",
    "ResponseReport",
    "ResponseResult",
    "ResponseRule",
    "ResponseSummary",
    "SlaStatus",
    "StageReached",
    "dont_be_on_it",
    "hand_raisers",
    "segment",
    "source",
    "stage",
]
