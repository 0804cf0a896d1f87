"""The lot's lifecycle, procurement categories and methods, as pure rules.

A lot (标段/包) moves draft → published → bidding closed → opened → evaluating → awarded or
failed, and may be cancelled from any state that is not final. Failure is also possible
straight after the deadline (too few bids: TBL Art. 28, MOF87 Art. 41), after opening and
during evaluation (too few compliant bids, all over budget, irregularities: GPL Art. 36,
RULES §3, §8.2). Every change of a lot's state goes through :func:`next_status`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from procurement.exceptions import Conflict, ValidationError
from procurement.labels import Labelled, add_labels


class LotStatus(Labelled):
    """States of a lot."""

    DRAFT = "draft"
    PUBLISHED = "published"
    BIDDING_CLOSED = "bidding_closed"
    OPENED = "opened"
    EVALUATING = "evaluating"
    AWARDED = "awarded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class LotEvent(Labelled):
    """What can happen to a lot: the transitions of the state machine."""

    PUBLISH = "publish"
    CLOSE_BIDDING = "close_bidding"
    OPEN = "open"
    START_EVALUATION = "start_evaluation"
    AWARD = "award"
    FAIL = "fail"
    CANCEL = "cancel"


Transition = LotEvent
"""The transition events of the lot state machine (the same enum as :class:`LotEvent`)."""


class FailureReason(Labelled):
    """Why a lot failed (RULES §8.2 reason codes; GPL Art. 36, TBL Art. 28, 42)."""

    TOO_FEW_BIDS = "TOO_FEW_BIDS"
    TOO_FEW_VALID = "TOO_FEW_VALID"
    ALL_OVER_BUDGET = "ALL_OVER_BUDGET"
    IRREGULARITY = "IRREGULARITY"
    CANCELLED = "CANCELLED"


class ProjectCategory(Labelled):
    """Procurement object category: goods 货物, services 服务, works 工程 (GPL Art. 2)."""

    GOODS = "goods"
    SERVICES = "services"
    WORKS = "works"


class ProcurementMethod(Labelled):
    """Procurement methods (GPL Art. 26; TBL Art. 10)."""

    OPEN_TENDER = "open_tender"
    INVITATION = "invitation"
    COMPETITIVE_NEGOTIATION = "competitive_negotiation"
    COMPETITIVE_CONSULTATION = "competitive_consultation"
    SINGLE_SOURCE = "single_source"
    PRICE_INQUIRY = "price_inquiry"

    @property
    def is_tender(self) -> bool:
        """Open and invitation tenders follow the tender time limits (GPL Art. 35, TBL Art. 24)."""
        return self in _TENDERS


_TENDERS = frozenset({ProcurementMethod.OPEN_TENDER, ProcurementMethod.INVITATION})

_LABELS: Mapping[type[Labelled], Mapping[str, tuple[str, str]]] = {
    LotStatus: {
        "draft": ("草稿", "Draft"),
        "published": ("招标中", "Open for bids"),
        "bidding_closed": ("投标截止", "Bidding closed"),
        "opened": ("已开标", "Opened"),
        "evaluating": ("评审中", "Under evaluation"),
        "awarded": ("已中标/成交", "Awarded"),
        "failed": ("废标/流标", "Failed"),
        "cancelled": ("已终止", "Cancelled"),
    },
    LotEvent: {
        "publish": ("发布", "Publish"),
        "close_bidding": ("投标截止", "Close bidding"),
        "open": ("开标", "Open bids"),
        "start_evaluation": ("开始评审", "Start evaluation"),
        "award": ("确定中标/成交", "Award"),
        "fail": ("废标/流标", "Declare failed"),
        "cancel": ("终止", "Cancel"),
    },
    FailureReason: {
        "TOO_FEW_BIDS": ("投标人不足三家", "Fewer than three bids"),
        "TOO_FEW_VALID": ("符合要求的供应商不足三家", "Fewer than three compliant bids"),
        "ALL_OVER_BUDGET": ("投标报价均超过采购预算", "Every price exceeds the budget"),
        "IRREGULARITY": ("存在影响采购公正的违法违规行为", "Irregularity affecting fairness"),
        "CANCELLED": ("因重大变故采购任务取消", "Purchase cancelled"),
    },
    ProjectCategory: {
        "goods": ("货物", "Goods"),
        "services": ("服务", "Services"),
        "works": ("工程", "Works"),
    },
    ProcurementMethod: {
        "open_tender": ("公开招标", "Open tender"),
        "invitation": ("邀请招标", "Invitation tender"),
        "competitive_negotiation": ("竞争性谈判", "Competitive negotiation"),
        "competitive_consultation": ("竞争性磋商", "Competitive consultation"),
        "single_source": ("单一来源", "Single source"),
        "price_inquiry": ("询价", "Price inquiry"),
    },
}
for _enum, _table in _LABELS.items():
    add_labels(_enum, _table)

FINAL_STATES = frozenset({LotStatus.AWARDED, LotStatus.FAILED, LotStatus.CANCELLED})
"""Awarded, failed and cancelled lots never change again; a re-tender is a new lot."""

_TRANSITIONS: Mapping[tuple[LotStatus, LotEvent], LotStatus] = {
    (LotStatus.DRAFT, LotEvent.PUBLISH): LotStatus.PUBLISHED,
    (LotStatus.PUBLISHED, LotEvent.CLOSE_BIDDING): LotStatus.BIDDING_CLOSED,
    (LotStatus.BIDDING_CLOSED, LotEvent.OPEN): LotStatus.OPENED,
    (LotStatus.BIDDING_CLOSED, LotEvent.FAIL): LotStatus.FAILED,
    (LotStatus.OPENED, LotEvent.START_EVALUATION): LotStatus.EVALUATING,
    (LotStatus.OPENED, LotEvent.FAIL): LotStatus.FAILED,
    (LotStatus.EVALUATING, LotEvent.AWARD): LotStatus.AWARDED,
    (LotStatus.EVALUATING, LotEvent.FAIL): LotStatus.FAILED,
    **{
        (state, LotEvent.CANCEL): LotStatus.CANCELLED
        for state in LotStatus
        if state not in FINAL_STATES
    },
}

_REFUSED = {
    LotEvent.PUBLISH: "a lot in state '{current}' cannot be published; "
    "allowed from {current}: {allowed}",
    LotEvent.CLOSE_BIDDING: "a lot in state '{current}' cannot be closed for bidding; "
    "allowed from {current}: {allowed}",
    LotEvent.OPEN: "a lot in state '{current}' cannot be opened; allowed from {current}: {allowed}",
    LotEvent.START_EVALUATION: "a lot in state '{current}' cannot be put into evaluation; "
    "allowed from {current}: {allowed}",
    LotEvent.AWARD: "a lot in state '{current}' cannot be awarded; "
    "allowed from {current}: {allowed}",
    LotEvent.FAIL: "a lot in state '{current}' cannot be declared failed; "
    "allowed from {current}: {allowed}",
    LotEvent.CANCEL: "a lot in state '{current}' cannot be cancelled; "
    "allowed from {current}: {allowed}",
}
"""The message refusing each event, one sentence per event for the catalog."""


@dataclass(frozen=True)
class _Allowed:
    """The events a state allows, in a message: their values, or ``{allowed:zh}`` labels."""

    events: tuple[LotEvent, ...]

    def __format__(self, spec: str) -> str:
        if spec == "zh":
            return "、".join(e.label_zh for e in self.events) or "无（标段已办结）"
        return ", ".join(e.value for e in self.events) or "nothing (the lot is final)"


def allowed_events(current: LotStatus) -> list[LotEvent]:
    """Events the state machine accepts in ``current``, in declaration order."""
    return [event for event in LotEvent if (current, event) in _TRANSITIONS]


def next_status(current: LotStatus, event: LotEvent) -> LotStatus:
    """The state after ``event``.

    Raises:
        Conflict: code ``illegal_transition``, saying what is allowed instead, e.g. "a lot in
            state 'draft' cannot be opened; allowed from draft: publish, cancel".
    """
    following = _TRANSITIONS.get((current, event))
    if following is not None:
        return following
    raise Conflict(
        _REFUSED[event],
        code="illegal_transition",
        current=current,
        allowed=_Allowed(tuple(allowed_events(current))),
    )


def is_final(status: LotStatus) -> bool:
    """Awarded, failed and cancelled lots never change again."""
    return status in FINAL_STATES


_ALLOWED_METHODS: Mapping[ProjectCategory, tuple[ProcurementMethod, ...]] = {
    ProjectCategory.GOODS: tuple(ProcurementMethod),
    ProjectCategory.SERVICES: tuple(
        m for m in ProcurementMethod if m is not ProcurementMethod.PRICE_INQUIRY
    ),
    ProjectCategory.WORKS: (ProcurementMethod.OPEN_TENDER, ProcurementMethod.INVITATION),
}


def allowed_methods(category: ProjectCategory) -> tuple[ProcurementMethod, ...]:
    """Methods a category may use on this platform.

    Works are tendered openly or by invitation (TBL Art. 10); price inquiry is for goods with
    uniform specifications only (GPL Art. 32). Government works that are not tendered (GPL-R
    Art. 25) are outside the platform's works category.
    """
    return _ALLOWED_METHODS[category]


def is_method_allowed(category: ProjectCategory, method: ProcurementMethod) -> bool:
    """Whether ``method`` may be used for ``category`` (see :func:`allowed_methods`)."""
    return method in _ALLOWED_METHODS[category]


def check_method_allowed(category: ProjectCategory, method: ProcurementMethod) -> None:
    """Refuse a method the category may not use (TBL Art. 10; GPL Art. 32).

    Raises:
        ValidationError: on field ``method``, naming the rule.
    """
    if is_method_allowed(category, method):
        return
    if category is ProjectCategory.WORKS:
        raise ValidationError(
            "works are procured by open or invitation tender only (TBL Art. 10)",
            field="method",
            code="method_not_allowed",
        )
    raise ValidationError(
        "price inquiry is for goods with uniform specifications only (GPL Art. 32)",
        field="method",
        code="method_not_allowed",
    )
