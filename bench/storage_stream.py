"""Object-store streaming: throughput and memory for objects far larger than a part.

Streams objects of 64 and 512 MiB (configurable) through put (unknown length, from a
generator) and get, on the local directory and on S3 (SeaweedFS), and records the growth
of this process's resident memory. Memory must stay flat in the object size.
Last line: JSON.

Usage: python bench/storage_stream.py [--sizes 64 512]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from storage import LocalObjectStore, ObjectStore, open_object_store  # noqa: E402
from tests.services import Services  # noqa: E402

MIB = 1024 * 1024
CHUNK = b"\x5a" * MIB


def generate(mib: int) -> Iterator[bytes]:
    for _ in range(mib):
        yield CHUNK


def measure(store: ObjectStore, mib: int) -> dict[str, float]:
    process = psutil.Process()
    baseline = process.memory_info().rss
    peak = baseline
    key = f"bench/{uuid.uuid4().hex}"

    def watched(chunks: Iterator[bytes]) -> Iterator[bytes]:
        nonlocal peak
        for i, chunk in enumerate(chunks):
            if i % 16 == 0:
                peak = max(peak, process.memory_info().rss)
            yield chunk

    started = time.perf_counter()
    store.put(key, watched(generate(mib)))
    put_s = time.perf_counter() - started
    started = time.perf_counter()
    received = 0
    for i, chunk in enumerate(store.get(key)):
        received += len(chunk)
        if i % 16 == 0:
            peak = max(peak, process.memory_info().rss)
    get_s = time.perf_counter() - started
    assert received == mib * MIB
    store.delete(key)
    return {
        "put_mb_s": mib / put_s,
        "get_mb_s": mib / get_s,
        "rss_growth_mib": (peak - baseline) / MIB,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 512])
    args = parser.parse_args()
    services = Services()
    results: dict[str, dict[int, dict[str, float]]] = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            stores: dict[str, ObjectStore] = {
                "local": LocalObjectStore(Path(folder)),
                "s3": open_object_store(
                    f"s3://k:s@{services.ensure_s3()}/bench-{uuid.uuid4().hex[:8]}?secure=false"
                ),
            }
            for name, store in stores.items():
                results[name] = {mib: measure(store, mib) for mib in args.sizes}
    finally:
        services.stop()
    for name, by_size in results.items():
        for mib, figures in by_size.items():
            print(
                f"{name:5} {mib:5} MiB: put {figures['put_mb_s']:7.1f} MB/s, "
                f"get {figures['get_mb_s']:7.1f} MB/s, "
                f"RSS growth {figures['rss_growth_mib']:6.1f} MiB"
            )
    s3 = results["s3"]
    summary = {
        "bench": "storage_stream",
        "put_mb_s": round(min(f["put_mb_s"] for f in s3.values()), 1),
        "get_mb_s": round(min(f["get_mb_s"] for f in s3.values()), 1),
    }
    for mib in args.sizes:
        summary[f"rss_growth_mib_{mib}"] = round(
            max(r[mib]["rss_growth_mib"] for r in results.values()), 1
        )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
