"""The purchasing unit's workspace: projects, lots, documents, questions, publication."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from procurement.clock import CHINA, SYSTEM_CLOCK
from procurement.documents import add_document, list_documents, list_downloads
from procurement.exceptions import ValidationError, ZhaocaiError
from procurement.lifecycle import LotStatus, ProcurementMethod, ProjectCategory
from procurement.notices import NoticeKind
from procurement.projects import (
    LotDraft,
    ProjectDraft,
    cancel_project,
    cancellable,
    create_project,
    ensure_purchaser_owns,
    get_project,
    publish_project,
)
from procurement.questions import answer_question, questions_for
from procurement.roles import Role
from procurement.tables import Lot, Notice, Project
from procurement.web import (
    error_text,
    form_list,
    form_text,
    render,
    require_actor,
    roles,
    status_for,
    with_lot_facts,
)

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
UploadData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
PURCHASER = roles(Role.PURCHASER)
UPLOAD_LIMIT = 210 * 1024 * 1024


_DATETIME_MESSAGES = {
    # field: (when empty, when not a date and time); one sentence per field, for the catalog
    "documents_from": (
        "documents from is required",
        "documents from must be a date and time",
    ),
    "documents_until": (
        "documents until is required",
        "documents until must be a date and time",
    ),
    "bid_deadline": ("bid deadline is required", "bid deadline must be a date and time"),
    "opening_time": ("opening time is required", "opening time must be a date and time"),
    "clarification_deadline": (
        "clarification deadline is required",
        "clarification deadline must be a date and time",
    ),
    "quote_deadline": ("quote deadline is required", "quote deadline must be a date and time"),
}


def parse_local_datetime(value: str, field: str, *, required: bool = True) -> datetime | None:
    """A ``datetime-local`` form value, read as China Standard Time."""
    empty, malformed = _DATETIME_MESSAGES.get(
        field, ("{name} is required", "{name} must be a date and time")
    )
    name = field.replace("_", " ")
    value = value.strip()
    if not value:
        if required:
            raise ValidationError(empty, field=field, name=name)
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError(malformed, field=field, name=name) from exc
    return parsed.replace(tzinfo=CHINA) if parsed.tzinfo is None else parsed


def lot_rows(form: dict[str, Any]) -> list[dict[str, str]]:
    """The lot rows of the form as entered (one empty row for a new form)."""
    columns = {
        name: form_list(form, f"lot_{name}")
        for name in ("title", "budget", "reserve_price", "ceiling_price")
    }
    count = max(1, *(len(values) for values in columns.values()))

    def cell(name: str, index: int) -> str:
        values = columns[name]
        return values[index] if index < len(values) else ""

    return [
        {
            "title": cell("title", i),
            "budget": cell("budget", i),
            "reserve": cell("reserve_price", i),
            "ceiling": cell("ceiling_price", i),
        }
        for i in range(count)
    ]


def draft_from_form(form: dict[str, Any]) -> ProjectDraft:
    """Read the new-project form (lots as repeated fields) into a draft."""
    titles = form_list(form, "lot_title")
    budgets = form_list(form, "lot_budget")
    reserves = form_list(form, "lot_reserve_price") or [""] * len(titles)
    ceilings = form_list(form, "lot_ceiling_price") or [""] * len(titles)
    lots = [
        LotDraft(title=t, budget=b, reserve_price=r, ceiling_price=c)
        for t, b, r, c in zip(titles, budgets, reserves, ceilings, strict=False)
        if t.strip() or b.strip()
    ]
    documents_from = parse_local_datetime(form_text(form, "documents_from"), "documents_from")
    documents_until = parse_local_datetime(form_text(form, "documents_until"), "documents_until")
    bid_deadline = parse_local_datetime(form_text(form, "bid_deadline"), "bid_deadline")
    opening = (
        parse_local_datetime(form_text(form, "opening_time"), "opening_time", required=False)
        or bid_deadline
    )
    assert opening is not None  # noqa: S101 - falls back to the required bid deadline
    assert documents_from is not None  # noqa: S101 - required=True never returns None
    assert documents_until is not None  # noqa: S101
    assert bid_deadline is not None  # noqa: S101
    return ProjectDraft(
        title=form_text(form, "title"),
        title_en=form_text(form, "title_en"),
        description=form_text(form, "description"),
        description_en=form_text(form, "description_en"),
        category=form_text(form, "category"),
        method=form_text(form, "method"),
        documents_from=documents_from,
        documents_until=documents_until,
        clarification_deadline=parse_local_datetime(
            form_text(form, "clarification_deadline"), "clarification_deadline", required=False
        ),
        bid_deadline=bid_deadline,
        opening_time=opening,
        custody_mode=form_text(form, "custody_mode", "custodians"),
        lots=lots,
    )


class PurchaserController(Controller):
    """Routes under /purchaser, for purchasing units only."""

    path = "/purchaser"

    @get("/", opt=PURCHASER, name="purchaser_home")
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        """The unit's projects with the state of each lot."""
        actor = require_actor(request)
        projects = (
            await Project.select(
                Project.id,
                Project.code,
                Project.title,
                Project.title_en,
                Project.category,
                Project.method,
                Project.budget_fen,
                Project.bid_deadline,
                Project.published_at,
            )
            .where(Project.purchaser == actor.organisation_id)
            .order_by(Project.id, ascending=False)
        )
        lots = await Lot.select(Lot.project, Lot.status).where(
            Lot.project.purchaser == actor.organisation_id
        )
        statuses: dict[int, list[str]] = {}
        for lot in lots:
            statuses.setdefault(lot["project"], []).append(lot["status"])
        return render(
            request,
            "purchaser/home.html",
            {
                "projects": projects,
                "statuses": statuses,
                "LotStatus": LotStatus,
                "ProjectCategory": ProjectCategory,
                "ProcurementMethod": ProcurementMethod,
            },
        )

    @get("/projects/new", opt=PURCHASER, name="project_new")
    async def new_project(self, request: Request[Any, Any, Any]) -> Template:
        """The new-project form."""
        return render(
            request,
            "purchaser/project_form.html",
            {
                "form": {},
                "lot_rows": lot_rows({}),
                "ProjectCategory": ProjectCategory,
                "ProcurementMethod": ProcurementMethod,
            },
        )

    @post("/projects", opt=PURCHASER, name="project_create")
    async def create(self, request: Request[Any, Any, Any], data: FormData) -> Template | Redirect:
        """Create a draft project; errors re-show the form with the message."""
        actor = require_actor(request)
        try:
            project_id = await create_project(actor, draft_from_form(data))
        except ZhaocaiError as exc:
            form = {k: (v if isinstance(v, list) else str(v)) for k, v in data.items()}
            return render(
                request,
                "purchaser/project_form.html",
                {
                    "form": form,
                    "lot_rows": lot_rows(data),
                    "error": error_text(request, exc),
                    "error_field": getattr(exc, "field", None),
                    "ProjectCategory": ProjectCategory,
                    "ProcurementMethod": ProcurementMethod,
                },
                status_code=status_for(exc),
            )
        return Redirect(f"/purchaser/projects/{project_id}")

    @get("/projects/{project_id:int}", opt=PURCHASER, name="purchaser_project")
    async def project(self, request: Request[Any, Any, Any], project_id: FromPath[int]) -> Template:
        """One project: lots, documents, questions to answer, publication."""
        actor = require_actor(request)
        project = await get_project(project_id)
        ensure_purchaser_owns(actor, project)
        now = SYSTEM_CLOCK.now()
        downloads = await list_downloads(actor, project_id) if project.bid_deadline <= now else None
        lots = await Lot.select().where(Lot.project == project_id).order_by(Lot.number)
        return render(
            request,
            "purchaser/project.html",
            {
                "project": project,
                "lots": await with_lot_facts(lots, actor),
                "cancellable": cancellable(lot["status"] for lot in lots),
                "documents": await list_documents(project_id),
                "questions": await questions_for(actor, project_id),
                "notices": await Notice.select(
                    Notice.id, Notice.kind, Notice.title, Notice.title_en, Notice.published_at
                )
                .where(Notice.project == project_id)
                .order_by(Notice.published_at),
                "downloads": downloads,
                "now": now,
                "LotStatus": LotStatus,
                "NoticeKind": NoticeKind,
                "category": ProjectCategory(project.category),
                "method": ProcurementMethod(project.method),
                "flash": request.query_params.get("done"),
            },
        )

    @post("/projects/{project_id:int}/publish", opt=PURCHASER, name="project_publish")
    async def publish(self, request: Request[Any, Any, Any], project_id: FromPath[int]) -> Redirect:
        """Publish the project: lots open for bids, the tender notice appears on the portal."""
        await publish_project(require_actor(request), project_id)
        return Redirect(f"/purchaser/projects/{project_id}?done=published")

    @post("/projects/{project_id:int}/cancel", opt=PURCHASER, name="project_cancel")
    async def cancel(
        self, request: Request[Any, Any, Any], project_id: FromPath[int], data: FormData
    ) -> Redirect:
        """Cancel every open lot, with a public notice giving the reason."""
        await cancel_project(require_actor(request), project_id, form_text(data, "reason"))
        return Redirect(f"/purchaser/projects/{project_id}?done=cancelled")

    @post(
        "/projects/{project_id:int}/documents",
        opt=PURCHASER,
        name="document_upload",
        request_max_body_size=UPLOAD_LIMIT,
    )
    async def upload(
        self, request: Request[Any, Any, Any], project_id: FromPath[int], data: UploadData
    ) -> Redirect:
        """Upload one tender document (streamed into the object store)."""
        upload = data.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationError("choose a file to upload", field="file")
        await add_document(
            require_actor(request),
            project_id,
            filename=upload.filename,
            content_type=upload.content_type,
            chunks=_read_chunks(upload),
            store=request.app.state.object_store,
        )
        return Redirect(f"/purchaser/projects/{project_id}?done=uploaded")

    @post("/questions/{question_id:int}/answer", opt=PURCHASER, name="question_answer")
    async def answer(
        self, request: Request[Any, Any, Any], question_id: FromPath[int], data: FormData
    ) -> Redirect:
        """Answer a question; the answer is published to all as a clarification."""
        notice_id = await answer_question(
            require_actor(request), question_id, form_text(data, "answer")
        )
        return Redirect(f"/notices/{notice_id}")


def _read_chunks(upload: UploadFile, size: int = 1 << 20) -> Any:
    """Read an uploaded (spooled) file in 1 MiB chunks, from a worker thread."""
    handle = upload.file
    handle.seek(0)
    while chunk := handle.read(size):
        yield chunk
