"""Price inquiry routes of the core: post an RFQ, framework agreements, the JSON API.

Quotes (bidding) and the purchaser's judging and conclusion (evaluation) add their own
routes under the same ``/supplier/inquiries`` and ``/purchaser/inquiries`` paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody
from litestar.response import Redirect, Template

from procurement.clock import CHINA, SYSTEM_CLOCK
from procurement.controllers.purchaser import parse_local_datetime
from procurement.exceptions import ValidationError, ZhaocaiError
from procurement.inquiries import (
    InquiryDraft,
    ItemDraft,
    category_suppliers,
    create_framework,
    create_inquiry,
    inquiries_for,
    inquiry_view,
    list_frameworks,
    record_follow_up,
    record_verdict,
)
from procurement.inquiry_rules import InvitationMode
from procurement.roles import Role
from procurement.web import (
    Panel,
    add_workspace_panel,
    error_text,
    form_list,
    form_text,
    render,
    require_actor,
    roles,
    status_for,
)

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
PURCHASER = roles(Role.PURCHASER)
BIDDER = roles(Role.BIDDER)
ADMIN = roles(Role.ADMIN)
INQUIRY_ROLES = roles(Role.PURCHASER, Role.BIDDER)
ITEM_FIELDS = ("name", "specification", "quantity", "unit", "reference_brand")
BLANK_ITEM_ROWS = 3


def _ids(values: list[str], field_name: str) -> list[int]:
    try:
        return [int(v) for v in values if v.strip()]
    except ValueError as exc:
        raise ValidationError("supplier ids must be whole numbers", field=field_name) from exc


_NOT_A_DATE = {
    "valid_from": "valid from must be a date",
    "valid_until": "valid until must be a date",
}


def _date(text: str, field_name: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValidationError(_NOT_A_DATE[field_name], field=field_name) from exc


def item_rows(form: dict[str, Any]) -> list[dict[str, str]]:
    """The item rows as entered (blank rows for a new form)."""
    columns = {name: form_list(form, f"item_{name}") for name in ITEM_FIELDS}
    count = max(BLANK_ITEM_ROWS, *(len(values) for values in columns.values()))
    return [
        {name: (columns[name][i] if i < len(columns[name]) else "") for name in ITEM_FIELDS}
        for i in range(count)
    ]


def draft_from_form(form: dict[str, Any]) -> InquiryDraft:
    """Read the RFQ form (items as repeated fields; empty rows ignored)."""
    items = [
        ItemDraft(**row)
        for row in item_rows(form)
        if any(row[name].strip() for name in ("name", "quantity", "unit"))
    ]
    deadline = parse_local_datetime(form_text(form, "quote_deadline"), "quote_deadline")
    assert deadline is not None  # noqa: S101 - required=True never returns None
    framework = form_text(form, "framework_id")
    return InquiryDraft(
        title=form_text(form, "title"),
        title_en=form_text(form, "title_en"),
        items=items,
        budget=form_text(form, "budget"),
        delivery_place=form_text(form, "delivery_place"),
        delivery_time=form_text(form, "delivery_time"),
        quote_deadline=deadline,
        invitation_mode=form_text(form, "invitation_mode"),
        supplier_ids=_ids(form_list(form, "supplier_id"), "suppliers"),
        framework_id=_ids([framework], "framework_id")[0] if framework.strip() else None,
        requirements=form_text(form, "requirements"),
        sme_deduction_percent=form_text(form, "sme_deduction_percent"),
    )


async def _form_context(form: dict[str, Any]) -> dict[str, Any]:
    today = SYSTEM_CLOCK.now().astimezone(CHINA).date()
    return {
        "form": form,
        "item_rows": item_rows(form),
        "suppliers": await category_suppliers(),
        "chosen": set(form_list(form, "supplier_id")),
        "frameworks": await list_frameworks(on=today),
        "modes": list(InvitationMode),
    }


class InquiryPagesController(Controller):
    """The purchaser's RFQ form and list, the supplier's list, the admin's agreements."""

    path = "/"

    @get("/purchaser/inquiries", opt=PURCHASER, name="purchaser_inquiries")
    async def purchaser_list(self, request: Request[Any, Any, Any]) -> Template:
        """The unit's price inquiries."""
        rows = await inquiries_for(require_actor(request))
        today = SYSTEM_CLOCK.now().astimezone(CHINA).date()
        return render(
            request,
            "inquiry/list.html",
            {"inquiries": rows, "who": "purchaser", "frameworks": await list_frameworks(on=today)},
        )

    @get("/purchaser/inquiries/new", opt=PURCHASER, name="inquiry_new")
    async def new(self, request: Request[Any, Any, Any]) -> Template:
        """The RFQ form; ``?framework=<id>`` starts a quick inquiry among its suppliers."""
        form: dict[str, Any] = {}
        framework = request.query_params.get("framework", "")
        if framework.isdigit():
            form = {"invitation_mode": "framework", "framework_id": framework}
        return render(request, "inquiry/form.html", await _form_context(form))

    @post("/purchaser/inquiries", opt=PURCHASER, name="inquiry_create")
    async def create(self, request: Request[Any, Any, Any], data: FormData) -> Template | Redirect:
        """Post the inquiry; errors re-show the form with the message and a 4xx."""
        try:
            inquiry_id = await create_inquiry(require_actor(request), draft_from_form(data))
        except ZhaocaiError as exc:
            form = {k: (v if isinstance(v, list) else str(v)) for k, v in data.items()}
            context = await _form_context(form)
            context.update({"error": error_text(request, exc), "error_field": exc.field})
            return render(request, "inquiry/form.html", context, status_code=status_for(exc))
        return Redirect(f"/purchaser/inquiries/{inquiry_id}")

    @get("/supplier/inquiries", opt=BIDDER, name="supplier_inquiries")
    async def supplier_list(self, request: Request[Any, Any, Any]) -> Template:
        """The inquiries this supplier is invited to."""
        rows = await inquiries_for(require_actor(request))
        return render(request, "inquiry/list.html", {"inquiries": rows, "who": "supplier"})

    @get("/admin/frameworks", opt=ADMIN, name="admin_frameworks")
    async def frameworks(self, request: Request[Any, Any, Any]) -> Template:
        """Framework agreements (协议供货/定点) and the form to add one."""
        return render(
            request,
            "inquiry/frameworks.html",
            {"frameworks": await list_frameworks(), "suppliers": await category_suppliers()},
        )

    @post("/admin/frameworks", opt=ADMIN, name="admin_framework_create")
    async def create_framework(
        self, request: Request[Any, Any, Any], data: FormData
    ) -> Template | Redirect:
        """Record an agreement with its admitted suppliers and validity."""
        try:
            await create_framework(
                require_actor(request),
                name=form_text(data, "name"),
                category=form_text(data, "category"),
                valid_from=_date(form_text(data, "valid_from"), "valid_from"),
                valid_until=_date(form_text(data, "valid_until"), "valid_until"),
                supplier_ids=_ids(form_list(data, "supplier_id"), "suppliers"),
            )
        except ZhaocaiError as exc:
            return render(
                request,
                "inquiry/frameworks.html",
                {
                    "frameworks": await list_frameworks(),
                    "suppliers": await category_suppliers(),
                    "error": error_text(request, exc),
                },
                status_code=status_for(exc),
            )
        return Redirect("/admin/frameworks")


@dataclass
class VerdictIn:
    """A compliance verdict on an opened quote; a reason is required when not compliant."""

    compliant: bool
    reason: str = ""


@dataclass
class FollowUpIn:
    """After a failed inquiry: ``rerun`` or ``change_method``."""

    choice: str
    note: str = ""


@dataclass
class FrameworkIn:
    """A framework agreement with its admitted suppliers."""

    name: str
    category: str
    valid_from: date
    valid_until: date
    supplier_ids: list[int]


class InquiryApiController(Controller):
    """The price inquiry JSON API (purchasers and suppliers' own systems; OpenAPI at /schema)."""

    path = "/api"

    @get("/inquiries", opt=INQUIRY_ROLES, name="api_inquiries")
    async def list_inquiries(self, request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
        """The caller's inquiries: own (purchaser) or invited to (supplier)."""
        return await inquiries_for(require_actor(request))

    @post("/inquiries", opt=PURCHASER, name="api_inquiry_create", status_code=201)
    async def create(
        self, request: Request[Any, Any, Any], data: JSONBody[InquiryDraft]
    ) -> dict[str, Any]:
        """Post a price inquiry (the same draft as the form); returns it as stored."""
        actor = require_actor(request)
        inquiry_id = await create_inquiry(actor, data)
        return await inquiry_view(actor, inquiry_id)

    @get("/inquiries/{inquiry_id:int}", opt=INQUIRY_ROLES, name="api_inquiry")
    async def detail(
        self, request: Request[Any, Any, Any], inquiry_id: FromPath[int]
    ) -> dict[str, Any]:
        """One inquiry: items, terms, deadline, state (and for its purchaser the invitations)."""
        view = await inquiry_view(require_actor(request), inquiry_id)
        view["verdicts"] = list(view["verdicts"].values())
        return view

    @put(
        "/inquiries/{inquiry_id:int}/verdicts/{supplier_id:int}",
        opt=PURCHASER,
        name="api_inquiry_verdict",
    )
    async def verdict(
        self,
        request: Request[Any, Any, Any],
        inquiry_id: FromPath[int],
        supplier_id: FromPath[int],
        data: JSONBody[VerdictIn],
    ) -> dict[str, Any]:
        """Mark an opened quote compliant or not (refused before the opening)."""
        await record_verdict(
            require_actor(request),
            inquiry_id,
            supplier_id,
            compliant=data.compliant,
            reason=data.reason,
        )
        return {"supplier_id": supplier_id, "compliant": data.compliant, "reason": data.reason}

    @post("/inquiries/{inquiry_id:int}/follow-up", opt=PURCHASER, name="api_inquiry_follow_up")
    async def follow_up(
        self,
        request: Request[Any, Any, Any],
        inquiry_id: FromPath[int],
        data: JSONBody[FollowUpIn],
    ) -> dict[str, Any]:
        """Record re-run or change of method after a failed inquiry."""
        await record_follow_up(require_actor(request), inquiry_id, data.choice, data.note)
        return {"choice": data.choice}

    @get("/frameworks", opt=roles(Role.ADMIN, Role.PURCHASER), name="api_frameworks")
    async def frameworks(self) -> list[dict[str, Any]]:
        """Framework agreements with their supplier counts."""
        return await list_frameworks()

    @post("/frameworks", opt=ADMIN, name="api_framework_create", status_code=201)
    async def create_framework(
        self, request: Request[Any, Any, Any], data: JSONBody[FrameworkIn]
    ) -> dict[str, Any]:
        """Record a framework agreement."""
        framework_id = await create_framework(
            require_actor(request),
            name=data.name,
            category=data.category,
            valid_from=data.valid_from,
            valid_until=data.valid_until,
            supplier_ids=data.supplier_ids,
        )
        return {"id": framework_id}


add_workspace_panel("bidder", Panel("inquiry/panel_supplier.html"))
add_workspace_panel("admin", Panel("inquiry/panel_admin.html"))
