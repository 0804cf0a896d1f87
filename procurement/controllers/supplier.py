"""The supplier's workspace: open tenders, document downloads, questions."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Stream, Template

from procurement.documents import open_document
from procurement.lifecycle import LotStatus, ProcurementMethod, ProjectCategory
from procurement.questions import ask_question
from procurement.roles import Role
from procurement.tables import DocumentDownload, Lot, Notification, Organisation
from procurement.web import form_text, render, require_actor, roles, with_lot_facts

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


class SupplierController(Controller):
    """Routes for suppliers (role bidder), plus the document download shared with officials."""

    @get("/supplier", opt=roles(Role.BIDDER), name="supplier_home")
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        """Open tenders, the documents this supplier downloaded, its notifications."""
        actor = require_actor(request)
        open_lots = (
            await Lot.select(
                Lot.id,
                Lot.number,
                Lot.title,
                Lot.title_en,
                Lot.budget_fen,
                Lot.status,
                Lot.project.id.as_alias("project_id"),
                Lot.project.title.as_alias("project_title"),
                Lot.project.title_en.as_alias("project_title_en"),
                Lot.project.code.as_alias("project_code"),
                Lot.project.category.as_alias("category"),
                Lot.project.method.as_alias("method"),
                Lot.project.bid_deadline.as_alias("bid_deadline"),
            )
            .where(Lot.status == LotStatus.PUBLISHED)
            .order_by(Lot.project.bid_deadline)
        )
        downloads = (
            await DocumentDownload.select(
                DocumentDownload.document.filename.as_alias("filename"),
                DocumentDownload.document.project.id.as_alias("project_id"),  # type: ignore[union-attr]  # two-level join
                DocumentDownload.document.project.title.as_alias("project_title"),  # type: ignore[union-attr]  # two-level join
                DocumentDownload.document.project.title_en.as_alias("project_title_en"),  # type: ignore[union-attr]  # two-level join
                DocumentDownload.downloaded_at,
            )
            .where(DocumentDownload.organisation == actor.organisation_id)
            .order_by(DocumentDownload.downloaded_at, ascending=False)
            .limit(20)
        )
        organisation = (
            await Organisation.objects().where(Organisation.id == actor.organisation_id).first()
        )
        notifications = (
            await Notification.select()
            .where(Notification.user == actor.user_id)
            .order_by(Notification.created_at, ascending=False)
            .limit(10)
        )
        return render(
            request,
            "supplier/home.html",
            {
                "open_lots": await with_lot_facts(open_lots, actor),
                "downloads": downloads,
                "organisation": organisation,
                "notifications": notifications,
                "ProjectCategory": ProjectCategory,
                "ProcurementMethod": ProcurementMethod,
            },
        )

    @get(
        "/documents/{document_id:int}/download",
        opt=roles(Role.BIDDER, Role.PURCHASER, Role.SUPERVISOR, Role.EXPERT, Role.ADMIN),
        name="document_download",
    )
    async def download(self, request: Request[Any, Any, Any], document_id: FromPath[int]) -> Stream:
        """Stream a tender document; a supplier's download is recorded (secretly)."""
        document, chunks = await open_document(
            require_actor(request), document_id, store=request.app.state.object_store
        )
        disposition = f"attachment; filename*=UTF-8''{quote(document.filename)}"
        return Stream(
            chunks,
            media_type=document.content_type,
            headers={
                "Content-Disposition": disposition,
                "Content-Length": str(document.size),
                "X-Content-SHA256": document.sha256,
            },
        )

    @post("/projects/{project_id:int}/questions", opt=roles(Role.BIDDER), name="question_ask")
    async def ask(
        self, request: Request[Any, Any, Any], project_id: FromPath[int], data: FormData
    ) -> Redirect:
        """Ask a question on the tender documents (anonymous to other suppliers)."""
        await ask_question(require_actor(request), project_id, form_text(data, "text"))
        return Redirect(f"/projects/{project_id}?asked=1")
