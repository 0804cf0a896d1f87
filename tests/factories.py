"""Test data factories: organisations, users, projects in a chosen state, logged-in clients."""

from __future__ import annotations

import asyncio
import base64
import itertools
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from litestar import Litestar
from litestar.testing import AsyncTestClient

from bidding.envelope import public_key_bytes
from bidding.keys import generate_custodian_key
from procurement.accounts import create_user
from procurement.clock import CHINA, SYSTEM_CLOCK, FixedClock
from procurement.credit_code import credit_code_check_char
from procurement.deadlines import TimeLimits
from procurement.projects import LotDraft, ProjectDraft, create_project, publish_project
from procurement.roles import Actor, EnterpriseSize, OrganisationKind, Role
from procurement.tables import Lot, Organisation, User
from storage import ObjectStore

PASSWORD = "correct-horse-battery"
_serial = itertools.count(1)
#: Limits for tests that need a deadline seconds away on any day of the week.
ANY_DAY = TimeLimits(deadline_on_working_day=False)


def credit_code(serial: int | None = None) -> str:
    """A fresh valid unified social credit code."""
    body = f"91320582{serial if serial is not None else next(_serial):08d}X"
    return body + credit_code_check_char(body)


async def organisation(
    kind: OrganisationKind,
    name: str = "",
    *,
    size: EnterpriseSize = EnterpriseSize.SMALL,
    status: str = "approved",
) -> int:
    """Create an organisation; returns its id."""
    org = Organisation(
        name=name or f"{kind.value} {next(_serial)}",
        kind=kind,
        credit_code=credit_code(),
        enterprise_size=size if kind is OrganisationKind.SUPPLIER else "",
        status=status,
        created_at=SYSTEM_CLOCK.now(),
    )
    await org.save()
    return int(org.id)


async def actor(
    role: Role, *, organisation_id: int | None = None, username: str | None = None
) -> Actor:
    """Create an active user of ``role`` (with an organisation where the role needs one)."""
    if organisation_id is None and role in {Role.PURCHASER, Role.BIDDER}:
        kind = (
            OrganisationKind.PURCHASING_UNIT
            if role is Role.PURCHASER
            else OrganisationKind.SUPPLIER
        )
        organisation_id = await organisation(kind)
    username = username or f"{role.value}{next(_serial)}"
    user_id = await create_user(
        username=username,
        password=PASSWORD,
        role=role,
        display_name=username,
        organisation_id=organisation_id,
    )
    return Actor(
        user_id=user_id,
        username=username,
        role=role,
        organisation_id=organisation_id,
        display_name=username,
    )


def local(days: float, hour: int = 10) -> datetime:
    """A time ``days`` from now at ``hour`` China Standard Time."""
    base = (
        SYSTEM_CLOCK.now().astimezone(CHINA).replace(hour=hour, minute=0, second=0, microsecond=0)
    )
    return base + timedelta(days=days)


def draft(
    *,
    deadline: datetime,
    title: str = "测试项目 Test project",
    method: str = "open_tender",
    category: str = "goods",
    budgets: tuple[str, ...] = ("1000000.00",),
    custody_mode: str = "custodians",
    documents_days: int = 21,
) -> ProjectDraft:
    """A valid draft whose bid deadline is ``deadline``."""
    start = deadline - timedelta(days=documents_days)
    return ProjectDraft(
        title=title,
        title_en="Test project",
        category=category,
        method=method,
        documents_from=start,
        documents_until=start + timedelta(days=7),
        bid_deadline=deadline,
        opening_time=deadline,
        custody_mode=custody_mode,
        lots=[LotDraft(title=f"标段 {i}", budget=b) for i, b in enumerate(budgets, start=1)],
    )


#: Custodians' private keys by user id (the platform never sees them; tests play custodian).
CUSTODIAN_KEYS: dict[int, ec.EllipticCurvePrivateKey] = {}


async def custodians(count: int = 3) -> list[Actor]:
    """Key custodians with registered keys (created once per emptied database)."""
    from bidding.services import register_custodian_key
    from bidding.tables import CustodianKey

    existing = await CustodianKey.select(CustodianKey.user).order_by(CustodianKey.id)
    if len(existing) >= count:
        users = await User.objects().where(User.id.is_in([r["user"] for r in existing]))
        return [Actor(user_id=u.id, username=u.username, role=Role.CUSTODIAN) for u in users]
    people = []
    for _ in range(count):
        person = await actor(Role.CUSTODIAN)
        key = generate_custodian_key()
        CUSTODIAN_KEYS[int(person.user_id or 0)] = key
        public = base64.b64encode(public_key_bytes(key.public_key())).decode()
        await register_custodian_key(person, public)
        people.append(person)
    return people


async def published_project(
    purchaser: Actor, *, deadline: datetime | None = None, **kwargs: Any
) -> int:
    """Create and publish a project (published "in the past" when the deadline is near)."""
    deadline = deadline or local(30)
    project_draft = draft(deadline=deadline, **kwargs)
    if project_draft.custody_mode == "custodians":
        await custodians()
    clock = FixedClock(project_draft.documents_from - timedelta(hours=1))
    project_id = await create_project(purchaser, project_draft, clock=clock, limits=ANY_DAY)
    from evaluation.services import set_default_schemes

    await set_default_schemes(purchaser, project_id)  # tenders publish with a scoring scheme
    await publish_project(purchaser, project_id, clock=clock, limits=ANY_DAY)
    return project_id


async def login(client: AsyncTestClient[Litestar], username: str, password: str = PASSWORD) -> None:
    """Log a client in through the real login form (CSRF token included)."""
    await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "_csrf_token": client.cookies.get("zc_csrf", ""),
        },
        follow_redirects=False,
    )
    assert response.status_code == 302, response.text


def csrf(client: AsyncTestClient[Litestar]) -> dict[str, str]:
    """The CSRF form field for the client's current token."""
    return {"_csrf_token": client.cookies.get("zc_csrf") or ""}


async def wait_for_lot(lot_id: int, statuses: set[str], seconds: float = 40) -> str:
    """Poll a lot until the worker moves it into one of ``statuses``; its last status."""
    status = ""
    for _ in range(int(seconds * 4)):
        lot = await Lot.objects().where(Lot.id == lot_id).first()
        assert lot is not None
        status = lot.status
        if status in statuses:
            return status
        await asyncio.sleep(0.25)
    return status


async def started_bid_with_its_part(
    store: ObjectStore, supplier: Actor, lot_id: int
) -> tuple[int, int, bytes]:
    """A bid still uploading: its sealed price file's one part is stored, nothing submitted.

    Returns the bid id, the file id and the part.
    """
    from bidding.envelope import EnvelopeContext, load_public_key, seal
    from bidding.services import FileSpec, public_opening_key, put_part, start_bid

    key = await public_opening_key(lot_id)
    public = load_public_key(base64.b64decode(key["public_key"]))
    context = EnvelopeContext(
        lot_id=str(lot_id), bidder_id=str(supplier.organisation_id), kind="price"
    )
    blob = b"".join(seal([b'{"total": "1.00"}'], opening_public_key=public, context=context))
    started = await start_bid(
        supplier, lot_id, [FileSpec(kind="price", size=len(blob))], store=store
    )
    file_id = int(started["files"][0]["file_id"])
    await put_part(supplier, started["bid_id"], file_id, 1, blob, store=store)
    return int(started["bid_id"]), file_id, blob


async def wait_for_upload_closed(file_id: int, seconds: float = 30) -> bool:
    """Poll a bid file until the worker's sweep has closed its store upload."""
    from bidding.tables import BidFile

    for _ in range(int(seconds * 4)):
        row = await BidFile.select(BidFile.upload_id).where(BidFile.id == file_id).first()
        if row is not None and row["upload_id"] == "":
            return True
        await asyncio.sleep(0.25)
    return False
