"""A client of the sealed-bid API for bidders' scripts and custodians (``zhaocai bid``).

Files are sealed on the bidder's machine, to a local ``.zcb`` file first, so an interrupted
upload resumes with exactly the same ciphertext (a new seal would differ: fresh ephemeral
key and salt). The state of an unfinished upload is kept next to the sealed files.
"""

from __future__ import annotations

import base64
import json
import os
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from bidding.envelope import EnvelopeContext, load_public_key, seal
from bidding.keys import KeyCustodyError, decrypt_share, load_custodian_key
from bidding.services import PART_SIZE, price_declaration

Progress = Callable[[int], None]
PARTS_IN_FLIGHT = 3


class ClientError(RuntimeError):
    """The platform refused a request; the message is the platform's, in the user's language."""


def locale_language(environ: Mapping[str, str] = os.environ) -> str:
    """The language of the user's locale as POSIX orders it: Chinese for ``zh_*``, else English.

    The platform answers an API error with its message in the request's language; a bidder
    at a Chinese terminal reads it in Chinese, a script under ``LANG=C`` in English.
    """
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if value := environ.get(name):
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def _file_chunks(path: Path, size: int = 1 << 20) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(size):
            yield chunk


@dataclass
class ZhaocaiClient:
    """A logged-in session with the platform's JSON API."""

    http: httpx.Client

    @classmethod
    def login(
        cls,
        base_url: str,
        username: str,
        password: str,
        transport: httpx.BaseTransport | None = None,
        language: str | None = None,
    ) -> ZhaocaiClient:
        """Log in through ``/api/session`` and pick up the CSRF cookie.

        ``language`` ("zh" or "en", by default the locale's) is the language of the
        platform's error messages.
        """
        http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=120,
            transport=transport,
            headers={"accept-language": language or locale_language()},
        )
        client = cls(http)
        client._check(http.post("/api/session", json={"username": username, "password": password}))
        client.whoami()
        return client

    def _check(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            try:
                body = response.json()
                detail = body.get("message") or body.get("detail", response.text)
            except (ValueError, AttributeError):
                detail = response.text
            raise ClientError(f"{response.status_code}: {detail}")
        return response.json() if response.content else None

    def _headers(self) -> dict[str, str]:
        return {"x-csrftoken": self.http.cookies.get("zc_csrf") or ""}

    def get(self, path: str) -> Any:
        """GET a JSON resource."""
        return self._check(self.http.get(path))

    def post(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        """POST JSON (with the CSRF header)."""
        return self._check(self.http.post(path, json=payload or {}, headers=self._headers()))

    def put_bytes(self, path: str, data: bytes) -> Any:
        """PUT raw bytes (one upload part)."""
        headers = {**self._headers(), "content-type": "application/octet-stream"}
        return self._check(self.http.put(path, content=data, headers=headers))

    def _put_part(self, path: str, data: bytes) -> int:
        self.put_bytes(path, data)
        return len(data)

    @staticmethod
    def _part_done(sent: Future[int], progress: Progress | None) -> None:
        size = sent.result()  # a refused part raises here and stops the upload
        if progress:
            progress(size)

    def whoami(self) -> dict[str, Any]:
        """Who this session is."""
        result: dict[str, Any] = self.get("/api/session")
        return result

    # ------------------------------------------------------------------ bidders

    def seal_bid(
        self, lot_id: int, price: Decimal, files: dict[str, Path], workdir: Path
    ) -> dict[str, Any]:
        """Seal the price declaration and every file into ``workdir``; returns the plan."""
        me = self.whoami()
        key = self.get(f"/api/lots/{lot_id}/opening-key")
        public = load_public_key(base64.b64decode(key["public_key"]))
        workdir.mkdir(parents=True, exist_ok=True)
        plaintexts: dict[str, Iterator[bytes]] = {"price": iter([price_declaration(price)])}
        for kind, path in files.items():
            plaintexts[kind] = _file_chunks(path)
        sealed = {}
        for kind, chunks in plaintexts.items():
            target = workdir / f"{kind}.zcb"
            context = EnvelopeContext(
                lot_id=str(lot_id), bidder_id=str(me["organisation_id"]), kind=kind
            )
            with target.open("wb") as handle:
                for piece in seal(chunks, opening_public_key=public, context=context):
                    handle.write(piece)
            sealed[kind] = str(target)
        plan = {"lot_id": lot_id, "sealed": sealed, "bid_id": None, "files": {}}
        (workdir / "state.json").write_text(json.dumps(plan))
        return plan

    def upload_bid(
        self, workdir: Path, progress: Progress | None = None, submit: bool = True
    ) -> dict[str, Any]:
        """Upload (or resume uploading) a sealed bid and submit it; returns the receipt.

        With ``submit=False`` it stops after the parts and returns the upload plan.
        """
        state_path = workdir / "state.json"
        plan: dict[str, Any] = json.loads(state_path.read_text())
        sealed = {kind: Path(path) for kind, path in plan["sealed"].items()}
        if plan["bid_id"] is None:
            started = self.post(
                f"/api/lots/{plan['lot_id']}/bids",
                {
                    "files": [
                        {"kind": kind, "size": path.stat().st_size} for kind, path in sealed.items()
                    ]
                },
            )
            plan["bid_id"] = started["bid_id"]
            plan["files"] = {f["kind"]: f["file_id"] for f in started["files"]}
            state_path.write_text(json.dumps(plan))
        status = self.get(f"/api/bids/{plan['bid_id']}")
        received = {f["file_id"]: set(f["parts_received"]) for f in status["files"]}
        part_size = int(status["part_size"])
        # Three parts in flight (as S3 clients do): the platform sends two at a time on to
        # its store and keeps the third ready, so the store does not wait on this hop; they
        # stay in order closely enough for it to hash the file as it passes (at most two
        # arrive ahead of the one it waits for).
        with ThreadPoolExecutor(max_workers=PARTS_IN_FLIGHT) as pool:
            for kind, path in sealed.items():
                file_id = plan["files"][kind]
                in_flight: deque[Future[int]] = deque()
                for number, data in enumerate(_file_chunks(path, part_size), start=1):
                    if number in received[file_id]:
                        if progress:
                            progress(len(data))
                        continue
                    if len(in_flight) >= PARTS_IN_FLIGHT:
                        self._part_done(in_flight.popleft(), progress)
                    url = f"/api/bids/{plan['bid_id']}/files/{file_id}/parts/{number}"
                    in_flight.append(pool.submit(self._put_part, url, data))
                while in_flight:
                    self._part_done(in_flight.popleft(), progress)
        if not submit:
            return plan
        return self.submit(workdir)

    def submit(self, workdir: Path) -> dict[str, Any]:
        """Submit an uploaded bid; the receipt is saved next to the sealed files."""
        plan: dict[str, Any] = json.loads((workdir / "state.json").read_text())
        receipt: dict[str, Any] = self.post(f"/api/bids/{plan['bid_id']}/submit")
        (workdir / "receipt.json").write_text(json.dumps(receipt, ensure_ascii=False, indent=2))
        return receipt

    def withdraw(self, bid_id: int) -> None:
        """Withdraw a bid before the deadline."""
        self.post(f"/api/bids/{bid_id}/withdraw")

    # ------------------------------------------------------------------ custodians

    def register_custodian_key(self, key_file: Path) -> str:
        """Register the public key of a custodian key file."""
        doc = json.loads(key_file.read_text())
        result = self.post("/api/custodian/key", {"public_key": doc["public_key"]})
        return str(result["fingerprint"])

    def release_share(self, lot_id: int, key_file: Path, passphrase: str) -> dict[str, int]:
        """Decrypt this custodian's share locally and release it for the opening."""
        try:
            key = load_custodian_key(key_file.read_bytes(), passphrase)
        except KeyCustodyError as exc:
            raise ClientError(str(exc)) from exc
        encrypted = self.get(f"/api/opening/lots/{lot_id}/share")
        share = decrypt_share(
            base64.b64decode(encrypted["encrypted_share"]),
            key,
            lot_id=str(lot_id),
            custodian_id=str(encrypted["custodian_id"]),
        )
        result: dict[str, int] = self.post(
            f"/api/opening/lots/{lot_id}/shares", {"share": base64.b64encode(share).decode()}
        )
        return result


__all__ = ["PART_SIZE", "ClientError", "ZhaocaiClient"]
