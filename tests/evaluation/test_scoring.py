"""Scoring, ranking and failure rules beyond the worked example (MOF87 Art. 55–57, 63; GPL 36)."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from evaluation.exceptions import ScoreError, TieUnresolved
from evaluation.scheme import (
    CriterionGroup,
    EvaluationMethod,
    PassFailCriterion,
    PricePreference,
    ScoredCriterion,
    ScoringScheme,
    ThirdTieBreak,
)
from evaluation.scoring import (
    Bid,
    ExclusionReason,
    SavingsReference,
    aggregate,
    evaluate,
    evaluation_price,
    lot_savings,
    mean_score,
    price_points,
)
from procurement.exceptions import ValidationError
from procurement.lifecycle import FailureReason, ProjectCategory

D = Decimal


def scheme(
    third: ThirdTieBreak = ThirdTieBreak.NONE, method: EvaluationMethod | None = None
) -> ScoringScheme:
    return ScoringScheme(
        method or EvaluationMethod.COMPREHENSIVE_SCORING,
        ProjectCategory.GOODS,
        criteria=(
            ScoredCriterion("price", CriterionGroup.PRICE, D(30)),
            ScoredCriterion("tech", CriterionGroup.TECHNICAL, D(50)),
            ScoredCriterion("comm", CriterionGroup.COMMERCIAL, D(20)),
        ),
        qualification=(PassFailCriterion("licence"),),
        compliance=(PassFailCriterion("delivery"),),
        small_or_micro_deduction=D("0.10"),
        third_tie_break=third,
    )


def price_only(method: EvaluationMethod, category: ProjectCategory) -> ScoringScheme:
    deduction = D("0.05") if category is ProjectCategory.WORKS else D("0.10")
    return ScoringScheme(
        method,
        category,
        small_or_micro_deduction=deduction,
        third_tie_break=ThirdTieBreak.NONE,
    )


def sheets(tech: str, comm: str, experts: int = 3) -> dict[str, dict[str, Decimal]]:
    return {f"E{i}": {"tech": D(tech), "comm": D(comm)} for i in range(experts)}


def test_evaluation_price_is_unchanged_for_other_bidders() -> None:
    assert evaluation_price(D("100"), False, D("0.10")) == D("100")


def test_a_deduction_of_100_percent_is_refused() -> None:
    with pytest.raises(ValidationError):
        evaluation_price(D("100"), True, D("1"))


def test_the_base_price_earns_the_full_price_weight() -> None:
    assert price_points(D("945000"), D("945000"), D(30)) == D("30.00")


def test_price_points_keep_an_exact_half_that_a_rounded_quotient_would_lose() -> None:
    assert price_points(D("1"), D("6"), D("0.03")) == D("0.01")


def test_mean_score_rounds_half_up_to_two_decimals() -> None:
    assert mean_score([D("1"), D("2"), D("2"), D("2"), D("2"), D("2"), D("2"), D("2")]) == D("1.88")
    assert mean_score([D("0.005"), D("0.005")]) == D("0.01")


def test_mean_score_of_no_scores_is_an_error() -> None:
    with pytest.raises(ScoreError):
        mean_score([])


def test_failed_qualification_and_compliance_exclude_with_their_reason() -> None:
    bids = [
        Bid("A", D("100"), failed_qualification=("licence",)),
        Bid("B", D("110"), failed_compliance=("delivery",)),
        Bid("C", D("120")),
    ]
    results = aggregate(bids, {"C": sheets("40", "10")}, scheme())
    reasons = {r.bidder: r.exclusion.reason for r in results if r.exclusion}
    assert reasons == {"A": ExclusionReason.QUALIFICATION, "B": ExclusionReason.COMPLIANCE}
    criteria = {r.bidder: r.exclusion.criteria for r in results if r.exclusion}
    assert criteria == {"A": ("licence",), "B": ("delivery",)}  # each page names them itself
    assert next(r for r in results if r.bidder == "C").price_points == D("30.00")


def test_excluded_bids_do_not_set_the_base_price() -> None:
    bids = [Bid("A", D("50"), failed_compliance=("delivery",)), Bid("B", D("100"))]
    results = aggregate(bids, {"B": sheets("40", "10")}, scheme())
    assert results[0].bidder == "B"
    assert results[0].price_points == D("30.00")


def test_a_bid_above_the_budget_is_invalid_but_equal_to_it_is_valid() -> None:
    bids = [Bid("A", D("100.01")), Bid("B", D("100"))]
    results = aggregate(bids, {"B": sheets("40", "10")}, scheme(), price_limit=D("100"))
    assert [(r.bidder, r.exclusion.reason if r.exclusion else None) for r in results] == [
        ("B", None),
        ("A", ExclusionReason.OVER_LIMIT),
    ]
    excluded = results[1].exclusion
    assert excluded is not None
    assert (excluded.limit, excluded.criteria) == (D("100"), ())


def test_every_exclusion_reason_reads_in_both_languages() -> None:
    for reason in ExclusionReason:
        assert reason.label("zh") != reason.label("en")
        assert f"{reason:zh}" == reason.label_zh


def test_fewer_than_three_valid_bids_fail_with_too_few_valid() -> None:
    bids = [
        Bid("A", D("100")),
        Bid("B", D("110")),
        Bid("C", D("90"), failed_compliance=("delivery",)),
    ]
    scores = {"A": sheets("40", "10"), "B": sheets("40", "10")}
    result = evaluate(bids, scores, scheme(), budget=D("200"))
    assert result.failed
    assert result.failure_reason is FailureReason.TOO_FEW_VALID
    assert result.recommended is None
    assert result.candidates() == ()
    assert result.savings is None


def test_every_bid_over_budget_fails_with_all_over_budget() -> None:
    bids = [Bid(x, D("300")) for x in "ABC"]
    result = evaluate(bids, {}, scheme(), budget=D("200"))
    assert result.failure_reason is FailureReason.ALL_OVER_BUDGET


def test_a_works_ceiling_below_the_budget_is_the_limit() -> None:
    bids = [Bid(x, D(p)) for x, p in zip("ABC", ["100", "150", "190"], strict=True)]
    scores = {x: sheets("40", "10") for x in "ABC"}
    result = evaluate(bids, scores, scheme(), budget=D("200"), ceiling=D("180"))
    assert [r.bidder for r in result.excluded] == ["C"]
    assert result.failure_reason is FailureReason.TOO_FEW_VALID


def test_the_minimum_number_of_valid_bids_is_a_setting() -> None:
    bids = [Bid("A", D("100")), Bid("B", D("110"))]
    scores = {"A": sheets("40", "10"), "B": sheets("40", "10")}
    result = evaluate(bids, scores, scheme(), minimum_valid=2)
    assert not result.failed
    assert result.recommended is not None
    assert result.recommended.bidder == "A"


def test_equal_total_and_price_are_tied_and_share_a_rank() -> None:
    bids = [Bid("A", D("100")), Bid("B", D("100")), Bid("C", D("100"))]
    scores = {"A": sheets("40", "10"), "B": sheets("40", "10"), "C": sheets("30", "10")}
    result = evaluate(bids, scores, scheme())
    assert [(r.bidder, r.rank, r.tied) for r in result.ranking] == [
        ("A", 1, True),
        ("B", 1, True),
        ("C", 3, False),
    ]
    assert [r.bidder for r in result.tied_for_first] == ["A", "B"]
    assert result.recommended is None


def test_the_technical_tie_break_puts_the_better_technical_score_first() -> None:
    bids = [Bid("A", D("100")), Bid("B", D("100")), Bid("C", D("100"))]
    scores = {"A": sheets("40", "10"), "B": sheets("41", "9"), "C": sheets("30", "10")}
    result = evaluate(bids, scores, scheme(ThirdTieBreak.TECHNICAL))
    assert [(r.bidder, r.rank, r.tied) for r in result.ranking][:2] == [
        ("B", 1, False),
        ("A", 2, False),
    ]


def test_the_draw_tie_break_orders_ties_from_the_injected_source() -> None:
    bids = [Bid(x, D("100")) for x in "ABCD"]
    scores = {x: sheets("40", "10") for x in "ABCD"}
    first = aggregate(bids, scores, scheme(ThirdTieBreak.DRAW), rng=random.Random(3))
    again = aggregate(bids[::-1], scores, scheme(ThirdTieBreak.DRAW), rng=random.Random(3))
    assert [r.bidder for r in first] == [r.bidder for r in again]
    assert [r.rank for r in first] == [1, 2, 3, 4]
    assert all(r.drawn and not r.tied for r in first)


def test_a_draw_without_a_random_source_is_refused() -> None:
    bids = [Bid(x, D("100")) for x in "AB"]
    scores = {x: sheets("40", "10") for x in "AB"}
    with pytest.raises(TieUnresolved, match="random"):
        aggregate(bids, scores, scheme(ThirdTieBreak.DRAW))


def test_govt_lowest_evaluated_price_ranks_by_deducted_price_and_ties_equal_prices() -> None:
    bids = [
        Bid("A", D("100")),
        Bid("B", D("110"), PricePreference.SMALL_OR_MICRO),
        Bid("C", D("99")),
        Bid("D", D("99")),
    ]
    method = EvaluationMethod.LOWEST_EVALUATED_PRICE
    results = aggregate(bids, {}, price_only(method, ProjectCategory.GOODS))
    assert [(r.bidder, r.evaluation_price, r.rank, r.tied) for r in results] == [
        ("B", D("99.00"), 1, True),
        ("C", D("99"), 1, True),
        ("D", D("99"), 1, True),
        ("A", D("100"), 4, False),
    ]
    assert all(r.total is None and r.price_points is None for r in results)


def test_works_lowest_evaluated_bid_price_breaks_ties_by_the_quoted_price() -> None:
    bids = [Bid("A", D("100"), PricePreference.SMALL_OR_MICRO), Bid("B", D("95"))]
    method = EvaluationMethod.LOWEST_EVALUATED_BID_PRICE
    results = aggregate(bids, {}, price_only(method, ProjectCategory.WORKS))
    assert [(r.bidder, r.rank, r.tied) for r in results] == [("B", 1, False), ("A", 2, False)]


def test_a_missing_expert_sheet_is_a_score_error() -> None:
    bids = [Bid("A", D("100")), Bid("B", D("100"))]
    scores = {"A": sheets("40", "10", experts=3), "B": sheets("40", "10", experts=2)}
    with pytest.raises(ScoreError, match="every member scores every bid"):
        aggregate(bids, scores, scheme())


def test_a_missing_criterion_score_is_a_score_error() -> None:
    scores = {"A": {"E1": {"tech": D("40")}}}
    with pytest.raises(ScoreError, match="missing comm"):
        aggregate([Bid("A", D("100"))], scores, scheme())


def test_scoring_the_price_criterion_by_hand_is_a_score_error() -> None:
    scores = {"A": {"E1": {"tech": D("40"), "comm": D("10"), "price": D("30")}}}
    with pytest.raises(ScoreError, match="not expert-scored criteria: price"):
        aggregate([Bid("A", D("100"))], scores, scheme())


@pytest.mark.parametrize("score", ["-1", "50.01"])
def test_a_score_outside_the_criterion_range_is_a_score_error(score: str) -> None:
    scores = {"A": {"E1": {"tech": D(score), "comm": D("10")}}}
    with pytest.raises(ScoreError, match="0–50"):
        aggregate([Bid("A", D("100"))], scores, scheme())


def test_bids_without_scores_are_an_error() -> None:
    with pytest.raises(ScoreError, match="no expert scores for bidder A"):
        aggregate([Bid("A", D("100"))], {}, scheme())


def test_a_bidder_may_bid_only_once() -> None:
    with pytest.raises(ValidationError, match="twice"):
        aggregate([Bid("A", D("100")), Bid("A", D("90"))], {}, scheme())


def test_a_failed_criterion_must_belong_to_the_scheme() -> None:
    with pytest.raises(ValidationError, match="not criteria of the scheme"):
        aggregate([Bid("A", D("100"), failed_compliance=("colour",))], {}, scheme())


def test_a_non_positive_price_is_refused() -> None:
    with pytest.raises(ValidationError, match="positive"):
        aggregate([Bid("A", D("0"))], {}, scheme())


def test_works_savings_record_the_reserve_price_as_reference() -> None:
    savings = lot_savings(D("47566.32"), D("42221.17"), reference=SavingsReference.RESERVE_PRICE)
    assert savings.saved == D("5345.15")
    assert savings.rate_display == "11.24 %"
    assert savings.reference_type is SavingsReference.RESERVE_PRICE


def test_savings_of_a_zero_budget_have_no_rate() -> None:
    assert lot_savings(D("0"), D("0")).rate_display == "—"
