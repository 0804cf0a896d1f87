"""Demo data, so a new installation has something to show.

A city hospital and a school district, suppliers, officials, and projects in every state,
in Chinese with English text.

Past states are reached through the real services with a clock set in the past, so every
lot's audit trail and notices are what the platform itself would have produced.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bidding.envelope import public_key_bytes
from bidding.keys import decrypt_share, export_custodian_key, generate_custodian_key
from bidding.platform_keys import master_key, signing_key
from bidding.services import (
    encrypted_share_for,
    open_lot,
    register_custodian_key,
    release_share,
    submit_sealed_bid,
)
from procurement.accounts import create_user
from procurement.calendar import WorkingDayCalendar
from procurement.clock import CHINA, SYSTEM_CLOCK, Clock, FixedClock
from procurement.contracts import record_contract
from procurement.credit_code import credit_code_check_char
from procurement.lifecycle import LotEvent
from procurement.money import yuan_to_fen
from procurement.projects import (
    LotDraft,
    ProjectDraft,
    cancel_project,
    close_lot_if_due,
    create_project,
    publish_project,
    transition_lot,
)
from procurement.results import record_award
from procurement.roles import AccountStatus, Actor, EnterpriseSize, OrganisationKind, Role
from procurement.settings import Settings
from procurement.tables import Lot, Organisation, Project, User
from storage import open_object_store

DEMO_PASSWORD = "zhaocai-demo-2026"  # noqa: S105 - published demo logins, printed by make run
DEMO_CUSTODIAN_PASSPHRASE = "zhaocai-demo-custodian"  # noqa: S105 - demo key files
DEMO_LOGINS: dict[str, Any] = {
    "password": DEMO_PASSWORD,
    "users": [
        ("admin", "admin"),
        ("purchaser", "hospital"),
        ("purchaser", "school"),
        ("bidder", "supplier1"),
        ("bidder", "supplier2"),
        ("bidder", "supplier3"),
        ("custodian", "custodian1"),
        ("supervisor", "supervisor"),
        ("expert", "expert001"),
    ],
}


def demo_credit_code(serial: int, *, kind: str = "91") -> str:
    """A valid unified social credit code for demo organisations (check digit computed)."""
    body = f"{kind}320582{serial:08d}"
    body = body[:16] + "X"  # 17 characters; the last is a valid charset letter
    return body + credit_code_check_char(body)


@dataclass(frozen=True)
class _Org:
    name: str
    name_en: str
    kind: OrganisationKind
    size: EnterpriseSize = EnterpriseSize.LARGE


PURCHASERS = [
    _Org(
        "张家港市第一人民医院",
        "Zhangjiagang No. 1 People's Hospital",
        OrganisationKind.PURCHASING_UNIT,
    ),
    _Org(
        "张家港市教育局（城区学区）",
        "Zhangjiagang Education Bureau (City School District)",
        OrganisationKind.PURCHASING_UNIT,
    ),
]
AGENCY = _Org(
    "苏州中正招标代理有限公司",
    "Suzhou Zhongzheng Tendering Agency Co., Ltd.",
    OrganisationKind.AGENCY,
)
SUPPLIERS = [
    _Org(
        "江苏康华医疗器械有限公司",
        "Jiangsu Kanghua Medical Devices Co., Ltd.",
        OrganisationKind.SUPPLIER,
        EnterpriseSize.MEDIUM,
    ),
    _Org(
        "苏州博远信息技术有限公司",
        "Suzhou Boyuan Information Technology Co., Ltd.",
        OrganisationKind.SUPPLIER,
        EnterpriseSize.SMALL,
    ),
    _Org(
        "张家港市恒通办公设备有限公司",
        "Zhangjiagang Hengtong Office Equipment Co., Ltd.",
        OrganisationKind.SUPPLIER,
        EnterpriseSize.MICRO,
    ),
    _Org(
        "上海华东暖通工程有限公司",
        "Shanghai East China HVAC Engineering Co., Ltd.",
        OrganisationKind.SUPPLIER,
        EnterpriseSize.LARGE,
    ),
    _Org(
        "无锡金桥物业服务有限公司",
        "Wuxi Jinqiao Property Services Co., Ltd.",
        OrganisationKind.SUPPLIER,
        EnterpriseSize.SMALL,
    ),
    _Org(
        "南京长江建设集团有限公司",
        "Nanjing Changjiang Construction Group Co., Ltd.",
        OrganisationKind.SUPPLIER,
        EnterpriseSize.LARGE,
    ),
]


async def _organisation(org: _Org, serial: int, now: datetime) -> int:
    row = Organisation(
        name=org.name,
        name_en=org.name_en,
        kind=org.kind,
        credit_code=demo_credit_code(
            serial, kind="12" if org.kind is OrganisationKind.PURCHASING_UNIT else "91"
        ),
        enterprise_size=org.size if org.kind is OrganisationKind.SUPPLIER else "",
        contact_person="王经理",
        contact_phone="0512-5870 0000",
        categories="goods,services,works",
        status="approved",
        created_at=now,
    )
    await row.save()
    return int(row.id)


@dataclass(frozen=True)
class _Days:
    """Demo dates relative to a "today", always on working days so every timeline is legal.

    ``now`` is the moment the demo loads: whatever has happened in the demo happened by then.
    """

    today: datetime
    calendar: WorkingDayCalendar
    now: datetime

    def at(self, days: int, hour: int = 9) -> datetime:
        """``days`` from today at ``hour`` o'clock China Standard Time."""
        return self.today.replace(hour=hour) + timedelta(days=days)

    def working(self, days: int, hour: int = 9) -> datetime:
        """The first working day on or after ``days`` from today, at ``hour``."""
        day = self.calendar.next_working_day(self.at(days).date())
        return datetime.combine(day, self.today.replace(hour=hour).timetz())

    def working_after(self, start: datetime, count: int, hour: int) -> datetime:
        """``count`` working days after ``start``, at ``hour``."""
        day = self.calendar.add_working_days(start.date(), count)
        return datetime.combine(day, self.today.replace(hour=hour).timetz())


_CLOSING_DELAY = timedelta(minutes=1)
"""How long after its deadline a demo project's clock stands when ``_project`` returns."""


def _schedule(days: _Days, start_days: int, method: str) -> tuple[datetime, datetime, datetime]:
    """Documents from, documents until and bid deadline of documents out ``start_days``."""
    documents_from = days.working(start_days, 9)
    documents_until = days.working_after(documents_from, 6, 17)
    if method == "price_inquiry":
        deadline = days.working_after(documents_from, 4, 9)
        documents_until = min(documents_until, deadline)  # on offer until the quote deadline
    else:
        earliest = max(documents_from + timedelta(days=21), documents_until)
        deadline = days.working_after(earliest - timedelta(days=1), 1, 9)
    return documents_from, documents_until, deadline


async def _project(
    actor: Actor,
    days: _Days,
    *,
    start_days: int,
    title: str,
    title_en: str,
    category: str,
    method: str,
    lots: list[tuple[str, str, str]],
    custody: str = "custodians",
    reserve: bool = False,
    description: str = "",
    description_en: str = "",
    closed: bool = False,
) -> tuple[int, FixedClock]:
    """Create and publish a project whose documents went out ``start_days`` from today.

    Weekends and holidays push dates counted from ``start_days`` later, possibly past the
    moment the demo loads (``days.now``), so: it is published an hour before its documents
    go out, or at ``days.now`` if that is earlier; and a project that the demo goes on to
    close (and open, award...) passes ``closed``: its documents then go out earlier, a day at
    a time, until its deadline has passed by ``days.now`` (no lot is shown "Bidding closed"
    with its deadline still ahead). The returned clock stands just after the bid deadline.
    """
    documents_from, documents_until, deadline = _schedule(days, start_days, method)
    while closed and deadline + _CLOSING_DELAY > days.now:
        start_days -= 1
        documents_from, documents_until, deadline = _schedule(days, start_days, method)
    clock = FixedClock(min(documents_from - timedelta(hours=1), days.now))
    draft = ProjectDraft(
        title=title,
        title_en=title_en,
        category=category,
        method=method,
        description=description,
        description_en=description_en,
        documents_from=documents_from,
        documents_until=documents_until,
        clarification_deadline=None,
        bid_deadline=deadline,
        opening_time=deadline,
        custody_mode=custody,
        lots=[
            LotDraft(title=t, title_en=te, budget=b, reserve_price=b if reserve else "")
            for t, te, b in lots
        ],
    )
    project_id = await create_project(actor, draft, clock=clock, calendar=days.calendar)
    from evaluation.services import set_default_schemes

    await set_default_schemes(actor, project_id)  # tenders publish with a scoring scheme
    await publish_project(actor, project_id, clock=clock, calendar=days.calendar)
    clock.advance(deadline - clock.now() + _CLOSING_DELAY)
    return project_id, clock


async def load_demo_data(
    settings: Settings, *, force: bool = False, clock: Clock = SYSTEM_CLOCK
) -> bool:
    """Load the demo once; returns False when the database already has users.

    Every date is relative to ``clock``'s today and falls on a working day, so the demo
    loads on any day of the year.
    """
    if not force and await User.count() > 0:
        return False
    demo_clock = clock
    now = demo_clock.now()
    days = _Days(
        today=now.astimezone(CHINA).replace(hour=0, minute=0, second=0, microsecond=0),
        calendar=WorkingDayCalendar(),
        now=now,
    )
    hospital_id = await _organisation(PURCHASERS[0], 1, now)
    school_id = await _organisation(PURCHASERS[1], 2, now)
    await _organisation(AGENCY, 3, now)
    supplier_ids = [await _organisation(s, 10 + i, now) for i, s in enumerate(SUPPLIERS)]

    async def user(username: str, role: Role, name: str, org: int | None = None) -> Actor:
        user_id = await create_user(
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            display_name=name,
            organisation_id=org,
        )
        return Actor(
            user_id=user_id, username=username, role=role, organisation_id=org, display_name=name
        )

    await user("admin", Role.ADMIN, "平台管理员 Admin")
    hospital = await user("hospital", Role.PURCHASER, "李主任 (医院采购办)", hospital_id)
    school = await user("school", Role.PURCHASER, "陈老师 (教育局装备科)", school_id)
    suppliers = [
        await user(f"supplier{i}", Role.BIDDER, f"供应商联系人 {i}", supplier_id)
        for i, supplier_id in enumerate(supplier_ids, start=1)
    ]
    key_dir = settings.data_dir / "demo-custodian-keys"
    key_dir.mkdir(parents=True, exist_ok=True)
    custodian_keys = []
    for i in range(1, 4):
        custodian = await user(f"custodian{i}", Role.CUSTODIAN, f"密钥保管人 {i}")
        key = generate_custodian_key()
        custodian_keys.append((custodian, key))
        (key_dir / f"custodian{i}.json").write_bytes(
            export_custodian_key(key, DEMO_CUSTODIAN_PASSPHRASE)
        )
        await register_custodian_key(
            custodian, base64.b64encode(public_key_bytes(key.public_key())).decode()
        )
    await user("supervisor", Role.SUPERVISOR, "财政局监督科 Supervisor")
    from expert_pool.demo import load_demo_pool

    await load_demo_pool(
        count=300, password=DEMO_PASSWORD, employers=[hospital_id, *supplier_ids], clock=demo_clock
    )
    pending = Organisation(
        name="昆山新锐电子科技有限公司",
        name_en="Kunshan Xinrui Electronics Co., Ltd.",
        kind=OrganisationKind.SUPPLIER,
        credit_code=demo_credit_code(99),
        enterprise_size=EnterpriseSize.SMALL,
        contact_person="赵女士",
        contact_phone="0512-5000 1234",
        categories="goods",
        status="pending",
        created_at=now,
    )
    await pending.save()
    from procurement.accounts import hash_password

    await User(
        username="newsupplier",
        password_hash=hash_password(DEMO_PASSWORD),
        display_name="赵女士",
        role=Role.BIDDER,
        organisation=pending.id,
        status=AccountStatus.PENDING,
        created_at=now,
    ).save()

    # Open for bids
    await _project(
        hospital,
        days,
        start_days=-2,
        title="医学影像设备采购项目（CT、DR）",
        title_en="Medical imaging equipment (CT, DR)",
        category="goods",
        method="open_tender",
        description="采购64排CT一台、数字化X射线摄影系统(DR)两台，含安装、培训及五年维保。",
        description_en="One 64-slice CT scanner and two digital radiography systems, "
        "including installation, training and five years of maintenance.",
        lots=[
            ("64排CT", "64-slice CT scanner", "6800000.00"),
            ("DR系统两台", "Two DR systems", "2400000.00"),
        ],
    )
    await _project(
        school,
        days,
        start_days=-1,
        title="城区中小学计算机教室设备更新",
        title_en="Computer classroom renewal for city schools",
        category="goods",
        method="open_tender",
        description="为12所学校更新计算机教室，共600台学生机。",
        description_en="Computer rooms for 12 schools, 600 student PCs.",
        lots=[("学生计算机600台", "600 student PCs", "2100000.00")],
    )
    store = open_object_store(settings.storage_url)
    receipts_key = signing_key(settings)

    async def sealed_bids(lot_id: int, offers: list[tuple[Actor, str]], deadline: Clock) -> None:
        """Suppliers seal and submit their bids the day before the deadline."""
        day_before = FixedClock(deadline.now() - timedelta(days=1))
        for bidder, price in offers:
            await submit_sealed_bid(
                bidder,
                lot_id,
                Decimal(price),
                {"technical": "技术响应文件（演示）".encode()},
                store=store,
                signing_key=receipts_key,
                clock=day_before,
            )

    async def open_with_custodians(lot_id: int, clock: FixedClock) -> None:
        """Two custodians decrypt and release their shares; the opening runs (开标)."""
        for custodian, key in custodian_keys[:2]:
            encrypted = await encrypted_share_for(custodian, lot_id, clock=clock)
            share = decrypt_share(
                base64.b64decode(encrypted["encrypted_share"]),
                key,
                lot_id=str(lot_id),
                custodian_id=str(custodian.user_id),
            )
            await release_share(custodian, lot_id, base64.b64encode(share).decode(), clock=clock)
        await open_lot(lot_id, store=store, master=master_key(settings), clock=clock)

    # Awarded: opened by the custodians, evaluated, award confirmed
    project_id, clock = await _project(
        hospital,
        days,
        start_days=-70,
        title="医院物业管理服务（2027年度）",
        title_en="Hospital property management services (2027)",
        category="services",
        method="open_tender",
        lots=[("物业管理服务", "Property management", "3579000.00")],
        closed=True,
    )
    lot = await Lot.objects().where(Lot.project == project_id).first()
    assert lot is not None  # noqa: S101
    winning_price = "3326700.00"  # yuan, as declared in the winner's sealed bid
    await sealed_bids(
        lot.id,
        [(suppliers[4], winning_price), (suppliers[1], "3398000.00"), (suppliers[2], "3455000.00")],
        clock,
    )
    await close_lot_if_due(lot.id, clock=clock)
    await open_with_custodians(lot.id, clock)
    clock.advance(timedelta(days=2))
    await transition_lot(lot.id, LotEvent.START_EVALUATION, clock=clock)
    clock.advance(timedelta(days=3))
    await record_award(
        lot.id,
        supplier_id=supplier_ids[4],
        award_amount_fen=yuan_to_fen(Decimal(winning_price)),  # the winning bid's price
        actor=hospital,
        clock=clock,
    )
    # signed well inside the 30 days of GPL Art. 46, so the dashboard shows it done
    clock.advance(timedelta(days=12))
    await record_contract(
        hospital,
        lot.id,
        amount_fen=yuan_to_fen(Decimal(winning_price)),
        signed_on=clock.now().astimezone(CHINA).date(),
        clock=clock,
    )
    # Failed: only two bids at the deadline (TBL Art. 28)
    project_id, clock = await _project(
        school,
        days,
        start_days=-40,
        title="学区空调设备采购",
        title_en="Air conditioners for schools",
        category="goods",
        method="open_tender",
        lots=[("教室空调", "Classroom air conditioners", "860000.00")],
        closed=True,
    )
    lot = await Lot.objects().where(Lot.project == project_id).first()
    assert lot is not None  # noqa: S101
    await sealed_bids(lot.id, [(suppliers[2], "812000.00"), (suppliers[0], "845500.00")], clock)
    await close_lot_if_due(lot.id, clock=clock)
    # Works tender, closed and waiting for opening
    project_id, clock = await _project(
        school,
        days,
        start_days=-23,
        title="第三实验小学教学楼改扩建工程施工",
        title_en="Construction: extension of No. 3 Experimental Primary School",
        category="works",
        method="open_tender",
        reserve=True,
        lots=[("施工总承包", "General construction contract", "18650000.00")],
        closed=True,
    )
    lot = await Lot.objects().where(Lot.project == project_id).first()
    assert lot is not None  # noqa: S101
    await sealed_bids(
        lot.id,
        [
            (suppliers[3], "17920000.00"),
            (suppliers[5], "18310500.00"),
            (suppliers[0], "17455800.00"),
        ],
        clock,
    )
    await close_lot_if_due(lot.id, clock=clock)
    # Cancelled while open
    project_id, clock = await _project(
        hospital,
        days,
        start_days=-5,
        title="病房护理床采购（已终止）",
        title_en="Hospital beds (cancelled)",
        category="goods",
        method="open_tender",
        lots=[("电动护理床80张", "80 electric care beds", "960000.00")],
    )
    # two days ago, or, when holidays put its publication later, soon after it (not after now)
    project = await Project.objects().where(Project.id == project_id).first()
    assert project is not None  # noqa: S101
    cancelled_at = min(max(days.at(-3, 10), project.published_at + timedelta(hours=1)), now)
    await cancel_project(
        hospital, project_id, "采购需求变更，本项目终止。", clock=FixedClock(cancelled_at)
    )
    # A draft the purchaser has not published yet
    documents_from = days.working(3, 9)
    consultation_deadline = days.working(20, 9)
    await create_project(
        hospital,
        ProjectDraft(
            title="医院信息系统等级保护测评服务",
            title_en="Security assessment of hospital systems",
            category="services",
            method="competitive_consultation",
            documents_from=documents_from,
            documents_until=days.working_after(documents_from, 5, 17),
            clarification_deadline=None,
            bid_deadline=consultation_deadline,
            opening_time=consultation_deadline,
            lots=[LotDraft(title="等级保护测评", budget="380000.00")],
        ),
        clock=demo_clock,
        calendar=days.calendar,
    )
    return True
