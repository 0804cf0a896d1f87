"""Opening-key custody (Shamir k-of-n, custodian encryption, master wrap) and receipts."""

from __future__ import annotations

import itertools
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding.envelope import fingerprint, public_key_bytes
from bidding.keys import (
    KeyCustodyError,
    KeyShare,
    NotEnoughShares,
    ShareMismatch,
    combine_shares,
    custodian_public_key_from_file,
    decrypt_share,
    encrypt_share,
    export_custodian_key,
    generate_custodian_key,
    generate_master_key,
    generate_opening_key,
    load_custodian_key,
    split_opening_key,
    unwrap_opening_key,
    wrap_opening_key,
)
from bidding.receipts import (
    Receipt,
    ReceiptFile,
    ReceiptInvalid,
    public_key_pem,
    sign_receipt,
    verify_receipt,
)
from bidding.receipts import load_public_key as load_receipt_key

KEY = generate_opening_key()
SHARES = split_opening_key(KEY, lot_id="7", threshold=3, custodians=5)


def same_key(a: ec.EllipticCurvePrivateKey, b: ec.EllipticCurvePrivateKey) -> bool:
    return fingerprint(a.public_key()) == fingerprint(b.public_key())


@pytest.mark.parametrize("chosen", list(itertools.combinations(range(5), 3)))
def test_any_three_of_five_shares_rebuild_the_key(chosen: tuple[int, ...]) -> None:
    rebuilt = combine_shares([SHARES[i] for i in chosen], lot_id="7", public_key=KEY.public_key())
    assert same_key(rebuilt, KEY)


@pytest.mark.parametrize("chosen", list(itertools.combinations(range(5), 2)))
def test_two_shares_are_not_enough(chosen: tuple[int, ...]) -> None:
    with pytest.raises(NotEnoughShares):
        combine_shares([SHARES[i] for i in chosen], lot_id="7", public_key=KEY.public_key())


def test_a_corrupted_share_is_caught_by_the_public_key_check() -> None:
    bad = KeyShare(
        lot_id="7",
        fingerprint=SHARES[0].fingerprint,
        index=1,
        threshold=3,
        high=bytes(16),
        low=SHARES[0].low,
    )
    with pytest.raises(ShareMismatch, match="wrong or corrupted"):
        combine_shares([bad, SHARES[1], SHARES[2]], lot_id="7", public_key=KEY.public_key())


def test_a_share_of_another_lot_is_refused() -> None:
    other = split_opening_key(generate_opening_key(), lot_id="8", threshold=3, custodians=5)
    with pytest.raises(ShareMismatch, match="another lot"):
        combine_shares([other[0], SHARES[1], SHARES[2]], lot_id="7", public_key=KEY.public_key())


def test_threshold_bounds() -> None:
    with pytest.raises(KeyCustodyError):
        split_opening_key(KEY, lot_id="7", threshold=1, custodians=3)
    with pytest.raises(KeyCustodyError):
        split_opening_key(KEY, lot_id="7", threshold=4, custodians=3)


def test_shares_round_trip_through_custodian_encryption() -> None:
    custodian = generate_custodian_key()
    blob = encrypt_share(SHARES[0].to_bytes(), custodian.public_key(), lot_id="7", custodian_id="3")
    plain = decrypt_share(blob, custodian, lot_id="7", custodian_id="3")
    assert KeyShare.from_bytes(plain) == SHARES[0]
    with pytest.raises(ShareMismatch):
        decrypt_share(blob, generate_custodian_key(), lot_id="7", custodian_id="3")
    with pytest.raises(ShareMismatch):
        decrypt_share(blob, custodian, lot_id="8", custodian_id="3")
    with pytest.raises(ShareMismatch):
        decrypt_share(blob[:50], custodian, lot_id="7", custodian_id="3")


def test_custodian_key_file_needs_its_passphrase() -> None:
    key = generate_custodian_key()
    data = export_custodian_key(key, "a long enough passphrase")
    assert same_key(load_custodian_key(data, "a long enough passphrase"), key)
    assert custodian_public_key_from_file(data) == public_key_bytes(key.public_key())
    with pytest.raises(KeyCustodyError, match="wrong passphrase"):
        load_custodian_key(data, "another passphrase!!")
    with pytest.raises(KeyCustodyError, match="at least 12"):
        export_custodian_key(key, "short")
    with pytest.raises(KeyCustodyError, match="not a custodian key file"):
        load_custodian_key(b"{}", "a long enough passphrase")


def test_master_wrap_is_bound_to_the_lot_and_the_master_key() -> None:
    master = generate_master_key()
    blob = wrap_opening_key(KEY, master, "7")
    assert same_key(unwrap_opening_key(blob, master, "7"), KEY)
    with pytest.raises(KeyCustodyError):
        unwrap_opening_key(blob, master, "8")
    with pytest.raises(KeyCustodyError):
        unwrap_opening_key(blob, generate_master_key(), "7")


SIGNER = Ed25519PrivateKey.generate()
RECEIPT = Receipt(
    lot_id=7,
    bidder_id=34,
    bid_id=9,
    sequence=3,
    received_at="2026-11-25T01:02:03+00:00",
    files=[ReceiptFile(kind="price", object_key="bids/7/9/1-price", sha256="ab" * 32, size=123)],
)


def test_receipt_verifies_offline_with_the_published_key() -> None:
    document = json.dumps(sign_receipt(RECEIPT, SIGNER))
    published = load_receipt_key(public_key_pem(SIGNER.public_key()))
    assert verify_receipt(document, published) == RECEIPT


@pytest.mark.parametrize("field", ["sequence", "received_at", "bid_id"])
def test_an_altered_receipt_fails(field: str) -> None:
    document = sign_receipt(RECEIPT, SIGNER)
    document["receipt"][field] = 1 if field != "received_at" else "2026-11-24T00:00:00+00:00"
    with pytest.raises(ReceiptInvalid, match="altered"):
        verify_receipt(document, SIGNER.public_key())


def test_a_receipt_signed_by_another_key_fails() -> None:
    document = sign_receipt(RECEIPT, Ed25519PrivateKey.generate())
    with pytest.raises(ReceiptInvalid):
        verify_receipt(document, SIGNER.public_key())


def test_garbage_is_not_a_receipt() -> None:
    with pytest.raises(ReceiptInvalid):
        verify_receipt(b"not json", SIGNER.public_key())
