"""The verifiable draw: commitment, snapshot, HMAC ranking, quotas, reserves, replacements."""

from __future__ import annotations

import hashlib
import hmac
import random
from collections import Counter
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chisquare

from expert_pool.draw import (
    SNAPSHOT_HEADER,
    Draw,
    InvalidReplacement,
    PoolExhausted,
    PoolSnapshot,
    QuotaDraw,
    _rank_keys,
    commitment,
    draw_experts,
    rank,
    ranked_ids,
    replacement,
    snapshot_hash,
    verify_draw,
)
from expert_pool.draw_request import DrawRequest, InvalidDrawRequest, Quota
from expert_pool.eligibility import PastDraw, screen_experts
from expert_pool.experts import Expert
from tests.expert_pool import make_expert
from tests.expert_pool.test_eligibility import POLICY, REQUESTS, oracle, pools

# --- the worked example of docs/draw.md -------------------------------------------------

EXAMPLE_SEED = bytes(range(32))
EXAMPLE_POOL = PoolSnapshot.from_entries(
    [
        (1, ["A0101"]),
        (2, ["A0102"]),
        (3, ["A0301"]),
        (4, ["A0301", "A0101"]),
        (5, ["A0302"]),
        (6, ["A0103"]),
        (7, ["A0303"]),
        (8, ["B04", "A0104"]),
    ]
)
EXAMPLE_QUOTAS = [Quota("A03", 1), Quota("A01", 2)]
EXAMPLE_CANONICAL = (
    b"zhaocai expert pool snapshot v1\n"
    b"1\tA0101\n2\tA0102\n3\tA0301\n4\tA0101,A0301\n"
    b"5\tA0302\n6\tA0103\n7\tA0303\n8\tA0104,B04\n"
)
EXAMPLE_HASH = "327f0b019b2c7a8724521e0be48b5d118ca2853da2af864527efec8156ecb5d0"
EXAMPLE_COMMITMENT = "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd"
EXAMPLE_RANKS = {
    8: "11632d1a",
    3: "1660ab3d",
    4: "2ff948f1",
    7: "43c875c1",
    1: "7761b1cc",
    2: "80ddc334",
    6: "e3a70256",
    5: "ea5a6a44",
}


def test_the_worked_example_snapshot_has_the_documented_bytes_and_hash() -> None:
    assert EXAMPLE_POOL.canonical() == EXAMPLE_CANONICAL
    assert snapshot_hash(EXAMPLE_POOL) == EXAMPLE_HASH
    assert hashlib.sha256(EXAMPLE_CANONICAL).hexdigest() == EXAMPLE_HASH


def test_the_worked_example_commitment_is_sha256_of_the_seed() -> None:
    assert commitment(EXAMPLE_SEED) == EXAMPLE_COMMITMENT


def test_the_worked_example_ranks_and_order_are_as_documented() -> None:
    assert ranked_ids(EXAMPLE_POOL, EXAMPLE_SEED) == list(EXAMPLE_RANKS)
    for expert_id, prefix in EXAMPLE_RANKS.items():
        assert rank(EXAMPLE_SEED, expert_id).hex()[:8] == prefix


def test_the_worked_example_draw_fills_a01_first_and_takes_expert_4_for_it() -> None:
    draw = draw_experts(EXAMPLE_POOL, EXAMPLE_SEED, EXAMPLE_QUOTAS, reserves=1)
    assert draw == Draw(
        commitment=EXAMPLE_COMMITMENT,
        snapshot_hash=EXAMPLE_HASH,
        reserves_per_quota=1,
        quotas=(
            QuotaDraw("A01", 2, members=(8, 4), reserves=(1,)),
            QuotaDraw("A03", 1, members=(3,), reserves=(7,)),
        ),
    )
    assert draw.members == (8, 4, 3)
    assert draw.reserves == (1, 7)


def test_the_worked_example_replacements_take_the_reserve_then_the_next_rank() -> None:
    draw = draw_experts(EXAMPLE_POOL, EXAMPLE_SEED, EXAMPLE_QUOTAS, reserves=1)
    first = replacement(draw, [8], snapshot=EXAMPLE_POOL, seed=EXAMPLE_SEED)
    assert first.quotas[0] == QuotaDraw("A01", 2, members=(4, 1), reserves=())
    assert first.declined == (8,)
    second = replacement(first, [4], snapshot=EXAMPLE_POOL, seed=EXAMPLE_SEED)
    assert second.quotas[0] == QuotaDraw("A01", 2, members=(1, 2), reserves=())
    assert second.quotas[1] == QuotaDraw("A03", 1, members=(3,), reserves=(7,))
    assert second.declined == (8, 4)
    assert verify_draw(EXAMPLE_POOL, EXAMPLE_SEED, second).verified


# --- commitment, ranks and snapshots ----------------------------------------------------

seeds = st.binary(min_size=32, max_size=32)
expert_ids = st.integers(min_value=1, max_value=2**63 - 1)


@given(seeds, expert_ids)
def test_a_rank_is_hmac_sha256_of_the_decimal_id_keyed_by_the_seed(
    seed: bytes, expert_id: int
) -> None:
    expected = hmac.new(seed, str(expert_id).encode("ascii"), hashlib.sha256).digest()
    assert rank(seed, expert_id) == expected
    assert _rank_keys(seed, [expert_id]) == [expected + expert_id.to_bytes(8, "big")]


@pytest.mark.parametrize("seed", [b"", bytes(31), bytes(33)])
def test_a_seed_of_other_than_32_bytes_is_refused(seed: bytes) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        commitment(seed)
    with pytest.raises(ValueError, match="32 bytes"):
        draw_experts(EXAMPLE_POOL, seed, EXAMPLE_QUOTAS, 0)


def test_a_rank_needs_a_positive_id() -> None:
    with pytest.raises(ValueError, match="positive"):
        rank(EXAMPLE_SEED, 0)


CODES = ["A0101", "A0102", "A0201", "A0301", "A0302", "B04", "C0101"]
QUOTA_CODES = [["A01"], ["A01", "A03"], ["A0101", "A0102", "A02"], ["A", "B"], ["A03", "B04", "C"]]

entries = st.lists(
    st.tuples(st.integers(1, 10**6), st.lists(st.sampled_from(CODES), min_size=1, max_size=3)),
    max_size=40,
    unique_by=lambda entry: entry[0],
)


@given(entries, st.randoms(use_true_random=False))
def test_the_snapshot_does_not_depend_on_the_order_of_the_pool(
    rows: list[tuple[int, list[str]]], rng: random.Random
) -> None:
    shuffled = [(expert_id, list(reversed(codes))) for expert_id, codes in rows]
    rng.shuffle(shuffled)
    assert PoolSnapshot.from_entries(rows) == PoolSnapshot.from_entries(shuffled)
    assert snapshot_hash(PoolSnapshot.from_entries(rows)) == snapshot_hash(
        PoolSnapshot.from_entries(shuffled)
    )


@given(entries)
def test_the_canonical_form_parses_back_to_the_same_snapshot(
    rows: list[tuple[int, list[str]]],
) -> None:
    snapshot = PoolSnapshot.from_entries(rows)
    assert PoolSnapshot.parse(snapshot.canonical()) == snapshot


@pytest.mark.parametrize(
    "text",
    [
        b"1\tA0101\n",
        SNAPSHOT_HEADER + b"2\tA0101\n1\tA0101\n",
        SNAPSHOT_HEADER + b"01\tA0101\n",
        SNAPSHOT_HEADER + b"1\tA0301,A0101\n",
        SNAPSHOT_HEADER + b"1\tA0101",
        SNAPSHOT_HEADER + b"1 A0101\n",
        SNAPSHOT_HEADER + b"1\tA0101\n1\tA0102\n",
        SNAPSHOT_HEADER + b"1\tA0101\r\n",
        SNAPSHOT_HEADER + "1\tA0101\n２\tA0101\n".encode(),
    ],
)
def test_anything_but_the_canonical_form_is_refused_by_the_parser(text: bytes) -> None:
    with pytest.raises(ValueError, match="snapshot"):
        PoolSnapshot.parse(text)


def test_a_snapshot_of_experts_hashes_like_the_snapshot_of_their_entries() -> None:
    experts = [make_expert(2, specialties=("A0301", "A0101")), make_expert(1)]
    assert snapshot_hash(experts) == snapshot_hash(
        PoolSnapshot.from_entries([(1, ["A0101"]), (2, ["A0101", "A0301"])])
    )
    with pytest.raises(ValueError, match="appears twice"):
        PoolSnapshot.of([make_expert(1), make_expert(1)])


def test_invalid_snapshot_entries_are_refused() -> None:
    with pytest.raises(ValueError, match="appears twice"):
        PoolSnapshot.from_entries([(1, ["A01"]), (1, ["A02"])])
    with pytest.raises(ValueError, match="outside"):
        PoolSnapshot.from_entries([(0, ["A01"])])
    with pytest.raises(ValueError, match="no specialty"):
        PoolSnapshot.from_entries([(1, [])])


# --- the draw, against a plain re-implementation ----------------------------------------


def plain_draw(
    snapshot: PoolSnapshot, seed: bytes, quotas: list[Quota], reserves: int
) -> dict[str, tuple[list[int], list[int]]] | tuple[str, int]:
    """The documented algorithm with a full sort: members pass, then reserves pass."""
    specialties = dict(snapshot.entries)
    order = sorted(snapshot.expert_ids, key=lambda expert_id: (rank(seed, expert_id), expert_id))
    taken: set[int] = set()
    result: dict[str, tuple[list[int], list[int]]] = {}
    for quota in sorted(quotas, key=lambda quota: quota.specialty):
        serving = [
            expert_id
            for expert_id in order
            if expert_id not in taken
            and any(code.startswith(quota.specialty) for code in specialties[expert_id])
        ]
        if len(serving) < quota.count:
            return quota.specialty, quota.count - len(serving)
        result[quota.specialty] = (serving[: quota.count], [])
        taken.update(serving[: quota.count])
    for quota in sorted(quotas, key=lambda quota: quota.specialty):
        serving = [
            expert_id
            for expert_id in order
            if expert_id not in taken
            and any(code.startswith(quota.specialty) for code in specialties[expert_id])
        ]
        result[quota.specialty][1].extend(serving[:reserves])
        taken.update(serving[:reserves])
    return result


@st.composite
def draw_cases(draw: st.DrawFn) -> tuple[PoolSnapshot, bytes, list[Quota], int]:
    snapshot = PoolSnapshot.from_entries(draw(entries))
    codes = draw(st.sampled_from(QUOTA_CODES))
    quotas = [Quota(code, draw(st.integers(1, 4))) for code in codes]
    return snapshot, draw(seeds), quotas, draw(st.integers(0, 3))


@settings(max_examples=300)
@given(draw_cases())
def test_quotas_are_met_exactly_by_the_lowest_ranks_or_the_draw_fails_with_the_shortage(
    case: tuple[PoolSnapshot, bytes, list[Quota], int],
) -> None:
    snapshot, seed, quotas, reserves = case
    expected = plain_draw(snapshot, seed, quotas, reserves)
    if isinstance(expected, tuple):
        with pytest.raises(PoolExhausted) as exhausted:
            draw_experts(snapshot, seed, quotas, reserves)
        assert (exhausted.value.specialty_code, exhausted.value.shortage) == expected
        return
    draw = draw_experts(snapshot, seed, quotas, reserves)
    specialties = dict(snapshot.entries)
    for quota_draw in draw.quotas:
        members, held = expected[quota_draw.specialty]
        assert list(quota_draw.members) == members
        assert list(quota_draw.reserves) == held
        assert len(quota_draw.members) == quota_draw.count
        assert len(quota_draw.reserves) <= reserves
        for expert_id in quota_draw.members + quota_draw.reserves:
            assert any(code.startswith(quota_draw.specialty) for code in specialties[expert_id])
    everyone = draw.members + draw.reserves
    assert len(everyone) == len(set(everyone))
    assert [quota.specialty for quota in draw.quotas] == sorted(q.specialty for q in quotas)


@given(draw_cases())
def test_the_same_seed_and_snapshot_always_give_the_same_draw(
    case: tuple[PoolSnapshot, bytes, list[Quota], int],
) -> None:
    snapshot, seed, quotas, reserves = case
    try:
        first = draw_experts(snapshot, seed, quotas, reserves)
    except PoolExhausted:
        with pytest.raises(PoolExhausted):
            draw_experts(PoolSnapshot.parse(snapshot.canonical()), seed, quotas, reserves)
        return
    assert draw_experts(PoolSnapshot.parse(snapshot.canonical()), seed, quotas, reserves) == first
    assert draw_experts(snapshot, seed, list(reversed(quotas)), reserves) == first


@given(draw_cases())
def test_the_number_of_reserves_never_changes_who_is_drawn(
    case: tuple[PoolSnapshot, bytes, list[Quota], int],
) -> None:
    snapshot, seed, quotas, _ = case
    try:
        without = draw_experts(snapshot, seed, quotas, 0)
    except PoolExhausted:
        return
    assert draw_experts(snapshot, seed, quotas, 3).members == without.members


@settings(max_examples=150, deadline=None)
@given(pools(), REQUESTS, seeds, st.randoms(use_true_random=False))
def test_no_drawn_expert_ever_breaks_an_eligibility_or_avoidance_rule(
    pool_and_history: tuple[list[Expert], list[PastDraw]],
    request: DrawRequest,
    seed: bytes,
    rng: random.Random,
) -> None:
    pool, history = pool_and_history
    screening = screen_experts(pool, request, history=history, cooldown=POLICY)
    snapshot = PoolSnapshot.of(screening.eligible)
    shuffled = list(screening.eligible)
    rng.shuffle(shuffled)
    try:
        draw = draw_experts(snapshot, seed, request.quotas, 2)
    except PoolExhausted:
        return
    assert draw_experts(PoolSnapshot.of(shuffled), seed, request.quotas, 2) == draw
    by_id = {expert.expert_id: expert for expert in pool}
    for expert_id in draw.members + draw.reserves:
        assert oracle(by_id[expert_id], request, history) == set()
        assert screening.exclusions.first_reason(expert_id) is None


def test_pool_exhausted_names_the_quota_and_the_shortage() -> None:
    with pytest.raises(PoolExhausted) as exhausted:
        draw_experts(EXAMPLE_POOL, EXAMPLE_SEED, [Quota("A03", 5)], 0)
    error = exhausted.value
    assert (error.specialty_code, error.needed, error.available, error.shortage) == ("A03", 5, 4, 1)
    assert "A03 (Air conditioning) needs 5 experts but only 4" in str(error)
    assert "1 short" in str(error)


def test_an_expert_taken_by_an_earlier_quota_is_not_available_to_a_later_one() -> None:
    with pytest.raises(PoolExhausted, match="A03") as exhausted:
        draw_experts(EXAMPLE_POOL, EXAMPLE_SEED, [Quota("A01", 5), Quota("A03", 4)], 0)
    assert exhausted.value.available == 3


def test_reserves_run_short_quietly_when_the_pool_is_small() -> None:
    draw = draw_experts(EXAMPLE_POOL, EXAMPLE_SEED, [Quota("A03", 3)], reserves=5)
    assert len(draw.quotas[0].members) == 3
    assert len(draw.quotas[0].reserves) == 1


def test_the_draw_refuses_bad_quotas_and_negative_reserves() -> None:
    with pytest.raises(InvalidDrawRequest, match="overlap"):
        draw_experts(EXAMPLE_POOL, EXAMPLE_SEED, [Quota("A01", 1), Quota("A0101", 1)], 0)
    with pytest.raises(InvalidDrawRequest, match="reserves"):
        draw_experts(EXAMPLE_POOL, EXAMPLE_SEED, [Quota("A01", 1)], -1)


def test_an_empty_pool_cannot_fill_any_quota() -> None:
    with pytest.raises(PoolExhausted, match="only 0 eligible experts"):
        draw_experts(PoolSnapshot.from_entries([]), EXAMPLE_SEED, [Quota("A", 1)], 0)


# --- replacements -----------------------------------------------------------------------


def example_draw(reserves: int = 1) -> Draw:
    return draw_experts(EXAMPLE_POOL, EXAMPLE_SEED, EXAMPLE_QUOTAS, reserves)


def test_only_current_members_can_decline() -> None:
    draw = example_draw()
    for not_a_member in (1, 99):
        with pytest.raises(InvalidReplacement, match=f"expert {not_a_member}"):
            replacement(draw, [not_a_member], snapshot=EXAMPLE_POOL, seed=EXAMPLE_SEED)
    with pytest.raises(InvalidReplacement):
        replacement(draw, [8, 8], snapshot=EXAMPLE_POOL, seed=EXAMPLE_SEED)
    declined = replacement(draw, [8], snapshot=EXAMPLE_POOL, seed=EXAMPLE_SEED)
    with pytest.raises(InvalidReplacement):
        replacement(declined, [8], snapshot=EXAMPLE_POOL, seed=EXAMPLE_SEED)


def test_a_replacement_needs_the_committed_seed_and_snapshot() -> None:
    draw = example_draw()
    with pytest.raises(ValueError, match="committed"):
        replacement(draw, [8], snapshot=EXAMPLE_POOL, seed=bytes(32))
    other = PoolSnapshot.from_entries(EXAMPLE_POOL.entries[:-1])
    with pytest.raises(ValueError, match="committed"):
        replacement(draw, [8], snapshot=other, seed=EXAMPLE_SEED)


def test_declines_in_one_call_are_applied_in_the_order_given() -> None:
    draw = example_draw(reserves=0)
    together = replacement(draw, [8, 3], snapshot=EXAMPLE_POOL, seed=EXAMPLE_SEED)
    one_by_one = replacement(
        replacement(draw, [8], snapshot=EXAMPLE_POOL, seed=EXAMPLE_SEED),
        [3],
        snapshot=EXAMPLE_POOL,
        seed=EXAMPLE_SEED,
    )
    assert together == one_by_one
    assert together.quotas[0].members == (4, 1)
    assert together.quotas[1].members == (7,)


def test_when_nobody_is_left_a_replacement_fails_with_pool_exhausted() -> None:
    draw = draw_experts(EXAMPLE_POOL, EXAMPLE_SEED, [Quota("A03", 4)], 0)
    with pytest.raises(PoolExhausted, match="A03"):
        replacement(draw, [3], snapshot=EXAMPLE_POOL, seed=EXAMPLE_SEED)


@settings(max_examples=200)
@given(draw_cases(), st.data())
def test_replacements_keep_quotas_full_with_never_assigned_experts_in_rank_order(
    case: tuple[PoolSnapshot, bytes, list[Quota], int], data: st.DataObject
) -> None:
    snapshot, seed, quotas, reserves = case
    try:
        draw = draw_experts(snapshot, seed, quotas, reserves)
    except PoolExhausted:
        return
    order = ranked_ids(snapshot, seed)
    assigned = set(draw.members + draw.reserves)
    for _ in range(data.draw(st.integers(1, 4))):
        decliner = data.draw(st.sampled_from(draw.members))
        quota = draw.quota_of(decliner)
        before = next(q for q in draw.quotas if q.specialty == quota)
        try:
            after_draw = replacement(draw, [decliner], snapshot=snapshot, seed=seed)
        except PoolExhausted:
            return
        after = next(q for q in after_draw.quotas if q.specialty == quota)
        newcomer = after.members[-1]
        assert after.members[:-1] == tuple(m for m in before.members if m != decliner)
        if before.reserves:
            assert newcomer == before.reserves[0]
        else:
            assert newcomer not in assigned
            assigned.add(newcomer)
        unchanged = [q for q in draw.quotas if q.specialty != quota]
        assert unchanged == [q for q in after_draw.quotas if q.specialty != quota]
        assert len(after.members) == after.count
        assert order.index(newcomer) > max(order.index(m) for m in before.members)
        draw = after_draw
    assert verify_draw(snapshot, seed, draw).verified


# --- verification -----------------------------------------------------------------------


def test_a_faithful_record_verifies() -> None:
    result = verify_draw(EXAMPLE_POOL, EXAMPLE_SEED, example_draw())
    assert result.verified
    assert result.problems == ()
    assert result.expected == example_draw()


def test_a_different_seed_fails_the_commitment_and_the_draw() -> None:
    result = verify_draw(EXAMPLE_POOL, bytes(32), example_draw())
    assert not result.verified
    assert not result.commitment_matches
    assert "commitment" in result.problems[0]


def test_a_changed_pool_fails_the_snapshot_check() -> None:
    smaller = PoolSnapshot.from_entries(EXAMPLE_POOL.entries[1:])
    result = verify_draw(smaller, EXAMPLE_SEED, example_draw())
    assert result.commitment_matches
    assert not result.snapshot_matches
    assert not result.verified


def test_swapped_members_or_reserves_are_caught_and_described() -> None:
    draw = example_draw()
    swapped = replace(draw, quotas=(replace(draw.quotas[0], members=(4, 8)), draw.quotas[1]))
    result = verify_draw(EXAMPLE_POOL, EXAMPLE_SEED, swapped)
    assert result.commitment_matches
    assert result.snapshot_matches
    assert not result.draw_matches
    assert "members should be [8, 4], the record says [4, 8]" in result.problems[0]
    other_reserve = replace(draw, quotas=(draw.quotas[0], replace(draw.quotas[1], reserves=(5,))))
    assert (
        "reserves should be [7]"
        in verify_draw(EXAMPLE_POOL, EXAMPLE_SEED, other_reserve).problems[0]
    )


def test_a_record_that_cannot_be_re_run_is_reported_not_raised() -> None:
    impossible = replace(example_draw(), declined=(5,))
    result = verify_draw(EXAMPLE_POOL, EXAMPLE_SEED, impossible)
    assert not result.verified
    assert result.expected is None
    assert "cannot be re-run" in result.problems[-1]


def test_a_seed_of_the_wrong_length_is_reported() -> None:
    result = verify_draw(EXAMPLE_POOL, b"short", example_draw())
    assert not result.verified
    assert "5 bytes" in result.problems[0]


# --- fairness ---------------------------------------------------------------------------


def test_over_10000_seeds_every_expert_is_drawn_about_equally_often() -> None:
    snapshot = PoolSnapshot.from_entries((expert_id, ["A0101"]) for expert_id in range(1, 51))
    chosen: Counter[int] = Counter()
    first_place: Counter[int] = Counter()
    for counter in range(10_000):
        seed = hashlib.sha256(counter.to_bytes(4, "big")).digest()
        members = draw_experts(snapshot, seed, [Quota("A01", 5)], 0).members
        chosen.update(members)
        first_place[members[0]] += 1
    frequencies = [chosen[expert_id] for expert_id in range(1, 51)]
    assert sum(frequencies) == 50_000
    assert chisquare(frequencies).pvalue > 0.001
    assert chisquare([first_place[expert_id] for expert_id in range(1, 51)]).pvalue > 0.001
