"""The agreements the scorecard and escalation tests score, and a month that meets them."""

from __future__ import annotations

from pathlib import Path

import pytest

from slacore import Agreement

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def company_a() -> Agreement:
    return Agreement.load(ROOT / "examples" / "company_a.toml")


@pytest.fixture(scope="session")
def hubspot() -> Agreement:
    return Agreement.load(ROOT / "examples" / "hubspot.toml")


@pytest.fixture
def good() -> dict[str, object]:
    """Company A's actuals for a month that meets every commitment (2020-07)."""
    return {
        "revenue": 1_400_000,
        "lead_value": 560_000,
        "response": "100%",
        "milestones": {"close rate on proposals": "36%", "sales cycle": 39},
    }
