"""Timeliness: every open item with a deadline as green, yellow or red (seed 001, seed 000 一).

The seeds' supervision systems light a case green while it is within its promised time,
yellow when the limit is close and red once it is overdue. Here:

- **red**: ``now`` is past the item's due time;
- **yellow**: the item falls due before the end of the next working day;
- **green**: otherwise.

The model is a pure function, :func:`summarise`, over :class:`DeadlineItem` values with
``now`` and the working-day calendar passed in. Items come from *loaders*: async callables
registered with :func:`register_loader`. The core registers the kinds it can derive from its
own tables; a higher package (evaluation, contracts) adds its own kinds by registering a
loader at start-up, without this module importing it::

    from procurement.timeliness import DeadlineItem, register_loader

    async def expert_confirmations(calendar, now):
        return [DeadlineItem(kind="expert_confirmation", ...) for ... in ...]

    register_loader(expert_confirmations)

The same package can count its kind in the statistics' share of deadlines met with
:func:`register_share_loader`. Overdue (red) items of every loader are warned about once per
person by the periodic task ``procurement.warn_overdue`` (:func:`warn_overdue`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine

from procurement.calendar import WorkingDayCalendar
from procurement.clock import CHINA
from procurement.contracts import SIGNING_DAYS, signing_due
from procurement.db import as_aware
from procurement.notifications import notify_many
from procurement.tables import Lot, Notification, Question, User

ANSWER_WORKING_DAYS = 3  # GPL-R Art. 52: answer within 3 working days
AWARD_CONFIRMATION_WORKING_DAYS = 5  # GPL-R Art. 43: confirm within 5 working days


@dataclass(frozen=True)
class DeadlineItem:
    """Something that must be done by ``due`` (an aware datetime)."""

    kind: str
    label_zh: str
    label_en: str
    unit_id: int
    unit_name: str
    subject: str
    link: str
    due: datetime
    rule: str
    key: str = ""
    """Stable identity of the item (e.g. ``contract:17``): one overdue warning per key."""
    unit_name_en: str = ""
    """The unit's English name, shown on English pages when the unit gave one."""

    @property
    def identity(self) -> str:
        """``key``, or the kind and subject for a loader that gives no key."""
        return self.key or f"{self.kind}:{self.subject}"


@dataclass(frozen=True)
class ItemStatus:
    """An item with its light at the time of :func:`summarise`."""

    item: DeadlineItem
    light: str  # green | yellow | red


@dataclass
class UnitGroup:
    """One purchasing unit's items and counts per light."""

    unit_id: int
    unit_name: str
    items: list[ItemStatus]
    unit_name_en: str = ""

    def count(self, light: str) -> int:
        """How many items have ``light``."""
        return sum(1 for status in self.items if status.light == light)


def end_of_working_day(calendar: WorkingDayCalendar, start: datetime, n: int) -> datetime:
    """The end (24:00 CST) of the ``n``-th working day after the CST day of ``start``."""
    day = calendar.add_working_days(start.astimezone(CHINA).date(), n)
    return datetime.combine(day + timedelta(days=1), time(), CHINA)


def light_for(due: datetime, now: datetime, calendar: WorkingDayCalendar) -> str:
    """Red when overdue, yellow when due by the end of the next working day, else green."""
    if now > due:
        return "red"
    if due <= end_of_working_day(calendar, now, 1):
        return "yellow"
    return "green"


_ORDER = {"red": 0, "yellow": 1, "green": 2}


def summarise(
    items: Iterable[DeadlineItem], now: datetime, calendar: WorkingDayCalendar
) -> list[ItemStatus]:
    """Each item's light at ``now``: red first, then yellow, then green, earliest due first."""
    statuses = [ItemStatus(item, light_for(item.due, now, calendar)) for item in items]
    return sorted(statuses, key=lambda s: (_ORDER[s.light], s.item.due))


def group_by_unit(statuses: Iterable[ItemStatus]) -> list[UnitGroup]:
    """Items per purchasing unit; units with red items first, then by name."""
    groups: dict[int, UnitGroup] = {}
    for status in statuses:
        item = status.item
        groups.setdefault(
            item.unit_id, UnitGroup(item.unit_id, item.unit_name, [], item.unit_name_en)
        ).items.append(status)
    return sorted(groups.values(), key=lambda g: (-g.count("red"), -g.count("yellow"), g.unit_name))


ItemLoader = Callable[[WorkingDayCalendar, datetime], Awaitable[list[DeadlineItem]]]
_loaders: list[ItemLoader] = []


def register_loader(loader: ItemLoader) -> None:
    """Add a source of deadline items (idempotent)."""
    if loader not in _loaders:
        _loaders.append(loader)


async def load_items(calendar: WorkingDayCalendar, now: datetime) -> list[DeadlineItem]:
    """Every registered loader's open items at ``now``."""
    items: list[DeadlineItem] = []
    for loader in _loaders:
        items.extend(await loader(calendar, now))
    return items


async def unanswered_questions(calendar: WorkingDayCalendar, now: datetime) -> list[DeadlineItem]:
    """Supplier questions without an answer: due 3 working days after asking (GPL-R Art. 52)."""
    rows = await Question.select(
        Question.id,
        Question.asked_at,
        Question.project.id.as_alias("project_id"),
        Question.project.code.as_alias("code"),
        Question.project.purchaser.id.as_alias("unit_id"),  # type: ignore[union-attr]
        Question.project.purchaser.name.as_alias("unit_name"),  # type: ignore[union-attr]
        Question.project.purchaser.name_en.as_alias("unit_name_en"),  # type: ignore[union-attr]
    ).where(Question.answered_at.is_null())
    return [
        DeadlineItem(
            kind="question",
            label_zh="答复供应商询问",
            label_en="Answer a supplier's question",
            unit_id=int(row["unit_id"]),
            unit_name=str(row["unit_name"]),
            unit_name_en=str(row["unit_name_en"] or ""),
            subject=f"{row['code']} · Q{row['id']}",
            link=f"/projects/{row['project_id']}",
            due=end_of_working_day(calendar, row["asked_at"], ANSWER_WORKING_DAYS),
            rule="GPL-R Art. 52",
            key=f"question:{row['id']}",
        )
        for row in rows
    ]


def _lot_columns() -> list[object]:
    return [
        Lot.id,
        Lot.number,
        Lot.status,
        Lot.updated_at,
        Lot.project.id.as_alias("project_id"),
        Lot.project.code.as_alias("code"),
        Lot.project.opening_time.as_alias("opening_time"),
        Lot.project.bid_deadline.as_alias("bid_deadline"),
        Lot.project.purchaser.id.as_alias("unit_id"),  # type: ignore[union-attr]
        Lot.project.purchaser.name.as_alias("unit_name"),  # type: ignore[union-attr]
        Lot.project.purchaser.name_en.as_alias("unit_name_en"),  # type: ignore[union-attr]
    ]


async def openings_due(calendar: WorkingDayCalendar, now: datetime) -> list[DeadlineItem]:
    """Lots whose bid deadline has passed and that are not opened: due at the opening time.

    The opening takes place at the bid deadline (GPL-R Art. 39; TBL Art. 34); a lot still
    waiting after its opening time is overdue.
    """
    rows = await Lot.select(*_lot_columns()).where(  # type: ignore[arg-type]
        (Lot.status == "bidding_closed")
        | ((Lot.status == "published") & (Lot.project.bid_deadline <= now))
    )
    return [
        DeadlineItem(
            kind="opening",
            label_zh="开标",
            label_en="Open the bids",
            unit_id=int(row["unit_id"]),
            unit_name=str(row["unit_name"]),
            unit_name_en=str(row["unit_name_en"] or ""),
            subject=f"{row['code']} · {row['number']}",
            link=f"/projects/{row['project_id']}",
            due=row["opening_time"],
            rule="GPL-R Art. 39; TBL Art. 34",
            key=f"opening:{row['id']}",
        )
        for row in rows
    ]


async def award_confirmations_due(
    calendar: WorkingDayCalendar, now: datetime
) -> list[DeadlineItem]:
    """Lots under evaluation: the purchaser confirms the award within 5 working days.

    GPL-R Art. 43 counts from the receipt of the evaluation report; the core does not store
    that moment, so the count starts when evaluation started (the lot's last change), which
    is never later. The evaluation package can register an exact item kind instead.
    """
    rows = await Lot.select(*_lot_columns()).where(Lot.status == "evaluating")  # type: ignore[arg-type]
    return [
        DeadlineItem(
            kind="award_confirmation",
            label_zh="确认中标/成交结果",
            label_en="Confirm the award",
            unit_id=int(row["unit_id"]),
            unit_name=str(row["unit_name"]),
            unit_name_en=str(row["unit_name_en"] or ""),
            subject=f"{row['code']} · {row['number']}",
            link=f"/projects/{row['project_id']}",
            due=end_of_working_day(calendar, row["updated_at"], AWARD_CONFIRMATION_WORKING_DAYS),
            rule="GPL-R Art. 43",
            key=f"award_confirmation:{row['id']}",
        )
        for row in rows
    ]


async def contracts_due(calendar: WorkingDayCalendar, now: datetime) -> list[DeadlineItem]:
    """Awarded lots without a recorded contract: signed within 30 days of the award notice.

    GPL Art. 46 and TBL Art. 46 (calendar days, not working days).
    """
    rows = await Lot.raw(
        """
        SELECT l.id AS id, l.number AS number, l.awarded_at AS awarded_at,
               p.id AS project_id, p.code AS code, o.id AS unit_id, o.name AS unit_name,
               o.name_en AS unit_name_en
        FROM lot l JOIN project p ON p.id = l.project
             JOIN organisation o ON o.id = p.purchaser
             LEFT JOIN contract c ON c.lot = l.id
        WHERE l.status = 'awarded' AND l.awarded_at IS NOT NULL AND c.id IS NULL
        """
    )
    return [
        DeadlineItem(
            kind="contract_signing",
            label_zh="签订采购合同",
            label_en="Sign the contract",
            unit_id=int(row["unit_id"]),
            unit_name=str(row["unit_name"]),
            unit_name_en=str(row["unit_name_en"] or ""),
            subject=f"{row['code']} · {row['number']}",
            link=f"/purchaser/lots/{row['id']}/contract",
            due=signing_due(as_aware(row["awarded_at"])),
            rule="GPL Art. 46; TBL Art. 46",
            key=f"contract:{row['id']}",
        )
        for row in rows
    ]


register_loader(unanswered_questions)
register_loader(openings_due)
register_loader(award_confirmations_due)
register_loader(contracts_due)


def due_date(item: DeadlineItem) -> date:
    """The last CST calendar day of an item: a due time of 24:00 belongs to the day before."""
    return (item.due - timedelta(microseconds=1)).astimezone(CHINA).date()


# --------------------------------------------------------------------------- deadlines met


@dataclass(frozen=True)
class Scope:
    """Deadlines falling due in [``low``, ``high``), optionally of one unit, category, method."""

    low: datetime
    high: datetime
    purchaser_id: int | None = None
    category: str | None = None
    method: str | None = None


@dataclass(frozen=True)
class DeadlineOutcome:
    """A deadline and when the thing was done (None: not yet)."""

    kind: str
    due: datetime
    done_at: datetime | None

    def met(self) -> bool:
        """Done by the due time."""
        return self.done_at is not None and self.done_at <= self.due


ShareLoader = Callable[[WorkingDayCalendar, Scope, datetime], Awaitable[tuple[int, int]]]
"""``async (calendar, scope, now) -> (fell due, met)`` for one kind of deadline."""
_share_loaders: list[ShareLoader] = []


def register_share_loader(loader: ShareLoader) -> None:
    """Add a kind of deadline to the share met (idempotent); as :func:`register_loader`.

    A higher package (expert confirmations, evaluations) registers one at start-up, next
    to its dashboard loader, and its deadlines count in the statistics too.
    """
    if loader not in _share_loaders:
        _share_loaders.append(loader)


def deadlines_met(
    outcomes: Iterable[DeadlineOutcome], scope: Scope, now: datetime
) -> tuple[int, int]:
    """(fell due, met) over the deadlines due inside the scope and not after ``now`` (pure).

    A deadline still ahead is not counted yet; one that passed undone counts as missed.
    """
    due = [o for o in outcomes if scope.low <= o.due < scope.high and o.due <= now]
    return len(due), sum(1 for o in due if o.met())


async def deadline_share(
    calendar: WorkingDayCalendar, scope: Scope, now: datetime
) -> tuple[int, int]:
    """(fell due, met) summed over every registered kind of deadline."""
    due = met = 0
    for loader in _share_loaders:
        kind_due, kind_met = await loader(calendar, scope, now)
        due += kind_due
        met += kind_met
    return due, met


def _project_filters(scope: Scope, alias: str = "p") -> tuple[str, list[Any]]:
    conditions: list[str] = []
    values: list[Any] = []
    for column, value in (
        ("purchaser", scope.purchaser_id),
        ("category", scope.category),
        ("method", scope.method),
    ):
        if value is not None:
            conditions.append(f"{alias}.{column} = {{}}")
            values.append(value)
    return "".join(f" AND {c}" for c in conditions), values


async def question_share(
    calendar: WorkingDayCalendar, scope: Scope, now: datetime
) -> tuple[int, int]:
    """Questions whose 3-working-day answer deadline falls in the scope (GPL-R Art. 52).

    Working days need the calendar, so the few questions of the window are folded in
    Python; asked at most 20 days before the window, since 3 working days never span more,
    even across the Spring Festival week.
    """
    extra, values = _project_filters(scope)
    rows = await Question.raw(
        f"""
        SELECT q.asked_at AS asked_at, q.answered_at AS answered_at
        FROM question q JOIN project p ON p.id = q.project
        WHERE q.asked_at >= {{}} AND q.asked_at < {{}}{extra}
        """,  # noqa: S608 - fixed fragments only; values are bound parameters
        scope.low - timedelta(days=20),
        scope.high,
        *values,
    )
    outcomes = [
        DeadlineOutcome(
            "question",
            end_of_working_day(calendar, as_aware(row["asked_at"]), ANSWER_WORKING_DAYS),
            None if row["answered_at"] is None else as_aware(row["answered_at"]),
        )
        for row in rows
    ]
    return deadlines_met(outcomes, scope, now)


def _last_signing_day(engine: Any) -> str:
    """The 30th CST day after ``l.awarded_at`` as a date, the one engine-specific piece."""
    if isinstance(engine, SQLiteEngine):
        return f"date(l.awarded_at, '+8 hours', '+{SIGNING_DAYS} days')"
    return f"(CAST(l.awarded_at AT TIME ZONE 'Asia/Shanghai' AS DATE) + {SIGNING_DAYS})"


async def contract_share(
    calendar: WorkingDayCalendar, scope: Scope, now: datetime
) -> tuple[int, int]:
    """Awarded lots whose 30-day signing deadline falls in the scope (GPL Art. 46), by SQL.

    The deadline is the end of the 30th CST day after the award, so it falls in [low, high)
    exactly when the award falls in [low − 31 days, high − 31 days) (China has no daylight
    saving), and it has passed by ``now`` when the award is before the start of the CST
    day 30 days before today. Met: signed on or before that 30th day.
    """
    extra, values = _project_filters(scope)
    today = now.astimezone(CHINA).date()
    passed = datetime.combine(today - timedelta(days=SIGNING_DAYS), time(), CHINA)
    window = timedelta(days=SIGNING_DAYS + 1)
    rows = await Lot.raw(
        f"""
        SELECT COUNT(*) AS due,
               COALESCE(SUM(CASE WHEN c.signed_on <= {_last_signing_day(Lot._meta.db)}
                                 THEN 1 ELSE 0 END), 0) AS met
        FROM lot l JOIN project p ON p.id = l.project
             LEFT JOIN contract c ON c.lot = l.id
        WHERE l.status = 'awarded' AND l.awarded_at >= {{}} AND l.awarded_at < {{}}
              AND l.awarded_at < {{}}{extra}
        """,  # noqa: S608 - fixed fragments only; values are bound parameters
        scope.low - window,
        scope.high - window,
        passed,
        *values,
    )
    return int(rows[0]["due"]), int(rows[0]["met"])


register_share_loader(question_share)
register_share_loader(contract_share)


# --------------------------------------------------------------------------- overdue warnings

OVERDUE_KIND = "overdue"


async def warn_overdue(calendar: WorkingDayCalendar, now: datetime) -> int:
    """Tell the supervisors and the unit's purchasers about each overdue item, once.

    Seed 001's supervision system raises a warning when a case turns red; the sweep runs
    every few seconds, so each recipient's notification carries the dedupe key
    ``overdue:<item>:<user>`` and later runs add nothing (ARCHITECTURE §2: idempotent).
    Keys already sent are read in batches first, so a sweep over many long-overdue items
    writes nothing and asks the database a few questions, not one per item and person.
    Returns how many notifications were queued.
    """
    red = [
        s.item
        for s in summarise(await load_items(calendar, now), now, calendar)
        if s.light == "red"
    ]
    if not red:
        return 0
    active = (User.status == "active") & (User.role == "supervisor")
    supervisors = [int(r["id"]) for r in await User.select(User.id).where(active)]
    purchasers: dict[int, list[int]] = {}
    for row in await User.select(User.id, User.organisation).where(
        (User.status == "active")
        & (User.role == "purchaser")
        & User.organisation.is_in(list({item.unit_id for item in red}))
    ):
        purchasers.setdefault(int(row["organisation"]), []).append(int(row["id"]))
    recipients = {item.identity: (purchasers.get(item.unit_id, []), supervisors) for item in red}
    wanted = [
        f"overdue:{identity}:{user}"
        for identity, groups in recipients.items()
        for group in groups
        for user in group
    ]
    sent_keys = await _existing_keys(wanted)
    queued = 0
    for item in red:
        title = f"逾期提醒：{item.label_zh} · {item.subject} (Overdue: {item.label_en})"
        body = (
            f"{item.unit_name}：{item.label_zh}已超过期限 {due_date(item)}（{item.rule}）。\n"
            f"{item.unit_name}: “{item.label_en}” was due on {due_date(item)} ({item.rule})."
        )
        prefix = f"overdue:{item.identity}"
        unit_users, supervisor_users = recipients[item.identity]
        for users, link in ((unit_users, item.link), (supervisor_users, "/reports/timeliness")):
            missing = [u for u in users if f"{prefix}:{u}" not in sent_keys]
            if missing:
                queued += await notify_many(
                    missing,
                    kind=OVERDUE_KIND,
                    title=title,
                    body=body,
                    link=link,
                    dedupe_prefix=prefix,
                )
    return queued


async def _existing_keys(keys: list[str], batch: int = 1000) -> set[str]:
    """Which of ``keys`` are already dedupe keys of notifications."""
    found: set[str] = set()
    for start in range(0, len(keys), batch):
        chunk = keys[start : start + batch]
        rows = await Notification.select(Notification.dedupe_key).where(
            Notification.dedupe_key.is_in(chunk)
        )
        found.update(str(row["dedupe_key"]) for row in rows)
    return found
