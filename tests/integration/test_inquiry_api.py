"""Price inquiry over HTTP: the JSON API a supplier's own system quotes through, and the pages.

Every bad input gets a clear 4xx and changes nothing; the OpenAPI document at /schema lists
the inquiry endpoints.
"""

from __future__ import annotations

import base64
import subprocess
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from bidding.tables import Bid
from procurement.clock import CHINA, SYSTEM_CLOCK
from procurement.inquiries import create_inquiry
from procurement.roles import Actor, Role
from procurement.tables import Inquiry, Notice, Project, QuoteVerdict
from tests.factories import actor, csrf, login, wait_for_lot
from tests.integration.test_inquiry import SECONDS, rfq, supplier

pytestmark = pytest.mark.integration
Client = AsyncTestClient[Litestar]


def headers(client: Client) -> dict[str, str]:
    return {"x-csrftoken": client.cookies.get("zc_csrf") or ""}


def quote_json(unit_price: str, quantity: str = "2", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "lines": [{"item": 1, "quantity": quantity, "unit_price": unit_price}],
        "delivery_days": 15,
        "declarations": "满足全部实质性要求",
    }
    body.update(changes)
    return body


async def as_user(client: Client, who: Actor) -> None:
    client.cookies.clear()
    await login(client, who.username)


async def test_suppliers_quote_through_the_api_and_the_purchaser_concludes(
    client: Client, celery_worker: subprocess.Popen[bytes]
) -> None:
    purchaser = await actor(Role.PURCHASER)
    s = [await supplier(f"A{i}") for i in range(4)]
    inquiry_id = await create_inquiry(purchaser, rfq(s, seconds=25), limits=SECONDS)
    inquiry = await Inquiry.objects().where(Inquiry.id == inquiry_id).first()
    assert inquiry is not None
    prices = ["84000", "86250", "87900", "90600"]
    for who, price in zip(s[:3], prices, strict=False):
        await as_user(client, who)
        listed = await client.get("/api/inquiries")
        assert [row["id"] for row in listed.json()] == [inquiry_id]
        detail = await client.get(f"/api/inquiries/{inquiry_id}")
        assert detail.json()["items"][0]["quantity"] == "2"
        assert detail.json()["invited"] == []  # suppliers do not learn who else is invited
        extra: dict[str, Any] = {
            "attachments": {"spec.txt": base64.b64encode(b"datasheet").decode()}
        }
        response = await client.post(
            f"/api/inquiries/{inquiry_id}/quote",
            json=quote_json(price, **extra),
            headers=headers(client),
        )
        assert response.status_code == 201, response.text
        assert response.json()["receipt"]["lot_id"] == inquiry.lot
        again = await client.post(
            f"/api/inquiries/{inquiry_id}/quote", json=quote_json("1"), headers=headers(client)
        )
        assert again.status_code == 409
        assert "one price, once" in again.json()["detail"]
        mine = await client.get(f"/api/inquiries/{inquiry_id}/quote")
        assert mine.json()["quote"]["id"] == response.json()["receipt"]["bid_id"]
    await as_user(client, s[3])
    bad_bodies = [
        (quote_json("-5"), 400, "positive"),
        (quote_json("abc"), 400, "number"),
        (quote_json("100", quantity="3"), 400, "requested quantity"),
        (quote_json("100", attachments={"x": "%%%"}), 400, "base64"),
        ({"lines": "nope"}, 400, ""),
    ]
    for body, status, message in bad_bodies:
        response = await client.post(
            f"/api/inquiries/{inquiry_id}/quote", json=body, headers=headers(client)
        )
        assert response.status_code == status, response.text
        assert message in response.text
    assert await Bid.count().where(Bid.bidder == s[3].organisation_id) == 0
    outsider = await supplier("A9")
    await as_user(client, outsider)
    response = await client.post(
        f"/api/inquiries/{inquiry_id}/quote", json=quote_json("1000"), headers=headers(client)
    )
    assert response.status_code == 403
    assert (await client.get(f"/api/inquiries/{inquiry_id}")).status_code == 404

    await as_user(client, purchaser)
    sealed = await client.get(f"/api/inquiries/{inquiry_id}/quotes")
    assert sealed.status_code == 409
    early = await client.put(
        f"/api/inquiries/{inquiry_id}/verdicts/{s[0].organisation_id}",
        json={"compliant": True},
        headers=headers(client),
    )
    assert early.status_code == 409
    assert await QuoteVerdict.count() == 0
    assert await wait_for_lot(inquiry.lot, {"opened", "failed"}) == "opened"
    quotes = (await client.get(f"/api/inquiries/{inquiry_id}/quotes")).json()
    assert len(quotes) == 3
    no_reason = await client.put(
        f"/api/inquiries/{inquiry_id}/verdicts/{s[0].organisation_id}",
        json={"compliant": False},
        headers=headers(client),
    )
    assert no_reason.status_code == 400
    verdicts = [(s[0], False, "30日交货"), (s[1], True, ""), (s[2], True, "")]
    for who, compliant, reason in verdicts:
        response = await client.put(
            f"/api/inquiries/{inquiry_id}/verdicts/{who.organisation_id}",
            json={"compliant": compliant, "reason": reason},
            headers=headers(client),
        )
        assert response.status_code == 200, response.text
    # two compliant quotes remain: fewer than three, the inquiry terminates (MOF74 Art. 50)
    outcome = await client.post(f"/api/inquiries/{inquiry_id}/conclude", headers=headers(client))
    assert outcome.status_code == 201, outcome.text
    assert outcome.json()["failure_reason"] == "TOO_FEW_VALID"
    follow = await client.post(
        f"/api/inquiries/{inquiry_id}/follow-up",
        json={"choice": "change_method", "note": "改为竞争性谈判"},
        headers=headers(client),
    )
    assert follow.status_code == 201, follow.text
    page = await client.get(f"/purchaser/inquiries/{inquiry_id}")
    assert page.status_code == 200
    assert "改为竞争性谈判" in page.text
    notice = await Notice.objects().where(Notice.kind == "failure").first()
    assert notice is not None
    await as_user(client, s[0])
    seen = (await client.get(f"/api/inquiries/{inquiry_id}")).json()
    assert [(v["supplier"], v["reason"]) for v in seen["verdicts"]] == [
        (s[0].organisation_id, "30日交货")
    ]


async def test_the_rfq_form_refuses_bad_input_with_a_4xx_and_writes_nothing(
    client: Client, app: Litestar
) -> None:
    purchaser = await actor(Role.PURCHASER)
    s = [await supplier(f"W{i}") for i in range(3)]
    await as_user(client, purchaser)
    page = await client.get("/purchaser/inquiries/new")
    assert page.status_code == 200
    assert "W0" in page.text
    soon = (SYSTEM_CLOCK.now() + timedelta(hours=2)).astimezone(CHINA)
    form = {
        "title": "打印纸",
        "budget": "5000",
        "delivery_place": "中心仓库",
        "delivery_time": "7日内",
        "quote_deadline": soon.strftime("%Y-%m-%dT%H:%M"),
        "item_name": "A4 纸",
        "item_quantity": "50",
        "item_unit": "箱",
        "invitation_mode": "selected",
        "supplier_id": [str(x.organisation_id) for x in s],
        **csrf(client),
    }
    response = await client.post("/purchaser/inquiries", data=form)
    assert response.status_code == 400
    assert "不得少于 3 个工作日" in response.text  # the message in the page's language
    too_few = {**form, "supplier_id": [str(s[0].organisation_id)]}
    response = await client.post("/purchaser/inquiries", data=too_few)
    assert response.status_code == 400
    assert "询价须邀请不少于 3 家供应商" in response.text
    english = await client.post("/purchaser/inquiries?lang=en", data=form)
    assert english.status_code == 400
    assert "working days" in english.text
    api = await client.post(
        "/api/inquiries",
        json={
            "title": "x",
            "items": [{"name": "纸", "quantity": "1", "unit": "箱"}],
            "budget": "100",
            "delivery_place": "a",
            "delivery_time": "b",
            "quote_deadline": soon.isoformat(),
            "invitation_mode": "open",
        },
        headers=headers(client),
    )
    assert api.status_code == 400
    assert await Project.count() == 0
    for path in ("/purchaser/inquiries", "/api/inquiries"):
        assert (await client.get(path)).status_code == 200
    schema_response = await client.get("/schema/openapi.json")
    assert schema_response.status_code == 200, schema_response.text[:300]
    schema = schema_response.json()
    for path in (
        "/api/inquiries",
        "/api/inquiries/{inquiry_id}/quote",
        "/api/inquiries/{inquiry_id}/quotes",
        "/api/inquiries/{inquiry_id}/conclude",
    ):
        assert path in schema["paths"], path


async def test_admins_keep_framework_agreements_through_the_pages(
    client: Client, app: Litestar
) -> None:
    admin = await actor(Role.ADMIN)
    s = [await supplier(f"K{i}") for i in range(3)]
    await as_user(client, admin)
    today = SYSTEM_CLOCK.now().astimezone(CHINA).date()
    form = {
        "name": "计算机协议供货",
        "category": "computers",
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "supplier_id": [str(x.organisation_id) for x in s],
        **csrf(client),
    }
    inverted = {**form, "valid_until": (today - timedelta(days=1)).isoformat()}
    response = await client.post("/admin/frameworks", data=inverted)
    assert response.status_code == 400
    response = await client.post("/admin/frameworks", data={**form, "valid_from": "soon"})
    assert response.status_code == 400
    response = await client.post("/admin/frameworks", data=form, follow_redirects=False)
    assert response.status_code in {302, 303}
    page = await client.get("/admin/frameworks")
    assert "计算机协议供货" in page.text
    api = await client.get("/api/frameworks")
    assert api.json()[0]["suppliers"] == 3
    framework_id = api.json()[0]["id"]
    purchaser = await actor(Role.PURCHASER)
    await as_user(client, purchaser)
    listing = await client.get("/purchaser/inquiries")
    assert f'/purchaser/inquiries/new?framework={framework_id}"' in listing.text
    quick = await client.get(f"/purchaser/inquiries/new?framework={framework_id}")
    assert f'<option value="{framework_id}" selected' in quick.text
    assert 'value="framework" checked' in quick.text
