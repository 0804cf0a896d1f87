"""Money rules of procurement/money.py: exact yuan, fen storage, 万元 and % for display."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from procurement.money import (
    MoneyError,
    fen_to_yuan,
    funds_saved,
    parse_yuan,
    percent_display,
    round_half_up,
    savings_rate,
    to_wan,
    yuan_to_fen,
)

D = Decimal

# RULES §10(c): budget, award per lot; L4 failed (流标) and is excluded.
LOTS = {
    "L1": (D("1234567.00"), D("1099023.00")),
    "L2": (D("876543.21"), D("800000.00")),
    "L3": (D("500000.00"), D("455056.00")),
}


@pytest.mark.parametrize(
    ("lot", "saved", "budget_wan", "award_wan", "saved_wan", "rate"),
    [
        ("L1", "135544.00", "123.46", "109.90", "13.55", "10.98 %"),
        ("L2", "76543.21", "87.65", "80.00", "7.65", "8.73 %"),
        ("L3", "44944.00", "50.00", "45.51", "4.49", "8.99 %"),
    ],
)
def test_rules_example_c_each_lot(
    lot: str, saved: str, budget_wan: str, award_wan: str, saved_wan: str, rate: str
) -> None:
    budget, award = LOTS[lot]
    assert funds_saved(budget, award) == D(saved)
    assert to_wan(budget) == D(budget_wan)
    assert to_wan(award) == D(award_wan)
    assert to_wan(funds_saved(budget, award)) == D(saved_wan)
    assert percent_display(savings_rate(funds_saved(budget, award), budget)) == rate


def test_rules_example_c_totals_sum_exact_amounts_and_divide_once() -> None:
    budget = sum((b for b, _ in LOTS.values()), D(0))
    award = sum((a for _, a in LOTS.values()), D(0))
    saved = funds_saved(budget, award)
    assert (budget, award, saved) == (D("2611110.21"), D("2354079.00"), D("257031.21"))
    assert (to_wan(budget), to_wan(award), to_wan(saved)) == (D("261.11"), D("235.41"), D("25.70"))
    assert percent_display(savings_rate(saved, budget)) == "9.84 %"


def test_rules_example_c_rounded_lot_savings_do_not_add_up_to_the_rounded_total() -> None:
    rounded_parts = sum((to_wan(funds_saved(b, a)) for b, a in LOTS.values()), D(0))
    assert rounded_parts == D("25.69")
    assert to_wan(D("257031.21")) == D("25.70")


def test_rules_example_c_the_mean_of_lot_rates_is_not_the_savings_rate() -> None:
    rates = [savings_rate(funds_saved(b, a), b) for b, a in LOTS.values()]
    mean = sum((r for r in rates if r is not None), D(0)) / len(rates)
    assert percent_display(mean) == "9.57 %"
    assert percent_display(savings_rate(D("257031.21"), D("2611110.21"))) == "9.84 %"


def test_bulletin_government_procurement_rate_is_6_97_percent() -> None:
    assert percent_display(savings_rate(D("85.56"), D("1227.41"))) == "6.97 %"


def test_bulletin_works_rate_against_the_reserve_price_is_11_24_percent() -> None:
    saved = funds_saved(D("47566.32"), D("42221.17"))
    assert saved == D("5345.15")
    assert percent_display(savings_rate(saved, D("47566.32"))) == "11.24 %"


def test_the_savings_rate_divides_by_the_budget_not_the_award() -> None:
    # MOF 2006: saved 440.6 of a budget of 3,681.6 + 440.6 → 10.69 %, not 440.6 / 3681.6.
    assert percent_display(savings_rate(D("440.6"), D("4122.2"))) == "10.69 %"


def test_a_zero_budget_has_no_rate_and_displays_a_dash() -> None:
    assert savings_rate(D(0), D(0)) is None
    assert percent_display(None) == "—"


def test_rounding_is_half_up_not_bankers() -> None:
    assert round_half_up(D("23.625")) == D("23.63")
    assert round_half_up(D("0.125")) == D("0.13")
    assert round_half_up(D("2.5"), "1") == D("3")
    assert to_wan(D("5000")) == D("0.50")
    assert to_wan(D("50")) == D("0.01")


@pytest.mark.parametrize(
    ("text", "value"),
    [("1,227.41", "1227.41"), (" 80000.5 ", "80000.50"), ("0", "0.00"), (12, "12.00")],
)
def test_parse_yuan_accepts_amounts_with_at_most_two_decimals(text: str | int, value: str) -> None:
    assert parse_yuan(text) == D(value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "not an amount"),
        ("NaN", "not an amount"),
        ("Infinity", "not an amount"),
        ("-1", "must not be negative"),
        ("1.001", "more than 2 decimal places"),
    ],
)
def test_parse_yuan_refuses_what_is_not_money(text: str, message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        parse_yuan(text)


def test_yuan_to_fen_refuses_fractions_of_a_fen() -> None:
    assert yuan_to_fen(D("80000.50")) == 8_000_050
    with pytest.raises(MoneyError, match="whole number of fen"):
        yuan_to_fen(D("0.001"))


@given(st.integers(min_value=0, max_value=10**15))
def test_fen_round_trips_exactly(fen: int) -> None:
    assert yuan_to_fen(fen_to_yuan(fen)) == fen
    assert parse_yuan(str(fen_to_yuan(fen))) == fen_to_yuan(fen)


@given(
    st.integers(min_value=1, max_value=10**12),
    st.integers(min_value=0, max_value=10**12),
)
def test_the_rate_is_exact_saved_over_budget(budget_fen: int, award_fen: int) -> None:
    budget, award = fen_to_yuan(budget_fen), fen_to_yuan(award_fen)
    rate = savings_rate(funds_saved(budget, award), budget)
    assert rate is not None
    assert rate * budget == pytest.approx(budget - award)
