"""What a review flag tells the committee and the bidder, in either language.

The note of an abnormally low price is also the body of the request for a written
explanation sent to the bidder (MOF87 Art. 60), so it must read as a sentence, with
amounts in yuan and the share as a percentage, not as codes and raw fractions.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from evaluation.review import (
    DeviationFlag,
    DeviationReason,
    LowPriceFlag,
    LowPriceTrigger,
    deviation_note,
    low_price_note,
)
from procurement.i18n import Translator

ROOT = Path(__file__).resolve().parents[2]
CHINESE = Translator([ROOT / "procurement", ROOT / "evaluation"]).gettext("zh")


def low(trigger: LowPriceTrigger) -> LowPriceFlag:
    return LowPriceFlag(
        bidder="7",
        price=Decimal("700000.00"),
        trigger=trigger,
        reference=Decimal("1700000.00"),
        rate=Decimal("0.45"),
        threshold=Decimal("765000.00"),
    )


@pytest.mark.parametrize(
    ("trigger", "english", "chinese"),
    [
        (
            LowPriceTrigger.BELOW_AVERAGE,
            "the price 700,000.00 yuan is below 45 % of the average compliant price "
            "1,700,000.00 yuan, that is below 765,000.00 yuan",
            "报价 700,000.00 元低于通过符合性审查的投标平均报价 1,700,000.00 元的 45%"
            "（即低于 765,000.00 元）",
        ),
        (
            LowPriceTrigger.BELOW_NEXT_LOWEST,
            "the price 700,000.00 yuan is below 45 % of the next-lowest price "
            "1,700,000.00 yuan, that is below 765,000.00 yuan",
            "报价 700,000.00 元低于次低报价 1,700,000.00 元的 45%（即低于 765,000.00 元）",
        ),
        (
            LowPriceTrigger.BELOW_LIMIT,
            "the price 700,000.00 yuan is below 45 % of the ceiling price or budget "
            "1,700,000.00 yuan, that is below 765,000.00 yuan",
            "报价 700,000.00 元低于最高限价或采购预算 1,700,000.00 元的 45%"
            "（即低于 765,000.00 元）",
        ),
    ],
)
def test_each_low_price_trigger_reads_as_a_sentence(
    trigger: LowPriceTrigger, english: str, chinese: str
) -> None:
    note = low_price_note(low(trigger))
    assert str(note) == english
    assert note.localized(CHINESE) == chinese


def test_every_trigger_has_its_own_sentence() -> None:
    assert len({low_price_note(low(t)).template for t in LowPriceTrigger}) == len(LowPriceTrigger)


@pytest.mark.parametrize(
    ("reason", "chinese"),
    [
        (
            DeviationReason.FAR_FROM_OTHERS,
            "评分 5 与其他成员评分的中位数 27 相差 22.00 分，超过允许的 6.00 分",
        ),
        (
            DeviationReason.ROBUST_OUTLIER,
            "评分 5 偏离中位数 27 达 22.00 个稳健标准差，超过允许的 6.00",
        ),
    ],
)
def test_each_deviation_reads_in_chinese(reason: DeviationReason, chinese: str) -> None:
    flag = DeviationFlag(
        expert="E5",
        bidder="7",
        criterion="T1",
        score=Decimal("5"),
        median=Decimal("27"),
        threshold=Decimal("6"),
        statistic=Decimal("22"),
        reason=reason,
    )
    note = deviation_note(flag)
    assert note.localized(CHINESE) == chinese
    assert str(note).startswith("score 5 ")
    assert "median 27" in str(note)
