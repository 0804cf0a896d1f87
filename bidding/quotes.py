"""Price inquiry quotes (询价报价): a quote is a sealed bid on the inquiry's platform-sealed lot.

The same envelope, upload, receipt and opening as a bid (ARCHITECTURE §3, §6); what differs
is checked in :mod:`bidding.services` (only invited suppliers, one price once: no second
quote, no replacement, no withdrawal — GPL Art. 40) and here: the quote prices every item
at the requested quantity and its total is computed, never typed (RULES §7).

The form and the JSON quote seal the declaration in the platform's process as soon as it
arrives and store only ciphertext. On a platform-sealed lot the platform holds the opening
key (wrapped by its master key) anyway, so this adds no party who could read a price
early; a supplier that wants to seal on its own machine uses ``zhaocai bid submit`` or the
bid API with the declaration format :func:`quote_declaration` describes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import services
from bidding.tables import Bid, OpeningRecord
from procurement.clock import SYSTEM_CLOCK, Clock
from procurement.exceptions import Forbidden, NotFound, ValidationError
from procurement.inquiries import get_inquiry, is_invited, items_of
from procurement.inquiry_rules import Item, QuoteLine, parse_decimal, price_quote
from procurement.roles import Actor, Role
from storage import ObjectStore

MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_DELIVERY_DAYS = 3650


@dataclass(frozen=True)
class QuoteLineDraft:
    """One priced item as entered: the item's number, quantity and unit price as text."""

    item: int
    quantity: str
    unit_price: str


@dataclass(frozen=True)
class QuoteDraft:
    """A supplier's quote as entered, before validation."""

    lines: list[QuoteLineDraft]
    delivery_days: int
    declarations: str = ""
    attachments: dict[str, bytes] = field(default_factory=dict)


def quote_lines(draft: QuoteDraft) -> list[QuoteLine]:
    """Parse the entered lines; bad numbers are a ValidationError naming the field."""
    return [
        QuoteLine(
            item=line.item,
            quantity=parse_decimal(line.quantity, f"items.{line.item}.quantity", what="a quantity"),
            unit_price=parse_decimal(
                line.unit_price, f"items.{line.item}.unit_price", what="a unit price"
            ),
        )
        for line in draft.lines
    ]


def quote_declaration(
    items: list[Item], lines: list[QuoteLine], delivery_days: int, declarations: str
) -> tuple[Decimal, bytes]:
    """The sealed price declaration of a quote and its computed total.

    ``{"total": "…", "items": [{"item", "name", "quantity", "unit", "unit_price",
    "amount"}], "delivery_days": n, "declarations": "…"}``: the opening reads ``total``
    like any bid's declaration (:func:`bidding.services.parse_declaration`).
    """
    total = price_quote(items, lines)
    if not 1 <= delivery_days <= MAX_DELIVERY_DAYS:
        raise ValidationError(
            "the delivery time is 1 to {most} days",
            most=MAX_DELIVERY_DAYS,
            field="delivery_days",
        )
    by_number = {item.number: item for item in items}
    document = {
        "total": str(total),
        "items": [
            {
                "item": line.item,
                "name": by_number[line.item].name,
                "quantity": str(line.quantity),
                "unit": by_number[line.item].unit,
                "unit_price": str(line.unit_price),
                "amount": str(line.amount),
            }
            for line in sorted(lines, key=lambda line: line.item)
        ],
        "delivery_days": delivery_days,
        "declarations": declarations.strip()[:4000],
    }
    return total, json.dumps(document, ensure_ascii=False).encode()


async def submit_quote(
    actor: Actor,
    inquiry_id: int,
    draft: QuoteDraft,
    *,
    store: ObjectStore,
    signing_key: Ed25519PrivateKey,
    clock: Clock = SYSTEM_CLOCK,
) -> dict[str, Any]:
    """Validate, seal and submit one quote; returns the signed receipt (ETM Art. 28).

    Refused: not a supplier, not invited, a second quote, after the deadline (server clock),
    bad prices or quantities, too many or too large attachments. Nothing is stored then.
    """
    if actor.role is not Role.BIDDER or actor.organisation_id is None:
        raise Forbidden("only suppliers quote")
    inquiry = await get_inquiry(inquiry_id)
    if not await is_invited(inquiry_id, actor.organisation_id):
        raise Forbidden("your organisation was not invited to this price inquiry")
    items = await items_of(inquiry_id)
    _, declaration = quote_declaration(
        items, quote_lines(draft), draft.delivery_days, draft.declarations
    )
    if len(draft.attachments) > MAX_ATTACHMENTS:
        raise ValidationError(
            "at most {most} attachments", most=MAX_ATTACHMENTS, field="attachments"
        )
    for name, data in draft.attachments.items():
        if not data or len(data) > MAX_ATTACHMENT_BYTES:
            raise ValidationError(
                "attachment {name!r} must be 1 byte to {most} MiB",
                name=name,
                most=MAX_ATTACHMENT_BYTES // 2**20,
                field="attachments",
            )
    documents = [("other", name, data) for name, data in draft.attachments.items()]
    return await services.seal_and_submit(
        actor,
        inquiry.lot,
        [("price", "quote", declaration), *documents],
        store=store,
        signing_key=signing_key,
        clock=clock,
    )


async def my_quote(actor: Actor, inquiry_id: int) -> dict[str, Any] | None:
    """The caller's submitted quote (id, time, receipt), or None; never its price."""
    inquiry = await get_inquiry(inquiry_id)
    if actor.organisation_id is None or not await is_invited(inquiry_id, actor.organisation_id):
        raise NotFound("no price inquiry with id {inquiry_id}", inquiry_id=inquiry_id)
    row = (
        await Bid.select(Bid.id, Bid.submitted_at, Bid.sequence, Bid.receipt)
        .where(
            (Bid.lot == inquiry.lot)
            & (Bid.bidder == actor.organisation_id)
            & (Bid.status == "submitted")
        )
        .first()
    )
    if row is None:
        return None
    row["receipt"] = json.loads(row["receipt"])
    return row


async def opened_quotes(inquiry_id: int) -> list[dict[str, Any]]:
    """Every quote's opening record with its declaration, once the quotes are open.

    Raises:
        Conflict: before the opening (the quotes are still sealed).
    """
    inquiry = await get_inquiry(inquiry_id)
    rows = (
        await OpeningRecord.select(
            OpeningRecord.bidder,
            OpeningRecord.bidder.name.as_alias("bidder_name"),
            OpeningRecord.bidder.enterprise_size.as_alias("enterprise_size"),
            OpeningRecord.outcome,
            OpeningRecord.cause,
            OpeningRecord.reason,
            OpeningRecord.declared_price_fen,
            OpeningRecord.declaration,
            OpeningRecord.submitted_at,
        )
        .where(OpeningRecord.lot == inquiry.lot)
        .order_by(OpeningRecord.submitted_at)
    )
    for row in rows:
        row["declaration"] = json.loads(row["declaration"]) if row["declaration"] else {}
    return rows
