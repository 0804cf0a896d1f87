"""Object-store streaming: throughput and memory for objects far larger than a part.

Streams objects of 64 and 512 MiB (configurable) through put (unknown length, from a
generator) and get, on the local directory and on S3 (SeaweedFS, started if needed), and
records the peak growth of this process's resident memory, sampled by a thread every 5 ms.
Memory must stay flat in the object size. Last line: JSON.

Usage: python bench/storage_stream.py [--mib 64 512]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
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
BLOCK = os.urandom(MIB)


def generate(mib: int) -> Iterator[bytes]:
    """``mib`` MiB in 1 MiB chunks; the store never learns the length in advance."""
    for _ in range(mib):
        yield BLOCK


class PeakRss:
    """Peak resident memory above a baseline, sampled in a background thread."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.baseline: int = self.process.memory_info().rss
        self.peak: int = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def growth_mib(self) -> float:
        return float(self.peak - self.baseline) / MIB


def measure(store: ObjectStore, mib: int) -> dict[str, float]:
    key = f"bench/{uuid.uuid4().hex}"
    with PeakRss() as rss:
        started = time.perf_counter()
        info = store.put(key, generate(mib))
        put_s = time.perf_counter() - started
        started = time.perf_counter()
        with store.get(key) as stream:
            received = sum(len(chunk) for chunk in stream)
        get_s = time.perf_counter() - started
    assert info.size == received == mib * MIB
    store.delete(key)
    return {
        "put_mb_s": mib * MIB / 1e6 / put_s,
        "get_mb_s": mib * MIB / 1e6 / get_s,
        "rss_growth_mib": rss.growth_mib,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, nargs="+", default=[64, 512], help="object sizes")
    args = parser.parse_args()
    services = Services()
    results: dict[str, dict[int, dict[str, float]]] = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            endpoint = services.ensure_s3()
            stores: dict[str, ObjectStore] = {
                "local": LocalObjectStore(Path(folder)),
                "s3": open_object_store(
                    f"s3://bench:bench@{endpoint}/bench-{uuid.uuid4().hex[:8]}?secure=false"
                ),
            }
            measure(stores["s3"], 16)  # warm the connection pool and the server's volumes
            for name, store in stores.items():
                results[name] = {mib: measure(store, mib) for mib in args.mib}
    finally:
        services.stop()
    for name, by_size in results.items():
        for mib, figures in by_size.items():
            print(
                f"{name:5} {mib:5} MiB: put {figures['put_mb_s']:7.1f} MB/s, "
                f"get {figures['get_mb_s']:7.1f} MB/s, "
                f"peak RSS growth {figures['rss_growth_mib']:6.1f} MiB"
            )
    s3 = results["s3"]
    summary: dict[str, object] = {
        "bench": "storage_stream",
        "backend": "s3 (SeaweedFS, loopback); rss is the worse of both backends",
        "put_mb_s": round(min(f["put_mb_s"] for f in s3.values()), 1),
        "get_mb_s": round(min(f["get_mb_s"] for f in s3.values()), 1),
        "local_put_mb_s": round(min(f["put_mb_s"] for f in results["local"].values()), 1),
        "local_get_mb_s": round(min(f["get_mb_s"] for f in results["local"].values()), 1),
    }
    for mib in args.mib:
        summary[f"rss_growth_mib_{mib}"] = round(
            max(r[mib]["rss_growth_mib"] for r in results.values()), 1
        )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
