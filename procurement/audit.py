"""The audit trail: appending to and verifying the hash-chained log (ARCHITECTURE §7).

Every service action that matters (logins, publications, downloads, state changes, bids,
draws, scores) appends one entry inside the same transaction as the action itself, so an
action and its record commit or fail together.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from procurement.audit_chain import (
    GENESIS_HASH,
    ChainBreak,
    ChainedEntry,
    ChainVerifier,
    canonical_payload,
    compute_entry_hash,
)
from procurement.clock import SYSTEM_CLOCK, Clock
from procurement.db import transaction
from procurement.roles import SYSTEM_ACTOR, Actor
from procurement.tables import AuditEntry

#: Key of the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK = 7_426_001


async def record(
    action: str,
    *,
    actor: Actor = SYSTEM_ACTOR,
    subject_type: str = "",
    subject_id: object = "",
    payload: dict[str, Any] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> int:
    """Append one entry to the chain and return its sequence number."""
    engine = AuditEntry._meta.db
    async with transaction(engine):
        if isinstance(engine, PostgresEngine):
            await AuditEntry.raw("SELECT pg_advisory_xact_lock({})", _CHAIN_LOCK)
        last = (
            await AuditEntry.select(AuditEntry.seq, AuditEntry.entry_hash)
            .order_by(AuditEntry.seq, ascending=False)
            .first()
        )
        seq = 1 if last is None else int(last["seq"]) + 1
        prev_hash = GENESIS_HASH if last is None else str(last["entry_hash"])
        # UTC, microseconds: the text that is hashed must round-trip through both engines
        at = clock.now().astimezone(UTC)
        fields: dict[str, Any] = {
            "seq": seq,
            "at": at.isoformat(),
            "actor_id": actor.user_id,
            "actor": actor.username,
            "action": action,
            "subject_type": subject_type,
            "subject_id": str(subject_id),
            "payload": canonical_payload(payload or {}),
            "prev_hash": prev_hash,
        }
        entry_hash = compute_entry_hash(**fields)
        await AuditEntry.insert(
            AuditEntry(
                seq=seq,
                at=at,
                actor_id=actor.user_id,
                actor=actor.username,
                action=action,
                subject_type=subject_type,
                subject_id=str(subject_id),
                payload=fields["payload"],
                prev_hash=prev_hash,
                entry_hash=entry_hash,
            )
        )
    return seq


def _stored_at(value: Any) -> str:
    """The timestamp as it was hashed: ISO-8601 of the stored, timezone-aware value."""
    return str(value.astimezone(UTC).isoformat())


async def iter_chain(batch: int = 1000) -> AsyncIterator[ChainedEntry]:
    """Stream the whole chain in sequence order, a batch at a time (constant memory)."""
    after = 0
    while True:
        rows = (
            await AuditEntry.select()
            .where(AuditEntry.seq > after)
            .order_by(AuditEntry.seq)
            .limit(batch)
        )
        if not rows:
            return
        for row in rows:
            yield ChainedEntry(
                seq=int(row["seq"]),
                at=_stored_at(row["at"]),
                actor_id=row["actor_id"],
                actor=row["actor"],
                action=row["action"],
                subject_type=row["subject_type"],
                subject_id=row["subject_id"],
                payload=row["payload"],
                prev_hash=row["prev_hash"],
                entry_hash=row["entry_hash"],
            )
        after = int(rows[-1]["seq"])


@dataclass(frozen=True)
class AuditVerification:
    """Outcome of walking the chain: how many entries, and the first break if any."""

    entries: int
    first_break: ChainBreak | None

    @property
    def intact(self) -> bool:
        """True when every entry links to its predecessor and matches its hash."""
        return self.first_break is None


async def verify_audit_log() -> AuditVerification:
    """Walk the whole chain from the database and name the first bad entry."""
    verifier = ChainVerifier()
    async for entry in iter_chain():
        found = verifier.feed(entry)
        if found is not None:
            return AuditVerification(entries=verifier.checked, first_break=found)
    return AuditVerification(entries=verifier.checked, first_break=None)
