"""Comprehensive-scoring aggregation of a large lot: 1,000 bidders × 25 experts × 30 criteria.

Run: .venv/bin/python bench/aggregate.py [--bidders N] [--experts E] [--criteria C] [--runs R]
The scheme has a price criterion (40 points) and C expert-scored criteria of 60/C points;
scores are whole or half points, prices whole yuan, one bidder in five small or micro (10 %
deduction), one in fifty non-compliant, a few over budget. Generation is timed apart from
aggregation. Goal: aggregate in under 1 s. Last line: JSON.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import json
import random
import statistics
import time
from decimal import Decimal

from evaluation.scheme import (
    CriterionGroup,
    EvaluationMethod,
    PassFailCriterion,
    PricePreference,
    ScoredCriterion,
    ScoringScheme,
)
from evaluation.scoring import Bid, ExpertScores, evaluate
from procurement.lifecycle import ProjectCategory

BUDGET = Decimal(1_000_000)


def build_scheme(criteria: int) -> ScoringScheme:
    points = Decimal(60) / criteria
    scored = [
        ScoredCriterion(
            f"c{i:02d}",
            CriterionGroup.TECHNICAL if i % 3 else CriterionGroup.COMMERCIAL,
            points,
        )
        for i in range(criteria)
    ]
    return ScoringScheme(
        EvaluationMethod.COMPREHENSIVE_SCORING,
        ProjectCategory.GOODS,
        criteria=(ScoredCriterion("price", CriterionGroup.PRICE, Decimal(40)), *scored),
        compliance=(PassFailCriterion("delivery"),),
        small_or_micro_deduction=Decimal("0.10"),
    )


def build_lot(
    scheme: ScoringScheme, bidders: int, experts: int, rng: random.Random
) -> tuple[list[Bid], ExpertScores]:
    bids = []
    for i in range(bidders):
        preference = PricePreference.SMALL_OR_MICRO if i % 5 == 0 else PricePreference.NONE
        failed = ("delivery",) if i % 50 == 7 else ()
        price = Decimal(rng.randint(600_000, 1_010_000))
        bids.append(Bid(f"B{i:04d}", price, preference, failed_compliance=failed))
    halves = {c.id: int(c.max_points * 2) for c in scheme.expert_criteria}
    scores = {
        bid.bidder: {
            f"E{e:02d}": {cid: Decimal(rng.randint(0, top)) / 2 for cid, top in halves.items()}
            for e in range(experts)
        }
        for bid in bids
    }
    return bids, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bidders", type=int, default=1000)
    parser.add_argument("--experts", type=int, default=25)
    parser.add_argument("--criteria", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    scheme = build_scheme(args.criteria)
    started = time.perf_counter()
    bids, scores = build_lot(scheme, args.bidders, args.experts, random.Random(2026))
    generate_s = time.perf_counter() - started

    timings = []
    result = None
    for _ in range(args.runs):
        started = time.perf_counter()
        result = evaluate(bids, scores, scheme, budget=BUDGET)
        timings.append(time.perf_counter() - started)
    assert result is not None
    winner = result.recommended
    cells = args.bidders * args.experts * args.criteria
    median = statistics.median(timings)
    print(
        f"lot: {args.bidders} bidders × {args.experts} experts × {args.criteria} criteria "
        f"= {cells:,} scores (generated in {generate_s:.2f} s)"
    )
    print(
        f"aggregate: median {median:.3f} s, best {min(timings):.3f} s over {args.runs} runs "
        f"({cells / median / 1e6:.2f} M scores/s)"
    )
    print(
        f"ranked {len(result.ranking)}, excluded {len(result.excluded)}, "
        f"winner {winner.bidder if winner else '—'} "
        f"total {winner.total if winner else '—'}, "
        f"savings {result.savings.rate_display if result.savings else '—'}"
    )
    print(
        json.dumps(
            {
                "bench": "aggregate",
                "aggregate_s": round(median, 4),
                "aggregate_best_s": round(min(timings), 4),
                "runs": args.runs,
                "bidders": args.bidders,
                "experts": args.experts,
                "criteria": args.criteria,
                "scores": cells,
                "generate_s": round(generate_s, 3),
                "goal_s": 1.0,
            }
        )
    )


if __name__ == "__main__":
    main()
