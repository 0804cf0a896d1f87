"""The ZCB1 envelope: round trips at every size, and every attack is detected."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from bidding.envelope import (
    EnvelopeContext,
    EnvelopeError,
    MalformedHeader,
    TamperedEnvelope,
    WrongContext,
    WrongKey,
    header_size,
    open_sealed,
    read_header,
    seal,
    sealed_size,
)

KEY = ec.generate_private_key(ec.SECP256R1())
CTX = EnvelopeContext(lot_id="12", bidder_id="34", kind="price")
CHUNK = 64


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
        open_sealed(
            [blob[i : i + piece] for i in range(0, len(blob), piece)],
            opening_private_key=key,
            expected_context=ctx,
        )
    )


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 5])
def test_round_trip_at_chunk_boundaries(size: int) -> None:
    data = bytes(i % 251 for i in range(size))
    blob = sealed(data)
    assert len(blob) == sealed_size(size, CTX, CHUNK)
    assert opened(blob) == data


@settings(max_examples=60, deadline=None)
@given(
    st.binary(max_size=700),
    st.integers(min_value=1, max_value=97),
    st.integers(min_value=1, max_value=300),
)
def test_round_trip_with_any_input_and_ciphertext_slicing(
    data: bytes, piece_in: int, piece_out: int
) -> None:
    pieces = [data[i : i + piece_in] for i in range(0, len(data), piece_in)]
    blob = b"".join(
        seal(pieces, opening_public_key=KEY.public_key(), context=CTX, chunk_size=CHUNK)
    )
    assert opened(blob, piece=piece_out) == data


def test_header_names_the_context_and_key() -> None:
    header = read_header(sealed(b"price"))
    assert header.context == CTX
    assert len(header.raw) == header_size(CTX)


@pytest.mark.parametrize(
    "other",
    [
        EnvelopeContext("13", "34", "price"),
        EnvelopeContext("12", "35", "price"),
        EnvelopeContext("12", "34", "technical"),
    ],
)
def test_replay_into_another_lot_bidder_or_slot_is_refused(other: EnvelopeContext) -> None:
    with pytest.raises(WrongContext):
        opened(sealed(b"bid"), ctx=other)


def test_another_key_is_refused() -> None:
    with pytest.raises(WrongKey):
        opened(sealed(b"bid"), key=ec.generate_private_key(ec.SECP256R1()))


def test_truncation_at_a_chunk_boundary_is_detected() -> None:
    blob = sealed(bytes(3 * CHUNK))
    last = len(blob) - (CHUNK + 16)
    with pytest.raises(TamperedEnvelope):
        opened(blob[:last])


def test_truncation_inside_a_chunk_is_detected() -> None:
    with pytest.raises(TamperedEnvelope):
        opened(sealed(bytes(3 * CHUNK))[:-5])


def test_reordered_chunks_are_detected() -> None:
    blob = sealed(bytes(range(256)) * 2)
    head = header_size(CTX)
    size = CHUNK + 16
    chunks = [blob[head + i : head + i + size] for i in range(0, len(blob) - head, size)]
    chunks[0], chunks[1] = chunks[1], chunks[0]
    with pytest.raises(TamperedEnvelope):
        opened(blob[:head] + b"".join(chunks))


def test_extension_is_detected() -> None:
    blob = sealed(bytes(2 * CHUNK))
    with pytest.raises(TamperedEnvelope):
        opened(blob + blob[-(CHUNK + 16) :])
    with pytest.raises(TamperedEnvelope):
        opened(blob + b"\x00")


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_any_bit_flip_is_detected(data: st.DataObject) -> None:
    blob = bytearray(sealed(bytes(range(200))))
    position = data.draw(st.integers(min_value=0, max_value=len(blob) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=7))
    blob[position] ^= 1 << bit
    with pytest.raises(EnvelopeError):
        opened(bytes(blob))


@pytest.mark.parametrize("blob", [b"", b"ZCB", b"XXXX" + bytes(200), b"ZCB1\x02" + bytes(200)])
def test_garbage_is_a_malformed_header(blob: bytes) -> None:
    with pytest.raises(MalformedHeader):
        opened(blob)


def test_the_published_test_vector_is_reproduced_and_opens() -> None:
    import json
    from pathlib import Path

    vector = json.loads((Path(__file__).parent / "vectors" / "zcb1.json").read_text())
    opening = ec.derive_private_key(int(vector["opening_private_scalar_hex"], 16), ec.SECP256R1())
    ephemeral = ec.derive_private_key(
        int(vector["ephemeral_private_scalar_hex"], 16), ec.SECP256R1()
    )
    context = EnvelopeContext(vector["lot_id"], vector["bidder_id"], vector["kind"])
    blob = b"".join(
        seal(
            [vector["plaintext_utf8"].encode()],
            opening_public_key=opening.public_key(),
            context=context,
            chunk_size=vector["chunk_size"],
            _ephemeral=ephemeral,
            _salt=bytes.fromhex(vector["salt_hex"]),
            _prefix=bytes.fromhex(vector["nonce_prefix_hex"]),
        )
    )
    assert blob.hex() == vector["envelope_hex"]
    plain = b"".join(open_sealed([blob], opening_private_key=opening, expected_context=context))
    assert plain.decode() == vector["plaintext_utf8"]
