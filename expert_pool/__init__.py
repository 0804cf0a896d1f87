"""The expert pool: the registry of evaluation experts and the verifiable random draw.

Public API for other packages: :func:`expert_pool.services.confirmed_committee` and the
event :data:`expert_pool.services.COMMITTEE_CONFIRMED` (ARCHITECTURE §4; RULES §4).
"""

from expert_pool.controllers import ROUTE_HANDLERS
from expert_pool.subscriptions import subscribe

__all__ = ["ROUTE_HANDLERS", "subscribe"]
