"""Contracts (采购合同): the purchaser records the contract it signed for an awarded lot.

The award notice starts the signing period: the purchaser and the winner sign within 30 days
(GPL Art. 46; TBL Art. 46, RULES §2). The contract amount is the quoted price the award was
made on (SME46: the deducted price only takes part in evaluation); a differing amount is
recorded as signed, since the contract is what was signed. The contract is the OCDS contract
stage, and its deadline is an item of the timeliness dashboard until it is recorded.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from procurement import audit
from procurement.clock import CHINA, SYSTEM_CLOCK, Clock
from procurement.contract_tables import Contract
from procurement.db import is_unique_violation, transaction
from procurement.exceptions import Conflict, Forbidden, ValidationError
from procurement.lifecycle import LotStatus
from procurement.money import FEN_PER_YUAN, MAX_YUAN, MoneyError, parse_yuan, yuan_to_fen
from procurement.projects import ensure_purchaser_owns, get_lot, get_project, owns
from procurement.roles import Actor, Role
from procurement.tables import Lot

SIGNING_DAYS = 30
"""Days from the award notice to the signed contract (GPL Art. 46; TBL Art. 46)."""
MAX_AMOUNT_FEN = 10**15
"""Ten trillion yuan: anything larger is a typing error, and stays far inside BIGINT."""


def signing_due(awarded_at: datetime) -> datetime:
    """The end (24:00 CST) of the 30th calendar day after the award notice's CST day."""
    day = awarded_at.astimezone(CHINA).date() + timedelta(days=SIGNING_DAYS)
    return datetime.combine(day + timedelta(days=1), time(), CHINA)


def parse_amount_yuan(text: str) -> int:
    """The contract amount typed in yuan (at most 2 decimals) as integer fen."""
    if not text.strip():
        raise ValidationError("the contract amount is required", field="amount")
    try:
        return yuan_to_fen(parse_yuan(text))
    except MoneyError as exc:
        raise ValidationError("contract amount: {problem}", problem=exc, field="amount") from exc


def parse_amount_fen(value: object) -> int:
    """A JSON ``amount_fen``: an integer number of fen (not text, not a fraction)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            "amount_fen must be a whole number of fen, e.g. 117580000",
            field="amount_fen",
        )
    if abs(value) > MAX_YUAN * FEN_PER_YUAN:  # past it the bigint column overflows
        raise ValidationError("amount_fen is out of range", field="amount_fen")
    return value


def parse_signed_on(value: object) -> date:
    """The signing date as ``YYYY-MM-DD``."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("the signing date is required", field="signed_on")
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationError(
            "the signing date must look like 2026-12-01",
            field="signed_on",
        ) from exc


def check_contract(
    *, status: str, awarded_at: datetime | None, amount_fen: int, signed_on: date, today: date
) -> None:
    """The rules a recorded contract must meet (pure).

    Only an awarded lot has a contract; the amount is positive; the contract is signed on
    or after the day of the award notice (GPL Art. 46: the notice comes first) and not in
    the future (a contract is recorded once signed).
    """
    if LotStatus(status) is not LotStatus.AWARDED or awarded_at is None:
        raise Conflict(
            "this lot is {status}; only an awarded lot has a contract",
            status=LotStatus(status),
        )
    if amount_fen <= 0:
        raise ValidationError("the contract amount must be positive", field="amount")
    if amount_fen > MAX_AMOUNT_FEN:
        raise ValidationError("the contract amount is too large", field="amount")
    award_day = awarded_at.astimezone(CHINA).date()
    if signed_on < award_day:
        raise ValidationError(
            "the contract cannot be signed before the award of {award_day}",
            field="signed_on",
            award_day=award_day,
        )
    if signed_on > today:
        raise ValidationError(
            "the signing date {signed_on} is in the future",
            field="signed_on",
            signed_on=signed_on,
        )


async def record_contract(
    actor: Actor,
    lot_id: int,
    *,
    amount_fen: int,
    signed_on: date,
    clock: Clock = SYSTEM_CLOCK,
) -> int:
    """Record the signed contract of an awarded lot of the actor's unit; return its id.

    One contract per lot: a second one is a Conflict (409), never a silent overwrite. The
    lot's ``contract_amount_fen`` becomes the signed amount; the audit log keeps the entry.
    """
    lot = await get_lot(lot_id)
    ensure_purchaser_owns(actor, await get_project(lot.project))
    now = clock.now()
    check_contract(
        status=lot.status,
        awarded_at=lot.awarded_at,
        amount_fen=amount_fen,
        signed_on=signed_on,
        today=now.astimezone(CHINA).date(),
    )
    try:
        async with transaction(Contract._meta.db):
            if await Contract.exists().where(Contract.lot == lot_id):
                raise Conflict("this lot's contract is already recorded")
            row = Contract(
                lot=lot_id,
                supplier=lot.awarded_supplier,
                amount_fen=amount_fen,
                signed_on=signed_on,
                recorded_by=actor.user_id,
                recorded_at=now,
            )
            await row.save()
            await Lot.update({Lot.contract_amount_fen: amount_fen}).where(Lot.id == lot_id)
            await audit.record(
                "contract.record",
                actor=actor,
                subject_type="lot",
                subject_id=lot_id,
                payload={"amount_fen": amount_fen, "signed_on": signed_on.isoformat()},
                clock=clock,
            )
    except Exception as exc:
        if is_unique_violation(exc):  # a concurrent request recorded it first
            raise Conflict("this lot's contract is already recorded") from exc
        raise
    return int(row.id)


async def contract_of(lot_id: int) -> dict[str, Any] | None:
    """The lot's recorded contract, or None."""
    row = await Contract.select().where(Contract.lot == lot_id).first()
    return dict(row) if row else None


def may_read_contract(actor: Actor | None, purchaser_id: object) -> bool:
    """Who reads a lot's contract: the owning unit's purchasers, supervisors and admins.

    The rule of :func:`contract_view` (page and API), and of the "Contract" lot link.
    """
    if actor is not None and actor.role in {Role.SUPERVISOR, Role.ADMIN}:
        return True
    return owns(actor, purchaser_id)


async def contract_view(actor: Actor, lot_id: int) -> dict[str, Any]:
    """What the contract page and API show: the lot, its award, the due time and the contract.

    A purchaser sees its own unit's lots; supervisors and admins see every lot.
    """
    lot = await get_lot(lot_id)
    project = await get_project(lot.project)
    if not may_read_contract(actor, project.purchaser):
        raise Forbidden("this project belongs to another purchasing unit")
    contract = await contract_of(lot_id)
    due = signing_due(lot.awarded_at) if lot.awarded_at else None
    return {
        "lot_id": lot_id,
        "project_id": int(project.id),
        "purchaser_id": int(project.purchaser),
        "project_code": project.code,
        "project_title": project.title,
        "project_title_en": project.title_en,
        "lot_number": lot.number,
        "lot_title": lot.title,
        "lot_title_en": lot.title_en,
        "status": lot.status,
        "award_amount_fen": lot.award_amount_fen,
        "awarded_supplier_id": lot.awarded_supplier,
        "awarded_at": lot.awarded_at,
        "signing_due": due,
        "signing_last_day": None if due is None else (due - timedelta(days=1)).date(),
        "contract": contract,
        "signed_in_time": (
            None
            if contract is None or due is None
            else datetime.combine(contract["signed_on"], time(), CHINA) < due
        ),
    }
