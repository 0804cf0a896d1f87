"""A lot's result: the award (winner, amount, contract) or the failure, and its notice.

Evaluation and price inquiry decide; this module records the decision on the lot, moves
the state machine and publishes the award or failure notice (GPL-R Art. 43; GPL Art. 36).
Amounts are exact fen; savings are derived from them, never stored rounded (RULES §8.3).
"""

from __future__ import annotations

from procurement.clock import SYSTEM_CLOCK, Clock
from procurement.db import transaction
from procurement.exceptions import NotFound, ValidationError
from procurement.lifecycle import FailureReason, LotEvent, LotStatus
from procurement.money import fen_to_yuan
from procurement.notices import NoticeKind, publish_notice
from procurement.projects import get_lot, get_project, transition_lot
from procurement.roles import SYSTEM_ACTOR, Actor
from procurement.tables import Lot, Organisation

FAILURE_TEXT = {
    FailureReason.TOO_FEW_BIDS: ("投标人不足3家", "fewer than 3 bids were received"),
    FailureReason.TOO_FEW_VALID: (
        "符合要求的供应商不足3家",
        "fewer than 3 bids met the requirements",
    ),
    FailureReason.ALL_OVER_BUDGET: ("投标报价均超过采购预算", "every price exceeded the budget"),
    FailureReason.IRREGULARITY: (
        "出现影响采购公正的违法违规行为",
        "an irregularity affected the fairness of the procurement",
    ),
    FailureReason.CANCELLED: ("采购任务取消", "the purchase was cancelled"),
}


async def record_award(
    lot_id: int,
    *,
    supplier_id: int,
    award_amount_fen: int,
    contract_amount_fen: int | None = None,
    actor: Actor = SYSTEM_ACTOR,
    clock: Clock = SYSTEM_CLOCK,
    notice_body: str = "",
    notice_body_en: str = "",
) -> int:
    """Record the winner and amount of an evaluated lot and publish the award notice."""
    if award_amount_fen <= 0:
        raise ValidationError("the award amount must be positive", field="award_amount")
    supplier = await Organisation.objects().where(Organisation.id == supplier_id).first()
    if supplier is None:
        raise NotFound("no supplier with id {supplier_id}", supplier_id=supplier_id)
    async with transaction(Lot._meta.db):
        lot = await get_lot(lot_id)
        project = await get_project(lot.project)
        await transition_lot(
            lot_id,
            LotEvent.AWARD,
            actor=actor,
            clock=clock,
            payload={"supplier_id": supplier_id, "award_amount_fen": award_amount_fen},
        )
        await Lot.update(
            {
                Lot.awarded_supplier: supplier_id,
                Lot.award_amount_fen: award_amount_fen,
                Lot.contract_amount_fen: contract_amount_fen or award_amount_fen,
                Lot.awarded_at: clock.now(),
            }
        ).where(Lot.id == lot_id)
        amount = f"{fen_to_yuan(award_amount_fen):,.2f}"
        body = notice_body or (
            f"项目编号：{project.code}\n标段：{lot.number}. {lot.title}\n"
            f"成交供应商：{supplier.name}\n成交金额：{amount} 元"
        )
        body_en = notice_body_en or (
            f"Project: {project.code}\nLot: {lot.number}. {lot.title_en or lot.title}\n"
            f"Supplier: {supplier.name_en or supplier.name}\nAward amount: {amount} yuan"
        )
        return await publish_notice(
            project_id=project.id,
            lot_id=lot_id,
            kind=NoticeKind.AWARD,
            title=f"{project.title} 中标(成交)结果公告",
            title_en=f"{project.title_en or project.title} — award notice",
            body=body,
            body_en=body_en,
            actor=actor,
            clock=clock,
        )


async def record_failure(
    lot_id: int,
    reason: FailureReason,
    *,
    actor: Actor = SYSTEM_ACTOR,
    clock: Clock = SYSTEM_CLOCK,
    explanation: str = "",
) -> int:
    """Fail a lot for ``reason`` and publish the failure notice giving it (GPL Art. 36)."""
    async with transaction(Lot._meta.db):
        lot = await get_lot(lot_id)
        if LotStatus(lot.status) is LotStatus.FAILED:
            raise ValidationError("this lot has already failed")
        project = await get_project(lot.project)
        await transition_lot(
            lot_id,
            LotEvent.FAIL,
            actor=actor,
            clock=clock,
            failure_reason=reason,
            payload={"explanation": explanation},
        )
        zh, en = FAILURE_TEXT[reason]
        return await publish_notice(
            project_id=project.id,
            lot_id=lot_id,
            kind=NoticeKind.FAILURE,
            title=f"{project.title} 废标公告（标段{lot.number}）",
            title_en=f"{project.title_en or project.title} — failure notice (lot {lot.number})",
            body=f"废标原因：{zh}。{explanation}\n采购人将依法重新组织采购。",
            body_en=f"Reason: {en}. {explanation}\nThe purchaser will procure again as the "
            "law requires.",
            actor=actor,
            clock=clock,
        )
