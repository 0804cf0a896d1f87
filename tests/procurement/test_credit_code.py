"""Unified social credit codes 统一社会信用代码 (GB 32100-2015)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from procurement.credit_code import (
    CHARSET,
    REGISTRATION_AUTHORITIES,
    credit_code_check_char,
    is_valid_credit_code,
    organisation_code_check_char,
    validate_credit_code,
)
from procurement.exceptions import ValidationError
from procurement.i18n import Translator

# Published codes of well-known organisations; both check characters verified by hand.
REAL_CODES = [
    "91350100M000100Y43",
    "914403001922038216",
    "9144030071526726XG",
    "91330100716105852F",
    "91110000802100433B",
    "91440300708461136T",
    "92500105MAC817EJ5D",
]

ORG_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@st.composite
def well_formed_first17(draw: st.DrawFn) -> str:
    """Seventeen characters that respect every structural rule of the standard."""
    authority = draw(st.sampled_from(sorted(REGISTRATION_AUTHORITIES)))
    entity = draw(st.sampled_from(sorted(REGISTRATION_AUTHORITIES[authority][2])))
    division = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    organisation = draw(st.text(alphabet=ORG_CHARS, min_size=8, max_size=8))
    check = organisation_code_check_char(organisation)
    return authority + entity + division + organisation + check


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid_with_both_check_characters(code: str) -> None:
    assert validate_credit_code(code, check_organisation_code=True) == code
    assert credit_code_check_char(code[:17]) == code[17]
    assert organisation_code_check_char(code[8:16]) == code[16]


def test_input_is_stripped_upper_cased_and_full_width_folded() -> None:
    assert validate_credit_code("  91350100m000100y43 ") == "91350100M000100Y43"
    assert validate_credit_code("９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "18 characters, not 0"),
        ("91350100M000100Y4", "18 characters, not 17"),
        ("91350100M000100Y433", "18 characters, not 19"),
        ("91350100M000100I43", "character 'I' at position 16 is not allowed"),
        ("91350100M00010OY43", "'O' at position 15 is not allowed"),
        ("Z1350100M000100Y43", "'Z' at position 1 is not allowed"),
        ("B1350100M000100Y43", "position 1 ('B') is not a registration authority"),
        ("94350100M000100Y43", "position 2 ('4') is not an entity type"),
        ("Y2350100M000100Y43", "position 2 ('2') is not an entity type"),
        ("913501A0M000100Y43", "'A' at position 7 is not allowed"),
        ("91350100M000100Y44", "check digit of 91350100M000100Y44 is wrong: expected 3"),
    ],
)
def test_a_bad_code_is_refused_with_a_precise_message(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)) as raised:
        validate_credit_code(text)
    assert raised.value.field == "credit_code"
    assert not is_valid_credit_code(text)


def test_the_messages_read_in_chinese_on_chinese_pages() -> None:
    chinese = Translator([Path(__file__).resolve().parents[2] / "procurement"]).gettext("zh")
    with pytest.raises(ValidationError) as raised:
        validate_credit_code("91350100M000100Y44")
    assert (
        raised.value.localized(chinese)
        == "统一社会信用代码 91350100M000100Y44 的第18位校验码错误，应为 3"
    )
    assert str(raised.value) == (
        "check digit of 91350100M000100Y44 is wrong: expected 3 at position 18"
    )  # English alone, for scripts and English pages


def test_a_wrong_organisation_check_character_is_refused_only_when_asked() -> None:
    body = "91350100M000100Y5"  # position 17 changed from 4 to 5, position 18 recomputed
    code = body + credit_code_check_char(body)
    assert is_valid_credit_code(code)
    with pytest.raises(ValidationError, match=r"organisation code \(position 17\).*expected 4"):
        validate_credit_code(code, check_organisation_code=True)


def test_every_registration_authority_and_entity_type_pair_of_the_standard_is_accepted() -> None:
    for authority, (_, _, entity_types) in REGISTRATION_AUTHORITIES.items():
        for entity in entity_types:
            body = f"{authority}{entity}11010800000000{'0'}"
            body = body[:16] + organisation_code_check_char(body[8:16])
            assert is_valid_credit_code(
                body + credit_code_check_char(body), check_organisation_code=True
            )


def test_enterprises_individual_businesses_and_cooperatives_are_types_1_to_3_of_authority_9() -> (
    None
):
    assert REGISTRATION_AUTHORITIES["9"][2] == frozenset("123")
    assert REGISTRATION_AUTHORITIES["Y"][2] == frozenset("1")


def test_the_check_character_of_the_first_17_is_computed_from_the_weights() -> None:
    # Σ = 9×1 + 1×3 + 3×9 + 5×27 + 1×26 + M(21)×20 + 1×8 + Y(30)×30 + 4×28 = 1640;
    # 1640 mod 31 = 28; 31 − 28 = 3.
    assert credit_code_check_char("91350100M000100Y4") == "3"


def test_check_character_31_is_written_as_zero() -> None:
    assert credit_code_check_char("0" * 17) == "0"


def test_the_check_functions_refuse_malformed_programming_input() -> None:
    with pytest.raises(ValueError, match="17 characters"):
        credit_code_check_char("123")
    with pytest.raises(ValueError, match="17 characters"):
        credit_code_check_char("I" * 17)
    with pytest.raises(ValueError, match="8 digits"):
        organisation_code_check_char("1234567")


@pytest.mark.parametrize(
    ("first8", "check"),
    [("19220382", "1"), ("71526726", "X"), ("71610585", "2"), ("00000000", "0")],
)
def test_organisation_code_check_writes_10_as_x_and_11_as_zero(first8: str, check: str) -> None:
    assert organisation_code_check_char(first8) == check


@given(well_formed_first17())
def test_any_well_formed_body_with_its_check_character_validates(first17: str) -> None:
    code = first17 + credit_code_check_char(first17)
    assert validate_credit_code(code, check_organisation_code=True) == code


@given(st.text(alphabet=CHARSET, min_size=17, max_size=17))
def test_the_check_character_is_always_in_the_charset(first17: str) -> None:
    assert credit_code_check_char(first17) in CHARSET


@given(
    well_formed_first17(),
    st.integers(min_value=0, max_value=17),
    st.sampled_from(CHARSET + "IOSVZ-a"),
)
def test_any_single_character_change_of_a_valid_code_is_rejected(
    first17: str, position: int, replacement: str
) -> None:
    code = first17 + credit_code_check_char(first17)
    changed = code[:position] + replacement + code[position + 1 :]
    if changed.upper() != code:
        assert not is_valid_credit_code(changed)
