"""Scoring and ranking of tender bids: price points, expert means, totals, ties, failure.

Comprehensive scoring (综合评分法, MOF87 Art. 55, 57) and lowest evaluated price (最低评标价法,
MOF87 Art. 56) for government tenders; their works counterparts (TBL Art. 41). Rounding
follows RULES §5.1: each factor score (price points, each criterion's mean) is rounded half-up
to 2 decimals, the total is the sum of the rounded factor scores, and ranks and ties are
decided on that total.

Expert scores are given as ``bidder → expert → criterion id → score`` (:data:`ExpertScores`):
every member scores every non-price criterion of every compliant bid; non-compliant bids need
no scores.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from evaluation.exceptions import ScoreError, TieUnresolved
from evaluation.scheme import (
    CriterionGroup,
    EvaluationMethod,
    PricePreference,
    ScoringScheme,
    ThirdTieBreak,
)
from procurement.exceptions import ValidationError
from procurement.labels import Labelled, add_labels
from procurement.lifecycle import FailureReason
from procurement.money import funds_saved, percent_display, round_half_up, savings_rate

ExpertScores = Mapping[str, Mapping[str, Mapping[str, Decimal]]]
"""Scores by bidder, then expert, then criterion id."""

MINIMUM_VALID_BIDS = 3
"""GPL Art. 36: fewer than 3 compliant bids → the tender fails."""

_ZERO = Decimal(0)
_ONE = Decimal(1)


class ExclusionReason(Labelled):
    """Why a bid takes no part in scoring; its labels are what the bidder and report read."""

    QUALIFICATION = "qualification"
    """Failed the qualification check (资格性审查, MOF87 Art. 44)."""
    COMPLIANCE = "compliance"
    """Not substantively responsive (符合性审查, MOF87 Art. 50, 63)."""
    OVER_LIMIT = "over_limit"
    """Price above the budget or ceiling price (MOF87 Art. 63; TBL-R Art. 51)."""
    ABNORMALLY_LOW = "abnormally_low"
    """An abnormally low price the bidder did not justify: an invalid bid (MOF87 Art. 60)."""


add_labels(
    ExclusionReason,
    {
        "qualification": ("资格性审查未通过", "Failed the qualification check"),
        "compliance": ("符合性审查未通过", "Not substantively responsive"),
        "over_limit": ("报价超过预算或最高限价", "Price above the budget or ceiling price"),
        "abnormally_low": ("报价异常低且未能合理说明", "Abnormally low price not justified"),
    },
)


@dataclass(frozen=True, slots=True)
class Exclusion:
    """The reason a bid was excluded, with the detail the bidder is told (GPL Art. 36).

    ``detail`` is the English sentence; ``criteria`` (the failed criteria's ids) and
    ``limit`` (the budget or ceiling price exceeded) let a page say it in its own language.
    """

    reason: ExclusionReason
    detail: str
    criteria: tuple[str, ...] = ()
    limit: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Bid:
    """A bid as the committee sees it after the pass/fail checks.

    Args:
        bidder: a unique id of the bidder.
        price: the price as quoted (after arithmetic correction, MOF87 Art. 59); it is the
            award and contract amount.
        preference: the SME price deduction the bid qualifies for.
        failed_qualification: ids of qualification criteria the bid failed.
        failed_compliance: ids of compliance criteria the bid failed.
    """

    bidder: str
    price: Decimal
    preference: PricePreference = PricePreference.NONE
    failed_qualification: tuple[str, ...] = ()
    failed_compliance: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BidderResult:
    """One bidder's evaluation: its scores and rank, or why it was excluded.

    ``price`` is the quoted price (the award/contract amount, SME46); ``evaluation_price`` is
    the SME-deducted price used only for the base price, price points and price ranking
    (MOF87 Art. 55). Scores are None for excluded bids and for price-only methods.
    """

    bidder: str
    price: Decimal
    evaluation_price: Decimal
    exclusion: Exclusion | None = None
    price_points: Decimal | None = None
    criterion_scores: Mapping[str, Decimal] = field(default_factory=dict)
    technical: Decimal | None = None
    commercial: Decimal | None = None
    total: Decimal | None = None
    rank: int | None = None
    tied: bool = False
    drawn: bool = False

    @property
    def valid(self) -> bool:
        """The bid was scored and ranked."""
        return self.exclusion is None


class SavingsReference(StrEnum):
    """What savings are measured against (RULES §8.3): store it with the figure."""

    BUDGET = "budget"
    """采购预算: government procurement."""
    RESERVE_PRICE = "reserve_price"
    """标底: works tenders with a reserve price."""
    CEILING_PRICE = "ceiling_price"
    """最高投标限价/招标控制价: works without a reserve price (practice)."""


@dataclass(frozen=True, slots=True)
class LotSavings:
    """Funds saved and savings rate of one awarded lot, exact; rounded only for display."""

    reference_type: SavingsReference
    reference: Decimal
    award: Decimal
    saved: Decimal
    rate: Decimal | None

    @property
    def rate_display(self) -> str:
        """The rate as "4.00 %" (half-up, RULES §8.3)."""
        return percent_display(self.rate)


def lot_savings(
    budget_or_reserve: Decimal,
    award: Decimal,
    *,
    reference: SavingsReference = SavingsReference.BUDGET,
) -> LotSavings:
    """Savings of one lot with the type of reference recorded (RULES §8.3).

    Government lots are measured against the budget; works against the reserve price (标底)
    or, without one, the ceiling price. Keeping the type lets reports never mix them silently.
    """
    saved = funds_saved(budget_or_reserve, award)
    return LotSavings(
        reference, budget_or_reserve, award, saved, savings_rate(saved, budget_or_reserve)
    )


def evaluation_price(price: Decimal, is_small_or_micro: bool, deduction_rate: Decimal) -> Decimal:
    """The price used for evaluation: ``price × (1 − rate)`` for a qualifying bid (RULES §6).

    Used only for the base price, price points and price ranking (MOF87 Art. 55; SME46 Art.
    9); the award and contract stay at the quoted price. Exact: never rounded.
    """
    if not _ZERO <= deduction_rate < _ONE:
        raise ValidationError("deduction rate {rate} must be in [0, 1)", rate=deduction_rate)
    return price * (_ONE - deduction_rate) if is_small_or_micro else price


def price_points(base: Decimal, eval_price: Decimal, max_points: Decimal) -> Decimal:
    """Low-price-first price points: ``base / price × max``, half-up to 2 decimals (MOF87 Art. 55).

    Computed as ``base × max / price`` so that an exact half (23.625) is never lost to a
    rounded quotient (RULES §5.1 rounding: 23.63, not the float 23.62).
    """
    if eval_price <= 0:
        raise ValidationError("an evaluation price must be positive, not {price}", price=eval_price)
    return round_half_up(base * max_points / eval_price)


def mean_score(scores: Sequence[Decimal]) -> Decimal:
    """Arithmetic mean of the members' scores on one factor, half-up to 2 (RULES §5.1)."""
    if not scores:
        raise ScoreError("a factor needs at least one member's score")
    return round_half_up(sum(scores, _ZERO) / len(scores))


def aggregate(
    bids: Iterable[Bid],
    expert_scores: ExpertScores,
    scheme: ScoringScheme,
    *,
    price_limit: Decimal | None = None,
    rng: random.Random | None = None,
) -> list[BidderResult]:
    """Score and rank the bids of one lot.

    Excludes bids failing qualification or compliance and bids above ``price_limit`` (the
    budget or ceiling price: MOF87 Art. 63; TBL-R Art. 51); the base price is the lowest
    evaluation price of the remaining bids. Comprehensive methods rank by total desc, then
    quoted price asc (MOF87 Art. 57), then the scheme's third key; lowest-price methods rank by
    evaluation price asc (works: then quoted price, EVR), then a draw if the scheme says so.
    Bidders still equal are tied (并列) and share a rank.

    Args:
        bids: the opened bids.
        expert_scores: bidder → expert → criterion id → score (comprehensive methods).
        scheme: the lot's scoring scheme.
        price_limit: the budget or ceiling price; None when there is none.
        rng: the random source for draws (``ThirdTieBreak.DRAW``); needed only when a draw
            has to decide.

    Returns:
        Ranked results in rank order, then excluded bids in bidder order.

    Raises:
        ValidationError: duplicate bidders, non-positive prices, unknown criteria.
        ScoreError: missing, unknown or out-of-range expert scores.
        TieUnresolved: a draw is needed and no random source was given.
    """
    bids = list(bids)
    _check_bids(bids, scheme)
    valid: list[Bid] = []
    excluded: list[BidderResult] = []
    for bid in bids:
        exclusion = _exclusion(bid, price_limit)
        if exclusion is None:
            valid.append(bid)
        else:
            excluded.append(
                BidderResult(bid.bidder, bid.price, _bid_evaluation_price(bid, scheme), exclusion)
            )
    excluded.sort(key=lambda r: r.bidder)
    if scheme.method.is_scored:
        rows = _score(valid, expert_scores, scheme)
    else:
        rows = [_price_only(bid, scheme) for bid in valid]
    return _rank(rows, scheme, rng) + excluded


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    """The committee's outcome: ranking and recommendation, or failure with its reason."""

    results: tuple[BidderResult, ...]
    failure_reason: FailureReason | None
    savings: LotSavings | None

    @property
    def failed(self) -> bool:
        """The lot failed (废标, GPL Art. 36)."""
        return self.failure_reason is not None

    @property
    def ranking(self) -> tuple[BidderResult, ...]:
        """Valid bids in rank order."""
        return tuple(r for r in self.results if r.valid)

    @property
    def excluded(self) -> tuple[BidderResult, ...]:
        """Excluded bids with their reasons."""
        return tuple(r for r in self.results if not r.valid)

    @property
    def tied_for_first(self) -> tuple[BidderResult, ...]:
        """Tied first places; the purchaser picks by the documents' rule (MOF87 Art. 68)."""
        first = tuple(r for r in self.ranking if r.rank == 1)
        return first if len(first) > 1 else ()

    @property
    def recommended(self) -> BidderResult | None:
        """The first-ranked bid, or None when the lot failed or first place is tied."""
        if self.failed or not self.ranking or self.tied_for_first:
            return None
        return self.ranking[0]

    def candidates(self, count: int = 3) -> tuple[BidderResult, ...]:
        """The first ``count`` ranked candidates (1–3 for works, EVR Art. 45); none if failed."""
        return () if self.failed else self.ranking[:count]


def evaluate(
    bids: Iterable[Bid],
    expert_scores: ExpertScores,
    scheme: ScoringScheme,
    *,
    budget: Decimal | None = None,
    ceiling: Decimal | None = None,
    rng: random.Random | None = None,
    minimum_valid: int = MINIMUM_VALID_BIDS,
) -> EvaluationResult:
    """Aggregate, then decide failure or the recommendation and its savings against the budget.

    Failure (GPL Art. 36): every price above the limit → ``ALL_OVER_BUDGET``; fewer than
    ``minimum_valid`` valid bids → ``TOO_FEW_VALID``. The limit is the lower of budget and
    ceiling. Savings are measured against the budget (RULES §8.3) when one is given; works
    measured against a reserve price use :func:`lot_savings`.
    """
    bids = list(bids)
    limits = [x for x in (budget, ceiling) if x is not None]
    limit = min(limits) if limits else None
    results = tuple(aggregate(bids, expert_scores, scheme, price_limit=limit, rng=rng))
    valid = [r for r in results if r.valid]
    reason: FailureReason | None = None
    over = [r for r in results if r.exclusion and r.exclusion.reason is ExclusionReason.OVER_LIMIT]
    if results and len(over) == len(results):
        reason = FailureReason.ALL_OVER_BUDGET
    elif len(valid) < minimum_valid:
        reason = FailureReason.TOO_FEW_VALID
    outcome = EvaluationResult(results, reason, None)
    winner = outcome.recommended
    if winner is None or budget is None:
        return outcome
    return EvaluationResult(results, reason, lot_savings(budget, winner.price))


def _check_bids(bids: Sequence[Bid], scheme: ScoringScheme) -> None:
    seen: set[str] = set()
    known = scheme.pass_fail_ids
    for bid in bids:
        if bid.bidder in seen:
            raise ValidationError(
                "bidder {bidder} appears twice; one bid per bidder", bidder=bid.bidder
            )
        seen.add(bid.bidder)
        if bid.price <= 0:
            raise ValidationError("bidder {bidder}: the price must be positive", bidder=bid.bidder)
        unknown = set(bid.failed_qualification) | set(bid.failed_compliance)
        unknown -= known
        if unknown:
            raise ValidationError(
                "bidder {bidder}: {criteria} are not criteria of the scheme",
                bidder=bid.bidder,
                criteria=", ".join(sorted(unknown)),
            )


def _exclusion(bid: Bid, limit: Decimal | None) -> Exclusion | None:
    if bid.failed_qualification:
        return Exclusion(
            ExclusionReason.QUALIFICATION,
            f"failed qualification: {', '.join(bid.failed_qualification)}",
            criteria=tuple(bid.failed_qualification),
        )
    if bid.failed_compliance:
        return Exclusion(
            ExclusionReason.COMPLIANCE,
            f"not compliant: {', '.join(bid.failed_compliance)}",
            criteria=tuple(bid.failed_compliance),
        )
    if limit is not None and bid.price > limit:
        return Exclusion(
            ExclusionReason.OVER_LIMIT, f"price {bid.price} exceeds the limit {limit}", limit=limit
        )
    return None


def _bid_evaluation_price(bid: Bid, scheme: ScoringScheme) -> Decimal:
    rate = scheme.deduction_for(bid.preference)
    return evaluation_price(bid.price, rate > 0, rate)


def _price_only(bid: Bid, scheme: ScoringScheme) -> BidderResult:
    return BidderResult(bid.bidder, bid.price, _bid_evaluation_price(bid, scheme))


def _score(
    bids: Sequence[Bid], expert_scores: ExpertScores, scheme: ScoringScheme
) -> list[BidderResult]:
    prices = {bid.bidder: _bid_evaluation_price(bid, scheme) for bid in bids}
    base = min(prices.values(), default=_ZERO)
    criteria = scheme.expert_criteria
    expected = frozenset(c.id for c in criteria)
    groups = {c.id: c.group for c in criteria}
    experts: frozenset[str] | None = None
    rows: list[BidderResult] = []
    for bid in bids:
        sheets_by_expert = expert_scores.get(bid.bidder)
        if not sheets_by_expert:
            raise ScoreError("no expert scores for bidder {bidder}", bidder=bid.bidder)
        if experts is None:
            experts = frozenset(sheets_by_expert)
        elif sheets_by_expert.keys() != experts:
            raise ScoreError(
                "bidder {bidder} was scored by {experts}, other bids by {others}; every member "
                "scores every bid",
                bidder=bid.bidder,
                experts=sorted(sheets_by_expert),
                others=sorted(experts),
            )
        sheets = list(sheets_by_expert.values())
        for expert, sheet in sheets_by_expert.items():
            if sheet.keys() != expected:
                raise _sheet_error(bid.bidder, expert, sheet, expected)
        means: dict[str, Decimal] = {}
        for criterion in criteria:
            cid = criterion.id
            values = [sheet[cid] for sheet in sheets]
            if min(values) < 0 or max(values) > criterion.max_points:
                raise ScoreError(
                    "bidder {bidder}, criterion {criterion}: scores must lie in 0–{maximum} "
                    "(MOF87 Art. 64)",
                    bidder=bid.bidder,
                    criterion=cid,
                    maximum=criterion.max_points,
                )
            means[cid] = mean_score(values)
        points = price_points(base, prices[bid.bidder], scheme.price_weight)
        technical = sum(
            (m for c, m in means.items() if groups[c] is CriterionGroup.TECHNICAL), _ZERO
        )
        commercial = sum(
            (m for c, m in means.items() if groups[c] is CriterionGroup.COMMERCIAL), _ZERO
        )
        rows.append(
            BidderResult(
                bid.bidder,
                bid.price,
                prices[bid.bidder],
                price_points=points,
                criterion_scores=means,
                technical=technical,
                commercial=commercial,
                total=points + technical + commercial,
            )
        )
    return rows


def _sheet_error(
    bidder: str, expert: str, sheet: Mapping[str, Decimal], expected: frozenset[str]
) -> ScoreError:
    missing = ", ".join(sorted(expected - sheet.keys()))
    unknown = ", ".join(sorted(sheet.keys() - expected))
    if missing and unknown:
        return ScoreError(
            "expert {expert}, bidder {bidder}: missing {missing}; not expert-scored criteria: "
            "{unknown}",
            expert=expert,
            bidder=bidder,
            missing=missing,
            unknown=unknown,
        )
    if missing:
        return ScoreError(
            "expert {expert}, bidder {bidder}: missing {missing}",
            expert=expert,
            bidder=bidder,
            missing=missing,
        )
    return ScoreError(
        "expert {expert}, bidder {bidder}: not expert-scored criteria: {unknown}",
        expert=expert,
        bidder=bidder,
        unknown=unknown,
    )


def _rank_key(scheme: ScoringScheme) -> Callable[[BidderResult], tuple[Decimal, ...]]:
    method = scheme.method
    if method.is_scored:
        if scheme.third_tie_break is ThirdTieBreak.TECHNICAL:
            return lambda r: (-_total(r), r.price, -(r.technical or _ZERO))
        return lambda r: (-_total(r), r.price)
    if method is EvaluationMethod.LOWEST_EVALUATED_BID_PRICE:
        return lambda r: (r.evaluation_price, r.price)
    return lambda r: (r.evaluation_price,)


def _total(result: BidderResult) -> Decimal:
    return result.total if result.total is not None else _ZERO


def _rank(
    rows: list[BidderResult], scheme: ScoringScheme, rng: random.Random | None
) -> list[BidderResult]:
    key = _rank_key(scheme)
    draw = scheme.third_tie_break is ThirdTieBreak.DRAW
    rows = sorted(rows, key=lambda r: (key(r), r.bidder))
    ranked: list[BidderResult] = []
    position = 1
    for _, group in itertools.groupby(rows, key=key):
        members = list(group)
        if len(members) > 1 and draw:
            if rng is None:
                raise TieUnresolved(
                    "{bidders} are tied; the scheme decides ties by random draw, which needs a "
                    "random source",
                    bidders=", ".join(m.bidder for m in members),
                )
            rng.shuffle(members)
            ranked += [
                _placed(m, position + i, tied=False, drawn=True) for i, m in enumerate(members)
            ]
        else:
            tied = len(members) > 1
            ranked += [_placed(m, position, tied=tied, drawn=False) for m in members]
        position += len(members)
    return ranked


def _placed(result: BidderResult, rank: int, *, tied: bool, drawn: bool) -> BidderResult:
    return replace(result, rank=rank, tied=tied, drawn=drawn)
