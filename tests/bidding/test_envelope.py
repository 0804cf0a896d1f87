"""The ZCB1 envelope (ARCHITECTURE §3): round trips at every size, every attack detected."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from bidding.envelope import (
    DEFAULT_CHUNK_SIZE,
    INFO,
    MAX_CHUNK_SIZE,
    EnvelopeContext,
    EnvelopeError,
    MalformedHeader,
    TamperedEnvelope,
    WrongContext,
    WrongKey,
    derive_key,
    fingerprint,
    header_size,
    open_sealed,
    public_key_bytes,
    read_header,
    seal,
    sealed_body_size,
    sealed_size,
)

KEY = ec.generate_private_key(ec.SECP256R1())
CTX = EnvelopeContext(lot_id="12", bidder_id="34", kind="price")
CHUNK = 64
TAG = 16
VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "zcb1.json").read_text(encoding="utf-8")
)


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def sealed(data: bytes, chunk: int = CHUNK, ctx: EnvelopeContext = CTX) -> bytes:
    return b"".join(
        seal([data], opening_public_key=KEY.public_key(), context=ctx, chunk_size=chunk)
    )


def opened(
    blob: bytes,
    ctx: EnvelopeContext = CTX,
    key: ec.EllipticCurvePrivateKey = KEY,
    piece: int = 1000,
) -> bytes:
    return b"".join(
        open_sealed(pieces(blob, piece) or [b""], opening_private_key=key, expected_context=ctx)
    )


def split(blob: bytes, ctx: EnvelopeContext = CTX, chunk: int = CHUNK) -> tuple[bytes, list[bytes]]:
    head = header_size(ctx)
    return blob[:head], pieces(blob[head:], chunk + TAG)


def pattern(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


@pytest.mark.parametrize(
    "size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK - 1, 3 * CHUNK + 5]
)
def test_round_trip_at_chunk_boundaries_has_the_predicted_size(size: int) -> None:
    data = pattern(size)
    blob = sealed(data)
    assert len(blob) == sealed_size(size, CTX, CHUNK)
    assert opened(blob) == data


@pytest.mark.parametrize(
    "size", [0, 1, DEFAULT_CHUNK_SIZE - 1, DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_SIZE + 1]
)
def test_round_trip_with_the_default_one_mebibyte_chunks(size: int) -> None:
    data = pattern(size)
    blob = b"".join(seal([data], opening_public_key=KEY.public_key(), context=CTX))
    assert read_header(blob).chunk_size == DEFAULT_CHUNK_SIZE
    assert len(blob) == sealed_size(size, CTX)
    assert opened(blob, piece=300_000) == data


@settings(max_examples=80, deadline=None)
@given(
    data=st.binary(max_size=6 * 40),
    chunk=st.integers(min_value=1, max_value=40),
    cuts_in=st.lists(st.integers(min_value=0, max_value=300), max_size=12),
    cuts_out=st.lists(st.integers(min_value=0, max_value=600), max_size=20),
)
def test_round_trip_survives_any_re_chunking_of_input_and_ciphertext(
    data: bytes, chunk: int, cuts_in: list[int], cuts_out: list[int]
) -> None:
    def cut(blob: bytes, points: list[int]) -> list[bytes]:
        edges = sorted({0, len(blob), *(p for p in points if p < len(blob))})
        return [blob[a:b] for a, b in itertools.pairwise(edges)] + [b""]

    blob = b"".join(
        seal(cut(data, cuts_in), opening_public_key=KEY.public_key(), context=CTX, chunk_size=chunk)
    )
    assert len(blob) == sealed_size(len(data), CTX, chunk)
    plain = open_sealed(cut(blob, cuts_out), opening_private_key=KEY, expected_context=CTX)
    assert b"".join(plain) == data


def test_seal_yields_the_header_then_one_sealed_chunk_per_block() -> None:
    parts = list(
        seal(
            pieces(pattern(150), 7),
            opening_public_key=KEY.public_key(),
            context=CTX,
            chunk_size=CHUNK,
        )
    )
    assert [len(p) for p in parts] == [header_size(CTX), CHUNK + TAG, CHUNK + TAG, 22 + TAG]


def test_an_empty_plaintext_is_one_empty_final_chunk() -> None:
    parts = list(seal([], opening_public_key=KEY.public_key(), context=CTX, chunk_size=CHUNK))
    assert [len(p) for p in parts] == [header_size(CTX), TAG]
    assert sealed_body_size(0, CHUNK) == TAG
    assert opened(b"".join(parts)) == b""


def test_a_multiple_of_the_chunk_size_ends_with_a_full_last_chunk() -> None:
    parts = list(
        seal([bytes(2 * CHUNK)], opening_public_key=KEY.public_key(), context=CTX, chunk_size=CHUNK)
    )
    assert [len(p) for p in parts[1:]] == [CHUNK + TAG, CHUNK + TAG]


def test_sealing_and_opening_stream_without_reading_everything_first() -> None:
    consumed = 0

    def source() -> Iterator[bytes]:
        nonlocal consumed
        for _ in range(100):
            consumed += CHUNK
            yield bytes(CHUNK)

    stream = seal(source(), opening_public_key=KEY.public_key(), context=CTX, chunk_size=CHUNK)
    header, first = next(stream), next(stream)
    assert consumed <= 2 * CHUNK
    rest = list(stream)
    read = 0

    def ciphertext() -> Iterator[bytes]:
        nonlocal read
        for part in [header, first, *rest]:
            read += len(part)
            yield part

    plain = open_sealed(ciphertext(), opening_private_key=KEY, expected_context=CTX)
    assert next(plain) == bytes(CHUNK)
    assert read <= header_size(CTX) + 2 * (CHUNK + TAG)
    assert b"".join(plain) == bytes(99 * CHUNK)


def test_seal_accepts_the_opening_key_as_its_raw_65_byte_point() -> None:
    raw = public_key_bytes(KEY.public_key())
    blob = b"".join(seal([b"bid"], opening_public_key=raw, context=CTX, chunk_size=CHUNK))
    assert opened(blob) == b"bid"


def test_header_names_the_context_the_key_and_the_chunk_size() -> None:
    blob = sealed(b"price", chunk=CHUNK)
    header = read_header(blob)
    assert header.context == CTX
    assert header.chunk_size == CHUNK
    assert header.fingerprint == fingerprint(KEY.public_key())
    assert len(header.raw) == header_size(CTX) == 149 + len(CTX.encode())
    assert header.raw == blob[: len(header.raw)]


@pytest.mark.parametrize(
    "other",
    [
        EnvelopeContext("13", "34", "price"),
        EnvelopeContext("12", "35", "price"),
        EnvelopeContext("12", "34", "technical"),
        EnvelopeContext("1", "234", "price"),
    ],
)
def test_replay_into_another_lot_bidder_or_file_slot_is_refused(other: EnvelopeContext) -> None:
    with pytest.raises(WrongContext, match="belongs to lot '12', bidder '34'"):
        opened(sealed(b"bid"), ctx=other)


def test_an_envelope_for_another_opening_key_is_refused() -> None:
    with pytest.raises(WrongKey, match="another opening key"):
        opened(sealed(b"bid"), key=ec.generate_private_key(ec.SECP256R1()))


def test_dropping_the_last_chunk_is_detected() -> None:
    head, chunks = split(sealed(pattern(3 * CHUNK)))
    with pytest.raises(TamperedEnvelope, match="chunk 1 failed"):
        opened(head + b"".join(chunks[:-1]))


def test_a_header_without_chunks_is_a_truncated_envelope() -> None:
    head, _ = split(sealed(b"bid"))
    with pytest.raises(TamperedEnvelope, match="truncated"):
        opened(head)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_every_strict_prefix_of_an_envelope_is_refused(data: st.DataObject) -> None:
    blob = sealed(pattern(2 * CHUNK + 9))
    cut = data.draw(st.integers(min_value=0, max_value=len(blob) - 1))
    expected = MalformedHeader if cut < header_size(CTX) else TamperedEnvelope
    with pytest.raises(expected):
        opened(blob[:cut], piece=data.draw(st.integers(min_value=1, max_value=300)))


def test_swapping_two_chunks_is_detected() -> None:
    head, chunks = split(sealed(pattern(4 * CHUNK)))
    chunks[1], chunks[2] = chunks[2], chunks[1]
    with pytest.raises(TamperedEnvelope, match="chunk 1 failed"):
        opened(head + b"".join(chunks))


def test_repeating_a_chunk_is_detected() -> None:
    head, chunks = split(sealed(pattern(3 * CHUNK)))
    with pytest.raises(TamperedEnvelope):
        opened(head + b"".join([chunks[0], chunks[0], *chunks[1:]]))


def test_appending_a_copy_of_a_chunk_is_detected() -> None:
    blob = sealed(pattern(2 * CHUNK))
    _, chunks = split(blob)
    with pytest.raises(TamperedEnvelope):
        opened(blob + chunks[-1])


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=1, max_size=3 * (CHUNK + TAG)))
def test_appending_any_bytes_is_detected(extra: bytes) -> None:
    with pytest.raises(TamperedEnvelope):
        opened(sealed(pattern(2 * CHUNK + 3)) + extra)


def test_a_chunk_from_another_envelope_for_the_same_bid_is_detected() -> None:
    head, chunks = split(sealed(pattern(2 * CHUNK)))
    _, others = split(sealed(pattern(2 * CHUNK)))
    with pytest.raises(TamperedEnvelope):
        opened(head + chunks[0] + others[1])


def test_a_header_from_another_envelope_is_detected() -> None:
    _, chunks = split(sealed(b"bid"))
    head, _ = split(sealed(b"bid"))
    with pytest.raises(TamperedEnvelope):
        opened(head + b"".join(chunks))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_bit_flip_in_header_or_body_is_detected(data: st.DataObject) -> None:
    blob = bytearray(sealed(pattern(3 * CHUNK + 10)))
    position = data.draw(st.integers(min_value=0, max_value=len(blob) - 1), label="position")
    blob[position] ^= 1 << data.draw(st.integers(min_value=0, max_value=7), label="bit")
    with pytest.raises(EnvelopeError):
        opened(bytes(blob))


def test_plaintext_before_a_failing_chunk_has_been_verified_and_the_error_follows() -> None:
    blob = bytearray(sealed(pattern(3 * CHUNK)))
    blob[-1] ^= 1
    received: list[bytes] = []
    stream = open_sealed([bytes(blob)], opening_private_key=KEY, expected_context=CTX)
    with pytest.raises(TamperedEnvelope, match="last chunk 2"):
        received.extend(stream)
    assert received == pieces(pattern(3 * CHUNK), CHUNK)[:2]


def header_with(**changes: Any) -> bytes:
    """A valid header with one field replaced (offsets as in docs/envelope.md)."""
    raw = bytearray(read_header(sealed(b"x")).raw)
    for offset, value in changes.values():
        raw[offset : offset + len(value)] = value
    return bytes(raw)


@pytest.mark.parametrize(
    ("blob", "reason"),
    [
        (b"", "too short"),
        (b"ZCB", "too short"),
        (b"XXXX" + bytes(200), "wrong magic"),
        (b"ZCB1\x02" + bytes(200), "version 2"),
        (header_with(length=(5, (4000).to_bytes(4, "big"))), "truncated"),
        (header_with(length=(5, (5000).to_bytes(4, "big"))), "invalid header length"),
        (header_with(length=(5, (20).to_bytes(4, "big"))), "invalid header length"),
        (header_with(chunk=(9, (0).to_bytes(4, "big"))), "invalid chunk size 0"),
        (header_with(chunk=(9, (MAX_CHUNK_SIZE + 1).to_bytes(4, "big"))), "invalid chunk size"),
        (header_with(lot=(149, b"\x00\xff")), "context is truncated"),
        (header_with(lot=(151, b"\xff")), "not UTF-8"),
        (header_with(kind=(5, (header_size(CTX) + 1).to_bytes(4, "big"))) + b"\0", "trailing"),
    ],
)
def test_broken_headers_are_refused_with_the_reason(blob: bytes, reason: str) -> None:
    with pytest.raises(MalformedHeader, match=reason):
        read_header(blob)
    with pytest.raises(MalformedHeader, match=reason):
        opened(blob, piece=7)


def test_an_ephemeral_key_off_the_curve_is_a_malformed_header() -> None:
    blob = bytearray(sealed(b"bid"))
    blob[13 + 64] ^= 1  # last byte of Y: the point leaves the curve
    with pytest.raises(MalformedHeader, match="not on the curve"):
        opened(bytes(blob))


def test_seal_refuses_bad_parameters() -> None:
    with pytest.raises(ValueError, match="chunk size"):
        sealed(b"x", chunk=0)
    with pytest.raises(ValueError, match="chunk size"):
        sealed(b"x", chunk=MAX_CHUNK_SIZE + 1)
    with pytest.raises(ValueError, match="salt"):
        list(seal([b"x"], opening_public_key=KEY.public_key(), context=CTX, _salt=b"short"))
    with pytest.raises(ValueError, match="1024"):
        EnvelopeContext("1" * 1025, "2", "price").encode()
    with pytest.raises(ValueError, match="negative"):
        sealed_body_size(-1)


def test_every_error_is_an_envelope_error_and_a_value_error() -> None:
    for error in (MalformedHeader, WrongContext, WrongKey, TamperedEnvelope):
        assert issubclass(error, EnvelopeError)
    assert issubclass(EnvelopeError, ValueError)


def scalar_key(hex_scalar: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int(hex_scalar, 16), ec.SECP256R1())


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_each_published_test_vector_is_reproduced_byte_for_byte(vector: dict[str, Any]) -> None:
    opening = scalar_key(VECTORS["opening_private_scalar_hex"])
    assert public_key_bytes(opening.public_key()).hex() == VECTORS["opening_public_key_hex"]
    assert fingerprint(opening.public_key()).hex() == VECTORS["opening_key_fingerprint_hex"]
    ephemeral = scalar_key(vector["ephemeral_private_scalar_hex"])
    context = EnvelopeContext(vector["lot_id"], vector["bidder_id"], vector["kind"])
    salt = bytes.fromhex(vector["salt_hex"])
    secret = ephemeral.exchange(ec.ECDH(), opening.public_key())
    assert secret.hex() == vector["ecdh_shared_secret_hex"]
    assert (INFO + context.encode()).hex() == vector["hkdf_info_hex"]
    assert derive_key(secret, salt, INFO + context.encode()).hex() == vector["aes_key_hex"]
    plaintext = bytes.fromhex(vector["plaintext_hex"])
    blob = b"".join(
        seal(
            pieces(plaintext, 5),
            opening_public_key=opening.public_key(),
            context=context,
            chunk_size=vector["chunk_size"],
            _ephemeral=ephemeral,
            _salt=salt,
            _prefix=bytes.fromhex(vector["nonce_prefix_hex"]),
        )
    )
    assert blob.hex() == vector["envelope_hex"]
    assert read_header(blob).raw.hex() == vector["header_hex"]
    plain = open_sealed([blob], opening_private_key=opening, expected_context=context)
    assert b"".join(plain) == plaintext


def test_the_specification_reproduces_every_vector_envelope() -> None:
    spec = (Path(__file__).parents[2] / "docs" / "envelope.md").read_text(encoding="utf-8")
    compact = "".join(spec.split())
    for vector in VECTORS["vectors"]:
        assert vector["envelope_hex"] in compact, vector["name"]
        assert vector["aes_key_hex"] in compact, vector["name"]
