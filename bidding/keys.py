"""Opening keys and their custody (ARCHITECTURE §3).

Each lot has a P-256 opening key pair. Two custody modes:

* **custodians** (tenders): the private scalar is split k-of-n with Shamir's secret sharing
  (pycryptodome's GF(2^128) implementation, applied to each 16-byte half with the same share
  indices); each share is encrypted to one custodian's public key. Rebuilding checks the
  result against the stored public key, so a wrong share, a share of another lot or too few
  shares are caught instead of yielding a wrong key.
* **platform-sealed** (price inquiries): the private key is wrapped with AES-256-GCM under a
  platform master key, with the lot id as associated data.

Custodian private keys live in passphrase-protected files in a format the browser can also
read and write with WebCrypto (PBKDF2-SHA256 + AES-256-GCM over the PKCS#8 key).
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from typing import Any

from Crypto.Protocol.SecretSharing import Shamir
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from bidding.envelope import derive_key, fingerprint, load_public_key, public_key_bytes

SHARE_INFO = b"zhaocai share v1"
WRAP_AAD = b"zhaocai opening key v1|"
KEY_FILE_KIND = "zhaocai-custodian-key"
PBKDF2_ITERATIONS = 310_000
MAX_CUSTODIANS = 20


class KeyCustodyError(ValueError):
    """A key or share that cannot be used; the message says why."""


class NotEnoughShares(KeyCustodyError):
    """Fewer shares than the threshold."""


class ShareMismatch(KeyCustodyError):
    """Shares that do not rebuild this lot's key (wrong, corrupted or from another lot)."""


def generate_opening_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 opening key pair."""
    return ec.generate_private_key(ec.SECP256R1())


def _scalar(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_numbers().private_value.to_bytes(32, "big")


def _from_scalar(scalar: bytes) -> ec.EllipticCurvePrivateKey:
    value = int.from_bytes(scalar, "big")
    if not value > 0:
        raise ShareMismatch("the shares rebuild an invalid key")
    try:
        return ec.derive_private_key(value, ec.SECP256R1())
    except ValueError as exc:
        raise ShareMismatch("the shares rebuild an invalid key") from exc


@dataclass(frozen=True)
class KeyShare:
    """One custodian's share of a lot's opening key."""

    lot_id: str
    fingerprint: str
    index: int
    threshold: int
    high: bytes
    low: bytes

    def to_bytes(self) -> bytes:
        """Canonical JSON, the plaintext that is encrypted to the custodian."""
        return json.dumps(
            {
                "v": 1,
                "lot": self.lot_id,
                "fp": self.fingerprint,
                "i": self.index,
                "k": self.threshold,
                "a": self.high.hex(),
                "b": self.low.hex(),
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> KeyShare:
        """Parse a share, with a clear error for anything malformed."""
        try:
            doc = json.loads(data)
            share = cls(
                lot_id=str(doc["lot"]),
                fingerprint=str(doc["fp"]),
                index=int(doc["i"]),
                threshold=int(doc["k"]),
                high=bytes.fromhex(doc["a"]),
                low=bytes.fromhex(doc["b"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ShareMismatch("this is not a key share") from exc
        if doc.get("v") != 1 or len(share.high) != 16 or len(share.low) != 16:
            raise ShareMismatch("this is not a key share")
        return share


def split_opening_key(
    key: ec.EllipticCurvePrivateKey, *, lot_id: str, threshold: int, custodians: int
) -> list[KeyShare]:
    """Split the private key k-of-n; any ``threshold`` shares rebuild it."""
    if not 2 <= threshold <= custodians <= MAX_CUSTODIANS:
        raise KeyCustodyError(f"need 2 ≤ k ≤ n ≤ {MAX_CUSTODIANS}, got {threshold} of {custodians}")
    scalar = _scalar(key)
    highs = Shamir.split(threshold, custodians, scalar[:16], ssss=False)
    lows = Shamir.split(threshold, custodians, scalar[16:], ssss=False)
    fp = fingerprint(key.public_key()).hex()
    return [
        KeyShare(lot_id=lot_id, fingerprint=fp, index=i, threshold=threshold, high=a, low=b)
        for (i, a), (_, b) in zip(highs, lows, strict=True)
    ]


def combine_shares(
    shares: list[KeyShare], *, lot_id: str, public_key: ec.EllipticCurvePublicKey
) -> ec.EllipticCurvePrivateKey:
    """Rebuild the opening key and prove it is the right one (its public key must match)."""
    expected = fingerprint(public_key).hex()
    for share in shares:
        if share.lot_id != lot_id or share.fingerprint != expected:
            raise ShareMismatch(f"share {share.index} belongs to another lot or key")
    distinct = {share.index: share for share in shares}
    if not shares:
        raise NotEnoughShares("no shares released yet")
    threshold = shares[0].threshold
    if len(distinct) < threshold:
        raise NotEnoughShares(f"{len(distinct)} of the {threshold} shares needed are released")
    chosen = sorted(distinct.values(), key=lambda s: s.index)[:threshold]
    high = Shamir.combine([(s.index, s.high) for s in chosen], ssss=False)
    low = Shamir.combine([(s.index, s.low) for s in chosen], ssss=False)
    key = _from_scalar(high + low)
    if public_key_bytes(key.public_key()) != public_key_bytes(public_key):
        raise ShareMismatch(
            "the released shares do not rebuild this lot's key: at least one "
            "share is wrong or corrupted"
        )
    return key


def _share_context(lot_id: str, custodian_id: str) -> bytes:
    return SHARE_INFO + f"|lot={lot_id}|custodian={custodian_id}".encode()


def encrypt_share(
    share: bytes, custodian_public_key: ec.EllipticCurvePublicKey, *, lot_id: str, custodian_id: str
) -> bytes:
    """ECIES to a custodian: ephemeral point (65) ‖ salt (32) ‖ nonce (12) ‖ AES-GCM(share)."""
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    salt, nonce = os.urandom(32), os.urandom(12)
    info = _share_context(lot_id, custodian_id)
    key = derive_key(ephemeral.exchange(ec.ECDH(), custodian_public_key), salt, info)
    return (
        public_key_bytes(ephemeral.public_key())
        + salt
        + nonce
        + AESGCM(key).encrypt(nonce, share, info)
    )


def decrypt_share(
    blob: bytes,
    custodian_private_key: ec.EllipticCurvePrivateKey,
    *,
    lot_id: str,
    custodian_id: str,
) -> bytes:
    """Open a share encrypted by :func:`encrypt_share` (what a custodian's browser does)."""
    if len(blob) < 65 + 32 + 12 + 16:
        raise ShareMismatch("the encrypted share is truncated")
    point, salt, nonce, sealed = blob[:65], blob[65:97], blob[97:109], blob[109:]
    info = _share_context(lot_id, custodian_id)
    key = derive_key(custodian_private_key.exchange(ec.ECDH(), load_public_key(point)), salt, info)
    try:
        return AESGCM(key).decrypt(nonce, sealed, info)
    except InvalidTag as exc:
        raise ShareMismatch("this share is not encrypted to your key, or for another lot") from exc


def generate_custodian_key() -> ec.EllipticCurvePrivateKey:
    """A custodian's own P-256 key pair."""
    return ec.generate_private_key(ec.SECP256R1())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _kek(passphrase: str, salt: bytes, iterations: int) -> bytes:
    return PBKDF2HMAC(
        algorithm=hashes.SHA256(), length=32, salt=salt, iterations=iterations
    ).derive(passphrase.encode())


def export_custodian_key(key: ec.EllipticCurvePrivateKey, passphrase: str) -> bytes:
    """The passphrase-protected key file (JSON) a custodian keeps."""
    if len(passphrase) < 12:
        raise KeyCustodyError("the passphrase needs at least 12 characters")
    salt, nonce = os.urandom(16), os.urandom(12)
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    sealed = AESGCM(_kek(passphrase, salt, PBKDF2_ITERATIONS)).encrypt(nonce, pkcs8, None)
    doc = {
        "kind": KEY_FILE_KIND,
        "v": 1,
        "kdf": "PBKDF2-SHA256",
        "iterations": PBKDF2_ITERATIONS,
        "salt": _b64(salt),
        "nonce": _b64(nonce),
        "ciphertext": _b64(sealed),
        "public_key": _b64(public_key_bytes(key.public_key())),
    }
    return json.dumps(doc, indent=2).encode()


def load_custodian_key(data: bytes, passphrase: str) -> ec.EllipticCurvePrivateKey:
    """Read a key file written by :func:`export_custodian_key` (or by the browser)."""
    try:
        doc: dict[str, Any] = json.loads(data)
        if doc.get("kind") != KEY_FILE_KIND or doc.get("v") != 1:
            raise KeyCustodyError("this is not a custodian key file")
        salt, nonce = base64.b64decode(doc["salt"]), base64.b64decode(doc["nonce"])
        sealed = base64.b64decode(doc["ciphertext"])
        iterations = int(doc["iterations"])
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyCustodyError("this is not a custodian key file") from exc
    try:
        pkcs8 = AESGCM(_kek(passphrase, salt, iterations)).decrypt(nonce, sealed, None)
    except InvalidTag as exc:
        raise KeyCustodyError("wrong passphrase") from exc
    key = serialization.load_der_private_key(pkcs8, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise KeyCustodyError("the key file does not hold a P-256 key")
    return key


def custodian_public_key_from_file(data: bytes) -> bytes:
    """The raw public key recorded in a key file (to register it)."""
    try:
        raw = base64.b64decode(json.loads(data)["public_key"])
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyCustodyError("this is not a custodian key file") from exc
    load_public_key(raw)
    return raw


def generate_master_key() -> bytes:
    """A platform master key (32 random bytes) for platform-sealed lots."""
    return os.urandom(32)


def wrap_opening_key(key: ec.EllipticCurvePrivateKey, master_key: bytes, lot_id: str) -> bytes:
    """Nonce (12) ‖ AES-256-GCM(private scalar), bound to the lot id."""
    nonce = os.urandom(12)
    return nonce + AESGCM(master_key).encrypt(nonce, _scalar(key), WRAP_AAD + lot_id.encode())


def unwrap_opening_key(blob: bytes, master_key: bytes, lot_id: str) -> ec.EllipticCurvePrivateKey:
    """Unwrap a platform-sealed opening key; refuses another lot's blob or another master key."""
    try:
        scalar = AESGCM(master_key).decrypt(blob[:12], blob[12:], WRAP_AAD + lot_id.encode())
    except (InvalidTag, ValueError) as exc:
        raise KeyCustodyError(
            "the wrapped opening key does not belong to this lot or master key"
        ) from exc
    return _from_scalar(scalar)
