"""A request to draw experts 专家抽取申请 for one lot, checked before anything is drawn.

The organiser states how many experts of which specialties it needs (one quota per
specialty), how many reserves to hold, the evaluation date and whether evaluation is remote
or on site (seed 004: remote evaluation with experts shared across the city). The draw runs
only after the bid deadline, when the bidders are known, because avoidance is decided against
them (GPL-R Art. 9).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from itertools import pairwise

from expert_pool.specialties import specialty
from procurement.clock import CHINA, china_time
from procurement.exceptions import ValidationError


class EvaluationMode(StrEnum):
    """Where the committee sits."""

    ON_SITE = "on_site"
    """In the trading centre's isolated evaluation area (seed 002)."""
    REMOTE = "remote"
    """Remote evaluation with experts shared across the city (seed 004)."""


class InvalidDrawRequest(ValidationError):
    """A draw request that cannot be drawn as stated; the message says what to change."""


@dataclass(frozen=True, slots=True)
class Quota:
    """``count`` experts whose specialty lies within ``specialty`` (by code prefix)."""

    specialty: str
    count: int


@dataclass(frozen=True, slots=True)
class LotParties:
    """Who the drawn experts must be independent of (GPL-R Art. 9; MOF87 Art. 47).

    Args:
        purchaser_id: the purchasing unit; its staff sit only as purchaser representatives.
        bidder_ids: every supplier that bid on the lot.
        agency_id: the procurement agency running the project, if any; its staff may not
            evaluate its own projects.
    """

    purchaser_id: int
    bidder_ids: frozenset[int] = field(default_factory=frozenset)
    agency_id: int | None = None


@dataclass(frozen=True, slots=True)
class DrawRequest:
    """What to draw, for which lot, for which day. Check it with :func:`validate_draw_request`.

    Args:
        quotas: one quota per specialty.
        experts_to_draw: the number of experts wanted; the quotas must add up to it.
        reserves: reserves per quota, called in rank order when a drawn expert declines.
        evaluation_date: the day of evaluation; availability and certificates are judged on it.
        mode: remote or on site.
        parties: purchaser, bidders and agency of the lot.
        bid_deadline: the lot's bid deadline (timezone-aware).
    """

    quotas: tuple[Quota, ...]
    experts_to_draw: int
    reserves: int
    evaluation_date: date
    mode: EvaluationMode
    parties: LotParties
    bid_deadline: datetime


def order_quotas(quotas: Iterable[Quota]) -> tuple[Quota, ...]:
    """The quotas sorted by specialty code, the order in which the draw fills them.

    Raises:
        InvalidDrawRequest: no quota, a quota of fewer than one expert, or two quotas whose
            codes are equal or nested (an expert in A0102 would count for both A01 and A0102,
            so the split between them would depend on the ranking).
        UnknownSpecialty: a code that is not in the specialty list.
    """
    ordered = tuple(sorted(quotas, key=lambda quota: quota.specialty))
    if not ordered:
        raise InvalidDrawRequest("a draw needs at least one specialty quota", field="quotas")
    for quota in ordered:
        specialty(quota.specialty)
        if quota.count < 1:
            raise InvalidDrawRequest(
                "the quota for {specialty} asks for {count} experts; "
                "ask for at least one or remove the quota",
                specialty=quota.specialty,
                count=quota.count,
                field="quotas",
            )
    for earlier, later in pairwise(ordered):
        if later.specialty.startswith(earlier.specialty):
            raise InvalidDrawRequest(
                "quotas for {earlier} and {later} overlap: an expert in "
                "{later} would count for both; merge them or use disjoint codes",
                earlier=earlier.specialty,
                later=later.specialty,
                field="quotas",
            )
    return ordered


def validate_draw_request(request: DrawRequest, *, now: datetime) -> DrawRequest:
    """The request with its quotas in draw order (by specialty code), or a clear refusal.

    Args:
        request: the organiser's request.
        now: the current time (timezone-aware), from the service's clock.

    Raises:
        InvalidDrawRequest: quotas refused by :func:`order_quotas`; quotas not adding up to
            the number of experts; negative reserves; a draw before the bid deadline; an
            evaluation date before the deadline's day.
        UnknownSpecialty: a quota names a code that is not in the specialty list.
        ValueError: ``now`` or the deadline is a naive datetime (a programming error).
    """
    if now.tzinfo is None or request.bid_deadline.tzinfo is None:
        raise ValueError("now and the bid deadline must be timezone-aware")
    quotas = order_quotas(request.quotas)
    total = sum(quota.count for quota in quotas)
    if total != request.experts_to_draw:
        raise InvalidDrawRequest(
            "the quotas add up to {total} experts but {wanted} are to be drawn; make them agree",
            total=total,
            wanted=request.experts_to_draw,
            field="quotas",
        )
    if request.reserves < 0:
        raise InvalidDrawRequest(
            "reserves cannot be negative ({reserves})", reserves=request.reserves, field="reserves"
        )
    if now < request.bid_deadline:
        raise InvalidDrawRequest(
            "experts are drawn only after the bid deadline {deadline}, "
            "when the bidders to avoid are known (GPL-R Art. 9)",
            deadline=china_time(request.bid_deadline),
            field="bid_deadline",
        )
    deadline_day = request.bid_deadline.astimezone(CHINA).date()  # the day people know it by
    if request.evaluation_date < deadline_day:
        raise InvalidDrawRequest(
            "the evaluation date {evaluation_date} is before the bid deadline {deadline}",
            evaluation_date=request.evaluation_date.isoformat(),
            deadline=deadline_day.isoformat(),
            field="evaluation_date",
        )
    return replace(request, quotas=quotas)
