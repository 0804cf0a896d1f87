"""The purchaser's inquiry page: invitations, the opened quotes, verdicts, conclusion.

Mounted by the composition root next to evaluation's own routes. Nothing here decides:
verdicts and the follow-up are :mod:`procurement.inquiries`, the award is
:mod:`evaluation.inquiry_award`.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from bidding.quotes import opened_quotes
from evaluation.inquiry_award import conclude_inquiry
from procurement.exceptions import Conflict, ValidationError, ZhaocaiError
from procurement.inquiries import inquiry_view, record_follow_up, record_verdict
from procurement.lifecycle import LotStatus
from procurement.roles import Actor, Role
from procurement.web import (
    error_text,
    form_text,
    parse_int,
    render,
    require_actor,
    roles,
    status_for,
)

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
PURCHASER = roles(Role.PURCHASER)
SEALED = {LotStatus.DRAFT, LotStatus.PUBLISHED, LotStatus.BIDDING_CLOSED}


async def _quotes_if_open(view: dict[str, Any]) -> list[dict[str, Any]]:
    if LotStatus(view["status"]) in SEALED:
        return []
    return await opened_quotes(int(view["id"]))


async def _page(
    request: Request[Any, Any, Any],
    actor: Actor,
    inquiry_id: int,
    *,
    error: ZhaocaiError | None = None,
) -> Template:
    view = await inquiry_view(actor, inquiry_id)
    return render(
        request,
        "inquiry/purchaser.html",
        {
            "inquiry": view,
            "quotes": await _quotes_if_open(view),
            "sealed": LotStatus(view["status"]) in SEALED,
            "judging": LotStatus(view["status"]) in {LotStatus.OPENED, LotStatus.EVALUATING},
            "error": error_text(request, error) if error else "",
        },
        status_code=status_for(error) if error else 200,
    )


class InquiryPurchaserController(Controller):
    """Routes under /purchaser/inquiries/<id> for the inquiry's purchaser."""

    path = "/purchaser/inquiries"

    @get("/{inquiry_id:int}", opt=PURCHASER, name="purchaser_inquiry")
    async def inquiry(self, request: Request[Any, Any, Any], inquiry_id: FromPath[int]) -> Template:
        """The inquiry: terms, invited suppliers, and after the opening the quotes to judge."""
        return await _page(request, require_actor(request), inquiry_id)

    @post("/{inquiry_id:int}/verdicts", opt=PURCHASER, name="purchaser_inquiry_verdict")
    async def verdict(
        self, request: Request[Any, Any, Any], inquiry_id: FromPath[int], data: FormData
    ) -> Template | Redirect:
        """Mark one quote compliant or not, with the reason."""
        actor = require_actor(request)
        try:
            compliant = form_text(data, "compliant")
            if compliant not in {"yes", "no"}:
                raise ValidationError("choose compliant or not compliant", field="compliant")
            await record_verdict(
                actor,
                inquiry_id,
                parse_int(form_text(data, "supplier_id"), "supplier_id", minimum=1),
                compliant=compliant == "yes",
                reason=form_text(data, "reason"),
            )
        except ZhaocaiError as exc:
            return await _page(request, actor, inquiry_id, error=exc)
        return Redirect(f"/purchaser/inquiries/{inquiry_id}")

    @post("/{inquiry_id:int}/conclude", opt=PURCHASER, name="purchaser_inquiry_conclude")
    async def conclude(
        self, request: Request[Any, Any, Any], inquiry_id: FromPath[int]
    ) -> Template | Redirect:
        """Award the lowest compliant quote, or terminate with too few valid quotes."""
        actor = require_actor(request)
        try:
            await conclude_inquiry(actor, inquiry_id)
        except ZhaocaiError as exc:
            return await _page(request, actor, inquiry_id, error=exc)
        return Redirect(f"/purchaser/inquiries/{inquiry_id}")

    @post("/{inquiry_id:int}/follow-up", opt=PURCHASER, name="purchaser_inquiry_follow_up")
    async def follow_up(
        self, request: Request[Any, Any, Any], inquiry_id: FromPath[int], data: FormData
    ) -> Template | Redirect:
        """Record re-run or change of method after a failed inquiry."""
        actor = require_actor(request)
        try:
            await record_follow_up(
                actor, inquiry_id, form_text(data, "choice"), form_text(data, "note")
            )
        except ZhaocaiError as exc:
            return await _page(request, actor, inquiry_id, error=exc)
        return Redirect(f"/purchaser/inquiries/{inquiry_id}")


class InquiryEvaluationApiController(Controller):
    """The opened quotes and the conclusion as JSON (OpenAPI at /schema)."""

    path = "/api/inquiries"

    @get("/{inquiry_id:int}/quotes", opt=PURCHASER, name="api_inquiry_quotes")
    async def quotes(
        self, request: Request[Any, Any, Any], inquiry_id: FromPath[int]
    ) -> list[dict[str, Any]]:
        """Every quote's opening record and declaration (refused while sealed)."""
        view = await inquiry_view(require_actor(request), inquiry_id)
        if LotStatus(view["status"]) in SEALED:
            raise Conflict("the quotes are still sealed", code="not_opened")
        return await opened_quotes(inquiry_id)

    @post("/{inquiry_id:int}/conclude", opt=PURCHASER, name="api_inquiry_conclude")
    async def conclude(
        self, request: Request[Any, Any, Any], inquiry_id: FromPath[int]
    ) -> dict[str, Any]:
        """Award the lowest compliant quote, or terminate the inquiry."""
        outcome = await conclude_inquiry(require_actor(request), inquiry_id)
        return {
            "awarded": outcome.awarded,
            "supplier_id": outcome.supplier_id,
            "award_fen": outcome.award_fen,
            "saved_fen": outcome.saved_fen,
            "failure_reason": outcome.failure_reason,
            "notice_id": outcome.notice_id,
        }


ROUTE_HANDLERS = [InquiryPurchaserController, InquiryEvaluationApiController]
