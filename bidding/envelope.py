"""The sealed-bid envelope "ZCB1": a streaming, authenticated encryption format.

A bid is encrypted by the bidder before upload (ARCHITECTURE §3), so nobody can read it
before the opening (ETM Art. 30-31): an ephemeral P-256 key agrees a secret with the lot's
opening key (ECDH), HKDF-SHA256 derives a 32-byte AES key bound to the lot and bidder, and
the plaintext is sealed in fixed-size chunks with AES-256-GCM using the STREAM
construction, so any reordering, truncation, extension or bit flip is detected.

Byte layout (all integers big-endian; ``docs/envelope.md`` is the normative description):

    magic "ZCB1" | version u8 = 1 | header length u32 | chunk size u32 |
    ephemeral public key (65, uncompressed point) | salt (32) | nonce prefix (7) |
    opening-key fingerprint (32) | lot id, bidder id, kind: each u16 length + UTF-8
    then chunks: AES-256-GCM(plaintext chunk) ‖ 16-byte tag, every chunk but the last
    holding exactly ``chunk size`` plaintext bytes, the last 0..chunk size bytes.

Key = HKDF-SHA256(ECDH secret, salt, info = "zhaocai bid v1" ‖ context), where context is
the encoded lot id, bidder id and kind; every chunk's AAD is the whole header; chunk nonce
= prefix (7) ‖ chunk index u32 ‖ last-chunk flag u8 (1 on the last chunk, else 0).
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"ZCB1"
VERSION = 1
TAG_SIZE = 16
POINT_SIZE = 65
SALT_SIZE = 32
PREFIX_SIZE = 7
FINGERPRINT_SIZE = 32
DEFAULT_CHUNK_SIZE = 1 << 20
MAX_CHUNK_SIZE = 16 << 20
MAX_HEADER_SIZE = 4096
INFO = b"zhaocai bid v1"
_FIXED = struct.Struct(">4sBII")  # magic, version, header length, chunk size


class EnvelopeError(ValueError):
    """A sealed bid that cannot be opened; the message says why."""


class MalformedHeader(EnvelopeError):
    """The bytes do not start with a valid ZCB1 header."""


class WrongContext(EnvelopeError):
    """The envelope was sealed for another lot, bidder or kind of content."""


class WrongKey(EnvelopeError):
    """The envelope was sealed to another opening key."""


class TamperedEnvelope(EnvelopeError):
    """A chunk failed authentication: changed, reordered, truncated or extended."""


@dataclass(frozen=True)
class EnvelopeContext:
    """What a sealed bid belongs to; bound into the key and every chunk (no replay)."""

    lot_id: str
    bidder_id: str
    kind: str

    def encode(self) -> bytes:
        """Each field as u16 length + UTF-8, in order lot, bidder, kind."""
        out = bytearray()
        for value in (self.lot_id, self.bidder_id, self.kind):
            raw = value.encode()
            if len(raw) > 1024:
                raise ValueError("context field longer than 1024 bytes")
            out += struct.pack(">H", len(raw)) + raw
        return bytes(out)


@dataclass(frozen=True)
class EnvelopeHeader:
    """A parsed header."""

    chunk_size: int
    ephemeral_public_key: bytes
    salt: bytes
    nonce_prefix: bytes
    fingerprint: bytes
    context: EnvelopeContext
    raw: bytes


def public_key_bytes(key: ec.EllipticCurvePublicKey) -> bytes:
    """The 65-byte uncompressed point (what WebCrypto exports as "raw")."""
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def fingerprint(key: ec.EllipticCurvePublicKey) -> bytes:
    """SHA-256 of the uncompressed point: names an opening key in headers and shares."""
    return hashlib.sha256(public_key_bytes(key)).digest()


def load_public_key(raw: bytes) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from its 65-byte uncompressed point."""
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError as exc:
        raise MalformedHeader("not a P-256 public key") from exc


def derive_key(shared_secret: bytes, salt: bytes, info: bytes) -> bytes:
    """HKDF-SHA256 to a 32-byte AES key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(shared_secret)


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    if index >= 1 << 32:
        raise EnvelopeError("too many chunks")
    return prefix + struct.pack(">IB", index, 1 if last else 0)


def _header(
    *,
    chunk_size: int,
    ephemeral: bytes,
    salt: bytes,
    prefix: bytes,
    opening_fingerprint: bytes,
    context: EnvelopeContext,
) -> bytes:
    body = ephemeral + salt + prefix + opening_fingerprint + context.encode()
    return _FIXED.pack(MAGIC, VERSION, _FIXED.size + len(body), chunk_size) + body


def header_size(context: EnvelopeContext) -> int:
    """Length of the header for ``context``."""
    return (
        _FIXED.size
        + POINT_SIZE
        + SALT_SIZE
        + PREFIX_SIZE
        + FINGERPRINT_SIZE
        + len(context.encode())
    )


def sealed_size(
    plaintext_size: int, context: EnvelopeContext, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> int:
    """Exact ciphertext size, so an upload's size limit can be checked before it starts."""
    chunks = max(1, -(-plaintext_size // chunk_size))
    return header_size(context) + plaintext_size + chunks * TAG_SIZE


def _rechunk(chunks: Iterable[bytes], size: int) -> Iterator[tuple[bytes, bool]]:
    """Blocks of exactly ``size`` bytes (the last may be shorter), each with a last flag."""
    buffer = bytearray()
    pending: bytes | None = None
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= size:
            if pending is not None:
                yield pending, False
            pending = bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        if pending is not None:
            yield pending, False
        yield bytes(buffer), True
    else:
        yield (pending if pending is not None else b""), True


def seal(
    chunks: Iterable[bytes],
    *,
    opening_public_key: ec.EllipticCurvePublicKey,
    context: EnvelopeContext,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    _ephemeral: ec.EllipticCurvePrivateKey | None = None,
    _salt: bytes | None = None,
    _prefix: bytes | None = None,
) -> Iterator[bytes]:
    """Encrypt a stream: yields the header, then one sealed chunk per plaintext block.

    The underscore parameters fix the random values for test vectors only.
    """
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk size must be 1..{MAX_CHUNK_SIZE}")
    ephemeral = _ephemeral or ec.generate_private_key(ec.SECP256R1())
    salt = _salt or os.urandom(SALT_SIZE)
    prefix = _prefix or os.urandom(PREFIX_SIZE)
    header = _header(
        chunk_size=chunk_size,
        ephemeral=public_key_bytes(ephemeral.public_key()),
        salt=salt,
        prefix=prefix,
        opening_fingerprint=fingerprint(opening_public_key),
        context=context,
    )
    secret = ephemeral.exchange(ec.ECDH(), opening_public_key)
    aead = AESGCM(derive_key(secret, salt, INFO + context.encode()))
    yield header
    for index, (block, last) in enumerate(_rechunk(chunks, chunk_size)):
        yield aead.encrypt(_nonce(prefix, index, last), block, header)


def read_header(data: bytes) -> EnvelopeHeader:
    """Parse the header at the start of ``data`` (which may hold more than the header)."""
    if len(data) < _FIXED.size:
        raise MalformedHeader("too short to be a sealed bid")
    magic, version, length, chunk_size = _FIXED.unpack_from(data)
    if magic != MAGIC:
        raise MalformedHeader("not a ZCB1 sealed bid (wrong magic)")
    if version != VERSION:
        raise MalformedHeader(f"unsupported envelope version {version}")
    if not _FIXED.size < length <= MAX_HEADER_SIZE or len(data) < length:
        raise MalformedHeader("header length is invalid or the header is truncated")
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise MalformedHeader(f"invalid chunk size {chunk_size}")
    raw = bytes(data[:length])
    offset = _FIXED.size
    fields = []
    for size in (POINT_SIZE, SALT_SIZE, PREFIX_SIZE, FINGERPRINT_SIZE):
        fields.append(raw[offset : offset + size])
        offset += size
    strings = []
    for _ in range(3):
        if offset + 2 > length:
            raise MalformedHeader("context is truncated")
        (size,) = struct.unpack_from(">H", raw, offset)
        offset += 2
        if offset + size > length:
            raise MalformedHeader("context is truncated")
        try:
            strings.append(raw[offset : offset + size].decode())
        except UnicodeDecodeError as exc:
            raise MalformedHeader("context is not UTF-8") from exc
        offset += size
    if offset != length:
        raise MalformedHeader("header has trailing bytes")
    return EnvelopeHeader(
        chunk_size=chunk_size,
        ephemeral_public_key=fields[0],
        salt=fields[1],
        nonce_prefix=fields[2],
        fingerprint=fields[3],
        context=EnvelopeContext(*strings),
        raw=raw,
    )


def open_sealed(
    chunks: Iterable[bytes],
    *,
    opening_private_key: ec.EllipticCurvePrivateKey,
    expected_context: EnvelopeContext,
) -> Iterator[bytes]:
    """Decrypt a stream, verifying everything; yields plaintext chunk by chunk.

    A chunk's plaintext is yielded only after its tag verified, but a later chunk can still
    fail (truncation shows only at the end): the caller must discard what it received if
    this raises.

    Raises:
        MalformedHeader, WrongKey, WrongContext, TamperedEnvelope.
    """
    stream = iter(chunks)
    buffer = bytearray()
    header: EnvelopeHeader | None = None
    for chunk in stream:
        buffer += chunk
        if len(buffer) >= _FIXED.size:
            (length,) = struct.unpack_from(">I", buffer, 5)
            if len(buffer) >= min(length, MAX_HEADER_SIZE + 1):
                header = read_header(bytes(buffer))
                del buffer[: len(header.raw)]
                break
    if header is None:
        read_header(bytes(buffer))  # raises the precise reason
        raise MalformedHeader("incomplete header")  # pragma: no cover - read_header raised
    if header.fingerprint != fingerprint(opening_private_key.public_key()):
        raise WrongKey("this bid was sealed to another opening key")
    if header.context != expected_context:
        raise WrongContext(
            f"this envelope belongs to lot {header.context.lot_id!r}, bidder "
            f"{header.context.bidder_id!r}, {header.context.kind!r}, not to lot "
            f"{expected_context.lot_id!r}, bidder {expected_context.bidder_id!r}, "
            f"{expected_context.kind!r}"
        )
    secret = opening_private_key.exchange(ec.ECDH(), load_public_key(header.ephemeral_public_key))
    aead = AESGCM(derive_key(secret, header.salt, INFO + header.context.encode()))
    sealed_chunk = header.chunk_size + TAG_SIZE
    index = 0

    def decrypt(block: bytes, last: bool) -> bytes:
        try:
            return aead.decrypt(_nonce(header.nonce_prefix, index, last), block, header.raw)
        except InvalidTag as exc:
            raise TamperedEnvelope(
                f"chunk {index} failed authentication: the bid was "
                "changed, reordered, truncated or extended"
            ) from exc

    def complete_chunks() -> Iterator[bytes]:
        """Every chunk in the buffer that is followed by more data (so not the last)."""
        nonlocal index
        while len(buffer) > sealed_chunk:
            yield decrypt(bytes(buffer[:sealed_chunk]), last=False)
            del buffer[:sealed_chunk]
            index += 1

    yield from complete_chunks()
    for chunk in stream:
        buffer += chunk
        yield from complete_chunks()
    if len(buffer) < TAG_SIZE:
        raise TamperedEnvelope("the envelope is truncated: its last chunk is missing")
    yield decrypt(bytes(buffer), last=True)
