"""Sealed file kinds read as words in either language, in messages as on pages."""

from __future__ import annotations

from pathlib import Path

from bidding.services import FILE_KINDS, FileKind, file_kind
from procurement.exceptions import ValidationError
from procurement.i18n import Translator

ROOT = Path(__file__).resolve().parents[2]
CHINESE = Translator([ROOT / "procurement", ROOT / "bidding"]).gettext("zh")
MISADDRESSED = (
    "{kind} file was sealed for lot {lot_id}, bidder {bidder_id} ({sealed_kind}), not for this bid"
)


def test_every_kind_has_two_distinct_labels() -> None:
    assert FILE_KINDS == ("price", "technical", "commercial", "qualification", "other")
    assert len({k.label_zh for k in FileKind}) == len({k.label_en for k in FileKind}) == 5
    assert FileKind.QUALIFICATION.label("zh-CN") == "资格证明文件"
    assert FileKind.QUALIFICATION.label("en") == "Qualification documents"


def test_a_message_names_the_kind_in_the_readers_language() -> None:
    error = ValidationError(
        MISADDRESSED,
        kind=file_kind("technical"),
        lot_id="12",
        bidder_id="34",
        sealed_kind=file_kind("price"),
    )
    assert str(error) == "technical file was sealed for lot 12, bidder 34 (price), not for this bid"
    assert (
        error.localized(CHINESE)
        == "该技术文件是为标段 12、投标人 34 的报价文件加密的，不属于本次投标"
    )


def test_a_forged_kind_in_a_header_is_reported_in_english_rather_than_failing() -> None:
    """A header is the sender's bytes: its kind may be anything, and has no Chinese."""
    forged = file_kind("<script>")
    assert forged == "<script>"
    assert not isinstance(forged, FileKind)
    error = ValidationError(
        MISADDRESSED, kind=file_kind("price"), lot_id="12", bidder_id="34", sealed_kind=forged
    )
    assert error.localized(CHINESE) == str(error)
    assert "(<script>)" in str(error)
