"""CPU seconds each process of a benchmark spends, to show where a shared machine's cores go.

A throughput ratio measured with the client, the web process and the object store on the
same few cores says as much about the machine as about the code: when the reference run
already keeps every core busy, extra work anywhere lengthens the other run by its CPU time
divided by the cores. The benchmarks print these seconds, and the fastest the measured work
could finish on this machine's cores, beside their figures.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psutil


def process_listening_on(port: int) -> psutil.Process:
    """The local process that accepts connections on ``port`` (the S3 server, say)."""
    for connection in psutil.net_connections("tcp"):
        if (
            connection.status == psutil.CONN_LISTEN
            and connection.laddr.port == port
            and connection.pid
        ):
            return psutil.Process(connection.pid)
    raise RuntimeError(f"no local process listens on port {port}")


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


@dataclass
class CpuUse:
    """CPU seconds per named process, one sample per measured stretch of work."""

    processes: Mapping[str, psutil.Process]
    samples: dict[str, list[dict[str, float]]] = field(default_factory=dict)

    @contextmanager
    def measure(self, stretch: str) -> Iterator[None]:
        """Record what each process spends while the block runs, under ``stretch``."""
        before = {name: _cpu_seconds(p) for name, p in self.processes.items()}
        yield
        spent = {name: _cpu_seconds(p) - before[name] for name, p in self.processes.items()}
        self.samples.setdefault(stretch, []).append(spent)

    def median(self, stretch: str) -> dict[str, float]:
        """Each process's median CPU seconds over the samples of ``stretch``."""
        runs = self.samples[stretch]
        return {
            name: round(statistics.median(run[name] for run in runs), 3) for name in self.processes
        }

    def figures(self) -> dict[str, Any]:
        """The cores and each stretch's median CPU seconds, for a benchmark's JSON line."""
        return {
            "cores": cores(),
            "cpu_s": {stretch: self.median(stretch) for stretch in self.samples},
        }

    def report(self) -> Iterator[str]:
        """A line per stretch: each process's median CPU seconds, the total, the floor."""
        for stretch in self.samples:
            spent = self.median(stretch)
            parts = ", ".join(f"{name} {seconds:.2f}" for name, seconds in spent.items())
            yield (
                f"CPU-s {stretch}: {parts}; total {sum(spent.values()):.2f}, "
                f"at least {floor_seconds(spent):.2f} s on {cores()} cores"
            )


def cores() -> int:
    """The machine's logical cores, shared by every process of the benchmark."""
    return psutil.cpu_count() or 1


def floor_seconds(spent: Mapping[str, float]) -> float:
    """The shortest wall time the CPU work could take with every core busy all along."""
    return sum(spent.values()) / cores()
