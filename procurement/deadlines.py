"""Legal minimum time limits of a procurement timeline (RULES §2), as pure checks.

Day counts are complete days after the issue day, in China Standard Time (RULES
conventions); working days use :class:`~procurement.calendar.WorkingDayCalendar`. Every
limit is a setting (:class:`TimeLimits`) defaulting to the legal value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from procurement.calendar import WorkingDayCalendar
from procurement.clock import CHINA
from procurement.exceptions import ValidationError
from procurement.lifecycle import ProcurementMethod, ProjectCategory


@dataclass(frozen=True)
class TimeLimits:
    """Minimum periods; each defaults to the legal value and cites its rule."""

    tender_days: int = 20
    """Documents first issued → bid deadline, calendar days (GPL Art. 35; TBL Art. 24)."""
    documents_working_days: int = 5
    """Govt: documents available ≥ 5 working days (GPL-R Art. 31)."""
    works_documents_days: int = 5
    """Works: documents available ≥ 5 days (TBL-R Art. 16)."""
    clarification_days: int = 15
    """Clarification that may affect bids ≥ 15 days before the deadline (GPL-R Art. 31)."""
    negotiation_working_days: int = 3
    """Competitive negotiation: documents → responses (MOF74 Art. 29)."""
    consultation_days: int = 10
    """Competitive consultation: documents → responses (C214 Art. 10)."""
    inquiry_working_days: int = 3
    """Price inquiry: notice → quote deadline (MOF74 Art. 45)."""
    single_source_working_days: int = 5
    """Single-source publicity (GPL-R Art. 38)."""
    deadline_on_working_day: bool = True
    """Platform default: a bid deadline never falls on a non-working day (RULES §10(d))."""


@dataclass(frozen=True)
class Timeline:
    """A project's dates, timezone-aware."""

    documents_from: datetime
    documents_until: datetime
    clarification_deadline: datetime | None
    bid_deadline: datetime
    opening_time: datetime


@dataclass(frozen=True)
class Violation:
    """One broken rule, in English and Chinese, with its source."""

    field: str
    message: str
    message_zh: str
    rule: str


@dataclass
class TimelineCheck:
    """All violations and warnings of a timeline."""

    violations: list[Violation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No violation."""
        return not self.violations

    def raise_if_invalid(self) -> None:
        """Raise a ValidationError naming every violation."""
        if self.violations:
            text = "; ".join(f"{v.message} ({v.message_zh}; {v.rule})" for v in self.violations)
            raise ValidationError(text, field=self.violations[0].field)


def _day(value: datetime) -> date:
    return value.astimezone(CHINA).date()


def _days_after(start: datetime, end: datetime) -> int:
    """Complete calendar days after the issue day up to the end day."""
    return (_day(end) - _day(start)).days


def earliest_bid_deadline(
    documents_from: date,
    category: ProjectCategory,
    method: ProcurementMethod,
    calendar: WorkingDayCalendar,
    limits: TimeLimits | None = None,
) -> date:
    """The first day a bid deadline may fall on for documents issued on ``documents_from``."""
    limits = limits or TimeLimits()
    if method.is_tender:
        day = documents_from + timedelta(days=limits.tender_days)
    elif method is ProcurementMethod.COMPETITIVE_CONSULTATION:
        day = documents_from + timedelta(days=limits.consultation_days)
    elif method is ProcurementMethod.PRICE_INQUIRY:
        return calendar.add_working_days(documents_from, limits.inquiry_working_days)
    elif method is ProcurementMethod.COMPETITIVE_NEGOTIATION:
        return calendar.add_working_days(documents_from, limits.negotiation_working_days)
    else:
        return calendar.add_working_days(documents_from, limits.single_source_working_days)
    if limits.deadline_on_working_day:
        day = calendar.next_working_day(day)
    return day


def check_timeline(
    timeline: Timeline,
    *,
    category: ProjectCategory,
    method: ProcurementMethod,
    calendar: WorkingDayCalendar,
    now: datetime,
    limits: TimeLimits | None = None,
) -> TimelineCheck:
    """Check a timeline against the legal minimums; returns violations and warnings."""
    limits = limits or TimeLimits()
    check = TimelineCheck()
    add = check.violations.append
    t = timeline
    if t.bid_deadline <= now:
        add(
            Violation(
                "bid_deadline",
                "the bid deadline must be in the future",
                "投标截止时间必须晚于当前时间",
                "ETM Art. 27",
            )
        )
    if t.documents_until <= t.documents_from:
        add(
            Violation(
                "documents_until",
                "documents must be available for some time",
                "文件发售截止时间须晚于开始时间",
                "GPL-R Art. 31",
            )
        )
    if t.documents_until > t.bid_deadline:
        add(
            Violation(
                "documents_until",
                "documents cannot be available after the bid deadline",
                "文件发售期不得晚于投标截止时间",
                "GPL-R Art. 31",
            )
        )
    if t.opening_time < t.bid_deadline:
        add(
            Violation(
                "opening_time",
                "the opening cannot come before the bid deadline",
                "开标时间不得早于投标截止时间",
                "TBL Art. 34",
            )
        )
    earliest = earliest_bid_deadline(_day(t.documents_from), category, method, calendar, limits)
    if _day(t.bid_deadline) < earliest:
        add(
            Violation(
                "bid_deadline",
                f"the bid deadline is too early: the earliest legal day is {earliest}",
                f"投标截止时间过早，最早为{earliest}",
                _period_rule(method),
            )
        )
    if limits.deadline_on_working_day and not calendar.is_working_day(_day(t.bid_deadline)):
        add(
            Violation(
                "bid_deadline",
                "the bid deadline falls on a non-working day",
                "投标截止日为非工作日",
                "RULES §10(d), platform default",
            )
        )
    if method.is_tender:
        if category is ProjectCategory.WORKS:
            if _days_after(t.documents_from, t.documents_until) < limits.works_documents_days:
                add(
                    Violation(
                        "documents_until",
                        f"works documents must be available at least "
                        f"{limits.works_documents_days} days",
                        f"招标文件发售期不得少于{limits.works_documents_days}日",
                        "TBL-R Art. 16",
                    )
                )
        elif (
            calendar.working_days_between(_day(t.documents_from), _day(t.documents_until))
            < limits.documents_working_days
        ):
            add(
                Violation(
                    "documents_until",
                    f"documents must be available at least "
                    f"{limits.documents_working_days} working days",
                    f"招标文件提供期限不得少于{limits.documents_working_days}个工作日",
                    "GPL-R Art. 31",
                )
            )
        if (
            t.clarification_deadline is not None
            and _days_after(t.clarification_deadline, t.bid_deadline) < limits.clarification_days
        ):
            add(
                Violation(
                    "clarification_deadline",
                    f"clarifications must end at least {limits.clarification_days} days "
                    "before the bid deadline",
                    f"澄清截止须在投标截止{limits.clarification_days}日前",
                    "GPL-R Art. 31; TBL Art. 23",
                )
            )
    if t.clarification_deadline is not None and not (
        t.documents_from <= t.clarification_deadline <= t.bid_deadline
    ):
        add(
            Violation(
                "clarification_deadline",
                "the question deadline must fall between the documents' release and the "
                "bid deadline",
                "澄清截止时间须在文件发布与投标截止之间",
                "GPL-R Art. 31",
            )
        )
    years = calendar.unconfirmed_years(_day(t.documents_from), _day(t.bid_deadline))
    if years:
        check.warnings.append(
            "the official holiday calendar for "
            + ", ".join(map(str, years))
            + " is not confirmed yet; only weekends were counted (日历未确认)"
        )
    return check


def _period_rule(method: ProcurementMethod) -> str:
    return {
        ProcurementMethod.OPEN_TENDER: "GPL Art. 35; TBL Art. 24",
        ProcurementMethod.INVITATION: "GPL Art. 35; TBL Art. 24",
        ProcurementMethod.COMPETITIVE_NEGOTIATION: "MOF74 Art. 29",
        ProcurementMethod.COMPETITIVE_CONSULTATION: "C214 Art. 10",
        ProcurementMethod.PRICE_INQUIRY: "MOF74 Art. 45",
        ProcurementMethod.SINGLE_SOURCE: "GPL-R Art. 38",
    }[method]
