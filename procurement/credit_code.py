"""Unified social credit code 统一社会信用代码 (GB 32100-2015): 18 characters, check digit.

Characters come from "0123456789ABCDEFGHJKLMNPQRTUWXY" (no I, O, S, V, Z); the 18th is
the check character: 31 − (Σ value × weight mod 31), with 31 written as 0.
"""

from __future__ import annotations

from procurement.exceptions import ValidationError

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(CHARSET)}
LENGTH = 18


def credit_code_check_char(first17: str) -> str:
    """The check character for the first 17 characters of a code."""
    if len(first17) != LENGTH - 1:
        raise ValueError("need exactly 17 characters")
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def validate_credit_code(text: str) -> str:
    """Normalise (strip, upper-case) and check a code; raise ValidationError saying why."""
    code = text.strip().upper()
    if len(code) != LENGTH:
        raise ValidationError(
            f"a unified social credit code has 18 characters, not {len(code)} "
            "(统一社会信用代码应为18位)",
            field="credit_code",
        )
    for position, char in enumerate(code, start=1):
        if char not in _VALUE:
            raise ValidationError(
                f"character {char!r} at position {position} is not allowed in a unified "
                "social credit code (含非法字符)",
                field="credit_code",
            )
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError(
            f"check digit of {code} is wrong: expected {expected} (校验码错误)", field="credit_code"
        )
    return code


def is_valid_credit_code(text: str) -> bool:
    """True when ``text`` is a valid code."""
    try:
        validate_credit_code(text)
    except ValidationError:
        return False
    return True
