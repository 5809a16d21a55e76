"""Turning figures into text: money, counts, rates, Markdown tables, JSON-ready values, pages.

Results call these to explain themselves; reports are built from the results' own figures,
never recomputed. A :class:`Page` is a document as blocks (headings, paragraphs, bullet
lists, tables, charts, sections), written as Markdown or as one self-contained HTML file: the
one HTML writer of slacore, used by the signed agreement and the SLA report.
"""

from __future__ import annotations

import enum
import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from slacore._values import format_rate
from slacore.calendar.duration import format_duration

__all__ = [
    "Block",
    "Bullets",
    "Figure",
    "Heading",
    "Inline",
    "Page",
    "Paragraph",
    "Section",
    "Strong",
    "Table",
    "blocks_markdown",
    "format_count",
    "format_money",
    "format_rate",
    "json_dict",
    "jsonable",
    "markdown_table",
    "result_markdown",
]


def format_money(amount: Decimal, *, symbol: str = "$") -> str:
    """Format money with thousands separators; cents only when there are any.

    >>> format_money(Decimal("550000"))
    '$550,000'
    >>> format_money(Decimal("833333.33"))
    '$833,333.33'
    >>> format_money(Decimal("-1250.5"))
    '-$1,250.50'
    """
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    whole = amount == amount.to_integral_value()
    text = f"{int(amount):,}" if whole else f"{amount:,.2f}"
    return f"{sign}{symbol}{text}"


def format_count(count: int) -> str:
    """Format a count with thousands separators: ``1,000``."""
    return f"{count:,}"


_AS_THEY_ARE = frozenset({str, int, float, bool, type(None)})
"""Types :func:`jsonable` gives back as they are (exactly these, not subclasses such as
enums)."""


def jsonable(value: Any) -> Any:
    """Convert a figure to a JSON-ready value.

    Decimals (money) become strings so no cent is lost to floating point; rates
    (Fractions) become floats; dates and times ISO 8601 strings; durations seconds;
    enums their value; mappings and sequences are converted item by item.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Fraction):
        return float(value)
    if isinstance(value, float):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence | set | frozenset):
        if type(value) in (list, tuple) and set(map(type, value)) <= _AS_THEY_ARE:
            return list(value)  # a report's lists of lead ids: checked in C, not item by item
        return [jsonable(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    raise TypeError(f"cannot convert {type(value).__name__} to JSON")


def json_dict(data: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`jsonable` for a mapping of figures: the body of every ``to_dict()``."""
    return {str(key): jsonable(value) for key, value in data.items()}


def cell(value: Any) -> str:
    """Format one value for a table cell."""
    if isinstance(value, Decimal):
        return format_money(value)
    if isinstance(value, Fraction):
        return format_rate(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return format_count(value)
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None:
        return ""
    return str(value).replace("|", "\\|")


def _numeric_column(values: list[Any]) -> bool:
    filled = [v for v in values if v is not None and v != ""]
    return bool(filled) and all(
        isinstance(v, int | Decimal | Fraction) and not isinstance(v, bool) for v in filled
    )


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table; numbers are right-aligned.

    >>> print(markdown_table(["source", "value"], [["referral", Decimal(5000)]]))
    | source | value |
    | --- | ---: |
    | referral | $5,000 |
    """
    materialised = [list(row) for row in rows]
    numeric = [_numeric_column([row[i] for row in materialised]) for i in range(len(header))]
    lines = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---:" if n else "---" for n in numeric) + " |",
    ]
    lines.extend("| " + " | ".join(cell(v) for v in row) + " |" for row in materialised)
    return "\n".join(lines)


def result_markdown(explanation: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A result's Markdown: its explanation, then its figures as a table.

    >>> print(result_markdown("Two figures.", ["figure", "value"], [["goal", Decimal(5)]]))
    Two figures.
    <BLANKLINE>
    | figure | value |
    | --- | ---: |
    | goal | $5 |
    <BLANKLINE>
    """
    return f"{explanation}\n\n{markdown_table(header, rows)}\n"


# --- pages --------------------------------------------------------------------------------------


@attrs.frozen
class Strong:
    """Bold text inside a paragraph, list item or table cell (``**text**`` in Markdown).

    Attributes:
        text: The text, plain (escaped when written as HTML).

    """

    text: str

    def __str__(self) -> str:
        return f"**{self.text}**"


Inline = str | Strong | tuple[str | Strong, ...]
"""Text with optional bold runs: a plain string, a :class:`Strong`, or a sequence of both."""


def _inlines(items: Iterable[Inline]) -> tuple[Inline, ...]:
    return tuple(items)


def _inline_html(text: Inline) -> str:
    """Each run escaped once; bold runs in ``<strong>``."""
    if isinstance(text, str):
        return html.escape(text)
    if isinstance(text, Strong):
        return f"<strong>{html.escape(text.text)}</strong>"
    return "".join(_inline_html(part) for part in text)


def _inline_markdown(text: Inline) -> str:
    if isinstance(text, str | Strong):
        return str(text)
    return "".join(str(part) for part in text)


@attrs.frozen
class Heading:
    """A heading.

    Attributes:
        level: 1 (the page's title) to 6.
        text: The heading.

    """

    level: int
    text: Inline

    def markdown(self) -> str:
        """``## text``."""
        return f"{'#' * self.level} {_inline_markdown(self.text)}"

    def html(self) -> str:
        """``<h2>text</h2>``."""
        return f"<h{self.level}>{_inline_html(self.text)}</h{self.level}>"


@attrs.frozen
class Paragraph:
    """A paragraph.

    Attributes:
        text: The paragraph.

    """

    text: Inline

    def markdown(self) -> str:
        """The text as it is."""
        return _inline_markdown(self.text)

    def html(self) -> str:
        """``<p>text</p>``."""
        return f"<p>{_inline_html(self.text)}</p>"


@attrs.frozen
class Bullets:
    """A bullet list.

    Attributes:
        items: One text per item.

    """

    items: tuple[Inline, ...] = attrs.field(converter=_inlines)

    def markdown(self) -> str:
        """``- item`` lines."""
        return "\n".join(f"- {_inline_markdown(item)}" for item in self.items)

    def html(self) -> str:
        """``<ul><li>item</li>...</ul>``."""
        return "<ul>" + "".join(f"<li>{_inline_html(item)}</li>" for item in self.items) + "</ul>"


def _rows(rows: Iterable[Sequence[Any]]) -> tuple[tuple[Any, ...], ...]:
    return tuple(tuple(row) for row in rows)


@attrs.frozen
class Table:
    """A table of values, formatted with :func:`cell`; numeric columns align right.

    Attributes:
        header: The column names.
        rows: The rows of values (money, counts, rates, dates, text; :class:`Strong` for bold).
        css: A class for the HTML table, if any.
        numeric: Which columns align right; by default those holding only numbers.

    """

    header: tuple[Inline, ...] = attrs.field(converter=_inlines)
    rows: tuple[tuple[Any, ...], ...] = attrs.field(converter=_rows)
    css: str = ""
    numeric: tuple[bool, ...] | None = None

    def _numeric(self) -> tuple[bool, ...]:
        if self.numeric is not None:
            return self.numeric
        return tuple(
            _numeric_column([row[i] for row in self.rows]) for i in range(len(self.header))
        )

    def markdown(self) -> str:
        """A :func:`markdown_table`."""
        rich = (Strong, tuple)
        rows = [[_inline_markdown(v) if isinstance(v, rich) else v for v in r] for r in self.rows]
        return markdown_table([_inline_markdown(h) for h in self.header], rows)

    def html(self) -> str:
        """``<table>`` with a head and a body; ``class="num"`` on right-aligned cells."""
        numeric = self._numeric()

        def attrs_of(i: int) -> str:
            return ' class="num"' if i < len(numeric) and numeric[i] else ""

        def text(value: Any) -> str:
            if isinstance(value, Strong | tuple):
                return _inline_html(value)
            return html.escape(cell(value).replace("\\|", "|"))

        head = "".join(
            f"<th{attrs_of(i)}>{_inline_html(h)}</th>" for i, h in enumerate(self.header)
        )
        body = "".join(
            "<tr>"
            + "".join(f"<td{attrs_of(i)}>{text(v)}</td>" for i, v in enumerate(row))
            + "</tr>"
            for row in self.rows
        )
        klass = f' class="{self.css}"' if self.css else ""
        return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@attrs.frozen
class Figure:
    """A chart: SVG markup written by the caller, put in the HTML as it is (not escaped).

    Attributes:
        svg: The ``<svg>`` element.

    """

    svg: str

    def markdown(self) -> str:
        """Nothing: Markdown carries no charts."""
        return ""

    def html(self) -> str:
        """``<figure class="chart">svg</figure>``."""
        return f'<figure class="chart">{self.svg}</figure>'


def _blocks(items: Iterable[Block]) -> tuple[Block, ...]:
    return tuple(items)


@attrs.frozen
class Section:
    """A headed part of a page: ``<section>`` in HTML.

    Attributes:
        heading: The section's heading (level 2).
        blocks: What it holds.

    """

    heading: str
    blocks: tuple[Block, ...] = attrs.field(converter=_blocks)

    def markdown(self) -> str:
        """``## heading`` and the blocks, a blank line apart."""
        return _join_markdown([Heading(2, self.heading), *self.blocks])

    def html(self) -> str:
        """``<section><h2>heading</h2>`` and the blocks, one per line."""
        inner = [block.html() for block in self.blocks]
        return "\n".join([f"<section>{Heading(2, self.heading).html()}", *inner, "</section>"])


Block = Heading | Paragraph | Bullets | Table | Figure | Section
"""What a :class:`Page` is made of."""


def _join_markdown(blocks: Iterable[Block]) -> str:
    return "\n\n".join(text for text in (block.markdown() for block in blocks) if text)


def blocks_markdown(blocks: Iterable[Block]) -> str:
    """The Markdown of a result's blocks, a blank line apart, ending in a newline: every
    result's ``to_markdown()`` is this of its ``to_blocks()``."""
    return _join_markdown(blocks) + "\n"


class Page:
    """A document as blocks, written as Markdown or as one self-contained HTML file.

    The HTML needs no network: the style sheet is inline and charts are inline SVG. Every
    text is escaped once, when it is written; only a :class:`Figure` goes in as it is.

    >>> page = Page("Plan", css="p { margin: 0; }")
    >>> page.heading(1, "Plan")
    >>> page.paragraph("Fish & chips <3")
    >>> page.table(["source", "value"], [["referral", Decimal(5000)]])
    >>> print(page.markdown())
    # Plan
    <BLANKLINE>
    Fish & chips <3
    <BLANKLINE>
    | source | value |
    | --- | ---: |
    | referral | $5,000 |
    <BLANKLINE>
    >>> "<p>Fish &amp; chips &lt;3</p>" in page.html()
    True
    """

    def __init__(self, title: str, *, css: str = "") -> None:
        """Start an empty page.

        Args:
            title: The HTML title.
            css: The style sheet, inlined in the HTML.

        """
        self.title = title
        self.css = css
        self.blocks: list[Block] = []

    def add(self, *blocks: Block) -> None:
        """Append blocks."""
        self.blocks.extend(blocks)

    def heading(self, level: int, text: Inline) -> None:
        """Append a heading."""
        self.add(Heading(level, text))

    def paragraph(self, text: Inline) -> None:
        """Append a paragraph; an empty text adds nothing."""
        if text:
            self.add(Paragraph(text))

    def bullets(self, items: Sequence[Inline]) -> None:
        """Append a bullet list; no items add nothing."""
        if items:
            self.add(Bullets(items))

    def table(self, header: Sequence[Inline], rows: Sequence[Sequence[Any]], css: str = "") -> None:
        """Append a :class:`Table`."""
        self.add(Table(header, rows, css))

    def markdown(self) -> str:
        """The page in Markdown (figures left out)."""
        return _join_markdown(self.blocks) + "\n"

    def html(self) -> str:
        """The page as one self-contained HTML file."""
        out = [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(self.title)}</title>",
            f"<style>\n{self.css}\n</style>",
            "</head>",
            "<body>",
            *(block.html() for block in self.blocks),
            "</body>",
            "</html>",
        ]
        return "\n".join(out) + "\n"
