"""Review flags for the committee: deviating expert scores, abnormally low prices, corrections.

Flags never change a result by themselves: they point the committee at scores and prices it
must look at. A score changes only through :func:`apply_corrections`, and only for the
reasons the rules allow (MOF87 Art. 64; GPL-R Art. 44: no re-evaluation otherwise).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from evaluation.exceptions import CorrectionRefused
from evaluation.scheme import ScoredCriterion, ScoringScheme, percent
from evaluation.scoring import ExpertScores
from procurement.exceptions import ValidationError, ZhaocaiError

DEFAULT_DEVIATION_SHARE = Decimal("0.20")
"""Share of a criterion's range a score may differ from the other members' median (practice)."""

DEFAULT_Z_LIMIT = Decimal("3.5")
"""Modified z-score limit (Iglewicz and Hoaglin)."""

_MAD_FACTOR = Decimal("0.6745")
"""Φ⁻¹(0.75): makes the MAD comparable with a standard deviation."""

_MEAN_AD_FACTOR = Decimal("1.253314")
"""√(π/2): the same for the mean absolute deviation, used when the MAD is 0."""

_ZERO = Decimal(0)
_TWO = Decimal(2)


class DeviationReason(StrEnum):
    """Why a member's score was flagged (RULES §5.1 "评分畸高、畸低"; no legal threshold)."""

    FAR_FROM_OTHERS = "far_from_others"
    """Differs from the other members' median by more than the set share of the range."""
    ROBUST_OUTLIER = "robust_outlier"
    """Modified z-score beyond the limit."""


@dataclass(frozen=True, slots=True)
class DeviationFlag:
    """A member's score the committee must review and either confirm or correct with a reason.

    ``median`` is the other members' median (FAR_FROM_OTHERS) or all members' median
    (ROBUST_OUTLIER); ``threshold`` is in points or in z units, and ``statistic`` is the
    measured distance in the same unit.
    """

    expert: str
    bidder: str
    criterion: str
    score: Decimal
    median: Decimal
    threshold: Decimal
    statistic: Decimal
    reason: DeviationReason


class ReviewNote(ZhaocaiError):
    """What a flag tells the committee and the bidder: a message template and its values.

    Never raised: kept with the review item so each reader gets it in their language, as a
    domain error's message is (numbers filled in after translation).
    """


def deviation_note(flag: DeviationFlag) -> ReviewNote:
    """The deviation in words: the score, the median it is measured from, and the limit."""
    template = (
        "score {score} is {distance} points from the other members' median {median}, "
        "more than the {threshold} allowed"
        if flag.reason is DeviationReason.FAR_FROM_OTHERS
        else "score {score} lies {distance} robust standard deviations from the median "
        "{median}, more than the {threshold} allowed"
    )
    return ReviewNote(
        template,
        score=str(flag.score),
        median=str(flag.median),
        distance=f"{flag.statistic:.2f}",
        threshold=f"{flag.threshold:.2f}",
    )


def deviation_flags(
    expert_scores: ExpertScores,
    scheme: ScoringScheme,
    *,
    share: Decimal = DEFAULT_DEVIATION_SHARE,
    z_limit: Decimal = DEFAULT_Z_LIMIT,
) -> list[DeviationFlag]:
    """Flag scores far from the other members' or robust outliers, per bidder and criterion.

    Two tests, each reported separately: ``|score − median of the others| > share × max
    points``; and the modified z-score ``0.6745 (x − median) / MAD`` beyond ``z_limit``. When
    the MAD is 0 (most members agree exactly) the mean absolute deviation scaled by 1.253314
    replaces it, so a lone dissenter is still caught; when every score is equal nothing is
    flagged. The z test needs at least 3 scores. The result is sorted (bidder, criterion,
    expert, reason), so it does not depend on the members' order.
    """
    if not _ZERO < share <= 1:
        raise ValidationError("the deviation share must be in (0, 1], not {share}", share=share)
    if z_limit <= 0:
        raise ValidationError("the z limit must be positive, not {limit}", limit=z_limit)
    flags: list[DeviationFlag] = []
    for bidder, sheets in expert_scores.items():
        for criterion in scheme.expert_criteria:
            scored = [(s[criterion.id], e) for e, s in sheets.items() if criterion.id in s]
            flags += _far_from_others(bidder, criterion, scored, share)
            flags += _robust_outliers(bidder, criterion.id, scored, z_limit)
    flags.sort(key=lambda f: (f.bidder, f.criterion, f.expert, f.reason))
    return flags


def _far_from_others(
    bidder: str,
    criterion: ScoredCriterion,
    scored: list[tuple[Decimal, str]],
    share: Decimal,
) -> list[DeviationFlag]:
    if len(scored) < 2:
        return []
    threshold = share * criterion.max_points
    ordered = sorted(scored)
    values = [v for v, _ in ordered]
    flags = []
    for i, (score, expert) in enumerate(ordered):
        median = _median(values[:i] + values[i + 1 :])
        distance = abs(score - median)
        if distance > threshold:
            flags.append(
                DeviationFlag(
                    expert,
                    bidder,
                    criterion.id,
                    score,
                    median,
                    threshold,
                    distance,
                    DeviationReason.FAR_FROM_OTHERS,
                )
            )
    return flags


def _robust_outliers(
    bidder: str, criterion: str, scored: list[tuple[Decimal, str]], z_limit: Decimal
) -> list[DeviationFlag]:
    if len(scored) < 3:
        return []
    values = sorted(v for v, _ in scored)
    median = _median(values)
    deviations = sorted(abs(v - median) for v in values)
    mad = _median(deviations)
    if mad > 0:
        scale = mad / _MAD_FACTOR
    else:
        mean_ad = sum(deviations, _ZERO) / len(deviations)
        if mean_ad == 0:
            return []
        scale = _MEAN_AD_FACTOR * mean_ad
    flags = []
    for score, expert in scored:
        z = abs(score - median) / scale
        if z > z_limit:
            flags.append(
                DeviationFlag(
                    expert,
                    bidder,
                    criterion,
                    score,
                    median,
                    z_limit,
                    z,
                    DeviationReason.ROBUST_OUTLIER,
                )
            )
    return flags


def _median(ordered: Sequence[Decimal]) -> Decimal:
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / _TWO


@dataclass(frozen=True, slots=True)
class ObjectiveDisagreement:
    """Members gave different scores on an objective factor (MOF87 Art. 55: must be equal)."""

    bidder: str
    criterion: str
    scores: Mapping[str, Decimal]


def objective_disagreements(
    expert_scores: ExpertScores, scheme: ScoringScheme
) -> list[ObjectiveDisagreement]:
    """Objective factors scored differently by members: a ground for correction (MOF87 Art. 64)."""
    found = []
    for bidder, sheets in sorted(expert_scores.items()):
        for criterion in scheme.expert_criteria:
            if not criterion.objective:
                continue
            scores = {e: s[criterion.id] for e, s in sorted(sheets.items()) if criterion.id in s}
            if len(set(scores.values())) > 1:
                found.append(ObjectiveDisagreement(bidder, criterion.id, scores))
    return found


class LowPriceTrigger(StrEnum):
    """The triggers of abnormally-low-price review (财库〔2026〕2号, as reported in RULES §5.4)."""

    BELOW_AVERAGE = "below_average"
    """Below the set share (50 %) of the average of all compliant prices."""
    BELOW_NEXT_LOWEST = "below_next_lowest"
    """The lowest price below the set share (50 %) of the next-lowest compliant price."""
    BELOW_LIMIT = "below_limit"
    """Below the set share (45 %) of the ceiling price or, without one, the budget."""


MAX_LOW_PRICE_RATE = Decimal("0.65")
"""The documents may raise the trigger rates up to 65 % (财库〔2026〕2号, RULES §5.4)."""


@dataclass(frozen=True, slots=True)
class LowPriceRates:
    """Trigger rates for abnormally low prices; each in (0, 0.65] (RULES §5.4)."""

    average: Decimal = Decimal("0.50")
    next_lowest: Decimal = Decimal("0.50")
    limit: Decimal = Decimal("0.45")

    def __post_init__(self) -> None:
        bad = [
            f"{name} {rate}"
            for name, rate in (
                ("average", self.average),
                ("next_lowest", self.next_lowest),
                ("limit", self.limit),
            )
            if not _ZERO < rate <= MAX_LOW_PRICE_RATE
        ]
        if bad:
            raise ValidationError(
                "abnormally-low-price rates must be above 0 and at most 65 %: {rates}",
                rates=", ".join(bad),
            )


@dataclass(frozen=True, slots=True)
class LowPriceFlag:
    """A price the bidder must justify in writing, with proof (MOF87 Art. 60; TBL Art. 41).

    ``threshold = reference × rate``; the price is below it.
    """

    bidder: str
    price: Decimal
    trigger: LowPriceTrigger
    reference: Decimal
    rate: Decimal
    threshold: Decimal


_LOW_PRICE_NOTES = {
    LowPriceTrigger.BELOW_AVERAGE: "the price {price} yuan is below {rate} % of the average "
    "compliant price {reference} yuan, that is below {threshold} yuan",
    LowPriceTrigger.BELOW_NEXT_LOWEST: "the price {price} yuan is below {rate} % of the "
    "next-lowest price {reference} yuan, that is below {threshold} yuan",
    LowPriceTrigger.BELOW_LIMIT: "the price {price} yuan is below {rate} % of the ceiling "
    "price or budget {reference} yuan, that is below {threshold} yuan",
}
"""What each trigger tells the committee and the bidder, one sentence each for the catalog."""


def low_price_note(flag: LowPriceFlag) -> ReviewNote:
    """The trigger in words: the price, the reference it is compared with, and the share."""
    return ReviewNote(
        _LOW_PRICE_NOTES[flag.trigger],
        price=f"{flag.price:,.2f}",
        rate=percent(flag.rate),
        reference=f"{flag.reference:,.2f}",
        threshold=f"{flag.threshold:,.2f}",
    )


def abnormally_low_flags(
    prices: Mapping[str, Decimal],
    *,
    limit: Decimal | None = None,
    rates: LowPriceRates | None = None,
) -> list[LowPriceFlag]:
    """Flag compliant prices that trigger abnormally-low review, each trigger separately.

    Args:
        prices: quoted prices of the compliant bids by bidder (quoted, not SME-deducted: the
            question is whether the bidder can perform at that price).
        limit: the ceiling price or, without one, the budget.
        rates: trigger rates; defaults 50 % / 50 % / 45 %.

    Returns:
        Flags sorted by bidder and trigger. The next-lowest trigger concerns the lowest price
        only, compared with the second price in ascending order.
    """
    rates = rates or LowPriceRates()
    if not prices:
        return []
    flags: list[LowPriceFlag] = []
    average = sum(prices.values(), _ZERO) / len(prices)
    ordered = sorted(prices.values())
    lowest = ordered[0]
    next_lowest = ordered[1] if len(ordered) > 1 else None
    for bidder, price in prices.items():
        checks: list[tuple[LowPriceTrigger, Decimal, Decimal]] = [
            (LowPriceTrigger.BELOW_AVERAGE, average, rates.average)
        ]
        if next_lowest is not None and price == lowest:
            checks.append((LowPriceTrigger.BELOW_NEXT_LOWEST, next_lowest, rates.next_lowest))
        if limit is not None:
            checks.append((LowPriceTrigger.BELOW_LIMIT, limit, rates.limit))
        for trigger, reference, rate in checks:
            threshold = reference * rate
            if price < threshold:
                flags.append(LowPriceFlag(bidder, price, trigger, reference, rate, threshold))
    flags.sort(key=lambda f: (f.bidder, f.trigger))
    return flags


class CorrectionReason(StrEnum):
    """The only grounds for changing a score after aggregation (MOF87 Art. 64; RULES §5.1)."""

    SUMMATION_ERROR = "summation_error"
    """分值汇总计算错误: the member's own addition was wrong."""
    OUT_OF_RANGE = "out_of_range"
    """分项评分超出评分标准规定的评分范围: an item score outside the allowed range."""
    OBJECTIVE_INCONSISTENT = "objective_inconsistent"
    """客观评审因素评分不一致: members scored an objective factor differently."""
    ABNORMAL_SCORE = "abnormal_score"
    """经评标委员会认定评分畸高、畸低: the committee finds a score abnormally high or low."""


@dataclass(frozen=True, slots=True)
class ScoreCorrection:
    """One corrected score, with the ground and the committee's written note."""

    expert: str
    bidder: str
    criterion: str
    new_score: Decimal
    reason: CorrectionReason
    note: str


def apply_corrections(
    expert_scores: ExpertScores,
    corrections: Iterable[ScoreCorrection],
    scheme: ScoringScheme,
) -> dict[str, dict[str, dict[str, Decimal]]]:
    """Return the scores with the corrections applied; the input is left unchanged.

    A correction is refused unless its reason is a :class:`CorrectionReason` that fits the
    score (out-of-range only for a score outside the range; objective only for an objective
    factor), the new score lies within the range and a note says why (GPL-R Art. 44: no
    re-evaluation otherwise).
    """
    criteria = {c.id: c for c in scheme.expert_criteria}
    result = {b: {e: dict(s) for e, s in sheets.items()} for b, sheets in expert_scores.items()}
    for correction in corrections:
        _check_correction(correction, criteria, result)
        result[correction.bidder][correction.expert][correction.criterion] = correction.new_score
    return result


def _check_correction(
    correction: ScoreCorrection,
    criteria: Mapping[str, ScoredCriterion],
    scores: Mapping[str, Mapping[str, Mapping[str, Decimal]]],
) -> None:
    expert, bidder, cid = correction.expert, correction.bidder, correction.criterion
    if not isinstance(correction.reason, CorrectionReason):
        raise CorrectionRefused(
            "expert {expert}, bidder {bidder}, {criterion}: a score may be corrected only for "
            "{allowed} (MOF87 Art. 64)",
            expert=expert,
            bidder=bidder,
            criterion=cid,
            allowed=", ".join(r.value for r in CorrectionReason),
        )
    criterion = criteria.get(cid)
    if criterion is None:
        raise CorrectionRefused(
            "expert {expert}, bidder {bidder}, {criterion}: not an expert-scored criterion of "
            "the scheme",
            expert=expert,
            bidder=bidder,
            criterion=cid,
        )
    try:
        old = scores[bidder][expert][cid]
    except KeyError:
        raise CorrectionRefused(
            "expert {expert}, bidder {bidder}, {criterion}: there is no such score to correct",
            expert=expert,
            bidder=bidder,
            criterion=cid,
        ) from None
    if not correction.note.strip():
        raise CorrectionRefused(
            "expert {expert}, bidder {bidder}, {criterion}: the committee must record why the "
            "score changes",
            expert=expert,
            bidder=bidder,
            criterion=cid,
        )
    if not _ZERO <= correction.new_score <= criterion.max_points:
        raise CorrectionRefused(
            "expert {expert}, bidder {bidder}, {criterion}: the corrected score must lie in "
            "0–{maximum}",
            expert=expert,
            bidder=bidder,
            criterion=cid,
            maximum=criterion.max_points,
        )
    in_range = _ZERO <= old <= criterion.max_points
    if correction.reason is CorrectionReason.OUT_OF_RANGE and in_range:
        raise CorrectionRefused(
            "expert {expert}, bidder {bidder}, {criterion}: score {score} is within the range",
            expert=expert,
            bidder=bidder,
            criterion=cid,
            score=old,
        )
    if correction.reason is CorrectionReason.OBJECTIVE_INCONSISTENT and not criterion.objective:
        raise CorrectionRefused(
            "expert {expert}, bidder {bidder}, {criterion}: {criterion} is not an objective factor",
            expert=expert,
            bidder=bidder,
            criterion=cid,
        )
