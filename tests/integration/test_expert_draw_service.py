"""The expert draw service on PostgreSQL, with a real Celery worker for timeouts.

Commit before draw, avoidance over the registry, secrecy per role, one-time links,
replacement on decline and on timeout, pool exhaustion, reveal and ``zhaocai draw verify``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from bidding.tables import Bid
from expert_pool import registry, services
from expert_pool.draw import PoolSnapshot, verify_draw
from expert_pool.draw_request import EvaluationMode, Quota
from expert_pool.identity import identity_check_char
from expert_pool.services import DrawForm
from expert_pool.tables import (
    Expert,
    ExpertConflict,
    ExpertDraw,
    ExpertEmployment,
    ExpertRating,
    ExpertSeat,
    ExpertUnavailableDate,
)
from procurement import events
from procurement.clock import CHINA, SYSTEM_CLOCK
from procurement.db import as_aware
from procurement.exceptions import Conflict, Forbidden, NotFound, ValidationError
from procurement.lifecycle import LotEvent
from procurement.projects import transition_lot
from procurement.roles import Actor, Role
from procurement.settings import Settings
from procurement.tables import AuditEntry, Lot, Notification, Project
from tests.conftest import run_cli
from tests.factories import PASSWORD, actor, csrf, login, published_project

pytestmark = pytest.mark.integration
EVALUATION_DAY = SYSTEM_CLOCK.now().date() + timedelta(days=3)


def identity(serial: int) -> str:
    """A valid identity number, one per serial below 1,000."""
    first17 = f"33040219750505{serial % 1000:03d}"
    return first17 + identity_check_char(first17)


@dataclass
class Scene:
    """A lot past its deadline, its organiser, a bidder, a supervisor and a pool of experts."""

    lot_id: int
    purchaser: Actor
    supervisor: Actor
    bidder: Actor
    admin: Actor
    experts: list[int]

    async def user_of(self, expert_id: int) -> int:
        row = await Expert.select(Expert.user).where(Expert.id == expert_id).first()
        assert row is not None
        return int(row["user"])


async def add_expert(
    admin: Actor, serial: int, *, specialties: str = "A0101", employer: int | None = None
) -> int:
    """A certified, trained, active expert whose account password is ``PASSWORD``."""
    fields = {
        "name": f"专家{serial:03d}",
        "identity_number": identity(serial),
        "specialties": specialties,
        "title": "senior",
        "years_of_experience": "10",
        "email": f"e{serial}@example.org",
        "trained_on": "2024-01-10",
        "certified_on": "2024-02-01",
        "certificate_expires_on": "2030-01-31",
        "certificate_number": f"ZJ{serial}",
    }
    data = registry.parse_expert_fields(fields)
    data = replace(data, employer_id=employer)
    return await registry.create_expert(admin, data, password=PASSWORD)


async def scene(pool: int = 8, *, specialties: str = "A0101") -> Scene:
    purchaser = await actor(Role.PURCHASER)
    project_id = await published_project(purchaser, custody_mode="platform")
    lot = await Lot.objects().where(Lot.project == project_id).first()
    assert lot is not None
    # opened before its deadline moves into the past: the deadline sweep of the session's
    # worker then never sees a due lot without bids (which it would close as failed)
    await Lot.update({Lot.status: "opened"}).where(Lot.id == lot.id)
    await Project.update({Project.bid_deadline: SYSTEM_CLOCK.now() - timedelta(hours=1)}).where(
        Project.id == project_id
    )
    bidder = await actor(Role.BIDDER)
    await Bid(
        lot=lot.id,
        bidder=bidder.organisation_id,
        submitted_by=bidder.user_id,
        status="submitted",
        created_at=SYSTEM_CLOCK.now(),
    ).save()
    admin = await actor(Role.ADMIN)
    experts = [await add_expert(admin, serial, specialties=specialties) for serial in range(pool)]
    return Scene(
        lot_id=int(lot.id),
        purchaser=purchaser,
        supervisor=await actor(Role.SUPERVISOR),
        bidder=bidder,
        admin=admin,
        experts=experts,
    )


def form(count: int = 5, reserves: int = 1, **changes: Any) -> DrawForm:
    fields: dict[str, Any] = {
        "quotas": (Quota("A01", count),),
        "reserves": reserves,
        "evaluation_date": EVALUATION_DAY,
        "mode": EvaluationMode.ON_SITE,
        "representatives": 0,
    }
    fields.update(changes)
    return DrawForm(**fields)


async def seats(draw_id: int) -> list[dict[str, Any]]:
    return list(await ExpertSeat.select().where(ExpertSeat.draw == draw_id).order_by(ExpertSeat.id))


async def members(draw_id: int) -> list[dict[str, Any]]:
    return [s for s in await seats(draw_id) if s["role"] == "member"]


async def answer(s: Scene, seat: dict[str, Any], *, accept: bool) -> str:
    """The seat's expert answers on their own page."""
    user = await s.user_of(int(seat["expert"]))
    expert = Actor(user_id=user, username="expert", role=Role.EXPERT)
    return await services.answer_as_expert(expert, int(seat["id"]), accept=accept)


async def test_the_commitment_is_logged_before_the_draw_and_avoidance_holds(app: Litestar) -> None:
    s = await scene(12)
    # ties that must keep experts out: bidder employee, purchaser ex-employee within 3 years,
    # a declared conflict, a suspension, a declared unavailable day
    bidder_employee, former_staff, conflicted, suspended, away = s.experts[:5]
    await ExpertEmployment(
        expert=bidder_employee, organisation=s.bidder.organisation_id, started_on=date(2020, 1, 1)
    ).save()
    await ExpertEmployment(
        expert=former_staff,
        organisation=s.purchaser.organisation_id,
        started_on=date(2015, 1, 1),
        ended_on=EVALUATION_DAY - timedelta(days=400),
    ).save()
    await ExpertConflict(
        expert=conflicted, organisation=s.bidder.organisation_id, declared_at=SYSTEM_CLOCK.now()
    ).save()
    await registry.set_status(s.admin, suspended, "suspended", "under investigation")
    await ExpertUnavailableDate(expert=away, day=EVALUATION_DAY).save()
    seeds: list[bytes] = []

    def recording_source(size: int) -> bytes:
        seeds.append(bytes(range(size)))
        return seeds[-1]

    draw_id = await services.request_draw(
        s.purchaser, s.lot_id, form(5, 2), random_source=recording_source
    )
    draw = await ExpertDraw.objects().where(ExpertDraw.id == draw_id).first()
    assert draw is not None
    assert draw.commitment == hashlib.sha256(seeds[0]).hexdigest()
    assert draw.eligible_size == 7
    committed = (
        await AuditEntry.objects().where(AuditEntry.action == "expert_draw.committed").first()
    )
    drawn = await AuditEntry.objects().where(AuditEntry.action == "expert_draw.drawn").first()
    assert committed is not None
    assert drawn is not None
    assert committed.seq < drawn.seq
    payload = json.loads(committed.payload)
    assert payload["commitment"] == draw.commitment
    assert (
        payload["snapshot_hash"]
        == draw.snapshot_hash
        == hashlib.sha256(draw.snapshot.encode()).hexdigest()
    )
    assert seeds[0].hex() not in committed.payload
    counts = json.loads(draw.exclusions)["by_reason"]
    assert counts["bidder_employee"] == 1
    assert counts["purchaser_employee"] == 1
    assert counts["declared_conflict"] == 1
    assert counts["suspended"] == 1
    assert counts["unavailable"] == 1
    rows = await seats(draw_id)
    taken = {int(r["expert"]) for r in rows}
    assert taken.isdisjoint({bidder_employee, former_staff, conflicted, suspended, away})
    assert sorted(r["role"] for r in rows) == ["member"] * 5 + ["reserve"] * 2
    for row in await members(draw_id):
        assert row["status"] == "notified"
        note = (
            await Notification.objects()
            .where(Notification.user == await s.user_of(int(row["expert"])))
            .first()
        )
        assert note is not None
        assert note.link.startswith(f"/experts/answer/{row['id']}?token=")
        # emailed too, where no page language applies: Chinese first, then English
        assert note.title.startswith("您被抽取为评审专家")
        answer_by = f"{as_aware(row['respond_by']).astimezone(CHINA):%Y-%m-%d %H:%M}"
        assert note.body.startswith(f"请于 {answer_by} 前确认或谢绝")
        assert f"Please confirm or decline by {answer_by}" in note.body


async def test_bad_requests_are_refused_and_leave_nothing(app: Litestar) -> None:
    s = await scene(4)
    with pytest.raises(ValidationError, match="unknown specialty"):
        await services.request_draw(s.purchaser, s.lot_id, form(quotas=(Quota("Z9", 5),)))
    with pytest.raises(Conflict, match="short"):
        await services.request_draw(s.purchaser, s.lot_id, form(5))
    with pytest.raises(ValidationError, match="odd number"):
        await services.request_draw(s.purchaser, s.lot_id, form(5, representatives=1))
    with pytest.raises(Forbidden):
        await services.request_draw(s.bidder, s.lot_id, form(5))
    with pytest.raises(ValidationError, match="has passed"):
        await services.request_draw(
            s.purchaser, s.lot_id, form(5, evaluation_date=date(2020, 1, 1))
        )
    await Project.update({Project.bid_deadline: SYSTEM_CLOCK.now() + timedelta(days=1)}).where(
        Project.id == (await Lot.select(Lot.project).where(Lot.id == s.lot_id))[0]["project"]
    )
    with pytest.raises(ValidationError, match="after the bid deadline"):
        await services.request_draw(s.purchaser, s.lot_id, form(5))
    assert await ExpertDraw.count() == 0
    assert await ExpertSeat.count() == 0
    assert not await AuditEntry.exists().where(AuditEntry.action.like("expert_draw%"))


async def test_a_second_draw_needs_a_reason_and_keeps_the_first_record(app: Litestar) -> None:
    s = await scene(8)
    first = await services.request_draw(s.purchaser, s.lot_id, form(5, 1))
    with pytest.raises(Conflict, match="reason"):
        await services.request_draw(s.purchaser, s.lot_id, form(5, 1))
    second = await services.request_draw(
        s.purchaser, s.lot_id, form(5, 1, reason="评审时间变更 evaluation date moved")
    )
    statuses = {
        r["id"]: r["status"] for r in await ExpertDraw.select(ExpertDraw.id, ExpertDraw.status)
    }
    assert statuses == {first: "superseded", second: "confirming"}
    commitments = await AuditEntry.count().where(AuditEntry.action == "expert_draw.committed")
    assert commitments == 2


async def test_secrecy_supervisor_sees_names_purchaser_counts_bidder_nothing(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    s = await scene(6)
    draw_id = await services.request_draw(s.purchaser, s.lot_id, form(5, 1))
    names = [
        str((await Expert.select(Expert.name).where(Expert.id == r["expert"]))[0]["name"])
        for r in await members(draw_id)
    ]
    await login(client, s.supervisor.username)
    page = await client.get(f"/lots/{s.lot_id}/draw")
    assert page.status_code == 200
    assert all(name in page.text for name in names)
    assert "snapshot-hash" in page.text
    await client.post("/logout", data=csrf(client))
    await login(client, s.purchaser.username)
    page = await client.get(f"/lots/{s.lot_id}/draw")
    assert page.status_code == 200
    assert not any(name in page.text for name in names)
    assert "notified" in page.text.lower() or "已通知" in page.text
    await client.post("/logout", data=csrf(client))
    await login(client, s.bidder.username)
    assert (await client.get(f"/lots/{s.lot_id}/draw")).status_code == 403
    other = await actor(Role.PURCHASER)
    with pytest.raises(Forbidden, match="purchasing unit, its agency and the supervisors"):
        await services.draw_page(other, s.lot_id)


async def test_one_time_links_confirm_once_and_declines_call_the_next_rank(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    s = await scene(7)
    confirmed_events: list[int] = []

    async def on_confirmed(*, lot_id: int, **_: Any) -> None:
        confirmed_events.append(lot_id)

    events.subscribe(services.COMMITTEE_CONFIRMED, on_confirmed)
    draw_id = await services.request_draw(s.purchaser, s.lot_id, form(5, 1))
    first, second, third, fourth, fifth = await members(draw_id)
    note = (
        await Notification.objects()
        .where(Notification.user == await s.user_of(int(first["expert"])))
        .first()
    )
    assert note is not None
    page = await client.get(note.link)
    assert page.status_code == 200
    token = note.link.split("token=")[1]
    wrong = await client.post(
        f"/experts/answer/{first['id']}",
        data={"token": "x" * 43, "decision": "confirm", **csrf(client)},
    )
    assert wrong.status_code == 403
    ok = await client.post(
        f"/experts/answer/{first['id']}",
        data={"token": token, "decision": "confirm", **csrf(client)},
    )
    assert ok.status_code == 200, ok.text
    reused = await client.post(
        f"/experts/answer/{first['id']}",
        data={"token": token, "decision": "decline", **csrf(client)},
        headers={"accept-language": "en"},
    )
    assert reused.status_code == 409
    assert "already used" in reused.text

    # the second declines on their page; the reserve is called and notified
    expert_user = await s.user_of(int(second["expert"]))
    login_name = (await Expert.select(Expert.user.username).where(Expert.id == second["expert"]))[
        0
    ]["user.username"]
    await login(client, login_name)
    declined = await client.post(
        f"/expert/seats/{second['id']}/decline", data=csrf(client), follow_redirects=False
    )
    assert declined.status_code in {302, 303}
    rows = await seats(draw_id)
    drawn = {first["id"], second["id"], third["id"], fourth["id"], fifth["id"]}
    reserve = next(r for r in rows if r["id"] not in drawn and r["role"] == "member")
    assert reserve["role"] == "member"
    assert reserve["status"] == "notified"
    replaced = await ExpertSeat.objects().where(ExpertSeat.id == second["id"]).first()
    assert replaced is not None
    assert replaced.replaced_at is not None
    assert expert_user != await s.user_of(int(reserve["expert"]))
    for seat in (third, fourth, fifth, reserve):
        await answer(s, seat, accept=True)
    assert confirmed_events == [s.lot_id]
    committee = await services.confirmed_committee(s.lot_id)
    assert [m.expert_id for m in committee] == [
        int(first["expert"]),
        int(third["expert"]),
        int(fourth["expert"]),
        int(fifth["expert"]),
        int(reserve["expert"]),
    ]
    assert all(m.specialty == "A01" and m.user_id for m in committee)


async def test_an_expired_link_is_refused(app: Litestar) -> None:
    s = await scene(5)
    draw_id = await services.request_draw(s.purchaser, s.lot_id, form(5, 0))
    seat = (await members(draw_id))[0]
    note = (
        await Notification.objects()
        .where(Notification.user == await s.user_of(int(seat["expert"])))
        .first()
    )
    assert note is not None
    token = note.link.split("token=")[1]
    await ExpertSeat.update(
        {ExpertSeat.respond_by: SYSTEM_CLOCK.now() - timedelta(seconds=1)}
    ).where(ExpertSeat.id == seat["id"])
    with pytest.raises(Conflict, match="expired"):
        await services.answer_with_token(int(seat["id"]), token, accept=True)
    row = await ExpertSeat.objects().where(ExpertSeat.id == seat["id"]).first()
    assert row is not None
    assert row.status == "notified"


async def test_when_the_pool_runs_out_the_lot_is_flagged_and_people_are_told(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    s = await scene(5)
    draw_id = await services.request_draw(s.purchaser, s.lot_id, form(5, 0))
    seat = (await members(draw_id))[0]
    await answer(s, seat, accept=False)
    draw = await ExpertDraw.objects().where(ExpertDraw.id == draw_id).first()
    assert draw is not None
    assert draw.status == "exhausted"
    told = {
        int(r["user"])
        for r in await Notification.select(Notification.user).where(
            Notification.kind == services.EXHAUSTED_KIND
        )
    }
    assert {s.purchaser.user_id, s.supervisor.user_id} <= told
    await services.sweep_confirmations()  # nothing to do, nothing raised
    assert await services.confirmed_committee(s.lot_id) == []

    # the lot lists say so, not only the draw page
    assert await services.lots_with_exhausted_pool([s.lot_id, s.lot_id + 1]) == {s.lot_id}
    await login(client, s.supervisor.username)
    supervision = (await client.get("/supervisor", headers={"accept-language": "en"})).text
    assert f'<a href="/lots/{s.lot_id}/draw">Expert draw: pool exhausted</a>' in supervision
    assert (await client.get("/supervisor?lang=zh")).text.count("专家抽取：可抽取专家不足") == 1


async def test_a_silent_expert_times_out_and_the_worker_calls_the_next_rank(
    app: Litestar, celery_worker: subprocess.Popen[bytes]
) -> None:
    s = await scene(7)
    draw_id = await services.request_draw(
        s.purchaser, s.lot_id, form(5, 1, respond_within=timedelta(seconds=3))
    )
    first = (await members(draw_id))[0]
    for seat in (await members(draw_id))[1:]:
        await answer(s, seat, accept=True)
    row: ExpertSeat | None = None
    for _ in range(120):
        row = await ExpertSeat.objects().where(ExpertSeat.id == first["id"]).first()
        if row is not None and row.replaced_at is not None:
            break
        await asyncio.sleep(0.25)
    assert row is not None
    assert row.status == "timed_out"
    called = [
        r for r in await members(draw_id) if r["id"] != first["id"] and r["status"] == "notified"
    ]
    assert len(called) == 1
    assert await AuditEntry.exists().where(AuditEntry.action == "expert_seat.timed_out")
    # idempotent: running the deadline again changes nothing
    assert not await services.expire_seat(int(first["id"]))


async def test_the_seed_is_revealed_when_the_lot_concludes_and_the_cli_verifies(
    app: Litestar, settings: Settings
) -> None:
    s = await scene(7)
    draw_id = await services.request_draw(s.purchaser, s.lot_id, form(5, 1))
    first = (await members(draw_id))[0]
    await answer(s, first, accept=False)
    early = run_cli(settings, "draw", "verify", "--lot", str(s.lot_id), check=False)
    assert early.returncode != 0
    assert "revealed when the lot concludes" in early.stderr
    await transition_lot(s.lot_id, LotEvent.CANCEL)
    draw = await ExpertDraw.objects().where(ExpertDraw.id == draw_id).first()
    assert draw is not None
    assert draw.revealed_at is not None
    assert hashlib.sha256(bytes.fromhex(draw.seed_hex)).hexdigest() == draw.commitment
    assert await AuditEntry.exists().where(AuditEntry.action == "expert_draw.revealed")
    verified = run_cli(settings, "draw", "verify", "--lot", str(s.lot_id))
    assert "VERIFIED" in verified.stdout
    assert "same order" in verified.stdout

    # a record changed afterwards no longer verifies
    rows = [r for r in await members(draw_id) if r["status"] != "declined"]
    await ExpertSeat.update({ExpertSeat.position: 99}).where(ExpertSeat.id == rows[0]["id"])
    tampered = run_cli(settings, "draw", "verify", "--lot", str(s.lot_id), check=False)
    assert tampered.returncode == 1
    assert "NOT VERIFIED" in tampered.stderr


async def test_the_draw_form_refuses_bad_fields_with_clear_messages(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    s = await scene(5)
    await login(client, s.purchaser.username)
    base = {
        "quota_specialty": "A01",
        "quota_count": "5",
        "reserves": "0",
        "evaluation_date": EVALUATION_DAY.isoformat(),
        "representatives": "0",
        "respond_hours": "24",
    }
    for changes, words in (
        ({"quota_count": "many"}, "1 to 25"),
        ({"evaluation_date": "soon"}, "evaluation_date"),
        ({"mode": "telepathy"}, "on_site or remote"),
        ({"respond_hours": "0"}, "respond_hours"),
        ({"quota_specialty": "Q1"}, "unknown specialty"),
    ):
        response = await client.post(
            f"/lots/{s.lot_id}/draw",
            data={**base, **changes, **csrf(client)},
            headers={"accept": "text/html", "accept-language": "en"},
        )
        assert response.status_code == 400, (changes, response.status_code)
        assert words in response.text
    ok = await client.post(
        f"/lots/{s.lot_id}/draw", data={**base, **csrf(client)}, follow_redirects=False
    )
    assert ok.status_code in {302, 303}, ok.text
    assert await ExpertDraw.count() == 1


async def test_ratings_after_the_evaluation_suspend_for_a_violation_or_three_poor_ones(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    s = await scene(7)
    draw_id = await services.request_draw(s.purchaser, s.lot_id, form(5, 1))
    sitting = await members(draw_id)
    for seat in sitting:
        await answer(s, seat, accept=True)
    cheat, sloppy, fine = (int(seat["expert"]) for seat in sitting[:3])
    with pytest.raises(Conflict, match="concluded"):
        await services.rate_expert(s.supervisor, s.lot_id, fine, "good")
    await transition_lot(s.lot_id, LotEvent.CANCEL)

    with pytest.raises(ValidationError, match="note"):
        await services.rate_expert(s.purchaser, s.lot_id, sloppy, "poor")
    with pytest.raises(ValidationError, match="good, adequate or poor"):
        await services.rate_expert(s.purchaser, s.lot_id, sloppy, "awful")
    outsider = next(e for e in s.experts if e not in {int(r["expert"]) for r in sitting})
    with pytest.raises(NotFound):
        await services.rate_expert(s.supervisor, s.lot_id, outsider, "good")
    with pytest.raises(Forbidden):
        await services.rate_expert(await actor(Role.PURCHASER), s.lot_id, fine, "good")

    assert await services.rate_expert(
        s.supervisor, s.lot_id, cheat, "poor", violation=True, note="向投标人透露评审情况"
    )
    cheat_row = await Expert.objects().where(Expert.id == cheat).first()
    assert cheat_row is not None
    assert cheat_row.status == "suspended"
    assert "violation" in cheat_row.status_reason

    raters = [s.purchaser, s.supervisor, await actor(Role.SUPERVISOR)]
    outcomes = [
        await services.rate_expert(rater, s.lot_id, sloppy, "poor", note="未按评分标准打分")
        for rater in raters
    ]
    assert outcomes == [False, False, True]
    with pytest.raises(Conflict, match="already rated"):
        await services.rate_expert(s.purchaser, s.lot_id, sloppy, "poor", note="again")
    assert await ExpertRating.count() == 4  # the record is kept

    await login(client, s.supervisor.username)
    page = await client.get(f"/lots/{s.lot_id}/draw")
    assert "向投标人透露评审情况" in page.text
    rated = await client.post(
        f"/lots/{s.lot_id}/draw/ratings",
        data={"expert_id": str(fine), "rating": "good", **csrf(client)},
        follow_redirects=False,
    )
    assert rated.status_code in {302, 303}
    bad = await client.post(
        f"/lots/{s.lot_id}/draw/ratings", data={"expert_id": "x", "rating": "good", **csrf(client)}
    )
    assert bad.status_code == 400
    fine_row = await Expert.objects().where(Expert.id == fine).first()
    assert fine_row is not None
    assert fine_row.status == "active"


async def test_the_sweep_expires_overdue_seats_and_finishes_interrupted_replacements(
    app: Litestar,
) -> None:
    s = await scene(8)
    draw_id = await services.request_draw(s.purchaser, s.lot_id, form(5, 2))
    silent, declined = (await members(draw_id))[:2]
    await ExpertSeat.update(
        {ExpertSeat.respond_by: SYSTEM_CLOCK.now() - timedelta(minutes=1)}
    ).where(ExpertSeat.id == silent["id"])
    # a decline whose replacement a crash interrupted: recorded, not yet replaced
    await ExpertSeat.update({ExpertSeat.status: "declined", ExpertSeat.decline_order: 1}).where(
        ExpertSeat.id == declined["id"]
    )
    assert await services.sweep_confirmations() == [int(silent["id"])]
    rows = {int(r["id"]): r for r in await seats(draw_id)}
    assert rows[int(silent["id"])]["status"] == "timed_out"
    assert rows[int(silent["id"])]["replaced_at"] is not None
    assert rows[int(declined["id"])]["replaced_at"] is not None
    assert sum(1 for r in rows.values() if r["status"] == "notified") == 5
    assert not [r for r in rows.values() if r["role"] == "reserve"]
    assert await services.sweep_confirmations() == []  # a second sweep changes nothing
    draw = await ExpertDraw.objects().where(ExpertDraw.id == draw_id).first()
    assert draw is not None
    recorded = await services.recorded_draw(draw)
    assert recorded.declined == (int(declined["expert"]), int(silent["expert"]))
    snapshot = PoolSnapshot.parse(draw.snapshot.encode("ascii"))
    assert verify_draw(snapshot, bytes.fromhex(draw.seed_hex), recorded).verified


async def test_simultaneous_declines_each_call_their_own_replacement(app: Litestar) -> None:
    s = await scene(9)
    draw_id = await services.request_draw(s.purchaser, s.lot_id, form(5, 2))
    drawn = await members(draw_id)
    answers = await asyncio.gather(*(answer(s, seat, accept=False) for seat in drawn[:3]))
    assert answers == ["declined"] * 3
    rows = await seats(draw_id)
    assert sum(1 for r in rows if r["status"] == "notified") == 5
    assert sorted(int(r["decline_order"]) for r in rows if r["decline_order"]) == [1, 2, 3]
    draw = await ExpertDraw.objects().where(ExpertDraw.id == draw_id).first()
    assert draw is not None
    snapshot = PoolSnapshot.parse(draw.snapshot.encode("ascii"))
    recorded = await services.recorded_draw(draw)
    assert verify_draw(snapshot, bytes.fromhex(draw.seed_hex), recorded).verified
