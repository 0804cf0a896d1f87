"""The running whole-file hash of an upload: a shortcut that is never wrong."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from bidding.digests import RunningDigests


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


PARTS = [bytes([n]) * (1000 + n) for n in range(1, 6)]
HASHES = [sha(p) for p in PARTS]
WHOLE = (sha(b"".join(PARTS)), sum(len(p) for p in PARTS))


def fed(order: list[int]) -> RunningDigests:
    digests = RunningDigests()
    for number in order:
        digests.feed(7, number, PARTS[number - 1], HASHES[number - 1])
    return digests


def test_parts_in_order_give_the_whole_file_hash() -> None:
    assert fed([1, 2, 3, 4, 5]).whole_file(7, HASHES) == WHOLE


def test_two_parts_in_flight_may_arrive_swapped() -> None:
    assert fed([1, 3, 2, 5, 4]).whole_file(7, HASHES) == WHOLE


def test_part_two_may_arrive_before_part_one() -> None:
    assert fed([2, 1, 3, 4, 5]).whole_file(7, HASHES) == WHOLE
    assert fed([3, 2, 1, 4, 5]).whole_file(7, HASHES) == WHOLE


def test_more_than_two_early_parts_give_up() -> None:
    assert fed([1, 3, 4, 5, 2]).whole_file(7, HASHES) is None


def test_a_part_one_seen_elsewhere_gives_no_answer() -> None:
    assert fed([2, 3, 4, 5]).whole_file(7, HASHES) is None


def test_a_part_sent_again_gives_no_answer() -> None:
    assert fed([1, 2, 3, 2, 4, 5]).whole_file(7, HASHES) is None


def test_part_one_sent_again_starts_over() -> None:
    assert fed([1, 2, 1, 2, 3, 4, 5]).whole_file(7, HASHES) == WHOLE


def test_parts_the_database_does_not_hold_give_no_answer() -> None:
    digests = fed([1, 2, 3, 4, 5])
    assert digests.whole_file(7, HASHES[:4]) is None
    assert digests.whole_file(7, [*HASHES[:4], sha(b"other")]) is None
    assert digests.whole_file(8, HASHES) is None


def test_forgotten_files_give_no_answer() -> None:
    digests = fed([1, 2, 3, 4, 5])
    digests.forget(7)
    assert digests.whole_file(7, HASHES) is None


def test_held_parts_are_bounded_in_bytes() -> None:
    digests = RunningDigests(max_held_bytes=1500)
    digests.feed(1, 1, PARTS[0], HASHES[0])
    digests.feed(1, 3, PARTS[2], HASHES[2])  # held: 1003 bytes
    digests.feed(2, 1, PARTS[0], HASHES[0])
    digests.feed(2, 3, PARTS[2], HASHES[2])  # would exceed 1500: file 2 is dropped
    digests.feed(2, 2, PARTS[1], HASHES[1])
    assert digests.whole_file(2, HASHES[:3]) is None
    digests.feed(1, 2, PARTS[1], HASHES[1])
    assert digests.whole_file(1, HASHES[:3]) == (sha(b"".join(PARTS[:3])), 3006)


def test_the_least_recently_fed_file_is_forgotten_first() -> None:
    digests = RunningDigests(max_files=2)
    for file_id in (1, 2, 3):
        digests.feed(file_id, 1, PARTS[0], HASHES[0])
    assert digests.whole_file(1, HASHES[:1]) is None
    assert digests.whole_file(3, HASHES[:1]) == (HASHES[0], len(PARTS[0]))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 4), st.binary(min_size=0, max_size=8)),
        min_size=1,
        max_size=14,
    )
)
def test_any_sequence_of_parts_gives_the_right_hash_or_none(
    sends: list[tuple[int, bytes]],
) -> None:
    """Whatever the order, repeats and contents, a hash given is the stored file's hash."""
    digests = RunningDigests()
    stored: dict[int, bytes] = {}
    for number, data in sends:
        stored[number] = data
        digests.feed(1, number, data, sha(data))
    numbers = sorted(stored)
    answer = digests.whole_file(1, [sha(stored[n]) for n in numbers])
    whole = b"".join(stored[n] for n in numbers)
    assert answer is None or answer == (sha(whole), len(whole))
    in_order = [n for n, _ in sends] == list(range(1, len(sends) + 1))
    if in_order:
        assert answer == (sha(whole), len(whole))
