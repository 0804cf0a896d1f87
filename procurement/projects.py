"""Procurement projects and lots: create, publish, close at the deadline, conclude.

The lot is the unit with a lifecycle (draft → published → bidding closed → opened →
evaluating → awarded / failed / cancelled); every change goes through
:func:`procurement.lifecycle.next_status`, is audited, and is announced to higher packages
through :mod:`procurement.events`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from procurement import audit, events
from procurement.calendar import WorkingDayCalendar
from procurement.clock import SYSTEM_CLOCK, Clock
from procurement.db import transaction
from procurement.deadlines import TimeLimits, Timeline, check_timeline
from procurement.exceptions import Conflict, Forbidden, NotFound, ValidationError
from procurement.lifecycle import (
    FailureReason,
    LotEvent,
    LotStatus,
    ProcurementMethod,
    ProjectCategory,
    check_method_allowed,
    is_final,
    next_status,
)
from procurement.money import MoneyError, parse_yuan, yuan_to_fen
from procurement.notices import NoticeKind, publish_notice
from procurement.roles import SYSTEM_ACTOR, Actor, OrganisationKind, Role
from procurement.tables import HolidayOverride, Lot, Organisation, Project

CUSTODY_MODES = ("custodians", "platform")
MAX_LOTS = 50


@dataclass(frozen=True)
class LotDraft:
    """One lot as entered by the purchaser."""

    title: str
    budget: str
    title_en: str = ""
    reserve_price: str = ""
    ceiling_price: str = ""
    max_bid_mib: int = 1024


@dataclass(frozen=True)
class ProjectDraft:
    """A project as entered by the purchaser, before validation."""

    title: str
    category: str
    method: str
    documents_from: datetime
    documents_until: datetime
    bid_deadline: datetime
    opening_time: datetime
    lots: list[LotDraft]
    title_en: str = ""
    description: str = ""
    description_en: str = ""
    clarification_deadline: datetime | None = None
    custody_mode: str = "custodians"
    agency_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


async def load_calendar() -> WorkingDayCalendar:
    """The working-day calendar: library data overridden by the admins' holiday table."""
    rows = await HolidayOverride.select(HolidayOverride.day, HolidayOverride.is_working_day)
    return WorkingDayCalendar(overrides={r["day"]: bool(r["is_working_day"]) for r in rows})


def _optional_fen(text: str, field_name: str) -> int | None:
    if not text.strip():
        return None
    return yuan_to_fen(_money(text, field_name))


def _money(text: str, field_name: str) -> Decimal:
    try:
        return parse_yuan(text)
    except MoneyError as exc:
        values: dict[str, Any] = exc.params  # the amount's values, never field or code
        raise ValidationError(exc.template, field=field_name, **values) from exc


def _validate_lots(draft: ProjectDraft, category: ProjectCategory) -> list[dict[str, Any]]:
    if not draft.lots:
        raise ValidationError("a project needs at least one lot", field="lots")
    if len(draft.lots) > MAX_LOTS:
        raise ValidationError("at most {most} lots per project", field="lots", most=MAX_LOTS)
    lots = []
    for number, lot in enumerate(draft.lots, start=1):
        title = lot.title.strip()
        if not title:
            raise ValidationError(
                "lot {number} needs a title", field=f"lots.{number}.title", number=number
            )
        budget = _money(lot.budget, f"lots.{number}.budget")
        if budget <= 0:
            raise ValidationError(
                "lot {number}: the budget must be positive",
                field=f"lots.{number}.budget",
                number=number,
            )
        reserve = _optional_fen(lot.reserve_price, f"lots.{number}.reserve_price")
        ceiling = _optional_fen(lot.ceiling_price, f"lots.{number}.ceiling_price")
        if category is ProjectCategory.WORKS and reserve is None and ceiling is None:
            raise ValidationError(
                "lot {number}: works need a reserve price (标底) or a ceiling price "
                "(最高投标限价) (TBL-R Art. 27)",
                field=f"lots.{number}.reserve_price",
                number=number,
            )
        if not 1 <= lot.max_bid_mib <= 4096:
            raise ValidationError(
                "lot {number}: bid size limit must be 1-4096 MiB",
                field=f"lots.{number}.max_bid_mib",
                number=number,
            )
        lots.append(
            {
                "number": number,
                "title": title[:300],
                "title_en": lot.title_en.strip()[:300],
                "budget_fen": yuan_to_fen(budget),
                "reserve_price_fen": reserve,
                "ceiling_price_fen": ceiling,
                "max_bid_mib": lot.max_bid_mib,
            }
        )
    return lots


async def _next_project_code(year: int) -> str:
    count = await Project.count().where(Project.code.like(f"ZC-{year}-%"))
    return f"ZC-{year}-{count + 1:05d}"


async def create_project(
    actor: Actor,
    draft: ProjectDraft,
    *,
    clock: Clock = SYSTEM_CLOCK,
    calendar: WorkingDayCalendar | None = None,
    limits: TimeLimits | None = None,
) -> int:
    """A purchaser creates a draft project with its lots; returns the project id.

    The timeline is checked against the legal minimums (RULES §2) now and again at
    publication; nothing is written if anything is invalid.
    """
    if actor.role is not Role.PURCHASER or actor.organisation_id is None:
        raise Forbidden("only a purchasing unit's user may create projects")
    title = draft.title.strip()
    if not title:
        raise ValidationError("the project needs a title", field="title")
    try:
        category = ProjectCategory(draft.category)
    except ValueError as exc:
        raise ValidationError(
            "unknown category {value!r}", field="category", value=draft.category
        ) from exc
    try:
        method = ProcurementMethod(draft.method)
    except ValueError as exc:
        raise ValidationError(
            "unknown method {value!r}", field="method", value=draft.method
        ) from exc
    check_method_allowed(category, method)
    if draft.custody_mode not in CUSTODY_MODES:
        raise ValidationError("custody mode must be custodians or platform", field="custody_mode")
    lots = _validate_lots(draft, category)
    timeline = Timeline(
        documents_from=draft.documents_from,
        documents_until=draft.documents_until,
        clarification_deadline=draft.clarification_deadline,
        bid_deadline=draft.bid_deadline,
        opening_time=draft.opening_time,
    )
    calendar = calendar or await load_calendar()
    now = clock.now()
    check_timeline(
        timeline, category=category, method=method, calendar=calendar, now=now, limits=limits
    ).raise_if_invalid()
    if draft.agency_id is not None:
        agency = await Organisation.objects().where(Organisation.id == draft.agency_id).first()
        if agency is None or agency.kind != OrganisationKind.AGENCY:
            raise ValidationError("the agency does not exist", field="agency_id")
    budget_fen = sum(lot["budget_fen"] for lot in lots)
    reserve_values = [lot["reserve_price_fen"] for lot in lots if lot["reserve_price_fen"]]
    ceiling_values = [lot["ceiling_price_fen"] for lot in lots if lot["ceiling_price_fen"]]
    async with transaction(Project._meta.db):
        project = Project(
            code=await _next_project_code(now.year),
            title=title[:300],
            title_en=draft.title_en.strip()[:300],
            description=draft.description.strip(),
            description_en=draft.description_en.strip(),
            purchaser=actor.organisation_id,
            agency=draft.agency_id,
            category=category,
            method=method,
            budget_fen=budget_fen,
            reserve_price_fen=sum(reserve_values) if reserve_values else None,
            ceiling_price_fen=sum(ceiling_values) if ceiling_values else None,
            documents_from=draft.documents_from,
            documents_until=draft.documents_until,
            clarification_deadline=draft.clarification_deadline,
            bid_deadline=draft.bid_deadline,
            opening_time=draft.opening_time,
            created_by=actor.user_id,
            created_at=now,
        )
        await project.save()
        for lot in lots:
            await Lot(
                project=project.id,
                status=LotStatus.DRAFT,
                custody_mode=draft.custody_mode,
                updated_at=now,
                **lot,
            ).save()
        await audit.record(
            "project.created",
            actor=actor,
            subject_type="project",
            subject_id=project.id,
            payload={
                "code": project.code,
                "title": title,
                "budget_fen": budget_fen,
                "lots": len(lots),
            },
            clock=clock,
        )
    return int(project.id)


async def get_project(project_id: int) -> Project:
    """The project, or NotFound."""
    project = await Project.objects().where(Project.id == project_id).first()
    if project is None:
        raise NotFound("no project with id {project_id}", project_id=project_id)
    return project


async def get_lot(lot_id: int) -> Lot:
    """The lot, or NotFound."""
    lot = await Lot.objects().where(Lot.id == lot_id).first()
    if lot is None:
        raise NotFound("no lot with id {lot_id}", lot_id=lot_id)
    return lot


def owns(actor: Actor | None, purchaser_id: object) -> bool:
    """Whether ``actor`` is a purchaser of the unit ``purchaser_id`` (a project's owner).

    The one ownership rule: :func:`ensure_purchaser_owns` enforces it on the project a
    handler loaded, and link providers ask it with a lot row's ``purchaser_id``
    (:func:`lot_parties`), so a link is offered exactly where the handler lets the viewer in.
    """
    return (
        actor is not None
        and actor.role is Role.PURCHASER
        and purchaser_id is not None
        and actor.organisation_id == purchaser_id
    )


def ensure_purchaser_owns(actor: Actor, project: Project) -> None:
    """Only the purchasing unit that owns a project may manage it."""
    if not owns(actor, project.purchaser):
        raise Forbidden("this project belongs to another purchasing unit")


def may_view_project(actor: Actor | None, *, purchaser_id: object, published: bool) -> bool:
    """Whether the project's portal page is open to ``actor``: once published, or to its unit."""
    return published or (
        actor is not None
        and actor.organisation_id is not None
        and actor.organisation_id == purchaser_id
    )


async def lot_parties(rows: list[dict[str, Any]], actor: Actor | None = None) -> None:
    """Add each lot row's ``purchaser_id``, ``agency_id`` and ``published`` (one query).

    What the ownership rules (:func:`owns`, :func:`may_view_project`) need to know about
    the lots of a page; a row whose lot is not found gets ``None`` / ``False``.
    """
    ids = [int(row["id"]) for row in rows if row.get("id") is not None]
    found = {
        int(row["id"]): row
        for row in await Lot.select(
            Lot.id,
            Lot.project.purchaser.as_alias("purchaser_id"),
            Lot.project.agency.as_alias("agency_id"),
            Lot.project.published_at.as_alias("project_published_at"),
        ).where(Lot.id.is_in(ids or [0]))
    }
    for row in rows:
        facts = found.get(int(row.get("id") or 0), {})
        row["purchaser_id"] = facts.get("purchaser_id")
        row["agency_id"] = facts.get("agency_id")
        row["published"] = facts.get("project_published_at") is not None


async def transition_lot(
    lot_id: int,
    event: LotEvent,
    *,
    actor: Actor = SYSTEM_ACTOR,
    clock: Clock = SYSTEM_CLOCK,
    failure_reason: FailureReason | None = None,
    payload: dict[str, Any] | None = None,
) -> LotStatus:
    """Apply ``event`` to a lot through the state machine; audit it; return the new state."""
    async with transaction(Lot._meta.db):
        lot = await get_lot(lot_id)
        current = LotStatus(lot.status)
        new = next_status(current, event)
        now = clock.now()
        values: dict[Any, Any] = {Lot.status: new, Lot.updated_at: now}
        if failure_reason is not None:
            values[Lot.failure_reason] = failure_reason
        if new in {LotStatus.AWARDED, LotStatus.FAILED, LotStatus.CANCELLED}:
            values[Lot.concluded_at] = now
        await Lot.update(values).where(Lot.id == lot_id)
        await audit.record(
            f"lot.{event.value}",
            actor=actor,
            subject_type="lot",
            subject_id=lot_id,
            payload={
                "from": current.value,
                "to": new.value,
                "reason": failure_reason.value if failure_reason else None,
                **(payload or {}),
            },
            clock=clock,
        )
        if new in {LotStatus.AWARDED, LotStatus.FAILED, LotStatus.CANCELLED}:
            await events.emit(events.LOT_CONCLUDED, lot_id=lot_id, status=new)
    return new


async def publish_project(
    actor: Actor,
    project_id: int,
    *,
    clock: Clock = SYSTEM_CLOCK,
    calendar: WorkingDayCalendar | None = None,
    limits: TimeLimits | None = None,
) -> int:
    """Publish a draft project: every lot opens for bids and the tender notice goes out.

    Returns the id of the tender notice. The timeline is re-checked against the current time
    so a draft left lying around cannot be published with too short a bidding period.
    """
    project = await get_project(project_id)
    ensure_purchaser_owns(actor, project)
    now = clock.now()
    calendar = calendar or await load_calendar()
    timeline = Timeline(
        documents_from=max(project.documents_from, now),
        documents_until=project.documents_until,
        clarification_deadline=project.clarification_deadline,
        bid_deadline=project.bid_deadline,
        opening_time=project.opening_time,
    )
    check_timeline(
        timeline,
        category=ProjectCategory(project.category),
        method=ProcurementMethod(project.method),
        calendar=calendar,
        now=now,
        limits=limits,
    ).raise_if_invalid()
    async with transaction(Project._meta.db):
        lots = await Lot.objects().where(Lot.project == project_id).order_by(Lot.number)
        if any(LotStatus(lot.status) is not LotStatus.DRAFT for lot in lots):
            raise Conflict("this project was already published")
        for lot in lots:
            await transition_lot(lot.id, LotEvent.PUBLISH, actor=actor, clock=clock)
        await Project.update({Project.published_at: now}).where(Project.id == project_id)
        notice_id = await publish_notice(
            project_id=project_id,
            kind=NoticeKind.TENDER,
            title=project.title,
            title_en=project.title_en,
            body=project.description,
            body_en=project.description_en,
            actor=actor,
            clock=clock,
        )
        for lot in lots:
            await events.emit(
                events.LOT_PUBLISHED,
                lot_id=lot.id,
                project_id=project_id,
                bid_deadline=project.bid_deadline,
                custody_mode=lot.custody_mode,
            )
    return notice_id


async def close_lot_if_due(lot_id: int, *, clock: Clock = SYSTEM_CLOCK) -> bool:
    """Close bidding on a lot whose deadline has passed; idempotent. True if it closed now.

    Called by the task scheduled for the exact deadline and by the periodic sweep
    (ProZorro's chronograph); whichever comes second finds nothing to do.
    """
    async with transaction(Lot._meta.db):
        lot = await Lot.objects().where(Lot.id == lot_id).first()
        if lot is None or LotStatus(lot.status) is not LotStatus.PUBLISHED:
            return False
        project = await get_project(lot.project)
        if project.bid_deadline > clock.now():
            return False
        await transition_lot(
            lot_id,
            LotEvent.CLOSE_BIDDING,
            clock=clock,
            payload={"bid_deadline": project.bid_deadline.isoformat()},
        )
        await events.emit(events.LOT_BIDDING_CLOSED, lot_id=lot_id, clock=clock)
    return True


async def lots_past_deadline(now: datetime) -> list[int]:
    """Ids of published lots whose bid deadline has passed (for the periodic sweep)."""
    rows = await Lot.select(Lot.id).where(
        (Lot.status == LotStatus.PUBLISHED) & (Lot.project.bid_deadline <= now)
    )
    return [int(r["id"]) for r in rows]


async def close_due_lots(*, clock: Clock = SYSTEM_CLOCK) -> list[int]:
    """The sweep: close every lot whose deadline passed; returns the ids closed now."""
    closed = []
    for lot_id in await lots_past_deadline(clock.now()):
        if await close_lot_if_due(lot_id, clock=clock):
            closed.append(lot_id)
    return closed


def cancellable(lot_statuses: Iterable[str]) -> bool:
    """Whether cancelling the project would still cancel a lot (one is not final)."""
    return not all(is_final(LotStatus(status)) for status in lot_statuses)


async def cancel_project(
    actor: Actor, project_id: int, reason: str, *, clock: Clock = SYSTEM_CLOCK
) -> int:
    """The purchaser cancels a project: every open lot is cancelled and a notice published."""
    project = await get_project(project_id)
    ensure_purchaser_owns(actor, project)
    reason = reason.strip()
    if not reason:
        raise ValidationError("a cancellation needs a reason", field="reason")
    async with transaction(Project._meta.db):
        lots = await Lot.objects().where(Lot.project == project_id)
        open_lots = [lot for lot in lots if not is_final(LotStatus(lot.status))]
        if not open_lots:
            raise Conflict("every lot of this project is already concluded")
        for lot in open_lots:
            await transition_lot(
                lot.id,
                LotEvent.CANCEL,
                actor=actor,
                clock=clock,
                failure_reason=FailureReason.CANCELLED,
                payload={"reason": reason},
            )
        return await publish_notice(
            project_id=project_id,
            kind=NoticeKind.CANCELLATION,
            title=f"{project.title} 终止公告",
            title_en=f"{project.title_en or project.title} — cancellation notice",
            body=reason,
            body_en=reason,
            actor=actor,
            clock=clock,
        )
