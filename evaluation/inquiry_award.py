"""Concluding a price inquiry (询价): the lowest compliant quote wins, or the inquiry fails.

After the automatic opening the purchaser has marked every opened quote compliant or not
(:func:`procurement.inquiries.record_verdict`); this service applies the pure rule
(:func:`evaluation.inquiry.select_lowest_quote`: GPL Art. 40, GPL-R Art. 37, MOF74 Art. 48–50)
and records the result on the lot through :mod:`procurement.results`: the award notice with
amount (savings follow from budget and award, RULES §8.3, and count in the monthly
statistics as online inquiries), or termination with the failure notice (TOO_FEW_VALID,
ALL_OVER_BUDGET), after which the purchaser records re-run or change of method.

Equal lowest quotes: the notice sets no rule, so a random draw decides (RULES §7, practice);
the draw's outcome is written to the audit log.

Small and micro firms' quotes are ranked at ``price × (1 − rate)`` when the inquiry sets a
deduction (RULES §6: 10-20 % for goods, SME46 Art. 9, 财库〔2022〕19号); the award amount
stays the quoted price.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bidding.quotes import opened_quotes
from evaluation.inquiry import Quote, select_lowest_quote
from evaluation.scheme import DEFAULT_DEDUCTION_RANGES, percent
from procurement import audit, notifications
from procurement.clock import SYSTEM_CLOCK, Clock
from procurement.db import transaction
from procurement.exceptions import Conflict, ValidationError
from procurement.inquiries import get_inquiry, verdicts_of
from procurement.lifecycle import LotEvent, LotStatus, ProjectCategory
from procurement.money import fen_to_yuan, yuan_to_fen
from procurement.projects import ensure_purchaser_owns, get_lot, get_project, transition_lot
from procurement.results import FAILURE_TEXT, record_award, record_failure
from procurement.roles import Actor, Role
from procurement.tables import Inquiry, Lot, Organisation, User

SMALL_OR_MICRO = frozenset({"small", "micro"})


def deduction_rate(inquiry: Any) -> Decimal:
    """The inquiry's small/micro deduction as a rate (0.10 for "10")."""
    return Decimal(str(inquiry.sme_deduction_percent or "0")) / 100


async def check_deduction_on_publication(*, lot_id: int, **_: Any) -> None:
    """An inquiry is published only with a deduction of 0 or within the legal range.

    Raising aborts the publication's transaction: nothing of the inquiry is written.
    """
    inquiry = await Inquiry.objects().where(Inquiry.lot == lot_id).first()
    if inquiry is None:
        return
    rate = deduction_rate(inquiry)
    allowed = DEFAULT_DEDUCTION_RANGES[ProjectCategory.GOODS].small_or_micro
    if rate != 0 and rate not in allowed:
        raise ValidationError(
            "the small/micro price deduction {rate} % is outside {allowed} "
            "(SME46 Art. 9; 财库〔2022〕19号)",
            field="sme_deduction_percent",
            rate=percent(rate),
            allowed=str(allowed),
        )


@dataclass(frozen=True)
class InquiryOutcome:
    """What the conclusion decided: the winner and amount, or the failure reason."""

    awarded: bool
    supplier_id: int | None
    award_fen: int | None
    saved_fen: int | None
    failure_reason: str
    notice_id: int


async def conclude_inquiry(
    actor: Actor,
    inquiry_id: int,
    *,
    rng: random.Random | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> InquiryOutcome:
    """Award the lowest compliant quote within budget, or terminate the inquiry.

    Raises:
        Forbidden: not the inquiry's purchaser.
        Conflict: before the opening, or already concluded.
        ValidationError: an opened quote without a compliance verdict.
    """
    inquiry = await get_inquiry(inquiry_id)
    project = await get_project(inquiry.project)
    ensure_purchaser_owns(actor, project)
    lot = await get_lot(inquiry.lot)
    status = LotStatus(lot.status)
    if status in {LotStatus.DRAFT, LotStatus.PUBLISHED, LotStatus.BIDDING_CLOSED}:
        raise Conflict("the quotes are not open yet", code="not_opened")
    if status is LotStatus.AWARDED:
        raise Conflict("this inquiry is already concluded (awarded)")
    if status is LotStatus.FAILED:
        raise Conflict("this inquiry is already concluded (failed)")
    if status not in {LotStatus.OPENED, LotStatus.EVALUATING}:
        raise Conflict("this inquiry is already concluded (cancelled)")
    opened = [q for q in await opened_quotes(inquiry_id) if q["outcome"] == "opened"]
    verdicts = await verdicts_of(inquiry_id)
    missing = [str(q["bidder_name"]) for q in opened if int(q["bidder"]) not in verdicts]
    if missing:
        raise ValidationError(
            "mark every quote compliant or not first; missing: {missing}",
            field="verdicts",
            missing=", ".join(missing),
        )
    sizes = {
        int(row["id"]): str(row["enterprise_size"])
        for row in await Organisation.select(Organisation.id, Organisation.enterprise_size).where(
            Organisation.id.is_in([int(q["bidder"]) for q in opened] or [0])
        )
    }
    quotes = [
        Quote(
            supplier=str(q["bidder"]),
            price=fen_to_yuan(int(q["declared_price_fen"])),
            compliant=verdicts[int(q["bidder"])][0],
            non_compliance=verdicts[int(q["bidder"])][1],
            is_small_or_micro=sizes.get(int(q["bidder"])) in SMALL_OR_MICRO,
        )
        for q in opened
    ]
    budget = fen_to_yuan(lot.budget_fen)
    result = select_lowest_quote(
        quotes,
        budget=budget,
        rng=rng or random.SystemRandom(),
        deduction_rate=deduction_rate(inquiry),
    )
    ranking = [
        {"supplier_id": int(r.supplier), "price": str(r.price), "rank": r.rank, "drawn": r.drawn}
        for r in result.ranking
    ]
    async with transaction(Lot._meta.db):
        if status is LotStatus.OPENED:
            await transition_lot(lot.id, LotEvent.START_EVALUATION, actor=actor, clock=clock)
        await audit.record(
            "inquiry.concluded",
            actor=actor,
            subject_type="inquiry",
            subject_id=inquiry_id,
            payload={
                "ranking": ranking,
                "excluded": [
                    {"supplier_id": int(e.quote.supplier), "reason": e.reason.value}
                    for e in result.excluded
                ],
                "failure_reason": result.failure_reason.value if result.failure_reason else None,
            },
            clock=clock,
        )
        winner = result.winner
        if result.failure_reason is not None or winner is None:
            reason = result.failure_reason
            assert reason is not None  # noqa: S101 - no winner means terminated
            zh, en = FAILURE_TEXT[reason]
            notice_id = await record_failure(
                lot.id,
                reason,
                actor=actor,
                clock=clock,
                explanation=f"询价终止：{zh}。 (Price inquiry terminated: {en}.)",
            )
            outcome = InquiryOutcome(False, None, None, None, reason.value, notice_id)
        else:
            award_fen = yuan_to_fen(winner.price)
            notice_id = await record_award(
                lot.id,
                supplier_id=int(winner.supplier),
                award_amount_fen=award_fen,
                actor=actor,
                clock=clock,
                notice_body=await _notice_body(project.code, lot.title, winner.supplier, ranking),
                notice_body_en=await _notice_body(
                    project.code, lot.title_en or lot.title, winner.supplier, ranking, en=True
                ),
            )
            outcome = InquiryOutcome(
                True,
                int(winner.supplier),
                award_fen,
                lot.budget_fen - award_fen,
                "",
                notice_id,
            )
        await _tell_suppliers(inquiry_id, [int(q["bidder"]) for q in opened], project.title)
    return outcome


async def _notice_body(
    code: str, title: str, winner: str, ranking: list[dict[str, Any]], *, en: bool = False
) -> str:
    """The result notice: winner and amount, then every candidate in price order (MOF74 48)."""
    ids = [int(r["supplier_id"]) for r in ranking]
    names = {
        int(r["id"]): (str(r["name_en"] or r["name"]) if en else str(r["name"]))
        for r in await Organisation.select(
            Organisation.id, Organisation.name, Organisation.name_en
        ).where(Organisation.id.is_in(ids or [0]))
    }
    lines = [
        f"{'Project' if en else '项目编号'}: {code}",
        f"{'Price inquiry' if en else '询价项目'}: {title}",
        f"{'Supplier' if en else '成交供应商'}: {names[int(winner)]}",
    ]
    amount = next(Decimal(r["price"]) for r in ranking if r["supplier_id"] == int(winner))
    lines.append(f"{'Award amount' if en else '成交金额'}: {amount:,.2f} {'yuan' if en else '元'}")
    lines.append("Candidates in price order:" if en else "成交候选人（按报价由低到高）：")
    lines += [f"{r['rank']}. {names[r['supplier_id']]} {Decimal(r['price']):,.2f}" for r in ranking]
    return "\n".join(lines)


async def _tell_suppliers(inquiry_id: int, supplier_ids: list[int], title: str) -> None:
    """Every supplier that quoted learns the result (GPL Art. 40: the unsuccessful too)."""
    users = await User.select(User.id).where(
        User.organisation.is_in(supplier_ids or [0]) & (User.role == Role.BIDDER)
    )
    await notifications.notify_many(
        [int(u["id"]) for u in users],
        kind="inquiry.result",
        title=f"询价结果 Price inquiry result: {title}"[:300],
        link=f"/supplier/inquiries/{inquiry_id}",
        dedupe_prefix=f"inquiry:{inquiry_id}:result",
    )


__all__ = ["InquiryOutcome", "conclude_inquiry"]
