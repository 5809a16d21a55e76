"""The SLA report for one period, assembled from the store and the agreement."""

from __future__ import annotations

from slacore_connectors.report.build import NothingToReportError, SlaReport, build_report

__all__ = ["NothingToReportError", "SlaReport", "build_report"]
