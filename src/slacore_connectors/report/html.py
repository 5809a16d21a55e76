"""The report as a page of blocks: one self-contained HTML file with its charts, for phones and
paper, and the same blocks as Markdown.

Private to :mod:`slacore_connectors.report`: :meth:`SlaReport.to_html` and
:meth:`SlaReport.to_markdown` call :func:`report_page`.
"""

from __future__ import annotations

import html
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING

from slacore.planning.pacing import Measure
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
table.rejected td:last-child { white-space: normal; min-width: 18em; }
figure.chart { margin: 1em 0; }
figure.chart svg { display: block; width: 100%; max-width: 44em; overflow: visible; }
figure.chart text { font-family: inherit; fill: #1d2327; }
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


# Charts are drawn in CSS pixels, not scaled down from a fixed drawing: the outer <svg> has no
# viewBox, so its text is as large on a phone as on a desktop. Horizontal positions are
# percentages of the chart's width; a line's points go in an inner <svg> stretched across the
# plot (preserveAspectRatio="none") whose strokes do not scale.
_FONT = 12
_LEFT, _RIGHT = 1.0, 99.0  # the plot's edges, in % of the chart's width


def _pct(share: float) -> str:
    """The position ``share`` (0 to 1) of the way across the plot, as an SVG percentage."""
    return f"{_LEFT + (_RIGHT - _LEFT) * share:.2f}%"


def _anchor(share: float) -> str:
    """Labels near an edge of the plot hang inwards, so none is cut at a phone's width."""
    return "start" if share < 0.08 else "end" if share > 0.92 else "middle"


def _nice_step(top: Decimal, ticks: int = 4) -> Decimal:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about ``ticks`` steps."""
    rough = top / ticks
    power = Decimal(10) ** (rough.adjusted())
    for factor in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        if factor * power >= rough:
            return factor * power
    return 10 * power  # pragma: no cover - the loop's last factor always suffices


def _axis_label(value: Decimal, measure: Measure) -> str:
    """A tick's label: money as $150k or $1.25M, leads as a count."""
    if measure is Measure.LEADS:
        return f"{int(value):,}"
    for size, suffix in ((Decimal(1_000_000), "M"), (Decimal(1_000), "k")):
        if value >= size:
            figure = format(value / size, "f")
            if "." in figure:
                figure = figure.rstrip("0").rstrip(".")
            return f"${figure}{suffix}"
    return format_money(value)


def _day_labels(days: list[date]) -> list[int]:
    """Which days get a label: the week's first business day (each day, in a short period),
    at most six, evenly thinned."""
    starts = [
        i
        for i, day in enumerate(days)
        if i == 0 or day.isocalendar()[:2] != days[i - 1].isocalendar()[:2]
    ]
    chosen = starts if len(starts) >= 3 else list(range(len(days)))
    step = -(-len(chosen) // 6)
    return chosen[::step]


def _text(x: str, y: float, label: str, *, anchor: str = "start", css: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    return (
        f'<text{klass} x="{x}" y="{y:.1f}" font-size="{_FONT}" text-anchor="{anchor}" '
        'stroke="#fff" stroke-width="3" paint-order="stroke">'
        f"{html.escape(label)}</text>"
    )


def _pacing_svg(curve: PacingCurve) -> str:
    """Delivered to date (solid) against the straight line (dashed), by business day, with
    the values on the vertical axis and the dates on the horizontal one."""
    height, top_pad, bottom_pad = 300, 56, 30
    plot = height - top_pad - bottom_pad
    points = curve.points
    measure = curve.pacing.measure
    known = [p.delivered for p in points if p.delivered is not None]
    highest = max(max(p.line for p in points), max(known, default=Decimal(0)), Decimal(1))
    step = _nice_step(highest)
    if measure is Measure.LEADS:  # whole leads only
        step = max(step.to_integral_value(rounding=ROUND_CEILING), Decimal(1))
    steps = int((highest / step).to_integral_value(rounding=ROUND_CEILING))
    ticks = [step * k for k in range(steps + 1)]
    top = ticks[-1]
    count = len(points)

    def share(i: int) -> float:
        return i / max(count - 1, 1)

    def y(value: Decimal) -> float:
        return plot - plot * float(value / top)

    def where(i: int, value: Decimal) -> str:
        return f"{1000 * share(i):.1f},{y(value):.1f}"

    line = " ".join(where(i, p.line) for i, p in enumerate(points))
    done = " ".join(where(i, p.delivered) for i, p in enumerate(points) if p.delivered is not None)
    grid = "".join(
        f'<line x1="{_pct(0)}" x2="{_pct(1)}" y1="{top_pad + y(tick):.1f}" '
        f'y2="{top_pad + y(tick):.1f}" stroke="{"#8c8f94" if not tick else "#dcdcde"}"/>'
        for tick in ticks
    )
    values = "".join(
        _text(_pct(0), top_pad + y(tick) - 4, _axis_label(tick, measure), css="y-tick")
        for tick in ticks
    )
    days = [p.day for p in points]
    dates = "".join(
        f'<line x1="{_pct(share(i))}" x2="{_pct(share(i))}" y1="{top_pad + plot}" '
        f'y2="{top_pad + plot + 5}" stroke="#8c8f94"/>'
        + _text(
            _pct(share(i)),
            height - 8,
            f"{days[i]:%b} {days[i].day}",
            anchor=_anchor(share(i)),
            css="x-tick",
        )
        for i in _day_labels(days)
    )
    what = "leads" if measure is Measure.LEADS else "lead value"
    legend = (
        '<line x1="0" x2="24" y1="10" y2="10" stroke="#2271b1" stroke-width="3"/>'
        + _text("30", 14, f"{what} delivered to date")
        + '<line x1="0" x2="24" y1="30" y2="30" stroke="#8c8f94" stroke-width="2" '
        'stroke-dasharray="6 4"/>' + _text("30", 34, "the straight line to the target")
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="{height}" '
        f'role="img" aria-label="{what.capitalize()} delivered to date against the straight '
        'line, by business day">'
        '<rect x="0" y="0" width="100%" height="100%" fill="#fff"/>'
        f"{legend}{grid}"
        f'<svg x="{_pct(0)}" y="{top_pad}" width="{_RIGHT - _LEFT:.2f}%" height="{plot}" '
        f'viewBox="0 0 1000 {plot}" preserveAspectRatio="none" overflow="visible">'
        f'<polyline points="{line}" fill="none" stroke="#8c8f94" stroke-width="2" '
        'stroke-dasharray="6 4" vector-effect="non-scaling-stroke"/>'
        f'<polyline class="delivered" points="{done}" fill="none" stroke="#2271b1" '
        'stroke-width="3" vector-effect="non-scaling-stroke"/>'
        f"</svg>{values}{dates}</svg>"
    )


def _distribution_svg(report: ResponseReport) -> str:
    """A bar per response-time bucket, its name and count above it: rows, so the names have
    the chart's whole width at any size."""
    names = list(report.summary.buckets)  # named for the rule's clock; "over" and "never" last
    values = [report.summary.buckets[name] for name in names]
    row, top_pad = 40, 4
    height = top_pad + row * len(names)
    most = max(max(values), 1)
    rows = []
    for i, (name, value) in enumerate(zip(names, values, strict=True)):
        base = top_pad + i * row
        colour = "#b32d2e" if i >= len(names) - 2 else "#2271b1"
        rows.append(
            _text("0", base + 14, name, css="bucket")
            + _text("100%", base + 14, f"{value:,}", anchor="end", css="count")
            + f'<rect class="bar" x="0" y="{base + 20}" width="{100 * value / most:.2f}%" '
            f'height="14" fill="{colour}"/>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="{height}" '
        'role="img" aria-label="Response-time distribution">'
        '<rect x="0" y="0" width="100%" height="100%" fill="#fff"/>' + "".join(rows) + "</svg>"
    )
