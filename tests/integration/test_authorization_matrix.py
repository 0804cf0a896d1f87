"""Every route, called as every role and as a visitor, allows exactly the declared roles.

Each route handler declares ``opt={"public": True}`` or ``opt={"roles": (...)}``; the
guard refuses anything else. This test walks ``app.routes`` (so a new route cannot escape
it), checks that every handler declares one or the other, checks the declarations of the
sensitive routes against a table written here by hand, and then calls every route as each
role: allowed roles must not get 401/403, other roles must get 403, visitors 401.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from procurement.roles import Role
from tests.factories import actor, csrf, login, published_project

pytestmark = pytest.mark.integration

A, P, B, E, C, S = (
    Role.ADMIN,
    Role.PURCHASER,
    Role.BIDDER,
    Role.EXPERT,
    Role.CUSTODIAN,
    Role.SUPERVISOR,
)

#: Sensitive routes and who may call them, written independently of the declarations.
EXPECTED: dict[tuple[str, str], set[Role]] = {
    ("GET", "/admin"): {A},
    ("GET", "/admin/users"): {A},
    ("POST", "/admin/suppliers/{organisation_id:int}/approve"): {A},
    ("POST", "/admin/holidays"): {A},
    ("POST", "/admin/notifications/retry"): {A},
    ("POST", "/admin/notifications/{notification_id:int}/retry"): {A},
    ("GET", "/purchaser"): {P},
    ("POST", "/purchaser/projects"): {P},
    ("POST", "/purchaser/projects/{project_id:int}/publish"): {P},
    ("POST", "/purchaser/projects/{project_id:int}/documents"): {P},
    ("GET", "/supplier"): {B},
    ("POST", "/projects/{project_id:int}/questions"): {B},
    ("GET", "/supervisor/audit"): {S},
    ("GET", "/supervisor/projects/{project_id:int}/downloads"): {S},
    ("GET", "/documents/{document_id:int}/download"): {A, P, B, E, S},
    ("GET", "/workspace"): {A, P, B, E, C, S},
    ("GET", "/reports"): {A, P, S},
    ("GET", "/reports/export.csv"): {A, P, S},
    ("GET", "/reports/export.xlsx"): {A, P, S},
    ("GET", "/reports/bulletin"): {A, P, S},
    ("GET", "/reports/timeliness"): {A, S},
    ("GET", "/purchaser/lots/{lot_id:int}/contract"): {A, P, S},  # as the API reads it
    ("POST", "/purchaser/lots/{lot_id:int}/contract"): {P},
    ("GET", "/api/lots/{lot_id:int}/contract"): {A, P, S},
    ("POST", "/api/lots/{lot_id:int}/contract"): {P},
}
PUBLIC_ROUTES = {
    ("GET", "/"),
    ("GET", "/notices"),
    ("GET", "/notices/{notice_id:int}"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/register"),
    ("GET", "/feed.atom"),
    ("GET", "/health"),
    ("GET", "/api/public/notices"),
    ("GET", "/api/ocds/projects/{project_id:int}"),
    ("GET", "/api/ocds/releases"),
}


def all_routes(app: Litestar) -> list[tuple[str, str, Any]]:
    """(method, path, handler) for every HTTP route except static files and the schema."""
    found: list[tuple[str, str, Any]] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(("/static", "/schema")):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods):
                if method in {"HEAD", "OPTIONS"}:
                    continue
                found.append((method, route.path, handler))
    return found


def declared(handler: Any) -> set[Role] | None:
    """The roles a handler declares, or None for a public one."""
    if handler.opt.get("public"):
        return None
    return set(handler.opt["roles"])


def test_every_route_declares_public_or_roles(app: Litestar) -> None:
    undeclared = [
        f"{m} {p}"
        for m, p, h in all_routes(app)
        if not h.opt.get("public") and not h.opt.get("roles")
    ]
    assert undeclared == []


def test_sensitive_routes_declare_the_expected_roles(app: Litestar) -> None:
    table = {(m, p): declared(h) for m, p, h in all_routes(app)}
    for key, roles in EXPECTED.items():
        assert table[key] == roles, key
    for key in PUBLIC_ROUTES:
        assert table[key] is None, key


def concrete(path: str, ids: dict[str, int]) -> str:
    """Fill ``{name:int}`` path parameters with real ids (or 1)."""
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(ids.get(m.group(1), 1)), path)


async def call(client: AsyncTestClient[Litestar], method: str, url: str) -> int:
    if method == "GET":
        response = await client.get(url, follow_redirects=False)
    else:
        response = await client.request(method, url, data=csrf(client), follow_redirects=False)
    return response.status_code


async def test_every_route_as_every_role(app: Litestar) -> None:
    users = {role: await actor(role) for role in Role}
    project_id = await published_project(users[Role.PURCHASER])
    ids = {
        "project_id": project_id,
        "notice_id": 1,
        "organisation_id": 1,
        "document_id": 1,
        "question_id": 1,
        "lot_id": 1,
    }
    routes = all_routes(app)
    failures: list[str] = []
    for role in [None, *Role]:
        async with AsyncTestClient(app=app, base_url="http://127.0.0.1") as client:
            await client.get("/login")
            if role is not None:
                await login(client, users[role].username)
            for method, path, handler in routes:
                if path in {"/logout", "/login", "/api/session"}:
                    continue  # would end or replace the session under test
                status = await call(client, method, concrete(path, ids))
                allowed = declared(handler)
                if allowed is None or (role is not None and role in allowed):
                    ok = status not in {401, 403}
                elif role is None:
                    ok = status == 401
                else:
                    ok = status == 403
                if not ok:
                    failures.append(f"{role} {method} {path} -> {status}")
    assert failures == []


async def test_a_refusal_page_reads_in_the_page_language(app: Litestar) -> None:
    """403 and 404 pages say why in the reader's language, never in the other one."""
    supplier = await actor(Role.BIDDER)
    html = {"accept": "text/html"}
    async with AsyncTestClient(app=app, base_url="http://127.0.0.1") as client:
        await client.get("/login")
        await login(client, supplier.username)
        refused_zh = await client.get("/admin?lang=zh", headers=html)
        refused_en = await client.get("/admin?lang=en", headers=html)
        missing_zh = await client.get("/no/such/page?lang=zh", headers=html)
        missing_en = await client.get("/no/such/page?lang=en", headers=html)
        no_row_zh = await client.get(f"/projects/{2**62}?lang=zh", headers=html)
    assert refused_zh.status_code == refused_en.status_code == 403
    assert '<p class="error-detail">无权执行此操作</p>' in refused_zh.text
    assert '<p class="error-detail">your role may not do this</p>' in refused_en.text
    assert missing_zh.status_code == missing_en.status_code == no_row_zh.status_code == 404
    assert '<p class="error-detail">页面不存在</p>' in missing_zh.text
    assert '<p class="error-detail">page not found</p>' in missing_en.text
    assert '<p class="error-detail">页面不存在</p>' in no_row_zh.text
