"""The agreement both teams sign: read from TOML, checked, planned and written as a document.

``Agreement.from_toml(path)`` reads a file and reports every problem at once; the sections
hold the core objects (calendar, rules, goals), and ``to_markdown()`` / ``to_html()`` write the
document the teams sign.
"""

from __future__ import annotations

from slacore._config import key_path
from slacore.agreement._core import Agreement
from slacore.agreement.sections import (
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
from slacore.errors import AgreementError

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
