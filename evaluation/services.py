"""Evaluation use cases: the scheme, the committee, remote scoring, review, report and award.

The pure rules live in :mod:`evaluation.scheme`, :mod:`evaluation.scoring` and
:mod:`evaluation.review`; this module loads, checks who may act, calls them, stores and audits.

The committee works in two steps, as the regulations order them: first every member records
the qualification and compliance verdicts of every opened bid (资格性/符合性审查, MOF87 Art.
44, 50) and submits them; the committee's verdict on a criterion is its majority (MOF87 Art.
57: 少数服从多数). Then every member scores every bid the committee passed (详细评审, MOF87
Art. 55), independently: nobody sees another member's scores until all have submitted (MOF87
Art. 62). Submitted scores are final; only the leader corrects them, for a ground MOF87 Art. 64
allows, with a note, audited.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

import procurement
from bidding.envelope import EnvelopeContext, open_sealed
from bidding.keys import unwrap_opening_key
from bidding.services import READABLE_STATES, opening_key_of
from bidding.tables import BidFile, OpeningRecord
from evaluation.review import (
    CorrectionReason,
    ReviewNote,
    ScoreCorrection,
    abnormally_low_flags,
    apply_corrections,
    deviation_flags,
    deviation_note,
    low_price_note,
)
from evaluation.scheme import PassFailCriterion, PricePreference, ScoredCriterion, ScoringScheme
from evaluation.scheme_io import scheme_from_json, scheme_to_json
from evaluation.scoring import (
    MINIMUM_VALID_BIDS,
    Bid,
    BidderResult,
    EvaluationResult,
    Exclusion,
    ExclusionReason,
    SavingsReference,
    evaluate,
    evaluation_price,
    lot_savings,
)
from evaluation.tables import (
    CommitteeSeat,
    Correction,
    LotScheme,
    Outcome,
    Review,
    Score,
    Verdict,
)
from procurement import audit
from procurement.clock import SYSTEM_CLOCK, Clock
from procurement.db import transaction
from procurement.exceptions import Conflict, Forbidden, NotFound, ValidationError, ZhaocaiError
from procurement.i18n import Translator
from procurement.lifecycle import (
    FailureReason,
    LotEvent,
    LotStatus,
    ProcurementMethod,
    ProjectCategory,
)
from procurement.money import fen_to_yuan, round_half_up, yuan_to_fen
from procurement.projects import (
    ensure_purchaser_owns,
    get_lot,
    get_project,
    owns,
    transition_lot,
)
from procurement.results import record_award, record_failure
from procurement.roles import Actor, EnterpriseSize, Role
from procurement.tables import Organisation, User

MINIMUM_COMMITTEE = 5
"""MOF87 Art. 47: a tender's committee has five or more members, an odd number."""

WORK_STATES = frozenset({LotStatus.OPENED, LotStatus.EVALUATING})
"""The committee works after the opening and before the award (MOF87 Art. 44)."""


class Stage:
    """Stages of a lot's evaluation after every member has submitted (Outcome.stage)."""

    REVIEW = "review"
    SIGNED = "signed"
    AWARDED = "awarded"
    FAILED = "failed"


# --------------------------------------------------------------------------- scheme


async def set_scheme(
    actor: Actor, lot_id: int, data: object, *, clock: Clock = SYSTEM_CLOCK
) -> dict[str, Any]:
    """Set a lot's scoring scheme before publication (GPL-R Art. 34: fixed in the documents).

    Raises:
        SchemeError: every shape and rule problem at once; nothing is stored.
        Conflict: the lot is already published.
    """
    lot = await get_lot(lot_id)
    project = await get_project(lot.project)
    ensure_purchaser_owns(actor, project)
    if LotStatus(lot.status) is not LotStatus.DRAFT:
        raise Conflict(
            "the scoring scheme is part of the published tender documents and can no longer change"
        )
    scheme = scheme_from_json(data, ProjectCategory(project.category))
    stored = json.dumps(scheme_to_json(scheme), ensure_ascii=False)
    async with transaction(LotScheme._meta.db):
        row = await LotScheme.objects().where(LotScheme.lot == lot_id).first()
        if row is None:
            await LotScheme(lot=lot_id, scheme=stored, updated_at=clock.now()).save()
        else:
            await LotScheme.update(
                {LotScheme.scheme: stored, LotScheme.updated_at: clock.now()}
            ).where(LotScheme.id == row.id)
        await audit.record(
            "evaluation.scheme_set",
            actor=actor,
            subject_type="lot",
            subject_id=lot_id,
            payload={"method": scheme.method.value, "price_weight": str(scheme.price_weight)},
            clock=clock,
        )
    return scheme_to_json(scheme)


async def scheme_json(lot_id: int) -> dict[str, Any] | None:
    """The stored scheme of a lot, or None."""
    row = await LotScheme.select(LotScheme.scheme).where(LotScheme.lot == lot_id).first()
    return json.loads(row["scheme"]) if row else None


async def criterion_descriptions(lot_id: int) -> dict[str, str]:
    """Each criterion's description by id, from the lot's published scheme (empty without one)."""
    try:
        scheme = await scheme_of(lot_id)
    except NotFound:
        return {}
    every: tuple[ScoredCriterion | PassFailCriterion, ...] = (
        *scheme.criteria,
        *scheme.qualification,
        *scheme.compliance,
    )
    return {c.id: c.description for c in every if c.description}


async def scheme_of(lot_id: int) -> ScoringScheme:
    """The lot's scheme, validated again; NotFound when the purchaser set none."""
    data = await scheme_json(lot_id)
    if data is None:
        raise NotFound("this lot has no scoring scheme")
    lot = await get_lot(lot_id)
    project = await get_project(lot.project)
    return scheme_from_json(data, ProjectCategory(project.category))


def scheme_public(status: str, *, scheme_set: bool) -> bool:
    """Whether a lot's scheme is on the public scheme page: it has one and is not a draft."""
    return scheme_set and status != LotStatus.DRAFT


async def lots_with_scheme(lot_ids: Sequence[int]) -> set[int]:
    """Which of the lots have a scoring scheme (tenders; an inquiry or a consultation may not)."""
    if not lot_ids:
        return set()
    rows = await LotScheme.select(LotScheme.lot).where(LotScheme.lot.is_in(list(lot_ids)))
    return {int(row["lot"]) for row in rows}


async def public_scheme(lot_id: int) -> dict[str, Any]:
    """The scheme as published with the tender documents; hidden while the lot is a draft."""
    lot = await get_lot(lot_id)
    data = await scheme_json(lot_id)
    if data is None or not scheme_public(lot.status, scheme_set=True):
        raise NotFound("the scoring scheme is published with the tender documents")
    return data


async def require_scheme_on_publication(*, lot_id: int, project_id: int, **_: Any) -> None:
    """``lot.published`` handler: a tender lot cannot go out without its scheme.

    Raising inside the publication transaction rolls the whole publication back (GPL-R Art.
    34: the documents state the evaluation method and criteria).
    """
    project = await get_project(project_id)
    if not ProcurementMethod(project.method).is_tender:
        return
    if not await LotScheme.exists().where(LotScheme.lot == lot_id):
        lot = await get_lot(lot_id)
        raise Conflict(
            "lot {lot} has no scoring scheme; set it before publishing",
            field="scheme",
            lot=lot.number,
        )


def default_scheme(category: ProjectCategory) -> dict[str, Any]:
    """A valid starting scheme for ``category`` (demo data and tests).

    Price 30, technical 50, commercial 20; the lowest SME deductions allowed (SME46 Art. 9).
    """
    small, consortium = ("3", "1") if category is ProjectCategory.WORKS else ("10", "4")
    return {
        "method": "comprehensive_evaluation"
        if category is ProjectCategory.WORKS
        else "comprehensive_scoring",
        "third_tie_break": "technical",
        "small_or_micro_deduction": small,
        "consortium_deduction": consortium,
        "qualification": [{"id": "Q1", "description": "营业执照 Business licence"}],
        "compliance": [{"id": "C1", "description": "实质性响应 Substantive response"}],
        "criteria": [
            {"id": "P", "group": "price", "max_points": "30", "description": "价格 Price"},
            {"id": "T1", "group": "technical", "max_points": "30", "description": "技术方案"},
            {"id": "T2", "group": "technical", "max_points": "20", "description": "售后服务"},
            {"id": "B1", "group": "commercial", "max_points": "20", "description": "业绩"},
        ],
    }


async def set_default_schemes(actor: Actor, project_id: int) -> None:
    """Give every lot of a draft project that has no scheme the default one."""
    from procurement.tables import Lot

    project = await get_project(project_id)
    if not ProcurementMethod(project.method).is_tender:
        return
    for lot in await Lot.objects().where(Lot.project == project_id):
        if not await LotScheme.exists().where(LotScheme.lot == lot.id):
            await set_scheme(actor, lot.id, default_scheme(ProjectCategory(project.category)))


# --------------------------------------------------------------------------- committee


class CommitteeMember(Protocol):
    """What the expert draw provides for each confirmed member."""

    @property
    def expert_id(self) -> Any: ...  # noqa: D102
    @property
    def user_id(self) -> int: ...  # noqa: D102
    @property
    def name(self) -> str: ...  # noqa: D102
    @property
    def specialty(self) -> str: ...  # noqa: D102


@dataclass(frozen=True, slots=True)
class Member:
    """A member given explicitly (tests, or a committee formed outside the draw)."""

    expert_id: str
    user_id: int
    name: str
    specialty: str = ""


async def seat_committee(
    lot_id: int,
    members: Sequence[CommitteeMember],
    *,
    leader_user_id: int | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> list[int]:
    """Seat the lot's committee; the leader (组长) is ``leader_user_id`` or the first member.

    Five or more, an odd number, each an active expert account, none twice (MOF87 Art. 47).
    Reseating is allowed until a member has recorded anything. Returns the seat ids.
    """
    user_ids = [int(m.user_id) for m in members]
    if len(user_ids) < MINIMUM_COMMITTEE or len(user_ids) % 2 == 0:
        raise ValidationError(
            "a tender committee has at least {minimum} members, an odd number; got {count} "
            "(MOF87 Art. 47)",
            minimum=MINIMUM_COMMITTEE,
            count=len(user_ids),
        )
    if len(set(user_ids)) != len(user_ids):
        raise ValidationError("a member cannot hold two seats")
    leader = leader_user_id if leader_user_id is not None else user_ids[0]
    if leader not in user_ids:
        raise ValidationError("the leader must be a member of the committee")
    users = await User.select(User.id, User.role, User.status).where(User.id.is_in(user_ids))
    experts = {u["id"] for u in users if u["role"] == Role.EXPERT and u["status"] == "active"}
    strangers = [u for u in user_ids if u not in experts]
    if strangers:
        raise ValidationError("users {users} are not active expert accounts", users=strangers)
    lot = await get_lot(lot_id)
    if LotStatus(lot.status) not in {LotStatus.PUBLISHED, LotStatus.BIDDING_CLOSED, *WORK_STATES}:
        raise Conflict(
            "a committee cannot be seated on a lot in state {status}",
            status=LotStatus(lot.status),  # the Chinese names it by label: {status:zh}
        )
    async with transaction(CommitteeSeat._meta.db):
        if await Verdict.exists().where(Verdict.lot == lot_id):
            raise Conflict("the committee has started work and cannot be changed")
        await CommitteeSeat.delete().where(CommitteeSeat.lot == lot_id)
        ids = []
        for member in members:
            seat = CommitteeSeat(
                lot=lot_id,
                user=int(member.user_id),
                expert_id=str(member.expert_id),
                name=member.name,
                specialty=member.specialty,
                leader=int(member.user_id) == leader,
                seated_at=clock.now(),
            )
            await seat.save()
            ids.append(int(seat.id))
        await audit.record(
            "evaluation.committee_seated",
            subject_type="lot",
            subject_id=lot_id,
            payload={"experts": [str(m.expert_id) for m in members], "leader": leader},
            clock=clock,
        )
    return ids


async def seat_confirmed_committee(lot_id: int, *, clock: Clock = SYSTEM_CLOCK) -> list[int]:
    """Seat the committee the expert draw confirmed (expert_pool; ARCHITECTURE §4), leader first.

    Raises what :func:`seat_committee` raises: a draw that confirmed too few members.
    """
    from expert_pool.services import confirmed_committee

    members = await confirmed_committee(lot_id)
    return await seat_committee(lot_id, members, clock=clock)


async def on_committee_confirmed(*, lot_id: int, **_: Any) -> None:
    """``expert_pool.committee_confirmed`` handler: seat the confirmed experts.

    A committee that cannot be seated (too few, already at work) is recorded in the audit log
    and left to the organiser, never rolling back the experts' confirmations.
    """
    try:
        await seat_confirmed_committee(lot_id)
    except ZhaocaiError as exc:
        await audit.record(
            "evaluation.committee_not_seated",
            subject_type="lot",
            subject_id=lot_id,
            payload={"reason": str(exc)},
        )


async def committee(lot_id: int) -> list[dict[str, Any]]:
    """The seats of a lot's committee in seating order, with each member's progress."""
    return (
        await CommitteeSeat.select().where(CommitteeSeat.lot == lot_id).order_by(CommitteeSeat.id)
    )


async def _seat(actor: Actor, lot_id: int) -> CommitteeSeat:
    seat = (
        await CommitteeSeat.objects()
        .where((CommitteeSeat.lot == lot_id) & (CommitteeSeat.user == (actor.user_id or 0)))
        .first()
    )
    if seat is None or actor.role is not Role.EXPERT:
        raise NotFound("you are not on the evaluation committee of this lot")
    return seat


async def seated_lots(actor: Actor | None, lot_ids: Sequence[int]) -> set[int]:
    """Which of the lots the actor holds a committee seat on (one query; none for non-experts)."""
    if actor is None or actor.role is not Role.EXPERT or not lot_ids:
        return set()
    rows = await CommitteeSeat.select(CommitteeSeat.lot).where(
        CommitteeSeat.lot.is_in(list(lot_ids)) & (CommitteeSeat.user == (actor.user_id or 0))
    )
    return {int(row["lot"]) for row in rows}


async def is_member(actor: Actor, lot_id: int) -> bool:
    """Whether the actor holds a seat on the lot's committee."""
    return lot_id in await seated_lots(actor, [lot_id])


def may_oversee(actor: Actor | None, *, purchaser_id: object, seated: bool) -> bool:
    """Who watches a lot's evaluation (progress, reviews, the report).

    Supervisors, purchasers of the owning unit (``purchaser_id``), and the experts seated
    on the lot's committee (``seated``, see :func:`seated_lots`). The pages' handlers and
    their lot links ask this one rule.
    """
    if actor is None:
        return False
    if actor.role is Role.SUPERVISOR:
        return True
    if actor.role is Role.EXPERT:
        return seated
    return owns(actor, purchaser_id)


async def expert_lots(actor: Actor) -> list[dict[str, Any]]:
    """The lots an expert sits on, newest first, for the expert's workspace."""
    return await (
        CommitteeSeat.select(
            CommitteeSeat.lot.id.as_alias("lot_id"),
            CommitteeSeat.lot.title.as_alias("lot_title"),
            CommitteeSeat.lot.status.as_alias("status"),
            CommitteeSeat.leader,
            CommitteeSeat.scores_submitted_at,
            CommitteeSeat.signed_at,
        )
        .where(CommitteeSeat.user == (actor.user_id or 0))
        .order_by(CommitteeSeat.id, ascending=False)
    )


# --------------------------------------------------------------------------- bids


async def opened_bids(lot_id: int) -> list[dict[str, Any]]:
    """Bids opened at the opening, with declared price, SME size and files (in bid order)."""
    rows = (
        await OpeningRecord.select(
            OpeningRecord.bid,
            OpeningRecord.bidder,
            OpeningRecord.declared_price_fen,
            OpeningRecord.bidder.name.as_alias("name"),
            OpeningRecord.bidder.name_en.as_alias("name_en"),
            OpeningRecord.bidder.enterprise_size.as_alias("size"),
        )
        .where((OpeningRecord.lot == lot_id) & (OpeningRecord.outcome == "opened"))
        .order_by(OpeningRecord.bid)
    )
    for row in rows:
        row["files"] = (
            await BidFile.select(BidFile.id, BidFile.kind, BidFile.label, BidFile.size)
            .where(BidFile.bid == row["bid"])
            .order_by(BidFile.id)
        )
    return rows


def _preference(size: str) -> PricePreference:
    small = size in {EnterpriseSize.SMALL, EnterpriseSize.MICRO}
    return PricePreference.SMALL_OR_MICRO if small else PricePreference.NONE


async def _work_lot(lot_id: int) -> Any:
    lot = await get_lot(lot_id)
    if LotStatus(lot.status) not in WORK_STATES:
        raise Conflict(
            "the committee works after the opening; this lot is {status}",
            status=LotStatus(lot.status),  # the Chinese names it by label: {status:zh}
        )
    if await Outcome.exists().where(Outcome.lot == lot_id):
        raise Conflict("every member has submitted; submitted scores are final")
    return lot


async def _start(lot: Any, actor: Actor, clock: Clock) -> None:
    if LotStatus(lot.status) is LotStatus.OPENED:
        with contextlib.suppress(Conflict):  # another member started it a moment ago
            await transition_lot(lot.id, LotEvent.START_EVALUATION, actor=actor, clock=clock)


async def _bidder_ids(lot_id: int) -> set[int]:
    return {int(b["bidder"]) for b in await opened_bids(lot_id)}


# --------------------------------------------------------------------------- verdicts


async def record_verdict(
    actor: Actor,
    lot_id: int,
    bidder_id: int,
    criterion: str,
    *,
    passed: bool,
    reason: str = "",
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    """Record a member's pass/fail verdict; a fail needs its reason (GPL Art. 36, MOF87 Art. 63)."""
    seat = await _seat(actor, lot_id)
    lot = await _work_lot(lot_id)
    if seat.verdicts_submitted_at is not None:
        raise Conflict("your verdicts are submitted and final")
    scheme = await scheme_of(lot_id)
    if criterion not in scheme.pass_fail_ids:
        raise ValidationError(
            "{criterion!r} is not a qualification or compliance criterion", criterion=criterion
        )
    if bidder_id not in await _bidder_ids(lot_id):
        raise NotFound("no opened bid of bidder {bidder} in this lot", bidder=bidder_id)
    reason = reason.strip()
    if not passed and not reason:
        raise ValidationError("give the reason a bid fails a criterion", field="reason")
    await _start(lot, actor, clock)
    async with transaction(Verdict._meta.db):
        await Verdict.delete().where(
            (Verdict.seat == seat.id)
            & (Verdict.bidder == bidder_id)
            & (Verdict.criterion == criterion)
        )
        await Verdict(
            lot=lot_id,
            seat=seat.id,
            bidder=bidder_id,
            criterion=criterion,
            passed=passed,
            reason=reason,
            recorded_at=clock.now(),
        ).save()


async def submit_verdicts(actor: Actor, lot_id: int, *, clock: Clock = SYSTEM_CLOCK) -> str:
    """Submit a member's verdicts once all are recorded; returns "submitted" or "failed".

    When the last member submits and fewer than three bids pass, the lot fails (GPL Art. 36).
    """
    seat = await _seat(actor, lot_id)
    await _work_lot(lot_id)
    if seat.verdicts_submitted_at is not None:
        raise Conflict("your verdicts are already submitted")
    left = (await checklist(actor, lot_id))["verdicts_left"]
    if left:
        raise ValidationError(
            "{count} verdicts are still to record: {items}",
            count=len(left),
            items=", ".join(left[:5]),
        )
    await CommitteeSeat.update({CommitteeSeat.verdicts_submitted_at: clock.now()}).where(
        CommitteeSeat.id == seat.id
    )
    await audit.record(
        "evaluation.verdicts_submitted",
        actor=actor,
        subject_type="lot",
        subject_id=lot_id,
        clock=clock,
    )
    verdicts = await committee_verdicts(lot_id)
    if verdicts is not None:
        passed = [b for b, v in verdicts.items() if not v["qualification"] and not v["compliance"]]
        if len(passed) < MINIMUM_VALID_BIDS:
            await _fail(lot_id, FailureReason.TOO_FEW_VALID, len(passed), clock)
            return "failed"
    return "submitted"


async def committee_verdicts(lot_id: int) -> dict[int, dict[str, list[str]]] | None:
    """Criteria each bid failed by majority, once every member submitted verdicts; else None."""
    seats = await committee(lot_id)
    if not seats or any(s["verdicts_submitted_at"] is None for s in seats):
        return None
    scheme = await scheme_of(lot_id)
    qualification = {c.id for c in scheme.qualification}
    rows = await Verdict.select(Verdict.bidder, Verdict.criterion, Verdict.passed).where(
        Verdict.lot == lot_id
    )
    fails: dict[tuple[int, str], int] = {}
    for row in rows:
        if not row["passed"]:
            key = (int(row["bidder"]), row["criterion"])
            fails[key] = fails.get(key, 0) + 1
    result: dict[int, dict[str, list[str]]] = {
        b: {"qualification": [], "compliance": []} for b in await _bidder_ids(lot_id)
    }
    for (bidder, criterion), count in sorted(fails.items()):
        if count * 2 > len(seats):
            group = "qualification" if criterion in qualification else "compliance"
            result[bidder][group].append(criterion)
    return result


# --------------------------------------------------------------------------- scores


def parse_points(text: object, maximum: Decimal) -> Decimal:
    """A score typed by a member: a number in 0..maximum with at most 2 decimals (MOF87 Art. 64)."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValidationError(
            "the score must be a number, not {text!r}", field="points", text=text
        ) from None
    if not value.is_finite():
        raise ValidationError("the score must be a number, not {text!r}", field="points", text=text)
    if not Decimal(0) <= value <= maximum:
        raise ValidationError(
            "the score must lie in 0–{maximum}, not {value}",
            field="points",
            maximum=maximum,
            value=value,
        )
    if value != value.quantize(Decimal("0.01")):
        raise ValidationError("a score has at most 2 decimals", field="points")
    return value


async def record_score(
    actor: Actor,
    lot_id: int,
    bidder_id: int,
    criterion: str,
    points: object,
    *,
    comment: str = "",
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    """Record one score; a score at either extreme needs a comment saying why (RULES §5.1)."""
    seat = await _seat(actor, lot_id)
    await _work_lot(lot_id)
    if seat.scores_submitted_at is not None:
        raise Conflict("your scores are submitted and final; the leader corrects errors")
    verdicts = await committee_verdicts(lot_id)
    if verdicts is None:
        raise Conflict("scoring starts when every member has submitted the verdicts")
    if bidder_id not in verdicts:
        raise NotFound("no opened bid of bidder {bidder} in this lot", bidder=bidder_id)
    failed = verdicts[bidder_id]
    if failed["qualification"] or failed["compliance"]:
        raise Conflict("this bid was ruled non-compliant by the committee and is not scored")
    scheme = await scheme_of(lot_id)
    criteria = {c.id: c for c in scheme.expert_criteria}
    if criterion not in criteria:
        raise ValidationError(
            "{criterion!r} is not a criterion the experts score",
            field="criterion",
            criterion=criterion,
        )
    maximum = criteria[criterion].max_points
    value = parse_points(points, maximum)
    comment = comment.strip()
    if value in (Decimal(0), maximum) and not comment:
        raise ValidationError(
            "a score of {value} is at the end of the range 0–{maximum}; say why in a comment",
            field="comment",
            value=value,
            maximum=maximum,
        )
    async with transaction(Score._meta.db):
        await Score.delete().where(
            (Score.seat == seat.id) & (Score.bidder == bidder_id) & (Score.criterion == criterion)
        )
        await Score(
            lot=lot_id,
            seat=seat.id,
            bidder=bidder_id,
            criterion=criterion,
            points=str(value),
            comment=comment,
            recorded_at=clock.now(),
        ).save()


async def my_sheet(actor: Actor, lot_id: int) -> dict[str, Any]:
    """A member's own verdicts and scores (never another member's before all submit)."""
    seat = await _seat(actor, lot_id)
    verdicts = await Verdict.select(
        Verdict.bidder, Verdict.criterion, Verdict.passed, Verdict.reason
    ).where(Verdict.seat == seat.id)
    scores = await Score.select(Score.bidder, Score.criterion, Score.points, Score.comment).where(
        Score.seat == seat.id
    )
    return {
        "verdicts": {(int(v["bidder"]), v["criterion"]): v for v in verdicts},
        "scores": {(int(s["bidder"]), s["criterion"]): s for s in scores},
    }


async def checklist(actor: Actor, lot_id: int) -> dict[str, Any]:
    """What this member still has to do, item by item (the workspace's checklist)."""
    seat = await _seat(actor, lot_id)
    scheme = await scheme_of(lot_id)
    bids = await opened_bids(lot_id)
    sheet = await my_sheet(actor, lot_id)
    names = {int(b["bidder"]): b["name"] for b in bids}
    verdicts_left = [
        f"{names[int(b['bidder'])]}: {c.id}"
        for b in bids
        for c in (*scheme.qualification, *scheme.compliance)
        if (int(b["bidder"]), c.id) not in sheet["verdicts"]
    ]
    committee_view = await committee_verdicts(lot_id)
    scores_left: list[str] = []
    if committee_view is not None:
        scores_left = [
            f"{names[b]}: {c.id}"
            for b, v in committee_view.items()
            if not v["qualification"] and not v["compliance"]
            for c in scheme.expert_criteria
            if (b, c.id) not in sheet["scores"]
        ]
    return {
        "verdicts_left": verdicts_left,
        "verdicts_submitted": seat.verdicts_submitted_at is not None,
        "scoring_open": committee_view is not None,
        "scores_left": scores_left,
        "scores_submitted": seat.scores_submitted_at is not None,
        "signed": seat.signed_at is not None,
    }


async def submit_scores(actor: Actor, lot_id: int, *, clock: Clock = SYSTEM_CLOCK) -> str:
    """Submit a member's scores, final; the last submission aggregates (returns the stage)."""
    seat = await _seat(actor, lot_id)
    await _work_lot(lot_id)
    if seat.scores_submitted_at is not None:
        raise Conflict("your scores are already submitted and final")
    state = await checklist(actor, lot_id)
    if not state["scoring_open"]:
        raise Conflict("scoring starts when every member has submitted the verdicts")
    if state["scores_left"]:
        left = state["scores_left"]
        raise ValidationError(
            "{count} scores are still to enter: {items}", count=len(left), items=", ".join(left[:5])
        )
    await CommitteeSeat.update({CommitteeSeat.scores_submitted_at: clock.now()}).where(
        CommitteeSeat.id == seat.id
    )
    await audit.record(
        "evaluation.scores_submitted",
        actor=actor,
        subject_type="lot",
        subject_id=lot_id,
        clock=clock,
    )
    seats = await committee(lot_id)
    if all(s["scores_submitted_at"] is not None for s in seats):
        return await aggregate_lot(lot_id, clock=clock)
    return "scoring"


async def progress(lot_id: int) -> dict[str, Any]:
    """Each member's progress as counts, never values (for the supervisor's live view)."""
    scheme = await scheme_of(lot_id)
    bids = await opened_bids(lot_id)
    pass_fail = len(scheme.qualification) + len(scheme.compliance)
    verdicts = await committee_verdicts(lot_id)
    passed = (
        [b for b, v in verdicts.items() if not v["qualification"] and not v["compliance"]]
        if verdicts is not None
        else []
    )
    members = []
    for seat in await committee(lot_id):
        members.append(
            {
                "name": seat["name"],
                "leader": seat["leader"],
                "verdicts": await Verdict.count().where(Verdict.seat == seat["id"]),
                "verdicts_total": pass_fail * len(bids),
                "scores": await Score.count().where(Score.seat == seat["id"]),
                "scores_total": len(scheme.expert_criteria) * len(passed),
                "verdicts_submitted": seat["verdicts_submitted_at"] is not None,
                "scores_submitted": seat["scores_submitted_at"] is not None,
                "signed": seat["signed_at"] is not None,
            }
        )
    outcome = await Outcome.select(Outcome.stage).where(Outcome.lot == lot_id).first()
    return {
        "lot_id": lot_id,
        "members": members,
        "stage": outcome["stage"] if outcome else "scoring",
    }


# --------------------------------------------------------------------------- aggregation


async def _inputs(
    lot_id: int,
) -> tuple[list[Bid], list[Bid], dict[str, dict[str, dict[str, Decimal]]]]:
    """Bids taking part, bids rejected for an unjustified low price, corrected scores."""
    verdicts = await committee_verdicts(lot_id) or {}
    bids: list[Bid] = []
    rejected: list[Bid] = []
    for row in await opened_bids(lot_id):
        bidder = int(row["bidder"])
        failed = verdicts.get(bidder, {"qualification": [], "compliance": []})
        review = (
            await Review.objects()
            .where(
                (Review.lot == lot_id)
                & (Review.kind == "low_price")
                & (Review.key == str(bidder))
                & (Review.resolution == "rejected")
            )
            .first()
        )
        bid = Bid(
            bidder=str(bidder),
            price=fen_to_yuan(int(row["declared_price_fen"])),
            preference=_preference(row["size"]),
            failed_qualification=tuple(failed["qualification"]),
            failed_compliance=tuple(failed["compliance"]),
        )
        (rejected if review else bids).append(bid)
    scores: dict[str, dict[str, dict[str, Decimal]]] = {}
    for row in await Score.select(Score.bidder, Score.seat, Score.criterion, Score.points).where(
        Score.lot == lot_id
    ):
        sheet = scores.setdefault(str(row["bidder"]), {}).setdefault(str(row["seat"]), {})
        sheet[row["criterion"]] = Decimal(row["points"])
    corrections = [
        ScoreCorrection(
            str(c["seat"]),
            str(c["bidder"]),
            c["criterion"],
            Decimal(c["new_points"]),
            CorrectionReason(c["reason"]),
            c["note"],
        )
        for c in await Correction.select().where(Correction.lot == lot_id).order_by(Correction.id)
    ]
    scheme = await scheme_of(lot_id)
    return bids, rejected, apply_corrections(scores, corrections, scheme)


async def _evaluate(lot_id: int) -> tuple[EvaluationResult, ScoringScheme, Mapping[str, Any]]:
    lot = await get_lot(lot_id)
    scheme = await scheme_of(lot_id)
    bids, rejected, scores = await _inputs(lot_id)
    ceiling = fen_to_yuan(lot.ceiling_price_fen) if lot.ceiling_price_fen else None
    result = evaluate(
        bids,
        scores,
        scheme,
        budget=fen_to_yuan(lot.budget_fen),
        ceiling=ceiling,
        rng=random.Random(await draw_seed(lot_id)),  # noqa: S311 - reproducible, not secret
    )
    if rejected:  # MOF87 Art. 60: an unjustified abnormally low price → invalid bid
        excluded = tuple(
            BidderResult(
                bid.bidder,
                bid.price,
                evaluation_price(
                    bid.price,
                    scheme.deduction_for(bid.preference) > 0,
                    scheme.deduction_for(bid.preference),
                ),
                Exclusion(ExclusionReason.ABNORMALLY_LOW, "abnormally low price not justified"),
            )
            for bid in rejected
        )
        result = replace(result, results=result.results + excluded)
    return result, scheme, scores


async def draw_seed(lot_id: int) -> int:
    """The seed of a tie-breaking draw (RULES §5.1 ``ThirdTieBreak.DRAW``).

    SHA-256 over the lot id and every opened bid's ciphertext hash: fixed once the bids are
    in (so any re-aggregation draws the same order, and anyone holding the opening record can
    reproduce it), and unknown to any single bidder beforehand.
    """
    rows = await BidFile.select(BidFile.sha256).where(
        BidFile.bid.is_in([int(b["bid"]) for b in await opened_bids(lot_id)] or [0])
    )
    material = ":".join([str(lot_id), *sorted(r["sha256"] for r in rows)])
    return int.from_bytes(hashlib.sha256(material.encode()).digest()[:8], "big")


def _result_json(result: EvaluationResult) -> dict[str, Any]:
    def row(r: BidderResult) -> dict[str, Any]:
        return {
            "bidder": r.bidder,
            "price": str(r.price),
            "evaluation_price": str(r.evaluation_price),
            "exclusion": (
                {
                    "reason": r.exclusion.reason.value,
                    "detail": r.exclusion.detail,
                    "criteria": list(r.exclusion.criteria),
                    "limit": None if r.exclusion.limit is None else str(r.exclusion.limit),
                }
                if r.exclusion
                else None
            ),
            "price_points": None if r.price_points is None else str(r.price_points),
            "criterion_scores": {k: str(v) for k, v in r.criterion_scores.items()},
            "technical": None if r.technical is None else str(r.technical),
            "commercial": None if r.commercial is None else str(r.commercial),
            "total": None if r.total is None else str(r.total),
            "rank": r.rank,
            "tied": r.tied,
        }

    recommended = result.recommended
    return {
        "results": [row(r) for r in result.results],
        "failure_reason": result.failure_reason.value if result.failure_reason else None,
        "recommended": recommended.bidder if recommended else None,
        "candidates": [c.bidder for c in result.candidates()],
    }


async def aggregate_lot(lot_id: int, *, clock: Clock = SYSTEM_CLOCK) -> str:
    """Aggregate the submitted scores, raise the review flags and store the result.

    Deviation flags (RULES §5.1: 评分畸高、畸低) and abnormally low prices (MOF87 Art. 60)
    become review items the committee resolves before signing. A failed evaluation (too few
    valid bids, all over budget: GPL Art. 36) fails the lot and publishes the notice.
    """
    result, scheme, scores = await _evaluate(lot_id)
    async with transaction(Outcome._meta.db):
        existing = await Outcome.objects().where(Outcome.lot == lot_id).first()
        if existing is not None and existing.stage != Stage.REVIEW:
            raise _already(existing.stage)
        payload = json.dumps(_result_json(result), ensure_ascii=False)
        if existing is None:
            await Outcome(
                lot=lot_id, stage=Stage.REVIEW, result=payload, computed_at=clock.now()
            ).save()
        else:
            await Outcome.update({Outcome.result: payload, Outcome.computed_at: clock.now()}).where(
                Outcome.id == existing.id
            )
        if result.failed:
            await Outcome.update({Outcome.stage: Stage.FAILED}).where(Outcome.lot == lot_id)
    if result.failed:
        assert result.failure_reason is not None  # noqa: S101 - failed means a reason
        await record_failure(lot_id, result.failure_reason, clock=clock)
        return Stage.FAILED
    for flag in deviation_flags(scores, scheme):
        await _flag(
            lot_id,
            "deviation",
            f"{flag.expert}:{flag.bidder}:{flag.criterion}",
            deviation_note(flag),
        )
    lot = await get_lot(lot_id)
    limit_fen = lot.ceiling_price_fen or lot.budget_fen
    prices = {r.bidder: r.price for r in result.ranking}
    for low in abnormally_low_flags(prices, limit=fen_to_yuan(limit_fen)):
        await _flag(lot_id, "low_price", low.bidder, low_price_note(low))
    await audit.record(
        "evaluation.aggregated",
        subject_type="lot",
        subject_id=lot_id,
        payload={"recommended": _result_json(result)["recommended"]},
        clock=clock,
    )
    return Stage.REVIEW


def _already(stage: str) -> Conflict:
    """The evaluation has moved past the review: one sentence per stage."""
    if stage == Stage.SIGNED:
        return Conflict("the evaluation is already signed")
    if stage == Stage.AWARDED:
        return Conflict("the evaluation is already awarded")
    return Conflict("the evaluation is already failed")


async def _flag(lot_id: int, kind: str, key: str, note: ReviewNote) -> None:
    exists = await Review.exists().where(
        (Review.lot == lot_id) & (Review.kind == kind) & (Review.key == key)
    )
    if not exists:
        stored = json.dumps({"template": note.template, "values": note.params}, ensure_ascii=False)
        await Review(lot=lot_id, kind=kind, key=key, detail=str(note), note=stored).save()


@functools.cache
def chinese_gettext() -> Callable[[str], str]:
    """Chinese for what is sent where no page language applies (email, SMS notifications)."""
    return Translator([Path(procurement.__file__).parent, Path(__file__).parent]).gettext("zh")


def review_detail(item: Mapping[str, Any], gettext: Callable[[str], str]) -> str:
    """A review item's detail in the reader's language; an item stored without a note as is."""
    if not item.get("note"):
        return str(item["detail"])
    stored = json.loads(item["note"])
    return ReviewNote(stored["template"], **stored["values"]).localized(gettext)


async def reviews(lot_id: int) -> list[dict[str, Any]]:
    """The flagged items and their resolutions, oldest first."""
    return await Review.select().where(Review.lot == lot_id).order_by(Review.id)


async def _leader(actor: Actor, lot_id: int) -> CommitteeSeat:
    seat = await _seat(actor, lot_id)
    if not seat.leader:
        raise Forbidden("only the committee leader (评标委员会组长) may do this")
    return seat


async def _review_stage(lot_id: int) -> Outcome:
    outcome = await Outcome.objects().where(Outcome.lot == lot_id).first()
    if outcome is None:
        raise Conflict("the review starts when every member has submitted the scores")
    if outcome.stage == Stage.SIGNED:
        raise Conflict("the evaluation report is signed; nothing can change now")
    if outcome.stage == Stage.AWARDED:
        raise Conflict("the evaluation report is awarded; nothing can change now")
    if outcome.stage != Stage.REVIEW:
        raise Conflict("the evaluation report is failed; nothing can change now")
    return outcome


async def correct_score(
    actor: Actor,
    lot_id: int,
    *,
    seat_id: int,
    bidder_id: int,
    criterion: str,
    points: object,
    reason: str,
    note: str,
    clock: Clock = SYSTEM_CLOCK,
) -> str:
    """The leader corrects a submitted score for a ground MOF87 Art. 64 allows; audited."""
    await _leader(actor, lot_id)
    await _review_stage(lot_id)
    try:
        ground = CorrectionReason(reason)
    except ValueError:
        raise ValidationError(
            "a score may be corrected only for: {allowed} (MOF87 Art. 64)",
            field="reason",
            allowed=", ".join(r.value for r in CorrectionReason),
        ) from None
    scheme = await scheme_of(lot_id)
    criteria = {c.id: c for c in scheme.expert_criteria}
    if criterion not in criteria:
        raise ValidationError(
            "{criterion!r} is not a criterion the experts score", criterion=criterion
        )
    value = parse_points(points, criteria[criterion].max_points)
    _, _, scores = await _inputs(lot_id)
    old = scores.get(str(bidder_id), {}).get(str(seat_id), {}).get(criterion)
    if old is None:
        raise NotFound("there is no such submitted score")
    correction = ScoreCorrection(str(seat_id), str(bidder_id), criterion, value, ground, note)
    apply_corrections(scores, [correction], scheme)  # the rule's own checks
    async with transaction(Correction._meta.db):
        await Correction(
            lot=lot_id,
            seat=seat_id,
            bidder=bidder_id,
            criterion=criterion,
            old_points=str(old),
            new_points=str(value),
            reason=ground.value,
            note=note.strip(),
            corrected_by=actor.user_id,
            corrected_at=clock.now(),
        ).save()
        await audit.record(
            "evaluation.score_corrected",
            actor=actor,
            subject_type="lot",
            subject_id=lot_id,
            payload={
                "seat": seat_id,
                "bidder": bidder_id,
                "criterion": criterion,
                "old": str(old),
                "new": str(value),
                "reason": ground.value,
                "note": note.strip(),
            },
            clock=clock,
        )
    return await aggregate_lot(lot_id, clock=clock)


async def resolve_review(
    actor: Actor,
    lot_id: int,
    review_id: int,
    *,
    resolution: str,
    explanation: str = "",
    clock: Clock = SYSTEM_CLOCK,
) -> str:
    """The leader resolves a flagged item, in writing.

    A deviation is "kept" (the committee confirms the score) or "corrected" (after
    :func:`correct_score`). An abnormally low price needs the bidder's written explanation
    (MOF87 Art. 60) and is "accepted" or "rejected"; a rejected bid is treated as
    non-compliant and the lot is aggregated again.
    """
    await _leader(actor, lot_id)
    await _review_stage(lot_id)
    review = await Review.objects().where((Review.id == review_id) & (Review.lot == lot_id)).first()
    if review is None:
        raise NotFound("no review item {review} in this lot", review=review_id)
    allowed = {"deviation": {"kept", "corrected"}, "low_price": {"accepted", "rejected"}}
    if resolution not in allowed[review.kind]:
        if review.kind == "deviation":
            raise ValidationError(
                "resolve this item as one of: corrected, kept", field="resolution"
            )
        raise ValidationError("resolve this item as one of: accepted, rejected", field="resolution")
    explanation = explanation.strip()
    if not explanation:
        raise ValidationError("record the committee's reason", field="explanation")
    if review.kind == "low_price":
        if not review.explanation:
            raise Conflict("the bidder's written explanation is needed first (MOF87 Art. 60)")
        explanation = f"{review.explanation}\n— {explanation}"
    await Review.update(
        {
            Review.resolution: resolution,
            Review.explanation: explanation,
            Review.resolved_by: actor.user_id,
            Review.resolved_at: clock.now(),
        }
    ).where(Review.id == review_id)
    await audit.record(
        "evaluation.review_resolved",
        actor=actor,
        subject_type="lot",
        subject_id=lot_id,
        payload={"review": review_id, "kind": review.kind, "resolution": resolution},
        clock=clock,
    )
    if review.kind == "low_price":
        return await aggregate_lot(lot_id, clock=clock)
    return Stage.REVIEW


async def request_explanation(
    actor: Actor, lot_id: int, review_id: int, *, clock: Clock = SYSTEM_CLOCK
) -> None:
    """Ask the bidder of an abnormally low price to explain it in writing (MOF87 Art. 60)."""
    from procurement.notifications import notify_many

    await _leader(actor, lot_id)
    await _review_stage(lot_id)
    review = await Review.objects().where((Review.id == review_id) & (Review.lot == lot_id)).first()
    if review is None or review.kind != "low_price":
        raise NotFound("no abnormally-low-price item {review} in this lot", review=review_id)
    users = await User.select(User.id).where(User.organisation == int(review.key))
    # sent by email or SMS as well, where no page language applies: Chinese, then English
    chinese = review_detail({"detail": review.detail, "note": review.note}, chinese_gettext())
    await notify_many(
        [int(u["id"]) for u in users],
        kind="evaluation.low_price",
        title="请就异常低价作出书面说明 (explain your abnormally low price in writing)",
        body=f"{chinese}\n{review.detail}",
        dedupe_prefix=f"low-price:{review_id}",
        clock=clock,
    )
    await audit.record(
        "evaluation.explanation_requested",
        actor=actor,
        subject_type="lot",
        subject_id=lot_id,
        payload={"review": review_id, "bidder": review.key},
        clock=clock,
    )


MAX_EXPLANATION = 5000
"""Characters of a bidder's written explanation kept on the review item."""


async def explain_low_price(
    actor: Actor, lot_id: int, text: str, *, clock: Clock = SYSTEM_CLOCK
) -> None:
    """The bidder of a flagged price answers in writing (MOF87 Art. 60), before the decision."""
    await _review_stage(lot_id)
    text = text.strip()
    if not text or len(text) > MAX_EXPLANATION:
        raise ValidationError(
            "write the explanation (1–{maximum} characters)",
            field="explanation",
            maximum=MAX_EXPLANATION,
        )
    review = (
        await Review.objects()
        .where(
            (Review.lot == lot_id)
            & (Review.kind == "low_price")
            & (Review.key == str(actor.organisation_id or 0))
        )
        .first()
    )
    if review is None or actor.role is not Role.BIDDER:
        raise NotFound("your price in this lot was not flagged for explanation")
    if review.resolution:
        raise Conflict("the committee has already decided on your price")
    await Review.update({Review.explanation: text}).where(Review.id == review.id)
    await audit.record(
        "evaluation.low_price_explained",
        actor=actor,
        subject_type="lot",
        subject_id=lot_id,
        payload={"review": review.id},
        clock=clock,
    )


# --------------------------------------------------------------------------- report


async def sign_report(actor: Actor, lot_id: int, *, clock: Clock = SYSTEM_CLOCK) -> str:
    """A member signs the report (签字确认); when all have signed it is final (MOF87 Art. 62).

    Signing needs every flagged item resolved. Returns the stage.
    """
    seat = await _seat(actor, lot_id)
    await _review_stage(lot_id)
    if seat.signed_at is not None:
        raise Conflict("you have already signed the report")
    if await Review.exists().where((Review.lot == lot_id) & (Review.resolution == "")):
        raise Conflict("every flagged item must be resolved before the report is signed")
    await CommitteeSeat.update({CommitteeSeat.signed_at: clock.now()}).where(
        CommitteeSeat.id == seat.id
    )
    await audit.record(
        "evaluation.report_signed", actor=actor, subject_type="lot", subject_id=lot_id, clock=clock
    )
    if any(s["signed_at"] is None for s in await committee(lot_id)):
        return Stage.REVIEW
    await Outcome.update({Outcome.stage: Stage.SIGNED, Outcome.signed_at: clock.now()}).where(
        Outcome.lot == lot_id
    )
    return Stage.SIGNED


async def lots_with_report(lot_ids: Sequence[int]) -> set[int]:
    """Which of the lots have an evaluation report: every member has submitted (an Outcome)."""
    if not lot_ids:
        return set()
    rows = await Outcome.select(Outcome.lot).where(Outcome.lot.is_in(list(lot_ids)))
    return {int(row["lot"]) for row in rows}


async def report(lot_id: int) -> dict[str, Any]:
    """Everything the evaluation report (评标报告) states, from the stored data."""
    outcome = await Outcome.objects().where(Outcome.lot == lot_id).first()
    if outcome is None:
        raise NotFound("the evaluation report exists once every member has submitted")
    lot = await get_lot(lot_id)
    project = await get_project(lot.project)
    seats = await committee(lot_id)
    bids = await opened_bids(lot_id)
    names = {str(b["bidder"]): b for b in bids}
    seat_names = {s["id"]: s["name"] for s in seats}
    verdicts = (
        await Verdict.select(
            Verdict.seat, Verdict.bidder, Verdict.criterion, Verdict.passed, Verdict.reason
        )
        .where(Verdict.lot == lot_id)
        .order_by(Verdict.bidder, Verdict.criterion, Verdict.seat)
    )
    scores = (
        await Score.select(Score.seat, Score.bidder, Score.criterion, Score.points, Score.comment)
        .where(Score.lot == lot_id)
        .order_by(Score.bidder)
    )
    corrections = await Correction.select().where(Correction.lot == lot_id).order_by(Correction.id)
    result = json.loads(outcome.result)
    for row in result.get("results", []):
        for key in ("price", "evaluation_price"):
            row[key] = f"{round_half_up(Decimal(row[key])):,.2f}"
    return {
        "lot": lot,
        "project": project,
        "stage": outcome.stage,
        "signed_at": outcome.signed_at,
        "committee": seats,
        "seat_names": seat_names,
        "bidders": names,
        "scheme": await scheme_json(lot_id),
        "verdicts": verdicts,
        "scores": scores,
        "corrections": corrections,
        "reviews": _labelled(await reviews(lot_id), seat_names, names),
        "verdict_matrix": _verdict_matrix(seats, verdicts),
        "result": result,
        "score_matrix": _score_matrix(seats, scores, result),
        "award_deviation": outcome.award_deviation,
    }


def _labelled(
    items: list[dict[str, Any]],
    seat_names: Mapping[int, str],
    bidders: Mapping[str, Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Review items with a readable label: member, bidder and criterion instead of ids."""
    for item in items:
        parts = item["key"].split(":")
        if item["kind"] == "deviation" and len(parts) == 3:
            seat, bidder, criterion = parts
            name = bidders.get(bidder, {}).get("name", bidder)
            item["label"] = f"{seat_names.get(int(seat), seat)} · {name} · {criterion}"
        else:
            item["label"] = bidders.get(item["key"], {}).get("name", item["key"])
    return items


def _verdict_matrix(
    seats: Sequence[Mapping[str, Any]], verdicts: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Rows of (bidder, criterion) with each member's verdict in seat order."""
    by_key = {(str(v["bidder"]), v["criterion"], v["seat"]): v for v in verdicts}
    keys = sorted({(str(v["bidder"]), v["criterion"]) for v in verdicts})
    return [
        {
            "bidder": bidder,
            "criterion": criterion,
            "cells": [by_key.get((bidder, criterion, seat["id"])) for seat in seats],
        }
        for bidder, criterion in keys
    ]


def _score_matrix(
    seats: Sequence[Mapping[str, Any]],
    scores: Sequence[Mapping[str, Any]],
    result: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Rows of (bidder, criterion) with each member's score in seat order and the mean."""
    by_key = {(str(s["bidder"]), s["criterion"], s["seat"]): s for s in scores}
    criteria = sorted({s["criterion"] for s in scores})
    rows = []
    for r in result.get("results", []):
        for criterion in criteria:
            cells = [by_key.get((r["bidder"], criterion, seat["id"])) for seat in seats]
            if any(cells):
                rows.append(
                    {
                        "bidder": r["bidder"],
                        "criterion": criterion,
                        "cells": cells,
                        "mean": r["criterion_scores"].get(criterion, ""),
                    }
                )
    return rows


# --------------------------------------------------------------------------- award


async def _fail(lot_id: int, reason: FailureReason, valid: int, clock: Clock) -> None:
    """Fail the lot after the pass/fail checks: too few compliant bids (GPL Art. 36)."""
    async with transaction(Outcome._meta.db):
        await Outcome(
            lot=lot_id,
            stage=Stage.FAILED,
            result=json.dumps({"failure_reason": reason.value, "valid": valid}),
            computed_at=clock.now(),
        ).save()
        await record_failure(
            lot_id,
            reason,
            clock=clock,
            explanation=f"经资格性和符合性审查，{valid}家投标有效。"
            f" ({valid} bids passed the checks.)",
        )


async def confirm_award(
    actor: Actor,
    lot_id: int,
    *,
    bidder_id: int | None = None,
    deviation_reason: str = "",
    contract_amount: Decimal | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> int:
    """The purchaser confirms the first candidate, or another with a reason (MOF87 Art. 68).

    Only from the signed report; the award notice states winner, amount, committee and the
    scores summary (MOF87 Art. 69). Returns the notice id.
    """
    lot = await get_lot(lot_id)
    project = await get_project(lot.project)
    ensure_purchaser_owns(actor, project)
    outcome = await Outcome.objects().where(Outcome.lot == lot_id).first()
    if outcome is None or outcome.stage != Stage.SIGNED:
        raise Conflict("this lot is not evaluated: the report must be signed by every member")
    data = json.loads(outcome.result)
    candidates: list[str] = data["candidates"]
    recommended = data["recommended"]
    chosen = str(bidder_id) if bidder_id is not None else recommended
    if chosen is None:
        raise ValidationError(
            "first place is tied; choose the winner by the documents' rule and say why",
            field="bidder_id",
        )
    deviation_reason = deviation_reason.strip()
    if chosen != recommended:
        if chosen not in candidates:
            raise ValidationError("the winner must be one of the recommended candidates")
        if not deviation_reason:
            raise ValidationError(
                "choosing another candidate than the first needs a reason (MOF87 Art. 68)",
                field="deviation_reason",
            )
    row = next(r for r in data["results"] if r["bidder"] == chosen)
    award = Decimal(row["price"])
    if contract_amount is not None and contract_amount <= 0:
        raise ValidationError("the contract amount must be positive", field="contract_amount")
    savings = lot_savings(
        fen_to_yuan(lot.reserve_price_fen or lot.budget_fen),
        award,
        reference=SavingsReference.RESERVE_PRICE
        if lot.reserve_price_fen
        else SavingsReference.BUDGET,
    )
    body, body_en = await _award_text(lot, project, data, chosen, award, savings.rate_display)
    async with transaction(Outcome._meta.db):
        notice = await record_award(
            lot_id,
            supplier_id=int(chosen),
            award_amount_fen=yuan_to_fen(award),
            contract_amount_fen=yuan_to_fen(contract_amount) if contract_amount else None,
            actor=actor,
            clock=clock,
            notice_body=body,
            notice_body_en=body_en,
        )
        await Outcome.update(
            {
                Outcome.stage: Stage.AWARDED,
                Outcome.award_deviation: deviation_reason,
                Outcome.decided_at: clock.now(),
            }
        ).where(Outcome.id == outcome.id)
        await audit.record(
            "evaluation.award_confirmed",
            actor=actor,
            subject_type="lot",
            subject_id=lot_id,
            payload={"bidder": chosen, "deviation": deviation_reason},
            clock=clock,
        )
    return notice


async def _award_text(
    lot: Any, project: Any, data: Mapping[str, Any], chosen: str, award: Decimal, rate: str
) -> tuple[str, str]:
    org = await Organisation.objects().where(Organisation.id == int(chosen)).first()
    assert org is not None  # noqa: S101 - a bidder of the lot
    seats = await committee(lot.id)
    members = "、".join(s["name"] for s in seats)
    names = {
        str(o["id"]): (o["name"], o["name_en"] or o["name"])
        for o in await Organisation.select(
            Organisation.id, Organisation.name, Organisation.name_en
        ).where(Organisation.id.is_in([int(r["bidder"]) for r in data["results"]]))
    }
    lines_zh, lines_en = [], []
    for r in data["results"]:
        zh, en = names[r["bidder"]]
        if r["rank"] is not None:
            total = r["total"] or r["evaluation_price"]
            lines_zh.append(
                f"第{r['rank']}名 {zh}：报价 {Decimal(r['price']):,.2f} 元，得分 {total}"
            )
            lines_en.append(
                f"Rank {r['rank']} {en}: price {Decimal(r['price']):,.2f} yuan, score {total}"
            )
    amount = f"{award:,.2f}"
    body = (
        f"项目编号：{project.code}\n标段：{lot.number}. {lot.title}\n"
        f"中标供应商：{org.name}\n中标金额：{amount} 元\n节约率：{rate}\n"
        f"评标委员会成员：{members}\n评审得分：\n" + "\n".join(lines_zh)
    )
    body_en = (
        f"Project: {project.code}\nLot: {lot.number}. {lot.title_en or lot.title}\n"
        f"Winner: {org.name_en or org.name}\nAward amount: {amount} yuan\nSavings rate: {rate}\n"
        f"Evaluation committee: {members}\nScores:\n" + "\n".join(lines_en)
    )
    return body, body_en


def result_published(status: str) -> bool:
    """A bidder's own result is published with the award (GPL-R Art. 43)."""
    return status == LotStatus.AWARDED


async def _own_opening_records(actor: Actor | None, lot_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The opening records of the actor's organisation's bids in the lots (bidders only)."""
    if actor is None or actor.role is not Role.BIDDER or actor.organisation_id is None:
        return []
    if not lot_ids:
        return []
    return await OpeningRecord.select(
        OpeningRecord.lot,
        OpeningRecord.outcome,
        OpeningRecord.cause,
        OpeningRecord.reason,
        OpeningRecord.declared_price_fen,
    ).where(
        OpeningRecord.lot.is_in(list(lot_ids)) & (OpeningRecord.bidder == actor.organisation_id)
    )


async def lots_bid_on(actor: Actor | None, lot_ids: Sequence[int]) -> set[int]:
    """Which of the lots the actor's organisation bid on: its bid is in the opening record."""
    return {int(row["lot"]) for row in await _own_opening_records(actor, lot_ids)}


async def my_result(actor: Actor, lot_id: int) -> dict[str, Any]:
    """A bidder's own result, after the award (GPL-R Art. 43; complaints from then).

    Every bidder whose bid is in the opening record gets one: its scores and rank when a
    committee scored the lot, otherwise (a price inquiry, or a bid not opened or not
    evaluated) what the opening recorded and whether it won, with no scores.
    """
    lot = await get_lot(lot_id)
    if not result_published(lot.status):
        raise NotFound("your scores are published with the award")
    records = await _own_opening_records(actor, [lot_id])
    if not records:
        raise NotFound("your organisation did not bid in this lot")
    record = records[0]
    opened = await OpeningRecord.count().where(
        (OpeningRecord.lot == lot_id) & (OpeningRecord.outcome == "opened")
    )
    declared = record["declared_price_fen"]
    base: dict[str, Any] = {
        "lot_id": lot_id,
        "won": lot.awarded_supplier is not None and lot.awarded_supplier == actor.organisation_id,
        "opening_outcome": record["outcome"],
        "opening_cause": record["cause"],
        "opening_reason": record["reason"],
        "evaluated": False,
        "bidder": str(actor.organisation_id),
        "price": None if declared is None else str(fen_to_yuan(declared)),
        "evaluation_price": None,
        "exclusion": None,
        "price_points": None,
        "criterion_scores": {},
        "technical": None,
        "commercial": None,
        "total": None,
        "rank": None,
        "tied": False,
        "bidders": opened,
    }
    outcome = await Outcome.select(Outcome.result).where(Outcome.lot == lot_id).first()
    results = json.loads(outcome["result"])["results"] if outcome else []
    mine = next((r for r in results if r["bidder"] == str(actor.organisation_id)), None)
    if mine is None:
        return base
    return {**base, **mine, "evaluated": True, "bidders": len(results)}


# --------------------------------------------------------------------------- documents


async def open_document(
    actor: Actor, lot_id: int, file_id: int, *, store: Any, master: bytes
) -> tuple[BidFile, Iterator[bytes]]:
    """Decrypt an opened bid's file for a member of the lot's committee, streaming.

    The same access the purchaser has (bidding.services.open_bid_document): only after the
    opening, only bids opened valid, decrypted on the fly and never stored in clear; each
    reading is audited (ETM Art. 30-31).
    """
    await _seat(actor, lot_id)
    row = await BidFile.objects().where(BidFile.id == file_id).first()
    if row is None:
        raise NotFound("no bid file with id {file}", file=file_id)
    record = await OpeningRecord.objects().where(OpeningRecord.bid == row.bid).first()
    lot = await get_lot(lot_id)
    if record is None or int(record.lot) != lot_id:
        raise NotFound("no opened bid file {file} in this lot", file=file_id)
    if LotStatus(lot.status) not in READABLE_STATES:
        raise Forbidden("bid documents can be read only after the opening")
    if record.outcome != "opened":
        raise Conflict("this bid failed verification at the opening and cannot be read")
    opening = await opening_key_of(lot_id)
    key = unwrap_opening_key(bytes.fromhex(opening.wrapped_private_key), master, str(lot_id))
    await audit.record(
        "bid.document_read",
        actor=actor,
        subject_type="bid_file",
        subject_id=file_id,
        payload={"lot_id": lot_id, "bid_id": row.bid, "as": "evaluator"},
    )
    context = EnvelopeContext(lot_id=str(lot_id), bidder_id=str(record.bidder), kind=row.kind)
    return row, open_sealed(
        store.get(row.object_key), opening_private_key=key, expected_context=context
    )
