"""Committee sizes and the share of experts (RULES §4), exhaustively over small committees."""

from __future__ import annotations

from decimal import Decimal

import pytest

from expert_pool.committee import (
    LARGE_PROJECT_BUDGET,
    CommitteeKind,
    CommitteeNotCompliant,
    check_committee,
    minimum_committee_size,
)

THRESHOLD = Decimal("2000000")
"""An open-tender threshold for goods and services (a local parameter)."""

# (kind, budget, complex flag, expected minimum): the RULES §4 table written out by hand.
CASES = [
    (CommitteeKind.GOVT_EVALUATION, Decimal("9999999.99"), False, 5),
    (CommitteeKind.GOVT_EVALUATION, LARGE_PROJECT_BUDGET, False, 7),
    (CommitteeKind.GOVT_EVALUATION, Decimal("25000000"), False, 7),
    (CommitteeKind.GOVT_EVALUATION, Decimal("500000"), True, 7),
    (CommitteeKind.NEGOTIATION, Decimal("1999999.99"), False, 3),
    (CommitteeKind.NEGOTIATION, THRESHOLD, False, 5),
    (CommitteeKind.INQUIRY, Decimal("150000"), False, 3),
    (CommitteeKind.INQUIRY, Decimal("3000000"), False, 5),
    (CommitteeKind.CONSULTATION, Decimal("50000000"), False, 3),
    (CommitteeKind.CONSULTATION, Decimal("100"), True, 3),
    (CommitteeKind.WORKS_EVALUATION, Decimal("80000000"), False, 5),
    (CommitteeKind.WORKS_EVALUATION, Decimal("1000"), False, 5),
]


def compliant(size: int, experts: int, minimum: int) -> bool:
    """The rule as RULES §4 states it."""
    return size >= minimum and size % 2 == 1 and 3 * experts >= 2 * size


@pytest.mark.parametrize(("kind", "budget", "complex_project", "minimum"), CASES)
def test_the_minimum_size_follows_the_rules_table(
    kind: CommitteeKind, budget: Decimal, complex_project: bool, minimum: int
) -> None:
    assert (
        minimum_committee_size(
            kind,
            budget,
            complex_or_high_impact=complex_project,
            open_tender_threshold=THRESHOLD,
        )
        == minimum
    )


@pytest.mark.parametrize(("kind", "budget", "complex_project", "minimum"), CASES)
def test_every_committee_of_1_to_15_members_is_judged_as_the_rules_say(
    kind: CommitteeKind, budget: Decimal, complex_project: bool, minimum: int
) -> None:
    for size in range(1, 16):
        for experts in range(size + 1):
            expected = compliant(size, experts, minimum)
            try:
                check_committee(
                    kind,
                    size,
                    experts,
                    budget,
                    complex_or_high_impact=complex_project,
                    open_tender_threshold=THRESHOLD,
                )
            except CommitteeNotCompliant:
                assert not expected, (size, experts)
            else:
                assert expected, (size, experts)


def test_a_committee_of_five_with_three_experts_is_refused_for_too_few_experts() -> None:
    with pytest.raises(CommitteeNotCompliant, match="4 of 5 members, 3 given"):
        check_committee(CommitteeKind.GOVT_EVALUATION, 5, 3, Decimal("800000"))


def test_two_thirds_is_enough_exactly() -> None:
    check_committee(CommitteeKind.CONSULTATION, 3, 2, Decimal("800000"))
    check_committee(CommitteeKind.WORKS_EVALUATION, 9, 6, Decimal("800000"))


def test_an_even_committee_is_refused_even_when_large_enough() -> None:
    with pytest.raises(CommitteeNotCompliant, match="odd number of members, at least 5; 6"):
        check_committee(CommitteeKind.WORKS_EVALUATION, 6, 6, Decimal("1"))


def test_a_large_project_needs_seven_and_the_message_says_why() -> None:
    with pytest.raises(CommitteeNotCompliant) as refused:
        check_committee(CommitteeKind.GOVT_EVALUATION, 5, 5, Decimal("12000000"))
    message = str(refused.value)
    assert "at least 7" in message
    assert "12,000,000" in message
    assert "MOF87 Art. 47" in message


def test_a_negotiation_group_cannot_be_sized_without_the_open_tender_threshold() -> None:
    with pytest.raises(ValueError, match="open-tender threshold"):
        check_committee(CommitteeKind.NEGOTIATION, 3, 3, Decimal("100000"))


def test_money_must_be_decimal_and_not_negative() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        check_committee(CommitteeKind.CONSULTATION, 3, 3, 100000.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-negative"):
        check_committee(CommitteeKind.CONSULTATION, 3, 3, Decimal("-1"))
    with pytest.raises(ValueError, match="non-negative"):
        check_committee(CommitteeKind.CONSULTATION, 3, 3, Decimal("NaN"))


@pytest.mark.parametrize(("size", "experts"), [(-1, 0), (3, -1), (3, 4)])
def test_impossible_member_counts_are_programming_errors(size: int, experts: int) -> None:
    with pytest.raises(ValueError, match="impossible committee"):
        check_committee(CommitteeKind.CONSULTATION, size, experts, Decimal("1"))
