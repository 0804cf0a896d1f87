"""Sealed-bid use cases: opening keys, submission, receipts, withdrawal, opening (开标).

Rules: bids are encrypted before upload and nobody may open them before the deadline
(ETM Art. 30-31); late bids are refused on the server clock (TBL Art. 28); a bidder may
withdraw or replace its bid before the deadline and only the latest counts (TBL Art. 29),
except on a price inquiry's lot, where only invited suppliers quote, once, and a quote is
final (GPL Art. 40);
every submission gets a receipt (ETM Art. 28); every bid received in time is opened and its
bidder and price are read out (TBL Art. 36); fewer than 3 bids → no opening, and in
government procurement fewer than 3 valid bids → failure (TBL Art. 28; GPL Art. 36).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import math
import secrets
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import partial
from typing import Any

import anyio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from piccolo.table import Table

from bidding.digests import RUNNING_DIGESTS
from bidding.envelope import (
    EnvelopeContext,
    EnvelopeError,
    MalformedHeader,
    TamperedEnvelope,
    WrongContext,
    WrongKey,
    fingerprint,
    header_size,
    load_public_key,
    open_sealed,
    public_key_bytes,
    read_header,
    seal,
)
from bidding.keys import (
    KeyCustodyError,
    KeyShare,
    combine_shares,
    encrypt_share,
    generate_opening_key,
    split_opening_key,
    unwrap_opening_key,
    wrap_opening_key,
)
from bidding.receipts import Receipt, ReceiptFile, sign_receipt
from bidding.tables import (
    Bid,
    BidFile,
    BidPart,
    CustodianKey,
    KeyShareRecord,
    OpeningKey,
    OpeningRecord,
)
from procurement import audit
from procurement.clock import SYSTEM_CLOCK, Clock, china_time
from procurement.db import as_aware, is_unique_violation, transaction
from procurement.exceptions import Conflict, DeadlinePassed, Forbidden, NotFound, ValidationError
from procurement.inquiries import inquiry_of_lot, is_invited
from procurement.labels import Labelled, add_labels
from procurement.lifecycle import FailureReason, LotEvent, LotStatus
from procurement.money import MoneyError, parse_yuan, yuan_to_fen
from procurement.numbers import MAX_ROW_ID
from procurement.projects import get_lot, get_project, transition_lot
from procurement.results import record_failure
from procurement.roles import Actor, Role
from storage import ObjectNotFound, ObjectStore, StorageError, UploadNotFound

log = logging.getLogger(__name__)

PART_SIZE = 8 * 1024 * 1024
MAX_FILES = 10


class FileKind(Labelled):
    """What a sealed file of a bid holds; ``{kind:zh}`` names it in a Chinese message."""

    PRICE = "price"
    TECHNICAL = "technical"
    COMMERCIAL = "commercial"
    QUALIFICATION = "qualification"
    OTHER = "other"


add_labels(
    FileKind,
    {
        "price": ("报价文件", "Price declaration"),
        "technical": ("技术文件", "Technical documents"),
        "commercial": ("商务文件", "Commercial documents"),
        "qualification": ("资格证明文件", "Qualification documents"),
        "other": ("其他文件", "Other documents"),
    },
)
FILE_KINDS = tuple(kind.value for kind in FileKind)


def file_kind_names(language: str) -> dict[str, str]:
    """Each sealed file kind's name in ``language``, for pages that list a bid's files."""
    return {kind.value: kind.label(language) for kind in FileKind}


def file_kind(kind: str) -> FileKind | str:
    """A stored or declared kind as a :class:`FileKind`; an unknown one (a forged header) as is."""
    try:
        return FileKind(kind)
    except ValueError:
        return kind


MIN_BIDS = 3
MAX_CUSTODIANS_PER_LOT = 5


def threshold_for(custodians: int) -> int:
    """K of n: 2 of 2 or 3, otherwise a majority (any single custodian alone never opens)."""
    return 2 if custodians <= 3 else custodians // 2 + 1


# ---------------------------------------------------------------------------- custodians


async def register_custodian_key(
    actor: Actor, public_key_b64: str, *, clock: Clock = SYSTEM_CLOCK
) -> str:
    """A custodian registers the public half of the key pair it generated itself."""
    if actor.role is not Role.CUSTODIAN:
        raise Forbidden("only key custodians register custodian keys")
    try:
        raw = base64.b64decode(public_key_b64, validate=True)
        key = load_public_key(raw)
    except (ValueError, MalformedHeader) as exc:
        raise ValidationError(
            "the public key must be a base64 P-256 point (65 bytes)", field="public_key"
        ) from exc
    async with transaction(CustodianKey._meta.db):
        existing = await CustodianKey.objects().where(CustodianKey.user == actor.user_id).first()
        if existing is not None:
            pending = await KeyShareRecord.count().where(
                (KeyShareRecord.custodian == actor.user_id)
                & KeyShareRecord.opening_key.opened_at.is_null()
            )
            if pending:
                raise Conflict(
                    "you hold shares of lots not yet opened; keep your current key "
                    "until they are opened"
                )
            await CustodianKey.delete().where(CustodianKey.id == existing.id)
        await CustodianKey(
            user=actor.user_id, public_key=raw.hex(), registered_at=clock.now()
        ).save()
        await audit.record(
            "custodian.key_registered",
            actor=actor,
            subject_type="user",
            subject_id=actor.user_id,
            payload={"fingerprint": fingerprint(key).hex()},
            clock=clock,
        )
    return fingerprint(key).hex()


async def create_opening_key(
    lot_id: int, custody_mode: str, *, master: bytes, clock: Clock = SYSTEM_CLOCK
) -> None:
    """Create a lot's opening key at publication; idempotent.

    This is the one moment of trust (ARCHITECTURE §3): the key exists in this process's
    memory while it is split or wrapped, and the audit log records that moment.
    """
    if await OpeningKey.exists().where(OpeningKey.lot == lot_id):
        return
    key = generate_opening_key()
    public = public_key_bytes(key.public_key())
    row = OpeningKey(
        lot=lot_id,
        mode=custody_mode,
        public_key=public.hex(),
        fingerprint=fingerprint(key.public_key()).hex(),
        created_at=clock.now(),
    )
    if custody_mode == "platform":
        row.wrapped_private_key = wrap_opening_key(key, master, str(lot_id)).hex()
        await row.save()
    else:
        custodians = (
            await CustodianKey.select()
            .order_by(CustodianKey.registered_at)
            .limit(MAX_CUSTODIANS_PER_LOT)
        )
        if len(custodians) < 2:
            raise Conflict(
                "at least 2 key custodians must register their keys before a lot "
                "in custodian mode can be published"
            )
        threshold = threshold_for(len(custodians))
        row.threshold, row.custodians = threshold, len(custodians)
        await row.save()
        shares = split_opening_key(
            key, lot_id=str(lot_id), threshold=threshold, custodians=len(custodians)
        )
        for share, custodian in zip(shares, custodians, strict=True):
            blob = encrypt_share(
                share.to_bytes(),
                load_public_key(bytes.fromhex(custodian["public_key"])),
                lot_id=str(lot_id),
                custodian_id=str(custodian["user"]),
            )
            await KeyShareRecord(
                opening_key=row.id,
                custodian=custodian["user"],
                share_index=share.index,
                encrypted_share=blob.hex(),
            ).save()
    del key
    await audit.record(
        "opening_key.generated",
        subject_type="lot",
        subject_id=lot_id,
        payload={
            "mode": custody_mode,
            "fingerprint": row.fingerprint,
            "threshold": row.threshold,
            "custodians": row.custodians,
        },
        clock=clock,
    )


async def opening_key_of(lot_id: int) -> OpeningKey:
    """The lot's opening key row, or NotFound."""
    row = await OpeningKey.objects().where(OpeningKey.lot == lot_id).first()
    if row is None:
        raise NotFound("lot {lot_id} has no opening key (not published?)", lot_id=lot_id)
    return row


async def public_opening_key(lot_id: int) -> dict[str, Any]:
    """What a bidder needs to seal: the public key and its fingerprint."""
    row = await opening_key_of(lot_id)
    return {
        "lot_id": lot_id,
        "public_key": base64.b64encode(bytes.fromhex(row.public_key)).decode(),
        "fingerprint": row.fingerprint,
        "mode": row.mode,
        "part_size": PART_SIZE,
    }


# ---------------------------------------------------------------------------- submission


@dataclass(frozen=True)
class FileSpec:
    """A file the bidder is about to upload: its kind, a label and its sealed size."""

    kind: str
    size: int
    label: str = ""


def _refuse_unless_open_for_bids(lot: Any, project: Any, now: datetime) -> None:
    """Raise unless the lot takes bids, parts and withdrawals at ``now`` (server clock)."""
    if now >= project.bid_deadline and LotStatus(lot.status) in {
        LotStatus.PUBLISHED,
        LotStatus.BIDDING_CLOSED,
    }:
        raise DeadlinePassed(
            "the bid deadline {deadline} has passed; the server clock is authoritative",
            deadline=china_time(project.bid_deadline),
        )
    if LotStatus(lot.status) is not LotStatus.PUBLISHED:
        raise Conflict("this lot is not open for bids")


def accepts_bids(lot: Any, project: Any, now: datetime) -> bool:
    """Whether the lot takes bids at ``now``: the bid page shows its form only then."""
    try:
        _refuse_unless_open_for_bids(lot, project, now)
    except Conflict:
        return False
    return True


async def _open_lot_for_bids(lot_id: int, now: datetime) -> tuple[Any, Any]:
    lot = await get_lot(lot_id)
    project = await get_project(lot.project)
    _refuse_unless_open_for_bids(lot, project, now)
    return lot, project


def _context(lot_id: int, bidder_id: int, kind: str) -> EnvelopeContext:
    return EnvelopeContext(lot_id=str(lot_id), bidder_id=str(bidder_id), kind=kind)


async def start_bid(
    actor: Actor,
    lot_id: int,
    files: list[FileSpec],
    *,
    store: ObjectStore,
    clock: Clock = SYSTEM_CLOCK,
) -> dict[str, Any]:
    """Open a submission: one price declaration plus documents, sizes checked up front.

    One store upload per file; if the bid cannot be recorded after all (the store fails on
    a later file, the database on the commit), the uploads already opened are aborted.
    """
    if actor.role is not Role.BIDDER or actor.organisation_id is None:
        raise Forbidden("only suppliers submit bids")
    lot, _ = await _open_lot_for_bids(lot_id, clock.now())
    await _check_quote_allowed(actor, lot_id)
    if not files or len(files) > MAX_FILES:
        raise ValidationError("a bid has 1 to {most} files", most=MAX_FILES, field="files")
    if [f.kind for f in files].count("price") != 1:
        raise ValidationError("a bid needs exactly one sealed price declaration", field="files")
    limit = lot.max_bid_mib * 1024 * 1024
    for spec in files:
        if spec.kind not in FILE_KINDS:
            raise ValidationError("unknown file kind {kind!r}", kind=spec.kind, field="files")
        minimum = header_size(_context(lot_id, actor.organisation_id, spec.kind)) + 16
        if spec.size < minimum:
            raise ValidationError(
                "a sealed {kind} file is at least {minimum} bytes",
                kind=FileKind(spec.kind),
                minimum=minimum,
                field="files",
            )
    total = sum(spec.size for spec in files)
    if total > limit:
        raise ValidationError(
            "the bid is {size:.1f} MiB; this lot accepts at most {limit} MiB",
            size=total / 2**20,
            limit=lot.max_bid_mib,
            field="files",
        )
    await opening_key_of(lot_id)
    opened: list[str] = []  # store uploads to abort if the bid is not recorded after all
    try:
        return await _record_started_bid(actor, lot_id, files, store, opened, clock)
    except BaseException:
        for upload_id in opened:
            with contextlib.suppress(StorageError):
                await anyio.to_thread.run_sync(store.abort_upload, upload_id)
        raise


#: Bid and file ids are drawn at random from this range, never counted up: a bidder who
#: starts two bids would otherwise learn from the ids how many bids others started in
#: between, and before the opening nobody may learn how many bids a lot has (TBL Art. 22).
#: The ids of rows made before stay below it, where a counter put them.
RANDOM_ID_FLOOR = 2**24


async def _unused_random_ids(table: type[Table], count: int = 1) -> int:
    """The first of ``count`` consecutive ids no row of ``table`` has, at a random place.

    Consecutive, so a bid's files keep the order they were declared in.
    """
    last_start = MAX_ROW_ID - count + 1
    while True:
        start = RANDOM_ID_FLOOR + secrets.randbelow(last_start - RANDOM_ID_FLOOR + 1)
        key = table._meta.primary_key
        if not await table.exists().where((key >= start) & (key < start + count)):
            return start


async def _record_started_bid(
    actor: Actor,
    lot_id: int,
    files: list[FileSpec],
    store: ObjectStore,
    opened: list[str],
    clock: Clock,
) -> dict[str, Any]:
    """The rows of a new bid and its files, one store upload per file (listed in ``opened``)."""
    now = clock.now()
    async with transaction(Bid._meta.db):
        bid = Bid(
            id=await _unused_random_ids(Bid),
            lot=lot_id,
            bidder=actor.organisation_id,
            submitted_by=actor.user_id,
            status="uploading",
            created_at=now,
        )
        await bid.save()
        created = []
        first_file_id = await _unused_random_ids(BidFile, len(files))
        for position, spec in enumerate(files):
            row = BidFile(
                id=first_file_id + position,
                bid=bid.id,
                kind=spec.kind,
                label=spec.label[:200],
                declared_size=spec.size,
            )
            await row.save()
            # random part: keys stay unique even if a restored database reuses ids
            row.object_key = f"bids/{lot_id}/{bid.id}/{row.id}-{spec.kind}-{uuid.uuid4().hex}"
            row.upload_id = await anyio.to_thread.run_sync(store.create_upload, row.object_key)
            opened.append(row.upload_id)
            await BidFile.update(
                {BidFile.object_key: row.object_key, BidFile.upload_id: row.upload_id}
            ).where(BidFile.id == row.id)
            created.append(
                {
                    "file_id": row.id,
                    "kind": spec.kind,
                    "size": spec.size,
                    "parts": max(1, math.ceil(spec.size / PART_SIZE)),
                }
            )
        await audit.record(
            "bid.started",
            actor=actor,
            subject_type="bid",
            subject_id=bid.id,
            payload={"lot_id": lot_id, "files": len(files)},
            clock=clock,
        )
    return {"bid_id": bid.id, "part_size": PART_SIZE, "files": created}


ONE_QUOTE = (
    "a price inquiry takes one price, once: a submitted quote cannot be changed, replaced "
    "or withdrawn (GPL Art. 40)"
)


async def _check_quote_allowed(actor: Actor, lot_id: int) -> None:
    """On an inquiry lot only invited suppliers quote, and only once (GPL Art. 40)."""
    inquiry = await inquiry_of_lot(lot_id)
    if inquiry is None:
        return
    if not await is_invited(inquiry.id, actor.organisation_id):
        raise Forbidden("your organisation was not invited to this price inquiry")
    if await Bid.exists().where(
        (Bid.lot == lot_id) & (Bid.bidder == actor.organisation_id) & (Bid.status == "submitted")
    ):
        raise Conflict(ONE_QUOTE, code="second_quote")


async def _own_bid(actor: Actor, bid_id: int) -> Bid:
    bid = await Bid.objects().where(Bid.id == bid_id).first()
    if bid is None or actor.organisation_id is None or bid.bidder != actor.organisation_id:
        raise NotFound("no bid with id {bid_id}", bid_id=bid_id)
    return bid


UPLOAD_CLOSED = (
    "the upload of this file is closed: the bid was withdrawn, or was still unfinished at "
    "the deadline; start a new bid"
)


@contextlib.contextmanager
def _upload_still_open() -> Iterator[None]:
    """Answer an upload the store no longer knows with a 409, not a server error.

    It was aborted meanwhile (:func:`abort_abandoned_uploads`): the bidder starts again.
    """
    try:
        yield
    except UploadNotFound as exc:
        raise Conflict(UPLOAD_CLOSED, code="upload_closed") from exc


def _store_part(store: ObjectStore, upload_id: str, number: int, data: bytes) -> str:
    """Hash a part and store it, off the event loop; returns its SHA-256."""
    digest = hashlib.sha256(data).hexdigest()
    with _upload_still_open():
        store.put_part(upload_id, number, data)
    return digest


async def abort_abandoned_uploads(store: ObjectStore) -> int:
    """Abort the store's uploads of files whose bid was withdrawn before it was submitted.

    A bid withdrawn by its bidder, or still uploading at the deadline (withdrawn by ETM
    Art. 28), can never be completed, but its parts stay in the store until the upload is
    aborted (S3 keeps, and bills, an unfinished multipart upload indefinitely). Run by the
    beat sweep; idempotent, and an upload the store cannot abort now is tried next time.
    Returns how many uploads were closed.
    """
    rows = await BidFile.select(BidFile.id, BidFile.upload_id).where(
        (BidFile.bid.status == "withdrawn") & (BidFile.sha256 == "") & (BidFile.upload_id != "")
    )
    closed = 0
    for row in rows:
        try:
            await anyio.to_thread.run_sync(store.abort_upload, row["upload_id"])
        except UploadNotFound:
            pass  # the store forgot it already: only our record of it is left
        except StorageError:
            log.warning("upload of bid file %s not aborted; the next sweep retries", row["id"])
            continue
        await BidFile.update({BidFile.upload_id: ""}).where(BidFile.id == row["id"])
        RUNNING_DIGESTS.forget(row["id"])
        closed += 1
    return closed


async def _check_envelope_header(lot_id: int, bidder_id: int, kind: str, first_part: bytes) -> None:
    """Refuse a file that is not a ZCB1 envelope for this lot, bidder and kind, at part 1.

    The first part always holds the whole header (a sealed file is at least the header plus
    one tag, and a header is at most 4 KiB), so a misaddressed or unencrypted file is
    refused before anything else of it is stored.
    """
    try:
        header = read_header(first_part)
    except EnvelopeError as exc:
        raise ValidationError(
            "{kind} file is not a sealed bid: {reason}",
            kind=file_kind(kind),
            reason=str(exc),
            field="body",
        ) from exc
    if header.context != _context(lot_id, bidder_id, kind):
        raise ValidationError(
            "{kind} file was sealed for lot {lot_id}, bidder {bidder_id} ({sealed_kind}), "
            "not for this bid",
            kind=file_kind(kind),
            lot_id=header.context.lot_id,
            bidder_id=header.context.bidder_id,
            sealed_kind=file_kind(header.context.kind),
            field="body",
        )
    opening = await opening_key_of(lot_id)
    if header.fingerprint.hex() != opening.fingerprint:
        raise ValidationError(
            "{kind} file was sealed to another opening key", kind=file_kind(kind), field="body"
        )


def _bid_no_longer_uploading(status: str) -> Conflict:
    """A bid no longer taking parts, one sentence per status so that each translates whole."""
    if status == "submitted":
        return Conflict("this bid is submitted; start a new bid to change it")
    if status == "superseded":
        return Conflict("this bid is superseded; start a new bid to change it")
    if status == "withdrawn":
        return Conflict("this bid is withdrawn; start a new bid to change it")
    return Conflict("this bid is {status}; start a new bid to change it", status=status)


def _bid_already(status: str) -> Conflict:
    """A bid that can no longer be submitted or withdrawn, one sentence per status."""
    if status == "submitted":
        return Conflict("this bid is already submitted")
    if status == "superseded":
        return Conflict("this bid is already superseded")
    if status == "withdrawn":
        return Conflict("this bid is already withdrawn")
    return Conflict("this bid is already {status}", status=status)


async def put_part(
    actor: Actor,
    bid_id: int,
    file_id: int,
    number: int,
    data: bytes,
    *,
    store: ObjectStore,
    clock: Clock = SYSTEM_CLOCK,
) -> dict[str, Any]:
    """Receive one part of a sealed file; a part sent again replaces the earlier one."""
    bid = await _own_bid(actor, bid_id)
    if bid.status != "uploading":
        raise _bid_no_longer_uploading(bid.status)
    await _open_lot_for_bids(bid.lot, clock.now())
    row = await BidFile.objects().where((BidFile.id == file_id) & (BidFile.bid == bid_id)).first()
    if row is None:
        raise NotFound("no file {file_id} in bid {bid_id}", file_id=file_id, bid_id=bid_id)
    parts = max(1, math.ceil(row.declared_size / PART_SIZE))
    if not 1 <= number <= parts:
        raise ValidationError("part number must be 1..{parts}", parts=parts, field="number")
    expected = PART_SIZE if number < parts else row.declared_size - PART_SIZE * (parts - 1)
    if len(data) != expected:
        raise ValidationError(
            "part {number} must be {expected} bytes, got {size}",
            number=number,
            expected=expected,
            size=len(data),
            field="body",
        )
    if number == 1:
        await _check_envelope_header(bid.lot, bid.bidder, row.kind, data)
    # A re-sent part's recorded hash stops counting before the store takes the new bytes: if
    # this request fails after the store write, no hash of the old bytes may vouch for them.
    await BidPart.update({BidPart.sha256: ""}).where(
        (BidPart.file == file_id) & (BidPart.number == number)
    )
    digest = await anyio.to_thread.run_sync(_store_part, store, row.upload_id, number, data)
    async with transaction(BidPart._meta.db):
        await BidPart.delete().where((BidPart.file == file_id) & (BidPart.number == number))
        await BidPart(
            file=file_id, number=number, size=len(data), sha256=digest, received_at=clock.now()
        ).save()
    if parts > 1:  # a one-part file's hash is its part's own (_complete_file)
        await anyio.to_thread.run_sync(RUNNING_DIGESTS.feed, file_id, number, data, digest)
    return {"file_id": file_id, "number": number, "size": len(data), "sha256": digest}


async def bid_progress(actor: Actor, bid_id: int) -> dict[str, Any]:
    """What has been received, so a client can resume where it stopped."""
    bid = await _own_bid(actor, bid_id)
    files = await BidFile.select().where(BidFile.bid == bid_id).order_by(BidFile.id)
    result = []
    for row in files:
        parts = (
            await BidPart.select(BidPart.number, BidPart.size)
            .where(BidPart.file == row["id"])
            .order_by(BidPart.number)
        )
        result.append(
            {
                "file_id": row["id"],
                "kind": row["kind"],
                "label": row["label"],
                "size": row["declared_size"],
                "parts_total": max(1, math.ceil(row["declared_size"] / PART_SIZE)),
                "parts_received": [p["number"] for p in parts],
                "sha256": row["sha256"],
            }
        )
    return {
        "bid_id": bid_id,
        "lot_id": bid.lot,
        "status": bid.status,
        "submitted_at": bid.submitted_at.isoformat() if bid.submitted_at else None,
        "part_size": PART_SIZE,
        "files": result,
    }


def _read_back_hash(store: ObjectStore, key: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in store.get(key):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


async def _complete_file(store: ObjectStore, row: BidFile) -> tuple[str, int]:
    """Join a file's parts into its write-once object; return the file's SHA-256 and size.

    The hash comes from the parts as they passed (one part: its own hash; several: this
    process's running hash, when it saw them all in order and the database records their
    hashes); otherwise the stored object is read back once. A re-sent part's hash is
    cleared before the store takes it (``put_part``), so either way the hash is that of
    what the store holds.
    """
    parts = (
        await BidPart.select(BidPart.size, BidPart.sha256)
        .where(BidPart.file == row.id)
        .order_by(BidPart.number)
    )
    known: tuple[str, int] | None = None
    if len(parts) == 1 and parts[0]["sha256"]:
        known = parts[0]["sha256"], parts[0]["size"]
    elif len(parts) > 1:  # an unknown part hash ("") never matches what was consumed
        known = RUNNING_DIGESTS.whole_file(row.id, [p["sha256"] for p in parts])
    with _upload_still_open():
        info = await anyio.to_thread.run_sync(
            partial(store.complete_upload, row.upload_id, write_once=True)
        )
    RUNNING_DIGESTS.forget(row.id)
    if known is None:
        known = await anyio.to_thread.run_sync(_read_back_hash, store, row.object_key)
    if info.size != known[1]:
        raise Conflict(
            "the stored {kind} file is {size} bytes, its parts {parts_size}: send the bid again",
            kind=file_kind(row.kind),
            size=info.size,
            parts_size=known[1],
        )
    return known


async def submit_bid(
    actor: Actor,
    bid_id: int,
    *,
    store: ObjectStore,
    signing_key: Ed25519PrivateKey,
    clock: Clock = SYSTEM_CLOCK,
) -> dict[str, Any]:
    """Complete every file and sign the receipt (each header was checked with its part 1).

    The submission counts only if it completes before the deadline; the previous bid of
    the same supplier for this lot, if any, is superseded (only the latest counts).
    """
    bid = await _own_bid(actor, bid_id)
    if bid.status != "uploading":
        raise _bid_already(bid.status)
    await _open_lot_for_bids(bid.lot, clock.now())
    files = await BidFile.objects().where(BidFile.bid == bid_id).order_by(BidFile.id)
    for row in files:
        parts = await BidPart.select(BidPart.number).where(BidPart.file == row.id)
        expected = max(1, math.ceil(row.declared_size / PART_SIZE))
        if {p["number"] for p in parts} != set(range(1, expected + 1)):
            raise Conflict(
                "file {file_id} ({kind}) is incomplete: {received} of {expected} parts received",
                file_id=row.id,
                kind=file_kind(row.kind),
                received=len(parts),
                expected=expected,
            )
    receipt_files = []
    for row in files:
        digest, size = await _complete_file(store, row)
        await BidFile.update({BidFile.sha256: digest, BidFile.size: size}).where(
            BidFile.id == row.id
        )
        receipt_files.append(
            ReceiptFile(kind=row.kind, object_key=row.object_key, sha256=digest, size=size)
        )
    now = clock.now()
    async with transaction(Bid._meta.db):
        await _open_lot_for_bids(bid.lot, now)
        previous = await Bid.select(Bid.id).where(
            (Bid.lot == bid.lot) & (Bid.bidder == bid.bidder) & (Bid.status == "submitted")
        )
        if previous and await inquiry_of_lot(bid.lot) is not None:
            raise Conflict(ONE_QUOTE, code="second_quote")
        await Bid.update({Bid.status: "superseded"}).where(
            Bid.id.is_in([p["id"] for p in previous] or [0])
        )
        # The receipt's number is the audit chain's own entry for this submission: unique
        # and ordered across the platform, checkable against the chain, and silent about
        # how many other bids the lot has (a per-lot count would tell the bidder that).
        sequence = await audit.record(
            "bid.submitted",
            actor=actor,
            subject_type="bid",
            subject_id=bid_id,
            payload={
                "lot_id": bid.lot,
                "received_at": now.isoformat(),
                "replaces": [p["id"] for p in previous],
                "files": [f.sha256 for f in receipt_files],
            },
            clock=clock,
        )
        receipt = sign_receipt(
            Receipt(
                lot_id=bid.lot,
                bidder_id=bid.bidder,
                bid_id=bid_id,
                sequence=sequence,
                received_at=now.isoformat(),
                files=receipt_files,
            ),
            signing_key,
        )
        await Bid.update(
            {
                Bid.status: "submitted",
                Bid.submitted_at: now,
                Bid.sequence: sequence,
                Bid.receipt: json.dumps(receipt, ensure_ascii=False),
            }
        ).where(Bid.id == bid_id)
    return receipt


async def withdraw_bid(actor: Actor, bid_id: int, *, clock: Clock = SYSTEM_CLOCK) -> None:
    """Withdraw a bid before the deadline (TBL Art. 29); it stays in the audit trail."""
    bid = await _own_bid(actor, bid_id)
    if bid.status not in {"uploading", "submitted"}:
        raise _bid_already(bid.status)
    if bid.status == "submitted" and await inquiry_of_lot(bid.lot) is not None:
        raise Conflict(ONE_QUOTE, code="quote_final")
    await _open_lot_for_bids(bid.lot, clock.now())
    await Bid.update({Bid.status: "withdrawn", Bid.withdrawn_at: clock.now()}).where(
        Bid.id == bid_id
    )
    await audit.record(
        "bid.withdrawn",
        actor=actor,
        subject_type="bid",
        subject_id=bid_id,
        payload={"lot_id": bid.lot},
        clock=clock,
    )


async def receipt_of(actor: Actor, bid_id: int) -> dict[str, Any]:
    """The signed receipt of the caller's own submitted bid."""
    bid = await _own_bid(actor, bid_id)
    if not bid.receipt:
        raise NotFound("this bid has no receipt: it was not submitted")
    document: dict[str, Any] = json.loads(bid.receipt)
    return document


def _lot_and_project_names(lot: Any) -> list[Any]:
    """Through a join to a lot: what pages show to name it and its project, in both languages."""
    return [
        lot.id.as_alias("lot_id"),
        lot.number.as_alias("lot_number"),
        lot.title.as_alias("lot_title"),
        lot.title_en.as_alias("lot_title_en"),
        lot.project.code.as_alias("project_code"),
        lot.project.title.as_alias("project_title"),
        lot.project.title_en.as_alias("project_title_en"),
    ]


#: Bids listed on a supplier's own overview, newest first.
MY_BIDS_LISTED = 200


async def my_bids_everywhere(actor: Actor) -> list[dict[str, Any]]:
    """The caller's organisation's bids on every lot, newest first, with lot and project.

    After the deadline the bid page is the only other way back to a receipt, and it is
    reached from the open tenders list, which no longer shows the lot.
    """
    if actor.organisation_id is None:
        return []
    lot: Any = Bid.lot  # piccolo types only one level of join
    return (
        await Bid.select(
            Bid.id,
            Bid.status,
            Bid.created_at,
            Bid.submitted_at,
            *_lot_and_project_names(lot),
            lot.status.as_alias("lot_status"),
            lot.failure_reason.as_alias("failure_reason"),
            lot.project.id.as_alias("project_id"),
        )
        .where(Bid.bidder == actor.organisation_id)
        .order_by(Bid.created_at, ascending=False)
        .limit(MY_BIDS_LISTED)
    )


async def my_bids(actor: Actor, lot_id: int) -> list[dict[str, Any]]:
    """The caller's own bids for a lot (nobody else learns a bid exists before opening)."""
    return (
        await Bid.select(Bid.id, Bid.status, Bid.created_at, Bid.submitted_at, Bid.sequence)
        .where((Bid.lot == lot_id) & (Bid.bidder == actor.organisation_id))
        .order_by(Bid.created_at)
        .order_by(Bid.id)
    )


# ---------------------------------------------------------------------------- opening


def opening_time_reached(status: str, opening_time: datetime, now: datetime) -> bool:
    """Whether custodians may fetch and release their shares of the lot's key at ``now``."""
    return now >= opening_time and LotStatus(status) is not LotStatus.PUBLISHED


async def _opening_time_reached(lot_id: int, now: datetime) -> Any:
    lot = await get_lot(lot_id)
    project = await get_project(lot.project)
    if not opening_time_reached(lot.status, project.opening_time, now):
        raise Conflict("the opening has not started yet")
    return lot


async def encrypted_share_for(
    actor: Actor, lot_id: int, *, clock: Clock = SYSTEM_CLOCK
) -> dict[str, Any]:
    """The caller's encrypted share, once the opening time has come."""
    if actor.role is not Role.CUSTODIAN:
        raise Forbidden("only key custodians hold shares")
    await _opening_time_reached(lot_id, clock.now())
    record = (
        await KeyShareRecord.objects()
        .where(
            (KeyShareRecord.opening_key.lot == lot_id) & (KeyShareRecord.custodian == actor.user_id)
        )
        .first()
    )
    if record is None:
        raise NotFound("you hold no share of this lot's key")
    return {
        "lot_id": lot_id,
        "custodian_id": actor.user_id,
        "index": record.share_index,
        "encrypted_share": base64.b64encode(bytes.fromhex(record.encrypted_share)).decode(),
        "released": bool(record.released_share),
    }


async def release_share(
    actor: Actor, lot_id: int, share_b64: str, *, clock: Clock = SYSTEM_CLOCK
) -> dict[str, int]:
    """A custodian releases its decrypted share at the opening; returns released/needed."""
    if actor.role is not Role.CUSTODIAN:
        raise Forbidden("only key custodians release shares")
    lot = await _opening_time_reached(lot_id, clock.now())
    if LotStatus(lot.status) is not LotStatus.BIDDING_CLOSED:
        raise Conflict(
            "this lot is {status}; shares are no longer needed",
            status=LotStatus(lot.status),  # the Chinese names it by label: {status:zh}
        )
    opening = await opening_key_of(lot_id)
    record = (
        await KeyShareRecord.objects()
        .where(
            (KeyShareRecord.opening_key == opening.id) & (KeyShareRecord.custodian == actor.user_id)
        )
        .first()
    )
    if record is None:
        raise Forbidden("you hold no share of this lot's key")
    try:
        share = KeyShare.from_bytes(base64.b64decode(share_b64, validate=True))
    except (ValueError, KeyCustodyError) as exc:
        raise ValidationError("this is not a decrypted key share", field="share") from exc
    if share.lot_id != str(lot_id) or share.fingerprint != opening.fingerprint:
        raise ValidationError("this share belongs to another lot's key", field="share")
    if share.index != record.share_index:
        raise ValidationError("this is not your share of this lot's key", field="share")
    await KeyShareRecord.update(
        {
            KeyShareRecord.released_share: share.to_bytes().hex(),
            KeyShareRecord.released_at: clock.now(),
        }
    ).where(KeyShareRecord.id == record.id)
    await audit.record(
        "opening.share_released",
        actor=actor,
        subject_type="lot",
        subject_id=lot_id,
        payload={"index": share.index},
        clock=clock,
    )
    released = await KeyShareRecord.count().where(
        (KeyShareRecord.opening_key == opening.id) & (KeyShareRecord.released_share != "")
    )
    return {"released": released, "threshold": opening.threshold}


async def _rebuild_key(opening: OpeningKey, master: bytes) -> Any:
    if opening.mode == "platform" or opening.wrapped_private_key:
        return unwrap_opening_key(
            bytes.fromhex(opening.wrapped_private_key), master, str(opening.lot)
        )
    rows = await KeyShareRecord.select(KeyShareRecord.released_share).where(
        (KeyShareRecord.opening_key == opening.id) & (KeyShareRecord.released_share != "")
    )
    shares = [KeyShare.from_bytes(bytes.fromhex(r["released_share"])) for r in rows]
    return combine_shares(
        shares,
        lot_id=str(opening.lot),
        public_key=load_public_key(bytes.fromhex(opening.public_key)),
    )


def open_stored_file(
    store: ObjectStore,
    key: str,
    sha256: str,
    size: int,
    private_key: Any,
    context: EnvelopeContext,
    keep: bool,
) -> bytes:
    """Verify a stored sealed file against its receipt hash and decrypt it, streaming.

    Returns the plaintext when ``keep`` (the small price declaration), else nothing.
    """
    digest = hashlib.sha256()
    received = 0
    kept = bytearray()
    # The hash is taken as the chunks pass; the opening overlaps it with other bids'
    # downloads by opening BIDS_OPENED_AT_ONCE bids at a time (hashlib releases the GIL),
    # which beat hashing on a thread of each file's own.

    def hashed() -> Iterator[bytes]:
        nonlocal received
        for chunk in store.get(key):
            digest.update(chunk)
            received += len(chunk)
            yield chunk

    def receipt_matches() -> bool:
        return received == size and digest.hexdigest() == sha256

    source = hashed()
    try:
        for plain in open_sealed(source, opening_private_key=private_key, expected_context=context):
            if keep:
                kept += plain
                if len(kept) > 1 << 20:
                    raise InvalidDeclaration("the price declaration is larger than 1 MiB")
    except EnvelopeError as failure:
        # whose fault: finish hashing what the store holds and compare it with the receipt
        for _ in source:
            pass
        if not receipt_matches():
            raise StoredCopyDamaged(
                "the stored ciphertext does not match the receipt's hash"
            ) from failure
        raise
    if not receipt_matches():
        raise StoredCopyDamaged("the stored ciphertext does not match the receipt's hash")
    return bytes(kept)


class StoredCopyDamaged(EnvelopeError):
    """The stored ciphertext is not what the receipt says was received: not the bidder's fault."""


class InvalidDeclaration(EnvelopeError):
    """The price declaration opened but does not state a positive total: as the bidder sealed it."""


class InvalidBidCause(StrEnum):
    """Why a bid was invalid at the opening, as a code the opening record shows in either language.

    The exception's own text stays beside it as the technical detail; the code is what the
    public opening record (唱标, RULES §3) reads out.
    """

    MALFORMED_SEALED_FILE = "malformed_sealed_file"
    SEALED_FOR_ANOTHER_BID = "sealed_for_another_bid"
    SEALED_TO_ANOTHER_KEY = "sealed_to_another_key"
    FAILED_INTEGRITY_CHECK = "failed_integrity_check"
    INVALID_PRICE_DECLARATION = "invalid_price_declaration"
    STORED_COPY_DAMAGED = "stored_copy_damaged"
    STORED_COPY_MISSING = "stored_copy_missing"


def invalid_cause(failure: EnvelopeError) -> InvalidBidCause:
    """The code for a bid that failed to open with ``failure``."""
    match failure:
        case StoredCopyDamaged():
            return InvalidBidCause.STORED_COPY_DAMAGED
        case InvalidDeclaration():
            return InvalidBidCause.INVALID_PRICE_DECLARATION
        case WrongContext():
            return InvalidBidCause.SEALED_FOR_ANOTHER_BID
        case WrongKey():
            return InvalidBidCause.SEALED_TO_ANOTHER_KEY
        case TamperedEnvelope():
            return InvalidBidCause.FAILED_INTEGRITY_CHECK
        case _:
            return InvalidBidCause.MALFORMED_SEALED_FILE


#: How an invalid bid is treated (RULES §3, ETM Art. 31): the bidder's cause → revoked (撤销);
#: any other cause → withdrawn (撤回), the bond refunded.
DEEMED_REVOKED = "revoked"
DEEMED_WITHDRAWN = "withdrawn"


def parse_declaration(plaintext: bytes) -> tuple[int, dict[str, Any]]:
    """The declared total in fen from the price declaration JSON ``{"total": "…"}``."""
    try:
        doc = json.loads(plaintext)
        total = parse_yuan(str(doc["total"]))
    except (ValueError, KeyError, TypeError, MoneyError, InvalidOperation) as exc:
        raise InvalidDeclaration("the price declaration is not valid") from exc
    if total <= Decimal(0):
        raise InvalidDeclaration("the declared price must be positive")
    return yuan_to_fen(total), doc


async def open_lot(
    lot_id: int, *, store: ObjectStore, master: bytes, clock: Clock = SYSTEM_CLOCK
) -> str:
    """Open every bid of a lot (开标); idempotent and resumable bid by bid.

    Returns what happened: "waiting" (not enough shares), "opened", "failed" or "done".
    """
    lot = await get_lot(lot_id)
    if LotStatus(lot.status) is not LotStatus.BIDDING_CLOSED:
        return "done"
    opening = await opening_key_of(lot_id)
    try:
        private_key = await _rebuild_key(opening, master)
    except KeyCustodyError as exc:
        if "released" in str(exc) or "no shares" in str(exc):
            return "waiting"
        await audit.record(
            "opening.key_rebuild_failed",
            subject_type="lot",
            subject_id=lot_id,
            payload={"reason": str(exc)},
            clock=clock,
        )
        return "waiting"
    bids = (
        await Bid.objects()
        .where((Bid.lot == lot_id) & (Bid.status == "submitted"))
        .order_by(Bid.sequence)
    )
    pending = [
        bid for bid in bids if not await OpeningRecord.exists().where(OpeningRecord.bid == bid.id)
    ]
    await _open_in_bid_order(
        pending,
        partial(_open_bid, lot_id, store=store, private_key=private_key),
        partial(_record_opened_bid, lot_id, clock=clock),
    )
    # keep the key for evaluators, wrapped: documents stay encrypted at rest
    await OpeningKey.update(
        {
            OpeningKey.wrapped_private_key: wrap_opening_key(
                private_key, master, str(lot_id)
            ).hex(),
            OpeningKey.opened_at: clock.now(),
        }
    ).where(OpeningKey.id == opening.id)
    valid = await OpeningRecord.count().where(
        (OpeningRecord.lot == lot_id) & (OpeningRecord.outcome == "opened")
    )
    try:
        await transition_lot(
            lot_id, LotEvent.OPEN, clock=clock, payload={"bids": len(bids), "valid": valid}
        )
    except Conflict:
        return "done"  # a concurrent runner finished the opening first
    if valid < MIN_BIDS:
        await transition_lot(
            lot_id,
            LotEvent.FAIL,
            clock=clock,
            failure_reason=FailureReason.TOO_FEW_VALID,
            payload={"valid": valid},
        )
        await _failure_notice(lot_id, FailureReason.TOO_FEW_VALID, clock)
        return "failed"
    return "opened"


BIDS_OPENED_AT_ONCE = 3
"""Bids decrypted at once, each on its own thread: downloads overlap hashing (bench/opening.py)."""


@dataclass(frozen=True)
class _BidOpened:
    """What the opening found in one bid, as its opening record states it."""

    outcome: str
    reason: str = ""
    price: int | None = None
    declaration: str = ""
    deemed: str = ""
    cause: InvalidBidCause | None = None


async def _open_in_bid_order(
    bids: list[Bid],
    open_bid: Callable[[Bid], Awaitable[_BidOpened]],
    record: Callable[[Bid, _BidOpened], Awaitable[None]],
) -> None:
    """Open ``BIDS_OPENED_AT_ONCE`` bids at a time and record each in the bids' order.

    Records keep the order of submission whatever finishes first, and a failure (the store
    out of reach) stops the opening at that bid, with every bid before it recorded: a
    later run goes on from there.
    """
    results: dict[int, _BidOpened | Exception] = {}
    ready = {bid.id: anyio.Event() for bid in bids}
    at_once = anyio.CapacityLimiter(BIDS_OPENED_AT_ONCE)

    async def open_one(bid: Bid) -> None:
        try:
            async with at_once:
                results[bid.id] = await open_bid(bid)
        except Exception as exc:  # raised by the recorder, in the bids' order
            results[bid.id] = exc
        finally:
            ready[bid.id].set()

    failure: Exception | None = None
    async with anyio.create_task_group() as group:
        for bid in bids:
            group.start_soon(open_one, bid)
        for bid in bids:
            await ready[bid.id].wait()
            result = results.pop(bid.id)
            try:
                if isinstance(result, Exception):
                    raise result
                await record(bid, result)
            except Exception as exc:  # leaves the group unwrapped, once the others stop
                failure = exc
                group.cancel_scope.cancel()
                break
    if failure is not None:
        raise failure


async def _open_bid(lot_id: int, bid: Bid, *, store: ObjectStore, private_key: Any) -> _BidOpened:
    """Decrypt and verify every file of a bid; an invalid bid is an outcome, not an error.

    StorageUnavailable (network, disk) propagates: nothing is recorded for this bid and the
    task or the sweep opens it later, never declaring it invalid for an outage.
    """
    files = await BidFile.objects().where(BidFile.bid == bid.id).order_by(BidFile.id)
    price: int | None = None
    declaration = ""
    try:
        for row in files:
            plain = await anyio.to_thread.run_sync(
                partial(
                    open_stored_file,
                    store,
                    row.object_key,
                    row.sha256,
                    row.size,
                    private_key,
                    _context(lot_id, bid.bidder, row.kind),
                    keep=row.kind == "price",
                )
            )
            if row.kind == "price":
                price, doc = parse_declaration(plain)
                declaration = json.dumps(doc, ensure_ascii=False)
    except StoredCopyDamaged as exc:
        return _BidOpened("invalid", str(exc), deemed=DEEMED_WITHDRAWN, cause=invalid_cause(exc))
    except EnvelopeError as exc:
        # the copy is the one received, yet it does not open: as the bidder sealed it
        return _BidOpened("invalid", str(exc), deemed=DEEMED_REVOKED, cause=invalid_cause(exc))
    except ObjectNotFound:
        # the receipt names an object the store no longer has: the bid cannot be read
        return _BidOpened(
            "invalid",
            "the stored ciphertext is missing",
            deemed=DEEMED_WITHDRAWN,
            cause=InvalidBidCause.STORED_COPY_MISSING,
        )
    return _BidOpened("opened", price=price, declaration=declaration)


async def _record_opened_bid(lot_id: int, bid: Bid, opened: _BidOpened, *, clock: Clock) -> None:
    """Write a bid's opening record and its audit entry, once whoever runs the opening."""
    try:
        async with transaction(OpeningRecord._meta.db):
            await OpeningRecord(
                lot=lot_id,
                bid=bid.id,
                bidder=bid.bidder,
                submitted_at=bid.submitted_at,
                outcome=opened.outcome,
                cause=opened.cause or "",
                reason=opened.reason,
                declared_price_fen=opened.price,
                declaration=opened.declaration,
                opened_at=clock.now(),
                deemed=opened.deemed,
            ).save()
            await audit.record(
                "opening.bid_" + opened.outcome,
                subject_type="bid",
                subject_id=bid.id,
                payload={
                    "lot_id": lot_id,
                    "cause": opened.cause,
                    "reason": opened.reason,
                    "declared_price_fen": opened.price,
                    "deemed": opened.deemed,
                },
                clock=clock,
            )
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        # the exact-time task and the sweep may open the same lot at once: the other
        # runner recorded this bid first, with the same outcome


async def _failure_notice(lot_id: int, reason: FailureReason, clock: Clock) -> None:
    from procurement.notices import NoticeKind, publish_notice
    from procurement.results import FAILURE_TEXT

    lot = await get_lot(lot_id)
    project = await get_project(lot.project)
    zh, en = FAILURE_TEXT[reason]
    await publish_notice(
        project_id=project.id,
        lot_id=lot_id,
        kind=NoticeKind.FAILURE,
        title=f"{project.title} 废标公告（标段{lot.number}）",
        title_en=f"{project.title_en or project.title} — failure notice (lot {lot.number})",
        body=f"废标原因：{zh}。",
        body_en=f"Reason: {en}.",
        clock=clock,
    )


async def on_bidding_closed(lot_id: int, *, clock: Clock = SYSTEM_CLOCK) -> str:
    """At the deadline: withdraw unfinished uploads; fewer than 3 bids → no opening.

    Uploads not completed by the deadline count as withdrawn (ETM Art. 28).
    """
    await Bid.update({Bid.status: "withdrawn", Bid.withdrawn_at: clock.now()}).where(
        (Bid.lot == lot_id) & (Bid.status == "uploading")
    )
    submitted = await Bid.count().where((Bid.lot == lot_id) & (Bid.status == "submitted"))
    if submitted < MIN_BIDS:
        await record_failure(
            lot_id,
            FailureReason.TOO_FEW_BIDS,
            clock=clock,
            explanation=f"投标截止时共收到{submitted}份投标文件。"
            f" ({submitted} bids were received by the deadline.)",
        )
        return "failed"
    return "closed"


async def lots_ready_to_open() -> list[int]:
    """Closed lots that can be opened now: platform-sealed, or with k shares released."""
    from procurement.tables import Lot

    closed = await Lot.select(Lot.id).where(Lot.status == LotStatus.BIDDING_CLOSED)
    ready = []
    for row in closed:
        opening = await OpeningKey.objects().where(OpeningKey.lot == row["id"]).first()
        if opening is None:
            continue
        if opening.mode == "platform":
            ready.append(int(row["id"]))
            continue
        released = await KeyShareRecord.count().where(
            (KeyShareRecord.opening_key == opening.id) & (KeyShareRecord.released_share != "")
        )
        if released >= opening.threshold:
            ready.append(int(row["id"]))
    return ready


async def opening_record(lot_id: int) -> dict[str, Any]:
    """The public opening record (唱标): every bid received, its time, hash and price."""
    lot = await get_lot(lot_id)
    if LotStatus(lot.status) in {LotStatus.DRAFT, LotStatus.PUBLISHED, LotStatus.BIDDING_CLOSED}:
        raise NotFound("the opening record is published after the opening")
    rows = (
        await OpeningRecord.select(
            OpeningRecord.bid,
            OpeningRecord.outcome,
            OpeningRecord.cause,
            OpeningRecord.reason,
            OpeningRecord.deemed,
            OpeningRecord.declared_price_fen,
            OpeningRecord.submitted_at,
            OpeningRecord.opened_at,
            OpeningRecord.bidder.name.as_alias("bidder_name"),
            OpeningRecord.bidder.name_en.as_alias("bidder_name_en"),
        )
        .where(OpeningRecord.lot == lot_id)
        .order_by(OpeningRecord.submitted_at)
    )
    for row in rows:
        files = (
            await BidFile.select(BidFile.id, BidFile.kind, BidFile.sha256, BidFile.size)
            .where(BidFile.bid == row["bid"])
            .order_by(BidFile.id)
        )
        row["files"] = files
    opening = await OpeningKey.objects().where(OpeningKey.lot == lot_id).first()
    return {
        "lot_id": lot_id,
        "status": lot.status,
        "failure_reason": lot.failure_reason,
        "opened_at": opening.opened_at if opening else None,
        "bids": rows,
    }


async def custodian_lots(actor: Actor, now: datetime) -> list[dict[str, Any]]:
    """The lots whose key this custodian holds a share of, with their opening state.

    ``can_release``: the opening time has come and the key is still needed, the two tests
    :func:`release_share` applies, so the page offers the release only when it can work.
    """
    lot: Any = KeyShareRecord.opening_key.lot  # piccolo types only one level of join
    rows = (
        await KeyShareRecord.select(
            KeyShareRecord.share_index,
            KeyShareRecord.released_at,
            *_lot_and_project_names(lot),
            lot.status.as_alias("status"),
            lot.project.opening_time.as_alias("opening_time"),
            KeyShareRecord.opening_key.threshold.as_alias("threshold"),
        )
        .where(KeyShareRecord.custodian == actor.user_id)
        .order_by(KeyShareRecord.id, ascending=False)
    )
    for row in rows:
        row["can_release"] = (
            row["released_at"] is None
            and opening_time_reached(row["status"], as_aware(row["opening_time"]), now)
            and row["status"] == LotStatus.BIDDING_CLOSED.value
        )
    return rows


async def is_custodian(user_id: int) -> bool:
    """Whether the user has registered a custodian key."""
    return await CustodianKey.exists().where(CustodianKey.user == user_id)


def price_declaration(total: Decimal, items: list[dict[str, Any]] | None = None) -> bytes:
    """The plaintext of the sealed price declaration: ``{"total": "…", "items": [...]}``."""
    return json.dumps({"total": str(total), "items": items or []}, ensure_ascii=False).encode()


def iter_parts(chunks: Iterable[bytes], part_size: int = PART_SIZE) -> Iterator[bytes]:
    """Regroup a ciphertext stream into upload parts of exactly ``part_size`` (last shorter)."""
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= part_size:
            yield bytes(buffer[:part_size])
            del buffer[:part_size]
    if buffer:
        yield bytes(buffer)


async def submit_sealed_bid(
    actor: Actor,
    lot_id: int,
    price: Decimal,
    documents: dict[str, bytes],
    *,
    store: ObjectStore,
    signing_key: Ed25519PrivateKey,
    clock: Clock = SYSTEM_CLOCK,
) -> dict[str, Any]:
    """Seal and submit a whole bid in this process (demo data and tests).

    Real bidders seal on their own machine (browser or ``zhaocai bid submit``); this goes
    through the same services with the same envelope.
    """
    files = [("price", "", price_declaration(price))]
    files += [(kind, "", data) for kind, data in documents.items()]
    return await seal_and_submit(
        actor, lot_id, files, store=store, signing_key=signing_key, clock=clock
    )


async def seal_and_submit(
    actor: Actor,
    lot_id: int,
    files: list[tuple[str, str, bytes]],
    *,
    store: ObjectStore,
    signing_key: Ed25519PrivateKey,
    clock: Clock = SYSTEM_CLOCK,
) -> dict[str, Any]:
    """Seal (kind, label, plaintext) files to the lot's key and submit them as one bid.

    The plaintext lives only in this call's memory; what is stored is the envelope, through
    the same start / part / submit steps a remote client uses.
    """
    opening = await public_opening_key(lot_id)
    public = load_public_key(base64.b64decode(opening["public_key"]))
    assert actor.organisation_id is not None  # noqa: S101 - a supplier's user
    sealed = [
        (
            kind,
            label,
            b"".join(
                seal(
                    [data],
                    opening_public_key=public,
                    context=_context(lot_id, actor.organisation_id, kind),
                )
            ),
        )
        for kind, label, data in files
    ]
    started = await start_bid(
        actor,
        lot_id,
        [FileSpec(kind=kind, size=len(data), label=label) for kind, label, data in sealed],
        store=store,
        clock=clock,
    )
    for spec, (_, _, data) in zip(started["files"], sealed, strict=True):
        for number, part in enumerate(iter_parts([data]), start=1):
            await put_part(
                actor, started["bid_id"], spec["file_id"], number, part, store=store, clock=clock
            )
    return await submit_bid(
        actor, started["bid_id"], store=store, signing_key=signing_key, clock=clock
    )


#: Lot states in which opened bids' documents may be read (after the opening).
READABLE_STATES = {LotStatus.OPENED, LotStatus.EVALUATING, LotStatus.AWARDED, LotStatus.FAILED}


async def open_bid_document(
    actor: Actor, file_id: int, *, store: ObjectStore, master: bytes
) -> tuple[BidFile, Iterator[bytes]]:
    """Decrypt an opened bid's file for the lot's purchaser, streaming (never stored clear).

    Only after the opening, only bids recorded as opened, only the purchasing unit that
    owns the project (the evaluation committee gets its own access in evaluation).
    """
    row = await BidFile.objects().where(BidFile.id == file_id).first()
    if row is None:
        raise NotFound("no bid file with id {file_id}", file_id=file_id)
    bid = await Bid.objects().where(Bid.id == row.bid).first()
    assert bid is not None  # noqa: S101 - a file belongs to a bid
    lot = await get_lot(bid.lot)
    project = await get_project(lot.project)
    if actor.role is not Role.PURCHASER or actor.organisation_id != project.purchaser:
        raise Forbidden("only the purchasing unit of this project reads its bids")
    record = await OpeningRecord.objects().where(OpeningRecord.bid == bid.id).first()
    if LotStatus(lot.status) not in READABLE_STATES or record is None:
        raise Forbidden("bid documents can be read only after the opening")
    if record.outcome != "opened":
        raise Conflict("this bid failed verification at the opening and cannot be read")
    opening = await opening_key_of(lot.id)
    key = unwrap_opening_key(bytes.fromhex(opening.wrapped_private_key), master, str(lot.id))
    await audit.record(
        "bid.document_read",
        actor=actor,
        subject_type="bid_file",
        subject_id=file_id,
        payload={"lot_id": lot.id, "bid_id": bid.id},
    )
    context = _context(lot.id, bid.bidder, row.kind)
    return row, open_sealed(
        store.get(row.object_key), opening_private_key=key, expected_context=context
    )
