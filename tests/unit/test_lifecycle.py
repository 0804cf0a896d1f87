"""The lot state machine, checked over every (state, event) pair."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from procurement.exceptions import Conflict, ValidationError
from procurement.lifecycle import (
    FINAL_STATES,
    LotEvent,
    LotStatus,
    ProcurementMethod,
    ProjectCategory,
    allowed_events,
    check_method_allowed,
    is_final,
    next_status,
)

S, E = LotStatus, LotEvent
LEGAL = {
    (S.DRAFT, E.PUBLISH): S.PUBLISHED,
    (S.PUBLISHED, E.CLOSE_BIDDING): S.BIDDING_CLOSED,
    (S.BIDDING_CLOSED, E.OPEN): S.OPENED,
    (S.BIDDING_CLOSED, E.FAIL): S.FAILED,
    (S.OPENED, E.START_EVALUATION): S.EVALUATING,
    (S.OPENED, E.FAIL): S.FAILED,
    (S.EVALUATING, E.AWARD): S.AWARDED,
    (S.EVALUATING, E.FAIL): S.FAILED,
    **{(state, E.CANCEL): S.CANCELLED for state in S if state not in FINAL_STATES},
}


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("event", list(E))
def test_every_pair_is_legal_exactly_as_the_rules_say(state: LotStatus, event: LotEvent) -> None:
    if (state, event) in LEGAL:
        assert next_status(state, event) is LEGAL[(state, event)]
    else:
        with pytest.raises(Conflict, match=f"state '{state.value}' cannot '{event.value}'"):
            next_status(state, event)


def test_final_states_accept_nothing() -> None:
    for state in FINAL_STATES:
        assert is_final(state)
        assert allowed_events(state) == []


def test_the_error_lists_what_is_allowed() -> None:
    with pytest.raises(Conflict, match="allowed from draft: publish, cancel"):
        next_status(S.DRAFT, E.OPEN)


@given(st.lists(st.sampled_from(list(E)), max_size=20))
def test_random_event_sequences_stay_in_known_states(events: list[LotEvent]) -> None:
    state = S.DRAFT
    for event in events:
        try:
            state = next_status(state, event)
        except Conflict:
            continue
        assert state in S
    if is_final(state):
        assert allowed_events(state) == []


def test_works_only_by_tender() -> None:
    for method in ProcurementMethod:
        if method.is_tender:
            check_method_allowed(ProjectCategory.WORKS, method)
        else:
            with pytest.raises(ValidationError, match=r"TBL Art\. 10"):
                check_method_allowed(ProjectCategory.WORKS, method)


def test_price_inquiry_only_for_goods() -> None:
    check_method_allowed(ProjectCategory.GOODS, ProcurementMethod.PRICE_INQUIRY)
    with pytest.raises(ValidationError, match=r"GPL Art\. 32"):
        check_method_allowed(ProjectCategory.SERVICES, ProcurementMethod.PRICE_INQUIRY)
