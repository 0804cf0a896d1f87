"""Supplier registration, approval, login, logout and the login rate limit."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from procurement.roles import Role
from procurement.settings import Settings
from procurement.tables import Organisation, User
from tests.factories import PASSWORD, actor, credit_code, csrf, login

pytestmark = pytest.mark.integration


def registration(**overrides: str) -> dict[str, str]:
    form = {
        "company_name": "苏州测试科技有限公司",
        "credit_code": credit_code(),
        "enterprise_size": "small",
        "contact_person": "张三",
        "contact_phone": "0512-1234",
        "email": "zhang@example.com",
        "username": "newsupplier",
        "password": PASSWORD,
        "password2": PASSWORD,
        "categories": "goods",
    }
    form.update(overrides)
    return form


async def register(client: AsyncTestClient[Litestar], **overrides: str) -> int:
    await client.get("/register")
    response = await client.post("/register", data={**registration(**overrides), **csrf(client)})
    return response.status_code


async def test_supplier_registers_and_waits_for_approval(client: AsyncTestClient[Litestar]) -> None:
    assert await register(client) == 201
    org = await Organisation.objects().where(Organisation.name == "苏州测试科技有限公司").first()
    assert org is not None
    assert org.status == "pending"
    await client.get("/login")
    response = await client.post(
        "/login", data={"username": "newsupplier", "password": PASSWORD, **csrf(client)}
    )
    assert response.status_code == 403
    assert "注册信息正在审核中" in response.text  # the message in the page's language


async def test_approved_supplier_can_log_in(client: AsyncTestClient[Litestar]) -> None:
    assert await register(client) == 201
    org = await Organisation.objects().where(Organisation.name == "苏州测试科技有限公司").first()
    assert org is not None
    admin = await actor(Role.ADMIN)
    await login(client, admin.username)
    pending_page = await client.get("/admin")
    assert "苏州测试科技有限公司" in pending_page.text
    response = await client.post(
        f"/admin/suppliers/{org.id}/approve", data=csrf(client), follow_redirects=False
    )
    assert response.status_code == 302
    await client.post("/logout", data=csrf(client))
    await login(client, "newsupplier")
    page = await client.get("/workspace")
    assert page.status_code == 200
    assert "苏州测试科技有限公司" in page.text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("credit_code", "91350100M000100Y44", "check digit"),
        ("credit_code", "91350100M000100Y4", "18 characters"),
        ("credit_code", "91350100M00010OY43", "not allowed"),
        ("password", "short", "at least 10"),
        ("username", "a b", "username must be"),
        ("enterprise_size", "huge", "enterprise size"),
        ("company_name", "  ", "company name is required"),
        ("email", "not-an-email", "e-mail"),
    ],
)
async def test_bad_registration_is_refused_and_nothing_is_written(
    client: AsyncTestClient[Litestar], field: str, value: str, message: str
) -> None:
    overrides = {field: value}
    if field == "password":
        overrides["password2"] = value
    await client.get("/register")
    response = await client.post(
        "/register",
        data={**registration(**overrides), **csrf(client)},
        headers={"accept-language": "en"},
    )
    assert response.status_code == 400
    assert message in response.text
    assert await Organisation.count() == 0
    assert await User.count() == 0


async def test_duplicate_credit_code_and_username_are_refused(
    client: AsyncTestClient[Litestar],
) -> None:
    code = credit_code()
    assert await register(client, credit_code=code) == 201
    assert await register(client, credit_code=code, username="other") == 409
    assert await register(client, username="newsupplier") == 409
    assert await Organisation.count() == 1


async def test_wrong_password_is_refused_without_saying_which_part_was_wrong(
    client: AsyncTestClient[Litestar],
) -> None:
    user = await actor(Role.PURCHASER)
    await client.get("/login")
    for username in (user.username, "nobody"):
        response = await client.post(
            "/login", data={"username": username, "password": "wrong-password", **csrf(client)}
        )
        assert response.status_code == 403
        assert "用户名或密码错误" in response.text


async def test_logout_ends_the_session(client: AsyncTestClient[Litestar]) -> None:
    user = await actor(Role.SUPERVISOR)
    await login(client, user.username)
    assert (await client.get("/supervisor")).status_code == 200
    await client.post("/logout", data=csrf(client))
    page = await client.get("/supervisor", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 302
    assert page.headers["location"] == "/login?next=/supervisor"
    api = await client.get("/api/session")
    assert api.status_code == 401


async def test_form_without_csrf_token_is_refused(client: AsyncTestClient[Litestar]) -> None:
    user = await actor(Role.ADMIN)
    await login(client, user.username)
    response = await client.post("/admin/holidays", data={"day": "2027-01-01", "kind": "holiday"})
    assert response.status_code == 403


async def test_login_attempts_are_rate_limited(settings: Settings) -> None:
    import redis

    from zhaocai.app import create_app

    assert settings.redis_url is not None
    isolated = settings.redis_url.rsplit("/", 1)[0] + "/3"
    redis.Redis.from_url(isolated).flushdb()
    app = create_app(replace(settings, login_attempts_per_minute=3, redis_url=isolated))
    async with AsyncTestClient(app=app, base_url="http://127.0.0.1") as client:
        await client.get("/login")
        statuses = []
        for _ in range(5):
            response = await client.post(
                "/login", data={"username": "x", "password": "y", **csrf(client)}
            )
            statuses.append(response.status_code)
    assert statuses[:3] == [403, 403, 403]
    assert statuses[3:] == [429, 429]


async def test_the_admin_counts_accounts_by_role_and_lists_them_a_page_at_a_time(
    client: AsyncTestClient[Litestar],
) -> None:
    """Every expert of the pool has an account: one list of every user ran to 15,000 px."""
    from procurement.controllers.admin import USERS_PER_PAGE

    experts = [await actor(Role.EXPERT) for _ in range(USERS_PER_PAGE + 3)]
    bidder = await actor(Role.BIDDER)
    admin = await actor(Role.ADMIN)
    await login(client, admin.username)
    home = (await client.get("/admin?lang=en")).text
    assert bidder.username not in home  # counted, not listed
    assert re.search(
        rf'href="/admin/users\?role=expert">Evaluation expert</a> <span class="muted">'
        rf"{len(experts)}</span>",
        home,
    )

    def listed(page: str) -> list[str]:
        return re.findall(r'<tr data-user="([^"]+)">', page)

    first = (await client.get("/admin/users?role=expert")).text
    second = (await client.get("/admin/users?role=expert&page=2")).text
    assert len(listed(first)) == USERS_PER_PAGE
    assert sorted(listed(first) + listed(second)) == sorted(e.username for e in experts)
    assert 'rel="next"' in first
    assert 'rel="next"' not in second
    found = (await client.get(f"/admin/users?q={bidder.username}")).text
    assert listed(found) == [bidder.username]
    refused = await client.get("/admin/users?role=root&lang=en")
    assert refused.status_code == 400
    assert "unknown role root" in refused.text
    assert (await client.get("/admin/users?page=0")).status_code == 400
