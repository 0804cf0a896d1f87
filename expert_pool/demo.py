"""A demo pool of a few hundred experts, deterministic, with realistic avoidance data.

Seed 004 describes a city pool of 127 experts in six goods fields; the demo holds a few
hundred across goods, services and works so that every demo lot can be drawn for. A few
experts work for the demo's suppliers or purchasers (avoidance), some certificates have
lapsed and some experts are suspended or retired, so the draw record shows real exclusions.
One password hash is computed once and shared, so loading stays quick.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from expert_pool.identity import identity_check_char
from expert_pool.specialties import SPECIALTIES
from expert_pool.tables import Expert, ExpertEmployment
from procurement.accounts import hash_password
from procurement.clock import SYSTEM_CLOCK, Clock
from procurement.roles import AccountStatus, Role
from procurement.tables import User

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
_GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明")
_TITLES = ("senior", "senior", "intermediate", "senior_equivalent")


def demo_identity_number(serial: int) -> str:
    """A valid identity number for demo expert ``serial`` (Jiaxing address code 330402)."""
    born = date(1960, 1, 1) + timedelta(days=(serial * 97) % 9000)
    first17 = f"330402{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + identity_check_char(first17)


async def load_demo_pool(
    *,
    count: int,
    password: str,
    employers: Sequence[int] = (),
    clock: Clock = SYSTEM_CLOCK,
) -> int:
    """Create ``count`` experts with accounts ``expert001``... sharing ``password``.

    Args:
        count: experts to create (at most 999).
        password: the demo password of every expert account.
        employers: organisations some experts work for (every 25th expert), so that the
            draw's avoidance has something to avoid.
        clock: the demo's clock; certificates and training are dated relative to it.

    Returns:
        The number of experts created.
    """
    if not 0 < count < 1000:
        raise ValueError("the demo pool holds 1 to 999 experts")
    now = clock.now()
    today = now.date()
    leaves = [code for code in SPECIALTIES if len(code) == 5] or list(SPECIALTIES)
    password_hash = hash_password(password)
    users = [
        User(
            username=f"expert{serial:03d}",
            password_hash=password_hash,
            display_name=_name(serial),
            email=f"expert{serial:03d}@experts.example.org",
            phone=f"1390573{serial:04d}",
            role=Role.EXPERT,
            status=AccountStatus.ACTIVE,
            created_at=now,
        )
        for serial in range(1, count + 1)
    ]
    await User.insert(*users)
    ids = {
        row["username"]: int(row["id"])
        for row in await User.select(User.id, User.username).where(User.role == Role.EXPERT)
    }
    experts = []
    for serial in range(1, count + 1):
        codes = {leaves[serial % len(leaves)], leaves[(serial * 7) % len(leaves)]}
        status = "active"
        if serial % 53 == 0:
            status = "suspended"
        elif serial % 71 == 0:
            status = "retired"
        expires = today + timedelta(days=365 * 3)
        if serial % 37 == 0:
            expires = today - timedelta(days=30)
        experts.append(
            Expert(
                user=ids[f"expert{serial:03d}"],
                name=_name(serial),
                identity_number=demo_identity_number(serial),
                specialties=",".join(sorted(codes)),
                title=_TITLES[serial % len(_TITLES)],
                years_of_experience=8 + serial % 25,
                phone=f"1390573{serial:04d}",
                email=f"expert{serial:03d}@experts.example.org",
                status=status,
                status_reason="" if status == "active" else "demo",
                trained_on=today - timedelta(days=400),
                training_course="政府采购评审专家培训 Expert training",
                certificate_number=f"ZJ-PS-{serial:04d}",
                certified_on=today - timedelta(days=380),
                certificate_expires_on=expires,
                created_at=now,
                updated_at=now,
            )
        )
    await Expert.insert(*experts)
    if employers:
        rows = await Expert.select(Expert.id).order_by(Expert.id)
        jobs = [
            ExpertEmployment(
                expert=int(row["id"]),
                organisation=employers[index % len(employers)],
                started_on=today - timedelta(days=2000),
                ended_on=None if index % 2 else today - timedelta(days=200),
            )
            for index, row in enumerate(rows)
            if index % 25 == 0
        ]
        if jobs:
            await ExpertEmployment.insert(*jobs)
    return count


def _name(serial: int) -> str:
    surname = _SURNAMES[serial % len(_SURNAMES)]
    given = _GIVEN[serial % len(_GIVEN)] + _GIVEN[(serial // len(_GIVEN)) % len(_GIVEN)]
    return surname + given
