"""Five experts evaluate a lot remotely in five Chromium contexts, up to the award notice.

Each expert works in a separate browser context (their own session): verdicts, then scores;
one expert's outlying score is flagged and the leader resolves it with a written reason; all
five sign the report; the purchaser confirms the award and the award notice with the savings
rate appears on the portal.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from bidding.platform_keys import master_key, signing_key
from bidding.services import open_lot, submit_sealed_bid
from evaluation import services
from procurement.clock import SYSTEM_CLOCK, FixedClock
from procurement.projects import close_lot_if_due
from procurement.roles import Actor, EnterpriseSize, OrganisationKind, Role
from procurement.settings import Settings
from procurement.tables import Lot
from storage import open_object_store
from tests.e2e.conftest import run_async, screenshot_path
from tests.factories import PASSWORD, actor, organisation, published_project

pytestmark = pytest.mark.e2e

PRICES = {"A": "900000.00", "B": "950000.00", "C": "980000.00", "D": "700000.00"}
SIZES = {"A": EnterpriseSize.SMALL, "B": EnterpriseSize.LARGE, "C": EnterpriseSize.MICRO}
SCORES = {"A": ("25", "16", "15"), "B": ("27", "18", "18"), "C": ("20", "12", "10")}
LAPTOP: ViewportSize = {"width": 1366, "height": 768}


async def opened_lot(settings: Settings) -> tuple[Actor, int, dict[str, int], list[Actor]]:
    """A goods tender with four sealed bids, opened, and its five-member committee."""
    store = open_object_store(settings.storage_url)
    purchaser = await actor(Role.PURCHASER, username="hospital")
    orgs: dict[str, int] = {}
    bidders = {}
    for name in PRICES:
        orgs[name] = await organisation(
            OrganisationKind.SUPPLIER,
            f"供应商{name}",
            size=SIZES.get(name, EnterpriseSize.LARGE),
        )
        bidders[name] = await actor(Role.BIDDER, organisation_id=orgs[name])
    deadline = SYSTEM_CLOCK.now() + timedelta(days=30)
    project_id = await published_project(
        purchaser, deadline=deadline, custody_mode="platform", title="监护仪采购"
    )
    lot = await Lot.objects().where(Lot.project == project_id).first()
    assert lot is not None
    before = FixedClock(deadline - timedelta(hours=1))
    for name, who in bidders.items():
        await submit_sealed_bid(
            who,
            lot.id,
            Decimal(PRICES[name]),
            {"technical": b"%PDF-1.4\n% technical proposal of " + name.encode()},
            store=store,
            signing_key=signing_key(settings),
            clock=before,
        )
    after = FixedClock(deadline + timedelta(minutes=1))
    await close_lot_if_due(lot.id, clock=after)
    await open_lot(lot.id, store=store, master=master_key(settings), clock=after)
    experts = [await actor(Role.EXPERT, username=f"expert{i}") for i in range(1, 6)]
    await services.seat_committee(
        lot.id,
        [
            services.Member(f"E{i}", int(e.user_id or 0), f"专家{i}", "医疗设备")
            for i, e in enumerate(experts, start=1)
        ],
    )
    return purchaser, int(lot.id), orgs, experts


def session(browser: Browser, base: str, username: str) -> tuple[BrowserContext, Page]:
    """A separate browser context (its own cookies) logged in as ``username``."""
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.goto(base + "/login?lang=zh")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return context, page


def record_verdicts(page: Page, base: str, lot_id: int, orgs: dict[str, int], n: int) -> None:
    page.goto(f"{base}/expert/lots/{lot_id}")
    for name, org in orgs.items():
        section = page.locator(f"#bid-{org}")
        section.locator("input[name=v_Q1][value=pass]").check()
        if name == "D" and n > 0:  # four of five rule D non-compliant
            section.locator("input[name=v_C1][value=fail]").check()
            section.locator("input[name=r_C1]").fill("交货期不满足招标要求")
        else:
            section.locator("input[name=v_C1][value=pass]").check()
        section.locator("button.save").click()
        expect(page.locator(f"#bid-{org} tr.done-row")).to_have_count(2)
    page.click("#submit-verdicts")
    expect(page.locator("#submit-verdicts")).to_have_count(0)


def record_scores(page: Page, base: str, lot_id: int, orgs: dict[str, int], n: int) -> None:
    page.goto(f"{base}/expert/lots/{lot_id}")
    for name, (t1, t2, b1) in SCORES.items():
        section = page.locator(f"#bid-{orgs[name]}")
        if name == "B" and n == 4:
            t1 = "5"  # the outlier
        section.locator("input[name=s_T1]").fill(t1)
        section.locator("input[name=s_T2]").fill(t2)
        section.locator("input[name=s_B1]").fill(b1)
        section.locator("button.save").click()
        expect(page.locator(f"#bid-{orgs[name]} tr.done-row")).to_have_count(3)
    if n == 0:
        page.screenshot(path=screenshot_path("evaluation-workspace-laptop"), full_page=False)
    page.click("#submit-scores")


def test_five_experts_score_remotely_and_the_award_is_published(
    browser: Browser, live_server: str, database: None, settings: Settings
) -> None:
    purchaser, lot_id, orgs, experts = run_async(opened_lot(settings))
    base = live_server
    sessions = [session(browser, base, e.username) for e in experts]

    # the workspace: documents readable in the page, a checklist of what is left
    page = sessions[0][1]
    page.goto(f"{base}/expert/lots/{lot_id}")
    expect(page.locator("#checklist")).to_contain_text("8")
    page.screenshot(path=screenshot_path("evaluation-verdicts-laptop"), full_page=False)
    document = page.locator(f"#bid-{orgs['A']} a[href*='view=1']").first
    response = page.request.get(base + str(document.get_attribute("href")))
    assert response.ok
    assert b"technical proposal of A" in response.body()

    for n, (_, expert_page) in enumerate(sessions):
        record_verdicts(expert_page, base, lot_id, orgs, n)
    for n, (_, expert_page) in enumerate(sessions):
        expert_page.goto(f"{base}/expert/lots/{lot_id}")
        expect(expert_page.locator(f"#bid-{orgs['D']}")).to_contain_text("未通过审查")
        record_scores(expert_page, base, lot_id, orgs, n)

    # the leader sees the flagged deviation on the report and resolves it in writing
    leader = sessions[0][1]
    leader.goto(f"{base}/lots/{lot_id}/evaluation/report")
    flagged = leader.locator("#reviews tr", has_text="评分偏差").first
    expect(flagged).to_contain_text("专家5 · 供应商B · T1")
    flagged.locator("select[name=resolution]").select_option("kept")
    flagged.locator("input[name=explanation]").fill("经评标委员会讨论，维持原评分")
    flagged.locator("button[type=submit]").click()
    while leader.locator("#reviews form").count():
        leader.locator("#reviews form").first.locator("input[name=explanation]").fill("同上")
        leader.locator("#reviews form").first.locator("button[type=submit]").click()
    expect(leader.locator("#reviews")).to_contain_text("维持原评分")
    for _, expert_page in sessions:
        expert_page.goto(f"{base}/lots/{lot_id}/evaluation/report")
        expert_page.click("#sign")
        expect(expert_page.locator("#sign")).to_have_count(0)
    leader.goto(f"{base}/lots/{lot_id}/evaluation/report?lang=en")
    expect(leader.locator("#stage")).to_have_text("Signed")
    leader.screenshot(path=screenshot_path("evaluation-report-en"), full_page=True)

    # the purchaser confirms the first candidate; the notice reaches the portal
    _, buyer = session(browser, base, purchaser.username)
    buyer.goto(f"{base}/lots/{lot_id}/evaluation/report")
    expect(buyer.locator("#award-form select[name=bidder_id]")).to_contain_text("供应商A")
    buyer.click("#confirm-award")
    expect(buyer.locator("body")).to_contain_text("节约率：10.00 %")
    expect(buyer.locator("body")).to_contain_text("专家1")
    visitor = browser.new_page(viewport=LAPTOP)
    visitor.goto(base + "/notices?lang=zh")
    visitor.locator(".notice-title", has_text="中标").first.click()
    expect(visitor.locator("body")).to_contain_text("供应商A")
    expect(visitor.locator("body")).to_contain_text("10.00 %")
    visitor.screenshot(path=screenshot_path("evaluation-award-notice"), full_page=True)
    for context, _ in sessions:
        context.close()
