"""Eligibility and avoidance (回避): every exclusion reason, its boundaries, and an oracle."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expert_pool.draw_request import DrawRequest, EvaluationMode, LotParties, Quota
from expert_pool.eligibility import (
    CooldownPolicy,
    DrawHistory,
    ExclusionReason,
    PastDraw,
    PoolIndex,
    screen_experts,
    screen_pool,
    years_before,
)
from expert_pool.experts import Certification, Employment, Expert, ExpertStatus, Training
from tests.expert_pool import EVALUATION_DAY, make_expert

PURCHASER, BIDDER, OTHER_BIDDER, AGENCY, STRANGER = 10, 20, 21, 30, 40
R = ExclusionReason


def lot(*quotas: Quota, day: date = EVALUATION_DAY) -> DrawRequest:
    quotas = quotas or (Quota("A01", 1),)
    return DrawRequest(
        quotas=quotas,
        experts_to_draw=sum(quota.count for quota in quotas),
        reserves=0,
        evaluation_date=day,
        mode=EvaluationMode.REMOTE,
        parties=LotParties(PURCHASER, frozenset({BIDDER, OTHER_BIDDER}), AGENCY),
        bid_deadline=datetime(2025, 6, 16, 9, 0, tzinfo=UTC),
    )


def reasons(expert: Expert, request: DrawRequest | None = None) -> tuple[ExclusionReason, ...]:
    screening = screen_experts([expert], request or lot())
    eligible = expert in screening.eligible
    found = screening.exclusions.reasons_of(expert.expert_id)
    assert eligible == (not found)
    return found


def test_an_expert_without_ties_is_eligible() -> None:
    assert reasons(make_expert(1)) == ()


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (ExpertStatus.SUSPENDED, R.SUSPENDED),
        (ExpertStatus.RETIRED, R.RETIRED),
        (ExpertStatus.BLACKLISTED, R.BLACKLISTED),
    ],
)
def test_inactive_experts_are_excluded_under_their_status(
    status: ExpertStatus, reason: ExclusionReason
) -> None:
    assert reasons(make_expert(1, status=status)) == (reason,)


def test_an_expert_outside_every_quota_is_a_specialty_mismatch() -> None:
    assert reasons(make_expert(1, specialties=("B04",))) == (R.SPECIALTY_MISMATCH,)


def test_an_expert_in_a_narrower_field_matches_by_code_prefix() -> None:
    expert = make_expert(1, specialties=("A0102",))
    assert reasons(expert, lot(Quota("A01", 1))) == ()
    assert reasons(expert, lot(Quota("A", 1))) == ()
    assert reasons(expert, lot(Quota("A0101", 1))) == (R.SPECIALTY_MISMATCH,)


def test_an_expert_with_only_a_wider_field_does_not_match_a_narrow_quota() -> None:
    assert reasons(make_expert(1, specialties=("A01",)), lot(Quota("A0102", 1))) == (
        R.SPECIALTY_MISMATCH,
    )


def certificate(issued: date, expires: date) -> tuple[Certification, ...]:
    return (Certification("ZJ", issued, expires),)


def test_a_certificate_expiring_on_the_evaluation_date_still_counts() -> None:
    expert = make_expert(1, certifications=certificate(date(2022, 1, 1), EVALUATION_DAY))
    assert reasons(expert) == ()


def test_a_certificate_that_expired_the_day_before_evaluation_excludes() -> None:
    day_before = EVALUATION_DAY - timedelta(days=1)
    expert = make_expert(1, certifications=certificate(date(2022, 1, 1), day_before))
    assert reasons(expert) == (R.CERTIFICATION_EXPIRED,)


def test_a_certificate_issued_on_the_evaluation_date_counts_one_issued_after_does_not() -> None:
    on_the_day = make_expert(1, certifications=certificate(EVALUATION_DAY, date(2028, 1, 1)))
    assert reasons(on_the_day) == ()
    next_day = EVALUATION_DAY + timedelta(days=1)
    later = make_expert(1, certifications=certificate(next_day, date(2028, 1, 1)))
    assert reasons(later) == (R.UNCERTIFIED,)


def test_an_expert_without_any_certificate_is_uncertified() -> None:
    assert reasons(make_expert(1, certifications=())) == (R.UNCERTIFIED,)


def test_a_renewed_certificate_covers_the_day_after_the_old_one_expired() -> None:
    old = Certification("OLD", date(2019, 1, 1), EVALUATION_DAY - timedelta(days=1))
    new = Certification("NEW", EVALUATION_DAY, date(2028, 1, 1))
    assert reasons(make_expert(1, certifications=(new, old))) == ()


def test_a_gap_between_certificates_on_the_evaluation_date_counts_as_expired() -> None:
    old = Certification("OLD", date(2019, 1, 1), date(2022, 1, 1))
    new = Certification("NEW", EVALUATION_DAY + timedelta(days=1), date(2028, 1, 1))
    assert reasons(make_expert(1, certifications=(old, new))) == (R.CERTIFICATION_EXPIRED,)
    future_only = (new, Certification("NEWER", date(2028, 1, 2), date(2030, 1, 1)))
    assert reasons(make_expert(2, certifications=future_only)) == (R.UNCERTIFIED,)


def test_training_on_the_evaluation_date_counts_and_later_or_none_does_not() -> None:
    assert reasons(make_expert(1, trainings=(Training("T", EVALUATION_DAY),))) == ()
    next_day = EVALUATION_DAY + timedelta(days=1)
    assert reasons(make_expert(1, trainings=(Training("T", next_day),))) == (R.UNTRAINED,)
    assert reasons(make_expert(1, trainings=())) == (R.UNTRAINED,)


def test_an_expert_unavailable_on_the_evaluation_date_is_excluded_only_that_day() -> None:
    expert = make_expert(1, unavailable_dates=frozenset({EVALUATION_DAY}))
    assert reasons(expert) == (R.UNAVAILABLE,)
    assert reasons(expert, lot(day=EVALUATION_DAY + timedelta(days=1))) == ()


def worked_at(organisation: int, ended: date | None) -> tuple[Employment, ...]:
    return (Employment(organisation, date(2000, 1, 1), ended),)


@pytest.mark.parametrize(
    ("organisation", "reason"),
    [
        (PURCHASER, R.PURCHASER_EMPLOYEE),
        (BIDDER, R.BIDDER_EMPLOYEE),
        (OTHER_BIDDER, R.BIDDER_EMPLOYEE),
    ],
)
def test_current_employees_of_the_purchaser_or_any_bidder_are_excluded(
    organisation: int, reason: ExclusionReason
) -> None:
    assert reasons(make_expert(1, employments=worked_at(organisation, None))) == (reason,)


def test_a_job_that_ended_exactly_three_years_before_evaluation_still_excludes() -> None:
    ended = date(2022, 6, 18)
    assert reasons(make_expert(1, employments=worked_at(BIDDER, ended))) == (R.BIDDER_EMPLOYEE,)


def test_a_job_that_ended_three_years_and_a_day_before_evaluation_no_longer_excludes() -> None:
    ended = date(2022, 6, 17)
    assert reasons(make_expert(1, employments=worked_at(BIDDER, ended))) == ()
    assert reasons(make_expert(1, employments=worked_at(PURCHASER, ended))) == ()


def test_three_years_before_29_february_is_28_february() -> None:
    assert years_before(date(2024, 2, 29), 3) == date(2021, 2, 28)
    assert years_before(date(2028, 2, 29), 4) == date(2024, 2, 29)
    leap_lot = lot(day=date(2024, 2, 29))
    valid = certificate(date(2020, 1, 1), date(2027, 1, 1))
    still = make_expert(1, employments=worked_at(BIDDER, date(2021, 2, 28)), certifications=valid)
    assert reasons(still, leap_lot) == (R.BIDDER_EMPLOYEE,)
    free = make_expert(1, employments=worked_at(BIDDER, date(2021, 2, 27)), certifications=valid)
    assert reasons(free, leap_lot) == ()


def test_agency_staff_are_excluded_but_former_agency_staff_are_not() -> None:
    assert reasons(make_expert(1, employments=worked_at(AGENCY, None))) == (R.AGENCY_STAFF,)
    assert reasons(make_expert(1, employments=worked_at(AGENCY, date(2025, 1, 1)))) == ()


def test_employment_elsewhere_does_not_exclude() -> None:
    assert reasons(make_expert(1, employments=worked_at(STRANGER, None))) == ()


@pytest.mark.parametrize("organisation", [PURCHASER, BIDDER, AGENCY])
def test_a_declared_conflict_with_any_party_of_the_lot_excludes(organisation: int) -> None:
    expert = make_expert(1, declared_conflicts=frozenset({organisation}))
    assert reasons(expert) == (R.DECLARED_CONFLICT,)


def test_a_declared_conflict_with_an_unrelated_organisation_does_not_exclude() -> None:
    assert reasons(make_expert(1, declared_conflicts=frozenset({STRANGER}))) == ()


def cooldown_reasons(*days_ago: int, max_draws: int = 2) -> tuple[ExclusionReason, ...]:
    history = [PastDraw(1, EVALUATION_DAY - timedelta(days=ago)) for ago in days_ago]
    screening = screen_experts(
        [make_expert(1)],
        lot(),
        history=history,
        cooldown=CooldownPolicy(max_draws=max_draws, window_days=30),
    )
    return screening.exclusions.reasons_of(1)


def test_cooldown_counts_draws_from_29_days_before_through_the_evaluation_date() -> None:
    assert cooldown_reasons(29, 0) == (R.COOLDOWN,)
    assert cooldown_reasons(10, 5) == (R.COOLDOWN,)


def test_a_draw_30_days_before_is_outside_the_window() -> None:
    assert cooldown_reasons(30, 0) == ()


def test_draws_for_later_evaluations_do_not_count_yet() -> None:
    assert cooldown_reasons(-1, 0) == ()


def test_one_draw_fewer_than_the_limit_keeps_the_expert_eligible() -> None:
    assert cooldown_reasons(3) == ()
    assert cooldown_reasons(3, 2, 1, max_draws=3) == (R.COOLDOWN,)
    assert cooldown_reasons(3, 2, max_draws=3) == ()


def test_without_a_cooldown_policy_history_is_ignored() -> None:
    screening = screen_experts([make_expert(1)], lot(), history=[PastDraw(1, EVALUATION_DAY)] * 5)
    assert screening.exclusions.reasons_of(1) == ()


def test_a_cooldown_policy_needs_positive_limits() -> None:
    with pytest.raises(ValueError, match="max_draws"):
        CooldownPolicy(max_draws=0)
    with pytest.raises(ValueError, match="window_days"):
        CooldownPolicy(window_days=0)


def test_an_expert_excluded_for_several_reasons_counts_under_each_with_one_first_reason() -> None:
    many = make_expert(
        1,
        specialties=("B04",),
        status=ExpertStatus.SUSPENDED,
        trainings=(),
        employments=worked_at(BIDDER, None),
    )
    one = make_expert(2, unavailable_dates=frozenset({EVALUATION_DAY}))
    ok = make_expert(3)
    exclusions = screen_experts([ok, many, one], lot()).exclusions
    assert exclusions.reasons_of(1) == (
        R.SPECIALTY_MISMATCH,
        R.SUSPENDED,
        R.UNTRAINED,
        R.BIDDER_EMPLOYEE,
    )
    assert exclusions.first_reason(1) is R.SPECIALTY_MISMATCH
    assert exclusions.first_reason(2) is R.UNAVAILABLE
    assert exclusions.first_reason(3) is None
    assert exclusions.first_reasons() == {1: R.SPECIALTY_MISMATCH, 2: R.UNAVAILABLE}
    counts = exclusions.counts
    assert list(counts) == list(ExclusionReason)
    assert counts[R.SPECIALTY_MISMATCH] == counts[R.SUSPENDED] == counts[R.UNTRAINED] == 1
    assert counts[R.BIDDER_EMPLOYEE] == counts[R.UNAVAILABLE] == 1
    assert sum(counts.values()) == 5
    assert sum(exclusions.first_reason_counts().values()) == 2
    assert exclusions.excluded == {1, 2}


def test_the_eligible_pool_is_sorted_by_id_whatever_the_input_order() -> None:
    experts = [make_expert(expert_id) for expert_id in (7, 3, 9, 1)]
    assert screen_experts(experts, lot()).eligible_ids == (1, 3, 7, 9)


def test_two_experts_with_the_same_id_are_refused() -> None:
    with pytest.raises(ValueError, match="appears twice"):
        PoolIndex([make_expert(1), make_expert(1)])


def test_one_index_serves_many_lots_and_dates() -> None:
    index = PoolIndex([make_expert(1, unavailable_dates=frozenset({EVALUATION_DAY}))])
    history = DrawHistory()
    assert screen_pool(index, lot(), history=history).eligible == ()
    later = lot(day=EVALUATION_DAY + timedelta(days=1))
    assert screen_pool(index, later, history=history).eligible_ids == (1,)


# --- an independent oracle: every rule written per expert, in the plainest way ---

POLICY = CooldownPolicy(max_draws=2, window_days=10)
ORGANISATIONS = [PURCHASER, BIDDER, OTHER_BIDDER, AGENCY, STRANGER]
CODES = ["A0101", "A0102", "A0201", "A03", "B04", "C0101"]
DAYS = st.dates(
    min_value=EVALUATION_DAY - timedelta(days=1500), max_value=EVALUATION_DAY + timedelta(days=40)
)


def oracle(expert: Expert, request: DrawRequest, history: list[PastDraw]) -> set[ExclusionReason]:
    day = request.evaluation_date
    parties = request.parties
    found: set[ExclusionReason] = set()
    if not any(code.startswith(q.specialty) for code in expert.specialties for q in request.quotas):
        found.add(R.SPECIALTY_MISMATCH)
    status_reason = {
        ExpertStatus.SUSPENDED: R.SUSPENDED,
        ExpertStatus.RETIRED: R.RETIRED,
        ExpertStatus.BLACKLISTED: R.BLACKLISTED,
    }.get(expert.status)
    if status_reason:
        found.add(status_reason)
    if not any(cert.issued_on <= day for cert in expert.certifications):
        found.add(R.UNCERTIFIED)
    elif not any(cert.issued_on <= day <= cert.expires_on for cert in expert.certifications):
        found.add(R.CERTIFICATION_EXPIRED)
    if not any(training.completed_on <= day for training in expert.trainings):
        found.add(R.UNTRAINED)
    if day in expert.unavailable_dates:
        found.add(R.UNAVAILABLE)
    three_years = years_before(day, 3)

    def recent(organisation: int) -> bool:
        return any(
            job.organisation_id == organisation
            and (job.ended_on is None or job.ended_on >= three_years)
            for job in expert.employments
        )

    if recent(parties.purchaser_id):
        found.add(R.PURCHASER_EMPLOYEE)
    if any(recent(bidder) for bidder in parties.bidder_ids):
        found.add(R.BIDDER_EMPLOYEE)
    if parties.agency_id in expert.current_employers:
        found.add(R.AGENCY_STAFF)
    related = {parties.purchaser_id, parties.agency_id, *parties.bidder_ids}
    if expert.declared_conflicts & related:
        found.add(R.DECLARED_CONFLICT)
    recent_draws = [
        past
        for past in history
        if past.expert_id == expert.expert_id
        and 0 <= (day - past.evaluation_date).days < POLICY.window_days
    ]
    if len(recent_draws) >= POLICY.max_draws:
        found.add(R.COOLDOWN)
    return found


@st.composite
def experts(draw: st.DrawFn, expert_id: int) -> Expert:
    def certificate() -> Certification:
        issued = draw(DAYS)
        return Certification("C", issued, issued + timedelta(days=draw(st.integers(0, 1200))))

    def job() -> Employment:
        ended = draw(st.none() | DAYS)
        started = date(1999, 1, 1)
        return Employment(draw(st.sampled_from(ORGANISATIONS)), started, ended)

    return make_expert(
        expert_id,
        specialties=tuple(draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=3))),
        status=draw(st.sampled_from(list(ExpertStatus))),
        certifications=tuple(certificate() for _ in range(draw(st.integers(0, 3)))),
        trainings=tuple(Training("T", draw(DAYS)) for _ in range(draw(st.integers(0, 2)))),
        unavailable_dates=frozenset(
            draw(st.lists(st.sampled_from([EVALUATION_DAY, EVALUATION_DAY + timedelta(1)])))
        ),
        employments=tuple(job() for _ in range(draw(st.integers(0, 3)))),
        declared_conflicts=frozenset(draw(st.lists(st.sampled_from(ORGANISATIONS), max_size=2))),
    )


@st.composite
def pools(draw: st.DrawFn) -> tuple[list[Expert], list[PastDraw]]:
    size = draw(st.integers(0, 25))
    pool = [draw(experts(expert_id)) for expert_id in range(1, size + 1)]
    history = [
        PastDraw(
            draw(st.integers(1, max(size, 1))),
            EVALUATION_DAY - timedelta(days=draw(st.integers(-3, 14))),
        )
        for _ in range(draw(st.integers(0, 30)))
    ]
    return pool, history


REQUESTS = st.sampled_from(
    [
        lot(Quota("A01", 1)),
        lot(Quota("A0102", 1), Quota("B", 1)),
        lot(Quota("A", 2), Quota("C01", 1)),
        replace(lot(Quota("A03", 1)), parties=LotParties(PURCHASER, frozenset(), None)),
    ]
)


@settings(max_examples=300, deadline=None)
@given(pools(), REQUESTS)
def test_the_screening_agrees_with_the_rules_applied_one_expert_at_a_time(
    pool_and_history: tuple[list[Expert], list[PastDraw]], request: DrawRequest
) -> None:
    pool, history = pool_and_history
    screening = screen_experts(pool, request, history=history, cooldown=POLICY)
    for expert in pool:
        expected = oracle(expert, request, history)
        found = screening.exclusions.reasons_of(expert.expert_id)
        assert set(found) == expected, expert
        assert list(found) == sorted(found, key=list(ExclusionReason).index)
        assert (expert in screening.eligible) == (not expected)
    for reason, count in screening.exclusions.counts.items():
        assert count == sum(reason in oracle(e, request, history) for e in pool)


@settings(max_examples=100, deadline=None)
@given(pools(), REQUESTS, st.randoms(use_true_random=False))
def test_screening_does_not_depend_on_the_order_of_the_pool_or_the_history(
    pool_and_history: tuple[list[Expert], list[PastDraw]], request: DrawRequest, rng: random.Random
) -> None:
    pool, history = pool_and_history
    shuffled_pool, shuffled_history = list(pool), list(history)
    rng.shuffle(shuffled_pool)
    rng.shuffle(shuffled_history)
    first = screen_experts(pool, request, history=history, cooldown=POLICY)
    second = screen_experts(shuffled_pool, request, history=shuffled_history, cooldown=POLICY)
    assert first == second
    assert first.exclusions.first_reasons() == second.exclusions.first_reasons()
