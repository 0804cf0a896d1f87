"""Legal minimum time limits of a timeline (RULES §2, conventions and §10(d))."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from procurement.calendar import WorkingDayCalendar
from procurement.clock import CHINA
from procurement.deadlines import (
    LEGAL_LIMITS,
    TimeLimits,
    Timeline,
    TimelineCheck,
    Violation,
    check_timeline,
    earliest_bid_deadline,
)
from procurement.exceptions import ValidationError
from procurement.lifecycle import ProcurementMethod, ProjectCategory

CAL = WorkingDayCalendar()
GOODS, SERVICES, WORKS = ProjectCategory.GOODS, ProjectCategory.SERVICES, ProjectCategory.WORKS
M = ProcurementMethod
TENDER, INQUIRY = M.OPEN_TENDER, M.PRICE_INQUIRY
NOW = datetime(2026, 2, 20, 9, tzinfo=CHINA)
ANY_DAY = TimeLimits(deadline_on_working_day=False)


def at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=CHINA)


def timeline(
    start: str,
    deadline: str,
    *,
    until: str | None = None,
    clarification: str | None = None,
    opening: datetime | None = None,
) -> Timeline:
    """Documents from ``start`` 09:00 until ``until`` 17:00 (default: 7 days), deadline 10:00."""
    begin = at(start)
    bid_deadline = at(deadline, 10)
    return Timeline(
        documents_from=begin,
        documents_until=at(until, 17) if until else begin + timedelta(days=7),
        clarification_deadline=at(clarification, 17) if clarification else None,
        bid_deadline=bid_deadline,
        opening_time=opening or bid_deadline,
    )


def check(
    t: Timeline,
    category: ProjectCategory = GOODS,
    method: ProcurementMethod = TENDER,
    *,
    limits: TimeLimits | None = LEGAL_LIMITS,
    now: datetime = NOW,
) -> TimelineCheck:
    return check_timeline(t, category=category, method=method, calendar=CAL, limits=limits, now=now)


def rules(
    t: Timeline, category: ProjectCategory = GOODS, method: ProcurementMethod = TENDER
) -> list[str]:
    return [v.rule for v in check(t, category, method).violations]


def fields_of(result: TimelineCheck) -> list[str]:
    return [v.field for v in result.violations]


# RULES §10(d) ---------------------------------------------------------------------------


def test_rules_example_tender_issued_monday_2_march_may_close_monday_23_march() -> None:
    assert earliest_bid_deadline(date(2026, 3, 2), GOODS, TENDER, CAL) == date(2026, 3, 23)


def test_rules_example_tender_day_20_is_sunday_22_march_when_weekends_are_allowed() -> None:
    assert earliest_bid_deadline(date(2026, 3, 2), GOODS, TENDER, CAL, ANY_DAY) == date(2026, 3, 22)
    assert check(timeline("2026-03-02", "2026-03-22"), limits=ANY_DAY).ok


def test_rules_example_inquiry_issued_monday_23_november_may_close_thursday_26() -> None:
    assert earliest_bid_deadline(date(2026, 11, 23), GOODS, INQUIRY, CAL) == date(2026, 11, 26)
    ok = timeline("2026-11-23", "2026-11-26", until="2026-11-25")
    assert check(ok, method=INQUIRY).ok
    short = timeline("2026-11-23", "2026-11-25", until="2026-11-24")
    assert rules(short, method=INQUIRY) == ["MOF74 Art. 45"]


# Bid period per method ------------------------------------------------------------------


def test_a_tender_with_exactly_twenty_days_passes_and_nineteen_fails() -> None:
    assert check(timeline("2026-03-03", "2026-03-23")).ok
    result = check(timeline("2026-03-04", "2026-03-23"))
    assert fields_of(result) == ["bid_deadline"]
    (violation,) = result.violations
    assert violation.rule == "GPL Art. 35"
    assert "at least 20 days" in violation.message
    assert "2026-03-04" in violation.message
    assert "不得少于20日" in violation.message_zh


def test_a_works_tender_cites_the_tendering_law() -> None:
    assert rules(timeline("2026-03-04", "2026-03-23"), WORKS) == ["TBL Art. 24"]


def test_invitation_tenders_have_the_same_twenty_days() -> None:
    assert earliest_bid_deadline(date(2026, 3, 2), SERVICES, M.INVITATION, CAL) == date(2026, 3, 23)


def test_competitive_negotiation_needs_three_working_days() -> None:
    method = M.COMPETITIVE_NEGOTIATION
    assert earliest_bid_deadline(date(2026, 9, 30), SERVICES, method, CAL) == date(2026, 10, 10)
    assert check(timeline("2026-09-30", "2026-10-10", until="2026-10-09"), SERVICES, method).ok
    short = timeline("2026-09-30", "2026-10-09", until="2026-10-08")
    assert rules(short, SERVICES, method) == ["MOF74 Art. 29"]


def test_competitive_consultation_needs_ten_days() -> None:
    method = M.COMPETITIVE_CONSULTATION
    assert earliest_bid_deadline(date(2026, 3, 2), SERVICES, method, CAL) == date(2026, 3, 12)
    assert check(timeline("2026-03-02", "2026-03-12"), SERVICES, method).ok
    assert rules(timeline("2026-03-03", "2026-03-12"), SERVICES, method) == ["C214 Art. 10"]


def test_single_source_publicity_needs_five_working_days_unless_not_applicable() -> None:
    method = M.SINGLE_SOURCE
    assert earliest_bid_deadline(date(2026, 3, 2), GOODS, method, CAL) == date(2026, 3, 9)
    assert check(timeline("2026-03-02", "2026-03-09", until="2026-03-06"), method=method).ok
    short = timeline("2026-03-02", "2026-03-06", until="2026-03-05")
    assert rules(short, method=method) == ["GPL-R Art. 38"]
    no_publicity = TimeLimits(single_source_working_days=0)
    assert check(short, method=method, limits=no_publicity).ok


def test_a_longer_configured_limit_is_applied() -> None:
    longer = TimeLimits(tender_days=25)
    assert earliest_bid_deadline(date(2026, 3, 2), GOODS, TENDER, CAL, longer) == date(2026, 3, 27)
    assert not check(timeline("2026-03-02", "2026-03-23"), limits=longer).ok


def test_none_limits_mean_the_legal_values() -> None:
    t = timeline("2026-03-04", "2026-03-23")
    assert check(t, limits=None) == check(t)


def test_a_negative_limit_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="tender_days must not be negative"):
        TimeLimits(tender_days=-1)


# Deadline on a working day --------------------------------------------------------------


def test_a_deadline_on_a_sunday_is_refused_with_the_next_working_day() -> None:
    result = check(timeline("2026-03-02", "2026-03-29"))
    assert fields_of(result) == ["bid_deadline"]
    assert (
        "non-working day (2026-03-29); next working day: 2026-03-30" in result.violations[0].message
    )
    assert result.violations[0].rule == "RULES §10(d), platform default"


def test_day_twenty_on_a_sunday_is_only_a_non_working_day_problem_not_too_early() -> None:
    result = check(timeline("2026-03-02", "2026-03-22"))
    assert [v.rule for v in result.violations] == ["RULES §10(d), platform default"]


def test_a_deadline_in_the_national_day_holiday_is_refused_but_a_make_up_saturday_is_fine() -> None:
    assert "RULES §10(d), platform default" in rules(timeline("2026-09-10", "2026-10-05"))
    assert check(timeline("2026-09-10", "2026-10-10")).ok


# Documents on offer ---------------------------------------------------------------------


def test_government_tender_documents_need_five_working_days() -> None:
    # Friday 3 April 2026, then Qingming 4-6 April: 7, 8, 9, 10 April are only 4 working days.
    short = timeline("2026-04-03", "2026-04-27", until="2026-04-10")
    assert rules(short) == ["GPL-R Art. 31"]
    assert check(timeline("2026-04-03", "2026-04-27", until="2026-04-13")).ok


def test_works_tender_documents_need_five_calendar_days() -> None:
    assert rules(timeline("2026-04-03", "2026-04-27", until="2026-04-07"), WORKS) == [
        "TBL-R Art. 16"
    ]
    assert check(timeline("2026-04-03", "2026-04-27", until="2026-04-08"), WORKS).ok


def test_the_documents_period_does_not_apply_to_an_inquiry() -> None:
    assert check(timeline("2026-11-23", "2026-11-26", until="2026-11-23"), method=INQUIRY).ok


# Clarifications -------------------------------------------------------------------------


def test_tender_clarifications_fifteen_days_before_pass_and_fourteen_fail() -> None:
    assert check(timeline("2026-03-02", "2026-03-23", clarification="2026-03-08")).ok
    result = check(timeline("2026-03-02", "2026-03-23", clarification="2026-03-09"))
    assert fields_of(result) == ["clarification_deadline"]
    assert result.violations[0].rule == "GPL-R Art. 31"
    assert "at least 15 days before the bid deadline (now 14)" in result.violations[0].message


def test_works_clarifications_cite_the_tendering_law() -> None:
    t = timeline("2026-03-02", "2026-03-23", clarification="2026-03-09")
    assert rules(t, WORKS) == ["TBL Art. 23"]


def test_consultation_clarifications_need_five_days() -> None:
    method = M.COMPETITIVE_CONSULTATION
    assert check(
        timeline("2026-03-02", "2026-03-16", clarification="2026-03-11"), SERVICES, method
    ).ok
    late = timeline("2026-03-02", "2026-03-16", clarification="2026-03-12")
    assert rules(late, SERVICES, method) == ["C214 Art. 10 (unconfirmed)"]


def test_inquiry_clarifications_need_three_working_days() -> None:
    ok = timeline("2026-11-23", "2026-11-30", until="2026-11-24", clarification="2026-11-25")
    assert check(ok, method=INQUIRY).ok
    late = timeline("2026-11-23", "2026-11-30", until="2026-11-24", clarification="2026-11-26")
    assert rules(late, method=INQUIRY) == ["MOF74 Art. 45 (unconfirmed)"]


def test_negotiation_has_no_clarification_limit_here() -> None:
    t = timeline("2026-03-02", "2026-03-09", until="2026-03-05", clarification="2026-03-08")
    assert check(t, SERVICES, M.COMPETITIVE_NEGOTIATION).ok


# Ordering and the present ---------------------------------------------------------------


def test_every_time_must_be_in_the_future() -> None:
    later = datetime(2026, 3, 10, 12, tzinfo=CHINA)
    result = check(timeline("2026-03-02", "2026-03-23", clarification="2026-03-06"), now=later)
    assert fields_of(result) == ["documents_from", "documents_until", "clarification_deadline"]


def test_documents_issued_earlier_today_are_fine_but_yesterday_is_not() -> None:
    t = timeline("2026-03-02", "2026-03-23")
    assert check(t, now=datetime(2026, 3, 2, 11, tzinfo=CHINA)).ok
    assert fields_of(check(t, now=datetime(2026, 3, 3, 8, tzinfo=CHINA))) == ["documents_from"]


def test_a_deadline_equal_to_now_is_in_the_past() -> None:
    t = timeline("2026-03-02", "2026-03-23")
    result = check(t, now=t.bid_deadline)
    assert {"bid_deadline", "opening_time"} <= set(fields_of(result))


def test_documents_must_end_after_they_start_and_not_after_the_deadline() -> None:
    backwards = Timeline(
        documents_from=at("2026-03-10"),
        documents_until=at("2026-03-09"),
        clarification_deadline=None,
        bid_deadline=at("2026-04-10"),
        opening_time=at("2026-04-10"),
    )
    assert "documents_until" in fields_of(check(backwards))
    overlong = timeline("2026-03-02", "2026-03-23", until="2026-03-24")
    assert fields_of(check(overlong)) == ["documents_until"]
    until_deadline = timeline("2026-03-02", "2026-03-23")
    assert check(
        Timeline(
            documents_from=until_deadline.documents_from,
            documents_until=until_deadline.bid_deadline,
            clarification_deadline=None,
            bid_deadline=until_deadline.bid_deadline,
            opening_time=until_deadline.bid_deadline,
        )
    ).ok


def test_opening_may_follow_the_deadline_but_never_precede_it() -> None:
    later = timeline("2026-03-02", "2026-03-23", opening=at("2026-03-23", 14))
    assert check(later).ok
    earlier = timeline("2026-03-02", "2026-03-23", opening=at("2026-03-23", 9))
    result = check(earlier)
    assert fields_of(result) == ["opening_time"]
    assert result.violations[0].rule == "TBL Art. 34"


def test_the_clarification_deadline_must_lie_between_release_and_deadline() -> None:
    before = timeline("2026-03-02", "2026-03-23", clarification="2026-03-01")
    assert "clarification_deadline" in fields_of(check(before))
    after = timeline("2026-03-02", "2026-03-23", clarification="2026-03-24")
    assert "clarification_deadline" in fields_of(check(after))


def test_naive_times_are_reported_not_compared() -> None:
    t = timeline("2026-03-02", "2026-03-23")
    naive = Timeline(
        documents_from=t.documents_from.replace(tzinfo=None),
        documents_until=t.documents_until,
        clarification_deadline=None,
        bid_deadline=t.bid_deadline.replace(tzinfo=None),
        opening_time=t.opening_time,
    )
    assert fields_of(check(naive)) == ["documents_from", "bid_deadline"]
    with pytest.raises(ValueError, match="timezone-aware"):
        check(t, now=NOW.replace(tzinfo=None))


def test_days_are_counted_on_china_standard_time_dates() -> None:
    # 2026-03-22 17:00 UTC is Monday 23 March 01:00 in Beijing: a working day, day 21.
    t = Timeline(
        documents_from=datetime(2026, 3, 1, 16, 30, tzinfo=UTC),  # 2 March 00:30 in Beijing
        documents_until=datetime(2026, 3, 10, 9, tzinfo=UTC),
        clarification_deadline=None,
        bid_deadline=datetime(2026, 3, 22, 17, tzinfo=UTC),
        opening_time=datetime(2026, 3, 22, 17, tzinfo=UTC),
    )
    assert check(t).ok


# Results, errors and warnings -----------------------------------------------------------


def test_raise_if_invalid_names_every_violation_with_its_rule() -> None:
    result = check(timeline("2026-03-10", "2026-03-29", clarification="2026-03-20"))
    assert [v.rule for v in result.violations] == [
        "GPL Art. 35",
        "GPL-R Art. 31",
        "RULES §10(d), platform default",
    ]
    with pytest.raises(ValidationError) as raised:
        result.raise_if_invalid()
    text = str(raised.value)
    assert "GPL Art. 35" in text
    assert "GPL-R Art. 31" in text
    assert "non-working day" in text
    assert "投标截止日为非工作日" in text
    assert raised.value.field == "bid_deadline"
    assert raised.value.code == "timeline_invalid"


def test_a_valid_timeline_raises_nothing() -> None:
    result = check(timeline("2026-03-02", "2026-03-23"))
    assert result == TimelineCheck()
    result.raise_if_invalid()


def test_a_violation_reads_in_both_languages() -> None:
    v = Violation("bid_deadline", "too early", "过早", "GPL Art. 35")
    assert str(v) == "too early (过早; GPL Art. 35)"


def test_a_december_2026_tender_with_a_2027_deadline_warns_and_does_not_crash() -> None:
    result = check(
        timeline("2026-12-14", "2027-01-05", clarification="2026-12-18"),
        now=datetime(2026, 12, 1, tzinfo=CHINA),
    )
    assert result.ok
    (warning,) = result.warnings
    assert "2027" in warning.message
    assert "2027年节假日安排尚未确认" in warning.message_zh


def test_an_inquiry_across_new_year_2027_counts_weekends_only_and_warns() -> None:
    assert earliest_bid_deadline(date(2026, 12, 30), GOODS, INQUIRY, CAL) == date(2027, 1, 4)
    result = check(
        timeline("2026-12-30", "2027-01-04", until="2026-12-31"),
        method=INQUIRY,
        now=datetime(2026, 12, 1, tzinfo=CHINA),
    )
    assert result.ok
    assert len(result.warnings) == 1


def test_a_2026_timeline_has_no_warning() -> None:
    assert check(timeline("2026-03-02", "2026-03-23")).warnings == ()


def test_an_admins_2027_table_removes_the_warning_and_moves_the_deadline() -> None:
    calendar = WorkingDayCalendar(overrides={date(2027, 1, 1): False})
    assert earliest_bid_deadline(date(2026, 12, 30), GOODS, INQUIRY, calendar) == date(2027, 1, 5)
    result = check_timeline(
        timeline("2026-12-30", "2027-01-05", until="2026-12-31"),
        category=GOODS,
        method=INQUIRY,
        calendar=calendar,
        now=datetime(2026, 12, 1, tzinfo=CHINA),
    )
    assert result.ok
    assert result.warnings == ()


# Properties -----------------------------------------------------------------------------


def legal_timeline(issued: date, deadline: date) -> Timeline:
    start = datetime.combine(issued, datetime.min.time(), CHINA).replace(hour=9)
    end = datetime.combine(deadline, datetime.min.time(), CHINA).replace(hour=10)
    return Timeline(start, end, None, end, end)


ISSUE_DAYS = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))


@given(ISSUE_DAYS, st.sampled_from(list(M)), st.sampled_from(list(ProjectCategory)))
def test_the_earliest_deadline_passes_and_one_day_earlier_fails(
    issued: date, method: ProcurementMethod, category: ProjectCategory
) -> None:
    now = datetime.combine(issued, datetime.min.time(), CHINA)
    earliest = earliest_bid_deadline(issued, category, method, CAL)
    assert CAL.is_working_day(earliest)
    assert check(legal_timeline(issued, earliest), category, method, now=now).ok
    too_early = check(
        legal_timeline(issued, earliest - timedelta(days=1)), category, method, now=now
    )
    assert "bid_deadline" in fields_of(too_early)


@given(ISSUE_DAYS, st.sampled_from(list(M)))
def test_without_the_working_day_default_the_day_before_the_minimum_breaks_the_method_rule(
    issued: date, method: ProcurementMethod
) -> None:
    now = datetime.combine(issued, datetime.min.time(), CHINA)
    earliest = earliest_bid_deadline(issued, SERVICES, method, CAL, ANY_DAY)
    assert check(legal_timeline(issued, earliest), SERVICES, method, limits=ANY_DAY, now=now).ok
    if earliest - timedelta(days=1) > issued:
        result = check(
            legal_timeline(issued, earliest - timedelta(days=1)),
            SERVICES,
            method,
            limits=ANY_DAY,
            now=now,
        )
        assert [v.field for v in result.violations] == ["bid_deadline"]
