"""Price inquiry (RULES §7, §10(b)): one price once, lowest compliant quote within budget wins."""

from __future__ import annotations

import random
from collections.abc import Sequence
from decimal import Decimal

import pytest

from evaluation.exceptions import DuplicateQuote, TieUnresolved
from evaluation.inquiry import (
    InquiryResult,
    Quote,
    QuoteExclusion,
    accept_quote,
    select_lowest_quote,
)
from procurement.exceptions import Conflict, ValidationError
from procurement.lifecycle import FailureReason

D = Decimal
BUDGET = D("200000")
RATE = D("0.10")


def quotes(*, s3_small: bool = False, s4_price: str = "181200") -> list[Quote]:
    return [
        Quote("S1", D("168000"), compliant=False, non_compliance="30-day delivery"),
        Quote("S2", D("172500")),
        Quote("S3", D("175800"), is_small_or_micro=s3_small),
        Quote("S4", D(s4_price)),
    ]


@pytest.fixture
def base_case() -> InquiryResult:
    return select_lowest_quote(quotes(), budget=BUDGET, deduction_rate=RATE)


def test_s1_is_cheapest_but_excluded_for_its_delivery_time(base_case: InquiryResult) -> None:
    assert [(e.quote.supplier, e.reason, e.detail) for e in base_case.excluded] == [
        ("S1", QuoteExclusion.NON_COMPLIANT, "30-day delivery")
    ]


def test_candidates_are_s2_s3_s4_in_price_order(base_case: InquiryResult) -> None:
    assert [(c.supplier, c.rank) for c in base_case.candidates] == [
        ("S2", 1),
        ("S3", 2),
        ("S4", 3),
    ]


def test_s2_wins_at_172500_saving_27500_or_13_75_percent(base_case: InquiryResult) -> None:
    assert base_case.winner is not None
    assert base_case.winner.supplier == "S2"
    assert base_case.winner.price == D("172500")
    assert base_case.savings is not None
    assert base_case.savings.saved == D("27500")
    assert base_case.savings.rate_display == "13.75 %"


def test_a_second_quote_from_s3_is_rejected_and_175800_stands() -> None:
    received = quotes()
    with pytest.raises(DuplicateQuote, match="one price, once") as error:
        accept_quote(received, Quote("S3", D("170000")))
    assert isinstance(error.value, Conflict)
    s3 = next(q for q in received if q.supplier == "S3")
    assert s3.price == D("175800")


def test_a_first_quote_is_accepted() -> None:
    assert accept_quote((), Quote("S9", D("1.00"))) == (Quote("S9", D("1.00")),)


def test_a_zero_quote_is_refused() -> None:
    with pytest.raises(ValidationError, match="positive"):
        accept_quote((), Quote("S9", D("0")))


def test_variant_1_small_s3_ranks_first_at_evaluation_price_158220() -> None:
    result = select_lowest_quote(quotes(s3_small=True), budget=BUDGET, deduction_rate=RATE)
    assert result.winner is not None
    assert result.winner.supplier == "S3"
    assert result.winner.evaluation_price == D("158220.00")
    assert [c.supplier for c in result.candidates] == ["S3", "S2", "S4"]


def test_variant_1_contract_is_175800_saving_24200_or_12_10_percent() -> None:
    result = select_lowest_quote(quotes(s3_small=True), budget=BUDGET, deduction_rate=RATE)
    assert result.winner is not None
    assert result.winner.price == D("175800")
    assert result.savings is not None
    assert result.savings.saved == D("24200")
    assert result.savings.rate_display == "12.10 %"


def test_variant_2_over_budget_s4_leaves_two_and_the_inquiry_is_terminated() -> None:
    result = select_lowest_quote(quotes(s4_price="205000"), budget=BUDGET, deduction_rate=RATE)
    assert result.terminated
    assert result.failure_reason is FailureReason.TOO_FEW_VALID
    assert result.winner is None
    assert result.candidates == ()
    assert result.savings is None
    assert ("S4", QuoteExclusion.OVER_BUDGET) in [
        (e.quote.supplier, e.reason) for e in result.excluded
    ]


def test_a_quote_equal_to_the_budget_is_within_budget() -> None:
    result = select_lowest_quote(quotes(s4_price="200000"), budget=BUDGET)
    assert not result.terminated


def test_every_quote_over_budget_terminates_with_all_over_budget() -> None:
    over = [Quote(f"S{i}", D("250000")) for i in range(4)]
    result = select_lowest_quote(over, budget=BUDGET)
    assert result.failure_reason is FailureReason.ALL_OVER_BUDGET


def test_equal_lowest_quotes_without_a_rule_or_draw_are_refused() -> None:
    tie = [Quote("S1", D("100")), Quote("S2", D("100")), Quote("S3", D("120"))]
    with pytest.raises(TieUnresolved, match="S1, S2"):
        select_lowest_quote(tie, budget=BUDGET)


def test_equal_lowest_quotes_follow_the_notices_rule() -> None:
    tie = [Quote("S1", D("100")), Quote("S2", D("100")), Quote("S3", D("120"))]

    def latest_id_first(tied: Sequence[Quote]) -> Sequence[Quote]:
        return sorted(tied, key=lambda q: q.supplier, reverse=True)

    result = select_lowest_quote(tie, budget=BUDGET, tie_rule=latest_id_first)
    assert [(c.supplier, c.rank, c.drawn) for c in result.candidates] == [
        ("S2", 1, False),
        ("S1", 2, False),
        ("S3", 3, False),
    ]


def test_a_tie_rule_that_drops_a_quote_is_refused() -> None:
    tie = [Quote("S1", D("100")), Quote("S2", D("100")), Quote("S3", D("120"))]
    with pytest.raises(ValidationError, match="tie rule"):
        select_lowest_quote(tie, budget=BUDGET, tie_rule=lambda tied: tied[:1])


def test_equal_lowest_quotes_are_drawn_reproducibly_from_the_injected_source() -> None:
    tie = [Quote("S1", D("100")), Quote("S2", D("100")), Quote("S3", D("120"))]
    first = select_lowest_quote(tie, budget=BUDGET, rng=random.Random(7))
    again = select_lowest_quote(list(reversed(tie)), budget=BUDGET, rng=random.Random(7))
    assert [c.supplier for c in first.candidates] == [c.supplier for c in again.candidates]
    assert first.candidates[0].drawn
    assert {c.supplier for c in first.candidates[:2]} == {"S1", "S2"}


def test_a_deduction_outside_10_to_20_percent_is_refused() -> None:
    with pytest.raises(ValidationError, match="outside"):
        select_lowest_quote(quotes(), budget=BUDGET, deduction_rate=D("0.06"))


def test_two_quotes_from_one_supplier_are_refused_at_selection() -> None:
    with pytest.raises(ValidationError, match="once"):
        select_lowest_quote([*quotes(), Quote("S2", D("1"))], budget=BUDGET)
