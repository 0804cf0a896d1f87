"""Draw requests: quotas, reserves, dates, and the bid deadline."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expert_pool.draw_request import (
    DrawRequest,
    EvaluationMode,
    InvalidDrawRequest,
    LotParties,
    Quota,
    order_quotas,
    validate_draw_request,
)
from expert_pool.specialties import SPECIALTIES, UnknownSpecialty

DEADLINE = datetime(2025, 6, 16, 9, 30, tzinfo=UTC)
AFTER = DEADLINE + timedelta(hours=1)


def request(*quotas: Quota, **changes: object) -> DrawRequest:
    base = DrawRequest(
        quotas=quotas or (Quota("A03", 3), Quota("A01", 2)),
        experts_to_draw=sum(quota.count for quota in quotas) if quotas else 5,
        reserves=2,
        evaluation_date=date(2025, 6, 18),
        mode=EvaluationMode.ON_SITE,
        parties=LotParties(purchaser_id=1, bidder_ids=frozenset({2, 3}), agency_id=4),
        bid_deadline=DEADLINE,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_valid_request_comes_back_with_quotas_sorted_by_code() -> None:
    checked = validate_draw_request(request(), now=AFTER)
    assert [quota.specialty for quota in checked.quotas] == ["A01", "A03"]
    assert checked.experts_to_draw == 5


def test_the_draw_may_run_at_the_deadline_itself() -> None:
    validate_draw_request(request(), now=DEADLINE)


def test_a_draw_before_the_bid_deadline_is_refused() -> None:
    with pytest.raises(InvalidDrawRequest, match="only after the bid deadline") as refused:
        validate_draw_request(request(), now=DEADLINE - timedelta(microseconds=1))
    assert refused.value.field == "bid_deadline"


def test_evaluation_on_the_deadline_day_is_allowed_but_not_before() -> None:
    validate_draw_request(request(evaluation_date=date(2025, 6, 16)), now=AFTER)
    with pytest.raises(InvalidDrawRequest, match="evaluation date 2025-06-15"):
        validate_draw_request(request(evaluation_date=date(2025, 6, 15)), now=AFTER)


def test_the_deadline_day_is_the_day_in_china() -> None:
    """09:00 China time on 2025-06-17 is 01:00 UTC that day, and 17:00 UTC the day before
    for a deadline at 01:00: the evaluation date compares with the day people know."""
    early = datetime(2025, 6, 16, 17, 0, tzinfo=UTC)  # 2025-06-17 01:00 in China
    validate_draw_request(request(bid_deadline=early, evaluation_date=date(2025, 6, 17)), now=early)
    with pytest.raises(InvalidDrawRequest, match="before the bid deadline 2025-06-17"):
        validate_draw_request(
            request(bid_deadline=early, evaluation_date=date(2025, 6, 16)), now=early
        )


def test_a_refusal_names_the_deadline_in_china_time() -> None:
    with pytest.raises(InvalidDrawRequest) as refused:
        validate_draw_request(request(), now=DEADLINE - timedelta(minutes=1))
    assert "2025-06-16 17:30:00 (UTC+8)" in str(refused.value)


def test_quotas_must_add_up_to_the_number_of_experts() -> None:
    with pytest.raises(InvalidDrawRequest, match="add up to 5 experts but 7"):
        validate_draw_request(request(experts_to_draw=7), now=AFTER)


def test_negative_reserves_are_refused_and_zero_is_fine() -> None:
    validate_draw_request(request(reserves=0), now=AFTER)
    with pytest.raises(InvalidDrawRequest, match="reserves"):
        validate_draw_request(request(reserves=-1), now=AFTER)


def test_a_request_without_quotas_is_refused() -> None:
    with pytest.raises(InvalidDrawRequest, match="at least one specialty quota"):
        validate_draw_request(request(quotas=(), experts_to_draw=0), now=AFTER)


def test_a_quota_of_zero_experts_is_refused() -> None:
    with pytest.raises(InvalidDrawRequest, match="asks for 0 experts"):
        validate_draw_request(request(Quota("A01", 0), Quota("A02", 3)), now=AFTER)


def test_an_unknown_specialty_code_is_refused() -> None:
    with pytest.raises(UnknownSpecialty, match="A77"):
        validate_draw_request(request(Quota("A77", 3)), now=AFTER)


@pytest.mark.parametrize(("wide", "narrow"), [("A01", "A0102"), ("A", "A03"), ("B01", "B01")])
def test_nested_or_repeated_quota_codes_are_refused(wide: str, narrow: str) -> None:
    with pytest.raises(InvalidDrawRequest, match="overlap"):
        validate_draw_request(request(Quota(narrow, 2), Quota(wide, 3)), now=AFTER)


def test_naive_datetimes_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        validate_draw_request(request(), now=datetime(2025, 6, 17))  # noqa: DTZ001


@given(st.lists(st.sampled_from(sorted(SPECIALTIES)), min_size=1, max_size=6, unique=True))
def test_quota_codes_are_accepted_exactly_when_no_code_is_a_prefix_of_another(
    codes: list[str],
) -> None:
    nested = any(a != b and b.startswith(a) for a in codes for b in codes)
    quotas = [Quota(code, 1) for code in codes]
    if nested:
        with pytest.raises(InvalidDrawRequest):
            order_quotas(quotas)
    else:
        assert [quota.specialty for quota in order_quotas(quotas)] == sorted(codes)
