"""Unified social credit code check digit (GB 32100-2015)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from procurement.credit_code import (
    CHARSET,
    credit_code_check_char,
    is_valid_credit_code,
    validate_credit_code,
)
from procurement.exceptions import ValidationError

REAL_CODES = ["91350100M000100Y43", "91110000802100433B", "91440300708461136T"]
body = st.text(alphabet=CHARSET, min_size=17, max_size=17)


@pytest.mark.parametrize("code", REAL_CODES)
def test_published_codes_are_valid(code: str) -> None:
    assert validate_credit_code(code) == code


def test_lower_case_and_spaces_are_normalised() -> None:
    assert validate_credit_code("  91350100m000100y43 ") == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91350100M000100Y4", "18 characters, not 17"),
        ("91350100M000100Y433", "18 characters, not 19"),
        ("", "18 characters, not 0"),
        ("9135010OM000100Y43", "position 8"),
        ("91350100M000100I43", "position 16"),
        ("91350100M000100Y44", "expected 3"),
    ],
)
def test_bad_codes_say_what_is_wrong(code: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        validate_credit_code(code)


@given(body)
def test_any_body_with_its_check_character_is_valid(first17: str) -> None:
    assert is_valid_credit_code(first17 + credit_code_check_char(first17))


@given(body, st.integers(min_value=0, max_value=17), st.sampled_from(CHARSET))
def test_any_single_character_change_is_detected(
    first17: str, position: int, replacement: str
) -> None:
    code = first17 + credit_code_check_char(first17)
    changed = code[:position] + replacement + code[position + 1 :]
    assert is_valid_credit_code(changed) == (changed == code)
