"""The language switch keeps the page's query: a report of another month stays that month."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from procurement.roles import Role
from tests.factories import actor, csrf, login

pytestmark = pytest.mark.integration


async def test_the_switch_keeps_the_query_and_replaces_the_language(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    page = await client.get("/notices?q=%E8%AE%BE%E5%A4%87&lang=zh")
    assert page.status_code == 200
    assert 'href="/notices?q=%E8%AE%BE%E5%A4%87&amp;lang=en" data-lang="en"' in page.text
    english = await client.get("/notices?q=%E8%AE%BE%E5%A4%87&lang=en")
    assert 'href="/notices?q=%E8%AE%BE%E5%A4%87&amp;lang=zh" data-lang="zh"' in english.text


async def test_without_a_query_the_switch_only_sets_the_language(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    page = await client.get("/notices", headers={"accept-language": "zh-CN"})
    assert 'href="/notices?lang=en" data-lang="en"' in page.text


async def test_after_a_refused_form_the_switch_leads_back_to_the_form_page(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    """The refused post is answered at an address that takes only POST: switching language
    there used to answer 405 Method Not Allowed."""
    purchaser = await actor(Role.PURCHASER)
    await login(client, purchaser.username)
    form_page = await client.get("/purchaser/projects/new?lang=zh")
    assert form_page.status_code == 200
    refused = await client.post(
        "/purchaser/projects",
        data={"title": "", **csrf(client)},
        headers={"referer": "http://127.0.0.1/purchaser/projects/new?lang=zh"},
    )
    assert refused.status_code == 400
    assert 'href="/purchaser/projects/new?lang=en" data-lang="en"' in refused.text
    switched = await client.get("/purchaser/projects/new?lang=en")
    assert switched.status_code == 200

    elsewhere = await client.post(
        "/purchaser/projects",
        data={"title": "", **csrf(client)},
        headers={"referer": "https://evil.example/purchaser/projects/new"},
    )
    assert 'href="/?lang=zh" data-lang="zh"' in elsewhere.text  # never another site
