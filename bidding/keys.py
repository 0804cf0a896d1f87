"""Opening keys and their custody (ARCHITECTURE §3; ETM Art. 30-31).

Nobody decrypts before the opening, and only those entitled to it.

Each lot has a P-256 opening key pair. Two custody modes:

* **custodians** (tenders): the private scalar is split k-of-n with Shamir's secret sharing
  (pycryptodome's GF(2^128) implementation, applied to each 16-byte half with the same share
  indices); each share is encrypted to one custodian's public key (ECIES: ECDH P-256 +
  HKDF-SHA256 + AES-256-GCM, the envelope's primitives with the info "zhaocai share v1", so
  a browser opens it with WebCrypto). Rebuilding checks the result against the stored
  public key, so a wrong share, a share of another lot or too few shares are caught instead
  of yielding a wrong key.
* **platform-sealed** (price inquiries): the private key is wrapped with AES-256-GCM under a
  platform master key, with the lot id as associated data.

Custodian private keys live either in a passphrase-protected JSON key file that the browser
also reads and writes with WebCrypto (PBKDF2-SHA256 + AES-256-GCM over the PKCS#8 key), or
in an encrypted PKCS#8 PEM for command-line tooling; :func:`load_custodian_private_key`
reads both.

Everything here is pure: no I/O, no clock, randomness only from ``os.urandom`` and the
libraries' key generation.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from Crypto.Protocol.SecretSharing import Shamir
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from bidding.envelope import (
    MalformedHeader,
    derive_key,
    fingerprint,
    load_public_key,
    public_key_bytes,
)

__all__ = [
    "KeyCustodyError",
    "KeyShare",
    "NotEnoughShares",
    "OpeningKeyPair",
    "ShareContext",
    "ShareMismatch",
    "combine_shares",
    "custodian_public_key_from_file",
    "decrypt_share",
    "encrypt_share",
    "encrypt_share_to_custodian",
    "export_custodian_key",
    "export_custodian_private_key",
    "fingerprint",
    "generate_custodian_key",
    "generate_master_key",
    "generate_opening_key",
    "generate_opening_key_pair",
    "load_custodian_key",
    "load_custodian_private_key",
    "load_public_key",
    "public_key_bytes",
    "split_opening_key",
    "unwrap_opening_key",
    "unwrap_private_key",
    "wrap_opening_key",
    "wrap_private_key",
]

SHARE_INFO = b"zhaocai share v1"
WRAP_AAD = b"zhaocai opening key v1|"
KEY_FILE_KIND = "zhaocai-custodian-key"
PBKDF2_ITERATIONS = 310_000
MAX_CUSTODIANS = 20
MIN_PASSPHRASE = 12
MASTER_KEY_SIZE = 32
_SHARE_OVERHEAD = 65 + 32 + 12 + 16  # ephemeral point, salt, nonce, tag
_MAX_COMBINATIONS = 1000


class KeyCustodyError(ValueError):
    """A key or share that cannot be used; the message says why."""


class NotEnoughShares(KeyCustodyError):
    """Fewer distinct shares than the threshold k: the key cannot be rebuilt yet."""


class ShareMismatch(KeyCustodyError):
    """Shares that do not rebuild this lot's key (wrong, corrupted or from another lot)."""


@dataclass(frozen=True)
class OpeningKeyPair:
    """A lot's opening key with what the platform publishes about it.

    The platform keeps only ``public_key_raw`` and ``fingerprint``; the private key lives
    in memory just long enough to be split or wrapped (the one moment of trust, §3).
    """

    private_key: ec.EllipticCurvePrivateKey
    public_key_raw: bytes
    fingerprint: bytes


def generate_opening_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 opening key (WebCrypto supports P-256 in every browser, §3)."""
    return ec.generate_private_key(ec.SECP256R1())


def generate_opening_key_pair() -> OpeningKeyPair:
    """A fresh opening key with its 65-byte public point and SHA-256 fingerprint."""
    key = generate_opening_key()
    public = key.public_key()
    return OpeningKeyPair(key, public_key_bytes(public), fingerprint(public))


def _scalar(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_numbers().private_value.to_bytes(32, "big")


def _from_scalar(scalar: bytes) -> ec.EllipticCurvePrivateKey:
    value = int.from_bytes(scalar, "big")
    if value <= 0:
        raise ShareMismatch("the shares rebuild an invalid key")
    try:
        return ec.derive_private_key(value, ec.SECP256R1())
    except ValueError as exc:
        raise ShareMismatch("the shares rebuild an invalid key") from exc


@dataclass(frozen=True)
class KeyShare:
    """One custodian's share of a lot's opening key.

    It names its lot and the opening key's fingerprint, so a share of another lot is
    recognised before any arithmetic, and its threshold, so too few shares are reported as
    such rather than as a wrong key.
    """

    lot_id: str
    fingerprint: str
    index: int
    threshold: int
    high: bytes
    low: bytes

    def to_bytes(self) -> bytes:
        """Canonical JSON (sorted keys, no spaces): the plaintext encrypted to a custodian."""
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
        """Parse a share, with a clear error for anything malformed.

        Raises:
            ShareMismatch: the bytes are not a version-1 key share.
        """
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
    key: ec.EllipticCurvePrivateKey, threshold: int, custodians: int, *, lot_id: str
) -> list[KeyShare]:
    """Split the private key k-of-n; any ``threshold`` shares rebuild it (§3 custodians).

    Shamir over GF(2^128) takes 16-byte secrets, so the 32-byte scalar is split as two
    halves with the same share indices (a share is useless without both halves).

    Raises:
        KeyCustodyError: unless 2 ≤ k ≤ n ≤ 20 (k = 1 would let one person open alone).
    """
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


def _rebuild(chosen: Sequence[KeyShare]) -> ec.EllipticCurvePrivateKey | None:
    high = Shamir.combine([(s.index, s.high) for s in chosen], ssss=False)
    low = Shamir.combine([(s.index, s.low) for s in chosen], ssss=False)
    try:
        return _from_scalar(high + low)
    except ShareMismatch:
        return None


def combine_shares(
    shares: Sequence[KeyShare],
    public_key: ec.EllipticCurvePublicKey,
    *,
    lot_id: str | None = None,
) -> ec.EllipticCurvePrivateKey:
    """Rebuild the opening key and prove it is the right one (开标解密, ETM Art. 30).

    The rebuilt key's public point must equal the lot's stored opening public key; a wrong
    key never leaves this function. With more than k shares, each k-subset is tried (up to
    1000) so one bad share among enough good ones does not block the opening.

    Args:
        shares: the released shares, in any order.
        public_key: the lot's opening public key as stored at publication.
        lot_id: when given, every share must name this lot.

    Raises:
        NotEnoughShares: fewer distinct shares than the threshold.
        ShareMismatch: a share of another lot or key, or shares that do not rebuild it.
    """
    if not shares:
        raise NotEnoughShares("no shares released yet")
    expected = fingerprint(public_key).hex()
    for share in shares:
        if share.fingerprint != expected or (lot_id is not None and share.lot_id != lot_id):
            raise ShareMismatch(
                f"share {share.index} belongs to another lot or key (lot {share.lot_id!r})"
            )
    thresholds = {share.threshold for share in shares}
    if len(thresholds) != 1:
        raise ShareMismatch("the shares disagree on the threshold: at least one is corrupted")
    (threshold,) = thresholds
    if not 2 <= threshold <= MAX_CUSTODIANS:
        raise ShareMismatch(f"the shares name an impossible threshold {threshold}: corrupted")
    distinct: dict[int, KeyShare] = {}
    for share in shares:
        if not 1 <= share.index <= MAX_CUSTODIANS:
            raise ShareMismatch(f"share index {share.index} is out of range")
        if distinct.setdefault(share.index, share) != share:
            raise ShareMismatch(f"two different shares claim index {share.index}")
    if len(distinct) < threshold:
        raise NotEnoughShares(f"{len(distinct)} of the {threshold} shares needed are released")
    ordered = sorted(distinct.values(), key=lambda s: s.index)
    target = public_key_bytes(public_key)
    subsets = itertools.combinations(ordered, threshold)
    for chosen in itertools.islice(subsets, _MAX_COMBINATIONS):
        key = _rebuild(chosen)
        if key is not None and public_key_bytes(key.public_key()) == target:
            return key
    raise ShareMismatch(
        "the released shares do not rebuild this lot's key: at least one share is wrong "
        "or corrupted"
    )


@dataclass(frozen=True)
class ShareContext:
    """Whom an encrypted share is for: bound into its key and AAD (no share swapping).

    Ids must not contain ``|``, the separator of the info string.
    """

    lot_id: str
    custodian_id: str

    def info(self) -> bytes:
        """``"zhaocai share v1|lot=<lot>|custodian=<custodian>"`` (HKDF info and AAD)."""
        if "|" in self.lot_id or "|" in self.custodian_id:
            raise KeyCustodyError("a lot or custodian id cannot contain '|'")
        return SHARE_INFO + f"|lot={self.lot_id}|custodian={self.custodian_id}".encode()


def _context(
    context: ShareContext | None, lot_id: str | None, custodian_id: str | None
) -> ShareContext:
    if context is not None:
        return context
    if lot_id is None or custodian_id is None:
        raise TypeError("give a ShareContext or both lot_id and custodian_id")
    return ShareContext(lot_id, custodian_id)


def encrypt_share_to_custodian(
    share_bytes: bytes,
    custodian_public_key: ec.EllipticCurvePublicKey,
    context: ShareContext,
    *,
    _ephemeral: ec.EllipticCurvePrivateKey | None = None,
    _salt: bytes | None = None,
    _nonce: bytes | None = None,
) -> bytes:
    """ECIES to a custodian: ephemeral point (65) ‖ salt (32) ‖ nonce (12) ‖ AES-GCM(share).

    Key = HKDF-SHA256(ECDH(ephemeral, custodian), salt, info), AAD = info; the same
    primitives as the envelope so a custodian's browser decrypts it with WebCrypto. The
    underscore parameters fix the random values for published test vectors only.
    """
    info = context.info()
    ephemeral = _ephemeral if _ephemeral is not None else ec.generate_private_key(ec.SECP256R1())
    salt = _salt if _salt is not None else os.urandom(32)
    nonce = _nonce if _nonce is not None else os.urandom(12)
    if len(salt) != 32 or len(nonce) != 12:
        raise ValueError("the salt must be 32 bytes and the nonce 12 bytes")
    key = derive_key(ephemeral.exchange(ec.ECDH(), custodian_public_key), salt, info)
    return (
        public_key_bytes(ephemeral.public_key())
        + salt
        + nonce
        + AESGCM(key).encrypt(nonce, share_bytes, info)
    )


def encrypt_share(
    share: bytes, custodian_public_key: ec.EllipticCurvePublicKey, *, lot_id: str, custodian_id: str
) -> bytes:
    """:func:`encrypt_share_to_custodian` with the context given as keywords."""
    return encrypt_share_to_custodian(
        share, custodian_public_key, ShareContext(lot_id, custodian_id)
    )


def decrypt_share(
    blob: bytes,
    custodian_private_key: ec.EllipticCurvePrivateKey,
    context: ShareContext | None = None,
    *,
    lot_id: str | None = None,
    custodian_id: str | None = None,
) -> bytes:
    """Open a share encrypted by :func:`encrypt_share_to_custodian` (what a custodian does).

    The context is given as a :class:`ShareContext` or as ``lot_id`` and ``custodian_id``.

    Raises:
        ShareMismatch: truncated, for another key, lot or custodian, or altered.
    """
    info = _context(context, lot_id, custodian_id).info()
    if len(blob) < _SHARE_OVERHEAD:
        raise ShareMismatch("the encrypted share is truncated")
    point, salt, nonce, sealed = blob[:65], blob[65:97], blob[97:109], blob[109:]
    try:
        ephemeral = load_public_key(point)
    except MalformedHeader as exc:
        raise ShareMismatch("this is not an encrypted key share") from exc
    key = derive_key(custodian_private_key.exchange(ec.ECDH(), ephemeral), salt, info)
    try:
        return AESGCM(key).decrypt(nonce, sealed, info)
    except InvalidTag as exc:
        raise ShareMismatch(
            "this share is not encrypted to your key, or is for another lot or custodian, "
            "or was altered"
        ) from exc


def generate_custodian_key() -> ec.EllipticCurvePrivateKey:
    """A custodian's own P-256 key pair; the public half is registered with the platform."""
    return ec.generate_private_key(ec.SECP256R1())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _kek(passphrase: str, salt: bytes, iterations: int) -> bytes:
    return PBKDF2HMAC(
        algorithm=hashes.SHA256(), length=32, salt=salt, iterations=iterations
    ).derive(passphrase.encode())


def _check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise KeyCustodyError(f"the passphrase needs at least {MIN_PASSPHRASE} characters")


def export_custodian_key(key: ec.EllipticCurvePrivateKey, passphrase: str) -> bytes:
    """The passphrase-protected JSON key file a custodian keeps (browser-compatible).

    WebCrypto cannot read encrypted PKCS#8, so the file is PBKDF2-SHA256 (310 000
    iterations) + AES-256-GCM over the PKCS#8 DER key, which both sides implement.
    """
    _check_passphrase(passphrase)
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


def _p256(key: object) -> ec.EllipticCurvePrivateKey:
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise KeyCustodyError("the key file does not hold a P-256 key")
    return key


def load_custodian_key(data: bytes, passphrase: str) -> ec.EllipticCurvePrivateKey:
    """Read a JSON key file written by :func:`export_custodian_key` (or by the browser).

    Raises:
        KeyCustodyError: not a key file, or the wrong passphrase.
    """
    try:
        doc: dict[str, Any] = json.loads(data)
        if doc.get("kind") != KEY_FILE_KIND or doc.get("v") != 1:
            raise KeyCustodyError("this is not a custodian key file")
        salt, nonce = base64.b64decode(doc["salt"]), base64.b64decode(doc["nonce"])
        sealed = base64.b64decode(doc["ciphertext"])
        iterations = int(doc["iterations"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyCustodyError("this is not a custodian key file") from exc
    if not 100_000 <= iterations <= 10_000_000:
        raise KeyCustodyError("the key file's PBKDF2 iteration count is out of range")
    try:
        pkcs8 = AESGCM(_kek(passphrase, salt, iterations)).decrypt(nonce, sealed, None)
    except (InvalidTag, ValueError) as exc:
        raise KeyCustodyError("wrong passphrase") from exc
    return _p256(serialization.load_der_private_key(pkcs8, password=None))


def export_custodian_private_key(key: ec.EllipticCurvePrivateKey, passphrase: str) -> bytes:
    """The custodian key as encrypted PKCS#8 PEM (the library's best available encryption).

    For command-line tooling; the browser uses the JSON key file instead.
    """
    _check_passphrase(passphrase)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    )


def load_custodian_private_key(data: bytes, passphrase: str) -> ec.EllipticCurvePrivateKey:
    """Read a custodian key: encrypted PKCS#8 PEM or the JSON key file, by its first bytes.

    Raises:
        KeyCustodyError: not a custodian key, not P-256, or the wrong passphrase.
    """
    if not data.lstrip().startswith(b"-----BEGIN"):
        return load_custodian_key(data, passphrase)
    try:
        key = serialization.load_pem_private_key(data, password=passphrase.encode())
    except (ValueError, TypeError) as exc:
        raise KeyCustodyError(
            "wrong passphrase, or not an encrypted custodian key (PKCS#8 PEM)"
        ) from exc
    return _p256(key)


def custodian_public_key_from_file(data: bytes) -> bytes:
    """The raw public key recorded in a JSON key file (to register it)."""
    try:
        raw = base64.b64decode(json.loads(data)["public_key"])
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyCustodyError("this is not a custodian key file") from exc
    try:
        load_public_key(raw)
    except MalformedHeader as exc:
        raise KeyCustodyError("the key file's public key is not a P-256 point") from exc
    return raw


def generate_master_key() -> bytes:
    """A platform master key (32 random bytes) for platform-sealed lots (§3)."""
    return os.urandom(MASTER_KEY_SIZE)


def _aad(lot_id: str) -> bytes:
    return WRAP_AAD + lot_id.encode()


def _master(master_key: bytes) -> AESGCM:
    if len(master_key) != MASTER_KEY_SIZE:
        raise KeyCustodyError("the master key must be exactly 32 bytes")
    return AESGCM(master_key)


def wrap_private_key(
    private_key: ec.EllipticCurvePrivateKey, master_key: bytes, lot_id: str
) -> bytes:
    """Platform-sealed custody: nonce (12) ‖ AES-256-GCM(scalar), AAD bound to the lot id.

    The lot id in the AAD stops a wrapped key being moved to another lot's row.
    """
    nonce = os.urandom(12)
    return nonce + _master(master_key).encrypt(nonce, _scalar(private_key), _aad(lot_id))


def unwrap_private_key(blob: bytes, master_key: bytes, lot_id: str) -> ec.EllipticCurvePrivateKey:
    """Unwrap a platform-sealed opening key at the deadline (询价 automatic opening).

    Raises:
        KeyCustodyError: another lot's blob, another master key, or a damaged blob.
    """
    aead = _master(master_key)
    try:
        scalar = aead.decrypt(blob[:12], blob[12:], _aad(lot_id))
    except (InvalidTag, ValueError) as exc:
        raise KeyCustodyError(
            "the wrapped opening key does not belong to this lot or master key"
        ) from exc
    try:
        return _from_scalar(scalar)
    except ShareMismatch as exc:
        raise KeyCustodyError("the wrapped opening key is not a P-256 key") from exc


wrap_opening_key = wrap_private_key
unwrap_opening_key = unwrap_private_key
