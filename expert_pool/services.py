"""The expert draw service: request, commit, draw, notify, confirm, replace, reveal, verify.

ARCHITECTURE §4 and ``docs/draw.md``. The pure parts (screening, ranking, filling, replacing,
verifying) live in ``eligibility`` and ``draw``; this module stores what they decide, in one
transaction per step, and writes the commitment to the audit log before the ranking exists.
Secrecy (RULES §4, TBL Art. 37): until the lot concludes the drawn names are shown only to
supervisors and to each expert about themself; the purchaser sees counts and statuses.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from piccolo.engine.postgres import PostgresEngine

from expert_pool.committee import CommitteeKind, check_committee
from expert_pool.draw import (
    Draw,
    PoolExhausted,
    PoolSnapshot,
    QuotaDraw,
    VerificationResult,
    commitment,
    draw_experts,
    replacement,
    verify_draw,
)
from expert_pool.draw_request import (
    DrawRequest,
    EvaluationMode,
    LotParties,
    Quota,
    validate_draw_request,
)
from expert_pool.eligibility import (
    CooldownPolicy,
    DrawHistory,
    ExclusionReason,
    PastDraw,
    PoolIndex,
    screen_pool,
)
from expert_pool.experts import ExpertStatus
from expert_pool.registry import load_pool
from expert_pool.tables import Expert, ExpertDraw, ExpertRating, ExpertSeat
from procurement import audit, events, notifications
from procurement.clock import CHINA, SYSTEM_CLOCK, Clock
from procurement.db import transaction
from procurement.exceptions import Conflict, Forbidden, NotFound, ValidationError
from procurement.lifecycle import FINAL_STATES, LotStatus, ProcurementMethod
from procurement.numbers import is_whole_number
from procurement.projects import get_lot, get_project
from procurement.roles import SYSTEM_ACTOR, Actor, Role
from procurement.tables import Project, User

COMMITTEE_CONFIRMED = "expert_pool.committee_confirmed"
"""Every seat of a lot's committee is confirmed: ``lot_id``, ``draw_id``."""
NOTIFICATION_KIND = "expert_draw"
EXHAUSTED_KIND = "expert_pool_exhausted"
DEFAULT_RESPOND_WITHIN = timedelta(hours=24)
MAX_RESPOND_WITHIN = timedelta(days=7)
OPEN_TENDER_THRESHOLD = Decimal("4000000")
"""Local open-tender threshold for goods and services used to size negotiation and inquiry
groups (MOF74 Art. 7; set locally, 4,000,000 yuan in the seeds' provinces, unconfirmed)."""
_LOCK_BASE = 7_426_500


class DrawStatus(StrEnum):
    """Where a lot's draw stands."""

    CONFIRMING = "confirming"
    """Drawn; members are asked to confirm."""
    CONFIRMED = "confirmed"
    """Every seat is confirmed: the committee is formed."""
    EXHAUSTED = "exhausted"
    """Nobody is left to draw: the lot is flagged, a new draw with a reason is needed."""
    SUPERSEDED = "superseded"
    """Replaced by a later draw, whose reason is recorded."""


class SeatRole(StrEnum):
    """A seat's place in the draw."""

    MEMBER = "member"
    RESERVE = "reserve"


class SeatStatus(StrEnum):
    """How the expert of a seat answered."""

    WAITING = "waiting"
    """A reserve not called (yet)."""
    NOTIFIED = "notified"
    """Called and told; the answer is due by ``respond_by``."""
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    TIMED_OUT = "timed_out"
    """Did not answer in time; treated as a decline."""


@dataclass(frozen=True, slots=True)
class CommitteeMember:
    """An expert who confirmed their seat on a lot's committee (for evaluation)."""

    expert_id: int
    user_id: int
    name: str
    specialty: str


@dataclass(frozen=True, slots=True)
class DrawForm:
    """What the organiser asks for (before the rules check it)."""

    quotas: tuple[Quota, ...]
    reserves: int
    evaluation_date: date
    mode: EvaluationMode
    representatives: int = 0
    respond_within: timedelta = DEFAULT_RESPOND_WITHIN
    reason: str = ""


BidderSource = Callable[[int], Awaitable[frozenset[int]]]
"""Returns the organisation ids that bid on a lot (registered by the composition root)."""
_bidder_source: list[BidderSource] = []


def set_bidder_source(source: BidderSource) -> None:
    """Tell the draw where the bidders of a lot come from (``zhaocai.wiring``).

    ``expert_pool`` may not import ``bidding`` (ARCHITECTURE §1), yet avoidance needs the
    lot's bidders (GPL-R Art. 9), so the composition root hands a reader in.
    """
    _bidder_source[:] = [source]


async def bidders_of_lot(lot_id: int) -> frozenset[int]:
    """The organisations that bid on the lot, from the registered source.

    Raises:
        RuntimeError: no source is registered: drawing without avoidance must never happen.
    """
    if not _bidder_source:
        raise RuntimeError("no bidder source registered: call expert_pool.set_bidder_source")
    return await _bidder_source[0](lot_id)


# --- parsing the request -----------------------------------------------------------------

_NumberField = Literal["reserves", "representatives", "respond_hours"]


def _not_a_number(name: _NumberField, low: int, high: int) -> ValidationError:
    if name == "reserves":
        return ValidationError(
            "reserves must be a whole number from {low} to {high}", low=low, high=high, field=name
        )
    if name == "representatives":
        return ValidationError(
            "representatives must be a whole number from {low} to {high}",
            low=low,
            high=high,
            field=name,
        )
    return ValidationError(
        "respond_hours must be a whole number from {low} to {high}", low=low, high=high, field=name
    )


def parse_draw_form(form: Mapping[str, Any]) -> DrawForm:
    """Read the draw request form; every bad field gets a clear message (no 500).

    Fields: ``quota_specialty`` and ``quota_count`` (repeated, pairwise), ``reserves``,
    ``evaluation_date`` (YYYY-MM-DD), ``mode`` (on_site / remote), ``representatives``,
    ``respond_hours``, ``reason``.
    """

    def many(name: str) -> list[str]:
        value = form.get(name)
        if value is None:
            return []
        values = value if isinstance(value, list) else [value]
        return [str(v).strip() for v in values]

    def one(name: str, default: str = "") -> str:
        values = many(name)
        return values[0] if values else default

    def number(name: _NumberField, default: str, low: int, high: int) -> int:
        text = one(name, default) or default
        if not is_whole_number(text) or not low <= int(text) <= high:
            raise _not_a_number(name, low, high)
        return int(text)

    codes, counts = many("quota_specialty"), many("quota_count")
    if len(codes) != len(counts):
        raise ValidationError("each quota needs a specialty and a count", field="quotas")
    quotas = []
    for code, count in zip(codes, counts, strict=True):
        if not code and not count:
            continue
        if not is_whole_number(count) or not 1 <= int(count) <= 25:
            raise ValidationError(
                "the quota for {specialty} must ask for 1 to 25 experts",
                specialty=code or "?",
                field="quotas",
            )
        quotas.append(Quota(code.upper(), int(count)))
    if not quotas:
        raise ValidationError("a draw needs at least one specialty quota", field="quotas")
    try:
        evaluation_date = date.fromisoformat(one("evaluation_date"))
    except ValueError:
        raise ValidationError(
            "evaluation_date must be a date like 2026-12-20", field="evaluation_date"
        ) from None
    try:
        mode = EvaluationMode(one("mode", EvaluationMode.ON_SITE.value))
    except ValueError:
        raise ValidationError("mode must be on_site or remote", field="mode") from None
    return DrawForm(
        quotas=tuple(quotas),
        reserves=number("reserves", "2", 0, 10),
        evaluation_date=evaluation_date,
        mode=mode,
        representatives=number("representatives", "0", 0, 10),
        respond_within=timedelta(hours=number("respond_hours", "24", 1, 168)),
        reason=one("reason")[:1000],
    )


def committee_kind(method: str) -> CommitteeKind:
    """The committee a procurement method evaluates with (RULES §4 table)."""
    return {
        ProcurementMethod.COMPETITIVE_NEGOTIATION.value: CommitteeKind.NEGOTIATION,
        ProcurementMethod.PRICE_INQUIRY.value: CommitteeKind.INQUIRY,
        ProcurementMethod.COMPETITIVE_CONSULTATION.value: CommitteeKind.CONSULTATION,
    }.get(method, CommitteeKind.GOVT_EVALUATION)


# --- drawing -----------------------------------------------------------------------------


def may_organise(actor: Actor | None, *, purchaser_id: object, agency_id: object) -> bool:
    """Whether ``actor`` is a purchaser of the lot's purchasing unit or of its agency."""
    return (
        actor is not None
        and actor.role is Role.PURCHASER
        and actor.organisation_id is not None
        and actor.organisation_id in {purchaser_id, agency_id}
    )


def may_see_draw(actor: Actor | None, *, purchaser_id: object, agency_id: object) -> bool:
    """Who sees a lot's draw record: supervisors, and the lot's purchaser or agency.

    The rule of :func:`draw_page` and :func:`rate_expert`, and of the "Expert draw" link.
    """
    if actor is not None and actor.role is Role.SUPERVISOR:
        return True
    return may_organise(actor, purchaser_id=purchaser_id, agency_id=agency_id)


DRAW_NOT_YOURS = "this lot's expert draw is for its purchasing unit, its agency and the supervisors"


def _may_organise(actor: Actor, project: Project) -> bool:
    return may_organise(actor, purchaser_id=project.purchaser, agency_id=project.agency)


async def _lock(key: int) -> None:
    engine = ExpertDraw._meta.db
    if isinstance(engine, PostgresEngine):
        await ExpertDraw.raw("SELECT pg_advisory_xact_lock({})", _LOCK_BASE + key)


async def _history() -> DrawHistory:
    """Members of earlier, still-standing draws, dated by their evaluation (for the cooldown)."""
    rows = await ExpertSeat.select(
        ExpertSeat.expert, ExpertSeat.draw.evaluation_date.as_alias("day")
    ).where(
        (ExpertSeat.role == SeatRole.MEMBER)
        & ExpertSeat.status.is_in([SeatStatus.NOTIFIED, SeatStatus.CONFIRMED])
        & (ExpertSeat.draw.status != DrawStatus.SUPERSEDED)
    )
    return DrawHistory(PastDraw(int(row["expert"]), row["day"]) for row in rows)


def _token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode("ascii")).hexdigest()


async def _call(
    seat_id: int, expert_id: int, lot_id: int, respond_by: datetime, clock: Clock
) -> None:
    """Give a seat its one-time link and tell the expert (outbox, RULES §4 practice)."""
    token, token_hash = _token()
    await ExpertSeat.update(
        {
            ExpertSeat.role: SeatRole.MEMBER,
            ExpertSeat.status: SeatStatus.NOTIFIED,
            ExpertSeat.notified_at: clock.now(),
            ExpertSeat.respond_by: respond_by,
            ExpertSeat.token_hash: token_hash,
        }
    ).where(ExpertSeat.id == seat_id)
    expert = await Expert.select(Expert.user).where(Expert.id == expert_id).first()
    if expert is None or expert["user"] is None:
        return
    # sent by email or SMS as well, where no page language applies: both languages, Chinese first
    answer_by = f"{respond_by.astimezone(CHINA):%Y-%m-%d %H:%M}"
    await notifications.notify(
        int(expert["user"]),
        kind=NOTIFICATION_KIND,
        title="您被抽取为评审专家 (You are drawn as an evaluation expert)",
        body=(
            f"请于 {answer_by} 前确认或谢绝；评审结束前请对抽取结果保密"
            "（政府采购法实施条例第四十条）。"
            f"Please confirm or decline by {answer_by} (China Standard Time). "
            "Keep this confidential until the evaluation ends (GPL-R Art. 40)."
        ),
        link=f"/experts/answer/{seat_id}?token={token}",
        dedupe_key=f"expert_seat:{seat_id}",
        clock=clock,
    )


async def request_draw(
    actor: Actor,
    lot_id: int,
    form: DrawForm,
    *,
    clock: Clock = SYSTEM_CLOCK,
    random_source: Callable[[int], bytes] = secrets.token_bytes,
    cooldown: CooldownPolicy | None = None,
) -> int:
    """Check the request, commit, draw, store the seats and notify the members.

    The commitment (SHA-256 of the seed and of the eligible-pool snapshot) is appended to the
    audit log before the ranking is computed (ARCHITECTURE §4, step 2); a second draw for the
    same lot needs a recorded reason and keeps the first one's record.

    Returns:
        The id of the new draw.

    Raises:
        Forbidden: the caller is not the lot's purchaser or agency.
        Conflict: the lot is concluded, or a draw stands and no reason is given.
        InvalidDrawRequest, UnknownSpecialty, CommitteeNotCompliant: the request breaks a rule.
        PoolExhausted: a quota is larger than the eligible pool; nothing is written.
    """
    lot = await get_lot(lot_id)
    project = await get_project(lot.project)
    if not _may_organise(actor, project):
        raise Forbidden("only the lot's purchaser or agency requests the expert draw")
    if LotStatus(lot.status) in FINAL_STATES:
        raise Conflict("the lot is concluded; no experts are drawn for it")
    experts_to_draw = sum(quota.count for quota in form.quotas)
    check_committee(
        committee_kind(project.method),
        experts_to_draw + form.representatives,
        experts_to_draw,
        Decimal(lot.budget_fen) / 100,
        open_tender_threshold=OPEN_TENDER_THRESHOLD,
    )
    if not timedelta(seconds=1) <= form.respond_within <= MAX_RESPOND_WITHIN:
        raise ValidationError(
            "the time to answer is more than nothing and at most 7 days", field="respond_hours"
        )
    now = clock.now()
    if form.evaluation_date < now.astimezone(CHINA).date():
        raise ValidationError(
            "the evaluation date {evaluation_date} has passed; experts are "
            "drawn for an evaluation still to come",
            evaluation_date=form.evaluation_date.isoformat(),
            field="evaluation_date",
        )
    bidder_ids = await bidders_of_lot(lot_id)
    request = validate_draw_request(
        DrawRequest(
            quotas=form.quotas,
            experts_to_draw=experts_to_draw,
            reserves=form.reserves,
            evaluation_date=form.evaluation_date,
            mode=form.mode,
            parties=LotParties(
                purchaser_id=int(project.purchaser),
                bidder_ids=bidder_ids,
                agency_id=int(project.agency) if project.agency else None,
            ),
            bid_deadline=project.bid_deadline,
        ),
        now=now,
    )
    called: list[tuple[int, datetime]] = []
    async with transaction(ExpertDraw._meta.db):
        await _lock(lot_id)
        standing = await ExpertDraw.select(ExpertDraw.id, ExpertDraw.status).where(
            (ExpertDraw.lot == lot_id) & (ExpertDraw.status != DrawStatus.SUPERSEDED)
        )
        reason = form.reason.strip()
        if standing and not reason:
            raise Conflict(
                "experts were already drawn for this lot; a second draw needs a recorded reason",
                field="reason",
            )
        screening = screen_pool(
            PoolIndex(await load_pool()),
            request,
            history=await _history(),
            cooldown=cooldown or CooldownPolicy(),
        )
        for quota in request.quotas:
            available = sum(
                1
                for expert in screening.eligible
                if any(code.startswith(quota.specialty) for code in expert.specialties)
            )
            if available < quota.count:
                raise PoolExhausted(quota.specialty, quota.count, available)
        snapshot = PoolSnapshot.of(screening.eligible)
        seed = random_source(32)
        number = int(await ExpertDraw.count().where(ExpertDraw.lot == lot_id)) + 1
        exclusions = {
            "by_reason": {r.value: n for r, n in screening.exclusions.counts.items()},
            "first_reason": {
                r.value: n for r, n in screening.exclusions.first_reason_counts().items()
            },
        }
        request_json = {
            "quotas": [[q.specialty, q.count] for q in request.quotas],
            "reserves": request.reserves,
            "mode": request.mode.value,
            "representatives": form.representatives,
            "respond_seconds": int(form.respond_within.total_seconds()),
            "bidders": sorted(bidder_ids),
        }
        if standing:
            await ExpertDraw.update({ExpertDraw.status: DrawStatus.SUPERSEDED}).where(
                ExpertDraw.id.is_in([row["id"] for row in standing])
            )
        row = ExpertDraw(
            lot=lot_id,
            number=number,
            status=DrawStatus.CONFIRMING,
            request=json.dumps(request_json),
            evaluation_date=request.evaluation_date,
            reason=reason,
            commitment=commitment(seed),
            snapshot=snapshot.canonical().decode("ascii"),
            snapshot_hash=snapshot.hash,
            seed_hex=seed.hex(),
            exclusions=json.dumps(exclusions),
            pool_size=len(screening.eligible) + len(screening.exclusions.excluded),
            eligible_size=len(screening.eligible),
            requested_by=actor.user_id,
            committed_at=now,
        )
        await row.save()
        draw_id = int(row.id)
        await audit.record(
            "expert_draw.committed",
            actor=actor,
            subject_type="lot",
            subject_id=lot_id,
            payload={
                "draw": draw_id,
                "number": number,
                "commitment": row.commitment,
                "snapshot_hash": row.snapshot_hash,
                "eligible": row.eligible_size,
                "quotas": request_json["quotas"],
                "reserves": request.reserves,
                "reason": reason,
                "exclusions": exclusions["by_reason"],
            },
            clock=clock,
        )
        drawn = draw_experts(snapshot, seed, request.quotas, request.reserves)
        respond_by = now + form.respond_within
        for taken in drawn.quotas:
            for position, expert_id in enumerate(taken.members):
                seat = ExpertSeat(
                    draw=draw_id,
                    expert=expert_id,
                    specialty=taken.specialty,
                    role=SeatRole.MEMBER,
                    position=position,
                )
                await seat.save()
                await _call(int(seat.id), expert_id, lot_id, respond_by, clock)
                called.append((int(seat.id), respond_by))
            for position, expert_id in enumerate(taken.reserves):
                await ExpertSeat(
                    draw=draw_id,
                    expert=expert_id,
                    specialty=taken.specialty,
                    role=SeatRole.RESERVE,
                    position=position,
                ).save()
        await ExpertDraw.update({ExpertDraw.drawn_at: clock.now()}).where(ExpertDraw.id == draw_id)
        await audit.record(
            "expert_draw.drawn",
            actor=actor,
            subject_type="lot",
            subject_id=lot_id,
            payload={
                "draw": draw_id,
                "members": len(drawn.members),
                "reserves": len(drawn.reserves),
            },
            clock=clock,
        )
    _schedule(called)
    return draw_id


def _schedule(called: Sequence[tuple[int, datetime]]) -> None:
    """Queue each called seat's deadline task; the periodic sweep covers a broker that is down."""
    if not called:
        return
    from expert_pool.tasks import seat_deadline

    for seat_id, respond_by in called:
        try:
            seat_deadline.apply_async((seat_id,), eta=respond_by)
        except Exception:  # the broker is down: the sweep expires the seat instead
            import logging

            logging.getLogger(__name__).warning(
                "could not queue the deadline of seat %s; the sweep will", seat_id, exc_info=True
            )


# --- answers, timeouts, replacements ------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _already_answered(status: str) -> Conflict:
    """The refusal to answer a seat that is not waiting for an answer, one per status."""
    if status == SeatStatus.CONFIRMED:
        return Conflict("this seat is already confirmed")
    if status == SeatStatus.DECLINED:
        return Conflict("this seat is already declined")
    if status == SeatStatus.TIMED_OUT:
        return Conflict("this seat is already timed out")
    if status == SeatStatus.WAITING:
        return Conflict("this seat is already waiting")
    return Conflict("this seat is already {status}", status=status.replace("_", " "))


async def _seat(seat_id: int) -> ExpertSeat:
    seat = await ExpertSeat.objects().where(ExpertSeat.id == seat_id).first()
    if seat is None:
        raise NotFound("no drawn seat {seat}", seat=seat_id)
    return seat


async def answer_as_expert(
    actor: Actor, seat_id: int, *, accept: bool, clock: Clock = SYSTEM_CLOCK
) -> str:
    """A logged-in expert confirms or declines their own seat; returns the new status."""
    seat = await _seat(seat_id)
    owner = await Expert.select(Expert.user).where(Expert.id == seat.expert).first()
    if actor.role is not Role.EXPERT or owner is None or owner["user"] != actor.user_id:
        raise NotFound("no drawn seat {seat}", seat=seat_id)
    return await _answer(seat_id, accept=accept, actor=actor, token=None, clock=clock)


async def answer_with_token(
    seat_id: int, token: str, *, accept: bool, clock: Clock = SYSTEM_CLOCK
) -> str:
    """Confirm or decline through the one-time link (single use, until ``respond_by``)."""
    return await _answer(seat_id, accept=accept, actor=None, token=token, clock=clock)


async def check_token(seat_id: int, token: str, *, clock: Clock = SYSTEM_CLOCK) -> ExpertSeat:
    """The seat a link points to, if the link is still usable; else a clear refusal."""
    seat = await _seat(seat_id)
    _check_link(seat, token, clock.now())
    return seat


def _check_link(seat: ExpertSeat, token: str, now: datetime) -> None:
    if not seat.token_hash or not secrets.compare_digest(seat.token_hash, _hash(token)):
        raise Forbidden("this confirmation link is not valid; use the link of your latest message")
    if seat.token_used_at is not None:
        raise Conflict("this confirmation link was already used; each link works once")
    if seat.respond_by is not None and now > seat.respond_by:
        raise Conflict("this confirmation link has expired; the next expert has been called")


async def _answer(
    seat_id: int, *, accept: bool, actor: Actor | None, token: str | None, clock: Clock
) -> str:
    called: list[tuple[int, datetime]] = []
    async with transaction(ExpertSeat._meta.db):
        seat = await _seat(seat_id)
        await _lock(int(seat.draw))
        seat = await _seat(seat_id)
        now = clock.now()
        if token is not None:
            _check_link(seat, token, now)
        draw = await ExpertDraw.objects().where(ExpertDraw.id == seat.draw).first()
        if draw is None or draw.status == DrawStatus.SUPERSEDED:
            raise Conflict("this draw was replaced by a new draw; nothing to answer")
        if seat.status != SeatStatus.NOTIFIED:
            raise _already_answered(seat.status)
        if seat.respond_by is not None and now > seat.respond_by:
            raise Conflict("the time to answer has passed; the next expert has been called")
        status = SeatStatus.CONFIRMED if accept else SeatStatus.DECLINED
        values: dict[Any, Any] = {
            ExpertSeat.status: status,
            ExpertSeat.responded_at: now,
            ExpertSeat.token_used_at: now,
        }
        if not accept:
            values[ExpertSeat.decline_order] = await _next_decline_order(int(draw.id))
        await ExpertSeat.update(values).where(ExpertSeat.id == seat_id)
        await audit.record(
            f"expert_seat.{status.value}",
            actor=actor or SYSTEM_ACTOR,
            subject_type="lot",
            subject_id=draw.lot,
            payload={"draw": int(draw.id), "seat": seat_id, "via": "link" if token else "page"},
            clock=clock,
        )
        if accept:
            await _check_complete(draw, clock)
        else:
            called = await _replace(draw, clock)
    _schedule(called)
    return status.value


async def _next_decline_order(draw_id: int) -> int:
    last = (
        await ExpertSeat.select(ExpertSeat.decline_order)
        .where((ExpertSeat.draw == draw_id) & ExpertSeat.decline_order.is_not_null())
        .order_by(ExpertSeat.decline_order, ascending=False)
        .first()
    )
    return 1 if last is None else int(last["decline_order"]) + 1


def _request_of(draw: ExpertDraw) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(draw.request)
    return data


def _quotas_of(draw: ExpertDraw) -> list[Quota]:
    return [Quota(code, int(count)) for code, count in _request_of(draw)["quotas"]]


async def _replace(draw: ExpertDraw, clock: Clock) -> list[tuple[int, datetime]]:
    """Give every unreplaced decline its replacement (docs/draw.md §6); idempotent.

    Returns the seats newly called, whose deadline tasks the caller queues after commit.
    """
    seats = await ExpertSeat.select().where(ExpertSeat.draw == draw.id)
    pending = [
        s
        for s in seats
        if s["status"] in {SeatStatus.DECLINED, SeatStatus.TIMED_OUT} and s["replaced_at"] is None
    ]
    if not pending or draw.status in {DrawStatus.SUPERSEDED, DrawStatus.EXHAUSTED}:
        return []
    declined = [
        int(s["expert"])
        for s in sorted(
            (s for s in seats if s["decline_order"] is not None), key=lambda s: s["decline_order"]
        )
    ]
    snapshot = PoolSnapshot.parse(draw.snapshot.encode("ascii"))
    seed = bytes.fromhex(draw.seed_hex)
    request = _request_of(draw)
    quotas = _quotas_of(draw)
    now = clock.now()
    try:
        current = replacement(
            draw_experts(snapshot, seed, quotas, int(request["reserves"])),
            declined,
            snapshot=snapshot,
            seed=seed,
        )
    except PoolExhausted as error:
        await _exhausted(draw, str(error), clock)
        return []
    by_expert = {int(s["expert"]): s for s in seats}
    respond_by = now + timedelta(seconds=int(request["respond_seconds"]))
    called: list[tuple[int, datetime]] = []
    for quota in current.quotas:
        for position, expert_id in enumerate(quota.members):
            existing = by_expert.get(expert_id)
            if existing is None:
                seat = ExpertSeat(
                    draw=draw.id,
                    expert=expert_id,
                    specialty=quota.specialty,
                    role=SeatRole.MEMBER,
                    position=position,
                )
                await seat.save()
                await _call(int(seat.id), expert_id, int(draw.lot), respond_by, clock)
                called.append((int(seat.id), respond_by))
                continue
            await ExpertSeat.update({ExpertSeat.position: position}).where(
                ExpertSeat.id == existing["id"]
            )
            if existing["role"] == SeatRole.RESERVE:
                await _call(int(existing["id"]), expert_id, int(draw.lot), respond_by, clock)
                called.append((int(existing["id"]), respond_by))
        for position, expert_id in enumerate(quota.reserves):
            await ExpertSeat.update({ExpertSeat.position: position}).where(
                (ExpertSeat.draw == draw.id) & (ExpertSeat.expert == expert_id)
            )
    await ExpertSeat.update({ExpertSeat.replaced_at: now}).where(
        ExpertSeat.id.is_in([s["id"] for s in pending])
    )
    await audit.record(
        "expert_draw.replaced",
        subject_type="lot",
        subject_id=draw.lot,
        payload={"draw": int(draw.id), "declined": len(pending), "called": len(called)},
        clock=clock,
    )
    return called


async def _exhausted(draw: ExpertDraw, message: str, clock: Clock) -> None:
    """Flag the lot and tell the purchaser and the supervisors; never raise (RULES §4)."""
    await ExpertDraw.update(
        {ExpertDraw.status: DrawStatus.EXHAUSTED, ExpertDraw.exhausted_at: clock.now()}
    ).where(ExpertDraw.id == draw.id)
    await audit.record(
        "expert_draw.exhausted",
        subject_type="lot",
        subject_id=draw.lot,
        payload={"draw": int(draw.id), "message": message},
        clock=clock,
    )
    lot = await get_lot(int(draw.lot))
    project = await get_project(lot.project)
    organisations = [project.purchaser, *([project.agency] if project.agency else [])]
    users = await User.select(User.id).where(
        (User.organisation.is_in(organisations) & (User.role == Role.PURCHASER))
        | (User.role == Role.SUPERVISOR)
    )
    await notifications.notify_many(
        [int(u["id"]) for u in users],
        kind=EXHAUSTED_KIND,
        title=f"Expert pool exhausted for lot {lot.number} of {project.code} (专家不足)",
        body=(
            f"{message}. The committee cannot be completed from this draw: stop, seal the "
            "documents and form a new committee (RULES §4); a new draw needs a reason."
        ),
        link=f"/lots/{lot.id}/draw",
        dedupe_prefix=f"expert_exhausted:{draw.id}",
        clock=clock,
    )


async def _check_complete(draw: ExpertDraw, clock: Clock) -> None:
    """Mark the committee formed when every seat is confirmed, and say so once."""
    if draw.status != DrawStatus.CONFIRMING:
        return
    needed = sum(quota.count for quota in _quotas_of(draw))
    confirmed = await ExpertSeat.count().where(
        (ExpertSeat.draw == draw.id)
        & (ExpertSeat.role == SeatRole.MEMBER)
        & (ExpertSeat.status == SeatStatus.CONFIRMED)
    )
    if confirmed < needed:
        return
    await ExpertDraw.update(
        {ExpertDraw.status: DrawStatus.CONFIRMED, ExpertDraw.confirmed_at: clock.now()}
    ).where(ExpertDraw.id == draw.id)
    await audit.record(
        "expert_draw.confirmed",
        subject_type="lot",
        subject_id=draw.lot,
        payload={"draw": int(draw.id), "members": needed},
        clock=clock,
    )
    await events.emit(COMMITTEE_CONFIRMED, lot_id=int(draw.lot), draw_id=int(draw.id))


async def expire_seat(seat_id: int, *, clock: Clock = SYSTEM_CLOCK) -> bool:
    """Treat an unanswered seat past its deadline as declined and call the next rank.

    Idempotent: a seat answered, already expired, or not yet due is left alone.
    """
    called: list[tuple[int, datetime]] = []
    async with transaction(ExpertSeat._meta.db):
        seat = await ExpertSeat.objects().where(ExpertSeat.id == seat_id).first()
        if seat is None:
            return False
        await _lock(int(seat.draw))
        seat = await _seat(seat_id)
        now = clock.now()
        if seat.status != SeatStatus.NOTIFIED or seat.respond_by is None or seat.respond_by > now:
            return False
        draw = await ExpertDraw.objects().where(ExpertDraw.id == seat.draw).first()
        if draw is None or draw.status != DrawStatus.CONFIRMING:
            return False
        await ExpertSeat.update(
            {
                ExpertSeat.status: SeatStatus.TIMED_OUT,
                ExpertSeat.responded_at: now,
                ExpertSeat.decline_order: await _next_decline_order(int(draw.id)),
            }
        ).where(ExpertSeat.id == seat_id)
        await audit.record(
            "expert_seat.timed_out",
            subject_type="lot",
            subject_id=draw.lot,
            payload={"draw": int(draw.id), "seat": seat_id},
            clock=clock,
        )
        called = await _replace(draw, clock)
    _schedule(called)
    return True


async def sweep_confirmations(*, clock: Clock = SYSTEM_CLOCK) -> list[int]:
    """Expire every overdue seat and finish any replacement a crash left undone (periodic)."""
    now = clock.now()
    overdue = await ExpertSeat.select(ExpertSeat.id).where(
        (ExpertSeat.status == SeatStatus.NOTIFIED)
        & (ExpertSeat.respond_by <= now)
        & (ExpertSeat.draw.status == DrawStatus.CONFIRMING)
    )
    expired = [int(row["id"]) for row in overdue if await expire_seat(int(row["id"]), clock=clock)]
    unfinished = await ExpertSeat.select(ExpertSeat.draw).where(
        ExpertSeat.status.is_in([SeatStatus.DECLINED, SeatStatus.TIMED_OUT])
        & ExpertSeat.replaced_at.is_null()
        & (ExpertSeat.draw.status == DrawStatus.CONFIRMING)
    )
    for draw_id in sorted({int(row["draw"]) for row in unfinished}):
        called: list[tuple[int, datetime]] = []
        async with transaction(ExpertDraw._meta.db):
            await _lock(draw_id)
            draw = await ExpertDraw.objects().where(ExpertDraw.id == draw_id).first()
            if draw is not None:
                called = await _replace(draw, clock)
        _schedule(called)
    return expired


# --- reveal, verify, committee --------------------------------------------------------------


async def reveal_seeds(lot_id: int, *, clock: Clock = SYSTEM_CLOCK) -> int:
    """Publish the seeds of every draw of a concluded lot (ARCHITECTURE §4, step 5)."""
    rows = await ExpertDraw.select(ExpertDraw.id, ExpertDraw.seed_hex, ExpertDraw.commitment).where(
        (ExpertDraw.lot == lot_id) & ExpertDraw.revealed_at.is_null()
    )
    for row in rows:
        await ExpertDraw.update({ExpertDraw.revealed_at: clock.now()}).where(
            ExpertDraw.id == row["id"]
        )
        await audit.record(
            "expert_draw.revealed",
            subject_type="lot",
            subject_id=lot_id,
            payload={"draw": row["id"], "seed": row["seed_hex"], "commitment": row["commitment"]},
            clock=clock,
        )
    return len(rows)


async def on_lot_concluded(*, lot_id: int, **_: Any) -> None:
    """``procurement.events.LOT_CONCLUDED`` handler: the evaluation ended, reveal the seed."""
    await reveal_seeds(lot_id)


async def recorded_draw(draw: ExpertDraw) -> Draw:
    """The draw as the seats record it: members and unused reserves, declines in order."""
    seats = await ExpertSeat.select().where(ExpertSeat.draw == draw.id)
    quotas = []
    for quota in _quotas_of(draw):
        mine = [s for s in seats if s["specialty"] == quota.specialty]
        members = sorted(
            (
                s
                for s in mine
                if s["role"] == SeatRole.MEMBER
                and s["status"] not in {SeatStatus.DECLINED, SeatStatus.TIMED_OUT}
            ),
            key=lambda s: s["position"],
        )
        reserves = sorted(
            (s for s in mine if s["role"] == SeatRole.RESERVE), key=lambda s: s["position"]
        )
        quotas.append(
            QuotaDraw(
                quota.specialty,
                quota.count,
                tuple(int(s["expert"]) for s in members),
                tuple(int(s["expert"]) for s in reserves),
            )
        )
    declined = sorted(
        (s for s in seats if s["decline_order"] is not None), key=lambda s: s["decline_order"]
    )
    return Draw(
        commitment=draw.commitment,
        snapshot_hash=draw.snapshot_hash,
        reserves_per_quota=int(_request_of(draw)["reserves"]),
        quotas=tuple(quotas),
        declined=tuple(int(s["expert"]) for s in declined),
    )


async def current_draw(lot_id: int) -> ExpertDraw | None:
    """The lot's standing draw (the latest one not superseded), if any."""
    return (
        await ExpertDraw.objects()
        .where((ExpertDraw.lot == lot_id) & (ExpertDraw.status != DrawStatus.SUPERSEDED))
        .order_by(ExpertDraw.id, ascending=False)
        .first()
    )


async def lots_with_exhausted_pool(lot_ids: list[int]) -> set[int]:
    """Which of these lots' standing draws ran out of experts (RULES §4), in one query.

    A lot's standing draw is its latest one not superseded; a new draw after an exhausted
    one (with its reason) stands in its place.
    """
    if not lot_ids:
        return set()
    rows = (
        await ExpertDraw.select(ExpertDraw.lot, ExpertDraw.status)
        .where(ExpertDraw.lot.is_in(lot_ids) & (ExpertDraw.status != DrawStatus.SUPERSEDED))
        .order_by(ExpertDraw.id)
    )
    standing = {int(row["lot"]): row["status"] for row in rows}  # the latest per lot wins
    return {lot_id for lot_id, status in standing.items() if status == DrawStatus.EXHAUSTED}


@dataclass(frozen=True, slots=True)
class LotVerification:
    """``zhaocai draw verify``'s answer for one draw of a lot."""

    draw_id: int
    number: int
    result: VerificationResult
    members: tuple[int, ...]


async def verify_lot(lot_id: int) -> list[LotVerification]:
    """Re-run every draw of a concluded lot from its snapshot and revealed seed.

    Raises:
        NotFound: no draw for the lot.
        Conflict: the seed is not revealed yet (it is, when the lot concludes).
    """
    draws = await ExpertDraw.objects().where(ExpertDraw.lot == lot_id).order_by(ExpertDraw.id)
    if not draws:
        raise NotFound("no expert draw for lot {lot}", lot=lot_id)
    results = []
    for draw in draws:
        if draw.revealed_at is None:
            raise Conflict(
                "the seed of lot {lot}'s draw is revealed when the lot concludes; "
                "it cannot be verified before",
                lot=lot_id,
            )
        recorded = await recorded_draw(draw)
        try:
            snapshot = PoolSnapshot.parse(draw.snapshot.encode("ascii"))
        except ValueError as error:
            snapshot = PoolSnapshot(())
            result = VerificationResult(False, False, False, None, (str(error),))
        else:
            result = verify_draw(snapshot, bytes.fromhex(draw.seed_hex), recorded)
        results.append(LotVerification(int(draw.id), int(draw.number), result, recorded.members))
    return results


async def confirmed_committee(lot_id: int) -> list[CommitteeMember]:
    """The experts who confirmed for the lot's standing draw, in draw rank order.

    Rank order is the draw's member order (quota by quota, as docs/draw.md §5-6 fill them).
    """
    draw = await current_draw(lot_id)
    if draw is None:
        return []
    rows = await ExpertSeat.select(
        ExpertSeat.expert,
        ExpertSeat.specialty,
        ExpertSeat.position,
        ExpertSeat.expert.name.as_alias("name"),
        ExpertSeat.expert.user.as_alias("user_id"),
    ).where(
        (ExpertSeat.draw == draw.id)
        & (ExpertSeat.role == SeatRole.MEMBER)
        & (ExpertSeat.status == SeatStatus.CONFIRMED)
    )
    order = {quota.specialty: index for index, quota in enumerate(_quotas_of(draw))}
    rows.sort(key=lambda r: (order.get(r["specialty"], len(order)), r["position"]))
    return [
        CommitteeMember(
            expert_id=int(r["expert"]),
            user_id=int(r["user_id"] or 0),
            name=str(r["name"]),
            specialty=str(r["specialty"]),
        )
        for r in rows
    ]


# --- what each role may see ---------------------------------------------------------------


async def draw_page(actor: Actor, lot_id: int) -> dict[str, Any]:
    """The draw as ``actor`` may see it (RULES §4 secrecy; TBL Art. 37).

    Supervisors: the whole record (names included). The lot's purchaser or agency: counts and
    statuses, and names only once the lot has concluded. Experts: their own seats only (see
    :func:`my_seats`). Another purchasing unit: refused (403; the lot itself is public,
    its draw is not).
    """
    lot = await get_lot(lot_id)
    project = await get_project(lot.project)
    supervisor = actor.role is Role.SUPERVISOR
    organiser = _may_organise(actor, project)
    if not may_see_draw(actor, purchaser_id=project.purchaser, agency_id=project.agency):
        raise Forbidden(DRAW_NOT_YOURS)
    concluded = LotStatus(lot.status) in FINAL_STATES
    draws = (
        await ExpertDraw.objects()
        .where(ExpertDraw.lot == lot_id)
        .order_by(ExpertDraw.id, ascending=False)
    )
    records = []
    for draw in draws:
        seats = (
            await ExpertSeat.select(
                ExpertSeat.id,
                ExpertSeat.expert,
                ExpertSeat.specialty,
                ExpertSeat.role,
                ExpertSeat.position,
                ExpertSeat.status,
                ExpertSeat.respond_by,
                ExpertSeat.responded_at,
                ExpertSeat.replaced_at,
                ExpertSeat.expert.name.as_alias("name"),
            )
            .where(ExpertSeat.draw == draw.id)
            .order_by(ExpertSeat.id)
        )
        show_names = supervisor or concluded
        if not show_names:
            for seat in seats:
                seat["name"] = ""
                seat["expert"] = 0
        counts: dict[str, int] = {}
        for seat in seats:
            counts[seat["status"]] = counts.get(seat["status"], 0) + 1
        exclusions = json.loads(draw.exclusions)
        records.append(
            {
                "draw": draw,
                "request": _request_of(draw),
                "seats": seats,
                "members": [s for s in seats if s["role"] == SeatRole.MEMBER],
                "reserves": [s for s in seats if s["role"] == SeatRole.RESERVE],
                "counts": counts,
                "exclusions": exclusions.get("by_reason", {}),
                "first_reasons": exclusions.get("first_reason", {}),
                "show_names": show_names,
                "seed": draw.seed_hex if draw.revealed_at is not None else "",
            }
        )
    return {
        "lot": lot,
        "project": project,
        "records": records,
        "supervisor": supervisor,
        "organiser": organiser,
        "concluded": concluded,
        "reasons": [reason.value for reason in ExclusionReason],
        "standing": next((r for r in records if r["draw"].status != DrawStatus.SUPERSEDED), None),
    }


async def my_seats(actor: Actor) -> list[dict[str, Any]]:
    """An expert's own seats: which lot, until when to answer, the answer (no other names)."""
    expert = await Expert.select(Expert.id).where(Expert.user == actor.user_id).first()
    if expert is None:
        return []
    rows = (
        await ExpertSeat.select(
            ExpertSeat.id,
            ExpertSeat.status,
            ExpertSeat.role,
            ExpertSeat.specialty,
            ExpertSeat.respond_by,
            ExpertSeat.draw.lot.as_alias("lot_id"),
            ExpertSeat.draw.evaluation_date.as_alias("evaluation_date"),
            ExpertSeat.draw.status.as_alias("draw_status"),
        )
        .where((ExpertSeat.expert == expert["id"]) & (ExpertSeat.role == SeatRole.MEMBER))
        .order_by(ExpertSeat.id, ascending=False)
    )
    return list(rows)


async def lot_draw_status(lot_id: int) -> str:
    """The standing draw's status for lot rows, or an empty string (no names, any viewer)."""
    draw = await current_draw(lot_id)
    return "" if draw is None else str(draw.status)


# --- ratings after evaluation -------------------------------------------------------------


class Rating(StrEnum):
    """How an expert conducted the evaluation of one lot."""

    GOOD = "good"
    ADEQUATE = "adequate"
    POOR = "poor"


POOR_RATINGS_TO_SUSPEND = 3
"""Poor ratings within :data:`POOR_RATING_WINDOW` that suspend an expert (practice)."""
POOR_RATING_WINDOW = timedelta(days=365)


async def rate_expert(
    actor: Actor,
    lot_id: int,
    expert_id: int,
    rating: str,
    *,
    violation: bool = False,
    note: str = "",
    clock: Clock = SYSTEM_CLOCK,
) -> bool:
    """Rate a confirmed member's conduct once the lot has concluded; return whether suspended.

    A violation (GPL-R Art. 75: not evaluating independently, leaking, not recusing) or the
    third poor rating within a year suspends the expert at once; the ratings stay on record
    (GPL-R Art. 63: bad conduct is recorded).

    Raises:
        Forbidden: the lot is not the caller's to rate.
        NotFound: the expert did not sit on the lot's committee.
        Conflict: the lot has not concluded, or the caller already rated this expert here.
        ValidationError: an unknown rating, or a poor rating or violation without a note.
    """
    lot = await get_lot(lot_id)
    project = await get_project(lot.project)
    if not may_see_draw(actor, purchaser_id=project.purchaser, agency_id=project.agency):
        raise Forbidden(DRAW_NOT_YOURS)
    if LotStatus(lot.status) not in FINAL_STATES:
        raise Conflict("experts are rated after the evaluation, once the lot has concluded")
    try:
        value = Rating(rating)
    except ValueError:
        raise ValidationError("rating must be good, adequate or poor", field="rating") from None
    note = note.strip()[:1000]
    if (value is Rating.POOR or violation) and not note:
        raise ValidationError("say what happened: a poor rating or a violation needs a note")
    sat = await ExpertSeat.exists().where(
        (ExpertSeat.expert == expert_id)
        & (ExpertSeat.status == SeatStatus.CONFIRMED)
        & (ExpertSeat.draw.lot == lot_id)
    )
    if not sat:
        raise NotFound("expert {expert} did not sit on this lot's committee", expert=expert_id)
    now = clock.now()
    async with transaction(ExpertRating._meta.db):
        if await ExpertRating.exists().where(
            (ExpertRating.expert == expert_id)
            & (ExpertRating.lot == lot_id)
            & (ExpertRating.rated_by == actor.user_id)
        ):
            raise Conflict("you have already rated this expert for this lot")
        await ExpertRating(
            expert=expert_id,
            lot=lot_id,
            rated_by=actor.user_id,
            rating=value,
            violation=violation,
            note=note,
            rated_at=now,
        ).save()
        await audit.record(
            "expert.rated",
            actor=actor,
            subject_type="expert",
            subject_id=expert_id,
            payload={"lot": lot_id, "rating": value.value, "violation": violation},
            clock=clock,
        )
        poor = await ExpertRating.count().where(
            (ExpertRating.expert == expert_id)
            & (ExpertRating.rating == Rating.POOR)
            & (ExpertRating.rated_at >= now - POOR_RATING_WINDOW)
        )
        if not violation and poor < POOR_RATINGS_TO_SUSPEND:
            return False
        row = await Expert.select(Expert.status).where(Expert.id == expert_id).first()
        if row is None or row["status"] != ExpertStatus.ACTIVE:
            return False
        reason = (
            f"violation recorded on lot {lot_id}: {note}"
            if violation
            else f"{poor} poor ratings within a year"
        )
        await Expert.update(
            {
                Expert.status: ExpertStatus.SUSPENDED,
                Expert.status_reason: reason[:300],
                Expert.updated_at: now,
            }
        ).where(Expert.id == expert_id)
        await audit.record(
            "expert.status",
            actor=actor,
            subject_type="expert",
            subject_id=expert_id,
            payload={"from": "active", "to": "suspended", "reason": reason[:300]},
            clock=clock,
        )
    return True


async def ratings_of_lot(lot_id: int) -> list[dict[str, Any]]:
    """Ratings given for a lot's experts, for the draw page."""
    return list(
        await ExpertRating.select(
            ExpertRating.expert,
            ExpertRating.rating,
            ExpertRating.violation,
            ExpertRating.note,
            ExpertRating.rated_at,
            ExpertRating.rated_by,
            ExpertRating.rated_by.display_name.as_alias("rater"),
        )
        .where(ExpertRating.lot == lot_id)
        .order_by(ExpertRating.id)
    )
