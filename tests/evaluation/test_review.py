"""Review flags: deviating member scores, objective factors, abnormally low prices, corrections."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluation.exceptions import CorrectionRefused
from evaluation.review import (
    CorrectionReason,
    DeviationReason,
    LowPriceRates,
    LowPriceTrigger,
    ScoreCorrection,
    abnormally_low_flags,
    apply_corrections,
    deviation_flags,
    objective_disagreements,
)
from evaluation.scheme import CriterionGroup, EvaluationMethod, ScoredCriterion, ScoringScheme
from procurement.exceptions import ValidationError
from procurement.lifecycle import ProjectCategory

D = Decimal
SCHEME = ScoringScheme(
    EvaluationMethod.COMPREHENSIVE_SCORING,
    ProjectCategory.GOODS,
    criteria=(
        ScoredCriterion("price", CriterionGroup.PRICE, D(30)),
        ScoredCriterion("tech", CriterionGroup.TECHNICAL, D(50)),
        ScoredCriterion("iso", CriterionGroup.COMMERCIAL, D(20), objective=True),
    ),
)


def scores(tech: str, iso: str = "10 10 10 10 10") -> dict[str, dict[str, dict[str, Decimal]]]:
    pairs = zip(tech.split(), iso.split(), strict=True)
    return {"A": {f"E{i}": {"tech": D(t), "iso": D(o)} for i, (t, o) in enumerate(pairs, 1)}}


def test_agreeing_members_raise_no_flags() -> None:
    assert deviation_flags(scores("42 44 43 41 45"), SCHEME) == []


def test_a_score_more_than_20_percent_of_the_range_from_the_others_median_is_flagged() -> None:
    flags = deviation_flags(scores("42 44 43 41 20"), SCHEME)
    far = [f for f in flags if f.reason is DeviationReason.FAR_FROM_OTHERS]
    assert len(far) == 1
    flag = far[0]
    assert (flag.expert, flag.bidder, flag.criterion, flag.score) == ("E5", "A", "tech", D(20))
    assert flag.median == D("42.5")
    assert flag.threshold == D("10.00")
    assert flag.statistic == D("22.5")


def test_a_distance_exactly_at_the_threshold_is_not_flagged() -> None:
    flags = deviation_flags(scores("40 40 40 40 30"), SCHEME, z_limit=D(1000))
    assert flags == []


def test_the_share_is_configurable() -> None:
    flags = deviation_flags(scores("40 40 40 40 35"), SCHEME, share=D("0.05"), z_limit=D(1000))
    assert [(f.expert, f.threshold) for f in flags] == [("E5", D("2.50"))]


def test_a_robust_outlier_is_flagged_by_its_modified_z_score() -> None:
    flags = deviation_flags(scores("40 41 42 43 49"), SCHEME, share=D(1))
    assert [(f.expert, f.reason, f.threshold) for f in flags] == [
        ("E5", DeviationReason.ROBUST_OUTLIER, D("3.5"))
    ]
    assert flags[0].median == D(42)
    assert flags[0].statistic > D("3.5")


def test_a_lone_dissenter_is_caught_when_the_mad_is_zero() -> None:
    flags = deviation_flags(scores("40 40 40 40 45"), SCHEME, share=D(1))
    assert [(f.expert, f.reason) for f in flags] == [("E5", DeviationReason.ROBUST_OUTLIER)]


def test_identical_scores_are_never_outliers() -> None:
    assert deviation_flags(scores("40 40 40 40 40"), SCHEME, share=D("0.01")) == []


def test_a_bad_share_is_refused() -> None:
    with pytest.raises(ValidationError):
        deviation_flags(scores("40 40 40 40 40"), SCHEME, share=D(0))


def test_different_scores_on_an_objective_factor_are_reported() -> None:
    found = objective_disagreements(scores("40 40 40 40 40", "10 10 10 10 0"), SCHEME)
    assert len(found) == 1
    assert (found[0].bidder, found[0].criterion, found[0].scores["E5"]) == ("A", "iso", D(0))


def test_equal_scores_on_an_objective_factor_are_fine() -> None:
    assert objective_disagreements(scores("40 41 42 43 44"), SCHEME) == []


def test_a_price_below_half_the_compliant_average_is_flagged() -> None:
    prices = {"A": D("40"), "B": D("100"), "C": D("110"), "D": D("120")}
    flags = abnormally_low_flags(prices)
    below = [f for f in flags if f.trigger is LowPriceTrigger.BELOW_AVERAGE]
    assert [(f.bidder, f.reference, f.threshold) for f in below] == [("A", D("92.5"), D("46.250"))]


def test_the_lowest_price_below_half_the_next_lowest_is_flagged() -> None:
    prices = {"A": D("49"), "B": D("100"), "C": D("100")}
    flags = abnormally_low_flags(prices)
    assert (
        "A",
        LowPriceTrigger.BELOW_NEXT_LOWEST,
        D("100"),
    ) in [(f.bidder, f.trigger, f.reference) for f in flags]


def test_a_price_at_exactly_half_the_next_lowest_is_not_flagged() -> None:
    flags = abnormally_low_flags({"A": D("50"), "B": D("100"), "C": D("100")})
    assert all(f.trigger is not LowPriceTrigger.BELOW_NEXT_LOWEST for f in flags)


def test_a_price_below_45_percent_of_the_ceiling_is_flagged() -> None:
    flags = abnormally_low_flags({"A": D("44"), "B": D("45")}, limit=D("100"))
    below = [(f.bidder, f.threshold) for f in flags if f.trigger is LowPriceTrigger.BELOW_LIMIT]
    assert below == [("A", D("45.00"))]


def test_every_trigger_that_fires_is_reported() -> None:
    flags = abnormally_low_flags({"A": D("10"), "B": D("100"), "C": D("100")}, limit=D("100"))
    assert [f.trigger for f in flags] == sorted(LowPriceTrigger)


def test_trigger_rates_may_be_raised_to_65_percent() -> None:
    rates = LowPriceRates(average=D("0.65"), next_lowest=D("0.65"), limit=D("0.65"))
    flags = abnormally_low_flags({"A": D("60"), "B": D("100")}, limit=D("100"), rates=rates)
    assert {f.trigger for f in flags} == {
        LowPriceTrigger.BELOW_NEXT_LOWEST,
        LowPriceTrigger.BELOW_LIMIT,
    }


def test_trigger_rates_above_65_percent_are_refused() -> None:
    with pytest.raises(ValidationError, match="65 %"):
        LowPriceRates(limit=D("0.66"))


def correction(reason: object, new: str = "41", criterion: str = "tech") -> ScoreCorrection:
    return ScoreCorrection("E5", "A", criterion, D(new), reason, "noted in the minutes")  # type: ignore[arg-type]


def test_an_abnormal_score_is_corrected_with_a_note_and_the_input_kept() -> None:
    original = scores("42 44 43 41 20")
    corrected = apply_corrections(original, [correction(CorrectionReason.ABNORMAL_SCORE)], SCHEME)
    assert corrected["A"]["E5"]["tech"] == D(41)
    assert original["A"]["E5"]["tech"] == D(20)


def test_a_correction_for_another_reason_is_refused() -> None:
    with pytest.raises(CorrectionRefused, match="may be corrected only for"):
        apply_corrections(scores("42 44 43 41 20"), [correction("changed my mind")], SCHEME)


def test_a_correction_without_a_note_is_refused() -> None:
    bare = ScoreCorrection("E5", "A", "tech", D(41), CorrectionReason.ABNORMAL_SCORE, " ")
    with pytest.raises(CorrectionRefused, match="record why"):
        apply_corrections(scores("42 44 43 41 20"), [bare], SCHEME)


def test_out_of_range_applies_only_to_a_score_outside_the_range() -> None:
    with pytest.raises(CorrectionRefused, match="within the range"):
        apply_corrections(
            scores("42 44 43 41 20"), [correction(CorrectionReason.OUT_OF_RANGE)], SCHEME
        )
    fixed = apply_corrections(
        scores("42 44 43 41 60"), [correction(CorrectionReason.OUT_OF_RANGE, "50")], SCHEME
    )
    assert fixed["A"]["E5"]["tech"] == D(50)


def test_objective_inconsistency_applies_only_to_objective_factors() -> None:
    with pytest.raises(CorrectionRefused, match="not an objective factor"):
        apply_corrections(
            scores("42 44 43 41 20"), [correction(CorrectionReason.OBJECTIVE_INCONSISTENT)], SCHEME
        )
    fixed = apply_corrections(
        scores("40 40 40 40 40", "10 10 10 10 0"),
        [correction(CorrectionReason.OBJECTIVE_INCONSISTENT, "10", "iso")],
        SCHEME,
    )
    assert objective_disagreements(fixed, SCHEME) == []


def test_a_corrected_score_outside_the_range_is_refused() -> None:
    with pytest.raises(CorrectionRefused, match="0–50"):
        apply_corrections(
            scores("42 44 43 41 20"), [correction(CorrectionReason.SUMMATION_ERROR, "51")], SCHEME
        )


def test_a_correction_of_a_missing_score_is_refused() -> None:
    ghost = ScoreCorrection("E9", "A", "tech", D(1), CorrectionReason.SUMMATION_ERROR, "x")
    with pytest.raises(CorrectionRefused, match="no such score"):
        apply_corrections(scores("42 44 43 41 20"), [ghost], SCHEME)
