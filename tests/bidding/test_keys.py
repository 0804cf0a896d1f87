"""Opening-key custody (ARCHITECTURE §3): Shamir k-of-n, custodian encryption, master wrap."""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from bidding.envelope import derive_key, fingerprint, public_key_bytes
from bidding.keys import (
    KeyCustodyError,
    KeyShare,
    NotEnoughShares,
    ShareContext,
    ShareMismatch,
    combine_shares,
    custodian_public_key_from_file,
    decrypt_share,
    encrypt_share,
    encrypt_share_to_custodian,
    export_custodian_key,
    export_custodian_private_key,
    generate_custodian_key,
    generate_master_key,
    generate_opening_key,
    generate_opening_key_pair,
    load_custodian_key,
    load_custodian_private_key,
    load_public_key,
    split_opening_key,
    unwrap_private_key,
    wrap_private_key,
)

KEY = generate_opening_key()
SHARES = split_opening_key(KEY, 3, 5, lot_id="7")
VECTOR: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "share.json").read_text(encoding="utf-8")
)
PASSPHRASE = "correct horse battery staple"


def same_key(a: ec.EllipticCurvePrivateKey, b: ec.EllipticCurvePrivateKey) -> bool:
    return a.private_numbers().private_value == b.private_numbers().private_value


def scalar_key(hex_scalar: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int(hex_scalar, 16), ec.SECP256R1())


def test_an_opening_key_pair_carries_its_public_point_and_fingerprint() -> None:
    pair = generate_opening_key_pair()
    assert pair.public_key_raw == public_key_bytes(pair.private_key.public_key())
    assert len(pair.public_key_raw) == 65
    assert pair.fingerprint == fingerprint(load_public_key(pair.public_key_raw))


@pytest.mark.parametrize("chosen", list(itertools.combinations(range(5), 3)))
def test_any_three_of_five_shares_rebuild_the_key(chosen: tuple[int, ...]) -> None:
    rebuilt = combine_shares([SHARES[i] for i in chosen], KEY.public_key(), lot_id="7")
    assert same_key(rebuilt, KEY)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_any_k_or_more_shares_rebuild_and_fewer_do_not(data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=2, max_value=7), label="n")
    k = data.draw(st.integers(min_value=2, max_value=n), label="k")
    shares = split_opening_key(KEY, k, n, lot_id="lot-9")
    enough = data.draw(st.lists(st.sampled_from(shares), min_size=k, unique=True), label="enough")
    assert same_key(combine_shares(enough, KEY.public_key()), KEY)
    few = data.draw(st.lists(st.sampled_from(shares), max_size=k - 1, unique=True), label="few")
    with pytest.raises(NotEnoughShares):
        combine_shares(few, KEY.public_key())


@pytest.mark.parametrize("chosen", list(itertools.combinations(range(5), 2)))
def test_two_of_a_three_of_five_split_are_not_enough(chosen: tuple[int, ...]) -> None:
    with pytest.raises(NotEnoughShares, match="2 of the 3 shares"):
        combine_shares([SHARES[i] for i in chosen], KEY.public_key(), lot_id="7")


def test_the_same_share_twice_counts_once() -> None:
    with pytest.raises(NotEnoughShares, match="2 of the 3"):
        combine_shares([SHARES[0], SHARES[0], SHARES[1]], KEY.public_key())


def test_a_share_of_another_lot_is_refused_before_any_arithmetic() -> None:
    other = split_opening_key(generate_opening_key(), 3, 5, lot_id="8")
    with pytest.raises(ShareMismatch, match="another lot"):
        combine_shares([other[0], SHARES[1], SHARES[2]], KEY.public_key(), lot_id="7")


def test_a_share_relabelled_for_another_lot_is_refused() -> None:
    relabelled = dataclasses.replace(SHARES[0], lot_id="8")
    with pytest.raises(ShareMismatch, match="another lot"):
        combine_shares([relabelled, SHARES[1], SHARES[2]], KEY.public_key(), lot_id="7")


@pytest.mark.parametrize("half", ["high", "low"])
def test_a_corrupted_share_is_caught_by_the_public_key_check(half: str) -> None:
    value = getattr(SHARES[0], half)
    bad = dataclasses.replace(SHARES[0], **{half: bytes([value[0] ^ 1]) + value[1:]})
    with pytest.raises(ShareMismatch, match="wrong or corrupted"):
        combine_shares([bad, SHARES[1], SHARES[2]], KEY.public_key(), lot_id="7")


def test_one_corrupted_share_among_more_than_k_does_not_block_the_opening() -> None:
    bad = dataclasses.replace(SHARES[1], high=bytes(16))
    rebuilt = combine_shares([SHARES[0], bad, SHARES[2], SHARES[3]], KEY.public_key())
    assert same_key(rebuilt, KEY)


def test_a_share_claiming_a_lower_threshold_is_refused() -> None:
    lowered = [dataclasses.replace(s, threshold=2) for s in SHARES[:2]]
    with pytest.raises(ShareMismatch, match="wrong or corrupted"):
        combine_shares(lowered, KEY.public_key())
    with pytest.raises(ShareMismatch, match="disagree on the threshold"):
        combine_shares([lowered[0], SHARES[1], SHARES[2]], KEY.public_key())


def test_a_share_naming_an_impossible_threshold_is_refused() -> None:
    ones = [dataclasses.replace(s, threshold=1) for s in SHARES[:3]]
    with pytest.raises(ShareMismatch, match="impossible threshold 1"):
        combine_shares(ones, KEY.public_key())


def test_two_different_shares_with_one_index_are_refused() -> None:
    twin = dataclasses.replace(SHARES[1], index=SHARES[0].index)
    with pytest.raises(ShareMismatch, match="claim index"):
        combine_shares([SHARES[0], twin, SHARES[2]], KEY.public_key())


def test_no_shares_at_all_are_not_enough() -> None:
    with pytest.raises(NotEnoughShares, match="no shares"):
        combine_shares([], KEY.public_key())


def test_a_share_survives_its_serialisation() -> None:
    for share in SHARES:
        assert KeyShare.from_bytes(share.to_bytes()) == share
    doc = json.loads(SHARES[0].to_bytes())
    assert doc["lot"] == "7"
    assert doc["fp"] == fingerprint(KEY.public_key()).hex()


@pytest.mark.parametrize(
    "data", [b"", b"garbage", b"{}", b'{"v":2}', SHARES[0].to_bytes().replace(b'"v":1', b'"v":2')]
)
def test_anything_else_is_not_a_share(data: bytes) -> None:
    with pytest.raises(ShareMismatch, match="not a key share"):
        KeyShare.from_bytes(data)


@pytest.mark.parametrize(("k", "n"), [(1, 3), (4, 3), (2, 21), (0, 0)])
def test_threshold_bounds_are_enforced(k: int, n: int) -> None:
    with pytest.raises(KeyCustodyError, match="2 ≤ k ≤ n"):
        split_opening_key(KEY, k, n, lot_id="7")


CUSTODIAN = generate_custodian_key()
CONTEXT = ShareContext(lot_id="7", custodian_id="3")


def test_a_share_encrypted_to_a_custodian_opens_with_their_key() -> None:
    blob = encrypt_share_to_custodian(SHARES[0].to_bytes(), CUSTODIAN.public_key(), CONTEXT)
    assert len(blob) == 65 + 32 + 12 + len(SHARES[0].to_bytes()) + 16
    assert KeyShare.from_bytes(decrypt_share(blob, CUSTODIAN, CONTEXT)) == SHARES[0]
    assert decrypt_share(blob, CUSTODIAN, lot_id="7", custodian_id="3") == SHARES[0].to_bytes()


def test_the_keyword_form_of_share_encryption_is_the_same_construction() -> None:
    blob = encrypt_share(b"share", CUSTODIAN.public_key(), lot_id="7", custodian_id="3")
    assert decrypt_share(blob, CUSTODIAN, CONTEXT) == b"share"


@pytest.mark.parametrize(
    ("key", "context"),
    [
        (generate_custodian_key(), CONTEXT),
        (CUSTODIAN, ShareContext("8", "3")),
        (CUSTODIAN, ShareContext("7", "4")),
    ],
    ids=["another custodian key", "another lot", "another custodian"],
)
def test_a_share_does_not_open_with_another_key_lot_or_custodian(
    key: ec.EllipticCurvePrivateKey, context: ShareContext
) -> None:
    blob = encrypt_share_to_custodian(b"share", CUSTODIAN.public_key(), CONTEXT)
    with pytest.raises(ShareMismatch, match="not encrypted to your key"):
        decrypt_share(blob, key, context)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_any_change_to_an_encrypted_share_is_detected(data: st.DataObject) -> None:
    blob = bytearray(encrypt_share_to_custodian(b"share", CUSTODIAN.public_key(), CONTEXT))
    position = data.draw(st.integers(min_value=0, max_value=len(blob) - 1))
    blob[position] ^= 1 << data.draw(st.integers(min_value=0, max_value=7))
    with pytest.raises(ShareMismatch):
        decrypt_share(bytes(blob), CUSTODIAN, CONTEXT)


def test_a_truncated_encrypted_share_is_refused() -> None:
    blob = encrypt_share_to_custodian(b"share", CUSTODIAN.public_key(), CONTEXT)
    with pytest.raises(ShareMismatch, match="truncated"):
        decrypt_share(blob[:100], CUSTODIAN, CONTEXT)


def test_share_context_ids_cannot_contain_the_separator() -> None:
    with pytest.raises(KeyCustodyError, match="'\\|'"):
        ShareContext("7|custodian=1", "3").info()
    with pytest.raises(TypeError):
        decrypt_share(b"", CUSTODIAN, lot_id="7")


def test_the_share_vector_is_reproduced_and_opens() -> None:
    custodian = scalar_key(VECTOR["custodian_private_scalar_hex"])
    assert public_key_bytes(custodian.public_key()).hex() == VECTOR["custodian_public_key_hex"]
    context = ShareContext(VECTOR["lot_id"], VECTOR["custodian_id"])
    assert context.info().decode() == VECTOR["info_utf8"]
    ephemeral = scalar_key(VECTOR["ephemeral_private_scalar_hex"])
    secret = ephemeral.exchange(ec.ECDH(), custodian.public_key())
    salt = bytes.fromhex(VECTOR["salt_hex"])
    assert secret.hex() == VECTOR["ecdh_shared_secret_hex"]
    assert derive_key(secret, salt, context.info()).hex() == VECTOR["aes_key_hex"]
    blob = encrypt_share_to_custodian(
        VECTOR["share_utf8"].encode(),
        custodian.public_key(),
        context,
        _ephemeral=ephemeral,
        _salt=salt,
        _nonce=bytes.fromhex(VECTOR["nonce_hex"]),
    )
    assert blob.hex() == VECTOR["encrypted_share_hex"]
    assert decrypt_share(blob, custodian, context).decode() == VECTOR["share_utf8"]


def test_the_shamir_vector_rebuilds_its_opening_key_from_any_two_shares() -> None:
    shamir = VECTOR["shamir"]
    opening = scalar_key(shamir["opening_private_scalar_hex"])
    public = load_public_key(bytes.fromhex(shamir["opening_public_key_hex"]))
    shares = [KeyShare.from_bytes(s.encode()) for s in shamir["shares_utf8"]]
    for pair in itertools.combinations(shares, 2):
        assert same_key(combine_shares(list(pair), public, lot_id="42"), opening)


def test_a_custodian_pem_key_needs_its_passphrase() -> None:
    pem = export_custodian_private_key(CUSTODIAN, PASSPHRASE)
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert same_key(load_custodian_private_key(pem, PASSPHRASE), CUSTODIAN)
    with pytest.raises(KeyCustodyError, match="wrong passphrase"):
        load_custodian_private_key(pem, "another passphrase!")
    with pytest.raises(KeyCustodyError, match="at least 12"):
        export_custodian_private_key(CUSTODIAN, "short")


def test_a_pem_holding_another_curve_is_not_a_custodian_key() -> None:
    other = ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    )
    with pytest.raises(KeyCustodyError, match="P-256"):
        load_custodian_private_key(other, PASSPHRASE)


def test_the_browser_key_file_needs_its_passphrase_and_loads_through_either_reader() -> None:
    data = export_custodian_key(CUSTODIAN, PASSPHRASE)
    assert same_key(load_custodian_key(data, PASSPHRASE), CUSTODIAN)
    assert same_key(load_custodian_private_key(data, PASSPHRASE), CUSTODIAN)
    assert custodian_public_key_from_file(data) == public_key_bytes(CUSTODIAN.public_key())
    with pytest.raises(KeyCustodyError, match="wrong passphrase"):
        load_custodian_key(data, "another passphrase!")
    with pytest.raises(KeyCustodyError, match="not a custodian key file"):
        load_custodian_key(b"{}", PASSPHRASE)


def test_a_platform_sealed_key_unwraps_only_for_its_lot_and_master_key() -> None:
    master = generate_master_key()
    blob = wrap_private_key(KEY, master, "7")
    assert len(master) == 32
    assert same_key(unwrap_private_key(blob, master, "7"), KEY)
    with pytest.raises(KeyCustodyError, match="does not belong to this lot"):
        unwrap_private_key(blob, master, "8")
    with pytest.raises(KeyCustodyError, match="does not belong to this lot"):
        unwrap_private_key(blob, generate_master_key(), "7")
    with pytest.raises(KeyCustodyError, match="does not belong to this lot"):
        unwrap_private_key(blob[:20], master, "7")
    with pytest.raises(KeyCustodyError, match="exactly 32 bytes"):
        wrap_private_key(KEY, master[:16], "7")


def test_wrapping_twice_gives_different_blobs() -> None:
    master = generate_master_key()
    assert wrap_private_key(KEY, master, "7") != wrap_private_key(KEY, master, "7")
