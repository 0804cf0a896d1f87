"""Evaluation: scoring schemes, the committee's remote scoring, review, report, award, savings.

Pure rules in ``scheme``, ``scoring``, ``review`` and ``inquiry``; use cases in ``services``;
routes in ``controllers`` (ARCHITECTURE §5).
"""

from evaluation.controllers import ROUTE_HANDLERS
from evaluation.subscriptions import subscribe

__all__ = ["ROUTE_HANDLERS", "subscribe"]
