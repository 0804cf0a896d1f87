"""The browser's ZCB1 implementation and Python's agree both ways.

The published Python test vector opens in Chromium (WebCrypto), and an envelope sealed in
Chromium with a Python opening key opens in Python (the bid page test covers a 20 MB one).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import Browser

from bidding.envelope import EnvelopeContext, open_sealed, public_key_bytes
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e
VECTOR = json.loads((ROOT / "tests/unit/vectors/zcb1.json").read_text())
HARNESS = "<!doctype html><meta charset=utf-8><title>zcb1</title>"


class QuietHandler(SimpleHTTPRequestHandler):
    """Serves the ES module and a blank page; keeps test output clean."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return

    def do_GET(self) -> None:
        if self.path == "/":
            body = HARNESS.encode()
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()


@pytest.fixture(scope="module")
def static_server() -> Iterator[str]:
    directory = str(ROOT / "bidding" / "static")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=directory))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_python_test_vector_opens_in_the_browser(browser: Browser, static_server: str) -> None:
    page = browser.new_page()
    page.goto(static_server + "/")
    plaintext = page.evaluate(
        """async (v) => {
          const m = await import('./zcb1.js');
          const hex = (s) => Uint8Array.from(s.match(/../g).map((h) => parseInt(h, 16)));
          const key = await m.importPrivateKey(v.opening_private_scalar_hex,
                                               hex(v.opening_public_key_hex));
          const plain = await m.openSealed(hex(v.envelope_hex), key,
            { lotId: v.lot_id, bidderId: v.bidder_id, kind: v.kind });
          return new TextDecoder().decode(plain);
        }""",
        VECTOR,
    )
    assert plaintext == VECTOR["plaintext_utf8"]


def test_browser_refuses_a_vector_for_another_bidder(browser: Browser, static_server: str) -> None:
    page = browser.new_page()
    page.goto(static_server + "/")
    error = page.evaluate(
        """async (v) => {
          const m = await import('./zcb1.js');
          const hex = (s) => Uint8Array.from(s.match(/../g).map((h) => parseInt(h, 16)));
          const key = await m.importPrivateKey(v.opening_private_scalar_hex,
                                               hex(v.opening_public_key_hex));
          try { await m.openSealed(hex(v.envelope_hex), key,
                  { lotId: v.lot_id, bidderId: '8', kind: v.kind }); return 'opened'; }
          catch (e) { return e.message; }
        }""",
        VECTOR,
    )
    assert "another lot, bidder or kind" in error


def test_multi_chunk_envelope_sealed_in_the_browser_opens_in_python(
    browser: Browser, static_server: str
) -> None:
    opening = ec.generate_private_key(ec.SECP256R1())
    page = browser.new_page()
    page.goto(static_server + "/")
    sealed_b64 = page.evaluate(
        """async (raw) => {
          const m = await import('./zcb1.js');
          const data = new Uint8Array(2621440).map((_, i) => i % 251);
          const pieces = [];
          for await (const p of m.seal(new Blob([data]), { openingKeyRaw: m.b64decode(raw),
                                        lotId: 5, bidderId: 9, kind: 'technical' })) {
            pieces.push(p);
          }
          const all = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
          let o = 0; for (const p of pieces) { all.set(p, o); o += p.length; }
          return m.b64encode(all);
        }""",
        base64.b64encode(public_key_bytes(opening.public_key())).decode(),
    )
    envelope = base64.b64decode(sealed_b64)
    plain = b"".join(
        open_sealed(
            [envelope],
            opening_private_key=opening,
            expected_context=EnvelopeContext("5", "9", "technical"),
        )
    )
    assert plain == bytes(i % 251 for i in range(2_621_440))
