"""The audit log's hash chain, as pure functions (ARCHITECTURE §7).

Each entry's hash covers its own fields and the previous entry's hash, so editing,
deleting, inserting or reordering any entry breaks every later link. The chain starts from
a fixed genesis value. Verification walks the entries in sequence order and names the first
one that does not fit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class ChainedEntry:
    """The fields of an audit entry that the hash covers."""

    seq: int
    at: str
    actor_id: int | None
    actor: str
    action: str
    subject_type: str
    subject_id: str
    payload: str
    prev_hash: str
    entry_hash: str


def canonical_payload(payload: dict[str, Any]) -> str:
    """JSON with sorted keys and no spaces: one text per payload, so hashes are repeatable."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def compute_entry_hash(
    *,
    seq: int,
    at: str,
    actor_id: int | None,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    payload: str,
    prev_hash: str,
) -> str:
    """SHA-256 over a length-unambiguous encoding of the entry and its predecessor's hash."""
    fields = [
        str(seq),
        at,
        "" if actor_id is None else str(actor_id),
        actor,
        action,
        subject_type,
        subject_id,
        payload,
        prev_hash,
    ]
    encoded = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """The first entry at which the chain does not hold, and why."""

    seq: int
    reason: str


class ChainVerifier:
    """Checks entries one at a time, in sequence order, so any chain length fits in memory.

    A missing entry shows as a gap in the sequence numbers or as a previous-hash mismatch;
    an edited entry shows as a hash that no longer matches its fields.
    """

    def __init__(self) -> None:
        self.expected_prev = GENESIS_HASH
        self.expected_seq = 1
        self.checked = 0

    def feed(self, entry: ChainedEntry) -> ChainBreak | None:
        """Check the next entry; return the break it shows, or None if it fits."""
        if entry.seq != self.expected_seq:
            return ChainBreak(
                seq=entry.seq,
                reason=f"sequence jumps from {self.expected_seq - 1} to {entry.seq}: "
                "an entry was deleted or inserted",
            )
        if entry.prev_hash != self.expected_prev:
            return ChainBreak(seq=entry.seq, reason="previous-hash link does not match")
        recomputed = compute_entry_hash(
            seq=entry.seq,
            at=entry.at,
            actor_id=entry.actor_id,
            actor=entry.actor,
            action=entry.action,
            subject_type=entry.subject_type,
            subject_id=entry.subject_id,
            payload=entry.payload,
            prev_hash=entry.prev_hash,
        )
        if recomputed != entry.entry_hash:
            return ChainBreak(seq=entry.seq, reason="entry was modified: its hash does not match")
        self.expected_prev = entry.entry_hash
        self.expected_seq += 1
        self.checked += 1
        return None


def verify_chain(entries: Iterable[ChainedEntry]) -> ChainBreak | None:
    """Walk the entries in order; return the first break, or None when the chain is intact."""
    verifier = ChainVerifier()
    for entry in entries:
        found = verifier.feed(entry)
        if found is not None:
            return found
    return None
