"""Administration: supplier approval, users, the holiday calendar, undelivered messages."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from piccolo.query.functions import Count

from procurement import audit, notifications
from procurement.accounts import decide_supplier
from procurement.db import one_page
from procurement.exceptions import Conflict, NotFound, ValidationError
from procurement.roles import Role
from procurement.tables import HolidayOverride, Organisation, User
from procurement.web import form_text, parse_int, render, require_actor, roles

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
ADMIN = roles(Role.ADMIN)
#: Accounts per page of the administrator's user list.
USERS_PER_PAGE = 50
#: Undelivered messages listed on the administration page (the newest; all are counted).
UNDELIVERED_SHOWN = 50


class AdminController(Controller):
    """Routes under /admin."""

    path = "/admin"

    @get("/", opt=ADMIN, name="admin_home")
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        """Supplier registrations, organisations, accounts, calendar, undelivered messages.

        Accounts are counted here and listed on their own paged page: a platform holds
        thousands of them (every expert of the pool has one).
        """
        pending = (
            await Organisation.select()
            .where((Organisation.kind == "supplier") & (Organisation.status == "pending"))
            .order_by(Organisation.created_at)
        )
        organisations = (
            await Organisation.select()
            .where(Organisation.status != "pending")
            .order_by(Organisation.kind, Organisation.name)
        )
        by_role = await User.select(User.role, Count()).group_by(User.role)
        holidays = await HolidayOverride.select().order_by(HolidayOverride.day)
        return render(
            request,
            "admin/home.html",
            {
                "pending": pending,
                "organisations": organisations,
                "accounts": {row["role"]: int(row["count"]) for row in by_role},
                "holidays": holidays,
                "undelivered": await notifications.undelivered(limit=UNDELIVERED_SHOWN),
                "flash": request.query_params.get("done"),
            },
        )

    @get("/users", opt=ADMIN, name="admin_users")
    async def users(self, request: Request[Any, Any, Any]) -> Template:
        """Accounts filtered by role and by username or name, a page at a time."""
        role = request.query_params.get("role", "").strip()
        if role and role not in {r.value for r in Role}:
            raise ValidationError("unknown role {role}", role=role[:40], field="role")
        query = request.query_params.get("q", "").strip()[:100]
        page = parse_int(request.query_params.get("page", "1") or "1", "page", minimum=1)
        conditions: list[Any] = []
        if role:
            conditions.append(User.role == role)
        if query:
            pattern = f"%{query.replace('%', '')}%"
            conditions.append(User.username.ilike(pattern) | User.display_name.ilike(pattern))
        select = (
            User.select(
                User.id,
                User.username,
                User.display_name,
                User.role,
                User.status,
                User.organisation.name.as_alias("org"),
                User.organisation.name_en.as_alias("org_en"),
                User.last_login_at,
            )
            .order_by(User.role)
            .order_by(User.username)
        )
        rows, matching = await one_page(
            select, User.count(), conditions, page=page, per_page=USERS_PER_PAGE
        )
        return render(
            request,
            "admin/users.html",
            {
                "users": rows,
                "roles": list(Role),
                "role": role,
                "q": query,
                "matching": matching,
                "page": page,
                "pages": max(1, -(-matching // USERS_PER_PAGE)),
            },
        )

    @post("/suppliers/{organisation_id:int}/approve", opt=ADMIN, name="supplier_approve")
    async def approve(
        self, request: Request[Any, Any, Any], organisation_id: FromPath[int]
    ) -> Redirect:
        """Approve a supplier: its users may log in."""
        await decide_supplier(organisation_id, approve=True, actor=require_actor(request))
        return Redirect("/admin?done=approved")

    @post("/suppliers/{organisation_id:int}/reject", opt=ADMIN, name="supplier_reject")
    async def reject(
        self, request: Request[Any, Any, Any], organisation_id: FromPath[int]
    ) -> Redirect:
        """Reject a supplier registration."""
        await decide_supplier(organisation_id, approve=False, actor=require_actor(request))
        return Redirect("/admin?done=rejected")

    @post("/holidays", opt=ADMIN, name="holiday_add")
    async def add_holiday(self, request: Request[Any, Any, Any], data: FormData) -> Redirect:
        """Record a day as a holiday or a make-up working day (ARCHITECTURE §2)."""
        try:
            day = date.fromisoformat(form_text(data, "day"))
        except ValueError as exc:
            raise ValidationError("day must be a date like 2027-02-06", field="day") from exc
        kind = form_text(data, "kind")
        if kind not in {"holiday", "working"}:
            raise ValidationError("kind must be holiday or working", field="kind")
        if await HolidayOverride.exists().where(HolidayOverride.day == day):
            raise Conflict("{day} already has an override", day=day)
        await HolidayOverride(
            day=day, is_working_day=kind == "working", note=form_text(data, "note")[:200]
        ).save()
        await audit.record(
            "calendar.override",
            actor=require_actor(request),
            subject_type="date",
            subject_id=day.isoformat(),
            payload={"working": kind == "working"},
        )
        return Redirect("/admin?done=calendar")

    @post("/notifications/{notification_id:int}/retry", opt=ADMIN, name="notification_retry")
    async def retry_notification(
        self, request: Request[Any, Any, Any], notification_id: FromPath[int]
    ) -> Redirect:
        """Send again a message that used up its attempts, once its cause is fixed."""
        if not await notifications.try_again(notification_id):
            raise NotFound(
                "no undelivered message {notification_id}", notification_id=notification_id
            )
        await audit.record(
            "notification.retry",
            actor=require_actor(request),
            subject_type="notification",
            subject_id=notification_id,
        )
        return Redirect("/admin?done=retrying")

    @post("/notifications/retry", opt=ADMIN, name="notifications_retry")
    async def retry_notifications(self, request: Request[Any, Any, Any]) -> Redirect:
        """Send again every message that used up its attempts (after a mail server outage)."""
        renewed = await notifications.try_again()
        await audit.record(
            "notification.retry",
            actor=require_actor(request),
            subject_type="notification",
            subject_id="all",
            payload={"messages": renewed},
        )
        return Redirect("/admin?done=retrying")
