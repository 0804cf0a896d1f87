"""Whole numbers typed or sent from outside: ASCII digits, within what a column can hold.

``int()`` and ``str.isdigit()`` accept more than people mean ("١٢" is 12, "²".isdigit()
holds but ``int("²")`` fails) and Python integers are unbounded while PostgreSQL's are
not: a number past the column's range was a database error, a 500, instead of a clear
4xx. Every number from a form, query or JSON body goes through :func:`parse_whole`
(docs/architecture.md, input validation).
"""

from __future__ import annotations

import re

from procurement.exceptions import ValidationError

#: The largest PostgreSQL ``integer``: every row id and foreign key (piccolo ``Serial``,
#: ``ForeignKey``), so no larger number names a row.
MAX_ROW_ID = 2**31 - 1
#: The largest PostgreSQL ``bigint`` (amounts in fen, the audit sequence).
MAX_BIGINT = 2**63 - 1
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,19}")


def parse_whole(
    value: object, field: str, *, minimum: int | None = None, maximum: int = MAX_ROW_ID
) -> int:
    """A whole number of ASCII digits between ``minimum`` and ``maximum``, or a clear error."""
    text = str(value).strip() if value is not None and not isinstance(value, bool) else ""
    if not _WHOLE_NUMBER.fullmatch(text):
        raise ValidationError("{name} must be a whole number", field=field, name=field)
    number = int(text)
    if minimum is not None and number < minimum:
        raise ValidationError(
            "{name} must be at least {minimum}", field=field, name=field, minimum=minimum
        )
    if number > maximum:
        raise ValidationError(
            "{name} must be at most {maximum}", field=field, name=field, maximum=maximum
        )
    return number


def is_whole_number(text: str) -> bool:
    """Whether ``text`` is ASCII digits ("²".isdigit() holds, yet ``int("²")`` fails)."""
    return text.isascii() and text.isdigit()


def row_id_in_range(value: int) -> bool:
    """Whether ``value`` could be the id of a row (0 included: the router passes it on)."""
    return 0 <= value <= MAX_ROW_ID
