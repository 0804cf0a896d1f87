"""Money: exact amounts in fen, Decimal yuan in the domain, 万元 only for display.

RULES §8.3: funds saved = budget (for works, the reserve price 标底) − award amount;
savings rate = saved / budget; aggregate by summing exact amounts and dividing once;
round half-up to 0.01 万元 and to 0.01 % only when displaying.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from procurement.exceptions import ValidationError

FEN_PER_YUAN = 100
YUAN_PER_WAN = Decimal(10_000)
CENT = Decimal("0.01")
#: No procurement is worth more; its fen fit a PostgreSQL ``bigint`` with room to add up.
MAX_YUAN = Decimal(10) ** 14


#: ``MoneyError.code`` for each rule an amount can break.
NOT_AN_AMOUNT = "not_an_amount"
NEGATIVE = "negative_amount"
TOO_LARGE = "amount_too_large"
TOO_PRECISE = "amount_too_precise"
NOT_WHOLE_FEN = "not_whole_fen"


class MoneyError(ValidationError, ValueError):
    """An amount that is not a valid sum of money (negative, not a number, too precise).

    A ``ValueError`` to arithmetic code, and a user's input error whose message the catalogs
    translate; ``code`` names the rule broken (:data:`NEGATIVE`, ...).
    """


def parse_yuan(text: str | int | Decimal) -> Decimal:
    """Parse a yuan amount from user input: a non-negative number with at most 2 decimals."""
    try:
        value = Decimal(str(text).strip().replace(",", ""))
    except InvalidOperation as exc:
        raise MoneyError(
            "{text!r} is not an amount of money", code=NOT_AN_AMOUNT, text=text
        ) from exc
    if not value.is_finite():
        raise MoneyError("{text!r} is not an amount of money", code=NOT_AN_AMOUNT, text=text)
    if value < 0:
        raise MoneyError("amount {value} must not be negative", code=NEGATIVE, value=value)
    if value > MAX_YUAN:  # "1e400" cannot be quantized; its fen would overflow the column
        raise MoneyError(
            "amount {value} is more than {maximum:,} yuan",
            code=TOO_LARGE,
            value=value,
            maximum=MAX_YUAN,
        )
    if value != value.quantize(CENT):
        raise MoneyError(
            "amount {value} has more than 2 decimal places (fen)", code=TOO_PRECISE, value=value
        )
    return value.quantize(CENT)


def yuan_to_fen(yuan: Decimal) -> int:
    """Exact yuan (at most 2 decimals) to integer fen, the unit stored in the database."""
    fen = yuan * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise MoneyError(
            "amount {value} is not a whole number of fen", code=NOT_WHOLE_FEN, value=yuan
        )
    return int(fen)


def fen_to_yuan(fen: int) -> Decimal:
    """Integer fen to exact Decimal yuan."""
    return (Decimal(fen) / FEN_PER_YUAN).quantize(CENT)


def round_half_up(value: Decimal, places: str = "0.01") -> Decimal:
    """Round half-up (四舍五入), the convention of the documents and bulletins (RULES §5.1)."""
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def to_wan(yuan: Decimal) -> Decimal:
    """Yuan to 万元 rounded half-up to 0.01, for display only (RULES §8.3)."""
    return round_half_up(yuan / YUAN_PER_WAN)


def funds_saved(budget: Decimal, award: Decimal) -> Decimal:
    """Funds saved 节约资金 = budget (or reserve price for works) − award amount (RULES §8.3)."""
    return budget - award


def savings_rate(saved: Decimal, budget: Decimal) -> Decimal | None:
    """Savings rate 节约率 = saved / budget, as an exact fraction; None for a zero budget.

    The base is the budget, not the award amount (RULES §8.3, MOF 2006 figures).
    """
    if budget == 0:
        return None
    return saved / budget


def percent_display(rate: Decimal | None) -> str:
    """A rate as a percentage with 2 decimals, half-up ("6.97 %"), or "—" when undefined."""
    if rate is None:
        return "—"
    return f"{round_half_up(rate * 100)} %"
