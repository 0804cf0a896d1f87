"""Platform settings, read once from ``ZHAOCAI_*`` environment variables (and ``.env``).

One settings object picks the runtime mode (ARCHITECTURE §2): the embedded default keeps
everything under ``ZHAOCAI_DATA_DIR`` (SQLite, a local object directory, a filesystem
broker, file-backed sessions), so a laptop with nothing installed runs the whole platform;
production points the same variables at PostgreSQL, MinIO/S3 and Redis.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENV_PREFIX = "ZHAOCAI_"


def _load_dotenv() -> None:
    """Read ``.env`` from the working directory without overriding real variables."""
    from dotenv import load_dotenv

    load_dotenv(Path.cwd() / ".env", override=False)


@dataclass(frozen=True)
class Settings:
    """Everything that differs between a laptop, a test run and production."""

    data_dir: Path
    database_url: str
    storage_url: str
    broker_url: str
    redis_url: str | None
    base_url: str
    secret_key: bytes
    signing_key_file: Path
    master_key_file: Path
    smtp_host: str | None
    smtp_port: int
    smtp_sender: str
    login_attempts_per_minute: int
    max_upload_mib: int
    timezone: str
    sweep_seconds: float
    database_pool_size: int

    @property
    def embedded(self) -> bool:
        """True when running on the embedded default (no external server needed)."""
        return self.database_url.startswith("sqlite")

    @property
    def filesystem_broker_dir(self) -> Path:
        """Folder shared by the Celery filesystem transport's producers and consumers."""
        return self.data_dir / "broker"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``ZHAOCAI_*`` variables, defaulting to the embedded mode."""
        if environ is None:
            _load_dotenv()
            environ = os.environ

        def get(name: str, default: str) -> str:
            return environ.get(ENV_PREFIX + name, default)

        data_dir = Path(get("DATA_DIR", "var")).resolve()
        secret = get("SECRET_KEY", "")
        return cls(
            data_dir=data_dir,
            database_url=get("DATABASE_URL", f"sqlite:///{data_dir / 'zhaocai.sqlite3'}"),
            storage_url=get("STORAGE_URL", f"file://{data_dir / 'objects'}"),
            broker_url=get("BROKER_URL", "filesystem://"),
            redis_url=get("REDIS_URL", "") or None,
            base_url=get("BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            secret_key=secret.encode() if secret else _persistent_secret(data_dir),
            signing_key_file=Path(get("SIGNING_KEY_FILE", str(data_dir / "keys/signing.key"))),
            master_key_file=Path(get("MASTER_KEY_FILE", str(data_dir / "keys/master.key"))),
            smtp_host=get("SMTP_HOST", "") or None,
            smtp_port=int(get("SMTP_PORT", "25")),
            smtp_sender=get("SMTP_SENDER", "noreply@zhaocai.local"),
            login_attempts_per_minute=int(get("LOGIN_ATTEMPTS_PER_MINUTE", "10")),
            max_upload_mib=int(get("MAX_UPLOAD_MIB", "1024")),
            timezone=get("TIMEZONE", "Asia/Shanghai"),
            sweep_seconds=float(get("SWEEP_SECONDS", "30")),
            database_pool_size=int(get("DATABASE_POOL_SIZE", "20")),
        )


def _persistent_secret(data_dir: Path) -> bytes:
    """A random secret kept in the data directory, so sessions survive a restart.

    Production sets ``ZHAOCAI_SECRET_KEY``; the embedded default must work with nothing set.
    """
    path = data_dir / "keys" / "session.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()
