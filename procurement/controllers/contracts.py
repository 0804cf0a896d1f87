"""Contract pages and API: the purchaser records the contract signed for an awarded lot."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody
from litestar.response import Redirect, Template

from procurement.contracts import (
    contract_view,
    may_read_contract,
    parse_amount_fen,
    parse_amount_yuan,
    parse_signed_on,
    record_contract,
)
from procurement.exceptions import Forbidden, NotFound, ValidationError, ZhaocaiError
from procurement.projects import owns
from procurement.roles import Actor, Role
from procurement.web import (
    Link,
    add_lot_links,
    error_text,
    form_text,
    render,
    require_actor,
    roles,
    status_for,
)

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
PURCHASER = roles(Role.PURCHASER)
READERS = roles(Role.PURCHASER, Role.SUPERVISOR, Role.ADMIN)


def contract_links(lot: Any, actor: Actor | None) -> list[Link]:
    """A "Contract" link on awarded lots, for whoever may read that lot's contract."""
    if lot.get("status") != "awarded" or not may_read_contract(actor, lot.get("purchaser_id")):
        return []
    return [Link("Contract", f"/purchaser/lots/{lot['id']}/contract")]


add_lot_links(contract_links)


class ContractController(Controller):
    """The contract page of a lot: the owning unit records it, supervisors and admins read it."""

    path = "/purchaser/lots"

    @get("/{lot_id:int}/contract", opt=READERS, name="contract_page")
    async def page(self, request: Request[Any, Any, Any], lot_id: FromPath[int]) -> Template:
        """The lot's award, the signing deadline, and the contract or the form to record it.

        Supervisors and admins read it as the API shows it to them (the timeliness page
        links here); only the owning unit gets the form.
        """
        actor = require_actor(request)
        view = await contract_view(actor, lot_id)
        return render(
            request,
            "purchaser/contract.html",
            {
                "view": view,
                "form": {},
                "flash": request.query_params.get("done"),
                "may_record": owns(actor, view["purchaser_id"]),
            },
        )

    @post("/{lot_id:int}/contract", opt=PURCHASER, name="contract_record")
    async def record(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int], data: FormData
    ) -> Template | Redirect:
        """Record the contract; a refused form is shown again with the reason (4xx)."""
        actor = require_actor(request)
        try:
            await record_contract(
                actor,
                lot_id,
                amount_fen=parse_amount_yuan(form_text(data, "amount")),
                signed_on=parse_signed_on(form_text(data, "signed_on")),
            )
        except ZhaocaiError as exc:
            if isinstance(exc, NotFound | Forbidden):
                raise
            view = await contract_view(actor, lot_id)
            return render(
                request,
                "purchaser/contract.html",
                {
                    "view": view,
                    "may_record": True,
                    "form": {k: str(v) for k, v in data.items()},
                    "error": error_text(request, exc),
                    "error_field": exc.field,
                },
                status_code=status_for(exc),
            )
        return Redirect(f"/purchaser/lots/{lot_id}/contract?done=recorded")


class ContractApiController(Controller):
    """The contract of a lot as JSON: read it, or record it (``amount_fen``, ``signed_on``)."""

    path = "/api/lots"

    @get("/{lot_id:int}/contract", opt=READERS, name="api_contract")
    async def read(self, request: Request[Any, Any, Any], lot_id: FromPath[int]) -> dict[str, Any]:
        """The lot's award, signing deadline and contract (``null`` until recorded)."""
        return await contract_view(require_actor(request), lot_id)

    @post("/{lot_id:int}/contract", opt=PURCHASER, name="api_contract_record", status_code=201)
    async def create(
        self,
        request: Request[Any, Any, Any],
        lot_id: FromPath[int],
        data: JSONBody[dict[str, Any]],
    ) -> dict[str, Any]:
        """Record the contract: ``{"amount_fen": 117580000, "signed_on": "2026-12-01"}``."""
        unknown = sorted(set(data) - {"amount_fen", "signed_on"})
        if unknown:
            raise ValidationError(
                "unknown field {names}", field=unknown[0], names=", ".join(unknown)
            )
        actor = require_actor(request)
        await record_contract(
            actor,
            lot_id,
            amount_fen=parse_amount_fen(data.get("amount_fen")),
            signed_on=parse_signed_on(data.get("signed_on")),
        )
        return await contract_view(actor, lot_id)
