"""Opening speed: decrypting and verifying sealed bids against a raw download of them.

N sealed bids (default 8 × 32 MiB) are stored in S3 (SeaweedFS); the benchmark times a
plain streaming download of every object, then the opening's own per-file work (stream,
SHA-256 against the receipt, ZCB1 decryption and verification of every chunk), three bids at a
time as the opening does.
Both are run --rounds times (default 5), alternately, and the medians compared, so a burst
of load on a shared machine does not decide the figure. The CPU seconds of this process and
of the S3 server are counted per round (``cpu_s``), with the least ratio those seconds allow
on this machine's cores (``ratio_floor``). Goal: opening ≤ 1.5 × the raw download. Last
line: JSON.

Usage: python bench/opening.py [--bids 8] [--mib 32] [--rounds 5]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from bidding.envelope import EnvelopeContext, seal  # noqa: E402
from bidding.services import BIDS_OPENED_AT_ONCE, open_stored_file  # noqa: E402
from storage import ObjectStore, open_object_store  # noqa: E402
from tests.cpu_use import CpuUse, cores, floor_seconds, process_listening_on  # noqa: E402
from tests.services import S3_PORT, Services  # noqa: E402

MIB = 1024 * 1024


def plaintext(mib: int, seed: int) -> Iterator[bytes]:
    block = hashlib.sha256(str(seed).encode()).digest() * (MIB // 32)
    for _ in range(mib):
        yield block


def store_sealed(
    store: ObjectStore,
    key: ec.EllipticCurvePrivateKey,
    object_key: str,
    context: EnvelopeContext,
    mib: int,
    seed: int,
) -> tuple[str, int]:
    """Seal ``mib`` MiB into the store; return the ciphertext's SHA-256 and size."""
    digest = hashlib.sha256()
    size = 0

    def sealed() -> Iterator[bytes]:
        nonlocal size
        for piece in seal(
            plaintext(mib, seed), opening_public_key=key.public_key(), context=context
        ):
            digest.update(piece)
            size += len(piece)
            yield piece

    store.put(object_key, sealed())
    return digest.hexdigest(), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bids", type=int, default=8)
    parser.add_argument("--mib", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    services = Services()
    try:
        store = open_object_store(
            f"s3://k:s@{services.ensure_s3()}/opening-{uuid.uuid4().hex[:8]}?secure=false"
        )
        key = ec.generate_private_key(ec.SECP256R1())
        stored = []
        for i in range(args.bids):
            context = EnvelopeContext(lot_id="1", bidder_id=str(i), kind="technical")
            sha256, size = store_sealed(store, key, f"bids/1/{i}", context, args.mib, i)
            stored.append((f"bids/1/{i}", sha256, size, context))
        cpu = CpuUse({"opener": psutil.Process(), "store": process_listening_on(S3_PORT)})
        raw_times, open_times = [], []
        for _ in range(args.rounds):  # alternate, so both see the same machine load
            with cpu.measure("raw download"):
                started = time.perf_counter()
                for object_key, _, _, _ in stored:
                    for _chunk in store.get(object_key):
                        pass
                raw_times.append(time.perf_counter() - started)
            # as the opening does (bidding.services.open_lot): BIDS_OPENED_AT_ONCE at a time
            with cpu.measure("opening"), ThreadPoolExecutor(BIDS_OPENED_AT_ONCE) as pool:
                started = time.perf_counter()
                opened = [
                    pool.submit(open_stored_file, store, name, sha256, size, key, context, False)
                    for name, sha256, size, context in stored
                ]
                for bid in opened:
                    bid.result()
                open_times.append(time.perf_counter() - started)
        raw_s, open_s = statistics.median(raw_times), statistics.median(open_times)
    finally:
        services.stop()
    total = args.bids * args.mib
    print(f"{args.bids} bids × {args.mib} MiB = {total} MiB, median of {args.rounds} rounds")
    print(f"raw download:       {raw_s:6.2f} s ({total / raw_s:7.1f} MiB/s)")
    print(f"decrypt and verify: {open_s:6.2f} s ({total / open_s:7.1f} MiB/s)")
    print(f"ratio: {open_s / raw_s:.2f} (goal ≤ 1.5)")
    for line in cpu.report():
        print(line)
    # the least the opening's CPU work takes on these cores, against the raw download
    ratio_floor = floor_seconds(cpu.median("opening")) / raw_s
    print(
        f"on {cores()} cores shared by opener and store, the opening's CPU work "
        f"allows a ratio of no less than {ratio_floor:.2f}"
    )
    print(
        json.dumps(
            {
                "bench": "opening",
                "open_s": round(open_s, 3),
                "raw_download_s": round(raw_s, 3),
                "ratio": round(open_s / raw_s, 3),
                **cpu.figures(),
                "ratio_floor": round(ratio_floor, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
