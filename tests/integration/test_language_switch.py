"""The language switch keeps the page's query: a report of another month stays that month."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

pytestmark = pytest.mark.integration


async def test_the_switch_keeps_the_query_and_replaces_the_language(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    page = await client.get("/notices?q=%E8%AE%BE%E5%A4%87&lang=zh")
    assert page.status_code == 200
    assert 'href="?q=%E8%AE%BE%E5%A4%87&amp;lang=en" data-lang="en"' in page.text
    english = await client.get("/notices?q=%E8%AE%BE%E5%A4%87&lang=en")
    assert 'href="?q=%E8%AE%BE%E5%A4%87&amp;lang=zh" data-lang="zh"' in english.text


async def test_without_a_query_the_switch_only_sets_the_language(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    page = await client.get("/notices", headers={"accept-language": "zh-CN"})
    assert 'href="?lang=en" data-lang="en"' in page.text
