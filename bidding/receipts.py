"""Signed bid receipts (回执, ETM Art. 27-28): proof of what a bidder submitted and when.

The platform signs the canonical JSON of the receipt (sorted keys, no spaces, UTF-8) with
its Ed25519 key; anyone holding the published public key verifies it offline
(``zhaocai receipt verify FILE``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

RECEIPT_KIND = "zhaocai-bid-receipt"


class ReceiptInvalid(ValueError):
    """A receipt whose signature or content does not verify."""


@dataclass(frozen=True)
class ReceiptFile:
    """One sealed file of a bid as stored."""

    kind: str
    object_key: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Receipt:
    """What the platform received, from whom, when, under which sequence number."""

    lot_id: int
    bidder_id: int
    bid_id: int
    sequence: int
    received_at: str
    files: list[ReceiptFile] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, ready for canonical JSON."""
        return {"kind": RECEIPT_KIND, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Receipt:
        """Rebuild from verified data."""
        try:
            return cls(
                lot_id=int(data["lot_id"]),
                bidder_id=int(data["bidder_id"]),
                bid_id=int(data["bid_id"]),
                sequence=int(data["sequence"]),
                received_at=str(data["received_at"]),
                files=[ReceiptFile(**f) for f in data["files"]],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ReceiptInvalid("the receipt is incomplete") from exc


def canonical(data: dict[str, Any]) -> bytes:
    """The exact bytes that are signed."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def public_key_raw(key: Ed25519PublicKey) -> bytes:
    """32 raw bytes of an Ed25519 public key."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """A short name of the signing key: the first 16 hex digits of SHA-256(public key)."""
    return hashlib.sha256(public_key_raw(key)).hexdigest()[:16]


def sign_receipt(receipt: Receipt, signing_key: Ed25519PrivateKey) -> dict[str, Any]:
    """The signed receipt document the bidder downloads."""
    body = receipt.to_dict()
    public = signing_key.public_key()
    return {
        "receipt": body,
        "signature": base64.b64encode(signing_key.sign(canonical(body))).decode(),
        "public_key": base64.b64encode(public_key_raw(public)).decode(),
        "key_id": key_id(public),
    }


def verify_receipt(
    document: bytes | str | dict[str, Any], trusted_public_key: Ed25519PublicKey
) -> Receipt:
    """Check a receipt against the platform's published key; return its content."""
    try:
        doc = json.loads(document) if isinstance(document, (bytes, str)) else document
        body = doc["receipt"]
        signature = base64.b64decode(doc["signature"], validate=True)
    except (ValueError, KeyError, TypeError) as exc:
        raise ReceiptInvalid("this is not a receipt document") from exc
    if not isinstance(body, dict) or body.get("kind") != RECEIPT_KIND:
        raise ReceiptInvalid("this is not a bid receipt")
    try:
        trusted_public_key.verify(signature, canonical(body))
    except InvalidSignature as exc:
        raise ReceiptInvalid(
            "the signature does not match: the receipt was altered or was "
            "not signed by this platform"
        ) from exc
    return Receipt.from_dict(body)


def load_public_key(data: bytes) -> Ed25519PublicKey:
    """The platform's public key from PEM or raw base64 (as published)."""
    text = data.strip()
    try:
        if text.startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(text)
        else:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(text))
    except ValueError as exc:
        raise ReceiptInvalid("not an Ed25519 public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ReceiptInvalid("not an Ed25519 public key")
    return key


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    """PEM of the public key, as published at ``/.well-known/zhaocai-receipt-key.pem``."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
