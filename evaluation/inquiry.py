"""Price inquiry (询价): one price, once; the lowest compliant quote within budget wins.

GPL Art. 40 and GPL-R Art. 37: each supplier quotes one price that it may not change, and the
lowest price among the quotes meeting every substantive requirement wins. MOF74 Art. 48–50
(RULES §7): candidates are listed in price order, and fewer than 3 suppliers meeting the
requirements or quoting within budget terminates the inquiry. Equal lowest quotes: no legal
rule, so the notice's rule, else a random draw (practice).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from evaluation.exceptions import DuplicateQuote, TieUnresolved
from evaluation.scheme import DEFAULT_DEDUCTION_RANGES, percent
from evaluation.scoring import MINIMUM_VALID_BIDS, LotSavings, evaluation_price, lot_savings
from procurement.exceptions import ValidationError
from procurement.lifecycle import FailureReason, ProjectCategory

_ZERO = Decimal(0)

TieRule = Callable[[Sequence["Quote"]], Sequence["Quote"]]
"""The notice's tie rule: orders quotes with equal evaluation prices (e.g. earliest first)."""


@dataclass(frozen=True, slots=True)
class Quote:
    """A supplier's one quote, as the inquiry group assessed it.

    Args:
        supplier: a unique supplier id.
        price: the quoted total price; the contract amount if it wins.
        compliant: meets every substantive requirement of the notice.
        non_compliance: what it failed, told to the supplier (e.g. "30-day delivery").
        is_small_or_micro: qualifies for the small/micro price deduction (SME46 Art. 9).
    """

    supplier: str
    price: Decimal
    compliant: bool = True
    non_compliance: str = ""
    is_small_or_micro: bool = False


def accept_quote(existing_quotes: Sequence[Quote], new_quote: Quote) -> tuple[Quote, ...]:
    """Add a supplier's quote; a second quote from the same supplier is refused.

    One price, once (一次报出不得更改的价格, GPL Art. 40): a supplier's first quote stands.

    Raises:
        DuplicateQuote: the supplier has quoted already.
        ValidationError: the price is not positive.
    """
    for quote in existing_quotes:
        if quote.supplier == new_quote.supplier:
            raise DuplicateQuote(
                "supplier {supplier} has already quoted {price}; a price inquiry takes one "
                "price, once, and it cannot be changed (GPL Art. 40)",
                field="price",
                supplier=new_quote.supplier,
                price=quote.price,
            )
    if new_quote.price <= 0:
        raise ValidationError("a quoted price must be positive", field="price")
    return (*existing_quotes, new_quote)


class QuoteExclusion(StrEnum):
    """Why a quote cannot win."""

    NON_COMPLIANT = "non_compliant"
    """Fails a substantive requirement (GPL Art. 40)."""
    OVER_BUDGET = "over_budget"
    """Above the disclosed budget (GPL-R Art. 30; MOF74 Art. 50)."""


@dataclass(frozen=True, slots=True)
class ExcludedQuote:
    """A quote left out of the ranking, with the reason told to the supplier (GPL Art. 40)."""

    quote: Quote
    reason: QuoteExclusion
    detail: str


@dataclass(frozen=True, slots=True)
class RankedQuote:
    """A valid quote in price order; ``evaluation_price`` only ranks, the quote is paid."""

    quote: Quote
    evaluation_price: Decimal
    rank: int
    tied: bool = False
    drawn: bool = False

    @property
    def supplier(self) -> str:
        """The supplier's id."""
        return self.quote.supplier

    @property
    def price(self) -> Decimal:
        """The quoted price: the contract amount (SME46)."""
        return self.quote.price


@dataclass(frozen=True, slots=True)
class InquiryResult:
    """The inquiry group's outcome: candidates and winner, or termination with its reason."""

    ranking: tuple[RankedQuote, ...]
    excluded: tuple[ExcludedQuote, ...]
    failure_reason: FailureReason | None
    savings: LotSavings | None

    @property
    def terminated(self) -> bool:
        """Terminated (终止): notice with reasons, then a new purchase (MOF74 Art. 50)."""
        return self.failure_reason is not None

    @property
    def candidates(self) -> tuple[RankedQuote, ...]:
        """The recommended candidates in price order, at least 3 (MOF74 Art. 48)."""
        return () if self.terminated else self.ranking

    @property
    def winner(self) -> RankedQuote | None:
        """The lowest candidate (GPL-R Art. 37); also the choice if the purchaser is silent."""
        return self.candidates[0] if self.candidates else None


def select_lowest_quote(
    quotes: Iterable[Quote],
    *,
    budget: Decimal,
    deduction_rate: Decimal = _ZERO,
    tie_rule: TieRule | None = None,
    rng: random.Random | None = None,
    minimum_valid: int = MINIMUM_VALID_BIDS,
) -> InquiryResult:
    """Rank the compliant quotes within budget by evaluation price and pick the lowest.

    Args:
        quotes: every supplier's quote (one each).
        budget: the disclosed budget (GPL-R Art. 30); quotes above it are invalid.
        deduction_rate: small/micro price deduction, for ranking only (SME46 Art. 9;
            goods 10–20 % under 财库〔2022〕19号), 0 for none.
        tie_rule: the notice's rule for equal evaluation prices.
        rng: the random source of the draw when the notice has no rule.
        minimum_valid: fewer valid quotes terminate the inquiry (MOF74 Art. 50).

    Raises:
        ValidationError: duplicate suppliers, a bad price or deduction rate, a tie rule that
            does not return the tied quotes.
        TieUnresolved: equal lowest quotes with neither a tie rule nor a random source.
    """
    quotes = list(quotes)
    _check(quotes, deduction_rate)
    valid: list[Quote] = []
    excluded: list[ExcludedQuote] = []
    for quote in quotes:
        if not quote.compliant:
            detail = quote.non_compliance or "does not meet the substantive requirements"
            excluded.append(ExcludedQuote(quote, QuoteExclusion.NON_COMPLIANT, detail))
        elif quote.price > budget:
            detail = f"quote {quote.price} exceeds the budget {budget}"
            excluded.append(ExcludedQuote(quote, QuoteExclusion.OVER_BUDGET, detail))
        else:
            valid.append(quote)
    excluded.sort(key=lambda e: e.quote.supplier)
    reason: FailureReason | None = None
    over = [e for e in excluded if e.reason is QuoteExclusion.OVER_BUDGET]
    if quotes and len(over) == len(quotes):
        reason = FailureReason.ALL_OVER_BUDGET
    elif len(valid) < minimum_valid:
        reason = FailureReason.TOO_FEW_VALID
    ranking = _rank(valid, deduction_rate, tie_rule, rng, must_decide=reason is None)
    savings = lot_savings(budget, ranking[0].price) if reason is None else None
    return InquiryResult(tuple(ranking), tuple(excluded), reason, savings)


def _check(quotes: Sequence[Quote], deduction_rate: Decimal) -> None:
    suppliers = [q.supplier for q in quotes]
    if len(set(suppliers)) != len(suppliers):
        raise ValidationError("each supplier quotes once (GPL Art. 40); found a repeated supplier")
    if any(q.price <= 0 for q in quotes):
        raise ValidationError("every quoted price must be positive")
    allowed = DEFAULT_DEDUCTION_RANGES[ProjectCategory.GOODS].small_or_micro
    if deduction_rate != 0 and deduction_rate not in allowed:
        raise ValidationError(
            "the small/micro deduction {rate} % is outside {allowed} "
            "(SME46 Art. 9; 财库〔2022〕19号)",
            field="deduction_rate",
            rate=percent(deduction_rate),
            allowed=str(allowed),
        )


def _rank(
    valid: Sequence[Quote],
    deduction_rate: Decimal,
    tie_rule: TieRule | None,
    rng: random.Random | None,
    *,
    must_decide: bool,
) -> list[RankedQuote]:
    priced = sorted(
        (
            (evaluation_price(q.price, q.is_small_or_micro, deduction_rate), q.supplier, q)
            for q in valid
        ),
        key=lambda t: (t[0], t[1]),
    )
    ranked: list[RankedQuote] = []
    for eval_price, group in itertools.groupby(priced, key=lambda t: t[0]):
        members = [q for _, _, q in group]
        position = len(ranked) + 1
        if len(members) == 1:
            ranked.append(RankedQuote(members[0], eval_price, position))
        elif tie_rule is not None:
            ordered = list(tie_rule(members))
            if sorted(q.supplier for q in ordered) != sorted(q.supplier for q in members):
                raise ValidationError("the notice's tie rule must return exactly the tied quotes")
            ranked += [RankedQuote(q, eval_price, position + i) for i, q in enumerate(ordered)]
        elif rng is not None:
            rng.shuffle(members)
            ranked += [
                RankedQuote(q, eval_price, position + i, drawn=True) for i, q in enumerate(members)
            ]
        elif position == 1 and must_decide:
            raise TieUnresolved(
                "{suppliers} quote the same lowest price; the notice's tie rule or a random "
                "draw must decide",
                suppliers=", ".join(q.supplier for q in members),
            )
        else:
            ranked += [RankedQuote(q, eval_price, position, tied=True) for q in members]
    return ranked
