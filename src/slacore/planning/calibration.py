"""Learning lead values from history (seed 001's "2 x 3 matrix", hand-raisers apart).

For each segment (persona x action, or source), the share of its leads that became customers
and what those customers spent. Thin segments are unreliable: a segment of 4 leads with one
customer is not a 25% close rate. So every figure says how many leads it rests on, segments
below ``min_sample`` are flagged, and the close rate and deal value are smoothed toward the
overall figures with a weight of ``prior_leads`` pseudo-leads (and ``prior_customers``
pseudo-customers), which matters for small segments and hardly at all for large ones:

    smoothed close rate = (customers + prior_leads x overall rate) / (leads + prior_leads)
    smoothed deal value = (revenue + prior_customers x overall deal value)
                          / (customers + prior_customers)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from fractions import Fraction
from operator import attrgetter
from typing import Any

import attrs

from slacore import _arrow as arrow
from slacore._values import format_rate, quantize_money
from slacore.errors import ValidationError
from slacore.model import Deal, Lead
from slacore.planning.lead_values import LeadValueTable
from slacore.render import format_count, format_money, json_dict, markdown_table

__all__ = ["Calibration", "SegmentValue", "calibrate"]

UNSEGMENTED = "(none)"
"""The segment name given to leads whose segment is not set."""


@attrs.frozen(kw_only=True)
class SegmentValue:
    """A segment's learnt lead value and the evidence under it.

    Attributes:
        segment: The segment name.
        leads: Leads in the segment (the sample size).
        customers: Of those, leads with at least one won deal.
        revenue: Total amount of their won deals.
        raw_close_rate: ``customers / leads``, unsmoothed.
        close_rate: The smoothed close rate.
        average_deal_value: The smoothed average deal value (cents).
        value: ``close_rate x average_deal_value``, rounded to cents.
        reliable: Whether ``leads`` reaches the minimum sample.

    """

    segment: str
    leads: int
    customers: int
    revenue: Decimal
    raw_close_rate: Fraction
    close_rate: Fraction
    average_deal_value: Decimal
    value: Decimal
    reliable: bool


@attrs.frozen(kw_only=True)
class Calibration(arrow.TableResult):
    """Lead values learnt from history, per segment, with the overall figures.

    Attributes:
        segments: One :class:`SegmentValue` per segment, largest first.
        leads: All leads considered.
        customers: All leads with a won deal.
        revenue: All won revenue attributed to those leads.
        overall_close_rate: ``customers / leads``.
        overall_deal_value: ``revenue / customers`` (0 with no customers).
        min_sample: Segments with fewer leads are flagged unreliable.
        prior_leads: Smoothing weight of the overall close rate, in leads.
        prior_customers: Smoothing weight of the overall deal value, in customers.
        unmatched_deals: Won deals whose lead was not among the leads (not counted).

    """

    segments: tuple[SegmentValue, ...]
    leads: int
    customers: int
    revenue: Decimal
    overall_close_rate: Fraction
    overall_deal_value: Decimal
    min_sample: int
    prior_leads: int
    prior_customers: int
    unmatched_deals: int

    def table(self) -> LeadValueTable:
        """The learnt values as a :class:`~slacore.planning.lead_values.LeadValueTable`."""
        return LeadValueTable(tuple((s.segment, s.value) for s in self.segments))

    def segment(self, name: str) -> SegmentValue:
        """The figures for one segment.

        Raises:
            UnknownKeyError: No lead had that segment.

        """
        for item in self.segments:
            if item.segment == name:
                return item
        from slacore.errors import UnknownKeyError

        raise UnknownKeyError(
            message=f"no segment {name!r} in the calibration",
            key=name,
            known=tuple(s.segment for s in self.segments),
        )

    def to_arrow(self) -> Any:
        """The segments as a ``pyarrow.Table``, largest first: ``segment`` (string),
        ``leads`` and ``customers`` (ints), ``revenue`` (decimal), ``raw_close_rate`` and
        ``close_rate`` (float shares), ``average_deal_value`` and ``value`` (decimals),
        ``reliable`` (bool).

        Raises:
            ModuleNotFoundError: pyarrow is not installed (``pip install 'slacore[arrow]'``).

        """
        return arrow.records_table(
            self.segments,
            [
                ("segment", arrow.strings, attrgetter("segment")),
                ("leads", arrow.integers, attrgetter("leads")),
                ("customers", arrow.integers, attrgetter("customers")),
                ("revenue", arrow.decimals, attrgetter("revenue")),
                ("raw_close_rate", arrow.shares, attrgetter("raw_close_rate")),
                ("close_rate", arrow.shares, attrgetter("close_rate")),
                ("average_deal_value", arrow.decimals, attrgetter("average_deal_value")),
                ("value", arrow.decimals, attrgetter("value")),
                ("reliable", arrow.flags, attrgetter("reliable")),
            ],
        )

    def to_dict(self) -> dict[str, Any]:
        """The figures, JSON-ready."""
        return json_dict(
            {
                "leads": self.leads,
                "customers": self.customers,
                "revenue": self.revenue,
                "overall_close_rate": self.overall_close_rate,
                "overall_deal_value": self.overall_deal_value,
                "min_sample": self.min_sample,
                "prior_leads": self.prior_leads,
                "prior_customers": self.prior_customers,
                "unmatched_deals": self.unmatched_deals,
                "segments": [attrs.asdict(s) for s in self.segments],
            }
        )

    def explain(self) -> str:
        """A short paragraph: the overall rate and any thin segments."""
        text = (
            f"Learnt from {format_count(self.leads)} leads, {format_count(self.customers)} of "
            f"whom became customers ({format_rate(self.overall_close_rate)}, "
            f"{format_money(self.overall_deal_value)} each on average)."
        )
        thin = [s.segment for s in self.segments if not s.reliable]
        if thin:
            text += (
                f" Fewer than {self.min_sample} leads in: {', '.join(thin)}; their values lean "
                "on the overall figures."
            )
        if self.unmatched_deals:
            text += f" {self.unmatched_deals} won deals had no matching lead and were not counted."
        return text

    def to_markdown(self) -> str:
        """The explanation and one row per segment."""
        rows = [
            [
                s.segment,
                s.leads,
                s.customers,
                s.raw_close_rate,
                s.close_rate,
                s.average_deal_value,
                s.value,
                "" if s.reliable else "thin",
            ]
            for s in self.segments
        ]
        table = markdown_table(
            [
                "segment",
                "leads",
                "customers",
                "raw close rate",
                "close rate",
                "deal value",
                "lead value",
                "note",
            ],
            rows,
        )
        return f"{self.explain()}\n\n{table}\n"


def _segment_by_attribute(lead: Lead) -> str:
    return lead.segment or UNSEGMENTED


def _non_negative_int(value: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(message=f"expected a whole number >= 0, got {value!r}", field=field)
    return value


def calibrate(
    leads: Iterable[Lead],
    deals: Iterable[Deal],
    *,
    segment_of: Callable[[Lead], str] | None = None,
    min_sample: int = 30,
    prior_leads: int | None = None,
    prior_customers: int = 3,
) -> Calibration:
    """Learn a lead value per segment from historical leads and their deals.

    A lead is a customer when at least one of its deals is won; its revenue is the sum of its
    won deals. Open and lost deals do not count. Each lead is counted once.

    Args:
        leads: The historical leads (streamed once).
        deals: Their deals (streamed once); matched to leads by ``lead_id``.
        segment_of: How to name a lead's segment; default its ``segment`` attribute
            (``"(none)"`` when unset). E.g. ``lambda lead: f"{lead.segment}/{lead.source}"``.
        min_sample: Segments with fewer leads are flagged ``reliable=False``.
        prior_leads: Weight of the overall close rate in pseudo-leads; default ``min_sample``.
            0 turns smoothing off.
        prior_customers: Weight of the overall deal value in pseudo-customers.

    Returns:
        A :class:`Calibration`, segments sorted by size (largest first), then name.

    Raises:
        ValidationError: A weight or sample size is negative, or two leads share an id.

    """
    min_sample = _non_negative_int(min_sample, "min_sample")
    prior_l = _non_negative_int(min_sample if prior_leads is None else prior_leads, "prior_leads")
    prior_c = _non_negative_int(prior_customers, "prior_customers")
    name_of = segment_of or _segment_by_attribute

    segment_by_lead: dict[str, str] = {}
    for lead in leads:
        if lead.id in segment_by_lead:
            raise ValidationError(message="two leads share this id", field="id", record_id=lead.id)
        segment_by_lead[lead.id] = name_of(lead)

    revenue_by_lead: dict[str, Decimal] = defaultdict(Decimal)
    unmatched = 0
    for deal in deals:
        if not deal.won:
            continue
        if deal.lead_id is None or deal.lead_id not in segment_by_lead:
            unmatched += 1
            continue
        revenue_by_lead[deal.lead_id] += deal.amount

    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for lead_id, segment in segment_by_lead.items():
        counts[segment][0] += 1
        if lead_id in revenue_by_lead:
            counts[segment][1] += 1
            revenue[segment] += revenue_by_lead[lead_id]

    total_leads = len(segment_by_lead)
    total_customers = len(revenue_by_lead)
    total_revenue = sum(revenue_by_lead.values(), Decimal(0))
    overall_rate = Fraction(total_customers, total_leads) if total_leads else Fraction(0)
    overall_value = Fraction(total_revenue) / total_customers if total_customers else Fraction(0)

    segments = []
    for name, (n, customers) in counts.items():
        won = revenue[name]
        rate = Fraction(customers + prior_l * overall_rate) / (n + prior_l)
        value_denominator = customers + prior_c
        deal_value = (
            (Fraction(won) + prior_c * overall_value) / value_denominator
            if value_denominator
            else Fraction(0)
        )
        segments.append(
            SegmentValue(
                segment=name,
                leads=n,
                customers=customers,
                revenue=won,
                raw_close_rate=Fraction(customers, n),
                close_rate=rate,
                average_deal_value=quantize_money(deal_value),
                value=quantize_money(rate * deal_value),
                reliable=n >= min_sample,
            )
        )
    segments.sort(key=lambda s: (-s.leads, s.segment))
    return Calibration(
        segments=tuple(segments),
        leads=total_leads,
        customers=total_customers,
        revenue=total_revenue,
        overall_close_rate=overall_rate,
        overall_deal_value=quantize_money(overall_value),
        min_sample=min_sample,
        prior_leads=prior_l,
        prior_customers=prior_c,
        unmatched_deals=unmatched,
    )
