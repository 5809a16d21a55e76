"""The report as a page of blocks: one self-contained HTML file with its charts, for phones and
paper, and the same blocks as Markdown.

Private to :mod:`slacore_connectors.report`: :meth:`SlaReport.to_html` and
:meth:`SlaReport.to_markdown` call :func:`report_page`.
"""

from __future__ import annotations

import html
from decimal import Decimal
from typing import TYPE_CHECKING

from slacore.render import Figure, Page, Section, format_money
from slacore.rules.response_report import ResponseReport

if TYPE_CHECKING:
    from slacore.planning.curve import PacingCurve
    from slacore_connectors.report.build import SlaReport

_CSS = """
body { font: 15px/1.5 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  color: #1d2327; max-width: 60em; margin: 1.5em auto; padding: 0 1em; }
h1 { font-size: 1.5em; }
h2 { font-size: 1.2em; border-bottom: 2px solid #2271b1; padding-bottom: 0.2em;
  margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; display: block; overflow-x: auto; }
th, td { border: 1px solid #c3c4c7; padding: 0.3em 0.6em; text-align: left;
  white-space: nowrap; }
th { background: #f0f0f1; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
figure.chart { margin: 1em 0; }
figure.chart svg { width: 100%; height: auto; max-width: 44em; }
.ok { color: #00701a; } .bad { color: #b32d2e; }
@media print {
  body { max-width: none; margin: 0; font-size: 10.5pt; }
  section { break-inside: avoid; }
  table { display: table; }
}
""".strip()


def report_page(report: SlaReport, *, charts: bool = True) -> Page:
    """The report as a page: its title, the hand-off count, and a section per part.

    Each section holds its result's blocks (``to_blocks()``); with ``charts`` the pacing and
    response-time sections also get their chart (HTML only: Markdown carries no charts).
    """
    title = report._heading()
    page = Page(title, css=_CSS)
    page.heading(1, title)
    page.paragraph(f"{report.handoffs:,} hand-offs in the period.")
    figures: dict[str, str] = {}
    if charts and report.curve is not None and report.curve.points:
        figures["Marketing pacing"] = _pacing_svg(report.curve)
    if charts and report.responses:
        figures["Response time"] = _distribution_svg(report.responses[0])
    for heading, blocks in report._sections():
        chart = [Figure(figures.pop(heading))] if heading in figures else []
        page.add(Section(heading, [*chart, *blocks]))
    return page


def _pacing_svg(curve: PacingCurve) -> str:
    """Delivered to date (solid) against the straight line (dashed), by business day."""
    width, height, pad = 640, 260, 44
    points = curve.points
    known = [p.delivered for p in points if p.delivered is not None]
    top = max(max(p.line for p in points), max(known, default=Decimal(0)), Decimal(1))
    count = len(points)

    def x(i: int) -> float:
        return pad + (width - 2 * pad) * (i / max(count - 1, 1))

    def y(value: Decimal) -> float:
        return height - pad - (height - 2 * pad) * float(value / top)

    line = " ".join(f"{x(i):.1f},{y(p.line):.1f}" for i, p in enumerate(points))
    done = " ".join(
        f"{x(i):.1f},{y(p.delivered):.1f}" for i, p in enumerate(points) if p.delivered is not None
    )
    labels = "".join(
        f'<text x="{x(i):.1f}" y="{height - pad + 16}" font-size="10" text-anchor="middle">'
        f"{point.day.day}</text>"
        for i, point in enumerate(points)
        if i % max(count // 8, 1) == 0
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        'role="img" aria-label="Delivered to date against the straight line">'
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        'stroke="#8c8f94"/>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#8c8f94"/>'
        f'<text x="{pad}" y="{pad - 10}" font-size="11">{html.escape(format_money(top))}</text>'
        f'<polyline points="{line}" fill="none" stroke="#8c8f94" stroke-width="2" '
        'stroke-dasharray="6 4"/>'
        f'<polyline class="delivered" points="{done}" fill="none" stroke="#2271b1" '
        'stroke-width="3"/>'
        f"{labels}"
        f'<text x="{width - pad}" y="{pad - 10}" font-size="11" text-anchor="end">'
        "solid: delivered to date; dashed: the straight line</text>"
        "</svg>"
    )


def _distribution_svg(report: ResponseReport) -> str:
    """Bars of hand-offs per response-time bucket."""
    names = list(report.summary.buckets)  # named for the rule's clock; "over" and "never" last
    values = [report.summary.buckets[name] for name in names]
    width, height, pad = 640, 240, 40
    top = max(max(values), 1)
    slot = (width - 2 * pad) / len(values)
    bars = []
    for i, (name, value) in enumerate(zip(names, values, strict=True)):
        bar = (height - 2 * pad) * value / top
        left = pad + i * slot + slot * 0.15
        colour = "#b32d2e" if i >= len(names) - 2 else "#2271b1"
        bars.append(
            f'<rect class="bar" x="{left:.1f}" y="{height - pad - bar:.1f}" '
            f'width="{slot * 0.7:.1f}" height="{bar:.1f}" fill="{colour}"/>'
            f'<text x="{left + slot * 0.35:.1f}" y="{height - pad + 16}" font-size="11" '
            f'text-anchor="middle">{html.escape(name)}</text>'
            f'<text x="{left + slot * 0.35:.1f}" y="{height - pad - bar - 4:.1f}" '
            f'font-size="11" text-anchor="middle">{value:,}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        'role="img" aria-label="Response-time distribution">'
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        'stroke="#8c8f94"/>' + "".join(bars) + "</svg>"
    )
