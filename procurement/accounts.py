"""Accounts and organisations: registration, approval, authentication.

Passwords are hashed with argon2id (argon2-cffi's defaults follow RFC 9106). Suppliers
register themselves with their unified social credit code and wait for an admin's approval
before they can log in (seed 004: one registration, checked once).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from procurement import audit
from procurement.clock import SYSTEM_CLOCK, Clock
from procurement.credit_code import validate_credit_code
from procurement.db import is_unique_violation, transaction
from procurement.exceptions import Conflict, Forbidden, NotFound, ValidationError
from procurement.roles import (
    AccountStatus,
    Actor,
    EnterpriseSize,
    OrganisationKind,
    Role,
)
from procurement.tables import Organisation, User

_HASHER = PasswordHasher()
USERNAME_PATTERN = re.compile(r"^[a-zA-Z0-9_.-]{3,60}$")
MIN_PASSWORD_LENGTH = 10
# A hash of a random password, checked when the username is unknown, so that a failed
# login takes as long for a missing account as for a wrong password.
_DUMMY_HASH = _HASHER.hash("not-a-password-anyone-has")


class AuthenticationFailed(Forbidden):
    """Wrong username or password, or an account that may not log in yet."""


def hash_password(password: str) -> str:
    """Argon2id hash of ``password``."""
    return _HASHER.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches the stored argon2 hash."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def validate_username(username: str) -> str:
    """Usernames are 3-60 Latin letters, digits, dot, dash or underscore."""
    username = username.strip()
    if not USERNAME_PATTERN.fullmatch(username):
        raise ValidationError(
            "username must be 3-60 characters: letters, digits, '.', '-' or '_'",
            field="username",
        )
    return username


def validate_password(password: str) -> str:
    """A password of at least 10 characters, not all digits."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            "password must have at least {minimum} characters",
            field="password",
            minimum=MIN_PASSWORD_LENGTH,
        )
    if password.isdigit():
        raise ValidationError("password must not be only digits", field="password")
    return password


_REQUIRED_MESSAGES = {
    # field: (when empty, when too long); one sentence per field, for the catalog
    "company_name": (
        "company name is required",
        "company name is longer than {max_length} characters",
    ),
    "contact_person": (
        "contact person is required",
        "contact person is longer than {max_length} characters",
    ),
    "contact_phone": (
        "contact phone is required",
        "contact phone is longer than {max_length} characters",
    ),
}


def _required(value: str, field: str, max_length: int) -> str:
    empty, too_long = _REQUIRED_MESSAGES[field]
    value = value.strip()
    if not value:
        raise ValidationError(empty, field=field)
    if len(value) > max_length:
        raise ValidationError(too_long, field=field, max_length=max_length)
    return value


@dataclass(frozen=True)
class SupplierRegistration:
    """What a supplier enters to register (validated by :func:`register_supplier`)."""

    company_name: str
    credit_code: str
    enterprise_size: str
    contact_person: str
    contact_phone: str
    email: str
    username: str
    password: str
    company_name_en: str = ""
    address: str = ""
    categories: str = ""


async def register_supplier(form: SupplierRegistration, *, clock: Clock = SYSTEM_CLOCK) -> int:
    """Create a pending supplier organisation and its first user; return the user id.

    Nothing is written unless every field is valid and neither the credit code nor the
    username is taken.
    """
    name = _required(form.company_name, "company_name", 200)
    credit_code = validate_credit_code(form.credit_code)
    try:
        size = EnterpriseSize(form.enterprise_size)
    except ValueError as exc:
        raise ValidationError(
            "enterprise size must be one of large, medium, small, micro", field="enterprise_size"
        ) from exc
    contact = _required(form.contact_person, "contact_person", 100)
    phone = _required(form.contact_phone, "contact_phone", 40)
    email = form.email.strip()
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise ValidationError("e-mail address is not valid", field="email")
    username = validate_username(form.username)
    password = validate_password(form.password)
    categories = ",".join(
        c
        for c in (x.strip() for x in form.categories.split(","))
        if c in {"goods", "services", "works"}
    )
    now = clock.now()
    try:
        async with transaction(Organisation._meta.db):
            if await Organisation.exists().where(Organisation.credit_code == credit_code):
                raise Conflict(
                    "an organisation with credit code {credit_code} is already registered",
                    field="credit_code",
                    credit_code=credit_code,
                )
            if await User.exists().where(User.username == username):
                raise Conflict(
                    "username {username!r} is taken",
                    field="username",
                    username=username,
                )
            org = Organisation(
                name=name,
                name_en=form.company_name_en.strip()[:200],
                kind=OrganisationKind.SUPPLIER,
                credit_code=credit_code,
                enterprise_size=size,
                address=form.address.strip()[:300],
                contact_person=contact,
                contact_phone=phone,
                categories=categories,
                status=AccountStatus.PENDING,
                created_at=now,
            )
            await org.save()
            user = User(
                username=username,
                password_hash=hash_password(password),
                display_name=contact,
                email=email,
                phone=phone,
                role=Role.BIDDER,
                organisation=org.id,
                status=AccountStatus.PENDING,
                created_at=now,
            )
            await user.save()
            await audit.record(
                "supplier.registered",
                actor=Actor(user_id=user.id, username=username, role=Role.BIDDER),
                subject_type="organisation",
                subject_id=org.id,
                payload={"name": name, "credit_code": credit_code},
                clock=clock,
            )
            return int(user.id)
    except Exception as exc:
        if is_unique_violation(exc):
            raise Conflict("this supplier or username was registered at the same moment") from exc
        raise


async def decide_supplier(
    organisation_id: int, *, approve: bool, actor: Actor, clock: Clock = SYSTEM_CLOCK
) -> None:
    """An admin approves or rejects a pending supplier and its users."""
    if actor.role is not Role.ADMIN:
        raise Forbidden("only an admin may approve suppliers")
    async with transaction(Organisation._meta.db):
        org = await Organisation.objects().where(Organisation.id == organisation_id).first()
        if org is None or org.kind != OrganisationKind.SUPPLIER:
            raise NotFound("no supplier with id {supplier_id}", supplier_id=organisation_id)
        if org.status != AccountStatus.PENDING:
            raise _already_decided(org.name, str(org.status))
        status = AccountStatus.ACTIVE if approve else AccountStatus.REJECTED
        org_status = "approved" if approve else AccountStatus.REJECTED.value
        await Organisation.update({Organisation.status: org_status}).where(
            Organisation.id == organisation_id
        )
        await User.update({User.status: status}).where(
            (User.organisation == organisation_id) & (User.status == AccountStatus.PENDING)
        )
        await audit.record(
            "supplier.approved" if approve else "supplier.rejected",
            actor=actor,
            subject_type="organisation",
            subject_id=organisation_id,
            payload={"name": org.name},
            clock=clock,
        )


def _already_decided(name: str, status: str) -> Conflict:
    """A supplier that is no longer pending: one sentence per status, for the catalog."""
    if status == "approved":
        return Conflict("supplier {name} was already approved", name=name)
    if status == AccountStatus.REJECTED:
        return Conflict("supplier {name} was already rejected", name=name)
    if status == AccountStatus.ACTIVE:
        return Conflict("supplier {name} was already active", name=name)
    if status == AccountStatus.DISABLED:
        return Conflict("supplier {name} was already disabled", name=name)
    return Conflict("supplier {name} was already {status}", name=name, status=status)


async def authenticate(username: str, password: str, *, clock: Clock = SYSTEM_CLOCK) -> Actor:
    """Check a username and password; return the actor or raise :class:`AuthenticationFailed`.

    The message does not say whether the username exists.
    """
    row = await User.objects().where(User.username == username.strip()).first()
    if row is None:
        password_matches(_DUMMY_HASH, password)
        raise AuthenticationFailed("wrong username or password")
    if not password_matches(row.password_hash, password):
        await audit.record(
            "login.failed",
            subject_type="user",
            subject_id=row.id,
            payload={"username": username},
            clock=clock,
        )
        raise AuthenticationFailed("wrong username or password")
    if row.status == AccountStatus.PENDING:
        raise AuthenticationFailed("your registration is waiting for approval")
    if row.status != AccountStatus.ACTIVE:
        raise AuthenticationFailed("this account is not active")
    actor = actor_from_row(row)
    await User.update({User.last_login_at: clock.now()}).where(User.id == row.id)
    await audit.record("login", actor=actor, subject_type="user", subject_id=row.id, clock=clock)
    return actor


def actor_from_row(row: User) -> Actor:
    """The actor a user row acts as."""
    organisation = row.organisation
    organisation_id = organisation if isinstance(organisation, int) else None
    return Actor(
        user_id=int(row.id),
        username=row.username,
        role=Role(row.role),
        organisation_id=organisation_id,
        display_name=row.display_name,
    )


async def load_actor(user_id: Any) -> Actor | None:
    """The active user behind a session's user id, or None when it no longer may act."""
    if not isinstance(user_id, int):
        return None
    row = await User.objects().where(User.id == user_id).first()
    if row is None or row.status != AccountStatus.ACTIVE:
        return None
    return actor_from_row(row)


async def create_user(
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str,
    organisation_id: int | None = None,
    email: str = "",
    clock: Clock = SYSTEM_CLOCK,
) -> int:
    """Create an active user (by an admin, the CLI or demo data); return its id."""
    username = validate_username(username)
    validate_password(password)
    if await User.exists().where(User.username == username):
        raise Conflict("username {username!r} is taken", field="username", username=username)
    user = User(
        username=username,
        password_hash=hash_password(password),
        display_name=display_name,
        email=email,
        role=role,
        organisation=organisation_id,
        status=AccountStatus.ACTIVE,
        created_at=clock.now(),
    )
    await user.save()
    await audit.record(
        "user.created",
        subject_type="user",
        subject_id=user.id,
        payload={"username": username, "role": role.value},
        clock=clock,
    )
    return int(user.id)
