"""Expert pool routes: registry (admin), self-service (expert), draw (organiser, supervisor).

The one-time confirmation link is public: its token is the credential.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from expert_pool import registry, services
from expert_pool.experts import ExpertStatus, ProfessionalTitle
from expert_pool.identity import mask_identity_number
from expert_pool.specialties import SPECIALTIES
from procurement.exceptions import ValidationError
from procurement.lifecycle import LotStatus
from procurement.roles import Actor, Role
from procurement.tables import Organisation
from procurement.web import (
    PUBLIC,
    Link,
    Panel,
    add_lot_facts,
    add_lot_links,
    add_workspace_panel,
    form_text,
    parse_int,
    render,
    require_actor,
    roles,
)

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
UploadData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
ADMIN = roles(Role.ADMIN)
EXPERT = roles(Role.EXPERT)
ORGANISER = roles(Role.PURCHASER)
DRAW_VIEWERS = roles(Role.PURCHASER, Role.SUPERVISOR)


async def _organisations() -> list[dict[str, Any]]:
    return list(
        await Organisation.select(Organisation.id, Organisation.name, Organisation.kind).order_by(
            Organisation.name
        )
    )


async def _expert_form(
    request: Request[Any, Any, Any],
    *,
    expert: Mapping[str, Any] | None,
    error: str = "",
    status_code: int = 200,
) -> Template:
    return render(
        request,
        "expert_pool/expert_form.html",
        {
            "expert": expert or {},
            "titles": [t.value for t in ProfessionalTitle],
            "statuses": [s.value for s in ExpertStatus],
            "organisations": await _organisations(),
            "specialties": SPECIALTIES,
            "error": error,
            "done": request.query_params.get("done", ""),
        },
        status_code=status_code,
    )


class ExpertAdminController(Controller):
    """The registry pages of the administrator (the only pages with full identity numbers)."""

    path = "/admin/experts"

    @get("/", opt=ADMIN, name="expert_list")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        """Experts filtered by name, specialty and status."""
        query = request.query_params.get("q", "").strip()[:100]
        code = request.query_params.get("specialty", "").strip().upper()[:20]
        status = request.query_params.get("status", "").strip()
        page = parse_int(request.query_params.get("page", "1") or "1", "page", minimum=1)
        rows, matching = await registry.list_experts(
            query=query, specialty_code=code, status=status, page=page
        )
        return render(
            request,
            "expert_pool/admin_list.html",
            {
                "rows": rows,
                "q": query,
                "specialty": code,
                "status": status,
                "statuses": [s.value for s in ExpertStatus],
                "specialties": SPECIALTIES,
                "total": await registry.pool_size(),
                "matching": matching,
                "page": page,
                "pages": max(1, -(-matching // registry.EXPERTS_PER_PAGE)),
                "done": request.query_params.get("done", ""),
            },
        )

    @get("/new", opt=ADMIN, name="expert_new")
    async def new(self, request: Request[Any, Any, Any]) -> Template:
        """The form for a new expert."""
        return await _expert_form(request, expert=None)

    @post("/", opt=ADMIN, name="expert_create")
    async def create(self, request: Request[Any, Any, Any], data: FormData) -> Redirect:
        """Register an expert and their expert account."""
        fields = registry.parse_expert_fields(data)
        password = form_text(data, "password") or None
        expert_id = await registry.create_expert(require_actor(request), fields, password=password)
        return Redirect(f"/admin/experts/{expert_id}?done=created")

    @get("/{expert_id:int}", opt=ADMIN, name="expert_edit")
    async def edit(self, request: Request[Any, Any, Any], expert_id: FromPath[int]) -> Template:
        """The expert's full record, editable."""
        row = await registry.get_expert(expert_id)
        return await _expert_form(request, expert=row.to_dict())

    @post("/{expert_id:int}", opt=ADMIN, name="expert_update")
    async def update(
        self, request: Request[Any, Any, Any], expert_id: FromPath[int], data: FormData
    ) -> Redirect:
        """Save the expert's record."""
        fields = registry.parse_expert_fields(data)
        await registry.update_expert(require_actor(request), expert_id, fields)
        return Redirect(f"/admin/experts/{expert_id}?done=saved")

    @post("/{expert_id:int}/status", opt=ADMIN, name="expert_status")
    async def status(
        self, request: Request[Any, Any, Any], expert_id: FromPath[int], data: FormData
    ) -> Redirect:
        """Suspend, retire, blacklist or reactivate, with the reason kept."""
        await registry.set_status(
            require_actor(request),
            expert_id,
            form_text(data, "status"),
            form_text(data, "reason"),
        )
        return Redirect(f"/admin/experts/{expert_id}?done=status")

    @get("/import", opt=ADMIN, name="expert_import_form")
    async def import_form(self, request: Request[Any, Any, Any]) -> Template:
        """Upload a CSV or XLSX file of experts."""
        return render(
            request,
            "expert_pool/import.html",
            {"columns": registry.IMPORT_COLUMNS, "report": None},
        )

    @post("/import", opt=ADMIN, name="expert_import", request_max_body_size=11 * 1024 * 1024)
    async def import_file(self, request: Request[Any, Any, Any], data: UploadData) -> Template:
        """Import the file; all or nothing unless "import valid rows" is ticked."""
        upload = data.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationError("choose a .csv or .xlsx file to import", field="file")
        content = await upload.read()
        rows = registry.read_import_file(upload.filename, content)
        valid_only = form_text(data, "valid_rows") in {"1", "on", "yes"}
        actor = require_actor(request)
        try:
            report = await registry.import_experts(actor, rows, valid_rows_only=valid_only)
        except registry.ImportRefused as refused:
            return render(
                request,
                "expert_pool/import.html",
                {"columns": registry.IMPORT_COLUMNS, "report": refused.report, "refused": True},
                status_code=400,
            )
        return render(
            request,
            "expert_pool/import.html",
            {"columns": registry.IMPORT_COLUMNS, "report": report, "refused": False},
        )


class ExpertSelfServiceController(Controller):
    """The expert's own workspace: seats to answer, availability, conflicts."""

    path = "/expert"

    @get("/", opt=EXPERT, name="expert_home")
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        """Seats, days off and declared conflicts of the logged-in expert."""
        actor = require_actor(request)
        context = await registry.self_service(actor)
        context["seats"] = await services.my_seats(actor)
        context["done"] = request.query_params.get("done", "")
        return render(request, "expert_pool/expert_home.html", context)

    @post("/unavailable", opt=EXPERT, name="expert_unavailable_add")
    async def add_day(self, request: Request[Any, Any, Any], data: FormData) -> Redirect:
        """Declare a day the expert cannot evaluate."""
        try:
            day = date.fromisoformat(form_text(data, "day"))
        except ValueError:
            raise ValidationError("day must be a date like 2026-12-24", field="day") from None
        await registry.add_unavailable_date(require_actor(request), day)
        return Redirect("/expert?done=availability")

    @post("/unavailable/{row_id:int}/delete", opt=EXPERT, name="expert_unavailable_delete")
    async def remove_day(self, request: Request[Any, Any, Any], row_id: FromPath[int]) -> Redirect:
        """Withdraw a declared day."""
        await registry.remove_unavailable_date(require_actor(request), row_id)
        return Redirect("/expert?done=availability")

    @post("/conflicts", opt=EXPERT, name="expert_conflict_add")
    async def add_conflict(self, request: Request[Any, Any, Any], data: FormData) -> Redirect:
        """Declare a conflict of interest with an organisation (GPL-R Art. 9)."""
        organisation_id = parse_int(form_text(data, "organisation"), "organisation", minimum=1)
        await registry.declare_conflict(
            require_actor(request), organisation_id, form_text(data, "note")
        )
        return Redirect("/expert?done=conflicts")

    @post("/conflicts/{row_id:int}/delete", opt=EXPERT, name="expert_conflict_delete")
    async def remove_conflict(
        self, request: Request[Any, Any, Any], row_id: FromPath[int]
    ) -> Redirect:
        """Withdraw a declared conflict."""
        await registry.withdraw_conflict(require_actor(request), row_id)
        return Redirect("/expert?done=conflicts")

    @post("/seats/{seat_id:int}/confirm", opt=EXPERT, name="expert_seat_confirm")
    async def confirm(self, request: Request[Any, Any, Any], seat_id: FromPath[int]) -> Redirect:
        """Confirm a drawn seat."""
        await services.answer_as_expert(require_actor(request), seat_id, accept=True)
        return Redirect("/expert?done=confirmed")

    @post("/seats/{seat_id:int}/decline", opt=EXPERT, name="expert_seat_decline")
    async def decline(self, request: Request[Any, Any, Any], seat_id: FromPath[int]) -> Redirect:
        """Decline a drawn seat; the next expert in rank order is called."""
        await services.answer_as_expert(require_actor(request), seat_id, accept=False)
        return Redirect("/expert?done=declined")


class ExpertAnswerController(Controller):
    """The one-time link in the notification: no login, the token is the credential."""

    path = "/experts/answer"

    @get("/{seat_id:int}", opt=PUBLIC, name="expert_answer_page")
    async def page(self, request: Request[Any, Any, Any], seat_id: FromPath[int]) -> Template:
        """Show the question if the link is still usable (unused, not expired)."""
        token = request.query_params.get("token", "")[:100]
        seat = await services.check_token(seat_id, token)
        return render(
            request,
            "expert_pool/answer.html",
            {"seat": seat, "token": token, "answered": ""},
        )

    @post("/{seat_id:int}", opt=PUBLIC, name="expert_answer")
    async def answer(
        self, request: Request[Any, Any, Any], seat_id: FromPath[int], data: FormData
    ) -> Template:
        """Confirm or decline once; the link is spent afterwards."""
        decision = form_text(data, "decision")
        if decision not in {"confirm", "decline"}:
            raise ValidationError("choose confirm or decline", field="decision")
        status = await services.answer_with_token(
            seat_id, form_text(data, "token")[:100], accept=decision == "confirm"
        )
        return render(
            request, "expert_pool/answer.html", {"seat": None, "token": "", "answered": status}
        )


class DrawController(Controller):
    """The lot's expert draw: the organiser requests it, the supervisor watches the record."""

    path = "/lots/{lot_id:int}/draw"

    @get("/", opt=DRAW_VIEWERS, name="expert_draw_page")
    async def page(self, request: Request[Any, Any, Any], lot_id: FromPath[int]) -> Template:
        """The draw record as the caller may see it (RULES §4 secrecy)."""
        context = await services.draw_page(require_actor(request), lot_id)
        context["specialties"] = SPECIALTIES
        context["done"] = request.query_params.get("done", "")
        context["mask"] = mask_identity_number
        context["committee"] = []
        context["ratings"] = []
        if context["concluded"]:
            context["committee"] = await services.confirmed_committee(lot_id)
            context["ratings"] = await services.ratings_of_lot(lot_id)
        context["rating_choices"] = [r.value for r in services.Rating]
        return render(request, "expert_pool/draw.html", context)

    @post("/ratings", opt=DRAW_VIEWERS, name="expert_rate")
    async def rate(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int], data: FormData
    ) -> Redirect:
        """Rate a committee member's conduct after the evaluation (GPL-R Art. 63, 75)."""
        expert_id = parse_int(form_text(data, "expert_id"), "expert_id", minimum=1)
        await services.rate_expert(
            require_actor(request),
            lot_id,
            expert_id,
            form_text(data, "rating"),
            violation=form_text(data, "violation") in {"1", "on", "yes"},
            note=form_text(data, "note"),
        )
        return Redirect(f"/lots/{lot_id}/draw?done=rated")

    @post("/", opt=ORGANISER, name="expert_draw_request")
    async def draw(
        self, request: Request[Any, Any, Any], lot_id: FromPath[int], data: FormData
    ) -> Redirect:
        """Request the draw: checked, committed, drawn, notified."""
        form = services.parse_draw_form(data)
        await services.request_draw(require_actor(request), lot_id, form)
        return Redirect(f"/lots/{lot_id}/draw?done=drawn")


_DRAW_STATES = {
    LotStatus.BIDDING_CLOSED,
    LotStatus.OPENED,
    LotStatus.EVALUATING,
    LotStatus.AWARDED,
    LotStatus.FAILED,
    LotStatus.CANCELLED,
}


async def lot_facts(rows: list[dict[str, Any]], actor: Actor | None) -> None:
    """``pool_exhausted``: the lot's standing draw ran out of experts (one query per page).

    Only for those who see the draw; the organiser must stop and draw again with a reason,
    so the lot lists say so instead of leaving it to be found on the draw page.
    """
    if actor is None or actor.role not in {Role.SUPERVISOR, Role.PURCHASER}:
        return
    exhausted = await services.lots_with_exhausted_pool(
        [int(row["id"]) for row in rows if row.get("id") is not None]
    )
    for row in rows:
        row["pool_exhausted"] = int(row.get("id") or 0) in exhausted


def lot_links(lot: Mapping[str, Any], actor: Actor | None) -> list[Link]:
    """The "Expert draw" link on lots past their deadline, for those who see the draw.

    Supervisors, and purchasers of the lot's unit or agency (``purchaser_id`` and
    ``agency_id`` of the row, see ``procurement.web.with_lot_facts``). When the pool ran
    out for the lot (``pool_exhausted``, from :func:`lot_facts`) the link says so.
    """
    if lot.get("status") not in _DRAW_STATES or "id" not in lot:
        return []
    if not services.may_see_draw(
        actor, purchaser_id=lot.get("purchaser_id"), agency_id=lot.get("agency_id")
    ):
        return []
    label = "Expert draw: pool exhausted" if lot.get("pool_exhausted") else "Expert draw"
    return [Link(label, f"/lots/{lot['id']}/draw")]


add_lot_facts(lot_facts)
add_lot_links(lot_links)
add_workspace_panel(Role.ADMIN.value, Panel("expert_pool/_admin_panel.html"))
ROUTE_HANDLERS = [
    ExpertAdminController,
    ExpertSelfServiceController,
    ExpertAnswerController,
    DrawController,
]
