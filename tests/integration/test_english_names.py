"""English pages show the English names people gave, Chinese pages the Chinese ones.

Projects, lots and organisations carry an optional English name beside the Chinese; the
workspace homes, the timeliness dashboard and the statistics filter showed the Chinese on
English pages too.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from procurement.clock import SYSTEM_CLOCK
from procurement.roles import OrganisationKind, Role
from procurement.tables import Lot, Organisation
from tests.factories import actor, login, organisation, published_project
from tests.integration.test_contracts import awarded_lot

pytestmark = pytest.mark.integration

UNIT_ZH, UNIT_EN = "张家港市第二人民医院", "Zhangjiagang No. 2 People's Hospital"


async def test_each_language_shows_its_own_names(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    unit = await organisation(OrganisationKind.PURCHASING_UNIT, UNIT_ZH)
    await Organisation.update({Organisation.name_en: UNIT_EN}).where(Organisation.id == unit)
    purchaser = await actor(Role.PURCHASER, organisation_id=unit)
    project_id = await published_project(
        purchaser, deadline=SYSTEM_CLOCK.now() + timedelta(days=20), title="病房设备采购"
    )
    await Lot.update({Lot.title_en: "Ward equipment"}).where(Lot.project == project_id)
    supplier, supervisor = await actor(Role.BIDDER), await actor(Role.SUPERVISOR)

    async def page(who: str, path: str, language: str) -> str:
        await login(client, who)
        answer = await client.get(f"{path}?lang={language}")
        assert answer.status_code == 200, (path, answer.text[:300])
        return answer.text

    for who, path in [
        (supplier.username, "/supplier"),
        (supervisor.username, "/supervisor"),
        (purchaser.username, "/purchaser"),
    ]:
        english, chinese = await page(who, path, "en"), await page(who, path, "zh")
        assert "Test project" in english, path  # the factory's English project title
        assert "病房设备采购" not in english, path
        assert "病房设备采购" in chinese, path
    english = await page(supervisor.username, "/supervisor", "en")
    assert UNIT_EN.replace("'", "&#39;") in english
    assert "Ward equipment" in english
    assert UNIT_ZH not in english
    assert UNIT_ZH in await page(supervisor.username, "/supervisor", "zh")
    statistics = await page(supervisor.username, "/reports", "en")
    assert UNIT_EN.replace("'", "&#39;") in statistics

    # a lot awarded without a contract yet: an item on the timeliness dashboard that the
    # session's Celery sweep leaves alone (a due lot with no bids it would close as failed)
    await awarded_lot(purchaser)
    dashboard = await page(supervisor.username, "/reports/timeliness", "en")
    assert UNIT_EN.replace("'", "&#39;") in dashboard
    assert UNIT_ZH not in dashboard
    assert UNIT_ZH in await page(supervisor.username, "/reports/timeliness", "zh")
