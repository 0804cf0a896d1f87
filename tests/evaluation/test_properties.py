"""Properties of scoring, ranking and review that must hold for any bids and scores."""

from __future__ import annotations

import itertools
import random
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.review import deviation_flags
from evaluation.scheme import (
    CriterionGroup,
    EvaluationMethod,
    PricePreference,
    ScoredCriterion,
    ScoringScheme,
    ThirdTieBreak,
)
from evaluation.scoring import Bid, BidderResult, ExpertScores, aggregate, price_points
from procurement.lifecycle import ProjectCategory

D = Decimal
CRITERIA = (
    ScoredCriterion("price", CriterionGroup.PRICE, D(30)),
    ScoredCriterion("t1", CriterionGroup.TECHNICAL, D("35.5")),
    ScoredCriterion("t2", CriterionGroup.TECHNICAL, D("14.5")),
    ScoredCriterion("c1", CriterionGroup.COMMERCIAL, D(20)),
)
SCHEMES = {
    third: ScoringScheme(
        EvaluationMethod.COMPREHENSIVE_SCORING,
        ProjectCategory.GOODS,
        criteria=CRITERIA,
        small_or_micro_deduction=D("0.10"),
        third_tie_break=third,
    )
    for third in ThirdTieBreak
}

prices = st.integers(min_value=1, max_value=10_000_000).map(lambda fen: D(fen) / 100)
score_steps = st.integers(min_value=0, max_value=100)


@st.composite
def lots(draw: st.DrawFn) -> tuple[list[Bid], ExpertScores]:
    bidders = draw(st.integers(min_value=1, max_value=8))
    experts = draw(st.integers(min_value=1, max_value=7))
    bids = [
        Bid(
            f"B{i}",
            draw(prices),
            draw(st.sampled_from(list(PricePreference)[:2])),
        )
        for i in range(bidders)
    ]
    scores = {
        bid.bidder: {
            f"E{e}": {c.id: c.max_points * draw(score_steps) / 100 for c in CRITERIA[1:]}
            for e in range(experts)
        }
        for bid in bids
    }
    return bids, scores


def order(results: list[BidderResult]) -> list[tuple[str, int | None, bool, Decimal | None]]:
    return [(r.bidder, r.rank, r.tied, r.total) for r in results]


@given(prices, st.lists(prices, min_size=1, max_size=10))
def test_the_lowest_valid_price_gets_the_full_price_score(
    low: Decimal, others: list[Decimal]
) -> None:
    base = min([low, *others])
    assert price_points(base, base, D(30)) == D("30.00")


@given(prices, prices, st.integers(min_value=1, max_value=10_000).map(lambda c: D(c) / 100))
def test_a_price_score_never_exceeds_its_weight_and_matches_exact_arithmetic(
    a: Decimal, b: Decimal, weight: Decimal
) -> None:
    base, price = min(a, b), max(a, b)
    points = price_points(base, price, weight)
    assert D(0) <= points <= weight
    exact = Fraction(base) * Fraction(weight) / Fraction(price) * 100
    floor = exact.numerator // exact.denominator
    rounded = floor + (1 if exact - floor >= Fraction(1, 2) else 0)
    assert points == D(rounded) / 100


@given(lots(), st.sampled_from(list(ThirdTieBreak)))
def test_totals_stay_within_0_and_100(
    lot: tuple[list[Bid], ExpertScores], third: ThirdTieBreak
) -> None:
    bids, scores = lot
    for result in aggregate(bids, scores, SCHEMES[third], rng=random.Random(0)):
        assert result.total is not None
        assert D(0) <= result.total <= D(100)
        assert result.price_points is not None
        assert result.price_points <= D(30)


@given(lots(), st.sampled_from(list(ThirdTieBreak)), st.randoms(use_true_random=False))
def test_reordering_bidders_or_experts_never_changes_the_ranking(
    lot: tuple[list[Bid], ExpertScores], third: ThirdTieBreak, shuffler: random.Random
) -> None:
    bids, scores = lot
    scheme = SCHEMES[third]
    expected = order(aggregate(bids, scores, scheme, rng=random.Random(42)))
    shuffled_bids = bids[:]
    shuffler.shuffle(shuffled_bids)
    shuffled_scores = {}
    for bidder in shuffler.sample(list(scores), len(scores)):
        experts = list(scores[bidder].items())
        shuffler.shuffle(experts)
        shuffled_scores[bidder] = dict(experts)
    actual = order(aggregate(shuffled_bids, shuffled_scores, scheme, rng=random.Random(42)))
    assert actual == expected


@given(lots())
def test_ranks_follow_totals_then_quoted_price(lot: tuple[list[Bid], ExpertScores]) -> None:
    bids, scores = lot
    results = aggregate(bids, scores, SCHEMES[ThirdTieBreak.NONE])
    for first, second in itertools.pairwise(results):
        assert first.total is not None
        assert second.total is not None
        assert (first.total, -first.price) >= (second.total, -second.price)
        same = (first.total, first.price) == (second.total, second.price)
        assert (first.rank == second.rank) == same


@settings(max_examples=50)
@given(lots(), st.randoms(use_true_random=False))
def test_deviation_flags_are_symmetric_under_expert_reordering(
    lot: tuple[list[Bid], ExpertScores], shuffler: random.Random
) -> None:
    _, scores = lot
    scheme = SCHEMES[ThirdTieBreak.NONE]
    reordered = {}
    for bidder, sheets in scores.items():
        experts = list(sheets.items())
        shuffler.shuffle(experts)
        reordered[bidder] = dict(experts)
    assert deviation_flags(reordered, scheme) == deviation_flags(scores, scheme)


@settings(max_examples=50)
@given(lots())
def test_renaming_experts_moves_their_flags_with_them(lot: tuple[list[Bid], ExpertScores]) -> None:
    _, scores = lot
    scheme = SCHEMES[ThirdTieBreak.NONE]
    renamed = {
        bidder: {f"X{expert[1:]}": sheet for expert, sheet in reversed(list(sheets.items()))}
        for bidder, sheets in scores.items()
    }
    original = [
        (f.bidder, f.criterion, f.expert[1:], f.reason) for f in deviation_flags(scores, scheme)
    ]
    moved = [
        (f.bidder, f.criterion, f.expert[1:], f.reason) for f in deviation_flags(renamed, scheme)
    ]
    assert sorted(moved) == sorted(original)
