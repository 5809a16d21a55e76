"""The SLA report for one period, assembled from the store and the agreement."""

from __future__ import annotations

from slacore_connectors.report.build import SlaReport, build_report

__all__ = ["SlaReport", "build_report"]
