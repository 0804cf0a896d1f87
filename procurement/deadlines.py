"""Legal minimum time limits of a procurement timeline (RULES §2), as pure checks.

Periods count complete days after the issue day (RULES conventions: the triggering day is not
counted, Civil Code Art. 201), on China Standard Time dates whatever the time zone of the
input; working days come from :class:`~procurement.calendar.WorkingDayCalendar`. Every limit
is a setting (:class:`TimeLimits`) defaulting to the legal value. The checker reports every
problem at once so a purchaser can fix the whole form in one go.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Self

from procurement.calendar import WorkingDayCalendar
from procurement.clock import CHINA
from procurement.exceptions import ValidationError
from procurement.lifecycle import ProcurementMethod, ProjectCategory


@dataclass(frozen=True)
class TimeLimits:
    """Minimum periods; each defaults to the legal value (RULES §2) and cites its rule."""

    tender_days: int = 20
    """Tender documents first issued → bid deadline, days (GPL Art. 35; TBL Art. 24)."""
    documents_working_days: int = 5
    """Government tender documents available ≥ 5 working days (GPL-R Art. 31)."""
    works_documents_days: int = 5
    """Works tender documents on sale ≥ 5 days (TBL-R Art. 16)."""
    clarification_days: int = 15
    """Tender clarification ≥ 15 days before the bid deadline (GPL-R Art. 31; TBL Art. 23)."""
    negotiation_working_days: int = 3
    """Competitive negotiation: documents → first responses (MOF74 Art. 29)."""
    consultation_days: int = 10
    """Competitive consultation: documents → first responses (C214 Art. 10)."""
    consultation_clarification_days: int = 5
    """Consultation clarification ≥ 5 days before the deadline (C214 Art. 10, unconfirmed)."""
    inquiry_working_days: int = 3
    """Price inquiry: notice → quote deadline (MOF74 Art. 45)."""
    inquiry_clarification_working_days: int = 3
    """Inquiry clarification ≥ 3 working days before the deadline (MOF74 Art. 45, unconfirmed)."""
    single_source_working_days: int = 5
    """Single-source publicity (GPL-R Art. 38); 0 where the publicity does not apply."""
    deadline_on_working_day: bool = True
    """Platform default: a bid deadline never falls on a non-working day (RULES §10(d))."""

    def __post_init__(self) -> None:
        """A negative period is a configuration mistake, refused at start-up."""
        for spec in fields(self):
            value = getattr(self, spec.name)
            if not isinstance(value, bool) and value < 0:
                raise ValueError(f"time limit {spec.name} must not be negative, got {value}")


LEGAL_LIMITS = TimeLimits()
"""The legal minimums themselves."""


@dataclass(frozen=True)
class Timeline:
    """A project's dates, timezone-aware.

    ``clarification_deadline`` is the last moment for questions and clarifications (澄清);
    ``documents_from`` is when the documents (or the inquiry notice) are first issued.
    """

    documents_from: datetime
    documents_until: datetime
    clarification_deadline: datetime | None
    bid_deadline: datetime
    opening_time: datetime


VIOLATION_SEPARATOR = "; "
"""Between the violations of one error; a catalog message id, so each language has its own."""


@dataclass(frozen=True)
class _Finding:
    """A rule's finding, in English and Chinese, with the field at fault and the source.

    ``template`` is the whole English text (``"message (message_zh; rule)"``) with its
    ``{fields}``, the catalog's message id, and ``params`` their values: a page shows the
    catalog's translation of it (:meth:`localized`). :meth:`of` builds all of them at once.
    """

    field: str
    message: str
    message_zh: str
    rule: str
    template: str = ""
    params: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, field: str, message: str, message_zh: str, rule: str, **params: object) -> Self:
        """A finding whose ``message`` and ``message_zh`` are templates naming ``params``."""
        return cls(
            field,
            message.format(**params),
            message_zh.format(**params),
            rule,
            f"{message} ({message_zh}; {rule})",
            tuple(params.items()),
        )

    def __str__(self) -> str:
        return f"{self.message} ({self.message_zh}; {self.rule})"

    def localized(self, gettext: Callable[[str], str]) -> str:
        """The finding in the reader's language (English: exactly ``str(self)``)."""
        if not self.template:
            return gettext(str(self))
        try:
            return gettext(self.template).format(**dict(self.params))
        except (KeyError, IndexError, ValueError):
            return str(self)


@dataclass(frozen=True)
class Violation(_Finding):
    """One broken rule, in English and Chinese, with the field at fault and the source."""


@dataclass(frozen=True)
class TimelineWarning(_Finding):
    """Something the purchaser should know that does not make the timeline illegal."""


class TimelineInvalid(ValidationError):
    """A timeline that breaks rules: every violation, each in the reader's language.

    ``lead`` is the message around them, a catalog message id naming ``{violations}`` (the
    inquiry form says ``"quote deadline: {violations}"``).
    """

    def __init__(
        self,
        violations: Sequence[Violation],
        *,
        field: str | None = None,
        lead: str = "{violations}",
    ) -> None:
        self.violations = tuple(violations)
        super().__init__(
            lead,
            field=field if field is not None else self.violations[0].field,
            code="timeline_invalid",
            violations=VIOLATION_SEPARATOR.join(str(v) for v in self.violations),
        )

    def localized(self, gettext: Callable[[str], str]) -> str:
        """The lead and every violation translated, joined in the reader's language."""
        violations = gettext(VIOLATION_SEPARATOR).join(
            v.localized(gettext) for v in self.violations
        )
        try:
            return gettext(self.template).format(violations=violations)
        except (KeyError, IndexError, ValueError):
            return self.message


@dataclass(frozen=True)
class TimelineCheck:
    """Every violation and warning of a timeline."""

    violations: tuple[Violation, ...] = ()
    warnings: tuple[TimelineWarning, ...] = ()

    @property
    def ok(self) -> bool:
        """No violation (warnings allowed)."""
        return not self.violations

    def raise_if_invalid(self) -> None:
        """Raise a ValidationError naming every violation; do nothing if there is none.

        Raises:
            TimelineInvalid: a ValidationError with code ``timeline_invalid``, field of the
                first violation.
        """
        if self.violations:
            raise TimelineInvalid(self.violations)


def china_date(value: datetime) -> date:
    """The date in China Standard Time, the calendar the limits are counted on."""
    return value.astimezone(CHINA).date()


def _tender_rule(category: ProjectCategory) -> str:
    return "TBL Art. 24" if category is ProjectCategory.WORKS else "GPL Art. 35"


def _minimum_period(
    method: ProcurementMethod, category: ProjectCategory, limits: TimeLimits
) -> tuple[int, bool, str]:
    """(count, counts working days?, rule) of documents issued → bid deadline for a method."""
    if method.is_tender:
        return limits.tender_days, False, _tender_rule(category)
    return {
        ProcurementMethod.COMPETITIVE_NEGOTIATION: (
            limits.negotiation_working_days,
            True,
            "MOF74 Art. 29",
        ),
        ProcurementMethod.COMPETITIVE_CONSULTATION: (
            limits.consultation_days,
            False,
            "C214 Art. 10",
        ),
        ProcurementMethod.PRICE_INQUIRY: (limits.inquiry_working_days, True, "MOF74 Art. 45"),
        ProcurementMethod.SINGLE_SOURCE: (
            limits.single_source_working_days,
            True,
            "GPL-R Art. 38",
        ),
    }[method]


def _legal_earliest(
    documents_from: date,
    category: ProjectCategory,
    method: ProcurementMethod,
    calendar: WorkingDayCalendar,
    limits: TimeLimits,
) -> date:
    count, working, _ = _minimum_period(method, category, limits)
    if working:
        return calendar.add_working_days(documents_from, count)
    return documents_from + timedelta(days=count)


def earliest_bid_deadline(
    documents_from: date,
    category: ProjectCategory,
    method: ProcurementMethod,
    calendar: WorkingDayCalendar,
    limits: TimeLimits | None = LEGAL_LIMITS,
) -> date:
    """The first day a bid (or quote) deadline may fall on, for documents issued that day.

    RULES §10(d): tender documents issued Monday 2026-03-02 → day 20 is Sunday 03-22, moved
    to Monday 03-23 under the platform default; an inquiry notice on Monday 2026-11-23 → the
    third working day, Thursday 11-26.
    """
    limits = limits or LEGAL_LIMITS
    day = _legal_earliest(documents_from, category, method, calendar, limits)
    if limits.deadline_on_working_day:
        day = calendar.next_working_day(day)
    return day


def check_timeline(
    timeline: Timeline,
    *,
    category: ProjectCategory,
    method: ProcurementMethod,
    calendar: WorkingDayCalendar,
    limits: TimeLimits | None = LEGAL_LIMITS,
    now: datetime,
) -> TimelineCheck:
    """Check a timeline against the legal minimums and the platform's ordering rules.

    Args:
        timeline: the project's dates, timezone-aware.
        category: goods, services or works (works follow TBL, the rest GPL).
        method: the procurement method, which picks the minimum period.
        calendar: the working-day calendar (library data and the admins' overrides).
        limits: the configured limits; None means the legal values.
        now: the current time (the server clock is authoritative).

    Returns:
        Every violation and warning found; nothing is raised here, see
        :meth:`TimelineCheck.raise_if_invalid`.
    """
    limits = limits or LEGAL_LIMITS
    naive = [name for name, value in _times(timeline) if value.tzinfo is None]
    if now.tzinfo is None:
        raise ValueError("check_timeline needs a timezone-aware current time")
    if naive:
        return TimelineCheck(
            violations=tuple(
                Violation.of(
                    name,
                    f"{name.replace('_', ' ')} needs a time zone",
                    "时间须带时区",
                    "platform rule",
                )
                for name in naive
            )
        )
    violations = [
        *_in_the_future(timeline, now),
        *_in_order(timeline),
        *_bid_period(timeline, category, method, calendar, limits),
        *_documents_period(timeline, category, method, calendar, limits),
        *_clarification_period(timeline, category, method, calendar, limits),
        *_deadline_on_working_day(timeline, calendar, limits),
    ]
    return TimelineCheck(
        violations=tuple(violations), warnings=tuple(_calendar_warnings(timeline, calendar))
    )


def _times(timeline: Timeline) -> Iterator[tuple[str, datetime]]:
    for spec in fields(timeline):
        value = getattr(timeline, spec.name)
        if value is not None:
            yield spec.name, value


def _in_the_future(t: Timeline, now: datetime) -> Iterator[Violation]:
    """Nothing may be scheduled in the past; the documents may go out from today on."""
    if china_date(t.documents_from) < china_date(now):
        yield Violation.of(
            "documents_from",
            "the documents cannot be issued in the past ({day})",
            "文件发出时间不得早于今天",
            "platform rule",
            day=china_date(t.documents_from),
        )
    for name, value in _times(t):
        if name != "documents_from" and value <= now:
            yield Violation.of(
                name,
                f"{name.replace('_', ' ')} must be in the future",
                "该时间必须晚于当前时间",
                "platform rule",
            )


def _in_order(t: Timeline) -> Iterator[Violation]:
    """Documents from < documents until ≤ bid deadline ≤ opening; questions in between."""
    if t.documents_until <= t.documents_from:
        yield Violation.of(
            "documents_until",
            "the documents must stay available after they are first issued",
            "文件发售截止时间须晚于开始时间",
            "GPL-R Art. 31; TBL-R Art. 16",
        )
    if t.documents_until > t.bid_deadline:
        yield Violation.of(
            "documents_until",
            "the documents cannot stay on offer after the bid deadline",
            "文件发售期不得晚于投标截止时间",
            "platform rule",
        )
    if t.opening_time < t.bid_deadline:
        yield Violation.of(
            "opening_time",
            "the opening cannot come before the bid deadline",
            "开标时间不得早于投标截止时间",
            "TBL Art. 34",
        )
    if t.clarification_deadline is not None and not (
        t.documents_from <= t.clarification_deadline <= t.bid_deadline
    ):
        yield Violation.of(
            "clarification_deadline",
            "the clarification deadline must fall between the documents' release and the "
            "bid deadline",
            "澄清截止时间须在文件发出与投标截止之间",
            "platform rule",
        )


def _bid_period(
    t: Timeline,
    category: ProjectCategory,
    method: ProcurementMethod,
    calendar: WorkingDayCalendar,
    limits: TimeLimits,
) -> Iterator[Violation]:
    """Documents first issued → bid deadline: the method's minimum (RULES §2)."""
    issued, deadline = china_date(t.documents_from), china_date(t.bid_deadline)
    count, working, rule = _minimum_period(method, category, limits)
    if deadline >= _legal_earliest(issued, category, method, calendar, limits):
        return
    earliest = earliest_bid_deadline(issued, category, method, calendar, limits)
    unit_en, unit_zh = ("working days", "个工作日") if working else ("days", "日")
    yield Violation.of(  # one template per method: its name and unit are in the text
        "bid_deadline",
        f"the bid deadline {{deadline}} is too early: {method.label_en.lower()} needs at least "
        f"{{count}} {unit_en} after the documents are issued on {{issued}}; "
        f"earliest {{earliest}}",
        f"{method.label_zh}自文件发出之日起至截止不得少于{{count}}{unit_zh}，最早为{{earliest}}",
        rule,
        deadline=deadline,
        count=count,
        issued=issued,
        earliest=earliest,
    )


def _documents_period(
    t: Timeline,
    category: ProjectCategory,
    method: ProcurementMethod,
    calendar: WorkingDayCalendar,
    limits: TimeLimits,
) -> Iterator[Violation]:
    """Tender documents on offer: government 5 working days, works 5 days (RULES §2)."""
    if not method.is_tender:
        return
    issued, until = china_date(t.documents_from), china_date(t.documents_until)
    if category is ProjectCategory.WORKS:
        if (until - issued).days < limits.works_documents_days:
            yield Violation.of(
                "documents_until",
                "works tender documents must be on sale at least {days} days",
                "招标文件发售期不得少于{days}日",
                "TBL-R Art. 16",
                days=limits.works_documents_days,
            )
    elif calendar.working_days_between(issued, until) < limits.documents_working_days:
        yield Violation.of(
            "documents_until",
            "tender documents must be available at least {days} working days",
            "招标文件提供期限不得少于{days}个工作日",
            "GPL-R Art. 31",
            days=limits.documents_working_days,
        )


def _clarification_period(
    t: Timeline,
    category: ProjectCategory,
    method: ProcurementMethod,
    calendar: WorkingDayCalendar,
    limits: TimeLimits,
) -> Iterator[Violation]:
    """Clarifications must leave bidders time before the deadline (RULES §2)."""
    if t.clarification_deadline is None:
        return
    asked, deadline = china_date(t.clarification_deadline), china_date(t.bid_deadline)
    if method.is_tender:
        required, working = limits.clarification_days, False
        rule = "TBL Art. 23" if category is ProjectCategory.WORKS else "GPL-R Art. 31"
    elif method is ProcurementMethod.COMPETITIVE_CONSULTATION:
        required, working = limits.consultation_clarification_days, False
        rule = "C214 Art. 10 (unconfirmed)"
    elif method is ProcurementMethod.PRICE_INQUIRY:
        required, working = limits.inquiry_clarification_working_days, True
        rule = "MOF74 Art. 45 (unconfirmed)"
    else:
        return
    gap = calendar.working_days_between(asked, deadline) if working else (deadline - asked).days
    if gap < required:
        unit_en, unit_zh = ("working days", "个工作日") if working else ("days", "日")
        yield Violation.of(  # one template per unit
            "clarification_deadline",
            f"clarifications must end at least {{required}} {unit_en} before the bid deadline "
            f"(now {{gap}}); move it earlier or postpone the deadline",
            f"澄清截止须在投标截止{{required}}{unit_zh}前（现为{{gap}}），否则应顺延截止时间",
            rule,
            required=required,
            gap=gap,
        )


def _deadline_on_working_day(
    t: Timeline, calendar: WorkingDayCalendar, limits: TimeLimits
) -> Iterator[Violation]:
    """Platform default: no bid deadline on a weekend or holiday (RULES §10(d))."""
    deadline = china_date(t.bid_deadline)
    if limits.deadline_on_working_day and not calendar.is_working_day(deadline):
        yield Violation.of(
            "bid_deadline",
            "the bid deadline falls on a non-working day ({deadline}); next working day: "
            "{next_day}",
            "投标截止日为非工作日",
            "RULES §10(d), platform default",
            deadline=deadline,
            next_day=calendar.next_working_day(deadline),
        )


def _calendar_warnings(t: Timeline, calendar: WorkingDayCalendar) -> Iterator[TimelineWarning]:
    """Years without an official schedule were counted with weekends only (ARCHITECTURE §2)."""
    last = max(value for _, value in _times(t))
    years = calendar.unconfirmed_years(china_date(t.documents_from), china_date(last))
    if years:
        yield TimelineWarning.of(
            "bid_deadline",
            "the official holiday calendar for {years} is not confirmed yet; only weekends "
            "were counted as days off",
            "{years}年节假日安排尚未确认，仅按周末计算",
            "ARCHITECTURE §2 working days",
            years=", ".join(map(str, years)),
        )
