"""Registry records of evaluation experts 评审专家, as pure value objects.

What the draw needs to know about a person to decide whether they may sit (RULES §4):
where they work and worked in the last three years (GPL-R Art. 9 avoidance), what they are
qualified in (specialty codes, title, years), whether their training and certification hold
on the evaluation date (experts are trained and certified before entering the pool, seed
004), their status, the days they cannot attend, and the organisations they declared a
conflict with. Storage and forms live elsewhere; these objects only hold validated data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from expert_pool.identity import mask_identity_number, validate_identity_number
from expert_pool.specialties import specialty


class ExpertStatus(StrEnum):
    """Standing in the pool; only an active expert may be drawn."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    """Temporarily out (e.g. under investigation, or at their own request)."""
    RETIRED = "retired"
    """Left the pool (age limit 70 for govt experts, E198 Art. 6, unconfirmed)."""
    BLACKLISTED = "blacklisted"
    """Barred for misconduct (GPL-R Art. 75: barred from govt procurement evaluation)."""


class ProfessionalTitle(StrEnum):
    """Professional title 职称; works experts need senior or equivalent (TBL Art. 37)."""

    JUNIOR = "junior"
    """初级职称."""
    INTERMEDIATE = "intermediate"
    """中级职称; with 8 years of practice enough for the govt pool (E198 Art. 6)."""
    SENIOR = "senior"
    """高级职称 (副高级 or 正高级)."""
    SENIOR_EQUIVALENT = "senior_equivalent"
    """Equivalent professional level 同等专业水平, e.g. a senior registered qualification."""


@dataclass(frozen=True, slots=True)
class Employment:
    """A job at an organisation; ``ended_on`` is the last day worked, ``None`` while current.

    Kept for three years after it ends, because a former employee of a bidder must step aside
    for three years (GPL-R Art. 9).
    """

    organisation_id: int
    started_on: date
    ended_on: date | None = None

    def __post_init__(self) -> None:
        if self.ended_on is not None and self.ended_on < self.started_on:
            raise ValueError(
                f"employment at organisation {self.organisation_id} ends "
                f"{self.ended_on.isoformat()}, before it started {self.started_on.isoformat()}"
            )


@dataclass(frozen=True, slots=True)
class Certification:
    """An expert certificate 专家证书, valid from ``issued_on`` through ``expires_on``."""

    number: str
    issued_on: date
    expires_on: date

    def __post_init__(self) -> None:
        if self.expires_on < self.issued_on:
            raise ValueError(
                f"certificate {self.number} expires {self.expires_on.isoformat()}, "
                f"before it was issued {self.issued_on.isoformat()}"
            )

    def valid_on(self, day: date) -> bool:
        """Whether the certificate holds on ``day``; the expiry day itself still counts."""
        return self.issued_on <= day <= self.expires_on


@dataclass(frozen=True, slots=True)
class Training:
    """A completed training course 培训 (experts are trained before entering the pool)."""

    course: str
    completed_on: date


@dataclass(frozen=True, slots=True)
class Contact:
    """How the platform notifies a drawn expert (SMS, e-mail)."""

    phone: str = ""
    email: str = ""


@dataclass(frozen=True, slots=True)
class Expert:
    """One registered expert.

    Args:
        expert_id: the registry's positive integer id; the draw ranks experts by it.
        name: the expert's name.
        identity_number: the resident identity number, validated (GB 11643-1999).
        employments: current and past jobs; a current one has ``ended_on=None``.
        specialties: codes from the specialty list (at least one).
        title: professional title.
        years_of_experience: years of practice in the field.
        certifications: expert certificates, any order.
        trainings: completed training courses.
        status: standing in the pool.
        unavailable_dates: days the expert declared they cannot evaluate.
        contact: phone and e-mail for notifications.
        declared_conflicts: organisations the expert declared a conflict with (GPL-R Art. 9:
            relatives, shareholdings, any relationship that may affect fairness).

    Raises:
        InvalidIdentityNumber: the identity number is not valid.
        UnknownSpecialty: a specialty code is not in the list.
        ValueError: a non-positive id, no specialty, or negative years.
    """

    expert_id: int
    name: str
    identity_number: str
    specialties: tuple[str, ...]
    title: ProfessionalTitle
    years_of_experience: int
    status: ExpertStatus = ExpertStatus.ACTIVE
    employments: tuple[Employment, ...] = ()
    certifications: tuple[Certification, ...] = ()
    trainings: tuple[Training, ...] = ()
    unavailable_dates: frozenset[date] = field(default_factory=frozenset)
    contact: Contact = field(default_factory=Contact)
    declared_conflicts: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.expert_id <= 0:
            raise ValueError(f"an expert id is a positive integer, got {self.expert_id}")
        if not self.specialties:
            raise ValueError(f"expert {self.expert_id} needs at least one specialty")
        for code in self.specialties:
            specialty(code)
        if self.years_of_experience < 0:
            raise ValueError(f"expert {self.expert_id} has negative years of experience")
        object.__setattr__(self, "identity_number", validate_identity_number(self.identity_number))
        object.__setattr__(self, "specialties", tuple(sorted(set(self.specialties))))

    @property
    def masked_identity_number(self) -> str:
        """The identity number as every page but the administrator's shows it."""
        return mask_identity_number(self.identity_number)

    @property
    def current_employers(self) -> frozenset[int]:
        """Organisations the expert works for now."""
        return frozenset(job.organisation_id for job in self.employments if job.ended_on is None)
