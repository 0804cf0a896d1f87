"""The platform's own keys, read from the files named in settings.

The receipt-signing key and the master key of platform-sealed lots; created on first use
in the embedded mode.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding.keys import generate_master_key
from procurement.settings import Settings


def _read_or_create(path: Path, make: bytes) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(make)
    return path.read_bytes()


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The Ed25519 key that signs receipts (PEM, PKCS#8)."""
    fresh = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key = serialization.load_pem_private_key(
        _read_or_create(settings.signing_key_file, fresh), password=None
    )
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{settings.signing_key_file} is not an Ed25519 private key")
    return key


def master_key(settings: Settings) -> bytes:
    """The 32-byte master key that wraps platform-sealed opening keys."""
    key = _read_or_create(settings.master_key_file, generate_master_key())
    if len(key) != 32:
        raise ValueError(f"{settings.master_key_file} must hold exactly 32 bytes")
    return key
