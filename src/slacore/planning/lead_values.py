"""Lead value: what a lead is worth at the moment it converts (seed 001, seed 000).

Lead value = close rate of the lead's segment x average deal value of that segment. A
mid-market VP downloading an ebook closes 1% of the time at $100,000: $1,000. The same VP
requesting a demo closes 3% of the time: $3,000. Marketing's quota then becomes lead value
("$300,000 of lead value this month"), reached by any mix of leads.

A :class:`LeadValueTable` holds the value of each source or segment (seed 000: referral
$5,000, content $1,000, webinar $2,000, web sales-ready $4,000), values a month's mix of leads
(:meth:`~LeadValueTable.value_of`) and works out the mix that reaches a quota
(:meth:`~LeadValueTable.mix_for_quota`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from fractions import Fraction
from operator import attrgetter
from typing import Any

import attrs

from slacore import _arrow as arrow
from slacore._values import (
    MoneyLike,
    RateLike,
    ceil_count,
    format_rate,
    quantize_money,
    to_money,
    to_rate,
)
from slacore.errors import PlanError, UnknownKeyError, ValidationError
from slacore.render import (
    format_count,
    format_money,
    json_dict,
    markdown_table,
    result_markdown,
)

__all__ = [
    "LeadValue",
    "LeadValueTable",
    "MixLine",
    "MixValue",
    "QuotaMix",
    "lead_value",
]


@attrs.frozen(kw_only=True)
class LeadValue:
    """The value of one lead of a segment at conversion.

    Attributes:
        close_rate: Share of the segment's leads that become customers.
        average_deal_value: What those customers spend on average.
        value: ``close_rate x average_deal_value``, rounded half-up to cents.
        segment: The segment or source, if named.

    """

    close_rate: Fraction
    average_deal_value: Decimal
    value: Decimal
    segment: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The figures, JSON-ready."""
        return json_dict(attrs.asdict(self, recurse=False))

    def explain(self) -> str:
        """One sentence with the working."""
        name = f"A {self.segment} lead" if self.segment else "A lead"
        return (
            f"{name} is worth {format_rate(self.close_rate)} x "
            f"{format_money(self.average_deal_value)} = {format_money(self.value)}."
        )

    def to_markdown(self) -> str:
        """The explanation and its figures as a table."""
        return result_markdown(
            self.explain(),
            ["segment", "close rate", "average deal value", "lead value"],
            [[self.segment or "", self.close_rate, self.average_deal_value, self.value]],
        )


def lead_value(
    close_rate: RateLike, average_deal_value: MoneyLike, *, segment: str | None = None
) -> LeadValue:
    """Value a lead at conversion: close rate x average deal value.

    Args:
        close_rate: Share of such leads that become customers, in [0, 1] (``0.01``, ``"1%"``).
        average_deal_value: What a customer from such a lead spends on average.
        segment: A name for the segment, for the explanation.

    Returns:
        A :class:`LeadValue`, its value rounded half-up to cents.

    Raises:
        ValidationError: The rate is outside [0, 1] or the deal value is negative.

    >>> lead_value("1%", 100_000).value
    Decimal('1000.00')
    >>> lead_value(0.03, 100_000).value
    Decimal('3000.00')

    """
    rate = to_rate(close_rate, field="close_rate")
    if not 0 <= rate <= 1:
        raise ValidationError(
            message=f"expected a rate between 0 and 1, got {format_rate(rate)}",
            field="close_rate",
        )
    deal = to_money(average_deal_value, field="average_deal_value")
    if deal < 0:
        raise ValidationError(
            message=f"must not be negative, got {deal}", field="average_deal_value"
        )
    return LeadValue(
        close_rate=rate,
        average_deal_value=deal,
        value=quantize_money(rate * Fraction(deal)),
        segment=segment,
    )


@attrs.frozen(kw_only=True)
class MixLine:
    """One source or segment in a mix of leads.

    Attributes:
        key: The source or segment.
        count: How many leads.
        unit_value: The value of one lead.
        value: ``count x unit_value``.

    """

    key: str
    count: int
    unit_value: Decimal
    value: Decimal


def _mix_table(lines: Iterable[MixLine]) -> Any:
    """The lines of a mix as a ``pyarrow.Table``."""
    return arrow.records_table(
        lines,
        [
            ("key", arrow.strings, attrgetter("key")),
            ("count", arrow.integers, attrgetter("count")),
            ("unit_value", arrow.decimals, attrgetter("unit_value")),
            ("value", arrow.decimals, attrgetter("value")),
        ],
    )


@attrs.frozen(kw_only=True)
class MixValue(arrow.TableResult):
    """The lead value of a mix of leads (a month's delivery, say).

    Attributes:
        lines: One line per source or segment, in the order given.
        total: The sum of the lines' values.
        quota: The lead-value quota to compare with, if given.

    """

    lines: tuple[MixLine, ...]
    total: Decimal
    quota: Decimal | None = None

    @property
    def count(self) -> int:
        """Leads in the mix."""
        return sum(line.count for line in self.lines)

    @property
    def meets_quota(self) -> bool | None:
        """Whether the total reaches the quota (``None`` without a quota)."""
        return None if self.quota is None else self.total >= self.quota

    def to_arrow(self) -> Any:
        """The lines as a ``pyarrow.Table``: ``key`` (the source or segment, a string),
        ``count`` (int), ``unit_value`` and ``value`` (decimals).

        Raises:
            ModuleNotFoundError: pyarrow is not installed (``pip install 'slacore[arrow]'``).

        """
        return _mix_table(self.lines)

    def to_dict(self) -> dict[str, Any]:
        """The figures, JSON-ready."""
        return json_dict(
            {
                "lines": [attrs.asdict(line) for line in self.lines],
                "count": self.count,
                "total": self.total,
                "quota": self.quota,
                "meets_quota": self.meets_quota,
            }
        )

    def explain(self) -> str:
        """One sentence with the working."""
        parts = " + ".join(
            f"{format_count(line.count)} {line.key} x {format_money(line.unit_value)}"
            for line in self.lines
        )
        text = f"{parts} = {format_money(self.total)} of lead value"
        if self.quota is not None:
            verdict = "meets" if self.meets_quota else "misses"
            text += f", which {verdict} the {format_money(self.quota)} quota"
        return text + "."

    def to_markdown(self) -> str:
        """The explanation and a table, one row per source, with a total."""
        rows: list[list[Any]] = [
            [line.key, line.count, line.unit_value, line.value] for line in self.lines
        ]
        rows.append(["**total**", self.count, "", self.total])
        table = markdown_table(["source", "leads", "value each", "lead value"], rows)
        return f"{self.explain()}\n\n{table}\n"


@attrs.frozen(kw_only=True)
class QuotaMix(arrow.TableResult):
    """The smallest mix of leads, in the given proportions, that reaches a quota.

    Attributes:
        quota: The lead-value quota.
        shares: The proportion of each source in the mix (by count), summing to 1.
        lines: The leads needed per source (rounded up) and their value.
        total: Lead value of the mix; at least ``quota``.

    """

    quota: Decimal
    shares: tuple[tuple[str, Fraction], ...]
    lines: tuple[MixLine, ...]
    total: Decimal

    @property
    def count(self) -> int:
        """Leads in the mix."""
        return sum(line.count for line in self.lines)

    def to_arrow(self) -> Any:
        """The lines as a ``pyarrow.Table``: ``key`` (the source or segment, a string),
        ``count`` (int), ``unit_value`` and ``value`` (decimals).

        Raises:
            ModuleNotFoundError: pyarrow is not installed (``pip install 'slacore[arrow]'``).

        """
        return _mix_table(self.lines)

    def to_dict(self) -> dict[str, Any]:
        """The figures, JSON-ready."""
        return json_dict(
            {
                "quota": self.quota,
                "shares": dict(self.shares),
                "lines": [attrs.asdict(line) for line in self.lines],
                "count": self.count,
                "total": self.total,
            }
        )

    def explain(self) -> str:
        """One sentence: the mix and its value against the quota."""
        parts = ", ".join(f"{format_count(line.count)} {line.key}" for line in self.lines)
        return (
            f"To reach {format_money(self.quota)} of lead value: {parts} "
            f"({format_money(self.total)}; counts round up)."
        )

    def to_markdown(self) -> str:
        """The explanation and one row per source of the mix."""
        shares = dict(self.shares)
        return result_markdown(
            self.explain(),
            ["source", "share", "leads", "lead value", "value"],
            [
                [line.key, shares[line.key], line.count, line.unit_value, line.value]
                for line in self.lines
            ],
        )


def _count(key: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(
            message=f"expected a whole number of leads >= 0, got {value!r}", field=f"mix.{key}"
        )
    return value


@attrs.frozen
class LeadValueTable(Mapping[str, Decimal], arrow.TableResult):
    """Lead values by source or segment; a read-only mapping of name -> value.

    >>> table = LeadValueTable.from_mapping(
    ...     {"referral": 5000, "content": 1000, "webinar": 2000, "web": 4000}
    ... )
    >>> table.value_of({"referral": 10, "content": 200, "webinar": 50, "web": 50}).total
    Decimal('550000')

    Raises:
        ValidationError: A value is negative, or a name is empty.

    """

    items_: tuple[tuple[str, Decimal], ...] = attrs.field(alias="items")

    @items_.validator
    def _check(
        self, attribute: attrs.Attribute[tuple[tuple[str, Decimal], ...]], value: Any
    ) -> None:
        if isinstance(value, Mapping) or not isinstance(value, tuple | list):
            raise ValidationError(
                message=(
                    "expected (name, value) pairs; build a table from a mapping with "
                    "LeadValueTable.from_mapping({...})"
                ),
                field="lead_values",
            )
        seen: set[str] = set()
        for item in value:
            if not isinstance(item, tuple | list) or len(item) != 2:
                raise ValidationError(
                    message=f"expected a (name, value) pair, got {item!r}", field="lead_values"
                )
            key, amount = item
            if not isinstance(key, str) or not key:
                raise ValidationError(message=f"expected a name, got {key!r}", field="lead_values")
            if key in seen:
                raise ValidationError(message="appears twice", field=f"lead_values.{key}")
            if amount < 0:
                raise ValidationError(
                    message=f"must not be negative, got {amount}", field=f"lead_values.{key}"
                )
            seen.add(key)

    @classmethod
    def from_mapping(cls, values: Mapping[str, MoneyLike]) -> LeadValueTable:
        """Build a table from ``{"referral": 5000, ...}`` (amounts as Decimal, int or str)."""
        return cls(
            tuple(
                (key, to_money(value, field=f"lead_values.{key}")) for key, value in values.items()
            )
        )

    @classmethod
    def from_lead_values(cls, values: Iterable[LeadValue]) -> LeadValueTable:
        """Build a table from :class:`LeadValue` results (each needs a ``segment``)."""
        items: list[tuple[str, Decimal]] = []
        for item in values:
            if item.segment is None:
                raise ValidationError(
                    message="a lead value in a table needs a segment name", field="segment"
                )
            items.append((item.segment, item.value))
        return cls(tuple(items))

    def __getitem__(self, key: str) -> Decimal:
        for name, value in self.items_:
            if name == key:
                return value
        raise UnknownKeyError(
            message=f"no lead value for {key!r}", key=key, known=tuple(k for k, _ in self.items_)
        )

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self.items_)

    def __len__(self) -> int:
        return len(self.items_)

    def value_of(self, counts: Mapping[str, int], *, quota: MoneyLike | None = None) -> MixValue:
        """The lead value of a mix of leads: sum of count x value per source.

        Args:
            counts: Leads per source or segment, e.g. ``{"referral": 10, "content": 200}``.
            quota: A lead-value quota to compare the total with.

        Raises:
            UnknownKeyError: A source has no value in the table.
            ValidationError: A count is negative or not whole.

        """
        lines = []
        for key, count in counts.items():
            unit = self[key]
            number = _count(key, count)
            lines.append(MixLine(key=key, count=number, unit_value=unit, value=unit * number))
        return MixValue(
            lines=tuple(lines),
            total=sum((line.value for line in lines), Decimal(0)),
            quota=None if quota is None else to_money(quota, field="quota"),
        )

    def mix_for_quota(
        self, quota: MoneyLike, *, shares: Mapping[str, RateLike] | str | None = None
    ) -> QuotaMix:
        """The smallest mix, in fixed proportions, whose lead value reaches ``quota``.

        Args:
            quota: The lead-value quota, e.g. ``300_000``.
            shares: The proportion of each source by count (``{"demo": 1, "ebook": 3}``;
                normalised to sum to 1), or one source name to reach the quota with it alone.
                Default: every source in the table in equal numbers.

        Returns:
            A :class:`QuotaMix`; counts round up, so its total is at least the quota.

        Raises:
            UnknownKeyError: A source has no value in the table.
            PlanError: The chosen sources are all worth nothing, so no mix reaches the quota.
            ValidationError: A negative quota or share.

        >>> table = LeadValueTable.from_mapping({"demo": 3000, "ebook": 1000})
        >>> table.mix_for_quota(300_000, shares="ebook").count
        300

        """
        goal = to_money(quota, field="quota")
        if goal < 0:
            raise ValidationError(message=f"must not be negative, got {goal}", field="quota")
        if shares is None:
            weights = {key: Fraction(1) for key in self}
        elif isinstance(shares, str):
            weights = {shares: Fraction(1)}
        else:
            weights = {key: to_rate(w, field=f"shares.{key}") for key, w in shares.items()}
        for key, weight in weights.items():
            self[key]
            if weight < 0:
                raise ValidationError(message="must not be negative", field=f"shares.{key}")
        weight_total = sum(weights.values(), Fraction(0))
        value_per_unit = sum((w * Fraction(self[key]) for key, w in weights.items()), Fraction(0))
        if weight_total == 0 or value_per_unit == 0:
            raise PlanError(message="the chosen sources are worth nothing: no mix reaches a quota")
        scale = Fraction(goal) / value_per_unit
        lines = []
        for key, weight in weights.items():
            count = ceil_count(weight * scale)
            lines.append(
                MixLine(key=key, count=count, unit_value=self[key], value=self[key] * count)
            )
        return QuotaMix(
            quota=goal,
            shares=tuple((key, w / weight_total) for key, w in weights.items()),
            lines=tuple(lines),
            total=sum((line.value for line in lines), Decimal(0)),
        )

    def to_arrow(self) -> Any:
        """The values as a ``pyarrow.Table``: ``key`` (the source or segment, a string) and
        ``value`` (decimal), in the table's order.

        Raises:
            ModuleNotFoundError: pyarrow is not installed (``pip install 'slacore[arrow]'``).

        """
        return arrow.table(
            {"key": arrow.strings(list(self)), "value": arrow.decimals(list(self.values()))}
        )

    def to_dict(self) -> dict[str, Any]:
        """The table as ``{name: value}``, JSON-ready."""
        return json_dict(dict(self.items_))

    def explain(self) -> str:
        """One sentence: how many sources and the range of their values."""
        if not self.items_:
            return "No lead values."
        values = [value for _, value in self.items_]
        low, high = format_money(min(values)), format_money(max(values))
        count = len(values)
        spread = low if low == high else f"from {low} to {high}"
        return f"Lead value for {count} {'source' if count == 1 else 'sources'}: {spread}."

    def to_markdown(self) -> str:
        """A two-column table."""
        return markdown_table(["source", "lead value"], [list(item) for item in self.items_])
