"""Price inquiry request and quote rules (RULES §7), with RULES §10(b) as the vector."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bidding.quotes import quote_declaration
from evaluation.inquiry import Quote, select_lowest_quote
from procurement.calendar import WorkingDayCalendar
from procurement.deadlines import earliest_bid_deadline
from procurement.exceptions import ValidationError
from procurement.inquiry_rules import (
    MIN_INVITED,
    Item,
    QuoteLine,
    check_invited,
    check_items,
    parse_decimal,
    price_quote,
)
from procurement.lifecycle import ProcurementMethod, ProjectCategory

SERVERS = Item(number=1, name="服务器", quantity=Decimal(2), unit="台")
DISKS = Item(number=2, name="硬盘", quantity=Decimal("10"), unit="块")


def test_worked_example_b_unit_prices_give_the_quotes_and_s2_wins() -> None:
    unit_prices = {"S1": "84000", "S2": "86250", "S3": "87900", "S4": "90600"}
    totals = {
        name: price_quote([SERVERS], [QuoteLine(1, Decimal(2), Decimal(price))])
        for name, price in unit_prices.items()
    }
    assert totals == {
        "S1": Decimal("168000.00"),
        "S2": Decimal("172500.00"),
        "S3": Decimal("175800.00"),
        "S4": Decimal("181200.00"),
    }
    quotes = [
        Quote(name, total, compliant=name != "S1", non_compliance="30-day delivery")
        for name, total in totals.items()
    ]
    result = select_lowest_quote(quotes, budget=Decimal(200000))
    assert result.winner is not None
    assert result.winner.supplier == "S2"
    assert result.savings is not None
    assert result.savings.saved == Decimal(27500)
    assert result.savings.rate_display == "13.75 %"


def test_worked_example_d_an_inquiry_notice_on_monday_needs_thursday() -> None:
    earliest = earliest_bid_deadline(
        date(2026, 11, 23),
        ProjectCategory.GOODS,
        ProcurementMethod.PRICE_INQUIRY,
        WorkingDayCalendar(),
    )
    assert earliest == date(2026, 11, 26)


def test_total_sums_every_line_rounded_half_up_to_the_fen() -> None:
    lines = [QuoteLine(1, Decimal(2), Decimal("0.05")), QuoteLine(2, Decimal(10), Decimal("1.99"))]
    assert price_quote([SERVERS, DISKS], lines) == Decimal("20.00")
    third = Item(number=3, name="线", quantity=Decimal("0.333"), unit="米")
    assert QuoteLine(3, Decimal("0.333"), Decimal("1.50")).amount == Decimal("0.50")
    assert price_quote([third], [QuoteLine(3, Decimal("0.333"), Decimal("1.50"))]) == Decimal(
        "0.50"
    )


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([QuoteLine(1, Decimal(3), Decimal(100))], "requested quantity"),
        ([QuoteLine(1, Decimal(2), Decimal(-1))], "must be positive"),
        ([QuoteLine(1, Decimal(2), Decimal(0))], "must be positive"),
        ([QuoteLine(1, Decimal(2), Decimal("1.001"))], "two decimals"),
        ([QuoteLine(9, Decimal(2), Decimal(1))], "no item 9"),
        ([QuoteLine(1, Decimal(2), Decimal(1))] * 2, "priced twice"),
        ([], "missing item"),
    ],
)
def test_bad_quote_lines_are_refused(lines: list[QuoteLine], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        price_quote([SERVERS], lines)


def test_quantity_mismatch_has_its_own_code() -> None:
    with pytest.raises(ValidationError) as caught:
        price_quote([SERVERS], [QuoteLine(1, Decimal(1), Decimal(1))])
    assert caught.value.code == "quantity_mismatch"
    assert caught.value.field == "items.1.quantity"


@given(
    quantities=st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=8),
    cents=st.lists(st.integers(min_value=1, max_value=10**9), min_size=8, max_size=8),
)
def test_total_is_the_exact_sum_of_quantity_times_unit_price(
    quantities: list[int], cents: list[int]
) -> None:
    items = [
        Item(number=i, name=f"item {i}", quantity=Decimal(q), unit="个")
        for i, q in enumerate(quantities, start=1)
    ]
    lines = [
        QuoteLine(item.number, item.quantity, Decimal(c) / 100)
        for item, c in zip(items, cents, strict=False)
    ]
    total = price_quote(items, list(reversed(lines)))
    assert total == sum(
        Decimal(q) * Decimal(c) / 100 for q, c in zip(quantities, cents, strict=False)
    )


@pytest.mark.parametrize("count", [0, 1, 2])
def test_fewer_than_three_invited_suppliers_are_refused(count: int) -> None:
    with pytest.raises(ValidationError, match="at least 3") as caught:
        check_invited(range(1, count + 1))
    assert caught.value.code == "too_few_invited"


def test_invited_suppliers_are_counted_once() -> None:
    with pytest.raises(ValidationError):
        check_invited([7, 7, 7, 8])
    assert check_invited([3, 1, 3, 2]) == [3, 1, 2]
    assert MIN_INVITED == 3


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (Item(1, " ", Decimal(1), "个"), "needs a name"),
        (Item(1, "纸", Decimal(1), ""), "needs a unit"),
        (Item(1, "纸", Decimal(0), "箱"), "positive"),
        (Item(1, "纸", Decimal("0.0001"), "箱"), "three decimals"),
    ],
)
def test_bad_items_are_refused(item: Item, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        check_items([item])


def test_a_request_needs_an_item() -> None:
    with pytest.raises(ValidationError, match="at least one item"):
        check_items([])


@pytest.mark.parametrize("text", ["abc", "", "NaN", "Infinity", "1e", "--1"])
def test_non_numbers_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="must be a number"):
        parse_decimal(text, "price", what="a price")


def test_thousands_separators_are_accepted() -> None:
    assert parse_decimal("1,234.50", "price", what="a price") == Decimal("1234.50")


def test_the_sealed_declaration_carries_lines_delivery_and_total() -> None:
    total, plain = quote_declaration(
        [SERVERS], [QuoteLine(1, Decimal(2), Decimal("86250"))], 15, "全部满足"
    )
    assert total == Decimal("172500.00")
    assert b'"total": "172500.00"' in plain
    assert "服务器".encode() in plain
    with pytest.raises(ValidationError, match="delivery"):
        quote_declaration([SERVERS], [QuoteLine(1, Decimal(2), Decimal(1))], 0, "")
