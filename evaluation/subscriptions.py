"""Evaluation's part in the lot's life, hooked to the core's events (ARCHITECTURE §1)."""

from __future__ import annotations

from evaluation import services
from procurement import events


def subscribe() -> None:
    """Register the handlers (idempotent): a tender lot is published only with its scheme."""
    events.subscribe(events.LOT_PUBLISHED, services.require_scheme_on_publication)


__all__ = ["subscribe"]
