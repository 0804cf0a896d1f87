"""Retry waits of the notification outbox (pure: no database)."""

from __future__ import annotations

from datetime import UTC, datetime

from procurement.notifications import MAX_ATTEMPTS, RETRY_AFTER, retry_at

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_each_failure_waits_longer_than_the_last() -> None:
    waits = [retry_at(failures, NOW) for failures in range(1, MAX_ATTEMPTS)]
    assert [w - NOW for w in waits if w is not None] == list(RETRY_AFTER)
    assert list(RETRY_AFTER) == sorted(set(RETRY_AFTER))


def test_a_message_out_of_attempts_is_not_held() -> None:
    assert retry_at(MAX_ATTEMPTS, NOW) is None
    assert retry_at(MAX_ATTEMPTS + 3, NOW) is None


def test_all_attempts_span_hours_not_minutes() -> None:
    """A mail server down for a maintenance hour must not use up a message's attempts."""
    assert sum(RETRY_AFTER, start=RETRY_AFTER[0] * 0).total_seconds() > 2 * 3600
