"""Money in fen, savings and rates rounded once for display (RULES §8.3, §10(c))."""

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
    savings_rate,
    to_wan,
    yuan_to_fen,
)

D = Decimal
LOTS = [
    (D("1234567.00"), D("1099023.00")),
    (D("876543.21"), D("800000.00")),
    (D("500000.00"), D("455056.00")),
]


def test_rules_example_c_totals_are_rounded_once() -> None:
    budget = sum((b for b, _ in LOTS), D(0))
    award = sum((a for _, a in LOTS), D(0))
    saved = funds_saved(budget, award)
    assert (to_wan(budget), to_wan(award), to_wan(saved)) == (D("261.11"), D("235.41"), D("25.70"))
    assert sum((to_wan(funds_saved(b, a)) for b, a in LOTS), D(0)) == D("25.69")
    assert percent_display(savings_rate(saved, budget)) == "9.84 %"


def test_bulletin_rates() -> None:
    assert percent_display(savings_rate(D("855600"), D("12274100"))) == "6.97 %"
    assert percent_display(savings_rate(D("53451500"), D("475663200"))) == "11.24 %"


def test_half_up_not_bankers_rounding() -> None:
    assert to_wan(D("236250")) == D("23.63")
    assert to_wan(D("236350")) == D("23.64")


def test_zero_budget_has_no_rate() -> None:
    assert savings_rate(D(0), D(0)) is None
    assert percent_display(None) == "—"


@pytest.mark.parametrize("text", ["-1", "abc", "1.234", "NaN", "Infinity", ""])
def test_bad_amounts_are_refused(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_yuan(text)


def test_amounts_accept_thousands_separators() -> None:
    assert parse_yuan("1,250,000") == D("1250000.00")


@given(st.integers(min_value=0, max_value=10**15))
def test_fen_round_trips(fen: int) -> None:
    assert yuan_to_fen(fen_to_yuan(fen)) == fen
