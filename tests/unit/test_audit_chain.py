"""The audit hash chain as pure functions: any edit, deletion or reordering is found."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from procurement.audit_chain import (
    GENESIS_HASH,
    ChainedEntry,
    canonical_payload,
    compute_entry_hash,
    verify_chain,
)


def build(count: int) -> list[ChainedEntry]:
    entries: list[ChainedEntry] = []
    prev = GENESIS_HASH
    for seq in range(1, count + 1):
        fields = {
            "seq": seq,
            "at": f"2026-11-25T00:00:{seq % 60:02d}+00:00",
            "actor_id": seq % 3 or None,
            "actor": f"user{seq}",
            "action": "test",
            "subject_type": "lot",
            "subject_id": str(seq),
            "payload": canonical_payload({"n": seq, "文": "标"}),
            "prev_hash": prev,
        }
        entry_hash = compute_entry_hash(**fields)  # type: ignore[arg-type]
        entries.append(ChainedEntry(entry_hash=entry_hash, **fields))  # type: ignore[arg-type]
        prev = entry_hash
    return entries


def test_intact_chain_verifies() -> None:
    assert verify_chain(build(10)) is None
    assert verify_chain([]) is None


@given(st.integers(min_value=1, max_value=10), st.data())
def test_any_edited_field_is_found_at_that_entry(count: int, data: st.DataObject) -> None:
    entries = build(count)
    index = data.draw(st.integers(min_value=0, max_value=count - 1))
    field = data.draw(st.sampled_from(["at", "actor", "action", "subject_id", "payload"]))
    entries[index] = replace(entries[index], **{field: getattr(entries[index], field) + "x"})
    found = verify_chain(entries)
    assert found is not None
    assert found.seq == index + 1


@given(st.integers(min_value=2, max_value=10), st.data())
def test_a_deleted_entry_is_found_at_the_next_one(count: int, data: st.DataObject) -> None:
    entries = build(count)
    index = data.draw(st.integers(min_value=0, max_value=count - 2))
    del entries[index]
    found = verify_chain(entries)
    assert found is not None
    assert found.seq == index + 2


def test_swapped_entries_are_found() -> None:
    entries = build(5)
    entries[1], entries[2] = entries[2], entries[1]
    found = verify_chain(entries)
    assert found is not None
    assert found.seq == 3


def test_payload_text_is_canonical() -> None:
    assert canonical_payload({"b": 1, "a": "标"}) == '{"a":"标","b":1}'
