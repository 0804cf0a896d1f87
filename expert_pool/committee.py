"""Size and make-up of evaluation committees 评标委员会 and groups 谈判/询价/磋商小组.

RULES §4: every body has an odd number of members, at least a minimum that depends on the
procedure and the budget, and experts make up at least two thirds (the rest are purchaser
representatives). The check is ``n >= minimum and n % 2 == 1 and 3 * experts >= 2 * n``,
done in integers so that no rounding can let a committee slip through.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from procurement.exceptions import ValidationError

LARGE_PROJECT_BUDGET = Decimal("10000000")
"""Budget (yuan) at and above which a govt evaluation committee needs 7 members (MOF87 Art. 47)."""


class CommitteeKind(StrEnum):
    """The bodies that evaluate, with the rule each size comes from."""

    GOVT_EVALUATION = "govt_evaluation"
    """Govt procurement tender evaluation committee 评标委员会 (MOF87 Art. 47)."""
    NEGOTIATION = "negotiation"
    """Competitive negotiation group 谈判小组 (GPL Art. 38; MOF74 Art. 7)."""
    INQUIRY = "inquiry"
    """Price inquiry group 询价小组 (GPL Art. 40; MOF74 Art. 7)."""
    CONSULTATION = "consultation"
    """Competitive consultation group 磋商小组 (C214 Art. 14)."""
    WORKS_EVALUATION = "works_evaluation"
    """Works tender evaluation committee (TBL Art. 37)."""


_NAMES = {
    CommitteeKind.GOVT_EVALUATION: "a govt evaluation committee (评标委员会)",
    CommitteeKind.NEGOTIATION: "a negotiation group (谈判小组)",
    CommitteeKind.INQUIRY: "an inquiry group (询价小组)",
    CommitteeKind.CONSULTATION: "a consultation group (磋商小组)",
    CommitteeKind.WORKS_EVALUATION: "a works evaluation committee (评标委员会)",
}


class CommitteeNotCompliant(ValidationError):
    """A committee whose size or share of experts breaks RULES §4."""

    def __init__(self, message: str, *, code: str = "", **params: object) -> None:
        super().__init__(message, field="committee", code=code, **params)


def minimum_committee_size(
    kind: CommitteeKind,
    budget: Decimal,
    *,
    complex_or_high_impact: bool = False,
    open_tender_threshold: Decimal | None = None,
) -> int:
    """The smallest lawful size of a committee of ``kind`` (RULES §4 table).

    Args:
        kind: the body.
        budget: the procurement budget in yuan.
        complex_or_high_impact: technology is complex or the project has a large social
            impact, which calls for 7 members on a govt evaluation committee whatever the
            budget (MOF87 Art. 47, 2nd paragraph).
        open_tender_threshold: the open-tender threshold in yuan in force for the purchaser;
            a negotiation or inquiry group needs 5 members at or above it (MOF74 Art. 7).
            Required for those two kinds, because the threshold is set locally.

    Raises:
        TypeError: ``budget`` or the threshold is not a Decimal (money is never float).
        ValueError: a negative amount, or a negotiation/inquiry group without a threshold.
    """
    _check_money("budget", budget)
    if kind is CommitteeKind.GOVT_EVALUATION:
        return 7 if budget >= LARGE_PROJECT_BUDGET or complex_or_high_impact else 5
    if kind in (CommitteeKind.NEGOTIATION, CommitteeKind.INQUIRY):
        if open_tender_threshold is None:
            raise ValueError(f"{_NAMES[kind]} needs the open-tender threshold to be sized")
        _check_money("open_tender_threshold", open_tender_threshold)
        return 5 if budget >= open_tender_threshold else 3
    if kind is CommitteeKind.CONSULTATION:
        return 3
    return 5


def check_committee(
    kind: CommitteeKind,
    size: int,
    experts: int,
    budget: Decimal,
    *,
    complex_or_high_impact: bool = False,
    open_tender_threshold: Decimal | None = None,
) -> None:
    """Refuse a committee that is too small, even-sized, or has too few experts.

    Args:
        kind: the body.
        size: all members, experts and purchaser representatives.
        experts: members drawn from the expert pool.
        budget: the procurement budget in yuan.
        complex_or_high_impact: see :func:`minimum_committee_size`.
        open_tender_threshold: see :func:`minimum_committee_size`.

    Raises:
        CommitteeNotCompliant: the committee breaks RULES §4; the message gives the minimum,
            the parity rule or the number of experts needed, and the source.
        ValueError: ``size`` or ``experts`` is impossible (negative, more experts than
            members), or see :func:`minimum_committee_size`.
    """
    if size < 0 or experts < 0 or experts > size:
        raise ValueError(f"impossible committee: {experts} experts among {size} members")
    minimum = minimum_committee_size(
        kind,
        budget,
        complex_or_high_impact=complex_or_high_impact,
        open_tender_threshold=open_tender_threshold,
    )
    if size < minimum or size % 2 == 0:
        raise _size_refused(kind, budget, minimum, size)
    if 3 * experts < 2 * size:
        raise _share_refused(kind, -(-2 * size // 3), size, experts)


def _size_refused(
    kind: CommitteeKind, budget: Decimal, minimum: int, size: int
) -> CommitteeNotCompliant:
    """Too small or even-sized: one sentence per kind, naming the body and its rule."""
    if kind is CommitteeKind.GOVT_EVALUATION:
        return CommitteeNotCompliant(
            "a govt evaluation committee (评标委员会) with a budget of {budget:,} yuan needs "
            "an odd number of members, at least {minimum}; {size} given (MOF87 Art. 47)",
            budget=budget,
            minimum=minimum,
            size=size,
        )
    if kind is CommitteeKind.NEGOTIATION:
        return CommitteeNotCompliant(
            "a negotiation group (谈判小组) with a budget of {budget:,} yuan needs an odd "
            "number of members, at least {minimum}; {size} given (GPL Art. 38; MOF74 Art. 7)",
            budget=budget,
            minimum=minimum,
            size=size,
        )
    if kind is CommitteeKind.INQUIRY:
        return CommitteeNotCompliant(
            "an inquiry group (询价小组) with a budget of {budget:,} yuan needs an odd "
            "number of members, at least {minimum}; {size} given (GPL Art. 40; MOF74 Art. 7)",
            budget=budget,
            minimum=minimum,
            size=size,
        )
    if kind is CommitteeKind.CONSULTATION:
        return CommitteeNotCompliant(
            "a consultation group (磋商小组) with a budget of {budget:,} yuan needs an odd "
            "number of members, at least {minimum}; {size} given (C214 Art. 14)",
            budget=budget,
            minimum=minimum,
            size=size,
        )
    return CommitteeNotCompliant(
        "a works evaluation committee (评标委员会) with a budget of {budget:,} yuan needs "
        "an odd number of members, at least {minimum}; {size} given (TBL Art. 37)",
        budget=budget,
        minimum=minimum,
        size=size,
    )


def _share_refused(
    kind: CommitteeKind, needed: int, size: int, experts: int
) -> CommitteeNotCompliant:
    """Too few experts: one sentence per kind, naming the body and its rule."""
    if kind is CommitteeKind.GOVT_EVALUATION:
        return CommitteeNotCompliant(
            "experts must be at least two thirds of a govt evaluation committee (评标委员会): "
            "{needed} of {size} members, {experts} given (MOF87 Art. 47)",
            needed=needed,
            size=size,
            experts=experts,
        )
    if kind is CommitteeKind.NEGOTIATION:
        return CommitteeNotCompliant(
            "experts must be at least two thirds of a negotiation group (谈判小组): "
            "{needed} of {size} members, {experts} given (GPL Art. 38; MOF74 Art. 7)",
            needed=needed,
            size=size,
            experts=experts,
        )
    if kind is CommitteeKind.INQUIRY:
        return CommitteeNotCompliant(
            "experts must be at least two thirds of an inquiry group (询价小组): "
            "{needed} of {size} members, {experts} given (GPL Art. 40; MOF74 Art. 7)",
            needed=needed,
            size=size,
            experts=experts,
        )
    if kind is CommitteeKind.CONSULTATION:
        return CommitteeNotCompliant(
            "experts must be at least two thirds of a consultation group (磋商小组): "
            "{needed} of {size} members, {experts} given (C214 Art. 14)",
            needed=needed,
            size=size,
            experts=experts,
        )
    return CommitteeNotCompliant(
        "experts must be at least two thirds of a works evaluation committee (评标委员会): "
        "{needed} of {size} members, {experts} given (TBL Art. 37)",
        needed=needed,
        size=size,
        experts=experts,
    )


def _check_money(name: str, amount: Decimal) -> None:
    if not isinstance(amount, Decimal):
        raise TypeError(f"{name} must be a Decimal amount in yuan, got {type(amount).__name__}")
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{name} must be a non-negative amount in yuan, got {amount}")
