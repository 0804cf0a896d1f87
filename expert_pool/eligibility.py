"""Who may be drawn: eligibility and avoidance 回避 over the whole pool, before the draw.

ARCHITECTURE §4 step 1. An expert is eligible for a lot when every rule below lets them
through; the screening also records, for each rule, every expert it kept out, so that the
organiser and the supervisor can see why the eligible pool is what it is.

The rules, in the order used to name an expert's *first* reason:

1. specialty: at least one of the expert's codes lies within a quota's code (TBL-R Art. 46,
   experts are drawn by speciality);
2. status: blacklisted, suspended and retired experts are not drawn (GPL-R Art. 75);
3. certification: a certificate issued on or before the evaluation date and expiring on or
   after it (the expiry day still counts); none at all → uncertified, only lapsed ones →
   expired (seed 004: certified before entering the pool);
4. training completed on or before the evaluation date (practice, RULES §4);
5. not declared unavailable on the evaluation date;
6. not an employee of the purchaser now or at any time in the 3 years before the evaluation
   date (a purchaser's staff sit only as its representatives, MOF87 Art. 47);
7. the same for every bidder of the lot (GPL-R Art. 9: employee in the 3 years before);
8. not on the staff of the agency running the project (MOF87 Art. 47, unconfirmed);
9. no declared conflict with the purchaser, a bidder or the agency (GPL-R Art. 9: any other
   relationship that may affect fairness);
10. cooldown: not drawn ``max_draws`` times already in the ``window_days`` days ending on the
    evaluation date (practice: spreads the work and stops the same faces reappearing).

"The 3 years before" runs from the same calendar day three years earlier (28 February when
that day is 29 February) through the day before evaluation: a job whose last day is exactly
three years before the evaluation date still counts, one that ended the day before that does
not. The screening is written as set operations over a :class:`PoolIndex` built once per pool,
so that a draw over a pool of 100,000 experts does not pay per-expert Python work for rules
that touch only a few of them.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from types import MappingProxyType

from expert_pool.draw_request import DrawRequest
from expert_pool.experts import Certification, Expert, ExpertStatus
from expert_pool.specialties import code_prefixes

AVOIDANCE_YEARS = 3
"""Former employees of a bidder step aside for 3 years (GPL-R Art. 9)."""


class ExclusionReason(StrEnum):
    """Why an expert was kept out; the declaration order is the precedence of first reasons."""

    SPECIALTY_MISMATCH = "specialty_mismatch"
    BLACKLISTED = "blacklisted"
    SUSPENDED = "suspended"
    RETIRED = "retired"
    UNCERTIFIED = "uncertified"
    CERTIFICATION_EXPIRED = "certification_expired"
    UNTRAINED = "untrained"
    UNAVAILABLE = "unavailable"
    PURCHASER_EMPLOYEE = "purchaser_employee"
    BIDDER_EMPLOYEE = "bidder_employee"
    AGENCY_STAFF = "agency_staff"
    DECLARED_CONFLICT = "declared_conflict"
    COOLDOWN = "cooldown"


_STATUS_REASONS = {
    ExpertStatus.BLACKLISTED: ExclusionReason.BLACKLISTED,
    ExpertStatus.SUSPENDED: ExclusionReason.SUSPENDED,
    ExpertStatus.RETIRED: ExclusionReason.RETIRED,
}


_SET_ASIDE_BEFORE = frozenset({ExclusionReason.SPECIALTY_MISMATCH, *_STATUS_REASONS.values()})


@dataclass(frozen=True, slots=True)
class CooldownPolicy:
    """At most ``max_draws`` draws in any ``window_days`` days ending on an evaluation date.

    An expert already drawn ``max_draws`` times for evaluations in the ``window_days`` days
    ending on (and including) the evaluation date sits this draw out.
    """

    max_draws: int = 3
    window_days: int = 30

    def __post_init__(self) -> None:
        if self.max_draws < 1 or self.window_days < 1:
            raise ValueError(
                f"a cooldown needs max_draws >= 1 and window_days >= 1, got {self.max_draws} "
                f"and {self.window_days}"
            )


@dataclass(frozen=True, slots=True)
class PastDraw:
    """An earlier draw of an expert, dated by that draw's evaluation date."""

    expert_id: int
    evaluation_date: date


class DrawHistory:
    """Earlier draws, sorted by date so that a cooldown window is two binary searches."""

    __slots__ = ("_dates", "_ids")

    def __init__(self, draws: Iterable[PastDraw] = ()) -> None:
        ordered = sorted((draw.evaluation_date, draw.expert_id) for draw in draws)
        self._dates = [day for day, _ in ordered]
        self._ids = [expert_id for _, expert_id in ordered]

    def __len__(self) -> int:
        return len(self._dates)

    def on_cooldown(self, policy: CooldownPolicy, evaluation_date: date) -> frozenset[int]:
        """Experts with ``policy.max_draws`` or more draws in the window ending on the date.

        The window is the ``window_days`` days ``evaluation_date - window_days + 1`` through
        ``evaluation_date``; draws for later evaluations do not count yet.
        """
        first_day = evaluation_date - timedelta(days=policy.window_days - 1)
        low = bisect_left(self._dates, first_day)
        high = bisect_right(self._dates, evaluation_date)
        counts = Counter(self._ids[low:high])
        return frozenset(
            expert_id for expert_id, draws in counts.items() if draws >= policy.max_draws
        )


def _certified_spans(
    certificates: Iterable[Certification],
) -> tuple[tuple[date, date], ...]:
    """The days covered by any certificate, as disjoint (first, last) spans in date order.

    A renewal that starts by the day after the old certificate's expiry joins it into one
    span, so most experts have a single span and the index answers for them by bisection.
    """
    spans: list[tuple[date, date]] = []
    for start, end in sorted((cert.issued_on, cert.expires_on) for cert in certificates):
        if spans and start <= spans[-1][1] + timedelta(days=1):
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return tuple(spans)


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier; 29 February falls back to 28 February.

    Falling back keeps the avoidance window at least ``years`` long.
    """
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


class PoolIndex:
    """The pool arranged for screening: built once, queried for every lot and date.

    Raises:
        ValueError: two experts share an id.
    """

    __slots__ = (
        "_broken_spans",
        "_by_prefix",
        "_by_status",
        "_conflicts",
        "_employments",
        "_expiry_dates",
        "_expiry_ids",
        "_first_training_dates",
        "_first_training_ids",
        "_issue_dates",
        "_issue_ids",
        "_never_certified",
        "_never_trained",
        "_unavailable",
        "all_ids",
        "experts",
        "inactive",
    )

    def __init__(self, experts: Iterable[Expert]) -> None:
        by_id: dict[int, Expert] = {}
        by_prefix: dict[str, set[int]] = {}
        by_status: dict[ExpertStatus, set[int]] = {status: set() for status in ExpertStatus}
        never_certified: set[int] = set()
        single_spans: list[tuple[int, tuple[date, date]]] = []
        broken_spans: dict[int, tuple[tuple[date, date], ...]] = {}
        never_trained: set[int] = set()
        first_trainings: list[tuple[date, int]] = []
        unavailable: dict[date, set[int]] = {}
        employments: dict[int, list[tuple[int, date | None]]] = {}
        conflicts: dict[int, set[int]] = {}
        for expert in experts:
            expert_id = expert.expert_id
            if expert_id in by_id:
                raise ValueError(f"expert id {expert_id} appears twice in the pool")
            by_id[expert_id] = expert
            for prefix in {p for code in expert.specialties for p in code_prefixes(code)}:
                by_prefix.setdefault(prefix, set()).add(expert_id)
            by_status[expert.status].add(expert_id)
            spans = _certified_spans(expert.certifications)
            if not spans:
                never_certified.add(expert_id)
            elif len(spans) == 1:
                single_spans.append((expert_id, spans[0]))
            else:
                broken_spans[expert_id] = spans
            if expert.trainings:
                first = min(training.completed_on for training in expert.trainings)
                first_trainings.append((first, expert_id))
            else:
                never_trained.add(expert_id)
            for day in expert.unavailable_dates:
                unavailable.setdefault(day, set()).add(expert_id)
            for job in expert.employments:
                employments.setdefault(job.organisation_id, []).append((expert_id, job.ended_on))
            for organisation_id in expert.declared_conflicts:
                conflicts.setdefault(organisation_id, set()).add(expert_id)
        self.experts: Mapping[int, Expert] = MappingProxyType(by_id)
        self.all_ids = frozenset(by_id)
        self._by_prefix = {prefix: frozenset(ids) for prefix, ids in by_prefix.items()}
        self._by_status = {status: frozenset(ids) for status, ids in by_status.items()}
        self.inactive = self.all_ids - self._by_status[ExpertStatus.ACTIVE]
        self._never_certified = frozenset(never_certified)
        by_issue = sorted((span[0], expert_id) for expert_id, span in single_spans)
        by_expiry = sorted((span[1], expert_id) for expert_id, span in single_spans)
        self._issue_dates = [day for day, _ in by_issue]
        self._issue_ids = [expert_id for _, expert_id in by_issue]
        self._expiry_dates = [day for day, _ in by_expiry]
        self._expiry_ids = [expert_id for _, expert_id in by_expiry]
        self._broken_spans = broken_spans
        self._never_trained = frozenset(never_trained)
        first_trainings.sort()
        self._first_training_dates = [day for day, _ in first_trainings]
        self._first_training_ids = [expert_id for _, expert_id in first_trainings]
        self._unavailable = {day: frozenset(ids) for day, ids in unavailable.items()}
        self._employments = employments
        self._conflicts = {org: frozenset(ids) for org, ids in conflicts.items()}

    def __len__(self) -> int:
        return len(self.experts)

    def serving(self, specialty_code: str) -> frozenset[int]:
        """Experts with a specialty within ``specialty_code`` (matching by code prefix)."""
        return self._by_prefix.get(specialty_code, frozenset())

    def with_status(self, status: ExpertStatus) -> frozenset[int]:
        """Experts whose status is ``status``."""
        return self._by_status[status]

    def certification_gaps(self, day: date) -> tuple[frozenset[int], frozenset[int]]:
        """Experts without a certificate valid on ``day``: (uncertified, expired).

        Uncertified: no certificate issued on or before the day. Expired: one was issued, but
        every one issued by then has expired before the day.
        """
        late = self._issue_ids[bisect_right(self._issue_dates, day) :]
        lapsed = self._expiry_ids[: bisect_left(self._expiry_dates, day)]
        if not self._broken_spans:
            return self._never_certified.union(late), frozenset(lapsed)
        uncertified = set(self._never_certified)
        uncertified.update(late)
        expired = set(lapsed)
        for expert_id, spans in self._broken_spans.items():
            if spans[0][0] > day:
                uncertified.add(expert_id)
            elif not any(start <= day <= end for start, end in spans):
                expired.add(expert_id)
        return frozenset(uncertified), frozenset(expired)

    def untrained(self, day: date) -> frozenset[int]:
        """Experts with no training completed on or before ``day``."""
        late = self._first_training_ids[bisect_right(self._first_training_dates, day) :]
        return self._never_trained.union(late)

    def unavailable(self, day: date) -> frozenset[int]:
        """Experts who declared ``day`` unavailable."""
        return self._unavailable.get(day, frozenset())

    def employees(self, organisation_ids: Iterable[int], since: date) -> frozenset[int]:
        """Experts employed by any of the organisations now or on a day on or after ``since``."""
        found: set[int] = set()
        for organisation_id in organisation_ids:
            for expert_id, ended_on in self._employments.get(organisation_id, ()):
                if ended_on is None or ended_on >= since:
                    found.add(expert_id)
        return frozenset(found)

    def current_staff(self, organisation_id: int) -> frozenset[int]:
        """Experts employed by the organisation now."""
        return frozenset(
            expert_id
            for expert_id, ended_on in self._employments.get(organisation_id, ())
            if ended_on is None
        )

    def declared_conflicts(self, organisation_ids: Iterable[int]) -> frozenset[int]:
        """Experts who declared a conflict with any of the organisations."""
        found: set[int] = set()
        for organisation_id in organisation_ids:
            found.update(self._conflicts.get(organisation_id, ()))
        return frozenset(found)


@dataclass(frozen=True, slots=True)
class Exclusions:
    """Every expert kept out, under every reason that applies.

    ``by_reason`` holds one entry per :class:`ExclusionReason`, in precedence order; an
    expert excluded for several reasons appears under each. The first reason of an expert is
    the earliest reason in that order.
    """

    by_reason: Mapping[ExclusionReason, frozenset[int]]

    @property
    def counts(self) -> dict[ExclusionReason, int]:
        """Experts excluded under each reason (an expert counts under each of their reasons)."""
        return {reason: len(ids) for reason, ids in self.by_reason.items()}

    @property
    def excluded(self) -> frozenset[int]:
        """Every excluded expert."""
        return frozenset().union(*self.by_reason.values())

    def reasons_of(self, expert_id: int) -> tuple[ExclusionReason, ...]:
        """All reasons that keep ``expert_id`` out, in precedence order (empty if eligible)."""
        return tuple(reason for reason, ids in self.by_reason.items() if expert_id in ids)

    def first_reason(self, expert_id: int) -> ExclusionReason | None:
        """The earliest reason that keeps ``expert_id`` out, or ``None`` if none does."""
        for reason, ids in self.by_reason.items():
            if expert_id in ids:
                return reason
        return None

    def first_reasons(self) -> dict[int, ExclusionReason]:
        """Each excluded expert's first reason, by ascending expert id."""
        first: dict[int, ExclusionReason] = {}
        for reason in reversed(list(self.by_reason)):
            first.update(dict.fromkeys(self.by_reason[reason], reason))
        return {expert_id: first[expert_id] for expert_id in sorted(first)}

    def first_reason_counts(self) -> dict[ExclusionReason, int]:
        """Excluded experts by first reason; these add up to the number excluded."""
        counts = dict.fromkeys(ExclusionReason, 0)
        counts.update(Counter(self.first_reasons().values()))
        return counts


@dataclass(frozen=True, slots=True)
class Screening:
    """The eligible pool (by ascending id) and the record of who was kept out and why."""

    eligible: tuple[Expert, ...]
    exclusions: Exclusions = field(repr=False)

    @property
    def eligible_ids(self) -> tuple[int, ...]:
        """Ids of the eligible experts, ascending."""
        return tuple(expert.expert_id for expert in self.eligible)


def screen_pool(
    index: PoolIndex,
    request: DrawRequest,
    *,
    history: DrawHistory | None = None,
    cooldown: CooldownPolicy | None = None,
) -> Screening:
    """Apply every eligibility and avoidance rule to the indexed pool (ARCHITECTURE §4, 1).

    Args:
        index: the pool, indexed.
        request: a validated draw request (quotas, evaluation date, lot parties).
        history: earlier draws, for the cooldown.
        cooldown: the cooldown policy; ``None`` switches the cooldown off.

    Returns:
        The eligible experts by ascending id and the exclusion record; the same inputs
        always give the same screening.
    """
    day = request.evaluation_date
    parties = request.parties
    avoidance_start = years_before(day, AVOIDANCE_YEARS)
    serving = frozenset().union(*(index.serving(quota.specialty) for quota in request.quotas))
    uncertified, expired = index.certification_gaps(day)
    related = {parties.purchaser_id, *parties.bidder_ids}
    if parties.agency_id is not None:
        related.add(parties.agency_id)
    on_cooldown: frozenset[int] = frozenset()
    if history is not None and cooldown is not None:
        on_cooldown = history.on_cooldown(cooldown, day)
    by_reason = {
        ExclusionReason.SPECIALTY_MISMATCH: index.all_ids - serving,
        ExclusionReason.BLACKLISTED: index.with_status(ExpertStatus.BLACKLISTED),
        ExclusionReason.SUSPENDED: index.with_status(ExpertStatus.SUSPENDED),
        ExclusionReason.RETIRED: index.with_status(ExpertStatus.RETIRED),
        ExclusionReason.UNCERTIFIED: uncertified,
        ExclusionReason.CERTIFICATION_EXPIRED: expired,
        ExclusionReason.UNTRAINED: index.untrained(day),
        ExclusionReason.UNAVAILABLE: index.unavailable(day),
        ExclusionReason.PURCHASER_EMPLOYEE: index.employees(
            (parties.purchaser_id,), avoidance_start
        ),
        ExclusionReason.BIDDER_EMPLOYEE: index.employees(
            sorted(parties.bidder_ids), avoidance_start
        ),
        ExclusionReason.AGENCY_STAFF: (
            frozenset() if parties.agency_id is None else index.current_staff(parties.agency_id)
        ),
        ExclusionReason.DECLARED_CONFLICT: index.declared_conflicts(sorted(related)),
        ExclusionReason.COOLDOWN: on_cooldown & index.all_ids,
    }
    eligible = serving - index.inactive
    for reason, ids in by_reason.items():
        if reason not in _SET_ASIDE_BEFORE:
            eligible = eligible - ids
    experts = index.experts
    return Screening(
        eligible=tuple(experts[expert_id] for expert_id in sorted(eligible)),
        exclusions=Exclusions(MappingProxyType(by_reason)),
    )


def screen_experts(
    experts: Iterable[Expert],
    request: DrawRequest,
    *,
    history: Iterable[PastDraw] = (),
    cooldown: CooldownPolicy | None = None,
) -> Screening:
    """:func:`screen_pool` for a pool that is not indexed yet (builds the index once)."""
    return screen_pool(PoolIndex(experts), request, history=DrawHistory(history), cooldown=cooldown)
