"""Lot links are offered only to viewers who can open them, and every offered link opens.

Each page renders its lot rows' links through the providers registered with
``procurement.web.add_lot_links``. For each role, these tests render the page, check which
links it offers (absent where the target would answer 403/404, present where it works),
then follow every link the page offers and expect 200.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from evaluation import services
from procurement.clock import SYSTEM_CLOCK
from procurement.lifecycle import LotStatus
from procurement.projects import create_project
from procurement.results import record_award
from procurement.roles import Actor, Role
from procurement.settings import Settings
from procurement.tables import Lot
from tests.factories import ANY_DAY, actor, draft, login, published_project
from tests.integration.test_evaluation_service import committee_of, opened_lot

pytestmark = pytest.mark.integration

#: Prices close together: no abnormally low price to review before the report is signed.
PRICES = {"A": "900000.00", "B": "910000.00", "C": "920000.00", "D": "930000.00"}
HREF = re.compile(r'href="(/[^"#]*)"')
#: Links to lots and projects (lot rows' links, project titles); the site's navigation aside.
LOT_LINK = re.compile(r"^/(lots/\d|[a-z]+/lots/\d|projects/\d|supervisor/(projects|audit))")


@asynccontextmanager
async def as_user(app: Litestar, who: Actor) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A client logged in as ``who``."""
    async with AsyncTestClient(app=app, base_url="http://127.0.0.1") as client:
        await login(client, who.username)
        yield client


async def page_links(client: AsyncTestClient[Litestar], url: str) -> set[str]:
    """The page's links to lots and projects, every one of which must open (200)."""
    page = await client.get(url)
    assert page.status_code == 200, (url, page.status_code, page.text[:300])
    hrefs = {h.replace("&amp;", "&") for h in HREF.findall(page.text)}
    hrefs = {h for h in hrefs if LOT_LINK.match(h)}
    broken = {}
    for href in sorted(hrefs):
        response = await client.get(href, follow_redirects=True)
        if response.status_code != 200:
            broken[href] = response.status_code
    assert broken == {}, f"links on {url} that do not open: {broken}"
    return hrefs


async def project_of(lot_id: int) -> int:
    row = await Lot.select(Lot.project).where(Lot.id == lot_id).first()
    assert row is not None
    return int(row["project"])


async def evaluate(lot_id: int, bidders: dict[str, Actor], experts: list[Actor]) -> None:
    """Verdicts, scores and signatures of the whole committee: the report exists, signed."""
    orgs = [int(b.organisation_id or 0) for b in bidders.values()]
    for expert in experts:
        for org in orgs:
            for criterion in ("Q1", "C1"):
                await services.record_verdict(expert, lot_id, org, criterion, passed=True)
        await services.submit_verdicts(expert, lot_id)
    for expert in experts:
        for org in orgs:
            for criterion, points in (("T1", "20"), ("T2", "15"), ("B1", "15")):
                await services.record_score(expert, lot_id, org, criterion, points)
        await services.submit_scores(expert, lot_id)
    for expert in experts:
        await services.sign_report(expert, lot_id)


# --------------------------------------------------------------------------- My scores


async def test_my_scores_is_offered_to_the_lots_bidders_and_opens_without_committee_scores(
    app: Litestar, settings: Settings
) -> None:
    """An award recorded without a committee (as in the demo, or a price inquiry)."""
    purchaser, lot_id, bidders = await opened_lot(app, settings, prices=PRICES)
    await Lot.update({Lot.status: LotStatus.EVALUATING}).where(Lot.id == lot_id)
    await record_award(
        lot_id,
        supplier_id=int(bidders["A"].organisation_id or 0),
        award_amount_fen=90_000_000,
        actor=purchaser,
    )
    project_id = await project_of(lot_id)
    result = f"/supplier/lots/{lot_id}/result"
    async with as_user(app, bidders["A"]) as winner:
        assert result in await page_links(winner, f"/projects/{project_id}")
        page = await winner.get(f"{result}?lang=en")
        assert "Awarded to you" in page.text
        assert "900000.00" in page.text
        assert 'id="not-evaluated"' in page.text
    async with as_user(app, bidders["B"]) as loser:
        assert result in await page_links(loser, f"/projects/{project_id}")
        assert "Not awarded to you" in (await loser.get(f"{result}?lang=en")).text
    outsider = await actor(Role.BIDDER)
    async with as_user(app, outsider) as client:
        assert result not in await page_links(client, f"/projects/{project_id}")
        refused = await client.get(result)
        assert refused.status_code == 404
        assert "did not bid in this lot" in refused.text


# --------------------------------------------------------------------------- evaluation


async def test_evaluation_links_follow_the_committee_and_the_report(
    app: Litestar, settings: Settings
) -> None:
    purchaser, lot_id, bidders = await opened_lot(app, settings, prices=PRICES)
    experts = await committee_of(lot_id)
    project_id = await project_of(lot_id)
    workspace = f"/expert/lots/{lot_id}"
    progress = f"/lots/{lot_id}/evaluation/progress"
    report = f"/lots/{lot_id}/evaluation/report"
    other_unit = await actor(Role.PURCHASER)
    supervisor = await actor(Role.SUPERVISOR)
    outsider_expert = await actor(Role.EXPERT)

    # the committee has started (the lot is under evaluation), nobody has submitted yet:
    # no report exists
    first = int(bidders["A"].organisation_id or 0)
    await services.record_verdict(experts[0], lot_id, first, "Q1", passed=True)
    stored = await Lot.objects().where(Lot.id == lot_id).first()
    assert stored is not None
    assert stored.status == LotStatus.EVALUATING
    async with as_user(app, purchaser) as owner:
        links = await page_links(owner, f"/purchaser/projects/{project_id}")
        assert progress in links
        assert report not in links
    async with as_user(app, supervisor) as client:
        links = await page_links(client, "/supervisor")
        assert progress in links
        assert report not in links
    async with as_user(app, other_unit) as client:
        links = await page_links(client, f"/projects/{project_id}")
        assert progress not in links
        assert report not in links
        assert (await client.get(progress)).status_code == 403
    async with as_user(app, experts[0]) as member:
        assert workspace in await page_links(member, f"/projects/{project_id}")
        links = await page_links(member, "/expert/evaluations")
        assert workspace in links
        assert report not in links
    async with as_user(app, outsider_expert) as client:
        assert workspace not in await page_links(client, f"/projects/{project_id}")
        assert (await client.get(workspace)).status_code == 404

    # every member has scored and signed: the report exists; then the award
    await evaluate(lot_id, bidders, experts)
    async with as_user(app, purchaser) as owner:
        assert report in await page_links(owner, f"/purchaser/projects/{project_id}")
        await services.confirm_award(purchaser, lot_id)
        assert report in await page_links(owner, f"/purchaser/projects/{project_id}")
    async with as_user(app, supervisor) as client:
        assert report in await page_links(client, "/supervisor")
    async with as_user(app, experts[0]) as member:
        assert report in await page_links(member, "/expert/evaluations")
    async with as_user(app, other_unit) as client:
        assert report not in await page_links(client, f"/projects/{project_id}")
        assert (await client.get(report)).status_code == 403
    result = f"/supplier/lots/{lot_id}/result"
    async with as_user(app, bidders["C"]) as bidder:
        assert result in await page_links(bidder, f"/projects/{project_id}")
        assert " / 4" in (await bidder.get(result)).text  # its rank among the four


# --------------------------------------------------------------------------- draw, contract


async def test_draw_and_contract_links_only_for_the_lots_unit_and_supervisors(
    app: Litestar,
) -> None:
    purchaser = await actor(Role.PURCHASER)
    project_id = await published_project(purchaser, custody_mode="platform")
    lot = await Lot.objects().where(Lot.project == project_id).first()
    assert lot is not None
    await Lot.update({Lot.status: LotStatus.EVALUATING}).where(Lot.id == lot.id)
    winner = await actor(Role.BIDDER)
    await record_award(
        lot.id,
        supplier_id=int(winner.organisation_id or 0),
        award_amount_fen=90_000_000,
        actor=purchaser,
    )
    draw = f"/lots/{lot.id}/draw"
    contract = f"/purchaser/lots/{lot.id}/contract"

    async with as_user(app, purchaser) as owner:
        links = await page_links(owner, f"/purchaser/projects/{project_id}")
        assert {draw, contract} <= links
        assert 'id="record-contract"' in (await owner.get(contract)).text
    other_unit = await actor(Role.PURCHASER)
    async with as_user(app, other_unit) as client:
        links = await page_links(client, f"/projects/{project_id}")
        assert draw not in links
        assert contract not in links
        refused = await client.get(draw)
        assert refused.status_code == 403
        assert "no lot with id" not in refused.text
        assert (await client.get(contract)).status_code == 403
    supervisor = await actor(Role.SUPERVISOR)
    async with as_user(app, supervisor) as client:
        links = await page_links(client, "/supervisor")
        assert {draw, contract} <= links
        page = await client.get(contract)
        assert 'id="record-contract"' not in page.text  # read only
        assert 'id="no-contract"' in page.text
        # the timeliness page lists the contract to sign, linked to the contract page
        assert contract in await page_links(client, "/reports/timeliness")
    admin = await actor(Role.ADMIN)
    async with as_user(app, admin) as client:
        assert contract in await page_links(client, "/reports/timeliness")


# --------------------------------------------------------------------------- drafts, schemes


async def test_the_supervisor_home_does_not_link_a_drafts_page_or_scheme(app: Litestar) -> None:
    purchaser = await actor(Role.PURCHASER)
    deadline = SYSTEM_CLOCK.now() + timedelta(days=30)
    draft_id = await create_project(
        purchaser, draft(deadline=deadline, custody_mode="platform"), limits=ANY_DAY
    )
    draft_lot = await Lot.objects().where(Lot.project == draft_id).first()
    assert draft_lot is not None
    published_id = await published_project(purchaser, custody_mode="platform")
    consultation_id = await published_project(
        purchaser, custody_mode="platform", method="competitive_consultation"
    )
    consultation_lot = await Lot.objects().where(Lot.project == consultation_id).first()
    assert consultation_lot is not None
    form = f"/purchaser/lots/{draft_lot.id}/scheme"

    supervisor = await actor(Role.SUPERVISOR)
    async with as_user(app, supervisor) as client:
        links = await page_links(client, "/supervisor")
        assert f"/projects/{draft_id}" not in links
        assert form not in links
        assert f"/projects/{published_id}" in links
        assert f"/lots/{consultation_lot.id}/scheme" not in links  # no scheme to show
    async with as_user(app, purchaser) as owner:
        assert form in await page_links(owner, f"/purchaser/projects/{draft_id}")
        assert f"/lots/{consultation_lot.id}/scheme" not in await page_links(
            owner, f"/projects/{consultation_id}"
        )
