"""Resident identity numbers (GB 11643-1999): validation and masking."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expert_pool.identity import (
    InvalidIdentityNumber,
    birth_date_of,
    identity_check_char,
    is_valid_identity_number,
    mask_identity_number,
    validate_identity_number,
)
from procurement.exceptions import ValidationError

STANDARD_EXAMPLE = "11010519491231002X"
"""The example of GB 11643-1999 (Beijing Chaoyang, born 31 Dec 1949, woman, check X)."""

birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))


@st.composite
def valid_numbers(draw: st.DrawFn) -> str:
    address = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    born = draw(birth_dates)
    sequence = draw(st.integers(0, 999))
    first17 = f"{address}{born:%Y%m%d}{sequence:03d}"
    return first17 + identity_check_char(first17)


def test_the_standards_example_is_valid_with_check_character_x() -> None:
    assert validate_identity_number(STANDARD_EXAMPLE) == STANDARD_EXAMPLE
    assert identity_check_char(STANDARD_EXAMPLE[:17]) == "X"


def test_a_number_with_a_digit_check_character_is_valid() -> None:
    assert validate_identity_number("440524198001010013") == "440524198001010013"


def test_birth_date_is_read_from_positions_7_to_14() -> None:
    assert birth_date_of(STANDARD_EXAMPLE) == date(1949, 12, 31)


def test_lower_case_x_spaces_and_full_width_digits_are_forgiven() -> None:
    assert validate_identity_number(" 11010519491231002x ") == STANDARD_EXAMPLE
    assert validate_identity_number("１１０１０５１９４９１２３１００２Ｘ") == STANDARD_EXAMPLE


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("11010519491231002", "18 characters"),
        ("11010519491231002X1", "18 characters"),
        ("", "18 characters"),
        ("1101051949123100AX", "first 17 characters"),
        ("11010519491231002Y", "digit or X"),
        ("110105194902300021", "not a date"),
        ("110105194913010021", "not a date"),
        ("110105189912310021", "before 1900-01-01"),
        ("110105194912310021", "check character"),
    ],
)
def test_invalid_numbers_are_refused_with_a_message_naming_the_rule(text: str, says: str) -> None:
    with pytest.raises(InvalidIdentityNumber, match=says) as refused:
        validate_identity_number(text)
    assert refused.value.field == "identity_number"
    assert not is_valid_identity_number(text)


def test_the_error_is_both_a_value_error_and_a_domain_validation_error() -> None:
    with pytest.raises(ValueError, match="check character"):
        validate_identity_number("110105194912310021")
    assert issubclass(InvalidIdentityNumber, ValidationError)


def test_masking_keeps_the_first_six_and_last_four_characters() -> None:
    assert mask_identity_number(STANDARD_EXAMPLE) == "110105********002X"


def test_masking_refuses_an_invalid_number_rather_than_hiding_the_error() -> None:
    with pytest.raises(InvalidIdentityNumber):
        mask_identity_number("110105194912310021")


def test_check_character_helper_refuses_anything_but_17_digits() -> None:
    with pytest.raises(ValueError, match="17 digits"):
        identity_check_char("1101051949123100")
    with pytest.raises(ValueError, match="17 digits"):
        identity_check_char("1101051949123100A")


@given(valid_numbers())
def test_every_well_formed_number_with_its_check_character_is_valid(number: str) -> None:
    assert validate_identity_number(number) == number
    masked = mask_identity_number(number)
    assert masked[:6] == number[:6]
    assert masked[-4:] == number[-4:]
    assert masked[6:14] == "*" * 8
    assert len(masked) == 18


@given(valid_numbers(), st.integers(0, 16), st.integers(1, 9))
def test_any_single_mistyped_digit_is_caught(number: str, position: int, shift: int) -> None:
    typo = str((int(number[position]) + shift) % 10)
    mistyped = number[:position] + typo + number[position + 1 :]
    assert not is_valid_identity_number(mistyped)


@given(valid_numbers(), st.integers(0, 15))
def test_any_swap_of_two_different_adjacent_digits_is_caught(number: str, position: int) -> None:
    first, second = number[position], number[position + 1]
    swapped = number[:position] + second + first + number[position + 2 :]
    if first != second:
        assert not is_valid_identity_number(swapped)


@given(valid_numbers())
def test_a_wrong_check_character_is_caught(number: str) -> None:
    for check in "0123456789X":
        if check != number[-1]:
            assert not is_valid_identity_number(number[:-1] + check)


def test_every_day_of_a_leap_year_is_a_valid_birth_date() -> None:
    day = date(2000, 1, 1)
    while day.year == 2000:
        first17 = f"330402{day:%Y%m%d}001"
        assert birth_date_of(first17 + identity_check_char(first17)) == day
        day += timedelta(days=1)
