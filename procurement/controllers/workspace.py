"""The workspace entry: each role lands on its own page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from procurement.notifications import inbox, mark_read
from procurement.roles import Role
from procurement.web import ALL_ROLES, render, require_actor, roles

#: Landing page of each role; packages above procurement serve the expert and custodian ones.
WORKSPACE_BY_ROLE = {
    Role.ADMIN: "/admin",
    Role.PURCHASER: "/purchaser",
    Role.BIDDER: "/supplier",
    Role.EXPERT: "/expert",
    Role.CUSTODIAN: "/custodian",
    Role.SUPERVISOR: "/supervisor",
}


class WorkspaceController(Controller):
    """Redirects to the caller's role workspace."""

    @get("/workspace", opt=roles(*ALL_ROLES), name="workspace")
    async def workspace(self, request: Request[Any, Any, Any]) -> Redirect:
        """Go to the workspace of the logged-in role."""
        actor = require_actor(request)
        assert actor.role is not None  # noqa: S101 - guarded route: a role is present
        return Redirect(WORKSPACE_BY_ROLE[actor.role])

    @get("/notifications", opt=roles(*ALL_ROLES), name="notifications")
    async def notifications(self, request: Request[Any, Any, Any]) -> Template:
        """The caller's notifications, newest first (the outbox's workspace channel)."""
        actor = require_actor(request)
        assert actor.user_id is not None  # noqa: S101 - guarded route: a user is present
        return render(request, "notifications.html", {"notifications": await inbox(actor.user_id)})

    @post("/notifications/read", opt=roles(*ALL_ROLES), name="notifications_read")
    async def read_all(self, request: Request[Any, Any, Any]) -> Redirect:
        """Mark every notification of the caller as read."""
        actor = require_actor(request)
        assert actor.user_id is not None  # noqa: S101 - guarded route: a user is present
        await mark_read(actor.user_id)
        return Redirect("/notifications")
