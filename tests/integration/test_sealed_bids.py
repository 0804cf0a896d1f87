"""Sealed bids over HTTP against the served app and a real worker (PostgreSQL, S3, Redis).

Bidders seal on their side with the client (``zhaocai bid``), upload in parts, replace a
bid, get signed receipts; a late bid is refused on the server clock; custodians release
their shares with their own key files; the worker opens the bids and publishes the record.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import re
import subprocess
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from bidding.client import ClientError, ZhaocaiClient
from bidding.envelope import EnvelopeContext, load_public_key, seal
from bidding.keys import (
    KeyShare,
    NotEnoughShares,
    combine_shares,
    decrypt_share,
    export_custodian_key,
)
from bidding.tables import Bid, BidFile, BidPart, KeyShareRecord, OpeningKey, OpeningRecord
from procurement.clock import SYSTEM_CLOCK
from procurement.lifecycle import FailureReason
from procurement.roles import Actor, Role
from procurement.settings import Settings
from procurement.tables import AuditEntry, Lot
from storage import ObjectStore
from tests.conftest import run_cli
from tests.factories import (
    CUSTODIAN_KEYS,
    PASSWORD,
    actor,
    custodians,
    login,
    published_project,
    started_bid_with_its_part,
    wait_for_lot,
    wait_for_upload_closed,
)

pytestmark = pytest.mark.integration
PASSPHRASE = "custodian passphrase 2026"


async def lot_of(project_id: int) -> Lot:
    lot = await Lot.objects().where(Lot.project == project_id).first()
    assert lot is not None
    return lot


async def fetch(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.get(url)


def client(live_server: str, who: Actor) -> ZhaocaiClient:
    return ZhaocaiClient.login(live_server, who.username, PASSWORD)


def bid(
    live_server: str,
    who: Actor,
    lot_id: int,
    price: str,
    tmp: Path,
    document: bytes = b"technical proposal",
) -> dict[str, object]:
    source = tmp / f"{who.username}-{price}.pdf"
    source.write_bytes(document)
    session = client(live_server, who)
    workdir = tmp / f"work-{who.username}-{price}"
    session.seal_bid(lot_id, Decimal(price), {"technical": source}, workdir)
    return session.upload_bid(workdir)


async def test_bids_are_sealed_received_replaced_refused_late_and_opened(
    app: Litestar,
    settings: Settings,
    live_server: str,
    celery_worker: subprocess.Popen[bytes],
    tmp_path: Path,
) -> None:
    purchaser = await actor(Role.PURCHASER)
    keepers = await custodians()
    suppliers = [await actor(Role.BIDDER) for _ in range(4)]
    deadline = SYSTEM_CLOCK.now() + timedelta(seconds=20)
    project_id = await published_project(purchaser, deadline=deadline)
    lot = await lot_of(project_id)

    receipts = [
        await asyncio.to_thread(bid, live_server, s, lot.id, p, tmp_path)
        for s, p in zip(suppliers[:3], ["980000.00", "955000.50", "1010000.00"], strict=True)
    ]
    replaced = await asyncio.to_thread(
        bid, live_server, suppliers[2], lot.id, "940000.00", tmp_path
    )
    # each receipt's number is its submission's entry in the audit chain, not a count of
    # the lot's bids (which would tell a bidder how many others had bid)
    submitted = await AuditEntry.select(AuditEntry.seq, AuditEntry.subject_id).where(
        AuditEntry.action == "bid.submitted"
    )
    entry_of_bid = {int(e["subject_id"]): int(e["seq"]) for e in submitted}
    sequences = [r["receipt"]["sequence"] for r in [*receipts, replaced]]  # type: ignore[index]
    bid_ids = [r["receipt"]["bid_id"] for r in [*receipts, replaced]]  # type: ignore[index]
    assert sequences == [entry_of_bid[b] for b in bid_ids]
    assert sequences == sorted(sequences)
    assert sequences[0] > 1  # other entries (logins, the publication) came first
    assert await Bid.count().where(Bid.status == "superseded") == 1

    # the receipt verifies offline against the published key
    pem = tmp_path / "platform.pem"
    pem.write_bytes((await fetch(live_server + "/.well-known/zhaocai-receipt-key.pem")).content)
    receipt_file = tmp_path / f"work-{suppliers[0].username}-980000.00" / "receipt.json"
    verified = run_cli(settings, "receipt", "verify", str(receipt_file), "--key", str(pem))
    assert "receipt valid" in verified.stdout
    forged = receipt_file.read_text().replace(
        f'"sequence": {sequences[0]}', f'"sequence": {sequences[0] + 1}'
    )
    assert forged != receipt_file.read_text()
    forged_file = tmp_path / "forged.json"
    forged_file.write_text(forged)
    assert (
        run_cli(
            settings, "receipt", "verify", str(forged_file), "--key", str(pem), check=False
        ).returncode
        == 1
    )

    # nobody learns bids exist, no share or record leaves before the opening
    with pytest.raises(ClientError, match="409"):
        client(live_server, keepers[0]).get(f"/api/opening/lots/{lot.id}/share")
    assert (await fetch(f"{live_server}/api/public/lots/{lot.id}/opening")).status_code == 404
    # the client reads refusals in its user's language: English here, Chinese when asked
    with pytest.raises(ClientError, match=r"^404: the opening record is published after"):
        client(live_server, suppliers[3]).get(f"/api/public/lots/{lot.id}/opening")
    chinese = ZhaocaiClient.login(live_server, suppliers[3].username, PASSWORD, language="zh")
    with pytest.raises(ClientError, match=r"^404: 开标记录于开标后公布$"):
        chinese.get(f"/api/public/lots/{lot.id}/opening")
    other = client(live_server, suppliers[3])
    with pytest.raises(ClientError, match="404"):
        other.get(f"/api/bids/{receipts[0]['receipt']['bid_id']}")  # type: ignore[index]

    # wait for the deadline: a late bid is refused by the server clock
    assert await wait_for_lot(lot.id, {"bidding_closed"}) == "bidding_closed"
    # the refusal names the deadline as bidders know it, in China time
    late = r"409: the bid deadline \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(UTC\+8\) has passed"
    with pytest.raises(ClientError, match=late):
        await asyncio.to_thread(bid, live_server, suppliers[3], lot.id, "900000.00", tmp_path)

    # two custodians release their shares from their own key files
    for keeper in keepers[:2]:
        key_file = tmp_path / f"{keeper.username}.json"
        key_file.write_bytes(
            export_custodian_key(CUSTODIAN_KEYS[int(keeper.user_id or 0)], PASSPHRASE)
        )
        await asyncio.to_thread(
            client(live_server, keeper).release_share, lot.id, key_file, PASSPHRASE
        )
    assert await wait_for_lot(lot.id, {"opened", "failed"}) == "opened"
    record = (await fetch(f"{live_server}/api/public/lots/{lot.id}/opening")).json()
    prices = sorted(b["declared_price_fen"] for b in record["bids"])
    assert prices == [94_000_000, 95_500_050, 98_000_000]
    assert {b["outcome"] for b in record["bids"]} == {"opened"}
    page = await fetch(f"{live_server}/lots/{lot.id}/opening?lang=en")
    assert "955,000.50" in page.text


async def test_tampered_ciphertext_is_recorded_invalid_and_the_lot_fails(
    app: Litestar, settings: Settings, tmp_path: Path, client: AsyncTestClient[Litestar]
) -> None:
    from bidding.platform_keys import master_key, signing_key
    from bidding.services import open_lot, submit_sealed_bid
    from bidding.tables import OpeningRecord
    from procurement.clock import FixedClock
    from procurement.projects import close_lot_if_due

    store = app.state.object_store
    purchaser = await actor(Role.PURCHASER)
    suppliers = [await actor(Role.BIDDER) for _ in range(3)]
    deadline = SYSTEM_CLOCK.now() + timedelta(days=30)
    project_id = await published_project(purchaser, deadline=deadline, custody_mode="platform")
    lot = await lot_of(project_id)
    before = FixedClock(deadline - timedelta(hours=1))
    for supplier, price in zip(suppliers, ["100.00", "200.00", "300.00"], strict=True):
        await submit_sealed_bid(
            supplier,
            lot.id,
            Decimal(price),
            {"technical": b"x" * 5000},
            store=store,
            signing_key=signing_key(settings),
            clock=before,
        )
    # an operator flips one byte of one stored ciphertext
    victim = await BidFile.objects().where(BidFile.kind == "technical").first()
    assert victim is not None
    data = bytearray(b"".join(store.get(victim.object_key)))
    data[len(data) // 2] ^= 0x01
    await asyncio.to_thread(_overwrite, store, victim.object_key, bytes(data))
    after = FixedClock(deadline + timedelta(minutes=1))
    assert await close_lot_if_due(lot.id, clock=after)
    outcome = await open_lot(lot.id, store=store, master=master_key(settings), clock=after)
    # 2 valid bids left: too few (GPL Art. 36); the session worker's sweep may be first
    assert outcome in {"failed", "done"}
    invalid = await OpeningRecord.objects().where(OpeningRecord.outcome == "invalid").first()
    assert invalid is not None
    assert "hash" in invalid.reason
    assert invalid.cause == "stored_copy_damaged"
    assert invalid.deemed == "withdrawn"  # the stored copy was damaged: not the bidder's fault
    assert await OpeningRecord.count() == 3
    refreshed = await lot_of(project_id)
    assert refreshed.failure_reason == "TOO_FEW_VALID"
    assert (
        await open_lot(lot.id, store=store, master=master_key(settings), clock=after) == "done"
    )  # idempotent
    # the public record and the purchaser's page give the reason in words, not its code
    published = (await client.get(f"/lots/{lot.id}/opening?lang=en")).text
    assert FailureReason.TOO_FEW_VALID.label_en in published
    # and why the bid is invalid: its cause in words, the technical detail beside it in English
    assert '>Stored copy damaged</span> <span class="muted">(the stored ciphertext' in published
    chinese = (await client.get(f"/lots/{lot.id}/opening?lang=zh")).text
    assert ">存储的密文与回执不符</span>" in chinese
    assert "(the stored ciphertext" not in chinese  # only on hover, in the title
    await login(client, purchaser.username)
    own_page = (await client.get(f"/purchaser/projects/{project_id}?lang=zh")).text
    assert FailureReason.TOO_FEW_VALID.label_zh in own_page
    assert "TOO_FEW_VALID" not in published + own_page
    assert f"/purchaser/projects/{project_id}/cancel" not in own_page  # nothing left to cancel


def _overwrite(store: object, key: str, data: bytes) -> None:
    """Replace an object behind the platform's back, as an attacker with storage access."""
    from storage import LocalObjectStore, S3ObjectStore

    if isinstance(store, S3ObjectStore):
        import io

        store.client.put_object(store.bucket, key, io.BytesIO(data), len(data))
    elif isinstance(store, LocalObjectStore):
        path = store.root / key
        path.chmod(0o644)
        path.write_bytes(data)


async def test_with_every_row_and_object_but_one_custodian_key_no_bid_opens(app: Litestar) -> None:
    purchaser = await actor(Role.PURCHASER)
    keepers = await custodians()
    project_id = await published_project(purchaser)
    lot = await lot_of(project_id)
    opening = await OpeningKey.objects().where(OpeningKey.lot == lot.id).first()
    assert opening is not None
    assert opening.wrapped_private_key == ""  # the platform holds no usable private key
    record = (
        await KeyShareRecord.objects().where(KeyShareRecord.custodian == keepers[0].user_id).first()
    )
    assert record is not None
    share = decrypt_share(
        bytes.fromhex(record.encrypted_share),
        CUSTODIAN_KEYS[int(keepers[0].user_id or 0)],
        lot_id=str(lot.id),
        custodian_id=str(keepers[0].user_id),
    )
    with pytest.raises(NotEnoughShares):
        combine_shares(
            [KeyShare.from_bytes(share)],
            lot_id=str(lot.id),
            public_key=load_public_key(bytes.fromhex(opening.public_key)),
        )


async def test_a_bid_sealed_for_another_lot_is_refused(app: Litestar, settings: Settings) -> None:
    from bidding.platform_keys import signing_key
    from bidding.services import FileSpec, public_opening_key, put_part, start_bid, submit_bid
    from procurement.exceptions import Conflict, ValidationError

    store = app.state.object_store
    purchaser = await actor(Role.PURCHASER)
    supplier = await actor(Role.BIDDER)
    project_id = await published_project(purchaser)
    lot = await lot_of(project_id)
    key = await public_opening_key(lot.id)
    public = load_public_key(base64.b64decode(key["public_key"]))
    wrong = EnvelopeContext(
        lot_id=str(lot.id + 1000), bidder_id=str(supplier.organisation_id), kind="price"
    )
    blob = b"".join(seal([b'{"total": "1.00"}'], opening_public_key=public, context=wrong))
    started = await start_bid(
        supplier, lot.id, [FileSpec(kind="price", size=len(blob))], store=store
    )
    file_id = started["files"][0]["file_id"]
    with pytest.raises(ValidationError, match="must be"):
        await put_part(supplier, started["bid_id"], file_id, 1, blob[:-1], store=store)
    with pytest.raises(ValidationError, match="sealed for lot"):
        await put_part(supplier, started["bid_id"], file_id, 1, blob, store=store)
    assert await BidPart.count() == 0  # refused at its first part, before anything is stored
    with pytest.raises(Conflict, match="0 of 1 parts"):
        await submit_bid(
            supplier, started["bid_id"], store=store, signing_key=signing_key(settings)
        )
    assert await Bid.count().where(Bid.status == "submitted") == 0


async def test_purchaser_reads_opened_documents_and_nobody_else(
    app: Litestar, settings: Settings, client: AsyncTestClient[Litestar]
) -> None:
    from bidding.platform_keys import master_key, signing_key
    from bidding.services import open_bid_document, open_lot, submit_sealed_bid
    from procurement.clock import FixedClock
    from procurement.exceptions import Forbidden
    from procurement.projects import close_lot_if_due

    store = app.state.object_store
    purchaser = await actor(Role.PURCHASER)
    stranger = await actor(Role.PURCHASER)
    suppliers = [await actor(Role.BIDDER) for _ in range(3)]
    deadline = SYSTEM_CLOCK.now() + timedelta(days=30)
    project_id = await published_project(purchaser, deadline=deadline, custody_mode="platform")
    lot = await lot_of(project_id)
    before = FixedClock(deadline - timedelta(hours=1))
    for i, supplier in enumerate(suppliers):
        await submit_sealed_bid(
            supplier,
            lot.id,
            Decimal("100.00") + i,
            {"technical": f"方案 {i} ".encode() * 1000},
            store=store,
            signing_key=signing_key(settings),
            clock=before,
        )
    document = await BidFile.objects().where(BidFile.kind == "technical").first()
    assert document is not None
    with pytest.raises(Forbidden, match="after the opening"):
        await open_bid_document(purchaser, document.id, store=store, master=master_key(settings))
    after = FixedClock(deadline + timedelta(minutes=1))
    await close_lot_if_due(lot.id, clock=after)
    await open_lot(lot.id, store=store, master=master_key(settings), clock=after)
    _, chunks = await open_bid_document(
        purchaser, document.id, store=store, master=master_key(settings)
    )
    assert b"".join(chunks).startswith("方案 ".encode())
    for outsider in (stranger, suppliers[1]):
        with pytest.raises(Forbidden):
            await open_bid_document(outsider, document.id, store=store, master=master_key(settings))

    # the purchaser's opening page links every opened file, and each link downloads it
    await login(client, purchaser.username)
    page = (await client.get(f"/lots/{lot.id}/opening")).text
    links = re.findall(r'href="(/purchaser/bid-files/\d+)"', page)
    assert len(links) == 2 * len(suppliers)  # the price declaration and the document
    downloaded = await client.get(f"/purchaser/bid-files/{document.id}")
    assert f"/purchaser/bid-files/{document.id}" in links
    assert downloaded.status_code == 200
    assert downloaded.content.startswith("方案 ".encode())


async def test_wrong_shares_and_replayed_parts_are_refused(
    app: Litestar, settings: Settings
) -> None:
    from bidding.platform_keys import master_key, signing_key
    from bidding.services import open_lot, put_part, release_share, submit_sealed_bid
    from procurement.clock import FixedClock
    from procurement.exceptions import Conflict, ValidationError
    from procurement.projects import close_lot_if_due

    store = app.state.object_store
    purchaser = await actor(Role.PURCHASER)
    keepers = await custodians()
    suppliers = [await actor(Role.BIDDER) for _ in range(3)]
    now = SYSTEM_CLOCK.now()
    # times are given by clocks, not waited for: a loaded machine must not let a real
    # sweep close the lot before the bids are in
    deadline = now + timedelta(days=30)
    after = FixedClock(deadline + timedelta(minutes=1))
    project_id = await published_project(purchaser, deadline=deadline)
    other_project = await published_project(purchaser, deadline=deadline)
    lot, other_lot = await lot_of(project_id), await lot_of(other_project)
    before = FixedClock(deadline - timedelta(seconds=1))
    receipts = [
        await submit_sealed_bid(
            s,
            lot.id,
            Decimal("10.00") + i,
            {},
            store=store,
            signing_key=signing_key(settings),
            clock=before,
        )
        for i, s in enumerate(suppliers)
    ]
    first_file = (
        await BidFile.objects().where(BidFile.bid == receipts[0]["receipt"]["bid_id"]).first()
    )
    assert first_file is not None
    with pytest.raises(Conflict, match="submitted"):  # a replayed part after submission
        await put_part(
            suppliers[0],
            first_file.bid,
            first_file.id,
            1,
            b"x" * first_file.size,
            store=store,
            clock=before,
        )
    await close_lot_if_due(lot.id, clock=after)
    await close_lot_if_due(other_lot.id, clock=after)  # no bids: fails, but its shares still exist

    async def share_of(keeper: Actor, lot_id: int) -> str:
        record = (
            await KeyShareRecord.objects()
            .where(
                (KeyShareRecord.custodian == keeper.user_id)
                & (KeyShareRecord.opening_key.lot == lot_id)
            )
            .first()
        )
        assert record is not None
        plain = decrypt_share(
            bytes.fromhex(record.encrypted_share),
            CUSTODIAN_KEYS[int(keeper.user_id or 0)],
            lot_id=str(lot_id),
            custodian_id=str(keeper.user_id),
        )
        return base64.b64encode(plain).decode()

    with pytest.raises(ValidationError, match="another lot"):
        await release_share(
            keepers[0], lot.id, await share_of(keepers[0], other_lot.id), clock=after
        )
    with pytest.raises(ValidationError, match="not your share"):
        await release_share(keepers[0], lot.id, await share_of(keepers[1], lot.id), clock=after)
    with pytest.raises(ValidationError, match="not a decrypted key share"):
        await release_share(keepers[0], lot.id, base64.b64encode(b"garbage").decode(), clock=after)
    assert (
        await release_share(keepers[0], lot.id, await share_of(keepers[0], lot.id), clock=after)
    ) == {
        "released": 1,
        "threshold": 2,
    }
    assert await open_lot(lot.id, store=store, master=master_key(settings)) == "waiting"
    await release_share(keepers[1], lot.id, await share_of(keepers[1], lot.id), clock=after)
    # the worker's sweep may open it at the same moment: either runner completes it once
    assert await open_lot(lot.id, store=store, master=master_key(settings)) in {"opened", "done"}
    assert (await lot_of(project_id)).status == "opened"
    assert await OpeningRecord.count().where(OpeningRecord.lot == lot.id) == 3


async def test_a_bid_the_bidder_sealed_badly_is_deemed_revoked(
    app: Litestar, settings: Settings, client: AsyncTestClient[Litestar]
) -> None:
    """RULES §3 (ETM Art. 31): a copy received intact that does not decrypt is the bidder's
    fault: deemed revoked; the other bids are still opened."""
    from bidding.platform_keys import master_key, signing_key
    from bidding.services import (
        FileSpec,
        iter_parts,
        open_lot,
        price_declaration,
        public_opening_key,
        put_part,
        start_bid,
        submit_bid,
        submit_sealed_bid,
    )
    from procurement.clock import FixedClock
    from procurement.projects import close_lot_if_due

    store = app.state.object_store
    purchaser = await actor(Role.PURCHASER)
    deadline = SYSTEM_CLOCK.now() + timedelta(days=30)
    project_id = await published_project(purchaser, deadline=deadline, custody_mode="platform")
    lot = await lot_of(project_id)
    before = FixedClock(deadline - timedelta(hours=1))
    for price in ["100.00", "200.00", "300.00"]:
        await submit_sealed_bid(
            await actor(Role.BIDDER),
            lot.id,
            Decimal(price),
            {},
            store=store,
            signing_key=signing_key(settings),
            clock=before,
        )
    careless = await actor(Role.BIDDER)
    key = await public_opening_key(lot.id)
    public = load_public_key(base64.b64decode(key["public_key"]))
    context = EnvelopeContext(
        lot_id=str(lot.id), bidder_id=str(careless.organisation_id), kind="price"
    )
    blob = bytearray(
        b"".join(
            seal([price_declaration(Decimal("50.00"))], opening_public_key=public, context=context)
        )
    )
    blob[-20] ^= 0x01  # damaged on the bidder's side, before the upload
    started = await start_bid(
        careless, lot.id, [FileSpec(kind="price", size=len(blob))], store=store, clock=before
    )
    file_id = started["files"][0]["file_id"]
    for number, part in enumerate(iter_parts([bytes(blob)]), start=1):
        await put_part(
            careless, started["bid_id"], file_id, number, part, store=store, clock=before
        )
    await submit_bid(
        careless, started["bid_id"], store=store, signing_key=signing_key(settings), clock=before
    )

    assert await close_lot_if_due(lot.id, clock=FixedClock(deadline + timedelta(minutes=1)))
    outcome = await open_lot(lot.id, store=store, master=master_key(settings))
    assert outcome in {"opened", "done"}  # the session worker's sweep may be first
    record = await OpeningRecord.objects().where(OpeningRecord.bid == started["bid_id"]).first()
    assert record is not None
    assert record.outcome == "invalid"
    assert record.deemed == "revoked"
    assert record.cause == "failed_integrity_check"
    assert (
        await OpeningRecord.count().where(
            (OpeningRecord.lot == lot.id) & (OpeningRecord.outcome == "opened")
        )
        == 3
    )
    page = await client.get(f"/lots/{lot.id}/opening?lang=zh")
    assert "视为撤销（投标人原因）" in page.text
    assert ">密文完整性校验未通过（被改动、截断或加长）</span>" in page.text


@pytest.mark.timeout(60, method="thread")  # without the fix the request waits forever
async def test_a_multipart_form_sent_to_the_api_is_answered_at_once(app: Litestar) -> None:
    """A multipart form carrying the CSRF token gets a 415, not a request that never ends."""
    from bidding.services import FileSpec, start_bid

    purchaser = await actor(Role.PURCHASER)
    supplier = await actor(Role.BIDDER)
    lot = await lot_of(await published_project(purchaser))
    started = await start_bid(
        supplier, lot.id, [FileSpec(kind="price", size=400)], store=app.state.object_store
    )
    file_id = started["files"][0]["file_id"]
    async with AsyncTestClient(app=app) as client:
        await login(client, supplier.username)
        form = {"_csrf_token": client.cookies.get("zc_csrf") or ""}
        for method, path in [
            ("PUT", f"/api/bids/{started['bid_id']}/files/{file_id}/parts/1"),
            ("POST", f"/api/bids/{started['bid_id']}/submit"),
        ]:
            response = await client.request(
                method, path, data=form, files={"part": ("part.zcb", b"ZCB1" + b"\0" * 396)}
            )
            assert response.status_code == 415, response.text
            assert "x-csrftoken" in response.json()["detail"]
    assert await BidPart.count() == 0
    assert await Bid.count().where(Bid.status == "submitted") == 0


def read_whole(store: ObjectStore, key: str) -> bytes:
    with store.get(key) as stream:
        return b"".join(stream)


async def test_the_uploads_of_withdrawn_bids_are_aborted_by_the_worker(
    app: Litestar, settings: Settings, celery_worker: subprocess.Popen[bytes]
) -> None:
    """A bid withdrawn before submission leaves no open upload in the store (beat sweep)."""
    from bidding.platform_keys import signing_key
    from bidding.services import abort_abandoned_uploads, submit_bid, withdraw_bid
    from storage import UploadNotFound

    store = app.state.object_store
    purchaser = await actor(Role.PURCHASER)
    supplier = await actor(Role.BIDDER)
    lot = await lot_of(await published_project(purchaser))
    bid_id, file_id, _ = await started_bid_with_its_part(store, supplier, lot.id)
    row = await BidFile.objects().where(BidFile.id == file_id).first()
    assert row is not None
    assert row.upload_id
    upload_id = row.upload_id
    assert [p.number for p in await asyncio.to_thread(store.list_parts, upload_id)] == [1]
    _, kept_file, _ = await started_bid_with_its_part(store, await actor(Role.BIDDER), lot.id)
    changed_mind = await actor(Role.BIDDER)
    submitted_bid, submitted_file, _ = await started_bid_with_its_part(store, changed_mind, lot.id)
    await submit_bid(changed_mind, submitted_bid, store=store, signing_key=signing_key(settings))
    await withdraw_bid(changed_mind, submitted_bid)  # complete: its object is kept as evidence

    await withdraw_bid(supplier, bid_id)
    assert await wait_for_upload_closed(file_id), "the worker never aborted the upload"
    with pytest.raises(UploadNotFound):
        await asyncio.to_thread(store.list_parts, upload_id)
    assert await abort_abandoned_uploads(store) == 0  # nothing left: idempotent
    still_open = await BidFile.select(BidFile.upload_id).where(BidFile.id == kept_file).first()
    assert still_open is not None
    assert still_open["upload_id"]  # a bid still uploading is left alone
    assert len(await asyncio.to_thread(store.list_parts, still_open["upload_id"])) == 1
    evidence = await BidFile.objects().where(BidFile.id == submitted_file).first()
    assert evidence is not None
    assert evidence.upload_id  # never aborted
    assert await asyncio.to_thread(store.exists, evidence.object_key)


async def test_a_part_or_submit_on_an_upload_the_store_closed_gets_a_conflict(
    app: Litestar, settings: Settings
) -> None:
    """A part racing the abort sweep is answered 409 with the reason, not a server error."""
    from bidding.platform_keys import signing_key
    from bidding.services import put_part, submit_bid
    from procurement.exceptions import Conflict

    store = app.state.object_store
    purchaser = await actor(Role.PURCHASER)
    supplier = await actor(Role.BIDDER)
    lot = await lot_of(await published_project(purchaser))
    bid_id, file_id, part = await started_bid_with_its_part(store, supplier, lot.id)
    row = await BidFile.objects().where(BidFile.id == file_id).first()
    assert row is not None
    await asyncio.to_thread(store.abort_upload, row.upload_id)
    with pytest.raises(Conflict, match="upload of this file is closed"):
        await put_part(supplier, bid_id, file_id, 1, part, store=store)
    with pytest.raises(Conflict, match="upload of this file is closed"):
        await submit_bid(supplier, bid_id, store=store, signing_key=signing_key(settings))
    assert await Bid.count().where(Bid.status == "submitted") == 0


async def test_a_resent_part_the_database_never_recorded_is_not_vouched_for_by_the_receipt(
    app: Litestar, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store took a re-sent part, the database write failed: the receipt still proves
    what the store holds (the part's recorded hash is cleared before the store write)."""
    import hashlib
    import os

    from bidding.platform_keys import signing_key
    from bidding.services import FileSpec, public_opening_key, put_part, start_bid, submit_bid

    store = app.state.object_store
    purchaser = await actor(Role.PURCHASER)
    supplier = await actor(Role.BIDDER)
    lot = await lot_of(await published_project(purchaser))
    opening = await public_opening_key(lot.id)
    key = load_public_key(base64.b64decode(opening["public_key"]))

    def sealed(kind: str, plaintext: bytes) -> bytes:
        context = EnvelopeContext(str(lot.id), str(supplier.organisation_id), kind)
        return b"".join(seal([plaintext], opening_public_key=key, context=context))

    price = sealed("price", b'{"total": "1.00"}')
    technical = sealed("technical", os.urandom(9 * 1024 * 1024))
    part_size = 8 * 1024 * 1024
    started = await start_bid(
        supplier,
        lot.id,
        [FileSpec(kind="price", size=len(price)), FileSpec(kind="technical", size=len(technical))],
        store=store,
    )
    bid_id = started["bid_id"]
    price_file, technical_file = (f["file_id"] for f in started["files"])
    await put_part(supplier, bid_id, price_file, 1, price, store=store)
    await put_part(supplier, bid_id, technical_file, 1, technical[:part_size], store=store)
    await put_part(supplier, bid_id, technical_file, 2, technical[part_size:], store=store)

    changed = bytearray(technical[part_size:])
    changed[100] ^= 1
    changed_price = bytearray(price)
    changed_price[-1] ^= 1  # in the last chunk's tag: the header still checks out
    with monkeypatch.context() as patched:

        def database_gone(self: object, *args: object, **kwargs: object) -> None:
            raise ConnectionError("the database went away")

        patched.setattr(BidPart, "save", database_gone)
        with pytest.raises(ConnectionError):
            await put_part(supplier, bid_id, technical_file, 2, bytes(changed), store=store)
        with pytest.raises(ConnectionError):
            await put_part(supplier, bid_id, price_file, 1, bytes(changed_price), store=store)

    receipt = await submit_bid(supplier, bid_id, store=store, signing_key=signing_key(settings))
    vouched = {f["kind"]: f["sha256"] for f in receipt["receipt"]["files"]}
    for file_id, kind, expected in (
        (technical_file, "technical", technical[:part_size] + bytes(changed)),
        (price_file, "price", bytes(changed_price)),
    ):
        row = await BidFile.objects().where(BidFile.id == file_id).first()
        assert row is not None
        stored = await asyncio.to_thread(read_whole, store, row.object_key)
        assert stored == expected
        assert vouched[kind] == hashlib.sha256(stored).hexdigest()


async def test_an_object_store_outage_is_answered_503_with_retry_after(
    app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a bare server error: the client is told to send the same request again."""
    from bidding.runtime import current
    from storage import StorageUnavailable

    store = current().store
    purchaser = await actor(Role.PURCHASER)
    supplier = await actor(Role.BIDDER)
    lot = await lot_of(await published_project(purchaser))
    bid_id, file_id, part = await started_bid_with_its_part(store, supplier, lot.id)

    def unreachable(*args: object, **kwargs: object) -> None:
        raise StorageUnavailable("S3 unreachable or failing (upload): connection refused")

    monkeypatch.setattr(store, "put_part", unreachable)
    async with AsyncTestClient(app=app) as client:
        await login(client, supplier.username)
        response = await client.put(
            f"/api/bids/{bid_id}/files/{file_id}/parts/1",
            content=part,
            headers={
                "x-csrftoken": client.cookies.get("zc_csrf") or "",
                "content-type": "application/octet-stream",
            },
        )
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "30"
        assert "try again" in response.json()["detail"]
        assert "S3" not in response.text  # the store's own message stays in the log
        page = await client.get(f"/supplier/lots/{lot.id}/bid")
        assert page.status_code == 200  # pages that do not touch the store still work


async def test_a_bid_the_store_fails_to_start_leaves_no_upload_behind(
    app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bidding.runtime import current
    from bidding.services import FileSpec, start_bid
    from storage import StorageUnavailable, UploadNotFound

    store = current().store
    purchaser = await actor(Role.PURCHASER)
    supplier = await actor(Role.BIDDER)
    lot = await lot_of(await published_project(purchaser))
    opened: list[str] = []
    real_create = store.create_upload

    def second_fails(key: str, **kwargs: object) -> str:
        if opened:
            raise StorageUnavailable("S3 unreachable or failing (upload): connection refused")
        opened.append(real_create(key))
        return opened[-1]

    monkeypatch.setattr(store, "create_upload", second_fails)
    with pytest.raises(StorageUnavailable):
        await start_bid(
            supplier,
            lot.id,
            [FileSpec(kind="price", size=400), FileSpec(kind="technical", size=9000)],
            store=store,
        )
    assert await Bid.count() == 0
    assert await BidFile.count() == 0
    assert len(opened) == 1
    with pytest.raises(UploadNotFound):
        await asyncio.to_thread(store.list_parts, opened[0])


async def test_bid_ids_tell_a_bidder_nothing_about_other_bids(app: Litestar) -> None:
    """Ids are drawn at random, not counted up: between two of its own bids, a bidder
    cannot read how many bids others started (TBL Art. 22). A bid's files stay in order."""
    from bidding.services import RANDOM_ID_FLOOR, FileSpec, bid_progress, start_bid

    store = app.state.object_store
    purchaser = await actor(Role.PURCHASER)
    lot = await lot_of(await published_project(purchaser))
    bid_ids = []
    for _ in range(12):
        bidder = await actor(Role.BIDDER)
        bid_id, _, _ = await started_bid_with_its_part(store, bidder, lot.id)
        bid_ids.append(bid_id)
    assert min(bid_ids) >= RANDOM_ID_FLOOR
    differences = {later - earlier for earlier, later in itertools.pairwise(bid_ids)}
    assert len(differences) > 1  # counted up, every step would be the same (+1)
    assert bid_ids != sorted(bid_ids)  # sorted by chance: 1 in 12!

    supplier = await actor(Role.BIDDER)
    minimum = 2000  # above any header: the files are never stored here
    started = await start_bid(
        supplier,
        lot.id,
        [
            FileSpec(kind="price", size=minimum),
            FileSpec(kind="technical", size=minimum, label="技术标.pdf"),
            FileSpec(kind="qualification", size=minimum, label="资格.pdf"),
        ],
        store=store,
    )
    file_ids = [f["file_id"] for f in started["files"]]
    assert file_ids == list(range(file_ids[0], file_ids[0] + 3))
    progress = await bid_progress(supplier, started["bid_id"])
    assert [f["kind"] for f in progress["files"]] == ["price", "technical", "qualification"]


async def test_a_supplier_sees_its_own_bids_on_every_lot_and_nobody_elses(
    app: Litestar, settings: Settings, client: AsyncTestClient[Litestar]
) -> None:
    from bidding.platform_keys import signing_key
    from bidding.services import submit_sealed_bid, withdraw_bid

    store = app.state.object_store
    purchaser = await actor(Role.PURCHASER)
    supplier, rival = await actor(Role.BIDDER), await actor(Role.BIDDER)
    lots = [
        await lot_of(await published_project(purchaser, title=title))
        for title in ("道路养护", "办公家具")
    ]
    receipts = []
    for lot, price in ((lots[0], "100.00"), (lots[0], "99.00"), (lots[1], "55.00")):
        receipt = await submit_sealed_bid(
            supplier, lot.id, Decimal(price), {}, store=store, signing_key=signing_key(settings)
        )
        receipts.append(receipt["receipt"]["bid_id"])
    await withdraw_bid(supplier, receipts[2])
    rival_receipt = await submit_sealed_bid(
        rival, lots[1].id, Decimal("50.00"), {}, store=store, signing_key=signing_key(settings)
    )

    await login(client, supplier.username)
    home = await client.get("/supplier?lang=zh")
    assert 'href="/supplier/bids"' in home.text
    page = await client.get("/supplier/bids?lang=zh")
    assert page.status_code == 200
    listed = re.findall(r'href="/bids/(\d+)/receipt"', page.text)
    assert sorted(map(int, listed)) == sorted(receipts[:2])  # the withdrawn one has none
    assert page.text.count("/supplier/lots/") == 3
    for status in ("已递交", "已被替换", "已撤回"):
        assert status in page.text
    assert str(rival_receipt["receipt"]["bid_id"]) not in page.text


async def test_a_bidder_reads_why_its_bid_was_invalid_in_the_page_language(
    app: Litestar,
) -> None:
    """The bidder's own result names the cause in words; the English detail stays secondary."""
    from tests.integration.test_reports import lot, owner, project

    supplier = await actor(Role.BIDDER)
    when = SYSTEM_CLOCK.now() - timedelta(days=3)
    lot_id = await lot(
        await project(await owner(), category="goods", method="open_tender", published_at=when),
        budget_fen=50_000_000,
        award_fen=40_000_000,
        at=when,
    )
    sealed = Bid(
        lot=lot_id,
        bidder=supplier.organisation_id,
        submitted_by=supplier.user_id,
        status="submitted",
        created_at=when,
        submitted_at=when,
    )
    await sealed.save()
    await OpeningRecord(
        lot=lot_id,
        bid=sealed.id,
        bidder=supplier.organisation_id,
        submitted_at=when,
        outcome="invalid",
        cause="sealed_to_another_key",
        reason="this bid was sealed to another opening key",
        deemed="revoked",
        opened_at=when,
    ).save()
    async with AsyncTestClient(app=app) as http:
        await login(http, supplier.username)
        chinese = await http.get(f"/supplier/lots/{lot_id}/result?lang=zh")
        english = await http.get(f"/supplier/lots/{lot_id}/result?lang=en")
    assert chinese.status_code == english.status_code == 200
    assert ">未使用本标段开标公钥密封</span>" in chinese.text
    assert "(this bid was sealed to another opening key)" not in chinese.text
    assert ">Sealed to another key</span>" in english.text
    assert "(this bid was sealed to another opening key)" in english.text
