"""Signed receipts (回执, ETM Art. 27-28): verifiable offline, any change detected."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from bidding.receipts import (
    Receipt,
    ReceiptFile,
    ReceiptInvalid,
    canonical,
    key_id,
    load_public_key,
    public_key_pem,
    public_key_raw,
    sign_receipt,
    signing_key_from_bytes,
    signing_key_to_bytes,
    verify_receipt,
)

SIGNER = Ed25519PrivateKey.generate()
RECEIPT = Receipt(
    lot_id=7,
    bidder_id=34,
    bid_id=9,
    sequence=3,
    received_at="2026-11-25T01:02:03+00:00",
    files=[
        ReceiptFile(kind="price", object_key="bids/9/1/part-000001", sha256="ab" * 32, size=247),
        ReceiptFile(
            kind="file:技术标.pdf",
            object_key="bids/9/2/part-000001",
            sha256="cd" * 32,
            size=9_000_000,
            part_keys=("bids/9/2/part-000001", "bids/9/2/part-000002"),
            plaintext_size=8_999_400,
        ),
    ],
)
VECTOR: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "receipt.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("form", ["dict", "str", "bytes"])
def test_a_receipt_verifies_offline_with_the_published_key(form: str) -> None:
    document: Any = sign_receipt(RECEIPT, SIGNER)
    if form != "dict":
        document = json.dumps(document, ensure_ascii=False)
    if form == "bytes":
        document = document.encode()
    published = load_public_key(public_key_pem(SIGNER.public_key()))
    assert verify_receipt(document, published) == RECEIPT


def test_the_document_names_the_signing_key() -> None:
    document = sign_receipt(RECEIPT, SIGNER)
    assert base64.b64decode(document["public_key"]) == public_key_raw(SIGNER.public_key())
    assert document["key_id"] == key_id(SIGNER.public_key())
    assert len(base64.b64decode(document["signature"])) == 64
    assert load_public_key(document["public_key"].encode()) == SIGNER.public_key()


def test_canonical_json_sorts_keys_and_has_no_spaces_or_escapes() -> None:
    assert canonical({"b": 1, "a": ["是", {"d": None, "c": 2}]}) == (
        '{"a":["是",{"c":2,"d":null}],"b":1}'.encode()
    )


def test_the_receipt_vector_is_reproduced_and_verifies() -> None:
    signer = signing_key_from_bytes(bytes.fromhex(VECTOR["signing_key_seed_hex"]))
    document = VECTOR["document"]
    receipt = verify_receipt(document, signer.public_key())
    assert sign_receipt(receipt, signer) == document
    assert canonical(document["receipt"]).decode() == VECTOR["canonical_utf8"]
    assert document["key_id"] == VECTOR["key_id"]
    assert receipt.received_at == "2026-11-25T01:02:03.456789+00:00"


TAMPERING = {
    "sequence": lambda r: r.update(sequence=1),
    "received_at": lambda r: r.update(received_at="2026-11-24T00:00:00+00:00"),
    "bid_id": lambda r: r.update(bid_id=10),
    "bidder_id": lambda r: r.update(bidder_id=35),
    "file hash": lambda r: r["files"][0].update(sha256="ef" * 32),
    "file size": lambda r: r["files"][0].update(size=248),
    "file part keys": lambda r: r["files"][1]["part_keys"].reverse(),
    "dropped file": lambda r: r["files"].pop(),
    "added field": lambda r: r.update(note="late"),
}


@pytest.mark.parametrize("change", TAMPERING.values(), ids=TAMPERING.keys())
def test_an_altered_receipt_fails(change: Any) -> None:
    document = sign_receipt(RECEIPT, SIGNER)
    change(document["receipt"])
    with pytest.raises(ReceiptInvalid, match="altered"):
        verify_receipt(document, SIGNER.public_key())


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_bit_flip_in_the_signature_fails(data: st.DataObject) -> None:
    document = sign_receipt(RECEIPT, SIGNER)
    signature = bytearray(base64.b64decode(document["signature"]))
    position = data.draw(st.integers(min_value=0, max_value=63))
    signature[position] ^= 1 << data.draw(st.integers(min_value=0, max_value=7))
    document["signature"] = base64.b64encode(bytes(signature)).decode()
    with pytest.raises(ReceiptInvalid):
        verify_receipt(document, SIGNER.public_key())


def test_a_receipt_signed_by_another_key_fails_and_says_which_key() -> None:
    other = Ed25519PrivateKey.generate()
    document = sign_receipt(RECEIPT, other)
    with pytest.raises(ReceiptInvalid, match=f"signed by key {key_id(other.public_key())}"):
        verify_receipt(document, SIGNER.public_key())
    del document["key_id"]
    with pytest.raises(ReceiptInvalid, match="not signed by this platform"):
        verify_receipt(document, SIGNER.public_key())


def test_a_forged_document_naming_the_trusted_key_still_fails() -> None:
    document = sign_receipt(RECEIPT, Ed25519PrivateKey.generate())
    trusted = sign_receipt(RECEIPT, SIGNER)
    document["key_id"], document["public_key"] = trusted["key_id"], trusted["public_key"]
    with pytest.raises(ReceiptInvalid, match="altered or was not signed"):
        verify_receipt(document, SIGNER.public_key())


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[]", "not a receipt document"),
        ({"receipt": {}}, "no receipt or signature"),
        ({"receipt": {}, "signature": "!!"}, "no receipt or signature"),
        ({"receipt": {"kind": "other"}, "signature": ""}, "not a bid receipt"),
    ],
)
def test_garbage_is_not_a_receipt(document: Any, reason: str) -> None:
    with pytest.raises(ReceiptInvalid, match=reason):
        verify_receipt(document, SIGNER.public_key())


def test_a_validly_signed_but_malformed_receipt_is_refused() -> None:
    body = copy.deepcopy(RECEIPT.to_dict())
    body["sequence"] = "3"
    document = {
        "receipt": body,
        "signature": base64.b64encode(SIGNER.sign(canonical(body))).decode(),
    }
    with pytest.raises(ReceiptInvalid, match="malformed"):
        verify_receipt(document, SIGNER.public_key())


def test_received_at_is_kept_in_utc_and_must_name_a_zone() -> None:
    shifted = Receipt(7, 34, 9, 3, "2026-11-25T09:02:03+08:00")
    assert shifted.received_at == "2026-11-25T01:02:03+00:00"
    with pytest.raises(ValueError, match="no time zone"):
        Receipt(7, 34, 9, 3, "2026-11-25T09:02:03")


def test_a_receipt_without_optional_file_fields_serialises_as_before() -> None:
    entry = ReceiptFile(kind="price", object_key="k", sha256="ab" * 32, size=1)
    assert entry.to_dict() == {"kind": "price", "object_key": "k", "sha256": "ab" * 32, "size": 1}
    assert ReceiptFile.from_dict(entry.to_dict()) == entry


def test_a_file_entry_needs_a_real_hash_and_sizes() -> None:
    with pytest.raises(ValueError, match="64 lowercase hex"):
        ReceiptFile(kind="price", object_key="k", sha256="AB" * 32, size=1)
    with pytest.raises(ValueError, match="negative"):
        ReceiptFile(kind="price", object_key="k", sha256="ab" * 32, size=-1)


def test_the_signing_key_survives_its_serialisations() -> None:
    pem = signing_key_to_bytes(SIGNER)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    for data in (pem, bytes.fromhex(VECTOR["signing_key_seed_hex"])):
        key = signing_key_from_bytes(data)
        assert isinstance(key, Ed25519PrivateKey)
    assert public_key_raw(signing_key_from_bytes(pem).public_key()) == public_key_raw(
        SIGNER.public_key()
    )


def test_a_published_key_that_is_not_ed25519_is_refused() -> None:
    with pytest.raises(ReceiptInvalid, match="not an Ed25519"):
        load_public_key(b"bm90IGEga2V5")
