"""No input from outside makes the platform answer 500 or leave half-written data.

The platform rule (docs/architecture.md, RULES §0 quality bar): every HTTP input is
validated; bad input gets a clear 4xx. This test walks ``app.routes`` (so a new route
cannot escape it), calls each route as a role allowed on it over a realistic state (a
published tender lot with a scheme and a bid, an open price inquiry, a pool of experts)
and feeds it hostile input: path ids out of range, garbage query parameters, form and JSON
bodies with wrong types, huge strings, non-ASCII digits, NaN, impossible dates, duplicate
keys, files that are not what they claim, and no CSRF token. Every answer must be below
500, and a refused write (4xx) must leave every table exactly as it was.

The field names a handler reads are taken from the string literals in its source, so the
hostile values reach the real parsing code rather than bouncing off an empty form.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from procurement.exceptions import ValidationError
from procurement.inquiries import create_inquiry
from procurement.money import MoneyError, parse_yuan
from procurement.numbers import parse_whole
from procurement.roles import Actor, Role
from procurement.tables import Organisation
from tests.factories import actor, csrf, login, published_project
from tests.integration.test_authorization_matrix import all_routes, declared
from tests.integration.test_expert_draw_service import scene
from tests.integration.test_inquiry import SECONDS, rfq
from zhaocai.wiring import all_tables

pytestmark = pytest.mark.integration
Client = AsyncTestClient[Litestar]

#: Path ids no table holds, or no database column can hold.
HOSTILE_IDS = ("-1", str(2**31), str(2**63))
#: Text a person or a program might send in any field.
HOSTILE_TEXT = (
    "",
    "abc",
    "-1",
    str(2**63),
    "1e400",
    "NaN",
    "²",
    "١٢",
    "2026-02-30",
    "a\x00b",
    "9" * 400,
    "x" * 70_000,
)
#: Query values (an address holds a few kilobytes; the parsers are those of the forms).
HOSTILE_QUERY = ("", "-1", str(2**63), "²", "١٢", "2026-02-30", "a\x00b", "9" * 400)
#: JSON values of every wrong type.
HOSTILE_JSON: tuple[Any, ...] = (None, True, -1, 2**63, 1.5, "²", [], {"x": 1}, "x" * 70_000)
#: Bodies that are not JSON objects.
RAW_BODIES = (b"", b"{", b'"x"', b'{"a": NaN}')
#: Routes that end or replace the session of the client calling them.
SESSION_ROUTES = {"/logout", "/login", "/api/session"}
#: Literals in handler sources that are not field names.
NOT_FIELDS = {"public", "roles", "utf-8", "text/html", "get", "post", "put"}


def field_names(handler: Any) -> list[str]:
    """Names the handler (and the helpers it names) may read from a form, query or JSON."""
    try:
        source = inspect.getsource(handler.fn)
    except (OSError, TypeError):
        return []
    module = inspect.getmodule(handler.fn)
    for owner, called in re.findall(r"\b(?:([a-z_]+)\.)?([a-z_]+)\(", source):
        # the parsers the handler calls: ``parse_x(...)`` or ``services.parse_x(...)``
        helper = getattr(getattr(module, owner, None) if owner else module, called, None)
        if inspect.isfunction(helper) and helper.__module__ != "procurement.web":
            source += inspect.getsource(helper)
    names = set(re.findall(r"""["']([a-z][a-z0-9_]{0,40})["']""", source))
    return sorted(names - NOT_FIELDS)


#: Per type, a plausible value and values that pass decoding but break the domain's rules.
PLAUSIBLE: dict[Any, Any] = {int: 1, str: "1", date: "2027-01-15", bool: True}
BREAKING: dict[Any, tuple[Any, ...]] = {
    int: (2**63, -1, 2**31),
    str: ("a\x00b", "x" * 70_000, "1e400"),
}


def plausible(cls: Any, bad: tuple[str, Any] | None = None, path: str = "") -> Any:
    """A body shaped like ``cls``; the leaf at ``bad[0]`` (a dotted path) holds ``bad[1]``."""
    if bad is not None and bad[0] == path:
        return bad[1]
    origin = typing.get_origin(cls)
    if origin is list:
        return [plausible(typing.get_args(cls)[0], bad, path + ".0")]
    if origin is dict:  # optional maps (attachments) stay empty
        return {}
    if dataclasses.is_dataclass(cls):
        hints = typing.get_type_hints(cls)
        return {
            f.name: plausible(hints[f.name], bad, f"{path}.{f.name}")
            for f in dataclasses.fields(cls)
        }
    for member in typing.get_args(cls):  # X | None
        if member is not type(None):
            return plausible(member, bad, path)
    return PLAUSIBLE.get(cls, "1")


def leaves(cls: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, type) of every scalar in a body shaped like ``cls``."""
    origin = typing.get_origin(cls)
    if origin is list:
        yield from leaves(typing.get_args(cls)[0], path + ".0")
    elif origin is dict:
        return
    elif dataclasses.is_dataclass(cls):
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            yield from leaves(hints[f.name], f"{path}.{f.name}")
    elif members := [m for m in typing.get_args(cls) if m is not type(None)]:
        yield from leaves(members[0], path)
    else:
        yield path, cls


def broken_bodies(cls: Any) -> Iterator[tuple[str, Any]]:
    """A plausible body with one leaf at a time replaced by each breaking value."""
    for path, leaf_type in leaves(cls):
        for value in BREAKING.get(leaf_type, ()):
            yield f"{path}={str(value)[:12]}", plausible(cls, (path, value))


def data_class(handler: Any) -> Any:
    """The dataclass a handler decodes its JSON body into, if it declares one."""
    parameter = handler.parsed_fn_signature.parameters.get("data")
    annotation = getattr(parameter, "annotation", None)
    return annotation if dataclasses.is_dataclass(annotation) else None


def concrete(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: ids.get(m.group(1), "1"), path)


def path_variants(path: str, ids: dict[str, str]) -> Iterator[str]:
    """The real path, then each path parameter replaced by each hostile id in turn."""
    yield concrete(path, ids)
    for name in re.findall(r"\{(\w+)(?::\w+)?\}", path):
        for bad in HOSTILE_IDS:
            yield concrete(path, {**ids, name: bad})


async def snapshot() -> str:
    """A digest of every row of every table (the test database is small)."""
    parts = [
        f"""(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))
             FROM "{table._meta.tablename}" t)"""  # noqa: S608 - our own table names
        for table in all_tables()
    ]
    query = "SELECT " + " || ".join(parts) + " AS digest"
    rows = await all_tables()[0].raw(query)
    return str(rows[0]["digest"])


class Walker:
    """Calls routes and records every 500 and every refused request that wrote something."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.calls = 0
        self.known: str | None = None  # the digest, while no request may have changed it

    async def check(self, client: Client, method: str, url: str, what: str, **kwargs: Any) -> int:
        writes = method != "GET"
        before = (self.known or await snapshot()) if writes else ""
        self.known = None
        response = await client.request(method, url, follow_redirects=False, **kwargs)
        self.calls += 1
        status = response.status_code
        if status >= 500:
            self.failures.append(f"{status} {method} {url[:120]} {what}: {response.text[:300]}")
        elif writes and status >= 400:
            after = await snapshot()
            if after != before:
                self.failures.append(f"half-write {status} {method} {url[:120]} {what}")
            self.known = after
        return status


async def walk_route(
    walker: Walker, client: Client, method: str, path: str, handler: Any, ids: dict[str, str]
) -> None:
    names = field_names(handler)
    token = csrf(client)
    headers = {"x-csrftoken": token["_csrf_token"]}
    is_api = path.startswith("/api/")
    for url in path_variants(path, ids):
        if method == "GET":
            await walker.check(client, method, url, "path")
        elif is_api:
            await walker.check(client, method, url, "path", json={}, headers=headers)
        else:
            await walker.check(client, method, url, "path", data=token)
    url = concrete(path, ids)
    if method == "GET":
        for value in HOSTILE_QUERY:
            params = {name: value for name in [*names, "page", "q", "lang", "done"]}
            await walker.check(client, method, url, f"query={value[:20]!r}", params=params)
        return
    await walker.check(client, method, url, "no csrf", data={n: "1" for n in names})
    for value in HOSTILE_TEXT:
        form = {**{name: value for name in names}, **token}
        await walker.check(client, method, url, f"form={value[:20]!r}", data=form)
    duplicated: dict[str, Any] = {name: ["1", "2"] for name in names}
    await walker.check(client, method, url, "duplicate keys", data={**duplicated, **token})
    if not is_api:  # the JSON API takes no uploads
        files = {name: ("x.csv", b'\xff\xfe\x00garbage,\n"', "text/csv") for name in names[:8]}
        await walker.check(client, method, url, "files", data=token, files=files)
    if is_api or "json" in inspect.getsource(handler.fn):
        for value in HOSTILE_JSON:
            body = {name: value for name in names}
            await walker.check(
                client, method, url, f"json={str(value)[:20]!r}", json=body, headers=headers
            )
        cls = data_class(handler)
        for what, body in broken_bodies(cls) if cls else ():
            await walker.check(client, method, url, what, json=body, headers=headers)
        for raw in RAW_BODIES:
            await walker.check(
                client,
                method,
                url,
                f"raw={raw!r}",
                content=raw,
                headers={**headers, "content-type": "application/json"},
            )


async def world() -> tuple[dict[Role, Actor], dict[str, str]]:
    """A lot past its deadline with a bid and experts, a published tender, an open inquiry."""
    s = await scene(pool=6)
    project_id = await published_project(s.purchaser)
    await Organisation.update({Organisation.categories: "goods"}).where(
        Organisation.id == s.bidder.organisation_id
    )
    others = [await actor(Role.BIDDER) for _ in range(2)]
    for other in others:
        await Organisation.update({Organisation.categories: "goods"}).where(
            Organisation.id == other.organisation_id
        )
    inquiry_id = await create_inquiry(
        s.purchaser, rfq([s.bidder, *others], seconds=3600), limits=SECONDS
    )
    from expert_pool.tables import Expert

    expert_user = await Expert.select(Expert.user).where(Expert.id == s.experts[0]).first()
    assert expert_user is not None
    from procurement.tables import User

    expert_name = await User.select(User.username).where(User.id == expert_user["user"]).first()
    assert expert_name is not None
    users = {
        Role.ADMIN: s.admin,
        Role.PURCHASER: s.purchaser,
        Role.BIDDER: s.bidder,
        Role.SUPERVISOR: s.supervisor,
        Role.CUSTODIAN: await actor(Role.CUSTODIAN),
        Role.EXPERT: Actor(
            user_id=expert_user["user"], username=expert_name["username"], role=Role.EXPERT
        ),
    }
    ids = {
        "lot_id": str(s.lot_id),
        "project_id": str(project_id),
        "inquiry_id": str(inquiry_id),
        "supplier_id": str(s.bidder.organisation_id),
        "bidder_id": str(s.bidder.organisation_id),
        "organisation_id": str(s.bidder.organisation_id),
        "expert_id": str(s.experts[0]),
        "what": "scores",
    }
    return users, ids


async def test_no_route_answers_500_or_half_writes_on_hostile_input(
    app: Litestar, client: Client
) -> None:
    users, ids = await world()
    walker = Walker()
    by_role: dict[Role | None, list[tuple[str, str, Any]]] = {}
    for method, path, handler in all_routes(app):
        if path in SESSION_ROUTES:
            continue
        allowed = declared(handler)
        role = None if allowed is None else next(r for r in Role if r in allowed)
        by_role.setdefault(role, []).append((method, path, handler))
    for role, routes in by_role.items():
        client.cookies.clear()
        await client.get("/login")
        if role is not None:
            await login(client, users[role].username)
        walker.known = None  # logging in writes (audit log)
        for method, path, handler in routes:
            await walk_route(walker, client, method, path, handler, ids)
    assert walker.calls > 2000  # every route was really walked
    assert walker.failures == [], "\n".join(walker.failures)


async def test_the_inputs_that_answered_500_get_a_clear_4xx(client: Client) -> None:
    """Regressions: each of these was a 500 (or a database error) before it was validated."""
    users, ids = await world()
    for url in ("/notices?page=²", "/api/public/notices?page=²", "/notices?purchaser=" + "9" * 30):
        assert (await client.get(url)).status_code == 400, url
    await client.get("/login")
    register = await client.post(
        "/register", data=csrf(client), files={"categories": ("c.csv", b"x", "text/csv")}
    )
    assert register.status_code == 400
    for role, url in (
        (Role.SUPERVISOR, "/supervisor/audit?before=²"),
        (Role.SUPERVISOR, f"/supervisor/audit?before={2**63}"),
        (Role.SUPERVISOR, f"/supervisor/projects/{2**63}/downloads"),
        (Role.PURCHASER, f"/purchaser/lots/{2**31}/contract"),
    ):
        client.cookies.clear()
        await login(client, users[role].username)
        assert (await client.get(url)).status_code in {400, 404}, url
    before = await snapshot()
    for amount in ("1e400", "9" * 20):
        response = await client.post(
            f"/purchaser/lots/{ids['lot_id']}/contract",
            data={"amount": amount, "signed_on": "2026-12-01", **csrf(client)},
        )
        assert response.status_code == 400, amount
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        (" 7 ", 7),
        ("-3", None),
        ("١٢", None),
        ("²", None),
        ("1e3", None),
        (str(2**31), None),
        ("", None),
        ("9" * 5000, None),
    ],
)
def test_whole_numbers_are_ascii_digits_within_a_column(text: str, expected: int | None) -> None:
    if expected is None:
        with pytest.raises(ValidationError):
            parse_whole(text, "n", minimum=0)
    else:
        assert parse_whole(text, "n", minimum=0) == expected


@pytest.mark.parametrize("text", ["1e400", "9" * 30, "Infinity", "NaN", "-1"])
def test_absurd_amounts_are_money_errors(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_yuan(text)


async def test_out_of_range_numbers_in_otherwise_valid_api_bodies_are_refused(
    client: Client,
) -> None:
    """One number past its column in a body that is otherwise right: a 4xx, nothing written."""
    users, ids = await world()
    headers = {"x-csrftoken": ""}

    async def post(role: Role, url: str, body: dict[str, Any]) -> int:
        client.cookies.clear()
        await login(client, users[role].username)
        headers["x-csrftoken"] = client.cookies.get("zc_csrf") or ""
        before = await snapshot()
        response = await client.post(url, json=body, headers=headers)
        if response.status_code >= 400:
            assert await snapshot() == before, url
        return response.status_code

    framework: dict[str, Any] = {
        "name": "办公用品 2027",
        "category": "goods",
        "valid_from": "2027-01-01",
        "valid_until": "2027-12-31",
    }
    for supplier in (2**63, 2**31, -1):
        body = {**framework, "supplier_ids": [int(ids["supplier_id"]), supplier]}
        assert await post(Role.ADMIN, "/api/frameworks", body) in {400, 404, 409}, supplier
    quote: dict[str, Any] = {
        "lines": [{"item": 1, "quantity": "2", "unit_price": "100"}],
        "delivery_days": 15,
        "declarations": "满足全部实质性要求",
    }
    url = f"/api/inquiries/{ids['inquiry_id']}/quote"
    for field, value in (("delivery_days", 2**63), ("delivery_days", 2**31), ("item", 2**63)):
        body = (
            {**quote, field: value}
            if field != "item"
            else {
                **quote,
                "lines": [{"item": value, "quantity": "2", "unit_price": "100"}],
            }
        )
        assert await post(Role.BIDDER, url, body) in {400, 404, 409}, (field, value)
    inquiry: dict[str, Any] = {
        "title": "纸",
        "items": [{"name": "纸", "quantity": "1", "unit": "箱"}],
        "budget": "100",
        "delivery_place": "a",
        "delivery_time": "b",
        "invitation_mode": "selected",
        "supplier_ids": [2**63],
    }
    assert await post(Role.PURCHASER, "/api/inquiries", inquiry) in {400, 404, 409}


@pytest.mark.parametrize("digit", ["²", "١٢", "9" * 30])
def test_non_ascii_or_huge_numbers_in_forms_are_clear_refusals(digit: str) -> None:
    """Were 500s: ``"²".isdigit()`` holds, ``int("²")`` fails; 30 digits overflow a column."""
    from expert_pool.services import parse_draw_form
    from procurement.reports import parse_filters

    with pytest.raises(ValidationError):
        parse_draw_form({"quota_specialty": "A0101", "quota_count": digit})
    with pytest.raises(ValidationError):
        parse_draw_form({"quota_specialty": "A0101", "quota_count": "3", "reserves": digit})
    with pytest.raises(ValidationError):
        parse_filters({"purchaser": digit}, today=date(2026, 12, 6))
