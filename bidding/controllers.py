"""Sealed-bid routes: the JSON API bidders' clients and custodians use, and the pages."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Stream, Template

from bidding import services
from bidding.inquiry_controllers import ROUTE_HANDLERS as INQUIRY_ROUTES
from bidding.receipts import public_key_pem
from bidding.runtime import current
from procurement.clock import SYSTEM_CLOCK
from procurement.exceptions import ValidationError
from procurement.lifecycle import LotStatus
from procurement.projects import get_lot, get_project
from procurement.roles import Actor, Role
from procurement.web import (
    PUBLIC,
    Link,
    Panel,
    add_lot_links,
    add_workspace_panel,
    current_actor,
    language_of,
    render,
    require_actor,
    roles,
    with_lot_facts,
)
from procurement.web import lot_links as all_lot_links  # every package's; ours is below

log = logging.getLogger(__name__)
BIDDER = roles(Role.BIDDER)
CUSTODIAN = roles(Role.CUSTODIAN)


@dataclass
class FileSpecIn:
    """A sealed file to upload."""

    kind: str
    size: int
    label: str = ""


@dataclass
class StartBidIn:
    """The files of a new bid (sizes are of the sealed files)."""

    files: list[FileSpecIn] = field(default_factory=list)


@dataclass
class PublicKeyIn:
    """A custodian's public key, base64 of the 65-byte P-256 point."""

    public_key: str


@dataclass
class ShareIn:
    """A decrypted key share, base64."""

    share: str


def _queue_opening(lot_id: int) -> None:
    from bidding.tasks import open_lot

    try:
        open_lot.delay(lot_id)
    except Exception:
        log.warning("could not queue the opening of lot %s; the sweep will", lot_id, exc_info=True)


class BiddingApiController(Controller):
    """The sealed-bid JSON API (used by the bid page's script and by ``zhaocai bid``)."""

    path = "/api"

    @get("/lots/{lot_id:int}/opening-key", opt=PUBLIC, name="api_opening_key")
    async def opening_key(self, lot_id: FromPath[int]) -> dict[str, Any]:
        """The lot's public opening key, to seal bids with."""
        return await services.public_opening_key(lot_id)

    @post("/lots/{lot_id:int}/bids", opt=BIDDER, name="api_bid_start", status_code=201)
    async def start(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int], data: JSONBody[StartBidIn]
    ) -> dict[str, Any]:
        """Start a bid: declare its sealed files and their sizes."""
        specs = [services.FileSpec(kind=f.kind, size=f.size, label=f.label) for f in data.files]
        return await services.start_bid(
            require_actor(request), lot_id, specs, store=current().store
        )

    @put(
        "/bids/{bid_id:int}/files/{file_id:int}/parts/{number:int}",
        opt=BIDDER,
        name="api_bid_part",
        request_max_body_size=services.PART_SIZE + 1024,
    )
    async def part(
        self,
        request: Request[Any, Any, Any],
        bid_id: FromPath[int],
        file_id: FromPath[int],
        number: FromPath[int],
    ) -> dict[str, Any]:
        """Upload one part of a sealed file (raw bytes)."""
        body = await request.body()
        return await services.put_part(
            require_actor(request), bid_id, file_id, number, body, store=current().store
        )

    @get("/bids/{bid_id:int}", opt=BIDDER, name="api_bid_progress")
    async def progress(
        self, request: Request[Any, Any, Any], bid_id: FromPath[int]
    ) -> dict[str, Any]:
        """What was received so far (to resume)."""
        return await services.bid_progress(require_actor(request), bid_id)

    @post("/bids/{bid_id:int}/submit", opt=BIDDER, name="api_bid_submit", status_code=200)
    async def submit(
        self, request: Request[Any, Any, Any], bid_id: FromPath[int]
    ) -> dict[str, Any]:
        """Complete the bid; returns the signed receipt."""
        runtime = current()
        return await services.submit_bid(
            require_actor(request), bid_id, store=runtime.store, signing_key=runtime.signing_key
        )

    @post("/bids/{bid_id:int}/withdraw", opt=BIDDER, name="api_bid_withdraw", status_code=200)
    async def withdraw(
        self, request: Request[Any, Any, Any], bid_id: FromPath[int]
    ) -> dict[str, str]:
        """Withdraw the bid before the deadline."""
        await services.withdraw_bid(require_actor(request), bid_id)
        return {"status": "withdrawn"}

    @get("/bids/{bid_id:int}/receipt", opt=BIDDER, name="api_bid_receipt")
    async def receipt(
        self, request: Request[Any, Any, Any], bid_id: FromPath[int]
    ) -> dict[str, Any]:
        """The signed receipt (JSON) of a submitted bid."""
        return await services.receipt_of(require_actor(request), bid_id)

    @get("/lots/{lot_id:int}/my-bids", opt=BIDDER, name="api_my_bids")
    async def my_bids(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int]
    ) -> list[dict[str, Any]]:
        """The caller's own bids for the lot."""
        return await services.my_bids(require_actor(request), lot_id)

    @post("/custodian/key", opt=CUSTODIAN, name="api_custodian_key", status_code=200)
    async def register_key(
        self, request: Request[Any, Any, Any], data: JSONBody[PublicKeyIn]
    ) -> dict[str, str]:
        """Register the custodian's public key."""
        fp = await services.register_custodian_key(require_actor(request), data.public_key)
        return {"fingerprint": fp}

    @get("/opening/lots/{lot_id:int}/share", opt=CUSTODIAN, name="api_encrypted_share")
    async def encrypted_share(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int]
    ) -> dict[str, Any]:
        """The caller's encrypted share of the lot's key, from the opening time on."""
        return await services.encrypted_share_for(require_actor(request), lot_id)

    @post(
        "/opening/lots/{lot_id:int}/shares",
        opt=CUSTODIAN,
        name="api_release_share",
        status_code=200,
    )
    async def release(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int], data: JSONBody[ShareIn]
    ) -> dict[str, int]:
        """Release the decrypted share; the opening starts when k shares are in."""
        result = await services.release_share(require_actor(request), lot_id, data.share)
        if result["released"] >= result["threshold"]:
            _queue_opening(lot_id)
        return result

    @get("/public/lots/{lot_id:int}/opening", opt=PUBLIC, name="api_opening_record")
    async def record(self, lot_id: FromPath[int]) -> dict[str, Any]:
        """The opening record, once the lot is opened."""
        return await services.opening_record(lot_id)


class BiddingPagesController(Controller):
    """Pages: the opening record, the custodian's workspace, receipts."""

    @get(
        "/.well-known/zhaocai-receipt-key.pem",
        opt=PUBLIC,
        name="receipt_key",
        media_type="application/x-pem-file",
    )
    async def receipt_key(self) -> Response[bytes]:
        """The public key that verifies bid receipts."""
        return Response(
            public_key_pem(current().signing_key.public_key()), media_type="application/x-pem-file"
        )

    @get("/lots/{lot_id:int}/opening", opt=PUBLIC, name="opening_page")
    async def opening_page(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int]
    ) -> Template:
        """The public opening record (唱标) of a lot."""
        record = await services.opening_record(lot_id)
        lot = await get_lot(lot_id)
        project = await get_project(lot.project)
        actor = current_actor(request)
        owner = (
            actor is not None
            and actor.role is Role.PURCHASER
            and actor.organisation_id == project.purchaser
        )
        context = {
            "record": record,
            "lot": lot,
            "project": project,
            "owner": owner,
            "kind_names": services.file_kind_names(language_of(request)),
        }
        return render(request, "bidding/opening.html", context)

    @get("/custodian", opt=CUSTODIAN, name="custodian_home")
    async def custodian_home(self, request: Request[Any, Any, Any]) -> Template:
        """Register a key; see the lots whose key you hold a share of."""
        actor = require_actor(request)
        return render(
            request,
            "bidding/custodian.html",
            {
                "registered": await services.is_custodian(actor.user_id or 0),
                "lots": await services.custodian_lots(actor, SYSTEM_CLOCK.now()),
            },
        )

    @get("/bids/{bid_id:int}/receipt", opt=BIDDER, name="receipt_page")
    async def receipt_page(
        self, request: Request[Any, Any, Any], bid_id: FromPath[int]
    ) -> Template:
        """The receipt as a readable page."""
        document = await services.receipt_of(require_actor(request), bid_id)
        if not document:
            raise ValidationError("no receipt")
        receipt = document["receipt"]
        lot = await get_lot(int(receipt["lot_id"]))
        return render(
            request,
            "bidding/receipt.html",
            {
                "doc": document,
                "receipt": receipt,
                "received_at": datetime.fromisoformat(receipt["received_at"]),
                "lot": lot,
                "project": await get_project(lot.project),
                "kind_names": services.file_kind_names(language_of(request)),
            },
        )


class BidderPagesController(Controller):
    """The bidder's bid page (sealing happens in the browser, see static/bid.js)."""

    @get("/supplier/lots/{lot_id:int}/bid", opt=BIDDER, name="bid_page")
    async def bid_page(self, request: Request[Any, Any, Any], lot_id: FromPath[int]) -> Template:
        """Seal and upload a bid; see and withdraw earlier ones."""
        actor = require_actor(request)
        lot = await get_lot(lot_id)
        project = await get_project(lot.project)
        return render(
            request,
            "bidding/bid.html",
            {
                "lot": lot,
                "project": project,
                "bids": await services.my_bids(actor, lot_id),
                "accepts_bids": services.accepts_bids(lot, project, SYSTEM_CLOCK.now()),
                "kind_names": services.file_kind_names(language_of(request)),
            },
        )

    @post("/supplier/bids/{bid_id:int}/withdraw", opt=BIDDER, name="bid_withdraw_page")
    async def withdraw(self, request: Request[Any, Any, Any], bid_id: FromPath[int]) -> Redirect:
        """Withdraw from the bid page."""
        actor = require_actor(request)
        progress = await services.bid_progress(actor, bid_id)
        await services.withdraw_bid(actor, bid_id)
        return Redirect(f"/supplier/lots/{progress['lot_id']}/bid")


class MyBidsController(Controller):
    """A supplier's bids on every lot, with their receipts and opening records."""

    @get("/supplier/bids", opt=BIDDER, name="my_bids_page")
    async def my_bids(self, request: Request[Any, Any, Any]) -> Template:
        """Every bid of the caller's organisation, newest first."""
        bids = await services.my_bids_everywhere(require_actor(request))
        lots = await with_lot_facts(
            (
                {
                    "id": bid["lot_id"],
                    "status": bid["lot_status"],
                    "failure_reason": bid["failure_reason"],
                }
                for bid in bids
            ),
            None,
        )
        for bid, lot in zip(bids, lots, strict=True):  # the lot's public links (opening...)
            bid["public_links"] = all_lot_links(lot, None)
        return render(request, "bidding/my_bids.html", {"bids": bids})


class PurchaserBidDocumentsController(Controller):
    """Opened bids' documents for the purchasing unit."""

    @get("/purchaser/bid-files/{file_id:int}", opt=roles(Role.PURCHASER), name="bid_document")
    async def document(self, request: Request[Any, Any, Any], file_id: FromPath[int]) -> Stream:
        """Download one decrypted bid document (decrypted on the fly)."""
        runtime = current()
        row, chunks = await services.open_bid_document(
            require_actor(request), file_id, store=runtime.store, master=runtime.master_key
        )
        name = f"bid-{row.bid}-{row.kind}.bin"
        return Stream(
            chunks,
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


def lot_links(lot: Mapping[str, Any], actor: Actor | None) -> list[Link]:
    """Links on lot rows: submit a bid (suppliers, open lots), the opening record (opened)."""
    status = lot.get("status")
    if status == LotStatus.PUBLISHED and actor is not None and actor.role is Role.BIDDER:
        return [Link("Submit bid", f"/supplier/lots/{lot['id']}/bid")]
    if status in {LotStatus.OPENED, LotStatus.EVALUATING, LotStatus.AWARDED} or (
        status == LotStatus.FAILED and lot.get("failure_reason") == "TOO_FEW_VALID"
    ):
        return [Link("Opening record", f"/lots/{lot['id']}/opening")]
    return []


add_lot_links(lot_links)
add_workspace_panel(Role.BIDDER.value, Panel("bidding/_my_bids_panel.html"))
ROUTE_HANDLERS = [
    *INQUIRY_ROUTES,
    BiddingApiController,
    BiddingPagesController,
    BidderPagesController,
    MyBidsController,
    PurchaserBidDocumentsController,
]
