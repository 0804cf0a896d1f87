"""The browser's ZCB1 and share decryption agree with Python both ways (real Chromium).

`bidding/static/` and the static harness page `tests/e2e/envelope_page/` are served from
127.0.0.1 (a secure context, so WebCrypto is available); the harness exposes the same ES
module the bid and custodian pages use.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import Browser, Page

from bidding.envelope import (
    DEFAULT_CHUNK_SIZE,
    EnvelopeContext,
    header_size,
    open_sealed,
    public_key_bytes,
    seal,
    sealed_size,
)
from bidding.keys import (
    KeyShare,
    ShareContext,
    encrypt_share_to_custodian,
    load_custodian_key,
    load_public_key,
    split_opening_key,
)

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "bidding" / "static"
HARNESS = Path(__file__).parent / "envelope_page"
VECTORS: dict[str, Any] = json.loads(
    (ROOT / "tests/bidding/vectors/zcb1.json").read_text(encoding="utf-8")
)
SHARE_VECTOR: dict[str, Any] = json.loads(
    (ROOT / "tests/bidding/vectors/share.json").read_text(encoding="utf-8")
)
OPENING = ec.generate_private_key(ec.SECP256R1())
OPENING_SCALAR = OPENING.private_numbers().private_value.to_bytes(32, "big").hex()
OPENING_PUBLIC = public_key_bytes(OPENING.public_key())
PASSPHRASE = "correct horse battery staple"


def pattern(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class HarnessHandler(SimpleHTTPRequestHandler):
    """``/static/…`` from bidding/static, everything else from the harness directory."""

    def translate_path(self, path: str) -> str:
        clean = path.split("?", 1)[0].split("#", 1)[0]
        if clean.startswith("/static/"):
            return str(STATIC / Path(clean.removeprefix("/static/")).name)
        return str(HARNESS / (Path(clean).name or "index.html"))

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture(scope="module")
def harness_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), HarnessHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def page(browser: Browser, harness_url: str) -> Iterator[Page]:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(harness_url)
    page.wait_for_function("document.getElementById('status').textContent === 'ready'")
    try:
        yield page
    finally:
        page.close()
    assert errors == []


def call(page: Page, function: str, *args: Any) -> Any:
    return page.evaluate(f"(args) => window.harness.{function}(...args)", list(args))


def python_open(envelope: bytes, context: EnvelopeContext) -> bytes:
    return b"".join(
        open_sealed(
            [envelope[i : i + 100_000] for i in range(0, len(envelope), 100_000)],
            opening_private_key=OPENING,
            expected_context=context,
        )
    )


def test_a_multi_chunk_payload_sealed_in_the_browser_opens_in_python(page: Page) -> None:
    size = 2 * DEFAULT_CHUNK_SIZE + DEFAULT_CHUNK_SIZE // 2
    options = {"openingPublicKeyRaw": b64(OPENING_PUBLIC), "lotId": 5, "bidderId": 9}
    result = call(page, "sealPattern", size, {**options, "kind": "file:技术标.pdf"})
    envelope = base64.b64decode(result["envelope"])
    context = EnvelopeContext("5", "9", "file:技术标.pdf")
    assert len(envelope) == sealed_size(size, context) == result["predicted"]
    chunk = DEFAULT_CHUNK_SIZE + 16
    assert result["parts"] == [header_size(context), chunk, chunk, DEFAULT_CHUNK_SIZE // 2 + 16]
    assert python_open(envelope, context) == pattern(size)


def test_a_tiny_price_declaration_sealed_in_the_browser_opens_in_python(page: Page) -> None:
    declaration = '{"total": "1250000.00", "items": []}'
    options = {"openingPublicKeyRaw": b64(OPENING_PUBLIC), "lotId": "42", "bidderId": "7"}
    envelope = base64.b64decode(call(page, "sealText", declaration, {**options, "kind": "price"}))
    context = EnvelopeContext("42", "7", "price")
    assert len(envelope) == sealed_size(len(declaration), context)
    assert python_open(envelope, context).decode() == declaration


def test_an_empty_file_sealed_in_the_browser_opens_in_python(page: Page) -> None:
    options = {"openingPublicKeyRaw": b64(OPENING_PUBLIC), "lotId": 1, "bidderId": 2}
    result = call(page, "sealPattern", 0, {**options, "kind": "other", "chunkSize": 64})
    envelope = base64.b64decode(result["envelope"])
    assert python_open(envelope, EnvelopeContext("1", "2", "other")) == b""


@pytest.mark.parametrize("index", range(len(VECTORS["vectors"])))
def test_the_browser_reproduces_each_python_test_vector_byte_for_byte(
    page: Page, index: int
) -> None:
    assert call(page, "sealVector", VECTORS, index) == VECTORS["vectors"][index]["envelope_hex"]


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_each_python_test_vector_opens_in_the_browser(page: Page, vector: dict[str, Any]) -> None:
    expected = {"lotId": vector["lot_id"], "bidderId": vector["bidder_id"], "kind": vector["kind"]}
    plain = call(
        page,
        "open",
        b64(bytes.fromhex(vector["envelope_hex"])),
        VECTORS["opening_private_scalar_hex"],
        VECTORS["opening_public_key_hex"],
        expected,
    )
    assert base64.b64decode(plain).hex() == vector["plaintext_hex"]


@pytest.mark.parametrize("as_blob", [False, True], ids=["bytes", "blob"])
def test_a_fresh_python_envelope_opens_in_the_browser(page: Page, as_blob: bool) -> None:
    data = pattern(DEFAULT_CHUNK_SIZE * 2 + 12_345)
    context = EnvelopeContext("5", "9", "technical")
    envelope = b"".join(seal([data], opening_public_key=OPENING.public_key(), context=context))
    expected = {"lotId": 5, "bidderId": 9, "kind": "technical"}
    plain = call(
        page,
        "open",
        b64(envelope),
        OPENING_SCALAR,
        OPENING_PUBLIC.hex(),
        expected,
        {"asBlob": as_blob},
    )
    assert base64.b64decode(plain) == data


def attacked(kind: str) -> tuple[bytes, dict[str, Any], str, str]:
    context = EnvelopeContext("5", "9", "price")
    envelope = bytearray(
        b"".join(
            seal(
                [pattern(300)],
                opening_public_key=OPENING.public_key(),
                context=context,
                chunk_size=64,
            )
        )
    )
    expected: dict[str, Any] = {"lotId": "5", "bidderId": "9", "kind": "price"}
    scalar, public = OPENING_SCALAR, OPENING_PUBLIC.hex()
    if kind == "bit flip":
        envelope[header_size(context) + 70] ^= 4
    elif kind == "truncated":
        envelope = envelope[: header_size(context) + 2 * 80]
    elif kind == "extended":
        envelope += envelope[-80:]
    elif kind == "another bidder":
        expected["bidderId"] = "8"
    elif kind == "another key":
        other = ec.generate_private_key(ec.SECP256R1())
        scalar = other.private_numbers().private_value.to_bytes(32, "big").hex()
        public = public_key_bytes(other.public_key()).hex()
    elif kind == "not sealed":
        envelope = bytearray(b"%PDF-1.7 plain file" + bytes(200))
    return bytes(envelope), expected, scalar, public


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("bit flip", "TamperedEnvelope"),
        ("truncated", "TamperedEnvelope"),
        ("extended", "TamperedEnvelope"),
        ("another bidder", "WrongContext"),
        ("another key", "WrongKey"),
        ("not sealed", "MalformedHeader"),
    ],
)
def test_the_browser_refuses_what_python_refuses(page: Page, kind: str, error: str) -> None:
    envelope, expected, scalar, public = attacked(kind)
    result = call(page, "openError", b64(envelope), scalar, public, expected)
    assert result["name"] == error, result["message"]


def test_a_share_encrypted_in_python_to_a_browser_custodian_key_decrypts_there(
    page: Page,
) -> None:
    custodian = call(page, "newCustodian", "alice", PASSPHRASE)
    public = load_public_key(base64.b64decode(custodian["publicKeyRaw"]))
    share = split_opening_key(OPENING, 2, 3, lot_id="42")[0]
    blob = encrypt_share_to_custodian(share.to_bytes(), public, ShareContext("42", "3"))
    plain = call(page, "decryptShare", "alice", b64(blob), {"lotId": "42", "custodianId": 3})
    assert KeyShare.from_bytes(base64.b64decode(plain)) == share
    for context in ({"lotId": "43", "custodianId": "3"}, {"lotId": "42", "custodianId": "4"}):
        result = call(page, "decryptShareError", "alice", b64(blob), context)
        assert result["name"] == "ShareMismatch"


def test_a_browser_custodian_key_file_loads_in_python_and_in_the_browser(page: Page) -> None:
    custodian = call(page, "newCustodian", "bob", PASSPHRASE)
    key_file = json.dumps(custodian["keyFile"]).encode()
    key = load_custodian_key(key_file, PASSPHRASE)
    assert public_key_bytes(key.public_key()) == base64.b64decode(custodian["publicKeyRaw"])
    blob = encrypt_share_to_custodian(b"share", key.public_key(), ShareContext("7", "2"))
    assert call(page, "loadKeyFile", "bob-again", custodian["keyFile"], PASSPHRASE) is True
    plain = call(page, "decryptShare", "bob-again", b64(blob), {"lotId": 7, "custodianId": 2})
    assert base64.b64decode(plain) == b"share"
    with pytest.raises(Exception, match="wrong passphrase"):
        call(page, "loadKeyFile", "bob-wrong", custodian["keyFile"], "not the passphrase")


def test_the_share_vector_decrypts_in_the_browser(page: Page) -> None:
    vector = SHARE_VECTOR
    call(
        page,
        "importCustodian",
        "vector",
        vector["custodian_private_scalar_hex"],
        vector["custodian_public_key_hex"],
    )
    context = {"lotId": vector["lot_id"], "custodianId": vector["custodian_id"]}
    blob = b64(bytes.fromhex(vector["encrypted_share_hex"]))
    plain = call(page, "decryptShare", "vector", blob, context)
    assert base64.b64decode(plain).decode() == vector["share_utf8"]
