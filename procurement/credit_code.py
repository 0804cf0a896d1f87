"""Unified social credit code 统一社会信用代码 (GB 32100-2015).

Every supplier, purchasing unit and agency registers with its code, so a typo caught here is
a duplicate account or a wrong blacklist match avoided (RULES §9: blacklists are keyed by the
code). The 18 characters are:

- position 1: registration authority 登记管理部门代码;
- position 2: entity type 机构类别代码, meaningful only together with position 1;
- positions 3-8: administrative division 登记管理机关行政区划码 (GB/T 2260), six digits;
- positions 9-17: entity identifier 主体标识码, the organisation code of GB 11714 with its own
  check character at position 17;
- position 18: the check character over the first 17.

Characters come from "0123456789ABCDEFGHJKLMNPQRTUWXY" (no I, O, S, V, Z).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from procurement.exceptions import ValidationError

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of a code, in the order of their values (GB 32100-2015 §5)."""
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
"""Weights of positions 1-17 for the check character (3^(i-1) mod 31)."""
LENGTH = 18
FIELD = "credit_code"

ORGANISATION_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
"""Weights of the organisation code's first 8 characters (GB 11714-1997)."""

REGISTRATION_AUTHORITIES: Mapping[str, tuple[str, str, frozenset[str]]] = {
    "1": ("机构编制", "institutional staffing", frozenset("1239")),
    "2": ("外交", "foreign affairs", frozenset("19")),
    "3": ("司法行政", "justice administration", frozenset("123459")),
    "4": ("文化", "culture", frozenset("19")),
    "5": ("民政", "civil affairs", frozenset("1239")),
    "6": ("旅游", "tourism", frozenset("129")),
    "7": ("宗教", "religious affairs", frozenset("129")),
    "8": ("工会", "trade unions", frozenset("19")),
    "9": ("工商", "market regulation (industry and commerce)", frozenset("123")),
    "A": (
        "中央军委改革和编制办公室",
        "Central Military Commission staffing office",
        frozenset("19"),
    ),
    "N": ("农业", "agriculture (rural collective economic organisations)", frozenset("1239")),
    "Y": ("其他", "other", frozenset("1")),
}
"""Registration authority (position 1) → Chinese name, English name, allowed entity types.

GB 32100-2015 Table 1 assigns 1, 5, 9 and Y; the standards administration later assigned the
other authorities. Enterprises are 91, individual businesses 92, farmer cooperatives 93.
"""

_VALUE = {char: value for value, char in enumerate(CHARSET)}


def credit_code_check_char(first17: str) -> str:
    """The check character (position 18) for the first 17 characters of a code.

    GB 32100-2015 §5: C18 = 31 − (Σ value_i × weight_i mod 31), with 31 written as "0".

    Raises:
        ValueError: ``first17`` is not 17 characters of the code's character set; this is a
            programming error, user input goes through :func:`validate_credit_code`.
    """
    if len(first17) != LENGTH - 1 or any(char not in _VALUE for char in first17):
        raise ValueError(f"need 17 characters from {CHARSET}, got {first17!r}")
    total = sum(_VALUE[char] * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def organisation_code_check_char(first8: str) -> str:
    """The check character of a GB 11714 organisation code (position 17 of a credit code).

    C9 = 11 − (Σ value_i × weight_i mod 11), written "X" for 10 and "0" for 11; digits are
    worth their value and letters A-Z 10-35 (GB 11714-1997 §4).

    Raises:
        ValueError: ``first8`` is not 8 digits or capital letters.
    """
    if len(first8) != len(ORGANISATION_CODE_WEIGHTS) or not all(
        char.isascii() and (char.isdigit() or char.isupper()) for char in first8
    ):
        raise ValueError(f"need 8 digits or capital letters, got {first8!r}")
    total = sum(
        int(char, 36) * weight
        for char, weight in zip(first8, ORGANISATION_CODE_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def normalise_credit_code(text: str) -> str:
    """What the user meant: full-width characters folded (NFKC), spaces stripped, upper case.

    Codes are often copied from Chinese documents set in full-width characters (全角).
    """
    return unicodedata.normalize("NFKC", text).strip().upper()


def validate_credit_code(text: str, *, check_organisation_code: bool = False) -> str:
    """Normalise a unified social credit code and check it (GB 32100-2015).

    Args:
        text: the code as typed or pasted.
        check_organisation_code: also check the GB 11714 check character at position 17.
            Every code issued under GB 32100-2015 embeds a valid organisation code; the
            option is off by default so identifiers generated without it (demo and test
            data) keep validating.

    Returns:
        The normalised 18-character code.

    Raises:
        ValidationError: on field ``credit_code``, naming the first problem found: wrong
            length, a character not allowed at a position, an unknown registration authority
            or entity type, a non-digit division code, or a wrong check character.
    """
    code = normalise_credit_code(text)
    if len(code) != LENGTH:
        raise ValidationError(
            "a unified social credit code has 18 characters, not {length}",
            field=FIELD,
            code="credit_code_length",
            length=len(code),
        )
    for position, char in enumerate(code, start=1):
        if char not in _VALUE:
            raise ValidationError(
                "character {char!r} at position {position} is not allowed in a unified "
                "social credit code (only digits and capital letters except I, O, S, V, Z)",
                field=FIELD,
                code="credit_code_character",
                char=char,
                position=position,
            )
    authority = REGISTRATION_AUTHORITIES.get(code[0])
    if authority is None:
        raise ValidationError(
            "position 1 ({char!r}) is not a registration authority code; allowed: {allowed}",
            field=FIELD,
            code="credit_code_authority",
            char=code[0],
            allowed=", ".join(REGISTRATION_AUTHORITIES),
        )
    name_zh, name_en, entity_types = authority
    if code[1] not in entity_types:
        raise ValidationError(
            "position 2 ({char!r}) is not an entity type of registration authority "
            "{authority}; allowed: {allowed}",
            field=FIELD,
            code="credit_code_entity_type",
            char=code[1],
            authority=_Authority(code[0], name_zh, name_en),
            allowed=", ".join(sorted(entity_types)),
        )
    for position in range(3, 9):
        if not code[position - 1].isdigit():
            raise ValidationError(
                "character {char!r} at position {position} is not allowed: positions 3-8 are "
                "the administrative division code and must be digits",
                field=FIELD,
                code="credit_code_division",
                char=code[position - 1],
                position=position,
            )
    if check_organisation_code:
        expected_org = organisation_code_check_char(code[8:16])
        if code[16] != expected_org:
            raise ValidationError(
                "check digit of the organisation code (position 17) of {credit_code} is "
                "wrong: expected {expected}",
                field=FIELD,
                code="credit_code_organisation_check",
                credit_code=code,
                expected=expected_org,
            )
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError(
            "check digit of {credit_code} is wrong: expected {expected} at position 18",
            field=FIELD,
            code="credit_code_check_digit",
            credit_code=code,
            expected=expected,
        )
    return code


@dataclass(frozen=True)
class _Authority:
    """A registration authority in a message, named in the reader's language.

    ``{authority}`` is its code and English name, ``{authority:zh}`` its Chinese name.
    """

    code: str
    name_zh: str
    name_en: str

    def __format__(self, spec: str) -> str:
        if spec == "zh":
            return self.name_zh
        return format(f"{self.code} ({self.name_en})", spec)


def is_valid_credit_code(text: str, *, check_organisation_code: bool = False) -> bool:
    """Whether ``text`` is a valid code (see :func:`validate_credit_code`)."""
    try:
        validate_credit_code(text, check_organisation_code=check_organisation_code)
    except ValidationError:
        return False
    return True
