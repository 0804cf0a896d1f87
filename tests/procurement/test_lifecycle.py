"""The lot state machine over every (state, event) pair; categories, methods and labels."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from procurement.exceptions import Conflict, ValidationError
from procurement.i18n import Translator
from procurement.lifecycle import (
    FINAL_STATES,
    FailureReason,
    LotEvent,
    LotStatus,
    ProcurementMethod,
    ProjectCategory,
    Transition,
    allowed_events,
    allowed_methods,
    check_method_allowed,
    is_final,
    is_method_allowed,
    next_status,
)

S, E = LotStatus, LotEvent
LEGAL = {
    (S.DRAFT, E.PUBLISH): S.PUBLISHED,
    (S.DRAFT, E.CANCEL): S.CANCELLED,
    (S.PUBLISHED, E.CLOSE_BIDDING): S.BIDDING_CLOSED,
    (S.PUBLISHED, E.CANCEL): S.CANCELLED,
    (S.BIDDING_CLOSED, E.OPEN): S.OPENED,
    (S.BIDDING_CLOSED, E.FAIL): S.FAILED,
    (S.BIDDING_CLOSED, E.CANCEL): S.CANCELLED,
    (S.OPENED, E.START_EVALUATION): S.EVALUATING,
    (S.OPENED, E.FAIL): S.FAILED,
    (S.OPENED, E.CANCEL): S.CANCELLED,
    (S.EVALUATING, E.AWARD): S.AWARDED,
    (S.EVALUATING, E.FAIL): S.FAILED,
    (S.EVALUATING, E.CANCEL): S.CANCELLED,
}
G, SV, W = ProjectCategory.GOODS, ProjectCategory.SERVICES, ProjectCategory.WORKS
M = ProcurementMethod


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("event", list(E))
def test_every_state_and_event_pair_follows_the_table(state: LotStatus, event: LotEvent) -> None:
    if (state, event) in LEGAL:
        assert next_status(state, event) is LEGAL[(state, event)]
    else:
        with pytest.raises(Conflict, match=f"a lot in state '{state.value}' cannot be ") as raised:
            next_status(state, event)
        assert raised.value.code == "illegal_transition"


def test_the_error_says_what_was_refused_and_what_is_allowed() -> None:
    expected = "a lot in state 'draft' cannot be opened; allowed from draft: publish, cancel"
    with pytest.raises(Conflict, match=re.escape(expected)):
        next_status(S.DRAFT, E.OPEN)


def test_the_error_reads_in_chinese_on_chinese_pages() -> None:
    chinese = Translator([Path(__file__).resolve().parents[2] / "procurement"]).gettext("zh")
    with pytest.raises(Conflict) as raised:
        next_status(S.DRAFT, E.OPEN)
    assert (
        raised.value.localized(chinese) == "“草稿”状态的标段不能开标；当前可进行的操作：发布、终止"
    )


def test_a_final_lot_says_nothing_is_allowed() -> None:
    with pytest.raises(
        Conflict, match=re.escape("allowed from awarded: nothing (the lot is final)")
    ):
        next_status(S.AWARDED, E.CANCEL)


def test_the_final_states_are_awarded_failed_and_cancelled() -> None:
    assert {s for s in S if is_final(s)} == {S.AWARDED, S.FAILED, S.CANCELLED} == FINAL_STATES


def test_final_states_accept_no_event() -> None:
    for state in FINAL_STATES:
        assert allowed_events(state) == []


def test_every_state_that_is_not_final_can_be_cancelled() -> None:
    for state in S:
        assert (E.CANCEL in allowed_events(state)) is not is_final(state)


def test_a_lot_can_fail_after_the_deadline_after_opening_and_during_evaluation() -> None:
    assert {s for s in S if E.FAIL in allowed_events(s)} == {
        S.BIDDING_CLOSED,
        S.OPENED,
        S.EVALUATING,
    }


def test_allowed_events_match_the_table() -> None:
    for state in S:
        assert set(allowed_events(state)) == {e for (s, e) in LEGAL if s is state}


def test_transition_is_the_event_enum() -> None:
    assert Transition is LotEvent
    assert Transition("open") is E.OPEN


def test_the_failure_reasons_are_the_rules_codes() -> None:
    assert [r.value for r in FailureReason] == [
        "TOO_FEW_BIDS",
        "TOO_FEW_VALID",
        "ALL_OVER_BUDGET",
        "IRREGULARITY",
        "CANCELLED",
    ]


@pytest.mark.parametrize(
    "enum", [LotStatus, LotEvent, FailureReason, ProjectCategory, ProcurementMethod]
)
def test_every_member_has_distinct_chinese_and_english_labels(enum: type[LotStatus]) -> None:
    members = list(enum)
    assert all(m.label_zh and m.label_en for m in members)
    assert len({m.label_zh for m in members}) == len(members)
    assert len({m.label_en for m in members}) == len(members)
    assert all(re.search(r"[\u4e00-\u9fff]", m.label_zh) for m in members)


def test_labels_follow_the_regulations_words() -> None:
    assert [m.label_zh for m in M] == [
        "公开招标",
        "邀请招标",
        "竞争性谈判",
        "竞争性磋商",
        "单一来源",
        "询价",
    ]
    assert [c.label_zh for c in ProjectCategory] == ["货物", "服务", "工程"]
    assert S.OPENED.label_zh == "已开标"
    assert S.DRAFT.label("zh-CN") == "草稿"
    assert S.DRAFT.label("en") == "Draft"


def test_enum_values_are_the_stored_strings() -> None:
    assert [s.value for s in S] == [
        "draft",
        "published",
        "bidding_closed",
        "opened",
        "evaluating",
        "awarded",
        "failed",
        "cancelled",
    ]
    assert M("open_tender") is M.OPEN_TENDER
    assert f"{S.DRAFT}" == "draft"


def test_tenders_are_open_and_invitation() -> None:
    assert {m for m in M if m.is_tender} == {M.OPEN_TENDER, M.INVITATION}


ALLOWED = (
    {(G, m) for m in M}
    | {(SV, m) for m in M if m is not M.PRICE_INQUIRY}
    | {(W, M.OPEN_TENDER), (W, M.INVITATION)}
)


@pytest.mark.parametrize("category", list(ProjectCategory))
@pytest.mark.parametrize("method", list(M))
def test_methods_per_category(category: ProjectCategory, method: ProcurementMethod) -> None:
    allowed = (category, method) in ALLOWED
    assert is_method_allowed(category, method) is allowed
    assert (method in allowed_methods(category)) is allowed
    if allowed:
        check_method_allowed(category, method)
    else:
        with pytest.raises(ValidationError) as raised:
            check_method_allowed(category, method)
        assert raised.value.field == "method"
        assert raised.value.code == "method_not_allowed"


def test_works_refuse_negotiation_citing_the_tendering_law() -> None:
    with pytest.raises(ValidationError, match=r"TBL Art\. 10"):
        check_method_allowed(W, M.COMPETITIVE_NEGOTIATION)


def test_services_refuse_price_inquiry_citing_the_procurement_law() -> None:
    with pytest.raises(ValidationError, match=r"GPL Art\. 32"):
        check_method_allowed(SV, M.PRICE_INQUIRY)


@given(st.lists(st.sampled_from(list(E)), max_size=30))
def test_random_event_sequences_never_reach_an_undefined_state(events: list[LotEvent]) -> None:
    state = S.DRAFT
    for event in events:
        try:
            following = next_status(state, event)
        except Conflict:
            assert event not in allowed_events(state)
            continue
        assert following in set(S)
        assert not is_final(state)
        state = following
    assert state in set(S)


@given(st.sampled_from(sorted(FINAL_STATES)), st.lists(st.sampled_from(list(E)), max_size=10))
def test_final_states_accept_nothing_and_stay_put(final: LotStatus, events: list[LotEvent]) -> None:
    for event in events:
        with pytest.raises(Conflict):
            next_status(final, event)
    assert is_final(final)


@given(st.lists(st.sampled_from(list(E)), max_size=30))
def test_states_only_move_forward(events: list[LotEvent]) -> None:
    order = list(S)
    state = S.DRAFT
    for event in events:
        if event in allowed_events(state):
            following = next_status(state, event)
            assert order.index(following) > order.index(state)
            state = following
