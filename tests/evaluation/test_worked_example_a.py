"""RULES §10(a): comprehensive scoring of goods, 4 bidders, 5 experts, with and without SME."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluation.scheme import (
    CriterionGroup,
    EvaluationMethod,
    PricePreference,
    ScoredCriterion,
    ScoringScheme,
)
from evaluation.scoring import Bid, EvaluationResult, evaluate, evaluation_price, price_points
from procurement.lifecycle import ProjectCategory

D = Decimal
BUDGET = D("1250000")
TECHNICAL = {
    "A": "42 44 43 41 45",
    "B": "41 43 42 40 44",
    "C": "39 40 41 38 40",
    "D": "47 48 46 49 47",
}
COMMERCIAL = {
    "A": "16 17 17 18 17",
    "B": "17 17 16 18 17",
    "C": "16 16 17 15 16",
    "D": "18 19 18 18 19",
}
SCORES = {
    bidder: {
        f"E{i}": {"technical": D(t), "commercial": D(c)}
        for i, (t, c) in enumerate(
            zip(TECHNICAL[bidder].split(), COMMERCIAL[bidder].split(), strict=True), start=1
        )
    }
    for bidder in TECHNICAL
}
BIDS = [
    Bid("A", D("1000000")),
    Bid("B", D("966000")),
    Bid("C", D("1050000"), PricePreference.SMALL_OR_MICRO),
    Bid("D", D("1200000")),
]


def goods_scheme(deduction: str) -> ScoringScheme:
    return ScoringScheme(
        EvaluationMethod.COMPREHENSIVE_SCORING,
        ProjectCategory.GOODS,
        criteria=(
            ScoredCriterion("price", CriterionGroup.PRICE, D(30)),
            ScoredCriterion("technical", CriterionGroup.TECHNICAL, D(50)),
            ScoredCriterion("commercial", CriterionGroup.COMMERCIAL, D(20)),
        ),
        small_or_micro_deduction=D(deduction),
    )


@pytest.fixture(scope="module")
def with_deduction() -> EvaluationResult:
    return evaluate(BIDS, SCORES, goods_scheme("0.10"), budget=BUDGET)


@pytest.fixture(scope="module")
def without_deduction() -> EvaluationResult:
    return evaluate(BIDS, SCORES, goods_scheme("0"), budget=BUDGET)


def test_small_bidder_c_is_evaluated_at_945000() -> None:
    assert evaluation_price(D("1050000"), True, D("0.10")) == D("945000.00")


def test_medium_bidder_b_gets_no_deduction(with_deduction: EvaluationResult) -> None:
    b = next(r for r in with_deduction.results if r.bidder == "B")
    assert b.evaluation_price == D("966000")


def test_price_points_match_the_worked_example(with_deduction: EvaluationResult) -> None:
    points = {r.bidder: r.price_points for r in with_deduction.results}
    assert points == {"A": D("28.35"), "B": D("29.35"), "C": D("30.00"), "D": D("23.63")}


def test_exact_half_rounds_up_to_23_63_where_binary_floats_give_23_62() -> None:
    assert price_points(D("945000"), D("1200000"), D(30)) == D("23.63")
    assert round(945000 / 1200000 * 30, 2) == 23.62


def test_expert_means_match_the_worked_example(with_deduction: EvaluationResult) -> None:
    means = {
        r.bidder: (r.criterion_scores["technical"], r.criterion_scores["commercial"])
        for r in with_deduction.results
    }
    assert means == {
        "A": (D("43.00"), D("17.00")),
        "B": (D("42.00"), D("17.00")),
        "C": (D("39.60"), D("16.00")),
        "D": (D("47.40"), D("18.40")),
    }


def test_totals_are_sums_of_rounded_factor_scores(with_deduction: EvaluationResult) -> None:
    totals = {r.bidder: r.total for r in with_deduction.results}
    assert totals == {"A": D("88.35"), "B": D("88.35"), "C": D("85.60"), "D": D("89.43")}


def test_ranking_is_d_b_a_c(with_deduction: EvaluationResult) -> None:
    assert [(r.bidder, r.rank) for r in with_deduction.ranking] == [
        ("D", 1),
        ("B", 2),
        ("A", 3),
        ("C", 4),
    ]


def test_equal_totals_put_the_lower_bid_price_first_so_b_precedes_a(
    with_deduction: EvaluationResult,
) -> None:
    ranks = {r.bidder: r for r in with_deduction.ranking}
    assert ranks["A"].total == ranks["B"].total
    assert (ranks["B"].rank, ranks["A"].rank) == (2, 3)
    assert not ranks["A"].tied
    assert not ranks["B"].tied


def test_unrounded_totals_would_have_put_a_before_b() -> None:
    exact_b = D(945000) / D(966000) * 30 + D(42) + D(17)
    exact_a = D(945000) / D(1000000) * 30 + D(43) + D(17)
    assert exact_b < exact_a


def test_winner_d_contracts_at_1200000_saving_50000_or_4_percent(
    with_deduction: EvaluationResult,
) -> None:
    assert not with_deduction.failed
    winner = with_deduction.recommended
    assert winner is not None
    assert winner.bidder == "D"
    assert winner.price == D("1200000")
    assert with_deduction.savings is not None
    assert with_deduction.savings.saved == D("50000")
    assert with_deduction.savings.rate_display == "4.00 %"


def test_small_bidder_c_would_contract_at_its_quoted_price(
    with_deduction: EvaluationResult,
) -> None:
    c = next(r for r in with_deduction.results if r.bidder == "C")
    assert c.price == D("1050000")
    assert c.evaluation_price == D("945000")


def test_without_deduction_price_points_use_base_966000(
    without_deduction: EvaluationResult,
) -> None:
    points = {r.bidder: r.price_points for r in without_deduction.results}
    assert points == {"A": D("28.98"), "B": D("30.00"), "C": D("27.60"), "D": D("24.15")}


def test_without_deduction_totals_match_the_worked_example(
    without_deduction: EvaluationResult,
) -> None:
    totals = {r.bidder: r.total for r in without_deduction.results}
    assert totals == {"A": D("88.98"), "B": D("89.00"), "C": D("83.20"), "D": D("89.95")}


def test_without_deduction_ranking_is_d_b_a_c(without_deduction: EvaluationResult) -> None:
    assert [r.bidder for r in without_deduction.ranking] == ["D", "B", "A", "C"]
    assert without_deduction.recommended is not None
    assert without_deduction.recommended.bidder == "D"
