"""Why a bid is invalid at the opening, as a code every page can read out in its language.

The opening record (唱标, RULES §3) is public and read in Chinese; the envelope's own
error text is an English technical detail. Each way a sealed file can fail maps to one
cause, and every cause has its Chinese.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from bidding.envelope import EnvelopeContext, EnvelopeError, open_sealed, seal
from bidding.services import (
    InvalidBidCause,
    StoredCopyDamaged,
    invalid_cause,
    parse_declaration,
)
from procurement.i18n import catalog_of
from procurement.web import humanize

ROOT = Path(__file__).resolve().parents[2]
KEY = ec.generate_private_key(ec.SECP256R1())
CTX = EnvelopeContext(lot_id="12", bidder_id="34", kind="price")
DECLARATION = b'{"total": "1234.50"}'


def sealed(data: bytes = DECLARATION, ctx: EnvelopeContext = CTX) -> bytes:
    return b"".join(seal([data], opening_public_key=KEY.public_key(), context=ctx, chunk_size=64))


def failure_opening(
    blob: bytes,
    key: ec.EllipticCurvePrivateKey = KEY,
) -> EnvelopeError:
    def open_and_read_the_price() -> None:
        plain = b"".join(open_sealed([blob], opening_private_key=key, expected_context=CTX))
        parse_declaration(plain)

    with pytest.raises(EnvelopeError) as caught:
        open_and_read_the_price()
    return caught.value


def flipped_in_the_body(blob: bytes) -> bytes:
    damaged = bytearray(blob)
    damaged[-5] ^= 0x01
    return bytes(damaged)


CASES: dict[str, tuple[Callable[[], EnvelopeError], InvalidBidCause]] = {
    "not an envelope": (
        lambda: failure_opening(b"%PDF-1.7 a plain file, never sealed"),
        InvalidBidCause.MALFORMED_SEALED_FILE,
    ),
    "another bidder's envelope": (
        lambda: failure_opening(sealed(ctx=EnvelopeContext("12", "35", "price"))),
        InvalidBidCause.SEALED_FOR_ANOTHER_BID,
    ),
    "sealed to another lot's key": (
        lambda: failure_opening(sealed(), key=ec.generate_private_key(ec.SECP256R1())),
        InvalidBidCause.SEALED_TO_ANOTHER_KEY,
    ),
    "a flipped bit": (
        lambda: failure_opening(flipped_in_the_body(sealed())),
        InvalidBidCause.FAILED_INTEGRITY_CHECK,
    ),
    "a cut-off last chunk": (
        lambda: failure_opening(sealed()[:-20]),
        InvalidBidCause.FAILED_INTEGRITY_CHECK,
    ),
    "a declaration without a total": (
        lambda: failure_opening(sealed(b'{"price": "1234.50"}')),
        InvalidBidCause.INVALID_PRICE_DECLARATION,
    ),
    "a declared total of zero": (
        lambda: failure_opening(sealed(b'{"total": "0"}')),
        InvalidBidCause.INVALID_PRICE_DECLARATION,
    ),
    "a stored copy unlike the receipt": (
        lambda: StoredCopyDamaged("the stored ciphertext does not match the receipt's hash"),
        InvalidBidCause.STORED_COPY_DAMAGED,
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_each_way_a_bid_fails_to_open_has_its_cause(case: str) -> None:
    make_failure, cause = CASES[case]
    assert invalid_cause(make_failure()) is cause


def test_a_sound_declaration_opens() -> None:
    plain = b"".join(open_sealed([sealed()], opening_private_key=KEY, expected_context=CTX))
    assert parse_declaration(plain)[0] == 123450


def test_every_cause_reads_in_chinese() -> None:
    chinese = catalog_of(ROOT / "bidding")
    missing = [c.value for c in InvalidBidCause if humanize(c) not in chinese]
    assert not missing, missing
    assert len({chinese[humanize(c)] for c in InvalidBidCause}) == len(InvalidBidCause)


def test_every_cause_fits_its_column() -> None:
    from bidding.tables import OpeningRecord

    width = OpeningRecord.cause.length
    assert width is not None
    assert max(len(c.value) for c in InvalidBidCause) <= width
