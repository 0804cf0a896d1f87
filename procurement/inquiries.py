"""Price inquiry (询价) use cases: the request (RFQ), invitations, framework agreements, verdicts.

An inquiry is a one-lot project with method ``price_inquiry`` whose lot is platform-sealed:
quotes are sealed bids on that lot (bidding), opened automatically at the deadline, and the
lowest compliant quote wins (evaluation). This module keeps what only an inquiry has: items,
delivery terms, requirements, the invited suppliers and how they were chosen (RULES §7),
framework agreements (协议供货/定点, RULES §1.1), the purchaser's compliance verdicts and,
after a failure, the recorded choice to re-run or change method (MOF74 Art. 50).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from procurement import audit, notifications
from procurement.calendar import WorkingDayCalendar
from procurement.clock import SYSTEM_CLOCK, Clock
from procurement.db import transaction
from procurement.deadlines import TimeLimits, TimelineInvalid, china_date
from procurement.exceptions import Conflict, Forbidden, NotFound, ValidationError
from procurement.inquiry_rules import (
    FollowUp,
    InvitationMode,
    Item,
    check_invited,
    check_items,
    parse_decimal,
)
from procurement.lifecycle import LotStatus, ProcurementMethod, ProjectCategory
from procurement.projects import (
    LotDraft,
    ProjectDraft,
    create_project,
    ensure_purchaser_owns,
    get_lot,
    get_project,
    publish_project,
)
from procurement.roles import Actor, OrganisationKind, Role
from procurement.tables import (
    FrameworkAgreement,
    FrameworkSupplier,
    Inquiry,
    InquiryInvitation,
    InquiryItem,
    Lot,
    Organisation,
    QuoteVerdict,
    User,
)

EVALUATION_RULE = "lowest_compliant_price"
"""The only award rule of an inquiry: lowest price among compliant quotes (GPL Art. 40)."""
MAX_QUOTE_MIB = 64
VERDICT_STATES = frozenset({LotStatus.OPENED, LotStatus.EVALUATING})


@dataclass(frozen=True)
class ItemDraft:
    """One requested item as entered: quantity as text, brand "or equivalent" optional."""

    name: str
    quantity: str
    unit: str
    specification: str = ""
    reference_brand: str = ""


@dataclass(frozen=True)
class InquiryDraft:
    """A price inquiry request as entered by the purchaser, before validation."""

    title: str
    items: list[ItemDraft]
    budget: str
    delivery_place: str
    delivery_time: str
    quote_deadline: datetime
    invitation_mode: str
    supplier_ids: list[int] = field(default_factory=list)
    framework_id: int | None = None
    requirements: str = ""
    title_en: str = ""
    sme_deduction_percent: str = "0"
    """Small/micro price deduction for ranking only, in percent (RULES §6); 0 for none."""


def _deduction_percent(text: str) -> Decimal:
    """The small/micro deduction as a percentage from 0 to under 100.

    Its legal range (RULES §6: 10-20 % for goods) is evaluation's to check, at publication.
    """
    value = parse_decimal(text.strip() or "0", "sme_deduction_percent", what="a percentage")
    if not Decimal(0) <= value < Decimal(100):
        raise ValidationError(
            "the small/micro price deduction is a percentage from 0 to under 100",
            field="sme_deduction_percent",
        )
    return value


def _items(drafts: list[ItemDraft]) -> list[Item]:
    items = [
        Item(
            number=number,
            name=d.name.strip()[:200],
            quantity=parse_decimal(d.quantity, f"items.{number}.quantity", what="a quantity"),
            unit=d.unit.strip()[:20],
            specification=d.specification.strip(),
            reference_brand=d.reference_brand.strip()[:200],
        )
        for number, d in enumerate(drafts, start=1)
    ]
    check_items(items)
    return items


async def category_suppliers(category: str = ProjectCategory.GOODS) -> list[dict[str, Any]]:
    """Approved suppliers registered for ``category`` (inquiries buy goods, GPL Art. 32)."""
    rows = (
        await Organisation.select(
            Organisation.id, Organisation.name, Organisation.name_en, Organisation.categories
        )
        .where(
            (Organisation.kind == OrganisationKind.SUPPLIER) & (Organisation.status == "approved")
        )
        .order_by(Organisation.name)
    )
    return [r for r in rows if category in str(r["categories"] or "").split(",")]


async def _framework(framework_id: int) -> FrameworkAgreement:
    agreement = (
        await FrameworkAgreement.objects().where(FrameworkAgreement.id == framework_id).first()
    )
    if agreement is None:
        raise NotFound(
            "no framework agreement with id {framework_id}",
            framework_id=framework_id,
        )
    return agreement


async def framework_supplier_ids(framework_id: int, *, on: date) -> list[int]:
    """The approved suppliers of a framework agreement valid on ``on``.

    Raises:
        NotFound: no such agreement.
        ValidationError: the agreement is not valid that day.
    """
    agreement = await _framework(framework_id)
    if not agreement.valid_from <= on <= agreement.valid_until:
        raise ValidationError(
            "framework agreement {name!r} is valid {valid_from} to {valid_until}, not on {on}",
            field="framework_id",
            name=agreement.name,
            valid_from=agreement.valid_from,
            valid_until=agreement.valid_until,
            on=on,
        )
    rows = await FrameworkSupplier.select(FrameworkSupplier.supplier).where(
        (FrameworkSupplier.agreement == framework_id)
        & (FrameworkSupplier.supplier.status == "approved")
    )
    return sorted(int(r["supplier"]) for r in rows)


async def _invited_suppliers(draft: InquiryDraft, today: date) -> tuple[InvitationMode, list[int]]:
    try:
        mode = InvitationMode(draft.invitation_mode)
    except ValueError as exc:
        raise ValidationError(
            "choose how suppliers are invited: selected, framework or open",
            field="invitation_mode",
        ) from exc
    registered = {int(r["id"]) for r in await category_suppliers()}
    if mode is InvitationMode.SELECTED:
        unknown = [s for s in draft.supplier_ids if s not in registered]
        if unknown:
            raise ValidationError(
                "supplier(s) {suppliers} are not approved suppliers of goods",
                field="suppliers",
                suppliers=", ".join(map(str, unknown)),
            )
        chosen = list(draft.supplier_ids)
    elif mode is InvitationMode.FRAMEWORK:
        if draft.framework_id is None:
            raise ValidationError("choose a framework agreement", field="framework_id")
        chosen = await framework_supplier_ids(draft.framework_id, on=today)
    else:
        chosen = sorted(registered)
    return mode, check_invited(chosen)


def _check_terms(draft: InquiryDraft) -> None:
    if not draft.title.strip():
        raise ValidationError("the inquiry needs a title", field="title")
    if not draft.delivery_place.strip():
        raise ValidationError("state the delivery place", field="delivery_place")
    if not draft.delivery_time.strip():
        raise ValidationError("state the delivery time", field="delivery_time")
    if draft.quote_deadline.tzinfo is None:
        raise ValidationError("the quote deadline needs a time zone", field="quote_deadline")


async def create_inquiry(
    actor: Actor,
    draft: InquiryDraft,
    *,
    clock: Clock = SYSTEM_CLOCK,
    calendar: WorkingDayCalendar | None = None,
    limits: TimeLimits | None = None,
) -> int:
    """Post a price inquiry: validate, create and publish its project, invite and notify.

    The quote deadline must leave at least 3 working days (MOF74 Art. 45, ``limits``); at
    least 3 suppliers are invited (GPL Art. 40); the lot is platform-sealed so quotes open by
    themselves at the deadline. Nothing is written if anything is invalid. Returns the id.
    """
    if actor.role is not Role.PURCHASER or actor.organisation_id is None:
        raise Forbidden("only a purchasing unit's user may post a price inquiry")
    _check_terms(draft)
    deduction = _deduction_percent(draft.sme_deduction_percent)
    items = _items(draft.items)
    now = clock.now()
    mode, suppliers = await _invited_suppliers(draft, china_date(now))
    project_draft = ProjectDraft(
        title=draft.title.strip(),
        title_en=draft.title_en.strip(),
        category=ProjectCategory.GOODS,
        method=ProcurementMethod.PRICE_INQUIRY,
        documents_from=now,
        documents_until=draft.quote_deadline,
        bid_deadline=draft.quote_deadline,
        opening_time=draft.quote_deadline,
        custody_mode="platform",
        description=draft.requirements.strip(),
        lots=[
            LotDraft(
                title=draft.title.strip(),
                title_en=draft.title_en.strip(),
                budget=draft.budget,
                max_bid_mib=MAX_QUOTE_MIB,
            )
        ],
    )
    async with transaction(Inquiry._meta.db):
        try:
            project_id = await create_project(
                actor, project_draft, clock=clock, calendar=calendar, limits=limits
            )
        except TimelineInvalid as exc:
            if exc.field not in {"bid_deadline", "documents_until", "opening_time"}:
                raise
            raise TimelineInvalid(
                exc.violations, field="quote_deadline", lead="quote deadline: {violations}"
            ) from exc
        lot = (await get_lot_of_project(project_id))[0]
        inquiry = Inquiry(
            project=project_id,
            lot=lot,
            delivery_place=draft.delivery_place.strip()[:300],
            delivery_time=draft.delivery_time.strip()[:200],
            requirements=draft.requirements.strip(),
            evaluation_rule=EVALUATION_RULE,
            invitation_mode=mode,
            framework=draft.framework_id if mode is InvitationMode.FRAMEWORK else None,
            sme_deduction_percent=format(deduction.normalize(), "f"),
        )
        await inquiry.save()
        for item in items:
            await InquiryItem(
                inquiry=inquiry.id,
                number=item.number,
                name=item.name,
                specification=item.specification,
                quantity=str(item.quantity),
                unit=item.unit,
                reference_brand=item.reference_brand,
            ).save()
        for supplier in suppliers:
            await InquiryInvitation(inquiry=inquiry.id, supplier=supplier, invited_at=now).save()
        await audit.record(
            "inquiry.created",
            actor=actor,
            subject_type="inquiry",
            subject_id=inquiry.id,
            payload={
                "project_id": project_id,
                "invitation_mode": mode.value,
                "framework_id": inquiry.framework,
                "suppliers": suppliers,
                "items": len(items),
            },
            clock=clock,
        )
        await publish_project(actor, project_id, clock=clock, calendar=calendar, limits=limits)
        users = await User.select(User.id).where(
            User.organisation.is_in(suppliers) & (User.role == Role.BIDDER)
        )
        await notifications.notify_many(
            [int(u["id"]) for u in users],
            kind="inquiry.invited",
            title=f"询价邀请 Price inquiry: {draft.title.strip()}"[:300],
            body=f"报价截止 Quote deadline: {draft.quote_deadline.isoformat()}",
            link=f"/supplier/inquiries/{inquiry.id}",
            dedupe_prefix=f"inquiry:{inquiry.id}:invited",
            clock=clock,
        )
    return int(inquiry.id)


async def get_lot_of_project(project_id: int) -> list[int]:
    """The ids of a project's lots in order (an inquiry has exactly one)."""
    rows = await Lot.select(Lot.id).where(Lot.project == project_id).order_by(Lot.number)
    return [int(r["id"]) for r in rows]


async def get_inquiry(inquiry_id: int) -> Inquiry:
    """The inquiry, or NotFound."""
    inquiry = await Inquiry.objects().where(Inquiry.id == inquiry_id).first()
    if inquiry is None:
        raise NotFound("no price inquiry with id {inquiry_id}", inquiry_id=inquiry_id)
    return inquiry


async def inquiry_of_lot(lot_id: int) -> Inquiry | None:
    """The inquiry whose lot this is, or None for a tender lot."""
    return await Inquiry.objects().where(Inquiry.lot == lot_id).first()


async def is_invited(inquiry_id: int, supplier_id: int | None) -> bool:
    """Whether the supplier was invited to quote."""
    if supplier_id is None:
        return False
    return await InquiryInvitation.exists().where(
        (InquiryInvitation.inquiry == inquiry_id) & (InquiryInvitation.supplier == supplier_id)
    )


async def items_of(inquiry_id: int) -> list[Item]:
    """The requested items in order."""
    rows = (
        await InquiryItem.objects()
        .where(InquiryItem.inquiry == inquiry_id)
        .order_by(InquiryItem.number)
    )
    return [
        Item(
            number=r.number,
            name=r.name,
            quantity=Decimal(r.quantity),
            unit=r.unit,
            specification=r.specification,
            reference_brand=r.reference_brand,
        )
        for r in rows
    ]


async def inquiry_view(actor: Actor, inquiry_id: int) -> dict[str, Any]:
    """An inquiry as its purchaser, an invited supplier, an admin or a supervisor sees it."""
    inquiry = await get_inquiry(inquiry_id)
    project = await get_project(inquiry.project)
    if actor.role is Role.PURCHASER:
        ensure_purchaser_owns(actor, project)
    elif actor.role is Role.BIDDER:
        if not await is_invited(inquiry_id, actor.organisation_id):
            raise NotFound("no price inquiry with id {inquiry_id}", inquiry_id=inquiry_id)
    elif actor.role not in {Role.ADMIN, Role.SUPERVISOR}:
        raise Forbidden("this inquiry is visible to its purchaser and invited suppliers")
    lot = await get_lot(inquiry.lot)
    invited = (
        await InquiryInvitation.select(
            InquiryInvitation.supplier,
            InquiryInvitation.supplier.name.as_alias("name"),
        )
        .where(InquiryInvitation.inquiry == inquiry_id)
        .order_by(InquiryInvitation.supplier)
    )
    verdicts = await QuoteVerdict.select().where(QuoteVerdict.inquiry == inquiry_id)
    if actor.role is Role.BIDDER:  # a supplier learns only the verdict on its own quote
        verdicts = [v for v in verdicts if v["supplier"] == actor.organisation_id]
    return {
        "id": inquiry_id,
        "project_id": project.id,
        "code": project.code,
        "title": project.title,
        "title_en": project.title_en,
        "lot_id": lot.id,
        "status": lot.status,
        "failure_reason": lot.failure_reason,
        "budget_fen": lot.budget_fen,
        "award_amount_fen": lot.award_amount_fen,
        "awarded_supplier": lot.awarded_supplier,
        "quote_deadline": project.bid_deadline,
        "delivery_place": inquiry.delivery_place,
        "delivery_time": inquiry.delivery_time,
        "requirements": inquiry.requirements,
        "evaluation_rule": inquiry.evaluation_rule,
        "sme_deduction_percent": inquiry.sme_deduction_percent,
        "invitation_mode": inquiry.invitation_mode,
        "framework_id": inquiry.framework,
        "follow_up": inquiry.follow_up,
        "follow_up_note": inquiry.follow_up_note,
        "items": [
            {
                "number": i.number,
                "name": i.name,
                "specification": i.specification,
                "quantity": str(i.quantity),
                "unit": i.unit,
                "reference_brand": i.reference_brand,
            }
            for i in await items_of(inquiry_id)
        ],
        "invited": invited if actor.role is not Role.BIDDER else [],
        "verdicts": {int(v["supplier"]): v for v in verdicts},
    }


async def inquiries_for(actor: Actor) -> list[dict[str, Any]]:
    """The caller's inquiries: a purchaser's own, or those a supplier is invited to."""
    query = Inquiry.select(
        Inquiry.id,
        Inquiry.lot,
        Inquiry.project.code.as_alias("code"),
        Inquiry.project.title.as_alias("title"),
        Inquiry.project.bid_deadline.as_alias("quote_deadline"),
        Inquiry.lot.status.as_alias("status"),
    ).order_by(Inquiry.id, ascending=False)
    if actor.role is Role.PURCHASER:
        query = query.where(Inquiry.project.purchaser == actor.organisation_id)
    elif actor.role is Role.BIDDER:
        invited = await InquiryInvitation.select(InquiryInvitation.inquiry).where(
            InquiryInvitation.supplier == actor.organisation_id
        )
        query = query.where(Inquiry.id.is_in([int(r["inquiry"]) for r in invited] or [0]))
    else:
        raise Forbidden("inquiries are listed for purchasers and suppliers")
    return await query


async def record_verdict(
    actor: Actor,
    inquiry_id: int,
    supplier_id: int,
    *,
    compliant: bool,
    reason: str = "",
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    """The purchaser marks an opened quote compliant or not, with the reason (GPL Art. 40).

    Only after the opening (nobody judges a sealed quote) and before the conclusion; a
    non-compliant verdict needs the reason told to the supplier. A later verdict replaces
    an earlier one until the inquiry is concluded; both stay in the audit log.
    """
    inquiry = await get_inquiry(inquiry_id)
    project = await get_project(inquiry.project)
    ensure_purchaser_owns(actor, project)
    lot = await get_lot(inquiry.lot)
    status = LotStatus(lot.status)
    if status in {LotStatus.PUBLISHED, LotStatus.BIDDING_CLOSED, LotStatus.DRAFT}:
        raise Conflict(
            "quotes are judged after the opening; they are still sealed",
            code="not_opened",
        )
    if status not in VERDICT_STATES:
        raise Conflict("this inquiry is {status}; its verdicts are final", status=status)
    if not await is_invited(inquiry_id, supplier_id):
        raise ValidationError(
            "supplier {supplier_id} was not invited", field="supplier_id", supplier_id=supplier_id
        )
    reason = reason.strip()
    if not compliant and not reason:
        raise ValidationError("say why the quote does not comply", field="reason")
    async with transaction(QuoteVerdict._meta.db):
        await QuoteVerdict.delete().where(
            (QuoteVerdict.inquiry == inquiry_id) & (QuoteVerdict.supplier == supplier_id)
        )
        await QuoteVerdict(
            inquiry=inquiry_id,
            supplier=supplier_id,
            compliant=compliant,
            reason=reason,
            decided_by=actor.user_id,
            decided_at=clock.now(),
        ).save()
        await audit.record(
            "inquiry.verdict",
            actor=actor,
            subject_type="inquiry",
            subject_id=inquiry_id,
            payload={"supplier_id": supplier_id, "compliant": compliant, "reason": reason},
            clock=clock,
        )


async def verdicts_of(inquiry_id: int) -> dict[int, tuple[bool, str]]:
    """Supplier id → (compliant, reason)."""
    rows = await QuoteVerdict.select().where(QuoteVerdict.inquiry == inquiry_id)
    return {int(r["supplier"]): (bool(r["compliant"]), str(r["reason"])) for r in rows}


def _follow_up_recorded(choice: str) -> Conflict:
    """A second follow-up: one sentence per recorded choice, for the catalog."""
    if choice == FollowUp.RERUN:
        return Conflict("the follow-up was already recorded: rerun")
    if choice == FollowUp.CHANGE_METHOD:
        return Conflict("the follow-up was already recorded: change_method")
    return Conflict("the follow-up was already recorded: {choice}", choice=choice)


async def record_follow_up(
    actor: Actor,
    inquiry_id: int,
    choice: str,
    note: str = "",
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    """After a failed inquiry the purchaser records what comes next (MOF74 Art. 50).

    Re-run the inquiry, or (with the finance department's approval) change method; recorded
    once, audited.
    """
    inquiry = await get_inquiry(inquiry_id)
    project = await get_project(inquiry.project)
    ensure_purchaser_owns(actor, project)
    try:
        follow_up = FollowUp(choice)
    except ValueError as exc:
        raise ValidationError("choose rerun or change_method", field="follow_up") from exc
    lot = await get_lot(inquiry.lot)
    if LotStatus(lot.status) is not LotStatus.FAILED:
        raise Conflict("only a failed inquiry needs a follow-up")
    if inquiry.follow_up:
        raise _follow_up_recorded(str(inquiry.follow_up))
    async with transaction(Inquiry._meta.db):
        await Inquiry.update(
            {
                Inquiry.follow_up: follow_up,
                Inquiry.follow_up_note: note.strip(),
                Inquiry.follow_up_at: clock.now(),
            }
        ).where(Inquiry.id == inquiry_id)
        await audit.record(
            "inquiry.follow_up",
            actor=actor,
            subject_type="inquiry",
            subject_id=inquiry_id,
            payload={"choice": follow_up.value, "note": note.strip()},
            clock=clock,
        )


# ------------------------------------------------------------------ framework agreements


async def create_framework(
    actor: Actor,
    *,
    name: str,
    category: str,
    valid_from: date,
    valid_until: date,
    supplier_ids: list[int],
    clock: Clock = SYSTEM_CLOCK,
) -> int:
    """An admin records a framework agreement (协议供货/定点) and its admitted suppliers."""
    if actor.role is not Role.ADMIN:
        raise Forbidden("only administrators keep framework agreements")
    if not name.strip():
        raise ValidationError("the agreement needs a name", field="name")
    if not category.strip():
        raise ValidationError("the agreement needs a category", field="category")
    if valid_until < valid_from:
        raise ValidationError("the validity ends before it starts", field="valid_until")
    if valid_until - valid_from > timedelta(days=366 * 5):
        raise ValidationError("a framework agreement lasts at most 5 years", field="valid_until")
    registered = {int(r["id"]) for r in await category_suppliers()}
    suppliers = list(dict.fromkeys(supplier_ids))
    unknown = [s for s in suppliers if s not in registered]
    if unknown:
        raise ValidationError(
            "supplier(s) {suppliers} are not approved suppliers of goods",
            field="suppliers",
            suppliers=", ".join(map(str, unknown)),
        )
    if not suppliers:
        raise ValidationError("admit at least one supplier", field="suppliers")
    async with transaction(FrameworkAgreement._meta.db):
        agreement = FrameworkAgreement(
            name=name.strip()[:200],
            category=category.strip()[:100],
            valid_from=valid_from,
            valid_until=valid_until,
            created_by=actor.user_id,
            created_at=clock.now(),
        )
        await agreement.save()
        for supplier in suppliers:
            await FrameworkSupplier(agreement=agreement.id, supplier=supplier).save()
        await audit.record(
            "framework.created",
            actor=actor,
            subject_type="framework_agreement",
            subject_id=agreement.id,
            payload={
                "name": agreement.name,
                "category": agreement.category,
                "valid_from": valid_from.isoformat(),
                "valid_until": valid_until.isoformat(),
                "suppliers": suppliers,
            },
            clock=clock,
        )
    return int(agreement.id)


async def list_frameworks(*, on: date | None = None) -> list[dict[str, Any]]:
    """Framework agreements with their supplier counts; only those valid ``on`` if given."""
    query = FrameworkAgreement.select().order_by(FrameworkAgreement.category)
    if on is not None:
        query = query.where(
            (FrameworkAgreement.valid_from <= on) & (FrameworkAgreement.valid_until >= on)
        )
    rows = await query
    for row in rows:
        row["suppliers"] = await FrameworkSupplier.count().where(
            FrameworkSupplier.agreement == row["id"]
        )
    return rows
