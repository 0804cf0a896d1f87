"""Quote routes: the invited supplier's inquiry page and quote form, and the quote API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody
from litestar.response import Redirect, Template

from bidding.quotes import (
    MAX_ATTACHMENT_BYTES,
    QuoteDraft,
    QuoteLineDraft,
    my_quote,
    submit_quote,
)
from bidding.runtime import current
from procurement.clock import SYSTEM_CLOCK
from procurement.exceptions import ValidationError, ZhaocaiError
from procurement.inquiries import inquiry_view
from procurement.lifecycle import LotStatus
from procurement.roles import Actor, Role
from procurement.web import error_text, form_text, render, require_actor, roles, status_for

UploadData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
BIDDER = roles(Role.BIDDER)
FORM_LIMIT = 6 * MAX_ATTACHMENT_BYTES


def _delivery_days(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError as exc:
        raise ValidationError(
            "the delivery time is a whole number of days", field="delivery_days"
        ) from exc


async def _attachments(form: dict[str, Any]) -> dict[str, bytes]:
    files = form.get("attachment")
    uploads = files if isinstance(files, list) else [files]
    result: dict[str, bytes] = {}
    for upload in uploads:
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read()
            if len(data) > MAX_ATTACHMENT_BYTES:
                raise ValidationError(
                    "attachment {name!r} is over {most} MiB",
                    name=upload.filename,
                    most=MAX_ATTACHMENT_BYTES // 2**20,
                    field="attachments",
                )
            if data:
                result[upload.filename[:200]] = data
    return result


async def _page(
    request: Request[Any, Any, Any],
    actor: Actor,
    inquiry_id: int,
    *,
    form: dict[str, Any] | None = None,
    error: ZhaocaiError | None = None,
) -> Template:
    view = await inquiry_view(actor, inquiry_id)
    quote = await my_quote(actor, inquiry_id)
    open_for_quotes = (
        view["status"] == LotStatus.PUBLISHED and view["quote_deadline"] > SYSTEM_CLOCK.now()
    )
    return render(
        request,
        "bidding/inquiry_quote.html",
        {
            "inquiry": view,
            "quote": quote,
            "open_for_quotes": open_for_quotes and quote is None,
            "form": form or {},
            "error": error_text(request, error) if error else "",
            "error_field": error.field if error else None,
        },
        status_code=status_for(error) if error else 200,
    )


class QuotePagesController(Controller):
    """The invited supplier's inquiry page: terms, items, the quote form or its receipt."""

    path = "/supplier/inquiries"

    @get("/{inquiry_id:int}", opt=BIDDER, name="supplier_inquiry")
    async def inquiry(self, request: Request[Any, Any, Any], inquiry_id: FromPath[int]) -> Template:
        """The inquiry as an invited supplier sees it."""
        return await _page(request, require_actor(request), inquiry_id)

    @post(
        "/{inquiry_id:int}/quote",
        opt=BIDDER,
        name="supplier_quote",
        request_max_body_size=FORM_LIMIT,
    )
    async def quote(
        self, request: Request[Any, Any, Any], inquiry_id: FromPath[int], data: UploadData
    ) -> Template | Redirect:
        """Seal and submit the quote; errors re-show the form with a 4xx and nothing stored."""
        actor = require_actor(request)
        form = {k: v for k, v in data.items() if isinstance(v, str)}
        try:
            view = await inquiry_view(actor, inquiry_id)
            draft = QuoteDraft(
                lines=[
                    QuoteLineDraft(
                        item=item["number"],
                        quantity=form_text(data, f"quantity_{item['number']}"),
                        unit_price=form_text(data, f"unit_price_{item['number']}"),
                    )
                    for item in view["items"]
                ],
                delivery_days=_delivery_days(form_text(data, "delivery_days")),
                declarations=form_text(data, "declarations"),
                attachments=await _attachments(data),
            )
            runtime = current()
            await submit_quote(
                actor, inquiry_id, draft, store=runtime.store, signing_key=runtime.signing_key
            )
        except ZhaocaiError as exc:
            return await _page(request, actor, inquiry_id, form=form, error=exc)
        return Redirect(f"/supplier/inquiries/{inquiry_id}?done=quoted")


@dataclass
class QuoteLineIn:
    """One priced item: its number in the inquiry, the quantity asked for, the unit price."""

    item: int
    quantity: str
    unit_price: str


@dataclass
class QuoteIn:
    """A quote: every item priced, delivery in days, compliance declarations."""

    lines: list[QuoteLineIn]
    delivery_days: int
    declarations: str = ""
    attachments: dict[str, str] = field(default_factory=dict)
    """Optional attachments, file name → base64 content."""


class QuoteApiController(Controller):
    """Quoting from a supplier's own system (OpenAPI at /schema)."""

    path = "/api/inquiries"

    @post("/{inquiry_id:int}/quote", opt=BIDDER, name="api_quote", status_code=201)
    async def submit(
        self, request: Request[Any, Any, Any], inquiry_id: FromPath[int], data: JSONBody[QuoteIn]
    ) -> dict[str, Any]:
        """Submit the one quote; returns the signed receipt. Not changeable afterwards."""
        import base64
        import binascii

        try:
            attachments = {
                name: base64.b64decode(content, validate=True)
                for name, content in data.attachments.items()
            }
        except (binascii.Error, ValueError) as exc:
            raise ValidationError("attachments must be base64", field="attachments") from exc
        draft = QuoteDraft(
            lines=[
                QuoteLineDraft(line.item, line.quantity, line.unit_price) for line in data.lines
            ],
            delivery_days=data.delivery_days,
            declarations=data.declarations,
            attachments=attachments,
        )
        runtime = current()
        return await submit_quote(
            require_actor(request),
            inquiry_id,
            draft,
            store=runtime.store,
            signing_key=runtime.signing_key,
        )

    @get("/{inquiry_id:int}/quote", opt=BIDDER, name="api_my_quote")
    async def mine(
        self, request: Request[Any, Any, Any], inquiry_id: FromPath[int]
    ) -> dict[str, Any]:
        """The caller's submitted quote and its receipt (``quote`` is null before quoting)."""
        return {"quote": await my_quote(require_actor(request), inquiry_id)}


ROUTE_HANDLERS = [QuotePagesController, QuoteApiController]
