"""Signed bid receipts (回执, ETM Art. 27-28): proof of what a bidder submitted and when.

The platform signs the canonical JSON of the receipt (sorted keys, no spaces, UTF-8 without
escaping) with its Ed25519 key; anyone holding the published public key verifies it
offline (``zhaocai receipt verify FILE``), and the ciphertext SHA-256 in it proves at any
later time which bytes were submitted (ARCHITECTURE §3, "Receipt").

Pure: no I/O (reading and writing the key file is the caller's job), no clock (the
received-at time is a parameter).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeAlias

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

__all__ = [
    "RECEIPT_KIND",
    "Receipt",
    "ReceiptFile",
    "ReceiptInvalid",
    "SignedReceipt",
    "canonical",
    "key_id",
    "load_public_key",
    "public_key_pem",
    "public_key_raw",
    "sign_receipt",
    "signing_key_from_bytes",
    "signing_key_to_bytes",
    "verify_receipt",
]

RECEIPT_KIND = "zhaocai-bid-receipt"


class ReceiptInvalid(ValueError):
    """A receipt whose signature or content does not verify; the message says why."""


def _utc(timestamp: str) -> str:
    """The same instant as ISO-8601 in UTC; a time without a zone is refused."""
    moment = datetime.fromisoformat(timestamp)
    if moment.tzinfo is None:
        raise ValueError(f"received_at {timestamp!r} has no time zone")
    return moment.astimezone(UTC).isoformat()


@dataclass(frozen=True)
class ReceiptFile:
    """One sealed file of a bid as stored.

    Attributes:
        kind: its role in the bid (``price``, ``technical``, ``file:offer.pdf``...).
        object_key: where the ciphertext is stored (the first part when stored in parts).
        sha256: hex SHA-256 of the whole ciphertext, the proof of what was submitted.
        size: ciphertext size in bytes.
        part_keys: the ordered part objects, when the file is stored as several parts.
        plaintext_size: the plaintext size in bytes, when the platform knows it.
    """

    kind: str
    object_key: str
    sha256: str
    size: int
    part_keys: tuple[str, ...] = ()
    plaintext_size: int | None = None

    def __post_init__(self) -> None:
        if len(self.sha256) != 64 or any(c not in "0123456789abcdef" for c in self.sha256):
            raise ValueError("sha256 must be 64 lowercase hex digits")
        if self.size < 0 or (self.plaintext_size is not None and self.plaintext_size < 0):
            raise ValueError("sizes cannot be negative")
        object.__setattr__(self, "part_keys", tuple(self.part_keys))

    def to_dict(self) -> dict[str, Any]:
        """Plain data; optional fields appear only when set (older receipts stay valid)."""
        data: dict[str, Any] = {
            "kind": self.kind,
            "object_key": self.object_key,
            "sha256": self.sha256,
            "size": self.size,
        }
        if self.part_keys:
            data["part_keys"] = list(self.part_keys)
        if self.plaintext_size is not None:
            data["plaintext_size"] = self.plaintext_size
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReceiptFile:
        """Rebuild from verified data, refusing unknown or mistyped fields."""
        known = {"kind", "object_key", "sha256", "size", "part_keys", "plaintext_size"}
        if not isinstance(data, dict) or set(data) - known:
            raise TypeError("unexpected fields in a receipt file entry")
        parts = data.get("part_keys", [])
        plain = data.get("plaintext_size")
        if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
            raise TypeError("part_keys must be a list of strings")
        if not isinstance(data["size"], int) or not isinstance(plain, int | None):
            raise TypeError("sizes must be integers")
        return cls(
            kind=str(data["kind"]),
            object_key=str(data["object_key"]),
            sha256=str(data["sha256"]),
            size=data["size"],
            part_keys=tuple(parts),
            plaintext_size=plain,
        )


@dataclass(frozen=True)
class Receipt:
    """What the platform received, from whom, when, under which sequence number.

    ``received_at`` is ISO-8601; any zone is accepted and stored as the same instant in UTC,
    so the signed text never depends on the server's zone. ``sequence`` is the number of
    the audit-chain entry that records the submission (TBL Art. 28: arrival is recorded),
    not a count within the lot: before the deadline nobody may learn how many bids a lot
    has (TBL Art. 22).
    """

    lot_id: int
    bidder_id: int
    bid_id: int
    sequence: int
    received_at: str
    files: Sequence[ReceiptFile] = field(default_factory=list)

    def __post_init__(self) -> None:
        object.__setattr__(self, "received_at", _utc(self.received_at))
        object.__setattr__(self, "files", list(self.files))

    def to_dict(self) -> dict[str, Any]:
        """Plain data, ready for canonical JSON."""
        return {
            "kind": RECEIPT_KIND,
            "lot_id": self.lot_id,
            "bidder_id": self.bidder_id,
            "bid_id": self.bid_id,
            "sequence": self.sequence,
            "received_at": self.received_at,
            "files": [f.to_dict() for f in self.files],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Receipt:
        """Rebuild from verified data.

        Raises:
            ReceiptInvalid: a field is missing or malformed.
        """
        try:
            names = ("lot_id", "bidder_id", "bid_id", "sequence")
            numbers = {name: data[name] for name in names}
            if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers.values()):
                raise TypeError("ids and sequence must be integers")
            return cls(
                **numbers,
                received_at=str(data["received_at"]),
                files=[ReceiptFile.from_dict(f) for f in data["files"]],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ReceiptInvalid(f"the receipt is incomplete or malformed: {exc}") from exc


SignedReceipt: TypeAlias = dict[str, Any]
"""The document a bidder keeps (``receipt.json``): ``receipt`` (the signed body),
``signature`` (base64 Ed25519), ``public_key`` (base64 raw) and ``key_id``."""


def canonical(data: dict[str, Any]) -> bytes:
    """The exact bytes that are signed: sorted keys, ``,``/``:`` separators, raw UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def public_key_raw(key: Ed25519PublicKey) -> bytes:
    """32 raw bytes of an Ed25519 public key."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """A short name of the signing key: the first 16 hex digits of SHA-256(public key)."""
    return hashlib.sha256(public_key_raw(key)).hexdigest()[:16]


def sign_receipt(receipt: Receipt, signing_key: Ed25519PrivateKey) -> SignedReceipt:
    """Sign a receipt (回执) with the platform's key; the bidder keeps the result."""
    body = receipt.to_dict()
    public = signing_key.public_key()
    return {
        "receipt": body,
        "signature": base64.b64encode(signing_key.sign(canonical(body))).decode(),
        "public_key": base64.b64encode(public_key_raw(public)).decode(),
        "key_id": key_id(public),
    }


def _document(document: bytes | str | SignedReceipt) -> dict[str, Any]:
    try:
        doc = json.loads(document) if isinstance(document, bytes | str) else document
    except ValueError as exc:
        raise ReceiptInvalid("this is not a receipt document (not JSON)") from exc
    if not isinstance(doc, dict):
        raise ReceiptInvalid("this is not a receipt document")
    return dict(doc)


def verify_receipt(
    document: bytes | str | SignedReceipt, trusted_public_key: Ed25519PublicKey
) -> Receipt:
    """Check a receipt against the platform's published key; return its content.

    Only ``trusted_public_key`` is trusted; the key named inside the document is used just
    to say which key signed it when that is not the trusted one.

    Raises:
        ReceiptInvalid: not a receipt, signed by another key, or altered.
    """
    doc = _document(document)
    try:
        body = doc["receipt"]
        signature = base64.b64decode(doc["signature"], validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise ReceiptInvalid("this is not a receipt document (no receipt or signature)") from exc
    if not isinstance(body, dict) or body.get("kind") != RECEIPT_KIND:
        raise ReceiptInvalid("this is not a bid receipt")
    claimed = doc.get("key_id")
    trusted = key_id(trusted_public_key)
    if isinstance(claimed, str) and claimed != trusted:
        raise ReceiptInvalid(
            f"the receipt was signed by key {claimed}, not by the trusted key {trusted}"
        )
    try:
        trusted_public_key.verify(signature, canonical(body))
    except InvalidSignature as exc:
        raise ReceiptInvalid(
            "the signature does not match: the receipt was altered or was not signed by "
            "this platform"
        ) from exc
    return Receipt.from_dict(body)


def load_public_key(data: bytes) -> Ed25519PublicKey:
    """The platform's public key from PEM or raw base64 (as published).

    Raises:
        ReceiptInvalid: not an Ed25519 public key.
    """
    text = data.strip()
    try:
        if text.startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(text)
        else:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error) as exc:
        raise ReceiptInvalid("not an Ed25519 public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ReceiptInvalid("not an Ed25519 public key")
    return key


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    """PEM of the public key, as published at ``/.well-known/zhaocai-receipt-key.pem``."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def signing_key_to_bytes(key: Ed25519PrivateKey) -> bytes:
    """The signing key as unencrypted PKCS#8 PEM, the format of the platform's key file."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def signing_key_from_bytes(data: bytes) -> Ed25519PrivateKey:
    """The signing key from PKCS#8 PEM or its raw 32-byte seed.

    Raises:
        ValueError: neither form of an Ed25519 private key.
    """
    if len(data) == 32:
        return Ed25519PrivateKey.from_private_bytes(data)
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key
