"""The lot's lifecycle, procurement categories and methods, as pure rules.

draft → published → bidding closed → opened → evaluating → awarded | failed; cancelled
from any state that is not final. Failure is also possible straight after the deadline
(too few bids: TBL Art. 28, MOF87 Art. 41) and after opening (GPL Art. 36).
"""

from __future__ import annotations

from enum import StrEnum

from procurement.exceptions import Conflict, ValidationError


class LotStatus(StrEnum):
    """States of a lot."""

    DRAFT = "draft"
    PUBLISHED = "published"
    BIDDING_CLOSED = "bidding_closed"
    OPENED = "opened"
    EVALUATING = "evaluating"
    AWARDED = "awarded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def label_zh(self) -> str:
        """Chinese name of the state."""
        return _STATUS_ZH[self]


_STATUS_ZH = {
    LotStatus.DRAFT: "草稿",
    LotStatus.PUBLISHED: "招标中",
    LotStatus.BIDDING_CLOSED: "投标截止",
    LotStatus.OPENED: "已开标",
    LotStatus.EVALUATING: "评审中",
    LotStatus.AWARDED: "已成交",
    LotStatus.FAILED: "废标/流标",
    LotStatus.CANCELLED: "已终止",
}


class LotEvent(StrEnum):
    """What can happen to a lot."""

    PUBLISH = "publish"
    CLOSE_BIDDING = "close_bidding"
    OPEN = "open"
    START_EVALUATION = "start_evaluation"
    AWARD = "award"
    FAIL = "fail"
    CANCEL = "cancel"


FINAL_STATES = frozenset({LotStatus.AWARDED, LotStatus.FAILED, LotStatus.CANCELLED})

_TRANSITIONS: dict[tuple[LotStatus, LotEvent], LotStatus] = {
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


def allowed_events(current: LotStatus) -> list[LotEvent]:
    """Events the state machine accepts in ``current``."""
    return [event for (state, event) in _TRANSITIONS if state is current]


def next_status(current: LotStatus, event: LotEvent) -> LotStatus:
    """The state after ``event``, or a Conflict naming what is allowed instead."""
    try:
        return _TRANSITIONS[(current, event)]
    except KeyError:
        allowed = ", ".join(e.value for e in allowed_events(current)) or "nothing (final)"
        raise Conflict(
            f"a lot in state '{current.value}' cannot '{event.value}'; "
            f"allowed from {current.value}: {allowed} (当前状态不允许此操作)",
            code="illegal_transition",
        ) from None


def is_final(status: LotStatus) -> bool:
    """Awarded, failed and cancelled lots never change again."""
    return status in FINAL_STATES


class FailureReason(StrEnum):
    """Why a lot failed (RULES §8.2 reason codes)."""

    TOO_FEW_BIDS = "TOO_FEW_BIDS"
    TOO_FEW_VALID = "TOO_FEW_VALID"
    ALL_OVER_BUDGET = "ALL_OVER_BUDGET"
    IRREGULARITY = "IRREGULARITY"
    CANCELLED = "CANCELLED"


class ProjectCategory(StrEnum):
    """Goods 货物, services 服务, works 工程."""

    GOODS = "goods"
    SERVICES = "services"
    WORKS = "works"


class ProcurementMethod(StrEnum):
    """Procurement methods (GPL Art. 26; TBL Art. 10)."""

    OPEN_TENDER = "open_tender"
    INVITATION = "invitation"
    COMPETITIVE_NEGOTIATION = "competitive_negotiation"
    COMPETITIVE_CONSULTATION = "competitive_consultation"
    SINGLE_SOURCE = "single_source"
    PRICE_INQUIRY = "price_inquiry"

    @property
    def is_tender(self) -> bool:
        """Open and invitation tenders follow the tender time limits (GPL Art. 35)."""
        return self in {ProcurementMethod.OPEN_TENDER, ProcurementMethod.INVITATION}


def check_method_allowed(category: ProjectCategory, method: ProcurementMethod) -> None:
    """Works are tendered openly or by invitation (TBL Art. 10); inquiry is for goods (GPL Art. 32).

    Raises:
        ValidationError: naming the rule.
    """
    if category is ProjectCategory.WORKS and not method.is_tender:
        raise ValidationError(
            "works are procured by open or invitation tender only (TBL Art. 10; "
            "工程只能公开招标或邀请招标)",
            field="method",
        )
    if method is ProcurementMethod.PRICE_INQUIRY and category is not ProjectCategory.GOODS:
        raise ValidationError(
            "price inquiry is for goods with uniform specifications only (GPL Art. 32; "
            "询价只适用于货物)",
            field="method",
        )
