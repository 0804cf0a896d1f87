"""Evaluation's part in the lot's life, hooked to the core's events (ARCHITECTURE §1)."""

from __future__ import annotations

from evaluation import inquiry_award, services
from expert_pool.services import COMMITTEE_CONFIRMED
from procurement import events


def subscribe() -> None:
    """Register the handlers (idempotent).

    A tender lot is published only with its scheme, an inquiry only with a lawful SME
    deduction; a confirmed draw seats the committee.
    """
    events.subscribe(events.LOT_PUBLISHED, services.require_scheme_on_publication)
    events.subscribe(events.LOT_PUBLISHED, inquiry_award.check_deduction_on_publication)
    events.subscribe(COMMITTEE_CONFIRMED, services.on_committee_confirmed)


__all__ = ["subscribe"]
