"""Eligibility screening plus the verifiable draw over a generated pool of 100,000 experts.

Run: .venv/bin/python bench/draw.py [--pool N] [--runs R]
The pool has realistic avoidance data: current and past employers among 5,000 organisations,
declared conflicts, unavailable dates, 200,000 past draws for the cooldown, every status,
lapsed and renewed certificates, missing training. Each run screens the pool for one lot
(5 bidders, a purchaser, an agency), snapshots and hashes the eligible pool, commits the
seed and draws 5 experts with 2 reserves per quota. The index is built once per pool (as the
service would cache it) and timed separately. Last line: JSON.
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
from datetime import UTC, date, datetime, timedelta

from expert_pool.draw import PoolSnapshot, commitment, draw_experts, snapshot_hash
from expert_pool.draw_request import DrawRequest, EvaluationMode, LotParties, Quota
from expert_pool.eligibility import (
    CooldownPolicy,
    DrawHistory,
    PastDraw,
    PoolIndex,
    screen_pool,
)
from expert_pool.experts import (
    Certification,
    Employment,
    Expert,
    ExpertStatus,
    ProfessionalTitle,
    Training,
)
from expert_pool.identity import identity_check_char
from expert_pool.specialties import SPECIALTIES

EVALUATION_DATE = date(2025, 6, 18)
ORGANISATIONS = 5_000
LEAVES = [code for code in SPECIALTIES if len(code) == 5]
STATUSES = [
    (ExpertStatus.ACTIVE, 92),
    (ExpertStatus.SUSPENDED, 3),
    (ExpertStatus.RETIRED, 3),
    (ExpertStatus.BLACKLISTED, 2),
]


def identity_number(rng: random.Random) -> str:
    born = date(1955, 1, 1) + timedelta(days=rng.randrange(365 * 40))
    first17 = f"330402{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + identity_check_char(first17)


def generate_expert(expert_id: int, rng: random.Random) -> Expert:
    day0 = EVALUATION_DATE
    jobs = [Employment(rng.randrange(1, ORGANISATIONS + 1), day0 - timedelta(days=4000))]
    for _ in range(rng.choice((0, 0, 1, 2))):
        ended = day0 - timedelta(days=rng.randrange(30, 6 * 365))
        jobs.append(
            Employment(rng.randrange(1, ORGANISATIONS + 1), ended - timedelta(days=900), ended)
        )
    roll = rng.random()
    certificates: tuple[Certification, ...]
    if roll < 0.05:
        certificates = ()
    else:
        issued = day0 - timedelta(days=rng.randrange(0, 1500))
        certificates = (Certification(f"C{expert_id}", issued, issued + timedelta(days=3 * 365)),)
        if roll > 0.95:
            renewed = certificates[0].expires_on + timedelta(days=1)
            certificates += (
                Certification(f"R{expert_id}", renewed, renewed + timedelta(days=3 * 365)),
            )
    trainings = (
        ()
        if rng.random() < 0.05
        else (Training("GPL", day0 - timedelta(days=rng.randrange(-30, 2000))),)
    )
    unavailable = frozenset(
        day0 + timedelta(days=rng.randrange(-20, 40)) for _ in range(rng.randrange(0, 6))
    )
    conflicts = frozenset(
        rng.randrange(1, ORGANISATIONS + 1) for _ in range(rng.choice((0,) * 9 + (2,)))
    )
    return Expert(
        expert_id=expert_id,
        name=f"Expert {expert_id}",
        identity_number=identity_number(rng),
        specialties=tuple(rng.sample(LEAVES, rng.randint(1, 3))),
        title=rng.choice(list(ProfessionalTitle)),
        years_of_experience=rng.randrange(3, 35),
        status=rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0],
        employments=tuple(jobs),
        certifications=certificates,
        trainings=trainings,
        unavailable_dates=unavailable,
        declared_conflicts=conflicts,
    )


def generate_history(pool: int, rng: random.Random) -> DrawHistory:
    return DrawHistory(
        PastDraw(rng.randrange(1, pool + 1), EVALUATION_DATE - timedelta(days=rng.randrange(365)))
        for _ in range(2 * pool)
    )


def request(quotas: tuple[Quota, ...]) -> DrawRequest:
    return DrawRequest(
        quotas=quotas,
        experts_to_draw=sum(quota.count for quota in quotas),
        reserves=2,
        evaluation_date=EVALUATION_DATE,
        mode=EvaluationMode.REMOTE,
        parties=LotParties(
            purchaser_id=11, bidder_ids=frozenset({101, 202, 303, 404, 505}), agency_id=77
        ),
        bid_deadline=datetime(2025, 6, 16, 9, 30, tzinfo=UTC),
    )


def timed_draw(
    index: PoolIndex, history: DrawHistory, lot: DrawRequest, seed: bytes
) -> tuple[float, float, float, int]:
    """Milliseconds for screening, snapshot + commit, ranking + filling; eligible count."""
    started = time.perf_counter()
    screening = screen_pool(index, lot, history=history, cooldown=CooldownPolicy(3, 30))
    screened = time.perf_counter()
    snapshot = PoolSnapshot.of(screening.eligible)
    snapshot_hash(snapshot)
    commitment(seed)
    committed = time.perf_counter()
    draw = draw_experts(snapshot, seed, lot.quotas, lot.reserves)
    drawn = time.perf_counter()
    assert len(draw.members) == lot.experts_to_draw
    return (
        (screened - started) * 1000,
        (committed - screened) * 1000,
        (drawn - committed) * 1000,
        len(snapshot),
    )


def measure(
    index: PoolIndex, history: DrawHistory, lot: DrawRequest, runs: int
) -> dict[str, float]:
    rng = random.Random(7)
    rows = [timed_draw(index, history, lot, rng.randbytes(32)) for _ in range(runs)]
    screen = statistics.median(row[0] for row in rows)
    commit = statistics.median(row[1] for row in rows)
    draw = statistics.median(row[2] for row in rows)
    total = statistics.median(row[0] + row[1] + row[2] for row in rows)
    eligible = float(rows[0][3])
    return {"screen": screen, "commit": commit, "draw": draw, "total": total, "eligible": eligible}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pool", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    rng = random.Random(2025)
    started = time.perf_counter()
    experts = [generate_expert(expert_id, rng) for expert_id in range(1, args.pool + 1)]
    history = generate_history(args.pool, rng)
    generated = time.perf_counter()
    index = PoolIndex(experts)
    indexed = time.perf_counter()
    print(
        f"generated {args.pool:,} experts and {len(history):,} past draws in "
        f"{generated - started:.1f} s; index built in {(indexed - generated) * 1000:.0f} ms"
    )
    lots = {
        "two leaf quotas (A0301 x3, A0303 x2)": request((Quota("A0301", 3), Quota("A0303", 2))),
        "one broad quota (A01 x5)": request((Quota("A01", 5),)),
        "whole goods field (A x5)": request((Quota("A", 5),)),
    }
    results = {}
    for name, lot in lots.items():
        figures = measure(index, history, lot, args.runs)
        results[name] = figures
        print(
            f"{name}: eligible {figures['eligible']:,.0f}; median of {args.runs}: screening "
            f"{figures['screen']:.1f} ms, snapshot+commit {figures['commit']:.1f} ms, "
            f"rank+fill {figures['draw']:.1f} ms, total {figures['total']:.1f} ms"
        )
    main_lot = results["two leaf quotas (A0301 x3, A0303 x2)"]
    broad = results["whole goods field (A x5)"]
    print(
        json.dumps(
            {
                "bench": "draw",
                "pool": args.pool,
                "draw_ms": round(main_lot["total"], 1),
                "eligible": int(main_lot["eligible"]),
                "screen_ms": round(main_lot["screen"], 1),
                "rank_fill_ms": round(main_lot["draw"], 1),
                "broad_draw_ms": round(broad["total"], 1),
                "broad_eligible": int(broad["eligible"]),
                "index_build_ms": round((indexed - generated) * 1000, 1),
                "runs": args.runs,
            }
        )
    )


if __name__ == "__main__":
    main()
