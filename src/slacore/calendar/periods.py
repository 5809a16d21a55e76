"""Calendar periods: the week, month, quarter and year that commitments, scorecards and reviews
run on, and one concrete period (:class:`PeriodSpan`, such as ``2020-Q3``).

Periods are calendar periods: ISO weeks from Monday, calendar months, quarters from January,
April, July and October, calendar years.
"""

from __future__ import annotations

import calendar as _calendar
import enum
from datetime import date, timedelta
from typing import Any

import attrs

from slacore.calendar._hours import _to_day
from slacore.errors import ValidationError

__all__ = ["Period", "PeriodSpan"]

# Words for a period besides its name and its adjective (``"month"``, ``"monthly"``).
_ALIASES = {"annual": "year", "annually": "year"}
# The day whose periods the error messages show as examples: 2020-W27, 2020-07, 2020-Q3, 2020.
_EXAMPLE_DAY = date(2020, 7, 1)


class Period(enum.StrEnum):
    """A calendar period: the rhythm of commitments, scorecards and reviews."""

    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @classmethod
    def parse(cls, value: Period | str, *, field: str | None = None) -> Period:
        """``"month"``, ``"monthly"``, ``"Quarter"``... as a :class:`Period`.

        Raises:
            ValidationError: Not a period.

        """
        if isinstance(value, Period):
            return value
        if isinstance(value, str):
            text = value.strip().lower()
            text = _ALIASES.get(text, text)
            for period in cls:
                if text in (period.value, period.adjective):
                    return period
        raise ValidationError(
            message=f"expected one of {', '.join(cls)}, got {value!r}",
            field=field,
            value=value,
        )

    @property
    def months(self) -> int:
        """Whole months in the period (0 for a week)."""
        return {"week": 0, "month": 1, "quarter": 3, "year": 12}[self.value]

    @property
    def nominal_days(self) -> int:
        """Days the period stands for when a duration is counted in periods: 7, 30, 90, 365."""
        return {"week": 7, "month": 30, "quarter": 90, "year": 365}[self.value]

    @property
    def per_year(self) -> int:
        """Periods in a year: 52, 12, 4, 1."""
        return {"week": 52, "month": 12, "quarter": 4, "year": 1}[self.value]

    @property
    def adjective(self) -> str:
        """``"weekly"``, ``"monthly"``, ``"quarterly"``, ``"yearly"``."""
        return {"week": "weekly", "month": "monthly", "quarter": "quarterly", "year": "yearly"}[
            self.value
        ]

    def shift(self, day: date, count: int) -> date:
        """``day`` moved by ``count`` periods; a day past the end of a month is clamped.

        >>> Period.QUARTER.shift(date(2020, 1, 31), 1)
        datetime.date(2020, 4, 30)
        """
        if self is Period.WEEK:
            return day + timedelta(weeks=count)
        months = day.year * 12 + day.month - 1 + count * self.months
        year, month = divmod(months, 12)
        last = _calendar.monthrange(year, month + 1)[1]
        return date(year, month + 1, min(day.day, last))

    def span(self, day: date | str) -> PeriodSpan:
        """The period that contains ``day`` (a date, an ISO date, or a label like ``"2020-07"``).

        >>> Period.MONTH.span("2020-07").label
        '2020-07'
        >>> Period.WEEK.span(date(2020, 7, 1)).start
        datetime.date(2020, 6, 29)

        Raises:
            ValidationError: Not a date or a label of this kind of period.

        """
        if isinstance(day, str):
            day = self._label_day(day)
        day = _to_day(day, "period")
        if self is Period.WEEK:
            start = day - timedelta(days=day.weekday())
            return PeriodSpan(period=self, start=start, end=start + timedelta(days=6))
        if self is Period.YEAR:
            return PeriodSpan(period=self, start=date(day.year, 1, 1), end=date(day.year, 12, 31))
        first_month = (day.month - 1) // self.months * self.months + 1
        start = date(day.year, first_month, 1)
        return PeriodSpan(period=self, start=start, end=self.shift(start, 1) - timedelta(days=1))

    def _label_day(self, text: str) -> date:
        label = text.strip()
        try:
            if self is Period.MONTH and len(label) == 7:
                return date(int(label[:4]), int(label[5:]), 1)
            if self is Period.QUARTER and label[4:6].upper() == "-Q":
                return date(int(label[:4]), (int(label[6:]) - 1) * 3 + 1, 1)
            if self is Period.WEEK and label[4:6].upper() == "-W":
                return date.fromisocalendar(int(label[:4]), int(label[6:]), 1)
            if self is Period.YEAR and len(label) == 4:
                return date(int(label), 1, 1)
            return date.fromisoformat(label)
        except ValueError:
            raise ValidationError(
                message=(
                    f"expected a date or a {self.value} like {self.span(_EXAMPLE_DAY).label}, "
                    f"got {text!r}"
                ),
                field="period",
                value=text,
            ) from None


@attrs.frozen(kw_only=True)
class PeriodSpan:
    """One concrete period: its kind, first and last day (both included).

    Attributes:
        period: Week, month, quarter or year.
        start: The first day.
        end: The last day (included).

    """

    period: Period
    start: date
    end: date

    @property
    def label(self) -> str:
        """``"2020-07"``, ``"2020-Q3"``, ``"2020-W27"`` or ``"2020"``."""
        if self.period is Period.MONTH:
            return f"{self.start.year:04d}-{self.start.month:02d}"
        if self.period is Period.QUARTER:
            return f"{self.start.year:04d}-Q{(self.start.month - 1) // 3 + 1}"
        if self.period is Period.WEEK:
            year, week, _ = self.start.isocalendar()
            return f"{year:04d}-W{week:02d}"
        return f"{self.start.year:04d}"

    def days(self) -> list[date]:
        """Every day of the period, in order."""
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def to_dict(self) -> dict[str, Any]:
        """The span, JSON-ready."""
        return {
            "period": self.period.value,
            "label": self.label,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }
