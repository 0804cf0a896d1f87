"""The JSON API of the core (OpenAPI at /schema): notices and projects, and API login."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from procurement.accounts import authenticate
from procurement.documents import list_documents
from procurement.notices import NoticeFilters, get_notice, search_notices
from procurement.projects import get_project
from procurement.tables import Lot
from procurement.web import ALL_ROLES, PUBLIC, require_actor, roles


@dataclass
class Credentials:
    """Username and password for an API session (the CLI uses it)."""

    username: str
    password: str


class PublicApiController(Controller):
    """Public, read-only JSON: what the portal shows."""

    path = "/api/public"

    @get("/notices", opt=PUBLIC, name="api_notices")
    async def notices(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        """Notices with the portal's filters (q, kind, category, method, status, from, to)."""
        rows, total = await search_notices(NoticeFilters.parse(dict(request.query_params)))
        return {"total": total, "items": rows}

    @get("/notices/{notice_id:int}", opt=PUBLIC, name="api_notice")
    async def notice(self, notice_id: FromPath[int]) -> dict[str, Any]:
        """One notice."""
        return await get_notice(notice_id)

    @get("/projects/{project_id:int}", opt=PUBLIC, name="api_project")
    async def project(self, project_id: FromPath[int]) -> dict[str, Any]:
        """A published project with its lots and documents."""
        project = await get_project(project_id)
        if project.published_at is None:
            from procurement.exceptions import NotFound

            raise NotFound("no project with id {project_id}", project_id=project_id)
        lots = (
            await Lot.select(
                Lot.id,
                Lot.number,
                Lot.title,
                Lot.title_en,
                Lot.budget_fen,
                Lot.status,
                Lot.failure_reason,
                Lot.award_amount_fen,
            )
            .where(Lot.project == project_id)
            .order_by(Lot.number)
        )
        data = project.to_dict()
        data["lots"] = lots
        data["documents"] = await list_documents(project_id)
        return data


class SessionApiController(Controller):
    """Log in and out through the API; the session cookie then authorises API calls."""

    path = "/api/session"

    @post(
        "/",
        opt={**PUBLIC, "rate_limited": True, "exclude_from_csrf": True},
        name="api_login",
        status_code=200,
    )
    async def login(
        self, request: Request[Any, Any, Any], data: JSONBody[Credentials]
    ) -> dict[str, Any]:
        """Start a session for a username and password."""
        actor = await authenticate(data.username, data.password)
        request.clear_session()
        request.set_session({"user_id": actor.user_id})
        return {
            "user_id": actor.user_id,
            "username": actor.username,
            "role": actor.role,
            "organisation_id": actor.organisation_id,
        }

    @get("/", opt=roles(*ALL_ROLES), name="api_whoami")
    async def whoami(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        """Who the session belongs to."""
        actor = require_actor(request)
        return {
            "user_id": actor.user_id,
            "username": actor.username,
            "role": actor.role,
            "organisation_id": actor.organisation_id,
        }
