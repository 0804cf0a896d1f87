"""The scoring scheme (评分办法) of a lot: method, pass/fail criteria, scored criteria, SME rate.

A scheme is fixed in the tender documents before bidding and may not change afterwards
(GPL-R Art. 34: criteria not in the documents may not be used). It is validated once, when
built, and every broken rule is reported together (:class:`SchemeError`).

Points convention: the scored criteria add up to 100 points and the price criterion's maximum
is the price weight in per cent (RULES §5.1: ``price_max_points = weight × 100``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from evaluation.exceptions import SchemeError, SchemeProblem
from procurement.lifecycle import ProjectCategory

HUNDRED = Decimal(100)
_ZERO = Decimal(0)


class EvaluationMethod(StrEnum):
    """Evaluation methods: two for government tenders, two for works tenders.

    Government tenders use only comprehensive scoring or lowest evaluated price (GPL-R Art.
    34); works tenders use comprehensive evaluation or the lowest evaluated bid price (TBL Art.
    41).
    """

    COMPREHENSIVE_SCORING = "comprehensive_scoring"
    """综合评分法 (GPL-R Art. 34; MOF87 Art. 55)."""
    LOWEST_EVALUATED_PRICE = "lowest_evaluated_price"
    """最低评标价法 (GPL-R Art. 34; MOF87 Art. 56)."""
    COMPREHENSIVE_EVALUATION = "comprehensive_evaluation"
    """综合评估法, works (TBL Art. 41; EVR)."""
    LOWEST_EVALUATED_BID_PRICE = "lowest_evaluated_bid_price"
    """经评审的最低投标价法, works (TBL Art. 41; EVR)."""

    @property
    def is_scored(self) -> bool:
        """Ranks by total points; otherwise bids are ranked by evaluation price alone."""
        return self in (
            EvaluationMethod.COMPREHENSIVE_SCORING,
            EvaluationMethod.COMPREHENSIVE_EVALUATION,
        )

    @property
    def is_works(self) -> bool:
        """A works-tendering method (TBL), available only for works."""
        return self in (
            EvaluationMethod.COMPREHENSIVE_EVALUATION,
            EvaluationMethod.LOWEST_EVALUATED_BID_PRICE,
        )


class CriterionGroup(StrEnum):
    """The groups of scored factors (MOF87 Art. 55: price, technical/service, commercial)."""

    PRICE = "price"
    TECHNICAL = "technical"
    COMMERCIAL = "commercial"


class ThirdTieBreak(StrEnum):
    """The key after total and bid price (RULES §5.1: configurable; old order 18, C214)."""

    NONE = "none"
    """Bidders equal on total and price stay tied (并列); the purchaser decides (MOF87 Art. 68)."""
    TECHNICAL = "technical"
    """The higher technical score first ("better technical indicators")."""
    DRAW = "draw"
    """A random draw from an injected source, recorded on the result."""


class PricePreference(StrEnum):
    """Which SME price deduction a bid claims (SME46 Art. 9; 财库〔2022〕19号)."""

    NONE = "none"
    SMALL_OR_MICRO = "small_or_micro"
    """A small or micro firm (or prison enterprise, welfare unit for disabled persons)."""
    CONSORTIUM = "consortium"
    """A consortium or subcontract giving ≥ 30 % of the contract to small or micro firms."""


@dataclass(frozen=True, slots=True)
class PassFailCriterion:
    """A qualification (资格性) or compliance (符合性) criterion: met or not, never scored."""

    id: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class ScoredCriterion:
    """A scored factor with its maximum points.

    ``objective`` factors (e.g. a certificate held or not) must get identical scores from every
    member (MOF87 Art. 55); :mod:`evaluation.review` flags those that do not.
    """

    id: str
    group: CriterionGroup
    max_points: Decimal
    objective: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class RateRange:
    """An inclusive range of fractions, e.g. 0.10–0.20 for a 10–20 % deduction."""

    low: Decimal
    high: Decimal

    def __contains__(self, rate: object) -> bool:
        return isinstance(rate, Decimal) and self.low <= rate <= self.high

    def __str__(self) -> str:
        return f"{percent(self.low)}–{percent(self.high)} %"


@dataclass(frozen=True, slots=True)
class PriceWeightBounds:
    """Allowed price weight in points of 100 (MOF87 Art. 55: goods ≥ 30, services ≥ 10).

    ``maximum`` is a setting: caps of 60 / 30 existed in old order 18 and C214 Art. 24.
    """

    minimum: Decimal
    maximum: Decimal = HUNDRED


@dataclass(frozen=True, slots=True)
class DeductionRanges:
    """Allowed SME price deduction rates for one category (SME46 Art. 9; 财库〔2022〕19号)."""

    small_or_micro: RateRange
    consortium: RateRange


DEFAULT_PRICE_WEIGHT_BOUNDS: Mapping[ProjectCategory, PriceWeightBounds] = {
    ProjectCategory.GOODS: PriceWeightBounds(Decimal(30)),
    ProjectCategory.SERVICES: PriceWeightBounds(Decimal(10)),
    ProjectCategory.WORKS: PriceWeightBounds(_ZERO),
}
"""MOF87 Art. 55 minimum weights; works have no legal minimum (weights set by the tenderer)."""

DEFAULT_DEDUCTION_RANGES: Mapping[ProjectCategory, DeductionRanges] = {
    ProjectCategory.GOODS: DeductionRanges(
        RateRange(Decimal("0.10"), Decimal("0.20")), RateRange(Decimal("0.04"), Decimal("0.06"))
    ),
    ProjectCategory.SERVICES: DeductionRanges(
        RateRange(Decimal("0.10"), Decimal("0.20")), RateRange(Decimal("0.04"), Decimal("0.06"))
    ),
    ProjectCategory.WORKS: DeductionRanges(
        RateRange(Decimal("0.03"), Decimal("0.05")), RateRange(Decimal("0.01"), Decimal("0.02"))
    ),
}
"""财库〔2022〕19号 for goods and services; SME46 Art. 9 for works (RULES §6)."""


@dataclass(frozen=True)
class ScoringScheme:
    """A lot's evaluation rules as the tender documents fix them; validated when built.

    Args:
        method: the evaluation method.
        category: goods, services or works; sets the weight bounds and deduction ranges.
        criteria: the scored factors, price included (comprehensive methods); for the
            lowest-price methods at most a price criterion (price-only ranking).
        qualification: pass/fail qualification criteria (资格性审查).
        compliance: pass/fail compliance criteria (符合性审查).
        small_or_micro_deduction: deduction for small and micro firms, 0 for none or an
            SME-reserved lot (SME46 Art. 8: no deduction inside a reserved lot).
        consortium_deduction: deduction for consortia/subcontracts with ≥ 30 % small/micro.
        third_tie_break: the key after total and bid price (RULES §5.1).
        sme_reserved: the lot is reserved for SMEs.
        price_weight_bounds: overrides the category's default bounds (a setting).
        deduction_ranges: overrides the category's default deduction ranges (a setting).

    Raises:
        SchemeError: listing every broken rule.
    """

    method: EvaluationMethod
    category: ProjectCategory
    criteria: tuple[ScoredCriterion, ...] = ()
    qualification: tuple[PassFailCriterion, ...] = ()
    compliance: tuple[PassFailCriterion, ...] = ()
    small_or_micro_deduction: Decimal = _ZERO
    consortium_deduction: Decimal = _ZERO
    third_tie_break: ThirdTieBreak = ThirdTieBreak.NONE
    sme_reserved: bool = False
    price_weight_bounds: PriceWeightBounds | None = None
    deduction_ranges: DeductionRanges | None = None
    _price: ScoredCriterion | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise SchemeError(problems)
        prices = [c for c in self.criteria if c.group is CriterionGroup.PRICE]
        object.__setattr__(self, "_price", prices[0] if prices else None)

    @property
    def price_criterion(self) -> ScoredCriterion | None:
        """The one price criterion, or None for a price-only scheme without one."""
        return self._price

    @property
    def price_weight(self) -> Decimal:
        """Maximum price points: the price weight (RULES §5.1); 100 for price-only ranking."""
        return self._price.max_points if self._price is not None else HUNDRED

    @property
    def expert_criteria(self) -> tuple[ScoredCriterion, ...]:
        """The criteria the experts score: every scored criterion except price."""
        return tuple(c for c in self.criteria if c.group is not CriterionGroup.PRICE)

    @property
    def pass_fail_ids(self) -> frozenset[str]:
        """Ids of all qualification and compliance criteria."""
        return frozenset(c.id for c in (*self.qualification, *self.compliance))

    def deduction_for(self, preference: PricePreference) -> Decimal:
        """The deduction rate a bid claiming ``preference`` gets (SME46 Art. 9)."""
        if preference is PricePreference.SMALL_OR_MICRO:
            return self.small_or_micro_deduction
        if preference is PricePreference.CONSORTIUM:
            return self.consortium_deduction
        return _ZERO


def percent(rate: Decimal) -> str:
    """A fraction as a plain percentage number for messages: 0.10 → "10", 0.045 → "4.5"."""
    return f"{(rate * 100).normalize():f}"


def _problems(scheme: ScoringScheme) -> list[SchemeProblem]:
    problems: list[SchemeProblem] = []
    if scheme.method.is_works and scheme.category is not ProjectCategory.WORKS:
        problems.append(_works_method_problem(scheme.method, scheme.category))
    problems += _id_problems(scheme)
    problems += _criteria_problems(scheme)
    problems += _deduction_problems(scheme)
    if scheme.third_tie_break is ThirdTieBreak.TECHNICAL and not any(
        c.group is CriterionGroup.TECHNICAL for c in scheme.criteria
    ):
        problems.append(
            SchemeProblem("the technical-score tie-break needs at least one technical criterion")
        )
    return problems


def _works_method_problem(method: EvaluationMethod, category: ProjectCategory) -> SchemeProblem:
    """A works-tendering method chosen for goods or services: one sentence per case."""
    works_evaluation = method is EvaluationMethod.COMPREHENSIVE_EVALUATION
    if category is ProjectCategory.GOODS:
        if works_evaluation:
            return SchemeProblem(
                "method comprehensive_evaluation is a works-tendering method (TBL Art. 41); "
                "category goods must use comprehensive scoring or lowest evaluated price"
            )
        return SchemeProblem(
            "method lowest_evaluated_bid_price is a works-tendering method (TBL Art. 41); "
            "category goods must use comprehensive scoring or lowest evaluated price"
        )
    if works_evaluation:
        return SchemeProblem(
            "method comprehensive_evaluation is a works-tendering method (TBL Art. 41); "
            "category services must use comprehensive scoring or lowest evaluated price"
        )
    return SchemeProblem(
        "method lowest_evaluated_bid_price is a works-tendering method (TBL Art. 41); "
        "category services must use comprehensive scoring or lowest evaluated price"
    )


def _id_problems(scheme: ScoringScheme) -> list[SchemeProblem]:
    problems: list[SchemeProblem] = []
    ids = [c.id for c in (*scheme.qualification, *scheme.compliance)]
    ids += [c.id for c in scheme.criteria]
    if any(not i.strip() for i in ids):
        problems.append(SchemeProblem("every criterion needs a non-empty id"))
    duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
    if duplicates:
        problems.append(
            SchemeProblem(
                "criterion ids must be unique; repeated: {ids}", ids=", ".join(duplicates)
            )
        )
    return problems


def _criteria_problems(scheme: ScoringScheme) -> list[SchemeProblem]:
    problems: list[SchemeProblem] = []
    for c in scheme.criteria:
        if c.max_points <= 0:
            problems.append(
                SchemeProblem(
                    "criterion {criterion}: maximum points must be above 0, not {points}",
                    criterion=c.id,
                    points=c.max_points,
                )
            )
        elif c.max_points != c.max_points.quantize(Decimal("0.01")):
            problems.append(
                SchemeProblem(
                    "criterion {criterion}: maximum points have at most 2 decimals",
                    criterion=c.id,
                )
            )
    prices = [c for c in scheme.criteria if c.group is CriterionGroup.PRICE]
    others = [c for c in scheme.criteria if c.group is not CriterionGroup.PRICE]
    if not scheme.method.is_scored:
        if others:
            problems.append(_price_only_problem(scheme.method, [c.id for c in others]))
        if len(prices) > 1:
            problems.append(SchemeProblem("a price-only scheme has at most one price criterion"))
        return problems
    if len(prices) != 1:
        problems.append(
            SchemeProblem(
                "exactly one price criterion is required, found {count}", count=len(prices)
            )
        )
    total = sum((c.max_points for c in scheme.criteria), _ZERO)
    if total != HUNDRED:
        problems.append(
            SchemeProblem(
                "criterion points must add up to 100, they add up to {total}", total=total
            )
        )
    if len(prices) == 1:
        weight = prices[0].max_points
        bounds = scheme.price_weight_bounds or DEFAULT_PRICE_WEIGHT_BOUNDS[scheme.category]
        if scheme.method.is_works:
            bounds = scheme.price_weight_bounds or PriceWeightBounds(_ZERO)
        if weight < bounds.minimum:
            problems.append(_below_minimum_problem(scheme.category, weight, bounds.minimum))
        if weight > bounds.maximum:
            problems.append(
                SchemeProblem(
                    "price weight {weight} is above the cap of {maximum}",
                    weight=weight,
                    maximum=bounds.maximum,
                )
            )
    return problems


def _price_only_problem(method: EvaluationMethod, scored: list[str]) -> SchemeProblem:
    """Scored criteria in a price-only scheme: one sentence per method."""
    ids = ", ".join(scored)
    if method is EvaluationMethod.LOWEST_EVALUATED_BID_PRICE:
        return SchemeProblem(
            "method lowest_evaluated_bid_price ranks by price only (MOF87 Art. 56); "
            "remove the scored criteria {ids}",
            ids=ids,
        )
    return SchemeProblem(
        "method lowest_evaluated_price ranks by price only (MOF87 Art. 56); "
        "remove the scored criteria {ids}",
        ids=ids,
    )


def _below_minimum_problem(
    category: ProjectCategory, weight: Decimal, minimum: Decimal
) -> SchemeProblem:
    """A price weight below the category's minimum: one sentence per category."""
    if category is ProjectCategory.GOODS:
        return SchemeProblem(
            "price weight {weight} is below the minimum of {minimum} for goods (MOF87 Art. 55)",
            weight=weight,
            minimum=minimum,
        )
    if category is ProjectCategory.SERVICES:
        return SchemeProblem(
            "price weight {weight} is below the minimum of {minimum} for services (MOF87 Art. 55)",
            weight=weight,
            minimum=minimum,
        )
    return SchemeProblem(
        "price weight {weight} is below the minimum of {minimum} for works (MOF87 Art. 55)",
        weight=weight,
        minimum=minimum,
    )


def _deduction_problems(scheme: ScoringScheme) -> list[SchemeProblem]:
    problems: list[SchemeProblem] = []
    ranges = scheme.deduction_ranges or DEFAULT_DEDUCTION_RANGES[scheme.category]
    for consortium, rate, allowed in (
        (False, scheme.small_or_micro_deduction, ranges.small_or_micro),
        (True, scheme.consortium_deduction, ranges.consortium),
    ):
        if rate == 0:
            continue
        if scheme.sme_reserved:
            problems.append(_reserved_problem(consortium=consortium))
        elif rate not in allowed:
            problems.append(
                _outside_problem(
                    scheme.category, percent(rate), str(allowed), consortium=consortium
                )
            )
    return problems


def _reserved_problem(*, consortium: bool) -> SchemeProblem:
    if consortium:
        return SchemeProblem(
            "a lot reserved for SMEs takes no consortium price deduction (SME46 Art. 8)"
        )
    return SchemeProblem(
        "a lot reserved for SMEs takes no small/micro price deduction (SME46 Art. 8)"
    )


def _outside_problem(
    category: ProjectCategory, rate: str, allowed: str, *, consortium: bool
) -> SchemeProblem:
    """A deduction rate outside the legal range: one sentence per deduction and category."""
    if consortium:
        if category is ProjectCategory.GOODS:
            return SchemeProblem(
                "consortium price deduction {rate} % is outside {allowed} for goods "
                "(SME46 Art. 9; 财库〔2022〕19号); use 0 for none",
                rate=rate,
                allowed=allowed,
            )
        if category is ProjectCategory.SERVICES:
            return SchemeProblem(
                "consortium price deduction {rate} % is outside {allowed} for services "
                "(SME46 Art. 9; 财库〔2022〕19号); use 0 for none",
                rate=rate,
                allowed=allowed,
            )
        return SchemeProblem(
            "consortium price deduction {rate} % is outside {allowed} for works "
            "(SME46 Art. 9; 财库〔2022〕19号); use 0 for none",
            rate=rate,
            allowed=allowed,
        )
    if category is ProjectCategory.GOODS:
        return SchemeProblem(
            "small/micro price deduction {rate} % is outside {allowed} for goods "
            "(SME46 Art. 9; 财库〔2022〕19号); use 0 for none",
            rate=rate,
            allowed=allowed,
        )
    if category is ProjectCategory.SERVICES:
        return SchemeProblem(
            "small/micro price deduction {rate} % is outside {allowed} for services "
            "(SME46 Art. 9; 财库〔2022〕19号); use 0 for none",
            rate=rate,
            allowed=allowed,
        )
    return SchemeProblem(
        "small/micro price deduction {rate} % is outside {allowed} for works "
        "(SME46 Art. 9; 财库〔2022〕19号); use 0 for none",
        rate=rate,
        allowed=allowed,
    )
