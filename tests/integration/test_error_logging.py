"""Refused input is answered without a stack trace in the log; real failures keep theirs.

Every refusal of bad input (a 4xx) is the platform working as it should. A stack trace for
each would bury the failures an operator must see (5xx) under every typo and probe: one
fuzzing run of the API wrote thousands of them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

import procurement.controllers.api
from procurement.web import quiet_exceptions
from tests.factories import csrf

pytestmark = pytest.mark.integration
Client = AsyncTestClient[Litestar]


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def traces(self) -> list[str]:
        return [self.format(r) for r in self.records if "Traceback" in self.format(r)]


@pytest.fixture
def logged(app: Litestar) -> Iterator[Collect]:
    """What the application's logger records during the test."""
    handler = Collect()
    logger = logging.getLogger("litestar")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


async def test_refused_input_leaves_no_stack_trace(client: Client, logged: Collect) -> None:
    answers = [
        await client.get("/api/public/notices", params={"from": "2026-02-30"}),  # no such day
        await client.get("/notices/999999999"),  # no such notice
        await client.post(
            "/api/session",
            content=b"{not json",
            headers={
                "content-type": "application/json",
                "x-csrftoken": csrf(client)["_csrf_token"],
            },
        ),
        await client.post(
            "/api/session",
            json={"username": "nobody", "password": "wrong-password-1"},
            headers={"x-csrftoken": csrf(client)["_csrf_token"]},
        ),
    ]
    assert all(400 <= a.status_code < 500 for a in answers), [a.status_code for a in answers]
    assert logged.traces() == []


async def test_a_server_failure_is_logged_with_its_stack_trace(
    client: Client, logged: Collect, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: Any) -> Any:
        raise RuntimeError("the notice index is broken")

    monkeypatch.setattr(procurement.controllers.api, "search_notices", broken)
    answer = await client.get("/api/public/notices")
    assert answer.status_code == 500
    assert "notice index" not in answer.text  # the detail stays in the log
    traces = logged.traces()
    assert len(traces) == 1
    assert "RuntimeError: the notice index is broken" in traces[0]


def test_every_domain_error_class_is_quiet() -> None:
    """Litestar matches exact classes: a subclass left out would log a stack trace."""
    from evaluation.exceptions import DuplicateQuote
    from expert_pool.draw import PoolExhausted
    from procurement.accounts import AuthenticationFailed

    quiet = quiet_exceptions()
    assert {DuplicateQuote, PoolExhausted, AuthenticationFailed} <= quiet
    assert 500 not in quiet
