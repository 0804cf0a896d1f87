"""A key custodian creates its key in Chromium, registers it, and at the opening releases
its share from the saved key file; with a second custodian's share the bids open.
"""

from __future__ import annotations

import base64
import re
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from bidding.envelope import public_key_bytes
from bidding.keys import decrypt_share, generate_custodian_key
from bidding.platform_keys import master_key, signing_key
from bidding.services import (
    encrypted_share_for,
    open_lot,
    register_custodian_key,
    release_share,
    submit_sealed_bid,
)
from procurement.clock import SYSTEM_CLOCK, FixedClock
from procurement.projects import close_lot_if_due
from procurement.roles import Role
from procurement.settings import Settings
from procurement.tables import Lot
from storage import open_object_store
from tests.e2e.conftest import run_async, screenshot_path
from tests.factories import PASSWORD, actor, published_project

pytestmark = pytest.mark.e2e
PASSPHRASE = "browser custodian passphrase"


async def first(query: Any) -> Any:
    return await query.first()


def test_custodian_keygen_and_release_in_the_browser(
    browser: Browser, live_server: str, database: None, settings: Settings, tmp_path: Path
) -> None:
    keeper = run_async(actor(Role.CUSTODIAN))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server + "/login?lang=zh")
    page.fill("#username", keeper.username)
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.goto(live_server + "/custodian")
    page.fill("#passphrase", PASSPHRASE)
    page.click("#keygen")
    expect(page.locator("#key-download")).to_be_visible()
    key_file = tmp_path / "key.json"  # what "Save key file" saves: the blob behind the link
    key_file.write_text(
        page.evaluate(
            "async () => (await fetch(document.getElementById('key-download').href)).text()"
        )
    )
    expect(page.locator("#custodian-status")).to_contain_text("已创建")

    others = []
    for _ in range(2):  # three custodians in all: the lot's key is split 2 of 3
        person = run_async(actor(Role.CUSTODIAN))
        person_key = generate_custodian_key()
        public = base64.b64encode(public_key_bytes(person_key.public_key())).decode()
        run_async(register_custodian_key(person, public))
        others.append((person, person_key))
    other, other_key = others[0]
    purchaser = run_async(actor(Role.PURCHASER))
    deadline = SYSTEM_CLOCK.now() + timedelta(seconds=12)
    project_id = run_async(published_project(purchaser, deadline=deadline))
    lot = run_async(first(Lot.objects().where(Lot.project == project_id)))

    # before the opening: the lot is listed with its project, but nothing can be released
    page.goto(live_server + "/custodian")
    row = page.locator("tr", has_text=f"{lot.number}. {lot.title}")
    expect(row).to_contain_text("开标时间起可释放")
    assert page.locator(f"form.release-form[data-lot='{lot.id}']").count() == 0
    # a new key is refused while this custodian holds a share of an unopened lot: the page
    # must not offer the refused key's file for saving
    page.fill("#passphrase", PASSPHRASE)
    page.click("#keygen")
    expect(page.locator("#custodian-status")).to_have_class(re.compile(r"\berror\b"))
    expect(page.locator("#key-download")).to_be_hidden()
    store = open_object_store(settings.storage_url)
    before = FixedClock(deadline - timedelta(seconds=5))
    for price in ("101.00", "102.00", "103.00"):
        supplier = run_async(actor(Role.BIDDER))
        run_async(
            submit_sealed_bid(
                supplier,
                lot.id,
                Decimal(price),
                {},
                store=store,
                signing_key=signing_key(settings),
                clock=before,
            )
        )
    while SYSTEM_CLOCK.now() < deadline:
        time.sleep(0.2)
    run_async(close_lot_if_due(lot.id))

    page.goto(live_server + "/custodian")
    form = page.locator(f"form.release-form[data-lot='{lot.id}']")
    not_a_key = tmp_path / "scan.json"
    not_a_key.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00garbage")
    form.locator("input[name=keyfile]").set_input_files(str(not_a_key))
    form.locator("input[name=passphrase]").fill(PASSPHRASE)
    form.locator("button").click()
    expect(form.locator(".release-status")).to_have_text(
        "这不是密钥保管人的密钥文件：请选择创建密钥时保存的文件。"
    )
    form.locator("input[name=keyfile]").set_input_files(str(key_file))
    form.locator("input[name=passphrase]").fill(PASSPHRASE)
    form.locator("button").click()
    expect(form.locator(".release-status")).to_have_text("1 / 2")
    page.screenshot(path=screenshot_path("custodian-released"), full_page=True)

    encrypted = run_async(encrypted_share_for(other, lot.id))
    share = decrypt_share(
        base64.b64decode(encrypted["encrypted_share"]),
        other_key,
        lot_id=str(lot.id),
        custodian_id=str(other.user_id),
    )
    run_async(release_share(other, lot.id, base64.b64encode(share).decode()))
    assert run_async(open_lot(lot.id, store=store, master=master_key(settings))) == "opened"
