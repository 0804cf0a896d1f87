"""The workspace entry: each role lands on its own page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Redirect

from procurement.roles import Role
from procurement.web import ALL_ROLES, require_actor, roles

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
