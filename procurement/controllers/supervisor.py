"""The supervisor's view: the audit trail and every project's records."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from procurement.audit import verify_audit_log
from procurement.documents import list_downloads
from procurement.numbers import MAX_BIGINT
from procurement.projects import get_project, may_view_project
from procurement.roles import Role
from procurement.tables import AuditEntry, Lot
from procurement.web import parse_int, render, require_actor, roles, with_lot_facts

SUPERVISOR = roles(Role.SUPERVISOR)
AUDIT_PAGE = 50


class SupervisorController(Controller):
    """Routes under /supervisor."""

    path = "/supervisor"

    @get("/", opt=SUPERVISOR, name="supervisor_home")
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        """Lots by state and the latest audit entries."""
        lots = (
            await Lot.select(
                Lot.id,
                Lot.number,
                Lot.title,
                Lot.title_en,
                Lot.status,
                Lot.budget_fen,
                Lot.project.id.as_alias("project_id"),
                Lot.project.code.as_alias("code"),
                Lot.project.title.as_alias("project_title"),
                Lot.project.title_en.as_alias("project_title_en"),
                Lot.project.purchaser.name.as_alias("purchaser"),  # type: ignore[union-attr]  # two-level join
                Lot.project.purchaser.name_en.as_alias("purchaser_en"),  # type: ignore[union-attr]  # two-level join
                Lot.project.bid_deadline.as_alias("bid_deadline"),
            )
            .order_by(Lot.project.bid_deadline, ascending=False)
            .limit(100)
        )
        actor = require_actor(request)
        rows = await with_lot_facts(lots, actor)
        for row in rows:  # a draft's project page is its unit's only: no link to a 404
            row["project_page"] = may_view_project(
                actor, purchaser_id=row["purchaser_id"], published=row["published"]
            )
        return render(request, "supervisor/home.html", {"lots": rows})

    @get("/audit", opt=SUPERVISOR, name="audit_log")
    async def audit_log(self, request: Request[Any, Any, Any]) -> Template:
        """Browse the hash-chained audit log, newest first, filtered by action or subject."""
        action = request.query_params.get("action", "").strip()
        subject = request.query_params.get("subject", "").strip()
        before_text = request.query_params.get("before", "").strip()
        # "²".isdigit() holds and int("²") fails: one parser for numbers from outside
        before = (
            parse_int(before_text, "before", minimum=0, maximum=MAX_BIGINT) if before_text else None
        )
        query = AuditEntry.select()
        if action:
            query = query.where(AuditEntry.action.like(f"{action.replace('%', '')}%"))
        if subject:
            kind, _, ident = subject.partition(":")
            query = query.where(AuditEntry.subject_type == kind)
            if ident:
                query = query.where(AuditEntry.subject_id == ident)
        if before is not None:
            query = query.where(AuditEntry.seq < before)
        rows = await query.order_by(AuditEntry.seq, ascending=False).limit(AUDIT_PAGE)
        verification = None
        if request.query_params.get("verify") == "1":
            verification = await verify_audit_log()
        return render(
            request,
            "supervisor/audit.html",
            {
                "rows": rows,
                "action": action,
                "subject": subject,
                "verification": verification,
                "next_before": rows[-1]["seq"] if len(rows) == AUDIT_PAGE else None,
            },
        )

    @get("/projects/{project_id:int}/downloads", opt=SUPERVISOR, name="supervisor_downloads")
    async def downloads(
        self, request: Request[Any, Any, Any], project_id: FromPath[int]
    ) -> Template:
        """Who downloaded a project's documents (supervisors may see it at any time)."""
        project = await get_project(project_id)
        rows = await list_downloads(require_actor(request), project_id)
        return render(request, "supervisor/downloads.html", {"project": project, "rows": rows})
