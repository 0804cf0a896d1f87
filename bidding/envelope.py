"""The sealed-bid envelope "ZCB1": a streaming, authenticated encryption format.

A bid is encrypted by the bidder before upload (ARCHITECTURE §3), so nobody can read it
before the opening (ETM Art. 30-31): an ephemeral P-256 key agrees a secret with the lot's
opening key (ECDH), HKDF-SHA256 derives a 32-byte AES key bound to the lot, the bidder and
the kind of content, and the plaintext is sealed in fixed-size chunks with AES-256-GCM using
the STREAM construction, so any reordering, truncation, extension or bit flip is detected.

Byte layout (all integers big-endian; ``docs/envelope.md`` is the normative description):

    magic "ZCB1" | version u8 = 1 | header length u32 | chunk size u32 |
    ephemeral public key (65, uncompressed point) | salt (32) | nonce prefix (7) |
    opening-key fingerprint (32) | lot id, bidder id, kind: each u16 length + UTF-8
    then chunks: AES-256-GCM(plaintext chunk) ‖ 16-byte tag, every chunk but the last
    holding exactly ``chunk size`` plaintext bytes, the last 0..chunk size bytes.

Key = HKDF-SHA256(ECDH secret, salt, info = "zhaocai bid v1" ‖ context), where context is
the encoded lot id, bidder id and kind; every chunk's AAD is the whole header; chunk nonce
= prefix (7) ‖ chunk index u32 ‖ last-chunk flag u8 (1 on the last chunk, else 0).

Everything here is pure: no I/O but the iterables passed in, no clock, randomness only from
``os.urandom`` and ``cryptography``'s key generation.
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

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "INFO",
    "MAGIC",
    "MAX_CHUNK_SIZE",
    "VERSION",
    "EnvelopeContext",
    "EnvelopeError",
    "EnvelopeHeader",
    "MalformedHeader",
    "TamperedEnvelope",
    "WrongContext",
    "WrongKey",
    "derive_key",
    "fingerprint",
    "header_size",
    "load_public_key",
    "open_sealed",
    "public_key_bytes",
    "read_header",
    "seal",
    "sealed_body_size",
    "sealed_size",
]

MAGIC = b"ZCB1"
VERSION = 1
TAG_SIZE = 16
POINT_SIZE = 65
SALT_SIZE = 32
PREFIX_SIZE = 7
FINGERPRINT_SIZE = 32
DEFAULT_CHUNK_SIZE = 1 << 20
MAX_CHUNK_SIZE = 16 << 20
MAX_CONTEXT_FIELD = 1024
MAX_HEADER_SIZE = 4096
MAX_CHUNKS = 1 << 32
INFO = b"zhaocai bid v1"
_FIXED = struct.Struct(">4sBII")  # magic, version, header length, chunk size
_KEYS_SIZE = POINT_SIZE + SALT_SIZE + PREFIX_SIZE + FINGERPRINT_SIZE
_MIN_HEADER = _FIXED.size + _KEYS_SIZE + 3 * 2


class EnvelopeError(ValueError):
    """A sealed bid that cannot be opened; the message says why (ETM Art. 31 records it)."""


class MalformedHeader(EnvelopeError):
    """The bytes do not start with a valid ZCB1 header (an unencrypted or foreign file)."""


class WrongContext(EnvelopeError):
    """The envelope was sealed for another lot, bidder or kind of content (a replay)."""


class WrongKey(EnvelopeError):
    """The envelope was sealed to another opening key (its fingerprint differs)."""


class TamperedEnvelope(EnvelopeError):
    """A chunk failed authentication: changed, reordered, truncated or extended."""


@dataclass(frozen=True)
class EnvelopeContext:
    """What a sealed bid belongs to; bound into the key and every chunk (ARCHITECTURE §3).

    Binding lot and bidder stops a sealed bid being replayed into another tender or another
    bidder's slot; binding the kind (``price``, ``technical``, ``file:offer.pdf``...) stops
    one file of a bid being swapped for another.
    """

    lot_id: str
    bidder_id: str
    kind: str

    def encode(self) -> bytes:
        """Each field as u16 length + UTF-8, in order lot, bidder, kind.

        Raises:
            ValueError: a field is longer than 1024 bytes of UTF-8.
        """
        out = bytearray()
        for value in (self.lot_id, self.bidder_id, self.kind):
            raw = value.encode()
            if len(raw) > MAX_CONTEXT_FIELD:
                raise ValueError(f"context field longer than {MAX_CONTEXT_FIELD} bytes")
            out += struct.pack(">H", len(raw)) + raw
        return bytes(out)


@dataclass(frozen=True)
class EnvelopeHeader:
    """A parsed header; ``raw`` is the exact byte string every chunk authenticates."""

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
    """A P-256 public key from its 65-byte uncompressed point, checked to be on the curve.

    Raises:
        MalformedHeader: the bytes are not an uncompressed P-256 point.
    """
    if len(raw) != POINT_SIZE or raw[:1] != b"\x04":
        raise MalformedHeader("not a P-256 public key (65-byte uncompressed point expected)")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes(raw))
    except ValueError as exc:
        raise MalformedHeader("not a P-256 public key (the point is not on the curve)") from exc


def derive_key(shared_secret: bytes, salt: bytes, info: bytes) -> bytes:
    """HKDF-SHA256 (RFC 5869) to a 32-byte AES key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(shared_secret)


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    """STREAM nonce: prefix ‖ index ‖ last flag, so position and end are authenticated."""
    if index >= MAX_CHUNKS:
        raise EnvelopeError("too many chunks for one envelope")
    return prefix + struct.pack(">IB", index, 1 if last else 0)


def _check_chunk_size(chunk_size: int) -> None:
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk size must be 1..{MAX_CHUNK_SIZE} bytes, got {chunk_size}")


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
    """Length in bytes of the header for ``context`` (149 + the encoded context)."""
    return _FIXED.size + _KEYS_SIZE + len(context.encode())


def sealed_body_size(plaintext_size: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> int:
    """Size of the sealed chunks alone: the plaintext plus one 16-byte tag per chunk.

    An empty plaintext is still one (empty) final chunk, so the body is never empty.
    """
    if plaintext_size < 0:
        raise ValueError("a plaintext size cannot be negative")
    _check_chunk_size(chunk_size)
    chunks = max(1, -(-plaintext_size // chunk_size))
    return plaintext_size + chunks * TAG_SIZE


def sealed_size(
    plaintext_size: int, context: EnvelopeContext, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> int:
    """Exact ciphertext size, so an upload's size limit is checked before it starts.

    The header carries the context (variable-length lot, bidder and kind), so the exact
    size needs it: ``header_size(context) + sealed_body_size(plaintext_size, chunk_size)``.
    """
    return header_size(context) + sealed_body_size(plaintext_size, chunk_size)


def _rechunk(chunks: Iterable[bytes], size: int) -> Iterator[tuple[bytes, bool]]:
    """Blocks of exactly ``size`` bytes (the last 0..size), each with its last-chunk flag.

    One full block is held back until more data (or the end) shows whether it is the last,
    so a plaintext that is a multiple of ``size`` ends with a full last block, never with an
    extra empty one.
    """
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


def _opening_key(key: ec.EllipticCurvePublicKey | bytes) -> ec.EllipticCurvePublicKey:
    if isinstance(key, bytes | bytearray | memoryview):
        return load_public_key(bytes(key))
    if not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("the opening key must be on P-256")
    return key


def seal(
    chunks: Iterable[bytes],
    *,
    opening_public_key: ec.EllipticCurvePublicKey | bytes,
    context: EnvelopeContext,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    _ephemeral: ec.EllipticCurvePrivateKey | None = None,
    _salt: bytes | None = None,
    _prefix: bytes | None = None,
) -> Iterator[bytes]:
    """Encrypt a stream to a lot's opening key (ARCHITECTURE §3, ETM Art. 27).

    Yields the header, then one sealed chunk per ``chunk_size`` plaintext bytes; the input
    may arrive in pieces of any size (it is re-blocked), and memory stays bounded by one
    chunk plus the largest input piece.

    Args:
        chunks: the plaintext, in pieces of any size.
        opening_public_key: the lot's opening key (a key object or its 65-byte point).
        context: the lot, bidder and kind this content belongs to.
        chunk_size: plaintext bytes per chunk (1 byte to 16 MiB; clients use 1 MiB).
        _ephemeral: test hook: a fixed ephemeral key, for published test vectors only.
        _salt: test hook: a fixed 32-byte salt.
        _prefix: test hook: a fixed 7-byte nonce prefix.
    """
    _check_chunk_size(chunk_size)
    opening = _opening_key(opening_public_key)
    ephemeral = _ephemeral if _ephemeral is not None else ec.generate_private_key(ec.SECP256R1())
    salt = _salt if _salt is not None else os.urandom(SALT_SIZE)
    prefix = _prefix if _prefix is not None else os.urandom(PREFIX_SIZE)
    if len(salt) != SALT_SIZE or len(prefix) != PREFIX_SIZE:
        raise ValueError("the salt must be 32 bytes and the nonce prefix 7 bytes")
    header = _header(
        chunk_size=chunk_size,
        ephemeral=public_key_bytes(ephemeral.public_key()),
        salt=salt,
        prefix=prefix,
        opening_fingerprint=fingerprint(opening),
        context=context,
    )
    secret = ephemeral.exchange(ec.ECDH(), opening)
    aead = AESGCM(derive_key(secret, salt, INFO + context.encode()))
    del secret
    yield header
    for index, (block, last) in enumerate(_rechunk(chunks, chunk_size)):
        yield aead.encrypt(_nonce(prefix, index, last), block, header)


def read_header(data: bytes) -> EnvelopeHeader:
    """Parse the header at the start of ``data`` (which may hold more than the header).

    Used at submission to refuse an unencrypted or misaddressed file before it is accepted
    (ETM Art. 27: an unencrypted bid is refused with a prompt).

    Raises:
        MalformedHeader: with the precise reason.
    """
    if len(data) < _FIXED.size:
        raise MalformedHeader("too short to be a sealed bid")
    magic, version, length, chunk_size = _FIXED.unpack_from(data)
    if magic != MAGIC:
        raise MalformedHeader("not a ZCB1 sealed bid (wrong magic)")
    if version != VERSION:
        raise MalformedHeader(f"unsupported envelope version {version}")
    if not _MIN_HEADER <= length <= MAX_HEADER_SIZE:
        raise MalformedHeader(f"invalid header length {length}")
    if len(data) < length:
        raise MalformedHeader("the header is truncated")
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
            raise MalformedHeader("the context is truncated")
        (size,) = struct.unpack_from(">H", raw, offset)
        offset += 2
        if offset + size > length:
            raise MalformedHeader("the context is truncated")
        try:
            strings.append(raw[offset : offset + size].decode())
        except UnicodeDecodeError as exc:
            raise MalformedHeader("the context is not UTF-8") from exc
        offset += size
    if offset != length:
        raise MalformedHeader("the header has trailing bytes")
    return EnvelopeHeader(
        chunk_size=chunk_size,
        ephemeral_public_key=fields[0],
        salt=fields[1],
        nonce_prefix=fields[2],
        fingerprint=fields[3],
        context=EnvelopeContext(*strings),
        raw=raw,
    )


def _take_header(stream: Iterator[bytes]) -> tuple[EnvelopeHeader, bytearray]:
    """Read just enough of the stream for the header; return it and the bytes after it."""
    buffer = bytearray()
    for piece in stream:
        buffer += piece
        if len(buffer) >= _FIXED.size:
            (length,) = struct.unpack_from(">I", buffer, 5)
            if len(buffer) >= min(length, MAX_HEADER_SIZE + 1):
                header = read_header(bytes(buffer))
                del buffer[: len(header.raw)]
                return header, buffer
    read_header(bytes(buffer))  # the stream ended inside the header: raises the reason
    raise MalformedHeader("the header is truncated")  # pragma: no cover - read_header raised


def open_sealed(
    chunks: Iterable[bytes],
    *,
    opening_private_key: ec.EllipticCurvePrivateKey,
    expected_context: EnvelopeContext,
) -> Iterator[bytes]:
    """Decrypt a stream, verifying everything; yields plaintext chunk by chunk (开标解密).

    The ciphertext may arrive in pieces of any size; memory stays bounded by one sealed
    chunk plus the largest piece. A chunk's plaintext is yielded only after its tag
    verified, but a later chunk can still fail (truncation shows only at the end): the
    consumer must discard everything it received if this raises, and treat the bid as not
    opened (ETM Art. 31).

    Raises:
        MalformedHeader: not a ZCB1 envelope, or a broken header.
        WrongKey: sealed to another opening key.
        WrongContext: sealed for another lot, bidder or kind.
        TamperedEnvelope: a chunk was changed, reordered, dropped or added.
    """
    stream = iter(chunks)
    header, buffer = _take_header(stream)
    if header.fingerprint != fingerprint(opening_private_key.public_key()):
        raise WrongKey("this bid was sealed to another opening key")
    if header.context != expected_context:
        got, want = header.context, expected_context
        raise WrongContext(
            f"this envelope belongs to lot {got.lot_id!r}, bidder {got.bidder_id!r}, "
            f"{got.kind!r}, not to lot {want.lot_id!r}, bidder {want.bidder_id!r}, "
            f"{want.kind!r}"
        )
    secret = opening_private_key.exchange(ec.ECDH(), load_public_key(header.ephemeral_public_key))
    aead = AESGCM(derive_key(secret, header.salt, INFO + header.context.encode()))
    del secret
    sealed_chunk = header.chunk_size + TAG_SIZE
    index = 0

    def decrypt(block: bytes | bytearray | memoryview, last: bool) -> bytes:
        try:
            return aead.decrypt(_nonce(header.nonce_prefix, index, last), block, header.raw)
        except InvalidTag as exc:
            where = "last chunk" if last else "chunk"
            raise TamperedEnvelope(
                f"{where} {index} failed authentication: the bid was changed, reordered, "
                "truncated or extended"
            ) from exc

    # A complete chunk is held until more data shows it is not the last. Chunks that lie
    # inside one incoming piece are decrypted through a view of it; only a chunk that
    # straddles two pieces is copied, once (the opening's speed goal, bench/opening.py).
    held: bytes | bytearray | memoryview | None = None
    partial = bytearray()

    def complete_chunks(piece: bytes | bytearray | memoryview) -> Iterator[bytes]:
        nonlocal held, partial, index
        view = memoryview(piece)
        while view:
            if partial or len(view) < sealed_chunk:
                take = sealed_chunk - len(partial)
                partial += view[:take]
                view = view[take:]
                if len(partial) < sealed_chunk:
                    return
                chunk: bytes | bytearray | memoryview = partial
                partial = bytearray()
            else:
                chunk, view = view[:sealed_chunk], view[sealed_chunk:]
            if held is not None:
                yield decrypt(held, last=False)
                index += 1
            held = chunk

    yield from complete_chunks(buffer)
    for piece in stream:
        yield from complete_chunks(piece)
    if partial:
        if held is not None:
            yield decrypt(held, last=False)
            index += 1
        held = partial
    if held is None or len(held) < TAG_SIZE:
        raise TamperedEnvelope("the envelope is truncated: its last chunk is missing")
    yield decrypt(held, last=True)
