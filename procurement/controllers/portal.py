"""The public portal: notices, project pages and the Atom feed, for anyone, no login."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from litestar.response import Template

from procurement.clock import SYSTEM_CLOCK
from procurement.documents import list_documents
from procurement.exceptions import NotFound
from procurement.lifecycle import LotStatus, ProcurementMethod, ProjectCategory
from procurement.notices import (
    PAGE_SIZE,
    NoticeFilters,
    NoticeKind,
    atom_feed,
    get_notice,
    search_notices,
)
from procurement.projects import get_project, may_view_project
from procurement.questions import questions_for
from procurement.tables import Lot, Notice, Organisation
from procurement.web import PUBLIC, current_actor, render, with_lot_facts


async def _purchasers() -> list[dict[str, Any]]:
    return (
        await Organisation.select(Organisation.id, Organisation.name, Organisation.name_en)
        .where(Organisation.kind == "purchasing_unit")
        .order_by(Organisation.name)
    )


class PortalController(Controller):
    """Pages of the public portal."""

    @get("/", opt=PUBLIC, name="home")
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        """The front page: the newest notices of each kind and a search box."""
        latest, total = await search_notices(NoticeFilters())
        open_lots = await Lot.count().where(Lot.status == LotStatus.PUBLISHED)
        return render(
            request,
            "portal/home.html",
            {
                "latest": latest,
                "total": total,
                "open_lots": open_lots,
                "NoticeKind": NoticeKind,
            },
        )

    @get("/notices", opt=PUBLIC, name="notices")
    async def notices(self, request: Request[Any, Any, Any]) -> Template:
        """Notice search with filters by kind, category, method, status, unit and dates."""
        filters = NoticeFilters.parse(dict(request.query_params))
        rows, total = await search_notices(filters)
        pages = max(1, -(-total // PAGE_SIZE))
        return render(
            request,
            "portal/notices.html",
            {
                "rows": rows,
                "total": total,
                "filters": filters,
                "pages": pages,
                "purchasers": await _purchasers(),
                "NoticeKind": NoticeKind,
                "ProjectCategory": ProjectCategory,
                "ProcurementMethod": ProcurementMethod,
                "LotStatus": LotStatus,
            },
        )

    @get("/notices/{notice_id:int}", opt=PUBLIC, name="notice")
    async def notice(self, request: Request[Any, Any, Any], notice_id: FromPath[int]) -> Template:
        """One notice, with its project's lots and documents."""
        row = await get_notice(notice_id)
        lots = await Lot.select().where(Lot.project == row["project_id"]).order_by(Lot.number)
        return render(
            request,
            "portal/notice.html",
            {
                "notice": row,
                "kind": NoticeKind(row["kind"]),
                "lots": lots,
                "documents": await list_documents(row["project_id"]),
                "category": ProjectCategory(row["category"]),
                "method": ProcurementMethod(row["method"]),
                "LotStatus": LotStatus,
            },
        )

    @get("/projects/{project_id:int}", opt=PUBLIC, name="project")
    async def project(self, request: Request[Any, Any, Any], project_id: FromPath[int]) -> Template:
        """A published project: lots, documents, notices and answered questions."""
        project = await get_project(project_id)
        actor = current_actor(request)
        published = project.published_at is not None
        if not may_view_project(actor, purchaser_id=project.purchaser, published=published):
            raise NotFound("no project with id {project_id}", project_id=project_id)
        lots = await with_lot_facts(
            await Lot.select().where(Lot.project == project_id).order_by(Lot.number), actor
        )
        notices = (
            await Notice.select(
                Notice.id, Notice.kind, Notice.title, Notice.title_en, Notice.published_at
            )
            .where(Notice.project == project_id)
            .order_by(Notice.published_at)
        )
        purchaser = await Organisation.objects().where(Organisation.id == project.purchaser).first()
        return render(
            request,
            "portal/project.html",
            {
                "project": project,
                "lots": lots,
                "notices": notices,
                "purchaser": purchaser,
                "documents": await list_documents(project_id),
                "questions": await questions_for(actor, project_id),
                "category": ProjectCategory(project.category),
                "method": ProcurementMethod(project.method),
                "LotStatus": LotStatus,
                "NoticeKind": NoticeKind,
                "now": SYSTEM_CLOCK.now(),
            },
        )

    @get("/feed.atom", opt=PUBLIC, name="feed", media_type="application/atom+xml")
    async def feed(self, request: Request[Any, Any, Any]) -> Response[str]:
        """The newest notices as an Atom feed."""
        rows, _ = await search_notices(NoticeFilters())
        base = str(request.base_url).rstrip("/")
        return Response(
            atom_feed(rows, base_url=base, updated=SYSTEM_CLOCK.now()),
            media_type="application/atom+xml; charset=utf-8",
        )
