"""Price inquiry (询价) request and quote rules, pure: items, invitations, quote lines.

RULES §7: at least three qualified suppliers are invited (GPL Art. 40); the notice fixes the
items and contract terms, which may not change (GPL-R Art. 36); each supplier quotes one
price, once (GPL Art. 40). A quote prices every item of the request at the requested
quantity; the total is computed here, never typed, so it always equals the sum of the lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from procurement.exceptions import ValidationError

MIN_INVITED = 3
"""At least three qualified suppliers are invited to quote (GPL Art. 40; MOF74 Art. 12)."""
MAX_ITEMS = 100
MAX_INVITED = 1000
_CENT = Decimal("0.01")
_MAX_QUANTITY = Decimal(10) ** 9
_MAX_PRICE = Decimal(10) ** 11


class InvitationMode(StrEnum):
    """How the invited suppliers were chosen; recorded on the inquiry (MOF74 Art. 12)."""

    SELECTED = "selected"
    """Chosen by the purchaser among the registered suppliers of the category."""
    FRAMEWORK = "framework"
    """Every supplier of a framework agreement (协议供货/定点) valid on the day."""
    OPEN = "open"
    """Open to every registered supplier of the category (public notice)."""


class FollowUp(StrEnum):
    """After a failed inquiry: procure again, or with approval by another method (MOF74 Art. 50)."""

    RERUN = "rerun"
    CHANGE_METHOD = "change_method"


@dataclass(frozen=True, slots=True)
class Item:
    """One requested item: name, specification, exact quantity and unit, reference brand."""

    number: int
    name: str
    quantity: Decimal
    unit: str
    specification: str = ""
    reference_brand: str = ""


@dataclass(frozen=True, slots=True)
class QuoteLine:
    """A supplier's price for one item: the quantity it quotes for and its unit price."""

    item: int
    quantity: Decimal
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        """Quantity × unit price, half-up to the fen."""
        return (self.quantity * self.unit_price).quantize(_CENT, rounding=ROUND_HALF_UP)


_NOT_A_NUMBER = {
    "a percentage": "a percentage must be a number, got {text!r}",
    "a quantity": "a quantity must be a number, got {text!r}",
    "a unit price": "a unit price must be a number, got {text!r}",
}
"""The message for each ``what`` of :func:`parse_decimal`, one sentence each for the catalog."""


def parse_decimal(text: object, field: str, *, what: str) -> Decimal:
    """A finite decimal from user input, or a ValidationError naming the field."""
    message = _NOT_A_NUMBER.get(what, "{what} must be a number, got {text!r}")
    try:
        value = Decimal(str(text).strip().replace(",", ""))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(message, field=field, what=what, text=text) from exc
    if not value.is_finite():
        raise ValidationError(message, field=field, what=what, text=text)
    return value


def check_items(items: Sequence[Item]) -> None:
    """Refuse an empty request, unnamed items, and quantities that are not positive.

    Raises:
        ValidationError: on the first bad item, with the item's field.
    """
    if not items:
        raise ValidationError("an inquiry needs at least one item", field="items")
    if len(items) > MAX_ITEMS:
        raise ValidationError("at most {most} items per inquiry", field="items", most=MAX_ITEMS)
    for item in items:
        prefix = f"items.{item.number}"
        if not item.name.strip():
            raise ValidationError(
                "item {number} needs a name", field=f"{prefix}.name", number=item.number
            )
        if not item.unit.strip():
            raise ValidationError(
                "item {number} needs a unit", field=f"{prefix}.unit", number=item.number
            )
        if not 0 < item.quantity < _MAX_QUANTITY:
            raise ValidationError(
                "item {number}: the quantity must be positive",
                field=f"{prefix}.quantity",
                number=item.number,
            )
        if item.quantity != item.quantity.quantize(Decimal("0.001")):
            raise ValidationError(
                "item {number}: at most three decimals in a quantity",
                field=f"{prefix}.quantity",
                number=item.number,
            )


def check_invited(suppliers: Iterable[int], minimum: int = MIN_INVITED) -> list[int]:
    """The distinct invited suppliers, at least ``minimum`` of them (GPL Art. 40).

    Raises:
        ValidationError: code ``too_few_invited`` when fewer are invited.
    """
    distinct = list(dict.fromkeys(suppliers))
    if len(distinct) < minimum:
        raise ValidationError(
            "a price inquiry invites at least {minimum} suppliers, found {found} (GPL Art. 40)",
            field="suppliers",
            code="too_few_invited",
            minimum=minimum,
            found=len(distinct),
        )
    if len(distinct) > MAX_INVITED:
        raise ValidationError(
            "at most {most} suppliers per inquiry", field="suppliers", most=MAX_INVITED
        )
    return distinct


def price_quote(items: Sequence[Item], lines: Sequence[QuoteLine]) -> Decimal:
    """The quote's total: every item priced once, at the requested quantity.

    Raises:
        ValidationError: an item missing, unknown or priced twice; a quantity other than the
            requested one (code ``quantity_mismatch``); a unit price that is not positive.
    """
    wanted = {item.number: item for item in items}
    seen: set[int] = set()
    total = Decimal(0)
    for line in lines:
        field = f"items.{line.item}"
        item = wanted.get(line.item)
        if item is None:
            raise ValidationError("the inquiry has no item {number}", field=field, number=line.item)
        if line.item in seen:
            raise ValidationError("item {number} is priced twice", field=field, number=line.item)
        seen.add(line.item)
        if line.quantity != item.quantity:
            raise ValidationError(
                "item {number} ({name}): quote for the requested quantity {quantity} {unit}, "
                "not {quoted}",
                field=f"{field}.quantity",
                code="quantity_mismatch",
                number=line.item,
                name=item.name,
                quantity=item.quantity,
                unit=item.unit,
                quoted=line.quantity,
            )
        if not 0 < line.unit_price < _MAX_PRICE:
            raise ValidationError(
                "item {number} ({name}): the unit price must be positive",
                field=f"{field}.unit_price",
                number=line.item,
                name=item.name,
            )
        if line.unit_price != line.unit_price.quantize(_CENT):
            raise ValidationError(
                "item {number}: a unit price has at most two decimals (fen)",
                field=f"{field}.unit_price",
                number=line.item,
            )
        total += line.amount
    missing = sorted(set(wanted) - seen)
    if missing:
        raise ValidationError(
            "every item must be priced; missing item(s) {missing}",
            field=f"items.{missing[0]}.unit_price",
            missing=", ".join(map(str, missing)),
        )
    return total
