"""Public notices (公告) and their search on the portal.

Notice types follow the life of a procurement: tender, change/clarification, award,
failure, cancellation (GPL-R Art. 8, 43: notices are public, on designated media).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from xml.sax.saxutils import escape

from procurement import audit
from procurement.clock import CHINA, SYSTEM_CLOCK, Clock
from procurement.db import one_page
from procurement.exceptions import NotFound, ValidationError
from procurement.lifecycle import LotStatus, ProcurementMethod, ProjectCategory
from procurement.numbers import parse_whole
from procurement.roles import SYSTEM_ACTOR, Actor
from procurement.tables import Notice

PAGE_SIZE = 20
MAX_QUERY_LENGTH = 100


class NoticeKind(StrEnum):
    """The kinds of public notice."""

    TENDER = "tender"
    CHANGE = "change"
    AWARD = "award"
    FAILURE = "failure"
    CANCELLATION = "cancellation"

    @property
    def label_zh(self) -> str:
        """Chinese name, as printed on notices."""
        return {
            "tender": "采购公告",
            "change": "更正/澄清公告",
            "award": "中标(成交)结果公告",
            "failure": "废标(终止)公告",
            "cancellation": "终止公告",
        }[self.value]

    @property
    def label_en(self) -> str:
        """English name."""
        return {
            "tender": "Tender notice",
            "change": "Change / clarification",
            "award": "Award notice",
            "failure": "Failure notice",
            "cancellation": "Cancellation notice",
        }[self.value]


async def publish_notice(
    *,
    project_id: int,
    kind: NoticeKind,
    title: str,
    body: str,
    title_en: str = "",
    body_en: str = "",
    lot_id: int | None = None,
    actor: Actor = SYSTEM_ACTOR,
    clock: Clock = SYSTEM_CLOCK,
) -> int:
    """Publish a notice on the portal now; returns its id. Audited."""
    if not title.strip():
        raise ValidationError("a notice needs a title", field="title")
    notice = Notice(
        project=project_id,
        lot=lot_id,
        kind=kind,
        title=title.strip()[:300],
        title_en=title_en.strip()[:300],
        body=body,
        body_en=body_en,
        published_at=clock.now(),
    )
    await notice.save()
    await audit.record(
        "notice.published",
        actor=actor,
        subject_type="notice",
        subject_id=notice.id,
        payload={"project_id": project_id, "kind": kind.value, "title": title},
        clock=clock,
    )
    return int(notice.id)


_UNKNOWN = {
    "kind": "unknown kind {value!r}",
    "category": "unknown category {value!r}",
    "method": "unknown method {value!r}",
    "status": "unknown status {value!r}",
}
_NOT_A_DATE = {
    "from": "from must be a date like 2026-11-25",
    "to": "to must be a date like 2026-11-25",
}
"""The messages of :meth:`NoticeFilters.parse`, one sentence per filter for the catalog."""


@dataclass(frozen=True)
class NoticeFilters:
    """Portal search: free text and filters, all optional, validated by :meth:`parse`."""

    text: str = ""
    kind: NoticeKind | None = None
    category: ProjectCategory | None = None
    method: ProcurementMethod | None = None
    status: LotStatus | None = None
    purchaser_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    @classmethod
    def parse(cls, query: dict[str, str]) -> NoticeFilters:
        """Build filters from query parameters, with a clear error for any bad value."""

        def enum_or_none(enum: Any, name: str) -> Any:
            value = query.get(name, "").strip()
            if not value:
                return None
            try:
                return enum(value)
            except ValueError as exc:
                raise ValidationError(_UNKNOWN[name], field=name, value=value) from exc

        def date_or_none(name: str) -> date | None:
            value = query.get(name, "").strip()
            if not value:
                return None
            try:
                return date.fromisoformat(value)
            except ValueError as exc:
                raise ValidationError(_NOT_A_DATE[name], field=name) from exc

        purchaser = query.get("purchaser", "").strip()
        page_text = query.get("page", "1").strip() or "1"
        page = parse_whole(page_text, "page", minimum=1, maximum=10_000)
        purchaser_id = parse_whole(purchaser, "purchaser", minimum=1) if purchaser else None
        text = query.get("q", "").strip()
        if len(text) > MAX_QUERY_LENGTH:
            raise ValidationError(
                "search text is limited to {most} characters", field="q", most=MAX_QUERY_LENGTH
            )
        filters = cls(
            text=text,
            kind=enum_or_none(NoticeKind, "kind"),
            category=enum_or_none(ProjectCategory, "category"),
            method=enum_or_none(ProcurementMethod, "method"),
            status=enum_or_none(LotStatus, "status"),
            purchaser_id=purchaser_id,
            date_from=date_or_none("from"),
            date_to=date_or_none("to"),
            page=page,
        )
        if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
            raise ValidationError("the start date is after the end date", field="from")
        return filters


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CHINA)


NOTICE_COLUMNS = (
    Notice.id,
    Notice.kind,
    Notice.title,
    Notice.title_en,
    Notice.published_at,
    Notice.project.id.as_alias("project_id"),
    Notice.project.code.as_alias("project_code"),
    Notice.project.category.as_alias("category"),
    Notice.project.method.as_alias("method"),
    Notice.project.purchaser.name.as_alias("purchaser_name"),  # type: ignore[union-attr]  # two-level join
    Notice.project.purchaser.name_en.as_alias("purchaser_name_en"),  # type: ignore[union-attr]  # two-level join
)


async def search_notices(filters: NoticeFilters) -> tuple[list[dict[str, Any]], int]:
    """One page of notices, newest first, and the total count (one query each)."""
    conditions: list[Any] = []
    if filters.text:
        pattern = f"%{filters.text.replace('%', '').replace('_', '')}%"
        conditions.append(
            Notice.title.ilike(pattern)
            | Notice.title_en.ilike(pattern)
            | Notice.project.code.ilike(pattern)
        )
    if filters.kind:
        conditions.append(Notice.kind == filters.kind)
    if filters.category:
        conditions.append(Notice.project.category == filters.category)
    if filters.method:
        conditions.append(Notice.project.method == filters.method)
    if filters.purchaser_id:
        conditions.append(Notice.project.purchaser == filters.purchaser_id)
    if filters.date_from:
        conditions.append(Notice.published_at >= _local_midnight(filters.date_from))
    if filters.date_to:
        conditions.append(
            Notice.published_at < _local_midnight(filters.date_to + timedelta(days=1))
        )
    if filters.status:
        from procurement.tables import Lot

        lot_projects = await Lot.select(Lot.project).where(Lot.status == filters.status)
        conditions.append(Notice.project.is_in([r["project"] for r in lot_projects] or [0]))
    newest_first = (
        Notice.select(*NOTICE_COLUMNS)
        .order_by(Notice.published_at, ascending=False)
        .order_by(Notice.id, ascending=False)
    )
    return await one_page(
        newest_first, Notice.count(), conditions, page=filters.page, per_page=PAGE_SIZE
    )


async def get_notice(notice_id: int) -> dict[str, Any]:
    """A notice with its project's main facts, or NotFound."""
    row = (
        await Notice.select(
            *NOTICE_COLUMNS,
            Notice.body,
            Notice.body_en,
            Notice.lot,
            Notice.project.budget_fen.as_alias("budget_fen"),
            Notice.project.bid_deadline.as_alias("bid_deadline"),
            Notice.project.opening_time.as_alias("opening_time"),
            Notice.project.documents_until.as_alias("documents_until"),
            Notice.project.title.as_alias("project_title"),
            Notice.project.title_en.as_alias("project_title_en"),
        )
        .where(Notice.id == notice_id)
        .first()
    )
    if row is None:
        raise NotFound("no notice with id {notice_id}", notice_id=notice_id)
    return row


def atom_feed(rows: list[dict[str, Any]], *, base_url: str, updated: datetime) -> str:
    """The newest notices as an Atom 1.0 feed (RFC 4287), so anyone can follow the portal."""
    entries = []
    for row in rows:
        url = f"{base_url}/notices/{row['id']}"
        kind = NoticeKind(row["kind"])
        entries.append(
            "<entry>"
            f"<id>{escape(url)}</id>"
            f"<title>{escape(row['title'])}</title>"
            f'<link rel="alternate" href="{escape(url)}"/>'
            f"<updated>{row['published_at'].isoformat()}</updated>"
            f'<category term="{kind.value}" label="{escape(kind.label_zh)}"/>'
            f"<author><name>{escape(row['purchaser_name'])}</name></author>"
            f"<summary>{escape(kind.label_zh)} · {escape(row['project_code'])}</summary>"
            "</entry>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>{escape(base_url)}/feed.atom</id>"
        "<title>招采 Zhaocai — 公告 Notices</title>"
        f'<link rel="self" href="{escape(base_url)}/feed.atom"/>'
        f"<updated>{updated.isoformat()}</updated>" + "".join(entries) + "</feed>"
    )
