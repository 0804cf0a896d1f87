"""Tests of the expert pool domain; shared builders for its test modules."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from expert_pool.experts import (
    Certification,
    Employment,
    Expert,
    ExpertStatus,
    ProfessionalTitle,
    Training,
)
from expert_pool.identity import identity_check_char

EVALUATION_DAY = date(2025, 6, 18)


def identity_number_for(expert_id: int, born: date = date(1970, 1, 1)) -> str:
    """A valid identity number, different for each id below 1,000 per birth date."""
    first17 = f"330402{born:%Y%m%d}{expert_id % 1000:03d}"
    return first17 + identity_check_char(first17)


def make_expert(expert_id: int, **changes: Any) -> Expert:
    """An active, certified, trained expert in A0101 with no ties, unless told otherwise."""
    fields: dict[str, Any] = {
        "expert_id": expert_id,
        "name": f"专家{expert_id}",
        "identity_number": identity_number_for(expert_id),
        "specialties": ("A0101",),
        "title": ProfessionalTitle.SENIOR,
        "years_of_experience": 12,
        "status": ExpertStatus.ACTIVE,
        "employments": (Employment(900_000 + expert_id, date(2010, 1, 1)),),
        "certifications": (
            Certification(f"ZJ{expert_id}", EVALUATION_DAY - timedelta(days=400), date(2027, 1, 1)),
        ),
        "trainings": (Training("政府采购评审专家培训", date(2020, 5, 1)),),
    }
    fields.update(changes)
    return Expert(**fields)
