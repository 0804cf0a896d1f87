"""Procurement statistics: the monthly table of seed 000 section 二, from exact line items.

Definitions (RULES §8.3, docs/reports.md):

- A **procurement event** (采购次数) is an awarded lot: each lot is bid on, evaluated and
  awarded on its own, and the centres' bulletins count what was awarded (37 events with an
  award amount of 1141.86 万元). A lot counts in the period of its award time
  (``awarded_at``), a failed or cancelled lot in the period of its ``concluded_at``; periods
  are calendar days in China Standard Time.
- **Concluded lots** are awarded, failed and cancelled lots; award rate = awarded /
  concluded, failure rate = (failed + cancelled) / concluded. A cancelled lot is counted with
  the reason ``CANCELLED`` when it carries no other (GPL Art. 36 (4)).
- **Government procurement** is the goods and services categories; **works** tenders are
  reported on their own line against the reserve price 标底, or the ceiling price 最高投标限价
  where a lot has no reserve price, or its budget where it has neither (which reference was
  used is counted and printed).
- Only awarded lots enter budget, award and savings; funds saved = reference − award, the
  rate = Σ saved / Σ reference, never the mean of lot rates; amounts are summed in integer
  fen by the database and rounded half-up to 0.01 万元 only for display.

The SQL is one ``GROUP BY`` over lots joined to projects, with period buckets written as a
``CASE`` so one scan serves both the month and the twelve-month trend, and portable between
PostgreSQL and SQLite (only the day difference needs an engine-specific expression).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from piccolo.engine.sqlite import SQLiteEngine

from procurement.clock import CHINA, SYSTEM_CLOCK
from procurement.db import as_aware
from procurement.exceptions import ValidationError
from procurement.lifecycle import FailureReason, LotStatus, ProcurementMethod, ProjectCategory
from procurement.money import percent_display, round_half_up, savings_rate, to_wan
from procurement.numbers import parse_whole
from procurement.projects import load_calendar
from procurement.tables import Lot
from procurement.timeliness import Scope, deadline_share

EARLIEST_YEAR = 2000
LATEST_YEAR = 2100
MAX_SPAN_DAYS = 3653  # ten years, leap days included
FILTER_KEYS = frozenset({"month", "from", "to", "purchaser", "category", "method", "lang"})
CONCLUDED = (LotStatus.AWARDED, LotStatus.FAILED, LotStatus.CANCELLED)
GOVERNMENT = (ProjectCategory.GOODS, ProjectCategory.SERVICES)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_E = TypeVar("_E", ProjectCategory, ProcurementMethod)


class ReferenceKind:
    """What a works lot's savings are measured against (RULES §8.3: store the reference type)."""

    RESERVE = "reserve"  # 标底
    CEILING = "ceiling"  # 最高投标限价 / 招标控制价
    BUDGET = "budget"  # 采购预算


# --------------------------------------------------------------------------- bid counts

_bid_counts_sql: list[str] = []


def register_bid_counts(sql: str) -> None:
    """Let the package that holds the bids say how many each lot received (set at start-up).

    ``procurement`` may not import ``bidding`` (ARCHITECTURE §1), so bidding gives the SQL
    of a subquery with one row per lot and the columns ``lot_id``, ``bids`` (submitted
    bids) and ``valid_bids`` (bids that passed the opening); the report joins it, so the
    averages are computed by the database on PostgreSQL and SQLite alike. The SQL must be
    a constant of that package, never built from input. Registering again replaces it.
    """
    _bid_counts_sql[:] = [sql]


def bid_counts_sql() -> str | None:
    """The registered per-lot bid count subquery, or None when no package gave one."""
    return _bid_counts_sql[0] if _bid_counts_sql else None


# --------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class Period:
    """Calendar days ``start`` to ``end`` inclusive, in China Standard Time."""

    start: date
    end: date

    @property
    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[start 00:00 CST, day after end 00:00 CST) as UTC instants."""
        low = datetime.combine(self.start, time(), CHINA).astimezone(UTC)
        high = datetime.combine(self.end + timedelta(days=1), time(), CHINA).astimezone(UTC)
        return low, high

    @property
    def is_month(self) -> bool:
        """Whether the period is exactly one calendar month."""
        last = calendar.monthrange(self.start.year, self.start.month)[1]
        return self.start.day == 1 and self.end == self.start.replace(day=last)

    @property
    def label(self) -> str:
        """``2026-11`` for a month, ``2026-11-01 – 2026-11-15`` otherwise."""
        if self.is_month:
            return f"{self.start:%Y-%m}"
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


def month_period(year: int, month: int) -> Period:
    """The calendar month ``year``-``month``."""
    last = calendar.monthrange(year, month)[1]
    return Period(date(year, month, 1), date(year, month, last))


@dataclass(frozen=True)
class ReportFilters:
    """The period and the optional purchasing unit, category and method of a report."""

    period: Period
    purchaser_id: int | None = None
    category: ProjectCategory | None = None
    method: ProcurementMethod | None = None

    def query(self) -> dict[str, str]:
        """The filters as query parameters (for export and bulletin links)."""
        params: dict[str, str] = {}
        if self.period.is_month:
            params["month"] = self.period.label
        else:
            params["from"] = self.period.start.isoformat()
            params["to"] = self.period.end.isoformat()
        if self.purchaser_id is not None:
            params["purchaser"] = str(self.purchaser_id)
        if self.category is not None:
            params["category"] = self.category.value
        if self.method is not None:
            params["method"] = self.method.value
        return params


_YEAR_OUT_OF_RANGE = {
    "from": "from must lie between {earliest} and {latest}",
    "to": "to must lie between {earliest} and {latest}",
    "month": "month must lie between {earliest} and {latest}",
}
_NOT_A_DATE = {
    "from": "from must be a date like 2026-11-01",
    "to": "to must be a date like 2026-11-01",
}
_UNKNOWN_VALUE = {
    "category": "unknown category {text!r}; one of: {allowed}",
    "method": "unknown method {text!r}; one of: {allowed}",
}
"""Messages naming a filter, one sentence per filter for the catalog."""


def _year_ok(day: date, field_name: str) -> date:
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise ValidationError(
            _YEAR_OUT_OF_RANGE[field_name],
            field=field_name,
            earliest=EARLIEST_YEAR,
            latest=LATEST_YEAR,
        )
    return day


def _parse_date(text: str, field_name: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(_NOT_A_DATE[field_name], field=field_name) from exc
    return _year_ok(day, field_name)


def parse_month(text: str) -> Period:
    """A ``YYYY-MM`` month, or a ValidationError saying the expected form."""
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValidationError("month must look like 2026-11", field="month")
    period = month_period(int(match.group(1)), int(match.group(2)))
    _year_ok(period.start, "month")
    return period


def _enum_value(kind: type[_E], text: str, field_name: str) -> _E | None:
    if not text:
        return None
    try:
        return kind(text)
    except ValueError as exc:
        raise ValidationError(
            _UNKNOWN_VALUE[field_name],
            field=field_name,
            text=text,
            allowed=", ".join(member.value for member in kind),
        ) from exc


def parse_filters(params: Mapping[str, str], *, today: date) -> ReportFilters:
    """Filters from a query string; the current month when no period is given.

    Refuses unknown parameters, malformed or inverted dates, years outside 2000–2100 and
    ranges longer than ten years, each with a message the user can act on (400, not 500).
    """
    unknown = sorted(set(params) - FILTER_KEYS)
    if unknown:
        raise ValidationError(
            "unknown filter {names}; allowed: {allowed}",
            field=unknown[0],
            names=", ".join(unknown),
            allowed=", ".join(sorted(FILTER_KEYS)),
        )
    month = params.get("month", "").strip()
    start_text = params.get("from", "").strip()
    end_text = params.get("to", "").strip()
    if month and (start_text or end_text):
        raise ValidationError("give either month or from/to, not both", field="month")
    if month:
        period = parse_month(month)
    elif start_text or end_text:
        if not (start_text and end_text):
            raise ValidationError("a date range needs both from and to", field="from")
        period = Period(_parse_date(start_text, "from"), _parse_date(end_text, "to"))
        if period.end < period.start:
            raise ValidationError(
                "the range is inverted: from {start} is after to {end}",
                field="to",
                start=period.start,
                end=period.end,
            )
        if (period.end - period.start).days >= MAX_SPAN_DAYS:
            raise ValidationError("a report covers at most ten years", field="from")
    else:
        period = month_period(today.year, today.month)
    purchaser_text = params.get("purchaser", "").strip()
    purchaser_id = None
    if purchaser_text:
        try:
            purchaser_id = parse_whole(purchaser_text, "purchaser", minimum=1)
        except ValidationError:
            raise ValidationError(
                "purchaser must be an organisation id", field="purchaser"
            ) from None
    return ReportFilters(
        period=period,
        purchaser_id=purchaser_id,
        category=_enum_value(ProjectCategory, params.get("category", "").strip(), "category"),
        method=_enum_value(ProcurementMethod, params.get("method", "").strip(), "method"),
    )


# --------------------------------------------------------------------------- the pure model


@dataclass(frozen=True)
class GroupRow:
    """One row of the database aggregate: lots of one kind in one period bucket."""

    bucket: int
    category: str
    method: str
    status: str
    failure_reason: str
    reference_kind: str
    lots: int
    budget_fen: int
    award_fen: int
    reference_fen: int
    days_sum: float
    days_count: int
    bids: int = 0
    valid_bids: int = 0


@dataclass
class Line:
    """One line of the table: events, award, reference (budget or 标底) and savings."""

    events: int = 0
    award_fen: int = 0
    reference_fen: int = 0

    def add(self, row: GroupRow, *, reference: str = "budget") -> None:
        """Add an awarded group's exact amounts (fen)."""
        self.events += row.lots
        self.award_fen += row.award_fen
        self.reference_fen += row.budget_fen if reference == "budget" else row.reference_fen

    @property
    def saved_fen(self) -> int:
        """Funds saved 节约资金 = Σ reference − Σ award, exact (RULES §8.3)."""
        return self.reference_fen - self.award_fen

    @property
    def rate(self) -> Decimal | None:
        """Savings rate 节约率 = Σ saved / Σ reference, weighted, exact; None when empty."""
        return savings_rate(Decimal(self.saved_fen), Decimal(self.reference_fen))

    @property
    def award_wan(self) -> Decimal:
        """Award amount in 万元, rounded half-up for display."""
        return wan(self.award_fen)

    @property
    def reference_wan(self) -> Decimal:
        """Budget (or reserve price) in 万元, rounded half-up for display."""
        return wan(self.reference_fen)

    @property
    def saved_wan(self) -> Decimal:
        """Funds saved in 万元: the rounded exact difference, not a difference of roundings."""
        return wan(self.saved_fen)

    @property
    def rate_percent(self) -> Decimal | None:
        """The rate in percent, 2 decimals half-up (6.97)."""
        rate = self.rate
        return None if rate is None else round_half_up(rate * 100)

    @property
    def rate_text(self) -> str:
        """The rate as text: "6.97 %", or "—" when undefined."""
        return percent_display(self.rate)


def wan(fen: int) -> Decimal:
    """Integer fen as 万元, rounded half-up to 0.01 (display only)."""
    return to_wan(Decimal(fen) / 100)


@dataclass
class Report:
    """The figures of one period (seed 000 section 二 and the rates of issue 8)."""

    filters: ReportFilters | None
    government: Line = field(default_factory=Line)
    goods: Line = field(default_factory=Line)
    services: Line = field(default_factory=Line)
    inquiries: Line = field(default_factory=Line)
    works: Line = field(default_factory=Line)
    works_references: dict[str, int] = field(default_factory=dict)
    by_method: dict[str, Line] = field(default_factory=dict)
    awarded: int = 0
    failed: int = 0
    cancelled: int = 0
    failure_reasons: dict[str, int] = field(default_factory=dict)
    days_sum: float = 0.0
    days_count: int = 0
    bid_statistics: bool = False
    bid_lots: int = 0
    bids: int = 0
    valid_bids: int = 0
    deadlines_due: int = 0
    deadlines_met: int = 0

    @property
    def average_valid_bids(self) -> Decimal | None:
        """Mean valid bids per awarded or failed lot, 2 decimals half-up; None when unknown.

        Cancelled lots are left out: most never reached an opening. Without a registered
        bid count source (bidding not installed) the figure is unknown, not zero.
        """
        if not self.bid_statistics or not self.bid_lots:
            return None
        return round_half_up(Decimal(self.valid_bids) / self.bid_lots)

    @property
    def average_bids(self) -> Decimal | None:
        """Mean submitted bids per awarded or failed lot, 2 decimals half-up."""
        if not self.bid_statistics or not self.bid_lots:
            return None
        return round_half_up(Decimal(self.bids) / self.bid_lots)

    @property
    def deadlines_met_share(self) -> Decimal | None:
        """Deadlines met / deadlines that fell due in the period; None when none fell due."""
        if not self.deadlines_due:
            return None
        return Decimal(self.deadlines_met) / self.deadlines_due

    @property
    def concluded(self) -> int:
        """Awarded, failed and cancelled lots of the period."""
        return self.awarded + self.failed + self.cancelled

    @property
    def award_rate(self) -> Decimal | None:
        """Awarded lots / concluded lots; None without concluded lots."""
        return Decimal(self.awarded) / self.concluded if self.concluded else None

    @property
    def failure_rate(self) -> Decimal | None:
        """(Failed + cancelled) / concluded lots; None without concluded lots."""
        if not self.concluded:
            return None
        return Decimal(self.failed + self.cancelled) / self.concluded

    @property
    def average_days_to_award(self) -> Decimal | None:
        """Mean days from the tender notice (publication) to award, 1 decimal half-up."""
        if not self.days_count:
            return None
        return round_half_up(Decimal(repr(self.days_sum)) / self.days_count, "0.1")

    @property
    def is_empty(self) -> bool:
        """No lot concluded in the period."""
        return self.concluded == 0

    @property
    def works_reference_label(self) -> str:
        """Which reference the works line used: "reserve", "ceiling", mixed "reserve+ceiling"."""
        used = [
            k
            for k in (ReferenceKind.RESERVE, ReferenceKind.CEILING, ReferenceKind.BUDGET)
            if self.works_references.get(k)
        ]
        return "+".join(used) or ReferenceKind.RESERVE


def build_report(rows: Iterable[GroupRow], filters: ReportFilters | None = None) -> Report:
    """Fold the database's group rows into the report's lines (pure; exact integers only)."""
    report = Report(filters=filters, bid_statistics=bid_counts_sql() is not None)
    for row in rows:
        status = LotStatus(row.status)
        if status in (LotStatus.AWARDED, LotStatus.FAILED):
            report.bid_lots += row.lots
            report.bids += row.bids
            report.valid_bids += row.valid_bids
        if status is LotStatus.AWARDED:
            report.awarded += row.lots
            report.days_sum += row.days_sum
            report.days_count += row.days_count
            if row.category == ProjectCategory.WORKS:
                report.works.add(row, reference="reference")
                report.works_references[row.reference_kind] = (
                    report.works_references.get(row.reference_kind, 0) + row.lots
                )
            else:
                report.government.add(row)
                line = report.goods if row.category == ProjectCategory.GOODS else report.services
                line.add(row)
                if row.method == ProcurementMethod.PRICE_INQUIRY:
                    report.inquiries.add(row)
            method_line = report.by_method.setdefault(row.method, Line())
            method_line.add(row, reference="budget" if row.category != "works" else "reference")
        else:
            if status is LotStatus.FAILED:
                report.failed += row.lots
            else:
                report.cancelled += row.lots
            reason = row.failure_reason or FailureReason.CANCELLED.value
            report.failure_reasons[reason] = report.failure_reasons.get(reason, 0) + row.lots
    return report


# --------------------------------------------------------------------------- SQL


def _days_expression(engine: Any) -> str:
    """Days between publication and award, the one engine-specific piece of SQL."""
    if isinstance(engine, SQLiteEngine):
        return "(julianday(l.awarded_at) - julianday(p.published_at))"
    return "(EXTRACT(EPOCH FROM (l.awarded_at - p.published_at)) / 86400.0)"


def _aggregate_sql(buckets: int, filters: ReportFilters, engine: Any) -> tuple[str, list[Any]]:
    moment = "COALESCE(l.awarded_at, l.concluded_at)"
    cases = " ".join(f"WHEN {moment} < {{}} THEN {i}" for i in range(buckets))
    days = _days_expression(engine)
    awarded_with_notice = (
        "l.status = 'awarded' AND l.awarded_at IS NOT NULL AND p.published_at IS NOT NULL"
    )
    where = [
        "l.status IN ('awarded', 'failed', 'cancelled')",
        f"{moment} >= {{}}",
        f"{moment} < {{}}",
    ]
    if filters.purchaser_id is not None:
        where.append("p.purchaser = {}")
    if filters.category is not None:
        where.append("p.category = {}")
    if filters.method is not None:
        where.append("p.method = {}")
    conditions = " AND ".join(where)
    counts = bid_counts_sql()
    bid_join = "" if counts is None else f"LEFT JOIN ({counts}) bc ON bc.lot_id = l.id"
    bids, valid = ("0", "0") if counts is None else ("bc.bids", "bc.valid_bids")
    # only fixed fragments are interpolated; every value is a bound parameter
    sql = f"""
        SELECT bucket, category, method, status, failure_reason, reference_kind,
               COALESCE(SUM(bids), 0) AS bids,
               COALESCE(SUM(valid_bids), 0) AS valid_bids,
               COUNT(*) AS lots,
               COALESCE(SUM(budget_fen), 0) AS budget_fen,
               COALESCE(SUM(award_fen), 0) AS award_fen,
               COALESCE(SUM(reference_fen), 0) AS reference_fen,
               COALESCE(SUM(days), 0) AS days_sum,
               COUNT(days) AS days_count
        FROM (
            SELECT CASE {cases} END AS bucket,
                   p.category AS category,
                   p.method AS method,
                   l.status AS status,
                   l.failure_reason AS failure_reason,
                   CASE WHEN l.reserve_price_fen IS NOT NULL THEN 'reserve'
                        WHEN l.ceiling_price_fen IS NOT NULL THEN 'ceiling'
                        ELSE 'budget' END AS reference_kind,
                   CASE WHEN l.status = 'awarded' THEN l.budget_fen ELSE 0 END AS budget_fen,
                   CASE WHEN l.status = 'awarded' THEN l.award_amount_fen ELSE 0 END AS award_fen,
                   CASE WHEN l.status = 'awarded'
                        THEN COALESCE(l.reserve_price_fen, l.ceiling_price_fen, l.budget_fen)
                        ELSE 0 END AS reference_fen,
                   CASE WHEN {awarded_with_notice} THEN {days} END AS days,
                   COALESCE({bids}, 0) AS bids,
                   COALESCE({valid}, 0) AS valid_bids
            FROM lot l JOIN project p ON p.id = l.project
            {bid_join}
            WHERE {conditions}
        ) AS concluded
        GROUP BY bucket, category, method, status, failure_reason, reference_kind
    """  # noqa: S608
    return sql, []


async def aggregate(filters: ReportFilters, periods: Sequence[Period]) -> list[GroupRow]:
    """Group rows of the concluded lots in consecutive ``periods`` (SQL ``GROUP BY``, ``SUM``).

    ``periods`` must be consecutive and ascending; row ``bucket`` is the index of the period.
    """
    engine = Lot._meta.db
    sql, _ = _aggregate_sql(len(periods), filters, engine)
    args: list[Any] = [period.utc_bounds[1] for period in periods]
    args += [periods[0].utc_bounds[0], periods[-1].utc_bounds[1]]
    if filters.purchaser_id is not None:
        args.append(filters.purchaser_id)
    if filters.category is not None:
        args.append(filters.category.value)
    if filters.method is not None:
        args.append(filters.method.value)
    rows = await Lot.raw(sql, *args)
    return [
        GroupRow(
            bucket=int(r["bucket"]),
            category=str(r["category"]),
            method=str(r["method"]),
            status=str(r["status"]),
            failure_reason=str(r["failure_reason"] or ""),
            reference_kind=str(r["reference_kind"]),
            lots=int(r["lots"]),
            budget_fen=int(r["budget_fen"]),
            award_fen=int(r["award_fen"]),
            reference_fen=int(r["reference_fen"]),
            days_sum=float(r["days_sum"] or 0),
            days_count=int(r["days_count"]),
            bids=int(r["bids"]),
            valid_bids=int(r["valid_bids"]),
        )
        for r in rows
    ]


async def period_report(filters: ReportFilters, *, now: datetime | None = None) -> Report:
    """The report of the filters' period, computed by the database.

    The share of deadlines met counts the deadlines (procurement.timeliness) that fell due
    in the period up to ``now``: those still ahead are not counted yet.
    """
    rows = await aggregate(filters, [filters.period])
    report = build_report(rows, filters)
    low, high = filters.period.utc_bounds
    scope = Scope(
        low,
        high,
        filters.purchaser_id,
        filters.category.value if filters.category else None,
        filters.method.value if filters.method else None,
    )
    report.deadlines_due, report.deadlines_met = await deadline_share(
        await load_calendar(), scope, now or SYSTEM_CLOCK.now()
    )
    return report


def trailing_months(last: date, count: int = 12) -> list[Period]:
    """The ``count`` calendar months ending with the month of ``last``, oldest first."""
    year, month = last.year, last.month
    periods = []
    for _ in range(count):
        periods.append(month_period(year, month))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return periods[::-1]


async def monthly_trend(filters: ReportFilters, count: int = 12) -> list[tuple[Period, Report]]:
    """One report per month for the ``count`` months ending with the filters' last month.

    One scan: the months are buckets of a single ``GROUP BY``.
    """
    periods = trailing_months(filters.period.end, count)
    rows = await aggregate(filters, periods)
    by_bucket: dict[int, list[GroupRow]] = {}
    for row in rows:
        by_bucket.setdefault(row.bucket, []).append(row)
    return [(p, build_report(by_bucket.get(i, []), filters)) for i, p in enumerate(periods)]


# --------------------------------------------------------------------------- the bulletin


def _pct(line: Line, zh: bool) -> str:
    rate = line.rate_percent
    if rate is None:
        return "—"
    return f"{rate}％" if zh else f"{rate} %"


_REFERENCE_ZH = {
    "reserve": "标底价",
    "ceiling": "最高投标限价",
    "budget": "预算金额",
    "reserve+ceiling": "标底价（无标底的按最高投标限价）",
}
_REFERENCE_EN = {
    "reserve": "reserve price (标底)",
    "ceiling": "ceiling price",
    "budget": "budget",
    "reserve+ceiling": "reserve price (ceiling price where there is none)",
}


def bulletin_paragraphs(report: Report, language: str) -> list[str]:
    """The month in figures, worded as seed 000 section 二 (Chinese) or in English.

    Amounts are 万元 rounded half-up; the saving is the rounded exact saving (RULES §8.3).
    """
    g, goods, services, works, inq = (
        report.government,
        report.goods,
        report.services,
        report.works,
        report.inquiries,
    )
    period = report.filters.period if report.filters else None
    reference = report.works_reference_label
    if language.startswith("zh"):
        when = (
            "月内"
            if period is None or period.is_month
            else f"{period.start:%Y年%m月%d日}至{period.end:%Y年%m月%d日}期间"
        )
        return [
            f"{when}政府集中采购共举行{g.events}次招投标(其中网上询价采购{inq.events}次)，"
            f"采购中标金额达{g.award_wan}万元（其中网上询价采购{inq.award_wan}万元），"
            f"与采购预算{g.reference_wan}万元相比，减少支出{g.saved_wan}万元，"
            f"节约率为{_pct(g, True)}。"
            f"其中：货物类采购次数{goods.events}次，中标金额为{goods.award_wan}万元，"
            f"预算金额为{goods.reference_wan}万元，节约资金{goods.saved_wan}万元，"
            f"节减率为{_pct(goods, True)}；服务类采购为{services.events}次，"
            f"中标金额为{services.award_wan}万元，预算金额为{services.reference_wan}万元，"
            f"节约资金{services.saved_wan}万元，节减率为{_pct(services, True)}。",
            f"{when}工程招标共举行{works.events}项，{_REFERENCE_ZH[reference]}为"
            f"{works.reference_wan}万元，中标价格为{works.award_wan}万元，"
            f"节约资金{works.saved_wan}万元，节减率为{_pct(works, True)}。",
        ]
    when = (
        "In the month"
        if period is None or period.is_month
        else f"From {period.start.isoformat()} to {period.end.isoformat()}"
    )
    return [
        f"{when}, centralised government procurement held {g.events} tenders "
        f"({inq.events} of them online price inquiries). Awards totalled {g.award_wan} "
        f"(10,000 yuan; online price inquiries {inq.award_wan}) against budgets of "
        f"{g.reference_wan}: {g.saved_wan} less was spent, a savings rate of {_pct(g, False)}. "
        f"Goods: {goods.events} purchases, awarded {goods.award_wan}, budget "
        f"{goods.reference_wan}, saved {goods.saved_wan}, rate {_pct(goods, False)}; "
        f"services: {services.events} purchases, awarded {services.award_wan}, budget "
        f"{services.reference_wan}, saved {services.saved_wan}, rate {_pct(services, False)}.",
        f"{when}, {works.events} works tenders were held: {_REFERENCE_EN[reference]} "
        f"{works.reference_wan}, awarded {works.award_wan}, saved {works.saved_wan}, "
        f"rate {_pct(works, False)}.",
    ]


# --------------------------------------------------------------------------- line items


LINE_ITEM_BATCH = 5000


async def line_items(filters: ReportFilters) -> AsyncIterator[list[dict[str, Any]]]:
    """The concluded lots of the filters, in batches (keyset pagination: constant memory).

    ``concluded_at`` (award time, else conclusion time) is an aware datetime on either engine.
    """
    moment = "COALESCE(l.awarded_at, l.concluded_at)"
    where = [
        "l.status IN ('awarded', 'failed', 'cancelled')",
        f"{moment} >= {{}}",
        f"{moment} < {{}}",
        "l.id > {}",
    ]
    low, high = filters.period.utc_bounds
    if filters.purchaser_id is not None:
        where.append("p.purchaser = {}")
    if filters.category is not None:
        where.append("p.category = {}")
    if filters.method is not None:
        where.append("p.method = {}")
    extra = [
        value
        for value in (
            filters.purchaser_id,
            filters.category.value if filters.category else None,
            filters.method.value if filters.method else None,
        )
        if value is not None
    ]
    conditions = " AND ".join(where)
    sql = f"""
        SELECT l.id AS lot_id, p.code AS code, p.title AS title, o.name AS purchaser,
               p.category AS category, p.method AS method, l.number AS number,
               l.title AS lot_title, l.status AS status, l.failure_reason AS failure_reason,
               {moment} AS concluded_at, l.budget_fen AS budget_fen,
               l.reserve_price_fen AS reserve_fen, l.ceiling_price_fen AS ceiling_fen,
               l.award_amount_fen AS award_fen
        FROM lot l JOIN project p ON p.id = l.project
             JOIN organisation o ON o.id = p.purchaser
        WHERE {conditions}
        ORDER BY l.id
        LIMIT {LINE_ITEM_BATCH}
    """  # noqa: S608 - fixed fragments only; values are bound parameters
    after = 0
    while True:
        rows = await Lot.raw(sql, low, high, after, *extra)
        if not rows:
            return
        for row in rows:
            row["concluded_at"] = as_aware(row["concluded_at"])
            row["reference_fen"] = reference_fen(row)
        yield rows
        if len(rows) < LINE_ITEM_BATCH:
            return
        after = int(rows[-1]["lot_id"])


def reference_fen(row: Mapping[str, Any]) -> int:
    """What a line item's saving is measured against: budget, or 标底/ceiling for works."""
    if row["category"] == ProjectCategory.WORKS:
        for key in ("reserve_fen", "ceiling_fen"):
            if row.get(key) is not None:
                return int(row[key])
    return int(row["budget_fen"])
