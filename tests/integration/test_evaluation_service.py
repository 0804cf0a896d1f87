"""Evaluation against PostgreSQL and S3: a tender lot from its scheme to the award notice.

Five experts record verdicts and scores independently; one outlying score is flagged and
resolved; the report is signed; the purchaser confirms the award; the notice states the
savings rate and the bidders see their own scores. Every bad input gets a 4xx and changes
nothing.
"""

from __future__ import annotations

import asyncio
import subprocess
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from bidding.platform_keys import master_key, signing_key
from bidding.services import open_lot, submit_sealed_bid
from bidding.tables import BidFile, OpeningKey
from evaluation import services
from evaluation.exceptions import SchemeError
from evaluation.tables import CommitteeSeat, Correction, LotScheme, Outcome, Score
from procurement.clock import SYSTEM_CLOCK, FixedClock
from procurement.exceptions import Conflict, Forbidden, NotFound, ValidationError
from procurement.projects import close_lot_if_due, create_project, publish_project
from procurement.roles import Actor, EnterpriseSize, OrganisationKind, Role
from procurement.settings import Settings
from procurement.tables import Lot, Notice
from tests.factories import ANY_DAY, actor, csrf, draft, login, organisation, published_project

pytestmark = pytest.mark.integration

PRICES = {"A": "900000.00", "B": "950000.00", "C": "980000.00", "D": "700000.00"}
SIZES = {
    "A": EnterpriseSize.SMALL,
    "B": EnterpriseSize.LARGE,
    "C": EnterpriseSize.MICRO,
    "D": EnterpriseSize.LARGE,
}
#: technical/commercial scores each expert gives each bidder (T1 of 30, T2 of 20, B1 of 20)
SCORES = {"A": ("25", "16", "15"), "B": ("27", "18", "18"), "C": ("20", "12", "10")}


async def opened_lot(
    app: Litestar,
    settings: Settings,
    *,
    by_worker: bool = False,
    prices: dict[str, str] | None = None,
) -> tuple[Actor, int, dict[str, Actor]]:
    """A goods tender with four sealed bids, opened; returns purchaser, lot and bidders.

    ``by_worker``: the deadline is seconds away and the Celery worker (deadline task, beat
    sweep) closes and opens the lot, as in production.
    """
    store = app.state.object_store
    purchaser = await actor(Role.PURCHASER)
    bidders = {}
    for name, size in SIZES.items():
        org = await organisation(OrganisationKind.SUPPLIER, f"供应商{name}", size=size)
        bidders[name] = await actor(Role.BIDDER, organisation_id=org)
    deadline = SYSTEM_CLOCK.now() + (timedelta(seconds=15) if by_worker else timedelta(days=30))
    project_id = await published_project(purchaser, deadline=deadline, custody_mode="platform")
    lot = await Lot.objects().where(Lot.project == project_id).first()
    assert lot is not None
    before = SYSTEM_CLOCK if by_worker else FixedClock(deadline - timedelta(hours=1))
    for name, who in bidders.items():
        await submit_sealed_bid(
            who,
            lot.id,
            Decimal((prices or PRICES)[name]),
            {"technical": f"technical proposal of {name}".encode()},
            store=store,
            signing_key=signing_key(settings),
            clock=before,
        )
    if by_worker:
        for _ in range(240):
            lot = await Lot.objects().where(Lot.id == lot.id).first()
            assert lot is not None
            if lot.status != "published" and lot.status != "bidding_closed":
                break
            await asyncio.sleep(0.25)
        assert lot.status == "opened"
        return purchaser, int(lot.id), bidders
    after = FixedClock(deadline + timedelta(minutes=1))
    assert await close_lot_if_due(lot.id, clock=after)
    assert await open_lot(lot.id, store=store, master=master_key(settings), clock=after) == "opened"
    return purchaser, int(lot.id), bidders


async def committee_of(lot_id: int, size: int = 5) -> list[Actor]:
    experts = [await actor(Role.EXPERT) for _ in range(size)]
    members = [
        services.Member(expert_id=f"E{i}", user_id=int(e.user_id or 0), name=f"专家{i}")
        for i, e in enumerate(experts, start=1)
    ]
    await services.seat_committee(lot_id, members)
    return experts


async def test_a_tender_is_not_published_without_its_scheme(app: Litestar) -> None:
    purchaser = await actor(Role.PURCHASER)
    deadline = SYSTEM_CLOCK.now() + timedelta(days=30)
    project_draft = draft(deadline=deadline, custody_mode="platform")
    clock = FixedClock(project_draft.documents_from - timedelta(hours=1))
    project_id = await create_project(purchaser, project_draft, clock=clock, limits=ANY_DAY)
    notices = await Notice.count()
    with pytest.raises(Conflict, match="no scoring scheme"):
        await publish_project(purchaser, project_id, clock=clock, limits=ANY_DAY)
    lot = await Lot.objects().where(Lot.project == project_id).first()
    assert lot is not None
    assert lot.status == "draft"  # the whole publication was rolled back
    assert await Notice.count() == notices
    assert not await OpeningKey.exists().where(OpeningKey.lot == lot.id)
    await services.set_default_schemes(purchaser, project_id)
    await publish_project(purchaser, project_id, clock=clock, limits=ANY_DAY)
    assert (await services.public_scheme(lot.id))["criteria"][0]["id"] == "P"
    with pytest.raises(Conflict, match="can no longer change"):
        await services.set_scheme(purchaser, lot.id, services.default_scheme(lot_category()))


def lot_category() -> Any:
    from procurement.lifecycle import ProjectCategory

    return ProjectCategory.GOODS


async def test_a_bad_scheme_is_refused_with_every_problem_and_not_stored(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    purchaser = await actor(Role.PURCHASER)
    project_id = await create_project(
        purchaser, draft(deadline=SYSTEM_CLOCK.now() + timedelta(days=30)), limits=ANY_DAY
    )
    lot = await Lot.objects().where(Lot.project == project_id).first()
    assert lot is not None
    await login(client, purchaser.username)
    bad = services.default_scheme(lot_category())
    bad["criteria"][0]["max_points"] = "20"  # price 20 < 30 for goods; sum 90
    bad["small_or_micro_deduction"] = "25"  # above 20 %
    response = await client.post(
        f"/api/evaluation/lots/{lot.id}/scheme",
        json=bad,
        headers={"x-csrftoken": csrf(client)["_csrf_token"]},
    )
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert "add up to 100" in detail
    assert "below the minimum of 30" in detail
    assert "25 %" in detail
    assert not await LotScheme.exists().where(LotScheme.lot == lot.id)
    response = await client.post(
        f"/api/evaluation/lots/{lot.id}/scheme",
        json=["not", "an", "object"],
        headers={"x-csrftoken": csrf(client)["_csrf_token"]},
    )
    assert response.status_code == 400
    with pytest.raises(SchemeError, match="must be a number"):
        await services.set_scheme(
            purchaser,
            lot.id,
            {
                **services.default_scheme(lot_category()),
                "criteria": [{"id": "P", "group": "price", "max_points": "lots"}],
            },
        )


async def record_all_verdicts(experts: list[Actor], lot_id: int, bidders: dict[str, Actor]) -> None:
    for expert in experts:
        for name, who in bidders.items():
            org = int(who.organisation_id or 0)
            await services.record_verdict(expert, lot_id, org, "Q1", passed=True)
            fails = name == "D" and expert is not experts[0]  # 4 of 5 rule D non-compliant
            await services.record_verdict(
                expert,
                lot_id,
                org,
                "C1",
                passed=not fails,
                reason="交货期不满足 delivery time not met" if fails else "",
            )
        assert await services.submit_verdicts(expert, lot_id) == "submitted"


async def test_a_lot_is_evaluated_signed_and_awarded(
    app: Litestar, settings: Settings, client: AsyncTestClient[Litestar]
) -> None:
    purchaser, lot_id, bidders = await opened_lot(app, settings)
    experts = await committee_of(lot_id)
    leader = experts[0]
    org = {name: int(b.organisation_id or 0) for name, b in bidders.items()}
    stranger = await actor(Role.EXPERT)

    # the committee reads the decrypted documents; a stranger cannot
    technical = await BidFile.objects().where(BidFile.kind == "technical").first()
    assert technical is not None
    _row, chunks = await services.open_document(
        experts[1], lot_id, technical.id, store=app.state.object_store, master=master_key(settings)
    )
    assert b"".join(chunks).startswith(b"technical proposal of ")
    with pytest.raises(NotFound):
        await services.open_document(
            stranger,
            lot_id,
            technical.id,
            store=app.state.object_store,
            master=master_key(settings),
        )

    # verdicts first: a fail needs a reason; scores wait for every member's verdicts
    with pytest.raises(ValidationError, match="reason"):
        await services.record_verdict(experts[1], lot_id, org["D"], "C1", passed=False)
    with pytest.raises(Conflict, match="every member has submitted the verdicts"):
        await services.record_score(experts[1], lot_id, org["A"], "T1", "20")
    with pytest.raises(NotFound):
        await services.record_verdict(stranger, lot_id, org["A"], "Q1", passed=True)
    await record_all_verdicts(experts, lot_id, bidders)
    assert (await Lot.objects().where(Lot.id == lot_id).first()).status == "evaluating"  # type: ignore[union-attr]
    verdicts = await services.committee_verdicts(lot_id)
    assert verdicts is not None
    assert verdicts[org["D"]]["compliance"] == ["C1"]  # majority (MOF87 Art. 57)

    # bad scores: each refused, nothing stored
    bad: list[tuple[Actor, int, str, object, str, type[Exception], str]] = [
        (experts[1], org["A"], "T1", "31", "", ValidationError, "0–30"),
        (experts[1], org["A"], "T1", "-1", "", ValidationError, "0–30"),
        (experts[1], org["A"], "T1", "abc", "", ValidationError, "must be a number"),
        (experts[1], org["A"], "T1", "NaN", "", ValidationError, "must be a number"),
        (experts[1], org["A"], "T1", "12.345", "", ValidationError, "2 decimals"),
        (experts[1], org["A"], "T1", "30", "", ValidationError, "comment"),
        (experts[1], org["A"], "P", "10", "", ValidationError, "not a criterion"),
        (experts[1], org["D"], "T1", "10", "", Conflict, "non-compliant"),
        (stranger, org["A"], "T1", "10", "", NotFound, "not on the evaluation committee"),
    ]
    for who, bidder, criterion, points, comment, error, message in bad:
        with pytest.raises(error, match=message):
            await services.record_score(who, lot_id, bidder, criterion, points, comment=comment)
    assert await Score.count() == 0

    # independent scoring; expert 5 gives B an outlying T1 score
    for n, expert in enumerate(experts):
        for name, (t1, t2, b1) in SCORES.items():
            if name == "B" and n == 4:
                t1 = "5"
            for criterion, points in (("T1", t1), ("T2", t2), ("B1", b1)):
                await services.record_score(expert, lot_id, org[name], criterion, points)
        if n < 4:
            assert await services.submit_scores(expert, lot_id) == "scoring"
            with pytest.raises(Conflict, match="already submitted"):
                await services.submit_scores(expert, lot_id)
            with pytest.raises(Conflict, match="final"):
                await services.record_score(expert, lot_id, org["A"], "T1", "10")
    # nobody reads the report before everyone has submitted
    with pytest.raises(NotFound):
        await services.report(lot_id)
    progress = await services.progress(lot_id)
    assert [m["scores_submitted"] for m in progress["members"]] == [True] * 4 + [False]
    assert progress["members"][4]["scores"] == 9
    assert "points" not in str(progress)
    assert await services.submit_scores(experts[4], lot_id) == "review"

    # the outlier is flagged; signing waits for its resolution
    flagged = [r for r in await services.reviews(lot_id) if r["kind"] == "deviation"]
    seat5 = await CommitteeSeat.objects().where(CommitteeSeat.user == experts[4].user_id).first()
    assert seat5 is not None
    assert [r["key"] for r in flagged] == [f"{seat5.id}:{org['B']}:T1"] * len(flagged)
    with pytest.raises(Conflict, match="resolved"):
        await services.sign_report(experts[1], lot_id)
    with pytest.raises(Forbidden, match="leader"):
        await services.correct_score(
            experts[1],
            lot_id,
            seat_id=seat5.id,
            bidder_id=org["B"],
            criterion="T1",
            points="26",
            reason="abnormal_score",
            note="x",
        )
    with pytest.raises(ValidationError, match="corrected only for"):
        await services.correct_score(
            leader,
            lot_id,
            seat_id=seat5.id,
            bidder_id=org["B"],
            criterion="T1",
            points="26",
            reason="mood",
            note="x",
        )
    assert await Correction.count() == 0
    await services.correct_score(
        leader,
        lot_id,
        seat_id=seat5.id,
        bidder_id=org["B"],
        criterion="T1",
        points="26",
        reason="abnormal_score",
        note="委员会认定评分畸低 the committee finds it abnormally low",
    )
    for item in flagged:
        await services.resolve_review(
            leader, lot_id, item["id"], resolution="corrected", explanation="corrected to 26"
        )

    # result: B (large, 950,000) vs A (small, 900,000 → 810,000 for scoring)
    report = await services.report(lot_id)
    results = {r["bidder"]: r for r in report["result"]["results"]}
    assert results[str(org["A"])]["price_points"] == "30.00"
    assert results[str(org["B"])]["price_points"] == "25.58"  # 810000/950000 × 30
    assert results[str(org["B"])]["criterion_scores"]["T1"] == "26.80"
    assert results[str(org["D"])]["exclusion"]["reason"] == "compliance"
    assert report["result"]["recommended"] == str(org["B"])  # 25.58+26.8+18+18 = 88.38

    # awarding before the report is signed is refused
    with pytest.raises(Conflict, match="not evaluated"):
        await services.confirm_award(purchaser, lot_id)
    for expert in experts:
        stage = await services.sign_report(expert, lot_id)
    assert stage == "signed"
    with pytest.raises(Conflict):
        await services.correct_score(
            leader,
            lot_id,
            seat_id=seat5.id,
            bidder_id=org["B"],
            criterion="T1",
            points="27",
            reason="abnormal_score",
            note="again",
        )
    with pytest.raises(NotFound):
        await services.my_result(bidders["B"], lot_id)  # only after the award
    with pytest.raises(ValidationError, match="reason"):
        await services.confirm_award(purchaser, lot_id, bidder_id=org["A"])
    notice_id = await services.confirm_award(purchaser, lot_id)
    notice = await Notice.objects().where(Notice.id == notice_id).first()
    assert notice is not None
    assert "950,000.00" in notice.body
    assert "节约率：5.00 %" in notice.body
    assert "专家1" in notice.body
    lot = await Lot.objects().where(Lot.id == lot_id).first()
    assert lot is not None
    assert (lot.status, lot.award_amount_fen, lot.awarded_supplier) == (
        "awarded",
        95_000_000,
        org["B"],
    )
    mine = await services.my_result(bidders["A"], lot_id)
    assert (mine["rank"], mine["total"]) == (2, results[str(org["A"])]["total"])
    assert (await Outcome.objects().where(Outcome.lot == lot_id).first()).stage == "awarded"  # type: ignore[union-attr]

    # D reads why it was not scored, in either language, with the criterion as published
    await login(client, bidders["D"].username)
    chinese = await client.get(f"/supplier/lots/{lot_id}/result?lang=zh")
    english = await client.get(f"/supplier/lots/{lot_id}/result?lang=en")
    assert '<dd id="exclusion">符合性审查未通过: C1 实质性响应 Substantive response</dd>' in (
        chinese.text
    )
    assert "not compliant" not in chinese.text
    assert '<dd id="exclusion">Not substantively responsive: C1 实质性响应' in english.text
    # A, scored, sees each criterion with its description
    await login(client, bidders["A"].username)
    scored = await client.get(f"/supplier/lots/{lot_id}/result?lang=zh")
    assert '<td>T1 <span class="muted">' in scored.text

    # the pages: the expert's workspace and the report, the public scheme
    await login(client, experts[2].username)
    workspace = await client.get(f"/expert/lots/{lot_id}")
    assert workspace.status_code == 200, workspace.text
    assert "供应商A" in workspace.text
    page = await client.get(f"/lots/{lot_id}/evaluation/report?lang=en")
    assert page.status_code == 200, page.text
    assert "corrected to 26" in page.text
    assert "88.38" in page.text
    assert (await client.get(f"/lots/{lot_id}/scheme")).status_code == 200
    with pytest.raises(Conflict, match="not evaluated"):
        await services.confirm_award(purchaser, lot_id)


async def test_too_few_compliant_bids_fail_the_lot(app: Litestar, settings: Settings) -> None:
    _, lot_id, bidders = await opened_lot(app, settings)
    experts = await committee_of(lot_id)
    for expert in experts:
        for name, who in bidders.items():
            ok = name in {"A", "B"}
            org = int(who.organisation_id or 0)
            await services.record_verdict(expert, lot_id, org, "Q1", passed=True)
            await services.record_verdict(
                expert, lot_id, org, "C1", passed=ok, reason="" if ok else "未响应 not responsive"
            )
        outcome = await services.submit_verdicts(expert, lot_id)
    assert outcome == "failed"
    lot = await Lot.objects().where(Lot.id == lot_id).first()
    assert lot is not None
    assert (lot.status, lot.failure_reason) == ("failed", "TOO_FEW_VALID")
    assert await Notice.exists().where((Notice.lot == lot_id) & (Notice.kind == "failure"))


async def test_the_committee_has_five_or_more_experts_an_odd_number(
    app: Litestar, settings: Settings
) -> None:
    _, lot_id, _ = await opened_lot(app, settings)
    experts = [await actor(Role.EXPERT) for _ in range(4)]
    members = [
        services.Member(f"E{i}", int(e.user_id or 0), f"专家{i}") for i, e in enumerate(experts)
    ]
    with pytest.raises(ValidationError, match="odd number"):
        await services.seat_committee(lot_id, members)
    purchaser = await actor(Role.PURCHASER)
    with pytest.raises(ValidationError, match="not active expert"):
        await services.seat_committee(
            lot_id, [*members, services.Member("X", int(purchaser.user_id or 0), "x")]
        )
    assert await CommitteeSeat.count() == 0


async def test_a_confirmed_draw_too_small_to_seat_is_audited_not_raised(
    app: Litestar, settings: Settings
) -> None:
    from procurement.tables import AuditEntry

    _, lot_id, _ = await opened_lot(app, settings)
    with pytest.raises(ValidationError, match="at least 5"):
        await services.seat_confirmed_committee(lot_id)  # no draw: nobody confirmed
    await services.on_committee_confirmed(lot_id=lot_id, draw_id=1)
    assert await AuditEntry.exists().where(AuditEntry.action == "evaluation.committee_not_seated")
    assert await CommitteeSeat.count() == 0


async def test_an_abnormally_low_price_is_explained_then_rejected(
    app: Litestar, settings: Settings, client: AsyncTestClient[Litestar]
) -> None:
    from procurement.tables import Notification

    prices = {**PRICES, "D": "400000.00"}  # below half the next-lowest price
    _, lot_id, bidders = await opened_lot(app, settings, prices=prices)
    experts = await committee_of(lot_id)
    org = {name: int(b.organisation_id or 0) for name, b in bidders.items()}
    for expert in experts:
        for bidder in org.values():
            for criterion in ("Q1", "C1"):
                await services.record_verdict(expert, lot_id, bidder, criterion, passed=True)
        await services.submit_verdicts(expert, lot_id)
    for expert in experts:
        for bidder in org.values():
            for criterion in ("T1", "T2", "B1"):
                await services.record_score(expert, lot_id, bidder, criterion, "15")
        stage = await services.submit_scores(expert, lot_id)
    assert stage == "review"
    (item,) = [r for r in await services.reviews(lot_id) if r["kind"] == "low_price"]
    assert item["key"] == str(org["D"])
    with pytest.raises(Conflict, match="explanation is needed first"):
        await services.resolve_review(
            experts[0], lot_id, item["id"], resolution="rejected", explanation="too low"
        )
    await login(client, experts[0].username)
    page = await client.get(f"/lots/{lot_id}/evaluation/report?lang=zh")
    assert "要求投标人书面说明" in page.text
    # the flag reads as a sentence in the page's language, amounts in yuan
    assert "报价 400,000.00 元低于" in page.text
    assert "below_" not in page.text
    english = await client.get(f"/lots/{lot_id}/evaluation/report?lang=en")
    assert "the price 400,000.00 yuan is below 50 % of the" in english.text
    asked = await client.post(
        f"/expert/lots/{lot_id}/reviews/{item['id']}/request",
        data=csrf(client),
        follow_redirects=False,
    )
    assert asked.status_code in {302, 303}
    told = await Notification.objects().where(Notification.user == bidders["D"].user_id).first()
    assert told is not None
    # emailed too, where no page language applies: the Chinese sentence, then the English
    chinese, english_line = told.body.split("\n")
    assert chinese.startswith("报价 400,000.00 元低于")
    assert english_line.startswith("the price 400,000.00 yuan is below 50 % of the")
    with pytest.raises(NotFound):
        await services.explain_low_price(bidders["A"], lot_id, "we are cheap too")
    with pytest.raises(ValidationError):
        await services.explain_low_price(bidders["D"], lot_id, "   ")
    await services.explain_low_price(bidders["D"], lot_id, "库存设备，成本已摊销")
    with pytest.raises(ValidationError, match="resolve this item as one of"):
        await services.resolve_review(
            experts[0], lot_id, item["id"], resolution="kept", explanation="x"
        )
    stage = await services.resolve_review(
        experts[0],
        lot_id,
        item["id"],
        resolution="rejected",
        explanation="无法证明能按此价格履约 cannot perform at this price",
    )
    assert stage == "review"
    report = await services.report(lot_id)
    excluded = {r["bidder"]: r for r in report["result"]["results"]}[str(org["D"])]
    assert excluded["exclusion"]["reason"] == "abnormally_low"  # invalid (MOF87 Art. 60)
    assert report["result"]["recommended"] == str(org["A"])
    assert "库存设备" in report["reviews"][-1]["explanation"]
    with pytest.raises(Conflict, match="already decided"):
        await services.explain_low_price(bidders["D"], lot_id, "again")


async def test_a_lot_opened_by_the_worker_is_evaluated_over_http(
    app: Litestar,
    settings: Settings,
    celery_worker: subprocess.Popen[bytes],
    client: AsyncTestClient[Litestar],
) -> None:
    purchaser, lot_id, bidders = await opened_lot(app, settings, by_worker=True)
    experts = await committee_of(lot_id)
    org = {name: int(b.organisation_id or 0) for name, b in bidders.items()}
    api = f"/api/evaluation/lots/{lot_id}"

    async def as_user(who: Actor) -> dict[str, str]:
        client.cookies.clear()
        await login(client, who.username)
        return {"x-csrftoken": csrf(client)["_csrf_token"]}

    for expert in experts:
        headers = await as_user(expert)
        for bidder in org.values():
            for criterion in ("Q1", "C1"):
                response = await client.post(
                    f"{api}/verdicts",
                    json={"bidder_id": bidder, "criterion": criterion, "passed": True},
                    headers=headers,
                )
                assert response.status_code == 200, response.text
        assert (await client.post(f"{api}/verdicts/submit", headers=headers)).status_code == 200
    headers = await as_user(experts[0])
    bad_inputs = [
        ({"bidder_id": org["A"], "criterion": "T1", "points": "ten"}, 400),
        ({"bidder_id": org["A"], "criterion": "T1", "points": 31}, 400),
        ({"bidder_id": "x", "criterion": "T1", "points": 10}, 400),
        ({"bidder_id": org["A"], "criterion": "T9", "points": 10}, 400),
        ({"bidder_id": 999999, "criterion": "T1", "points": 10}, 404),
    ]
    for body, status in bad_inputs:
        response = await client.post(f"{api}/scores", json=body, headers=headers)
        assert response.status_code == status, (body, response.text)
    assert (await client.post(f"{api}/scores", content=b"{", headers=headers)).status_code == 400
    assert await Score.count() == 0
    for expert in experts:
        headers = await as_user(expert)
        for bidder in org.values():
            for criterion, points in (("T1", "20"), ("T2", "15"), ("B1", "15")):
                response = await client.post(
                    f"{api}/scores",
                    json={"bidder_id": bidder, "criterion": criterion, "points": points},
                    headers=headers,
                )
                assert response.status_code == 200, response.text
        submitted = await client.post(f"{api}/scores/submit", headers=headers)
        assert submitted.status_code == 200
        again = await client.post(f"{api}/scores/submit", headers=headers)
        assert again.status_code == 409
    assert submitted.json() == {"stage": "review"}
    headers = await as_user(purchaser)
    assert (await client.post(f"{api}/award", json={}, headers=headers)).status_code == 409
    for expert in experts:
        headers = await as_user(expert)
        assert (await client.post(f"{api}/sign", headers=headers)).status_code == 200
    headers = await as_user(await actor(Role.EXPERT))
    assert (await client.get(f"{api}/checklist")).status_code == 404
    headers = await as_user(purchaser)
    bad_amount = {"contract_amount": "12.345"}
    assert (await client.post(f"{api}/award", json=bad_amount, headers=headers)).status_code == 400
    awarded = await client.post(f"{api}/award", json={}, headers=headers)
    assert awarded.status_code == 200, awarded.text
    lot = await Lot.objects().where(Lot.id == lot_id).first()
    assert lot is not None
    # D at 700,000 (large firm) has the lowest price: full price points, first place
    assert (lot.status, lot.awarded_supplier, lot.award_amount_fen) == (
        "awarded",
        org["D"],
        70_000_000,
    )
    await as_user(bidders["B"])
    mine = await client.get(f"{api}/my-result")
    assert mine.status_code == 200
    assert mine.json()["rank"] == 4
    page = await client.get(f"/supplier/lots/{lot_id}/result")
    assert page.status_code == 200
    assert "4 / 4" in page.text


async def test_the_scheme_form_shows_every_problem_then_saves(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    purchaser = await actor(Role.PURCHASER)
    project_id = await create_project(
        purchaser, draft(deadline=SYSTEM_CLOCK.now() + timedelta(days=30)), limits=ANY_DAY
    )
    lot = await Lot.objects().where(Lot.project == project_id).first()
    assert lot is not None
    await login(client, purchaser.username)
    form = await client.get(f"/purchaser/lots/{lot.id}/scheme")
    assert form.status_code == 200
    assert "T1 | technical | 40" in form.text  # a starting example
    fields = {
        "method": "comprehensive_scoring",
        "third_tie_break": "none",
        "small_or_micro_deduction": "abc",
        "consortium_deduction": "4",
        "qualification": "Q1 | 营业执照",
        "compliance": "C1 | 实质性响应",
        "criteria": "P | price | 30 | 价格\nT1 | technical | 50\nB1 | commercial | 10 | 业绩",
    }
    bad = await client.post(f"/purchaser/lots/{lot.id}/scheme", data={**fields, **csrf(client)})
    assert bad.status_code == 400
    assert "小微企业价格扣除比例须为数字" in bad.text  # each problem in the page's language
    assert "各评审因素分值合计须为100分，现为 90 分" in bad.text
    english = await client.post(
        f"/purchaser/lots/{lot.id}/scheme?lang=en", data={**fields, **csrf(client)}
    )
    assert english.status_code == 400
    assert "small/micro deduction must be a number" in english.text
    assert "add up to 100, they add up to 90" in english.text
    assert not await LotScheme.exists().where(LotScheme.lot == lot.id)
    fields["small_or_micro_deduction"] = "15"
    fields["criteria"] += "\nB2 | commercial | 10 | 服务 | objective"
    saved = await client.post(
        f"/purchaser/lots/{lot.id}/scheme",
        data={**fields, **csrf(client)},
        follow_redirects=False,
    )
    assert saved.status_code in {302, 303}, saved.text
    stored = await services.scheme_json(lot.id)
    assert stored is not None
    assert stored["small_or_micro_deduction"] == "15"
    assert [c["objective"] for c in stored["criteria"]] == [False, False, False, True]
    assert (await client.get(f"/lots/{lot.id}/scheme")).status_code == 404  # still a draft


async def test_a_tie_at_first_place_needs_the_purchasers_reasoned_choice(
    app: Litestar, settings: Settings, client: AsyncTestClient[Litestar]
) -> None:
    # A (small) and C (micro) quote the same price: same evaluation price, same scores
    prices = {**PRICES, "C": PRICES["A"], "D": "990000.00"}
    purchaser, lot_id, bidders = await opened_lot(app, settings, prices=prices)
    experts = await committee_of(lot_id)
    org = {name: int(b.organisation_id or 0) for name, b in bidders.items()}
    supervisor = await actor(Role.SUPERVISOR)
    await login(client, supervisor.username)
    page = await client.get(f"/lots/{lot_id}/evaluation/progress")
    assert page.status_code == 200
    assert "0 / 8" in page.text  # verdicts recorded / to record, per member
    for expert in experts:
        for bidder in org.values():
            for criterion in ("Q1", "C1"):
                await services.record_verdict(expert, lot_id, bidder, criterion, passed=True)
        await services.submit_verdicts(expert, lot_id)
    for expert in experts:
        for bidder in org.values():
            for criterion in ("T1", "T2", "B1"):
                await services.record_score(expert, lot_id, bidder, criterion, "12")
        await services.submit_scores(expert, lot_id)
    for expert in experts:
        await services.sign_report(expert, lot_id)
    report = await services.report(lot_id)
    first = [r["bidder"] for r in report["result"]["results"] if r["rank"] == 1]
    assert sorted(first) == sorted([str(org["A"]), str(org["C"])])
    assert report["result"]["recommended"] is None
    with pytest.raises(ValidationError, match="tied"):
        await services.confirm_award(purchaser, lot_id)
    with pytest.raises(ValidationError, match="reason"):
        await services.confirm_award(purchaser, lot_id, bidder_id=org["C"])
    with pytest.raises(ValidationError, match="candidates"):
        await services.confirm_award(
            purchaser, lot_id, bidder_id=org["D"], deviation_reason="cheapest"
        )
    other = await actor(Role.PURCHASER)
    with pytest.raises(Forbidden):
        await services.confirm_award(other, lot_id, bidder_id=org["C"], deviation_reason="x")
    await services.confirm_award(
        purchaser,
        lot_id,
        bidder_id=org["C"],
        deviation_reason="招标文件约定：得分、报价相同时按交货期确定",
        contract_amount=Decimal("890000.00"),
    )
    lot = await Lot.objects().where(Lot.id == lot_id).first()
    assert lot is not None
    assert (lot.awarded_supplier, lot.award_amount_fen, lot.contract_amount_fen) == (
        org["C"],
        90_000_000,
        89_000_000,
    )
    assert "交货期" in (await services.report(lot_id))["award_deviation"]
    client.cookies.clear()
    await login(client, purchaser.username)
    page = await client.get(f"/lots/{lot_id}/evaluation/report")
    assert page.status_code == 200
    assert "交货期" in page.text
