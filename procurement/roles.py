"""Roles and organisation kinds: who may do what on the platform."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """One role per account, so duties stay separate (TBL-R Art. 46: supervisors do not judge)."""

    ADMIN = "admin"
    PURCHASER = "purchaser"
    BIDDER = "bidder"
    EXPERT = "expert"
    CUSTODIAN = "custodian"
    SUPERVISOR = "supervisor"

    @property
    def label_zh(self) -> str:
        """Chinese name of the role."""
        return _ROLE_ZH[self]

    def label(self, language: str) -> str:
        """The role's name in ``language`` (Chinese for "zh", English otherwise)."""
        return self.label_zh if language.lower().startswith("zh") else _ROLE_EN[self]


_ROLE_ZH = {
    Role.ADMIN: "平台管理员",
    Role.PURCHASER: "采购人",
    Role.BIDDER: "供应商",
    Role.EXPERT: "评审专家",
    Role.CUSTODIAN: "密钥保管人",
    Role.SUPERVISOR: "监督人员",
}

_ROLE_EN = {
    Role.ADMIN: "Platform administrator",
    Role.PURCHASER: "Purchaser",
    Role.BIDDER: "Supplier",
    Role.EXPERT: "Evaluation expert",
    Role.CUSTODIAN: "Key custodian",
    Role.SUPERVISOR: "Supervisor",
}


class OrganisationKind(StrEnum):
    """Kinds of organisation taking part in a procurement."""

    PURCHASING_UNIT = "purchasing_unit"
    AGENCY = "agency"
    SUPPLIER = "supplier"


class AccountStatus(StrEnum):
    """Supplier self-registration waits for an admin's approval."""

    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"
    DISABLED = "disabled"


class EnterpriseSize(StrEnum):
    """Enterprise size by the national standard; small and micro get the SME deduction (SME46)."""

    LARGE = "large"
    MEDIUM = "medium"
    SMALL = "small"
    MICRO = "micro"

    @property
    def small_or_micro(self) -> bool:
        """Whether the price deduction for small and micro enterprises applies (RULES §6)."""
        return self in {EnterpriseSize.SMALL, EnterpriseSize.MICRO}


class Actor:
    """Who performs an action: the authenticated user, as services and the audit log see it."""

    __slots__ = ("display_name", "organisation_id", "role", "user_id", "username")

    def __init__(
        self,
        *,
        user_id: int | None,
        username: str,
        role: Role | None,
        organisation_id: int | None = None,
        display_name: str = "",
    ) -> None:
        self.user_id = user_id
        self.username = username
        self.role = role
        self.organisation_id = organisation_id
        self.display_name = display_name or username

    def __repr__(self) -> str:
        return f"Actor({self.username!r}, {self.role})"


SYSTEM_ACTOR = Actor(user_id=None, username="system", role=None, display_name="system")
