"""Scoring schemes: legal price weights, SME deduction ranges, points adding up to 100."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluation.exceptions import SchemeError
from evaluation.scheme import (
    CriterionGroup,
    DeductionRanges,
    EvaluationMethod,
    PassFailCriterion,
    PricePreference,
    PriceWeightBounds,
    RateRange,
    ScoredCriterion,
    ScoringScheme,
    ThirdTieBreak,
)
from procurement.exceptions import ValidationError
from procurement.lifecycle import ProjectCategory

D = Decimal
GOODS = ProjectCategory.GOODS
SERVICES = ProjectCategory.SERVICES
WORKS = ProjectCategory.WORKS
SCORING = EvaluationMethod.COMPREHENSIVE_SCORING


def criteria(price: str, technical: str, commercial: str) -> tuple[ScoredCriterion, ...]:
    return (
        ScoredCriterion("price", CriterionGroup.PRICE, D(price)),
        ScoredCriterion("technical", CriterionGroup.TECHNICAL, D(technical)),
        ScoredCriterion("commercial", CriterionGroup.COMMERCIAL, D(commercial)),
    )


def problems_of(**kwargs: object) -> tuple[str, ...]:
    with pytest.raises(SchemeError) as error:
        ScoringScheme(**kwargs)  # type: ignore[arg-type]
    return error.value.problems


def test_a_valid_goods_scheme_exposes_its_price_weight_and_expert_criteria() -> None:
    scheme = ScoringScheme(SCORING, GOODS, criteria=criteria("30", "50", "20"))
    assert scheme.price_weight == D(30)
    assert [c.id for c in scheme.expert_criteria] == ["technical", "commercial"]


def test_a_scheme_error_is_a_validation_error_with_a_readable_message() -> None:
    with pytest.raises(ValidationError, match="add up to 100"):
        ScoringScheme(SCORING, GOODS, criteria=criteria("30", "50", "10"))


def test_points_that_do_not_add_up_to_100_are_refused() -> None:
    problems = problems_of(method=SCORING, category=GOODS, criteria=criteria("30", "50", "30"))
    assert problems == ("criterion points must add up to 100, they add up to 110",)


def test_a_goods_price_weight_below_30_is_refused() -> None:
    problems = problems_of(method=SCORING, category=GOODS, criteria=criteria("29", "51", "20"))
    assert any("below the minimum of 30" in p for p in problems)


def test_a_services_price_weight_of_10_is_allowed() -> None:
    ScoringScheme(SCORING, SERVICES, criteria=criteria("10", "70", "20"))


def test_a_services_price_weight_below_10_is_refused() -> None:
    problems = problems_of(method=SCORING, category=SERVICES, criteria=criteria("9", "71", "20"))
    assert any("below the minimum of 10" in p for p in problems)


def test_a_price_weight_cap_is_a_setting() -> None:
    capped = PriceWeightBounds(D(10), D(30))
    problems = problems_of(
        method=SCORING,
        category=SERVICES,
        criteria=criteria("40", "40", "20"),
        price_weight_bounds=capped,
    )
    assert any("above the cap of 30" in p for p in problems)


def test_exactly_one_price_criterion_is_required() -> None:
    two = (
        ScoredCriterion("p1", CriterionGroup.PRICE, D(30)),
        ScoredCriterion("p2", CriterionGroup.PRICE, D(30)),
        ScoredCriterion("t", CriterionGroup.TECHNICAL, D(40)),
    )
    problems = problems_of(method=SCORING, category=GOODS, criteria=two)
    assert any("exactly one price criterion" in p for p in problems)


def test_every_maximum_must_be_above_zero() -> None:
    zero = (*criteria("30", "50", "20"), ScoredCriterion("x", CriterionGroup.TECHNICAL, D(0)))
    problems = problems_of(method=SCORING, category=GOODS, criteria=zero)
    assert any("criterion x: maximum points must be above 0" in p for p in problems)


def test_criterion_ids_must_be_unique_across_pass_fail_and_scored_criteria() -> None:
    problems = problems_of(
        method=SCORING,
        category=GOODS,
        criteria=criteria("30", "50", "20"),
        compliance=(PassFailCriterion("technical"),),
    )
    assert any("repeated: technical" in p for p in problems)


def test_every_problem_is_listed_at_once() -> None:
    problems = problems_of(
        method=SCORING,
        category=GOODS,
        criteria=criteria("20", "50", "20"),
        small_or_micro_deduction=D("0.25"),
    )
    assert len(problems) == 3
    assert any("add up to 90" in p for p in problems)
    assert any("below the minimum of 30" in p for p in problems)
    assert any("25 % is outside 10–20 %" in p for p in problems)


@pytest.mark.parametrize("rate", ["0.10", "0.15", "0.20"])
def test_goods_small_micro_deduction_between_10_and_20_percent_is_allowed(rate: str) -> None:
    scheme = ScoringScheme(
        SCORING, GOODS, criteria=criteria("30", "50", "20"), small_or_micro_deduction=D(rate)
    )
    assert scheme.deduction_for(PricePreference.SMALL_OR_MICRO) == D(rate)
    assert scheme.deduction_for(PricePreference.NONE) == 0


@pytest.mark.parametrize("rate", ["0.06", "0.0999", "0.2001", "-0.10"])
def test_goods_small_micro_deduction_outside_10_to_20_percent_is_refused(rate: str) -> None:
    problems = problems_of(
        method=SCORING,
        category=GOODS,
        criteria=criteria("30", "50", "20"),
        small_or_micro_deduction=D(rate),
    )
    assert any("outside 10–20 %" in p for p in problems)


@pytest.mark.parametrize(("rate", "ok"), [("0.04", True), ("0.06", True), ("0.03", False)])
def test_goods_consortium_deduction_is_4_to_6_percent(rate: str, ok: bool) -> None:
    kwargs = {
        "method": SCORING,
        "category": GOODS,
        "criteria": criteria("30", "50", "20"),
        "consortium_deduction": D(rate),
    }
    if ok:
        ScoringScheme(**kwargs)  # type: ignore[arg-type]
    else:
        assert any("outside 4–6 %" in p for p in problems_of(**kwargs))


@pytest.mark.parametrize(
    ("small", "consortium", "ok"),
    [("0.03", "0.01", True), ("0.05", "0.02", True), ("0.10", "0", False), ("0", "0.03", False)],
)
def test_works_deductions_are_3_to_5_and_1_to_2_percent(
    small: str, consortium: str, ok: bool
) -> None:
    kwargs = {
        "method": EvaluationMethod.LOWEST_EVALUATED_BID_PRICE,
        "category": WORKS,
        "small_or_micro_deduction": D(small),
        "consortium_deduction": D(consortium),
    }
    if ok:
        ScoringScheme(**kwargs)  # type: ignore[arg-type]
    else:
        assert problems_of(**kwargs)


def test_deduction_ranges_are_settings() -> None:
    old_rule = DeductionRanges(RateRange(D("0.06"), D("0.10")), RateRange(D("0.02"), D("0.03")))
    scheme = ScoringScheme(
        SCORING,
        GOODS,
        criteria=criteria("30", "50", "20"),
        small_or_micro_deduction=D("0.06"),
        deduction_ranges=old_rule,
    )
    assert scheme.small_or_micro_deduction == D("0.06")


def test_a_lot_reserved_for_smes_takes_no_deduction() -> None:
    problems = problems_of(
        method=SCORING,
        category=GOODS,
        criteria=criteria("30", "50", "20"),
        small_or_micro_deduction=D("0.10"),
        sme_reserved=True,
    )
    assert any("reserved for SMEs" in p for p in problems)


def test_lowest_price_schemes_have_no_scored_criteria_but_price() -> None:
    problems = problems_of(
        method=EvaluationMethod.LOWEST_EVALUATED_PRICE,
        category=GOODS,
        criteria=criteria("30", "50", "20"),
    )
    assert any("ranks by price only" in p for p in problems)


def test_a_lowest_price_scheme_without_criteria_is_valid() -> None:
    scheme = ScoringScheme(EvaluationMethod.LOWEST_EVALUATED_PRICE, GOODS)
    assert scheme.expert_criteria == ()
    assert scheme.price_criterion is None


def test_works_methods_are_only_for_works() -> None:
    problems = problems_of(method=EvaluationMethod.LOWEST_EVALUATED_BID_PRICE, category=GOODS)
    assert any("works-tendering method" in p for p in problems)


def test_works_comprehensive_evaluation_has_no_minimum_price_weight() -> None:
    ScoringScheme(
        EvaluationMethod.COMPREHENSIVE_EVALUATION, WORKS, criteria=criteria("5", "75", "20")
    )


def test_a_technical_tie_break_needs_a_technical_criterion() -> None:
    problems = problems_of(
        method=EvaluationMethod.LOWEST_EVALUATED_PRICE,
        category=GOODS,
        third_tie_break=ThirdTieBreak.TECHNICAL,
    )
    assert any("technical-score tie-break" in p for p in problems)


def test_maximum_points_have_at_most_two_decimals() -> None:
    odd = criteria("30", "49.995", "20.005")
    problems = problems_of(method=SCORING, category=GOODS, criteria=odd)
    assert any("at most 2 decimals" in p for p in problems)
