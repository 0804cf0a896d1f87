"""Resident identity numbers 公民身份号码 (GB 11643-1999) of registered experts.

The identity number is how a person is recognised across pools and blacklists (RULES §4: no
bad record in the previous 3 years), so it is validated when an expert registers; it is also
personal data, so every page but the administrator's shows it masked.

The 18 characters are: a 6-digit address code (GB/T 2260), an 8-digit birth date YYYYMMDD,
a 3-digit sequence code (odd for men, even for women) and a check character computed over the
first 17 with the ISO 7064 MOD 11-2 scheme: weights 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10,
5, 8, 4, 2 and check = "10X98765432"[sum mod 11].
"""

from __future__ import annotations

import unicodedata
from datetime import date

from procurement.exceptions import ValidationError

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
"""Weights of positions 1-17 (2^(18-i) mod 11, GB 11643-1999 §8.2)."""
CHECK_CHARS = "10X98765432"
"""Check character by (weighted sum mod 11)."""
LENGTH = 18
FIELD = "identity_number"
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
"""No living expert was born earlier; a 18xx birth date is a typo."""


class InvalidIdentityNumber(ValidationError, ValueError):
    """An identity number that breaks GB 11643-1999; the message says which rule."""

    def __init__(self, message: str, *, code: str = "", **params: object) -> None:
        super().__init__(message, field=FIELD, code=code, **params)


def identity_check_char(first17: str) -> str:
    """The check character for the first 17 digits (GB 11643-1999 §8.2, ISO 7064 MOD 11-2).

    Raises:
        ValueError: ``first17`` is not 17 ASCII digits; a programming error, user input goes
            through :func:`validate_identity_number`.
    """
    if len(first17) != LENGTH - 1 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"need 17 digits, got {first17!r}")
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def validate_identity_number(text: str) -> str:
    """The identity number in canonical form, or an error saying what is wrong.

    Full-width characters and surrounding spaces are forgiven (NFKC, strip) and a lower-case
    ``x`` is upper-cased, because people type numbers copied from many sources; anything else
    wrong is refused with a message the expert can act on.

    Raises:
        InvalidIdentityNumber: wrong length, a non-digit, an impossible birth date, or a check
            character that does not match (a typing error).
    """
    number = unicodedata.normalize("NFKC", text).strip().upper()
    if len(number) != LENGTH:
        raise InvalidIdentityNumber(
            "an identity number has {length} characters, {number!r} has {count}",
            length=LENGTH,
            number=number,
            count=len(number),
        )
    body, check = number[:-1], number[-1]
    if not body.isascii() or not body.isdigit():
        raise InvalidIdentityNumber(
            "the first 17 characters of an identity number are digits: {number!r}", number=number
        )
    if check not in CHECK_CHARS:
        raise InvalidIdentityNumber(
            "the last character of an identity number is a digit or X, not {check!r}", check=check
        )
    _birth_date(body)
    expected = identity_check_char(body)
    if check != expected:
        raise InvalidIdentityNumber(
            "the check character of {number} does not match (expected {expected}): "
            "a digit was probably mistyped",
            number=number,
            expected=expected,
        )
    return number


def is_valid_identity_number(text: str) -> bool:
    """Whether :func:`validate_identity_number` accepts ``text``."""
    try:
        validate_identity_number(text)
    except InvalidIdentityNumber:
        return False
    return True


def birth_date_of(number: str) -> date:
    """The birth date encoded in a valid identity number (positions 7-14).

    Used for the age limit of government experts (under 70, E198 Art. 6, unconfirmed).
    """
    return _birth_date(validate_identity_number(number)[:-1])


def mask_identity_number(number: str) -> str:
    """The number with its middle hidden: first 6 and last 4 characters kept.

    ``110105194912310021`` → ``110105********0021``: enough for a person to recognise their
    own number, not enough to learn a birth date (personal data, shown in full only on the
    administrator's page).

    Raises:
        InvalidIdentityNumber: ``number`` is not a valid identity number; masking garbage
            would hide the error.
    """
    canonical = validate_identity_number(number)
    return canonical[:6] + "*" * (LENGTH - 10) + canonical[-4:]


def _birth_date(first17: str) -> date:
    text = first17[6:14]
    try:
        born = date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise InvalidIdentityNumber(
            "characters 7-14 of an identity number are a birth date YYYYMMDD; "
            "{digits} is not a date",
            digits=text,
        ) from None
    if born < EARLIEST_BIRTH_DATE:
        raise InvalidIdentityNumber(
            "birth date {born} in the identity number is before {earliest}: check the number",
            born=born.isoformat(),
            earliest=EARLIEST_BIRTH_DATE.isoformat(),
        )
    return born
